/*
 * metrics.c - the shared counter file and its Prometheus rendering.
 *
 * The file is one fixed layout (struct metrics_file), mapped MAP_SHARED by
 * every worker.  Counters are plain uint64 cells updated with relaxed
 * __atomic_fetch_add: no lock on the request path.  flock(LOCK_EX) on the
 * file is taken only on the cold paths that write something other than a
 * counter: checking or initialising the layout in metrics_open, and
 * registering a deployment name.  Being flock, the lock goes away with a
 * worker that dies holding it.
 *
 * Deployment columns: slots 0 .. METRICS_MAX_DEPLOYMENTS-2 are names
 * registered on first use, slot METRICS_MAX_DEPLOYMENTS-1 is "other" (every
 * name that came too late, or is empty, too long or not UTF-8), so
 * metrics_deployment() always returns an index below METRICS_MAX_DEPLOYMENTS.
 * No slot is reserved for a server without deployments: it passes -1, which
 * counts in a column of its own and renders without a deployment label.
 * Looking up a registered name (or a full table) takes no lock.
 *
 * Shadow slots: one per (endpoint, live deployment, mirror deployment)
 * triple, registered on first use like the deployment names, with no
 * "other": a comparison past a full table is not counted.  Their
 * differences are doubles kept as their bits in uint64 cells: the largest
 * is a lock-free compare-and-swap maximum (non-negative doubles, +Inf
 * included, order as their bits do), the sum a compare-and-swap add.
 */
#include "metrics/metrics.h"
#include "model/err.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LAYOUT_MAGIC "SPMETRIC"
#define LAYOUT_VERSION 4u   /* 3: MR_UI, and each deployment's errors and durations;
			       4: collection lines and shadow verdicts */

/* The statuses counted apart; anything else counts as "other". */
static const int tracked_status[] = {
	200, 400, 401, 403, 404, 405, 408, 411, 413, 415, 429, 500, 503,
};
#define NSTATUS_TRACKED ((int)(sizeof tracked_status / sizeof tracked_status[0]))
#define NSTATUS (NSTATUS_TRACKED + 1)
#define STATUS_OTHER NSTATUS_TRACKED
_Static_assert(NSTATUS == METRICS_NSTATUS, "metrics.h's METRICS_NSTATUS");

#define NAMED_SLOTS (METRICS_MAX_DEPLOYMENTS - 1)
#define SLOT_OTHER (METRICS_MAX_DEPLOYMENTS - 1)
#define COL_NONE METRICS_MAX_DEPLOYMENTS
#define NCOLS (METRICS_MAX_DEPLOYMENTS + 1)

/* Upper bounds of the duration buckets, in microseconds; the last bucket
 * (+Inf) takes the rest. */
static const uint64_t bucket_usec[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBOUNDS ((int)(sizeof bucket_usec / sizeof bucket_usec[0]))
#define NBUCKETS (NBOUNDS + 1)
_Static_assert(NBUCKETS == METRICS_NBUCKETS, "metrics.h's METRICS_NBUCKETS");
static const char *const bucket_le[NBUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
};

/* Upper bounds of the shadow difference buckets; the last (+Inf) takes the
 * rest, NaN included. */
static const double shadow_bound[] = { 0, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10 };
#define NSHADOW_BOUNDS ((int)(sizeof shadow_bound / sizeof shadow_bound[0]))
_Static_assert(NSHADOW_BOUNDS + 1 == METRICS_SHADOW_NBUCKETS, "metrics.h's METRICS_SHADOW_NBUCKETS");
static const char *const shadow_le[METRICS_SHADOW_NBUCKETS] = {
	"0", "1e-07", "1e-06", "1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10", "+Inf",
};

static const char *const collection_label[METRICS_NCOLLECTIONS] = { "model_inputs", "model_outputs" };

static const char *const route_label[MR_COUNT] = {
	"root", "health", "version", "swagger", "score", "invocations",
	"v2_infer", "metrics", "ui", "other",
};

/*
 * The file.  Any change to it must bump LAYOUT_VERSION (a change of size
 * alone is caught too, since the header records the size).
 *
 * The histograms keep one non-cumulative count per bucket and no separate
 * count: _count is rendered as the sum of the buckets, so that it always
 * equals the +Inf bucket even while other workers are adding.  Per route
 * and per deployment column (the latter counted only for a deployment).
 */
struct metrics_file {
	char magic[8];                     /* "SPMETRIC", written last */
	uint32_t version;                  /* LAYOUT_VERSION */
	uint32_t reserved;
	uint64_t size;                     /* sizeof(struct metrics_file) */
	int64_t in_flight;
	/* 1 once dep_name[i] is complete; set with release order under the
	 * registration lock, read with acquire order without it. */
	uint32_t dep_ready[NAMED_SLOTS];
	char dep_name[NAMED_SLOTS][METRICS_NAME_MAX];
	uint64_t requests[MR_COUNT][NSTATUS][NCOLS];
	uint64_t rows[NCOLS];
	uint64_t duration_bucket[MR_COUNT][NBUCKETS];
	uint64_t duration_sum_usec[MR_COUNT];
	uint64_t errors[NCOLS];                    /* answers >= 400 */
	uint64_t dep_duration_bucket[NCOLS][NBUCKETS];
	uint64_t dep_duration_sum_usec[NCOLS];
	uint64_t collect[2][NCOLS][METRICS_NCOLLECTIONS];   /* [0] lines written, [1] lost */
	/* Like dep_ready: set under the registration lock once names are in. */
	uint32_t shadow_ready[METRICS_MAX_SHADOWS];
	struct shadow_slot {
		char endpoint[METRICS_SHADOW_NAME_MAX], live[METRICS_SHADOW_NAME_MAX],
		     mirror[METRICS_SHADOW_NAME_MAX];
		int64_t since_ms;                  /* when counting began, or the last reset */
		uint64_t rows, agree, not_comparable;
		uint64_t bucket[METRICS_SHADOW_NBUCKETS];
		uint64_t sum_bits, worst_bits;     /* doubles */
	} shadow[METRICS_MAX_SHADOWS];
};

_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
	       "shared counters need lock-free 64-bit atomics");
_Static_assert(METRICS_MAX_DEPLOYMENTS >= 2, "a named slot and \"other\"");

struct metrics {
	struct metrics_file *f;
	int fd;                            /* kept open for the registration lock */
};

static void add_u64(uint64_t *cell, uint64_t v)
{
	__atomic_fetch_add(cell, v, __ATOMIC_RELAXED);
}

static uint64_t load_u64(const uint64_t *cell)
{
	return __atomic_load_n(cell, __ATOMIC_RELAXED);
}

static int lock_file(int fd, int op)
{
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* --- opening --------------------------------------------------------- */

static int layout_ok(const struct metrics_file *f)
{
	return memcmp(f->magic, LAYOUT_MAGIC, 8) == 0 && f->version == LAYOUT_VERSION &&
	       f->size == sizeof *f;
}

/* Zero everything, then write the header, magic last: a worker that dies
 * half-way leaves a file the next metrics_open initialises again. */
static void layout_init(struct metrics_file *f)
{
	memset(f, 0, sizeof *f);
	f->version = LAYOUT_VERSION;
	f->size = sizeof *f;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(f->magic, LAYOUT_MAGIC, 8);
}

/* Refuse what someone else could have put at a path in a shared directory. */
static int check_owner(int fd, const char *path, off_t *size, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_set(err, errlen, "metrics file %s: fstat: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(err, errlen, "metrics file %s is not a regular file; refusing it", path);
	if (st.st_uid != geteuid())
		return err_set(err, errlen, "metrics file %s is owned by uid %lu, not by this uid %lu; refusing it",
			       path, (unsigned long)st.st_uid, (unsigned long)geteuid());
	if (st.st_nlink != 1)
		return err_set(err, errlen, "metrics file %s has %lu hard links; refusing it",
			       path, (unsigned long)st.st_nlink);
	*size = st.st_size;
	return 0;
}

/* Give the file its pages now, so that a full /dev/shm is an error here
 * rather than a SIGBUS on some later request. */
static int reserve(int fd, const char *path, char *err, size_t errlen)
{
	const off_t need = (off_t)sizeof(struct metrics_file);
	int rc = posix_fallocate(fd, 0, need);

	if (rc == EOPNOTSUPP || rc == EINVAL)
		rc = ftruncate(fd, need) < 0 ? errno : 0;
	if (rc)
		return err_set(err, errlen, "metrics file %s: cannot size it to %lld bytes: %s",
			       path, (long long)need, strerror(rc));
	return 0;
}

/* Under the lock: map the file, initialising it when it is new, too short
 * or of another layout.  The file only ever grows, so that a worker of an
 * older build still mapping a longer layout cannot fault on a cut page. */
static struct metrics_file *map_layout(int fd, const char *path, off_t size, char *err, size_t errlen)
{
	int short_file = size < (off_t)sizeof(struct metrics_file);

	if (short_file && reserve(fd, path, err, errlen) < 0)
		return NULL;
	void *p = mmap(NULL, sizeof(struct metrics_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err_set(err, errlen, "metrics file %s: mmap: %s", path, strerror(errno));
		return NULL;
	}
	struct metrics_file *f = p;
	if (!layout_ok(f)) {
		if (!short_file && reserve(fd, path, err, errlen) < 0) {
			munmap(p, sizeof *f);
			return NULL;
		}
		layout_init(f);
	}
	return f;
}

/* Under the lock, for metrics_attach(): map the file as it is, or refuse it. */
static struct metrics_file *map_existing(int fd, const char *path, off_t size, char *err, size_t errlen)
{
	struct { char magic[8]; uint32_t version, reserved; uint64_t size; } head;

	_Static_assert(offsetof(struct metrics_file, size) == 16, "the header read below");
	if (size < (off_t)sizeof head || pread(fd, &head, sizeof head, 0) != (ssize_t)sizeof head ||
	    memcmp(head.magic, LAYOUT_MAGIC, 8) != 0) {
		err_set(err, errlen, "metrics file %s holds no counters yet", path);
		return NULL;
	}
	if (head.version != LAYOUT_VERSION || head.size != sizeof(struct metrics_file) ||
	    size < (off_t)sizeof(struct metrics_file)) {
		err_set(err, errlen, "metrics file %s is of layout version %u, this build reads %u (a server of "
			"another build?)", path, (unsigned)head.version, LAYOUT_VERSION);
		return NULL;
	}
	void *p = mmap(NULL, sizeof(struct metrics_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err_set(err, errlen, "metrics file %s: mmap: %s", path, strerror(errno));
		return NULL;
	}
	return p;
}

/* metrics_open(), or metrics_attach() when attach. */
static struct metrics *open_file(const char *path, int attach, char *err, size_t errlen)
{
	struct metrics *m = NULL;
	struct metrics_file *f = NULL;
	int locked = 0;
	off_t size;

	/* O_NONBLOCK: POSIX lets open() of a FIFO for O_RDWR block (Linux does
	 * not); check_owner() then refuses anything but a regular file. */
	int fd = open(path, O_RDWR | (attach ? 0 : O_CREAT) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		if (errno == ENOENT && attach)
			err_set(err, errlen, "metrics file %s does not exist (has the server answered a request "
				"since it started?)", path);
		else if (errno == ELOOP)
			err_set(err, errlen, "metrics file %s is a symlink; refusing it", path);
		else if (errno == EACCES)
			err_set(err, errlen, "metrics file %s: open: %s (another user's file?)", path,
				strerror(errno));
		else
			err_set(err, errlen, "metrics file %s: open: %s", path, strerror(errno));
		return NULL;
	}
	if (check_owner(fd, path, &size, err, errlen) < 0)
		goto out;
	if (lock_file(fd, LOCK_EX) < 0) {
		err_set(err, errlen, "metrics file %s: flock: %s", path, strerror(errno));
		goto out;
	}
	locked = 1;
	/* The size again: a sibling may have initialised it while we waited. */
	if (check_owner(fd, path, &size, err, errlen) < 0)
		goto out;
	f = attach ? map_existing(fd, path, size, err, errlen) : map_layout(fd, path, size, err, errlen);
	if (!f)
		goto out;
	m = malloc(sizeof *m);
	if (!m) {
		err_set(err, errlen, "metrics file %s: out of memory", path);
		goto out;
	}
	m->f = f;
	m->fd = fd;
out:
	if (locked)
		lock_file(fd, LOCK_UN);
	if (!m) {
		if (f)
			munmap(f, sizeof *f);
		close(fd);
	}
	return m;
}

struct metrics *metrics_open(const char *path, char *err, size_t errlen)
{
	return open_file(path, 0, err, errlen);
}

struct metrics *metrics_attach(const char *path, char *err, size_t errlen)
{
	return open_file(path, 1, err, errlen);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	munmap(m->f, sizeof *m->f);
	close(m->fd);
	free(m);
}

void metrics_default_path(const char *key, char *out, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;         /* FNV-1a 64 */
	struct stat st;

	for (const unsigned char *p = (const unsigned char *)(key ? key : ""); *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	const char *dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	snprintf(out, len, "%s/scorepoint-%lu-%016llx", dir, (unsigned long)geteuid(),
		 (unsigned long long)h);
}

/* --- deployments ----------------------------------------------------- */

/* The slot holding name (n bytes), or -1; *nready gets the number of
 * complete slots, which are always a prefix since they fill in order. */
static int find_name(const struct metrics_file *f, const char *name, size_t n, int *nready)
{
	int i;

	for (i = 0; i < NAMED_SLOTS; i++) {
		if (!__atomic_load_n(&f->dep_ready[i], __ATOMIC_ACQUIRE))
			break;
		if (memcmp(f->dep_name[i], name, n + 1) == 0)
			return i;
	}
	*nready = i;
	return -1;
}

static int register_name(struct metrics *m, const char *name, size_t n)
{
	struct metrics_file *f = m->f;
	int nready;

	if (lock_file(m->fd, LOCK_EX) < 0)
		return SLOT_OTHER;
	int slot = find_name(f, name, n, &nready);
	if (slot < 0 && nready < NAMED_SLOTS) {
		/* Nobody reads a slot's name before its ready flag, and only
		 * lock holders write it: plain stores suffice. */
		slot = nready;
		memset(f->dep_name[slot], 0, METRICS_NAME_MAX);
		memcpy(f->dep_name[slot], name, n);
		__atomic_store_n(&f->dep_ready[slot], 1, __ATOMIC_RELEASE);
	}
	lock_file(m->fd, LOCK_UN);
	return slot < 0 ? SLOT_OTHER : slot;
}

/* Valid UTF-8 (no overlong forms, no surrogates): a scraper rejects the
 * whole text over one bad byte in a label value. */
static int utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
			     c >= 0xF0 && c <= 0xF4 ? 4 : 0;
		if (len == 0 || len > n - i)
			return 0;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		if (len > 2) {
			unsigned c1 = s[i + 1];
			if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) ||
			    (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
				return 0;
		}
		i += len;
	}
	return 1;
}

int metrics_deployment(struct metrics *m, const char *name)
{
	int nready;

	if (!m || !name)
		return -1;
	size_t n = strlen(name);
	if (n == 0 || n >= METRICS_NAME_MAX || strcmp(name, "other") == 0 ||
	    !utf8_valid((const unsigned char *)name, n))
		return SLOT_OTHER;
	int slot = find_name(m->f, name, n, &nready);
	if (slot >= 0)
		return slot;
	/* A full table needs no lock to say "other". */
	return nready < NAMED_SLOTS ? register_name(m, name, n) : SLOT_OTHER;
}

/* --- the request path ------------------------------------------------ */

static int status_index(int status)
{
	for (int i = 0; i < NSTATUS_TRACKED; i++)
		if (tracked_status[i] == status)
			return i;
	return STATUS_OTHER;
}

static int bucket_index(uint64_t usec)
{
	int i = 0;

	while (i < NBOUNDS && usec > bucket_usec[i])
		i++;
	return i;
}

static int column(int deployment)
{
	if (deployment < 0)
		return COL_NONE;
	return deployment < NAMED_SLOTS ? deployment : SLOT_OTHER;
}

void metrics_inflight(struct metrics *m, int delta)
{
	if (m)
		__atomic_fetch_add(&m->f->in_flight, (int64_t)delta, __ATOMIC_RELAXED);
}

void metrics_request(struct metrics *m, enum metrics_route route, int status,
		     int deployment, uint64_t rows, uint64_t usec)
{
	if (!m)
		return;
	struct metrics_file *f = m->f;
	unsigned r = (unsigned)route < MR_COUNT ? (unsigned)route : MR_OTHER;
	int col = column(deployment);

	add_u64(&f->requests[r][status_index(status)][col], 1);
	if (rows)
		add_u64(&f->rows[col], rows);
	int b = bucket_index(usec);
	add_u64(&f->duration_bucket[r][b], 1);
	add_u64(&f->duration_sum_usec[r], usec);
	if (deployment < 0)
		return;
	if (status >= 400)
		add_u64(&f->errors[col], 1);
	add_u64(&f->dep_duration_bucket[col][b], 1);
	add_u64(&f->dep_duration_sum_usec[col], usec);
}

void metrics_collect(struct metrics *m, int deployment, int collection, int ok)
{
	if (!m || collection < 0 || collection >= METRICS_NCOLLECTIONS)
		return;
	add_u64(&m->f->collect[!ok][column(deployment)][collection], 1);
}

/* --- shadow verdicts ------------------------------------------------- */

static uint64_t double_bits(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return b;
}

static double bits_double(uint64_t b)
{
	double v;
	memcpy(&v, &b, sizeof v);
	return v;
}

/* *cell = max(*cell, v) for non-negative doubles (their bits order alike). */
static void max_double(uint64_t *cell, double v)
{
	uint64_t bits = double_bits(v), cur = load_u64(cell);

	while (bits > cur && !__atomic_compare_exchange_n(cell, &cur, bits, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void add_double(uint64_t *cell, double v)
{
	uint64_t cur = load_u64(cell);

	while (!__atomic_compare_exchange_n(cell, &cur, double_bits(bits_double(cur) + v), 1, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
}

void metrics_shadow_row(struct metrics_shadow_rows *r, double diff, int agree)
{
	int b = 0;

	if (!(diff >= 0))   /* NaN */
		diff = INFINITY;
	while (b < NSHADOW_BOUNDS && diff > shadow_bound[b])
		b++;
	r->rows++;
	r->agree += agree != 0;
	r->bucket[b]++;
	r->sum += diff;
	if (diff > r->worst)
		r->worst = diff;
}

const char *metrics_shadow_le(int b)
{
	return b >= 0 && b < NSHADOW_BOUNDS ? shadow_le[b] : NULL;
}

static int shadow_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n < METRICS_SHADOW_NAME_MAX && utf8_valid((const unsigned char *)s, n);
}

static int same_triple(const struct shadow_slot *t, const char *e, const char *l, const char *mi)
{
	return strcmp(t->endpoint, e) == 0 && strcmp(t->live, l) == 0 && strcmp(t->mirror, mi) == 0;
}

/* The slot of the triple, or -1; *nready as find_name()'s. */
static int find_shadow(const struct metrics_file *f, const char *e, const char *l, const char *mi, int *nready)
{
	int i;

	for (i = 0; i < METRICS_MAX_SHADOWS; i++) {
		if (!__atomic_load_n(&f->shadow_ready[i], __ATOMIC_ACQUIRE))
			break;
		if (same_triple(&f->shadow[i], e, l, mi))
			return i;
	}
	*nready = i;
	return -1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int register_shadow(struct metrics *m, const char *e, const char *l, const char *mi)
{
	struct metrics_file *f = m->f;
	int nready;

	if (lock_file(m->fd, LOCK_EX) < 0)
		return -1;
	int slot = find_shadow(f, e, l, mi, &nready);
	if (slot < 0 && nready < METRICS_MAX_SHADOWS) {
		struct shadow_slot *t = &f->shadow[slot = nready];
		snprintf(t->endpoint, sizeof t->endpoint, "%s", e);
		snprintf(t->live, sizeof t->live, "%s", l);
		snprintf(t->mirror, sizeof t->mirror, "%s", mi);
		__atomic_store_n(&t->since_ms, now_ms(), __ATOMIC_RELAXED);
		__atomic_store_n(&f->shadow_ready[slot], 1, __ATOMIC_RELEASE);
	}
	lock_file(m->fd, LOCK_UN);
	return slot;
}

int metrics_shadow(struct metrics *m, const char *endpoint, const char *live, const char *mirror)
{
	int nready;

	if (!m || !shadow_name_ok(endpoint) || !shadow_name_ok(live) || !shadow_name_ok(mirror))
		return -1;
	int slot = find_shadow(m->f, endpoint, live, mirror, &nready);
	if (slot >= 0)
		return slot;
	return nready < METRICS_MAX_SHADOWS ? register_shadow(m, endpoint, live, mirror) : -1;
}

void metrics_shadow_add(struct metrics *m, int slot, const struct metrics_shadow_rows *r)
{
	if (!m || slot < 0 || slot >= METRICS_MAX_SHADOWS)
		return;
	struct shadow_slot *t = &m->f->shadow[slot];
	if (r->rows) {
		add_u64(&t->rows, r->rows);
		add_u64(&t->agree, r->agree);
		for (int b = 0; b < METRICS_SHADOW_NBUCKETS; b++)
			if (r->bucket[b])
				add_u64(&t->bucket[b], r->bucket[b]);
		add_double(&t->sum_bits, r->sum);
		max_double(&t->worst_bits, r->worst);
	}
	if (r->not_comparable)
		add_u64(&t->not_comparable, r->not_comparable);
}

int metrics_shadow_stats(struct metrics *m, int i, struct metrics_shadow_stats *st)
{
	memset(st, 0, sizeof *st);
	if (!m || i < 0 || i >= METRICS_MAX_SHADOWS || !__atomic_load_n(&m->f->shadow_ready[i], __ATOMIC_ACQUIRE))
		return -1;
	const struct shadow_slot *t = &m->f->shadow[i];
	memcpy(st->endpoint, t->endpoint, sizeof st->endpoint);
	memcpy(st->live, t->live, sizeof st->live);
	memcpy(st->mirror, t->mirror, sizeof st->mirror);
	st->endpoint[sizeof st->endpoint - 1] = st->live[sizeof st->live - 1] = st->mirror[sizeof st->mirror - 1] = 0;
	st->rows = load_u64(&t->rows);
	st->agree = load_u64(&t->agree);
	st->not_comparable = load_u64(&t->not_comparable);
	uint64_t cumulative = 0;
	for (int b = 0; b < METRICS_SHADOW_NBUCKETS; b++)
		st->le[b] = cumulative += load_u64(&t->bucket[b]);
	st->sum = bits_double(load_u64(&t->sum_bits));
	st->worst = bits_double(load_u64(&t->worst_bits));
	st->since_ms = __atomic_load_n(&t->since_ms, __ATOMIC_RELAXED);
	return 0;
}

int metrics_shadow_reset(struct metrics *m, const char *endpoint, int64_t now)
{
	int n = 0;

	for (int i = 0; m && endpoint && i < METRICS_MAX_SHADOWS; i++) {
		if (!__atomic_load_n(&m->f->shadow_ready[i], __ATOMIC_ACQUIRE))
			break;
		struct shadow_slot *t = &m->f->shadow[i];
		if (strcmp(t->endpoint, endpoint) != 0)
			continue;
		uint64_t *cells[] = { &t->rows, &t->agree, &t->not_comparable, &t->sum_bits, &t->worst_bits };
		for (size_t k = 0; k < sizeof cells / sizeof cells[0]; k++)
			__atomic_store_n(cells[k], 0, __ATOMIC_RELAXED);
		for (int b = 0; b < METRICS_SHADOW_NBUCKETS; b++)
			__atomic_store_n(&t->bucket[b], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&t->since_ms, now, __ATOMIC_RELAXED);
		n++;
	}
	return n;
}

/* --- one deployment, for handler/ ------------------------------------ */

int metrics_status(int i)
{
	return i >= 0 && i < NSTATUS_TRACKED ? tracked_status[i] : 0;
}

const char *metrics_le(int b)
{
	return b >= 0 && b < NBOUNDS ? bucket_le[b] : NULL;
}

int metrics_stats(struct metrics *m, const char *name, struct metrics_stats *st)
{
	int nready;

	memset(st, 0, sizeof *st);
	if (!m || !name)
		return -1;
	size_t n = strlen(name);
	int col = n && n < METRICS_NAME_MAX && strcmp(name, "other") != 0 ? find_name(m->f, name, n, &nready) : -1;
	if (col < 0)
		return -1;
	const struct metrics_file *f = m->f;
	for (int r = 0; r < MR_COUNT; r++)
		for (int s = 0; s < NSTATUS; s++)
			st->status[s] += load_u64(&f->requests[r][s][col]);
	for (int s = 0; s < NSTATUS; s++)
		st->requests += st->status[s];
	uint64_t cumulative = 0;
	for (int b = 0; b < NBUCKETS; b++)
		st->le[b] = cumulative += load_u64(&f->dep_duration_bucket[col][b]);
	st->errors = load_u64(&f->errors[col]);
	st->rows = load_u64(&f->rows[col]);
	st->sum_usec = load_u64(&f->dep_duration_sum_usec[col]);
	return 0;
}

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

static void render_durations(struct out *o, const struct metrics_file *f)
{
	static const char name[] = "scorepoint_request_duration_seconds";

	put_family(o, name, "histogram", "Time to answer a request, by route.");
	for (int r = 0; r < MR_COUNT; r++) {
		uint64_t bucket[NBUCKETS], count = 0;
		for (int b = 0; b < NBUCKETS; b++)
			count += bucket[b] = load_u64(&f->duration_bucket[r][b]);
		if (!count)
			continue;
		uint64_t cumulative = 0;
		for (int b = 0; b < NBUCKETS; b++) {
			cumulative += bucket[b];
			put_str(o, name);
			put_str(o, "_bucket{route=\"");
			put_str(o, route_label[r]);
			put_str(o, "\",le=\"");
			put_str(o, bucket_le[b]);
			put_str(o, "\"} ");
			put_u64(o, cumulative);
			put(o, "\n", 1);
		}
		put_str(o, name);
		put_str(o, "_sum{route=\"");
		put_str(o, route_label[r]);
		put_str(o, "\"} ");
		put_seconds(o, load_u64(&f->duration_sum_usec[r]));
		put_str(o, "\n");
		put_str(o, name);
		put_str(o, "_count{route=\"");
		put_str(o, route_label[r]);
		put_str(o, "\"} ");
		put_u64(o, count);
		put(o, "\n", 1);
	}
}

/* The same histogram per deployment: the named columns and "other", not
 * the column of requests that reached none. */
static void render_deployment_durations(struct out *o, const struct metrics_file *f, const char *const label[NCOLS])
{
	static const char name[] = "scorepoint_deployment_request_duration_seconds";

	put_family(o, name, "histogram", "Time to answer a request, by deployment.");
	for (int c = 0; c < NCOLS; c++) {
		uint64_t bucket[NBUCKETS], count = 0;
		if (!label[c] || !label[c][0])
			continue;
		for (int b = 0; b < NBUCKETS; b++)
			count += bucket[b] = load_u64(&f->dep_duration_bucket[c][b]);
		if (!count)
			continue;
		uint64_t cumulative = 0;
		for (int b = 0; b < NBUCKETS; b++) {
			cumulative += bucket[b];
			put_str(o, name);
			put_str(o, "_bucket{deployment=\"");
			put_label(o, label[c]);
			put_str(o, "\",le=\"");
			put_str(o, bucket_le[b]);
			put_str(o, "\"} ");
			put_u64(o, cumulative);
			put(o, "\n", 1);
		}
		put_str(o, name);
		put_str(o, "_sum");
		put_deployment(o, label[c], 1);
		put_str(o, "} ");
		put_seconds(o, load_u64(&f->dep_duration_sum_usec[c]));
		put_str(o, "\n");
		put_str(o, name);
		put_str(o, "_count");
		put_deployment(o, label[c], 1);
		put_str(o, "} ");
		put_u64(o, count);
		put(o, "\n", 1);
	}
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
