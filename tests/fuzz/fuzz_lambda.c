/*
 * fuzz_lambda.c - score.fcgi's AWS Lambda events and answers
 * (handler/lambda.h): what an HTTP client can put in an event reaches
 * lambda_event(), and the handler's output reaches lambda_http_answer().
 *
 * The input is an event.  Properties: lambda_event() gives a request or
 * one line of error; a request's parameters are NAME=value with NAME of
 * [A-Z0-9_] and no control character but tab in a value, its body within
 * the event's decoded size.  The same bytes as CGI output: the answer, when
 * there is one, is one valid JSON object.  And as base64: decoding is
 * strict (what decodes re-encodes to the same text), and any bytes survive
 * encoding and decoding.
 */
#include "handler/lambda.h"
#include "tests/fuzz/fuzz.h"

static void check_request(const struct lambda_req *r, size_t len)
{
	for (size_t i = 0; r->params[i]; i++) {
		const char *p = r->params[i], *eq = strchr(p, '=');
		FUZZ_CHECK(eq && eq > p, "parameter without a name: %s", p);
		for (const char *c = p; c < eq; c++)
			FUZZ_CHECK((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_',
				   "parameter name %.*s", (int)(eq - p), p);
		for (const unsigned char *c = (const unsigned char *)eq + 1; *c; c++)
			FUZZ_CHECK(*c >= 0x20 || *c == '\t', "control character in %s", p);
	}
	FUZZ_CHECK(r->kind == LAMBDA_DIRECT ? r->body_len == len : r->body_len <= len, "body of %zu bytes",
		   r->body_len);
}

static void check_answer(const char *out, size_t n, enum lambda_kind kind, int multi)
{
	struct enc_buf b;
	jsmntok_t *t;
	jsmn_parser p;
	size_t bad;
	const char *why;

	enc_init(&b, 0);
	if (lambda_http_answer(&b, out, n, kind, multi) == 0) {
		size_t cap = b.len + 1;
		t = malloc(cap * sizeof *t);
		if (!t)
			abort();
		jsmn_init(&p);
		int k = jsmn_parse(&p, b.p, b.len, t, (unsigned)cap);
		FUZZ_CHECK(k > 0 && t[0].type == JSMN_OBJECT && (size_t)t[0].end == b.len, "answer %.*s",
			   (int)(b.len < 200 ? b.len : 200), b.p);
		FUZZ_CHECK(json_validate(b.p, b.len, t, k, &bad, &why) == 0, "answer invalid at %zu: %s", bad, why);
		free(t);
	}
	enc_free(&b);
}

static void check_base64(const char *s, size_t n)
{
	unsigned char *out = malloc(n + 1);
	struct enc_buf b;

	if (!out)
		abort();
	enc_init(&b, 0);
	long k = lambda_b64_decode(s, n, out);
	if (k >= 0) {
		lambda_b64_encode(&b, out, (size_t)k);
		FUZZ_CHECK(b.len == n && memcmp(b.p, s, n) == 0, "%zu bytes decode but do not re-encode", n);
	}
	enc_reset(&b);
	lambda_b64_encode(&b, s, n);
	unsigned char *back = malloc(b.len + 1);
	if (!back)
		abort();
	FUZZ_CHECK(lambda_b64_decode(b.p, b.len, back) == (long)n && memcmp(back, s, n) == 0,
		   "%zu bytes do not survive base64", n);
	free(back);
	free(out);
	enc_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *js = (const char *)data;
	struct lambda_req r;
	char err[256];
	char *text = malloc(size + 1);

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';   /* lambda_http_answer's contract: a NUL after the output */
	lambda_req_init(&r);
	if (lambda_event(&r, js, size, "/score", err, sizeof err) == 0)
		check_request(&r, size);
	else
		FUZZ_CHECK(err[0] && !strchr(err, '\n'), "error '%s'", err);
	lambda_req_free(&r);
	for (int kind = LAMBDA_HTTP_V2; kind <= LAMBDA_ALB; kind++)
		check_answer(text, size, (enum lambda_kind)kind, kind == LAMBDA_ALB && size % 2);
	check_base64(js, size);
	free(text);
	return 0;
}
