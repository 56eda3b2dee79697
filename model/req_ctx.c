/*
 * req_ctx.c - what every request decoder shares (req.h, req_int.h): errors
 * and their UTF-8 checks, the model's column index, the context and its
 * buffers, the limits and the deadline, and JSON tokenizing.  The decoders
 * themselves are req.c (JSON shapes), req_records.c, req_csv.c and the
 * raw float32 body (req.c).
 */
#include "model/req.h"
#include "model/req_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors ---- */

int req_fail(struct req_error *e, enum req_errcode code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->status = code == REQ_E_LIMIT ? 413 : code == REQ_E_NOMEM ? 500 : code == REQ_E_DEADLINE ? 408 : 400;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

size_t req_utf8_bad(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i = 0;

	while (i < n) {
		uint64_t word;
		if (n - i >= 8 && (memcpy(&word, s + i, 8), (word & 0x8080808080808080ull) == 0)) {
			i += 8;
			continue;
		}
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (len == 0 || len > n - i)
			return i;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
		unsigned c1 = s[i + 1];
		if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
		    (c == 0xF4 && c1 > 0x8F))
			return i;
		i += len;
	}
	return n;
}

int req_fail_utf8(struct req_error *e, const char *body, size_t len, size_t at)
{
	const unsigned char *b = (const unsigned char *)body;
	/* A byte-order mark of UTF-16 (PowerShell's and Notepad's default). */
	int utf16 = len >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF));

	return req_fail(e, REQ_E_JSON, "the body is not valid UTF-8 (byte 0x%02x at offset %zu)%s",
			at < len ? b[at] : 0u, at, utf16 ? ": it looks like UTF-16; send UTF-8" : "");
}

/* ---- schema ---- */

static uint32_t hash(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

uint32_t req_index_size(uint32_t n)
{
	uint32_t size = 16;
	while (size < 2 * n)
		size <<= 1;
	return size;
}

void req_index_names(struct req_schema *s)
{
	for (uint32_t i = 0; i < s->ncolumns; i++) {
		const char *name = s->columns[i];
		uint32_t h = hash(name, strlen(name)) & s->mask;
		while (s->slots[h])
			h = (h + 1) & s->mask;
		s->slots[h] = i + 1;
	}
}

int req_schema_init(struct req_schema *s, const struct blob_model *m)
{
	memset(s, 0, sizeof *s);
	s->width = m->input_width;
	s->ncolumns = m->ncolumns;
	s->columns = m->columns;
	memcpy(s->shape, m->input_shape, sizeof s->shape);
	if (!m->ncolumns)
		return 0;
	uint32_t size = req_index_size(m->ncolumns);
	s->slots = calloc(size, sizeof *s->slots);
	if (!s->slots)
		return -1;
	s->mask = size - 1;
	req_index_names(s);
	return 0;
}

void req_schema_free(struct req_schema *s)
{
	free(s->slots);
	memset(s, 0, sizeof *s);
}

int req_schema_find(const struct req_schema *s, const char *name, size_t len)
{
	if (!s->slots)
		return -1;
	for (uint32_t h = hash(name, len) & s->mask; s->slots[h]; h = (h + 1) & s->mask) {
		const char *c = s->columns[s->slots[h] - 1];
		/* name may hold a NUL (a CSV header): strncmp would stop there. */
		if (strnlen(c, len + 1) == len && memcmp(c, name, len) == 0)
			return (int)s->slots[h] - 1;
	}
	return -1;
}

/* ---- context ---- */

void req_ctx_init(struct req_ctx *c, const struct req_limits *lim)
{
	memset(c, 0, sizeof *c);
	if (lim) {
		c->lim = *lim;
	} else {
		c->lim.max_bytes = REQ_DEFAULT_MAX_BYTES;
		c->lim.max_tokens = REQ_DEFAULT_MAX_TOKENS;
		c->lim.max_rows = REQ_DEFAULT_MAX_ROWS;
		c->lim.max_values = REQ_DEFAULT_MAX_VALUES;
	}
}

void req_ctx_free(struct req_ctx *c)
{
	free(c->skel);
	free(c->tok);
	free(c->spans);
	free(c->nums);
	free(c->x);
	free(c->map);
	free(c->seen);
	free(c->cols_text);
	free(c->keys);
	free(c->key_names);
	free(c->key_slots);
	memset(c, 0, sizeof *c);
}

size_t req_ctx_bytes(const struct req_ctx *c)
{
	return c->skel_cap + c->tok_cap * sizeof *c->tok + c->span_cap * sizeof *c->spans +
	       c->nums_cap * sizeof *c->nums + c->x_cap * sizeof *c->x + c->keys_cap +
	       c->key_names_cap * sizeof *c->key_names + c->key_slots_cap * sizeof *c->key_slots;
}

void req_ctx_shrink(struct req_ctx *c)
{
	free(c->skel);
	free(c->tok);
	free(c->spans);
	free(c->nums);
	free(c->x);
	free(c->keys);
	free(c->key_names);
	free(c->key_slots);
	c->skel = NULL;
	c->tok = NULL;
	c->spans = NULL;
	c->nums = NULL;
	c->x = NULL;
	c->keys = NULL;
	c->key_names = NULL;
	c->key_slots = NULL;
	c->skel_cap = c->tok_cap = c->span_cap = c->nums_cap = c->x_cap = 0;
	c->keys_cap = c->key_names_cap = c->key_slots_cap = 0;
	c->nspans = c->nnums = 0;
}

int req_start(const struct req_ctx *c, size_t len, struct req_error *e)
{
	e->code = REQ_OK;
	e->msg[0] = '\0';
	if (len > c->lim.max_bytes)
		return req_fail(e, REQ_E_LIMIT, "the body has %zu bytes; the limit is %zu", len, c->lim.max_bytes);
	return req_deadline(c, e);
}

int req_deadline(const struct req_ctx *c, struct req_error *e)
{
	struct timespec ts;

	if (c->deadline <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 <= c->deadline)
		return 0;
	return req_fail(e, REQ_E_DEADLINE, "the deadline passed before the body was decoded");
}

int req_reserve(void *bufp, size_t *cap, size_t need, size_t size)
{
	void **buf = bufp;
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	void *p = realloc(*buf, n * size);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

/* The tokens text holds, counted by jsmn without storing any; 0 when it is
 * malformed (the parse that follows says where). */
static size_t count_tokens(const char *text, size_t len)
{
	jsmn_parser p;

	jsmn_init(&p);
	int n = jsmn_parse(&p, text, len, NULL, 0);
	return n > 0 ? (size_t)n : 0;
}

/*
 * The first body a process decodes (every CGI request) is counted before
 * it is parsed, so the token array is made once at its size: a cold
 * process touches no more pages than the body needs, and parses once.  A
 * later body that outgrows the array is counted too.
 */
int req_tokenize(struct req_ctx *c, const char *text, size_t len,
		 size_t (*offset)(const struct req_ctx *c, size_t pos), struct req_error *e)
{
	size_t limit = c->tok_cap ? c->tok_cap : count_tokens(text, len);

	if (!limit)
		limit = 1024;
	for (;;) {
		jsmn_parser p;
		if (limit > c->lim.max_tokens)
			limit = c->lim.max_tokens;
		if (req_reserve(&c->tok, &c->tok_cap, limit, sizeof *c->tok) < 0)
			return req_fail(e, REQ_E_NOMEM, "out of memory for JSON tokens");
		jsmn_init(&p);
		int n = jsmn_parse(&p, text, len, c->tok, (unsigned)limit);
		if (n >= 0)
			return n;
		if (n == JSMN_ERROR_NOMEM) {
			if (limit >= c->lim.max_tokens)
				return req_fail(e, REQ_E_LIMIT, "the body has more than %zu JSON values (limit)",
						c->lim.max_tokens);
			if (req_deadline(c, e) < 0)
				return -1;
			size_t need = count_tokens(text, len);
			limit = need > limit ? need : limit * 2;
			continue;
		}
		size_t at = offset ? offset(c, p.pos) : p.pos;
		return req_fail(e, REQ_E_JSON, "malformed JSON at byte %zu: %s", at,
				n == JSMN_ERROR_PART ? "the document ends too early" : "unexpected character");
	}
}
