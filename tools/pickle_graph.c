/*
 * pickle_graph.c - reading the graph pkl_parse built (see pickle.h): names
 * of kinds for messages, dict and attribute lookups, class names.
 */
#include "tools/pickle.h"

#include <stdio.h>
#include <string.h>

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
