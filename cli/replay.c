/*
 * replay.c - collected lines, answers and their comparison (replay.h).
 */
#include "cli/replay.h"
#include "model/err.h"
#include "model/num.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON text to tokens ---- */

/* Tokenize js[0, len) into *tok (grown as needed; capacity *cap) after
 * the checks every untrusted text gets (depth, then json_validate): the
 * token count, or -1 with err. */
static int tokenize(const char *js, size_t len, jsmntok_t **tok, size_t *cap, char *err, size_t errlen)
{
	jsmn_parser p;
	size_t bad;
	const char *why;

	if (!json_depth_ok(js, len))
		return err_set(err, errlen, "not JSON: nested deeper than %d", JSON_MAX_DEPTH);
	jsmn_init(&p);
	int n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0)
		return err_set(err, errlen, "not JSON");
	if ((size_t)n > *cap) {
		jsmntok_t *t = realloc(*tok, (size_t)n * sizeof *t);
		if (!t)
			return err_set(err, errlen, "out of memory");
		*tok = t;
		*cap = (size_t)n;
	}
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, *tok, (unsigned)*cap);
	if (n <= 0 || json_validate(js, len, *tok, n, &bad, &why) < 0)
		return err_set(err, errlen, "not JSON%s%s", n > 0 ? ": " : "", n > 0 ? why : "");
	return n;
}

/* ---- lines ---- */

static const struct {
	const char *type;
	enum replay_kind kind;
} line_types[] = {
	{ "azureml.inference.model_inputs", REPLAY_INPUTS },
	{ "azureml.inference.model_outputs", REPLAY_OUTPUTS },
};

static const struct {
	const char *name;
	enum replay_route route;
} routes[] = {
	{ "score", REPLAY_SCORE },
	{ "invocations", REPLAY_INVOCATIONS },
};

/* String member key of object 0 into out[cap]; 0, or -1 with err. */
static int member_string(const char *js, const jsmntok_t *t, const char *key, char *out, size_t cap, char *err,
			 size_t errlen)
{
	int k = json_get(js, t, 0, key);
	if (k < 0 || t[k].type != JSMN_STRING || json_string(js, t, k, out, cap) <= 0)
		return err_set(err, errlen, "a collected line needs \"%s\", a string of 1 to %zu bytes", key, cap - 1);
	return 0;
}

/* The collected line's own keys, tokens t[0, n) of the object. */
static int collected(const char *js, const jsmntok_t *t, struct replay_line *l, char *err, size_t errlen)
{
	char text[64];
	size_t i;

	if (member_string(js, t, "type", text, sizeof text, err, errlen) < 0)
		return -1;
	for (i = 0; i < sizeof line_types / sizeof line_types[0] && strcmp(text, line_types[i].type) != 0; i++)
		;
	if (i == sizeof line_types / sizeof line_types[0])
		return err_set(err, errlen, "type \"%s\": expected %s or %s", text, line_types[0].type, line_types[1].type);
	l->kind = line_types[i].kind;
	if (member_string(js, t, "correlationid", l->id, sizeof l->id, err, errlen) < 0 ||
	    member_string(js, t, "deployment", l->deployment, sizeof l->deployment, err, errlen) < 0)
		return -1;
	int d = json_get(js, t, 0, "data");
	if (d < 0 || (l->kind == REPLAY_INPUTS && t[d].type != JSMN_ARRAY))
		return err_set(err, errlen, "a collected line needs \"data\"%s", l->kind == REPLAY_INPUTS ?
			       ", a list of rows" : "");
	l->data = js + t[d].start;
	l->data_len = (size_t)(t[d].end - t[d].start);
	if (l->kind == REPLAY_OUTPUTS)
		return 0;
	if (member_string(js, t, "route", text, sizeof text, err, errlen) < 0)
		return -1;
	for (i = 0; i < sizeof routes / sizeof routes[0] && strcmp(text, routes[i].name) != 0; i++)
		;
	if (i == sizeof routes / sizeof routes[0])
		return err_set(err, errlen, "route \"%s\": expected score or invocations", text);
	l->route = routes[i].route;
	int p = json_get(js, t, 0, "params");
	if (p >= 0 && t[p].type != JSMN_OBJECT)
		return err_set(err, errlen, "\"params\" must be an object");
	if (p >= 0) {
		l->params = js + t[p].start;
		l->params_len = (size_t)(t[p].end - t[p].start);
	}
	return 0;
}

int replay_parse_line(const char *p, size_t n, struct replay_line *l, char *err, size_t errlen)
{
	jsmntok_t *t = NULL;
	size_t cap = 0;
	int rc = -1;

	memset(l, 0, sizeof *l);
	int nt = tokenize(p, n, &t, &cap, err, errlen);
	if (nt < 0)
		goto out;
	if (t[0].type != JSMN_OBJECT) {
		err_set(err, errlen, "expected a JSON object: a collected line or a request body");
		goto out;
	}
	if (json_get(p, t, 0, "specversion") >= 0) {
		rc = collected(p, t, l, err, errlen);
		goto out;
	}
	l->kind = REPLAY_BODY;
	l->route = REPLAY_SCORE;
	l->data = p + t[0].start;
	l->data_len = (size_t)(t[0].end - t[0].start);
	rc = 0;
out:
	free(t);
	return rc;
}

void replay_body(const struct replay_line *l, struct enc_buf *b)
{
	enc_reset(b);
	if (l->kind == REPLAY_BODY) {
		enc_raw(b, l->data, l->data_len);
		return;
	}
	enc_cstr(b, l->route == REPLAY_INVOCATIONS ? "{\"inputs\": " : "{\"input_data\": ");
	enc_raw(b, l->data, l->data_len);
	if (l->params) {
		enc_cstr(b, ", \"params\": ");
		enc_raw(b, l->params, l->params_len);
	}
	enc_cstr(b, "}");
}

/* ---- answers ---- */

static int push_val(struct replay_answer *a, long idx, double v)
{
	if (a->nvals == a->vals_cap) {
		size_t cap = a->vals_cap ? a->vals_cap * 2 : 256;
		struct replay_val *nv = realloc(a->vals, cap * sizeof *nv);
		if (!nv)
			return -1;
		a->vals = nv;
		a->vals_cap = cap;
	}
	a->vals[a->nvals].idx = idx;
	a->vals[a->nvals++].v = v;
	return 0;
}

/* A whole decimal index p[0, n) (no sign, no leading zero but "0"). */
static long index_of(const char *p, size_t n)
{
	long v = 0;
	if (n == 0 || n > 9 || (n > 1 && p[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int number(const char *p, size_t n, double *v)
{
	return n && num_parse(p, p + n, NUM_JSON, v) == NUM_OK ? 0 : -1;
}

/* A dict row {"0": v, ...}: the tokens after t[i]. */
static int dict_row(struct replay_answer *a, const char *js, const jsmntok_t *t, int i)
{
	int k = i + 1;
	double v;
	for (int m = 0; m < t[i].size; m++, k += 2) {
		long idx = index_of(js + t[k].start, (size_t)(t[k].end - t[k].start));
		if (idx < 0 || t[k + 1].type != JSMN_PRIMITIVE ||
		    number(js + t[k + 1].start, (size_t)(t[k + 1].end - t[k + 1].start), &v) < 0 || push_val(a, idx, v) < 0)
			return -1;
	}
	return 0;
}

/* A top_k row ["score:index[:label]", ...]. */
static int top_k_row(struct replay_answer *a, const char *js, const jsmntok_t *t, int i)
{
	int k = i + 1;
	double v;
	for (int m = 0; m < t[i].size; m++, k++) {
		const char *s = js + t[k].start, *end = js + t[k].end;
		const char *c1 = t[k].type == JSMN_STRING ? memchr(s, ':', (size_t)(end - s)) : NULL;
		if (!c1 || number(s, (size_t)(c1 - s), &v) < 0)
			return -1;
		const char *c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
		long idx = index_of(c1 + 1, (size_t)((c2 ? c2 : end) - c1 - 1));
		if (idx < 0 || push_val(a, idx, v) < 0)
			return -1;
	}
	return 0;
}

static int by_index(const void *x, const void *y)
{
	const struct replay_val *a = x, *b = y;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Sort row r's scores by index; its argmax; -1 when an index repeats. */
static int finish_row(struct replay_answer *a, struct replay_row *r)
{
	struct replay_val *v = a->vals + r->first;
	r->n = a->nvals - r->first;
	qsort(v, r->n, sizeof *v, by_index);
	r->argmax = r->n ? 0 : -1;
	for (size_t j = 1; j < r->n; j++) {
		if (v[j].idx == v[j - 1].idx)
			return -1;
		if (v[j].v > v[r->argmax].v)
			r->argmax = (long)j;
	}
	if (r->n)
		r->argmax = v[r->argmax].idx;
	return 0;
}

static int add_row(struct replay_answer *a, const char *js, const jsmntok_t *t, int i)
{
	if (a->nrows == a->rows_cap) {
		size_t cap = a->rows_cap ? a->rows_cap * 2 : 64;
		struct replay_row *nr = realloc(a->rows, cap * sizeof *nr);
		if (!nr)
			return -1;
		a->rows = nr;
		a->rows_cap = cap;
	}
	struct replay_row *r = &a->rows[a->nrows++];
	memset(r, 0, sizeof *r);
	r->first = a->nvals;
	if (t[i].type == JSMN_STRING) {
		r->argmax = -1;
		r->label = js + t[i].start;
		r->label_len = (size_t)(t[i].end - t[i].start);
		return 0;
	}
	if ((t[i].type == JSMN_OBJECT ? dict_row(a, js, t, i) : t[i].type == JSMN_ARRAY ? top_k_row(a, js, t, i) : -1) < 0)
		return -1;
	return finish_row(a, r);
}

int replay_answer_parse(struct replay_answer *a, const char *body, size_t len, char *err, size_t errlen)
{
	a->nrows = a->nvals = 0;
	int n = tokenize(body, len, &a->tok, &a->tok_cap, err, errlen);
	if (n < 0)
		return -1;
	const jsmntok_t *t = a->tok;
	int list = 0;
	if (t[0].type == JSMN_OBJECT && t[0].size == 1)
		list = json_get(body, t, 0, "predictions");
	if (list < 0 || t[list].type != JSMN_ARRAY)
		return err_set(err, errlen, "the answer is not a list of rows (nor {\"predictions\": list})");
	int i = list + 1;
	for (int r = 0; r < t[list].size; r++, i = json_skip(t, i))
		if (add_row(a, body, t, i) < 0)
			return err_set(err, errlen, "row %d of the answer is not {\"0\": number, ...}, a label or a list "
				       "of \"score:index[:label]\"", r);
	return 0;
}

void replay_answer_free(struct replay_answer *a)
{
	free(a->rows);
	free(a->vals);
	free(a->tok);
	memset(a, 0, sizeof *a);
}

/* ---- comparing ---- */

void replay_compare_row(const struct replay_answer *a, size_t i, const struct replay_answer *b, size_t j, int *agree,
			double *max_abs)
{
	const struct replay_row *x = &a->rows[i], *y = &b->rows[j];
	const struct replay_val *u = a->vals + x->first, *v = b->vals + y->first;
	size_t p = 0, q = 0;

	*max_abs = -1;
	if (x->label || y->label) {
		*agree = x->label && y->label && x->label_len == y->label_len &&
			 memcmp(x->label, y->label, x->label_len) == 0;
		return;
	}
	*agree = x->argmax >= 0 && x->argmax == y->argmax;
	while (p < x->n && q < y->n) {   /* both sorted by index */
		if (u[p].idx < v[q].idx) {
			p++;
		} else if (u[p].idx > v[q].idx) {
			q++;
		} else {
			double d = fabs(u[p++].v - v[q++].v);
			if (d > *max_abs)
				*max_abs = d;
		}
	}
}

void replay_row_class(const struct replay_answer *a, size_t i, char *out)
{
	const struct replay_row *r = &a->rows[i];
	if (!r->label) {
		snprintf(out, REPLAY_CLASS_MAX, "%ld", r->argmax);
		return;
	}
	/* The label's own token, to decode its escapes. */
	jsmntok_t t = { .type = JSMN_STRING, .start = 0, .end = (int)r->label_len, .size = 0 };
	char text[1024];
	if (r->label_len >= sizeof text || json_string(r->label, &t, 0, text, sizeof text) < 0)
		snprintf(text, sizeof text, "%.*s", (int)(r->label_len < 1000 ? r->label_len : 1000), r->label);
	size_t n = strlen(text);
	if (n >= REPLAY_CLASS_MAX)
		n = REPLAY_CLASS_MAX - 1;
	memcpy(out, text, n);   /* may cut a UTF-8 sequence: the JSON encoder writes U+FFFD for it */
	out[n] = '\0';
}

static void trim(const char **p, size_t *n)
{
	while (*n && strchr(" \t\r\n", **p))
		(*p)++, (*n)--;
	while (*n && strchr(" \t\r\n", (*p)[*n - 1]))
		(*n)--;
}

int replay_same_body(const char *body, size_t n, const char *expected, size_t en)
{
	trim(&body, &n);
	trim(&expected, &en);
	return n == en && memcmp(body, expected, n) == 0;
}

/* True when x ranks worse than y. */
static int worse(const struct replay_worst *x, const struct replay_worst *y)
{
	if (x->agree != y->agree)
		return !x->agree;
	if (x->max_abs != y->max_abs)
		return x->max_abs > y->max_abs;
	return x->seq < y->seq;
}

void replay_worst_add(struct replay_worst *w, size_t *n, size_t cap, const struct replay_worst *x)
{
	size_t at = *n;
	while (at > 0 && worse(x, &w[at - 1]))
		at--;
	if (at >= cap)
		return;
	size_t keep = *n < cap ? *n : cap - 1;
	memmove(w + at + 1, w + at, (keep - at) * sizeof *w);
	w[at] = *x;
	if (*n < cap)
		(*n)++;
}

double replay_percentile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	double rank = ceil(p / 100.0 * (double)n);
	size_t k = rank < 1 ? 1 : rank > (double)n ? n : (size_t)rank;
	return sorted[k - 1];
}
