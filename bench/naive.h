/* naive.h - the simple-C baseline of make bench (see naive.c). */
#ifndef SCOREPOINT_BENCH_NAIVE_H
#define SCOREPOINT_BENCH_NAIVE_H

#include <stddef.h>

/* Linear(width, hidden) -> ReLU -> Linear(hidden, out), the tutorial's shape. */
struct naive_model {
	int width, hidden, out;
	const char *const *columns;
	const float *w1, *b1, *w2, *b2;
};

/* Score a split-orient body; *out is malloc'd JSON.  Returns rows, or -1. */
int naive_score(const struct naive_model *m, const char *body, size_t len, char **out, size_t *out_len);

#endif
