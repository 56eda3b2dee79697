# Issue 17, request handling gaps: score.fcgi as CGI (by hand, and run by
# a real lighttpd through mod_cgi) with a model or workspace it cannot
# load; and, as CGI too, a model without column names (a state_dict)
# answering dataframe_records, a body that is not UTF-8, and split-orient
# "columns" and "data" of different widths.
. tests/e2e/lib.sh
. tests/e2e/lib_servers.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi

# cgi URI ARGS...: one CGI GET of URI, by hand; $T/out, $T/err, $rc.
cgi() {
	uri=$1
	shift
	REQUEST_METHOD=GET REQUEST_URI=$uri "$S" "$@" --metrics-file "$T/metrics" --log - \
		</dev/null >"$T/out" 2>"$T/err"
	rc=$?
}

# body_of FILE: what follows the blank line of a CGI answer.
body_of() { sed '1,/^\r*$/d' "$1"; }

# refused NAME WANT-BODY ERR-FRAGMENT: the last cgi answered 500 with
# exactly WANT-BODY (a Content-Length that matches, no path of $T in it),
# exited 1 and printed one line naming the file on stderr.
refused() {
	body=$(body_of "$T/out")
	len=$(sed -n 's/^Content-Length: \([0-9]*\)\r$/\1/p' "$T/out")
	if [ "$(head -1 "$T/out")" = "$(printf 'Status: 500 Internal Server Error\r')" ] &&
	   grep -q '^Content-Type: application/json' "$T/out" && [ "$body" = "$2" ] &&
	   [ "$len" = "$(printf '%s' "$body" | wc -c)" ] && ! grep -qF "$T" "$T/out" &&
	   [ "$rc" = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF -- "$3" "$T/err"; then
		ok "$1"
	else
		not_ok "$1" "exit $rc; stderr: $(cat "$T/err")" "$(head -c 400 "$T/out")"
	fi
}

# ---- a model or workspace that cannot be loaded, as CGI by hand ----
quiet() { "$@" >/dev/null 2>&1; }
quiet "$P" -q --name m fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }
size=$(stat -c %s "$T/m.blob")
cp "$T/m.blob" "$T/flipped.blob"
printf '\377' | dd of="$T/flipped.blob" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
head -c 100 "$T/m.blob" >"$T/stub.blob"

cgi /score --model "$T/missing.blob"
refused "CGI, a missing blob: 500 and a JSON reason" \
	'{"error_code": "MODEL_NOT_LOADED", "message": "the model could not be loaded: No such file or directory"}' \
	"score.fcgi: $T/missing.blob: No such file or directory"
cgi /score --model "$T/flipped.blob"
refused "CGI, a blob with a flipped byte: 500 and a JSON reason" \
	"$(printf '{"error_code": "MODEL_NOT_LOADED", "message": "the model could not be loaded: %s"}' \
		"$(sed -n 's/.*\(checksum mismatch.*\)/\1/p' "$T/err")")" "$T/flipped.blob: checksum mismatch"
grep -q 'loaded: checksum mismatch (stored [0-9a-f]*, computed [0-9a-f]*): the file is damaged"}$' "$T/out" &&
	ok "... the reason is the checksum's" || not_ok "... the reason is the checksum's" "$(cat "$T/out")"
cgi /v2/models/m/infer --model "$T/stub.blob"
refused "CGI, a truncated blob under /v2/: 500 and the V2 error body" \
	'{"error": "the model could not be loaded: truncated: 100 bytes is less than a header"}' \
	"$T/stub.blob: truncated: 100 bytes"
cgi /health --cgi --model "$T/flipped.blob"
refused "CGI (--cgi), GET /health: 500 too (nothing is served)" \
	"$(body_of "$T/out" | grep MODEL_NOT_LOADED)" "checksum mismatch"
NO_WS='{"error_code": "WORKSPACE_NOT_LOADED", "message": "the workspace could not be loaded: '
NO_WS="${NO_WS}No such file or directory\"}"
cgi /endpoint-online-1/score --workspace "$T/no-such-workspace"
refused "CGI, a workspace that cannot be opened: 500 and a JSON reason" "$NO_WS" \
	"$T/no-such-workspace: No such file or directory"
mkdir -p "$T/bad-ws"
printf 'not: [yaml\n' >"$T/bad-ws/state.yaml"
chmod 600 "$T/bad-ws/state.yaml"
cgi /endpoint-online-1/score --workspace "$T/bad-ws"
body=$(body_of "$T/out")
case $body in
'{"error_code": "WORKSPACE_NOT_LOADED", "message": "the workspace could not be loaded: '*)
	refused "CGI, a workspace whose state file is damaged: 500 and a JSON reason" "$body" "$T/bad-ws/" ;;
*) not_ok "CGI, a workspace whose state file is damaged: 500 and a JSON reason" "$(cat "$T/out")" ;;
esac
# Run by hand (no REQUEST_METHOD: no request), it stays one line on stderr.
"$S" --cgi --model "$T/flipped.blob" </dev/null >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && [ ! -s "$T/out" ] && [ "$(wc -l <"$T/err")" = 1 ] &&
	ok "by hand, without a request: one line on stderr, nothing on stdout" ||
	not_ok "by hand, without a request: one line on stderr" "exit $rc" "$(cat "$T/out")"

# ---- the same through lighttpd's mod_cgi: the client gets our answer ----
# deploy/lighttpd/scorepoint-cgi.conf with a workspace that is not there.
instantiate deploy/lighttpd/scorepoint-cgi.conf "$T/cgi.conf" \
	/usr/local/bin/score.fcgi/ "$(cd "$BUILD" && pwd)/score.fcgi/" \
	'"SCOREPOINT_WORKSPACE" => "/srv/scorepoint"' \
	"\"SCOREPOINT_WORKSPACE\" => \"$T/no-such-workspace\", \"SCOREPOINT_METRICS_FILE\" => \"$T/metrics\"" ||
	{ not_ok "instantiate deploy/lighttpd/scorepoint-cgi.conf"; exit 1; }
mkdir -p "$T/www"
# start_cgi_httpd PORT: lighttpd with the CGI configuration on PORT.
start_cgi_httpd() {
	cat >"$T/main.conf" <<CONF
server.bind = "127.0.0.1"
server.port = $1
server.document-root = "$T/www"
server.errorlog = "$T/httpd-error.log"
include "$T/cgi.conf"
CONF
	lighttpd -D -f "$T/main.conf" </dev/null 2>>"$T/httpd-error.log" &
	SERVER_PID=$!
}
up=
for try in 1 2 3 4 5; do
	port=$(free_port)
	start_cgi_httpd "$port"
	track_pid "$SERVER_PID"
	URL="http://127.0.0.1:$port"
	# Every answer is a 500 here: up is any HTTP answer at all.
	wait_for sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 '$URL/health')\" != 000 ]" &&
		{ up=1; break; }
	kill -0 "$SERVER_PID" 2>/dev/null && break
done
if [ -n "$up" ]; then
	code=$(curl -s -o "$T/http.out" -D "$T/http.hdr" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary @fixtures/test_data/images_azureml.json "$URL/endpoint-online-1/score")
	if [ "$code" = 500 ] && [ "$(cat "$T/http.out")" = "$NO_WS" ] &&
	   grep -qi '^Content-Type: application/json' "$T/http.hdr"; then
		ok "lighttpd mod_cgi, a workspace that cannot be opened: the client gets score.fcgi's 500 and reason"
	else
		not_ok "lighttpd mod_cgi: score.fcgi's 500" "HTTP $code" "$(head -c 300 "$T/http.out")" \
			"$(tail -3 "$T/httpd-error.log")"
	fi
	grep -qF "score.fcgi: $T/no-such-workspace: No such file or directory" "$T/httpd-error.log" &&
		ok "... and the full line, with the path, in lighttpd's error log" ||
		not_ok "... and the full line in lighttpd's error log" "$(tail -5 "$T/httpd-error.log")"
else
	not_ok "lighttpd with deploy/lighttpd/scorepoint-cgi.conf starts" "$(tail -5 "$T/httpd-error.log")"
fi
stop_tracked

# ---- requests, as CGI ----
# post BLOB URI TYPE FILE: one CGI POST of FILE; $T/out.
post() {
	REQUEST_METHOD=POST REQUEST_URI=$2 CONTENT_TYPE=$3 CONTENT_LENGTH=$(wc -c <"$4") \
		"$S" --model "$1" --metrics-file "$T/metrics" --log - <"$4" >"$T/out" 2>"$T/err"
}
# expect NAME STATUS FRAGMENT: the last answer has STATUS and FRAGMENT.
expect() {
	if head -1 "$T/out" | grep -q "^Status: $2 " && grep -qF -- "$3" "$T/out"; then ok "$1"
	else not_ok "$1" "want $2 and '$3'" "$(head -c 400 "$T/out")"; fi
}

# A state_dict has no column names: its records are read by the keys of the
# first record, in their order, as MLflow reads them without a signature.
quiet "$P" -q --arch linear,relu,linear fixtures/model_state_dict.pth "$T/sd.blob" ||
	{ not_ok "convert the state_dict"; exit 1; }
post "$T/sd.blob" /invocations application/json fixtures/test_data/batch200_dataframe_records.json
cp "$T/out" "$T/records.out"
post "$T/sd.blob" /invocations application/json fixtures/test_data/batch200_dataframe_split.json
if head -1 "$T/records.out" | grep -q '^Status: 200 ' && [ "$(body_of "$T/records.out")" = "$(body_of "$T/out")" ]; then
	ok "a model without column names: 200 dataframe_records answered as the same rows in split orient"
else
	not_ok "a model without column names answers dataframe_records" "$(head -c 300 "$T/records.out")"
fi
# record KEY5: a record of 784 keys p0..p783, p5 named KEY5.
record() {
	awk -v k5="$1" 'BEGIN { printf "{"
		for (i = 0; i < 784; i++) printf "%s\"%s\": 0", (i ? ", " : ""), (i == 5 ? k5 : "p" i); printf "}" }'
}
printf '{"dataframe_records": [%s, %s]}' "$(record p5)" "$(record q5)" >"$T/keys.json"
post "$T/sd.blob" /invocations application/json "$T/keys.json"
expect "... a record with other keys: 400 naming the record and the key" 400 \
	'record 1 has key \"q5\", which record 0 has not: every record must have the same keys'

# A body that is not UTF-8 says so (it said "1 of the model's 784 columns
# are missing" when a column name held the byte).
sed 's/"col_783"/"col_783\xff"/' fixtures/test_data/images_azureml.json >"$T/latin.json"
at=$(LC_ALL=C grep -abo "$(printf '\377')" "$T/latin.json" | head -1 | cut -d: -f1)
post "$T/m.blob" /score application/json "$T/latin.json"
expect "a body that is not UTF-8: 400 saying so, where" 400 "the body is not valid UTF-8 (byte 0xff at offset $at)"
printf '\377\376{\000}\000' >"$T/utf16.json"
post "$T/m.blob" /score application/json "$T/utf16.json"
expect "a UTF-16 body: 400 saying so" 400 "(byte 0xff at offset 0): it looks like UTF-16; send UTF-8"
{ printf 'col_0,col_1\377\n'; echo '1,2'; } >"$T/latin.csv"
post "$T/m.blob" /score text/csv "$T/latin.csv"
expect "a CSV header that is not UTF-8: 400 saying so" 400 "the body is not valid UTF-8 (byte 0xff at offset 11)"

# "columns" and "data" of different widths.
awk 'BEGIN { printf "{\"dataframe_split\": {\"columns\": ["
	for (i = 0; i < 784; i++) printf "%s\"col_%d\"", (i ? "," : ""), i
	printf "], \"data\": [["; for (i = 0; i < 783; i++) printf "%s0", (i ? "," : "")
	printf "]]}}" }' >"$T/narrow.json"
post "$T/m.blob" /invocations application/json "$T/narrow.json"
expect "split orient, rows narrower than columns: 400 \"784 names, 783 values\"" 400 \
	'\"columns\" and \"data\" differ in width: 784 names, 783 values in every row'

# ---- a model whose rows are images (a CNN), KServe V2 ----
# [N, 1, 28, 28] and [N, 784] read the same; the metadata and /version give
# the shape; channels last [N, 28, 28, 1] is refused.  The CNN is made by
# torch (Debian's python3-torch), skipped visibly without it.
TORCH_PY=${TORCH_PY:-/usr/bin/python3}
if "$TORCH_PY" -c 'import torch' 2>/dev/null; then
	"$TORCH_PY" - "$T/cnn.pth" <<'PY'
import sys, torch, torch.nn as nn
torch.manual_seed(17)
m = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                  nn.Linear(4 * 28 * 28, 10))
torch.save(m.state_dict(), sys.argv[1])
PY
	quiet "$P" -q --name cnn --arch "unflatten(1,28,28),conv2d(padding=1),relu,flatten,linear" "$T/cnn.pth" \
		"$T/cnn.blob" || not_ok "convert the CNN state_dict"
	pixels=$(sed -n 2p fixtures/test_data/images.csv | tr -d '\r')
	for s in "1, 1, 28, 28" "1, 784" "1, 28, 28, 1"; do
		printf '{"inputs": [{"name": "x", "shape": [%s], "datatype": "FP32", "data": [%s]}]}' "$s" "$pixels" \
			>"$T/v2-$(echo "$s" | tr -d ' ,').json"
	done
	post "$T/cnn.blob" /v2/models/cnn/infer application/json "$T/v2-112828.json"
	cp "$T/out" "$T/nchw.out"
	post "$T/cnn.blob" /v2/models/cnn/infer application/json "$T/v2-1784.json"
	if head -1 "$T/nchw.out" | grep -q '^Status: 200 ' && grep -q '"shape": \[1, 10\]' "$T/nchw.out" &&
	   [ "$(body_of "$T/nchw.out")" = "$(body_of "$T/out")" ]; then
		ok "V2, an image model: [1, 1, 28, 28] and [1, 784] give the same answer"
	else
		not_ok "V2, an image model: [1, 1, 28, 28] and [1, 784] give the same answer" \
			"$(body_of "$T/nchw.out" | head -c 300)" "$(body_of "$T/out" | head -c 300)"
	fi
	post "$T/cnn.blob" /v2/models/cnn/infer application/json "$T/v2-128281.json"
	expect "V2, an image model: channels last [1, 28, 28, 1] refused" 400 \
		'inputs[0].shape [1, 28, 28, 1] is not the model'"'"'s input [-1, 1, 28, 28] (channels, height, width)'
	cgi /v2/models/cnn --model "$T/cnn.blob"
	grep -qF '"inputs": [{"name": "input-0", "datatype": "FP32", "shape": [-1, 1, 28, 28]}]' "$T/out" &&
		ok "GET /v2/models/cnn: the input is [-1, 1, 28, 28]" ||
		not_ok "GET /v2/models/cnn: the input is [-1, 1, 28, 28]" "$(cat "$T/out")"
	cgi /version --model "$T/cnn.blob"
	grep -qF '"model_input_shape": [1, 28, 28]' "$T/out" && ! grep -q '"model_order"\|"model_verified"' "$T/out" &&
		ok "GET /version: model_input_shape [1, 28, 28], neither assumed nor verified" ||
		not_ok "GET /version: model_input_shape" "$(cat "$T/out")"
else
	for n in "V2, an image model: [1, 1, 28, 28] and [1, 784] give the same answer" \
		"V2, an image model: channels last [1, 28, 28, 1] refused" \
		"GET /v2/models/cnn: the input is [-1, 1, 28, 28]" "GET /version: model_input_shape [1, 28, 28]"; do
		echo "ok - $n # SKIP no torch for $TORCH_PY"
	done
fi
