/*
 * test_verify.c - tools/verify.c: the blob's ops against torch on the
 * fixtures, a damaged model caught, no torch, a hung python.
 *
 * The tests that need torch run when /usr/bin/python3 imports it and are
 * otherwise reported as "ok - NAME # SKIP verify: no torch".
 */
#include "tools/verify.h"
#include "tools/mlmodel.h"
#include "tools/pth.h"
#include "unit.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZOO_ARCH "linear,leaky_relu:0.2,linear,elu:0.7,linear,sigmoid,linear," \
		 "gelu_tanh,linear,gelu,linear,tanh,relu,softmax,linear,log_softmax"

static int have_torch;
static char tmpdir[40];   /* $TMPDIR for every run: must be empty after each */
static char bindir[40];   /* the fake pythons */

#define RUN_TORCH(fn)                                                           \
	do {                                                                    \
		if (have_torch) {                                               \
			RUN(fn);                                                \
		} else {                                                        \
			unit_passed++;                                          \
			printf("ok - %s # SKIP verify: no torch\n", #fn);       \
		}                                                               \
	} while (0)

/* A model as convert.c hands it to verify_model(). */
struct conv {
	struct mlmodel ml;
	struct pth_model pm;
	struct blob_model bm;
	struct verify_source src;
	const char *code[3];
};

static int load_opts(struct conv *c, const char *input, const struct pth_opts *po, const char *code0,
		     const char *code1)
{
	char err[512];
	const char *pth = input;

	memset(c, 0, sizeof *c);
	if (mlmodel_is_dir(input)) {
		if (mlmodel_load(input, &c->ml, err, sizeof err) < 0) {
			printf("#   %s\n", err);
			return -1;
		}
		pth = c->ml.model_path;
	}
	if (pth_load_opts(pth, po, &c->pm, err, sizeof err) < 0) {
		printf("#   %s\n", err);
		mlmodel_free(&c->ml);
		return -1;
	}
	c->bm.nops = c->pm.nops;
	for (uint32_t i = 0; i < c->pm.nops; i++) {
		const struct pth_op *p = &c->pm.ops[i];
		c->bm.ops[i] = (struct blob_op){ .kind = p->kind, .in = p->in, .out = p->out, .param = p->param,
						 .weight = p->weight, .bias = p->bias, .g = p->g };
	}
	c->bm.input_width = c->pm.ops[0].in;
	c->bm.output_width = c->pm.ops[c->pm.nops - 1].out;
	memcpy(c->bm.input_shape, c->pm.input_shape, sizeof c->bm.input_shape);
	c->bm.ncolumns = c->ml.ncolumns;
	c->bm.columns = (const char **)c->ml.columns;
	c->code[0] = code0;
	c->code[1] = code1;
	c->src = (struct verify_source){ input, pth, NULL, c->code };
	return 0;
}

static int load(struct conv *c, const char *input, const char *arch, const char *code0, const char *code1)
{
	struct pth_opts po = { .arch = arch };

	return load_opts(c, input, &po, code0, code1);
}

static void unload(struct conv *c)
{
	pth_free(&c->pm);
	mlmodel_free(&c->ml);
}

/* verify_model() leaves nothing in $TMPDIR. */
static int tmp_empty(void)
{
	return rmdir(tmpdir) == 0 && mkdir(tmpdir, 0700) == 0;
}

/* verify_model() on c; the return value, with err and out. */
static int verify(struct conv *c, const struct verify_opts *o, struct blob_verify *out, char *err, size_t errlen)
{
	char report[1024];
	struct verify_opts none = { NULL, NULL };
	int rc = verify_model(&c->src, &c->pm, &c->bm, o ? o : &none, out, report, sizeof report, err, errlen);

	printf("#   %s: %s\n", c->src.input, rc == 0 ? report : err);
	CHECKF(tmp_empty(), "%s is not empty after the run", tmpdir);
	return rc;
}

static void expect_pass_opts(const char *input, const struct pth_opts *po, const char *code0, const char *code1,
			     const char *inputs, uint32_t rows)
{
	struct conv c;
	struct blob_verify v;
	struct verify_opts o = { NULL, inputs };
	char err[1024] = "";

	if (load_opts(&c, input, po, code0, code1) < 0) {
		CHECKF(0, "%s did not load", input);
		return;
	}
	CHECKF(verify(&c, &o, &v, err, sizeof err) == 0, "%s", err);
	CHECK_INT(v.rows, rows);
	CHECK_INT(v.argmax_agree, rows);
	CHECKF(v.max_diff <= VERIFY_TOLERANCE, "%g", (double)v.max_diff);
	CHECK(v.at > 0 && v.at <= (int64_t)time(NULL));
	CHECK(v.torch_version != NULL && v.torch_version[0] != '\0');
	unload(&c);
}

static void expect_pass(const char *input, const char *arch, const char *code0, const char *code1,
			const char *inputs, uint32_t rows)
{
	struct pth_opts po = { .arch = arch };

	expect_pass_opts(input, &po, code0, code1, inputs, rows);
}

static void test_mlflow_model(void)
{
	expect_pass("fixtures/model", NULL, "fixtures/model/code", NULL, NULL, 66);
}

static void test_inputs_file(void)
{
	expect_pass("fixtures/model", NULL, "fixtures/model/code", NULL,
		    "fixtures/test_data/batch200_dataframe_records.json", 200);
}

static void test_state_dict(void)
{
	expect_pass("fixtures/model_state_dict.pth", NULL, NULL, NULL, NULL, 66);
}

static void test_zoo(void)
{
	expect_pass("fixtures/pth/zoo.pth", NULL, NULL, NULL, NULL, 66);
	expect_pass("fixtures/pth/zoo_sd.pth", ZOO_ARCH, NULL, NULL, NULL, 66);
}

static void test_model2_f64(void)
{
	expect_pass("fixtures/model2_f64.pth", NULL, NULL, NULL, NULL, 66);
}

static void test_pyfunc_wrapper(void)
{
	/* code/ is the wrapper's; the wrapped model's classes are in
	 * artifacts/pytorch_model/code, next to its data/model.pth. */
	expect_pass("fixtures/pyfunc_model", NULL, "fixtures/pyfunc_model/code", NULL, NULL, 66);
}

/* Small CNNs of fixtures/pth (each layer kind against torch is
 * tests/unit/test_pth.c's business): BatchNorm2d folded and not
 * (scale_shift); a first layer that is a conv, so torch is called on
 * [N, 1, 6, 6] once [N, 36] fails; a state_dict, run with
 * torch.nn.functional over its tensors, its BatchNorm2d applied rather
 * than folded. */
static void test_cnns(void)
{
	struct pth_opts shape = { .input_shape = { 1, 6, 6 } };
	struct pth_opts sd = { .arch = "unflatten(1,6,6),conv2d(padding=1),batchnorm2d,relu,maxpool2d(2),conv2d,relu,"
				       "adaptive_avgpool2d(2),flatten,linear" };

	expect_pass("fixtures/pth/cnn_bn.pth", NULL, NULL, NULL, NULL, 66);
	expect_pass_opts("fixtures/pth/cnn_noshape.pth", &shape, NULL, NULL, NULL, 66);
	expect_pass_opts("fixtures/pth/cnn_sd.pth", &sd, NULL, NULL, NULL, 66);
}

/* The Fashion-MNIST CNNs of fixtures/cnn: MLflow folders (cnn_view's
 * forward() reshapes and is given its order with --arch; cnn_stride's first
 * layer is a conv), a state_dict with its arch.txt, on the 10-image
 * request; and a skip connection read in registration order, which
 * --verify must catch. */
static void test_cnn_fixtures(void)
{
	static const struct {
		const char *input, *arch, *code;
	} cases[] = {
		{ "fixtures/cnn/cnn_bn/mlflow", NULL, NULL },
		{ "fixtures/cnn/cnn_stride/mlflow", NULL, NULL },
		{ "fixtures/cnn/cnn_view/mlflow", "features,flatten,classifier", "fixtures/cnn/cnn_view/mlflow/code" },
	};
	struct pth_opts po = { .input_shape = { 1, 28, 28 } };
	struct blob_verify v;
	struct conv c;
	size_t len;
	char err[1024] = "", *arch = unit_slurp("fixtures/cnn/cnn_bn/arch.txt", &len);

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		po.arch = cases[i].arch;
		expect_pass_opts(cases[i].input, &po, cases[i].code, NULL, NULL, 66);
	}
	CHECK(arch != NULL);
	po.arch = arch ? strtok(arch, "\r\n") : NULL;
	expect_pass_opts("fixtures/cnn/cnn_bn/state_dict.pth", &po, NULL, NULL, "fixtures/cnn/requests/batch10.csv",
			 10);
	free(arch);
	po = (struct pth_opts){ .input_shape = { 1, 28, 28 }, .assume_order = 1 };
	if (load_opts(&c, "fixtures/cnn/residual_net/model.pth", &po, "fixtures/cnn/cnn_view/mlflow/code", NULL) < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(verify(&c, NULL, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, " > 1e-04 over 66 rows; argmax agrees on ");
	unload(&c);
}

/* The last Linear's first bias off by 1e-2: every row's first logit. */
static void test_damaged_weight(void)
{
	struct conv c;
	struct blob_verify v;
	char err[1024] = "";

	if (load(&c, "fixtures/model", NULL, "fixtures/model/code", NULL) < 0) {
		CHECK(0);
		return;
	}
	c.pm.ops[c.pm.nops - 1].bias[0] += 1e-2f;
	CHECK_INT(verify(&c, NULL, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "verify: max |logit difference| 1.0e-02 > 1e-04 over 66 rows; argmax agrees on ");
	CHECK_INT(v.rows, 66);
	unload(&c);
}

/* A state_dict's first convolution read with its kernels transposed (kh
 * and kw swapped, a layout slip): torch's side uses the file's own tensors,
 * so the blob's copy is what is checked. */
static void test_damaged_conv(void)
{
	struct pth_opts po = { .arch = "unflatten(1,6,6),conv2d(padding=1),batchnorm2d,relu,maxpool2d(2),conv2d,"
				       "relu,adaptive_avgpool2d(2),flatten,linear" };
	struct conv c;
	struct blob_verify v;
	char err[1024] = "";

	if (load_opts(&c, "fixtures/pth/cnn_sd.pth", &po, NULL, NULL) < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(c.bm.ops[0].kind, BLOB_OP_CONV2D);
	CHECK_INT(c.bm.ops[0].g.kh * c.bm.ops[0].g.kw, 9);
	for (uint32_t k = 0; k < c.bm.ops[0].g.oc * c.bm.ops[0].g.c; k++) {
		float *w = c.pm.ops[0].weight + 9 * k;
		for (int i = 0; i < 3; i++)
			for (int j = i + 1; j < 3; j++) {
				float tmp = w[3 * i + j];
				w[3 * i + j] = w[3 * j + i];
				w[3 * j + i] = tmp;
			}
	}
	CHECK_INT(verify(&c, NULL, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, " > 1e-04 over 66 rows; argmax agrees on ");
	unload(&c);
}

/* A whole module read with the wrong activation: torch runs the real one. */
static void test_misread_activation(void)
{
	struct conv c;
	struct blob_verify v;
	char err[1024] = "";

	if (load(&c, "fixtures/model", NULL, "fixtures/model/code", NULL) < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(c.bm.ops[1].kind, BLOB_OP_RELU);
	c.bm.ops[1].kind = BLOB_OP_TANH;
	CHECK_INT(verify(&c, NULL, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "verify: max |logit difference| ");
	CHECK_CONTAINS(err, " > 1e-04 over 66 rows; argmax agrees on ");
	unload(&c);
}

/* torch's side failing is a -1 with its last line: a module whose class
 * (mymodels.Net) torch cannot import. */
static void test_torch_fails(void)
{
	struct conv c;
	struct blob_verify v;
	char err[1024] = "";

	if (load(&c, "fixtures/pth/usernet.pth", NULL, NULL, NULL) < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(verify(&c, NULL, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "verify: torch's side (");
	CHECK_CONTAINS(err, ") failed: ModuleNotFoundError: No module named 'mymodels'");
	unload(&c);
}

/* bindir/name, executable, holding text; its path in path[64]. */
static void write_script(char *path, const char *name, const char *text)
{
	snprintf(path, 64, "%s/%s", bindir, name);
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	CHECK(chmod(path, 0700) == 0);
}

/* Pythons without torch: -2, naming what was tried.  No torch needed. */
static void test_no_torch(void)
{
	static const struct {
		const char *python, *script, *says;
	} cases[] = {
		{ "/bin/false", NULL, "(exit status 1)" },
		{ "/nonexistent/python3", NULL, "(No such file or directory)" },
		{ "notorch", "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n",
		  "(ModuleNotFoundError: No module named 'torch')" },
	};
	struct conv c;
	struct blob_verify v;
	char err[1024], py[64], says[256];

	if (load(&c, "fixtures/model_state_dict.pth", NULL, NULL, NULL) < 0) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct verify_opts o = { py, NULL };
		snprintf(py, sizeof py, "%s", cases[i].python);
		if (cases[i].script)
			write_script(py, cases[i].python, cases[i].script);
		snprintf(says, sizeof says, "verify: no python3 that imports torch: tried %s %s", py, cases[i].says);
		CHECK_INT(verify(&c, &o, &v, err, sizeof err), -2);
		CHECK_CONTAINS(err, says);
		CHECK_INT(v.at, 0);
		if (cases[i].script)
			unlink(py);
	}
	/* $SCOREPOINT_PYTHON is the one tried when the caller names none. */
	setenv("SCOREPOINT_PYTHON", "/bin/false", 1);
	CHECK_INT(verify(&c, NULL, &v, err, sizeof err), -2);
	CHECK_CONTAINS(err, "tried /bin/false (exit status 1)");
	unsetenv("SCOREPOINT_PYTHON");
	unload(&c);
}

/* A python that never answers is killed at $SCOREPOINT_VERIFY_TIMEOUT. */
static void test_timeout(void)
{
	struct conv c;
	struct blob_verify v;
	struct timespec t0, t1;
	char err[1024], py[64], says[256];
	struct verify_opts o = { py, NULL };

	if (load(&c, "fixtures/model_state_dict.pth", NULL, NULL, NULL) < 0) {
		CHECK(0);
		return;
	}
	write_script(py, "hang", "#!/bin/sh\necho still loading >&2\nexec sleep 60\n");
	setenv("SCOREPOINT_VERIFY_TIMEOUT", "1", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(verify(&c, &o, &v, err, sizeof err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("SCOREPOINT_VERIFY_TIMEOUT");
	snprintf(says, sizeof says, "verify: %s did not finish within 1 s and was killed; its last line: still loading",
		 py);
	CHECK_CONTAINS(err, says);
	CHECKF(t1.tv_sec - t0.tv_sec < 30, "took %ld s", (long)(t1.tv_sec - t0.tv_sec));
	unlink(py);
	unload(&c);
}

/* --verify-input is read as score.fcgi reads a body; its errors say so. */
static void test_bad_inputs(void)
{
	struct verify_opts o = { "/bin/false", "fixtures/labels.txt" };
	struct conv c;
	struct blob_verify v;
	char err[1024];

	if (load(&c, "fixtures/model", NULL, "fixtures/model/code", NULL) < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(verify(&c, &o, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "verify: fixtures/labels.txt: ");
	o.inputs = "fixtures/no-such-file.json";
	CHECK_INT(verify(&c, &o, &v, err, sizeof err), -1);
	CHECK_CONTAINS(err, "verify: fixtures/no-such-file.json: No such file or directory");
	unload(&c);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_verify.XXXXXX");
	snprintf(bindir, sizeof bindir, "/tmp/test_verify_bin.XXXXXX");
	if (!mkdtemp(tmpdir) || !mkdtemp(bindir)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("TMPDIR", tmpdir, 1);
	unsetenv("SCOREPOINT_PYTHON");
	unsetenv("SCOREPOINT_VERIFY_TIMEOUT");
	have_torch = system("/usr/bin/python3 -I -c 'import torch' >/dev/null 2>&1") == 0;
	RUN(test_no_torch);
	RUN(test_timeout);
	RUN(test_bad_inputs);
	RUN_TORCH(test_mlflow_model);
	RUN_TORCH(test_inputs_file);
	RUN_TORCH(test_state_dict);
	RUN_TORCH(test_zoo);
	RUN_TORCH(test_model2_f64);
	RUN_TORCH(test_pyfunc_wrapper);
	RUN_TORCH(test_cnns);
	RUN_TORCH(test_cnn_fixtures);
	RUN_TORCH(test_damaged_weight);
	RUN_TORCH(test_damaged_conv);
	RUN_TORCH(test_misread_activation);
	RUN_TORCH(test_torch_fails);
	rmdir(tmpdir);
	rmdir(bindir);
	return unit_done();
}
