/*
 * pth_layers.c - torch's layers in a whole pickled module, one reader
 * each, and the table that finds them by class (pth_int.h).  Each reader
 * checks the module's attributes as torch 1.13 pickles them and emits its
 * ops (pth_ops.c); anything it cannot reproduce exactly is refused in one
 * line naming the module path.
 */
#include "tools/arch.h"
#include "tools/pth_int.h"

#include <stdio.h>
#include <string.h>

/* A named tensor of _parameters or _buffers: NULL when absent or None. */
static const struct pkl_node *member(const struct pkl_node *mod,
				     const char *dict, const char *name)
{
	const struct pkl_node *v = pkl_dict_get(pkl_attr(mod, dict), name);

	return v != NULL && v->kind != PKL_NONE ? v : NULL;
}

/* A tuple, a list, or torch.Size(tuple): its items; NULL otherwise. */
static const struct pkl_seq *as_seq(const struct pkl_node *n)
{
	if (n && n->kind == PKL_CALL && n->u.call.args && n->u.call.args->u.seq.n == 1)
		n = n->u.call.args->u.seq.v[0];
	return n && (n->kind == PKL_TUPLE || n->kind == PKL_LIST) ? &n->u.seq : NULL;
}

/* An int or a pair of ints (kernel_size=3 or (3, 5)) into *h, *w; an
 * absent attribute keeps them.  Values below min or above 65535 fail. */
static int get_pair(struct pth_ctx *c, const struct pkl_node *mod, const char *path, const char *attr,
		    uint32_t min, uint32_t *h, uint32_t *w)
{
	const struct pkl_node *n = pkl_attr(mod, attr);
	const struct pkl_seq *s = as_seq(n);
	int64_t a, b;

	if (n == NULL)
		return 0;
	if (s && (s->n != 2 || pth_get_int(s->v[0], &a) != 0 || pth_get_int(s->v[1], &b) != 0))
		return pth_fail(c, "%s: %s is not an int or a pair of ints", pth_shown(path), attr);
	if (!s && pth_get_int(n, &a) != 0)
		return pth_fail(c, "%s: %s is not an int or a pair of ints", pth_shown(path), attr);
	if (!s)
		b = a;
	if (a < (int64_t)min || b < (int64_t)min || a > 65535 || b > 65535)
		return pth_fail(c, "%s: %s (%lld, %lld) is out of range", pth_shown(path), attr, (long long)a,
				(long long)b);
	*h = (uint32_t)a;
	*w = (uint32_t)b;
	return 0;
}

/* A bool attribute (absent: dflt). */
static int get_flag(struct pth_ctx *c, const struct pkl_node *mod, const char *path, const char *attr, int dflt,
		    int *v)
{
	const struct pkl_node *n = pkl_attr(mod, attr);
	int64_t x = dflt;

	if (n != NULL && pth_get_int(n, &x) != 0)
		return pth_fail(c, "%s: %s is not a bool", pth_shown(path), attr);
	*v = x != 0;
	return 0;
}

static int do_linear(struct pth_ctx *c, const struct pkl_node *mod, const char *path, const struct pth_layer *k)
{
	const struct pkl_node *wn = member(mod, "_parameters", "weight");
	struct pth_tensor w, b;
	int64_t inf, outf;
	int rc = -1;

	(void)k;
	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	if (wn == NULL)
		return pth_fail(c, "%s: Linear has no weight parameter (weight_norm "
				"or a parametrization?)", pth_shown(path));
	if (pth_get_tensor(c, wn, path, &w) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	if (w.ndim == 2 &&
	    ((pth_get_int(pkl_attr(mod, "in_features"), &inf) == 0 &&
	      (uint64_t)inf != w.shape[1]) ||
	     (pth_get_int(pkl_attr(mod, "out_features"), &outf) == 0 &&
	      (uint64_t)outf != w.shape[0]))) {
		pth_fail(c, "%s: weight is [%llu, %llu] but in_features/out_features "
			 "disagree", pth_shown(path), (unsigned long long)w.shape[0],
			 (unsigned long long)w.shape[1]);
		goto out;
	}
	rc = pth_emit_linear(c, path, &w, &b, "weight");
out:
	pth_free_tensor(&w);
	pth_free_tensor(&b);
	return rc;
}

/* Conv2d's padding: 'same', 'valid', an int or a pair. */
static int conv_padding(struct pth_ctx *c, const struct pkl_node *mod, const char *path, struct blob_geom *g,
			uint32_t *pflags)
{
	const struct pkl_node *p = pkl_attr(mod, "padding");

	if (p == NULL || p->kind != PKL_STR)
		return get_pair(c, mod, path, "padding", 0, &g->ph, &g->pw);
	if (strcmp(p->u.str.s, "same") == 0)
		*pflags |= PTH_PAD_SAME;
	else if (strcmp(p->u.str.s, "valid") != 0)
		return pth_fail(c, "%s: Conv2d padding='%.32s' is not supported", pth_shown(path), p->u.str.s);
	return 0;
}

static int do_conv(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_node *wn = member(mod, "_parameters", "weight"), *pm = pkl_attr(mod, "padding_mode");
	struct blob_geom g = { .sh = 1, .sw = 1, .dh = 1, .dw = 1 };
	struct pth_tensor w, b;
	uint32_t pflags = 0;
	int64_t groups = 1;
	int rc = -1;

	(void)k;
	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	if (pkl_attr(mod, "groups") && (pth_get_int(pkl_attr(mod, "groups"), &groups) != 0 || groups != 1))
		return pth_fail(c, "%s: Conv2d with groups=%lld is not supported (only groups=1)", pth_shown(path),
				(long long)groups);
	if (pm && (pm->kind != PKL_STR || strcmp(pm->u.str.s, "zeros") != 0))
		return pth_fail(c, "%s: Conv2d with padding_mode='%.32s' is not supported (only 'zeros')",
				pth_shown(path), pm->kind == PKL_STR ? pm->u.str.s : "?");
	if (wn == NULL)
		return pth_fail(c, "%s: Conv2d has no weight parameter (weight_norm or a parametrization?)",
				pth_shown(path));
	if (get_pair(c, mod, path, "stride", 1, &g.sh, &g.sw) != 0 ||
	    get_pair(c, mod, path, "dilation", 1, &g.dh, &g.dw) != 0 || conv_padding(c, mod, path, &g, &pflags) != 0)
		return -1;
	if (pth_get_tensor(c, wn, path, &w) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	rc = pth_emit_conv(c, path, &w, &b, "weight", &g, pflags);
out:
	pth_free_tensor(&w);
	pth_free_tensor(&b);
	return rc;
}

static int emit_pool(struct pth_ctx *c, const char *path, uint32_t kind, const struct blob_geom *g)
{
	struct pth_op *op = pth_emit(c, kind, path);

	if (op == NULL)
		return -1;
	op->g = *g;
	return 0;
}

/* MaxPool2d and AvgPool2d: kernel, stride (None: the kernel), padding,
 * ceil_mode; dilation for max; count_include_pad, divisor_override for avg. */
static int do_pool(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	struct blob_geom g = { .dh = 1, .dw = 1 };
	const struct pkl_node *st = pkl_attr(mod, "stride"), *dv = pkl_attr(mod, "divisor_override");
	int avg = k->kind == BLOB_OP_AVGPOOL2D, ceil = 0, cpad = 1, ri = 0;
	int64_t div = 0;

	if (get_pair(c, mod, path, "kernel_size", 1, &g.kh, &g.kw) != 0 || g.kh == 0)
		return g.kh ? -1 : pth_fail(c, "%s: pooling without kernel_size", pth_shown(path));
	g.sh = g.kh;
	g.sw = g.kw;
	if (st && st->kind != PKL_NONE && !(as_seq(st) && as_seq(st)->n == 0) &&
	    get_pair(c, mod, path, "stride", 1, &g.sh, &g.sw) != 0)
		return -1;
	if (get_pair(c, mod, path, "padding", 0, &g.ph, &g.pw) != 0 ||
	    (!avg && get_pair(c, mod, path, "dilation", 1, &g.dh, &g.dw) != 0) ||
	    get_flag(c, mod, path, "ceil_mode", 0, &ceil) != 0 ||
	    get_flag(c, mod, path, "return_indices", 0, &ri) != 0 ||
	    (avg && get_flag(c, mod, path, "count_include_pad", 1, &cpad) != 0))
		return -1;
	if (ri)
		return pth_fail(c, "%s: MaxPool2d(return_indices=True) returns a tuple; not supported",
				pth_shown(path));
	if (avg && dv && dv->kind != PKL_NONE && (pth_get_int(dv, &div) != 0 || div < 1 || div > 65535))
		return pth_fail(c, "%s: divisor_override is not a positive int", pth_shown(path));
	g.flags = (ceil ? BLOB_GEOM_CEIL_MODE : 0) | (avg && cpad ? BLOB_GEOM_COUNT_PAD : 0);
	g.divisor = (uint32_t)div;
	return emit_pool(c, path, k->kind, &g);
}

/* AdaptiveAvgPool2d / AdaptiveMaxPool2d: output_size N, (H, W), None keeps. */
static int do_adaptive(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_node *n = pkl_attr(mod, "output_size");
	const struct pkl_seq *s = as_seq(n);
	struct blob_geom g = { 0 };
	int64_t v[2] = { 0, 0 };
	int ri = 0;

	if (n == NULL || (s && s->n != 2))
		return pth_fail(c, "%s: output_size is not an int or a pair", pth_shown(path));
	for (int i = 0; i < 2; i++) {
		const struct pkl_node *e = s ? s->v[i] : n;
		if (e->kind == PKL_NONE)
			continue;   /* keep that size: 0 */
		if (pth_get_int(e, &v[i]) != 0 || v[i] < 1 || v[i] > 65535)
			return pth_fail(c, "%s: output_size is not a positive int, a pair or None", pth_shown(path));
	}
	if (get_flag(c, mod, path, "return_indices", 0, &ri) != 0 || ri)
		return ri ? pth_fail(c, "%s: return_indices=True returns a tuple; not supported", pth_shown(path)) : -1;
	g.oh = (uint32_t)v[0];
	g.ow = (uint32_t)v[1];
	return emit_pool(c, path, k->kind, &g);
}

static int do_batchnorm(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_node *mn = member(mod, "_buffers", "running_mean");
	const struct pkl_node *vn = member(mod, "_buffers", "running_var");
	const struct pkl_node *tr = pkl_attr(mod, "training");
	int dims = k->kind == ARCH_BATCHNORM2D ? 2 : 1;
	struct pth_tensor mean, var, g, b;
	double eps = 1e-5;
	int rc = -1;

	memset(&mean, 0, sizeof mean);
	memset(&var, 0, sizeof var);
	memset(&g, 0, sizeof g);
	memset(&b, 0, sizeof b);
	if (mn == NULL || vn == NULL)
		return pth_fail(c, "%s: BatchNorm%dd without running statistics "
				"(track_running_stats=False) is not supported",
				pth_shown(path), dims);
	if (pkl_attr(mod, "eps") != NULL &&
	    pth_get_float(pkl_attr(mod, "eps"), &eps) != 0)
		return pth_fail(c, "%s: BatchNorm%dd eps is not a number", pth_shown(path), dims);
	if (pth_get_tensor(c, mn, path, &mean) != 0 ||
	    pth_get_tensor(c, vn, path, &var) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "weight"), path, &g) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	rc = pth_emit_bn(c, path, &mean, &var, g.v ? &g : NULL, b.v ? &b : NULL, eps, dims);
	if (rc == 0 && tr != NULL && tr->kind == PKL_BOOL && tr->u.boolean)
		pth_note(c, "%s: BatchNorm%dd saved in training mode; %s with its "
			 "running statistics (eval behaviour)", pth_shown(path), dims,
			 c->m->ops[c->m->nops - 1].kind == BLOB_OP_SCALE_SHIFT ? "applied" : "folded");
out:
	pth_free_tensor(&mean);
	pth_free_tensor(&var);
	pth_free_tensor(&g);
	pth_free_tensor(&b);
	return rc;
}

int pth_flatten_dims(const struct pkl_node *mod, int64_t *start, int64_t *end)
{
	*start = 1;
	*end = -1;
	return (pkl_attr(mod, "start_dim") != NULL && pth_get_int(pkl_attr(mod, "start_dim"), start) != 0) ||
	       (pkl_attr(mod, "end_dim") != NULL && pth_get_int(pkl_attr(mod, "end_dim"), end) != 0) ? -1 : 0;
}

static int do_flatten(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	int64_t start, end;

	(void)k;
	if (pth_flatten_dims(mod, &start, &end) != 0)
		return pth_fail(c, "%s: Flatten dims are not integers", pth_shown(path));
	if (start != 1 || end != -1)
		return pth_fail(c, "%s: Flatten(start_dim=%lld, end_dim=%lld) is not "
				"supported: only Flatten(1, -1)", pth_shown(path),
				(long long)start, (long long)end);
	return pth_emit(c, PTH_OP_FLATTEN, path) ? 0 : -1;
}

/* Unflatten(1, (C, H, W)): a flat row seen as a C,H,W image. */
static int do_unflatten(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_seq *s = as_seq(pkl_attr(mod, "unflattened_size"));
	int64_t dim = 0, v[3];
	struct pth_op *op;

	(void)k;
	if (pth_get_int(pkl_attr(mod, "dim"), &dim) != 0 || (dim != 1 && dim != -1) || s == NULL || s->n != 3)
		return pth_fail(c, "%s: only Unflatten(1, (C, H, W)) is supported", pth_shown(path));
	for (int i = 0; i < 3; i++)
		if (pth_get_int(s->v[i], &v[i]) != 0 || v[i] < 1 || v[i] > BLOB_MAX_WIDTH)
			return pth_fail(c, "%s: Unflatten sizes must be positive ints (-1 is not supported)",
					pth_shown(path));
	if ((op = pth_emit(c, PTH_OP_UNFLATTEN, path)) == NULL)
		return -1;
	op->g.c = (uint32_t)v[0];
	op->g.h = (uint32_t)v[1];
	op->g.w = (uint32_t)v[2];
	return 0;
}

static int do_identity(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_node *tr = pkl_attr(mod, "training");

	if (strncmp(k->name, "dropout.", 8) == 0 && tr && tr->kind == PKL_BOOL && tr->u.boolean &&
	    !c->dropout_noted) {
		c->dropout_noted = 1;
		pth_note(c, "%s: dropout saved in training mode; the identity, as in eval()", pth_shown(path));
	}
	return 0;
}

static int do_plain(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	(void)mod;
	return pth_emit(c, k->kind, path) ? 0 : -1;
}

static int do_softmax(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const char *cls = k->kind == BLOB_OP_SOFTMAX ? "Softmax" : "LogSoftmax";
	const struct pkl_node *d = pkl_attr(mod, "dim");
	int64_t dim;

	if (d != NULL && d->kind != PKL_NONE) {
		if (pth_get_int(d, &dim) != 0)
			return pth_fail(c, "%s: %s dim is not an integer", pth_shown(path),
					cls);
		if (dim == 0)
			return pth_fail(c, "%s: %s over dim 0 (the batch) is not "
					"supported; use dim=-1", pth_shown(path), cls);
		if (dim != -1 && dim != 1)
			return pth_fail(c, "%s: %s(dim=%lld) is not supported: only the "
					"last dimension (-1 or 1)", pth_shown(path), cls,
					(long long)dim);
	}
	return pth_emit(c, k->kind, path) ? 0 : -1;
}

static int do_param_act(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_node *a = pkl_attr(mod, k->attr);
	struct pth_op *op;
	double v = k->dflt;

	if (a != NULL && pth_get_float(a, &v) != 0)
		return pth_fail(c, "%s: %s is not a number", pth_shown(path), k->attr);
	if ((op = pth_emit(c, k->kind, path)) == NULL)
		return -1;
	op->param = (float)v;
	return 0;
}

static int do_gelu(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pth_layer *k)
{
	const struct pkl_node *a = pkl_attr(mod, "approximate");
	uint32_t kind = BLOB_OP_GELU;

	(void)k;
	if (a != NULL) {
		if (a->kind != PKL_STR)
			return pth_fail(c, "%s: GELU approximate is not a string",
					pth_shown(path));
		if (strcmp(a->u.str.s, "tanh") == 0)
			kind = BLOB_OP_GELU_TANH;
		else if (strcmp(a->u.str.s, "none") != 0)
			return pth_fail(c, "%s: GELU(approximate='%.32s') is not "
					"supported", pth_shown(path), a->u.str.s);
	}
	return pth_emit(c, kind, path) ? 0 : -1;
}

/* torch's layers by class. */
static const struct pth_layer layers[] = {
	{ "linear.Linear", do_linear, BLOB_OP_LINEAR, NULL, 0 },
	{ "conv.Conv2d", do_conv, BLOB_OP_CONV2D, NULL, 0 },
	{ "linear.Identity", do_identity, ARCH_IDENTITY, NULL, 0 },
	{ "dropout.Dropout", do_identity, ARCH_IDENTITY, NULL, 0 },
	{ "dropout.Dropout1d", do_identity, ARCH_IDENTITY, NULL, 0 },
	{ "dropout.Dropout2d", do_identity, ARCH_IDENTITY, NULL, 0 },
	{ "dropout.AlphaDropout", do_identity, ARCH_IDENTITY, NULL, 0 },
	{ "dropout.FeatureAlphaDropout", do_identity, ARCH_IDENTITY, NULL, 0 },
	{ "flatten.Flatten", do_flatten, PTH_OP_FLATTEN, NULL, 0 },
	{ "flatten.Unflatten", do_unflatten, PTH_OP_UNFLATTEN, NULL, 0 },
	{ "batchnorm.BatchNorm1d", do_batchnorm, ARCH_BATCHNORM1D, NULL, 0 },
	{ "batchnorm.BatchNorm2d", do_batchnorm, ARCH_BATCHNORM2D, NULL, 0 },
	{ "pooling.MaxPool2d", do_pool, BLOB_OP_MAXPOOL2D, NULL, 0 },
	{ "pooling.AvgPool2d", do_pool, BLOB_OP_AVGPOOL2D, NULL, 0 },
	{ "pooling.AdaptiveAvgPool2d", do_adaptive, BLOB_OP_ADAPTIVE_AVGPOOL2D, NULL, 0 },
	{ "pooling.AdaptiveMaxPool2d", do_adaptive, BLOB_OP_ADAPTIVE_MAXPOOL2D, NULL, 0 },
	{ "activation.ReLU", do_plain, BLOB_OP_RELU, NULL, 0 },
	{ "activation.Tanh", do_plain, BLOB_OP_TANH, NULL, 0 },
	{ "activation.Sigmoid", do_plain, BLOB_OP_SIGMOID, NULL, 0 },
	{ "activation.LeakyReLU", do_param_act, BLOB_OP_LEAKY_RELU, "negative_slope", 0.01 },
	{ "activation.ELU", do_param_act, BLOB_OP_ELU, "alpha", 1.0 },
	{ "activation.GELU", do_gelu, BLOB_OP_GELU, NULL, 0 },
	{ "activation.Softmax", do_softmax, BLOB_OP_SOFTMAX, NULL, 0 },
	{ "activation.LogSoftmax", do_softmax, BLOB_OP_LOG_SOFTMAX, NULL, 0 },
};

const struct pth_layer *pth_layer_of(const char *cls)
{
	if (strncmp(cls, NN, strlen(NN)) != 0)
		return NULL;
	for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
		if (strcmp(cls + strlen(NN), layers[i].name) == 0)
			return &layers[i];
	return NULL;
}
