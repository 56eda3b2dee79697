/* test_mlmodel.c - tools/mlmodel.c on MLmodel files as MLflow writes them. */
#include "tests/unit/unit.h"
#include "tools/mlmodel.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[] = "/tmp/sp-test-mlmodel-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	/* create parent folders */
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static int load(const char *rel, struct mlmodel *m, char *err, size_t len)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	return mlmodel_load(p, m, err, len);
}

/* Exactly as PyYAML folds a long single-quoted scalar. */
static const char mlmodel_v2[] =
	"artifact_path: model\n"
	"flavors:\n"
	"  python_function:\n"
	"    code: null\n"
	"    data: data\n"
	"    env:\n"
	"      conda: conda.yaml\n"
	"      virtualenv: python_env.yaml\n"
	"    loader_module: mlflow.pytorch\n"
	"    pickle_module_name: mlflow.pytorch.pickle_module\n"
	"    python_version: 3.11.2\n"
	"  pytorch:\n"
	"    code: null\n"
	"    model_data: data\n"
	"    pytorch_version: 2.1.0\n"
	"mlflow_version: 2.9.2\n"
	"signature:\n"
	"  inputs: '[{\"type\": \"double\", \"name\": \"x0\", \"required\": true}, {\"type\": \"double\",\n"
	"    \"name\": \"it''s \\u00e9\", \"required\": true}, {\"type\": \"long\", \"name\": \"x2\"}]'\n"
	"  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1,\n"
	"    4]}}]'\n"
	"  params: null\n"
	"some_future_key: {a: 1}\n"
	"utc_time_created: '2024-01-01 00:00:00.000000'\n";

static void test_pytorch_flavor_with_folded_signature(void)
{
	struct mlmodel m;
	char err[512];
	put("v2/MLmodel", mlmodel_v2);
	put("v2/data/model.pth", "PK");
	CHECKF(load("v2", &m, err, sizeof err) == 0, "%s", err);
	CHECK_INT(m.ncolumns, 3);
	if (m.ncolumns == 3) {
		CHECK_STR(m.columns[0], "x0");
		CHECK_STR(m.columns[1], "it's \xc3\xa9");
		CHECK_STR(m.columns[2], "x2");
	}
	CHECK_INT(m.output_width, 4);
	CHECK_INT(m.pyfunc_wrapper, 0);
	CHECK(strstr(m.model_path, "v2/data/model.pth") != NULL);
	mlmodel_free(&m);
}

static void test_mlflow1_without_signature(void)
{
	struct mlmodel m;
	char err[512];
	put("v1/MLmodel",
	    "flavors:\n  python_function:\n    env: conda.yaml\n    loader_module: mlflow.pytorch\n"
	    "  pytorch:\n    model_data: data/model.pth\n    pytorch_version: 1.11.0\n");
	put("v1/data/model.pth", "PK");
	CHECKF(load("v1", &m, err, sizeof err) == 0, "%s", err);
	CHECK(m.columns == NULL && m.output_width == 0);
	CHECK(strstr(m.model_path, "v1/data/model.pth") != NULL);
	mlmodel_free(&m);
}

static void test_pyfunc_wrapper(void)
{
	struct mlmodel m;
	char err[512];
	put("pf/MLmodel",
	    "flavors:\n  python_function:\n    artifacts:\n      pytorch_model:\n"
	    "        path: artifacts/pytorch_model\n        uri: /somewhere/pytorch_model\n"
	    "    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n"
	    "signature:\n  inputs: '[{\"type\": \"double\", \"name\": \"a\"}, {\"type\": \"double\", \"name\": \"b\"}]'\n"
	    "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int32\", \"shape\": [-1, 1]}}]'\n");
	put("pf/artifacts/pytorch_model/MLmodel",
	    "flavors:\n  pytorch:\n    model_data: data\n"
	    "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 2]}}]'\n"
	    "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", \"shape\": [-1, 10]}}]'\n");
	put("pf/artifacts/pytorch_model/data/model.pth", "PK");
	CHECKF(load("pf", &m, err, sizeof err) == 0, "%s", err);
	CHECK_INT(m.pyfunc_wrapper, 1);
	CHECK_INT(m.ncolumns, 2);
	CHECK_INT(m.output_width, 10);   /* the inner model's, not the wrapper's (-1, 1) */
	CHECK(strstr(m.model_path, "pf/artifacts/pytorch_model/data/model.pth") != NULL);
	mlmodel_free(&m);

	/* A wrapper whose artifact is a .pth file */
	put("pf2/MLmodel", "flavors:\n  python_function:\n    artifacts:\n      m:\n        path: artifacts/net.pt\n");
	put("pf2/artifacts/net.pt", "PK");
	CHECKF(load("pf2", &m, err, sizeof err) == 0, "%s", err);
	CHECK(strstr(m.model_path, "pf2/artifacts/net.pt") != NULL);
	mlmodel_free(&m);
}

static void check_error(const char *rel, const char *fragment)
{
	struct mlmodel m;
	char err[512] = "";
	CHECKF(load(rel, &m, err, sizeof err) < 0, "%s accepted", rel);
	CHECK_CONTAINS(err, fragment);
}

static void test_errors(void)
{
	put("pt2/MLmodel", "flavors:\n  pytorch:\n    model_data: data\n");
	put("pt2/data/model.pt2", "x");
	check_error("pt2", "torch.export");
	put("nodata/MLmodel", "flavors:\n  pytorch:\n    model_data: data\n");
	check_error("nodata", "does not exist");
	put("escape/MLmodel", "flavors:\n  pytorch:\n    model_data: ../../etc\n");
	check_error("escape", "leaves the model directory");
	put("yaml/MLmodel", "flavors:\n  pytorch:\n    model_data: data\n   bad: [\n");
	check_error("yaml", "MLmodel:");
	check_error("yaml", "YAML error");
	put("strcol/MLmodel", "flavors:\n  pytorch:\n    model_data: data\n"
	    "signature:\n  inputs: '[{\"type\": \"string\", \"name\": \"text\"}]'\n");
	put("strcol/data/model.pth", "PK");
	check_error("strcol", "column text has type string");
	put("sigjson/MLmodel", "flavors:\n  pytorch:\n    model_data: data\nsignature:\n  inputs: '{nope'\n");
	put("sigjson/data/model.pth", "PK");
	check_error("sigjson", "signature.inputs: not a JSON array");
	put("noflavor/MLmodel", "artifact_path: model\n");
	check_error("noflavor", "no flavors");
	put("sklearn/MLmodel", "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n  sklearn:\n    pickled_model: model.pkl\n");
	check_error("sklearn", "not a PyTorch model");
	check_error("missing-dir", "MLmodel");
	CHECK(!mlmodel_is_dir(root));
}

static void test_fixture_model(void)
{
	struct mlmodel m;
	char err[512];
	if (access("fixtures/model/MLmodel", R_OK) != 0) {
		CHECKF(0, "fixtures/model/MLmodel is missing");
		return;
	}
	CHECK(mlmodel_is_dir("fixtures/model"));
	CHECKF(mlmodel_load("fixtures/model", &m, err, sizeof err) == 0, "%s", err);
	CHECK_INT(m.ncolumns, 784);
	if (m.ncolumns == 784) {
		CHECK_STR(m.columns[0], "col_0");
		CHECK_STR(m.columns[783], "col_783");
	}
	CHECK_INT(m.output_width, 10);
	CHECK_STR(m.model_path, "fixtures/model/data/model.pth");
	mlmodel_free(&m);
	CHECKF(mlmodel_load("fixtures/pyfunc_model", &m, err, sizeof err) == 0, "%s", err);
	CHECK_INT(m.pyfunc_wrapper, 1);
	CHECK_INT(m.ncolumns, 784);
	CHECK_INT(m.output_width, 10);
	mlmodel_free(&m);
}

/* The tutorial's endpoint 2: its labels come from the wrapper's own code,
 * read, not run. */
static void test_fixture_wrapper_labels(void)
{
	static const char *const want[] = { "T-Shirt", "Trouser", "Pullover", "Dress", "Coat",
					    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle Boot" };
	struct mlmodel m;
	char err[512];

	CHECKF(mlmodel_load("fixtures/pyfunc_model", &m, err, sizeof err) == 0, "%s", err);
	CHECKF(m.nlabels == 10, "%u labels: %s", m.nlabels, m.labels_note);
	for (uint32_t i = 0; i < m.nlabels && i < 10; i++)
		CHECK_STR(m.labels[i], want[i]);
	CHECK_STR(m.labels_from, "fixtures/pyfunc_model/code/model_wrapper.py:11");
	CHECK_STR(m.labels_note, "");
	mlmodel_free(&m);
	CHECK(m.labels == NULL && m.nlabels == 0);
	/* a plain pytorch model has none, and nothing to say about it */
	CHECKF(mlmodel_load("fixtures/model", &m, err, sizeof err) == 0, "%s", err);
	CHECK(m.labels == NULL && m.nlabels == 0 && !m.labels_note[0]);
	mlmodel_free(&m);
}

/* A wrapper folder wr/NAME whose code folder holds the given .py files
 * (name, text pairs, NULL-terminated); loads it into m. */
static int wrapper(const char *name, const char *code, const char *const *files, struct mlmodel *m)
{
	char rel[256], err[512];
	snprintf(rel, sizeof rel, "wr/%s/MLmodel", name);
	char mlmodel[256];
	snprintf(mlmodel, sizeof mlmodel, "flavors:\n  python_function:\n    artifacts:\n      m:\n"
		 "        path: artifacts/net.pt\n%s%s%s", code ? "    code: " : "", code ? code : "",
		 code ? "\n" : "");
	put(rel, mlmodel);
	snprintf(rel, sizeof rel, "wr/%s/artifacts/net.pt", name);
	put(rel, "PK");
	for (size_t i = 0; files[i]; i += 2) {
		snprintf(rel, sizeof rel, "wr/%s/%s/%s", name, code ? code : "code", files[i]);
		put(rel, files[i + 1]);
	}
	snprintf(rel, sizeof rel, "wr/%s", name);
	int rc = load(rel, m, err, sizeof err);
	CHECKF(rc == 0, "%s", err);
	return rc;
}

#define PREDICT(name) "class W:\n    def predict(self, context, x):\n        return [" name "[i] for i in x]\n"

static void test_wrapper_labels(void)
{
	struct mlmodel m;

	/* a list, in a file of its own, used by the wrapper's predict() */
	if (wrapper("list", "code", (const char *const[]){ "labels.py", "# names\nclasses = ['cat', \"dog\"]\n",
		    "wrap.py", "from labels import classes\n" "class W:\n    def predict(self, c, x):\n"
		    "        # one label per row\n\n        return [classes[int(i)] for i in x]\n", NULL }, &m) == 0) {
		CHECKF(m.nlabels == 2, "%s", m.labels_note);
		if (m.nlabels == 2) {
			CHECK_STR(m.labels[0], "cat");
			CHECK_STR(m.labels[1], "dog");
		}
		CHECK_CONTAINS(m.labels_from, "wr/list/code/labels.py:2");
		mlmodel_free(&m);
	}
	/* a subfolder of the code folder, and an annotated assignment */
	if (wrapper("sub", "src", (const char *const[]){ "pkg/w.py",
		    "LABELS: list[str] = ['a', 'b']\n"
		    "class W:\n    def predict(self, c, x):\n        return LABELS[0]\n",
		    NULL }, &m) == 0) {
		CHECKF(m.nlabels == 2, "%s", m.labels_note);
		mlmodel_free(&m);
	}
}

/* What is not certainly the label map is not taken: nlabels 0 and a note. */
static void test_wrapper_labels_not_taken(void)
{
	static const struct {
		const char *name, *py, *note;
	} cases[] = {
		{ "unused", "labels_map = {0: 'a'}\ndef predict(x):\n    return x\n", "no label map in" },
		{ "notpredict", "labels_map = {0: 'a'}\ndef other(x):\n    return labels_map[x]\n"
				"def predict(x):\n    return x\n", "no label map in" },
		{ "after", "labels = ['a']\ndef predict(x):\n    return x\nprint(labels[0])\n", "no label map in" },
		{ "attr", "labels = ['a']\ndef predict(self, x):\n    return self.labels[x]\n", "no label map in" },
		{ "indented", "class W:\n    labels = ['a']\n    def predict(self, x):\n        return labels[x]\n",
		  "no label map in" },
		{ "othername", "names = ['a']\ndef predict(x):\n    return names[x]\n", "no label map in" },
		{ "two", "labels = ['a']\nclasses = ['b']\ndef predict(x):\n    return labels[x] + classes[x]\n",
		  "more than one label map: labels at" },
		{ "twice", "labels = ['a']\nlabels = ['b']\ndef predict(x):\n    return labels[x]\n",
		  "more than one label map" },
		{ "call", "labels_map = {0: 'a', 1: str(2)}\ndef predict(x):\n    return labels_map[x]\n",
		  "code/w.py:1: labels_map[1]: a function call" },
		{ "gap", "labels_map = {0: 'a', 2: 'c'}\n" PREDICT("labels_map"), "no key 1" },
	};
	struct mlmodel m;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (wrapper(cases[i].name, "code", (const char *const[]){ "w.py", cases[i].py, NULL }, &m) != 0)
			continue;
		CHECKF(m.nlabels == 0 && m.labels == NULL, "%s: %u labels", cases[i].name, m.nlabels);
		CHECKF(strstr(m.labels_note, cases[i].note) != NULL, "%s: \"%s\"", cases[i].name, m.labels_note);
		mlmodel_free(&m);
	}
	/* no code folder in the MLmodel */
	static const char *const nocode[] = { "w.py", "labels = ['a']\n" PREDICT("labels"), NULL };
	if (wrapper("nocode", NULL, nocode, &m) == 0) {
		CHECK(m.nlabels == 0);
		CHECK_CONTAINS(m.labels_note, "names no python_function code folder");
		mlmodel_free(&m);
	}
}

/* mlmodel_load_mem reads the same model from the MLmodel's text, and
 * names the file in its messages. */
static void test_load_mem(void)
{
	struct mlmodel m;
	char err[512];
	size_t n;
	char *text = unit_slurp("fixtures/model/MLmodel", &n);

	CHECK(text != NULL);
	if (!text)
		return;
	CHECKF(mlmodel_load_mem("fixtures/model", text, n, &m, err, sizeof err) == 0, "%s", err);
	CHECK_INT(m.ncolumns, 784);
	CHECK_INT(m.output_width, 10);
	CHECK_STR(m.model_path, "fixtures/model/data/model.pth");
	mlmodel_free(&m);
	CHECK(mlmodel_load_mem("fixtures/model", "flavors: [1\n", 12, &m, err, sizeof err) == -1);
	CHECK_CONTAINS(err, "fixtures/model/MLmodel:");
	CHECK_CONTAINS(err, "YAML error");
	free(text);
}

/* A signature that jsmn tokenizes but is not JSON is refused (found by
 * tests/fuzz/fuzz_mlmodel.c: {"type":} made the walk read past the
 * tokens). */
static void test_signature_not_json(void)
{
	static const char *sigs[] = {
		"[{\"type\": \"double\", \"name\": \"a\"}, {\"type\":}]",
		"[{\"type\": \"double\", \"name\"}]",
		"[{\"type\": \"double\" \"name\": \"a\"}]",
		"[{\"type\": \"tensor\", \"tensor-spec\": {\"shape\": [-1, 3,]}}]",
	};
	char text[512], err[512];
	struct mlmodel m;

	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		int n = snprintf(text, sizeof text, "flavors:\n  pytorch:\n    model_data: data\nsignature:\n  inputs: '%s'\n",
				 sigs[i]);
		CHECKF(mlmodel_load_mem("fixtures/model", text, (size_t)n, &m, err, sizeof err) == -1, "%s", sigs[i]);
		CHECK_CONTAINS(err, "signature.inputs: not a JSON array");
	}
}

int main(void)
{
	if (!mkdtemp(root))
		return 2;
	RUN(test_pytorch_flavor_with_folded_signature);
	RUN(test_mlflow1_without_signature);
	RUN(test_pyfunc_wrapper);
	RUN(test_errors);
	RUN(test_fixture_model);
	RUN(test_fixture_wrapper_labels);
	RUN(test_wrapper_labels);
	RUN(test_wrapper_labels_not_taken);
	RUN(test_load_mem);
	RUN(test_signature_not_json);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
