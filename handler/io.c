/*
 * io.c - the three carriers of a request.  Only this file includes
 * fcgiapp.h (never fcgi_stdio.h, which redefines FILE and stdio).
 */
#define _GNU_SOURCE   /* gettid, SIGEV_THREAD_ID */
#include "handler/io.h"

#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* glibc before 2.41 has the field but not its POSIX-style name. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- CGI ---- */

static const char *cgi_param(struct io *io, const char *name)
{
	(void)io;
	return getenv(name);
}

/* Wait until fd has bytes (or its end) or the deadline passes: 1, 0 when
 * it passed, -1 on error. */
static int readable_by(int fd, double deadline)
{
	for (;;) {
		double left = deadline - mono_now();
		if (left <= 0)
			return 0;
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, (int)(left * 1000.0) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 0)
			return r > 0 ? 1 : -1;
	}
}

/* The web server's pipe or socket, read directly: a poll() before each
 * read() is the whole deadline. */
static long cgi_read(struct io *io, char *buf, size_t n)
{
	for (;;) {
		int w = io->deadline > 0 ? readable_by(STDIN_FILENO, io->deadline) : 1;
		if (w <= 0)
			return w < 0 ? -1 : IO_LATE;
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

/*
 * The body's deadline.  libfcgi reads the connection inside FCGX_GetStr,
 * through an 8 KiB buffer whose fill level is private: the public
 * rdNext == stop says that the current record's bytes are used up, not
 * that the next record is not already buffered, so a poll() before
 * GetStr could wait for bytes libfcgi holds, and one GetStr may block in
 * many read()s (record headers, padding, other requests' records).  So a
 * timer interrupts the read instead: at the deadline, and every 10 ms after
 * it in case the signal came just before read() blocked, SIGALRM (no
 * SA_RESTART) makes the read() in libfcgi fail with EINTR (its OS_Read does
 * not retry), the stream is marked in error and the handler answers 408.
 * Shutting the read side would wake it too, but on a Unix socket that
 * fails the peer's writes, and lighttpd, still writing the body, answers
 * 503 instead of reading our 408.  The signal goes to this thread only
 * (SIGEV_THREAD_ID), and the timer runs only while the body is read: armed
 * when GetStr may have to read the connection (a body that came with the
 * parameters costs no system call; else two timer_settime calls), stopped
 * once the body is in or the read gives up.
 */
#define DEADLINE_REPEAT_NS 10000000L

static timer_t deadline_timer;
static int timer_ready, armed;
static volatile sig_atomic_t fired;

static void on_deadline(int sig)
{
	(void)sig;
	fired = 1;
}

int io_fcgx_init(char *err, size_t errlen)
{
	struct sigaction sa;
	struct sigevent ev;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_deadline;
	sigemptyset(&sa.sa_mask);
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGALRM;
	ev.sigev_notify_thread_id = gettid();
	if (sigaction(SIGALRM, &sa, NULL) < 0 || timer_create(CLOCK_MONOTONIC, &ev, &deadline_timer) < 0) {
		snprintf(err, errlen, "the request deadline timer: %s", strerror(errno));
		return -1;
	}
	/* A parent may have left it blocked. */
	sigaddset(&sa.sa_mask, SIGALRM);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
	timer_ready = 1;
	return 0;
}

static int arm(double deadline)
{
	struct itimerspec at = { { 0, DEADLINE_REPEAT_NS }, { (time_t)deadline, 0 } };
	at.it_value.tv_nsec = (long)((deadline - (double)at.it_value.tv_sec) * 1e9);
	fired = 0;
	if (timer_settime(deadline_timer, TIMER_ABSTIME, &at, NULL) < 0)
		return -1;
	armed = 1;
	return 0;
}

static void disarm(void)
{
	static const struct itimerspec off;
	if (armed) {
		timer_settime(deadline_timer, 0, &off, NULL);
		armed = 0;
	}
}

/* The body's end: libfcgi saw the end of FCGI_STDIN, or CONTENT_LENGTH's
 * bytes came (a GET or HEAD without one has none). */
static int body_done(struct io *io)
{
	const char *cl = fcgx_param(io, "CONTENT_LENGTH");
	const char *m = fcgx_param(io, "REQUEST_METHOD");

	if (FCGX_HasSeenEOF(((FCGX_Request *)io->ctx)->in))
		return 1;
	if (cl && *cl)
		return strspn(cl, "0123456789") == strlen(cl) && strtoull(cl, NULL, 10) == io->got;
	return m && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0);
}

static long fcgx_read(struct io *io, char *buf, size_t n)
{
	FCGX_Request *r = io->ctx;
	int want = n > (1u << 30) ? (1 << 30) : (int)n;
	if (io->deadline > 0 && timer_ready && !armed && want > r->in->stop - r->in->rdNext &&
	    arm(io->deadline) < 0)
		return -1;
	int got = FCGX_GetStr(buf, want, r->in);
	if (got == 0 && FCGX_GetError(r->in) != 0) {
		disarm();
		return fired ? IO_LATE : -1;
	}
	io->got += (size_t)got;
	if (armed && (got == 0 || body_done(io)))
		disarm();
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

/*
 * Connections whose body was abandoned.  Closed at once with bytes unread,
 * a connection is reset, and a web server still writing the body
 * (lighttpd) fails that write and answers 503 instead of our 401 or 408;
 * one that writes the whole body before it reads the answer (mod_fcgid)
 * never gets to the answer while nobody reads.  Read on in the worker
 * (libfcgi's close), the rest of the body costs the worker as long as the
 * client takes to send it.  So the worker flushes the answer, sends a FIN
 * after it and hands the socket to the reaper, a thread of its own that
 * reads and throws away whatever still comes, and closes the socket when
 * the peer closes its end, after ABANDON_HOLD seconds, or when ABANDON_MAX
 * newer ones need the room.  The worker takes its next request at once.
 */
#define ABANDON_MAX 16
#define ABANDON_HOLD 5.0

static int reaper_pipe[2] = { -1, -1 };

/* Throw away what came on fd; 1 when fd is finished with (its end, an error). */
static int drained(int fd)
{
	static char sink[65536];
	ssize_t got = read(fd, sink, sizeof sink);
	return got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN);
}

static void *reaper(void *arg)
{
	struct { int fd; double until; } held[ABANDON_MAX];
	struct pollfd p[ABANDON_MAX + 1];
	int n = 0;

	(void)arg;
	for (;;) {
		double t = mono_now(), next = t + 3600.0;
		p[0] = (struct pollfd){ reaper_pipe[0], POLLIN, 0 };
		for (int i = 0; i < n; i++) {
			p[i + 1] = (struct pollfd){ held[i].fd, POLLIN | POLLRDHUP, 0 };
			if (held[i].until < next)
				next = held[i].until;
		}
		int r = poll(p, (nfds_t)n + 1, (int)((next - t) * 1000.0) + 1);
		t = mono_now();
		int k = 0;
		for (int i = 0; i < n; i++) {
			if (held[i].until <= t || (r > 0 && p[i + 1].revents && drained(held[i].fd)))
				close(held[i].fd);
			else
				held[k++] = held[i];
		}
		n = k;
		int fd;
		if (r > 0 && (p[0].revents & POLLIN) && read(reaper_pipe[0], &fd, sizeof fd) == (ssize_t)sizeof fd) {
			if (n == ABANDON_MAX) {
				close(held[0].fd);
				memmove(held, held + 1, (ABANDON_MAX - 1) * sizeof held[0]);
				n--;
			}
			held[n].fd = fd;
			held[n++].until = t + ABANDON_HOLD;
		}
	}
	return NULL;
}

/* The reaper, started by the first abandoned body (so a process that
 * never abandons one has no thread), with every signal blocked: SIGALRM,
 * SIGTERM and the blob leases' SIGIO stay the worker's.  0 or -1. */
static int reaper_start(void)
{
	static int state;   /* 0: not tried, 1: running, -1: failed */
	sigset_t all, old;
	pthread_t t;

	if (state)
		return state > 0 ? 0 : -1;
	state = -1;
	if (pipe2(reaper_pipe, O_CLOEXEC) < 0)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&t, NULL, reaper, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0 || pthread_detach(t) != 0) {
		close(reaper_pipe[0]);
		close(reaper_pipe[1]);
		return -1;
	}
	state = 1;
	return 0;
}

/* Flush the answer, FIN after it, and hand the socket to the reaper
 * (FCGX_Finish_r then closes libfcgi's descriptor without its lingering
 * read).  Without a reaper the socket is closed at once. */
static void abandon(FCGX_Request *r)
{
	FCGX_FClose(r->err);
	FCGX_FClose(r->out);
	shutdown(r->ipcFd, SHUT_WR);
	int fd = fcntl(r->ipcFd, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0 && (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 || reaper_start() < 0 ||
			write(reaper_pipe[1], &fd, sizeof fd) != (ssize_t)sizeof fd))
		close(fd);
	FCGX_Detach(r);
	r->keepConnection = 0;
}

void io_fcgx_finish(struct io *io)
{
	FCGX_Request *r = io->ctx;

	disarm();
	/* A body not read to its end is abandoned with its connection: kept
	 * (FCGI_KEEP_CONN), the next FCGX_Accept_r would block on the rest. */
	if (r->in && !body_done(io))
		abandon(r);
	FCGX_Finish_r(r);
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
