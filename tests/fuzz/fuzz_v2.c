/*
 * fuzz_v2.c - the KServe V2 request decoder, v2_decode (model/v2.h).
 *
 * Byte 0 selects the schema (bits 0-1, as in fuzz.h) and tight limits
 * (bit 4); the rest is the body.  Properties: decoding twice with the same
 * context gives the same answer; a success stays within the caps and has a
 * terminated id; an error has the status its code says.
 */
#include "model/v2.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	const struct req_schema *s = fuzz_schema(sel & 3);
	size_t len = size - 1;
	char *body = fuzz_copy(data + 1, len);

	struct req_ctx c;
	struct v2_request a, b;
	struct req_error ea, eb;
	float *x = NULL;
	req_ctx_init(&c, (sel & 16) ? &fuzz_tight_limits : NULL);
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	int ra = v2_decode(&c, s, body, len, &a, &ea);
	if (ra == 0 && a.rows) {
		x = malloc(a.rows * s->width * sizeof *x);
		if (!x)
			abort();
		memcpy(x, a.x, a.rows * s->width * sizeof *x);
	}
	int rb = v2_decode(&c, s, body, len, &b, &eb);

	FUZZ_CHECK(ra == rb && (ra == 0 || ra == -1), "first %d, second %d", ra, rb);
	if (ra == 0) {
		FUZZ_CHECK(memchr(a.id, '\0', sizeof a.id) != NULL, "id not terminated");
		FUZZ_CHECK(a.rows == b.rows && a.classification == b.classification &&
			   strcmp(a.id, b.id) == 0, "second decode differs");
		FUZZ_CHECK(a.rows <= c.lim.max_rows && a.rows * s->width <= c.lim.max_values,
			   "%zu rows of %u", a.rows, s->width);
		FUZZ_CHECK(a.rows == 0 || memcmp(x, b.x, a.rows * s->width * sizeof *x) == 0,
			   "second decode gives other values");
	} else {
		FUZZ_CHECK(memchr(ea.msg, '\0', sizeof ea.msg) != NULL, "message not terminated");
		FUZZ_CHECK(ea.code == eb.code && strcmp(ea.msg, eb.msg) == 0, "errors differ: \"%s\" / \"%s\"",
			   ea.msg, eb.msg);
		int want = ea.code == REQ_E_LIMIT ? 413 : ea.code == REQ_E_NOMEM ? 500 : 400;
		FUZZ_CHECK(ea.status == want && ea.code != REQ_OK, "code %d with status %d", ea.code, ea.status);
	}
	free(x);
	req_ctx_free(&c);
	free(body);
	return 0;
}
