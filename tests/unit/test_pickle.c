/*
 * test_pickle.c - tools/pickle.c on hand-assembled pickle streams: every
 * opcode it runs, memo by reference, the allow-list and its refusals, each
 * cap, and damaged input.
 *
 * String literals are split after a \x escape whenever the next byte is a
 * hex digit, e.g. "\x00" "a", so that the escape does not swallow it.
 */
#include "tests/unit/unit.h"
#include "tools/pickle.h"

#include <stdlib.h>

static struct pkl_doc doc;
static char err[512];

/* Parse from an exact-size heap copy so that ASan sees any overread; the
 * copy is freed at once because the graph must not point into it. */
static int parse_lim(const char *s, size_t n, const struct pkl_limits *lim)
{
	void *copy = malloc(n ? n : 1);
	int rc;

	pkl_free(&doc);
	memcpy(copy, s, n);
	err[0] = '\0';
	rc = pkl_parse_ex(copy, n, lim, &doc, err, sizeof err);
	free(copy);
	return rc;
}

#define PARSE(lit) parse_lim((lit), sizeof(lit) - 1, &pkl_default_limits)
#define PARSE_LIM(lit, lim) parse_lim((lit), sizeof(lit) - 1, (lim))

static const struct pkl_node *R(void)
{
	return doc.root;
}

static const struct pkl_node *item(const struct pkl_node *n, size_t i)
{
	return n != NULL && i < n->u.seq.n ? n->u.seq.v[i] : NULL;
}

/* ---- scalars --------------------------------------------------------- */

static void test_ints(void)
{
	CHECK_INT(PARSE("\x80\x02K\x07."), 0);
	CHECK_INT(R()->kind, PKL_INT);
	CHECK_INT(R()->u.i.v, 7);
	CHECK_INT(doc.end, 5);
	CHECK_INT(PARSE("\x80\x02M\x10\x3d."), 0);   /* 15632 */
	CHECK_INT(R()->u.i.v, 0x3d10);
	CHECK_INT(PARSE("\x80\x02J\xff\xff\xff\xff."), 0);
	CHECK_INT(R()->u.i.v, -1);
	CHECK_INT(PARSE("\x80\x02J\x00\x00\x00\x80."), 0);
	CHECK_INT(R()->u.i.v, INT32_MIN);
	/* LONG1: 2**31 in 5 bytes, -2**31-1, and values past int64 */
	CHECK_INT(PARSE("\x80\x02\x8a\x05\x00\x00\x00\x80\x00."), 0);
	CHECK_INT(R()->u.i.v, 2147483648LL);
	CHECK_INT(PARSE("\x80\x02\x8a\x05\xff\xff\xff\x7f\xff."), 0);
	CHECK_INT(R()->u.i.v, -2147483649LL);
	CHECK_INT(PARSE("\x80\x02\x8a\x00."), 0);
	CHECK_INT(R()->u.i.v, 0);
	CHECK_INT(PARSE("\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff."), 0);
	CHECK_INT(R()->u.i.v, -1);
	CHECK_INT(R()->u.i.big, 0);
	CHECK_INT(PARSE("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01."), 0);
	CHECK_INT(R()->u.i.big, 1);   /* 2**64 */
	CHECK_INT(PARSE("\x80\x02\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x80."), 0);
	CHECK_INT(R()->u.i.v, INT64_MIN);
	CHECK_INT(PARSE("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\x00."), 0);
	CHECK_INT(R()->u.i.big, 1);   /* 2**63 */
	/* LONG4 is bounded */
	CHECK_INT(PARSE("\x80\x02\x8b\x02\x00\x00\x00\x01\x01."), 0);
	CHECK_INT(R()->u.i.v, 257);
	CHECK_INT(PARSE("\x80\x02\x8b\x00\x00\x10\x00."), -1);
	CHECK_CONTAINS(err, "LONG4 integer of 1048576 bytes exceeds the cap of 64");
}

static void test_float_bool_none(void)
{
	/* BINFLOAT is big-endian: 0.1 */
	CHECK_INT(PARSE("\x80\x02G\x3f\xb9\x99\x99\x99\x99\x99\x9a."), 0);
	CHECK_INT(R()->kind, PKL_FLOAT);
	CHECK(R()->u.f == 0.1);
	CHECK_INT(PARSE("\x80\x02G\xc0\x00\x00\x00\x00\x00\x00\x00."), 0);
	CHECK(R()->u.f == -2.0);
	CHECK_INT(PARSE("\x80\x02\x88."), 0);
	CHECK_INT(R()->kind, PKL_BOOL);
	CHECK_INT(R()->u.boolean, 1);
	CHECK_INT(PARSE("\x80\x02\x89."), 0);
	CHECK_INT(R()->u.boolean, 0);
	CHECK_INT(PARSE("\x80\x02N."), 0);
	CHECK_INT(R()->kind, PKL_NONE);
}

static void test_strings(void)
{
	CHECK_INT(PARSE("\x80\x02X\x03\x00\x00\x00" "abc."), 0);
	CHECK_INT(R()->kind, PKL_STR);
	CHECK_STR(R()->u.str.s, "abc");
	CHECK_INT(PARSE("\x80\x04\x8c\x02hi."), 0);
	CHECK_STR(R()->u.str.s, "hi");
	CHECK_INT(PARSE("\x80\x04\x8d\x01\x00\x00\x00\x00\x00\x00\x00z."), 0);
	CHECK_STR(R()->u.str.s, "z");
	CHECK_INT(PARSE("\x80\x02U\x02ok."), 0);
	CHECK_STR(R()->u.str.s, "ok");
	CHECK_INT(PARSE("\x80\x03" "B\x02\x00\x00\x00\x00\x01."), 0);
	CHECK_INT(R()->kind, PKL_BYTES);
	CHECK_INT(R()->u.str.len, 2);
	CHECK_INT(R()->u.str.s[1], 1);
	CHECK_INT(PARSE("\x80\x03" "C\x01\xff."), 0);
	CHECK_INT(R()->kind, PKL_BYTES);
	CHECK_INT(PARSE("\x80\x04\x8e\x01\x00\x00\x00\x00\x00\x00\x00q."), 0);
	CHECK_INT(R()->kind, PKL_BYTES);
	CHECK_INT(PARSE("\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00q."), 0);
	CHECK_INT(R()->kind, PKL_BYTES);
	/* a length past the end */
	CHECK_INT(PARSE("\x80\x02X\xff\x00\x00\x00" "abc."), -1);
	CHECK_CONTAINS(err, "truncated pickle: BINUNICODE needs 255 more bytes");
}

/* ---- containers ------------------------------------------------------ */

static void test_tuples(void)
{
	const struct pkl_node *t;

	CHECK_INT(PARSE("\x80\x02)."), 0);
	CHECK_INT(R()->kind, PKL_TUPLE);
	CHECK_INT(R()->u.seq.n, 0);
	CHECK_INT(PARSE("\x80\x02K\x01\x85."), 0);
	CHECK_INT(R()->u.seq.n, 1);
	CHECK_INT(PARSE("\x80\x02K\x01K\x02\x86."), 0);
	CHECK_INT(item(R(), 1)->u.i.v, 2);
	CHECK_INT(PARSE("\x80\x02K\x01K\x02K\x03\x87."), 0);
	CHECK_INT(item(R(), 2)->u.i.v, 3);
	CHECK_INT(PARSE("\x80\x02(K\x01K\x02K\x03K\x04K\x05t."), 0);
	t = R();
	CHECK_INT(t->kind, PKL_TUPLE);
	CHECK_INT(t->u.seq.n, 5);
	CHECK_INT(item(t, 4)->u.i.v, 5);
	CHECK_INT(t->depth, 1);
	/* MARK TUPLE before anything was pushed (found by libFuzzer) */
	CHECK_INT(PARSE("\x80\x02(t."), 0);
	CHECK_INT(R()->u.seq.n, 0);
}

static void test_lists(void)
{
	CHECK_INT(PARSE("\x80\x02]K\x01" "a(K\x02K\x03" "e."), 0);
	CHECK_INT(R()->kind, PKL_LIST);
	CHECK_INT(R()->u.seq.n, 3);
	CHECK_INT(item(R(), 2)->u.i.v, 3);
	CHECK_INT(PARSE("\x80\x02(K\x01K\x02l."), 0);
	CHECK_INT(R()->kind, PKL_LIST);
	CHECK_INT(R()->u.seq.n, 2);
	/* APPENDS with an empty batch */
	CHECK_INT(PARSE("\x80\x02](e."), 0);
	CHECK_INT(R()->u.seq.n, 0);
}

static void test_dicts(void)
{
	const struct pkl_node *v;

	CHECK_INT(PARSE("\x80\x02}X\x01\x00\x00\x00kK\x05s."), 0);
	CHECK_INT(R()->kind, PKL_DICT);
	v = pkl_dict_get(R(), "k");
	CHECK(v != NULL && v->u.i.v == 5);
	CHECK(pkl_dict_get(R(), "x") == NULL);
	CHECK_INT(PARSE("\x80\x02}(X\x01\x00\x00\x00" "aK\x01X\x01\x00\x00\x00" "bK\x02u."), 0);
	CHECK_INT(R()->u.dict.n, 4);
	CHECK_STR(R()->u.dict.v[2]->u.str.s, "b");   /* insertion order */
	CHECK_INT(PARSE("\x80\x02(X\x01\x00\x00\x00" "aK\x01" "d."), 0);
	CHECK_INT(pkl_dict_get(R(), "a")->u.i.v, 1);
	/* the last of duplicate keys wins */
	CHECK_INT(PARSE("\x80\x02}(X\x01\x00\x00\x00" "aK\x01X\x01\x00\x00\x00" "aK\x02u."), 0);
	CHECK_INT(pkl_dict_get(R(), "a")->u.i.v, 2);
	CHECK_INT(PARSE("\x80\x02}(K\x01u."), -1);
	CHECK_CONTAINS(err, "SETITEMS with an odd number of items");
	CHECK_INT(PARSE("\x80\x02(K\x01" "d."), -1);
	CHECK_CONTAINS(err, "DICT with an odd number of items");
}

static void test_sets(void)
{
	CHECK_INT(PARSE("\x80\x04\x8f(K\x01K\x02\x90."), 0);
	CHECK_INT(R()->kind, PKL_SET);
	CHECK_INT(R()->u.seq.n, 2);
	CHECK_INT(PARSE("\x80\x04(K\x01\x91."), 0);
	CHECK_INT(R()->kind, PKL_SET);
	/* protocol 2: __builtin__ set([1, 2]) */
	CHECK_INT(PARSE("\x80\x02" "c__builtin__\nset\n]q\x00(K\x01K\x02" "e\x85R."), 0);
	CHECK_INT(R()->kind, PKL_SET);
	CHECK_INT(R()->u.seq.n, 2);
	CHECK_INT(PARSE("\x80\x02" "c__builtin__\nset\n]\x85R."), 0);
	CHECK_INT(R()->u.seq.n, 0);
}

static void test_stack_ops(void)
{
	/* POP, POP_MARK, DUP */
	CHECK_INT(PARSE("\x80\x02K\x01K\x02" "0."), 0);
	CHECK_INT(R()->u.i.v, 1);
	CHECK_INT(PARSE("\x80\x02K\x01(K\x02K\x03" "1."), 0);
	CHECK_INT(R()->u.i.v, 1);
	CHECK_INT(PARSE("\x80\x02]2K\x01" "a0."), 0);
	CHECK_INT(R()->u.seq.n, 1);   /* DUP pushed the same list */
	/* POP on an empty segment pops its MARK, as CPython does */
	CHECK_INT(PARSE("\x80\x02K\x09(0."), 0);
	CHECK_INT(R()->u.i.v, 9);
	CHECK_INT(PARSE("\x80\x02" "0."), -1);
	CHECK_CONTAINS(err, "stack underflow in POP");
	CHECK_INT(PARSE("\x80\x02K\x01(\x85."), -1);
	CHECK_CONTAINS(err, "stack underflow in TUPLE1");
	CHECK_INT(PARSE("\x80\x02K\x01t."), -1);
	CHECK_CONTAINS(err, "TUPLE without a MARK");
	CHECK_INT(PARSE("\x80\x02(."), -1);
	CHECK_CONTAINS(err, "stack underflow in STOP");
}

/* ---- memo ------------------------------------------------------------ */

static void test_memo_by_reference(void)
{
	const struct pkl_node *a, *b, *v;

	/* d = {}; t = (d, d); d['k'] = 1 afterwards, through BINGET. */
	CHECK_INT(PARSE("\x80\x02}q\x00h\x00h\x00\x86q\x01" "0h\x00X\x01\x00\x00\x00kK\x01s0h\x01."), 0);
	a = item(R(), 0);
	b = item(R(), 1);
	CHECK(a != NULL && a == b);
	v = pkl_dict_get(b, "k");
	CHECK(v != NULL && v->kind == PKL_INT && v->u.i.v == 1);

	/* LONG_BINPUT / LONG_BINGET, and MEMOIZE (slot len(memo)) */
	CHECK_INT(PARSE("\x80\x02K\x05r\x00\x01\x00\x00" "0j\x00\x01\x00\x00."), 0);
	CHECK_INT(R()->u.i.v, 5);
	CHECK_INT(PARSE("\x80\x04K\x05\x94K\x06\x94" "00h\x01."), 0);
	CHECK_INT(R()->u.i.v, 6);
	CHECK_INT(PARSE("\x80\x02h\x03."), -1);
	CHECK_CONTAINS(err, "BINGET of empty memo slot 3");
	CHECK_INT(PARSE("\x80\x02K\x01q\x01" "0h\x00."), -1);
	CHECK_CONTAINS(err, "empty memo slot 0");
}

/* A module memoised after NEWOBJ gets its __dict__ later; a second use
 * through BINGET sees the filled object (a ReLU used twice). */
static void test_shared_object(void)
{
	const struct pkl_node *a, *b, *tr;
	char cls[128];

	CHECK_INT(PARSE("\x80\x02" "ctorch.nn.modules.activation\nReLU\nq\x00)\x81q\x01"
			"}X\x08\x00\x00\x00training\x88s" "b"
			"h\x01\x86."), 0);
	CHECK_INT(R()->kind, PKL_TUPLE);
	/* the tuple was built from the stack: (ReLU-with-state, same) */
	a = item(R(), 0);
	b = item(R(), 1);
	CHECK(a == b);
	CHECK_INT(a->kind, PKL_OBJECT);
	tr = pkl_attr(a, "training");
	CHECK(tr != NULL && tr->kind == PKL_BOOL && tr->u.boolean == 1);
	CHECK_INT(pkl_class_name(a, cls, sizeof cls), 0);
	CHECK_STR(cls, "torch.nn.modules.activation.ReLU");
}

/* ---- globals and calls ----------------------------------------------- */

static void test_ordered_dict_and_build(void)
{
	/* OrderedDict() filled by SETITEMS, then BUILD {'_metadata': ...} */
	CHECK_INT(PARSE("\x80\x02" "ccollections\nOrderedDict\nq\x00)Rq\x01("
			"X\x01\x00\x00\x00" "aK\x01X\x01\x00\x00\x00" "bK\x02u"
			"}X\x09\x00\x00\x00_metadatah\x00)Rsb."), 0);
	CHECK_INT(R()->kind, PKL_DICT);
	CHECK_INT(R()->u.dict.n, 4);
	CHECK_INT(pkl_dict_get(R(), "b")->u.i.v, 2);
	CHECK_INT(PARSE("\x80\x02" "ccollections\ndefaultdict\nc__builtin__\nlist\n\x85R."), 0);
	CHECK_INT(R()->kind, PKL_DICT);
}

static void test_rebuild_tensor_call(void)
{
	const struct pkl_node *args, *pid;

	CHECK_INT(PARSE("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n("
			"(X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
			"X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x06tQ"
			"K\x00K\x02K\x03\x86K\x03K\x01\x86\x89" "ccollections\nOrderedDict\n)R"
			"tR."), 0);
	CHECK(pkl_is_call_of(R(), PKL_G_REBUILD_TENSOR_V2));
	args = R()->u.call.args;
	CHECK_INT(args->u.seq.n, 6);
	pid = item(args, 0);
	CHECK_INT(pid->kind, PKL_PERSID);
	CHECK_INT(pid->u.persid.pid->u.seq.n, 5);
	CHECK_INT(item(pid->u.persid.pid, 1)->u.global.what, PKL_G_STORAGE);
	CHECK_INT(item(item(args, 2), 1)->u.i.v, 3);
	CHECK_INT(item(args, 5)->kind, PKL_DICT);
}

static void test_protocol4_stack_global(void)
{
	CHECK_INT(PARSE("\x80\x04\x95\x20\x00\x00\x00\x00\x00\x00\x00"
			"\x8c\x0b" "collections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94."), 0);
	CHECK_INT(R()->kind, PKL_DICT);
	CHECK_INT(PARSE("\x80\x04\x8c\x02os\x8c\x06system\x93."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL os.system");
	CHECK_INT(PARSE("\x80\x04K\x01K\x02\x93."), -1);
	CHECK_CONTAINS(err, "STACK_GLOBAL needs two strings");
	CHECK_INT(PARSE("\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01."), -1);
	CHECK_CONTAINS(err, "FRAME of 255 bytes runs past the end");
	CHECK_INT(PARSE("\x80\x06K\x01."), -1);
	CHECK_CONTAINS(err, "unsupported pickle protocol 6");
}

static void test_user_class_object(void)
{
	char cls[128];
	const struct pkl_node *m;

	CHECK_INT(PARSE("\x80\x02" "c__main__\nNet\nq\x00)\x81}(X\x08\x00\x00\x00training"
			"\x88X\x08\x00\x00\x00_modules" "ccollections\nOrderedDict\n)Rub."), 0);
	CHECK_INT(R()->kind, PKL_OBJECT);
	CHECK_INT(pkl_class_name(R(), cls, sizeof cls), 0);
	CHECK_STR(cls, "__main__.Net");
	m = pkl_attr(R(), "_modules");
	CHECK(m != NULL && m->kind == PKL_DICT);
	/* NEWOBJ_EX, and a (dict, slots) BUILD state */
	CHECK_INT(PARSE("\x80\x04" "cmymodels\nNet\n)}\x92}X\x01\x00\x00\x00xK\x01sN\x86" "b."), 0);
	CHECK_INT(R()->kind, PKL_OBJECT);
	CHECK_INT(pkl_attr(R(), "x")->u.i.v, 1);
	/* a dict subclass gets its items */
	CHECK_INT(PARSE("\x80\x02" "cmymodels\nMyDict\n)\x81X\x01\x00\x00\x00xK\x01s."), 0);
	CHECK(R()->u.call.items != NULL);
}

/* The shape of a class cloudpickle saved by value (docs/pth-format.md 6.4). */
static void test_cloudpickle_by_value(void)
{
	char cls[128];

	CHECK_INT(PARSE("\x80\x02"
		"ccloudpickle.cloudpickle\n_make_skeleton_class\n"
		"(c__builtin__\ntype\nX\x03\x00\x00\x00Net"
		"ctorch.nn.modules.module\nModule\n\x85}X\x02\x00\x00\x00idNtRq\x00"
		"ccloudpickle.cloudpickle_fast\n_class_setstate\n"
		"h\x00}X\x0a\x00\x00\x00__module__X\x08\x00\x00\x00__main__s}\x86\x86R0"
		/* forward's code: _builtin_type('CodeType')(...) */
		"ccloudpickle.cloudpickle\n_builtin_type\nX\x08\x00\x00\x00" "CodeType\x85R"
		"(K\x01" "c_codecs\nencode\nX\x01\x00\x00\x00xX\x06\x00\x00\x00latin1\x86RtR0"
		"ccloudpickle.cloudpickle\nsubimport\nX\x05\x00\x00\x00torch\x85R0"
		"h\x00)\x81}X\x08\x00\x00\x00training\x88sb."), 0);
	CHECK_INT(R()->kind, PKL_OBJECT);
	CHECK_INT(pkl_class_name(R(), cls, sizeof cls), 0);
	CHECK_STR(cls, "__main__.Net");
	CHECK(pkl_attr(R(), "training") != NULL);
}

/* ---- refusals -------------------------------------------------------- */

static void test_refuse_dangerous_globals(void)
{
	CHECK_INT(PARSE("\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00id\x85R."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL os.system: module os can run commands or code");
	CHECK_INT(PARSE("\x80\x02" "cposix\nsystem\n."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL posix.system");
	CHECK_INT(PARSE("\x80\x02" "csubprocess\nPopen\n."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL subprocess.Popen");
	CHECK_INT(PARSE("\x80\x02" "cbuiltins\neval\n."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL builtins.eval: only data types may be used from builtins");
	CHECK_INT(PARSE("\x80\x02" "c__builtin__\nexec\n."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL __builtin__.exec");
	CHECK_INT(PARSE("\x80\x02" "c__builtin__\ncompile\n."), -1);
	CHECK_CONTAINS(err, "__builtin__.compile");
	CHECK_INT(PARSE("\x80\x02" "cbuiltins\nopen\n."), -1);
	CHECK_CONTAINS(err, "builtins.open");
	CHECK_INT(PARSE("\x80\x02" "cbuiltins\n__import__\n."), -1);
	CHECK_CONTAINS(err, "builtins.__import__");
	CHECK_INT(PARSE("\x80\x02" "cos.path\njoin\n."), -1);
	CHECK_CONTAINS(err, "module os can run");
	CHECK_INT(PARSE("\x80\x02" "ctorch\nload\n."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL torch.load");
	CHECK_INT(PARSE("\x80\x02" "ctorch.serialization\nload\n."), -1);
	CHECK_CONTAINS(err, "torch.serialization");
	CHECK_INT(PARSE("\x80\x02" "cnumpy.testing._private.utils\nrunstring\n."), -1);
	CHECK_CONTAINS(err, "numpy.testing");
	CHECK_INT(PARSE("\x80\x02" "coperator\nattrgetter\n."), -1);
	CHECK_CONTAINS(err, "operator.attrgetter");
	/* the offset of the opcode is named */
	CHECK_INT(PARSE("\x80\x02K\x01" "cos\nsystem\n."), -1);
	CHECK_CONTAINS(err, "(pickle offset 4)");
}

static void test_refuse_calls(void)
{
	CHECK_INT(PARSE("\x80\x02" "cmymod\nfunc\nX\x01\x00\x00\x00" "a\x85R."), -1);
	CHECK_STR(err, "refusing to call mymod.func: only torch tensor/parameter "
		  "rebuilders, OrderedDict and inert cloudpickle helpers may be "
		  "reduced (pickle offset 21)");
	/* a user class is a class for NEWOBJ, never a REDUCE callable */
	CHECK_INT(PARSE("\x80\x02" "c__main__\nNet\n)R."), -1);
	CHECK_CONTAINS(err, "refusing to call __main__.Net: only torch");
	CHECK_INT(PARSE("\x80\x02" "ctorch.nn.modules.linear\nLinear\n)R."), -1);
	CHECK_CONTAINS(err, "refusing to call torch.nn.modules.linear.Linear");
	/* getattr is inert, but calling what it returns is not */
	CHECK_INT(PARSE("\x80\x02" "c__builtin__\ngetattr\n(cmymod\nthing\n"
			"X\x03\x00\x00\x00runtR)R."), -1);
	CHECK_CONTAINS(err, "refusing to call the result of __builtin__.getattr(...)");
	CHECK_INT(PARSE("\x80\x02" "ccloudpickle.cloudpickle\nsubimport\n"
			"X\x02\x00\x00\x00os\x85R)R."), -1);
	CHECK_CONTAINS(err, "refusing to call the result of cloudpickle.cloudpickle.subimport(...)");
	CHECK_INT(PARSE("\x80\x02K\x01)R."), -1);
	CHECK_CONTAINS(err, "refusing to call an int");
	CHECK_INT(PARSE("\x80\x02" "ccollections\nOrderedDict\nK\x01R."), -1);
	CHECK_CONTAINS(err, "REDUCE arguments are an int, not a tuple");
	/* NEWOBJ needs a class */
	CHECK_INT(PARSE("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n)\x81."), -1);
	CHECK_CONTAINS(err, "refusing NEWOBJ of torch._utils._rebuild_tensor_v2: not a class");
	CHECK_INT(PARSE("\x80\x02K\x01)\x81."), -1);
	CHECK_CONTAINS(err, "not a class");
}

static void test_refuse_opcodes(void)
{
	CHECK_INT(PARSE("\x80\x02(cos\nsystem\nS'id'\ni."), -1);
	CHECK_CONTAINS(err, "refusing GLOBAL os.system");
	CHECK_INT(PARSE("\x80\x02(S'x'\n."), -1);
	CHECK_CONTAINS(err, "unsupported pickle opcode STRING (0x53)");
	CHECK_INT(PARSE("\x80\x02" "(i."), -1);
	CHECK_CONTAINS(err, "unsupported pickle opcode INST");
	CHECK_INT(PARSE("\x80\x02" "(o."), -1);
	CHECK_CONTAINS(err, "unsupported pickle opcode OBJ");
	CHECK_INT(PARSE("\x80\x02" "Pfoo\n."), -1);
	CHECK_CONTAINS(err, "unsupported pickle opcode PERSID");
	CHECK_INT(PARSE("\x80\x02\x82\x01."), -1);
	CHECK_CONTAINS(err, "unsupported pickle opcode EXT1");
	CHECK_INT(PARSE("\x80\x05\x97."), -1);
	CHECK_CONTAINS(err, "NEXT_BUFFER");
	CHECK_INT(PARSE("\x80\x02\xff."), -1);
	CHECK_CONTAINS(err, "unknown pickle opcode 0xff");
	CHECK_INT(PARSE("\x80\x02" "c\nx\n."), -1);
	CHECK_CONTAINS(err, "malformed GLOBAL name");
	CHECK_INT(PARSE("\x80\x02" "cos;rm\nx\n."), -1);
	CHECK_CONTAINS(err, "malformed GLOBAL name");
	CHECK_INT(PARSE("\x80\x02" "cmod\nna"), -1);
	CHECK_CONTAINS(err, "truncated GLOBAL");
}

static void test_misuse(void)
{
	CHECK_INT(PARSE("\x80\x02}K\x01" "a."), -1);
	CHECK_CONTAINS(err, "APPEND on a dict");
	CHECK_INT(PARSE("\x80\x02]K\x01K\x02s."), -1);
	CHECK_CONTAINS(err, "SETITEM on a list");
	CHECK_INT(PARSE("\x80\x02K\x01}b."), -1);
	CHECK_CONTAINS(err, "BUILD on an int");
	CHECK_INT(PARSE("\x80\x02]K\x01\x90."), -1);
	CHECK_CONTAINS(err, "ADDITEMS without a MARK");
	CHECK_INT(PARSE("\x80\x02K\x01"), -1);
	CHECK_CONTAINS(err, "pickle ends without STOP");
	CHECK_INT(PARSE(""), -1);
	CHECK_CONTAINS(err, "pickle ends without STOP");
	CHECK_INT(PARSE("\x80\x04" "K\x01K\x02\x93."), -1);
}

/* ---- caps ------------------------------------------------------------ */

static void test_caps(void)
{
	struct pkl_limits lim;
	static char big[PKL_MAX_NAME + 40];
	size_t n;

	lim = pkl_default_limits;
	lim.max_stack = 4;
	CHECK_INT(PARSE_LIM("\x80\x02K\x01K\x01K\x01K\x01." , &lim), 0);
	CHECK_INT(PARSE_LIM("\x80\x02K\x01K\x01K\x01K\x01K\x01.", &lim), -1);
	CHECK_CONTAINS(err, "pickle stack deeper than 4 values");

	lim = pkl_default_limits;
	lim.max_marks = 2;
	CHECK_INT(PARSE_LIM("\x80\x02(((.", &lim), -1);
	CHECK_CONTAINS(err, "more than 2 MARKs open at once");

	lim = pkl_default_limits;
	lim.max_memo = 8;
	CHECK_INT(PARSE_LIM("\x80\x02K\x01q\x07.", &lim), 0);
	CHECK_INT(PARSE_LIM("\x80\x02K\x01q\x08.", &lim), -1);
	CHECK_CONTAINS(err, "memo index 8 exceeds the cap of 8");
	CHECK_INT(PARSE("\x80\x02K\x01r\xff\xff\xff\xff."), -1);
	CHECK_CONTAINS(err, "memo index 4294967295 exceeds the cap of 1048576");

	lim = pkl_default_limits;
	lim.max_nodes = 3;
	CHECK_INT(PARSE_LIM("\x80\x02K\x01K\x01K\x01" "00.", &lim), 0);
	CHECK_INT(PARSE_LIM("\x80\x02K\x01K\x01K\x01K\x01" "000.", &lim), -1);
	CHECK_CONTAINS(err, "pickle builds more than 3 values");

	lim = pkl_default_limits;
	lim.max_string = 4;
	CHECK_INT(PARSE_LIM("\x80\x02X\x04\x00\x00\x00" "abcd.", &lim), 0);
	CHECK_INT(PARSE_LIM("\x80\x02X\x05\x00\x00\x00" "abcde.", &lim), -1);
	CHECK_CONTAINS(err, "string of 5 bytes exceeds the cap of 4");
	CHECK_INT(PARSE("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff."), -1);
	CHECK_CONTAINS(err, "exceeds the cap of 16777216");

	lim = pkl_default_limits;
	lim.max_bytes = 100000;
	CHECK_INT(PARSE_LIM("\x80\x02X\x00\x00\x02\x00", &lim), -1);
	CHECK_CONTAINS(err, "truncated");
	{
		static char s[200000];
		memcpy(s, "\x80\x02X\xa0\x86\x01\x00", 7);   /* 100000 bytes */
		memset(s + 7, 'a', 100000);
		s[100007] = '.';
		CHECK_INT(parse_lim(s, 100008, &lim), -1);
		CHECK_CONTAINS(err, "pickle needs more than 100000 bytes of memory");
		CHECK_INT(parse_lim(s, 100008, &pkl_default_limits), 0);
	}

	lim = pkl_default_limits;
	lim.max_depth = 3;
	CHECK_INT(PARSE_LIM("\x80\x02K\x01\x85\x85\x85.", &lim), 0);
	CHECK_INT(PARSE_LIM("\x80\x02K\x01\x85\x85\x85\x85.", &lim), -1);
	CHECK_CONTAINS(err, "values nested deeper than 3");
	/* depth grows when a nested value is appended later, too */
	CHECK_INT(PARSE_LIM("\x80\x02]K\x01\x85\x85\x85" "a.", &lim), -1);
	CHECK_CONTAINS(err, "nested deeper");

	/* GLOBAL names are bounded */
	n = 0;
	memcpy(big, "\x80\x02" "c", 3);
	n = 3;
	memset(big + n, 'a', PKL_MAX_NAME + 5);
	n += PKL_MAX_NAME + 5;
	big[n++] = '\n';
	CHECK_INT(parse_lim(big, n, &pkl_default_limits), -1);
	CHECK_CONTAINS(err, "GLOBAL name longer than 256 bytes");
}

/* A self-referencing list is fine for the machine; walkers bound depth. */
static void test_cycle(void)
{
	CHECK_INT(PARSE("\x80\x02]q\x00h\x00" "a."), 0);
	CHECK(R()->u.seq.v[0] == R());
}

/* ---- damaged input --------------------------------------------------- */

static const char realistic[] =
	"\x80\x02" "ccollections\nOrderedDict\nq\x00)Rq\x01("
	"X\x08\x00\x00\x00" "0.weightq\x02" "ctorch._utils\n_rebuild_tensor_v2\nq\x03("
	"(X\x07\x00\x00\x00storageq\x04" "ctorch\nFloatStorage\nq\x05"
	"X\x01\x00\x00\x00" "0q\x06X\x03\x00\x00\x00" "cpuq\x07K\x06tq\x08Q"
	"K\x00K\x02K\x03\x86q\x09K\x03K\x01\x86q\x0a\x89h\x00)Rq\x0btq\x0cRq\x0d"
	"X\x06\x00\x00\x00" "0.biash\x03((h\x04h\x05X\x01\x00\x00\x00" "1h\x07K\x02tQ"
	"K\x00K\x02\x85K\x01\x85\x89h\x00)RtRu}X\x09\x00\x00\x00_metadatah\x00)Rsb.";

static void test_truncations(void)
{
	size_t n;
	int ok = 0;

	CHECK_INT(PARSE(realistic), 0);
	CHECK_INT(R()->u.dict.n, 4);
	for (n = 0; n < sizeof realistic - 1; n++)
		if (parse_lim(realistic, n, &pkl_default_limits) == 0)
			ok++;
	CHECK_INT(ok, 0);
}

static void test_mutations(void)
{
	static const unsigned char vals[] = { 0x00, 0xff, 0x80, 0x28, 0x2e,
					      0x71, 0x68, 0x52, 0x81, 0x62 };
	char m[sizeof realistic];
	size_t i, k;

	for (i = 0; i < sizeof realistic - 1; i++) {
		for (k = 0; k < sizeof vals; k++) {
			memcpy(m, realistic, sizeof m);
			m[i] = (char)vals[k];
			parse_lim(m, sizeof m - 1, &pkl_default_limits);
		}
	}
	CHECK(1);   /* surviving is the test, under ASan/UBSan */
}

int main(void)
{
	RUN(test_ints);
	RUN(test_float_bool_none);
	RUN(test_strings);
	RUN(test_tuples);
	RUN(test_lists);
	RUN(test_dicts);
	RUN(test_sets);
	RUN(test_stack_ops);
	RUN(test_memo_by_reference);
	RUN(test_shared_object);
	RUN(test_ordered_dict_and_build);
	RUN(test_rebuild_tensor_call);
	RUN(test_protocol4_stack_global);
	RUN(test_user_class_object);
	RUN(test_cloudpickle_by_value);
	RUN(test_refuse_dangerous_globals);
	RUN(test_refuse_calls);
	RUN(test_refuse_opcodes);
	RUN(test_misuse);
	RUN(test_caps);
	RUN(test_cycle);
	RUN(test_truncations);
	RUN(test_mutations);
	pkl_free(&doc);
	return unit_done();
}
