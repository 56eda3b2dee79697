/*
 * test_fixtures.c - fixtures/ says what fixtures/README.md claims it says.
 *
 * Every other test trusts the files fixtures/train/train_fixture.py writes, so these
 * tests re-derive their invariants from the files alone: each request body
 * has the shape its name claims and carries the same 784 doubles per row as
 * the CSV, the expected outputs agree with one another (argmax, labels,
 * softmax, the JSON and TSV spellings of the logits), the MLflow folders have
 * their flavors and signatures, and floats.tsv is consistent text.
 *
 * The JSON and YAML readers here are deliberately small and local: they
 * check the fixtures, not the project's own parsers.
 */
#include "tests/unit/unit.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#define N_PIXELS 784
#define N_CLASSES 10
#define N_BATCH 200
#define N_IMAGES 2
#define FX "fixtures/"

/* ---- files --------------------------------------------------------- */

/* The whole file, NUL-terminated; *len excludes the NUL.  Caller frees. */
static char *fx_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			char *grown;
			cap = cap ? cap * 2 : 1 << 20;
			grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int fx_contains(const char *hay, size_t haylen, const char *needle,
		       size_t nlen)
{
	for (size_t i = 0; nlen <= haylen && i <= haylen - nlen; i++)
		if (memcmp(hay + i, needle, nlen) == 0)
			return 1;
	return 0;
}

/* First failure message of a helper, kept for the CHECKF that reports it. */
static char fx_err[256];

static const char *fx_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *fx_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fx_err, sizeof fx_err, fmt, ap);
	va_end(ap);
	return fx_err;
}

/* ---- a small JSON tree ---------------------------------------------- */

enum { J_NULL, J_TRUE, J_FALSE, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	int type;
	int child, next;        /* first child, next sibling; -1 for none */
	int count;              /* children of an array or object */
	const char *key;        /* member name (raw, escapes not decoded) */
	size_t keylen;
	const char *tok;        /* number text, or string contents (raw) */
	size_t toklen;
	double num;
};

struct jdoc {
	struct jnode *n;
	int len, cap;
	const char *err;
};

static const char *j_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int j_new(struct jdoc *d, int type)
{
	if (d->len == d->cap) {
		int cap = d->cap ? d->cap * 2 : 4096;
		struct jnode *grown = realloc(d->n, (size_t)cap * sizeof *grown);
		if (!grown)
			return -1;
		d->n = grown;
		d->cap = cap;
	}
	d->n[d->len] = (struct jnode){ .type = type, .child = -1, .next = -1 };
	return d->len++;
}

/* p at the opening quote; returns the character after the closing one. */
static const char *j_string(const char *p, const char **s, size_t *len)
{
	const char *q = ++p;

	while (*q != '"') {
		if ((unsigned char)*q < 0x20)
			return NULL;            /* also catches the NUL at the end */
		if (*q == '\\') {
			if (q[1] == '\0' || !strchr("\"\\/bfnrtu", q[1]))
				return NULL;
			q++;
		}
		q++;
	}
	*s = p;
	*len = (size_t)(q - p);
	return q + 1;
}

/* JSON's number grammar, then strtod over exactly that span. */
static const char *j_number(const char *p, double *v)
{
	const char *q = p;
	char *end;

	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (isdigit((unsigned char)*q))
			q++;
	else
		return NULL;
	if (*q == '.') {
		if (!isdigit((unsigned char)*++q))
			return NULL;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return NULL;
		while (isdigit((unsigned char)*q))
			q++;
	}
	*v = strtod(p, &end);
	return end == q ? q : NULL;
}

static const char *j_value(struct jdoc *d, const char *p, int *out, int depth);

/* Appends a parsed value to parent's children (after *last). */
static const char *j_member(struct jdoc *d, const char *p, int parent,
			    int *last, const char *key, size_t keylen, int depth)
{
	int idx;

	p = j_value(d, p, &idx, depth + 1);
	if (!p)
		return NULL;
	d->n[idx].key = key;
	d->n[idx].keylen = keylen;
	if (*last < 0)
		d->n[parent].child = idx;
	else
		d->n[*last].next = idx;
	*last = idx;
	d->n[parent].count++;
	return p;
}

static const char *j_value(struct jdoc *d, const char *p, int *out, int depth)
{
	int idx, last = -1;

	if (depth > 32)
		return d->err = "nested too deep", NULL;
	p = j_ws(p);
	if (*p == '{' || *p == '[') {
		int is_obj = *p == '{';
		char close = is_obj ? '}' : ']';

		if ((idx = j_new(d, is_obj ? J_OBJ : J_ARR)) < 0)
			return d->err = "out of memory", NULL;
		*out = idx;
		p = j_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			const char *key = NULL;
			size_t keylen = 0;

			if (is_obj) {
				if (*p != '"' || !(p = j_string(p, &key, &keylen)))
					return d->err = "bad member name", NULL;
				p = j_ws(p);
				if (*p++ != ':')
					return d->err = "':' expected", NULL;
			}
			p = j_member(d, p, idx, &last, key, keylen, depth);
			if (!p)
				return NULL;
			p = j_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return d->err = "',' or end of container expected", NULL;
			p = j_ws(p);
		}
	}
	if (*p == '"') {
		if ((idx = j_new(d, J_STR)) < 0)
			return d->err = "out of memory", NULL;
		*out = idx;
		p = j_string(p, &d->n[idx].tok, &d->n[idx].toklen);
		return p ? p : (d->err = "bad string", NULL);
	}
	if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0 ||
	    strncmp(p, "false", 5) == 0) {
		int type = *p == 'n' ? J_NULL : *p == 't' ? J_TRUE : J_FALSE;

		if ((idx = j_new(d, type)) < 0)
			return d->err = "out of memory", NULL;
		*out = idx;
		return p + (type == J_FALSE ? 5 : 4);
	}
	if ((idx = j_new(d, J_NUM)) < 0)
		return d->err = "out of memory", NULL;
	*out = idx;
	d->n[idx].tok = p;
	p = j_number(p, &d->n[idx].num);
	if (!p)
		return d->err = "bad value", NULL;
	d->n[idx].toklen = (size_t)(p - d->n[idx].tok);
	return p;
}

/* Parses all of text (which must outlive d); the root is node 0. */
static const char *j_parse(struct jdoc *d, const char *text)
{
	int root;
	const char *p;

	memset(d, 0, sizeof *d);
	p = j_value(d, text, &root, 0);
	if (!p)
		return fx_fail("JSON: %s", d->err ? d->err : "syntax error");
	if (*j_ws(p) != '\0')
		return fx_fail("JSON: text after the value at offset %ld",
			       (long)(p - text));
	return NULL;
}

static void j_free(struct jdoc *d)
{
	free(d->n);
	memset(d, 0, sizeof *d);
}

static int j_is(const struct jnode *n, const char *s)
{
	return n->toklen == strlen(s) && memcmp(n->tok, s, n->toklen) == 0;
}

static int j_key_is(const struct jnode *n, const char *s)
{
	return n->keylen == strlen(s) && memcmp(n->key, s, n->keylen) == 0;
}

/* Member `key` of object node obj, or -1. */
static int j_get(const struct jdoc *d, int obj, const char *key)
{
	if (obj < 0 || d->n[obj].type != J_OBJ)
		return -1;
	for (int i = d->n[obj].child; i >= 0; i = d->n[i].next)
		if (j_key_is(&d->n[i], key))
			return i;
	return -1;
}

/* The only member of an object, if it is named key. */
static int j_sole(const struct jdoc *d, int obj, const char *key)
{
	if (obj < 0 || d->n[obj].type != J_OBJ || d->n[obj].count != 1)
		return -1;
	return j_get(d, obj, key);
}

/* ---- request bodies -------------------------------------------------- */

static int is_column_name(const char *s, size_t len, int i)
{
	char want[16];
	int n = snprintf(want, sizeof want, "col_%d", i);

	return (size_t)n == len && memcmp(s, want, len) == 0;
}

/*
 * A request value: a JSON number that is pixel / 255.0 for an integer pixel
 * 0..255, as the README says every value is.
 */
static const char *check_pixel(double v)
{
	long k = lround(v * 255.0);

	if (!(v >= 0.0 && v <= 1.0))
		return fx_fail("value %.17g outside [0, 1]", v);
	if (v != (double)k / 255.0)
		return fx_fail("value %.17g is not a pixel / 255.0", v);
	return NULL;
}

static const char *number_into(const struct jnode *n, double *out)
{
	if (n->type != J_NUM)
		return fx_fail("a value is not a number");
	*out = n->num;
	return check_pixel(n->num);
}

/* [[784 numbers], ...] with exactly rows rows. */
static const char *rows_from_lists(const struct jdoc *d, int arr, int rows,
				   double *out)
{
	int r = 0;

	if (arr < 0 || d->n[arr].type != J_ARR)
		return fx_fail("rows: not an array");
	if (d->n[arr].count != rows)
		return fx_fail("%d rows, expected %d", d->n[arr].count, rows);
	for (int row = d->n[arr].child; row >= 0; row = d->n[row].next, r++) {
		int c = 0;

		if (d->n[row].type != J_ARR || d->n[row].count != N_PIXELS)
			return fx_fail("row %d: not an array of %d values", r,
				       N_PIXELS);
		for (int v = d->n[row].child; v >= 0; v = d->n[v].next, c++) {
			const char *err = number_into(&d->n[v],
						      &out[r * N_PIXELS + c]);
			if (err)
				return err;
		}
	}
	return NULL;
}

/* [{"col_0": v, ..., "col_783": v}, ...], columns in order. */
static const char *rows_from_records(const struct jdoc *d, int arr, int rows,
				     double *out)
{
	int r = 0;

	if (arr < 0 || d->n[arr].type != J_ARR || d->n[arr].count != rows)
		return fx_fail("records: not an array of %d objects", rows);
	for (int row = d->n[arr].child; row >= 0; row = d->n[row].next, r++) {
		int c = 0;

		if (d->n[row].type != J_OBJ || d->n[row].count != N_PIXELS)
			return fx_fail("record %d: not an object of %d columns",
				       r, N_PIXELS);
		for (int v = d->n[row].child; v >= 0; v = d->n[v].next, c++) {
			const char *err;

			if (!is_column_name(d->n[v].key, d->n[v].keylen, c))
				return fx_fail("record %d: member %d is not col_%d",
					       r, c, c);
			err = number_into(&d->n[v], &out[r * N_PIXELS + c]);
			if (err)
				return err;
		}
	}
	return NULL;
}

/* {"col_0": [rows values], ..., "col_783": [...]}, columns in order. */
static const char *rows_from_columns(const struct jdoc *d, int obj, int rows,
				     double *out)
{
	int c = 0;

	if (obj < 0 || d->n[obj].type != J_OBJ || d->n[obj].count != N_PIXELS)
		return fx_fail("columns: not an object of %d columns", N_PIXELS);
	for (int col = d->n[obj].child; col >= 0; col = d->n[col].next, c++) {
		int r = 0;

		if (!is_column_name(d->n[col].key, d->n[col].keylen, c))
			return fx_fail("column %d is not named col_%d", c, c);
		if (d->n[col].type != J_ARR || d->n[col].count != rows)
			return fx_fail("col_%d: not an array of %d values", c,
				       rows);
		for (int v = d->n[col].child; v >= 0; v = d->n[v].next, r++) {
			const char *err = number_into(&d->n[v],
						      &out[r * N_PIXELS + c]);
			if (err)
				return err;
		}
	}
	return NULL;
}

/* ["col_0", ..., "col_783"]. */
static const char *check_column_list(const struct jdoc *d, int arr)
{
	int c = 0;

	if (arr < 0 || d->n[arr].type != J_ARR || d->n[arr].count != N_PIXELS)
		return fx_fail("\"columns\" is not an array of %d names",
			       N_PIXELS);
	for (int i = d->n[arr].child; i >= 0; i = d->n[i].next, c++)
		if (d->n[i].type != J_STR ||
		    !is_column_name(d->n[i].tok, d->n[i].toklen, c))
			return fx_fail("\"columns\"[%d] is not \"col_%d\"", c, c);
	return NULL;
}

/*
 * pandas' orient="split": {"columns": [...], "index": [0, 1, ...],
 * "data": [[...]]}, in that order; dataframe_split has no index.
 */
static const char *rows_from_split(const struct jdoc *d, int obj, int rows,
				   int with_index, double *out)
{
	static const char *const keys[] = { "columns", "index", "data" };
	const char *err;
	int k = 0, idx, i = 0;

	if (obj < 0 || d->n[obj].type != J_OBJ ||
	    d->n[obj].count != (with_index ? 3 : 2))
		return fx_fail("split: not an object of %d members",
			       with_index ? 3 : 2);
	for (int m = d->n[obj].child; m >= 0; m = d->n[m].next, k++) {
		if (!with_index && k == 1)
			k++;
		if (!j_key_is(&d->n[m], keys[k]))
			return fx_fail("split: member \"%s\" missing or out of order",
				       keys[k]);
	}
	if ((err = check_column_list(d, j_get(d, obj, "columns"))))
		return err;
	if (with_index) {
		idx = j_get(d, obj, "index");
		if (d->n[idx].type != J_ARR || d->n[idx].count != rows)
			return fx_fail("\"index\" is not an array of %d", rows);
		for (int v = d->n[idx].child; v >= 0; v = d->n[v].next, i++)
			if (d->n[v].type != J_NUM || d->n[v].num != i)
				return fx_fail("\"index\"[%d] is not %d", i, i);
	}
	return rows_from_lists(d, j_get(d, obj, "data"), rows, out);
}

/* pandas' to_csv(index=False): a header col_0..col_783, then the rows. */
static const char *rows_from_csv(const char *text, int rows, double *out)
{
	const char *p = text;
	int r, c;

	for (c = 0; c < N_PIXELS; c++) {
		size_t len = strcspn(p, ",\n");
		if (!is_column_name(p, len, c))
			return fx_fail("CSV header field %d is not col_%d", c, c);
		p += len;
		if (*p != (c == N_PIXELS - 1 ? '\n' : ','))
			return fx_fail("CSV header: %d fields expected", N_PIXELS);
		p++;
	}
	for (r = 0; *p != '\0'; r++) {
		if (r == rows)
			return fx_fail("CSV: more than %d rows", rows);
		for (c = 0; c < N_PIXELS; c++) {
			char *end;
			const char *err;
			double v = strtod(p, &end);

			if (end == p || *end != (c == N_PIXELS - 1 ? '\n' : ','))
				return fx_fail("CSV row %d field %d: not a number"
					       " followed by the right separator",
					       r, c);
			if ((err = check_pixel(v)))
				return err;
			out[r * N_PIXELS + c] = v;
			p = end + 1;
		}
	}
	if (r != rows)
		return fx_fail("CSV: %d rows, expected %d", r, rows);
	return NULL;
}

enum shape { ROWS, RECORDS, COLUMNS, SPLIT, SPLIT_NO_INDEX };

struct request {
	const char *file;
	const char *outer;      /* the only top-level key, or NULL: bare body */
	enum shape shape;
};

/* Reads one request body into out (rows x 784); NULL or an error message. */
static const char *read_request(const struct request *rq, int rows,
				double *out)
{
	char path[256];
	struct jdoc d;
	const char *err = NULL;
	char *text;
	int body;

	snprintf(path, sizeof path, FX "test_data/%s", rq->file);
	if (!(text = fx_slurp(path, NULL)))
		return fx_fail("cannot read %s", path);
	if ((err = j_parse(&d, text))) {
		free(text);
		return err;
	}
	body = rq->outer ? j_sole(&d, 0, rq->outer) : 0;
	if (body < 0) {
		err = fx_fail("the body is not {\"%s\": ...}", rq->outer);
	} else {
		switch (rq->shape) {
		case ROWS: err = rows_from_lists(&d, body, rows, out); break;
		case RECORDS: err = rows_from_records(&d, body, rows, out); break;
		case COLUMNS: err = rows_from_columns(&d, body, rows, out); break;
		case SPLIT: err = rows_from_split(&d, body, rows, 1, out); break;
		case SPLIT_NO_INDEX:
			err = rows_from_split(&d, body, rows, 0, out);
			break;
		}
	}
	j_free(&d);
	free(text);
	return err;
}

static double *new_matrix(int rows, int cols)
{
	return calloc((size_t)rows * (size_t)cols, sizeof(double));
}

/* The CSV, then every JSON file of the set, must hold the same doubles. */
static void check_request_set(const char *csv, const struct request *rq,
			      int n, int rows)
{
	char path[256];
	double *want = new_matrix(rows, N_PIXELS);
	double *got = new_matrix(rows, N_PIXELS);
	char *text;
	const char *err;

	CHECK(want && got);
	snprintf(path, sizeof path, FX "test_data/%s", csv);
	text = fx_slurp(path, NULL);
	CHECKF(text != NULL, "cannot read %s", path);
	if (!want || !got || !text)
		goto out;
	err = rows_from_csv(text, rows, want);
	CHECKF(err == NULL, "%s: %s", csv, err);
	for (int i = 0; i < n; i++) {
		memset(got, 0, (size_t)rows * N_PIXELS * sizeof *got);
		err = read_request(&rq[i], rows, got);
		CHECKF(err == NULL, "%s: %s", rq[i].file, err);
		if (err)
			continue;
		for (int k = 0; k < rows * N_PIXELS; k++)
			if (got[k] != want[k]) {
				CHECKF(0, "%s: row %d col_%d is %.17g, the CSV has %.17g",
				       rq[i].file, k / N_PIXELS, k % N_PIXELS,
				       got[k], want[k]);
				break;
			}
	}
out:
	free(text);
	free(want);
	free(got);
}

static void test_tutorial_requests(void)
{
	static const struct request rq[] = {
		{ "images.json", NULL, SPLIT },
		{ "images_azureml.json", "input_data", SPLIT },
	};

	check_request_set("images.csv", rq, 2, N_IMAGES);
}

static void test_batch200_requests(void)
{
	static const struct request rq[] = {
		{ "batch200_azureml_split.json", "input_data", SPLIT },
		{ "batch200_azureml_list.json", "input_data", ROWS },
		{ "batch200_azureml_columns.json", "input_data", COLUMNS },
		{ "batch200_dataframe_split.json", "dataframe_split", SPLIT_NO_INDEX },
		{ "batch200_dataframe_records.json", "dataframe_records", RECORDS },
		{ "batch200_instances.json", "instances", ROWS },
		{ "batch200_instances_records.json", "instances", RECORDS },
		{ "batch200_inputs.json", "inputs", ROWS },
		{ "batch200_inputs_columns.json", "inputs", COLUMNS },
	};

	check_request_set("batch200.csv", rq, (int)(sizeof rq / sizeof rq[0]),
			  N_BATCH);
}

/* The tutorial's pair is the first test image of label 9, then of label 2:
 * test rows 9 and 2, which are also rows 9 and 2 of the 200-row request. */
static void test_tutorial_images_are_batch_rows(void)
{
	double *two = new_matrix(N_IMAGES, N_PIXELS);
	double *batch = new_matrix(N_BATCH, N_PIXELS);
	char *a = fx_slurp(FX "test_data/images.csv", NULL);
	char *b = fx_slurp(FX "test_data/batch200.csv", NULL);

	CHECK(two && batch && a && b);
	if (two && batch && a && b && !rows_from_csv(a, N_IMAGES, two) &&
	    !rows_from_csv(b, N_BATCH, batch)) {
		CHECK(memcmp(two, batch + 9 * N_PIXELS,
			     N_PIXELS * sizeof(double)) == 0);
		CHECK(memcmp(two + N_PIXELS, batch + 2 * N_PIXELS,
			     N_PIXELS * sizeof(double)) == 0);
	} else {
		CHECK(0);
	}
	free(a);
	free(b);
	free(two);
	free(batch);
}

/* ---- expected outputs ------------------------------------------------ */

/* A TSV of numbers: rows x cols values and the text of each token. */
struct tsv {
	char *text;
	int rows, cols;
	double *v;
	const char **tok;
	size_t *toklen;
};

static void tsv_free(struct tsv *t)
{
	free(t->text);
	free(t->v);
	free(t->tok);
	free(t->toklen);
	memset(t, 0, sizeof *t);
}

/* Reads a file of `rows` lines of `cols` tab-separated finite numbers. */
static const char *tsv_read(struct tsv *t, const char *path, int rows, int cols)
{
	const char *p;
	size_t n = (size_t)rows * (size_t)cols;

	memset(t, 0, sizeof *t);
	if (!(t->text = fx_slurp(path, NULL)))
		return fx_fail("cannot read %s", path);
	t->v = malloc(n * sizeof *t->v);
	t->tok = malloc(n * sizeof *t->tok);
	t->toklen = malloc(n * sizeof *t->toklen);
	if (!t->v || !t->tok || !t->toklen)
		return fx_fail("out of memory");
	p = t->text;
	for (int r = 0; r < rows; r++)
		for (int c = 0; c < cols; c++) {
			char *end;
			size_t k = (size_t)r * (size_t)cols + (size_t)c;

			errno = 0;
			t->v[k] = strtod(p, &end);
			if (end == p || errno || !isfinite(t->v[k]))
				return fx_fail("%s:%d: value %d is not a finite number",
					       path, r + 1, c + 1);
			if (*end != (c == cols - 1 ? '\n' : '\t'))
				return fx_fail("%s:%d: expected %d tab-separated values",
					       path, r + 1, cols);
			t->tok[k] = p;
			t->toklen[k] = (size_t)(end - p);
			p = end + 1;
		}
	if (*p != '\0')
		return fx_fail("%s: more than %d lines", path, rows);
	t->rows = rows;
	t->cols = cols;
	return NULL;
}

/* labels.txt: ten non-empty names, one per line. */
static int read_labels(char labels[N_CLASSES][32])
{
	char *text = fx_slurp(FX "labels.txt", NULL);
	const char *p = text;
	int n = 0;

	if (!text)
		return -1;
	while (*p) {
		size_t len = strcspn(p, "\n");
		if (p[len] != '\n' || len == 0 || len >= 32 || n == N_CLASSES) {
			n = -1;
			break;
		}
		memcpy(labels[n], p, len);
		labels[n++][len] = '\0';
		p += len + 1;
	}
	free(text);
	return n;
}

static void test_labels_txt(void)
{
	char labels[N_CLASSES][32];
	int n = read_labels(labels);

	CHECK_INT(n, N_CLASSES);         /* read_labels refuses empty lines */
	if (n != N_CLASSES)
		return;
	for (int i = 0; i < N_CLASSES; i++)
		for (int j = 0; j < i; j++)
			CHECKF(strcmp(labels[i], labels[j]) != 0,
			       "label %d repeats label %d", i, j);
}

static int argmax(const double *v, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

/*
 * expected/<set>_*: logits, probabilities, argmax and labels agree with
 * one another.  Row k of the set is test label truth[k]; returns how many
 * rows the model gets right, or -1 if the files are unreadable.
 */
static int check_expected(const char *set, int rows, const int *truth)
{
	char path[256], labels[N_CLASSES][32];
	struct tsv logits, probs;
	struct jdoc d = { 0 }, dl = { 0 };
	char *text = NULL, *ltext = NULL, *atext = NULL;
	const char *err, *p;
	int right = -1, row, r;

	if (read_labels(labels) != N_CLASSES) {
		CHECKF(0, "cannot read %d labels from labels.txt", N_CLASSES);
		return -1;
	}
	snprintf(path, sizeof path, FX "expected/%s_logits.tsv", set);
	err = tsv_read(&logits, path, rows, N_CLASSES);
	CHECKF(err == NULL, "%s", err);
	snprintf(path, sizeof path, FX "expected/%s_probabilities.tsv", set);
	err = tsv_read(&probs, path, rows, N_CLASSES);
	CHECKF(err == NULL, "%s", err);
	if (!logits.rows || !probs.rows)
		goto out;

	/* Probabilities are the softmax of the logits. */
	for (r = 0; r < rows; r++) {
		const double *l = logits.v + r * N_CLASSES;
		const double *q = probs.v + r * N_CLASSES;
		double m = l[argmax(l, N_CLASSES)], sum = 0, qsum = 0, worst = 0;

		for (int j = 0; j < N_CLASSES; j++)
			sum += exp(l[j] - m);
		for (int j = 0; j < N_CLASSES; j++) {
			double diff = fabs(exp(l[j] - m) / sum - q[j]);
			worst = diff > worst ? diff : worst;
			qsum += q[j];
			CHECKF(q[j] >= 0 && q[j] <= 1, "%s row %d: probability %g",
			       set, r, q[j]);
		}
		CHECKF(fabs(qsum - 1) <= 1e-5, "%s row %d: probabilities sum to %.9g",
		       set, r, qsum);
		CHECKF(worst <= 1e-6, "%s row %d: softmax(logits) is %g away",
		       set, r, worst);
		CHECKF(argmax(q, N_CLASSES) == argmax(l, N_CLASSES),
		       "%s row %d: probabilities and logits disagree", set, r);
	}

	/* _argmax.txt: the index of the largest logit, one per line. */
	snprintf(path, sizeof path, FX "expected/%s_argmax.txt", set);
	atext = fx_slurp(path, NULL);
	CHECKF(atext != NULL, "cannot read %s", path);
	p = atext ? atext : "";
	right = 0;
	for (r = 0; atext && r < rows; r++) {
		char *end;
		long k = strtol(p, &end, 10);

		if (end == p || *end != '\n') {
			CHECKF(0, "%s line %d: not an integer", path, r + 1);
			break;
		}
		CHECKF(k == argmax(logits.v + r * N_CLASSES, N_CLASSES),
		       "%s row %d: argmax %ld, logits say %d", set, r, k,
		       argmax(logits.v + r * N_CLASSES, N_CLASSES));
		right += truth && k == truth[r];
		p = end + 1;
	}
	CHECKF(atext && *p == '\0', "%s: not exactly %d lines", path, rows);

	/* _labels.json: the label of each row's argmax. */
	snprintf(path, sizeof path, FX "expected/%s_labels.json", set);
	ltext = fx_slurp(path, NULL);
	CHECKF(ltext != NULL, "cannot read %s", path);
	if (ltext && !(err = j_parse(&dl, ltext))) {
		CHECKF(dl.n[0].type == J_ARR && dl.n[0].count == rows,
		       "%s: not an array of %d labels", path, rows);
		r = 0;
		for (int i = dl.n[0].child; i >= 0; i = dl.n[i].next, r++) {
			int k = argmax(logits.v + r * N_CLASSES, N_CLASSES);
			CHECKF(dl.n[i].type == J_STR && j_is(&dl.n[i], labels[k]),
			       "%s row %d: label is not \"%s\"", set, r, labels[k]);
		}
	} else if (ltext) {
		CHECKF(0, "%s: %s", path, err);
	}

	/* _logits.json: [{"0": v, ..., "9": v}, ...] with the TSV's tokens. */
	snprintf(path, sizeof path, FX "expected/%s_logits.json", set);
	text = fx_slurp(path, NULL);
	CHECKF(text != NULL, "cannot read %s", path);
	if (!text)
		goto out;
	err = j_parse(&d, text);
	CHECKF(err == NULL, "%s: %s", path, err);
	if (err)
		goto out;
	CHECKF(d.n[0].type == J_ARR && d.n[0].count == rows,
	       "%s: not an array of %d objects", path, rows);
	r = 0;
	for (row = d.n[0].child; row >= 0; row = d.n[row].next, r++) {
		int j = 0;

		if (d.n[row].type != J_OBJ || d.n[row].count != N_CLASSES) {
			CHECKF(0, "%s row %d: not an object of 10 logits", path, r);
			break;
		}
		for (int v = d.n[row].child; v >= 0; v = d.n[v].next, j++) {
			size_t k = (size_t)r * N_CLASSES + (size_t)j;
			char key[12];

			snprintf(key, sizeof key, "%d", j);
			CHECKF(j_key_is(&d.n[v], key), "%s row %d: key %d is not \"%d\"",
			       path, r, j, j);
			CHECKF(d.n[v].type == J_NUM && d.n[v].toklen == logits.toklen[k] &&
			       memcmp(d.n[v].tok, logits.tok[k], d.n[v].toklen) == 0,
			       "%s row %d key %d: \"%.*s\" is not the TSV's \"%.*s\"",
			       path, r, j, (int)d.n[v].toklen, d.n[v].tok,
			       (int)logits.toklen[k], logits.tok[k]);
		}
	}
out:
	j_free(&d);
	j_free(&dl);
	free(text);
	free(ltext);
	free(atext);
	tsv_free(&logits);
	tsv_free(&probs);
	return right;
}

static void test_expected_images(void)
{
	/* The tutorial's pair: the first test Ankle Boot, then Pullover. */
	static const int truth[N_IMAGES] = { 9, 2 };

	int right = check_expected("images", N_IMAGES, truth);

	CHECK_INT(right, N_IMAGES);
}

static void test_expected_batch200(void)
{
	int truth[N_BATCH];

	int right;

	for (int k = 0; k < N_BATCH; k++)
		truth[k] = k % N_CLASSES;        /* test row k is label k % 10 */
	/* The tutorial model scores about 85% on the whole test set. */
	right = check_expected("batch200", N_BATCH, truth);
	CHECKF(right >= N_BATCH * 3 / 4, "%d of %d right", right, N_BATCH);
}

static void test_model2_logits(void)
{
	struct tsv t;
	const char *err = tsv_read(&t, FX "expected/model2_batch200_logits.tsv",
				   N_BATCH, N_CLASSES);
	int right = 0;

	CHECKF(err == NULL, "%s", err);
	for (int r = 0; !err && r < N_BATCH; r++) {
		right += argmax(t.v + r * N_CLASSES, N_CLASSES) == r % N_CLASSES;
		/* Printed after a cast to float32: each value is a float. */
		for (int j = 0; j < N_CLASSES; j++) {
			double v = t.v[r * N_CLASSES + j];
			CHECKF((double)(float)v == v, "row %d: %.17g is not a float32",
			       r, v);
		}
	}
	CHECKF(right >= N_BATCH * 3 / 4, "%d of %d right", right, N_BATCH);
	tsv_free(&t);
}

/* ---- metrics.json ---------------------------------------------------- */

static double j_number_at(const struct jdoc *d, int obj, const char *key)
{
	int i = j_get(d, obj, key);

	return i >= 0 && d->n[i].type == J_NUM ? d->n[i].num : NAN;
}

static void test_metrics(void)
{
	char *text = fx_slurp(FX "metrics.json", NULL);
	struct jdoc d;
	const char *err;
	int tutorial, model2, arch;

	CHECK(text != NULL);
	if (!text)
		return;
	err = j_parse(&d, text);
	CHECKF(err == NULL, "%s", err);
	if (!err) {
		tutorial = j_get(&d, 0, "tutorial");
		model2 = j_get(&d, 0, "model2");
		CHECK(tutorial >= 0 && model2 >= 0);
		CHECKF(j_number_at(&d, tutorial, "test_accuracy") >= 0.80 &&
		       j_number_at(&d, tutorial, "test_accuracy") <= 1.0,
		       "tutorial test accuracy %g",
		       j_number_at(&d, tutorial, "test_accuracy"));
		CHECK(j_number_at(&d, tutorial, "validation_accuracy") >= 0.80);
		CHECK(j_number_at(&d, tutorial, "epochs") == 5);
		CHECK(j_number_at(&d, tutorial, "batch_size") == 64);
		CHECK(j_number_at(&d, tutorial, "learning_rate") == 0.1);
		CHECK(j_number_at(&d, model2, "test_accuracy") > 0.5 &&
		      j_number_at(&d, model2, "test_accuracy") <= 1.0);
		arch = j_get(&d, model2, "arch");
		CHECK(arch >= 0 && j_is(&d.n[arch], "linear,tanh,linear,gelu,linear"));
	}
	j_free(&d);
	free(text);
}

/* ---- MLmodel (YAML) -------------------------------------------------- */

/*
 * The value at a dotted path of block mappings as PyYAML writes them
 * (2-space indents), unquoted: a single-quoted scalar may span lines, each
 * line break folding to one space, and '' stands for '.  A key that holds
 * a mapping has the value "".  Caller frees; NULL if absent.
 */
static char *yaml_get(const char *text, const char *path)
{
	char want[8][64], have[8][64];
	int nwant = 0;
	const char *p = text;

	for (const char *s = path; nwant < 8;) {
		size_t len = strcspn(s, ".");
		snprintf(want[nwant++], sizeof want[0], "%.*s", (int)len, s);
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	while (*p) {
		const char *key = p, *colon, *eol = p + strcspn(p, "\n");
		char *value;
		size_t n = 0, indent;
		int level, match;

		while (*key == ' ')
			key++;
		indent = (size_t)(key - p);
		colon = memchr(key, ':', (size_t)(eol - key));
		if (key == eol || *key == '#' || *key == '-' || !colon ||
		    indent % 2 || indent / 2 >= 8) {
			p = *eol ? eol + 1 : eol;
			continue;
		}
		level = (int)(indent / 2);
		snprintf(have[level], sizeof have[0], "%.*s", (int)(colon - key),
			 key);
		match = level == nwant - 1;
		for (int i = 0; match && i <= level; i++)
			match = strcmp(have[i], want[i]) == 0;
		p = colon + 1;
		while (*p == ' ')
			p++;
		if (!(value = malloc(strlen(p) + 1)))
			return NULL;
		if (*p == '\'') {
			for (p++;; p++) {
				if (*p == '\0') {
					free(value);
					return NULL;
				}
				if (*p == '\'' && p[1] != '\'')
					break;
				if (*p == '\'') {
					value[n++] = *p++;
				} else if (*p == '\n') {
					value[n++] = ' ';
					while (p[1] == ' ')
						p++;
				} else {
					value[n++] = *p;
				}
			}
			eol = p + 1 + strcspn(p + 1, "\n");
		} else {
			memcpy(value, p, (size_t)(eol - p));
			n = (size_t)(eol - p);
		}
		value[n] = '\0';
		if (match)
			return value;
		free(value);
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

static void check_yaml(const char *text, const char *path, const char *want)
{
	char *got = yaml_get(text, path);

	CHECKF(got && strcmp(got, want) == 0, "%s is \"%s\", expected \"%s\"",
	       path, got ? got : "(absent)", want);
	free(got);
}

/* The 784 ColSpecs {"type": "double", "name": "col_<i>", "required": true}. */
static const char *check_colspecs(const char *json)
{
	struct jdoc d;
	const char *err = j_parse(&d, json);
	int c = 0;

	if (!err && (d.n[0].type != J_ARR || d.n[0].count != N_PIXELS))
		err = fx_fail("not an array of %d column specs", N_PIXELS);
	for (int i = err ? -1 : d.n[0].child; i >= 0; i = d.n[i].next, c++) {
		int t = j_get(&d, i, "type"), n = j_get(&d, i, "name");
		int r = j_get(&d, i, "required");

		if (d.n[i].count != 3 || t < 0 || n < 0 || r < 0 ||
		    !j_is(&d.n[t], "double") || d.n[n].type != J_STR ||
		    !is_column_name(d.n[n].tok, d.n[n].toklen, c) ||
		    d.n[r].type != J_TRUE) {
			err = fx_fail("column spec %d is not a required double col_%d",
				      c, c);
			break;
		}
	}
	j_free(&d);
	return err;
}

/* One TensorSpec of the given dtype and 2-d shape [d0, d1]. */
static const char *check_tensorspec(const char *json, const char *dtype,
				    int d0, int d1)
{
	struct jdoc d;
	const char *err = j_parse(&d, json);
	int spec, ty, dt, shape, a, b;

	if (err)
		return err;
	spec = d.n[0].type == J_ARR && d.n[0].count == 1 ? d.n[0].child : -1;
	ty = j_get(&d, spec, "type");
	spec = j_get(&d, spec, "tensor-spec");
	dt = j_get(&d, spec, "dtype");
	shape = j_get(&d, spec, "shape");
	a = shape >= 0 && d.n[shape].count == 2 ? d.n[shape].child : -1;
	b = a >= 0 ? d.n[a].next : -1;
	if (ty < 0 || !j_is(&d.n[ty], "tensor") || dt < 0 ||
	    !j_is(&d.n[dt], dtype) || b < 0 || d.n[a].num != d0 ||
	    d.n[b].num != d1)
		err = fx_fail("not one %s tensor of shape [%d, %d]", dtype, d0, d1);
	j_free(&d);
	return err;
}

static void check_signature(const char *mlmodel, const char *name, int colspec,
			    const char *in_dtype, const char *out_dtype,
			    int out_cols)
{
	char *in = yaml_get(mlmodel, "signature.inputs");
	char *out = yaml_get(mlmodel, "signature.outputs");
	const char *err;

	CHECKF(in && out, "%s: signature inputs or outputs missing", name);
	if (in) {
		err = colspec ? check_colspecs(in)
			      : check_tensorspec(in, in_dtype, -1, N_PIXELS);
		CHECKF(err == NULL, "%s signature.inputs: %s", name, err);
	}
	if (out) {
		err = check_tensorspec(out, out_dtype, -1, out_cols);
		CHECKF(err == NULL, "%s signature.outputs: %s", name, err);
	}
	check_yaml(mlmodel, "signature.params", "null");
	free(in);
	free(out);
}

static int is_uuid_hex(const char *s)
{
	int n = 0;

	while (s[n] && isxdigit((unsigned char)s[n]) && !isupper((unsigned char)s[n]))
		n++;
	return n == 32 && s[n] == '\0';
}

/* The common parts of an MLflow 2.x MLmodel and its folder. */
static void check_mlflow_dir(const char *dir, const char *mlmodel)
{
	/* Each environment file, and a line it must have. */
	static const char *const files[][2] = {
		{ "conda.yaml", "  - mlflow==" },
		{ "python_env.yaml", "- -r requirements.txt\n" },
		{ "requirements.txt", "mlflow==" },
	};
	char path[256], *uuid = yaml_get(mlmodel, "model_uuid");
	char *mlflow = yaml_get(mlmodel, "mlflow_version");
	char *created = yaml_get(mlmodel, "utc_time_created");

	CHECKF(uuid && is_uuid_hex(uuid), "%s: model_uuid \"%s\"", dir,
	       uuid ? uuid : "(absent)");
	CHECKF(mlflow && strncmp(mlflow, "2.", 2) == 0, "%s: mlflow_version", dir);
	CHECKF(created && strlen(created) == 26, "%s: utc_time_created", dir);
	check_yaml(mlmodel, "flavors.python_function.env.conda", "conda.yaml");
	check_yaml(mlmodel, "flavors.python_function.env.virtualenv",
		   "python_env.yaml");
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *text;
		snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
		text = fx_slurp(path, NULL);
		CHECKF(text && strstr(text, files[i][1]), "%s lacks \"%s\"", path,
		       files[i][1]);
		free(text);
	}
	free(uuid);
	free(mlflow);
	free(created);
}

/* A pytorch-flavor folder as mlflow.pytorch.save_model writes it. */
static void check_pytorch_dir(const char *dir, int colspec)
{
	char path[256], *mlmodel, *info, *code;
	size_t len;

	snprintf(path, sizeof path, "%s/MLmodel", dir);
	mlmodel = fx_slurp(path, NULL);
	CHECKF(mlmodel != NULL, "cannot read %s", path);
	if (!mlmodel)
		return;
	check_yaml(mlmodel, "flavors.python_function.loader_module",
		   "mlflow.pytorch");
	check_yaml(mlmodel, "flavors.python_function.pickle_module_name",
		   "mlflow.pytorch.pickle_module");
	check_yaml(mlmodel, "flavors.python_function.data", "data");
	check_yaml(mlmodel, "flavors.python_function.code", "code");
	check_yaml(mlmodel, "flavors.pytorch.model_data", "data");
	check_yaml(mlmodel, "flavors.pytorch.code", "code");
	char *version = yaml_get(mlmodel, "flavors.pytorch.pytorch_version");
	CHECKF(version && isdigit((unsigned char)version[0]), "%s: pytorch_version",
	       dir);
	free(version);
	check_signature(mlmodel, dir, colspec, "float32", "float32", N_CLASSES);
	check_mlflow_dir(dir, mlmodel);
	free(mlmodel);

	snprintf(path, sizeof path, "%s/data/pickle_module_info.txt", dir);
	info = fx_slurp(path, &len);
	CHECKF(info && len == 28 && strcmp(info, "mlflow.pytorch.pickle_module") == 0,
	       "%s is not \"mlflow.pytorch.pickle_module\" without a newline", path);
	free(info);
	snprintf(path, sizeof path, "%s/code/neural_network.py", dir);
	code = fx_slurp(path, NULL);
	CHECKF(code && strstr(code, "class NeuralNetwork("), "%s", path);
	free(code);
}

static void test_mlmodel_pytorch(void)
{
	check_pytorch_dir(FX "model", 1);
}

static void test_pyfunc_model(void)
{
	char *mlmodel = fx_slurp(FX "pyfunc_model/MLmodel", NULL);
	char *flavor, *pkl, *wrapper, *common;
	size_t len;

	CHECK(mlmodel != NULL);
	if (!mlmodel)
		return;
	check_yaml(mlmodel, "flavors.python_function.loader_module",
		   "mlflow.pyfunc.model");
	check_yaml(mlmodel, "flavors.python_function.python_model",
		   "python_model.pkl");
	check_yaml(mlmodel, "flavors.python_function.code", "code");
	check_yaml(mlmodel, "flavors.python_function.artifacts.pytorch_model.path",
		   "artifacts/pytorch_model");
	flavor = yaml_get(mlmodel, "flavors.pytorch");
	CHECKF(flavor == NULL, "the wrapper has a pytorch flavor");
	free(flavor);
	check_signature(mlmodel, "pyfunc_model", 1, NULL, "int32", 1);
	check_mlflow_dir(FX "pyfunc_model", mlmodel);
	free(mlmodel);

	/* cloudpickle, protocol 5, naming the wrapper class by reference. */
	pkl = fx_slurp(FX "pyfunc_model/python_model.pkl", &len);
	CHECK(pkl && len > 2 && (unsigned char)pkl[0] == 0x80 && pkl[1] == 5);
	CHECK(pkl && fx_contains(pkl, len, "model_wrapper", 13) &&
	      fx_contains(pkl, len, "ModelWrapper", 12));
	free(pkl);
	wrapper = fx_slurp(FX "pyfunc_model/code/model_wrapper.py", NULL);
	common = fx_slurp(FX "pyfunc_model/code/common.py", NULL);
	CHECK(wrapper && strstr(wrapper, "class ModelWrapper(") &&
	      strstr(wrapper, "'Ankle Boot'"));
	CHECK(common && strstr(common, "ARTIFACT_NAME = \"pytorch_model\""));
	free(wrapper);
	free(common);

	check_pytorch_dir(FX "pyfunc_model/artifacts/pytorch_model", 0);
}

/* ---- .pth files ------------------------------------------------------ */

/* A torch.save zip whose pickle does or does not contain each marker. */
static void check_pth(const char *path, const char *has, const char *has2,
		      const char *lacks)
{
	size_t len;
	char *data = fx_slurp(path, &len);

	CHECKF(data != NULL, "cannot read %s", path);
	if (!data)
		return;
	CHECKF(len > 4 && memcmp(data, "PK\3\4", 4) == 0,
	       "%s does not start with PK\\3\\4", path);
	/* torch.save stores entries uncompressed: the pickle is readable. */
	CHECKF(fx_contains(data, len, has, strlen(has)), "%s lacks \"%s\"",
	       path, has);
	CHECKF(!has2 || fx_contains(data, len, has2, strlen(has2)),
	       "%s lacks \"%s\"", path, has2);
	CHECKF(!lacks || !fx_contains(data, len, lacks, strlen(lacks)),
	       "%s has \"%s\"", path, lacks);
	free(data);
}

static void test_pth_files(void)
{
	size_t a_len, b_len;
	char *a, *b;

	/* The class by reference: GLOBAL 'neural_network NeuralNetwork'. */
	check_pth(FX "model/data/model.pth", "cneural_network\nNeuralNetwork\n",
		  "FloatStorage", "_make_skeleton_class");
	check_pth(FX "model_state_dict.pth", "FloatStorage", "sequence.1.weight",
		  "NeuralNetwork");
	/* Model 2's class by value, weights in float64. */
	check_pth(FX "model2_f64.pth", "_make_skeleton_class", "DoubleStorage",
		  "FloatStorage");
	check_pth(FX "model2_f64_state_dict.pth", "DoubleStorage", "6.weight",
		  "_make_skeleton_class");

	/* Endpoint 2 wraps the very same model. */
	a = fx_slurp(FX "model/data/model.pth", &a_len);
	b = fx_slurp(FX "pyfunc_model/artifacts/pytorch_model/data/model.pth",
		     &b_len);
	CHECK(a && b && a_len == b_len && memcmp(a, b, a_len) == 0);
	free(a);
	free(b);
}

/* ---- floats.tsv ------------------------------------------------------ */

/*
 * Python's repr() of a double: the shortest digits that read back as x,
 * fixed notation for decimal exponents -4..15 (always with a ".d" part),
 * otherwise d.ddde[+-]XX with at least two exponent digits.
 * out must hold at least 32 bytes.
 */
static void py_repr(double x, char *out, size_t size)
{
	char buf[40], digits[20];
	int prec, exp10, nd = 0, n = 0;
	const char *p;

	if (x == 0) {
		snprintf(out, size, "%s", signbit(x) ? "-0.0" : "0.0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*e", prec - 1, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	p = buf;
	if (*p == '-')
		out[n++] = *p++;
	for (; *p != 'e'; p++)
		if (isdigit((unsigned char)*p))
			digits[nd++] = *p;
	exp10 = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (exp10 < -4 || exp10 >= 16) {
		out[n++] = digits[0];
		if (nd > 1) {
			out[n++] = '.';
			memcpy(out + n, digits + 1, (size_t)nd - 1);
			n += nd - 1;
		}
		snprintf(out + n, size - (size_t)n, "e%c%02d",
			 exp10 < 0 ? '-' : '+', abs(exp10));
		return;
	}
	if (exp10 < 0) {                 /* 0.000ddd */
		out[n++] = '0';
		out[n++] = '.';
		for (int i = -1; i > exp10; i--)
			out[n++] = '0';
		for (int i = 0; i < nd; i++)
			out[n++] = digits[i];
	} else {                         /* ddd.ddd, at least one digit after */
		for (int i = 0; i <= exp10; i++)
			out[n++] = i < nd ? digits[i] : '0';
		out[n++] = '.';
		for (int i = exp10 + 1; i < nd; i++)
			out[n++] = digits[i];
		if (nd <= exp10 + 1)
			out[n++] = '0';
	}
	out[n] = '\0';
}

static void test_py_repr(void)
{
	/* A few values whose repr is known, to trust py_repr below. */
	static const struct { double x; const char *text; } cases[] = {
		{ 0.0, "0.0" }, { 1.0, "1.0" }, { -2.5, "-2.5" }, { 0.1, "0.1" },
		{ 1e-4, "0.0001" }, { 1e-5, "1e-05" }, { 1e16, "1e+16" },
		{ 1e15, "1000000000000000.0" }, { 123.456, "123.456" },
		{ 0.5, "0.5" }, { 1.5e300, "1.5e+300" }, { 0.012, "0.012" },
		{ 16777216.0, "16777216.0" }, { 5e-324, "5e-324" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		py_repr(cases[i].x, buf, sizeof buf);
		CHECK_STR(buf, cases[i].text);
	}
}

static void test_floats_tsv(void)
{
	static const uint32_t edges[] = { 0x00000000, 0x80000000, 0x00000001,
					  0x007fffff, 0x00800000, 0x7f7fffff,
					  0x3f800000, 0x3dcccccd, 0x3eaaaaab,
					  0x4b800000 };
	int seen[sizeof edges / sizeof edges[0]] = { 0 };
	char *text = fx_slurp(FX "floats.tsv", NULL);
	const char *p = text;
	int lines = 0, bad = 0;

	CHECK(text != NULL && text[0] == '#');
	if (!text || text[0] != '#') {
		free(text);
		return;
	}
	p += strcspn(p, "\n") + 1;
	for (; *p && bad < 5; lines++) {
		const char *eol = p + strcspn(p, "\n");
		char hex[9], *end, repr[64];
		uint32_t bits, back;
		float f, g;
		double d, fd;
		int ok = 1;

		for (int i = 0; i < 8; i++)
			ok &= isxdigit((unsigned char)p[i]) != 0;
		if (!ok || p[8] != '\t' || *eol != '\n') {
			CHECKF(0, "floats.tsv line %d: not \"8 hex digits, tab, text\"",
			       lines + 2);
			bad++;
			p = *eol ? eol + 1 : eol;
			continue;
		}
		memcpy(hex, p, 8);
		hex[8] = '\0';
		bits = (uint32_t)strtoul(hex, NULL, 16);
		memcpy(&f, &bits, sizeof f);
		fd = (double)f;
		for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
			seen[i] |= bits == edges[i];

		/* The text is the float32's value exactly, read as a double... */
		errno = 0;
		d = strtod(p + 9, &end);
		ok = isfinite(f) && end == eol && errno == 0 &&
		     memcmp(&d, &fd, sizeof d) == 0;
		/* ...reads back as the same float32... */
		g = strtof(p + 9, &end);
		memcpy(&back, &g, sizeof back);
		ok &= end == eol && back == bits;
		/* ...and is what Python prints for it. */
		py_repr(fd, repr, sizeof repr);
		ok &= (size_t)(eol - p - 9) == strlen(repr) &&
		      memcmp(p + 9, repr, strlen(repr)) == 0;
		if (!ok) {
			CHECKF(0, "floats.tsv line %d: %08x and \"%.*s\" disagree"
			       " (repr %s)", lines + 2, (unsigned)bits,
			       (int)(eol - p - 9), p + 9, repr);
			bad++;
		}
		p = eol + 1;
	}
	CHECKF(lines >= 10000, "only %d values", lines);
	for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
		CHECKF(seen[i], "edge case %08x missing", (unsigned)edges[i]);
	free(text);
}

int main(void)
{
	RUN(test_labels_txt);
	RUN(test_tutorial_requests);
	RUN(test_batch200_requests);
	RUN(test_tutorial_images_are_batch_rows);
	RUN(test_expected_images);
	RUN(test_expected_batch200);
	RUN(test_model2_logits);
	RUN(test_metrics);
	RUN(test_mlmodel_pytorch);
	RUN(test_pyfunc_model);
	RUN(test_pth_files);
	RUN(test_py_repr);
	RUN(test_floats_tsv);
	return unit_done();
}
