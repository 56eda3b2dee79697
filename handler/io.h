/*
 * io.h - one request's input and output, whatever carries it: a FastCGI
 * request (libfcgi's FCGX_* API), plain CGI (environment, stdin, stdout),
 * or memory (tests).  The handler's logic sees only this interface.
 */
#ifndef SCOREPOINT_IO_H
#define SCOREPOINT_IO_H

#include <stddef.h>

struct io {
	/* A CGI/FastCGI parameter (REQUEST_METHOD, HTTP_AUTHORIZATION, ...), or
	 * NULL.  Valid until the request ends. */
	const char *(*param)(struct io *io, const char *name);
	/* Up to n body bytes into buf: the count, 0 at the end, -1 on error,
	 * IO_LATE when deadline passed while it waited for bytes. */
	long (*read)(struct io *io, char *buf, size_t n);
	/* All n bytes of the response (CGI headers, blank line, body): 0 or -1. */
	int (*write)(struct io *io, const char *buf, size_t n);
	void *ctx;
	int fastcgi;          /* 1: the body may come without CONTENT_LENGTH */
	/* CLOCK_MONOTONIC seconds past which read() stops waiting for the
	 * client; 0: no limit.  Set before the first read. */
	double deadline;
	size_t got;           /* body bytes read() returned: the carrier's count */
};

#define IO_LATE (-2L)

/* Plain CGI: getenv(), fd 0 and fd 1. */
void io_cgi(struct io *io);

/* FastCGI, once before the first request: the timer that enforces the
 * body's deadline (see io.c).  0, or -1 with one line in err. */
int io_fcgx_init(char *err, size_t errlen);

/* FastCGI: the accepted request (an FCGX_Request *). */
void io_fcgx(struct io *io, void *fcgx_request);

/* FastCGI: end the request (FCGX_Finish_r) and stop its timer.  A request
 * whose body was not read to its end (a 401 before the body, a 408, an
 * error) gets its answer and a FIN, and its connection goes to a thread
 * that throws the rest away (see io.c), so the worker never waits for it. */
void io_fcgx_finish(struct io *io);

/* Memory, for tests: params as "NAME=value" strings (NULL-terminated),
 * the body, and an output buffer the caller frees (out / out_len). */
struct io_mem {
	const char *const *params;
	const char *body;
	size_t body_len, pos;
	char *out;
	size_t out_len, out_cap;
};
void io_memory(struct io *io, struct io_mem *m);

#endif
