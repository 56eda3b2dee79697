# Issue 18, scale to zero: score.fcgi --idle-exit SECONDS exits 0 after
# that long without a request, and the next request starts it again and
# gets the same bytes.  Socket activation is systemd-socket-activate's, with
# the socket on 127.0.0.1 held across the restarts the way systemd's
# scorepoint.socket (Accept=no) holds it (tests/e2e/lib_activate.sh), which
# logs each process's pid and exit status.  tests/e2e/fcgi_client.pl speaks
# FastCGI to the socket.  Several workers on one socket: spawn-fcgi -F 2.
. tests/e2e/lib.sh
. tests/e2e/lib_servers.sh
. tests/e2e/lib_activate.sh
S=$BUILD/score.fcgi
REQ=fixtures/test_data/images_azureml.json
IDLE=2

for c in systemd-socket-activate spawn-fcgi perl; do
	command -v $c >/dev/null || { not_ok "$c is installed (Makefile DEPS_TEST)"; exit 1; }
done
"$BUILD/pth2blob" -q fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }
now() { date +%s.%N; }
# ge A B: A >= B, as decimals
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'; }
# score ADDR OUT [fcgi_client options]: the tutorial's request; a fixed
# x-request-id so that two answers can be compared byte for byte.
score() {
	addr=$1 out=$2
	shift 2
	perl tests/e2e/fcgi_client.pl -w 30 -b $REQ -p REQUEST_METHOD=POST -p REQUEST_URI=/score \
		-p CONTENT_TYPE=application/json -p HTTP_X_REQUEST_ID=idle-exit "$@" "$addr" >"$out" 2>"$out.err"
}
status_of() { sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$1"; }

# ---- the option ----
for bad in 0 86401 2s -1; do
	check_fails "--idle-exit $bad: refused" "expected a whole number from 1 to 86400" \
		"$S" --idle-exit "$bad" --model "$T/m.blob"
done
check_fails "SCOREPOINT_IDLE_EXIT=x: refused" "--idle-exit 'x'" env SCOREPOINT_IDLE_EXIT=x "$S" --model "$T/m.blob"
out=$(REQUEST_METHOD=GET REQUEST_URI=/health "$S" --cgi --idle-exit 1 --model "$T/m.blob" 2>&1)
check_contains "CGI ignores --idle-exit: one request answered" "Status: 200" "$out"
"$S" --help | grep -q -- '--idle-exit SECONDS' && ok "--help names --idle-exit" || not_ok "--help names --idle-exit"

# ---- its own socket, the environment variable ----
port=$(free_port)
t0=$(now)
SCOREPOINT_IDLE_EXIT=1 "$S" --socket "127.0.0.1:$port" --model "$T/m.blob" --log - --metrics-file "$T/own.metrics" \
	2>"$T/own.err" &
own=$!
track_pid $own
i=0
while kill -0 $own 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $own 2>/dev/null; then
	rc="still running after 10 s"
	stop_pid $own
else
	wait $own
	rc=$?
fi
t=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
[ $rc = 0 ] && ge "$t" 1 && ok "SCOREPOINT_IDLE_EXIT=1 on --socket: exit 0 after ${t}s without a request" ||
	not_ok "SCOREPOINT_IDLE_EXIT=1 on --socket: exit 0 after 1 s without a request" "status $rc after ${t}s" \
		"$(cat "$T/own.err")"

# ---- socket activation ----
# start_activation PORT: the held socket on 127.0.0.1:PORT, score.fcgi
# --idle-exit $IDLE behind it; SERVER_PID is the supervisor, $T/sup.log
# its "start PID" and "exit PID STATUS" lines.
start_activation() {
	rm -f "$T/sup.log"
	activate_held "127.0.0.1:$1" "$T/sup.log" "$S" --model "$T/m.blob" --idle-exit $IDLE --timeout-ms 30000 \
		--log "$T/requests.log" --metrics-file "$T/sa.metrics"
	SERVER_PID=$ACT_PID
	track_pid $SERVER_PID
	wait_for score "127.0.0.1:$1" "$T/first"
}
for try in 1 2 3 4 5; do
	port=$(free_port)
	start_activation "$port" && break
	stop_tracked
done
A=127.0.0.1:$port
SUP=$SERVER_PID
starts() { grep -c '^start' "$T/sup.log"; }
last_pid() { sed -n 's/^start //p' "$T/sup.log" | tail -n 1; }
# exited PID: its exit line ("exit PID STATUS") within $IDLE + 10 s.
exited() {
	i=0
	until grep -q "^exit $1 " "$T/sup.log" 2>/dev/null || [ $i -ge $(((IDLE + 10) * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sed -n "s/^exit $1 //p" "$T/sup.log"
}

if [ "$(status_of "$T/first")" = 200 ] && grep -q '"0": -4.766' "$T/first"; then
	ok "socket activation: the first connection starts score.fcgi; 200, the tutorial's logits"
else
	not_ok "socket activation: the first connection starts score.fcgi; 200, the tutorial's logits" \
		"$(cat "$T/first" "$T/sup.log.out" 2>/dev/null | head -c 600)"
fi
p1=$(last_pid)

# The idle time restarts with each request: one every 0.25 s for 3 s
# (longer than IDLE) is all answered by the first process.
bad=0 n=0
end=$(awk -v a="$(now)" 'BEGIN { printf "%.3f", a + 3 }')
while ! ge "$(now)" "$end"; do
	score $A "$T/r" && cmp -s "$T/first" "$T/r" || bad=$((bad + 1))
	last=$(now)
	n=$((n + 1))
	sleep 0.25
done
[ $bad = 0 ] && [ "$(starts)" = 1 ] && kill -0 "$p1" 2>/dev/null &&
	ok "$n requests 0.25 s apart for 3 s: the same bytes, all from the first process (pid $p1)" ||
	not_ok "$n requests 0.25 s apart for 3 s: the same bytes, all from the first process" "$bad differ or failed" \
		"$(cat "$T/sup.log")"

# Idle: the process exits 0, no sooner than IDLE s after the last answer.
rc=$(exited "$p1")
t=$(awk -v a="$last" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
[ "$rc" = 0 ] && ! kill -0 "$p1" 2>/dev/null && ge "$t" $IDLE &&
	ok "idle for ${IDLE} s: the process exits 0 (${t}s after the last answer)" ||
	not_ok "idle for ${IDLE} s: the process exits 0" "status '$rc' after ${t}s" "$(cat "$T/sup.log")"

# The next request starts a new process and gets the same bytes.
score $A "$T/again"
p2=$(last_pid)
cmp -s "$T/first" "$T/again" && [ "$p2" != "$p1" ] && [ "$(starts)" = 2 ] &&
	ok "the next request starts score.fcgi again (pid $p2): the same bytes" ||
	not_ok "the next request starts score.fcgi again: the same bytes" "$(head -c 300 "$T/again")" \
		"$(cat "$T/sup.log")"

# A request in flight is never cut: its last 20 bytes come one every 0.15 s
# (3 s, longer than IDLE); 200, the same bytes, the same process.
score $A "$T/slow" -s $(($(wc -c <$REQ) - 20)) -t 0.15
cmp -s "$T/first" "$T/slow" && [ "$(last_pid)" = "$p2" ] && ! grep -q "^exit $p2 " "$T/sup.log" &&
	ok "a request whose body takes 3 s (longer than --idle-exit $IDLE): 200, the same bytes, not cut" ||
	not_ok "a request whose body takes 3 s: 200, not cut" "$(head -c 300 "$T/slow")" "$(cat "$T/sup.log")"

# No request lost at the edge: requests IDLE-0.2 .. IDLE+0.2 s apart, so
# that some come as the process decides to exit; each is answered, by the
# process or by the next one, which finds it in the held socket's backlog.
bad=0
for gap in 1.8 2.2 2.0 1.9 2.1 2.0 2.05 1.95; do
	sleep $gap
	score $A "$T/r" && cmp -s "$T/first" "$T/r" || bad=$((bad + 1))
done
[ $bad = 0 ] &&
	ok "8 requests 1.8-2.2 s apart, around the idle time: all answered, the same bytes ($(starts) processes)" ||
	not_ok "8 requests around the idle time: all answered" "$bad lost or different" "$(cat "$T/sup.log")"
nonzero=$(awk '/^exit/ && $3 != 0' "$T/sup.log")
[ -z "$nonzero" ] && grep -q '^exit' "$T/sup.log" && ok "every idle exit has status 0" ||
	not_ok "every idle exit has status 0" "$nonzero"
stop_pid $SUP
TRACKED_PIDS=

# ---- several workers on one socket: each exits on its own idleness ----
# Both poll() the socket and both wake at a connection; the one that loses
# the accept must go back to its wait (the socket is non-blocking), not
# block in accept() past its idle time.
mkdir -p "$T/spawn"
spawn-fcgi -s "$T/spawn/fcgi.sock" -F 2 -P "$T/spawn/pids" -- "$S" --model "$T/m.blob" --idle-exit $IDLE \
	--log - --metrics-file "$T/spawn.metrics" >"$T/spawn.out" 2>&1
pids=$(cat "$T/spawn/pids" 2>/dev/null)
for p in $pids; do track_pid "$p"; done
bad=0
for i in 1 2 3 4 5 6; do score "$T/spawn/fcgi.sock" "$T/r" && cmp -s "$T/first" "$T/r" || bad=$((bad + 1)); done
i=0
alive() { for p in $pids; do kill -0 "$p" 2>/dev/null && echo "$p"; done; }
while [ -n "$(alive)" ] && [ $i -lt $(((IDLE + 10) * 10)) ]; do sleep 0.1; i=$((i + 1)); done
[ "$(echo $pids | wc -w)" = 2 ] && [ $bad = 0 ] && [ -z "$(alive)" ] &&
	ok "spawn-fcgi -F 2 on one socket: 6 requests answered, then both workers exit after ${IDLE} s idle" ||
	not_ok "spawn-fcgi -F 2 on one socket: both workers exit when idle" \
		"pids '$pids', $bad failed, alive: $(alive)" \
		"$(cat "$T/spawn.out")"

# ---- deploy/systemd/scale-to-zero.conf ----
# systemd's own parser, with the drop-in next to copies of the units
# (SYSTEMD_UNIT_PATH makes systemd-analyze read the drop-in folder), paths
# and user (www-data) replaced as in tests/e2e/servers.sh: no output at all.
V=$T/units
mkdir -p "$V/scorepoint@.service.d"
instantiate deploy/systemd/scorepoint.socket "$V/scorepoint.socket" /run/scorepoint "$T/run" &&
	instantiate deploy/systemd/scorepoint@.service "$V/scorepoint@.service" \
		/usr/local/bin/score.fcgi "$(realpath "$S")" \
		User=scorepoint User=www-data Group=scorepoint Group=www-data &&
	ln -s scorepoint@.service "$V/scorepoint@1.service" &&
	cp deploy/systemd/scale-to-zero.conf "$V/scorepoint@.service.d/" || not_ok "copies of the units"
out=$(cd "$V" && SYSTEMD_UNIT_PATH="$V:" systemd-analyze verify ./scorepoint.socket ./scorepoint@1.service 2>&1)
rc=$?
secs=$(sed -n 's/^Environment=SCOREPOINT_IDLE_EXIT=\([0-9]*\)$/\1/p' deploy/systemd/scale-to-zero.conf)
[ $rc = 0 ] && [ -z "$out" ] && [ -n "$secs" ] && [ "$secs" -ge 1 ] && [ "$secs" -le 86400 ] &&
	ok "systemd-analyze verify: the units with scale-to-zero.conf (SCOREPOINT_IDLE_EXIT=$secs), no complaint" ||
	not_ok "systemd-analyze verify: the units with scale-to-zero.conf load with no complaint" "$out" "value '$secs'"
