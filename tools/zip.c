/*
 * zip.c - torch.save zip reader; see zip.h and docs/pth-format.md section 2.
 */
#include "tools/zip.h"
#include "model/crc32.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_LFH  0x04034b50u
#define SIG_CDH  0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_Z64_EOCD 0x06064b50u
#define SIG_Z64_LOC  0x07064b50u

#define LFH_LEN 30
#define CDH_LEN 46
#define EOCD_LEN 22
#define Z64_EOCD_LEN 56
#define Z64_LOC_LEN 20
#define MAX_COMMENT 0xffffu
#define NAME_MSG 96

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* True when [off, off+n) lies inside [0, limit). */
static int in_range(uint64_t off, uint64_t n, uint64_t limit)
{
	return off <= limit && n <= limit - off;
}

/* ---- messages -------------------------------------------------------- */

void zip_name_for_msg(const char *name, size_t len, char *out, size_t outlen)
{
	size_t i, n = len;

	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen > 4 ? outlen - 4 : 0;   /* room for "..." */
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		out[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	if (n < len && outlen > 4) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static void entry_msg(const struct zip_entry *e, char *out, size_t outlen)
{
	zip_name_for_msg(e->name, e->name_len, out, outlen);
}

/* ---- sniffing (section 1) -------------------------------------------- */

static const unsigned char legacy_magic[15] = {
	0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8,
	0x50, 0x19, 0x2e
};

int zip_sniff(const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;

	if (len == 0) {
		snprintf(err, errlen, "empty file");
		return -1;
	}
	if (len >= 4 && rd32(p) == SIG_LFH)
		return 0;
	if (len >= sizeof legacy_magic &&
	    memcmp(p, legacy_magic, sizeof legacy_magic) == 0) {
		snprintf(err, errlen, "legacy (pre-1.6) torch.save format: re-save "
			 "with torch.save(obj, path) on torch >= 1.6");
		return -1;
	}
	if (len >= 8 && memcmp(p, "PYTORCH1", 8) == 0) {
		snprintf(err, errlen, "PYTORCH1 archive of the torch 1.0 preview "
			 "(not a zip): load it with that torch and re-save with "
			 "torch.save(obj, path) on torch >= 1.6");
		return -1;
	}
	if (len >= 262 && memcmp(p + 257, "ustar", 5) == 0) {
		snprintf(err, errlen, "tar-based torch.save format of the earliest "
			 "releases: load it with an old torch and re-save with "
			 "torch.save(obj, path) on torch >= 1.6");
		return -1;
	}
	if (len >= 2 && p[0] == 0x80 && p[1] <= 5) {
		snprintf(err, errlen, "raw pickle (protocol %u), not a torch.save "
			 "archive: load it in Python and re-save with "
			 "torch.save(obj, path)", p[1]);
		return -1;
	}
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
		snprintf(err, errlen, "gzip-compressed file: decompress it first "
			 "(torch.save files are not compressed)");
		return -1;
	}
	if (len >= 4 && p[0] == 'P' && p[1] == 'K') {
		snprintf(err, errlen, "zip archive that does not start with a local "
			 "file header: not written by torch.save");
		return -1;
	}
	if (len >= 4)
		snprintf(err, errlen, "not a torch.save file (unknown format, first "
			 "bytes %02x %02x %02x %02x)", p[0], p[1], p[2], p[3]);
	else
		snprintf(err, errlen, "not a torch.save file (%zu bytes)", len);
	return -1;
}

/* ---- end records (section 2.6, 2.7 steps 1-2) ------------------------ */

struct cd_loc {
	uint64_t offset, size, count;
	uint64_t limit;   /* the central directory must end by here */
};

static int find_eocd(const unsigned char *b, size_t len, size_t *pos)
{
	size_t i, lo;

	if (len < EOCD_LEN)
		return -1;
	lo = len - EOCD_LEN > MAX_COMMENT ? len - EOCD_LEN - MAX_COMMENT : 0;
	for (i = len - EOCD_LEN + 1; i-- > lo;) {
		/* The comment must run exactly to the end of the file, so that
		 * a "PK\5\6" inside a comment is not taken for the record. */
		if (rd32(b + i) == SIG_EOCD &&
		    (size_t)rd16(b + i + 20) == len - i - EOCD_LEN) {
			*pos = i;
			return 0;
		}
	}
	return -1;
}

static int read_end(const struct zip *z, struct cd_loc *cd, char *err,
		    size_t errlen)
{
	const unsigned char *b = z->base, *e, *r;
	size_t pos;
	uint64_t z64;

	if (find_eocd(b, z->len, &pos) != 0) {
		snprintf(err, errlen, "no zip end-of-central-directory record "
			 "(truncated or not a zip archive)");
		return -1;
	}
	e = b + pos;
	if (rd16(e + 4) != 0 || (rd16(e + 6) != 0 && rd16(e + 6) != 0xffff)) {
		snprintf(err, errlen, "multi-disk zip archives are not supported");
		return -1;
	}
	cd->count = rd16(e + 10);
	cd->size = rd32(e + 12);
	cd->offset = rd32(e + 16);
	cd->limit = pos;

	if (pos < Z64_LOC_LEN || rd32(b + pos - Z64_LOC_LEN) != SIG_Z64_LOC) {
		if (cd->count == 0xffff || cd->size == 0xffffffffu ||
		    cd->offset == 0xffffffffu) {
			snprintf(err, errlen, "zip end record needs ZIP64 values "
				 "but there is no ZIP64 locator");
			return -1;
		}
		return 0;
	}
	z64 = rd64(b + pos - Z64_LOC_LEN + 8);
	if (!in_range(z64, Z64_EOCD_LEN, pos - Z64_LOC_LEN)) {
		snprintf(err, errlen, "ZIP64 end record offset %llu is out of range",
			 (unsigned long long)z64);
		return -1;
	}
	r = b + z64;
	if (rd32(r) != SIG_Z64_EOCD || rd64(r + 4) < Z64_EOCD_LEN - 12) {
		snprintf(err, errlen, "bad ZIP64 end-of-central-directory record "
			 "at offset %llu", (unsigned long long)z64);
		return -1;
	}
	if (rd32(r + 16) != 0 || rd32(r + 20) != 0) {
		snprintf(err, errlen, "multi-disk zip archives are not supported");
		return -1;
	}
	cd->count = rd64(r + 32);
	cd->size = rd64(r + 40);
	cd->offset = rd64(r + 48);
	cd->limit = z64;
	return 0;
}

/* ---- central directory (section 2.5, 2.7 step 3) --------------------- */

/* Replace the 0xFFFFFFFF fields of e from the 0x0001 extra in x[0..n). */
static int apply_zip64(struct zip_entry *e, const unsigned char *x, size_t n,
		       int want_size, int want_csize, int want_off,
		       char *err, size_t errlen)
{
	char nm[NAME_MSG];

	while (n >= 4) {
		uint16_t id = rd16(x), sz = rd16(x + 2);
		const unsigned char *q = x + 4;
		size_t need = 8u * (size_t)(want_size + want_csize + want_off);

		if (sz > n - 4)
			break;   /* reported below as malformed */
		if (id == 0x0001) {
			if (sz < need) {
				entry_msg(e, nm, sizeof nm);
				snprintf(err, errlen, "entry %s: ZIP64 extra field "
					 "too short (%u bytes, need %zu)", nm,
					 sz, need);
				return -1;
			}
			/* Fixed order: uncompressed, compressed, offset. */
			if (want_size) {
				e->size = rd64(q);
				q += 8;
			}
			if (want_csize) {
				e->csize = rd64(q);
				q += 8;
			}
			if (want_off)
				e->lfh_offset = rd64(q);
			return 0;
		}
		x += 4 + (size_t)sz;
		n -= 4 + (size_t)sz;
	}
	entry_msg(e, nm, sizeof nm);
	if (n != 0)
		snprintf(err, errlen, "entry %s: malformed extra field", nm);
	else
		snprintf(err, errlen, "entry %s: 0xFFFFFFFF size or offset "
			 "without a ZIP64 extra field", nm);
	return -1;
}

static int read_cd_entry(const struct zip *z, uint64_t *pos, uint64_t end,
			 struct zip_entry *e, char *err, size_t errlen)
{
	const unsigned char *h;
	uint16_t nlen, xlen, clen;
	uint32_t csz, usz, off;
	int w_size, w_csize, w_off;

	if (!in_range(*pos, CDH_LEN, end) || rd32(z->base + *pos) != SIG_CDH) {
		snprintf(err, errlen, "bad central directory header at offset "
			 "%llu", (unsigned long long)*pos);
		return -1;
	}
	h = z->base + *pos;
	nlen = rd16(h + 28);
	xlen = rd16(h + 30);
	clen = rd16(h + 32);
	if (!in_range(*pos + CDH_LEN, (uint64_t)nlen + xlen + clen, end)) {
		snprintf(err, errlen, "central directory header at offset %llu "
			 "runs past the directory", (unsigned long long)*pos);
		return -1;
	}
	memset(e, 0, sizeof *e);
	e->flags = rd16(h + 8);
	e->method = rd16(h + 10);
	e->crc32 = rd32(h + 16);
	csz = rd32(h + 20);
	usz = rd32(h + 24);
	off = rd32(h + 42);
	e->csize = csz;
	e->size = usz;
	e->lfh_offset = off;
	e->name = (const char *)h + CDH_LEN;
	e->name_len = nlen;
	if (nlen == 0 || memchr(e->name, '\0', nlen) != NULL) {
		snprintf(err, errlen, "central directory entry at offset %llu "
			 "has an empty or invalid name",
			 (unsigned long long)*pos);
		return -1;
	}
	if (e->flags & 1) {
		char nm[NAME_MSG];
		entry_msg(e, nm, sizeof nm);
		snprintf(err, errlen, "entry %s is encrypted", nm);
		return -1;
	}
	w_size = usz == 0xffffffffu;
	w_csize = csz == 0xffffffffu;
	w_off = off == 0xffffffffu;
	if ((w_size || w_csize || w_off) &&
	    apply_zip64(e, h + CDH_LEN + nlen, xlen, w_size, w_csize, w_off,
			err, errlen) != 0)
		return -1;
	*pos += CDH_LEN + (uint64_t)nlen + xlen + clen;
	return 0;
}

/* Section 2.3: data offset from the local header's own lengths. */
static int read_local(const struct zip *z, struct zip_entry *e,
		      uint64_t limit, char *err, size_t errlen)
{
	const unsigned char *h;
	char nm[NAME_MSG];
	uint64_t data;

	entry_msg(e, nm, sizeof nm);
	if (!in_range(e->lfh_offset, LFH_LEN, limit) ||
	    rd32(z->base + e->lfh_offset) != SIG_LFH) {
		snprintf(err, errlen, "entry %s: no local header at offset %llu",
			 nm, (unsigned long long)e->lfh_offset);
		return -1;
	}
	h = z->base + e->lfh_offset;
	data = e->lfh_offset + LFH_LEN + rd16(h + 26) + rd16(h + 28);
	if (rd16(h + 26) != e->name_len || data > limit ||
	    memcmp(h + LFH_LEN, e->name, e->name_len) != 0) {
		snprintf(err, errlen, "entry %s: local header does not match the "
			 "central directory", nm);
		return -1;
	}
	if (!in_range(data, e->csize, limit)) {
		snprintf(err, errlen, "entry %s: data (%llu bytes at offset %llu) "
			 "runs past the central directory (truncated archive?)",
			 nm, (unsigned long long)e->csize,
			 (unsigned long long)data);
		return -1;
	}
	if (e->method == 0 && e->csize != e->size) {
		snprintf(err, errlen, "entry %s: stored but sizes differ (%llu "
			 "vs %llu)", nm, (unsigned long long)e->csize,
			 (unsigned long long)e->size);
		return -1;
	}
	e->data_offset = data;
	return 0;
}

static int cmp_lfh(const void *a, const void *b)
{
	const struct zip_entry *x = *(const struct zip_entry *const *)a;
	const struct zip_entry *y = *(const struct zip_entry *const *)b;

	return (x->lfh_offset > y->lfh_offset) - (x->lfh_offset < y->lfh_offset);
}

static int cmp_name(const void *a, const void *b)
{
	const struct zip_entry *x = *(const struct zip_entry *const *)a;
	const struct zip_entry *y = *(const struct zip_entry *const *)b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);

	if (c != 0)
		return c;
	return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* Entries must not share bytes; names must be unique. */
static int check_layout(struct zip *z, char *err, size_t errlen)
{
	const struct zip_entry **v = z->by_name;
	char a[NAME_MSG], b[NAME_MSG];
	size_t i;

	for (i = 0; i < z->nentries; i++)
		v[i] = &z->entries[i];
	qsort(v, z->nentries, sizeof *v, cmp_lfh);
	for (i = 0; i + 1 < z->nentries; i++) {
		if (v[i]->data_offset + v[i]->csize > v[i + 1]->lfh_offset) {
			entry_msg(v[i], a, sizeof a);
			entry_msg(v[i + 1], b, sizeof b);
			snprintf(err, errlen, "entries %s and %s overlap", a, b);
			return -1;
		}
	}
	qsort(v, z->nentries, sizeof *v, cmp_name);
	for (i = 0; i + 1 < z->nentries; i++) {
		if (cmp_name(&v[i], &v[i + 1]) == 0) {
			entry_msg(v[i], a, sizeof a);
			snprintf(err, errlen, "duplicate entry %s", a);
			return -1;
		}
	}
	return 0;
}

/* Section 2.7 step 4: prefix from entry 0, shared by all. */
static int find_prefix(struct zip *z, char *err, size_t errlen)
{
	const struct zip_entry *e0 = &z->entries[0];
	const char *slash = memchr(e0->name, '/', e0->name_len);
	char nm[NAME_MSG];
	size_t i, n;

	entry_msg(e0, nm, sizeof nm);
	if (slash == NULL || slash == e0->name) {
		snprintf(err, errlen, "first entry %s is not inside an archive "
			 "folder: not written by torch.save", nm);
		return -1;
	}
	n = (size_t)(slash - e0->name) + 1;
	if (n >= ZIP_PREFIX_MAX) {
		snprintf(err, errlen, "archive folder name longer than %d bytes",
			 ZIP_PREFIX_MAX - 2);
		return -1;
	}
	memcpy(z->prefix, e0->name, n);
	z->prefix[n] = '\0';
	z->prefix_len = n;
	for (i = 1; i < z->nentries; i++) {
		const struct zip_entry *e = &z->entries[i];
		if (e->name_len < n || memcmp(e->name, z->prefix, n) != 0) {
			char pf[NAME_MSG];
			entry_msg(e, nm, sizeof nm);
			zip_name_for_msg(z->prefix, n, pf, sizeof pf);
			snprintf(err, errlen, "entry %s is outside the archive "
				 "folder %s", nm, pf);
			return -1;
		}
	}
	return 0;
}

int zip_open_mem(struct zip *z, const void *buf, size_t len,
		 char *err, size_t errlen)
{
	struct cd_loc cd;
	uint64_t pos, end;
	size_t i;

	memset(z, 0, sizeof *z);
	z->base = buf;
	z->len = len;
	if (zip_sniff(buf, len, err, errlen) != 0)
		return -1;
	if (read_end(z, &cd, err, errlen) != 0)
		return -1;
	if (!in_range(cd.offset, cd.size, cd.limit)) {
		snprintf(err, errlen, "central directory (%llu bytes at offset "
			 "%llu) is out of range", (unsigned long long)cd.size,
			 (unsigned long long)cd.offset);
		return -1;
	}
	if (cd.count == 0) {
		snprintf(err, errlen, "empty zip archive");
		return -1;
	}
	if (cd.count > ZIP_MAX_ENTRIES) {
		snprintf(err, errlen, "too many zip entries (%llu, cap %u)",
			 (unsigned long long)cd.count, ZIP_MAX_ENTRIES);
		return -1;
	}
	if (cd.count > cd.size / CDH_LEN) {
		snprintf(err, errlen, "central directory of %llu bytes cannot hold "
			 "%llu entries", (unsigned long long)cd.size,
			 (unsigned long long)cd.count);
		return -1;
	}
	z->entries = calloc((size_t)cd.count, sizeof *z->entries);
	z->by_name = calloc((size_t)cd.count, sizeof *z->by_name);
	if (z->entries == NULL || z->by_name == NULL) {
		snprintf(err, errlen, "out of memory for %llu zip entries",
			 (unsigned long long)cd.count);
		goto fail;
	}
	z->nentries = (size_t)cd.count;
	pos = cd.offset;
	end = cd.offset + cd.size;
	for (i = 0; i < z->nentries; i++) {
		if (read_cd_entry(z, &pos, end, &z->entries[i], err, errlen) != 0)
			goto fail;
		/* Local headers and data lie before the central directory. */
		if (read_local(z, &z->entries[i], cd.offset, err, errlen) != 0)
			goto fail;
	}
	if (check_layout(z, err, errlen) != 0 || find_prefix(z, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	free(z->entries);
	free(z->by_name);
	z->entries = NULL;
	z->by_name = NULL;
	z->nentries = 0;
	return -1;
}

/* file_open_regular's message without its "PATH: ": the caller names the file. */
static void open_msg(const char *msg, const char *path, int e, char *err, size_t errlen)
{
	size_t n = strlen(path);

	if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
		msg += n + 2;
	/* EINVAL: not a regular file, which the message says. */
	snprintf(err, errlen, "%s%s", e == EINVAL ? "" : "cannot open: ", msg);
}

int zip_open(struct zip *z, const char *path, char *err, size_t errlen)
{
	char msg[PATH_MAX + 128];
	struct stat st;
	void *map;
	int fd;

	memset(z, 0, sizeof *z);
	/* Never open() a FIFO or a device in blocking mode: see model/file.h. */
	fd = file_open_regular(AT_FDCWD, path, 0, &st, msg, sizeof msg);
	if (fd < 0) {
		open_msg(msg, path, errno, err, errlen);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "empty file");
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		snprintf(err, errlen, "file too large to map");
		close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "cannot map: %s", strerror(errno));
		return -1;
	}
	if (zip_open_mem(z, map, (size_t)st.st_size, err, errlen) != 0) {
		munmap(map, (size_t)st.st_size);
		memset(z, 0, sizeof *z);
		return -1;
	}
	z->map = map;
	z->map_len = (size_t)st.st_size;
	return 0;
}

void zip_close(struct zip *z)
{
	free(z->entries);
	free(z->by_name);
	if (z->map != NULL)
		munmap(z->map, z->map_len);
	memset(z, 0, sizeof *z);
}

const struct zip_entry *zip_find(const struct zip *z, const char *name)
{
	size_t lo = 0, hi = z->nentries, n = strlen(name);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct zip_entry *e = z->by_name[mid];
		size_t m = e->name_len < n ? e->name_len : n;
		int c = memcmp(e->name, name, m);

		if (c == 0)
			c = (e->name_len > n) - (e->name_len < n);
		if (c == 0)
			return e;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct zip_entry *zip_record(const struct zip *z, const char *rec)
{
	char name[ZIP_PREFIX_MAX + 512];
	int n = snprintf(name, sizeof name, "%s%s", z->prefix, rec);

	if (n < 0 || (size_t)n >= sizeof name)
		return NULL;
	return zip_find(z, name);
}

int zip_data(const struct zip *z, const struct zip_entry *e,
	     const unsigned char **data, char *err, size_t errlen)
{
	char nm[NAME_MSG];
	const unsigned char *p = z->base + e->data_offset;

	if (e->method != 0) {
		entry_msg(e, nm, sizeof nm);
		if (e->method == 8)
			snprintf(err, errlen, "entry %s is compressed (method 8, "
				 "deflate); torch.save writes stored entries "
				 "only", nm);
		else
			snprintf(err, errlen, "entry %s uses compression method "
				 "%u; only stored (0) entries can be read", nm,
				 e->method);
		return -1;
	}
	/* A stored 0 is checked too: it is the CRC of no bytes, and of a
	 * non-empty entry only by a 2^-32 chance (torch writes real CRCs
	 * unless torch.serialization.set_crc32_options(False) was called). */
	if (crc32_update(0, p, (size_t)e->size) != e->crc32) {
		entry_msg(e, nm, sizeof nm);
		snprintf(err, errlen, "entry %s: CRC-32 mismatch (%s)", nm,
			 e->crc32 ? "corrupt file" : "stored as 0: corrupt, or saved "
			 "after torch.serialization.set_crc32_options(False); "
			 "re-save with the default");
		return -1;
	}
	*data = p;
	return 0;
}

/* True when some entry is named "<prefix><rec>" or starts with it (dir). */
static int has_record(const struct zip *z, const char *rec, int as_dir)
{
	size_t i, n = strlen(rec);

	for (i = 0; i < z->nentries; i++) {
		const struct zip_entry *e = &z->entries[i];
		size_t rest = e->name_len - z->prefix_len;
		const char *r = e->name + z->prefix_len;

		if (as_dir ? (rest > n && memcmp(r, rec, n) == 0)
			   : (rest == n && memcmp(r, rec, n) == 0))
			return 1;
	}
	return 0;
}

int zip_check_torch_save(const struct zip *z, char *err, size_t errlen)
{
	if (has_record(z, "code/", 1) || has_record(z, "constants.pkl", 0)) {
		snprintf(err, errlen, "TorchScript archive (torch.jit.save): save "
			 "the nn.Module or its state_dict with torch.save "
			 "instead");
		return -1;
	}
	if (has_record(z, "serialized_exported_program.json", 0) ||
	    has_record(z, "archive_format", 0) ||
	    has_record(z, "models/", 1)) {
		snprintf(err, errlen, "torch.export program (model.pt2) is not "
			 "supported: save the nn.Module or its state_dict with "
			 "torch.save instead");
		return -1;
	}
	if (zip_record(z, "data.pkl") == NULL) {
		snprintf(err, errlen, "no %sdata.pkl in the zip archive: not "
			 "written by torch.save", z->prefix);
		return -1;
	}
	return 0;
}
