# tests/e2e/lib_ws.sh - a workspace in $T/ws holding the tutorial's endpoint 1
# (model-online-1, key auth, blue with all the traffic), made with the CLI.
# Sourced after lib.sh; sets SP, W (exported as SCOREPOINT_WORKSPACE), EX
# and REQ (the tutorial's request).
#
#   make_endpoint_1   makes it, sets KEY to its primary key; 1 on failure
#                     (the CLI's message on stdout, as a diagnostic)
#   make_tutorial_endpoints  the tutorial's four endpoints instead, as
#                     tools/run_demo.sh makes them (endpoint 4: blue with
#                     all the traffic, green at 0 %); 1 on failure
#   serve_start ARGS...  `scorepoint serve` of $W on a free loopback port
#                     (another when one is taken), with ARGS; its output in
#                     $T/serve.out and $T/serve.err; sets PORT and
#                     SERVE_PID; 0 once GET /health answers 200
#   serve_stop        stops it (the caller's EXIT trap should too)
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

# lib_ws_quiet CMD...: CMD's output dropped, its error shown as a diagnostic.
lib_ws_quiet() { "$@" >/dev/null 2>"$T/.lib-ws-err" || { sed 's/^/# /' "$T/.lib-ws-err"; return 1; }; }

make_tutorial_endpoints() {
	for n in 1 3 4; do
		lib_ws_quiet "$SP" model create --path fixtures/model --name model-online-$n --version 1 \
			--type mlflow_model || return 1
	done
	lib_ws_quiet "$SP" model create --path fixtures/pyfunc_model --name model-online-2 --version 1 \
		--type mlflow_model --labels fixtures/labels.txt || return 1
	for n in 1 2 3; do
		lib_ws_quiet "$SP" online-endpoint create -f $EX/endpoint_$n/cloud/endpoint.yml || return 1
		lib_ws_quiet "$SP" online-deployment create -f $EX/endpoint_$n/cloud/deployment.yml --all-traffic ||
			return 1
	done
	lib_ws_quiet "$SP" online-endpoint create -f $EX/endpoint_4/cloud/endpoint.yml &&
		lib_ws_quiet "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-blue.yml --all-traffic &&
		lib_ws_quiet "$SP" online-deployment create -f $EX/endpoint_4/cloud/deployment-green.yml
}

SERVE_PID=
serve_start() {
	mkdir -p "$T/serve-tmp"
	for _ in 1 2 3 4 5; do
		PORT=$(free_port)
		TMPDIR=$T/serve-tmp "$SP" serve --workspace "$W" --host 127.0.0.1 --port "$PORT" "$@" \
			>"$T/serve.out" 2>"$T/serve.err" </dev/null &
		SERVE_PID=$!
		i=0
		while [ $i -lt 200 ] && kill -0 "$SERVE_PID" 2>/dev/null; do
			[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/health")" = 200 ] &&
				return 0
			sleep 0.1
			i=$((i + 1))
		done
		kill -0 "$SERVE_PID" 2>/dev/null && return 1
		grep -q "in use" "$T/serve.err" || return 1
	done
	return 1
}
serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	stop_pid "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}
