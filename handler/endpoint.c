/*
 * endpoint.c - score.fcgi --workspace: the snapshot served and its blobs,
 * /NAME/... routing, credentials, the deployment choice and mirror copies.
 * With endpoint_view.c (the Studio's JSON of the same) and collect.c (the
 * data collector's files), the only files of handler/ that include a
 * workspace/ header.
 */
#include "handler/endpoint.h"
#include "handler/collect.h"
#include "handler/scoring.h"
#include "handler/shadow.h"
#include "workspace/auth.h"
#include "workspace/name.h"
#include "workspace/traffic.h"
#include "workspace/ws.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A scoring request's copy for the mirror deployment, run by app_after()
 * once the client has its answer. */
struct mirror {
	const struct ws_endpoint *endpoint;   /* NULL: nothing pending */
	const struct ws_deployment *deployment;
	const char *live;                     /* the deployment that answered */
	int csv, mlflow;
	enum metrics_route route;
	size_t len;
	char request_id[CALL_ID_MAX + 1];
};

/* A scoring request's lines for the data collector, written by
 * app_after() (endpoints_collect) before the mirror copy reuses the
 * buffers that hold its decoded rows (scoring_answered) and its answer. */
struct pending {
	const struct ws_endpoint *endpoint;   /* NULL: nothing pending */
	const struct ws_deployment *deployment;
	enum metrics_route route;
	const float *x;
	size_t rows, width;
	int top_k;
	int slot;
	struct timespec when;
	char request_id[CALL_ID_MAX + 1];
};

struct endpoints {
	char *dir;                    /* absolute */
	struct ws ws;                 /* the snapshot being served */
	struct ws_stamp refused;      /* a state file that failed to load */
	struct app_model *models;     /* the blobs ws names */
	size_t nmodels;
	struct mirror mirror;
	struct shadow shadow;         /* the live answer, kept for the mirror's verdict */
	struct pending pending;
	struct collector *collector;
};

/* ---- the snapshot and its blobs ---- */

static struct app_model *model_by_path(struct app_model *ms, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (ms[i].path && strcmp(ms[i].path, path) == 0)
			return &ms[i];
	return NULL;
}

/* Close what ms[n] mapped itself (not the mappings taken over), free ms. */
static void drop_models(struct app_model *ms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ms[i].taken)
			app_model_close(&ms[i]);
	free(ms);
}

/*
 * Map every blob snapshot w names into a fresh array, taking over those
 * eps already has (blobs never change while registered, so a mapping is
 * good for as long as its path is named).  On failure nothing of eps's
 * changes.  0, or -1 with err.
 */
static int map_workspace(struct endpoints *eps, const struct ws *w, struct app_model **out, size_t *nout,
			 char *err, size_t errlen)
{
	size_t cap = 0, n = 0;
	for (size_t e = 0; e < w->nendpoints; e++)
		cap += w->endpoints[e].ndeployments;
	struct app_model *ms = calloc(cap ? cap : 1, sizeof *ms);
	if (!ms) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < eps->nmodels; i++)
		eps->models[i].taken = 0;
	for (size_t e = 0; e < w->nendpoints; e++) {
		const struct ws_endpoint *ep = &w->endpoints[e];
		for (size_t d = 0; d < ep->ndeployments; d++) {
			const char *path = ep->deployments[d].blob;
			if (model_by_path(ms, n, path))
				continue;
			struct app_model *old = model_by_path(eps->models, eps->nmodels, path);
			int fd;
			if (old && !old->taken) {
				ms[n] = *old;
				ms[n++].taken = 1;
				old->taken = 1;
			} else if ((fd = ws_open_blob(w, ep->deployments[d].model, err, errlen)) >= 0 &&
				   app_model_open(&ms[n], path, fd, err, errlen) == 0) {
				n++;
			} else {
				drop_models(ms, n);
				return -1;
			}
		}
	}
	*out = ms;
	*nout = n;
	return 0;
}

/* Serve snapshot w from now on (its blobs mapped as ms[n]); frees the old. */
static void switch_workspace(struct endpoints *eps, struct ws *w, struct app_model *ms, size_t n)
{
	drop_models(eps->models, eps->nmodels);
	if (eps->ws.dir)
		ws_free(&eps->ws);
	for (size_t i = 0; i < n; i++)
		ms[i].taken = 0;
	eps->models = ms;
	eps->nmodels = n;
	eps->ws = *w;
}

static int load_workspace(struct endpoints *eps, char *err, size_t errlen)
{
	struct ws w;
	struct app_model *ms;
	size_t n;

	if (ws_load(eps->dir, &w, err, errlen) < 0)
		return -1;
	if (map_workspace(eps, &w, &ms, &n, err, errlen) < 0) {
		ws_free(&w);
		return -1;
	}
	switch_workspace(eps, &w, ms, n);
	return 0;
}

struct endpoints *endpoints_load(const char *dir, char *err, size_t errlen)
{
	struct endpoints *eps = calloc(1, sizeof *eps);

	if (!eps) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	eps->dir = realpath(dir, NULL);
	if (!eps->dir) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(eps);
		return NULL;
	}
	eps->collector = collector_new();
	if (!eps->collector) {
		snprintf(err, errlen, "out of memory");
		endpoints_free(eps);
		return NULL;
	}
	if (load_workspace(eps, err, errlen) < 0) {
		endpoints_free(eps);
		return NULL;
	}
	return eps;
}

void endpoints_free(struct endpoints *eps)
{
	if (!eps)
		return;
	for (size_t i = 0; i < eps->nmodels; i++)
		app_model_close(&eps->models[i]);
	free(eps->models);
	if (eps->ws.dir)
		ws_free(&eps->ws);
	shadow_free(&eps->shadow);
	collector_free(eps->collector);
	free(eps->dir);
	free(eps);
}

const char *endpoints_dir(const struct endpoints *eps)
{
	return eps->dir;
}

const struct ws *endpoints_ws(const struct endpoints *eps)
{
	return &eps->ws;
}

const struct app_model *endpoints_model(const struct endpoints *eps, const char *blob)
{
	return model_by_path(eps->models, eps->nmodels, blob);
}

int endpoints_open_log(const struct endpoints *eps, char *err, size_t errlen)
{
	return ws_open_log(&eps->ws, 1, err, errlen);
}

void endpoints_begin(struct endpoints *eps)
{
	struct ws_stamp st;
	char err[PATH_MAX + 256];

	eps->mirror.endpoint = NULL;
	eps->pending.endpoint = NULL;
	if (ws_stat(eps->dir, &st) < 0 || ws_stamp_equal(&st, &eps->ws.stamp) || ws_stamp_equal(&st, &eps->refused))
		return;
	if (load_workspace(eps, err, sizeof err) < 0) {
		eps->refused = st;
		fprintf(stderr, "score.fcgi[%ld]: workspace change not served: %s\n", (long)getpid(), err);
	}
}

/* ---- credentials ---- */

/* Both keys are compared, in constant time, whatever the first gives. */
int endpoints_authorized(struct call *c, const struct ws_endpoint *e)
{
	static char challenge[128];
	const char *h = c->io->param(c->io, "HTTP_AUTHORIZATION");
	size_t len = 0;
	const char *cred = h ? auth_bearer(h, &len) : NULL;
	const char *why;

	if (cred && e->auth_mode == WS_AUTH_KEY) {
		int p = auth_key_matches(cred, len, e->primary_key);
		int s2 = auth_key_matches(cred, len, e->secondary_key);
		if (p | s2)
			return 1;
		why = "the key is not valid for this endpoint";
	} else if (cred) {
		enum auth_verdict v = auth_token_verify(cred, len, e->token_secret, e->name, (int64_t)time(NULL));
		if (v == AUTH_OK)
			return 1;
		why = auth_verdict_text(v);
	} else {
		why = NULL;
	}
	snprintf(challenge, sizeof challenge, why ? "Bearer realm=\"%s\", error=\"invalid_token\"" :
		 "Bearer realm=\"%s\"", e->name);
	c->www_auth = challenge;
	if (why)
		call_fail(c, 401, "UNAUTHORIZED", "%s", why);
	else
		call_fail(c, 401, "UNAUTHORIZED", "no credentials: send 'Authorization: Bearer <%s>' (scorepoint "
			  "online-endpoint get-credentials --name %s)", e->auth_mode == WS_AUTH_KEY ? "key" : "token",
			  e->name);
	return 0;
}

/* ---- the deployment choice ---- */

static void use_deployment(struct call *c, const struct ws_deployment *d)
{
	struct endpoints *eps = c->a->eps;
	char label[METRICS_NAME_MAX];

	c->deployment = d->name;
	c->timeout_ms = d->request_timeout_ms;
	c->m = model_by_path(eps->models, eps->nmodels, d->blob);
	snprintf(label, sizeof label, "%s/%s", c->endpoint, d->name);
	c->slot = metrics_deployment(c->a->metrics, label);
}

/* The deployment the azureml-model-deployment header names, even at 0 %;
 * NULL with the 404 sent. */
static const struct ws_deployment *pinned(struct call *c, const struct ws_endpoint *e, const char *pin)
{
	const struct ws_deployment *d = ws_deployment(e, pin, strlen(pin));

	if (!d)
		call_fail(c, 404, "DEPLOYMENT_NOT_FOUND", "endpoint '%s' has no deployment '%.32s'", e->name,
			  name_valid(pin, strlen(pin)) ? pin : "(not a valid name)");
	return d;
}

/* A weighted draw over the live traffic; NULL with the 404 sent. */
static const struct ws_deployment *drawn(struct call *c, const struct ws_endpoint *e)
{
	int i = traffic_pick(&e->traffic, call_rand64());
	const struct ws_deployment *d = i < 0 ? NULL : ws_deployment(e, e->traffic.e[i].name,
								    strlen(e->traffic.e[i].name));
	if (!d)
		call_fail(c, 404, "DEPLOYMENT_NOT_FOUND", "No valid deployments to route to. Please check that "
			  "endpoint '%s' has at least one deployment with positive weight values or use a "
			  "deployment specific header to route.", e->name);
	return d;
}

/* For a drawn deployment: each mirror entry, with its percent's chance,
 * makes its deployment the pending mirror copy. */
static void draw_mirror(struct endpoints *eps, const struct ws_endpoint *e)
{
	for (size_t k = 0; k < e->mirror.n; k++) {
		const struct ws_deployment *md = ws_deployment(e, e->mirror.e[k].name, strlen(e->mirror.e[k].name));
		if (md && e->mirror.e[k].percent > 0 && call_rand64() % 100 < e->mirror.e[k].percent) {
			eps->mirror.endpoint = e;
			eps->mirror.deployment = md;
		}
	}
}

/* The deployment that answers, and maybe the mirror deployment too.  1,
 * or 0 with the 404 (or 500) sent. */
static int choose(struct call *c, const struct ws_endpoint *e)
{
	const char *pin = c->io->param(c->io, "HTTP_AZUREML_MODEL_DEPLOYMENT");
	const struct ws_deployment *d;

	if (pin && *pin) {
		if (!(d = pinned(c, e, pin)))
			return 0;
	} else {
		if (!(d = drawn(c, e)))
			return 0;
		draw_mirror(c->a->eps, e);
	}
	use_deployment(c, d);
	if (!c->m) {
		call_fail(c, 500, "INTERNAL_ERROR", "deployment '%s' has no model mapped", d->name);
		return 0;
	}
	return 1;
}

/* ---- routing ---- */

/* A mirror copy is of a scoring request that was answered 200; its body
 * stays in a->body until app_after(), and the answer's values are copied
 * for its verdict (the mirror pass reuses their buffer). */
static void keep_mirror(struct endpoints *eps, const struct call *c)
{
	struct mirror *mi = &eps->mirror;
	const struct scoring_answer *ans = scoring_answered();

	if (!mi->endpoint)
		return;
	if (c->status != 200 || (c->route != MR_SCORE && c->route != MR_INVOCATIONS)) {
		mi->endpoint = NULL;
		return;
	}
	if (!ans || shadow_keep(&eps->shadow, ans->y, ans->rows, ans->out_width) < 0)
		eps->shadow.rows = 0;
	mi->live = c->deployment;
	mi->csv = c->csv;
	mi->mlflow = c->proto == P_MLFLOW;
	mi->route = c->route;
	mi->len = c->bytes_in;
	memcpy(mi->request_id, c->request_id, sizeof mi->request_id);
}

/* A scoring request answered 200 by a deployment that collects, when the
 * one draw of its sampling_rate picks it: what endpoints_collect() will
 * need.  Never a mirror copy (that goes through endpoints_mirror()). */
static void keep_collect(struct endpoints *eps, const struct call *c, const struct ws_endpoint *e)
{
	const struct ws_deployment *d = c->deployment ? ws_deployment(e, c->deployment, strlen(c->deployment)) : NULL;
	const struct scoring_answer *ans = scoring_answered();
	struct pending *p = &eps->pending;

	if (!d || !ans || c->status != 200 || (c->route != MR_SCORE && c->route != MR_INVOCATIONS) ||
	    !(d->collect_inputs || d->collect_outputs) || c->a->cfg.collect_off)
		return;
	if (d->sampling_rate < 1.0 && (double)(call_rand64() >> 11) * 0x1p-53 >= d->sampling_rate)
		return;
	p->endpoint = e;
	p->deployment = d;
	p->route = c->route;
	p->x = ans->x;
	p->rows = ans->rows;
	p->width = ans->in_width;
	p->top_k = ans->top_k;
	p->slot = c->slot;
	clock_gettime(CLOCK_REALTIME, &p->when);
	memcpy(p->request_id, c->request_id, sizeof p->request_id);
}

/*
 * /NAME/score, /NAME/invocations, /NAME/swagger.json, /NAME/v2/...: the
 * endpoint, then its credentials, then the deployment, then the model
 * route.  A refused request is answered in its route's protocol and, for
 * the scoring routes, counted under its route.
 */
void endpoint_route(struct call *c, const char *path)
{
	struct endpoints *eps = c->a->eps;
	const char *p = path + 1;
	size_t n = strcspn(p, "/");
	const struct ws_endpoint *e = ws_endpoint(&eps->ws, p, n);

	if (!e) {
		call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s: no such endpoint", c->path);
		return;
	}
	c->endpoint = e->name;
	snprintf(c->base, sizeof c->base, "/%s", e->name);
	const struct route *r = route_model(c, p + n);
	c->proto = r->proto;
	if (r->early)
		c->route = r->mr;
	if (!endpoints_authorized(c, e) || !choose(c, e)) {
		eps->mirror.endpoint = NULL;
		return;
	}
	route_run(c, r, p + n);
	keep_collect(eps, c, e);
	keep_mirror(eps, c);
}

/* The data collector's lines of the request just answered: its rows are
 * still where the decoder left them and its answer is a->out. */
void endpoints_collect(struct app *a)
{
	struct pending *p = &a->eps->pending;
	struct collect_item it;

	if (!p->endpoint)
		return;
	memset(&it, 0, sizeof it);
	it.w = &a->eps->ws;
	it.endpoint = p->endpoint->name;
	it.deployment = p->deployment->name;
	it.inputs = p->deployment->collect_inputs;
	it.outputs = p->deployment->collect_outputs;
	it.rolling = p->deployment->rolling_rate;
	it.route = p->route == MR_INVOCATIONS ? "invocations" : "score";
	it.request_id = p->request_id;
	it.when = p->when;
	it.x = p->x;
	it.rows = p->rows;
	it.width = p->width;
	it.top_k = p->top_k;
	it.answer = a->out.p;
	it.answer_len = a->out.len;
	it.metrics = a->metrics;
	it.slot = p->slot;
	p->endpoint = NULL;
	collector_write(a->eps->collector, &it);
}

/* The mirror's verdict: its values against the live answer's, counted
 * under (endpoint, live, mirror) and logged on its line. */
static void judge(struct endpoints *eps, const struct call *c, const char *live)
{
	const struct scoring_answer *ans = scoring_answered();
	struct metrics_shadow_rows v;

	if (c->status != 200 || !ans || !eps->shadow.rows) {
		call_done(c, 0);
		return;
	}
	shadow_compare(&eps->shadow, ans->y, ans->rows, ans->out_width, &v);
	metrics_shadow_add(c->a->metrics, metrics_shadow(c->a->metrics, c->endpoint, live, c->deployment), &v);
	call_done_shadow(c, live, &v);
}

/*
 * Mirror traffic: the body the client sent, scored again by the mirror
 * deployment after the answer is out, within the mirror deployment's own
 * request_timeout_ms; only its log line and counters show it (Azure
 * discards a mirror's response the same way), with its verdict (shadow.h).
 */
void endpoints_mirror(struct app *a)
{
	struct mirror *mi = &a->eps->mirror;
	struct call c;

	if (!mi->endpoint)
		return;
	memset(&c, 0, sizeof c);
	c.a = a;
	c.t0 = call_now();
	c.method = "POST";
	c.route = mi->route;
	c.proto = mi->mlflow ? P_MLFLOW : P_AZURE;
	c.csv = mi->csv;
	c.endpoint = mi->endpoint->name;
	c.bytes_in = mi->len;
	memcpy(c.request_id, mi->request_id, sizeof mi->request_id);
	use_deployment(&c, mi->deployment);
	const char *live = mi->live;
	mi->endpoint = NULL;
	scoring_replay(&c);
	judge(a->eps, &c, live);
	shadow_trim(&a->eps->shadow);
}
