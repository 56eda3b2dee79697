/*
 * req_int.h - what model/req.c shares with the other request decoders of
 * model/ (req_scan.c, req_records.c, req_csv.c, v2.c).  Private to model/:
 * not part of the library's API.
 */
#ifndef SCOREPOINT_REQ_INT_H
#define SCOREPOINT_REQ_INT_H

#include "model/req.h"

/* An array of numbers the scanner parsed and replaced by "[]". */
struct req_span {
	size_t skel_off;     /* offset of its "[]" in the skeleton */
	size_t body_off;     /* offset of its '[' in the body */
	size_t body_len;     /* bytes it spanned in the body */
	size_t first;        /* index of its first value in ctx->nums */
	size_t count;
	int cols;            /* 1: not numbers but the cached "columns" list */
};

/* A column name, unescaped, for lookups. */
#define REQ_NAME_MAX_BYTES 1024

/* Fill e (status from the code) and return -1. */
int req_fail(struct req_error *e, enum req_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The offset of the first byte of p[0, n) that does not begin (or belong
 * to) a well-formed UTF-8 sequence (no overlong forms, no surrogates,
 * nothing above U+10FFFF), or n when there is none.  ASCII goes 8 bytes at
 * a time. */
size_t req_utf8_bad(const char *p, size_t n);

/* Fail e with REQ_E_JSON: "the body is not valid UTF-8 (byte 0xNN at
 * offset AT)", body[at] being that byte.  Returns -1. */
int req_fail_utf8(struct req_error *e, const char *body, size_t len, size_t at);

/* Start a decode: clear e and check the body against the byte cap.  0 or -1. */
int req_start(const struct req_ctx *c, size_t len, struct req_error *e);

/* Body bytes (or values) a decoder goes between two req_deadline() calls. */
#define REQ_DEADLINE_EVERY ((size_t)1 << 20)

/* 0, or -1 with REQ_E_DEADLINE in e once c->deadline has passed.  One
 * clock read: call it per block of work, never per number. */
int req_deadline(const struct req_ctx *c, struct req_error *e);

/* Grow *bufp to hold `need` elements of `size` bytes (amortised doubling). */
int req_reserve(void *bufp, size_t *cap, size_t need, size_t size);

/* "a string", "an array", "null", ... for messages. */
const char *req_kind_name(const char *js, const jsmntok_t *t);

/* Token t's text for messages, quoted by json_echo (escaped, cut). */
const char *req_tok_text(const char *js, const jsmntok_t *t, char *buf, size_t len);

/*
 * jsmn over text[0, len) into c->tok, doubling up to c->lim.max_tokens
 * (each retry re-parses: the total stays linear).  Returns the token count,
 * or -1 with e set.  `offset` maps a position in text to one in the body
 * for messages (NULL: the same).
 */
int req_tokenize(struct req_ctx *c, const char *text, size_t len,
		 size_t (*offset)(const struct req_ctx *c, size_t pos), struct req_error *e);

/*
 * The first pass of a JSON decode (req_scan.c): the numeric arrays of
 * body[0, len) into c->nums and c->spans, the rest copied to c->skel, each
 * such array (and the cached "columns" list of split orient) left as "[]".
 * Returns the skeleton's length, or -1 with e set.
 */
int req_scan(struct req_ctx *c, const struct req_schema *s, const char *body, size_t len, struct req_error *e);

/* Body offset of skeleton offset `off`, for messages. */
size_t req_body_offset(const struct req_ctx *c, size_t off);

/* The compacted array whose "[]" starts at skeleton offset off, or NULL.
 * Inline: the shapes ask once per row. */
static inline const struct req_span *req_span_at(const struct req_ctx *c, size_t off)
{
	size_t lo = 0, hi = c->nspans;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->spans[mid].skel_off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->nspans && c->spans[lo].skel_off == off ? &c->spans[lo] : NULL;
}

/* A decode's walk over the skeleton's tokens (or a CSV body) into c->x. */
struct req_walk {
	struct req_ctx *c;
	const struct req_schema *s;
	const char *js;          /* the skeleton (NULL for CSV) */
	const jsmntok_t *t;
	struct req_error *e;
	size_t rows;
	uint32_t ncols;          /* request columns (== map entries) */
	int named;               /* request columns have names */
};

/* One cell of a row given as JSON: token t as a float32 into *out, or -1
 * with the 400 in e, naming row `row` and column `col` ("row 3, column
 * \"x7\": ..."); `col` is formatted only then, by the caller's col_fn. */
typedef const char *req_col_fn(const struct req_walk *w, const void *arg, int col, char *buf, size_t len);
int req_cell(struct req_walk *w, const jsmntok_t *t, size_t row, req_col_fn *col_fn, const void *arg, int col,
	     float *out);

/* Allocate c->x for rows rows of the model's width (check the caps, refuse
 * no rows); w->rows = rows.  0, or -1 with w->e. */
int req_start_matrix(struct req_walk *w, size_t rows);

/* Slots for a name index of n names: a power of two, at most half full. */
uint32_t req_index_size(uint32_t n);
/* s->columns[0, s->ncolumns) into s->slots (zeroed, s->mask + 1 of them). */
void req_index_names(struct req_schema *s);

/* The records at array token arr (req_records.c): 0, or -1 with w->e. */
int req_records(struct req_walk *w, int arr);

/* After a mapping (c->seen): every model column must be present.  record is
 * the record being checked, or SIZE_MAX for the request's column list.  0, or
 * -1 with w->e naming up to ten missing columns. */
int req_check_missing(struct req_walk *w, size_t record);

#endif
