/*
 * test_file.c - file_open_regular: a regular file opens (fd read-only,
 * close-on-exec, O_NONBLOCK cleared, *st filled); a FIFO is refused at
 * once rather than blocking in open(); a directory and a device are
 * refused; FILE_NOFOLLOW refuses a symbolic link as the last component;
 * a missing file keeps errno ENOENT; no refusal leaves an fd open.
 */
#include "tests/unit/unit.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/sp-test-file-XXXXXX";
static char err[256];

static const char *at(const char *name)
{
	static char p[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

/* The lowest free fd: the same before and after a call that must leave
 * no fd open. */
static int lowest_fd(void)
{
	int fd = dup(0);
	if (fd >= 0)
		close(fd);
	return fd;
}

static void test_regular_file(void)
{
	struct stat st;
	char buf[8];
	int fd;

	fd = file_open_regular(AT_FDCWD, at("plain"), 0, &st, err, sizeof err);
	CHECKF(fd >= 0, "%s", err);
	if (fd < 0)
		return;
	CHECK(S_ISREG(st.st_mode));
	CHECK_INT(st.st_size, 5);
	CHECK_INT(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_RDONLY);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_INT(read(fd, buf, sizeof buf), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	close(fd);

	/* st may be NULL; a path relative to a directory fd. */
	int d = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(d >= 0);
	fd = file_open_regular(d, "plain", FILE_NOFOLLOW, NULL, err, sizeof err);
	CHECKF(fd >= 0, "%s", err);
	if (fd >= 0)
		close(fd);
	close(d);
}

/* A FIFO with no writer: open() without O_NONBLOCK would block for ever
 * (the alarm ends the test program then). */
static void test_fifo_refused_at_once(void)
{
	int low = lowest_fd();

	errno = 0;
	alarm(10);
	CHECK_INT(file_open_regular(AT_FDCWD, at("fifo"), 0, NULL, err, sizeof err), -1);
	alarm(0);
	CHECK_INT(errno, EINVAL);
	char want[600];
	snprintf(want, sizeof want, "%s: not a regular file (a FIFO)", at("fifo"));
	CHECK_STR(err, want);
	CHECK_INT(lowest_fd(), low);
}

static void test_directory_and_device_refused(void)
{
	char want[600];
	int low = lowest_fd();

	CHECK_INT(file_open_regular(AT_FDCWD, dir, 0, NULL, err, sizeof err), -1);
	CHECK_INT(errno, EINVAL);
	snprintf(want, sizeof want, "%s: not a regular file (a directory)", dir);
	CHECK_STR(err, want);
	CHECK_INT(file_open_regular(AT_FDCWD, "/dev/null", 0, NULL, err, sizeof err), -1);
	CHECK_STR(err, "/dev/null: not a regular file (a character device)");
	CHECK_INT(lowest_fd(), low);
}

/* FILE_NOFOLLOW refuses the link itself (ELOOP, in words); without it the
 * link is followed, and what it points to is judged. */
static void test_symlink(void)
{
	char want[600];
	int fd, low = lowest_fd();

	errno = 0;
	CHECK_INT(file_open_regular(AT_FDCWD, at("link"), FILE_NOFOLLOW, NULL, err, sizeof err), -1);
	CHECK_INT(errno, ELOOP);
	snprintf(want, sizeof want, "%s: a symbolic link, which is not followed here", at("link"));
	CHECK_STR(err, want);
	CHECK_INT(lowest_fd(), low);

	fd = file_open_regular(AT_FDCWD, at("link"), 0, NULL, err, sizeof err);
	CHECKF(fd >= 0, "%s", err);
	if (fd >= 0)
		close(fd);
	CHECK_INT(file_open_regular(AT_FDCWD, at("fifo-link"), 0, NULL, err, sizeof err), -1);
	CHECK_CONTAINS(err, "fifo-link: not a regular file (a FIFO)");
	/* A link in a directory component is followed even with the flag. */
	fd = file_open_regular(AT_FDCWD, at("dir-link/inner"), FILE_NOFOLLOW, NULL, err, sizeof err);
	CHECKF(fd >= 0, "%s", err);
	if (fd >= 0)
		close(fd);
}

static void test_missing_keeps_enoent(void)
{
	char want[600];

	errno = 0;
	CHECK_INT(file_open_regular(AT_FDCWD, at("absent"), 0, NULL, err, sizeof err), -1);
	CHECK_INT(errno, ENOENT);
	snprintf(want, sizeof want, "%s: %s", at("absent"), strerror(ENOENT));
	CHECK_STR(err, want);
	errno = 0;
	CHECK_INT(file_open_regular(AT_FDCWD, at("absent"), FILE_NOFOLLOW, NULL, err, sizeof err), -1);
	CHECK_INT(errno, ENOENT);
}

/* A message longer than err is cut, not overflowed. */
static void test_short_error_buffer(void)
{
	char small[12 + 1];

	memset(small, '#', sizeof small);
	CHECK_INT(file_open_regular(AT_FDCWD, at("fifo"), 0, NULL, small, 12), -1);
	CHECK_INT(strlen(small), 11);
	CHECK_INT(small[12], '#');
}

static void test_kind_names(void)
{
	CHECK_STR(file_kind(S_IFREG | 0644), "a regular file");
	CHECK_STR(file_kind(S_IFDIR), "a directory");
	CHECK_STR(file_kind(S_IFIFO), "a FIFO");
	CHECK_STR(file_kind(S_IFCHR), "a character device");
	CHECK_STR(file_kind(S_IFBLK), "a block device");
	CHECK_STR(file_kind(S_IFSOCK), "a socket");
	CHECK_STR(file_kind(S_IFLNK), "a symbolic link");
	CHECK_STR(file_kind(0), "a special file");
}

static int setup(void)
{
	FILE *f;

	if (!mkdtemp(dir))
		return -1;
	f = fopen(at("plain"), "w");
	if (!f)
		return -1;
	fputs("hello", f);
	fclose(f);
	if (mkfifo(at("fifo"), 0600) < 0 || symlink("plain", at("link")) < 0 || symlink("fifo", at("fifo-link")) < 0 ||
	    mkdir(at("sub"), 0700) < 0 || symlink("sub", at("dir-link")) < 0)
		return -1;
	f = fopen(at("sub/inner"), "w");
	if (!f)
		return -1;
	fclose(f);
	return 0;
}

static void teardown(void)
{
	static const char *names[] = { "plain", "fifo", "link", "fifo-link", "dir-link", "sub/inner" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(at(names[i]));
	rmdir(at("sub"));
	rmdir(dir);
}

int main(void)
{
	if (setup() < 0) {
		printf("not ok - setup in %s: %s\n", dir, strerror(errno));
		teardown();
		return 1;
	}
	RUN(test_regular_file);
	RUN(test_fifo_refused_at_once);
	RUN(test_directory_and_device_refused);
	RUN(test_symlink);
	RUN(test_missing_keeps_enoent);
	RUN(test_short_error_buffer);
	RUN(test_kind_names);
	teardown();
	return unit_done();
}
