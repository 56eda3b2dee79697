/*
 * pth_ops.c - the ops a .pth file's layers become (pth_int.h), shared by
 * the whole-module walk (pth.c) and the state_dict reader
 * (pth_state_dict.c): Linear and Conv2d from their tensors, a BatchNorm
 * folded into the layer before it or kept as a per-channel scale and
 * shift, and the tensor-free ops of an --arch item.
 */
#include "tools/arch.h"
#include "tools/pth_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pth_op *pth_emit(struct pth_ctx *c, uint32_t kind, const char *path)
{
	struct pth_op *op;

	if (c->m->nops >= BLOB_MAX_OPS) {
		pth_fail(c, "%s: more than %d ops", pth_shown(path), BLOB_MAX_OPS);
		return NULL;
	}
	op = &c->m->ops[c->m->nops++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	snprintf(op->path, sizeof op->path, "%s", path);
	return op;
}

int pth_emit_linear(struct pth_ctx *c, const char *path, struct pth_tensor *w, struct pth_tensor *b,
		    const char *wname)
{
	struct pth_op *op;

	if (w->ndim != 2)
		return pth_fail(c, "%s: %s is %d-D, not a 2-D Linear weight",
				pth_shown(path), wname, w->ndim);
	if (w->shape[0] == 0 || w->shape[1] == 0 ||
	    w->shape[0] > BLOB_MAX_WIDTH || w->shape[1] > BLOB_MAX_WIDTH)
		return pth_fail(c, "%s: Linear of %llu x %llu is out of range",
				pth_shown(path), (unsigned long long)w->shape[0],
				(unsigned long long)w->shape[1]);
	if (b->v != NULL && (b->ndim != 1 || b->shape[0] != w->shape[0]))
		return pth_fail(c, "%s: bias has %llu values for %llu outputs",
				pth_shown(path), (unsigned long long)b->numel,
				(unsigned long long)w->shape[0]);
	op = pth_emit(c, BLOB_OP_LINEAR, path);
	if (op == NULL)
		return -1;
	op->out = (uint32_t)w->shape[0];
	op->in = (uint32_t)w->shape[1];
	op->weight = w->v;
	op->bias = b->v;
	w->v = b->v = NULL;
	return 0;
}

int pth_emit_conv(struct pth_ctx *c, const char *path, struct pth_tensor *w, struct pth_tensor *b,
		  const char *wname, const struct blob_geom *win, uint32_t pflags)
{
	struct pth_op *op;

	if (w->ndim != 4)
		return pth_fail(c, "%s: %s is %d-D, not a 4-D Conv2d weight", pth_shown(path), wname, w->ndim);
	for (int i = 0; i < 4; i++)
		if (w->shape[i] == 0 || w->shape[i] > BLOB_MAX_WIDTH)
			return pth_fail(c, "%s: Conv2d weight of %llu x %llu x %llu x %llu is out of range",
					pth_shown(path), (unsigned long long)w->shape[0],
					(unsigned long long)w->shape[1], (unsigned long long)w->shape[2],
					(unsigned long long)w->shape[3]);
	if (w->shape[1] * w->shape[2] * w->shape[3] > BLOB_MAX_WIDTH)
		return pth_fail(c, "%s: Conv2d window of %llu values is out of range", pth_shown(path),
				(unsigned long long)(w->shape[1] * w->shape[2] * w->shape[3]));
	if (b->v != NULL && (b->ndim != 1 || b->shape[0] != w->shape[0]))
		return pth_fail(c, "%s: bias has %llu values for %llu output channels", pth_shown(path),
				(unsigned long long)b->numel, (unsigned long long)w->shape[0]);
	if ((op = pth_emit(c, BLOB_OP_CONV2D, path)) == NULL)
		return -1;
	op->g = *win;
	op->g.oc = (uint32_t)w->shape[0];
	op->g.c = (uint32_t)w->shape[1];
	op->g.kh = (uint32_t)w->shape[2];
	op->g.kw = (uint32_t)w->shape[3];
	op->pflags = pflags & PTH_PAD_SAME;
	/* torch's [oc][c][kh][kw], contiguous, is already [oc][c*kh*kw]. */
	op->weight = w->v;
	op->bias = b->v;
	w->v = b->v = NULL;
	return 0;
}

/* Scale each output row of the Linear or Conv2d op by s[j] and shift its
 * bias: y = (x - mean) / sqrt(var + eps) * gamma + beta. */
static int fold(struct pth_ctx *c, struct pth_op *op, const char *path, const struct pth_tensor *mean,
		const double *s, const struct pth_tensor *beta, double eps)
{
	uint32_t rows = op->kind == BLOB_OP_LINEAR ? op->out : op->g.oc;
	size_t cols = op->kind == BLOB_OP_LINEAR ? op->in : (size_t)op->g.c * op->g.kh * op->g.kw;

	if (op->bias == NULL && (op->bias = calloc(rows, sizeof(float))) == NULL)
		return pth_fail(c, "out of memory");
	for (uint32_t j = 0; j < rows; j++) {
		for (size_t i = 0; i < cols; i++)
			op->weight[j * cols + i] = (float)(op->weight[j * cols + i] * s[j]);
		op->bias[j] = (float)(s[j] * ((double)op->bias[j] - mean->v[j]) + (beta ? beta->v[j] : 0.0));
	}
	snprintf(op->folded, sizeof op->folded, "%s", path);
	op->folded_eps = eps;
	return 0;
}

/* y[c][p] = x[c][p] * s[c] + (beta[c] - mean[c] * s[c]) */
static int scale_shift(struct pth_ctx *c, const char *path, const struct pth_tensor *mean, const double *s,
		       const struct pth_tensor *beta, uint32_t n, int dims)
{
	struct pth_op *op = pth_emit(c, BLOB_OP_SCALE_SHIFT, path);

	if (op == NULL)
		return -1;
	op->weight = malloc(n * sizeof(float));
	op->bias = malloc(n * sizeof(float));
	if (!op->weight || !op->bias)
		return pth_fail(c, "out of memory");
	for (uint32_t j = 0; j < n; j++) {
		op->weight[j] = (float)s[j];
		op->bias[j] = (float)((beta ? beta->v[j] : 0.0) - mean->v[j] * s[j]);
	}
	op->g.c = n;
	op->pflags = dims == 2 ? PTH_BN2D : 0;
	return 0;
}

int pth_emit_bn(struct pth_ctx *c, const char *path, const struct pth_tensor *mean, const struct pth_tensor *var,
		const struct pth_tensor *gamma, const struct pth_tensor *beta, double eps, int dims)
{
	struct pth_op *op = c->m->nops ? &c->m->ops[c->m->nops - 1] : NULL;
	const struct pth_tensor *v[4] = { mean, var, gamma, beta };
	int lin = op && op->kind == BLOB_OP_LINEAR, conv = op && op->kind == BLOB_OP_CONV2D;
	uint32_t n = (uint32_t)mean->numel;
	double *s;
	int rc;

	if (dims == 0)
		dims = conv ? 2 : 1;
	if ((dims == 2 && lin) || (dims == 1 && conv))
		return pth_fail(c, "%s: BatchNorm%dd right after a %s: torch would refuse its input shape",
				pth_shown(path), dims, lin ? "Linear" : "Conv2d");
	if (mean->numel == 0 || mean->numel > BLOB_MAX_WIDTH)
		return pth_fail(c, "%s: BatchNorm%dd of %llu features is out of range", pth_shown(path), dims,
				(unsigned long long)mean->numel);
	uint32_t want = lin ? op->out : conv ? op->g.oc : n;   /* features: the layer's outputs, or its own */
	for (int k = 0; k < 4; k++)
		if (v[k] != NULL && (v[k]->ndim != 1 || v[k]->numel != want))
			return pth_fail(c, "%s: BatchNorm%dd has %llu features but %s gives %u", pth_shown(path),
					dims, (unsigned long long)v[k]->numel, pth_shown(lin || conv ? op->path : path),
					want);
	if ((s = malloc(n * sizeof *s)) == NULL)
		return pth_fail(c, "out of memory");
	for (uint32_t j = 0; j < n; j++) {
		double den = (double)var->v[j] + eps;
		if (!(den > 0)) {
			free(s);
			return pth_fail(c, "%s: running_var + eps is not positive", pth_shown(path));
		}
		s[j] = (gamma ? gamma->v[j] : 1.0) / sqrt(den);
	}
	rc = lin || conv ? fold(c, op, path, mean, s, beta, eps) : scale_shift(c, path, mean, s, beta, n, dims);
	free(s);
	return rc;
}

int pth_emit_item(struct pth_ctx *c, const struct arch_item *it, const char *path)
{
	struct pth_op *op;

	if (it->kind == ARCH_IDENTITY)
		return 0;
	if ((op = pth_emit(c, it->kind, path)) == NULL)
		return -1;
	op->param = it->param;
	op->g = it->g;
	op->pflags = it->pflags;
	return 0;
}
