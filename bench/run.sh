#!/bin/sh
# bench/run.sh BUILD_DIR - what `make bench` runs: speed figures measured on
# this machine, printed as markdown tables with the date and the machine, and
# collected in BUILD_DIR/bench/results.json (figure name -> value).
set -eu
build=${1:-build/release}
cd "$(dirname "$0")/.."
out=$build/bench
mkdir -p "$out"

echo "# scorepoint benchmarks"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(. /etc/os-release && echo "$PRETTY_NAME")."
echo "Medians of repeated runs; ratios are computed within the same run."
echo
echo "## In-process: decode + forward + encode (tutorial model, split-orient JSON)"
echo
"$build/pth2blob" -q fixtures/model "$out/tutorial.blob"
"$build/bench/inproc" "$out/tutorial.blob" "$out/inproc.json"
echo
echo "## Through lighttpd (mod_fastcgi, 2 processes), the 2-image request, ${BENCH_SECONDS:-10} s per run"
echo
sh bench/http.sh "$build" "${BENCH_SECONDS:-10}" 3>"$out/http.lines"
echo
# One JSON object of every figure.
{
	echo "{"
	sed -n 's/^  \(".*\)$/\1/p' "$out/inproc.json" | sed 's/,$//' | sed 's/$/,/'
	cat "$out/http.lines"
	echo "\"date\": \"$(date -u +%Y-%m-%d)\""
	echo "}"
} >"$out/results.json"
echo "Figures: $out/results.json"
