/*
 * cli_endpoint.c - `scorepoint online-endpoint ...`: create, show, list,
 * update (traffic, mirror traffic, -f, --set), get-credentials,
 * regenerate-keys and delete.  invoke is in cli_run.c.
 */
#include "cli/cli.h"
#include "workspace/auth.h"
#include "workspace/name.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static struct ws_node *new_secrets(void)
{
	static const char *const keys[] = { "primary_key", "secondary_key", "token_secret" };
	char s[AUTH_SECRET_TEXT];
	struct ws_node *m = ws_node_new(WS_MAP, NULL);

	for (size_t i = 0; m && i < 3; i++) {
		if (auth_new_secret(s) < 0 || ws_node_set(m, keys[i], ws_node_str(s)) < 0) {
			ws_node_free(m);
			m = NULL;
		}
	}
	memset(s, 0, sizeof s);
	return m;
}

static struct ws_node *traffic_node(const struct traffic *t, int drop_zero)
{
	struct ws_node *m = ws_node_new(WS_MAP, NULL);
	for (size_t i = 0; m && i < t->n; i++) {
		if (drop_zero && t->e[i].percent == 0)
			continue;
		if (ws_node_set(m, t->e[i].name, ws_node_int(t->e[i].percent)) < 0) {
			ws_node_free(m);
			return NULL;
		}
	}
	return m;
}

/* A user's endpoint file (or an empty record) with --name and --auth-mode
 * applied and checked.  NULL after a refusal (its line printed). */
static struct ws_node *user_record(const struct cli *c, int *rc)
{
	char err[1024];
	const char *file = c->val[O_FILE];
	struct ws_node *rec = NULL;
	struct ws_endpoint e;

	*rc = 1;
	if (file) {
		if (ws_yaml_load(file, WS_YAML_MAX_BYTES, &rec, err, sizeof err) < 0) {
			cli_fail("%s", err);
			return NULL;
		}
	} else if (!(rec = ws_node_new(WS_MAP, NULL))) {
		cli_fail("out of memory");
		return NULL;
	}
	if ((c->val[O_NAME] && ws_node_set(rec, "name", ws_node_str(c->val[O_NAME])) < 0) ||
	    (c->val[O_AUTH_MODE] && ws_node_set(rec, "auth_mode", ws_node_str(c->val[O_AUTH_MODE])) < 0)) {
		cli_fail("out of memory");
		goto bad;
	}
	if ((*rc = cli_apply_sets(c, WS_KIND_ENDPOINT, rec, 0)) != 0)
		goto bad;
	*rc = 1;
	memset(&e, 0, sizeof e);
	if (ws_spec_check(WS_KIND_ENDPOINT, rec, 0, &e, file ? file : "--name", err, sizeof err) < 0) {
		cli_fail("%s", err);
		goto bad;
	}
	return rec;
bad:
	ws_node_free(rec);
	return NULL;
}

static int print_endpoint(const struct cli *c, const struct ws *w, const char *name)
{
	const struct ws_endpoint *e = ws_endpoint(w, name, strlen(name));
	if (!e)
		return cli_fail("endpoint \"%s\" does not exist", name);
	return cli_print_kind(c, cli_endpoint_json(w, e), WS_KIND_ENDPOINT);
}

int cli_endpoint_create(struct cli *c)
{
	struct ws_txn t;
	struct ws_endpoint e;
	char err[1024];
	int rc;

	if (!c->val[O_FILE] && !c->val[O_NAME])
		return cli_usage_fail(c, "give -f FILE or --name NAME");
	struct ws_node *rec = user_record(c, &rc);
	if (!rec)
		return rc;
	memset(&e, 0, sizeof e);
	ws_spec_check(WS_KIND_ENDPOINT, rec, 0, &e, "", err, sizeof err);
	if (traffic_total(&e.traffic) || traffic_total(&e.mirror)) {
		ws_node_free(rec);
		return cli_fail("endpoint \"%s\": traffic is set once its deployments exist: use "
				"online-deployment create --all-traffic or online-endpoint update --traffic", e.name);
	}
	char name[NAME_MAX_LEN + 1];
	snprintf(name, sizeof name, "%s", e.name);
	if (ws_begin(c->dir, &t, err, sizeof err) < 0) {
		ws_node_free(rec);
		return cli_fail("%s", err);
	}
	rc = 1;
	if (ws_endpoint(&t.w, name, strlen(name))) {
		cli_fail("endpoint \"%s\" already exists: use online-endpoint update", name);
		goto out;
	}
	if (t.w.nendpoints >= WS_MAX_ENDPOINTS) {
		cli_fail("the workspace has %d endpoints, the most it holds", WS_MAX_ENDPOINTS);
		goto out;
	}
	if (ws_node_set(rec, "secrets", new_secrets()) < 0 ||
	    ws_node_set(rec, "deployments", ws_node_new(WS_SEQ, NULL)) < 0 ||
	    ws_node_push(ws_seq(t.w.root, "endpoints"), rec) < 0) {
		rec = NULL;
		cli_fail("out of memory or no secret from getrandom: %s", strerror(errno));
		goto out;
	}
	rec = NULL;
	if (cli_commit(&t) == 0)
		rc = print_endpoint(c, &t.w, name);
out:
	ws_node_free(rec);
	ws_end(&t);
	return rc;
}

int cli_endpoint_show(struct cli *c)
{
	struct ws w;
	int rc = cli_need(c, O_NAME);
	if (rc || (rc = cli_name("--name", c->val[O_NAME])) || (rc = cli_load(c, &w)))
		return rc;
	rc = print_endpoint(c, &w, c->val[O_NAME]);
	ws_free(&w);
	return rc;
}

int cli_endpoint_list(struct cli *c)
{
	struct ws w;
	int rc = cli_load(c, &w);
	if (rc)
		return rc;
	struct ws_node *list = ws_node_new(WS_SEQ, NULL);
	for (size_t i = 0; list && i < w.nendpoints; i++)
		if (ws_node_push(list, cli_endpoint_json(&w, &w.endpoints[i])) < 0) {
			ws_node_free(list);
			list = NULL;
		}
	rc = cli_print_kind(c, list, WS_KIND_ENDPOINT);
	ws_free(&w);
	return rc;
}

/* Parse a traffic flag and check that it names deployments of e only. */
static int parse_traffic(const char *flag, const char *text, const struct ws_endpoint *e, struct traffic *t)
{
	char err[512];
	if (traffic_parse(text, t, err, sizeof err) < 0)
		return cli_fail("%s \"%s\": %s", flag, text, err);
	for (size_t i = 0; i < t->n; i++)
		if (!ws_deployment(e, t->e[i].name, strlen(t->e[i].name)))
			return cli_fail("%s: endpoint \"%s\" has no deployment \"%s\"", flag, e->name, t->e[i].name);
	return 0;
}

/* --traffic and --mirror-traffic, checked as az does (docs/protocols.md 2.5). */
static int update_traffic(const struct cli *c, const struct ws_endpoint *e, struct ws_node *rec)
{
	char err[512];
	struct traffic live = e->traffic, mirror = e->mirror;

	if (c->val[O_TRAFFIC]) {
		if (parse_traffic("--traffic", c->val[O_TRAFFIC], e, &live))
			return 1;
		if (traffic_check_live(&live, err, sizeof err) < 0)
			return cli_fail("--traffic \"%s\": %s", c->val[O_TRAFFIC], err);
	}
	if (c->val[O_MIRROR]) {
		if (parse_traffic("--mirror-traffic", c->val[O_MIRROR], e, &mirror))
			return 1;
		if (traffic_check_mirror(&mirror, err, sizeof err) < 0)
			return cli_fail("--mirror-traffic \"%s\": %s", c->val[O_MIRROR], err);
	}
	for (size_t i = 0; i < mirror.n; i++)
		if (mirror.e[i].percent && traffic_get(&live, mirror.e[i].name))
			return cli_fail("deployment \"%s\" cannot take live and mirror traffic at once: set one of "
					"them to 0", mirror.e[i].name);
	if ((c->val[O_TRAFFIC] && ws_node_set(rec, "traffic", traffic_node(&live, 0)) < 0) ||
	    (c->val[O_MIRROR] && ws_node_set(rec, "mirror_traffic", traffic_node(&mirror, 1)) < 0))
		return cli_fail("out of memory");
	return 0;
}

/* The traffic a file or --set gave names deployments of e, and its sums
 * hold: said here in the user's terms rather than the state file's. */
static int record_traffic(const struct cli *c, const struct ws_endpoint *e, struct ws_node *rec)
{
	const char *from = c->val[O_FILE] ? c->val[O_FILE] : "--set";
	struct ws_endpoint check;
	char err[512];

	memset(&check, 0, sizeof check);
	if (ws_spec_check(WS_KIND_ENDPOINT, rec, 1, &check, from, err, sizeof err) < 0)
		return cli_fail("%s", err);
	for (int k = 0; k < 2; k++) {
		const struct traffic *tr = k ? &check.mirror : &check.traffic;
		for (size_t j = 0; j < tr->n; j++)
			if (!ws_deployment(e, tr->e[j].name, strlen(tr->e[j].name)))
				return cli_fail("%s: %s names deployment \"%s\", which endpoint \"%s\" does not have",
						from, k ? "mirror_traffic" : "traffic", tr->e[j].name, e->name);
	}
	if (traffic_check_live(&check.traffic, err, sizeof err) < 0 ||
	    traffic_check_mirror(&check.mirror, err, sizeof err) < 0)
		return cli_fail("%s: %s", from, err);
	return 0;
}

int cli_endpoint_update(struct cli *c)
{
	struct ws_txn t;
	char err[1024];
	int rc = 0;
	struct ws_node *fresh = NULL;

	if (!c->val[O_NAME] && !c->val[O_FILE])
		return cli_usage_fail(c, "give --name NAME or -f FILE");
	if (!c->val[O_FILE] && !c->val[O_TRAFFIC] && !c->val[O_MIRROR] && !c->nsets)
		return cli_usage_fail(c, "nothing to update: give --traffic, --mirror-traffic, --set or -f");
	if (c->val[O_NAME] && (rc = cli_name("--name", c->val[O_NAME])))
		return rc;
	if (c->val[O_FILE] && !(fresh = user_record(c, &rc)))
		return rc;
	const char *name = fresh ? ws_node_text(ws_node_get(fresh, "name")) : c->val[O_NAME];
	if (ws_begin(c->dir, &t, err, sizeof err) < 0) {
		ws_node_free(fresh);
		return cli_fail("%s", err);
	}
	rc = 1;
	struct ws_node *rec = cli_endpoint_rec(t.w.root, name);
	const struct ws_endpoint *e = ws_endpoint(&t.w, name, strlen(name));
	if (!rec || !e) {
		cli_fail("endpoint \"%s\" does not exist: use online-endpoint create", name);
		goto out;
	}
	if (fresh) {
		/* The file replaces what a user's file says; secrets and deployments stay. */
		if (ws_node_set(fresh, "secrets", ws_node_copy(ws_node_get(rec, "secrets"))) < 0 ||
		    ws_node_set(fresh, "deployments", ws_node_copy(ws_node_get(rec, "deployments"))) < 0) {
			cli_fail("out of memory");
			goto out;
		}
		struct ws_node *seq = ws_node_get(t.w.root, "endpoints");
		long i = ws_find(seq, name);
		ws_node_free(seq->v[i]);
		seq->v[i] = fresh;
		rec = fresh;
		fresh = NULL;
	} else if ((rc = cli_apply_sets(c, WS_KIND_ENDPOINT, rec, 1)) != 0) {
		goto out;
	}
	rc = 1;
	if (update_traffic(c, e, rec) || record_traffic(c, e, rec))
		goto out;
	if (cli_commit(&t) == 0)
		rc = print_endpoint(c, &t.w, name);
out:
	ws_node_free(fresh);
	ws_end(&t);
	return rc;
}

int cli_endpoint_credentials(struct cli *c)
{
	struct ws w;
	char tok[AUTH_TOKEN_MAX];
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_name("--name", c->val[O_NAME])) || (rc = cli_load(c, &w)))
		return rc;
	const struct ws_endpoint *e = ws_endpoint(&w, c->val[O_NAME], strlen(c->val[O_NAME]));
	struct ws_node *out = ws_node_new(WS_MAP, NULL);
	if (!e) {
		rc = cli_fail("endpoint \"%s\" does not exist", c->val[O_NAME]);
	} else if (e->auth_mode == WS_AUTH_KEY) {
		if (ws_node_set(out, "primaryKey", ws_node_str(e->primary_key)) < 0 ||
		    ws_node_set(out, "secondaryKey", ws_node_str(e->secondary_key)) < 0)
			out = NULL;
		rc = cli_print(c, out);
		out = NULL;
	} else {
		int64_t now = (int64_t)time(NULL);
		if (auth_token_mint(e->token_secret, e->name, now, AUTH_TOKEN_LIFETIME, tok, sizeof tok) < 0) {
			rc = cli_fail("endpoint \"%s\": cannot mint a token", e->name);
		} else {
			if (ws_node_set(out, "accessToken", ws_node_str(tok)) < 0 ||
			    ws_node_set(out, "tokenType", ws_node_str("Bearer")) < 0 ||
			    ws_node_set(out, "expiryTimeUtc", ws_node_int(now + AUTH_TOKEN_LIFETIME)) < 0 ||
			    ws_node_set(out, "refreshAfterTimeUtc", ws_node_int(now + AUTH_TOKEN_LIFETIME / 2)) < 0)
				out = NULL;
			rc = cli_print(c, out);
			out = NULL;
		}
		memset(tok, 0, sizeof tok);
	}
	ws_node_free(out);
	ws_free(&w);
	return rc;
}

int cli_endpoint_regenerate(struct cli *c)
{
	struct ws_txn t;
	char err[1024], s[AUTH_SECRET_TEXT];
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_name("--name", c->val[O_NAME])))
		return rc;
	/* az's default; an aml_token endpoint has one secret, whatever the type. */
	const char *kt = c->val[O_KEY_TYPE] ? c->val[O_KEY_TYPE] : "primary";
	if (strcmp(kt, "primary") != 0 && strcmp(kt, "secondary") != 0)
		return cli_usage_fail(c, "--key-type %s: use primary or secondary", kt);
	if (ws_begin(c->dir, &t, err, sizeof err) < 0)
		return cli_fail("%s", err);
	rc = 1;
	const struct ws_endpoint *e = ws_endpoint(&t.w, c->val[O_NAME], strlen(c->val[O_NAME]));
	struct ws_node *secrets = ws_node_get(cli_endpoint_rec(t.w.root, c->val[O_NAME]), "secrets");
	if (!e || !secrets) {
		cli_fail("endpoint \"%s\" does not exist", c->val[O_NAME]);
		goto out;
	}
	/* aml_token: a new signing secret, so every token given out stops working. */
	const char *which = e->auth_mode == WS_AUTH_AML_TOKEN ? "token_secret" :
			    kt[0] == 'p' ? "primary_key" : "secondary_key";
	if (auth_new_secret(s) < 0 || ws_node_set(secrets, which, ws_node_str(s)) < 0) {
		cli_fail("cannot make a new secret: %s", strerror(errno));
		goto out;
	}
	rc = cli_commit(&t);
out:
	memset(s, 0, sizeof s);
	ws_end(&t);
	return rc;
}

int cli_endpoint_delete(struct cli *c)
{
	struct ws_txn t;
	char err[1024], what[128];
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_name("--name", c->val[O_NAME])))
		return rc;
	snprintf(what, sizeof what, "delete endpoint \"%s\" and its deployments", c->val[O_NAME]);
	if (!cli_confirm(c, what))
		return 1;
	if (ws_begin(c->dir, &t, err, sizeof err) < 0)
		return cli_fail("%s", err);
	struct ws_node *seq = ws_node_get(t.w.root, "endpoints");
	long i = ws_find(seq, c->val[O_NAME]);
	if (i < 0) {
		rc = cli_fail("endpoint \"%s\" does not exist", c->val[O_NAME]);
	} else {
		ws_node_free(ws_node_take(seq, (size_t)i));
		rc = cli_commit(&t);
	}
	ws_end(&t);
	return rc;
}
