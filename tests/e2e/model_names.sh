# Model names follow Azure ML's model rule (workspace/name.h): 1 to 255
# letters, digits, '-' and '_', a letter or digit first; endpoint and
# deployment names keep theirs.  A model registered under such a name is
# stored, listed, referenced by a deployment, reloaded and served.
. tests/e2e/lib.sh
SP=$BUILD/scorepoint
W=$T/ws
export SCOREPOINT_WORKSPACE="$W"
long=$(printf 'm%.0s' $(seq 255))

check "model create --name fashion_mnist_cnn (underscores)" \
	"$SP" model create --path fixtures/model --name fashion_mnist_cnn --version 1 --type mlflow_model
check "model create --name 2024_model-v2 (a digit first)" \
	"$SP" model create --path fixtures/model --name 2024_model-v2 --version 1 --type mlflow_model
check "model create --name of 255 characters" \
	"$SP" model create --path fixtures/model --name "$long" --version 1 --type mlflow_model
out=$("$SP" model show --name fashion_mnist_cnn --version 1 --query name -o tsv)
[ "$out" = fashion_mnist_cnn ] && ok "model show reads it back" || not_ok "model show reads it back" "$out"
out=$("$SP" model list --query name -o tsv | sort | tr '\n' ' ')
[ "$out" = "2024_model-v2 fashion_mnist_cnn $long " ] && ok "model list lists all three" || not_ok "model list" "$out"
[ -f "$W/models/fashion_mnist_cnn/1/model.blob" ] && ok "stored under models/fashion_mnist_cnn/1" ||
	not_ok "stored under models/fashion_mnist_cnn/1"

cat >"$T/ep.yml" <<EOF
name: names-ep
auth_mode: key
EOF
cat >"$T/dep.yml" <<EOF
name: blue
endpoint_name: names-ep
model: azureml:fashion_mnist_cnn@latest
EOF
check "endpoint create" "$SP" online-endpoint create -f "$T/ep.yml"
check "deployment of azureml:fashion_mnist_cnn@latest" "$SP" online-deployment create -f "$T/dep.yml" --all-traffic
out=$("$SP" online-deployment show -n blue -e names-ep --query model -o tsv)
[ "$out" = azureml:fashion_mnist_cnn:1 ] && ok "resolved to azureml:fashion_mnist_cnn:1" || not_ok "resolved" "$out"
"$SP" online-endpoint invoke --name names-ep --request-file fixtures/test_data/images_azureml.json >"$T/i.json"
logits_like "$T/i.json" fixtures/expected/images_logits.json &&
	ok "invoke serves it (score.fcgi loads the workspace)" ||
	not_ok "invoke serves it" "$(head -c 200 "$T/i.json")"
"$SP" predict -m models:/$long/1 -i fixtures/test_data/images.json >"$T/p.json" &&
	logits_like "$T/p.json" fixtures/expected/images_logits.json &&
	ok "predict models:/NAME/1 with a 255-character name" ||
	not_ok "predict models:/NAME/1 (255)" "$(head -c 200 "$T/p.json")"

# refused NAME: model create refuses it in one line stating the rule, exit 1.
refused() {
	"$SP" model create --path fixtures/model --name "$1" --version 1 >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF "1 to 255 characters" "$T/err" &&
	   [ ! -e "$W/models/$1" ]; then
		ok "refused: model name \"$(printf '%.40s' "$1")\""
	else
		not_ok "refused: model name \"$(printf '%.40s' "$1")\"" "rc=$rc" "$(cat "$T/err")"
	fi
}
refused my.model
refused _model
refused -model
refused "my model"
refused "a:b"
refused "${long}m"
# the endpoint rule is unchanged: no underscore there
check_fails "endpoint names keep their rule" "3 to 32" "$SP" online-endpoint show --name names_ep
