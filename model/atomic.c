/*
 * atomic.c - temporary file, fsync, rename, fsync of the directory.
 */
#define _GNU_SOURCE   /* O_PATH */
#include "model/atomic.h"
#include "model/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_SUFFIX ".tmp"
#define TMP_RANDOM 6      /* characters after it, as mkstemp()'s XXXXXX */
#define TMP_TRIES 100

static const char tmp_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The directory part of path into dir[len] ("." or "/" when it is bare); its
 * last component's offset, or -1 when too long. */
static long split(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n + 2 > len)
		return -1;
	if (n == 0) {
		dir[0] = slash ? '/' : '.';
		dir[1] = '\0';
	} else {
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	return slash ? (long)(slash - path) + 1 : 0;
}

void atomic_sync_dirfd(int dirfd)
{
	/* fsync() wants a real fd, and dirfd may be an O_PATH one. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

void atomic_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	if (split(path, dir, sizeof dir) < 0)
		return;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int atomic_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Create NAME.tmpXXXXXX in dirfd, as mkstemp() does in a folder named by
 * path; tmp[len] gets its name.  The fd, or -1 with errno. */
static int make_temp(int dirfd, const char *name, char *tmp, size_t len)
{
	static unsigned long long seq;
	size_t n = strlen(name) + sizeof TMP_SUFFIX - 1;

	if (n + TMP_RANDOM >= len)
		return errno = ENAMETOOLONG, -1;
	for (int i = 0; i < TMP_TRIES; i++) {
		unsigned long long v;
		struct timespec ts;
		if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
			clock_gettime(CLOCK_REALTIME, &ts);
			v = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)getpid() << 32);
		}
		v ^= ++seq * 0x9e3779b97f4a7c15ull;
		snprintf(tmp, len, "%s" TMP_SUFFIX, name);
		for (size_t j = 0; j < TMP_RANDOM; j++, v /= sizeof tmp_chars - 1)
			tmp[n + j] = tmp_chars[v % (sizeof tmp_chars - 1)];
		tmp[n + TMP_RANDOM] = '\0';
		int fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int atomic_writeat(int dirfd, const char *name, const char *shown, mode_t mode, atomic_fill_fn fill, void *ctx,
		   char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1];
	int fd, rc = -1, created = 0;

	fd = make_temp(dirfd, name, tmp, sizeof tmp);
	if (fd < 0)
		return err_set(err, errlen, "%s: cannot create a temporary file: %s", shown, strerror(errno));
	created = 1;
	if (fill(fd, ctx) < 0 || fsync(fd) < 0) {
		err_set(err, errlen, "%s: write: %s", shown, strerror(errno));
		goto out;
	}
	if ((mode != 0600 && fchmod(fd, mode) < 0) || close(fd) < 0) {
		fd = -1;
		err_set(err, errlen, "%s: %s", shown, strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		err_set(err, errlen, "%s: rename: %s", shown, strerror(errno));
		goto out;
	}
	created = 0;
	atomic_sync_dirfd(dirfd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlinkat(dirfd, tmp, 0);
	return rc;
}

int atomic_write(const char *path, mode_t mode, atomic_fill_fn fill, void *ctx,
		 char *err, size_t errlen)
{
	char dir[PATH_MAX];
	long base = split(path, dir, sizeof dir);

	if (base < 0)
		return err_set(err, errlen, "%s: path too long", path);
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return err_set(err, errlen, "%s: cannot create a temporary file: %s", path, strerror(errno));
	int rc = atomic_writeat(dirfd, path + base, path, mode, fill, ctx, err, errlen);
	close(dirfd);
	return rc;
}

struct buf_ctx {
	const void *p;
	size_t n;
};

static int fill_buf(int fd, void *ctx)
{
	const struct buf_ctx *b = ctx;
	return atomic_write_all(fd, b->p, b->n);
}

int atomic_write_buf(const char *path, mode_t mode, const void *buf, size_t len,
		     char *err, size_t errlen)
{
	struct buf_ctx b = { buf, len };
	return atomic_write(path, mode, fill_buf, &b, err, errlen);
}

int atomic_write_bufat(int dirfd, const char *name, const char *shown, mode_t mode, const void *buf, size_t len,
		       char *err, size_t errlen)
{
	struct buf_ctx b = { buf, len };
	return atomic_writeat(dirfd, name, shown, mode, fill_buf, &b, err, errlen);
}

void atomic_clean(const char *dir, const char *prefix)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* unlinkat() without AT_REMOVEDIR leaves a directory, and removes a
	 * symbolic link itself, never what it points to. */
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			unlinkat(fd, e->d_name, 0);
	closedir(d);
}

/* entry is name's temporary: NAME.tmpXXXXXX, as make_temp() and mkstemp() name it. */
static int is_temp_of(const char *entry, const char *name)
{
	size_t n = strlen(name), s = sizeof TMP_SUFFIX - 1;
	const char *x = entry + n + s;

	return strncmp(entry, name, n) == 0 && strncmp(entry + n, TMP_SUFFIX, s) == 0 &&
	       strlen(x) == TMP_RANDOM && strspn(x, tmp_chars) == TMP_RANDOM;
}

void atomic_clean_names(int dirfd, const char *name, int also_name)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	struct stat st;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (((also_name && strcmp(e->d_name, name) == 0) || is_temp_of(e->d_name, name)) &&
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
}
