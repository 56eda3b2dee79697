/*
 * test_log.c - handler/log.c: the request log line made by hand is byte
 * for byte what snprintf+strftime made (many times and values, the trace
 * and mirror/shadow variants, cut at the same place when it does not
 * fit), and the worker's buffer: whole lines, held until flushed, full or a
 * second old; a pipe is written at once.
 */
#include "tests/unit/unit.h"
#include "handler/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The line as app.c made it before log.c (snprintf + strftime). */
static int reference(char *line, size_t cap, const struct log_fields *f, const char *shadow)
{
	char when[32];
	struct tm tm;

	gmtime_r(&f->when.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(line, cap,
			 "{\"time\": \"%s.%03ldZ\", \"pid\": %ld, \"request_id\": \"%s\", %s%s%s\"endpoint\": \"%s\", "
			 "\"deployment\": \"%s\", \"route\": \"%s\", \"method\": \"%s\", \"status\": %d, "
			 "\"rows\": %zu, \"bytes_in\": %zu, \"bytes_out\": %zu, \"us\": %llu",
			 when, f->when.tv_nsec / 1000000, f->pid, f->request_id, f->trace ? "\"trace_id\": \"" : "",
			 f->trace ? f->trace : "", f->trace ? "\", " : "", f->endpoint, f->deployment, f->route,
			 f->method, f->status, f->rows, f->bytes_in, f->bytes_out, f->usec);
	if (n > 0 && (size_t)n < cap && shadow)
		n += snprintf(line + n, cap - (size_t)n, "%s", shadow);
	if (n > 0 && (size_t)n < cap - 2)
		n += snprintf(line + n, cap - (size_t)n, "}\n");
	return n > 0 ? ((size_t)n < cap ? n : (int)cap - 1) : 0;
}

/* The same line as app.c makes it now. */
static size_t by_hand(char *line, size_t cap, const struct log_fields *f, const char *shadow)
{
	struct log_out o = { line, cap, 0 };

	log_head(&o, f);
	size_t n = o.n;
	if (n < cap && shadow)
		n += (size_t)snprintf(line + n, cap - n, "%s", shadow);
	if (n < cap - 2) {
		memcpy(line + n, "}\n", 3);
		n += 2;
	}
	return n < cap ? n : cap - 1;
}

static void random_text(char *out, size_t max)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=;";
	size_t n = (size_t)unit_rand_below(max + 1);
	for (size_t i = 0; i < n; i++)
		out[i] = set[unit_rand_below(sizeof set - 1)];
	out[n] = '\0';
}

static unsigned long long random_size(void)
{
	switch (unit_rand_below(4)) {
	case 0: return unit_rand_below(10);
	case 1: return unit_rand_below(100000);
	case 2: return unit_rand() >> unit_rand_below(64);
	default: return (unsigned long long)-1 >> unit_rand_below(3);
	}
}

static void test_line_matches_snprintf(void)
{
	static const char *const routes[] = { "root", "score", "invocations", "v2_infer", "other" };
	static const char *const methods[] = { "GET", "POST", "HEAD", "?", "PROPFINDXXXXXXXX" };
	char rid[80], trace[300], ep[100], dep[100], shadow[200], want[1100], got[1100];
	int bad = 0;

	for (int i = 0; i < 200000; i++) {
		struct log_fields f;
		/* 1970 to 9999, now and then the same second as the last. */
		if (i == 0 || unit_rand_below(4))
			f.when.tv_sec = (time_t)unit_rand_below(253402300800ull);
		f.when.tv_nsec = (long)unit_rand_below(1000000000);
		f.pid = (long)unit_rand_below(4194305);
		random_text(rid, 64);
		random_text(trace, 256);
		random_text(ep, unit_rand_below(8) ? 32 : 90);
		random_text(dep, unit_rand_below(8) ? 32 : 90);
		f.request_id = rid;
		f.trace = unit_rand_below(3) ? NULL : trace;
		f.endpoint = ep;
		f.deployment = dep;
		f.route = routes[unit_rand_below(5)];
		f.method = methods[unit_rand_below(5)];
		f.status = (int)unit_rand_below(600);
		f.rows = (size_t)random_size();
		f.bytes_in = (size_t)random_size();
		f.bytes_out = (size_t)random_size();
		f.usec = random_size();
		const char *tail = NULL;
		if (unit_rand_below(4) == 0) {
			snprintf(shadow, sizeof shadow, ", \"shadow\": {\"live\": \"blue\", \"rows\": %d, \"worst_abs_diff\": "
				 "%s}", (int)unit_rand_below(1000), unit_rand_below(2) ? "null" : "0.125");
			tail = shadow;
		}
		/* app.c's size, then smaller ones that cut the line anywhere. */
		size_t cap = i % 3 ? 768 + 256 : 1 + (size_t)unit_rand_below(500);
		memset(want, 'x', sizeof want);
		memset(got, 'y', sizeof got);
		int wn = reference(want, cap, &f, tail);
		size_t gn = by_hand(got, cap, &f, tail);
		if ((size_t)wn != gn || memcmp(want, got, gn) != 0) {
			if (bad++ < 3)
				printf("#   cap %zu\n#   want %.*s\n#   got  %.*s\n", cap, wn, want, (int)gn, got);
		}
	}
	CHECK_INT(bad, 0);
}

static void test_time_cached_per_second(void)
{
	char got[25] = { 0 };
	struct timespec t = { 1796528820, 123456789 };   /* 2026-12-06T03:47:00.123Z */

	log_time(got, &t);
	CHECK_STR(got, "2026-12-06T03:47:00.123Z");
	t.tv_nsec = 999999999;
	log_time(got, &t);
	CHECK_STR(got, "2026-12-06T03:47:00.999Z");
	t.tv_sec++;
	t.tv_nsec = 0;
	log_time(got, &t);
	CHECK_STR(got, "2026-12-06T03:47:01.000Z");
	t.tv_sec = 0;
	log_time(got, &t);
	CHECK_STR(got, "1970-01-01T00:00:00.000Z");
}

static size_t file_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

static void test_buffer_holds_whole_lines(void)
{
	char path[] = "/tmp/test_log_XXXXXX", line[200];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	CHECK_INT(log_due(), 0);
	CHECK_INT(log_buffer(fd), 1);
	int n = snprintf(line, sizeof line, "{\"n\": %d}\n", 1);
	log_put(fd, line, (size_t)n);
	CHECK_INT(file_size(fd), 0);           /* held */
	CHECK(log_due() > 0);
	log_flush();
	CHECK_INT(file_size(fd), (size_t)n);   /* out */
	CHECK_INT(log_due(), 0);

	/* Full: the line that would not fit sends the others first. */
	size_t total = (size_t)n, lines = 0;
	memset(line, 'a', 99);
	line[99] = '\n';
	while (lines * 100 + 100 <= LOG_BUF_BYTES) {
		log_put(fd, line, 100);
		lines++;
	}
	CHECK_INT(file_size(fd), total);
	log_put(fd, line, 100);
	CHECK_INT(file_size(fd), total + lines * 100);
	total += (lines + 1) * 100;

	/* A second old: the next line sends them all. */
	log_flush();
	log_put(fd, line, 100);
	usleep(1100 * 1000);
	log_put(fd, line, 100);
	CHECK_INT(file_size(fd), total + 200);
	CHECK_INT(log_due(), 0);

	/* Stopped: flushed, and lines go out at once. */
	log_put(fd, line, 100);
	CHECK_INT(log_buffer(-1), 0);
	CHECK_INT(file_size(fd), total + 300);
	log_put(fd, line, 100);
	CHECK_INT(file_size(fd), total + 400);
	close(fd);
	unlink(path);
}

static void test_pipe_written_at_once(void)
{
	int p[2];
	char buf[16];

	CHECK(pipe(p) == 0);
	CHECK_INT(log_buffer(p[1]), 0);
	log_put(p[1], "{}\n", 3);
	CHECK_INT(read(p[0], buf, sizeof buf), 3);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	RUN(test_line_matches_snprintf);
	RUN(test_time_cached_per_second);
	RUN(test_buffer_holds_whole_lines);
	RUN(test_pipe_written_at_once);
	return unit_done();
}
