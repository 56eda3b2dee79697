/* test_v2.c - model/v2.c: KServe V2 tensors in (every layout, every error,
 * every cap) and out (exact bytes). */
#include "tests/unit/unit.h"
#include "tests/unit/unit_model.h"
#include "model/v2.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- helpers ---- */


static struct blob_model m784, m3, m6;
static struct req_schema s784, s3, s6;
static const char *abc[3] = { "a", "b", "c" };

static void setup(void)
{
	unit_model784(&m784);
	m3.input_width = 3;
	m3.ncolumns = 3;
	m3.columns = abc;
	m6.input_width = 6;
	req_schema_init(&s784, &m784);
	req_schema_init(&s3, &m3);
	req_schema_init(&s6, &m6);
}

static void teardown(void)
{
	req_schema_free(&s784);
	req_schema_free(&s3);
	req_schema_free(&s6);
}

static int decode(struct req_ctx *c, const struct req_schema *s, const char *body,
		  struct v2_request *r, struct req_error *e)
{
	return v2_decode(c, s, body, strlen(body), r, e);
}

/* body must fail with `code` and a message containing `frag`. */
static void check_error(struct req_ctx *c, const struct req_schema *s, const char *body,
			enum req_errcode code, const char *frag)
{
	struct v2_request r;
	struct req_error e;
	int rc = decode(c, s, body, &r, &e);
	CHECKF(rc < 0, "accepted: %.100s", body);
	if (rc < 0) {
		CHECKF(e.code == code, "code %d, want %d: %s (body %.80s)", e.code, code, e.msg, body);
		CHECKF(strstr(e.msg, frag) != NULL, "\"%s\" lacks \"%s\" (body %.80s)", e.msg, frag, body);
		CHECK(e.status == (code == REQ_E_LIMIT ? 413 : 400));
		CHECK(r.x == NULL && r.rows == 0);
	}
}

/* body must decode on the 3-column model to `rows` rows of `want`. */
static void check_ok3(struct req_ctx *c, const char *body, size_t rows, const float *want)
{
	struct v2_request r;
	struct req_error e;
	int rc = decode(c, &s3, body, &r, &e);
	CHECKF(rc == 0, "%s: %s", body, e.msg);
	if (rc)
		return;
	CHECKF(r.rows == rows, "%s: %zu rows", body, r.rows);
	for (size_t i = 0; i < rows * 3 && r.rows == rows; i++)
		CHECKF(r.x[i] == want[i], "%s: x[%zu] = %g, want %g", body, i, (double)r.x[i], (double)want[i]);
}

/* A body with one tensor: the parts between the fixed keys. */
static char *tensor_body(const char *shape, const char *datatype, const char *data)
{
	size_t n = strlen(shape) + strlen(datatype) + strlen(data) + 200;
	char *p = malloc(n);
	snprintf(p, n, "{\"id\": \"tutorial\", \"inputs\": [{\"name\": \"input-0\", \"shape\": %s, "
		 "\"datatype\": \"%s\", \"data\": %s}]}", shape, datatype, data);
	return p;
}

/* ---- the tutorial's two images ---- */

/* The value texts of images.csv's two data rows, in order. */
struct images {
	char *text;
	const char *v[2 * 784];
	size_t len[2 * 784];
};

static int read_images(struct images *im)
{
	size_t n;
	im->text = unit_slurp("fixtures/test_data/images.csv", &n);
	if (!im->text)
		return -1;
	char *p = strchr(im->text, '\n');
	size_t k = 0;
	while (p && *p && k < 2 * 784) {
		p++;
		char *end = p + strcspn(p, ",\r\n");
		im->v[k] = p;
		im->len[k++] = (size_t)(end - p);
		p = end;
		if (*p == '\r')
			p++;
	}
	return k == 2 * 784 ? 0 : -1;
}

/* The values from `from` on as a list nested to dims[level..ndims). */
static size_t put_values(char *o, const struct images *im, size_t from, const size_t *dims, size_t ndims,
			 size_t level)
{
	size_t w = 0, stride = 1;
	for (size_t d = level + 1; d < ndims; d++)
		stride *= dims[d];
	o[w++] = '[';
	for (size_t i = 0; i < dims[level]; i++) {
		if (i)
			o[w++] = ',';
		if (level + 1 == ndims) {
			memcpy(o + w, im->v[from + i], im->len[from + i]);
			w += im->len[from + i];
		} else {
			w += put_values(o + w, im, from + i * stride, dims, ndims, level + 1);
		}
	}
	o[w++] = ']';
	return w;
}

static void test_tutorial_images(void)
{
	struct images im;
	struct req_ctx c;
	struct req_result ref;
	struct req_error e;
	size_t n;
	static const struct {
		const char *shape, *datatype;
		size_t dims[3], ndims;
	} cases[] = {
		{ "[2, 784]", "FP32", { 1568 }, 1 },           /* flat */
		{ "[2, 784]", "FP32", { 2, 784 }, 2 },         /* nested to the shape */
		{ "[2, 784]", "FP64", { 1568 }, 1 },
		{ "[2, 784]", "FP64", { 2, 784 }, 2 },
		{ "[2, 28, 28]", "FP32", { 2, 28, 28 }, 3 },   /* a leading Flatten */
		{ "[2, 28, 28]", "FP32", { 1568 }, 1 },
		{ "[2,1,784]", "FP64", { 2, 1, 784 }, 3 },
	};

	CHECK(read_images(&im) == 0);
	req_ctx_init(&c, NULL);
	char *csv = unit_slurp("fixtures/test_data/images.csv", &n);
	CHECK(req_decode_csv(&c, &s784, csv, n, &ref, &e) == 0 && ref.rows == 2);
	float *want = malloc(2 * 784 * sizeof *want);
	memcpy(want, ref.x, 2 * 784 * sizeof *want);
	char *data = malloc(64 * 1024);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		size_t w = put_values(data, &im, 0, cases[k].dims, cases[k].ndims, 0);
		data[w] = '\0';
		char *body = tensor_body(cases[k].shape, cases[k].datatype, data);
		struct v2_request r;
		int rc = decode(&c, &s784, body, &r, &e);
		CHECKF(rc == 0, "case %zu: %s", k, e.msg);
		CHECKF(rc || r.rows == 2, "case %zu: %zu rows", k, r.rows);
		CHECKF(rc || memcmp(r.x, want, 2 * 784 * sizeof *want) == 0, "case %zu: values differ from images.csv", k);
		CHECK(rc || (strcmp(r.id, "tutorial") == 0 && r.classification == 0));
		free(body);
	}
	/* A nested [2, 28, 28] body read as [2, 784] has rows of 28 lists. */
	size_t w = put_values(data, &im, 0, (const size_t[]){ 2, 28, 28 }, 3, 0);
	data[w] = '\0';
	char *body = tensor_body("[2, 784]", "FP32", data);
	check_error(&c, &s784, body, REQ_E_SHAPE, "inputs[0].data[0] has 28 values; shape [2, 784] needs 784 there");
	free(body);
	free(data);
	free(want);
	free(csv);
	free(im.text);
	req_ctx_free(&c);
}

/* The tutorial's logits as the V2 response: the same numbers, flat. */
static void test_tutorial_response(void)
{
	size_t n;
	char *tsv = unit_slurp("fixtures/expected/images_logits.tsv", &n);
	char *json = unit_slurp("fixtures/expected/images_logits.json", &n);
	float y[20];
	struct enc_buf b;
	char *p = tsv;
	CHECK(tsv && json);
	for (int i = 0; i < 20 && p; i++)
		y[i] = strtof(p, &p);
	enc_init(&b, 0);
	v2_encode(&b, "fashion-mnist", "1", "", y, 2, 10, 0, NULL);
	CHECK(enc_status(&b) == ENC_OK);
	/* Each number's text equals json.dumps' in images_logits.json. */
	const char *head = "{\"model_name\": \"fashion-mnist\", \"model_version\": \"1\", \"outputs\": "
			   "[{\"name\": \"output-0\", \"shape\": [2, 10], \"datatype\": \"FP32\", \"data\": [";
	CHECK(strncmp(b.p, head, strlen(head)) == 0);
	const char *data = b.p + strlen(head), *want = json;
	for (int i = 0; i < 20; i++) {
		want = strstr(want, "\": ");
		CHECK(want != NULL);
		if (!want)
			break;
		want += 3;
		size_t len = strcspn(want, ",}");
		CHECKF(strncmp(data, want, len) == 0 && data[len] == (i < 19 ? ',' : ']'),
		       "value %d: %.20s vs %.*s", i, data, (int)len, want);
		data += len + 2;
	}
	CHECK(strcmp(data - 1, "}]}") == 0);
	enc_reset(&b);
	static const char *const labels[] = { "T-Shirt", "Trouser", "Pullover", "Dress", "Coat",
					      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle Boot" };
	v2_encode(&b, "fashion-mnist", "1", "req-1", y, 2, 10, 2, labels);
	CHECK_STR(b.p, "{\"model_name\": \"fashion-mnist\", \"model_version\": \"1\", \"id\": \"req-1\", \"outputs\": "
		  "[{\"name\": \"output-0\", \"shape\": [2, 2], \"datatype\": \"BYTES\", \"data\": "
		  "[\"15.973742485046387:9:Ankle Boot\", \"8.706777572631836:7:Sneaker\", "
		  "\"9.380181312561035:2:Pullover\", \"4.698965072631836:6:Shirt\"]}]}");
	enc_free(&b);
	free(tsv);
	free(json);
}

/* ---- small cases ---- */

static void test_layouts(void)
{
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	const float w2[] = { 1, 2, 3, 4, 5, 6 };
	req_ctx_init(&c, NULL);
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [1,2,3,4,5,6]}]}", 2, w2);
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": [[1,2,3],[4,5,6]]}]}", 2, w2);
	check_ok3(&c, " {\"inputs\" : [ {\"data\":[ [1, 2.0e0, 3] ,[4,5,6] ],\"datatype\":\"FP64\",\"shape\":[2,3],\"name\":\"\"} ] } \n", 2, w2);
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}]}", 1, w2);
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3, 1], \"datatype\": \"FP32\", \"data\": [[[1],[2],[3]]]}]}", 1, w2);
	/* Integer datatypes: whole numbers in range, written either way. */
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"INT32\", \"data\": [1,2,3,4,5,6.0]}]}", 2, w2);
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"UINT8\", \"data\": [1,2,3,4,5,6]}]}", 2, w2);
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"INT8\", \"data\": [-128, 127, 0]}]}", 1,
		  (const float[]){ -128, 127, 0 });
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"UINT8\", \"data\": [255, 0, 1e2]}]}", 1,
		  (const float[]){ 255, 0, 100 });
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": "
		  "[-9223372036854775808, 9223372036854775807, 0]}]}", 1, (const float[]){ -9223372036854775808.0f, 9223372036854775807.0f, 0 });
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"UINT64\", \"data\": "
		  "[18446744073709551615, 0, -0]}]}", 1, (const float[]){ 18446744073709551615.0f, 0, 0 });
	/* Numbers as torch reads them: correctly rounded double, then float32. */
	const float f[] = { -0.0f, 1e-45f, (float)0.1, 16777216.0f, (float)3.4028234663852886e38, 0.0f };
	check_ok3(&c, "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": "
		  "[-0.0, 1e-45, 0.1, 16777217, 3.4028234663852886e+38, 1e-50]}]}", 2, f);
	/* Unknown fields are ignored, wherever they are. */
	check_ok3(&c, "{\"parameters\": {\"a\": [1, {\"b\": null}]}, \"x\": 1, \"inputs\": [{\"name\": \"x\", "
		  "\"parameters\": {\"binary_data_size\": 4}, \"shape\": [2, 3], \"datatype\": \"FP32\", "
		  "\"data\": [1,2,3,4,5,6], \"extra\": \"y\"}], \"outputs\": [{\"name\": \"output-0\"}]}", 2, w2);
	/* A leading Flatten on a 6-wide model without column names. */
	CHECK(decode(&c, &s6, "{\"inputs\": [{\"name\": \"img\", \"shape\": [1, 2, 3], \"datatype\": \"FP32\", "
		     "\"data\": [[[1,2,3],[4,5,6]]]}]}", &r, &e) == 0);
	CHECK(r.rows == 1 && r.x[0] == 1 && r.x[5] == 6);
	CHECK(decode(&c, &s6, "{\"inputs\": [{\"name\": \"img\", \"shape\": [2, 6], \"datatype\": \"FP32\", "
		     "\"data\": [[1,2,3,4,5,6],[7,8,9,10,11,12]]}]}", &r, &e) == 0);
	CHECK(r.rows == 2 && r.x[11] == 12);
	/* A width-1 model takes shape [rows]. */
	struct blob_model m1 = { .input_width = 1 };
	struct req_schema s1;
	req_schema_init(&s1, &m1);
	CHECK(decode(&c, &s1, "{\"inputs\": [{\"name\": \"x\", \"shape\": [3], \"datatype\": \"FP32\", \"data\": [7,8,9]}]}",
		     &r, &e) == 0);
	CHECK(r.rows == 3 && r.x[2] == 9);
	req_schema_free(&s1);
	req_ctx_free(&c);
}

static void test_ids(void)
{
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	char body[4096], id[1024];
	const char *tail = ", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}]}";

	req_ctx_init(&c, NULL);
	snprintf(body, sizeof body, "{\"id\": \"42\"%s", tail);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK_STR(r.id, "42");
	snprintf(body, sizeof body, "{\"id\": \"caf\\u00e9 \\\"q\\\"\"%s", tail);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK_STR(r.id, "caf\xc3\xa9 \"q\"");
	snprintf(body, sizeof body, "{\"id\": null%s", tail);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK_STR(r.id, "");
	snprintf(body, sizeof body, "{\"x\": 0%s", tail);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK_STR(r.id, "");
	/* Exactly V2_ID_MAX bytes, then one more. */
	memset(id, 'a', V2_ID_MAX);
	id[V2_ID_MAX] = '\0';
	snprintf(body, sizeof body, "{\"id\": \"%s\"%s", id, tail);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK(strlen(r.id) == V2_ID_MAX);
	snprintf(body, sizeof body, "{\"id\": \"%sb\"%s", id, tail);
	check_error(&c, &s3, body, REQ_E_SHAPE, "\"id\" is longer than 128 bytes");
	/* Escapes count once decoded: 128 \u0041 is 768 bytes of text. */
	size_t o = 0;
	for (int i = 0; i < V2_ID_MAX; i++)
		o += (size_t)snprintf(id + o, sizeof id - o, "\\u0041");
	snprintf(body, sizeof body, "{\"id\": \"%s\"%s", id, tail);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK(strlen(r.id) == V2_ID_MAX && r.id[0] == 'A');
	snprintf(body, sizeof body, "{\"id\": \"%s\\u0041\"%s", id, tail);
	check_error(&c, &s3, body, REQ_E_SHAPE, "longer than 128 bytes");
	/* 200 multi-byte characters: 600 bytes of text, 600 decoded. */
	o = 0;
	for (int i = 0; i < 200; i++)
		o += (size_t)snprintf(id + o, sizeof id - o, "\xc3\xa9");
	snprintf(body, sizeof body, "{\"id\": \"%s\"%s", id, tail);
	check_error(&c, &s3, body, REQ_E_SHAPE, "longer than 128 bytes");
	snprintf(body, sizeof body, "{\"id\": 42%s", tail);
	check_error(&c, &s3, body, REQ_E_SHAPE, "\"id\" must be a string, not a number");
	snprintf(body, sizeof body, "{\"id\": \"a\\u0000b\"%s", tail);
	check_error(&c, &s3, body, REQ_E_SHAPE, "\"id\" has a bad escape");
	req_ctx_free(&c);
}

static void test_classification(void)
{
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	char body[1024];
	const char *head = "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}]";

	req_ctx_init(&c, NULL);
	snprintf(body, sizeof body, "%s, \"outputs\": [{\"name\": \"output-0\", \"parameters\": {\"classification\": 2}}]}", head);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK_INT(r.classification, 2);
	snprintf(body, sizeof body, "%s, \"outputs\": [{\"name\": \"o\", \"parameters\": {\"classification\": 1.0, \"x\": 1}}, 5]}", head);
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK_INT(r.classification, 1);
	snprintf(body, sizeof body, "%s, \"outputs\": []}", head);
	CHECK(decode(&c, &s3, body, &r, &e) == 0 && r.classification == 0);
	snprintf(body, sizeof body, "%s, \"outputs\": [{\"name\": \"o\"}]}", head);
	CHECK(decode(&c, &s3, body, &r, &e) == 0 && r.classification == 0);
	static const char *bad[] = { "0", "-1", "1.5", "\"2\"", "null", "1e7" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(body, sizeof body, "%s, \"outputs\": [{\"name\": \"o\", \"parameters\": {\"classification\": %s}}]}",
			 head, bad[i]);
		check_error(&c, &s3, body, REQ_E_SHAPE, "classification must be a whole number from 1");
	}
	snprintf(body, sizeof body, "%s, \"outputs\": {\"name\": \"o\"}}", head);
	check_error(&c, &s3, body, REQ_E_SHAPE, "\"outputs\" must be a list");
	snprintf(body, sizeof body, "%s, \"outputs\": [\"o\"]}", head);
	check_error(&c, &s3, body, REQ_E_SHAPE, "outputs[0] must be an object");
	snprintf(body, sizeof body, "%s, \"outputs\": [{\"parameters\": [2]}]}", head);
	check_error(&c, &s3, body, REQ_E_SHAPE, "outputs[0].parameters must be an object");
	req_ctx_free(&c);
}

/* ---- errors ---- */

#define T(shape, dtype, data) \
	"{\"inputs\": [{\"name\": \"x\", \"shape\": " shape ", \"datatype\": \"" dtype "\", \"data\": " data "}]}"

static void test_datatype_errors(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, T("[1, 3]", "BYTES", "[\"a\",\"b\",\"c\"]"), REQ_E_TYPE,
		    "inputs[0].datatype BYTES is not supported: the model reads numbers; send FP32, FP64, INT8");
	check_error(&c, &s3, T("[1, 3]", "FP16", "[1,2,3]"), REQ_E_TYPE, "datatype FP16 is not supported");
	check_error(&c, &s3, T("[1, 3]", "BOOL", "[true,false,true]"), REQ_E_TYPE, "datatype BOOL is not supported");
	check_error(&c, &s3, T("[1, 3]", "float32", "[1,2,3]"), REQ_E_TYPE,
		    "inputs[0].datatype \"float32\" is not a V2 datatype; send FP32, FP64");
	check_error(&c, &s3, T("[1, 3]", "fp32", "[1,2,3]"), REQ_E_TYPE, "\"fp32\" is not a V2 datatype");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": 32, \"data\": [1,2,3]}]}",
		    REQ_E_TYPE, "inputs[0].datatype must be a string such as \"FP32\", not a number");
	req_ctx_free(&c);
}

static void test_shape_errors(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, T("[2, 4]", "FP32", "[1,2,3,4,5,6,7,8]"), REQ_E_SHAPE,
		    "inputs[0].shape [2, 4] has 4 values per row; the model reads 3");
	check_error(&c, &s784, T("[2, 28, 27]", "FP32", "[]"), REQ_E_SHAPE,
		    "inputs[0].shape [2, 28, 27] has 756 values per row; the model reads 784");
	check_error(&c, &s3, T("[6]", "FP32", "[1,2,3,4,5,6]"), REQ_E_SHAPE,
		    "inputs[0].shape [6] has 1 value per row; the model reads 3 (send [rows, 3])");
	check_error(&c, &s3, T("[2, 0]", "FP32", "[]"), REQ_E_SHAPE, "inputs[0].shape[1] must be a positive whole number, not 0");
	check_error(&c, &s3, T("[0, 3]", "FP32", "[]"), REQ_E_SHAPE, "inputs[0].shape[0] must be a positive whole number, not 0");
	check_error(&c, &s3, T("[-1, 3]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "shape[0] must be a positive whole number, not -1");
	check_error(&c, &s3, T("[1.5, 3]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "not 1.5");
	check_error(&c, &s3, T("[\"1\", 3]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "shape[0] must be a positive whole number, not a string");
	check_error(&c, &s3, T("[[1], 3]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "not an array");
	check_error(&c, &s3, T("[]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "inputs[0].shape must be a list of 1 to 16 positive whole numbers such as [2, 3]");
	check_error(&c, &s3, T("\"1,3\"", "FP32", "[1,2,3]"), REQ_E_SHAPE, "inputs[0].shape must be a list");
	check_error(&c, &s3, T("[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,3]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "shape must be a list of 1 to 16");
	check_error(&c, &s3, T("[1, 4294967296, 4294967296, 4294967296]", "FP32", "[1,2,3]"), REQ_E_SHAPE,
		    "has more than");
	check_error(&c, &s3, T("[1, 1e16]", "FP32", "[1,2,3]"), REQ_E_SHAPE, "shape[1] must be a positive whole number, not 1e16");
	req_ctx_free(&c);
}

static void test_data_errors(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	/* count mismatches */
	check_error(&c, &s3, T("[2, 3]", "FP32", "[1,2,3,4,5]"), REQ_E_SHAPE, "inputs[0].data has 5 values; shape [2, 3] holds 6");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[1,2,3,4,5,6,7]"), REQ_E_SHAPE, "inputs[0].data has 7 values; shape [2, 3] holds 6");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[]"), REQ_E_SHAPE, "inputs[0].data has 0 values; shape [2, 3] holds 6");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[[1,2,3],[4,5]]"), REQ_E_SHAPE,
		    "inputs[0].data[1] has 2 values; shape [2, 3] needs 3 there");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[[1,2,3]]"), REQ_E_SHAPE, "inputs[0].data has 1 values; shape [2, 3] needs 2 there");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[[1,2,3],4,5,6]"), REQ_E_SHAPE, "inputs[0].data has 4 values; shape [2, 3] needs 2 there");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[[1,2,3],\"4,5,6\"]"), REQ_E_SHAPE,
		    "inputs[0].data[1] is a string; shape [2, 3] needs a list of 3 there");
	check_error(&c, &s6, T("[1, 2, 3]", "FP32", "[[1,2,3,4,5,6]]"), REQ_E_SHAPE,
		    "inputs[0].data[0] has 6 values; shape [1, 2, 3] needs 2 there");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[[1,2,[3]]]"), REQ_E_TYPE, "inputs[0].data[0][2]: an array where a number belongs");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,[2],3]"), REQ_E_TYPE, "inputs[0].data[1]: an array where a number belongs");
	check_error(&c, &s3, T("[1, 3]", "FP32", "{\"a\": [1,2,3]}"), REQ_E_SHAPE, "inputs[0].data must be a list of numbers, not an object");
	check_error(&c, &s3, T("[1, 3]", "FP32", "5"), REQ_E_SHAPE, "inputs[0].data must be a list of numbers, not a number");
	/* values that are not numbers */
	check_error(&c, &s3, T("[2, 3]", "FP32", "[1,2,3,4,\"5\",6]"), REQ_E_TYPE, "inputs[0].data[4]: a string where a number belongs");
	check_error(&c, &s3, T("[2, 3]", "FP32", "[[1,2,3],[4,null,6]]"), REQ_E_TYPE, "inputs[0].data[1][1]: null where a number belongs");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[true,2,3]"), REQ_E_TYPE, "inputs[0].data[0]: a boolean where a number belongs");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,{},3]"), REQ_E_TYPE, "inputs[0].data[1]: an object where a number belongs");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,2,NaN]"), REQ_E_JSON, "malformed JSON at byte");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,2,Infinity]"), REQ_E_JSON, "malformed JSON");
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,2,-Infinity]"), REQ_E_JSON, "malformed JSON");
	/* ranges */
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,2,1e39]"), REQ_E_TYPE, "inputs[0].data[2]: 1e39 is outside float32's range");
	check_error(&c, &s3, T("[1, 3]", "FP64", "[1,-1e300,3]"), REQ_E_TYPE, "inputs[0].data[1]: -1e300 is outside float32's range");
	check_error(&c, &s3, T("[1, 3]", "FP64", "[1,2,1e999]"), REQ_E_TYPE, "1e999 is outside float32's range");
	check_error(&c, &s3, T("[1, 3]", "INT32", "[1,2.5,3]"), REQ_E_TYPE, "inputs[0].data[1]: 2.5 is not a whole number (datatype INT32)");
	check_error(&c, &s3, T("[1, 3]", "INT8", "[1,2,128]"), REQ_E_TYPE, "inputs[0].data[2]: 128 is outside INT8's range");
	check_error(&c, &s3, T("[1, 3]", "INT8", "[-129,2,3]"), REQ_E_TYPE, "-129 is outside INT8's range");
	check_error(&c, &s3, T("[1, 3]", "UINT8", "[1,-1,3]"), REQ_E_TYPE, "-1 is outside UINT8's range");
	check_error(&c, &s3, T("[1, 3]", "UINT16", "[1,65536,3]"), REQ_E_TYPE, "65536 is outside UINT16's range");
	check_error(&c, &s3, T("[1, 3]", "INT64", "[1,9223372036854775808,3]"), REQ_E_TYPE, "outside INT64's range");
	check_error(&c, &s3, T("[1, 3]", "INT64", "[-9223372036854775809,2,3]"), REQ_E_TYPE, "outside INT64's range");
	check_error(&c, &s3, T("[1, 3]", "UINT64", "[18446744073709551616,2,3]"), REQ_E_TYPE, "outside UINT64's range");
	check_error(&c, &s3, T("[1, 3]", "INT32", "[1,2,3e9]"), REQ_E_TYPE, "3e9 is outside INT32's range");
	check_error(&c, &s3, T("[1, 3]", "INT32", "[1,2,2147483648]"), REQ_E_TYPE, "2147483648 is outside INT32's range");
	check_error(&c, &s3, T("[1, 3]", "UINT64", "[1,1e999,3]"), REQ_E_TYPE, "1e999 is outside UINT64's range");
	/* the tensor's fields */
	check_error(&c, &s3, "{\"inputs\": [{\"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}]}", REQ_E_SHAPE,
		    "inputs[0] has no \"name\"");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"data\": [1,2,3]}]}", REQ_E_SHAPE,
		    "inputs[0] has no \"shape\"");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"data\": [1,2,3]}]}", REQ_E_SHAPE,
		    "inputs[0] has no \"datatype\"");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\"}]}", REQ_E_SHAPE,
		    "inputs[0] has no \"data\"");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": 1, \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}]}",
		    REQ_E_SHAPE, "inputs[0].name must be a string, not a number");
	req_ctx_free(&c);
}

static void test_envelope_errors(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	const char *one = "{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}";
	char body[512];
	snprintf(body, sizeof body, "{\"inputs\": [%s, %s]}", one, one);
	check_error(&c, &s3, body, REQ_E_SHAPE, "\"inputs\" has 2 tensors; the model reads exactly one");
	check_error(&c, &s3, "{\"inputs\": []}", REQ_E_SHAPE, "\"inputs\" has 0 tensors; the model reads exactly one");
	check_error(&c, &s3, "{\"id\": \"1\"}", REQ_E_SHAPE, "the body has no \"inputs\"");
	snprintf(body, sizeof body, "{\"inputs\": %s}", one);
	check_error(&c, &s3, body, REQ_E_SHAPE, "\"inputs\" must be a list of tensors, not an object");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]]}", REQ_E_SHAPE, "inputs[0] must be an object");
	check_error(&c, &s3, "[{\"inputs\": []}]", REQ_E_SHAPE, "expected a JSON object such as {\"inputs\"");
	check_error(&c, &s3, "\"inputs\"", REQ_E_SHAPE, "expected a JSON object");
	req_ctx_free(&c);
}

static void test_malformed_json(void)
{
	static const struct { const char *body, *frag; } cases[] = {
		{ T("[1, 3]", "FP32", "[1,2,3]") " x", "malformed JSON at byte 82" },
		{ T("[1, 3]", "FP32", "[1,2,3]") " {}", "text after the value" },
		{ T("[1, 3]", "FP32", "[1,2,3]") "7", "malformed JSON" },
		{ T("[1, 3]", "FP32", "[1 2 3]"), "malformed JSON" },
		{ T("[1, 3]", "FP32", "[1,2,3,]"), "malformed JSON" },
		{ T("[1, 3]", "FP32", "[01,2,3]"), "not a JSON value" },
		{ T("[1, 3]", "FP32", "[1.,2,3]"), "not a JSON value" },
		{ T("[1, 3]", "FP32", "[+1,2,3]"), "malformed JSON" },
		{ T("[1, 3]", "FP32", "[0x1,2,3]"), "malformed JSON" },
		{ "{\"inputs\": [{\"name\": \"x\" \"shape\": [1, 3]}]}", "malformed JSON" },
		{ "{\"inputs\" [{}]}", "malformed JSON" },
		{ "{\"inputs\": [{\"name\": \"x\tb\"}]}", "control character" },
		{ "{\"inputs\": [{\"name\": \"x\"}]", "ends too early" },
		{ "{\"inputs\": [{\"name\": \"x}]}", "ends too early" },
		{ "", "malformed JSON" },
		{ "  \n", "malformed JSON" },
		{ "{1: 2}", "malformed JSON" },
	};
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_error(&c, &s3, cases[i].body, REQ_E_JSON, cases[i].frag);
	/* Deep nesting is refused before jsmn runs, inside "data" or out. */
	char deep[400];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 199);
	deep[399] = '\0';
	check_error(&c, &s3, deep, REQ_E_JSON, "nested too deeply (more than 64 levels)");
	char *body = malloc(1000);
	size_t o = (size_t)snprintf(body, 1000, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": ");
	memset(body + o, '[', 70);
	memset(body + o + 70, ']', 70);
	snprintf(body + o + 140, 1000 - o - 140, "}]}");
	check_error(&c, &s3, body, REQ_E_JSON, "nested too deeply");
	/* 60 levels is within the limit: a shape error, not a JSON one. */
	memset(body + o, '[', 60);
	memset(body + o + 60, ']', 60);
	snprintf(body + o + 120, 1000 - o - 120, "}]}");
	check_error(&c, &s3, body, REQ_E_SHAPE, "inputs[0].data[0] has 1 values; shape [1, 3] needs 3 there");
	free(body);
	req_ctx_free(&c);
}

static void test_limits(void)
{
	struct req_limits lim = { .max_bytes = 4096, .max_tokens = 64, .max_rows = 4, .max_values = 9 };
	struct req_ctx c;
	char body[8192];

	req_ctx_init(&c, &lim);
	check_ok3(&c, T("[3, 3]", "FP32", "[1,2,3,4,5,6,7,8,9]"), 3, (const float[]){ 1, 2, 3, 4, 5, 6, 7, 8, 9 });
	/* rows: shape[0] above max_rows, before any data is read */
	check_error(&c, &s3, T("[5, 3]", "FP32", "[]"), REQ_E_LIMIT, "5 rows; the limit is 4");
	/* values: rows x width above max_values */
	check_error(&c, &s3, T("[4, 3]", "FP32", "[]"), REQ_E_LIMIT, "4 rows of 3 values exceed the limit of 9 values");
	/* tokens: a long data list */
	size_t o = (size_t)snprintf(body, sizeof body, "{\"inputs\": [{\"name\": \"x\", \"shape\": [3, 3], \"datatype\": \"FP32\", \"data\": [");
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(body + o, sizeof body - o, "%s%d", i ? "," : "", i);
	snprintf(body + o, sizeof body - o, "]}]}");
	check_error(&c, &s3, body, REQ_E_LIMIT, "the body has more than 64 JSON values (limit)");
	/* bytes */
	memset(body, ' ', 5000);
	snprintf(body + 5000, sizeof body - 5000, "%s", T("[1, 3]", "FP32", "[1,2,3]"));
	check_error(&c, &s3, body, REQ_E_LIMIT, "the body has 5081 bytes; the limit is 4096");
	/* still serving after every refusal */
	check_ok3(&c, T("[1, 3]", "FP32", "[[7,8,9]]"), 1, (const float[]){ 7, 8, 9 });
	req_ctx_free(&c);
}

/* One context, requests large and small, valid and not: no stale state. */
static void test_reuse(void)
{
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	char *body = malloc(1 << 20);
	req_ctx_init(&c, NULL);
	size_t o = (size_t)snprintf(body, 1 << 20, "{\"id\": \"big\", \"inputs\": [{\"name\": \"x\", \"shape\": [5000, 3], "
				    "\"datatype\": \"FP32\", \"data\": [");
	for (int i = 0; i < 15000; i++)
		o += (size_t)snprintf(body + o, (1 << 20) - o, "%s%d", i ? ", " : "", i);
	snprintf(body + o, (1 << 20) - o, "]}]}");
	CHECK(decode(&c, &s3, body, &r, &e) == 0);
	CHECK(r.rows == 5000 && r.x[14999] == 14999 && strcmp(r.id, "big") == 0);
	check_error(&c, &s3, T("[1, 3]", "FP32", "[1,2]"), REQ_E_SHAPE, "data has 2 values");
	CHECK(decode(&c, &s3, T("[1, 3]", "FP32", "[1,2,3]"), &r, &e) == 0);
	CHECK(r.rows == 1 && r.x[2] == 3 && r.id[0] == '\0' && r.classification == 0);
	free(body);
	req_ctx_free(&c);
}

/* ---- responses ---- */

static void test_encode_exact(void)
{
	struct enc_buf b;
	const float y[] = { 0.5f, 2.0f, 2.0f, -1.0f, 0.25f, 3.0f };
	const char *const names[] = { "a", "b \"q\"", "c" };

	enc_init(&b, 0);
	v2_encode(&b, "mnist", "3", "req-7", y, 2, 3, 0, NULL);
	CHECK_STR(b.p, "{\"model_name\": \"mnist\", \"model_version\": \"3\", \"id\": \"req-7\", \"outputs\": "
		  "[{\"name\": \"output-0\", \"shape\": [2, 3], \"datatype\": \"FP32\", \"data\": "
		  "[0.5, 2.0, 2.0, -1.0, 0.25, 3.0]}]}");
	CHECK(enc_status(&b) == ENC_OK);
	enc_reset(&b);
	v2_encode(&b, "mnist", NULL, "", y, 1, 3, 0, NULL);
	CHECK_STR(b.p, "{\"model_name\": \"mnist\", \"outputs\": [{\"name\": \"output-0\", \"shape\": [1, 3], "
		  "\"datatype\": \"FP32\", \"data\": [0.5, 2.0, 2.0]}]}");
	enc_reset(&b);
	v2_encode(&b, "m\xc3\xa9", "", "caf\xc3\xa9 \"1\"", y, 1, 3, 0, NULL);
	CHECK_STR(b.p, "{\"model_name\": \"m\\u00e9\", \"id\": \"caf\\u00e9 \\\"1\\\"\", \"outputs\": [{\"name\": "
		  "\"output-0\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [0.5, 2.0, 2.0]}]}");
	/* classification: flat BYTES, each row's best first, ties by index */
	enc_reset(&b);
	v2_encode(&b, "mnist", "3", NULL, y, 2, 3, 2, names);
	CHECK_STR(b.p, "{\"model_name\": \"mnist\", \"model_version\": \"3\", \"outputs\": [{\"name\": \"output-0\", "
		  "\"shape\": [2, 2], \"datatype\": \"BYTES\", \"data\": "
		  "[\"2.0:1:b \\\"q\\\"\", \"2.0:2:c\", \"3.0:2:c\", \"0.25:1:b \\\"q\\\"\"]}]}");
	enc_reset(&b);
	v2_encode(&b, "mnist", "3", NULL, y, 2, 3, 9, NULL);   /* K above the width: all of them */
	CHECK_STR(b.p, "{\"model_name\": \"mnist\", \"model_version\": \"3\", \"outputs\": [{\"name\": \"output-0\", "
		  "\"shape\": [2, 3], \"datatype\": \"BYTES\", \"data\": "
		  "[\"2.0:1\", \"2.0:2\", \"0.5:0\", \"3.0:2\", \"0.25:1\", \"-1.0:0\"]}]}");
	enc_reset(&b);
	v2_encode(&b, "mnist", "3", NULL, y, 1, 3, 1, NULL);
	CHECK_STR(b.p, "{\"model_name\": \"mnist\", \"model_version\": \"3\", \"outputs\": [{\"name\": \"output-0\", "
		  "\"shape\": [1, 1], \"datatype\": \"BYTES\", \"data\": [\"2.0:1\"]}]}");
	enc_free(&b);
}

static void test_encode_status(void)
{
	struct enc_buf b;
	float y[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	y[7] = NAN;
	enc_init(&b, 0);
	v2_encode(&b, "m", "1", "", y, 3, 3, 0, NULL);
	CHECK(enc_status(&b) == ENC_NONFINITE);
	CHECK_INT(b.bad_row, 2);
	enc_reset(&b);
	v2_encode(&b, "m", "1", "", y, 3, 3, 2, NULL);
	CHECK(enc_status(&b) == ENC_NONFINITE);
	CHECK_INT(b.bad_row, 2);
	enc_free(&b);
	/* A cap below the response: FULL, within the cap, never a crash. */
	y[7] = 8;
	enc_init(&b, 80);
	v2_encode(&b, "m", "1", "", y, 3, 3, 0, NULL);
	CHECK(enc_status(&b) == ENC_FULL && b.len <= 80);
	enc_free(&b);
	enc_init(&b, 130);
	v2_encode(&b, "m", "1", "", y, 3, 3, 2, NULL);
	CHECK(enc_status(&b) == ENC_FULL && b.len <= 130);
	enc_free(&b);
}

/* What v2_encode writes, v2_decode-shaped bodies aside, is JSON that jsmn
 * and json_validate accept. */
static void test_encode_valid(void)
{
	struct enc_buf b;
	jsmntok_t t[64];
	jsmn_parser p;
	size_t bad;
	const char *why;
	const float y[] = { 0.1f, -2.5f, 1e-7f, 3e20f };
	const char *const names[] = { "x", "\xf0\x9f\x98\x80", "\\", "\t" };

	enc_init(&b, 0);
	v2_encode(&b, "a\"b", "v\n1", "id\\", y, 2, 2, 0, NULL);
	jsmn_init(&p);
	int n = jsmn_parse(&p, b.p, b.len, t, 64);
	CHECK(n > 0 && json_validate(b.p, b.len, t, n, &bad, &why) == 0);
	enc_reset(&b);
	v2_encode(&b, "m", "1", "x", y, 1, 4, 4, names);
	jsmn_init(&p);
	n = jsmn_parse(&p, b.p, b.len, t, 64);
	CHECK(n > 0 && json_validate(b.p, b.len, t, n, &bad, &why) == 0);
	int d = n > 0 ? json_get(b.p, t, json_get(b.p, t, 0, "outputs") + 1, "data") : -1;
	CHECK(d > 0 && t[d].size == 4);
	char s[64];
	CHECK(d > 0 && json_string(b.p, t, d + 1, s, sizeof s) > 0 && strcmp(s, "3.000000060122632e+20:3:\t") == 0);
	CHECK(d > 0 && json_string(b.p, t, d + 4, s, sizeof s) > 0 && strcmp(s, "-2.5:1:\xf0\x9f\x98\x80") == 0);
	enc_free(&b);
}

/* ---- issue 15 (hE): duplicate keys, echoed text, invalid UTF-8 out ---- */

static void test_issue15(void)
{
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	struct enc_buf b;
	const float y[] = { 0.5f, 2.0f, 2.0f };
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3], "
		    "\"data\": [4,5,6]}]}", REQ_E_JSON, "key \"data\" is given twice (at byte 80)");
	check_error(&c, &s3, "{\"id\": \"1\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", "
		    "\"data\": [1,2,3]}], \"\\u0069d\": \"2\"}", REQ_E_JSON, "key \"\\x5cu0069d\" is given twice");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP32\", \"data\": [1,2,3]}], "
		    "\"outputs\": [{\"name\": \"o\", \"parameters\": {\"classification\": 1, \"classification\": 2}}]}",
		    REQ_E_JSON, "key \"classification\" is given twice");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP\\u0033\\u0032\\u0021\", "
		    "\"data\": [1,2,3]}]}", REQ_E_TYPE, "datatype \"FP\\x5cu0033\\x5cu0032\\x5cu0021\" is not");
	check_error(&c, &s3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], \"datatype\": \"FP\xc3\xa9\", "
		    "\"data\": [1,2,3]}]}", REQ_E_TYPE, "datatype \"FP\\xc3\\xa9\" is not");
	/* An id of raw bytes that are not UTF-8 is read as given and sent
	 * back with U+FFFD: never as the surrogate it spells. */
	const char *body = "{\"id\": \"a\xed\xa0\x80z\", \"inputs\": [{\"name\": \"x\", \"shape\": [1, 3], "
			   "\"datatype\": \"FP32\", \"data\": [1,2,3]}]}";
	CHECKF(decode(&c, &s3, body, &r, &e) == 0, "%s", e.msg);
	enc_init(&b, 0);
	v2_encode(&b, "m", NULL, r.id, y, 1, 3, 0, NULL);
	CHECK_CONTAINS(b.p, "\"id\": \"a\\ufffd\\ufffd\\ufffdz\"");
	CHECK(enc_status(&b) == ENC_OK);
	enc_free(&b);
	req_ctx_free(&c);
}

/* ---- issue 17: a model whose rows are images ---- */

/* The blob's input_shape (C, H, W): [rows, C, H, W] and [rows, C*H*W] read
 * the same; [rows, H, W, C] (NHWC) and other shapes of that size are
 * refused, not read in the wrong order.  A flat-row model keeps the leading
 * Flatten. */
static void test_issue17_image_shapes(void)
{
	struct blob_model mi = { .input_width = 12, .input_shape = { 3, 2, 2 } };
	struct blob_model mf = { .input_width = 12 };
	struct req_schema si, sf;
	struct req_ctx c;
	struct v2_request r;
	struct req_error e;
	static const char *const nchw = "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3, 2, 2], \"datatype\": \"FP32\", "
		"\"data\": [[[[1,2],[3,4]],[[5,6],[7,8]],[[9,10],[11,12]]],[[[13,14],[15,16]],[[17,18],[19,20]],"
		"[[21,22],[23,24]]]]}]}";
	static const char *const flat = "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 12], \"datatype\": \"FP32\", "
		"\"data\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]}]}";
	static const char *const nhwc = "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 2, 2, 3], \"datatype\": \"FP32\", "
		"\"data\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]}]}";
	static const char *const hw = "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 3, 4], \"datatype\": \"FP32\", "
		"\"data\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]}]}";
	req_schema_init(&si, &mi);
	req_schema_init(&sf, &mf);
	req_ctx_init(&c, NULL);
	CHECK(si.shape[0] == 3 && si.shape[1] == 2 && si.shape[2] == 2);
	for (int k = 0; k < 2; k++) {
		int rc = decode(&c, &si, k ? flat : nchw, &r, &e);
		CHECKF(rc == 0, "%s", e.msg);
		CHECK(rc == 0 && r.rows == 2 && r.x[0] == 1 && r.x[11] == 12 && r.x[23] == 24);
	}
	check_error(&c, &si, nhwc, REQ_E_SHAPE, "inputs[0].shape [2, 2, 2, 3] is not the model's input [-1, 3, 2, 2] "
		    "(channels, height, width): send [rows, 3, 2, 2] or [rows, 12]");
	check_error(&c, &si, hw, REQ_E_SHAPE, "inputs[0].shape [2, 3, 4] is not the model's input [-1, 3, 2, 2]");
	/* another size: the message it always had */
	check_error(&c, &si, T("[2, 3, 2, 3]", "FP32", "[]"), REQ_E_SHAPE,
		    "inputs[0].shape [2, 3, 2, 3] has 18 values per row; the model reads 12");
	/* a flat-row model: any shape of that size, as before */
	CHECK(decode(&c, &sf, nhwc, &r, &e) == 0 && r.rows == 2 && r.x[23] == 24);
	CHECK(decode(&c, &sf, hw, &r, &e) == 0 && r.rows == 2);
	req_ctx_free(&c);
	req_schema_free(&si);
	req_schema_free(&sf);
}

int main(void)
{
	setup();
	RUN(test_tutorial_images);
	RUN(test_tutorial_response);
	RUN(test_layouts);
	RUN(test_ids);
	RUN(test_classification);
	RUN(test_datatype_errors);
	RUN(test_shape_errors);
	RUN(test_data_errors);
	RUN(test_envelope_errors);
	RUN(test_malformed_json);
	RUN(test_limits);
	RUN(test_reuse);
	RUN(test_encode_exact);
	RUN(test_encode_status);
	RUN(test_encode_valid);
	RUN(test_issue15);
	RUN(test_issue17_image_shapes);
	teardown();
	return unit_done();
}
