/*
 * log.c - the request log line by hand, and the worker's log buffer
 * (log.h says when it is written).
 */
#include "handler/log.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the line ---- */

static void put(struct log_out *o, const char *s, size_t len)
{
	if (o->n + 1 < o->cap) {
		size_t room = o->cap - 1 - o->n;
		memcpy(o->p + o->n, s, len < room ? len : room);
	}
	o->n += len;
	if (o->cap)
		o->p[o->n < o->cap ? o->n : o->cap - 1] = '\0';
}

void log_str(struct log_out *o, const char *s)
{
	put(o, s, strlen(s));
}

void log_uint(struct log_out *o, unsigned long long v)
{
	char d[20];
	size_t i = sizeof d;

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, d + i, sizeof d - i);
}

static void digits(char *out, unsigned v, int n)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void log_time(char *out, const struct timespec *when)
{
	static time_t cached = (time_t)-1;
	static char date[20];   /* "YYYY-MM-DDTHH:MM:SS" */

	if (when->tv_sec != cached) {
		struct tm tm;
		gmtime_r(&when->tv_sec, &tm);
		if (tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
			strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);   /* what it always was */
		} else {
			memcpy(date, "0000-00-00T00:00:00", sizeof date);
			digits(date, (unsigned)tm.tm_year + 1900, 4);
			digits(date + 5, (unsigned)tm.tm_mon + 1, 2);
			digits(date + 8, (unsigned)tm.tm_mday, 2);
			digits(date + 11, (unsigned)tm.tm_hour, 2);
			digits(date + 14, (unsigned)tm.tm_min, 2);
			digits(date + 17, (unsigned)tm.tm_sec, 2);
		}
		cached = when->tv_sec;
	}
	memcpy(out, date, 19);
	out[19] = '.';
	digits(out + 20, (unsigned)(when->tv_nsec / 1000000), 3);
	out[23] = 'Z';
}

void log_head(struct log_out *o, const struct log_fields *f)
{
	char when[24];

	log_time(when, &f->when);
	log_str(o, "{\"time\": \"");
	put(o, when, sizeof when);
	log_str(o, "\", \"pid\": ");
	log_uint(o, (unsigned long long)f->pid);
	log_str(o, ", \"request_id\": \"");
	log_str(o, f->request_id);
	log_str(o, "\", ");
	if (f->trace) {
		log_str(o, "\"trace_id\": \"");
		log_str(o, f->trace);
		log_str(o, "\", ");
	}
	log_str(o, "\"endpoint\": \"");
	log_str(o, f->endpoint);
	log_str(o, "\", \"deployment\": \"");
	log_str(o, f->deployment);
	log_str(o, "\", \"route\": \"");
	log_str(o, f->route);
	log_str(o, "\", \"method\": \"");
	log_str(o, f->method);
	log_str(o, "\", \"status\": ");
	if (f->status < 0) {
		log_str(o, "-");
		log_uint(o, (unsigned long long)-(long long)f->status);
	} else {
		log_uint(o, (unsigned long long)f->status);
	}
	log_str(o, ", \"rows\": ");
	log_uint(o, f->rows);
	log_str(o, ", \"bytes_in\": ");
	log_uint(o, f->bytes_in);
	log_str(o, ", \"bytes_out\": ");
	log_uint(o, f->bytes_out);
	log_str(o, ", \"us\": ");
	log_uint(o, f->usec);
}

/* ---- the buffer ---- */

static struct {
	int fd;          /* the buffered file; -1: none */
	size_t len;
	double first;    /* CLOCK_MONOTONIC of the oldest line */
	char buf[LOG_BUF_BYTES];
} lb = { -1, 0, 0, { 0 } };

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One write(2) of whole lines; a short one (ENOSPC, EFBIG) loses the rest
 * rather than append a torn line after another worker's. */
static void write_all(int fd, const char *p, size_t n)
{
	while (write(fd, p, n) < 0 && errno == EINTR)
		;
}

int log_buffer(int fd)
{
	struct stat st;

	log_flush();
	lb.fd = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fd : -1;
	return lb.fd >= 0;
}

void log_flush(void)
{
	if (lb.len)
		write_all(lb.fd, lb.buf, lb.len);
	lb.len = 0;
}

double log_due(void)
{
	return lb.len ? lb.first + LOG_FLUSH_SECONDS : 0;
}

void log_put(int fd, const char *line, size_t len)
{
	if (fd != lb.fd || len > sizeof lb.buf) {
		write_all(fd, line, len);
		return;
	}
	if (lb.len + len > sizeof lb.buf)
		log_flush();
	double now = mono();
	if (!lb.len)
		lb.first = now;
	memcpy(lb.buf + lb.len, line, len);
	lb.len += len;
	if (now >= lb.first + LOG_FLUSH_SECONDS)
		log_flush();
}
