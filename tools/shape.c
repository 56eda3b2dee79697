/*
 * shape.c - the shape pass (shape.h): one walk over the ops with the shape
 * of the tensor between them, a flat row of known or not yet known width,
 * or a C,H,W image.
 */
#include "tools/shape.h"
#include "tools/arch.h"
#include "model/err.h"

#include <stdio.h>
#include <string.h>

enum state { UNKNOWN, FLAT, IMAGE };

struct pass {
	struct pth_model *m;
	const uint32_t *given;
	enum state st;
	uint32_t width, c, h, w;
	const char *prev;     /* the op that made the current shape; NULL: the input */
	char *err;
	size_t errlen;
};

static const char *shown(const char *path)
{
	return path[0] ? path : "(root)";
}

static const char *prev_name(const struct pass *p)
{
	return p->prev ? shown(p->prev) : "the input";
}

uint32_t shape_pool_out(uint32_t n, uint32_t k, uint32_t s, uint32_t p, uint32_t d, int ceil_mode)
{
	int64_t span = (int64_t)n + 2 * (int64_t)p - (int64_t)d * (k - 1) - 1;
	int64_t o;

	if (span < 0 || s == 0)
		return 0;
	o = (span + (ceil_mode ? s - 1 : 0)) / s + 1;
	/* torch: the last window must start inside the input or its left padding */
	if (ceil_mode && (o - 1) * (int64_t)s >= (int64_t)n + p)
		o--;
	return o > 0 && o <= BLOB_MAX_WIDTH ? (uint32_t)o : 0;
}

/* The input's width is now known: the elementwise ops before op upto,
 * which waited for it, take it. */
static void set_width(struct pass *p, uint32_t width, uint32_t upto)
{
	for (uint32_t i = 0; i < upto; i++)
		p->m->ops[i].in = p->m->ops[i].out = width;
}

/* The op needs a C,H,W image: make sure there is one. */
static int need_image(struct pass *p, uint32_t i)
{
	const struct pth_op *op = &p->m->ops[i];
	const char *what = arch_kind_name(op->kind);

	if (p->st == IMAGE)
		return 0;
	if (p->st == FLAT)
		return err_set(p->err, p->errlen, "%s: %s needs a C,H,W input but %s gives %u flat values (an "
			       "Unflatten, or the x.view(-1, C, H, W) of forward(), is missing: add unflatten(C,H,W) "
			       "to --arch)", shown(op->path), what, prev_name(p), p->width);
	if (!p->given[0])
		return err_set(p->err, p->errlen, "%s: %s needs the input's shape, which the file does not say: "
			       "pass --input-shape C,H,W (e.g. 1,28,28 when forward() does x.view(-1, 1, 28, 28))",
			       shown(op->path), what);
	p->st = IMAGE;
	p->c = p->given[0];
	p->h = p->given[1];
	p->w = p->given[2];
	memcpy(p->m->input_shape, p->given, sizeof p->m->input_shape);
	set_width(p, p->c * p->h * p->w, i);
	return 0;
}

static int image_out(struct pass *p, struct pth_op *op, uint32_t oc, uint32_t oh, uint32_t ow)
{
	uint64_t out = (uint64_t)oc * oh * ow;

	if (!oh || !ow)
		return err_set(p->err, p->errlen, "%s: the %s window does not fit the %ux%u input from %s",
			       shown(op->path), arch_kind_name(op->kind), p->h, p->w, prev_name(p));
	if (out > BLOB_MAX_WIDTH)
		return err_set(p->err, p->errlen, "%s: output of %llu values is out of range", shown(op->path),
			       (unsigned long long)out);
	op->g.c = p->c;
	op->g.h = p->h;
	op->g.w = p->w;
	op->g.oc = oc;
	op->g.oh = oh;
	op->g.ow = ow;
	op->in = p->c * p->h * p->w;
	op->out = (uint32_t)out;
	p->c = oc;
	p->h = oh;
	p->w = ow;
	p->prev = op->path;
	return 0;
}

static int do_conv(struct pass *p, struct pth_op *op)
{
	struct blob_geom *g = &op->g;

	if (g->c != p->c)
		return err_set(p->err, p->errlen, "%s: Conv2d expects %u input channels but %s gives %u",
			       shown(op->path), g->c, prev_name(p), p->c);
	if (op->pflags & PTH_PAD_SAME) {
		if (g->sh != 1 || g->sw != 1)
			return err_set(p->err, p->errlen, "%s: padding='same' needs stride 1", shown(op->path));
		/* torch pads dilation*(k-1) in all, the odd one after */
		g->ph = g->dh * (g->kh - 1) / 2;
		g->pw = g->dw * (g->kw - 1) / 2;
		return image_out(p, op, g->oc, p->h, p->w);
	}
	return image_out(p, op, g->oc, shape_pool_out(p->h, g->kh, g->sh, g->ph, g->dh, 0),
			 shape_pool_out(p->w, g->kw, g->sw, g->pw, g->dw, 0));
}

static int do_pool(struct pass *p, struct pth_op *op)
{
	struct blob_geom *g = &op->g;
	int ceil = (g->flags & BLOB_GEOM_CEIL_MODE) != 0;

	if (2 * g->ph > g->kh || 2 * g->pw > g->kw)
		return err_set(p->err, p->errlen, "%s: padding %ux%u is more than half the %ux%u window (torch "
			       "refuses it)", shown(op->path), g->ph, g->pw, g->kh, g->kw);
	return image_out(p, op, p->c, shape_pool_out(p->h, g->kh, g->sh, g->ph, g->dh, ceil),
			 shape_pool_out(p->w, g->kw, g->sw, g->pw, g->dw, ceil));
}

static int do_adaptive(struct pass *p, struct pth_op *op)
{
	/* windows come from the sizes alone: no kernel, stride or dilation */
	op->g.kh = op->g.kw = op->g.sh = op->g.sw = op->g.ph = op->g.pw = op->g.dh = op->g.dw = 0;
	return image_out(p, op, p->c, op->g.oh ? op->g.oh : p->h, op->g.ow ? op->g.ow : p->w);
}

static int do_unflatten(struct pass *p, struct pth_op *op, uint32_t i)
{
	const struct blob_geom *g = &op->g;
	uint64_t n = (uint64_t)g->c * g->h * g->w;

	if (n > BLOB_MAX_WIDTH)
		return err_set(p->err, p->errlen, "%s: Unflatten to %ux%ux%u is out of range", shown(op->path), g->c,
			       g->h, g->w);
	if (p->st == IMAGE)
		return err_set(p->err, p->errlen, "%s: Unflatten of a C,H,W tensor is not supported (only of a "
			       "flat row)", shown(op->path));
	if (p->st == FLAT && p->width != n)
		return err_set(p->err, p->errlen, "%s: Unflatten to %ux%ux%u needs %llu values but %s gives %u",
			       shown(op->path), g->c, g->h, g->w, (unsigned long long)n, prev_name(p), p->width);
	if (p->st == UNKNOWN) {
		if (p->given[0] && (p->given[0] != g->c || p->given[1] != g->h || p->given[2] != g->w))
			return err_set(p->err, p->errlen, "%s: Unflatten to %ux%ux%u but the input shape given is "
				       "%ux%ux%u", shown(op->path), g->c, g->h, g->w, p->given[0], p->given[1],
				       p->given[2]);
		p->m->input_shape[0] = g->c;
		p->m->input_shape[1] = g->h;
		p->m->input_shape[2] = g->w;
		set_width(p, (uint32_t)n, i);
	}
	p->st = IMAGE;
	p->c = g->c;
	p->h = g->h;
	p->w = g->w;
	return 0;
}

static int do_linear(struct pass *p, struct pth_op *op, uint32_t i)
{
	if (p->st == IMAGE)
		return err_set(p->err, p->errlen, "%s: Linear gets a %ux%ux%u tensor from %s: flatten it first (add "
			       "flatten to --arch, as forward()'s x.flatten(1) or x.view(N, -1) does)",
			       shown(op->path), p->c, p->h, p->w, prev_name(p));
	if (p->st == FLAT && op->in != p->width)
		return err_set(p->err, p->errlen, "%s: Linear expects %u input features but %s gives %u",
			       shown(op->path), op->in, prev_name(p), p->width);
	if (p->st == UNKNOWN)
		set_width(p, op->in, i);
	p->st = FLAT;
	p->width = op->out;
	p->prev = op->path;
	return 0;
}

/* A BatchNorm that could not be folded: per channel of an image, or per
 * feature of a flat row. */
static int do_scale_shift(struct pass *p, struct pth_op *op, uint32_t i)
{
	int bn2d = (op->pflags & PTH_BN2D) != 0;
	uint32_t n = op->g.c;

	if (bn2d && need_image(p, i) != 0)
		return -1;
	if (!bn2d && p->st == IMAGE)
		return err_set(p->err, p->errlen, "%s: BatchNorm1d gets a %ux%ux%u tensor from %s (torch refuses a "
			       "4-D input): BatchNorm2d was meant?", shown(op->path), p->c, p->h, p->w, prev_name(p));
	if (p->st == UNKNOWN) {
		set_width(p, n, i);
		p->st = FLAT;
		p->width = n;
	}
	if ((p->st == IMAGE ? p->c : p->width) != n)
		return err_set(p->err, p->errlen, "%s: BatchNorm%dd has %u features but %s gives %u", shown(op->path),
			       bn2d ? 2 : 1, n, prev_name(p), p->st == IMAGE ? p->c : p->width);
	op->g.h = op->g.oh = p->st == IMAGE ? p->h : 1;
	op->g.w = op->g.ow = p->st == IMAGE ? p->w : 1;
	op->g.oc = n;
	op->in = op->out = n * op->g.h * op->g.w;
	return 0;
}

/* An elementwise op (or softmax): the shape goes through. */
static int do_elementwise(struct pass *p, struct pth_op *op)
{
	if ((op->kind == BLOB_OP_SOFTMAX || op->kind == BLOB_OP_LOG_SOFTMAX) && p->st == IMAGE)
		return err_set(p->err, p->errlen, "%s: %s over a %ux%ux%u tensor is not supported: only over a flat "
			       "row (flatten first)", shown(op->path), arch_kind_name(op->kind), p->c, p->h, p->w);
	if (p->st == UNKNOWN)
		return 0;   /* set_width() comes back for it */
	op->in = op->out = p->st == IMAGE ? p->c * p->h * p->w : p->width;
	return 0;
}

static int resolve_op(struct pass *p, uint32_t i)
{
	struct pth_op *op = &p->m->ops[i];

	switch (op->kind) {
	case PTH_OP_UNFLATTEN:
		return do_unflatten(p, op, i);
	case PTH_OP_FLATTEN:
		if (p->st == IMAGE) {
			p->st = FLAT;
			p->width = p->c * p->h * p->w;
		}
		return 0;
	case BLOB_OP_LINEAR:
		return do_linear(p, op, i);
	case BLOB_OP_SCALE_SHIFT:
		return do_scale_shift(p, op, i);
	case BLOB_OP_CONV2D:
		return need_image(p, i) != 0 ? -1 : do_conv(p, op);
	case BLOB_OP_MAXPOOL2D:
	case BLOB_OP_AVGPOOL2D:
		return need_image(p, i) != 0 ? -1 : do_pool(p, op);
	case BLOB_OP_ADAPTIVE_AVGPOOL2D:
	case BLOB_OP_ADAPTIVE_MAXPOOL2D:
		return need_image(p, i) != 0 ? -1 : do_adaptive(p, op);
	default:
		return do_elementwise(p, op);
	}
}

int shape_resolve(struct pth_model *m, const uint32_t given[3], char *err, size_t errlen)
{
	static const uint32_t none[3];
	struct pass p = { .m = m, .given = given ? given : none, .st = UNKNOWN, .err = err, .errlen = errlen };
	uint32_t i, n = 0;

	memset(m->input_shape, 0, sizeof m->input_shape);
	if (p.given[0] && (!p.given[1] || !p.given[2] ||
			   (uint64_t)p.given[0] * p.given[1] * p.given[2] > BLOB_MAX_WIDTH))
		return err_set(err, errlen, "input shape %ux%ux%u is out of range", p.given[0], p.given[1],
			       p.given[2]);
	for (i = 0; i < m->nops; i++)
		if (resolve_op(&p, i) != 0)
			return -1;
	if (p.st == UNKNOWN)
		return err_set(err, errlen, "no Linear layer found: nothing to convert");
	/* The markers move no numbers: drop them. */
	for (i = 0; i < m->nops; i++)
		if (m->ops[i].kind != PTH_OP_FLATTEN && m->ops[i].kind != PTH_OP_UNFLATTEN)
			m->ops[n++] = m->ops[i];
	m->nops = n;
	if (n == 0)
		return err_set(err, errlen, "no layer to convert (only reshapes)");
	return 0;
}
