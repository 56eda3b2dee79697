/*
 * v2.c - KServe V2 / Open Inference Protocol tensors in and out.
 *
 * Unlike the Azure and MLflow shapes, a V2 body declares its layout (shape,
 * datatype) instead of leaving it to be inferred, so there is no skeleton
 * here: jsmn tokenizes the whole body, one token per number, and the walk
 * checks "data" against the declaration while it copies the values into
 * ctx->x.  Slower per number than req.c's scanner, but linear, and bounded
 * by the token cap.
 */
#include "model/v2.h"
#include "model/req_int.h"
#include "model/json.h"
#include "model/num.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define V2_MAX_DIMS 16            /* a leading Flatten of an image is 3 or 4 */
#define V2_MAX_CLASSIFICATION 1000000

/* Integer datatypes are read as numbers whose value must be a whole number
 * in the type's range; the model reads float32 either way.  A plain integer
 * is checked exactly against [min, max]; other forms (1e2, 5.0) through
 * their double against [lo, hi). */
struct dtype {
	const char *name;
	int integer;
	int64_t min;
	uint64_t max;
	double lo, hi;
};

static const struct dtype dtypes[] = {
	{ "FP32", 0, 0, 0, 0, 0 },
	{ "FP64", 0, 0, 0, 0, 0 },
	{ "INT8", 1, INT8_MIN, INT8_MAX, -128.0, 128.0 },
	{ "INT16", 1, INT16_MIN, INT16_MAX, -32768.0, 32768.0 },
	{ "INT32", 1, INT32_MIN, INT32_MAX, -2147483648.0, 2147483648.0 },
	{ "INT64", 1, INT64_MIN, INT64_MAX, -9223372036854775808.0, 9223372036854775808.0 },
	{ "UINT8", 1, 0, UINT8_MAX, 0, 256.0 },
	{ "UINT16", 1, 0, UINT16_MAX, 0, 65536.0 },
	{ "UINT32", 1, 0, UINT32_MAX, 0, 4294967296.0 },
	{ "UINT64", 1, 0, UINT64_MAX, 0, 18446744073709551616.0 },
};

/* V2 datatypes the model cannot read as numbers. */
static const char *const refused[] = { "BOOL", "BYTES", "FP16" };

#define DTYPES_ACCEPTED "FP32, FP64, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32 or UINT64"

struct v2w {
	struct req_ctx *c;
	const char *js;
	const jsmntok_t *t;
	struct req_error *e;
	const struct dtype *dt;
	size_t ndims;
	size_t dims[V2_MAX_DIMS];
	size_t idx[V2_MAX_DIMS];   /* where in "data" the walk is, for messages */
	size_t width;              /* values per row */
	float *x;
	const char *bin;           /* the binary extension's bytes after the JSON header */
	size_t bin_len, bin_used;
};

/* ---- messages ---- */

/* "[2, 28, 28]" */
static const char *shape_text(const struct v2w *w, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t d = 0; d < w->ndims && o < len; d++) {
		int n = snprintf(buf + o, len - o, "%s%zu", d ? ", " : "[", w->dims[d]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o < len)
		snprintf(buf + o, len - o, "]");
	return buf;
}

/* "[1][27]": the first `depth` indices of the walk. */
static const char *path_text(const struct v2w *w, size_t depth, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t d = 0; d < depth && o < len; d++) {
		int n = snprintf(buf + o, len - o, "[%zu]", w->idx[d]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return buf;
}

/* ---- the tensor's declaration ---- */

/* A positive whole number from primitive token i, at most max; 0 if not. */
static size_t positive(const char *js, const jsmntok_t *t, double max)
{
	double d;
	if (t->type != JSMN_PRIMITIVE ||
	    num_parse(js + t->start, js + t->end, NUM_JSON, &d) != NUM_OK ||
	    d != floor(d) || d < 1 || d > max)
		return 0;
	return (size_t)d;
}

static int datatype(struct v2w *w, int i)
{
	const jsmntok_t *t = &w->t[i];
	char buf[JSON_ECHO_SIZE];

	if (t->type != JSMN_STRING)
		return req_fail(w->e, REQ_E_TYPE, "inputs[0].datatype must be a string such as \"FP32\", not %s",
			     req_kind_name(w->js, t));
	for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
		if (json_eq(w->js, w->t, i, dtypes[k].name)) {
			w->dt = &dtypes[k];
			return 0;
		}
	for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++)
		if (json_eq(w->js, w->t, i, refused[k]))
			return req_fail(w->e, REQ_E_TYPE, "inputs[0].datatype %s is not supported: the model reads "
				     "numbers; send " DTYPES_ACCEPTED, refused[k]);
	return req_fail(w->e, REQ_E_TYPE, "inputs[0].datatype \"%s\" is not a V2 datatype; send " DTYPES_ACCEPTED,
		     req_tok_text(w->js, t, buf, sizeof buf));
}

/* A model whose rows are images (C, H, W) reads [rows, C, H, W] or the
 * flat [rows, C*H*W], nothing else of that size: [rows, H, W, C] (NHWC)
 * has the same count and another order, and would be misread. */
static int image_layout(const struct v2w *w, const struct req_schema *s)
{
	return w->ndims == 2 || (w->ndims == 4 && w->dims[1] == s->shape[0] && w->dims[2] == s->shape[1] &&
				 w->dims[3] == s->shape[2]);
}

static int shape(struct v2w *w, const struct req_schema *s, int i)
{
	const struct req_limits *lim = &w->c->lim;
	const jsmntok_t *t = &w->t[i];
	char sb[200];

	if (t->type != JSMN_ARRAY || t->size < 1 || t->size > V2_MAX_DIMS)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].shape must be a list of 1 to %d positive whole "
			     "numbers such as [2, %u]", V2_MAX_DIMS, s->width);
	w->ndims = (size_t)t->size;
	size_t per_row = 1;
	int overflow = 0;
	for (size_t d = 0; d < w->ndims; d++) {
		const jsmntok_t *v = &w->t[i + 1 + (int)d];
		char vb[JSON_ECHO_SIZE];
		/* 2^53: every whole number up to it is exact in a double. */
		w->dims[d] = positive(w->js, v, 9007199254740992.0);
		if (!w->dims[d])
			return req_fail(w->e, REQ_E_SHAPE, "inputs[0].shape[%zu] must be a positive whole number, not %s",
				     d, v->type == JSMN_PRIMITIVE ? req_tok_text(w->js, v, vb, sizeof vb) :
				     req_kind_name(w->js, v));
		if (d == 0)
			continue;
		if (per_row > SIZE_MAX / w->dims[d])
			overflow = 1;
		else
			per_row *= w->dims[d];
	}
	if (overflow || per_row != s->width) {
		if (w->ndims == 1)
			return req_fail(w->e, REQ_E_SHAPE, "inputs[0].shape %s has 1 value per row; the model reads "
				     "%u (send [rows, %u])", shape_text(w, sb, sizeof sb), s->width, s->width);
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].shape %s has %s%zu values per row; the model reads %u",
			     shape_text(w, sb, sizeof sb), overflow ? "more than " : "", per_row, s->width);
	}
	if (s->shape[0] && !image_layout(w, s))
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].shape %s is not the model's input [-1, %u, %u, %u] "
			     "(channels, height, width): send [rows, %u, %u, %u] or [rows, %u]",
			     shape_text(w, sb, sizeof sb), s->shape[0], s->shape[1], s->shape[2], s->shape[0],
			     s->shape[1], s->shape[2], s->width);
	size_t rows = w->dims[0];
	if (rows > lim->max_rows)
		return req_fail(w->e, REQ_E_LIMIT, "%zu rows; the limit is %zu", rows, lim->max_rows);
	if (rows > lim->max_values / s->width)
		return req_fail(w->e, REQ_E_LIMIT, "%zu rows of %u values exceed the limit of %zu values",
			     rows, s->width, lim->max_values);
	w->width = s->width;
	return 0;
}

/* ---- data ---- */

/* 1 when the JSON number [p, end) is a whole number in dt's range. */
static int integer_ok(const struct dtype *dt, const char *p, const char *end, double d)
{
	int neg = *p == '-';
	const char *q = p + neg;
	uint64_t mag = 0;

	if (memchr(q, '.', (size_t)(end - q)) || memchr(q, 'e', (size_t)(end - q)) ||
	    memchr(q, 'E', (size_t)(end - q)))
		return d == floor(d) && d >= dt->lo && d < dt->hi;
	for (; q < end; q++) {
		unsigned digit = (unsigned)(*q - '0');
		if (mag > (UINT64_MAX - digit) / 10)
			return 0;
		mag = mag * 10 + digit;
	}
	if (!neg)
		return mag <= dt->max;
	/* -mag >= min, written without overflow: mag - 1 <= -(min + 1) */
	return mag == 0 || (dt->min < 0 && mag - 1 <= (uint64_t)(-(dt->min + 1)));
}

/* Primitive token i to a float32, as the datatype allows; depth is how much
 * of w->idx names its place. */
static int number(struct v2w *w, int i, size_t depth, float *out)
{
	const jsmntok_t *t = &w->t[i];
	const char *p = w->js + t->start, *end = w->js + t->end;
	char pb[200], vb[JSON_ECHO_SIZE];
	double d;

	if (t->type != JSMN_PRIMITIVE || *p == 'n' || *p == 't' || *p == 'f')
		return req_fail(w->e, REQ_E_TYPE, "inputs[0].data%s: %s where a number belongs",
			     path_text(w, depth, pb, sizeof pb), req_kind_name(w->js, t));
	enum num_status st = num_parse(p, end, NUM_JSON, &d);
	float f = (float)d;
	if (st == NUM_OK && !isinf(f) && (!w->dt->integer || integer_ok(w->dt, p, end, d))) {
		*out = f;
		return 0;
	}
	path_text(w, depth, pb, sizeof pb);
	req_tok_text(w->js, t, vb, sizeof vb);
	if (st != NUM_OK && st != NUM_ERANGE)
		return req_fail(w->e, REQ_E_TYPE, "inputs[0].data%s: %s is not a number", pb, vb);
	if (!w->dt->integer)
		return req_fail(w->e, REQ_E_TYPE, "inputs[0].data%s: %s is outside float32's range", pb, vb);
	if (st == NUM_OK && d != floor(d))
		return req_fail(w->e, REQ_E_TYPE, "inputs[0].data%s: %s is not a whole number (datatype %s)",
			     pb, vb, w->dt->name);
	return req_fail(w->e, REQ_E_TYPE, "inputs[0].data%s: %s is outside %s's range", pb, vb, w->dt->name);
}

/* "data": [v, v, ...] in row-major order. */
static int flat(struct v2w *w, int i, size_t total)
{
	const jsmntok_t *t = &w->t[i];
	char sb[200];

	if ((size_t)t->size != total)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].data has %d values; shape %s holds %zu",
			     t->size, shape_text(w, sb, sizeof sb), total);
	/* Numbers are single tokens; the first container stops the loop with
	 * an error, so i + 1 + k is value k. */
	for (size_t k = 0; k < total; k++) {
		w->idx[0] = k;
		if (number(w, i + 1 + (int)k, 1, &w->x[k]) < 0 ||
		    ((k & 0xFFFF) == 0xFFFF && req_deadline(w->c, w->e) < 0))
			return -1;
	}
	return 0;
}

/* "data" nested to the shape: the list at token i is level `level`.
 * Returns the token after it, or -1.  *k counts the values written. */
static int nested(struct v2w *w, int i, size_t level, size_t *k)
{
	const jsmntok_t *t = &w->t[i];
	char pb[200], sb[200];

	if (t->type != JSMN_ARRAY)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].data%s is %s; shape %s needs a list of %zu there",
			     path_text(w, level, pb, sizeof pb), req_kind_name(w->js, t),
			     shape_text(w, sb, sizeof sb), w->dims[level]);
	if ((size_t)t->size != w->dims[level])
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].data%s has %d values; shape %s needs %zu there",
			     path_text(w, level, pb, sizeof pb), t->size,
			     shape_text(w, sb, sizeof sb), w->dims[level]);
	int next = i + 1;
	for (size_t j = 0; j < w->dims[level]; j++) {
		w->idx[level] = j;
		if (level + 1 < w->ndims) {
			next = nested(w, next, level + 1, k);
			if (next < 0)
				return -1;
		} else {
			if (number(w, next, level + 1, &w->x[(*k)++]) < 0 ||
			    ((*k & 0xFFFF) == 0 && req_deadline(w->c, w->e) < 0))
				return -1;
			next++;
		}
	}
	return next;
}

static int data(struct v2w *w, int i, struct v2_request *r)
{
	struct req_ctx *c = w->c;
	const jsmntok_t *t = &w->t[i];
	size_t rows = w->dims[0], total = rows * w->width;

	if (t->type != JSMN_ARRAY)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].data must be a list of numbers, not %s",
			     req_kind_name(w->js, t));
	if (req_reserve(&c->x, &c->x_cap, total, sizeof *c->x) < 0)
		return req_fail(w->e, REQ_E_NOMEM, "out of memory for %zu rows", rows);
	w->x = c->x;
	if (w->ndims > 1 && t->size > 0 && w->t[i + 1].type == JSMN_ARRAY) {
		size_t k = 0;
		if (nested(w, i, 0, &k) < 0)
			return -1;
	} else if (flat(w, i, total) < 0) {
		return -1;
	}
	r->x = c->x;
	r->rows = rows;
	return 0;
}

/* ---- the binary data extension ---- */

/* A JSON boolean at token i into *out; -1 with e naming `what` if not. */
static int boolean(struct v2w *w, int i, const char *what, int *out)
{
	const jsmntok_t *t = &w->t[i];
	char c = w->js[t->start];

	if (t->type != JSMN_PRIMITIVE || (c != 't' && c != 'f'))
		return req_fail(w->e, REQ_E_SHAPE, "%s must be true or false, not %s", what, req_kind_name(w->js, t));
	*out = c == 't';
	return 0;
}

/* inputs[0] with "parameters": {"binary_data_size": B}: B bytes of the
 * binary section, little-endian FP32 in row-major order, exactly the shape. */
static int binary_data(struct v2w *w, int i, struct v2_request *r)
{
	char sb[200];
	size_t rows = w->dims[0], want = rows * w->width * 4;
	size_t size = positive(w->js, &w->t[i], 9007199254740992.0);
	struct req_result rr;

	if (!size)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].parameters.binary_data_size must be a positive "
			     "whole number");
	if (w->dt != &dtypes[0])
		return req_fail(w->e, REQ_E_TYPE, "inputs[0].datatype %s with binary_data_size: binary inputs are FP32 "
			     "only", w->dt->name);
	if (size != want)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].parameters.binary_data_size is %zu; shape %s of FP32 "
			     "takes %zu bytes", size, shape_text(w, sb, sizeof sb), want);
	if (size > w->bin_len - w->bin_used)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].parameters.binary_data_size is %zu, but %zu bytes follow "
			     "the JSON header (Inference-Header-Content-Length)", size, w->bin_len - w->bin_used);
	if (req_decode_f32(w->c, &(struct req_schema){ .width = (uint32_t)w->width }, w->bin + w->bin_used, size,
			   &rr, w->e) < 0) {
		char m[sizeof w->e->msg];
		snprintf(m, sizeof m, "%s", w->e->msg);
		return req_fail(w->e, w->e->code, "inputs[0] binary data: %s", m);
	}
	w->bin_used += size;
	r->x = rr.x;
	r->rows = rr.rows;
	return 0;
}

/* ---- the envelope ---- */

/* "id": a string of at most V2_ID_MAX bytes once decoded; null is absent. */
static int request_id(struct v2w *w, int i, struct v2_request *r)
{
	const jsmntok_t *t = &w->t[i];
	/* An escape is at most 6 bytes of text per decoded byte, so longer text
	 * cannot fit, and shorter text decodes into buf. */
	char buf[6 * V2_ID_MAX + 1];

	if (t->type == JSMN_PRIMITIVE && w->js[t->start] == 'n')
		return 0;
	if (t->type != JSMN_STRING)
		return req_fail(w->e, REQ_E_SHAPE, "\"id\" must be a string, not %s", req_kind_name(w->js, t));
	size_t raw = (size_t)(t->end - t->start);
	int n = raw < sizeof buf ? json_string(w->js, w->t, i, buf, sizeof buf) : (int)sizeof buf;
	if (n < 0)
		return req_fail(w->e, REQ_E_SHAPE, "\"id\" has a bad escape or a NUL character");
	if ((size_t)n > V2_ID_MAX)
		return req_fail(w->e, REQ_E_SHAPE, "\"id\" is longer than %d bytes", V2_ID_MAX);
	memcpy(r->id, buf, (size_t)n + 1);
	return 0;
}

/* "outputs": [{"name": ..., "parameters": {"classification": K}}]: only the
 * first entry matters, as there is one output tensor. */
static int outputs(struct v2w *w, int i, struct v2_request *r)
{
	const jsmntok_t *t = &w->t[i];

	if (t->type != JSMN_ARRAY)
		return req_fail(w->e, REQ_E_SHAPE, "\"outputs\" must be a list of objects, not %s", req_kind_name(w->js, t));
	if (t->size == 0)
		return 0;
	if (w->t[i + 1].type != JSMN_OBJECT)
		return req_fail(w->e, REQ_E_SHAPE, "outputs[0] must be an object, not %s", req_kind_name(w->js, &w->t[i + 1]));
	int p = json_get(w->js, w->t, i + 1, "parameters");
	if (p < 0)
		return 0;
	if (w->t[p].type != JSMN_OBJECT)
		return req_fail(w->e, REQ_E_SHAPE, "outputs[0].parameters must be an object");
	int bd = json_get(w->js, w->t, p, "binary_data");
	if (bd >= 0 && boolean(w, bd, "outputs[0].parameters.binary_data", &r->binary_out) < 0)
		return -1;
	int k = json_get(w->js, w->t, p, "classification");
	if (k < 0)
		return 0;
	size_t v = positive(w->js, &w->t[k], V2_MAX_CLASSIFICATION);
	if (!v)
		return req_fail(w->e, REQ_E_SHAPE, "outputs[0].parameters.classification must be a whole number "
			     "from 1 to %d", V2_MAX_CLASSIFICATION);
	r->classification = (int)v;
	return 0;
}

static int tensor(struct v2w *w, const struct req_schema *s, int in, struct v2_request *r)
{
	const jsmntok_t *t = w->t;

	if (t[in].type != JSMN_OBJECT)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0] must be an object with name, shape, datatype and data");
	int name = json_get(w->js, t, in, "name");
	int dt = json_get(w->js, t, in, "datatype");
	int sh = json_get(w->js, t, in, "shape");
	int dat = json_get(w->js, t, in, "data");
	int par = json_get(w->js, t, in, "parameters");
	int bsz = par >= 0 && t[par].type == JSMN_OBJECT ? json_get(w->js, t, par, "binary_data_size") : -1;
	if (name < 0 || dt < 0 || sh < 0 || (dat < 0 && bsz < 0))
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0] has no \"%s\"", name < 0 ? "name" : dt < 0 ? "datatype" :
			     sh < 0 ? "shape" : "data");
	/* Without binary data after the header, "data" wins, as before the
	 * extension was read. */
	if (dat >= 0 && bsz >= 0 && w->bin_len)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0] has both \"data\" and parameters.binary_data_size: "
			     "send one");
	if (dat >= 0)
		bsz = -1;
	if (t[name].type != JSMN_STRING)
		return req_fail(w->e, REQ_E_SHAPE, "inputs[0].name must be a string, not %s", req_kind_name(w->js, &t[name]));
	if (datatype(w, dt) < 0 || shape(w, s, sh) < 0)
		return -1;
	return bsz >= 0 ? binary_data(w, bsz, r) : data(w, dat, r);
}

/* The request-level "parameters": {"binary_data_output": true} asks for
 * every output as binary; an output's own binary_data overrides it. */
static int request_params(struct v2w *w, int i, struct v2_request *r)
{
	if (w->t[i].type != JSMN_OBJECT)
		return 0;   /* as before the extension: other parameters are not read */
	int b = json_get(w->js, w->t, i, "binary_data_output");
	return b >= 0 ? boolean(w, b, "parameters.binary_data_output", &r->binary_out) : 0;
}

int v2_decode(struct req_ctx *ctx, const struct req_schema *s, const char *body, size_t len,
	      struct v2_request *r, struct req_error *e)
{
	return v2_decode_binary(ctx, s, body, len, len, r, e);
}

int v2_decode_binary(struct req_ctx *ctx, const struct req_schema *s, const char *body, size_t len,
		     size_t header_len, struct v2_request *r, struct req_error *e)
{
	size_t bad;
	const char *why;

	memset(r, 0, sizeof *r);
	if (req_start(ctx, len, e) < 0)
		return -1;
	if (header_len > len)
		return req_fail(e, REQ_E_SHAPE, "Inference-Header-Content-Length %zu is not within the body's "
				"%zu bytes", header_len, len);
	const char *bin = body + header_len;
	size_t bin_len = len - header_len;
	len = header_len;
	/* jsmn closes a container by walking up its parents: quadratic in the
	 * depth, so deep text is refused before it runs. */
	if (!json_depth_ok(body, len))
		return req_fail(e, REQ_E_JSON, "malformed JSON: nested too deeply (more than %d levels)", JSON_MAX_DEPTH);
	int n = req_tokenize(ctx, body, len, NULL, e);
	if (n < 0)
		return -1;
	if (json_validate(body, len, ctx->tok, n, &bad, &why) < 0) {
		char m[sizeof e->msg];
		return req_fail(e, REQ_E_JSON, "%s", json_refusal(body, bad, why, bad, m, sizeof m));
	}

	if (req_deadline(ctx, e) < 0)
		return -1;
	struct v2w w = { .c = ctx, .js = body, .t = ctx->tok, .e = e, .bin = bin, .bin_len = bin_len };
	if (w.t[0].type != JSMN_OBJECT)
		return req_fail(e, REQ_E_SHAPE, "expected a JSON object such as {\"inputs\": [{\"name\": \"input-0\", "
			     "\"shape\": [1, %u], \"datatype\": \"FP32\", \"data\": [...]}]}", s->width);
	int id = json_get(body, w.t, 0, "id");
	if (id >= 0 && request_id(&w, id, r) < 0)
		return -1;
	int par = json_get(body, w.t, 0, "parameters");
	if (par >= 0 && request_params(&w, par, r) < 0)
		return -1;
	int out = json_get(body, w.t, 0, "outputs");
	if (out >= 0 && outputs(&w, out, r) < 0)
		return -1;
	int in = json_get(body, w.t, 0, "inputs");
	if (in < 0)
		return req_fail(e, REQ_E_SHAPE, "the body has no \"inputs\"");
	if (w.t[in].type != JSMN_ARRAY)
		return req_fail(e, REQ_E_SHAPE, "\"inputs\" must be a list of tensors, not %s", req_kind_name(body, &w.t[in]));
	if (w.t[in].size != 1)
		return req_fail(e, REQ_E_SHAPE, "\"inputs\" has %d tensors; the model reads exactly one", w.t[in].size);
	if (tensor(&w, s, in + 1, r) < 0 ||
	    (w.bin_used != bin_len && req_fail(e, REQ_E_SHAPE, "%zu bytes follow the JSON header "
					       "(Inference-Header-Content-Length) that no input's binary_data_size "
					       "takes", bin_len - w.bin_used) < 0)) {
		r->x = NULL;
		r->rows = 0;
		return -1;
	}
	return 0;
}

/* ---- the response ---- */

/* Each row's k best as flat "score:index[:label]" strings.  enc_top_k owns
 * the order (value descending, then index ascending); it nests per row, so
 * each row is written as a one-row batch, [["a", "b"]], and unwrapped. */
static void top_k_flat(struct enc_buf *b, const float *y, size_t rows, size_t w, size_t k,
		       const char *const *labels)
{
	enc_raw(b, "[", 1);
	for (size_t r = 0; r < rows; r++) {
		int had = b->nonfinite;
		if (r)
			enc_raw(b, ", ", 2);
		size_t at = b->len;
		enc_top_k(b, y + r * w, 1, w, k, labels);
		if (b->full)
			return;
		if (!had && b->nonfinite)
			b->bad_row = r;
		memmove(b->p + at, b->p + at + 2, b->len - at - 4);
		b->len -= 4;
		b->p[b->len] = '\0';
	}
	enc_raw(b, "]", 1);
}

/* An answer's {"model_name", "model_version" (when there is one), "id"
 * (when the request gave one), up to its outputs. */
static void answer_head(struct enc_buf *b, const char *model_name, const char *model_version, const char *id)
{
	enc_cstr(b, "{\"model_name\": ");
	enc_string(b, model_name ? model_name : "");
	if (model_version && *model_version) {
		enc_cstr(b, ", \"model_version\": ");
		enc_string(b, model_version);
	}
	if (id && *id) {
		enc_cstr(b, ", \"id\": ");
		enc_string(b, id);
	}
}

void v2_encode(struct enc_buf *b, const char *model_name, const char *model_version,
	       const char *id, const float *y, size_t rows, size_t w, int classification,
	       const char *const *labels)
{
	size_t k = classification > 0 ? ((size_t)classification < w ? (size_t)classification : w) : w;
	char tmp[96];

	answer_head(b, model_name, model_version, id);
	snprintf(tmp, sizeof tmp, ", \"outputs\": [{\"name\": \"output-0\", \"shape\": [%zu, %zu], ", rows, k);
	enc_cstr(b, tmp);
	if (classification > 0) {
		enc_cstr(b, "\"datatype\": \"BYTES\", \"data\": ");
		top_k_flat(b, y, rows, w, k, labels);
	} else {
		int had = b->nonfinite;
		enc_cstr(b, "\"datatype\": \"FP32\", \"data\": ");
		enc_flat(b, y, rows * w);
		if (!had && b->nonfinite && w)
			b->bad_row /= w;   /* enc_flat counts values; bad_row is a row */
	}
	enc_cstr(b, "}]}");
}

/* y[k] as 4 little-endian bytes at p. */
static void put_le_f32(unsigned char *p, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	p[0] = (unsigned char)u;
	p[1] = (unsigned char)(u >> 8);
	p[2] = (unsigned char)(u >> 16);
	p[3] = (unsigned char)(u >> 24);
}

size_t v2_encode_binary(struct enc_buf *b, const char *model_name, const char *model_version,
			const char *id, const float *y, size_t rows, size_t w)
{
	size_t n = rows * w;
	unsigned char q[4];
	char tmp[160];

	answer_head(b, model_name, model_version, id);
	snprintf(tmp, sizeof tmp, ", \"outputs\": [{\"name\": \"output-0\", \"shape\": [%zu, %zu], \"datatype\": "
		 "\"FP32\", \"parameters\": {\"binary_data_size\": %zu}}]}", rows, w, n * 4);
	enc_cstr(b, tmp);
	size_t header = b->len;
	for (size_t k = 0; k < n && !b->full; k++) {
		if (!isfinite(y[k]) && !b->nonfinite) {
			b->nonfinite = 1;
			b->bad_row = w ? k / w : 0;
		}
		put_le_f32(q, y[k]);
		enc_raw(b, (const char *)q, 4);
	}
	return header;
}
