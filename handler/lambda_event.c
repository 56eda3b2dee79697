/*
 * lambda_event.c - Lambda events as CGI requests (lambda_answer.c turns
 * the handler's CGI output into Lambda's answers).
 *
 * The formats (docs/lambda.md cites each): API Gateway HTTP API payload
 * 2.0, which function URLs use too (requestContext.http.method, rawPath,
 * rawQueryString, lower-case headers joined by commas, cookies); API
 * Gateway REST and HTTP API payload 1.0 (httpMethod, path, headers and
 * multiValueHeaders, decoded query parameters); an ALB target group's
 * (1.0's fields, requestContext.elb, query values as the client sent them,
 * multiValueHeaders when the target group turns them on).
 */
#define _GNU_SOURCE   /* memmem */
#include "handler/lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/err.h"

/* ---- the request's parameters ---- */

void lambda_req_init(struct lambda_req *r)
{
	memset(r, 0, sizeof *r);
	enc_init(&r->text, 0);
}

void lambda_req_free(struct lambda_req *r)
{
	enc_free(&r->text);
	free(r->buf);
	free(r->tok);
	memset(r, 0, sizeof *r);
}

/* Begin parameter NAME=; -1 past LAMBDA_MAX_PARAMS. */
static int param_begin(struct lambda_req *r, const char *name, size_t n)
{
	if (r->nparams == LAMBDA_MAX_PARAMS)
		return -1;
	r->off[r->nparams++] = r->text.len;
	enc_raw(&r->text, name, n);
	enc_raw(&r->text, "=", 1);
	return 0;
}

static void param_end(struct lambda_req *r)
{
	enc_raw(&r->text, "", 1);
}

static int param(struct lambda_req *r, const char *name, const char *value, size_t n)
{
	if (param_begin(r, name, strlen(name)) < 0)
		return -1;
	enc_raw(&r->text, value, n);
	param_end(r);
	return 0;
}

/* String token t[i], decoded, appended to the parameter being written;
 * its length, or -1 (not a string, a bad escape, a NUL). */
static long param_tok(struct lambda_req *r, const char *js, const jsmntok_t *t, int i)
{
	size_t at = r->text.len, room = (size_t)(t[i].end - t[i].start) + 1;

	if (t[i].type != JSMN_STRING)
		return -1;
	enc_raw(&r->text, js + t[i].start, room - 1);   /* makes the room: decoding never grows */
	enc_raw(&r->text, "", 1);
	if (enc_status(&r->text) != ENC_OK)
		return -1;
	int n = json_string(js, t, i, r->text.p + at, room);
	if (n < 0)
		return -1;
	r->text.len = at + (size_t)n;
	return n;
}

/* The params as pointers, now that the text no longer moves. */
static void params_fix(struct lambda_req *r)
{
	for (size_t k = 0; k < r->nparams; k++)
		r->params[k] = r->text.p + r->off[k];
	r->params[r->nparams] = NULL;
}

/* Where parameter `name` (NAME=...) already is, or -1. */
static int param_find(const struct lambda_req *r, const char *name, size_t n)
{
	for (size_t k = 0; k < r->nparams; k++)
		if (strncmp(r->text.p + r->off[k], name, n) == 0 && r->text.p[r->off[k] + n] == '=')
			return (int)k;
	return -1;
}

/* ---- headers ---- */

/* A header's CGI name into out ("HTTP_X_REQUEST_ID", "CONTENT_TYPE"); 0,
 * or -1 to leave it out: Content-Length (the body's own count is used),
 * and names of other than letters, digits and '-' (so "x_request_id"
 * cannot pose as X-Request-Id, as nginx and lighttpd drop it too). */
static int cgi_name(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name), o = 0;

	if (!n || n + 6 > cap || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != n ||
	    strcasecmp(name, "content-length") == 0)
		return -1;
	if (strcasecmp(name, "content-type") != 0) {
		memcpy(out, "HTTP_", 5);
		o = 5;
	}
	for (size_t i = 0; i < n; i++)
		out[o++] = name[i] == '-' ? '_' : (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	out[o] = '\0';
	return 0;
}

/* One header: key token k, value token k + 1 (a string, or with many an
 * array of strings joined by ", ", as a web server joins repeated lines). */
static int header(struct lambda_req *r, const char *js, const jsmntok_t *t, int k, char *err, size_t errlen)
{
	char name[256], cgi[256 + 8];
	int v = k + 1;

	if (json_string(js, t, k, name, sizeof name) < 0 || cgi_name(name, cgi, sizeof cgi) < 0)
		return 0;
	if (param_find(r, cgi, strlen(cgi)) >= 0)
		return err_set(err, errlen, "the header %s is given twice", cgi);
	if (++r->headers > LAMBDA_MAX_HEADERS || param_begin(r, cgi, strlen(cgi)) < 0)
		return err_set(err, errlen, "more than %d headers", LAMBDA_MAX_HEADERS);
	size_t at = r->text.len;
	int items = t[v].type == JSMN_ARRAY ? t[v].size : 1;
	for (int j = 0, e = t[v].type == JSMN_ARRAY ? v + 1 : v; j < items; j++, e = json_skip(t, e)) {
		if (j)
			enc_raw(&r->text, ", ", 2);
		if (param_tok(r, js, t, e) < 0)
			return err_set(err, errlen, "the header %s is not a string", cgi);
	}
	for (size_t i = at; i < r->text.len; i++)
		if ((unsigned char)r->text.p[i] < 0x20 && r->text.p[i] != '\t')
			return err_set(err, errlen, "the header %s holds a control character", cgi);
	param_end(r);
	return 0;
}

static int headers(struct lambda_req *r, const char *js, const jsmntok_t *t, int obj, char *err, size_t errlen)
{
	if (obj < 0 || t[obj].type != JSMN_OBJECT)
		return 0;   /* absent or null: none */
	for (int n = 0, k = obj + 1; n < t[obj].size; n++, k = json_skip(t, k))
		if (header(r, js, t, k, err, errlen) < 0)
			return -1;
	return 0;
}

/* Payload 2.0's cookies, as one Cookie header (unless one came). */
static int cookies(struct lambda_req *r, const char *js, const jsmntok_t *t, int arr, char *err, size_t errlen)
{
	if (arr < 0 || t[arr].type != JSMN_ARRAY || !t[arr].size || param_find(r, "HTTP_COOKIE", 11) >= 0)
		return 0;
	if (param_begin(r, "HTTP_COOKIE", 11) < 0)
		return err_set(err, errlen, "more than %d headers", LAMBDA_MAX_HEADERS);
	for (int j = 0, e = arr + 1; j < t[arr].size; j++, e = json_skip(t, e)) {
		if (j)
			enc_raw(&r->text, "; ", 2);
		if (param_tok(r, js, t, e) < 0)
			return err_set(err, errlen, "a cookie is not a string");
	}
	param_end(r);
	return 0;
}

/* ---- method, path, query ---- */

/* s[0, n) percent-encoded but for RFC 3986's unreserved characters. */
static void percent(struct enc_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
			enc_raw(b, s + i, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			enc_raw(b, e, 3);
		}
	}
}

/* A string token, decoded, appended to b, percent-encoded when enc. */
static int append_tok(struct lambda_req *r, struct enc_buf *b, const char *js, const jsmntok_t *t, int i, int enc)
{
	size_t at = r->text.len;
	long n = param_tok(r, js, t, i);
	if (n < 0)
		return -1;
	if (enc)
		percent(b, r->text.p + at, (size_t)n);
	else
		enc_raw(b, r->text.p + at, (size_t)n);
	r->text.len = at;
	return 0;
}

/* Payload 1.0's and ALB's query parameters as a query string: 1.0's are
 * decoded, so encoded again; ALB's come as the client sent them.  The
 * multi-value form wins when it is there. */
static int query(struct lambda_req *r, struct enc_buf *q, const char *js, const jsmntok_t *t, int enc)
{
	int obj = json_get(js, t, 0, "multiValueQueryStringParameters");
	if (obj < 0 || t[obj].type != JSMN_OBJECT)
		obj = json_get(js, t, 0, "queryStringParameters");
	if (obj < 0 || t[obj].type != JSMN_OBJECT)
		return 0;
	for (int n = 0, k = obj + 1; n < t[obj].size; n++, k = json_skip(t, k)) {
		int v = k + 1, items = t[v].type == JSMN_ARRAY ? t[v].size : 1;
		for (int j = 0, e = t[v].type == JSMN_ARRAY ? v + 1 : v; j < items; j++, e = json_skip(t, e)) {
			if (q->len)
				enc_raw(q, "&", 1);
			if (append_tok(r, q, js, t, k, enc) < 0)
				return -1;
			enc_raw(q, "=", 1);
			if (append_tok(r, q, js, t, e, enc) < 0)
				return -1;
		}
	}
	return 0;
}

/* The path, query and method params, from the decoded path p[0, n) and
 * query q[0, qn). */
static int target(struct lambda_req *r, const char *p, size_t n, const char *q, size_t qn)
{
	if (param_begin(r, "REQUEST_URI", 11) < 0)
		return -1;
	enc_raw(&r->text, p, n);
	if (qn) {
		enc_raw(&r->text, "?", 1);
		enc_raw(&r->text, q, qn);
	}
	param_end(r);
	return param(r, "SCRIPT_NAME", p, n) < 0 || param(r, "PATH_INFO", "", 0) < 0 ||
	       param(r, "QUERY_STRING", q, qn) < 0 ? -1 : 0;
}

/* Payload 2.0's rawPath without the stage's name that leads it when the
 * stage is not $default (rawPath has it, the routes do not). */
static void strip_stage(const char *js, const jsmntok_t *t, int rc, const char **p, size_t *n)
{
	char stage[128];
	int s = json_get(js, t, rc, "stage");
	int sn = s >= 0 ? json_string(js, t, s, stage, sizeof stage) : -1;

	if (sn <= 0 || strcmp(stage, "$default") == 0)
		return;
	if (*n > (size_t)sn && (*p)[0] == '/' && memcmp(*p + 1, stage, (size_t)sn) == 0 &&
	    (*n == (size_t)sn + 1 || (*p)[sn + 1] == '/')) {
		*p += sn + 1;
		*n -= (size_t)sn + 1;
		if (!*n)
			*p = "/";
		*n += !*n;
	}
}

/* The token of a string at key `key` of object obj, or -1. */
static int str_at(const char *js, const jsmntok_t *t, int obj, const char *key)
{
	int i = obj >= 0 ? json_get(js, t, obj, key) : -1;
	return i >= 0 && t[i].type == JSMN_STRING ? i : -1;
}

/* 1 when s[0, n) holds a control character (a request line has none:
 * web servers refuse them, and score.fcgi's routes and log never see one). */
static int has_ctl(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 1;
	return 0;
}

/* Method, path and query of an HTTP event of r->kind (rc: its
 * requestContext).  The decoded strings go into r->text, copied out of it
 * into params; the scratch is given back. */
static int request_line(struct lambda_req *r, const char *js, const jsmntok_t *t, int rc, char *err, size_t errlen)
{
	int v2 = r->kind == LAMBDA_HTTP_V2;
	int m = v2 ? str_at(js, t, json_get(js, t, rc, "http"), "method") : str_at(js, t, 0, "httpMethod");
	int p = str_at(js, t, 0, v2 ? "rawPath" : "path");
	struct enc_buf q;
	int rc2 = -1;

	if (m < 0 || p < 0)
		return err_set(err, errlen, "the event has no %s", m < 0 ? "method" : "path");
	size_t at = r->text.len;
	if (param_begin(r, "REQUEST_METHOD", 14) < 0 || param_tok(r, js, t, m) < 0)
		return err_set(err, errlen, "the event's method is not a string");
	if (has_ctl(r->text.p + at, r->text.len - at))
		return err_set(err, errlen, "the event's method holds a control character");
	param_end(r);
	enc_init(&q, 0);
	at = r->text.len;
	long pn = param_tok(r, js, t, p);
	if (pn < 0 || pn == 0 || r->text.p[at] != '/' || has_ctl(r->text.p + at, (size_t)pn)) {
		err_set(err, errlen, "the event's path is not a path");
		goto out;
	}
	int raw = str_at(js, t, 0, "rawQueryString");
	if (v2 && raw >= 0 && append_tok(r, &q, js, t, raw, 0) < 0) {
		err_set(err, errlen, "the event's rawQueryString is not a string");
		goto out;
	}
	if (!v2 && query(r, &q, js, t, r->kind == LAMBDA_HTTP_V1) < 0) {
		err_set(err, errlen, "the event's query parameters are not strings");
		goto out;
	}
	if (has_ctl(q.p ? q.p : "", q.len)) {
		err_set(err, errlen, "the event's query holds a control character");
		goto out;
	}
	/* The path moves out of the scratch: copy it, then give the room back. */
	size_t n = (size_t)pn;
	char *path = malloc(n + 1);
	if (!path) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	memcpy(path, r->text.p + at, n);
	path[n] = '\0';
	r->text.len = at;
	const char *pp = path;
	if (v2)
		strip_stage(js, t, rc, &pp, &n);
	rc2 = target(r, pp, n, q.p ? q.p : "", q.len);
	free(path);
	if (rc2 < 0)
		err_set(err, errlen, "more than %d headers", LAMBDA_MAX_HEADERS);
out:
	enc_free(&q);
	return rc2;
}

/* ---- the body ---- */

/* The event's body into r->buf, base64-decoded when isBase64Encoded;
 * null or absent: none. */
static int body(struct lambda_req *r, const char *js, const jsmntok_t *t, char *err, size_t errlen)
{
	int b = json_get(js, t, 0, "body"), b64 = json_get(js, t, 0, "isBase64Encoded");

	r->body = "";
	r->body_len = 0;
	if (b < 0 || (t[b].type == JSMN_PRIMITIVE && js[t[b].start] == 'n'))
		return 0;
	if (t[b].type != JSMN_STRING)
		return err_set(err, errlen, "the event's body is not a string");
	size_t room = (size_t)(t[b].end - t[b].start) + 1;
	if (room > r->buf_cap) {
		char *p = realloc(r->buf, room);
		if (!p)
			return err_set(err, errlen, "out of memory for a %zu-byte body", room);
		r->buf = p;
		r->buf_cap = room;
	}
	int n = json_string(js, t, b, r->buf, room);
	if (n < 0)
		return err_set(err, errlen, "the event's body is not a valid JSON string (a NUL in it must come base64)");
	long len = n;
	if (b64 >= 0 && t[b64].type == JSMN_PRIMITIVE && js[t[b64].start] == 't' &&
	    (len = lambda_b64_decode(r->buf, (size_t)n, (unsigned char *)r->buf)) < 0)
		return err_set(err, errlen, "isBase64Encoded is true but the body is not base64");
	r->buf[len] = '\0';
	r->body = r->buf;
	r->body_len = (size_t)len;
	return 0;
}

/* ---- the event ---- */

/* jsmn's tokens of js, checked (json_validate); their count, or -1. */
static int tokenize(struct lambda_req *r, const char *js, size_t len)
{
	jsmn_parser p;
	size_t bad;
	const char *why;

	if (!json_depth_ok(js, len))
		return -1;
	jsmn_init(&p);
	int n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0)
		return -1;
	if ((size_t)n > r->tok_cap) {
		jsmntok_t *tk = realloc(r->tok, (size_t)n * sizeof *tk);
		if (!tk)
			return -1;
		r->tok = tk;
		r->tok_cap = (size_t)n;
	}
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, r->tok, (unsigned)n);
	if (n <= 0 || json_validate(js, len, r->tok, n, &bad, &why) < 0)
		return -1;
	return n;
}

/* Which HTTP event t is (requestContext rc), or LAMBDA_DIRECT. */
static enum lambda_kind kind_of(const char *js, const jsmntok_t *t, int rc)
{
	int http = json_get(js, t, rc, "http"), ver = json_get(js, t, 0, "version");

	if (ver >= 0 && json_eq(js, t, ver, "2.0") && http >= 0 && t[http].type == JSMN_OBJECT &&
	    str_at(js, t, 0, "rawPath") >= 0)
		return LAMBDA_HTTP_V2;
	if (str_at(js, t, 0, "httpMethod") < 0 || str_at(js, t, 0, "path") < 0)
		return LAMBDA_DIRECT;
	int elb = json_get(js, t, rc, "elb");
	return elb >= 0 && t[elb].type == JSMN_OBJECT ? LAMBDA_ALB : LAMBDA_HTTP_V1;
}

static int direct(struct lambda_req *r, const char *js, size_t len, const char *path)
{
	char cl[32];
	int n = snprintf(cl, sizeof cl, "%zu", len);

	r->kind = LAMBDA_DIRECT;
	r->body = js;
	r->body_len = len;
	if (param(r, "REQUEST_METHOD", "POST", 4) < 0 || target(r, path, strlen(path), "", 0) < 0 ||
	    param(r, "CONTENT_TYPE", "application/json", 16) < 0 || param(r, "CONTENT_LENGTH", cl, (size_t)n) < 0)
		return -1;
	params_fix(r);
	r->path = path;
	return 0;
}

/* The HTTP event's own parts, once its kind is known. */
static int http_event(struct lambda_req *r, const char *js, const jsmntok_t *t, int rc, char *err, size_t errlen)
{
	int mv = json_get(js, t, 0, "multiValueHeaders");
	int multi = r->kind != LAMBDA_HTTP_V2 && mv >= 0 && t[mv].type == JSMN_OBJECT;
	char cl[32];

	r->multi = r->kind == LAMBDA_ALB && multi;
	if (request_line(r, js, t, rc, err, errlen) < 0 ||
	    headers(r, js, t, multi ? mv : json_get(js, t, 0, "headers"), err, errlen) < 0 ||
	    (r->kind == LAMBDA_HTTP_V2 && cookies(r, js, t, json_get(js, t, 0, "cookies"), err, errlen) < 0) ||
	    body(r, js, t, err, errlen) < 0)
		return -1;
	const char *m = r->text.p + r->off[0] + 15;   /* REQUEST_METHOD= is the first */
	if (r->body_len || (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0)) {
		int n = snprintf(cl, sizeof cl, "%zu", r->body_len);
		if (param(r, "CONTENT_LENGTH", cl, (size_t)n) < 0)
			return err_set(err, errlen, "more than %d headers", LAMBDA_MAX_HEADERS);
	}
	return 0;
}

int lambda_event(struct lambda_req *r, const char *js, size_t len, const char *direct_path, char *err,
		 size_t errlen)
{
	r->kind = LAMBDA_DIRECT;
	r->multi = 0;
	r->nparams = 0;
	r->headers = 0;
	r->path = direct_path;
	enc_reset(&r->text);
	/* Every HTTP event has a requestContext; the scoring JSON is not
	 * tokenized twice (here and by the handler) to learn it is none. */
	if (!memmem(js, len, "\"requestContext\"", 16))
		return direct(r, js, len, direct_path);
	int n = tokenize(r, js, len);
	const jsmntok_t *t = r->tok;
	int rc = n > 0 && t[0].type == JSMN_OBJECT ? json_get(js, t, 0, "requestContext") : -1;
	if (rc < 0 || t[rc].type != JSMN_OBJECT || (r->kind = kind_of(js, t, rc)) == LAMBDA_DIRECT)
		return direct(r, js, len, direct_path);
	if (http_event(r, js, t, rc, err, errlen) < 0) {
		r->nparams = 0;
		enc_reset(&r->text);
		return -1;
	}
	if (enc_status(&r->text) != ENC_OK)
		return err_set(err, errlen, "out of memory for the event's headers");
	params_fix(r);
	r->path = r->params[param_find(r, "SCRIPT_NAME", 11)] + 12;
	return 0;
}
