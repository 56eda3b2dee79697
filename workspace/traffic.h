/*
 * traffic.h - an endpoint's traffic split: which deployment gets what
 * share of the requests, in az's own text form "blue=90 green=10".
 *
 * Live traffic adds up to 100 (or 0: the endpoint answers 404); mirror
 * traffic copies up to 50 % of requests to one shadow deployment.  Parsing
 * and the sum rules are separate so that both kinds share one parser.
 * Everything lives in the struct: no allocation, no hidden state.  Names
 * compare exactly (case matters); entries are written whole, NULs to the
 * end of the name, so equal splits are equal bytes.
 */
#ifndef SCOREPOINT_TRAFFIC_H
#define SCOREPOINT_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#define TRAFFIC_MAX 20   /* Azure's limit of deployments per endpoint */

struct traffic_entry {
	char name[33];       /* a valid name (workspace/name.h), NUL-terminated */
	unsigned percent;    /* 0 to 100 */
};

struct traffic {
	size_t n;
	struct traffic_entry e[TRAFFIC_MAX];   /* in the order given */
};

/*
 * Parse "NAME=PERCENT NAME=PERCENT ..." (items split on runs of spaces;
 * surrounding spaces ignored) into t.  Every name must be valid and appear
 * once, every percent a whole number from 0 to 100, at most TRAFFIC_MAX
 * items; "" gives n = 0.  The sum is not checked (see traffic_check_*).
 * Returns 0, or -1 with t->n = 0 and one line in err naming the item at
 * fault.
 */
int traffic_parse(const char *text, struct traffic *t, char *err, size_t errlen);

/* The sum of the percents (at most TRAFFIC_MAX * 100). */
unsigned traffic_total(const struct traffic *t);

/* Live traffic: the sum is 0 or 100.  Returns 0, or -1 with err. */
int traffic_check_live(const struct traffic *t, char *err, size_t errlen);

/* Mirror traffic: at most one entry above 0 %, and that one at most 50 %.
 * Returns 0, or -1 with err. */
int traffic_check_mirror(const struct traffic *t, char *err, size_t errlen);

/*
 * The canonical text "blue=90 green=10" in stored order ("" when n = 0),
 * as snprintf does: writes at most len bytes including a NUL (nothing when
 * len is 0) and returns the length the whole text needs.
 */
size_t traffic_format(const struct traffic *t, char *out, size_t len);

/* name's percent, 0 when absent. */
unsigned traffic_get(const struct traffic *t, const char *name);

/* Give name this percent: replaces in place or appends.  Returns 0, or -1
 * when the name is invalid, percent > 100 or t is full. */
int traffic_set(struct traffic *t, const char *name, unsigned percent);

/* Drop name, keeping the others' order.  Returns 0, or -1 when absent. */
int traffic_remove(struct traffic *t, const char *name);

/*
 * The index of the entry a request goes to, given r uniform over all 64-bit
 * values: entry i with probability percent_i / total (entries at 0 % are
 * never chosen).  -1 when the total is 0.
 */
int traffic_pick(const struct traffic *t, uint64_t r);

#endif
