#!/bin/sh
# bench/http.sh BUILD_DIR SECONDS - requests/s through a real lighttpd
# (mod_fastcgi, 2 processes, loopback) for score.fcgi against noop.fcgi,
# the transport limit, posting the tutorial's 2-image request with wrk at
# concurrency 8 and 32.  Prints a markdown table and "name value" lines
# for results.json on fd 3.
set -eu
build=$1
secs=${2:-10}
cd "$(dirname "$0")/.."
T=$(mktemp -d "${TMPDIR:-/tmp}/sp-bench.XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
"$build/pth2blob" -q --name m fixtures/model "$T/m.blob"

serve() {   # serve PROGRAM: lighttpd on a free loopback port; sets URL
	for try in 1 2 3 4 5; do
		port=$(( ($(od -An -N2 -tu2 /dev/urandom) % 20000) + 30000 ))
		cat >"$T/l.conf" <<CONF
server.modules = ( "mod_fastcgi" )
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$T"
server.errorlog = "$T/error.log"
fastcgi.server = ( "/" => (( "socket" => "$T/s.sock", "bin-path" => "$1",
	"bin-environment" => ( "OPENBLAS_NUM_THREADS" => "1" ),
	"max-procs" => 2, "min-procs" => 2, "check-local" => "disable" )) )
CONF
		lighttpd -D -f "$T/l.conf" & pid=$!
		URL="http://127.0.0.1:$port"
		for i in $(seq 50); do
			curl -s -o /dev/null -X POST --data-binary '{}' "$URL/score" && return 0
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=
	done
	return 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

run() {   # run NAME PROGRAM CONCURRENCY
	serve "$2"
	BODY=fixtures/test_data/images_azureml.json wrk -t2 -c"$3" -d"${secs}s" -s bench/post.lua "$URL/score" |
		sed -n 's/^RESULT //p'
	stop
}

echo "| program | concurrency | requests/s | p50 (ms) | p99 (ms) | non-2xx | of noop |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in 8 32; do
	n=$(run noop "$PWD/$build/bench/noop.fcgi" "$c")
	s=$(run score "$PWD/$build/score.fcgi --model $T/m.blob --log - --metrics-file $T/metrics" "$c")
	nr=$(echo "$n" | sed 's/.*rps=\([0-9.]*\).*/\1/')
	for line in "noop.fcgi:$n" "score.fcgi:$s"; do
		name=${line%%:*} r=${line#*:}
		rps=$(echo "$r" | sed 's/.*rps=\([0-9.]*\).*/\1/')
		p50=$(echo "$r" | sed 's/.*p50_ms=\([0-9.]*\).*/\1/')
		p99=$(echo "$r" | sed 's/.*p99_ms=\([0-9.]*\).*/\1/')
		bad=$(echo "$r" | sed 's/.*non2xx=\([0-9]*\).*/\1/')
		echo "| $name | $c | $rps | $p50 | $p99 | $bad | $(awk -v a="$rps" -v b="$nr" 'BEGIN { printf "%.0f%%", 100 * a / b }') |"
		key=$(echo "$name" | cut -d. -f1)
		printf '"http_%s_c%s_rps": %s,\n"http_%s_c%s_p50_ms": %s,\n"http_%s_c%s_p99_ms": %s,\n' \
			"$key" "$c" "$rps" "$key" "$c" "$p50" "$key" "$c" "$p99" >&3
	done
done
