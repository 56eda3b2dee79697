/*
 * lambda_answer.c - the handler's CGI output as Lambda's answers to HTTP
 * events ({"statusCode", "headers", "body", "isBase64Encoded"}, an ALB's
 * "statusDescription" and multi-value headers), and strict base64 for
 * bodies both ways (RFC 4648 section 4).
 */
#define _GNU_SOURCE   /* memmem */
#include "handler/lambda.h"

#include <string.h>
#include <strings.h>

/* ---- base64 ---- */

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void lambda_b64_encode(struct enc_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	char q[256];
	size_t k = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)s[i] << 16 | (i + 1 < n ? (unsigned long)s[i + 1] << 8 : 0) |
				  (i + 2 < n ? s[i + 2] : 0);
		q[k++] = b64_alphabet[v >> 18];
		q[k++] = b64_alphabet[v >> 12 & 63];
		q[k++] = i + 1 < n ? b64_alphabet[v >> 6 & 63] : '=';
		q[k++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
		if (k == sizeof q) {
			enc_raw(b, q, k);
			k = 0;
		}
	}
	enc_raw(b, q, k);
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Safe in place (out == s): each group is read whole before its at most
 * three bytes are written, behind it. */
long lambda_b64_decode(const char *s, size_t n, unsigned char *out)
{
	size_t o = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int pad = i + 4 == n ? (s[i + 3] == '=') + (s[i + 3] == '=' && s[i + 2] == '=') : 0;
		int v[4] = { 0, 0, 0, 0 };
		for (int k = 0; k < 4 - pad; k++)
			if ((v[k] = b64_value((unsigned char)s[i + k])) < 0)
				return -1;
		if ((pad == 2 && (v[1] & 15)) || (pad == 1 && (v[2] & 3)))
			return -1;   /* bits a pad leaves over must be zero: one text per byte string */
		unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 | (unsigned long)v[2] << 6 |
				  (unsigned long)v[3];
		out[o++] = (unsigned char)(w >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(w >> 8 & 255);
		if (pad < 1)
			out[o++] = (unsigned char)(w & 255);
	}
	return (long)o;
}

/* ---- the answer ---- */

int lambda_cgi_split(const char *out, size_t n, int *status, const char **body, size_t *body_len)
{
	const char *e = n ? memmem(out, n, "\r\n\r\n", 4) : NULL;

	if (!e || n < 12 || memcmp(out, "Status: ", 8) != 0 || strspn(out + 8, "0123456789") != 3)
		return -1;
	*status = (out[8] - '0') * 100 + (out[9] - '0') * 10 + (out[10] - '0');
	*body = e + 4;
	*body_len = (size_t)(out + n - *body);
	return 0;
}

/* s[0, n) as a JSON string (enc_string takes C strings; header lines are
 * short). */
static void string_n(struct enc_buf *b, const char *s, size_t n)
{
	char tmp[4096];
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	enc_string(b, tmp);
}

/* RFC 9110's token characters, a header name's. */
static const char tchar[] = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* One header line of CGI output, from l to its CRLF (at or before e): its
 * name [l, *colon) and value [*v, *end); 0 when it has no colon or its
 * name is not a token (the handler writes none such: skipped). */
static int header_line(const char *l, const char *e, const char **end, const char **colon, const char **v)
{
	*end = memmem(l, (size_t)(e + 2 - l), "\r\n", 2);
	*colon = memchr(l, ':', (size_t)(*end - l));
	if (!*colon || *colon == l)
		return 0;
	for (const char *c = l; c < *colon; c++)
		if (!*c || !strchr(tchar, *c))
			return 0;
	*v = *colon + 1 + ((*colon)[1] == ' ');
	return 1;
}

/*
 * The header lines between the status line and the blank one (head .. e),
 * one key per name (compared without case, as HTTP does): a name given
 * twice has its values in one array (multi) or joined with ", " (RFC 9110,
 * 5.3), so that the object has no key twice.  The handler sends no name
 * twice; this is for what it might one day.
 */
static void answer_headers(struct enc_buf *b, const char *head, const char *e, int multi)
{
	const char *sep = "", *end, *colon, *v, *end2, *colon2, *v2;
	struct enc_buf joined;

	enc_init(&joined, 0);
	enc_cstr(b, multi ? ", \"multiValueHeaders\": {" : ", \"headers\": {");
	for (const char *l = head; l < e; l = end + 2) {
		if (!header_line(l, e, &end, &colon, &v))
			continue;
		size_t name = (size_t)(colon - l);
		int seen = 0;
		for (const char *k = head; k < l && !seen; k = end2 + 2)
			seen = header_line(k, e, &end2, &colon2, &v2) && (size_t)(colon2 - k) == name &&
			       strncasecmp(k, l, name) == 0;
		if (seen)
			continue;
		enc_cstr(b, sep);
		sep = ", ";
		string_n(b, l, name);
		enc_cstr(b, multi ? ": [" : ": ");
		enc_reset(&joined);
		for (const char *k = l, *vsep = ""; k < e; k = end2 + 2) {
			if (!header_line(k, e, &end2, &colon2, &v2) || (size_t)(colon2 - k) != name ||
			    strncasecmp(k, l, name) != 0)
				continue;
			if (multi) {
				enc_cstr(b, vsep);
				string_n(b, v2, (size_t)(end2 - v2));
			} else {
				enc_cstr(&joined, vsep);
				enc_raw(&joined, v2, (size_t)(end2 - v2));
			}
			vsep = ", ";
		}
		if (multi)
			enc_cstr(b, "]");
		else
			string_n(b, joined.p ? joined.p : "", joined.len);
	}
	enc_cstr(b, "}");
	enc_free(&joined);
}

int lambda_http_answer(struct enc_buf *b, const char *out, size_t n, enum lambda_kind kind, int multi)
{
	int status;
	const char *bd;
	size_t bn;

	if (lambda_cgi_split(out, n, &status, &bd, &bn) < 0)
		return -1;
	const char *line_end = memmem(out, n, "\r\n", 2);
	enc_cstr(b, "{\"statusCode\": ");
	enc_uint(b, (uint64_t)status);
	if (kind == LAMBDA_ALB) {
		enc_cstr(b, ", \"statusDescription\": ");
		string_n(b, out + 8, (size_t)(line_end - out - 8));
	}
	answer_headers(b, line_end + 2, bd - 4, multi && kind == LAMBDA_ALB);
	/* Text only when enc_string would keep every byte (out[n] is the NUL). */
	int text = !memchr(bd, '\0', bn) && enc_utf8_valid(bd);
	enc_cstr(b, ", \"body\": ");
	if (text) {
		enc_string(b, bd);
	} else {
		enc_raw(b, "\"", 1);
		lambda_b64_encode(b, bd, bn);
		enc_raw(b, "\"", 1);
	}
	enc_cstr(b, text ? ", \"isBase64Encoded\": false}" : ", \"isBase64Encoded\": true}");
	return 0;
}
