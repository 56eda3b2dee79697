/*
 * shadow.c - the row-by-row comparison of a mirror copy with the live
 * answer (shadow.h).  No allocation once the buffer has grown to the
 * largest answer kept.
 */
#include "handler/shadow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int shadow_keep(struct shadow *s, const float *y, size_t rows, size_t width)
{
	size_t n = rows * width;

	s->rows = 0;
	if (width && n / width != rows)
		return -1;
	if (n > s->cap) {
		float *p = realloc(s->live, n * sizeof *p);
		if (!p)
			return -1;
		s->live = p;
		s->cap = n;
	}
	if (n)
		memcpy(s->live, y, n * sizeof *y);
	s->rows = rows;
	s->width = width;
	return 0;
}

/* The first column holding the row's largest value (NaN never is). */
static size_t argmax(const float *row, size_t width)
{
	size_t best = 0;

	for (size_t j = 1; j < width; j++)
		if (row[j] > row[best] || (isnan(row[best]) && !isnan(row[j])))
			best = j;
	return best;
}

void shadow_compare(const struct shadow *s, const float *y, size_t rows, size_t width,
		    struct metrics_shadow_rows *v)
{
	memset(v, 0, sizeof *v);
	if (!s->rows)
		return;
	if (width != s->width || rows != s->rows || width == 0) {
		v->not_comparable = s->rows > rows ? s->rows : rows;
		return;
	}
	for (size_t i = 0; i < rows; i++) {
		const float *a = s->live + i * width, *b = y + i * width;
		double worst = 0;
		for (size_t j = 0; j < width; j++) {
			double d = fabs((double)a[j] - (double)b[j]);
			if (isnan(d)) {   /* a NaN the mirror answered */
				worst = INFINITY;
				break;
			}
			if (d > worst)
				worst = d;
		}
		metrics_shadow_row(v, worst, argmax(a, width) == argmax(b, width));
	}
}

void shadow_trim(struct shadow *s)
{
	s->rows = 0;
	if (s->cap * sizeof *s->live > SHADOW_KEEP_BYTES)
		shadow_free(s);
}

void shadow_free(struct shadow *s)
{
	free(s->live);
	s->live = NULL;
	s->cap = 0;
	s->rows = 0;
}
