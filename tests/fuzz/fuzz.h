/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share.
 *
 * Each fuzz_*.c defines LLVMFuzzerTestOneInput and is built by `make fuzz`
 * with clang -fsanitize=fuzzer,address,undefined (tests/fuzz/run.sh runs
 * them).  A target is deterministic (the same input does the same thing),
 * frees everything it allocates, writes no file, and turns every broken
 * property into abort() through FUZZ_CHECK, which libFuzzer reports as a
 * crash with the input saved.
 */
#ifndef SCOREPOINT_FUZZ_H
#define SCOREPOINT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                               \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: property broken: %s: ",     \
				__FILE__, __LINE__, #cond);                 \
			fprintf(stderr, __VA_ARGS__);                       \
			fputc('\n', stderr);                                \
			abort();                                            \
		}                                                           \
	} while (0)

/* data[0, size) as a malloc'd NUL-terminated string (aborts on no memory,
 * which libFuzzer's malloc limit reports anyway). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A malloc'd copy of data[0, size) in a block of exactly that size (at
 * least 1), so that ASan reports any read past the input. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);
	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	return p;
}

/*
 * The request schemas the decoders are fuzzed against, built once:
 * 0: three named columns a, b, c; 1: three columns without names;
 * 2: the tutorial's 784 columns col_0 .. col_783 (the fixtures' bodies).
 */
#define FUZZ_NSCHEMAS 3
static inline const struct req_schema *fuzz_schema(unsigned which)
{
	static char names[784][16];
	static const char *cols784[784];
	static const char *abc[3] = { "a", "b", "c" };
	static struct blob_model m[FUZZ_NSCHEMAS];
	static struct req_schema s[FUZZ_NSCHEMAS];
	static int ready;

	if (!ready) {
		for (int i = 0; i < 784; i++) {
			snprintf(names[i], sizeof names[i], "col_%d", i);
			cols784[i] = names[i];
		}
		m[0].input_width = 3;
		m[0].ncolumns = 3;
		m[0].columns = abc;
		m[1].input_width = 3;
		m[2].input_width = 784;
		m[2].ncolumns = 784;
		m[2].columns = cols784;
		for (int i = 0; i < FUZZ_NSCHEMAS; i++)
			if (req_schema_init(&s[i], &m[i]) < 0)
				abort();
		ready = 1;
	}
	return &s[which % FUZZ_NSCHEMAS];
}

/* Small caps, so that every REQ_E_LIMIT branch is within a fuzzer's reach. */
static const struct req_limits fuzz_tight_limits = { 4096, 512, 8, 256 };

#endif
