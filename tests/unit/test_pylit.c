/* test_pylit.c - tools/pylit.c: label maps read as Python literals, nothing run. */
#include "tests/unit/unit.h"
#include "tools/pylit.h"

/* Read the literal after the first '=' of text; returns the count or -1
 * with the message in err. */
static int read_map(const char *text, char ***labels, char *err, size_t errlen)
{
	struct pylit_src src = { text, strlen(text), "w.py", "labels_map" };
	const char *eq = strchr(text, '=');
	size_t at = eq ? (size_t)(eq - text) + 1 : 0;
	uint32_t n = 0;

	while (text[at] == ' ')
		at++;
	*labels = NULL;
	if (pylit_labels(&src, at, labels, &n, err, errlen) < 0)
		return -1;
	return (int)n;
}

/* text must give exactly the labels of want (NULL-terminated). */
static void accepts(const char *text, const char *const *want)
{
	char **v, err[512] = "";
	int n = read_map(text, &v, err, sizeof err);
	int k = 0;

	while (want[k])
		k++;
	CHECKF(n == k, "%s: %d labels, %s", text, n, err);
	for (int i = 0; n == k && i < k; i++)
		CHECK_STR(v[i], want[i]);
	if (n > 0)
		pylit_free_labels(v, (uint32_t)n);
}

static void refuses(const char *text, const char *fragment)
{
	char **v, err[512] = "";
	int n = read_map(text, &v, err, sizeof err);

	CHECKF(n < 0, "%s accepted", text);
	if (n > 0)
		pylit_free_labels(v, (uint32_t)n);
	CHECK_CONTAINS(err, fragment);
	CHECKF(strchr(err, '\n') == NULL, "two lines: %s", err);
}

/* The tutorial's wrapper, as fixtures/pyfunc_model/code/model_wrapper.py has it. */
static void test_tutorial_dict(void)
{
	static const char *const ten[] = { "T-Shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
					   "Shirt", "Sneaker", "Bag", "Ankle Boot", NULL };
	accepts("labels_map = {\n    0: 'T-Shirt',\n    1: 'Trouser',\n    2: 'Pullover',\n    3: 'Dress',\n"
		"    4: 'Coat',\n    5: 'Sandal',\n    6: 'Shirt',\n    7: 'Sneaker',\n    8: 'Bag',\n"
		"    9: 'Ankle Boot',\n}\n", ten);
	/* any key order, the value by its key */
	accepts("m = {2: 'c', 0: 'a', 1: 'b'}", (const char *const[]){ "a", "b", "c", NULL });
}

static void test_list_and_tuple(void)
{
	accepts("labels = ['T-Shirt', \"Trouser\", '''Pull''' \"\"\"over\"\"\"]",
		(const char *const[]){ "T-Shirt", "Trouser", "Pullover", NULL });
	accepts("labels = ('a', 'b',)  # a comment", (const char *const[]){ "a", "b", NULL });
	accepts("labels = ('a',)", (const char *const[]){ "a", NULL });
	accepts("labels = [\n  'a',  # first\n  # nothing here\n  'b'\n  ,\n]\n",
		(const char *const[]){ "a", "b", NULL });
	accepts("labels = [ \\\n 'a' ]", (const char *const[]){ "a", NULL });   /* a continuation */
	accepts("labels = ['a'];x = 1", (const char *const[]){ "a", NULL });
}

static void test_string_syntax(void)
{
	accepts("l = ['tab\\there', 'nl\\n', 'q\\'\\\"', 'bs\\\\', '\\x41\\u00e9\\U0001F600', '\\101\\7']",
		(const char *const[]){ "tab\there", "nl\n", "q'\"", "bs\\", "A\xc3\xa9\xf0\x9f\x98\x80", "A\x07",
				       NULL });
	accepts("l = [r'a\\nb', R\"\\d\", u'x', U'y', 'keep\\d']",
		(const char *const[]){ "a\\nb", "\\d", "x", "y", "keep\\d", NULL });
	accepts("l = ['''line\none''', 'joined \\\nhere', r'\\'']",
		(const char *const[]){ "line\none", "joined here", "\\'", NULL });
	accepts("l = ['caf\xc3\xa9', 'T-Shirt' 's']", (const char *const[]){ "caf\xc3\xa9", "T-Shirts", NULL });
}

static void test_refused_values(void)
{
	refuses("labels_map = {0: 'a', 1: 'b', 3: 'd'}", "no key 2");
	refuses("labels_map = {0: 'a', 1: 'b', 3: 'd'}", "w.py:1: labels_map:");
	refuses("labels_map = {0: 'a', 0: 'b'}", "key 0 twice");
	refuses("labels_map = {1: 'a', 2: 'b'}", "no key 0");
	refuses("labels_map = {0: 'a', -1: 'b'}", "key -1");
	refuses("labels_map = {'0': 'a'}", "a key that is a string");
	refuses("labels_map = {0.0: 'a'}", "a key that is a number");
	refuses("labels_map = {0: 'a',\n 1: 7}", "w.py:2: labels_map[1]: an integer, not a string");
	refuses("labels_map = {0: 'a', 1: None}", "a constant");
	refuses("labels_map = {0: 'a', 1: str(1)}", "labels_map[1]: a function call (str(...))");
	refuses("labels_map = {0: 'a', 1: f'{x}'}", "an f-string");
	refuses("labels_map = {0: 'a', 1: b'x'}", "a bytes literal");
	refuses("labels_map = {0: 'a', 1: NAMES}", "a name (NAMES), not a literal");
	refuses("labels_map = {0: 'a', 1: names[1]}", "a subscript");
	refuses("labels_map = [[['a']]]", "labels_map[0]: a list, not a string");
	refuses("labels_map = {'a', 'b'}", "a set");
	refuses("labels_map = ('a')", "a string, not a list");
	refuses("labels_map = []", "empty");
	refuses("labels_map = {}", "empty");
	refuses("labels_map = ['a'] + extra", "'+' after the literal");
	refuses("labels_map = ['a', 'b' 'c' x]", "expected ',' or ']'");
	refuses("labels_map = ['a' for a in x]", "expected ',' or ']'");
	refuses("labels_map = [-x]", "a sign that is not before a number");
	refuses("labels_map = dict(a=1)", "not a list, tuple or dict");
}

static void test_refused_strings(void)
{
	refuses("labels_map = ['a\\N{BULLET}']", "\\N{...}");
	refuses("labels_map = ['a\\x4']", "needs 2 hex digits");
	refuses("labels_map = ['\\ud800']", "surrogate");
	refuses("labels_map = ['\\U00110000']", "beyond U+10FFFF");
	refuses("labels_map = ['a\\x00']", "NUL");
	refuses("labels_map = ['a\\0']", "NUL");
	refuses("labels_map = ['a\nb']", "not closed on its line");
	refuses("labels_map = ['a", "never closed");
	refuses("labels_map = ['''a", "never closed");
	refuses("labels_map = ['caf\xe9']", "not valid UTF-8");
	refuses("labels_map = ['\xc0\xaf']", "not valid UTF-8");   /* overlong */
	refuses("labels_map = ['a'", "expected ',' or ']', found the end of the file");
}

static void test_limits(void)
{
	char deep[2 * PYLIT_MAX_DEPTH + 64];
	int n = snprintf(deep, sizeof deep, "labels_map = ");
	for (int i = 0; i < PYLIT_MAX_DEPTH + 1; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	refuses(deep, "nested more than 16 deep");

	/* one string too long */
	size_t big = PYLIT_MAX_STRING + 32;
	char *s = malloc(big + 32);
	memcpy(s, "l = ['", 6);
	memset(s + 6, 'x', PYLIT_MAX_STRING + 1);
	strcpy(s + 6 + PYLIT_MAX_STRING + 1, "']");
	refuses(s, "longer than 4096 bytes");
	free(s);

	/* too many labels */
	size_t cap = (size_t)(PYLIT_MAX_LABELS + 1) * 4 + 16;
	char *many = malloc(cap), *p = many;
	p += sprintf(p, "l = [");
	for (int i = 0; i <= PYLIT_MAX_LABELS; i++)
		p += sprintf(p, "'',");
	strcpy(p, "]");
	refuses(many, "more than 65536 labels");
	free(many);

	/* the whole source is bounded */
	char **v, err[256];
	struct pylit_src src = { "l = ['a']", PYLIT_MAX_BYTES + 1, "w.py", "l" };
	CHECK(pylit_labels(&src, 4, &v, &(uint32_t){ 0 }, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "larger than");
}

/* Exactly PYLIT_MAX_LABELS entries, each PYLIT_MAX_STRING bytes at most, pass. */
static void test_at_the_limits(void)
{
	size_t cap = (size_t)PYLIT_MAX_LABELS * 5 + 16;
	char *many = malloc(cap), *p = many, **v, err[256] = "";
	p += sprintf(p, "l = [");
	for (int i = 0; i < PYLIT_MAX_LABELS; i++)
		p += sprintf(p, "'%c',", 'a' + i % 26);
	strcpy(p, "]");
	CHECKF(read_map(many, &v, err, sizeof err) == PYLIT_MAX_LABELS, "%s", err);
	if (!err[0]) {
		CHECK_INT(v[PYLIT_MAX_LABELS - 1][0], 'a' + (PYLIT_MAX_LABELS - 1) % 26);
		pylit_free_labels(v, PYLIT_MAX_LABELS);
	}
	free(many);
}

static void test_fixture_wrapper(void)
{
	size_t len;
	char *text = unit_slurp("fixtures/pyfunc_model/code/model_wrapper.py", &len), **v = NULL, err[256] = "";
	uint32_t n = 0;

	CHECK(text != NULL);
	if (!text)
		return;
	const char *at = strstr(text, "labels_map = {");
	CHECK(at != NULL);
	if (at) {
		struct pylit_src src = { text, len, "model_wrapper.py", "labels_map" };
		CHECKF(pylit_labels(&src, (size_t)(at - text) + 13, &v, &n, err, sizeof err) == 0, "%s", err);
		CHECK_INT(n, 10);
		if (n == 10) {
			CHECK_STR(v[0], "T-Shirt");
			CHECK_STR(v[2], "Pullover");
			CHECK_STR(v[9], "Ankle Boot");
		}
		pylit_free_labels(v, n);
	}
	free(text);
}

int main(void)
{
	RUN(test_tutorial_dict);
	RUN(test_list_and_tuple);
	RUN(test_string_syntax);
	RUN(test_refused_values);
	RUN(test_refused_strings);
	RUN(test_limits);
	RUN(test_at_the_limits);
	RUN(test_fixture_wrapper);
	return unit_done();
}
