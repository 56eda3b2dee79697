/*
 * req_scan.c - the request decoder's first pass (see req.h): arrays of
 * plain numbers parsed straight into floats, and the "skeleton" of the
 * document, each such array replaced by "[]", left for jsmn.  This is the
 * hot path of a request; everything it is not sure of it leaves in the
 * skeleton for the general path of req.c, which reports errors with their
 * position.
 */
#include "model/req_int.h"
#include "model/num.h"
#include "model/num_f32.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <math.h>
#include <string.h>

static inline size_t ws(const char *b, size_t i, size_t len)
{
	while (i < len && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'))
		i++;
	return i;
}

/* One value of a numeric array, b[a, e), the general way: the number may
 * have any JSON form and white space around it. */
static int array_value(const char *b, size_t a, size_t e, float *out)
{
	const char *stop;
	double d;

	a = ws(b, a, e);
	if (a >= e || num_parse_json_prefix(b + a, b + e, &d, &stop) != NUM_OK ||
	    ws(b, (size_t)(stop - b), e) != e)
		return 0;
	*out = (float)d;
	return !isinf(*out);
}

/* b[a, e) is "0.0". */
static inline int is_zero_token(const char *b, size_t a, size_t e)
{
	return e - a == 3 && memcmp(b + a, "0.0", 3) == 0;
}

/* The value b[a, e) of a numeric array (e a ',' or ']'); 0 if it is not
 * one.  "0.0" is half of an image's pixels, in runs; then the common form
 * without a loop, away from the body's end; then any other. */
static inline int array_item(const char *b, size_t a, size_t e, size_t len, float *out)
{
	if (is_zero_token(b, a, e)) {
		*out = 0.0f;
		return 1;
	}
	return (len - a >= NUM_F32_AFTER && num_f32_token(b + a, b + e, out)) || array_value(b, a, e, out);
}

/*
 * Try to read b[i] == '[' as an array of plain numbers.  On success the
 * values are appended to nums and the index after ']' is returned; on any
 * surprise (another type, bad grammar, a value float32 cannot hold, an
 * empty array) nothing is kept and 0 is returned, leaving the array to the
 * general path, which reports errors with their position.
 *
 * The separators (',' and the closing ']') are found 64 bytes at a time
 * (SSE2 compares and a bit mask), and the values between them are read
 * from the mask, so that reading one number does not wait for the one
 * before it to end.  Strings and nested arrays are not looked for: they
 * make a value array_item refuses.
 */
static size_t numeric_array(struct req_ctx *c, const char *b, size_t i, size_t len)
{
	i = ws(b, i + 1, len);
	if (i >= len || !(b[i] == '-' || (b[i] >= '0' && b[i] <= '9')))
		return 0;
	size_t most = c->lim.max_values - c->nnums, n = 0, a = i, k = i;
	if (most > c->nums_cap - c->nnums)
		most = c->nums_cap - c->nnums;
	float *out = c->nums + c->nnums;
#if defined(__SSE2__)
	const __m128i comma = _mm_set1_epi8(','), close = _mm_set1_epi8(']');
	for (; len - k >= 64; k += 64) {
		uint64_t mc = 0, mb = 0;
		for (unsigned q = 0; q < 4; q++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + k + 16 * q));
			mc |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) << 16 * q;
			mb |= (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, close)) << 16 * q;
		}
		mb &= -mb;                       /* the first ']' */
		mc = mb ? (mc & (mb - 1)) | mb : mc;
		/* Room for the block's values, and bytes enough after each
		 * for num_f32_token, tested once for the whole block. */
		if (most - n >= 64 && len - k >= 64 + NUM_F32_AFTER) {
			while (mc) {
				size_t e = k + (size_t)__builtin_ctzll(mc);
				mc &= mc - 1;
				if (is_zero_token(b, a, e)) {
					out[n++] = 0.0f;
					a = e + 1;
					/* A run of them (an image's border): four at a
					 * time while they stay inside the block. */
					while (e + 16 < k + 64 && memcmp(b + a, "0.0,0.0,0.0,0.0,", 16) == 0) {
						memset(out + n, 0, 4 * sizeof *out);
						n += 4;
						e += 16;
						a = e + 1;
						mc &= ~(uint64_t)0 << (e - k) << 1;
					}
					continue;
				}
				if (!num_f32_token(b + a, b + e, &out[n]) && !array_value(b, a, e, &out[n]))
					return 0;
				n++;
				a = e + 1;
			}
		}
		while (mc) {
			size_t e = k + (size_t)__builtin_ctzll(mc);
			mc &= mc - 1;
			if (n == most || !array_item(b, a, e, len, &out[n]))
				return 0;   /* the general path reports it, with its position */
			n++;
			a = e + 1;
		}
		if (mb) {
			c->nnums += n;
			return a;
		}
	}
#endif
	for (; k < len; k++) {
		if (b[k] != ',' && b[k] != ']')
			continue;
		if (n == most || !array_item(b, a, k, len, &out[n]))
			return 0;
		n++;
		a = k + 1;
		if (b[k] == ']') {
			c->nnums += n;
			return a;
		}
	}
	return 0;
}

/* Copy a JSON string starting at b[i] == '"' to the skeleton; returns the
 * index after its closing quote (or len when unterminated). */
static size_t copy_string(const char *b, size_t i, size_t len, char *out, size_t *o)
{
	size_t j = i + 1;
	for (;;) {
		const char *q = memchr(b + j, '"', len - j);
		if (!q) {
			j = len;
			break;
		}
		size_t k = (size_t)(q - b), bs = 0;
		while (k - bs > i + 1 && b[k - bs - 1] == '\\')
			bs++;
		j = k + 1;
		if (bs % 2 == 0)
			break;
	}
	memcpy(out + *o, b + i, j - i);
	*o += j - i;
	return j;
}

int req_scan(struct req_ctx *c, const struct req_schema *s, const char *b, size_t len, struct req_error *e)
{
	size_t i = 0, o = 0;

	c->nspans = 0;
	c->nnums = 0;
	/* A number takes at least two bytes with its separator: reserving for
	 * len / 2 of them up front keeps growth out of the number loop. */
	size_t most = len / 2 + 1 < c->lim.max_values ? len / 2 + 1 : c->lim.max_values;
	if (req_reserve(&c->skel, &c->skel_cap, len + 1, 1) < 0 ||
	    req_reserve(&c->nums, &c->nums_cap, most, sizeof *c->nums) < 0)
		return req_fail(e, REQ_E_NOMEM, "out of memory for a %zu-byte body", len);
	int depth = 0;
	size_t check = REQ_DEADLINE_EVERY;
	while (i < len) {
		char ch = b[i];
		if (i >= check) {
			if (req_deadline(c, e) < 0)
				return -1;
			check = i + REQ_DEADLINE_EVERY;
		}
		if (ch == '"') {
			i = copy_string(b, i, len, c->skel, &o);
			continue;
		}
		/* jsmn closes a container by walking up its parents, which is
		 * quadratic in the depth: refuse deep nesting before it runs. */
		if (ch == '[' || ch == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return req_fail(e, REQ_E_JSON, "malformed JSON at byte %zu: nested too deeply "
					     "(more than %d levels)", i, JSON_MAX_DEPTH);
		} else if (ch == ']' || ch == '}') {
			depth--;
		}
		/* The same 784 column names as last time: set aside whole, so
		 * jsmn and the validator never see them (see split()). */
		if (ch == '[' && c->cols_schema == s && len - i >= c->cols_len &&
		    memcmp(b + i, c->cols_text, c->cols_len) == 0) {
			if (req_reserve(&c->spans, &c->span_cap, c->nspans + 1, sizeof *c->spans) < 0)
				return req_fail(e, REQ_E_NOMEM, "out of memory");
			c->spans[c->nspans++] = (struct req_span){ o, i, c->cols_len, 0, c->cols_n, 1 };
			c->skel[o++] = '[';
			c->skel[o++] = ']';
			depth--;
			i += c->cols_len;
			continue;
		}
		if (ch == '[') {
			size_t first = c->nnums;
			size_t next = numeric_array(c, b, i, len);
			if (next) {
				if (req_reserve(&c->spans, &c->span_cap, c->nspans + 1, sizeof *c->spans) < 0)
					return req_fail(e, REQ_E_NOMEM, "out of memory");
				c->spans[c->nspans++] = (struct req_span){ o, i, next - i, first, c->nnums - first, 0 };
				c->skel[o++] = '[';
				c->skel[o++] = ']';
				depth--;
				i = next;
				continue;
			}
		}
		c->skel[o++] = ch;
		i++;
	}
	c->skel[o] = '\0';
	return (int)o;
}

size_t req_body_offset(const struct req_ctx *c, size_t off)
{
	size_t delta = 0;
	for (size_t k = 0; k < c->nspans && c->spans[k].skel_off < off; k++)
		delta += c->spans[k].body_len - 2;
	return off + delta;
}
