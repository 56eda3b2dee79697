/*
 * collect.h - score.fcgi --workspace: Azure ML's data collector
 * (docs/collect.md).  A deployment whose data_collector enables
 * model_inputs and/or model_outputs gets, for each sampled scoring request
 * answered 200 on /score or /invocations, one JSON line per collection in
 * DIR/data/modelDataCollector/... (workspace/mdc.h's layout), written by
 * app_after() once the client has its answer.
 *
 * Each line is one write(2) to a file opened O_APPEND, under flock() of
 * that file, so the workers of a server never interleave or cut one
 * another's lines: a write that comes up short (a full disk, a file-size
 * limit) is undone with ftruncate() to where the file ended.  A line that
 * cannot be written is lost, never the answer: it is counted
 * (metrics_collect) and reported on stderr at most once a minute per
 * worker.  With endpoint_view.c and endpoint.c, a file of handler/ that
 * includes workspace/ headers.  Internal to handler/.
 */
#ifndef SCOREPOINT_COLLECT_H
#define SCOREPOINT_COLLECT_H

#include <stddef.h>
#include <time.h>

#include "metrics/metrics.h"

#define COLLECT_DEFAULT_MAX_FILE_BYTES (256ull << 20)   /* one collection's file of one period */
#define COLLECT_DEFAULT_MAX_BYTES (1ull << 30)          /* everything under DIR/data/modelDataCollector */
#define COLLECT_MAX_LINE ((size_t)256 << 20)            /* one line, whatever the file limit */

/* score.fcgi's --collect-max-file-bytes and --collect-max-bytes, for every
 * collector of the process (0: the default).  Call before the first
 * request. */
void collect_set_limits(unsigned long long max_file_bytes, unsigned long long max_bytes);

struct ws;

/* One answered request, as the collector needs it; every pointer borrowed
 * for the call. */
struct collect_item {
	const struct ws *w;                    /* the snapshot that answered */
	const char *endpoint, *deployment;
	int inputs, outputs;                   /* the collections to write */
	int rolling;                           /* enum ws_rolling */
	const char *route;                     /* "score" or "invocations" */
	const char *request_id;                /* x-request-id: the correlationid */
	struct timespec when;                  /* CLOCK_REALTIME of the answer */
	const float *x;                        /* the rows as decoded: [rows][width] */
	size_t rows, width;
	int top_k;                             /* params.top_k as the request gave it, or 0 */
	const char *answer;                    /* the body as sent */
	size_t answer_len;
	struct metrics *metrics;
	int slot;                              /* the deployment's metrics slot */
};

/* Per process: its line buffer and the files it keeps open. */
struct collector;
struct collector *collector_new(void);   /* NULL when out of memory */
void collector_free(struct collector *col);

/* Write its lines (see the header comment); never fails the caller. */
void collector_write(struct collector *col, const struct collect_item *it);

#endif
