/*
 * req_csv.c - CSV request bodies (a header row, then rows of numbers) to the
 * float matrix of req.h; the header's names are mapped onto the model's
 * columns as JSON names are (req.c).
 */
#include "model/req_int.h"
#include "model/num.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct csv {
	const char *b;
	size_t len, i;
	size_t line;         /* 1-based line of the record being read */
};

/*
 * Read one field into [*fs, *fe): unquoted text in place, or the inside of
 * a quoted field (*quoted = 1; 2 when it holds doubled quotes).  Returns 1
 * when the record goes on, 0 at its end (CRLF, LF or the end of the body),
 * -1 on a bad quote.
 */
static int csv_field(struct csv *p, const char **fs, const char **fe, int *quoted)
{
	const char *b = p->b;
	size_t i = p->i;

	*quoted = 0;
	if (i < p->len && b[i] == '"') {
		size_t j = i + 1;
		*quoted = 1;
		for (;;) {
			const char *q = memchr(b + j, '"', p->len - j);
			if (!q)
				return -1;
			j = (size_t)(q - b);
			if (j + 1 < p->len && b[j + 1] == '"') {
				*quoted = 2;
				j += 2;
				continue;
			}
			break;
		}
		for (const char *n = b + i; n < b + j; n++)
			p->line += *n == '\n';
		*fs = b + i + 1;
		*fe = b + j;
		i = j + 1;
	} else {
		size_t j = i;
		while (j < p->len && b[j] != ',' && b[j] != '\n' && b[j] != '\r')
			j++;
		*fs = b + i;
		*fe = b + j;
		i = j;
	}
	if (i < p->len && b[i] == ',') {
		p->i = i + 1;
		return 1;
	}
	if (i < p->len && b[i] == '\r')
		i++;
	if (i < p->len && b[i] == '\n')
		i++;
	else if (i < p->len)
		return -1;   /* text after a closing quote, or a lone CR */
	p->i = i;
	return 0;
}

/* Skip empty lines, as pandas does; true when a record follows. */
static int csv_next_record(struct csv *p)
{
	while (p->i < p->len && (p->b[p->i] == '\n' || p->b[p->i] == '\r')) {
		p->line += p->b[p->i] == '\n';
		p->i++;
	}
	return p->i < p->len;
}

/* The header: column names onto the model's columns. */
static int csv_header(struct req_walk *w, struct csv *p, uint32_t *nfields)
{
	struct req_ctx *c = w->c;
	const struct req_schema *s = w->s;
	char buf[REQ_NAME_MAX_BYTES];
	uint32_t n = 0;
	int more = 1;

	c->cols_schema = NULL;   /* the header's mapping replaces the cached list's */
	c->map_identity = 0;
	if (req_reserve(&c->seen, &c->seen_cap, s->width, 1) < 0)
		return req_fail(w->e, REQ_E_NOMEM, "out of memory");
	memset(c->seen, 0, s->width);
	if (!csv_next_record(p))
		return req_fail(w->e, REQ_E_SHAPE, "the CSV body is empty; expected a header row and data rows");
	while (more) {
		const char *fs, *fe;
		int quoted;
		more = csv_field(p, &fs, &fe, &quoted);
		if (more < 0)
			return req_fail(w->e, REQ_E_JSON, "CSV line %zu: unterminated or misplaced quote", p->line);
		if (n >= BLOB_MAX_COLUMNS)
			return req_fail(w->e, REQ_E_LIMIT, "more than %u columns", BLOB_MAX_COLUMNS);
		size_t len = (size_t)(fe - fs), bad = req_utf8_bad(fs, len);
		if (bad < len)
			return req_fail_utf8(w->e, p->b, p->len, (size_t)(fs - p->b) + bad);
		if (quoted == 2) {   /* "" inside quotes is one " */
			size_t o = 0;
			for (const char *q = fs; q < fe && o < sizeof buf - 1; q++) {
				buf[o++] = *q;
				q += *q == '"';
			}
			fs = buf;
			len = o;
		}
		if (req_reserve(&c->map, &c->map_cap, n + 1, sizeof *c->map) < 0)
			return req_fail(w->e, REQ_E_NOMEM, "out of memory");
		int k = s->ncolumns ? req_schema_find(s, fs, len) : (n < s->width ? (int)n : -1);
		if (k >= 0 && c->seen[k])
			return req_fail(w->e, REQ_E_COLUMNS, "column %s is given twice", s->columns[k]);
		if (k >= 0)
			c->seen[k] = 1;
		c->map[n++] = k;
	}
	p->line++;
	if (!s->ncolumns && n != s->width)
		return req_fail(w->e, REQ_E_COLUMNS, "%u columns given; the model has no column names "
			     "and reads exactly %u values per row, in order", n, s->width);
	w->ncols = n;
	w->named = 1;
	*nfields = n;
	return req_check_missing(w, SIZE_MAX);
}

static int csv_value(struct req_walk *w, struct csv *p, size_t row, uint32_t j,
		     const char *fs, const char *fe, float *out)
{
	const struct req_schema *s = w->s;
	const char *name = s->columns ? s->columns[w->c->map[j]] : "";
	char col[32];
	double d;

	if (!s->columns) {
		snprintf(col, sizeof col, "%d", w->c->map[j]);
		name = col;
	}
	enum num_status st = num_parse(fs, fe, NUM_CSV, &d);
	float f = (float)d;
	if (st == NUM_OK && !isinf(f)) {
		*out = f;
		return 0;
	}
	size_t bad = req_utf8_bad(fs, (size_t)(fe - fs));
	if (bad < (size_t)(fe - fs))
		return req_fail_utf8(w->e, p->b, p->len, (size_t)(fs - p->b) + bad);
	char vb[JSON_ECHO_SIZE];
	if (fs == fe)
		return req_fail(w->e, REQ_E_TYPE, "row %zu (line %zu), column %s: empty value", row, p->line, name);
	return req_fail(w->e, REQ_E_TYPE, "row %zu (line %zu), column %s: '%s' is %s", row, p->line, name,
		     json_echo(fs, (size_t)(fe - fs), vb, sizeof vb),
		     st == NUM_ENONFINITE ? "not finite" :
		     st == NUM_OK || st == NUM_ERANGE ? "outside float32's range" : "not a number");
}

int req_decode_csv(struct req_ctx *c, const struct req_schema *s, const char *body,
		   size_t len, struct req_result *r, struct req_error *e)
{
	struct req_walk w = { c, s, NULL, NULL, e, 0, 0, 0 };
	struct csv p = { body, len, 0, 1 };
	uint32_t nfields = 0;
	size_t rows = 0, width = s->width, check = REQ_DEADLINE_EVERY;

	memset(r, 0, sizeof *r);
	if (req_start(c, len, e) < 0)
		return -1;
	if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0)
		p.i = 3;   /* a UTF-8 byte-order mark, as Excel writes */
	if (csv_header(&w, &p, &nfields) < 0)
		return -1;
	while (csv_next_record(&p)) {
		if (p.i >= check) {
			if (req_deadline(c, e) < 0)
				return -1;
			check = p.i + REQ_DEADLINE_EVERY;
		}
		if (rows >= c->lim.max_rows)
			return req_fail(e, REQ_E_LIMIT, "more than %zu rows; the limit is %zu", rows, c->lim.max_rows);
		if (rows + 1 > c->lim.max_values / width)
			return req_fail(e, REQ_E_LIMIT, "more than %zu values; the limit is %zu",
				     rows * width, c->lim.max_values);
		if (req_reserve(&c->x, &c->x_cap, (rows + 1) * width, sizeof *c->x) < 0)
			return req_fail(e, REQ_E_NOMEM, "out of memory for %zu rows", rows + 1);
		float *dst = c->x + rows * width;
		uint32_t j = 0;
		int more = 1;
		size_t line = p.line;
		while (more) {
			const char *fs, *fe;
			int quoted;
			size_t bad;
			more = csv_field(&p, &fs, &fe, &quoted);
			if (more < 0)
				return req_fail(e, REQ_E_JSON, "CSV line %zu: unterminated or misplaced quote", line);
			if (j >= nfields)
				return req_fail(e, REQ_E_SHAPE, "CSV line %zu has more fields than the header's %u", line, nfields);
			if (c->map[j] >= 0) {
				p.line = line;
				if (csv_value(&w, &p, rows, j, fs, fe, &dst[c->map[j]]) < 0)
					return -1;
			} else if ((bad = req_utf8_bad(fs, (size_t)(fe - fs))) < (size_t)(fe - fs)) {
				/* A column the model ignores is read no further, but
				 * the body is UTF-8 throughout or it is refused. */
				return req_fail_utf8(e, body, len, (size_t)(fs - body) + bad);
			}
			j++;
		}
		p.line = line + 1;
		if (j != nfields)
			return req_fail(e, REQ_E_SHAPE, "CSV line %zu has %u fields; the header has %u", line, j, nfields);
		rows++;
	}
	if (rows == 0)
		return req_fail(e, REQ_E_SHAPE, "the request has no rows");
	r->x = c->x;
	r->rows = rows;
	r->key = REQ_KEY_CSV;
	r->shape = REQ_SHAPE_CSV;
	return 0;
}
