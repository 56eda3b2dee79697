#!/bin/sh
# tools/run_demo.sh BUILD [PORT] - what `make run` runs, from the checkout's
# root: the tutorial's four endpoints (deploy/examples/endpoint_1..4) in the
# demo workspace build/run-workspace, served by `scorepoint serve` on
# 127.0.0.1:PORT (default 8080) until Ctrl-C.
#
# The workspace is made once, with the CLI, from the fixture models (no
# python, no network), and reused by later runs, which keeps its keys, any
# traffic you changed and its request log; `rm -rf build/run-workspace`
# starts afresh.  Before serving, this prints for each endpoint its scoring
# URI, the command that gets its credential and a curl line to paste, and
# the Studio page's URL (docs/studio.md).
set -eu
build=${1:?usage: tools/run_demo.sh BUILD [PORT]}
port=${2:-8080}
host=127.0.0.1
W=build/run-workspace
S=$build/scorepoint
EX=deploy/examples
REQ=fixtures/test_data/images_azureml.json

# sp ARGS...: the CLI on the workspace being made, its JSON answer dropped.
sp() { "$S" "$@" --workspace "$W.new" >/dev/null; }

make_workspace() {
	echo "run: making the demo workspace $W (once; later runs reuse it)"
	rm -rf "$W.new"
	for n in 1 3 4; do
		sp model create --path fixtures/model --name model-online-$n --version 1 --type mlflow_model
	done
	sp model create --path fixtures/pyfunc_model --name model-online-2 --version 1 --type mlflow_model
	for n in 1 2 3; do
		sp online-endpoint create -f $EX/endpoint_$n/cloud/endpoint.yml
		sp online-deployment create -f $EX/endpoint_$n/cloud/deployment.yml --all-traffic
	done
	sp online-endpoint create -f $EX/endpoint_4/cloud/endpoint.yml
	sp online-deployment create -f $EX/endpoint_4/cloud/deployment-blue.yml --all-traffic
	sp online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml
	# Whole or not at all: an interrupted run leaves no half workspace.
	mv "$W.new" "$W"
}

# guide ENDPOINT QUERY WHAT: its URI, credential command and curl line.
guide() {
	uri=http://$host:$port/$1/score
	cred="$S online-endpoint get-credentials --workspace $W --name $1 --query $2 -o tsv"
	echo "$1 ($3)"
	echo "  scoring URI: $uri"
	echo "  credential:  $cred"
	echo "  curl -sS -H \"Authorization: Bearer \$($cred)\" -H \"Content-Type: application/json\" --data @$REQ $uri"
}

[ -f "$W/state.yaml" ] || make_workspace
echo
echo "The tutorial's four endpoints, from $W; paste a curl line in another terminal:"
guide endpoint-online-1 primaryKey "key auth: torch's logits"
guide endpoint-online-2 primaryKey "key auth: the pyfunc model's labels"
guide endpoint-online-3 accessToken "aml_token auth: a one-hour token"
guide endpoint-online-4 primaryKey "key auth: blue 100 %, green 0 %"
echo "  split it:    $S online-endpoint update --workspace $W --name endpoint-online-4 --traffic \"blue=90 green=10\""
echo "Studio: http://$host:$port/_ui/ (open it in a browser; paste a credential above into its page)"
echo
exec "$S" serve --workspace "$W" --host $host --port "$port"
