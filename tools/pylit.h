/*
 * pylit.h - read a label map written as a Python literal, executing nothing.
 *
 * The tutorial's pyfunc wrapper keeps its class names in its own code:
 * `labels_map = {0: 'T-Shirt', 1: 'Trouser', ...}`.  This reader takes the
 * literal that follows the `=` of such an assignment: a list or tuple of
 * strings, or a dict whose keys are exactly the integers 0..n-1 (any order)
 * and whose values are strings.  Python's string syntax is followed (quotes
 * ' " ''' """, prefixes r u, escapes, adjacent strings concatenated) as are
 * comments, line continuations and trailing commas.  Anything that would
 * need evaluation -- a name, a call, an f-string, an operator -- is refused
 * in one line saying what it is and where.
 */
#ifndef SCOREPOINT_PYLIT_H
#define SCOREPOINT_PYLIT_H

#include <stddef.h>
#include <stdint.h>

#include "model/blob.h"

#define PYLIT_MAX_BYTES (1u << 20)          /* a source file larger than this is refused */
#define PYLIT_MAX_DEPTH 16                  /* brackets nested deeper than this are refused */
#define PYLIT_MAX_LABELS BLOB_MAX_LABELS    /* entries in the map */
#define PYLIT_MAX_STRING BLOB_MAX_STRING    /* bytes of one string, in UTF-8 */

/* The source a literal is read from; file and name only label messages. */
struct pylit_src {
	const char *text;   /* the whole file, need not be NUL-terminated */
	size_t len;
	const char *file;   /* "DIR/code/model_wrapper.py" */
	const char *name;   /* the assigned name, "labels_map" */
};

/*
 * Read the literal at src->text[at] (its opening bracket), which must be
 * the whole right-hand side: only blanks and a comment may follow it on its
 * logical line.  On success *labels is a malloc'd array of *n malloc'd,
 * NUL-terminated, valid UTF-8 strings without NUL bytes (labels[k] is the
 * value of key k), 1 <= *n <= PYLIT_MAX_LABELS; free it with
 * pylit_free_labels().  Else -1, nothing to free, and one line in err:
 * "FILE:LINE: NAME[3]: a function call (str(...)): ...".
 */
int pylit_labels(const struct pylit_src *src, size_t at, char ***labels, uint32_t *n, char *err,
		 size_t errlen);
void pylit_free_labels(char **labels, uint32_t n);

#endif
