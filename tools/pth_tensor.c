/*
 * pth_tensor.c - the tensors of a torch.save file: the persistent ids of
 * the pickle resolved to the zip's data/KEY records (storages), the
 * rebuilders' arguments (offset, size, stride) checked against them, and
 * the elements converted to float32 (float64, float16, bfloat16; either
 * byte order).  See docs/pth-format.md 2.8 and 3.5 to 3.7.
 */
#include "tools/pth_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum dtype { DT_F32 = 1, DT_F64, DT_F16, DT_BF16 };

/* A data/KEY record of the zip, in the mapping. */
struct pth_storage {
	const char *key;              /* in the pickle arena */
	const unsigned char *data;    /* in the mapping */
	uint64_t numel;
	enum dtype dtype;
	unsigned esize;
};

/* ---- numbers from the pickle ----------------------------------------- */

int pth_get_int(const struct pkl_node *n, int64_t *v)
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

int pth_get_float(const struct pkl_node *n, double *v)
{
	int64_t i;

	if (n != NULL && n->kind == PKL_FLOAT) {
		*v = n->u.f;
		return 0;
	}
	if (pth_get_int(n, &i) == 0) {
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

/* The ('storage', class, key, location, numel) of a persistent id: the
 * class a torch storage type, the key text, numel not negative. */
static int read_pid(struct pth_ctx *c, const struct pkl_node *pers, const char *path,
		    const struct pkl_node **cls, const struct pkl_node **key, int64_t *numel)
{
	const struct pkl_node *pid;

	if (pers->kind != PKL_PERSID)
		return pth_fail(c, "%s: tensor storage is %s, not a persistent id",
				pth_shown(path), pkl_kind_name(pers->kind));
	pid = pers->u.persid.pid;
	if (pid->kind != PKL_TUPLE || pid->u.seq.n < 5 ||
	    pid->u.seq.v[0]->kind != PKL_STR ||
	    strcmp(pid->u.seq.v[0]->u.str.s, "storage") != 0)
		return pth_fail(c, "%s: persistent id is not ('storage', class, key, "
				"location, numel)", pth_shown(path));
	*cls = pid->u.seq.v[1];
	*key = pid->u.seq.v[2];
	if ((*cls)->kind != PKL_GLOBAL || (*cls)->u.global.what != PKL_G_STORAGE)
		return pth_fail(c, "%s: storage class is not a torch storage type",
				pth_shown(path));
	if ((*key)->kind != PKL_STR || (*key)->u.str.len == 0 ||
	    (*key)->u.str.len > PTH_MAX_KEY ||
	    strlen((*key)->u.str.s) != (*key)->u.str.len)
		return pth_fail(c, "%s: bad storage key", pth_shown(path));
	if (pth_get_int(pid->u.seq.v[4], numel) != 0 || *numel < 0)
		return pth_fail(c, "%s: bad storage size", pth_shown(path));
	return 0;
}

static int get_storage(struct pth_ctx *c, const struct pkl_node *pers,
		       const char *path, const struct pth_storage **out)
{
	const struct pkl_node *cls = NULL, *key = NULL;
	const struct zip_entry *e;
	struct pth_storage *s;
	char rec[PTH_MAX_KEY + 8];
	int64_t numel = 0;
	uint64_t bytes;
	size_t i, t;

	if (read_pid(c, pers, path, &cls, &key, &numel) != 0)
		return -1;
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
		return pth_fail(c, "%s: torch.%s tensors are not supported (only "
				"float32, float64, float16 and bfloat16)", pth_shown(path),
				cls->u.global.name);
	if (storage_types[t].dtype == 0)
		return pth_fail(c, "%s: %s tensor (torch.%s) where a float tensor is "
				"expected", pth_shown(path), storage_types[t].what,
				cls->u.global.name);
	if ((uint64_t)numel > UINT64_MAX / storage_types[t].esize)
		return pth_fail(c, "%s: storage size overflows", pth_shown(path));
	bytes = (uint64_t)numel * storage_types[t].esize;
	snprintf(rec, sizeof rec, "data/%s", key->u.str.s);
	e = zip_record(&c->zip, rec);
	if (e == NULL)
		return pth_fail(c, "%s: storage %s has no %s%s entry", pth_shown(path),
				key->u.str.s, c->zip.prefix, rec);
	if (e->size != bytes)
		return pth_fail(c, "storage %s: entry has %llu bytes but %lld %s "
				"elements need %llu", key->u.str.s,
				(unsigned long long)e->size, (long long)numel,
				storage_types[t].what, (unsigned long long)bytes);
	if (c->nst == c->stcap) {
		size_t cap = c->stcap ? c->stcap * 2 : 16;
		struct pth_storage *ns = realloc(c->st, cap * sizeof *ns);
		if (ns == NULL)
			return pth_fail(c, "out of memory");
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

static float load_elem(const struct pth_storage *s, uint64_t idx, int big)
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

int pth_is_tensorish(const struct pkl_node *n)
{
	return pkl_is_call_of(n, PKL_G_REBUILD_TENSOR_V2) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_PARAMETER) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_PARAMETER_WITH_STATE) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_FROM_TYPE_V2) ||
	       pkl_is_call_of(n, PKL_G_REBUILD_OTHER);
}

static int refuse_rebuild(struct pth_ctx *c, const char *path, const char *name)
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
	return pth_fail(c, "%s: %s are not supported (torch._utils.%s)",
			pth_shown(path), what, name);
}

/* Find the _rebuild_tensor_v2 args under Parameter/subclass wrappers. */
static int tensor_args(struct pth_ctx *c, const struct pkl_node *n,
		       const char *path, const struct pkl_node **args)
{
	char cls[128];
	int hops;

	for (hops = 0; hops < 4; hops++) {
		const struct pkl_node *a;

		if (n->kind != PKL_CALL || n->u.call.fn->kind != PKL_GLOBAL) {
			if (n->kind == PKL_OBJECT && pkl_class_name(n, cls, sizeof cls) == 0)
				return pth_fail(c, "%s: expected a tensor, found an "
						"instance of %s", pth_shown(path), cls);
			return pth_fail(c, "%s: expected a tensor, found %s",
					pth_shown(path), pkl_kind_name(n->kind));
		}
		a = n->u.call.args;
		switch (n->u.call.fn->u.global.what) {
		case PKL_G_REBUILD_TENSOR_V2:
			*args = a;
			return 0;
		case PKL_G_REBUILD_PARAMETER:
		case PKL_G_REBUILD_PARAMETER_WITH_STATE:
			if (a->u.seq.n < 1)
				return pth_fail(c, "%s: empty parameter", pth_shown(path));
			n = a->u.seq.v[0];
			break;
		case PKL_G_REBUILD_FROM_TYPE_V2:
			/* (func, type, args, state): func(*args) */
			if (a->u.seq.n < 3 || a->u.seq.v[0]->kind != PKL_GLOBAL ||
			    a->u.seq.v[2]->kind != PKL_TUPLE)
				return pth_fail(c, "%s: bad _rebuild_from_type_v2",
						pth_shown(path));
			if (a->u.seq.v[0]->u.global.what != PKL_G_REBUILD_TENSOR_V2) {
				if (a->u.seq.v[0]->u.global.what == PKL_G_REBUILD_OTHER)
					return refuse_rebuild(c, path,
						a->u.seq.v[0]->u.global.name);
				return pth_fail(c, "%s: tensor subclass rebuilt by %s.%s "
						"is not supported", pth_shown(path),
						a->u.seq.v[0]->u.global.module,
						a->u.seq.v[0]->u.global.name);
			}
			*args = a->u.seq.v[2];
			return 0;
		case PKL_G_REBUILD_OTHER:
			return refuse_rebuild(c, path, n->u.call.fn->u.global.name);
		default:
			return pth_fail(c, "%s: expected a tensor, found a call of "
					"%s.%s", pth_shown(path),
					n->u.call.fn->u.global.module,
					n->u.call.fn->u.global.name);
		}
	}
	return pth_fail(c, "%s: tensor wrapped too deeply", pth_shown(path));
}

static int get_dims(struct pth_ctx *c, const struct pkl_node *t, const char *path,
		    const char *what, uint64_t *out, int *ndim)
{
	size_t i;

	if (t->kind != PKL_TUPLE)
		return pth_fail(c, "%s: tensor %s is %s, not a tuple", pth_shown(path),
				what, pkl_kind_name(t->kind));
	if (t->u.seq.n > PTH_MAX_DIMS)
		return pth_fail(c, "%s: tensor has %zu dimensions (at most %d)",
				pth_shown(path), t->u.seq.n, PTH_MAX_DIMS);
	for (i = 0; i < t->u.seq.n; i++) {
		int64_t v;
		if (pth_get_int(t->u.seq.v[i], &v) != 0 || v < 0)
			return pth_fail(c, "%s: bad tensor %s", pth_shown(path), what);
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

int pth_get_tensor(struct pth_ctx *c, const struct pkl_node *n, const char *path, struct pth_tensor *t)
{
	const struct pkl_node *a = NULL, *meta;
	const struct pth_storage *s = NULL;
	uint64_t stride[PTH_MAX_DIMS], idx[PTH_MAX_DIMS], numel = 1, last;
	int64_t off;
	int nd, k;

	memset(t, 0, sizeof *t);
	if (tensor_args(c, n, path, &a) != 0)
		return -1;
	if (a->u.seq.n != 6 && a->u.seq.n != 7)
		return pth_fail(c, "%s: _rebuild_tensor_v2 with %zu arguments",
				pth_shown(path), a->u.seq.n);
	meta = a->u.seq.n == 7 ? a->u.seq.v[6] : NULL;
	if (meta != NULL && meta->kind != PKL_NONE &&
	    !(meta->kind == PKL_DICT && meta->u.dict.n == 0))
		return pth_fail(c, "%s: tensor with metadata (conj/neg bit) is not "
				"supported", pth_shown(path));
	if (pth_get_int(a->u.seq.v[1], &off) != 0 || off < 0)
		return pth_fail(c, "%s: bad storage offset", pth_shown(path));
	if (get_dims(c, a->u.seq.v[2], path, "size", t->shape, &t->ndim) != 0 ||
	    get_dims(c, a->u.seq.v[3], path, "stride", stride, &nd) != 0)
		return -1;
	if (nd != t->ndim)
		return pth_fail(c, "%s: tensor size has %d dimensions but stride has "
				"%d", pth_shown(path), t->ndim, nd);
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
			return pth_fail(c, "%s: tensor shape overflows", pth_shown(path));
	}
	if (numel > PTH_MAX_FLOATS - c->floats)
		return pth_fail(c, "%s: tensors need more than %u floats in all (cap)",
				pth_shown(path), PTH_MAX_FLOATS);
	if (numel > 0 && last >= s->numel)
		return pth_fail(c, "%s: tensor reaches element %llu of storage %s, "
				"which has %llu", pth_shown(path), (unsigned long long)last,
				s->key, (unsigned long long)s->numel);
	t->v = malloc(numel ? numel * sizeof(float) : 1);
	if (t->v == NULL)
		return pth_fail(c, "out of memory for %llu floats",
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

int pth_opt_tensor(struct pth_ctx *c, const struct pkl_node *n, const char *path, struct pth_tensor *t)
{
	memset(t, 0, sizeof *t);
	return n == NULL ? 0 : pth_get_tensor(c, n, path, t);
}

void pth_free_tensor(struct pth_tensor *t)
{
	free(t->v);
	t->v = NULL;
}
