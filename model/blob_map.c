/*
 * blob_map.c - map a blob read-only and keep what was checked unchanged
 * while it is served (docs/blob-format.md, "Stable while served").  The
 * checks themselves are blob_check() in blob.c.
 */
#define _GNU_SOURCE   /* F_SETLEASE, F_SETOWN_EX, mremap, gettid */
#include "model/blob.h"
#include "model/err.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * ---- keeping a mapped blob unchanged ----
 *
 * A blob that a server maps must not change under it: a file overwritten
 * in place changes the pages of a shared (and of an untouched private)
 * mapping, and a truncated one turns every access past the new end into
 * SIGBUS.  So a process that called blob_guard_init() maps each blob shared
 * (one copy in the page cache for every worker) under a read lease: the
 * kernel holds back any open() for writing and any truncate() of the file
 * until the lease is released, and tells us with SIGIO.  The handler then
 * copies the blob into anonymous memory at the same address (mremap) and
 * releases the lease, so the writer goes on and the process keeps serving
 * exactly what it checked.  When there is no lease to be had (the file is
 * someone else's and we lack CAP_LEASE, someone has it open for writing,
 * the file system has no leases, or too many blobs are mapped), and in
 * every process that did not call blob_guard_init(), the blob is read into
 * private memory instead.  Replacing a blob by rename (what pth2blob and
 * the CLI do) never disturbs a process that maps the old one.
 */
#define GUARD_MAX 256

struct guard {
	void *base;   /* NULL: a free slot */
	size_t size;
	int fd;       /* holds the read lease */
};

static struct guard guards[GUARD_MAX];
static pid_t guard_tid;   /* the thread that maps, and gets SIGIO */

/* Move the mapping at base into anonymous memory, same address, same bytes. */
static int privatise(void *base, size_t size)
{
	void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return -1;
	memcpy(copy, base, size);
	if (mprotect(copy, size, PROT_READ) < 0 ||
	    mremap(copy, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, base) == MAP_FAILED) {
		munmap(copy, size);
		return -1;
	}
	return 0;
}

/* Copy every blob whose lease is being broken, then let the writer go.
 * Called with SIGIO blocked (in the handler, or by the mapping thread). */
static void guard_scan(void)
{
	static const char lost[] = "score.fcgi: a blob is being overwritten in place and there is no "
				   "memory to keep a copy: stopping after this request\n";

	for (int i = 0; i < GUARD_MAX; i++) {
		struct guard *g = &guards[i];
		if (!g->base || fcntl(g->fd, F_GETLEASE) == F_RDLCK)
			continue;
		if (privatise(g->base, g->size) < 0) {
			/* Keep the lease (the writer waits) and stop cleanly:
			 * closing the file at exit releases it. */
			(void)!write(STDERR_FILENO, lost, sizeof lost - 1);
			raise(SIGTERM);
			continue;
		}
		fcntl(g->fd, F_SETLEASE, F_UNLCK);
		close(g->fd);
		g->base = NULL;
		g->fd = -1;
	}
}

static void on_sigio(int sig)
{
	int saved = errno;
	(void)sig;
	if (gettid() == guard_tid)   /* other threads leave it to the mapping thread */
		guard_scan();
	errno = saved;
}

int blob_guard_init(char *err, size_t errlen)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGIO, &sa, NULL) < 0)
		return err_set(err, errlen, "sigaction(SIGIO): %s", strerror(errno));
	/* A parent may have left it blocked: a lease break must get through. */
	sigaddset(&sa.sa_mask, SIGIO);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
	guard_tid = gettid();
	return 0;
}

static void block_sigio(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGIO);
	sigprocmask(SIG_BLOCK, &s, old);
}

/* Map fd shared under a read lease; NULL when that is not possible. */
static void *map_leased(int fd, size_t size)
{
	struct f_owner_ex owner = { F_OWNER_TID, guard_tid };
	struct guard *g = NULL;
	void *p = NULL;
	sigset_t old;

	if (!guard_tid || gettid() != guard_tid)
		return NULL;
	block_sigio(&old);
	for (int i = 0; i < GUARD_MAX && !g; i++)
		if (!guards[i].base)
			g = &guards[i];
	if (g && fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETOWN_EX, &owner);
		p = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			fcntl(fd, F_SETLEASE, F_UNLCK);
			p = NULL;
		} else {
			*g = (struct guard){ p, size, fd };
			guard_scan();   /* a break that came before the slot was filled */
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return p;
}

/* Read fd into private, page-aligned memory; NULL with errno on failure. */
static void *read_private(int fd, size_t size)
{
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t got = 0;

	if (p == MAP_FAILED)
		return NULL;
	while (got < size) {
		ssize_t n = pread(fd, p + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 ? EIO : errno;
			munmap(p, size);
			errno = e;
			return NULL;
		}
		got += (size_t)n;
	}
	if (mprotect(p, size, PROT_READ) < 0) {
		int e = errno;
		munmap(p, size);
		errno = e;
		return NULL;
	}
	return p;
}

static void unmap(void *base, size_t size)
{
	sigset_t old;

	block_sigio(&old);
	for (int i = 0; i < GUARD_MAX; i++)
		if (guards[i].base == base) {
			fcntl(guards[i].fd, F_SETLEASE, F_UNLCK);
			close(guards[i].fd);
			guards[i].base = NULL;
			guards[i].fd = -1;
		}
	munmap(base, size);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int blob_map_fd(int fd, const char *path, struct blob_map *bm, char *err, size_t errlen)
{
	char why[512];
	struct stat st;
	void *p;

	memset(bm, 0, sizeof *bm);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_size < BLOB_HEADER_MIN) {
		close(fd);
		return err_set(err, errlen, "%s: truncated: %lld bytes is less than a header",
			    path, (long long)st.st_size);
	}
	/* Leased: the fd stays open and is closed with the lease. */
	p = map_leased(fd, (size_t)st.st_size);
	if (!p) {
		p = read_private(fd, (size_t)st.st_size);
		int e = errno;
		close(fd);
		if (!p)
			return err_set(err, errlen, "%s: %s", path,
				    e == EIO ? "truncated while it was being read" : strerror(e));
	}
	if (blob_check(p, (size_t)st.st_size, &bm->model, &bm->names, why, sizeof why) < 0) {
		unmap(p, (size_t)st.st_size);
		return err_set(err, errlen, "%s: %s", path, why);
	}
	bm->base = p;
	bm->size = (size_t)st.st_size;
	memcpy(&bm->crc32, bm->base + 24, 4);
	return 0;
}

int blob_map_file(const char *path, struct blob_map *bm, char *err, size_t errlen)
{
	memset(bm, 0, sizeof *bm);
	int fd = file_open_regular(AT_FDCWD, path, 0, NULL, err, errlen);
	return fd < 0 ? -1 : blob_map_fd(fd, path, bm, err, errlen);
}

void blob_unmap(struct blob_map *bm)
{
	if (bm->base)
		unmap((void *)bm->base, bm->size);
	free(bm->names);
	memset(bm, 0, sizeof *bm);
}
