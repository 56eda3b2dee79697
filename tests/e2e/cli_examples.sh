# The tutorial's four endpoint folders (deploy/examples/endpoint_N) as they
# stand: from inside each, the tutorial's own commands with `az ml` (and
# `mlflow models`) replaced by `scorepoint`, then its invoke.sh against
# `scorepoint serve`, which binds 127.0.0.1 on a free port and is stopped
# here.
. tests/e2e/lib.sh
ROOT=$(pwd -P)
export PATH="$ROOT/$BUILD:$PATH" SCOREPOINT_WORKSPACE="$T/ws" TMPDIR="$T/tmp"
EX=$ROOT/deploy/examples
WANT=$ROOT/fixtures/expected/images_logits.json
LABELS='["Ankle Boot", "Pullover"]'
mkdir -p "$T/tmp"

SERVE_PID=
cleanup() {
	# lighttpd gets SIGTERM when scorepoint dies (PR_SET_PDEATHSIG) and stops its workers.
	[ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

# from N CMD...: CMD run from deploy/examples/endpoint_N; its output in $T/out.
from() {
	n=$1
	shift
	(cd "$EX/endpoint_$n" && "$@") >"$T/out" 2>"$T/err"
}

# step N NAME CMD...: CMD, from endpoint_N, exits 0.
step() {
	n=$1 name=$2
	shift 2
	if from "$n" "$@"; then ok "endpoint_$n: $name"; else not_ok "endpoint_$n: $name" "$*" "$(cat "$T/err")"; fi
}

# ---- the folders hold the tutorial's files ----
for n in 1 2 3 4; do
	d=$EX/endpoint_$n
	m=$d/model
	[ $n = 2 ] && m=$d/pyfunc_model
	if [ -f "$d/cloud/endpoint.yml" ] && [ -f "$d/invoke.sh" ] && [ -f "$m/MLmodel" ] &&
	   [ -f "$d/../test_data/images_azureml.json" ] && ! grep -v '^#' "$d/invoke.sh" | grep -q 'az ml'; then
		ok "endpoint_$n: cloud YAML, invoke.sh (no az ml), the model folder and ../test_data"
	else
		not_ok "endpoint_$n: cloud YAML, invoke.sh, the model folder and ../test_data" "$(ls -la "$d" "$d/..")"
	fi
done
out=$(find "$EX" -type l -exec readlink -f {} \; | grep -v "^$ROOT/fixtures/")
[ -z "$out" ] && ok "their links stay inside the repository (fixtures/)" || not_ok "their links stay inside the repository" "$out"

# ---- endpoint 1, as the tutorial types it ----
step 1 "mlflow models predict ... csv" scorepoint predict --model-uri model --input-path "../test_data/images.csv" --content-type csv
logits_like "$T/out" "$WANT" && ok "endpoint_1: the local prediction is torch's logits" ||
	not_ok "endpoint_1: the local prediction is torch's logits" "$(head -c 300 "$T/out")"
step 1 "mlflow models predict ... json" scorepoint predict --model-uri model --input-path "../test_data/images.json" --content-type json
step 1 "az ml model create --path model/" scorepoint model create --path model/ --name model-online-1 --version 1 --type mlflow_model
step 1 "az ml online-endpoint create -f cloud/endpoint.yml" scorepoint online-endpoint create -f cloud/endpoint.yml
step 1 "az ml online-deployment create -f cloud/deployment.yml --all-traffic" \
	scorepoint online-deployment create -f cloud/deployment.yml --all-traffic
step 1 "az ml online-endpoint invoke --request-file ../test_data/images_azureml.json" \
	scorepoint online-endpoint invoke --name endpoint-online-1 --request-file ../test_data/images_azureml.json
logits_like "$T/out" "$WANT" && ok "endpoint_1: invoke answers the logits" ||
	not_ok "endpoint_1: invoke answers the logits" "$(cat "$T/out")"

# ---- endpoint 2: the pyfunc wrapper and its labels ----
# The same steps as endpoint 1: the wrapper's own label map gives the names.
step 2 "predict --model-uri pyfunc_model (csv)" scorepoint predict --model-uri pyfunc_model \
	--input-path "../test_data/images.csv" --content-type csv
[ "$(cat "$T/out")" = "$LABELS" ] && ok "endpoint_2: $LABELS" || not_ok "endpoint_2: $LABELS" "$(cat "$T/out")"
step 2 "predict --model-uri pyfunc_model --labels labels.txt (csv)" scorepoint predict --model-uri pyfunc_model \
	--labels labels.txt --input-path "../test_data/images.csv" --content-type csv
[ "$(cat "$T/out")" = "$LABELS" ] && ok "endpoint_2 with --labels: $LABELS" ||
	not_ok "endpoint_2 with --labels: $LABELS" "$(cat "$T/out")"
step 2 "model create --path pyfunc_model/ (endpoint 1's command)" scorepoint model create --path pyfunc_model/ \
	--name model-online-2 --version 1 --type mlflow_model
step 2 "online-endpoint create" scorepoint online-endpoint create -f cloud/endpoint.yml
step 2 "online-deployment create --all-traffic" scorepoint online-deployment create -f cloud/deployment.yml --all-traffic

# ---- endpoint 3: aml_token ----
step 3 "model create" scorepoint model create --path model/ --name model-online-3 --version 1 --type mlflow_model
step 3 "online-endpoint create (aml_token)" scorepoint online-endpoint create -f cloud/endpoint.yml
step 3 "online-deployment create --all-traffic" scorepoint online-deployment create -f cloud/deployment.yml --all-traffic

# ---- endpoint 4: blue and green ----
step 4 "model create" scorepoint model create --path model/ --name model-online-4 --version 1 --type mlflow_model
step 4 "online-endpoint create" scorepoint online-endpoint create -f cloud/endpoint.yml
step 4 "deployment-blue --all-traffic" scorepoint online-deployment create -f cloud/deployment-blue.yml --all-traffic
step 4 "deployment-green" scorepoint online-deployment create -f cloud/deployment-green.yml
step 4 "update --traffic \"blue=90 green=10\"" scorepoint online-endpoint update --name endpoint-online-4 --traffic "blue=90 green=10"

# ---- invoke.sh of each folder, against scorepoint serve ----
started=1
for _ in 1 2 3; do
	PORT=$(free_port) || break
	scorepoint serve --port "$PORT" >"$T/serve.out" 2>"$T/serve.err" </dev/null &
	SERVE_PID=$!
	i=0
	while [ $i -lt 200 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
		grep -q '^scorepoint serve: http://' "$T/serve.out" && { started=0; break; }
		sleep 0.1
		i=$((i + 1))
	done
	[ $started = 0 ] && break
	kill -KILL "$SERVE_PID" 2>/dev/null
	wait "$SERVE_PID"
	SERVE_PID=
	grep -q "in use" "$T/serve.err" || break
done
if [ $started = 0 ]; then ok "scorepoint serve on 127.0.0.1:$PORT"; else
	not_ok "scorepoint serve on 127.0.0.1:$PORT" "$(cat "$T/serve.err")"
	exit 1
fi
for n in 1 2 3 4; do
	if ! from "$n" sh invoke.sh; then
		not_ok "endpoint_$n: sh invoke.sh" "$(cat "$T/err")"
		continue
	fi
	grep -q "^SCORING_URI: http://127.0.0.1:$PORT/endpoint-online-$n/score\$" "$T/out" &&
		grep -qE '^(PRIMARY_KEY|ACCESS_TOKEN): [A-Za-z0-9_.-]{40,}$' "$T/out" ||
		not_ok "endpoint_$n: invoke.sh's SCORING_URI and credential" "$(cat "$T/out")"
	sed -n 's/^OUTPUT: //p' "$T/out" >"$T/output"
	if [ $n = 2 ]; then
		[ "$(cat "$T/output")" = "$LABELS" ] && ok "endpoint_2: sh invoke.sh: $LABELS" ||
			not_ok "endpoint_2: sh invoke.sh" "$(cat "$T/out")"
	else
		logits_like "$T/output" "$WANT" && ok "endpoint_$n: sh invoke.sh: the logits" ||
			not_ok "endpoint_$n: sh invoke.sh: the logits" "$(cat "$T/out")"
	fi
done
step 1 "az ml online-endpoint delete --name endpoint-online-1 -y" scorepoint online-endpoint delete --name endpoint-online-1 -y

kill -INT "$SERVE_PID"
i=0
while [ $i -lt 150 ] && kill -0 "$SERVE_PID" 2>/dev/null && ! ps -o stat= -p "$SERVE_PID" | grep -q Z; do
	sleep 0.1
	i=$((i + 1))
done
wait "$SERVE_PID"
rc=$?
SERVE_PID=
[ $rc = 0 ] && [ -z "$(pgrep -f "$T/")" ] && ok "serve stopped (SIGINT), nothing left" ||
	not_ok "serve stopped (SIGINT), nothing left" "rc $rc" "$(pgrep -af "$T/")"
