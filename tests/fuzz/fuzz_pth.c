/*
 * fuzz_pth.c - the whole .pth reader, pth_load_mem (tools/pth.h): zip,
 * pickle, module or state_dict walk, tensor conversion.
 *
 * The input is the .pth file.  Odd-sized inputs are read with an explicit
 * architecture (the path a bare state_dict takes), even-sized ones without.
 * Properties: a success has 1 to BLOB_MAX_OPS ops, each Linear with
 * weights of bounded, non-zero widths that can be read whole (ASan checks
 * the sizes), notes and paths terminated.
 */
#include "tools/pth.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct pth_model m;
	char err[512];

	memset(&m, 0, sizeof m);
	const char *arch = (size & 1) ? "linear,relu,linear,leaky_relu:0.2,linear,elu:0.7" : NULL;
	if (pth_load_mem(buf, size, arch, &m, err, sizeof err) == 0) {
		FUZZ_CHECK(m.nops >= 1 && m.nops <= BLOB_MAX_OPS, "%u ops", m.nops);
		FUZZ_CHECK(memchr(m.notes, '\0', sizeof m.notes) && memchr(m.root_class, '\0', sizeof m.root_class),
			   "notes or class not terminated");
		for (uint32_t i = 0; i < m.nops; i++) {
			const struct pth_op *op = &m.ops[i];
			FUZZ_CHECK(op->kind >= BLOB_OP_LINEAR && op->kind < BLOB_OP_KIND_END, "op %u: kind %u", i,
				   op->kind);
			FUZZ_CHECK(memchr(op->path, '\0', sizeof op->path) != NULL, "op %u: path not terminated", i);
			if (op->kind != BLOB_OP_LINEAR)
				continue;
			FUZZ_CHECK(op->weight && op->in >= 1 && op->out >= 1 && op->in <= BLOB_MAX_WIDTH &&
				   op->out <= BLOB_MAX_WIDTH, "op %u: linear %u -> %u", i, op->in, op->out);
			volatile float sum = 0;
			for (size_t k = 0; k < (size_t)op->in * op->out; k++)
				sum += op->weight[k];
			for (size_t k = 0; op->bias && k < op->out; k++)
				sum += op->bias[k];
			(void)sum;
		}
		pth_free(&m);
	} else {
		FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof err), "failure without a message");
		FUZZ_CHECK(m.nops == 0, "failure leaves %u ops", m.nops);
	}
	free(buf);
	return 0;
}
