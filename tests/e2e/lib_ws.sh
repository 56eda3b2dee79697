# tests/e2e/lib_ws.sh - a workspace in $T/ws holding the tutorial's endpoint 1
# (model-online-1, key auth, blue with all the traffic), made with the CLI.
# Sourced after lib.sh; sets SP, W (exported as SCOREPOINT_WORKSPACE), EX
# and REQ (the tutorial's request).
#
#   make_endpoint_1   makes it, sets KEY to its primary key; 1 on failure
#                     (the CLI's message on stdout, as a diagnostic)
SP=$BUILD/scorepoint
W=$T/ws
export SCOREPOINT_WORKSPACE="$W"
EX=deploy/examples
REQ=fixtures/test_data/images_azureml.json

make_endpoint_1() {
	{ "$SP" model create --path fixtures/model --name model-online-1 --version 1 --type mlflow_model &&
		"$SP" online-endpoint create -f $EX/endpoint_1/cloud/endpoint.yml &&
		"$SP" online-deployment create -f $EX/endpoint_1/cloud/deployment.yml --all-traffic; } \
		>/dev/null 2>"$T/.lib-ws-err" || { sed 's/^/# /' "$T/.lib-ws-err"; return 1; }
	KEY=$("$SP" online-endpoint get-credentials --name endpoint-online-1 --query primaryKey -o tsv)
}
