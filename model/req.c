/*
 * req.c - request bodies to float matrices (see req.h for the plan): the
 * JSON shapes walked over the skeleton that req_scan.c leaves (records:
 * req_records.c), and the raw float32 body.  CSV bodies are read by
 * req_csv.c; the context, its limits, errors and tokens are req_ctx.c's.
 *
 * Every buffer lives in struct req_ctx and is reused; growth is bounded by
 * req_limits, so a request allocates nothing once the process has seen a
 * request as large.  Nothing here aborts: every failure is a req_error.
 */
#include "model/req.h"
#include "model/req_int.h"
#include "model/num.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MISSING_LISTED 10

/* ---- shapes ---- */

const char *req_tok_text(const char *js, const jsmntok_t *t, char *buf, size_t len)
{
	return json_echo(js + t->start, (size_t)(t->end - t->start), buf, len);
}

static const char *tok_text(const struct req_walk *w, int i, char *buf, size_t len)
{
	return req_tok_text(w->js, &w->t[i], buf, len);
}

/* Name request column j for messages. */
static const char *col_name(const struct req_walk *w, int j, const int *names, char *buf, size_t len)
{
	/* The model's name first: a request whose split-orient "columns" came
	 * from the cache has no names, and must be told the same. */
	if (w->named && w->s->ncolumns && w->c->map[j] >= 0)
		snprintf(buf, len, "%s", w->s->columns[w->c->map[j]]);
	else if (names && names[j] >= 0)
		return tok_text(w, names[j], buf, len);
	else
		snprintf(buf, len, "%d", j);
	return buf;
}

const char *req_kind_name(const char *js, const jsmntok_t *t)
{
	switch (t->type) {
	case JSMN_STRING: return "a string";
	case JSMN_ARRAY: return "an array";
	case JSMN_OBJECT: return "an object";
	default: break;
	}
	switch (js[t->start]) {
	case 'n': return "null";
	case 't': case 'f': return "a boolean";
	default: return "a number";
	}
}

/* Allocate x for rows × width and reset; check the caps. */
int req_start_matrix(struct req_walk *w, size_t rows)
{
	struct req_ctx *c = w->c;
	size_t width = w->s->width;
	if (rows == 0)
		return req_fail(w->e, REQ_E_SHAPE, "the request has no rows");
	if (rows > c->lim.max_rows)
		return req_fail(w->e, REQ_E_LIMIT, "%zu rows; the limit is %zu", rows, c->lim.max_rows);
	if (rows > c->lim.max_values / width)
		return req_fail(w->e, REQ_E_LIMIT, "%zu rows of %zu values exceed the limit of %zu values",
			     rows, width, c->lim.max_values);
	if (req_reserve(&c->x, &c->x_cap, rows * width, sizeof *c->x) < 0)
		return req_fail(w->e, REQ_E_NOMEM, "out of memory for %zu rows", rows);
	w->rows = rows;
	return 0;
}

int req_cell(struct req_walk *w, const jsmntok_t *t, size_t row, req_col_fn *col_fn, const void *arg, int col,
	     float *out)
{
	char nb[JSON_ECHO_SIZE], vb[JSON_ECHO_SIZE];
	double d;

	if (t->type != JSMN_PRIMITIVE || w->js[t->start] == 'n' || w->js[t->start] == 't' ||
	    w->js[t->start] == 'f')
		return req_fail(w->e, REQ_E_TYPE, "row %zu, column %s: %s where a number belongs",
			     row, col_fn(w, arg, col, nb, sizeof nb), req_kind_name(w->js, t));
	enum num_status st = num_parse(w->js + t->start, w->js + t->end, NUM_JSON, &d);
	float f = (float)d;
	if (st != NUM_OK || isinf(f))
		return req_fail(w->e, REQ_E_TYPE, "row %zu, column %s: %s is %s", row,
			     col_fn(w, arg, col, nb, sizeof nb), req_tok_text(w->js, t, vb, sizeof vb),
			     st == NUM_OK || st == NUM_ERANGE ? "outside float32's range" : "not a number");
	*out = f;
	return 0;
}

/* col_name() as a req_col_fn: arg is the request's names (or NULL). */
static const char *request_col(const struct req_walk *w, const void *names, int j, char *buf, size_t len)
{
	return col_name(w, j, names, buf, len);
}

/* Parse primitive token i as the value of (row, request column j). */
static int number_at(struct req_walk *w, int i, size_t row, int j, const int *names, float *out)
{
	return req_cell(w, &w->t[i], row, request_col, names, j, out);
}

/*
 * Map the request's named columns (string tokens names[0..n)) onto the
 * model's; fills c->map.  Unknown names are ignored; missing model columns
 * and repeated names are errors.
 */
static int map_names(struct req_walk *w, const int *names, uint32_t n)
{
	struct req_ctx *c = w->c;
	const struct req_schema *s = w->s;
	char buf[REQ_NAME_MAX_BYTES];

	c->cols_schema = NULL;   /* the map is about to change: drop the cached list */
	if (req_reserve(&c->map, &c->map_cap, n ? n : 1, sizeof *c->map) < 0 ||
	    req_reserve(&c->seen, &c->seen_cap, s->width, 1) < 0)
		return req_fail(w->e, REQ_E_NOMEM, "out of memory for %u columns", n);
	w->ncols = n;
	w->named = 1;
	c->map_identity = 0;
	memset(c->seen, 0, s->width);
	if (!s->ncolumns) {
		/* A model without column names reads named columns in order. */
		if (n != s->width)
			return req_fail(w->e, REQ_E_COLUMNS, "%u columns given; the model has no column names "
				     "and reads exactly %u values per row, in order", n, s->width);
		for (uint32_t j = 0; j < n; j++)
			c->map[j] = (int32_t)j;
		c->map_identity = 1;
		return 0;
	}
	uint32_t same = 0;   /* request column j is model column j */
	for (uint32_t j = 0; j < n; j++) {
		const jsmntok_t *t = &w->t[names[j]];
		int k;
		if (t->type != JSMN_STRING)
			return req_fail(w->e, REQ_E_SHAPE, "column %u: a column name must be a string, not %s",
				     j, req_kind_name(w->js, t));
		/* Names without escapes are looked up in place (the usual case). */
		if (!memchr(w->js + t->start, '\\', (size_t)(t->end - t->start))) {
			k = req_schema_find(s, w->js + t->start, (size_t)(t->end - t->start));
		} else {
			int len = json_string(w->js, w->t, names[j], buf, sizeof buf);
			if (len < 0)
				return req_fail(w->e, REQ_E_JSON, "column %u: bad string escape or name too long", j);
			k = req_schema_find(s, buf, (size_t)len);
		}
		c->map[j] = k;
		if (k < 0)
			continue;
		if (c->seen[k])
			return req_fail(w->e, REQ_E_COLUMNS, "column %s is given twice", s->columns[k]);
		c->seen[k] = 1;
		same += (uint32_t)k == j;
	}
	c->map_identity = n == s->width && same == n;
	return 0;
}

/* After a mapping: every model column must be present.  record is the
 * record being checked, or SIZE_MAX for the request's column list. */
int req_check_missing(struct req_walk *w, size_t record)
{
	const struct req_schema *s = w->s;
	char list[240];
	size_t used = 0, missing = 0;

	if (!s->ncolumns)
		return 0;
	list[0] = '\0';
	for (uint32_t k = 0; k < s->width; k++) {
		if (w->c->seen[k])
			continue;
		if (missing < MISSING_LISTED && used < sizeof list - 1) {
			int n = snprintf(list + used, sizeof list - used, "%s%s", missing ? ", " : "", s->columns[k]);
			used = n < 0 ? used : used + (size_t)n < sizeof list ? used + (size_t)n : sizeof list - 1;
		}
		missing++;
	}
	if (!missing)
		return 0;
	char where[48] = "";
	if (record != SIZE_MAX)
		snprintf(where, sizeof where, "record %zu: ", record);
	return req_fail(w->e, REQ_E_COLUMNS, "%s%zu of the model's %u columns are missing: %s%s", where, missing,
		     s->width, list, missing > MISSING_LISTED ? ", ..." : "");
}

static void positional_map(struct req_walk *w)
{
	w->ncols = w->s->width;
	w->named = 0;
}

/* Values in the row whose array token is t (a compacted span or a list). */
static size_t row_count(const struct req_walk *w, const jsmntok_t *t)
{
	const struct req_span *sp = t->size == 0 ? req_span_at(w->c, (size_t)t->start) : NULL;
	return sp ? sp->count : (size_t)t->size;
}

/* Named columns (split orient) and row `row`, at token i, of another
 * width: said once for the request when every row has that width, else
 * for the row. */
static int width_differs(struct req_walk *w, int i, size_t row, size_t count)
{
	int same = row == 0, k = i;
	for (size_t r = 1; same && r < w->rows; r++) {
		k = json_skip(w->t, k);
		same = w->t[k].type == JSMN_ARRAY && row_count(w, &w->t[k]) == count;
	}
	if (same)
		return req_fail(w->e, REQ_E_SHAPE, "\"columns\" and \"data\" differ in width: %u names, %zu values "
			     "in every row", w->ncols, count);
	return req_fail(w->e, REQ_E_SHAPE, "\"columns\" and \"data\" differ in width in row %zu: %u names, "
		     "%zu values", row, w->ncols, count);
}

/* Fill row `row` from the array token at i (a compacted span or a list). */
static int row_from_list(struct req_walk *w, int i, size_t row, const int *names)
{
	struct req_ctx *c = w->c;
	const jsmntok_t *t = &w->t[i];
	size_t width = w->s->width;
	float *dst = c->x + row * width;

	if (t->type != JSMN_ARRAY)
		return req_fail(w->e, REQ_E_SHAPE, "row %zu is %s; expected a list of %u values",
			     row, req_kind_name(w->js, t), w->ncols);
	const struct req_span *sp = t->size == 0 ? req_span_at(c, (size_t)t->start) : NULL;
	if (sp && sp->cols)
		return req_fail(w->e, REQ_E_TYPE, "row %zu: strings where numbers belong", row);
	size_t count = sp ? sp->count : (size_t)t->size;
	if (count != w->ncols && w->named)
		return width_differs(w, i, row, count);
	if (count != w->ncols)
		return req_fail(w->e, REQ_E_SHAPE, "row %zu has %zu values; expected %u", row, count, w->ncols);
	/* Positional, or named in the model's own order (as clients send
	 * them): the row as it was read. */
	if (sp && (!w->named || c->map_identity)) {
		memcpy(dst, c->nums + sp->first, width * sizeof *dst);
		return 0;
	}
	if (sp) {
		const float *src = c->nums + sp->first;
		for (uint32_t j = 0; j < w->ncols; j++)
			if (c->map[j] >= 0)
				dst[c->map[j]] = src[j];
		return 0;
	}
	int k = i + 1;
	for (uint32_t j = 0; j < w->ncols; j++, k = json_skip(w->t, k)) {
		int col = w->named ? c->map[j] : (int)j;
		float v;
		if (col < 0)
			continue;
		if (number_at(w, k, row, (int)j, names, &v) < 0)
			return -1;
		dst[col] = v;
	}
	return 0;
}

/* The rows of array token i: lists of values (positional or by names). */
static int rows_of_lists(struct req_walk *w, int i, const int *names)
{
	const jsmntok_t *t = &w->t[i];
	if (t->type != JSMN_ARRAY)
		return req_fail(w->e, REQ_E_SHAPE, "\"data\" must be a list of rows");
	const struct req_span *sp = t->size == 0 ? req_span_at(w->c, (size_t)t->start) : NULL;
	if (sp)
		return req_fail(w->e, REQ_E_SHAPE, "row 0 is %s; expected a list of %u values",
				sp->cols ? "a string" : "a number", w->ncols);
	if (req_start_matrix(w, (size_t)t->size) < 0)
		return -1;
	int k = i + 1;
	for (size_t r = 0; r < w->rows; r++, k = json_skip(w->t, k))
		if (row_from_list(w, k, r, names) < 0 || ((r & 1023) == 1023 && req_deadline(w->c, w->e) < 0))
			return -1;
	return 0;
}

/* Gather the child indices of container token i into a malloc'd array. */
static int *children(const struct req_walk *w, int i)
{
	int n = w->t[i].size;
	int *v = malloc(((size_t)n + 1) * sizeof *v);
	if (!v)
		return NULL;
	for (int k = 0, j = i + 1; k < n; k++, j = json_skip(w->t, j))
		v[k] = j;
	return v;
}

/* {"columns": [...], "index": [...], "data": [[...]]} */
static int split(struct req_walk *w, int obj)
{
	const char *js = w->js;
	int cols = json_get(js, w->t, obj, "columns");
	int data = json_get(js, w->t, obj, "data");
	int *names = NULL, rc;

	if (data < 0)
		return req_fail(w->e, REQ_E_SHAPE, "the split-orient object has no \"data\"");
	if (cols >= 0) {
		if (w->t[cols].type != JSMN_ARRAY)
			return req_fail(w->e, REQ_E_SHAPE, "\"columns\" must be a list of names");
		struct req_ctx *c = w->c;
		const struct req_span *sp = w->t[cols].size == 0 ? req_span_at(c, (size_t)w->t[cols].start) : NULL;
		if (sp && sp->cols) {
			/* The scanner matched the cached list: c->map is its mapping. */
			w->ncols = c->cols_n;
			w->named = 1;
			return rows_of_lists(w, data, NULL);
		}
		/* A compacted "columns" list holds numbers: names must be strings. */
		if (sp)
			return req_fail(w->e, REQ_E_SHAPE, "column 0: a column name must be a string, not a number");
		if (!(names = children(w, cols)))
			return req_fail(w->e, REQ_E_NOMEM, "out of memory");
		const char *text = js + w->t[cols].start;
		size_t tlen = (size_t)(w->t[cols].end - w->t[cols].start);
		if (c->cols_schema == w->s && c->cols_n == (uint32_t)w->t[cols].size && c->cols_len == tlen &&
		    memcmp(c->cols_text, text, tlen) == 0) {
			w->ncols = c->cols_n;   /* c->map still holds this list's mapping */
			w->named = 1;
			rc = 0;
		} else {
			c->cols_schema = NULL;
			rc = map_names(w, names, (uint32_t)w->t[cols].size);
			if (rc == 0)
				rc = req_check_missing(w, SIZE_MAX);
			/* Not for a model without column names: its messages name
			 * the request's columns, which a cached list has not. */
			if (rc == 0 && w->s->ncolumns && req_reserve(&c->cols_text, &c->cols_cap, tlen + 1, 1) == 0) {
				memcpy(c->cols_text, text, tlen);
				c->cols_len = tlen;
				c->cols_n = (uint32_t)w->t[cols].size;
				c->cols_schema = w->s;
			}
		}
	} else {
		positional_map(w);
		rc = 0;
	}
	if (rc == 0)
		rc = rows_of_lists(w, data, names);
	free(names);
	return rc;
}

/* {"col_0": [v, ...], ...}: one list per column, all the same length. */
static int columns(struct req_walk *w, int obj)
{
	struct req_ctx *c = w->c;
	int *names = NULL, rc = -1;
	int n = w->t[obj].size;

	if (n == 0)
		return req_fail(w->e, REQ_E_SHAPE, "the request has no columns");
	if (!(names = children(w, obj)))
		return req_fail(w->e, REQ_E_NOMEM, "out of memory");
	if (map_names(w, names, (uint32_t)n) < 0 || req_check_missing(w, SIZE_MAX) < 0)
		goto out;
	size_t rows = 0;
	for (int j = 0; j < n; j++) {
		const jsmntok_t *v = &w->t[names[j] + 1];
		const struct req_span *sp = v->type == JSMN_ARRAY && v->size == 0 ?
					     req_span_at(c, (size_t)v->start) : NULL;
		size_t len = sp ? sp->count : v->type == JSMN_ARRAY ? (size_t)v->size : 0;
		char nb[JSON_ECHO_SIZE], nb0[JSON_ECHO_SIZE];
		if (sp && sp->cols) {
			req_fail(w->e, REQ_E_TYPE, "column %s: strings where numbers belong",
				 col_name(w, j, names, nb, sizeof nb));
			goto out;
		}
		if (v->type != JSMN_ARRAY) {
			req_fail(w->e, REQ_E_SHAPE, "column %s is %s; expected a list with one value per row",
			      col_name(w, j, names, nb, sizeof nb), req_kind_name(w->js, v));
			goto out;
		}
		if (j == 0) {
			rows = len;
			if (req_start_matrix(w, rows) < 0)
				goto out;
		} else if (len != rows) {
			req_fail(w->e, REQ_E_SHAPE, "column %s has %zu values; column %s has %zu",
			      col_name(w, j, names, nb, sizeof nb), len, col_name(w, 0, names, nb0, sizeof nb0), rows);
			goto out;
		}
		int col = c->map[j];
		if (col < 0)
			continue;
		if (sp) {
			for (size_t r = 0; r < rows; r++)
				c->x[r * w->s->width + (size_t)col] = c->nums[sp->first + r];
			continue;
		}
		int k = names[j] + 2;
		for (size_t r = 0; r < rows; r++, k = json_skip(w->t, k)) {
			float f;
			if (number_at(w, k, r, j, names, &f) < 0)
				goto out;
			c->x[r * w->s->width + (size_t)col] = f;
		}
	}
	rc = 0;
out:
	free(names);
	return rc;
}

/* {"name": [[...], ...]}: a single named tensor of rows. */
static int is_tensor_dict(const struct req_walk *w, int obj)
{
	if (w->t[obj].size != 1)
		return 0;
	const jsmntok_t *v = &w->t[obj + 2];
	return v->type == JSMN_ARRAY && v->size > 0 && w->t[obj + 3].type == JSMN_ARRAY;
}

/* A list whose first element is an object holds records; else lists. */
static int rows_any(struct req_walk *w, int arr, enum req_shape *shape)
{
	const jsmntok_t *t = &w->t[arr];
	if (t->type != JSMN_ARRAY)
		return req_fail(w->e, REQ_E_SHAPE, "expected a list of rows, got %s", req_kind_name(w->js, t));
	if (t->size > 0 && w->t[arr + 1].type == JSMN_OBJECT) {
		*shape = REQ_SHAPE_RECORDS;
		return req_records(w, arr);
	}
	*shape = REQ_SHAPE_LISTS;
	positional_map(w);
	return rows_of_lists(w, arr, NULL);
}

static int dispatch(struct req_walk *w, enum req_key key, int v, enum req_shape *shape)
{
	const jsmntok_t *t = &w->t[v];

	switch (key) {
	case REQ_KEY_DATAFRAME_SPLIT:
		if (t->type != JSMN_OBJECT)
			return req_fail(w->e, REQ_E_SHAPE, "dataframe_split must be an object with \"columns\" and \"data\"");
		*shape = REQ_SHAPE_SPLIT;
		return split(w, v);
	case REQ_KEY_DATAFRAME_RECORDS:
		if (t->type != JSMN_ARRAY)
			return req_fail(w->e, REQ_E_SHAPE, "dataframe_records must be a list of objects");
		*shape = REQ_SHAPE_RECORDS;
		return req_records(w, v);
	case REQ_KEY_INPUT_DATA:
	case REQ_KEY_INPUTS:
	case REQ_KEY_INSTANCES:
		if (t->type == JSMN_ARRAY)
			return rows_any(w, v, shape);
		if (t->type != JSMN_OBJECT || key == REQ_KEY_INSTANCES)
			return req_fail(w->e, REQ_E_SHAPE, "%s must be %s", key == REQ_KEY_INSTANCES ? "instances" :
				     key == REQ_KEY_INPUTS ? "inputs" : "input_data",
				     key == REQ_KEY_INSTANCES ? "a list of rows" : "a list of rows or an object");
		if (key == REQ_KEY_INPUT_DATA && json_get(w->js, w->t, v, "data") >= 0) {
			*shape = REQ_SHAPE_SPLIT;
			return split(w, v);
		}
		if (is_tensor_dict(w, v)) {
			*shape = REQ_SHAPE_TENSOR;
			positional_map(w);
			return rows_of_lists(w, v + 2, NULL);
		}
		*shape = REQ_SHAPE_COLUMNS;
		return columns(w, v);
	default:
		return req_fail(w->e, REQ_E_SHAPE, "no data");
	}
}

static const struct {
	const char *name;
	enum req_key key;
} data_keys[] = {
	{ "input_data", REQ_KEY_INPUT_DATA },
	{ "dataframe_split", REQ_KEY_DATAFRAME_SPLIT },
	{ "dataframe_records", REQ_KEY_DATAFRAME_RECORDS },
	{ "instances", REQ_KEY_INSTANCES },
	{ "inputs", REQ_KEY_INPUTS },
};

#define MLFLOW_KEYS_MSG "The input must be a JSON dictionary with exactly one of the input fields " \
	"{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}."

/* params: {"top_k": k} is understood; other parameters are accepted. */
static int params(struct req_walk *w, int v, int *top_k)
{
	if (w->t[v].type != JSMN_OBJECT)
		return req_fail(w->e, REQ_E_SHAPE, "params must be an object");
	int k = json_get(w->js, w->t, v, "top_k");
	if (k < 0)
		return 0;
	const jsmntok_t *t = &w->t[k];
	double d;
	if (t->type != JSMN_PRIMITIVE ||
	    num_parse(w->js + t->start, w->js + t->end, NUM_JSON, &d) != NUM_OK ||
	    d != floor(d) || d < 1 || d > 1000000)
		return req_fail(w->e, REQ_E_SHAPE, "params.top_k must be a whole number from 1");
	*top_k = (int)d;
	return 0;
}

int req_decode_json(struct req_ctx *c, const struct req_schema *s, const char *body,
		    size_t len, unsigned flags, struct req_result *r, struct req_error *e)
{
	size_t bad;
	const char *why;

	memset(r, 0, sizeof *r);
	if (req_start(c, len, e) < 0)
		return -1;
	int slen = req_scan(c, s, body, len, e);
	if (slen < 0)
		return -1;
	/* Every byte the scanner took into a numeric array is ASCII by
	 * construction (digits, sign, point, exponent, separators, white
	 * space), and the cached "columns" list it set aside passed this check
	 * the first time: the skeleton holds every other byte of the body. */
	size_t nonutf8 = req_utf8_bad(c->skel, (size_t)slen);
	if (nonutf8 < (size_t)slen)
		return req_fail_utf8(e, body, len, req_body_offset(c, nonutf8));
	int n = req_tokenize(c, c->skel, (size_t)slen, req_body_offset, e);
	if (n < 0)
		return -1;
	if (json_validate(c->skel, (size_t)slen, c->tok, n, &bad, &why) < 0) {
		char m[sizeof e->msg];
		return req_fail(e, REQ_E_JSON, "%s",
				json_refusal(c->skel, bad, why, req_body_offset(c, bad), m, sizeof m));
	}

	struct req_walk w = { c, s, c->skel, c->tok, e, 0, 0, 0 };
	if (c->tok[0].type != JSMN_OBJECT)
		return req_fail(e, REQ_E_SHAPE, flags & REQ_MLFLOW ? MLFLOW_KEYS_MSG :
			     "expected a JSON object such as {\"input_data\": ...}");
	int found = -1, nfound = 0;
	enum req_key key = REQ_KEY_CSV;
	unsigned char hit[24];   /* data_keys indices found, in order, for the message */
	for (int i = 1, k = 0; k < c->tok[0].size; k++, i = json_skip(c->tok, i)) {
		for (size_t d = 0; d < sizeof data_keys / sizeof data_keys[0]; d++) {
			if (!json_eq(c->skel, c->tok, i, data_keys[d].name))
				continue;
			if ((flags & REQ_MLFLOW) && data_keys[d].key == REQ_KEY_INPUT_DATA)
				continue;
			found = i + 1;
			key = data_keys[d].key;
			if ((size_t)nfound < sizeof hit)
				hit[nfound] = (unsigned char)d;
			nfound++;
		}
		if (json_eq(c->skel, c->tok, i, "params") && params(&w, i + 1, &r->top_k) < 0)
			return -1;
	}
	if (nfound != 1) {
		char keys[200];
		size_t used = 0;
		keys[0] = '\0';
		for (int h = 0; h < nfound && (size_t)h < sizeof hit; h++) {
			int m = snprintf(keys + used, sizeof keys - used, "%s'%s'", used ? ", " : "",
					 data_keys[hit[h]].name);
			if (m > 0 && used + (size_t)m < sizeof keys)
				used += (size_t)m;
		}
		if (flags & REQ_MLFLOW)
			return req_fail(e, REQ_E_SHAPE, MLFLOW_KEYS_MSG " Received dictionary with input fields: [%s].", keys);
		return req_fail(e, REQ_E_SHAPE, nfound ? "the body has more than one of input_data, dataframe_split, "
			     "dataframe_records, instances, inputs: send one" :
			     "the body has none of input_data, dataframe_split, dataframe_records, instances, inputs");
	}
	if (dispatch(&w, key, found, &r->shape) < 0)
		return -1;
	r->x = c->x;
	r->rows = w.rows;
	r->key = key;
	return 0;
}

/* ---- raw float32 ---- */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define REQ_LE 1
#else
#define REQ_LE 0

/* Value k of a little-endian float32 array at p, whatever p's alignment. */
static float le_f32(const unsigned char *p, size_t k)
{
	const unsigned char *q = p + 4 * k;
	uint32_t u = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}
#endif

/* The index of the first of x's n values that is a NaN or an infinity (all
 * exponent bits set), or n: a pass without a branch per value (SSE2: 16
 * values per step, four compares or'ed together), then a look for the
 * culprit only when there is one. */
static size_t first_nonfinite(const float *x, size_t n)
{
	const uint32_t *u = (const uint32_t *)(const void *)x;
	uint32_t any = 0;
	size_t k = 0;

#if defined(__SSE2__)
	const __m128i exp = _mm_set1_epi32(0x7F800000);
	__m128i acc = _mm_setzero_si128();
	for (; n - k >= 16; k += 16)
		for (unsigned q = 0; q < 4; q++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + k + 4 * q));
			acc = _mm_or_si128(acc, _mm_cmpeq_epi32(_mm_and_si128(v, exp), exp));
		}
	any = (uint32_t)_mm_movemask_epi8(acc);
#endif
	for (; k < n; k++)
		any |= (u[k] & 0x7F800000u) == 0x7F800000u;
	if (!any)
		return n;
	for (k = 0; k < n; k++)
		if (!isfinite(x[k]))
			return k;
	return n;
}

int req_decode_f32(struct req_ctx *c, const struct req_schema *s, const char *body, size_t len,
		   struct req_result *r, struct req_error *e)
{
	size_t row_bytes = (size_t)s->width * 4;
	const float *x;

	memset(r, 0, sizeof *r);
	r->key = REQ_KEY_RAW;
	r->shape = REQ_SHAPE_RAW;
	if (req_start(c, len, e) < 0)
		return -1;
	if (len == 0 || len % row_bytes)
		return req_fail(e, REQ_E_SHAPE, "the body has %zu bytes, not a whole number of rows of %u "
			     "little-endian float32 values (%zu bytes each)", len, s->width, row_bytes);
	size_t rows = len / row_bytes, n = len / 4;
	if (rows > c->lim.max_rows)
		return req_fail(e, REQ_E_LIMIT, "%zu rows; the limit is %zu", rows, c->lim.max_rows);
	if (rows > c->lim.max_values / s->width)
		return req_fail(e, REQ_E_LIMIT, "%zu rows of %u values exceed the limit of %zu values",
			     rows, s->width, c->lim.max_values);
	if (REQ_LE && (uintptr_t)body % _Alignof(float) == 0) {
		x = (const float *)(const void *)body;   /* the body is the matrix: no copy */
	} else {
		if (req_reserve(&c->x, &c->x_cap, n, sizeof *c->x) < 0)
			return req_fail(e, REQ_E_NOMEM, "out of memory for %zu rows", rows);
#if REQ_LE
		memcpy(c->x, body, len);
#else
		for (size_t k = 0; k < n; k++)
			c->x[k] = le_f32((const unsigned char *)body, k);
#endif
		x = c->x;
	}
	size_t k = first_nonfinite(x, n);
	if (k < n)
		return req_fail(e, REQ_E_TYPE, "row %zu, column %zu: %s is not a value the model reads "
			     "(send finite numbers)", k / s->width, k % s->width, isnan(x[k]) ? "NaN" : "an infinity");
	r->x = x;
	r->rows = rows;
	return 0;
}
