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
#include "tools/arch.h"
#include "tools/pth_int.h"
#include "tools/shape.h"

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

/* ---- whole modules: containers --------------------------------------- */

static int walk(struct pth_ctx *c, const struct pkl_node *mod, const char *path, int depth);

/* The non-None children of a module, as (name, module) node pairs. */
static int children(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		    const struct pkl_node ***kv, size_t *n)
{
	const struct pkl_node *kids = pkl_attr(mod, "_modules");

	*kv = NULL;
	*n = 0;
	if (kids != NULL && kids->kind != PKL_DICT && kids->kind != PKL_NONE)
		return pth_fail(c, "%s: _modules is %s", pth_shown(path), pkl_kind_name(kids->kind));
	if (kids == NULL || kids->kind != PKL_DICT)
		return 0;
	*kv = (const struct pkl_node **)kids->u.dict.v;
	*n = kids->u.dict.n / 2;
	return 0;
}

/* A child that computes: anything but a dropout, an Identity and a
 * Flatten(1, -1), which change no number of a C,H,W row. */
static int significant(const struct pkl_node *child)
{
	char cls[PTH_PATH_MAX];
	const struct pth_layer *k;
	int64_t start, end;

	if (child->kind != PKL_OBJECT || pkl_class_name(child, cls, sizeof cls) != 0 || !(k = pth_layer_of(cls)))
		return 1;
	if (k->kind == PTH_OP_FLATTEN)
		return pth_flatten_dims(child, &start, &end) != 0 || start != 1 || end != -1;
	return k->kind != ARCH_IDENTITY;
}

/* Walk the children in registration order; `all` 0: the significant ones only. */
static int walk_children(struct pth_ctx *c, const struct pkl_node *mod, const char *path, int depth, int all)
{
	const struct pkl_node **kv;
	char sub[PTH_PATH_MAX];
	size_t n;

	if (children(c, mod, path, &kv, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct pkl_node *child = kv[2 * i + 1];
		if (child->kind == PKL_NONE || (!all && !significant(child)))
			continue;
		if (join(c, sub, path, kv[2 * i]) != 0 || walk(c, child, sub, depth + 1) != 0)
			return -1;
	}
	return 0;
}


/* The names of the significant children, "a, b, c". */
static size_t significant_names(const struct pkl_node **kv, size_t n, char *list, size_t len)
{
	size_t count = 0, at = 0;

	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct pkl_node *key = kv[2 * i], *child = kv[2 * i + 1];
		if (child->kind == PKL_NONE || !significant(child))
			continue;
		if (at + 48 < len)
			at += (size_t)snprintf(list + at, len - at, "%s%.40s", count ? ", " : "",
					       key->kind == PKL_STR ? key->u.str.s : "?");
		else if (at + 5 < len && list[at - 1] != '.')
			at += (size_t)snprintf(list + at, len - at, ", ...");
		count++;
	}
	return count;
}

/*
 * A module whose forward() cannot be read: a user's class, a plain
 * nn.Module, a ModuleList or ModuleDict.  With one child that computes,
 * only that child can run; with more, their order is not known: refused
 * unless the caller assumes registration order.
 */
static int do_unknown(struct pth_ctx *c, const struct pkl_node *mod, const char *path, int depth)
{
	char cls[PTH_PATH_MAX], list[256], arch[256];
	const struct pkl_node **kv;
	size_t n, nsig, total = 0, j = 0;

	pkl_class_name(mod, cls, sizeof cls);
	if (children(c, mod, path, &kv, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		total += kv[2 * i + 1]->kind != PKL_NONE;
	if (total == 0)
		return pth_fail(c, "%s: %s has no child modules; its forward() cannot "
				"be converted", pth_shown(path), cls);
	nsig = significant_names(kv, n, list, sizeof list);
	if (nsig <= 1)
		return walk_children(c, mod, path, depth, 0);
	for (size_t i = 0; list[i]; i++)   /* "a, b, c" -> "a,b,c": an --arch to reorder */
		if (list[i] != ' ')
			arch[j++] = list[i];
	arch[j] = '\0';
	if (!c->o->assume_order)
		return pth_fail(c, "%s: the forward() of %s cannot be read and its %zu children that compute "
				"(%s) may run in any order: nothing converted. Wrap the layers in nn.Sequential, or "
				"give the order forward() runs them in with --arch (e.g. --arch %s, reordered as "
				"forward() runs them); --assume-registration-order runs them in registration order "
				"if you know that is right", pth_shown(path), cls, nsig, list, arch);
	c->m->assumed_order = 1;
	pth_note(c, "%s: %s has %zu children; its forward() is assumed to run "
		 "them in registration order (--assume-registration-order)", pth_shown(path), cls, nsig);
	return walk_children(c, mod, path, depth, 1);
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

/* The checks every module passes before it is read. */
static int check_module(struct pth_ctx *c, const struct pkl_node *mod, const char *path, int depth, char *cls)
{
	if (depth > PTH_MAX_DEPTH)
		return pth_fail(c, "%s: modules nested deeper than %d (a cycle?)",
				pth_shown(path), PTH_MAX_DEPTH);
	/* Shared submodules are walked each time they are used; a DAG of
	 * them must not make that exponential. */
	if (++c->visits > PTH_MAX_VISITS)
		return pth_fail(c, "%s: more than %d module visits", pth_shown(path),
				PTH_MAX_VISITS);
	if (mod->kind != PKL_OBJECT || pkl_class_name(mod, cls, PTH_PATH_MAX) != 0)
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
	return 0;
}

static int walk(struct pth_ctx *c, const struct pkl_node *mod, const char *path,
		int depth)
{
	static const char *const unknown[] = { NN "container.ModuleList", NN "container.ModuleDict",
					       NN "module.Module" };
	char cls[PTH_PATH_MAX];
	const struct pth_layer *k;

	if (check_module(c, mod, path, depth, cls) != 0)
		return -1;
	if (strcmp(cls, NN "container.Sequential") == 0)
		return walk_children(c, mod, path, depth, 1);
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		if (strcmp(cls, unknown[i]) == 0)
			return do_unknown(c, mod, path, depth);
	if ((k = pth_layer_of(cls)) != NULL)
		return k->fn(c, mod, path, k);
	if (!strcmp(cls, "torch.nn.parallel.data_parallel.DataParallel") ||
	    !strcmp(cls, "torch.nn.parallel.distributed.DistributedDataParallel"))
		return walk_children(c, mod, path, depth, 1);
	if (strncmp(cls, "torch.", 6) == 0)
		return pth_fail(c, "%s: %s is not supported", pth_shown(path), cls);
	if (byvalue_sequential(mod)) {
		pth_note(c, "%s: %s is an nn.Sequential subclass without its own "
			 "forward(); run as a Sequential", pth_shown(path), cls);
		return walk_children(c, mod, path, depth, 1);
	}
	return do_unknown(c, mod, path, depth);
}

/* ---- a whole module in the order of --arch --------------------------- */

/* The child at the dotted path `name` below root, or NULL. */
static const struct pkl_node *child_at(const struct pkl_node *root, const char *name, int *depth)
{
	char part[PTH_PATH_MAX];
	const struct pkl_node *mod = root;

	*depth = 0;
	for (const char *p = name; mod; (*depth)++) {
		size_t len = strcspn(p, ".");
		const struct pkl_node *kids;
		if (len >= sizeof part || mod->kind != PKL_OBJECT || (kids = pkl_attr(mod, "_modules")) == NULL ||
		    kids->kind != PKL_DICT || *depth >= PTH_MAX_DEPTH)
			return NULL;
		memcpy(part, p, len);
		part[len] = '\0';
		mod = pkl_dict_get(kids, part);
		if (mod && mod->kind == PKL_NONE)
			mod = NULL;
		if (p[len] == '\0')
			return mod;
		p += len + 1;
	}
	return NULL;
}

/* The root's child names, "a, b, c", for messages. */
static void child_list(const struct pkl_node *root, char *out, size_t len)
{
	const struct pkl_node *kids = pkl_attr(root, "_modules");
	size_t at = 0;

	snprintf(out, len, "none");
	for (size_t i = 0; kids && kids->kind == PKL_DICT && i + 1 < kids->u.dict.n && at + 48 < len; i += 2) {
		const struct pkl_node *k = kids->u.dict.v[i];
		at += (size_t)snprintf(out + at, len - at, "%s%.40s", i ? ", " : "",
				       k->kind == PKL_STR ? k->u.str.s : "?");
	}
}

/* NAME or NAME=OP: run that child, its type checked against OP. */
static int arch_child(struct pth_ctx *c, const struct pkl_node *root, const struct arch_item *it)
{
	const struct pkl_node *child;
	char cls[PTH_PATH_MAX], list[256];
	const struct pth_layer *k;
	int depth;

	if ((child = child_at(root, it->name, &depth)) == NULL) {
		child_list(root, list, sizeof list);
		if (it->kind == ARCH_NAME_ONLY)
			return pth_fail(c, "--arch: unknown op '%s' (one of %s) and the module has no child '%s' "
					"(its children: %s)", it->name, arch_op_list, it->name, list);
		return pth_fail(c, "--arch: the module has no child '%s' (its children: %s)", it->name, list);
	}
	if (it->kind != ARCH_NAME_ONLY) {
		if (it->has_args)
			return pth_fail(c, "--arch: %s=%s(...): a module's layer carries its own settings; write %s or "
					"%s=%s", it->name, it->word, it->name, it->name, it->word);
		k = child->kind == PKL_OBJECT && pkl_class_name(child, cls, sizeof cls) == 0 ? pth_layer_of(cls) : NULL;
		if (!k || k->kind != it->kind)
			return pth_fail(c, "--arch: %s is a %s, not a %s", it->name,
					child->kind == PKL_OBJECT ? cls : pkl_kind_name(child->kind), it->word);
	}
	return walk(c, child, it->name, depth);
}

/* How many of the --arch names are, or contain, the module at path. */
static size_t uses(const struct arch *a, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++) {
		size_t len = strlen(a->items[i].name);
		if (len && strncmp(path, a->items[i].name, len) == 0 && (path[len] == '\0' || path[len] == '.'))
			n++;
	}
	return n;
}

static int holds_tensors(const struct pkl_node *mod)
{
	static const char *const dicts[] = { "_parameters", "_buffers" };

	for (int d = 0; d < 2; d++) {
		const struct pkl_node *v = pkl_attr(mod, dicts[d]);
		for (size_t i = 1; v && v->kind == PKL_DICT && i < v->u.dict.n; i += 2)
			if (pth_is_tensorish(v->u.dict.v[i]))
				return 1;
	}
	return 0;
}

/* Every module below root that holds tensors is used by exactly one name. */
static int check_used(struct pth_ctx *c, const struct arch *a, const struct pkl_node *mod, const char *path,
		      int depth)
{
	const struct pkl_node **kv;
	char sub[PTH_PATH_MAX], cls[PTH_PATH_MAX];
	size_t n, u;

	if (depth > PTH_MAX_DEPTH || ++c->visits > PTH_MAX_VISITS)
		return pth_fail(c, "%s: modules nested too deeply or too many", pth_shown(path));
	if (mod->kind != PKL_OBJECT || pkl_object_dict(mod) == NULL)
		return 0;
	if (path[0] && holds_tensors(mod) && (u = uses(a, path)) != 1) {
		pkl_class_name(mod, cls, sizeof cls);
		if (u == 0)
			return pth_fail(c, "--arch leaves %s (%s) unused: every layer with parameters must appear "
					"exactly once", path, cls);
		return pth_fail(c, "--arch uses %s (%s) %zu times: every layer with parameters must appear "
				"exactly once", path, cls, u);
	}
	if (children(c, mod, path, &kv, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kv[2 * i + 1]->kind != PKL_NONE &&
		    (join(c, sub, path, kv[2 * i]) != 0 || check_used(c, a, kv[2 * i + 1], sub, depth + 1) != 0))
			return -1;
	return 0;
}

static int load_arch_module(struct pth_ctx *c, const struct pkl_node *root, const char *spec)
{
	struct arch *a = malloc(sizeof *a);
	char cls[PTH_PATH_MAX];
	int rc = -1;

	if (a == NULL)
		return pth_fail(c, "out of memory");
	if (arch_parse(spec, a, c->err, c->errlen) != 0 || check_module(c, root, "", 0, cls) != 0)
		goto out;
	for (size_t i = 0; i < a->n; i++) {
		const struct arch_item *it = &a->items[i];
		if (it->name[0]) {
			if (arch_child(c, root, it) != 0)
				goto out;
		} else if (arch_takes_tensors(it->kind)) {
			pth_fail(c, "--arch: '%s' on a whole module names no layer: write the child's name (e.g. fc1) "
				 "or NAME=%s", it->word, it->word);
			goto out;
		} else if (pth_emit_item(c, it, "(arch)") != 0) {
			goto out;
		}
	}
	c->visits = 0;
	rc = check_used(c, a, root, "", 0);
	if (rc == 0)
		pth_note(c, "execution order from --arch (%zu items), checked against the module's children", a->n);
out:
	free(a);
	return rc;
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
		return arch != NULL ? load_arch_module(c, root, arch) : walk(c, root, "", 0);
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
	if (load_root(c, c->doc.root, arch, 0) != 0)
		return -1;
	return shape_resolve(c->m, c->o->input_shape, c->err, c->errlen);
}

static int load_and_close(struct pth_ctx *c)
{
	int rc = load(c, c->o->arch);

	free(c->st);
	pkl_free(&c->doc);
	zip_close(&c->zip);
	if (rc != 0)
		pth_free(c->m);
	return rc;
}

static void ctx_init(struct pth_ctx *c, const struct pth_opts *o, struct pth_model *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	memset(c, 0, sizeof *c);
	c->m = m;
	c->o = o;
	c->err = err;
	c->errlen = errlen;
}

int pth_load_opts(const char *path, const struct pth_opts *o, struct pth_model *m, char *err, size_t errlen)
{
	struct pth_ctx c;

	ctx_init(&c, o, m, err, errlen);
	if (zip_open(&c.zip, path, err, errlen) != 0)
		return -1;
	return load_and_close(&c);
}

int pth_load(const char *path, const char *arch, struct pth_model *m,
	     char *err, size_t errlen)
{
	struct pth_opts o = { .arch = arch };

	return pth_load_opts(path, &o, m, err, errlen);
}

int pth_load_mem_opts(const void *buf, size_t len, const struct pth_opts *o, struct pth_model *m, char *err,
		      size_t errlen)
{
	struct pth_ctx c;

	ctx_init(&c, o, m, err, errlen);
	if (zip_open_mem(&c.zip, buf, len, err, errlen) != 0)
		return -1;
	return load_and_close(&c);
}

int pth_load_mem(const void *buf, size_t len, const char *arch,
		 struct pth_model *m, char *err, size_t errlen)
{
	struct pth_opts o = { .arch = arch };

	return pth_load_mem_opts(buf, len, &o, m, err, errlen);
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
