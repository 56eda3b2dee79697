# Issue 21, the buffered request log (handler/log.h): a FastCGI worker
# whose log is a regular file keeps its lines in memory and writes them in
# one write(2) of whole lines, at most LOG_FLUSH_SECONDS (1 s) late, and
# before it exits.  Every request's line is in the workspace's log and in
# --log FILE within ~2 s, every line is there after SIGTERM, and under load
# from several workers no line is torn (each one parses as JSON).
. tests/e2e/lib.sh
. tests/e2e/lib_ws.sh
. tests/e2e/lib_httpd.sh
S=$BUILD/score.fcgi

# has_ids LOG PREFIX N [SECONDS]: the lines of x-request-id PREFIX-1..N are
# all in LOG within SECONDS (default 3); prints what is missing otherwise.
has_ids() {
	hl_i=0
	while [ $hl_i -lt "${4:-3}0" ]; do
		hl_n=$(grep -c "\"request_id\": \"$2-[0-9]*\"" "$1" 2>/dev/null)
		[ "${hl_n:-0}" -ge "$3" ] && return 0
		sleep 0.1
		hl_i=$((hl_i + 1))
	done
	echo "$hl_n of $3 lines of $2 in $1"
	return 1
}
# all_json LOG: every line parses as a JSON object.
all_json() {
	/usr/bin/python3 -c '
import json, sys
bad = 0
for n, line in enumerate(open(sys.argv[1]), 1):
    try:
        assert isinstance(json.loads(line), dict)
    except Exception:
        bad += 1
        print("line %d: %r" % (n, line[:200]))
sys.exit(1 if bad else 0)' "$1"
}
send() {   # send URL PREFIX N [curl options]
	sd_url=$1 sd_p=$2 sd_n=$3
	shift 3
	sd_i=1
	while [ $sd_i -le "$sd_n" ]; do
		curl -s -o /dev/null --max-time 10 -H "x-request-id: $sd_p-$sd_i" -H 'Content-Type: application/json' \
			--data-binary @$REQ "$@" "$sd_url" || return 1
		sd_i=$((sd_i + 1))
	done
}

"$BUILD/pth2blob" -q fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }

# ---- --log FILE, two workers under lighttpd ----
if start_lighttpd "$T/m.blob" 2; then
	send "$URL/score" one 20 && out=$(has_ids "$T/requests.log" one 20) &&
		ok "--log FILE: every request's line within ~2 s" ||
		not_ok "--log FILE: every request's line within ~2 s" "$out"
	# Load from 4 clients on the 2 workers: every line whole.
	pids=
	for c in 1 2 3 4; do
		send "$URL/score" "load$c" 100 &
		pids="$pids $!"
	done
	wait $pids   # not lighttpd
	out=$(for c in 1 2 3 4; do has_ids "$T/requests.log" "load$c" 100 || exit 1; done) &&
		out=$(all_json "$T/requests.log") && ok "--log FILE under load: 400 lines, none torn" ||
		not_ok "--log FILE under load: 400 lines, none torn" "$out"
	stop_lighttpd
else
	not_ok "lighttpd with --log FILE starts"
fi

# ---- the workspace's own log ----
if make_endpoint_1 && start_lighttpd "--workspace $W" 2; then
	send "$URL/endpoint-online-1/score" ws 20 -H "Authorization: Bearer $KEY" &&
		out=$(has_ids "$W/logs/requests.log" ws 20) &&
		ok "workspace log: every request's line within ~2 s" ||
		not_ok "workspace log: every request's line within ~2 s" "$out"
	out=$(all_json "$W/logs/requests.log") && ok "workspace log: every line whole" ||
		not_ok "workspace log: every line whole" "$out"
	stop_lighttpd
else
	not_ok "lighttpd with the workspace starts"
fi

# ---- SIGTERM right after the requests: nothing lost ----
for try in 1 2 3 4 5; do
	port=$(free_port)
	"$S" --socket "127.0.0.1:$port" --model "$T/m.blob" --log "$T/term.log" --metrics-file "$T/term.metrics" \
		2>"$T/term.err" &
	pid=$!
	i=0
	while [ $i -lt 50 ] && kill -0 $pid 2>/dev/null &&
		! perl tests/e2e/fcgi_client.pl -p REQUEST_METHOD=GET -p REQUEST_URI=/health "127.0.0.1:$port" \
			>/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 $pid 2>/dev/null && break
done
i=1
while [ $i -le 30 ]; do
	perl tests/e2e/fcgi_client.pl -b $REQ -p REQUEST_METHOD=POST -p REQUEST_URI=/score \
		-p CONTENT_TYPE=application/json -p HTTP_X_REQUEST_ID=term-$i "127.0.0.1:$port" >/dev/null 2>&1
	i=$((i + 1))
done
kill -TERM $pid
wait $pid
rc=$?
out=$(has_ids "$T/term.log" term 30 1) && [ $rc = 0 ] && ok "SIGTERM: exit 0 with all 30 lines written" ||
	not_ok "SIGTERM: exit 0 with all 30 lines written" "status $rc" "$out" "$(cat "$T/term.err")"
