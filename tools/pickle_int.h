/*
 * pickle_int.h - what the machine of pickle.c shares with the opcodes of
 * pickle_objects.c (GLOBAL, REDUCE, NEWOBJ, BUILD and the SETITEM/APPEND
 * family).  Private to tools/pickle*.c: not part of pickle.h's API.
 *
 * Every function that fails writes one line into vm->err (naming the opcode
 * offset) and returns -1 or NULL; the caller only passes the failure up.
 */
#ifndef SCOREPOINT_PICKLE_INT_H
#define SCOREPOINT_PICKLE_INT_H

#include "tools/pickle.h"

struct pkl_vm {
	const unsigned char *start, *p, *end;
	const struct pkl_limits *lim;
	struct pkl_arena *arena;
	size_t nnodes;
	struct pkl_node **stack;
	size_t sp, scap;
	size_t *marks;
	size_t nmarks, mcap;
	struct pkl_node **memo;
	size_t memo_cap, memo_len;
	size_t op_off;     /* offset of the opcode being run */
	unsigned op;
	char *err;
	size_t errlen;
};

/* Write the message, with " (pickle offset N)", into vm->err; returns -1. */
int pkl_fail(struct pkl_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "REDUCE", "BINGET", ... for op; NULL for a byte that is no opcode. */
const char *pkl_op_name(unsigned op);

/* n bytes in the result's arena (valid until pkl_free), or NULL. */
void *pkl_alloc(struct pkl_vm *vm, size_t n);

/* A zeroed node of that kind, counted against max_nodes, or NULL. */
struct pkl_node *pkl_new_node(struct pkl_vm *vm, enum pkl_kind kind);

/* parent is at least one deeper than child; 0, or -1 past max_depth. */
int pkl_raise_depth(struct pkl_vm *vm, struct pkl_node *parent, const struct pkl_node *child);

/* Append child to s, a sequence of parent.  0 or -1. */
int pkl_seq_push(struct pkl_vm *vm, struct pkl_node *parent, struct pkl_seq *s, struct pkl_node *child);

/* Push n (NULL: its constructor failed, and so does this).  0 or -1. */
int pkl_push(struct pkl_vm *vm, struct pkl_node *n);

/* The top of the stack above the last MARK, popped or not; NULL on underflow. */
struct pkl_node *pkl_pop(struct pkl_vm *vm);
struct pkl_node *pkl_top(struct pkl_vm *vm);

/* The opcodes of pickle_objects.c; each 0 or -1. */
int pkl_op_global(struct pkl_vm *vm);
int pkl_op_stack_global(struct pkl_vm *vm);
int pkl_op_reduce(struct pkl_vm *vm);
int pkl_op_build(struct pkl_vm *vm);
/* NEWOBJ/NEWOBJ_EX of cls with args, popped by the caller. */
int pkl_new_object(struct pkl_vm *vm, struct pkl_node *cls, struct pkl_node *args);
/* APPEND(S), SETITEM(S) (pairs) and ADDITEMS of items[0, n) on t. */
int pkl_add_items(struct pkl_vm *vm, struct pkl_node *t, struct pkl_node **items, size_t n, int pairs);

#endif
