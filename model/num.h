/*
 * num.h - numbers in and out, exactly as Python and pandas do them.
 *
 * num_parse reads decimal text into the correctly rounded double (as
 * strtod, pandas' round-trip parser and Python's float() do), fast for the
 * common short forms and falling back to strtod for the rest.  num_format
 * prints a double the way Python's repr(float) does: the shortest text
 * that reads back as the same double, so json.dumps and scorepoint print
 * byte-identical numbers.
 */
#ifndef SCOREPOINT_NUM_H
#define SCOREPOINT_NUM_H

#include <stddef.h>

#define NUM_MAX_TEXT 1024   /* longer number tokens are refused (NUM_ETOOLONG) */
#define NUM_FORMAT_MAX 32   /* bytes num_format may write, NUL included */

enum num_status {
	NUM_OK = 0,
	NUM_ESYNTAX,     /* not a number in the accepted grammar */
	NUM_ERANGE,      /* finite text whose value overflows a double (1e999) */
	NUM_ETOOLONG,    /* more than NUM_MAX_TEXT bytes */
	NUM_ENONFINITE,  /* nan, inf, infinity (CSV grammar only names them) */
};

enum num_grammar {
	/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	NUM_JSON,
	/* What pandas.read_csv takes as a float: also a leading '+', "1." and
	 * ".5", surrounding spaces; nan/inf/infinity (any case) are reported as
	 * NUM_ENONFINITE rather than NUM_ESYNTAX. */
	NUM_CSV,
};

/*
 * Parse exactly [p, end) as one number; the whole span must be the number.
 * On NUM_OK *out is the correctly rounded double (-0.0 kept).  Underflow to
 * zero or to a subnormal is not an error, as in strtod.
 */
enum num_status num_parse(const char *p, const char *end, enum num_grammar g, double *out);

/*
 * The JSON number that starts at p, which may be followed by more text:
 * on NUM_OK, *stop is the first byte after it (the caller checks that a
 * delimiter follows).  One pass instead of finding the end first: the hot
 * loop of the request decoder.
 */
enum num_status num_parse_json_prefix(const char *p, const char *end, double *out, const char **stop);

/*
 * Write repr(v) as Python 3 prints it for a finite double: "1.0", "-0.0",
 * "0.0001", "1e-05", "11.245864868164062", "1.401298464324817e-45",
 * "3.4028234663852886e+38".  Returns the length written into out (which
 * must hold NUM_FORMAT_MAX bytes) and NUL-terminates it.  For NaN or an
 * infinity it writes nothing and returns 0: JSON has no such values.
 */
size_t num_format(double v, char *out);

#endif
