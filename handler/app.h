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

#define SCOREPOINT_VERSION "0.1.0"
#define APP_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define APP_DEFAULT_TIMEOUT_MS 5000u

struct app_config {
	const char *model_path;       /* the blob to serve */
	size_t max_body;              /* bytes; 0: APP_DEFAULT_MAX_BODY */
	unsigned request_timeout_ms;  /* 0: APP_DEFAULT_TIMEOUT_MS */
	int threads;                  /* OpenBLAS threads; 0: 1 */
	const char *log_path;         /* NULL: stderr; "-": no log */
	const char *metrics_path;     /* NULL: metrics_default_path(model) */
};

struct app {
	struct app_config cfg;
	struct blob_map model;
	struct req_schema schema;
	struct req_ctx req;
	struct fwd_scratch fwd;
	struct enc_buf head, out;
	char *body;
	size_t body_cap;
	struct metrics *metrics;
	int deployment;               /* metrics slot of the served deployment */
	int log_fd;                   /* -1: none */
};

/* Map the model and set everything up before the first request.  0, or -1
 * with one line in err naming the file and the problem. */
int app_init(struct app *a, const struct app_config *cfg, char *err, size_t errlen);

/* Answer one request completely.  Never exits; every failure is a JSON
 * error response and the app is ready for the next request. */
void app_handle(struct app *a, struct io *io);

void app_free(struct app *a);

#endif
