/*
 * cli_serve.c - `scorepoint serve` (cli_serve.h): lighttpd in the
 * foreground with score.fcgi --workspace as its FastCGI backend.
 *
 * Processes.  scorepoint makes itself a child subreaper and forks lighttpd
 * into a process group of its own; lighttpd forks the workers into that
 * group.  A Ctrl-C at the terminal reaches scorepoint alone, which passes
 * it on once (lighttpd would take a second SIGINT as "stop at once"), and
 * when lighttpd is gone, what is left of the group is workers, which
 * scorepoint now reaps and waits for.  Should scorepoint be killed,
 * lighttpd gets SIGTERM (PR_SET_PDEATHSIG) and stops its workers.
 *
 * Signals are blocked and taken with sigtimedwait(), so there is no
 * handler; each tick of the loop also reaps children, waits for the first
 * GET /health to answer 200 (then prints the banner) and copies new lines
 * of the workspace's request log to stdout.
 */
#include "cli/cli_serve.h"
#include "model/atomic.h"
#include "model/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 100
#define START_MS 15000     /* lighttpd and a worker answer GET /health within this */
#define STOP_MS 10000      /* lighttpd stops within this (its graceful timeout is 5 s) */
#define WORKERS_MS 5000    /* the workers it leaves behind stop within this */
#define LOG_TICK_MAX ((off_t)64 << 10)   /* request log shown per tick; a larger backlog is skipped */
#define SOCKET_NAME "fcgi.sock"          /* lighttpd adds "-N" per worker */

/* Variables that would turn score.fcgi away from this workspace, its
 * socket or its log: the command line sets what they would. */
static const char *const scrubbed_env[] = {
	"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "SCOREPOINT_SOCKET", "SCOREPOINT_MODEL",
	"SCOREPOINT_WORKSPACE", "SCOREPOINT_LOG", "SCOREPOINT_METRICS_FILE", NULL,
};

/* ---- the pure parts ---- */

int serve_addr_parse(const char *host, unsigned port, struct serve_addr *a)
{
	char bare[64];
	size_t n = strlen(host);
	int bracketed = n > 2 && host[0] == '[' && host[n - 1] == ']';
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->sa;

	memset(a, 0, sizeof *a);
	if (port < 1 || port > 65535 || n >= sizeof bare)
		return -1;
	snprintf(bare, sizeof bare, "%.*s", (int)(bracketed ? n - 2 : n), host + bracketed);
	if (!bracketed && inet_pton(AF_INET, bare, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		a->len = sizeof *v4;
		inet_ntop(AF_INET, &v4->sin_addr, a->text, sizeof a->text);
	} else if (inet_pton(AF_INET6, bare, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		a->len = sizeof *v6;
		inet_ntop(AF_INET6, &v6->sin6_addr, a->text, sizeof a->text);
	} else {
		return -1;
	}
	a->port = port;
	return 0;
}

void serve_addr_format(const struct serve_addr *a, char *out, size_t len)
{
	int v6 = a->sa.ss_family == AF_INET6;
	snprintf(out, len, "%s%s%s:%u", v6 ? "[" : "", a->text, v6 ? "]" : "", a->port);
}

int serve_addr_loopback(const struct serve_addr *a)
{
	const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->sa;
	const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->sa;

	if (a->sa.ss_family == AF_INET)
		return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
	if (a->sa.ss_family != AF_INET6)
		return 0;
	return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127);
}

unsigned serve_default_workers(const struct ws *w, long ncpu)
{
	unsigned long sum = 0;
	unsigned long most = SERVE_WORKERS_PER_CPU * (unsigned long)(ncpu < 1 ? 1 : ncpu);

	if (most > SERVE_MAX_WORKERS)
		most = SERVE_MAX_WORKERS;
	for (size_t i = 0; i < w->nendpoints; i++)
		for (size_t j = 0; j < w->endpoints[i].ndeployments; j++)
			sum += w->endpoints[i].deployments[j].instance_count;
	return (unsigned)(sum < 1 ? 1 : sum > most ? most : sum);
}

/* A path lighttpd's configuration can hold as it is. */
static int conf_path(const char *what, const char *path, char *err, size_t errlen)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == 0x7f)
			return err_set(err, errlen, "%s %s: lighttpd cannot take a path holding a blank, a double quote "
				       "or a control character", what, path);
	return 0;
}

int serve_conf_write(FILE *f, const struct serve_conf *sc, char *err, size_t errlen)
{
	const struct serve_addr *a = sc->addr;
	int v6 = a->sa.ss_family == AF_INET6;

	if (conf_path("the private directory (TMPDIR)", sc->dir, err, errlen) < 0 ||
	    conf_path("score.fcgi", sc->handler, err, errlen) < 0 ||
	    conf_path("the workspace", sc->workspace, err, errlen) < 0)
		return -1;
	fprintf(f,
		"# Written by `scorepoint serve` for the workspace %s;\n"
		"# removed when it stops.  No server.errorlog: lighttpd's messages go to\n"
		"# stderr; score.fcgi logs each request to the workspace's logs/requests.log.\n"
		"server.modules = ( \"mod_fastcgi\" )\n"
		"server.bind = \"%s%s%s\"\n"
		"server.port = %u\n"
		"server.document-root = \"%s/www\"\n"
		"server.upload-dirs = ( \"%s\" )\n"
		"server.max-request-size = %u\n"
		"# Bodies go to a worker as they come, never to disk: score.fcgi refuses a\n"
		"# request without a valid key before reading its body.  Answers are taken\n"
		"# whole from the worker (stream-response-body 0), which is then free.\n"
		"server.stream-request-body = 2\n"
		"server.stream-response-body = 0\n"
		"# Connections, and seconds without a byte: waiting for a request's\n"
		"# headers or body, for the client to take its answer, between requests.\n"
		"server.max-connections = %u\n"
		"server.max-read-idle = %u\n"
		"server.max-write-idle = %u\n"
		"server.max-keep-alive-idle = %u\n"
		"server.feature-flags += ( \"server.graceful-shutdown-timeout\" => 5 )\n"
		"fastcgi.server = ( \"/\" => ((\n"
		"\t\"socket\" => \"%s/" SOCKET_NAME "\",\n"
		"\t\"bin-path\" => \"%s --workspace %s --metrics-file %s/metrics\",\n"
		"\t\"bin-environment\" => ( \"OPENBLAS_NUM_THREADS\" => \"1\" ),\n"
		"\t\"max-procs\" => %u,\n"
		"\t\"min-procs\" => %u,\n"
		"\t\"check-local\" => \"disable\"\n"
		")) )\n",
		sc->workspace, v6 ? "[" : "", a->text, v6 ? "]" : "", a->port, sc->dir, sc->dir,
		SERVE_MAX_REQUEST_KB, SERVE_MAX_CONNECTIONS, SERVE_READ_IDLE_S, SERVE_WRITE_IDLE_S,
		SERVE_KEEP_ALIVE_IDLE_S, sc->dir, sc->handler, sc->workspace, sc->dir, sc->workers, sc->workers);
	if (ferror(f))
		return err_set(err, errlen, "cannot write lighttpd's configuration");
	return 0;
}

/* ---- checks before anything changes ---- */

/* s as a whole number from 1 to max into *out; 0, or -1 (*out left alone). */
static int whole_number(const char *s, unsigned max, unsigned *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || v < 1 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* A whole number from 1 to max for flag id into *out (left alone when the
 * flag is absent); 0, or a usage error. */
static int flag_number(const struct cli *c, enum cli_opt id, const char *flag, unsigned max, unsigned *out)
{
	const char *s = c->val[id];

	if (s && whole_number(s, max, out) < 0)
		return cli_usage_fail(c, "%s %s: expected a whole number from 1 to %u", flag, s, max);
	return 0;
}

/* The port: --port, else $PORT (Knative, Cloud Run and OpenFaaS's watchdog
 * set it; empty is unset, as in the container's entry point), else *port
 * as it is.  0, or a usage error naming the one that is wrong. */
static int listen_port(const struct cli *c, unsigned *port)
{
	const char *env = getenv("PORT");
	char shown[36];
	size_t n = 0;

	if (c->val[O_PORT] || !env || !*env)
		return flag_number(c, O_PORT, "--port", 65535, port);
	if (whole_number(env, 65535, port) == 0)
		return 0;
	for (; env[n] && n < 32; n++)   /* one line, whatever PORT holds */
		shown[n] = env[n] > ' ' && env[n] < 0x7f ? env[n] : '?';
	snprintf(shown + n, sizeof shown - n, "%s", env[n] ? "..." : "");
	return cli_usage_fail(c, "PORT=%s in the environment: expected a whole number from 1 to 65535 (or give --port)",
			      shown);
}

/* The first executable lighttpd in the folders of list (':'-separated). */
static int lighttpd_in(const char *list, char *out, size_t len)
{
	struct stat st;

	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ":");
		if (n && p[0] == '/' && (size_t)snprintf(out, len, "%.*s/lighttpd", (int)n, p) < len &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* --lighttpd PATH, else lighttpd on $PATH or in the sbin folders (which a
 * user's PATH lacks on Debian).  0 or a refusal. */
static int find_lighttpd(const char *given, char *out, size_t len)
{
	struct stat st;

	if (given) {
		snprintf(out, len, "%s", given);
		if (stat(out, &st) < 0)
			return cli_fail("--lighttpd %s: %s (apt-get install lighttpd)", given, strerror(errno));
		if (!S_ISREG(st.st_mode) || access(out, X_OK) < 0)
			return cli_fail("--lighttpd %s: not an executable file", given);
		return 0;
	}
	if (lighttpd_in(getenv("PATH"), out, len) || lighttpd_in("/usr/sbin:/usr/local/sbin:/sbin", out, len))
		return 0;
	return cli_fail("lighttpd is not installed: apt-get install lighttpd (or give --lighttpd PATH)");
}

/* Refuse an address that another program listens on, or that is not this
 * machine's, by binding it first (as lighttpd will: SO_REUSEADDR, so a
 * connection in TIME_WAIT is no obstacle). */
static int check_address(const struct serve_addr *a)
{
	char hp[96];
	int one = 1, rc = 0;
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	serve_addr_format(a, hp, sizeof hp);
	if (fd < 0)
		return cli_fail("cannot open a socket for %s: %s", hp, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) < 0) {
		if (errno == EADDRINUSE)
			rc = cli_fail("%s is in use by another program: choose another --port", hp);
		else if (errno == EADDRNOTAVAIL)
			rc = cli_fail("--host %s: not an address of this machine", a->text);
		else if (errno == EACCES)
			rc = cli_fail("%s: permission denied (ports below 1024 need root)", hp);
		else
			rc = cli_fail("cannot listen on %s: %s", hp, strerror(errno));
	}
	close(fd);
	return rc;
}

/* ---- the workspace ---- */

/* Record the address in the workspace's config, where scoring_uri takes
 * it from; only when it changes, so that running servers do not reload
 * for nothing.  Ends t either way; 0 or a refusal. */
static int record_address(struct ws_txn *t, const struct serve_addr *a)
{
	struct ws_node *cfg;

	if (strcmp(t->w.host, a->text) == 0 && t->w.port == a->port) {
		ws_end(t);
		return 0;
	}
	if (!(cfg = ws_node_get(t->w.root, "config")) &&
	    ws_node_set(t->w.root, "config", ws_node_new(WS_MAP, NULL)) == 0)
		cfg = ws_node_get(t->w.root, "config");
	if (!cfg || ws_node_set(cfg, "host", ws_node_str(a->text)) < 0 ||
	    ws_node_set(cfg, "port", ws_node_int(a->port)) < 0) {
		ws_end(t);
		return cli_fail("out of memory");
	}
	int rc = cli_commit(t);
	ws_end(t);
	return rc;
}

/* The banner: where each endpoint answers, now that a worker does. */
static void banner(const struct cli *c, const struct serve_addr *a, unsigned workers, const char *ui_list,
		   const char *log)
{
	struct ws w;
	char hp[96];

	serve_addr_format(a, hp, sizeof hp);
	if (cli_load(c, &w) != 0)
		return;
	printf("scorepoint serve: http://%s/ (lighttpd, %u score.fcgi worker%s), workspace %s\n", hp, workers,
	       workers == 1 ? "" : "s", w.dir);
	for (size_t i = 0; i < w.nendpoints; i++) {
		const struct ws_endpoint *e = &w.endpoints[i];
		struct ws_node *shown = cli_endpoint_json(&w, e);
		const char *uri = ws_node_text(ws_node_get(shown, "scoring_uri"));
		printf("  %-32s %-9s %s\n", e->name, e->auth_mode == WS_AUTH_KEY ? "key" : "aml_token",
		       uri ? uri : "?");
		ws_node_free(shown);
	}
	if (!w.nendpoints)
		printf("  no endpoints yet: those `scorepoint online-endpoint create` makes are served at once\n");
	printf("the Studio page: http://%s/_ui/ (endpoint names listed: %s; see --ui-list)\n", hp, ui_list);
	printf("requests are logged to %s and shown below; Ctrl-C stops\n", log);
	fflush(stdout);
	ws_free(&w);
}

/* ---- the request log, followed ---- */

struct follow {
	struct ws w;        /* the workspace: the log is opened from its dirfd */
	int loaded;
	int fd;
	ino_t ino;
	off_t pos;
};

/* DIR's request log, opened as score.fcgi opens it (ws_open_log: no link
 * inside the workspace followed, regular files only) with *st; -1 when
 * there is none (yet) or it is refused. */
static int follow_open(struct follow *f, struct stat *st)
{
	char err[PATH_MAX + 128];
	int fd = f->loaded ? ws_open_log(&f->w, 0, err, sizeof err) : -1;

	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Follow from the end of what the log of workspace dir holds now. */
static void follow_init(struct follow *f, const char *dir)
{
	char err[PATH_MAX + 128];
	struct stat st;

	memset(f, 0, sizeof *f);
	f->loaded = ws_load(dir, &f->w, err, sizeof err) == 0;
	f->fd = follow_open(f, &st);
	if (f->fd >= 0) {
		f->ino = st.st_ino;
		f->pos = st.st_size;
	}
}

static void follow_end(struct follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->loaded)
		ws_free(&f->w);
	f->fd = -1;
	f->loaded = 0;
}

/* Copy what was appended since to stdout; a replaced or truncated log is
 * read from its start. */
static void follow_tick(struct follow *f)
{
	char buf[16384];
	struct stat st;
	int fd = follow_open(f, &st);

	if (fd < 0)
		return;
	if (f->fd < 0 || st.st_ino != f->ino) {
		if (f->fd >= 0)
			close(f->fd);
		f->fd = fd;
		if (f->ino && st.st_ino != f->ino)
			f->pos = 0;
		f->ino = st.st_ino;
	} else {
		close(fd);
	}
	if (st.st_size < f->pos)
		f->pos = 0;
	if (st.st_size - f->pos > LOG_TICK_MAX) {
		printf("(%lld bytes of the request log skipped)\n", (long long)(st.st_size - f->pos));
		f->pos = st.st_size;
	}
	while (f->pos < st.st_size) {
		size_t want = (size_t)(st.st_size - f->pos) < sizeof buf ? (size_t)(st.st_size - f->pos) : sizeof buf;
		ssize_t n = pread(f->fd, buf, want, f->pos);
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, stdout);
		f->pos += n;
	}
	fflush(stdout);
}

/* ---- lighttpd and its workers ---- */

struct run {
	pid_t pid;          /* lighttpd, until reaped (then 0) */
	pid_t pgid;         /* its process group: lighttpd and the workers */
	int status;         /* lighttpd's wait status, once reaped */
	sigset_t sigs;      /* blocked; taken by sigtimedwait */
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reap every child that has exited: lighttpd, and the workers it left to
 * us as their subreaper. */
static void reap(struct run *r)
{
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == r->pid) {
			r->pid = 0;
			r->status = st;
		}
}

/* Wait up to ms for a signal, reap, and return the stop signal taken (0
 * for none: a timeout or SIGCHLD). */
static int tick(struct run *r, long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
	int sig = sigtimedwait(&r->sigs, NULL, &ts);
	reap(r);
	return sig == SIGCHLD || sig < 0 ? 0 : sig;
}

/* Whether any process of lighttpd's group is left. */
static int group_alive(const struct run *r)
{
	return kill(-r->pgid, 0) == 0 || errno != ESRCH;
}

static void wait_group(struct run *r, long ms)
{
	long t0 = now_ms();
	while (group_alive(r) && now_ms() - t0 < ms)
		tick(r, 20);
}

/*
 * Stop lighttpd with sig (SIGINT: it first finishes the requests in flight,
 * for at most its graceful timeout; SIGTERM: at once; a second signal
 * meanwhile turns the first into SIGTERM), then the workers it leaves,
 * then SIGKILL for whatever outlives the waits.
 */
static void stop_all(struct run *r, int sig)
{
	long t0 = now_ms();

	if (r->pid > 0)
		kill(r->pid, sig);
	while (r->pid > 0 && now_ms() - t0 < STOP_MS)
		if (tick(r, TICK_MS) && r->pid > 0)
			kill(r->pid, SIGTERM);
	kill(-r->pgid, SIGTERM);   /* lighttpd sent it too; score.fcgi finishes its request and exits */
	wait_group(r, WORKERS_MS);
	if (group_alive(r)) {
		kill(-r->pgid, SIGKILL);
		wait_group(r, 1000);
	}
}

/* `lighttpd -D -f conf` in a process group of its own, stdin /dev/null,
 * SIGTERM when we die, our signals unblocked, without the variables of
 * scrubbed_env and with SCOREPOINT_UI_LIST=ui_list for its workers.  Its
 * pid, or -1. */
static pid_t start_lighttpd(const char *lighttpd, const char *conf, const char *ui_list, const sigset_t *blocked)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		char *argv[] = { (char *)lighttpd, "-D", "-f", (char *)conf, NULL };
		int null = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		if (null > STDIN_FILENO) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		for (int i = 0; scrubbed_env[i]; i++)
			unsetenv(scrubbed_env[i]);
		setenv("SCOREPOINT_UI_LIST", ui_list, 1);
		signal(SIGPIPE, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, blocked, NULL);
		execv(lighttpd, argv);
		fprintf(stderr, "scorepoint: %s: %s\n", lighttpd, strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);   /* whichever of the two runs first */
	return pid;
}

/* GET /health at the server's address (loopback for a wildcard): whether
 * it answers 200, i.e. lighttpd listens and a worker answers. */
static int healthy(const struct serve_addr *a)
{
	static const char req[] = "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n";
	struct serve_addr probe = *a;
	struct timeval tv = { 1, 0 };
	char buf[16];
	size_t got = 0;
	int ok = 0;

	if (a->sa.ss_family == AF_INET) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)&probe.sa;
		if (v4->sin_addr.s_addr == htonl(INADDR_ANY))
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&probe.sa;
		if (IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
			v6->sin6_addr = in6addr_loopback;
	}
	int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (const struct sockaddr *)&probe.sa, probe.len) == 0 &&
	    write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
		ssize_t n;
		while (got < 12 && (n = read(fd, buf + got, sizeof buf - got)) > 0)
			got += (size_t)n;
		ok = got >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 && memcmp(buf + 8, " 200", 4) == 0;
	}
	close(fd);
	return ok;
}

static void describe(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "signal %d", WTERMSIG(status));
	else
		snprintf(out, len, "status %d", status);
}

/* lighttpd's configuration file, kept in step with the workspace. */
struct conf_file {
	struct serve_conf sc;      /* what it says now */
	char path[PATH_MAX + 16];  /* DIR/lighttpd.conf */
	int fixed;                 /* --workers given: the count does not follow instance_count */
	struct ws_stamp stamp;     /* of the state file last read for the count */
};

/* Write cf->sc to cf->path (atomically: lighttpd may read it at any time).
 * 0 or a refusal. */
static int write_conf(const struct conf_file *cf)
{
	char err[PATH_MAX + 256];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return cli_fail("out of memory");
	int bad = serve_conf_write(f, &cf->sc, err, sizeof err);
	if (fclose(f) != 0 && !bad)
		bad = err_set(err, sizeof err, "out of memory");
	if (!bad)
		bad = atomic_write_buf(cf->path, 0600, text, len, err, sizeof err);
	free(text);
	return bad ? cli_fail("%s", err) : 0;
}

/*
 * Follow the workspace's worker count (serve_default_workers): when a
 * deployment or an instance_count changed it, rewrite the configuration and
 * restart lighttpd gracefully (SIGUSR1: it finishes the requests in flight,
 * keeps its listening socket, so that new connections wait in its backlog,
 * reads the configuration again and starts the new count of workers).
 * Only a stat() per tick while the state file stays the same.
 */
static void follow_workers(struct conf_file *cf, const struct run *r)
{
	struct ws_stamp now;
	struct ws w;
	char err[PATH_MAX + 1024];

	if (cf->fixed || r->pid <= 0 || ws_stat(cf->sc.workspace, &now) < 0 || ws_stamp_equal(&now, &cf->stamp))
		return;
	cf->stamp = now;   /* a state file that does not load is not retried until it changes */
	if (ws_load(cf->sc.workspace, &w, err, sizeof err) < 0)
		return;
	cf->stamp = w.stamp;
	unsigned n = serve_default_workers(&w, sysconf(_SC_NPROCESSORS_ONLN));
	ws_free(&w);
	if (n == cf->sc.workers)
		return;
	unsigned was = cf->sc.workers;
	cf->sc.workers = n;
	if (write_conf(cf)) {
		cf->sc.workers = was;
		return;
	}
	printf("scorepoint serve: %u score.fcgi worker%s (was %u: the deployments' instance_count changed); "
	       "lighttpd restarts gracefully\n", n, n == 1 ? "" : "s", was);
	fflush(stdout);
	kill(r->pid, SIGUSR1);
}

/* Serve until a stop signal (0) or until lighttpd stops by itself or does
 * not start (1, with its line). */
static int serve_loop(const struct cli *c, struct run *r, struct conf_file *cf, const char *ui_list,
		      const char *log)
{
	const struct serve_addr *a = cf->sc.addr;
	struct follow f;
	char how[64];
	long t0 = now_ms();
	int ready = 0;

	memset(&f, 0, sizeof f);
	f.fd = -1;
	for (;;) {
		int sig = tick(r, TICK_MS);
		if (sig) {
			stop_all(r, sig == SIGINT ? SIGINT : SIGTERM);
			if (ready)
				follow_tick(&f);   /* the last requests' lines */
			printf("scorepoint serve: stopped\n");
			break;
		}
		if (r->pid == 0) {
			describe(r->status, how, sizeof how);
			stop_all(r, SIGTERM);
			follow_end(&f);
			return cli_fail(ready ? "lighttpd stopped by itself (%s)" :
					"lighttpd did not start (%s): its messages are above", how);
		}
		if (ready) {
			follow_tick(&f);
			follow_workers(cf, r);
		} else if (healthy(a)) {
			ready = 1;
			follow_init(&f, cf->sc.workspace);   /* after the probe's own log line */
			banner(c, a, cf->sc.workers, ui_list, log);
		} else if (now_ms() - t0 > START_MS) {
			stop_all(r, SIGTERM);
			return cli_fail("lighttpd and score.fcgi did not answer GET /health within %d s: their "
					"messages are above", START_MS / 1000);
		}
	}
	follow_end(&f);
	return 0;
}

/* ---- the verb ---- */

/* A private directory for lighttpd: its configuration, the workers'
 * sockets, the metrics file, and its temporary files (upload-dirs: request
 * bodies are streamed, but a large answer a slow client has not taken yet
 * is kept there).  0 or a refusal. */
static int make_private(char *dir, size_t len)
{
	const char *td = getenv("TMPDIR");
	char www[PATH_MAX + 8], tdir[PATH_MAX];

	td = td && td[0] == '/' ? cli_trim_slashes(td, tdir, sizeof tdir) : "/tmp";
	/* The sockets' paths, "-N" included, must fit a sockaddr_un. */
	if ((size_t)snprintf(dir, len, "%s/scorepoint-serve-XXXXXX", td) >= len ||
	    strlen(dir) + sizeof "/" SOCKET_NAME "-1000" > sizeof(((struct sockaddr_un *)0)->sun_path))
		return cli_fail("TMPDIR %s: too long a path for lighttpd's sockets (set TMPDIR=/tmp)", td);
	if (!mkdtemp(dir))
		return cli_fail("%s: %s", dir, strerror(errno));
	snprintf(www, sizeof www, "%s/www", dir);
	if (mkdir(www, 0700) < 0) {
		int e = errno;
		rmdir(dir);
		return cli_fail("%s: %s", www, strerror(e));
	}
	return 0;
}

static void remove_private(const char *dir)
{
	char www[PATH_MAX + 8];
	snprintf(www, sizeof www, "%s/www", dir);
	rmdir(www);
	atomic_clean(dir, "");
	rmdir(dir);
}

/* Set up the signals: blocked and taken by the loop.  SIGINT and SIGTERM
 * are always ours (a shell starts background jobs with SIGINT ignored);
 * SIGHUP is left alone when ignored (nohup). */
static void take_signals(sigset_t *sigs)
{
	struct sigaction hup;

	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGCHLD);
	if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
		sigaddset(sigs, SIGHUP);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);   /* not SIG_IGN: that would reap for us */
	signal(SIGPIPE, SIG_IGN);   /* a closed stdout must not kill us before cleaning up */
	sigprocmask(SIG_BLOCK, sigs, NULL);
}

int cli_serve(struct cli *c)
{
	struct serve_addr a;
	struct ws_txn t;
	struct run r;
	struct conf_file cf;
	char lighttpd[PATH_MAX], found[PATH_MAX], handler[PATH_MAX], dir[PATH_MAX];
	char log[PATH_MAX], wsdir[PATH_MAX], err[1024];
	unsigned port = WS_DEFAULT_PORT, workers = 0;
	const char *host = c->val[O_HOST] ? c->val[O_HOST] : WS_DEFAULT_HOST;
	const char *ui_list = c->val[O_UI_LIST];
	int rc;

	memset(&r, 0, sizeof r);
	memset(&cf, 0, sizeof cf);
	if ((rc = listen_port(c, &port)) ||
	    (rc = flag_number(c, O_WORKERS, "--workers", SERVE_MAX_WORKERS, &workers)))
		return rc;
	if (serve_addr_parse(host, port, &a) < 0)
		return cli_fail("--host %s: not an IP address (use 127.0.0.1, ::1, or 0.0.0.0 for every interface)",
				host);
	if (!ui_list)
		ui_list = serve_addr_loopback(&a) ? "on" : "off";
	else if (strcmp(ui_list, "on") != 0 && strcmp(ui_list, "off") != 0)
		return cli_usage_fail(c, "--ui-list %s: use on or off", ui_list);
	if ((rc = find_lighttpd(c->val[O_LIGHTTPD], lighttpd, sizeof lighttpd)) ||
	    (rc = cli_find_handler(found, sizeof found)) || (rc = check_address(&a)))
		return rc;
	if (!realpath(found, handler))
		return cli_fail("%s: %s", found, strerror(errno));
	take_signals(&r.sigs);
	if ((rc = make_private(dir, sizeof dir)))
		return rc;
	rc = 1;
	if (ws_begin(c->dir, &t, err, sizeof err) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	cf.fixed = workers != 0;
	if (!workers)
		workers = serve_default_workers(&t.w, sysconf(_SC_NPROCESSORS_ONLN));
	snprintf(wsdir, sizeof wsdir, "%s", t.w.dir);
	cf.sc = (struct serve_conf){ dir, &a, handler, wsdir, workers };
	snprintf(cf.path, sizeof cf.path, "%s/lighttpd.conf", dir);
	if (ws_path_log(wsdir, log, sizeof log) < 0) {
		cli_fail("%s: too long a path", wsdir);
		ws_end(&t);
		goto out;
	}
	/* Written before the address is recorded: a path lighttpd cannot take changes nothing. */
	if (write_conf(&cf)) {
		ws_end(&t);
		goto out;
	}
	if (record_address(&t, &a))
		goto out;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	r.pid = r.pgid = start_lighttpd(lighttpd, cf.path, ui_list, &r.sigs);
	if (r.pid < 0) {
		cli_fail("cannot start %s: %s", lighttpd, strerror(errno));
		goto out;
	}
	rc = serve_loop(c, &r, &cf, ui_list, log);
out:
	remove_private(dir);
	return rc;
}
