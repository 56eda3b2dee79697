/*
 * cgi.c - the CGI response format (RFC 3875 section 6), and running a CGI
 * program for one request.
 */
#include "cli/cgi.h"
#include "model/err.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char token_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!#$%&'*+.^`|~";

/* The headers kept, each into a char array of struct cgi_response. */
static const struct {
	const char *name;
	size_t off, size;
} kept[] = {
	{ "Content-Type", offsetof(struct cgi_response, content_type), sizeof ((struct cgi_response *)0)->content_type },
	{ "x-request-id", offsetof(struct cgi_response, request_id), sizeof ((struct cgi_response *)0)->request_id },
	{ "azureml-model-deployment", offsetof(struct cgi_response, deployment),
	  sizeof ((struct cgi_response *)0)->deployment },
};

static void keep_header(struct cgi_response *r, const char *name, size_t n, const char *v, size_t vn)
{
	for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++)
		if (strlen(kept[k].name) == n && strncasecmp(name, kept[k].name, n) == 0)
			snprintf((char *)r + kept[k].off, kept[k].size, "%.*s", (int)vn, v);
}

int cgi_parse_response(const char *buf, size_t len, struct cgi_response *r, char *err, size_t errlen)
{
	size_t i = 0;

	memset(r, 0, sizeof *r);
	r->status = 200;
	for (;;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (!nl || (size_t)(nl - buf) >= CGI_HEADERS_MAX)
			return err_set(err, errlen, nl ? "the CGI headers are larger than %u bytes" :
				       "the CGI response has no blank line after its headers", CGI_HEADERS_MAX);
		size_t end = (size_t)(nl - buf), n = end - i;
		if (n && buf[end - 1] == '\r')
			n--;
		const char *line = buf + i;
		i = end + 1;
		if (n == 0)
			break;
		size_t name = strspn(line, token_chars);
		if (name == 0 || name >= n || line[name] != ':')
			return err_set(err, errlen, "malformed CGI header line \"%.*s\"", (int)(n > 60 ? 60 : n), line);
		const char *v = line + name + 1;
		size_t vn = n - name - 1;
		while (vn && (*v == ' ' || *v == '\t'))
			v++, vn--;
		if (name == 6 && strncasecmp(line, "Status", 6) == 0) {
			if (vn < 3 || strspn(v, "0123456789") < 3 || (vn > 3 && v[3] != ' ') || v[0] < '1' || v[0] > '5')
				return err_set(err, errlen, "malformed CGI Status \"%.*s\"", (int)(vn > 60 ? 60 : vn), v);
			r->status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
		} else {
			keep_header(r, line, name, v, vn);
		}
	}
	r->body = buf + i;
	r->body_len = len - i;
	return 0;
}

/* ---- running a request ---- */

/* Inherited variables a CGI request must not carry from our own environment. */
static int request_var(const char *kv)
{
	static const char *const prefixes[] = { "HTTP_", "REQUEST_", "CONTENT_", "SCRIPT_", "QUERY_STRING=",
						"PATH_INFO=", "GATEWAY_INTERFACE=", "SERVER_", "REMOTE_", "LISTEN_",
						"SCOREPOINT_MODEL=", "SCOREPOINT_SOCKET=", NULL };
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

int cgi_env_inherit(struct cgi_env *e)
{
	e->n = 0;
	e->v[0] = NULL;
	for (char **v = environ; *v; v++) {
		if (request_var(*v))
			continue;
		if (e->n >= CGI_ENV_MAX || !(e->v[e->n] = strdup(*v)))
			return -1;
		e->v[++e->n] = NULL;
	}
	return 0;
}

int cgi_env_add(struct cgi_env *e, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	if (e->n >= CGI_ENV_MAX || !(e->v[e->n] = malloc(n)))
		return -1;
	snprintf(e->v[e->n], n, "%s=%s", name, value);
	e->v[++e->n] = NULL;
	return 0;
}

void cgi_env_cut(struct cgi_env *e, size_t n)
{
	while (e->n > n) {
		char *s = e->v[--e->n];
		memset(s, 0, strlen(s));   /* one of them may hold the credential */
		free(s);
		e->v[e->n] = NULL;
	}
}

void cgi_env_free(struct cgi_env *e)
{
	cgi_env_cut(e, 0);
}

/* Read fd to its end into *buf (capacity *cap, grown up to the limit). */
static int read_all(int fd, char **buf, size_t *cap, size_t *got, char *err, size_t errlen)
{
	for (;;) {
		if (*got == *cap) {
			char *nb = *cap < CGI_RESPONSE_MAX ? realloc(*buf, *cap * 2 + 1) : NULL;
			if (!nb)
				return err_set(err, errlen, "the response is larger than %zu bytes", CGI_RESPONSE_MAX);
			*buf = nb;
			*cap *= 2;
		}
		ssize_t r = read(fd, *buf + *got, *cap - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		*got += (size_t)r;
	}
}

int cgi_run(char *const argv[], struct cgi_env *env, int body_fd, char **out, size_t *out_len, int *status,
	    char *err, size_t errlen)
{
	int p[2];
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap + 1);

	if (!buf || pipe(p) < 0) {
		free(buf);
		return err_set(err, errlen, "cannot run %s: %s", argv[0], strerror(errno));
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(body_fd, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execve(argv[0], argv, env->v);
		fprintf(stderr, "scorepoint: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		free(buf);
		return err_set(err, errlen, "cannot fork: %s", strerror(errno));
	}
	int rc = read_all(p[0], &buf, &cap, &got, err, errlen);
	close(p[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		free(buf);
		return -1;
	}
	buf[got] = '\0';
	*out = buf;
	*out_len = got;
	return 0;
}
