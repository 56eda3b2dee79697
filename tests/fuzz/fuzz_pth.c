/*
 * fuzz_pth.c - the whole .pth reader, pth_load_mem (tools/pth.h): zip,
 * pickle, module or state_dict walk, tensor conversion.
 *
 * The input is the .pth file.  Its size picks the options: odd sizes an
 * explicit --arch (an MLP's, or for size % 4 == 3 a CNN's with names), and
 * size % 4 == 2 --input-shape with --assume-registration-order.
 * Properties: a success has 1 to BLOB_MAX_OPS ops, no converter-only
 * marker left, each Linear or Conv2d with weights of bounded, non-zero
 * sizes that can be read whole (ASan checks the sizes), each spatial op's
 * flat widths those of its geometry, notes and paths terminated.
 */
#include "tools/pth.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	struct pth_model m;
	char err[512];

	memset(&m, 0, sizeof m);
	struct pth_opts o = { 0 };
	if (size % 4 == 1)
		o.arch = "linear,relu,linear,leaky_relu:0.2,linear,elu:0.7";
	if (size % 4 == 3)
		o.arch = "unflatten(1,6,6),0=conv2d(padding=1),1,relu,maxpool2d(2,ceil_mode=1),4,relu,"
			 "adaptive_avgpool2d(2x3),flatten,batchnorm1d,8";
	if (size % 4 == 2) {
		o.assume_order = 1;
		o.input_shape[0] = 1;
		o.input_shape[1] = o.input_shape[2] = 6;
	}
	if (pth_load_mem_opts(buf, size, &o, &m, err, sizeof err) == 0) {
		FUZZ_CHECK(m.nops >= 1 && m.nops <= BLOB_MAX_OPS, "%u ops", m.nops);
		FUZZ_CHECK(memchr(m.notes, '\0', sizeof m.notes) && memchr(m.root_class, '\0', sizeof m.root_class),
			   "notes or class not terminated");
		for (uint32_t i = 0; i < m.nops; i++) {
			const struct pth_op *op = &m.ops[i];
			FUZZ_CHECK(op->kind >= BLOB_OP_LINEAR && op->kind < BLOB_OP_KIND_END, "op %u: kind %u", i,
				   op->kind);
			FUZZ_CHECK(memchr(op->path, '\0', sizeof op->path) != NULL, "op %u: path not terminated", i);
			const struct blob_geom *g = &op->g;
			if (g->c) {
				FUZZ_CHECK(op->in == g->c * g->h * g->w && op->out == g->oc * g->oh * g->ow,
					   "op %u: %u -> %u for %ux%ux%u -> %ux%ux%u", i, op->in, op->out, g->c, g->h,
					   g->w, g->oc, g->oh, g->ow);
				volatile float sum = 0;
				size_t nw = op->kind == BLOB_OP_CONV2D ? (size_t)g->oc * g->c * g->kh * g->kw :
					    op->kind == BLOB_OP_SCALE_SHIFT ? g->c : 0;
				size_t nb = op->kind == BLOB_OP_CONV2D ? g->oc : nw;
				for (size_t k = 0; op->weight && k < nw; k++)
					sum += op->weight[k];
				for (size_t k = 0; op->bias && k < nb; k++)
					sum += op->bias[k];
				(void)sum;
			}
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
