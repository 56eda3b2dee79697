/*
 * call.h - one request while it is answered, and what the files of
 * handler/ share to answer it.  Internal to handler/ (score.c and the tests
 * see app.h):
 *
 *   app.c       the request's frame (ids, path, method), responses and
 *               errors, the log line and the counters
 *   route.c     the route tables and the small routes
 *   scoring.c   the body and the scoring routes
 *   endpoint.c  --workspace: endpoints, credentials, the deployment choice
 *   ui.c        --workspace: /_ui, the Studio page's files and its routes
 *   endpoint_view.c  the Studio's data: an endpoint as JSON, its counters
 *               and its log lines (ui.h)
 *   collect.c   --workspace: the data collector's lines (collect.h)
 *
 * Error bodies follow the caller's protocol: {"error_code", "message"} for
 * the Azure ML and MLflow routes (a superset of Azure's {"message"}), and
 * {"error"} for KServe V2.  Messages say what and where, never echo the body.
 */
#ifndef SCOREPOINT_CALL_H
#define SCOREPOINT_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "handler/app.h"

#define CALL_ID_MAX 64
#define CALL_CLIENT_ID_MAX 40
/* _X_AMZN_TRACE_ID (Lambda) echoed into the log line: at most this long. */
#define CALL_TRACE_MAX 256

enum proto { P_AZURE, P_MLFLOW, P_V2 };   /* which error body a failure gets */

/* What one request is, as it goes.  Pointers borrowed from the carrier or
 * the workspace snapshot live until the request ends. */
struct call {
	struct app *a;
	struct io *io;
	const char *method, *path_full;
	char path[512];
	size_t path_len;
	unsigned method_bit;     /* route.c's M_* of method; 0: another */
	enum metrics_route route;
	enum proto proto;
	int status;
	size_t rows, bytes_in;
	int csv;                 /* the body scored: 0 JSON, 1 CSV, 2 raw float32 (octet-stream) */
	char request_id[CALL_ID_MAX + 1];
	char client_id[CALL_CLIENT_ID_MAX + 1];
	const char *allow;       /* Allow header of a 405 */
	const char *www_auth;    /* WWW-Authenticate header of a 401 */
	/* More header lines, each "Name: value\r\n", sent as they are after
	 * the others (NULL: none); the route that sets them keeps them alive. */
	const char *headers;
	unsigned char bodyless;  /* send the headers (Content-Length too) only: HEAD */
	double t0;
	/* What the request is scored with: --model's blob, or the deployment
	 * that traffic (or the azureml-model-deployment header) chose. */
	struct app_model *m;
	const char *endpoint, *deployment;   /* for logs and headers */
	char base[40];                       /* "/NAME" of a workspace endpoint */
	unsigned timeout_ms;
	int slot;                            /* metrics slot; -1: none */
};

/*
 * A route: a row of one of route.c's tables, each of which ends in the
 * rows that answer 404, so a lookup always finds one.  The row found sets
 * the request's metrics route and protocol, answers 405 to a method it
 * does not list, and hands the rest of the path (after `path`) to fn.
 */
typedef void route_fn(struct call *c, const char *rest);

#define M_GET 1u
#define M_HEAD 2u
#define M_POST 4u

#define W_MODEL 1u       /* score.fcgi --model */
#define W_WORKSPACE 2u   /* score.fcgi --workspace */
#define W_METRICS 4u     /* GET /metrics answers (not --metrics off) */
#define W_ROOT 8u        /* at the root, not under /NAME */
#define W_ENDPOINT 16u   /* under /NAME of a workspace endpoint */
#define W_UI 32u         /* the Studio page (not score.fcgi --ui off) */

struct route {
	const char *path;        /* the whole path, or its beginning (prefix) */
	unsigned char len;       /* strlen(path) */
	unsigned char prefix;    /* 1: path begins the request's path */
	unsigned char methods;   /* M_*; 0: any (fn decides) */
	unsigned char when;      /* W_*: every one must hold for the row to count */
	unsigned char early;     /* under /NAME: counted as mr even when refused a 401 */
	enum metrics_route mr;
	enum proto proto;
	route_fn *fn;
};

/* ---- app.c ---- */

double call_now(void);   /* CLOCK_MONOTONIC seconds */

/* Request ids and traffic draws: spread, not secrecy (splitmix64). */
uint64_t call_rand64(void);

/* Send the status line, the common headers and a->out as the body (a 304
 * has no body, hence neither Content-Type nor Content-Length). */
void call_send(struct call *c, int status, const char *type);

/* A JSON error in c's protocol: code is Azure's error_code (V2 has none). */
void call_fail(struct call *c, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

void call_ok_json(struct call *c, const char *body);

/* 405 with an Allow header: a known path used with the wrong method. */
void call_not_allowed(struct call *c, const char *allow);

/* Count and log a finished call (the answered one or a mirror copy). */
void call_done(const struct call *c, size_t bytes_out);

/* ---- route.c ---- */

/* Route c->path and answer it. */
void route_request(struct call *c);

/* The row of the model routes (/score, /invocations, /v2/models/...,
 * /swagger.json, else a 404) that rest names under c->base. */
const struct route *route_model(const struct call *c, const char *rest);

/* The first row of table that holds in c's context and matches rest (a
 * tail of c->path); every table ends in a catch-all. */
const struct route *route_find(const struct call *c, const struct route *table, const char *rest);

/* Answer c with row r, rest being the path from where r's path begins. */
void route_run(struct call *c, const struct route *r, const char *rest);

/* ---- scoring.c ---- */

route_fn scoring_score;      /* POST /score, /invocations */
route_fn scoring_v2_infer;   /* POST /v2/models/NAME/infer */

/* Score a->body again for c, a mirror copy (c->m, c->csv, c->proto,
 * c->bytes_in and its deadline set): nothing is sent, c->status and
 * c->rows say how it went. */
void scoring_replay(struct call *c);

#endif
