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
#include "model/v2.h"

#include <errno.h>
#include <fcntl.h>
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
	double t0;
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

int app_init(struct app *a, const struct app_config *cfg, char *err, size_t errlen)
{
	char merr[256], mpath[512];

	memset(a, 0, sizeof *a);
	a->cfg = *cfg;
	if (!a->cfg.max_body)
		a->cfg.max_body = APP_DEFAULT_MAX_BODY;
	if (!a->cfg.request_timeout_ms)
		a->cfg.request_timeout_ms = APP_DEFAULT_TIMEOUT_MS;
	a->log_fd = -1;
	if (!cfg->model_path) {
		snprintf(err, errlen, "no model: give --model FILE.blob or SCOREPOINT_MODEL");
		return -1;
	}
	if (fwd_init(err, errlen) < 0)
		return -1;
	if (blob_map_file(cfg->model_path, &a->model, err, errlen) < 0)
		return -1;
	if (req_schema_init(&a->schema, &a->model.model) < 0) {
		snprintf(err, errlen, "out of memory for the column index");
		return -1;
	}
	struct req_limits lim = { a->cfg.max_body, REQ_DEFAULT_MAX_TOKENS, REQ_DEFAULT_MAX_ROWS,
				  REQ_DEFAULT_MAX_VALUES };
	req_ctx_init(&a->req, &lim);
	enc_init(&a->head, 64 << 10);
	enc_init(&a->out, 0);
	fwd_set_threads(cfg->threads > 0 ? cfg->threads : 1);
	if (!cfg->log_path) {
		a->log_fd = STDERR_FILENO;
	} else if (strcmp(cfg->log_path, "-") != 0) {
		a->log_fd = open(cfg->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (a->log_fd < 0) {
			snprintf(err, errlen, "%s: %s", cfg->log_path, strerror(errno));
			return -1;
		}
	}
	if (cfg->metrics_path) {
		snprintf(mpath, sizeof mpath, "%s", cfg->metrics_path);
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
	a->deployment = metrics_deployment(a->metrics, "default");
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
	req_schema_free(&a->schema);
	blob_unmap(&a->model);
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
	char line[64];

	c->status = status;
	enc_reset(&a->head);
	snprintf(line, sizeof line, "%d %s", status, reason(status));
	header(c, "Status", line);
	header(c, "Content-Type", type);
	snprintf(line, sizeof line, "%zu", a->out.len);
	header(c, "Content-Length", line);
	header(c, "x-request-id", c->request_id);
	if (c->client_id[0])
		header(c, "x-ms-client-request-id", c->client_id);
	if (c->allow)
		header(c, "Allow", c->allow);
	if (c->route == MR_SCORE || c->route == MR_INVOCATIONS || c->route == MR_V2_INFER)
		header(c, "azureml-model-deployment", "default");
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
	case REQ_E_TYPE:
	case REQ_E_COLUMNS: return "INVALID_PARAMETER_VALUE";
	default: return "BAD_REQUEST";
	}
}

/* ---- request details ---- */

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
	/* Request ids need uniqueness, not secrecy: splitmix64 seeded once per
	 * process from getrandom() saves a system call per request. */
	static uint64_t state;
	static int seeded;
	if (!seeded) {
		if (getrandom(&state, sizeof state, 0) != (ssize_t)sizeof state)
			state = (uint64_t)(now() * 1e9) ^ (uint64_t)getpid() << 32;
		seeded = 1;
	}
	unsigned char r[16];
	for (int half = 0; half < 2; half++) {
		uint64_t z = (state += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		z ^= z >> 31;
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
	snprintf(type, len, "%.*s", (int)(n - skip), ct + skip);
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

/* Read the body into a->body (NUL-terminated); 0, or -1 with the answer sent. */
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
		long r = got < want ? c->io->read(c->io, a->body + got, a->body_cap - 1 - got < want - got ?
						  a->body_cap - 1 - got : want - got) : 0;
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

static int late(const struct call *c)
{
	return (now() - c->t0) * 1000.0 > (double)c->a->cfg.request_timeout_ms;
}

/* ---- scoring routes ---- */

/* The forward pass over decoded rows, with the deadline and scratch cap
 * every scoring route shares; NULL with the answer sent. */
static float *run_model(struct call *c, const float *x, size_t rows)
{
	struct app *a = c->a;

	if (late(c)) {
		fail(c, 408, "DEADLINE_EXCEEDED", "decoding took longer than request_timeout_ms (%u ms)",
		     a->cfg.request_timeout_ms);
		return NULL;
	}
	float *y = fwd_run(&a->model.model, x, rows, &a->fwd);
	if (!y) {
		fail(c, 413, "PAYLOAD_TOO_LARGE", "%zu rows need more scratch memory than the limit", rows);
		return NULL;
	}
	c->rows = rows;
	return y;
}

static void score(struct call *c)
{
	struct app *a = c->a;
	const struct blob_model *m = &a->model.model;
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
	int rc = csv ? req_decode_csv(&a->req, &a->schema, a->body, c->bytes_in, &r, &e) :
		 req_decode_json(&a->req, &a->schema, a->body, c->bytes_in,
				 c->proto == P_MLFLOW ? REQ_MLFLOW : 0, &r, &e);
	if (rc < 0) {
		fail(c, e.status, req_code(&e), "%s", e.msg);
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
		     a->cfg.request_timeout_ms);
		return;
	}
	send(c, 200, "application/json");
}

static void v2_infer(struct call *c)
{
	struct app *a = c->a;
	const struct blob_model *m = &a->model.model;
	struct v2_request r;
	struct req_error e;

	if (read_body(c) < 0)
		return;
	if (v2_decode(&a->req, &a->schema, a->body, c->bytes_in, &r, &e) < 0) {
		fail(c, e.status, req_code(&e), "%s", e.msg);
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
	const struct blob_model *m = &c->a->model.model;
	struct enc_buf *b = &c->a->out;
	enc_reset(b);
	enc_cstr(b, "{\"name\": \"scorepoint\", \"version\": \"" SCOREPOINT_VERSION "\", \"model\": ");
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
	const struct blob_model *m = &c->a->model.model;
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
	const struct blob_model *m = &c->a->model.model;
	char *text = malloc(METRICS_TEXT_MAX);
	size_t n = text ? metrics_render(c->a->metrics, m->name, m->version, m->source_digest, text,
					 METRICS_TEXT_MAX) : 0;
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
	const char *name = c->a->model.model.name;
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
		if (strlen(c->a->model.model.version) != vl || strncmp(v, c->a->model.model.version, vl) != 0) {
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

static void route(struct call *c)
{
	const char *p = c->path;

	if (strcmp(p, "/score") == 0) {
		c->route = MR_SCORE;
		return is(c, "POST") ? score(c) : not_allowed(c, "POST");
	}
	if (strcmp(p, "/invocations") == 0) {
		c->route = MR_INVOCATIONS;
		c->proto = P_MLFLOW;
		return is(c, "POST") ? score(c) : not_allowed(c, "POST");
	}
	if (strncmp(p, "/v2/models/", 11) == 0)
		return v2_models(c, p + 11);
	static const struct { const char *path; enum metrics_route r; } gets[] = {
		{ "/", MR_ROOT }, { "/ping", MR_HEALTH }, { "/health", MR_HEALTH }, { "/version", MR_VERSION },
		{ "/swagger.json", MR_SWAGGER }, { "/metrics", MR_METRICS }, { "/v2", MR_VERSION },
		{ "/v2/health/live", MR_HEALTH }, { "/v2/health/ready", MR_HEALTH },
	};
	for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++) {
		if (strcmp(p, gets[i].path) != 0)
			continue;
		c->route = gets[i].r;
		if (strncmp(p, "/v2", 3) == 0)
			c->proto = P_V2;
		if (!is(c, "GET") && !is(c, "HEAD"))
			return not_allowed(c, "GET");
		switch (i) {
		case 0:
			enc_reset(&c->a->out);
			enc_cstr(&c->a->out, "Healthy");
			return send(c, 200, "text/plain");
		case 1:
		case 2: return ok_json(c, "{\"status\": \"Healthy\"}");
		case 3: return version(c);
		case 4:
			enc_reset(&c->a->out);
			swagger_render(&c->a->out, &c->a->model.model, "");
			return send(c, 200, "application/json");
		case 5: return metrics_route(c);
		case 6: return v2_server(c);
		case 7: return ok_json(c, "{\"live\": true}");
		default: return ok_json(c, "{\"ready\": true}");
		}
	}
	c->route = MR_OTHER;
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
			 "{\"time\": \"%s.%03ldZ\", \"pid\": %ld, \"request_id\": \"%s\", \"endpoint\": \"%s\", \"deployment\": \"default\", "
			 "\"route\": \"%s\", \"method\": \"%s\", \"status\": %d, \"rows\": %zu, \"bytes_in\": %zu, "
			 "\"bytes_out\": %zu, \"us\": %llu}\n",
			 when, ts.tv_nsec / 1000000, (long)getpid(), c->request_id, c->a->model.model.name, names[c->route],
			 c->method, c->status, c->rows, c->bytes_in, bytes_out, (unsigned long long)usec);
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
	metrics_inflight(a->metrics, 1);
	c.method = io->param(io, "REQUEST_METHOD");
	c.path_full = io->param(io, "REQUEST_URI");
	if (!c.path_full || !*c.path_full)
		c.path_full = io->param(io, "SCRIPT_NAME");   /* CGI by hand may set only these */
	if (!c.method)
		c.method = "GET";
	request_id(&c);
	size_t plen = c.path_full ? strcspn(c.path_full, "?#") : 0;
	snprintf(c.path, sizeof c.path, "%.*s", (int)(plen < sizeof c.path ? plen : sizeof c.path - 1),
		 c.path_full ? c.path_full : "/");
	if (!c.path[0])
		snprintf(c.path, sizeof c.path, "/");
	if (strlen(c.method) > 16 || strspn(c.method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(c.method)) {
		c.method = "?";
		fail(&c, 400, "BAD_REQUEST", "malformed request method");
	} else if (client_id(&c) < 0) {
		fail(&c, 400, "BAD_REQUEST", "x-ms-client-request-id must be 1 to 40 letters, digits, '-' or '_'");
	} else {
		route(&c);
	}
	uint64_t usec = (uint64_t)((now() - c.t0) * 1e6);
	metrics_request(a->metrics, c.route, c.status, a->deployment, c.rows, usec);
	metrics_inflight(a->metrics, -1);
	log_request(&c, a->out.len, usec);
}
