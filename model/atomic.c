/*
 * atomic.c - temporary file, fsync, rename, fsync of the directory.
 */
#include "model/atomic.h"
#include "model/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void atomic_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n >= sizeof dir)
		return;
	if (n == 0) {
		dir[0] = slash ? '/' : '.';
		dir[1] = '\0';
	} else {
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
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

int atomic_write(const char *path, mode_t mode, atomic_fill_fn fill, void *ctx,
		 char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	int fd = -1, rc = -1, created = 0;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path) >= sizeof tmp)
		return err_set(err, errlen, "%s: path too long", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(err, errlen, "%s: cannot create a temporary file: %s", path, strerror(errno));
	created = 1;
	if (fill(fd, ctx) < 0 || fsync(fd) < 0) {
		err_set(err, errlen, "%s: write: %s", path, strerror(errno));
		goto out;
	}
	if ((mode != 0600 && fchmod(fd, mode) < 0) || close(fd) < 0) {
		fd = -1;
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_set(err, errlen, "%s: rename: %s", path, strerror(errno));
		goto out;
	}
	created = 0;
	atomic_sync_dir(path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
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

void atomic_clean(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strncmp(e->d_name, prefix, strlen(prefix)) == 0 &&
		    (size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p)
			unlink(p);
	closedir(d);
}
