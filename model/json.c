/*
 * json.c - jsmn's implementation is compiled here, once, and the helpers
 * that walk its tokens.
 */
#define SCOREPOINT_JSMN_IMPL
#include "model/json.h"

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
