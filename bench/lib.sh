# bench/lib.sh - what bench/http.sh and bench/python.sh share; sourced (not
# run) from the top of the checkout, with `build` (the build folder) and
# `secs` (seconds per wrk run) set.  It makes the temporary folder $T
# (removed on exit, with the server in $pid stopped), the tutorial's blob
# $T/m.blob, and the request bodies $T/rows1.json, rows2.json and
# rows200.json, and rows200.f32 (the 200 rows as raw little-endian float32,
# for /score's application/octet-stream) and rows200.v2bin (the same values
# after a V2 JSON header asking for binary outputs, as tritonclient sends
# them; the header's length in $V2BIN_HEADER); then defines
#   serve PROGRAM [NAME]  lighttpd (mod_fastcgi, 2 processes of PROGRAM) on
#                  a free loopback port, the tests' configuration
#                  (lighttpd_up of tests/e2e/lib_httpd.sh): sets URL and pid;
#                  NAME (default l) names its files in $T, so that two can
#                  run at once (the caller keeps the other's pid in $pid2,
#                  which cleanup stops)
#   stop           stops the server in $pid
#   ticks PID...   their CPU time (user + system, in clock ticks)
#   run PROGRAM BODY CONCURRENCY   wrk posting BODY (as $CONTENT_TYPE, if
#                  set, with $EXTRA_HEADER) to $URL$REQ_PATH (default
#                  /score) for $secs seconds: "rps p50 p99 non2xx worker_us front_us errors",
#                  the last three being the CPU time per request of the
#                  server's child processes and of the server process itself
#                  and wrk's socket errors (timeouts included).  $WRK_TIMEOUT,
#                  if set, is wrk's --timeout.
# $T and free_port (tests/e2e/lib.sh); lighttpd_up.
BUILD=$build
. tests/e2e/lib.sh
. tests/e2e/lib_httpd.sh
pid= pid2=
cleanup() { for p in $pid $pid2; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM
"$build/pth2blob" -q --name m fixtures/model "$T/m.blob"

# The bodies: split-orient JSON of 1, 2 and 200 rows.
sed 's/"index":\[0,1\]/"index":[0]/; s/\],\[[^]]*\]\]}}$/]]}}/' fixtures/test_data/images_azureml.json >"$T/rows1.json"
cp fixtures/test_data/images_azureml.json "$T/rows2.json"
cp fixtures/test_data/batch200_azureml_split.json "$T/rows200.json"
python3 -c 'import array, json, sys
a = array.array("f", [v for row in json.load(open(sys.argv[1]))["input_data"]["data"] for v in row])
if sys.byteorder != "little": a.byteswap()
open(sys.argv[2], "wb").write(a.tobytes())
h = json.dumps({"inputs": [{"name": "input-0", "shape": [200, 784], "datatype": "FP32",
                            "parameters": {"binary_data_size": len(a) * 4}}],
                "parameters": {"binary_data_output": True}}).encode()
open(sys.argv[3], "wb").write(h + a.tobytes())
print(len(h))' "$T/rows200.json" "$T/rows200.f32" "$T/rows200.v2bin" >"$T/v2bin.len"
V2BIN_HEADER=$(cat "$T/v2bin.len")
hz=$(getconf CLK_TCK)

serve() {   # serve PROGRAM [NAME]: lighttpd on a free loopback port; sets URL and pid
	lighttpd_up "${2:-l}" "$1" 2 ||
		{ echo "bench: lighttpd did not start: $(tail -5 "$T/${2:-l}-error.log")" >&2; return 1; }
	pid=$LIGHTTPD_PID
	# One request before any run, as ever (a worker's first request pays
	# for its page faults).
	curl -s -o /dev/null -X POST --data-binary @"$T/rows1.json" "$URL/score" || true
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }
ticks() { for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s + 0 }'; }

# run PROGRAM BODY CONCURRENCY: "rps p50 p99 non2xx worker_us front_us errors"
run() {
	workers=$(pgrep -P "$pid" | tr '\n' ' ')
	w0=$(ticks $workers) l0=$(ticks "$pid")
	r=$(BODY=$2 CONTENT_TYPE=${CONTENT_TYPE:-application/json} EXTRA_HEADER=${EXTRA_HEADER:-} wrk -t$([ "$3" -gt 1 ] && echo 2 || echo 1) -c"$3" -d"${secs}s" ${WRK_TIMEOUT:+--timeout "$WRK_TIMEOUT"} \
		-s bench/post.lua "$URL${REQ_PATH:-/score}" | sed -n 's/^RESULT //p')
	w1=$(ticks $workers) l1=$(ticks "$pid")
	echo "$r" | awk -v w=$((w1 - w0)) -v l=$((l1 - l0)) -v hz="$hz" -v s="$secs" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		n = v["rps"] * s
		printf "%s %s %s %s %.1f %.1f %s\n", v["rps"], v["p50_ms"], v["p99_ms"], v["non2xx"],
			n ? w * 1e6 / hz / n : 0, n ? l * 1e6 / hz / n : 0, v["errors"] }'
}
