/*
 * scorepoint - the control-plane CLI: `az ml`'s model, online-endpoint and
 * online-deployment verbs over a local workspace, and `predict`
 * (docs/cli.md).  This file is the table of verbs and their flags; the
 * verbs are in cli/cli_*.c.
 */
#include "cli/cli.h"
#include "cli/cli_serve.h"
#include "model/version.h"

#include <stdio.h>
#include <string.h>

#define F_END { NULL, 0, 0, 0, NULL }

static const struct cli_flag model_create_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the model's name (required)" },
	{ "version", 'v', O_VERSION, 1, "VERSION  its version (default: 1 + the largest so far)" },
	{ "path", 'p', O_PATH, 1, "PATH  an MLflow model directory or a torch.save .pth file (required)" },
	{ "type", 't', O_TYPE, 1, "TYPE  mlflow_model or custom_model (default custom_model)" },
	{ "description", 'd', O_DESCRIPTION, 1, "TEXT  a description, kept" },
	{ "labels", 0, O_LABELS, 1, "FILE|a,b,...  output labels, one per model output" },
	{ "postprocess", 0, O_POSTPROCESS, 1, "KIND  logits, probabilities or labels" },
	{ "arch", 0, O_ARCH, 1, "SPEC  a state_dict's layers and ops, or a module's execution order (docs/cli.md)" },
	{ "input-shape", 0, O_INPUT_SHAPE, 1, "C,H,W  the shape of one input row, when forward() does x.view(...)" },
	{ "assume-registration-order", 0, O_ASSUME_ORDER, 0, " run a custom forward()'s children in registration "
	  "order (marked in the model)" },
	{ "verify", 0, O_VERIFY, 0, " compare with torch before registering: RUNS THE MODEL'S OWN PYTHON CODE" },
	{ "verify-input", 0, O_VERIFY_INPUT, 1, "FILE  the rows --verify compares on (a JSON or CSV request)" },
	F_END
};
static const struct cli_flag model_list_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  only the versions of this model" },
	F_END
};
static const struct cli_flag model_show_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the model (required)" },
	{ "version", 'v', O_VERSION, 1, "VERSION  the version" },
	{ "label", 'l', O_LABEL, 1, "latest  the last registered version" },
	F_END
};
static const struct cli_flag model_delete_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the model (required)" },
	{ "version", 'v', O_VERSION, 1, "VERSION  the version (required)" },
	F_END
};

static const struct cli_flag ep_create_flags[] = {
	{ "file", 'f', O_FILE, 1, "FILE  a managedOnlineEndpoint YAML file" },
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint's name (overrides the file's)" },
	{ "auth-mode", 0, O_AUTH_MODE, 1, "MODE  key or aml_token (default key)" },
	{ "set", 0, O_SET, 1, "KEY=VALUE  set a key of the file (repeatable)" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag ep_name_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint (required)" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag ep_list_flags[] = {
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag ep_update_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint" },
	{ "traffic", 'r', O_TRAFFIC, 1, "SPLIT  live traffic, e.g. \"blue=90 green=10\": sums to 100 (or 0)" },
	{ "mirror-traffic", 0, O_MIRROR, 1, "\"green=10\"  copy up to 50 % to one deployment (=0 stops)" },
	{ "file", 'f', O_FILE, 1, "FILE  a managedOnlineEndpoint YAML file replacing the endpoint's keys" },
	{ "set", 0, O_SET, 1, "KEY=VALUE  set one key (repeatable), e.g. description=..." },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag ep_regen_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint (required)" },
	{ "key-type", 0, O_KEY_TYPE, 1, "primary|secondary  the key to replace (default primary; aml_token: "
	  "ignored, the one signing secret is replaced)" },
	F_END
};
static const struct cli_flag ep_invoke_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint (required)" },
	{ "request-file", 'r', O_REQUEST_FILE, 1, "FILE  the JSON request body (required)" },
	{ "deployment-name", 'd', O_DEPLOYMENT, 1, "NAME  send it to this deployment, whatever the traffic" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag ep_shadow_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint (required)" },
	{ "reset", 0, O_RESET, 0, " print the counts, then zero them and start again from now" },
	{ "metrics-file", 0, O_METRICS_FILE, 1, "FILE  the server's counter file (default: score.fcgi's for this "
	  "workspace)" },
	F_END
};
static const struct cli_flag ep_delete_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the endpoint (required)" },
	{ "yes", 'y', O_YES, 0, " do not ask for confirmation" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};

static const struct cli_flag dep_create_flags[] = {
	{ "file", 'f', O_FILE, 1, "FILE  a managedOnlineDeployment YAML file (required)" },
	{ "name", 'n', O_NAME, 1, "NAME  the deployment's name (overrides the file's)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (overrides the file's)" },
	{ "all-traffic", 0, O_ALL_TRAFFIC, 0, " give it 100 % of the live traffic (the others 0 %)" },
	{ "set", 0, O_SET, 1, "KEY=VALUE  set a key of the file (repeatable)" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	{ "skip-script-validation", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility; no effect" },
	F_END
};
static const struct cli_flag dep_name_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the deployment (required)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (required)" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag dep_list_flags[] = {
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  the endpoint (required)" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag dep_update_flags[] = {
	{ "file", 'f', O_FILE, 1, "FILE  a managedOnlineDeployment YAML file replacing the deployment" },
	{ "name", 'n', O_NAME, 1, "NAME  the deployment (with --set)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (with --set)" },
	{ "set", 0, O_SET, 1, "KEY=VALUE  e.g. instance_count=2 (repeatable)" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag dep_logs_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the deployment (required)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (required)" },
	{ "lines", 'l', O_LINES, 1, "N  the last N request log lines (default 100)" },
	{ "container", 'c', O_CONTAINER, 1, "inference-server  the only log there is" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};
static const struct cli_flag dep_data_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the deployment (required)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (required)" },
	{ "collection", 'c', O_COLLECTION, 1, "NAME  model_inputs or model_outputs (default: both)" },
	{ "from", 0, O_FROM, 1, "TIME  from this UTC hour, 2026-12-07T03 (or day, or minute)" },
	{ "to", 0, O_TO, 1, "TIME  up to this UTC hour, included" },
	{ "list", 0, O_LIST, 0, " one JSON object per file (path, collection, hour, lines, bytes), not the lines" },
	F_END
};
static const struct cli_flag dep_delete_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the deployment (required)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (required)" },
	{ "yes", 'y', O_YES, 0, " do not ask for confirmation" },
	{ "local", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility: everything is local" },
	F_END
};

static const struct cli_flag dep_replay_flags[] = {
	{ "name", 'n', O_NAME, 1, "NAME  the deployment to send the requests to (required)" },
	{ "endpoint-name", 'e', O_ENDPOINT, 1, "NAME  its endpoint (required)" },
	{ "collected", 0, O_COLLECTED, 0, " replay the data collector's model_inputs, compared with its "
	  "model_outputs" },
	{ "source-deployment", 0, O_SOURCE_DEPLOYMENT, 1, "NAME  with --collected: what this deployment collected "
	  "(default: every one)" },
	{ "from", 0, O_FROM, 1, "TIME  with --collected: from this UTC hour, 2026-12-07T03 (or day, or minute)" },
	{ "to", 0, O_TO, 1, "TIME  with --collected: up to this UTC hour, included" },
	{ "requests", 0, O_REQUESTS, 1, "FILE  JSON Lines: collected lines (outputs too) or request bodies" },
	/* Repeatable: cli_parse gathers every value of O_SET's flag into c->sets. */
	{ "request-file", 'r', O_SET, 1, "FILE  a whole request body (repeatable, up to 32)" },
	{ "against", 0, O_AGAINST, 1, "NAME  send each request to this deployment too; compare with its answers" },
	{ "max", 0, O_MAX, 1, "N  at most N requests, the oldest first (default 10000)" },
	{ "worst", 0, O_WORST, 1, "N  list the N worst rows (default 5)" },
	{ "min-agreement", 0, O_MIN_AGREEMENT, 1, "FRACTION  exit 3 when fewer rows agree, e.g. 0.99" },
	F_END
};

static const struct cli_flag predict_flags[] = {
	{ "model-uri", 'm', O_MODEL_URI, 1, "URI  an MLflow directory, a .pth file, a blob, or models:/NAME/VERSION" },
	{ "input-path", 'i', O_INPUT_PATH, 1, "FILE  the input (required)" },
	{ "content-type", 't', O_CONTENT_TYPE, 1, "TYPE  json or csv (default json)" },
	{ "output-path", 0, O_OUTPUT_PATH, 1, "FILE  write the predictions there (default stdout)" },
	{ "labels", 0, O_LABELS, 1, "FILE|a,b,...  output labels (a pyfunc wrapper needs them)" },
	{ "postprocess", 0, O_POSTPROCESS, 1, "KIND  logits, probabilities or labels" },
	F_END
};

static const struct cli_flag serve_flags[] = {
	{ "host", 0, O_HOST, 1, "ADDRESS  listen on this IP address (default 127.0.0.1; 0.0.0.0: every interface)" },
	{ "port", 0, O_PORT, 1, "PORT  listen on this port (default: $PORT, else 8080)" },
	{ "workers", 0, O_WORKERS, 1, "N  score.fcgi processes (default: the deployments' instance_count summed, "
	  "at most 4 per CPU)" },
	{ "lighttpd", 0, O_LIGHTTPD, 1, "PATH  the lighttpd program (default: lighttpd on PATH or in /usr/sbin)" },
	{ "ui-list", 0, O_UI_LIST, 1, "on|off  let the Studio page (/_ui/) list the endpoints' names (default: on "
	  "for a loopback --host, else off)" },
	F_END
};

static const struct cli_verb verbs[] = {
	{ "model", "create", cli_model_create, "Register a model: convert it into the workspace once.", model_create_flags },
	{ "model", "list", cli_model_list, "List the registered models.", model_list_flags },
	{ "model", "show", cli_model_show, "Show one registered model.", model_show_flags },
	{ "model", "delete", cli_model_delete, "Delete a model version no deployment uses.", model_delete_flags },
	{ "online-endpoint", "create", cli_endpoint_create, "Create an endpoint, with fresh keys and token secret.",
	  ep_create_flags },
	{ "online-endpoint", "show", cli_endpoint_show, "Show an endpoint (scoring_uri, traffic, ...).", ep_name_flags },
	{ "online-endpoint", "list", cli_endpoint_list, "List the endpoints.", ep_list_flags },
	{ "online-endpoint", "update", cli_endpoint_update, "Change traffic, mirror traffic or the endpoint's keys.",
	  ep_update_flags },
	{ "online-endpoint", "get-credentials", cli_endpoint_credentials,
	  "Print the keys (key mode) or a fresh one-hour token (aml_token mode).", ep_name_flags },
	{ "online-endpoint", "regenerate-keys", cli_endpoint_regenerate,
	  "Replace a key (key mode) or the token-signing secret (aml_token mode).", ep_regen_flags },
	{ "online-endpoint", "invoke", cli_endpoint_invoke, "Score a request file through the real handler (CGI).",
	  ep_invoke_flags },
	{ "online-endpoint", "shadow-report", cli_endpoint_shadow_report,
	  "Print how the endpoint's mirror deployments agree with the live answers.\n\n"
	  "For each (live deployment, mirror deployment) pair that mirror traffic has\n"
	  "compared: rows compared, rows agreeing (the same argmax), disagreeing and not\n"
	  "comparable (other output widths), the agreement rate, the worst and the mean\n"
	  "absolute difference (null when a difference was not finite) and since when\n"
	  "(UTC), summed over every worker of the server, from its counter file.",
	  ep_shadow_flags },
	{ "online-endpoint", "delete", cli_endpoint_delete, "Delete an endpoint and its deployments.", ep_delete_flags },
	{ "online-deployment", "create", cli_deployment_create, "Create a deployment of a registered model.",
	  dep_create_flags },
	{ "online-deployment", "show", cli_deployment_show, "Show a deployment.", dep_name_flags },
	{ "online-deployment", "list", cli_deployment_list, "List an endpoint's deployments.", dep_list_flags },
	{ "online-deployment", "update", cli_deployment_update, "Change a deployment (-f FILE or --set KEY=VALUE).",
	  dep_update_flags },
	{ "online-deployment", "get-logs", cli_deployment_logs, "Print a deployment's last request log lines.",
	  dep_logs_flags },
	{ "online-deployment", "get-data", cli_deployment_data, "Print what the data collector wrote for a "
	  "deployment (docs/collect.md).", dep_data_flags },
	{ "online-deployment", "delete", cli_deployment_delete, "Delete a deployment that has no live traffic.",
	  dep_delete_flags },
	{ "online-deployment", "replay", cli_deployment_replay,
	  "Send real requests to a deployment through the real handler and compare the answers.\n\n"
	  "The requests: the data collector's model_inputs (--collected), a JSON Lines file\n"
	  "(--requests) or request files (-r); each runs score.fcgi as CGI, as invoke does,\n"
	  "with azureml-model-deployment: NAME.  Each answer is compared with the collected\n"
	  "model_outputs of the same correlationid, or with --against's answer: identical\n"
	  "bodies, and per row the same class (argmax) and the largest score difference.\n"
	  "Prints requests, rows, agreement, the worst rows, latency percentiles (ms, from\n"
	  "the fork of score.fcgi to its answer) and failures by status.\n"
	  "Exit status 3 (the report printed) when --min-agreement is not met.",
	  dep_replay_flags },
	{ NULL, "predict", cli_predict, "Score a file with a model, no server: the tutorial's `mlflow models predict`.",
	  predict_flags },
	{ NULL, "serve", cli_serve,
	  "Serve the workspace's endpoints with lighttpd and score.fcgi until Ctrl-C.\n\n"
	  "Records --host and --port in the workspace (the address scoring_uri names), runs\n"
	  "`lighttpd -D` in the foreground with `score.fcgi --workspace DIR` as its FastCGI\n"
	  "backend and prints each endpoint's scoring URI and the Studio page's URL (/_ui/),\n"
	  "then the request log's new lines.\n"
	  "Endpoints, deployments, keys and traffic changed meanwhile are served at once;\n"
	  "when the deployments' instance_count adds up to another number of workers (no\n"
	  "--workers given), lighttpd restarts gracefully with that many.\n"
	  "Ctrl-C or SIGTERM stops lighttpd and every worker; the exit status is then 0.",
	  serve_flags },
};

/* Run the verb named group and verb (NULL for a top-level one) with the
 * options args[0, n); -1 when there is no such verb. */
static int run(const char *group, const char *verb, int n, char **args)
{
	struct cli c;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		const struct cli_verb *v = &verbs[i];
		if ((group ? v->group && strcmp(v->group, group) == 0 : !v->group) && strcmp(v->name, verb) == 0) {
			int rc = cli_parse(&c, v, n, args);
			return rc >= 0 ? rc : v->run(&c);
		}
	}
	return -1;
}

static int known_group(const char *group)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (verbs[i].group && strcmp(verbs[i].group, group) == 0)
			return 1;
	return 0;
}

static int asks_help(int n, char **args)
{
	for (int i = 0; i < n; i++)
		if (strcmp(args[i], "--help") == 0 || strcmp(args[i], "-h") == 0)
			return 1;
	return 0;
}

/* `scorepoint help [GROUP]`: the usage, on stdout. */
static int help(const struct cli_verb_list *all, const char *group)
{
	if (group && !known_group(group)) {
		fprintf(stderr, "scorepoint: help %s: no such group (see scorepoint --help)\n", group);
		return 2;
	}
	cli_usage_group(all, group, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const struct cli_verb_list all = { verbs, sizeof verbs / sizeof verbs[0] };
	int nwords = 0;
	int rc = cli_order(argc, argv, SCOREPOINT_VERSION, &nwords);

	if (rc >= 0)
		return rc;
	/* argv: scorepoint WORD... OPTIONS... */
	char **opts = argv + 1 + nwords;
	int nopts = argc - 1 - nwords;
	if (nwords == 0) {
		cli_usage_group(&all, NULL, !asks_help(nopts, opts));
		return asks_help(nopts, opts) ? 0 : 2;
	}
	const char *group = argv[1];
	if (strcmp(group, "help") == 0)
		return help(&all, nwords > 1 ? argv[2] : NULL);
	if ((rc = run(NULL, group, argc - 2, argv + 2)) >= 0)
		return rc;
	if (!known_group(group)) {
		fprintf(stderr, "scorepoint: unknown command \"%s\": use model, online-endpoint, online-deployment, "
			"predict, serve or help (see scorepoint --help)\n", group);
		return 2;
	}
	if (nwords < 2) {
		cli_usage_group(&all, group, !asks_help(nopts, opts));
		return asks_help(nopts, opts) ? 0 : 2;
	}
	if ((rc = run(group, argv[2], argc - 3, argv + 3)) >= 0)
		return rc;
	fprintf(stderr, "scorepoint: %s has no verb \"%s\" (see scorepoint %s --help)\n", group, argv[2], group);
	return 2;
}
