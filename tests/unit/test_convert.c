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

/* Convert, map, run over the CSV rows, compare with torch. */
static void check_model(const char *input, const char *arch, const char *labels,
			const char *csv, const char *want_tsv)
{
	char out[256], err[1024], notes[2048];
	struct convert_opts o = { .arch = arch, .labels = labels, .postprocess = -1 };
	struct blob_map bm;
	struct fwd_scratch s = { 0 };
	size_t rows = 0, nwant = 0;

	snprintf(out, sizeof out, "%s/m.blob", dir);
	if (convert_model(input, out, &o, notes, sizeof notes, err, sizeof err) < 0) {
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
	CHECK(convert_model("fixtures/pyfunc_model", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "pyfunc wrapper");
	o.labels = "a,b";
	CHECK(convert_model("fixtures/model", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK_CONTAINS(err, "2 labels but the model has 10 outputs");
	o.labels = NULL;
	o.arch = "linear,relu,linear";
	CHECK(convert_model("fixtures/model2_f64_state_dict.pth", out, &o, notes, sizeof notes, err, sizeof err) < 0);
	CHECK(access(out, F_OK) != 0);
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
	RUN(test_fifo_refused);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
