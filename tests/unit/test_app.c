/* test_app.c - handler/app.c in process, through the memory carrier: every
 * route, the body-reading rules and the response framing, under the
 * sanitizers in `make test SAN=1`. */
#include "tests/unit/unit.h"
#include "tests/unit/unit_app.h"

#include <stdlib.h>

static struct unit_tutorial tut;
static struct app app;


/* Run one request; returns the whole output (caller frees). */
static char *call(const char *const *params, const char *body, size_t len, int fastcgi)
{
	struct io io;
	struct io_mem m = { params, body, len, 0, NULL, 0, 0 };
	io_memory(&io, &m);
	io.fastcgi = fastcgi;
	app_handle(&app, &io);
	return m.out;
}

static const char *body_of(const char *out)
{
	const char *p = strstr(out, "\r\n\r\n");
	return p ? p + 4 : "";
}

/* 1 when a and b differ only in their numbers, each pair within tol: torch's
 * logits against ours, whose last bits depend on the BLAS kernels. */
static int same_but_numbers(const char *a, const char *b, double tol)
{
	while (*a && *b) {
		if ((*a == '-' || (*a >= '0' && *a <= '9')) && (*b == '-' || (*b >= '0' && *b <= '9'))) {
			char *ea, *eb;
			double x = strtod(a, &ea), y = strtod(b, &eb);
			if (ea == a || eb == b || fabs(x - y) > tol)
				return 0;
			a = ea;
			b = eb;
			continue;
		}
		if (*a++ != *b++)
			return 0;
	}
	return *a == *b;
}

static void test_score_tutorial_request(void)
{
	size_t n, wn;
	char *body = unit_slurp("fixtures/test_data/images_azureml.json", &n);
	char *want = unit_slurp("fixtures/expected/images_logits.json", &wn);
	char cl[32];
	snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", n);
	const char *params[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score?x=1", "CONTENT_TYPE=application/json",
				 cl, "HTTP_X_REQUEST_ID=t-1", NULL };
	char *out = call(params, body, n, 1);
	CHECK(out && strncmp(out, "Status: 200 OK\r\n", 16) == 0);
	CHECK(out && strstr(out, "\r\nx-request-id: t-1\r\n"));
	CHECK(out && strstr(out, "\r\nazureml-model-deployment: default\r\n"));
	while (wn && want[wn - 1] == '\n')
		want[--wn] = '\0';
	CHECKF(out && same_but_numbers(body_of(out), want, 1e-4), "%.200s", out ? body_of(out) : "");
	/* FastCGI without CONTENT_LENGTH reads to the end of the stream. */
	const char *no_cl[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score", "CONTENT_TYPE=application/json", NULL };
	char *again = call(no_cl, body, n, 1);
	CHECK(out && again && strcmp(body_of(again), body_of(out)) == 0);
	free(again);
	free(out);
	/* CGI without CONTENT_LENGTH has no body. */
	out = call(no_cl, body, n, 0);
	CHECK(out && strncmp(out, "Status: 400", 11) == 0);
	free(out);
	free(body);
	free(want);
}

static void check_status(const char *const *params, const char *body, int status, const char *frag)
{
	char *out = call(params, body, body ? strlen(body) : 0, 1);
	char want[32];
	snprintf(want, sizeof want, "Status: %d ", status);
	CHECKF(out && strncmp(out, want, strlen(want)) == 0, "want %d: %.200s", status, out ? out : "");
	CHECKF(out && strstr(out, frag), "lacks %s: %.300s", frag, out ? out : "");
	free(out);
}

static void test_routes(void)
{
	const char *root[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", NULL };
	check_status(root, NULL, 200, "\r\n\r\nHealthy");
	const char *health[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/health", NULL };
	check_status(health, NULL, 200, "Healthy");
	const char *version[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/version", NULL };
	check_status(version, NULL, 200, "\"model\": \"tut\", \"model_version\": \"3\"");
	const char *v2meta[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v2/models/tut/versions/3", NULL };
	check_status(v2meta, NULL, 200, "\"shape\": [-1, 784]");
	const char *v2bad[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v2/models/tut/versions/4", NULL };
	check_status(v2bad, NULL, 404, "\"error\": \"version '4' of model 'tut' not found\"");
	const char *nope[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/nope", NULL };
	check_status(nope, NULL, 404, "\"error_code\": \"ENDPOINT_NOT_FOUND\"");
	const char *wrong[] = { "REQUEST_METHOD=DELETE", "REQUEST_URI=/invocations", NULL };
	check_status(wrong, NULL, 405, "Allow: POST\r\n");
	const char *weird[] = { "REQUEST_METHOD=GE\"T", "REQUEST_URI=/", NULL };
	check_status(weird, NULL, 400, "malformed request method");
	const char *metrics[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/metrics", NULL };
	check_status(metrics, NULL, 200, "scorepoint_requests_total{route=\"root\",status=\"200\"");
}

static void test_body_rules(void)
{
	const char *too_big[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score", "CONTENT_TYPE=application/json",
				  "CONTENT_LENGTH=999999999", NULL };
	check_status(too_big, "{}", 413, "the limit is 1048576");
	const char *bad_cl[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score", "CONTENT_TYPE=application/json",
				 "CONTENT_LENGTH=12x", NULL };
	check_status(bad_cl, "{}", 400, "is not a byte count");
	const char *short_body[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score", "CONTENT_TYPE=application/json",
				     "CONTENT_LENGTH=100", NULL };
	check_status(short_body, "{\"inputs\": [[1]]}", 400, "ended after 17 of the 100 bytes");
	const char *charset[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/invocations",
				  "CONTENT_TYPE=application/json; charset=\"UTF-8\"", "CONTENT_LENGTH=17", NULL };
	check_status(charset, "{\"inputs\": [[1]]}", 400, "row 0 has 1 values; expected 784");
	const char *param[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/invocations",
				"CONTENT_TYPE=application/json; format=pandas-split", "CONTENT_LENGTH=17", NULL };
	check_status(param, "{\"inputs\": [[1]]}", 415, "UNSUPPORTED_MEDIA_TYPE");
	const char *client[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_X_MS_CLIENT_REQUEST_ID=ok_1-2", NULL };
	check_status(client, NULL, 200, "x-ms-client-request-id: ok_1-2\r\n");
	const char *inject[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_X_MS_CLIENT_REQUEST_ID=a\r\nSet-Cookie: x", NULL };
	check_status(inject, NULL, 400, "x-ms-client-request-id must be");
	const char *rid[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/", "HTTP_X_REQUEST_ID=bad id\r\nX: y", NULL };
	char *out = call(rid, NULL, 0, 1);
	CHECK(out && !strstr(out, "bad id") && strstr(out, "x-request-id: "));
	free(out);
}

/* A carrier whose body comes slowly (one byte per 10 ms), or not at all
 * (IO_LATE at once, as io.c's FastCGI read past the deadline). */
struct slow {
	struct io io;
	struct io_mem m;
	int late;
	double deadline;   /* what app.c asked for */
};

static long slow_read(struct io *io, char *buf, size_t n)
{
	struct slow *s = (struct slow *)io;
	s->deadline = io->deadline;
	if (s->late)
		return IO_LATE;
	usleep(10000);
	if (s->m.pos == s->m.body_len || n == 0)
		return 0;
	buf[0] = s->m.body[s->m.pos++];
	return 1;
}

static void test_issue15_read_deadline(void)
{
	const char *params[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score", "CONTENT_TYPE=application/json",
				 "CONTENT_LENGTH=200", NULL };
	char body[201];
	memset(body, ' ', 200);
	body[200] = '\0';
	for (int late = 1; late >= 0; late--) {
		struct slow s = { .m = { params, body, 200, 0, NULL, 0, 0 }, .late = late };
		io_memory(&s.io, &s.m);
		s.io.read = slow_read;
		app.cfg.request_timeout_ms = 50;   /* 200 bytes at 100/s take 2 s */
		app_handle(&app, &s.io);
		app.cfg.request_timeout_ms = APP_DEFAULT_TIMEOUT_MS;
		CHECKF(s.m.out && strncmp(s.m.out, "Status: 408 ", 12) == 0, "%.200s", s.m.out ? s.m.out : "");
		CHECKF(s.m.out && strstr(s.m.out, "\"DEADLINE_EXCEEDED\", \"message\": \"reading the body took longer "
					 "than request_timeout_ms (50 ms)\""), "%.300s", s.m.out ? s.m.out : "");
		CHECK(s.deadline > 0);
		CHECKF(late || s.m.pos < 20, "read %zu bytes", s.m.pos);
		free(s.m.out);
	}
}

/* After a request whose buffers grew past APP_KEEP_BYTES they are freed;
 * after a small one they stay (no free/malloc per request). */
static void test_issue15_memory_back(const char *blob, const char *metrics)
{
	struct app big;
	char err[512], cl[40];
	struct app_config cfg = { .model_path = blob, .log_path = "-", .metrics_path = metrics };
	if (app_init(&big, &cfg, err, sizeof err) < 0) {
		CHECKF(0, "app_init: %s", err);
		return;
	}
	size_t rows = 2600, row = 1 + 784 * 2 + 1, n = 16 + rows * row + 1;   /* 4 MB of [0,1,0,...] */
	char *body = malloc(n + 1);
	size_t o = (size_t)sprintf(body, "{\"input_data\": [");
	for (size_t r = 0; r < rows; r++) {
		body[o++] = '[';
		for (int j = 0; j < 784; j++) {
			body[o++] = (char)('0' + (j & 1));
			body[o++] = j < 783 ? ',' : ']';
		}
		body[o++] = r + 1 < rows ? ',' : ']';
	}
	body[o++] = '}';
	body[o] = '\0';
	size_t sn;
	char *small = unit_slurp("fixtures/test_data/images_azureml.json", &sn);
	for (int k = 0; k < 3 && small; k++) {
		const char *b = k == 1 ? body : small;
		snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", strlen(b));
		const char *params[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/score", "CONTENT_TYPE=application/json", cl,
					 NULL };
		struct io io;
		struct io_mem m = { params, b, strlen(b), 0, NULL, 0, 0 };
		io_memory(&io, &m);
		app_handle(&big, &io);
		size_t held = big.body_cap + req_ctx_bytes(&big.req) + big.out.cap;
		app_after(&big);
		CHECKF(m.out && strncmp(m.out, "Status: 200 ", 12) == 0, "%.200s", m.out ? m.out : "");
		if (k == 1) {
			CHECKF(held > APP_KEEP_BYTES, "held %zu", held);
			CHECK(!big.body && big.body_cap == 0 && req_ctx_bytes(&big.req) == 0 && big.fwd.cap == 0 &&
			      big.out.cap == 0);
		} else {
			CHECK(big.body && big.body_cap > 0 && req_ctx_bytes(&big.req) > 0 && big.out.cap > 0);
		}
		free(m.out);
	}
	free(small);
	free(body);
	app_free(&big);
}

static void test_issue15_memory(void)
{
	test_issue15_memory_back(tut.blob, tut.metrics);
}

/* ---- issue 17 ---- */

/* GET /version says what the converter knew (each key only when there is
 * something to say), and GET /v2/models/NAME gives an image model's input
 * as [-1, C, H, W]. */
static void test_issue17_provenance(void)
{
	struct blob_model *m = &app.single.map.model, saved = *m;
	const char *version[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/version", NULL };
	const char *v2meta[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/v2/models/tut", NULL };

	/* a blob that says nothing more: the keys it always had, and only those */
	char *out = call(version, NULL, 0, 1);
	CHECKF(out && strstr(out, "\"model_digest\": ") && !strstr(out, "model_input_shape") &&
	       !strstr(out, "model_order") && !strstr(out, "model_verified"), "%s", out ? out : "");
	free(out);
	m->input_shape[0] = 1;
	m->input_shape[1] = 28;
	m->input_shape[2] = 28;
	m->flags = BLOB_MODEL_ASSUMED_ORDER | BLOB_MODEL_VERIFIED;
	m->verify = (struct blob_verify){ 1700000000, 3.0517578125e-05f, 200, 200, "1.13.1" };
	check_status(version, NULL, 200, "\"model\": \"tut\", \"model_version\": \"3\", \"model_digest\": ");
	check_status(version, NULL, 200, ", \"model_input_shape\": [1, 28, 28], \"model_order\": \"assumed\", "
		     "\"model_verified\": {\"at\": \"2023-11-14T22:13:20Z\", \"max_diff\": 3.0517578125e-05, "
		     "\"rows\": 200, \"argmax_agree\": 200, \"torch\": \"1.13.1\"}}");
	check_status(v2meta, NULL, 200, "\"inputs\": [{\"name\": \"input-0\", \"datatype\": \"FP32\", "
		     "\"shape\": [-1, 1, 28, 28]}]");
	const char *swagger[] = { "REQUEST_METHOD=GET", "REQUEST_URI=/swagger.json", NULL };
	check_status(swagger, NULL, 200, "\"description\": \"One input tensor, [rows, 1, 28, 28] or [rows, 784]; ");
	m->flags = 0;
	check_status(version, NULL, 200, "\"model_input_shape\": [1, 28, 28]}");
	*m = saved;
	check_status(v2meta, NULL, 200, "\"shape\": [-1, 784]}]");
	check_status(swagger, NULL, 200, "\"description\": \"One input tensor, [rows, width] or [rows, d1, d2, ...] ");
}

/* The answer score.fcgi gives as CGI when it cannot serve: 500, a JSON
 * error with the reason and no path of the server's disk. */
static void test_issue17_refuse(void)
{
	static const struct {
		const char *model, *workspace, *uri, *err, *want;
	} cases[] = {
		{ "/srv/m.blob", NULL, "/score", "/srv/m.blob: No such file or directory",
		  "{\"error_code\": \"MODEL_NOT_LOADED\", \"message\": \"the model could not be loaded: "
		  "No such file or directory\"}" },
		{ "m.blob", NULL, "/score", "m.blob: checksum mismatch (stored 1, computed 2): the file is damaged",
		  "\"the model could not be loaded: checksum mismatch (stored 1, computed 2): the file is damaged\"" },
		{ "m.blob", NULL, "/v2/models/m/infer", "m.blob: truncated: 100 bytes is less than a header",
		  "{\"error\": \"the model could not be loaded: truncated: 100 bytes is less than a header\"}" },
		{ NULL, "ws", "/e1/score", "/abs/ws/state.yaml:12: unknown key 'x'",
		  "{\"error_code\": \"WORKSPACE_NOT_LOADED\", \"message\": \"the workspace could not be loaded: "
		  "unknown key 'x'\"}" },
		{ NULL, "/w", "/e1/v2/models/m/infer", "metrics: /dev/shm/scorepoint-1: Permission denied",
		  "{\"error\": \"the workspace could not be loaded: metrics: Permission denied\"}" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char uri[64];
		snprintf(uri, sizeof uri, "REQUEST_URI=%s", cases[k].uri);
		const char *params[] = { "REQUEST_METHOD=GET", uri, NULL };
		struct app_config cfg = { .model_path = cases[k].model, .workspace = cases[k].workspace };
		struct io io;
		struct io_mem mem = { params, NULL, 0, 0, NULL, 0, 0 };
		io_memory(&io, &mem);
		app_refuse(&io, &cfg, cases[k].err);
		static const char head[] = "Status: 500 Internal Server Error\r\nContent-Type: application/json\r\n"
					   "Content-Length: ";
		CHECKF(mem.out && strncmp(mem.out, head, sizeof head - 1) == 0, "%s", mem.out ? mem.out : "");
		CHECKF(mem.out && strstr(body_of(mem.out), cases[k].want), "%s", mem.out ? mem.out : "");
		CHECKF(mem.out && (size_t)atoi(strstr(mem.out, "Length: ") + 8) == strlen(body_of(mem.out)), "%s",
		       mem.out ? mem.out : "");
		free(mem.out);
	}
}

int main(void)
{
	if (unit_tutorial_app(&app, &tut, "app", (struct app_config){ .max_body = 1 << 20, .log_path = "-" }) < 0)
		return 1;
	RUN(test_score_tutorial_request);
	RUN(test_routes);
	RUN(test_body_rules);
	RUN(test_issue15_read_deadline);
	RUN(test_issue15_memory);
	RUN(test_issue17_provenance);
	RUN(test_issue17_refuse);
	unit_tutorial_free(&app, &tut);
	return unit_done();
}
