/* test_name.c - workspace/name.c: Azure's endpoint and deployment name rule,
 * and its model name rule. */
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

static int model_valid(const char *s)
{
	return model_name_valid(s, strlen(s));
}

static void test_model_names_accepted(void)
{
	char longest[MODEL_NAME_MAX_LEN + 1];

	CHECK(model_valid("model-online-1"));        /* every endpoint-rule name */
	CHECK(model_valid("fashion_mnist_cnn"));     /* underscores: common in model names */
	CHECK(model_valid("my_model-v2_final"));
	CHECK(model_valid("a"));                     /* 1: the shortest */
	CHECK(model_valid("7"));
	CHECK(model_valid("2024_cnn"));              /* a digit first */
	CHECK(model_valid("a__b--c"));               /* repeated, unlike the endpoint rule */
	CHECK(model_valid("model-"));                /* a dash last too */
	CHECK(model_valid("model_"));
	CHECK(model_valid("ABC_def-123"));
	memset(longest, 'm', MODEL_NAME_MAX_LEN);
	longest[MODEL_NAME_MAX_LEN] = '\0';
	CHECK(model_valid(longest));                 /* 255: the longest */
	CHECK(model_name_valid("fashion_mnist:2", 13));   /* the length is the bound */
}

static void test_model_names_refused(void)
{
	char too_long[MODEL_NAME_MAX_LEN + 2];

	CHECK(!model_valid(""));
	CHECK(!model_valid("_model"));               /* first a letter or a digit */
	CHECK(!model_valid("-model"));
	CHECK(!model_valid("my.model"));             /* no dot: not "." nor ".." as a folder either */
	CHECK(!model_valid("."));
	CHECK(!model_valid(".."));
	CHECK(!model_valid("my model"));
	CHECK(!model_valid("my/model"));
	CHECK(!model_valid("my:model"));             /* azureml:NAME:VERSION stays parseable */
	CHECK(!model_valid("my@model"));             /* and azureml:NAME@latest */
	CHECK(!model_valid("caf\xc3\xa9"));           /* letters are ASCII */
	CHECK(!model_name_valid("ab\0c", 4));
	CHECK(!model_name_valid(NULL, 3));
	memset(too_long, 'm', MODEL_NAME_MAX_LEN + 1);
	too_long[MODEL_NAME_MAX_LEN + 1] = '\0';
	CHECK(!model_valid(too_long));               /* 256 */
	/* the endpoint rule is unchanged */
	CHECK(!valid("fashion_mnist"));
	CHECK(!valid("1abc"));
}

static void test_model_rule_text(void)
{
	CHECK_CONTAINS(model_name_rule(), "1 to 255");
	CHECK_CONTAINS(model_name_rule(), "'_'");
	CHECK_CONTAINS(model_name_rule(), "letter or a digit");
	CHECK(strchr(model_name_rule(), '\n') == NULL);
}

int main(void)
{
	RUN(test_accepts);
	RUN(test_refuses);
	RUN(test_length_is_the_bound);
	RUN(test_rule_text);
	RUN(test_model_names_accepted);
	RUN(test_model_names_refused);
	RUN(test_model_rule_text);
	return unit_done();
}
