/*
 * enc.c - JSON responses.  Appends never fail loudly: a full buffer sets a
 * flag that enc_status() reports once, so encoders stay straight-line.
 */
#include "model/enc.h"
#include "model/fwd.h"
#include "model/num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void enc_init(struct enc_buf *b, size_t max)
{
	memset(b, 0, sizeof *b);
	b->max = max ? max : ENC_DEFAULT_MAX;
}

void enc_reset(struct enc_buf *b)
{
	b->len = 0;
	b->full = b->nonfinite = 0;
	b->bad_row = 0;
}

void enc_free(struct enc_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* Make room for n more bytes (plus a NUL); 0 or -1 (and b->full set). */
static int room(struct enc_buf *b, size_t n)
{
	if (b->full)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	if (n > b->max || b->len + n + 1 > b->max) {
		b->full = 1;
		return -1;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n + 1)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->full = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void enc_raw(struct enc_buf *b, const char *s, size_t n)
{
	if (room(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void enc_cstr(struct enc_buf *b, const char *s)
{
	enc_raw(b, s, strlen(s));
}

/* The well-formed UTF-8 sequences (Unicode 15, Table 3-7): by lead byte,
 * the sequence's length and the range of its second byte; the others are
 * 0x80 to 0xBF.  The narrow second-byte ranges are what rule out overlong
 * forms (E0, F0), surrogates U+D800..U+DFFF (ED) and code points above
 * U+10FFFF (F4); C0, C1 and F5..FF lead nothing. */
static const struct {
	unsigned char lead_lo, lead_hi, len, next_lo, next_hi;
} utf8_forms[] = {
	{ 0xC2, 0xDF, 2, 0x80, 0xBF },
	{ 0xE0, 0xE0, 3, 0xA0, 0xBF },
	{ 0xE1, 0xEC, 3, 0x80, 0xBF },
	{ 0xED, 0xED, 3, 0x80, 0x9F },
	{ 0xEE, 0xEF, 3, 0x80, 0xBF },
	{ 0xF0, 0xF0, 4, 0x90, 0xBF },
	{ 0xF1, 0xF3, 4, 0x80, 0xBF },
	{ 0xF4, 0xF4, 4, 0x80, 0x8F },
};

/*
 * Decode the sequence at s (NUL-terminated, so a truncated one stops at
 * the NUL).  Returns its length with *cp set, or 0 when it is not
 * well-formed, with *skip the length of its maximal ill-formed prefix (at
 * least 1): what one U+FFFD replaces, as Python's errors="replace" does.
 */
static size_t utf8_next(const unsigned char *s, unsigned *cp, size_t *skip)
{
	size_t f = 0, nf = sizeof utf8_forms / sizeof utf8_forms[0];

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	while (f < nf && !(s[0] >= utf8_forms[f].lead_lo && s[0] <= utf8_forms[f].lead_hi))
		f++;
	*skip = 1;
	if (f == nf)
		return 0;
	unsigned v = s[0] & (0x7Fu >> utf8_forms[f].len);
	unsigned char lo = utf8_forms[f].next_lo, hi = utf8_forms[f].next_hi;
	for (size_t i = 1; i < utf8_forms[f].len; i++) {
		if (s[i] < lo || s[i] > hi) {
			*skip = i;
			return 0;
		}
		v = v << 6 | (s[i] & 0x3Fu);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = v;
	return utf8_forms[f].len;
}

int enc_utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned cp;
	size_t skip;

	while (*s) {
		size_t n = utf8_next(s, &cp, &skip);
		if (n == 0)
			return 0;
		s += n;
	}
	return 1;
}

/* json.dumps escaping with ensure_ascii: \uXXXX for everything outside
 * printable ASCII (surrogate pairs above U+FFFF); what is not well-formed
 * UTF-8 becomes U+FFFD (see enc.h). */
void enc_string(struct enc_buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[16];

	enc_raw(b, "\"", 1);
	while (*s) {
		const unsigned char *run = s;
		while (*s >= 0x20 && *s < 0x7F && *s != '"' && *s != '\\')
			s++;
		enc_raw(b, (const char *)run, (size_t)(s - run));
		if (!*s)
			break;
		unsigned cp;
		size_t skip, n = utf8_next(s, &cp, &skip);
		if (n == 0) {
			cp = 0xFFFD;
			n = skip;
		}
		s += n;
		switch (cp) {
		case '"': enc_raw(b, "\\\"", 2); continue;
		case '\\': enc_raw(b, "\\\\", 2); continue;
		case '\n': enc_raw(b, "\\n", 2); continue;
		case '\r': enc_raw(b, "\\r", 2); continue;
		case '\t': enc_raw(b, "\\t", 2); continue;
		case '\b': enc_raw(b, "\\b", 2); continue;
		case '\f': enc_raw(b, "\\f", 2); continue;
		default: break;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
		} else {
			snprintf(tmp, sizeof tmp, "\\u%04x", cp);
		}
		enc_cstr(b, tmp);
	}
	enc_raw(b, "\"", 1);
}

void enc_number(struct enc_buf *b, double v)
{
	if (room(b, NUM_FORMAT_MAX) < 0)
		return;
	size_t n = num_format(v, b->p + b->len);
	if (n == 0) {
		b->nonfinite = 1;
		enc_raw(b, "null", 4);
		return;
	}
	b->len += n;
}

/* v's decimal digits (at most 20), ending just before end; returns their
 * start. */
static char *digits_before(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* Note the first non-finite row once. */
static void check_row(struct enc_buf *b, const float *row, size_t w, size_t r)
{
	if (b->nonfinite)
		return;
	for (size_t j = 0; j < w; j++)
		if (!isfinite(row[j])) {
			b->nonfinite = 1;
			b->bad_row = r;
			return;
		}
}

/* `, "123": ` without printf: this runs once per value. */
static size_t dict_key(char *out, size_t j, int first)
{
	char tmp[20], *d = digits_before(tmp + sizeof tmp, j);
	size_t n = (size_t)(tmp + sizeof tmp - d), o = 0;
	if (!first) {
		out[o++] = ',';
		out[o++] = ' ';
	}
	out[o++] = '"';
	memcpy(out + o, d, n);
	o += n;
	out[o++] = '"';
	out[o++] = ':';
	out[o++] = ' ';
	return o;
}

void enc_row_dicts(struct enc_buf *b, const float *y, size_t rows, size_t w)
{
	char key[32];

	enc_raw(b, "[", 1);
	for (size_t r = 0; r < rows; r++) {
		const float *row = y + r * w;
		check_row(b, row, w, r);
		enc_raw(b, r ? ", {" : "{", r ? 3 : 1);
		for (size_t j = 0; j < w; j++) {
			enc_raw(b, key, dict_key(key, j, j == 0));
			enc_number(b, row[j]);
		}
		enc_raw(b, "}", 1);
	}
	enc_raw(b, "]", 1);
}

void enc_uint(struct enc_buf *b, uint64_t v)
{
	char tmp[20], *p = digits_before(tmp + sizeof tmp, v);
	enc_raw(b, p, (size_t)(tmp + sizeof tmp - p));
}

static void index_or_label(struct enc_buf *b, size_t i, const char *const *labels)
{
	if (labels)
		enc_string(b, labels[i]);
	else
		enc_uint(b, i);
}

void enc_labels(struct enc_buf *b, const float *y, size_t rows, size_t w,
		const char *const *labels)
{
	enc_raw(b, "[", 1);
	for (size_t r = 0; r < rows; r++) {
		check_row(b, y + r * w, w, r);
		if (r)
			enc_raw(b, ", ", 2);
		index_or_label(b, fwd_argmax(y + r * w, w), labels);
	}
	enc_raw(b, "]", 1);
}

void enc_top_k(struct enc_buf *b, const float *y, size_t rows, size_t w, size_t k,
	       const char *const *labels)
{
	char num[NUM_FORMAT_MAX + 24];

	if (k > w)
		k = w;
	enc_raw(b, "[", 1);
	for (size_t r = 0; r < rows; r++) {
		const float *row = y + r * w;
		check_row(b, row, w, r);
		enc_raw(b, r ? ", [" : "[", r ? 3 : 1);
		/* k passes of a selection: k is small, w is a model's output width. */
		float prev = INFINITY;
		size_t prev_i = 0;
		for (size_t n = 0; n < k; n++) {
			size_t best = w;
			for (size_t j = 0; j < w; j++) {
				/* strictly after (prev, prev_i) in (value desc, index asc) order */
				int after = row[j] < prev || (row[j] == prev && j > prev_i) || n == 0;
				if (after && (best == w || row[j] > row[best]))
					best = j;
			}
			if (best == w)
				break;
			size_t len = num_format(row[best], num);
			if (len == 0)
				len = (size_t)snprintf(num, sizeof num, "nan");
			len += (size_t)snprintf(num + len, sizeof num - len, ":%zu", best);
			if (n)
				enc_raw(b, ", ", 2);
			if (labels) {
				char *joined = malloc(len + strlen(labels[best]) + 2);
				if (!joined) {
					b->full = 1;
					return;
				}
				memcpy(joined, num, len);
				joined[len] = ':';
				strcpy(joined + len + 1, labels[best]);
				enc_string(b, joined);
				free(joined);
			} else {
				num[len] = '\0';
				enc_string(b, num);
			}
			prev = row[best];
			prev_i = best;
		}
		enc_raw(b, "]", 1);
	}
	enc_raw(b, "]", 1);
}

void enc_flat(struct enc_buf *b, const float *y, size_t n)
{
	enc_raw(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			enc_raw(b, ", ", 2);
		if (!isfinite(y[i]) && !b->nonfinite) {
			b->nonfinite = 1;
			b->bad_row = i;
		}
		enc_number(b, y[i]);
	}
	enc_raw(b, "]", 1);
}

void enc_predictions(struct enc_buf *b, enum enc_style style, unsigned post, int top_k,
		     float *y, size_t rows, size_t w, const char *const *labels)
{
	if (style == ENC_PREDICTIONS)
		enc_cstr(b, "{\"predictions\": ");
	if (post == BLOB_POST_PROBABILITIES)
		fwd_softmax_rows(y, rows, w);
	if (top_k > 0)
		enc_top_k(b, y, rows, w, (size_t)top_k, labels);
	else if (post == BLOB_POST_LABELS)
		enc_labels(b, y, rows, w, labels);
	else
		enc_row_dicts(b, y, rows, w);
	if (style == ENC_PREDICTIONS)
		enc_raw(b, "}", 1);
}

enum enc_status enc_status(const struct enc_buf *b)
{
	return b->full ? ENC_FULL : b->nonfinite ? ENC_NONFINITE : ENC_OK;
}
