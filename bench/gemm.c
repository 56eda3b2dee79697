/*
 * gemm.c - the forward pass of a large model against plain sgemm: for each
 * Linear op of MODEL.blob, the same [rows x in] x [in x out] product with
 * nothing around it (no bias rows, no activation, no scratch management),
 * in the same library and kernels.  Prints GFLOP/s of both and their ratio
 * as "name value" pairs on one line.
 *
 *   build/release/bench/gemm MODEL.blob ROWS
 */
#include "bench/timing.h"
#include "model/blob.h"
#include "model/fwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct blob_map bm;
	char err[512];

	if (argc != 3 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: gemm MODEL.blob ROWS\n");
		return 2;
	}
	size_t rows = (size_t)atoi(argv[2]);
	if (blob_map_file(argv[1], &bm, err, sizeof err) < 0) {
		fprintf(stderr, "gemm: %s\n", err);
		return 1;
	}
	fwd_set_threads(1);
	const struct blob_model *m = &bm.model;
	size_t widest = m->input_width;
	double flop = 0;
	for (uint32_t i = 0; i < m->nops; i++) {
		if (m->ops[i].out > widest)
			widest = m->ops[i].out;
		if (m->ops[i].kind == BLOB_OP_LINEAR)
			flop += 2.0 * (double)rows * m->ops[i].in * m->ops[i].out;
	}
	float *x = malloc(rows * m->input_width * sizeof *x);
	float *a = malloc(rows * widest * sizeof *a), *b = malloc(rows * widest * sizeof *b);
	if (!x || !a || !b)
		return 1;
	srand(1);
	for (size_t i = 0; i < rows * m->input_width; i++)
		x[i] = (float)rand() / (float)RAND_MAX;
	for (size_t i = 0; i < rows * widest; i++)
		a[i] = (float)rand() / (float)RAND_MAX;

	enum { REPS = 31 };
	double tf[REPS], tg[REPS];
	struct fwd_scratch s = { 0 };
	for (int r = -3; r < REPS; r++) {   /* three warm-up rounds */
		double t0 = bench_now();
		if (!fwd_run(m, x, rows, &s))
			return 1;
		double t1 = bench_now();
		for (uint32_t i = 0; i < m->nops; i++)
			if (m->ops[i].kind == BLOB_OP_LINEAR)
				fwd_sgemm_rowmajor_nt(rows, m->ops[i].out, m->ops[i].in, a, m->ops[i].weight, 0, b);
		double t2 = bench_now();
		if (r >= 0) {
			tf[r] = t1 - t0;
			tg[r] = t2 - t1;
		}
	}
	qsort(tf, REPS, sizeof *tf, bench_cmp_double);
	qsort(tg, REPS, sizeof *tg, bench_cmp_double);
	printf("forward_ms=%.3f forward_gflops=%.2f sgemm_ms=%.3f sgemm_gflops=%.2f ratio=%.3f core=%s\n",
	       tf[REPS / 2] * 1e3, flop / tf[REPS / 2] / 1e9, tg[REPS / 2] * 1e3, flop / tg[REPS / 2] / 1e9,
	       tg[REPS / 2] / tf[REPS / 2], fwd_blas_core());
	fwd_scratch_free(&s);
	free(x);
	free(a);
	free(b);
	blob_unmap(&bm);
	return 0;
}
