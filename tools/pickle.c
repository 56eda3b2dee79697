/*
 * pickle.c - the non-executing pickle machine of pickle.h.
 *
 * Opcodes: PROTO FRAME STOP MARK POP POP_MARK DUP NONE NEWTRUE NEWFALSE
 * BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT BINUNICODE SHORT_BINUNICODE
 * BINUNICODE8 BINSTRING SHORT_BINSTRING BINBYTES SHORT_BINBYTES BINBYTES8
 * BYTEARRAY8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND
 * APPENDS EMPTY_DICT DICT SETITEM SETITEMS EMPTY_SET ADDITEMS FROZENSET
 * GLOBAL STACK_GLOBAL REDUCE NEWOBJ NEWOBJ_EX BUILD BINPERSID BINPUT
 * LONG_BINPUT MEMOIZE BINGET LONG_BINGET.  Everything else (the text
 * opcodes of protocol 0, INST/OBJ, EXT*, out-of-band buffers) is refused.
 *
 * Nodes live in an arena owned by the pkl_doc; the stack, mark stack and
 * memo are scratch arrays freed when pkl_parse returns.  This file is the
 * machine and its data opcodes; the opcodes that name Python code (GLOBAL,
 * REDUCE, NEWOBJ, BUILD) and those filling containers are in
 * pickle_objects.c, the allow-list of globals in pickle_globals.c, and the
 * readers of the finished graph in pickle_graph.c.
 */
#include "tools/pickle.h"
#include "tools/pickle_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct pkl_limits pkl_default_limits = {
	.max_stack = PKL_MAX_STACK,
	.max_marks = PKL_MAX_MARKS,
	.max_memo = PKL_MAX_MEMO,
	.max_nodes = PKL_MAX_NODES,
	.max_string = PKL_MAX_STRING,
	.max_bytes = PKL_MAX_BYTES,
	.max_depth = PKL_MAX_DEPTH,
};

/* ---- arena ----------------------------------------------------------- */

#define CHUNK_SIZE (64u * 1024u)
#define ALIGN 16u

struct chunk {
	struct chunk *next;
	size_t used, cap;
	unsigned char *data;
};

struct pkl_arena {
	struct chunk *head;
	size_t bytes;      /* everything malloc'd for the result */
	size_t limit;
	int over_cap;      /* the last failure was the cap, not malloc */
};

static void *arena_alloc(struct pkl_arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	void *p;

	a->over_cap = 0;
	if (need < n)
		return NULL;
	if (c == NULL || c->cap - c->used < need) {
		size_t cap = need > CHUNK_SIZE / 4 ? need : CHUNK_SIZE;
		size_t total = sizeof *c + ALIGN + cap;

		if (total < cap || a->bytes > a->limit ||
		    total > a->limit - a->bytes) {
			a->over_cap = 1;
			return NULL;
		}
		c = malloc(total);
		if (c == NULL)
			return NULL;
		c->data = (unsigned char *)c + ((sizeof *c + ALIGN - 1) &
						~(size_t)(ALIGN - 1));
		c->cap = cap;
		c->used = 0;
		a->bytes += total;
		if (a->head != NULL && need > CHUNK_SIZE / 4) {
			/* A big block: keep filling the current chunk. */
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = c->data + c->used;
	c->used += need;
	return p;
}

static void arena_free(struct pkl_arena *a)
{
	struct chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* ---- the machine ----------------------------------------------------- */

const char *pkl_op_name(unsigned op)
{
	switch (op) {
	case '(': return "MARK";
	case '.': return "STOP";
	case '0': return "POP";
	case '1': return "POP_MARK";
	case '2': return "DUP";
	case 'N': return "NONE";
	case 0x88: return "NEWTRUE";
	case 0x89: return "NEWFALSE";
	case 'J': return "BININT";
	case 'K': return "BININT1";
	case 'M': return "BININT2";
	case 0x8a: return "LONG1";
	case 0x8b: return "LONG4";
	case 'G': return "BINFLOAT";
	case 'X': return "BINUNICODE";
	case 0x8c: return "SHORT_BINUNICODE";
	case 0x8d: return "BINUNICODE8";
	case 'T': return "BINSTRING";
	case 'U': return "SHORT_BINSTRING";
	case 'B': return "BINBYTES";
	case 'C': return "SHORT_BINBYTES";
	case 0x8e: return "BINBYTES8";
	case 0x96: return "BYTEARRAY8";
	case ')': return "EMPTY_TUPLE";
	case 't': return "TUPLE";
	case 0x85: return "TUPLE1";
	case 0x86: return "TUPLE2";
	case 0x87: return "TUPLE3";
	case ']': return "EMPTY_LIST";
	case 'l': return "LIST";
	case 'a': return "APPEND";
	case 'e': return "APPENDS";
	case '}': return "EMPTY_DICT";
	case 'd': return "DICT";
	case 's': return "SETITEM";
	case 'u': return "SETITEMS";
	case 0x8f: return "EMPTY_SET";
	case 0x90: return "ADDITEMS";
	case 0x91: return "FROZENSET";
	case 'c': return "GLOBAL";
	case 0x93: return "STACK_GLOBAL";
	case 'R': return "REDUCE";
	case 0x81: return "NEWOBJ";
	case 0x92: return "NEWOBJ_EX";
	case 'b': return "BUILD";
	case 'Q': return "BINPERSID";
	case 'P': return "PERSID";
	case 'q': return "BINPUT";
	case 'r': return "LONG_BINPUT";
	case 0x94: return "MEMOIZE";
	case 'h': return "BINGET";
	case 'j': return "LONG_BINGET";
	case 'p': return "PUT";
	case 'g': return "GET";
	case 0x95: return "FRAME";
	case 0x80: return "PROTO";
	case 'I': return "INT";
	case 'L': return "LONG";
	case 'F': return "FLOAT";
	case 'S': return "STRING";
	case 'V': return "UNICODE";
	case 'i': return "INST";
	case 'o': return "OBJ";
	case 0x82: return "EXT1";
	case 0x83: return "EXT2";
	case 0x84: return "EXT4";
	case 0x97: return "NEXT_BUFFER";
	case 0x98: return "READONLY_BUFFER";
	default: return NULL;
	}
}

int pkl_fail(struct pkl_vm *vm, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(vm->err, vm->errlen, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < vm->errlen)
		snprintf(vm->err + n, vm->errlen - (size_t)n,
			 " (pickle offset %zu)", vm->op_off);
	return -1;
}

static int fail_alloc(struct pkl_vm *vm)
{
	if (vm->arena->over_cap)
		return pkl_fail(vm, "pickle needs more than %zu bytes of memory",
				vm->lim->max_bytes);
	return pkl_fail(vm, "out of memory");
}

void *pkl_alloc(struct pkl_vm *vm, size_t n)
{
	void *p = arena_alloc(vm->arena, n);

	if (p == NULL)
		fail_alloc(vm);
	return p;
}

struct pkl_node *pkl_new_node(struct pkl_vm *vm, enum pkl_kind kind)
{
	struct pkl_node *n;

	if (vm->nnodes >= vm->lim->max_nodes) {
		pkl_fail(vm, "pickle builds more than %zu values", vm->lim->max_nodes);
		return NULL;
	}
	n = arena_alloc(vm->arena, sizeof *n);
	if (n == NULL) {
		fail_alloc(vm);
		return NULL;
	}
	memset(n, 0, sizeof *n);
	n->kind = kind;
	vm->nnodes++;
	return n;
}

int pkl_raise_depth(struct pkl_vm *vm, struct pkl_node *parent, const struct pkl_node *child)
{
	if (child != NULL && child->depth + 1 > parent->depth) {
		parent->depth = child->depth + 1;
		if (parent->depth > vm->lim->max_depth)
			return pkl_fail(vm, "values nested deeper than %zu",
					vm->lim->max_depth);
	}
	return 0;
}

int pkl_seq_push(struct pkl_vm *vm, struct pkl_node *parent, struct pkl_seq *s, struct pkl_node *child)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct pkl_node **v;

		if (cap > SIZE_MAX / sizeof *v)
			return pkl_fail(vm, "container too large");
		v = arena_alloc(vm->arena, cap * sizeof *v);
		if (v == NULL)
			return fail_alloc(vm);
		if (s->n)
			memcpy(v, s->v, s->n * sizeof *v);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = child;
	return pkl_raise_depth(vm, parent, child);
}

/* A sequence node holding items[0..n). */
static struct pkl_node *make_seq(struct pkl_vm *vm, enum pkl_kind kind,
				 struct pkl_node **items, size_t n)
{
	struct pkl_node *t = pkl_new_node(vm, kind);
	size_t i;

	if (t == NULL)
		return NULL;
	if (n) {
		t->u.seq.v = arena_alloc(vm->arena, n * sizeof *items);
		if (t->u.seq.v == NULL) {
			fail_alloc(vm);
			return NULL;
		}
		memcpy(t->u.seq.v, items, n * sizeof *items);
		t->u.seq.n = t->u.seq.cap = n;
	}
	for (i = 0; i < n; i++)
		if (pkl_raise_depth(vm, t, items[i]) != 0)
			return NULL;
	return t;
}

static struct pkl_node *make_str(struct pkl_vm *vm, enum pkl_kind kind,
				 const unsigned char *s, size_t len)
{
	struct pkl_node *n;
	char *copy;

	if (len > vm->lim->max_string) {
		pkl_fail(vm, "string of %zu bytes exceeds the cap of %zu", len,
			 vm->lim->max_string);
		return NULL;
	}
	n = pkl_new_node(vm, kind);
	if (n == NULL)
		return NULL;
	copy = arena_alloc(vm->arena, len + 1);
	if (copy == NULL) {
		fail_alloc(vm);
		return NULL;
	}
	memcpy(copy, s, len);
	copy[len] = '\0';
	n->u.str.s = copy;
	n->u.str.len = len;
	return n;
}

/* ---- stack ----------------------------------------------------------- */

int pkl_push(struct pkl_vm *vm, struct pkl_node *n)
{
	if (n == NULL)
		return -1;   /* the constructor already failed */
	if (vm->sp == vm->scap) {
		size_t cap = vm->scap ? vm->scap * 2 : 64;
		struct pkl_node **s;

		if (vm->sp >= vm->lim->max_stack)
			return pkl_fail(vm, "pickle stack deeper than %zu values",
					vm->lim->max_stack);
		if (cap > vm->lim->max_stack)
			cap = vm->lim->max_stack;
		s = realloc(vm->stack, cap * sizeof *s);
		if (s == NULL)
			return pkl_fail(vm, "out of memory");
		vm->stack = s;
		vm->scap = cap;
	}
	vm->stack[vm->sp++] = n;
	return 0;
}

static size_t stack_base(const struct pkl_vm *vm)
{
	return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
}

struct pkl_node *pkl_pop(struct pkl_vm *vm)
{
	if (vm->sp <= stack_base(vm)) {
		pkl_fail(vm, "stack underflow in %s", pkl_op_name(vm->op));
		return NULL;
	}
	return vm->stack[--vm->sp];
}

struct pkl_node *pkl_top(struct pkl_vm *vm)
{
	if (vm->sp <= stack_base(vm)) {
		pkl_fail(vm, "stack underflow in %s", pkl_op_name(vm->op));
		return NULL;
	}
	return vm->stack[vm->sp - 1];
}

static int push_mark(struct pkl_vm *vm)
{
	if (vm->nmarks == vm->mcap) {
		size_t cap = vm->mcap ? vm->mcap * 2 : 16;
		size_t *m;

		if (vm->nmarks >= vm->lim->max_marks)
			return pkl_fail(vm, "more than %zu MARKs open at once",
					vm->lim->max_marks);
		if (cap > vm->lim->max_marks)
			cap = vm->lim->max_marks;
		m = realloc(vm->marks, cap * sizeof *m);
		if (m == NULL)
			return pkl_fail(vm, "out of memory");
		vm->marks = m;
		vm->mcap = cap;
	}
	vm->marks[vm->nmarks++] = vm->sp;
	return 0;
}

/* Pop back to the last MARK: the items are stack[*from .. old sp). */
static int pop_mark(struct pkl_vm *vm, size_t *from, size_t *n)
{
	if (vm->nmarks == 0)
		return pkl_fail(vm, "%s without a MARK", pkl_op_name(vm->op));
	*from = vm->marks[--vm->nmarks];
	*n = vm->sp - *from;
	vm->sp = *from;
	return 0;
}

/* ---- memo ------------------------------------------------------------ */

static int memo_put(struct pkl_vm *vm, uint64_t idx)
{
	struct pkl_node *t = pkl_top(vm);

	if (t == NULL)
		return -1;
	if (idx >= vm->lim->max_memo)
		return pkl_fail(vm, "memo index %llu exceeds the cap of %zu",
				(unsigned long long)idx, vm->lim->max_memo);
	if (idx >= vm->memo_cap) {
		size_t cap = vm->memo_cap ? vm->memo_cap : 64;
		struct pkl_node **m;

		while (cap <= idx)
			cap *= 2;
		if (cap > vm->lim->max_memo)
			cap = vm->lim->max_memo;
		m = realloc(vm->memo, cap * sizeof *m);
		if (m == NULL)
			return pkl_fail(vm, "out of memory");
		memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
		vm->memo = m;
		vm->memo_cap = cap;
	}
	if (vm->memo[idx] == NULL)
		vm->memo_len++;
	vm->memo[idx] = t;
	return 0;
}

static int memo_get(struct pkl_vm *vm, uint64_t idx)
{
	if (idx >= vm->memo_cap || vm->memo[idx] == NULL)
		return pkl_fail(vm, "%s of empty memo slot %llu", pkl_op_name(vm->op),
				(unsigned long long)idx);
	return pkl_push(vm, vm->memo[idx]);
}

/* ---- reading arguments ----------------------------------------------- */

static const unsigned char *take(struct pkl_vm *vm, uint64_t n)
{
	const unsigned char *p = vm->p;

	if (n > (uint64_t)(vm->end - vm->p)) {
		pkl_fail(vm, "truncated pickle: %s needs %llu more bytes",
			 pkl_op_name(vm->op), (unsigned long long)n);
		return NULL;
	}
	vm->p += n;
	return p;
}

static int arg_uint(struct pkl_vm *vm, unsigned nbytes, uint64_t *v)
{
	const unsigned char *p = take(vm, nbytes);
	unsigned i;

	if (p == NULL)
		return -1;
	*v = 0;
	for (i = 0; i < nbytes; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return 0;
}

/* A length-prefixed string or bytes argument. */
static int op_string(struct pkl_vm *vm, unsigned lenbytes, enum pkl_kind kind)
{
	const unsigned char *s;
	uint64_t n;

	if (arg_uint(vm, lenbytes, &n) != 0)
		return -1;
	if (n > vm->lim->max_string)
		return pkl_fail(vm, "string of %llu bytes exceeds the cap of %zu",
				(unsigned long long)n, vm->lim->max_string);
	s = take(vm, n);
	if (s == NULL)
		return -1;
	return pkl_push(vm, make_str(vm, kind, s, (size_t)n));
}

static int push_int(struct pkl_vm *vm, int64_t v, int big)
{
	struct pkl_node *n = pkl_new_node(vm, PKL_INT);

	if (n != NULL) {
		n->u.i.v = v;
		n->u.i.big = big;
	}
	return pkl_push(vm, n);
}

/* LONG1/LONG4: little-endian two's complement of n bytes. */
static int op_long(struct pkl_vm *vm, unsigned lenbytes)
{
	const unsigned char *p;
	uint64_t n, u = 0;
	unsigned char ext;
	size_t i;

	if (arg_uint(vm, lenbytes, &n) != 0)
		return -1;
	if (n > PKL_MAX_LONG)
		return pkl_fail(vm, "%s integer of %llu bytes exceeds the cap of %u",
				pkl_op_name(vm->op), (unsigned long long)n, PKL_MAX_LONG);
	p = take(vm, n);
	if (p == NULL)
		return -1;
	if (n == 0)
		return push_int(vm, 0, 0);
	ext = (p[n - 1] & 0x80) ? 0xff : 0x00;
	for (i = 0; i < 8; i++)
		u |= (uint64_t)(i < n ? p[i] : ext) << (8 * i);
	/* Beyond 8 bytes only sign extension may follow. */
	for (i = 8; i < n; i++)
		if (p[i] != ext)
			return push_int(vm, 0, 1);
	if (n > 8 && ((u >> 63) ? 0xff : 0x00) != ext)
		return push_int(vm, 0, 1);
	return push_int(vm, (int64_t)u, 0);
}

static int op_binfloat(struct pkl_vm *vm)
{
	const unsigned char *p = take(vm, 8);
	struct pkl_node *n;
	uint64_t u = 0;
	double d;
	int i;

	if (p == NULL)
		return -1;
	for (i = 0; i < 8; i++)
		u = u << 8 | p[i];      /* big-endian */
	memcpy(&d, &u, sizeof d);
	n = pkl_new_node(vm, PKL_FLOAT);
	if (n != NULL)
		n->u.f = d;
	return pkl_push(vm, n);
}

/* ---- the loop -------------------------------------------------------- */

static int op_tuple_n(struct pkl_vm *vm, size_t n)
{
	struct pkl_node *items[3];
	size_t i;

	for (i = n; i-- > 0;)
		if ((items[i] = pkl_pop(vm)) == NULL)
			return -1;
	return pkl_push(vm, make_seq(vm, PKL_TUPLE, items, n));
}

/* MARK-delimited: TUPLE, LIST, DICT, FROZENSET, APPENDS, SETITEMS, ADDITEMS. */
static int op_marked(struct pkl_vm *vm)
{
	size_t from = 0, n = 0;
	struct pkl_node *t, **items;

	if (pop_mark(vm, &from, &n) != 0)
		return -1;
	items = n ? vm->stack + from : NULL;   /* intact above the new sp */
	switch (vm->op) {
	case 't':
		return pkl_push(vm, make_seq(vm, PKL_TUPLE, items, n));
	case 'l':
		return pkl_push(vm, make_seq(vm, PKL_LIST, items, n));
	case 0x91:
		return pkl_push(vm, make_seq(vm, PKL_SET, items, n));
	case 'd':
		if (n % 2 != 0)
			return pkl_fail(vm, "DICT with an odd number of items");
		t = make_seq(vm, PKL_DICT, items, n);
		return pkl_push(vm, t);
	case '1':
		return 0;
	default:   /* 'e', 'u', 0x90: extend the value below the mark */
		if ((t = pkl_top(vm)) == NULL)
			return -1;
		return pkl_add_items(vm, t, items, n, vm->op == 'u');
	}
}

static int step(struct pkl_vm *vm, int *done)
{
	struct pkl_node *a, *b, *c;
	uint64_t v;

	vm->op_off = (size_t)(vm->p - vm->start);
	vm->op = *vm->p++;
	switch (vm->op) {
	case 0x80:   /* PROTO */
		if (arg_uint(vm, 1, &v) != 0)
			return -1;
		if (v > 5)
			return pkl_fail(vm, "unsupported pickle protocol %llu",
					(unsigned long long)v);
		return 0;
	case 0x95:   /* FRAME: a length hint */
		if (arg_uint(vm, 8, &v) != 0)
			return -1;
		if (v > (uint64_t)(vm->end - vm->p))
			return pkl_fail(vm, "FRAME of %llu bytes runs past the end",
					(unsigned long long)v);
		return 0;
	case '.':
		if ((a = pkl_pop(vm)) == NULL)
			return -1;
		vm->stack[vm->sp++] = a;   /* leave it for the caller */
		*done = 1;
		return 0;
	case '(':
		return push_mark(vm);
	case '0':   /* POP: an empty segment pops its MARK instead */
		if (vm->sp > stack_base(vm)) {
			vm->sp--;
			return 0;
		}
		if (vm->nmarks == 0)
			return pkl_fail(vm, "stack underflow in POP");
		vm->nmarks--;
		return 0;
	case '2':
		if ((a = pkl_top(vm)) == NULL)
			return -1;
		return pkl_push(vm, a);
	case 'N':
		return pkl_push(vm, pkl_new_node(vm, PKL_NONE));
	case 0x88:
	case 0x89:
		a = pkl_new_node(vm, PKL_BOOL);
		if (a != NULL)
			a->u.boolean = vm->op == 0x88;
		return pkl_push(vm, a);
	case 'K':
		if (arg_uint(vm, 1, &v) != 0)
			return -1;
		return push_int(vm, (int64_t)v, 0);
	case 'M':
		if (arg_uint(vm, 2, &v) != 0)
			return -1;
		return push_int(vm, (int64_t)v, 0);
	case 'J':
		if (arg_uint(vm, 4, &v) != 0)
			return -1;
		return push_int(vm, (int64_t)(int32_t)(uint32_t)v, 0);
	case 0x8a:
		return op_long(vm, 1);
	case 0x8b:
		return op_long(vm, 4);
	case 'G':
		return op_binfloat(vm);
	case 'X':
		return op_string(vm, 4, PKL_STR);
	case 0x8c:
		return op_string(vm, 1, PKL_STR);
	case 0x8d:
		return op_string(vm, 8, PKL_STR);
	case 'T':
		return op_string(vm, 4, PKL_STR);
	case 'U':
		return op_string(vm, 1, PKL_STR);
	case 'B':
		return op_string(vm, 4, PKL_BYTES);
	case 'C':
		return op_string(vm, 1, PKL_BYTES);
	case 0x8e:
	case 0x96:
		return op_string(vm, 8, PKL_BYTES);
	case ')':
		return pkl_push(vm, make_seq(vm, PKL_TUPLE, NULL, 0));
	case 0x85:
		return op_tuple_n(vm, 1);
	case 0x86:
		return op_tuple_n(vm, 2);
	case 0x87:
		return op_tuple_n(vm, 3);
	case ']':
		return pkl_push(vm, pkl_new_node(vm, PKL_LIST));
	case '}':
		return pkl_push(vm, pkl_new_node(vm, PKL_DICT));
	case 0x8f:
		return pkl_push(vm, pkl_new_node(vm, PKL_SET));
	case 't':
	case 'l':
	case 'd':
	case 0x91:
	case '1':
	case 'e':
	case 'u':
	case 0x90:
		return op_marked(vm);
	case 'a':
		if ((a = pkl_pop(vm)) == NULL || (b = pkl_top(vm)) == NULL)
			return -1;
		return pkl_add_items(vm, b, &a, 1, 0);
	case 's':
		if ((b = pkl_pop(vm)) == NULL || (a = pkl_pop(vm)) == NULL ||
		    (c = pkl_top(vm)) == NULL)
			return -1;
		{
			struct pkl_node *kv[2] = { a, b };
			return pkl_add_items(vm, c, kv, 2, 1);
		}
	case 'c':
		return pkl_op_global(vm);
	case 0x93:
		return pkl_op_stack_global(vm);
	case 'R':
		return pkl_op_reduce(vm);
	case 0x81:
		if ((b = pkl_pop(vm)) == NULL || (a = pkl_pop(vm)) == NULL)
			return -1;
		return pkl_new_object(vm, a, b);
	case 0x92:   /* NEWOBJ_EX: cls args kwargs */
		if ((c = pkl_pop(vm)) == NULL || (b = pkl_pop(vm)) == NULL ||
		    (a = pkl_pop(vm)) == NULL)
			return -1;
		if (c->kind != PKL_DICT)
			return pkl_fail(vm, "NEWOBJ_EX keyword arguments are %s",
					pkl_kind_name(c->kind));
		return pkl_new_object(vm, a, b);
	case 'b':
		return pkl_op_build(vm);
	case 'Q':
		if ((a = pkl_pop(vm)) == NULL)
			return -1;
		b = pkl_new_node(vm, PKL_PERSID);
		if (b != NULL) {
			b->u.persid.pid = a;
			if (pkl_raise_depth(vm, b, a) != 0)
				return -1;
		}
		return pkl_push(vm, b);
	case 'q':
		return arg_uint(vm, 1, &v) != 0 ? -1 : memo_put(vm, v);
	case 'r':
		return arg_uint(vm, 4, &v) != 0 ? -1 : memo_put(vm, v);
	case 0x94:
		return memo_put(vm, vm->memo_len);
	case 'h':
		return arg_uint(vm, 1, &v) != 0 ? -1 : memo_get(vm, v);
	case 'j':
		return arg_uint(vm, 4, &v) != 0 ? -1 : memo_get(vm, v);
	default:
		if (pkl_op_name(vm->op) != NULL)
			return pkl_fail(vm, "unsupported pickle opcode %s (0x%02x)",
					pkl_op_name(vm->op), vm->op);
		return pkl_fail(vm, "unknown pickle opcode 0x%02x", vm->op);
	}
}

int pkl_parse_ex(const void *buf, size_t len, const struct pkl_limits *lim,
		 struct pkl_doc *doc, char *err, size_t errlen)
{
	struct pkl_vm vm;
	int done = 0, rc = -1;

	memset(doc, 0, sizeof *doc);
	memset(&vm, 0, sizeof vm);
	vm.start = vm.p = buf;
	vm.end = vm.start + len;
	vm.lim = lim;
	vm.err = err;
	vm.errlen = errlen;
	vm.arena = calloc(1, sizeof *vm.arena);
	if (vm.arena == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	vm.arena->limit = lim->max_bytes;
	while (!done) {
		if (vm.p == vm.end) {
			vm.op_off = len;
			pkl_fail(&vm, "pickle ends without STOP");
			goto out;
		}
		if (step(&vm, &done) != 0)
			goto out;
	}
	doc->root = vm.stack[vm.sp - 1];
	doc->end = (size_t)(vm.p - vm.start);
	doc->nnodes = vm.nnodes;
	doc->bytes = vm.arena->bytes;
	doc->arena = vm.arena;
	vm.arena = NULL;
	rc = 0;
out:
	arena_free(vm.arena);
	free(vm.stack);
	free(vm.marks);
	free(vm.memo);
	return rc;
}

int pkl_parse(const void *buf, size_t len, struct pkl_doc *doc,
	      char *err, size_t errlen)
{
	return pkl_parse_ex(buf, len, &pkl_default_limits, doc, err, errlen);
}

void pkl_free(struct pkl_doc *doc)
{
	arena_free(doc->arena);
	memset(doc, 0, sizeof *doc);
}
