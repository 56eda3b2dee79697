# tests/e2e/static.sh - score.fcgi as make builds it: linked statically
# (no dynamic loader, so a CGI request pays no symbol resolution), OpenBLAS
# running the kernels model/fwd.c names before OpenBLAS's constructor, the
# user's OPENBLAS_CORETYPE winning, no OpenBLAS thread pool unless asked
# for, and the same bytes as CGI and as FastCGI.
. tests/e2e/lib.sh
. tests/e2e/lib_servers.sh
trap 'stop_tracked; rm -rf "$T"' EXIT INT TERM
S=$BUILD/score.fcgi
unset OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS

"$BUILD/pth2blob" -q fixtures/model "$T/m.blob" || { not_ok "convert the tutorial model"; exit 1; }
body=fixtures/test_data/images_azureml.json

# ---- the binary ----
if [ "$BUILD" = build/san ] || readelf -d "$BUILD/pth2blob" 2>/dev/null | grep -q 'libasan'; then
	ok "score.fcgi has no program interpreter # SKIP the sanitizer build links dynamically"
elif readelf -lW "$S" | grep -q 'INTERP'; then
	not_ok "score.fcgi has no program interpreter" "$(readelf -lW "$S" | grep -A1 INTERP)"
else
	ok "score.fcgi has no program interpreter (static)"
fi
for p in "$S" "$BUILD/pth2blob" "$BUILD/scorepoint"; do
	if nm "$p" 2>/dev/null | grep -q ' T cblas_sgemm$' && ! readelf -d "$p" 2>/dev/null | grep -q 'libopenblas'; then
		ok "$(basename "$p") links OpenBLAS statically"
	else
		not_ok "$(basename "$p") links OpenBLAS statically" "$(readelf -d "$p" | grep NEEDED)"
	fi
done

# ---- the kernels ----
# What fwd.c names from the CPU's flags (the kernel's view of them).
flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { case $flags in *" $1 "*) return 0 ;; esac; return 1; }
want=
if has avx512f && has avx512bw && has avx512vl && has avx512dq && has avx512cd; then
	want=SkylakeX
elif has avx2 && has fma; then
	want=Haswell
elif has avx; then
	want=Sandybridge
fi
cgi() {   # METHOD URI [BODY]: score.fcgi as CGI, the response on stdout
	len=0
	[ -n "${3:-}" ] && len=$(wc -c <"$3")
	REQUEST_METHOD=$1 REQUEST_URI=$2 CONTENT_TYPE=application/json CONTENT_LENGTH=$len SCOREPOINT_LOG=- \
		SCOREPOINT_METRICS_FILE="$T/cgi.metrics" "$S" --cgi --model "$T/m.blob" <"${3:-/dev/null}"
}
blas_of() { sed -n 's/.*"blas": "\([^"]*\)".*/\1/p' "$1"; }
cgi GET /version >"$T/version"
core=$(blas_of "$T/version")
if [ -z "$want" ]; then
	ok "GET /version names the kernels ($core) # SKIP no AVX: OpenBLAS picks on its own"
elif [ "$core" = "$want" ]; then
	ok "without OPENBLAS_CORETYPE, OpenBLAS runs the kernels fwd.c names ($want), and /version says so"
else
	not_ok "without OPENBLAS_CORETYPE, OpenBLAS runs the kernels fwd.c names" "want $want, /version says '$core'" \
		"$(cat "$T/version")"
fi
if has avx; then
	OPENBLAS_CORETYPE=Sandybridge cgi GET /version >"$T/version.user"
	[ "$(blas_of "$T/version.user")" = Sandybridge ] &&
		ok "the user's OPENBLAS_CORETYPE=Sandybridge wins" ||
		not_ok "the user's OPENBLAS_CORETYPE=Sandybridge wins" "$(cat "$T/version.user")"
else
	ok "the user's OPENBLAS_CORETYPE wins # SKIP no AVX"
fi

# ---- FastCGI: the same kernels, the same bytes, one thread ----
fcgi() { perl tests/e2e/fcgi_client.pl "$@"; }
addr=
for try in 1 2 3 4 5; do
	port=$(free_port)
	"$S" --socket "127.0.0.1:$port" --model "$T/m.blob" --log - --metrics-file "$T/fcgi.metrics" \
		2>>"$T/score.err" &
	pid=$!
	track_pid "$pid"
	i=0
	while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
		if fcgi -w 2 -p REQUEST_URI=/health "127.0.0.1:$port" 2>/dev/null | grep -q '^Status: 200'; then
			addr=127.0.0.1:$port
			break 2
		fi
		sleep 0.1
		i=$((i + 1))
	done
done
[ -n "$addr" ] || { not_ok "score.fcgi --socket on a loopback port" "$(cat "$T/score.err")"; exit 1; }
threads=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
[ "$threads" = 1 ] && ok "a FastCGI worker runs one thread: OpenBLAS started no pool" ||
	not_ok "a FastCGI worker runs one thread: OpenBLAS started no pool" "Threads: $threads"
fcgi -w 5 -p REQUEST_URI=/version "$addr" >"$T/version.fcgi" 2>/dev/null
[ "$(blas_of "$T/version.fcgi")" = "$core" ] && ok "FastCGI's /version names the same kernels ($core)" ||
	not_ok "FastCGI's /version names the same kernels" "CGI: $core" "$(cat "$T/version.fcgi")"
cgi POST /score "$body" | sed '1,/^\r*$/d' >"$T/score.cgi"
fcgi -w 5 -p REQUEST_METHOD=POST -p REQUEST_URI=/score -p CONTENT_TYPE=application/json -b "$body" "$addr" \
	2>/dev/null | sed '1,/^\r*$/d' >"$T/score.fcgi"
if [ -s "$T/score.cgi" ] && cmp -s "$T/score.cgi" "$T/score.fcgi"; then
	ok "POST /score: the same bytes as CGI and as FastCGI"
else
	not_ok "POST /score: the same bytes as CGI and as FastCGI" "CGI: $(head -c 200 "$T/score.cgi")" \
		"FastCGI: $(head -c 200 "$T/score.fcgi")"
fi
logits_like "$T/score.cgi" fixtures/expected/images_logits.json && ok "the static build answers torch's logits" ||
	not_ok "the static build answers torch's logits" "$(head -c 300 "$T/score.cgi")"
