/*
 * log.h - the request log line, formatted by hand (no stdio, no strftime),
 * and the worker's log buffer.
 *
 * The line's bytes are exactly those app.c's snprintf+strftime made before
 * (tests/unit/test_log.c compares them): keys, order and text unchanged,
 * and the same truncation at the same size.
 *
 * Buffering (docs/security.md): a FastCGI worker whose log is a regular
 * file keeps its lines in a fixed LOG_BUF_BYTES buffer and writes them with
 * one write(2) of whole lines (O_APPEND, so concurrent workers never tear
 * a line): whenever the worker is about to wait for a connection (so an
 * idle server's log is always whole), when the next line would not fit,
 * when the oldest buffered line is LOG_FLUSH_SECONDS old (under steady
 * load), before the worker exits (SIGTERM, --idle-exit).  A
 * worker killed by SIGKILL loses at most the last LOG_FLUSH_SECONDS of
 * lines.  stderr, a pipe, plain CGI and Lambda write each line at once.
 */
#ifndef SCOREPOINT_HANDLER_LOG_H
#define SCOREPOINT_HANDLER_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LOG_BUF_BYTES (64u << 10)
#define LOG_FLUSH_SECONDS 1

/* One request's fields; text fields NUL-terminated, trace NULL for none. */
struct log_fields {
	struct timespec when;     /* CLOCK_REALTIME */
	long pid;
	const char *request_id, *trace, *endpoint, *deployment, *route, *method;
	int status;
	size_t rows, bytes_in, bytes_out;
	unsigned long long usec;
};

/* Appends what fits of text into out (cap bytes, NUL kept) and counts what
 * would have been written, as snprintf does: n past cap - 1 means cut. */
struct log_out {
	char *p;
	size_t cap, n;
};

void log_str(struct log_out *o, const char *s);
void log_uint(struct log_out *o, unsigned long long v);

/* "{\"time\": ..., \"us\": N" (no closing brace): the line's head, as
 * snprintf would have made it into o (o->n its untruncated length). */
void log_head(struct log_out *o, const struct log_fields *f);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of when (UTC) into out[24] (no NUL); the date
 * part is cached per second. */
void log_time(char *out, const struct timespec *when);

/* Buffer the lines written to fd from now on (a regular file only; else
 * lines keep going out at once): 1 when they are buffered.  Call once, in
 * a FastCGI worker; log_buffer(-1) flushes and stops buffering. */
int log_buffer(int fd);

/* Write one whole line (len bytes) to fd: at once, or into the buffer. */
void log_put(int fd, const char *line, size_t len);

/* Write out what the buffer holds. */
void log_flush(void);

/* CLOCK_MONOTONIC seconds by which the buffer must be flushed; 0 when it
 * is empty. */
double log_due(void);

#endif
