/*
 * test_pth.c - tools/pth.c on the fixtures of fixtures/pth (made by
 * fixtures/train/make_pth_fixtures.py) and on hostile files assembled here.
 *
 * For each model torch could run, a naive double-precision forward pass
 * over the ops pth_load produced must match torch's output (the .tsv next
 * to the .pth) within 1e-4.  Every refusal is checked by its message.
 */
#include "tests/unit/unit.h"
#include "tools/arch.h"
#include "tools/pth.h"
#include "tools/zip.h"
#include "model/crc32.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define MAXW 1024
#define MAXROWS 8

static struct pth_model m;
static char err[1024];

static void expect_error(const char *file, const char *arch, const char *msg);

/* ---- a naive forward pass -------------------------------------------- */

/* Spatial ops on one [C][H][W] row, straight from torch's definitions. */
static void conv_row(const struct pth_op *op, const double *a, double *b)
{
	const struct blob_geom *g = &op->g;

	for (uint32_t o = 0; o < g->oc; o++)
		for (uint32_t y = 0; y < g->oh; y++)
			for (uint32_t x = 0; x < g->ow; x++) {
				double s = op->bias ? op->bias[o] : 0.0;
				for (uint32_t c = 0; c < g->c; c++)
					for (uint32_t ky = 0; ky < g->kh; ky++)
						for (uint32_t kx = 0; kx < g->kw; kx++) {
							long iy = (long)(y * g->sh + ky * g->dh) - (long)g->ph;
							long ix = (long)(x * g->sw + kx * g->dw) - (long)g->pw;
							if (iy < 0 || ix < 0 || iy >= (long)g->h || ix >= (long)g->w)
								continue;
							s += (double)op->weight[((size_t)o * g->c + c) * g->kh * g->kw +
										ky * g->kw + kx] *
							     a[((size_t)c * g->h + (size_t)iy) * g->w + (size_t)ix];
						}
				b[((size_t)o * g->oh + y) * g->ow + x] = s;
			}
}

static double pool_window(const struct pth_op *op, const double *plane, long y0, long y1, long x0, long x1,
			  long step_y, long step_x, int max)
{
	const struct blob_geom *g = &op->g;
	double mx = -INFINITY, s = 0;
	long n = 0;

	for (long y = y0; y < y1; y += step_y)
		for (long x = x0; x < x1; x += step_x) {
			if (y < 0 || x < 0 || y >= (long)g->h || x >= (long)g->w)
				continue;
			double v = plane[y * (long)g->w + x];
			mx = v > mx ? v : mx;
			s += v;
			n++;
		}
	return max ? mx : n ? s / n : 0;
}

static void pool_row(const struct pth_op *op, const double *a, double *b)
{
	const struct blob_geom *g = &op->g;
	int adaptive = op->kind == BLOB_OP_ADAPTIVE_AVGPOOL2D || op->kind == BLOB_OP_ADAPTIVE_MAXPOOL2D;
	int max = op->kind == BLOB_OP_MAXPOOL2D || op->kind == BLOB_OP_ADAPTIVE_MAXPOOL2D;

	for (uint32_t c = 0; c < g->c; c++)
		for (uint32_t y = 0; y < g->oh; y++)
			for (uint32_t x = 0; x < g->ow; x++) {
				const double *plane = a + (size_t)c * g->h * g->w;
				double *out = &b[((size_t)c * g->oh + y) * g->ow + x];
				long y0, y1, x0, x1;
				if (adaptive) {
					y0 = (long)(y * g->h / g->oh);
					y1 = (long)(((y + 1) * g->h + g->oh - 1) / g->oh);
					x0 = (long)(x * g->w / g->ow);
					x1 = (long)(((x + 1) * g->w + g->ow - 1) / g->ow);
					*out = pool_window(op, plane, y0, y1, x0, x1, 1, 1, max);
					continue;
				}
				y0 = (long)(y * g->sh) - (long)g->ph;
				x0 = (long)(x * g->sw) - (long)g->pw;
				if (max) {
					*out = pool_window(op, plane, y0, y0 + (long)((g->kh - 1) * g->dh + 1), x0,
							   x0 + (long)((g->kw - 1) * g->dw + 1), g->dh, g->dw, 1);
					continue;
				}
				/* torch's avg_pool2d: the divisor counts padding up to h+ph, w+pw */
				y1 = y0 + (long)g->kh < (long)(g->h + g->ph) ? y0 + (long)g->kh : (long)(g->h + g->ph);
				x1 = x0 + (long)g->kw < (long)(g->w + g->pw) ? x0 + (long)g->kw : (long)(g->w + g->pw);
				long pool = (y1 - y0) * (x1 - x0);
				long cy0 = y0 < 0 ? 0 : y0, cx0 = x0 < 0 ? 0 : x0;
				long cy1 = y1 > (long)g->h ? (long)g->h : y1, cx1 = x1 > (long)g->w ? (long)g->w : x1;
				double mean = pool_window(op, plane, cy0, cy1, cx0, cx1, 1, 1, 0);
				long n = (cy1 - cy0) * (cx1 - cx0);
				long div = g->divisor ? (long)g->divisor : (g->flags & BLOB_GEOM_COUNT_PAD) ? pool : n;
				*out = mean * n / div;
			}
}

static void forward_row(const struct pth_model *pm, const double *x, int in,
			double *y, int *out)
{
	double a[MAXW], b[MAXW];
	uint32_t i, j, k;
	int n = in;

	for (k = 0; k < (uint32_t)in; k++)
		a[k] = x[k];
	for (i = 0; i < pm->nops; i++) {
		const struct pth_op *op = &pm->ops[i];
		double mx, sum;

		switch (op->kind) {
		case BLOB_OP_CONV2D:
		case BLOB_OP_MAXPOOL2D:
		case BLOB_OP_AVGPOOL2D:
		case BLOB_OP_ADAPTIVE_AVGPOOL2D:
		case BLOB_OP_ADAPTIVE_MAXPOOL2D:
			if (op->kind == BLOB_OP_CONV2D)
				conv_row(op, a, b);
			else
				pool_row(op, a, b);
			n = (int)op->out;
			memcpy(a, b, (size_t)n * sizeof *a);
			break;
		case BLOB_OP_SCALE_SHIFT:
			for (j = 0; j < (uint32_t)n; j++) {
				uint32_t ch = j / (op->g.h * op->g.w);
				a[j] = a[j] * op->weight[ch] + op->bias[ch];
			}
			break;
		case BLOB_OP_LINEAR:
			for (j = 0; j < op->out; j++) {
				double s = op->bias ? op->bias[j] : 0.0;
				for (k = 0; k < op->in; k++)
					s += (double)op->weight[(size_t)j * op->in + k] * a[k];
				b[j] = s;
			}
			n = (int)op->out;
			memcpy(a, b, (size_t)n * sizeof *a);
			break;
		case BLOB_OP_RELU:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = a[j] > 0 ? a[j] : 0;
			break;
		case BLOB_OP_LEAKY_RELU:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = a[j] > 0 ? a[j] : op->param * a[j];
			break;
		case BLOB_OP_TANH:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = tanh(a[j]);
			break;
		case BLOB_OP_SIGMOID:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = 1.0 / (1.0 + exp(-a[j]));
			break;
		case BLOB_OP_GELU:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = 0.5 * a[j] * (1.0 + erf(a[j] / sqrt(2.0)));
			break;
		case BLOB_OP_GELU_TANH:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = 0.5 * a[j] * (1.0 + tanh(sqrt(2.0 / M_PI) *
					(a[j] + 0.044715 * a[j] * a[j] * a[j])));
			break;
		case BLOB_OP_ELU:
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = a[j] > 0 ? a[j] : op->param * (exp(a[j]) - 1.0);
			break;
		case BLOB_OP_SOFTMAX:
		case BLOB_OP_LOG_SOFTMAX:
			mx = a[0];
			for (j = 1; j < (uint32_t)n; j++)
				mx = a[j] > mx ? a[j] : mx;
			sum = 0;
			for (j = 0; j < (uint32_t)n; j++)
				sum += exp(a[j] - mx);
			for (j = 0; j < (uint32_t)n; j++)
				a[j] = op->kind == BLOB_OP_SOFTMAX ? exp(a[j] - mx) / sum
								   : a[j] - mx - log(sum);
			break;
		}
	}
	memcpy(y, a, (size_t)n * sizeof *y);
	*out = n;
}

/* ---- expected outputs ------------------------------------------------ */

struct io {
	int rows, in, out;
	double x[MAXROWS][MAXW], y[MAXROWS][MAXW];
};

/* Read "in\t<v>..." / "out\t<v>..." lines (trusted test data). */
static int read_tsv(const char *path, struct io *io)
{
	static char line[MAXW * 32];
	FILE *f = fopen(path, "r");
	int nin = 0, nout = 0;

	if (f == NULL)
		return -1;
	memset(io, 0, sizeof *io);
	while (fgets(line, sizeof line, f) != NULL) {
		double *dst;
		char *p = line, *end;
		int *cols, n = 0;

		if (strncmp(line, "in\t", 3) == 0 && nin < MAXROWS) {
			dst = io->x[nin++];
			cols = &io->in;
			p += 3;
		} else if (strncmp(line, "out\t", 4) == 0 && nout < MAXROWS) {
			dst = io->y[nout++];
			cols = &io->out;
			p += 4;
		} else {
			continue;
		}
		while (n < MAXW) {
			double v = strtod(p, &end);
			if (end == p)
				break;
			dst[n++] = v;
			p = end;
		}
		*cols = n;
	}
	fclose(f);
	io->rows = nin;
	return nin > 0 && nin == nout ? 0 : -1;
}

static void ops_string(const struct pth_model *pm, char *buf, size_t len)
{
	size_t n = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < pm->nops && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? "," : "",
				      arch_kind_name(pm->ops[i].kind));
}

/* Load fixtures/pth/<name>.pth with o, check its ops, and compare the
 * forward pass on <name>.tsv's inputs with torch's outputs. */
static void check_model_opts(const char *name, const struct pth_opts *o, const char *ops, double tol)
{
	static struct io io;
	char path[256], got[1024];
	double y[MAXW];
	int r, j, n = 0;
	double worst = 0;

	snprintf(path, sizeof path, "fixtures/pth/%s.pth", name);
	if (pth_load_opts(path, o, &m, err, sizeof err) != 0) {
		CHECKF(0, "%s: %s", path, err);
		return;
	}
	ops_string(&m, got, sizeof got);
	CHECKF(strcmp(got, ops) == 0, "%s: ops %s, expected %s", name, got, ops);
	snprintf(path, sizeof path, "fixtures/pth/%s.tsv", name);
	CHECKF(read_tsv(path, &io) == 0, "%s: unreadable", path);
	CHECK_INT(m.ops[0].in, io.in);
	for (r = 0; r < io.rows; r++) {
		forward_row(&m, io.x[r], io.in, y, &n);
		CHECKF(n == io.out, "%s: %d outputs, expected %d", name, n, io.out);
		for (j = 0; j < n && j < io.out; j++) {
			double d = fabs(y[j] - io.y[r][j]);
			worst = d > worst ? d : worst;
		}
	}
	CHECKF(worst <= tol, "%s: largest difference %g > %g", name, worst, tol);
	pth_free(&m);
}

static void check_model(const char *name, const char *arch, const char *ops, double tol)
{
	struct pth_opts o = { .arch = arch };

	check_model_opts(name, &o, ops, tol);
}

#define ZOO_OPS "linear,leaky_relu,linear,elu,linear,sigmoid,linear,gelu_tanh," \
		"linear,gelu,linear,tanh,relu,softmax,linear,log_softmax"
#define ZOO_ARCH "linear,leaky_relu:0.2,linear,elu:0.7,linear,sigmoid,linear," \
		 "gelu_tanh,linear,gelu,linear,tanh,relu,softmax,linear,log_softmax"
#define MLP_OPS "linear,relu,linear"
#define VIEWS_OPS "linear,relu,linear,relu,linear,tanh,linear"

/* ---- models that convert --------------------------------------------- */

static void test_zoo_module(void)
{
	check_model("zoo", NULL, ZOO_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/zoo.pth", NULL, &m, err, sizeof err), 0);
	CHECK_STR(m.root_class, "torch.nn.modules.container.Sequential");
	CHECK_INT(m.is_state_dict, 0);
	CHECK_INT(m.ops[0].in, 32);   /* after the leading Flatten */
	CHECK_STR(m.ops[0].path, "1");
	CHECK(m.ops[0].bias != NULL);  /* BatchNorm1d folded into it */
	CHECK(m.ops[2].bias == NULL);  /* Linear(bias=False) */
	CHECK(fabs(m.ops[1].param - 0.2f) < 1e-7);
	CHECK(fabs(m.ops[3].param - 0.7f) < 1e-7);
	CHECK_STR(m.notes, "");
	pth_free(&m);
}

static void test_zoo_state_dict(void)
{
	check_model("zoo_sd", ZOO_ARCH, ZOO_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/zoo_sd.pth", ZOO_ARCH, &m, err,
			   sizeof err), 0);
	CHECK_INT(m.is_state_dict, 1);
	CHECK_CONTAINS(m.notes, "2: BatchNorm1d folded with eps=1e-05 (a state_dict "
		       "does not store eps)");
	pth_free(&m);
}

static void test_dtypes(void)
{
	check_model("zoo_f16", NULL, ZOO_OPS, 1e-4);
	check_model("zoo_bf16", NULL, ZOO_OPS, 1e-4);
	check_model("zoo_f64", NULL, ZOO_OPS, 1e-4);
}

static void test_shared_relu(void)
{
	check_model("shared_relu", NULL, "linear,relu,linear,relu,linear", 1e-4);
}

static void test_views_and_tied_weights(void)
{
	check_model("views", NULL, VIEWS_OPS, 1e-4);
	check_model("views_sd", VIEWS_OPS, VIEWS_OPS, 1e-4);
	/* the tied weight is the same values in both ops */
	CHECK_INT(pth_load("fixtures/pth/views.pth", NULL, &m, err, sizeof err), 0);
	CHECK(memcmp(m.ops[0].weight, m.ops[2].weight, 16 * 16 * sizeof(float)) == 0);
	CHECK(m.ops[0].weight != m.ops[2].weight);   /* each op owns its copy */
	pth_free(&m);
}

static void test_checkpoints(void)
{
	check_model("checkpoint", NULL, MLP_OPS, 1e-4);
	check_model("checkpoint_msd", NULL, MLP_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/checkpoint.pth", NULL, &m, err,
			   sizeof err), 0);
	CHECK_STR(m.notes, "model read from checkpoint key 'model'\n"
		  "no --arch given; assumed ReLU between layers: linear,relu,linear");
	pth_free(&m);
	CHECK_INT(pth_load("fixtures/pth/checkpoint_msd.pth", NULL, &m, err,
			   sizeof err), 0);
	CHECK_CONTAINS(m.notes, "checkpoint key 'model_state_dict'");
	pth_free(&m);
}

static void test_protocol4(void)
{
	check_model("proto4", NULL, MLP_OPS, 1e-4);
}

static void test_user_classes(void)
{
	check_model("usernet", NULL, MLP_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/usernet.pth", NULL, &m, err, sizeof err), 0);
	CHECK_STR(m.root_class, "mymodels.Net");
	CHECK_STR(m.ops[0].path, "seq.1");
	CHECK_STR(m.notes, "");
	pth_free(&m);
	/* TwoPart (features + head): its forward() is not known, so refused
	 * by default; --arch or --assume-registration-order read it. */
	expect_error("usernet2.pth", NULL, "(root): the forward() of mymodels.TwoPart cannot be read and its 2 "
		     "children that compute (features, head) may run in any order: nothing converted. Wrap the "
		     "layers in nn.Sequential, or give the order forward() runs them in with --arch (e.g. --arch "
		     "features,head, reordered as forward() runs them); --assume-registration-order runs them in "
		     "registration order if you know that is right");
	check_model("usernet2", "features,head", "linear,tanh,linear", 1e-4);
	check_model("usernet2", "features, head=linear", "linear,tanh,linear", 1e-4);
	check_model_opts("usernet2", &(struct pth_opts){ .assume_order = 1 }, "linear,tanh,linear", 1e-4);
	CHECK_INT(pth_load_opts("fixtures/pth/usernet2.pth", &(struct pth_opts){ .assume_order = 1 }, &m, err,
				sizeof err), 0);
	CHECK_STR(m.notes, "(root): mymodels.TwoPart has 2 children; its forward() "
		  "is assumed to run them in registration order (--assume-registration-order)");
	CHECK_INT(m.assumed_order, 1);
	CHECK_STR(m.ops[2].path, "head");
	pth_free(&m);
	CHECK_INT(pth_load("fixtures/pth/usernet2.pth", "features,head", &m, err, sizeof err), 0);
	CHECK_INT(m.assumed_order, 0);
	pth_free(&m);
	/* cloudpickle by value: class name from the skeleton class */
	check_model("byvalue", NULL, MLP_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/byvalue.pth", NULL, &m, err, sizeof err), 0);
	CHECK_STR(m.root_class, "__main__.ByValueNet");
	pth_free(&m);
}

static void test_batchnorm_no_affine(void)
{
	check_model("bn_noaffine", NULL, "linear,relu,linear,softmax", 1e-4);
}

static void test_big_endian(void)
{
	check_model("bigendian_sd", NULL, MLP_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/bigendian_sd.pth", NULL, &m, err,
			   sizeof err), 0);
	CHECK_CONTAINS(m.notes, "big-endian");
	pth_free(&m);
}

static void test_arch_parameters(void)
{
	CHECK_INT(pth_load("fixtures/pth/checkpoint.pth",
			   " linear , leaky_relu:0.5 ,linear,softmax", &m, err,
			   sizeof err), 0);
	CHECK_INT(m.nops, 4);
	CHECK(m.ops[1].kind == BLOB_OP_LEAKY_RELU && m.ops[1].param == 0.5f);
	CHECK_INT(m.ops[3].in, 10);
	CHECK_STR(m.ops[1].path, "(arch)");
	pth_free(&m);
	CHECK_INT(pth_load("fixtures/pth/checkpoint.pth", "linear,elu,linear",
			   &m, err, sizeof err), 0);
	CHECK(m.ops[1].param == 1.0f);
	pth_free(&m);
	/* On a whole module --arch is the execution order over its children. */
	expect_error("zoo.pth", "linear", "--arch: 'linear' on a whole module names no layer: write the child's "
		     "name (e.g. fc1) or NAME=linear");
}

/* ---- convolutional networks ------------------------------------------ */

#define SO(...) (&(struct pth_opts){ __VA_ARGS__ })

static void test_cnn_modules(void)
{
	check_model("cnn_same", NULL, "conv2d,relu,conv2d,tanh,conv2d,linear", 1e-4);
	check_model("cnn_maxpool", NULL, "conv2d,maxpool2d,relu,maxpool2d,linear", 1e-4);
	check_model("cnn_avgpool", NULL, "conv2d,avgpool2d,avgpool2d,avgpool2d,linear", 1e-4);
	check_model("cnn_adaptive", NULL, "conv2d,adaptive_avgpool2d,relu,adaptive_maxpool2d,linear", 1e-4);
	check_model("cnn_bn", NULL, "conv2d,relu,scale_shift,maxpool2d,scale_shift,linear", 1e-4);
	/* 'same' with an even kernel: one pixel before, two after */
	CHECK_INT(pth_load("fixtures/pth/cnn_same.pth", NULL, &m, err, sizeof err), 0);
	CHECK(m.input_shape[0] == 2 && m.input_shape[1] == 7 && m.input_shape[2] == 7);
	CHECK(m.ops[0].g.kh == 4 && m.ops[0].g.ph == 1 && m.ops[0].g.oh == 7 && m.ops[0].g.oc == 3);
	CHECK_INT(m.ops[0].in, 98);
	CHECK_INT(m.ops[0].out, 147);
	CHECK(m.ops[2].g.dh == 2 && m.ops[2].g.ph == 2);
	CHECK(m.ops[4].g.oh == 9 && m.ops[4].g.ow == 7 && m.ops[4].bias == NULL);
	pth_free(&m);
	/* ceil_mode: 9 -> 5 */
	CHECK_INT(pth_load("fixtures/pth/cnn_maxpool.pth", NULL, &m, err, sizeof err), 0);
	CHECK(m.ops[1].g.oh == 5 && (m.ops[1].g.flags & BLOB_GEOM_CEIL_MODE));
	pth_free(&m);
	/* training mode: BatchNorm2d folded into the bias-less conv, one after
	 * the ReLU and a BatchNorm1d after Flatten kept as scale and shift */
	CHECK_INT(pth_load("fixtures/pth/cnn_bn.pth", NULL, &m, err, sizeof err), 0);
	CHECK_STR(m.ops[0].folded, "2");
	CHECK(m.ops[0].bias != NULL && fabs(m.ops[0].folded_eps - 1e-5) < 1e-12);
	CHECK(m.ops[2].g.c == 4 && m.ops[2].g.h == 8 && (m.ops[2].pflags & PTH_BN2D));
	CHECK(m.ops[4].g.c == 64 && m.ops[4].g.h == 1 && m.ops[4].in == 64);
	CHECK_CONTAINS(m.notes, "2: BatchNorm2d saved in training mode; folded with its running statistics");
	CHECK_CONTAINS(m.notes, "4: BatchNorm2d saved in training mode; applied with its running statistics");
	CHECK_CONTAINS(m.notes, "6: dropout saved in training mode; the identity, as in eval()");
	pth_free(&m);
	/* Flatten anywhere; a BatchNorm1d that is not after a Linear */
	check_model("flatten_mid", NULL, "linear,linear", 1e-4);
	check_model("bn_first", NULL, "scale_shift,linear", 1e-4);
}

#define NOSHAPE_OPS "conv2d,relu,maxpool2d,conv2d,relu,adaptive_avgpool2d,linear"

static void test_cnn_input_shape(void)
{
	expect_error("cnn_noshape.pth", NULL, "0: conv2d needs the input's shape, which the file does not say: "
		     "pass --input-shape C,H,W");
	check_model_opts("cnn_noshape", SO(.input_shape = { 1, 6, 6 }), NOSHAPE_OPS, 1e-4);
	check_model_opts("conv", SO(.input_shape = { 1, 4, 4 }), "conv2d,relu,linear", 1e-4);
	CHECK_INT(pth_load_opts("fixtures/pth/conv.pth", SO(.input_shape = { 1, 4, 4 }), &m, err, sizeof err), 0);
	CHECK(m.input_shape[0] == 1 && m.input_shape[1] == 4 && m.input_shape[2] == 4);
	pth_free(&m);
	/* an MLP does not take a shape it does not need */
	CHECK_INT(pth_load_opts("fixtures/pth/usernet.pth", SO(.input_shape = { 2, 4, 4 }), &m, err, sizeof err), 0);
	CHECK(m.input_shape[0] == 0);
	pth_free(&m);
	/* mismatches name both layers */
	CHECK_INT(pth_load_opts("fixtures/pth/conv.pth", SO(.input_shape = { 1, 5, 5 }), &m, err, sizeof err), -1);
	CHECK_STR(err, "sequence.3: Linear expects 8 input features but sequence.0 gives 18");
	CHECK_INT(pth_load_opts("fixtures/pth/conv.pth", SO(.input_shape = { 2, 4, 4 }), &m, err, sizeof err), -1);
	CHECK_STR(err, "sequence.0: Conv2d expects 1 input channels but the input gives 2");
	CHECK_INT(pth_load_opts("fixtures/pth/conv.pth", SO(.input_shape = { 1, 2, 2 }), &m, err, sizeof err), -1);
	CHECK_STR(err, "sequence.0: the conv2d window does not fit the 2x2 input from the input");
	/* a leading Unflatten and a given shape must agree */
	CHECK_INT(pth_load_opts("fixtures/pth/cnn_bn.pth", SO(.input_shape = { 1, 8, 8 }), &m, err, sizeof err), 0);
	pth_free(&m);
	CHECK_INT(pth_load_opts("fixtures/pth/cnn_bn.pth", SO(.input_shape = { 1, 4, 16 }), &m, err, sizeof err), -1);
	CHECK_STR(err, "0: Unflatten to 1x8x8 but the input shape given is 1x4x16");
}

#define SD_ARCH "conv2d(padding=1),batchnorm2d,relu,maxpool2d(2),conv2d,relu,adaptive_avgpool2d(2),flatten,linear"

static void test_cnn_state_dict(void)
{
	expect_error("conv_groups.pth", NULL, "1: Conv2d with groups=2 is not supported (only groups=1)");
	expect_error("conv_reflect.pth", NULL, "1: Conv2d with padding_mode='reflect' is not supported (only "
		     "'zeros')");
	expect_error("cnn_sd.pth", NULL, "0: the state_dict holds Conv2d layers, and a state_dict stores no "
		     "strides, padding or pools: give the architecture with --arch");
	check_model("cnn_sd", "unflatten(1,6,6)," SD_ARCH, NOSHAPE_OPS, 1e-4);
	check_model_opts("cnn_sd", SO(.arch = SD_ARCH, .input_shape = { 1, 6, 6 }), NOSHAPE_OPS, 1e-4);
	/* by name, the BatchNorm named or folded unnamed */
	check_model("cnn_sd", "unflatten(1,6,6), 0=conv2d(padding=1x1), 1, relu, maxpool2d(kernel_size=2), 4, relu,"
		    "adaptive_avgpool2d(2x2), flatten, 8", NOSHAPE_OPS, 1e-4);
	check_model("cnn_sd", "unflatten(1,6,6),conv2d(padding=same),relu,maxpool2d(2,2),conv2d(padding=valid),relu,"
		    "adaptive_avgpool2d(2),flatten,linear", NOSHAPE_OPS, 1e-4);
	CHECK_INT(pth_load("fixtures/pth/cnn_sd.pth", "unflatten(1,6,6)," SD_ARCH, &m, err, sizeof err), 0);
	CHECK_INT(m.is_state_dict, 1);
	CHECK_STR(m.ops[0].folded, "1");
	CHECK_CONTAINS(m.notes, "1: BatchNorm2d folded with eps=1e-05 (a state_dict does not store eps)");
	pth_free(&m);
	/* a BatchNorm2d that cannot fold */
	CHECK_INT(pth_load("fixtures/pth/cnn_sd.pth", "unflatten(1,6,6),conv2d(padding=1),relu,batchnorm2d(eps=0.001),"
			   "maxpool2d(2),conv2d,relu,adaptive_avgpool2d(2),flatten,linear", &m, err, sizeof err), 0);
	CHECK(m.ops[2].kind == BLOB_OP_SCALE_SHIFT && m.ops[2].g.c == 4 && m.ops[2].g.h == 6);
	CHECK_CONTAINS(m.notes, "1: BatchNorm2d applied as a scale and shift with eps=0.001");
	pth_free(&m);
	expect_error("cnn_sd.pth", "unflatten(1,6,6),linear,relu", "--arch lists 0 conv2d ops but the state_dict "
		     "has 2 Conv2d layers");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),conv2d,linear", "--arch lists 1 conv2d ops but the "
		     "state_dict has 2 Conv2d layers");
	expect_error("cnn_sd.pth", "linear,conv2d,conv2d", "--arch: 'linear' would take 0, a Conv2d (the next "
		     "unused layer in key order): name the layers, e.g. 0=conv2d");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),0=linear,1,relu,4,8=conv2d", "--arch: 0 is a Conv2d, not a "
		     "linear");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),conv2d(padding=1),0,linear", "--arch uses state_dict layer 0 "
		     "twice");
	expect_error("cnn_sd.pth", "conv2d(padding=1),relu,conv2d,flatten,linear",
		     "0: conv2d needs the input's shape");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),conv2d(padding=1),relu,conv2d,linear",
		     "8: Linear gets a 8x5x5 tensor from 4: flatten it first");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),conv2d(padding=1),relu,conv2d,flatten,linear",
		     "8: Linear expects 32 input features but 4 gives 200");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),conv2d(padding=1),relu,maxpool2d,conv2d,flatten,linear",
		     "--arch: maxpool2d needs its kernel size, e.g. maxpool2d(2)");
	expect_error("cnn_sd.pth", "unflatten(1,6,6),conv2d(padding=1),softmax,conv2d,flatten,linear",
		     "(arch): softmax over a 4x6x6 tensor is not supported: only over a flat row (flatten first)");
}

/* ---- forward() that cannot be read ----------------------------------- */

static void test_custom_order(void)
{
	/* relu registered before fc1: refused, or read as --arch orders it */
	expect_error("order_net.pth", NULL, "(root): the forward() of mymodels.OrderNet cannot be read and its 3 "
		     "children that compute (relu, fc1, fc2) may run in any order: nothing converted.");
	check_model("order_net", "fc1,relu,fc2", "linear,relu,linear", 1e-4);
	check_model("order_net", "fc1=linear, relu=relu, fc2=linear", "linear,relu,linear", 1e-4);
	CHECK_INT(pth_load_opts("fixtures/pth/order_net.pth", SO(.assume_order = 1), &m, err, sizeof err), 0);
	CHECK(m.assumed_order == 1 && m.ops[0].kind == BLOB_OP_RELU);   /* what the user asked for */
	pth_free(&m);
	expect_error("order_net.pth", "fc1,relu", "--arch leaves fc2 (torch.nn.modules.linear.Linear) unused: "
		     "every layer with parameters must appear exactly once");
	expect_error("order_net.pth", "fc1,relu,fc1,fc2", "--arch uses fc1 (torch.nn.modules.linear.Linear) 2 "
		     "times");
	expect_error("order_net.pth", "fc1=conv2d,relu,fc2", "--arch: fc1 is a torch.nn.modules.linear.Linear, "
		     "not a conv2d");
	expect_error("order_net.pth", "fc1,swish,fc2", "--arch: unknown op 'swish' (one of linear, relu,");
	expect_error("order_net.pth", "fc1,relu,fc3", "the module has no child 'fc3' (its children: relu, fc1, "
		     "fc2)");
	expect_error("order_net.pth", "fc1=linear(3),relu,fc2", "--arch: linear takes no arguments");
	expect_error("order_net.pth", "fc2,relu,fc1", "fc1: Linear expects 32 input features but fc2 gives 10");
	/* a skip connection: no order of the children computes it */
	expect_error("residual_net.pth", NULL, "(root): the forward() of mymodels.ResidualNet cannot be read and "
		     "its 3 children that compute (fc1, relu, fc2)");
	/* a ModuleList looped over in forward() */
	expect_error("list_net.pth", NULL, "layers: the forward() of torch.nn.modules.container.ModuleList cannot "
		     "be read and its 3 children that compute (0, 1, 2)");
	expect_error("list_net.pth", "layers", "layers: the forward() of torch.nn.modules.container.ModuleList");
	check_model("list_net", "layers.0,relu,layers.1,relu,layers.2", "linear,relu,linear,relu,linear", 1e-4);
	expect_error("usernet2.pth", "head,features", "features.1: Linear expects 32 input features but head "
		     "gives 6");
}

/* ---- refusals -------------------------------------------------------- */

static void expect_error(const char *file, const char *arch, const char *msg)
{
	char path[256];

	snprintf(path, sizeof path, "fixtures/pth/%s", file);
	memset(&m, 0x5a, sizeof m);
	CHECKF(pth_load(path, arch, &m, err, sizeof err) == -1, "%s loaded", file);
	CHECKF(strstr(err, msg) != NULL, "%s: \"%s\" lacks \"%s\"", file, err, msg);
	CHECK(strchr(err, '\n') == NULL);
	CHECK_INT(m.nops, 0);   /* nothing left to free */
}

static void test_refused_fixtures(void)
{
	expect_error("conv.pth", NULL,
		     "sequence.0: conv2d needs the input's shape, which the file does not say: pass --input-shape "
		     "C,H,W (e.g. 1,28,28 when forward() does x.view(-1, 1, 28, 28))");
	expect_error("embedding.pth", NULL,
		     "0: torch.nn.modules.sparse.Embedding is not supported");
	expect_error("lstm.pth", NULL,
		     "(root): torch.nn.modules.rnn.LSTM is not supported");
	expect_error("legacy.pth", NULL,
		     "legacy (pre-1.6) torch.save format: re-save with "
		     "torch.save(obj, path) on torch >= 1.6");
	expect_error("script.pt", NULL,
		     "TorchScript archive (torch.jit.save): save the nn.Module or "
		     "its state_dict with torch.save instead");
	expect_error("softmax_dim0.pth", NULL,
		     "1: Softmax over dim 0 (the batch) is not supported; use dim=-1");
	expect_error("mismatch_sd.pth", NULL,
		     "2: Linear expects 15 input features but 0 gives 16");
	expect_error("int_weight_sd.pth", NULL,
		     "0.weight: int64 tensor (torch.LongStorage) where a float "
		     "tensor is expected");
	expect_error("nonexistent.pth", NULL, "cannot open: No such file");
}

static void test_hostile_fixtures(void)
{
	expect_error("evil.pth", NULL,
		     "refusing GLOBAL os.system: module os can run commands or code");
	expect_error("evil_reduce.pth", NULL,
		     "refusing to call mymodels.Net: only torch tensor/parameter "
		     "rebuilders, OrderedDict and inert cloudpickle helpers may be "
		     "reduced");
}

static void test_arch_errors(void)
{
	expect_error("zoo_sd.pth", "linear,relu",
		     "--arch lists 1 linear ops but the state_dict has 7 Linear layers");
	expect_error("zoo_sd.pth", "linear,swish",
		     "--arch: unknown op 'swish' (one of linear, relu,");
	expect_error("checkpoint.pth", "linear,relu:0.3,linear",
		     "--arch: relu takes no parameter");
	expect_error("checkpoint.pth", "linear,elu:x,linear",
		     "--arch: bad parameter 'x' for elu");
	expect_error("checkpoint.pth", "linear,,linear", "--arch: empty");
}

/* ---- hostile files assembled here ------------------------------------ */

/* pickle builder */
struct pb {
	unsigned char b[1 << 16];
	size_t n;
};

static void op(struct pb *p, int c) { p->b[p->n++] = (unsigned char)c; }
static void u32(struct pb *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		op(p, (int)(v >> (8 * i)) & 0xff);
}
static void str(struct pb *p, const char *s)
{
	op(p, 'X');
	u32(p, (uint32_t)strlen(s));
	memcpy(p->b + p->n, s, strlen(s));
	p->n += strlen(s);
}
static void global(struct pb *p, const char *mod, const char *name)
{
	p->n += (size_t)snprintf((char *)p->b + p->n, sizeof p->b - p->n,
				 "c%s\n%s\n", mod, name);
}
static void ival(struct pb *p, long long v)
{
	if (v >= INT32_MIN && v <= INT32_MAX) {
		op(p, 'J');
		u32(p, (uint32_t)(int32_t)v);
		return;
	}
	op(p, 0x8a);
	op(p, 8);
	for (int i = 0; i < 8; i++)
		op(p, (int)((unsigned long long)v >> (8 * i)) & 0xff);
}
static void odict(struct pb *p)
{
	global(p, "collections", "OrderedDict");
	op(p, ')');
	op(p, 'R');
}
static void ituple(struct pb *p, const long long *v, int n)
{
	op(p, '(');
	for (int i = 0; i < n; i++)
		ival(p, v[i]);
	op(p, 't');
}

struct tspec {
	const char *rebuild;      /* NULL: _rebuild_tensor_v2 */
	const char *storage;      /* NULL: FloatStorage */
	const char *key;
	long long numel, offset;
	int nd;
	long long size[4], stride[4];
	int metadata;             /* add a non-empty 7th argument */
};

static void tensor(struct pb *p, const struct tspec *t)
{
	global(p, "torch._utils", t->rebuild ? t->rebuild : "_rebuild_tensor_v2");
	op(p, '(');
	op(p, '(');
	str(p, "storage");
	global(p, "torch", t->storage ? t->storage : "FloatStorage");
	str(p, t->key);
	str(p, "cpu");
	ival(p, t->numel);
	op(p, 't');
	op(p, 'Q');
	ival(p, t->offset);
	ituple(p, t->size, t->nd);
	ituple(p, t->stride, t->nd);
	op(p, 0x89);
	odict(p);
	if (t->metadata) {
		op(p, '}');
		str(p, "neg");
		op(p, 0x88);
		op(p, 's');
	}
	op(p, 't');
	op(p, 'R');
}

/* NEWOBJ of mod.cls, then MARK for its __dict__ items. */
static void module_begin(struct pb *p, const char *mod, const char *cls)
{
	global(p, mod, cls);
	op(p, ')');
	op(p, 0x81);
	op(p, '}');
	op(p, '(');
}

static void module_end(struct pb *p)
{
	op(p, 'u');
	op(p, 'b');
}

/* A Linear whose weight is the given tensor spec and bias None. */
static void linear(struct pb *p, const struct tspec *w)
{
	module_begin(p, "torch.nn.modules.linear", "Linear");
	str(p, "_parameters");
	odict(p);
	op(p, '(');
	str(p, "weight");
	tensor(p, w);
	str(p, "bias");
	op(p, 'N');
	op(p, 'u');
	module_end(p);
}

/* zip writer: stored entries, no padding (like Python's zipfile) */
struct zw {
	unsigned char b[1 << 17];
	size_t n;
	struct { char name[64]; size_t off, size; uint32_t crc; } e[8];
	int ne;
};

static void zput(struct zw *z, const void *s, size_t n)
{
	memcpy(z->b + z->n, s, n);
	z->n += n;
}
static void z16(struct zw *z, unsigned v) { unsigned char c[2] = { v & 0xff, v >> 8 }; zput(z, c, 2); }
static void z32(struct zw *z, uint32_t v) { z16(z, v & 0xffff); z16(z, v >> 16); }

static void zadd(struct zw *z, const char *name, const void *data, size_t n)
{
	int i = z->ne++;

	snprintf(z->e[i].name, sizeof z->e[i].name, "%s", name);
	z->e[i].off = z->n;
	z->e[i].size = n;
	z->e[i].crc = crc32_update(0, data, n);
	z32(z, 0x04034b50);
	z16(z, 20); z16(z, 0); z16(z, 0); z32(z, 0);
	z32(z, z->e[i].crc); z32(z, (uint32_t)n); z32(z, (uint32_t)n);
	z16(z, (unsigned)strlen(name)); z16(z, 0);
	zput(z, name, strlen(name));
	zput(z, data, n);
}

static void zfinish(struct zw *z)
{
	size_t cd = z->n, size;

	for (int i = 0; i < z->ne; i++) {
		z32(z, 0x02014b50);
		z16(z, 20); z16(z, 20); z16(z, 0); z16(z, 0); z32(z, 0);
		z32(z, z->e[i].crc); z32(z, (uint32_t)z->e[i].size);
		z32(z, (uint32_t)z->e[i].size);
		z16(z, (unsigned)strlen(z->e[i].name)); z16(z, 0); z16(z, 0);
		z16(z, 0); z16(z, 0); z32(z, 0); z32(z, (uint32_t)z->e[i].off);
		zput(z, z->e[i].name, strlen(z->e[i].name));
	}
	size = z->n - cd;
	z32(z, 0x06054b50);
	z16(z, 0); z16(z, 0); z16(z, (unsigned)z->ne); z16(z, (unsigned)z->ne);
	z32(z, (uint32_t)size); z32(z, (uint32_t)cd); z16(z, 0);
}

static const float six[6] = { 1, 2, 3, 4, 5, 6 };

/* Wrap pickle p (with its STOP added) into an archive with storage "0"
 * holding six floats, plus any extra entry, and load it. */
static int load_pickle(struct pb *p, const char *arch, const char *extra_name,
		       const char *extra)
{
	static struct zw z;
	void *copy;
	int rc;

	op(p, '.');
	memset(&z, 0, sizeof z);
	zadd(&z, "t/data.pkl", p->b, p->n);
	zadd(&z, "t/data/0", six, sizeof six);
	if (extra_name)
		zadd(&z, extra_name, extra, strlen(extra));
	zadd(&z, "t/version", "3\n", 2);
	zfinish(&z);
	copy = malloc(z.n);
	memcpy(copy, z.b, z.n);
	memset(&m, 0x5a, sizeof m);
	rc = pth_load_mem(copy, z.n, arch, &m, err, sizeof err);
	free(copy);
	if (rc != 0)
		CHECK_INT(m.nops, 0);
	return rc;
}

/* A Sequential holding one Linear with weight spec w, as the root. */
static int load_linear(const struct tspec *w)
{
	static struct pb p;

	memset(&p, 0, sizeof p);
	op(&p, 0x80);
	op(&p, 2);
	module_begin(&p, "torch.nn.modules.container", "Sequential");
	str(&p, "_modules");
	odict(&p);
	str(&p, "0");
	linear(&p, w);
	op(&p, 's');
	module_end(&p);
	return load_pickle(&p, NULL, NULL, NULL);
}

static void test_handmade_linear(void)
{
	struct tspec w = { .key = "0", .numel = 6, .nd = 2,
			   .size = { 2, 3 }, .stride = { 3, 1 } };

	if (load_linear(&w) != 0) {
		CHECKF(0, "%s", err);
		return;
	}
	CHECK_INT(m.nops, 1);
	CHECK(m.ops[0].weight[5] == 6.0f && m.ops[0].bias == NULL);
	pth_free(&m);
	/* transposed view: [3, 2] with strides (1, 3) */
	w.size[0] = 3; w.size[1] = 2; w.stride[0] = 1; w.stride[1] = 3;
	CHECKF(load_linear(&w) == 0, "%s", err);
	CHECK(m.ops[0].weight[0] == 1 && m.ops[0].weight[1] == 4 &&
	      m.ops[0].weight[2] == 2 && m.ops[0].weight[5] == 6);
	pth_free(&m);
	/* offset view [1, 2] at offset 4 */
	w.size[0] = 1; w.size[1] = 2; w.stride[0] = 2; w.stride[1] = 1;
	w.offset = 4;
	CHECKF(load_linear(&w) == 0, "%s", err);
	CHECK(m.ops[0].weight[0] == 5 && m.ops[0].weight[1] == 6);
	pth_free(&m);
	/* stride 0 broadcast is in bounds too */
	w.size[0] = 2; w.size[1] = 2; w.stride[0] = 0; w.stride[1] = 0;
	w.offset = 5;
	CHECKF(load_linear(&w) == 0, "%s", err);
	CHECK(m.ops[0].weight[3] == 6);
	pth_free(&m);
}

static void test_tensor_bounds(void)
{
	struct tspec w = { .key = "0", .numel = 6, .nd = 2,
			   .size = { 2, 3 }, .stride = { 3, 1 }, .offset = 1 };

	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: tensor reaches element 6 of storage 0, which has 6");
	w.offset = 0;
	w.stride[0] = 4;
	CHECK_INT(load_linear(&w), -1);
	CHECK_CONTAINS(err, "reaches element 6");
	/* the storage entry must be numel x element size */
	w.stride[0] = 3;
	w.numel = 7;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "storage 0: entry has 24 bytes but 7 float32 elements need 28");
	w.numel = 3;
	w.storage = "DoubleStorage";
	w.size[0] = 1;
	CHECK_INT(load_linear(&w), 0);   /* 24 bytes = 3 doubles */
	CHECK(m.ops[0].weight[2] != 0);
	pth_free(&m);
	w.storage = NULL;
	w.size[0] = 2;
	w.numel = 6;
	/* a missing storage entry */
	w.key = "9";
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: storage 9 has no t/data/9 entry");
	w.key = "0";
	/* negative strides, offsets and sizes */
	w.stride[1] = -1;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: bad tensor stride");
	w.stride[1] = 1;
	w.offset = -2;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: bad storage offset");
	w.offset = 0;
	/* stride 0 making a huge tensor out of one element: the output cap */
	w.size[0] = 1 << 20; w.size[1] = 1 << 20;
	w.stride[0] = 0; w.stride[1] = 0;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: tensors need more than 268435456 floats in all (cap)");
	/* shapes whose product overflows */
	w.size[0] = 1LL << 40; w.size[1] = 1LL << 40;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: tensor shape overflows");
	/* size and stride of different lengths */
	w.size[0] = 2; w.size[1] = 3; w.stride[0] = 3; w.stride[1] = 1;
	w.nd = 2;
	w.metadata = 1;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: tensor with metadata (conj/neg bit) is not supported");
	w.metadata = 0;
	/* a 1-D weight */
	w.nd = 1; w.size[0] = 6; w.stride[0] = 1;
	CHECK_INT(load_linear(&w), -1);
	CHECK_STR(err, "0: weight is 1-D, not a 2-D Linear weight");
}

static void test_unsupported_tensors(void)
{
	struct tspec w = { .key = "0", .numel = 6, .nd = 2,
			   .size = { 2, 3 }, .stride = { 3, 1 } };

	w.rebuild = "_rebuild_tensor_v3";
	CHECK_INT(load_linear(&w), -1);
	CHECK_CONTAINS(err, "0: tensors of dtypes without a legacy storage type "
		       "(_rebuild_tensor_v3) are not supported");
	w.rebuild = "_rebuild_qtensor";
	CHECK_INT(load_linear(&w), -1);
	CHECK_CONTAINS(err, "0: quantized tensors are not supported");
	w.rebuild = "_rebuild_sparse_tensor";
	CHECK_INT(load_linear(&w), -1);
	CHECK_CONTAINS(err, "sparse tensors are not supported");
	w.rebuild = NULL;
	w.storage = "ComplexFloatStorage";
	w.numel = 3;
	CHECK_INT(load_linear(&w), -1);
	CHECK_CONTAINS(err, "complex64 tensor (torch.ComplexFloatStorage)");
	w.storage = "QInt8Storage";
	CHECK_INT(load_linear(&w), -1);
	CHECK_CONTAINS(err, "torch.QInt8Storage tensors are not supported");
}

/* Modules with odd attributes, assembled one by one. */
static void begin(struct pb *p)
{
	memset(p, 0, sizeof *p);
	op(p, 0x80);
	op(p, 2);
}

static void test_module_errors(void)
{
	static struct pb p;
	struct tspec w = { .key = "0", .numel = 6, .nd = 2,
			   .size = { 2, 3 }, .stride = { 3, 1 } };
	int i;

	/* a Sequential that contains itself (memo 0, fetched again) */
	begin(&p);
	global(&p, "torch.nn.modules.container", "Sequential");
	op(&p, ')');
	op(&p, 0x81);
	op(&p, 'q');
	op(&p, 0);
	op(&p, '}');
	op(&p, '(');
	str(&p, "_modules");
	odict(&p);
	str(&p, "0");
	op(&p, 'h');
	op(&p, 0);
	op(&p, 's');
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err, "modules nested deeper than 32 (a cycle?)");

	/* forward hooks */
	begin(&p);
	module_begin(&p, "torch.nn.modules.activation", "ReLU");
	str(&p, "_forward_hooks");
	odict(&p);
	ival(&p, 1);
	global(&p, "mymodels", "hook");
	op(&p, 's');
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "(root): torch.nn.modules.activation.ReLU has forward hooks, "
		  "which cannot be converted");

	/* a user class with no children */
	begin(&p);
	module_begin(&p, "mymodels", "Empty");
	str(&p, "_modules");
	odict(&p);
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "(root): mymodels.Empty has no child modules; its forward() "
		  "cannot be converted");

	/* Softmax over another dim; Flatten with other dims */
	begin(&p);
	module_begin(&p, "torch.nn.modules.activation", "Softmax");
	str(&p, "dim");
	ival(&p, 2);
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "(root): Softmax(dim=2) is not supported: only the last "
		  "dimension (-1 or 1)");
	begin(&p);
	module_begin(&p, "torch.nn.modules.flatten", "Flatten");
	str(&p, "start_dim");
	ival(&p, 0);
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "(root): Flatten(start_dim=0, end_dim=-1) is not supported: "
		  "only Flatten(1, -1)");

	/* GELU with an unknown approximation */
	begin(&p);
	module_begin(&p, "torch.nn.modules.activation", "GELU");
	str(&p, "approximate");
	str(&p, "cubic");
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "(root): GELU(approximate='cubic') is not supported");

	/* a Linear without weight (weight_norm) */
	begin(&p);
	module_begin(&p, "torch.nn.modules.linear", "Linear");
	str(&p, "_parameters");
	odict(&p);
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err, "(root): Linear has no weight parameter");

	/* in_features that disagree with the weight */
	begin(&p);
	module_begin(&p, "torch.nn.modules.linear", "Linear");
	str(&p, "_parameters");
	odict(&p);
	str(&p, "weight");
	tensor(&p, &w);
	op(&p, 's');
	str(&p, "in_features");
	ival(&p, 4);
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err, "weight is [2, 3] but in_features/out_features disagree");

	/* only activations: nothing to convert */
	begin(&p);
	module_begin(&p, "torch.nn.modules.activation", "ReLU");
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "no Linear layer found: nothing to convert");

	/* 65 uses of one ReLU: more ops than a blob holds */
	begin(&p);
	module_begin(&p, "torch.nn.modules.container", "Sequential");
	str(&p, "_modules");
	odict(&p);
	op(&p, '(');
	str(&p, "0");
	linear(&p, &w);
	for (i = 1; i <= 65; i++) {
		char k[16];
		snprintf(k, sizeof k, "%d", i);
		str(&p, k);
		if (i == 1) {
			module_begin(&p, "torch.nn.modules.activation", "ReLU");
			module_end(&p);
			op(&p, 'q'); op(&p, 200);
		} else {
			op(&p, 'h'); op(&p, 200);
		}
	}
	op(&p, 'u');
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "64: more than 64 ops");
}

static void test_walk_caps(void)
{
	static struct pb p;
	int level;

	/* A DAG: each level's two children are the level below; 2^12 visits
	 * of an Identity would be exponential without the cap. */
	begin(&p);
	module_begin(&p, "torch.nn.modules.linear", "Identity");
	module_end(&p);
	op(&p, 'q');
	op(&p, 0);
	op(&p, '0');
	for (level = 1; level <= 12; level++) {
		module_begin(&p, "torch.nn.modules.container", "Sequential");
		str(&p, "_modules");
		odict(&p);
		op(&p, '(');
		str(&p, "a");
		op(&p, 'h');
		op(&p, (level - 1) & 0xff);
		str(&p, "b");
		op(&p, 'h');
		op(&p, (level - 1) & 0xff);
		op(&p, 'u');
		module_end(&p);
		op(&p, 'q');
		op(&p, level & 0xff);
		if (level < 12)
			op(&p, '0');
	}
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err, "more than 1024 module visits");

	/* a module dict too large to scan cheaply */
	begin(&p);
	module_begin(&p, "torch.nn.modules.container", "Sequential");
	str(&p, "_modules");
	odict(&p);
	op(&p, '(');
	for (level = 0; level < 1025; level++) {
		char k[16];
		snprintf(k, sizeof k, "%d", level);
		str(&p, k);
		op(&p, 'N');
	}
	op(&p, 'u');
	module_end(&p);
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "(root): torch.nn.modules.container.Sequential has more "
		  "than 1024 attributes");
}

/* DataParallel wrappers are containers of their 'module'. */
static void test_data_parallel(void)
{
	static struct pb p;
	struct tspec w = { .key = "0", .numel = 6, .nd = 2,
			   .size = { 2, 3 }, .stride = { 3, 1 } };

	begin(&p);
	module_begin(&p, "torch.nn.parallel.data_parallel", "DataParallel");
	str(&p, "_modules");
	odict(&p);
	str(&p, "module");
	linear(&p, &w);
	op(&p, 's');
	module_end(&p);
	CHECKF(load_pickle(&p, NULL, NULL, NULL) == 0, "%s", err);
	CHECK_STR(m.ops[0].path, "module");
	CHECK_STR(m.root_class, "torch.nn.parallel.data_parallel.DataParallel");
	pth_free(&m);
}

static void test_root_errors(void)
{
	static struct pb p;

	begin(&p);
	op(&p, ']');
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "top-level object is a list, not an nn.Module or a state_dict");
	begin(&p);
	op(&p, '}');
	op(&p, '(');
	str(&p, "epoch");
	ival(&p, 3);
	str(&p, "optimizer");
	op(&p, '}');
	op(&p, 'u');
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "dict holds no tensors and no 'state_dict', 'model' or "
		  "'model_state_dict' key (keys: epoch, optimizer)");
	/* a state_dict entry that is not a tensor */
	begin(&p);
	odict(&p);
	op(&p, '(');
	str(&p, "0.weight");
	tensor(&p, &(struct tspec){ .key = "0", .numel = 6, .nd = 2,
				     .size = { 2, 3 }, .stride = { 3, 1 } });
	str(&p, "0.scale");
	tensor(&p, &(struct tspec){ .key = "0", .numel = 6, .nd = 1,
				     .size = { 2 }, .stride = { 1 } });
	op(&p, 'u');
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_STR(err, "state_dict key '0.scale' is not a Linear, Conv2d or BatchNorm "
		  "tensor (weight, bias, running_mean, running_var)");
	/* a 1-D weight without running stats (LayerNorm) and a 4-D one */
	begin(&p);
	odict(&p);
	str(&p, "ln.weight");
	tensor(&p, &(struct tspec){ .key = "0", .numel = 6, .nd = 1,
				     .size = { 6 }, .stride = { 1 } });
	op(&p, 's');
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err, "ln.weight is 1-D and there is no running_mean");
	begin(&p);
	odict(&p);
	str(&p, "conv.weight");
	tensor(&p, &(struct tspec){ .key = "0", .numel = 6, .nd = 4,
				     .size = { 1, 1, 2, 3 }, .stride = { 6, 6, 3, 1 } });
	op(&p, 's');
	CHECK_INT(load_pickle(&p, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err, "conv: the state_dict holds Conv2d layers, and a state_dict stores no strides, "
		       "padding or pools: give the architecture with --arch");
}

static void test_byteorder(void)
{
	static struct pb p;
	struct tspec w = { .key = "0", .numel = 6, .nd = 2,
			   .size = { 2, 3 }, .stride = { 3, 1 } };

	begin(&p);
	odict(&p);
	str(&p, "weight");
	tensor(&p, &w);
	op(&p, 's');
	CHECK_INT(load_pickle(&p, NULL, "t/byteorder", "middle"), -1);
	CHECK_STR(err, "byteorder record is neither 'little' nor 'big'");
	begin(&p);
	odict(&p);
	str(&p, "weight");
	tensor(&p, &w);
	op(&p, 's');
	CHECK_INT(load_pickle(&p, NULL, "t/byteorder", "little"), 0);
	CHECK(m.ops[0].weight[1] == 2.0f);
	CHECK_STR(m.ops[0].path, "");
	pth_free(&m);
	begin(&p);
	odict(&p);
	str(&p, "weight");
	tensor(&p, &w);
	op(&p, 's');
	CHECK_INT(load_pickle(&p, NULL, "t/byteorder", "big"), 0);
	CHECK(m.ops[0].weight[1] != 2.0f);   /* the bytes were swapped */
	pth_free(&m);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int load_copy(const unsigned char *buf, size_t len)
{
	unsigned char *copy = malloc(len);
	int rc;

	memcpy(copy, buf, len);
	/* usernet2's forward() is not known: assume its order to walk it all */
	rc = pth_load_mem_opts(copy, len, &(struct pth_opts){ .assume_order = 1 }, &m, err, sizeof err);
	if (rc == 0)
		pth_free(&m);
	free(copy);
	return rc;
}

/*
 * Byte flips never crash, leak or read out of bounds (ASan/UBSan build).
 * Inside data.pkl the directory CRC is fixed up after each flip, so that
 * the flips reach the pickle machine and the module walk instead of
 * stopping at the CRC check.
 */
static void test_mutations(void)
{
	static const unsigned char vals[] = { 0x00, 0xff, 0x7f, 0x80, 0x28,
					      0x2e, 0x68, 0x52, 0x81, 0x62 };
	const char *name = "usernet2/data.pkl";
	unsigned char *buf, *cdh = NULL;
	struct zip z;
	const struct zip_entry *e;
	size_t len, i, k, pkl_off, pkl_len;
	int loaded = 0;

	buf = read_file("fixtures/pth/usernet2.pth", &len);
	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	CHECK_INT(zip_open_mem(&z, buf, len, err, sizeof err), 0);
	e = zip_find(&z, name);
	CHECK(e != NULL);
	if (e == NULL)
		return;
	pkl_off = (size_t)e->data_offset;
	pkl_len = (size_t)e->size;
	zip_close(&z);
	for (i = 0; i + 46 + strlen(name) <= len; i++)
		if (memcmp(buf + i, "PK\x01\x02", 4) == 0 &&
		    memcmp(buf + i + 46, name, strlen(name)) == 0)
			cdh = buf + i;
	CHECK(cdh != NULL);
	if (cdh == NULL)
		return;
	for (i = 0; i < pkl_len; i++) {
		unsigned char save = buf[pkl_off + i];
		for (k = 0; k < sizeof vals; k++) {
			uint32_t crc;
			buf[pkl_off + i] = vals[k];
			crc = crc32_update(0, buf + pkl_off, pkl_len);
			memcpy(cdh + 16, &crc, 4);
			loaded += load_copy(buf, len) == 0;
		}
		buf[pkl_off + i] = save;
	}
	{
		uint32_t crc = crc32_update(0, buf + pkl_off, pkl_len);
		memcpy(cdh + 16, &crc, 4);
	}
	CHECK_INT(load_copy(buf, len), 0);
	for (i = 0; i < len; i += 5) {
		unsigned char save = buf[i];
		for (k = 0; k < 3; k++) {
			buf[i] = vals[k];
			loaded += load_copy(buf, len) == 0;
		}
		buf[i] = save;
	}
	CHECK(loaded > 0);
	free(buf);
}

/* ---- the other helper's fixtures, when they exist -------------------- */

static int exists(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (f)
		fclose(f);
	return f != NULL;
}

static void check_shapes(const char *path, const char *arch, const char *ops,
			 const uint32_t *dims, int ndims, int sd)
{
	char got[256];
	int i, l = 0;

	if (pth_load(path, arch, &m, err, sizeof err) != 0) {
		CHECKF(0, "%s: %s", path, err);
		return;
	}
	ops_string(&m, got, sizeof got);
	CHECKF(strcmp(got, ops) == 0, "%s: ops %s", path, got);
	CHECK_INT(m.is_state_dict, sd);
	for (i = 0; i < (int)m.nops; i++) {
		if (m.ops[i].kind != BLOB_OP_LINEAR)
			continue;
		CHECKF(l + 1 < ndims && m.ops[i].in == dims[l] &&
		       m.ops[i].out == dims[l + 1], "%s: Linear %d is %u -> %u",
		       path, l, m.ops[i].in, m.ops[i].out);
		l++;
	}
	CHECK_INT(l, ndims - 1);
	pth_free(&m);
}

static void test_project_fixtures(void)
{
	static const uint32_t tut[] = { 784, 20, 10 }, m2[] = { 784, 64, 32, 10 };

	if (!exists("fixtures/model/data/model.pth")) {
		printf("#   fixtures/model/data/model.pth absent: skipped\n");
		return;
	}
	check_shapes("fixtures/model/data/model.pth", NULL, MLP_OPS, tut, 3, 0);
	CHECK_INT(pth_load("fixtures/model/data/model.pth", NULL, &m, err,
			   sizeof err), 0);
	CHECK_STR(m.root_class, "neural_network.NeuralNetwork");
	CHECK_STR(m.ops[0].path, "sequence.1");
	pth_free(&m);
	check_shapes("fixtures/model_state_dict.pth", NULL, MLP_OPS, tut, 3, 1);
	check_shapes("fixtures/model2_f64.pth", NULL,
		     "linear,tanh,linear,gelu,linear", m2, 4, 0);
	CHECK_INT(pth_load("fixtures/model2_f64.pth", NULL, &m, err, sizeof err), 0);
	CHECK_STR(m.root_class, "__main__.TanhGeluNet");
	CHECK_STR(m.notes, "(root): __main__.TanhGeluNet is an nn.Sequential "
		  "subclass without its own forward(); run as a Sequential");
	pth_free(&m);
	check_shapes("fixtures/model2_f64_state_dict.pth",
		     "linear,tanh,linear,gelu,linear",
		     "linear,tanh,linear,gelu,linear", m2, 4, 1);
}

/* Rows of a CSV with a header line, or of a TSV; values only. */
static int read_rows(const char *path, int header, char sep, int maxrows,
		     double (*rows)[MAXW], int *cols)
{
	static char line[MAXW * 32];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (f == NULL)
		return -1;
	if (header && fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		return -1;
	}
	while (n < maxrows && fgets(line, sizeof line, f) != NULL) {
		char *p = line, *end;
		int k = 0;
		while (k < MAXW) {
			double v = strtod(p, &end);
			if (end == p)
				break;
			rows[n][k++] = v;
			p = *end == sep ? end + 1 : end;
		}
		*cols = k;
		n++;
	}
	fclose(f);
	return n;
}

/* The project's trained models through pth_load and a naive forward pass
 * give the logits torch gave for the same request rows. */
static void check_logits(const char *pth, const char *arch,
			 const char *expected)
{
	static double x[20][MAXW], want[20][MAXW];
	double y[MAXW], worst = 0;
	int nx, ny, in = 0, out = 0, r, j, n;

	nx = read_rows("fixtures/test_data/batch200.csv", 1, ',', 20, x, &in);
	ny = read_rows(expected, 0, '\t', 20, want, &out);
	CHECK(nx == 20 && ny == 20 && in == 784 && out == 10);
	if (pth_load(pth, arch, &m, err, sizeof err) != 0) {
		CHECKF(0, "%s: %s", pth, err);
		return;
	}
	for (r = 0; r < nx && r < ny; r++) {
		for (j = 0; j < in; j++)
			x[r][j] = (float)x[r][j];   /* the model sees float32 */
		forward_row(&m, x[r], in, y, &n);
		CHECK_INT(n, out);
		for (j = 0; j < n && j < out; j++)
			worst = fmax(worst, fabs(y[j] - want[r][j]));
	}
	CHECKF(worst <= 1e-4, "%s: largest difference %g", pth, worst);
	pth_free(&m);
}

static void test_project_logits(void)
{
	if (!exists("fixtures/model/data/model.pth") ||
	    !exists("fixtures/test_data/batch200.csv")) {
		printf("#   project fixtures absent: skipped\n");
		return;
	}
	check_logits("fixtures/model/data/model.pth", NULL,
		     "fixtures/expected/batch200_logits.tsv");
	check_logits("fixtures/model_state_dict.pth", NULL,
		     "fixtures/expected/batch200_logits.tsv");
	check_logits("fixtures/model2_f64.pth", NULL,
		     "fixtures/expected/model2_batch200_logits.tsv");
	check_logits("fixtures/model2_f64_state_dict.pth",
		     "linear,tanh,linear,gelu,linear",
		     "fixtures/expected/model2_batch200_logits.tsv");
}

int main(void)
{
	RUN(test_zoo_module);
	RUN(test_zoo_state_dict);
	RUN(test_dtypes);
	RUN(test_shared_relu);
	RUN(test_views_and_tied_weights);
	RUN(test_checkpoints);
	RUN(test_protocol4);
	RUN(test_user_classes);
	RUN(test_batchnorm_no_affine);
	RUN(test_big_endian);
	RUN(test_arch_parameters);
	RUN(test_cnn_modules);
	RUN(test_cnn_input_shape);
	RUN(test_cnn_state_dict);
	RUN(test_custom_order);
	RUN(test_refused_fixtures);
	RUN(test_hostile_fixtures);
	RUN(test_arch_errors);
	RUN(test_handmade_linear);
	RUN(test_tensor_bounds);
	RUN(test_unsupported_tensors);
	RUN(test_module_errors);
	RUN(test_walk_caps);
	RUN(test_data_parallel);
	RUN(test_root_errors);
	RUN(test_byteorder);
	RUN(test_mutations);
	RUN(test_project_fixtures);
	RUN(test_project_logits);
	return unit_done();
}
