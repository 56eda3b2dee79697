/*
 * fuzz_json.c - the strict JSON check the decoders and the token verifier
 * run over jsmn: json_depth_ok, jsmn_parse and json_validate
 * (model/json.h), then json_string on every string token.
 *
 * The input is the document.  Property (a differential check): for a
 * document whose first non-blank byte opens an object or an array, that
 * pipeline accepts exactly what the RFC 8259 grammar accepts with
 * containers nested at most JSON_MAX_DEPTH deep and no object giving a key
 * twice (keys compared decoded, Python's way), as checked by the small
 * recursive parser below.  (A bare top-level number is left out: strict
 * jsmn wants a delimiter after a primitive, a documented quirk nothing
 * here relies on.)
 */
#include "model/json.h"
#include "tests/fuzz/fuzz.h"

struct ref {
	const char *p, *end;
};

static void ws(struct ref *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int lit(struct ref *r, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
		return 0;
	r->p += n;
	return 1;
}

static int hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int string(struct ref *r)
{
	if (r->p >= r->end || *r->p != '"')
		return 0;
	for (r->p++; r->p < r->end; r->p++) {
		unsigned char c = (unsigned char)*r->p;
		if (c == '"') {
			r->p++;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++r->p >= r->end)
				return 0;
			if (*r->p == 'u') {
				if (r->end - r->p < 5 || !hex(r->p[1]) || !hex(r->p[2]) || !hex(r->p[3]) || !hex(r->p[4]))
					return 0;
				r->p += 4;
			} else if (!strchr("\"\\/bfnrt", *r->p) || *r->p == '\0') {
				return 0;
			}
		}
	}
	return 0;
}

/* The string r->p points at (a valid one) decoded into out (room for its
 * length in bytes, each escape decoding to fewer bytes than it takes):
 * \uXXXX as UTF-8, a surrogate pair as one code point, a lone surrogate
 * as its 3-byte form. */
static size_t decode_key(const char *p, char *out)
{
	size_t o = 0;
	for (p++; *p != '"'; p++) {
		if (*p != '\\') {
			out[o++] = *p;
			continue;
		}
		p++;
		const char *simple = strchr("\"\"\\\\//b\bf\fn\nr\rt\t", *p);
		if (*p != 'u') {
			out[o++] = simple[1];
			continue;
		}
		unsigned long cp = strtoul((char[5]){ p[1], p[2], p[3], p[4], 0 }, NULL, 16);
		p += 4;
		if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
			unsigned long lo = strtoul((char[5]){ p[3], p[4], p[5], p[6], 0 }, NULL, 16);
			if (lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
		}
		if (cp < 0x80) {
			out[o++] = (char)cp;
		} else if (cp < 0x800) {
			out[o++] = (char)(0xC0 | cp >> 6);
			out[o++] = (char)(0x80 | (cp & 63));
		} else if (cp < 0x10000) {
			out[o++] = (char)(0xE0 | cp >> 12);
			out[o++] = (char)(0x80 | (cp >> 6 & 63));
			out[o++] = (char)(0x80 | (cp & 63));
		} else {
			out[o++] = (char)(0xF0 | cp >> 18);
			out[o++] = (char)(0x80 | (cp >> 12 & 63));
			out[o++] = (char)(0x80 | (cp >> 6 & 63));
			out[o++] = (char)(0x80 | (cp & 63));
		}
	}
	return o;
}

/* An object's keys, decoded, for the duplicate check. */
struct keys {
	char **k;
	size_t *len, n;
};

/* Add the key at p; 0 when the object already has it. */
static int key_new(struct keys *ks, const char *p, size_t raw)
{
	char *d = malloc(raw + 1);
	char **k = realloc(ks->k, (ks->n + 1) * sizeof *k);
	size_t *len = k ? realloc(ks->len, (ks->n + 1) * sizeof *len) : NULL;
	if (!d || !k || !len)
		abort();
	ks->k = k;
	ks->len = len;
	size_t n = decode_key(p, d);
	for (size_t i = 0; i < ks->n; i++)
		if (len[i] == n && memcmp(k[i], d, n) == 0) {
			free(d);
			return 0;
		}
	k[ks->n] = d;
	len[ks->n++] = n;
	return 1;
}

static void keys_free(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->k[i]);
	free(ks->k);
	free(ks->len);
}

static int digits(struct ref *r)
{
	const char *s = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s;
}

static int number(struct ref *r)
{
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (!(r->p < r->end && *r->p >= '1' && *r->p <= '9') || !digits(r))
		return 0;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!digits(r))
			return 0;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!digits(r))
			return 0;
	}
	return 1;
}

static int value(struct ref *r, int depth)
{
	ws(r);
	if (r->p >= r->end)
		return 0;
	char c = *r->p;
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		if (depth + 1 > JSON_MAX_DEPTH)
			return 0;
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 1;
		}
		struct keys ks = { NULL, NULL, 0 };
		int ok = 0;
		for (;;) {
			if (c == '{') {
				ws(r);
				const char *key = r->p;
				if (!string(r) || !key_new(&ks, key, (size_t)(r->p - key)))
					break;
				ws(r);
				if (r->p >= r->end || *r->p != ':')
					break;
				r->p++;
			}
			if (!value(r, depth + 1))
				break;
			ws(r);
			if (r->p >= r->end)
				break;
			if (*r->p == close) {
				r->p++;
				ok = 1;
				break;
			}
			if (*r->p != ',')
				break;
			r->p++;
		}
		keys_free(&ks);
		return ok;
	}
	if (c == '"')
		return string(r);
	if (c == 't')
		return lit(r, "true");
	if (c == 'f')
		return lit(r, "false");
	if (c == 'n')
		return lit(r, "null");
	return number(r);
}

static int reference(const char *js, size_t len)
{
	struct ref r = { js, js + len };
	if (!value(&r, 0))
		return 0;
	ws(&r);
	return r.p == r.end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *js = fuzz_copy(data, size);
	jsmntok_t *t = NULL;
	jsmn_parser p;
	int ok = 0;

	if (json_depth_ok(js, size)) {
		jsmn_init(&p);
		int n = jsmn_parse(&p, js, size, NULL, 0);
		if (n > 0) {
			t = malloc((size_t)n * sizeof *t);
			if (!t)
				abort();
			jsmn_init(&p);
			/* Counting (no tokens) skips some strict checks and does
			 * not see an unclosed container; the second pass does. */
			int m = jsmn_parse(&p, js, size, t, (unsigned)n);
			FUZZ_CHECK(m == n || m < 0, "jsmn counted %d tokens, then made %d", n, m);
			size_t bad = 0;
			const char *why = NULL;
			ok = m == n && json_validate(js, size, t, n, &bad, &why) == 0;
			if (!ok && m == n)
				FUZZ_CHECK(bad <= size && why, "refused at %zu of %zu", bad, size);
			for (int i = 0; ok && i < n; i++) {
				char out[64];
				if (t[i].type == JSMN_STRING) {
					int k = json_string(js, t, i, out, sizeof out);
					FUZZ_CHECK(k < (int)sizeof out && (k < 0 || out[k] == '\0'), "json_string gave %d", k);
				}
				FUZZ_CHECK(json_skip(t, i) > i && json_skip(t, i) <= n, "json_skip(%d) = %d", i,
					   json_skip(t, i));
			}
		}
	}
	size_t lead = 0;
	while (lead < size && strchr(" \t\r\n", js[lead]) && js[lead])
		lead++;
	if (lead < size && (js[lead] == '{' || js[lead] == '[')) {
		int want = reference(js, size);
		FUZZ_CHECK(ok == want, "json_validate %s what the grammar %s: %.*s", ok ? "accepts" : "refuses",
			   want ? "accepts" : "refuses", (int)(size < 200 ? size : 200), js);
	}
	free(t);
	free(js);
	return 0;
}
