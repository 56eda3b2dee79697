/*
 * fuzz_traffic.c - the traffic split text, traffic_parse (workspace/traffic.h).
 *
 * The input is the text.  Properties: a parsed split formats to text that
 * parses back to the same struct, byte for byte, and formats again to the
 * same text; traffic_format's length is snprintf's; names are valid and
 * distinct, percents at most 100; traffic_pick picks an entry above 0 %
 * (or none when the total is 0); a refusal leaves n = 0 and a message.
 */
#include "workspace/name.h"
#include "workspace/traffic.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct traffic a, b;
	char err[256], out[TRAFFIC_MAX * 40 + 1], again[sizeof out];

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	if (traffic_parse(text, &a, err, sizeof err) < 0) {
		FUZZ_CHECK(a.n == 0 && err[0] && memchr(err, '\0', sizeof err), "refusal with n = %zu", a.n);
		free(text);
		return 0;
	}
	FUZZ_CHECK(a.n <= TRAFFIC_MAX, "%zu entries", a.n);
	for (size_t i = 0; i < a.n; i++) {
		FUZZ_CHECK(a.e[i].percent <= 100, "%u %%", a.e[i].percent);
		FUZZ_CHECK(name_valid(a.e[i].name, strlen(a.e[i].name)), "invalid name \"%s\"", a.e[i].name);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(a.e[i].name, a.e[k].name) != 0, "\"%s\" twice", a.e[i].name);
		FUZZ_CHECK(traffic_get(&a, a.e[i].name) == a.e[i].percent, "traffic_get of \"%s\"", a.e[i].name);
	}
	size_t n = traffic_format(&a, out, sizeof out);
	FUZZ_CHECK(n < sizeof out && strlen(out) == n, "format length %zu", n);
	FUZZ_CHECK(traffic_format(&a, NULL, 0) == n, "the length asked differs");
	if (n > 0) {
		char small[8];
		FUZZ_CHECK(traffic_format(&a, small, sizeof small) == n && strlen(small) == (n < 8 ? n : 7) &&
			   strncmp(small, out, strlen(small)) == 0, "truncated format");
	}
	FUZZ_CHECK(traffic_parse(out, &b, err, sizeof err) == 0, "\"%s\" (from \"%s\") does not parse: %s", out,
		   text, err);
	FUZZ_CHECK(memcmp(&a, &b, sizeof a) == 0, "\"%s\" parses to another split", out);
	FUZZ_CHECK(traffic_format(&b, again, sizeof again) == n && strcmp(out, again) == 0, "format not stable");

	unsigned total = traffic_total(&a);
	traffic_check_live(&a, err, sizeof err);
	traffic_check_mirror(&a, err, sizeof err);
	uint64_t r = 0;
	memcpy(&r, data, size < sizeof r ? size : sizeof r);
	const uint64_t rs[] = { 0, 1, r, ~r, UINT64_MAX, UINT64_MAX / 2 };
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		int k = traffic_pick(&a, rs[i]);
		if (total == 0)
			FUZZ_CHECK(k == -1, "picked %d of a 0 %% split", k);
		else
			FUZZ_CHECK(k >= 0 && (size_t)k < a.n && a.e[k].percent > 0, "picked %d", k);
	}
	free(text);
	return 0;
}
