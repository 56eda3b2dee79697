/* test_shadow.c - handler/shadow.c: a mirror copy's values against the
 * live answer's, row by row (argmax agreement, largest absolute
 * difference), what cannot be compared counted apart, the buffer reused
 * and given back past SHADOW_KEEP_BYTES. */
#include "tests/unit/unit.h"
#include "handler/shadow.h"

static void test_agree_and_diff(void)
{
	static const float live[] = { 0.1f, 0.7f, 0.2f, 1, 2, 3, 5, 5, 0 };
	static const float mirror[] = { 0.1f, 0.7f, 0.2f, 1, 2, 2.5f, 4, 5, 0.5f };
	struct shadow s = { 0 };
	struct metrics_shadow_rows v;

	CHECK_INT(shadow_keep(&s, live, 3, 3), 0);
	shadow_compare(&s, mirror, 3, 3, &v);
	CHECK_INT(v.rows, 3);
	CHECK_INT(v.agree, 2);         /* row 2: the first of two 5s (column 0) against column 1 */
	CHECK_INT(v.not_comparable, 0);
	CHECK(v.worst == 1.0);
	CHECK(v.sum == 1.5);
	CHECK_INT(v.bucket[0], 1);     /* identical row: difference 0 */
	shadow_free(&s);
}

/* The difference is exact: float32 values subtracted in double. */
static void test_exact_difference(void)
{
	const float a[] = { 0.1f, -3.3f }, b[] = { 0.1f + 0.75f, -3.3f };
	struct shadow s = { 0 };
	struct metrics_shadow_rows v;

	shadow_keep(&s, a, 1, 2);
	shadow_compare(&s, b, 1, 2, &v);
	CHECK(v.worst == (double)(0.1f + 0.75f) - (double)0.1f);
	CHECK_INT(v.agree, 1);
	shadow_free(&s);
}

/* Other widths or row counts: not comparable, never agreement. */
static void test_not_comparable(void)
{
	static const float live[] = { 1, 2, 3, 4, 5, 6 };
	struct shadow s = { 0 };
	struct metrics_shadow_rows v;

	shadow_keep(&s, live, 2, 3);
	shadow_compare(&s, live, 3, 2, &v);
	CHECK_INT(v.rows, 0);
	CHECK_INT(v.agree, 0);
	CHECK_INT(v.not_comparable, 3);
	shadow_compare(&s, live, 1, 3, &v);
	CHECK_INT(v.not_comparable, 2);
	shadow_trim(&s);                   /* forgets it: nothing to compare */
	shadow_compare(&s, live, 2, 3, &v);
	CHECK_INT(v.rows + v.not_comparable, 0);
	CHECK(s.live != NULL);             /* small: kept for the next copy */
	shadow_free(&s);
}

/* A NaN or an infinity the mirror answered: the row differs by +Inf. */
static void test_not_finite(void)
{
	const float live[] = { 1, 2, 3, 4 }, mirror[] = { 1, NAN, 3, INFINITY };
	struct shadow s = { 0 };
	struct metrics_shadow_rows v;

	shadow_keep(&s, live, 2, 2);
	shadow_compare(&s, mirror, 2, 2, &v);
	CHECK_INT(v.rows, 2);
	CHECK(isinf(v.worst));
	CHECK_INT(v.bucket[METRICS_SHADOW_NBUCKETS - 1], 2);
	CHECK_INT(v.agree, 1);   /* row 0: NaN is never the largest; row 1: 4 against Inf */
	shadow_free(&s);
}

/* One buffer, grown once; given back after a copy past the cap. */
static void test_buffer_reuse(void)
{
	size_t big = SHADOW_KEEP_BYTES / sizeof(float) + 10;
	float *y = calloc(big, sizeof *y);
	struct shadow s = { 0 };

	CHECK(y != NULL);
	if (!y)
		return;
	shadow_keep(&s, y, 4, 10);
	float *first = s.live;
	shadow_trim(&s);
	shadow_keep(&s, y, 2, 10);
	CHECK(s.live == first);
	CHECK_INT(s.cap, 40);
	CHECK_INT(shadow_keep(&s, y, big / 10, 10), 0);
	CHECK_INT(s.rows, big / 10);
	shadow_trim(&s);
	CHECK(s.live == NULL);
	CHECK_INT(s.cap, 0);
	CHECK_INT(shadow_keep(&s, y, SIZE_MAX / 2, 4), -1);   /* overflow refused */
	CHECK_INT(s.rows, 0);
	shadow_free(&s);
	free(y);
}

int main(void)
{
	RUN(test_agree_and_diff);
	RUN(test_exact_difference);
	RUN(test_not_comparable);
	RUN(test_not_finite);
	RUN(test_buffer_reuse);
	return unit_done();
}
