/* test_binary.c - binary tensors (issue 21): a raw float32 body on /score
 * (req_decode_f32) and the V2 binary data extension (v2_decode_binary,
 * v2_encode_binary), through the decoders and through handler/app.c with
 * the memory carrier.  The fixtures' rows sent as binary must give the
 * numbers, and the answer bytes, that the same rows sent as JSON give. */
#include "tests/unit/unit.h"
#include "tests/unit/unit_app.h"
#include "tests/unit/unit_model.h"
#include "model/v2.h"

#include <stdlib.h>

static struct unit_tutorial tut;
static struct app app;
static struct blob_model m784, m3;
static struct req_schema s784, s3;

/* ---- helpers ---- */

struct answer {
	char *out;        /* the whole output, headers and body */
	size_t len;
	const char *body;
	size_t body_len;
};

/* POST body to uri with content type ct (NULL: none) and one more CGI
 * parameter (NULL: none). */
static struct answer post(const char *uri, const char *ct, const char *extra, const char *body, size_t len)
{
	char cl[48], u[128], t[96];
	const char *params[8];
	int n = 0;
	snprintf(cl, sizeof cl, "CONTENT_LENGTH=%zu", len);
	snprintf(u, sizeof u, "REQUEST_URI=%s", uri);
	params[n++] = "REQUEST_METHOD=POST";
	params[n++] = u;
	params[n++] = cl;
	if (ct) {
		snprintf(t, sizeof t, "CONTENT_TYPE=%s", ct);
		params[n++] = t;
	}
	if (extra)
		params[n++] = extra;
	params[n] = NULL;
	struct io io;
	struct io_mem m = { params, body, len, 0, NULL, 0, 0 };
	io_memory(&io, &m);
	app_handle(&app, &io);
	struct answer a = { m.out, m.out_len, "", 0 };
	for (size_t i = 0; m.out && i + 4 <= m.out_len; i++)
		if (memcmp(m.out + i, "\r\n\r\n", 4) == 0) {
			a.body = m.out + i + 4;
			a.body_len = m.out_len - i - 4;
			break;
		}
	return a;
}

static int status_is(const struct answer *a, const char *status)
{
	return a->out && strncmp(a->out, status, strlen(status)) == 0;
}

/* A header's value in a's head, or "" ("Name: " included in name). */
static const char *header(const struct answer *a, const char *name, char *buf, size_t len)
{
	const char *p = a->out ? strstr(a->out, name) : NULL;
	buf[0] = '\0';
	if (p && p < a->body) {
		p += strlen(name);
		size_t n = strcspn(p, "\r");
		snprintf(buf, len, "%.*s", (int)n, p);
	}
	return buf;
}

/* n float32 values as little-endian bytes (malloc). */
static char *le_bytes(const float *x, size_t n)
{
	unsigned char *b = malloc(4 * n + 1);
	for (size_t k = 0; k < n; k++) {
		uint32_t u;
		memcpy(&u, &x[k], 4);
		for (int j = 0; j < 4; j++)
			b[4 * k + (size_t)j] = (unsigned char)(u >> (8 * j));
	}
	return (char *)b;
}

/* The fixture's rows as the JSON path decodes them (copied, malloc). */
static float *fixture_rows(const char *path, size_t *rows)
{
	size_t n;
	char *text = unit_slurp(path, &n);
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	float *x = NULL;
	req_ctx_init(&c, NULL);
	if (text && req_decode_json(&c, &s784, text, n, 0, &r, &e) == 0) {
		x = malloc(r.rows * 784 * sizeof *x);
		memcpy(x, r.x, r.rows * 784 * sizeof *x);
		*rows = r.rows;
	}
	req_ctx_free(&c);
	free(text);
	return x;
}

/* A V2 request for x[rows][784]: JSON "data" (%.9g: float32 round-trips),
 * or the binary extension (header + bytes, *hlen the header's length).
 * more: extra top-level members ("" or ", \"outputs\": ..."). */
static char *v2_body(const float *x, size_t rows, int binary, const char *more, size_t *len, size_t *hlen)
{
	size_t cap = rows * 784 * 20 + 512, o = 0;
	char *b = malloc(cap);
	o += (size_t)snprintf(b + o, cap - o, "{\"id\": \"r1\", \"inputs\": [{\"name\": \"input-0\", \"shape\": "
			      "[%zu, 784], \"datatype\": \"FP32\", ", rows);
	if (binary) {
		o += (size_t)snprintf(b + o, cap - o, "\"parameters\": {\"binary_data_size\": %zu}}]%s}",
				      rows * 784 * 4, more);
		*hlen = o;
		char *raw = le_bytes(x, rows * 784);
		memcpy(b + o, raw, rows * 784 * 4);
		free(raw);
		o += rows * 784 * 4;
	} else {
		o += (size_t)snprintf(b + o, cap - o, "\"data\": [");
		for (size_t k = 0; k < rows * 784; k++)
			o += (size_t)snprintf(b + o, cap - o, "%s%.9g", k ? ", " : "", (double)x[k]);
		o += (size_t)snprintf(b + o, cap - o, "]}]%s}", more);
		*hlen = o;
	}
	*len = o;
	return b;
}

static const char *fixtures[] = {
	"fixtures/test_data/images_azureml.json",
	"fixtures/test_data/batch200_azureml_split.json",
};

/* ---- /score with application/octet-stream ---- */

static void test_raw_decode_equals_json(void)
{
	for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
		size_t rows = 0;
		float *x = fixture_rows(fixtures[f], &rows);
		CHECKF(x != NULL, "%s", fixtures[f]);
		if (!x)
			continue;
		char *raw = le_bytes(x, rows * 784);
		/* Unaligned too: the bytes may sit anywhere in a body. */
		char *shifted = malloc(rows * 784 * 4 + 1);
		memcpy(shifted + 1, raw, rows * 784 * 4);
		struct req_ctx c;
		struct req_result r;
		struct req_error e;
		req_ctx_init(&c, NULL);
		for (int k = 0; k < 2; k++) {
			int rc = req_decode_f32(&c, &s784, k ? shifted + 1 : raw, rows * 784 * 4, &r, &e);
			CHECKF(rc == 0, "%s: %s", fixtures[f], e.msg);
			CHECK(rc != 0 || (r.rows == rows && memcmp(r.x, x, rows * 784 * sizeof *x) == 0));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* An aligned body is read in place; a shifted one is copied. */
			CHECK(rc != 0 || (k ? r.x != (const float *)(const void *)(shifted + 1) :
					  r.x == (const float *)(const void *)raw));
#endif
		}
		req_ctx_free(&c);
		free(shifted);
		free(raw);
		free(x);
	}
}

static void test_raw_score_same_bytes(void)
{
	for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
		size_t n, rows = 0;
		char *text = unit_slurp(fixtures[f], &n);
		float *x = fixture_rows(fixtures[f], &rows);
		if (!text || !x) {
			CHECKF(0, "%s", fixtures[f]);
			continue;
		}
		char *raw = le_bytes(x, rows * 784);
		struct answer j = post("/score", "application/json", NULL, text, n);
		struct answer b = post("/score", "application/octet-stream", NULL, raw, rows * 784 * 4);
		CHECKF(status_is(&j, "Status: 200") && status_is(&b, "Status: 200"), "%.200s", b.out);
		CHECKF(j.body_len == b.body_len && memcmp(j.body, b.body, j.body_len) == 0, "%s: %.200s", fixtures[f],
		       b.body);
		/* /invocations keeps MLflow's two types: a 415, as before. */
		struct answer i = post("/invocations", "application/octet-stream", NULL, raw, rows * 784 * 4);
		CHECKF(status_is(&i, "Status: 415"), "%.200s", i.out);
		free(i.out);
		free(j.out);
		free(b.out);
		free(raw);
		free(x);
		free(text);
	}
}

static void raw_error(const char *body, size_t len, size_t max_rows, enum req_errcode code, const char *frag)
{
	struct req_limits lim = { REQ_DEFAULT_MAX_BYTES, REQ_DEFAULT_MAX_TOKENS, max_rows, REQ_DEFAULT_MAX_VALUES };
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	req_ctx_init(&c, &lim);
	int rc = req_decode_f32(&c, &s3, body, len, &r, &e);
	CHECKF(rc < 0, "accepted %zu bytes", len);
	if (rc < 0) {
		CHECKF(e.code == code, "code %d, want %d: %s", e.code, code, e.msg);
		CHECK_CONTAINS(e.msg, frag);
	}
	req_ctx_free(&c);
}

static void test_raw_errors(void)
{
	float v[6] = { 1, 2, 3, 4, 5, 6 };
	char *b = le_bytes(v, 6);
	raw_error(b, 0, REQ_DEFAULT_MAX_ROWS, REQ_E_SHAPE, "rows of 3 little-endian float32 values (12 bytes each)");
	raw_error(b, 13, REQ_DEFAULT_MAX_ROWS, REQ_E_SHAPE, "the body has 13 bytes");
	raw_error(b, 24, 1, REQ_E_LIMIT, "2 rows; the limit is 1");
	free(b);
	v[4] = NAN;
	b = le_bytes(v, 6);
	raw_error(b, 24, REQ_DEFAULT_MAX_ROWS, REQ_E_TYPE, "row 1, column 1: NaN");
	free(b);
	v[4] = -INFINITY;
	b = le_bytes(v, 6);
	raw_error(b, 24, REQ_DEFAULT_MAX_ROWS, REQ_E_TYPE, "row 1, column 1: an infinity");
	free(b);
	/* In the vector loop's blocks (16 values) and in its tail, at every
	 * place: the first one is named. */
	float w[3 * 37] = { 0 };
	char msg[64];
	for (size_t k = 0; k < 3 * 37; k++) {
		w[k] = k % 2 ? NAN : INFINITY;
		if (k + 5 < 3 * 37)
			w[k + 5] = NAN;   /* a later one does not hide it */
		b = le_bytes(w, 3 * 37);
		snprintf(msg, sizeof msg, "row %zu, column %zu: %s", k / 3, k % 3, k % 2 ? "NaN" : "an infinity");
		raw_error(b, sizeof w, REQ_DEFAULT_MAX_ROWS, REQ_E_TYPE, msg);
		free(b);
		w[k] = 0;
		if (k + 5 < 3 * 37)
			w[k + 5] = 0;
	}

	struct answer a = post("/score", "application/octet-stream", NULL, "abcde", 5);
	CHECKF(status_is(&a, "Status: 400") && strstr(a.body, "784 little-endian float32"), "%.300s", a.out);
	free(a.out);
}

/* ---- V2 binary data extension ---- */

static void test_v2_binary_input(void)
{
	for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
		size_t rows = 0, jl, jh, bl, bh;
		float *x = fixture_rows(fixtures[f], &rows);
		if (!x) {
			CHECKF(0, "%s", fixtures[f]);
			continue;
		}
		char *js = v2_body(x, rows, 0, "", &jl, &jh);
		char *bin = v2_body(x, rows, 1, "", &bl, &bh);
		/* The decoders: the same numbers. */
		struct req_ctx c;
		struct v2_request r;
		struct req_error e;
		req_ctx_init(&c, NULL);
		int rc = v2_decode_binary(&c, &s784, bin, bl, bh, &r, &e);
		CHECKF(rc == 0, "%s", e.msg);
		CHECK(rc != 0 || (r.rows == rows && memcmp(r.x, x, rows * 784 * 4) == 0 && !strcmp(r.id, "r1") &&
				  !r.binary_out));
		rc = v2_decode(&c, &s784, js, jl, &r, &e);
		CHECK(rc == 0 && r.rows == rows && memcmp(r.x, x, rows * 784 * 4) == 0);
		req_ctx_free(&c);
		/* Through the handler: the same answer bytes. */
		char hl[64];
		snprintf(hl, sizeof hl, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH=%zu", bh);
		struct answer aj = post("/v2/models/tut/infer", "application/json", NULL, js, jl);
		struct answer ab = post("/v2/models/tut/infer", "application/octet-stream", hl, bin, bl);
		CHECKF(status_is(&aj, "Status: 200") && status_is(&ab, "Status: 200"), "%.300s", ab.out);
		CHECKF(aj.body_len == ab.body_len && memcmp(aj.body, ab.body, aj.body_len) == 0, "%.200s", ab.body);
		/* Headers of every length mod 4: the handler reads the body so that
		 * the tensor lands 4-aligned, the decoder takes it in place, and
		 * the answer is the same. */
		for (int pad = 1; pad <= 4; pad++) {
			char *b2 = v2_body(x, rows, 1, "    " + 4 - pad, &bl, &bh);
			snprintf(hl, sizeof hl, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH=%zu", bh);
			struct answer a2 = post("/v2/models/tut/infer", "application/octet-stream", hl, b2, bl);
			CHECKF(a2.body_len == aj.body_len && memcmp(a2.body, aj.body, aj.body_len) == 0, "pad %d: %.200s",
			       pad, a2.out);
			CHECKF((uintptr_t)(app.body + app.body_at + bh) % 4 == 0, "pad %d: body_at %zu", pad, app.body_at);
			req_ctx_init(&c, NULL);
			rc = v2_decode_binary(&c, &s784, app.body + app.body_at, bl, bh, &r, &e);
			CHECKF(rc == 0 && (const char *)(const void *)r.x == app.body + app.body_at + bh,
			       "pad %d: the tensor was copied", pad);
			req_ctx_free(&c);
			free(a2.out);
			free(b2);
		}
		free(aj.out);
		free(ab.out);
		free(js);
		free(bin);
		free(x);
	}
}

/* The binary output's bytes are the float32 values the JSON answer prints. */
static void check_binary_output(const struct answer *json, const struct answer *bin, size_t rows)
{
	char buf[64], ct[96];
	size_t h = (size_t)strtoull(header(bin, "Inference-Header-Content-Length: ", buf, sizeof buf), NULL, 10);
	CHECKF(status_is(bin, "Status: 200"), "%.300s", bin->out);
	CHECK_STR(header(bin, "Content-Type: ", ct, sizeof ct), "application/octet-stream");
	CHECKF(h > 0 && h + rows * 10 * 4 == bin->body_len, "header %zu, body %zu", h, bin->body_len);
	if (!(h > 0 && h + rows * 10 * 4 == bin->body_len))
		return;
	char want[160];
	snprintf(want, sizeof want, "\"shape\": [%zu, 10], \"datatype\": \"FP32\", \"parameters\": "
		 "{\"binary_data_size\": %zu}}]}", rows, rows * 40);
	CHECKF(h >= strlen(want) && memcmp(bin->body + h - strlen(want), want, strlen(want)) == 0, "%.*s", (int)h,
	       bin->body);
	CHECK(memcmp(json->body, bin->body, 60) == 0);   /* the same model_name, version, id */
	const char *p = strstr(json->body, "\"data\": [");
	CHECK(p != NULL);
	if (!p)
		return;
	p += 9;
	for (size_t k = 0; k < rows * 10; k++) {
		char *end;
		float want_f = (float)strtod(p, &end), got;
		unsigned char *q = (unsigned char *)bin->body + h + 4 * k;
		uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
		memcpy(&got, &u, 4);
		CHECKF(end != p && memcmp(&got, &want_f, 4) == 0, "value %zu: %.9g, want %.9g", k, (double)got,
		       (double)want_f);
		p = end + strspn(end, ", ");
	}
}

static void test_v2_binary_output(void)
{
	static const char *const asks[] = {
		", \"outputs\": [{\"name\": \"output-0\", \"parameters\": {\"binary_data\": true}}]",
		", \"parameters\": {\"binary_data_output\": true}",
		", \"parameters\": {\"binary_data_output\": true}, \"outputs\": [{\"name\": \"output-0\", "
		"\"parameters\": {\"binary_data\": false}}]",
		", \"outputs\": [{\"name\": \"output-0\", \"parameters\": {\"binary_data\": true, "
		"\"classification\": 3}}]",
	};
	size_t rows = 0, jl, jh, bl, bh;
	float *x = fixture_rows(fixtures[1], &rows);
	CHECK(x != NULL);
	if (!x)
		return;
	char *js = v2_body(x, rows, 0, "", &jl, &jh);
	struct answer aj = post("/v2/models/tut/infer", "application/json", NULL, js, jl);
	for (size_t k = 0; k < sizeof asks / sizeof asks[0]; k++) {
		char *bin = v2_body(x, rows, 1, asks[k], &bl, &bh);
		char hl[64], buf[64];
		snprintf(hl, sizeof hl, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH=%zu", bh);
		struct answer ab = post("/v2/models/tut/infer", "application/octet-stream", hl, bin, bl);
		if (k < 2) {
			check_binary_output(&aj, &ab, rows);
		} else if (k == 2) {   /* the output's false wins: the JSON answer */
			CHECK(ab.body_len == aj.body_len && memcmp(ab.body, aj.body, aj.body_len) == 0);
			CHECK_STR(header(&ab, "Inference-Header-Content-Length: ", buf, sizeof buf), "");
		} else {               /* classification stays JSON BYTES */
			CHECKF(status_is(&ab, "Status: 200") && strstr(ab.body, "\"datatype\": \"BYTES\""), "%.300s",
			       ab.out);
		}
		free(ab.out);
		free(bin);
	}
	free(aj.out);
	free(js);
	free(x);
}

/* json + bytes after it, the header's length hlen (or the whole). */
static void v2_error(const char *json, const float *v, size_t nv, long hlen, enum req_errcode code, const char *frag)
{
	size_t jl = strlen(json), len = jl + 4 * nv;
	char *body = malloc(len + 1), *raw = le_bytes(v, nv);
	memcpy(body, json, jl);
	memcpy(body + jl, raw, 4 * nv);
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	req_ctx_init(&c, NULL);
	int rc = v2_decode_binary(&c, &s3, body, len, hlen < 0 ? jl : (size_t)hlen, &r, &e);
	CHECKF(rc < 0, "accepted: %s", json);
	if (rc < 0) {
		CHECKF(e.code == code, "code %d, want %d: %s (%s)", e.code, code, e.msg, json);
		CHECKF(strstr(e.msg, frag) != NULL, "\"%s\" lacks \"%s\"", e.msg, frag);
		CHECK(e.status == 400 && r.x == NULL && r.rows == 0);
	}
	req_ctx_free(&c);
	free(body);
	free(raw);
}

#define IN(dt, params) "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"" dt "\", " params "}]}"

static void test_v2_binary_errors(void)
{
	float v[7] = { 1, 2, 3, 4, 5, 6, 7 };
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 24}"), v, 6, 100000, REQ_E_SHAPE,
		 "Inference-Header-Content-Length 100000 is not within the body's");
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 20}"), v, 5, -1, REQ_E_SHAPE,
		 "binary_data_size is 20; shape [2, 3] of FP32 takes 24 bytes");
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 24}"), v, 5, -1, REQ_E_SHAPE,
		 "but 20 bytes follow the JSON header");
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 24}"), v, 7, -1, REQ_E_SHAPE,
		 "4 bytes follow the JSON header (Inference-Header-Content-Length) that no input");
	v2_error(IN("FP32", "\"data\": [1, 2, 3, 4, 5, 6]"), v, 1, -1, REQ_E_SHAPE, "4 bytes follow the JSON header");
	v2_error(IN("INT32", "\"parameters\": {\"binary_data_size\": 24}"), v, 6, -1, REQ_E_TYPE,
		 "INT32 with binary_data_size: binary inputs are FP32 only");
	v2_error(IN("FP64", "\"parameters\": {\"binary_data_size\": 48}"), v, 6, -1, REQ_E_TYPE, "FP32 only");
	v2_error(IN("FP32", "\"data\": [1, 2, 3, 4, 5, 6], \"parameters\": {\"binary_data_size\": 24}"), v, 6, -1,
		 REQ_E_SHAPE, "both \"data\" and parameters.binary_data_size");
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 0}"), v, 0, -1, REQ_E_SHAPE,
		 "binary_data_size must be a positive whole number");
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": \"24\"}"), v, 6, -1, REQ_E_SHAPE,
		 "binary_data_size must be a positive whole number");
	v2_error(IN("FP32", "\"parameters\": {}"), v, 6, -1, REQ_E_SHAPE, "inputs[0] has no \"data\"");
	v2_error("{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"parameters\": "
		 "{\"binary_data_size\": 24}}], \"outputs\": [{\"name\": \"y\", \"parameters\": "
		 "{\"binary_data\": 1}}]}",
		 v, 6, -1, REQ_E_SHAPE, "outputs[0].parameters.binary_data must be true or false");
	v2_error("{\"parameters\": {\"binary_data_output\": \"yes\"}, \"inputs\": [{\"name\": \"x\", "
		 "\"shape\": [2, 3], \"datatype\": \"FP32\", \"parameters\": {\"binary_data_size\": 24}}]}",
		 v, 6, -1, REQ_E_SHAPE, "parameters.binary_data_output must be true or false");
	v[2] = INFINITY;
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 24}"), v, 6, -1, REQ_E_TYPE,
		 "inputs[0] binary data: row 0, column 2: an infinity");
	v[2] = NAN;
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 24}"), v, 6, -1, REQ_E_TYPE, "NaN");
	v2_error(IN("FP32", "\"parameters\": {\"binary_data_size\": 24}"), v, 6, 10, REQ_E_JSON, "malformed JSON");

	/* Through the handler: a V2 error body, 400. */
	static const char body[] = IN("FP32", "\"parameters\": {\"binary_data_size\": 24}");
	struct answer a = post("/v2/models/tut/infer", NULL, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH=12x", body,
			       strlen(body));
	CHECKF(status_is(&a, "Status: 400") && strstr(a.body, "{\"error\": \"Inference-Header-Content-Length '12x' "
							    "is not a byte count\"}"), "%.300s", a.out);
	free(a.out);
	a = post("/v2/models/tut/infer", NULL, NULL, body, strlen(body));
	CHECKF(status_is(&a, "Status: 400") && strstr(a.body, "784"), "%.300s", a.out);
	free(a.out);
}

static void test_v2_encode_binary_bytes(void)
{
	float y[4] = { 1.5f, -0.0f, 3.25e-7f, 1e30f };
	struct enc_buf b;
	enc_init(&b, ENC_DEFAULT_MAX);
	size_t h = v2_encode_binary(&b, "m", "2", "id\"1", y, 2, 2);
	static const char want[] = "{\"model_name\": \"m\", \"model_version\": \"2\", \"id\": \"id\\\"1\", "
				   "\"outputs\": [{\"name\": \"output-0\", \"shape\": [2, 2], \"datatype\": \"FP32\", "
				   "\"parameters\": {\"binary_data_size\": 16}}]}";
	CHECK_INT(h, strlen(want));
	CHECK(b.len == h + 16 && memcmp(b.p, want, h) == 0);
	char *raw = le_bytes(y, 4);
	CHECK(b.len == h + 16 && memcmp(b.p + h, raw, 16) == 0);
	CHECK(enc_status(&b) == ENC_OK);
	free(raw);
	enc_reset(&b);
	y[3] = NAN;
	v2_encode_binary(&b, "m", "", "", y, 2, 2);
	CHECK(enc_status(&b) == ENC_NONFINITE && b.bad_row == 1);
	enc_free(&b);
}

int main(void)
{
	unit_model784(&m784);
	m3.input_width = 3;
	req_schema_init(&s784, &m784);
	req_schema_init(&s3, &m3);
	if (unit_tutorial_app(&app, &tut, "binary", (struct app_config){ .max_body = 8 << 20, .log_path = "/dev/null" }) <
	    0)
		return 1;
	RUN(test_raw_decode_equals_json);
	RUN(test_raw_score_same_bytes);
	RUN(test_raw_errors);
	RUN(test_v2_binary_input);
	RUN(test_v2_binary_output);
	RUN(test_v2_binary_errors);
	RUN(test_v2_encode_binary_bytes);
	unit_tutorial_free(&app, &tut);
	req_schema_free(&s784);
	req_schema_free(&s3);
	return unit_done();
}
