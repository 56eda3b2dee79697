/*
 * fwd.c - forward pass over a mapped blob.
 *
 * Y = X W^T + b for the whole batch in one sgemm: the bias rows are copied
 * into Y first and sgemm runs with beta = 1, so the bias costs no second
 * pass.  W is read in place from the mapping ([out][in] row-major, so the
 * call uses CblasTrans on it).
 *
 * OpenBLAS is loaded with dlopen() on first use rather than linked: it
 * picks its kernels in its constructor from the CPU's family and model
 * numbers, and a CPU newer than the library (Debian 12 ships 0.3.21, which
 * does not know e.g. Xeon model 207) or a hypervisor that hides the model
 * makes it fall back to its generic "Prescott" SSE3 kernels: for the
 * tutorial's 784x20 layer at 2 rows, 5 us a request instead of well under
 * 1, and far worse for large batches.  Loading it ourselves lets us name
 * the kernels first (OPENBLAS_CORETYPE, from the CPU's feature flags, which
 * libgcc checks against what the kernel enables), the same in every mode
 * and every process, so CGI and FastCGI print the same bytes.  A user's own
 * OPENBLAS_CORETYPE wins.
 */
#include "model/fwd.h"

#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct fwd_scratch *s, size_t floats)
{
	if (floats <= s->cap)
		return 0;
	if (floats > FWD_MAX_SCRATCH / sizeof(float))
		return -1;
	/* Grow geometrically so a stream of growing batches reallocates rarely. */
	size_t cap = s->cap ? s->cap : 4096;
	while (cap < floats)
		cap = cap > FWD_MAX_SCRATCH / sizeof(float) / 2 ? FWD_MAX_SCRATCH / sizeof(float) : cap * 2;
	for (int i = 0; i < 2; i++) {
		float *p = NULL;
		/* 64-byte alignment: what OpenBLAS kernels like for their panels. */
		if (posix_memalign((void **)&p, 64, cap * sizeof(float)) != 0)
			return -1;
		free(s->buf[i]);
		s->buf[i] = p;
	}
	s->cap = cap;
	return 0;
}

typedef void sgemm_fn(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, blasint,
		      blasint, blasint, float, const float *, blasint, const float *, blasint, float,
		      float *, blasint);

static struct {
	sgemm_fn *sgemm;
	void (*set_threads)(int);
	char *(*corename)(void);
	char error[256];
} blas;
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static const char *core_for_cpu(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
	if (__builtin_cpu_supports("avx"))
		return "SandyBridge";
#endif
	return NULL;
}

static void blas_load(void)
{
	static const char *const names[] = { FWD_OPENBLAS_SONAME, "libopenblas.so" };
	const char *core = core_for_cpu();
	void *h = NULL;

	const char *user = getenv("OPENBLAS_CORETYPE");
	if (core && (!user || !*user))   /* set but empty: OpenBLAS finds no such core */
		setenv("OPENBLAS_CORETYPE", core, 1);
	for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
		h = dlopen(names[i], RTLD_LAZY | RTLD_LOCAL);
	if (!h) {
		snprintf(blas.error, sizeof blas.error, "cannot load OpenBLAS: %s", dlerror());
		return;
	}
	/* POSIX's sanctioned way from a dlsym() object pointer to a function. */
	*(void **)&blas.set_threads = dlsym(h, "openblas_set_num_threads");
	*(void **)&blas.corename = dlsym(h, "openblas_get_corename");
	*(void **)&blas.sgemm = dlsym(h, "cblas_sgemm");
	if (!blas.sgemm || !blas.set_threads || !blas.corename) {
		blas.sgemm = NULL;
		snprintf(blas.error, sizeof blas.error, "%s lacks cblas_sgemm or openblas_set_num_threads",
			 FWD_OPENBLAS_SONAME);
	}
}

int fwd_init(char *err, size_t errlen)
{
	pthread_once(&blas_once, blas_load);
	if (blas.sgemm)
		return 0;
	if (err)
		snprintf(err, errlen, "%s", blas.error);
	return -1;
}

static void linear(const struct blob_op *op, const float *x, float *y, size_t n)
{
	if (op->bias)
		for (size_t r = 0; r < n; r++)
			memcpy(y + r * op->out, op->bias, op->out * sizeof(float));
	fwd_sgemm_rowmajor_nt(n, op->out, op->in, x, op->weight, op->bias ? 1.0f : 0.0f, y);
}

/* Subtracting the row's max keeps expf() finite, as torch does. */
static float row_max(const float *row, size_t w)
{
	float max = row[0];
	for (size_t j = 1; j < w; j++)
		if (row[j] > max)
			max = row[j];
	return max;
}

static void log_softmax_rows(float *y, size_t n, size_t w)
{
	for (size_t r = 0; r < n; r++) {
		float *row = y + r * w;
		float max = row_max(row, w);
		float sum = 0.0f;
		for (size_t j = 0; j < w; j++)
			sum += expf(row[j] - max);
		float lse = logf(sum);
		for (size_t j = 0; j < w; j++)
			row[j] = row[j] - max - lse;
	}
}

static void activate(const struct blob_op *op, float *y, size_t n)
{
	size_t len = n * op->out;
	const float a = op->param;

	switch (op->kind) {
	case BLOB_OP_RELU:
		/* On the bits, with no branch to mispredict on hidden units that
		 * are half negative (2 ms of a 784-1024-1024 batch of 256 went
		 * there): a negative number (-0.0 and -inf too) becomes +0.0, and a
		 * NaN stays NaN, as torch.relu leaves it. */
		for (size_t i = 0; i < len; i++) {
			uint32_t u;
			memcpy(&u, &y[i], sizeof u);
			uint32_t neg = (uint32_t)((int32_t)u >> 31);
			uint32_t nan = -(uint32_t)((u & 0x7FFFFFFFu) > 0x7F800000u);
			u &= ~(neg & ~nan);
			memcpy(&y[i], &u, sizeof u);
		}
		break;
	case BLOB_OP_LEAKY_RELU:
		for (size_t i = 0; i < len; i++)
			y[i] = y[i] > 0.0f ? y[i] : y[i] * a;
		break;
	case BLOB_OP_TANH:
		for (size_t i = 0; i < len; i++)
			y[i] = tanhf(y[i]);
		break;
	case BLOB_OP_SIGMOID:
		for (size_t i = 0; i < len; i++)
			y[i] = 1.0f / (1.0f + expf(-y[i]));
		break;
	case BLOB_OP_GELU:
		for (size_t i = 0; i < len; i++)
			y[i] = 0.5f * y[i] * (1.0f + erff(y[i] * (float)M_SQRT1_2));
		break;
	case BLOB_OP_GELU_TANH: {
		const float k = 0.7978845608028654f;   /* sqrt(2/pi) */
		for (size_t i = 0; i < len; i++) {
			float v = y[i];
			y[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
		}
		break;
	}
	case BLOB_OP_ELU:
		for (size_t i = 0; i < len; i++)
			y[i] = y[i] > 0.0f ? y[i] : a * expm1f(y[i]);
		break;
	case BLOB_OP_SOFTMAX:
		fwd_softmax_rows(y, n, op->out);
		break;
	case BLOB_OP_LOG_SOFTMAX:
		log_softmax_rows(y, n, op->out);
		break;
	default:
		break;
	}
}

float *fwd_run(const struct blob_model *m, const float *x, size_t n,
	       struct fwd_scratch *s)
{
	size_t widest = 1;
	for (uint32_t i = 0; i < m->nops; i++)
		if (m->ops[i].out > widest)
			widest = m->ops[i].out;
	if (n == 0 || n > FWD_MAX_SCRATCH / sizeof(float) / widest || reserve(s, n * widest) < 0 ||
	    fwd_init(NULL, 0) < 0)
		return NULL;

	const float *in = x;
	float *out = NULL;
	int next = 0;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		if (op->kind == BLOB_OP_LINEAR) {
			out = s->buf[next];
			next ^= 1;
			linear(op, in, out, n);
		} else if (!out) {
			/* An activation before any Linear: copy once, never touch x. */
			out = s->buf[next];
			next ^= 1;
			memcpy(out, in, n * op->in * sizeof(float));
		}
		if (op->kind != BLOB_OP_LINEAR)
			activate(op, out, n);
		in = out;
	}
	return out;
}

void fwd_scratch_free(struct fwd_scratch *s)
{
	free(s->buf[0]);
	free(s->buf[1]);
	memset(s, 0, sizeof *s);
}

void fwd_softmax_rows(float *y, size_t n, size_t w)
{
	for (size_t r = 0; r < n; r++) {
		float *row = y + r * w;
		float max = row_max(row, w);
		float sum = 0.0f;
		for (size_t j = 0; j < w; j++) {
			row[j] = expf(row[j] - max);
			sum += row[j];
		}
		for (size_t j = 0; j < w; j++)
			row[j] /= sum;
	}
}

size_t fwd_argmax(const float *row, size_t w)
{
	size_t best = 0;
	for (size_t j = 1; j < w; j++)
		if (row[j] > row[best])
			best = j;
	return best;
}

void fwd_set_threads(int n)
{
	if (fwd_init(NULL, 0) == 0)
		blas.set_threads(n < 1 ? 1 : n);
}

const char *fwd_blas_core(void)
{
	return fwd_init(NULL, 0) == 0 ? blas.corename() : "none";
}

void fwd_sgemm_rowmajor_nt(size_t n, size_t out, size_t in, const float *x, const float *w, float beta,
			   float *y)
{
	if (fwd_init(NULL, 0) == 0)
		blas.sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)out, (blasint)in,
			   1.0f, x, (blasint)in, w, (blasint)in, beta, y, (blasint)out);
}
