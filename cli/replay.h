/*
 * replay.h - the pure parts of `scorepoint online-deployment replay`: a
 * line of collected data (docs/collect.md) or a request body, the body
 * that replays a collected input, the rows of a scoring answer, two
 * answers compared row by row, the worst rows kept, percentiles.  No I/O;
 * cli/cli_replay.c reads the files and runs score.fcgi.
 */
#ifndef SCOREPOINT_REPLAY_H
#define SCOREPOINT_REPLAY_H

#include <stddef.h>

#include "model/enc.h"
#include "model/json.h"

#define REPLAY_ID_MAX 128          /* correlation ids longer than this are refused */
#define REPLAY_NAME_MAX 64         /* a deployment name (workspace/name.h: 32) */
#define REPLAY_CLASS_MAX 64        /* a class as the report prints it: "7" or a label, cut */

enum replay_kind {
	REPLAY_BODY,      /* a request body, sent as it is */
	REPLAY_INPUTS,    /* "type": "azureml.inference.model_inputs" */
	REPLAY_OUTPUTS,   /* "type": "azureml.inference.model_outputs" */
};

enum replay_route { REPLAY_SCORE, REPLAY_INVOCATIONS };

/* One line, its pointers into the text it was read from. */
struct replay_line {
	enum replay_kind kind;
	enum replay_route route;         /* a body: REPLAY_SCORE */
	char id[REPLAY_ID_MAX];          /* "correlationid"; "" for a body */
	char deployment[REPLAY_NAME_MAX];   /* "deployment"; "" for a body */
	const char *data;                /* "data"'s JSON text; a body: the whole line */
	size_t data_len;
	const char *params;              /* "params"' JSON text, or NULL */
	size_t params_len;
};

/*
 * Read one line p[0, n) (its newline removed).  A JSON object with a
 * "specversion" key is a collected line: its "type" must be model_inputs
 * or model_outputs, "correlationid" and "deployment" strings, "route"
 * (inputs) "score" or "invocations", "data" an array (inputs) or any JSON
 * value (outputs), "params" when present an object.  Any other JSON object
 * is a request body.  0, or -1 with one line in err (not one JSON object,
 * a collected line missing one of those).  Tokens are malloc'd and freed
 * inside.
 */
int replay_parse_line(const char *p, size_t n, struct replay_line *l, char *err, size_t errlen);

/*
 * Into b (reset first): the body that replays inputs line l as its
 * client sent it, {"input_data": DATA} for /score and {"inputs": DATA} for
 * /invocations (MLflow's /invocations takes no input_data; a list of rows
 * is the same rows under either key), then ", \"params\": PARAMS" when the
 * line has them.  A body line: its text.  enc_status(b) says whether it fit.
 */
void replay_body(const struct replay_line *l, struct enc_buf *b);

/* One class score of a row. */
struct replay_val {
	long idx;
	double v;
};

/* One row of an answer: its scores by class index, sorted by index (a
 * dict row's "0".."N-1", a top_k row's "score:index[:label]" entries), or
 * a label (labels: no scores). */
struct replay_row {
	long argmax;                 /* the best score's index (the lowest on a tie); -1: a label row */
	const char *label;           /* a label row: the JSON string's text, quotes excluded */
	size_t label_len;
	size_t first, n;             /* its scores: vals[first, first + n) */
};

/* An answer's rows; memory reused from parse to parse, pointers into the
 * body parsed (valid while it is). */
struct replay_answer {
	struct replay_row *rows;
	size_t nrows, rows_cap;
	struct replay_val *vals;
	size_t nvals, vals_cap;
	jsmntok_t *tok;
	size_t tok_cap;
};

/*
 * Read the answer body[0, len) of a scoring request: a list of rows, or
 * MLflow's {"predictions": list}.  A row is {"0": v, "1": v, ...} (logits
 * or probabilities), a label string, or a list of "score:index[:label]"
 * strings (params.top_k).  0, or -1 with one line in err.
 */
int replay_answer_parse(struct replay_answer *a, const char *body, size_t len, char *err, size_t errlen);
void replay_answer_free(struct replay_answer *a);

/*
 * Row i of a against row j of b: *agree is 1 when both name the same
 * class (the same argmax; label rows: the same label); *max_abs the
 * largest |difference| of the scores of the classes both rows give, -1
 * when they share none (labels, or a label row against a scored one).
 */
void replay_compare_row(const struct replay_answer *a, size_t i, const struct replay_answer *b, size_t j, int *agree,
			double *max_abs);

/* Row i's class as the report shows it: its argmax index ("7") or its
 * label (decoded; cut to fit), into out[REPLAY_CLASS_MAX]. */
void replay_row_class(const struct replay_answer *a, size_t i, char *out);

/* body and expected the same bytes once the blanks around each are
 * dropped (a collected output is the body embedded in a line). */
int replay_same_body(const char *body, size_t n, const char *expected, size_t en);

/* A compared row, as the worst rows list shows it. */
struct replay_worst {
	char id[REPLAY_ID_MAX];          /* the correlation id, or "request N" */
	size_t row;                      /* 0-based row of that request */
	int agree;
	double max_abs;                  /* -1: no scores to compare */
	char got[REPLAY_CLASS_MAX];      /* the replayed deployment's class */
	char want[REPLAY_CLASS_MAX];     /* the collected (or --against) class */
	unsigned long long seq;          /* arrival order, for ties */
};

/*
 * Keep in w[0, *n) (at most cap, worst first) the worst rows seen: a
 * disagreeing row before an agreeing one, then the larger max_abs first,
 * then the earlier (seq).  x is copied in when it ranks.
 */
void replay_worst_add(struct replay_worst *w, size_t *n, size_t cap, const struct replay_worst *x);

/* The p-th percentile (0 < p <= 100) of sorted v[0, n), nearest rank:
 * v[ceil(p / 100 * n) - 1]; 0 when n is 0. */
double replay_percentile(const double *sorted, size_t n, double p);

#endif
