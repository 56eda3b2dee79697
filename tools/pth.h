/*
 * pth.h - read a torch.save file (.pth/.pt, zip format) into a sequence of
 * blob ops, executing nothing.
 *
 * The file is memory-mapped and read with tools/zip.h; data.pkl is run
 * through the pickle machine of tools/pickle.h, whose GLOBALs are resolved
 * against an allow-list.  A whole pickled nn.Module is walked through its
 * _modules tree; a container whose forward() is not known (a user class, a
 * plain nn.Module, ModuleList, ModuleDict) with more than one child that
 * matters is refused unless --arch gives the order or the caller assumes
 * registration order.  A state_dict is read as Linear, Conv2d and
 * BatchNorm layers from its keys, in the order and with the ops of `arch`
 * (tools/arch.h).  Last, the shape pass (tools/shape.h) resolves every
 * op's geometry and flat widths from the input shape.
 */
#ifndef SCOREPOINT_PTH_H
#define SCOREPOINT_PTH_H

#include <stddef.h>
#include <stdint.h>
#include "model/blob.h"

#define PTH_PATH_MAX 256

/* Converter-only ops: they move no numbers (a row is already C*H*W in
 * NCHW order) and the shape pass removes them. */
#define PTH_OP_FLATTEN (BLOB_OP_KIND_END + 1)     /* Flatten(1, -1) */
#define PTH_OP_UNFLATTEN (BLOB_OP_KIND_END + 2)   /* Unflatten(1, (g.c, g.h, g.w)) */

/* pth_op.pflags */
#define PTH_PAD_SAME 1u   /* conv2d padding='same': the shape pass sets ph/pw */
#define PTH_BN2D 2u       /* a SCALE_SHIFT from a BatchNorm2d (needs a C,H,W input) */

struct pth_op {
	uint32_t kind;             /* enum blob_op_kind, or PTH_OP_* before the shape pass */
	uint32_t in, out;          /* flat widths (in = c*h*w for a spatial op) */
	float param;               /* LeakyReLU slope, ELU alpha */
	float *weight;             /* [out][in] float32, malloc'd, owned here; a conv2d's
				    * [oc][c*kh*kw], a scale_shift's [c] */
	float *bias;               /* [out] float32 or NULL, owned here; [oc], [c] */
	/* Spatial ops: the reader sets the window (kh..dw, flags, divisor),
	 * a conv2d's g.c and g.oc from its weight, a scale_shift's g.c, an
	 * adaptive pool's target g.oh, g.ow (0: keep that size), Unflatten's
	 * g.c, g.h, g.w; the shape pass sets the rest. */
	struct blob_geom g;
	uint32_t pflags;           /* PTH_PAD_SAME, PTH_BN2D */
	char path[PTH_PATH_MAX];   /* module path or state_dict key prefix, e.g. "sequence.1" */
	char folded[PTH_PATH_MAX]; /* the BatchNorm folded into this op, or "" */
	double folded_eps;         /* its eps */
};

struct pth_model {
	uint32_t nops;
	struct pth_op ops[BLOB_MAX_OPS];
	int is_state_dict;         /* 1: a state_dict; 0: a whole module */
	int assumed_order;         /* a forward() was assumed to run children in registration order */
	uint32_t input_shape[3];   /* C, H, W of an input row when a layer needed one; else zeros */
	char root_class[PTH_PATH_MAX];  /* e.g. "neural_network.NeuralNetwork" */
	/* Assumptions made and warnings, one per line, for the user to read
	 * (e.g. "activations assumed: linear,relu,linear"). */
	char notes[2048];
};

/* How to read the file beyond what it says itself. */
struct pth_opts {
	const char *arch;          /* NULL, or the --arch grammar of tools/arch.h: the ops
				    * and order of a state_dict, or a whole module's execution
				    * order over its children */
	uint32_t input_shape[3];   /* C, H, W (--input-shape, an MLflow signature), or zeros;
				    * used when the first layer needing a shape has none */
	int assume_order;          /* --assume-registration-order: run the children of a
				    * forward() that is not known in registration order */
};

/*
 * Read the torch.save file at `path`.  On failure returns -1 and writes
 * one line, without a trailing newline, into err (e.g. "sequence.3:
 * torch.nn.modules.conv.Conv3d is not supported").  On success the caller
 * owns *m and frees it with pth_free().
 */
int pth_load_opts(const char *path, const struct pth_opts *o, struct pth_model *m, char *err, size_t errlen);
/* The same with only an arch (NULL: none). */
int pth_load(const char *path, const char *arch, struct pth_model *m,
	     char *err, size_t errlen);

/* The same from the bytes of a .pth file in memory (buf is only read
 * during the call); for tests and fuzzing. */
int pth_load_mem_opts(const void *buf, size_t len, const struct pth_opts *o, struct pth_model *m, char *err,
		      size_t errlen);
int pth_load_mem(const void *buf, size_t len, const char *arch,
		 struct pth_model *m, char *err, size_t errlen);
void pth_free(struct pth_model *m);

#endif
