# The tutorial's endpoint 2 with endpoint 1's steps: the pyfunc wrapper's
# label map is read from its own code (tools/pylit.c, nothing executed), so
# `model create` needs no extra flag; --labels still overrides, and a
# wrapper whose map cannot be read is refused naming --labels and
# --postprocess, with no blob written.
. tests/e2e/lib.sh
SP=$BUILD/scorepoint
P=$BUILD/pth2blob
W=$T/ws
export SCOREPOINT_WORKSPACE="$W"
EX=deploy/examples

# Endpoint 1's exact command, for endpoint 2's model.
check "model create pyfunc_model with endpoint 1's flags only" \
	"$SP" model create --path fixtures/pyfunc_model/ --name model-online-2 --version 1 --type mlflow_model
out=$("$SP" model show --name model-online-2 --label latest --query postprocess -o tsv)
[ "$out" = labels ] && ok "registered with labels post-processing" ||
	not_ok "registered with labels post-processing" "$out"
check "endpoint 2 create" "$SP" online-endpoint create -f $EX/endpoint_2/cloud/endpoint.yml
check "endpoint 2 deployment" "$SP" online-deployment create -f $EX/endpoint_2/cloud/deployment.yml --all-traffic
out=$("$SP" online-endpoint invoke --name endpoint-online-2 --request-file fixtures/test_data/images_azureml.json)
[ "$out" = '["Ankle Boot", "Pullover"]' ] && ok "the tutorial's request: [\"Ankle Boot\", \"Pullover\"]" ||
	not_ok "the tutorial's request: [\"Ankle Boot\", \"Pullover\"]" "$out"
"$SP" predict -m fixtures/pyfunc_model -i fixtures/test_data/images.csv -t csv >"$T/p.json"
cmp -s "$T/p.json" fixtures/expected/images_labels.json && ok "predict pyfunc_model, no --labels" ||
	not_ok "predict pyfunc_model, no --labels" "$(cat "$T/p.json")"

# pth2blob: the same, and what --inspect shows.
check "pth2blob pyfunc_model, no flag" "$P" -q fixtures/pyfunc_model "$T/pf.blob"
out=$("$P" --inspect "$T/pf.blob")
check_contains "inspect: the wrapper's labels in key order" "T-Shirt, Trouser, Pullover, ..., Ankle Boot (10)" "$out"
check_contains "inspect: labels post-processing" "postprocess:  labels" "$out"
check "--labels overrides the wrapper's map" "$P" -q --labels "a,b,c,d,e,f,g,h,i,j" fixtures/pyfunc_model "$T/ov.blob"
out=$("$P" --inspect "$T/ov.blob")
check_contains "inspect: --labels' names" "a, b, c, ..., j (10)" "$out"
check "--postprocess logits on the wrapper" "$P" -q --postprocess logits fixtures/pyfunc_model "$T/lg.blob"
out=$("$P" --inspect "$T/lg.blob")
check_contains "inspect: logits" "postprocess:  logits" "$out"

# wrapper NAME SED: a copy of the fixture whose model_wrapper.py went through SED.
wrapper() {
	rm -rf "$T/$1"
	cp -r fixtures/pyfunc_model "$T/$1" && sed -i "$2" "$T/$1/code/model_wrapper.py"
}
# refused NAME WHY: pth2blob and model create refuse $T/NAME, saying WHY,
# --labels and --postprocess, and write nothing.
refused() {
	out=$("$P" "$T/$1" "$T/$1.blob" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ ! -e "$T/$1.blob" ] && printf '%s' "$out" | grep -qF -- "$2" &&
	   printf '%s' "$out" | grep -qF -- --labels && printf '%s' "$out" | grep -qF -- --postprocess; then
		ok "refused, no blob: $1"
	else
		not_ok "refused, no blob: $1" "rc=$rc" "$out"
	fi
	out=$("$SP" model create --path "$T/$1" --name "m-$1" --version 1 --type mlflow_model 2>&1)
	rc=$?
	[ $rc -eq 1 ] && [ ! -e "$W/models/m-$1" ] && printf '%s' "$out" | grep -qF -- "$2" &&
		ok "model create refused: $1" || not_ok "model create refused: $1" "rc=$rc" "$out"
}
wrapper call "s/1: 'Trouser',/1: str('Trouser'),/" && refused call "labels_map[1]: a function call"
wrapper gap "/3: 'Dress',/d" && refused gap "no key 3"
wrapper fstring "s/9: 'Ankle Boot',/9: f'Ankle {BOOT}',/" && refused fstring "an f-string"
wrapper unused "s/labels_map\[predicted_index.item()\]/predicted_index.item()/" && refused unused "no label map"
wrapper twice "s/^labels_map = {/labels_map = {0: 'x'}\nlabels_map = {/" && refused twice "more than one label map"
# and the copy that only differs in a comment is served as the fixture is
wrapper same "s/^labels_map = {/labels_map = {  # the ten classes/" &&
	check "a wrapper that only differs in a comment converts" \
		"$P" -q --name pyfunc_model "$T/same" "$T/same.blob" &&
	check "to the same blob" cmp "$T/same.blob" "$T/pf.blob"
