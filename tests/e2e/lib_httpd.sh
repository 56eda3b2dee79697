# tests/e2e/lib_httpd.sh - a real lighttpd on a loopback ephemeral port,
# with score.fcgi as its mod_fastcgi backend.  Sourced after lib.sh.
#
#   start_lighttpd BLOB [PROCS]   sets URL (http://127.0.0.1:PORT); the
#                                 request log is $T/requests.log
#   start_lighttpd "--workspace DIR" [PROCS]
#                                 the same for a workspace (its own log)
#   stop_lighttpd                 also run on exit

LIGHTTPD_PID=
stop_lighttpd() {
	if [ -n "$LIGHTTPD_PID" ]; then
		kill "$LIGHTTPD_PID" 2>/dev/null
		# lighttpd stops its FastCGI children; wait for all of them.
		i=0
		while kill -0 "$LIGHTTPD_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$LIGHTTPD_PID" 2>/dev/null
		LIGHTTPD_PID=
	fi
	pkill -f "score.fcgi --(model|workspace) $T/" 2>/dev/null || true
}
trap 'stop_lighttpd; rm -rf "$T"' EXIT INT TERM

start_lighttpd() {
	procs=${2:-2}
	case $1 in
	--*) serve="$1" ;;
	*) serve="--model $1 --log $T/requests.log" ;;
	esac
	mkdir -p "$T/www"
	for try in 1 2 3 4 5 6 7 8; do
		# An ephemeral port from the kernel's range, checked by binding.
		PORT=$(( ($(od -An -N2 -tu2 /dev/urandom) % 20000) + 30000 ))
		cat >"$T/lighttpd.conf" <<CONF
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $PORT
server.document-root = "$T/www"
server.errorlog = "$T/lighttpd-error.log"
server.max-request-size = 262144
fastcgi.server = ( "/" => ((
	"socket" => "$T/fcgi.sock",
	"bin-path" => "$PWD/$BUILD/score.fcgi $serve --metrics-file $T/metrics",
	"bin-environment" => ( "OPENBLAS_NUM_THREADS" => "1" ),
	"max-procs" => $procs,
	"min-procs" => $procs,
	"check-local" => "disable"
)) )
CONF
		lighttpd -D -f "$T/lighttpd.conf" 2>>"$T/lighttpd-error.log" &
		LIGHTTPD_PID=$!
		URL="http://127.0.0.1:$PORT"
		i=0
		while [ $i -lt 100 ]; do
			if curl -s -o /dev/null --max-time 2 "$URL/health"; then
				return 0
			fi
			kill -0 "$LIGHTTPD_PID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		stop_lighttpd
	done
	echo "# lighttpd did not start:" && sed 's/^/#   /' "$T/lighttpd-error.log" | tail -20
	return 1
}
