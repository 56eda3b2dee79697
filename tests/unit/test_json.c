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

/* ---- issue 15: duplicate keys, echoed text ---- */

/* Refused as a repeated key, its second occurrence's quote at `at`. */
static void check_dup(const char *js, size_t at)
{
	static jsmntok_t t[20000];
	size_t bad = 0;
	const char *why = "";
	int n = parse(js, t, 20000);
	CHECKF(n > 0, "%.60s: jsmn refused it", js);
	int rc = n > 0 ? json_validate(js, strlen(js), t, n, &bad, &why) : 0;
	CHECKF(rc < 0 && why == json_why_dup_key && bad == at, "%.60s: %s (%s at %zu, want %zu)", js,
	       rc < 0 ? "refused" : "accepted", why, bad, at);
}

static void test_duplicate_keys(void)
{
	char m[200];
	size_t bad = 0;
	const char *why = "";
	jsmntok_t t[64];

	check_dup("{\"a\": 1, \"a\": 2}", 9);
	check_dup("{\"input_data\": {\"columns\": [\"a\"], \"data\": [[1]], \"data\": [[2]]}}", 49);
	check_dup("[[{\"x\": {\"y\": 1, \"y\": {}}}]]", 17);
	check_dup("{\"a\": 1, \"\\u0061\": 2}", 9);                      /* compared decoded */
	check_dup("{\"\\u00e9\": 1, \"\xc3\xa9\": 2}", 14);
	check_dup("{\"\\ud83d\\ude00\": 1, \"\xf0\x9f\x98\x80\": 2}", 20);
	check_dup("{\"\\n\\/\": 1, \"\\u000a/\": 2}", 12);
	check_dup("{\"\": 1, \"\": 2}", 8);
	check_valid("{\"a\": 1, \"A\": 2, \"a \": 3, \"\\u0062\": 4, \"ab\": {\"a\": 5}}", 1, NULL);
	check_valid("{\"\\ud800\": 1, \"\\udc00\": 2}", 1, NULL);   /* different, if not well-formed */
	check_valid("[{\"a\": 1}, {\"a\": 2}]", 1, NULL);           /* siblings are separate objects */
	/* An object's keys past JSON_KEYS_LINEAR go through the hash table. */
	static char big[100000];
	static jsmntok_t bt[20000];
	size_t o = (size_t)snprintf(big, sizeof big, "{");
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(big + o, sizeof big - o, "%s\"k%d\": {\"k%d\": %d}", i ? ", " : "", i, i, i);
	snprintf(big + o, sizeof big - o, "}");
	int n = parse(big, bt, 20000);
	CHECK(n == 8001 && json_validate(big, strlen(big), bt, n, &bad, &why) == 0);
	size_t at = o;
	snprintf(big + o, sizeof big - o, ", \"k1\\u0037\": 0}");   /* k17 again, spelt with an escape */
	check_dup(big, at + 2);
	/* The message names the key as written, quoted by json_echo. */
	const char *js = "{\"d\\u0061ta\": 1, \"data\": 2}";
	CHECK(parse(js, t, 64) > 0 && json_validate(js, strlen(js), t, parse(js, t, 64), &bad, &why) < 0);
	CHECK_STR(json_refusal(js, bad, why, bad, m, sizeof m), "key \"data\" is given twice (at byte 17)");
	js = "{\"\\u000a\": 1, \"\\n\": 2}";
	CHECK(json_validate(js, strlen(js), t, parse(js, t, 64), &bad, &why) < 0);
	CHECK_STR(json_refusal(js, bad, why, 99, m, sizeof m), "key \"\\x5cn\" is given twice (at byte 99)");
	js = "[1 2]";
	CHECK(json_validate(js, strlen(js), t, parse(js, t, 64), &bad, &why) < 0);
	CHECK_STR(json_refusal(js, bad, why, bad, m, sizeof m), "malformed JSON at byte 3: missing ','");
}

/* FNV-1a, as json.c hashes a key without escapes. */
static uint32_t fnv1a(const char *p)
{
	uint32_t h = 2166136261u;
	while (*p)
		h = (h ^ (unsigned char)*p++) * 16777619u;
	return h;
}

/* Keys that all fall in one slot of the table (64 slots for 20 to 32
 * keys): past the probe budget the check sorts them, with the same verdict. */
static void test_duplicate_keys_colliding(void)
{
	static char js[4096], key[40][16];
	static jsmntok_t t[256];
	size_t bad = 0, o = 0, at = 0;
	const char *why = "";
	int found = 0;

	for (unsigned i = 0; found < 30; i++) {
		snprintf(key[found], sizeof key[found], "c%u", i);
		found += (fnv1a(key[found]) & 63) == 0;
	}
	o += (size_t)snprintf(js + o, sizeof js - o, "{");
	for (int i = 0; i < 30; i++)
		o += (size_t)snprintf(js + o, sizeof js - o, "%s\"%s\": %d", i ? ", " : "", key[i], i);
	snprintf(js + o, sizeof js - o, "}");
	int n = parse(js, t, 256);
	CHECK(n == 61 && json_validate(js, strlen(js), t, n, &bad, &why) == 0);
	/* Two of them again: the earlier repetition is the one named. */
	at = o + 2;
	char *k0 = key[0];
	o += (size_t)snprintf(js + o, sizeof js - o, ", \"%s\": 0, \"\\u00%02x%s\": 0}", key[17], k0[0], k0 + 1);
	n = parse(js, t, 256);
	CHECK(n == 65 && json_validate(js, strlen(js), t, n, &bad, &why) < 0 && why == json_why_dup_key);
	CHECKF(bad == at, "refused at %zu (%s), want %zu", bad, why, at);
}

static void test_echo(void)
{
	char out[JSON_ECHO_SIZE], small[12];
	CHECK_STR(json_echo("1.5x", 4, out, sizeof out), "1.5x");
	CHECK_STR(json_echo("a\"b'c\\d", 7, out, sizeof out), "a\\x22b\\x27c\\x5cd");
	CHECK_STR(json_echo("\x1b[2J\r\nok\x7f", 9, out, sizeof out), "\\x1b[2J\\x0d\\x0aok\\x7f");
	CHECK_STR(json_echo("caf\xc3\xa9", 5, out, sizeof out), "caf\\xc3\\xa9");
	CHECK_STR(json_echo("", 0, out, sizeof out), "");
	/* At most JSON_ECHO_MAX bytes of the text, then "...". */
	const char *l = "0123456789012345678901234567890123456789ABCDEF";
	CHECK_STR(json_echo(l, 40, out, sizeof out), "0123456789012345678901234567890123456789");
	CHECK_STR(json_echo(l, strlen(l), out, sizeof out), "0123456789012345678901234567890123456789...");
	char bin[50];
	memset(bin, 0xff, sizeof bin);
	json_echo(bin, sizeof bin, out, sizeof out);
	CHECK_INT(strlen(out), 4 * JSON_ECHO_MAX + 3);                /* JSON_ECHO_SIZE is enough */
	CHECK_STR(json_echo(l, strlen(l), small, sizeof small), "01234567...");   /* a small buffer: fewer */
	CHECK_STR(json_echo("\n\n\n", 3, small, sizeof small), "\\x0a\\x0a...");
	CHECK_STR(json_echo(l, strlen(l), small, 3), "");
}

int main(void)
{
	RUN(test_skip_and_get);
	RUN(test_strings);
	RUN(test_validate);
	RUN(test_duplicate_keys);
	RUN(test_duplicate_keys_colliding);
	RUN(test_echo);
	return unit_done();
}
