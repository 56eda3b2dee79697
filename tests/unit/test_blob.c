/* test_blob.c - model/blob.c: round trip, determinism, and a loader that
 * refuses every damaged or hostile image. */
#include "tests/unit/unit.h"
#include "model/blob.h"
#include "model/crc32.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/sp-test-blob-XXXXXX";
static float w1[6 * 4], b1[6], w2[3 * 6];
static const char *cols[4] = { "a", "b", "c", "d" };
static const char *labels[3] = { "cat", "dog", "Ankle Boot" };

static struct blob_model sample(void)
{
	struct blob_model m;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < 24; i++)
		w1[i] = (float)i / 7.0f - 1.0f;
	for (int i = 0; i < 6; i++)
		b1[i] = (float)i * 0.25f;
	for (int i = 0; i < 18; i++)
		w2[i] = 1.0f - (float)i / 9.0f;
	m.name = "tiny";
	m.version = "3";
	m.source_digest = "sha256:00";
	m.postprocess = BLOB_POST_LABELS;
	m.input_width = 4;
	m.output_width = 3;
	m.nops = 4;
	m.ops[0] = (struct blob_op){ .kind = BLOB_OP_LINEAR, .in = 4, .out = 6, .param = 0, .weight = w1, .bias = b1 };
	m.ops[1] = (struct blob_op){ .kind = BLOB_OP_LEAKY_RELU, .in = 6, .out = 6, .param = 0.125f };
	m.ops[2] = (struct blob_op){ .kind = BLOB_OP_LINEAR, .in = 6, .out = 3, .param = 0, .weight = w2, .bias = NULL };
	m.ops[3] = (struct blob_op){ .kind = BLOB_OP_SOFTMAX, .in = 3, .out = 3, .param = 0, .weight = NULL, .bias = NULL };
	m.ncolumns = 4;
	m.columns = cols;
	m.nlabels = 3;
	m.labels = labels;
	return m;
}


/* Format version 2: a small CNN with every spatial op, an input shape,
 * both model flags and a verification record. */
static float cw[4 * 1 * 3 * 3], cb[4], ss_scale[4], ss_shift[4], lw[2 * 4];

static struct blob_model sample_v2(void)
{
	struct blob_model m;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < 36; i++)
		cw[i] = (float)i / 11.0f - 1.5f;
	for (int i = 0; i < 4; i++) {
		cb[i] = (float)i * 0.5f;
		ss_scale[i] = 1.0f + (float)i;
		ss_shift[i] = -(float)i;
	}
	for (int i = 0; i < 8; i++)
		lw[i] = (float)i / 8.0f;
	m.name = "cnn";
	m.version = "1";
	m.source_digest = "sha256:01";
	m.postprocess = BLOB_POST_LOGITS;
	m.input_width = 36;
	m.output_width = 2;
	m.ops[0] = (struct blob_op){ .kind = BLOB_OP_CONV2D, .in = 36, .out = 144, .weight = cw, .bias = cb,
				     .g = { 1, 6, 6, 4, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 0, 0 } };
	m.ops[1] = (struct blob_op){ .kind = BLOB_OP_SCALE_SHIFT, .in = 144, .out = 144, .weight = ss_scale,
				     .bias = ss_shift, .g = { 4, 6, 6, 4, 6, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
	m.ops[2] = (struct blob_op){ .kind = BLOB_OP_RELU, .in = 144, .out = 144 };
	m.ops[3] = (struct blob_op){ .kind = BLOB_OP_MAXPOOL2D, .in = 144, .out = 36,
				     .g = { 4, 6, 6, 4, 3, 3, 2, 2, 2, 2, 0, 0, 1, 1, 0, 0 } };
	m.ops[4] = (struct blob_op){ .kind = BLOB_OP_AVGPOOL2D, .in = 36, .out = 16,
				     .g = { 4, 3, 3, 4, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1,
					    BLOB_GEOM_COUNT_PAD | BLOB_GEOM_CEIL_MODE, 3 } };
	m.ops[5] = (struct blob_op){ .kind = BLOB_OP_ADAPTIVE_MAXPOOL2D, .in = 16, .out = 4,
				     .g = { 4, 2, 2, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
	m.ops[6] = (struct blob_op){ .kind = BLOB_OP_ADAPTIVE_AVGPOOL2D, .in = 4, .out = 4,
				     .g = { 4, 1, 1, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } };
	m.ops[7] = (struct blob_op){ .kind = BLOB_OP_LINEAR, .in = 4, .out = 2, .weight = lw };
	m.nops = 8;
	m.input_shape[0] = 1;
	m.input_shape[1] = 6;
	m.input_shape[2] = 6;
	m.flags = BLOB_MODEL_ASSUMED_ORDER | BLOB_MODEL_VERIFIED;
	m.verify = (struct blob_verify){ 1700000000, 3.5e-6f, 200, 199, "1.13.1" };
	return m;
}

/* The image blob_write makes of m, in malloc'd memory. */
static unsigned char *image_of(const struct blob_model *m, const char *name, size_t *n)
{
	char path[256], err[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	CHECKF(blob_write(path, m, err, sizeof err) == 0, "%s", err);
	return (unsigned char *)unit_slurp(path, n);
}

static void path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void test_crc32_check_value(void)
{
	CHECK_INT(crc32_update(0, "123456789", 9), 0xCBF43926u);
	/* Split updates give the same answer as one. */
	uint32_t c = crc32_update(0, "12345", 5);
	CHECK_INT(crc32_update(c, "6789", 4), 0xCBF43926u);
	CHECK_INT(crc32_update(0, "", 0), 0);
}

static void test_round_trip(void)
{
	char path[256], err[256];
	struct blob_model m = sample();
	struct blob_map bm;

	path_in_dir(path, sizeof path, "a.blob");
	CHECKF(blob_write(path, &m, err, sizeof err) == 0, "%s", err);
	CHECKF(blob_map_file(path, &bm, err, sizeof err) == 0, "%s", err);
	if (!bm.base)
		return;
	const struct blob_model *g = &bm.model;
	CHECK_STR(g->name, "tiny");
	CHECK_STR(g->version, "3");
	CHECK_STR(g->source_digest, "sha256:00");
	CHECK_INT(g->postprocess, BLOB_POST_LABELS);
	CHECK_INT(g->input_width, 4);
	CHECK_INT(g->output_width, 3);
	CHECK_INT(g->nops, 4);
	CHECK_INT(g->ops[1].kind, BLOB_OP_LEAKY_RELU);
	CHECK(g->ops[1].param == 0.125f);
	CHECK(g->ops[2].bias == NULL);
	CHECK(memcmp(g->ops[0].weight, w1, sizeof w1) == 0);
	CHECK(memcmp(g->ops[0].bias, b1, sizeof b1) == 0);
	CHECK(memcmp(g->ops[2].weight, w2, sizeof w2) == 0);
	CHECK(((uintptr_t)g->ops[0].weight % 64) == 0);
	CHECK(((uintptr_t)g->ops[0].bias % 64) == 0);
	CHECK(((uintptr_t)g->ops[2].weight % 64) == 0);
	CHECK_INT(g->ncolumns, 4);
	CHECK_STR(g->columns[3], "d");
	CHECK_STR(g->labels[2], "Ankle Boot");
	blob_unmap(&bm);
}

static void test_deterministic(void)
{
	char p1[256], p2[256], err[256];
	struct blob_model m = sample();
	size_t n1 = 0, n2 = 0;

	path_in_dir(p1, sizeof p1, "d1.blob");
	path_in_dir(p2, sizeof p2, "d2.blob");
	CHECK(blob_write(p1, &m, err, sizeof err) == 0);
	CHECK(blob_write(p2, &m, err, sizeof err) == 0);
	unsigned char *a = (unsigned char *)unit_slurp(p1, &n1), *b = (unsigned char *)unit_slurp(p2, &n2);
	CHECK(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
	free(a);
	free(b);
}

/* Flipping any single byte, or cutting the file anywhere, must be refused. */
static void every_damage_refused(const struct blob_model *m)
{
	char err[256];
	struct blob_model g;
	const char **names;
	size_t n = 0;

	unsigned char *img = image_of(m, "dmg.blob", &n);
	CHECK(img != NULL && n > 128);
	CHECK(blob_check(img, n, &g, &names, err, sizeof err) == 0);
	free(names);
	int accepted = 0;
	for (size_t i = 0; i < n; i++) {
		img[i] ^= 0x10;
		if (blob_check(img, n, &g, &names, err, sizeof err) == 0) {
			accepted++;
			free(names);
		}
		img[i] ^= 0x10;
	}
	CHECKF(accepted == 0, "%d single-byte corruptions accepted", accepted);
	accepted = 0;
	for (size_t len = 0; len < n; len++)
		if (blob_check(img, len, &g, &names, err, sizeof err) == 0)
			accepted++;
	CHECKF(accepted == 0, "%d truncations accepted", accepted);
	CHECK(blob_check(img, n - 1, &g, &names, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "truncated");
	free(img);
}

static void test_every_damage_refused(void)
{
	struct blob_model m = sample(), m2 = sample_v2();
	every_damage_refused(&m);
	every_damage_refused(&m2);
}

/* A model that version 1 can hold is written exactly as before version 2
 * existed: the bytes of this blob, written by the version 1 writer, were
 * 648 long with CRC-32 5a2f7f54. */
static void test_v1_model_written_as_before(void)
{
	struct blob_model m = sample();
	size_t n = 0;
	unsigned char *img = image_of(&m, "v1.blob", &n);
	uint32_t version = 0, header_size = 0;

	CHECK(img != NULL);
	if (!img)
		return;
	memcpy(&version, img + 8, 4);
	memcpy(&header_size, img + 12, 4);
	CHECK_INT(version, 1);
	CHECK_INT(header_size, 128);
	CHECK_INT(n, 648);
	CHECKF(crc32_update(0, img, n) == 0x5a2f7f54u, "crc %08x", crc32_update(0, img, n));
	free(img);
}

static void test_v2_round_trip(void)
{
	char path[256], err[256];
	struct blob_model m = sample_v2();
	struct blob_map bm;
	size_t n = 0;

	unsigned char *img = image_of(&m, "v2.blob", &n);
	uint32_t version = 0, header_size = 0, op_size = 0;
	if (img) {
		memcpy(&version, img + 8, 4);
		memcpy(&header_size, img + 12, 4);
		memcpy(&op_size, img + 92, 4);
	}
	CHECK_INT(version, 2);
	CHECK_INT(header_size, 256);
	CHECK_INT(op_size, 128);
	free(img);
	path_in_dir(path, sizeof path, "v2.blob");
	CHECKF(blob_map_file(path, &bm, err, sizeof err) == 0, "%s", err);
	if (!bm.base)
		return;
	const struct blob_model *g = &bm.model;
	CHECK_INT(g->nops, m.nops);
	for (uint32_t i = 0; i < m.nops; i++) {
		CHECKF(g->ops[i].kind == m.ops[i].kind && g->ops[i].in == m.ops[i].in && g->ops[i].out == m.ops[i].out,
		       "op %u", i);
		CHECKF(memcmp(&g->ops[i].g, &m.ops[i].g, sizeof g->ops[i].g) == 0, "op %u geometry", i);
		CHECK((g->ops[i].weight == NULL) == (m.ops[i].weight == NULL));
		CHECK((g->ops[i].bias == NULL) == (m.ops[i].bias == NULL));
		CHECK(((uintptr_t)g->ops[i].weight % 64) == 0 && ((uintptr_t)g->ops[i].bias % 64) == 0);
	}
	CHECK(memcmp(g->ops[0].weight, cw, sizeof cw) == 0);
	CHECK(memcmp(g->ops[0].bias, cb, sizeof cb) == 0);
	CHECK(memcmp(g->ops[1].weight, ss_scale, sizeof ss_scale) == 0);
	CHECK(memcmp(g->ops[1].bias, ss_shift, sizeof ss_shift) == 0);
	CHECK(memcmp(g->ops[7].weight, lw, sizeof lw) == 0);
	CHECK(g->input_shape[0] == 1 && g->input_shape[1] == 6 && g->input_shape[2] == 6);
	CHECK_INT(g->flags, BLOB_MODEL_ASSUMED_ORDER | BLOB_MODEL_VERIFIED);
	CHECK_INT(g->verify.at, 1700000000);
	CHECK(g->verify.max_diff == 3.5e-6f);
	CHECK_INT(g->verify.rows, 200);
	CHECK_INT(g->verify.argmax_agree, 199);
	CHECK_STR(g->verify.torch_version, "1.13.1");
	CHECK_STR(g->name, "cnn");
	CHECK_STR(g->source_digest, "sha256:01");
	blob_unmap(&bm);

	/* Version 2 for a flag or an input shape alone; a v1 blob reads back
	 * with version 2's fields zero. */
	m = sample();
	m.flags = BLOB_MODEL_ASSUMED_ORDER;
	img = image_of(&m, "v2flag.blob", &n);
	CHECK(img && img[8] == 2);
	free(img);
	m = sample();
	m.input_shape[0] = 1;
	m.input_shape[1] = 2;
	m.input_shape[2] = 2;
	img = image_of(&m, "v2shape.blob", &n);
	CHECK(img && img[8] == 2);
	free(img);
	m = sample();
	path_in_dir(path, sizeof path, "v1.blob");
	CHECKF(blob_write(path, &m, err, sizeof err) == 0 && blob_map_file(path, &bm, err, sizeof err) == 0, "%s", err);
	CHECK(bm.model.flags == 0 && bm.model.input_shape[0] == 0 && bm.model.verify.at == 0);
	CHECK(bm.model.verify.torch_version && !*bm.model.verify.torch_version);
	blob_unmap(&bm);
}

/* Patch `width` bytes at `at` of a copy of img, fix the checksum, check:
 * refused with msg in the error. */
static void refused_patched(const unsigned char *img, size_t n, size_t at, uint64_t val, int width, const char *msg)
{
	char err[512];
	struct blob_model g;
	const char **names;
	unsigned char *copy = malloc(n);

	memcpy(copy, img, n);
	memcpy(copy + at, &val, (size_t)width);
	uint32_t crc = crc32_update(0, copy + 32, n - 32);
	memcpy(copy + 24, &crc, 4);
	int rc = blob_check(copy, n, &g, &names, err, sizeof err);
	CHECKF(rc < 0, "patch at %zu (%s) accepted", at, msg);
	if (rc == 0)
		free(names);
	else
		CHECK_CONTAINS(err, msg);
	free(copy);
}

/* A version 2 blob with a correct checksum and a bad field.  Op i's
 * record is at 256 + 128*i; its geometry at +32: c h w oc oh ow (+32..+52)
 * kh kw sh sw ph pw dh dw (+56..+84) flags divisor (+88, +92). */
static void test_v2_hostile_fields(void)
{
	struct blob_model m = sample_v2();
	size_t n = 0;
	unsigned char *img = image_of(&m, "h2.blob", &n);
	if (!img)
		return;
	const size_t op0 = 256, op3 = 256 + 3 * 128, op4 = 256 + 4 * 128;
	struct { size_t at; uint64_t val; int width; const char *msg; } cases[] = {
		{ 8, 3, 4, "blob format version 3; this build reads versions 1 to 2" },
		{ 12, 128, 4, "header size 128, expected 256" },
		{ 92, 32, 4, "op record size 32, expected 128" },
		{ 112, 2, 4, "input shape 2x6x6 does not hold 36 inputs" },
		{ 124, 4, 4, "unknown model flags" },
		{ 124, BLOB_MODEL_ASSUMED_ORDER, 4, "without the verified flag" },
		{ 128, 0, 8, "bad verification record" },
		{ 140, 0, 4, "bad verification record" },
		{ 144, 201, 4, "bad verification record" },
		{ 136, 0x7f800000, 4, "bad verification record" },   /* max_diff inf */
		{ 148, 1u << 30, 4, "torch version string" },
		{ 200, 1, 1, "reserved header bytes" },
		{ op0 + 100, 1, 1, "reserved bytes" },
		{ op0 + 32, 2, 4, "input 2x6x6 is not its 36 inputs" },
		{ op0 + 48, 5, 4, "output 4x5x6 is not its 144 outputs" },
		{ op0 + 56, 0, 4, "out of range" },                     /* kh 0 */
		{ op0 + 60, 65, 4, "out of range" },                    /* kw 65 */
		{ op0 + 64, 0, 4, "out of range" },                     /* sh 0 */
		{ op0 + 80, 0, 4, "out of range" },                     /* dh 0 */
		{ op0 + 72, 4097, 4, "out of range" },                  /* ph */
		{ op0 + 72, 3, 4, "does not follow" },                  /* ph 3: output would be 10 */
		{ op0 + 88, 1, 4, "unknown geometry flags" },           /* count_pad on a conv */
		{ op0 + 16, 64 + 1, 8, "weights" },
		{ op0 + 24, 1u << 20, 8, "bias" },
		{ op3 + 72, 2, 4, "output 3x3 does not follow from input 6x6, kernel 2x2, stride 2x2, padding 2x0" },
		{ op3 + 92, 3, 4, "divisor" },                          /* a divisor on a max pool */
		{ op3 + 16, 4096, 8, "weights on an op that has none" },
		{ op3 + 44, 1 | (uint64_t)12 << 32, 8, "4 channels in, 1 out" },   /* 1x12x3 */
		{ op4 + 80, 2, 4, "dilation 2x1" },                     /* avg pooling has none */
		{ op4 + 88, 4, 4, "unknown geometry flags" },
		{ 256 + 2 * 128 + 32, 1, 4, "a geometry on an op that has none" },   /* relu */
		{ 256 + 1 * 128 + 24, 0, 8, "no shift" },               /* scale_shift without shift */
		{ 256 + 1 * 128 + 48, 4 | (uint64_t)9 << 32, 8, "6x6 in, 4x9 out" },   /* scale_shift resizes */
		{ 256 + 5 * 128 + 56, 1, 4, "a window on an op that has none" },   /* adaptive */
		{ 256 + 0 * 128, 99, 4, "unknown kind" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
		refused_patched(img, n, cases[c].at, cases[c].val, cases[c].width, cases[c].msg);
	free(img);

	/* A version 1 blob knows no spatial op. */
	struct blob_model v1 = sample();
	img = image_of(&v1, "h1.blob", &n);
	if (img)
		refused_patched(img, n, 128 + 32, BLOB_OP_CONV2D, 4, "op 1: unknown kind 11");
	free(img);
}

/* The writer refuses what the checker would, before creating anything. */
static void test_v2_writer_refusals(void)
{
	char path[256], err[512];
	struct blob_model m;

	path_in_dir(path, sizeof path, "w2.blob");
	m = sample_v2();
	m.ops[0].g.sh = 0;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "op 0 (conv2d): kernel 3x3, stride 0x1");
	m = sample_v2();
	m.ops[0].g.oh = 7;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "op 0 (conv2d): output 4x7x6 is not its 144 outputs");
	m = sample_v2();
	m.ops[1].bias = NULL;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "op 1 (scale_shift): inconsistent");
	m = sample_v2();
	m.ops[2].g.c = 1;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "op 2 (relu): a geometry on an op that has none");
	m = sample_v2();
	m.flags = BLOB_MODEL_ASSUMED_ORDER;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "a verification record without the verified flag");
	m = sample_v2();
	m.verify.argmax_agree = 201;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "bad verification record");
	m = sample_v2();
	m.input_shape[2] = 5;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "input shape 1x6x5 does not hold 36 inputs");
	CHECK(access(path, F_OK) < 0);
}

/* A hostile file with a correct checksum: offsets must still be checked. */
static void test_hostile_offsets(void)
{
	char path[256], err[256];
	struct blob_model m = sample(), g;
	const char **names;
	size_t n = 0;

	path_in_dir(path, sizeof path, "h.blob");
	CHECK(blob_write(path, &m, err, sizeof err) == 0);
	unsigned char *img = (unsigned char *)unit_slurp(path, &n);
	struct { size_t at; uint64_t val; int width; const char *msg; } cases[] = {
		{ 128 + 16, (uint64_t)1 << 40, 8, "weights" },          /* op 0 weight offset */
		{ 128 + 16, 64 + 1, 8, "weights" },                     /* unaligned */
		{ 128 + 24, (uint64_t)-64, 8, "bias" },                 /* op 0 bias offset */
		{ 128 + 4, 5, 4, "receives" },                          /* op 0 in != input width */
		{ 128 + 32 + 8, 7, 4, "activation" },                   /* relu changes width */
		{ 128, 99, 4, "unknown kind" },
		{ 32, 0, 4, "op count" },
		{ 32, 65, 4, "op count" },
		{ 56, (uint64_t)1 << 62, 8, "op table" },
		{ 72, 0, 8, "string table" },
		{ 80, 1u << 30, 4, "string reference" },
		{ 44, 9, 4, "post-processing" },
		{ 96, 3, 8, "column" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		unsigned char *copy = malloc(n);
		memcpy(copy, img, n);
		memcpy(copy + cases[c].at, &cases[c].val, (size_t)cases[c].width);
		uint32_t crc = crc32_update(0, copy + 32, n - 32);
		memcpy(copy + 24, &crc, 4);
		int rc = blob_check(copy, n, &g, &names, err, sizeof err);
		CHECKF(rc < 0, "case %zu accepted", c);
		if (rc == 0)
			free(names);
		else
			CHECK_CONTAINS(err, cases[c].msg);
		free(copy);
	}
	free(img);
}

/* Labels and column names are UTF-8: an overlong "/" or a surrogate is
 * refused by the writer, and by the checker in a blob forged around it. */
static void test_labels_utf8(void)
{
	static const char *bad[3] = { "cat", "c\xc0\xaf", "Ankle Boot" };
	char path[256], err[256];
	struct blob_model m = sample(), g;
	const char **names;
	size_t n = 0;

	path_in_dir(path, sizeof path, "u.blob");
	m.labels = bad;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "label 1 is not valid UTF-8");
	m = sample();
	CHECK(blob_write(path, &m, err, sizeof err) == 0);
	unsigned char *img = (unsigned char *)unit_slurp(path, &n);
	unsigned char *dog = NULL;
	for (size_t i = 0; img && !dog && i + 4 <= n; i++)
		if (memcmp(img + i, "dog", 4) == 0)
			dog = img + i;
	CHECK(dog != NULL);
	if (!dog) {
		free(img);
		return;
	}
	memcpy(dog, "\xed\xa0\x80", 3);   /* U+D800, encoded */
	uint32_t crc = crc32_update(0, img + 32, n - 32);
	memcpy(img + 24, &crc, 4);
	CHECK(blob_check(img, n, &g, &names, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "label 1 is not valid UTF-8");
	free(img);
}

static int dir_entries(void)
{
	int count = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			count++;
	if (d)
		closedir(d);
	return count;
}

static void test_write_failures_leave_nothing(void)
{
	char path[256], err[256];
	struct blob_model m = sample();
	int before = dir_entries();

	CHECK(blob_write("/nonexistent-dir/x.blob", &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "/nonexistent-dir/x.blob");
	m.ops[2].in = 5;   /* breaks the width chain */
	path_in_dir(path, sizeof path, "bad.blob");
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "op 2");
	m = sample();
	m.postprocess = BLOB_POST_LABELS;
	m.nlabels = 0;
	m.labels = NULL;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	CHECK_INT(dir_entries(), before);
	/* A target that exists stays untouched when the new write fails. */
	m = sample();
	path_in_dir(path, sizeof path, "keep.blob");
	CHECK(blob_write(path, &m, err, sizeof err) == 0);
	size_t n0 = 0, n1 = 0;
	unsigned char *before_img = (unsigned char *)unit_slurp(path, &n0);
	m.nops = 0;
	CHECK(blob_write(path, &m, err, sizeof err) < 0);
	unsigned char *after_img = (unsigned char *)unit_slurp(path, &n1);
	CHECK(n0 == n1 && memcmp(before_img, after_img, n0) == 0);
	free(before_img);
	free(after_img);
}

static void test_map_errors_name_file(void)
{
	char path[256], err[256];
	struct blob_map bm;

	CHECK(blob_map_file("/nonexistent.blob", &bm, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "/nonexistent.blob");
	path_in_dir(path, sizeof path, "text.blob");
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 50; i++)
		fputs("not a blob\n", f);
	fclose(f);
	CHECK(blob_map_file(path, &bm, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "bad magic");
	CHECK_CONTAINS(err, path);
}

/* True when this process maps `path` from the file (not a private copy). */
static int maps_file(const char *path)
{
	char line[1024];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f))
		if (strstr(line, path))
			found = 1;
	if (f)
		fclose(f);
	return found;
}

/* Another process overwrites `path` in place (open O_TRUNC, write junk) or
 * truncates it to 64 bytes; returns once it is done. */
static void damage_in_place(const char *path, int truncate_only)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (truncate_only)
			_exit(truncate(path, 64) == 0 ? 0 : 1);
		int fd = open(path, O_WRONLY | O_TRUNC);
		char junk[512];
		memset(junk, 0x5a, sizeof junk);
		_exit(fd >= 0 && write(fd, junk, sizeof junk) == (ssize_t)sizeof junk ? 0 : 1);
	}
	int status = -1;
	while (pid > 0 && waitpid(pid, &status, 0) < 0)
		;
	CHECKF(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed (%d)", status);
}

/* The model the mapping holds is still the one written: same checksum,
 * same weights. */
static void check_intact(const struct blob_map *bm)
{
	struct blob_model m;
	const char **names = NULL;
	char err[256];
	CHECKF(blob_check(bm->base, bm->size, &m, &names, err, sizeof err) == 0, "%s", err);
	free(names);
	CHECK(memcmp(bm->model.ops[0].weight, w1, sizeof w1) == 0);
	CHECK_STR(bm->model.labels[2], "Ankle Boot");
}

/* Write a blob, map it, have another process overwrite it in place and
 * then (second round) truncate it: the mapping keeps the model, at the same
 * address.  shared: whether it should be mapped from the file until then. */
static void survives_damage(const char *name, int shared)
{
	char path[256], err[256];
	struct blob_model m = sample();
	struct blob_map bm;

	path_in_dir(path, sizeof path, name);
	for (int trunc = 0; trunc < 2; trunc++) {
		CHECKF(blob_write(path, &m, err, sizeof err) == 0, "%s", err);
		CHECKF(blob_map_file(path, &bm, err, sizeof err) == 0, "%s", err);
		if (!bm.base)
			return;
		const void *base = bm.base;
		CHECKF(maps_file(path) == shared, "%s: mapped from the file: %d", path, !shared);
		damage_in_place(path, trunc);
		CHECK(!maps_file(path));
		CHECK(bm.base == base);
		check_intact(&bm);
		blob_unmap(&bm);
	}
}

/* Without blob_guard_init() the blob is a private copy from the start. */
static void test_private_copy_survives_overwrite_and_truncation(void)
{
	survives_damage("private.blob", 0);
}

/* With it, the file is mapped shared under a lease, and copied at the same
 * address when another process opens it for writing or truncates it. */
static void test_guarded_map_copied_when_the_file_is_written(void)
{
	char path[256], err[256];
	struct blob_model m = sample();
	struct blob_map bm;

	CHECKF(blob_guard_init(err, sizeof err) == 0, "%s", err);
	survives_damage("guarded.blob", 1);
	path_in_dir(path, sizeof path, "guarded.blob");
	/* Unmapping releases the lease: a writer is not held back. */
	CHECKF(blob_write(path, &m, err, sizeof err) == 0, "%s", err);
	CHECKF(blob_map_file(path, &bm, err, sizeof err) == 0, "%s", err);
	blob_unmap(&bm);
	int fd = open(path, O_WRONLY | O_NONBLOCK);
	CHECKF(fd >= 0, "open for writing after unmap: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	/* A file open for writing has no lease to give: a private copy. */
	fd = open(path, O_WRONLY);
	CHECKF(blob_map_file(path, &bm, err, sizeof err) == 0, "%s", err);
	CHECK(!maps_file(path));
	blob_unmap(&bm);
	if (fd >= 0)
		close(fd);
}

static void test_names(void)
{
	CHECK_STR(blob_op_name(BLOB_OP_GELU_TANH), "gelu_tanh");
	CHECK_INT(blob_op_parse("log_softmax"), BLOB_OP_LOG_SOFTMAX);
	CHECK_INT(blob_op_parse("conv2d"), BLOB_OP_CONV2D);
	CHECK_INT(blob_op_parse("nope"), -1);
	for (int k = 1; k < BLOB_OP_KIND_END; k++)
		CHECKF(blob_op_parse(blob_op_name((uint32_t)k)) == k, "kind %d", k);
	CHECK_STR(blob_op_name(BLOB_OP_KIND_END), "unknown");
	CHECK_INT(blob_post_parse("probabilities"), BLOB_POST_PROBABILITIES);
	CHECK_INT(blob_post_parse("nope"), -1);
	CHECK_STR(blob_post_name(BLOB_POST_LABELS), "labels");
}

static void cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	RUN(test_crc32_check_value);
	RUN(test_round_trip);
	RUN(test_deterministic);
	RUN(test_every_damage_refused);
	RUN(test_v1_model_written_as_before);
	RUN(test_v2_round_trip);
	RUN(test_v2_hostile_fields);
	RUN(test_v2_writer_refusals);
	RUN(test_hostile_offsets);
	RUN(test_labels_utf8);
	RUN(test_write_failures_leave_nothing);
	RUN(test_map_errors_name_file);
	RUN(test_names);
	RUN(test_private_copy_survives_overwrite_and_truncation);
	RUN(test_guarded_map_copied_when_the_file_is_written);   /* last: it installs the guard */
	cleanup();
	return unit_done();
}
