/* test_name.c - workspace/name.c: Azure's endpoint and deployment name rule. */
#include "tests/unit/unit.h"
#include "workspace/name.h"

static int valid(const char *s)
{
	return name_valid(s, strlen(s));
}

static void test_accepts(void)
{
	CHECK(valid("blue"));
	CHECK(valid("abc"));                                /* 3: the shortest */
	CHECK(valid("my-endpoint-1"));
	CHECK(valid("Model-Online-1"));
	CHECK(valid("a1b"));
	CHECK(valid("a-b"));
	CHECK(valid("abcdefghijklmnopqrstuvwxyz012345"));   /* 32: the longest */
}

static void test_refuses(void)
{
	CHECK(!valid(""));
	CHECK(!valid("ab"));                                /* too short */
	CHECK(!valid("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
	CHECK(!valid("1abc"));                              /* starts with a digit */
	CHECK(!valid("-abc"));
	CHECK(!valid("a--b"));                              /* double dash */
	CHECK(!valid("abc-"));                              /* trailing dash */
	CHECK(!valid("ab_c"));
	CHECK(!valid("ab.c"));
	CHECK(!valid("ab c"));
	CHECK(!valid("ab/c"));
	CHECK(!valid("caf\xc3\xa9"));                       /* letters are ASCII */
	CHECK(!name_valid("abc\0def", 7));                  /* embedded NUL */
	CHECK(!name_valid(NULL, 4));
}

static void test_length_is_the_bound(void)
{
	/* The length says where the name ends, not a NUL: "blue=90" holds
	 * the name "blue" in its first 4 bytes. */
	CHECK(name_valid("blue=90", 4));
	CHECK(!name_valid("blue=90", 5));
	CHECK(!name_valid("blue-", 5));
	CHECK(name_valid("blue-", 4));
}

static void test_rule_text(void)
{
	CHECK_CONTAINS(name_rule(), "letter");
	CHECK_CONTAINS(name_rule(), "3 to 32");
	CHECK(strchr(name_rule(), '\n') == NULL);
}

int main(void)
{
	RUN(test_accepts);
	RUN(test_refuses);
	RUN(test_length_is_the_bound);
	RUN(test_rule_text);
	return unit_done();
}
