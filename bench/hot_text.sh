#!/bin/sh
# bench/hot_text.sh [BUILD_DIR] - regenerate handler/hot_text.ld, the code
# layout of the static score.fcgi (the Makefile links it with -T
# handler/hot_text.ld).  Run it when a change moves what a CGI request runs;
# a stale list costs only speed (what it misses stays in .text).
#
# Why: score.fcgi is 31 MB, of which a CGI request runs some 370 KB spread
# over the whole .text (OpenBLAS's kernels for every CPU, libcrypto,
# glibc's resolvers of every string function), and a cold process pays for
# each page it touches: on a 2-core VM of 2026-12-07 (PVM hypervisor) a
# page fault on the program costs 10 to 50 us, a page first touched in an
# already mapped 64 KiB window about 1 us.  Putting the code that ran first
# and together cut page faults from 114 to 97 and the cold start by 12 %
# (bench/RESULTS.md).
#
# How: link score.fcgi with a map (-Wl,-Map), run the tutorial's 2-row
# request as CGI under valgrind's lackey (every instruction's address),
# plus, when perf works here, perf samples of the same request run natively
# (the CPU's own AVX-512 kernels, which valgrind cannot run); then
# bench/hot_text.py looks each address up in the map.  Needs valgrind and
# python3 (DEPS_BENCH); OPENBLAS_CORETYPE is ignored.
set -eu
build=${1:-build/release}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -s handler/hot_text.ld ] || printf 'SECTIONS { .text.hot : { } }\nINSERT BEFORE .text;\n' >handler/hot_text.ld
rm -f "$build/score.fcgi"
${MAKE:-make} --no-print-directory BUILD="$build" "$build/score.fcgi" "$build/pth2blob" \
	LDFLAGS="-Wl,--as-needed -Wl,-Map=$tmp/score.map" >/dev/null 2>"$tmp/link.err" || { cat "$tmp/link.err" >&2; exit 1; }
"$build/pth2blob" -q fixtures/model "$tmp/tutorial.blob"
body=fixtures/test_data/images_azureml.json
export REQUEST_METHOD=POST REQUEST_URI=/score CONTENT_TYPE=application/json \
	CONTENT_LENGTH="$(wc -c <"$body")" SCOREPOINT_LOG=- SCOREPOINT_METRICS_FILE="$tmp/metrics"
unset OPENBLAS_CORETYPE
run() { "$@" "$build/score.fcgi" --cgi --model "$tmp/tutorial.blob" <"$body"; }

run valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/lackey" >"$tmp/answer"
grep -q '^Status: 200' "$tmp/answer" || { echo "hot_text.sh: the request failed under valgrind" >&2; exit 1; }
sed -n 's/^I  *\([0-9a-f]*\),.*/\1/p' "$tmp/lackey" >"$tmp/lackey.addrs"
: >"$tmp/perf.addrs"
if command -v perf >/dev/null && run perf record -q -o "$tmp/perf.data" -e cpu-clock -F 20000 >/dev/null 2>&1; then
	i=0
	while [ $i -lt 100 ]; do
		run perf record -q -o "$tmp/perf.$i" -e cpu-clock -F 20000 >/dev/null 2>&1
		perf script -i "$tmp/perf.$i" -F ip 2>/dev/null >>"$tmp/perf.addrs"
		rm -f "$tmp/perf.$i"
		i=$((i + 1))
	done
fi
python3 bench/hot_text.py "$tmp/score.map" "$tmp/lackey.addrs" "$tmp/perf.addrs" >handler/hot_text.ld
rm -f "$build/score.fcgi"
${MAKE:-make} --no-print-directory BUILD="$build" "$build/score.fcgi" >/dev/null 2>&1
head -2 handler/hot_text.ld
