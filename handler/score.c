/*
 * score.fcgi - serve a model blob over FastCGI or CGI.
 *
 * Modes, in order: --socket PATH|127.0.0.1:PORT (nginx, Apache
 * mod_proxy_fcgi, containers); LISTEN_FDS=1 (systemd socket activation, fd
 * 3); a listening socket on fd 0 (lighttpd mod_fastcgi, Apache mod_fcgid,
 * spawn-fcgi); otherwise plain CGI, one request from the environment and
 * stdin.  Everything is read from the command line and the environment
 * before the first accept.  SIGTERM/SIGINT let the request in flight finish,
 * then the process exits 0; so does --idle-exit's idle time in the FastCGI
 * modes (scale to zero: see wait_request).
 */
#define _GNU_SOURCE   /* ppoll */
#include "handler/app.h"
#include "handler/call.h"
#include "handler/collect.h"
#include "handler/lambda.h"
#include "handler/log.h"

#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"usage: score.fcgi [options]\n"
	"\n"
	"Serve a scorepoint model blob over FastCGI (spawned by lighttpd, Apache\n"
	"mod_fcgid or spawn-fcgi, or on its own socket) or as plain CGI.\n"
	"\n"
	"options (environment variable in brackets):\n"
	"  --model FILE.blob        one model, served at / [SCOREPOINT_MODEL]\n"
	"  --workspace DIR          every endpoint of a scorepoint workspace, at\n"
	"                           /ENDPOINT/... [SCOREPOINT_WORKSPACE]\n"
	"  --socket PATH|HOST:PORT  listen on this Unix socket or TCP address\n"
	"                           (use 127.0.0.1:PORT) [SCOREPOINT_SOCKET]\n"
	"  --cgi                    answer one CGI request and exit\n"
	"  --max-body BYTES         largest request body (default 67108864)\n"
	"                           [SCOREPOINT_MAX_BODY]\n"
	"  --timeout-ms MS          request_timeout_ms: 408 past it (default 5000;\n"
	"                           a workspace deployment has its own)\n"
	"                           [SCOREPOINT_REQUEST_TIMEOUT_MS]\n"
	"  --threads N              OpenBLAS threads per process (default 1)\n"
	"                           [SCOREPOINT_THREADS]\n"
	"  --log FILE               JSON request log ('-': none; default stderr, or\n"
	"                           DIR/logs/requests.log with --workspace)\n"
	"                           [SCOREPOINT_LOG]\n"
	"  --metrics-file PATH      counters shared by all workers (default under\n"
	"                           /dev/shm, one per model) [SCOREPOINT_METRICS_FILE]\n"
	"  --idle-exit SECONDS      exit 0 after SECONDS (1 to 86400) without a\n"
	"                           request, for systemd's socket to start it\n"
	"                           again at the next one (deploy/systemd);\n"
	"                           FastCGI only (default: never)\n"
	"                           [SCOREPOINT_IDLE_EXIT]\n"
	"  --metrics on|off         answer GET /metrics (default on; it needs no\n"
	"                           credentials) [SCOREPOINT_METRICS]\n"
	"  --collect on|off         the deployments' data_collector (default on;\n"
	"                           off: nothing collected, as replay runs it)\n"
	"                           [SCOREPOINT_COLLECT]\n"
	"  --ui on|off              the Studio page at /_ui/ with --workspace\n"
	"                           (default on; its data needs each endpoint's\n"
	"                           key or token) [SCOREPOINT_UI]\n"
	"  --ui-list on|off         let GET /_ui/api/endpoints list the endpoints'\n"
	"                           names (default off; `scorepoint serve` turns it\n"
	"                           on on a loopback address) [SCOREPOINT_UI_LIST]\n"
	"  --collect-max-file-bytes BYTES  largest file of the data collector\n"
	"                           (one collection, one period; default\n"
	"                           268435456): lines past it are lost, counted\n"
	"                           [SCOREPOINT_COLLECT_MAX_FILE_BYTES]\n"
	"  --collect-max-bytes BYTES  what the collected files under\n"
	"                           DIR/data/modelDataCollector may hold together\n"
	"                           (default 1073741824): the oldest periods go\n"
	"                           first (docs/collect.md)\n"
	"                           [SCOREPOINT_COLLECT_MAX_BYTES]\n"
	"  -h, --help               this text\n"
	"\n"
	"With AWS_LAMBDA_RUNTIME_API set, it runs as an AWS Lambda custom runtime\n"
	"(docs/lambda.md); the model defaults to $LAMBDA_TASK_ROOT/model.blob.\n"
	"\n"
	"Routes: POST /score, POST /invocations, POST /v2/models/NAME/infer; GET /,\n"
	"/ping, /health, /version, /swagger.json, /metrics, /v2, /v2/health/live,\n"
	"/v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready.  With --workspace\n"
	"the model routes are under /ENDPOINT (e.g. POST /endpoint-online-1/score)\n"
	"and need 'Authorization: Bearer <key or token>'; the health routes do not;\n"
	"GET /_ui/ is the Studio page (docs/studio.md).\n";

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

/* libfcgi's accept() must see EINTR to notice a shutdown: sa_flags = 0. */
static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Every option, as a typed table (the YAML readers' style): its long name,
 * the environment variable that sets it when the command line does not,
 * its type and where its value goes.  Values are checked once all are
 * read, in the table's order, so the first error is the same whichever
 * came from where.
 */
enum otype {
	O_SERVE,   /* --model, --workspace: one on the command line drops the
		      other's variable; an empty variable is an unset one */
	O_TEXT,    /* kept as given */
	O_FLAG,    /* no argument; 1 */
	O_ONOFF,   /* on or off; the int is 1 for off (default on) */
	O_OFFON,   /* on or off; the int is 1 for on (default off) */
	O_SIZE,    /* a whole number from 1 to max, into a size_t */
	O_UINT,    /* a whole number from 1 to max, into an unsigned (or int) */
	O_HELP,
};

struct options {
	struct app_config cfg;
	const char *socket;
	int cgi;
	unsigned idle_exit;         /* seconds; 0: never */
	size_t collect_max_file;    /* bytes; 0: COLLECT_DEFAULT_MAX_FILE_BYTES */
	size_t collect_max;         /* bytes; 0: COLLECT_DEFAULT_MAX_BYTES */
};

struct opt {
	const char *name;           /* --NAME */
	const char *env;            /* the variable read when --NAME is not given, or NULL */
	enum otype type;
	size_t off;                 /* where the value goes in struct options */
	unsigned long long max;     /* O_SIZE, O_UINT */
};

#define C(field) offsetof(struct options, cfg.field)
#define S(field) offsetof(struct options, field)

static const struct opt opts[] = {
	{ "model", "SCOREPOINT_MODEL", O_SERVE, C(model_path), 0 },
	{ "workspace", "SCOREPOINT_WORKSPACE", O_SERVE, C(workspace), 0 },
	{ "socket", "SCOREPOINT_SOCKET", O_TEXT, S(socket), 0 },
	{ "cgi", NULL, O_FLAG, S(cgi), 0 },
	{ "metrics", "SCOREPOINT_METRICS", O_ONOFF, C(metrics_off), 0 },
	{ "collect", "SCOREPOINT_COLLECT", O_ONOFF, C(collect_off), 0 },
	{ "ui", "SCOREPOINT_UI", O_ONOFF, C(ui_off), 0 },
	{ "ui-list", "SCOREPOINT_UI_LIST", O_OFFON, C(ui_list), 0 },
	{ "max-body", "SCOREPOINT_MAX_BODY", O_SIZE, C(max_body), (unsigned long long)1 << 40 },
	{ "timeout-ms", "SCOREPOINT_REQUEST_TIMEOUT_MS", O_UINT, C(request_timeout_ms), 3600000 },
	{ "threads", "SCOREPOINT_THREADS", O_UINT, C(threads), 256 },
	{ "log", "SCOREPOINT_LOG", O_TEXT, C(log_path), 0 },
	{ "metrics-file", "SCOREPOINT_METRICS_FILE", O_TEXT, C(metrics_path), 0 },
	{ "idle-exit", "SCOREPOINT_IDLE_EXIT", O_UINT, S(idle_exit), 86400 },
	{ "collect-max-file-bytes", "SCOREPOINT_COLLECT_MAX_FILE_BYTES", O_SIZE, S(collect_max_file),
	  (unsigned long long)1 << 40 },
	{ "collect-max-bytes", "SCOREPOINT_COLLECT_MAX_BYTES", O_SIZE, S(collect_max), (unsigned long long)1 << 50 },
	{ "help", NULL, O_HELP, 0, 0 },
};

#define NOPTS (sizeof opts / sizeof opts[0])
#define OPT_VAL 256   /* getopt_long's value of opts[0]; short options are below */

/* A whole number from 1 to max, for --what; -1 with the error printed. */
static int parse_size(const char *s, const char *what, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v == 0 || v > max || s[0] == '-') {
		fprintf(stderr, "score.fcgi: --%s '%s': expected a whole number from 1 to %llu\n", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Option o's text into its field of out; -1 with the error printed. */
static int set_option(const struct opt *o, const char *text, int dropped, struct options *out)
{
	void *p = (char *)out + o->off;
	unsigned long long v;

	switch (o->type) {
	case O_SERVE:
		*(const char **)p = dropped || !*text ? NULL : text;
		return 0;
	case O_TEXT:
		*(const char **)p = text;
		return 0;
	case O_FLAG:
		*(int *)p = 1;
		return 0;
	case O_ONOFF:
	case O_OFFON:
		if (strcmp(text, "on") != 0 && strcmp(text, "off") != 0) {
			fprintf(stderr, "score.fcgi: --%s '%s': use on or off\n", o->name, text);
			return -1;
		}
		*(int *)p = strcmp(text, o->type == O_ONOFF ? "off" : "on") == 0;
		return 0;
	case O_SIZE:
	case O_UINT:
		if (parse_size(text, o->name, o->max, &v) < 0)
			return -1;
		if (o->type == O_SIZE)
			*(size_t *)p = (size_t)v;
		else
			*(unsigned *)p = (unsigned)v;
		return 0;
	case O_HELP:
		break;
	}
	return 0;
}

/* The command line over the environment: text[i] is opts[i]'s (NULL:
 * unset), given[i] 1 when it came from the command line.  -1 to go on,
 * else the exit status (0 after --help, 2 after a usage error). */
static int read_options(int argc, char **argv, const char **text, int *given)
{
	struct option longopts[NOPTS + 1];
	int c;

	memset(longopts, 0, sizeof longopts);
	for (size_t k = 0; k < NOPTS; k++) {
		text[k] = opts[k].env ? getenv(opts[k].env) : NULL;
		given[k] = 0;
		longopts[k].name = opts[k].name;
		int bare = opts[k].type == O_FLAG || opts[k].type == O_HELP;
		longopts[k].has_arg = bare ? no_argument : required_argument;
		/* Distinct values: getopt_long calls "--met" ambiguous only
		 * between options that differ. */
		longopts[k].val = OPT_VAL + (int)k;
	}
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		size_t i = (size_t)(c - OPT_VAL);
		if (c == 'h' || (c >= OPT_VAL && opts[i].type == O_HELP)) {
			fputs(usage, stdout);
			return 0;
		}
		if (c < OPT_VAL) {
			fputs(usage, stderr);
			return 2;
		}
		text[i] = opts[i].type == O_FLAG ? "1" : optarg;
		given[i] = 1;
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	return -1;
}

/* Fill out from the environment and the command line; -1 to go on
 * serving, else the exit status. */
static int parse_options(int argc, char **argv, struct options *out)
{
	const char *text[NOPTS];
	int given[NOPTS], serve_given = 0, serve_all = 1;
	int rc = read_options(argc, argv, text, given);

	if (rc >= 0)
		return rc;
	for (size_t k = 0; k < NOPTS; k++)
		if (opts[k].type == O_SERVE) {
			serve_given |= given[k];
			serve_all &= given[k];
		}
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k < NOPTS; k++) {
		/* --model X drops SCOREPOINT_WORKSPACE, and the other way round;
		 * both on the command line are app_init()'s error. */
		int dropped = opts[k].type == O_SERVE && serve_given && !serve_all && !given[k];
		if (text[k] && set_option(&opts[k], text[k], dropped, out) < 0)
			return 2;
	}
	return -1;
}

/*
 * Scale to zero (--idle-exit): the worker waits for its next request here,
 * in poll(), since libfcgi's accept() blocks for good.  Several workers may
 * share the listening socket (lighttpd's max-procs, spawn-fcgi -F,
 * systemd's Sockets=), and the one poll() wakes may find the connection
 * taken by another: so the socket is non-blocking (serve_fcgi), its
 * accept() then fails with EAGAIN instead of blocking past the idle time,
 * and the worker comes back here.  Each worker counts its own idle time.
 * A connection kept by the web server (FCGI_KEEP_CONN) is waited on too.
 * The process exits only from here, between requests: a request in flight
 * is never cut.  A connection that arrives as it exits stays in the
 * socket's backlog for the next process when someone else holds the
 * socket (systemd, or a supervisor); one on a socket that dies with the
 * process (--socket, lighttpd's spawned mode) is refused.
 * SIGTERM is blocked but for ppoll() itself, so that one arriving just
 * before the wait ends it.  1: a request may be there; 0: idle for the
 * whole time (until, CLOCK_MONOTONIC; 0 waits for ever); -1: stopping.
 */
static int wait_request(int fd, int kept, double until)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { kept, POLLIN, 0 } };
	sigset_t stop, old;
	int r = 0;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	while (!stopping && r == 0) {
		double left = until - call_now();
		struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
		if (until > 0 && left <= 0)
			break;
		r = ppoll(p, kept >= 0 ? 2 : 1, until > 0 ? &ts : NULL, &old);
		if (r < 0 && errno == EINTR)
			r = 0;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return stopping ? -1 : r != 0;
}

/* When wait_request must wake: the idle time's end (until; 0: never) or
 * the buffered log's, whichever comes first. */
static double wake_at(double until)
{
	double due = log_due();
	return due > 0 && (until <= 0 || due < until) ? due : until;
}

/* fd non-blocking for wait_request; Linux's accept() does not pass the
 * flag on, so libfcgi reads each connection blocking, as before. */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

static int serve_fcgi(struct app *a, int fd, unsigned idle_exit)
{
	FCGX_Request req;
	struct io io;
	/* A socket left non-blocking (another worker's --idle-exit, or an
	 * earlier activation's) makes this worker wait too, for ever. */
	int wait = idle_exit > 0;
	double until = idle_exit ? call_now() + idle_exit : 0;
	/* A buffered log (log.h) is flushed whenever the worker is about to
	 * wait (accept() found nothing), and by a timer under steady load: the
	 * worker then waits in wait_request too, but only once accept() found
	 * nothing. */
	int buffered = log_buffer(a->log_fd);

	if (FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "score.fcgi: FCGX_InitRequest failed\n");
		return 1;
	}
	if (idle_exit && set_nonblock(fd) < 0) {
		fprintf(stderr, "score.fcgi: --idle-exit: cannot make the socket non-blocking: %s\n", strerror(errno));
		return 1;
	}
	if (buffered && !idle_exit && set_nonblock(fd) < 0)
		buffered = log_buffer(-1);   /* lines out at once, as before */
	while (!stopping) {
		int w = 1;
		if (wait) {
			/* Nothing accepted is waiting: the worker may idle, so its
			 * buffered lines go out now.  Under load (accept() finding the
			 * next connection at once) they go out together. */
			log_flush();
			w = wait_request(fd, req.ipcFd, wake_at(until));
		}
		if (w < 0)
			break;
		if (w == 0) {
			log_flush();   /* the oldest line's second is up, or the idle time */
			if (until > 0 && call_now() >= until)
				break;
			continue;
		}
		int rc = FCGX_Accept_r(&req);
		if (rc < 0) {
			if (rc == -EAGAIN || rc == -EWOULDBLOCK) {
				wait = 1;
				continue;
			}
			if (stopping || rc == -EINTR)
				continue;
			fprintf(stderr, "score.fcgi: accept failed (%d)\n", rc);
			return 1;
		}
		io_fcgx(&io, &req);
		app_handle(a, &io);
		io_fcgx_finish(&io);
		app_after(a);
		if (idle_exit)
			until = call_now() + idle_exit;
		if (buffered)
			wait = idle_exit > 0;   /* accept() first: EAGAIN brings it back to wait */
	}
	log_flush();
	FCGX_Free(&req, 1);
	return 0;
}

/*
 * The socket to accept FastCGI requests on, in the order the header
 * comment gives: --socket's, systemd's fd 3, the web server's fd 0; -1 for
 * plain CGI (--cgi, or nothing else).  0 with *fd, or -1 with the error
 * printed.  FCGX_Init() first.
 */
static int listen_fd(const struct options *o, int *fd)
{
	const char *listen_fds = getenv("LISTEN_FDS");
	const char *listen_pid = getenv("LISTEN_PID");
	int systemd = listen_fds && strcmp(listen_fds, "1") == 0 &&
		      (!listen_pid || strtol(listen_pid, NULL, 10) == (long)getpid());

	*fd = -1;
	if (o->cgi)
		return 0;
	if (o->socket) {
		/* FCGX_OpenSocket exit()s on failure: check the obvious first. */
		if (strchr(o->socket, ':') && strncmp(o->socket, "127.", 4) != 0 &&
		    strncmp(o->socket, "localhost:", 10) != 0)
			fprintf(stderr, "score.fcgi: warning: %s is not a loopback address; FastCGI has no "
				"authentication, so keep it behind a firewall\n", o->socket);
		*fd = FCGX_OpenSocket(o->socket, 1024);
		if (*fd < 0) {
			fprintf(stderr, "score.fcgi: cannot listen on %s\n", o->socket);
			return -1;
		}
	} else if (systemd) {
		*fd = 3;   /* SD_LISTEN_FDS_START */
	} else if (!FCGX_IsCGI()) {
		*fd = 0;
	}
	return 0;
}

/* Answer requests on fd until SIGTERM or idle_exit seconds without one
 * (0: never), or the one CGI request (fd < 0). */
static int serve(struct app *a, int fd, unsigned idle_exit)
{
	char err[256];
	struct io io;

	if (fd < 0) {
		io_cgi(&io);
		app_handle(a, &io);
		app_after(a);
		return 0;
	}
	if (io_fcgx_init(err, sizeof err) < 0) {
		fprintf(stderr, "score.fcgi: %s\n", err);
		return 1;
	}
	install_signals();
	return serve_fcgi(a, fd, idle_exit);
}

/*
 * Set-up failed.  A FastCGI process exits and the web server answers its
 * clients (and restarts it); a CGI request, though, is waiting for this
 * process's answer, so it gets one (app_refuse).  Only when there is a
 * request: REQUEST_METHOD, which every web server sets for CGI (RFC 3875);
 * run by hand, score.fcgi --cgi just prints the line and exits.
 */
static void refuse_cgi(int fd, const struct app_config *cfg, const char *err)
{
	struct io io;

	if (fd >= 0 || !getenv("REQUEST_METHOD"))
		return;
	io_cgi(&io);
	app_refuse(&io, cfg, err);
}

/*
 * The one CGI request is answered (it went out with write(2)): end here,
 * without freeing what the kernel frees at once and without the exit
 * handlers (OpenBLAS's destructor unmaps its 128 MiB buffer): 5 % of a
 * cold start (bench/coldstart.sh).  stdio is flushed for anything else.
 * Under the sanitizers, whose leak check runs at exit, the usual way.
 */
static void end_cgi(int rc)
{
#if defined(__SANITIZE_ADDRESS__)
	(void)rc;
#else
	fflush(NULL);
	_exit(rc);
#endif
}

int main(int argc, char **argv)
{
	struct options o;
	struct app a;
	char err[PATH_MAX + 256];
	int fd, rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	/* A data collector's write past RLIMIT_FSIZE fails with EFBIG, counted,
	 * instead of killing the worker. */
	signal(SIGXFSZ, SIG_IGN);
	collect_set_limits(o.collect_max_file, o.collect_max);
	if (lambda_wanted())
		return lambda_main(&o.cfg);
	if (FCGX_Init() != 0) {
		fprintf(stderr, "score.fcgi: FCGX_Init failed\n");
		return 1;
	}
	if (listen_fd(&o, &fd) < 0)
		return 1;
	if (blob_guard_init(err, sizeof err) < 0 || app_init(&a, &o.cfg, err, sizeof err) < 0) {
		fprintf(stderr, "score.fcgi: %s\n", err);
		refuse_cgi(fd, &o.cfg, err);
		return 1;
	}
	rc = serve(&a, fd, o.idle_exit);
	if (fd < 0)
		end_cgi(rc);
	app_free(&a);
	return rc;
}
