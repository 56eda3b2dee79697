# tests/e2e/lib_httpd.sh - a real lighttpd on a loopback ephemeral port,
# with score.fcgi (or any FastCGI program) as its mod_fastcgi backend: the
# one lighttpd test configuration, used by tests/e2e, tests/soak and bench/.
# Sourced after lib.sh.
#
#   start_lighttpd BLOB [PROCS]   sets URL (http://127.0.0.1:PORT); the
#                                 request log is $T/requests.log
#   start_lighttpd "--workspace DIR" [PROCS]
#                                 the same for a workspace (its own log)
#   stop_lighttpd                 also run on exit
#   lighttpd_up NAME BIN-PATH [PROCS]
#       what start_lighttpd runs: lighttpd on a free loopback port with
#       PROCS (default 2) FastCGI processes of BIN-PATH (a command line,
#       OPENBLAS_NUM_THREADS=1), its files $T/NAME.conf, $T/NAME.sock and
#       $T/NAME-error.log; waits (at most 10 s a try, 8 tries) until it
#       answers.  Sets URL, PORT and LIGHTTPD_PID (lighttpd itself, whose
#       children are the FastCGI processes).  Several may run at once under
#       different NAMEs; the caller stops each (stop_pid).  Non-zero if it
#       never answered.
LIGHTTPD_PID=
stop_lighttpd() {
	if [ -n "$LIGHTTPD_PID" ]; then
		# lighttpd stops its FastCGI children.
		stop_pid "$LIGHTTPD_PID"
		LIGHTTPD_PID=
	fi
	pkill -f "score.fcgi --(model|workspace) $T/" 2>/dev/null || true
}
trap 'stop_lighttpd; rm -rf "$T"' EXIT INT TERM

lighttpd_up() {
	lh_name=$1 lh_bin=$2 lh_procs=${3:-2}
	mkdir -p "$T/www"
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$(free_port)
		cat >"$T/$lh_name.conf" <<CONF
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $PORT
server.document-root = "$T/www"
server.errorlog = "$T/$lh_name-error.log"
server.max-request-size = 262144
fastcgi.server = ( "/" => ((
	"socket" => "$T/$lh_name.sock",
	"bin-path" => "$lh_bin",
	"bin-environment" => ( "OPENBLAS_NUM_THREADS" => "1" ),
	"max-procs" => $lh_procs,
	"min-procs" => $lh_procs,
	"check-local" => "disable"
)) )
CONF
		rm -f "$T/$lh_name.sock"*
		lighttpd -D -f "$T/$lh_name.conf" 2>>"$T/$lh_name-error.log" &
		LIGHTTPD_PID=$!
		URL="http://127.0.0.1:$PORT"
		i=0
		while [ $i -lt 100 ]; do
			curl -s -o /dev/null --max-time 2 "$URL/health" && return 0
			kill -0 "$LIGHTTPD_PID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		stop_pid "$LIGHTTPD_PID"
	done
	LIGHTTPD_PID=
	return 1
}

start_lighttpd() {
	case $1 in
	--*) serve="$1" ;;
	*) serve="--model $1 --log $T/requests.log" ;;
	esac
	lighttpd_up lighttpd "$PWD/$BUILD/score.fcgi $serve --metrics-file $T/metrics" "${2:-2}" && return 0
	stop_lighttpd
	echo "# lighttpd did not start:" && sed 's/^/#   /' "$T/lighttpd-error.log" | tail -20
	return 1
}
