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

/*
 * atomic_write() of the file `name` of the directory dirfd (an O_PATH fd
 * will do), reached through dirfd alone: the temporary NAME.tmpXXXXXX is
 * created there O_CREAT|O_EXCL|O_NOFOLLOW, renamed over name by renameat()
 * (which replaces a symbolic link of that name, never follows it), and
 * dirfd is fsynced.  `shown` names the file in err (its full path, say).
 */
int atomic_writeat(int dirfd, const char *name, const char *shown, mode_t mode, atomic_fill_fn fill, void *ctx,
		   char *err, size_t errlen);
int atomic_write_bufat(int dirfd, const char *name, const char *shown, mode_t mode, const void *buf, size_t len,
		       char *err, size_t errlen);

/* write() all of buf[0, len), retrying short writes and EINTR; 0 or -1. */
int atomic_write_all(int fd, const void *buf, size_t len);

/* fsync the directory holding `path`, so that a rename in it is durable. */
void atomic_sync_dir(const char *path);
/* The same for the directory dirfd itself (an O_PATH fd will do). */
void atomic_sync_dirfd(int dirfd);

/* Remove the files of dir whose names begin with prefix ("" for all): a
 * private folder's contents before it is removed.  dir itself is not
 * followed when it is a symbolic link, and no subdirectory is entered.
 * Best effort. */
void atomic_clean(const char *dir, const char *prefix);

/*
 * Remove from the directory dirfd what the writers of `name` leave there:
 * the regular files NAME.tmpXXXXXX (a crash between creating a temporary
 * and renaming it), and the regular file name itself when also_name.
 * Nothing else goes: not a symbolic link, a directory or any other name,
 * and nothing is followed.  Best effort.
 */
void atomic_clean_names(int dirfd, const char *name, int also_name);

#endif
