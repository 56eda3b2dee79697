#!/bin/sh
# bench/convert.sh BUILD_DIR - how long pth2blob takes, and whether the time
# grows linearly with the model's size.  Generates whole-module .pth files of
# increasing size with Debian's python3-torch (installed on demand), converts
# each N times, and prints the median wall time, MB/s and ms per MB.
set -eu
build=${1:-build/release}
runs=${RUNS:-7}
cd "$(dirname "$0")/.."
sh tools/deps.sh python3-torch >/dev/null
out=build/bench/convert
mkdir -p "$out"

# Sequential(Linear(784,H), ReLU, [Linear(H,H), ReLU]*k, Linear(H,10)), seeded.
/usr/bin/python3 - "$out" <<'PY'
import sys, torch, torch.nn as nn
out = sys.argv[1]
torch.manual_seed(0)
for k in (1, 2, 4, 6):
    layers = [nn.Flatten(), nn.Linear(784, 2048), nn.ReLU()]
    for _ in range(k):
        layers += [nn.Linear(2048, 2048), nn.ReLU()]
    layers.append(nn.Linear(2048, 10))
    torch.save(nn.Sequential(*layers), f"{out}/mlp{k}.pth")
PY

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_ms() {   # time_ms INPUT: median wall ms of $runs conversions
	for i in $(seq "$runs"); do
		s=$(date +%s%N)
		"$build/pth2blob" -q "$@" "$out/x.blob"
		e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | median | awk '{printf "%.2f", $1 / 1000}'
}

echo "pth2blob conversion, median of $runs runs, $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo
echo "| input | size (MB) | median (ms) | MB/s | ms per MB |"
echo "|---|---:|---:|---:|---:|"
for f in fixtures/model fixtures/model_state_dict.pth "$out/mlp1.pth" "$out/mlp2.pth" "$out/mlp4.pth" "$out/mlp6.pth"; do
	if [ -d "$f" ]; then bytes=$(stat -c %s "$f/data/model.pth"); else bytes=$(stat -c %s "$f"); fi
	ms=$(time_ms "$f")
	awk -v f="$f" -v b="$bytes" -v ms="$ms" 'BEGIN {
		mb = b / 1048576; printf "| %s | %.2f | %s | %.0f | %.2f |\n", f, mb, ms, mb / (ms / 1000), ms / mb }'
done
rm -f "$out/x.blob"
