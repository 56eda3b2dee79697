/*
 * blob.c - write, map and validate model blobs (docs/blob-format.md).
 *
 * The loader trusts nothing in the file: every offset and size is checked
 * against the file with 64-bit arithmetic before any pointer is formed, and
 * the checksum is verified before the model is handed out.
 */
#include "model/blob.h"
#include "model/atomic.h"
#include "model/crc32.h"
#include "model/enc.h"
#include "model/err.h"
#include "model/file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "scorepoint maps little-endian blobs in place and needs a little-endian host"
#endif

/* On-disk layout.  All fields little-endian; see docs/blob-format.md.
 * Version 2 widens the header and the op record; what version 1 has keeps
 * its offset, so the first 128 bytes of a header and the first 32 of an
 * op record mean the same in both. */
#define CRC_FROM 32   /* the checksum covers bytes [32, file_size) */

static const struct format {
	uint32_t header_size;
	uint32_t op_size;
} formats[BLOB_FORMAT_VERSION + 1] = {
	[1] = { BLOB_HEADER_MIN, 32 },
	[2] = { 256, 128 },
};

struct disk_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	uint32_t crc32;
	uint32_t flags;
	/* -- covered by the checksum from here (offset 32) -- */
	uint32_t nops;
	uint32_t input_width;
	uint32_t output_width;
	uint32_t postprocess;
	uint32_t ncolumns;
	uint32_t nlabels;
	uint64_t ops_offset;
	uint64_t strings_offset;
	uint64_t strings_size;
	uint32_t name_str;
	uint32_t version_str;
	uint32_t digest_str;
	uint32_t op_size;            /* v2; v1: reserved */
	uint64_t columns_offset;
	uint64_t labels_offset;
	uint32_t input_shape[3];     /* v2; v1: reserved */
	uint32_t model_flags;        /* v2; v1: reserved */
	/* -- version 2 only from here (offset 128) -- */
	int64_t verify_at;
	float verify_max_diff;
	uint32_t verify_rows;
	uint32_t verify_argmax_agree;
	uint32_t torch_version_str;
	uint64_t reserved[13];
};

struct disk_op {
	uint32_t kind;
	uint32_t in;
	uint32_t out;
	float param;
	uint64_t weight_offset;
	uint64_t bias_offset;   /* 0: no bias */
	/* -- version 2 only from here (offset 32) -- */
	struct blob_geom g;
	uint32_t reserved[8];
};

_Static_assert(sizeof(struct disk_header) == 256 && offsetof(struct disk_header, verify_at) == 128,
	       "header layout");
_Static_assert(sizeof(struct disk_op) == 128 && offsetof(struct disk_op, g) == 32 &&
	       sizeof(struct blob_geom) == 64, "op layout");

/* What an op's record may hold: the checker and the writer read this. */
enum weights {
	W_NONE,
	W_MATRIX,    /* Linear: [out][in], bias [out] optional */
	W_KERNEL,    /* Conv2d: [oc][c*kh*kw], bias [oc] optional */
	W_CHANNEL,   /* scale [c] and shift [c], both required */
};

static const struct kind {
	const char *name;
	uint8_t weights;       /* enum weights */
	uint8_t spatial;       /* has a geometry: format version 2 */
	uint8_t window;        /* kernel, stride, padding (dilation 1 unless .dilation) */
	uint8_t dilation;
	uint8_t new_channels;  /* oc may differ from c */
	uint8_t same_size;     /* oh == h, ow == w */
	uint8_t divisor;       /* may carry a divisor override */
	uint32_t geom_flags;   /* the BLOB_GEOM_* bits it may carry */
} kinds[BLOB_OP_KIND_END] = {
	[BLOB_OP_LINEAR] = { "linear", W_MATRIX, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_RELU] = { "relu", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_LEAKY_RELU] = { "leaky_relu", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_TANH] = { "tanh", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_SIGMOID] = { "sigmoid", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_GELU] = { "gelu", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_GELU_TANH] = { "gelu_tanh", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_ELU] = { "elu", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_SOFTMAX] = { "softmax", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_LOG_SOFTMAX] = { "log_softmax", W_NONE, 0, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_CONV2D] = { "conv2d", W_KERNEL, 1, 1, 1, 1, 0, 0, 0 },
	[BLOB_OP_MAXPOOL2D] = { "maxpool2d", W_NONE, 1, 1, 1, 0, 0, 0, BLOB_GEOM_CEIL_MODE },
	[BLOB_OP_AVGPOOL2D] = { "avgpool2d", W_NONE, 1, 1, 0, 0, 0, 1, BLOB_GEOM_COUNT_PAD | BLOB_GEOM_CEIL_MODE },
	[BLOB_OP_ADAPTIVE_AVGPOOL2D] = { "adaptive_avgpool2d", W_NONE, 1, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_ADAPTIVE_MAXPOOL2D] = { "adaptive_maxpool2d", W_NONE, 1, 0, 0, 0, 0, 0, 0 },
	[BLOB_OP_SCALE_SHIFT] = { "scale_shift", W_CHANNEL, 1, 0, 0, 0, 1, 0, 0 },
};

static const char *const post_names[BLOB_POST_END] = {
	[BLOB_POST_LOGITS] = "logits",
	[BLOB_POST_PROBABILITIES] = "probabilities",
	[BLOB_POST_LABELS] = "labels",
};

const char *blob_op_name(uint32_t kind)
{
	return kind > 0 && kind < BLOB_OP_KIND_END ? kinds[kind].name : "unknown";
}

int blob_op_parse(const char *s)
{
	for (int k = 1; k < BLOB_OP_KIND_END; k++)
		if (strcmp(s, kinds[k].name) == 0)
			return k;
	return -1;
}

const char *blob_post_name(uint32_t post)
{
	return post < BLOB_POST_END ? post_names[post] : "unknown";
}

int blob_post_parse(const char *s)
{
	for (int k = 0; k < BLOB_POST_END; k++)
		if (strcmp(s, post_names[k]) == 0)
			return k;
	return -1;
}

/* True when [off, off+len) lies inside [lo, size) without overflow. */
static int in_range(uint64_t off, uint64_t len, uint64_t lo, uint64_t size)
{
	return off >= lo && off <= size && len <= size - off;
}

static uint64_t align_up(uint64_t x)
{
	return (x + BLOB_ALIGN - 1) & ~(uint64_t)(BLOB_ALIGN - 1);
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Floats of an op's weight and of its bias (0: it has none). */
static uint64_t weight_floats(const struct blob_op *op)
{
	const struct blob_geom *g = &op->g;
	switch (kinds[op->kind].weights) {
	case W_MATRIX: return (uint64_t)op->in * op->out;
	case W_KERNEL: return (uint64_t)g->oc * g->c * g->kh * g->kw;
	case W_CHANNEL: return g->c;
	default: return 0;
	}
}

static uint64_t bias_floats(const struct blob_op *op)
{
	uint32_t w = kinds[op->kind].weights;
	return w == W_MATRIX ? op->out : w == W_KERNEL ? op->g.oc : w == W_CHANNEL ? op->g.c : 0;
}

/* "linear 6x4", "conv2d 16x1x3x3": an op and the shape of its weights. */
static const char *weights_shape(const struct blob_op *op, char *buf, size_t len)
{
	const struct blob_geom *g = &op->g;
	if (op->kind == BLOB_OP_LINEAR)
		snprintf(buf, len, "linear %ux%u", op->out, op->in);
	else if (op->kind == BLOB_OP_CONV2D)
		snprintf(buf, len, "conv2d %ux%ux%ux%u", g->oc, g->c, g->kh, g->kw);
	else
		snprintf(buf, len, "%s %u", blob_op_name(op->kind), g->c);
	return buf;
}

/*
 * Along one axis: every window of a pooling op holds an input position
 * (so a maximum is finite and an average's divisor positive).  Window i's
 * taps are i*s - p + j*d for j < k.
 */
static int windows_inside(uint32_t n, uint32_t on, uint32_t k, uint32_t s, uint32_t p, uint32_t d)
{
	for (uint32_t i = 0; i < on; i++) {
		int64_t start = (int64_t)i * s - p;
		if (start >= n)
			return 0;
		if (start < 0) {
			int64_t j = (-start + d - 1) / d;   /* the first tap at or after 0 */
			if (j >= k || start + j * d >= n)
				return 0;
		}
	}
	return 1;
}

/*
 * Along one axis: the output size is one torch can give, i.e. the padding
 * after (what `on` implies) is the padding before, give or take a stride:
 * floor mode drops up to s-1 positions, ceil mode and an even kernel's
 * "same" padding add up to s.
 */
static int output_follows(uint32_t n, uint32_t on, uint32_t k, uint32_t s, uint32_t p, uint32_t d)
{
	int64_t after = ((int64_t)on - 1) * s + (int64_t)d * (k - 1) + 1 - p - n;
	return after >= (int64_t)p - (s - 1) && after <= (int64_t)p + s;
}

static int in_1_max(uint32_t v, uint32_t max)
{
	return v >= 1 && v <= max;
}

/* A window's fields: kernel, stride, dilation and padding bounded, the
 * output size torch's, and for a pooling op every window inside. */
static int check_window(const struct blob_op *op, uint32_t i, char *err, size_t errlen)
{
	const struct blob_geom *g = &op->g;
	const struct kind *k = &kinds[op->kind];
	const char *name = k->name;

	if (!in_1_max(g->kh, BLOB_MAX_KERNEL) || !in_1_max(g->kw, BLOB_MAX_KERNEL) ||
	    !in_1_max(g->sh, BLOB_MAX_KERNEL) || !in_1_max(g->sw, BLOB_MAX_KERNEL) ||
	    !in_1_max(g->dh, BLOB_MAX_KERNEL) || !in_1_max(g->dw, BLOB_MAX_KERNEL) ||
	    g->ph > BLOB_MAX_PAD || g->pw > BLOB_MAX_PAD)
		return err_set(err, errlen, "op %u (%s): kernel %ux%u, stride %ux%u, dilation %ux%u or padding %ux%u "
			    "out of range (1..%d, padding 0..%d)", i, name, g->kh, g->kw, g->sh, g->sw, g->dh, g->dw,
			    g->ph, g->pw, BLOB_MAX_KERNEL, BLOB_MAX_PAD);
	if (!k->dilation && (g->dh != 1 || g->dw != 1))
		return err_set(err, errlen, "op %u (%s): dilation %ux%u; it has none", i, name, g->dh, g->dw);
	if (!output_follows(g->h, g->oh, g->kh, g->sh, g->ph, g->dh) ||
	    !output_follows(g->w, g->ow, g->kw, g->sw, g->pw, g->dw))
		return err_set(err, errlen, "op %u (%s): output %ux%u does not follow from input %ux%u, kernel %ux%u, "
			    "stride %ux%u, padding %ux%u, dilation %ux%u", i, name, g->oh, g->ow, g->h, g->w,
			    g->kh, g->kw, g->sh, g->sw, g->ph, g->pw, g->dh, g->dw);
	if (op->kind != BLOB_OP_CONV2D &&
	    (!windows_inside(g->h, g->oh, g->kh, g->sh, g->ph, g->dh) ||
	     !windows_inside(g->w, g->ow, g->kw, g->sw, g->pw, g->dw)))
		return err_set(err, errlen, "op %u (%s): a window lies wholly in the padding", i, name);
	return 0;
}

/*
 * An op's geometry (struct blob_geom), for the checker and the writer
 * alike: zero unless the op is spatial; else its shapes hold its widths,
 * and every field the kind uses is bounded.  Products in 64 bits.
 */
static int check_geom(const struct blob_op *op, uint32_t i, char *err, size_t errlen)
{
	const struct blob_geom *g = &op->g;
	const struct kind *k = &kinds[op->kind];
	const char *name = k->name;

	if (!k->spatial) {
		if (!all_zero(g, sizeof *g))
			return err_set(err, errlen, "op %u (%s): a geometry on an op that has none", i, name);
		return 0;
	}
	if ((uint64_t)g->c * g->h * g->w != op->in)
		return err_set(err, errlen, "op %u (%s): input %ux%ux%u is not its %u inputs", i, name,
			    g->c, g->h, g->w, op->in);
	if ((uint64_t)g->oc * g->oh * g->ow != op->out)
		return err_set(err, errlen, "op %u (%s): output %ux%ux%u is not its %u outputs", i, name,
			    g->oc, g->oh, g->ow, op->out);
	if (!k->new_channels && g->oc != g->c)
		return err_set(err, errlen, "op %u (%s): %u channels in, %u out", i, name, g->c, g->oc);
	if (k->same_size && (g->oh != g->h || g->ow != g->w))
		return err_set(err, errlen, "op %u (%s): %ux%u in, %ux%u out", i, name, g->h, g->w, g->oh, g->ow);
	if (g->flags & ~k->geom_flags)
		return err_set(err, errlen, "op %u (%s): unknown geometry flags %#x", i, name, g->flags & ~k->geom_flags);
	if (g->divisor && (!k->divisor || g->divisor > BLOB_MAX_WIDTH))
		return err_set(err, errlen, "op %u (%s): divisor %u out of range", i, name, g->divisor);
	if (k->weights == W_KERNEL && (uint64_t)g->c * g->kh * g->kw > BLOB_MAX_WIDTH)
		return err_set(err, errlen, "op %u (%s): %ux%ux%u inputs per output, more than %u", i, name,
			    g->c, g->kh, g->kw, BLOB_MAX_WIDTH);
	if (k->window)
		return check_window(op, i, err, errlen);
	if (g->kh || g->kw || g->sh || g->sw || g->ph || g->pw || g->dh || g->dw)
		return err_set(err, errlen, "op %u (%s): a window on an op that has none", i, name);
	return 0;
}

/* Version 2's model fields, for the checker and the writer alike. */
static int check_model_v2(const struct blob_model *m, char *err, size_t errlen)
{
	const uint32_t *s = m->input_shape;
	const struct blob_verify *v = &m->verify;
	const char *tv = v->torch_version ? v->torch_version : "";

	if ((s[0] || s[1] || s[2]) && (uint64_t)s[0] * s[1] * s[2] != m->input_width)
		return err_set(err, errlen, "input shape %ux%ux%u does not hold %u inputs",
			    s[0], s[1], s[2], m->input_width);
	if (m->flags & ~(BLOB_MODEL_ASSUMED_ORDER | BLOB_MODEL_VERIFIED))
		return err_set(err, errlen, "unknown model flags %#x", m->flags);
	if (!(m->flags & BLOB_MODEL_VERIFIED)) {
		if (v->at || v->max_diff != 0 || v->rows || v->argmax_agree || *tv)
			return err_set(err, errlen, "a verification record without the verified flag");
		return 0;
	}
	if (v->at <= 0 || v->rows == 0 || v->argmax_agree > v->rows || !(v->max_diff >= 0) || isinf(v->max_diff))
		return err_set(err, errlen, "bad verification record: at %lld, %u of %u rows agree, max diff %g",
			    (long long)v->at, v->argmax_agree, v->rows, (double)v->max_diff);
	if (!enc_utf8_valid(tv))
		return err_set(err, errlen, "the torch version is not valid UTF-8");
	return 0;
}

/* A string-table reference: NUL-terminated inside the table, bounded. */
static const char *table_string(const char *tab, uint64_t tabsize, uint32_t ref)
{
	if (ref >= tabsize)
		return NULL;
	size_t max = tabsize - ref;
	if (max > BLOB_MAX_STRING + 1)
		max = BLOB_MAX_STRING + 1;
	return memchr(tab + ref, '\0', max) ? tab + ref : NULL;
}

/* An op's weights and bias: inside the file, aligned. */
static int check_weights(const unsigned char *base, const struct disk_header *h, const struct disk_op *d,
			 uint32_t i, struct blob_op *op, char *err, size_t errlen)
{
	char what[80];
	uint64_t nw = weight_floats(op), nb = bias_floats(op);

	if (!nw) {
		if (d->weight_offset || d->bias_offset)
			return err_set(err, errlen, "op %u (%s): weights on an op that has none", i, blob_op_name(d->kind));
		return 0;
	}
	if (d->weight_offset % BLOB_ALIGN || !in_range(d->weight_offset, nw * sizeof(float), h->header_size, h->file_size))
		return err_set(err, errlen, "op %u (%s): weights at %llu outside the file or unaligned",
			    i, weights_shape(op, what, sizeof what), (unsigned long long)d->weight_offset);
	op->weight = (const float *)(const void *)(base + d->weight_offset);
	if (!d->bias_offset && kinds[d->kind].weights == W_CHANNEL)
		return err_set(err, errlen, "op %u (%s): no shift", i, blob_op_name(d->kind));
	if (!d->bias_offset)
		return 0;
	if (d->bias_offset % BLOB_ALIGN || !in_range(d->bias_offset, nb * sizeof(float), h->header_size, h->file_size))
		return err_set(err, errlen, "op %u (%s): bias at %llu outside the file or unaligned",
			    i, blob_op_name(d->kind), (unsigned long long)d->bias_offset);
	op->bias = (const float *)(const void *)(base + d->bias_offset);
	return 0;
}

static int check_ops(const unsigned char *base, const struct disk_header *h,
		     struct blob_model *m, char *err, size_t errlen)
{
	uint32_t width = h->input_width, op_size = formats[h->version].op_size;

	for (uint32_t i = 0; i < h->nops; i++) {
		struct disk_op d;
		memset(&d, 0, sizeof d);
		memcpy(&d, base + h->ops_offset + (uint64_t)i * op_size, op_size);
		struct blob_op *op = &m->ops[i];

		if (d.kind == 0 || d.kind >= BLOB_OP_KIND_END || (kinds[d.kind].spatial && h->version < 2))
			return err_set(err, errlen, "op %u: unknown kind %u", i, d.kind);
		if (d.in != width)
			return err_set(err, errlen, "op %u (%s): takes %u inputs but receives %u",
				    i, blob_op_name(d.kind), d.in, width);
		if (d.out == 0 || d.out > BLOB_MAX_WIDTH)
			return err_set(err, errlen, "op %u: width %u out of range", i, d.out);
		if (!all_zero(d.reserved, sizeof d.reserved))
			return err_set(err, errlen, "op %u: reserved bytes are not zero", i);
		op->kind = d.kind;
		op->in = d.in;
		op->out = d.out;
		op->param = d.param;
		op->weight = op->bias = NULL;
		op->g = d.g;
		if (!kinds[d.kind].spatial && !kinds[d.kind].weights &&
		    (d.out != d.in || d.weight_offset || d.bias_offset))
			return err_set(err, errlen, "op %u (%s): activation with weights or a width change",
				    i, blob_op_name(d.kind));
		if (check_geom(op, i, err, errlen) < 0 || check_weights(base, h, &d, i, op, err, errlen) < 0)
			return -1;
		width = d.out;
	}
	if (width != h->output_width)
		return err_set(err, errlen, "last op gives %u outputs, header says %u", width, h->output_width);
	return 0;
}

/* Resolve `n` string references at `off` into names[0..n). */
static int check_names(const unsigned char *base, const struct disk_header *h,
		       uint64_t off, uint32_t n, const char **names, const char *what,
		       char *err, size_t errlen)
{
	const char *tab = (const char *)base + h->strings_offset;

	if (!in_range(off, (uint64_t)n * 4, h->header_size, h->file_size) || off % 4)
		return err_set(err, errlen, "%s table at %llu outside the file", what, (unsigned long long)off);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ref;
		memcpy(&ref, base + off + (uint64_t)i * 4, 4);
		names[i] = table_string(tab, h->strings_size, ref);
		if (!names[i])
			return err_set(err, errlen, "%s %u: bad string reference", what, i);
		if (!enc_utf8_valid(names[i]))
			return err_set(err, errlen, "%s %u is not valid UTF-8", what, i);
	}
	return 0;
}

/* Version 2's header fields into m (a version 1 blob leaves them zero). */
static int check_header_v2(const unsigned char *base, const struct disk_header *h, struct blob_model *m,
			   char *err, size_t errlen)
{
	m->verify.torch_version = "";
	if (h->version < 2)
		return 0;
	if (h->op_size != formats[h->version].op_size)
		return err_set(err, errlen, "op record size %u, expected %u", h->op_size, formats[h->version].op_size);
	if (!all_zero(h->reserved, sizeof h->reserved))
		return err_set(err, errlen, "reserved header bytes are not zero");
	m->verify.torch_version = table_string((const char *)base + h->strings_offset, h->strings_size,
					       h->torch_version_str);
	if (!m->verify.torch_version)
		return err_set(err, errlen, "bad torch version string reference");
	memcpy(m->input_shape, h->input_shape, sizeof m->input_shape);
	m->flags = h->model_flags;
	m->verify.at = h->verify_at;
	m->verify.max_diff = h->verify_max_diff;
	m->verify.rows = h->verify_rows;
	m->verify.argmax_agree = h->verify_argmax_agree;
	m->input_width = h->input_width;
	return check_model_v2(m, err, errlen);
}

int blob_check(const void *buf, size_t size, struct blob_model *m,
	       const char ***names_out, char *err, size_t errlen)
{
	const unsigned char *base = buf;
	struct disk_header h;
	const char **names = NULL;

	*names_out = NULL;
	memset(m, 0, sizeof *m);
	memset(&h, 0, sizeof h);
	if (size < formats[1].header_size)
		return err_set(err, errlen, "truncated: %zu bytes is less than a header", size);
	memcpy(&h, base, formats[1].header_size);
	if (memcmp(h.magic, BLOB_MAGIC, 8) != 0)
		return err_set(err, errlen, "not a scorepoint blob (bad magic); convert the model with pth2blob");
	if (h.version < BLOB_FORMAT_VERSION_MIN || h.version > BLOB_FORMAT_VERSION)
		return err_set(err, errlen, "blob format version %u; this build reads versions %d to %d",
			    h.version, BLOB_FORMAT_VERSION_MIN, BLOB_FORMAT_VERSION);
	if (h.header_size != formats[h.version].header_size)
		return err_set(err, errlen, "header size %u, expected %u", h.header_size, formats[h.version].header_size);
	if (size < h.header_size)
		return err_set(err, errlen, "truncated: %zu bytes is less than a header", size);
	memcpy(&h, base, h.header_size);
	if (h.file_size != size)
		return err_set(err, errlen, "truncated or extended: header says %llu bytes, file has %zu",
			    (unsigned long long)h.file_size, size);
	uint32_t crc = crc32_update(0, base + CRC_FROM, size - CRC_FROM);
	if (crc != h.crc32)
		return err_set(err, errlen, "checksum mismatch (stored %08x, computed %08x): the file is damaged",
			    h.crc32, crc);
	if (h.flags != 0)
		return err_set(err, errlen, "unknown flags %#x", h.flags);
	if (h.nops == 0 || h.nops > BLOB_MAX_OPS)
		return err_set(err, errlen, "op count %u out of range 1..%d", h.nops, BLOB_MAX_OPS);
	if (h.input_width == 0 || h.input_width > BLOB_MAX_WIDTH ||
	    h.output_width == 0 || h.output_width > BLOB_MAX_WIDTH)
		return err_set(err, errlen, "input/output width %u/%u out of range", h.input_width, h.output_width);
	if (h.postprocess >= BLOB_POST_END)
		return err_set(err, errlen, "unknown post-processing %u", h.postprocess);
	if ((h.ncolumns && h.ncolumns != h.input_width) || (h.nlabels && h.nlabels != h.output_width))
		return err_set(err, errlen, "%u column names for %u inputs, %u labels for %u outputs",
			    h.ncolumns, h.input_width, h.nlabels, h.output_width);
	if (h.postprocess == BLOB_POST_LABELS && h.nlabels == 0)
		return err_set(err, errlen, "post-processing is labels but the blob has no labels");
	if (!in_range(h.ops_offset, (uint64_t)h.nops * formats[h.version].op_size, h.header_size, size) ||
	    h.ops_offset % 8)
		return err_set(err, errlen, "op table outside the file");
	if (!in_range(h.strings_offset, h.strings_size, h.header_size, size) || h.strings_size == 0 ||
	    h.strings_size > UINT32_MAX || base[h.strings_offset + h.strings_size - 1] != '\0')
		return err_set(err, errlen, "string table outside the file or unterminated");
	if (check_header_v2(base, &h, m, err, errlen) < 0 || check_ops(base, &h, m, err, errlen) < 0)
		return -1;

	const char *tab = (const char *)base + h.strings_offset;
	m->name = table_string(tab, h.strings_size, h.name_str);
	m->version = table_string(tab, h.strings_size, h.version_str);
	m->source_digest = table_string(tab, h.strings_size, h.digest_str);
	if (!m->name || !m->version || !m->source_digest)
		return err_set(err, errlen, "bad name, version or digest string reference");

	names = malloc(((size_t)h.ncolumns + h.nlabels + 1) * sizeof *names);
	if (!names)
		return err_set(err, errlen, "out of memory for %u names", h.ncolumns + h.nlabels);
	if (check_names(base, &h, h.columns_offset, h.ncolumns, names, "column", err, errlen) < 0 ||
	    check_names(base, &h, h.labels_offset, h.nlabels, names + h.ncolumns, "label", err, errlen) < 0) {
		free(names);
		return -1;
	}
	m->nops = h.nops;
	m->input_width = h.input_width;
	m->output_width = h.output_width;
	m->postprocess = h.postprocess;
	m->ncolumns = h.ncolumns;
	m->columns = h.ncolumns ? names : NULL;
	m->nlabels = h.nlabels;
	m->labels = h.nlabels ? names + h.ncolumns : NULL;
	*names_out = names;
	return 0;
}

/* ---- writing ---- */

/* Bytes a string needs in the table, or 0 when it is too long. */
static size_t string_cost(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > BLOB_MAX_STRING ? 0 : n + 1;
}

static int validate_model(const struct blob_model *m, char *err, size_t errlen)
{
	uint32_t width = m->input_width;

	if (m->nops == 0 || m->nops > BLOB_MAX_OPS)
		return err_set(err, errlen, "%u ops; a blob holds 1 to %d", m->nops, BLOB_MAX_OPS);
	if (m->postprocess >= BLOB_POST_END)
		return err_set(err, errlen, "unknown post-processing %u", m->postprocess);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		if (op->kind == 0 || op->kind >= BLOB_OP_KIND_END)
			return err_set(err, errlen, "op %u: unknown kind %u", i, op->kind);
		if (op->in != width || op->out == 0 || op->out > BLOB_MAX_WIDTH)
			return err_set(err, errlen, "op %u (%s): %u -> %u does not follow width %u",
				    i, blob_op_name(op->kind), op->in, op->out, width);
		const struct kind *k = &kinds[op->kind];
		if (k->weights ? !op->weight || (k->weights == W_CHANNEL && !op->bias) : !k->spatial && op->in != op->out)
			return err_set(err, errlen, "op %u (%s): inconsistent", i, blob_op_name(op->kind));
		if (check_geom(op, i, err, errlen) < 0)
			return -1;
		width = op->out;
	}
	if (width != m->output_width)
		return err_set(err, errlen, "ops give %u outputs, model says %u", width, m->output_width);
	if (check_model_v2(m, err, errlen) < 0)
		return -1;
	if ((m->ncolumns && m->ncolumns != m->input_width) || (m->nlabels && m->nlabels != m->output_width))
		return err_set(err, errlen, "%u column names for %u inputs, %u labels for %u outputs",
			    m->ncolumns, m->input_width, m->nlabels, m->output_width);
	if (m->postprocess == BLOB_POST_LABELS && m->nlabels == 0)
		return err_set(err, errlen, "post-processing labels needs labels");
	for (uint32_t i = 0; i < m->ncolumns; i++)
		if (!enc_utf8_valid(m->columns[i]))
			return err_set(err, errlen, "column name %u is not valid UTF-8", i);
	for (uint32_t i = 0; i < m->nlabels; i++)
		if (!enc_utf8_valid(m->labels[i]))
			return err_set(err, errlen, "label %u is not valid UTF-8", i);
	return 0;
}

static uint32_t put_string(char *tab, uint64_t *used, const char *s)
{
	uint32_t ref = (uint32_t)*used;
	size_t n = s ? strlen(s) : 0;

	memcpy(tab + ref, s ? s : "", n + 1);
	*used += n + 1;
	return ref;
}

/* The oldest format that holds m: version 1 unless it uses version 2's
 * ops or fields, so that what version 1 can say is written as before. */
static uint32_t format_version(const struct blob_model *m)
{
	int v2 = m->input_shape[0] || m->input_shape[1] || m->input_shape[2] || m->flags;
	for (uint32_t i = 0; i < m->nops && !v2; i++)
		v2 = kinds[m->ops[i].kind].spatial;
	return v2 ? 2 : 1;
}

/*
 * Lay the blob out: the metadata (header, op table, name references and
 * string table) is built in one small buffer; the weights are written later
 * straight from the caller's arrays, so a 100 MB model is never copied.
 */
struct layout {
	unsigned char *meta;   /* [0, meta_size): header with crc32 = 0, ops, refs, strings */
	uint64_t meta_size;
	uint64_t file_size;
	struct disk_op ops[BLOB_MAX_OPS];
};

static int plan(const struct blob_model *m, struct layout *L, char *err, size_t errlen)
{
	struct disk_header h;
	uint64_t strings = 0, off;
	const char *fixed[4] = { m->name, m->version, m->source_digest, m->verify.torch_version };
	uint32_t version = format_version(m), nfixed = version < 2 ? 3 : 4;
	const struct format *f = &formats[version];

	for (uint32_t i = 0; i < nfixed; i++)
		strings += string_cost(fixed[i]) ? string_cost(fixed[i]) : (uint64_t)-1 / 4;
	for (uint32_t i = 0; i < m->ncolumns; i++)
		strings += string_cost(m->columns[i]) ? string_cost(m->columns[i]) : (uint64_t)-1 / 4;
	for (uint32_t i = 0; i < m->nlabels; i++)
		strings += string_cost(m->labels[i]) ? string_cost(m->labels[i]) : (uint64_t)-1 / 4;
	if (strings > UINT32_MAX)
		return err_set(err, errlen, "a name, label or column is longer than %d bytes, or there are too many",
			    BLOB_MAX_STRING);

	memset(&h, 0, sizeof h);
	memcpy(h.magic, BLOB_MAGIC, 8);
	h.version = version;
	h.header_size = f->header_size;
	h.nops = m->nops;
	h.input_width = m->input_width;
	h.output_width = m->output_width;
	h.postprocess = m->postprocess;
	h.ncolumns = m->ncolumns;
	h.nlabels = m->nlabels;
	if (version >= 2) {
		h.op_size = f->op_size;
		memcpy(h.input_shape, m->input_shape, sizeof h.input_shape);
		h.model_flags = m->flags;
		h.verify_at = m->verify.at;
		h.verify_max_diff = m->verify.max_diff;
		h.verify_rows = m->verify.rows;
		h.verify_argmax_agree = m->verify.argmax_agree;
	}
	h.ops_offset = f->header_size;
	off = h.ops_offset + (uint64_t)m->nops * f->op_size;
	h.columns_offset = off;
	off += (uint64_t)m->ncolumns * 4;
	h.labels_offset = off;
	off += (uint64_t)m->nlabels * 4;
	h.strings_offset = off;
	h.strings_size = strings;
	off += strings;
	L->meta_size = off;

	memset(L->ops, 0, sizeof L->ops);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		L->ops[i].kind = op->kind;
		L->ops[i].in = op->in;
		L->ops[i].out = op->out;
		L->ops[i].param = op->param;
		L->ops[i].g = op->g;
		if (!weight_floats(op))
			continue;
		off = align_up(off);
		L->ops[i].weight_offset = off;
		off += weight_floats(op) * sizeof(float);
		if (op->bias) {
			off = align_up(off);
			L->ops[i].bias_offset = off;
			off += bias_floats(op) * sizeof(float);
		}
	}
	h.file_size = L->file_size = off;

	L->meta = calloc(1, (size_t)L->meta_size);
	if (!L->meta)
		return err_set(err, errlen, "out of memory for %llu bytes of metadata",
			    (unsigned long long)L->meta_size);
	char *tab = (char *)L->meta + h.strings_offset;
	uint64_t used = 0;
	h.name_str = put_string(tab, &used, m->name);
	h.version_str = put_string(tab, &used, m->version);
	h.digest_str = put_string(tab, &used, m->source_digest);
	if (version >= 2)
		h.torch_version_str = put_string(tab, &used, m->verify.torch_version);
	for (uint32_t i = 0; i < m->ncolumns; i++) {
		uint32_t ref = put_string(tab, &used, m->columns[i]);
		memcpy(L->meta + h.columns_offset + (uint64_t)i * 4, &ref, 4);
	}
	for (uint32_t i = 0; i < m->nlabels; i++) {
		uint32_t ref = put_string(tab, &used, m->labels[i]);
		memcpy(L->meta + h.labels_offset + (uint64_t)i * 4, &ref, 4);
	}
	for (uint32_t i = 0; i < m->nops; i++)
		memcpy(L->meta + h.ops_offset + (uint64_t)i * f->op_size, &L->ops[i], f->op_size);
	memcpy(L->meta, &h, f->header_size);
	return 0;
}

/* Append len bytes at *pos, keeping the checksum of bytes from CRC_FROM on. */
static int emit(int fd, const void *p, size_t len, uint64_t *pos, uint32_t *crc)
{
	const unsigned char *b = p;
	size_t skip = *pos < CRC_FROM ? (size_t)(CRC_FROM - *pos) : 0;

	if (skip > len)
		skip = len;
	*crc = crc32_update(*crc, b + skip, len - skip);
	*pos += len;
	return atomic_write_all(fd, b, len);
}

/* Zero padding up to `to`, then `len` bytes of data. */
static int emit_at(int fd, uint64_t to, const void *p, size_t len, uint64_t *pos, uint32_t *crc)
{
	static const unsigned char zeros[BLOB_ALIGN];
	if (to - *pos > sizeof zeros || emit(fd, zeros, (size_t)(to - *pos), pos, crc) < 0)
		return -1;
	return emit(fd, p, len, pos, crc);
}

static int write_blob(int fd, const struct blob_model *m, struct layout *L)
{
	uint64_t pos = 0;
	uint32_t crc = 0;

	if (emit(fd, L->meta, (size_t)L->meta_size, &pos, &crc) < 0)
		return -1;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		if (!weight_floats(op))
			continue;
		if (emit_at(fd, L->ops[i].weight_offset, op->weight,
			    (size_t)weight_floats(op) * sizeof(float), &pos, &crc) < 0)
			return -1;
		if (op->bias && emit_at(fd, L->ops[i].bias_offset, op->bias,
					(size_t)bias_floats(op) * sizeof(float), &pos, &crc) < 0)
			return -1;
	}
	if (pos != L->file_size)
		return errno = EIO, -1;
	return pwrite(fd, &crc, 4, 24) == 4 ? 0 : -1;
}

struct write_ctx {
	const struct blob_model *m;
	struct layout *L;
};

static int fill_blob(int fd, void *ctx)
{
	struct write_ctx *w = ctx;
	return write_blob(fd, w->m, w->L);
}

/* blob_write() (dirfd -1: name is the path) and blob_writeat(). */
static int write_model(int dirfd, const char *name, const char *shown, const struct blob_model *m, char *err,
		       size_t errlen)
{
	struct layout L = { 0 };
	struct write_ctx w = { m, &L };
	int rc = -1;

	if (validate_model(m, err, errlen) < 0 || plan(m, &L, err, errlen) < 0)
		goto out;
	rc = dirfd < 0 ? atomic_write(name, 0644, fill_blob, &w, err, errlen) :
			 atomic_writeat(dirfd, name, shown, 0644, fill_blob, &w, err, errlen);
out:
	free(L.meta);
	return rc;
}

int blob_write(const char *path, const struct blob_model *m, char *err, size_t errlen)
{
	return write_model(-1, path, path, m, err, errlen);
}

int blob_writeat(int dirfd, const char *name, const char *shown, const struct blob_model *m, char *err,
		 size_t errlen)
{
	return write_model(dirfd, name, shown, m, err, errlen);
}
