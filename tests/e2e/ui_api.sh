# The Studio's server side (docs/studio.md), end to end against the real
# score.fcgi: the page's files under /_ui with their types, headers, ETag,
# 304, HEAD, 405 and 301; --ui and --ui-list; the data routes behind each
# endpoint's own key or token (details, counters, log lines) with the
# tutorial's four endpoints made by the CLI; no key, token or secret in
# any answer; and `scorepoint serve` listing the names on loopback only
# when --ui-list says so.  Most requests are plain CGI (one process each,
# so an ETag is seen from many processes); serve runs lighttpd on a free
# loopback port, stopped by this test.
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
FCGI=$BUILD/score.fcgi
PY=/usr/bin/python3
trap '[ -n "$SERVE_PID" ] && stop_pid "$SERVE_PID"; rm -rf "$T"' EXIT
trap 'exit 1' HUP INT PIPE TERM
CSP="default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
CSP="${CSP}form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

quiet() { "$@" >/dev/null 2>"$T/cli-err" || { echo "# $*: $(cat "$T/cli-err")"; return 1; }; }
make_tutorial_endpoints && ok "the tutorial's four endpoints made with the CLI" ||
	{ not_ok "the tutorial's four endpoints made with the CLI"; exit 1; }
key() { "$SP" online-endpoint get-credentials --name "$1" --query "${2:-primaryKey}" -o tsv; }
K1=$(key endpoint-online-1) K2=$(key endpoint-online-2) K4=$(key endpoint-online-4)
K4B=$(key endpoint-online-4 secondaryKey) TOK3=$(key endpoint-online-3 accessToken)

# cgi METHOD PATH [VAR=value...]: score.fcgi --workspace as plain CGI, with
# $ARGS, its counters in $T/metrics and stdin $BODY (else nothing): the
# status printed, headers (no CR) to $T/h, the body to $T/b, both added to
# $T/all (every answer, searched for secrets at the end).
cgi() {
	m=$1 p=$2
	shift 2
	env REQUEST_METHOD="$m" REQUEST_URI="$p" "$@" "$FCGI" --workspace "$W" --cgi --metrics-file "$T/metrics" \
		$ARGS <"${BODY:-/dev/null}" >"$T/raw" 2>"$T/err"
	sed -n '1,/^\r$/p' "$T/raw" | tr -d '\r' >"$T/h"
	sed '1,/^\r$/d' "$T/raw" >"$T/b"
	cat "$T/raw" >>"$T/all"
	sed -n 's/^Status: \([0-9]*\).*/\1/p' "$T/h"
}
# hdr NAME: the value of response header NAME ("" when absent).
hdr() { sed -n "s/^$1: //p" "$T/h"; }
# auth CREDENTIAL: the variable that sends it.
auth() { printf 'HTTP_AUTHORIZATION=Bearer %s' "$1"; }
# ui_headers: the headers every /_ui answer carries, and its Cache-Control.
ui_headers() {
	[ "$(hdr Content-Security-Policy)" = "$CSP" ] && [ "$(hdr X-Content-Type-Options)" = nosniff ] &&
		[ "$(hdr Referrer-Policy)" = no-referrer ] && [ "$(hdr Cache-Control)" = "$1" ]
}
# etag_of FILE: "<16 hex of FNV-1a 64 of its bytes>", computed here.
etag_of() {
	$PY -c 'import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("\"%016x\"" % h)' "$1"
}
# json_is EXPR: EXPR, a Python expression over j (the body as JSON), holds.
json_is() { $PY -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if ('"$1"') else 1)' "$T/b"; }

# ---- the page's files ----
n=0 bad=
for f in handler/ui/*.html handler/ui/*.css handler/ui/*.js handler/ui/*.svg; do
	[ -f "$f" ] || continue
	name=${f##*/}
	case $name in
	*.html) type="text/html; charset=utf-8" ;;
	*.css) type="text/css; charset=utf-8" ;;
	*.js) type="text/javascript; charset=utf-8" ;;
	*.svg) type="image/svg+xml" ;;
	esac
	code=$(cgi GET "/_ui/$name")
	if [ "$code" = 200 ] && cmp -s "$T/b" "$f" && [ "$(hdr Content-Type)" = "$type" ] && ui_headers no-cache &&
	   [ "$(hdr ETag)" = "$(etag_of "$f")" ] && [ "$(hdr Content-Length)" = "$(wc -c <"$f")" ]; then
		n=$((n + 1))
	else
		bad="$bad $name($code $(hdr Content-Type) $(hdr ETag))"
	fi
done
[ $n -gt 0 ] && [ -z "$bad" ] &&
	ok "GET /_ui/FILE: each of the $n files of handler/ui: bytes, type, CSP, nosniff, no-referrer, no-cache, ETag" ||
	not_ok "GET /_ui/FILE: the files of handler/ui" "$bad" "$(cat "$T/h")"
ETAG=$(etag_of handler/ui/index.html)
code=$(cgi GET /_ui/)
[ "$code" = 200 ] && cmp -s "$T/b" handler/ui/index.html && [ "$(hdr ETag)" = "$ETAG" ] && ui_headers no-cache &&
	ok "GET /_ui/: index.html" || not_ok "GET /_ui/: index.html" "$code" "$(cat "$T/h")"
code=$(cgi GET /_ui)
[ "$code" = 301 ] && [ "$(hdr Location)" = /_ui/ ] && ui_headers no-store && ok "GET /_ui: 301 to /_ui/" ||
	not_ok "GET /_ui: 301 to /_ui/" "$code" "$(cat "$T/h")"

# inm VALUE: If-None-Match: VALUE on GET /_ui/index.html; the status.
inm() { cgi GET /_ui/index.html "HTTP_IF_NONE_MATCH=$1"; }
code=$(inm "$ETAG")
[ "$code" = 304 ] && [ ! -s "$T/b" ] && [ -z "$(hdr Content-Length)" ] && [ -z "$(hdr Content-Type)" ] &&
	[ "$(hdr ETag)" = "$ETAG" ] && ui_headers no-cache &&
	ok "If-None-Match: the ETag: 304, no body, no Content-Length or Content-Type, the ETag and headers again" ||
	not_ok "If-None-Match: 304" "$code" "$(cat "$T/h" "$T/b")"
a=$(inm "W/$ETAG") b=$(inm "\"0000000000000000\", $ETAG") c=$(inm '*') d=$(inm '"0000000000000000"')
e=$(inm "${ETAG%??}\"")
[ "$a$b$c$d$e" = 304304304200200 ] && ok "If-None-Match: weak, in a list and * are 304; another tag is 200" ||
	not_ok "If-None-Match forms" "W/: $a list: $b *: $c other: $d cut: $e"

js=$(ls handler/ui/*.js 2>/dev/null | head -1)
js=${js:-handler/ui/index.html}
code=$(cgi HEAD "/_ui/${js##*/}")
[ "$code" = 200 ] && [ ! -s "$T/b" ] && [ "$(hdr Content-Length)" = "$(wc -c <"$js")" ] && ui_headers no-cache &&
	ok "HEAD /_ui/${js##*/}: the headers and Content-Length, no body" || not_ok "HEAD" "$code" "$(cat "$T/h")"
a=$(cgi POST /_ui/) ah=$(hdr Allow) acsp=$(hdr Content-Security-Policy)
b=$(cgi DELETE /_ui/api/endpoints) bh=$(hdr Allow)
[ "$a$b" = 405405 ] && [ "$ah$bh" = GETGET ] && [ "$acsp" = "$CSP" ] &&
	json_is 'j["error_code"] == "METHOD_NOT_ALLOWED"' &&
	ok "POST /_ui/, DELETE /_ui/api/endpoints: 405, Allow: GET, the CSP" || not_ok "405" "$a $b $ah $bh" "$(cat "$T/b")"
n=0
for p in /_ui/nope.js /_ui/api/nope /_ui/../state.yaml /_ui/ui/index.html /_uix /_ui/index.html/; do
	code=$(cgi GET "$p")
	[ "$code" = 404 ] && json_is 'j["error_code"] == "ENDPOINT_NOT_FOUND"' && ui_headers no-store && n=$((n + 1)) ||
		echo "# $p: $code $(cat "$T/b")"
done
[ $n = 6 ] && ok "unknown /_ui paths (a file not embedded, ../, a folder, /_uix): 404 JSON with the headers" ||
	not_ok "unknown /_ui paths: 404"

a=$(ARGS="--ui off" cgi GET /_ui/) acsp=$(hdr Content-Security-Policy)
b=$(cgi GET /_ui/api/endpoints SCOREPOINT_UI=off)
c=$(ARGS="--ui on" cgi GET /_ui/ SCOREPOINT_UI=off)
[ "$a$b$c" = 404404200 ] && [ -z "$acsp" ] && ok "--ui off (or SCOREPOINT_UI=off): /_ui is a 404; --ui on wins" ||
	not_ok "--ui off" "$a $b $c"
BLOB=$W/models/model-online-1/1/model.blob
a=$(env REQUEST_METHOD=GET REQUEST_URI=/_ui/ "$FCGI" --model "$BLOB" --cgi --metrics-file "$T/m2" --log - >"$T/m.out"
	head -1 "$T/m.out")
case $a in "Status: 404"*) ok "--model: /_ui/ is a 404" ;; *) not_ok "--model: /_ui/ is a 404" "$a" ;; esac
check_fails "--ui maybe: refused" "--ui 'maybe': use on or off" "$FCGI" --workspace "$W" --cgi --ui maybe
check_fails "--ui-list maybe: refused" "--ui-list 'maybe': use on or off" "$FCGI" --workspace "$W" --cgi --ui-list maybe
out=$("$FCGI" --help)
check_contains "score.fcgi --help: --ui" "--ui on|off" "$out"
check_contains "score.fcgi --help: --ui-list" "--ui-list on|off" "$out"

# ---- the list ----
LIST='{"list": true, "endpoints": [{"name": "endpoint-online-1", "auth_mode": "key"}, '
LIST=$LIST'{"name": "endpoint-online-2", "auth_mode": "key"}, {"name": "endpoint-online-3", "auth_mode": "aml_token"}, '
LIST=$LIST'{"name": "endpoint-online-4", "auth_mode": "key"}]}'
code=$(cgi GET /_ui/api/endpoints)
[ "$code" = 200 ] && [ "$(cat "$T/b")" = '{"list": false, "endpoints": []}' ] && ui_headers no-store &&
	[ "$(hdr Content-Type)" = application/json ] && ok "GET /_ui/api/endpoints: not listed by default" ||
	not_ok "the list, by default" "$code" "$(cat "$T/b")"
a=$(ARGS="--ui-list on" cgi GET /_ui/api/endpoints) al=$(cat "$T/b")
b=$(cgi GET /_ui/api/endpoints SCOREPOINT_UI_LIST=on) bl=$(cat "$T/b")
c=$(ARGS="--ui-list off" cgi GET /_ui/api/endpoints SCOREPOINT_UI_LIST=on) cl=$(cat "$T/b")
[ "$a$b$c" = 200200200 ] && [ "$al" = "$LIST" ] && [ "$bl" = "$LIST" ] &&
	[ "$cl" = '{"list": false, "endpoints": []}' ] &&
	ok "--ui-list on (or SCOREPOINT_UI_LIST=on): the names and auth modes, sorted; --ui-list off wins" ||
	not_ok "--ui-list on" "$a $al" "$b $bl" "$c $cl"

# ---- one endpoint ----
# dep4 NAME: a deployment of endpoint 4 as the details show it.
dep4() {
	printf '{"name": "%s", "model": "model-online-4", "model_version": "1", "input_width": 784, ' "$1"
	printf '"input_shape": null, "output_width": 10, "postprocess": "logits", "labels": null, '
	printf '"request_timeout_ms": 5000, "instance_count": 1}'
}
EP4='{"name": "endpoint-online-4", "auth_mode": "key", "description": null, "scoring_uri": "/endpoint-online-4/score", '
EP4=$EP4'"swagger_uri": "/endpoint-online-4/swagger.json", "traffic": {"blue": 100}, "mirror_traffic": {}, '
EP4=$EP4"\"deployments\": [$(dep4 blue), $(dep4 green)]}"
code=$(cgi GET /_ui/api/endpoints/endpoint-online-4 "$(auth "$K4")")
[ "$code" = 200 ] && [ "$(cat "$T/b")" = "$EP4" ] && ui_headers no-store &&
	ok "details with the primary key: auth mode, URIs, traffic, both deployments with model, shape, timeout" ||
	not_ok "details of endpoint 4" "$code" "$(cat "$T/b")"
code=$(cgi GET /_ui/api/endpoints/endpoint-online-4 "$(auth "$K4B")")
[ "$code" = 200 ] && [ "$(cat "$T/b")" = "$EP4" ] && ok "details with the secondary key" ||
	not_ok "secondary key" "$code"
code=$(cgi GET /_ui/api/endpoints/endpoint-online-2 "$(auth "$K2")")
labels=$(tr '\n' '|' <fixtures/labels.txt)
[ "$code" = 200 ] && json_is '"|".join(j["deployments"][0]["labels"]) + "|" == "'"$labels"'" and
	j["deployments"][0]["postprocess"] == "labels" and j["deployments"][0]["output_width"] == 10' &&
	ok "details of endpoint 2: the labels and postprocess from its blob" || not_ok "endpoint 2's labels" "$(cat "$T/b")"
code=$(cgi GET /_ui/api/endpoints/endpoint-online-3 "$(auth "$TOK3")")
[ "$code" = 200 ] && json_is 'j["auth_mode"] == "aml_token" and j["traffic"] == {"blue": 100}' &&
	ok "details of endpoint 3 (aml_token) with a token" || not_ok "endpoint 3 with a token" "$code" "$(cat "$T/b")"

# The 401s are /NAME/score's, body and WWW-Authenticate alike.
# refused NAME ENDPOINT [CREDENTIAL]: the view and /score answer the same 401.
refused() {
	what=$1 ep=$2
	shift 2
	[ $# = 0 ] || set -- "$(auth "$1")"
	v=$(cgi GET "/_ui/api/endpoints/$ep$VIEW" "$@")
	vb=$(cat "$T/b") vw=$(hdr WWW-Authenticate) vcsp=$(hdr Content-Security-Policy)
	s=$(BODY=$REQ cgi POST "/$ep/score" CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <$REQ)" "$@")
	if [ "$v$s" = 401401 ] && [ "$vb" = "$(cat "$T/b")" ] && [ "$vw" = "$(hdr WWW-Authenticate)" ] && [ -n "$vw" ] &&
	   [ "$vcsp" = "$CSP" ]; then
		ok "$what: 401, the same body and WWW-Authenticate as /$ep/score"
	else
		not_ok "$what: 401 as /score" "$v $vb $vw" "$s $(cat "$T/b") $(hdr WWW-Authenticate)"
	fi
}
VIEW= refused "details without a key" endpoint-online-4
VIEW= refused "details with a wrong key" endpoint-online-4 "$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
VIEW= refused "details with another endpoint's key" endpoint-online-4 "$K1"
VIEW= refused "details of endpoint 3 with a key" endpoint-online-3 "$K4"
VIEW=/metrics refused "metrics with a wrong key" endpoint-online-4 "$K2"
VIEW=/logs refused "logs without a key" endpoint-online-1
code=$(cgi GET /_ui/api/endpoints/endpoint-online-9 "$(auth "$K4")")
[ "$code" = 404 ] && json_is 'j["error_code"] == "ENDPOINT_NOT_FOUND"' && ui_headers no-store &&
	ok "an unknown endpoint: 404 ENDPOINT_NOT_FOUND" || not_ok "unknown endpoint" "$code" "$(cat "$T/b")"
code=$(cgi GET /_ui/api/endpoints/endpoint-online-4/secrets "$(auth "$K4")")
[ "$code" = 404 ] && json_is 'j["error_code"] == "ENDPOINT_NOT_FOUND"' && ui_headers no-store &&
	ok "an unknown view of an endpoint: 404" ||
	not_ok "unknown view" "$code" "$(cat "$T/b")"

quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=90 green=10"
code=$(cgi GET /_ui/api/endpoints/endpoint-online-4 "$(auth "$K4")")
[ "$code" = 200 ] && json_is 'j["traffic"] == {"blue": 90, "green": 10} and j["mirror_traffic"] == {}' &&
	ok "traffic changed by the CLI: the next details show blue=90 green=10" || not_ok "traffic" "$(cat "$T/b")"
quiet "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=100 green=0" --mirror-traffic "green=20"
cgi GET /_ui/api/endpoints/endpoint-online-4 "$(auth "$K4")" >/dev/null
json_is 'j["traffic"] == {"blue": 100, "green": 0} and j["mirror_traffic"] == {"green": 20}' &&
	ok "mirror traffic set by the CLI: shown" || not_ok "mirror traffic" "$(cat "$T/b")"
quiet "$SP" online-endpoint update --name endpoint-online-4 --mirror-traffic "green=0"

# ---- counters ----
# stats DEPLOYMENT: requests errors rows last-count status-200 of endpoint 4's deployment.
metrics4() { cgi GET /_ui/api/endpoints/endpoint-online-4/metrics "$(auth "$K4")"; }
stats() {
	$PY -c 'import json, sys
d = [d for d in json.load(open(sys.argv[1]))["deployments"] if d["name"] == sys.argv[2]][0]
print(d["requests"], d["errors"], d["rows"], d["latency"]["counts"][-1], d["status"].get("200", 0),
      d["status"].get("400", 0))' "$T/b" "$1"
}
code=$(metrics4)
LE='[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, null]'
now=$(date +%s)
[ "$code" = 200 ] && json_is '[d["name"] for d in j["deployments"]] == ["blue", "green"] and j["metrics"] is True and
	all(d["requests"] == 0 and d["latency"]["counts"] == [0] * 15 and d["latency"]["sum_seconds"] == 0
	    for d in j["deployments"])
	and abs(j["time_ms"] / 1000 - '"$now"') < 60' && grep -qF "\"le\": $LE" "$T/b" && ui_headers no-store &&
	ok "metrics before any score: both deployments, zeros, the buckets' bounds, time_ms now" ||
	not_ok "metrics before" "$code" "$(cat "$T/b")"
# pin DEPLOYMENT [BODY]: a scoring request pinned to it.
pin() {
	BODY=${2:-$REQ} cgi POST /endpoint-online-4/score CONTENT_TYPE=application/json \
		CONTENT_LENGTH="$(wc -c <"${2:-$REQ}")" HTTP_AZUREML_MODEL_DEPLOYMENT="$1" "$(auth "$K4")" \
		HTTP_X_REQUEST_ID="ui-$1-$3"
}
printf '{"input_data": {"data": [[1, 2]]}}' >"$T/bad.json"
codes=$(pin blue "" 1; pin blue "" 2; pin blue "" 3; pin green "" 4; pin green "" 5; pin green "$T/bad.json" 6)
metrics4 >/dev/null
b=$(stats blue) g=$(stats green)
[ "$codes" = "$(printf '200\n200\n200\n200\n200\n400')" ] && [ "$b" = "3 0 6 3 3 0" ] && [ "$g" = "3 1 4 3 2 1" ] &&
	json_is 'all(d["latency"]["sum_seconds"] > 0 and d["latency"]["counts"] == sorted(d["latency"]["counts"])
		 for d in j["deployments"])' &&
	ok "metrics after 3 blue and 3 green scores (one a 400): requests, errors, status, rows, cumulative latency" ||
	not_ok "metrics after scores" "$(echo $codes)" "blue $b" "green $g" "$(cat "$T/b")"
code=$(ARGS="--metrics off" metrics4)
[ "$code" = 200 ] && [ "$(cat "$T/b" | sed 's/"time_ms": [0-9]*/T/')" = '{T, "metrics": false, "deployments": []}' ] &&
	ok "--metrics off: \"metrics\": false, no deployments" || not_ok "--metrics off" "$(cat "$T/b")"
cgi GET /metrics >/dev/null
grep -q '^scorepoint_deployment_request_duration_seconds_count{deployment="endpoint-online-4/blue"} 3$' "$T/b" &&
	grep -q '^scorepoint_deployment_request_duration_seconds_count{deployment="endpoint-online-4/green"} 3$' "$T/b" &&
	grep -q '^scorepoint_requests_total{route="ui",status="200"} ' "$T/b" &&
	grep -q '^scorepoint_requests_total{route="ui",status="401"} ' "$T/b" &&
	ok "/metrics: a latency histogram per deployment, and /_ui counted as route \"ui\"" ||
	not_ok "/metrics text" "$(grep -e deployment_request -e 'route="ui"' "$T/b")"

# ---- log lines ----
LOG=$W/logs/requests.log
code=$(cgi GET /_ui/api/endpoints/endpoint-online-4/logs "$(auth "$K4")")
# Its scoring requests: the 401s above, then the six scored.
[ "$code" = 200 ] && json_is 'j["log"] is True and [json.loads(l)["request_id"] for l in j["lines"]][-6:] ==
	["ui-blue-1", "ui-blue-2", "ui-blue-3", "ui-green-4", "ui-green-5", "ui-green-6"] and
	json.loads(j["lines"][-1])["status"] == 400 and len(j["lines"]) == 10 and
	all(json.loads(l)["endpoint"] == "endpoint-online-4" and json.loads(l)["route"] == "score" for l in j["lines"])' &&
	ui_headers no-store && ok "logs: endpoint 4's scoring requests only, oldest first, as JSON text lines" ||
	not_ok "logs of endpoint 4" "$code" "$(cat "$T/b")"
# line ENDPOINT ID: a log line as score.fcgi writes it.
line() {
	printf '{"time": "2026-01-01T00:00:00.000Z", "pid": 1, "request_id": "%s", "endpoint": "%s", ' "$2" "$1"
	printf '"deployment": "blue", "route": "score", "method": "POST", "status": 200, "rows": 2, "bytes_in": 10, '
	printf '"bytes_out": 10, "us": 100}\n'
}
i=1
while [ $i -le 60 ]; do
	line endpoint-online-4 "x4-$i"
	[ $i -le 30 ] && line endpoint-online-1 "x1-$i"
	line endpoint-online-44 "x44-$i"   # a longer name with the same beginning
	i=$((i + 1))
done >>"$LOG"
printf '{"time": "2026-01-01T00:00:00.000Z", "endpoint": "endpoint-online-4", "request_id": "half"' >>"$LOG"
cgi GET /_ui/api/endpoints/endpoint-online-4/logs "$(auth "$K4")" >/dev/null
json_is 'len(j["lines"]) == 50 and [json.loads(l)["request_id"] for l in j["lines"]] ==
	["x4-%d" % i for i in range(11, 61)]' &&
	ok "logs: the newest 50 lines of the endpoint, newest last, none of another or a line half written" ||
	not_ok "logs: 50 newest" "$(cat "$T/b" | head -c 600)"
cgi GET /_ui/api/endpoints/endpoint-online-1/logs "$(auth "$K1")" >/dev/null
json_is '[json.loads(l)["request_id"] for l in j["lines"]][1:] == ["x1-%d" % i for i in range(1, 31)] and
	json.loads(j["lines"][0])["status"] == 401 and len(j["lines"]) == 31' &&
	ok "logs of endpoint 1: its 401 above and its 30 lines, of no other endpoint" ||
	not_ok "logs of endpoint 1" "$(head -c 600 "$T/b")"
echo >>"$LOG"
i=0
while [ $i -lt 3000 ]; do line endpoint-online-2 "filler-$i"; i=$((i + 1)); done >>"$LOG"   # > 256 KiB
cgi GET /_ui/api/endpoints/endpoint-online-1/logs "$(auth "$K1")" >/dev/null
a=$(cat "$T/b")
cgi GET /_ui/api/endpoints/endpoint-online-2/logs "$(auth "$K2")" >/dev/null
[ "$a" = '{"log": true, "lines": []}' ] &&
	json_is 'len(j["lines"]) == 50 and json.loads(j["lines"][-1])["request_id"] == "filler-2999"' &&
	ok "logs: read from the last 256 KiB of the log only" || not_ok "logs: 256 KiB" "$a" "$(head -c 300 "$T/b")"
code=$(ARGS="--log $T/elsewhere.log" cgi GET /_ui/api/endpoints/endpoint-online-2/logs "$(auth "$K2")")
[ "$code" = 200 ] && [ "$(cat "$T/b")" = '{"log": false, "lines": []}' ] && ok "--log elsewhere: \"log\": false" ||
	not_ok "--log elsewhere" "$code" "$(cat "$T/b")"

# ---- no secret in any answer ----
secrets=$(sed -n 's/^ *\(primary_key\|secondary_key\|token_secret\): *//p' "$W/state.yaml")
n=0 found=
for s in $secrets "$TOK3"; do
	n=$((n + 1))
	grep -qF -- "$s" "$T/all" && found="$found $s"
done
answers=$(grep -ao 'Status: [0-9]' "$T/all" | wc -l)
[ $n = 13 ] && [ -z "$found" ] && [ "$answers" -ge 50 ] &&
	ok "none of the $n keys, token secrets or the token is in any of the $answers answers" ||
	not_ok "no secret in any answer" "$n secrets" "found:$found"

# ---- scorepoint serve: the list on loopback ----
if serve_start; then
	URL=http://127.0.0.1:$PORT
	l=$(curl -s "$URL/_ui/api/endpoints")
	curl -s -o /dev/null -D "$T/sh" "$URL/_ui/"
	csp=$(sed -n 's/^Content-Security-Policy: //p' "$T/sh" | tr -d '\r')
	etag=$(sed -n 's/^ETag: //p' "$T/sh" | tr -d '\r')
	c304=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL/_ui/")
	head=$(curl -s -I -o /dev/null -w '%{http_code}' "$URL/_ui/")
	sleep 0.3   # the banner follows the first answer to GET /health
	[ "$l" = "$LIST" ] && [ "$csp" = "$CSP" ] && [ "$etag" = "$ETAG" ] && [ "$c304" = 304 ] && [ "$head" = 200 ] &&
		grep -q "^the Studio page: $URL/_ui/ (endpoint names listed: on" "$T/serve.out" &&
		ok "serve on 127.0.0.1: the Studio lists the endpoints; CSP, ETag, 304 and HEAD through lighttpd" ||
		not_ok "serve on 127.0.0.1: the list" "$l" "$csp" "$etag $c304 $head" "$(cat "$T/serve.out")"
	serve_stop
else
	not_ok "serve on 127.0.0.1 starts" "$(cat "$T/serve.err")"
	serve_stop
fi
if serve_start --ui-list off; then
	l=$(curl -s "http://127.0.0.1:$PORT/_ui/api/endpoints")
	[ "$l" = '{"list": false, "endpoints": []}' ] && ok "serve --ui-list off: not listed" ||
		not_ok "serve --ui-list off" "$l"
	serve_stop
else
	not_ok "serve --ui-list off starts" "$(cat "$T/serve.err")"
	serve_stop
fi
check_fails "serve --ui-list maybe: a usage error" "--ui-list maybe: use on or off" "$SP" serve --ui-list maybe
out=$("$SP" serve --help)
check_contains "serve --help: --ui-list" "--ui-list on|off" "$out"
