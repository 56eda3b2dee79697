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
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
	echo "OpenBLAS kernels: $OPENBLAS_CORETYPE, named by this environment's OPENBLAS_CORETYPE."
else
	echo "OpenBLAS kernels: named by score.fcgi from the CPU's features (OPENBLAS_CORETYPE unset)."
fi
echo "Medians of repeated runs; ratios are computed within the same run."
echo
echo "## In-process: decode + forward + encode (tutorial model, split-orient JSON)"
echo
"$build/pth2blob" -q fixtures/model "$out/tutorial.blob"
rm -f "$out/instr.lines"
"$build/bench/inproc" "$out/tutorial.blob" "$out/inproc.json"
echo
# Instructions per row, which a noisy machine does not change: valgrind
# counts each stage at 1 and 3 repetitions; the difference is two requests'
# work without the set-up.
if command -v valgrind >/dev/null; then
	irefs() {
		valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
			"$build/bench/inproc" "$out/tutorial.blob" --instr "$@" 2>&1 |
			sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
	}
	echo "| rows | decode (instructions/row) | forward + encode (instructions/row) | total (instructions/row) | baseline (instructions/row) | baseline / scorepoint |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for rows in 1 2 200; do
		d=$(( ($(irefs $rows 3 decode) - $(irefs $rows 1 decode)) / (2 * rows) ))
		a=$(( ($(irefs $rows 3 all) - $(irefs $rows 1 all)) / (2 * rows) ))
		nv=$(( ($(irefs $rows 3 naive) - $(irefs $rows 1 naive)) / (2 * rows) ))
		echo "| $rows | $d | $((a - d)) | $a | $nv | $(awk -v n=$nv -v a=$a 'BEGIN { printf "%.1fx", n / a }') |"
		printf '"instr_%s_rows_decode_per_row": %s,\n"instr_%s_rows_total_per_row": %s,\n"instr_%s_rows_naive_per_row": %s,\n' \
			$rows $d $rows $a $rows $nv >>"$out/instr.lines"
	done
	echo
fi
echo "## Through lighttpd (mod_fastcgi, 2 processes), ${BENCH_SECONDS:-5} s per run"
echo
# A large model (784-1024-1024-10, seeded weights) made without PyTorch and
# converted with pth2blob.
python3 bench/gen_mlp.py "$out/large.pth" 784 1024 1024 10
"$build/pth2blob" -q --arch linear,relu,linear,relu,linear "$out/large.pth" "$out/large.blob"
sh bench/http.sh "$build" "${BENCH_SECONDS:-5}" "$PWD/$out/large.blob" 3>"$out/http.lines"
echo
echo "## Large model: 784-1024-1024-10 at a batch of 256, against plain sgemm of the same shapes"
echo
g=$("$build/bench/gemm" "$out/large.blob" 256)
echo "$g" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "| forward (ms) | forward GFLOP/s | sgemm alone (ms) | sgemm GFLOP/s | forward / sgemm | kernels |\n|---:|---:|---:|---:|---:|---|\n"
	printf "| %s | %s | %s | %s | %.0f%% | %s |\n", v["forward_ms"], v["forward_gflops"], v["sgemm_ms"], v["sgemm_gflops"], 100 * v["ratio"], v["core"] }'
echo "$g" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] != "core") printf "\"large_%s\": %s,\n", kv[1], kv[2] } }' >>"$out/http.lines"
echo
echo "## Convolutional networks: forward pass of the 200-row request in process, against torch on one thread"
echo
OPENBLAS_NUM_THREADS=1 sh bench/cnn.sh "$build"
echo
echo "## Cold start: plain CGI, exec to complete response, 2-row request, against a no-op CGI program"
echo
# No shell in the measurement: bench/coldstart spawns the programs itself.
sh bench/coldstart.sh "$build" "$out"
echo
echo "## Scale to zero: the first request after score.fcgi --idle-exit has exited, against a warm one"
echo
sh bench/idle.sh "$build" 3>>"$out/http.lines"
echo
echo "## Container images: podman run to the first 200"
echo
sh bench/container.sh "$build" 3>>"$out/http.lines" || echo "(container figures failed)"
echo
# One JSON object of every figure.
{
	echo "{"
	sed -n 's/^  \(".*\)$/\1/p' "$out/inproc.json" | sed 's/,$//' | sed 's/$/,/'
	cat "$out/http.lines"
	[ -f "$out/cnn.lines" ] && cat "$out/cnn.lines"
	[ -f "$out/instr.lines" ] && cat "$out/instr.lines"
	echo "\"date\": \"$(date -u +%Y-%m-%d)\""
	echo "}"
} >"$out/results.json"
echo "Figures: $out/results.json"
