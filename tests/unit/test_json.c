/* test_json.c - model/json.c: token walking and strict string decoding. */
#include "tests/unit/unit.h"
#include "model/json.h"

static int parse(const char *js, jsmntok_t *t, int cap)
{
	jsmn_parser p;
	jsmn_init(&p);
	return jsmn_parse(&p, js, strlen(js), t, (unsigned)cap);
}

static void test_skip_and_get(void)
{
	const char *js = "{\"a\": [1, [2, 3], {\"x\": 4}], \"b\": {\"c\": \"d\"}, \"e\": 5}";
	jsmntok_t t[32];
	int n = parse(js, t, 32);
	CHECK(n > 0);
	CHECK_INT(json_skip(t, 0), n);
	int a = json_get(js, t, 0, "a");
	int b = json_get(js, t, 0, "b");
	int e = json_get(js, t, 0, "e");
	CHECK(a > 0 && t[a].type == JSMN_ARRAY && t[a].size == 3);
	CHECK(b > 0 && t[b].type == JSMN_OBJECT);
	CHECK(e > 0 && js[t[e].start] == '5');
	CHECK_INT(json_get(js, t, 0, "zz"), -1);
	CHECK_INT(json_get(js, t, a, "x"), -1);   /* not an object */
	int c = json_get(js, t, b, "c");
	CHECK(c > 0 && json_eq(js, t, c, "d"));
}

static void check_decodes(const char *js, const char *want)
{
	jsmntok_t t[4];
	char out[64];
	CHECK(parse(js, t, 4) == 1);
	int n = json_string(js, t, 0, out, sizeof out);
	CHECKF(n == (int)strlen(want) && strcmp(out, want) == 0, "%s -> %s", js, n < 0 ? "(error)" : out);
}

static void check_refuses(const char *js, size_t cap)
{
	jsmntok_t t[4];
	char out[64];
	if (parse(js, t, 4) != 1)   /* jsmn itself refused it: fine too */
		return;
	CHECKF(json_string(js, t, 0, out, cap) < 0, "%s accepted", js);
}

static void test_strings(void)
{
	check_decodes("\"col_0\"", "col_0");
	check_decodes("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d");
	check_decodes("\"\\n\\t\\r\\b\\f\"", "\n\t\r\b\f");
	check_decodes("\"\\u00e9\"", "\xc3\xa9");
	check_decodes("\"\\u20AC\"", "\xe2\x82\xac");
	check_decodes("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	check_decodes("\"\"", "");
	check_refuses("\"\\x41\"", 64);
	check_refuses("\"\\u12\"", 64);
	check_refuses("\"\\u0000\"", 64);
	check_refuses("\"\\ude00\"", 64);
	check_refuses("\"\\ud83d\"", 64);
	check_refuses("\"\\ud83d\\u0041\"", 64);
	check_refuses("\"abcdef\"", 6);   /* needs 7 bytes with the NUL */
}

/* json_validate: what jsmn lets through and JSON does not. */
static void check_valid(const char *js, int want_ok, const char *why_frag)
{
	jsmntok_t t[256];
	size_t bad = 0;
	const char *why = "";
	int n = parse(js, t, 256);
	CHECKF(n > 0 || !want_ok, "%s: jsmn refused it", js);
	int ok = n > 0 && json_validate(js, strlen(js), t, n, &bad, &why) == 0;
	CHECKF(ok == want_ok, "%s: %s (%s at %zu)", js, ok ? "accepted" : "refused", why, bad);
	if (!ok && n > 0 && why_frag)
		CHECK_CONTAINS(why, why_frag);
}

static void test_validate(void)
{
	check_valid("{\"a\": [1, -2.5e3, true, false, null, \"s\"], \"b\": {}}", 1, NULL);
	check_valid(" [ ] ", 1, NULL);
	check_valid("[1 2]", 0, "missing ','");
	check_valid("{\"a\" 1}", 0, NULL);
	check_valid("{\"a\": 1 \"b\": 2}", 0, NULL);
	check_valid("[1,,2]", 0, NULL);
	check_valid("[tru]", 0, "not a JSON value");
	check_valid("[nulll]", 0, "not a JSON value");
	check_valid("[01]", 0, "not a JSON value");
	check_valid("[1.2.3]", 0, "not a JSON value");
	check_valid("[1] [2]", 0, "text after the value");
	check_valid("[\"a\tb\"]", 0, "control character");
	check_valid("[1e999]", 1, NULL);   /* valid JSON; its use decides */
	char deep[200];
	memset(deep, '[', 80);
	memset(deep + 80, ']', 80);
	deep[160] = '\0';
	check_valid(deep, 0, "nested too deeply");
	CHECK(!json_depth_ok(deep, strlen(deep)));
	CHECK(json_depth_ok(deep + 20, strlen(deep) - 40));   /* 60 levels */
	CHECK(json_depth_ok("[\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"]", 74));
}

int main(void)
{
	RUN(test_skip_and_get);
	RUN(test_strings);
	RUN(test_validate);
	return unit_done();
}
