/*
 * lambda_http.c - the Runtime API's client: HTTP/1.1 over one TCP
 * connection per call (the API is on the loopback of the sandbox; a call
 * costs a connect), blocking and without a timeout, as the Runtime API
 * asks of the GET of the next event (Lambda may freeze the process while
 * it waits).  The reply's head is bounded (LAMBDA_HEAD_MAX, a line
 * LAMBDA_LINE_MAX), its body by the cap given at open: Content-Length,
 * chunked, or up to the close.
 */
#define _GNU_SOURCE   /* strcasestr */
#include "handler/lambda.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/err.h"
#include "model/version.h"

#define LAMBDA_HEAD_MAX ((size_t)64 << 10)
#define LAMBDA_LINE_MAX ((size_t)8 << 10)

struct lambda_http {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[300];           /* HOST:PORT, the Host header */
	size_t body_max;
	char *buf;                /* the last reply's body */
	size_t cap;
};

/* A buffered reader over the connection. */
struct rd {
	int fd;
	size_t pos, len;
	char b[16384];
};

/* Numeric addresses only (and "localhost"): getaddrinfo() would need
 * glibc's NSS libraries at run time in a static score.fcgi, and Lambda's
 * AWS_LAMBDA_RUNTIME_API is an address (127.0.0.1:9001). */
static int address(const char *host, unsigned port, struct lambda_http *h)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&h->addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&h->addr;

	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	memset(&h->addr, 0, sizeof h->addr);
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		h->addrlen = sizeof *v4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		h->addrlen = sizeof *v6;
		return 0;
	}
	return -1;
}

struct lambda_http *lambda_http_open(const char *api, size_t body_max, char *err, size_t errlen)
{
	char host[64];
	int v6 = api[0] == '[';
	const char *colon = v6 ? strstr(api, "]:") : strrchr(api, ':');
	const char *port = colon ? colon + 1 + v6 : "";
	size_t hn = colon ? (size_t)(colon - api) - (size_t)v6 : 0;
	unsigned long pn = strtoul(port, NULL, 10);
	struct lambda_http *h = calloc(1, sizeof *h);

	if (!h)
		return err_set(err, errlen, "out of memory"), NULL;
	if (hn)
		memcpy(host, api + v6, hn < sizeof host ? hn : 0);
	host[hn < sizeof host ? hn : 0] = '\0';
	if (!hn || hn >= sizeof host || !*port || strspn(port, "0123456789") != strlen(port) || pn == 0 ||
	    pn > 65535 || address(host, (unsigned)pn, h) < 0) {
		free(h);
		return err_set(err, errlen, "AWS_LAMBDA_RUNTIME_API '%.100s': expected ADDRESS:PORT (an IPv4 or [IPv6] "
			       "address, or localhost)", api), NULL;
	}
	snprintf(h->host, sizeof h->host, "%s", api);
	h->body_max = body_max;
	return h;
}

void lambda_http_close(struct lambda_http *h)
{
	if (!h)
		return;
	free(h->buf);
	free(h);
}

/* ---- sending ---- */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_request(int fd, const struct lambda_http *h, const char *path, const char *body, size_t n,
			const char *error_type)
{
	char head[1024];
	int k = snprintf(head, sizeof head, "%s /2018-06-01%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: scorepoint/%s\r\n",
			 body ? "POST" : "GET", path, h->host, SCOREPOINT_VERSION);
	if (body)
		k += snprintf(head + k, sizeof head - (size_t)k, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			      n);
	if (error_type)
		k += snprintf(head + k, sizeof head - (size_t)k, "Lambda-Runtime-Function-Error-Type: %s\r\n", error_type);
	k += snprintf(head + k, sizeof head - (size_t)k, "Connection: close\r\n\r\n");
	if ((size_t)k >= sizeof head)
		return -1;
	return send_all(fd, head, (size_t)k) < 0 || (body && send_all(fd, body, n) < 0) ? -1 : 0;
}

/* ---- reading ---- */

/* More bytes into r->b; 1, 0 at the end, -1 on error. */
static int rd_fill(struct rd *r)
{
	if (r->pos == r->len)
		r->pos = r->len = 0;
	for (;;) {
		ssize_t got = read(r->fd, r->b + r->len, sizeof r->b - r->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got > 0)
			r->len += (size_t)got;
		return got > 0 ? 1 : got == 0 ? 0 : -1;
	}
}

/* One line without its CRLF (a bare LF is taken too) into out[cap]; its
 * length, or -1 (the end, an error, a line too long). */
static long rd_line(struct rd *r, char *out, size_t cap)
{
	size_t n = 0;
	for (;;) {
		while (r->pos < r->len) {
			char c = r->b[r->pos++];
			if (c == '\n') {
				n -= n && out[n - 1] == '\r';
				out[n] = '\0';
				return (long)n;
			}
			if (n + 1 >= cap)
				return -1;
			out[n++] = c;
		}
		if (rd_fill(r) <= 0)
			return -1;
	}
}

/* Exactly n bytes into out (or thrown away when out is NULL); 0 or -1. */
static int rd_bytes(struct rd *r, char *out, size_t n)
{
	while (n) {
		if (r->pos == r->len && rd_fill(r) <= 0)
			return -1;
		size_t k = r->len - r->pos < n ? r->len - r->pos : n;
		if (out) {
			memcpy(out, r->b + r->pos, k);
			out += k;
		}
		r->pos += k;
		n -= k;
	}
	return 0;
}

/* h->buf to hold n bytes and a NUL; 0 or -1. */
static int room(struct lambda_http *h, size_t n)
{
	if (n + 1 <= h->cap)
		return 0;
	size_t cap = h->cap ? h->cap : 65536;
	while (cap < n + 1)
		cap *= 2;
	char *p = realloc(h->buf, cap);
	if (!p)
		return -1;
	h->buf = p;
	h->cap = cap;
	return 0;
}

/* A header the runtime reads, into rep (and the framing into *cl, *chunked). */
static void head_field(char *line, struct lambda_reply *rep, long long *cl, int *chunked)
{
	char *colon = strchr(line, ':');
	if (!colon)
		return;
	*colon = '\0';
	char *v = colon + 1 + strspn(colon + 1, " \t");
	size_t vn = strlen(v);
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		v[--vn] = '\0';
	if (strcasecmp(line, "Content-Length") == 0) {
		*cl = strspn(v, "0123456789") == vn && vn && vn < 16 ? strtoll(v, NULL, 10) : -2;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		*chunked = strcasestr(v, "chunked") != NULL;
	} else if (strcasecmp(line, "Lambda-Runtime-Aws-Request-Id") == 0) {
		snprintf(rep->request_id, sizeof rep->request_id, "%s", v);
	} else if (strcasecmp(line, "Lambda-Runtime-Trace-Id") == 0) {
		snprintf(rep->trace_id, sizeof rep->trace_id, "%s", v);
	} else if (strcasecmp(line, "Lambda-Runtime-Deadline-Ms") == 0) {
		rep->deadline_ms = strspn(v, "0123456789") == vn && vn && vn < 18 ? strtoll(v, NULL, 10) : 0;
	}
}

/* Status line and headers; -1 with err. */
static int read_head(struct rd *r, struct lambda_reply *rep, long long *cl, int *chunked, char *err, size_t errlen)
{
	char line[LAMBDA_LINE_MAX];
	size_t total = 0;
	long n = rd_line(r, line, sizeof line);

	if (n < 12 || strncmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' || strspn(line + 9, "0123456789") < 3)
		return err_set(err, errlen, "the Runtime API's answer has no HTTP status line");
	rep->status = atoi(line + 9);
	for (;;) {
		n = rd_line(r, line, sizeof line);
		if (n < 0)
			return err_set(err, errlen, "the Runtime API's answer ended in its head (or a line over %zu bytes)",
				       LAMBDA_LINE_MAX);
		if (n == 0)
			return *cl == -2 ? err_set(err, errlen, "the Runtime API's Content-Length is not a number") : 0;
		total += (size_t)n;
		if (total > LAMBDA_HEAD_MAX)
			return err_set(err, errlen, "the Runtime API's answer has over %zu bytes of headers", LAMBDA_HEAD_MAX);
		head_field(line, rep, cl, chunked);
	}
}

/* A chunked body into h->buf; -1 with err, or 1 when over the cap. */
static int read_chunked(struct rd *r, struct lambda_http *h, size_t *got, char *err, size_t errlen)
{
	char line[LAMBDA_LINE_MAX];
	for (;;) {
		if (rd_line(r, line, sizeof line) < 0 || strspn(line, "0123456789abcdefABCDEF") == 0 ||
		    strspn(line, "0123456789abcdefABCDEF") > 12)
			return err_set(err, errlen, "the Runtime API's chunked body is malformed");
		size_t size = (size_t)strtoull(line, NULL, 16);
		if (size == 0)
			break;
		if (*got + size > h->body_max)
			return 1;
		if (room(h, *got + size) < 0)
			return err_set(err, errlen, "out of memory for a %zu-byte event", *got + size);
		if (rd_bytes(r, h->buf + *got, size) < 0 || rd_line(r, line, sizeof line) != 0)
			return err_set(err, errlen, "the Runtime API's chunked body is malformed");
		*got += size;
	}
	while (rd_line(r, line, sizeof line) > 0)
		;   /* trailers */
	return 0;
}

/* The body: Content-Length's bytes, chunked, or up to the close. */
static int read_body(struct rd *r, struct lambda_http *h, struct lambda_reply *rep, long long cl, int chunked,
		     char *err, size_t errlen)
{
	size_t got = 0;
	int rc = 0;

	if (chunked) {
		rc = read_chunked(r, h, &got, err, errlen);
	} else if (cl >= 0) {
		if ((unsigned long long)cl > h->body_max)
			rc = 1;
		else if (room(h, (size_t)cl) < 0)
			return err_set(err, errlen, "out of memory for a %lld-byte event", cl);
		else if (rd_bytes(r, h->buf, (size_t)cl) < 0)
			return err_set(err, errlen, "the Runtime API's answer ended after fewer than %lld bytes", cl);
		else
			got = (size_t)cl;
	} else {
		for (int more = 1; more > 0 && !rc;) {
			if (room(h, got + (r->len - r->pos)) < 0)
				return err_set(err, errlen, "out of memory for the event");
			size_t k = r->len - r->pos;
			memcpy(h->buf + got, r->b + r->pos, k);
			got += k;
			r->pos = r->len;
			rc = got > h->body_max;
			more = rc ? 0 : rd_fill(r);
		}
	}
	if (rc < 0)
		return -1;
	if (room(h, got) < 0)
		return err_set(err, errlen, "out of memory");
	rep->too_large = rc == 1;
	rep->body_len = rc == 1 ? 0 : got;
	h->buf[rep->body_len] = '\0';
	rep->body = h->buf;
	return 0;
}

int lambda_http_call(struct lambda_http *h, const char *path, const char *body, size_t n, const char *error_type,
		     struct lambda_reply *rep, char *err, size_t errlen)
{
	struct rd *r = malloc(sizeof *r);
	long long cl = -1;
	int chunked = 0, rc = -1;

	memset(rep, 0, sizeof *rep);
	if (!r)
		return err_set(err, errlen, "out of memory");
	r->pos = r->len = 0;
	r->fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		err_set(err, errlen, "socket: %s", strerror(errno));
		goto out;
	}
	int c;
	while ((c = connect(r->fd, (struct sockaddr *)&h->addr, h->addrlen)) < 0 && errno == EINTR)
		;
	if (c < 0) {
		err_set(err, errlen, "the Runtime API at %s: %s", h->host, strerror(errno));
		goto out;
	}
	if (send_request(r->fd, h, path, body, n, error_type) < 0) {
		err_set(err, errlen, "the Runtime API at %s: sending %s failed: %s", h->host, path, strerror(errno));
		goto out;
	}
	if (read_head(r, rep, &cl, &chunked, err, errlen) == 0 && read_body(r, h, rep, cl, chunked, err, errlen) == 0)
		rc = 0;
out:
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	return rc;
}
