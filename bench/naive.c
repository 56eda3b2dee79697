/*
 * naive.c - the "simple C" baseline of make bench: what a competent
 * programmer writes first with the same libraries.  jsmn tokenizes the
 * whole body (with parent links, as its README recommends for large
 * documents), strtod parses every number, columns are matched by strcmp,
 * one cblas_sgemm per layer, and each output value is printed with the
 * shortest of %.15g/%.16g/%.17g that reads back, in Python's layout.  It
 * handles the split orient ({"input_data": {"columns", "data"}}) only.
 */
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

#include "bench/naive.h"

#include "model/fwd.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int skip(const jsmntok_t *t, int i)
{
	int pending = 1;
	while (pending > 0) {
		pending += t[i].size;
		pending--;
		i++;
	}
	return i;
}

static int key(const char *js, const jsmntok_t *t, int obj, const char *k)
{
	int i = obj + 1;
	for (int n = 0; n < t[obj].size; n++, i = skip(t, i + 1))
		if (t[i].type == JSMN_STRING && (int)strlen(k) == t[i].end - t[i].start &&
		    strncmp(js + t[i].start, k, strlen(k)) == 0)
			return i + 1;
	return -1;
}

/* Python's repr() of a double, the simple way. */
static int py_repr(double v, char *out)
{
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* %g drops ".0" and writes e-05 like Python, but Python writes
	 * fixed notation up to 1e16 and always a '.' there. */
	char *e = strchr(buf, 'e');
	if (e) {
		int exp10 = atoi(e + 1);
		if (exp10 >= -4 && exp10 < 16) {
			double back = strtod(buf, NULL);
			for (int prec = 1; prec <= 17; prec++) {
				snprintf(buf, sizeof buf, "%.*f", prec, back);
				if (strtod(buf, NULL) == v)
					break;
			}
		}
	} else if (!strchr(buf, '.') && !strchr(buf, 'n') && !strchr(buf, 'i')) {
		strcat(buf, ".0");
	}
	strcpy(out, buf);
	return (int)strlen(out);
}

int naive_score(const struct naive_model *m, const char *body, size_t len, char **out, size_t *out_len)
{
	jsmn_parser p;
	jsmn_init(&p);
	int n = jsmn_parse(&p, body, len, NULL, 0);
	if (n < 1)
		return -1;
	jsmntok_t *t = malloc((size_t)n * sizeof *t);
	jsmn_init(&p);
	jsmn_parse(&p, body, len, t, (unsigned)n);
	int in = key(body, t, 0, "input_data");
	int cols = in >= 0 ? key(body, t, in, "columns") : -1;
	int data = in >= 0 ? key(body, t, in, "data") : -1;
	if (cols < 0 || data < 0) {
		free(t);
		return -1;
	}
	int ncols = t[cols].size, rows = t[data].size;
	int *map = malloc((size_t)ncols * sizeof *map);
	for (int j = 0, k = cols + 1; j < ncols; j++, k++) {
		map[j] = -1;
		for (int c = 0; c < m->width; c++) {
			int cc = (j + c) % m->width;   /* the same order is the usual case */
			if ((int)strlen(m->columns[cc]) == t[k].end - t[k].start &&
			    strncmp(body + t[k].start, m->columns[cc], (size_t)(t[k].end - t[k].start)) == 0) {
				map[j] = cc;
				break;
			}
		}
	}
	float *x = calloc((size_t)rows * (size_t)m->width, sizeof *x);
	int k = data + 1;
	for (int r = 0; r < rows; r++) {
		int e = k + 1;
		for (int j = 0; j < t[k].size; j++, e++) {
			char num[64];
			int l = t[e].end - t[e].start;
			memcpy(num, body + t[e].start, (size_t)(l < 63 ? l : 63));
			num[l < 63 ? l : 63] = '\0';
			if (map[j] >= 0)
				x[(size_t)r * (size_t)m->width + (size_t)map[j]] = (float)strtod(num, NULL);
		}
		k = skip(t, k);
	}
	/* Linear -> ReLU -> Linear */
	float *h = malloc((size_t)rows * (size_t)m->hidden * sizeof *h);
	float *y = malloc((size_t)rows * (size_t)m->out * sizeof *y);
	for (int r = 0; r < rows; r++)
		memcpy(h + (size_t)r * (size_t)m->hidden, m->b1, (size_t)m->hidden * sizeof *h);
	fwd_sgemm_rowmajor_nt((size_t)rows, (size_t)m->hidden, (size_t)m->width, x, m->w1, 1, h);
	for (size_t i = 0; i < (size_t)rows * (size_t)m->hidden; i++)
		h[i] = h[i] > 0 ? h[i] : 0;
	for (int r = 0; r < rows; r++)
		memcpy(y + (size_t)r * (size_t)m->out, m->b2, (size_t)m->out * sizeof *y);
	fwd_sgemm_rowmajor_nt((size_t)rows, (size_t)m->out, (size_t)m->hidden, h, m->w2, 1, y);
	size_t cap = (size_t)rows * (size_t)m->out * 40 + 16, o = 0;
	char *res = malloc(cap);
	res[o++] = '[';
	for (int r = 0; r < rows; r++) {
		o += (size_t)sprintf(res + o, r ? ", {" : "{");
		for (int j = 0; j < m->out; j++) {
			char v[40];
			py_repr(y[(size_t)r * (size_t)m->out + (size_t)j], v);
			o += (size_t)sprintf(res + o, j ? ", \"%d\": %s" : "\"%d\": %s", j, v);
		}
		res[o++] = '}';
	}
	res[o++] = ']';
	res[o] = '\0';
	*out = res;
	*out_len = o;
	free(map);
	free(x);
	free(h);
	free(y);
	free(t);
	return rows;
}
