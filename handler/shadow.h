/*
 * shadow.h - shadow verdicts: a mirror copy's output values compared, row
 * by row, with the live answer's (both post-processed as each deployment
 * answers: probabilities or scores).  A row agrees when both argmaxes (the
 * first largest value) are the same column; its difference is the largest
 * absolute difference over its columns.  Copies whose output width or row
 * count differs from the live answer's are counted as not comparable, never
 * as agreement.  Internal to handler/ (endpoint.c runs it, app.c logs it).
 */
#ifndef SCOREPOINT_SHADOW_H
#define SCOREPOINT_SHADOW_H

#include <stddef.h>

#include "handler/call.h"

/* The live answer's values, kept across the mirror pass in a buffer
 * reused from request to request. */
struct shadow {
	float *live;
	size_t cap;             /* floats */
	size_t rows, width;     /* of the kept answer; rows 0: none kept */
};

/* A buffer past this is given back after its comparison (shadow_trim). */
#define SHADOW_KEEP_BYTES ((size_t)1 << 20)

/* Copy the live answer y (rows x width).  0, or -1 when out of memory:
 * then nothing is kept and the copy is not compared. */
int shadow_keep(struct shadow *s, const float *y, size_t rows, size_t width);

/* Compare the mirror's y (rows x width) with what shadow_keep() kept into
 * *v (zeroed first); nothing when nothing was kept. */
void shadow_compare(const struct shadow *s, const float *y, size_t rows, size_t width,
		    struct metrics_shadow_rows *v);

/* Forget the kept answer, and give its buffer back if it grew past
 * SHADOW_KEEP_BYTES. */
void shadow_trim(struct shadow *s);
void shadow_free(struct shadow *s);

/* app.c: call_done() of a mirror copy whose comparison is v (NULL: none):
 * its log line gains "shadow": {"live", "rows", "agree", "disagree",
 * "not_comparable", "worst_abs_diff"}. */
void call_done_shadow(const struct call *c, const char *live, const struct metrics_shadow_rows *v);

#endif
