/*
 * num.c - decimal text to double and back, exactly and without malloc.
 *
 * num_parse reads the digits once, eight at a time where it can, into a
 * 64-bit integer w and a decimal exponent q (value = w * 10^q), then takes
 * the first exact path that applies:
 *
 *  1. Clinger: w <= 2^53 and |q| <= 22.  w and 10^|q| are exact doubles, so
 *     one IEEE multiply or divide rounds once: the correctly rounded result.
 *  2. x87 extended precision: w < 2^64 and |q| <= 27.  w and 10^|q| are
 *     exact 64-bit-mantissa long doubles (5^27 < 2^64), so one operation
 *     gives x, the exact value rounded to 64 bits; rounding x to 53 bits is
 *     right unless x is exactly halfway between two doubles (its 11 low
 *     bits 0x400), where the first rounding may have moved it there.  Those
 *     few go to 3.  The results are >= 1e-27 and < 2^64 * 10^27: never
 *     subnormal or infinite, so the 53-bit grid is the only one to think of.
 *  3. glibc strtod, which is exact for any length, on a canonical copy of
 *     the digits with no decimal point ("[-]DIGITSe[-]N"): a locale whose
 *     decimal point is not '.' reads that text the same way, so the process
 *     locale does not matter.  All three paths assume the default rounding
 *     mode (to nearest) and, for 2, the default x87 precision (64 bits).
 *
 * num_format is Schubfach (R. Giulietti, "The Schubfach way to render
 * doubles", 2020): with v = c * 2^q and its rounding interval R_v, pick k
 * so that 10^k <= |R_v| < 10^(k+1); then among the multiples of 10^(k+1)
 * at most one lies in R_v, and if none does, the two multiples of 10^k
 * around v include the closest member of R_v.  Those four candidates need
 * 4v/10^k and the two interval ends, scaled the same way, rounded to odd:
 * one 64x128-bit multiply each by a 128-bit upper approximation g of
 * 10^-k.  The table of g is computed once from exact big integers.  The
 * rounding is exact here: the full 192-bit product is at most 2^-68 above
 * the true value, so the result is certain unless the product lands within
 * 2^-68 of an integer; then an exact divisibility test says whether the
 * true value is that integer, and if it is not (no double is known to get
 * there) the slow path prints with snprintf and checks with num_parse.
 */
#include "model/num.h"

#include <float.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NUM_SWAR 1
#else
#define NUM_SWAR 0
#endif

/* The x87 80-bit format: a 64-bit significand, stored first in memory. */
#if LDBL_MANT_DIG == 64 && (defined(__x86_64__) || defined(__i386__))
#define NUM_X87 1
#else
#define NUM_X87 0
#endif

__extension__ typedef unsigned __int128 u128;

/* ---- parsing ------------------------------------------------------- */

static int is_digit(char c)
{
	return (unsigned char)c - (unsigned)'0' < 10u;
}

#if NUM_SWAR
/* True when all 8 bytes are '0'..'9': each byte's high nibble is 3, and
 * stays 3 after adding 6 (which carries out of the low nibble for 0x3A..).
 * A byte >= 0xFA can carry into its neighbour, but it has already failed. */
static int eight_digits(uint64_t v)
{
	uint64_t hi = v & 0xF0F0F0F0F0F0F0F0u;
	uint64_t hi6 = (v + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u;
	return (hi | hi6 >> 4) == 0x3333333333333333u;
}

/* The value of 8 ASCII digits, first digit in the lowest byte.  With d_i in
 * byte i: v*10 + (v >> 8) puts 10*d_i + d_(i+1) (<= 99, no carry) in each
 * even byte; bytes 0 and 4 hold pairs P0 and P2, bytes 2 and 6 hold P1 and
 * P3.  Multiplying (P0 + P2*2^32) by (100 + 10^6*2^32) leaves
 * P0*10^6 + P2*100 in the upper 32 bits, (P1 + P3*2^32) by
 * (1 + 10^4*2^32) leaves P1*10^4 + P3; the low halves (< 10^4) do not
 * carry into them. */
static uint32_t eight_value(uint64_t v)
{
	const uint64_t mask = 0x000000FF000000FFu;

	v -= 0x3030303030303030u;
	v = v * 10 + (v >> 8);
	v = ((v & mask) * (100 + (1000000ull << 32)) +
	     ((v >> 16) & mask) * (1 + (10000ull << 32))) >> 32;
	return (uint32_t)v;
}
#endif

/* Append the digits at s to *w (wrapping past 19 digits; the caller counts
 * them) and return the first non-digit. */
static inline __attribute__((always_inline)) const char *
read_digits(const char *s, const char *end, uint64_t *w)
{
	uint64_t acc = *w;

#if NUM_SWAR
	while (end - s >= 8) {
		uint64_t chunk;
		memcpy(&chunk, s, 8);
		if (!eight_digits(chunk))
			break;
		acc = acc * 100000000u + eight_value(chunk);
		s += 8;
	}
#endif
	while (s < end && is_digit(*s)) {
		acc = acc * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*w = acc;
	return s;
}

/* pandas spells the non-finite values nan, inf and infinity, in any case. */
static enum num_status csv_word(const char *s, const char *end)
{
	static const char *const words[] = { "nan", "inf", "infinity" };
	size_t n = (size_t)(end - s);

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strlen(words[i]) != n)
			continue;
		size_t j = 0;
		while (j < n && (s[j] | 0x20) == words[i][j])
			j++;
		if (j == n)
			return NUM_ENONFINITE;
	}
	return NUM_ESYNTAX;
}

/*
 * More than 19 significant digits, or an exponent out of the fast paths'
 * reach.  digits..sig_end is the significand text (digits and at most one
 * '.'); its value is DIGITS * 10^(exp10 - nfrac).  |exp10| is capped at
 * 10^6 by the caller, which is far beyond any finite double either way.
 */
static __attribute__((noinline, cold)) enum num_status
parse_slow(int neg, const char *digits, const char *sig_end, long exp10,
	   long nfrac, double *out)
{
	char buf[NUM_MAX_TEXT + 16];
	size_t n = 0, nd;
	long e = exp10 - nfrac;
	const char *s = digits;

	if (neg)
		buf[n++] = '-';
	while (s < sig_end && (*s == '0' || *s == '.'))
		s++;
	nd = n;
	for (; s < sig_end; s++)
		if (*s != '.')
			buf[n++] = *s;
	while (n > nd && buf[n - 1] == '0') {
		n--;
		e++;
	}
	nd = n - nd;
	if (nd == 0) {          /* all zeros: the caller's fast path has these */
		*out = neg ? -0.0 : 0.0;
		return NUM_OK;
	}
	/* Value in [10^(e+nd-1), 10^(e+nd)): past DBL_MAX (1.8e308) or below
	 * half the least subnormal (2.5e-324) without asking strtod. */
	if (e + (long)nd > 310)
		return NUM_ERANGE;
	if (e + (long)nd < -330) {
		*out = neg ? -0.0 : 0.0;
		return NUM_OK;
	}
	buf[n++] = 'e';
	if (e < 0) {
		buf[n++] = '-';
		e = -e;
	}
	char *x = buf + n + (e >= 100) + (e >= 10);     /* |e| <= 1354 here */
	if (e >= 1000)
		x++;
	x[1] = '\0';
	do {
		*x-- = (char)('0' + e % 10);
		e /= 10;
	} while (e);
	double d = strtod(buf, NULL);
	if (d > DBL_MAX || d < -DBL_MAX)
		return NUM_ERANGE;
	*out = d;
	return NUM_OK;
}

static const double pow10_dbl[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#if NUM_X87
static const long double pow10_ldbl[] = {
	1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L,
	1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L,
	1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L, 1e26L, 1e27L,
};
#endif

/* The digits of an exponent, after the 'e': [+-]?[0-9]+ up to end.  Its
 * magnitude is capped near 10^7, beyond any finite double's reach. */
static __attribute__((noinline)) enum num_status read_exponent(const char *s, const char *end, long *exp10)
{
	long e = 0;
	int neg = 0;
	const char *e0;

	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	e0 = s;
	for (; s < end && is_digit(*s); s++)
		if (e < 1000000)
			e = e * 10 + (*s - '0');
	if (s == e0 || s != end)
		return NUM_ESYNTAX;
	*exp10 = neg ? -e : e;
	return NUM_OK;
}

/* num_parse for one grammar; inlined twice so that JSON's hot path carries
 * no CSV tests. */
/* An exponent's digits after 'e', stopping at the first non-digit; NULL
 * when there are none. */
static const char *exponent_prefix(const char *s, const char *end, long *exp10)
{
	long e = 0;
	int neg = 0;

	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	const char *e0 = s;
	for (; s < end && is_digit(*s); s++)
		if (e < 1000000)
			e = e * 10 + (*s - '0');
	if (s == e0)
		return NULL;
	*exp10 = neg ? -e : e;
	return s;
}

/* stop == NULL: the whole span must be the number.  Otherwise (JSON only)
 * the number may end early and *stop says where. */
static inline __attribute__((always_inline)) enum num_status
parse_span(const char *p, const char *end, int csv, const char **stop, double *out)
{
	const char *s = p, *digits, *sig_end;
	uint64_t w = 0;
	long nint, nfrac = 0, exp10 = 0, q;
	int neg = 0;

	if (s < end && (*s == '-' || (csv && *s == '+'))) {
		neg = *s == '-';
		s++;
	}
	digits = s;
	s = read_digits(s, end, &w);
	nint = s - digits;
	if (s < end && *s == '.') {
		const char *frac = ++s;
		s = read_digits(s, end, &w);
		nfrac = s - frac;
		if (nfrac == 0 && !csv)
			return NUM_ESYNTAX;
	}
	sig_end = s;
	if (nint + nfrac == 0)
		return csv && s == digits ? csv_word(s, end) : NUM_ESYNTAX;
	if (!csv && (nint == 0 || (nint > 1 && *digits == '0')))
		return NUM_ESYNTAX;
	if (s != end) {
		if ((*s | 0x20) != 'e') {
			if (!stop)
				return NUM_ESYNTAX;
		} else if (stop) {
			if (!(s = exponent_prefix(s + 1, end, &exp10)))
				return NUM_ESYNTAX;
		} else if (read_exponent(s + 1, end, &exp10) != NUM_OK) {
			return NUM_ESYNTAX;
		}
	}
	if (stop)
		*stop = s;

	if (nint + nfrac > 19) {
		/* w wrapped unless the digits past 19 were leading zeros. */
		long lead = 0;
		for (const char *t = digits; t < sig_end && (*t == '0' || *t == '.'); t++)
			lead += *t == '0';
		if (nint + nfrac - lead > 19)
			return parse_slow(neg, digits, sig_end, exp10, nfrac, out);
	}
	if (w == 0) {
		*out = neg ? -0.0 : 0.0;
		return NUM_OK;
	}
	q = exp10 - nfrac;
#if FLT_EVAL_METHOD == 0   /* double arithmetic rounds to double, once */
	if (w <= (uint64_t)1 << 53 && q >= -22 && q <= 22) {
		double d = (double)w;
		d = q < 0 ? d / pow10_dbl[-q] : d * pow10_dbl[q];
		*out = neg ? -d : d;
		return NUM_OK;
	}
#endif
#if NUM_X87
	if (q >= -27 && q <= 27) {
		long double x = (long double)w;
		uint64_t mant;
		x = q < 0 ? x / pow10_ldbl[-q] : x * pow10_ldbl[q];
		memcpy(&mant, &x, sizeof mant);
		if ((mant & 0x7FF) != 0x400) {
			double d = (double)x;
			*out = neg ? -d : d;
			return NUM_OK;
		}
	}
#endif
	return parse_slow(neg, digits, sig_end, exp10, nfrac, out);
}

static __attribute__((noinline)) enum num_status parse_csv(const char *p, const char *end, double *out)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return parse_span(p, end, 1, NULL, out);
}

enum num_status num_parse(const char *p, const char *end, enum num_grammar g, double *out)
{
	if (end - p > NUM_MAX_TEXT)
		return NUM_ETOOLONG;
	if (g == NUM_CSV)
		return parse_csv(p, end, out);
	return parse_span(p, end, 0, NULL, out);
}

enum num_status num_parse_json_prefix(const char *p, const char *end, double *out, const char **stop)
{
	/* A longer number is cut here, so *stop lands on a digit and the
	 * caller's delimiter check sends it to num_parse (NUM_ETOOLONG). */
	if (end - p > NUM_MAX_TEXT)
		end = p + NUM_MAX_TEXT;
	return parse_span(p, end, 0, stop, out);
}

/* ---- formatting ---------------------------------------------------- */

/* g(e) = ceil(10^e / 2^r), r chosen to put it in [2^127, 2^128), i.e.
 * r = floor(log2(10^e)) - 127; exact for 0 <= e <= 55.  An entry is
 * computed the first time a number needs it (a few microseconds at most)
 * and kept: a process formats numbers of a few magnitudes, and a CGI
 * process, which formats a handful, would pay for all 617 entries and
 * their pages otherwise. */
#define G_MIN (-292)    /* -k for the largest double: k = floor(971 log10 2) */
#define G_MAX 324       /* -k for the least subnormal, 2^-1074 */
#define BIG_WORDS 36    /* 1152 bits: 10^324 < 2^1077, and 2^BIG_TOP below */
#define BIG_TOP 1120    /* 2^BIG_TOP / 10^292 keeps more than 128 bits */
#define BIG_STEP 1000000000u    /* 10^9: the largest power of ten in a word */

static u128 g_table[G_MAX - G_MIN + 1];
static _Atomic unsigned char g_known[G_MAX - G_MIN + 1];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

/* 5^0 .. 5^27 (5^27 < 2^63). */
static const uint64_t pow5[28] = {
	1ull, 5ull, 25ull, 125ull, 625ull, 3125ull, 15625ull, 78125ull, 390625ull, 1953125ull, 9765625ull,
	48828125ull, 244140625ull, 1220703125ull, 6103515625ull, 30517578125ull, 152587890625ull,
	762939453125ull, 3814697265625ull, 19073486328125ull, 95367431640625ull, 476837158203125ull,
	2384185791015625ull, 11920928955078125ull, 59604644775390625ull, 298023223876953125ull,
	1490116119384765625ull, 7450580596923828125ull,
};

static int big_bitlen(const uint32_t *w)
{
	for (int i = BIG_WORDS - 1; i >= 0; i--)
		if (w[i])
			return 32 * i + 32 - __builtin_clz(w[i]);
	return 0;
}

/* The 32 bits of w from bit pos up; bits below bit 0 read as 0. */
static uint32_t big_bits32(const uint32_t *w, int pos)
{
	if (pos <= -32)
		return 0;
	if (pos < 0)
		return w[0] << -pos;
	int i = pos >> 5;
	uint64_t pair = w[i] | (i + 1 < BIG_WORDS ? (uint64_t)w[i + 1] << 32 : 0);
	return (uint32_t)(pair >> (pos & 31));
}

/* The 128 bits of w below bit `len` (its length); *rest: any bit lower. */
static u128 big_top128(const uint32_t *w, int len, int *rest)
{
	int lo = len - 128;
	u128 r = 0;

	for (int k = 3; k >= 0; k--)
		r = r << 32 | big_bits32(w, lo + 32 * k);
	*rest = 0;
	if (lo > 0) {
		for (int i = 0; i < lo >> 5 && !*rest; i++)
			*rest = w[i] != 0;
		if (lo & 31)
			*rest |= (w[lo >> 5] & (((uint32_t)1 << (lo & 31)) - 1)) != 0;
	}
	return r;
}

/* w = w * m, or floor(w / m) when divide is set. */
static void big_scale(uint32_t *w, uint32_t m, int divide)
{
	uint64_t carry = 0;

	if (divide) {
		for (int i = BIG_WORDS - 1; i >= 0; i--) {
			uint64_t cur = carry << 32 | w[i];
			w[i] = (uint32_t)(cur / m);
			carry = cur % m;
		}
		return;
	}
	for (int i = 0; i < BIG_WORDS; i++) {
		uint64_t t = (uint64_t)w[i] * m + carry;
		w[i] = (uint32_t)t;
		carry = t >> 32;
	}
}

/*
 * g(e) from scratch.  10^e for e >= 0 is exact: its top 128 bits, rounded
 * up.  10^-n: floor(2^BIG_TOP / 10^n) (floors of floors nest, so dividing
 * by 10^9 at a time is exact too), whose top 128 bits are
 * floor(2^(127+B) / 10^n) with 2^(B-1) < 10^n < 2^B; that quotient is
 * never exact, so +1 is the ceiling.
 */
static u128 g_compute(int e)
{
	uint32_t big[BIG_WORDS];
	int rest, divide = e < 0, left = divide ? -e : e;

	memset(big, 0, sizeof big);
	if (divide)
		big[BIG_TOP / 32] = (uint32_t)1 << (BIG_TOP % 32);
	else
		big[0] = 1;
	for (; left >= 9; left -= 9)
		big_scale(big, BIG_STEP, divide);
	if (left)
		big_scale(big, (uint32_t)pow5[left] << left, divide);
	u128 top = big_top128(big, big_bitlen(big), &rest);
	return divide ? top + 1 : top + (u128)rest;
}

static u128 g_of(int e)
{
	int i = e - G_MIN;

	if (!atomic_load_explicit(&g_known[i], memory_order_acquire)) {
		pthread_mutex_lock(&g_lock);
		if (!atomic_load_explicit(&g_known[i], memory_order_relaxed)) {
			g_table[i] = g_compute(e);
			atomic_store_explicit(&g_known[i], 1, memory_order_release);
		}
		pthread_mutex_unlock(&g_lock);
	}
	return g_table[i];
}

/* floor(x / 2^n) for negative x too, without relying on >> of negatives. */
static int floor_shift(int x, int n)
{
	return x >= 0 ? x >> n : -((-x + (1 << n) - 1) >> n);
}

/* floor(log10(2^q)), floor(log10(3/4 * 2^q)), floor(log2(10^e)): the
 * constants are 2^22 log10(2), 2^22 log10(4/3) and 2^19 log2(10), rounded
 * so that every q in [-1074, 971] and e in [-292, 324] comes out exact
 * (tests/unit/test_num.c checks each one). */
static int floor_log10_pow2(int q) { return floor_shift(q * 1262611, 22); }
static int floor_log10_3q_pow2(int q) { return floor_shift(q * 1262611 - 524031, 22); }
static int floor_log2_pow10(int e) { return floor_shift(e * 1741647, 19); }

/* Is x * 2^q * 10^-k an integer?  (x > 0, x < 2^56.) */
static int scaled_is_integer(uint64_t x, int q, int k)
{
	if (__builtin_ctzll(x) + q - k < 0)
		return 0;
	return k <= 0 || (k < 28 && x % pow5[k] == 0);
}

/*
 * X = x * 2^q * 10^-k rounded to odd: floor(X), plus 1 if X is not an
 * integer and the floor is even.  g is 10^-k * 2^-r rounded up, r chosen so
 * that x << h times g is X * 2^127 plus less than x << h < 2^59, i.e. at
 * most 2^-68 too much.  Sets *hard when that is not enough to decide.
 */
static uint64_t round_odd(u128 g, uint64_t x, int h, int q, int k, int *hard)
{
	uint64_t cp = x << h;
	u128 lo = (u128)(uint64_t)g * cp;
	u128 hi = (u128)(uint64_t)(g >> 64) * cp + (uint64_t)(lo >> 64);
	uint64_t n = (uint64_t)(hi >> 63);
	uint64_t frac_hi = (uint64_t)hi & (((uint64_t)1 << 63) - 1);

	/* Product fraction above 2^-68: X is in (n, n + 1), not an integer. */
	if (frac_hi != 0 || (uint64_t)lo > (uint64_t)1 << 59)
		return n | 1;
	/* X is within 2^-68 of n: it is n, or a case Schubfach's analysis
	 * says does not occur, which we do not take on trust. */
	if (scaled_is_integer(x, q, k))
		return n;
	*hard = 1;
	return 0;
}

/*
 * The shortest decimal digits*10^exp10 in the rounding interval of
 * c * 2^q (c < 2^53, biased exponent be), the closest to it if there are
 * several, ties to an even last digit.  Returns 0, or -1 for the slow path.
 */
static int to_decimal(uint64_t m, int be, uint64_t *digits, int *exp10)
{
	uint64_t c, vbl, vb, vbr, lower, upper, s;
	int q, k, h, closer, even, hard = 0;
	u128 g;

	if (be) {
		c = m | (uint64_t)1 << 52;
		q = be - 1075;
		/* Integers below 2^53 are their own shortest digits. */
		if (q <= 0 && q > -53 && (c & (((uint64_t)1 << -q) - 1)) == 0) {
			*digits = c >> -q;
			*exp10 = 0;
			return 0;
		}
	} else {
		c = m;
		q = -1074;
	}
	even = (c & 1) == 0;
	/* At a power of two the gap below is half the gap above. */
	closer = m == 0 && be > 1;
	k = closer ? floor_log10_3q_pow2(q) : floor_log10_pow2(q);
	h = q + floor_log2_pow10(-k);   /* 0..3 */
	g = g_of(-k);

	/* In units of 2^(q-2): interval ends and v, scaled by 10^-k. */
	vbl = round_odd(g, 4 * c - 2 + (uint64_t)closer, h, q, k, &hard);
	vb = round_odd(g, 4 * c, h, q, k, &hard);
	vbr = round_odd(g, 4 * c + 2, h, q, k, &hard);
	if (hard)
		return -1;
	/* A boundary belongs to R_v when strtod's ties-to-even rounds it to v. */
	lower = vbl + !even;
	upper = vbr - !even;

	s = vb / 4;                     /* floor(v / 10^k) */
	if (s >= 10) {
		uint64_t sp = s / 10;   /* multiples of 10^(k+1) around v */
		int up_in = lower <= 40 * sp, wp_in = 40 * sp + 40 <= upper;
		if (up_in != wp_in) {
			*digits = sp + (uint64_t)wp_in;
			*exp10 = k + 1;
			return 0;
		}
	}
	int u_in = lower <= 4 * s, w_in = 4 * s + 4 <= upper;
	if (u_in != w_in) {
		*digits = s + (uint64_t)w_in;
		*exp10 = k;
		return 0;
	}
	/* Both in: the closer one; at a tie the even one. */
	*digits = s + (uint64_t)(vb > 4 * s + 2 || (vb == 4 * s + 2 && (s & 1)));
	*exp10 = k;
	return 0;
}

/* *r = the value of "DIGITSeN"; 0 if that is not a finite double. */
static int read_back(const char *dig, int exp10, double *r)
{
	char buf[48];
	int len = snprintf(buf, sizeof buf, "%se%d", dig, exp10);

	return len > 0 && (size_t)len < sizeof buf &&
	       num_parse(buf, buf + len, NUM_JSON, r) == NUM_OK;
}

/*
 * The slow path, for d > 0: for n = 1..17 digits, the correctly rounded
 * n-digit decimal (glibc's printf is exact), until one reads back as d.  At
 * a power of two (closer) the interval below d is half as wide as above, so
 * when the nearest n-digit decimal is below and outside, the next one up
 * may still be inside.  17 digits always read back.
 */
static __attribute__((noinline, cold)) void
to_decimal_slow(double d, int closer, uint64_t *digits, int *exp10)
{
	for (int n = 1; n <= 17; n++) {
		char buf[40], dig[24];
		const char *t;
		int nd = 0, e;
		uint64_t u;
		double r = 0;

		snprintf(buf, sizeof buf, "%.*e", n - 1, d);
		for (t = buf; *t && *t != 'e'; t++)     /* skip the locale's point */
			if (is_digit(*t) && nd < 20)
				dig[nd++] = *t;
		dig[nd] = '\0';
		e = (int)strtol(t + (*t == 'e'), NULL, 10) - (n - 1);
		u = strtoull(dig, NULL, 10);
		if ((read_back(dig, e, &r) && r == d) || n == 17) {
			*digits = u;
			*exp10 = e;
			return;
		}
		if (closer && r < d) {
			snprintf(dig, sizeof dig, "%llu", (unsigned long long)(u + 1));
			if (read_back(dig, e, &r) && r == d) {
				*digits = u + 1;
				*exp10 = e;
				return;
			}
		}
	}
}

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Eight digits of v < 10^8, leading zeros included: two short division
 * chains instead of one long one. */
static void write8(uint32_t v, char *p)
{
	uint32_t a = v / 10000, b = v % 10000;

	memcpy(p, digit_pairs + 2 * (a / 100), 2);
	memcpy(p + 2, digit_pairs + 2 * (a % 100), 2);
	memcpy(p + 4, digit_pairs + 2 * (b / 100), 2);
	memcpy(p + 6, digit_pairs + 2 * (b % 100), 2);
}

/* The decimal digits of d (1 <= d < 10^17), written at the start of
 * tmp[64] (pre-filled with '0' by the caller); returns the first, with *n
 * the count without trailing zeros and *zeros those. */
static const char *digits_of(uint64_t d, char *tmp, int *n, int *zeros)
{
	static const uint64_t p10[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
		1000000000, 10000000000, 100000000000, 1000000000000,
		10000000000000, 100000000000000, 1000000000000000, 10000000000000000,
	};
	int len = d >= 100000000 ? 17 : 8, keep;

	while (len > 1 && d < p10[len - 1])     /* most need 16 or 17 */
		len--;
	if (d >= 100000000) {
		uint64_t top = d / 100000000;
		tmp[0] = (char)('0' + top / 100000000);
		write8((uint32_t)(top % 100000000), tmp + 1);
	}
	write8((uint32_t)(d % 100000000), tmp + 9);
	for (keep = len; tmp[17 - len + keep - 1] == '0'; keep--)
		;
	*n = keep;
	*zeros = len - keep;
	return tmp + 17 - len;
}

/*
 * The text is built in t[] with fixed-size copies that may run past the
 * digits (into t's slack, where the next piece or nothing lands), then all
 * NUM_FORMAT_MAX bytes are copied out: the compiler turns fixed sizes into
 * a few moves where variable ones would call memcpy.
 */
size_t num_format(double v, char *out)
{
	uint64_t bits, m, d;
	int be, exp10, n, zeros, decpt, len;
	char tmp[64], t[64];
	const char *dig;

	memcpy(&bits, &v, sizeof bits);
	be = (int)(bits >> 52 & 0x7FF);
	m = bits & (((uint64_t)1 << 52) - 1);
	if (be == 0x7FF) {
		out[0] = '\0';
		return 0;
	}
	memset(t, 0, sizeof t);
	t[0] = '-';                     /* kept only for a negative v */
	len = (int)(bits >> 63);
	if (be == 0 && m == 0) {
		memcpy(t + len, "0.0", 3);
		len += 3;
		memcpy(out, t, NUM_FORMAT_MAX);
		return (size_t)len;
	}
	if (to_decimal(m, be, &d, &exp10) != 0)
		to_decimal_slow(v < 0 ? -v : v, m == 0 && be > 1, &d, &exp10);
	memset(tmp, '0', sizeof tmp);
	dig = digits_of(d, tmp, &n, &zeros);
	decpt = n + zeros + exp10;      /* v = 0.DIG * 10^decpt, n <= 17 */

	if (decpt > -4 && decpt <= 16) {
		if (decpt <= 0) {               /* 0.000ddd */
			memcpy(t + len, "0.000", 5);
			len += 2 - decpt;
			memcpy(t + len, dig, 17);
			len += n;
		} else if (decpt < n) {         /* dd.ddd */
			memcpy(t + len, dig, 16);
			t[len + decpt] = '.';
			memcpy(t + len + decpt + 1, dig + decpt, 16);
			len += n + 1;
		} else {                        /* ddd000.0: dig's '0's pad it */
			memcpy(t + len, dig, 16);
			len += decpt;
			memcpy(t + len, ".0", 2);
			len += 2;
		}
	} else {                                /* d.ddde+XX */
		int x = decpt - 1;
		t[len] = dig[0];
		t[len + 1] = '.';
		memcpy(t + len + 2, dig + 1, 16);
		len += n > 1 ? n + 1 : 1;
		t[len++] = 'e';
		t[len++] = x < 0 ? '-' : '+';
		if (x < 0)
			x = -x;
		if (x >= 100) {
			t[len++] = (char)('0' + x / 100);
			x %= 100;
		}
		memcpy(t + len, digit_pairs + 2 * x, 2);
		len += 2;
	}
	t[len] = '\0';
	memcpy(out, t, NUM_FORMAT_MAX);
	return (size_t)len;
}
