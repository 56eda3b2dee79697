"""check.py EXPECTED ANSWER [TOLERANCE] - exit 0 when ANSWER (a records list,
bare or as {"predictions": ...}) equals EXPECTED's numerically: same rows,
same keys, every value within TOLERANCE (default 1e-4).  Prints the largest
difference."""

import json
import sys


def records(path):
    with open(path) as f:
        obj = json.load(f)
    if isinstance(obj, dict) and "predictions" in obj:
        obj = obj["predictions"]
    if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
        sys.exit(f"{path}: not a list of records: {str(obj)[:200]}")
    return obj


def main():
    want, got = records(sys.argv[1]), records(sys.argv[2])
    tol = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
    if len(want) != len(got):
        sys.exit(f"{sys.argv[2]}: {len(got)} rows, expected {len(want)}")
    worst = 0.0
    for i, (w, g) in enumerate(zip(want, got)):
        if set(w) != set(g):
            sys.exit(f"{sys.argv[2]}: row {i} has keys {sorted(g)}, expected {sorted(w)}")
        for k in w:
            worst = max(worst, abs(float(w[k]) - float(g[k])))
    if not worst <= tol:
        sys.exit(f"{sys.argv[2]}: largest difference {worst:.3g} exceeds {tol:g}")
    print(f"{len(got)} rows, largest difference {worst:.3g}")


main()
