/*
 * traffic.c - traffic splits in az's text form, and the weighted pick.
 *
 * az (custom/utils.py, convert_str_to_dict) splits "--traffic" on spaces,
 * then each item on '=', and insists that every value is numeric; a comma
 * or other separator between items ends up inside a value, which is why
 * its message is "Do not add a delimiter between traffic variables".  We
 * keep that message for that case and say plainly what is wrong otherwise.
 */
#include "workspace/traffic.h"
#include "model/err.h"
#include "workspace/name.h"

#include <stdio.h>
#include <string.h>

/* Items are quoted in messages up to this many bytes: enough to recognise
 * one, short enough to keep the message on one line. */
#define QUOTE_MAX 48

#define STR_(x) #x
#define STR(x) STR_(x)

static int bad_item(char *err, size_t errlen, const char *item, size_t n, const char *why)
{
	return err_set(err, errlen, "traffic item '%.*s%s': %s",
		       (int)(n < QUOTE_MAX ? n : QUOTE_MAX), item, n > QUOTE_MAX ? "..." : "", why);
}

/* az's message, for items run together with a separator ("blue=90,green=10"). */
#define DELIMITER_MSG "Do not add a delimiter between traffic variables; write NAME=PERCENT items separated by spaces"

/* Characters people put between items: a percent holding one means two
 * items were joined ("90,green=10"). */
#define DELIMITERS ",;:|&/="

/* The whole number in v[0, n), or -1 when it is not one; values above 100
 * come back as 101 so that long digit strings cannot overflow. */
static int percent_value(const char *v, size_t n)
{
	unsigned p = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		p = p > 100 ? p : p * 10 + (unsigned)(v[i] - '0');
	}
	return p > 100 ? 101 : (int)p;
}

static int has_delimiter(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && strchr(DELIMITERS, v[i]))
			return 1;
	return 0;
}

static int find(const struct traffic *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->e[i].name) == len && memcmp(t->e[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

/* Fill entry e whole, so that equal splits are equal bytes. */
static void put(struct traffic_entry *e, const char *name, size_t len, unsigned percent)
{
	memset(e, 0, sizeof *e);
	memcpy(e->name, name, len);
	e->percent = percent;
}

/* One item s[0, n) onto the end of t. */
static int parse_item(struct traffic *t, const char *s, size_t n, char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', n);
	if (!eq)
		return bad_item(err, errlen, s, n, "no '=': write NAME=PERCENT");
	size_t nl = (size_t)(eq - s), vl = n - nl - 1;
	const char *v = eq + 1;
	if (!name_valid(s, nl)) {
		char why[256];
		snprintf(why, sizeof why, "'%.*s' is not a valid deployment name (%s)",
			 (int)(nl < QUOTE_MAX ? nl : QUOTE_MAX), s, name_rule());
		return bad_item(err, errlen, s, n, why);
	}
	int p = percent_value(v, vl);
	if (p < 0 && vl == 0)
		return bad_item(err, errlen, s, n, "the percent is missing");
	if (p < 0 && has_delimiter(v, vl))
		return bad_item(err, errlen, s, n, DELIMITER_MSG);
	if (p < 0 || p > 100)
		return bad_item(err, errlen, s, n, "the percent must be a whole number from 0 to 100");
	if (find(t, s, nl) >= 0)
		return bad_item(err, errlen, s, n, "this deployment is named twice");
	if (t->n == TRAFFIC_MAX)
		return bad_item(err, errlen, s, n, "one deployment too many: an endpoint has at most "
				STR(TRAFFIC_MAX) " (Azure's limit)");
	put(&t->e[t->n++], s, nl, (unsigned)p);
	return 0;
}

int traffic_parse(const char *text, struct traffic *t, char *err, size_t errlen)
{
	const char *p = text;

	t->n = 0;
	for (;;) {
		p += strspn(p, " ");
		if (!*p)
			return 0;
		size_t n = strcspn(p, " ");
		if (parse_item(t, p, n, err, errlen) < 0) {
			t->n = 0;
			return -1;
		}
		p += n;
	}
}

unsigned traffic_total(const struct traffic *t)
{
	unsigned sum = 0;
	for (size_t i = 0; i < t->n; i++)
		sum += t->e[i].percent;
	return sum;
}

int traffic_check_live(const struct traffic *t, char *err, size_t errlen)
{
	unsigned sum = traffic_total(t);
	if (sum != 0 && sum != 100)
		return err_set(err, errlen, "traffic adds up to %u%%: it must be 100 (or 0 to stop serving)", sum);
	return 0;
}

int traffic_check_mirror(const struct traffic *t, char *err, size_t errlen)
{
	const struct traffic_entry *on = NULL;
	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].percent == 0)
			continue;
		if (on)
			return err_set(err, errlen, "mirror traffic goes to one deployment only: '%s' and '%s' both have a share",
				       on->name, t->e[i].name);
		on = &t->e[i];
	}
	if (on && on->percent > 50)
		return err_set(err, errlen, "mirror traffic '%s=%u' is over the limit of 50%%", on->name, on->percent);
	return 0;
}

size_t traffic_format(const struct traffic *t, char *out, size_t len)
{
	size_t need = 0;

	if (len)
		out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		char item[48];
		int k = snprintf(item, sizeof item, "%s%s=%u", i ? " " : "", t->e[i].name, t->e[i].percent);
		if (k < 0)
			continue;
		if (need < len) {
			size_t room = len - need - 1;
			size_t copy = (size_t)k < room ? (size_t)k : room;
			memcpy(out + need, item, copy);
			out[need + copy] = '\0';
		}
		need += (size_t)k;
	}
	return need;
}

unsigned traffic_get(const struct traffic *t, const char *name)
{
	int i = find(t, name, strlen(name));
	return i < 0 ? 0 : t->e[i].percent;
}

int traffic_set(struct traffic *t, const char *name, unsigned percent)
{
	size_t len = strlen(name);
	if (!name_valid(name, len) || percent > 100)
		return -1;
	int i = find(t, name, len);
	if (i >= 0) {
		t->e[i].percent = percent;
		return 0;
	}
	if (t->n == TRAFFIC_MAX)
		return -1;
	put(&t->e[t->n++], name, len, percent);
	return 0;
}

int traffic_remove(struct traffic *t, const char *name)
{
	int i = find(t, name, strlen(name));
	if (i < 0)
		return -1;
	memmove(&t->e[i], &t->e[i + 1], (t->n - (size_t)i - 1) * sizeof t->e[0]);
	t->n--;
	return 0;
}

int traffic_pick(const struct traffic *t, uint64_t r)
{
	unsigned total = traffic_total(t);
	if (total == 0)
		return -1;
	/* Scale the top 32 bits into [0, total) by multiply-shift: unlike
	 * r % total it has no bias worth naming (total <= 2000 of 2^32). */
	uint64_t x = ((r >> 32) * total) >> 32;
	uint64_t acc = 0;
	for (size_t i = 0; i < t->n; i++) {
		acc += t->e[i].percent;
		if (x < acc)
			return (int)i;
	}
	return -1;   /* not reached: x < total == the final acc */
}
