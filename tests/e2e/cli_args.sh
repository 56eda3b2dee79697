# scorepoint's command line as a new user types it: global options anywhere,
# -w NAME, --version and help, a missing model version named with those
# there are, -o tsv that shows names, paths without "//", regenerate-keys
# without --key-type.
. tests/e2e/lib.sh
SP=$BUILD/scorepoint
W=$T/ws
EX=deploy/examples
unset SCOREPOINT_WORKSPACE
export XDG_DATA_HOME="$T/xdg" HOME="$T/home"

# one_line NAME STATUS FRAGMENT CMD...: CMD exits STATUS with one line on
# stderr holding FRAGMENT and nothing on stdout.
one_line() {
	name=$1 status=$2 fragment=$3
	shift 3
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ $rc -eq "$status" ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$fragment" "$T/err" && [ ! -s "$T/out" ]; then
		ok "$name"
	else
		not_ok "$name" "rc=$rc" "$(cat "$T/err")" "$(head -c 300 "$T/out")"
	fi
}

# ---- global options anywhere on the line ----
check "--workspace DIR before the group: model create" "$SP" --workspace "$W" model create --path fixtures/model \
	--name model-online-1 --version 1 --type mlflow_model
[ -f "$W/models/model-online-1/1/model.blob" ] && ok "... it went into DIR" || not_ok "... it went into DIR" "$(ls -R "$T")"
check "--workspace=DIR between group and verb" "$SP" model --workspace="$W" create --path fixtures/model \
	--name model-online-1 --version 2
out=$("$SP" --workspace "$W" -o tsv --query version model list 2>&1)
[ "$out" = "$(printf '1\n2')" ] && ok "--workspace, -o and --query before the group" ||
	not_ok "--workspace, -o and --query before the group" "$out"
out=$("$SP" -o tsv model --query name list --workspace "$W" 2>&1)
[ "$out" = "$(printf 'model-online-1\nmodel-online-1')" ] && ok "global options before, between and after the words" ||
	not_ok "global options before, between and after the words" "$out"
out=$("$SP" --workspace "$W" --help model 2>&1) && printf '%s' "$out" | grep -q '^usage: scorepoint model VERB' &&
	ok "--help before the group: the group's usage" || not_ok "--help before the group: the group's usage" "$out"
out=$("$SP" --workspace "$W" model list --help 2>&1) && printf '%s' "$out" | grep -q '^usage: scorepoint model list' &&
	ok "a verb's --help after a global option" || not_ok "a verb's --help after a global option" "$out"
one_line "an option of a verb before the words: exit 2, one line" 2 "unknown option --name before the command" \
	"$SP" --name x model list
out=$("$SP" --workspace "$W" predict -m models:/model-online-1/1 -i fixtures/test_data/images.json 2>&1)
check_contains "--workspace before a top-level verb (predict)" '[{"0": ' "$out"

# ---- -w NAME: a workspace of that name under the data directory ----
check "-w team-a: model create" "$SP" -w team-a model create --path fixtures/model --name model-online-4 --version 1
NW=$XDG_DATA_HOME/scorepoint/workspaces/team-a
[ -f "$NW/state.yaml" ] && [ -f "$NW/models/model-online-4/1/model.blob" ] &&
	ok "-w team-a is \$XDG_DATA_HOME/scorepoint/workspaces/team-a" || not_ok "-w team-a's folder" "$(find "$T" -name state.yaml)"
out=$("$SP" model list --workspace-name team-a --query name -o tsv 2>&1)
[ "$out" = model-online-4 ] && ok "--workspace-name team-a reads it back" || not_ok "--workspace-name team-a reads it back" "$out"
out=$(SCOREPOINT_WORKSPACE="$W" "$SP" model list -w team-a --query name -o tsv 2>&1)
[ "$out" = model-online-4 ] && ok "-w wins over SCOREPOINT_WORKSPACE" || not_ok "-w wins over SCOREPOINT_WORKSPACE" "$out"
out=$("$SP" model list -w team-b 2>&1)
[ "$out" = "[]" ] && ok "another name, another (empty) workspace" || not_ok "another name, another (empty) workspace" "$out"
out=$(env -u XDG_DATA_HOME "$SP" -w team-c model create --path fixtures/model --name model-online-3 --query name -o tsv 2>&1)
[ "$out" = model-online-3 ] && [ -f "$HOME/.local/share/scorepoint/workspaces/team-c/state.yaml" ] &&
	ok "without XDG_DATA_HOME: ~/.local/share/scorepoint/workspaces/NAME" || not_ok "-w under HOME" "$out"
one_line "--workspace and -w together: exit 2, one line" 2 "give --workspace DIR or --workspace-name NAME, not both" \
	"$SP" model list --workspace "$W" -w team-a
for bad in ../x a/b .. .hidden x; do
	one_line "-w \"$bad\" refused" 1 "a workspace name has 3 to 33 letters" "$SP" -w "$bad" model create \
		--path fixtures/model --name model-online-9
done
[ ! -e "$XDG_DATA_HOME/scorepoint/x" ] && [ ! -e "$XDG_DATA_HOME/scorepoint/a" ] &&
	[ "$(ls "$XDG_DATA_HOME/scorepoint/workspaces")" = "$(printf 'team-a')" ] &&
	ok "... and nothing made for them" || not_ok "... and nothing made for them" "$(ls -R "$XDG_DATA_HOME")"
"$SP" model list --help | grep -q -- '-w, --workspace-name NAME .*scorepoint/workspaces/NAME' && ok "--help documents -w NAME" ||
	not_ok "--help documents -w NAME" "$("$SP" model list --help | grep workspace)"

# ---- --version, help ----
REQUEST_METHOD=GET REQUEST_URI=/v2 "$BUILD/score.fcgi" --workspace "$W" --log - --metrics-file "$T/metrics" >"$T/v2"
want=$(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' "$T/v2")
out=$("$SP" --version 2>&1)
[ -n "$want" ] && [ "$out" = "scorepoint $want" ] && ok "scorepoint --version: the version score.fcgi reports ($want)" ||
	not_ok "scorepoint --version" "$out" "score.fcgi: $want"
"$SP" --help >"$T/help1"; r1=$?
"$SP" help >"$T/help2"; r2=$?
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && [ -s "$T/help1" ] && cmp -s "$T/help1" "$T/help2" && ok "scorepoint help is scorepoint --help" ||
	not_ok "scorepoint help is scorepoint --help" "$r1 $r2" "$(head -3 "$T/help2")"
"$SP" help online-endpoint | grep -q '^usage: scorepoint online-endpoint VERB' && ok "scorepoint help GROUP" ||
	not_ok "scorepoint help GROUP"
grep -q -- '--version' "$T/help1" && grep -q 'help' "$T/help1" && ok "--help mentions --version and help" ||
	not_ok "--help mentions --version and help" "$(cat "$T/help1")"
out=$("$SP" model create --path fixtures/model --name model-online-1 --version 3 --workspace "$W" --query version -o tsv)
[ "$out" = 3 ] && ok "model create --version still names the model's version" || not_ok "model create --version" "$out"

# ---- a missing model version names the versions there are ----
one_line "model show: a missing version lists the versions" 1 "model model-online-1:7 is not registered; versions: 1, 2, 3" \
	"$SP" --workspace "$W" model show --name model-online-1 --version 7
one_line "model delete: the same" 1 "model model-online-1:7 is not registered; versions: 1, 2, 3" \
	"$SP" --workspace "$W" model delete --name model-online-1 --version 7
one_line "predict models:/NAME/7: the same" 1 "model model-online-1:7 is not registered; versions: 1, 2, 3" \
	"$SP" --workspace "$W" predict -m models:/model-online-1/7 -i fixtures/test_data/images.json
"$SP" --workspace "$W" online-endpoint create -f $EX/endpoint_1/cloud/endpoint.yml >/dev/null
one_line "deployment create with model NAME:7: the same" 1 "model model-online-1:7 is not registered; versions: 1, 2, 3" \
	"$SP" --workspace "$W" online-deployment create -f $EX/endpoint_1/cloud/deployment.yml --set model=azureml:model-online-1:7
one_line "a model with no version at all: how to register it" 1 \
	"model \"model-nope\" is not registered: run scorepoint model create --name model-nope" \
	"$SP" --workspace "$W" model show --name model-nope --label latest

# ---- -o tsv: the fields a user wants, names included ----
export SCOREPOINT_WORKSPACE="$W"
"$SP" online-deployment create -f $EX/endpoint_1/cloud/deployment.yml --all-traffic >/dev/null
"$SP" online-deployment create -f $EX/endpoint_1/cloud/deployment.yml -n green --set instance_count=2 >/dev/null
out=$("$SP" online-endpoint list -o tsv)
[ "$out" = "$(printf 'endpoint-online-1\tkey\thttp://127.0.0.1:8080/endpoint-online-1/score\tSucceeded')" ] &&
	ok "online-endpoint list -o tsv: name, auth_mode, scoring_uri, state (no \$schema)" || not_ok "online-endpoint list -o tsv" "$out"
out=$("$SP" online-deployment list -e endpoint-online-1 -o tsv)
row() { printf '%s\tendpoint-online-1\tazureml:model-online-1:3\t%s\tSucceeded' "$1" "$2"; }
[ "$out" = "$(row blue 1; echo; row green 2)" ] &&
	ok "online-deployment list -o tsv: name, endpoint, model, instance_count, state" ||
	not_ok "online-deployment list -o tsv" "$out"
out=$("$SP" model list -o tsv | cut -f1-4)
[ "$out" = "$(printf 'model-online-1\t%s\t%s\tlogits\n' 1 mlflow_model 2 custom_model 3 custom_model)" ] &&
	ok "model list -o tsv: name, version, type, postprocess, created" || not_ok "model list -o tsv" "$out"
out=$("$SP" online-endpoint show -n endpoint-online-1 -o tsv)
printf '%s' "$out" | grep -q '^endpoint-online-1	key	' && ! printf '%s' "$out" | grep -q 'azuremlschemas' &&
	ok "online-endpoint show -o tsv: the same row" || not_ok "online-endpoint show -o tsv" "$out"
check "traffic blue=70 green=30" "$SP" online-endpoint update -n endpoint-online-1 --traffic "blue=70 green=30"
out=$("$SP" online-endpoint show -n endpoint-online-1 --query traffic -o tsv)
[ "$out" = "$(printf 'blue\t70\ngreen\t30')" ] && ok "--query traffic -o tsv: name<TAB>percent rows" ||
	not_ok "--query traffic -o tsv: name<TAB>percent rows" "$out"
out=$("$SP" online-endpoint show -n endpoint-online-1 --query traffic.green -o tsv)
[ "$out" = 30 ] && ok "--query traffic.green -o tsv: the bare value" || not_ok "--query traffic.green -o tsv" "$out"
out=$("$SP" online-endpoint list --query name -o tsv)
[ "$out" = endpoint-online-1 ] && ok "list --query name -o tsv: one value per line" || not_ok "list --query name -o tsv" "$out"

# ---- no "//" in a path of a message ----
# (the pyfunc wrapper now converts with its own labels: a CNN folder whose
# forward() cannot be read is refused naming the file it read)
out=$("$SP" model create --path fixtures/cnn/cnn_view/mlflow/ --name model-cnn-view 2>&1)
check_contains "the refusal names the model file it read" "cnn_view/mlflow/data/model.pth: (root): the forward() of" "$out"
printf '%s' "$out" | grep -q '[^:]//' && not_ok "--path DIR/: no \"//\" in the message" "$out" ||
	ok "--path DIR/: no \"//\" in the message"
out=$("$SP" predict -m fixtures/cnn/cnn_view/mlflow/ -i fixtures/test_data/images.json 2>&1)
printf '%s' "$out" | grep -q 'cannot be read' && ! printf '%s' "$out" | grep -q '[^:]//' &&
	ok "predict -m DIR/: no \"//\" either" || not_ok "predict -m DIR/: no \"//\" either" "$out"
out=$("$SP" predict -m fixtures/pyfunc_model/ -i fixtures/test_data/images.json 2>&1)
[ "$out" = '["Ankle Boot", "Pullover"]' ] && ok "predict -m pyfunc DIR/: its own labels" ||
	not_ok "predict -m pyfunc DIR/: its own labels" "$out"

# ---- regenerate-keys: --key-type optional ----
k1=$("$SP" online-endpoint get-credentials -n endpoint-online-1 --query primaryKey -o tsv)
k2=$("$SP" online-endpoint get-credentials -n endpoint-online-1 --query secondaryKey -o tsv)
check "regenerate-keys without --key-type (key endpoint)" "$SP" online-endpoint regenerate-keys -n endpoint-online-1
n1=$("$SP" online-endpoint get-credentials -n endpoint-online-1 --query primaryKey -o tsv)
n2=$("$SP" online-endpoint get-credentials -n endpoint-online-1 --query secondaryKey -o tsv)
[ -n "$n1" ] && [ "$n1" != "$k1" ] && [ "$n2" = "$k2" ] && ok "... the primary key replaced (az's default), the secondary kept" ||
	not_ok "... the primary key replaced, the secondary kept" "$k1 $n1 / $k2 $n2"
check "regenerate-keys --key-type secondary" "$SP" online-endpoint regenerate-keys -n endpoint-online-1 --key-type secondary
[ "$("$SP" online-endpoint get-credentials -n endpoint-online-1 --query secondaryKey -o tsv)" != "$k2" ] &&
	ok "... the secondary replaced" || not_ok "... the secondary replaced"
"$SP" online-endpoint create -f $EX/endpoint_3/cloud/endpoint.yml >/dev/null
before=$(grep token_secret "$W/state.yaml" | sha256sum)
check "regenerate-keys without --key-type (aml_token endpoint)" "$SP" online-endpoint regenerate-keys -n endpoint-online-3
[ "$(grep token_secret "$W/state.yaml" | sha256sum)" != "$before" ] && ok "... its signing secret replaced" ||
	not_ok "... its signing secret replaced"
one_line "--key-type tertiary" 2 "--key-type tertiary: use primary or secondary" \
	"$SP" online-endpoint regenerate-keys -n endpoint-online-1 --key-type tertiary
