/*
 * test_enc.c - model/enc.c byte for byte against Python's json.dumps, and
 * the whole model/ pipeline (decode, forward, encode) against torch on
 * every fixture request.
 */
#include "tests/unit/unit.h"
#include "model/enc.h"
#include "model/fwd.h"
#include "model/req.h"
#include "tools/convert.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>


/* Whitespace-separated numbers of a TSV file, as float32 and double. */
static double *read_tsv(const char *path, size_t *count)
{
	size_t n;
	char *text = unit_slurp(path, &n), *p = text, *end;
	double *v = malloc((n / 2 + 1) * sizeof *v);
	*count = 0;
	while (text && *p) {
		double d = strtod(p, &end);
		if (end == p)
			break;
		v[(*count)++] = d;
		p = end;
	}
	free(text);
	return v;
}

static const char *labels[10];
static char label_text[256];

static void read_labels(void)
{
	FILE *f = fopen("fixtures/labels.txt", "r");
	size_t n = f ? fread(label_text, 1, sizeof label_text - 1, f) : 0;
	if (f)
		fclose(f);
	label_text[n] = '\0';
	char *save = NULL;
	int k = 0;
	for (char *t = strtok_r(label_text, "\n", &save); t && k < 10; t = strtok_r(NULL, "\n", &save))
		labels[k++] = t;
}

/* torch's logits (float32 values) encode to exactly json.dumps' bytes. */
static void test_logits_bytes_equal_json_dumps(void)
{
	static const char *sets[] = { "images", "batch200" };
	struct enc_buf b;
	enc_init(&b, 0);
	for (int s = 0; s < 2; s++) {
		char path[128];
		size_t n, want_len;
		snprintf(path, sizeof path, "fixtures/expected/%s_logits.tsv", sets[s]);
		double *d = read_tsv(path, &n);
		float *y = malloc(n * sizeof *y);
		for (size_t i = 0; i < n; i++)
			y[i] = (float)d[i];
		snprintf(path, sizeof path, "fixtures/expected/%s_logits.json", sets[s]);
		char *want = unit_slurp(path, &want_len);
		while (want && want_len && want[want_len - 1] == '\n')   /* the file's final newline */
			want_len--;
		enc_reset(&b);
		enc_row_dicts(&b, y, n / 10, 10);
		CHECK(enc_status(&b) == ENC_OK);
		CHECKF(want && b.len == want_len && memcmp(b.p, want, want_len) == 0,
		       "%s: %zu bytes vs %zu: %.120s", sets[s], b.len, want_len, b.p);
		snprintf(path, sizeof path, "fixtures/expected/%s_labels.json", sets[s]);
		char *lab = unit_slurp(path, &want_len);
		while (lab && want_len && lab[want_len - 1] == '\n')
			want_len--;
		enc_reset(&b);
		enc_labels(&b, y, n / 10, 10, labels);
		CHECKF(lab && b.len == want_len && memcmp(b.p, lab, want_len) == 0, "%s labels: %.120s", sets[s], b.p);
		free(d);
		free(y);
		free(want);
		free(lab);
	}
	enc_free(&b);
}

static void test_numbers_and_strings(void)
{
	struct enc_buf b;
	const float y[] = { -2.581446647644043f, 7.203756332397461f, 0.1f, 1e-5f, -0.0f, 1.0f, 3.4028234663852886e38f };
	enc_init(&b, 0);
	enc_flat(&b, y, 7);
	CHECK_STR(b.p, "[-2.581446647644043, 7.203756332397461, 0.10000000149011612, 9.999999747378752e-06, -0.0, 1.0, "
		       "3.4028234663852886e+38]");
	enc_reset(&b);
	enc_string(&b, "T-Shirt \"quoted\" back\\slash\ttab\n caf\xc3\xa9 \xf0\x9f\x98\x80 \x01 bad\xff");
	CHECK_STR(b.p, "\"T-Shirt \\\"quoted\\\" back\\\\slash\\ttab\\n caf\\u00e9 \\ud83d\\ude00 \\u0001 bad\\ufffd\"");
	enc_reset(&b);
	enc_labels(&b, y, 1, 7, NULL);
	CHECK_STR(b.p, "[6]");   /* 3.4e38 is the largest */
	enc_free(&b);
}

static void test_top_k(void)
{
	struct enc_buf b;
	const float y[] = { 0.5f, 2.0f, 2.0f, -1.0f, 0.25f, 3.0f };
	const char *names[] = { "a", "b", "c" };
	enc_init(&b, 0);
	enc_top_k(&b, y, 2, 3, 2, names);
	CHECK_STR(b.p, "[[\"2.0:1:b\", \"2.0:2:c\"], [\"3.0:2:c\", \"0.25:1:b\"]]");
	enc_reset(&b);
	enc_top_k(&b, y, 1, 3, 9, NULL);   /* k larger than the width: all, best first */
	CHECK_STR(b.p, "[[\"2.0:1\", \"2.0:2\", \"0.5:0\"]]");
	enc_free(&b);
}

static void test_limits_and_nonfinite(void)
{
	struct enc_buf b;
	float y[40];
	for (int i = 0; i < 40; i++)
		y[i] = (float)i / 3.0f;
	enc_init(&b, 64);
	enc_flat(&b, y, 40);
	CHECK(enc_status(&b) == ENC_FULL);
	CHECK(b.len <= 64);
	enc_reset(&b);
	enc_flat(&b, y, 2);
	CHECK(enc_status(&b) == ENC_OK);
	y[13] = NAN;
	enc_free(&b);
	enc_init(&b, 0);
	enc_row_dicts(&b, y, 4, 10);
	CHECK(enc_status(&b) == ENC_NONFINITE);
	CHECK_INT(b.bad_row, 1);
	y[13] = INFINITY;
	enc_reset(&b);
	enc_labels(&b, y, 4, 10, NULL);
	CHECK(enc_status(&b) == ENC_NONFINITE);
	enc_free(&b);
}

/* decode -> forward -> encode on every fixture request, against torch. */
static void test_pipeline_matches_torch(void)
{
	static const char *files[] = {
		"batch200_azureml_split.json", "batch200_azureml_list.json", "batch200_azureml_columns.json",
		"batch200_dataframe_split.json", "batch200_dataframe_records.json", "batch200_instances.json",
		"batch200_instances_records.json", "batch200_inputs.json", "batch200_inputs_columns.json",
		"batch200.csv",
	};
	char dir[] = "/tmp/sp-test-enc-XXXXXX", blob[64], err[512], notes[512];
	struct convert_opts o = { .postprocess = -1 };
	struct blob_map bm;
	struct req_schema s;
	struct req_ctx c;
	struct fwd_scratch fs = { 0 };
	size_t nlog, nprob, nargmax;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(blob, sizeof blob, "%s/m.blob", dir);
	CHECKF(convert_model("fixtures/model", blob, &o, notes, sizeof notes, err, sizeof err) == 0, "%s", err);
	CHECKF(blob_map_file(blob, &bm, err, sizeof err) == 0, "%s", err);
	CHECK(req_schema_init(&s, &bm.model) == 0);
	req_ctx_init(&c, NULL);
	double *logits = read_tsv("fixtures/expected/batch200_logits.tsv", &nlog);
	double *probs = read_tsv("fixtures/expected/batch200_probabilities.tsv", &nprob);
	double *argmax = read_tsv("fixtures/expected/batch200_argmax.txt", &nargmax);
	CHECK(nlog == 2000 && nprob == 2000 && nargmax == 200);
	float *p = malloc(2000 * sizeof *p);

	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		char path[128];
		size_t n;
		struct req_result r;
		struct req_error e;
		snprintf(path, sizeof path, "fixtures/test_data/%s", files[f]);
		char *body = unit_slurp(path, &n);
		int rc = strstr(files[f], ".csv") ? req_decode_csv(&c, &s, body, n, &r, &e) :
			 req_decode_json(&c, &s, body, n, 0, &r, &e);
		CHECKF(rc == 0 && r.rows == 200, "%s: %s", files[f], rc ? e.msg : "rows");
		const float *y = rc == 0 ? fwd_run(&bm.model, r.x, r.rows, &fs) : NULL;
		double worst = 0, worst_p = 0;
		size_t wrong = 0;
		for (size_t i = 0; y && i < 2000; i++) {
			worst = fmax(worst, fabs(y[i] - logits[i]));
			p[i] = y[i];
		}
		for (size_t row = 0; y && row < 200; row++)
			wrong += fwd_argmax(y + row * 10, 10) != (size_t)argmax[row];
		if (y) {
			fwd_softmax_rows(p, 200, 10);
			for (size_t i = 0; i < 2000; i++)
				worst_p = fmax(worst_p, fabs(p[i] - probs[i]));
		}
		CHECKF(y && worst <= 1e-4 && wrong == 0 && worst_p <= 1e-5,
		       "%s: logits max |diff| %g, %zu argmax differ, probabilities max |diff| %g",
		       files[f], worst, wrong, worst_p);
		free(body);
	}
	free(p);
	free(logits);
	free(probs);
	free(argmax);
	fwd_scratch_free(&fs);
	req_ctx_free(&c);
	req_schema_free(&s);
	blob_unmap(&bm);
	unlink(blob);
	rmdir(dir);
}

/* ---- issue 15: invalid UTF-8 ---- */

/* Each ill-formed input and json.dumps(bytes.decode("utf-8", "replace")),
 * from Python 3.11; the well-formed boundaries around them as they are. */
static const struct {
	const char *in, *want;
} utf8_cases[] = {
	{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },                       /* overlong '/' */
	{ "\xc1\xbf", "\"\\ufffd\\ufffd\"" },
	{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },             /* overlong, 3 bytes */
	{ "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },   /* overlong, 4 bytes */
	{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },             /* U+D800 */
	{ "\xed\xb0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },             /* U+DC00 */
	{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },   /* U+110000 */
	{ "\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "x\xe2\x82", "\"x\\ufffd\"" },                             /* truncated at the end */
	{ "\xe2\x82" "A", "\"\\ufffdA\"" },                          /* truncated before a letter */
	{ "\xf0\x9f\x98", "\"\\ufffd\"" },
	{ "\x80", "\"\\ufffd\"" },                                   /* stray continuation */
	{ "\xc2\x80", "\"\\u0080\"" },
	{ "\xed\x9f\xbf", "\"\\ud7ff\"" },
	{ "\xee\x80\x80", "\"\\ue000\"" },
	{ "\xef\xbf\xbf", "\"\\uffff\"" },
	{ "\xf0\x90\x80\x80", "\"\\ud800\\udc00\"" },
	{ "\xf4\x8f\xbf\xbf", "\"\\udbff\\udfff\"" },
};

static void test_invalid_utf8(void)
{
	struct enc_buf b;
	enc_init(&b, 0);
	for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
		enc_reset(&b);
		enc_string(&b, utf8_cases[i].in);
		CHECKF(strcmp(b.p, utf8_cases[i].want) == 0, "case %zu: %s, not %s", i, b.p, utf8_cases[i].want);
		CHECK_INT(enc_utf8_valid(utf8_cases[i].in), strstr(utf8_cases[i].want, "fffd") == NULL);
	}
	CHECK(enc_utf8_valid(""));
	CHECK(enc_utf8_valid("caf\xc3\xa9 \xf0\x9f\x98\x80"));
	/* A label is a string like any other. */
	const char *names[] = { "ok", "bad\xed\xa0\x80" };
	const float y[] = { 0.0f, 1.0f };
	enc_reset(&b);
	enc_labels(&b, y, 1, 2, names);
	CHECK_STR(b.p, "[\"bad\\ufffd\\ufffd\\ufffd\"]");
	CHECK(enc_status(&b) == ENC_OK);
	enc_free(&b);
}

int main(void)
{
	read_labels();
	fwd_set_threads(1);
	RUN(test_logits_bytes_equal_json_dumps);
	RUN(test_numbers_and_strings);
	RUN(test_top_k);
	RUN(test_limits_and_nonfinite);
	RUN(test_pipeline_matches_torch);
	RUN(test_invalid_utf8);
	return unit_done();
}
