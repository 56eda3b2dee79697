/*
 * file.h - opening a file that must be a regular file, without ever
 * blocking on a FIFO, a terminal or a device in open() itself.
 *
 * open(2) of a FIFO blocks until a writer comes; a check of the mode after
 * it comes too late.  So every file the programs read is opened here:
 * O_NONBLOCK first, then fstat(), regular files only, then O_NONBLOCK
 * cleared again so that reads behave as usual.  The caller owns the fd.
 */
#ifndef SCOREPOINT_FILE_H
#define SCOREPOINT_FILE_H

#include <stddef.h>
#include <sys/stat.h>

/* FILE_NOFOLLOW: refuse a symbolic link as the last component (ELOOP). */
#define FILE_NOFOLLOW 1

/*
 * Open dirfd/path (dirfd AT_FDCWD for a plain path) read-only.  The fd,
 * with *st filled when st is not NULL; or -1 with one line in err naming
 * path ("not a regular file (a FIFO)", "a symbolic link", strerror) and
 * errno set (ENOENT is kept, so callers may treat a missing file apart).
 */
int file_open_regular(int dirfd, const char *path, int flags, struct stat *st, char *err, size_t errlen);

/* What st_mode is, in words: "a FIFO", "a directory", "a socket", ... */
const char *file_kind(mode_t mode);

#endif
