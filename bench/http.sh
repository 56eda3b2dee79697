#!/bin/sh
# bench/http.sh BUILD_DIR SECONDS [LARGE.blob] - the HTTP matrix through a real lighttpd
# (mod_fastcgi, 2 processes, loopback): noop.fcgi (the FastCGI transport
# limit: it reads the body and answers a constant) against score.fcgi, with
# the tutorial's model, posting bodies of 1, 2 and 200 rows with wrk at
# concurrency 1, 8 and 32 for SECONDS each.  Besides requests/s, rows/s,
# p50/p99 and non-2xx it reports the CPU time per request of the FastCGI
# workers and of lighttpd (from /proc/PID/stat over the run): on a shared,
# noisy machine that is steadier than requests/s.  Then issue 21's goals,
# each from alternating runs against the no-op.  Then the memory of
# score.fcgi's workers, with the tutorial's model and (given LARGE.blob, a
# 784-wide model without column names) a large one, whose mapping shows
# whether the workers share the blob's pages (Pss about Rss / 2).  Markdown on stdout; "name": value lines for
# results.json on fd 3.
set -eu
build=$1
secs=${2:-10}
large=${3:-}
cd "$(dirname "$0")/.."
# $T, the blob and the bodies; serve, stop, ticks and run.
. "$PWD/bench/lib.sh"

# memory BLOB NAME: per warm worker, "NAME peak-RSS blob-Rss blob-Pss" (KiB)
memory() {
	for w in $(pgrep -P "$pid"); do
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$w/status")
		awk -v f="$1" -v hwm="$hwm" -v name="$2" '
			/^[0-9a-f]+-[0-9a-f]+ / { inblob = index($0, f) > 0 }
			inblob && /^Rss:/ { rss += $2 } inblob && /^Pss:/ { pss += $2 }
			END { print name, hwm, rss + 0, pss + 0 }' "/proc/$w/smaps"
	done
}
echo "| program | rows | concurrency | requests/s | rows/s | p50 (ms) | p99 (ms) | non-2xx | worker CPU (us/req) | lighttpd CPU (us/req) | of noop |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for rows in ${BENCH_MATRIX_ROWS:-1 2 200}; do
	for c in 1 8 32; do
		serve "$PWD/$build/bench/noop.fcgi"
		n=$(run noop "$T/rows$rows.json" "$c")
		stop
		serve "$PWD/$build/score.fcgi --model $T/m.blob --log - --metrics-file $T/metrics"
		s=$(run score "$T/rows$rows.json" "$c")
		[ "$rows" = 2 ] && [ "$c" = 8 ] && memory "$T/m.blob" tutorial >>"$T/mem"
		stop
		nr=${n%% *}
		for line in "noop.fcgi:$n" "score.fcgi:$s"; do
			name=${line%%:*}
			set -- ${line#*:}
			echo "| $name | $rows | $c | $1 | $(awk -v a="$1" -v r="$rows" 'BEGIN { printf "%.0f", a * r }') | $2 | $3 | $4 | $5 | $6 |" \
				"$(awk -v a="$1" -v b="$nr" 'BEGIN { printf "%.0f%%", 100 * a / b }') |"
			key=$(echo "$name" | cut -d. -f1)_r${rows}_c$c
			printf '"http_%s_rps": %s,\n"http_%s_p50_ms": %s,\n"http_%s_p99_ms": %s,\n"http_%s_non2xx": %s,\n"http_%s_worker_us": %s,\n"http_%s_lighttpd_us": %s,\n' \
				"$key" "$1" "$key" "$2" "$key" "$3" "$key" "$4" "$key" "$5" "$key" "$6" >&3
		done
		printf '"http_ratio_r%s_c%s": %s,\n' "$rows" "$c" "$(awk -v a="${s%% *}" -v b="$nr" 'BEGIN { printf "%.3f", a / b }')" >&3
	done
done

# The goals (issue 21), on a shared machine whose speed drifts within
# seconds: both servers up at once, wrk alternating between them for
# $BENCH_ROUNDS pairs of $BENCH_GOAL_SECONDS runs per line; the medians of
# each, and the median of the ratios of the pairs, each pair measured
# seconds apart.  score.fcgi logs every request to a file, as it does by
# default (the goals are set with the request log on).  A line is "LABEL
# BODY CONTENT-TYPE PATH EXTRA-HEADER CONCURRENCY GOAL" ('|' between): the
# tutorial's 2-row request at 8 and 32; the 200-row one as split-orient
# JSON; the same 200 rows as binary tensors, the V2 binary extension (in
# and out, as tritonclient sends them by default) and as a raw float32
# body on /score (answered in JSON).  noop.fcgi gets the same body.
rounds=${BENCH_ROUNDS:-7}
gsecs=${BENCH_GOAL_SECONDS:-3}
goals="2-row|$T/rows2.json|application/json|/score||8|0.9
2-row|$T/rows2.json|application/json|/score||32|0.9
200-row-JSON|$T/rows200.json|application/json|/score||8|0.5
200-row-V2-binary|$T/rows200.v2bin|application/octet-stream|/v2/models/m/infer|Inference-Header-Content-Length: $V2BIN_HEADER|8|0.8
200-row-float32|$T/rows200.f32|application/octet-stream|/score||8|0.8"
serve "$PWD/$build/bench/noop.fcgi" noop
npid=$pid nurl=$URL pid2=$pid
serve "$PWD/$build/score.fcgi --model $T/m.blob --log $T/requests-goal.log --metrics-file $T/metrics-goal" score
spid=$pid surl=$URL
: >"$T/goal"
echo "$goals" | while IFS='|' read -r label body ctype path extra c goal; do
	for r in $(seq "$rounds"); do
		pid=$npid URL=$nurl
		n=$(CONTENT_TYPE=$ctype REQ_PATH=$path EXTRA_HEADER=$extra secs=$gsecs run noop "$body" "$c" </dev/null)
		pid=$spid URL=$surl
		s=$(CONTENT_TYPE=$ctype REQ_PATH=$path EXTRA_HEADER=$extra secs=$gsecs run score "$body" "$c" </dev/null)
		echo "$label $c $goal $n $s" >>"$T/goal"
	done
	# The workers' peak RSS once the tutorial's request has loaded them.
	if [ "$label" = 2-row ] && [ "$c" = 32 ]; then
		memory "$T/m.blob" tutorial >>"$T/mem"
	fi
done
pid=$spid
memory "$T/m.blob" all-goal-loads >"$T/mem-all"
pid=$npid; stop; pid=$spid; stop; pid2=
# (fields: label c goal, then noop's rps p50 p99 non2xx wus lus errors, then score's)
if awk '$7 != 0 || $10 != 0 || $14 != 0 || $17 != 0 { bad = 1 } END { exit !bad }' "$T/goal"; then
	echo "the goal runs had non-2xx answers or socket errors:" >&2
	cat "$T/goal" >&2
	exit 1
fi
med() { sort -g | awk '{ v[NR] = $1 } END { printf "%s", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "The goals: score.fcgi against noop.fcgi, both served at once, $rounds alternating pairs of ${gsecs} s runs per line, each program given the same body (the binary ones as application/octet-stream; the V2 one asks for binary outputs, the raw float32 one on /score is answered in JSON):"
echo
echo "| request | concurrency | noop.fcgi requests/s (median) | score.fcgi requests/s (median) | score.fcgi p50 / p99 (ms, medians) | score / noop (median of pairs) | pairs' range | worker CPU noop / score (us/req, medians) | extra worker CPU (us/req) | goal |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
echo "$goals" | while IFS='|' read -r label body ctype path extra c goal; do
	awk -v l="$label" -v c="$c" '$1 == l && $2 == c { print $4, $11, $12, $13, $11 / $4, $8, $15 }' "$T/goal" >"$T/g"
	nr=$(cut -d' ' -f1 "$T/g" | med)
	sr=$(cut -d' ' -f2 "$T/g" | med)
	p50=$(cut -d' ' -f3 "$T/g" | med)
	p99=$(cut -d' ' -f4 "$T/g" | med)
	ratio=$(cut -d' ' -f5 "$T/g" | med)
	lo=$(cut -d' ' -f5 "$T/g" | sort -g | head -1)
	hi=$(cut -d' ' -f5 "$T/g" | sort -g | tail -1)
	nw=$(cut -d' ' -f6 "$T/g" | med)
	sw=$(cut -d' ' -f7 "$T/g" | med)
	echo "| $label | $c | $nr | $sr | $p50 / $p99 | $(awk -v r="$ratio" 'BEGIN { printf "%.0f%%", 100 * r }') |" \
		"$(awk -v a="$lo" -v b="$hi" 'BEGIN { printf "%.0f%%-%.0f%%", 100 * a, 100 * b }') | $nw / $sw |" \
		"$(awk -v a="$nw" -v b="$sw" 'BEGIN { printf "%.1f", b - a }') |" \
		"$(awk -v r="$ratio" -v g="$goal" 'BEGIN { printf "%s (>= %.0f%%)", (r >= g ? "met" : "not met"), 100 * g }') |"
	key=$(echo "$label" | tr 'A-Z-' 'a-z_')
	printf '"goal_%s_c%s_noop_rps": %s,\n"goal_%s_c%s_score_rps": %s,\n"goal_%s_c%s_ratio": %.3f,\n' \
		"$key" "$c" "$nr" "$key" "$c" "$sr" "$key" "$c" "$ratio" >&3
done

if [ -n "$large" ]; then
	# The large model answers list-shaped rows (it has no column names).
	sed 's/.*"data":\(\[\[.*\]\]\)}}$/{"input_data": \1}/' "$T/rows2.json" >"$T/list2.json"
	serve "$PWD/$build/score.fcgi --model $large --log - --metrics-file $T/metrics-large"
	BODY=$T/list2.json wrk -t2 -c8 -d2s -s bench/post.lua "$URL/score" | sed -n 's/^RESULT //p' >"$T/large.txt"
	grep -q 'non2xx=0 ' "$T/large.txt" || { echo "the large model did not answer 200: $(cat "$T/large.txt")" >&2; exit 1; }
	memory "$large" large >>"$T/mem"
	stop
fi

echo
echo "Memory of the two score.fcgi workers: after the 2-row request at concurrency 8 (the matrix) and 32 (the goal runs), and with the large model (goal: peak RSS <= 6 MiB for the tutorial's model under load):"
echo
echo "| model | worker | peak RSS (KiB) | blob mapping Rss (KiB) | blob mapping Pss (KiB) | peak RSS besides the blob (KiB) | goal |"
echo "|---|---:|---:|---:|---:|---:|---|"
awk '{ n[$1]++; printf "| %s | %d | %d | %d | %d | %d | %s |\n", $1, n[$1], $2, $3, $4, $2 - $3,
	$1 == "tutorial" ? ($2 <= 6144 ? "met" : "not met") : "" }' "$T/mem"
echo
echo "After every goal run (the 200-row requests too), the workers' peak RSS: $(awk '{ printf "%s%d KiB", (NR > 1 ? ", " : ""), $2 }' "$T/mem-all")."
awk '$1 == "tutorial" { if ($2 > m) m = $2 } END { printf "\"worker_vmhwm_tutorial_kib\": %d,\n", m }' "$T/mem" >&3
awk '{ if ($2 > m) m = $2 } END { printf "\"worker_vmhwm_all_goal_loads_kib\": %d,\n", m }' "$T/mem-all" >&3
awk '{ if ($2 - $3 > m) m = $2 - $3 } END { printf "\"worker_rss_besides_blob_kib\": %d,\n", m }' "$T/mem" >&3
awk '$1 == "large" { r += $3; p += $4 } END { if (r) printf "\"large_blob_pss_over_rss\": %.3f,\n", p / r }' "$T/mem" >&3
