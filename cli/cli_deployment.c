/*
 * cli_deployment.c - `scorepoint online-deployment ...`: create (with
 * --all-traffic), show, list, update (-f or --set), get-logs and delete.
 */
#include "cli/cli.h"
#include "model/json.h"
#include "workspace/name.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX (64 << 10)
#define LOG_LINES_MAX 100000
#define LOG_LINES_DEFAULT 100

/* The user's deployment file with --name, --endpoint-name and --set
 * applied, checked; NULL after a refusal (*rc its status). */
static struct ws_node *user_record(const struct cli *c, int *rc)
{
	char err[1024];
	struct ws_node *rec = NULL;

	*rc = 1;
	if (ws_yaml_load(c->val[O_FILE], WS_YAML_MAX_BYTES, &rec, err, sizeof err) < 0) {
		cli_fail("%s", err);
		return NULL;
	}
	if ((c->val[O_NAME] && ws_node_set(rec, "name", ws_node_str(c->val[O_NAME])) < 0) ||
	    (c->val[O_ENDPOINT] && ws_node_set(rec, "endpoint_name", ws_node_str(c->val[O_ENDPOINT])) < 0)) {
		cli_fail("out of memory");
	} else if ((*rc = cli_apply_sets(c, WS_KIND_DEPLOYMENT, rec, 0)) == 0) {
		*rc = 1;
		if (ws_spec_check(WS_KIND_DEPLOYMENT, rec, 0, NULL, c->val[O_FILE], err, sizeof err) == 0)
			return rec;
		cli_fail("%s", err);
	}
	ws_node_free(rec);
	return NULL;
}

/* Rewrite rec's model reference as the concrete registered version it
 * names now (@latest: the last registered).  0 or a refusal. */
static int resolve_model(const struct ws *w, struct ws_node *rec)
{
	char name[MODEL_NAME_MAX_LEN + 1], version[WS_VERSION_MAX + 1], err[768];
	char ref[sizeof "azureml::" + MODEL_NAME_MAX_LEN + WS_VERSION_MAX];
	int latest;
	const char *given = ws_node_text(ws_node_get(rec, "model"));

	if (ws_model_ref(given, name, version, &latest, err, sizeof err) < 0)
		return cli_fail("%s", err);
	const struct ws_model *m = NULL;
	for (size_t i = 0; i < w->nmodels; i++)
		if (strcmp(w->models[i].name, name) == 0 && (latest || strcmp(w->models[i].version, version) == 0))
			m = &w->models[i];
	if (!m)
		return cli_model_missing(w, name, latest ? NULL : version);
	snprintf(ref, sizeof ref, "azureml:%s:%s", m->name, m->version);
	if (ws_node_set(rec, "model", ws_node_str(ref)) < 0)
		return cli_fail("out of memory");
	return 0;
}

static int print_deployment(const struct cli *c, const struct ws *w, const char *ep, const char *name)
{
	const struct ws_endpoint *e = ws_endpoint(w, ep, strlen(ep));
	const struct ws_deployment *d = e ? ws_deployment(e, name, strlen(name)) : NULL;
	if (!d)
		return cli_fail("endpoint \"%s\" has no deployment \"%s\"", ep, name);
	return cli_print_kind(c, cli_deployment_json(d), WS_KIND_DEPLOYMENT);
}

int cli_deployment_create(struct cli *c)
{
	struct ws_txn t;
	char err[1024], name[NAME_MAX_LEN + 1], ep[NAME_MAX_LEN + 1];
	int rc = cli_need(c, O_FILE);

	if (rc)
		return rc;
	struct ws_node *rec = user_record(c, &rc);
	if (!rec)
		return rc;
	snprintf(name, sizeof name, "%s", ws_node_text(ws_node_get(rec, "name")));
	snprintf(ep, sizeof ep, "%s", ws_node_text(ws_node_get(rec, "endpoint_name")));
	if (ws_node_get(rec, "code_configuration"))
		fprintf(stderr, "scorepoint: note: %s: code_configuration is kept but not run; the deployment "
			"serves the registered model's blob\n", c->val[O_FILE]);
	if (ws_begin(c->dir, &t, err, sizeof err) < 0) {
		ws_node_free(rec);
		return cli_fail("%s", err);
	}
	rc = 1;
	struct ws_node *erec = cli_endpoint_rec(t.w.root, ep);
	const struct ws_endpoint *e = ws_endpoint(&t.w, ep, strlen(ep));
	if (!erec || !e) {
		cli_fail("endpoint \"%s\" does not exist: create it first with online-endpoint create", ep);
		goto out;
	}
	if (ws_deployment(e, name, strlen(name))) {
		cli_fail("endpoint \"%s\" already has a deployment \"%s\": use online-deployment update", ep, name);
		goto out;
	}
	if (e->ndeployments >= WS_MAX_DEPLOYMENTS) {
		cli_fail("endpoint \"%s\" has %d deployments, the most one holds", ep, WS_MAX_DEPLOYMENTS);
		goto out;
	}
	if (resolve_model(&t.w, rec))
		goto out;
	/* A new deployment takes no traffic unless --all-traffic gives it all. */
	struct ws_node *traffic = NULL;
	if (c->val[O_ALL_TRAFFIC]) {
		traffic = ws_node_new(WS_MAP, NULL);
		if (ws_node_set(traffic, name, ws_node_int(100)) < 0) {
			ws_node_free(traffic);
			traffic = NULL;
		}
		if (ws_node_set(erec, "traffic", traffic) < 0) {
			cli_fail("out of memory");
			goto out;
		}
	}
	if (ws_node_push(ws_seq(erec, "deployments"), rec) < 0) {
		rec = NULL;
		cli_fail("out of memory");
		goto out;
	}
	rec = NULL;
	if (cli_commit(&t) == 0)
		rc = print_deployment(c, &t.w, ep, name);
out:
	ws_node_free(rec);
	ws_end(&t);
	return rc;
}

/* --name and --endpoint-name, both required and valid. */
static int names(const struct cli *c)
{
	int rc = cli_need(c, O_NAME);
	if (rc || (rc = cli_need(c, O_ENDPOINT)) || (rc = cli_name("--name", c->val[O_NAME])))
		return rc;
	return cli_name("--endpoint-name", c->val[O_ENDPOINT]);
}

int cli_deployment_show(struct cli *c)
{
	struct ws w;
	int rc = names(c);
	if (rc || (rc = cli_load(c, &w)))
		return rc;
	rc = print_deployment(c, &w, c->val[O_ENDPOINT], c->val[O_NAME]);
	ws_free(&w);
	return rc;
}

int cli_deployment_list(struct cli *c)
{
	struct ws w;
	int rc = cli_need(c, O_ENDPOINT);
	if (rc || (rc = cli_name("--endpoint-name", c->val[O_ENDPOINT])) || (rc = cli_load(c, &w)))
		return rc;
	const struct ws_endpoint *e = ws_endpoint(&w, c->val[O_ENDPOINT], strlen(c->val[O_ENDPOINT]));
	if (!e) {
		ws_free(&w);
		return cli_fail("endpoint \"%s\" does not exist", c->val[O_ENDPOINT]);
	}
	struct ws_node *list = ws_node_new(WS_SEQ, NULL);
	for (size_t i = 0; list && i < e->ndeployments; i++)
		if (ws_node_push(list, cli_deployment_json(&e->deployments[i])) < 0) {
			ws_node_free(list);
			list = NULL;
		}
	rc = cli_print_kind(c, list, WS_KIND_DEPLOYMENT);
	ws_free(&w);
	return rc;
}

int cli_deployment_update(struct cli *c)
{
	struct ws_txn t;
	char err[1024], name[NAME_MAX_LEN + 1], ep[NAME_MAX_LEN + 1];
	struct ws_node *fresh = NULL;
	int rc = 0;

	if (!c->val[O_FILE] && !c->nsets)
		return cli_usage_fail(c, "nothing to update: give -f FILE or --set KEY=VALUE");
	if (c->val[O_FILE]) {
		if (!(fresh = user_record(c, &rc)))
			return rc;
		snprintf(name, sizeof name, "%s", ws_node_text(ws_node_get(fresh, "name")));
		snprintf(ep, sizeof ep, "%s", ws_node_text(ws_node_get(fresh, "endpoint_name")));
	} else {
		if ((rc = names(c)))
			return rc;
		snprintf(name, sizeof name, "%s", c->val[O_NAME]);
		snprintf(ep, sizeof ep, "%s", c->val[O_ENDPOINT]);
	}
	if (ws_begin(c->dir, &t, err, sizeof err) < 0) {
		ws_node_free(fresh);
		return cli_fail("%s", err);
	}
	rc = 1;
	struct ws_node *seq = ws_node_get(cli_endpoint_rec(t.w.root, ep), "deployments");
	long i = ws_find(seq, name);
	if (i < 0) {
		cli_fail("endpoint \"%s\" has no deployment \"%s\": use online-deployment create", ep, name);
		goto out;
	}
	if (fresh) {
		ws_node_free(seq->v[i]);
		seq->v[i] = fresh;
		fresh = NULL;
	} else {
		if ((rc = cli_apply_sets(c, WS_KIND_DEPLOYMENT, seq->v[i], 1)) != 0)
			goto out;
		rc = 1;
	}
	if (resolve_model(&t.w, seq->v[i]))
		goto out;
	if (cli_commit(&t) == 0)
		rc = print_deployment(c, &t.w, ep, name);
out:
	ws_node_free(fresh);
	ws_end(&t);
	return rc;
}

/* True when the JSON log line has "endpoint": ep and "deployment": d. */
static int log_matches(const char *line, size_t len, const char *ep, const char *d)
{
	jsmntok_t t[64];
	jsmn_parser p;
	jsmn_init(&p);
	int n = jsmn_parse(&p, line, len, t, 64);
	if (n < 1 || t[0].type != JSMN_OBJECT)
		return 0;
	int a = json_get(line, t, 0, "endpoint"), b = json_get(line, t, 0, "deployment");
	return a > 0 && b > 0 && json_eq(line, t, a, ep) && json_eq(line, t, b, d);
}

int cli_deployment_logs(struct cli *c)
{
	struct ws w;
	char path[PATH_MAX];
	long want = LOG_LINES_DEFAULT;
	int rc = names(c);

	if (rc)
		return rc;
	if (c->val[O_LINES]) {
		char *end;
		errno = 0;
		want = strtol(c->val[O_LINES], &end, 10);
		if (errno || *end || end == c->val[O_LINES] || want < 1 || want > LOG_LINES_MAX)
			return cli_usage_fail(c, "--lines %s: expected a whole number from 1 to %d", c->val[O_LINES],
					      LOG_LINES_MAX);
	}
	if (c->val[O_CONTAINER] && strcmp(c->val[O_CONTAINER], "inference-server") != 0)
		return cli_fail("--container %s: scorepoint has only the inference-server's request log",
				c->val[O_CONTAINER]);
	if ((rc = cli_load(c, &w)))
		return rc;
	const struct ws_endpoint *e = ws_endpoint(&w, c->val[O_ENDPOINT], strlen(c->val[O_ENDPOINT]));
	if (!e || !ws_deployment(e, c->val[O_NAME], strlen(c->val[O_NAME]))) {
		ws_free(&w);
		return cli_fail("endpoint \"%s\" has no deployment \"%s\"", c->val[O_ENDPOINT], c->val[O_NAME]);
	}
	ws_path_log(w.dir, path, sizeof path);
	/* The workspace's own log: a regular file, never a link or a FIFO. */
	char why[PATH_MAX + 128];
	int fd = ws_open_log(&w, 0, why, sizeof why), open_errno = errno;
	ws_free(&w);
	if (fd < 0)
		return open_errno == ENOENT ? 0 : cli_fail("%s", why);
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return cli_fail("%s: %s", path, strerror(errno));
	}
	/* The last `want` matching lines, in a ring. */
	char **ring = calloc((size_t)want, sizeof *ring);
	char *line = malloc(LOG_LINE_MAX);
	size_t kept = 0;
	rc = 0;
	if (!ring || !line) {
		rc = cli_fail("out of memory");
		goto out;
	}
	while (fgets(line, LOG_LINE_MAX, f)) {
		size_t len = strlen(line);
		if (!log_matches(line, len, c->val[O_ENDPOINT], c->val[O_NAME]))
			continue;
		size_t slot = kept++ % (size_t)want;
		free(ring[slot]);
		if (!(ring[slot] = strdup(line))) {
			rc = cli_fail("out of memory");
			goto out;
		}
	}
	size_t n = kept < (size_t)want ? kept : (size_t)want;
	for (size_t k = 0; k < n; k++)
		fputs(ring[(kept - n + k) % (size_t)want], stdout);
out:
	for (long k = 0; ring && k < want; k++)
		free(ring[k]);
	free(ring);
	free(line);
	fclose(f);
	return rc;
}

int cli_deployment_delete(struct cli *c)
{
	struct ws_txn t;
	char err[1024], what[128];
	int rc = names(c);

	if (rc)
		return rc;
	const char *ep = c->val[O_ENDPOINT], *name = c->val[O_NAME];
	snprintf(what, sizeof what, "delete deployment \"%s\" of endpoint \"%s\"", name, ep);
	if (!cli_confirm(c, what))
		return 1;
	if (ws_begin(c->dir, &t, err, sizeof err) < 0)
		return cli_fail("%s", err);
	rc = 1;
	struct ws_node *erec = cli_endpoint_rec(t.w.root, ep);
	const struct ws_endpoint *e = ws_endpoint(&t.w, ep, strlen(ep));
	struct ws_node *seq = ws_node_get(erec, "deployments");
	long i = ws_find(seq, name);
	if (!e || i < 0) {
		cli_fail("endpoint \"%s\" has no deployment \"%s\"", ep, name);
		goto out;
	}
	unsigned live = traffic_get(&e->traffic, name);
	if (live) {
		cli_fail("deployment \"%s\" has %u%% of endpoint \"%s\"'s live traffic: move it first with "
			 "online-endpoint update --name %s --traffic \"...\"", name, live, ep, ep);
		goto out;
	}
	/* One step: the deployment and its 0 % and mirror entries go together. */
	ws_node_free(ws_node_take(seq, (size_t)i));
	ws_node_del(ws_node_get(erec, "traffic"), name);
	ws_node_del(ws_node_get(erec, "mirror_traffic"), name);
	rc = cli_commit(&t);
out:
	ws_end(&t);
	return rc;
}
