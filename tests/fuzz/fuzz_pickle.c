/*
 * fuzz_pickle.c - the non-executing pickle machine, pkl_parse (tools/pickle.h).
 *
 * The input is the pickle stream.  It runs under the default limits and
 * under tight ones (every cap within reach); a resulting graph is walked,
 * bounded (it may hold cycles), through every accessor the .pth reader
 * uses.  Properties: STOP lies inside the input; strings are terminated at
 * their length; dicts hold whole pairs; the counters stay within the caps.
 */
#include "tools/pickle.h"
#include "tests/fuzz/fuzz.h"

#define WALK_MAX 4096

static const struct pkl_limits tight = {
	.max_stack = 64, .max_marks = 8, .max_memo = 64, .max_nodes = 256,
	.max_string = 256, .max_bytes = 1u << 18, .max_depth = 16,
};

static void walk(const struct pkl_node *n, unsigned depth, size_t *budget)
{
	char buf[128];

	if (!n || !*budget || depth > 64)
		return;
	(*budget)--;
	FUZZ_CHECK(n->kind >= PKL_NONE && n->kind <= PKL_PERSID, "kind %d", n->kind);
	FUZZ_CHECK(pkl_kind_name(n->kind) != NULL, "no name for kind %d", n->kind);
	pkl_class_name(n, buf, sizeof buf);
	FUZZ_CHECK(memchr(buf, '\0', sizeof buf) != NULL, "class name not terminated");
	pkl_is_call_of(n, PKL_G_REBUILD_TENSOR_V2);
	switch (n->kind) {
	case PKL_STR:
	case PKL_BYTES:
		FUZZ_CHECK(n->u.str.s[n->u.str.len] == '\0', "string not terminated at its length");
		break;
	case PKL_DICT:
		FUZZ_CHECK(n->u.dict.n % 2 == 0 && n->u.dict.n <= n->u.dict.cap, "dict of %zu nodes", n->u.dict.n);
		pkl_dict_get(n, "weight");
		pkl_dict_get(n, "");
		/* fall through */
	case PKL_TUPLE:
	case PKL_LIST:
	case PKL_SET:
		FUZZ_CHECK(n->u.seq.n <= n->u.seq.cap, "%zu items, room for %zu", n->u.seq.n, n->u.seq.cap);
		for (size_t i = 0; i < n->u.seq.n; i++)
			walk(n->u.seq.v[i], depth + 1, budget);
		break;
	case PKL_CALL:
	case PKL_OBJECT:
		pkl_object_dict(n);
		pkl_attr(n, "_modules");
		walk(n->u.call.fn, depth + 1, budget);
		walk(n->u.call.args, depth + 1, budget);
		walk(n->u.call.state, depth + 1, budget);
		walk(n->u.call.items, depth + 1, budget);
		walk(n->u.call.list, depth + 1, budget);
		break;
	case PKL_PERSID:
		walk(n->u.persid.pid, depth + 1, budget);
		break;
	case PKL_GLOBAL:
		FUZZ_CHECK(n->u.global.module && n->u.global.name, "global without a name");
		break;
	default:
		break;
	}
}

static void run(const char *buf, size_t size, const struct pkl_limits *lim)
{
	struct pkl_doc doc;
	char err[256];

	if (pkl_parse_ex(buf, size, lim, &doc, err, sizeof err) == 0) {
		size_t budget = WALK_MAX;
		FUZZ_CHECK(doc.end <= size, "STOP at %zu of %zu", doc.end, size);
		FUZZ_CHECK(doc.nnodes <= lim->max_nodes && doc.bytes <= lim->max_bytes,
			   "%zu nodes, %zu bytes", doc.nnodes, doc.bytes);
		walk(doc.root, 0, &budget);
		pkl_free(&doc);
	} else {
		FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0], "no message");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_copy(data, size);
	run(buf, size, &pkl_default_limits);
	run(buf, size, &tight);
	free(buf);
	return 0;
}
