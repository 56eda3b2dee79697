/*
 * v2.h - the KServe / Open Inference Protocol V2 tensor JSON.
 *
 *   request:  {"id": "...", "parameters": {...},
 *              "inputs": [{"name": "input-0", "shape": [2, 784],
 *                          "datatype": "FP32", "data": [...flat or nested...]}],
 *              "outputs": [{"name": "...", "parameters": {"classification": K}}]}
 *   response: {"model_name": "...", "model_version": "...", "id": "...",
 *              "outputs": [{"name": "output-0", "shape": [2, 10],
 *                           "datatype": "FP32", "data": [...]}]}
 *
 * One input tensor of FP32 or FP64 (or an integer type) whose shape is
 * [rows, width] or [rows, d1, d2...] with d1*d2... == width (a leading
 * Flatten); "data" flat in row-major order or nested to the shape.  A
 * model whose rows are images (req_schema.shape, the blob's input_shape
 * C, H, W) takes only [rows, C, H, W] and [rows, C*H*W]: a [rows, H, W, C]
 * of the same size would be read in the wrong order.
 *
 * The binary data extension (Triton's, as KServe and Triton clients send
 * it): the body is a JSON header of Inference-Header-Content-Length bytes,
 * then raw bytes.  An FP32 input with "parameters": {"binary_data_size": B}
 * and no "data" takes its B = rows * width * 4 bytes from there, little-
 * endian, row-major, every value finite; every byte after the header must
 * be taken.  "binary_data": true in outputs[0].parameters, or the request's
 * "parameters": {"binary_data_output": true} (which an output's own flag
 * overrides), asks for the FP32 output the same way: the JSON header with
 * "parameters": {"binary_data_size": ...} instead of "data", then the bytes.
 * A classification output stays JSON (BYTES strings) either way.
 */
#ifndef SCOREPOINT_V2_H
#define SCOREPOINT_V2_H

#include <stddef.h>
#include "model/enc.h"
#include "model/req.h"

#define V2_ID_MAX 128

struct v2_request {
	const float *x;          /* [rows][width] in ctx, until the next decode */
	size_t rows;
	char id[V2_ID_MAX + 1];  /* "" when absent */
	int classification;      /* outputs[0].parameters.classification, or 0 */
	int binary_out;          /* the FP32 output asked for as binary data */
};

/* Decode body into r, using ctx's buffers and limits.  0, or -1 with e set
 * (e->msg is what goes into {"error": "..."}). */
int v2_decode(struct req_ctx *ctx, const struct req_schema *s, const char *body, size_t len,
	      struct v2_request *r, struct req_error *e);
/* The same for a body whose JSON header is body[0, header_len) and whose
 * binary data follows (header_len == len: none; > len is refused). */
int v2_decode_binary(struct req_ctx *ctx, const struct req_schema *s, const char *body, size_t len,
		     size_t header_len, struct v2_request *r, struct req_error *e);

/* The response body for y[rows][w]: FP32 "data" flat, or BYTES strings
 * "score:index:label" when classification > 0. */
void v2_encode(struct enc_buf *b, const char *model_name, const char *model_version,
	       const char *id, const float *y, size_t rows, size_t w, int classification,
	       const char *const *labels);

/* The binary answer for y[rows][w] (FP32, no classification): the JSON
 * header, then rows * w little-endian float32 values.  Returns the header's
 * length (Inference-Header-Content-Length); a non-finite value sets
 * b->nonfinite and b->bad_row as v2_encode does. */
size_t v2_encode_binary(struct enc_buf *b, const char *model_name, const char *model_version,
			const char *id, const float *y, size_t rows, size_t w);

#endif
