/*
 * cli_replay.c - `scorepoint online-deployment replay`: real requests (the
 * data collector's model_inputs, a JSON Lines file, request files) sent
 * to one deployment through the real handler, score.fcgi run as CGI as
 * `online-endpoint invoke` runs it, and its answers compared row by row
 * with the collected model_outputs (joined on correlationid) or with
 * another deployment's answers to the same requests (--against).  The
 * report: rows, identical bodies, agreement, the worst rows, latency
 * percentiles, failures by status; exit status 3 under --min-agreement.
 */
#include "cli/cli.h"
#include "cli/replay.h"
#include "model/err.h"
#include "model/file.h"
#include "model/num.h"
#include "workspace/mdc.h"
#include "workspace/name.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REPLAY_MAX_DEFAULT 10000
#define REPLAY_MAX_LIMIT 1000000
#define REPLAY_WORST_DEFAULT 5
#define REPLAY_WORST_LIMIT 1000
#define REPLAY_TEXT_MAX ((size_t)1 << 30)   /* bytes of lines read, every file together */
#define REPLAY_EXIT_GATE 3
#define REPLAY_STATUSES 32                   /* distinct failure statuses counted */
/* The latest time --to means when not given (time_t is 64 bits here). */
#define TIME_T_LAST ((time_t)1 << 62)

/* ---- what is replayed ---- */

/* The requests and what they are compared with; every line points into
 * one of texts, which live until the end. */
struct inputs {
	char **texts;
	size_t ntexts, texts_cap;
	size_t bytes;                /* read so far, every text */
	struct replay_line *in;      /* the requests, in order */
	size_t nin, in_cap, max;
	struct replay_line *out;     /* collected outputs, sorted by deployment and id */
	size_t nout, out_cap;
	size_t skipped;              /* collected lines that could not be read */
};

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *np = realloc(*p, c * size);
	if (!np)
		return -1;
	*p = np;
	*cap = c;
	return 0;
}

static int keep_text(struct inputs *s, char *text)
{
	if (grow((void **)&s->texts, &s->texts_cap, s->ntexts, sizeof *s->texts) < 0) {
		free(text);
		return -1;
	}
	s->texts[s->ntexts++] = text;
	return 0;
}

static int add_line(struct inputs *s, const struct replay_line *l)
{
	if (l->kind == REPLAY_OUTPUTS) {
		if (grow((void **)&s->out, &s->out_cap, s->nout, sizeof *s->out) < 0)
			return -1;
		s->out[s->nout++] = *l;
	} else if (s->nin < s->max) {
		if (grow((void **)&s->in, &s->in_cap, s->nin, sizeof *s->in) < 0)
			return -1;
		s->in[s->nin++] = *l;
	}
	return 0;
}

/* The whole of fd (st_size bytes when it was opened: lines appended since
 * are not read) into a malloc'd, NUL-terminated buffer, counted against
 * REPLAY_TEXT_MAX; NULL after a refusal. */
static char *read_text(struct inputs *s, int fd, const struct stat *st, const char *name, size_t *len)
{
	size_t size = (size_t)st->st_size, got = 0;
	if (size > REPLAY_TEXT_MAX - s->bytes) {
		cli_fail("%s: more than %zu bytes of requests and outputs in all: narrow --from/--to or give --max",
			 name, REPLAY_TEXT_MAX);
		return NULL;
	}
	char *buf = malloc(size + 1);
	while (buf && got < size) {
		ssize_t r = read(fd, buf + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (!buf || got != size) {
		cli_fail("%s: %s", name, buf ? "cannot read it" : "out of memory");
		free(buf);
		return NULL;
	}
	buf[size] = '\0';
	s->bytes += size;
	*len = size;
	return buf;
}

/* Every whole line of text (a last line without its newline is being
 * written: left out).  lax (collected files): a line that cannot be read
 * is counted and skipped; else it is refused as NAME:LINE. */
static int add_lines(struct inputs *s, char *text, size_t len, const char *name, int lax)
{
	char err[256];
	size_t at = 0, lineno = 0;

	if (keep_text(s, text) < 0)
		return cli_fail("out of memory");
	while (at < len) {
		char *nl = memchr(text + at, '\n', len - at);
		if (!nl)
			break;
		size_t n = (size_t)(nl - text) - at;
		const char *p = text + at;
		struct replay_line l;
		at += n + 1;
		lineno++;
		if (strspn(p, " \t\r") >= n)
			continue;
		if (replay_parse_line(p, n, &l, err, sizeof err) < 0) {
			if (!lax)
				return cli_fail("%s:%zu: %s", name, lineno, err);
			s->skipped++;
		} else if (add_line(s, &l) < 0) {
			return cli_fail("out of memory");
		}
	}
	return 0;
}

/* --requests FILE: JSON Lines. */
static int read_requests(struct inputs *s, const char *path)
{
	char err[PATH_MAX + 128];
	struct stat st;
	size_t len;
	int fd = file_open_regular(AT_FDCWD, path, 0, &st, err, sizeof err);
	if (fd < 0)
		return cli_fail("%s", err);
	char *text = read_text(s, fd, &st, path, &len);
	close(fd);
	return text ? add_lines(s, text, len, path, 0) : 1;
}

/* --request-file F (each one whole body, sent as it is). */
static int read_bodies(struct inputs *s, const struct cli *c)
{
	char err[PATH_MAX + 128];
	struct stat st;
	size_t len;

	for (size_t i = 0; i < c->nsets; i++) {
		int fd = file_open_regular(AT_FDCWD, c->sets[i], 0, &st, err, sizeof err);
		if (fd < 0)
			return cli_fail("%s", err);
		char *text = read_text(s, fd, &st, c->sets[i], &len);
		close(fd);
		struct replay_line l = { .kind = REPLAY_BODY, .route = REPLAY_SCORE, .data = text, .data_len = len };
		if (!text)
			return 1;
		if (keep_text(s, text) < 0 || add_line(s, &l) < 0)
			return cli_fail("out of memory");
	}
	return 0;
}

/* ---- the data collector's files ---- */

/* mdc_list's callback: each file of the collection, read whole. */
struct collected {
	struct inputs *s;
	const struct ws *w;
	int rc;
};

static int read_collected_file(void *arg, const struct mdc_file *f)
{
	struct collected *k = arg;
	char err[PATH_MAX + 128];
	struct stat st;
	size_t len;
	int fd = mdc_open(k->w, f, 0, err, sizeof err);

	if (fd < 0 && errno == ENOENT)
		return 0;   /* pruned since it was listed */
	if (fd < 0 || fstat(fd, &st) < 0) {
		k->rc = cli_fail("%s", fd < 0 ? err : strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	char *text = read_text(k->s, fd, &st, f->path, &len);
	close(fd);
	k->rc = text ? add_lines(k->s, text, len, f->path, 1) : 1;
	return k->rc;
}

/* --collected: model_inputs of `source` (NULL: every deployment of the
 * endpoint) in [from, to), oldest first (mdc_list), and the model_outputs
 * to join them with, an hour more (an answer written at the end of the
 * last period may land in the next). */
static int read_collected(struct inputs *s, const struct ws *w, const char *endpoint, const char *source,
			  time_t from, time_t to)
{
	struct collected k = { s, w, 0 };
	char err[PATH_MAX + 128];
	time_t more = to > TIME_T_LAST - 3600 ? to : to + 3600;

	if (mdc_list(w, endpoint, source, MDC_MODEL_INPUTS, from, to, read_collected_file, &k, err, sizeof err) < 0 ||
	    (!k.rc && mdc_list(w, endpoint, source, MDC_MODEL_OUTPUTS, from, more, read_collected_file, &k, err,
			       sizeof err) < 0))
		return cli_fail("%s", err);
	return k.rc;
}

/* ---- sending and comparing ---- */

/* One deployment's side of the run. */
struct side {
	const char *deployment;
	size_t failed;
	struct {
		int status;
		size_t n;
	} statuses[REPLAY_STATUSES];
	size_t nstatuses;
	double *ms;                  /* each request's latency */
	size_t nms;
	struct cgi_response r;       /* the last answer */
	char *resp;
};

struct run {
	struct cli_cgi k;
	const char *endpoint;
	int body_fd;
	struct enc_buf body;
	struct side d, against;
	int has_against;
	struct replay_answer got, want;
	size_t requests, rows, rows_compared, rows_agreeing, requests_compared, identical, unmatched;
	struct replay_worst *worst;
	size_t nworst, worst_cap;
	unsigned long long seq;
};

static void count_status(struct side *sd, int status)
{
	size_t i;
	sd->failed++;
	for (i = 0; i < sd->nstatuses && sd->statuses[i].status != status; i++)
		;
	if (i == sd->nstatuses) {
		if (i == REPLAY_STATUSES)
			i--;   /* the rest under the last */
		else
			sd->nstatuses++;
		sd->statuses[i].status = status;
	}
	sd->statuses[i].n++;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* POST the body in run->body_fd to sd's deployment: 0 with sd->r, or 1
 * after a refusal (the handler could not be run or answered no CGI). */
static int send_one(struct run *run, struct side *sd, const char *uri)
{
	size_t len = 0;
	int status = 0;
	double t0 = now_ms();

	free(sd->resp);
	sd->resp = NULL;
	if (cli_cgi_post(&run->k, uri, sd->deployment, run->body_fd, run->body.len, &sd->resp, &len, &status) ||
	    cli_cgi_parse(&run->k, sd->resp, len, status, &sd->r))
		return 1;
	sd->ms[sd->nms++] = now_ms() - t0;
	if (sd->r.status != 200)
		count_status(sd, sd->r.status);
	return 0;
}

/* The body of the next request into run->body_fd. */
static int write_body(struct run *run, const struct replay_line *l)
{
	replay_body(l, &run->body);
	if (enc_status(&run->body) != ENC_OK)
		return cli_fail("a request body does not fit in memory");
	if (ftruncate(run->body_fd, 0) < 0 || pwrite(run->body_fd, run->body.p, run->body.len, 0) != (ssize_t)run->body.len)
		return cli_fail("cannot write a request body to a temporary file: %s", strerror(errno));
	return 0;
}

static int by_key(const void *a, const void *b)
{
	const struct replay_line *x = a, *y = b;
	int c = strcmp(x->deployment, y->deployment);
	return c ? c : strcmp(x->id, y->id);
}

/* The collected output of input l, or NULL. */
static const struct replay_line *collected_output(const struct inputs *s, const struct replay_line *l)
{
	if (l->kind != REPLAY_INPUTS || !s->nout)
		return NULL;
	return bsearch(l, s->out, s->nout, sizeof *s->out, by_key);
}

/* Compare run->got (rows of the answer) with run->want, row by row. */
static void compare_rows(struct run *run, const char *id)
{
	size_t n = run->got.nrows > run->want.nrows ? run->got.nrows : run->want.nrows;
	for (size_t i = 0; i < n; i++) {
		struct replay_worst x = { .row = i, .max_abs = -1, .seq = run->seq++ };
		snprintf(x.id, sizeof x.id, "%s", id);
		run->rows_compared++;
		if (i < run->got.nrows && i < run->want.nrows) {
			replay_compare_row(&run->got, i, &run->want, i, &x.agree, &x.max_abs);
			replay_row_class(&run->got, i, x.got);
			replay_row_class(&run->want, i, x.want);
		} else {   /* a row only one answer has */
			snprintf(x.got, sizeof x.got, "%s", i < run->got.nrows ? "" : "(none)");
			snprintf(x.want, sizeof x.want, "%s", i < run->want.nrows ? "" : "(none)");
			if (i < run->got.nrows)
				replay_row_class(&run->got, i, x.got);
			if (i < run->want.nrows)
				replay_row_class(&run->want, i, x.want);
		}
		run->rows_agreeing += (size_t)x.agree;
		replay_worst_add(run->worst, &run->nworst, run->worst_cap, &x);
	}
}

/* Replay one input: send it (and to --against), then compare. */
static int replay_one(struct run *run, const struct inputs *s, const struct replay_line *l)
{
	char uri[96], err[256], id[REPLAY_ID_MAX];
	const char *want = NULL;
	size_t want_len = 0;
	int rc;

	snprintf(uri, sizeof uri, "/%s/%s", run->endpoint, l->route == REPLAY_INVOCATIONS ? "invocations" : "score");
	if ((rc = write_body(run, l)) || (rc = send_one(run, &run->d, uri)))
		return rc;
	run->requests++;
	if (run->has_against) {
		if ((rc = send_one(run, &run->against, uri)))
			return rc;
		if (run->against.r.status == 200) {
			want = run->against.r.body;
			want_len = run->against.r.body_len;
		}
	} else {
		const struct replay_line *o = collected_output(s, l);
		if (o) {
			want = o->data;
			want_len = o->data_len;
		}
	}
	if (l->kind == REPLAY_INPUTS)
		snprintf(id, sizeof id, "%s", l->id);
	else
		snprintf(id, sizeof id, "request %zu", run->requests);
	run->got.nrows = 0;
	if (run->d.r.status == 200) {
		if (replay_answer_parse(&run->got, run->d.r.body, run->d.r.body_len, err, sizeof err) < 0)
			return cli_fail("%s: the answer of %s: %s", run->d.deployment, id, err);
		run->rows += run->got.nrows;
	}
	if (!want) {
		run->unmatched += !run->has_against;
		return 0;
	}
	if (replay_answer_parse(&run->want, want, want_len, err, sizeof err) < 0)
		return cli_fail("%s: the %s answer of %s: %s", run->has_against ? run->against.deployment : l->deployment,
				run->has_against ? "--against" : "collected", id, err);
	run->requests_compared++;
	run->identical += run->d.r.status == 200 && replay_same_body(run->d.r.body, run->d.r.body_len, want, want_len);
	compare_rows(run, id);   /* a failed request: every row the other answered disagrees */
	return 0;
}

/* ---- the report ---- */

static struct ws_node *num(double v)
{
	char text[NUM_FORMAT_MAX];
	return num_format(v, text) ? ws_node_new(WS_NUM, text) : ws_node_new(WS_NULL, "null");
}

static struct ws_node *ms(double v)
{
	char text[64];
	snprintf(text, sizeof text, "%.3f", v);
	return ws_node_new(WS_NUM, text);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* {"p50", "p90", "p99", "requests"} of sd's latencies, in ms. */
static struct ws_node *latency(struct side *sd)
{
	struct ws_node *m = ws_node_new(WS_MAP, NULL);
	qsort(sd->ms, sd->nms, sizeof *sd->ms, cmp_double);
	static const double ps[] = { 50, 90, 99 };
	static const char *const names[] = { "p50", "p90", "p99" };
	for (size_t i = 0; m && i < sizeof ps / sizeof ps[0]; i++)
		ws_node_set(m, names[i], sd->nms ? ms(replay_percentile(sd->ms, sd->nms, ps[i])) :
						   ws_node_new(WS_NULL, "null"));
	return m;
}

static struct ws_node *statuses(const struct side *sd)
{
	char key[16];
	struct ws_node *m = ws_node_new(WS_MAP, NULL);
	for (size_t i = 0; m && i < sd->nstatuses; i++) {
		snprintf(key, sizeof key, "%d", sd->statuses[i].status);
		ws_node_set(m, key, ws_node_int((long long)sd->statuses[i].n));
	}
	return m;
}

static struct ws_node *worst_rows(const struct run *run)
{
	struct ws_node *seq = ws_node_new(WS_SEQ, NULL);
	for (size_t i = 0; seq && i < run->nworst; i++) {
		const struct replay_worst *x = &run->worst[i];
		struct ws_node *m = ws_node_new(WS_MAP, NULL);
		if (m) {
			ws_node_set(m, "correlation_id", ws_node_str(x->id));
			ws_node_set(m, "row", ws_node_int((long long)x->row));
			ws_node_set(m, "agree", ws_node_new(WS_BOOL, x->agree ? "true" : "false"));
			ws_node_set(m, "class", ws_node_str(x->got));
			ws_node_set(m, "expected_class", ws_node_str(x->want));
			ws_node_set(m, "max_abs_diff", x->max_abs < 0 ? ws_node_new(WS_NULL, "null") : num(x->max_abs));
		}
		ws_node_push(seq, m);
	}
	return seq;
}

/* The report, and whether the gate passed (1), failed (0), or was not
 * asked (-1) into *gate. */
static struct ws_node *report(struct run *run, const struct inputs *s, const char *source, const char *min_text,
			      double min, int *gate)
{
	struct ws_node *m = ws_node_new(WS_MAP, NULL);
	int some = run->rows_compared > 0;
	double agreement = some ? (double)run->rows_agreeing / (double)run->rows_compared : 0;

	*gate = -1;
	if (!m)
		return NULL;
	ws_node_set(m, "endpoint", ws_node_str(run->endpoint));
	ws_node_set(m, "deployment", ws_node_str(run->d.deployment));
	ws_node_set(m, "source", ws_node_str(source));
	ws_node_set(m, "compared_with", run->has_against ? ws_node_str(run->against.deployment) :
				       s->nout ? ws_node_str("collected model_outputs") : ws_node_new(WS_NULL, "null"));
	ws_node_set(m, "requests", ws_node_int((long long)run->requests));
	ws_node_set(m, "requests_failed", ws_node_int((long long)run->d.failed));
	ws_node_set(m, "failed_by_status", statuses(&run->d));
	ws_node_set(m, "rows", ws_node_int((long long)run->rows));
	ws_node_set(m, "requests_compared", ws_node_int((long long)run->requests_compared));
	ws_node_set(m, "identical_bodies", ws_node_int((long long)run->identical));
	ws_node_set(m, "rows_compared", ws_node_int((long long)run->rows_compared));
	ws_node_set(m, "rows_agreeing", ws_node_int((long long)run->rows_agreeing));
	ws_node_set(m, "agreement", some ? num(agreement) : ws_node_new(WS_NULL, "null"));
	ws_node_set(m, "worst_rows", worst_rows(run));
	ws_node_set(m, "latency_ms", latency(&run->d));
	if (run->has_against) {
		struct ws_node *a = ws_node_new(WS_MAP, NULL);
		if (a) {
			ws_node_set(a, "requests_failed", ws_node_int((long long)run->against.failed));
			ws_node_set(a, "failed_by_status", statuses(&run->against));
			ws_node_set(a, "latency_ms", latency(&run->against));
		}
		ws_node_set(m, "against", a);
	} else {
		ws_node_set(m, "unmatched", ws_node_int((long long)run->unmatched));
		ws_node_set(m, "lines_skipped", ws_node_int((long long)s->skipped));
	}
	if (min_text) {
		*gate = some && agreement >= min;
		ws_node_set(m, "min_agreement", num(min));
		ws_node_set(m, "gate", ws_node_str(*gate ? "passed" : "failed"));
	}
	return m;
}

/* ---- the verb ---- */

/* A whole number from lo to hi in text, else a usage error. */
static int whole(const struct cli *c, const char *flag, const char *text, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = text[0] >= '0' && text[0] <= '9' ? strtol(text, &end, 10) : 0;
	if (text[0] < '0' || text[0] > '9' || *end || errno || v < lo || v > hi)
		return cli_usage_fail(c, "--%s %s: expected a whole number from %ld to %ld", flag, text, lo, hi);
	*out = v;
	return 0;
}

/* --from/--to: a UTC day, hour or minute (mdc_parse_time, as get-data);
 * --to's end, so that it names the last period included. */
static int utc_time(const struct cli *c, const char *flag, const char *text, int end, time_t *out)
{
	if (mdc_parse_time(text, end, out) == 0)
		return 0;
	return cli_usage_fail(c, "--%s %s: expected a UTC day, hour or minute: 2026-12-07, 2026-12-07T03 or "
			      "2026-12-07T03:15", flag, text);
}

/* The options: the source, the bounds, the gate.  0 or the status. */
struct opts {
	const char *source;
	long max, worst;
	time_t from, to;
	double min;
};

static int options(const struct cli *c, struct opts *o)
{
	int nsources = !!c->val[O_COLLECTED] + !!c->val[O_REQUESTS] + (c->nsets > 0);
	int rc = cli_need(c, O_NAME);

	o->max = REPLAY_MAX_DEFAULT;
	o->worst = REPLAY_WORST_DEFAULT;
	o->from = 0;
	o->to = TIME_T_LAST;
	if (rc || (rc = cli_need(c, O_ENDPOINT)))
		return rc;
	if (nsources != 1)
		return cli_usage_fail(c, "give one of --collected, --requests FILE or --request-file FILE");
	o->source = c->val[O_COLLECTED] ? "collected" : c->val[O_REQUESTS] ? "requests" : "request-file";
	if (!c->val[O_COLLECTED] && (c->val[O_SOURCE_DEPLOYMENT] || c->val[O_FROM] || c->val[O_TO]))
		return cli_usage_fail(c, "--source-deployment, --from and --to go with --collected");
	if ((c->val[O_MAX] && (rc = whole(c, "max", c->val[O_MAX], 1, REPLAY_MAX_LIMIT, &o->max))) ||
	    (c->val[O_WORST] && (rc = whole(c, "worst", c->val[O_WORST], 0, REPLAY_WORST_LIMIT, &o->worst))) ||
	    (c->val[O_FROM] && (rc = utc_time(c, "from", c->val[O_FROM], 0, &o->from))) ||
	    (c->val[O_TO] && (rc = utc_time(c, "to", c->val[O_TO], 1, &o->to))))
		return rc;
	if (o->from >= o->to)
		return cli_usage_fail(c, "--from %s is after --to %s", c->val[O_FROM], c->val[O_TO]);
	const char *m = c->val[O_MIN_AGREEMENT];
	if (m && (num_parse(m, m + strlen(m), NUM_JSON, &o->min) != NUM_OK || o->min < 0 || o->min > 1))
		return cli_usage_fail(c, "--min-agreement %s: expected a fraction from 0 to 1, such as 0.99", m);
	if ((rc = cli_name("--name", c->val[O_NAME])) || (rc = cli_name("--endpoint-name", c->val[O_ENDPOINT])) ||
	    (c->val[O_AGAINST] && (rc = cli_name("--against", c->val[O_AGAINST]))) ||
	    (c->val[O_SOURCE_DEPLOYMENT] && (rc = cli_name("--source-deployment", c->val[O_SOURCE_DEPLOYMENT]))))
		return rc;
	return 0;
}

/* A temporary file for the request bodies, already unlinked. */
static int body_file(void)
{
	char tmp[PATH_MAX], tdir[PATH_MAX];
	const char *td = getenv("TMPDIR");
	td = td && *td ? cli_trim_slashes(td, tdir, sizeof tdir) : "/tmp";
	snprintf(tmp, sizeof tmp, "%s/scorepoint-replay-XXXXXX", td);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		cli_fail("%s: %s", tmp, strerror(errno));
		return -1;
	}
	unlink(tmp);
	return fd;
}

/* Check the deployments named exist in e. */
static int known(const struct ws_endpoint *e, const char *name)
{
	if (!name || ws_deployment(e, name, strlen(name)))
		return 0;
	return cli_fail("endpoint \"%s\" has no deployment \"%s\"", e->name, name);
}

static void run_free(struct run *run, struct inputs *s)
{
	cli_cgi_close(&run->k);
	if (run->body_fd >= 0)
		close(run->body_fd);
	enc_free(&run->body);
	free(run->d.ms);
	free(run->d.resp);
	free(run->against.ms);
	free(run->against.resp);
	replay_answer_free(&run->got);
	replay_answer_free(&run->want);
	free(run->worst);
	for (size_t i = 0; i < s->ntexts; i++)
		free(s->texts[i]);
	free(s->texts);
	free(s->in);
	free(s->out);
}

int cli_deployment_replay(struct cli *c)
{
	struct ws w;
	struct opts o;
	struct inputs s = { 0 };
	struct run run;
	char handler[PATH_MAX];
	int gate = -1, rc = options(c, &o);

	if (rc || (rc = cli_find_handler(handler, sizeof handler)) || (rc = cli_load(c, &w)))
		return rc;
	memset(&run, 0, sizeof run);
	run.body_fd = -1;
	enc_init(&run.body, 0);
	s.max = (size_t)o.max;
	rc = 1;
	const struct ws_endpoint *e = ws_endpoint(&w, c->val[O_ENDPOINT], strlen(c->val[O_ENDPOINT]));
	if (!e) {
		cli_fail("endpoint \"%s\" does not exist", c->val[O_ENDPOINT]);
		goto out;
	}
	if (known(e, c->val[O_NAME]) || known(e, c->val[O_AGAINST]))
		goto out;
	if (c->val[O_COLLECTED] ? read_collected(&s, &w, e->name, c->val[O_SOURCE_DEPLOYMENT], o.from, o.to) :
	    c->val[O_REQUESTS] ? read_requests(&s, c->val[O_REQUESTS]) : read_bodies(&s, c))
		goto out;
	if (s.nout)
		qsort(s.out, s.nout, sizeof *s.out, by_key);
	run.endpoint = e->name;
	run.d.deployment = c->val[O_NAME];
	run.against.deployment = c->val[O_AGAINST];
	run.has_against = c->val[O_AGAINST] != NULL;
	run.worst_cap = (size_t)o.worst;
	run.d.ms = malloc((s.nin + 1) * sizeof *run.d.ms);
	run.against.ms = malloc((s.nin + 1) * sizeof *run.against.ms);
	run.worst = malloc(((size_t)o.worst + 1) * sizeof *run.worst);
	if (!run.d.ms || !run.against.ms || !run.worst) {
		cli_fail("out of memory");
		goto out;
	}
	if ((run.body_fd = body_file()) < 0 || cli_cgi_open(&run.k, handler, &w, e))
		goto out;
	/* What is replayed was collected once: it is not collected again. */
	if (cgi_env_add(&run.k.env, "SCOREPOINT_COLLECT", "off") < 0) {
		cli_fail("out of memory or too many environment variables");
		goto out;
	}
	run.k.base = run.k.env.n;
	for (size_t i = 0; i < s.nin; i++)
		if (replay_one(&run, &s, &s.in[i]))
			goto out;
	rc = cli_print(c, report(&run, &s, o.source, c->val[O_MIN_AGREEMENT], o.min, &gate));
	if (rc == 0 && gate == 0) {
		if (run.rows_compared)
			cli_fail("replay %s: %zu of %zu rows agree, under --min-agreement %s", run.d.deployment,
				 run.rows_agreeing, run.rows_compared, c->val[O_MIN_AGREEMENT]);
		else
			cli_fail("replay %s: no rows to compare (no collected output joined, no --against): "
				 "--min-agreement %s is not met", run.d.deployment, c->val[O_MIN_AGREEMENT]);
		rc = REPLAY_EXIT_GATE;
	}
out:
	run_free(&run, &s);
	ws_free(&w);
	return rc;
}
