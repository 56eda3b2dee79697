/*
 * unit.h - the smallest test harness that does the job.
 *
 * A test is a function; RUN(fn) runs it and prints one TAP-style line,
 * "ok - fn" or "not ok - fn", after the diagnostics of any failed CHECK.
 * main() ends with `return unit_done();`, which prints the file's counts and
 * returns non-zero when something failed.  tests/run.sh sums the lines of
 * every test program into the suite's closing "N passed, N failed".
 *
 * Tests run from the repository root, so fixture paths are relative to it.
 */
#ifndef SCOREPOINT_UNIT_H
#define SCOREPOINT_UNIT_H

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed_checks;   /* failed checks in the running test */
static int unit_passed, unit_failed;

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			unit_failed_checks++;                               \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__,   \
			       __LINE__, #cond);                            \
		}                                                           \
	} while (0)

/* CHECK with a printf-style explanation of the failure. */
#define CHECKF(cond, ...)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			unit_failed_checks++;                               \
			printf("#   %s:%d: CHECK(%s) failed: ", __FILE__,   \
			       __LINE__, #cond);                            \
			printf(__VA_ARGS__);                                \
			printf("\n");                                       \
		}                                                           \
	} while (0)

#define CHECK_STR(a, b)                                                     \
	CHECKF(strcmp((a), (b)) == 0, "\"%s\" != \"%s\"", (a), (b))

#define CHECK_INT(a, b)                                                     \
	CHECKF((long long)(a) == (long long)(b), "%lld != %lld",            \
	       (long long)(a), (long long)(b))

/* True when haystack contains needle: for error-message assertions. */
#define CHECK_CONTAINS(hay, needle)                                         \
	CHECKF(strstr((hay), (needle)) != NULL, "\"%s\" lacks \"%s\"",      \
	       (hay), (needle))

#define RUN(fn)                                                             \
	do {                                                                \
		unit_failed_checks = 0;                                     \
		fn();                                                       \
		if (unit_failed_checks) {                                   \
			unit_failed++;                                      \
			printf("not ok - %s\n", #fn);                       \
		} else {                                                    \
			unit_passed++;                                      \
			printf("ok - %s\n", #fn);                           \
		}                                                           \
		fflush(stdout);                                             \
	} while (0)

/* A whole file, NUL-terminated, in malloc'd memory (NULL if unreadable);
 * *n gets its length. */
static inline char *unit_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long len;

	*n = 0;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)len + 1)) != NULL) {
		*n = fread(p, 1, (size_t)len, f);
		p[*n] = '\0';
	}
	fclose(f);
	return p;
}

/* How many names in folder d contain ".tmp": the temporary files an
 * atomic write may leave behind. */
static inline int unit_temp_files(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	int n = 0;

	while (dd && (e = readdir(dd)) != NULL)
		n += strstr(e->d_name, ".tmp") != NULL;
	if (dd)
		closedir(dd);
	return n;
}

/* splitmix64 from a fixed seed: random test data that reproduces. */
static inline uint64_t unit_rand(void)
{
	static uint64_t state = 0x9E3779B97F4A7C15u;
	uint64_t z = (state += 0x9E3779B97F4A7C15u);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for test data. */
static inline uint64_t unit_rand_below(uint64_t n)
{
	return unit_rand() % n;
}

static inline int unit_done(void)
{
	printf("# %d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed != 0;
}

#endif
