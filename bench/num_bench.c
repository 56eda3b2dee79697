/*
 * num_bench.c - how fast model/num.c reads and prints numbers, against
 * glibc's strtod and snprintf on the same inputs.  Not part of `make test`:
 *
 *   gcc -O2 -I. bench/num_bench.c model/num.c -o build/num_bench
 *   ./build/num_bench [fixtures/test_data/batch200_azureml_split.json]
 *
 * Parsing: every number of the 200-row request (157,000 numbers outside its
 * strings, half of them "0.0" and most of the rest 17-20 characters like
 * 0.00392156862745098), then sets that each take one path of num_parse.
 * Formatting: 10^6 float32 values widened to double, as the handler prints
 * logits, against snprintf("%.17g") (one call, round-trips but is not the
 * shortest) and the shortest-by-snprintf loop (the tests' reference
 * method).  Each figure is the best of several runs, in ns per number.
 */
#include "model/num.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 7

struct span {
	const char *p, *end;
};

static volatile double sink;    /* keeps the work from being optimised away */
static volatile size_t sink_n;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545F4914F6CDD1Du;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len + 1);
	if (!buf || fread(buf, 1, *len, f) != *len) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The number tokens of a JSON text (outside strings). */
static size_t json_numbers(const char *js, size_t len, struct span *out, size_t cap)
{
	size_t n = 0;
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = js[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i;
			while (j < len && strchr("+-.eE0123456789", js[j]) && js[j])
				j++;
			if (n < cap)
				out[n++] = (struct span){ js + i, js + j };
			i = j - 1;
		}
	}
	return n;
}

static double time_num_parse(const struct span *s, size_t n, int reps)
{
	double best = 1e30;

	for (int r = 0; r < RUNS; r++) {
		double t0 = now(), acc = 0;
		for (int k = 0; k < reps; k++)
			for (size_t i = 0; i < n; i++) {
				double d;
				if (num_parse(s[i].p, s[i].end, NUM_JSON, &d) == NUM_OK)
					acc += d;
			}
		double t = now() - t0;
		sink = acc;
		if (t < best)
			best = t;
	}
	return best * 1e9 / ((double)n * reps);
}

/* strtod straight on the text (the byte after each number stops it). */
static double time_strtod(const struct span *s, size_t n, int reps)
{
	double best = 1e30;

	for (int r = 0; r < RUNS; r++) {
		double t0 = now(), acc = 0;
		for (int k = 0; k < reps; k++)
			for (size_t i = 0; i < n; i++)
				acc += strtod(s[i].p, NULL);
		double t = now() - t0;
		sink = acc;
		if (t < best)
			best = t;
	}
	return best * 1e9 / ((double)n * reps);
}

/* num_parse must agree with strtod on every one. */
static size_t parse_mismatches(const struct span *s, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		double d, want = strtod(s[i].p, NULL);
		if (num_parse(s[i].p, s[i].end, NUM_JSON, &d) != NUM_OK ||
		    memcmp(&d, &want, sizeof d) != 0)
			bad++;
	}
	return bad;
}

/* A set of n NUL-separated numbers made by gen(i, buf). */
static struct span *make_set(size_t n, void (*gen)(size_t, char *), char **store)
{
	struct span *s = malloc(n * sizeof *s);
	char *buf = malloc(n * 48), *p = buf;

	for (size_t i = 0; i < n; i++) {
		gen(i, p);
		s[i].p = p;
		s[i].end = p + strlen(p);
		p += strlen(p) + 1;
	}
	*store = buf;
	return s;
}

/* Short decimals: Clinger's path (<= 2^53, |q| <= 22). */
static void gen_clinger(size_t i, char *buf)
{
	(void)i;
	sprintf(buf, "%llu.%02llu", (unsigned long long)(rnd() % 1000),
		(unsigned long long)(rnd() % 100));
}

/* 17-19 significant digits, |q| <= 27: the x87 path. */
static void gen_x87(size_t i, char *buf)
{
	(void)i;
	sprintf(buf, "0.%018llu", (unsigned long long)(rnd() % 1000000000000000000u));
}

/* 25 significant digits: the strtod fallback. */
static void gen_long(size_t i, char *buf)
{
	(void)i;
	sprintf(buf, "0.%012llu%013llu", (unsigned long long)(rnd() % 1000000000000u),
		(unsigned long long)(rnd() % 10000000000000u));
}

/* Short digits with a large exponent: also the fallback. */
static void gen_big_exp(size_t i, char *buf)
{
	(void)i;
	sprintf(buf, "%llu.%03llue-%d", (unsigned long long)(rnd() % 10),
		(unsigned long long)(rnd() % 1000), 30 + (int)(rnd() % 270));
}

static void parse_row(const char *name, const struct span *s, size_t n, int reps)
{
	double a = time_num_parse(s, n, reps), b = time_strtod(s, n, reps);
	printf("  %-34s %8.1f ns  %8.1f ns  %5.1fx   (%zu mismatches)\n", name, a, b, b / a,
	       parse_mismatches(s, n));
}

static double time_format(const double *v, size_t n)
{
	double best = 1e30;
	char buf[NUM_FORMAT_MAX];

	for (int r = 0; r < RUNS; r++) {
		double t0 = now();
		size_t acc = 0;
		for (size_t i = 0; i < n; i++)
			acc += num_format(v[i], buf);
		double t = now() - t0;
		sink_n = acc;
		if (t < best)
			best = t;
	}
	return best * 1e9 / (double)n;
}

static double time_snprintf17(const double *v, size_t n)
{
	double best = 1e30;
	char buf[40];

	for (int r = 0; r < RUNS; r++) {
		double t0 = now();
		size_t acc = 0;
		for (size_t i = 0; i < n; i++)
			acc += (size_t)snprintf(buf, sizeof buf, "%.17g", v[i]);
		double t = now() - t0;
		sink_n = acc;
		if (t < best)
			best = t;
	}
	return best * 1e9 / (double)n;
}

/* The shortest digits by trying 1..17 with snprintf and strtod. */
static double time_snprintf_shortest(const double *v, size_t n)
{
	double best = 1e30;
	char buf[40];

	for (int r = 0; r < 2; r++) {
		double t0 = now();
		size_t acc = 0;
		for (size_t i = 0; i < n; i++)
			for (int p = 1; p <= 17; p++) {
				int len = snprintf(buf, sizeof buf, "%.*e", p - 1, v[i]);
				if (strtod(buf, NULL) == v[i]) {
					acc += (size_t)len;
					break;
				}
			}
		double t = now() - t0;
		sink_n = acc;
		if (t < best)
			best = t;
	}
	return best * 1e9 / (double)n;
}

static void format_row(const char *name, const double *v, size_t n)
{
	double a = time_format(v, n), b = time_snprintf17(v, n), c = time_snprintf_shortest(v, n);
	printf("  %-34s %8.1f ns  %8.1f ns  %8.1f ns\n", name, a, b, c);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "fixtures/test_data/batch200_azureml_split.json";
	size_t len, n, cap = 1 << 20, nv = 1000000;
	char *js = slurp(path, &len), *store;
	struct span *nums = malloc(cap * sizeof *nums), *set;
	double *v = malloc(nv * sizeof *v);

	if (!js || !nums || !v) {
		fprintf(stderr, "num_bench: cannot read %s\n", path);
		return 1;
	}
	n = json_numbers(js, len, nums, cap);
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += (size_t)(nums[i].end - nums[i].p);

	printf("num_parse vs strtod, ns per number (best of %d)\n", RUNS);
	printf("  %-34s %11s  %11s  %6s\n", "", "num_parse", "strtod", "ratio");
	double t = time_num_parse(nums, n, 20);
	parse_row(path + (strrchr(path, '/') ? strrchr(path, '/') - path + 1 : 0), nums, n, 20);
	printf("  %zu numbers, %zu bytes of number text in a %zu-byte file:\n"
	       "  num_parse alone at %.0f MB/s of file (%.0f MB/s of number text)\n",
	       n, bytes, len, (double)len / (t * (double)n) * 1e3,
	       (double)bytes / (t * (double)n) * 1e3);

	set = make_set(200000, gen_clinger, &store);
	parse_row("ddd.dd (Clinger)", set, 200000, 5);
	free(set), free(store);
	set = make_set(200000, gen_x87, &store);
	parse_row("0.ddd... 18 digits (x87)", set, 200000, 5);
	free(set), free(store);
	set = make_set(200000, gen_long, &store);
	parse_row("0.ddd... 25 digits (strtod)", set, 200000, 2);
	free(set), free(store);
	set = make_set(200000, gen_big_exp, &store);
	parse_row("d.ddde-30..-299 (strtod)", set, 200000, 2);
	free(set), free(store);

	printf("\nnum_format vs snprintf, ns per number (10^6 values)\n");
	printf("  %-34s %11s  %11s  %11s\n", "", "num_format", "%.17g", "shortest");
	for (size_t i = 0; i < nv; i++) {       /* logits: uniform in [-20, 20) */
		float f = (float)((double)(rnd() >> 11) * 0x1p-53 * 40 - 20);
		v[i] = (double)f;
	}
	format_row("float32 in [-20, 20)", v, nv);
	for (size_t i = 0; i < nv; i++) {       /* probabilities: 10^-30 .. 1 */
		double x = (double)(rnd() >> 11) * 0x1p-53;
		int e = (int)(rnd() % 30);
		while (e--)
			x /= 10;
		v[i] = (double)(float)x;
	}
	format_row("float32 in [1e-30, 1)", v, nv);
	for (size_t i = 0; i < nv;) {           /* any finite float32 */
		uint32_t b = (uint32_t)rnd();
		float f;
		memcpy(&f, &b, sizeof f);
		if ((b & 0x7F800000u) != 0x7F800000u)
			v[i++] = (double)f;
	}
	format_row("float32, random bits", v, nv);
	for (size_t i = 0; i < nv;) {           /* any finite double */
		uint64_t b = rnd();
		if ((b & 0x7FF0000000000000u) != 0x7FF0000000000000u)
			memcpy(&v[i++], &b, sizeof b);
	}
	format_row("double, random bits", v, nv);
	for (size_t i = 0; i < nv; i++)
		v[i] = (double)(rnd() % 1000);
	format_row("small integers (1.0, 250.0)", v, nv);

	free(js);
	free(nums);
	free(v);
	return 0;
}
