/*
 * json.c - jsmn's implementation is compiled here, once, and the helpers
 * that walk its tokens.
 */
#define SCOREPOINT_JSMN_IMPL
#include "model/json.h"
#include "model/num.h"

#include <string.h>

int json_skip(const jsmntok_t *t, int i)
{
	/* Children follow their parent in document order; count what's left.
	 * jsmn gives an object one child per key and each key its value. */
	int pending = 1;
	while (pending > 0) {
		pending += t[i].size;
		pending--;
		i++;
	}
	return i;
}

int json_eq(const char *js, const jsmntok_t *t, int i, const char *s)
{
	size_t n = strlen(s);
	return t[i].type == JSMN_STRING && (size_t)(t[i].end - t[i].start) == n &&
	       memcmp(js + t[i].start, s, n) == 0;
}

int json_get(const char *js, const jsmntok_t *t, int obj, const char *key)
{
	if (t[obj].type != JSMN_OBJECT)
		return -1;
	int k = obj + 1;
	for (int n = 0; n < t[obj].size; n++) {
		if (json_eq(js, t, k, key))
			return k + 1;
		k = json_skip(t, k);
	}
	return -1;
}

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d = (c >= '0' && c <= '9') ? (unsigned)(c - '0') :
			     (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10) :
			     (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10) : 16u;
		if (d > 15)
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int json_string(const char *js, const jsmntok_t *t, int i, char *out, size_t cap)
{
	const char *p = js + t[i].start, *end = js + t[i].end;
	size_t n = 0;

	if (t[i].type != JSMN_STRING || cap == 0)
		return -1;
	while (p < end) {
		char buf[4];
		size_t len = 1;
		unsigned char c = (unsigned char)*p;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			buf[0] = (char)c;
			p++;
		} else {
			if (end - p < 2)
				return -1;
			switch (p[1]) {
			case '"': buf[0] = '"'; break;
			case '\\': buf[0] = '\\'; break;
			case '/': buf[0] = '/'; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (end - p < 6 || hex4(p + 2, &cp) < 0 || cp == 0)
					return -1;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return -1;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
					    hex4(p + 8, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
						return -1;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
				len = utf8_put(buf, cp);
				p += 4;
				break;
			}
			default:
				return -1;
			}
			p += 2;
		}
		if (n + len >= cap)
			return -1;
		memcpy(out + n, buf, len);
		n += len;
	}
	out[n] = '\0';
	return (int)n;
}

int json_depth_ok(const char *js, size_t len)
{
	int depth = 0, in_string = 0;
	for (size_t i = 0; i < len; i++) {
		char c = js[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = 0;
		} else if (c == '"') {
			in_string = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > JSON_MAX_DEPTH)
				return 0;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return 1;
}

/* ---- validation ---- */

struct vctx {
	const char *js;
	const jsmntok_t *t;
	int n;
	size_t bad;
	const char *why;
};

static int vfail(struct vctx *v, size_t at, const char *why)
{
	v->bad = at;
	v->why = why;
	return -1;
}

static size_t skip_ws(const char *js, size_t p, size_t end)
{
	while (p < end && (js[p] == ' ' || js[p] == '\t' || js[p] == '\n' || js[p] == '\r'))
		p++;
	return p;
}

/* Where a token's text starts and ends, quotes included. */
static size_t outer_start(const jsmntok_t *t)
{
	return (size_t)t->start - (t->type == JSMN_STRING);
}

static size_t outer_end(const jsmntok_t *t)
{
	return (size_t)t->end + (t->type == JSMN_STRING);
}

/* Between p and the token at `at`: whitespace, then `sep` (if not 0), then
 * whitespace. */
static int gap(struct vctx *v, size_t p, size_t at, char sep, const char *why)
{
	p = skip_ws(v->js, p, at);
	if (sep) {
		if (p >= at || v->js[p] != sep)
			return vfail(v, p, why);
		p = skip_ws(v->js, p + 1, at);
	}
	return p == at ? 0 : vfail(v, p, sep ? "unexpected character" : why);
}

static int value(struct vctx *v, int *i, int depth);

static int primitive(struct vctx *v, const jsmntok_t *t)
{
	const char *p = v->js + t->start;
	size_t n = (size_t)(t->end - t->start);
	double d;

	if ((n == 4 && memcmp(p, "true", 4) == 0) || (n == 5 && memcmp(p, "false", 5) == 0) ||
	    (n == 4 && memcmp(p, "null", 4) == 0))
		return 0;
	enum num_status st = num_parse(p, p + n, NUM_JSON, &d);
	if (st == NUM_OK || st == NUM_ERANGE)   /* a huge number is valid JSON; its use decides */
		return 0;
	return vfail(v, (size_t)t->start, "not a JSON value");
}

static int string(struct vctx *v, const jsmntok_t *t)
{
	for (int k = t->start; k < t->end; k++)
		if ((unsigned char)v->js[k] < 0x20)
			return vfail(v, (size_t)k, "control character in a string");
	return 0;
}

/* Validate the container at *i and its children; leave *i after them. */
static int container(struct vctx *v, int *i, int depth)
{
	const jsmntok_t *c = &v->t[*i];
	int is_obj = c->type == JSMN_OBJECT, count = c->size;
	size_t p = (size_t)c->start + 1, close = (size_t)c->end - 1;

	if (depth > JSON_MAX_DEPTH)
		return vfail(v, (size_t)c->start, "nested too deeply");
	(*i)++;
	for (int k = 0; k < count; k++) {
		if (*i >= v->n || (size_t)v->t[*i].start > close)
			return vfail(v, p, "truncated");
		const jsmntok_t *e = &v->t[*i];
		if (gap(v, p, outer_start(e), k ? ',' : 0, "missing ','") < 0)
			return -1;
		if (is_obj) {
			if (e->type != JSMN_STRING || e->size != 1)
				return vfail(v, outer_start(e), "object key is not a string");
			if (string(v, e) < 0)
				return -1;
			p = outer_end(e);
			(*i)++;
			if (*i >= v->n || gap(v, p, outer_start(&v->t[*i]), ':', "missing ':'") < 0)
				return *i >= v->n ? vfail(v, p, "missing value") : -1;
		}
		const jsmntok_t *val = &v->t[*i];
		if (value(v, i, depth + 1) < 0)
			return -1;
		p = outer_end(val);
	}
	return gap(v, p, close, 0, count ? "missing ',' or closing bracket" : "expected a value");
}

static int value(struct vctx *v, int *i, int depth)
{
	const jsmntok_t *t = &v->t[*i];

	switch (t->type) {
	case JSMN_OBJECT:
	case JSMN_ARRAY:
		return container(v, i, depth);
	case JSMN_STRING:
		(*i)++;
		if (t->size != 0)
			return vfail(v, outer_start(t), "a string where a value belongs is followed by ':'");
		return string(v, t);
	case JSMN_PRIMITIVE:
		(*i)++;
		return primitive(v, t);
	default:
		return vfail(v, (size_t)t->start, "not a JSON value");
	}
}

int json_validate(const char *js, size_t len, const jsmntok_t *t, int n,
		  size_t *bad, const char **why)
{
	struct vctx v = { js, t, n, 0, NULL };
	int i = 0;

	if (n < 1) {
		*bad = 0;
		*why = "empty document";
		return -1;
	}
	if (gap(&v, 0, outer_start(&t[0]), 0, "text before the value") < 0 ||
	    value(&v, &i, 1) < 0 ||
	    (i != n ? vfail(&v, outer_start(&t[i]), "text after the value") : 0) < 0 ||
	    gap(&v, outer_end(&t[0]), len, 0, "text after the value") < 0) {
		*bad = v.bad;
		*why = v.why;
		return -1;
	}
	return 0;
}
