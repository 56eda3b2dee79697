/*
 * pth.c - torch.save file -> blob ops, executing nothing; see pth.h and
 * pth-format.md sections 2-4.
 *
 * The zip is mapped (zip.h), data.pkl is run through the pickle machine
 * (pickle.h), and the resulting graph is read: a whole nn.Module is walked
 * through _modules; a state_dict is read as Linear (+ BatchNorm1d) layers
 * with activations from `arch`.  Tensors are copied out of the mapping into
 * float32 arrays owned by the ops, after bounds checks on every storage
 * offset, size and stride.
 */
#include "tools/pth.h"
#include "tools/pickle.h"
#include "tools/zip.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PTH_MAX_DIMS 8
#define PTH_MAX_DEPTH 32              /* modules nested in modules */
#define PTH_MAX_VISITS 1024           /* modules walked, shared ones each time */
#define PTH_MAX_ATTRS 1024            /* entries of one module's dicts */
#define PTH_MAX_FLOATS (1u << 28)     /* all tensors together: 1 GiB of f32 */
#define PTH_MAX_CKPT_DEPTH 4          /* {'model': {'state_dict': ...}} */
#define PTH_MAX_GROUPS (2 * BLOB_MAX_OPS)  /* layers in a state_dict */
#define PTH_MAX_KEY 200               /* storage key, for its entry name */

enum dtype { DT_F32 = 1, DT_F64, DT_F16, DT_BF16 };

struct storage {
	const char *key;              /* in the pickle arena */
	const unsigned char *data;    /* in the mapping */
	uint64_t numel;
	enum dtype dtype;
	unsigned esize;
};

struct tensor {
	float *v;                     /* malloc'd, numel floats */
	uint64_t numel;
	int ndim;
	uint64_t shape[PTH_MAX_DIMS];
};

struct ctx {
	struct zip zip;
	struct pkl_doc doc;
	int big_endian;
	struct storage *st;
	size_t nst, stcap;
	uint64_t floats;              /* produced so far, against PTH_MAX_FLOATS */
	unsigned visits;              /* modules walked, against PTH_MAX_VISITS */
	struct pth_model *m;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Append one line to m->notes; a full buffer ends with "...". */
__attribute__((format(printf, 2, 3)))
static void note(struct ctx *c, const char *fmt, ...)
{
	char *notes = c->m->notes;
	size_t cap = sizeof c->m->notes, len = strlen(notes);
	va_list ap;
	int n;

	if (len && len + 1 < cap)
		notes[len++] = '\n';
	if (len + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(notes + len, cap - len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= cap - len)
		memcpy(notes + cap - 4, "...", 4);
}

/* Module paths in messages: the root has none. */
static const char *shown(const char *path)
{
	return path[0] ? path : "(root)";
}

static int join(struct ctx *c, char *out, const char *path,
		const struct pkl_node *key)
{
	int n;

	if (key->kind != PKL_STR)
		return fail(c, "%s: a child module is named by %s, not a string",
			    shown(path), pkl_kind_name(key->kind));
	n = path[0] ? snprintf(out, PTH_PATH_MAX, "%s.%s", path, key->u.str.s)
		    : snprintf(out, PTH_PATH_MAX, "%s", key->u.str.s);
	if (n < 0 || n >= PTH_PATH_MAX || strlen(key->u.str.s) != key->u.str.len)
		return fail(c, "%s: module path too long or not text",
			    shown(path));
	return 0;
}

/* ---- numbers from the pickle ----------------------------------------- */

static int get_int(const struct pkl_node *n, int64_t *v)
{
	if (n == NULL || (n->kind != PKL_INT && n->kind != PKL_BOOL))
		return -1;
	if (n->kind == PKL_BOOL) {
		*v = n->u.boolean;
		return 0;
	}
	if (n->u.i.big)
		return -1;
	*v = n->u.i.v;
	return 0;
}

static int get_float(const struct pkl_node *n, double *v)
{
	int64_t i;

	if (n != NULL && n->kind == PKL_FLOAT) {
		*v = n->u.f;
		return 0;
	}
	if (get_int(n, &i) == 0) {
		*v = (double)i;
		return 0;
	}
	return -1;
}

/* ---- storages -------------------------------------------------------- */

static const struct {
	const char *name;
	enum dtype dtype;       /* 0: not a float type we convert */
	unsigned esize;
	const char *what;
} storage_types[] = {
	{ "FloatStorage", DT_F32, 4, "float32" },
	{ "DoubleStorage", DT_F64, 8, "float64" },
	{ "HalfStorage", DT_F16, 2, "float16" },
	{ "BFloat16Storage", DT_BF16, 2, "bfloat16" },
	{ "LongStorage", 0, 8, "int64" },
	{ "IntStorage", 0, 4, "int32" },
	{ "ShortStorage", 0, 2, "int16" },
	{ "CharStorage", 0, 1, "int8" },
	{ "ByteStorage", 0, 1, "uint8" },
	{ "BoolStorage", 0, 1, "bool" },
	{ "ComplexFloatStorage", 0, 8, "complex64" },
	{ "ComplexDoubleStorage", 0, 16, "complex128" },
};

static int get_storage(struct ctx *c, const struct pkl_node *pers,
		       const char *path, const struct storage **out)
{
	const struct pkl_node *pid, *cls, *key;
	const struct zip_entry *e;
	struct storage *s;
	char rec[PTH_MAX_KEY + 8];
	int64_t numel;
	uint64_t bytes;
	size_t i, t;

	if (pers->kind != PKL_PERSID)
		return fail(c, "%s: tensor storage is %s, not a persistent id",
			    shown(path), pkl_kind_name(pers->kind));
	pid = pers->u.persid.pid;
	if (pid->kind != PKL_TUPLE || pid->u.seq.n < 5 ||
	    pid->u.seq.v[0]->kind != PKL_STR ||
	    strcmp(pid->u.seq.v[0]->u.str.s, "storage") != 0)
		return fail(c, "%s: persistent id is not ('storage', class, key, "
			    "location, numel)", shown(path));
	cls = pid->u.seq.v[1];
	key = pid->u.seq.v[2];
	if (cls->kind != PKL_GLOBAL || cls->u.global.what != PKL_G_STORAGE)
		return fail(c, "%s: storage class is not a torch storage type",
			    shown(path));
	if (key->kind != PKL_STR || key->u.str.len == 0 ||
	    key->u.str.len > PTH_MAX_KEY ||
	    strlen(key->u.str.s) != key->u.str.len)
		return fail(c, "%s: bad storage key", shown(path));
	if (get_int(pid->u.seq.v[4], &numel) != 0 || numel < 0)
		return fail(c, "%s: bad storage size", shown(path));
	for (i = 0; i < c->nst; i++) {
		if (strcmp(c->st[i].key, key->u.str.s) == 0) {
			*out = &c->st[i];
			return 0;
		}
	}
	for (t = 0; t < sizeof storage_types / sizeof storage_types[0]; t++)
		if (strcmp(cls->u.global.name, storage_types[t].name) == 0)
			break;
	if (t == sizeof storage_types / sizeof storage_types[0])
		return fail(c, "%s: torch.%s tensors are not supported (only "
			    "float32, float64, float16 and bfloat16)", shown(path),
			    cls->u.global.name);
	if (storage_types[t].dtype == 0)
		return fail(c, "%s: %s tensor (torch.%s) where a float tensor is "
			    "expected", shown(path), storage_types[t].what,
			    cls->u.global.name);
	if ((uint64_t)numel > UINT64_MAX / storage_types[t].esize)
		return fail(c, "%s: storage size overflows", shown(path));
	bytes = (uint64_t)numel * storage_types[t].esize;
	snprintf(rec, sizeof rec, "data/%s", key->u.str.s);
	e = zip_record(&c->zip, rec);
	if (e == NULL)
		return fail(c, "%s: storage %s has no %s%s entry", shown(path),
			    key->u.str.s, c->zip.prefix, rec);
	if (e->size != bytes)
		return fail(c, "storage %s: entry has %llu bytes but %lld %s "
			    "elements need %llu", key->u.str.s,
			    (unsigned long long)e->size, (long long)numel,
			    storage_types[t].what, (unsigned long long)bytes);
	if (c->nst == c->stcap) {
		size_t cap = c->stcap ? c->stcap * 2 : 16;
		struct storage *ns = realloc(c->st, cap * sizeof *ns);
		if (ns == NULL)
			return fail(c, "out of memory");
		c->st = ns;
		c->stcap = cap;
	}
	s = &c->st[c->nst];
	if (zip_data(&c->zip, e, &s->data, c->err, c->errlen) != 0)
		return -1;
	s->key = key->u.str.s;
	s->numel = (uint64_t)numel;
	s->dtype = storage_types[t].dtype;
	s->esize = storage_types[t].esize;
	c->nst++;
	*out = s;
	return 0;
}

/* ---- element conversion ---------------------------------------------- */

static uint64_t load_uint(const unsigned char *p, unsigned n, int big)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[big ? n - 1 - i : i] << (8 * i);
	return v;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31;
	uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	float f;

	if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13);   /* inf, nan */
	} else if (exp != 0) {
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else {
		/* zero or subnormal: man * 2^-24 */
		f = (float)man * 0x1p-24f;
		return sign ? -f : f;
	}
	memcpy(&f, &bits, sizeof f);
	return f;
}

static float load_elem(const struct storage *s, uint64_t idx, int big)
{
	const unsigned char *p = s->data + idx * s->esize;
	uint64_t u = load_uint(p, s->esize, big);
	uint32_t u32;
	double d;
	float f;

	switch (s->dtype) {
	case DT_F32:
		u32 = (uint32_t)u;
		memcpy(&f, &u32, sizeof f);
		return f;
	case DT_F64:
		memcpy(&d, &u, sizeof d);
		return (float)d;
	case DT_F16:
		return half_to_float((uint16_t)u);
	case DT_BF16:
		u32 = (uint32_t)u << 16;
		memcpy(&f, &u32, sizeof f);
		return f;
	}
	return 0.0f;
}

/* ---- tensors --------------------------------------------------------- */

static int is_tensorish(const struct pkl_node *n)
{
	return pkl_is_call_of(n, PKL_G_REBUILD_TENSOR_V2) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_PARAMETER) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_PARAMETER_WITH_STATE) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_FROM_TYPE_V2) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_OTHER);
}

static int refuse_rebuild(struct ctx *c, const char *path, const char *name)
{
	const char *what = "tensors built this way";

	if (strcmp(name, "_rebuild_tensor_v3") == 0)
		what = "tensors of dtypes without a legacy storage type "
		       "(_rebuild_tensor_v3)";
	else if (strstr(name, "qtensor") != NULL)
		what = "quantized tensors";
	else if (strstr(name, "sparse") != NULL)
		what = "sparse tensors";
	else if (strstr(name, "nested") != NULL)
		what = "nested tensors";
	else if (strstr(name, "meta") != NULL)
		what = "meta tensors (no data)";
	return fail(c, "%s: %s are not supported (torch._utils.%s)",
		    shown(path), what, name);
}

/* Find the _rebuild_tensor_v2 args under Parameter/subclass wrappers. */
static int tensor_args(struct ctx *c, const struct pkl_node *n,
		       const char *path, const struct pkl_node **args)
{
	char cls[128];
	int hops;

	for (hops = 0; hops < 4; hops++) {
		const struct pkl_node *a;

		if (n->kind != PKL_CALL || n->u.call.fn->kind != PKL_GLOBAL) {
			if (n->kind == PKL_OBJECT && pkl_class_name(n, cls, sizeof cls) == 0)
				return fail(c, "%s: expected a tensor, found an "
					    "instance of %s", shown(path), cls);
			return fail(c, "%s: expected a tensor, found %s",
				    shown(path), pkl_kind_name(n->kind));
		}
		a = n->u.call.args;
		switch (n->u.call.fn->u.global.what) {
		case PKL_G_REBUILD_TENSOR_V2:
			*args = a;
			return 0;
		case PKL_G_REBUILD_PARAMETER:
		case PKL_G_REBUILD_PARAMETER_WITH_STATE:
			if (a->u.seq.n < 1)
				return fail(c, "%s: empty parameter", shown(path));
			n = a->u.seq.v[0];
			break;
		case PKL_G_REBUILD_FROM_TYPE_V2:
			/* (func, type, args, state): func(*args) */
			if (a->u.seq.n < 3 || a->u.seq.v[0]->kind != PKL_GLOBAL ||
			    a->u.seq.v[2]->kind != PKL_TUPLE)
				return fail(c, "%s: bad _rebuild_from_type_v2",
					    shown(path));
			if (a->u.seq.v[0]->u.global.what != PKL_G_REBUILD_TENSOR_V2) {
				if (a->u.seq.v[0]->u.global.what == PKL_G_REBUILD_OTHER)
					return refuse_rebuild(c, path,
						a->u.seq.v[0]->u.global.name);
				return fail(c, "%s: tensor subclass rebuilt by %s.%s "
					    "is not supported", shown(path),
					    a->u.seq.v[0]->u.global.module,
					    a->u.seq.v[0]->u.global.name);
			}
			*args = a->u.seq.v[2];
			return 0;
		case PKL_G_REBUILD_OTHER:
			return refuse_rebuild(c, path, n->u.call.fn->u.global.name);
		default:
			return fail(c, "%s: expected a tensor, found a call of "
				    "%s.%s", shown(path),
				    n->u.call.fn->u.global.module,
				    n->u.call.fn->u.global.name);
		}
	}
	return fail(c, "%s: tensor wrapped too deeply", shown(path));
}

static int get_dims(struct ctx *c, const struct pkl_node *t, const char *path,
		    const char *what, uint64_t *out, int *ndim)
{
	size_t i;

	if (t->kind != PKL_TUPLE)
		return fail(c, "%s: tensor %s is %s, not a tuple", shown(path),
			    what, pkl_kind_name(t->kind));
	if (t->u.seq.n > PTH_MAX_DIMS)
		return fail(c, "%s: tensor has %zu dimensions (at most %d)",
			    shown(path), t->u.seq.n, PTH_MAX_DIMS);
	for (i = 0; i < t->u.seq.n; i++) {
		int64_t v;
		if (get_int(t->u.seq.v[i], &v) != 0 || v < 0)
			return fail(c, "%s: bad tensor %s", shown(path), what);
		out[i] = (uint64_t)v;
	}
	*ndim = (int)t->u.seq.n;
	return 0;
}

/* Row-major strides (size-1 dimensions do not matter). */
static int is_contiguous(const uint64_t *shape, const uint64_t *stride,
			 int ndim)
{
	uint64_t expect = 1;
	int k;

	for (k = ndim; k-- > 0;) {
		if (shape[k] != 1 && stride[k] != expect)
			return 0;
		expect *= shape[k];
	}
	return 1;
}

/*
 * Copy the tensor n into t->v as float32, honouring storage_offset and
 * strides.  Every element index is proven to lie in the storage first.
 */
static int get_tensor(struct ctx *c, const struct pkl_node *n,
		      const char *path, struct tensor *t)
{
	const struct pkl_node *a = NULL, *meta;
	const struct storage *s = NULL;
	uint64_t stride[PTH_MAX_DIMS], idx[PTH_MAX_DIMS], numel = 1, last;
	int64_t off;
	int nd, k;

	memset(t, 0, sizeof *t);
	if (tensor_args(c, n, path, &a) != 0)
		return -1;
	if (a->u.seq.n != 6 && a->u.seq.n != 7)
		return fail(c, "%s: _rebuild_tensor_v2 with %zu arguments",
			    shown(path), a->u.seq.n);
	meta = a->u.seq.n == 7 ? a->u.seq.v[6] : NULL;
	if (meta != NULL && meta->kind != PKL_NONE &&
	    !(meta->kind == PKL_DICT && meta->u.dict.n == 0))
		return fail(c, "%s: tensor with metadata (conj/neg bit) is not "
			    "supported", shown(path));
	if (get_int(a->u.seq.v[1], &off) != 0 || off < 0)
		return fail(c, "%s: bad storage offset", shown(path));
	if (get_dims(c, a->u.seq.v[2], path, "size", t->shape, &t->ndim) != 0 ||
	    get_dims(c, a->u.seq.v[3], path, "stride", stride, &nd) != 0)
		return -1;
	if (nd != t->ndim)
		return fail(c, "%s: tensor size has %d dimensions but stride has "
			    "%d", shown(path), t->ndim, nd);
	if (get_storage(c, a->u.seq.v[0], path, &s) != 0)
		return -1;
	/* numel, and the largest element index, without overflow */
	last = (uint64_t)off;
	for (k = 0; k < t->ndim; k++) {
		uint64_t span;
		if (t->shape[k] == 0) {
			numel = 0;
			break;
		}
		if (__builtin_mul_overflow(numel, t->shape[k], &numel) ||
		    __builtin_mul_overflow(t->shape[k] - 1, stride[k], &span) ||
		    __builtin_add_overflow(last, span, &last))
			return fail(c, "%s: tensor shape overflows", shown(path));
	}
	if (numel > PTH_MAX_FLOATS - c->floats)
		return fail(c, "%s: tensors need more than %u floats in all (cap)",
			    shown(path), PTH_MAX_FLOATS);
	if (numel > 0 && last >= s->numel)
		return fail(c, "%s: tensor reaches element %llu of storage %s, "
			    "which has %llu", shown(path), (unsigned long long)last,
			    s->key, (unsigned long long)s->numel);
	t->v = malloc(numel ? numel * sizeof(float) : 1);
	if (t->v == NULL)
		return fail(c, "out of memory for %llu floats",
			    (unsigned long long)numel);
	t->numel = numel;
	c->floats += numel;
	if (s->dtype == DT_F32 && !c->big_endian &&
	    is_contiguous(t->shape, stride, t->ndim)) {
		if (numel)
			memcpy(t->v, s->data + (uint64_t)off * 4, numel * 4);
		return 0;
	}
	memset(idx, 0, sizeof idx);
	for (uint64_t i = 0; i < numel; i++) {
		uint64_t e = (uint64_t)off;
		for (k = 0; k < t->ndim; k++)
			e += idx[k] * stride[k];
		t->v[i] = load_elem(s, e, c->big_endian);
		for (k = t->ndim; k-- > 0;) {
			if (++idx[k] < t->shape[k])
				break;
			idx[k] = 0;
		}
	}
	return 0;
}

/* ---- ops ------------------------------------------------------------- */

static struct pth_op *emit(struct ctx *c, uint32_t kind, const char *path)
{
	struct pth_op *op;

	if (c->m->nops >= BLOB_MAX_OPS) {
		fail(c, "%s: more than %d ops", shown(path), BLOB_MAX_OPS);
		return NULL;
	}
	op = &c->m->ops[c->m->nops++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	snprintf(op->path, sizeof op->path, "%s", path);
	return op;
}

/* A Linear op from weight [out, in] and bias [out] or NULL; takes both. */
static int emit_linear(struct ctx *c, const char *path, struct tensor *w,
		       struct tensor *b, const char *wname)
{
	struct pth_op *op;

	if (w->ndim != 2)
		return fail(c, "%s: %s is %d-D, not a 2-D Linear weight",
			    shown(path), wname, w->ndim);
	if (w->shape[0] == 0 || w->shape[1] == 0 ||
	    w->shape[0] > BLOB_MAX_WIDTH || w->shape[1] > BLOB_MAX_WIDTH)
		return fail(c, "%s: Linear of %llu x %llu is out of range",
			    shown(path), (unsigned long long)w->shape[0],
			    (unsigned long long)w->shape[1]);
	if (b->v != NULL && (b->ndim != 1 || b->shape[0] != w->shape[0]))
		return fail(c, "%s: bias has %llu values for %llu outputs",
			    shown(path), (unsigned long long)b->numel,
			    (unsigned long long)w->shape[0]);
	op = emit(c, BLOB_OP_LINEAR, path);
	if (op == NULL)
		return -1;
	op->out = (uint32_t)w->shape[0];
	op->in = (uint32_t)w->shape[1];
	op->weight = w->v;
	op->bias = b->v;
	w->v = b->v = NULL;
	return 0;
}

/*
 * Fold y = (x - mean) / sqrt(var + eps) * gamma + beta into the Linear op
 * just emitted.  gamma, beta may be NULL (affine=False).
 */
static int fold_bn(struct ctx *c, const char *path, const struct tensor *mean,
		   const struct tensor *var, const struct tensor *gamma,
		   const struct tensor *beta, double eps)
{
	struct pth_op *op = c->m->nops ? &c->m->ops[c->m->nops - 1] : NULL;
	const struct tensor *v[4] = { mean, var, gamma, beta };
	uint32_t j, i;
	int k;

	if (op == NULL || op->kind != BLOB_OP_LINEAR)
		return fail(c, "%s: BatchNorm1d is not preceded by a Linear layer "
			    "(only BatchNorm1d right after Linear can be folded)",
			    shown(path));
	for (k = 0; k < 4; k++)
		if (v[k] != NULL && (v[k]->ndim != 1 || v[k]->numel != op->out))
			return fail(c, "%s: BatchNorm1d has %llu features but %s "
				    "gives %u", shown(path),
				    (unsigned long long)v[k]->numel,
				    shown(op->path), op->out);
	if (op->bias == NULL) {
		op->bias = calloc(op->out, sizeof(float));
		if (op->bias == NULL)
			return fail(c, "out of memory");
	}
	for (j = 0; j < op->out; j++) {
		double den = (double)var->v[j] + eps, s;
		if (!(den > 0))
			return fail(c, "%s: running_var + eps is not positive",
				    shown(path));
		s = (gamma ? gamma->v[j] : 1.0) / sqrt(den);
		for (i = 0; i < op->in; i++)
			op->weight[(size_t)j * op->in + i] =
				(float)(op->weight[(size_t)j * op->in + i] * s);
		op->bias[j] = (float)(s * ((double)op->bias[j] - mean->v[j]) +
				      (beta ? beta->v[j] : 0.0));
	}
	return 0;
}

static void free_tensor(struct tensor *t)
{
	free(t->v);
	t->v = NULL;
}

/* ---- whole modules --------------------------------------------------- */

static int walk(struct ctx *c, const struct pkl_node *mod, const char *path,
		int depth);

/* A named tensor of _parameters or _buffers: NULL when absent or None. */
static const struct pkl_node *member(const struct pkl_node *mod,
				     const char *dict, const char *name)
{
	const struct pkl_node *v = pkl_dict_get(pkl_attr(mod, dict), name);

	return v != NULL && v->kind != PKL_NONE ? v : NULL;
}

static int opt_tensor(struct ctx *c, const struct pkl_node *n,
		      const char *path, struct tensor *t)
{
	memset(t, 0, sizeof *t);
	return n == NULL ? 0 : get_tensor(c, n, path, t);
}

static int do_linear(struct ctx *c, const struct pkl_node *mod,
		     const char *path)
{
	const struct pkl_node *wn = member(mod, "_parameters", "weight");
	struct tensor w, b;
	int64_t inf, outf;
	int rc = -1;

	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	if (wn == NULL)
		return fail(c, "%s: Linear has no weight parameter (weight_norm "
			    "or a parametrization?)", shown(path));
	if (get_tensor(c, wn, path, &w) != 0 ||
	    opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	if (w.ndim == 2 &&
	    ((get_int(pkl_attr(mod, "in_features"), &inf) == 0 &&
	      (uint64_t)inf != w.shape[1]) ||
	     (get_int(pkl_attr(mod, "out_features"), &outf) == 0 &&
	      (uint64_t)outf != w.shape[0]))) {
		fail(c, "%s: weight is [%llu, %llu] but in_features/out_features "
		     "disagree", shown(path), (unsigned long long)w.shape[0],
		     (unsigned long long)w.shape[1]);
		goto out;
	}
	rc = emit_linear(c, path, &w, &b, "weight");
out:
	free_tensor(&w);
	free_tensor(&b);
	return rc;
}

static int do_batchnorm(struct ctx *c, const struct pkl_node *mod,
			const char *path)
{
	const struct pkl_node *mn = member(mod, "_buffers", "running_mean");
	const struct pkl_node *vn = member(mod, "_buffers", "running_var");
	const struct pkl_node *tr = pkl_attr(mod, "training");
	struct tensor mean, var, g, b;
	double eps = 1e-5;
	int rc = -1;

	memset(&mean, 0, sizeof mean);
	memset(&var, 0, sizeof var);
	memset(&g, 0, sizeof g);
	memset(&b, 0, sizeof b);
	if (mn == NULL || vn == NULL)
		return fail(c, "%s: BatchNorm1d without running statistics "
			    "(track_running_stats=False) is not supported",
			    shown(path));
	if (pkl_attr(mod, "eps") != NULL &&
	    get_float(pkl_attr(mod, "eps"), &eps) != 0)
		return fail(c, "%s: BatchNorm1d eps is not a number", shown(path));
	if (get_tensor(c, mn, path, &mean) != 0 ||
	    get_tensor(c, vn, path, &var) != 0 ||
	    opt_tensor(c, member(mod, "_parameters", "weight"), path, &g) != 0 ||
	    opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	rc = fold_bn(c, path, &mean, &var, g.v ? &g : NULL, b.v ? &b : NULL,
		     eps);
	if (rc == 0 && tr != NULL && tr->kind == PKL_BOOL && tr->u.boolean)
		note(c, "%s: BatchNorm1d saved in training mode; folded with its "
		     "running statistics (eval behaviour)", shown(path));
out:
	free_tensor(&mean);
	free_tensor(&var);
	free_tensor(&g);
	free_tensor(&b);
	return rc;
}

static int do_flatten(struct ctx *c, const struct pkl_node *mod,
		      const char *path)
{
	int64_t start = 1, end = -1;

	if ((pkl_attr(mod, "start_dim") != NULL &&
	     get_int(pkl_attr(mod, "start_dim"), &start) != 0) ||
	    (pkl_attr(mod, "end_dim") != NULL &&
	     get_int(pkl_attr(mod, "end_dim"), &end) != 0))
		return fail(c, "%s: Flatten dims are not integers", shown(path));
	if (c->m->nops > 0)
		return fail(c, "%s: Flatten after other layers is not supported "
			    "(only a leading Flatten)", shown(path));
	if (start != 1 || end != -1)
		return fail(c, "%s: Flatten(start_dim=%lld, end_dim=%lld) is not "
			    "supported: only Flatten(1, -1)", shown(path),
			    (long long)start, (long long)end);
	return 0;
}

static int do_softmax(struct ctx *c, const struct pkl_node *mod,
		      const char *path, uint32_t kind, const char *cls)
{
	const struct pkl_node *d = pkl_attr(mod, "dim");
	int64_t dim;

	if (d != NULL && d->kind != PKL_NONE) {
		if (get_int(d, &dim) != 0)
			return fail(c, "%s: %s dim is not an integer", shown(path),
				    cls);
		if (dim == 0)
			return fail(c, "%s: %s over dim 0 (the batch) is not "
				    "supported; use dim=-1", shown(path), cls);
		if (dim != -1 && dim != 1)
			return fail(c, "%s: %s(dim=%lld) is not supported: only the "
				    "last dimension (-1 or 1)", shown(path), cls,
				    (long long)dim);
	}
	return emit(c, kind, path) ? 0 : -1;
}

static int do_param_act(struct ctx *c, const struct pkl_node *mod,
			const char *path, uint32_t kind, const char *attr,
			double dflt)
{
	const struct pkl_node *a = pkl_attr(mod, attr);
	struct pth_op *op;
	double v = dflt;

	if (a != NULL && get_float(a, &v) != 0)
		return fail(c, "%s: %s is not a number", shown(path), attr);
	if ((op = emit(c, kind, path)) == NULL)
		return -1;
	op->param = (float)v;
	return 0;
}

static int do_gelu(struct ctx *c, const struct pkl_node *mod,
		   const char *path)
{
	const struct pkl_node *a = pkl_attr(mod, "approximate");
	uint32_t kind = BLOB_OP_GELU;

	if (a != NULL) {
		if (a->kind != PKL_STR)
			return fail(c, "%s: GELU approximate is not a string",
				    shown(path));
		if (strcmp(a->u.str.s, "tanh") == 0)
			kind = BLOB_OP_GELU_TANH;
		else if (strcmp(a->u.str.s, "none") != 0)
			return fail(c, "%s: GELU(approximate='%.32s') is not "
				    "supported", shown(path), a->u.str.s);
	}
	return emit(c, kind, path) ? 0 : -1;
}

/* Children in _modules order.  `user`: a class whose forward() we assume. */
static int do_children(struct ctx *c, const struct pkl_node *mod,
		       const char *path, const char *cls, int depth, int user)
{
	const struct pkl_node *kids = pkl_attr(mod, "_modules");
	char sub[PTH_PATH_MAX];
	size_t i, n = 0;

	if (kids != NULL && kids->kind != PKL_DICT && kids->kind != PKL_NONE)
		return fail(c, "%s: _modules is %s", shown(path),
			    pkl_kind_name(kids->kind));
	if (kids != NULL && kids->kind == PKL_DICT)
		for (i = 0; i + 1 < kids->u.dict.n; i += 2)
			n += kids->u.dict.v[i + 1]->kind != PKL_NONE;
	if (user && n == 0)
		return fail(c, "%s: %s has no child modules; its forward() cannot "
			    "be converted", shown(path), cls);
	if (user && n > 1)
		note(c, "%s: %s has %zu children; its forward() is assumed to run "
		     "them in registration order", shown(path), cls, n);
	for (i = 0; n && i + 1 < kids->u.dict.n; i += 2) {
		const struct pkl_node *child = kids->u.dict.v[i + 1];
		if (child->kind == PKL_NONE)
			continue;
		if (join(c, sub, path, kids->u.dict.v[i]) != 0 ||
		    walk(c, child, sub, depth + 1) != 0)
			return -1;
	}
	return 0;
}

/* Lookups scan dicts; bound their size so that walking stays cheap. */
static int too_many_attrs(const struct pkl_node *mod)
{
	static const char *const dicts[] = { "_parameters", "_buffers",
					     "_modules" };
	const struct pkl_node *d = pkl_object_dict(mod);
	size_t i;

	if (d->u.dict.n / 2 > PTH_MAX_ATTRS)
		return 1;
	for (i = 0; i < 3; i++) {
		const struct pkl_node *v = pkl_dict_get(d, dicts[i]);
		if (v != NULL && v->kind == PKL_DICT &&
		    v->u.dict.n / 2 > PTH_MAX_ATTRS)
			return 1;
	}
	return 0;
}

/*
 * A class cloudpickle saved by value whose bases include nn.Sequential and
 * whose class dict defines no forward(): it runs as a Sequential.
 */
static int byvalue_sequential(const struct pkl_node *mod)
{
	const struct pkl_node *cls = mod->u.call.fn, *bases, *st;
	size_t i;

	if (!pkl_is_call_of(cls, PKL_G_CP_SKELETON) ||
	    cls->u.call.args->u.seq.n < 3)
		return 0;
	bases = cls->u.call.args->u.seq.v[2];
	st = cls->u.call.state;
	if (bases->kind != PKL_TUPLE || st == NULL || st->kind != PKL_TUPLE ||
	    st->u.seq.n < 1 || st->u.seq.v[0]->kind != PKL_DICT ||
	    pkl_dict_get(st->u.seq.v[0], "forward") != NULL)
		return 0;
	for (i = 0; i < bases->u.seq.n; i++) {
		const struct pkl_node *b = bases->u.seq.v[i];
		if (b->kind == PKL_GLOBAL &&
		    strcmp(b->u.global.module, "torch.nn.modules.container") == 0 &&
		    strcmp(b->u.global.name, "Sequential") == 0)
			return 1;
	}
	return 0;
}

static int has_hooks(const struct pkl_node *mod)
{
	static const char *const hooks[] = { "_forward_hooks",
					     "_forward_pre_hooks" };
	size_t i;

	for (i = 0; i < 2; i++) {
		const struct pkl_node *h = pkl_attr(mod, hooks[i]);
		if (h != NULL && h->kind == PKL_DICT && h->u.dict.n > 0)
			return 1;
	}
	return 0;
}

#define NN "torch.nn.modules."

static int walk(struct ctx *c, const struct pkl_node *mod, const char *path,
		int depth)
{
	char cls[PTH_PATH_MAX];

	if (depth > PTH_MAX_DEPTH)
		return fail(c, "%s: modules nested deeper than %d (a cycle?)",
			    shown(path), PTH_MAX_DEPTH);
	/* Shared submodules are walked each time they are used; a DAG of
	 * them must not make that exponential. */
	if (++c->visits > PTH_MAX_VISITS)
		return fail(c, "%s: more than %d module visits", shown(path),
			    PTH_MAX_VISITS);
	if (mod->kind != PKL_OBJECT || pkl_class_name(mod, cls, sizeof cls) != 0)
		return fail(c, "%s: expected an nn.Module, found %s",
			    shown(path), pkl_kind_name(mod->kind));
	if (pkl_object_dict(mod) == NULL)
		return fail(c, "%s: %s has no attribute dict", shown(path), cls);
	if (too_many_attrs(mod))
		return fail(c, "%s: %s has more than %d attributes", shown(path),
			    cls, PTH_MAX_ATTRS);
	if (has_hooks(mod))
		return fail(c, "%s: %s has forward hooks, which cannot be "
			    "converted", shown(path), cls);
	if (strncmp(cls, NN, strlen(NN)) != 0) {
		if (!strcmp(cls, "torch.nn.parallel.data_parallel.DataParallel") ||
		    !strcmp(cls, "torch.nn.parallel.distributed."
				 "DistributedDataParallel"))
			return do_children(c, mod, path, cls, depth, 0);
		if (strncmp(cls, "torch.", 6) == 0)
			return fail(c, "%s: %s is not supported", shown(path), cls);
		if (byvalue_sequential(mod)) {
			note(c, "%s: %s is an nn.Sequential subclass without its own "
			     "forward(); run as a Sequential", shown(path), cls);
			return do_children(c, mod, path, cls, depth, 0);
		}
		return do_children(c, mod, path, cls, depth, 1);
	}
	if (!strcmp(cls, NN "container.Sequential") ||
	    !strcmp(cls, NN "container.ModuleList") ||
	    !strcmp(cls, NN "container.ModuleDict") ||
	    !strcmp(cls, NN "module.Module"))
		return do_children(c, mod, path, cls, depth, 0);
	if (!strcmp(cls, NN "linear.Linear"))
		return do_linear(c, mod, path);
	if (!strcmp(cls, NN "linear.Identity") ||
	    !strcmp(cls, NN "dropout.Dropout") ||
	    !strcmp(cls, NN "dropout.Dropout1d") ||
	    !strcmp(cls, NN "dropout.AlphaDropout"))
		return 0;
	if (!strcmp(cls, NN "flatten.Flatten"))
		return do_flatten(c, mod, path);
	if (!strcmp(cls, NN "batchnorm.BatchNorm1d"))
		return do_batchnorm(c, mod, path);
	if (!strcmp(cls, NN "activation.ReLU"))
		return emit(c, BLOB_OP_RELU, path) ? 0 : -1;
	if (!strcmp(cls, NN "activation.Tanh"))
		return emit(c, BLOB_OP_TANH, path) ? 0 : -1;
	if (!strcmp(cls, NN "activation.Sigmoid"))
		return emit(c, BLOB_OP_SIGMOID, path) ? 0 : -1;
	if (!strcmp(cls, NN "activation.LeakyReLU"))
		return do_param_act(c, mod, path, BLOB_OP_LEAKY_RELU,
				    "negative_slope", 0.01);
	if (!strcmp(cls, NN "activation.ELU"))
		return do_param_act(c, mod, path, BLOB_OP_ELU, "alpha", 1.0);
	if (!strcmp(cls, NN "activation.GELU"))
		return do_gelu(c, mod, path);
	if (!strcmp(cls, NN "activation.Softmax"))
		return do_softmax(c, mod, path, BLOB_OP_SOFTMAX, "Softmax");
	if (!strcmp(cls, NN "activation.LogSoftmax"))
		return do_softmax(c, mod, path, BLOB_OP_LOG_SOFTMAX, "LogSoftmax");
	return fail(c, "%s: %s is not supported", shown(path), cls);
}

/* ---- state_dicts ----------------------------------------------------- */

struct group {
	char prefix[PTH_PATH_MAX];
	const struct pkl_node *weight, *bias, *mean, *var;
};

struct arch_op {
	uint32_t kind;
	float param;
};

static int parse_arch(struct ctx *c, const char *arch, struct arch_op *ops,
		      size_t *n)
{
	const char *p = arch;

	*n = 0;
	for (;;) {
		char tok[64], *colon, *end;
		size_t len = strcspn(p, ",");
		int kind;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof tok)
			return fail(c, "--arch: empty or overlong op name in '%.64s'",
				    arch);
		memcpy(tok, p, len);
		tok[len] = '\0';
		colon = strchr(tok, ':');
		if (colon)
			*colon = '\0';
		kind = blob_op_parse(tok);
		if (kind < 0)
			return fail(c, "--arch: unknown op '%s' (one of linear, relu, "
				    "leaky_relu, tanh, sigmoid, gelu, gelu_tanh, "
				    "elu, softmax, log_softmax)", tok);
		if (*n >= BLOB_MAX_OPS)
			return fail(c, "--arch: more than %d ops", BLOB_MAX_OPS);
		ops[*n].kind = (uint32_t)kind;
		ops[*n].param = kind == BLOB_OP_LEAKY_RELU ? 0.01f :
				kind == BLOB_OP_ELU ? 1.0f : 0.0f;
		if (colon) {
			double v = strtod(colon + 1, &end);
			if (kind != BLOB_OP_LEAKY_RELU && kind != BLOB_OP_ELU)
				return fail(c, "--arch: %s takes no parameter", tok);
			if (end == colon + 1 || *end != '\0' || !isfinite(v))
				return fail(c, "--arch: bad parameter '%s' for %s",
					    colon + 1, tok);
			ops[*n].param = (float)v;
		}
		(*n)++;
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
	}
}

static int group_tensors(struct ctx *c, const struct pkl_node *sd,
			 struct group *g, size_t *ng)
{
	size_t i;

	*ng = 0;
	for (i = 0; i + 1 < sd->u.dict.n; i += 2) {
		const struct pkl_node *k = sd->u.dict.v[i], *v = sd->u.dict.v[i + 1];
		const char *key, *dot, *leaf;
		size_t plen;
		struct group *cur;

		if (k->kind != PKL_STR || strlen(k->u.str.s) != k->u.str.len)
			return fail(c, "state_dict key is %s, not a string",
				    pkl_kind_name(k->kind));
		key = k->u.str.s;
		if (!is_tensorish(v))
			return fail(c, "state_dict entry '%.100s' is %s, not a "
				    "tensor", key, pkl_kind_name(v->kind));
		dot = strrchr(key, '.');
		leaf = dot ? dot + 1 : key;
		plen = dot ? (size_t)(dot - key) : 0;
		if (plen >= PTH_PATH_MAX)
			return fail(c, "state_dict key too long");
		if (strcmp(leaf, "num_batches_tracked") == 0)
			continue;
		if (strcmp(leaf, "weight") && strcmp(leaf, "bias") &&
		    strcmp(leaf, "running_mean") && strcmp(leaf, "running_var"))
			return fail(c, "state_dict key '%.100s' is not a Linear or "
				    "BatchNorm1d tensor (weight, bias, "
				    "running_mean, running_var)", key);
		cur = *ng ? &g[*ng - 1] : NULL;
		if (cur == NULL || strlen(cur->prefix) != plen ||
		    memcmp(cur->prefix, key, plen) != 0) {
			if (*ng >= PTH_MAX_GROUPS)
				return fail(c, "state_dict has more than %d layers",
					    PTH_MAX_GROUPS);
			cur = &g[(*ng)++];
			memset(cur, 0, sizeof *cur);
			memcpy(cur->prefix, key, plen);
		}
		if (!strcmp(leaf, "weight"))
			cur->weight = v;
		else if (!strcmp(leaf, "bias"))
			cur->bias = v;
		else if (!strcmp(leaf, "running_mean"))
			cur->mean = v;
		else
			cur->var = v;
	}
	return 0;
}

static void key_of(char *out, const char *prefix, const char *leaf)
{
	snprintf(out, PTH_PATH_MAX + 16, "%s%s%s", prefix, prefix[0] ? "." : "",
		 leaf);
}

static int sd_group(struct ctx *c, const struct group *g)
{
	char wkey[PTH_PATH_MAX + 16];
	struct tensor w, b, mean, var;
	int rc = -1;

	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	memset(&mean, 0, sizeof mean);
	memset(&var, 0, sizeof var);
	key_of(wkey, g->prefix, "weight");
	if (g->mean != NULL || g->var != NULL) {
		if (g->mean == NULL || g->var == NULL)
			return fail(c, "%s: BatchNorm1d needs both running_mean "
				    "and running_var", shown(g->prefix));
		if (get_tensor(c, g->mean, g->prefix, &mean) != 0 ||
		    get_tensor(c, g->var, g->prefix, &var) != 0 ||
		    opt_tensor(c, g->weight, g->prefix, &w) != 0 ||
		    opt_tensor(c, g->bias, g->prefix, &b) != 0)
			goto out;
		rc = fold_bn(c, g->prefix, &mean, &var, w.v ? &w : NULL,
			     b.v ? &b : NULL, 1e-5);
		if (rc == 0)
			note(c, "%s: BatchNorm1d folded with eps=1e-05 (a "
			     "state_dict does not store eps)", shown(g->prefix));
		goto out;
	}
	if (g->weight == NULL)
		return fail(c, "%s: bias without weight", shown(g->prefix));
	if (get_tensor(c, g->weight, wkey, &w) != 0)
		goto out;
	if (w.ndim == 1) {
		fail(c, "%s is 1-D and there is no running_mean: LayerNorm or "
		     "another normalisation is not supported", wkey);
		goto out;
	}
	if (w.ndim != 2) {
		fail(c, "%s is %d-D: only 2-D Linear weights are supported in a "
		     "state_dict (a convolution?)", wkey, w.ndim);
		goto out;
	}
	if (opt_tensor(c, g->bias, g->prefix, &b) != 0)
		goto out;
	rc = emit_linear(c, g->prefix, &w, &b, "weight");
out:
	free_tensor(&w);
	free_tensor(&b);
	free_tensor(&mean);
	free_tensor(&var);
	return rc;
}

static int load_state_dict(struct ctx *c, const struct pkl_node *sd,
			   const char *arch)
{
	struct group *g = NULL;
	struct arch_op aops[BLOB_MAX_OPS];
	struct pth_op lin[BLOB_MAX_OPS];
	char assumed[BLOB_MAX_OPS * 12 + 1];
	size_t ng = 0, na = 0, i, nlin, used = 0, alin = 0;
	int rc = -1;

	c->m->is_state_dict = 1;
	g = calloc(PTH_MAX_GROUPS, sizeof *g);
	if (g == NULL)
		return fail(c, "out of memory");
	if (group_tensors(c, sd, g, &ng) != 0)
		goto out;
	for (i = 0; i < ng; i++)
		if (sd_group(c, &g[i]) != 0)
			goto out;
	/* The ops so far are the Linear layers, BatchNorms folded in. */
	nlin = c->m->nops;
	if (nlin == 0) {
		fail(c, "state_dict holds no Linear layer");
		goto out;
	}
	if (arch != NULL) {
		if (parse_arch(c, arch, aops, &na) != 0)
			goto out;
		for (i = 0; i < na; i++)
			alin += aops[i].kind == BLOB_OP_LINEAR;
		if (alin != nlin) {
			fail(c, "--arch lists %zu linear ops but the state_dict has "
			     "%zu Linear layers", alin, nlin);
			goto out;
		}
	} else {
		size_t len = 0;

		if (2 * nlin - 1 > BLOB_MAX_OPS) {
			fail(c, "%zu Linear layers with ReLU between them need more "
			     "than %d ops", nlin, BLOB_MAX_OPS);
			goto out;
		}
		assumed[0] = '\0';
		for (i = 0; i < nlin; i++) {
			if (i > 0) {
				aops[na].kind = BLOB_OP_RELU;
				aops[na++].param = 0;
			}
			aops[na].kind = BLOB_OP_LINEAR;
			aops[na++].param = 0;
			len += (size_t)snprintf(assumed + len, sizeof assumed - len,
						"%slinear", i ? ",relu," : "");
		}
		note(c, "no --arch given; assumed ReLU between layers: %s",
		     assumed);
	}
	/* Interleave: move the Linear ops out, then lay the arch down. */
	memcpy(lin, c->m->ops, nlin * sizeof lin[0]);
	c->m->nops = 0;
	for (i = 0; i < na; i++) {
		struct pth_op *op;
		if (aops[i].kind == BLOB_OP_LINEAR) {
			c->m->ops[c->m->nops++] = lin[used++];
			continue;
		}
		op = emit(c, aops[i].kind, "(arch)");
		if (op == NULL) {
			/* the Linear ops not yet placed are freed here */
			for (; used < nlin; used++) {
				free(lin[used].weight);
				free(lin[used].bias);
			}
			goto out;
		}
		op->param = aops[i].param;
	}
	rc = 0;
out:
	free(g);
	return rc;
}

/* ---- roots and checkpoints ------------------------------------------- */

static int dict_has_tensor(const struct pkl_node *d)
{
	size_t i;

	for (i = 1; i < d->u.dict.n; i += 2)
		if (is_tensorish(d->u.dict.v[i]))
			return 1;
	return 0;
}

static int load_root(struct ctx *c, const struct pkl_node *root,
		     const char *arch, int depth)
{
	static const char *const keys[] = { "state_dict", "model_state_dict",
					    "model" };
	char list[256];
	size_t i, len = 0;

	if (root->kind == PKL_OBJECT) {
		pkl_class_name(root, c->m->root_class, sizeof c->m->root_class);
		if (arch != NULL)
			note(c, "--arch ignored: the file holds a whole module");
		return walk(c, root, "", 0);
	}
	if (root->kind != PKL_DICT)
		return fail(c, "top-level object is %s, not an nn.Module or a "
			    "state_dict", pkl_kind_name(root->kind));
	if (root->u.dict.n == 0)
		return fail(c, "empty state_dict");
	if (dict_has_tensor(root))
		return load_state_dict(c, root, arch);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct pkl_node *v = pkl_dict_get(root, keys[i]);
		if (v != NULL && (v->kind == PKL_DICT || v->kind == PKL_OBJECT)) {
			if (depth >= PTH_MAX_CKPT_DEPTH)
				return fail(c, "checkpoint dicts nested too deeply");
			note(c, "model read from checkpoint key '%s'", keys[i]);
			return load_root(c, v, arch, depth + 1);
		}
	}
	list[0] = '\0';
	for (i = 0; i < root->u.dict.n && len + 40 < sizeof list; i += 2) {
		const struct pkl_node *k = root->u.dict.v[i];
		int n = snprintf(list + len, sizeof list - len, "%s%.32s",
				 i ? ", " : "",
				 k->kind == PKL_STR ? k->u.str.s : "?");
		if (n > 0)
			len += (size_t)n < sizeof list - len ? (size_t)n
							     : sizeof list - len - 1;
	}
	return fail(c, "dict holds no tensors and no 'state_dict', 'model' or "
		    "'model_state_dict' key (keys: %s)", list);
}

/* Widths of activations, and the Linear chain: out of one == in of next. */
static int finish(struct ctx *c)
{
	struct pth_model *m = c->m;
	const char *prev = NULL;
	uint32_t i, width = 0;

	for (i = 0; i < m->nops; i++)
		if (m->ops[i].kind == BLOB_OP_LINEAR) {
			width = m->ops[i].in;
			break;
		}
	if (i == m->nops)
		return fail(c, "no Linear layer found: nothing to convert");
	for (i = 0; i < m->nops; i++) {
		struct pth_op *op = &m->ops[i];
		if (op->kind != BLOB_OP_LINEAR) {
			op->in = op->out = width;
			continue;
		}
		if (prev != NULL && op->in != width)
			return fail(c, "%s: Linear expects %u input features but "
				    "%s gives %u", shown(op->path), op->in,
				    shown(prev), width);
		width = op->out;
		prev = op->path;
	}
	return 0;
}

static int read_byteorder(struct ctx *c)
{
	const struct zip_entry *e = zip_record(&c->zip, "byteorder");
	const unsigned char *p;
	size_t n;

	if (e == NULL)
		return 0;   /* 1.13 writes none: little-endian */
	if (zip_data(&c->zip, e, &p, c->err, c->errlen) != 0)
		return -1;
	n = (size_t)e->size;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	if (n == 6 && memcmp(p, "little", 6) == 0)
		return 0;
	if (n == 3 && memcmp(p, "big", 3) == 0) {
		c->big_endian = 1;
		note(c, "tensor data stored big-endian (byteorder record); "
		     "byte-swapped");
		return 0;
	}
	return fail(c, "byteorder record is neither 'little' nor 'big'");
}

/* Everything after the zip is open; frees nothing of c on the way out. */
static int load(struct ctx *c, const char *arch)
{
	const struct zip_entry *e;
	const unsigned char *pkl;

	if (zip_check_torch_save(&c->zip, c->err, c->errlen) != 0 ||
	    read_byteorder(c) != 0)
		return -1;
	e = zip_record(&c->zip, "data.pkl");
	if (zip_data(&c->zip, e, &pkl, c->err, c->errlen) != 0 ||
	    pkl_parse(pkl, (size_t)e->size, &c->doc, c->err, c->errlen) != 0)
		return -1;
	if (load_root(c, c->doc.root, arch, 0) != 0 || finish(c) != 0)
		return -1;
	return 0;
}

static int load_and_close(struct ctx *c, const char *arch)
{
	int rc = load(c, arch);

	free(c->st);
	pkl_free(&c->doc);
	zip_close(&c->zip);
	if (rc != 0)
		pth_free(c->m);
	return rc;
}

static void ctx_init(struct ctx *c, struct pth_model *m, char *err,
		     size_t errlen)
{
	memset(m, 0, sizeof *m);
	memset(c, 0, sizeof *c);
	c->m = m;
	c->err = err;
	c->errlen = errlen;
}

int pth_load(const char *path, const char *arch, struct pth_model *m,
	     char *err, size_t errlen)
{
	struct ctx c;

	ctx_init(&c, m, err, errlen);
	if (zip_open(&c.zip, path, err, errlen) != 0)
		return -1;
	return load_and_close(&c, arch);
}

int pth_load_mem(const void *buf, size_t len, const char *arch,
		 struct pth_model *m, char *err, size_t errlen)
{
	struct ctx c;

	ctx_init(&c, m, err, errlen);
	if (zip_open_mem(&c.zip, buf, len, err, errlen) != 0)
		return -1;
	return load_and_close(&c, arch);
}

void pth_free(struct pth_model *m)
{
	uint32_t i;

	for (i = 0; i < m->nops && i < BLOB_MAX_OPS; i++) {
		free(m->ops[i].weight);
		free(m->ops[i].bias);
		m->ops[i].weight = m->ops[i].bias = NULL;
	}
	m->nops = 0;
}
