/*
 * cli_data.c - `scorepoint online-deployment get-data`: what the data
 * collector wrote for a deployment (docs/collect.md), its lines or, with
 * --list, its files, oldest first, between two UTC times.
 */
#define _GNU_SOURCE   /* memrchr */
#include "cli/cli.h"
#include "model/enc.h"
#include "workspace/mdc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK ((size_t)1 << 16)

struct get_data {
	const struct ws *w;
	int list;
	size_t files;
	int rc;
};

/* The period's start as --from takes it: 2026-12-07, 2026-12-07T03 or
 * 2026-12-07T03:47. */
static void period_text(const struct mdc_file *f, char *out, size_t len)
{
	static const size_t keep[] = { 16, 13, 10 };   /* of YYYY-MM-DDTHH:MM, by enum ws_rolling */
	struct tm tm;

	gmtime_r(&f->start, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M", &tm);
	if (strlen(out) > keep[f->rolling])
		out[keep[f->rolling]] = '\0';
}

/* f's whole lines to stdout (copy 1) or counted into *lines (copy 0);
 * a last line without its newline (a write in progress) is left out.
 * 0, or a refusal. */
static int read_lines(const struct ws *w, const struct mdc_file *f, int copy, unsigned long long *lines,
		      unsigned long long *bytes)
{
	char err[PATH_MAX + 128];
	int fd = mdc_open(w, f, 0, err, sizeof err), rc = 0;
	char *buf = fd >= 0 ? malloc(READ_CHUNK) : NULL;
	size_t have = 0, cap = READ_CHUNK;

	if (fd < 0)
		return errno == ENOENT ? 0 : cli_fail("%s", err);   /* pruned since it was listed */
	if (!buf) {
		close(fd);
		return cli_fail("out of memory");
	}
	*lines = *bytes = 0;
	for (;;) {
		if (have == cap) {
			char *p = realloc(buf, cap * 2);
			if (!p) {
				rc = cli_fail("out of memory");
				break;
			}
			buf = p;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = cli_fail("%s/%s: %s", w->dir, f->path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		char *nl = memrchr(buf, '\n', have);
		if (!nl)
			continue;
		size_t whole = (size_t)(nl - buf) + 1;
		for (char *p = buf; (p = memchr(p, '\n', whole - (size_t)(p - buf))) != NULL; p++)
			(*lines)++;
		*bytes += whole;
		if (copy && fwrite(buf, 1, whole, stdout) != whole) {
			rc = cli_fail("stdout: %s", strerror(errno));
			break;
		}
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
	free(buf);
	close(fd);
	return rc;
}

/* --list: {"path": ..., "collection": ..., "hour": ..., "lines": N, "bytes": N} */
static int list_one(const struct ws *w, const struct mdc_file *f)
{
	unsigned long long lines, bytes;
	char when[32];
	struct enc_buf b;
	int rc = read_lines(w, f, 0, &lines, &bytes);

	if (rc)
		return rc;
	period_text(f, when, sizeof when);
	enc_init(&b, 0);
	enc_cstr(&b, "{\"path\": ");
	enc_string(&b, f->path);
	enc_cstr(&b, ", \"collection\": ");
	enc_string(&b, mdc_collection_name(f->collection));
	enc_cstr(&b, ", \"hour\": ");
	enc_string(&b, when);
	enc_cstr(&b, ", \"lines\": ");
	enc_uint(&b, lines);
	enc_cstr(&b, ", \"bytes\": ");
	enc_uint(&b, bytes);
	enc_cstr(&b, "}\n");
	if (enc_status(&b) != ENC_OK || fwrite(b.p, 1, b.len, stdout) != b.len)
		rc = cli_fail("stdout: %s", strerror(errno));
	enc_free(&b);
	return rc;
}

static int each(void *arg, const struct mdc_file *f)
{
	struct get_data *g = arg;
	unsigned long long lines, bytes;

	g->files++;
	g->rc = g->list ? list_one(g->w, f) : read_lines(g->w, f, 1, &lines, &bytes);
	return g->rc;
}

/* --from and --to (the last period included); 0 or a usage error. */
static int time_range(const struct cli *c, time_t *from, time_t *to)
{
	*from = 0;
	*to = (time_t)1 << 62;
	if (c->val[O_FROM] && mdc_parse_time(c->val[O_FROM], 0, from) < 0)
		return cli_usage_fail(c, "--from %s: expected a UTC time 2026-12-07, 2026-12-07T03 or 2026-12-07T03:47",
				      c->val[O_FROM]);
	if (c->val[O_TO] && mdc_parse_time(c->val[O_TO], 1, to) < 0)
		return cli_usage_fail(c, "--to %s: expected a UTC time 2026-12-07, 2026-12-07T03 or 2026-12-07T03:47",
				      c->val[O_TO]);
	return 0;
}

int cli_deployment_data(struct cli *c)
{
	const char *coll = c->val[O_COLLECTION];
	int collection = coll ? mdc_collection(coll) : -1;
	struct get_data g = { NULL, c->val[O_LIST] != NULL, 0, 0 };
	char err[PATH_MAX + 128];
	time_t from, to;
	struct ws w;
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_need(c, O_ENDPOINT)) || (rc = cli_name("--name", c->val[O_NAME])) ||
	    (rc = cli_name("--endpoint-name", c->val[O_ENDPOINT])))
		return rc;
	if (coll && collection < 0)
		return cli_usage_fail(c, "--collection %s: use model_inputs or model_outputs", coll);
	if ((rc = time_range(c, &from, &to)) || (rc = cli_load(c, &w)))
		return rc;
	g.w = &w;
	const struct ws_endpoint *e = ws_endpoint(&w, c->val[O_ENDPOINT], strlen(c->val[O_ENDPOINT]));
	int known = e && ws_deployment(e, c->val[O_NAME], strlen(c->val[O_NAME]));
	int lr = mdc_list(&w, c->val[O_ENDPOINT], c->val[O_NAME], collection, from, to, each, &g, err, sizeof err);
	if (lr < 0)
		rc = cli_fail("%s", err);
	else if (lr > 0)
		rc = lr;
	else if (g.files == 0 && !known)   /* what a deleted deployment collected stays readable */
		rc = cli_fail("endpoint \"%s\" has no deployment \"%s\", and nothing was collected under that name",
			      c->val[O_ENDPOINT], c->val[O_NAME]);
	if (fflush(stdout) != 0 && !rc)
		rc = cli_fail("stdout: %s", strerror(errno));
	ws_free(&w);
	return rc;
}
