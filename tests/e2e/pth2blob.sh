# pth2blob end to end: the real binary on the real fixtures.
. tests/e2e/lib.sh
P=$BUILD/pth2blob

check "help exits 0" "$P" --help
out=$("$P" --help); check_contains "help lists --arch" "--arch SPEC" "$out"
check_fails "unknown option is a usage error" "usage:" "$P" --frobnicate
"$P" >/dev/null 2>&1; [ $? -eq 2 ] && ok "missing arguments exit 2" || not_ok "missing arguments exit 2"

# The tutorial model, as MLflow directory, whole module and state_dict.
check "convert MLflow directory" "$P" -q fixtures/model "$T/mlflow.blob"
out=$("$P" --inspect "$T/mlflow.blob")
check_contains "inspect: name from the folder" "name:         model" "$out"
check_contains "inspect: columns from the signature" "col_0, col_1, col_2, ..., col_783 (784)" "$out"
check_contains "inspect: layers" "linear       784 -> 20" "$out"
check_contains "inspect: relu" "relu         20" "$out"
check_contains "inspect: checksum verified" "verified" "$out"
check_contains "inspect: digest" "sha256:$(sha256sum fixtures/model/data/model.pth | cut -c1-64)" "$out"
check "convert whole-module .pth" "$P" -q --name tut --version 7 fixtures/model/data/model.pth "$T/whole.blob"
out=$("$P" --inspect "$T/whole.blob")
check_contains "inspect: --name" "name:         tut" "$out"
check_contains "inspect: --version" "version:      7" "$out"
out=$("$P" fixtures/model_state_dict.pth "$T/sd.blob" 2>&1)
check_contains "state_dict: the assumed activations are said" "relu" "$out"
a=$("$P" --inspect "$T/sd.blob" | sed -n '/^layers:/,$p')
b=$("$P" --inspect "$T/whole.blob" | sed -n '/^layers:/,$p')
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "state_dict and module give the same layers"; else not_ok "state_dict and module give the same layers" "$a" "$b"; fi

# Byte-identical output for the same input.
"$P" -q fixtures/model "$T/again.blob"
check "same input, byte-identical blob" cmp "$T/mlflow.blob" "$T/again.blob"

# The second model: float64, whole (class pickled by value) and state_dict.
check "convert float64 whole module" "$P" -q fixtures/model2_f64.pth "$T/m2.blob"
check "convert float64 state_dict with --arch" \
	"$P" -q --arch linear,tanh,linear,gelu,linear fixtures/model2_f64_state_dict.pth "$T/m2sd.blob"
out=$("$P" --inspect "$T/m2sd.blob")
check_contains "inspect: gelu from --arch" "gelu         32" "$out"
check_fails "--arch with the wrong layer count" "linear" \
	"$P" --arch linear,relu,linear fixtures/model2_f64_state_dict.pth "$T/x.blob"

# The tutorial's pyfunc wrapper: its label map is read from its code (no flag), or given with --labels.
out=$("$P" fixtures/pyfunc_model "$T/pf0.blob" 2>&1)
check_contains "pyfunc without flags: labels from the wrapper's code" "labels from" "$out"
check_contains "pyfunc without flags: names model_wrapper.py" "model_wrapper.py" "$out"
out=$("$P" --inspect "$T/pf0.blob")
check_contains "pyfunc without flags: labels post-processing" "postprocess:  labels" "$out"
check_contains "pyfunc without flags: the tutorial's labels" "T-Shirt, Trouser, Pullover, ..., Ankle Boot (10)" "$out"
check "pyfunc with --labels" "$P" -q --labels fixtures/labels.txt fixtures/pyfunc_model "$T/pf.blob"
out=$("$P" --inspect "$T/pf.blob")
check_contains "pyfunc: labels post-processing" "postprocess:  labels" "$out"
check_contains "pyfunc: labels listed" "T-Shirt, Trouser, Pullover, ..., Ankle Boot (10)" "$out"
check_fails "too few labels" "gives 3 labels but the model has 10 outputs" \
	"$P" --labels a,b,c fixtures/model "$T/x.blob"
check_fails "labels post-processing needs labels" "needs --labels" \
	"$P" --postprocess labels fixtures/model "$T/x.blob"
check_fails "bad --postprocess" "use logits, probabilities or labels" \
	"$P" --postprocess softmax fixtures/model "$T/x.blob"

# Refusals leave nothing behind.
mkdir "$T/out"
check_fails "missing input" "No such file" "$P" "$T/nope.pth" "$T/out/x.blob"
printf 'hello\n' >"$T/text.pth"
check_fails "text file refused" "text.pth" "$P" "$T/text.pth" "$T/out/x.blob"
mkdir "$T/plain-dir"
check_fails "directory without MLmodel" "without an MLmodel" "$P" "$T/plain-dir" "$T/out/x.blob"
for f in fixtures/pth/*; do
	case $f in *.tsv|*.txt|*.json) continue ;; esac
	base=$(basename "$f")
	case $base in
	legacy*) check_fails "legacy format refused: $base" "legacy" "$P" "$f" "$T/out/x.blob" ;;
	script*) check_fails "TorchScript refused: $base" "TorchScript" "$P" "$f" "$T/out/x.blob" ;;
	evil*) check_fails "hostile pickle refused: $base" "refus" "$P" "$f" "$T/out/x.blob" ;;
	conv.pth) check_fails "a Conv2d without an input shape asks for one: $base" "--input-shape C,H,W" "$P" "$f" "$T/out/x.blob" ;;
	conv_groups*) check_fails "grouped Conv2d refused: $base" "groups=2 is not supported" "$P" "$f" "$T/out/x.blob" ;;
	conv_reflect*) check_fails "reflect padding refused: $base" "padding_mode='reflect' is not supported" "$P" "$f" "$T/out/x.blob" ;;
	order_net*|residual_net*|list_net*) check_fails "unknown forward() order refused: $base" "--arch" "$P" "$f" "$T/out/x.blob" ;;
	esac
done
if [ -z "$(ls -A "$T/out")" ]; then ok "refusals left no file behind"; else not_ok "refusals left no file behind" "$(ls -A "$T/out")"; fi
check_fails "unwritable output folder" "/nonexistent-dir/x.blob" "$P" fixtures/model /nonexistent-dir/x.blob

# A blob damaged on disk is refused by --inspect with one clear line.
cp "$T/mlflow.blob" "$T/bad.blob"
printf '\001' | dd of="$T/bad.blob" bs=1 seek=5000 conv=notrunc 2>/dev/null
check_fails "damaged blob: checksum" "checksum mismatch" "$P" --inspect "$T/bad.blob"
head -c 3000 "$T/mlflow.blob" >"$T/short.blob"
check_fails "truncated blob" "truncated" "$P" --inspect "$T/short.blob"
