/*
 * blob.c - write, map and validate model blobs (docs/blob-format.md).
 *
 * The loader trusts nothing in the file: every offset and size is checked
 * against the file with 64-bit arithmetic before any pointer is formed, and
 * the checksum is verified before the model is handed out.
 */
#define _GNU_SOURCE   /* F_SETLEASE, F_SETOWN_EX, mremap, gettid */
#include "model/blob.h"
#include "model/atomic.h"
#include "model/crc32.h"
#include "model/enc.h"
#include "model/err.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "scorepoint maps little-endian blobs in place and needs a little-endian host"
#endif

/* On-disk layout.  All fields little-endian; see docs/blob-format.md. */
#define HDR_SIZE 128
#define OP_SIZE 32
#define CRC_FROM 32   /* the checksum covers bytes [32, file_size) */

struct disk_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	uint32_t crc32;
	uint32_t flags;
	/* -- covered by the checksum from here (offset 32) -- */
	uint32_t nops;
	uint32_t input_width;
	uint32_t output_width;
	uint32_t postprocess;
	uint32_t ncolumns;
	uint32_t nlabels;
	uint64_t ops_offset;
	uint64_t strings_offset;
	uint64_t strings_size;
	uint32_t name_str;
	uint32_t version_str;
	uint32_t digest_str;
	uint32_t reserved0;
	uint64_t columns_offset;
	uint64_t labels_offset;
	uint64_t reserved1[2];
};

struct disk_op {
	uint32_t kind;
	uint32_t in;
	uint32_t out;
	float param;
	uint64_t weight_offset;
	uint64_t bias_offset;   /* 0: no bias */
};

_Static_assert(sizeof(struct disk_header) == HDR_SIZE, "header layout");
_Static_assert(sizeof(struct disk_op) == OP_SIZE, "op layout");

static const char *const op_names[BLOB_OP_KIND_END] = {
	[BLOB_OP_LINEAR] = "linear",
	[BLOB_OP_RELU] = "relu",
	[BLOB_OP_LEAKY_RELU] = "leaky_relu",
	[BLOB_OP_TANH] = "tanh",
	[BLOB_OP_SIGMOID] = "sigmoid",
	[BLOB_OP_GELU] = "gelu",
	[BLOB_OP_GELU_TANH] = "gelu_tanh",
	[BLOB_OP_ELU] = "elu",
	[BLOB_OP_SOFTMAX] = "softmax",
	[BLOB_OP_LOG_SOFTMAX] = "log_softmax",
};

static const char *const post_names[BLOB_POST_END] = {
	[BLOB_POST_LOGITS] = "logits",
	[BLOB_POST_PROBABILITIES] = "probabilities",
	[BLOB_POST_LABELS] = "labels",
};

const char *blob_op_name(uint32_t kind)
{
	return kind > 0 && kind < BLOB_OP_KIND_END ? op_names[kind] : "unknown";
}

int blob_op_parse(const char *s)
{
	for (int k = 1; k < BLOB_OP_KIND_END; k++)
		if (strcmp(s, op_names[k]) == 0)
			return k;
	return -1;
}

const char *blob_post_name(uint32_t post)
{
	return post < BLOB_POST_END ? post_names[post] : "unknown";
}

int blob_post_parse(const char *s)
{
	for (int k = 0; k < BLOB_POST_END; k++)
		if (strcmp(s, post_names[k]) == 0)
			return k;
	return -1;
}

/* True when [off, off+len) lies inside [lo, size) without overflow. */
static int in_range(uint64_t off, uint64_t len, uint64_t lo, uint64_t size)
{
	return off >= lo && off <= size && len <= size - off;
}

static uint64_t align_up(uint64_t x)
{
	return (x + BLOB_ALIGN - 1) & ~(uint64_t)(BLOB_ALIGN - 1);
}

static int is_activation(uint32_t kind)
{
	return kind > BLOB_OP_LINEAR && kind < BLOB_OP_KIND_END;
}

/* A string-table reference: NUL-terminated inside the table, bounded. */
static const char *table_string(const char *tab, uint64_t tabsize, uint32_t ref)
{
	if (ref >= tabsize)
		return NULL;
	size_t max = tabsize - ref;
	if (max > BLOB_MAX_STRING + 1)
		max = BLOB_MAX_STRING + 1;
	return memchr(tab + ref, '\0', max) ? tab + ref : NULL;
}

static int check_ops(const unsigned char *base, const struct disk_header *h,
		     struct blob_model *m, char *err, size_t errlen)
{
	uint32_t width = h->input_width;

	for (uint32_t i = 0; i < h->nops; i++) {
		struct disk_op d;
		memcpy(&d, base + h->ops_offset + (uint64_t)i * OP_SIZE, sizeof d);
		struct blob_op *op = &m->ops[i];

		if (d.kind == 0 || d.kind >= BLOB_OP_KIND_END)
			return err_set(err, errlen, "op %u: unknown kind %u", i, d.kind);
		if (d.in != width)
			return err_set(err, errlen, "op %u (%s): takes %u inputs but receives %u",
				    i, blob_op_name(d.kind), d.in, width);
		if (d.out == 0 || d.out > BLOB_MAX_WIDTH)
			return err_set(err, errlen, "op %u: width %u out of range", i, d.out);
		op->kind = d.kind;
		op->in = d.in;
		op->out = d.out;
		op->param = d.param;
		op->weight = op->bias = NULL;
		if (is_activation(d.kind)) {
			if (d.out != d.in || d.weight_offset || d.bias_offset)
				return err_set(err, errlen, "op %u (%s): activation with weights or a width change",
					    i, blob_op_name(d.kind));
			continue;
		}
		uint64_t wbytes = (uint64_t)d.in * d.out * sizeof(float);
		if (d.weight_offset % BLOB_ALIGN || !in_range(d.weight_offset, wbytes, HDR_SIZE, h->file_size))
			return err_set(err, errlen, "op %u (linear %ux%u): weights at %llu outside the file or unaligned",
				    i, d.out, d.in, (unsigned long long)d.weight_offset);
		op->weight = (const float *)(const void *)(base + d.weight_offset);
		if (d.bias_offset) {
			if (d.bias_offset % BLOB_ALIGN ||
			    !in_range(d.bias_offset, (uint64_t)d.out * sizeof(float), HDR_SIZE, h->file_size))
				return err_set(err, errlen, "op %u (linear): bias at %llu outside the file or unaligned",
					    i, (unsigned long long)d.bias_offset);
			op->bias = (const float *)(const void *)(base + d.bias_offset);
		}
		width = d.out;
	}
	if (width != h->output_width)
		return err_set(err, errlen, "last op gives %u outputs, header says %u", width, h->output_width);
	return 0;
}

/* Resolve `n` string references at `off` into names[0..n). */
static int check_names(const unsigned char *base, const struct disk_header *h,
		       uint64_t off, uint32_t n, const char **names, const char *what,
		       char *err, size_t errlen)
{
	const char *tab = (const char *)base + h->strings_offset;

	if (!in_range(off, (uint64_t)n * 4, HDR_SIZE, h->file_size) || off % 4)
		return err_set(err, errlen, "%s table at %llu outside the file", what, (unsigned long long)off);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ref;
		memcpy(&ref, base + off + (uint64_t)i * 4, 4);
		names[i] = table_string(tab, h->strings_size, ref);
		if (!names[i])
			return err_set(err, errlen, "%s %u: bad string reference", what, i);
		if (!enc_utf8_valid(names[i]))
			return err_set(err, errlen, "%s %u is not valid UTF-8", what, i);
	}
	return 0;
}

int blob_check(const void *buf, size_t size, struct blob_model *m,
	       const char ***names_out, char *err, size_t errlen)
{
	const unsigned char *base = buf;
	struct disk_header h;
	const char **names = NULL;

	*names_out = NULL;
	memset(m, 0, sizeof *m);
	if (size < HDR_SIZE)
		return err_set(err, errlen, "truncated: %zu bytes is less than a header", size);
	memcpy(&h, base, sizeof h);
	if (memcmp(h.magic, BLOB_MAGIC, 8) != 0)
		return err_set(err, errlen, "not a scorepoint blob (bad magic); convert the model with pth2blob");
	if (h.version != BLOB_FORMAT_VERSION)
		return err_set(err, errlen, "blob format version %u; this build reads version %d",
			    h.version, BLOB_FORMAT_VERSION);
	if (h.header_size != HDR_SIZE)
		return err_set(err, errlen, "header size %u, expected %d", h.header_size, HDR_SIZE);
	if (h.file_size != size)
		return err_set(err, errlen, "truncated or extended: header says %llu bytes, file has %zu",
			    (unsigned long long)h.file_size, size);
	uint32_t crc = crc32_update(0, base + CRC_FROM, size - CRC_FROM);
	if (crc != h.crc32)
		return err_set(err, errlen, "checksum mismatch (stored %08x, computed %08x): the file is damaged",
			    h.crc32, crc);
	if (h.flags != 0)
		return err_set(err, errlen, "unknown flags %#x", h.flags);
	if (h.nops == 0 || h.nops > BLOB_MAX_OPS)
		return err_set(err, errlen, "op count %u out of range 1..%d", h.nops, BLOB_MAX_OPS);
	if (h.input_width == 0 || h.input_width > BLOB_MAX_WIDTH ||
	    h.output_width == 0 || h.output_width > BLOB_MAX_WIDTH)
		return err_set(err, errlen, "input/output width %u/%u out of range", h.input_width, h.output_width);
	if (h.postprocess >= BLOB_POST_END)
		return err_set(err, errlen, "unknown post-processing %u", h.postprocess);
	if ((h.ncolumns && h.ncolumns != h.input_width) || (h.nlabels && h.nlabels != h.output_width))
		return err_set(err, errlen, "%u column names for %u inputs, %u labels for %u outputs",
			    h.ncolumns, h.input_width, h.nlabels, h.output_width);
	if (h.postprocess == BLOB_POST_LABELS && h.nlabels == 0)
		return err_set(err, errlen, "post-processing is labels but the blob has no labels");
	if (!in_range(h.ops_offset, (uint64_t)h.nops * OP_SIZE, HDR_SIZE, size) || h.ops_offset % 8)
		return err_set(err, errlen, "op table outside the file");
	if (!in_range(h.strings_offset, h.strings_size, HDR_SIZE, size) || h.strings_size == 0 ||
	    h.strings_size > UINT32_MAX || base[h.strings_offset + h.strings_size - 1] != '\0')
		return err_set(err, errlen, "string table outside the file or unterminated");
	if (check_ops(base, &h, m, err, errlen) < 0)
		return -1;

	const char *tab = (const char *)base + h.strings_offset;
	m->name = table_string(tab, h.strings_size, h.name_str);
	m->version = table_string(tab, h.strings_size, h.version_str);
	m->source_digest = table_string(tab, h.strings_size, h.digest_str);
	if (!m->name || !m->version || !m->source_digest)
		return err_set(err, errlen, "bad name, version or digest string reference");

	names = malloc(((size_t)h.ncolumns + h.nlabels + 1) * sizeof *names);
	if (!names)
		return err_set(err, errlen, "out of memory for %u names", h.ncolumns + h.nlabels);
	if (check_names(base, &h, h.columns_offset, h.ncolumns, names, "column", err, errlen) < 0 ||
	    check_names(base, &h, h.labels_offset, h.nlabels, names + h.ncolumns, "label", err, errlen) < 0) {
		free(names);
		return -1;
	}
	m->nops = h.nops;
	m->input_width = h.input_width;
	m->output_width = h.output_width;
	m->postprocess = h.postprocess;
	m->ncolumns = h.ncolumns;
	m->columns = h.ncolumns ? names : NULL;
	m->nlabels = h.nlabels;
	m->labels = h.nlabels ? names + h.ncolumns : NULL;
	*names_out = names;
	return 0;
}

/*
 * ---- keeping a mapped blob unchanged ----
 *
 * A blob that a server maps must not change under it: a file overwritten
 * in place changes the pages of a shared (and of an untouched private)
 * mapping, and a truncated one turns every access past the new end into
 * SIGBUS.  So a process that called blob_guard_init() maps each blob shared
 * (one copy in the page cache for every worker) under a read lease: the
 * kernel holds back any open() for writing and any truncate() of the file
 * until the lease is released, and tells us with SIGIO.  The handler then
 * copies the blob into anonymous memory at the same address (mremap) and
 * releases the lease, so the writer goes on and the process keeps serving
 * exactly what it checked.  When there is no lease to be had (the file is
 * someone else's and we lack CAP_LEASE, someone has it open for writing,
 * the file system has no leases, or too many blobs are mapped), and in
 * every process that did not call blob_guard_init(), the blob is read into
 * private memory instead.  Replacing a blob by rename (what pth2blob and
 * the CLI do) never disturbs a process that maps the old one.
 */
#define GUARD_MAX 256

struct guard {
	void *base;   /* NULL: a free slot */
	size_t size;
	int fd;       /* holds the read lease */
};

static struct guard guards[GUARD_MAX];
static pid_t guard_tid;   /* the thread that maps, and gets SIGIO */

/* Move the mapping at base into anonymous memory, same address, same bytes. */
static int privatise(void *base, size_t size)
{
	void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return -1;
	memcpy(copy, base, size);
	if (mprotect(copy, size, PROT_READ) < 0 ||
	    mremap(copy, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, base) == MAP_FAILED) {
		munmap(copy, size);
		return -1;
	}
	return 0;
}

/* Copy every blob whose lease is being broken, then let the writer go.
 * Called with SIGIO blocked (in the handler, or by the mapping thread). */
static void guard_scan(void)
{
	static const char lost[] = "score.fcgi: a blob is being overwritten in place and there is no "
				   "memory to keep a copy: stopping after this request\n";

	for (int i = 0; i < GUARD_MAX; i++) {
		struct guard *g = &guards[i];
		if (!g->base || fcntl(g->fd, F_GETLEASE) == F_RDLCK)
			continue;
		if (privatise(g->base, g->size) < 0) {
			/* Keep the lease (the writer waits) and stop cleanly:
			 * closing the file at exit releases it. */
			(void)!write(STDERR_FILENO, lost, sizeof lost - 1);
			raise(SIGTERM);
			continue;
		}
		fcntl(g->fd, F_SETLEASE, F_UNLCK);
		close(g->fd);
		g->base = NULL;
		g->fd = -1;
	}
}

static void on_sigio(int sig)
{
	int saved = errno;
	(void)sig;
	if (gettid() == guard_tid)   /* other threads leave it to the mapping thread */
		guard_scan();
	errno = saved;
}

int blob_guard_init(char *err, size_t errlen)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGIO, &sa, NULL) < 0)
		return err_set(err, errlen, "sigaction(SIGIO): %s", strerror(errno));
	/* A parent may have left it blocked: a lease break must get through. */
	sigaddset(&sa.sa_mask, SIGIO);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
	guard_tid = gettid();
	return 0;
}

static void block_sigio(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGIO);
	sigprocmask(SIG_BLOCK, &s, old);
}

/* Map fd shared under a read lease; NULL when that is not possible. */
static void *map_leased(int fd, size_t size)
{
	struct f_owner_ex owner = { F_OWNER_TID, guard_tid };
	struct guard *g = NULL;
	void *p = NULL;
	sigset_t old;

	if (!guard_tid || gettid() != guard_tid)
		return NULL;
	block_sigio(&old);
	for (int i = 0; i < GUARD_MAX && !g; i++)
		if (!guards[i].base)
			g = &guards[i];
	if (g && fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		fcntl(fd, F_SETOWN_EX, &owner);
		p = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			fcntl(fd, F_SETLEASE, F_UNLCK);
			p = NULL;
		} else {
			*g = (struct guard){ p, size, fd };
			guard_scan();   /* a break that came before the slot was filled */
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return p;
}

/* Read fd into private, page-aligned memory; NULL with errno on failure. */
static void *read_private(int fd, size_t size)
{
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t got = 0;

	if (p == MAP_FAILED)
		return NULL;
	while (got < size) {
		ssize_t n = pread(fd, p + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n == 0 ? EIO : errno;
			munmap(p, size);
			errno = e;
			return NULL;
		}
		got += (size_t)n;
	}
	if (mprotect(p, size, PROT_READ) < 0) {
		int e = errno;
		munmap(p, size);
		errno = e;
		return NULL;
	}
	return p;
}

static void unmap(void *base, size_t size)
{
	sigset_t old;

	block_sigio(&old);
	for (int i = 0; i < GUARD_MAX; i++)
		if (guards[i].base == base) {
			fcntl(guards[i].fd, F_SETLEASE, F_UNLCK);
			close(guards[i].fd);
			guards[i].base = NULL;
			guards[i].fd = -1;
		}
	munmap(base, size);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int blob_map_fd(int fd, const char *path, struct blob_map *bm, char *err, size_t errlen)
{
	char why[256];
	struct stat st;
	void *p;

	memset(bm, 0, sizeof *bm);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, errlen, "%s: not a regular file", path);
	}
	if (st.st_size < HDR_SIZE) {
		close(fd);
		return err_set(err, errlen, "%s: truncated: %lld bytes is less than a header",
			    path, (long long)st.st_size);
	}
	/* Leased: the fd stays open and is closed with the lease. */
	p = map_leased(fd, (size_t)st.st_size);
	if (!p) {
		p = read_private(fd, (size_t)st.st_size);
		int e = errno;
		close(fd);
		if (!p)
			return err_set(err, errlen, "%s: %s", path,
				    e == EIO ? "truncated while it was being read" : strerror(e));
	}
	if (blob_check(p, (size_t)st.st_size, &bm->model, &bm->names, why, sizeof why) < 0) {
		unmap(p, (size_t)st.st_size);
		return err_set(err, errlen, "%s: %s", path, why);
	}
	bm->base = p;
	bm->size = (size_t)st.st_size;
	memcpy(&bm->crc32, bm->base + 24, 4);
	return 0;
}

int blob_map_file(const char *path, struct blob_map *bm, char *err, size_t errlen)
{
	memset(bm, 0, sizeof *bm);
	int fd = file_open_regular(AT_FDCWD, path, 0, NULL, err, errlen);
	return fd < 0 ? -1 : blob_map_fd(fd, path, bm, err, errlen);
}

void blob_unmap(struct blob_map *bm)
{
	if (bm->base)
		unmap((void *)bm->base, bm->size);
	free(bm->names);
	memset(bm, 0, sizeof *bm);
}

/* ---- writing ---- */

/* Bytes a string needs in the table, or 0 when it is too long. */
static size_t string_cost(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > BLOB_MAX_STRING ? 0 : n + 1;
}

static int validate_model(const struct blob_model *m, char *err, size_t errlen)
{
	uint32_t width = m->input_width;

	if (m->nops == 0 || m->nops > BLOB_MAX_OPS)
		return err_set(err, errlen, "%u ops; a blob holds 1 to %d", m->nops, BLOB_MAX_OPS);
	if (m->postprocess >= BLOB_POST_END)
		return err_set(err, errlen, "unknown post-processing %u", m->postprocess);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		if (op->kind == 0 || op->kind >= BLOB_OP_KIND_END)
			return err_set(err, errlen, "op %u: unknown kind %u", i, op->kind);
		if (op->in != width || op->out == 0 || op->out > BLOB_MAX_WIDTH)
			return err_set(err, errlen, "op %u (%s): %u -> %u does not follow width %u",
				    i, blob_op_name(op->kind), op->in, op->out, width);
		if (op->kind == BLOB_OP_LINEAR ? !op->weight : op->in != op->out)
			return err_set(err, errlen, "op %u (%s): inconsistent", i, blob_op_name(op->kind));
		width = op->out;
	}
	if (width != m->output_width)
		return err_set(err, errlen, "ops give %u outputs, model says %u", width, m->output_width);
	if ((m->ncolumns && m->ncolumns != m->input_width) || (m->nlabels && m->nlabels != m->output_width))
		return err_set(err, errlen, "%u column names for %u inputs, %u labels for %u outputs",
			    m->ncolumns, m->input_width, m->nlabels, m->output_width);
	if (m->postprocess == BLOB_POST_LABELS && m->nlabels == 0)
		return err_set(err, errlen, "post-processing labels needs labels");
	for (uint32_t i = 0; i < m->ncolumns; i++)
		if (!enc_utf8_valid(m->columns[i]))
			return err_set(err, errlen, "column name %u is not valid UTF-8", i);
	for (uint32_t i = 0; i < m->nlabels; i++)
		if (!enc_utf8_valid(m->labels[i]))
			return err_set(err, errlen, "label %u is not valid UTF-8", i);
	return 0;
}

static uint32_t put_string(char *tab, uint64_t *used, const char *s)
{
	uint32_t ref = (uint32_t)*used;
	size_t n = s ? strlen(s) : 0;

	memcpy(tab + ref, s ? s : "", n + 1);
	*used += n + 1;
	return ref;
}

/*
 * Lay the blob out: the metadata (header, op table, name references and
 * string table) is built in one small buffer; the weights are written later
 * straight from the caller's arrays, so a 100 MB model is never copied.
 */
struct layout {
	unsigned char *meta;   /* [0, meta_size): header with crc32 = 0, ops, refs, strings */
	uint64_t meta_size;
	uint64_t file_size;
	struct disk_op ops[BLOB_MAX_OPS];
};

static int plan(const struct blob_model *m, struct layout *L, char *err, size_t errlen)
{
	struct disk_header h;
	uint64_t strings = 0, off;
	const char *fixed[3] = { m->name, m->version, m->source_digest };

	for (int i = 0; i < 3; i++)
		strings += string_cost(fixed[i]) ? string_cost(fixed[i]) : (uint64_t)-1 / 4;
	for (uint32_t i = 0; i < m->ncolumns; i++)
		strings += string_cost(m->columns[i]) ? string_cost(m->columns[i]) : (uint64_t)-1 / 4;
	for (uint32_t i = 0; i < m->nlabels; i++)
		strings += string_cost(m->labels[i]) ? string_cost(m->labels[i]) : (uint64_t)-1 / 4;
	if (strings > UINT32_MAX)
		return err_set(err, errlen, "a name, label or column is longer than %d bytes, or there are too many",
			    BLOB_MAX_STRING);

	memset(&h, 0, sizeof h);
	memcpy(h.magic, BLOB_MAGIC, 8);
	h.version = BLOB_FORMAT_VERSION;
	h.header_size = HDR_SIZE;
	h.nops = m->nops;
	h.input_width = m->input_width;
	h.output_width = m->output_width;
	h.postprocess = m->postprocess;
	h.ncolumns = m->ncolumns;
	h.nlabels = m->nlabels;
	h.ops_offset = HDR_SIZE;
	off = h.ops_offset + (uint64_t)m->nops * OP_SIZE;
	h.columns_offset = off;
	off += (uint64_t)m->ncolumns * 4;
	h.labels_offset = off;
	off += (uint64_t)m->nlabels * 4;
	h.strings_offset = off;
	h.strings_size = strings;
	off += strings;
	L->meta_size = off;

	memset(L->ops, 0, sizeof L->ops);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		L->ops[i].kind = op->kind;
		L->ops[i].in = op->in;
		L->ops[i].out = op->out;
		L->ops[i].param = op->param;
		if (op->kind != BLOB_OP_LINEAR)
			continue;
		off = align_up(off);
		L->ops[i].weight_offset = off;
		off += (uint64_t)op->in * op->out * sizeof(float);
		if (op->bias) {
			off = align_up(off);
			L->ops[i].bias_offset = off;
			off += (uint64_t)op->out * sizeof(float);
		}
	}
	h.file_size = L->file_size = off;

	L->meta = calloc(1, (size_t)L->meta_size);
	if (!L->meta)
		return err_set(err, errlen, "out of memory for %llu bytes of metadata",
			    (unsigned long long)L->meta_size);
	char *tab = (char *)L->meta + h.strings_offset;
	uint64_t used = 0;
	h.name_str = put_string(tab, &used, m->name);
	h.version_str = put_string(tab, &used, m->version);
	h.digest_str = put_string(tab, &used, m->source_digest);
	for (uint32_t i = 0; i < m->ncolumns; i++) {
		uint32_t ref = put_string(tab, &used, m->columns[i]);
		memcpy(L->meta + h.columns_offset + (uint64_t)i * 4, &ref, 4);
	}
	for (uint32_t i = 0; i < m->nlabels; i++) {
		uint32_t ref = put_string(tab, &used, m->labels[i]);
		memcpy(L->meta + h.labels_offset + (uint64_t)i * 4, &ref, 4);
	}
	memcpy(L->meta + h.ops_offset, L->ops, (size_t)m->nops * OP_SIZE);
	memcpy(L->meta, &h, sizeof h);
	return 0;
}

/* Append len bytes at *pos, keeping the checksum of bytes from CRC_FROM on. */
static int emit(int fd, const void *p, size_t len, uint64_t *pos, uint32_t *crc)
{
	const unsigned char *b = p;
	size_t skip = *pos < CRC_FROM ? (size_t)(CRC_FROM - *pos) : 0;

	if (skip > len)
		skip = len;
	*crc = crc32_update(*crc, b + skip, len - skip);
	*pos += len;
	return atomic_write_all(fd, b, len);
}

/* Zero padding up to `to`, then `len` bytes of data. */
static int emit_at(int fd, uint64_t to, const void *p, size_t len, uint64_t *pos, uint32_t *crc)
{
	static const unsigned char zeros[BLOB_ALIGN];
	if (to - *pos > sizeof zeros || emit(fd, zeros, (size_t)(to - *pos), pos, crc) < 0)
		return -1;
	return emit(fd, p, len, pos, crc);
}

static int write_blob(int fd, const struct blob_model *m, struct layout *L)
{
	uint64_t pos = 0;
	uint32_t crc = 0;

	if (emit(fd, L->meta, (size_t)L->meta_size, &pos, &crc) < 0)
		return -1;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct blob_op *op = &m->ops[i];
		if (op->kind != BLOB_OP_LINEAR)
			continue;
		if (emit_at(fd, L->ops[i].weight_offset, op->weight,
			    (size_t)op->in * op->out * sizeof(float), &pos, &crc) < 0)
			return -1;
		if (op->bias && emit_at(fd, L->ops[i].bias_offset, op->bias,
					(size_t)op->out * sizeof(float), &pos, &crc) < 0)
			return -1;
	}
	if (pos != L->file_size)
		return errno = EIO, -1;
	return pwrite(fd, &crc, 4, 24) == 4 ? 0 : -1;
}

struct write_ctx {
	const struct blob_model *m;
	struct layout *L;
};

static int fill_blob(int fd, void *ctx)
{
	struct write_ctx *w = ctx;
	return write_blob(fd, w->m, w->L);
}

/* blob_write() (dirfd -1: name is the path) and blob_writeat(). */
static int write_model(int dirfd, const char *name, const char *shown, const struct blob_model *m, char *err,
		       size_t errlen)
{
	struct layout L = { 0 };
	struct write_ctx w = { m, &L };
	int rc = -1;

	if (validate_model(m, err, errlen) < 0 || plan(m, &L, err, errlen) < 0)
		goto out;
	rc = dirfd < 0 ? atomic_write(name, 0644, fill_blob, &w, err, errlen) :
			 atomic_writeat(dirfd, name, shown, 0644, fill_blob, &w, err, errlen);
out:
	free(L.meta);
	return rc;
}

int blob_write(const char *path, const struct blob_model *m, char *err, size_t errlen)
{
	return write_model(-1, path, path, m, err, errlen);
}

int blob_writeat(int dirfd, const char *name, const char *shown, const struct blob_model *m, char *err,
		 size_t errlen)
{
	return write_model(dirfd, name, shown, m, err, errlen);
}
