/*
 * cgi.c - the CGI response format (RFC 3875 section 6).
 */
#include "cli/cgi.h"
#include "model/err.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char token_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!#$%&'*+.^`|~";

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
		} else if (name == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
			snprintf(r->content_type, sizeof r->content_type, "%.*s", (int)vn, v);
		}
	}
	r->body = buf + i;
	r->body_len = len - i;
	return 0;
}
