/*
 * num_f32.h - the request decoder's hot path: a JSON number of the form
 * -?D.F (one integer digit, 1 to 19 fraction digits, no exponent) read
 * straight to the float32 a model takes, with no loop and no branch on its
 * digits.  Pixels scaled to [0, 1] and standardised features are such
 * numbers; every other form goes to num_parse_json_prefix, which reads
 * them all.
 *
 * The result is the float32 nearest to the double nearest to the text, as
 * json.loads then torch.tensor(dtype=float32) make it (two roundings).  It
 * computes d = (D * 10^16 + F16) * 1e-16 + F3 * 1e-19 in double (F16 the
 * first 16 fraction digits padded with zeros, F3 the next 3), whose error
 * is at most a few units in the last place (ulp) of the double; rounding d
 * to float32 gives the same float as rounding the exact double unless the
 * exact double is within those ulps of a float32 halfway point.  So when d
 * is within 8 ulps of one (its 29 bits below float32's mantissa near
 * 0x10000000), it takes nothing, and the exact path decides.
 *
 * The caller has found the number's end (the next ',' or ']'), so numbers
 * are read independently of one another.  The first 16 fraction bytes are
 * checked for digits and, less those past the end, go through
 * multiply-adds (pmaddwd) into two 8-digit halves; digits 17 to 19 come
 * from one 32-bit load under a mask (all zero when there are none).  It
 * reads NUM_F32_AFTER bytes from p whatever the number's length; the
 * caller guarantees they are there.  Elsewhere than x86-64 it takes
 * nothing.
 */
#ifndef SCOREPOINT_NUM_F32_H
#define SCOREPOINT_NUM_F32_H

#include <stdint.h>
#include <string.h>

#define NUM_F32_AFTER 40

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>

/*
 * [p, end) is exactly one number of the form -?D.F with 1 to 19 fraction
 * digits: 1 and *out set; 0 for any other text, or too close to call.
 */
static inline __attribute__((always_inline)) int num_f32_token(const char *p, const char *end, float *out)
{
	/* 16 bytes from first + 16 - n: a mask keeping the first n of 16 */
	static const unsigned char first[32] = {
		255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	};
	const __m128i zero = _mm_setzero_si128(), nine = _mm_set1_epi8(9);
	int neg = *p == '-';
	const char *s = p + neg, *f = s + 2;
	unsigned d0 = (unsigned char)s[0] - (unsigned)'0';
	size_t n = (size_t)(end - f);

	if (!((d0 <= 9) & (s[1] == '.') & (n - 1 < 19)))
		return 0;
	size_t k = n < 16 ? n : 16;
	__m128i a = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)f), _mm_set1_epi8('0'));
	__m128i keep = _mm_loadu_si128((const __m128i *)(const void *)(first + 16 - k));
	if (_mm_movemask_epi8(_mm_andnot_si128(_mm_cmpeq_epi8(_mm_min_epu8(a, nine), a), keep)))
		return 0;   /* not all digits */
	a = _mm_and_si128(a, keep);
	__m128i lo = _mm_madd_epi16(_mm_unpacklo_epi8(a, zero), _mm_setr_epi16(10, 1, 10, 1, 10, 1, 10, 1));
	__m128i hi = _mm_madd_epi16(_mm_unpackhi_epi8(a, zero), _mm_setr_epi16(10, 1, 10, 1, 10, 1, 10, 1));
	a = _mm_madd_epi16(_mm_packs_epi32(lo, hi), _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
	a = _mm_madd_epi16(_mm_packs_epi32(a, a), _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
	uint64_t halves = (uint64_t)_mm_cvtsi128_si64(a);
	uint64_t w = d0 * 10000000000000000u + (halves & 0xFFFFFFFFu) * 100000000u + (halves >> 32);
	/* Digits 17 to 19, when there are any, without a branch on whether
	 * there are (numbers of 15, 16 and 17 digits come mixed): with none
	 * the mask is 0 and the sum adds exactly 0. */
	static const uint32_t keep3[4] = { 0, 0xFFu, 0xFFFFu, 0xFFFFFFu };
	uint32_t t, m = keep3[n > 16 ? n - 16 : 0];
	memcpy(&t, f + 16, 4);
	if (((t & 0xF0F0F0F0u & m) ^ (0x30303030u & m)) | (((t & 0x0F0F0F0Fu) + 0x06060606u) & 0xF0F0F0F0u & m))
		return 0;   /* not all digits */
	t = (t - 0x30303030u) & m;
	double d = (double)(int64_t)w * 1e-16 +
		   (double)((t & 0xFF) * 100 + (t >> 8 & 0xFF) * 10 + (t >> 16 & 0xFF)) * 1e-19;
	uint64_t bits;
	memcpy(&bits, &d, 8);
	if (((bits & 0x1FFFFFFFu) - (0x10000000u - 8)) <= 16)
		return 0;   /* within 8 ulps of a float32 halfway point */
	*out = (float)(neg ? -d : d);
	return 1;
}
#else
static inline int num_f32_token(const char *p, const char *end, float *out)
{
	(void)p, (void)end, (void)out;
	return 0;
}
#endif

#endif
