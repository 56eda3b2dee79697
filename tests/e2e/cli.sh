# scorepoint CLI end to end: the tutorial's four endpoints with their own
# YAML files (deploy/examples), az's output shapes, credentials, and every
# refusal leaving the workspace byte-identical.
. tests/e2e/lib.sh
SP=$BUILD/scorepoint
W=$T/ws
export SCOREPOINT_WORKSPACE="$W"
EX=deploy/examples

# sums: a checksum of every file of the workspace, names and modes included.
sums() { (cd "$W" 2>/dev/null && find . -type f -printf '%p %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum); }

# refuse NAME FRAGMENT CMD... : CMD exits 1 with exactly one line on stderr,
# holding FRAGMENT, prints nothing on stdout, and changes no file.
refuse() {
	name=$1 fragment=$2
	shift 2
	before=$(sums)
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	after=$(sums)
	lines=$(wc -l <"$T/err")
	if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && grep -qF -- "$fragment" "$T/err" && [ ! -s "$T/out" ] &&
	   [ "$before" = "$after" ]; then
		ok "refused: $name"
	else
		not_ok "refused: $name" "rc=$rc, $lines stderr lines, workspace $([ "$before" = "$after" ] && echo same || echo CHANGED)" \
			"$(cat "$T/err")" "$(head -c 300 "$T/out")"
	fi
}

# A JWT's payload, decoded (base64url without padding).
jwt_payload() {
	p=$(printf '%s' "$1" | cut -d. -f2 | tr '_-' '/+')
	while [ $(( ${#p} % 4 )) -ne 0 ]; do p="$p="; done
	printf '%s' "$p" | base64 -d
}

# --help on every group and verb.
check "scorepoint --help" "$SP" --help
nhelp=0
for v in "model create" "model list" "model show" "model delete" "online-endpoint create" "online-endpoint show" \
	 "online-endpoint list" "online-endpoint update" "online-endpoint get-credentials" \
	 "online-endpoint regenerate-keys" "online-endpoint invoke" "online-endpoint delete" \
	 "online-deployment create" "online-deployment show" "online-deployment list" "online-deployment update" \
	 "online-deployment get-logs" "online-deployment delete" "predict"; do
	# shellcheck disable=SC2086
	out=$("$SP" $v --help 2>&1) && printf '%s' "$out" | grep -q "^usage: scorepoint $v" && nhelp=$((nhelp + 1)) ||
		not_ok "--help: $v" "$out"
done
[ "$nhelp" -eq 19 ] && ok "--help on all 19 verbs" || not_ok "--help on all 19 verbs ($nhelp)"
for g in model online-endpoint online-deployment; do check "$g --help" "$SP" "$g" --help; done
"$SP" online-endpoint frobnicate >/dev/null 2>&1; [ $? -eq 2 ] && ok "unknown verb exits 2" || not_ok "unknown verb exits 2"
"$SP" online-endpoint show --nmae x >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && ok "unknown flag: exit 2, one line" || not_ok "unknown flag: exit 2, one line" "$rc" "$(cat "$T/err")"
"$SP" online-endpoint show >/dev/null 2>&1; [ $? -eq 2 ] && ok "missing --name exits 2" || not_ok "missing --name exits 2"

# ---- predict: the tutorial's `mlflow models predict`, no server ----
"$SP" predict --model-uri fixtures/model --input-path fixtures/test_data/images.json --content-type json >"$T/p.json"
logits_like "$T/p.json" fixtures/expected/images_logits.json && ok "predict json: torch's logits in json.dumps' layout" ||
	not_ok "predict json: torch's logits in json.dumps' layout" "$(head -c 300 "$T/p.json")"
"$SP" predict --model-uri fixtures/model --input-path fixtures/test_data/images.csv --content-type csv >"$T/p.json"
logits_like "$T/p.json" fixtures/expected/images_logits.json && ok "predict csv" || not_ok "predict csv" "$(head -c 300 "$T/p.json")"
"$SP" predict -m fixtures/pyfunc_model --labels fixtures/labels.txt -i fixtures/test_data/images.csv -t csv >"$T/p.json"
cmp -s "$T/p.json" fixtures/expected/images_labels.json && ok "predict pyfunc: [\"Ankle Boot\", \"Pullover\"]" ||
	not_ok "predict pyfunc: [\"Ankle Boot\", \"Pullover\"]" "$(cat "$T/p.json")"
"$SP" predict -m fixtures/pyfunc_model -i fixtures/test_data/images.json >"$T/p.json" 2>"$T/p.err"
cmp -s "$T/p.json" fixtures/expected/images_labels.json && ok "predict pyfunc without --labels: the wrapper's own labels" ||
	not_ok "predict pyfunc without --labels: the wrapper's own labels" "$(cat "$T/p.json" "$T/p.err")"
[ ! -e "$W" ] && ok "predict leaves no workspace behind" || not_ok "predict leaves no workspace behind"

# ---- endpoint 1: key auth ----
E=$EX/endpoint_1
check "model create (endpoint 1)" "$SP" model create --path fixtures/model/ --name model-online-1 --version 1 --type mlflow_model
check "online-endpoint create -f (endpoint 1)" "$SP" online-endpoint create -f $E/cloud/endpoint.yml
check "online-deployment create --all-traffic (endpoint 1)" "$SP" online-deployment create -f $E/cloud/deployment.yml --all-traffic
[ "$(stat -c %a "$W")" = 700 ] && ok "workspace directory is 0700" || not_ok "workspace directory is 0700" "$(stat -c %a "$W")"
[ "$(stat -c %a "$W/state.yaml")" = 600 ] && ok "state.yaml (keys, secrets) is 0600" || not_ok "state.yaml is 0600" "$(stat -c %a "$W/state.yaml")"
[ "$(stat -c %a "$W/.lock")" = 600 ] && ok ".lock is 0600" || not_ok ".lock is 0600"
cmp -s fixtures/model/MLmodel "$W/models/model-online-1/1/MLmodel" && ok "MLmodel kept with the blob" || not_ok "MLmodel kept with the blob"

# invoke.sh's two lines, with az ml replaced by scorepoint
SCORING_URI=$("$SP" online-endpoint show --name endpoint-online-1 --query scoring_uri -o tsv)
[ "$SCORING_URI" = "http://127.0.0.1:8080/endpoint-online-1/score" ] && ok "show --query scoring_uri -o tsv" ||
	not_ok "show --query scoring_uri -o tsv" "$SCORING_URI"
PRIMARY_KEY=$("$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv)
printf '%s' "$PRIMARY_KEY" | grep -qE '^[A-Za-z0-9_-]{43}$' && ok "get-credentials --query primaryKey: 43 base64url characters" ||
	not_ok "get-credentials --query primaryKey" "$PRIMARY_KEY"
out=$("$SP" online-endpoint get-credentials --name endpoint-online-1)
check_contains "get-credentials: primaryKey and secondaryKey" '"secondaryKey": "' "$out"
grep -qF -- "$PRIMARY_KEY" "$W/state.yaml" && ok "the key is the one in state.yaml" || not_ok "the key is the one in state.yaml"
out=$("$SP" online-endpoint show -n endpoint-online-1)
for f in '"auth_mode": "key"' '"provisioning_state": "Succeeded"' '"traffic": {
    "blue": 100
  }' '"swagger_uri": "http://127.0.0.1:8080/endpoint-online-1/swagger.json"' '"kind": "Managed"' '"mirror_traffic": {}'; do
	check_contains "endpoint show has $(printf '%s' "$f" | head -n 1)" "$f" "$out"
done
out=$("$SP" online-deployment show -n blue -e endpoint-online-1)
check_contains "deployment show: model resolved to a version" '"model": "azureml:model-online-1:1"' "$out"
check_contains "deployment show: request_timeout_ms default" '"request_timeout_ms": 5000' "$out"
check_contains "deployment show: kept key round trip" '"instance_type": "Standard_DS4_v2"' "$out"
check "update --set request_settings.request_timeout_ms=10000" "$SP" online-deployment update -n blue -e endpoint-online-1 \
	--set request_settings.request_timeout_ms=10000 --set instance_count=2
out=$("$SP" online-deployment show -n blue -e endpoint-online-1 --query request_settings.request_timeout_ms -o tsv)
[ "$out" = 10000 ] && ok "dotted --query after --set" || not_ok "dotted --query after --set" "$out"
"$SP" online-deployment list -e endpoint-online-1 --query name -o tsv >"$T/names"
[ "$(cat "$T/names")" = blue ] && ok "deployment list --query name" || not_ok "deployment list --query name" "$(cat "$T/names")"

old=$PRIMARY_KEY
check "regenerate-keys --key-type primary" "$SP" online-endpoint regenerate-keys --name endpoint-online-1 --key-type primary
new=$("$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv)
[ -n "$new" ] && [ "$new" != "$old" ] && ok "regenerate-keys replaced the primary key" || not_ok "regenerate-keys replaced the primary key"

# ---- endpoint 2: the pyfunc model with labels ----
E=$EX/endpoint_2
check "model create pyfunc with --labels" "$SP" model create --path fixtures/pyfunc_model --name model-online-2 --version 1 \
	--type mlflow_model --labels fixtures/labels.txt
out=$("$SP" model show --name model-online-2 --label latest --query postprocess -o tsv)
[ "$out" = labels ] && ok "pyfunc registered with labels post-processing" || not_ok "pyfunc registered with labels post-processing" "$out"
"$SP" predict --model-uri models:/model-online-2/1 -i fixtures/test_data/images.json >"$T/p.json"
cmp -s "$T/p.json" fixtures/expected/images_labels.json && ok "predict models:/model-online-2/1: labels" ||
	not_ok "predict models:/model-online-2/1: labels" "$(cat "$T/p.json")"
check "endpoint 2 create" "$SP" online-endpoint create -f $E/cloud/endpoint.yml
check "endpoint 2 deployment" "$SP" online-deployment create -f $E/cloud/deployment.yml --all-traffic

# ---- endpoint 3: aml_token ----
E=$EX/endpoint_3
check "model create (endpoint 3)" "$SP" model create --path fixtures/model --name model-online-3 --version 1 --type mlflow_model
check "endpoint 3 create (aml_token)" "$SP" online-endpoint create -f $E/cloud/endpoint.yml
check "endpoint 3 deployment" "$SP" online-deployment create -f $E/cloud/deployment.yml --all-traffic
out=$("$SP" online-endpoint get-credentials --name endpoint-online-3)
for f in '"accessToken": "' '"tokenType": "Bearer"' '"expiryTimeUtc": ' '"refreshAfterTimeUtc": '; do
	check_contains "aml_token credentials have $f" "$f" "$out"
done
ACCESS_TOKEN=$("$SP" online-endpoint get-credentials --name endpoint-online-3 --query accessToken -o tsv)
payload=$(jwt_payload "$ACCESS_TOKEN")
check_contains "token aud is the endpoint" '"aud":"endpoint-online-3"' "$payload"
iat=$(printf '%s' "$payload" | sed -n 's/.*"iat":\([0-9]*\).*/\1/p')
exp=$(printf '%s' "$payload" | sed -n 's/.*"exp":\([0-9]*\).*/\1/p')
now=$(date +%s)
if [ -n "$iat" ] && [ $((exp - iat)) -eq 3600 ] && [ $((now - iat)) -le 60 ]; then ok "token: exp - iat = 3600, issued now"
else not_ok "token: exp - iat = 3600, issued now" "$payload"; fi
secret_before=$(grep token_secret "$W/state.yaml" | sort | sha256sum)
check "regenerate-keys rotates the aml_token signing secret" "$SP" online-endpoint regenerate-keys -n endpoint-online-3 --key-type primary
[ "$(grep token_secret "$W/state.yaml" | sort | sha256sum)" != "$secret_before" ] && ok "token secret changed" || not_ok "token secret changed"
check_fails "get-credentials of a missing endpoint" "does not exist" "$SP" online-endpoint get-credentials -n endpoint-nope

# ---- endpoint 4: blue/green ----
E=$EX/endpoint_4
check "model create (endpoint 4)" "$SP" model create --path fixtures/model --name model-online-4 --version 1 --type mlflow_model
check "endpoint 4 create" "$SP" online-endpoint create -f $E/cloud/endpoint.yml
check "blue --all-traffic" "$SP" online-deployment create -f $E/cloud/deployment-blue.yml --all-traffic
check "green (no traffic)" "$SP" online-deployment create -f $E/cloud/deployment-green.yml
out=$("$SP" online-endpoint show -n endpoint-online-4 --query traffic -o json)
[ "$out" = '{
  "blue": 100
}' ] && ok "a new deployment gets 0 %" || not_ok "a new deployment gets 0 %" "$out"
check "update --traffic \"blue=90 green=10\"" "$SP" online-endpoint update --name endpoint-online-4 --traffic "blue=90 green=10"
out=$("$SP" online-endpoint show -n endpoint-online-4 --query traffic -o tsv)
[ "$out" = "$(printf 'blue\t90\ngreen\t10')" ] && ok "traffic is blue=90 green=10" || not_ok "traffic is blue=90 green=10" "$out"

# ---- refusals: one line, exit 1, workspace byte-identical ----
printf '$schema: x\nname: red\nendpoint_name: endpoint-online-4\nmodel: azureml:model-online-4@latest\ninstnce_type: Standard_DS4_v2\n' >"$T/bad.yml"
refuse "misspelled key, with file:line" "$T/bad.yml:5: unknown key \"instnce_type\"" "$SP" online-deployment create -f "$T/bad.yml"
printf 'name: red\nendpoint_name: endpoint-online-4\nmodel: azureml:model-online-4@latest\ninstance_count: abc\n' >"$T/bad.yml"
refuse "instance_count: abc" "$T/bad.yml:4: instance_count: expected a whole number" "$SP" online-deployment create -f "$T/bad.yml"
printf 'name: 4-bad\nauth_mode: key\n' >"$T/bad.yml"
refuse "bad endpoint name" "a name begins with a letter" "$SP" online-endpoint create -f "$T/bad.yml"
refuse "bad name on the command line" "a name begins with a letter" "$SP" online-endpoint create --name x_y
printf 'name: ep-aad\nauth_mode: aad_token\n' >"$T/bad.yml"
refuse "aad_token" "not available locally" "$SP" online-endpoint create -f "$T/bad.yml"
printf 'name: red\nendpoint_name: endpoint-online-1\nmodel: azureml:model-online-4@latest\n' >"$T/bad.yml"
refuse "endpoint_name of another file" "does not exist" "$SP" online-deployment create -f "$T/bad.yml" -e endpoint-nope
printf 'name: [x\n' >"$T/bad.yml"
refuse "YAML syntax error" "$T/bad.yml:" "$SP" online-endpoint create -f "$T/bad.yml"
refuse "duplicate endpoint" "already exists: use online-endpoint update" "$SP" online-endpoint create -f $EX/endpoint_4/cloud/endpoint.yml
refuse "duplicate deployment" "already has a deployment \"green\"" "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml
refuse "duplicate model version" "already exists" "$SP" model create --path fixtures/model --name model-online-4 --version 1
refuse "conversion refused (hostile pickle)" "refus" "$SP" model create --path fixtures/pth/evil.pth --name model-evil --version 1
[ ! -e "$W/models/model-evil" ] && ok "a refused conversion leaves no model folder" || not_ok "a refused conversion leaves no model folder"
refuse "mlflow_model that is not a directory" "an mlflow_model is a directory" \
	"$SP" model create --path fixtures/model/data/model.pth --name model-file --version 1 --type mlflow_model
refuse "traffic not summing to 100" "must be 100" "$SP" online-endpoint update -n endpoint-online-4 --traffic "blue=90 green=20"
refuse "unknown deployment in traffic" "has no deployment \"purple\"" "$SP" online-endpoint update -n endpoint-online-4 --traffic "blue=90 purple=10"
refuse "traffic delimiter" "Do not add a delimiter" "$SP" online-endpoint update -n endpoint-online-4 --traffic "blue=90,green=10"
refuse "mirror above 50 %" "50" "$SP" online-endpoint update -n endpoint-online-4 --mirror-traffic "green=60"
refuse "mirror to a live deployment" "live and mirror" "$SP" online-endpoint update -n endpoint-online-4 --mirror-traffic "green=10"
refuse "model delete while used" "is used by deployment" "$SP" model delete --name model-online-4 --version 1
refuse "deployment delete with live traffic" "10% of endpoint \"endpoint-online-4\"'s live traffic" \
	"$SP" online-deployment delete --name green --endpoint-name endpoint-online-4 --yes
refuse "delete without --yes off a terminal" "give --yes" "$SP" online-endpoint delete --name endpoint-online-4
refuse "model not registered" "is not registered" "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml \
	-n red --set model=azureml:model-nope@latest
refuse "unknown --set key" "unknown key" "$SP" online-deployment update -n blue -e endpoint-online-4 --set instnce_count=2
refuse "bad --set value" "expected a whole number from 1 to 180000" \
	"$SP" online-deployment update -n blue -e endpoint-online-4 --set request_settings.request_timeout_ms=200000

# Mirror traffic, then the safe rollout to the end.
check "traffic all to blue" "$SP" online-endpoint update -n endpoint-online-4 --traffic "blue=100 green=0"
check "mirror 10 % to green" "$SP" online-endpoint update -n endpoint-online-4 --mirror-traffic "green=10"
out=$("$SP" online-endpoint show -n endpoint-online-4 --query mirror_traffic.green -o tsv)
[ "$out" = 10 ] && ok "mirror_traffic.green = 10" || not_ok "mirror_traffic.green = 10" "$out"
check "stop mirroring (green=0)" "$SP" online-endpoint update -n endpoint-online-4 --mirror-traffic "green=0"
check "delete green at 0 %" "$SP" online-deployment delete -n green -e endpoint-online-4 --yes
out=$("$SP" online-endpoint show -n endpoint-online-4 --query traffic -o tsv)
[ "$out" = "$(printf 'blue\t100')" ] && ok "green's 0 % entry left with it" || not_ok "green's 0 % entry left with it" "$out"

# Keys with no local meaning are kept and shown as written.
printf 'name: endpoint-kept\ndescription: kept keys\ntags:\n  team: vision\n  tier: 1\nidentity:\n  type: system_assigned\npublic_network_access: disabled\n' >"$T/kept.yml"
check "endpoint with identity, tags, description" "$SP" online-endpoint create -f "$T/kept.yml"
out=$("$SP" online-endpoint show -n endpoint-kept)
for f in '"identity": {
    "type": "system_assigned"
  }' '"tier": "1"' '"description": "kept keys"' '"public_network_access": "disabled"'; do
	check_contains "kept in show: $(printf '%s' "$f" | head -n 1)" "$f" "$out"
done
check "endpoint update --set tags.tier=2" "$SP" online-endpoint update -n endpoint-kept --set tags.tier=2
out=$("$SP" online-endpoint show -n endpoint-kept --query tags.tier -o tsv)
[ "$out" = 2 ] && ok "--set on a kept map" || not_ok "--set on a kept map" "$out"
check "endpoint-kept delete" "$SP" online-endpoint delete -n endpoint-kept --yes

# Two deployments created at once both land.
check "endpoint for concurrent creates" "$SP" online-endpoint create --name endpoint-conc
"$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-blue.yml -n dep-one -e endpoint-conc >/dev/null 2>"$T/e1" &
p1=$!
"$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml -n dep-two -e endpoint-conc >/dev/null 2>"$T/e2" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
n=$("$SP" online-deployment list -e endpoint-conc --query name -o tsv | sort | tr '\n' ' ')
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ "$n" = "dep-one dep-two " ] && ok "two concurrent deployment creates both land" ||
	not_ok "two concurrent deployment creates both land" "$r1 $r2 [$n]" "$(cat "$T/e1" "$T/e2")"

# Logs: the handler's JSON lines, filtered by endpoint and deployment.
mkdir -p "$W/logs"
for i in 1 2 3; do
	printf '{"time": "t", "pid": 1, "request_id": "r%s", "endpoint": "endpoint-online-4", "deployment": "blue", "route": "score", "method": "POST", "status": 200, "rows": 2, "bytes_in": 1, "bytes_out": 1, "us": 5}\n' $i
	printf '{"time": "t", "pid": 1, "request_id": "x%s", "endpoint": "endpoint-online-1", "deployment": "blue", "route": "score", "method": "POST", "status": 200, "rows": 2, "bytes_in": 1, "bytes_out": 1, "us": 5}\n' $i
done >"$W/logs/requests.log"
out=$("$SP" online-deployment get-logs -n blue -e endpoint-online-4 --lines 2 | grep -o '"request_id": "[a-z0-9]*"' | tr '\n' ' ')
[ "$out" = '"request_id": "r2" "request_id": "r3" ' ] && ok "get-logs --lines 2: the last two of this deployment" ||
	not_ok "get-logs --lines 2" "$out"

# Deletes.
check "model list" "$SP" model list
check "endpoint 1 delete -y" "$SP" online-endpoint delete --name endpoint-online-1 -y
check "model delete once unused" "$SP" model delete --name model-online-1 --version 1
[ ! -e "$W/models/model-online-1" ] && ok "model files removed" || not_ok "model files removed"
n=$("$SP" online-endpoint list --query name -o tsv | tr '\n' ' ')
[ "$n" = "endpoint-online-2 endpoint-online-3 endpoint-online-4 endpoint-conc " ] && ok "endpoint list" || not_ok "endpoint list" "$n"
[ -z "$(find "$W" -name '*.tmp*')" ] && ok "no temporary files left" || not_ok "no temporary files left" "$(find "$W" -name '*.tmp*')"
