/*
 * cli_serve.h - `scorepoint serve`: the embedded default server.
 *
 * It records --host and --port in the workspace's config (the address
 * every scoring_uri names), writes a lighttpd configuration into a private
 * directory (0700, removed on exit) and runs `lighttpd -D -f CONF` in the
 * foreground, with `score.fcgi --workspace DIR` as its mod_fastcgi backend
 * (N processes).  Without --workers, N follows the workspace: when a
 * deployment or an instance_count changes serve_default_workers(), the
 * configuration is rewritten and lighttpd restarted gracefully (SIGUSR1:
 * the requests in flight finish, the listening socket stays open, then N
 * new workers start).  SIGINT and SIGTERM are forwarded to lighttpd; the
 * verb then waits for lighttpd and every worker and returns 0.
 *
 * The Studio page (docs/studio.md) is at /_ui/; whether it may list the
 * endpoints' names (score.fcgi --ui-list, passed as SCOREPOINT_UI_LIST in
 * lighttpd's environment, which its workers inherit) is --ui-list, by
 * default on when the address is a loopback one (serve_addr_loopback).
 *
 * The pieces below the verb are pure (no process, no file) so that the unit
 * tests can check them.
 */
#ifndef SCOREPOINT_CLI_SERVE_H
#define SCOREPOINT_CLI_SERVE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "workspace/ws.h"
#include "cli/cli.h"

#define SERVE_MAX_WORKERS 1000    /* --workers, as instance_count */
#define SERVE_WORKERS_PER_CPU 4   /* the default's ceiling, per online CPU */
/* lighttpd's server.max-request-size, in KiB: score.fcgi's default body
 * cap (64 MiB, --max-body), so that lighttpd refuses no body it would take. */
#define SERVE_MAX_REQUEST_KB 65536
/*
 * What one client may hold (docs/security.md).  lighttpd streams each
 * request body to a worker as it comes (server.stream-request-body = 2),
 * so score.fcgi refuses a request without a valid key before its body is
 * read, and no body is written to disk.  A connection takes up to two
 * descriptors (the client's and a worker's socket): 512 connections fit
 * the usual soft limit of 1024 open files without lighttpd lowering the
 * cap.  The idle times count seconds without a byte, not whole requests:
 * a client silent for SERVE_READ_IDLE_S while lighttpd waits for its
 * headers or body, one reading nothing of its answer for
 * SERVE_WRITE_IDLE_S, or one idle between requests for
 * SERVE_KEEP_ALIVE_IDLE_S is disconnected (lighttpd checks once a second).
 */
#define SERVE_MAX_CONNECTIONS 512
#define SERVE_READ_IDLE_S 20
#define SERVE_WRITE_IDLE_S 60
#define SERVE_KEEP_ALIVE_IDLE_S 5

/* An address to listen on. */
struct serve_addr {
	struct sockaddr_storage sa;   /* family, address and port */
	socklen_t len;
	unsigned port;
	char text[64];                /* canonical, without brackets: "127.0.0.1", "::1" */
};

/* Parse host, an IPv4 or IPv6 literal ("::1" or "[::1]"; not a name), and
 * port (1..65535) into a.  0, or -1 when host is not an address. */
int serve_addr_parse(const char *host, unsigned port, struct serve_addr *a);

/* "127.0.0.1:8080" or "[::1]:8080" into out[len]. */
void serve_addr_format(const struct serve_addr *a, char *out, size_t len);

/* 1 when a is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z;
 * 0 for any other, the wildcards 0.0.0.0 and :: included. */
int serve_addr_loopback(const struct serve_addr *a);

/* The default number of workers: the sum of instance_count over every
 * deployment of w (docs/workspace.md), at least 1 and at most
 * SERVE_WORKERS_PER_CPU * ncpu (ncpu < 1 counts as 1). */
unsigned serve_default_workers(const struct ws *w, long ncpu);

/* What lighttpd's configuration says.  Every pointer is borrowed. */
struct serve_conf {
	const char *dir;              /* the private directory: sockets, uploads, metrics */
	const struct serve_addr *addr;
	const char *handler;          /* score.fcgi, absolute */
	const char *workspace;        /* absolute */
	unsigned workers;
};

/*
 * Write lighttpd's configuration for sc to f.  Returns 0, or -1 with one
 * line in err when a path cannot go into it: lighttpd splits bin-path at
 * blanks and its strings have no escape but \", so a path holding a blank,
 * a double quote or a control character is refused, as is a write error.
 */
int serve_conf_write(FILE *f, const struct serve_conf *sc, char *err, size_t errlen);

/* The verb: the exit status (0 after SIGINT or SIGTERM, 1 after a refusal
 * or when lighttpd stops by itself, 2 on a usage error). */
int cli_serve(struct cli *c);

#endif
