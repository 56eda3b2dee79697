/*
 * app.h - score.fcgi's request handling: routes, errors, headers, logs and
 * metrics around model/.  One struct app per process; every buffer in it
 * is reused from request to request.
 */
#ifndef SCOREPOINT_APP_H
#define SCOREPOINT_APP_H

#include <stddef.h>
#include <stdint.h>

#include "handler/io.h"
#include "handler/metrics.h"
#include "model/blob.h"
#include "model/enc.h"
#include "model/fwd.h"
#include "model/req.h"
#include "workspace/ws.h"

#define SCOREPOINT_VERSION "0.1.0"
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
};

/* One mapped blob, shared by every deployment that serves it. */
struct app_model {
	char *path;
	struct blob_map map;
	struct req_schema schema;
	int taken;                    /* reload bookkeeping */
};

/* A scoring request's copy for the mirror deployment, run by app_after()
 * once the client has its answer. */
struct app_mirror {
	const struct ws_endpoint *endpoint;   /* NULL: nothing pending */
	const struct ws_deployment *deployment;
	int csv, mlflow, route;
	size_t len;
	char request_id[65];
};

struct app {
	struct app_config cfg;
	struct app_model single;      /* --model */
	char *ws_dir;                 /* --workspace (absolute), else NULL */
	struct ws ws;                 /* the snapshot being served */
	struct ws_stamp ws_refused;   /* a state file that failed to load */
	struct app_model *models;     /* the blobs ws names */
	size_t nmodels;
	struct app_mirror mirror;
	struct req_ctx req;
	struct fwd_scratch fwd;
	struct enc_buf head, out;
	char *body;
	size_t body_cap;
	struct metrics *metrics;
	int deployment;               /* metrics slot of --model's "default" */
	int log_fd;                   /* -1: none */
};

/* Map the model and set everything up before the first request.  0, or -1
 * with one line in err naming the file and the problem, and nothing held. */
int app_init(struct app *a, const struct app_config *cfg, char *err, size_t errlen);

/* Answer one request completely.  Never exits; every failure is a JSON
 * error response and the app is ready for the next request. */
void app_handle(struct app *a, struct io *io);

/* Work that must not delay the answer: mirror traffic, then giving back
 * the buffers a large request grew past APP_KEEP_BYTES.  Call after the
 * response of app_handle() has been sent. */
void app_after(struct app *a);

void app_free(struct app *a);

#endif
