/*
 * scoring.c - the scoring routes: the body read within its cap and the
 * request's deadline, decoded (JSON, CSV or KServe V2), scored and encoded.
 * Every failure is the caller's JSON error; the process goes on serving.
 */
#include "handler/call.h"
#include "handler/scoring.h"
#include "model/v2.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the body ---- */

/* c->csv: what the body of /score or /invocations is (a mirror copy keeps it). */
enum { BODY_JSON, BODY_CSV, BODY_F32 };

/* Split Content-Type into its media type; 0 ok, -1 charset not UTF-8, -2
 * another parameter. */
static int media_type(const char *ct, char *type, size_t len)
{
	size_t n = strcspn(ct, ";");
	while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	size_t skip = strspn(ct, " \t");
	if (n < skip)
		n = skip;
	n -= skip;
	if (n > len - 1)
		n = len - 1;
	memcpy(type, ct + skip, n);
	type[n] = '\0';
	for (char *p = type; *p; p++)
		*p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
	const char *p = ct + strcspn(ct, ";");
	while (*p == ';') {
		p++;
		p += strspn(p, " \t");
		size_t k = strcspn(p, ";");
		if (k >= 8 && strncasecmp(p, "charset=", 8) == 0) {
			const char *v = p + 8;
			size_t vl = k - 8;
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v++;
				vl -= 2;
			}
			if (!((vl == 5 && strncasecmp(v, "utf-8", 5) == 0) ||
			      (vl == 4 && strncasecmp(v, "utf8", 4) == 0)))
				return -1;
		} else if (k > 0) {
			return -2;
		}
		p += k;
	}
	return 0;
}

/* The request's end, on call_now()'s clock: request_timeout_ms after it began. */
static double deadline(const struct call *c)
{
	return c->t0 + (double)c->timeout_ms / 1000.0;
}

static int late(const struct call *c)
{
	return call_now() > deadline(c);
}

/* The bytes to read: CONTENT_LENGTH's, none (CGI without it), or up to the
 * end of the stream (FastCGI without it).  -1 with the answer sent. */
static int body_wanted(struct call *c, const char *cl, size_t *want)
{
	size_t max = c->a->cfg.max_body;

	if (cl && *cl) {
		if (strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 15) {
			call_fail(c, 400, "BAD_REQUEST", "CONTENT_LENGTH '%.20s' is not a byte count", cl);
			return -1;
		}
		*want = (size_t)strtoull(cl, NULL, 10);
		if (*want > max) {
			call_fail(c, 413, "PAYLOAD_TOO_LARGE", "the body has %zu bytes; the limit is %zu", *want, max);
			return -1;
		}
	} else {
		*want = c->io->fastcgi ? max + 1 : 0;
	}
	return 0;
}

/* a->body to at least need bytes, doubling from 64 KiB; -1 with the answer
 * sent. */
static int grow_body(struct call *c, size_t need)
{
	struct app *a = c->a;

	if (need <= a->body_cap)
		return 0;
	size_t cap = a->body_cap ? a->body_cap : 65536;
	while (cap < need)
		cap *= 2;
	char *p = realloc(a->body, cap);
	if (!p) {
		call_fail(c, 500, "INTERNAL_ERROR", "out of memory for a %zu-byte body", need);
		return -1;
	}
	a->body = p;
	a->body_cap = cap;
	return 0;
}

/*
 * Read the body into a->body at a->body_at (NUL-terminated); 0, or -1 with
 * the answer sent.  body_at (0 to 3) makes the body's byte tensor_at land
 * 4-aligned, so that a V2 binary tensor after a JSON header of any length
 * is read in place (req_decode_f32); tensor_at 0 for the others.  The
 * request's deadline bounds the reading: the carrier stops waiting for
 * bytes at it (see io.c), and it is looked at between reads of at most
 * READ_CHUNK bytes, so a slow client gets its 408 on time and the rest of
 * its body is abandoned.
 */
#define READ_CHUNK ((size_t)1 << 20)

static int read_body(struct call *c, size_t tensor_at)
{
	struct app *a = c->a;
	const char *cl = c->io->param(c->io, "CONTENT_LENGTH");
	size_t want, got = 0, at = (4 - tensor_at % 4) % 4;
	int known = cl && *cl;

	if (body_wanted(c, cl, &want) < 0)
		return -1;
	a->body_at = at;
	size_t need = at + (known || !c->io->fastcgi ? want : 65536) + 1;
	c->io->deadline = deadline(c);
	for (;;) {
		if (grow_body(c, need) < 0)
			return -1;
		char *body = a->body + at;
		size_t room = a->body_cap - at - 1 - got;
		size_t ask = room < want - got ? room : want - got;
		long r = got < want ? c->io->read(c->io, body + got, ask < READ_CHUNK ? ask : READ_CHUNK) : 0;
		if (r == IO_LATE || late(c)) {
			call_fail(c, 408, "DEADLINE_EXCEEDED", "reading the body took longer than request_timeout_ms "
				  "(%u ms)", c->timeout_ms);
			return -1;
		}
		if (r < 0) {
			call_fail(c, 400, "BAD_REQUEST", "the body could not be read");
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (!known && got > a->cfg.max_body) {
			call_fail(c, 413, "PAYLOAD_TOO_LARGE", "the body is larger than the limit of %zu bytes",
				  a->cfg.max_body);
			return -1;
		}
		if (at + got + 1 >= a->body_cap)
			need = a->body_cap * 2;
	}
	if (known && got < want) {
		call_fail(c, 400, "BAD_REQUEST", "the body ended after %zu of the %zu bytes CONTENT_LENGTH announced",
			  got, want);
		return -1;
	}
	a->body[at + got] = '\0';
	c->bytes_in = got;
	return 0;
}

/* ---- what was scored ---- */

/* One per process, like struct app: the last 200 for app_after's work. */
static struct scoring_answer answered;
static int have_answer;

const struct scoring_answer *scoring_answered(void)
{
	return have_answer ? &answered : NULL;
}

void scoring_forget(void)
{
	have_answer = 0;
}

static void remember(const struct call *c, const struct req_result *r, const float *y)
{
	const struct blob_model *m = &c->m->map.model;

	answered.x = r->x;
	answered.y = y;
	answered.rows = r->rows;
	answered.in_width = m->input_width;
	answered.out_width = m->output_width;
	answered.top_k = r->top_k;
	have_answer = 1;
}

/* ---- scoring routes ---- */

static const char *req_code(const struct req_error *e)
{
	switch (e->code) {
	case REQ_E_LIMIT: return "PAYLOAD_TOO_LARGE";
	case REQ_E_NOMEM: return "INTERNAL_ERROR";
	case REQ_E_DEADLINE: return "DEADLINE_EXCEEDED";
	case REQ_E_TYPE:
	case REQ_E_COLUMNS: return "INVALID_PARAMETER_VALUE";
	default: return "BAD_REQUEST";
	}
}

/* The forward pass over decoded rows, with the deadline and scratch cap
 * every scoring route shares; NULL with the answer sent. */
static float *run_model(struct call *c, const float *x, size_t rows)
{
	struct app *a = c->a;

	if (late(c)) {
		call_fail(c, 408, "DEADLINE_EXCEEDED", "decoding took longer than request_timeout_ms (%u ms)",
			  c->timeout_ms);
		return NULL;
	}
	float *y = fwd_run(&c->m->map.model, x, rows, &a->fwd);
	if (!y) {
		call_fail(c, 413, "PAYLOAD_TOO_LARGE", "%zu rows need more scratch memory than the limit", rows);
		return NULL;
	}
	c->rows = rows;
	return y;
}

/* Decode a->body for c->m: JSON (MLflow's stricter rules on /invocations),
 * CSV or raw float32, giving up at the deadline.  Shared by the answered
 * request and its mirror copy. */
static int decode(struct call *c, struct req_result *r, struct req_error *e)
{
	struct app *a = c->a;
	struct app_model *m = c->m;
	const char *body = a->body + a->body_at;

	a->req.deadline = deadline(c);
	if (c->csv == BODY_F32)
		return req_decode_f32(&a->req, &m->schema, body, c->bytes_in, r, e);
	return c->csv == BODY_CSV ? req_decode_csv(&a->req, &m->schema, body, c->bytes_in, r, e) :
			req_decode_json(&a->req, &m->schema, body, c->bytes_in,
					c->proto == P_MLFLOW ? REQ_MLFLOW : 0, r, e);
}

static void decode_failed(struct call *c, const struct req_error *e)
{
	if (e->code == REQ_E_DEADLINE)
		call_fail(c, 408, "DEADLINE_EXCEEDED", "decoding took longer than request_timeout_ms (%u ms)",
			  c->timeout_ms);
	else
		call_fail(c, e->status, req_code(e), "%s", e->msg);
}

/* Content-Type: JSON (also when absent, but not on /invocations), CSV, or
 * on /score application/octet-stream, raw little-endian float32 (c->csv).
 * -1 with the 415 sent. */
static int body_type(struct call *c)
{
	const char *ct = c->io->param(c->io, "CONTENT_TYPE");
	char type[64];

	if (ct && *ct) {
		int mt = media_type(ct, type, sizeof type);
		if (mt == -1) {
			call_fail(c, 415, "UNSUPPORTED_MEDIA_TYPE", "The scoring server only supports UTF-8");
			return -1;
		}
		int raw = c->proto != P_MLFLOW && strcmp(type, "application/octet-stream") == 0;
		if (mt == -2 || (!raw && strcmp(type, "application/json") != 0 && strcmp(type, "text/csv") != 0)) {
			call_fail(c, 415, "UNSUPPORTED_MEDIA_TYPE",
				  "This predictor only supports the following content types: Types: ['text/csv', "
				  "'application/json']. Got '%.60s'.", ct);
			return -1;
		}
		c->csv = raw ? BODY_F32 : strcmp(type, "text/csv") == 0 ? BODY_CSV : BODY_JSON;
	} else if (c->proto == P_MLFLOW) {
		call_fail(c, 415, "UNSUPPORTED_MEDIA_TYPE", "This predictor only supports the following content "
			  "types: Types: ['text/csv', 'application/json']. Got ''.");
		return -1;
	}
	return 0;
}

/* Encode y (post-processed in place) as /score's bare list or
 * /invocations' {"predictions"}, past the deadline a 408; 0, or -1 with
 * the error sent. */
static int encode(struct call *c, const struct req_result *r, float *y)
{
	struct app *a = c->a;
	const struct blob_model *m = &c->m->map.model;
	int top_k = r->top_k > 0 && (size_t)r->top_k > m->output_width ? (int)m->output_width : r->top_k;

	enc_reset(&a->out);
	enc_predictions(&a->out, c->proto == P_MLFLOW ? ENC_PREDICTIONS : ENC_BARE, m->postprocess, top_k,
			y, r->rows, m->output_width, m->labels);
	enum enc_status st = enc_status(&a->out);
	if (st == ENC_NONFINITE) {
		call_fail(c, 400, "INVALID_PARAMETER_VALUE", "row %zu: the model's output is not finite (are the "
			  "inputs within a sensible range?)", a->out.bad_row);
		return -1;
	}
	if (st != ENC_OK) {
		call_fail(c, 500, "INTERNAL_ERROR", "the response is larger than the response limit");
		return -1;
	}
	if (late(c)) {
		call_fail(c, 408, "DEADLINE_EXCEEDED", "scoring took longer than request_timeout_ms (%u ms)",
			  c->timeout_ms);
		return -1;
	}
	return 0;
}

void scoring_score(struct call *c, const char *rest)
{
	struct req_result r;
	struct req_error e;

	(void)rest;
	if (body_type(c) < 0 || read_body(c, 0) < 0)
		return;
	if (decode(c, &r, &e) < 0) {
		decode_failed(c, &e);
		return;
	}
	float *y = run_model(c, r.x, r.rows);
	if (y && encode(c, &r, y) == 0) {
		remember(c, &r, y);
		call_send(c, 200, "application/json");
	}
}

/* The JSON header's length of a body in the binary data extension
 * (Inference-Header-Content-Length) in *len, or SIZE_MAX without one (the
 * whole body is JSON); -1 with the 400 sent. */
static int v2_header_len(struct call *c, size_t *len)
{
	const char *h = c->io->param(c->io, "HTTP_INFERENCE_HEADER_CONTENT_LENGTH");

	*len = SIZE_MAX;
	if (!h)
		return 0;
	if (!*h || strspn(h, "0123456789") != strlen(h) || strlen(h) > 15) {
		call_fail(c, 400, "BAD_REQUEST", "Inference-Header-Content-Length '%.20s' is not a byte count", h);
		return -1;
	}
	*len = (size_t)strtoull(h, NULL, 10);
	return 0;
}

/* The binary answer's Inference-Header-Content-Length line (c->headers). */
static char v2_binary_header[64];

void scoring_v2_infer(struct call *c, const char *rest)
{
	struct app *a = c->a;
	const struct blob_model *m = &c->m->map.model;
	struct v2_request r;
	struct req_error e;
	size_t header_len;

	(void)rest;
	/* The header's length first, so that the tensor after it is read
	 * 4-aligned. */
	if (v2_header_len(c, &header_len) < 0 || read_body(c, header_len == SIZE_MAX ? 0 : header_len) < 0)
		return;
	if (header_len == SIZE_MAX)
		header_len = c->bytes_in;
	const char *body = a->body + a->body_at;
	a->req.deadline = deadline(c);
	if (v2_decode_binary(&a->req, &c->m->schema, body, c->bytes_in, header_len, &r, &e) < 0) {
		size_t n = strlen(e.msg);
		if (e.code == REQ_E_JSON && header_len < c->bytes_in)
			snprintf(e.msg + n, sizeof e.msg - n, " (the JSON header is the body's first %zu bytes, as "
				 "Inference-Header-Content-Length says)", header_len);
		else if (e.code == REQ_E_JSON && strstr(body, "binary_data_size"))
			snprintf(e.msg + n, sizeof e.msg - n, " (binary data after the JSON needs the "
				 "Inference-Header-Content-Length header)");
		decode_failed(c, &e);
		return;
	}
	float *y = run_model(c, r.x, r.rows);
	if (!y)
		return;
	/* The deployment's post-processing applies here too; V2 has no
	 * label tensor, so a labels deployment sends its scores (or, with
	 * classification, "score:index:label" strings). */
	if (m->postprocess == BLOB_POST_PROBABILITIES)
		fwd_softmax_rows(y, r.rows, m->output_width);
	enc_reset(&a->out);
	int binary = r.binary_out && r.classification == 0;
	if (binary)
		header_len = v2_encode_binary(&a->out, m->name, m->version, r.id, y, r.rows, m->output_width);
	else
		v2_encode(&a->out, m->name, m->version, r.id, y, r.rows, m->output_width, r.classification, m->labels);
	if (enc_status(&a->out) != ENC_OK) {
		call_fail(c, enc_status(&a->out) == ENC_NONFINITE ? 400 : 500, "INTERNAL_ERROR",
			  "the model's output could not be encoded (not finite, or too large)");
		return;
	}
	if (binary) {
		snprintf(v2_binary_header, sizeof v2_binary_header, "Inference-Header-Content-Length: %zu\r\n",
			 header_len);
		c->headers = v2_binary_header;
	}
	call_send(c, 200, binary ? "application/octet-stream" : "application/json");
}

/* The scores of a copy are post-processed as its answer would have been,
 * for the shadow comparison (scoring_answered). */
void scoring_replay(struct call *c)
{
	struct req_result r;
	struct req_error e;
	float *y = NULL;

	if (!c->m)
		c->status = 500;
	else if (decode(c, &r, &e) < 0)
		c->status = e.status;
	else if (!(y = fwd_run(&c->m->map.model, r.x, r.rows, &c->a->fwd)))
		c->status = 413;
	else {
		c->status = 200;
		c->rows = r.rows;
		if (c->m->map.model.postprocess == BLOB_POST_PROBABILITIES)
			fwd_softmax_rows(y, r.rows, c->m->map.model.output_width);
		remember(c, &r, y);
	}
}
