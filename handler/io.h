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
	/* Up to n body bytes into buf: the count, 0 at the end, -1 on error. */
	long (*read)(struct io *io, char *buf, size_t n);
	/* All n bytes of the response (CGI headers, blank line, body): 0 or -1. */
	int (*write)(struct io *io, const char *buf, size_t n);
	void *ctx;
	int fastcgi;          /* 1: the body may come without CONTENT_LENGTH */
};

/* Plain CGI: getenv(), fd 0 and fd 1. */
void io_cgi(struct io *io);

/* FastCGI: the accepted request (an FCGX_Request *). */
void io_fcgx(struct io *io, void *fcgx_request);

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
