/* test_traffic.c - workspace/traffic.c: az's traffic strings, the sum rules,
 * editing and the weighted pick. */
#include "tests/unit/unit.h"
#include "workspace/traffic.h"

#include <stdint.h>

static char err[256];

static void test_parse_good(void)
{
	struct traffic t;
	CHECK_INT(traffic_parse("blue=90 green=10", &t, err, sizeof err), 0);
	CHECK_INT(t.n, 2);
	CHECK_STR(t.e[0].name, "blue");
	CHECK_INT(t.e[0].percent, 90);
	CHECK_STR(t.e[1].name, "green");
	CHECK_INT(t.e[1].percent, 10);

	CHECK_INT(traffic_parse("  blue=0   green=100  ", &t, err, sizeof err), 0);
	CHECK_INT(t.n, 2);
	CHECK_INT(t.e[0].percent, 0);
	CHECK_INT(t.e[1].percent, 100);

	CHECK_INT(traffic_parse("green=007", &t, err, sizeof err), 0);   /* as az's int() */
	CHECK_INT(t.e[0].percent, 7);

	t.n = 5;
	CHECK_INT(traffic_parse("", &t, err, sizeof err), 0);
	CHECK_INT(t.n, 0);
	CHECK_INT(traffic_parse("   ", &t, err, sizeof err), 0);
	CHECK_INT(t.n, 0);

	/* Sums are the callers' business. */
	CHECK_INT(traffic_parse("blue=90 green=90", &t, err, sizeof err), 0);
	CHECK_INT(traffic_total(&t), 180);
}

/* text is refused with a message holding each of the fragments given. */
static void check_refused(const char *text, const char *frag1, const char *frag2)
{
	struct traffic t;
	err[0] = '\0';
	int rc = traffic_parse(text, &t, err, sizeof err);
	CHECKF(rc == -1, "'%s' accepted", text);
	CHECK_INT(t.n, 0);
	CHECK_CONTAINS(err, frag1);
	if (frag2)
		CHECK_CONTAINS(err, frag2);
	CHECKF(strchr(err, '\n') == NULL, "'%s': not one line", err);
}

static void test_parse_bad(void)
{
	check_refused("blue=90,green=10", "'blue=90,green=10'", "Do not add a delimiter between traffic variables");
	check_refused("blue=90, green=10", "'blue=90,'", "Do not add a delimiter");
	check_refused("blue=90;green=10", "Do not add a delimiter", NULL);
	check_refused("blue=90 green", "'green'", "no '='");
	check_refused("blue:90", "'blue:90'", "no '='");
	check_refused("blue=ninety", "'blue=ninety'", "whole number from 0 to 100");
	check_refused("blue=9.5 green=90.5", "'blue=9.5'", "whole number");
	check_refused("blue=-5", "'blue=-5'", "whole number");
	check_refused("blue=+5", "whole number", NULL);
	check_refused("blue=101", "'blue=101'", "0 to 100");
	check_refused("blue=99999999999999999999999", "0 to 100", NULL);   /* no overflow */
	check_refused("blue=", "'blue='", "missing");
	check_refused("=10", "'=10'", "not a valid deployment name");
	check_refused("blue=50 1x=50", "'1x=50'", "'1x' is not a valid deployment name");
	check_refused("bl=100", "begins with a letter", NULL);
	check_refused("blue--x=100", "not a valid", NULL);
	check_refused("blue=60 green=30 blue=10", "'blue=10'", "named twice");
	check_refused("blue=90\tgreen=10", "'blue=90\tgreen=10'", NULL);   /* items split on spaces only */

	/* 21 deployments: the 21st is named. */
	char text[512] = "";
	size_t off = 0;
	for (int i = 0; i <= TRAFFIC_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "%sdep%d=0", i ? " " : "", i);
	check_refused(text, "'dep20=0'", "at most 20");
	text[strlen(text) - strlen(" dep20=0")] = '\0';
	struct traffic t;
	CHECK_INT(traffic_parse(text, &t, err, sizeof err), 0);
	CHECK_INT(t.n, TRAFFIC_MAX);

	/* A long item is quoted, shortened, and the message still fits. */
	char longitem[300];
	memset(longitem, 'a', sizeof longitem);
	memcpy(longitem + 280, "=10", 4);
	check_refused(longitem, "...'", "not a valid deployment name");
}

static void test_format_round_trip(void)
{
	struct traffic t, u;
	char out[512];
	CHECK_INT(traffic_parse("  green=10   blue=90 ", &t, err, sizeof err), 0);
	CHECK_INT(traffic_format(&t, out, sizeof out), 16);
	CHECK_STR(out, "green=10 blue=90");   /* stored order */
	CHECK_INT(traffic_parse(out, &u, err, sizeof err), 0);
	CHECK_INT(u.n, 2);
	CHECK(memcmp(&t.e, &u.e, 2 * sizeof t.e[0]) == 0);

	/* snprintf's contract: truncated, NUL-terminated, full length returned. */
	char small[8];
	memset(small, 'x', sizeof small);
	CHECK_INT(traffic_format(&t, small, sizeof small), 16);
	CHECK_STR(small, "green=1");
	CHECK_INT(traffic_format(&t, NULL, 0), 16);
	char tiny[1] = { 'x' };
	CHECK_INT(traffic_format(&t, tiny, 1), 16);
	CHECK_INT(tiny[0], '\0');

	t.n = 0;
	out[0] = 'x';
	CHECK_INT(traffic_format(&t, out, sizeof out), 0);
	CHECK_STR(out, "");
}

static void test_get_set_remove(void)
{
	struct traffic t = { 0 };
	CHECK_INT(traffic_set(&t, "blue", 100), 0);
	CHECK_INT(traffic_set(&t, "green", 0), 0);
	CHECK_INT(traffic_get(&t, "blue"), 100);
	CHECK_INT(traffic_get(&t, "green"), 0);
	CHECK_INT(traffic_get(&t, "red"), 0);
	CHECK_INT(traffic_set(&t, "blue", 90), 0);      /* replaced in place */
	CHECK_INT(traffic_set(&t, "green", 10), 0);
	CHECK_INT(t.n, 2);
	char out[64];
	traffic_format(&t, out, sizeof out);
	CHECK_STR(out, "blue=90 green=10");
	CHECK_INT(traffic_set(&t, "x", 10), -1);        /* invalid name */
	CHECK_INT(traffic_set(&t, "red", 101), -1);
	CHECK_INT(t.n, 2);

	CHECK_INT(traffic_set(&t, "red", 0), 0);
	CHECK_INT(traffic_remove(&t, "blue"), 0);
	CHECK_INT(traffic_remove(&t, "blue"), -1);
	traffic_format(&t, out, sizeof out);
	CHECK_STR(out, "green=10 red=0");               /* order kept */

	struct traffic full = { 0 };
	char name[16];
	for (int i = 0; i < TRAFFIC_MAX; i++) {
		snprintf(name, sizeof name, "dep%d", i);
		CHECK_INT(traffic_set(&full, name, 5), 0);
	}
	CHECK_INT(traffic_set(&full, "one-more", 0), -1);
	CHECK_INT(traffic_set(&full, "dep7", 0), 0);    /* replacing still works */
	CHECK_INT(traffic_total(&full), 95);
}

/* check(text) gives `want`; on -1 the message holds frag. */
static void check_rule(int (*check)(const struct traffic *, char *, size_t), const char *text,
		       int want, const char *frag)
{
	struct traffic t;
	CHECK_INT(traffic_parse(text, &t, err, sizeof err), 0);
	err[0] = '\0';
	int rc = check(&t, err, sizeof err);
	CHECKF(rc == want, "'%s' gave %d (%s)", text, rc, err);
	if (frag)
		CHECK_CONTAINS(err, frag);
}

static void test_checks(void)
{
	check_rule(traffic_check_live, "blue=90 green=10", 0, NULL);
	check_rule(traffic_check_live, "blue=0 green=0", 0, NULL);
	check_rule(traffic_check_live, "", 0, NULL);
	check_rule(traffic_check_live, "blue=90 green=5", -1, "95%");
	check_rule(traffic_check_live, "blue=100 green=10", -1, "110%");

	check_rule(traffic_check_mirror, "green=10", 0, NULL);
	check_rule(traffic_check_mirror, "green=50", 0, NULL);
	check_rule(traffic_check_mirror, "green=0", 0, NULL);   /* how az stops mirroring */
	check_rule(traffic_check_mirror, "", 0, NULL);
	check_rule(traffic_check_mirror, "blue=0 green=20", 0, NULL);
	check_rule(traffic_check_mirror, "green=51", -1, "'green=51'");
	check_rule(traffic_check_mirror, "green=51", -1, "50%");
	check_rule(traffic_check_mirror, "green=10 red=5", -1, "'green' and 'red'");
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void test_pick(void)
{
	struct traffic t;
	traffic_parse("idle=0 blue=90 off=0 green=10 last=0", &t, err, sizeof err);
	unsigned count[TRAFFIC_MAX] = { 0 };
	uint64_t s = 42;
	const unsigned n = 100000;
	for (unsigned i = 0; i < n; i++) {
		int k = traffic_pick(&t, splitmix64(&s));
		CHECK(k >= 0 && k < (int)t.n);
		if (k >= 0)
			count[k]++;
	}
	CHECK_INT(count[0] + count[2] + count[4], 0);   /* 0 % is never picked */
	CHECKF(count[1] >= 89000 && count[1] <= 91000, "blue %u of %u", count[1], n);
	CHECKF(count[3] >= 9000 && count[3] <= 11000, "green %u of %u", count[3], n);
	CHECK_INT(count[1] + count[3], n);

	/* The extremes of r land on the first and last live entries. */
	CHECK_INT(traffic_pick(&t, 0), 1);
	CHECK_INT(traffic_pick(&t, UINT64_MAX), 3);

	traffic_parse("blue=100", &t, err, sizeof err);
	CHECK_INT(traffic_pick(&t, UINT64_MAX), 0);
	traffic_parse("blue=0 green=0", &t, err, sizeof err);
	CHECK_INT(traffic_pick(&t, 12345), -1);
	t.n = 0;
	CHECK_INT(traffic_pick(&t, 12345), -1);
}

int main(void)
{
	RUN(test_parse_good);
	RUN(test_parse_bad);
	RUN(test_format_round_trip);
	RUN(test_get_set_remove);
	RUN(test_checks);
	RUN(test_pick);
	return unit_done();
}
