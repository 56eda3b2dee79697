/*
 * req_records.c - the records shape of req.h, [{"col": v, ...}, ...]
 * (dataframe_records, and instances, inputs or input_data given as a list
 * of objects): each row's values found by its keys.  For a model with
 * column names the keys are looked up in its signature (unknown ones
 * ignored, missing ones listed); for one without, in the first record's
 * keys (see first_record_keys).
 */
#include "model/req_int.h"
#include "model/num.h"

#include <math.h>
#include <string.h>

/*
 * A model without column names reads records as MLflow reads them for a
 * model without a signature (pd.DataFrame(records): the columns are the
 * keys in the order the first record gives them), but strictly: every
 * record must have the same keys, where pandas would fill in NaN.  *ks
 * becomes a schema of record 0's keys, decoded, in c's buffers (valid
 * until the next decode).  0, or -1 with w->e set.
 */
static int first_record_keys(struct req_walk *w, int rec, struct req_schema *ks)
{
	struct req_ctx *c = w->c;
	const jsmntok_t *t = w->t;
	uint32_t n = (uint32_t)t[rec].size;
	size_t bytes = 0;

	if (n != w->s->width)
		return req_fail(w->e, REQ_E_COLUMNS, "record 0 has %u keys; the model has no column names and reads "
			     "exactly %u values per row, from the same keys in every record", n, w->s->width);
	for (int k = rec + 1, j = 0; j < (int)n; j++, k = json_skip(t, k))
		bytes += (size_t)(t[k].end - t[k].start) + 1;   /* decoding never lengthens a key */
	memset(ks, 0, sizeof *ks);
	uint32_t size = req_index_size(n);
	if (req_reserve(&c->keys, &c->keys_cap, bytes, 1) < 0 ||
	    req_reserve(&c->key_names, &c->key_names_cap, n, sizeof *c->key_names) < 0 ||
	    req_reserve(&c->key_slots, &c->key_slots_cap, size, sizeof *c->key_slots) < 0)
		return req_fail(w->e, REQ_E_NOMEM, "out of memory for %u keys", n);
	size_t used = 0;
	for (int k = rec + 1, j = 0; j < (int)n; j++, k = json_skip(t, k)) {
		int len = json_string(w->js, t, k, c->keys + used, bytes - used);
		if (len < 0)
			return req_fail(w->e, REQ_E_JSON, "record 0: key %u has a bad escape or a NUL character", j);
		c->key_names[j] = c->keys + used;
		used += (size_t)len + 1;
	}
	memset(c->key_slots, 0, size * sizeof *c->key_slots);
	*ks = (struct req_schema){ w->s->width, n, c->key_names, c->key_slots, size - 1, { 0, 0, 0 } };
	req_index_names(ks);
	return 0;
}

/* Column col of s for a message: the model's name, or (a key of record 0)
 * the request's text, quoted by json_echo. */
static const char *record_col(const struct req_walk *w, const void *schema, int col, char *buf, size_t len)
{
	const struct req_schema *s = schema;

	if (w->s->ncolumns)
		return s->columns[col];
	const char *name = s->columns[col];
	return json_echo(name, strlen(name), buf, len);
}

/* After record r of a model without column names: all of record 0's keys
 * given (the key count is checked on the way, so the first one missing). */
static int record_keys_missing(struct req_walk *w, const struct req_schema *ks, size_t r)
{
	char nb[JSON_ECHO_SIZE];

	for (uint32_t k = 0; k < ks->width; k++)
		if (!w->c->seen[k])
			return req_fail(w->e, REQ_E_COLUMNS, "record %zu has no key \"%s\", which record 0 has: "
				     "every record must have the same keys", r,
				     record_col(w, ks, (int)k, nb, sizeof nb));
	return 0;
}

/* [{"col": v, ...}, ...] */
int req_records(struct req_walk *w, int arr)
{
	struct req_ctx *c = w->c;
	const struct req_schema *s = w->s;
	struct req_schema ks;
	int by_keys = !s->ncolumns;   /* a model without column names: record 0's keys */
	char buf[REQ_NAME_MAX_BYTES], nb[JSON_ECHO_SIZE];

	if (req_start_matrix(w, (size_t)w->t[arr].size) < 0 ||
	    req_reserve(&c->seen, &c->seen_cap, s->width, 1) < 0)
		return -1;
	w->named = 1;
	int k = arr + 1;
	for (size_t r = 0; r < w->rows; r++, k = json_skip(w->t, k)) {
		const jsmntok_t *rec = &w->t[k];
		if ((r & 63) == 63 && req_deadline(c, w->e) < 0)
			return -1;
		if (rec->type != JSMN_OBJECT)
			return req_fail(w->e, REQ_E_SHAPE, "record %zu is %s; expected an object of column: value",
				     r, req_kind_name(w->js, rec));
		if (by_keys && r == 0) {
			if (first_record_keys(w, k, &ks) < 0)
				return -1;
			s = &ks;
		}
		memset(c->seen, 0, s->width);
		int key = k + 1;
		for (int n = 0; n < rec->size; n++, key = json_skip(w->t, key)) {
			const jsmntok_t *kt = &w->t[key];
			int col;
			if (!memchr(w->js + kt->start, '\\', (size_t)(kt->end - kt->start))) {
				col = req_schema_find(s, w->js + kt->start, (size_t)(kt->end - kt->start));
			} else {
				int len = json_string(w->js, w->t, key, buf, sizeof buf);
				if (len < 0)
					return req_fail(w->e, REQ_E_JSON, "record %zu: bad key", r);
				col = req_schema_find(s, buf, (size_t)len);
			}
			if (col < 0 && by_keys)
				return req_fail(w->e, REQ_E_COLUMNS, "record %zu has key \"%s\", which record 0 has "
					     "not: every record must have the same keys", r,
					     req_tok_text(w->js, kt, nb, sizeof nb));
			if (col < 0)
				continue;
			if (c->seen[col])
				return req_fail(w->e, REQ_E_COLUMNS, "record %zu: column %s is given twice", r,
					     record_col(w, s, col, nb, sizeof nb));
			c->seen[col] = 1;
			if (req_cell(w, &w->t[key + 1], r, record_col, s, col, &c->x[r * s->width + (size_t)col]) < 0)
				return -1;
		}
		if ((by_keys ? record_keys_missing(w, s, r) : req_check_missing(w, r)) < 0)
			return -1;
	}
	return 0;
}
