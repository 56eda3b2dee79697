/*
 * arch.h - the --arch grammar: the layers of a state_dict and their order,
 * or a whole module's execution order over its children (docs/cli.md).
 *
 * One string, items separated by commas at parenthesis depth 0; spaces
 * and tabs are ignored.
 *
 *   ITEM := OP | OP(ARGS) | OP:NUMBER | NAME | NAME=OP | NAME=OP(ARGS)
 *   ARGS := positional values first, then key=value; a value is N, HxW,
 *           a number, a word (padding=same|valid) or a boolean 0/1/true/false
 *
 * A word that is an op name is always the op; any other word is a NAME (a
 * state_dict key prefix or a child module's dotted path).  The parser
 * only checks the syntax and each op's arguments; pth_state_dict.c and
 * pth.c resolve the names.
 */
#ifndef SCOREPOINT_ARCH_H
#define SCOREPOINT_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include "tools/pth.h"

#define ARCH_MAX_ITEMS (2 * BLOB_MAX_OPS)
#define ARCH_MAX_LEN 8192    /* bytes of one --arch string */

/* Item kinds besides enum blob_op_kind and PTH_OP_FLATTEN/UNFLATTEN. */
#define ARCH_NAME_ONLY 0                       /* NAME: what the layer is comes from the file */
#define ARCH_BATCHNORM1D (BLOB_OP_KIND_END + 10)
#define ARCH_BATCHNORM2D (BLOB_OP_KIND_END + 11)
#define ARCH_IDENTITY (BLOB_OP_KIND_END + 12)  /* dropout, dropout2d, identity */

struct arch_item {
	char name[PTH_PATH_MAX];   /* "" when the item is a bare OP */
	uint32_t kind;             /* ARCH_NAME_ONLY, enum blob_op_kind, PTH_OP_*, ARCH_* */
	const char *word;          /* the op's name as written ("dropout2d"), for messages */
	int has_args;              /* OP(...) or OP:NUMBER was written */
	float param;               /* leaky_relu slope (0.01), elu alpha (1.0) */
	double eps;                /* batchnorm eps (1e-5) */
	struct blob_geom g;        /* conv2d/pool window, unflatten's c,h,w, adaptive's oh,ow */
	uint32_t pflags;           /* PTH_PAD_SAME */
};

struct arch {
	size_t n;
	struct arch_item items[ARCH_MAX_ITEMS];
};

/*
 * Parse s into *a (caller's memory; nothing allocated).  0, or -1 with one
 * line in err beginning "--arch: ".
 */
int arch_parse(const char *s, struct arch *a, char *err, size_t errlen);

/* The op's name in the grammar ("conv2d", "flatten"), "?" when unknown. */
const char *arch_kind_name(uint32_t kind);

/* True for the ops whose tensors come from the file: linear, conv2d,
 * batchnorm1d, batchnorm2d. */
int arch_takes_tensors(uint32_t kind);

/* The op names, for "one of ..." in messages. */
extern const char arch_op_list[];

#endif
