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
	m.ops[0] = (struct blob_op){ BLOB_OP_LINEAR, 4, 6, 0, w1, b1 };
	m.ops[1] = (struct blob_op){ BLOB_OP_LEAKY_RELU, 6, 6, 0.125f, NULL, NULL };
	m.ops[2] = (struct blob_op){ BLOB_OP_LINEAR, 6, 3, 0, w2, NULL };
	m.ops[3] = (struct blob_op){ BLOB_OP_SOFTMAX, 3, 3, 0, NULL, NULL };
	m.ncolumns = 4;
	m.columns = cols;
	m.nlabels = 3;
	m.labels = labels;
	return m;
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
static void test_every_damage_refused(void)
{
	char path[256], err[256];
	struct blob_model m = sample(), g;
	const char **names;
	size_t n = 0;

	path_in_dir(path, sizeof path, "dmg.blob");
	CHECK(blob_write(path, &m, err, sizeof err) == 0);
	unsigned char *img = (unsigned char *)unit_slurp(path, &n);
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
	CHECK_INT(blob_op_parse("conv2d"), -1);
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
