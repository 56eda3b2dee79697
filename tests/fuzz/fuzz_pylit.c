/*
 * fuzz_pylit.c - the Python literal reader (tools/pylit.h) that takes a
 * pyfunc wrapper's label map from its source, executing nothing.
 *
 * The input is a source file; the literal is read where its first '='
 * says (after blanks), else at byte 0.  Properties: a success gives 1 to
 * PYLIT_MAX_LABELS labels, each at most PYLIT_MAX_STRING bytes of valid
 * UTF-8, and writing them back as a Python list of escaped strings reads
 * back the same labels; a failure has a message of one line.
 */
#include "tools/pylit.h"
#include "model/enc.h"
#include "tests/fuzz/fuzz.h"

/* labels as `['...', ...]`, every byte that could matter escaped. */
static char *as_list(char **v, uint32_t n, size_t *len)
{
	size_t cap = 3;
	for (uint32_t i = 0; i < n; i++)
		cap += 4 * strlen(v[i]) + 3;
	char *s = malloc(cap), *p = s;
	if (!s)
		abort();
	*p++ = '[';
	for (uint32_t i = 0; i < n; i++) {
		*p++ = '\'';
		for (const unsigned char *c = (const unsigned char *)v[i]; *c; c++) {
			if (*c == '\\' || *c == '\'')
				p += sprintf(p, "\\%c", *c);
			else if (*c < 0x20 || *c == 0x7f)
				p += sprintf(p, "\\x%02x", *c);
			else
				*p++ = (char)*c;
		}
		*p++ = '\'';
		*p++ = ',';
	}
	*p++ = ']';
	*len = (size_t)(p - s);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size), **v = NULL, err[512];
	const char *eq = size ? memchr(text, '=', size) : NULL;
	size_t at = eq ? (size_t)(eq - text) + 1 : 0;
	uint32_t n = 0;

	while (at < size && (text[at] == ' ' || text[at] == '\t'))
		at++;
	struct pylit_src src = { text, size, "fuzz.py", "labels" };
	if (pylit_labels(&src, at, &v, &n, err, sizeof err) == 0) {
		FUZZ_CHECK(n >= 1 && n <= PYLIT_MAX_LABELS, "%u labels", n);
		for (uint32_t i = 0; i < n; i++) {
			FUZZ_CHECK(v[i] && strlen(v[i]) <= PYLIT_MAX_STRING, "label %u", i);
			FUZZ_CHECK(enc_utf8_valid(v[i]), "label %u is not UTF-8", i);
		}
		size_t len;
		char *again = as_list(v, n, &len), **w = NULL;
		uint32_t m = 0;
		struct pylit_src src2 = { again, len, "again.py", "labels" };
		FUZZ_CHECK(len > PYLIT_MAX_BYTES || pylit_labels(&src2, 0, &w, &m, err, sizeof err) == 0,
			   "written back, refused: %s", err);
		if (w) {
			FUZZ_CHECK(m == n, "%u labels written back, %u read", n, m);
			for (uint32_t i = 0; i < n && i < m; i++)
				FUZZ_CHECK(strcmp(v[i], w[i]) == 0, "label %u changed", i);
			pylit_free_labels(w, m);
		}
		free(again);
		pylit_free_labels(v, n);
	} else {
		FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof err) && !strchr(err, '\n'),
			   "refused without a one-line message");
	}
	free(text);
	return 0;
}
