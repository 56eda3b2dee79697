/*
 * app.c - one request, start to finish: route, read the body within its
 * cap, decode, score, encode, answer, log, count.
 *
 * Error bodies follow the caller's protocol: {"error_code", "message"} for
 * the Azure ML and MLflow routes (a superset of Azure's {"message"}), and
 * {"error"} for KServe V2.  Messages say what and where, never echo the body.
 */
#include "handler/app.h"
#include "handler/swagger.h"
#include "workspace/auth.h"
#include "workspace/name.h"
#include "model/v2.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ID_MAX 64
#define CLIENT_ID_MAX 40

enum proto { P_AZURE, P_MLFLOW, P_V2 };

/* What one request is, as it goes. */
struct call {
	struct app *a;
	struct io *io;
	const char *method, *path_full;
	char path[512];
	enum metrics_route route;
	enum proto proto;
	int status;
	size_t rows, bytes_in;
	char request_id[ID_MAX + 1];
	char client_id[CLIENT_ID_MAX + 1];
	const char *allow;       /* Allow header of a 405 */
	const char *www_auth;    /* WWW-Authenticate header of a 401 */
	double t0;
	/* What the request is scored with: --model's blob, or the deployment
	 * that traffic (or the azureml-model-deployment header) chose. */
	struct app_model *m;
	const char *endpoint, *deployment;   /* for logs and headers */
	char base[40];                       /* "/NAME" of a workspace endpoint */
	unsigned timeout_ms;
	int slot;                            /* metrics slot; -1: none */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
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

/* Map the blob at path, or from fd (taken over) when fd >= 0: a
 * workspace's blob, opened without following a link (ws_open_blob()). */
static int model_open(struct app_model *m, const char *path, int fd, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	if ((fd >= 0 ? blob_map_fd(fd, path, &m->map, err, errlen) : blob_map_file(path, &m->map, err, errlen)) < 0)
		return -1;
	m->path = strdup(path);
	if (!m->path || req_schema_init(&m->schema, &m->map.model) < 0) {
		free(m->path);
		blob_unmap(&m->map);
		snprintf(err, errlen, "out of memory for the column index of %s", path);
		return -1;
	}
	return 0;
}

static void model_close(struct app_model *m)
{
	if (!m->path)
		return;
	req_schema_free(&m->schema);
	blob_unmap(&m->map);
	free(m->path);
	memset(m, 0, sizeof *m);
}

static struct app_model *model_by_path(struct app_model *ms, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (ms[i].path && strcmp(ms[i].path, path) == 0)
			return &ms[i];
	return NULL;
}

/*
 * Map every blob snapshot w names into a fresh array, taking over those
 * a already has (blobs never change while registered, so a mapping is
 * good for as long as its path is named).  On failure nothing of a's
 * changes.  0, or -1 with err.
 */
static int map_workspace(struct app *a, const struct ws *w, struct app_model **out, size_t *nout,
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
	for (size_t i = 0; i < a->nmodels; i++)
		a->models[i].taken = 0;
	for (size_t e = 0; e < w->nendpoints; e++) {
		const struct ws_endpoint *ep = &w->endpoints[e];
		for (size_t d = 0; d < ep->ndeployments; d++) {
			const char *path = ep->deployments[d].blob;
			if (model_by_path(ms, n, path))
				continue;
			struct app_model *old = model_by_path(a->models, a->nmodels, path);
			int fd;
			if (old && !old->taken) {
				ms[n] = *old;
				ms[n++].taken = 1;
				old->taken = 1;
			} else if ((fd = ws_open_blob(w, ep->deployments[d].model, err, errlen)) >= 0 &&
				   model_open(&ms[n], path, fd, err, errlen) == 0) {
				n++;
			} else {
				for (size_t i = 0; i < n; i++)
					if (!ms[i].taken)
						model_close(&ms[i]);
				free(ms);
				return -1;
			}
		}
	}
	*out = ms;
	*nout = n;
	return 0;
}

/* Serve snapshot w from now on (its blobs mapped as ms[n]); frees the old. */
static void switch_workspace(struct app *a, struct ws *w, struct app_model *ms, size_t n)
{
	for (size_t i = 0; i < a->nmodels; i++)
		if (!a->models[i].taken)
			model_close(&a->models[i]);
	free(a->models);
	if (a->ws.dir)
		ws_free(&a->ws);
	for (size_t i = 0; i < n; i++)
		ms[i].taken = 0;
	a->models = ms;
	a->nmodels = n;
	a->ws = *w;
}

static int load_workspace(struct app *a, char *err, size_t errlen)
{
	struct ws w;
	struct app_model *ms;
	size_t n;

	if (ws_load(a->ws_dir, &w, err, errlen) < 0)
		return -1;
	if (map_workspace(a, &w, &ms, &n, err, errlen) < 0) {
		ws_free(&w);
		return -1;
	}
	switch_workspace(a, &w, ms, n);
	return 0;
}

/*
 * A change the CLI committed (traffic, keys, deployments) is served from
 * the next request on: one stat() of the state file per request.  A state
 * that cannot be loaded or mapped leaves the current one serving, with
 * one line on stderr, and is not retried until the file changes again.
 */
static void refresh_workspace(struct app *a)
{
	struct ws_stamp st;
	char err[PATH_MAX + 256];

	if (ws_stat(a->ws_dir, &st) < 0 || ws_stamp_equal(&st, &a->ws.stamp) ||
	    ws_stamp_equal(&st, &a->ws_refused))
		return;
	if (load_workspace(a, err, sizeof err) < 0) {
		a->ws_refused = st;
		fprintf(stderr, "score.fcgi[%ld]: workspace change not served: %s\n", (long)getpid(), err);
	}
}

static int open_log(struct app *a, char *err, size_t errlen)
{
	const char *lp = a->cfg.log_path;

	if (!lp && a->ws_dir) {
		/* The workspace's own log: reached without following a link. */
		a->log_fd = ws_open_log(&a->ws, 1, err, errlen);
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

static int init(struct app *a, const struct app_config *cfg, char *err, size_t errlen)
{
	char merr[256], mpath[PATH_MAX + 64];

	memset(a, 0, sizeof *a);
	a->cfg = *cfg;
	if (!a->cfg.max_body)
		a->cfg.max_body = APP_DEFAULT_MAX_BODY;
	if (!a->cfg.request_timeout_ms)
		a->cfg.request_timeout_ms = APP_DEFAULT_TIMEOUT_MS;
	a->log_fd = -1;
	err[0] = '\0';
	if (!cfg->model_path == !cfg->workspace) {
		snprintf(err, errlen, cfg->model_path ? "give --model or --workspace, not both" :
			 "nothing to serve: give --model FILE.blob (SCOREPOINT_MODEL) or --workspace DIR "
			 "(SCOREPOINT_WORKSPACE)");
		return -1;
	}
	if (fwd_init(err, errlen) < 0)
		return -1;
	if (cfg->model_path) {
		if (model_open(&a->single, cfg->model_path, -1, err, errlen) < 0)
			return -1;
	} else {
		a->ws_dir = realpath(cfg->workspace, NULL);
		if (!a->ws_dir) {
			snprintf(err, errlen, "%s: %s", cfg->workspace, strerror(errno));
			return -1;
		}
		if (load_workspace(a, err, errlen) < 0)
			return -1;
	}
	struct req_limits lim = { a->cfg.max_body, REQ_DEFAULT_MAX_TOKENS, REQ_DEFAULT_MAX_ROWS,
				  REQ_DEFAULT_MAX_VALUES };
	req_ctx_init(&a->req, &lim);
	enc_init(&a->head, 64 << 10);
	enc_init(&a->out, 0);
	fwd_set_threads(cfg->threads > 0 ? cfg->threads : 1);
	if (open_log(a, err, errlen) < 0)
		return -1;
	if (cfg->metrics_path) {
		snprintf(mpath, sizeof mpath, "%s", cfg->metrics_path);
	} else if (a->ws_dir) {
		metrics_default_path(a->ws_dir, mpath, sizeof mpath);
	} else {
		char *real = realpath(cfg->model_path, NULL);
		metrics_default_path(real ? real : cfg->model_path, mpath, sizeof mpath);
		free(real);
	}
	a->metrics = metrics_open(mpath, merr, sizeof merr);
	if (!a->metrics) {
		snprintf(err, errlen, "metrics: %s", merr);
		return -1;
	}
	a->deployment = a->ws_dir ? -1 : metrics_deployment(a->metrics, "default");
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
	if (a->log_fd > STDERR_FILENO)
		close(a->log_fd);
	free(a->body);
	enc_free(&a->head);
	enc_free(&a->out);
	fwd_scratch_free(&a->fwd);
	req_ctx_free(&a->req);
	model_close(&a->single);
	for (size_t i = 0; i < a->nmodels; i++)
		model_close(&a->models[i]);
	free(a->models);
	if (a->ws.dir)
		ws_free(&a->ws);
	free(a->ws_dir);
	memset(a, 0, sizeof *a);
}

/* ---- responses ---- */

static void header(struct call *c, const char *name, const char *value)
{
	enc_cstr(&c->a->head, name);
	enc_raw(&c->a->head, ": ", 2);
	enc_cstr(&c->a->head, value);
	enc_raw(&c->a->head, "\r\n", 2);
}

/* Send the status line, the common headers and out as the body. */
static void send(struct call *c, int status, const char *type)
{
	struct app *a = c->a;

	c->status = status;
	enc_reset(&a->head);
	enc_raw(&a->head, "Status: ", 8);
	enc_uint(&a->head, (uint64_t)status);
	enc_raw(&a->head, " ", 1);
	enc_cstr(&a->head, reason(status));
	enc_raw(&a->head, "\r\n", 2);
	header(c, "Content-Type", type);
	enc_raw(&a->head, "Content-Length: ", 16);
	enc_uint(&a->head, a->out.len);
	enc_raw(&a->head, "\r\n", 2);
	header(c, "x-request-id", c->request_id);
	if (c->client_id[0])
		header(c, "x-ms-client-request-id", c->client_id);
	if (c->allow)
		header(c, "Allow", c->allow);
	if (c->www_auth)
		header(c, "WWW-Authenticate", c->www_auth);
	if (c->deployment && (c->route == MR_SCORE || c->route == MR_INVOCATIONS || c->route == MR_V2_INFER))
		header(c, "azureml-model-deployment", c->deployment);
	enc_raw(&a->head, "\r\n", 2);
	/* FastCGI buffers both in its output stream until FCGX_Finish_r. */
	if (c->io->write(c->io, a->head.p, a->head.len) < 0 ||
	    (a->out.len && c->io->write(c->io, a->out.p, a->out.len) < 0))
		c->status = 499;   /* the client went away; logged as such */
}

static void fail(struct call *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct call *c, int status, const char *code, const char *fmt, ...)
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
	send(c, status, "application/json");
}

static void ok_json(struct call *c, const char *body)
{
	enc_reset(&c->a->out);
	enc_cstr(&c->a->out, body);
	send(c, 200, "application/json");
}

static const char *req_code(const struct req_error *e)
{
	switch (e->code) {
	case REQ_E_LIMIT: return "PAYLOAD_TOO_LARGE";
	case REQ_E_NOMEM: return "INTERNAL_ERROR";
	case REQ_E_DEADLINE: return "DEADLINE_EXCEEDED";
	case REQ_E_TYPE:
	case REQ_E_COLUMNS: return "INVALID_PARAMETER_VALUE";
	default: return "BAD_REQUEST";
	}
}

/* ---- request details ---- */

/* Request ids and traffic splits need uniqueness and spread, not secrecy:
 * splitmix64 seeded once per process from getrandom() saves a system call
 * per request. */
static uint64_t rand64(void)
{
	static uint64_t state;
	static int seeded;
	if (!seeded) {
		if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
			state = (uint64_t)(now() * 1e9) ^ (uint64_t)getpid() << 32;
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
	int sane = n > 0 && n <= ID_MAX && strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
	if (sane) {
		memcpy(c->request_id, given, n + 1);
		return;
	}
	unsigned char r[16];
	for (int half = 0; half < 2; half++) {
		uint64_t z = rand64();
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
	if (n == 0 || n > CLIENT_ID_MAX ||
	    strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != n)
		return -1;
	memcpy(c->client_id, given, n + 1);
	return 0;
}

/* Split Content-Type into its media type; 0 ok, -1 charset not UTF-8, -2
 * another parameter. */
static int media_type(const char *ct, char *type, size_t len)
{
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	size_t skip = strspn(ct, " \t");
	if (n < skip)
		n = skip;
	n -= skip;
	if (n > len - 1)
		n = len - 1;
	memcpy(type, ct + skip, n);
	type[n] = '\0';
	for (char *p = type; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	const char *p = ct + strcspn(ct, ";");
	while (*p == ';') {
		p++;
		p += strspn(p, " \t");
		size_t k = strcspn(p, ";");
		if (k >= 8 && strncasecmp(p, "charset=", 8) == 0) {
			const char *v = p + 8;
			size_t vl = k - 8;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (!((vl == 5 && strncasecmp(v, "utf-8", 5) == 0) || (vl == 4 && strncasecmp(v, "utf8", 4) == 0)))
				return -1;
		} else if (k > 0) {
			return -2;
		}
		p += k;
	}
	return 0;
}

/* The request's end, on now()'s clock: request_timeout_ms after it began. */
static double deadline(const struct call *c)
{
	return c->t0 + (double)c->timeout_ms / 1000.0;
}

static int late(const struct call *c)
{
	return now() > deadline(c);
}

/*
 * Read the body into a->body (NUL-terminated); 0, or -1 with the answer
 * sent.  The request's deadline bounds the reading: the carrier stops
 * waiting for bytes at it (see io.c), and it is looked at between reads of
 * at most READ_CHUNK bytes, so a slow client gets its 408 on time and the
 * rest of its body is abandoned.
 */
#define READ_CHUNK ((size_t)1 << 20)

static int read_body(struct call *c)
{
	struct app *a = c->a;
	const char *cl = c->io->param(c->io, "CONTENT_LENGTH");
	size_t want = 0, got = 0;
	int known = cl && *cl;

	if (known) {
		if (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 15) {
			fail(c, 400, "BAD_REQUEST", "CONTENT_LENGTH '%.20s' is not a byte count", cl);
			return -1;
		}
		want = (size_t)strtoull(cl, NULL, 10);
		if (want > a->cfg.max_body) {
			fail(c, 413, "PAYLOAD_TOO_LARGE", "the body has %zu bytes; the limit is %zu", want, a->cfg.max_body);
			return -1;
		}
	} else if (!c->io->fastcgi) {
		want = 0;   /* CGI without CONTENT_LENGTH: no body */
	} else {
		want = a->cfg.max_body + 1;   /* read to the end of the stream */
	}
	size_t need = (known || !c->io->fastcgi ? want : 65536) + 1;
	c->io->deadline = deadline(c);
	for (;;) {
		if (need > a->body_cap) {
			size_t cap = a->body_cap ? a->body_cap : 65536;
			while (cap < need)
				cap *= 2;
			char *p = realloc(a->body, cap);
			if (!p) {
				fail(c, 500, "INTERNAL_ERROR", "out of memory for a %zu-byte body", need);
				return -1;
			}
			a->body = p;
			a->body_cap = cap;
		}
		size_t ask = a->body_cap - 1 - got < want - got ? a->body_cap - 1 - got : want - got;
		long r = got < want ? c->io->read(c->io, a->body + got, ask < READ_CHUNK ? ask : READ_CHUNK) : 0;
		if (r == IO_LATE || late(c)) {
			fail(c, 408, "DEADLINE_EXCEEDED", "reading the body took longer than request_timeout_ms (%u ms)",
			     c->timeout_ms);
			return -1;
		}
		if (r < 0) {
			fail(c, 400, "BAD_REQUEST", "the body could not be read");
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (!known && got > a->cfg.max_body) {
			fail(c, 413, "PAYLOAD_TOO_LARGE", "the body is larger than the limit of %zu bytes", a->cfg.max_body);
			return -1;
		}
		if (got + 1 >= a->body_cap)
			need = a->body_cap * 2;
	}
	if (known && got < want) {
		fail(c, 400, "BAD_REQUEST", "the body ended after %zu of the %zu bytes CONTENT_LENGTH announced", got, want);
		return -1;
	}
	a->body[got] = '\0';
	c->bytes_in = got;
	return 0;
}

/* ---- scoring routes ---- */

/* The forward pass over decoded rows, with the deadline and scratch cap
 * every scoring route shares; NULL with the answer sent. */
static float *run_model(struct call *c, const float *x, size_t rows)
{
	struct app *a = c->a;

	if (late(c)) {
		fail(c, 408, "DEADLINE_EXCEEDED", "decoding took longer than request_timeout_ms (%u ms)",
		     c->timeout_ms);
		return NULL;
	}
	float *y = fwd_run(&c->m->map.model, x, rows, &a->fwd);
	if (!y) {
		fail(c, 413, "PAYLOAD_TOO_LARGE", "%zu rows need more scratch memory than the limit", rows);
		return NULL;
	}
	c->rows = rows;
	return y;
}

/* Decode a->body for model m: JSON (MLflow's stricter rules when mlflow)
 * or CSV, giving up at the deadline.  Shared by the answered request and
 * its mirror copy. */
static int decode(struct app *a, struct app_model *m, size_t len, int csv, int mlflow, double until,
		  struct req_result *r, struct req_error *e)
{
	a->req.deadline = until;
	return csv ? req_decode_csv(&a->req, &m->schema, a->body, len, r, e) :
		     req_decode_json(&a->req, &m->schema, a->body, len, mlflow ? REQ_MLFLOW : 0, r, e);
}

static void decode_failed(struct call *c, const struct req_error *e)
{
	if (e->code == REQ_E_DEADLINE)
		fail(c, 408, "DEADLINE_EXCEEDED", "decoding took longer than request_timeout_ms (%u ms)",
		     c->timeout_ms);
	else
		fail(c, e->status, req_code(e), "%s", e->msg);
}

static void score(struct call *c)
{
	struct app *a = c->a;
	const struct blob_model *m = &c->m->map.model;
	const char *ct = c->io->param(c->io, "CONTENT_TYPE");
	char type[64];
	struct req_result r;
	struct req_error e;
	int csv = 0;

	if (ct && *ct) {
		int mt = media_type(ct, type, sizeof type);
		if (mt == -1) {
			fail(c, 415, "UNSUPPORTED_MEDIA_TYPE", "The scoring server only supports UTF-8");
			return;
		}
		if (mt == -2 || (strcmp(type, "application/json") != 0 && strcmp(type, "text/csv") != 0)) {
			fail(c, 415, "UNSUPPORTED_MEDIA_TYPE",
			     "This predictor only supports the following content types: Types: ['text/csv', "
			     "'application/json']. Got '%.60s'.", ct);
			return;
		}
		csv = strcmp(type, "text/csv") == 0;
	} else if (c->proto == P_MLFLOW) {
		fail(c, 415, "UNSUPPORTED_MEDIA_TYPE", "This predictor only supports the following content types: "
		     "Types: ['text/csv', 'application/json']. Got ''.");
		return;
	}
	if (read_body(c) < 0)
		return;
	if (decode(a, c->m, c->bytes_in, csv, c->proto == P_MLFLOW, deadline(c), &r, &e) < 0) {
		decode_failed(c, &e);
		return;
	}
	float *y = run_model(c, r.x, r.rows);
	if (!y)
		return;
	if (r.top_k > 0 && (size_t)r.top_k > m->output_width)
		r.top_k = (int)m->output_width;
	enc_reset(&a->out);
	enc_predictions(&a->out, c->proto == P_MLFLOW ? ENC_PREDICTIONS : ENC_BARE, m->postprocess, r.top_k,
			y, r.rows, m->output_width, m->labels);
	enum enc_status st = enc_status(&a->out);
	if (st == ENC_NONFINITE) {
		fail(c, 400, "INVALID_PARAMETER_VALUE", "row %zu: the model's output is not finite (are the inputs "
		     "within a sensible range?)", a->out.bad_row);
		return;
	}
	if (st != ENC_OK) {
		fail(c, 500, "INTERNAL_ERROR", "the response is larger than the response limit");
		return;
	}
	if (late(c)) {
		fail(c, 408, "DEADLINE_EXCEEDED", "scoring took longer than request_timeout_ms (%u ms)",
		     c->timeout_ms);
		return;
	}
	send(c, 200, "application/json");
	if (a->mirror.endpoint) {
		a->mirror.csv = csv;
		a->mirror.mlflow = c->proto == P_MLFLOW;
		a->mirror.route = c->route;
		a->mirror.len = c->bytes_in;
		memcpy(a->mirror.request_id, c->request_id, sizeof a->mirror.request_id);
	}
}

static void v2_infer(struct call *c)
{
	struct app *a = c->a;
	const struct blob_model *m = &c->m->map.model;
	struct v2_request r;
	struct req_error e;

	if (read_body(c) < 0)
		return;
	a->req.deadline = deadline(c);
	if (v2_decode(&a->req, &c->m->schema, a->body, c->bytes_in, &r, &e) < 0) {
		decode_failed(c, &e);
		return;
	}
	float *y = run_model(c, r.x, r.rows);
	if (!y)
		return;
	/* The deployment's post-processing applies here too; V2 has no
	 * label tensor, so a labels deployment sends its scores (or, with
	 * classification, "score:index:label" strings). */
	if (m->postprocess == BLOB_POST_PROBABILITIES)
		fwd_softmax_rows(y, r.rows, m->output_width);
	enc_reset(&a->out);
	v2_encode(&a->out, m->name, m->version, r.id, y, r.rows, m->output_width, r.classification, m->labels);
	if (enc_status(&a->out) != ENC_OK) {
		fail(c, enc_status(&a->out) == ENC_NONFINITE ? 400 : 500, "INTERNAL_ERROR",
		     "the model's output could not be encoded (not finite, or too large)");
		return;
	}
	send(c, 200, "application/json");
}

/* ---- other routes ---- */

static void version(struct call *c)
{
	struct enc_buf *b = &c->a->out;
	enc_reset(b);
	enc_cstr(b, "{\"name\": \"scorepoint\", \"version\": \"" SCOREPOINT_VERSION "\"");
	/* OpenBLAS's kernels: two processes on one machine print the same
	 * bytes only when they run the same ones (see OPENBLAS_CORETYPE). */
	enc_cstr(b, ", \"blas\": ");
	enc_string(b, fwd_blas_core());
	if (!c->m) {   /* a workspace: the endpoints say what they serve */
		enc_cstr(b, "}");
		return send(c, 200, "application/json");
	}
	const struct blob_model *m = &c->m->map.model;
	enc_cstr(b, ", \"model\": ");
	enc_string(b, m->name);
	enc_cstr(b, ", \"model_version\": ");
	enc_string(b, m->version);
	enc_cstr(b, ", \"model_digest\": ");
	enc_string(b, m->source_digest);
	enc_cstr(b, "}");
	send(c, 200, "application/json");
}

static void v2_server(struct call *c)
{
	ok_json(c, "{\"name\": \"scorepoint\", \"version\": \"" SCOREPOINT_VERSION "\", \"extensions\": []}");
}

static void v2_model_meta(struct call *c, int ready_only)
{
	const struct blob_model *m = &c->m->map.model;
	struct enc_buf *b = &c->a->out;
	char num[32];
	enc_reset(b);
	enc_cstr(b, "{\"name\": ");
	enc_string(b, m->name);
	if (ready_only) {
		enc_cstr(b, ", \"ready\": true}");
	} else {
		enc_cstr(b, ", \"versions\": [");
		enc_string(b, m->version);
		enc_cstr(b, "], \"platform\": \"scorepoint\", \"inputs\": [{\"name\": \"input-0\", \"datatype\": \"FP32\", "
			    "\"shape\": [-1, ");
		snprintf(num, sizeof num, "%u", m->input_width);
		enc_cstr(b, num);
		enc_cstr(b, "]}], \"outputs\": [{\"name\": \"output-0\", \"datatype\": \"FP32\", \"shape\": [-1, ");
		snprintf(num, sizeof num, "%u", m->output_width);
		enc_cstr(b, num);
		enc_cstr(b, "]}]}");
	}
	send(c, 200, "application/json");
}

/* The rendering of every series fits in 512 KiB (the worst case, all
 * series non-zero with long names, is about 400 KB). */
#define METRICS_TEXT_MAX ((size_t)512 << 10)

static void metrics_route(struct call *c)
{
	const struct blob_model *m = c->m ? &c->m->map.model : NULL;
	char *text = malloc(METRICS_TEXT_MAX);
	size_t n = text ? metrics_render(c->a->metrics, m ? m->name : NULL, m ? m->version : NULL,
					 m ? m->source_digest : NULL, text, METRICS_TEXT_MAX) : 0;
	if (!n) {
		free(text);
		fail(c, 500, "INTERNAL_ERROR", "the metrics could not be rendered");
		return;
	}
	enc_reset(&c->a->out);
	enc_raw(&c->a->out, text, n);
	free(text);
	send(c, 200, "text/plain; version=0.0.4");
}

/* Allow header and 405 for a known path used with the wrong method. */
static void not_allowed(struct call *c, const char *allow)
{
	c->allow = allow;
	fail(c, 405, "METHOD_NOT_ALLOWED", "%s does not take %s; use %s", c->path, c->method, allow);
}

/* ---- routing ---- */

static int is(const struct call *c, const char *m)
{
	return strcmp(c->method, m) == 0;
}

/* Route /v2/models/{name}[/versions/{v}][/ready|/infer]. */
static void v2_models(struct call *c, const char *rest)
{
	const char *name = c->m->map.model.name;
	size_t n = strlen(name);
	c->proto = P_V2;
	if (strncmp(rest, name, n) != 0 || (rest[n] != '\0' && rest[n] != '/')) {
		c->route = MR_OTHER;
		fail(c, 404, "ENDPOINT_NOT_FOUND", "model '%.*s' not found; this server has '%s'",
		     (int)strcspn(rest, "/"), rest, name);
		return;
	}
	rest += n;
	if (strncmp(rest, "/versions/", 10) == 0) {
		const char *v = rest + 10;
		size_t vl = strcspn(v, "/");
		if (strlen(c->m->map.model.version) != vl || strncmp(v, c->m->map.model.version, vl) != 0) {
			c->route = MR_OTHER;
			fail(c, 404, "ENDPOINT_NOT_FOUND", "version '%.*s' of model '%s' not found", (int)vl, v, name);
			return;
		}
		rest = v + vl;
	}
	if (*rest == '\0') {
		c->route = MR_VERSION;
		if (!is(c, "GET"))
			return not_allowed(c, "GET");
		return v2_model_meta(c, 0);
	}
	if (strcmp(rest, "/ready") == 0) {
		c->route = MR_HEALTH;
		if (!is(c, "GET"))
			return not_allowed(c, "GET");
		return v2_model_meta(c, 1);
	}
	if (strcmp(rest, "/infer") == 0) {
		c->route = MR_V2_INFER;
		if (!is(c, "POST"))
			return not_allowed(c, "POST");
		return v2_infer(c);
	}
	c->route = MR_OTHER;
	fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %s", c->path);
}

/* The server's own routes, the same with --model and --workspace: health,
 * version, metrics, and (with --model) the model's routes at the root.
 * Returns 0 when p is none of them. */
static int route_root(struct call *c, const char *p)
{
	static const struct { const char *path; enum metrics_route r; } gets[] = {
		{ "/", MR_ROOT }, { "/ping", MR_HEALTH }, { "/health", MR_HEALTH }, { "/version", MR_VERSION },
		{ "/swagger.json", MR_SWAGGER }, { "/metrics", MR_METRICS }, { "/v2", MR_VERSION },
		{ "/v2/health/live", MR_HEALTH }, { "/v2/health/ready", MR_HEALTH },
	};
	for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
		if (strcmp(p, gets[i].path) != 0)
			continue;
		if ((i == 4 && !c->m) || (i == 5 && c->a->cfg.metrics_off))
			return 0;
		c->route = gets[i].r;
		if (strncmp(p, "/v2", 3) == 0)
			c->proto = P_V2;
		if (!is(c, "GET") && !is(c, "HEAD")) {
			not_allowed(c, "GET");
			return 1;
		}
		switch (i) {
		case 0:
			enc_reset(&c->a->out);
			enc_cstr(&c->a->out, "Healthy");
			send(c, 200, "text/plain");
			break;
		case 1:
		case 2: ok_json(c, "{\"status\": \"Healthy\"}"); break;
		case 3: version(c); break;
		case 4:
			enc_reset(&c->a->out);
			swagger_render(&c->a->out, &c->m->map.model, c->base);
			send(c, 200, "application/json");
			break;
		case 5: metrics_route(c); break;
		case 6: v2_server(c); break;
		case 7: ok_json(c, "{\"live\": true}"); break;
		default: ok_json(c, "{\"ready\": true}"); break;
		}
		return 1;
	}
	return 0;
}

/* The model routes under a base path ("" with --model, "/NAME" in a
 * workspace), once c->m is chosen.  Returns 0 when rest is none of them. */
static int route_model(struct call *c, const char *rest)
{
	if (strcmp(rest, "/score") == 0) {
		c->route = MR_SCORE;
		is(c, "POST") ? score(c) : not_allowed(c, "POST");
		return 1;
	}
	if (strcmp(rest, "/invocations") == 0) {
		c->route = MR_INVOCATIONS;
		c->proto = P_MLFLOW;
		is(c, "POST") ? score(c) : not_allowed(c, "POST");
		return 1;
	}
	if (strncmp(rest, "/v2/models/", 11) == 0) {
		v2_models(c, rest + 11);
		return 1;
	}
	if (c->base[0] && strcmp(rest, "/swagger.json") == 0) {
		c->route = MR_SWAGGER;
		if (!is(c, "GET") && !is(c, "HEAD"))
			not_allowed(c, "GET");
		else {
			enc_reset(&c->a->out);
			swagger_render(&c->a->out, &c->m->map.model, c->base);
			send(c, 200, "application/json");
		}
		return 1;
	}
	return 0;
}

/*
 * Authorization: Bearer <key or token> for endpoint e.  Both keys are
 * compared, in constant time, whatever the first gives.  1 when allowed;
 * 0 with the 401 sent.
 */
static int authorized(struct call *c, const struct ws_endpoint *e)
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
		fail(c, 401, "UNAUTHORIZED", "%s", why);
	else
		fail(c, 401, "UNAUTHORIZED", "no credentials: send 'Authorization: Bearer <%s>' (scorepoint "
		     "online-endpoint get-credentials --name %s)", e->auth_mode == WS_AUTH_KEY ? "key" : "token",
		     e->name);
	return 0;
}

static void use_deployment(struct call *c, const struct ws_deployment *d)
{
	char label[METRICS_NAME_MAX];

	c->deployment = d->name;
	c->timeout_ms = d->request_timeout_ms;
	c->m = model_by_path(c->a->models, c->a->nmodels, d->blob);
	snprintf(label, sizeof label, "%s/%s", c->endpoint, d->name);
	c->slot = metrics_deployment(c->a->metrics, label);
}

/*
 * The deployment that answers: the one the azureml-model-deployment
 * header names (even at 0 %), else a weighted draw over the live traffic;
 * and, for a drawn one, maybe the mirror deployment too.  1, or 0 with
 * the 404 sent.
 */
static int choose(struct call *c, const struct ws_endpoint *e)
{
	const char *pin = c->io->param(c->io, "HTTP_AZUREML_MODEL_DEPLOYMENT");
	const struct ws_deployment *d;

	if (pin && *pin) {
		d = ws_deployment(e, pin, strlen(pin));
		if (!d) {
			fail(c, 404, "DEPLOYMENT_NOT_FOUND", "endpoint '%s' has no deployment '%.32s'", e->name,
			     name_valid(pin, strlen(pin)) ? pin : "(not a valid name)");
			return 0;
		}
	} else {
		int i = traffic_pick(&e->traffic, rand64());
		d = i < 0 ? NULL : ws_deployment(e, e->traffic.e[i].name, strlen(e->traffic.e[i].name));
		if (!d) {
			fail(c, 404, "DEPLOYMENT_NOT_FOUND", "No valid deployments to route to. Please check that "
			     "endpoint '%s' has at least one deployment with positive weight values or use a "
			     "deployment specific header to route.", e->name);
			return 0;
		}
		for (size_t k = 0; k < e->mirror.n; k++) {
			const struct ws_deployment *md = ws_deployment(e, e->mirror.e[k].name,
								       strlen(e->mirror.e[k].name));
			if (md && e->mirror.e[k].percent > 0 && rand64() % 100 < e->mirror.e[k].percent) {
				c->a->mirror.endpoint = e;
				c->a->mirror.deployment = md;
			}
		}
	}
	use_deployment(c, d);
	if (!c->m) {
		fail(c, 500, "INTERNAL_ERROR", "deployment '%s' has no model mapped", d->name);
		return 0;
	}
	return 1;
}

/* /NAME/score, /NAME/invocations, /NAME/swagger.json, /NAME/v2/... */
static void route_endpoint(struct call *c)
{
	const char *p = c->path + 1;
	size_t n = strcspn(p, "/");
	const struct ws_endpoint *e = ws_endpoint(&c->a->ws, p, n);
	const char *rest = p + n;

	if (!e) {
		c->route = MR_OTHER;
		fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s: no such endpoint", c->path);
		return;
	}
	c->endpoint = e->name;
	snprintf(c->base, sizeof c->base, "/%s", e->name);
	if (strcmp(rest, "/score") == 0 || strcmp(rest, "/invocations") == 0)
		c->route = strcmp(rest, "/score") == 0 ? MR_SCORE : MR_INVOCATIONS;
	else if (strncmp(rest, "/v2/", 4) == 0)
		c->proto = P_V2;
	if (!authorized(c, e) || !choose(c, e)) {
		c->a->mirror.endpoint = NULL;
		return;
	}
	if (!route_model(c, rest)) {
		c->route = MR_OTHER;
		fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s; the endpoint's routes are /%s/score, "
		     "/%s/invocations, /%s/swagger.json and /%s/v2/models/MODEL[/infer]", c->path, e->name, e->name,
		     e->name, e->name);
	}
	if (c->status != 200 || (c->route != MR_SCORE && c->route != MR_INVOCATIONS))
		c->a->mirror.endpoint = NULL;
}

static void route(struct call *c)
{
	const char *p = c->path;

	if (route_root(c, p))
		return;
	if (c->a->ws_dir) {
		if (strncmp(p, "/v2/", 4) != 0 && strcmp(p, "/score") != 0 && strcmp(p, "/invocations") != 0 &&
		    strcmp(p, "/swagger.json") != 0 && strcmp(p, "/metrics") != 0)
			return route_endpoint(c);
	} else if (route_model(c, p)) {
		return;
	}
	c->route = MR_OTHER;
	if (c->a->ws_dir && (strcmp(p, "/score") == 0 || strcmp(p, "/invocations") == 0 ||
			     strcmp(p, "/swagger.json") == 0))
		fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %s: this server serves a workspace; use "
		     "/ENDPOINT%s", p, p);
	else
		fail(c, 404, "ENDPOINT_NOT_FOUND", "no route %.200s", p);
}

/* ---- logging ---- */

static void log_request(const struct call *c, size_t bytes_out, uint64_t usec)
{
	static const char *const names[MR_COUNT] = { "root", "health", "version", "swagger", "score",
						     "invocations", "v2_infer", "metrics", "other" };
	char line[512], when[32];
	struct timespec ts;
	struct tm tm;

	if (c->a->log_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(line, sizeof line,
			 "{\"time\": \"%s.%03ldZ\", \"pid\": %ld, \"request_id\": \"%s\", \"endpoint\": \"%s\", "
			 "\"deployment\": \"%s\", \"route\": \"%s\", \"method\": \"%s\", \"status\": %d, \"rows\": %zu, "
			 "\"bytes_in\": %zu, \"bytes_out\": %zu, \"us\": %llu}\n",
			 when, ts.tv_nsec / 1000000, (long)getpid(), c->request_id, c->endpoint ? c->endpoint : "",
			 c->deployment ? c->deployment : "", names[c->route], c->method, c->status, c->rows,
			 c->bytes_in, bytes_out, (unsigned long long)usec);
	if (n > 0)
		(void)!write(c->a->log_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void app_handle(struct app *a, struct io *io)
{
	struct call c;

	memset(&c, 0, sizeof c);
	c.a = a;
	c.io = io;
	c.t0 = now();
	c.route = MR_OTHER;
	c.timeout_ms = a->cfg.request_timeout_ms;
	c.slot = a->deployment;
	a->mirror.endpoint = NULL;
	if (a->ws_dir) {
		refresh_workspace(a);
	} else {
		c.m = &a->single;
		c.endpoint = a->single.map.model.name;
		c.deployment = "default";
	}
	metrics_inflight(a->metrics, 1);
	c.method = io->param(io, "REQUEST_METHOD");
	c.path_full = io->param(io, "REQUEST_URI");
	if (!c.path_full || !*c.path_full)
		c.path_full = io->param(io, "SCRIPT_NAME");   /* CGI by hand may set only these */
	if (!c.method)
		c.method = "GET";
	request_id(&c);
	size_t plen = c.path_full ? strcspn(c.path_full, "?#") : 0;
	if (plen > sizeof c.path - 1)
		plen = sizeof c.path - 1;
	if (plen)
		memcpy(c.path, c.path_full, plen);
	c.path[plen] = '\0';
	if (!c.path[0])
		memcpy(c.path, "/", 2);
	if (strlen(c.method) > 16 || strspn(c.method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(c.method)) {
		c.method = "?";
		fail(&c, 400, "BAD_REQUEST", "malformed request method");
	} else if (client_id(&c) < 0) {
		fail(&c, 400, "BAD_REQUEST", "x-ms-client-request-id must be 1 to 40 letters, digits, '-' or '_'");
	} else {
		route(&c);
	}
	uint64_t usec = (uint64_t)((now() - c.t0) * 1e6);
	metrics_request(a->metrics, c.route, c.status, c.slot, c.rows, usec);
	metrics_inflight(a->metrics, -1);
	log_request(&c, a->out.len, usec);
}

/*
 * Mirror traffic: the body the client sent, scored again by the mirror
 * deployment after the answer is out, within the mirror deployment's own
 * request_timeout_ms; only its log line and counters show it (Azure
 * discards a mirror's response the same way).
 */
static void mirror(struct app *a)
{
	struct app_mirror *mi = &a->mirror;
	struct call c;
	struct req_result r;
	struct req_error e;

	memset(&c, 0, sizeof c);
	c.a = a;
	c.t0 = now();
	c.method = "POST";
	c.route = (enum metrics_route)mi->route;
	c.endpoint = mi->endpoint->name;
	c.bytes_in = mi->len;
	memcpy(c.request_id, mi->request_id, sizeof mi->request_id);
	use_deployment(&c, mi->deployment);
	mi->endpoint = NULL;
	if (!c.m)
		c.status = 500;
	else if (decode(a, c.m, mi->len, mi->csv, mi->mlflow, deadline(&c), &r, &e) < 0)
		c.status = e.status;
	else if (!fwd_run(&c.m->map.model, r.x, r.rows, &a->fwd))
		c.status = 413;
	else {
		c.status = 200;
		c.rows = r.rows;
	}
	uint64_t usec = (uint64_t)((now() - c.t0) * 1e6);
	metrics_request(a->metrics, c.route, c.status, c.slot, c.rows, usec);
	log_request(&c, 0, usec);
}

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
	if (a->mirror.endpoint)
		mirror(a);
	trim(a);
}
