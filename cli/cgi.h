/*
 * cgi.h - run a CGI program for one request and read what it wrote:
 * header lines, a blank line, the body.  `scorepoint online-endpoint
 * invoke` and `online-deployment replay` run score.fcgi as CGI with this.
 */
#ifndef SCOREPOINT_CGI_H
#define SCOREPOINT_CGI_H

#include <stddef.h>

#define CGI_HEADERS_MAX (64u << 10)   /* the header block, blank line included */

struct cgi_response {
	int status;              /* from "Status: NNN ...", else 200 */
	char content_type[128];  /* "" when absent (truncated when longer) */
	char request_id[128];    /* x-request-id, "" when absent (truncated when longer) */
	char deployment[64];     /* azureml-model-deployment, the same */
	const char *body;        /* points into the buffer parsed */
	size_t body_len;
};

/*
 * Parse buf[0, len): header lines "Name: value" ending in LF or CRLF, then
 * an empty line, then the body.  Returns 0, or -1 with one line in err for
 * a missing blank line, a malformed header or Status line, or a header
 * block larger than CGI_HEADERS_MAX.
 */
int cgi_parse_response(const char *buf, size_t len, struct cgi_response *r, char *err, size_t errlen);

#define CGI_ENV_MAX 4096                   /* variables in a request's environment */
#define CGI_RESPONSE_MAX ((size_t)256 << 20)   /* bytes cgi_run reads back */

/* A request's environment, NAME=VALUE strings for execve (v[n] is NULL).
 * A value may hold a credential: cgi_env_cut and cgi_env_free wipe what
 * they free. */
struct cgi_env {
	char *v[CGI_ENV_MAX + 1];
	size_t n;
};

/* Start e with our own environment minus every variable that describes a
 * request (HTTP_*, REQUEST_*, CONTENT_*, SCRIPT_*, SERVER_*, ...: they
 * must come from the request, not from the shell) and score.fcgi's
 * SCOREPOINT_MODEL and SCOREPOINT_SOCKET.  0, or -1 out of memory or past
 * CGI_ENV_MAX (what was added stays, for cgi_env_free). */
int cgi_env_inherit(struct cgi_env *e);
/* Append NAME=value.  0, or -1 out of memory or past CGI_ENV_MAX. */
int cgi_env_add(struct cgi_env *e, const char *name, const char *value);
/* Wipe and free the variables from index n on; e->n becomes n. */
void cgi_env_cut(struct cgi_env *e, size_t n);
void cgi_env_free(struct cgi_env *e);

/*
 * Run argv[0] (a path, not searched) with argv and env as one CGI request
 * whose body is body_fd from its current offset (the child's stdin); its
 * standard output, up to CGI_RESPONSE_MAX bytes, into *out (malloc'd,
 * NUL-terminated, length *out_len; the caller frees it) and waitpid()'s
 * status into *status.  0, or -1 with one line in err (no pipe, no fork,
 * no memory, a larger answer); a program that cannot be executed exits
 * 127 after a line on stderr.
 */
int cgi_run(char *const argv[], struct cgi_env *env, int body_fd, char **out, size_t *out_len, int *status,
	    char *err, size_t errlen);

#endif
