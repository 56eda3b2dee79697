/*
 * lambda.c - the Runtime API loop (lambda.h): set up the app (or report
 * why not to .../runtime/init/error and exit 1), then for each event from
 * .../runtime/invocation/next: the trace id into _X_AMZN_TRACE_ID, the
 * event through app_handle() within its deadline, the answer to
 * .../invocation/ID/response (or .../error for a direct invocation that
 * failed).  One event at a time, as Lambda sends them to one process.
 */
#include "handler/lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/blob.h"

#define NEXT_PATH "/runtime/invocation/next"
#define DIRECT_PATH "/score"
/* Where the counters go when there is no /dev/shm (Lambda has none; /tmp
 * is its only writable folder). */
#define LAMBDA_METRICS_FILE "/tmp/scorepoint-metrics"

struct lambda {
	struct app app;
	struct lambda_http *http;
	struct lambda_req req;
	struct enc_buf answer;     /* what is posted */
	struct enc_buf made;       /* an answer the runtime makes up (CGI text) */
	const char *error_type;    /* set: the answer goes to .../error (error_text) */
	char error_text[128];
	char err[512];
};

int lambda_wanted(void)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	return api && *api;
}

static long long wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * What Lambda's sandbox changes: with neither --model nor --workspace,
 * LAMBDA_TASK_ROOT's model.blob, else its workspace/ folder (the root
 * defaults to /var/task); the task root is read-only, so a workspace logs
 * to stderr (CloudWatch) unless --log says otherwise, and without
 * /dev/shm the counters go to /tmp.
 */
static void sandbox_defaults(struct app_config *cfg, char *model, char *ws, size_t cap)
{
	const char *root = getenv("LAMBDA_TASK_ROOT");
	struct stat st;

	if (!root || !*root)
		root = "/var/task";
	if (!cfg->model_path && !cfg->workspace) {
		snprintf(model, cap, "%s/model.blob", root);
		snprintf(ws, cap, "%s/workspace", root);
		if (stat(model, &st) != 0 && stat(ws, &st) == 0 && S_ISDIR(st.st_mode))
			cfg->workspace = ws;
		else
			cfg->model_path = model;
	}
	if (cfg->workspace && !cfg->log_path)
		cfg->log_path = "/dev/stderr";
	if (!cfg->metrics_path && access("/dev/shm", W_OK) != 0)
		cfg->metrics_path = LAMBDA_METRICS_FILE;
}

/* ---- errors ---- */

/* The error_code (or "ERROR") and message of a JSON error body, into
 * code[CODE_MAX] and msg[MSG_MAX]. */
#define CODE_MAX 128
#define MSG_MAX 600

static void error_fields(const char *body, size_t n, char *code, char *msg)
{
	jsmntok_t t[16];
	jsmn_parser p;

	snprintf(code, CODE_MAX, "ERROR");
	snprintf(msg, MSG_MAX, "the request failed");
	jsmn_init(&p);
	if (jsmn_parse(&p, body, n, t, 16) < 1 || t[0].type != JSMN_OBJECT)
		return;
	int c = json_get(body, t, 0, "error_code"), m = json_get(body, t, 0, "message");
	if (m < 0)
		m = json_get(body, t, 0, "error");   /* the V2 routes' shape */
	if (c >= 0 && json_string(body, t, c, code, CODE_MAX) < 0)
		snprintf(code, CODE_MAX, "ERROR");
	if (m >= 0 && json_string(body, t, m, msg, MSG_MAX) < 0)
		snprintf(msg, MSG_MAX, "the request failed");
}

/* The Runtime API's error body, {"errorMessage", "errorType",
 * "stackTrace": []}, into l->answer; the type goes into the
 * Lambda-Runtime-Function-Error-Type header too. */
static void error_answer(struct lambda *l, const char *type, const char *msg)
{
	snprintf(l->error_text, sizeof l->error_text, "%s", type);
	enc_reset(&l->answer);
	enc_cstr(&l->answer, "{\"errorMessage\": ");
	enc_string(&l->answer, msg);
	enc_cstr(&l->answer, ", \"errorType\": ");
	enc_string(&l->answer, l->error_text);
	enc_cstr(&l->answer, ", \"stackTrace\": []}");
	l->error_type = l->error_text;
}

/* A CGI answer the handler did not make (a 400 for an event that is no
 * request, a 408 past the deadline) in the handler's JSON error shape:
 * {"error"} under /v2/, else {"error_code", "message"}; into l->made, NUL
 * after it. */
static void made_up(struct lambda *l, int status, const char *code, const char *msg)
{
	static const struct { int status; const char *line; } lines[] = {
		{ 400, "400 Bad Request" }, { 408, "408 Request Timeout" }, { 413, "413 Payload Too Large" },
	};
	const char *path = l->req.path ? l->req.path : "";
	const char *line = "500 Internal Server Error";
	struct enc_buf body;

	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		if (lines[i].status == status)
			line = lines[i].line;
	enc_init(&body, 0);
	if (strncmp(path, "/v2/", 4) == 0 || strstr(path, "/v2/")) {
		enc_cstr(&body, "{\"error\": ");
	} else {
		enc_cstr(&body, "{\"error_code\": ");
		enc_string(&body, code);
		enc_cstr(&body, ", \"message\": ");
	}
	enc_string(&body, msg);
	enc_cstr(&body, "}");
	enc_reset(&l->made);
	enc_cstr(&l->made, "Status: ");
	enc_cstr(&l->made, line);
	enc_cstr(&l->made, "\r\nContent-Type: application/json\r\nContent-Length: ");
	enc_uint(&l->made, body.len);
	enc_cstr(&l->made, "\r\n\r\n");
	enc_raw(&l->made, body.p, body.len);
	enc_raw(&l->made, "", 1);
	l->made.len--;
	enc_free(&body);
}

/* ---- one invocation ---- */

/* The handler's (or a made-up) CGI answer out[0, n) as what is posted:
 * an HTTP event's {"statusCode", ...}; a direct invocation's bare body,
 * or its error. */
static void answer(struct lambda *l, const char *out, size_t n)
{
	int status;
	const char *body;
	size_t bn;
	char code[CODE_MAX], msg[MSG_MAX];

	enc_reset(&l->answer);
	l->error_type = NULL;
	if (l->req.kind != LAMBDA_DIRECT) {
		if (lambda_http_answer(&l->answer, out, n, l->req.kind, l->req.multi) < 0)
			error_answer(l, "INTERNAL_ERROR", "the handler gave no answer");
	} else if (lambda_cgi_split(out, n, &status, &body, &bn) < 0) {
		error_answer(l, "INTERNAL_ERROR", "the handler gave no answer");
	} else if (status == 200) {
		enc_raw(&l->answer, body, bn);
	} else {
		error_fields(body, bn, code, msg);
		error_answer(l, code, msg);
	}
}

/* The event through the handler, its deadline the handler's own when
 * that is sooner than request_timeout_ms; an answer that comes after the
 * deadline is replaced by a 408 (the whole answer is still posted: Lambda
 * ends the invocation at its deadline, never this process mid-write). */
static void run(struct lambda *l, long long deadline_ms)
{
	struct io io;
	struct io_mem m = { l->req.params, l->req.body, l->req.body_len, 0, NULL, 0, 0 };
	unsigned timeout = l->app.cfg.request_timeout_ms;
	long long left = deadline_ms ? deadline_ms - wall_ms() : 0;

	if (deadline_ms && left < (long long)timeout)
		l->app.cfg.request_timeout_ms = left > 1 ? (unsigned)left : 1;
	io_memory(&io, &m);
	app_handle(&l->app, &io);
	l->app.cfg.request_timeout_ms = timeout;
	if (deadline_ms && wall_ms() >= deadline_ms) {
		made_up(l, 408, "DEADLINE_EXCEEDED", "the invocation's deadline (Lambda-Runtime-Deadline-Ms) passed "
			"before it was answered");
		answer(l, l->made.p, l->made.len);
	} else {
		answer(l, m.out ? m.out : "", m.out_len);
	}
	free(m.out);
}

static void invoke(struct lambda *l, const struct lambda_reply *ev)
{
	if (ev->too_large) {
		l->req.kind = LAMBDA_DIRECT;
		snprintf(l->err, sizeof l->err, "the event is larger than %zu bytes (twice --max-body, and 1 MiB)",
			 2 * l->app.cfg.max_body + LAMBDA_EVENT_OVERHEAD);
		error_answer(l, "PAYLOAD_TOO_LARGE", l->err);
		return;
	}
	if (lambda_event(&l->req, ev->body, ev->body_len, DIRECT_PATH, l->err, sizeof l->err) < 0) {
		made_up(l, 400, "BAD_REQUEST", l->err);
		answer(l, l->made.p, l->made.len);
	} else if (ev->deadline_ms && wall_ms() >= ev->deadline_ms) {
		made_up(l, 408, "DEADLINE_EXCEEDED", "the invocation's deadline (Lambda-Runtime-Deadline-Ms) had passed "
			"when it came");
		answer(l, l->made.p, l->made.len);
	} else {
		run(l, ev->deadline_ms);
	}
}

/* Post l->answer for request id; 0, or -1 when the runtime must end (the
 * Runtime API gone, or its 500: "a non-recoverable state", the spec says). */
static int post(struct lambda *l, const char *id)
{
	char path[256];
	struct lambda_reply rep;

	for (int tries = 0; tries < 2; tries++) {
		snprintf(path, sizeof path, "/runtime/invocation/%s/%s", id, l->error_type ? "error" : "response");
		if (lambda_http_call(l->http, path, l->answer.p ? l->answer.p : "", l->answer.len, l->error_type, &rep,
				     l->err, sizeof l->err) < 0) {
			fprintf(stderr, "score.fcgi: %s\n", l->err);
			return -1;
		}
		if (rep.status == 202 || rep.status == 200)
			return 0;
		if (rep.status >= 500) {
			fprintf(stderr, "score.fcgi: the Runtime API answered %d to %s\n", rep.status, path);
			return -1;
		}
		fprintf(stderr, "score.fcgi: the Runtime API answered %d to %s\n", rep.status, path);
		if (rep.status != 413 || l->error_type)
			return 0;
		error_answer(l, "RESPONSE_TOO_LARGE", "the answer is larger than Lambda accepts");
	}
	return 0;
}

/* Event after event until the Runtime API fails. */
static int loop(struct lambda *l)
{
	struct lambda_reply ev;
	char id[sizeof ev.request_id];

	for (;;) {
		if (lambda_http_call(l->http, NEXT_PATH, NULL, 0, NULL, &ev, l->err, sizeof l->err) < 0) {
			fprintf(stderr, "score.fcgi: %s\n", l->err);
			return 1;
		}
		if (ev.status != 200 || !ev.request_id[0] || strspn(ev.request_id, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(ev.request_id)) {
			fprintf(stderr, "score.fcgi: the Runtime API answered %d to %s, request id '%.64s'\n", ev.status,
				NEXT_PATH, ev.request_id);
			return 1;
		}
		memcpy(id, ev.request_id, sizeof id);
		if (ev.trace_id[0])
			setenv("_X_AMZN_TRACE_ID", ev.trace_id, 1);
		else
			unsetenv("_X_AMZN_TRACE_ID");
		invoke(l, &ev);
		if (post(l, id) < 0)
			return 1;
		app_after(&l->app);
	}
}

/* app_init() failed: tell Lambda (the message without the server's paths,
 * as app_refuse gives a CGI client; the whole line went to stderr), then
 * exit. */
static int init_error(struct lambda *l, const struct app_config *cfg, const char *why)
{
	static const char *const params[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", NULL };
	struct io io;
	struct io_mem m = { params, "", 0, 0, NULL, 0, 0 };
	struct lambda_reply rep;
	char code[CODE_MAX], msg[MSG_MAX];
	int status;
	const char *body = "";
	size_t bn = 0;

	io_memory(&io, &m);
	app_refuse(&io, cfg, why);
	if (m.out)
		lambda_cgi_split(m.out, m.out_len, &status, &body, &bn);
	error_fields(body, bn, code, msg);
	error_answer(l, code, msg);
	free(m.out);
	if (lambda_http_call(l->http, "/runtime/init/error", l->answer.p, l->answer.len, l->error_type, &rep, l->err,
			     sizeof l->err) < 0)
		fprintf(stderr, "score.fcgi: %s\n", l->err);
	return 1;
}

int lambda_main(struct app_config *cfg)
{
	static struct lambda l;   /* large; one per process */
	char err[4096 + 256], model[4096], ws[4096];
	size_t max_body = cfg->max_body ? cfg->max_body : APP_DEFAULT_MAX_BODY;
	int rc;

	sandbox_defaults(cfg, model, ws, sizeof model);
	enc_init(&l.answer, 0);
	enc_init(&l.made, 0);
	lambda_req_init(&l.req);
	l.http = lambda_http_open(getenv("AWS_LAMBDA_RUNTIME_API"), 2 * max_body + LAMBDA_EVENT_OVERHEAD, err,
				  sizeof err);
	if (!l.http) {
		fprintf(stderr, "score.fcgi: %s\n", err);
		return 1;
	}
	if (blob_guard_init(err, sizeof err) < 0 || app_init(&l.app, cfg, err, sizeof err) < 0) {
		fprintf(stderr, "score.fcgi: %s\n", err);
		rc = init_error(&l, cfg, err);
	} else {
		rc = loop(&l);
		app_free(&l.app);
	}
	lambda_req_free(&l.req);
	enc_free(&l.answer);
	enc_free(&l.made);
	lambda_http_close(l.http);
	return rc;
}
