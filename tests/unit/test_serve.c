/*
 * test_serve.c - cli/cli_serve.c's pure parts: the --host address, the
 * default worker count, and the lighttpd configuration `scorepoint serve`
 * writes.  (tests/e2e/serve.sh runs the verb itself.)
 */
#include "tests/unit/unit.h"
#include "cli/cli_serve.h"

#include <netinet/in.h>

static char err[512];

static void test_addresses(void)
{
	struct serve_addr a;
	char hp[96];

	CHECK_INT(serve_addr_parse("127.0.0.1", 8080, &a), 0);
	CHECK_INT(a.sa.ss_family, AF_INET);
	CHECK_INT(ntohs(((struct sockaddr_in *)&a.sa)->sin_port), 8080);
	CHECK_INT(a.len, sizeof(struct sockaddr_in));
	CHECK_STR(a.text, "127.0.0.1");
	serve_addr_format(&a, hp, sizeof hp);
	CHECK_STR(hp, "127.0.0.1:8080");

	CHECK_INT(serve_addr_parse("0.0.0.0", 1, &a), 0);
	CHECK_STR(a.text, "0.0.0.0");

	/* IPv6, bare or in brackets, kept without them (config.host) in
	 * canonical form. */
	CHECK_INT(serve_addr_parse("::1", 65535, &a), 0);
	CHECK_INT(a.sa.ss_family, AF_INET6);
	CHECK_STR(a.text, "::1");
	serve_addr_format(&a, hp, sizeof hp);
	CHECK_STR(hp, "[::1]:65535");
	CHECK_INT(serve_addr_parse("[0:0::0:1]", 80, &a), 0);
	CHECK_STR(a.text, "::1");

	/* Names and near misses are not addresses. */
	static const char *const bad[] = { "localhost", "example.com", "", "[]", "[127.0.0.1]", "127.0.0.256",
					   "127.1", "::1]", "[::1", " 127.0.0.1", "fe80::1%eth0", NULL };
	for (int i = 0; bad[i]; i++)
		CHECKF(serve_addr_parse(bad[i], 8080, &a) == -1, "\"%s\" taken", bad[i]);
	CHECK_INT(serve_addr_parse("127.0.0.1", 0, &a), -1);
	CHECK_INT(serve_addr_parse("127.0.0.1", 65536, &a), -1);
}

static void test_default_workers(void)
{
	struct ws_deployment d[3];
	struct ws_endpoint e[2];
	struct ws w;

	memset(d, 0, sizeof d);
	memset(e, 0, sizeof e);
	memset(&w, 0, sizeof w);
	CHECK_INT(serve_default_workers(&w, 2), 1);   /* no deployment: still one */

	d[0].instance_count = 1;
	d[1].instance_count = 2;
	d[2].instance_count = 3;
	e[0].deployments = d;
	e[0].ndeployments = 2;
	e[1].deployments = d + 2;
	e[1].ndeployments = 1;
	w.endpoints = e;
	w.nendpoints = 2;
	CHECK_INT(serve_default_workers(&w, 2), 6);    /* summed over every endpoint */
	CHECK_INT(serve_default_workers(&w, 1), 4);    /* at most 4 per CPU */
	CHECK_INT(serve_default_workers(&w, 0), 4);    /* an unknown CPU count is one */
	CHECK_INT(serve_default_workers(&w, -1), 4);
	d[2].instance_count = 1000;
	CHECK_INT(serve_default_workers(&w, 1024), SERVE_MAX_WORKERS);
}

/* The configuration for sc as text, or NULL after a refusal (in err). */
static char *conf(const struct serve_conf *sc)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = serve_conf_write(f, sc, err, sizeof err);
	fclose(f);
	if (rc < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static void test_conf(void)
{
	struct serve_addr a;
	struct serve_conf sc = { "/tmp/scorepoint-serve-abc", &a, "/opt/sp/score.fcgi", "/srv/ws", 3 };

	serve_addr_parse("127.0.0.1", 8080, &a);
	char *t = conf(&sc);
	CHECK(t != NULL);
	if (t) {
		CHECK_CONTAINS(t, "server.modules = ( \"mod_fastcgi\" )\n");
		CHECK_CONTAINS(t, "server.bind = \"127.0.0.1\"\n");
		CHECK_CONTAINS(t, "server.port = 8080\n");
		CHECK_CONTAINS(t, "server.max-request-size = 65536\n");
		/* Bodies streamed to score.fcgi, which refuses a keyless
		 * request before reading one; connections and idle time capped. */
		CHECK_CONTAINS(t, "server.stream-request-body = 2\n");
		CHECK_CONTAINS(t, "server.stream-response-body = 0\n");
		CHECK_CONTAINS(t, "server.max-connections = 512\n");
		CHECK_CONTAINS(t, "server.max-read-idle = 20\n");
		CHECK_CONTAINS(t, "server.max-write-idle = 60\n");
		CHECK_CONTAINS(t, "server.max-keep-alive-idle = 5\n");
		CHECK_CONTAINS(t, "\"socket\" => \"/tmp/scorepoint-serve-abc/fcgi.sock\"");
		CHECK_CONTAINS(t, "\"bin-path\" => \"/opt/sp/score.fcgi --workspace /srv/ws --metrics-file "
				  "/tmp/scorepoint-serve-abc/metrics\"");
		CHECK_CONTAINS(t, "\"bin-environment\" => ( \"OPENBLAS_NUM_THREADS\" => \"1\" )");
		CHECK_CONTAINS(t, "\"max-procs\" => 3,");
		CHECK_CONTAINS(t, "\"min-procs\" => 3,");
		CHECK_CONTAINS(t, "\"check-local\" => \"disable\"");
		CHECK(strstr(t, "errorlog =") == NULL);   /* lighttpd's messages: stderr */
		CHECK(strstr(t, "--log") == NULL);        /* requests: the workspace's log */
	}
	free(t);

	serve_addr_parse("::1", 9000, &a);
	t = conf(&sc);
	CHECK(t && strstr(t, "server.bind = \"[::1]\"\nserver.port = 9000\n"));
	free(t);

	/* lighttpd splits bin-path at blanks and has no escape but \". */
	sc.workspace = "/srv/my workspace";
	CHECK(conf(&sc) == NULL);
	CHECK_CONTAINS(err, "the workspace /srv/my workspace");
	CHECK_CONTAINS(err, "blank");
	sc.workspace = "/srv/ws";
	sc.handler = "/opt/\"sp\"/score.fcgi";
	CHECK(conf(&sc) == NULL);
	CHECK_CONTAINS(err, "score.fcgi");
	sc.handler = "/opt/sp/score.fcgi";
	sc.dir = "/tmp/a\tb";
	CHECK(conf(&sc) == NULL);
	sc.dir = "/tmp/new\nline";
	CHECK(conf(&sc) == NULL);
	sc.dir = "/tmp/caf\xc3\xa9";   /* UTF-8 is fine */
	t = conf(&sc);
	CHECK(t != NULL);
	free(t);
}

int main(void)
{
	RUN(test_addresses);
	RUN(test_default_workers);
	RUN(test_conf);
	return unit_done();
}
