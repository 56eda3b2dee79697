/*
 * name.h - Azure ML's naming rules: one for endpoints and deployments, one
 * for models (which allows underscores, a digit first and 255 characters).
 *
 * Both keep names safe to use as file names, URL path segments, header
 * values and JWT audiences without any escaping: ASCII letters, digits,
 * '-' and '_' only, so never "." or "..".  Every endpoint-rule name is a
 * valid model name too.
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

#define MODEL_NAME_MAX_LEN 255   /* characters; a buffer needs MODEL_NAME_MAX_LEN + 1 */

/*
 * True when s[0, len) is a model name by Azure ML's rule: 1 to
 * MODEL_NAME_MAX_LEN characters, ASCII letters, digits, '-' and '_', the
 * first a letter or a digit.  Same conventions as name_valid().
 */
int model_name_valid(const char *s, size_t len);

/* The model rule in one line of text, for error messages (static storage). */
const char *model_name_rule(void);

#endif
