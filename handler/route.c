/*
 * route.c - the routes as data: three tables (the server's own paths, the
 * model routes under a base, the routes of one V2 model), each row naming
 * its path, methods, metrics route, protocol and handler, and each table
 * ending in its 404s.  A lookup compares lengths before bytes: the hot
 * path (POST /score, or /NAME/score) is a few byte compares.  Also the
 * small routes: health, version, swagger, metrics, V2 metadata.
 */
#include "handler/call.h"
#include "handler/endpoint.h"
#include "handler/swagger.h"
#include "handler/ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXACT(p) p, sizeof p - 1, 0
#define PREFIX(p) p, sizeof p - 1, 1
#define GETS (M_GET | M_HEAD)
#define END { NULL, 0, 0, 0, 0, 0, MR_OTHER, P_AZURE, NULL }

/* ---- the small routes ---- */

static void healthy_text(struct call *c, const char *rest)
{
	(void)rest;
	enc_reset(&c->a->out);
	enc_cstr(&c->a->out, "Healthy");
	call_send(c, 200, "text/plain");
}

static void healthy_json(struct call *c, const char *rest)
{
	(void)rest;
	call_ok_json(c, "{\"status\": \"Healthy\"}");
}

/*
 * What the converter knew, for GET /version, each key only when it has
 * something to say (a blob of format version 1 adds none): the input's
 * shape when its rows are images; "model_order": "assumed" when
 * --assume-registration-order took the modules' registration order for
 * their execution order; "model_verified" with the result of --verify.
 */
static void model_provenance(struct enc_buf *b, const struct blob_model *m)
{
	char tmp[160];

	if (m->input_shape[0]) {
		snprintf(tmp, sizeof tmp, ", \"model_input_shape\": [%u, %u, %u]", m->input_shape[0], m->input_shape[1],
			 m->input_shape[2]);
		enc_cstr(b, tmp);
	}
	if (m->flags & BLOB_MODEL_ASSUMED_ORDER)
		enc_cstr(b, ", \"model_order\": \"assumed\"");
	if (!(m->flags & BLOB_MODEL_VERIFIED))
		return;
	struct tm tm;
	time_t at = (time_t)m->verify.at;
	char when[32] = "";
	if (gmtime_r(&at, &tm))
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	enc_cstr(b, ", \"model_verified\": {\"at\": ");
	enc_string(b, when);
	enc_cstr(b, ", \"max_diff\": ");
	enc_number(b, m->verify.max_diff);
	snprintf(tmp, sizeof tmp, ", \"rows\": %u, \"argmax_agree\": %u, \"torch\": ", m->verify.rows,
		 m->verify.argmax_agree);
	enc_cstr(b, tmp);
	enc_string(b, m->verify.torch_version ? m->verify.torch_version : "");
	enc_cstr(b, "}");
}

static void version(struct call *c, const char *rest)
{
	struct enc_buf *b = &c->a->out;

	(void)rest;
	enc_reset(b);
	enc_cstr(b, "{\"name\": \"scorepoint\", \"version\": \"" SCOREPOINT_VERSION "\"");
	/* OpenBLAS's kernels: two processes on one machine print the same
	 * bytes only when they run the same ones (see OPENBLAS_CORETYPE). */
	enc_cstr(b, ", \"blas\": ");
	enc_string(b, fwd_blas_core());
	if (c->m) {   /* --model; in a workspace the endpoints say what they serve */
		const struct blob_model *m = &c->m->map.model;
		enc_cstr(b, ", \"model\": ");
		enc_string(b, m->name);
		enc_cstr(b, ", \"model_version\": ");
		enc_string(b, m->version);
		enc_cstr(b, ", \"model_digest\": ");
		enc_string(b, m->source_digest);
		model_provenance(b, m);
	}
	enc_cstr(b, "}");
	call_send(c, 200, "application/json");
}

/* At the root with --model, under /NAME in a workspace (c->base). */
static void swagger(struct call *c, const char *rest)
{
	(void)rest;
	enc_reset(&c->a->out);
	swagger_render(&c->a->out, &c->m->map.model, c->base);
	call_send(c, 200, "application/json");
}

/* The rendering of every series fits in 768 KiB (the worst case, all
 * series non-zero with long names, is about 580 KB: test_metrics's
 * test_worst_case_size prints it). */
#define METRICS_TEXT_MAX ((size_t)768 << 10)

static void metrics_text(struct call *c, const char *rest)
{
	const struct blob_model *m = c->m ? &c->m->map.model : NULL;
	char *text = malloc(METRICS_TEXT_MAX);
	size_t n = text ? metrics_render(c->a->metrics, m ? m->name : NULL, m ? m->version : NULL,
					 m ? m->source_digest : NULL, text, METRICS_TEXT_MAX) : 0;
	(void)rest;
	if (!n) {
		free(text);
		call_fail(c, 500, "INTERNAL_ERROR", "the metrics could not be rendered");
		return;
	}
	enc_reset(&c->a->out);
	enc_raw(&c->a->out, text, n);
	free(text);
	call_send(c, 200, "text/plain; version=0.0.4");
}

static void v2_server(struct call *c, const char *rest)
{
	(void)rest;
	call_ok_json(c, "{\"name\": \"scorepoint\", \"version\": \"" SCOREPOINT_VERSION "\", \"extensions\": []}");
}

static void v2_live(struct call *c, const char *rest)
{
	(void)rest;
	call_ok_json(c, "{\"live\": true}");
}

static void v2_ready(struct call *c, const char *rest)
{
	(void)rest;
	call_ok_json(c, "{\"ready\": true}");
}

static void v2_model_meta(struct call *c, const char *rest)
{
	const struct blob_model *m = &c->m->map.model;
	struct enc_buf *b = &c->a->out;
	char num[48];

	(void)rest;
	enc_reset(b);
	enc_cstr(b, "{\"name\": ");
	enc_string(b, m->name);
	enc_cstr(b, ", \"versions\": [");
	enc_string(b, m->version);
	enc_cstr(b, "], \"platform\": \"scorepoint\", \"inputs\": [{\"name\": \"input-0\", \"datatype\": \"FP32\", "
		    "\"shape\": [-1, ");
	/* Rows that are images are described as such (v2.c also takes them flat). */
	if (m->input_shape[0])
		snprintf(num, sizeof num, "%u, %u, %u", m->input_shape[0], m->input_shape[1], m->input_shape[2]);
	else
		snprintf(num, sizeof num, "%u", m->input_width);
	enc_cstr(b, num);
	enc_cstr(b, "]}], \"outputs\": [{\"name\": \"output-0\", \"datatype\": \"FP32\", \"shape\": [-1, ");
	snprintf(num, sizeof num, "%u", m->output_width);
	enc_cstr(b, num);
	enc_cstr(b, "]}]}");
	call_send(c, 200, "application/json");
}

static void v2_model_ready(struct call *c, const char *rest)
{
	struct enc_buf *b = &c->a->out;

	(void)rest;
	enc_reset(b);
	enc_cstr(b, "{\"name\": ");
	enc_string(b, c->m->map.model.name);
	enc_cstr(b, ", \"ready\": true}");
	call_send(c, 200, "application/json");
}

/* ---- 404s ---- */

static void no_route(struct call *c, const char *rest)
{
	(void)rest;
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s", c->path);
}

/* A model route at the root of a workspace's server. */
static void no_route_at_root(struct call *c, const char *rest)
{
	(void)rest;
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %s: this server serves a workspace; use /ENDPOINT%s",
		  c->path, c->path);
}

static void no_endpoint_route(struct call *c, const char *rest)
{
	const char *e = c->base + 1;

	(void)rest;
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s; the endpoint's routes are /%s/score, "
		  "/%s/invocations, /%s/swagger.json and /%s/v2/models/MODEL[/infer]", c->path, e, e, e, e);
}

static void no_model_route(struct call *c, const char *rest)
{
	(void)rest;
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %s", c->path);
}

/* ---- lookup ---- */

static unsigned context(const struct call *c)
{
	return (c->a->eps ? W_WORKSPACE : W_MODEL) | (c->a->cfg.metrics_off ? 0u : W_METRICS) |
	       (c->base[0] ? W_ENDPOINT : W_ROOT) | (c->a->cfg.ui_off ? 0u : W_UI);
}

const struct route *route_find(const struct call *c, const struct route *table, const char *rest)
{
	size_t n = c->path_len - (size_t)(rest - c->path);
	unsigned ctx = context(c);

	for (const struct route *r = table; r->path; r++)
		if ((r->when & ctx) == r->when && (r->prefix ? n >= r->len : n == r->len) &&
		    memcmp(rest, r->path, r->len) == 0)
			return r;
	return NULL;   /* not reached: every table ends in a catch-all */
}

void route_run(struct call *c, const struct route *r, const char *rest)
{
	c->route = r->mr;
	c->proto = r->proto;
	if (r->methods && !(r->methods & c->method_bit)) {
		call_not_allowed(c, r->methods & M_POST ? "POST" : "GET");   /* HEAD goes unsaid */
		return;
	}
	r->fn(c, rest + r->len);
}

/* ---- the tables ---- */

/* After /v2/models/NAME[/versions/VERSION]. */
static const struct route v2_model_routes[] = {
	{ EXACT(""), M_GET, 0, 0, MR_VERSION, P_V2, v2_model_meta },
	{ EXACT("/ready"), M_GET, 0, 0, MR_HEALTH, P_V2, v2_model_ready },
	{ EXACT("/infer"), M_POST, 0, 0, MR_V2_INFER, P_V2, scoring_v2_infer },
	{ PREFIX(""), 0, 0, 0, MR_OTHER, P_V2, no_model_route },
	END
};

/* /v2/models/{name}[/versions/{v}][/ready|/infer]: the one model served. */
static void v2_models(struct call *c, const char *rest)
{
	const char *name = c->m->map.model.name, *version = c->m->map.model.version;
	size_t n = strlen(name);

	if (strncmp(rest, name, n) != 0 || (rest[n] != '\0' && rest[n] != '/')) {
		call_fail(c, 404, "ENDPOINT_NOT_FOUND", "model '%.*s' not found; this server has '%s'",
			  (int)strcspn(rest, "/"), rest, name);
		return;
	}
	rest += n;
	if (strncmp(rest, "/versions/", 10) == 0) {
		const char *v = rest + 10;
		size_t vl = strcspn(v, "/");
		if (strlen(version) != vl || strncmp(v, version, vl) != 0) {
			call_fail(c, 404, "ENDPOINT_NOT_FOUND", "version '%.*s' of model '%s' not found", (int)vl, v,
				  name);
			return;
		}
		rest = v + vl;
	}
	route_run(c, route_find(c, v2_model_routes, rest), rest);
}

/* At the root with --model, under /NAME in a workspace.  /score and
 * /invocations are counted under their route even when the credentials
 * are refused (early). */
static const struct route model_routes[] = {
	{ EXACT("/score"), M_POST, 0, 1, MR_SCORE, P_AZURE, scoring_score },
	{ EXACT("/invocations"), M_POST, 0, 1, MR_INVOCATIONS, P_MLFLOW, scoring_score },
	{ PREFIX("/v2/models/"), 0, 0, 0, MR_OTHER, P_V2, v2_models },
	{ EXACT("/swagger.json"), GETS, W_ENDPOINT, 0, MR_SWAGGER, P_AZURE, swagger },
	{ PREFIX("/v2/"), 0, W_ENDPOINT, 0, MR_OTHER, P_V2, no_endpoint_route },
	{ PREFIX(""), 0, W_ENDPOINT, 0, MR_OTHER, P_AZURE, no_endpoint_route },
	{ PREFIX(""), 0, W_ROOT, 0, MR_OTHER, P_AZURE, no_route },
	END
};

const struct route *route_model(const struct call *c, const char *rest)
{
	return route_find(c, model_routes, rest);
}

static void model_root(struct call *c, const char *rest)
{
	route_run(c, route_model(c, rest), rest);
}

/* The server's own routes, the same with --model and --workspace; then
 * --model's model routes at the root, or a workspace's endpoints. */
static const struct route server_routes[] = {
	{ EXACT("/"), GETS, 0, 0, MR_ROOT, P_AZURE, healthy_text },
	{ EXACT("/ping"), GETS, 0, 0, MR_HEALTH, P_AZURE, healthy_json },
	{ EXACT("/health"), GETS, 0, 0, MR_HEALTH, P_AZURE, healthy_json },
	{ EXACT("/version"), GETS, 0, 0, MR_VERSION, P_AZURE, version },
	{ EXACT("/swagger.json"), GETS, W_MODEL, 0, MR_SWAGGER, P_AZURE, swagger },
	{ EXACT("/metrics"), GETS, W_METRICS, 0, MR_METRICS, P_AZURE, metrics_text },
	{ EXACT("/v2"), GETS, 0, 0, MR_VERSION, P_V2, v2_server },
	{ EXACT("/v2/health/live"), GETS, 0, 0, MR_HEALTH, P_V2, v2_live },
	{ EXACT("/v2/health/ready"), GETS, 0, 0, MR_HEALTH, P_V2, v2_ready },
	{ PREFIX(""), 0, W_MODEL, 0, MR_OTHER, P_AZURE, model_root },
	/* A workspace: paths that are no endpoint's, then /NAME/... */
	{ EXACT("/score"), 0, W_WORKSPACE, 0, MR_OTHER, P_AZURE, no_route_at_root },
	{ EXACT("/invocations"), 0, W_WORKSPACE, 0, MR_OTHER, P_AZURE, no_route_at_root },
	{ EXACT("/swagger.json"), 0, W_WORKSPACE, 0, MR_OTHER, P_AZURE, no_route_at_root },
	{ EXACT("/metrics"), 0, W_WORKSPACE, 0, MR_OTHER, P_AZURE, no_route },
	{ PREFIX("/v2/"), 0, W_WORKSPACE, 0, MR_OTHER, P_AZURE, no_route },
	/* The Studio: no endpoint name begins with '_'.  Off, /_ui is a 404. */
	{ PREFIX("/_ui"), 0, W_WORKSPACE | W_UI, 0, MR_UI, P_AZURE, ui_route },
	{ PREFIX(""), 0, W_WORKSPACE, 0, MR_OTHER, P_AZURE, endpoint_route },
	END
};

static unsigned method_bit(const char *method)
{
	static const struct { const char *name; unsigned bit; } methods[] = {
		{ "GET", M_GET }, { "HEAD", M_HEAD }, { "POST", M_POST },
	};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(method, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

void route_request(struct call *c)
{
	c->method_bit = method_bit(c->method);
	route_run(c, route_find(c, server_routes, c->path), c->path);
}
