/*
 * fuzz_req.c - the request decoders of model/req.h.
 *
 * Byte 0 selects; the rest is the body:
 *   bits 0-1  0: req_decode_json (Azure ML /score), 1: req_decode_json
 *             with REQ_MLFLOW (/invocations), 2 and 3: req_decode_csv
 *   bits 2-3  the schema (fuzz.h: a,b,c / three unnamed / col_0..col_783)
 *   bit 4     tight limits instead of the defaults
 * Every JSON shape (split, lists, records, columns, tensor under each
 * top-level key) comes from the body; the seeds hold one of each.
 *
 * Properties: a second decode of the same body with the same context (its
 * buffers and its cached split-orient column mapping now warm) gives the
 * same answer, byte for byte; a success stays within the caps; an error
 * has the status its code says and a terminated message.
 */
#include "tests/fuzz/fuzz.h"

struct outcome {
	int rc;
	struct req_result r;
	struct req_error e;
	float *x;   /* a copy of r.x: the context's buffer is reused */
};

static void decode(struct req_ctx *c, const struct req_schema *s, unsigned mode, const char *body,
		   size_t len, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	if (mode >= 2)
		o->rc = req_decode_csv(c, s, body, len, &o->r, &o->e);
	else
		o->rc = req_decode_json(c, s, body, len, mode == 1 ? REQ_MLFLOW : 0, &o->r, &o->e);
	if (o->rc == 0 && o->r.rows) {
		size_t n = o->r.rows * s->width;
		o->x = malloc(n * sizeof *o->x);
		if (!o->x)
			abort();
		memcpy(o->x, o->r.x, n * sizeof *o->x);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0], mode = sel & 3;
	const struct req_schema *s = fuzz_schema((sel >> 2) & 3);
	const struct req_limits *lim = (sel & 16) ? &fuzz_tight_limits : NULL;
	size_t len = size - 1;
	char *body = fuzz_copy(data + 1, len);

	struct req_ctx c;
	struct outcome a, b;
	req_ctx_init(&c, lim);
	decode(&c, s, mode, body, len, &a);
	decode(&c, s, mode, body, len, &b);

	FUZZ_CHECK(a.rc == 0 || a.rc == -1, "rc %d", a.rc);
	FUZZ_CHECK(a.rc == b.rc, "first decode %d, second %d (%s / %s)", a.rc, b.rc,
		   a.rc ? a.e.msg : "ok", b.rc ? b.e.msg : "ok");
	if (a.rc == 0) {
		FUZZ_CHECK(a.r.rows == b.r.rows && a.r.key == b.r.key && a.r.shape == b.r.shape &&
			   a.r.top_k == b.r.top_k, "second decode differs");
		FUZZ_CHECK(a.r.rows <= c.lim.max_rows, "%zu rows", a.r.rows);
		FUZZ_CHECK(a.r.rows * s->width <= c.lim.max_values,
			   "%zu rows of %u", a.r.rows, s->width);
		FUZZ_CHECK(a.r.rows == 0 || memcmp(a.x, b.x, a.r.rows * s->width * sizeof *a.x) == 0,
			   "second decode gives other values");
		FUZZ_CHECK((mode >= 2) == (a.r.shape == REQ_SHAPE_CSV), "shape %d in mode %u", a.r.shape, mode);
	} else {
		FUZZ_CHECK(memchr(a.e.msg, '\0', sizeof a.e.msg) != NULL, "message not terminated");
		FUZZ_CHECK(a.e.code == b.e.code && strcmp(a.e.msg, b.e.msg) == 0,
			   "errors differ: \"%s\" / \"%s\"", a.e.msg, b.e.msg);
		int want = a.e.code == REQ_E_LIMIT ? 413 : a.e.code == REQ_E_NOMEM ? 500 : 400;
		FUZZ_CHECK(a.e.status == want, "code %d with status %d", a.e.code, a.e.status);
		FUZZ_CHECK(a.e.code != REQ_OK, "failure with REQ_OK: %s", a.e.msg);
	}
	free(a.x);
	free(b.x);
	req_ctx_free(&c);
	free(body);
	return 0;
}
