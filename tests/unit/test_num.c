/*
 * test_num.c - model/num.c against glibc and Python.
 *
 * num_parse is compared with strtod (exact in glibc) on every edge case the
 * contract names and on a large seeded random set; num_format with Python's
 * repr as spelled in fixtures/floats.tsv, and with a slow reference built
 * from snprintf and strtod on random doubles.  num.c is included, not
 * linked, so its internals (the log2/log10 constants, the power table, the
 * eight-digit reader, the slow formatting path) are checked directly.
 */
#include "tests/unit/unit.h"
#include "model/num.c"

#include <errno.h>
#include <math.h>

#if defined(__SANITIZE_ADDRESS__)
#define SCALE 2         /* the sanitizer build runs half the random cases */
#else
#define SCALE 1
#endif

/* ---- helpers ------------------------------------------------------- */

static double from_bits(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

static uint64_t to_bits(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof b);
	return b;
}

static enum num_status parse_str(const char *s, enum num_grammar g, double *out)
{
	return num_parse(s, s + strlen(s), g, out);
}

/* ---- the slow reference for repr ----------------------------------- */

/* Does the n-digit text "%.*e" of v read back as v?  Leaves it in buf. */
static int ref_trips(double v, int n, char *buf, size_t len)
{
	snprintf(buf, len, "%.*e", n - 1, v);
	return strtod(buf, NULL) == v;
}

/* digits and exponent of a "%.*e" text, sign skipped: v = 0.DIG * 10^decpt */
static int ref_split(const char *buf, char *dig, int *decpt)
{
	int n = 0;
	const char *t = buf;

	for (; *t != 'e'; t++)
		if (*t >= '0' && *t <= '9')
			dig[n++] = *t;
	*decpt = atoi(t + 1) + 1;
	while (n > 1 && dig[n - 1] == '0')
		n--;
	dig[n] = '\0';
	return n;
}

/*
 * repr(v) the slow way: the fewest digits n whose correctly rounded n-digit
 * decimal reads back as v.  When the interval around v is symmetric, the
 * (n+1)-digit nearest decimal is at least as near as the n-digit one, so
 * "reads back" is monotone in n and a binary search finds the first n.  At a
 * power of two (the gap below is half the gap above) every n is tried in
 * turn, and with it the next decimal up when the nearest is below v.
 */
static void ref_repr(double v, char *out)
{
	char buf[64], dig[32];
	int n, decpt, nd;
	uint64_t b = to_bits(v);
	int pow2 = (b & 0x000FFFFFFFFFFFFFu) == 0 && ((b >> 52) & 0x7FF) > 1;

	if (v == 0) {
		strcpy(out, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	if (!pow2) {
		/* Most doubles need 16 or 17 digits: look there first. */
		int lo = 1, hi = 17;
		if (!ref_trips(v, 16, buf, sizeof buf))
			lo = 17;
		else if (!ref_trips(v, 15, buf, sizeof buf))
			lo = hi = 16;
		else
			hi = 15;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (ref_trips(v, mid, buf, sizeof buf))
				hi = mid;
			else
				lo = mid + 1;
		}
		ref_trips(v, lo, buf, sizeof buf);
		nd = ref_split(buf, dig, &decpt);
	} else {
		for (n = 1; n <= 17; n++) {
			if (ref_trips(v, n, buf, sizeof buf))
				break;
			if (fabs(strtod(buf, NULL)) < fabs(v)) {
				/* the next n-digit decimal up, by hand */
				char up[64];
				int i, ndig = ref_split(buf, dig, &decpt);
				while (ndig < n)
					dig[ndig++] = '0';
				dig[ndig] = '\0';
				for (i = ndig - 1; i >= 0 && dig[i] == '9'; i--)
					dig[i] = '0';
				if (i < 0) {
					memmove(dig + 1, dig, (size_t)ndig + 1);
					dig[0] = '1';
					decpt++;
				} else {
					dig[i]++;
				}
				snprintf(up, sizeof up, "%s0.%se%d", v < 0 ? "-" : "", dig, decpt);
				if (strtod(up, NULL) == v) {
					snprintf(buf, sizeof buf, "%s", up);
					break;
				}
			}
		}
		if (strstr(buf, "0.") == buf || strstr(buf, "-0.") == buf) {
			/* the "up" spelling: 0.DIGITSeDECPT */
			const char *t = strchr(buf, '.') + 1;
			nd = 0;
			while (*t != 'e')
				dig[nd++] = *t++;
			decpt = atoi(t + 1);
			while (nd > 1 && dig[nd - 1] == '0')
				nd--;
			dig[nd] = '\0';
		} else {
			nd = ref_split(buf, dig, &decpt);
		}
	}

	/* Python's layout (float_repr_style 'short', format code 'r'). */
	char *p = out;
	if (v < 0)
		*p++ = '-';
	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {
			p += sprintf(p, "0.");
			for (int i = 0; i < -decpt; i++)
				*p++ = '0';
			p += sprintf(p, "%s", dig);
		} else if (decpt >= nd) {
			p += sprintf(p, "%s", dig);
			for (int i = nd; i < decpt; i++)
				*p++ = '0';
			p += sprintf(p, ".0");
		} else {
			p += sprintf(p, "%.*s.%s", decpt, dig, dig + decpt);
		}
	} else {
		*p++ = dig[0];
		if (nd > 1)
			p += sprintf(p, ".%s", dig + 1);
		p += sprintf(p, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
	}
	*p = '\0';
}

/* ---- formatting ---------------------------------------------------- */

static const struct {
	double v;
	const char *text;
} known[] = {
	{ -2.581446647644043, "-2.581446647644043" },
	{ 11.245864868164062, "11.245864868164062" },
	{ (double)0.1f, "0.10000000149011612" },
	{ 1e-05, "1e-05" },
	{ 1.401298464324817e-45, "1.401298464324817e-45" },
	{ (double)FLT_MAX, "3.4028234663852886e+38" },
	{ -0.0, "-0.0" },
	{ 0.0, "0.0" },
	{ 1.0, "1.0" },
	{ 1e16, "1e+16" },
	{ 1e15, "1000000000000000.0" },
	{ 1234567890123456.0, "1234567890123456.0" },
	{ 0.0001, "0.0001" },
	{ 0.00012, "0.00012" },
	{ 9.999999999999999e-05, "9.999999999999999e-05" },
	{ 100.0, "100.0" },
	{ 0.1, "0.1" },
	{ 0.3, "0.3" },
	{ 0.1 + 0.2, "0.30000000000000004" },
	{ 2.5e-07, "2.5e-07" },
	{ 1.5e300, "1.5e+300" },
	{ 5e-324, "5e-324" },
	{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
	{ 1.7976931348623157e308, "1.7976931348623157e+308" },
	{ 9007199254740992.0, "9007199254740992.0" },
	{ 9007199254740994.0, "9007199254740994.0" },
	{ 1e17, "1e+17" },
	{ 123456789012345680.0, "1.2345678901234568e+17" },
	{ 9999999999999998.0, "9999999999999998.0" },
	{ 0.5, "0.5" },
	{ -1.5, "-1.5" },
	{ 1e23, "1e+23" },
	{ 2e23, "2e+23" },
	{ 8.41e21, "8.41e+21" },
	{ 5e-310, "5e-310" },
	{ 0.00392156862745098, "0.00392156862745098" },
	{ 0.9921568627450981, "0.9921568627450981" },
	{ 4.35, "4.35" },
	{ 2.0 / 3.0, "0.6666666666666666" },
	{ 1e22, "1e+22" },
	{ 1e-7, "1e-07" },
	{ 123e-310, "1.23e-308" },
};

static void test_format_known(void)
{
	char buf[NUM_FORMAT_MAX], ref[64];

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		size_t n = num_format(known[i].v, buf);
		CHECK_STR(buf, known[i].text);
		CHECK_INT(n, strlen(known[i].text));
		ref_repr(known[i].v, ref);
		CHECK_STR(ref, known[i].text);
	}
}

static void test_format_nonfinite(void)
{
	char buf[NUM_FORMAT_MAX];
	const double bad[] = { NAN, -NAN, INFINITY, -INFINITY, from_bits(0x7FF0000000000001u) };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(buf, "junk", 5);
		CHECK_INT(num_format(bad[i], buf), 0);
		CHECK_STR(buf, "");
	}
}

/* Every line of fixtures/floats.tsv: Python wrote the text, both ways. */
static void test_floats_tsv(void)
{
	FILE *f = fopen("fixtures/floats.tsv", "r");
	char line[1024], buf[NUM_FORMAT_MAX], ref[64];
	int lines = 0, bad_fmt = 0, bad_ref = 0, bad_parse = 0;

	CHECK(f != NULL);
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned bits;
		char text[64];
		float fl;
		double want, got;

		if (line[0] == '#')
			continue;
		if (sscanf(line, "%8x\t%63s", &bits, text) != 2) {
			CHECKF(0, "floats.tsv: bad line \"%s\"", line);
			continue;
		}
		lines++;
		memcpy(&fl, &bits, sizeof fl);
		want = (double)fl;
		num_format(want, buf);
		if (strcmp(buf, text) != 0 && bad_fmt++ < 5)
			CHECKF(0, "%08x: num_format \"%s\", Python \"%s\"", bits, buf, text);
		ref_repr(want, ref);
		if (strcmp(ref, text) != 0 && bad_ref++ < 5)
			CHECKF(0, "%08x: reference \"%s\", Python \"%s\"", bits, ref, text);
		if (parse_str(text, NUM_JSON, &got) != NUM_OK || to_bits(got) != to_bits(want) ||
		    memcmp(&(float){ (float)got }, &bits, 4) != 0) {
			if (bad_parse++ < 5)
				CHECKF(0, "%08x: num_parse(\"%s\") = %.17g", bits, text, got);
		}
	}
	fclose(f);
	CHECKF(lines >= 10000, "only %d lines", lines);
	CHECK_INT(bad_fmt, 0);
	CHECK_INT(bad_ref, 0);
	CHECK_INT(bad_parse, 0);
}

static int format_matches(double v, int *shown)
{
	char buf[NUM_FORMAT_MAX], ref[64];
	double back;

	num_format(v, buf);
	ref_repr(v, ref);
	if (strcmp(buf, ref) != 0) {
		if ((*shown)++ < 5)
			CHECKF(0, "%016llx: num_format \"%s\", reference \"%s\"",
			       (unsigned long long)to_bits(v), buf, ref);
		return 0;
	}
	if (parse_str(buf, NUM_JSON, &back) != NUM_OK || to_bits(back) != to_bits(v)) {
		if ((*shown)++ < 5)
			CHECKF(0, "\"%s\" does not read back", buf);
		return 0;
	}
	return 1;
}

/* Random bit patterns (every exponent), random float32 values widened. */
static void test_format_random(void)
{
	int shown = 0;
	long bad = 0;

	for (long i = 0; i < 250000 / SCALE; i++) {
		double v = from_bits(unit_rand());
		if (isfinite(v))
			bad += !format_matches(v, &shown);
	}
	for (long i = 0; i < 500000 / SCALE; i++) {
		uint32_t fb = (uint32_t)unit_rand();
		float fl;
		memcpy(&fl, &fb, sizeof fl);
		if (isfinite(fl))
			bad += !format_matches((double)fl, &shown);
	}
	CHECK_INT(bad, 0);
}

/* Each of the 2047 exponents with the mantissas that change the algorithm's
 * path: 0 (a power of two), 1, the largest, small integers' patterns and a
 * few random ones, both signs. */
static void test_format_every_exponent(void)
{
	int shown = 0;
	long bad = 0;
	const uint64_t mant_max = ((uint64_t)1 << 52) - 1;

	for (uint64_t be = 0; be < 0x7FF; be++) {
		uint64_t ms[12] = { 0, 1, 2, 3, mant_max, mant_max - 1, (uint64_t)1 << 51,
				    ((uint64_t)1 << 51) + 1 };
		for (int j = 8; j < 12; j++)
			ms[j] = unit_rand() & mant_max;
		for (int j = 0; j < 12; j++) {
			double v = from_bits(be << 52 | ms[j]);
			bad += !format_matches(v, &shown);
			bad += !format_matches(-v, &shown);
		}
	}
	/* Integers and short decimals, which hit the exact-product branch. */
	for (int i = 1; i <= 50000 / SCALE; i++) {
		bad += !format_matches((double)i, &shown);
		bad += !format_matches((double)i / 1024, &shown);
		bad += !format_matches((double)i * 1e-3, &shown);
		bad += !format_matches((double)unit_rand_below((uint64_t)1 << 53) * 1024, &shown);
	}
	CHECK_INT(bad, 0);
}

/* The slow path that to_decimal's undecided case would take. */
static void test_format_slow_path(void)
{
	long bad = 0;

	for (int i = 0; i < 20000 / SCALE; i++) {
		uint64_t b = unit_rand() & 0x7FFFFFFFFFFFFFFFu;
		if (i % 4 == 0)         /* powers of two: the asymmetric interval */
			b &= ~(uint64_t)0x000FFFFFFFFFFFFFu;
		if ((b >> 52) == 0x7FF || b == 0)
			continue;
		uint64_t m = b & 0x000FFFFFFFFFFFFFu, d1, d2;
		int be = (int)(b >> 52), e1, e2;
		CHECK(to_decimal(m, be, &d1, &e1) == 0);
		to_decimal_slow(from_bits(b), m == 0 && be > 1, &d2, &e2);
		while (d1 % 10 == 0) {
			d1 /= 10;
			e1++;
		}
		while (d2 % 10 == 0) {
			d2 /= 10;
			e2++;
		}
		if (d1 != d2 || e1 != e2) {
			if (bad++ < 5)
				CHECKF(0, "%016llx: fast %llue%d, slow %llue%d", (unsigned long long)b,
				       (unsigned long long)d1, e1, (unsigned long long)d2, e2);
		}
	}
	CHECK_INT(bad, 0);
}

/* The constants in floor_log10_pow2 & co., for every argument used, against
 * long double logarithms whose error (< 1e-15 here) is far below the
 * distance of each product from an integer (checked > 1e-9). */
static void test_log_constants(void)
{
	long double l10_2 = log10l(2.0L), l10_34 = log10l(0.75L), l2_10 = log2l(10.0L);
	int bad = 0;

	for (int q = -1074; q <= 971; q++) {
		long double t = q * l10_2, t3 = q * l10_2 + l10_34;
		if (q != 0)
			CHECKF(fabsl(t - roundl(t)) > 1e-9L, "q=%d", q);
		CHECKF(fabsl(t3 - roundl(t3)) > 1e-9L, "q=%d (3/4)", q);
		bad += floor_log10_pow2(q) != (int)floorl(t);
		bad += floor_log10_3q_pow2(q) != (int)floorl(t3);
		for (int closer = 0; closer < 2; closer++) {
			int k = closer ? floor_log10_3q_pow2(q) : floor_log10_pow2(q);
			int h = q + floor_log2_pow10(-k);
			bad += h < 0 || h > 3 || -k < G_MIN || -k > G_MAX;
		}
	}
	for (int e = G_MIN; e <= G_MAX; e++) {
		long double t = e * l2_10;
		if (e != 0)
			CHECKF(fabsl(t - roundl(t)) > 1e-9L, "e=%d", e);
		bad += floor_log2_pow10(e) != (int)floorl(t);
	}
	CHECK_INT(bad, 0);
}

/* The power table, each entry computed on first use: normalised, exact
 * where 10^e fits, and 10^e itself to the precision of a long double
 * elsewhere. */
static void test_pow10_table(void)
{
	int bad = 0;
	u128 p = 1;

	for (int e = G_MIN; e <= G_MAX; e++) {
		u128 g = g_of(e);
		bad += (g >> 127) != 1;
		/* g * 2^r with r = floor(log2 10^e) - 127, compared in long double */
		long double approx = ldexpl((long double)g, floor_log2_pow10(e) - 127);
		long double want = powl(10.0L, (long double)e);
		bad += fabsl(approx / want - 1) > 1e-17L;
	}
	for (int e = 0; e <= 38; e++) {         /* 10^38 < 2^128: exact */
		u128 g = p;
		while (!(g >> 127))
			g <<= 1;
		bad += g_of(e) != g;
		p *= 10;
	}
	CHECK_INT(bad, 0);
}

/* ---- parsing ------------------------------------------------------- */

/* num_parse(s) must be strtod(s): the same bits, or NUM_ERANGE for inf. */
static int parse_matches(const char *s, enum num_grammar g, int *shown)
{
	double got = 12345, want = strtod(s, NULL);
	enum num_status st = parse_str(s, g, &got);

	if (isinf(want)) {
		if (st == NUM_ERANGE)
			return 1;
	} else if (st == NUM_OK && to_bits(got) == to_bits(want)) {
		return 1;
	}
	if ((*shown)++ < 5)
		CHECKF(0, "\"%s\": status %d, %.17g (%016llx); strtod %.17g (%016llx)", s,
		       (int)st, got, (unsigned long long)to_bits(got), want,
		       (unsigned long long)to_bits(want));
	return 0;
}

static void test_parse_edges(void)
{
	static const char *const cases[] = {
		"0", "-0", "0.0", "-0.0", "0e0", "-0e-5", "0.000", "1", "-1", "1.5",
		"0.00392156862745098", "0.9921568627450981", "0.011764705882352941",
		"9007199254740992", "9007199254740993", "9007199254740994",
		"9007199254740995", "18014398509481985", "4503599627370497.5",
		"2.2250738585072011e-308", "2.2250738585072012e-308",
		"2.2250738585072014e-308", "2.225073858507201136057409796709131975934819546351645648e-308",
		"1.7976931348623157e308", "1.7976931348623158e308",
		"1.7976931348623159e308", "1.797693134862315807e308",
		"4.9406564584124654e-324", "2.4703282292062328e-324",
		"2.4703282292062327e-324", "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
		"1e-400", "-1e-400", "1e999", "-1e999", "1e308", "1e309",
		"1e000000000000000000001", "1e-000000000000000000001",
		"1e+99999999999999999999", "1e-99999999999999999999",
		"0e99999999999999999999", "123456789012345678901234567890",
		"1.00000000000000000000000000000", "0.000000000000000000000000000001234",
		"1e22", "1e23", "9e22", "1.5e27", "123456789e-27", "12345678901234567890e-20",
		"1844674407370955161.5", "9999999999999999999", "99999999999999999999",
		"3.4028234663852886e+38", "1.401298464324817e-45", "11.245864868164062",
		"-2.581446647644043", "0.10000000149011612", "1e-05", "1e+16",
		"1000000000000000.0", "0.0001", "7.2057594037927933e16",
	};
	int shown = 0, bad = 0;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bad += !parse_matches(cases[i], NUM_JSON, &shown);
		bad += !parse_matches(cases[i], NUM_CSV, &shown);
	}
	CHECK_INT(bad, 0);

	double d = 1;
	CHECK_INT(parse_str("-0.0", NUM_JSON, &d), NUM_OK);
	CHECK(d == 0 && signbit(d));
	CHECK_INT(parse_str("1e999", NUM_JSON, &d), NUM_ERANGE);
	CHECK_INT(parse_str("1.7976931348623159e308", NUM_JSON, &d), NUM_ERANGE);
	CHECK_INT(parse_str("-1e1000000000000", NUM_CSV, &d), NUM_ERANGE);
	CHECK_INT(parse_str("1e-400", NUM_JSON, &d), NUM_OK);
	CHECK(d == 0 && !signbit(d));
	CHECK_INT(parse_str("-1e-400", NUM_JSON, &d), NUM_OK);
	CHECK(d == 0 && signbit(d));
	CHECK_INT(parse_str("4.9406564584124654e-324", NUM_JSON, &d), NUM_OK);
	CHECK(to_bits(d) == 1);
	CHECK_INT(parse_str("1e000000000000000000001", NUM_JSON, &d), NUM_OK);
	CHECK(d == 10);
}

static void test_parse_syntax(void)
{
	static const char *const json_bad[] = {
		"", "-", "+", "+1", "01", "-01", "00", "1.", ".5", "-.5", "1e", "1e+",
		"1e-", "e5", "0x10", "Infinity", "-Infinity", "NaN", "nan", "inf",
		" 1", "1 ", "1,", "1.5.5", "1e5.5", "--1", "1ee5", "1.e5", "1..5",
		"\t1", "١", "1\0", "1_000", "1e5e5", ".", "-.", "0.5x",
	};
	static const char *const csv_bad[] = {
		"", " ", "\t", "-", "+", ".", "-.", "+.", "1e", "1e+", "e5", "0x10",
		"1.5.5", "1 2", "- 1", "1e 5", "--1", "+-1", "nana", "in", "infinit",
		"infinityy", "na", "1,5", "1e5.5", "inf1", "nan1",
	};
	static const char *const csv_nonfinite[] = {
		"nan", "NaN", "NAN", "-nan", "+nan", "inf", "-inf", "+inf", "Inf",
		"INF", "infinity", "Infinity", "-Infinity", "INFINITY", " nan ",
		"\tinf",
	};
	static const char *const csv_good[] = {
		"+1", "1.", ".5", "-.5", "+.5", "01", "007.50", " 1", "1 ", "\t 2.5 \t",
		"  -3e2  ", "1.e5", "+0", "-0.", "00000000000000000000000000001",
	};
	double d;

	for (size_t i = 0; i < sizeof json_bad / sizeof json_bad[0]; i++) {
		/* "1\0" is two bytes: a NUL inside the span is not a number */
		size_t len = strcmp(json_bad[i], "1") == 0 ? 2 : strlen(json_bad[i]);
		CHECKF(num_parse(json_bad[i], json_bad[i] + len, NUM_JSON, &d) == NUM_ESYNTAX,
		       "JSON \"%s\"", json_bad[i]);
	}
	for (size_t i = 0; i < sizeof csv_bad / sizeof csv_bad[0]; i++)
		CHECKF(parse_str(csv_bad[i], NUM_CSV, &d) == NUM_ESYNTAX, "CSV \"%s\"", csv_bad[i]);
	for (size_t i = 0; i < sizeof csv_nonfinite / sizeof csv_nonfinite[0]; i++) {
		CHECKF(parse_str(csv_nonfinite[i], NUM_CSV, &d) == NUM_ENONFINITE, "CSV \"%s\"",
		       csv_nonfinite[i]);
		CHECKF(parse_str(csv_nonfinite[i], NUM_JSON, &d) == NUM_ESYNTAX, "JSON \"%s\"",
		       csv_nonfinite[i]);
	}
	for (size_t i = 0; i < sizeof csv_good / sizeof csv_good[0]; i++) {
		d = 12345;
		CHECKF(parse_str(csv_good[i], NUM_CSV, &d) == NUM_OK && d == strtod(csv_good[i], NULL),
		       "CSV \"%s\" -> %g", csv_good[i], d);
		/* none of these is RFC 8259 */
		CHECKF(parse_str(csv_good[i], NUM_JSON, &d) == NUM_ESYNTAX, "JSON \"%s\"",
		       csv_good[i]);
	}
	CHECK_INT(parse_str("-0.", NUM_CSV, &d), NUM_OK);
	CHECK(d == 0 && signbit(d));
	/* The span is the number: bytes past end are not looked at. */
	CHECK_INT(num_parse("12345", "12345" + 2, NUM_JSON, &d), NUM_OK);
	CHECK(d == 12);
	CHECK_INT(num_parse("0.5", "0.5" + 2, NUM_JSON, &d), NUM_ESYNTAX);
}

static void test_parse_long(void)
{
	char buf[NUM_MAX_TEXT + 64];
	double d;
	int shown = 0;

	/* NUM_MAX_TEXT bytes is allowed, one more is not. */
	memset(buf, '1', sizeof buf);
	buf[1] = '.';
	buf[NUM_MAX_TEXT] = '\0';
	CHECK(parse_matches(buf, NUM_JSON, &shown));
	CHECK_INT(num_parse(buf, buf + NUM_MAX_TEXT + 1, NUM_JSON, &d), NUM_ETOOLONG);
	CHECK_INT(num_parse(buf, buf + sizeof buf, NUM_CSV, &d), NUM_ETOOLONG);

	/* 2^53 + 1 (halfway), then a 1 a thousand digits later: rounds up;
	 * without it, to even. */
	strcpy(buf, "9007199254740993.");
	memset(buf + 17, '0', 999);
	strcpy(buf + 1016, "1");
	CHECK(parse_matches(buf, NUM_JSON, &shown));
	CHECK(parse_str(buf, NUM_JSON, &d) == NUM_OK && d == 9007199254740994.0);
	buf[1016] = '0';
	CHECK(parse_matches(buf, NUM_JSON, &shown));
	CHECK(parse_str(buf, NUM_JSON, &d) == NUM_OK && d == 9007199254740992.0);

	/* a long run of leading zeros is not significant */
	memset(buf, '0', 1000);
	buf[1] = '.';
	strcpy(buf + 1000, "15");
	CHECK(parse_matches(buf, NUM_JSON, &shown));
	/* many exponent digits */
	strcpy(buf, "1.5e");
	memset(buf + 4, '0', 900);
	strcpy(buf + 904, "7");
	CHECK(parse_matches(buf, NUM_JSON, &shown));
	CHECK(parse_str(buf, NUM_JSON, &d) == NUM_OK && d == 1.5e7);
}

/* A decimal in JSON's grammar: 1-25 digits, a point somewhere or nowhere,
 * maybe an exponent in -350..350 (mostly small, where the fast paths are). */
static void random_decimal(char *buf)
{
	char *p = buf;
	int nd = 1 + (int)unit_rand_below(25), point = (int)unit_rand_below((uint64_t)nd + 1);

	if (unit_rand() & 1)
		*p++ = '-';
	if (point == 0) {
		*p++ = '0';
		*p++ = '.';
		int zeros = (int)unit_rand_below(4) == 0 ? (int)unit_rand_below(30) : 0;
		while (zeros--)
			*p++ = '0';
	}
	for (int i = 0; i < nd; i++) {
		if (i == point && point > 0)
			*p++ = '.';
		int digit = (int)unit_rand_below(10);
		if (i == 0 && point != 0 && digit == 0)
			digit = 1 + (int)unit_rand_below(9);
		*p++ = (char)('0' + digit);
	}
	switch (unit_rand_below(3)) {
	case 0:
		break;
	case 1:
		p += sprintf(p, "e%d", (int)unit_rand_below(61) - 30);
		break;
	default:
		p += sprintf(p, unit_rand() & 1 ? "E%+d" : "e%d", (int)unit_rand_below(701) - 350);
		break;
	}
	*p = '\0';
}

static void test_parse_random(void)
{
	char buf[128];
	int shown = 0;
	long bad = 0;

	for (long i = 0; i < 600000 / SCALE; i++) {
		random_decimal(buf);
		double d;
		if (parse_str(buf, NUM_JSON, &d) == NUM_ESYNTAX) {
			if (shown++ < 5)
				CHECKF(0, "\"%s\" refused", buf);
			bad++;
			continue;
		}
		bad += !parse_matches(buf, NUM_JSON, &shown);
		bad += !parse_matches(buf, NUM_CSV, &shown);
	}
	/* Shortest reprs of random doubles and floats read back exactly. */
	for (long i = 0; i < 100000 / SCALE; i++) {
		double v = from_bits(unit_rand());
		if (!isfinite(v))
			continue;
		num_format(v, buf);
		bad += !parse_matches(buf, NUM_JSON, &shown);
		snprintf(buf, sizeof buf, "%.17g", v);
		bad += !parse_matches(buf, NUM_CSV, &shown);
		snprintf(buf, sizeof buf, "%.*e", (int)unit_rand_below(25), v);
		bad += !parse_matches(buf, NUM_JSON, &shown);
	}
	CHECK_INT(bad, 0);
}

/*
 * The x87 path's one trap: the 64-bit result landing exactly halfway
 * between two doubles.  Exact halves (2^53 + 1 and friends: the midpoints of
 * doubles in [2^50, 2^64) are short decimals) and inexact quotients that
 * round to the pattern, found by search, must all match strtod.
 */
static void test_parse_halfway(void)
{
	char buf[64];
	int shown = 0, found = 0;
	long bad = 0;

	for (int i = 0; i < 20000 / SCALE; i++) {
		/* a double in [2^50, 2^64), its upper neighbour's midpoint, +-1 ulp of text */
		int e = 50 + (int)unit_rand_below(14);
		double v = ldexp(1.0 + (double)(unit_rand() >> 12) * 0x1p-52, e);
		long double mid = ((long double)v + (long double)nextafter(v, INFINITY)) / 2;
		snprintf(buf, sizeof buf, "%.6Lf", mid);
		/* strip the zero fraction digits, keep ".5", ".25", ".125" */
		char *t = buf + strlen(buf);
		while (t[-1] == '0')
			*--t = '\0';
		if (t[-1] == '.')
			*--t = '\0';
		bad += !parse_matches(buf, NUM_JSON, &shown);
		t[-1] = (char)(t[-1] == '9' ? '8' : t[-1] + 1);
		bad += !parse_matches(buf, NUM_JSON, &shown);
	}
#if NUM_X87
	for (long i = 0; found < 300 / SCALE + 20 && i < 20000000; i++) {
		uint64_t w = (unit_rand() >> 4) % 10000000000000000000u;
		int q = (int)unit_rand_below(55) - 27;
		long double x = (long double)w;
		uint64_t mant;
		if (w <= (uint64_t)1 << 53 && q >= -22 && q <= 22)
			continue;               /* Clinger's path: no double rounding */
		x = q < 0 ? x / pow10_ldbl[-q] : x * pow10_ldbl[q];
		memcpy(&mant, &x, sizeof mant);
		if ((mant & 0x7FF) != 0x400)
			continue;
		found++;
		snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)w, q);
		bad += !parse_matches(buf, NUM_JSON, &shown);
	}
	CHECKF(found >= 20, "found %d", found);
#endif
	CHECK_INT(bad, 0);
	(void)found;
}

/* The SWAR digit reader against the byte-at-a-time one. */
static void test_eight_digits(void)
{
#if NUM_SWAR
	int bad = 0;

	for (int i = 0; i < 200000 / SCALE; i++) {
		unsigned char b[8];
		uint64_t v;
		uint32_t want = 0;
		for (int j = 0; j < 8; j++)
			b[j] = (unsigned char)('0' + unit_rand_below(10));
		if (i % 2) {            /* one byte changed to anything */
			int at = (int)unit_rand_below(8);
			b[at] = (unsigned char)unit_rand_below(256);
		}
		int all = 1;
		for (int j = 0; j < 8; j++) {
			all &= b[j] >= '0' && b[j] <= '9';
			want = want * 10 + (uint32_t)(b[j] - '0');
		}
		memcpy(&v, b, 8);
		bad += eight_digits(v) != all;
		if (all)
			bad += eight_value(v) != want;
	}
	/* every byte value at every position */
	for (int at = 0; at < 8; at++) {
		for (int c = 0; c < 256; c++) {
			unsigned char b[8];
			uint64_t v;
			memset(b, '9', 8);
			b[at] = (unsigned char)c;
			memcpy(&v, b, 8);
			bad += eight_digits(v) != (c >= '0' && c <= '9');
		}
	}
	CHECK_INT(bad, 0);
#endif
}

/* The decoder's one-pass form: the number, and where it stops. */
static void test_parse_prefix(void)
{
	static const struct { const char *text; int ok; size_t len; double v; } cases[] = {
		{ "0.5,1", 1, 3, 0.5 }, { "-12]", 1, 3, -12.0 }, { "1e3 ", 1, 3, 1000.0 },
		{ "2.5E-1}", 1, 6, 0.25 }, { "0.00392156862745098,", 1, 19, 0.00392156862745098 },
		{ "7", 1, 1, 7.0 }, { "1.2.3", 1, 3, 1.2 }, { "-", 0, 0, 0 }, { "01", 0, 0, 0 },
		{ "1.", 0, 0, 0 }, { ".5", 0, 0, 0 }, { "1e", 0, 0, 0 }, { "+1", 0, 0, 0 }, { "x", 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *t = cases[i].text, *stop = NULL;
		double d = 0;
		enum num_status st = num_parse_json_prefix(t, t + strlen(t), &d, &stop);
		CHECKF((st == NUM_OK) == cases[i].ok, "%s: status %d", t, st);
		if (st == NUM_OK)
			CHECKF(stop == t + cases[i].len && d == cases[i].v, "%s: stop %td, %.17g", t, stop - t, d);
	}
	/* Longer than NUM_MAX_TEXT: cut, so the stop lands inside the digits. */
	static char big[NUM_MAX_TEXT + 10];
	memset(big, '1', sizeof big - 1);
	const char *stop = NULL;
	double d;
	if (num_parse_json_prefix(big, big + strlen(big), &d, &stop) == NUM_OK)
		CHECK(stop == big + NUM_MAX_TEXT && *stop == '1');
}

int main(void)
{
	RUN(test_format_known);
	RUN(test_format_nonfinite);
	RUN(test_floats_tsv);
	RUN(test_format_random);
	RUN(test_format_every_exponent);
	RUN(test_format_slow_path);
	RUN(test_log_constants);
	RUN(test_pow10_table);
	RUN(test_parse_edges);
	RUN(test_parse_syntax);
	RUN(test_parse_long);
	RUN(test_parse_random);
	RUN(test_parse_halfway);
	RUN(test_eight_digits);
	RUN(test_parse_prefix);
	return unit_done();
}
