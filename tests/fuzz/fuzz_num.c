/*
 * fuzz_num.c - num_parse (both grammars), num_parse_json_prefix and
 * num_format (model/num.h), checked against glibc's strtod.
 *
 * The input is the number text.  Properties:
 *  - JSON grammar: a text that RFC 8259's grammar (checked here on its own)
 *    accepts is NUM_OK, or NUM_ERANGE exactly when strtod overflows, or
 *    NUM_ETOOLONG past NUM_MAX_TEXT; NUM_OK gives strtod's double bit for
 *    bit; NUM_ESYNTAX only for text outside the grammar.
 *  - num_parse_json_prefix agrees with num_parse on what it consumed.
 *  - CSV grammar: accepts everything JSON accepts, with the same double;
 *    what it accepts is strtod's double of the trimmed text, which holds
 *    only sign, digits, '.', 'e', spaces and tabs; NUM_ENONFINITE only for the
 *    nan/inf spellings.
 *  - num_format of any finite double (the input's first 8 bytes, and every
 *    double parsed) reads back as the same bits, in fewer than
 *    NUM_FORMAT_MAX bytes.
 *  - num_f32_token (the request decoder's hot path) takes only JSON
 *    numbers, and gives (float) of num_parse's double, bit for bit; it
 *    refuses none of the -?D.F form except near a float32 halfway point.
 */
#include "model/num.h"
#include "model/num_f32.h"
#include "tests/fuzz/fuzz.h"

#include <math.h>
#include <strings.h>

static int digits(const char *p, const char *end, const char **q)
{
	const char *s = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	*q = p;
	return p > s;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? over exactly [p, end). */
static int json_grammar(const char *p, const char *end)
{
	const char *q;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		digits(p, end, &p);
	else
		return 0;
	if (p < end && *p == '.') {
		if (!digits(p + 1, end, &q))
			return 0;
		p = q;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!digits(p, end, &q))
			return 0;
		p = q;
	}
	return p == end;
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static void check_format(double v)
{
	char out[NUM_FORMAT_MAX + 8];
	memset(out, 'x', sizeof out);
	size_t n = num_format(v, out);
	if (!isfinite(v)) {
		FUZZ_CHECK(n == 0, "num_format of a non-finite value wrote %zu bytes", n);
		return;
	}
	FUZZ_CHECK(n > 0 && n < NUM_FORMAT_MAX && strlen(out) == n, "num_format(%a) returned %zu", v, n);
	double back;
	enum num_status st = num_parse(out, out + n, NUM_JSON, &back);
	FUZZ_CHECK(st == NUM_OK && same_bits(back, v), "num_format(%a) = \"%s\" reads back as %a (status %d)",
		   v, out, back, st);
}

/* strtod over the NUL-terminated text s, which must consume all of it but
 * trailing spaces. */
static double reference(const char *s, int *whole)
{
	char *stop;
	double d = strtod(s, &stop);
	while (*stop == ' ' || *stop == '\t')
		stop++;
	*whole = *stop == '\0' && stop != s;
	return d;
}

/* An accepted text (status NUM_OK or NUM_ERANGE, value v) against strtod:
 * read whole, the same bits, or an infinity for NUM_ERANGE. */
static void check_accepted(const char *what, const char *text, enum num_status st, double v)
{
	int whole;
	double ref = reference(text, &whole);
	FUZZ_CHECK(whole, "%s accepted \"%s\", which strtod does not read whole", what, text);
	if (st == NUM_OK) {
		FUZZ_CHECK(same_bits(v, ref), "%s \"%s\": num_parse %a, strtod %a", what, text, v, ref);
		check_format(v);
	} else {
		FUZZ_CHECK(isinf(ref), "%s \"%s\": NUM_ERANGE, strtod %a", what, text, ref);
	}
}

static int nonfinite_word(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '+' || *s == '-')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return (n == 3 && (strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0)) ||
	       (n == 8 && strncasecmp(s, "infinity", 8) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	const char *end = text + size;
	int nul = memchr(data, '\0', size) != NULL;
	double j = 0, cv = 0;

	if (size >= 8) {
		double raw;
		memcpy(&raw, data, sizeof raw);
		check_format(raw);
	}

	/* JSON */
	enum num_status js = num_parse(text, end, NUM_JSON, &j);
	int gram = json_grammar(text, end);
	FUZZ_CHECK(js != NUM_ENONFINITE, "NUM_ENONFINITE from the JSON grammar");
	if (js == NUM_ESYNTAX)
		FUZZ_CHECK(!gram, "\"%s\" is a JSON number, refused as a syntax error", text);
	if (js == NUM_ETOOLONG)
		FUZZ_CHECK(size > NUM_MAX_TEXT, "%zu bytes called too long", size);
	if (gram && size <= NUM_MAX_TEXT)
		FUZZ_CHECK(js == NUM_OK || js == NUM_ERANGE, "\"%s\": status %d", text, js);
	if (js == NUM_OK || js == NUM_ERANGE) {
		FUZZ_CHECK(gram && size <= NUM_MAX_TEXT, "\"%s\" accepted (status %d)", text, js);
		check_accepted("JSON", text, js, j);
	}

	/* The one-pass prefix parser the request decoder uses. */
	double pv = 0;
	const char *stop = NULL;
	enum num_status ps = num_parse_json_prefix(text, end, &pv, &stop);
	if (ps == NUM_OK) {
		FUZZ_CHECK(stop > text && stop <= end, "stop outside the text");
		double again;
		enum num_status st = num_parse(text, stop, NUM_JSON, &again);
		FUZZ_CHECK(st == NUM_OK && same_bits(again, pv), "prefix \"%.*s\": %a, num_parse %a (status %d)",
			   (int)(stop - text), text, pv, again, st);
	}
	if (js == NUM_OK)
		FUZZ_CHECK(ps == NUM_OK && stop == end && same_bits(pv, j),
			   "\"%s\": prefix parser status %d, %a, stopped at %td", text, ps, pv,
			   stop ? stop - text : -1);

	/* The float32 hot path, over the text with NUM_F32_AFTER bytes of
	 * the body after it. */
	char *room = malloc(size + NUM_F32_AFTER);
	memcpy(room, text, size);
	memset(room + size, ',', NUM_F32_AFTER);
	float f;
	if (num_f32_token(room, room + size, &f)) {
		float want = (float)j;
		FUZZ_CHECK(js == NUM_OK && memcmp(&f, &want, sizeof f) == 0,
			   "\"%s\": num_f32_token %a, (float) of num_parse %a (status %d)", text, (double)f,
			   (double)want, js);
	}
	free(room);

	/* CSV */
	enum num_status cs = num_parse(text, end, NUM_CSV, &cv);
	if (js == NUM_OK)
		FUZZ_CHECK(cs == NUM_OK && same_bits(cv, j), "\"%s\": JSON %a, CSV status %d %a", text, j, cs, cv);
	if (cs == NUM_OK || cs == NUM_ERANGE) {
		FUZZ_CHECK(!nul && strspn(text, " \t+-.0123456789eE") == size, "CSV accepted \"%s\" (status %d)",
			   text, cs);
		check_accepted("CSV", text, cs, cv);
	}
	if (cs == NUM_ENONFINITE)
		FUZZ_CHECK(!nul && nonfinite_word(text), "\"%s\" called non-finite", text);
	free(text);
	return 0;
}
