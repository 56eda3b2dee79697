/*
 * req.h - decode a request body into the float32 matrix a model reads.
 *
 * JSON bodies in every shape Azure ML and MLflow callers send, and CSV with
 * a header row.  Columns are matched to the model's signature by name, in
 * any order; extra columns are ignored.  A model without column names reads
 * named columns in the order given (records: the first record's keys, the
 * same in every record).  A body must be UTF-8; one that is not is
 * refused, naming the first bad byte and its offset.  Numbers are parsed
 * to the correctly rounded double and then cast to float32, as pandas and
 * torch.Tensor do.  No HTTP here: the caller passes the body and its media
 * type and maps the error to a status.
 *
 * Speed: the bulk of a request is arrays of numbers.  One pass over the
 * body parses those arrays straight into floats and leaves a small
 * "skeleton" of the document, with each such array replaced by "[]", for
 * jsmn to tokenize and for the shape logic to walk.  Everything else
 * (strings, records, odd shapes, every error) takes the general path over
 * jsmn tokens, which also reports where a problem is.  Inside a numeric
 * array the separators are found 64 bytes at a time and each value is read
 * on its own (model/num_f32.h for the common -?D.F form).
 */
#ifndef SCOREPOINT_REQ_H
#define SCOREPOINT_REQ_H

#include <stddef.h>
#include <stdint.h>
#include "model/blob.h"
#include "model/json.h"

/* Hard caps; exceeding one is its own error (REQ_E_LIMIT, status 413). */
struct req_limits {
	size_t max_bytes;    /* body bytes */
	size_t max_tokens;   /* jsmn tokens of the skeleton */
	size_t max_rows;     /* rows per request */
	size_t max_values;   /* numbers per request (all arrays together) */
};
#define REQ_DEFAULT_MAX_BYTES ((size_t)64 << 20)
#define REQ_DEFAULT_MAX_TOKENS ((size_t)1 << 22)
#define REQ_DEFAULT_MAX_ROWS ((size_t)100000)
#define REQ_DEFAULT_MAX_VALUES ((size_t)1 << 26)

/* What a model reads: its width and column names, with a name index. */
struct req_schema {
	uint32_t width;
	uint32_t ncolumns;           /* 0: the model has no column names */
	const char *const *columns;  /* borrowed; must outlive the schema */
	uint32_t *slots;             /* open-addressing index: column + 1, 0 empty */
	uint32_t mask;
	uint32_t shape[3];           /* C, H, W of one row (blob input_shape), or zeros */
};

/* Build the name index for m (whose strings must outlive s).  0 or -1. */
int req_schema_init(struct req_schema *s, const struct blob_model *m);
void req_schema_free(struct req_schema *s);
/* The model column named name[0, len), or -1. */
int req_schema_find(const struct req_schema *s, const char *name, size_t len);

enum req_key {         /* the top-level key that carried the data */
	REQ_KEY_CSV = 0,
	REQ_KEY_INPUT_DATA,
	REQ_KEY_DATAFRAME_SPLIT,
	REQ_KEY_DATAFRAME_RECORDS,
	REQ_KEY_INSTANCES,
	REQ_KEY_INPUTS,
	REQ_KEY_RAW,           /* no key: a raw float32 body (req_decode_f32) */
};

enum req_shape {
	REQ_SHAPE_CSV = 0,
	REQ_SHAPE_SPLIT,       /* {"columns": [...], "data": [[...]]} */
	REQ_SHAPE_LISTS,       /* [[...], ...] */
	REQ_SHAPE_RECORDS,     /* [{"col": v, ...}, ...] */
	REQ_SHAPE_COLUMNS,     /* {"col": [...], ...} */
	REQ_SHAPE_TENSOR,      /* {"name": [[...], ...]}: one named 2-D tensor */
	REQ_SHAPE_RAW,         /* rows x width little-endian float32 */
};

enum req_errcode {
	REQ_OK = 0,
	REQ_E_JSON,      /* malformed JSON or CSV text, or a body that is not UTF-8 */
	REQ_E_SHAPE,     /* valid text, but not a shape we read */
	REQ_E_TYPE,      /* a value that is not a number where one belongs */
	REQ_E_COLUMNS,   /* missing or repeated columns */
	REQ_E_LIMIT,     /* a cap of req_limits exceeded */
	REQ_E_NOMEM,     /* allocation failed (the request fails, not the process) */
	REQ_E_DEADLINE,  /* req_ctx.deadline passed before the decode ended */
};

struct req_error {
	enum req_errcode code;
	int status;          /* 400, 408, 413 or 500 */
	char msg[320];       /* one line: what and where (row, column, byte offset) */
};

/* Flags for req_decode_json(). */
#define REQ_MLFLOW 1u    /* /invocations: exactly one of dataframe_split,
			  * dataframe_records, instances, inputs */

struct req_result {
	const float *x;      /* [rows][width], valid until the next decode with ctx
			      * and (req_decode_f32) while the body is */
	size_t rows;
	enum req_key key;
	enum req_shape shape;
	int top_k;           /* params.top_k, or 0 */
};

/* Per-process decoding state: buffers reused from request to request. */
struct req_ctx {
	struct req_limits lim;
	/* CLOCK_MONOTONIC seconds past which a decode stops with
	 * REQ_E_DEADLINE, checked at its start and then every megabyte or so
	 * of body (never per number); 0: none.  The caller sets it per decode. */
	double deadline;
	char *skel;
	size_t skel_cap;
	jsmntok_t *tok;
	size_t tok_cap;
	struct req_span *spans;
	size_t nspans, span_cap;
	float *nums;
	size_t nnums, nums_cap;
	float *x;
	size_t x_cap;
	int32_t *map;        /* request column -> model column (-1: ignored) */
	size_t map_cap;
	int map_identity;    /* map[j] == j for every model column */
	unsigned char *seen; /* model column -> given */
	size_t seen_cap;
	/* The last split-orient "columns" list that mapped cleanly: clients
	 * send the same list with every request, so its mapping is reused. */
	char *cols_text;
	size_t cols_len, cols_cap;
	const struct req_schema *cols_schema;
	uint32_t cols_n;
	/* A model without column names reads records by the keys of the
	 * first: those keys, decoded and NUL-terminated, and their index. */
	char *keys;
	size_t keys_cap;
	const char **key_names;
	size_t key_names_cap;
	uint32_t *key_slots;
	size_t key_slots_cap;
};

void req_ctx_init(struct req_ctx *c, const struct req_limits *lim);   /* lim NULL: defaults */
void req_ctx_free(struct req_ctx *c);
/* Bytes held by the buffers that grow with the body: skeleton, tokens,
 * spans, numbers, matrix and the first record's keys. */
size_t req_ctx_bytes(const struct req_ctx *c);
/* Free those buffers (the next decode grows them again); the limits and
 * the column cache stay. */
void req_ctx_shrink(struct req_ctx *c);

/* 0 on success; -1 with e filled.  The context is ready for the next call
 * either way. */
int req_decode_json(struct req_ctx *c, const struct req_schema *s, const char *body,
		    size_t len, unsigned flags, struct req_result *r, struct req_error *e);
int req_decode_csv(struct req_ctx *c, const struct req_schema *s, const char *body,
		   size_t len, struct req_result *r, struct req_error *e);
/* A raw tensor body (application/octet-stream; the V2 binary extension's
 * input): rows x s->width little-endian float32 values, any alignment,
 * rows = len / (4 * width).  An empty body, a length that is not a whole
 * number of rows (REQ_E_SHAPE) and a NaN or infinity (REQ_E_TYPE, naming
 * its row and column) are refused; the row and value caps apply.  On a
 * little-endian machine an aligned body is the result's x itself. */
int req_decode_f32(struct req_ctx *c, const struct req_schema *s, const char *body, size_t len,
		   struct req_result *r, struct req_error *e);

#endif
