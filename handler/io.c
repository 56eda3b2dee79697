/*
 * io.c - the three carriers of a request.  Only this file includes
 * fcgiapp.h (never fcgi_stdio.h, which redefines FILE and stdio).
 */
#include "handler/io.h"

#include <errno.h>
#include <fcgiapp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- CGI ---- */

static const char *cgi_param(struct io *io, const char *name)
{
	(void)io;
	return getenv(name);
}

static long cgi_read(struct io *io, char *buf, size_t n)
{
	(void)io;
	for (;;) {
		ssize_t r = read(STDIN_FILENO, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		return (long)r;
	}
}

static int write_fd(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int cgi_write(struct io *io, const char *buf, size_t n)
{
	(void)io;
	return write_fd(STDOUT_FILENO, buf, n);
}

void io_cgi(struct io *io)
{
	memset(io, 0, sizeof *io);
	io->param = cgi_param;
	io->read = cgi_read;
	io->write = cgi_write;
}

/* ---- FastCGI ---- */

/* FCGX_GetParam's walk, with the first byte compared before strncmp is
 * called: a request carries 20-odd parameters, and each request looks up
 * a handful of names. */
static const char *fcgx_param(struct io *io, const char *name)
{
	FCGX_Request *r = io->ctx;
	size_t len = strlen(name);

	if (!r->envp)
		return NULL;
	for (char **p = r->envp; *p; p++)
		if ((*p)[0] == name[0] && strncmp(*p, name, len) == 0 && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

static long fcgx_read(struct io *io, char *buf, size_t n)
{
	FCGX_Request *r = io->ctx;
	int want = n > (1u << 30) ? (1 << 30) : (int)n;
	int got = FCGX_GetStr(buf, want, r->in);
	if (got == 0 && FCGX_GetError(r->in) != 0)
		return -1;
	return got;
}

static int fcgx_write(struct io *io, const char *buf, size_t n)
{
	FCGX_Request *r = io->ctx;
	while (n) {
		int part = n > (1u << 30) ? (1 << 30) : (int)n;
		if (FCGX_PutStr(buf, part, r->out) != part)
			return -1;
		buf += part;
		n -= (size_t)part;
	}
	return 0;
}

void io_fcgx(struct io *io, void *fcgx_request)
{
	memset(io, 0, sizeof *io);
	io->param = fcgx_param;
	io->read = fcgx_read;
	io->write = fcgx_write;
	io->ctx = fcgx_request;
	io->fastcgi = 1;
}

/* ---- memory ---- */

static const char *mem_param(struct io *io, const char *name)
{
	struct io_mem *m = io->ctx;
	size_t n = strlen(name);
	for (const char *const *p = m->params; p && *p; p++)
		if (strncmp(*p, name, n) == 0 && (*p)[n] == '=')
			return *p + n + 1;
	return NULL;
}

static long mem_read(struct io *io, char *buf, size_t n)
{
	struct io_mem *m = io->ctx;
	size_t left = m->body_len - m->pos;
	if (n > left)
		n = left;
	memcpy(buf, m->body + m->pos, n);
	m->pos += n;
	return (long)n;
}

static int mem_write(struct io *io, const char *buf, size_t n)
{
	struct io_mem *m = io->ctx;
	if (m->out_len + n + 1 > m->out_cap) {
		size_t cap = m->out_cap ? m->out_cap : 4096;
		while (cap < m->out_len + n + 1)
			cap *= 2;
		char *p = realloc(m->out, cap);
		if (!p)
			return -1;
		m->out = p;
		m->out_cap = cap;
	}
	memcpy(m->out + m->out_len, buf, n);
	m->out_len += n;
	m->out[m->out_len] = '\0';
	return 0;
}

void io_memory(struct io *io, struct io_mem *m)
{
	memset(io, 0, sizeof *io);
	io->param = mem_param;
	io->read = mem_read;
	io->write = mem_write;
	io->ctx = m;
}
