#!/bin/sh
# scorepoint-entrypoint - the container's entry point: writes lighttpd's
# config from the environment, then runs lighttpd in the foreground with
# score.fcgi as its mod_fastcgi backend serving the workspace.  With
# arguments, runs them instead:
#   docker run --rm IMAGE scorepoint online-endpoint list
#
# Environment (defaults are the container's; tests/e2e/deploy_files.sh
# overrides the paths to run this script outside a container):
#   PORT                   HTTP port (8080; Knative and Cloud Run set it)
#   WORKERS                score.fcgi processes (the CPUs the cgroup allows)
#   SCOREPOINT_BIND        listening address (0.0.0.0)
#   SCOREPOINT_WORKSPACE   the workspace served (/workspace)
#   SCOREPOINT_RUN_DIR     lighttpd's config, the FastCGI sockets, the
#                          metrics file (/run/scorepoint; any writable dir)
#   SCOREPOINT_SCORE_FCGI  the handler (score.fcgi on PATH)
#   SCOREPOINT_LOG         score.fcgi's JSON request log (/dev/stderr; '-'
#                          for none): the workspace may be read-only
#   SCOREPOINT_MAX_BODY    largest request body in bytes (67108864)
#   SCOREPOINT_MAX_CONNECTIONS  lighttpd's connections at once (512)
#   SCOREPOINT_IDLE_TIMEOUT     seconds without a byte from a client before
#                          lighttpd drops it while reading its request (20)
#   OPENBLAS_NUM_THREADS   OpenBLAS threads per worker (1)
#   TMPDIR                 lighttpd's temporary files: large answers a slow
#                          client has not taken yet (/tmp); request bodies
#                          are streamed to score.fcgi, never written there
#   LIGHTTPD               the lighttpd binary (lighttpd on PATH)
# Every other SCOREPOINT_* variable reaches score.fcgi (score.fcgi --help).
#
# SIGTERM and SIGINT stop gracefully: lighttpd stops accepting, answers the
# requests in flight (8 s at most), stops its score.fcgi workers and exits
# 0.  SIGHUP reopens lighttpd's logs.
set -eu

if [ $# -gt 0 ]; then
	exec "$@"
fi

fail() {
	echo "scorepoint-entrypoint: $*" >&2
	exit 2
}

# whole NAME VALUE MIN MAX: VALUE is a whole number in [MIN, MAX].
whole() {
	case $2 in
	'' | *[!0-9]*) fail "$1=$2: not a whole number" ;;
	esac
	[ ${#2} -le 15 ] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || fail "$1=$2: use $3 to $4"
}

# safe NAME VALUE: VALUE goes into lighttpd's config and bin-path, which
# splits on spaces, so it may hold no space, quote or backslash.
safe() {
	case $2 in
	'' | *[!A-Za-z0-9._/:+@=-]*) fail "$1='$2': use a path of letters, digits and ._/:+@=-" ;;
	esac
}

# The CPUs this container may use: its cgroup's CPU quota rounded up, else
# the CPUs it may run on.
cpus() {
	q= p=
	if [ -r /sys/fs/cgroup/cpu.max ]; then
		read -r q p </sys/fs/cgroup/cpu.max || true
	elif [ -r /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		read -r q </sys/fs/cgroup/cpu/cpu.cfs_quota_us || true
		read -r p </sys/fs/cgroup/cpu/cpu.cfs_period_us || true
	fi
	case $q$p in
	'' | *[!0-9]*) nproc 2>/dev/null || echo 1 ;;
	*) echo $(((q + p - 1) / p)) ;;
	esac
}

port=${PORT:-8080}
workers=${WORKERS:-$(cpus)}
bind=${SCOREPOINT_BIND:-0.0.0.0}
ws=${SCOREPOINT_WORKSPACE:-/workspace}
run=${SCOREPOINT_RUN_DIR:-/run/scorepoint}
handler=${SCOREPOINT_SCORE_FCGI:-$(command -v score.fcgi || echo score.fcgi)}
log=${SCOREPOINT_LOG:-/dev/stderr}
max_body=${SCOREPOINT_MAX_BODY:-67108864}
max_conns=${SCOREPOINT_MAX_CONNECTIONS:-512}
idle=${SCOREPOINT_IDLE_TIMEOUT:-20}
tmp=${TMPDIR:-/tmp}
lighttpd=${LIGHTTPD:-lighttpd}

whole PORT "$port" 1 65535
whole WORKERS "$workers" 1 256
whole SCOREPOINT_MAX_BODY "$max_body" 1 1099511627776
whole SCOREPOINT_MAX_CONNECTIONS "$max_conns" 1 1000000
whole SCOREPOINT_IDLE_TIMEOUT "$idle" 1 3600
whole OPENBLAS_NUM_THREADS "${OPENBLAS_NUM_THREADS:-1}" 1 256
for v in "SCOREPOINT_BIND=$bind" "SCOREPOINT_WORKSPACE=$ws" "SCOREPOINT_RUN_DIR=$run" \
	"SCOREPOINT_SCORE_FCGI=$handler" "SCOREPOINT_LOG=$log" "TMPDIR=$tmp"; do
	safe "${v%%=*}" "${v#*=}"
done
[ -x "$handler" ] || fail "SCOREPOINT_SCORE_FCGI=$handler: not an executable file"

# score.fcgi must be able to read the workspace's state.yaml (mode 0600):
# run the container as the workspace's owner.  A workspace without one
# serves no endpoint until the scorepoint CLI writes it (no restart needed).
if [ -e "$ws/state.yaml" ]; then
	[ -r "$ws/state.yaml" ] || fail "$ws/state.yaml is not readable by uid $(id -u): it is mode 0600;" \
		"run the container as its owner (docker run --user $(stat -c %u:%g "$ws/state.yaml"))" \
		"or give the workspace to uid $(id -u)"
else
	echo "scorepoint-entrypoint: warning: $ws has no state.yaml: no endpoint is served until" \
		"the scorepoint CLI creates one there" >&2
fi

mkdir -p "$run/www" "$tmp"
# lighttpd's request-size limit is in KiB; score.fcgi enforces the exact one.
# Bodies are streamed to score.fcgi, which answers 401 to a request without
# a valid key before reading its body: none is written to disk.  Answers are
# taken whole from score.fcgi, which is then free.  A connection takes up
# to two file descriptors (client and worker): max-fds follows
# max-connections (lighttpd raises its soft limit up to the hard one).
# Idle times are seconds without a byte: reading a request, sending an
# answer, between requests (docs/security.md).
cat >"$run/lighttpd.conf.tmp" <<CONF
# Written by scorepoint-entrypoint; rewritten at every start.
server.modules = ( "mod_fastcgi" )
server.bind = "$bind"
server.port = $port
server.document-root = "$run/www"
server.upload-dirs = ( "$tmp" )
server.max-request-size = $(((max_body + 1023) / 1024))
server.stream-request-body = 2
server.stream-response-body = 0
server.max-connections = $max_conns
server.max-fds = $((2 * max_conns + 64))
server.max-read-idle = $idle
server.max-write-idle = 60
server.max-keep-alive-idle = 5
server.feature-flags = ( "server.graceful-shutdown-timeout" => 8 )
fastcgi.server = ( "/" => ((
	"socket" => "$run/fcgi.sock",
	"bin-path" => "$handler --workspace $ws --log $log --max-body $max_body --metrics-file $run/metrics",
	"bin-environment" => ( "OPENBLAS_NUM_THREADS" => "${OPENBLAS_NUM_THREADS:-1}" ),
	"max-procs" => $workers,
	"min-procs" => $workers,
	"check-local" => "disable"
)) )
CONF
mv "$run/lighttpd.conf.tmp" "$run/lighttpd.conf"

# lighttpd stops at once on SIGTERM, cutting the requests in flight, and
# exits 1 when it had to close connections (src/server.c); SIGINT is its
# graceful stop.  This shell stays PID 1 and turns SIGTERM (docker stop,
# Kubernetes, Cloud Run, Knative, of-watchdog) into SIGINT, then exits
# with lighttpd's status.  A second SIGTERM or SIGINT stops it at once.
"$lighttpd" -D -f "$run/lighttpd.conf" &
pid=$!
trap 'sig=1; kill -s INT "$pid" 2>/dev/null || :' TERM INT
trap 'sig=1; kill -s HUP "$pid" 2>/dev/null || :' HUP
rc=
while [ -z "$rc" ]; do
	sig=
	if wait "$pid"; then rc=0; else rc=$?; fi
	# A trap makes wait return 128+N at once; lighttpd's own status comes
	# from a wait no trap cut short (the shell keeps it until then).
	[ -n "$sig" ] && [ "$rc" -gt 128 ] && rc=
done
exit "$rc"
