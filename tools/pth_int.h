/*
 * pth_int.h - what the .pth reader's files share: pth.c (the load, whole
 * modules, ops), pth_tensor.c (storages and tensors) and pth_state_dict.c.
 * Private to tools/pth*.c: not part of pth.h's API.
 *
 * Every function that fails writes one line into c->err (naming the module
 * path or the state_dict key) and returns -1 or NULL.
 */
#ifndef SCOREPOINT_PTH_INT_H
#define SCOREPOINT_PTH_INT_H

#include "tools/pth.h"
#include "tools/pickle.h"
#include "tools/zip.h"

#define PTH_MAX_DIMS 8
#define PTH_MAX_DEPTH 32              /* modules nested in modules */
#define PTH_MAX_VISITS 1024           /* modules walked, shared ones each time */
#define PTH_MAX_ATTRS 1024            /* entries of one module's dicts */
#define PTH_MAX_FLOATS (1u << 28)     /* all tensors together: 1 GiB of f32 */
#define PTH_MAX_CKPT_DEPTH 4          /* {'model': {'state_dict': ...}} */
#define PTH_MAX_GROUPS (2 * BLOB_MAX_OPS)  /* layers in a state_dict */
#define PTH_MAX_KEY 200               /* storage key, for its entry name */

/* A tensor read out of the file, as float32. */
struct pth_tensor {
	float *v;                     /* malloc'd, numel floats */
	uint64_t numel;
	int ndim;
	uint64_t shape[PTH_MAX_DIMS];
};

struct pth_storage;                   /* a storage record of the zip (pth_tensor.c) */

/* One load: the open file, its pickle graph, and the model being built. */
struct pth_ctx {
	struct zip zip;
	struct pkl_doc doc;
	int big_endian;
	struct pth_storage *st;       /* the storages read so far; freed by the load */
	size_t nst, stcap;
	uint64_t floats;              /* produced so far, against PTH_MAX_FLOATS */
	unsigned visits;              /* modules walked, against PTH_MAX_VISITS */
	int dropout_noted;            /* the training-mode dropout note is given once */
	struct pth_model *m;
	const struct pth_opts *o;     /* never NULL */
	char *err;
	size_t errlen;
};

/* Write the message into c->err; returns -1. */
int pth_fail(struct pth_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append one line to m->notes; a full buffer ends with "...". */
void pth_note(struct pth_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Module paths in messages: the root has none, and is shown "(root)". */
const char *pth_shown(const char *path);

/* An int (or bool) of the pickle, or a float or int: 0, or -1 for anything
 * else (a big int included). */
int pth_get_int(const struct pkl_node *n, int64_t *v);
int pth_get_float(const struct pkl_node *n, double *v);

/* n is a call of one of the tensor or parameter rebuilders. */
int pth_is_tensorish(const struct pkl_node *n);

/*
 * Copy the tensor n into t->v as float32 (t owns it: pth_free_tensor),
 * honouring storage_offset and strides, each element index proven to lie
 * in its storage first.  path names it in messages.  0 or -1 (t holds
 * nothing to free).  pth_opt_tensor: the same, or an empty t for n NULL.
 */
int pth_get_tensor(struct pth_ctx *c, const struct pkl_node *n, const char *path, struct pth_tensor *t);
int pth_opt_tensor(struct pth_ctx *c, const struct pkl_node *n, const char *path, struct pth_tensor *t);
void pth_free_tensor(struct pth_tensor *t);

/* The next op of the model, zeroed but for its kind and path; NULL past
 * BLOB_MAX_OPS. */
struct pth_op *pth_emit(struct pth_ctx *c, uint32_t kind, const char *path);

/* A Linear op from weight [out, in] and bias [out] (b->v NULL: none); takes
 * both tensors' floats.  wname names the weight in messages. */
int pth_emit_linear(struct pth_ctx *c, const char *path, struct pth_tensor *w, struct pth_tensor *b,
		    const char *wname);

/* A Conv2d op from weight [oc, c, kh, kw] and bias [oc] (b->v NULL: none);
 * win gives stride, padding and dilation (kh, kw come from the weight),
 * pflags PTH_PAD_SAME; takes both tensors' floats. */
int pth_emit_conv(struct pth_ctx *c, const char *path, struct pth_tensor *w, struct pth_tensor *b,
		  const char *wname, const struct blob_geom *win, uint32_t pflags);

/*
 * A BatchNorm (dims 1 or 2; 0: as the op before it says) with its running
 * statistics: folded into the op just emitted when that is a Linear
 * (BatchNorm1d) or a Conv2d (BatchNorm2d), else a SCALE_SHIFT op of its
 * own.  gamma, beta may be NULL (affine=False).
 */
int pth_emit_bn(struct pth_ctx *c, const char *path, const struct pth_tensor *mean, const struct pth_tensor *var,
		const struct pth_tensor *gamma, const struct pth_tensor *beta, double eps, int dims);

struct arch_item;
/* The op of an --arch item that takes no tensors (an activation, a pool,
 * flatten, unflatten; identity and dropout emit nothing). */
int pth_emit_item(struct pth_ctx *c, const struct arch_item *it, const char *path);

/* One of torch's layers (pth_layers.c): its class after NN, its reader
 * (which emits its ops), the --arch op it is, and for LeakyReLU and ELU
 * the attribute holding the parameter and its default. */
#define NN "torch.nn.modules."
struct pth_layer;
typedef int (*pth_layer_fn)(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
			    const struct pth_layer *k);
struct pth_layer {
	const char *name;
	pth_layer_fn fn;
	uint32_t kind;
	const char *attr;
	double dflt;
};

/* The layer of a class name ("torch.nn.modules.linear.Linear"), or NULL
 * (a container, a user's class, or a layer not supported). */
const struct pth_layer *pth_layer_of(const char *cls);

/* A Flatten's start_dim and end_dim (absent: 1 and -1); -1 when not ints. */
int pth_flatten_dims(const struct pkl_node *mod, int64_t *start, int64_t *end);

/* The ops of a state_dict (pth_state_dict.c): its Linear, Conv2d and
 * BatchNorm layers in key order or as `arch` orders them, with the
 * activations, pools and reshapes of `arch` (NULL: ReLU between Linear
 * layers, noted; a Conv2d then refuses, asking for --arch). */
int pth_load_state_dict(struct pth_ctx *c, const struct pkl_node *sd, const char *arch);

#endif
