/*
 * fuzz_blob.c - the blob loader's checks, blob_check (model/blob.h), on a
 * memory image.
 *
 * The input is a blob image.  It is checked twice from a 64-byte aligned
 * copy: as it is, and with the CRC-32 at offset 24 recomputed over
 * [32, size), so that a mutated valid blob (the seeds are valid blobs)
 * gets past the checksum to every other check.  Properties: a blob that
 * passes has its op chain, widths, strings and weights inside the image
 * (read whole; ASan checks), its columns and labels counted as the header
 * says, weights 64-byte aligned, and a spatial op's shapes its widths.
 */
#include "model/blob.h"
#include "model/crc32.h"
#include "tests/fuzz/fuzz.h"

static int inside(const void *p, size_t n, const unsigned char *base, size_t size)
{
	const unsigned char *c = p;
	return c >= base && c <= base + size && n <= (size_t)(base + size - c);
}

static void check(const unsigned char *buf, size_t size)
{
	struct blob_model m;
	const char **names = NULL;
	char err[256];

	memset(&m, 0, sizeof m);
	if (blob_check(buf, size, &m, &names, err, sizeof err) < 0) {
		FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof err), "refused without a message");
		free(names);
		return;
	}
	FUZZ_CHECK(m.nops >= 1 && m.nops <= BLOB_MAX_OPS, "%u ops", m.nops);
	FUZZ_CHECK(m.ops[0].in == m.input_width && m.ops[m.nops - 1].out == m.output_width,
		   "chain %u..%u, widths %u %u", m.ops[0].in, m.ops[m.nops - 1].out, m.input_width, m.output_width);
	for (uint32_t i = 0; i < m.nops; i++) {
		const struct blob_op *op = &m.ops[i];
		FUZZ_CHECK(op->kind >= BLOB_OP_LINEAR && op->kind < BLOB_OP_KIND_END, "op %u: kind %u", i, op->kind);
		FUZZ_CHECK(op->in >= 1 && op->in <= BLOB_MAX_WIDTH && op->out >= 1 && op->out <= BLOB_MAX_WIDTH,
			   "op %u: %u -> %u", i, op->in, op->out);
		FUZZ_CHECK(i == 0 || m.ops[i - 1].out == op->in, "op %u reads %u, gets %u", i, op->in,
			   m.ops[i - 1].out);
		const struct blob_geom *g = &op->g;
		int spatial = op->kind >= BLOB_OP_CONV2D;
		size_t nw = 0, nb = 0;
		if (spatial) {
			FUZZ_CHECK((uint64_t)g->c * g->h * g->w == op->in && (uint64_t)g->oc * g->oh * g->ow == op->out,
				   "op %u: shapes %ux%ux%u -> %ux%ux%u for %u -> %u", i, g->c, g->h, g->w, g->oc, g->oh,
				   g->ow, op->in, op->out);
		} else if (op->kind != BLOB_OP_LINEAR) {
			FUZZ_CHECK(op->in == op->out, "op %u: activation %u -> %u", i, op->in, op->out);
		}
		if (op->kind == BLOB_OP_LINEAR)
			nw = (size_t)op->in * op->out, nb = op->out;
		else if (op->kind == BLOB_OP_CONV2D)
			nw = (size_t)g->oc * g->c * g->kh * g->kw, nb = g->oc;
		else if (op->kind == BLOB_OP_SCALE_SHIFT)
			nw = nb = g->c;
		if (!nw) {
			FUZZ_CHECK(!op->weight && !op->bias, "op %u: weights on an op that has none", i);
			continue;
		}
		FUZZ_CHECK(inside(op->weight, nw * sizeof(float), buf, size), "op %u: weights outside", i);
		FUZZ_CHECK(((uintptr_t)op->weight & (BLOB_ALIGN - 1)) == 0, "op %u: weights unaligned", i);
		FUZZ_CHECK(!op->bias || inside(op->bias, nb * sizeof(float), buf, size), "op %u: bias outside", i);
	}
	FUZZ_CHECK(m.ncolumns == 0 || (m.ncolumns == m.input_width && m.columns), "%u columns", m.ncolumns);
	FUZZ_CHECK(m.nlabels == 0 || (m.nlabels == m.output_width && m.labels), "%u labels", m.nlabels);
	FUZZ_CHECK(m.postprocess < BLOB_POST_END, "postprocess %u", m.postprocess);
	FUZZ_CHECK(m.verify.torch_version && (!*m.verify.torch_version ||
		   inside(m.verify.torch_version, strlen(m.verify.torch_version) + 1, buf, size)), "torch version outside");
	const char *strs[3] = { m.name, m.version, m.source_digest };
	for (int i = 0; i < 3; i++)
		FUZZ_CHECK(!strs[i] || inside(strs[i], strlen(strs[i]) + 1, buf, size), "header string %d outside", i);
	for (uint32_t i = 0; i < m.ncolumns; i++)
		FUZZ_CHECK(inside(m.columns[i], strlen(m.columns[i]) + 1, buf, size), "column %u outside", i);
	for (uint32_t i = 0; i < m.nlabels; i++)
		FUZZ_CHECK(inside(m.labels[i], strlen(m.labels[i]) + 1, buf, size), "label %u outside", i);
	free(names);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *p = NULL;

	/* Exactly size bytes, so that ASan sees a read one past the image. */
	if (posix_memalign(&p, BLOB_ALIGN, size ? size : 1) != 0)
		abort();
	unsigned char *buf = p;
	memcpy(buf, data, size);
	check(buf, size);
	if (size >= 32) {
		uint32_t crc = crc32_update(0, buf + 32, size - 32);
		memcpy(buf + 24, &crc, 4);
		check(buf, size);
	}
	free(buf);
	return 0;
}
