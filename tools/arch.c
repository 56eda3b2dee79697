/*
 * arch.c - the --arch grammar (arch.h): one table of ops, and for each the
 * arguments it takes, positional and by key, with their defaults.
 */
#include "tools/arch.h"
#include "model/err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARCH_MAX_DIM 65535   /* a kernel, stride, padding, dilation or size */

/* What an argument sets in the item. */
enum field {
	F_KERNEL, F_STRIDE, F_PADDING, F_DILATION, F_CEIL, F_COUNT_PAD, F_DIVISOR, F_OUT, F_C, F_H, F_W,
	F_PARAM, F_EPS
};

struct arg_def {
	const char *key;
	enum field field;
	int positional;      /* its place among the positional values, or -1: key only */
};

#define ARGS_END { NULL, 0, -1 }

static const struct arg_def conv_args[] = {
	{ "stride", F_STRIDE, -1 }, { "padding", F_PADDING, -1 }, { "dilation", F_DILATION, -1 }, ARGS_END
};
static const struct arg_def maxpool_args[] = {
	{ "kernel_size", F_KERNEL, 0 }, { "stride", F_STRIDE, 1 }, { "padding", F_PADDING, 2 },
	{ "dilation", F_DILATION, 3 }, { "ceil_mode", F_CEIL, -1 }, ARGS_END
};
static const struct arg_def avgpool_args[] = {
	{ "kernel_size", F_KERNEL, 0 }, { "stride", F_STRIDE, 1 }, { "padding", F_PADDING, 2 },
	{ "ceil_mode", F_CEIL, 3 }, { "count_include_pad", F_COUNT_PAD, 4 }, { "divisor_override", F_DIVISOR, 5 },
	ARGS_END
};
static const struct arg_def adaptive_args[] = { { "output_size", F_OUT, 0 }, ARGS_END };
static const struct arg_def unflatten_args[] = { { "c", F_C, 0 }, { "h", F_H, 1 }, { "w", F_W, 2 }, ARGS_END };
static const struct arg_def slope_args[] = { { "negative_slope", F_PARAM, 0 }, ARGS_END };
static const struct arg_def alpha_args[] = { { "alpha", F_PARAM, 0 }, ARGS_END };
static const struct arg_def bn_args[] = { { "eps", F_EPS, -1 }, ARGS_END };

struct op_def {
	const char *word;
	uint32_t kind;
	const struct arg_def *args;   /* NULL: takes none */
	int required;                 /* positional values that must be given */
	float param;                  /* default param */
};

static const struct op_def ops[] = {
	{ "linear", BLOB_OP_LINEAR, NULL, 0, 0 },
	{ "conv2d", BLOB_OP_CONV2D, conv_args, 0, 0 },
	{ "batchnorm1d", ARCH_BATCHNORM1D, bn_args, 0, 0 },
	{ "batchnorm2d", ARCH_BATCHNORM2D, bn_args, 0, 0 },
	{ "relu", BLOB_OP_RELU, NULL, 0, 0 },
	{ "leaky_relu", BLOB_OP_LEAKY_RELU, slope_args, 0, 0.01f },
	{ "tanh", BLOB_OP_TANH, NULL, 0, 0 },
	{ "sigmoid", BLOB_OP_SIGMOID, NULL, 0, 0 },
	{ "gelu", BLOB_OP_GELU, NULL, 0, 0 },
	{ "gelu_tanh", BLOB_OP_GELU_TANH, NULL, 0, 0 },
	{ "elu", BLOB_OP_ELU, alpha_args, 0, 1.0f },
	{ "softmax", BLOB_OP_SOFTMAX, NULL, 0, 0 },
	{ "log_softmax", BLOB_OP_LOG_SOFTMAX, NULL, 0, 0 },
	{ "flatten", PTH_OP_FLATTEN, NULL, 0, 0 },
	{ "unflatten", PTH_OP_UNFLATTEN, unflatten_args, 3, 0 },
	{ "dropout", ARCH_IDENTITY, NULL, 0, 0 },
	{ "dropout2d", ARCH_IDENTITY, NULL, 0, 0 },
	{ "identity", ARCH_IDENTITY, NULL, 0, 0 },
	{ "maxpool2d", BLOB_OP_MAXPOOL2D, maxpool_args, 1, 0 },
	{ "avgpool2d", BLOB_OP_AVGPOOL2D, avgpool_args, 1, 0 },
	{ "adaptive_avgpool2d", BLOB_OP_ADAPTIVE_AVGPOOL2D, adaptive_args, 1, 0 },
	{ "adaptive_maxpool2d", BLOB_OP_ADAPTIVE_MAXPOOL2D, adaptive_args, 1, 0 },
	{ "scale_shift", BLOB_OP_SCALE_SHIFT, NULL, 0, 0 },
};
#define NOPS (sizeof ops / sizeof ops[0])

const char arch_op_list[] = "linear, relu, leaky_relu, tanh, sigmoid, gelu, gelu_tanh, elu, softmax, log_softmax, "
			    "conv2d, batchnorm1d, batchnorm2d, flatten, unflatten, dropout, dropout2d, identity, "
			    "maxpool2d, avgpool2d, adaptive_avgpool2d, adaptive_maxpool2d";

static const struct op_def *find_op(const char *word)
{
	for (size_t i = 0; i < NOPS; i++)
		if (strcmp(ops[i].word, word) == 0 && ops[i].kind != BLOB_OP_SCALE_SHIFT)
			return &ops[i];
	return NULL;
}

const char *arch_kind_name(uint32_t kind)
{
	for (size_t i = 0; i < NOPS; i++)
		if (ops[i].kind == kind)
			return ops[i].word;
	return "?";
}

int arch_takes_tensors(uint32_t kind)
{
	return kind == BLOB_OP_LINEAR || kind == BLOB_OP_CONV2D || kind == ARCH_BATCHNORM1D ||
	       kind == ARCH_BATCHNORM2D;
}

/* ---- values -------------------------------------------------------------- */

static int parse_uint(const char *s, uint32_t min, uint32_t *v)
{
	char *end;
	unsigned long n;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n < min || n > ARCH_MAX_DIM)
		return -1;
	*v = (uint32_t)n;
	return 0;
}

/* N or HxW. */
static int parse_pair(const char *s, uint32_t min, uint32_t *h, uint32_t *w)
{
	char buf[64];
	const char *x = strchr(s, 'x');

	if (!x)
		return parse_uint(s, min, h) < 0 ? -1 : (*w = *h, 0);
	if ((size_t)(x - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(x - s));
	buf[x - s] = '\0';
	return parse_uint(buf, min, h) < 0 || parse_uint(x + 1, min, w) < 0 ? -1 : 0;
}

static int parse_bool(const char *s, int *v)
{
	if (!strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "True"))
		return *v = 1, 0;
	if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "False"))
		return *v = 0, 0;
	return -1;
}

static int parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return end == s || *end || errno || !isfinite(*v) ? -1 : 0;
}

/* Set one argument's field from its text. */
static int set_field(struct arch_item *it, enum field f, const char *val)
{
	struct blob_geom *g = &it->g;
	double d;
	int b;

	switch (f) {
	case F_KERNEL:
		return parse_pair(val, 1, &g->kh, &g->kw);
	case F_STRIDE:
		return parse_pair(val, 1, &g->sh, &g->sw);
	case F_DILATION:
		return parse_pair(val, 1, &g->dh, &g->dw);
	case F_PADDING:
		if (!strcmp(val, "same"))
			return it->pflags |= PTH_PAD_SAME, 0;
		if (!strcmp(val, "valid"))
			return g->ph = g->pw = 0, 0;
		return parse_pair(val, 0, &g->ph, &g->pw);
	case F_OUT:
		return parse_pair(val, 1, &g->oh, &g->ow);
	case F_C:
		return parse_uint(val, 1, &g->c);
	case F_H:
		return parse_uint(val, 1, &g->h);
	case F_W:
		return parse_uint(val, 1, &g->w);
	case F_DIVISOR:
		return parse_uint(val, 0, &g->divisor);
	case F_CEIL:
	case F_COUNT_PAD:
		if (parse_bool(val, &b) < 0)
			return -1;
		g->flags = b ? g->flags | (f == F_CEIL ? BLOB_GEOM_CEIL_MODE : BLOB_GEOM_COUNT_PAD)
			     : g->flags & ~(f == F_CEIL ? BLOB_GEOM_CEIL_MODE : BLOB_GEOM_COUNT_PAD);
		return 0;
	case F_PARAM:
		if (parse_double(val, &d) < 0)
			return -1;
		it->param = (float)d;
		return 0;
	case F_EPS:
		return parse_double(val, &it->eps) < 0 || !(it->eps > 0) ? -1 : 0;
	}
	return -1;
}

/* ---- items --------------------------------------------------------------- */

static void defaults(struct arch_item *it, const struct op_def *d)
{
	it->kind = d->kind;
	it->word = d->word;
	it->param = d->param;
	it->eps = 1e-5;
	if (d->kind == BLOB_OP_CONV2D || d->kind == BLOB_OP_MAXPOOL2D || d->kind == BLOB_OP_AVGPOOL2D)
		it->g.sh = it->g.sw = it->g.dh = it->g.dw = 1;
	if (d->kind == BLOB_OP_AVGPOOL2D)
		it->g.flags = BLOB_GEOM_COUNT_PAD;
}

static int needs(const struct op_def *d, char *err, size_t errlen)
{
	int pool = d->kind == BLOB_OP_MAXPOOL2D || d->kind == BLOB_OP_AVGPOOL2D;

	return err_set(err, errlen, "--arch: %s needs %s", d->word,
		       d->kind == PTH_OP_UNFLATTEN ? "C,H,W, e.g. unflatten(1,28,28)" :
		       pool ? "its kernel size, e.g. maxpool2d(2)" : "its output size, e.g. adaptive_avgpool2d(3x3)");
}

/* "a,b=c,..." inside OP(...): each value by position or by key. */
static int parse_args(struct arch_item *it, const struct op_def *d, char *args, char *err, size_t errlen)
{
	int pos = 0, seen_key = 0, stride = 0, required = 0;
	char *save = NULL;

	if (!d->args)
		return err_set(err, errlen, "--arch: %s takes no arguments", d->word);
	if (*args && args[strlen(args) - 1] == ',')
		return err_set(err, errlen, "--arch: empty argument in %s(...)", d->word);
	for (char *a = strtok_r(args, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(a, '=');
		const struct arg_def *ad = NULL;
		if (eq) {
			*eq = '\0';
			seen_key = 1;
		} else if (seen_key) {
			return err_set(err, errlen, "--arch: %s: a positional value after a key=value", d->word);
		}
		for (const struct arg_def *p = d->args; p->key && !ad; p++)
			if (eq ? !strcmp(p->key, a) : p->positional == pos)
				ad = p;
		if (!ad && eq)
			return err_set(err, errlen, "--arch: %s has no argument '%.40s'", d->word, a);
		if (!ad)
			return err_set(err, errlen, "--arch: %s takes at most %d positional values", d->word, pos);
		const char *val = eq ? eq + 1 : a;
		if (set_field(it, ad->field, val) < 0)
			return err_set(err, errlen, "--arch: bad value '%.40s' for %s of %s", val, ad->key, d->word);
		stride |= ad->field == F_STRIDE;
		required += ad->positional >= 0 && ad->positional < d->required;
		pos += !eq;
	}
	if (required < d->required)
		return needs(d, err, errlen);
	/* A pool's stride defaults to its kernel, as in torch. */
	if (!stride && (d->kind == BLOB_OP_MAXPOOL2D || d->kind == BLOB_OP_AVGPOOL2D)) {
		it->g.sh = it->g.kh;
		it->g.sw = it->g.kw;
	}
	return 0;
}

/* OP, OP:NUMBER or OP(ARGS) into it; spec is changed. */
static int parse_op(struct arch_item *it, char *spec, char *err, size_t errlen)
{
	char *paren = strchr(spec, '('), *colon = strchr(spec, ':');
	const struct op_def *d;

	if (paren)
		*paren = '\0';
	if (colon && (!paren || colon < paren))
		*colon = '\0';
	else
		colon = NULL;
	if (!(d = find_op(spec)))
		return err_set(err, errlen, "--arch: unknown op '%.40s' (one of %s)", spec, arch_op_list);
	defaults(it, d);
	if (colon) {
		double v;
		if (d->kind != BLOB_OP_LEAKY_RELU && d->kind != BLOB_OP_ELU)
			return err_set(err, errlen, "--arch: %s takes no parameter", d->word);
		if (paren || parse_double(colon + 1, &v) < 0)
			return err_set(err, errlen, "--arch: bad parameter '%.40s' for %s", colon + 1, d->word);
		it->param = (float)v;
		it->has_args = 1;
		return 0;
	}
	if (paren) {
		size_t n = strlen(paren + 1);
		if (n == 0 || paren[n] != ')')
			return err_set(err, errlen, "--arch: %s(...: missing ')'", d->word);
		paren[n] = '\0';
		it->has_args = 1;
		return parse_args(it, d, paren + 1, err, errlen);
	}
	return d->required ? needs(d, err, errlen) : 0;
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) >= PTH_PATH_MAX || *s == '.')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return 0;
	return 1;
}

static int parse_item(struct arch_item *it, char *text, char *err, size_t errlen)
{
	char *paren = strchr(text, '('), *eq = strchr(text, '=');

	memset(it, 0, sizeof *it);
	if (*text == '\0')
		return err_set(err, errlen, "--arch: empty item");
	if (eq && (!paren || eq < paren)) {
		*eq = '\0';
		if (!valid_name(text))
			return err_set(err, errlen, "--arch: '%.60s' is not a layer name (letters, digits, '_' "
				       "and '.')", text);
		snprintf(it->name, sizeof it->name, "%s", text);
		return parse_op(it, eq + 1, err, errlen);
	}
	char word[64];
	size_t wl = strcspn(text, "(:");
	if (wl < sizeof word) {
		memcpy(word, text, wl);
		word[wl] = '\0';
		if (find_op(word))
			return parse_op(it, text, err, errlen);
	}
	if (text[wl] != '\0')   /* NAME(...) or NAME:x: an op name was meant */
		return parse_op(it, text, err, errlen);
	if (!valid_name(text))
		return err_set(err, errlen, "--arch: '%.60s' is neither an op nor a layer name", text);
	snprintf(it->name, sizeof it->name, "%s", text);
	it->kind = ARCH_NAME_ONLY;
	it->word = "";
	return 0;
}

int arch_parse(const char *s, struct arch *a, char *err, size_t errlen)
{
	char *buf, *p, *start;
	size_t n = 0;
	int depth = 0, rc = 0;

	a->n = 0;
	if (strlen(s) > ARCH_MAX_LEN)
		return err_set(err, errlen, "--arch: longer than %d bytes", ARCH_MAX_LEN);
	if (!(buf = malloc(strlen(s) + 1)))
		return err_set(err, errlen, "out of memory");
	for (const char *q = s; *q; q++)
		if (*q != ' ' && *q != '\t')
			buf[n++] = *q;
	buf[n] = '\0';
	for (p = start = buf;; p++) {
		if (*p == '(' && ++depth > 1) {
			rc = err_set(err, errlen, "--arch: nested parentheses");
			break;
		}
		if (*p == ')' && --depth < 0) {
			rc = err_set(err, errlen, "--arch: unbalanced ')'");
			break;
		}
		if ((*p == ',' && depth == 0) || *p == '\0') {
			char end = *p;
			if (depth) {
				rc = err_set(err, errlen, "--arch: missing ')'");
				break;
			}
			*p = '\0';
			if (a->n >= ARCH_MAX_ITEMS) {
				rc = err_set(err, errlen, "--arch: more than %d items", ARCH_MAX_ITEMS);
				break;
			}
			if ((rc = parse_item(&a->items[a->n], start, err, errlen)) < 0)
				break;
			a->n++;
			if (end == '\0')
				break;
			start = p + 1;
		}
	}
	free(buf);
	return rc < 0 ? -1 : 0;
}
