/*
 * name.h - Azure ML's rule for endpoint, deployment and model names.
 *
 * One rule for every name scorepoint stores or routes by: it keeps names
 * safe to use as file names, URL path segments, header values and JWT
 * audiences without any escaping.
 */
#ifndef SCOREPOINT_NAME_H
#define SCOREPOINT_NAME_H

#include <stddef.h>

#define NAME_MIN_LEN 3
#define NAME_MAX_LEN 32   /* characters; a buffer needs NAME_MAX_LEN + 1 */

/*
 * True when s[0, len) begins with an ASCII letter, has NAME_MIN_LEN to
 * NAME_MAX_LEN characters, holds only ASCII letters, digits and dashes,
 * never two dashes in a row and no dash at the end.  s need not be
 * NUL-terminated; an embedded NUL makes it invalid.
 */
int name_valid(const char *s, size_t len);

/* The rule in one line of text, for error messages (static storage). */
const char *name_rule(void);

#endif
