/*
 * pylit.c - a label map written as a Python literal (tools/pylit.h).
 *
 * A recursive descent over the literal grammar, in one pass and without a
 * token list: containers nest at most PYLIT_MAX_DEPTH deep, a string is
 * decoded into one fixed buffer of PYLIT_MAX_STRING bytes, and only the
 * entries of the outermost container are kept.  Nested containers are read
 * through, so that an error deep inside is reported where it is, then
 * refused by the outermost level as "a list, not a string".
 */
#include "tools/pylit.h"
#include "model/enc.h"
#include "model/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { V_STR, V_INT, V_NUMBER, V_CONST, V_LIST, V_TUPLE, V_DICT, V_SET };

static const char *const kind_name[] = {
	[V_STR] = "a string",
	[V_INT] = "an integer",
	[V_NUMBER] = "a number that is not a decimal integer",
	[V_CONST] = "a constant (True, False or None)",
	[V_LIST] = "a list",
	[V_TUPLE] = "a tuple",
	[V_DICT] = "a dict",
	[V_SET] = "a set",
};

struct val {
	enum kind kind;
	long long i;      /* V_INT, clamped to +-PYLIT_BIG */
	size_t pos;       /* where it begins, for messages */
};

#define PYLIT_BIG 1000000000000LL

/* The entries of the outermost container, as read. */
struct sink {
	char **v;
	long long *keys;   /* a dict's key of each entry */
	uint32_t n, cap;
	int dict;
};

struct lex {
	const struct pylit_src *src;
	const char *s;
	size_t len, pos;
	unsigned brackets;                /* open brackets: a newline inside them is a blank */
	size_t str_pos;                   /* where the string being decoded begins */
	char ctx[96];                     /* "labels_map[3]": what the messages are about */
	char *err;
	size_t errlen;
	size_t slen;
	char str[PYLIT_MAX_STRING + 1];   /* the last string read, decoded, NUL-terminated */
};

static unsigned line_of(const struct lex *L, size_t pos)
{
	unsigned line = 1;
	for (size_t i = 0; i < pos && i < L->len; i++)
		line += L->s[i] == '\n';
	return line;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct lex *L, size_t pos, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(L->err, L->errlen, "%s:%u: %s: %s", L->src->file, line_of(L, pos), L->ctx, msg);
}

static int peek_at(const struct lex *L, size_t k)
{
	return L->pos + k < L->len ? (unsigned char)L->s[L->pos + k] : -1;
}

static int peek(const struct lex *L)
{
	return peek_at(L, 0);
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Bytes >= 0x80 count: Python identifiers may be any Unicode letters. */
static int is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_ident(int c)
{
	return is_ident_start(c) || is_digit(c);
}

/* "'x'", "byte 0x07" or "the end of the file", for messages. */
static const char *shown(int c, char *buf, size_t n)
{
	if (c < 0)
		return "the end of the file";
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, n, "'%c'", c);
	else
		snprintf(buf, n, "byte 0x%02x", (unsigned)c);
	return buf;
}

/* Spaces, comments and backslash continuations; newlines too inside
 * brackets, where Python joins lines implicitly. */
static void skip_blank(struct lex *L)
{
	for (int c = peek(L); c >= 0; c = peek(L)) {
		if (c == ' ' || c == '\t' || c == '\f' || ((c == '\n' || c == '\r') && L->brackets))
			L->pos++;
		else if (c == '#')
			while (peek(L) >= 0 && peek(L) != '\n' && peek(L) != '\r')
				L->pos++;
		else if (c == '\\' && peek_at(L, 1) == '\n')
			L->pos += 2;
		else if (c == '\\' && peek_at(L, 1) == '\r')
			L->pos += peek_at(L, 2) == '\n' ? 3 : 2;
		else
			break;
	}
}

/* ---- strings ---- */

/* Length of a string prefix (r, u, f, b, rb, fr, ...) followed by a quote
 * at the current position, 0 when there is none. */
static size_t string_prefix(const struct lex *L)
{
	size_t k = 0;
	while (k < 2 && peek_at(L, k) >= 0 && strchr("rRuUfFbB", peek_at(L, k)))
		k++;
	return (peek_at(L, k) == '\'' || peek_at(L, k) == '"') ? k : 0;
}

static int starts_string(const struct lex *L)
{
	return peek(L) == '\'' || peek(L) == '"' || string_prefix(L);
}

static int put(struct lex *L, char c)
{
	if (L->slen >= PYLIT_MAX_STRING)
		return fail(L, L->str_pos, "a string longer than %d bytes", PYLIT_MAX_STRING);
	L->str[L->slen++] = c;
	return 0;
}

/* Code point cp as UTF-8; escapes cannot make a NUL or a surrogate. */
static int put_cp(struct lex *L, unsigned long cp, size_t at)
{
	if (cp == 0)
		return fail(L, at, "a NUL character in a string");
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return fail(L, at, "a surrogate (U+%04lX) has no UTF-8 form", cp);
	if (cp > 0x10FFFF)
		return fail(L, at, "an escape beyond U+10FFFF");
	if (cp < 0x80)
		return put(L, (char)cp);
	if (cp < 0x800)
		return put(L, (char)(0xC0 | cp >> 6)) || put(L, (char)(0x80 | (cp & 0x3F))) ? -1 : 0;
	if (cp < 0x10000)
		return put(L, (char)(0xE0 | cp >> 12)) || put(L, (char)(0x80 | ((cp >> 6) & 0x3F))) ||
		       put(L, (char)(0x80 | (cp & 0x3F))) ? -1 : 0;
	return put(L, (char)(0xF0 | cp >> 18)) || put(L, (char)(0x80 | ((cp >> 12) & 0x3F))) ||
	       put(L, (char)(0x80 | ((cp >> 6) & 0x3F))) || put(L, (char)(0x80 | (cp & 0x3F))) ? -1 : 0;
}

/* \xhh, \uhhhh, \Uhhhhhhhh: exactly ndigits hex digits. */
static int put_hex(struct lex *L, int ndigits, size_t at)
{
	unsigned long cp = 0;
	for (int i = 0; i < ndigits; i++) {
		int c = peek(L);
		const char *hex = c > 0 ? strchr("0123456789abcdef", c | 0x20) : NULL;
		int d = hex ? (int)(hex - "0123456789abcdef") : -1;
		if (d < 0)
			return fail(L, at, "a \\%c escape needs %d hex digits", L->s[at + 1], ndigits);
		cp = cp * 16 + (unsigned long)d;
		L->pos++;
	}
	return put_cp(L, cp, at);
}

/* One escape sequence of a non-raw string, L->pos at the backslash. */
static int escape(struct lex *L)
{
	static const char from[] = "\\'\"abfnrtv", to[] = "\\'\"\a\b\f\n\r\t\v";
	size_t at = L->pos;
	int e = peek_at(L, 1);
	const char *simple = e > 0 ? strchr(from, e) : NULL;

	L->pos += 2;
	if (simple)
		return put(L, to[simple - from]);
	if (e == '\n')
		return 0;
	if (e == '\r') {
		L->pos += peek(L) == '\n';
		return 0;
	}
	if (e == 'x' || e == 'u' || e == 'U')
		return put_hex(L, e == 'x' ? 2 : e == 'u' ? 4 : 8, at);
	if (e == 'N')
		return fail(L, at, "a \\N{...} escape: write the character itself or use \\u");
	if (e >= '0' && e <= '7') {
		unsigned long cp = (unsigned long)(e - '0');
		for (int i = 0; i < 2 && peek(L) >= '0' && peek(L) <= '7'; i++, L->pos++)
			cp = cp * 8 + (unsigned long)(peek(L) - '0');
		return put_cp(L, cp, at);
	}
	/* Python keeps an unknown escape as it is, backslash included. */
	return put(L, '\\') || put(L, (char)e) ? -1 : 0;
}

/* One string literal, prefix and quotes included, appended to L->str. */
static int string_literal(struct lex *L)
{
	size_t start = L->pos;
	int raw = 0;

	for (size_t k = string_prefix(L); k > 0; k--, L->pos++) {
		int c = peek(L) | 0x20;
		if (c == 'f')
			return fail(L, start, "an f-string: its {...} would be evaluated; write a plain string");
		if (c == 'b')
			return fail(L, start, "a bytes literal, not a string");
		raw |= c == 'r';
	}
	char q = L->s[L->pos];
	int triple = peek_at(L, 1) == q && peek_at(L, 2) == q;
	L->pos += triple ? 3 : 1;
	for (;;) {
		int c = peek(L);
		if (c < 0)
			return fail(L, start, "a string that is never closed");
		if (c == q && (!triple || (peek_at(L, 1) == q && peek_at(L, 2) == q))) {
			L->pos += triple ? 3 : 1;
			return 0;
		}
		if ((c == '\n' || c == '\r') && !triple)
			return fail(L, start, "a string that is not closed on its line");
		if (c == 0)
			return fail(L, L->pos, "a NUL byte in a string");
		if (c == '\\' && !raw) {
			if (peek_at(L, 1) < 0)
				return fail(L, start, "a string that is never closed");
			if (escape(L) < 0)
				return -1;
			continue;
		}
		if (c == '\r') {   /* Python reads \r\n and \r as \n */
			L->pos += peek_at(L, 1) == '\n';
			c = '\n';
		}
		/* In a raw string a backslash still keeps the next quote from
		 * closing the string; both stay. */
		if (c == '\\' && peek_at(L, 1) >= 0) {
			if (put(L, '\\') < 0)
				return -1;
			c = L->s[++L->pos];
		}
		if (put(L, (char)c) < 0)
			return -1;
		L->pos++;
	}
}

/* Adjacent string literals, concatenated as Python does. */
static int strings(struct lex *L, struct val *v)
{
	v->kind = V_STR;
	L->slen = 0;
	L->str_pos = L->pos;
	do {
		if (string_literal(L) < 0)
			return -1;
		skip_blank(L);
	} while (starts_string(L));
	L->str[L->slen] = '\0';
	if (memchr(L->str, '\0', L->slen))
		return fail(L, v->pos, "a NUL byte in a string");
	if (!enc_utf8_valid(L->str))
		return fail(L, v->pos, "a string that is not valid UTF-8");
	return 0;
}

/* ---- numbers and names ---- */

static int number(struct lex *L, struct val *v)
{
	int neg = 0;

	while (peek(L) == '-' || peek(L) == '+') {
		neg ^= peek(L) == '-';
		L->pos++;
		skip_blank(L);
	}
	if (!is_digit(peek(L)) && !(peek(L) == '.' && is_digit(peek_at(L, 1))))
		return fail(L, v->pos, "a sign that is not before a number: an expression, not a literal");
	size_t d0 = L->pos;
	long long i = 0;
	while (is_digit(peek(L)) || (peek(L) == '_' && L->pos > d0 && is_digit(peek_at(L, 1)))) {
		if (is_digit(peek(L)) && (i = i * 10 + (peek(L) - '0')) > PYLIT_BIG)
			i = PYLIT_BIG;
		L->pos++;
	}
	v->kind = V_INT;
	v->i = neg ? -i : i;
	if (L->pos - d0 > 1 && L->s[d0] == '0')
		v->kind = V_NUMBER;   /* 0x10, 0o7, 007: not what a label key looks like */
	/* 1.5, 1e3, 0x1F, 3j: read through, a number all the same */
	while (is_ident(peek(L)) || peek(L) == '.' ||
	       ((peek(L) == '-' || peek(L) == '+') && (L->s[L->pos - 1] | 0x20) == 'e')) {
		v->kind = V_NUMBER;
		L->pos++;
	}
	return 0;
}

static int name(struct lex *L, struct val *v)
{
	static const char *const consts[] = { "True", "False", "None" };
	size_t start = L->pos;

	while (is_ident(peek(L)) || (peek(L) == '.' && is_ident_start(peek_at(L, 1))))
		L->pos++;
	int n = (int)(L->pos - start < 64 ? L->pos - start : 64);
	for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
		if (L->pos - start == strlen(consts[i]) && memcmp(L->s + start, consts[i], L->pos - start) == 0) {
			v->kind = V_CONST;
			return 0;
		}
	skip_blank(L);
	if (peek(L) == '(')
		return fail(L, start, "a function call (%.*s(...)): the label map is read, never run; "
			    "write the labels as string literals", n, L->s + start);
	if (peek(L) == '[')
		return fail(L, start, "a subscript (%.*s[...]): the label map is read, never run; "
			    "write the labels as string literals", n, L->s + start);
	return fail(L, start, "a name (%.*s), not a literal: the label map is read, never run; "
		    "write the labels as string literals", n, L->s + start);
}

/* ---- containers ---- */

static int value(struct lex *L, unsigned depth, struct val *v);

/* Keep one entry of the outermost container: its value as a label. */
static int keep(struct lex *L, struct sink *k, const struct val *key, const struct val *v)
{
	if (k->dict && key->kind != V_INT)
		return fail(L, key->pos, "a key that is %s; the keys must be the integers 0..n-1",
			    kind_name[key->kind]);
	if (k->dict && (key->i < 0 || key->i >= PYLIT_MAX_LABELS))
		return fail(L, key->pos, "key %lld; the keys must be the integers 0..n-1, n <= %d", key->i,
			    PYLIT_MAX_LABELS);
	if (v->kind != V_STR)
		return fail(L, v->pos, "%s, not a string", kind_name[v->kind]);
	if (k->n >= PYLIT_MAX_LABELS)
		return fail(L, v->pos, "more than %d labels", PYLIT_MAX_LABELS);
	if (k->n == k->cap) {
		uint32_t cap = k->cap ? k->cap * 2 : 16;
		char **nv = realloc(k->v, cap * sizeof *nv);
		if (nv)
			k->v = nv;
		long long *nk = nv ? realloc(k->keys, cap * sizeof *nk) : NULL;
		if (!nk)
			return fail(L, v->pos, "out of memory");
		k->keys = nk;
		k->cap = cap;
	}
	if (!(k->v[k->n] = strdup(L->str)))
		return fail(L, v->pos, "out of memory");
	k->keys[k->n] = k->dict ? key->i : (long long)k->n;
	k->n++;
	return 0;
}

/* What the messages call the entry being read: NAME[3], or NAME. */
static void set_ctx(struct lex *L, int indexed, long long i)
{
	if (indexed)
		snprintf(L->ctx, sizeof L->ctx, "%.60s[%lld]", L->src->name, i);
	else
		snprintf(L->ctx, sizeof L->ctx, "%.60s", L->src->name);
}

/* A list, tuple, dict or set at L->pos; its entries go to k when k is not
 * NULL (the outermost container). */
static int container(struct lex *L, unsigned depth, struct val *v, struct sink *k)
{
	char open = L->s[L->pos], close = open == '[' ? ']' : open == '(' ? ')' : '}', buf[16];
	uint32_t count = 0;
	int commas = 0;
	struct val key, item;

	if (depth >= PYLIT_MAX_DEPTH)
		return fail(L, L->pos, "brackets nested more than %d deep", PYLIT_MAX_DEPTH);
	v->kind = open == '[' ? V_LIST : open == '(' ? V_TUPLE : V_DICT;
	L->pos++;
	L->brackets++;
	for (;;) {
		skip_blank(L);
		if (peek(L) == close)
			break;
		if (k)
			set_ctx(L, v->kind != V_DICT, count);
		if (value(L, depth + 1, &key) < 0)
			return -1;
		skip_blank(L);
		if (open == '{' && count == 0 && peek(L) != ':')
			v->kind = V_SET;
		if (k && v->kind == V_SET)
			return fail(L, v->pos, "a set: its order is not defined; write a list or a dict {0: ...}");
		item = key;
		if (v->kind == V_DICT) {
			if (peek(L) != ':')
				return fail(L, L->pos, "expected ':' after a dict key, found %s",
					    shown(peek(L), buf, sizeof buf));
			L->pos++;
			if (k && key.kind == V_INT)
				set_ctx(L, 1, key.i);
			if (value(L, depth + 1, &item) < 0)
				return -1;
		}
		if (k && keep(L, k, &key, &item) < 0)
			return -1;
		count++;
		skip_blank(L);
		if (peek(L) == ',') {
			L->pos++;
			commas++;
			continue;
		}
		if (peek(L) != close)
			return fail(L, L->pos, "expected ',' or '%c', found %s", close,
				    shown(peek(L), buf, sizeof buf));
		break;
	}
	L->pos++;
	L->brackets--;
	if (open == '(' && count == 1 && !commas)
		v->kind = key.kind;   /* (x) is x, not a tuple */
	if (k)
		set_ctx(L, 0, 0);
	return 0;
}

static int value(struct lex *L, unsigned depth, struct val *v)
{
	char buf[16];
	int c;

	skip_blank(L);
	v->pos = L->pos;
	c = peek(L);
	if (c == '[' || c == '(' || c == '{')
		return container(L, depth, v, NULL);
	if (starts_string(L))
		return strings(L, v);
	if (c == '-' || c == '+' || is_digit(c) || (c == '.' && is_digit(peek_at(L, 1))))
		return number(L, v);
	if (is_ident_start(c))
		return name(L, v);
	return fail(L, L->pos, "%s where a value is expected", shown(c, buf, sizeof buf));
}

/* ---- the label map ---- */

void pylit_free_labels(char **labels, uint32_t n)
{
	for (uint32_t i = 0; labels && i < n; i++)
		free(labels[i]);
	free(labels);
}

/* A dict's entries in key order, once each key 0..n-1 is known present. */
static int by_key(struct lex *L, struct sink *k, size_t at, char ***out)
{
	long long max = -1;
	for (uint32_t i = 0; i < k->n; i++)
		max = k->keys[i] > max ? k->keys[i] : max;
	char **v = calloc((size_t)max + 1, sizeof *v);
	if (!v)
		return fail(L, at, "out of memory");
	for (uint32_t i = 0; i < k->n; i++) {
		if (v[k->keys[i]]) {
			free(v);
			return fail(L, at, "key %lld twice", k->keys[i]);
		}
		v[k->keys[i]] = k->v[i];
	}
	for (long long i = 0; i <= max; i++)
		if (!v[i]) {
			free(v);
			return fail(L, at, "no key %lld; the keys must be 0..n-1, each once (they run to %lld here)",
				    i, max);
		}
	/* every key 0..max once, so max + 1 == k->n: the strings move to v */
	free(k->v);
	k->v = NULL;
	*out = v;
	return 0;
}

int pylit_labels(const struct pylit_src *src, size_t at, char ***labels, uint32_t *n, char *err,
		 size_t errlen)
{
	struct lex *L = calloc(1, sizeof *L);
	struct sink k = { 0 };
	struct val v;
	char buf[16];
	int rc = -1;

	if (!L)
		return err_set(err, errlen, "%s: out of memory", src->file);
	*L = (struct lex){ .src = src, .s = src->text, .len = src->len, .pos = at, .err = err, .errlen = errlen };
	snprintf(L->ctx, sizeof L->ctx, "%.60s", src->name);
	v.pos = at;
	if (src->len > PYLIT_MAX_BYTES) {
		err_set(err, errlen, "%s: larger than %u bytes", src->file, PYLIT_MAX_BYTES);
		goto out;
	}
	if (at >= src->len || !strchr("[({", src->text[at])) {
		fail(L, at, "not a list, tuple or dict literal");
		goto out;
	}
	k.dict = src->text[at] == '{';
	if (container(L, 0, &v, &k) < 0)
		goto out;
	if (v.kind != V_LIST && v.kind != V_TUPLE && v.kind != V_DICT) {
		fail(L, at, "%s, not a list, tuple or dict of labels", kind_name[v.kind]);
		goto out;
	}
	L->brackets = 0;
	skip_blank(L);
	if (peek(L) >= 0 && peek(L) != '\n' && peek(L) != '\r' && peek(L) != ';') {
		fail(L, L->pos, "%s after the literal: the value must be a literal alone",
		     shown(peek(L), buf, sizeof buf));
		goto out;
	}
	if (k.n == 0) {
		fail(L, at, "empty: no labels");
		goto out;
	}
	if (k.dict && by_key(L, &k, at, labels) < 0)
		goto out;
	if (!k.dict) {
		*labels = k.v;
		k.v = NULL;
	}
	*n = k.n;
	rc = 0;
out:
	if (k.v)
		pylit_free_labels(k.v, k.n);
	free(k.keys);
	free(L);
	return rc;
}
