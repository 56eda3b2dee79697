/*
 * test_zip.c - tools/zip.c on zip images built here byte by byte (stored
 * entries, FB alignment padding, ZIP64 end records and extra fields, and
 * every kind of damage), and on the fixtures under fixtures/pth/.
 */
#include "tests/unit/unit.h"
#include "tools/zip.h"
#include "model/crc32.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a small zip writer --------------------------------------------- */

#define ZB_MAX 16

struct zb_ent {
	char name[64];
	uint64_t lfh, data, size;
	uint32_t crc;
	uint16_t method;
};

struct zb {
	unsigned char buf[1 << 16];
	size_t len, cd;
	struct zb_ent e[ZB_MAX];
	int n;
};

struct zb_fin {
	int zip64_eocd;      /* write a ZIP64 EOCD record and locator */
	int zip64_extra;     /* sizes and offsets as 0xFFFFFFFF + 0x0001 extra */
	const char *comment;
};

static void put8(struct zb *z, unsigned v) { z->buf[z->len++] = (unsigned char)v; }
static void put16(struct zb *z, unsigned v) { put8(z, v & 0xff); put8(z, (v >> 8) & 0xff); }
static void put32(struct zb *z, uint32_t v) { put16(z, v & 0xffff); put16(z, v >> 16); }
static void put64(struct zb *z, uint64_t v) { put32(z, (uint32_t)v); put32(z, (uint32_t)(v >> 32)); }
static void putn(struct zb *z, const void *p, size_t n) { memcpy(z->buf + z->len, p, n); z->len += n; }

/* A local header with torch's FB padding, the data, and a descriptor. */
static void zb_add(struct zb *z, const char *name, const void *data,
		   size_t size, uint16_t method)
{
	struct zb_ent *e = &z->e[z->n++];
	size_t nlen = strlen(name);
	size_t start = z->len + 30 + nlen + 4;
	unsigned pad = (unsigned)((64 - start % 64) % 64);

	snprintf(e->name, sizeof e->name, "%s", name);
	e->lfh = z->len;
	e->size = size;
	e->crc = crc32_update(0, data, size);
	e->method = method;
	put32(z, 0x04034b50);
	put16(z, 0);
	put16(z, 0x0808);
	put16(z, method);
	put32(z, 0);          /* time, date */
	put32(z, 0);          /* crc: in the descriptor */
	put32(z, 0);
	put32(z, 0);
	put16(z, (unsigned)nlen);
	put16(z, 4 + pad);
	putn(z, name, nlen);
	put16(z, 0x4246);     /* 'FB' */
	put16(z, pad);
	memset(z->buf + z->len, 'Z', pad);
	z->len += pad;
	e->data = z->len;
	putn(z, data, size);
	put32(z, 0x08074b50);
	put32(z, e->crc);
	put32(z, (uint32_t)size);
	put32(z, (uint32_t)size);
}

static void zb_finish(struct zb *z, const struct zb_fin *f)
{
	uint64_t cd = z->len, z64;
	size_t clen = f->comment ? strlen(f->comment) : 0;
	int i;

	z->cd = cd;
	for (i = 0; i < z->n; i++) {
		struct zb_ent *e = &z->e[i];
		size_t nlen = strlen(e->name);
		put32(z, 0x02014b50);
		put16(z, 0x031e);
		put16(z, 0x2d);
		put16(z, 0x0808);
		put16(z, e->method);
		put32(z, 0);
		put32(z, e->crc);
		put32(z, f->zip64_extra ? 0xffffffffu : (uint32_t)e->size);
		put32(z, f->zip64_extra ? 0xffffffffu : (uint32_t)e->size);
		put16(z, (unsigned)nlen);
		put16(z, f->zip64_extra ? 28 : 0);
		put16(z, 0);
		put16(z, 0);
		put16(z, 0);
		put32(z, 0);
		put32(z, f->zip64_extra ? 0xffffffffu : (uint32_t)e->lfh);
		putn(z, e->name, nlen);
		if (f->zip64_extra) {
			put16(z, 1);
			put16(z, 24);
			put64(z, e->size);
			put64(z, e->size);
			put64(z, e->lfh);
		}
	}
	z64 = z->len;
	if (f->zip64_eocd) {
		put32(z, 0x06064b50);
		put64(z, 44);
		put16(z, 0x031e);
		put16(z, 0x2d);
		put32(z, 0);
		put32(z, 0);
		put64(z, (uint64_t)z->n);
		put64(z, (uint64_t)z->n);
		put64(z, z64 - cd);
		put64(z, cd);
		put32(z, 0x07064b50);
		put32(z, 0);
		put64(z, z64);
		put32(z, 1);
	}
	put32(z, 0x06054b50);
	put16(z, 0);
	put16(z, 0);
	put16(z, f->zip64_eocd ? 0xffff : (unsigned)z->n);
	put16(z, f->zip64_eocd ? 0xffff : (unsigned)z->n);
	put32(z, f->zip64_eocd ? 0xffffffffu : (uint32_t)(z64 - cd));
	put32(z, f->zip64_eocd ? 0xffffffffu : (uint32_t)cd);
	put16(z, (unsigned)clen);
	if (clen)
		putn(z, f->comment, clen);
}

static const char pkl[] = "\x80\x02K\x07.";
static const float w[6] = { 1, 2, 3, 4, 5, 6 };

/* The usual small archive: data.pkl, data/0, version. */
static void zb_torch(struct zb *z, const struct zb_fin *f)
{
	memset(z, 0, sizeof *z);
	zb_add(z, "sd/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(z, "sd/data/0", w, sizeof w, 0);
	zb_add(z, "sd/version", "3\n", 2, 0);
	zb_finish(z, f);
}

/* zip_open_mem on an exact-size heap copy, so ASan sees any overread. */
static int open_copy(struct zip *zp, const void *buf, size_t len, void **copy,
		     char *err, size_t errlen)
{
	*copy = malloc(len ? len : 1);
	memcpy(*copy, buf, len);
	return zip_open_mem(zp, *copy, len, err, errlen);
}

static unsigned char *find(unsigned char *p, size_t n, const char *pat,
			   size_t m)
{
	size_t i;

	for (i = 0; i + m <= n; i++)
		if (memcmp(p + i, pat, m) == 0)
			return p + i;
	return NULL;
}

/* ---- tests ----------------------------------------------------------- */

static void test_crc32(void)
{
	CHECK_INT(crc32_update(0, "123456789", 9), 0xcbf43926u);
	CHECK_INT(crc32_update(0, "", 0), 0);
	CHECK_INT(crc32_update(crc32_update(0, "1234", 4), "56789", 5), 0xcbf43926u);
}

static void test_stored_entries(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	const struct zip_entry *e;
	const unsigned char *d;
	char err[256];

	zb_torch(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_STR(zp.prefix, "sd/");
	CHECK_INT(zp.nentries, 3);
	e = zip_find(&zp, "sd/data/0");
	CHECK(e != NULL);
	if (e) {
		CHECK_INT(e->size, sizeof w);
		CHECK_INT(e->data_offset % 64, 0);   /* FB padding honoured */
		CHECK_INT(zip_data(&zp, e, &d, err, sizeof err), 0);
		CHECK(memcmp(d, w, sizeof w) == 0);
	}
	CHECK(zip_record(&zp, "data.pkl") == zip_find(&zp, "sd/data.pkl"));
	CHECK(zip_find(&zp, "sd/data/1") == NULL);
	CHECK(zip_find(&zp, "sd/data") == NULL);
	CHECK(zip_find(&zp, "data.pkl") == NULL);
	CHECK_INT(zip_check_torch_save(&zp, err, sizeof err), 0);
	zip_close(&zp);
}

static void test_zip64_eocd(void)
{
	static struct zb z;
	struct zb_fin f = { .zip64_eocd = 1 };
	struct zip zp;
	const unsigned char *d;
	char err[256];

	zb_torch(&z, &f);
	CHECKF(zip_open_mem(&zp, z.buf, z.len, err, sizeof err) == 0, "%s", err);
	CHECK_INT(zp.nentries, 3);
	CHECK(zip_find(&zp, "sd/version") != NULL);
	zip_close(&zp);

	/* Both ZIP64 end records and ZIP64 extras in the directory. */
	f.zip64_extra = 1;
	zb_torch(&z, &f);
	CHECKF(zip_open_mem(&zp, z.buf, z.len, err, sizeof err) == 0, "%s", err);
	if (zp.nentries == 3) {
		const struct zip_entry *e = zip_find(&zp, "sd/data/0");
		CHECK(e != NULL);
		if (e) {
			CHECK_INT(e->size, sizeof w);
			CHECK_INT(e->lfh_offset, z.e[1].lfh);
			CHECK_INT(zip_data(&zp, e, &d, err, sizeof err), 0);
		}
	}
	zip_close(&zp);
}

static void test_zip64_extra_short(void)
{
	static struct zb z;
	struct zb_fin f = { .zip64_extra = 1 };
	struct zip zp;
	unsigned char *x;
	char err[256];

	zb_torch(&z, &f);
	/* Shrink entry 0's 0x0001 payload length from 24 to 16 bytes. */
	x = find(z.buf + z.cd, z.len - z.cd, "\x01\x00\x18\x00", 4);
	CHECK(x != NULL);
	if (!x)
		return;
	x[2] = 16;
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "entry sd/data.pkl: ZIP64 extra field too short");
	x[2] = 40;   /* longer than the extra area */
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "malformed extra field");
	x[2] = 24;
	x[0] = 9;   /* some other extra: the 0xFFFFFFFF fields are unexplained */
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "without a ZIP64 extra field");
}

static void test_comment(void)
{
	static struct zb z;
	struct zb_fin f = { .comment = "hello PK\x05\x06 not a record" };
	struct zip zp;
	char err[256];

	zb_torch(&z, &f);
	CHECKF(zip_open_mem(&zp, z.buf, z.len, err, sizeof err) == 0, "%s", err);
	CHECK_INT(zp.nentries, 3);
	zip_close(&zp);
	f.zip64_eocd = 1;
	zb_torch(&z, &f);
	CHECKF(zip_open_mem(&zp, z.buf, z.len, err, sizeof err) == 0, "%s", err);
	zip_close(&zp);
}

static void test_method8(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	const unsigned char *d;
	char err[256];

	memset(&z, 0, sizeof z);
	zb_add(&z, "m/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(&z, "m/code/x.py", "xyz", 3, 8);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_INT(zip_data(&zp, zip_find(&zp, "m/code/x.py"), &d, err,
			   sizeof err), -1);
	CHECK_CONTAINS(err, "method 8");
	CHECK_CONTAINS(err, "m/code/x.py");
	CHECK_INT(zip_check_torch_save(&zp, err, sizeof err), -1);
	CHECK_CONTAINS(err, "TorchScript archive (torch.jit.save)");
	zip_close(&zp);
}

static void test_bad_crc(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	const unsigned char *d;
	char err[256];

	zb_torch(&z, &f);
	z.buf[z.e[1].data + 5]++;
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_INT(zip_data(&zp, zip_find(&zp, "sd/data/0"), &d, err, sizeof err),
		  -1);
	CHECK_CONTAINS(err, "CRC-32 mismatch");
	CHECK_INT(zip_data(&zp, zip_find(&zp, "sd/data.pkl"), &d, err,
			   sizeof err), 0);
	zip_close(&zp);
}

/* A stored CRC of 0 is checked like any other: data with another CRC is
 * refused, an empty entry (whose CRC is 0) is read. */
static void test_zero_crc(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	const unsigned char *d = NULL;
	char err[256];

	memset(&z, 0, sizeof z);
	zb_add(&z, "sd/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(&z, "sd/data/0", w, sizeof w, 0);
	zb_add(&z, "sd/empty", "", 0, 0);
	z.e[1].crc = 0;   /* the central directory says 0; the data is not empty */
	CHECK_INT(z.e[2].crc, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	err[0] = '\0';
	CHECK_INT(zip_data(&zp, zip_find(&zp, "sd/data/0"), &d, err, sizeof err), -1);
	CHECK_CONTAINS(err, "entry sd/data/0: CRC-32 mismatch");
	CHECK_CONTAINS(err, "stored as 0");
	CHECK_INT(zip_data(&zp, zip_find(&zp, "sd/empty"), &d, err, sizeof err), 0);
	CHECK(d != NULL);
	CHECK_INT(zip_data(&zp, zip_find(&zp, "sd/data.pkl"), &d, err, sizeof err), 0);
	zip_close(&zp);
}

/* zip_open refuses a FIFO at once (alarm: a hang fails the run) and a
 * directory, in one line each. */
static void test_open_not_regular(void)
{
	char d[] = "/tmp/sp-test-zip-XXXXXX", fifo[64], err[256];
	struct zip zp;

	if (!mkdtemp(d)) {
		CHECK(0);
		return;
	}
	snprintf(fifo, sizeof fifo, "%s/m.pth", d);
	CHECK_INT(mkfifo(fifo, 0600), 0);
	alarm(5);
	CHECK_INT(zip_open(&zp, fifo, err, sizeof err), -1);
	alarm(0);
	CHECK_STR(err, "not a regular file (a FIFO)");
	CHECK_INT(zip_open(&zp, d, err, sizeof err), -1);
	CHECK_STR(err, "not a regular file (a directory)");
	CHECK_INT(zip_open(&zp, "fixtures/pth/nonexistent.pth", err, sizeof err), -1);
	CHECK_STR(err, "cannot open: No such file or directory");
	unlink(fifo);
	rmdir(d);
}

/* Every prefix of a valid archive fails cleanly. */
static void test_truncated(void)
{
	static struct zb z;
	struct zb_fin f = { .zip64_eocd = 1 };
	struct zip zp;
	char err[256];
	size_t n;
	int bad = 0;

	zb_torch(&z, &f);
	for (n = 0; n < z.len; n++) {
		void *copy;
		if (open_copy(&zp, z.buf, n, &copy, err, sizeof err) == 0) {
			bad++;
			zip_close(&zp);
		}
		free(copy);
	}
	CHECK_INT(bad, 0);
}

static void test_offsets_out_of_range(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	char err[256];
	size_t eocd;

	zb_torch(&z, &f);
	eocd = z.len - 22;
	/* central directory offset past the end */
	z.buf[eocd + 19] = 0x7f;
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "central directory");
	CHECK_CONTAINS(err, "out of range");

	/* local header offset past the directory */
	zb_torch(&z, &f);
	{
		unsigned char *cdh = z.buf + z.cd;
		cdh[42 + 3] = 0x40;
		CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
		CHECK_CONTAINS(err, "no local header");
	}

	/* an entry size that runs into the central directory */
	zb_torch(&z, &f);
	{
		unsigned char *cdh = z.buf + z.cd;
		cdh[20 + 2] = 0x10;
		cdh[24 + 2] = 0x10;
		CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
		CHECK_CONTAINS(err, "runs past the central directory");
	}

	/* ZIP64 locator pointing outside the file */
	f.zip64_eocd = 1;
	zb_torch(&z, &f);
	z.buf[z.len - 22 - 20 + 8 + 6] = 0x01;
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "ZIP64 end record offset");

	/* more entries than the directory can hold */
	f.zip64_eocd = 0;
	zb_torch(&z, &f);
	z.buf[z.len - 22 + 10] = 200;
	z.buf[z.len - 22 + 8] = 200;
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "cannot hold");
}

static void test_overlap_and_duplicates(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	char err[256];

	/* Entry 0's size grows over entry 1's local header. */
	zb_torch(&z, &f);
	{
		unsigned char *cdh = z.buf + z.cd;
		uint32_t big = (uint32_t)(z.e[1].lfh - 64 + 8);
		memcpy(cdh + 20, &big, 4);
		memcpy(cdh + 24, &big, 4);
		CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
		CHECK_CONTAINS(err, "overlap");
	}
	/* Two directory entries for one local header. */
	memset(&z, 0, sizeof z);
	zb_add(&z, "a/data.pkl", pkl, sizeof pkl - 1, 0);
	z.e[1] = z.e[0];
	z.n = 2;
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "overlap");
	/* Two entries with one name. */
	memset(&z, 0, sizeof z);
	zb_add(&z, "a/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(&z, "a/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "duplicate entry a/data.pkl");
	/* A directory name that differs from the local header's. */
	zb_torch(&z, &f);
	{
		unsigned char *cdh = z.buf + z.cd;
		cdh[46 + 3] = 'X';
		CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
		CHECK_CONTAINS(err, "does not match");
	}
}

static void test_prefix(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	char err[256];

	memset(&z, 0, sizeof z);
	zb_add(&z, "data.pkl", pkl, sizeof pkl - 1, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "not inside an archive folder");

	memset(&z, 0, sizeof z);
	zb_add(&z, "a/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(&z, "b/data/0", w, sizeof w, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), -1);
	CHECK_CONTAINS(err, "entry b/data/0 is outside the archive folder a/");

	/* The folder need not be called after the file. */
	memset(&z, 0, sizeof z);
	zb_add(&z, "archive/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(&z, "archive/version", "3\n", 2, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_STR(zp.prefix, "archive/");
	zip_close(&zp);
}

static void test_not_torch_save(void)
{
	static struct zb z;
	struct zb_fin f = { 0 };
	struct zip zp;
	char err[256];

	memset(&z, 0, sizeof z);
	zb_add(&z, "m/data.pkl", pkl, sizeof pkl - 1, 0);
	zb_add(&z, "m/constants.pkl", pkl, sizeof pkl - 1, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_INT(zip_check_torch_save(&zp, err, sizeof err), -1);
	CHECK_STR(err, "TorchScript archive (torch.jit.save): save the nn.Module "
		  "or its state_dict with torch.save instead");
	zip_close(&zp);

	memset(&z, 0, sizeof z);
	zb_add(&z, "m/serialized_exported_program.json", "{}", 2, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_INT(zip_check_torch_save(&zp, err, sizeof err), -1);
	CHECK_CONTAINS(err, "torch.export program (model.pt2)");
	zip_close(&zp);

	memset(&z, 0, sizeof z);
	zb_add(&z, "m/version", "3\n", 2, 0);
	zb_finish(&z, &f);
	CHECK_INT(zip_open_mem(&zp, z.buf, z.len, err, sizeof err), 0);
	CHECK_INT(zip_check_torch_save(&zp, err, sizeof err), -1);
	CHECK_CONTAINS(err, "no m/data.pkl");
	zip_close(&zp);
}

static void test_sniff(void)
{
	static const unsigned char legacy[] = {
		0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20,
		0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02
	};
	static unsigned char tar[600];
	char err[256];

	CHECK_INT(zip_sniff("PK\x03\x04", 4, err, sizeof err), 0);
	CHECK_INT(zip_sniff(legacy, sizeof legacy, err, sizeof err), -1);
	CHECK_STR(err, "legacy (pre-1.6) torch.save format: re-save with "
		  "torch.save(obj, path) on torch >= 1.6");
	CHECK_INT(zip_sniff("PYTORCH1xxxx", 12, err, sizeof err), -1);
	CHECK_CONTAINS(err, "PYTORCH1");
	memcpy(tar + 257, "ustar", 5);
	CHECK_INT(zip_sniff(tar, sizeof tar, err, sizeof err), -1);
	CHECK_CONTAINS(err, "tar-based");
	CHECK_INT(zip_sniff("\x80\x04\x95", 3, err, sizeof err), -1);
	CHECK_CONTAINS(err, "raw pickle (protocol 4)");
	CHECK_INT(zip_sniff("", 0, err, sizeof err), -1);
	CHECK_STR(err, "empty file");
	CHECK_INT(zip_sniff("hello", 5, err, sizeof err), -1);
	CHECK_CONTAINS(err, "not a torch.save file");
	CHECK_INT(zip_sniff("PK\x05\x06", 4, err, sizeof err), -1);
	CHECK_CONTAINS(err, "does not start with a local file header");
}

/* Flip every byte of a valid archive to a few values: never a crash. */
static void test_mutations(void)
{
	static struct zb z, m;
	struct zb_fin f = { .zip64_eocd = 1 };
	static const unsigned char vals[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };
	struct zip zp;
	char err[256];
	size_t i, k, e;
	int opened = 0;
	volatile unsigned char sink = 0;

	zb_torch(&z, &f);
	for (i = 0; i < z.len; i++) {
		for (k = 0; k < sizeof vals; k++) {
			void *copy;
			m = z;
			m.buf[i] = vals[k];
			if (open_copy(&zp, m.buf, m.len, &copy, err,
				      sizeof err) == 0) {
				opened++;
				for (e = 0; e < zp.nentries; e++) {
					const unsigned char *d;
					if (zip_data(&zp, &zp.entries[e], &d, err,
						     sizeof err) == 0 &&
					    zp.entries[e].size)
						sink ^= d[zp.entries[e].size - 1];
				}
				zip_check_torch_save(&zp, err, sizeof err);
				zip_close(&zp);
			}
			free(copy);
		}
	}
	CHECK(opened > 0);   /* flips inside data and padding still open */
	(void)sink;
}

static void test_name_for_msg(void)
{
	char out[8];

	zip_name_for_msg("ab\ncd", 5, out, sizeof out);
	CHECK_STR(out, "ab?cd");
	zip_name_for_msg("abcdefghij", 10, out, sizeof out);
	CHECK_STR(out, "abcd...");
}

/* Every fixture under fixtures/pth that is a zip opens cleanly, and its
 * entries are 64-byte aligned as torch's writer makes them. */
static void test_fixtures(void)
{
	DIR *d = opendir("fixtures/pth");
	struct dirent *de;
	int seen = 0;

	if (d == NULL) {
		printf("#   fixtures/pth missing\n");
		CHECK(0);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[512], err[256];
		struct zip zp;
		size_t i;
		int rc;

		if (strstr(de->d_name, ".pth") == NULL &&
		    strstr(de->d_name, ".pt") == NULL)
			continue;
		snprintf(path, sizeof path, "fixtures/pth/%s", de->d_name);
		rc = zip_open(&zp, path, err, sizeof err);
		if (strncmp(de->d_name, "legacy", 6) == 0) {
			CHECK_INT(rc, -1);
			CHECK_CONTAINS(err, "legacy (pre-1.6)");
			continue;
		}
		CHECKF(rc == 0, "%s: %s", path, err);
		if (rc != 0)
			continue;
		seen++;
		if (strncmp(de->d_name, "evil", 4) != 0 &&
		    strncmp(de->d_name, "bigendian", 9) != 0)
			for (i = 0; i < zp.nentries; i++)
				CHECKF(zp.entries[i].data_offset % 64 == 0,
				       "%s: entry %zu", path, i);
		if (strncmp(de->d_name, "script", 6) == 0) {
			CHECK_INT(zip_check_torch_save(&zp, err, sizeof err), -1);
			CHECK_CONTAINS(err, "TorchScript");
		} else {
			const struct zip_entry *e = zip_record(&zp, "data.pkl");
			const unsigned char *p;
			CHECKF(zip_check_torch_save(&zp, err, sizeof err) == 0,
			       "%s: %s", path, err);
			CHECK(e != NULL);
			if (e) {
				CHECK_INT(zip_data(&zp, e, &p, err, sizeof err), 0);
				CHECK_INT(p[0], 0x80);
			}
		}
		zip_close(&zp);
	}
	closedir(d);
	CHECK(seen >= 10);
}

int main(void)
{
	RUN(test_crc32);
	RUN(test_stored_entries);
	RUN(test_zip64_eocd);
	RUN(test_zip64_extra_short);
	RUN(test_comment);
	RUN(test_method8);
	RUN(test_bad_crc);
	RUN(test_zero_crc);
	RUN(test_open_not_regular);
	RUN(test_truncated);
	RUN(test_offsets_out_of_range);
	RUN(test_overlap_and_duplicates);
	RUN(test_prefix);
	RUN(test_not_torch_save);
	RUN(test_sniff);
	RUN(test_mutations);
	RUN(test_name_for_msg);
	RUN(test_fixtures);
	return unit_done();
}
