/*
 * test_err.c - err_set: the message is formatted into the caller's buffer,
 * cut to fit with its NUL, the bytes past the buffer never touched, and
 * the return value is -1 whatever the buffer, so that `return err_set(...)`
 * is a function's failure.
 */
#include "tests/unit/unit.h"
#include "model/err.h"

/* A failing function in the house style: returns err_set()'s value. */
static int fails(char *err, size_t errlen, const char *path)
{
	return err_set(err, errlen, "%s: not a regular file (%s)", path, "a FIFO");
}

static void test_formats_and_returns_minus_one(void)
{
	char err[128];

	CHECK_INT(err_set(err, sizeof err, "%s:%d: key '%s' unknown", "deploy.yml", 7, "instance_cont"), -1);
	CHECK_STR(err, "deploy.yml:7: key 'instance_cont' unknown");
	CHECK_INT(fails(err, sizeof err, "state.yaml"), -1);
	CHECK_STR(err, "state.yaml: not a regular file (a FIFO)");
	CHECK_INT(err_set(err, sizeof err, "plain"), -1);
	CHECK_STR(err, "plain");
}

/* A message longer than the buffer is cut to errlen - 1 bytes and a NUL;
 * the byte after the buffer keeps its value. */
static void test_truncates_within_the_buffer(void)
{
	char buf[16 + 1];
	char path[300];

	memset(path, 'p', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	memset(buf, '#', sizeof buf);
	CHECK_INT(err_set(buf, 16, "%s: too long", path), -1);
	CHECK_INT(strlen(buf), 15);
	CHECK(memcmp(buf, "ppppppppppppppp", 15) == 0);
	CHECK_INT(buf[15], '\0');
	CHECK_INT(buf[16], '#');

	/* Exactly errlen - 1 characters fit whole. */
	memset(buf, '#', sizeof buf);
	CHECK_INT(err_set(buf, 6, "%s", "abcde"), -1);
	CHECK_STR(buf, "abcde");
	CHECK_INT(buf[6], '#');
	CHECK_INT(err_set(buf, 6, "%s", "abcdef"), -1);
	CHECK_STR(buf, "abcde");
	CHECK_INT(buf[6], '#');
}

/* errlen 1 holds only the NUL; errlen 0 writes nothing at all, so a
 * caller that wants no message may pass (NULL, 0). */
static void test_tiny_and_empty_buffers(void)
{
	char buf[4] = "xyz";

	CHECK_INT(err_set(buf, 1, "%s", "message"), -1);
	CHECK_INT(buf[0], '\0');
	CHECK_INT(buf[1], 'y');

	memcpy(buf, "xyz", 4);
	CHECK_INT(err_set(buf, 0, "%s", "message"), -1);
	CHECK_STR(buf, "xyz");
	CHECK_INT(err_set(NULL, 0, "%s", "message"), -1);
	CHECK_INT(fails(NULL, 0, "state.yaml"), -1);
}

/* Arguments of every printf kind the modules use land in order. */
static void test_every_argument_kind(void)
{
	char err[128];

	err_set(err, sizeof err, "%s %d %u %ld %zu %.2f %c %x %%", "s", -3, 4u, 5L, (size_t)6, 0.25, 'c', 255u);
	CHECK_STR(err, "s -3 4 5 6 0.25 c ff %");
}

int main(void)
{
	RUN(test_formats_and_returns_minus_one);
	RUN(test_truncates_within_the_buffer);
	RUN(test_tiny_and_empty_buffers);
	RUN(test_every_argument_kind);
	return unit_done();
}
