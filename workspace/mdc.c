/*
 * mdc.c - the data collector's files under the workspace: their paths,
 * opening, listing in time order and pruning the oldest (mdc.h).
 */
#define _GNU_SOURCE   /* O_PATH */
#include "workspace/mdc.h"
#include "model/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define FIXED_PARTS 5   /* data, modelDataCollector, ENDPOINT, DEPLOYMENT, COLLECTION */
#define MAX_PARTS (FIXED_PARTS + 5 + 1)   /* + YYYY MM DD HH mm + data.jsonl */

static const char *const collections[MDC_NCOLLECTIONS] = { "model_inputs", "model_outputs" };

/* The time folders, outermost first: digits, and the range of each. */
static const struct level {
	int digits, min, max;
} levels[] = { { 4, 1970, 9999 }, { 2, 1, 12 }, { 2, 1, 31 }, { 2, 0, 23 }, { 2, 0, 59 } };

/* The level (index in levels[]) whose folder holds a period's file. */
static int leaf_level(int rolling)
{
	return rolling == WS_ROLL_DAY ? 2 : rolling == WS_ROLL_MINUTE ? 4 : 3;
}

const char *mdc_collection_name(int collection)
{
	return collection >= 0 && collection < MDC_NCOLLECTIONS ? collections[collection] : NULL;
}

int mdc_collection(const char *name)
{
	for (int i = 0; i < MDC_NCOLLECTIONS; i++)
		if (strcmp(name, collections[i]) == 0)
			return i;
	return -1;
}

/* ---- periods ---- */

time_t mdc_period_start(time_t t, int rolling)
{
	time_t unit = rolling == WS_ROLL_DAY ? 86400 : rolling == WS_ROLL_MINUTE ? 60 : 3600;
	return t - ((t % unit) + unit) % unit;
}

time_t mdc_period_end(time_t start, int rolling)
{
	return start + (rolling == WS_ROLL_DAY ? 86400 : rolling == WS_ROLL_MINUTE ? 60 : 3600);
}

/* ---- paths ---- */

/* The time folders of f ("2026", "12", "07", "03"...) into t[5][5]: how many. */
static int time_parts(const struct mdc_file *f, char t[5][5])
{
	struct tm tm;
	int n = leaf_level(f->rolling) + 1;
	int v[5];

	gmtime_r(&f->start, &tm);
	v[0] = tm.tm_year + 1900;
	v[1] = tm.tm_mon + 1;
	v[2] = tm.tm_mday;
	v[3] = tm.tm_hour;
	v[4] = tm.tm_min;
	for (int i = 0; i < n; i++)
		snprintf(t[i], 5, "%0*d", levels[i].digits, v[i] % 10000);
	return n;
}

/* Every component of f's path, data.jsonl last, into parts (pointing
 * into f and t): how many. */
static size_t parts_of(const struct mdc_file *f, char t[5][5], const char **parts)
{
	size_t n = 0;
	parts[n++] = MDC_DATA_DIR;
	parts[n++] = MDC_ROOT;
	parts[n++] = f->endpoint;
	parts[n++] = f->deployment;
	parts[n++] = collections[f->collection];
	int k = time_parts(f, t);
	for (int i = 0; i < k; i++)
		parts[n++] = t[i];
	parts[n++] = MDC_FILE;
	return n;
}

static int fill_path(struct mdc_file *f)
{
	char t[5][5];
	const char *parts[MAX_PARTS];
	size_t n = parts_of(f, t, parts), len = 0;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(f->path + len, sizeof f->path - len, "%s%s", i ? "/" : "", parts[i]);
		if (w < 0 || (size_t)w >= sizeof f->path - len)
			return -1;
		len += (size_t)w;
	}
	return 0;
}

int mdc_file_at(struct mdc_file *f, const char *endpoint, const char *deployment, int collection, int rolling,
		time_t t)
{
	memset(f, 0, sizeof *f);
	if (!name_valid(endpoint, strlen(endpoint)) || !name_valid(deployment, strlen(deployment)) ||
	    !mdc_collection_name(collection))
		return -1;
	memcpy(f->endpoint, endpoint, strlen(endpoint) + 1);
	memcpy(f->deployment, deployment, strlen(deployment) + 1);
	f->collection = collection;
	f->rolling = rolling == WS_ROLL_MINUTE || rolling == WS_ROLL_DAY ? rolling : WS_ROLL_HOUR;
	f->start = mdc_period_start(t, f->rolling);
	return fill_path(f);
}

int mdc_open(const struct ws *w, const struct mdc_file *f, int append, char *err, size_t errlen)
{
	char t[5][5];
	const char *parts[MAX_PARTS];
	size_t n = parts_of(f, t, parts);

	return ws_open_file(w, parts, n, append, 0600, err, errlen);
}

/* ---- listing ---- */

struct scan {
	const struct ws *w;
	const char *endpoint, *deployment;   /* NULL: any */
	int collection;                      /* -1: any */
	time_t from, to;
	struct mdc_file cur;                 /* names so far */
	int tv[5];                           /* the time folders so far */
	struct mdc_file *v;
	size_t n, cap;
	char *err;
	size_t errlen;
};


/* The value of a time folder's name at level, or -1. */
static int time_value(const char *name, int level)
{
	const struct level *l = &levels[level];
	if ((int)strlen(name) != l->digits || strspn(name, "0123456789") != (size_t)l->digits)
		return -1;
	int v = atoi(name);   /* only digits, at most 4 */
	return v >= l->min && v <= l->max ? v : -1;
}

static int add(struct scan *s, int level, int dfd)
{
	struct stat st;
	struct tm tm;

	if (fstatat(dfd, MDC_FILE, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = s->tv[0] - 1900;
	tm.tm_mon = s->tv[1] - 1;
	tm.tm_mday = s->tv[2];
	tm.tm_hour = level >= 3 ? s->tv[3] : 0;
	tm.tm_min = level >= 4 ? s->tv[4] : 0;
	struct mdc_file f = s->cur;
	f.rolling = level == 2 ? WS_ROLL_DAY : level == 4 ? WS_ROLL_MINUTE : WS_ROLL_HOUR;
	f.start = timegm(&tm);
	if (tm.tm_mday != s->tv[2] || f.start >= s->to || mdc_period_end(f.start, f.rolling) <= s->from)
		return 0;   /* 2026/02/31 is no day; or outside [from, to) */
	if (fill_path(&f) < 0)
		return 0;
	f.bytes = st.st_size;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct mdc_file *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return err_set(s->err, s->errlen, "out of memory listing %s/%s", s->w->dir, MDC_DATA_DIR);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = f;
	return 0;
}

/* The time folders under dfd from level on (year, month, ...). */
static int scan_time(struct scan *s, int dfd, int level)
{
	DIR *d = ws_listdir(dfd, ".");
	struct dirent *e;
	int rc = 0;

	while (d && rc == 0 && (e = readdir(d)) != NULL) {
		int v = time_value(e->d_name, level), cfd;
		if (v < 0 || (cfd = openat(dfd, e->d_name, DIR_FLAGS)) < 0)
			continue;
		s->tv[level] = v;
		if (level >= 2)
			rc = add(s, level, cfd);
		if (rc == 0 && level < 4)
			rc = scan_time(s, cfd, level + 1);
		close(cfd);
	}
	if (d)
		closedir(d);
	return rc;
}

/* ENDPOINT, DEPLOYMENT, COLLECTION folders (depth 0, 1, 2) under dfd. */
static int scan_names(struct scan *s, int dfd, int depth)
{
	const char *want = depth == 0 ? s->endpoint : depth == 1 ? s->deployment : NULL;
	DIR *d = ws_listdir(dfd, ".");
	struct dirent *e;
	int rc = 0;

	while (d && rc == 0 && (e = readdir(d)) != NULL) {
		const char *nm = e->d_name;
		int c = depth == 2 ? mdc_collection(nm) : -1, cfd;
		if (depth < 2 ? !name_valid(nm, strlen(nm)) || (want && strcmp(want, nm) != 0) :
				c < 0 || (s->collection >= 0 && c != s->collection))
			continue;
		if ((cfd = openat(dfd, nm, DIR_FLAGS)) < 0)
			continue;
		if (depth == 0)
			memcpy(s->cur.endpoint, nm, strlen(nm) + 1);
		else if (depth == 1)
			memcpy(s->cur.deployment, nm, strlen(nm) + 1);
		else
			s->cur.collection = c;
		rc = depth < 2 ? scan_names(s, cfd, depth + 1) : scan_time(s, cfd, 0);
		close(cfd);
	}
	if (d)
		closedir(d);
	return rc;
}

static int older(const void *pa, const void *pb)
{
	const struct mdc_file *a = pa, *b = pb;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* Every file of the filters of s, sorted into s->v[s->n]; 0 or -1. */
static int scan(struct scan *s)
{
	const char *parts[] = { MDC_DATA_DIR, MDC_ROOT };
	int fd = -1, rc;

	if (s->w->dirfd >= 0) {
		int dfd = openat(s->w->dirfd, parts[0], DIR_FLAGS);
		fd = dfd >= 0 ? openat(dfd, parts[1], DIR_FLAGS) : -1;
		if (dfd >= 0)
			close(dfd);
	}
	if (fd < 0)
		return 0;   /* nothing collected yet (or not a folder: nothing of ours) */
	rc = scan_names(s, fd, 0);
	close(fd);
	if (rc == 0 && s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, older);
	return rc;
}

int mdc_list(const struct ws *w, const char *endpoint, const char *deployment, int collection, time_t from,
	     time_t to, mdc_each_fn *fn, void *arg, char *err, size_t errlen)
{
	struct scan s;
	int rc;

	memset(&s, 0, sizeof s);
	s.w = w;
	s.endpoint = endpoint;
	s.deployment = deployment;
	s.collection = collection;
	s.from = from;
	s.to = to;
	s.err = err;
	s.errlen = errlen;
	rc = scan(&s);
	for (size_t i = 0; rc == 0 && i < s.n; i++)
		rc = fn(arg, &s.v[i]);
	free(s.v);
	return rc;
}

/* ---- pruning ---- */

/* Remove f's file, then its folders up to YYYY while that empties them.
 * Only a regular data.jsonl in real folders; best effort. */
static void remove_file(const struct ws *w, const struct mdc_file *f)
{
	char t[5][5];
	const char *parts[MAX_PARTS];
	size_t n = parts_of(f, t, parts) - 1;   /* the folders */
	int fds[MAX_PARTS];
	size_t k = 0;
	struct stat st;

	for (int at = w->dirfd; k < n; at = fds[k++])
		if ((fds[k] = openat(at, parts[k], DIR_FLAGS)) < 0)
			break;
	if (k == n && fstatat(fds[n - 1], MDC_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    unlinkat(fds[n - 1], MDC_FILE, 0) == 0)
		for (size_t i = n - 1; i >= FIXED_PARTS && unlinkat(fds[i - 1], parts[i], AT_REMOVEDIR) == 0; i--)
			;
	while (k > 0)
		close(fds[--k]);
}

long long mdc_prune(const struct ws *w, unsigned long long max_bytes, time_t now, char *err, size_t errlen)
{
	struct scan s;
	unsigned long long total = 0;

	memset(&s, 0, sizeof s);
	s.w = w;
	s.collection = -1;
	s.to = (time_t)1 << 62;
	s.err = err;
	s.errlen = errlen;
	if (scan(&s) < 0) {
		free(s.v);
		return -1;
	}
	for (size_t i = 0; i < s.n; i++)
		total += (unsigned long long)s.v[i].bytes;
	for (size_t i = 0; i < s.n && total > max_bytes; i++) {
		if (mdc_period_end(s.v[i].start, s.v[i].rolling) > now)
			continue;   /* still being written */
		remove_file(w, &s.v[i]);
		total -= (unsigned long long)s.v[i].bytes;
	}
	free(s.v);
	return (long long)total;
}

/* ---- times ---- */

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int mdc_parse_time(const char *s, int end, time_t *out)
{
	/* YYYY-MM-DDTHH:MM: where each field starts, and the byte before it */
	static const struct { int at; char sep; } fields[] = { { 0, 0 }, { 5, '-' }, { 8, '-' }, { 11, 'T' },
								 { 14, ':' } };
	int v[5] = { 0, 0, 0, 0, 0 }, n = 0;
	size_t len = strlen(s);
	struct tm tm;

	if (len && s[len - 1] == 'Z')
		len--;
	while (n < 5 && (size_t)fields[n].at + (size_t)levels[n].digits <= len &&
	       (n == 0 || s[fields[n].at - 1] == fields[n].sep)) {
		v[n] = digits(s + fields[n].at, levels[n].digits);
		if (v[n] < levels[n].min || v[n] > levels[n].max)
			return -1;
		n++;
	}
	if (n < 3 || (size_t)fields[n - 1].at + (size_t)levels[n - 1].digits != len)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	*out = timegm(&tm);
	if (tm.tm_mday != v[2])
		return -1;   /* 2026-02-31 */
	if (end)
		*out = mdc_period_end(*out, n == 3 ? WS_ROLL_DAY : n == 4 ? WS_ROLL_HOUR : WS_ROLL_MINUTE);
	return 0;
}
