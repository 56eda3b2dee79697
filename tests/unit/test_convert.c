/*
 * test_convert.c - tools/convert.c end to end through model/: every fixture
 * converts, the blob maps, and its forward pass reproduces torch's logits
 * (within 1e-4, same argmax) on the 200 fixture images and the tutorial's
 * two.
 */
#include "tests/unit/unit.h"
#include "tools/convert.h"
#include "model/blob.h"
#include "model/fwd.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/sp-test-convert-XXXXXX";

/* Read a CSV with a header row into a malloc'd [rows][cols] float matrix. */
static float *read_csv(const char *path, size_t *rows, size_t cols)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 256, n = 0;
	float *x = malloc(cap * cols * sizeof *x);
	int c;
	while ((c = fgetc(f)) != EOF && c != '\n')   /* header */
		;
	for (;;) {
		double v;
		if (fscanf(f, " %lf", &v) != 1)
			break;
		if (n / cols >= cap) {
			cap *= 2;
			x = realloc(x, cap * cols * sizeof *x);
		}
		x[n++] = (float)v;
		c = fgetc(f);
		if (c != ',' && c != '\n' && c != '\r' && c != EOF)
			break;
	}
	fclose(f);
	*rows = n / cols;
	return n % cols == 0 ? x : (free(x), NULL);
}

static double *read_tsv(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	double *v = malloc(cap * sizeof *v);
	while (fscanf(f, "%lf", &v[n]) == 1)
		if (++n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
	fclose(f);
	*count = n;
	return v;
}

/* Convert with o, map, run over the CSV rows, compare with torch. */
static void check_model_opts(const char *input, const struct convert_opts *o, const char *csv,
			     const char *want_tsv)
{
	char out[256], err[1024], notes[2048];
	struct blob_map bm;
	struct fwd_scratch s = { 0 };
	size_t rows = 0, nwant = 0;

	snprintf(out, sizeof out, "%s/m.blob", dir);
	if (convert_model(input, out, o, notes, sizeof notes, err, sizeof err) < 0) {
		CHECKF(0, "%s: %s", input, err);
		return;
	}
	if (blob_map_file(out, &bm, err, sizeof err) < 0) {
		CHECKF(0, "%s", err);
		return;
	}
	float *x = read_csv(csv, &rows, bm.model.input_width);
	double *want = read_tsv(want_tsv, &nwant);
	CHECKF(x && want && rows > 0 && nwant == rows * bm.model.output_width,
	       "%s: %zu rows, %zu expected values", input, rows, nwant);
	const float *y = x && want && nwant == rows * bm.model.output_width ?
			 fwd_run(&bm.model, x, rows, &s) : NULL;
	size_t w = bm.model.output_width, bad_argmax = 0;
	double worst = 0;
	for (size_t r = 0; y && r < rows; r++) {
		size_t best = 0;
		for (size_t j = 0; j < w; j++) {
			double d = fabs(y[r * w + j] - want[r * w + j]);
			worst = d > worst ? d : worst;
			if (want[r * w + j] > want[r * w + best])
				best = j;
		}
		bad_argmax += fwd_argmax(y + r * w, w) != best;
	}
	CHECKF(y && worst <= 1e-4 && bad_argmax == 0, "%s: max |diff| %g, %zu argmax mismatches over %zu rows",
	       input, worst, bad_argmax, rows);
	printf("#   %s: %zu rows, max |diff| %.3g\n", input, rows, worst);
	free(x);
	free(want);
	fwd_scratch_free(&s);
	blob_unmap(&bm);
}

static void check_model(const char *input, const char *arch, const char *labels,
			const char *csv, const char *want_tsv)
{
	struct convert_opts o = { .arch = arch, .labels = labels, .postprocess = -1 };

	check_model_opts(input, &o, csv, want_tsv);
}

static const char *B200 = "fixtures/test_data/batch200.csv";
static const char *B200_WANT = "fixtures/expected/batch200_logits.tsv";

static void test_tutorial_mlflow_dir(void)
{
	check_model("fixtures/model", NULL, NULL, B200, B200_WANT);
	check_model("fixtures/model", NULL, NULL, "fixtures/test_data/images.csv",
		    "fixtures/expected/images_logits.tsv");
}

static void test_tutorial_whole_module(void)
{
	check_model("fixtures/model/data/model.pth", NULL, NULL, B200, B200_WANT);
}

static void test_tutorial_state_dict(void)
{
	check_model("fixtures/model_state_dict.pth", NULL, NULL, B200, B200_WANT);
	check_model("fixtures/model_state_dict.pth", "linear,relu,linear", NULL, B200, B200_WANT);
}

static void test_pyfunc_wrapper(void)
{
	check_model("fixtures/pyfunc_model", NULL, "fixtures/labels.txt", B200, B200_WANT);
}

static void test_second_model_f64(void)
{
	check_model("fixtures/model2_f64.pth", NULL, NULL, B200, "fixtures/expected/model2_batch200_logits.tsv");
	check_model("fixtures/model2_f64_state_dict.pth", "linear,tanh,linear,gelu,linear", NULL, B200,
		    "fixtures/expected/model2_batch200_logits.tsv");
}

static void test_refusals_leave_nothing(void)
{
	char out[256], err[2048], notes[256];
	struct convert_opts o = { .postprocess = -1 };

	snprintf(out, sizeof out, "%s/refused.blob", dir);
	o.labels = "a,b";
	CHECK(convert_model("fixtures/model", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "2 labels but the model has 10 outputs");
	o.labels = NULL;
	o.arch = "linear,relu,linear";
	CHECK(convert_model("fixtures/model2_f64_state_dict.pth", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK(access(out, F_OK) != 0);
}

/* The tutorial's endpoint 2 with endpoint 1's steps: the wrapper's own
 * label map, read from its code; without one, a refusal naming the flags. */
static void test_pyfunc_labels_from_code(void)
{
	char out[256], err[2048], notes[2048], w[256], p[PATH_MAX], abs[PATH_MAX];
	struct convert_opts o = { .postprocess = -1 };
	struct blob_map bm;

	snprintf(out, sizeof out, "%s/wrapper.blob", dir);
	CHECKF(convert_model("fixtures/pyfunc_model", out, &o, notes, sizeof notes, err, sizeof err) == 0, "%s", err);
	CHECK_CONTAINS(notes, "labels from ");
	CHECK_CONTAINS(notes, "model_wrapper.py");
	CHECK_INT(blob_map_file(out, &bm, err, sizeof err), 0);
	CHECK_INT(bm.model.postprocess, BLOB_POST_LABELS);
	CHECK_INT(bm.model.nlabels, 10);
	CHECK_STR(bm.model.labels[9], "Ankle Boot");
	CHECK_STR(bm.model.labels[2], "Pullover");
	blob_unmap(&bm);
	/* the same wrapper whose code holds no label map */
	snprintf(w, sizeof w, "%s/wrapper", dir);
	CHECK_INT(mkdir(w, 0700), 0);
	static const char *const links[] = { "MLmodel", "artifacts", "python_model.pkl" };
	for (size_t i = 0; i < 3; i++) {
		char src[PATH_MAX];
		snprintf(src, sizeof src, "fixtures/pyfunc_model/%s", links[i]);
		snprintf(p, sizeof p, "%s/%s", w, links[i]);
		CHECK_INT(symlink(realpath(src, abs) ? abs : "", p), 0);
	}
	snprintf(p, sizeof p, "%s/code", w);
	CHECK_INT(mkdir(p, 0700), 0);
	snprintf(p, sizeof p, "%s/code/model_wrapper.py", w);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("def predict(context, x):\n    return x\n", f);
		fclose(f);
	}
	CHECK(convert_model(w, out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "is an MLflow pyfunc wrapper: its predict() lives in python_model.pkl");
	CHECK_CONTAINS(err, "--postprocess logits|probabilities|labels");
	CHECK_CONTAINS(err, "--labels FILE|");
	/* --labels still overrides the wrapper's own */
	o.labels = "a,b,c,d,e,f,g,h,i,j";
	CHECKF(convert_model("fixtures/pyfunc_model", out, &o, notes, sizeof notes, err, sizeof err) == 0, "%s", err);
	CHECK_INT(blob_map_file(out, &bm, err, sizeof err), 0);
	CHECK_STR(bm.model.labels[9], "j");
	blob_unmap(&bm);
}

/* The CNN fixtures (fixtures/cnn, made by make_cnn_fixtures.py) in every
 * form: an MLflow folder whose signature gives [-1, 1, 28, 28], a whole
 * module given --input-shape, a state_dict given --arch. */
static void cnn(const char *name, const char *input, const char *arch, int shape, int assume)
{
	char path[256], want[256], archbuf[1024] = "";
	struct convert_opts o = { .arch = arch, .postprocess = -1, .assume_order = assume };

	snprintf(path, sizeof path, "fixtures/cnn/%s/%s", name, input);
	snprintf(want, sizeof want, "fixtures/cnn/%s/expected/batch10_logits.tsv", name);
	if (arch && strcmp(arch, "FILE") == 0) {
		char f[256];
		snprintf(f, sizeof f, "fixtures/cnn/%s/arch.txt", name);
		FILE *a = fopen(f, "r");
		if (a && fgets(archbuf, sizeof archbuf, a))
			archbuf[strcspn(archbuf, "\n")] = '\0';
		if (a)
			fclose(a);
		o.arch = archbuf;
	}
	if (shape) {
		o.input_shape[0] = 1;
		o.input_shape[1] = o.input_shape[2] = 28;
	}
	check_model_opts(path, &o, "fixtures/cnn/requests/batch10.csv", want);
}

static void test_cnn_fixtures(void)
{
	char out[256], err[2048], notes[2048];
	struct convert_opts o = { .postprocess = -1 };
	struct blob_map bm;

	if (access("fixtures/cnn/cnn_stride/mlflow/MLmodel", F_OK) != 0) {
		printf("#   fixtures/cnn absent: skipped\n");
		return;
	}
	cnn("cnn_bn", "mlflow", NULL, 0, 0);
	cnn("cnn_bn", "model.pth", NULL, 0, 0);
	cnn("cnn_bn", "state_dict.pth", "FILE", 0, 0);
	cnn("cnn_stride", "mlflow", NULL, 0, 0);   /* the signature's shape */
	cnn("cnn_stride", "model.pth", NULL, 1, 0);
	cnn("cnn_stride", "state_dict.pth", "FILE", 1, 0);
	cnn("cnn_view", "model.pth", "features,flatten,classifier", 1, 0);
	cnn("cnn_view", "state_dict.pth", "FILE", 1, 0);
	/* the signature's shape is recorded; a contradicting --input-shape refused */
	snprintf(out, sizeof out, "%s/cnn.blob", dir);
	CHECKF(convert_model("fixtures/cnn/cnn_stride/mlflow", out, &o, notes, sizeof notes, err, sizeof err) == 0,
	       "%s", err);
	CHECK_INT(blob_map_file(out, &bm, err, sizeof err), 0);
	CHECK(bm.model.input_shape[0] == 1 && bm.model.input_shape[1] == 28 && bm.model.input_shape[2] == 28);
	CHECK_INT(bm.model.flags, 0);
	blob_unmap(&bm);
	o.input_shape[0] = 3;
	o.input_shape[1] = o.input_shape[2] = 28;
	CHECK(convert_model("fixtures/cnn/cnn_stride/mlflow", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "--input-shape 3,28,28 but the signature's input tensor is [-1, 1, 28, 28]");
	/* a forward() that cannot be read: refused, nothing written */
	unlink(out);
	memset(o.input_shape, 0, sizeof o.input_shape);
	CHECK(convert_model("fixtures/pth/order_net.pth", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "fixtures/pth/order_net.pth: (root): the forward() of mymodels.OrderNet cannot be read");
	CHECK(access(out, F_OK) != 0);
	o.assume_order = 1;
	CHECKF(convert_model("fixtures/pth/order_net.pth", out, &o, notes, sizeof notes, err, sizeof err) == 0, "%s",
	       err);
	CHECK_INT(blob_map_file(out, &bm, err, sizeof err), 0);
	CHECK_INT(bm.model.flags, BLOB_MODEL_ASSUMED_ORDER);
	blob_unmap(&bm);
}

static void test_input_shape_flag(void)
{
	uint32_t sh[3];
	char err[256];

	CHECK_INT(convert_parse_shape("1,28,28", sh, err, sizeof err), 0);
	CHECK(sh[0] == 1 && sh[1] == 28 && sh[2] == 28);
	static const char *const bad[] = { "", "1,28", "1,28,28,1", "0,28,28", "1,-28,28", "1, 28,28", "a,b,c",
					   "1,28,70000" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECKF(convert_parse_shape(bad[i], sh, err, sizeof err) < 0, "'%s' accepted", bad[i]);
		CHECK_CONTAINS(err, "give C,H,W, three whole numbers 1 to 65535");
	}
}

/* p = dir/name, made by mk (mkfifo or mkdir); 0 or -1. */
static int make(char *p, size_t len, const char *name, int (*mk)(const char *, mode_t))
{
	snprintf(p, len, "%s/%s", dir, name);
	return mk(p, 0700);
}

/* convert_model refuses at once, naming the FIFO, and writes nothing. */
static void refuse_fifo(const char *input, const char *labels, const char *fifo)
{
	char out[256], err[2048], notes[256], want[512];
	struct convert_opts o = { .postprocess = -1, .labels = labels };

	snprintf(out, sizeof out, "%s/fifo.blob", dir);
	snprintf(want, sizeof want, "%s: not a regular file (a FIFO)", fifo);
	alarm(5);   /* a blocking open() hangs here: let SIGALRM fail the run */
	CHECK(convert_model(input, out, &o, notes, sizeof notes, err, sizeof err) < 0);
	alarm(0);
	CHECK_CONTAINS(err, want);
	CHECK(strchr(err, '\n') == NULL);
	CHECK(access(out, F_OK) != 0);
}

/* A FIFO as the .pth, as an MLflow directory's MLmodel or model.pth, or as
 * the labels file is refused without waiting for a writer. */
static void test_fifo_refused(void)
{
	char p[256], ml[256], mlf[256], data[256], pth[256], abs[PATH_MAX];

	CHECK_INT(make(p, sizeof p, "m.pth", mkfifo), 0);
	refuse_fifo(p, NULL, p);
	refuse_fifo("fixtures/model", p, p);

	CHECK_INT(make(ml, sizeof ml, "ml", mkdir), 0);
	CHECK_INT(make(mlf, sizeof mlf, "ml/MLmodel", mkfifo), 0);
	refuse_fifo(ml, NULL, mlf);

	CHECK_INT(make(ml, sizeof ml, "ml2", mkdir), 0);
	CHECK_INT(make(data, sizeof data, "ml2/data", mkdir), 0);
	CHECK_INT(make(pth, sizeof pth, "ml2/data/model.pth", mkfifo), 0);
	snprintf(mlf, sizeof mlf, "%s/ml2/MLmodel", dir);
	CHECK_INT(symlink(realpath("fixtures/model/MLmodel", abs) ? abs : "", mlf), 0);
	refuse_fifo(ml, NULL, pth);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	fwd_set_threads(1);
	RUN(test_tutorial_mlflow_dir);
	RUN(test_tutorial_whole_module);
	RUN(test_tutorial_state_dict);
	RUN(test_pyfunc_wrapper);
	RUN(test_second_model_f64);
	RUN(test_refusals_leave_nothing);
	RUN(test_pyfunc_labels_from_code);
	RUN(test_cnn_fixtures);
	RUN(test_input_shape_flag);
	RUN(test_fifo_refused);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
