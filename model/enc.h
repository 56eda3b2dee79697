/*
 * enc.h - response bodies, byte-identical to Python's json.dumps.
 *
 * Numbers are printed as repr(float(v)) of each float32 value, separators
 * are json.dumps' (", " and ": "), and strings are escaped with
 * ensure_ascii, so that wherever scorepoint's float32 values equal
 * torch's, the bytes equal what the Python stack would send.
 *
 * Strings (labels, the V2 request id echoed back) are C strings taken to
 * be UTF-8.  What is not well-formed UTF-8 (Unicode's Table 3-7: a stray
 * continuation byte, a truncated sequence, an overlong form such as
 * C0 AF, an encoded surrogate U+D800..U+DFFF such as ED A0 80, a code
 * point above U+10FFFF, the bytes C0, C1, F5..FF) is written as U+FFFD,
 * one per maximal ill-formed prefix as Python's bytes.decode(errors=
 * "replace") does, never as the code point it would spell: the output is
 * always valid JSON of valid Unicode, and encoding a string never fails.
 * Blob labels should not get that far: enc_utf8_valid() is the check for
 * whoever writes or loads them.
 */
#ifndef SCOREPOINT_ENC_H
#define SCOREPOINT_ENC_H

#include <stddef.h>
#include <stdint.h>

/* A growing output buffer with a hard cap; reused across requests. */
struct enc_buf {
	char *p;
	size_t len, cap;
	size_t max;          /* never grows past this many bytes */
	int full;            /* set once an append did not fit or allocate */
	int nonfinite;       /* set once a NaN or infinity was asked for */
	size_t bad_row;      /* with ENC_NONFINITE: the first row at fault */
};

#define ENC_DEFAULT_MAX ((size_t)256 << 20)

enum enc_status {
	ENC_OK = 0,
	ENC_FULL,        /* the response would exceed max, or memory ran out */
	ENC_NONFINITE,   /* the model produced NaN or an infinity (see bad_row) */
};

void enc_init(struct enc_buf *b, size_t max);
void enc_reset(struct enc_buf *b);        /* empty, keep the memory */
void enc_free(struct enc_buf *b);

void enc_raw(struct enc_buf *b, const char *s, size_t n);
void enc_cstr(struct enc_buf *b, const char *s);   /* raw, NUL-terminated */
void enc_string(struct enc_buf *b, const char *s); /* as a JSON string literal */
/* True when the C string s is well-formed UTF-8 (what enc_string keeps). */
int enc_utf8_valid(const char *s);
void enc_uint(struct enc_buf *b, uint64_t v);      /* decimal digits */
/* repr(v); a non-finite v writes "null" and makes enc_status() NONFINITE. */
void enc_number(struct enc_buf *b, double v);

/* [{"0": v, "1": v, ...}, ...]: the tutorial's logits (or probabilities). */
void enc_row_dicts(struct enc_buf *b, const float *y, size_t rows, size_t w);
/* ["label", ...]: each row's argmax, as a label (or its index). */
void enc_labels(struct enc_buf *b, const float *y, size_t rows, size_t w,
		const char *const *labels);
/* [["score:index:label", ...], ...]: each row's k best, Triton's
 * classification style (no ":label" when there are no labels). */
void enc_top_k(struct enc_buf *b, const float *y, size_t rows, size_t w, size_t k,
	       const char *const *labels);
/* [v, v, ...]: n values, as KServe V2 "data" takes them. */
void enc_flat(struct enc_buf *b, const float *y, size_t n);

enum enc_style {
	ENC_BARE,         /* Azure ML /score: the predictions themselves */
	ENC_PREDICTIONS,  /* MLflow 2 /invocations: {"predictions": ...} */
};

/*
 * The whole response for rows of model output y[rows][w], after the
 * deployment's post-processing (enum blob_post): logits as row dicts,
 * probabilities (softmax, computed in place in y) as row dicts, or labels.
 * top_k > 0 asks for each row's k best instead, as "score:index:label".
 */
void enc_predictions(struct enc_buf *b, enum enc_style style, unsigned post, int top_k,
		     float *y, size_t rows, size_t w, const char *const *labels);

/* ENC_OK, or what went wrong since the last enc_reset(). */
enum enc_status enc_status(const struct enc_buf *b);

#endif
