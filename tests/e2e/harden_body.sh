# Issue 15, the worker side of bodies: credentials before the body, the
# request's deadline over reading and decoding it, a worker free at once
# after an abandoned body, and memory given back after a large request.
# score.fcgi listens on 127.0.0.1 and tests/e2e/fcgi_client.pl speaks
# FastCGI to it directly, so each test controls which records are sent and
# when; CGI is score.fcgi with a slow pipe on stdin.
. tests/e2e/lib.sh
. tests/e2e/lib_servers.sh
. tests/e2e/lib_ws.sh
S=$BUILD/score.fcgi

fcgi() { perl tests/e2e/fcgi_client.pl "$@"; }
status_of() { sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$1"; }
elapsed_of() { sed -n 's/^elapsed //p' "$1"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
# le A B: A <= B, as decimals
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'; }

# start_fcgi VAR ARGS...: score.fcgi ARGS on a free loopback port, once GET
# /health answers; VAR gets HOST:PORT and FCGI_PID the process.
start_fcgi() {
	var=$1
	shift
	for try in 1 2 3 4 5; do
		port=$(free_port) || continue
		"$S" --socket "127.0.0.1:$port" "$@" 2>>"$T/score.err" &
		FCGI_PID=$!
		track_pid "$FCGI_PID"
		i=0
		while [ $i -lt 100 ] && kill -0 "$FCGI_PID" 2>/dev/null; do
			if fcgi -w 2 -p REQUEST_URI=/health "127.0.0.1:$port" 2>/dev/null | grep -q '^Status: 200'; then
				eval "$var=127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 "$FCGI_PID" 2>/dev/null && return 1
	done
	return 1
}

# answers ADDR: GET /health is answered within 2 s.
answers() { fcgi -w 2 -p REQUEST_URI=/health "$1" 2>/dev/null | grep -q '^Status: 200'; }

"$BUILD/pth2blob" -q fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }
make_endpoint_1 || { not_ok "the tutorial's endpoint 1"; exit 1; }
"$SP" online-deployment update -n blue -e endpoint-online-1 --set request_settings.request_timeout_ms=1500 \
	>/dev/null || { not_ok "request_timeout_ms 1500 for blue"; exit 1; }
start_fcgi WS --workspace "$W" --log "$T/ws.log" --metrics-file "$T/ws.metrics" ||
	{ not_ok "score.fcgi --workspace on a loopback port"; exit 1; }
ok "score.fcgi --workspace on a loopback port, blue's request_timeout_ms 1500"
head -c 65536 /dev/zero | tr '\0' ' ' >"$T/64k"

# (1) A keyless request to each route of a key endpoint, announcing 50 MB:
# the client sends 1000 bytes, then a byte every 0.5 s, on and on after the
# answer, as a proxy forwarding a slow upload does.  The 401 comes at
# once, and the worker takes the next request at once: it neither reads
# the rest (libfcgi's close would, for as long as bytes come within 2 s)
# nor waits on a kept connection (FCGI_KEEP_CONN, as nginx's
# fastcgi_keep_conn or Apache's enablereuse send).
keyless() {   # NAME METHOD PATH [fcgi_client options]
	name=$1 method=$2 path=$3
	shift 3
	: >"$T/k.out"
	: >"$T/k.err"
	perl tests/e2e/fcgi_client.pl -c -w 6 -s 1000 -t 0.5 -b "$T/64k" -p REQUEST_METHOD="$method" -p REQUEST_URI="$path" \
		-p CONTENT_LENGTH=52428800 -p CONTENT_TYPE=application/json "$@" "$WS" >"$T/k.out" 2>"$T/k.err" &
	held=$!
	i=0
	until grep -q '^elapsed' "$T/k.err" || [ $i -ge 20 ]; do sleep 0.1; i=$((i + 1)); done
	t=$(elapsed_of "$T/k.err")
	if answers "$WS"; then next=answered; else next="not answered within 2 s"; fi
	if [ "$next" = answered ] && [ "$(status_of "$T/k.out")" = 401 ] && le "$t" 1; then
		ok "$name: 401 in ${t}s with 1000 of 52428800 bytes sent; the worker takes the next request"
	else
		not_ok "$name: 401 at once, then the next request" "status $(status_of "$T/k.out") after ${t:-no answer}s;" \
			"the next request: $next" "$(head -c 300 "$T/k.out")"
	fi
	kill "$held" 2>/dev/null
	wait "$held" 2>/dev/null
}
E=/endpoint-online-1
keyless "keyless POST $E/score" POST $E/score
keyless "keyless POST $E/invocations" POST $E/invocations
keyless "keyless POST $E/v2/models/model-online-1/infer" POST $E/v2/models/model-online-1/infer
keyless "keyless GET $E/swagger.json" GET $E/swagger.json
keyless "a wrong key, POST $E/score" POST $E/score -p "HTTP_AUTHORIZATION=Bearer not-the-key"
keyless "keyless POST $E/score, FCGI_KEEP_CONN" POST $E/score -k

# (2) A keyed body sent one byte a second: 408 once blue's 1500 ms are up
# (within 2 s more), and the worker answers the next request correctly.
fcgi -t 1 -w 8 -b "$REQ" -p REQUEST_METHOD=POST -p REQUEST_URI=$E/score -p CONTENT_TYPE=application/json \
	-p "HTTP_AUTHORIZATION=Bearer $KEY" "$WS" >"$T/slow.out" 2>"$T/slow.err"
t=$(elapsed_of "$T/slow.err")
if [ "$(status_of "$T/slow.out")" = 408 ] && grep -q 'reading the body took longer than request_timeout_ms (1500 ms)' \
	"$T/slow.out" && le 1.4 "$t" && le "$t" 3.5; then
	ok "a body at 1 byte/s: 408 DEADLINE_EXCEEDED after ${t}s (request_timeout_ms 1500)"
else
	not_ok "a body at 1 byte/s: 408 after request_timeout_ms" "status $(status_of "$T/slow.out") after ${t:-no answer}s" \
		"$(head -c 300 "$T/slow.out")"
fi
fcgi -w 5 -b "$REQ" -p REQUEST_METHOD=POST -p REQUEST_URI=$E/score -p CONTENT_TYPE=application/json \
	-p "HTTP_AUTHORIZATION=Bearer $KEY" "$WS" >"$T/next.out" 2>/dev/null
sed '1,/^\r$/d' "$T/next.out" >"$T/next.json"
if [ "$(status_of "$T/next.out")" = 200 ] && logits_like "$T/next.json" fixtures/expected/images_logits.json; then
	ok "then the same worker scores the tutorial's request: torch's logits"
else
	not_ok "then the same worker scores the tutorial's request" "$(head -c 300 "$T/next.out")"
fi

# CGI: the same slow body on stdin, --timeout-ms 1500.
{ i=0; while [ $i -lt 20 ]; do printf ' '; sleep 1; i=$((i + 1)); done; } 2>/dev/null | {
	t0=$(now)
	REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=1000 \
		timeout -s KILL 8 "$S" --cgi --model "$T/m.blob" --timeout-ms 1500 --log - --metrics off \
		--metrics-file "$T/cgi.metrics" >"$T/cgi.out" 2>"$T/cgi.err"
	awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }' >"$T/cgi.t"
}
t=$(cat "$T/cgi.t")
if [ "$(status_of "$T/cgi.out")" = 408 ] && grep -q 'reading the body took longer' "$T/cgi.out" && le "$t" 3.5; then
	ok "CGI, a body at 1 byte/s: 408 after ${t}s (--timeout-ms 1500)"
else
	not_ok "CGI, a body at 1 byte/s: 408 after --timeout-ms" "status $(status_of "$T/cgi.out") after ${t}s" \
		"$(head -c 300 "$T/cgi.out")" "$(head -c 300 "$T/cgi.err")"
fi

# A valid request of 64 MiB: 42,000-odd rows of 784 one-digit values, the
# shape that grows the decoder's buffers the most per byte.
perl -e 'my $row = "[" . join(",", map { $_ % 2 } 0 .. 783) . "]";
	my $n = int((64 * 1024 * 1024 - 20) / (length($row) + 1));
	print "{\"input_data\": [", join(",", ($row) x $n), "]}";' >"$T/big.json"

# --model, timeout ample: the 64 MiB request scores, then the worker's RSS
# (after one more 2-row request) is within 2x its idle figure (after a
# 2-row request), and the worker still answers correctly.  A 415 before the body, with the connection
# kept, leaves the worker free too.
start_fcgi M --model "$T/m.blob" --timeout-ms 60000 --log "$T/m.log" --metrics-file "$T/m.metrics" ||
	{ not_ok "score.fcgi --model on a loopback port"; exit 1; }
MPID=$FCGI_PID
perl tests/e2e/fcgi_client.pl -c -k -w 6 -s 1000 -t 0.5 -b "$T/64k" -p REQUEST_METHOD=POST -p REQUEST_URI=/score \
	-p CONTENT_LENGTH=52428800 -p CONTENT_TYPE=text/plain "$M" >"$T/k.out" 2>"$T/k.err" &
held=$!
sleep 0.5
if answers "$M" && [ "$(status_of "$T/k.out")" = 415 ]; then
	ok "--model: 415 before the body, connection kept; the worker takes the next request"
else
	not_ok "--model: 415 before the body, then the next request" "$(head -c 300 "$T/k.out")"
fi
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null
post_m() {   # FILE OUT
	fcgi -w 120 -b "$1" -p REQUEST_METHOD=POST -p REQUEST_URI=/score -p CONTENT_TYPE=application/json "$M" \
		>"$2" 2>"$2.err"
}
post_m "$REQ" "$T/m1.out"
idle=$(rss_kb "$MPID")
post_m "$T/big.json" "$T/m2.out"
full=$(elapsed_of "$T/m2.out.err")
post_m "$REQ" "$T/m3.out"   # app_after gives the memory back once the answer is out: after it, surely
after=$(rss_kb "$MPID")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MPID/status")
sed '1,/^\r$/d' "$T/m3.out" >"$T/m3.json"
if grep -q __asan_init "$S"; then
	why="AddressSanitizer's allocator keeps freed memory (RSS $idle kB, then $after kB)"
	ok "RSS after a 64 MiB request # SKIP $why"
elif [ "$(status_of "$T/m2.out")" = 200 ] && [ -n "$idle" ] && [ "$after" -le $((2 * idle)) ]; then
	ok "RSS after a 64 MiB request: $after kB, idle $idle kB (peak $hwm kB, request ${full}s)"
else
	not_ok "RSS after a 64 MiB request within 2x idle" "status $(status_of "$T/m2.out"), RSS idle $idle kB," \
		"after $after kB, peak $hwm kB" "$(head -c 300 "$T/m2.out")"
fi
if [ "$(status_of "$T/m3.out")" = 200 ] && logits_like "$T/m3.json" fixtures/expected/images_logits.json; then
	ok "after the 64 MiB request the worker scores the tutorial's request: torch's logits"
else
	not_ok "after the 64 MiB request the worker scores the tutorial's request" "$(head -c 300 "$T/m3.out")"
fi

# (3) The same 64 MiB body against --timeout-ms 300, less than decoding it
# takes: 408 in well under the full request's time (the decoders look at
# the deadline every megabyte), not after decoding all of it.
start_fcgi Q --model "$T/m.blob" --timeout-ms 300 --log "$T/q.log" --metrics-file "$T/q.metrics" ||
	{ not_ok "score.fcgi --model --timeout-ms 300 on a loopback port"; exit 1; }
fcgi -w 120 -b "$T/big.json" -p REQUEST_METHOD=POST -p REQUEST_URI=/score -p CONTENT_TYPE=application/json "$Q" \
	>"$T/q.out" 2>"$T/q.err"
t=$(elapsed_of "$T/q.err")
if [ "$(status_of "$T/q.out")" = 408 ] && le "$t" "$(awk -v f="$full" 'BEGIN { print f / 2 }')" && answers "$Q"; then
	ok "64 MiB against request_timeout_ms 300: 408 after ${t}s, the full request takes ${full}s"
else
	not_ok "64 MiB against request_timeout_ms 300: 408 before decoding ends" \
		"status $(status_of "$T/q.out") after ${t:-no answer}s; the full request took ${full}s" \
		"$(head -c 300 "$T/q.out")"
fi
