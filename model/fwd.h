/*
 * fwd.h - the forward pass: one cblas_sgemm per Linear op for the whole
 * batch, one per chunk of the batch for a convolution (im2col), pooling
 * in plain loops, activations in place, softmax and argmax on request.
 */
#ifndef SCOREPOINT_FWD_H
#define SCOREPOINT_FWD_H

#include <stddef.h>
#include "model/blob.h"

/* Two ping-pong buffers, reused across calls and grown only up to
 * FWD_MAX_SCRATCH bytes each; the caller caps rows per request. */
#define FWD_MAX_SCRATCH ((size_t)1 << 30)

/* A convolution's im2col buffer (its input unrolled to [c*kh*kw][P] for P
 * output positions, plus the [oc][P] product when P spans several samples)
 * is FWD_COL_MAX_BYTES, allocated once a model with a convolution runs and
 * touched only as far as the largest chunk needs: a batch whose positions
 * need more is done in chunks, one sgemm each.  (A blob bounds c*kh*kw by
 * BLOB_MAX_WIDTH, so one position always fits.) */
#define FWD_COL_MAX_BYTES ((size_t)4 << 20)

struct fwd_scratch {
	float *buf[3];     /* two ping-pong buffers; [2]: the im2col buffer, or NULL */
	size_t cap;        /* floats in each ping-pong buffer */
};

/*
 * Run m's ops over n rows of x ([n][m->input_width], row-major; a spatial
 * op reads each row as [c][h][w]).  Returns the [n][m->output_width]
 * result, which lives in s (the caller may change it in place, e.g. for
 * softmax) and stays valid until the next call with s; NULL when the
 * scratch would exceed FWD_MAX_SCRATCH (each of the two buffers holds the
 * widest op's n rows) or cannot be allocated (the request fails, not the
 * process).  Memory: 2 x n x widest floats, plus at most FWD_COL_MAX_BYTES
 * for a model with convolutions.
 */
float *fwd_run(const struct blob_model *m, const float *x, size_t n,
	       struct fwd_scratch *s);

void fwd_scratch_free(struct fwd_scratch *s);

/* Row-wise softmax of y[n][w], in place, max-subtracted as torch does. */
void fwd_softmax_rows(float *y, size_t n, size_t w);

/* Index of the first largest value in row[0..w), as torch.argmax. */
size_t fwd_argmax(const float *row, size_t w);

/* OpenBLAS threads for this process (default 1: servers scale with
 * processes).  Values below 1 mean 1. */
void fwd_set_threads(int n);

/* The name of the kernels OpenBLAS runs ("SkylakeX", "Haswell", ...):
 * chosen before main() (see fwd.c), so the same in every process of a
 * machine unless OPENBLAS_CORETYPE says otherwise. */
const char *fwd_blas_core(void);

/* y[n][out] = x[n][in] * w[out][in]^T + beta * y: the one sgemm of a Linear
 * op, for the baseline in bench/ (same library, same kernels). */
void fwd_sgemm_rowmajor_nt(size_t n, size_t out, size_t in, const float *x, const float *w, float beta,
			   float *y);

#endif
