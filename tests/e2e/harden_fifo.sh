# A FIFO wherever a program reads a user's file (issue 15, weakness 3):
# pth2blob's .pth, MLmodel, model.pth and --labels; score.fcgi's --model;
# the CLI's --path, -f, --request-file, --input-path, --model-uri and its
# own request log.  Each is refused in one line within a second, leaves
# no output, and `model create` holds no workspace lock while it waits:
# a second writer started after it completes.  Every command runs under
# `timeout 5`, so a program that waits for a FIFO's writer fails here
# rather than hanging the suite.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi
FIFO_MSG="not a regular file (a FIFO)"

# fast_refusal NAME FRAGMENT CMD... : CMD (stdin /dev/null) exits non-zero,
# not by the timeout, within a second, with one line on stderr holding
# FRAGMENT and nothing on stdout.
fast_refusal() {
	name=$1 fragment=$2
	shift 2
	t0=$(date +%s%N)
	timeout 5 "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	lines=$(wc -l <"$T/err")
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$ms" -lt 1000 ] && [ "$lines" -eq 1 ] &&
	   grep -qF -- "$fragment" "$T/err" &&
	   { [ ! -s "$T/out" ] || { [ "${name#score.fcgi}" != "$name" ] && head -1 "$T/out" | grep -q '^Status: 500 ' &&
	     ! grep -qF "$T" "$T/out"; }; }; then
		ok "refused at once: $name"
	else
		not_ok "refused at once: $name" "rc=$rc (124: timed out, blocked) after $ms ms, $lines stderr lines" \
			"$(cat "$T/err")" "$(head -c 300 "$T/out")"
	fi
}

mkfifo "$T/fifo.pth" "$T/fifo"
# An MLflow directory whose MLmodel is a FIFO, one whose data/model.pth is.
mkdir -p "$T/ml-mlmodel" "$T/ml-pth/data"
mkfifo "$T/ml-mlmodel/MLmodel" "$T/ml-pth/data/model.pth"
cp fixtures/model/MLmodel "$T/ml-pth/MLmodel"

# ---- pth2blob ----
fast_refusal "pth2blob FIFO.pth" "$T/fifo.pth: $FIFO_MSG" "$P" "$T/fifo.pth" "$T/a.blob"
fast_refusal "pth2blob MLflow directory, MLmodel a FIFO" "$T/ml-mlmodel/MLmodel: $FIFO_MSG" \
	"$P" "$T/ml-mlmodel" "$T/a.blob"
fast_refusal "pth2blob MLflow directory, data/model.pth a FIFO" "$T/ml-pth/data/model.pth: $FIFO_MSG" \
	"$P" "$T/ml-pth" "$T/a.blob"
fast_refusal "pth2blob --labels FIFO" "$T/fifo: $FIFO_MSG" "$P" --labels "$T/fifo" fixtures/model "$T/a.blob"
[ ! -e "$T/a.blob" ] && ok "pth2blob refusals wrote no output file" || not_ok "pth2blob refusals wrote no output file"

# ---- score.fcgi as CGI ----
fast_refusal "score.fcgi --model FIFO (CGI)" "$T/fifo.pth: $FIFO_MSG" \
	env REQUEST_METHOD=GET REQUEST_URI=/health "$S" --model "$T/fifo.pth" --metrics-file "$T/metrics" --log -

# ---- scorepoint ----
make_endpoint_1 || { not_ok "the tutorial's endpoint 1 in a workspace"; exit 1; }
ok "the tutorial's endpoint 1 in a workspace"
fast_refusal "model create --path FIFO" "$T/fifo.pth: $FIFO_MSG" \
	"$SP" model create --path "$T/fifo.pth" --name fifo-model
fast_refusal "model create --path DIR, MLmodel a FIFO" "$T/ml-mlmodel/MLmodel: $FIFO_MSG" \
	"$SP" model create --path "$T/ml-mlmodel" --name fifo-model
fast_refusal "model create --path DIR, data/model.pth a FIFO" "$T/ml-pth/data/model.pth: $FIFO_MSG" \
	"$SP" model create --path "$T/ml-pth" --name fifo-model
fast_refusal "model create --labels FIFO" "$T/fifo: $FIFO_MSG" \
	"$SP" model create --path fixtures/model --name fifo-model --labels "$T/fifo"
"$SP" model show --name fifo-model --version 1 >/dev/null 2>&1 && not_ok "no fifo-model registered" ||
	ok "no fifo-model registered"

# No lock held on a user's path: each FIFO-bearing `model create` starts
# first; the writer started after it must finish, not queue behind it.
n=0
for path in "$T/fifo.pth" "$T/ml-mlmodel" "$T/ml-pth"; do
	n=$((n + 1))
	timeout 5 "$SP" model create --path "$path" --name "fifo-model" >/dev/null 2>&1 </dev/null &
	first=$!
	sleep 0.5
	timeout 5 "$SP" online-endpoint create --name "second-writer-$n" \
		>"$T/out" 2>"$T/err" </dev/null
	rc=$?
	wait "$first"
	frc=$?
	if [ "$rc" -eq 0 ] && [ "$frc" -ne 0 ] && [ "$frc" -ne 124 ]; then
		ok "a writer after model create --path $(basename "$path") completes"
	else
		not_ok "a writer after model create --path $(basename "$path") completes" \
			"second writer rc=$rc (124: blocked on the lock), model create rc=$frc" "$(cat "$T/err")"
	fi
done

fast_refusal "online-endpoint invoke --request-file FIFO" "$T/fifo: $FIFO_MSG" \
	"$SP" online-endpoint invoke --name endpoint-online-1 --request-file "$T/fifo"
fast_refusal "online-endpoint create -f FIFO" "$T/fifo: $FIFO_MSG" "$SP" online-endpoint create -f "$T/fifo"
fast_refusal "online-endpoint update -f FIFO" "$T/fifo: $FIFO_MSG" "$SP" online-endpoint update -f "$T/fifo"
fast_refusal "online-deployment create -f FIFO" "$T/fifo: $FIFO_MSG" "$SP" online-deployment create -f "$T/fifo"
fast_refusal "online-deployment update -f FIFO" "$T/fifo: $FIFO_MSG" "$SP" online-deployment update -f "$T/fifo"
fast_refusal "predict --input-path FIFO" "$T/fifo: $FIFO_MSG" \
	"$SP" predict --model-uri fixtures/model --input-path "$T/fifo"
fast_refusal "predict --model-uri FIFO" "$T/fifo.pth: $FIFO_MSG" \
	"$SP" predict --model-uri "$T/fifo.pth" --input-path fixtures/test_data/images.json
fast_refusal "predict --model-uri DIR, data/model.pth a FIFO" "$T/ml-pth/data/model.pth: $FIFO_MSG" \
	"$SP" predict --model-uri "$T/ml-pth" --input-path fixtures/test_data/images.json

# The request log get-logs reads, replaced by a FIFO.
mkdir -p -m 700 "$W/logs"
rm -f "$W/logs/requests.log"
mkfifo "$W/logs/requests.log"
fast_refusal "online-deployment get-logs, the request log a FIFO" "$W/logs/requests.log: $FIFO_MSG" \
	"$SP" online-deployment get-logs --name blue --endpoint-name endpoint-online-1
