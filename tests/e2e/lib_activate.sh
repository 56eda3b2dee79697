# tests/e2e/lib_activate.sh - socket activation with the socket held across
# restarts, as systemd's scorepoint.socket (Accept=no) holds it, made of
# systemd-socket-activate alone (no systemd runs as PID 1 here).  Sourced
# after lib.sh, by tests/e2e/idle_exit.sh and bench/idle.sh.
#
#   activate_held ADDR LOG COMMAND...
#       in the background: systemd-socket-activate listens on ADDR
#       (127.0.0.1:PORT or a socket path) and, at the first connection,
#       execs a loop that keeps the socket open on fd 3 and, for each
#       process, runs another systemd-socket-activate that takes the socket
#       from LISTEN_FDS, waits until a connection is pending and execs
#       COMMAND with the socket on fd 3, LISTEN_FDS=1 and LISTEN_PID its
#       pid (systemd-socket-activate passes only PATH, HOME, USER, TERM and
#       LISTEN_*: give settings as options).  When COMMAND exits, the next
#       connection starts it again; connections that come meanwhile wait in
#       the socket's backlog.  LOG gets "start PID" and "exit PID STATUS"
#       lines; ACT_PID is the supervisor, whom SIGTERM stops with its
#       process.  The caller waits until ADDR answers.
ACT_LOOP='trap "kill \$p 2>/dev/null; wait \$p; exit 0" TERM
while :; do
	sh -c "export LISTEN_PID=\$\$; exec systemd-socket-activate \"\$@\"" sh "$@" &
	p=$!
	echo "start $p" >>"$ACT_LOG"
	wait $p
	echo "exit $p $?" >>"$ACT_LOG"
done'

activate_held() {
	ah_addr=$1 ah_log=$2
	shift 2
	systemd-socket-activate -l "$ah_addr" -E "ACT_LOG=$ah_log" sh -c "$ACT_LOOP" sh "$@" >>"$ah_log.out" 2>&1 &
	ACT_PID=$!
}
