/*
 * fwd.c - forward pass over a mapped blob.
 *
 * Y = X W^T + b for the whole batch in one sgemm: the bias rows are copied
 * into Y first and sgemm runs with beta = 1, so the bias costs no second
 * pass.  W is read in place from the mapping ([out][in] row-major, so the
 * call uses CblasTrans on it).
 *
 * A convolution is im2col and one sgemm per chunk of the batch, W
 * ([oc][c*kh*kw], torch's order) again read in place; pooling and
 * scale-shift are plain loops over [C][H][W] rows (see "spatial ops").
 *
 * OpenBLAS is linked in statically (the Makefile): a CGI request pays
 * for every symbol the dynamic linker resolves, and Debian's DYNAMIC_ARCH
 * libopenblas.so has some 14,000.  Its constructor picks the kernels
 * before main() from the CPU's family and model numbers, and a CPU newer
 * than the library (Debian 12 ships 0.3.21, which does not know e.g. Xeon
 * model 207) or a hypervisor that hides the model makes it fall back to
 * its generic "Prescott" SSE3 kernels: for the tutorial's 784x20 layer at
 * 2 rows, 5 us a request instead of well under 1, and far worse for large
 * batches.  So a constructor of ours, which runs first (a priority puts
 * it ahead of every constructor without one, OpenBLAS's among them), names
 * the kernels from the CPU's feature flags (OPENBLAS_CORETYPE, which
 * OpenBLAS reads; libgcc checks the flags against what the kernel
 * enables), the same in every mode and every process, so CGI and FastCGI
 * print the same bytes.  A user's own OPENBLAS_CORETYPE wins.  The same
 * constructor sets OPENBLAS_NUM_THREADS to 1 when it is unset, so that
 * OpenBLAS starts no thread pool a process would not use (servers scale
 * with processes; fwd_set_threads() adds threads when asked).
 */
#include "model/fwd.h"

#include <cblas.h>
#include <stdio.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* Before OpenBLAS's constructor (101: the first priority not reserved
 * for the implementation); see the header comment. */
__attribute__((constructor(101))) static void name_kernels(void)
{
	const char *core = core_for_cpu();
	const char *user = getenv("OPENBLAS_CORETYPE");
	const char *threads = getenv("OPENBLAS_NUM_THREADS");

	if (core && (!user || !*user))   /* set but empty: OpenBLAS finds no such core */
		setenv("OPENBLAS_CORETYPE", core, 1);
	if (!threads || !*threads)
		setenv("OPENBLAS_NUM_THREADS", "1", 1);
}

static void linear(const struct blob_op *op, const float *x, float *y, size_t n, struct fwd_scratch *s)
{
	(void)s;
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

/* max(x, 0) on the bits: a negative number (-0.0 and -inf too) becomes
 * +0.0 and a NaN stays NaN, as torch.relu leaves it. */
static inline void relu1(float *v)
{
	uint32_t u;
	memcpy(&u, v, sizeof u);
	uint32_t neg = (uint32_t)((int32_t)u >> 31);
	uint32_t nan = -(uint32_t)((u & 0x7FFFFFFFu) > 0x7F800000u);
	u &= ~(neg & ~nan);
	memcpy(v, &u, sizeof u);
}

/* Blocks of 8: a loop of known length is one gcc vectorises at -O2 (a
 * loop of any length needs -O3's cost model), so the ReLU after a
 * convolution, over every value of its feature maps, runs 4 or 8 at a time. */
static void relu(float *y, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8)
		for (size_t k = 0; k < 8; k++)
			relu1(&y[i + k]);
	for (; i < len; i++)
		relu1(&y[i]);
}

static void activate(const struct blob_op *op, float *y, size_t n)
{
	size_t len = n * op->out;
	const float a = op->param;

	switch (op->kind) {
	case BLOB_OP_RELU:
		/* On the bits, with no branch to mispredict on hidden units that
		 * are half negative (2 ms of a 784-1024-1024 batch of 256 went
		 * there). */
		relu(y, len);
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

/* ---- spatial ops: a row is one sample's [c][h][w] ---- */

/* C[m][n] = A[m][k] B[k][n] + beta C, all row-major with leading dims. */
static void sgemm_nn(size_t m, size_t n, size_t k, const float *a, const float *b, size_t ldb, float beta,
		     float *c, size_t ldc)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f, a,
		    (blasint)k, b, (blasint)ldb, beta, c, (blasint)ldc);
}

/* The bound of the im2col buffer, and the size up to which the samples of
 * a small feature map (fewer than batch_below output positions) share one
 * sgemm.  Measured on the CNN fixtures' shapes: one sample per sgemm, whose
 * product lands in place, is as fast or faster from 7x7 positions up (the
 * shared sgemm's scatter costs more than it saves); at 3x3 sharing halves
 * the time.  Tests lower the bounds to force every way of chunking. */
static size_t col_max_bytes = FWD_COL_MAX_BYTES;
static size_t col_batch_bytes = 256 << 10;
static size_t batch_below = 32;

/* A 1x1 convolution with stride 1 and no padding reads its input as is:
 * [c][h*w] is already the column matrix. */
static int conv_is_pointwise(const struct blob_geom *g)
{
	return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 &&
	       g->oh == g->h && g->ow == g->w;
}

/*
 * How a convolution splits a batch of n: `samples` whole samples per
 * sgemm when the feature map is small and two or more fit in
 * col_batch_bytes with their [oc][P] product (scattered into NCHW
 * afterwards), else one sample's positions,
 * `positions` at a time (as many as col_max_bytes holds), written
 * straight into the output.  Returns the floats of the buffer it needs
 * (0 for a pointwise convolution).
 */
static size_t conv_chunks(const struct blob_geom *g, size_t n, size_t *samples, size_t *positions)
{
	size_t k = (size_t)g->c * g->kh * g->kw, ohw = (size_t)g->oh * g->ow;
	size_t limit = col_max_bytes / sizeof(float), per = (k + g->oc) * ohw;
	size_t batch = (col_batch_bytes < col_max_bytes ? col_batch_bytes : col_max_bytes) / sizeof(float);

	*samples = *positions = 0;
	if (conv_is_pointwise(g))
		return 0;
	*samples = ohw >= batch_below ? 1 : batch / per < n ? batch / per : n;
	if (*samples >= 2) {
		*positions = ohw;
		return *samples * per;
	}
	*samples = 1;
	*positions = limit / k < ohw ? limit / k : ohw;
	if (*positions == 0)
		*positions = 1;
	return k * *positions;
}

/* Taps j < k of a window starting at `start` (taps start + j*d) that fall
 * in [0, n): [*j0, *j1).  Divides only at the edges. */
static inline void taps(long start, uint32_t n, uint32_t k, uint32_t d, uint32_t *j0, uint32_t *j1)
{
	*j0 = start >= 0 ? 0 : d == 1 ? (uint32_t)-start : (uint32_t)((-start + d - 1) / d);
	long last = start + (long)(k - 1) * d;
	*j1 = last < (long)n ? k : start >= (long)n ? 0 : d == 1 ? (uint32_t)((long)n - start) :
		(uint32_t)(((long)n - start + d - 1) / d);
	if (*j0 > k)
		*j0 = k;
	if (*j1 < *j0)
		*j1 = *j0;
}

/* dst[j] = src[first + 2j] for j < n, src holding w values: stride 2,
 * the commonest after 1, four at a time where eight loads stay in the row
 * (most of a stride-2 convolution's im2col is this gather). */
static inline void gather2(float *dst, const float *src, long first, uint32_t n, uint32_t w)
{
	uint32_t j = 0;
#if defined(__SSE2__)
	for (; j + 4 <= n && first + 2 * (long)j + 8 <= (long)w; j += 4) {
		__m128 a = _mm_loadu_ps(src + first + 2 * (long)j), b = _mm_loadu_ps(src + first + 2 * (long)j + 4);
		_mm_storeu_ps(dst + j, _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
	}
#endif
	for (; j < n; j++)
		dst[j] = src[first + 2 * (long)j];
}

/* Copy the taps [lo, hi) of one output row from src (the input row of w
 * values, read at ix0 + j*sw), zeros around them: run values. */
static inline void im2col_run(float *dst, const float *src, uint32_t w, long ix0, uint32_t sw, uint32_t lo,
			      uint32_t hi, size_t run)
{
	for (uint32_t j = 0; j < lo; j++)
		dst[j] = 0.0f;
	if (sw == 1)
		memcpy(dst + lo, src + (ix0 + lo), (hi - lo) * sizeof(float));
	else if (sw == 2)
		gather2(dst + lo, src, ix0 + 2 * (long)lo, hi - lo, w);
	else
		for (uint32_t j = lo; j < hi; j++)
			dst[j] = src[ix0 + (long)j * sw];
	for (size_t j = hi; j < run; j++)
		dst[j] = 0.0f;
}

/* One im2col row: tap (ky, kx) of channel `plane` for the positions
 * [p0, p1) of one sample, 0 in the padding.  Whole output rows share the
 * columns that fall in the input, found once; a chunk that starts or ends
 * mid-row works them out for its partial rows. */
static void im2col_row(const struct blob_geom *g, const float *plane, uint32_t ky, uint32_t kx, float *dst,
		       size_t p0, size_t p1)
{
	size_t oy = p0 / g->ow, ox = p0 % g->ow;
	long off_y = (long)ky * g->dh - g->ph, off_x = (long)kx * g->dw - g->pw;
	uint32_t full_lo, full_hi;

	taps(off_x, g->w, g->ow, g->sw, &full_lo, &full_hi);
	for (size_t p = p0; p < p1; oy++, ox = 0) {
		size_t run = g->ow - ox < p1 - p ? g->ow - ox : p1 - p;
		long iy = (long)oy * g->sh + off_y, ix0 = (long)ox * g->sw + off_x;
		uint32_t lo = 0, hi = 0;
		if (iy >= 0 && iy < (long)g->h) {
			if (run == g->ow)
				lo = full_lo, hi = full_hi;
			else
				taps(ix0, g->w, (uint32_t)run, g->sw, &lo, &hi);
		}
		im2col_run(dst, plane + (size_t)(iy >= 0 ? iy : 0) * g->w, g->w, ix0, g->sw, lo, hi, run);
		dst += run;
		p += run;
	}
}

/*
 * The same for a whole sample when stride is 1 and the output as wide as
 * the input (e.g. padding "same"): then the tap's values for all the rows
 * that fall in the input are one contiguous run of the plane, shifted, so
 * one memcpy does them and only the columns in the padding (a value or two
 * a row, wrapped in from the neighbouring row) are zeroed after it.
 */
static void im2col_shifted(const struct blob_geom *g, const float *plane, uint32_t ky, uint32_t kx, float *dst)
{
	long off_y = (long)ky * g->dh - g->ph, off_x = (long)kx * g->dw - g->pw;
	uint32_t lo, hi, y0, y1;
	size_t w = g->w;

	taps(off_x, g->w, g->ow, 1, &lo, &hi);
	taps(off_y, g->h, g->oh, 1, &y0, &y1);
	memset(dst, 0, (size_t)y0 * w * sizeof(float));
	if (y0 < y1 && lo < hi) {
		size_t from = (size_t)y0 * w + lo, to = (size_t)(y1 - 1) * w + hi;
		memcpy(dst + from, plane + (long)from + off_y * (long)w + off_x, (to - from) * sizeof(float));
		for (uint32_t oy = y0; oy < y1; oy++) {
			for (uint32_t j = 0; j < lo; j++)
				dst[oy * w + j] = 0.0f;
			for (size_t j = hi; j < w; j++)
				dst[oy * w + j] = 0.0f;
		}
	} else {
		y1 = y0;
	}
	memset(dst + (size_t)y1 * w, 0, (size_t)(g->oh - y1) * w * sizeof(float));
}

/* Columns of positions [p0, p1) of one sample x: col[k][p - p0] with row
 * stride ld, k = (ci*kh + ky)*kw + kx, torch's weight order. */
static void im2col(const struct blob_geom *g, const float *x, float *col, size_t ld, size_t p0, size_t p1)
{
	int shifted = p0 == 0 && p1 == (size_t)g->oh * g->ow && g->sh == 1 && g->sw == 1 && g->ow == g->w;
	for (uint32_t ci = 0; ci < g->c; ci++)
		for (uint32_t ky = 0; ky < g->kh; ky++)
			for (uint32_t kx = 0; kx < g->kw; kx++, col += ld)
				if (shifted)
					im2col_shifted(g, x + (size_t)ci * g->h * g->w, ky, kx, col);
				else
					im2col_row(g, x + (size_t)ci * g->h * g->w, ky, kx, col, p0, p1);
}

/* y[o][0..len) = bias[o] for each output channel of one sample. */
static void fill_bias(const struct blob_op *op, float *y, size_t len)
{
	for (uint32_t o = 0; o < op->g.oc; o++)
		for (size_t p = 0; p < len; p++)
			y[o * len + p] = op->bias[o];
}

/* Several samples per sgemm: prod[oc][P] for P = cnt*ohw, then each
 * sample's [oc][ohw] block copied out with its bias. */
static void conv2d_batched(const struct blob_op *op, const float *x, float *y, size_t n, size_t samples,
			   float *col)
{
	const struct blob_geom *g = &op->g;
	size_t k = (size_t)g->c * g->kh * g->kw, ohw = (size_t)g->oh * g->ow;
	float *prod = col + k * samples * ohw;

	for (size_t s0 = 0; s0 < n; s0 += samples) {
		size_t cnt = n - s0 < samples ? n - s0 : samples, P = cnt * ohw;
		for (size_t j = 0; j < cnt; j++)
			im2col(g, x + (s0 + j) * op->in, col + j * ohw, P, 0, ohw);
		sgemm_nn(g->oc, P, k, op->weight, col, P, 0.0f, prod, P);
		for (size_t j = 0; j < cnt; j++)
			for (uint32_t o = 0; o < g->oc; o++) {
				const float *src = prod + o * P + j * ohw;
				float *dst = y + (s0 + j) * op->out + o * ohw, b = op->bias ? op->bias[o] : 0.0f;
				for (size_t p = 0; p < ohw; p++)
					dst[p] = src[p] + b;
			}
	}
}

static void conv2d(const struct blob_op *op, const float *x, float *y, size_t n, struct fwd_scratch *s)
{
	const struct blob_geom *g = &op->g;
	size_t k = (size_t)g->c * g->kh * g->kw, ohw = (size_t)g->oh * g->ow, samples, positions;
	float beta = op->bias ? 1.0f : 0.0f;

	conv_chunks(g, n, &samples, &positions);
	if (samples >= 2) {
		conv2d_batched(op, x, y, n, samples, s->buf[2]);
		return;
	}
	for (size_t r = 0; r < n; r++) {
		const float *xs = x + r * op->in;
		float *ys = y + r * op->out;
		if (op->bias)
			fill_bias(op, ys, ohw);
		if (!samples) {
			sgemm_nn(g->oc, ohw, k, op->weight, xs, ohw, beta, ys, ohw);
			continue;
		}
		for (size_t p0 = 0; p0 < ohw; p0 += positions) {
			size_t cnt = ohw - p0 < positions ? ohw - p0 : positions;
			im2col(g, xs, s->buf[2], cnt, p0, p0 + cnt);
			sgemm_nn(g->oc, cnt, k, op->weight, s->buf[2], cnt, beta, ys + p0, ohw);
		}
	}
}

/* The larger, the first of equals (as torch), with no branch: a data-
 * dependent branch here costs more than the rest of a pooling layer.  NaN
 * is tracked apart (torch's max is NaN when any value in the window is). */
static inline float max2(float m, float v)
{
	return v > m ? v : m;
}

/* The common 2x2 window, stride 2, no padding, every window whole. */
static int maxpool_is_2x2(const struct blob_geom *g)
{
	return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 && g->dh == 1 &&
	       g->dw == 1 && 2 * g->oh <= g->h && 2 * g->ow <= g->w;
}

static void maxpool_2x2(const struct blob_geom *g, const float *x, float *y, size_t planes)
{
	for (size_t pl = 0; pl < planes; pl++) {
		const float *xp = x + pl * g->h * g->w;
		for (uint32_t oy = 0; oy < g->oh; oy++, y += g->ow) {
			const float *r0 = xp + (size_t)2 * oy * g->w, *r1 = r0 + g->w;
			for (uint32_t ox = 0; ox < g->ow; ox++) {
				float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
				int nan = (a != a) | (b != b) | (c != c) | (d != d);
				y[ox] = nan ? NAN : max2(max2(a, b), max2(c, d));
			}
		}
	}
}

static void maxpool2d(const struct blob_op *op, const float *x, float *y, size_t n, struct fwd_scratch *s)
{
	const struct blob_geom *g = &op->g;
	size_t planes = n * g->c;

	(void)s;
	if (maxpool_is_2x2(g)) {
		maxpool_2x2(g, x, y, planes);
		return;
	}
	for (size_t pl = 0; pl < planes; pl++) {
		const float *xp = x + pl * g->h * g->w;
		for (uint32_t oy = 0; oy < g->oh; oy++) {
			long sy = (long)oy * g->sh - g->ph;
			uint32_t y0, y1, x0, x1;
			taps(sy, g->h, g->kh, g->dh, &y0, &y1);
			for (uint32_t ox = 0; ox < g->ow; ox++) {
				long sx = (long)ox * g->sw - g->pw;
				taps(sx, g->w, g->kw, g->dw, &x0, &x1);
				float m = -INFINITY;
				int nan = 0;
				for (uint32_t jy = y0; jy < y1; jy++) {
					const float *row = xp + (size_t)(sy + (long)jy * g->dh) * g->w;
					for (uint32_t jx = x0; jx < x1; jx++) {
						float v = row[sx + (long)jx * g->dw];
						nan |= v != v;
						m = max2(m, v);
					}
				}
				*y++ = nan ? NAN : m;
			}
		}
	}
}

/* torch's divisor: divisor_override, else the window clipped to the
 * padded input (count_include_pad) or to the input itself. */
static float avg_divisor(const struct blob_geom *g, long sy, long sx, uint32_t ny, uint32_t nx)
{
	if (g->divisor)
		return (float)g->divisor;
	if (!(g->flags & BLOB_GEOM_COUNT_PAD))
		return (float)ny * (float)nx;
	long ey = sy + g->kh < (long)(g->h + g->ph) ? sy + g->kh : (long)(g->h + g->ph);
	long ex = sx + g->kw < (long)(g->w + g->pw) ? sx + g->kw : (long)(g->w + g->pw);
	return (float)((ey - sy) * (ex - sx));
}

static void avgpool2d(const struct blob_op *op, const float *x, float *y, size_t n, struct fwd_scratch *s)
{
	const struct blob_geom *g = &op->g;

	(void)s;
	for (size_t pl = 0; pl < n * g->c; pl++) {
		const float *xp = x + pl * g->h * g->w;
		for (uint32_t oy = 0; oy < g->oh; oy++) {
			long sy = (long)oy * g->sh - g->ph;
			uint32_t y0, y1, x0, x1;
			taps(sy, g->h, g->kh, 1, &y0, &y1);
			for (uint32_t ox = 0; ox < g->ow; ox++) {
				long sx = (long)ox * g->sw - g->pw;
				taps(sx, g->w, g->kw, 1, &x0, &x1);
				float sum = 0.0f;
				for (uint32_t jy = y0; jy < y1; jy++) {
					const float *row = xp + (size_t)(sy + jy) * g->w;
					for (uint32_t jx = x0; jx < x1; jx++)
						sum += row[sx + jx];
				}
				*y++ = sum / avg_divisor(g, sy, sx, y1 - y0, x1 - x0);
			}
		}
	}
}

/* Adaptive pooling: output i of n_out covers [floor(i*n/n_out), ceil((i+1)*n/n_out)). */
static void adaptive_pool(const struct blob_op *op, const float *x, float *y, size_t n, int avg)
{
	const struct blob_geom *g = &op->g;
	size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;

	for (size_t r = 0; r < n; r++)
		for (uint32_t oy = 0; oy < g->oh; oy++) {
			size_t y0 = (size_t)oy * g->h / g->oh, y1 = ((size_t)(oy + 1) * g->h + g->oh - 1) / g->oh;
			for (uint32_t ox = 0; ox < g->ow; ox++) {
				size_t x0 = (size_t)ox * g->w / g->ow, x1 = ((size_t)(ox + 1) * g->w + g->ow - 1) / g->ow;
				for (uint32_t ci = 0; ci < g->c; ci++) {
					const float *xp = x + r * op->in + ci * hw;
					float acc = avg ? 0.0f : -INFINITY;
					int nan = 0;
					for (size_t iy = y0; iy < y1; iy++)
						for (size_t ix = x0; ix < x1; ix++) {
							float v = xp[iy * g->w + ix];
							nan |= v != v;
							acc = avg ? acc + v : max2(acc, v);
						}
					if (avg)   /* as torch: sum / kh / kw */
						acc = acc / (float)(y1 - y0) / (float)(x1 - x0);
					else if (nan)
						acc = NAN;
					y[r * op->out + ci * ohw + (size_t)oy * g->ow + ox] = acc;
				}
			}
		}
}

static void adaptive_avgpool2d(const struct blob_op *op, const float *x, float *y, size_t n,
			       struct fwd_scratch *s)
{
	(void)s;
	adaptive_pool(op, x, y, n, 1);
}

static void adaptive_maxpool2d(const struct blob_op *op, const float *x, float *y, size_t n,
			       struct fwd_scratch *s)
{
	(void)s;
	adaptive_pool(op, x, y, n, 0);
}

/* An unfolded BatchNorm: y[c][p] = x[c][p]*scale[c] + shift[c]. */
static void scale_shift(const struct blob_op *op, const float *x, float *y, size_t n, struct fwd_scratch *s)
{
	size_t hw = (size_t)op->g.h * op->g.w;

	(void)s;
	for (size_t pl = 0; pl < n * op->g.c; pl++) {
		float a = op->weight[pl % op->g.c], b = op->bias[pl % op->g.c];
		for (size_t p = 0; p < hw; p++)
			y[pl * hw + p] = x[pl * hw + p] * a + b;
	}
}

/* The ops that write a new buffer; the others are element-wise, in place. */
typedef void op_fn(const struct blob_op *op, const float *x, float *y, size_t n, struct fwd_scratch *s);
static op_fn *const producers[BLOB_OP_KIND_END] = {
	[BLOB_OP_LINEAR] = linear,
	[BLOB_OP_CONV2D] = conv2d,
	[BLOB_OP_MAXPOOL2D] = maxpool2d,
	[BLOB_OP_AVGPOOL2D] = avgpool2d,
	[BLOB_OP_ADAPTIVE_AVGPOOL2D] = adaptive_avgpool2d,
	[BLOB_OP_ADAPTIVE_MAXPOOL2D] = adaptive_maxpool2d,
	[BLOB_OP_SCALE_SHIFT] = scale_shift,
};

/* The im2col buffer, when a convolution needs one: FWD_COL_MAX_BYTES, of
 * which the pages past the largest chunk are never touched. */
static int reserve_col(const struct blob_model *m, size_t n, struct fwd_scratch *s)
{
	size_t need = 0, samples, positions;
	for (uint32_t i = 0; i < m->nops; i++)
		if (m->ops[i].kind == BLOB_OP_CONV2D) {
			size_t c = conv_chunks(&m->ops[i].g, n, &samples, &positions);
			need = c > need ? c : need;
		}
	if (need == 0 || s->buf[2])
		return need <= FWD_COL_MAX_BYTES / sizeof(float) ? 0 : -1;
	if (need > FWD_COL_MAX_BYTES / sizeof(float) ||
	    posix_memalign((void **)&s->buf[2], 64, FWD_COL_MAX_BYTES) != 0)
		return -1;
	return 0;
}

float *fwd_run(const struct blob_model *m, const float *x, size_t n,
	       struct fwd_scratch *s)
{
	size_t widest = 1;
	for (uint32_t i = 0; i < m->nops; i++)
		if (m->ops[i].out > widest)
			widest = m->ops[i].out;
	if (n == 0 || n > FWD_MAX_SCRATCH / sizeof(float) / widest || reserve(s, n * widest) < 0 ||
	    reserve_col(m, n, s) < 0)
		return NULL;

	const float *in = x;
	float *out = NULL;
	int next = 0;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		op_fn *produce = op->kind < BLOB_OP_KIND_END ? producers[op->kind] : NULL;
		if (produce || !out) {
			out = s->buf[next];
			next ^= 1;
			if (produce)
				produce(op, in, out, n, s);
			else   /* an activation first: copy once, never touch x */
				memcpy(out, in, n * op->in * sizeof(float));
		}
		if (!produce)
			activate(op, out, n);
		in = out;
	}
	return out;
}

void fwd_scratch_free(struct fwd_scratch *s)
{
	free(s->buf[0]);
	free(s->buf[1]);
	free(s->buf[2]);
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
	openblas_set_num_threads(n < 1 ? 1 : n);
}

const char *fwd_blas_core(void)
{
	return openblas_get_corename();
}

void fwd_sgemm_rowmajor_nt(size_t n, size_t out, size_t in, const float *x, const float *w, float beta,
			   float *y)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)out, (blasint)in, 1.0f, x,
		    (blasint)in, w, (blasint)in, beta, y, (blasint)out);
}
