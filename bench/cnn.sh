#!/bin/sh
# bench/cnn.sh BUILD_DIR - the convolutional fixtures' forward pass over
# the 200-row request, in process, against torch on one thread in the same
# run (bench/fwd and bench/torch_fwd.py on the same float32 rows; both
# outputs are compared first, so a fast wrong answer is not reported).
# Prints a markdown table; appends "name": value lines to BUILD_DIR/bench/cnn.lines.
# Needs /usr/bin/python3 with torch (python3-torch); says so and stops
# without it.
set -eu
build=${1:-build/release}
cd "$(dirname "$0")/.."
out=$build/bench
mkdir -p "$out"
: >"$out/cnn.lines"
PY=/usr/bin/python3
REPS=${BENCH_CNN_REPS:-41}
if ! "$PY" -c 'import torch' 2>/dev/null; then
	echo "(skipped: $PY cannot import torch; install python3-torch)"
	exit 0
fi
tv=$("$PY" -c 'import torch; print(torch.__version__)')
echo "| model | rows | scorepoint (ms) | torch $tv, 1 thread (ms) | torch / scorepoint | max abs logit diff |"
echo "|---|---:|---:|---:|---:|---:|"
# name|whole-module file|extra pth2blob flags|shape for torch's input (empty: the rows as they are)
while IFS='|' read -r name pth flags shape; do
	[ -f "$pth" ] || { echo "| $name | (missing $pth) | | | | |"; continue; }
	# shellcheck disable=SC2086 # flags are words
	"$build/pth2blob" -q $flags "$pth" "$out/$name.blob"
	t=$("$PY" bench/torch_fwd.py "$pth" fixtures/test_data/batch200.csv "$REPS" "$out/$name.rows" \
		"$out/$name.torch" ${shape:+"$shape"})
	s=$("$build/bench/fwd" "$out/$name.blob" "$out/$name.rows" "$REPS" "$out/$name.ours")
	if ! diff=$("$PY" -c 'import numpy, sys
a = numpy.fromfile(sys.argv[1], numpy.float32); b = numpy.fromfile(sys.argv[2], numpy.float32)
d = float(abs(a - b).max()) if a.shape == b.shape else float("inf")
print("%.2g" % d); sys.exit(d > 1e-4)' "$out/$name.ours" "$out/$name.torch"); then
		echo "bench/cnn.sh: $name: scorepoint and torch disagree (max diff $diff)" >&2
		exit 1
	fi
	# $s: "ms rows" (bench/fwd); $t: "ms rows version" (torch_fwd.py)
	echo "$s $t" | awk -v n="$name" -v d="$diff" \
		'{ printf "| %s | %s | %.3f | %.3f | %.2fx | %s |\n", n, $2, $1, $3, $3 / $1, d }'
	echo "$s $t" | awk -v n="$name" \
		'{ printf "\"%s_forward_ms\": %s,\n\"%s_torch_forward_ms\": %s,\n", n, $1, n, $3 }' >>"$out/cnn.lines"
done <<'LIST'
cnn_bn|fixtures/cnn/cnn_bn/model.pth||
cnn_stride|fixtures/cnn/cnn_stride/model.pth|--input-shape 1,28,28|1,28,28
LIST
