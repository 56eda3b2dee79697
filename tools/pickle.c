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
 * memo are scratch arrays freed when pkl_parse returns.
 */
#include "tools/pickle.h"

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

struct vm {
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

static const char *op_name(unsigned op)
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

__attribute__((format(printf, 2, 3)))
static int fail(struct vm *vm, const char *fmt, ...)
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

static int fail_alloc(struct vm *vm)
{
	if (vm->arena->over_cap)
		return fail(vm, "pickle needs more than %zu bytes of memory",
			    vm->lim->max_bytes);
	return fail(vm, "out of memory");
}

static struct pkl_node *new_node(struct vm *vm, enum pkl_kind kind)
{
	struct pkl_node *n;

	if (vm->nnodes >= vm->lim->max_nodes) {
		fail(vm, "pickle builds more than %zu values", vm->lim->max_nodes);
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

static int raise_depth(struct vm *vm, struct pkl_node *parent,
		       const struct pkl_node *child)
{
	if (child != NULL && child->depth + 1 > parent->depth) {
		parent->depth = child->depth + 1;
		if (parent->depth > vm->lim->max_depth)
			return fail(vm, "values nested deeper than %zu",
				    vm->lim->max_depth);
	}
	return 0;
}

static int seq_push(struct vm *vm, struct pkl_node *parent, struct pkl_seq *s,
		    struct pkl_node *child)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		struct pkl_node **v;

		if (cap > SIZE_MAX / sizeof *v)
			return fail(vm, "container too large");
		v = arena_alloc(vm->arena, cap * sizeof *v);
		if (v == NULL)
			return fail_alloc(vm);
		if (s->n)
			memcpy(v, s->v, s->n * sizeof *v);
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = child;
	return raise_depth(vm, parent, child);
}

/* A sequence node holding items[0..n). */
static struct pkl_node *make_seq(struct vm *vm, enum pkl_kind kind,
				 struct pkl_node **items, size_t n)
{
	struct pkl_node *t = new_node(vm, kind);
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
		if (raise_depth(vm, t, items[i]) != 0)
			return NULL;
	return t;
}

static struct pkl_node *make_str(struct vm *vm, enum pkl_kind kind,
				 const unsigned char *s, size_t len)
{
	struct pkl_node *n;
	char *copy;

	if (len > vm->lim->max_string) {
		fail(vm, "string of %zu bytes exceeds the cap of %zu", len,
		     vm->lim->max_string);
		return NULL;
	}
	n = new_node(vm, kind);
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

static int push(struct vm *vm, struct pkl_node *n)
{
	if (n == NULL)
		return -1;   /* the constructor already failed */
	if (vm->sp == vm->scap) {
		size_t cap = vm->scap ? vm->scap * 2 : 64;
		struct pkl_node **s;

		if (vm->sp >= vm->lim->max_stack)
			return fail(vm, "pickle stack deeper than %zu values",
				    vm->lim->max_stack);
		if (cap > vm->lim->max_stack)
			cap = vm->lim->max_stack;
		s = realloc(vm->stack, cap * sizeof *s);
		if (s == NULL)
			return fail(vm, "out of memory");
		vm->stack = s;
		vm->scap = cap;
	}
	vm->stack[vm->sp++] = n;
	return 0;
}

static size_t stack_base(const struct vm *vm)
{
	return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
}

static struct pkl_node *pop(struct vm *vm)
{
	if (vm->sp <= stack_base(vm)) {
		fail(vm, "stack underflow in %s", op_name(vm->op));
		return NULL;
	}
	return vm->stack[--vm->sp];
}

static struct pkl_node *top(struct vm *vm)
{
	if (vm->sp <= stack_base(vm)) {
		fail(vm, "stack underflow in %s", op_name(vm->op));
		return NULL;
	}
	return vm->stack[vm->sp - 1];
}

static int push_mark(struct vm *vm)
{
	if (vm->nmarks == vm->mcap) {
		size_t cap = vm->mcap ? vm->mcap * 2 : 16;
		size_t *m;

		if (vm->nmarks >= vm->lim->max_marks)
			return fail(vm, "more than %zu MARKs open at once",
				    vm->lim->max_marks);
		if (cap > vm->lim->max_marks)
			cap = vm->lim->max_marks;
		m = realloc(vm->marks, cap * sizeof *m);
		if (m == NULL)
			return fail(vm, "out of memory");
		vm->marks = m;
		vm->mcap = cap;
	}
	vm->marks[vm->nmarks++] = vm->sp;
	return 0;
}

/* Pop back to the last MARK: the items are stack[*from .. old sp). */
static int pop_mark(struct vm *vm, size_t *from, size_t *n)
{
	if (vm->nmarks == 0)
		return fail(vm, "%s without a MARK", op_name(vm->op));
	*from = vm->marks[--vm->nmarks];
	*n = vm->sp - *from;
	vm->sp = *from;
	return 0;
}

/* ---- memo ------------------------------------------------------------ */

static int memo_put(struct vm *vm, uint64_t idx)
{
	struct pkl_node *t = top(vm);

	if (t == NULL)
		return -1;
	if (idx >= vm->lim->max_memo)
		return fail(vm, "memo index %llu exceeds the cap of %zu",
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
			return fail(vm, "out of memory");
		memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
		vm->memo = m;
		vm->memo_cap = cap;
	}
	if (vm->memo[idx] == NULL)
		vm->memo_len++;
	vm->memo[idx] = t;
	return 0;
}

static int memo_get(struct vm *vm, uint64_t idx)
{
	if (idx >= vm->memo_cap || vm->memo[idx] == NULL)
		return fail(vm, "%s of empty memo slot %llu", op_name(vm->op),
			    (unsigned long long)idx);
	return push(vm, vm->memo[idx]);
}

/* ---- reading arguments ----------------------------------------------- */

static const unsigned char *take(struct vm *vm, uint64_t n)
{
	const unsigned char *p = vm->p;

	if (n > (uint64_t)(vm->end - vm->p)) {
		fail(vm, "truncated pickle: %s needs %llu more bytes",
		     op_name(vm->op), (unsigned long long)n);
		return NULL;
	}
	vm->p += n;
	return p;
}

static int arg_uint(struct vm *vm, unsigned nbytes, uint64_t *v)
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
static int op_string(struct vm *vm, unsigned lenbytes, enum pkl_kind kind)
{
	const unsigned char *s;
	uint64_t n;

	if (arg_uint(vm, lenbytes, &n) != 0)
		return -1;
	if (n > vm->lim->max_string)
		return fail(vm, "string of %llu bytes exceeds the cap of %zu",
			    (unsigned long long)n, vm->lim->max_string);
	s = take(vm, n);
	if (s == NULL)
		return -1;
	return push(vm, make_str(vm, kind, s, (size_t)n));
}

static int push_int(struct vm *vm, int64_t v, int big)
{
	struct pkl_node *n = new_node(vm, PKL_INT);

	if (n != NULL) {
		n->u.i.v = v;
		n->u.i.big = big;
	}
	return push(vm, n);
}

/* LONG1/LONG4: little-endian two's complement of n bytes. */
static int op_long(struct vm *vm, unsigned lenbytes)
{
	const unsigned char *p;
	uint64_t n, u = 0;
	unsigned char ext;
	size_t i;

	if (arg_uint(vm, lenbytes, &n) != 0)
		return -1;
	if (n > PKL_MAX_LONG)
		return fail(vm, "%s integer of %llu bytes exceeds the cap of %u",
			    op_name(vm->op), (unsigned long long)n, PKL_MAX_LONG);
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

static int op_binfloat(struct vm *vm)
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
	n = new_node(vm, PKL_FLOAT);
	if (n != NULL)
		n->u.f = d;
	return push(vm, n);
}

/* ---- GLOBAL resolution ----------------------------------------------- */

/* mod is root or inside it ("os" matches "os" and "os.path"). */
static int mod_in(const char *mod, const char *root)
{
	size_t n = strlen(root);

	return strncmp(mod, root, n) == 0 && (mod[n] == '\0' || mod[n] == '.');
}

/* Modules any name of which could run commands or code, or touch files. */
static const char *const deny_modules[] = {
	"os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys",
	"shutil", "socket", "importlib", "imp", "runpy", "pty", "ctypes",
	"cffi", "pickle", "_pickle", "pickletools", "marshal", "shelve",
	"dill", "joblib", "code", "codeop", "commands", "popen2",
	"multiprocessing", "concurrent", "threading", "_thread", "signal",
	"webbrowser", "platform", "asyncio", "ssl", "http", "urllib",
	"urllib2", "ftplib", "smtplib", "telnetlib", "xmlrpc", "io", "_io",
	"tempfile", "glob", "fileinput", "operator", "_operator", "functools",
	"inspect", "pydoc", "timeit", "pdb", "bdb", "trace", "profile",
	"cProfile", "gc", "site", "sysconfig", "zipimport", "pkgutil",
	"distutils", "setuptools", "pip", "types", "ensurepip",
	"venv", "torch.serialization", "torch.hub", "torch.utils.cpp_extension",
	"torch._ops", "torch.ops", "torch.jit", "torch._dynamo",
	"torch.multiprocessing", "torch.distributed", "torch.package",
	"torch._C", "torch.compiler", "numpy.testing", "numpy.f2py",
	"numpy.distutils",
};

/* From builtins: data types, and getattr (its result is never called). */
static const char *const builtin_inert[] = {
	"type", "bytes", "bytearray", "object", "list", "dict", "tuple",
	"int", "float", "complex", "str", "bool", "slice", "range",
	"classmethod", "staticmethod", "property",
};

static const char *const cp_inert[] = {
	"_make_function", "_function_setstate", "_make_cell",
	"_make_empty_cell", "_cell_set", "subimport", "dynamic_subimport",
	"_make_dict_keys", "_make_dict_values", "_make_dict_items",
	"_make_typevar",
};

static const char *const torch_dtypes[] = {
	"float32", "float", "float64", "double", "float16", "half", "bfloat16",
	"uint8", "int8", "int16", "short", "int32", "int", "int64", "long",
	"bool", "uint16", "uint32", "uint64", "complex32", "complex64",
	"complex128", "cfloat", "cdouble", "float8_e4m3fn", "float8_e5m2",
	"float8_e4m3fnuz", "float8_e5m2fnuz", "qint8", "quint8", "qint32",
	"quint4x2", "quint2x4",
};

#define IN_LIST(s, list) in_list((s), (list), sizeof(list) / sizeof((list)[0]))

static int in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int classify(struct vm *vm, const char *mod, const char *name,
		    enum pkl_global *what)
{
	size_t i;

	*what = PKL_G_CLASS;
	if (strcmp(mod, "builtins") == 0 || strcmp(mod, "__builtin__") == 0) {
		if (strcmp(name, "set") == 0)
			*what = PKL_G_SET;
		else if (strcmp(name, "frozenset") == 0)
			*what = PKL_G_FROZENSET;
		else if (strcmp(name, "getattr") == 0)
			*what = PKL_G_GETATTR;
		else if (IN_LIST(name, builtin_inert))
			*what = PKL_G_INERT;
		else
			return fail(vm, "refusing GLOBAL %s.%s: only data types "
				    "may be used from builtins", mod, name);
		return 0;
	}
	for (i = 0; i < sizeof deny_modules / sizeof deny_modules[0]; i++)
		if (mod_in(mod, deny_modules[i]))
			return fail(vm, "refusing GLOBAL %s.%s: module %s can run "
				    "commands or code", mod, name,
				    deny_modules[i]);
	if (strcmp(mod, "collections") == 0) {
		if (strcmp(name, "OrderedDict") == 0)
			*what = PKL_G_ORDERED_DICT;
		else if (strcmp(name, "defaultdict") == 0)
			*what = PKL_G_DEFAULT_DICT;
	} else if (strcmp(mod, "torch._utils") == 0) {
		if (strcmp(name, "_rebuild_tensor_v2") == 0)
			*what = PKL_G_REBUILD_TENSOR_V2;
		else if (strcmp(name, "_rebuild_parameter") == 0)
			*what = PKL_G_REBUILD_PARAMETER;
		else if (strcmp(name, "_rebuild_parameter_with_state") == 0)
			*what = PKL_G_REBUILD_PARAMETER_WITH_STATE;
		else if (strncmp(name, "_rebuild_", 9) == 0)
			*what = PKL_G_REBUILD_OTHER;
	} else if (strcmp(mod, "torch._tensor") == 0) {
		if (strcmp(name, "_rebuild_from_type_v2") == 0)
			*what = PKL_G_REBUILD_FROM_TYPE_V2;
	} else if (strcmp(mod, "torch") == 0) {
		if (ends_with(name, "Storage"))
			*what = PKL_G_STORAGE;
		else if (IN_LIST(name, torch_dtypes))
			*what = PKL_G_DTYPE;
		else if (strcmp(name, "Size") == 0 ||
			 strcmp(name, "device") == 0 ||
			 strcmp(name, "dtype") == 0)
			*what = PKL_G_INERT;
		else if (strcmp(name, "load") == 0 || strcmp(name, "save") == 0 ||
			 strcmp(name, "compile") == 0)
			return fail(vm, "refusing GLOBAL %s.%s: it reads or "
				    "writes files or runs code", mod, name);
	} else if (strcmp(mod, "_codecs") == 0) {
		if (strcmp(name, "encode") == 0)
			*what = PKL_G_INERT;
	} else if (strcmp(mod, "cloudpickle") == 0 ||
		   strcmp(mod, "cloudpickle.cloudpickle") == 0 ||
		   strcmp(mod, "cloudpickle.cloudpickle_fast") == 0) {
		if (strcmp(name, "_builtin_type") == 0)
			*what = PKL_G_CP_BUILTIN_TYPE;
		else if (strcmp(name, "_make_skeleton_class") == 0 ||
			 strcmp(name, "_make_skeleton_enum") == 0)
			*what = PKL_G_CP_SKELETON;
		else if (strcmp(name, "_class_setstate") == 0 ||
			 strcmp(name, "_enum_setstate") == 0)
			*what = PKL_G_CP_CLASS_SETSTATE;
		else if (IN_LIST(name, cp_inert))
			*what = PKL_G_CP_INERT;
	} else if (strcmp(mod, "numpy.core.multiarray") == 0 ||
		   strcmp(mod, "numpy._core.multiarray") == 0) {
		if (strcmp(name, "_reconstruct") == 0 ||
		    strcmp(name, "scalar") == 0)
			*what = PKL_G_INERT;
	} else if (strcmp(mod, "numpy") == 0) {
		if (strcmp(name, "dtype") == 0)
			*what = PKL_G_INERT;
	}
	return 0;
}

static int valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

static int push_global(struct vm *vm, const char *mod, size_t mlen,
		       const char *name, size_t nlen)
{
	struct pkl_node *g;
	enum pkl_global what;
	char m[PKL_MAX_NAME + 1], n[PKL_MAX_NAME + 1];
	char *ms, *ns;

	if (mlen > PKL_MAX_NAME || nlen > PKL_MAX_NAME)
		return fail(vm, "GLOBAL name longer than %u bytes", PKL_MAX_NAME);
	if (!valid_name(mod, mlen) || !valid_name(name, nlen))
		return fail(vm, "malformed GLOBAL name");
	memcpy(m, mod, mlen);
	m[mlen] = '\0';
	memcpy(n, name, nlen);
	n[nlen] = '\0';
	if (classify(vm, m, n, &what) != 0)
		return -1;
	g = new_node(vm, PKL_GLOBAL);
	if (g == NULL)
		return -1;
	ms = arena_alloc(vm->arena, mlen + nlen + 2);
	if (ms == NULL)
		return fail_alloc(vm);
	memcpy(ms, m, mlen + 1);
	ns = ms + mlen + 1;
	memcpy(ns, n, nlen + 1);
	g->u.global.module = ms;
	g->u.global.name = ns;
	g->u.global.what = what;
	return push(vm, g);
}

/* GLOBAL: "module\nname\n". */
static int op_global(struct vm *vm)
{
	const unsigned char *line[2];
	size_t len[2];
	int k;

	for (k = 0; k < 2; k++) {
		size_t avail = (size_t)(vm->end - vm->p);
		size_t scan = avail < PKL_MAX_NAME + 1 ? avail : PKL_MAX_NAME + 1;
		const unsigned char *nl = memchr(vm->p, '\n', scan);

		if (nl == NULL)
			return fail(vm, scan == avail ? "truncated GLOBAL"
				    : "GLOBAL name longer than 256 bytes");
		line[k] = vm->p;
		len[k] = (size_t)(nl - vm->p);
		vm->p = nl + 1;
	}
	return push_global(vm, (const char *)line[0], len[0],
			   (const char *)line[1], len[1]);
}

static int op_stack_global(struct vm *vm)
{
	struct pkl_node *name = pop(vm), *mod;

	if (name == NULL || (mod = pop(vm)) == NULL)
		return -1;
	if (name->kind != PKL_STR || mod->kind != PKL_STR)
		return fail(vm, "STACK_GLOBAL needs two strings");
	return push_global(vm, mod->u.str.s, mod->u.str.len, name->u.str.s,
			   name->u.str.len);
}

/* ---- calls and objects ----------------------------------------------- */

static int refuse_call(struct vm *vm, const struct pkl_node *fn)
{
	if (fn->kind == PKL_GLOBAL)
		return fail(vm, "refusing to call %s.%s: only torch "
			    "tensor/parameter rebuilders, OrderedDict and inert "
			    "cloudpickle helpers may be reduced",
			    fn->u.global.module, fn->u.global.name);
	if (fn->kind == PKL_CALL && fn->u.call.fn->kind == PKL_GLOBAL)
		return fail(vm, "refusing to call the result of %s.%s(...)",
			    fn->u.call.fn->u.global.module,
			    fn->u.call.fn->u.global.name);
	return fail(vm, "refusing to call %s", pkl_kind_name(fn->kind));
}

static struct pkl_node *make_call(struct vm *vm, enum pkl_kind kind,
				  struct pkl_node *fn, struct pkl_node *args)
{
	struct pkl_node *c = new_node(vm, kind);

	if (c == NULL)
		return NULL;
	c->u.call.fn = fn;
	c->u.call.args = args;
	if (raise_depth(vm, c, fn) != 0 || raise_depth(vm, c, args) != 0)
		return NULL;
	return c;
}

static int op_reduce(struct vm *vm)
{
	struct pkl_node *args = pop(vm), *fn, *r, *src;
	enum pkl_global what;
	size_t i;

	if (args == NULL || (fn = pop(vm)) == NULL)
		return -1;
	if (args->kind != PKL_TUPLE)
		return fail(vm, "REDUCE arguments are %s, not a tuple",
			    pkl_kind_name(args->kind));
	if (fn->kind == PKL_CALL && fn->u.call.fn->kind == PKL_GLOBAL &&
	    fn->u.call.fn->u.global.what == PKL_G_CP_BUILTIN_TYPE)
		/* e.g. CodeType(...) in a class cloudpickle saved by value */
		return push(vm, make_call(vm, PKL_CALL, fn, args));
	if (fn->kind != PKL_GLOBAL)
		return refuse_call(vm, fn);
	what = fn->u.global.what;
	switch (what) {
	case PKL_G_ORDERED_DICT:
	case PKL_G_DEFAULT_DICT:
		/* Items follow with SETITEM(S). */
		return push(vm, new_node(vm, PKL_DICT));
	case PKL_G_SET:
	case PKL_G_FROZENSET:
		r = new_node(vm, PKL_SET);
		if (r == NULL)
			return -1;
		src = args->u.seq.n ? args->u.seq.v[0] : NULL;
		if (src != NULL && (src->kind == PKL_LIST ||
				    src->kind == PKL_TUPLE ||
				    src->kind == PKL_SET))
			for (i = 0; i < src->u.seq.n; i++)
				if (seq_push(vm, r, &r->u.seq,
					     src->u.seq.v[i]) != 0)
					return -1;
		return push(vm, r);
	case PKL_G_CP_CLASS_SETSTATE:
		/* _class_setstate(cls, state) fills the skeleton class: keep
		 * the state on it so that its __module__ can be read. */
		r = make_call(vm, PKL_CALL, fn, args);
		if (r != NULL && args->u.seq.n == 2 &&
		    args->u.seq.v[0]->kind == PKL_CALL &&
		    args->u.seq.v[0]->u.call.state == NULL)
			args->u.seq.v[0]->u.call.state = args->u.seq.v[1];
		return push(vm, r);
	case PKL_G_REBUILD_TENSOR_V2:
	case PKL_G_REBUILD_PARAMETER:
	case PKL_G_REBUILD_PARAMETER_WITH_STATE:
	case PKL_G_REBUILD_FROM_TYPE_V2:
	case PKL_G_REBUILD_OTHER:
	case PKL_G_INERT:
	case PKL_G_GETATTR:
	case PKL_G_CP_BUILTIN_TYPE:
	case PKL_G_CP_SKELETON:
	case PKL_G_CP_INERT:
		return push(vm, make_call(vm, PKL_CALL, fn, args));
	case PKL_G_CLASS:
	case PKL_G_STORAGE:
	case PKL_G_DTYPE:
		break;
	}
	return refuse_call(vm, fn);
}

/* NEWOBJ/NEWOBJ_EX: cls.__new__(cls, *args) of a class, kept as an OBJECT. */
static int new_object(struct vm *vm, struct pkl_node *cls,
		      struct pkl_node *args)
{
	int ok = 0;

	if (args->kind != PKL_TUPLE)
		return fail(vm, "%s arguments are %s, not a tuple",
			    op_name(vm->op), pkl_kind_name(args->kind));
	if (cls->kind == PKL_GLOBAL)
		ok = cls->u.global.what == PKL_G_CLASS ||
		     cls->u.global.what == PKL_G_INERT;
	else if (cls->kind == PKL_CALL && cls->u.call.fn->kind == PKL_GLOBAL)
		ok = cls->u.call.fn->u.global.what == PKL_G_CP_SKELETON;
	if (!ok) {
		if (cls->kind == PKL_GLOBAL)
			return fail(vm, "refusing %s of %s.%s: not a class",
				    op_name(vm->op), cls->u.global.module,
				    cls->u.global.name);
		return fail(vm, "refusing %s of %s: not a class",
			    op_name(vm->op), pkl_kind_name(cls->kind));
	}
	return push(vm, make_call(vm, PKL_OBJECT, cls, args));
}

static int op_build(struct vm *vm)
{
	struct pkl_node *state = pop(vm), *t;

	if (state == NULL || (t = top(vm)) == NULL)
		return -1;
	switch (t->kind) {
	case PKL_OBJECT:
	case PKL_CALL:
		t->u.call.state = state;
		return raise_depth(vm, t, state);
	case PKL_DICT:
		/* OrderedDict attributes such as a state_dict's _metadata. */
		return 0;
	default:
		return fail(vm, "BUILD on %s", pkl_kind_name(t->kind));
	}
}

/* The DICT that SETITEM(S) on t fills, or NULL after failing. */
static struct pkl_node *dict_target(struct vm *vm, struct pkl_node *t)
{
	if (t->kind == PKL_DICT)
		return t;
	if (t->kind == PKL_OBJECT || t->kind == PKL_CALL) {
		/* a dict subclass */
		if (t->u.call.items == NULL) {
			t->u.call.items = new_node(vm, PKL_DICT);
			if (t->u.call.items == NULL)
				return NULL;
			t->u.call.items->depth = t->depth;
		}
		return t->u.call.items;
	}
	fail(vm, "%s on %s", op_name(vm->op), pkl_kind_name(t->kind));
	return NULL;
}

static struct pkl_node *list_target(struct vm *vm, struct pkl_node *t)
{
	if (t->kind == PKL_LIST || (t->kind == PKL_SET && vm->op == 0x90))
		return t;
	if ((t->kind == PKL_OBJECT || t->kind == PKL_CALL) && vm->op != 0x90) {
		if (t->u.call.list == NULL) {
			t->u.call.list = new_node(vm, PKL_LIST);
			if (t->u.call.list == NULL)
				return NULL;
		}
		return t->u.call.list;
	}
	fail(vm, "%s on %s", op_name(vm->op), pkl_kind_name(t->kind));
	return NULL;
}

static int add_items(struct vm *vm, struct pkl_node *t,
		     struct pkl_node **items, size_t n, int pairs)
{
	struct pkl_node *d = pairs ? dict_target(vm, t) : list_target(vm, t);
	size_t i;

	if (d == NULL)
		return -1;
	if (pairs && n % 2 != 0)
		return fail(vm, "%s with an odd number of items",
			    op_name(vm->op));
	for (i = 0; i < n; i++)
		if (seq_push(vm, d, &d->u.seq, items[i]) != 0)
			return -1;
	return 0;
}

/* ---- the loop -------------------------------------------------------- */

static int op_tuple_n(struct vm *vm, size_t n)
{
	struct pkl_node *items[3];
	size_t i;

	for (i = n; i-- > 0;)
		if ((items[i] = pop(vm)) == NULL)
			return -1;
	return push(vm, make_seq(vm, PKL_TUPLE, items, n));
}

/* MARK-delimited: TUPLE, LIST, DICT, FROZENSET, APPENDS, SETITEMS, ADDITEMS. */
static int op_marked(struct vm *vm)
{
	size_t from = 0, n = 0;
	struct pkl_node *t, **items;

	if (pop_mark(vm, &from, &n) != 0)
		return -1;
	items = n ? vm->stack + from : NULL;   /* intact above the new sp */
	switch (vm->op) {
	case 't':
		return push(vm, make_seq(vm, PKL_TUPLE, items, n));
	case 'l':
		return push(vm, make_seq(vm, PKL_LIST, items, n));
	case 0x91:
		return push(vm, make_seq(vm, PKL_SET, items, n));
	case 'd':
		if (n % 2 != 0)
			return fail(vm, "DICT with an odd number of items");
		t = make_seq(vm, PKL_DICT, items, n);
		return push(vm, t);
	case '1':
		return 0;
	default:   /* 'e', 'u', 0x90: extend the value below the mark */
		if ((t = top(vm)) == NULL)
			return -1;
		return add_items(vm, t, items, n, vm->op == 'u');
	}
}

static int step(struct vm *vm, int *done)
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
			return fail(vm, "unsupported pickle protocol %llu",
				    (unsigned long long)v);
		return 0;
	case 0x95:   /* FRAME: a length hint */
		if (arg_uint(vm, 8, &v) != 0)
			return -1;
		if (v > (uint64_t)(vm->end - vm->p))
			return fail(vm, "FRAME of %llu bytes runs past the end",
				    (unsigned long long)v);
		return 0;
	case '.':
		if ((a = pop(vm)) == NULL)
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
			return fail(vm, "stack underflow in POP");
		vm->nmarks--;
		return 0;
	case '2':
		if ((a = top(vm)) == NULL)
			return -1;
		return push(vm, a);
	case 'N':
		return push(vm, new_node(vm, PKL_NONE));
	case 0x88:
	case 0x89:
		a = new_node(vm, PKL_BOOL);
		if (a != NULL)
			a->u.boolean = vm->op == 0x88;
		return push(vm, a);
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
		return push(vm, make_seq(vm, PKL_TUPLE, NULL, 0));
	case 0x85:
		return op_tuple_n(vm, 1);
	case 0x86:
		return op_tuple_n(vm, 2);
	case 0x87:
		return op_tuple_n(vm, 3);
	case ']':
		return push(vm, new_node(vm, PKL_LIST));
	case '}':
		return push(vm, new_node(vm, PKL_DICT));
	case 0x8f:
		return push(vm, new_node(vm, PKL_SET));
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
		if ((a = pop(vm)) == NULL || (b = top(vm)) == NULL)
			return -1;
		return add_items(vm, b, &a, 1, 0);
	case 's':
		if ((b = pop(vm)) == NULL || (a = pop(vm)) == NULL ||
		    (c = top(vm)) == NULL)
			return -1;
		{
			struct pkl_node *kv[2] = { a, b };
			return add_items(vm, c, kv, 2, 1);
		}
	case 'c':
		return op_global(vm);
	case 0x93:
		return op_stack_global(vm);
	case 'R':
		return op_reduce(vm);
	case 0x81:
		if ((b = pop(vm)) == NULL || (a = pop(vm)) == NULL)
			return -1;
		return new_object(vm, a, b);
	case 0x92:   /* NEWOBJ_EX: cls args kwargs */
		if ((c = pop(vm)) == NULL || (b = pop(vm)) == NULL ||
		    (a = pop(vm)) == NULL)
			return -1;
		if (c->kind != PKL_DICT)
			return fail(vm, "NEWOBJ_EX keyword arguments are %s",
				    pkl_kind_name(c->kind));
		return new_object(vm, a, b);
	case 'b':
		return op_build(vm);
	case 'Q':
		if ((a = pop(vm)) == NULL)
			return -1;
		b = new_node(vm, PKL_PERSID);
		if (b != NULL) {
			b->u.persid.pid = a;
			if (raise_depth(vm, b, a) != 0)
				return -1;
		}
		return push(vm, b);
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
		if (op_name(vm->op) != NULL)
			return fail(vm, "unsupported pickle opcode %s (0x%02x)",
				    op_name(vm->op), vm->op);
		return fail(vm, "unknown pickle opcode 0x%02x", vm->op);
	}
}

int pkl_parse_ex(const void *buf, size_t len, const struct pkl_limits *lim,
		 struct pkl_doc *doc, char *err, size_t errlen)
{
	struct vm vm;
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
			fail(&vm, "pickle ends without STOP");
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

/* ---- reading the graph ----------------------------------------------- */

const char *pkl_kind_name(enum pkl_kind kind)
{
	switch (kind) {
	case PKL_NONE: return "None";
	case PKL_BOOL: return "a bool";
	case PKL_INT: return "an int";
	case PKL_FLOAT: return "a float";
	case PKL_STR: return "a str";
	case PKL_BYTES: return "a bytes value";
	case PKL_TUPLE: return "a tuple";
	case PKL_LIST: return "a list";
	case PKL_DICT: return "a dict";
	case PKL_SET: return "a set";
	case PKL_GLOBAL: return "a global";
	case PKL_CALL: return "a call result";
	case PKL_OBJECT: return "an object";
	case PKL_PERSID: return "a persistent id";
	}
	return "a value";
}

const struct pkl_node *pkl_dict_get(const struct pkl_node *dict,
				    const char *key)
{
	size_t i, n = strlen(key);

	if (dict == NULL || dict->kind != PKL_DICT)
		return NULL;
	for (i = dict->u.dict.n / 2; i-- > 0;) {
		const struct pkl_node *k = dict->u.dict.v[2 * i];
		if (k->kind == PKL_STR && k->u.str.len == n &&
		    memcmp(k->u.str.s, key, n) == 0)
			return dict->u.dict.v[2 * i + 1];
	}
	return NULL;
}

const struct pkl_node *pkl_object_dict(const struct pkl_node *obj)
{
	const struct pkl_node *s;

	if (obj == NULL || (obj->kind != PKL_OBJECT && obj->kind != PKL_CALL))
		return NULL;
	s = obj->u.call.state;
	if (s == NULL)
		return NULL;
	if (s->kind == PKL_DICT)
		return s;
	if (s->kind == PKL_TUPLE && s->u.seq.n == 2 &&
	    s->u.seq.v[0]->kind == PKL_DICT)
		return s->u.seq.v[0];
	return NULL;
}

const struct pkl_node *pkl_attr(const struct pkl_node *obj, const char *name)
{
	return pkl_dict_get(pkl_object_dict(obj), name);
}

int pkl_class_name(const struct pkl_node *n, char *buf, size_t len)
{
	const struct pkl_node *args, *cname, *mod;

	if (len)
		buf[0] = '\0';
	if (n != NULL && n->kind == PKL_OBJECT)
		n = n->u.call.fn;
	if (n == NULL)
		return -1;
	if (n->kind == PKL_GLOBAL) {
		snprintf(buf, len, "%s.%s", n->u.global.module,
			 n->u.global.name);
		return 0;
	}
	if (!pkl_is_call_of(n, PKL_G_CP_SKELETON))
		return -1;
	/* _make_skeleton_class(type, name, bases, type_kwargs, id, None) */
	args = n->u.call.args;
	cname = args->u.seq.n > 1 ? args->u.seq.v[1] : NULL;
	if (cname == NULL || cname->kind != PKL_STR)
		return -1;
	/* _class_setstate left (class_dict, slotstate) on the skeleton. */
	mod = NULL;
	if (n->u.call.state != NULL && n->u.call.state->kind == PKL_TUPLE &&
	    n->u.call.state->u.seq.n >= 1)
		mod = pkl_dict_get(n->u.call.state->u.seq.v[0], "__module__");
	snprintf(buf, len, "%s.%s",
		 mod != NULL && mod->kind == PKL_STR ? mod->u.str.s : "<by-value>",
		 cname->u.str.s);
	return 0;
}

int pkl_is_call_of(const struct pkl_node *n, enum pkl_global what)
{
	return n != NULL && n->kind == PKL_CALL &&
	       n->u.call.fn->kind == PKL_GLOBAL &&
	       n->u.call.fn->u.global.what == what;
}
