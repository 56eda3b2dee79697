/*
 * collect.c - the data collector's writer (collect.h): a request's lines,
 * the files they go to, the limits and what a failure does.
 */
#include "handler/collect.h"
#include "handler/call.h"
#include "model/enc.h"
#include "workspace/mdc.h"
#include "workspace/ws.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define OPEN_FILES 8          /* files a worker keeps open (2 collections x a few deployments) */
#define REPORT_EVERY 60       /* seconds between two stderr lines of a worker */
#define KEEP_LINE_BYTES ((size_t)16 << 20)   /* a line buffer grown past this is given back */

static unsigned long long max_file = COLLECT_DEFAULT_MAX_FILE_BYTES, max_total = COLLECT_DEFAULT_MAX_BYTES;

void collect_set_limits(unsigned long long max_file_bytes, unsigned long long max_bytes)
{
	max_file = max_file_bytes ? max_file_bytes : COLLECT_DEFAULT_MAX_FILE_BYTES;
	max_total = max_bytes ? max_bytes : COLLECT_DEFAULT_MAX_BYTES;
}

struct open_file {
	int fd;                       /* -1: free */
	struct mdc_file f;
	unsigned long long used;      /* last use, for eviction */
};

struct collector {
	struct enc_buf line;
	struct open_file open[OPEN_FILES];
	unsigned long long uses;
	unsigned long long since_prune;   /* bytes written since the last look at the total */
	int prune_due;                    /* a file was opened: look at the total */
	time_t reported;                  /* the last stderr line */
	unsigned long long lost;          /* lines lost since it */
	char why[PATH_MAX + 128];         /* the first failure since it */
};

struct collector *collector_new(void)
{
	struct collector *col = calloc(1, sizeof *col);

	if (!col)
		return NULL;
	enc_init(&col->line, COLLECT_MAX_LINE);
	for (int i = 0; i < OPEN_FILES; i++)
		col->open[i].fd = -1;
	col->prune_due = 1;
	return col;
}

void collector_free(struct collector *col)
{
	if (!col)
		return;
	for (int i = 0; i < OPEN_FILES; i++)
		if (col->open[i].fd >= 0)
			close(col->open[i].fd);
	enc_free(&col->line);
	free(col);
}

/* ---- failures ---- */

/* Count a line; a lost one is reported on stderr, at most once a minute. */
static void count(struct collector *col, const struct collect_item *it, int collection, int ok)
{
	metrics_collect(it->metrics, it->slot, collection, ok);
	if (ok)
		return;
	col->lost++;
	if (it->when.tv_sec - col->reported < REPORT_EVERY)
		return;
	fprintf(stderr, "score.fcgi[%ld]: data collection: %llu line(s) lost: %s\n", (long)getpid(), col->lost,
		col->why);
	col->reported = it->when.tv_sec;
	col->lost = 0;
	col->why[0] = '\0';
}

static int failed(struct collector *col, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keep the first reason since the last report; -1. */
static int failed(struct collector *col, const char *fmt, ...)
{
	va_list ap;

	if (col->why[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(col->why, sizeof col->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the files ---- */

/* The open file of f (opened, evicting the least used, when it is not). */
static int file_fd(struct collector *col, const struct collect_item *it, const struct mdc_file *f)
{
	struct open_file *slot = &col->open[0];
	char err[PATH_MAX + 128];

	for (int i = 0; i < OPEN_FILES; i++) {
		struct open_file *o = &col->open[i];
		if (o->fd >= 0 && strcmp(o->f.path, f->path) == 0) {
			o->used = ++col->uses;
			return o->fd;
		}
		if (o->fd < 0 ? slot->fd >= 0 : slot->fd >= 0 && o->used < slot->used)
			slot = o;
	}
	if (slot->fd >= 0)
		close(slot->fd);
	slot->fd = mdc_open(it->w, f, 1, err, sizeof err);
	if (slot->fd < 0)
		return failed(col, "%s", err);
	slot->f = *f;
	slot->used = ++col->uses;
	col->prune_due = 1;
	return slot->fd;
}

/* Forget the open file of f (it was removed, or failed). */
static void drop_file(struct collector *col, const struct mdc_file *f)
{
	for (int i = 0; i < OPEN_FILES; i++)
		if (col->open[i].fd >= 0 && strcmp(col->open[i].f.path, f->path) == 0) {
			close(col->open[i].fd);
			col->open[i].fd = -1;
		}
}

/*
 * Append p[len] to fd (f's file) as one write under flock: refused when
 * the file would pass max_file, undone when the write comes up short.
 * 0; 1 when the file was removed from under us (reopen it); -1.
 */
static int append(struct collector *col, int fd, const struct mdc_file *f, const char *p, size_t len)
{
	struct stat st;
	int rc = 0;

	if (flock(fd, LOCK_EX) < 0)
		return failed(col, "%s: flock: %s", f->path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = failed(col, "%s: %s", f->path, strerror(errno));
	} else if (st.st_nlink == 0) {
		rc = 1;
	} else if ((unsigned long long)st.st_size + len > max_file) {
		rc = failed(col, "%s: the file would pass --collect-max-file-bytes (%llu)", f->path, max_file);
	} else {
		ssize_t n = write(fd, p, len);
		if (n != (ssize_t)len) {
			int e = n < 0 ? errno : ENOSPC;
			if (n > 0 && ftruncate(fd, st.st_size) < 0)
				e = errno;
			rc = failed(col, "%s: %s", f->path, strerror(e));
		}
	}
	flock(fd, LOCK_UN);
	return rc;
}

/* The line in col->line to the file of collection; 0 or -1. */
static int write_line(struct collector *col, const struct collect_item *it, int collection)
{
	struct mdc_file f;

	if (enc_status(&col->line) == ENC_FULL)
		return failed(col, "a line of %s/%s larger than %zu bytes", it->endpoint, it->deployment,
			      COLLECT_MAX_LINE);
	if (mdc_file_at(&f, it->endpoint, it->deployment, collection, it->rolling, it->when.tv_sec) < 0)
		return failed(col, "no path for %s/%s", it->endpoint, it->deployment);
	for (int tries = 0; tries < 2; tries++) {
		int fd = file_fd(col, it, &f);
		int rc = fd < 0 ? -1 : append(col, fd, &f, col->line.p, col->line.len);
		if (rc <= 0) {
			if (rc < 0)
				drop_file(col, &f);
			else
				col->since_prune += col->line.len;
			return rc;
		}
		drop_file(col, &f);   /* removed under us (pruned, or by hand): a new one */
	}
	return -1;
}

/* ---- the lines ---- */

/* Everything before "data": the CloudEvents envelope Azure's collector
 * writes, and the request's own keys. */
static void envelope(struct enc_buf *b, const struct collect_item *it, const char *type, int top_k)
{
	static const char hex[] = "0123456789abcdef";
	char id[33], when[48], source[2 * NAME_MAX_LEN + 32];
	struct tm tm;

	for (int half = 0; half < 2; half++) {
		uint64_t z = call_rand64();
		for (int i = 0; i < 16; i++, z >>= 4)
			id[16 * half + i] = hex[z & 15];
	}
	id[32] = '\0';
	gmtime_r(&it->when.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof when - strlen(when), ".%03ldZ", it->when.tv_nsec / 1000000);
	snprintf(source, sizeof source, "/endpoints/%s/deployments/%s", it->endpoint, it->deployment);
	enc_reset(b);
	enc_cstr(b, "{\"specversion\": \"1.0\", \"id\": ");
	enc_string(b, id);
	enc_cstr(b, ", \"source\": ");
	enc_string(b, source);
	enc_cstr(b, ", \"type\": ");
	enc_string(b, type);
	enc_cstr(b, ", \"datacontenttype\": \"application/json\", \"time\": ");
	enc_string(b, when);
	enc_cstr(b, ", \"correlationid\": ");
	enc_string(b, it->request_id);
	enc_cstr(b, ", \"endpoint\": ");
	enc_string(b, it->endpoint);
	enc_cstr(b, ", \"deployment\": ");
	enc_string(b, it->deployment);
	enc_cstr(b, ", \"route\": ");
	enc_string(b, it->route);
	if (top_k > 0) {
		enc_cstr(b, ", \"params\": {\"top_k\": ");
		enc_uint(b, (uint64_t)top_k);
		enc_cstr(b, "}");
	}
	enc_cstr(b, ", \"data\": ");
}

/* [[row 0], [row 1], ...]: each float32 as repr() of its double, as the
 * answers print numbers, so that it reads back as the same float32. */
static void rows(struct enc_buf *b, const float *x, size_t nrows, size_t width)
{
	enc_cstr(b, "[");
	for (size_t r = 0; r < nrows; r++) {
		enc_cstr(b, r ? ", [" : "[");
		for (size_t j = 0; j < width; j++) {
			if (j)
				enc_raw(b, ", ", 2);
			enc_number(b, (double)x[r * width + j]);
		}
		enc_cstr(b, "]");
	}
	enc_cstr(b, "]}\n");
}

/* Close the files of periods that ended a minute ago or more: a file
 * pruned meanwhile is freed only once nobody holds it. */
static void close_ended(struct collector *col, time_t now)
{
	for (int i = 0; i < OPEN_FILES; i++) {
		struct open_file *o = &col->open[i];
		if (o->fd >= 0 && mdc_period_end(o->f.start, o->f.rolling) + 60 <= now) {
			close(o->fd);
			o->fd = -1;
		}
	}
}

void collector_write(struct collector *col, const struct collect_item *it)
{
	struct enc_buf *b = &col->line;
	int top_k = it->top_k;

	close_ended(col, it->when.tv_sec);
	if (it->inputs) {
		envelope(b, it, "azureml.inference.model_inputs", top_k);
		rows(b, it->x, it->rows, it->width);
		count(col, it, METRICS_MODEL_INPUTS, write_line(col, it, MDC_MODEL_INPUTS) == 0);
	}
	if (it->outputs) {
		envelope(b, it, "azureml.inference.model_outputs", top_k);
		enc_raw(b, it->answer, it->answer_len);
		enc_cstr(b, "}\n");
		count(col, it, METRICS_MODEL_OUTPUTS, write_line(col, it, MDC_MODEL_OUTPUTS) == 0);
	}
	if (b->cap > KEEP_LINE_BYTES) {
		enc_free(b);
		enc_init(b, COLLECT_MAX_LINE);
	}
	if (col->prune_due || col->since_prune >= max_total / 16) {
		char err[PATH_MAX + 128];
		if (mdc_prune(it->w, max_total, it->when.tv_sec, err, sizeof err) < 0)
			failed(col, "pruning: %s", err);
		col->prune_due = 0;
		col->since_prune = 0;
	}
}
