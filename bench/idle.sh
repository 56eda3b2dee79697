#!/bin/sh
# bench/idle.sh BUILD_DIR [CYCLES] - scale to zero: the latency of the first
# request after score.fcgi --idle-exit has exited, against a warm request.
# Mechanism: score.fcgi --idle-exit 1 socket-activated by
# systemd-socket-activate on a Unix socket held across restarts, as
# systemd's scorepoint.socket holds it (tests/e2e/lib_activate.sh), behind
# lighttpd (mod_fastcgi connecting to that socket; lighttpd spawns
# nothing).  Each cycle waits until the process has exited, then times with
# curl the 2-row request (a new process: exec, start-up, the answer) and at
# once the same request again (the same, warm, process).  Medians over
# CYCLES (default 9).  Markdown on stdout; "name": value lines for
# results.json on fd 3.
set -eu
build=$1
cycles=${2:-9}
secs=0
cd "$(dirname "$0")/.."
# $T, $T/m.blob, $T/rows2.json; cleanup stops $pid and $pid2.
. "$PWD/bench/lib.sh"
. "$PWD/tests/e2e/lib_activate.sh"

activate_held "$T/idle.sock" "$T/act.log" "$PWD/$build/score.fcgi" --model "$T/m.blob" --idle-exit 1 --log - \
	--metrics-file "$T/idle.metrics"
pid2=$ACT_PID
for try in 1 2 3 4 5 6 7 8; do
	port=$(free_port)
	cat >"$T/idle.conf" <<CONF
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$T"
server.errorlog = "$T/idle-error.log"
fastcgi.server = ( "/" => (( "socket" => "$T/idle.sock", "check-local" => "disable" )) )
CONF
	lighttpd -D -f "$T/idle.conf" 2>>"$T/idle-error.log" &
	pid=$!
	i=0
	until curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/health" || [ $i -ge 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$pid" 2>/dev/null && break
done
kill -0 "$pid" 2>/dev/null ||
	{ echo "bench/idle.sh: lighttpd did not start: $(tail -3 "$T/idle-error.log")" >&2; exit 1; }
# post: the 2-row request's time to its complete answer, in ms; fails on a non-200.
post() {
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
		--data-binary @"$T/rows2.json" "http://127.0.0.1:$port/score" |
		awk '$1 != 200 { exit 1 } { printf "%.2f\n", $2 * 1000 }'
}
# gone PID: that process has exited (its "exit PID STATUS" line).
gone() { grep -q "^exit $1 " "$T/act.log"; }
started() { sed -n 's/^start //p' "$T/act.log" | tail -n 1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'; }

post >/dev/null
: >"$T/cold"
: >"$T/warm"
for c in $(seq "$cycles"); do
	served=$(started)
	i=0
	until gone "$served" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	gone "$served" ||
		{ echo "bench/idle.sh: score.fcgi (pid $served) did not exit after --idle-exit 1" >&2; exit 1; }
	post >>"$T/cold"
	post >>"$T/warm"
done
cold=$(median <"$T/cold") warm=$(median <"$T/warm")
starts=$(grep -c '^start' "$T/act.log")
echo "| mechanism | cycles | first request after an idle exit, median (ms) | warm request, median (ms)" \
	"| difference (ms) |"
echo "|---|---:|---:|---:|---:|"
echo "| systemd-socket-activate, socket held; lighttpd in front; --idle-exit 1 | $cycles | $cold | $warm |" \
	"$(awk -v a="$cold" -v b="$warm" 'BEGIN { printf "%.2f", a - b }') |"
echo
echo "$starts score.fcgi processes started for $((2 * cycles + 1)) requests."
printf '"idle_exit_first_request_ms": %s,\n"idle_exit_warm_request_ms": %s,\n' "$cold" "$warm" >&3
