#!/bin/sh
# bench/coldstart.sh BUILD_DIR OUT_DIR - the cold start of a CGI request
# (what every request costs under plain CGI, and a FaaS instance's first):
# exec to complete response of score.fcgi --cgi on the tutorial's 2-row
# request, turn about with bench/noop_cgi (static, no library: it reads the
# body and prints a constant), so that both see the same machine; medians
# of many runs and their ratio (goal: at most 2x).  Also each program's
# size, peak RSS and page faults, and a FastCGI worker's RSS after a
# request.  Appends its figures to OUT_DIR/http.lines (results.json).
set -eu
build=$1 out=$2
runs=${COLDSTART_RUNS:-500}
BUILD=$build
. tests/e2e/lib.sh   # free_port, stop_pid

"$build/pth2blob" -q fixtures/model "$out/tutorial.blob"
body=fixtures/test_data/images_azureml.json
cs=$(REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json CONTENT_LENGTH=$(wc -c <"$body") \
	SCOREPOINT_LOG=- SCOREPOINT_METRICS_FILE="$out/coldstart.metrics" \
	"$build/bench/coldstart" "$runs" "$body" "$build/score.fcgi" --cgi --model "$out/tutorial.blob" \
	--vs "$build/bench/noop_cgi")
get() { echo "$cs" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
size() { stat -c %s "$1"; }

# A FastCGI worker's resident memory after one scoring request.
rss=
for try in 1 2 3; do
	port=$(free_port)
	"$build/score.fcgi" --socket "127.0.0.1:$port" --model "$out/tutorial.blob" --log - \
		--metrics-file "$out/coldstart.metrics" 2>/dev/null &
	pid=$!
	i=0
	while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do
		if perl tests/e2e/fcgi_client.pl -w 5 -p REQUEST_METHOD=POST -p REQUEST_URI=/score \
			-p CONTENT_TYPE=application/json -b "$body" "127.0.0.1:$port" 2>/dev/null | grep -q '^Status: 200'; then
			rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	stop_pid "$pid" || :
	[ -n "$rss" ] && break
done

echo "| program | median (ms) | p10 (ms) | p90 (ms) | peak RSS (KiB) | page faults | size (bytes) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
echo "| score.fcgi --cgi | $(get median_ms) | $(get p10_ms) | $(get p90_ms) | $(get rss_kib) | $(get faults) |" \
	"$(size "$build/score.fcgi") |"
echo "| no-op CGI (bench/noop_cgi.c) | $(get base_median_ms) | $(get base_p10_ms) | $(get base_p90_ms) |" \
	"$(get base_rss_kib) | $(get base_faults) | $(size "$build/bench/noop_cgi") |"
echo
echo "score.fcgi / no-op: $(get ratio)x (goal: at most 2x), $(get runs) runs each, turn about." \
	"A FastCGI worker after one request: ${rss:-?} KiB resident."
{
	echo "\"cgi_cold_start_ms\": $(get median_ms),"
	echo "\"cgi_noop_ms\": $(get base_median_ms),"
	echo "\"cgi_cold_start_ratio\": $(get ratio),"
	echo "\"cgi_page_faults\": $(get faults),"
	echo "\"cgi_noop_page_faults\": $(get base_faults),"
	echo "\"cgi_peak_rss_kib\": $(get rss_kib),"
	echo "\"score_fcgi_bytes\": $(size "$build/score.fcgi"),"
	[ -n "$rss" ] && echo "\"fcgi_worker_rss_kib\": $rss,"
} >>"$out/http.lines"
