/*
 * metrics/layout.h - the shared counter file's layout, internal to
 * metrics/: metrics.c opens it and counts into it, render.c renders it.
 * The tables below are the labels both use.
 */
#ifndef SCOREPOINT_METRICS_LAYOUT_H
#define SCOREPOINT_METRICS_LAYOUT_H

#include <stdint.h>

#include "metrics/metrics.h"

#define LAYOUT_MAGIC "SPMETRIC"
#define LAYOUT_VERSION 4u   /* 3: MR_UI, and each deployment's errors and durations;
			       4: collection lines and shadow verdicts */

/* The statuses counted apart; anything else counts as "other". */
static const int tracked_status[] = {
	200, 400, 401, 403, 404, 405, 408, 411, 413, 415, 429, 500, 503,
};
#define NSTATUS_TRACKED ((int)(sizeof tracked_status / sizeof tracked_status[0]))
#define NSTATUS (NSTATUS_TRACKED + 1)
#define STATUS_OTHER NSTATUS_TRACKED
_Static_assert(NSTATUS == METRICS_NSTATUS, "metrics.h's METRICS_NSTATUS");

#define NAMED_SLOTS (METRICS_MAX_DEPLOYMENTS - 1)
#define SLOT_OTHER (METRICS_MAX_DEPLOYMENTS - 1)
#define COL_NONE METRICS_MAX_DEPLOYMENTS
#define NCOLS (METRICS_MAX_DEPLOYMENTS + 1)

/* Upper bounds of the duration buckets, in microseconds; the last bucket
 * (+Inf) takes the rest. */
static const uint64_t bucket_usec[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBOUNDS ((int)(sizeof bucket_usec / sizeof bucket_usec[0]))
#define NBUCKETS (NBOUNDS + 1)
_Static_assert(NBUCKETS == METRICS_NBUCKETS, "metrics.h's METRICS_NBUCKETS");
static const char *const bucket_le[NBUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
};

/* Upper bounds of the shadow difference buckets; the last (+Inf) takes the
 * rest, NaN included. */
static const double shadow_bound[] = { 0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10 };
#define NSHADOW_BOUNDS ((int)(sizeof shadow_bound / sizeof shadow_bound[0]))
_Static_assert(NSHADOW_BOUNDS + 1 == METRICS_SHADOW_NBUCKETS, "metrics.h's METRICS_SHADOW_NBUCKETS");
static const char *const shadow_le[METRICS_SHADOW_NBUCKETS] = {
	"0", "1e-07", "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10", "+Inf",
};

static const char *const collection_label[METRICS_NCOLLECTIONS] = { "model_inputs", "model_outputs" };

static const char *const route_label[MR_COUNT] = {
	"root", "health", "version", "swagger", "score", "invocations",
	"v2_infer", "metrics", "ui", "other",
};

/*
 * The file.  Any change to it must bump LAYOUT_VERSION (a change of size
 * alone is caught too, since the header records the size).
 *
 * The histograms keep one non-cumulative count per bucket and no separate
 * count: _count is rendered as the sum of the buckets, so that it always
 * equals the +Inf bucket even while other workers are adding.  Per route
 * and per deployment column (the latter counted only for a deployment).
 */
struct metrics_file {
	char magic[8];                     /* "SPMETRIC", written last */
	uint32_t version;                  /* LAYOUT_VERSION */
	uint32_t reserved;
	uint64_t size;                     /* sizeof(struct metrics_file) */
	int64_t in_flight;
	/* 1 once dep_name[i] is complete; set with release order under the
	 * registration lock, read with acquire order without it. */
	uint32_t dep_ready[NAMED_SLOTS];
	char dep_name[NAMED_SLOTS][METRICS_NAME_MAX];
	uint64_t requests[MR_COUNT][NSTATUS][NCOLS];
	uint64_t rows[NCOLS];
	uint64_t duration_bucket[MR_COUNT][NBUCKETS];
	uint64_t duration_sum_usec[MR_COUNT];
	uint64_t errors[NCOLS];                    /* answers >= 400 */
	uint64_t dep_duration_bucket[NCOLS][NBUCKETS];
	uint64_t dep_duration_sum_usec[NCOLS];
	uint64_t collect[2][NCOLS][METRICS_NCOLLECTIONS];   /* [0] lines written, [1] lost */
	/* Like dep_ready: set under the registration lock once names are in. */
	uint32_t shadow_ready[METRICS_MAX_SHADOWS];
	struct shadow_slot {
		char endpoint[METRICS_SHADOW_NAME_MAX], live[METRICS_SHADOW_NAME_MAX],
		     mirror[METRICS_SHADOW_NAME_MAX];
		int64_t since_ms;                  /* when counting began, or the last reset */
		uint64_t rows, agree, not_comparable;
		uint64_t bucket[METRICS_SHADOW_NBUCKETS];
		uint64_t sum_bits, worst_bits;     /* doubles */
	} shadow[METRICS_MAX_SHADOWS];
};

_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
	       "shared counters need lock-free 64-bit atomics");
_Static_assert(METRICS_MAX_DEPLOYMENTS >= 2, "a named slot and \"other\"");

struct metrics {
	struct metrics_file *f;
	int fd;                            /* kept open for the registration lock */
};

static inline void add_u64(uint64_t *cell, uint64_t v)
{
	__atomic_fetch_add(cell, v, __ATOMIC_RELAXED);
}

static inline uint64_t load_u64(const uint64_t *cell)
{
	return __atomic_load_n(cell, __ATOMIC_RELAXED);
}

#endif
