#!/bin/sh
# bench/python.sh BUILD_DIR SECONDS - score.fcgi against a stand-in for the
# Python scoring stack (bench/python-reference: Flask + gunicorn following
# MLflow's scoring path, 2 sync workers, one thread each), in one run.
# First both are checked against torch's logits (the bench stops if either
# is wrong).  Then, for bodies of 1, 2 and 200 rows at concurrency 1, 8 and
# 32, each for SECONDS: score.fcgi through lighttpd exactly as bench/http.sh
# runs it (bench/lib.sh), then the stand-in with the same wrk script, the
# same bodies and the same route (POST /score, the Azure ML body).  Reported
# per cell: requests/s, rows/s, p50/p99, non-2xx and wrk errors, the server's
# CPU time per request (workers plus lighttpd or the gunicorn master), the
# ratio score.fcgi / Python of requests/s, next to the targets where there
# is one, and the ratio of CPU time per request (steadier when other
# programs share the machine).  Then cold start: the stand-in from the exec
# of gunicorn to its first 200 answer (median of 5 starts), next to
# score.fcgi as a CGI program (bench/coldstart), and where the stand-in's
# time goes in process (bench/python-reference/stages.py).  Markdown on
# stdout; the figures in BUILD_DIR/bench/python.json.
set -eu
build=$1
secs=${2:-5}
cd "$(dirname "$0")/.."
# $T, the blob and the bodies; serve, stop, ticks and run.
. "$PWD/bench/lib.sh"
out=$build/bench
mkdir -p "$out"
py=/usr/bin/python3
ref=bench/python-reference
# Sync workers serve one request at a time, so at concurrency 32 a request
# waits for the 31 before it: wrk's 2 s default would drop such answers from
# the latencies and count them as errors.  The same limit applies to both.
WRK_TIMEOUT=60s
: >"$T/py.lines"

now_ns() { date +%s%N; }

# py_serve: the stand-in on a free loopback port (free_port: a taken one
# makes gunicorn exit, and the next try picks another); sets URL, pid and
# started_ms, the time from the exec of gunicorn to the first 200 answer to
# the 2-row request (curl polling every 10 ms); returns when both workers
# have loaded the model.
py_serve() {
	for try in 1 2 3 4 5; do
		port=$(free_port)
		URL="http://127.0.0.1:$port"
		: >"$T/gunicorn.log"
		t0=$(now_ns)
		OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$py" /usr/bin/gunicorn --chdir "$ref" --workers 2 --bind "127.0.0.1:$port" --timeout 60 \
			app:app 2>>"$T/gunicorn.log" & pid=$!
		started_ms=
		while kill -0 "$pid" 2>/dev/null && [ $(( $(now_ns) - t0 )) -lt 60000000000 ]; do
			if [ -z "$started_ms" ]; then
				code=$(curl -s -o "$T/first.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
					--data-binary @"$T/rows2.json" "$URL/score" || true)
				[ "$code" = 200 ] && started_ms=$(( ($(now_ns) - t0) / 1000000 ))
			fi
			[ -n "$started_ms" ] && [ "$(grep -c '^python-reference: worker .* loaded' "$T/gunicorn.log")" = 2 ] && return 0
			sleep 0.01
		done
		stop
	done
	echo "python.sh: the stand-in did not start; $T/gunicorn.log:" >&2
	tail -20 "$T/gunicorn.log" >&2
	return 1
}

# warm BODY: 4 requests at once, so that both workers of the server have
# answered before wrk starts (the same for both programs).
warm() {
	curl -s --no-progress-meter -Z -X POST -H 'Content-Type: application/json' --data-binary @"$1" \
		-o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$URL/score" "$URL/score" "$URL/score" "$URL/score"
}

# check NAME EXPECTED URL BODY: POST BODY, compare the answer with EXPECTED.
check() {
	code=$(curl -s -o "$T/answer.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary @"$4" "$3")
	[ "$code" = 200 ] || { echo "python.sh: $1 answered $code: $(head -c 300 "$T/answer.json")" >&2; exit 1; }
	r=$("$py" "$ref/check.py" "$2" "$T/answer.json") || { echo "python.sh: $1 is wrong" >&2; exit 1; }
	echo "- $1: $r"
}

echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(. /etc/os-release && echo "$PRETTY_NAME");" \
	"$(dpkg-query -W -f='${Package} ${Version}, ' python3-flask gunicorn python3-pandas python3-torch | sed 's/, $//')."
echo "${secs} s per wrk run; ratios are computed within this run; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "Checks against torch's logits (fixtures/expected, within 1e-4):"
echo
serve "$PWD/$build/score.fcgi --model $T/m.blob --log - --metrics-file $T/metrics"
check "score.fcgi, POST /score, 2 rows" fixtures/expected/images_logits.json "$URL/score" "$T/rows2.json"
check "score.fcgi, POST /score, 200 rows" fixtures/expected/batch200_logits.json "$URL/score" "$T/rows200.json"
stop

# Cold starts of the stand-in; the first one's server is checked.
starts=
for i in 1 2 3 4 5; do
	py_serve
	starts="$starts $started_ms"
	if [ "$i" = 1 ]; then
		check "stand-in, POST /score, 2 rows" fixtures/expected/images_logits.json "$URL/score" "$T/rows2.json"
		check "stand-in, POST /score, 200 rows" fixtures/expected/batch200_logits.json "$URL/score" "$T/rows200.json"
		check "stand-in, POST /invocations (dataframe_split), 200 rows" fixtures/expected/batch200_logits.json \
			"$URL/invocations" fixtures/test_data/batch200_dataframe_split.json
	fi
	stop
done
py_cold=$(echo $starts | tr ' ' '\n' | sort -n | sed -n 3p)
len=$(wc -c <"$T/rows2.json")
cs=$(REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$len \
	SCOREPOINT_LOG=- SCOREPOINT_METRICS_FILE="$T/coldstart.metrics" OPENBLAS_NUM_THREADS=1 \
	"$build/bench/coldstart" 200 "$T/rows2.json" "$build/score.fcgi" --cgi --model "$T/m.blob")
cgi_cold=$(echo "$cs" | sed 's/.*median_ms=\([0-9.]*\).*/\1/')
printf '"python_cold_start_ms": %s,\n"python_cold_start_runs_ms": "%s",\n"cgi_cold_start_ms": %s,\n' \
	"$py_cold" "$(echo $starts)" "$cgi_cold" >>"$T/py.lines"

echo
echo "| rows | concurrency | score.fcgi requests/s | Python requests/s | score.fcgi / Python | target | score.fcgi rows/s | Python rows/s | score.fcgi p50 / p99 (ms) | Python p50 / p99 (ms) | non-2xx + errors: score.fcgi / Python | server CPU (us/req): score.fcgi / Python | CPU per request, Python / score.fcgi |"
echo "|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
for rows in 1 2 200; do
	for c in 1 8 32; do
		serve "$PWD/$build/score.fcgi --model $T/m.blob --log - --metrics-file $T/metrics"
		warm "$T/rows$rows.json"
		s=$(run score "$T/rows$rows.json" "$c")
		stop
		py_serve
		warm "$T/rows$rows.json"
		p=$(run python "$T/rows$rows.json" "$c")
		stop
		target=
		[ "$c" = 8 ] && [ "$rows" = 2 ] && target=200
		[ "$c" = 8 ] && [ "$rows" = 200 ] && target=25
		echo "$s $p" | awk -v rows="$rows" -v c="$c" -v target="$target" '{
			# No answer in the run: no ratio.
			ratio = $8 > 0 ? sprintf("%.0fx", $1 / $8) : "n/a"
			t = ""
			if (target != "") t = sprintf("≥ %dx: %s", target, $8 > 0 && $1 / $8 >= target ? "met" : "not met")
			cpu = $5 + $6 > 0 && $12 + $13 > 0 ? sprintf("%.0fx", ($12 + $13) / ($5 + $6)) : "n/a"
			printf "| %s | %s | %s | %s | %s | %s | %.0f | %.0f | %s / %s | %s / %s | %d / %d | %.0f / %.0f | %s |\n",
				rows, c, $1, $8, ratio, t, $1 * rows, $8 * rows, $2, $3, $9, $10,
				$4 + $7, $11 + $14, $5 + $6, $12 + $13, cpu }'
		echo "$s $p" | awk -v k="r${rows}_c$c" -v target="$target" '{
			split("score python", name, " ")
			for (i = 0; i < 2; i++) {
				o = 7 * i; n = name[i + 1]
				printf "\"%s_%s_rps\": %s,\n\"%s_%s_p50_ms\": %s,\n\"%s_%s_p99_ms\": %s,\n", n, k, $(o + 1), n, k, $(o + 2), n, k, $(o + 3)
				printf "\"%s_%s_non2xx\": %s,\n\"%s_%s_errors\": %s,\n\"%s_%s_cpu_us\": %.1f,\n", n, k, $(o + 4), n, k, $(o + 7), n, k, $(o + 5) + $(o + 6)
			}
			# (a bare ">" among the arguments of printf would redirect it)
			ratio = $8 > 0 ? sprintf("%.3f", $1 / $8) : "null"
			cpu = $5 + $6 > 0 && $12 + $13 > 0 ? sprintf("%.3f", ($12 + $13) / ($5 + $6)) : "null"
			printf "\"ratio_python_%s\": %s,\n\"ratio_cpu_python_%s\": %s,\n", k, ratio, k, cpu
			if (target != "") printf "\"target_ratio_python_%s\": %s,\n", k, target }' >>"$T/py.lines"
	done
done

echo
echo "Cold start, 2-row request: the stand-in $py_cold ms from the exec of gunicorn to its first 200 answer" \
	"(median of 5 starts: $(echo $starts | sed 's/ / ms, /g') ms; curl polls every 10 ms);" \
	"score.fcgi as CGI $cgi_cold ms from exec to complete response (median of 200, bench/coldstart)."
echo
echo "Load average after the matrix: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores; other programs on the machine slow both servers, not always alike)."
echo
echo "Where the stand-in's time goes, in process (median of 20 runs, ms; bench/python-reference/stages.py):"
echo
echo "| rows | json.loads | DataFrame | cast to the signature's types | schema check | float32 + forward | records + json.dumps | total | for comparison: Azure's generated script's json.dumps + pd.read_json in place of DataFrame + cast |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
"$py" "$ref/stages.py" 20 "$T/rows1.json" "$T/rows2.json" "$T/rows200.json" >"$T/stages"
awk '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$T/stages"
awk '{ split("loads frame cast enforce predict encode total azure_parse", s, " ")
	for (i = 1; i <= 8; i++) printf "\"python_stage_r%s_%s_ms\": %s,\n", $1, s[i], $(i + 1) }' "$T/stages" >>"$T/py.lines"
{
	echo "{"
	cat "$T/py.lines"
	echo "\"date\": \"$(date -u +%Y-%m-%d)\""
	echo "}"
} >"$out/python.json"
echo
echo "Figures: $out/python.json"
