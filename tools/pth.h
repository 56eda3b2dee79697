/*
 * pth.h - read a torch.save file (.pth/.pt, zip format) into a sequence of
 * blob ops, executing nothing.
 *
 * The file is memory-mapped and read with tools/zip.h; data.pkl is run
 * through the pickle machine of tools/pickle.h, whose GLOBALs are resolved
 * against an allow-list.  A whole pickled nn.Module is walked through its
 * _modules tree (children in registration order); a state_dict is read as
 * Linear layers from *.weight / *.bias keys, with activations from `arch`.
 */
#ifndef SCOREPOINT_PTH_H
#define SCOREPOINT_PTH_H

#include <stddef.h>
#include <stdint.h>
#include "model/blob.h"

#define PTH_PATH_MAX 256

struct pth_op {
	uint32_t kind;             /* enum blob_op_kind */
	uint32_t in, out;
	float param;               /* LeakyReLU slope, ELU alpha */
	float *weight;             /* [out][in] float32, malloc'd, owned here */
	float *bias;               /* [out] float32 or NULL, owned here */
	char path[PTH_PATH_MAX];   /* module path, e.g. "sequence.1" */
};

struct pth_model {
	uint32_t nops;
	struct pth_op ops[BLOB_MAX_OPS];
	int is_state_dict;         /* 1: a state_dict; 0: a whole module */
	char root_class[PTH_PATH_MAX];  /* e.g. "neural_network.NeuralNetwork" */
	/* Assumptions made and warnings, one per line, for the user to read
	 * (e.g. "activations assumed: linear,relu,linear"). */
	char notes[2048];
};

/*
 * Read the torch.save file at `path`.  `arch` is NULL or a comma-separated
 * op list ("linear,relu,linear") used for a bare state_dict; "leaky_relu:0.2"
 * and "elu:0.7" give those ops their parameter (defaults 0.01 and 1.0).  On failure
 * returns -1 and writes one line, without a trailing newline, into err
 * (e.g. "sequence.3: torch.nn.modules.conv.Conv2d is not supported").
 * On success the caller owns *m and frees it with pth_free().
 */
int pth_load(const char *path, const char *arch, struct pth_model *m,
	     char *err, size_t errlen);

/* The same from the bytes of a .pth file in memory (buf is only read
 * during the call); for tests and fuzzing. */
int pth_load_mem(const void *buf, size_t len, const char *arch,
		 struct pth_model *m, char *err, size_t errlen);
void pth_free(struct pth_model *m);

#endif
