/* test_fwd.c - model/fwd.c against a plain double-precision reference. */
#include "tests/unit/unit.h"

#include "model/fwd.h"

#include <stdlib.h>
#include <strings.h>

static unsigned rng = 12345;
static float frand(void)   /* uniform in [-1, 1) */
{
	rng = rng * 1103515245u + 12345u;
	return (float)((rng >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

/* Reference: every op in double, straight from its definition. */
static void reference(const struct blob_model *m, const float *x, size_t n, double *y)
{
	size_t width = m->input_width;
	double *cur = malloc(n * 4096 * sizeof *cur), *nxt = malloc(n * 4096 * sizeof *nxt);
	for (size_t i = 0; i < n * width; i++)
		cur[i] = x[i];
	for (uint32_t k = 0; k < m->nops; k++) {
		const struct blob_op *op = &m->ops[k];
		for (size_t r = 0; r < n; r++) {
			double *a = cur + r * op->in, *b = nxt + r * op->out;
			double mx = a[0], sum = 0;
			for (size_t j = 1; j < op->in; j++)
				mx = a[j] > mx ? a[j] : mx;
			for (size_t j = 0; j < op->in; j++)
				sum += exp(a[j] - mx);
			for (size_t o = 0; o < op->out; o++) {
				double v = a[o < op->in ? o : 0];
				switch (op->kind) {
				case BLOB_OP_LINEAR:
					v = op->bias ? op->bias[o] : 0;
					for (size_t j = 0; j < op->in; j++)
						v += (double)op->weight[o * op->in + j] * a[j];
					break;
				case BLOB_OP_RELU: v = v > 0 ? v : 0; break;
				case BLOB_OP_LEAKY_RELU: v = v > 0 ? v : v * op->param; break;
				case BLOB_OP_TANH: v = tanh(v); break;
				case BLOB_OP_SIGMOID: v = 1 / (1 + exp(-v)); break;
				case BLOB_OP_GELU: v = 0.5 * v * (1 + erf(v / sqrt(2))); break;
				case BLOB_OP_GELU_TANH:
					v = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
					break;
				case BLOB_OP_ELU: v = v > 0 ? v : op->param * (exp(v) - 1); break;
				case BLOB_OP_SOFTMAX: v = exp(v - mx) / sum; break;
				case BLOB_OP_LOG_SOFTMAX: v = v - mx - log(sum); break;
				}
				b[o] = v;
			}
		}
		double *t = cur;
		cur = nxt;
		nxt = t;
		width = op->out;
	}
	memcpy(y, cur, n * width * sizeof *y);
	free(cur);
	free(nxt);
}

struct built {
	struct blob_model m;
	float *mem[BLOB_MAX_OPS][2];
};

/* kinds: a list of op kinds; Linear widths come from `widths`. */
static void build(struct built *b, uint32_t in, const int *kinds, int nk, const uint32_t *widths)
{
	memset(b, 0, sizeof *b);
	b->m.input_width = in;
	uint32_t w = in;
	int li = 0;
	for (int k = 0; k < nk; k++) {
		struct blob_op *op = &b->m.ops[k];
		op->kind = (uint32_t)kinds[k];
		op->in = w;
		op->out = kinds[k] == BLOB_OP_LINEAR ? widths[li++] : w;
		op->param = kinds[k] == BLOB_OP_ELU ? 0.7f : 0.2f;
		if (kinds[k] == BLOB_OP_LINEAR) {
			float *wt = malloc((size_t)op->in * op->out * sizeof *wt);
			float *bs = (k % 2) ? NULL : malloc(op->out * sizeof *bs);
			for (size_t i = 0; i < (size_t)op->in * op->out; i++)
				wt[i] = frand() * 0.5f;
			for (size_t i = 0; bs && i < op->out; i++)
				bs[i] = frand();
			op->weight = wt;
			op->bias = bs;
			b->mem[k][0] = wt;
			b->mem[k][1] = bs;
		}
		w = op->out;
	}
	b->m.nops = (uint32_t)nk;
	b->m.output_width = w;
}

static void unbuild(struct built *b)
{
	for (int k = 0; k < BLOB_MAX_OPS; k++) {
		free(b->mem[k][0]);
		free(b->mem[k][1]);
	}
}

static double max_diff(const struct blob_model *m, size_t n, struct fwd_scratch *s)
{
	float *x = malloc(n * m->input_width * sizeof *x);
	double *want = malloc(n * 4096 * sizeof *want);
	for (size_t i = 0; i < n * m->input_width; i++)
		x[i] = frand() * 2.0f;
	reference(m, x, n, want);
	const float *got = fwd_run(m, x, n, s);
	double worst = got ? 0 : INFINITY;
	for (size_t i = 0; got && i < n * m->output_width; i++)
		worst = fmax(worst, fabs(got[i] - want[i]));
	free(x);
	free(want);
	return worst;
}

static void test_every_activation_matches_reference(void)
{
	struct fwd_scratch s = { 0 };
	int acts[] = { BLOB_OP_RELU, BLOB_OP_LEAKY_RELU, BLOB_OP_TANH, BLOB_OP_SIGMOID, BLOB_OP_GELU,
		       BLOB_OP_GELU_TANH, BLOB_OP_ELU, BLOB_OP_SOFTMAX, BLOB_OP_LOG_SOFTMAX };
	for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
		int kinds[] = { BLOB_OP_LINEAR, acts[a], BLOB_OP_LINEAR, acts[a] };
		uint32_t widths[] = { 33, 7 };
		struct built b;
		build(&b, 50, kinds, 4, widths);
		size_t sizes[] = { 1, 2, 64, 5 };   /* shrinking after growing reuses scratch */
		for (size_t k = 0; k < 4; k++) {
			double d = max_diff(&b.m, sizes[k], &s);
			CHECKF(d < 1e-5, "%s n=%zu: max diff %g", blob_op_name((uint32_t)acts[a]), sizes[k], d);
		}
		unbuild(&b);
	}
	fwd_scratch_free(&s);
}

static void test_tutorial_shape_and_leading_activation(void)
{
	struct fwd_scratch s = { 0 };
	struct built b;
	int kinds[] = { BLOB_OP_LINEAR, BLOB_OP_RELU, BLOB_OP_LINEAR };
	uint32_t widths[] = { 20, 10 };
	build(&b, 784, kinds, 3, widths);
	CHECK(max_diff(&b.m, 200, &s) < 1e-4);
	unbuild(&b);

	/* An activation before any Linear must not write into the caller's x. */
	int k2[] = { BLOB_OP_TANH, BLOB_OP_LINEAR };
	uint32_t w2[] = { 3 };
	build(&b, 4, k2, 2, w2);
	float x[8] = { 1, 2, 3, 4, -1, -2, -3, -4 }, copy[8];
	memcpy(copy, x, sizeof x);
	CHECK(fwd_run(&b.m, x, 2, &s) != NULL);
	CHECK(memcmp(x, copy, sizeof x) == 0);
	CHECK(max_diff(&b.m, 9, &s) < 1e-5);
	unbuild(&b);
	fwd_scratch_free(&s);
}

static void test_limits(void)
{
	struct fwd_scratch s = { 0 };
	struct built b;
	int kinds[] = { BLOB_OP_LINEAR };
	uint32_t widths[] = { 4 };
	build(&b, 4, kinds, 1, widths);
	float x[4] = { 0 };
	CHECK(fwd_run(&b.m, x, 0, &s) == NULL);
	/* More rows than the scratch cap allows fails cleanly, allocating nothing. */
	CHECK(fwd_run(&b.m, x, FWD_MAX_SCRATCH, &s) == NULL);
	CHECK(s.cap == 0);
	unbuild(&b);
}

static void test_softmax_argmax(void)
{
	float y[6] = { 1000, 1000, 999, -5, 0, 5 };
	CHECK_INT(fwd_argmax(y, 3), 0);   /* first of ties, as torch */
	CHECK_INT(fwd_argmax(y + 3, 3), 2);
	fwd_softmax_rows(y, 2, 3);
	CHECK(isfinite(y[0]) && fabsf(y[0] + y[1] + y[2] - 1) < 1e-6f);
	CHECK(fabsf(y[3] + y[4] + y[5] - 1) < 1e-6f);
	CHECK(y[0] == y[1] && y[2] < y[0]);
}

/* ReLU's edge values, as torch.relu gives them: negatives (-0.0 and -inf
 * too) become +0.0, NaN of either sign stays NaN, the rest pass. */
static void test_relu_edges(void)
{
	struct fwd_scratch s = { 0 };
	struct built b;
	int kinds[] = { BLOB_OP_RELU };
	build(&b, 8, kinds, 1, NULL);
	float x[8] = { -0.0f, -INFINITY, INFINITY, NAN, -NAN, -1e-45f, 1e-45f, -3.0f };
	const float *y = fwd_run(&b.m, x, 1, &s);
	CHECK(y != NULL);
	if (y) {
		CHECK(y[0] == 0.0f && !signbit(y[0]));
		CHECK(y[1] == 0.0f && !signbit(y[1]));
		CHECK(isinf(y[2]) && y[2] > 0);
		CHECK(isnan(y[3]) && isnan(y[4]));
		CHECK(y[5] == 0.0f && !signbit(y[5]));
		CHECK(y[6] == 1e-45f);
		CHECK(y[7] == 0.0f && !signbit(y[7]));
	}
	unbuild(&b);
	fwd_scratch_free(&s);
}

/* fwd.c names OpenBLAS's kernels from the CPU's features before
 * OpenBLAS's constructor runs: OpenBLAS runs the ones named, whether we or
 * the user named them. */
static void test_blas_kernels_named_before_load(void)
{
	const char *want = getenv("OPENBLAS_CORETYPE");
	const char *core = fwd_blas_core();
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		CHECKF(want && strcasecmp(core, "Prescott") != 0, "OpenBLAS runs %s", core);
#endif
	if (want)
		CHECKF(strcasecmp(core, want) == 0, "asked for %s, OpenBLAS runs %s", want, core);
}

int main(void)
{
	RUN(test_blas_kernels_named_before_load);
	fwd_set_threads(1);
	RUN(test_every_activation_matches_reference);
	RUN(test_tutorial_shape_and_leading_activation);
	RUN(test_limits);
	RUN(test_softmax_argmax);
	RUN(test_relu_edges);
	return unit_done();
}
