# score.fcgi end to end: real lighttpd (mod_fastcgi, 2 processes) on a
# loopback ephemeral port, real HTTP with curl, and the same binary as CGI.
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
. tests/e2e/lib_cases.sh
P=$BUILD/pth2blob
S=$BUILD/score.fcgi

"$P" -q --name m fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }
"$P" -q --labels fixtures/labels.txt fixtures/pyfunc_model "$T/labels.blob"
start_lighttpd "$T/m.blob" 2 || { not_ok "lighttpd starts with score.fcgi"; exit 1; }
ok "lighttpd starts with score.fcgi as its FastCGI backend"

# post ROUTE FILE CONTENT-TYPE: body to $T/out, status to stdout
post() {
	curl -s -o "$T/out" -w '%{http_code}' -H "Content-Type: $3" --data-binary "@$2" "$URL$1"
}

# After each bad case: the tutorial's request still gets its bytes.
valid_after() {
	code=$(post /score fixtures/test_data/images_azureml.json application/json)
	if [ "$code" != 200 ] || ! cmp -s "$T/out" "$T/want2.json"; then
		not_ok "valid request after $1" "status $code"
	fi
}
# One case alone (tests/run.sh T=bad/NAME): the answer to compare with, then the case.
if case_only tests/e2e/bad; then
	post /score fixtures/test_data/images_azureml.json application/json >/dev/null && cp "$T/out" "$T/want2.json"
	run_cases tests/e2e/bad "bad request" valid_after
	exit 0
fi

tr '\t' '\n' <fixtures/expected/batch200_logits.tsv >"$T/want200"
tr '\t' '\n' <fixtures/expected/images_logits.tsv >"$T/want2"

# The tutorial's request: torch's logits within 1e-4 and the same argmax,
# in json.dumps' layout (see logits_like).  Later answers to it must be
# these bytes exactly.
code=$(post /score fixtures/test_data/images_azureml.json application/json)
values "$T/out" >"$T/got"
argmax() { awk '{ if (NR % 10 == 1 || $1 > best) { best = $1; at = (NR - 1) % 10 } } NR % 10 == 0 { print at }' "$1"; }
if [ "$code" = 200 ] && logits_like "$T/out" fixtures/expected/images_logits.json &&
	[ "$(argmax "$T/got")" = "$(cat fixtures/expected/images_argmax.txt)" ]; then
	ok "images_azureml.json via /score: torch's logits and argmax, json.dumps' layout"
else
	not_ok "images_azureml.json via /score: torch's logits and argmax, json.dumps' layout" "status $code" "$(head -c 300 "$T/out")"
fi
cp "$T/out" "$T/want2.json"
code=$(post /score fixtures/test_data/images.csv text/csv)
if [ "$code" = 200 ] && cmp -s "$T/out" "$T/want2.json"; then ok "images.csv via /score: the same bytes"; else not_ok "images.csv via /score: the same bytes" "$code"; fi

# Every MLflow shape through /invocations, 200 rows, against torch.
for f in dataframe_split dataframe_records instances instances_records inputs inputs_columns; do
	code=$(post /invocations "fixtures/test_data/batch200_$f.json" application/json)
	values "$T/out" >"$T/got"
	if [ "$code" = 200 ] && head -c 16 "$T/out" | grep -q '^{"predictions": ' && close_to "$T/got" "$T/want200"; then
		ok "/invocations $f: 200 rows within 1e-4 of torch"
	else
		not_ok "/invocations $f: 200 rows within 1e-4 of torch" "status $code" "$(head -c 200 "$T/out")"
	fi
done
code=$(post /invocations fixtures/test_data/batch200.csv "text/csv; charset=utf-8")
values "$T/out" >"$T/got"
if [ "$code" = 200 ] && close_to "$T/got" "$T/want200"; then ok "/invocations CSV"; else not_ok "/invocations CSV" "$code"; fi

# KServe V2: the two images as an FP32 tensor.
awk -F, 'NR > 1 { for (i = 1; i <= NF; i++) printf "%s%s", (n++ ? "," : ""), $i }
	BEGIN { printf "{\"id\": \"req-7\", \"inputs\": [{\"name\": \"input-0\", \"shape\": [2, 784], \"datatype\": \"FP32\", \"data\": [" }
	END { print "]}]}" }' fixtures/test_data/images.csv >"$T/v2.json"
code=$(post /v2/models/m/infer "$T/v2.json" application/json)
grep -oE -- '-?[0-9][-+.0-9eE]*' "$T/out" | tail -n 20 >"$T/got"
if [ "$code" = 200 ] && grep -q '"id": "req-7"' "$T/out" && close_to "$T/got" "$T/want2"; then ok "V2 infer"
else not_ok "V2 infer" "status $code" "$(head -c 300 "$T/out")"; fi

# Metadata routes.
check_get() {   # check_get PATH STATUS FRAGMENT
	code=$(curl -s -o "$T/out" -w '%{http_code}' "$URL$1")
	if [ "$code" = "$2" ] && grep -qF -- "$3" "$T/out"; then ok "GET $1"; else not_ok "GET $1" "status $code" "$(head -c 200 "$T/out")"; fi
}
check_get / 200 Healthy
check_get /health 200 Healthy
check_get /ping 200 Healthy
check_get /version 200 '"model": "m"'
cp "$T/out" "$T/version"
check_get /swagger.json 200 col_783
check_get /v2 200 '"extensions"'
check_get /v2/health/live 200 '"live": true'
check_get /v2/health/ready 200 '"ready": true'
check_get /v2/models/m 200 '"shape": [-1, 784]'
check_get /v2/models/m/ready 200 '"ready": true'
check_get /v2/models/other 404 '"error"'
check_get /nope 404 ENDPOINT_NOT_FOUND
code=$(curl -s -o "$T/out" -D "$T/headers" -w '%{http_code}' "$URL/score")
if [ "$code" = 405 ] && grep -qi '^allow: POST' "$T/headers"; then ok "GET /score: 405 with Allow"; else not_ok "GET /score: 405 with Allow" "$code" "$(cat "$T/headers")"; fi

# Headers: request ids echoed, a UUID v4 made when absent, the deployment named.
curl -s -o /dev/null -D "$T/headers" -H 'x-request-id: abc-123' -H 'x-ms-client-request-id: client_7' \
	-H 'Content-Type: application/json' --data-binary @fixtures/test_data/images_azureml.json "$URL/score"
if grep -qi '^x-request-id: abc-123' "$T/headers" && grep -qi '^x-ms-client-request-id: client_7' "$T/headers" &&
   grep -qi '^azureml-model-deployment: default' "$T/headers"; then ok "request ids echoed, deployment named"
else not_ok "request ids echoed, deployment named" "$(cat "$T/headers")"; fi
curl -s -o /dev/null -D "$T/headers" "$URL/health"
if grep -qiE '^x-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}' "$T/headers"; then ok "x-request-id generated as a UUID v4"
else not_ok "x-request-id generated as a UUID v4" "$(cat "$T/headers")"; fi

# The declarative bad-request corpus (tests/e2e/CASES.md): each gets its
# 4xx JSON, and a valid request right after still gets the right answer.
run_cases tests/e2e/bad "bad request" valid_after
[ "$CASES_RUN" -ge 40 ] && ok "at least 40 bad-request cases ($CASES_RUN)" || not_ok "at least 40 bad-request cases ($CASES_RUN)"

# /metrics sums both worker processes: rounds of 8 concurrent requests
# until the log shows both workers answering (a loaded machine may let one
# worker take many in a row), then the counters must have grown by exactly
# the number sent.
before=$(curl -s "$URL/metrics" | awk '/^scorepoint_requests_total\{route="score",status="200"/ { s += $NF } END { print s + 0 }')
: >"$T/requests.log"
sent=0 round=0 pids=0
while [ $round -lt 40 ] && { [ $sent -lt 80 ] || [ "$pids" -lt 2 ]; }; do
	cpids=
	for k in 1 2 3 4 5 6 7 8; do
		curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary @fixtures/test_data/images_azureml.json "$URL/score" &
		cpids="$cpids $!"
	done
	wait $cpids   # not a bare wait: lighttpd is a child too
	sent=$((sent + 8)) round=$((round + 1))
	pids=$(grep -o '"pid": [0-9]*' "$T/requests.log" | sort -u | wc -l)
done
after=$(curl -s "$URL/metrics" | awk '/^scorepoint_requests_total\{route="score",status="200"/ { s += $NF } END { print s + 0 }')
if [ $((after - before)) -eq $sent ] && [ "$pids" -ge 2 ]; then ok "/metrics counts the $sent requests served by $pids processes"
else not_ok "/metrics counts the requests served by both processes" "sent $sent, counted $((after - before)), $pids processes"; fi
check_get /metrics 200 'scorepoint_model_info{name="m"'
if grep -q '"route": "score", "method": "POST", "status": 200, "rows": 2' "$T/requests.log"; then ok "JSON request log"
else not_ok "JSON request log" "$(tail -2 "$T/requests.log")"; fi
stop_lighttpd

# systemd socket activation: the listening socket arrives on fd 3 with
# LISTEN_FDS=1 and LISTEN_PID; perl (perl-base is in every Debian) plays systemd.
perl -MIO::Socket::UNIX -MPOSIX -e 'BEGIN { $^F = 255 }   # no close-on-exec for the sockets perl opens
	my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => shift, Listen => 16) or die "listen: $!";
	POSIX::dup2(fileno($s), 3) or die "dup2: $!";
	$ENV{LISTEN_FDS} = 1; $ENV{LISTEN_PID} = $$;
	exec @ARGV or die "exec: $!";' "$T/act.sock" "$S" --model "$T/m.blob" --metrics-file "$T/metrics-act" --log - &
apid=$!
i=0
while [ ! -S "$T/act.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
sed -e "s|\"bin-path\" => [^,]*,||" -e "s|$T/lighttpd.sock|$T/act.sock|" "$T/lighttpd.conf" >"$T/act.conf"
lighttpd -D -f "$T/act.conf" 2>>"$T/lighttpd-error.log" &
LIGHTTPD_PID=$!
i=0
while ! curl -s -o /dev/null --max-time 2 "$URL/health" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
code=$(post /score fixtures/test_data/images_azureml.json application/json)
if [ "$code" = 200 ] && cmp -s "$T/out" "$T/want2.json"; then ok "LISTEN_FDS (systemd socket activation): the same bytes"
else not_ok "LISTEN_FDS (systemd socket activation): the same bytes" "status $code" "$(head -c 200 "$T/out")"; fi
kill -TERM "$apid"
wait "$apid"; rc=$?
[ $rc -eq 0 ] && ok "socket-activated worker: SIGTERM, exit 0" || not_ok "socket-activated worker: SIGTERM, exit 0" "rc $rc"
stop_lighttpd

# The same binary as plain CGI, by hand: the same body bytes.
len=$(wc -c <fixtures/test_data/images_azureml.json)
REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$len HTTP_X_REQUEST_ID=cgi-1 \
	"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - <fixtures/test_data/images_azureml.json >"$T/cgi-out"
sed '1,/^\r$/d' "$T/cgi-out" >"$T/cgi-body"
if head -1 "$T/cgi-out" | grep -q '^Status: 200 OK' && grep -q '^x-request-id: cgi-1' "$T/cgi-out" && cmp -s "$T/cgi-body" "$T/want2.json"; then
	ok "CGI by hand: the same bytes"
else
	not_ok "CGI by hand: the same bytes" "$(head -c 400 "$T/cgi-out")"
fi
# The kernels: named from the CPU, the same in CGI as in the FastCGI
# workers above; a user's OPENBLAS_CORETYPE wins (SandyBridge: AVX only,
# so any x86-64 CPU with AVX runs it).
blas_of() { sed -n 's/.*"blas": "\([^"]*\)".*/\1/p' "$1"; }
REQUEST_METHOD=GET REQUEST_URI=/version "$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - >"$T/cgi-out"
auto=$(blas_of "$T/cgi-out")
[ -n "$auto" ] && [ "$auto" = "$(blas_of "$T/version")" ] && ok "GET /version names the kernels, the same in CGI as in FastCGI" ||
	not_ok "GET /version names the kernels, the same in CGI as in FastCGI" "CGI '$auto', FastCGI '$(blas_of "$T/version")'"
if grep -qw avx /proc/cpuinfo 2>/dev/null; then
	OPENBLAS_CORETYPE=SandyBridge REQUEST_METHOD=GET REQUEST_URI=/version \
		"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - >"$T/cgi-out"
	[ "$(blas_of "$T/cgi-out" | tr A-Z a-z)" = sandybridge ] && ok "OPENBLAS_CORETYPE set by the user wins" ||
		not_ok "OPENBLAS_CORETYPE set by the user wins" "$(tail -c 200 "$T/cgi-out")"
fi
REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$((len + 10)) \
	"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - <fixtures/test_data/images_azureml.json >"$T/cgi-out"
head -1 "$T/cgi-out" | grep -q '^Status: 400' && grep -q "ended after $len of the $((len + 10)) bytes" "$T/cgi-out" &&
	ok "CGI: CONTENT_LENGTH longer than the body" || not_ok "CGI: CONTENT_LENGTH longer than the body" "$(head -c 300 "$T/cgi-out")"
REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$((len - 10)) \
	"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - <fixtures/test_data/images_azureml.json >"$T/cgi-out"
head -1 "$T/cgi-out" | grep -q '^Status: 400' && grep -q 'malformed JSON' "$T/cgi-out" &&
	ok "CGI: CONTENT_LENGTH shorter than the body" || not_ok "CGI: CONTENT_LENGTH shorter than the body" "$(head -c 300 "$T/cgi-out")"
# Oversize: the default cap (64 MiB) is refused from CONTENT_LENGTH, before
# reading; a lowered cap refuses the tutorial's 26 KB body.
REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$((64 * 1048576 + 1)) \
	"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - <fixtures/test_data/images_azureml.json >"$T/cgi-out"
head -1 "$T/cgi-out" | grep -q '^Status: 413' && grep -q '"PAYLOAD_TOO_LARGE"' "$T/cgi-out" &&
	grep -q 'the limit is 67108864' "$T/cgi-out" && ok "CGI: a body over 64 MiB: 413 before reading it" ||
	not_ok "CGI: a body over 64 MiB: 413" "$(head -c 300 "$T/cgi-out")"
REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$len \
	"$S" --model "$T/m.blob" --max-body 4096 --metrics-file "$T/metrics-cgi" --log - <fixtures/test_data/images_azureml.json >"$T/cgi-out"
head -1 "$T/cgi-out" | grep -q '^Status: 413' && grep -q 'the limit is 4096' "$T/cgi-out" &&
	ok "CGI: --max-body 4096: 413 for the 26 KB request" || not_ok "CGI: --max-body 4096: 413" "$(head -c 300 "$T/cgi-out")"
REQUEST_METHOD=GET REQUEST_URI=/nope "$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - </dev/null >"$T/cgi-out"
head -1 "$T/cgi-out" | grep -q '^Status: 404' && ok "CGI 404" || not_ok "CGI 404" "$(head -3 "$T/cgi-out")"
out=$("$S" --model "$T/nonexistent.blob" --cgi 2>&1 </dev/null); rc=$?
[ $rc -ne 0 ] && printf '%s' "$out" | grep -q 'nonexistent.blob' && ok "a missing blob stops start-up in one line" || not_ok "a missing blob stops start-up" "$out"
printf 'garbage' >"$T/bad.blob"
out=$("$S" --model "$T/bad.blob" --cgi 2>&1 </dev/null); rc=$?
[ $rc -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && ok "a corrupt blob is refused in one line" || not_ok "a corrupt blob is refused in one line" "$out"
check "--help" "$S" --help

# request_timeout_ms: past it, 408 (the 200-row body takes longer than 1 ms).
len=$(wc -c <fixtures/test_data/batch200_azureml_split.json)
REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$len \
	"$S" --model "$T/m.blob" --metrics-file "$T/metrics-cgi" --log - --timeout-ms 1 \
	<fixtures/test_data/batch200_azureml_split.json >"$T/cgi-out"
head -1 "$T/cgi-out" | grep -q '^Status: 408' && grep -q 'request_timeout_ms (1 ms)' "$T/cgi-out" &&
	ok "408 past request_timeout_ms" || not_ok "408 past request_timeout_ms" "$(head -c 300 "$T/cgi-out")"

# SIGTERM: the process stops accepting and exits 0.
"$S" --model "$T/m.blob" --socket "$T/term.sock" --metrics-file "$T/metrics-cgi" --log - &
spid=$!
i=0
while [ ! -S "$T/term.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM "$spid"
wait "$spid"; rc=$?
[ -S "$T/term.sock" ] && [ $rc -eq 0 ] && ok "SIGTERM: exit 0" || not_ok "SIGTERM: exit 0" "rc $rc"

# A probabilities deployment answers softmax rows, also over V2.
"$P" -q --name p --postprocess probabilities fixtures/model "$T/p.blob"
REQUEST_METHOD=POST REQUEST_URI=/v2/models/p/infer CONTENT_TYPE=application/json CONTENT_LENGTH=$(wc -c <"$T/v2.json") \
	"$S" --model "$T/p.blob" --metrics-file "$T/metrics-cgi" --log - <"$T/v2.json" >"$T/cgi-out"
tr '\t' '\n' <fixtures/expected/images_probabilities.tsv >"$T/wantp"
sed '1,/^\r$/d' "$T/cgi-out" | grep -oE -- '-?[0-9][-+.0-9eE]*' | tail -n 20 >"$T/got"
head -1 "$T/cgi-out" | grep -q '^Status: 200' && close_to "$T/got" "$T/wantp" &&
	ok "V2 with probabilities post-processing" || not_ok "V2 with probabilities post-processing" "$(head -c 300 "$T/cgi-out")"
