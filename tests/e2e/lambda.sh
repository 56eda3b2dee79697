# score.fcgi as an AWS Lambda custom runtime, driven by a Runtime API
# emulator written from the public spec (lambda_emulator.py): each event type
# (API Gateway payload 2.0, a function URL, payload 1.0, ALB with and without
# multi-value headers, a direct invocation), bodies base64 in and out, a bad
# body, keys with --workspace, a deadline in the past, an init failure, the
# model under LAMBDA_TASK_ROOT, and the deployment zip run as Lambda runs it.
# Every answer is compared with what the same request gets from score.fcgi
# as CGI.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi
PY=/usr/bin/python3
EMU="$PY tests/e2e/lambda_emulator.py"
unset OPENBLAS_CORETYPE

"$P" -q --name m fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }

# ev NAME KIND METHOD PATH [BODY_FILE] [OPTIONS]: the event $T/ev/NAME.json
mkdir -p "$T/ev"
ev() { n=$1; shift; $EMU event "$@" >"$T/ev/$n.json"; }

# cgi NAME METHOD URI [BODY_FILE] [VAR=VALUE...]: score.fcgi --cgi's answer in
# $T/cgi/NAME, SERVE (the --model or --workspace option) as the runtime has it
mkdir -p "$T/cgi"
cgi() {
	n=$1 m=$2 u=$3
	shift 3
	f=/dev/null
	case ${1-} in *=*|'') ;; *) f=$1; shift ;; esac
	len=$(wc -c <"$f")
	env REQUEST_METHOD="$m" REQUEST_URI="$u" SCRIPT_NAME="${u%%\?*}" CONTENT_LENGTH="$len" "$@" \
		"$S" --cgi $SERVE --metrics-file "$T/metrics-cgi" --log - <"$f" >"$T/cgi/$n"
}

# runtime NAME SCORE_FCGI_ARGS -- EVENT...: the emulator and the runtime until
# every event is answered (or 60 s); the answers in $T/NAME/, the runtime's
# exit status in $T/NAME.rc when it ended by itself.
runtime() {
	name=$1
	shift
	args=
	while [ "$1" != -- ]; do args="$args $1"; shift; done
	shift
	rm -f "$T/port"
	$EMU serve --port-file "$T/port" --out "$T/$name" "$@" &
	epid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	# shellcheck disable=SC2086
	AWS_LAMBDA_RUNTIME_API=127.0.0.1:$(cat "$T/port") $RUN $args 2>"$T/$name.err" &
	rpid=$!
	i=0
	while [ ! -e "$T/$name/done" ] && kill -0 "$rpid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$rpid" 2>/dev/null; then
		stop_pid "$rpid"
	else
		wait "$rpid"
		echo $? >"$T/$name.rc"
	fi
	stop_pid "$epid"
}

# same NAME ID [direct]: the runtime's answer ID equals the CGI answer NAME
same() {
	if out=$($EMU compare "$T/$RUNDIR/$2.response" "$T/cgi/$1" ${3-} 2>&1); then ok "$1: the same status and body as CGI"
	else not_ok "$1: the same status and body as CGI" "$out"; fi
}

REQ=fixtures/test_data/images_azureml.json
CSV=fixtures/test_data/images.csv
printf '{"input_data": {"columns": [0, 1], "data": [[1' >"$T/bad.json"
printf '{"input_data": 5}' >"$T/bad_direct.json"
JSON=Content-Type=application/json

# ---- --model: every event type ----
ev v2 v2 POST /score "$REQ" -H $JSON
ev url url POST /invocations "$REQ" --b64 -H $JSON
ev v1 v1 POST /score "$CSV" -H Content-Type=text/csv
ev alb alb POST /score "$REQ" --b64 -H $JSON
ev albm alb-multi GET /version
ev stage v2 POST /score "$REQ" --stage prod -H $JSON
ev v2get v2 GET /swagger.json
ev bad v2 POST /score "$T/bad.json" -H $JSON
ev late v2 POST /score "$REQ" -H $JSON
ev v2v2 v2 POST /v2/models/m/infer "$T/bad.json" -H $JSON
SERVE="--model $T/m.blob"
RUN="$S --model $T/m.blob --metrics-file $T/metrics-l --log $T/model.log"
RUNDIR=model
runtime model -- "$T/ev/v2.json" "$T/ev/url.json" "$T/ev/v1.json" "$T/ev/alb.json" "$T/ev/albm.json" \
	"$T/ev/stage.json@chunked" "$T/ev/v2get.json" "$T/ev/bad.json" "$T/ev/late.json@past" "$REQ" \
	"$T/bad_direct.json" "$T/ev/v2v2.json"
[ -e "$T/model/done" ] && ok "the runtime answers twelve events and asks for the next" ||
	not_ok "the runtime answers twelve events" "$(cat "$T/model.err")" "$(ls "$T/model")"

# Each invocation's Lambda-Runtime-Trace-Id reaches _X_AMZN_TRACE_ID, which
# the request log line carries: the emulator numbers them by invocation.
if grep -q '"trace_id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e701;Sampled=0", "endpoint"' "$T/model.log" &&
	grep -q '"trace_id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e707;Sampled=0", "endpoint": "m", "deployment": "default", "route": "swagger"' "$T/model.log"; then
	ok "each invocation's trace id reaches its request log line (_X_AMZN_TRACE_ID)"
else
	not_ok "each invocation's trace id reaches its request log line" "$(head -c 600 "$T/model.log")"
fi
cgi v2 POST /score?a=1 "$REQ" CONTENT_TYPE=application/json
same v2 req-1
cgi url POST /invocations "$REQ" CONTENT_TYPE=application/json
same url req-2
cgi v1 POST /score "$CSV" CONTENT_TYPE=text/csv
same v1 req-3
cgi alb POST /score "$REQ" CONTENT_TYPE=application/json
same alb req-4
cgi albm GET /version
same albm req-5
grep -q '"multiValueHeaders": {"Content-Type": \["application/json"\]' "$T/model/req-5.response" &&
	grep -q '"statusDescription": "200 OK"' "$T/model/req-5.response" &&
	ok "ALB with multi-value headers: answered in kind, with statusDescription" ||
	not_ok "ALB multi-value headers in the answer" "$(head -c 300 "$T/model/req-5.response")"
cp "$T/cgi/v2" "$T/cgi/stage"
same stage req-6
grep -q '"isBase64Encoded": false' "$T/model/req-6.response" && ok "a stage's name leads rawPath: routed without it; chunked event" ||
	not_ok "stage and chunked" "$(head -c 300 "$T/model/req-6.response")"
cgi v2get GET /swagger.json
same v2get req-7
cgi bad POST /score "$T/bad.json" CONTENT_TYPE=application/json
same bad req-8
$EMU expect "$T/model/req-8.response" 400 '"error_code": "BAD_REQUEST"' >/dev/null && ok "a bad body: 400 BAD_REQUEST" ||
	not_ok "a bad body: 400" "$(head -c 300 "$T/model/req-8.response")"
if out=$($EMU expect "$T/model/req-9.response" 408 '"error_code": "DEADLINE_EXCEEDED"'); then
	ok "a deadline in the past: 408 DEADLINE_EXCEEDED"
else not_ok "a deadline in the past: 408" "$out"; fi
cgi direct POST /score "$REQ" CONTENT_TYPE=application/json
same direct req-10 direct
cgi bad_direct POST /score "$T/bad_direct.json" CONTENT_TYPE=application/json
msg=$(sed '1,/^\r$/d' "$T/cgi/bad_direct" | $PY -c 'import json,sys; print(json.load(sys.stdin)["message"])')
if [ -e "$T/model/req-11.error" ] && [ "$(cat "$T/model/req-11.error-type")" = BAD_REQUEST ] &&
	$PY -c 'import json,sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["errorType"] == "BAD_REQUEST" and d["errorMessage"] == sys.argv[2]))' \
		"$T/model/req-11.error" "$msg"; then
	ok "a direct invocation's bad body: .../error with the handler's message and error_code"
else not_ok "a direct invocation's bad body: .../error" "$(cat "$T/model/req-11."* 2>&1 | head -c 300)"; fi
cgi v2v2 POST /v2/models/m/infer "$T/bad.json" CONTENT_TYPE=application/json
same v2v2 req-12

# ---- --workspace: keys, the deployment pin ----
if make_endpoint_1; then
	E=/endpoint-online-1/score
	ev key v2 POST $E "$REQ" -H $JSON -H "Authorization=Bearer $KEY"
	ev nokey v2 POST $E "$REQ" -H $JSON
	ev badkey v1 POST $E "$REQ" -H $JSON -H "Authorization=Bearer nope"
	ev pin v1 POST $E "$REQ" -H $JSON -H "Authorization=Bearer $KEY" -H azureml-model-deployment=blue
	ev twice v1 POST $E "$REQ" -H $JSON -H "Authorization=Bearer $KEY" -H "authorization=Bearer nope"
	SERVE="--workspace $W"
	RUN="$S --workspace $W --metrics-file $T/metrics-w"
	RUNDIR=ws
	runtime ws -- "$T/ev/key.json" "$T/ev/nokey.json" "$T/ev/badkey.json" "$T/ev/pin.json" "$T/ev/twice.json" "$REQ"
	cgi key POST $E "$REQ" CONTENT_TYPE=application/json "HTTP_AUTHORIZATION=Bearer $KEY"
	same key req-1
	grep -q '"statusCode": 200' "$T/ws/req-1.response" || not_ok "--workspace with the key: 200"
	cgi nokey POST $E "$REQ" CONTENT_TYPE=application/json
	same nokey req-2
	grep -q '"statusCode": 401' "$T/ws/req-2.response" && ok "--workspace: no key is a 401" ||
		not_ok "--workspace: no key is a 401" "$(head -c 300 "$T/ws/req-2.response")"
	cgi badkey POST $E "$REQ" CONTENT_TYPE=application/json "HTTP_AUTHORIZATION=Bearer nope"
	same badkey req-3
	grep -q '"statusCode": 401' "$T/ws/req-3.response" && ok "--workspace: a wrong key is a 401" ||
		not_ok "--workspace: a wrong key is a 401" "$(head -c 300 "$T/ws/req-3.response")"
	cgi pin POST $E "$REQ" CONTENT_TYPE=application/json "HTTP_AUTHORIZATION=Bearer $KEY" \
		HTTP_AZUREML_MODEL_DEPLOYMENT=blue
	same pin req-4
	if out=$($EMU expect "$T/ws/req-5.response" 400 'HTTP_AUTHORIZATION is given twice'); then
		ok "two Authorization headers differing in case: 400, neither is guessed"
	else not_ok "two Authorization headers: 400" "$out"; fi
	[ "$(cat "$T/ws/req-6.error-type" 2>/dev/null)" = ENDPOINT_NOT_FOUND ] &&
		ok "--workspace: a direct invocation names no endpoint: .../error ENDPOINT_NOT_FOUND" ||
		not_ok "--workspace: a direct invocation" "$(cat "$T/ws/req-6."* 2>&1 | head -c 300)"
else
	not_ok "make the tutorial's endpoint 1"
fi

# ---- the model under LAMBDA_TASK_ROOT; an init failure ----
mkdir -p "$T/task" "$T/empty"
cp "$T/m.blob" "$T/task/model.blob"
ev ver v2 GET /version
RUN="env -u SCOREPOINT_WORKSPACE LAMBDA_TASK_ROOT=$T/task $S --metrics-file $T/metrics-t"
runtime root -- "$T/ev/ver.json"
grep -q '\\"model\\": \\"m\\"' "$T/root/req-1.response" 2>/dev/null &&
	ok "neither --model nor --workspace: LAMBDA_TASK_ROOT/model.blob" ||
	not_ok "LAMBDA_TASK_ROOT/model.blob" "$(cat "$T/root.err")" "$(head -c 300 "$T/root/req-1.response" 2>&1)"
RUN="env -u SCOREPOINT_WORKSPACE LAMBDA_TASK_ROOT=$T/empty $S --metrics-file $T/metrics-t"
runtime init -- "$T/ev/ver.json"
if [ "$(cat "$T/init.rc" 2>/dev/null)" = 1 ] && [ "$(cat "$T/init/init.error-type")" = MODEL_NOT_LOADED ] &&
	grep -q '"errorMessage": "the model could not be loaded: ' "$T/init/init.error" &&
	! grep -q "$T" "$T/init/init.error" && [ ! -e "$T/init/req-1.response" ]; then
	ok "no model: init/error posted (MODEL_NOT_LOADED, no path of the server's), exit 1, no event taken"
else
	not_ok "no model: init/error, exit 1" "rc $(cat "$T/init.rc" 2>&1)" "$(cat "$T/init/init."* 2>&1)"
fi
RUN="$S --model $T/m.blob --metrics-file $T/metrics-t"
AWS_LAMBDA_RUNTIME_API=example.com:9001 "$S" --model "$T/m.blob" >/dev/null 2>"$T/api.err"
[ $? = 1 ] && grep -q 'expected ADDRESS:PORT' "$T/api.err" && ok "a Runtime API that is no address: one line, exit 1" ||
	not_ok "a bad AWS_LAMBDA_RUNTIME_API" "$(cat "$T/api.err")"

# ---- the deployment zip (make lambda), unpacked and run as Lambda runs it ----
if sh deploy/lambda/package.sh "$BUILD" "$T/fn.zip" --model "$T/m.blob" >"$T/zip.out" 2>&1 &&
	$PY -c 'import sys, zipfile, stat
z = zipfile.ZipFile(sys.argv[1]); m = {i.filename: i.external_attr >> 16 for i in z.infolist()}
sys.exit(not (sorted(m) == ["bootstrap", "model.blob", "score.fcgi"] and m["bootstrap"] & 0o111 and m["score.fcgi"] & 0o111))' \
		"$T/fn.zip"; then
	ok "the zip holds bootstrap and score.fcgi (executable) and model.blob at its root"
	mkdir -p "$T/unzipped"
	$PY -c 'import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist(): z.extract(i, sys.argv[2]); os.chmod(os.path.join(sys.argv[2], i.filename), i.external_attr >> 16)' \
		"$T/fn.zip" "$T/unzipped"
	RUN="env -u SCOREPOINT_WORKSPACE SCOREPOINT_METRICS_FILE=$T/metrics-z LAMBDA_TASK_ROOT=$T/unzipped $T/unzipped/bootstrap"
	RUNDIR=zip
	runtime zip -- "$T/ev/v2.json"
	same v2 req-1
else
	not_ok "the zip's contents" "$(cat "$T/zip.out")"
fi
