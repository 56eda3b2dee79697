/*
 * score.fcgi - serve a model blob over FastCGI or CGI.
 *
 * Modes, in order: --socket PATH|127.0.0.1:PORT (nginx, Apache
 * mod_proxy_fcgi, containers); LISTEN_FDS=1 (systemd socket activation, fd
 * 3); a listening socket on fd 0 (lighttpd mod_fastcgi, Apache mod_fcgid,
 * spawn-fcgi); otherwise plain CGI, one request from the environment and
 * stdin.  Everything is read from the command line and the environment
 * before the first accept.  SIGTERM/SIGINT let the request in flight finish,
 * then the process exits 0.
 */
#include "handler/app.h"

#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	"  --metrics on|off         answer GET /metrics (default on; it needs no\n"
	"                           credentials) [SCOREPOINT_METRICS]\n"
	"  -h, --help               this text\n"
	"\n"
	"Routes: POST /score, POST /invocations, POST /v2/models/NAME/infer; GET /,\n"
	"/ping, /health, /version, /swagger.json, /metrics, /v2, /v2/health/live,\n"
	"/v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready.  With --workspace\n"
	"the model routes are under /ENDPOINT (e.g. POST /endpoint-online-1/score)\n"
	"and need 'Authorization: Bearer <key or token>'; the health routes do not.\n";

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

static int parse_size(const char *s, const char *what, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v == 0 || v > max || s[0] == '-') {
		fprintf(stderr, "score.fcgi: %s '%s': expected a whole number from 1 to %llu\n", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int serve_fcgi(struct app *a, int fd)
{
	FCGX_Request req;
	struct io io;

	if (FCGX_InitRequest(&req, fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		fprintf(stderr, "score.fcgi: FCGX_InitRequest failed\n");
		return 1;
	}
	while (!stopping) {
		int rc = FCGX_Accept_r(&req);
		if (rc < 0) {
			if (stopping || rc == -EINTR)
				continue;
			fprintf(stderr, "score.fcgi: accept failed (%d)\n", rc);
			return 1;
		}
		io_fcgx(&io, &req);
		app_handle(a, &io);
		io_fcgx_finish(&io);
		app_after(a);
	}
	FCGX_Free(&req, 1);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "metrics", required_argument, NULL, 'P' },
		{ "socket", required_argument, NULL, 's' },
		{ "cgi", no_argument, NULL, 'c' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'l' },
		{ "metrics-file", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct app_config cfg = { 0 };
	const char *sock = getenv("SCOREPOINT_SOCKET");
	const char *max_body = getenv("SCOREPOINT_MAX_BODY");
	const char *timeout = getenv("SCOREPOINT_REQUEST_TIMEOUT_MS");
	const char *threads = getenv("SCOREPOINT_THREADS");
	int force_cgi = 0, cli_model = 0, cli_ws = 0, c;
	unsigned long long v;

	const char *metrics_on = getenv("SCOREPOINT_METRICS");
	cfg.model_path = getenv("SCOREPOINT_MODEL");
	cfg.workspace = getenv("SCOREPOINT_WORKSPACE");
	cfg.log_path = getenv("SCOREPOINT_LOG");
	cfg.metrics_path = getenv("SCOREPOINT_METRICS_FILE");
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': cfg.model_path = optarg; cli_model = 1; break;
		case 'w': cfg.workspace = optarg; cli_ws = 1; break;
		case 'P': metrics_on = optarg; break;
		case 's': sock = optarg; break;
		case 'c': force_cgi = 1; break;
		case 'b': max_body = optarg; break;
		case 't': timeout = optarg; break;
		case 'n': threads = optarg; break;
		case 'l': cfg.log_path = optarg; break;
		case 'M': cfg.metrics_path = optarg; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (metrics_on && strcmp(metrics_on, "on") != 0 && strcmp(metrics_on, "off") != 0) {
		fprintf(stderr, "score.fcgi: --metrics '%s': use on or off\n", metrics_on);
		return 2;
	}
	cfg.metrics_off = metrics_on && strcmp(metrics_on, "off") == 0;
	/* The command line beats the environment; an empty variable is an
	 * unset one. */
	if (cli_model != cli_ws) {
		if (cli_model)
			cfg.workspace = NULL;
		else
			cfg.model_path = NULL;
	}
	if (cfg.model_path && !*cfg.model_path)
		cfg.model_path = NULL;
	if (cfg.workspace && !*cfg.workspace)
		cfg.workspace = NULL;
	if (max_body) {
		if (parse_size(max_body, "--max-body", (unsigned long long)1 << 40, &v) < 0)
			return 2;
		cfg.max_body = (size_t)v;
	}
	if (timeout) {
		if (parse_size(timeout, "--timeout-ms", 3600000, &v) < 0)
			return 2;
		cfg.request_timeout_ms = (unsigned)v;
	}
	if (threads) {
		if (parse_size(threads, "--threads", 256, &v) < 0)
			return 2;
		cfg.threads = (int)v;
	}

	if (FCGX_Init() != 0) {
		fprintf(stderr, "score.fcgi: FCGX_Init failed\n");
		return 1;
	}
	int fd = -1;
	const char *listen_fds = getenv("LISTEN_FDS");
	const char *listen_pid = getenv("LISTEN_PID");
	int systemd = listen_fds && strcmp(listen_fds, "1") == 0 &&
		      (!listen_pid || strtol(listen_pid, NULL, 10) == (long)getpid());
	if (!force_cgi && sock) {
		/* FCGX_OpenSocket exit()s on failure: check the obvious first. */
		if (strchr(sock, ':') && strncmp(sock, "127.", 4) != 0 && strncmp(sock, "localhost:", 10) != 0)
			fprintf(stderr, "score.fcgi: warning: %s is not a loopback address; FastCGI has no "
				"authentication, so keep it behind a firewall\n", sock);
		fd = FCGX_OpenSocket(sock, 1024);
		if (fd < 0) {
			fprintf(stderr, "score.fcgi: cannot listen on %s\n", sock);
			return 1;
		}
	} else if (!force_cgi && systemd) {
		fd = 3;   /* SD_LISTEN_FDS_START */
	} else if (!force_cgi && !FCGX_IsCGI()) {
		fd = 0;
	}

	struct app a;
	char err[PATH_MAX + 256];
	if (blob_guard_init(err, sizeof err) < 0 || app_init(&a, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "score.fcgi: %s\n", err);
		return 1;
	}
	int rc = 0;
	if (fd < 0) {
		struct io io;
		io_cgi(&io);
		app_handle(&a, &io);
		app_after(&a);
	} else if (io_fcgx_init(err, sizeof err) < 0) {
		fprintf(stderr, "score.fcgi: %s\n", err);
		rc = 1;
	} else {
		install_signals();
		rc = serve_fcgi(&a, fd);
	}
	app_free(&a);
	return rc;
}
