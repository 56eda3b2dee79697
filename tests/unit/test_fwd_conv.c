/* test_fwd_conv.c - model/fwd.c's spatial ops (convolution, pooling,
 * scale-shift) against a direct double-precision reference written from
 * torch's definitions, over many geometries, batch sizes and im2col chunk
 * sizes.  Includes fwd.c to lower the im2col bound (col_max_bytes). */
#include "tests/unit/unit.h"

#include "model/fwd.c"

static unsigned rng = 4242;
static float frand(void)   /* uniform in [-1, 1) */
{
	rng = rng * 1103515245u + 12345u;
	return (float)((rng >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static float *randoms(size_t n)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = frand();
	return p;
}

/* torch's output size along one axis. */
static long out_size(long n, long k, long s, long p, long d, int ceil_mode)
{
	long span = n + 2 * p - d * (k - 1) - 1;
	if (span < 0)
		return 0;
	long o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
	if (ceil_mode && (o - 1) * s >= n + p)   /* the last window must start inside */
		o--;
	return o;
}

static struct blob_geom geom(uint32_t c, uint32_t h, uint32_t w, uint32_t oc, uint32_t kh, uint32_t kw, uint32_t s,
			     uint32_t p, uint32_t d, int ceil_mode)
{
	struct blob_geom g = { c, h, w, oc, 0, 0, kh, kw, s, s, p, p, d, d, 0, 0 };
	g.oh = (uint32_t)out_size(h, kh, s, p, d, ceil_mode);
	g.ow = (uint32_t)out_size(w, kw, s, p, d, ceil_mode);
	g.flags = ceil_mode ? BLOB_GEOM_CEIL_MODE : 0;
	return g;
}

/* ---- the reference: one output value at a time, in double ---- */

static double ref_conv(const struct blob_op *op, const float *x, uint32_t o, long oy, long ox)
{
	const struct blob_geom *g = &op->g;
	double acc = op->bias ? op->bias[o] : 0;
	for (uint32_t ci = 0; ci < g->c; ci++)
		for (long ky = 0; ky < g->kh; ky++)
			for (long kx = 0; kx < g->kw; kx++) {
				long iy = oy * g->sh - g->ph + ky * g->dh, ix = ox * g->sw - g->pw + kx * g->dw;
				if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
					continue;
				acc += (double)op->weight[((o * g->c + ci) * g->kh + ky) * g->kw + kx] *
				       x[(ci * g->h + iy) * g->w + ix];
			}
	return acc;
}

static double ref_maxpool(const struct blob_geom *g, const float *x, long oy, long ox)
{
	double m = -INFINITY;
	for (long ky = 0; ky < g->kh; ky++)
		for (long kx = 0; kx < g->kw; kx++) {
			long iy = oy * g->sh - g->ph + ky * g->dh, ix = ox * g->sw - g->pw + kx * g->dw;
			if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w && x[iy * g->w + ix] > m)
				m = x[iy * g->w + ix];
		}
	return m;
}

/* torch's avg_pool2d: the window clipped to the padded input gives the
 * count_include_pad divisor, clipped to the input the other one. */
static double ref_avgpool(const struct blob_geom *g, const float *x, long oy, long ox)
{
	long y0 = oy * g->sh - g->ph, x0 = ox * g->sw - g->pw;
	long y1 = y0 + g->kh < g->h + g->ph ? y0 + g->kh : g->h + g->ph;
	long x1 = x0 + g->kw < g->w + g->pw ? x0 + g->kw : g->w + g->pw;
	long padded = (y1 - y0) * (x1 - x0);
	y0 = y0 < 0 ? 0 : y0;
	x0 = x0 < 0 ? 0 : x0;
	y1 = y1 > g->h ? g->h : y1;
	x1 = x1 > g->w ? g->w : x1;
	double sum = 0;
	for (long iy = y0; iy < y1; iy++)
		for (long ix = x0; ix < x1; ix++)
			sum += x[iy * g->w + ix];
	long div = g->divisor ? g->divisor : (g->flags & BLOB_GEOM_COUNT_PAD) ? padded : (y1 - y0) * (x1 - x0);
	return sum / (double)div;
}

static double ref_adaptive(const struct blob_geom *g, const float *x, long oy, long ox, int avg)
{
	long y0 = (long)floor((double)oy * g->h / g->oh), y1 = (long)ceil((double)(oy + 1) * g->h / g->oh);
	long x0 = (long)floor((double)ox * g->w / g->ow), x1 = (long)ceil((double)(ox + 1) * g->w / g->ow);
	double acc = avg ? 0 : -INFINITY;
	for (long iy = y0; iy < y1; iy++)
		for (long ix = x0; ix < x1; ix++)
			acc = avg ? acc + x[iy * g->w + ix] : fmax(acc, x[iy * g->w + ix]);
	return avg ? acc / (double)((y1 - y0) * (x1 - x0)) : acc;
}

static double ref_value(const struct blob_op *op, const float *x, uint32_t o, long oy, long ox)
{
	const struct blob_geom *g = &op->g;
	const float *plane = x + (size_t)o * g->h * g->w;
	switch (op->kind) {
	case BLOB_OP_CONV2D: return ref_conv(op, x, o, oy, ox);
	case BLOB_OP_MAXPOOL2D: return ref_maxpool(g, plane, oy, ox);
	case BLOB_OP_AVGPOOL2D: return ref_avgpool(g, plane, oy, ox);
	case BLOB_OP_ADAPTIVE_AVGPOOL2D: return ref_adaptive(g, plane, oy, ox, 1);
	case BLOB_OP_ADAPTIVE_MAXPOOL2D: return ref_adaptive(g, plane, oy, ox, 0);
	case BLOB_OP_SCALE_SHIFT: return (double)plane[oy * g->w + ox] * op->weight[o] + op->bias[o];
	}
	return NAN;
}

/* One op over n rows, by fwd_run and by the reference: the largest
 * difference relative to 1 + |reference|.  The op's widths follow g. */
static double op_diff(struct blob_op *op, size_t n, struct fwd_scratch *s)
{
	const struct blob_geom *g = &op->g;
	struct blob_model m;

	memset(&m, 0, sizeof m);
	op->in = g->c * g->h * g->w;
	op->out = g->oc * g->oh * g->ow;
	m.nops = 1;
	m.ops[0] = *op;
	m.input_width = op->in;
	m.output_width = op->out;
	float *x = randoms(n * op->in);
	const float *y = fwd_run(&m, x, n, s);
	double worst = y ? 0 : INFINITY;
	for (size_t r = 0; y && r < n; r++)
		for (uint32_t o = 0; o < g->oc; o++)
			for (uint32_t oy = 0; oy < g->oh; oy++)
				for (uint32_t ox = 0; ox < g->ow; ox++) {
					double want = ref_value(op, x + r * op->in, o, oy, ox);
					double got = y[r * op->out + ((size_t)o * g->oh + oy) * g->ow + ox];
					double d = fabs(got - want) / (1 + fabs(want));
					worst = d > worst || d != d ? d : worst;
				}
	free(x);
	return worst;
}

/* A convolution with random weights, bias or not. */
static struct blob_op conv_op(struct blob_geom g, int bias, float **mem)
{
	struct blob_op op = { .kind = BLOB_OP_CONV2D, .g = g };
	mem[0] = randoms((size_t)g.oc * g.c * g.kh * g.kw);
	mem[1] = bias ? randoms(g.oc) : NULL;
	op.weight = mem[0];
	op.bias = mem[1];
	return op;
}

/* Every chunking: the default bound, two samples a chunk (the batched
 * sgemm and its scatter), and 3 positions a chunk (partial rows); the
 * im2col buffer stays within each bound. */
static void check_conv_all_chunkings(struct blob_geom g, int bias, size_t n, struct fwd_scratch *unused)
{
	float *mem[2];
	struct blob_op op = conv_op(g, bias, mem);
	size_t k = (size_t)g.c * g.kh * g.kw, ohw = (size_t)g.oh * g.ow;
	size_t limits[3] = { FWD_COL_MAX_BYTES, 2 * (k + g.oc) * ohw * sizeof(float), 3 * k * sizeof(float) };
	(void)unused;
	for (int l = 0; l < 3; l++) {
		struct fwd_scratch s = { 0 };
		col_max_bytes = col_batch_bytes = limits[l];
		batch_below = l == 1 ? SIZE_MAX : 32;
		double d = op_diff(&op, n, &s);
		CHECKF(d <= 1e-5, "conv %ux%ux%u -> %ux%ux%u k %ux%u s %u p %u d %u bias %d n %zu limit %zu: diff %g",
		       g.c, g.h, g.w, g.oc, g.oh, g.ow, g.kh, g.kw, g.sh, g.ph, g.dh, bias, n, limits[l], d);
		size_t samples, positions, floats = conv_chunks(&g, n, &samples, &positions);
		CHECKF(floats * sizeof(float) <= limits[l], "im2col chunk %zu bytes, bound %zu",
		       floats * sizeof(float), limits[l]);
		fwd_scratch_free(&s);
	}
	col_max_bytes = FWD_COL_MAX_BYTES;
	col_batch_bytes = 256 << 10;
	batch_below = 32;
	free(mem[0]);
	free(mem[1]);
}

static void test_conv_geometries(void)
{
	struct fwd_scratch s = { 0 };
	int cases = 0;
	for (uint32_t k = 1; k <= 5; k++)
		for (uint32_t st = 1; st <= 3; st++)
			for (uint32_t p = 0; p <= 2; p++)
				for (uint32_t d = 1; d <= 2; d++) {
					/* asymmetric kernels, non-square input */
					struct blob_geom g = geom(2, 7, 8, 3, k, 6 - k, st, p, d, 0);
					if (g.oh < 1 || g.ow < 1)
						continue;
					check_conv_all_chunkings(g, (int)(k + p) % 2, 1 + cases % 9, &s);
					cases++;
				}
	CHECKF(cases > 70, "only %d geometries", cases);
	fwd_scratch_free(&s);
}

/* Stride 2 over rows wide enough for the four-at-a-time gather, with every
 * alignment of its first tap and row ends that stop it early (odd and even
 * widths, padding, dilation). */
static void test_conv_stride2_wide(void)
{
	struct fwd_scratch s = { 0 };
	int cases = 0;
	for (uint32_t w = 27; w <= 30; w++)
		for (uint32_t k = 1; k <= 5; k++)
			for (uint32_t p = 0; p <= 2; p++)
				for (uint32_t d = 1; d <= 2; d++) {
					struct blob_geom g = geom(2, 5, w, 3, k, k, 2, p, d, 0);
					if (g.oh < 1 || g.ow < 1)
						continue;
					check_conv_all_chunkings(g, (int)(w + k) % 2, 1 + cases % 4, &s);
					cases++;
				}
	CHECKF(cases > 100, "only %d geometries", cases);
	fwd_scratch_free(&s);
}

/* padding="same" (stride 1): torch pads d*(k-1) in total, the odd one
 * after; oh == h. */
static void test_conv_same_padding(void)
{
	struct fwd_scratch s = { 0 };
	for (uint32_t k = 1; k <= 5; k++)
		for (uint32_t d = 1; d <= 2; d++) {
			uint32_t total = d * (k - 1);
			struct blob_geom g = { 3, 6, 5, 4, 6, 5, k, k, 1, 1, total / 2, total / 2, d, d, 0, 0 };
			check_conv_all_chunkings(g, 1, 4, &s);
		}
	fwd_scratch_free(&s);
}

/* 1x1, stride 1, no padding: the sgemm reads the input in place. */
static void test_conv_pointwise(void)
{
	struct fwd_scratch s = { 0 };
	struct blob_geom g = geom(5, 4, 3, 7, 1, 1, 1, 0, 1, 0);
	CHECK(conv_is_pointwise(&g));
	check_conv_all_chunkings(g, 1, 3, &s);
	check_conv_all_chunkings(g, 0, 1, &s);
	fwd_scratch_free(&s);
}

/* The default bounds: small samples share an sgemm a few at a time,
 * large ones go one at a time, and a huge one in chunks of positions. */
static void test_conv_default_bound_chunks(void)
{
	struct { struct blob_geom g; size_t n, min_samples, max_samples, max_positions; } cases[] = {
		{ geom(32, 4, 4, 16, 3, 3, 1, 1, 1, 0), 60, 2, 59, 16 },
		{ geom(16, 28, 28, 32, 3, 3, 1, 1, 1, 0), 5, 1, 1, 784 },
		{ geom(16, 64, 64, 4, 5, 5, 1, 2, 1, 0), 2, 1, 1, 4095 },   /* 6.4 MB of columns a sample */
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct fwd_scratch s = { 0 };
		size_t samples, positions;
		size_t floats = conv_chunks(&cases[c].g, cases[c].n, &samples, &positions);
		CHECKF(samples >= cases[c].min_samples && samples <= cases[c].max_samples &&
		       positions <= cases[c].max_positions && floats * sizeof(float) <= FWD_COL_MAX_BYTES,
		       "case %zu: %zu samples, %zu positions a chunk, %zu floats", c, samples, positions, floats);
		float *mem[2];
		struct blob_op op = conv_op(cases[c].g, 1, mem);
		double d = op_diff(&op, cases[c].n, &s);
		CHECKF(d <= 1e-5, "case %zu: diff %g", c, d);
		free(mem[0]);
		free(mem[1]);
		fwd_scratch_free(&s);
	}
}

static void check_pool(uint32_t kind, struct blob_geom g, size_t n, struct fwd_scratch *s)
{
	struct blob_op op = { .kind = kind, .g = g };
	double d = op_diff(&op, n, s);
	CHECKF(d <= 1e-5, "%s %ux%u -> %ux%u k %ux%u s %u p %u d %u flags %u divisor %u n %zu: diff %g",
	       blob_op_name(kind), g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.ph, g.dh, g.flags, g.divisor, n, d);
}

static void test_maxpool_geometries(void)
{
	struct fwd_scratch s = { 0 };
	int cases = 0;
	for (uint32_t k = 1; k <= 5; k++)
		for (uint32_t st = 1; st <= 3; st++)
			for (uint32_t d = 1; d <= 2; d++)
				for (uint32_t p = 0; p <= ((k - 1) * d + 1) / 2 && p <= 2; p++)
					for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++) {
						struct blob_geom g = geom(3, 7, 9, 3, k, k, st, p, d, ceil_mode);
						if (g.oh < 1 || g.ow < 1)
							continue;
						check_pool(BLOB_OP_MAXPOOL2D, g, 1 + cases % 9, &s);
						cases++;
					}
	CHECKF(cases > 80, "only %d geometries", cases);
	/* The 2x2 fast path, and the odd size that leaves it (ceil mode). */
	struct blob_geom g = geom(4, 8, 6, 4, 2, 2, 2, 0, 1, 0);
	CHECK(maxpool_is_2x2(&g));
	check_pool(BLOB_OP_MAXPOOL2D, g, 5, &s);
	g = geom(4, 7, 7, 4, 2, 2, 2, 0, 1, 0);
	CHECK(maxpool_is_2x2(&g));
	check_pool(BLOB_OP_MAXPOOL2D, g, 3, &s);
	g = geom(4, 7, 7, 4, 2, 2, 2, 0, 1, 1);
	CHECK(!maxpool_is_2x2(&g) && g.oh == 4);
	check_pool(BLOB_OP_MAXPOOL2D, g, 3, &s);
	fwd_scratch_free(&s);
}

static void test_avgpool_geometries(void)
{
	struct fwd_scratch s = { 0 };
	int cases = 0;
	for (uint32_t k = 1; k <= 5; k++)
		for (uint32_t st = 1; st <= 3; st++)
			for (uint32_t p = 0; p <= k / 2 && p <= 2; p++)
				for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++)
					for (int cip = 0; cip <= 1; cip++)
						for (uint32_t div = 0; div <= 3; div += 3) {
							struct blob_geom g = geom(2, 8, 7, 2, k, k, st, p, 1, ceil_mode);
							if (g.oh < 1 || g.ow < 1)
								continue;
							g.flags |= cip ? BLOB_GEOM_COUNT_PAD : 0;
							g.divisor = div;
							check_pool(BLOB_OP_AVGPOOL2D, g, 1 + cases % 9, &s);
							cases++;
						}
	CHECKF(cases > 150, "only %d geometries", cases);
	fwd_scratch_free(&s);
}

static void test_adaptive_pools(void)
{
	struct fwd_scratch s = { 0 };
	const uint32_t sizes[][4] = { { 7, 5, 3, 2 }, { 5, 7, 2, 3 }, { 6, 6, 4, 4 }, { 4, 3, 6, 5 },
				      { 7, 7, 1, 1 }, { 1, 1, 1, 1 }, { 9, 4, 9, 4 } };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct blob_geom g = { 3, sizes[i][0], sizes[i][1], 3, sizes[i][2], sizes[i][3], 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 0 };
		check_pool(BLOB_OP_ADAPTIVE_AVGPOOL2D, g, 1 + i, &s);
		check_pool(BLOB_OP_ADAPTIVE_MAXPOOL2D, g, 1 + i, &s);
	}
	fwd_scratch_free(&s);
}

static void test_scale_shift(void)
{
	struct fwd_scratch s = { 0 };
	struct blob_geom g = { 4, 3, 5, 4, 3, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	float *scale = randoms(4), *shift = randoms(4);
	struct blob_op op = { .kind = BLOB_OP_SCALE_SHIFT, .weight = scale, .bias = shift, .g = g };
	for (size_t n = 1; n <= 9; n += 4) {
		double d = op_diff(&op, n, &s);
		CHECKF(d <= 1e-6, "n %zu: diff %g", n, d);
	}
	free(scale);
	free(shift);
	fwd_scratch_free(&s);
}

/* torch's max pooling answers NaN for a window that holds one. */
static void test_maxpool_nan(void)
{
	struct fwd_scratch s = { 0 };
	struct blob_geom geoms[3] = { geom(1, 4, 4, 1, 2, 2, 2, 0, 1, 0), geom(1, 4, 4, 1, 3, 3, 1, 1, 1, 0),
				      { 1, 4, 4, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
	uint32_t kinds[3] = { BLOB_OP_MAXPOOL2D, BLOB_OP_MAXPOOL2D, BLOB_OP_ADAPTIVE_MAXPOOL2D };
	for (int i = 0; i < 3; i++) {
		struct blob_model m;
		memset(&m, 0, sizeof m);
		m.nops = 1;
		m.ops[0] = (struct blob_op){ .kind = kinds[i], .in = 16, .g = geoms[i] };
		m.ops[0].out = geoms[i].oh * geoms[i].ow;
		m.input_width = 16;
		m.output_width = m.ops[0].out;
		float x[16];
		for (int j = 0; j < 16; j++)
			x[j] = (float)j;
		x[1] = NAN;   /* in the first window, not in the last; not its first value */
		const float *y = fwd_run(&m, x, 1, &s);
		CHECK(y != NULL);
		if (!y)
			continue;
		CHECKF(isnan(y[0]), "%s: %g", blob_op_name(kinds[i]), y[0]);
		CHECKF(!isnan(y[m.output_width - 1]) && y[m.output_width - 1] == 15.0f, "%s: last %g",
		       blob_op_name(kinds[i]), y[m.output_width - 1]);
	}
	fwd_scratch_free(&s);
}

/* A whole CNN through fwd_run against the reference op by op: the
 * ping-pong buffers, the widest op, activations after spatial ops, a
 * Linear reading the NCHW flattening, and x left untouched. */
static void test_cnn_chain(void)
{
	struct fwd_scratch s = { 0 };
	struct blob_model m;
	float *mem[4][2] = { { 0 } };

	memset(&m, 0, sizeof m);
	struct blob_geom g[4] = { geom(1, 12, 12, 6, 3, 3, 1, 1, 1, 0), geom(6, 12, 12, 6, 2, 2, 2, 0, 1, 0),
				  geom(6, 6, 6, 8, 3, 3, 2, 1, 1, 0), geom(8, 3, 3, 8, 2, 2, 1, 1, 1, 1) };
	g[3].flags |= BLOB_GEOM_COUNT_PAD;
	m.ops[0] = conv_op(g[0], 1, mem[0]);
	m.ops[1] = (struct blob_op){ .kind = BLOB_OP_RELU };
	m.ops[2] = (struct blob_op){ .kind = BLOB_OP_MAXPOOL2D, .g = g[1] };
	m.ops[3] = conv_op(g[2], 0, mem[2]);
	m.ops[4] = (struct blob_op){ .kind = BLOB_OP_AVGPOOL2D, .g = g[3] };
	m.ops[5] = (struct blob_op){ .kind = BLOB_OP_LINEAR };
	uint32_t width = 144;
	for (int i = 0; i < 5; i++) {
		struct blob_op *op = &m.ops[i];
		op->in = width;
		op->out = op->kind == BLOB_OP_RELU ? width : op->g.oc * op->g.oh * op->g.ow;
		width = op->out;
	}
	m.ops[5].in = width;
	m.ops[5].out = 5;
	mem[3][0] = randoms((size_t)width * 5);
	m.ops[5].weight = mem[3][0];
	m.nops = 6;
	m.input_width = 144;
	m.output_width = 5;

	size_t n = 7;
	float *x = randoms(n * 144), *copy = malloc(n * 144 * sizeof *copy);
	memcpy(copy, x, n * 144 * sizeof *copy);
	const float *y = fwd_run(&m, x, n, &s);
	CHECK(y != NULL);
	CHECK(memcmp(x, copy, n * 144 * sizeof *x) == 0);
	double worst = 0;
	for (size_t r = 0; y && r < n; r++) {
		/* the reference, op by op, in float between ops like torch */
		float cur[6 * 144], nxt[6 * 144];
		memcpy(cur, x + r * 144, 144 * sizeof *cur);
		for (int i = 0; i < 5; i++) {
			const struct blob_op *op = &m.ops[i];
			for (uint32_t j = 0; j < op->out; j++) {
				if (op->kind == BLOB_OP_RELU) {
					nxt[j] = cur[j] > 0 ? cur[j] : 0;
					continue;
				}
				uint32_t ohw = op->g.oh * op->g.ow;
				nxt[j] = (float)ref_value(op, cur, j / ohw, j % ohw / op->g.ow, j % op->g.ow);
			}
			memcpy(cur, nxt, op->out * sizeof *cur);
		}
		for (uint32_t o = 0; o < 5; o++) {
			double want = 0;
			for (uint32_t j = 0; j < width; j++)
				want += (double)m.ops[5].weight[o * width + j] * cur[j];
			worst = fmax(worst, fabs(y[r * 5 + o] - want) / (1 + fabs(want)));
		}
	}
	CHECKF(worst <= 1e-5, "diff %g", worst);
	free(x);
	free(copy);
	for (int i = 0; i < 4; i++) {
		free(mem[i][0]);
		free(mem[i][1]);
	}
	fwd_scratch_free(&s);
}

int main(void)
{
	fwd_set_threads(1);
	RUN(test_conv_geometries);
	RUN(test_conv_stride2_wide);
	RUN(test_conv_same_padding);
	RUN(test_conv_pointwise);
	RUN(test_conv_default_bound_chunks);
	RUN(test_maxpool_geometries);
	RUN(test_avgpool_geometries);
	RUN(test_adaptive_pools);
	RUN(test_scale_shift);
	RUN(test_maxpool_nan);
	RUN(test_cnn_chain);
	return unit_done();
}
