/*
 * cli_shadow.c - `scorepoint online-endpoint shadow-report`: the shadow
 * verdicts of an endpoint's mirror traffic, read from the counter file its
 * server's workers share (metrics/metrics.h), and --reset to start them
 * again (docs/shadow.md).
 */
#include "cli/cli.h"
#include "metrics/metrics.h"
#include "model/num.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A double as the shortest JSON number that reads back the same
 * (num_format); null when it is not finite (JSON has no Inf). */
static struct ws_node *number(double v)
{
	char text[NUM_FORMAT_MAX];

	return num_format(v, text) ? ws_node_new(WS_NUM, text) : ws_node_new(WS_NULL, "null");
}

static struct ws_node *utc_ms(int64_t ms)
{
	char text[40], day[32];
	time_t s = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(text, sizeof text, "%s.%03dZ", day, (int)(ms % 1000));
	return ws_node_str(text);
}

/* One (live, mirror) pair as the verb prints it; NULL when out of memory. */
static struct ws_node *pair_json(const struct metrics_shadow_stats *st)
{
	struct ws_node *o = ws_node_new(WS_MAP, NULL);
	uint64_t inf = st->le[METRICS_SHADOW_NBUCKETS - 1] - st->le[METRICS_SHADOW_NBUCKETS - 2];
	int ok = o != NULL;

	ok = ok && ws_node_set(o, "endpoint", ws_node_str(st->endpoint)) == 0;
	ok = ok && ws_node_set(o, "live_deployment", ws_node_str(st->live)) == 0;
	ok = ok && ws_node_set(o, "mirror_deployment", ws_node_str(st->mirror)) == 0;
	ok = ok && ws_node_set(o, "rows_compared", ws_node_int((long long)st->rows)) == 0;
	ok = ok && ws_node_set(o, "rows_agreeing", ws_node_int((long long)st->agree)) == 0;
	ok = ok && ws_node_set(o, "rows_disagreeing", ws_node_int((long long)(st->rows - st->agree))) == 0;
	ok = ok && ws_node_set(o, "rows_not_comparable", ws_node_int((long long)st->not_comparable)) == 0;
	ok = ok && ws_node_set(o, "agreement_rate", st->rows ? number((double)st->agree / (double)st->rows) :
						    ws_node_new(WS_NULL, "null")) == 0;
	/* Rows whose difference was not finite make the worst one null. */
	ok = ok && ws_node_set(o, "worst_abs_diff", inf ? ws_node_new(WS_NULL, "null") : number(st->worst)) == 0;
	ok = ok && ws_node_set(o, "mean_abs_diff", st->rows && !inf ? number(st->sum / (double)st->rows) :
						   ws_node_new(WS_NULL, "null")) == 0;
	ok = ok && ws_node_set(o, "since", utc_ms(st->since_ms)) == 0;
	if (!ok) {
		ws_node_free(o);
		return NULL;
	}
	return o;
}

/* The counter file: --metrics-file, else where score.fcgi --workspace DIR
 * keeps it by default (metrics_default_path of the workspace's real path). */
static int counter_path(const struct cli *c, char *out, size_t len)
{
	if (c->val[O_METRICS_FILE]) {
		if ((size_t)snprintf(out, len, "%s", c->val[O_METRICS_FILE]) >= len)
			return cli_fail("--metrics-file: too long a path");
		return 0;
	}
	char *real = realpath(c->dir, NULL);
	if (!real)
		return cli_fail("%s: %s", c->dir, strerror(errno));
	metrics_default_path(real, out, len);
	free(real);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The endpoint's pairs, oldest slot first; with --reset, as they were
 * just before they were zeroed. */
static int report(const struct cli *c, struct metrics *m, const char *name)
{
	struct metrics_shadow_stats st;
	struct ws_node *list = ws_node_new(WS_SEQ, NULL);

	for (int i = 0; list && metrics_shadow_stats(m, i, &st) == 0; i++) {
		if (strcmp(st.endpoint, name) != 0)
			continue;
		struct ws_node *o = pair_json(&st);
		if (!o || ws_node_push(list, o) < 0) {
			ws_node_free(list);
			list = NULL;
		}
	}
	if (list && c->val[O_RESET])
		metrics_shadow_reset(m, name, now_ms());
	return cli_print(c, list);
}

int cli_endpoint_shadow_report(struct cli *c)
{
	char path[PATH_MAX], err[PATH_MAX + 256];
	struct ws w;
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_name("--name", c->val[O_NAME])) || (rc = cli_load(c, &w)))
		return rc;
	int known = ws_endpoint(&w, c->val[O_NAME], strlen(c->val[O_NAME])) != NULL;
	ws_free(&w);
	if (!known)
		return cli_fail("endpoint \"%s\" does not exist", c->val[O_NAME]);
	if ((rc = counter_path(c, path, sizeof path)))
		return rc;
	struct metrics *m = metrics_attach(path, err, sizeof err);
	if (!m)
		return cli_fail("%s%s", err, c->val[O_METRICS_FILE] ? "" : "; a server started by `scorepoint serve` "
				"keeps it in its own directory: give --metrics-file $TMPDIR/scorepoint-serve-*/metrics");
	rc = report(c, m, c->val[O_NAME]);
	metrics_close(m);
	return rc;
}
