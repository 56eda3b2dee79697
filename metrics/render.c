/*
 * render.c - the Prometheus text exposition (version 0.0.4) of the shared
 * counter file (metrics_render, metrics.h): every family summed over the
 * workers, each read once with relaxed loads, the shadow verdicts and the
 * collection counters only once something was counted.
 */
#include "metrics/layout.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- rendering ------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {     /* keep a byte for the NUL */
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char buf[20];
	size_t i = sizeof buf;

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, buf + i, sizeof buf - i);
}

static void put_i64(struct out *o, int64_t v)
{
	if (v < 0) {
		put(o, "-", 1);
		put_u64(o, -(uint64_t)v);
	} else {
		put_u64(o, (uint64_t)v);
	}
}

/* Microseconds as seconds, exactly: "0.0015", "2", "12.000001". */
static void put_seconds(struct out *o, uint64_t usec)
{
	char frac[8];
	uint64_t f = usec % 1000000;

	put_u64(o, usec / 1000000);
	if (!f)
		return;
	frac[0] = '.';
	for (int i = 6; i >= 1; i--, f /= 10)
		frac[i] = (char)('0' + f % 10);
	size_t n = 7;
	while (frac[n - 1] == '0')
		n--;
	put(o, frac, n);
}

/* A double as the shortest text that reads back as the same value. */
static void put_double(struct out *o, double v)
{
	char buf[32];
	int n = 0;

	if (isnan(v) || isinf(v)) {
		put_str(o, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	put(o, buf, (size_t)n);
}

/* Milliseconds since the epoch as seconds: "1765078020.123". */
static void put_millis(struct out *o, int64_t ms)
{
	put_seconds(o, (uint64_t)(ms < 0 ? 0 : ms) * 1000);
}

/* A label value, escaped as the text format wants: \\, \" and \n. */
static void put_label(struct out *o, const char *s)
{
	for (const char *run = s;; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (!esc && *s)
			continue;
		put(o, run, (size_t)(s - run));
		if (!*s)
			return;
		put(o, esc, 2);
		run = s + 1;
	}
}

static void put_family(struct out *o, const char *name, const char *type, const char *help)
{
	put_str(o, "# HELP ");
	put_str(o, name);
	put(o, " ", 1);
	put_str(o, help);
	put_str(o, "\n# TYPE ");
	put_str(o, name);
	put(o, " ", 1);
	put_str(o, type);
	put(o, "\n", 1);
}

/* The deployment label of each column (NULL: none), from a snapshot of the
 * names; columns of unregistered slots get "" and are never rendered, as
 * nothing can count in them. */
static void column_labels(const struct metrics_file *f, char names[NAMED_SLOTS][METRICS_NAME_MAX],
			  const char *label[NCOLS])
{
	for (int i = 0; i < NAMED_SLOTS; i++) {
		names[i][0] = '\0';
		if (__atomic_load_n(&f->dep_ready[i], __ATOMIC_ACQUIRE)) {
			memcpy(names[i], f->dep_name[i], METRICS_NAME_MAX);
			names[i][METRICS_NAME_MAX - 1] = '\0';
		}
		label[i] = names[i];
	}
	label[SLOT_OTHER] = "other";
	label[COL_NONE] = NULL;
}

/* The deployment label, first or after others; nothing for no deployment. */
static void put_deployment(struct out *o, const char *label, int first)
{
	if (!label)
		return;
	put_str(o, first ? "{deployment=\"" : ",deployment=\"");
	put_label(o, label);
	put(o, "\"", 1);
}

static void render_requests(struct out *o, const struct metrics_file *f, const char *const label[NCOLS])
{
	put_family(o, "scorepoint_requests_total", "counter",
		   "Requests answered, by route, HTTP status and deployment.");
	for (int r = 0; r < MR_COUNT; r++) {
		for (int s = 0; s < NSTATUS; s++) {
			for (int c = 0; c < NCOLS; c++) {
				uint64_t v = load_u64(&f->requests[r][s][c]);
				if (!v || (label[c] && !label[c][0]))
					continue;
				put_str(o, "scorepoint_requests_total{route=\"");
				put_str(o, route_label[r]);
				put_str(o, "\",status=\"");
				if (s == STATUS_OTHER)
					put_str(o, "other");
				else
					put_u64(o, (uint64_t)tracked_status[s]);
				put(o, "\"", 1);
				put_deployment(o, label[c], 0);
				put_str(o, "} ");
				put_u64(o, v);
				put(o, "\n", 1);
			}
		}
	}
}

static void render_rows(struct out *o, const struct metrics_file *f, const char *const label[NCOLS])
{
	put_family(o, "scorepoint_rows_total", "counter", "Rows scored, by deployment.");
	for (int c = 0; c < NCOLS; c++) {
		uint64_t v = load_u64(&f->rows[c]);
		if (!v || (label[c] && !label[c][0]))
			continue;
		put_str(o, "scorepoint_rows_total");
		put_deployment(o, label[c], 1);
		put_str(o, label[c] ? "} " : " ");
		put_u64(o, v);
		put(o, "\n", 1);
	}
}

/* One series of a duration histogram whose label is KEY="VALUE":
 * cumulative buckets, _sum and _count (the buckets' sum); nothing when it
 * counted nothing. */
static void put_histogram(struct out *o, const char *name, const char *key, const char *value,
			  const uint64_t cells[NBUCKETS], const uint64_t *sum_usec)
{
	uint64_t bucket[NBUCKETS], count = 0, cumulative = 0;
	static const char *const part[] = { "_sum{", "_count{" };

	for (int b = 0; b < NBUCKETS; b++)
		count += bucket[b] = load_u64(&cells[b]);
	if (!count)
		return;
	for (int b = 0; b < NBUCKETS; b++) {
		cumulative += bucket[b];
		put_str(o, name);
		put_str(o, "_bucket{");
		put_str(o, key);
		put_str(o, "=\"");
		put_label(o, value);
		put_str(o, "\",le=\"");
		put_str(o, bucket_le[b]);
		put_str(o, "\"} ");
		put_u64(o, cumulative);
		put(o, "\n", 1);
	}
	for (int k = 0; k < 2; k++) {
		put_str(o, name);
		put_str(o, part[k]);
		put_str(o, key);
		put_str(o, "=\"");
		put_label(o, value);
		put_str(o, "\"} ");
		if (k == 0)
			put_seconds(o, load_u64(sum_usec));
		else
			put_u64(o, count);
		put(o, "\n", 1);
	}
}

static void render_durations(struct out *o, const struct metrics_file *f)
{
	static const char name[] = "scorepoint_request_duration_seconds";

	put_family(o, name, "histogram", "Time to answer a request, by route.");
	for (int r = 0; r < MR_COUNT; r++)
		put_histogram(o, name, "route", route_label[r], f->duration_bucket[r], &f->duration_sum_usec[r]);
}

/* The same histogram per deployment: the named columns and "other", not
 * the column of requests that reached none. */
static void render_deployment_durations(struct out *o, const struct metrics_file *f, const char *const label[NCOLS])
{
	static const char name[] = "scorepoint_deployment_request_duration_seconds";

	put_family(o, name, "histogram", "Time to answer a request, by deployment.");
	for (int c = 0; c < NCOLS; c++)
		if (label[c] && label[c][0])
			put_histogram(o, name, "deployment", label[c], f->dep_duration_bucket[c],
				      &f->dep_duration_sum_usec[c]);
}

/* One collection family, only when something counts in it. */
static void render_collect(struct out *o, const struct metrics_file *f, const char *const label[NCOLS], int lost)
{
	const char *name = lost ? "scorepoint_collect_errors_total" : "scorepoint_collect_lines_total";
	int any = 0;

	for (int c = 0; c < NCOLS; c++) {
		for (int k = 0; k < METRICS_NCOLLECTIONS; k++) {
			uint64_t v = load_u64(&f->collect[lost][c][k]);
			if (!v || (label[c] && !label[c][0]))
				continue;
			if (!any++)
				put_family(o, name, "counter", lost ? "Collected lines lost (a write failed), by deployment "
					   "and collection." : "Collected lines written, by deployment and collection.");
			put_str(o, name);
			put_deployment(o, label[c], 1);
			put_str(o, label[c] ? ",collection=\"" : "{collection=\"");
			put_str(o, collection_label[k]);
			put_str(o, "\"} ");
			put_u64(o, v);
			put(o, "\n", 1);
		}
	}
}

/* name{endpoint="E",live="L",mirror="M" and the closing "} " unless open. */
static void put_triple(struct out *o, const char *name, const struct metrics_shadow_stats *st, int open)
{
	put_str(o, name);
	put_str(o, "{endpoint=\"");
	put_label(o, st->endpoint);
	put_str(o, "\",live=\"");
	put_label(o, st->live);
	put_str(o, "\",mirror=\"");
	put_label(o, st->mirror);
	put_str(o, open ? "\"" : "\"} ");
}

/* Families of the shadow slots, each only when a slot is registered. */
static void render_shadows(struct out *o, struct metrics *m)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "scorepoint_shadow_rows_total", "counter", "Rows of mirror copies compared with the live answer." },
		{ "scorepoint_shadow_agree_rows_total", "counter", "Compared rows whose argmax agreed." },
		{ "scorepoint_shadow_not_comparable_rows_total", "counter",
		  "Rows of mirror copies whose output width differed from the live answer's." },
		{ "scorepoint_shadow_abs_diff", "histogram",
		  "Each compared row's largest absolute difference from the live answer." },
		{ "scorepoint_shadow_worst_abs_diff", "gauge", "The largest absolute difference of any compared row." },
		{ "scorepoint_shadow_start_time_seconds", "gauge",
		  "When these shadow counters began (or were last reset), in seconds since the epoch." },
	};
	struct metrics_shadow_stats st;
	char bucket[64], sum[64], count[64];

	if (metrics_shadow_stats(m, 0, &st) < 0)
		return;
	snprintf(bucket, sizeof bucket, "%s_bucket", fam[3].name);
	snprintf(sum, sizeof sum, "%s_sum", fam[3].name);
	snprintf(count, sizeof count, "%s_count", fam[3].name);
	for (size_t k = 0; k < sizeof fam / sizeof fam[0]; k++) {
		put_family(o, fam[k].name, fam[k].type, fam[k].help);
		for (int i = 0; metrics_shadow_stats(m, i, &st) == 0; i++) {
			if (k == 3) {
				for (int b = 0; b < METRICS_SHADOW_NBUCKETS; b++) {
					put_triple(o, bucket, &st, 1);
					put_str(o, ",le=\"");
					put_str(o, shadow_le[b]);
					put_str(o, "\"} ");
					put_u64(o, st.le[b]);
					put(o, "\n", 1);
				}
				put_triple(o, sum, &st, 0);
				put_double(o, st.sum);
				put(o, "\n", 1);
				put_triple(o, count, &st, 0);
				put_u64(o, st.le[METRICS_SHADOW_NBUCKETS - 1]);
				put(o, "\n", 1);
				continue;
			}
			put_triple(o, fam[k].name, &st, 0);
			if (k == 4)
				put_double(o, st.worst);
			else if (k == 5)
				put_millis(o, st.since_ms);
			else
				put_u64(o, k == 0 ? st.rows : k == 1 ? st.agree : st.not_comparable);
			put(o, "\n", 1);
		}
	}
}

size_t metrics_render(struct metrics *m, const char *model_name, const char *model_version,
		      const char *model_digest, char *out, size_t cap)
{
	struct out o = { out, 0, cap, 0 };
	char names[NAMED_SLOTS][METRICS_NAME_MAX];
	const char *label[NCOLS];

	if (!m || cap == 0)
		return 0;
	const struct metrics_file *f = m->f;
	column_labels(f, names, label);
	render_requests(&o, f, label);
	render_rows(&o, f, label);
	render_durations(&o, f);
	render_deployment_durations(&o, f, label);
	put_family(&o, "scorepoint_requests_in_flight", "gauge",
		   "Requests being answered now, over all workers.");
	put_str(&o, "scorepoint_requests_in_flight ");
	put_i64(&o, __atomic_load_n(&f->in_flight, __ATOMIC_RELAXED));
	put(&o, "\n", 1);
	render_collect(&o, f, label, 0);
	render_collect(&o, f, label, 1);
	render_shadows(&o, m);
	if (model_name) {
		put_family(&o, "scorepoint_model_info", "gauge", "The model served; the value is always 1.");
		put_str(&o, "scorepoint_model_info{name=\"");
		put_label(&o, model_name);
		put_str(&o, "\",version=\"");
		put_label(&o, model_version ? model_version : "");
		put_str(&o, "\",digest=\"");
		put_label(&o, model_digest ? model_digest : "");
		put_str(&o, "\"} 1\n");
	}
	if (o.full)
		return 0;
	out[o.len] = '\0';
	return o.len;
}
