/*
 * metrics.h - request counters shared by every worker process of a server,
 * rendered as Prometheus text on GET /metrics.
 *
 * Workers are separate processes (spawned and exec'd by lighttpd, spawn-fcgi
 * or mod_fcgid), so the counters live in one small file mapped MAP_SHARED by
 * all of them (by default under /dev/shm) and are updated with lock-free
 * atomic adds.  Any worker's /metrics shows the sum over all workers.
 */
#ifndef SCOREPOINT_METRICS_H
#define SCOREPOINT_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_route {
	MR_ROOT = 0,        /* GET / */
	MR_HEALTH,          /* /ping, /health, /v2/health/..., /v2/models/{m}/ready */
	MR_VERSION,         /* /version, GET /v2, GET /v2/models/{m} */
	MR_SWAGGER,         /* /swagger.json */
	MR_SCORE,           /* POST /score */
	MR_INVOCATIONS,     /* POST /invocations */
	MR_V2_INFER,        /* POST /v2/models/{m}/infer */
	MR_METRICS,         /* /metrics */
	MR_UI,              /* /_ui, /_ui/...: the Studio page and its data */
	MR_OTHER,           /* 404s and anything unrouted */
	MR_COUNT
};

#define METRICS_MAX_DEPLOYMENTS 16   /* deployments a server can label apart */
#define METRICS_NAME_MAX 80   /* "endpoint/deployment": two names of up to 32 */
#define METRICS_NSTATUS 14    /* the statuses counted apart, then "other" */
#define METRICS_NBUCKETS 15   /* the duration buckets, the last one +Inf */

struct metrics;

/*
 * Create or attach the shared counter file at `path` (created 0600 with its
 * fixed layout when absent or of another layout version; attached when a
 * sibling worker made it).  Safe when several workers start at once.
 * Returns NULL with one line in err.
 */
struct metrics *metrics_open(const char *path, char *err, size_t errlen);
void metrics_close(struct metrics *m);

/* The default path for a server: /dev/shm/scorepoint-<uid>-<16 hex of a
 * hash of key>, key being e.g. the model or workspace path. */
void metrics_default_path(const char *key, char *out, size_t len);

/* The slot of a deployment name (registered on first use, up to
 * METRICS_MAX_DEPLOYMENTS; further names share the last slot "other"). */
int metrics_deployment(struct metrics *m, const char *name);

void metrics_inflight(struct metrics *m, int delta);

/* One finished request: its route, HTTP status, deployment slot (-1: none),
 * rows scored and duration in microseconds. */
void metrics_request(struct metrics *m, enum metrics_route route, int status,
		     int deployment, uint64_t rows, uint64_t usec);

/*
 * What one deployment slot counted, summed over every route and worker
 * since the file was made: a plain copy for handler/ to render.  le[b] is
 * cumulative (requests taking at most metrics_le(b)), le[last] == requests
 * but for adds racing the copy.
 */
struct metrics_stats {
	uint64_t requests;
	uint64_t errors;                     /* answers >= 400 */
	uint64_t rows;
	uint64_t status[METRICS_NSTATUS];    /* by metrics_status(i) */
	uint64_t le[METRICS_NBUCKETS];
	uint64_t sum_usec;
};

/* The HTTP status counted in status[i], or 0 for the last, "other". */
int metrics_status(int i);

/* The upper bound of bucket b in seconds as text ("0.0005" .. "10"), or
 * NULL for the last (+Inf). */
const char *metrics_le(int b);

/*
 * Fill *st with the counts of deployment name (as metrics_deployment()
 * registers it) without registering it: 0, or -1 with *st zeroed when the
 * name has no slot of its own (it never answered, or came after the table
 * was full and counts under "other").  Takes no lock.
 */
int metrics_stats(struct metrics *m, const char *name, struct metrics_stats *st);

/* ---- data collection (handler/ counts what it writes) ---- */

enum metrics_collection { METRICS_MODEL_INPUTS = 0, METRICS_MODEL_OUTPUTS, METRICS_NCOLLECTIONS };

/* One line of collection (METRICS_MODEL_INPUTS or _OUTPUTS) for deployment
 * slot deployment (metrics_deployment()'s; -1: none): written when ok,
 * else lost.  Out-of-range collections are ignored. */
void metrics_collect(struct metrics *m, int deployment, int collection, int ok);

/* ---- shadow verdicts: mirror copies compared with the live answer ---- */

#define METRICS_MAX_SHADOWS 16       /* (endpoint, live, mirror) triples counted apart */
#define METRICS_SHADOW_NAME_MAX 40   /* each of the three names, NUL included */
#define METRICS_SHADOW_NBUCKETS 11   /* the difference buckets, the last one +Inf */

/*
 * One mirror copy's comparison, summed by the caller row by row
 * (metrics_shadow_row) and then added at once: rows compared, rows whose
 * argmax agreed, rows not comparable (the output widths differed), rows
 * per bucket of their largest absolute difference (not cumulative), the
 * sum and the largest of those differences.
 */
struct metrics_shadow_rows {
	uint64_t rows, agree, not_comparable;
	uint64_t bucket[METRICS_SHADOW_NBUCKETS];
	double sum, worst;
};

/* Count one compared row into *r: its largest absolute difference (NaN
 * counts as +Inf) and whether both argmaxes agreed. */
void metrics_shadow_row(struct metrics_shadow_rows *r, double diff, int agree);

/* The upper bound of difference bucket b as text ("0", "1e-07" .. "10"), or
 * NULL for the last (+Inf). */
const char *metrics_shadow_le(int b);

/*
 * The slot of a triple, registered on first use with the time (CLOCK_
 * REALTIME) the counting began; -1 when the table is full or a name is
 * empty, too long or not UTF-8 (that comparison is then not counted).
 */
int metrics_shadow(struct metrics *m, const char *endpoint, const char *live, const char *mirror);

/* Add one copy's comparison to slot (lock-free; a slot of -1 is ignored). */
void metrics_shadow_add(struct metrics *m, int slot, const struct metrics_shadow_rows *r);

/* What a slot counted since since_ms (ms since the epoch, UTC): a plain
 * copy, le[] cumulative like metrics_stats()'s. */
struct metrics_shadow_stats {
	char endpoint[METRICS_SHADOW_NAME_MAX], live[METRICS_SHADOW_NAME_MAX], mirror[METRICS_SHADOW_NAME_MAX];
	uint64_t rows, agree, not_comparable;
	uint64_t le[METRICS_SHADOW_NBUCKETS];
	double sum, worst;
	int64_t since_ms;
};

/* Fill *st with slot i (0 ..): 0, or -1 past the last registered slot. */
int metrics_shadow_stats(struct metrics *m, int i, struct metrics_shadow_stats *st);

/* Zero the counters of every slot of endpoint and start them again at
 * now_ms; returns how many slots.  Adds racing the reset may land on either
 * side of it. */
int metrics_shadow_reset(struct metrics *m, const char *endpoint, int64_t now_ms);

/*
 * Attach to a server's existing counter file to read it (or reset shadow
 * counters): like metrics_open() but never creates nor re-initialises it;
 * NULL with one line in err when it is absent (no server has counted yet)
 * or of another layout version (another build's server).
 */
struct metrics *metrics_attach(const char *path, char *err, size_t errlen);

/*
 * Prometheus text exposition (version 0.0.4) of the summed counters:
 *   scorepoint_requests_total{route,status,deployment}
 *   scorepoint_rows_total{deployment}
 *   scorepoint_request_duration_seconds histogram {route}
 *   scorepoint_deployment_request_duration_seconds histogram {deployment}
 *   scorepoint_requests_in_flight
 *   scorepoint_collect_lines_total{deployment,collection}     \ only when
 *   scorepoint_collect_errors_total{deployment,collection}    / something was
 *   scorepoint_shadow_rows_total{endpoint,live,mirror}        | collected or
 *   scorepoint_shadow_agree_rows_total{...}                   | compared, so
 *   scorepoint_shadow_not_comparable_rows_total{...}          | a server that
 *   scorepoint_shadow_abs_diff histogram {...}                | does neither
 *   scorepoint_shadow_worst_abs_diff{...}                     | renders what
 *   scorepoint_shadow_start_time_seconds{...}                 / it always did
 *   scorepoint_model_info{name,version,digest} 1
 * into out[cap]; returns the length, or 0 when it does not fit.
 */
size_t metrics_render(struct metrics *m, const char *model_name, const char *model_version,
		      const char *model_digest, char *out, size_t cap);

#endif
