/*
 * file.c - open a regular file without blocking (see file.h).
 */
#include "model/file.h"
#include "model/err.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *file_kind(mode_t mode)
{
	static const struct {
		mode_t type;
		const char *name;
	} kinds[] = {
		{ S_IFREG, "a regular file" }, { S_IFDIR, "a directory" }, { S_IFIFO, "a FIFO" },
		{ S_IFCHR, "a character device" }, { S_IFBLK, "a block device" }, { S_IFSOCK, "a socket" },
		{ S_IFLNK, "a symbolic link" },
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if ((mode & S_IFMT) == kinds[i].type)
			return kinds[i].name;
	return "a special file";
}

int file_open_regular(int dirfd, const char *path, int flags, struct stat *st, char *err, size_t errlen)
{
	int oflags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
	struct stat s;
	int fd, e;

	if (flags & FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	fd = openat(dirfd, path, oflags);
	if (fd < 0) {
		e = errno;
		if (e == ELOOP && (flags & FILE_NOFOLLOW))
			err_set(err, errlen, "%s: a symbolic link, which is not followed here", path);
		else
			err_set(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &s) < 0) {
		e = errno;
		close(fd);
		err_set(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (!S_ISREG(s.st_mode)) {
		close(fd);
		err_set(err, errlen, "%s: not a regular file (%s)", path, file_kind(s.st_mode));
		errno = EINVAL;
		return -1;
	}
	/* A regular file never blocks; clear the flag so reads are plain. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		err_set(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (st)
		*st = s;
	return fd;
}
