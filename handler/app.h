/*
 * app.h - score.fcgi's request handling: routes, errors, headers, logs and
 * metrics around model/.  One struct app per process; every buffer in it
 * is reused from request to request.
 *
 * With --workspace, what the workspace holds (the snapshot served, its
 * blobs, a pending mirror copy) sits behind struct endpoints, which only
 * endpoint.c defines: this header, and every file of handler/ but that one,
 * compile without a workspace/ header.
 */
#ifndef SCOREPOINT_APP_H
#define SCOREPOINT_APP_H

#include <stddef.h>
#include <stdint.h>

#include "handler/io.h"
#include "metrics/metrics.h"
#include "model/blob.h"
#include "model/enc.h"
#include "model/fwd.h"
#include "model/req.h"
#include "model/version.h"

#define APP_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define APP_DEFAULT_TIMEOUT_MS 5000u
/* Buffers that together grew past this are given back after the request
 * (app_after). */
#define APP_KEEP_BYTES ((size_t)16 << 20)

struct app_config {
	const char *model_path;       /* one blob, served at the root; or */
	const char *workspace;        /* every endpoint of a workspace, at /NAME/ */
	size_t max_body;              /* bytes; 0: APP_DEFAULT_MAX_BODY */
	unsigned request_timeout_ms;  /* 0: APP_DEFAULT_TIMEOUT_MS (--model only;
					 a deployment has its own) */
	int threads;                  /* OpenBLAS threads; 0: 1 */
	const char *log_path;         /* NULL: stderr, or the workspace's
					 logs/requests.log; "-": no log */
	const char *metrics_path;     /* NULL: metrics_default_path(model or workspace) */
	int metrics_off;              /* 1: GET /metrics answers 404 */
	int collect_off;              /* 1: no deployment's data_collector writes
					 (scorepoint online-deployment replay) */
	int ui_off;                   /* 1: every /_ui path answers 404 */
	int ui_list;                  /* 1: GET /_ui/api/endpoints lists the names */
};

/* One mapped blob, shared by every deployment that serves it. */
struct app_model {
	char *path;
	struct blob_map map;
	struct req_schema schema;
	int taken;                    /* reload bookkeeping (endpoint.c) */
};

/* Map the blob at path, or from fd (taken over) when fd >= 0: a
 * workspace's blob, opened without following a link.  0, or -1 with err
 * and m cleared.  app_model_close() of a cleared m does nothing. */
int app_model_open(struct app_model *m, const char *path, int fd, char *err, size_t errlen);
void app_model_close(struct app_model *m);

struct endpoints;   /* endpoint.h */

struct app {
	struct app_config cfg;
	struct app_model single;      /* --model */
	struct endpoints *eps;        /* --workspace, else NULL */
	struct req_ctx req;
	struct fwd_scratch fwd;
	struct enc_buf head, out;
	char *body;                   /* the request body is at body + body_at */
	size_t body_cap, body_at;     /* body_at < 4: a V2 binary tensor 4-aligned */
	struct metrics *metrics;
	int deployment;               /* metrics slot of --model's "default" */
	int log_fd;                   /* -1: none */
	long pid;                     /* for the log line: getpid() is a system call */
};

/* Map the model and set everything up before the first request.  0, or -1
 * with one line in err naming the file and the problem, and nothing held. */
int app_init(struct app *a, const struct app_config *cfg, char *err, size_t errlen);

/*
 * When app_init() failed and a web server runs score.fcgi as plain CGI, it
 * still waits for this request's answer and would make up its own (a bare
 * 500, or 502) from an empty one: answer it with 500 and a JSON error,
 * {"error_code": "MODEL_NOT_LOADED" or "WORKSPACE_NOT_LOADED", "message":
 * "...: REASON"} ({"error": ...} under /v2/), REASON being err without the
 * paths it names (the client sees no file of the server's disk; the full
 * line goes to stderr, the web server's error log, as under FastCGI).
 */
void app_refuse(struct io *io, const struct app_config *cfg, const char *err);

/* Answer one request completely.  Never exits; every failure is a JSON
 * error response and the app is ready for the next request. */
void app_handle(struct app *a, struct io *io);

/* Work that must not delay the answer: the data collector's lines, mirror
 * traffic (and its shadow verdict), then giving back the buffers a large
 * request grew past APP_KEEP_BYTES.  Call after the response of
 * app_handle() has been sent. */
void app_after(struct app *a);

void app_free(struct app *a);

#endif
