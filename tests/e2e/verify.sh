# pth2blob --verify end to end: the real binary, torch in a child python,
# the result recorded in the blob; a model read wrongly is refused with
# nothing written; no torch is a clear failure.  Without torch for
# /usr/bin/python3 the torch checks print "ok - ... # SKIP verify: no torch".
. tests/e2e/lib.sh
P=$BUILD/pth2blob
unset SCOREPOINT_PYTHON SCOREPOINT_VERIFY_TIMEOUT

# Needs no torch: a python that cannot import it fails the conversion.
check_fails "no torch: the conversion fails naming what was tried" \
	"verify: no python3 that imports torch: tried /bin/false (exit status 1)" \
	env SCOREPOINT_PYTHON=/bin/false "$P" --verify fixtures/model "$T/none.blob"
[ ! -e "$T/none.blob" ] && ok "no torch: nothing written" || not_ok "no torch: nothing written"

if ! /usr/bin/python3 -I -c 'import torch' >/dev/null 2>&1; then
	for name in "MLflow folder" "pyfunc wrapper" "CNN" "inspect" "skip connection refused" "nothing written"; do
		echo "ok - verify: $name # SKIP verify: no torch"
	done
	exit 0
fi

out=$("$P" --verify fixtures/model "$T/m.blob" 2>&1)
check_contains "verify: MLflow folder" "argmax agrees on 66/66" "$out"
out=$("$P" --inspect "$T/m.blob")
check_contains "verify: inspect" "argmax 66/66, torch " "$out"
out=$("$P" --verify fixtures/pyfunc_model "$T/p.blob" 2>&1)
check_contains "verify: pyfunc wrapper" "argmax agrees on 66/66" "$out"
out=$("$P" --verify --verify-input fixtures/cnn/requests/batch10.csv fixtures/cnn/cnn_bn/mlflow "$T/c.blob" 2>&1)
check_contains "verify: CNN" "over 10 rows (the rows of fixtures/cnn/requests/batch10.csv); argmax agrees on 10/10" \
	"$out"

# A skip connection read in registration order: torch runs the real
# forward(), so the blob is refused.  Its class sits next to the file.
cp fixtures/cnn/residual_net/model.pth fixtures/cnn/cnn_view/mlflow/code/cnn_networks.py "$T/"
check_fails "verify: skip connection refused" " > 1e-04 over 66 rows; argmax agrees on " \
	"$P" --verify --assume-registration-order --input-shape 1,28,28 "$T/model.pth" "$T/r.blob"
[ ! -e "$T/r.blob" ] && ok "verify: nothing written" || not_ok "verify: nothing written"
