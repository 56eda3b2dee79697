/*
 * atomic.h - replace a file so that a reader sees the old bytes or the new
 * ones, never a mixture, and a crash leaves one of the two.
 */
#ifndef SCOREPOINT_ATOMIC_H
#define SCOREPOINT_ATOMIC_H

#include <stddef.h>
#include <sys/types.h>

/* Writes the new content to fd; returns 0, or -1 with errno set. */
typedef int (*atomic_fill_fn)(int fd, void *ctx);

/*
 * Write `path` through a temporary file in the same directory (created
 * 0600 by mkstemp), fsync, give it `mode` (only when it is not 0600, and
 * before anyone can see it), rename over `path`, fsync the directory.
 * Returns 0, or -1 with one line in err and no temporary file left behind.
 */
int atomic_write(const char *path, mode_t mode, atomic_fill_fn fill, void *ctx,
		 char *err, size_t errlen);

/* atomic_write() of the bytes buf[0, len). */
int atomic_write_buf(const char *path, mode_t mode, const void *buf, size_t len,
		     char *err, size_t errlen);

/* write() all of buf[0, len), retrying short writes and EINTR; 0 or -1. */
int atomic_write_all(int fd, const void *buf, size_t len);

/* fsync the directory holding `path`, so that a rename in it is durable. */
void atomic_sync_dir(const char *path);

/* Remove the files of dir whose names begin with prefix ("" for all):
 * the temporary files a crash between mkstemp and rename left behind, or
 * a folder's contents before it is removed.  Best effort. */
void atomic_clean(const char *dir, const char *prefix);

#endif
