/*
 * pickle_globals.c - the allow-list of Python globals, one row each.
 *
 * A pickle names every callable and class it uses as GLOBAL module.name.
 * The machine (pickle.c) looks the pair up in `rules` below, the first row
 * that matches deciding, and keeps what it becomes on the GLOBAL node.
 * Nothing is ever called: a REDUCE of an allowed callable is recorded with
 * its arguments (pickle_objects.c), and pth.c reads those.  What a row makes
 * of a global:
 *
 *   PKL_G_REBUILD_*          a tensor or parameter rebuilder: the call is
 *                            recorded; pth.c reads its arguments (storage,
 *                            offset, size, stride)
 *   PKL_G_ORDERED_DICT,      the container itself (a set holding REDUCE's
 *   _DEFAULT_DICT, _SET,     list), which SETITEM(S) and ADDITEMS fill
 *   _FROZENSET
 *   PKL_G_STORAGE, _DTYPE    an argument of a rebuilder; never called
 *   PKL_G_INERT              a data constructor: the call is recorded; NEWOBJ
 *                            of it makes an inert object
 *   PKL_G_GETATTR            recorded; its result may not be called
 *   PKL_G_CP_*               cloudpickle's helpers that rebuild a class saved
 *                            by value (an MLflow model's own nn.Module):
 *                            recorded; _builtin_type's result may be called
 *                            (a code object, itself only recorded), and
 *                            _make_skeleton_class's instantiated by NEWOBJ
 *   PKL_G_REFUSED            the whole pickle is refused, in one line naming
 *                            the global and the row's reason
 *
 * A module.name no row matches is a class (PKL_G_CLASS): NEWOBJ may make an
 * inert object of it, whose BUILD state is kept; REDUCE of it is refused.
 * docs/pth-format.md 3.4 lists the globals torch.save writes.
 */
#include "tools/pickle_globals.h"

#include <stddef.h>
#include <string.h>

#define ALLOW(module, name, what) { module, name, what, NULL }
#define REFUSE(module, name, why) { module, name, PKL_G_REFUSED, why }
/* A module any name of which could run commands or code, or touch files:
 * refused with all the modules under it. */
#define DENY(module) REFUSE(module ".*", "*", "module " module " can run commands or code")

#define ONLY_DATA "only data types may be used from builtins"
#define FILES_OR_CODE "it reads or writes files or runs code"

/* Modules known under another name: looked up as the usual one. */
static const struct {
	const char *alias, *module;
} aliases[] = {
	{ "__builtin__", "builtins" },                            /* Python 2 */
	{ "cloudpickle.cloudpickle", "cloudpickle" },
	{ "cloudpickle.cloudpickle_fast", "cloudpickle" },
	{ "numpy._core.multiarray", "numpy.core.multiarray" },    /* numpy 2 */
};

static const struct pkl_global_rule rules[] = {
	/* builtins: data types, set and frozenset, and getattr (its result is never called); nothing else */
	ALLOW("builtins",              "set",                           PKL_G_SET),
	ALLOW("builtins",              "frozenset",                     PKL_G_FROZENSET),
	ALLOW("builtins",              "getattr",                       PKL_G_GETATTR),
	ALLOW("builtins",              "type",                          PKL_G_INERT),
	ALLOW("builtins",              "bytes",                         PKL_G_INERT),
	ALLOW("builtins",              "bytearray",                     PKL_G_INERT),
	ALLOW("builtins",              "object",                        PKL_G_INERT),
	ALLOW("builtins",              "list",                          PKL_G_INERT),
	ALLOW("builtins",              "dict",                          PKL_G_INERT),
	ALLOW("builtins",              "tuple",                         PKL_G_INERT),
	ALLOW("builtins",              "int",                           PKL_G_INERT),
	ALLOW("builtins",              "float",                         PKL_G_INERT),
	ALLOW("builtins",              "complex",                       PKL_G_INERT),
	ALLOW("builtins",              "str",                           PKL_G_INERT),
	ALLOW("builtins",              "bool",                          PKL_G_INERT),
	ALLOW("builtins",              "slice",                         PKL_G_INERT),
	ALLOW("builtins",              "range",                         PKL_G_INERT),
	ALLOW("builtins",              "classmethod",                   PKL_G_INERT),
	ALLOW("builtins",              "staticmethod",                  PKL_G_INERT),
	ALLOW("builtins",              "property",                      PKL_G_INERT),
	REFUSE("builtins",             "*",                             ONLY_DATA),
	/* modules any name of which could run commands or code, or touch files */
	DENY("os"),
	DENY("posix"),
	DENY("nt"),
	DENY("posixpath"),
	DENY("ntpath"),
	DENY("subprocess"),
	DENY("sys"),
	DENY("shutil"),
	DENY("socket"),
	DENY("importlib"),
	DENY("imp"),
	DENY("runpy"),
	DENY("pty"),
	DENY("ctypes"),
	DENY("cffi"),
	DENY("pickle"),
	DENY("_pickle"),
	DENY("pickletools"),
	DENY("marshal"),
	DENY("shelve"),
	DENY("dill"),
	DENY("joblib"),
	DENY("code"),
	DENY("codeop"),
	DENY("commands"),
	DENY("popen2"),
	DENY("multiprocessing"),
	DENY("concurrent"),
	DENY("threading"),
	DENY("_thread"),
	DENY("signal"),
	DENY("webbrowser"),
	DENY("platform"),
	DENY("asyncio"),
	DENY("ssl"),
	DENY("http"),
	DENY("urllib"),
	DENY("urllib2"),
	DENY("ftplib"),
	DENY("smtplib"),
	DENY("telnetlib"),
	DENY("xmlrpc"),
	DENY("io"),
	DENY("_io"),
	DENY("tempfile"),
	DENY("glob"),
	DENY("fileinput"),
	DENY("operator"),
	DENY("_operator"),
	DENY("functools"),
	DENY("inspect"),
	DENY("pydoc"),
	DENY("timeit"),
	DENY("pdb"),
	DENY("bdb"),
	DENY("trace"),
	DENY("profile"),
	DENY("cProfile"),
	DENY("gc"),
	DENY("site"),
	DENY("sysconfig"),
	DENY("zipimport"),
	DENY("pkgutil"),
	DENY("distutils"),
	DENY("setuptools"),
	DENY("pip"),
	DENY("types"),
	DENY("ensurepip"),
	DENY("venv"),
	DENY("torch.serialization"),
	DENY("torch.hub"),
	DENY("torch.utils.cpp_extension"),
	DENY("torch._ops"),
	DENY("torch.ops"),
	DENY("torch.jit"),
	DENY("torch._dynamo"),
	DENY("torch.multiprocessing"),
	DENY("torch.distributed"),
	DENY("torch.package"),
	DENY("torch._C"),
	DENY("torch.compiler"),
	DENY("numpy.testing"),
	DENY("numpy.f2py"),
	DENY("numpy.distutils"),
	/* containers */
	ALLOW("collections",           "OrderedDict",                   PKL_G_ORDERED_DICT),
	ALLOW("collections",           "defaultdict",                   PKL_G_DEFAULT_DICT),
	/* tensors and parameters: rebuilt by pth.c from their arguments */
	ALLOW("torch._utils",          "_rebuild_tensor_v2",            PKL_G_REBUILD_TENSOR_V2),
	ALLOW("torch._utils",          "_rebuild_parameter",            PKL_G_REBUILD_PARAMETER),
	ALLOW("torch._utils",          "_rebuild_parameter_with_state", PKL_G_REBUILD_PARAMETER_WITH_STATE),
	/* v3, qtensor, sparse...: pth.c refuses them by name */
	ALLOW("torch._utils",          "_rebuild_*",                    PKL_G_REBUILD_OTHER),
	ALLOW("torch._tensor",         "_rebuild_from_type_v2",         PKL_G_REBUILD_FROM_TYPE_V2),
	/* torch: storage types and dtypes (arguments of the rebuilders), data constructors */
	/* FloatStorage...: pth.c reads the float ones */
	ALLOW("torch",                 "*Storage",                      PKL_G_STORAGE),
	ALLOW("torch",                 "float32",                       PKL_G_DTYPE),
	ALLOW("torch",                 "float",                         PKL_G_DTYPE),
	ALLOW("torch",                 "float64",                       PKL_G_DTYPE),
	ALLOW("torch",                 "double",                        PKL_G_DTYPE),
	ALLOW("torch",                 "float16",                       PKL_G_DTYPE),
	ALLOW("torch",                 "half",                          PKL_G_DTYPE),
	ALLOW("torch",                 "bfloat16",                      PKL_G_DTYPE),
	ALLOW("torch",                 "uint8",                         PKL_G_DTYPE),
	ALLOW("torch",                 "int8",                          PKL_G_DTYPE),
	ALLOW("torch",                 "int16",                         PKL_G_DTYPE),
	ALLOW("torch",                 "short",                         PKL_G_DTYPE),
	ALLOW("torch",                 "int32",                         PKL_G_DTYPE),
	ALLOW("torch",                 "int",                           PKL_G_DTYPE),
	ALLOW("torch",                 "int64",                         PKL_G_DTYPE),
	ALLOW("torch",                 "long",                          PKL_G_DTYPE),
	ALLOW("torch",                 "bool",                          PKL_G_DTYPE),
	ALLOW("torch",                 "uint16",                        PKL_G_DTYPE),
	ALLOW("torch",                 "uint32",                        PKL_G_DTYPE),
	ALLOW("torch",                 "uint64",                        PKL_G_DTYPE),
	ALLOW("torch",                 "complex32",                     PKL_G_DTYPE),
	ALLOW("torch",                 "complex64",                     PKL_G_DTYPE),
	ALLOW("torch",                 "complex128",                    PKL_G_DTYPE),
	ALLOW("torch",                 "cfloat",                        PKL_G_DTYPE),
	ALLOW("torch",                 "cdouble",                       PKL_G_DTYPE),
	ALLOW("torch",                 "float8_e4m3fn",                 PKL_G_DTYPE),
	ALLOW("torch",                 "float8_e5m2",                   PKL_G_DTYPE),
	ALLOW("torch",                 "float8_e4m3fnuz",               PKL_G_DTYPE),
	ALLOW("torch",                 "float8_e5m2fnuz",               PKL_G_DTYPE),
	ALLOW("torch",                 "qint8",                         PKL_G_DTYPE),
	ALLOW("torch",                 "quint8",                        PKL_G_DTYPE),
	ALLOW("torch",                 "qint32",                        PKL_G_DTYPE),
	ALLOW("torch",                 "quint4x2",                      PKL_G_DTYPE),
	ALLOW("torch",                 "quint2x4",                      PKL_G_DTYPE),
	ALLOW("torch",                 "Size",                          PKL_G_INERT),
	ALLOW("torch",                 "device",                        PKL_G_INERT),
	ALLOW("torch",                 "dtype",                         PKL_G_INERT),
	REFUSE("torch",                "load",                          FILES_OR_CODE),
	REFUSE("torch",                "save",                          FILES_OR_CODE),
	REFUSE("torch",                "compile",                       FILES_OR_CODE),
	/* how protocol 2 pickles bytes */
	ALLOW("_codecs",               "encode",                        PKL_G_INERT),
	/* cloudpickle: a class saved by value (an MLflow model's own nn.Module) */
	ALLOW("cloudpickle",           "_builtin_type",                 PKL_G_CP_BUILTIN_TYPE),
	ALLOW("cloudpickle",           "_make_skeleton_class",          PKL_G_CP_SKELETON),
	ALLOW("cloudpickle",           "_make_skeleton_enum",           PKL_G_CP_SKELETON),
	ALLOW("cloudpickle",           "_class_setstate",               PKL_G_CP_CLASS_SETSTATE),
	ALLOW("cloudpickle",           "_enum_setstate",                PKL_G_CP_CLASS_SETSTATE),
	ALLOW("cloudpickle",           "_make_function",                PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_function_setstate",            PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_make_cell",                    PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_make_empty_cell",              PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_cell_set",                     PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "subimport",                     PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "dynamic_subimport",             PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_make_dict_keys",               PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_make_dict_values",             PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_make_dict_items",              PKL_G_CP_INERT),
	ALLOW("cloudpickle",           "_make_typevar",                 PKL_G_CP_INERT),
	/* numpy: arrays and scalars as data */
	ALLOW("numpy.core.multiarray", "_reconstruct",                  PKL_G_INERT),
	ALLOW("numpy.core.multiarray", "scalar",                        PKL_G_INERT),
	ALLOW("numpy",                 "dtype",                         PKL_G_INERT),
};

/* "root.*" is root and every module under it ("os" and "os.path");
 * anything else is one module. */
static int module_matches(const char *pattern, const char *mod)
{
	size_t n = strlen(pattern);

	if (n > 2 && strcmp(pattern + n - 2, ".*") == 0)
		return strncmp(mod, pattern, n - 2) == 0 && (mod[n - 2] == '\0' || mod[n - 2] == '.');
	return strcmp(mod, pattern) == 0;
}

/* "*", "*suffix", "prefix*" or one name. */
static int name_matches(const char *pattern, const char *name)
{
	size_t n = strlen(pattern), len = strlen(name);

	if (pattern[0] == '*')
		return len >= n - 1 && strcmp(name + len - (n - 1), pattern + 1) == 0;
	if (pattern[n - 1] == '*')
		return strncmp(name, pattern, n - 1) == 0;
	return strcmp(name, pattern) == 0;
}

const struct pkl_global_rule *pkl_global_rule(const char *module, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(module, aliases[i].alias) == 0)
			module = aliases[i].module;
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (module_matches(rules[i].module, module) && name_matches(rules[i].name, name))
			return &rules[i];
	return NULL;
}
