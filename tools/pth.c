/*
 * pth.c - torch.save file -> blob ops, executing nothing; see pth.h and
 * docs/pth-format.md sections 2-4.
 *
 * The zip is mapped (zip.h), data.pkl is run through the pickle machine
 * (pickle.h), and the resulting graph is read: a whole nn.Module is walked
 * through _modules (here); a state_dict is read as Linear (+ BatchNorm1d)
 * layers with activations from `arch` (pth_state_dict.c).  Tensors are
 * copied out of the mapping into float32 arrays owned by the ops, after
 * bounds checks on every storage offset, size and stride (pth_tensor.c).
 */
#include "tools/pth.h"
#include "tools/pth_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pth_fail(struct pth_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void pth_note(struct pth_ctx *c, const char *fmt, ...)
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

const char *pth_shown(const char *path)
{
	return path[0] ? path : "(root)";
}

static int join(struct pth_ctx *c, char *out, const char *path,
		const struct pkl_node *key)
{
	int n;

	if (key->kind != PKL_STR)
		return pth_fail(c, "%s: a child module is named by %s, not a string",
				pth_shown(path), pkl_kind_name(key->kind));
	n = path[0] ? snprintf(out, PTH_PATH_MAX, "%s.%s", path, key->u.str.s)
		    : snprintf(out, PTH_PATH_MAX, "%s", key->u.str.s);
	if (n < 0 || n >= PTH_PATH_MAX || strlen(key->u.str.s) != key->u.str.len)
		return pth_fail(c, "%s: module path too long or not text",
				pth_shown(path));
	return 0;
}

/* ---- ops ------------------------------------------------------------- */

struct pth_op *pth_emit(struct pth_ctx *c, uint32_t kind, const char *path)
{
	struct pth_op *op;

	if (c->m->nops >= BLOB_MAX_OPS) {
		pth_fail(c, "%s: more than %d ops", pth_shown(path), BLOB_MAX_OPS);
		return NULL;
	}
	op = &c->m->ops[c->m->nops++];
	memset(op, 0, sizeof *op);
	op->kind = kind;
	snprintf(op->path, sizeof op->path, "%s", path);
	return op;
}

int pth_emit_linear(struct pth_ctx *c, const char *path, struct pth_tensor *w, struct pth_tensor *b,
		    const char *wname)
{
	struct pth_op *op;

	if (w->ndim != 2)
		return pth_fail(c, "%s: %s is %d-D, not a 2-D Linear weight",
				pth_shown(path), wname, w->ndim);
	if (w->shape[0] == 0 || w->shape[1] == 0 ||
	    w->shape[0] > BLOB_MAX_WIDTH || w->shape[1] > BLOB_MAX_WIDTH)
		return pth_fail(c, "%s: Linear of %llu x %llu is out of range",
				pth_shown(path), (unsigned long long)w->shape[0],
				(unsigned long long)w->shape[1]);
	if (b->v != NULL && (b->ndim != 1 || b->shape[0] != w->shape[0]))
		return pth_fail(c, "%s: bias has %llu values for %llu outputs",
				pth_shown(path), (unsigned long long)b->numel,
				(unsigned long long)w->shape[0]);
	op = pth_emit(c, BLOB_OP_LINEAR, path);
	if (op == NULL)
		return -1;
	op->out = (uint32_t)w->shape[0];
	op->in = (uint32_t)w->shape[1];
	op->weight = w->v;
	op->bias = b->v;
	w->v = b->v = NULL;
	return 0;
}

/* y = (x - mean) / sqrt(var + eps) * gamma + beta, folded into the Linear. */
int pth_fold_bn(struct pth_ctx *c, const char *path, const struct pth_tensor *mean, const struct pth_tensor *var,
		const struct pth_tensor *gamma, const struct pth_tensor *beta, double eps)
{
	struct pth_op *op = c->m->nops ? &c->m->ops[c->m->nops - 1] : NULL;
	const struct pth_tensor *v[4] = { mean, var, gamma, beta };
	uint32_t j, i;
	int k;

	if (op == NULL || op->kind != BLOB_OP_LINEAR)
		return pth_fail(c, "%s: BatchNorm1d is not preceded by a Linear layer "
				"(only BatchNorm1d right after Linear can be folded)",
				pth_shown(path));
	for (k = 0; k < 4; k++)
		if (v[k] != NULL && (v[k]->ndim != 1 || v[k]->numel != op->out))
			return pth_fail(c, "%s: BatchNorm1d has %llu features but %s "
					"gives %u", pth_shown(path),
					(unsigned long long)v[k]->numel,
					pth_shown(op->path), op->out);
	if (op->bias == NULL) {
		op->bias = calloc(op->out, sizeof(float));
		if (op->bias == NULL)
			return pth_fail(c, "out of memory");
	}
	for (j = 0; j < op->out; j++) {
		double den = (double)var->v[j] + eps, s;
		if (!(den > 0))
			return pth_fail(c, "%s: running_var + eps is not positive",
					pth_shown(path));
		s = (gamma ? gamma->v[j] : 1.0) / sqrt(den);
		for (i = 0; i < op->in; i++)
			op->weight[(size_t)j * op->in + i] =
				(float)(op->weight[(size_t)j * op->in + i] * s);
		op->bias[j] = (float)(s * ((double)op->bias[j] - mean->v[j]) +
				      (beta ? beta->v[j] : 0.0));
	}
	return 0;
}

/* ---- whole modules --------------------------------------------------- */

static int walk(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		int depth);

/* A named tensor of _parameters or _buffers: NULL when absent or None. */
static const struct pkl_node *member(const struct pkl_node *mod,
				     const char *dict, const char *name)
{
	const struct pkl_node *v = pkl_dict_get(pkl_attr(mod, dict), name);

	return v != NULL && v->kind != PKL_NONE ? v : NULL;
}

static int do_linear(struct pth_ctx *c, const struct pkl_node *mod,
		     const char *path)
{
	const struct pkl_node *wn = member(mod, "_parameters", "weight");
	struct pth_tensor w, b;
	int64_t inf, outf;
	int rc = -1;

	memset(&w, 0, sizeof w);
	memset(&b, 0, sizeof b);
	if (wn == NULL)
		return pth_fail(c, "%s: Linear has no weight parameter (weight_norm "
				"or a parametrization?)", pth_shown(path));
	if (pth_get_tensor(c, wn, path, &w) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	if (w.ndim == 2 &&
	    ((pth_get_int(pkl_attr(mod, "in_features"), &inf) == 0 &&
	      (uint64_t)inf != w.shape[1]) ||
	     (pth_get_int(pkl_attr(mod, "out_features"), &outf) == 0 &&
	      (uint64_t)outf != w.shape[0]))) {
		pth_fail(c, "%s: weight is [%llu, %llu] but in_features/out_features "
			 "disagree", pth_shown(path), (unsigned long long)w.shape[0],
			 (unsigned long long)w.shape[1]);
		goto out;
	}
	rc = pth_emit_linear(c, path, &w, &b, "weight");
out:
	pth_free_tensor(&w);
	pth_free_tensor(&b);
	return rc;
}

static int do_batchnorm(struct pth_ctx *c, const struct pkl_node *mod,
			const char *path)
{
	const struct pkl_node *mn = member(mod, "_buffers", "running_mean");
	const struct pkl_node *vn = member(mod, "_buffers", "running_var");
	const struct pkl_node *tr = pkl_attr(mod, "training");
	struct pth_tensor mean, var, g, b;
	double eps = 1e-5;
	int rc = -1;

	memset(&mean, 0, sizeof mean);
	memset(&var, 0, sizeof var);
	memset(&g, 0, sizeof g);
	memset(&b, 0, sizeof b);
	if (mn == NULL || vn == NULL)
		return pth_fail(c, "%s: BatchNorm1d without running statistics "
				"(track_running_stats=False) is not supported",
				pth_shown(path));
	if (pkl_attr(mod, "eps") != NULL &&
	    pth_get_float(pkl_attr(mod, "eps"), &eps) != 0)
		return pth_fail(c, "%s: BatchNorm1d eps is not a number", pth_shown(path));
	if (pth_get_tensor(c, mn, path, &mean) != 0 ||
	    pth_get_tensor(c, vn, path, &var) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "weight"), path, &g) != 0 ||
	    pth_opt_tensor(c, member(mod, "_parameters", "bias"), path, &b) != 0)
		goto out;
	rc = pth_fold_bn(c, path, &mean, &var, g.v ? &g : NULL, b.v ? &b : NULL,
			 eps);
	if (rc == 0 && tr != NULL && tr->kind == PKL_BOOL && tr->u.boolean)
		pth_note(c, "%s: BatchNorm1d saved in training mode; folded with its "
			 "running statistics (eval behaviour)", pth_shown(path));
out:
	pth_free_tensor(&mean);
	pth_free_tensor(&var);
	pth_free_tensor(&g);
	pth_free_tensor(&b);
	return rc;
}

static int do_flatten(struct pth_ctx *c, const struct pkl_node *mod,
		      const char *path)
{
	int64_t start = 1, end = -1;

	if ((pkl_attr(mod, "start_dim") != NULL &&
	     pth_get_int(pkl_attr(mod, "start_dim"), &start) != 0) ||
	    (pkl_attr(mod, "end_dim") != NULL &&
	     pth_get_int(pkl_attr(mod, "end_dim"), &end) != 0))
		return pth_fail(c, "%s: Flatten dims are not integers", pth_shown(path));
	if (c->m->nops > 0)
		return pth_fail(c, "%s: Flatten after other layers is not supported "
				"(only a leading Flatten)", pth_shown(path));
	if (start != 1 || end != -1)
		return pth_fail(c, "%s: Flatten(start_dim=%lld, end_dim=%lld) is not "
				"supported: only Flatten(1, -1)", pth_shown(path),
				(long long)start, (long long)end);
	return 0;
}

static int do_softmax(struct pth_ctx *c, const struct pkl_node *mod,
		      const char *path, uint32_t kind, const char *cls)
{
	const struct pkl_node *d = pkl_attr(mod, "dim");
	int64_t dim;

	if (d != NULL && d->kind != PKL_NONE) {
		if (pth_get_int(d, &dim) != 0)
			return pth_fail(c, "%s: %s dim is not an integer", pth_shown(path),
					cls);
		if (dim == 0)
			return pth_fail(c, "%s: %s over dim 0 (the batch) is not "
					"supported; use dim=-1", pth_shown(path), cls);
		if (dim != -1 && dim != 1)
			return pth_fail(c, "%s: %s(dim=%lld) is not supported: only the "
					"last dimension (-1 or 1)", pth_shown(path), cls,
					(long long)dim);
	}
	return pth_emit(c, kind, path) ? 0 : -1;
}

static int do_param_act(struct pth_ctx *c, const struct pkl_node *mod,
			const char *path, uint32_t kind, const char *attr,
			double dflt)
{
	const struct pkl_node *a = pkl_attr(mod, attr);
	struct pth_op *op;
	double v = dflt;

	if (a != NULL && pth_get_float(a, &v) != 0)
		return pth_fail(c, "%s: %s is not a number", pth_shown(path), attr);
	if ((op = pth_emit(c, kind, path)) == NULL)
		return -1;
	op->param = (float)v;
	return 0;
}

static int do_gelu(struct pth_ctx *c, const struct pkl_node *mod,
		   const char *path)
{
	const struct pkl_node *a = pkl_attr(mod, "approximate");
	uint32_t kind = BLOB_OP_GELU;

	if (a != NULL) {
		if (a->kind != PKL_STR)
			return pth_fail(c, "%s: GELU approximate is not a string",
					pth_shown(path));
		if (strcmp(a->u.str.s, "tanh") == 0)
			kind = BLOB_OP_GELU_TANH;
		else if (strcmp(a->u.str.s, "none") != 0)
			return pth_fail(c, "%s: GELU(approximate='%.32s') is not "
					"supported", pth_shown(path), a->u.str.s);
	}
	return pth_emit(c, kind, path) ? 0 : -1;
}

/* Children in _modules order.  `user`: a class whose forward() we assume. */
static int do_children(struct pth_ctx *c, const struct pkl_node *mod,
		       const char *path, const char *cls, int depth, int user)
{
	const struct pkl_node *kids = pkl_attr(mod, "_modules");
	char sub[PTH_PATH_MAX];
	size_t i, n = 0;

	if (kids != NULL && kids->kind != PKL_DICT && kids->kind != PKL_NONE)
		return pth_fail(c, "%s: _modules is %s", pth_shown(path),
				pkl_kind_name(kids->kind));
	if (kids != NULL && kids->kind == PKL_DICT)
		for (i = 0; i + 1 < kids->u.dict.n; i += 2)
			n += kids->u.dict.v[i + 1]->kind != PKL_NONE;
	if (user && n == 0)
		return pth_fail(c, "%s: %s has no child modules; its forward() cannot "
				"be converted", pth_shown(path), cls);
	if (user && n > 1)
		pth_note(c, "%s: %s has %zu children; its forward() is assumed to run "
			 "them in registration order", pth_shown(path), cls, n);
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

static int walk(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		int depth)
{
	char cls[PTH_PATH_MAX];

	if (depth > PTH_MAX_DEPTH)
		return pth_fail(c, "%s: modules nested deeper than %d (a cycle?)",
				pth_shown(path), PTH_MAX_DEPTH);
	/* Shared submodules are walked each time they are used; a DAG of
	 * them must not make that exponential. */
	if (++c->visits > PTH_MAX_VISITS)
		return pth_fail(c, "%s: more than %d module visits", pth_shown(path),
				PTH_MAX_VISITS);
	if (mod->kind != PKL_OBJECT || pkl_class_name(mod, cls, sizeof cls) != 0)
		return pth_fail(c, "%s: expected an nn.Module, found %s",
				pth_shown(path), pkl_kind_name(mod->kind));
	if (pkl_object_dict(mod) == NULL)
		return pth_fail(c, "%s: %s has no attribute dict", pth_shown(path), cls);
	if (too_many_attrs(mod))
		return pth_fail(c, "%s: %s has more than %d attributes", pth_shown(path),
				cls, PTH_MAX_ATTRS);
	if (has_hooks(mod))
		return pth_fail(c, "%s: %s has forward hooks, which cannot be "
				"converted", pth_shown(path), cls);
	if (strncmp(cls, NN, strlen(NN)) != 0) {
		if (!strcmp(cls, "torch.nn.parallel.data_parallel.DataParallel") ||
		    !strcmp(cls, "torch.nn.parallel.distributed."
			    "DistributedDataParallel"))
			return do_children(c, mod, path, cls, depth, 0);
		if (strncmp(cls, "torch.", 6) == 0)
			return pth_fail(c, "%s: %s is not supported", pth_shown(path), cls);
		if (byvalue_sequential(mod)) {
			pth_note(c, "%s: %s is an nn.Sequential subclass without its own "
				 "forward(); run as a Sequential", pth_shown(path), cls);
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
		return pth_emit(c, BLOB_OP_RELU, path) ? 0 : -1;
	if (!strcmp(cls, NN "activation.Tanh"))
		return pth_emit(c, BLOB_OP_TANH, path) ? 0 : -1;
	if (!strcmp(cls, NN "activation.Sigmoid"))
		return pth_emit(c, BLOB_OP_SIGMOID, path) ? 0 : -1;
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
	return pth_fail(c, "%s: %s is not supported", pth_shown(path), cls);
}

/* ---- roots and checkpoints ------------------------------------------- */

static int dict_has_tensor(const struct pkl_node *d)
{
	size_t i;

	for (i = 1; i < d->u.dict.n; i += 2)
		if (pth_is_tensorish(d->u.dict.v[i]))
			return 1;
	return 0;
}

static int load_root(struct pth_ctx *c, const struct pkl_node *root,
		     const char *arch, int depth)
{
	static const char *const keys[] = { "state_dict", "model_state_dict",
					    "model" };
	char list[256];
	size_t i, len = 0;

	if (root->kind == PKL_OBJECT) {
		pkl_class_name(root, c->m->root_class, sizeof c->m->root_class);
		if (arch != NULL)
			pth_note(c, "--arch ignored: the file holds a whole module");
		return walk(c, root, "", 0);
	}
	if (root->kind != PKL_DICT)
		return pth_fail(c, "top-level object is %s, not an nn.Module or a "
				"state_dict", pkl_kind_name(root->kind));
	if (root->u.dict.n == 0)
		return pth_fail(c, "empty state_dict");
	if (dict_has_tensor(root))
		return pth_load_state_dict(c, root, arch);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct pkl_node *v = pkl_dict_get(root, keys[i]);
		if (v != NULL && (v->kind == PKL_DICT || v->kind == PKL_OBJECT)) {
			if (depth >= PTH_MAX_CKPT_DEPTH)
				return pth_fail(c, "checkpoint dicts nested too deeply");
			pth_note(c, "model read from checkpoint key '%s'", keys[i]);
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
	return pth_fail(c, "dict holds no tensors and no 'state_dict', 'model' or "
			"'model_state_dict' key (keys: %s)", list);
}

/* Widths of activations, and the Linear chain: out of one == in of next. */
static int finish(struct pth_ctx *c)
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
		return pth_fail(c, "no Linear layer found: nothing to convert");
	for (i = 0; i < m->nops; i++) {
		struct pth_op *op = &m->ops[i];
		if (op->kind != BLOB_OP_LINEAR) {
			op->in = op->out = width;
			continue;
		}
		if (prev != NULL && op->in != width)
			return pth_fail(c, "%s: Linear expects %u input features but "
					"%s gives %u", pth_shown(op->path), op->in,
					pth_shown(prev), width);
		width = op->out;
		prev = op->path;
	}
	return 0;
}

static int read_byteorder(struct pth_ctx *c)
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
		pth_note(c, "tensor data stored big-endian (byteorder record); "
			 "byte-swapped");
		return 0;
	}
	return pth_fail(c, "byteorder record is neither 'little' nor 'big'");
}

/* Everything after the zip is open; frees nothing of c on the way out. */
static int load(struct pth_ctx *c, const char *arch)
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

static int load_and_close(struct pth_ctx *c, const char *arch)
{
	int rc = load(c, arch);

	free(c->st);
	pkl_free(&c->doc);
	zip_close(&c->zip);
	if (rc != 0)
		pth_free(c->m);
	return rc;
}

static void ctx_init(struct pth_ctx *c, struct pth_model *m, char *err,
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
	struct pth_ctx c;

	ctx_init(&c, m, err, errlen);
	if (zip_open(&c.zip, path, err, errlen) != 0)
		return -1;
	return load_and_close(&c, arch);
}

int pth_load_mem(const void *buf, size_t len, const char *arch,
		 struct pth_model *m, char *err, size_t errlen)
{
	struct pth_ctx c;

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
