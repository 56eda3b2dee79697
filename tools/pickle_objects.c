/*
 * pickle_objects.c - the opcodes of the machine (pickle.c) that name Python
 * code: GLOBAL and STACK_GLOBAL, resolved against the allow-list of
 * pickle_globals.c; REDUCE, NEWOBJ and BUILD, which record a call or an
 * object and its state, never making it; and APPEND(S), SETITEM(S) and
 * ADDITEMS, which fill a container or an object's items.
 */
#include "tools/pickle_int.h"
#include "tools/pickle_globals.h"

#include <stdint.h>
#include <string.h>

/* ---- GLOBAL resolution ----------------------------------------------- */

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

static int push_global(struct pkl_vm *vm, const char *mod, size_t mlen,
		       const char *name, size_t nlen)
{
	const struct pkl_global_rule *rule;
	struct pkl_node *g;
	enum pkl_global what;
	char m[PKL_MAX_NAME + 1], n[PKL_MAX_NAME + 1];
	char *ms, *ns;

	if (mlen > PKL_MAX_NAME || nlen > PKL_MAX_NAME)
		return pkl_fail(vm, "GLOBAL name longer than %u bytes", PKL_MAX_NAME);
	if (!valid_name(mod, mlen) || !valid_name(name, nlen))
		return pkl_fail(vm, "malformed GLOBAL name");
	memcpy(m, mod, mlen);
	m[mlen] = '\0';
	memcpy(n, name, nlen);
	n[nlen] = '\0';
	rule = pkl_global_rule(m, n);
	if (rule != NULL && rule->what == PKL_G_REFUSED)
		return pkl_fail(vm, "refusing GLOBAL %s.%s: %s", m, n, rule->why);
	what = rule != NULL ? rule->what : PKL_G_CLASS;
	g = pkl_new_node(vm, PKL_GLOBAL);
	if (g == NULL)
		return -1;
	ms = pkl_alloc(vm, mlen + nlen + 2);
	if (ms == NULL)
		return -1;
	memcpy(ms, m, mlen + 1);
	ns = ms + mlen + 1;
	memcpy(ns, n, nlen + 1);
	g->u.global.module = ms;
	g->u.global.name = ns;
	g->u.global.what = what;
	return pkl_push(vm, g);
}

/* GLOBAL: "module\nname\n". */
int pkl_op_global(struct pkl_vm *vm)
{
	const unsigned char *line[2];
	size_t len[2];
	int k;

	for (k = 0; k < 2; k++) {
		size_t avail = (size_t)(vm->end - vm->p);
		size_t scan = avail < PKL_MAX_NAME + 1 ? avail : PKL_MAX_NAME + 1;
		const unsigned char *nl = memchr(vm->p, '\n', scan);

		if (nl == NULL)
			return pkl_fail(vm, scan == avail ? "truncated GLOBAL"
					: "GLOBAL name longer than 256 bytes");
		line[k] = vm->p;
		len[k] = (size_t)(nl - vm->p);
		vm->p = nl + 1;
	}
	return push_global(vm, (const char *)line[0], len[0],
			   (const char *)line[1], len[1]);
}

int pkl_op_stack_global(struct pkl_vm *vm)
{
	struct pkl_node *name = pkl_pop(vm), *mod;

	if (name == NULL || (mod = pkl_pop(vm)) == NULL)
		return -1;
	if (name->kind != PKL_STR || mod->kind != PKL_STR)
		return pkl_fail(vm, "STACK_GLOBAL needs two strings");
	return push_global(vm, mod->u.str.s, mod->u.str.len, name->u.str.s,
			   name->u.str.len);
}

/* ---- calls and objects ----------------------------------------------- */

static int refuse_call(struct pkl_vm *vm, const struct pkl_node *fn)
{
	if (fn->kind == PKL_GLOBAL)
		return pkl_fail(vm, "refusing to call %s.%s: only torch "
				"tensor/parameter rebuilders, OrderedDict and inert "
				"cloudpickle helpers may be reduced",
				fn->u.global.module, fn->u.global.name);
	if (fn->kind == PKL_CALL && fn->u.call.fn->kind == PKL_GLOBAL)
		return pkl_fail(vm, "refusing to call the result of %s.%s(...)",
				fn->u.call.fn->u.global.module,
				fn->u.call.fn->u.global.name);
	return pkl_fail(vm, "refusing to call %s", pkl_kind_name(fn->kind));
}

static struct pkl_node *make_call(struct pkl_vm *vm, enum pkl_kind kind,
				  struct pkl_node *fn, struct pkl_node *args)
{
	struct pkl_node *c = pkl_new_node(vm, kind);

	if (c == NULL)
		return NULL;
	c->u.call.fn = fn;
	c->u.call.args = args;
	if (pkl_raise_depth(vm, c, fn) != 0 || pkl_raise_depth(vm, c, args) != 0)
		return NULL;
	return c;
}

int pkl_op_reduce(struct pkl_vm *vm)
{
	struct pkl_node *args = pkl_pop(vm), *fn, *r, *src;
	enum pkl_global what;
	size_t i;

	if (args == NULL || (fn = pkl_pop(vm)) == NULL)
		return -1;
	if (args->kind != PKL_TUPLE)
		return pkl_fail(vm, "REDUCE arguments are %s, not a tuple",
				pkl_kind_name(args->kind));
	if (fn->kind == PKL_CALL && fn->u.call.fn->kind == PKL_GLOBAL &&
	    fn->u.call.fn->u.global.what == PKL_G_CP_BUILTIN_TYPE)
		/* e.g. CodeType(...) in a class cloudpickle saved by value */
		return pkl_push(vm, make_call(vm, PKL_CALL, fn, args));
	if (fn->kind != PKL_GLOBAL)
		return refuse_call(vm, fn);
	what = fn->u.global.what;
	switch (what) {
	case PKL_G_ORDERED_DICT:
	case PKL_G_DEFAULT_DICT:
		/* Items follow with SETITEM(S). */
		return pkl_push(vm, pkl_new_node(vm, PKL_DICT));
	case PKL_G_SET:
	case PKL_G_FROZENSET:
		r = pkl_new_node(vm, PKL_SET);
		if (r == NULL)
			return -1;
		src = args->u.seq.n ? args->u.seq.v[0] : NULL;
		if (src != NULL && (src->kind == PKL_LIST ||
				    src->kind == PKL_TUPLE ||
				    src->kind == PKL_SET))
			for (i = 0; i < src->u.seq.n; i++)
				if (pkl_seq_push(vm, r, &r->u.seq,
						 src->u.seq.v[i]) != 0)
					return -1;
		return pkl_push(vm, r);
	case PKL_G_CP_CLASS_SETSTATE:
		/* _class_setstate(cls, state) fills the skeleton class: keep
		 * the state on it so that its __module__ can be read. */
		r = make_call(vm, PKL_CALL, fn, args);
		if (r != NULL && args->u.seq.n == 2 &&
		    args->u.seq.v[0]->kind == PKL_CALL &&
		    args->u.seq.v[0]->u.call.state == NULL)
			args->u.seq.v[0]->u.call.state = args->u.seq.v[1];
		return pkl_push(vm, r);
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
		return pkl_push(vm, make_call(vm, PKL_CALL, fn, args));
	case PKL_G_REFUSED:   /* never on a node: push_global failed */
	case PKL_G_CLASS:
	case PKL_G_STORAGE:
	case PKL_G_DTYPE:
		break;
	}
	return refuse_call(vm, fn);
}

/* NEWOBJ/NEWOBJ_EX: cls.__new__(cls, *args) of a class, kept as an OBJECT. */
int pkl_new_object(struct pkl_vm *vm, struct pkl_node *cls,
		   struct pkl_node *args)
{
	int ok = 0;

	if (args->kind != PKL_TUPLE)
		return pkl_fail(vm, "%s arguments are %s, not a tuple",
				pkl_op_name(vm->op), pkl_kind_name(args->kind));
	if (cls->kind == PKL_GLOBAL)
		ok = cls->u.global.what == PKL_G_CLASS ||
		     cls->u.global.what == PKL_G_INERT;
	else if (cls->kind == PKL_CALL && cls->u.call.fn->kind == PKL_GLOBAL)
		ok = cls->u.call.fn->u.global.what == PKL_G_CP_SKELETON;
	if (!ok) {
		if (cls->kind == PKL_GLOBAL)
			return pkl_fail(vm, "refusing %s of %s.%s: not a class",
					pkl_op_name(vm->op), cls->u.global.module,
					cls->u.global.name);
		return pkl_fail(vm, "refusing %s of %s: not a class",
				pkl_op_name(vm->op), pkl_kind_name(cls->kind));
	}
	return pkl_push(vm, make_call(vm, PKL_OBJECT, cls, args));
}

int pkl_op_build(struct pkl_vm *vm)
{
	struct pkl_node *state = pkl_pop(vm), *t;

	if (state == NULL || (t = pkl_top(vm)) == NULL)
		return -1;
	switch (t->kind) {
	case PKL_OBJECT:
	case PKL_CALL:
		t->u.call.state = state;
		return pkl_raise_depth(vm, t, state);
	case PKL_DICT:
		/* OrderedDict attributes such as a state_dict's _metadata. */
		return 0;
	default:
		return pkl_fail(vm, "BUILD on %s", pkl_kind_name(t->kind));
	}
}

/* The DICT that SETITEM(S) on t fills, or NULL after failing. */
static struct pkl_node *dict_target(struct pkl_vm *vm, struct pkl_node *t)
{
	if (t->kind == PKL_DICT)
		return t;
	if (t->kind == PKL_OBJECT || t->kind == PKL_CALL) {
		/* a dict subclass */
		if (t->u.call.items == NULL) {
			t->u.call.items = pkl_new_node(vm, PKL_DICT);
			if (t->u.call.items == NULL)
				return NULL;
			t->u.call.items->depth = t->depth;
		}
		return t->u.call.items;
	}
	pkl_fail(vm, "%s on %s", pkl_op_name(vm->op), pkl_kind_name(t->kind));
	return NULL;
}

static struct pkl_node *list_target(struct pkl_vm *vm, struct pkl_node *t)
{
	if (t->kind == PKL_LIST || (t->kind == PKL_SET && vm->op == 0x90))
		return t;
	if ((t->kind == PKL_OBJECT || t->kind == PKL_CALL) && vm->op != 0x90) {
		if (t->u.call.list == NULL) {
			t->u.call.list = pkl_new_node(vm, PKL_LIST);
			if (t->u.call.list == NULL)
				return NULL;
		}
		return t->u.call.list;
	}
	pkl_fail(vm, "%s on %s", pkl_op_name(vm->op), pkl_kind_name(t->kind));
	return NULL;
}

int pkl_add_items(struct pkl_vm *vm, struct pkl_node *t,
		  struct pkl_node **items, size_t n, int pairs)
{
	struct pkl_node *d = pairs ? dict_target(vm, t) : list_target(vm, t);
	size_t i;

	if (d == NULL)
		return -1;
	if (pairs && n % 2 != 0)
		return pkl_fail(vm, "%s with an odd number of items",
				pkl_op_name(vm->op));
	for (i = 0; i < n; i++)
		if (pkl_seq_push(vm, d, &d->u.seq, items[i]) != 0)
			return -1;
	return 0;
}
