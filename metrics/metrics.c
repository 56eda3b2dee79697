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
#include "metrics/layout.h"
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
