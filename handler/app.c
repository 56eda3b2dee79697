/*
 * app.c - one request's frame: set-up before the first request, the
 * request's ids, path and method, the response and its errors, the log
 * line and the counters, and what app_after() does once the answer is out.
 * The routes are route.c's, the scoring scoring.c's, a workspace's
 * endpoints endpoint.c's (call.h says who does what).
 */
#include "handler/call.h"
#include "handler/endpoint.h"
#include "handler/log.h"
#include "handler/scoring.h"
#include "handler/shadow.h"
#include "model/num.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

double call_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	default: return "Error";
	}
}

/* ---- setup ---- */

int app_model_open(struct app_model *m, const char *path, int fd, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	if ((fd >= 0 ? blob_map_fd(fd, path, &m->map, err, errlen) : blob_map_file(path, &m->map, err, errlen)) < 0)
		return -1;
	m->path = strdup(path);
	if (!m->path || req_schema_init(&m->schema, &m->map.model) < 0) {
		free(m->path);
		blob_unmap(&m->map);
		memset(m, 0, sizeof *m);   /* app_free() must not close it again */
		snprintf(err, errlen, "out of memory for the column index of %s", path);
		return -1;
	}
	return 0;
}

void app_model_close(struct app_model *m)
{
	if (!m->path)
		return;
	req_schema_free(&m->schema);
	blob_unmap(&m->map);
	free(m->path);
	memset(m, 0, sizeof *m);
}

static int open_log(struct app *a, char *err, size_t errlen)
{
	const char *lp = a->cfg.log_path;

	if (!lp && a->eps) {
		/* The workspace's own log: reached without following a link. */
		a->log_fd = endpoints_open_log(a->eps, err, errlen);
		return a->log_fd < 0 ? -1 : 0;
	}
	if (!lp) {
		a->log_fd = STDERR_FILENO;
	} else if (strcmp(lp, "-") != 0) {
		a->log_fd = open(lp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (a->log_fd < 0) {
			snprintf(err, errlen, "%s: %s", lp, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The counters: --metrics-file's, else the default file of the model or
 * the workspace. */
static int open_metrics(struct app *a, char *err, size_t errlen)
{
	char merr[256], mpath[PATH_MAX + 64];

	if (a->cfg.metrics_path) {
		snprintf(mpath, sizeof mpath, "%s", a->cfg.metrics_path);
	} else if (a->eps) {
		metrics_default_path(endpoints_dir(a->eps), mpath, sizeof mpath);
	} else {
		char *real = realpath(a->cfg.model_path, NULL);
		metrics_default_path(real ? real : a->cfg.model_path, mpath, sizeof mpath);
		free(real);
	}
	a->metrics = metrics_open(mpath, merr, sizeof merr);
	if (!a->metrics) {
		snprintf(err, errlen, "metrics: %s", merr);
		return -1;
	}
	return 0;
}

static int init(struct app *a, const struct app_config *cfg, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	a->cfg = *cfg;
	if (!a->cfg.max_body)
		a->cfg.max_body = APP_DEFAULT_MAX_BODY;
	if (!a->cfg.request_timeout_ms)
		a->cfg.request_timeout_ms = APP_DEFAULT_TIMEOUT_MS;
	a->log_fd = -1;
	a->pid = (long)getpid();   /* nothing forks after this */
	err[0] = '\0';
	if (!cfg->model_path == !cfg->workspace) {
		snprintf(err, errlen, cfg->model_path ? "give --model or --workspace, not both" :
			 "nothing to serve: give --model FILE.blob (SCOREPOINT_MODEL) or --workspace DIR "
			 "(SCOREPOINT_WORKSPACE)");
		return -1;
	}
	if (cfg->model_path) {
		if (app_model_open(&a->single, cfg->model_path, -1, err, errlen) < 0)
			return -1;
	} else if (!(a->eps = endpoints_load(cfg->workspace, err, errlen))) {
		return -1;
	}
	struct req_limits lim = { a->cfg.max_body, REQ_DEFAULT_MAX_TOKENS, REQ_DEFAULT_MAX_ROWS,
				  REQ_DEFAULT_MAX_VALUES };
	req_ctx_init(&a->req, &lim);
	enc_init(&a->head, 64 << 10);
	enc_init(&a->out, 0);
	fwd_set_threads(cfg->threads > 0 ? cfg->threads : 1);
	if (open_log(a, err, errlen) < 0 || open_metrics(a, err, errlen) < 0)
		return -1;
	a->deployment = a->eps ? -1 : metrics_deployment(a->metrics, "default");
	return 0;
}

int app_init(struct app *a, const struct app_config *cfg, char *err, size_t errlen)
{
	if (init(a, cfg, err, errlen) < 0) {
		app_free(a);   /* what was set up before the failure */
		return -1;
	}
	return 0;
}

void app_free(struct app *a)
{
	if (a->metrics)
		metrics_close(a->metrics);
	log_buffer(-1);   /* what is buffered goes out first */
	if (a->log_fd > STDERR_FILENO)
		close(a->log_fd);
	free(a->body);
	enc_free(&a->head);
	enc_free(&a->out);
	fwd_scratch_free(&a->fwd);
	req_ctx_free(&a->req);
	app_model_close(&a->single);
	endpoints_free(a->eps);
	memset(a, 0, sizeof *a);
}

/* ---- a server that could not start (plain CGI) ---- */

/* The length of the path that begins at err[i] (with a ':' that ends it),
 * or 0: one of cfg's, or an absolute one after a space, a quote or '('. */
static size_t path_at(const char *err, size_t i, const struct app_config *cfg)
{
	const char *given[] = { cfg->model_path, cfg->workspace };

	for (size_t k = 0; k < sizeof given / sizeof given[0]; k++) {
		size_t n = given[k] ? strlen(given[k]) : 0;
		if (n && strncmp(err + i, given[k], n) == 0)
			return n + strcspn(err + i + n, " ,)'\"");
	}
	if (err[i] == '/' && (i == 0 || strchr(" ('\"", err[i - 1])))
		return strcspn(err + i, " ,)'\"");
	return 0;
}

/* err without the paths it names ("PATH: ", "PATH:LINE: " and the like). */
static void without_paths(const char *err, const struct app_config *cfg, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; err[i] && o + 1 < len;) {
		size_t n = path_at(err, i, cfg);
		if (!n) {
			out[o++] = err[i++];
			continue;
		}
		i += n;
		i += strspn(err + i, ":0123456789");
		i += strspn(err + i, " ");
	}
	out[o] = '\0';
}

void app_refuse(struct io *io, const struct app_config *cfg, const char *err)
{
	struct enc_buf body, head;
	char reason[512], msg[600];
	const char *path = io->param(io, "REQUEST_URI");

	without_paths(err, cfg, reason, sizeof reason);
	snprintf(msg, sizeof msg, "the %s could not be loaded: %s", cfg->workspace ? "workspace" : "model", reason);
	enc_init(&body, 0);
	enc_init(&head, 0);
	if (path && (strncmp(path, "/v2/", 4) == 0 || strstr(path, "/v2/"))) {
		enc_cstr(&body, "{\"error\": ");
	} else {
		enc_cstr(&body, "{\"error_code\": ");
		enc_string(&body, cfg->workspace ? "WORKSPACE_NOT_LOADED" : "MODEL_NOT_LOADED");
		enc_cstr(&body, ", \"message\": ");
	}
	enc_string(&body, msg);
	enc_cstr(&body, "}");
	enc_cstr(&head, "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ");
	enc_uint(&head, body.len);
	enc_cstr(&head, "\r\n\r\n");
	if (io->write(io, head.p, head.len) == 0)
		(void)io->write(io, body.p, body.len);
	enc_free(&body);
	enc_free(&head);
}

/* ---- responses ---- */

static void header(struct call *c, const char *name, const char *value)
{
	enc_cstr(&c->a->head, name);
	enc_raw(&c->a->head, ": ", 2);
	enc_cstr(&c->a->head, value);
	enc_raw(&c->a->head, "\r\n", 2);
}

void call_send(struct call *c, int status, const char *type)
{
	struct app *a = c->a;

	c->status = status;
	enc_reset(&a->head);
	enc_raw(&a->head, "Status: ", 8);
	enc_uint(&a->head, (uint64_t)status);
	enc_raw(&a->head, " ", 1);
	enc_cstr(&a->head, reason(status));
	enc_raw(&a->head, "\r\n", 2);
	if (status == 304) {
		enc_reset(&a->out);
	} else {
		header(c, "Content-Type", type);
		enc_raw(&a->head, "Content-Length: ", 16);
		enc_uint(&a->head, a->out.len);
		enc_raw(&a->head, "\r\n", 2);
	}
	header(c, "x-request-id", c->request_id);
	if (c->client_id[0])
		header(c, "x-ms-client-request-id", c->client_id);
	if (c->allow)
		header(c, "Allow", c->allow);
	if (c->www_auth)
		header(c, "WWW-Authenticate", c->www_auth);
	if (c->deployment && (c->route == MR_SCORE || c->route == MR_INVOCATIONS || c->route == MR_V2_INFER))
		header(c, "azureml-model-deployment", c->deployment);
	if (c->headers)
		enc_cstr(&a->head, c->headers);
	enc_raw(&a->head, "\r\n", 2);
	/* FastCGI buffers both in its output stream until FCGX_Finish_r. */
	if (c->io->write(c->io, a->head.p, a->head.len) < 0 ||
	    (a->out.len && !c->bodyless && c->io->write(c->io, a->out.p, a->out.len) < 0))
		c->status = 499;   /* the client went away; logged as such */
}

void call_fail(struct call *c, int status, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	enc_reset(&c->a->out);
	if (c->proto == P_V2) {
		enc_cstr(&c->a->out, "{\"error\": ");
	} else {
		enc_cstr(&c->a->out, "{\"error_code\": ");
		enc_string(&c->a->out, code);
		enc_cstr(&c->a->out, ", \"message\": ");
	}
	enc_string(&c->a->out, msg);
	enc_cstr(&c->a->out, "}");
	call_send(c, status, "application/json");
}

void call_ok_json(struct call *c, const char *body)
{
	enc_reset(&c->a->out);
	enc_cstr(&c->a->out, body);
	call_send(c, 200, "application/json");
}

void call_not_allowed(struct call *c, const char *allow)
{
	c->allow = allow;
	call_fail(c, 405, "METHOD_NOT_ALLOWED", "%s does not take %s; use %s", c->path, c->method, allow);
}

/* ---- request details ---- */

/* Uniqueness and spread, not secrecy: splitmix64 seeded once per process
 * from getrandom() saves a system call per request. */
uint64_t call_rand64(void)
{
	static uint64_t state;
	static int seeded;
	if (!seeded) {
		if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
			state = (uint64_t)(call_now() * 1e9) ^ (uint64_t)getpid() << 32;
		seeded = 1;
	}
	uint64_t z = (state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* x-request-id: echoed when it is a sane token, else a fresh UUID v4. */
static void request_id(struct call *c)
{
	const char *given = c->io->param(c->io, "HTTP_X_REQUEST_ID");
	size_t n = given ? strlen(given) : 0;
	int sane = n > 0 && n <= CALL_ID_MAX &&
		   strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
	if (sane) {
		memcpy(c->request_id, given, n + 1);
		return;
	}
	unsigned char r[16];
	for (int half = 0; half < 2; half++) {
		uint64_t z = call_rand64();
		memcpy(r + 8 * half, &z, 8);
	}
	r[6] = (unsigned char)((r[6] & 0x0F) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3F) | 0x80);
	/* By hand: snprintf with sixteen conversions costs more than the
	 * rest of a small request's bookkeeping together. */
	static const char hex[] = "0123456789abcdef";
	char *o = c->request_id;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[r[i] >> 4];
		*o++ = hex[r[i] & 15];
	}
	*o = '\0';
}

/* x-ms-client-request-id: letters, digits, '-' and '_', at most 40. */
static int client_id(struct call *c)
{
	const char *given = c->io->param(c->io, "HTTP_X_MS_CLIENT_REQUEST_ID");
	if (!given)
		return 0;
	size_t n = strlen(given);
	if (n == 0 || n > CALL_CLIENT_ID_MAX ||
	    strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != n)
		return -1;
	memcpy(c->client_id, given, n + 1);
	return 0;
}

/* ---- logging ---- */

/* The AWS X-Ray trace of this request (lambda.c sets _X_AMZN_TRACE_ID for
 * each invocation, as the Runtime API asks), so that its log line joins
 * the trace; NULL elsewhere, or when it is not "Root=...;Sampled=..." text. */
static const char *trace_id(void)
{
	const char *t = getenv("_X_AMZN_TRACE_ID");
	size_t n = t ? strlen(t) : 0;

	if (n == 0 || n > CALL_TRACE_MAX ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-=;") != n)
		return NULL;
	return t;
}

/* A mirror copy's comparison, as the tail of its log line: `, "shadow":
 * {...}`, the difference as num_format writes it (null when not finite:
 * JSON has no Inf). */
static int shadow_tail(char *out, size_t cap, const char *live, const struct metrics_shadow_rows *v)
{
	char worst[NUM_FORMAT_MAX];

	if (!num_format(v->worst, worst))
		memcpy(worst, "null", 5);
	return snprintf(out, cap, ", \"shadow\": {\"live\": \"%s\", \"rows\": %llu, \"agree\": %llu, \"disagree\": "
			"%llu, \"not_comparable\": %llu, \"worst_abs_diff\": %s}", live,
			(unsigned long long)v->rows, (unsigned long long)v->agree,
			(unsigned long long)(v->rows - v->agree), (unsigned long long)v->not_comparable, worst);
}

static void log_request(const struct call *c, size_t bytes_out, uint64_t usec, const char *live,
			const struct metrics_shadow_rows *v)
{
	static const char *const names[MR_COUNT] = { "root", "health", "version", "swagger", "score",
						     "invocations", "v2_infer", "metrics", "ui", "other" };
	char line[768 + CALL_TRACE_MAX];
	struct log_out o = { line, sizeof line, 0 };
	struct log_fields f;

	if (c->a->log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &f.when);
	f.pid = c->a->pid;
	f.request_id = c->request_id;
	f.trace = trace_id();
	f.endpoint = c->endpoint ? c->endpoint : "";
	f.deployment = c->deployment ? c->deployment : "";
	f.route = names[c->route];
	f.method = c->method;
	f.status = c->status;
	f.rows = c->rows;
	f.bytes_in = c->bytes_in;
	f.bytes_out = bytes_out;
	f.usec = (unsigned long long)usec;
	log_head(&o, &f);   /* what snprintf made, cut at the same place */
	size_t n = o.n;
	if (n < sizeof line && v)
		n += (size_t)shadow_tail(line + n, sizeof line - n, live, v);
	if (n < sizeof line - 2) {
		memcpy(line + n, "}\n", 3);
		n += 2;
	}
	log_put(c->a->log_fd, line, n < sizeof line ? n : sizeof line - 1);
}

static void done(const struct call *c, size_t bytes_out, const char *live, const struct metrics_shadow_rows *v)
{
	uint64_t usec = (uint64_t)((call_now() - c->t0) * 1e6);

	metrics_request(c->a->metrics, c->route, c->status, c->slot, c->rows, usec);
	log_request(c, bytes_out, usec, live, v);
}

void call_done(const struct call *c, size_t bytes_out)
{
	done(c, bytes_out, NULL, NULL);
}

void call_done_shadow(const struct call *c, const char *live, const struct metrics_shadow_rows *v)
{
	done(c, 0, live, v);
}

/* ---- the request ---- */

/* The path without its query, at most sizeof c->path - 1 bytes; "/" when
 * there is none. */
static void read_path(struct call *c)
{
	size_t plen = c->path_full ? strcspn(c->path_full, "?#") : 0;

	if (plen > sizeof c->path - 1)
		plen = sizeof c->path - 1;
	if (plen)
		memcpy(c->path, c->path_full, plen);
	c->path[plen] = '\0';
	if (!c->path[0]) {
		memcpy(c->path, "/", 2);
		plen = 1;
	}
	c->path_len = plen;
}

/* What is known before the request is read: --model's blob, or (with
 * --workspace) the latest snapshot, the endpoint and deployment chosen
 * later. */
static void begin(struct call *c, struct app *a, struct io *io)
{
	memset(c, 0, sizeof *c);
	c->a = a;
	c->io = io;
	c->t0 = call_now();
	c->route = MR_OTHER;
	c->timeout_ms = a->cfg.request_timeout_ms;
	c->slot = a->deployment;
	scoring_forget();
	if (a->eps) {
		endpoints_begin(a->eps);
	} else {
		c->m = &a->single;
		c->endpoint = a->single.map.model.name;
		c->deployment = "default";
	}
}

void app_handle(struct app *a, struct io *io)
{
	struct call c;

	begin(&c, a, io);
	metrics_inflight(a->metrics, 1);
	c.method = io->param(io, "REQUEST_METHOD");
	c.path_full = io->param(io, "REQUEST_URI");
	if (!c.path_full || !*c.path_full)
		c.path_full = io->param(io, "SCRIPT_NAME");   /* CGI by hand may set only these */
	if (!c.method)
		c.method = "GET";
	request_id(&c);
	read_path(&c);
	if (strlen(c.method) > 16 || strspn(c.method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(c.method)) {
		c.method = "?";
		call_fail(&c, 400, "BAD_REQUEST", "malformed request method");
	} else if (client_id(&c) < 0) {
		call_fail(&c, 400, "BAD_REQUEST", "x-ms-client-request-id must be 1 to 40 letters, digits, '-' or '_'");
	} else {
		route_request(&c);
	}
	call_done(&c, a->out.len);
	metrics_inflight(a->metrics, -1);
}

/* ---- after the answer ---- */

/* An enc_buf without its memory, its cap kept. */
static void enc_shrink(struct enc_buf *b)
{
	size_t max = b->max;
	enc_free(b);
	enc_init(b, max);
}

/*
 * Give back what a large request grew: when the per-process buffers hold
 * more than APP_KEEP_BYTES together, all of them are freed (the next
 * request grows what it needs again) and malloc_trim returns the free heap
 * to the kernel, which glibc would otherwise keep: after a large free it
 * serves sizes up to 32 MiB from the heap.  Requests that stay under it,
 * the 2-row one and the 200-row one (9 MiB) included, keep their buffers.
 */
static void trim(struct app *a)
{
	size_t held = a->body_cap + req_ctx_bytes(&a->req) + 2 * a->fwd.cap * sizeof(float) + a->out.cap +
		      a->head.cap;
	if (held <= APP_KEEP_BYTES)
		return;
	free(a->body);
	a->body = NULL;
	a->body_cap = 0;
	req_ctx_shrink(&a->req);
	fwd_scratch_free(&a->fwd);
	enc_shrink(&a->out);
	enc_shrink(&a->head);
	malloc_trim(0);
}

void app_after(struct app *a)
{
	if (a->eps) {
		endpoints_collect(a);
		endpoints_mirror(a);
	}
	trim(a);
}
