/*
 * fwd.c - the forward pass alone, in process: a blob's ops over a batch of
 * rows read from a raw float32 file, timed like bench/torch_fwd.py times
 * torch on the same rows (one thread, medians), for `make bench`'s
 * convolutional-network figure.
 *
 *   build/release/bench/fwd MODEL.blob ROWS.f32 REPS [LOGITS.f32]
 *
 * ROWS.f32 holds N rows of the blob's input width, little-endian float32.
 * Prints "median_ms N" and, with LOGITS.f32, writes the outputs there so
 * the caller can check both sides computed the same thing.
 */
#include "bench/timing.h"
#include "model/blob.h"
#include "model/fwd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *read_rows(const char *path, size_t width, size_t *n)
{
	FILE *f = fopen(path, "rb");
	float *x = NULL;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || (size_t)len % (width * 4) != 0) {
		fprintf(stderr, "fwd: %s: not a whole number of %zu-float rows\n", path, width);
		exit(1);
	}
	rewind(f);
	*n = (size_t)len / (width * 4);
	x = malloc((size_t)len);
	if (!x || fread(x, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fwd: cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	return x;
}

int main(int argc, char **argv)
{
	struct blob_map bm;
	struct fwd_scratch s = { 0 };
	char err[512];
	size_t n;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: fwd MODEL.blob ROWS.f32 REPS [LOGITS.f32]\n");
		return 2;
	}
	if (blob_map_file(argv[1], &bm, err, sizeof err) < 0) {
		fprintf(stderr, "fwd: %s\n", err);
		return 1;
	}
	fwd_set_threads(1);   /* as torch_fwd.py: one thread, as a server worker runs */
	int reps = atoi(argv[3]);
	if (reps < 1)
		reps = 1;
	float *x = read_rows(argv[2], bm.model.input_width, &n);
	double *t = malloc((size_t)reps * sizeof *t);
	float *y = NULL;
	y = fwd_run(&bm.model, x, n, &s);   /* warm-up: scratch allocated, pages touched */
	for (int r = 0; r < reps && y; r++) {
		double t0 = bench_now();
		y = fwd_run(&bm.model, x, n, &s);
		t[r] = bench_now() - t0;
	}
	if (!y) {
		fprintf(stderr, "fwd: the forward pass failed\n");
		return 1;
	}
	qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
	printf("%.4f %zu\n", t[reps / 2] * 1e3, n);
	if (argc == 5) {
		FILE *f = fopen(argv[4], "wb");
		if (!f || fwrite(y, sizeof *y, n * bm.model.output_width, f) != n * bm.model.output_width ||
		    fclose(f) != 0) {
			fprintf(stderr, "fwd: cannot write %s\n", argv[4]);
			return 1;
		}
	}
	free(t);
	free(x);
	fwd_scratch_free(&s);
	blob_unmap(&bm);
	return 0;
}
