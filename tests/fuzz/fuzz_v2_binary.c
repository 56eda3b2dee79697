/*
 * fuzz_v2_binary.c - binary tensors: v2_decode_binary (the V2 binary data
 * extension) and req_decode_f32 (a raw float32 /score body), with a
 * differential check against the JSON path.
 *
 * Byte 0 selects the schema (bits 0-1, as in fuzz.h) and tight limits
 * (bit 4); bytes 1-2 are the JSON header's length, little-endian
 * (Inference-Header-Content-Length; 0xFFFF: the whole body); the rest is
 * the body.  Properties: a second decode with the same context gives the
 * same answer; an error has the status its code says; and whenever one
 * form decodes, the same rows written in the other forms (V2 JSON "data",
 * V2 binary, raw float32) decode to the same float32 bits.
 */
#include "model/v2.h"
#include "tests/fuzz/fuzz.h"

/* x[n] as little-endian float32 at p. */
static void put_f32(char *p, const float *x, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		uint32_t u;
		memcpy(&u, &x[k], 4);
		for (int j = 0; j < 4; j++)
			p[4 * k + (size_t)j] = (char)(u >> (8 * j));
	}
}

/* The rows as a V2 body: JSON "data" (binary 0) or the extension's header
 * and bytes (*hlen its header's length).  malloc'd. */
static char *v2_body(const float *x, size_t rows, size_t w, int binary, size_t *len, size_t *hlen)
{
	size_t n = rows * w, cap = n * 20 + 256, o;
	char *b = malloc(cap);
	if (!b)
		abort();
	o = (size_t)snprintf(b, cap, "{\"inputs\": [{\"name\": \"x\", \"shape\": [%zu, %zu], \"datatype\": \"FP32\", ",
			     rows, w);
	if (binary) {
		o += (size_t)snprintf(b + o, cap - o, "\"parameters\": {\"binary_data_size\": %zu}}]}", n * 4);
		*hlen = o;
		put_f32(b + o, x, n);
		o += n * 4;
	} else {
		o += (size_t)snprintf(b + o, cap - o, "\"data\": [");
		for (size_t k = 0; k < n; k++)   /* %.9g: a float32 reads back the same */
			o += (size_t)snprintf(b + o, cap - o, "%s%.9g", k ? ", " : "", (double)x[k]);
		o += (size_t)snprintf(b + o, cap - o, "]}]}");
		*hlen = o;
	}
	*len = o;
	return b;
}

/* x[rows][w] decoded again from each other form: the same bits. */
static void same_in_every_form(const struct req_schema *s, const float *x, size_t rows)
{
	size_t w = s->width, n = rows * w, len, hlen;
	struct req_ctx c;
	struct v2_request r;
	struct req_result rr;
	struct req_error e;

	req_ctx_init(&c, NULL);
	for (int binary = 0; binary < 2; binary++) {
		char *b = v2_body(x, rows, w, binary, &len, &hlen);
		int rc = v2_decode_binary(&c, s, b, len, hlen, &r, &e);
		FUZZ_CHECK(rc == 0 && r.rows == rows && memcmp(r.x, x, n * sizeof *x) == 0,
			   "%s form of %zu rows: %s", binary ? "binary" : "JSON", rows, rc ? e.msg : "other values");
		free(b);
	}
	char *raw = malloc(n * 4 ? n * 4 : 1);
	if (!raw)
		abort();
	put_f32(raw, x, n);
	int rc = req_decode_f32(&c, s, raw, n * 4, &rr, &e);
	FUZZ_CHECK(rc == 0 && rr.rows == rows && memcmp(rr.x, x, n * sizeof *x) == 0, "raw form: %s",
		   rc ? e.msg : "other values");
	free(raw);
	req_ctx_free(&c);
}

static float *copy_rows(const float *x, size_t n)
{
	float *y = malloc(n ? n * sizeof *y : 1);
	if (!y)
		abort();
	memcpy(y, x, n * sizeof *y);
	return y;
}

static void error_ok(const struct req_error *e)
{
	int want = e->code == REQ_E_LIMIT ? 413 : e->code == REQ_E_NOMEM ? 500 : 400;
	FUZZ_CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL, "message not terminated");
	FUZZ_CHECK(e->status == want && e->code != REQ_OK, "code %d with status %d", e->code, e->status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	unsigned sel = data[0];
	const struct req_schema *s = fuzz_schema(sel & 3);
	size_t hl = (size_t)data[1] | (size_t)data[2] << 8, len = size - 3;
	char *body = fuzz_copy(data + 3, len);
	if (hl == 0xFFFF)
		hl = len;

	struct req_ctx c;
	struct v2_request a, b;
	struct req_result ra;
	struct req_error ea, eb;
	req_ctx_init(&c, (sel & 16) ? &fuzz_tight_limits : NULL);

	/* The extension: deterministic, and its rows the same in every form. */
	int rca = v2_decode_binary(&c, s, body, len, hl, &a, &ea);
	float *x = rca == 0 ? copy_rows(a.x, a.rows * s->width) : NULL;
	int rcb = v2_decode_binary(&c, s, body, len, hl, &b, &eb);
	FUZZ_CHECK(rca == rcb && (rca == 0 || rca == -1), "first %d, second %d", rca, rcb);
	if (rca == 0) {
		FUZZ_CHECK(a.rows == b.rows && a.binary_out == b.binary_out && strcmp(a.id, b.id) == 0 &&
			   memcmp(x, b.x, a.rows * s->width * sizeof *x) == 0, "second decode differs");
		FUZZ_CHECK(a.rows <= c.lim.max_rows && a.rows * s->width <= c.lim.max_values, "%zu rows", a.rows);
		same_in_every_form(s, x, a.rows);
	} else {
		error_ok(&ea);
		FUZZ_CHECK(ea.code == eb.code && strcmp(ea.msg, eb.msg) == 0, "errors differ");
	}
	free(x);

	/* The JSON header alone as a plain V2 body. */
	if (hl <= len && v2_decode(&c, s, body, hl, &a, &ea) == 0) {
		x = copy_rows(a.x, a.rows * s->width);
		same_in_every_form(s, x, a.rows);
		free(x);
	}

	/* The body as a raw float32 /score body. */
	if (req_decode_f32(&c, s, body, len, &ra, &ea) == 0) {
		FUZZ_CHECK(ra.rows * s->width * 4 == len, "%zu rows from %zu bytes", ra.rows, len);
		x = copy_rows(ra.x, ra.rows * s->width);
		same_in_every_form(s, x, ra.rows);
		free(x);
	} else {
		error_ok(&ea);
	}
	req_ctx_free(&c);
	free(body);
	return 0;
}
