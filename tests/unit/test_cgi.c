/*
 * test_cgi.c - cli/cgi.c: the CGI responses `online-endpoint invoke`
 * reads back from score.fcgi.
 */
#include "tests/unit/unit.h"
#include "cli/cgi.h"

#include <sys/wait.h>
#include <unistd.h>

static char err[256];

static int parse(const char *text, struct cgi_response *r)
{
	return cgi_parse_response(text, strlen(text), r, err, sizeof err);
}

static void test_status_headers_body(void)
{
	struct cgi_response r;
	const char *t = "Status: 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 18\r\n"
			"\r\n{\"message\": \"no\"}\n";
	CHECK_INT(parse(t, &r), 0);
	CHECK_INT(r.status, 401);
	CHECK_STR(r.content_type, "application/json");
	CHECK_INT(r.body_len, 18);
	CHECK(r.body && memcmp(r.body, "{\"message\": \"no\"}\n", 18) == 0);
}

static void test_defaults_and_lf(void)
{
	struct cgi_response r;
	CHECK_INT(parse("Content-Type: text/plain\n\nHealthy", &r), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.body_len, 7);
	CHECK_INT(parse("Status: 200\n\n", &r), 0);
	CHECK_INT(r.body_len, 0);
	/* A blank line inside the body is the body's. */
	CHECK_INT(parse("Status: 200 OK\r\n\r\na\r\n\r\nb", &r), 0);
	CHECK_INT(r.body_len, 6);
}

static void test_refusals(void)
{
	struct cgi_response r;
	CHECK_INT(parse("Status: 200 OK\r\nContent-Type: x\r\n", &r), -1);
	CHECK_CONTAINS(err, "no blank line");
	CHECK_INT(parse("", &r), -1);
	CHECK_INT(parse("usage: score.fcgi [options]\n\nServe a blob\n", &r), 0);
	CHECK_INT(parse("Serve a scorepoint model blob\n\n", &r), -1);
	CHECK_CONTAINS(err, "malformed CGI header line");
	CHECK_INT(parse("Status: OK\n\n", &r), -1);
	CHECK_CONTAINS(err, "malformed CGI Status");
	CHECK_INT(parse("Status: 2000 x\n\n", &r), -1);
	CHECK_INT(parse(": x\n\n", &r), -1);
	char *big = malloc(CGI_HEADERS_MAX + 100);
	memset(big, 'a', CGI_HEADERS_MAX + 99);
	memcpy(big, "X-Long: ", 8);
	big[CGI_HEADERS_MAX + 90] = '\n';
	big[CGI_HEADERS_MAX + 91] = '\n';
	CHECK_INT(cgi_parse_response(big, CGI_HEADERS_MAX + 99, &r, err, sizeof err), -1);
	CHECK_CONTAINS(err, "larger than");
	free(big);
}

/* The headers replay reads: which deployment answered, and the request id. */
static void test_request_id_and_deployment(void)
{
	struct cgi_response r;
	CHECK_INT(parse("Status: 200 OK\r\nX-Request-ID: abc-1\r\nazureml-model-deployment: green\r\n\r\n[]", &r), 0);
	CHECK_STR(r.request_id, "abc-1");
	CHECK_STR(r.deployment, "green");
	CHECK_STR(r.content_type, "");
	CHECK_INT(parse("Status: 200 OK\n\n", &r), 0);
	CHECK_STR(r.request_id, "");
}

/* cgi_run: the body on stdin, the environment given (and only it), the
 * output read back. */
static void test_run(void)
{
	struct cgi_env env;
	char *out = NULL, path[] = "/tmp/test_cgi_XXXXXX";
	size_t len = 0;
	int status = -1, fd = mkstemp(path);
	char *argv[] = { "/bin/sh", "-c", "printf 'Status: 201 x\\n\\n%s:' \"$REQUEST_URI\"; cat; "
			 "env | grep -c '^HTTP_' || true", NULL };

	CHECK(fd >= 0);
	unlink(path);
	CHECK(write(fd, "body!", 5) == 5);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	setenv("HTTP_STRAY", "x", 1);   /* a request variable of our own: not passed on */
	CHECK_INT(cgi_env_inherit(&env), 0);
	size_t base = env.n;
	CHECK_INT(cgi_env_add(&env, "REQUEST_URI", "/e/score"), 0);
	CHECK_INT(cgi_run(argv, &env, fd, &out, &len, &status, err, sizeof err), 0);
	CHECK(out && strcmp(out, "Status: 201 x\n\n/e/score:body!0\n") == 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cgi_env_cut(&env, base);
	CHECK_INT(env.n, base);
	CHECK(env.v[base] == NULL);
	free(out);
	char *missing[] = { "/nonexistent/score.fcgi", NULL };
	CHECK_INT(cgi_run(missing, &env, fd, &out, &len, &status, err, sizeof err), 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	CHECK_INT(len, 0);
	free(out);
	cgi_env_free(&env);
	unsetenv("HTTP_STRAY");
	close(fd);
}

int main(void)
{
	RUN(test_status_headers_body);
	RUN(test_defaults_and_lf);
	RUN(test_refusals);
	RUN(test_request_id_and_deployment);
	RUN(test_run);
	return unit_done();
}
