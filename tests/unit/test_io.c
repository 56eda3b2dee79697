/*
 * test_io.c - the plain CGI carrier of handler/io.c: parameters are the
 * environment, the body is fd 0 read as it comes (0 at its end), a
 * deadline turns a wait for bytes into IO_LATE, and a response is written
 * whole to fd 1 or fails with -1.  (The memory carrier is test_app's.)
 */
#include "tests/unit/unit.h"
#include "handler/io.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Put fd on target (0 or 1), keeping the old one in *saved. */
static void swap_fd(int fd, int target, int *saved)
{
	fflush(stdout);
	*saved = dup(target);
	dup2(fd, target);
	close(fd);
}

static void restore_fd(int target, int saved)
{
	fflush(stdout);
	dup2(saved, target);
	close(saved);
}

static void test_params_are_the_environment(void)
{
	struct io io;

	io_cgi(&io);
	setenv("REQUEST_METHOD", "POST", 1);
	unsetenv("HTTP_AUTHORIZATION");
	CHECK_STR(io.param(&io, "REQUEST_METHOD"), "POST");
	CHECK(io.param(&io, "HTTP_AUTHORIZATION") == NULL);
	CHECK_INT(io.fastcgi, 0);
	CHECK(io.deadline == 0);
}

/* The body as it comes: the bytes, then 0 at its end; with a deadline and
 * the bytes already there, the same. */
static void test_body_then_end(void)
{
	struct io io;
	char buf[16];
	int p[2], saved;

	CHECK(pipe(p) == 0);
	CHECK_INT(write(p[1], "abc", 3), 3);
	close(p[1]);
	swap_fd(p[0], 0, &saved);
	io_cgi(&io);
	io.deadline = now() + 30;
	CHECK_INT(io.read(&io, buf, sizeof buf), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_INT(io.read(&io, buf, sizeof buf), 0);
	io.deadline = 0;
	CHECK_INT(io.read(&io, buf, sizeof buf), 0);
	restore_fd(0, saved);
}

/* A client that sends nothing more: IO_LATE once the deadline passes, not
 * a wait for ever (the alarm ends the program if it waits). */
static void test_deadline_gives_io_late(void)
{
	struct io io;
	char buf[16];
	int p[2], saved;

	CHECK(pipe(p) == 0);
	CHECK_INT(write(p[1], "x", 1), 1);
	swap_fd(p[0], 0, &saved);
	io_cgi(&io);
	io.deadline = now() + 0.2;
	alarm(20);
	CHECK_INT(io.read(&io, buf, sizeof buf), 1);
	CHECK_INT(io.read(&io, buf, sizeof buf), IO_LATE);
	CHECK(now() >= io.deadline);
	/* A deadline already past: IO_LATE at once, even with bytes waiting. */
	CHECK_INT(write(p[1], "y", 1), 1);
	io.deadline = now() - 1;
	CHECK_INT(io.read(&io, buf, sizeof buf), IO_LATE);
	alarm(0);
	close(p[1]);
	restore_fd(0, saved);
}

/* A response larger than a pipe's buffer arrives whole, in order. */
static void test_write_whole(void)
{
	char path[] = "/tmp/sp-test-io-XXXXXX";
	size_t n = 300000, got;
	char *big = malloc(n), *back;
	struct io io;
	int fd, saved;

	CHECK(big != NULL);
	if (!big)
		return;
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0) {
		free(big);
		return;
	}
	swap_fd(fd, 1, &saved);
	io_cgi(&io);
	int r1 = io.write(&io, "Status: 200\r\n\r\n", 15);
	int r2 = io.write(&io, big, n);
	restore_fd(1, saved);
	CHECK_INT(r1, 0);
	CHECK_INT(r2, 0);
	back = unit_slurp(path, &got);
	CHECK_INT(got, 15 + n);
	CHECK(back && memcmp(back, "Status: 200\r\n\r\n", 15) == 0 && memcmp(back + 15, big, n) == 0);
	free(back);
	free(big);
	unlink(path);
}

/* The web server gone (the pipe's reader closed): -1, not a crash. */
static void test_write_to_a_closed_pipe(void)
{
	struct io io;
	int p[2], saved;

	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(p) == 0);
	close(p[0]);
	swap_fd(p[1], 1, &saved);
	io_cgi(&io);
	int r = io.write(&io, "Status: 200\r\n\r\n", 15);
	restore_fd(1, saved);
	CHECK_INT(r, -1);
}

int main(void)
{
	RUN(test_params_are_the_environment);
	RUN(test_body_then_end);
	RUN(test_deadline_gives_io_late);
	RUN(test_write_whole);
	RUN(test_write_to_a_closed_pipe);
	return unit_done();
}
