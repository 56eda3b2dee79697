/*
 * endpoint_view.c - the Studio's data routes (ui.h, docs/studio.md): JSON
 * views of what endpoint.c serves, for the page to poll.
 *
 *   GET /_ui/api/endpoints               names and auth modes, when
 *                                        score.fcgi --ui-list on
 *   GET /_ui/api/endpoints/NAME          the endpoint, its traffic and
 *                                        deployments (from their blobs)
 *   GET /_ui/api/endpoints/NAME/metrics  each deployment's counters
 *   GET /_ui/api/endpoints/NAME/logs     its newest request log lines
 *
 * The last three take NAME's own credential, as /NAME/score does.  What
 * they show is what the endpoint's caller could learn anyway (its
 * swagger.json, its answers), never a key, a token secret or a path of
 * the server's disk.  With endpoint.c, the only file of handler/ that
 * includes a workspace/ header.
 */
#define _GNU_SOURCE   /* memmem */
#include "handler/endpoint.h"
#include "handler/ui.h"
#include "workspace/ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *auth_name(const struct ws_endpoint *e)
{
	return e->auth_mode == WS_AUTH_KEY ? "key" : "aml_token";
}

static void send_json(struct call *c)
{
	call_send(c, 200, "application/json");
}

/* ---- the list ---- */

static int endpoint_order(const void *x, const void *y)
{
	const struct ws_endpoint *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

void view_list(struct call *c, const char *rest)
{
	const struct ws *w = endpoints_ws(c->a->eps);
	struct enc_buf *b = &c->a->out;

	(void)rest;
	if (!c->a->cfg.ui_list) {
		call_ok_json(c, "{\"list\": false, \"endpoints\": []}");
		return;
	}
	const struct ws_endpoint **v = malloc((w->nendpoints ? w->nendpoints : 1) * sizeof *v);
	if (!v) {
		call_fail(c, 500, "INTERNAL_ERROR", "out of memory");
		return;
	}
	for (size_t i = 0; i < w->nendpoints; i++)
		v[i] = &w->endpoints[i];
	qsort(v, w->nendpoints, sizeof *v, endpoint_order);
	enc_reset(b);
	enc_cstr(b, "{\"list\": true, \"endpoints\": [");
	for (size_t i = 0; i < w->nendpoints; i++) {
		enc_cstr(b, i ? ", {\"name\": " : "{\"name\": ");
		enc_string(b, v[i]->name);
		enc_cstr(b, ", \"auth_mode\": ");
		enc_string(b, auth_name(v[i]));
		enc_cstr(b, "}");
	}
	enc_cstr(b, "]}");
	free(v);
	send_json(c);
}

/* ---- one endpoint ---- */

static int deployment_order(const void *x, const void *y)
{
	const struct ws_deployment *const *a = x, *const *b = y;
	return strcmp((*a)->name, (*b)->name);
}

/* e's deployments sorted by name into v (WS_MAX_DEPLOYMENTS); the count. */
static size_t sorted_deployments(const struct ws_endpoint *e, const struct ws_deployment **v)
{
	size_t n = e->ndeployments < WS_MAX_DEPLOYMENTS ? e->ndeployments : WS_MAX_DEPLOYMENTS;

	for (size_t i = 0; i < n; i++)
		v[i] = &e->deployments[i];
	qsort(v, n, sizeof *v, deployment_order);
	return n;
}

static void put_uint_field(struct enc_buf *b, const char *key, uint64_t v)
{
	enc_cstr(b, key);
	enc_uint(b, v);
}

/* {"blue": 90, "green": 10}, in the order the state keeps. */
static void put_traffic(struct enc_buf *b, const struct traffic *t)
{
	enc_cstr(b, "{");
	for (size_t i = 0; i < t->n; i++) {
		if (i)
			enc_cstr(b, ", ");
		enc_string(b, t->e[i].name);
		put_uint_field(b, ": ", t->e[i].percent);
	}
	enc_cstr(b, "}");
}

static void put_labels(struct enc_buf *b, const struct blob_model *m)
{
	if (!m || !m->nlabels || !m->labels) {
		enc_cstr(b, "null");
		return;
	}
	enc_cstr(b, "[");
	for (uint32_t i = 0; i < m->nlabels; i++) {
		if (i)
			enc_cstr(b, ", ");
		enc_string(b, m->labels[i]);
	}
	enc_cstr(b, "]");
}

/* A deployment as the page shows it: its model's shape from the blob
 * served (the registered model's record when none is mapped). */
static void put_deployment(struct enc_buf *b, const struct ws_deployment *d, const struct app_model *am)
{
	const struct blob_model *m = am ? &am->map.model : NULL;
	const struct ws_model *wm = d->model;
	char shape[48];

	enc_cstr(b, "{\"name\": ");
	enc_string(b, d->name);
	enc_cstr(b, ", \"model\": ");
	enc_string(b, d->model_name);
	enc_cstr(b, ", \"model_version\": ");
	enc_string(b, d->model_version);
	put_uint_field(b, ", \"input_width\": ", m ? m->input_width : wm ? wm->inputs : 0);
	if (m && m->input_shape[0])
		snprintf(shape, sizeof shape, "[%u, %u, %u]", m->input_shape[0], m->input_shape[1], m->input_shape[2]);
	else
		snprintf(shape, sizeof shape, "null");
	enc_cstr(b, ", \"input_shape\": ");
	enc_cstr(b, shape);
	put_uint_field(b, ", \"output_width\": ", m ? m->output_width : wm ? wm->outputs : 0);
	enc_cstr(b, ", \"postprocess\": ");
	enc_string(b, blob_post_name(m ? m->postprocess : wm ? (uint32_t)wm->postprocess : 0));
	enc_cstr(b, ", \"labels\": ");
	put_labels(b, m);
	put_uint_field(b, ", \"request_timeout_ms\": ", d->request_timeout_ms);
	put_uint_field(b, ", \"instance_count\": ", d->instance_count);
	enc_cstr(b, "}");
}

static void details(struct call *c, const struct ws_endpoint *e)
{
	struct enc_buf *b = &c->a->out;
	const char *desc = ws_node_text(ws_node_get(e->node, "description"));
	const struct ws_deployment *v[WS_MAX_DEPLOYMENTS];
	size_t n = sorted_deployments(e, v);

	enc_reset(b);
	enc_cstr(b, "{\"name\": ");
	enc_string(b, e->name);
	enc_cstr(b, ", \"auth_mode\": ");
	enc_string(b, auth_name(e));
	enc_cstr(b, ", \"description\": ");
	if (desc)
		enc_string(b, desc);
	else
		enc_cstr(b, "null");
	enc_cstr(b, ", \"scoring_uri\": \"/");
	enc_cstr(b, e->name);   /* a name: letters, digits and '-' */
	enc_cstr(b, "/score\", \"swagger_uri\": \"/");
	enc_cstr(b, e->name);
	enc_cstr(b, "/swagger.json\", \"traffic\": ");
	put_traffic(b, &e->traffic);
	enc_cstr(b, ", \"mirror_traffic\": ");
	put_traffic(b, &e->mirror);
	enc_cstr(b, ", \"deployments\": [");
	for (size_t i = 0; i < n; i++) {
		if (i)
			enc_cstr(b, ", ");
		put_deployment(b, v[i], endpoints_model(c->a->eps, v[i]->blob));
	}
	enc_cstr(b, "]}");
	send_json(c);
}

/* ---- counters ---- */

/* Microseconds as seconds, exactly: 0.0015, 2, 12.000001. */
static void put_seconds(struct enc_buf *b, uint64_t usec)
{
	char num[32];
	int n = snprintf(num, sizeof num, "%llu.%06llu", (unsigned long long)(usec / 1000000),
			 (unsigned long long)(usec % 1000000));

	while (n > 0 && num[n - 1] == '0')
		num[--n] = '\0';
	if (n > 0 && num[n - 1] == '.')
		num[--n] = '\0';
	enc_cstr(b, num);
}

static void put_status(struct enc_buf *b, const struct metrics_stats *st)
{
	int first = 1;
	char code[8];

	enc_cstr(b, "{");
	for (int i = 0; i < METRICS_NSTATUS; i++) {
		if (!st->status[i])
			continue;
		int s = metrics_status(i);
		snprintf(code, sizeof code, "%d", s);
		enc_cstr(b, first ? "" : ", ");
		enc_string(b, s ? code : "other");
		put_uint_field(b, ": ", st->status[i]);
		first = 0;
	}
	enc_cstr(b, "}");
}

static void put_latency(struct enc_buf *b, const struct metrics_stats *st)
{
	enc_cstr(b, "{\"le\": [");
	for (int i = 0; i < METRICS_NBUCKETS; i++) {
		const char *le = metrics_le(i);
		enc_cstr(b, i ? ", " : "");
		enc_cstr(b, le ? le : "null");
	}
	enc_cstr(b, "], \"counts\": [");
	for (int i = 0; i < METRICS_NBUCKETS; i++)
		put_uint_field(b, i ? ", " : "", st->le[i]);
	enc_cstr(b, "], \"sum_seconds\": ");
	put_seconds(b, st->sum_usec);
	enc_cstr(b, "}");
}

static void put_stats(struct enc_buf *b, const char *name, const struct metrics_stats *st)
{
	enc_cstr(b, "{\"name\": ");
	enc_string(b, name);
	put_uint_field(b, ", \"requests\": ", st->requests);
	put_uint_field(b, ", \"errors\": ", st->errors);
	enc_cstr(b, ", \"status\": ");
	put_status(b, st);
	put_uint_field(b, ", \"rows\": ", st->rows);
	enc_cstr(b, ", \"latency\": ");
	put_latency(b, st);
	enc_cstr(b, "}");
}

static void counters(struct call *c, const struct ws_endpoint *e)
{
	struct enc_buf *b = &c->a->out;
	const struct ws_deployment *v[WS_MAX_DEPLOYMENTS];
	size_t n = c->a->cfg.metrics_off ? 0 : sorted_deployments(e, v);
	struct timespec ts;
	char label[METRICS_NAME_MAX];
	struct metrics_stats st;

	clock_gettime(CLOCK_REALTIME, &ts);
	enc_reset(b);
	put_uint_field(b, "{\"time_ms\": ", (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
	enc_cstr(b, c->a->cfg.metrics_off ? ", \"metrics\": false" : ", \"metrics\": true");
	enc_cstr(b, ", \"deployments\": [");
	for (size_t i = 0; i < n; i++) {
		/* The slot endpoint.c's use_deployment() counts it in. */
		snprintf(label, sizeof label, "%s/%s", e->name, v[i]->name);
		metrics_stats(c->a->metrics, label, &st);
		enc_cstr(b, i ? ", " : "");
		put_stats(b, v[i]->name, &st);
	}
	enc_cstr(b, "]}");
	send_json(c);
}

/* ---- log lines ---- */

/* The log's last UI_LOG_TAIL bytes into buf (at least that big), from a
 * line's start: the length, 0 when there is no log yet, -1 on error. */
static long log_tail(const struct ws *w, char *buf)
{
	char err[256];
	struct stat st;
	int fd = ws_open_log(w, 0, err, sizeof err);
	long got = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	off_t from = st.st_size > (off_t)UI_LOG_TAIL ? st.st_size - (off_t)UI_LOG_TAIL : 0;
	while (got < (long)UI_LOG_TAIL) {
		ssize_t r = pread(fd, buf + got, UI_LOG_TAIL - (size_t)got, from + got);
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	if (from > 0) {   /* the first line is cut: drop it */
		char *nl = memchr(buf, '\n', (size_t)got);
		long skip = nl ? nl - buf + 1 : got;
		memmove(buf, buf + skip, (size_t)(got - skip));
		got -= skip;
	}
	return got;
}

/* The starts of the newest UI_LOG_LINES whole lines of buf[0, len) that
 * name endpoint e, newest first, each line's '\n' made a NUL: the count. */
static size_t pick_lines(char *buf, size_t len, const char *e, char **start)
{
	char needle[64];
	size_t k = 0, nn = (size_t)snprintf(needle, sizeof needle, "\"endpoint\": \"%s\", ", e);
	size_t end = len;

	while (end > 0 && buf[end - 1] != '\n')   /* a line still being written */
		end--;
	while (end > 0 && k < UI_LOG_LINES) {
		size_t s = end - 1;
		while (s > 0 && buf[s - 1] != '\n')
			s--;
		if (memmem(buf + s, end - 1 - s, needle, nn)) {
			buf[end - 1] = '\0';
			start[k++] = buf + s;
		}
		end = s;
	}
	return k;
}

static void log_lines(struct call *c, const struct ws_endpoint *e)
{
	struct enc_buf *b = &c->a->out;
	char *start[UI_LOG_LINES];

	if (c->a->cfg.log_path) {   /* --log: not the workspace's log */
		call_ok_json(c, "{\"log\": false, \"lines\": []}");
		return;
	}
	char *buf = malloc(UI_LOG_TAIL);
	long len = buf ? log_tail(endpoints_ws(c->a->eps), buf) : -1;
	if (len < 0) {
		free(buf);
		call_fail(c, 500, "INTERNAL_ERROR", "the request log could not be read");
		return;
	}
	size_t k = pick_lines(buf, (size_t)len, e->name, start);
	enc_reset(b);
	enc_cstr(b, "{\"log\": true, \"lines\": [");
	for (size_t i = k; i-- > 0;) {
		enc_string(b, start[i]);
		enc_cstr(b, i ? ", " : "");
	}
	enc_cstr(b, "]}");
	free(buf);
	send_json(c);
}

/* ---- /_ui/api/endpoints/NAME... ---- */

static const struct {
	const char *tail;
	void (*fn)(struct call *c, const struct ws_endpoint *e);
} views[] = {
	{ "", details },
	{ "/metrics", counters },
	{ "/logs", log_lines },
};

void view_endpoint(struct call *c, const char *rest)
{
	size_t n = strcspn(rest, "/");
	const struct ws_endpoint *e = ws_endpoint(endpoints_ws(c->a->eps), rest, n);

	if (!e) {
		call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s: no such endpoint", c->path);
		return;
	}
	if (!endpoints_authorized(c, e))
		return;
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
		if (strcmp(rest + n, views[i].tail) == 0) {
			views[i].fn(c, e);
			return;
		}
	call_fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s; the endpoint's views are /_ui/api/endpoints/%s, "
		  ".../metrics and .../logs", c->path, e->name);
}
