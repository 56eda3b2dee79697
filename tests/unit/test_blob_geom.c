/* test_blob_geom.c - the geometry rules of model/blob.c (check_geom, the
 * one function the checker and the writer share): every geometry torch
 * can give is accepted, and each impossible one refused with its reason.
 * Includes blob.c to call check_geom without a file per case. */
#include "model/blob.c"

#include "tests/unit/unit.h"

/* torch's output size along one axis (conv2d, max/avg_pool2d). */
static long out_size(long n, long k, long s, long p, long d, int ceil_mode)
{
	long span = n + 2 * p - d * (k - 1) - 1;
	if (span < 0)
		return 0;
	long o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
	if (ceil_mode && (o - 1) * s >= n + p)
		o--;
	return o;
}

/* Brute force: does every window along this axis hold an input position? */
static int windows_hit(long n, long o, long k, long s, long p, long d)
{
	for (long i = 0; i < o; i++) {
		int hit = 0;
		for (long j = 0; j < k; j++)
			hit |= i * s - p + j * d >= 0 && i * s - p + j * d < n;
		if (!hit)
			return 0;
	}
	return 1;
}

static int geom_ok(uint32_t kind, struct blob_geom g, char *err, size_t errlen)
{
	struct blob_op op = { .kind = kind, .g = g };
	op.in = g.c * g.h * g.w;
	op.out = g.oc * g.oh * g.ow;
	return check_geom(&op, 0, err, errlen);
}

/* Convolutions and max pools with kernel 1..5, stride 1..3, padding up to
 * torch's bound, dilation 1..3, floor and ceil mode, on sizes 1..9: all
 * accepted but the max pools where a dilated window skips over a tiny
 * input (torch would answer -inf). */
static void test_torch_geometries_accepted(void)
{
	char err[512];
	int cases = 0;
	for (uint32_t h = 1; h <= 9; h++)
		for (uint32_t k = 1; k <= 5; k++)
			for (uint32_t s = 1; s <= 3; s++)
				for (uint32_t d = 1; d <= 3; d++)
					for (uint32_t p = 0; p <= 3; p++)
						for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++) {
							long o = out_size(h, k, s, p, d, ceil_mode);
							if (o < 1)
								continue;
							struct blob_geom g = { 2, h, h + 1, 3, (uint32_t)o, 0, k, k, s, s, p, p,
									       d, d, 0, 0 };
							g.ow = (uint32_t)out_size(h + 1, k, s, p, d, ceil_mode);
							if (g.ow < 1)
								continue;
							if (!ceil_mode) {
								CHECKF(geom_ok(BLOB_OP_CONV2D, g, err, sizeof err) == 0, "%s", err);
								cases++;
							}
							g.oc = 2;
							g.flags = ceil_mode ? BLOB_GEOM_CEIL_MODE : 0;
							/* torch: pad at most half the effective kernel */
							int hit = windows_hit(h, g.oh, k, s, p, d) && windows_hit(h + 1, g.ow, k, s, p, d);
							if (2 * p <= (k - 1) * d + 1) {
								int rc = geom_ok(BLOB_OP_MAXPOOL2D, g, err, sizeof err);
								CHECKF(hit ? rc == 0 : rc < 0 && strstr(err, "wholly in the padding"),
								       "h %u k %u s %u d %u p %u ceil %d: %s", h, k, s, d, p, ceil_mode,
								       rc ? err : "accepted");
								cases++;
							}
							g.dh = g.dw = 1;
							g.ow = (uint32_t)out_size(h + 1, k, s, p, 1, ceil_mode);
							g.oh = (uint32_t)out_size(h, k, s, p, 1, ceil_mode);
							g.flags |= BLOB_GEOM_COUNT_PAD;
							if (2 * p <= k && g.oh >= 1 && g.ow >= 1) {
								CHECKF(geom_ok(BLOB_OP_AVGPOOL2D, g, err, sizeof err) == 0, "%s", err);
								cases++;
							}
						}
	CHECKF(cases > 1500, "%d cases", cases);
	/* padding="same", stride 1: d*(k-1) in all, the odd one after. */
	for (uint32_t k = 1; k <= 6; k++)
		for (uint32_t d = 1; d <= 3; d++) {
			struct blob_geom g = { 1, 5, 5, 1, 5, 5, k, k, 1, 1, d * (k - 1) / 2, d * (k - 1) / 2, d, d, 0, 0 };
			CHECKF(geom_ok(BLOB_OP_CONV2D, g, err, sizeof err) == 0, "same k %u d %u: %s", k, d, err);
		}
	/* The largest kernel, dilation and its "same" padding. */
	struct blob_geom big = { 1, 8, 8, 1, 8, 8, 64, 64, 1, 1, 2016, 2016, 64, 64, 0, 0 };
	CHECKF(geom_ok(BLOB_OP_CONV2D, big, err, sizeof err) == 0, "%s", err);
}

static void test_bad_geometries_refused(void)
{
	char err[512];
	struct {
		uint32_t kind;
		struct blob_geom g;
		const char *msg;
	} cases[] = {
		/* the last window in the bottom padding alone (1x1 kernel, oh 4 of 3 rows) */
		{ BLOB_OP_MAXPOOL2D, { 1, 3, 3, 1, 4, 3, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0 }, "wholly in the padding" },
		{ BLOB_OP_AVGPOOL2D, { 1, 3, 3, 1, 4, 3, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0 }, "wholly in the padding" },
		/* one row; a dilated window's taps at -1 and 1 skip it */
		{ BLOB_OP_MAXPOOL2D, { 1, 1, 4, 1, 1, 4, 2, 1, 1, 1, 1, 0, 2, 1, 0, 0 }, "wholly in the padding" },
		{ BLOB_OP_CONV2D, { 1, 4, 4, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 }, NULL },
		{ BLOB_OP_CONV2D, { 1, 4, 4, 1, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 }, "output 6x4 does not follow" },
		{ BLOB_OP_CONV2D, { 1, 4, 4, 1, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 }, "output 3x4 does not follow" },
		{ BLOB_OP_CONV2D, { 1, 4, 4, 1, 4, 4, 3, 3, 1, 1, 1, 1, 65, 1, 0, 0 }, "out of range" },
		{ BLOB_OP_CONV2D, { 1, 4, 4, 1, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 0, 2 }, "divisor 2 out of range" },
		{ BLOB_OP_CONV2D, { 30000, 1, 1, 1, 1, 1, 7, 7, 1, 1, 3, 3, 1, 1, 0, 0 }, "inputs per output" },
		{ BLOB_OP_AVGPOOL2D, { 1, 4, 4, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 0, (1u << 20) + 1 }, "divisor" },
		{ BLOB_OP_AVGPOOL2D, { 1, 4, 4, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 4, 0 }, "unknown geometry flags" },
		{ BLOB_OP_MAXPOOL2D, { 1, 4, 4, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, BLOB_GEOM_COUNT_PAD, 0 },
		  "unknown geometry flags" },
		{ BLOB_OP_ADAPTIVE_AVGPOOL2D, { 1, 4, 4, 1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, BLOB_GEOM_CEIL_MODE, 0 },
		  "unknown geometry flags" },
		{ BLOB_OP_ADAPTIVE_MAXPOOL2D, { 1, 4, 4, 1, 2, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 }, "a window" },
		{ BLOB_OP_ADAPTIVE_MAXPOOL2D, { 1, 4, 4, 1, 9, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, NULL },
		{ BLOB_OP_SCALE_SHIFT, { 2, 4, 4, 2, 4, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, "a window" },
		{ BLOB_OP_SCALE_SHIFT, { 2, 4, 4, 3, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "2 channels in, 3 out" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		int rc = geom_ok(cases[c].kind, cases[c].g, err, sizeof err);
		if (!cases[c].msg) {
			CHECKF(rc == 0, "case %zu: %s", c, err);
			continue;
		}
		CHECKF(rc < 0, "case %zu (%s) accepted", c, cases[c].msg);
		if (rc < 0)
			CHECK_CONTAINS(err, cases[c].msg);
	}
}

int main(void)
{
	RUN(test_torch_geometries_accepted);
	RUN(test_bad_geometries_refused);
	return unit_done();
}
