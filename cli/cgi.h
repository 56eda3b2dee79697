/*
 * cgi.h - read what a CGI program wrote: header lines, a blank line, the
 * body.  `scorepoint online-endpoint invoke` runs score.fcgi as CGI and
 * reads its answer with this.
 */
#ifndef SCOREPOINT_CGI_H
#define SCOREPOINT_CGI_H

#include <stddef.h>

#define CGI_HEADERS_MAX (64u << 10)   /* the header block, blank line included */

struct cgi_response {
	int status;              /* from "Status: NNN ...", else 200 */
	char content_type[128];  /* "" when absent (truncated when longer) */
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

#endif
