/*
 * pickle.h - a pickle stack machine that executes nothing.
 *
 * pkl_parse runs the opcodes of a pickle stream (protocol 2 as torch.save
 * writes it, plus the protocol 4/5 opcodes listed in pickle.c) and builds a
 * graph of nodes.  GLOBALs are resolved against an allow-list, the table of
 * pickle_globals.c: REDUCE of a known constructor (tensor/parameter
 * rebuilders, OrderedDict, set, inert cloudpickle helpers ...) yields a
 * PKL_CALL node that records the callable and its arguments; nothing is ever
 * called.  Other module.Name references may only be NEWOBJ'd as classes
 * (PKL_OBJECT, whose BUILD state is kept); names that could run code
 * (os.system, builtins.eval, ...) are refused.
 *
 * The memo holds references, so a module memoised before BUILD and fetched
 * later with BINGET is the same, filled node.  The graph may contain cycles;
 * walkers must bound their own recursion.
 */
#ifndef SCOREPOINT_PICKLE_H
#define SCOREPOINT_PICKLE_H

#include <stddef.h>
#include <stdint.h>

enum pkl_kind {
	PKL_NONE = 1,
	PKL_BOOL,
	PKL_INT,
	PKL_FLOAT,
	PKL_STR,      /* UTF-8 text */
	PKL_BYTES,
	PKL_TUPLE,
	PKL_LIST,
	PKL_DICT,     /* dict, OrderedDict, defaultdict: ordered (key, value) pairs */
	PKL_SET,      /* set, frozenset */
	PKL_GLOBAL,   /* a module.name reference */
	PKL_CALL,     /* REDUCE of an allowed constructor, kept, not run */
	PKL_OBJECT,   /* NEWOBJ instance of a class, with its BUILD state */
	PKL_PERSID,   /* BINPERSID: persistent_load(pid), kept as the pid */
};

/* What a GLOBAL resolved to. */
enum pkl_global {
	PKL_G_REFUSED = 0,        /* only in the allow-list: the pickle is refused */
	PKL_G_CLASS = 1,          /* any other module.Name: NEWOBJ only */
	PKL_G_ORDERED_DICT,       /* collections.OrderedDict */
	PKL_G_DEFAULT_DICT,       /* collections.defaultdict */
	PKL_G_SET,                /* builtins.set */
	PKL_G_FROZENSET,
	PKL_G_REBUILD_TENSOR_V2,  /* torch._utils._rebuild_tensor_v2 */
	PKL_G_REBUILD_PARAMETER,  /* torch._utils._rebuild_parameter */
	PKL_G_REBUILD_PARAMETER_WITH_STATE,
	PKL_G_REBUILD_FROM_TYPE_V2,  /* torch._tensor._rebuild_from_type_v2 */
	PKL_G_REBUILD_OTHER,      /* other torch._utils._rebuild_*: v3, qtensor, sparse... */
	PKL_G_STORAGE,            /* torch.FloatStorage ... (an argument, not called) */
	PKL_G_DTYPE,              /* torch.float32 ... */
	PKL_G_INERT,              /* data constructors: torch.Size, _codecs.encode, builtins.bytes, numpy ... */
	PKL_G_GETATTR,            /* builtins.getattr: inert, but its result may not be called */
	PKL_G_CP_BUILTIN_TYPE,    /* cloudpickle _builtin_type: its result may be reduced */
	PKL_G_CP_SKELETON,        /* cloudpickle _make_skeleton_class / _enum */
	PKL_G_CP_CLASS_SETSTATE,  /* cloudpickle _class_setstate / _enum_setstate */
	PKL_G_CP_INERT,           /* other cloudpickle helpers */
};

struct pkl_node;

struct pkl_seq {
	struct pkl_node **v;
	size_t n, cap;
};

struct pkl_node {
	enum pkl_kind kind;
	uint32_t depth;          /* nesting depth when built (see pickle.c) */
	union {
		int boolean;
		struct {
			int64_t v;
			int big;         /* 1: does not fit in int64; v is 0 */
		} i;
		double f;
		struct {
			const char *s;   /* NUL-terminated (may hold NULs if BYTES) */
			size_t len;
		} str;
		struct pkl_seq seq;      /* TUPLE, LIST, SET */
		struct pkl_seq dict;     /* DICT: v[2k] key, v[2k+1] value; n counts nodes */
		struct {
			const char *module, *name;
			enum pkl_global what;
		} global;
		struct {
			struct pkl_node *fn;     /* CALL: callable; OBJECT: class */
			struct pkl_node *args;   /* a TUPLE */
			struct pkl_node *state;  /* BUILD argument, or NULL */
			struct pkl_node *items;  /* SETITEM(S) on it: a DICT, or NULL */
			struct pkl_node *list;   /* APPEND(S) on it: a LIST, or NULL */
		} call;
		struct {
			struct pkl_node *pid;
		} persid;
	} u;
};

/* Caps on what one stream may make the machine allocate. */
struct pkl_limits {
	size_t max_stack;    /* values on the stack */
	size_t max_marks;    /* MARKs open at once */
	size_t max_memo;     /* memo indices are below this */
	size_t max_nodes;    /* nodes built */
	size_t max_string;   /* bytes in one str or bytes value */
	size_t max_bytes;    /* all memory held by the result */
	size_t max_depth;    /* containers nested in containers */
};

#define PKL_MAX_STACK  (1u << 18)
#define PKL_MAX_MARKS  4096u
#define PKL_MAX_MEMO   (1u << 20)
#define PKL_MAX_NODES  (1u << 22)
#define PKL_MAX_STRING (16u << 20)
#define PKL_MAX_BYTES  (512u << 20)
#define PKL_MAX_DEPTH  1000u
#define PKL_MAX_LONG   64u          /* bytes of a LONG1/LONG4 integer */
#define PKL_MAX_NAME   256u         /* one GLOBAL module or name */

extern const struct pkl_limits pkl_default_limits;

struct pkl_arena;

struct pkl_doc {
	struct pkl_node *root;   /* the value STOP returned */
	size_t end;              /* offset just past STOP */
	size_t nnodes;           /* nodes built */
	size_t bytes;            /* memory held */
	struct pkl_arena *arena;
};

/*
 * Run the pickle in buf[0..len) up to its STOP.  buf is only read during
 * the call.  On success returns 0 and doc holds the graph, owned by doc
 * until pkl_free(doc).  On failure returns -1, writes one line into err
 * (naming the opcode offset), and doc holds nothing to free.
 */
int pkl_parse(const void *buf, size_t len, struct pkl_doc *doc,
	      char *err, size_t errlen);
int pkl_parse_ex(const void *buf, size_t len, const struct pkl_limits *lim,
		 struct pkl_doc *doc, char *err, size_t errlen);
void pkl_free(struct pkl_doc *doc);

/* "a dict", "an int", "None", ... for messages. */
const char *pkl_kind_name(enum pkl_kind kind);

/* In a DICT, the value of the last str key equal to key; NULL if none. */
const struct pkl_node *pkl_dict_get(const struct pkl_node *dict,
				    const char *key);

/*
 * The instance __dict__ of an OBJECT (its BUILD state, or the dict half of
 * a (dict, slots) state); NULL when it has none.
 */
const struct pkl_node *pkl_object_dict(const struct pkl_node *obj);

/* pkl_dict_get on pkl_object_dict(obj). */
const struct pkl_node *pkl_attr(const struct pkl_node *obj, const char *name);

/*
 * Write the dotted class name of an OBJECT's class (or of a GLOBAL) into
 * buf: "torch.nn.modules.linear.Linear", or for a class cloudpickle saved
 * by value, its __module__ and name ("__main__.Net").  Always terminates
 * buf; returns 0, or -1 when the node is not a class.
 */
int pkl_class_name(const struct pkl_node *n, char *buf, size_t len);

/* True when n is a CALL whose callable is a GLOBAL resolved to what. */
int pkl_is_call_of(const struct pkl_node *n, enum pkl_global what);

#endif
