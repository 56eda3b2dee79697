/* test_lambda_event.c - handler/lambda_event.c: events of each kind read
 * into CGI parameters, the handler's CGI output as Lambda's answers, and
 * strict base64 both ways. */
#include "tests/unit/unit.h"
#include "handler/lambda.h"

static struct lambda_req r;
static char err[256];

/* The value of parameter NAME of r, or NULL. */
static const char *p(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *q = r.params; *q; q++)
		if (strncmp(*q, name, n) == 0 && (*q)[n] == '=')
			return *q + n + 1;
	return NULL;
}

static int ev(const char *js)
{
	err[0] = '\0';
	return lambda_event(&r, js, strlen(js), "/score", err, sizeof err);
}

static void test_b64_round_trip(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	struct enc_buf b;
	unsigned char out[16];

	enc_init(&b, 0);
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		enc_reset(&b);
		lambda_b64_encode(&b, plain[i], strlen(plain[i]));
		CHECKF(b.len == strlen(coded[i]) && memcmp(b.p, coded[i], b.len) == 0, "%s", plain[i]);
		long n = lambda_b64_decode(coded[i], strlen(coded[i]), out);
		CHECKF(n == (long)strlen(plain[i]) && memcmp(out, plain[i], (size_t)n) == 0, "%s", coded[i]);
	}
	/* Every byte value, across the 256-byte flushes of the encoder. */
	unsigned char all[1000], back[1000];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (unsigned char)(i * 7);
	enc_reset(&b);
	lambda_b64_encode(&b, all, sizeof all);
	CHECK_INT(b.len, 1336);
	CHECK_INT(lambda_b64_decode(b.p, b.len, back), 1000);
	CHECK(memcmp(all, back, sizeof all) == 0);
	enc_free(&b);
}

static void test_b64_strict(void)
{
	static const char *const bad[] = { "Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zg==Zg==",
					   "Zm-v", "Zm_v", "=Zm9", "Zm=v" };
	unsigned char out[16];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECKF(lambda_b64_decode(bad[i], strlen(bad[i]), out) == -1, "'%s' was taken", bad[i]);
}

static void test_event_v2(void)
{
	const char *js = "{\"version\": \"2.0\", \"routeKey\": \"$default\", \"rawPath\": \"/prod/score\", "
			 "\"rawQueryString\": \"a=1\", \"cookies\": [\"c1=x\", \"c2=y\"], \"headers\": "
			 "{\"content-type\": \"application/json\", \"authorization\": \"Bearer k\", \"x-request-id\": "
			 "\"abc\", \"content-length\": \"999\", \"x_request_id\": \"spoof\", "
			 "\"azureml-model-deployment\": \"blue\"}, \"requestContext\": {\"http\": {\"method\": \"POST\"}, "
			 "\"stage\": \"prod\"}, \"body\": \"eyJhIjogMX0=\", \"isBase64Encoded\": true}";
	CHECK_INT(ev(js), 0);
	CHECK_INT(r.kind, LAMBDA_HTTP_V2);
	CHECK_STR(p("REQUEST_METHOD"), "POST");
	CHECK_STR(p("REQUEST_URI"), "/score?a=1");
	CHECK_STR(p("SCRIPT_NAME"), "/score");
	CHECK_STR(p("QUERY_STRING"), "a=1");
	CHECK_STR(p("CONTENT_TYPE"), "application/json");
	CHECK_STR(p("CONTENT_LENGTH"), "8");   /* the body's own count, not the header's */
	CHECK_STR(p("HTTP_AUTHORIZATION"), "Bearer k");
	CHECK_STR(p("HTTP_X_REQUEST_ID"), "abc");
	CHECK_STR(p("HTTP_AZUREML_MODEL_DEPLOYMENT"), "blue");
	CHECK_STR(p("HTTP_COOKIE"), "c1=x; c2=y");
	CHECK(p("HTTP_CONTENT_LENGTH") == NULL);
	CHECK_INT(r.body_len, 8);
	CHECK(memcmp(r.body, "{\"a\": 1}", 8) == 0);
	CHECK_STR(r.path, "/score");
}

static void test_event_v1_and_alb(void)
{
	const char *v1 = "{\"resource\": \"/{proxy+}\", \"path\": \"/m/score\", \"httpMethod\": \"POST\", "
			 "\"headers\": {\"Content-Type\": \"text/csv\"}, \"multiValueHeaders\": {\"Content-Type\": "
			 "[\"text/csv\"], \"X-Many\": [\"a\", \"b\"]}, \"queryStringParameters\": {\"q\": \"a b&c\"}, "
			 "\"requestContext\": {\"stage\": \"prod\"}, \"body\": \"x,y\\n1,2\\n\", \"isBase64Encoded\": false}";
	CHECK_INT(ev(v1), 0);
	CHECK_INT(r.kind, LAMBDA_HTTP_V1);
	CHECK_STR(p("REQUEST_URI"), "/m/score?q=a%20b%26c");
	CHECK_STR(p("CONTENT_TYPE"), "text/csv");
	CHECK_STR(p("HTTP_X_MANY"), "a, b");
	CHECK_STR(r.body, "x,y\n1,2\n");

	const char *alb = "{\"requestContext\": {\"elb\": {\"targetGroupArn\": \"arn:x\"}}, \"httpMethod\": \"GET\", "
			  "\"path\": \"/health\", \"multiValueQueryStringParameters\": {\"q\": [\"a%20b\"]}, "
			  "\"multiValueHeaders\": {\"accept\": [\"*/*\"]}, \"body\": \"\", \"isBase64Encoded\": false}";
	CHECK_INT(ev(alb), 0);
	CHECK_INT(r.kind, LAMBDA_ALB);
	CHECK_INT(r.multi, 1);
	CHECK_STR(p("REQUEST_METHOD"), "GET");
	CHECK_STR(p("REQUEST_URI"), "/health?q=a%20b");   /* ALB's values come encoded */
	CHECK_STR(p("HTTP_ACCEPT"), "*/*");
	CHECK(p("CONTENT_LENGTH") == NULL);   /* a GET without a body */
}

static void test_event_direct(void)
{
	const char *js = "{\"input_data\": {\"data\": [[1, 2]]}}";
	CHECK_INT(ev(js), 0);
	CHECK_INT(r.kind, LAMBDA_DIRECT);
	CHECK_STR(p("REQUEST_METHOD"), "POST");
	CHECK_STR(p("REQUEST_URI"), "/score");
	CHECK_STR(p("CONTENT_TYPE"), "application/json");
	char cl[16];
	snprintf(cl, sizeof cl, "%zu", strlen(js));
	CHECK_STR(p("CONTENT_LENGTH"), cl);
	CHECK(r.body == js);
	/* A requestContext alone does not make an HTTP event; nor does bad JSON. */
	CHECK_INT(ev("{\"requestContext\": {}, \"input_data\": 1}"), 0);
	CHECK_INT(r.kind, LAMBDA_DIRECT);
	CHECK_INT(ev("{\"requestContext\": [1,"), 0);
	CHECK_INT(r.kind, LAMBDA_DIRECT);
}

static void test_event_refusals(void)
{
	const char *head = "{\"version\": \"2.0\", \"rawPath\": \"/score\", \"requestContext\": {\"http\": {\"method\": "
			   "\"POST\"}}, ";
	char js[8192];
	snprintf(js, sizeof js, "%s\"body\": \"Zm9v!\", \"isBase64Encoded\": true}", head);
	CHECK_INT(ev(js), -1);
	CHECK_INT(r.kind, LAMBDA_HTTP_V2);
	CHECK_CONTAINS(err, "not base64");
	snprintf(js, sizeof js, "%s\"headers\": {\"x-a\": \"1\\r\\nx-b: 2\"}}", head);
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "HTTP_X_A holds a control character");
	snprintf(js, sizeof js, "{\"path\": \"/score\", \"httpMethod\": \"POST\", \"requestContext\": {}, \"headers\": "
		 "{\"Authorization\": \"Bearer a\", \"authorization\": \"Bearer b\"}}");
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "HTTP_AUTHORIZATION is given twice");
	snprintf(js, sizeof js, "%s\"body\": \"a\\u0000b\"}", head);
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "NUL");
	snprintf(js, sizeof js, "{\"version\": \"2.0\", \"rawPath\": \"score\", \"requestContext\": {\"http\": "
		 "{\"method\": \"GET\"}}}");
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "not a path");
	/* A control character in the request line (found by fuzz_lambda). */
	snprintf(js, sizeof js, "{\"path\": \"/health\\u0001x\", \"httpMethod\": \"GET\", \"requestContext\": {}}");
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "not a path");
	snprintf(js, sizeof js, "{\"version\": \"2.0\", \"rawPath\": \"/score\", \"rawQueryString\": \"a=\\u001b\", "
		 "\"requestContext\": {\"http\": {\"method\": \"GET\"}}}");
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "query holds a control character");
	snprintf(js, sizeof js, "{\"path\": \"/score\", \"httpMethod\": \"GE\\nT\", \"requestContext\": {}}");
	CHECK_INT(ev(js), -1);
	CHECK_CONTAINS(err, "method holds a control character");
	/* LAMBDA_MAX_HEADERS headers are taken, one more is not. */
	for (int extra = 0; extra < 2; extra++) {
		size_t n = (size_t)snprintf(js, sizeof js, "%s\"headers\": {", head);
		for (int i = 0; i < LAMBDA_MAX_HEADERS + extra; i++)
			n += (size_t)snprintf(js + n, sizeof js - n, "%s\"x-h%d\": \"v\"", i ? ", " : "", i);
		snprintf(js + n, sizeof js - n, "}}");
		CHECKF(ev(js) == (extra ? -1 : 0), "%d extra: %s", extra, err);
	}
	CHECK_CONTAINS(err, "more than 100 headers");
}

static void test_answer_text_and_binary(void)
{
	struct enc_buf b;
	const char *out = "Status: 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 12\r\n"
			  "WWW-Authenticate: Bearer\r\n\r\n{\"a\": \"\xc3\xa9\"}";
	enc_init(&b, 0);
	CHECK_INT(lambda_http_answer(&b, out, strlen(out), LAMBDA_HTTP_V2, 0), 0);
	enc_raw(&b, "", 1);
	CHECK_STR(b.p, "{\"statusCode\": 401, \"headers\": {\"Content-Type\": \"application/json\", \"Content-Length\": "
		       "\"12\", \"WWW-Authenticate\": \"Bearer\"}, \"body\": \"{\\\"a\\\": \\\"\\u00e9\\\"}\", "
		       "\"isBase64Encoded\": false}");
	/* Not UTF-8 (a lone 0xFF), and a NUL: base64 both. */
	static const char bin[] = "Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n\xff\x00z";
	enc_reset(&b);
	CHECK_INT(lambda_http_answer(&b, bin, sizeof bin - 1, LAMBDA_ALB, 1), 0);
	enc_raw(&b, "", 1);
	CHECK_STR(b.p, "{\"statusCode\": 200, \"statusDescription\": \"200 OK\", \"multiValueHeaders\": {\"Content-Type\": "
		       "[\"application/octet-stream\"]}, \"body\": \"/wB6\", \"isBase64Encoded\": true}");
	/* A name twice: one key, its values joined (or in one array for ALB's
	 * multi-value headers); a line that is no header, or whose name is no
	 * token, left out (found by fuzz_lambda). */
	static const char twice[] = "Status: 200 OK\r\nnot a header\r\nX-A: 1\r\nx-a: 2\r\nX\x01B: 3\r\n\r\n[]";
	enc_reset(&b);
	CHECK_INT(lambda_http_answer(&b, twice, sizeof twice - 1, LAMBDA_HTTP_V2, 0), 0);
	enc_raw(&b, "", 1);
	CHECK_STR(b.p, "{\"statusCode\": 200, \"headers\": {\"X-A\": \"1, 2\"}, \"body\": \"[]\", \"isBase64Encoded\": false}");
	enc_reset(&b);
	CHECK_INT(lambda_http_answer(&b, twice, sizeof twice - 1, LAMBDA_ALB, 1), 0);
	enc_raw(&b, "", 1);
	CHECK_STR(b.p, "{\"statusCode\": 200, \"statusDescription\": \"200 OK\", \"multiValueHeaders\": {\"X-A\": "
		       "[\"1\", \"2\"]}, \"body\": \"[]\", \"isBase64Encoded\": false}");
	enc_reset(&b);
	CHECK_INT(lambda_http_answer(&b, "no status\r\n\r\n", 13, LAMBDA_HTTP_V1, 0), -1);
	int status;
	const char *body;
	size_t n;
	CHECK_INT(lambda_cgi_split(out, strlen(out), &status, &body, &n), 0);
	CHECK_INT(status, 401);
	CHECK_INT(n, 11);
	enc_free(&b);
}

int main(void)
{
	lambda_req_init(&r);
	RUN(test_b64_round_trip);
	RUN(test_b64_strict);
	RUN(test_event_v2);
	RUN(test_event_v1_and_alb);
	RUN(test_event_direct);
	RUN(test_event_refusals);
	RUN(test_answer_text_and_binary);
	lambda_req_free(&r);
	return unit_done();
}
