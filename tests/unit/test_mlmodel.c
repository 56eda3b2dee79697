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
	RUN(test_load_mem);
	RUN(test_signature_not_json);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
