/*
 * json.c - jsmn's implementation is compiled here, once, and the helpers
 * that walk its tokens.
 */
#define SCOREPOINT_JSMN_IMPL
#include "model/json.h"
#include "model/num.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char json_why_dup_key[] = "a key is given twice";

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

/* ---- keys, compared as decoded ---- */

/* A key's decoded bytes, one at a time: escapes as json_string decodes
 * them (a lone surrogate as its 3-byte form), nothing refused. */
struct kread {
	const char *p, *end;
	char buf[4];
	size_t n, at;
};

static void kread_init(struct kread *r, const char *js, const jsmntok_t *t)
{
	r->p = js + t->start;
	r->end = js + t->end;
	r->n = r->at = 0;
}

/* Decode the escape at r->p into r->buf. */
static void kread_escape(struct kread *r)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *p = r->p, *e = r->end - p >= 2 && p[1] ? strchr(from, p[1]) : NULL;
	unsigned cp, lo;

	r->at = 0;
	r->n = 1;
	if (e) {
		r->buf[0] = to[e - from];
		r->p += 2;
	} else if (r->end - p >= 6 && p[1] == 'u' && hex4(p + 2, &cp) == 0) {
		r->p += 6;
		if (cp >= 0xD800 && cp <= 0xDBFF && r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' &&
		    hex4(r->p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			r->p += 6;
		}
		r->n = utf8_put(r->buf, cp);
	} else {
		r->buf[0] = '\\';   /* no escape jsmn lets through: compared as is */
		r->p++;
	}
}

/* The next decoded byte, or -1 at the key's end. */
static int kread_byte(struct kread *r)
{
	if (r->at < r->n)
		return (unsigned char)r->buf[r->at++];
	if (r->p >= r->end)
		return -1;
	if (*r->p != '\\')
		return (unsigned char)*r->p++;
	kread_escape(r);
	return (unsigned char)r->buf[r->at++];
}

static int same_key(const char *js, const jsmntok_t *a, const jsmntok_t *b)
{
	size_t la = (size_t)(a->end - a->start), lb = (size_t)(b->end - b->start);
	const char *pa = js + a->start, *pb = js + b->start;
	struct kread x, y;
	int c;

	if (la == lb && memcmp(pa, pb, la) == 0)
		return 1;
	if (!memchr(pa, '\\', la) && !memchr(pb, '\\', lb))
		return 0;
	kread_init(&x, js, a);
	kread_init(&y, js, b);
	do {
		c = kread_byte(&x);
		if (c != kread_byte(&y))
			return 0;
	} while (c >= 0);
	return 1;
}

/* Keys in the order of their decoded bytes, then of their tokens. */
static int key_order(const char *js, const jsmntok_t *t, int a, int b)
{
	const char *pa = js + t[a].start, *pb = js + t[b].start;
	size_t la = (size_t)(t[a].end - t[a].start), lb = (size_t)(t[b].end - t[b].start);
	struct kread x, y;
	int c, d;

	if (!memchr(pa, '\\', la) && !memchr(pb, '\\', lb)) {
		int m = memcmp(pa, pb, la < lb ? la : lb);
		c = m ? m : (la > lb) - (la < lb);
		return c ? c : (a > b) - (a < b);
	}
	kread_init(&x, js, &t[a]);
	kread_init(&y, js, &t[b]);
	do {
		c = kread_byte(&x);
		d = kread_byte(&y);
	} while (c == d && c >= 0);
	return c != d ? (c > d) - (c < d) : (a > b) - (a < b);
}

/* Heapsort key[0, n) by key_order: no allocation, n log n whatever the keys. */
static void sift(const char *js, const jsmntok_t *t, int *key, size_t root, size_t n)
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && key_order(js, t, key[child], key[child + 1]) < 0)
			child++;
		if (key_order(js, t, key[root], key[child]) >= 0)
			return;
		int tmp = key[root];
		key[root] = key[child];
		key[child] = tmp;
	}
}

static void sort_keys(const char *js, const jsmntok_t *t, int *key, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(js, t, key, i, n);
	for (size_t end = n; end-- > 1;) {
		int tmp = key[0];
		key[0] = key[end];
		key[end] = tmp;
		sift(js, t, key, 0, end);
	}
}

static uint32_t key_hash(const char *js, const jsmntok_t *t)
{
	const unsigned char *p = (const unsigned char *)js + t->start, *end = (const unsigned char *)js + t->end;
	struct kread r;
	uint32_t h = 2166136261u;

	while (p < end && *p != '\\')   /* the usual key: its bytes are its text */
		h = (h ^ *p++) * 16777619u;
	if (p == end)
		return h;
	h = 2166136261u;
	kread_init(&r, js, t);
	for (int c; (c = kread_byte(&r)) >= 0;)
		h = (h ^ (uint32_t)c) * 16777619u;
	return h;
}

/* ---- validation ---- */

struct vctx {
	const char *js;
	const jsmntok_t *t;
	int n;
	size_t bad;
	const char *why;
	/* The key tokens of the large objects being walked, outermost first
	 * (each object owns a slice from where it started), and the hash
	 * table one of them is checked with when it closes. */
	int *keys;
	size_t nkeys, keys_cap;
	struct kslot {
		uint32_t hash, key;   /* key: index in the object's keys + 1; 0 when free */
	} *slots;
	size_t slots_cap;
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

static int dup_key(struct vctx *v, int key)
{
	return vfail(v, outer_start(&v->t[key]), json_why_dup_key);
}

/* Room on the key stack for an object of `count` keys, from *base. */
static int keys_push(struct vctx *v, size_t count, size_t *base)
{
	size_t need = v->nkeys + count;
	if (need > v->keys_cap) {
		size_t cap = v->keys_cap ? v->keys_cap : 64;
		while (cap < need)
			cap *= 2;
		int *k = realloc(v->keys, cap * sizeof *k);
		if (!k)
			return -1;
		v->keys = k;
		v->keys_cap = cap;
	}
	*base = v->nkeys;
	v->nkeys = need;
	return 0;
}

/* Sorted, a repeated key follows its first occurrence: report the one
 * earliest in the text, as the table would. */
static int keys_distinct_sorted(struct vctx *v, int *key, size_t count)
{
	int first = -1;

	sort_keys(v->js, v->t, key, count);
	for (size_t a = 1; a < count; a++)
		if (same_key(v->js, &v->t[key[a - 1]], &v->t[key[a]]) && (first < 0 || key[a] < first))
			first = key[a];
	return first < 0 ? 0 : dup_key(v, first);
}

/* Keys key[0, count): none twice.  Few are compared pair by pair (the
 * objects of a request have a handful); many through an open-addressing
 * table of 2 to 4 slots a key, so that a 100,000-key object stays linear.
 * The hash is not keyed: keys chosen to collide would make the table
 * quadratic, so past a probe budget the keys are sorted instead. */
static int keys_distinct(struct vctx *v, int *key, size_t count)
{
	if (count <= JSON_KEYS_LINEAR) {
		for (size_t a = 1; a < count; a++)
			for (size_t b = 0; b < a; b++)
				if (same_key(v->js, &v->t[key[b]], &v->t[key[a]]))
					return dup_key(v, key[a]);
		return 0;
	}
	size_t size = 16;
	while (size < 2 * count)
		size *= 2;
	if (size > v->slots_cap) {
		free(v->slots);
		v->slots_cap = 0;
		if (!(v->slots = malloc(size * sizeof *v->slots)))
			return vfail(v, outer_start(&v->t[key[0]]), "out of memory");
		v->slots_cap = size;
	}
	memset(v->slots, 0, size * sizeof *v->slots);
	size_t budget = 4 * count;   /* probes; about 1.5 a key for random keys */
	for (size_t a = 0; a < count; a++) {
		uint32_t hash = key_hash(v->js, &v->t[key[a]]), h = hash & (uint32_t)(size - 1);
		for (; v->slots[h].key; h = (h + 1) & (uint32_t)(size - 1)) {
			if (budget-- == 0)
				return keys_distinct_sorted(v, key, count);
			if (v->slots[h].hash == hash && same_key(v->js, &v->t[key[v->slots[h].key - 1]], &v->t[key[a]]))
				return dup_key(v, key[a]);
		}
		v->slots[h] = (struct kslot){ hash, (uint32_t)a + 1 };
	}
	return 0;
}

/* Validate the container at *i and its children; leave *i after them. */
static int container(struct vctx *v, int *i, int depth)
{
	const jsmntok_t *c = &v->t[*i];
	int is_obj = c->type == JSMN_OBJECT, count = c->size;
	size_t p = (size_t)c->start + 1, close = (size_t)c->end - 1;
	int few[JSON_KEYS_LINEAR];
	size_t base = 0;

	if (depth > JSON_MAX_DEPTH)
		return vfail(v, (size_t)c->start, "nested too deeply");
	if (is_obj && count > JSON_KEYS_LINEAR && keys_push(v, (size_t)count, &base) < 0)
		return vfail(v, (size_t)c->start, "out of memory");
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
			if (count > JSON_KEYS_LINEAR)
				v->keys[base + (size_t)k] = *i;
			else
				few[k] = *i;
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
	if (gap(v, p, close, 0, count ? "missing ',' or closing bracket" : "expected a value") < 0)
		return -1;
	if (!is_obj)
		return 0;
	if (count <= JSON_KEYS_LINEAR)
		return keys_distinct(v, few, (size_t)count);
	v->nkeys = base;   /* popped before the check: the check uses no stack */
	return keys_distinct(v, v->keys + base, (size_t)count);
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
	struct vctx v = { js, t, n, 0, NULL, NULL, 0, 0, NULL, 0 };
	int i = 0, rc = -1;

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
	} else {
		rc = 0;
	}
	free(v.keys);
	free(v.slots);
	return rc;
}

/* ---- messages ---- */

const char *json_echo(const char *p, size_t n, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i = 0;

	if (cap == 0)
		return out;
	for (; i < n && i < JSON_ECHO_MAX; i++) {
		unsigned char c = (unsigned char)p[i];
		int plain = c >= 0x20 && c < 0x7F && c != '\\' && c != '"' && c != '\'';
		if (o + (plain ? 1 : 4) + 4 > cap)   /* keep room for "..." and the NUL */
			break;
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (i < n && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *json_refusal(const char *js, size_t bad, const char *why, size_t at, char *out, size_t cap)
{
	char key[JSON_ECHO_SIZE];
	size_t k = bad + 1;

	if (why != json_why_dup_key) {
		snprintf(out, cap, "malformed JSON at byte %zu: %s", at, why);
		return out;
	}
	/* A validated key: its closing quote comes before any string's end,
	 * and only the first JSON_ECHO_MAX bytes and one more matter. */
	while (k - bad - 1 <= JSON_ECHO_MAX && js[k] != '"')
		k += js[k] == '\\' ? 2 : 1;
	snprintf(out, cap, "key \"%s\" is given twice (at byte %zu)",
		 json_echo(js + bad + 1, k - bad - 1, key, sizeof key), at);
	return out;
}
