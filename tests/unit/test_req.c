/* test_req.c - model/req.c: every request shape, every error, every cap. */
#include "tests/unit/unit.h"
#include "tests/unit/unit_model.h"
#include "model/req.h"
#include "model/v2.h"

#include <stdint.h>
#include <stdlib.h>

/* ---- helpers ---- */


static struct blob_model m784, m3, m3anon;
static struct req_schema s784, s3, s3anon;
static const char *abc[3] = { "a", "b", "c" };

static void setup(void)
{
	unit_model784(&m784);
	m3.input_width = 3;
	m3.ncolumns = 3;
	m3.columns = abc;
	m3anon.input_width = 3;
	req_schema_init(&s784, &m784);
	req_schema_init(&s3, &m3);
	req_schema_init(&s3anon, &m3anon);
}

/* The reference matrix: batch200.csv read with strtod, row by row. */
static float *reference(const char *csv, size_t *rows)
{
	size_t n;
	char *text = unit_slurp(csv, &n);
	if (!text)
		return NULL;
	float *x = malloc(200 * 784 * sizeof *x);
	char *p = strchr(text, '\n') + 1;
	size_t k = 0;
	while (*p && k < 200 * 784) {
		char *end;
		x[k++] = (float)strtod(p, &end);
		p = end + (*end != '\0');
	}
	*rows = k / 784;
	free(text);
	return x;
}

static int decode(struct req_ctx *c, const struct req_schema *s, const char *body, unsigned flags,
		  struct req_result *r, struct req_error *e)
{
	return req_decode_json(c, s, body, strlen(body), flags, r, e);
}

/* body must fail with `code` and a message containing `frag`. */
static void check_error(struct req_ctx *c, const struct req_schema *s, const char *body, unsigned flags,
			enum req_errcode code, const char *frag)
{
	struct req_result r;
	struct req_error e;
	int rc = decode(c, s, body, flags, &r, &e);
	CHECKF(rc < 0, "accepted: %.80s", body);
	if (rc < 0) {
		CHECKF(e.code == code, "code %d, want %d: %s", e.code, code, e.msg);
		CHECKF(strstr(e.msg, frag) != NULL, "\"%s\" lacks \"%s\" (body %.60s)", e.msg, frag, body);
		CHECK(e.status == (code == REQ_E_LIMIT ? 413 : 400));
	}
}

static void check_ok3(struct req_ctx *c, const char *body, unsigned flags, size_t rows, const float *want)
{
	struct req_result r;
	struct req_error e;
	int rc = decode(c, &s3, body, flags, &r, &e);
	CHECKF(rc == 0, "%s: %s", body, e.msg);
	if (rc)
		return;
	CHECKF(r.rows == rows, "%s: %zu rows", body, r.rows);
	for (size_t i = 0; i < rows * 3 && r.rows == rows; i++)
		CHECKF(r.x[i] == want[i], "%s: x[%zu] = %g, want %g", body, i, (double)r.x[i], (double)want[i]);
}

/* ---- fixtures ---- */

static void test_every_fixture_shape(void)
{
	static const char *files[] = {
		"batch200_azureml_split.json", "batch200_azureml_list.json", "batch200_azureml_columns.json",
		"batch200_dataframe_split.json", "batch200_dataframe_records.json", "batch200_instances.json",
		"batch200_instances_records.json", "batch200_inputs.json", "batch200_inputs_columns.json",
		"batch200.csv",
	};
	struct req_ctx c;
	size_t rows = 0;
	float *want = reference("fixtures/test_data/batch200.csv", &rows);

	CHECK(want && rows == 200);
	req_ctx_init(&c, NULL);
	for (size_t f = 0; want && f < sizeof files / sizeof files[0]; f++) {
		char path[256];
		size_t n;
		snprintf(path, sizeof path, "fixtures/test_data/%s", files[f]);
		char *body = unit_slurp(path, &n);
		struct req_result r;
		struct req_error e;
		int rc = strstr(files[f], ".csv") ? req_decode_csv(&c, &s784, body, n, &r, &e) :
			 req_decode_json(&c, &s784, body, n, 0, &r, &e);
		CHECKF(rc == 0, "%s: %s", files[f], e.msg);
		CHECKF(rc || r.rows == 200, "%s: %zu rows", files[f], r.rows);
		CHECKF(rc || memcmp(r.x, want, 200 * 784 * sizeof *want) == 0, "%s: values differ", files[f]);
		free(body);
	}
	free(want);
	req_ctx_free(&c);
}

static void test_tutorial_files(void)
{
	static const char *files[] = { "images_azureml.json", "images.json", "images.csv" };
	struct req_ctx c;
	float first[784];
	req_ctx_init(&c, NULL);
	for (int f = 0; f < 3; f++) {
		char path[256];
		size_t n;
		snprintf(path, sizeof path, "fixtures/test_data/%s", files[f]);
		char *body = unit_slurp(path, &n);
		struct req_result r;
		struct req_error e;
		/* images.json is split orient without a key: wrap it as MLflow's dataframe_split */
		int rc;
		if (f == 1) {
			char *wrapped = malloc(n + 32);
			int m = snprintf(wrapped, n + 32, "{\"dataframe_split\": %s}", body);
			rc = req_decode_json(&c, &s784, wrapped, (size_t)m, REQ_MLFLOW, &r, &e);
			free(wrapped);
		} else {
			rc = f == 2 ? req_decode_csv(&c, &s784, body, n, &r, &e) :
			     req_decode_json(&c, &s784, body, n, 0, &r, &e);
		}
		CHECKF(rc == 0 && r.rows == 2, "%s: %s", files[f], rc ? e.msg : "rows");
		if (rc == 0 && f == 0)
			memcpy(first, r.x, sizeof first);
		if (rc == 0 && f > 0)
			CHECKF(memcmp(first, r.x, sizeof first) == 0, "%s differs from images_azureml.json", files[f]);
		free(body);
	}
	req_ctx_free(&c);
}

/* ---- shapes on a 3-column model ---- */

static void test_shapes(void)
{
	struct req_ctx c;
	const float w2[] = { 1, 2, 3, 4, 5, 6 };
	req_ctx_init(&c, NULL);
	check_ok3(&c, "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\"], \"index\": [0, 1], \"data\": [[1,2,3],[4,5,6]]}}", 0, 2, w2);
	check_ok3(&c, "{\"input_data\": {\"columns\": [\"c\",\"a\",\"b\"], \"data\": [[3,1,2],[6,4,5]]}}", 0, 2, w2);
	check_ok3(&c, "{\"input_data\": {\"columns\": [\"c\",\"x\",\"a\",\"b\"], \"data\": [[3,\"s\",1,2],[6,null,4,5]]}}", 0, 2, w2);
	check_ok3(&c, "{\"input_data\": [[1,2,3],[4,5,6]]}", 0, 2, w2);
	check_ok3(&c, "{\"input_data\": {\"b\": [2,5], \"a\": [1,4], \"c\": [3,6]}}", 0, 2, w2);
	check_ok3(&c, "{\"dataframe_split\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2,3],[4,5,6]]}}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"dataframe_split\": {\"data\": [[1,2,3],[4,5,6]]}}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"dataframe_records\": [{\"c\":3,\"b\":2,\"a\":1},{\"a\":4,\"b\":5,\"c\":6,\"z\":\"extra\"}]}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"instances\": [[1,2,3],[4,5,6]]}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"instances\": [{\"a\":1,\"b\":2,\"c\":3},{\"a\":4,\"b\":5,\"c\":6}]}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"inputs\": [[1,2,3],[4,5,6]]}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"inputs\": {\"a\":[1,4],\"b\":[2,5],\"c\":[3,6]}}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"inputs\": {\"x\": [[1,2,3],[4,5,6]]}}", REQ_MLFLOW, 2, w2);
	check_ok3(&c, "{\"inputs\": [[1,2,3],[4,5,6]], \"params\": {\"top_k\": 2, \"other\": \"ok\"}}", REQ_MLFLOW, 2, w2);
	/* Values the fast path leaves to the general path still decode. */
	check_ok3(&c, " {\"input_data\" : [ [ 1 , 2.0e0 , 3 ] , [4,5,6] ] } \n", 0, 2, w2);
	check_ok3(&c, "{\"input_data\": [[1, 2, 3], [4, 5, 6.000000000000000000001]]}", 0, 2, w2);
	/* Escaped column names. */
	check_ok3(&c, "{\"input_data\": {\"columns\": [\"\\u0061\",\"b\",\"\\u0063\"], \"data\": [[1,2,3],[4,5,6]]}}", 0, 2, w2);
	/* Numbers as pandas and torch read them: correctly rounded double, then float32. */
	const float f[] = { -0.0f, 1e-45f, (float)0.1, 16777216.0f, (float)3.4028234663852886e38, 0.0f };
	check_ok3(&c, "{\"input_data\": [[-0.0, 1e-45, 0.1], [16777217, 3.4028234663852886e+38, 1e-50]]}", 0, 2, f);
	/* The "0.0" shortcut keeps every other zero-like number exact. */
	const float z[] = { 0.0f, 0.05f, 0.0f, 0.0f, 0.0f, 10.0f };
	check_ok3(&c, "{\"input_data\": [[0.0,0.05,0.0 ],[0,-0.0,1.0e1]]}", 0, 2, z);
	check_error(&c, &s3, "{\"input_data\": [[0.0,00.0,1]]}", 0, REQ_E_JSON, "not a JSON value");
	struct req_result r;
	struct req_error e;
	CHECK(decode(&c, &s3, "{\"input_data\": [[0.0,-0.0,0.0]]}", 0, &r, &e) == 0);
	CHECK(r.rows == 1 && !signbit(r.x[0]) && signbit(r.x[1]) && !signbit(r.x[2]));
	CHECK(decode(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": {\"top_k\": 2}}", REQ_MLFLOW, &r, &e) == 0);
	CHECK_INT(r.top_k, 2);
	CHECK_INT(r.key, REQ_KEY_INPUTS);
	CHECK(signbit(r.x[0]) == 0);
	req_ctx_free(&c);
}

/* The cached column mapping never outlives a request that remapped. */
static void test_column_cache(void)
{
	struct req_ctx c;
	const float w2[] = { 1, 2, 3, 4, 5, 6 };
	const char *split = "{\"input_data\": {\"columns\": [\"c\",\"a\",\"b\"], \"data\": [[3,1,2],[6,4,5]]}}";
	req_ctx_init(&c, NULL);
	check_ok3(&c, split, 0, 2, w2);
	check_ok3(&c, split, 0, 2, w2);   /* from the cache */
	check_ok3(&c, "{\"inputs\": {\"b\":[2,5],\"c\":[3,6],\"a\":[1,4]}}", 0, 2, w2);
	check_ok3(&c, split, 0, 2, w2);
	struct req_result r;
	struct req_error e;
	CHECK(req_decode_csv(&c, &s3, "b,a,c\n2,1,3\n5,4,6\n", 18, &r, &e) == 0);
	check_ok3(&c, split, 0, 2, w2);
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"c\",\"a\"], \"data\": [[3,1]]}}", 0, REQ_E_COLUMNS, "missing: b");
	check_ok3(&c, split, 0, 2, w2);
	/* The cached list's text anywhere else is strings, not numbers. */
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"c\",\"a\",\"b\"], \"data\": [[\"c\",\"a\",\"b\"]]}}", 0,
		    REQ_E_TYPE, "row 0: strings where numbers belong");
	check_error(&c, &s3, "{\"input_data\": [\"c\",\"a\",\"b\"]}", 0, REQ_E_SHAPE, "row 0 is a string");
	check_error(&c, &s3, "{\"inputs\": {\"a\": [\"c\",\"a\",\"b\"], \"b\": [1,2,3], \"c\": [1,2,3]}}", 0, REQ_E_TYPE,
		    "column a: strings where numbers belong");
	check_ok3(&c, "{\"input_data\": {\"index\": [\"c\",\"a\",\"b\"], \"columns\": [\"c\",\"a\",\"b\"], \"data\": [[3,1,2],[6,4,5]]}}", 0, 2, w2);
	/* A type error in a cached-columns request still names the column. */
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"c\",\"a\",\"b\"], \"data\": [[3,1,null]]}}", 0,
		    REQ_E_TYPE, "row 0, column b: null");
	/* Another schema never uses this one's cache. */
	check_error(&c, &s784, split, 0, REQ_E_COLUMNS, "784 of the model's 784 columns are missing");
	/* The model's own order is copied row by row; each other order, and an
	 * extra column the model ignores, after it and before it still map. */
	const char *inorder = "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2,3],[4,5,6]]}}";
	const char *extra = "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\",\"z\"], \"data\": [[1,2,3,9],[4,5,6,9]]}}";
	const char *twisted = "{\"input_data\": {\"columns\": [\"a\",\"c\",\"b\"], \"data\": [[1,3,2],[4,6,5]]}}";
	check_ok3(&c, inorder, 0, 2, w2);
	check_ok3(&c, inorder, 0, 2, w2);
	check_ok3(&c, split, 0, 2, w2);
	check_ok3(&c, inorder, 0, 2, w2);
	check_ok3(&c, extra, 0, 2, w2);
	check_ok3(&c, twisted, 0, 2, w2);
	CHECK(req_decode_csv(&c, &s3, "b,a,c\n2,1,3\n5,4,6\n", 18, &r, &e) == 0 && r.x[0] == 1 && r.x[1] == 2);
	check_ok3(&c, twisted, 0, 2, w2);
	check_ok3(&c, inorder, 0, 2, w2);
	req_ctx_free(&c);
}

static void test_anonymous_model(void)
{
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	req_ctx_init(&c, NULL);
	CHECK(decode(&c, &s3anon, "{\"input_data\": [[1,2,3]]}", 0, &r, &e) == 0);
	CHECK(decode(&c, &s3anon, "{\"input_data\": {\"columns\": [\"p\",\"q\",\"r\"], \"data\": [[1,2,3]]}}", 0, &r, &e) == 0);
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"p\": 1}]}", 0, REQ_E_COLUMNS, "no column names");
	check_error(&c, &s3anon, "{\"input_data\": {\"columns\": [\"p\"], \"data\": [[1]]}}", 0, REQ_E_COLUMNS, "reads exactly 3");
	req_ctx_free(&c);
}

/* ---- errors ---- */

static void test_shape_errors(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, "{\"input_data\": [[1,2,3],[4,5]]}", 0, REQ_E_SHAPE, "row 1 has 2 values; expected 3");
	check_error(&c, &s3, "{\"input_data\": [[1,2,3,4]]}", 0, REQ_E_SHAPE, "row 0 has 4 values; expected 3");
	check_error(&c, &s3, "{\"input_data\": [[1,2,\"x\"],[4,5,6]]}", 0, REQ_E_TYPE, "row 0, column 2");
	check_error(&c, &s3, "{\"input_data\": []}", 0, REQ_E_SHAPE, "no rows");
	check_error(&c, &s3, "{\"input_data\": [1,2,3]}", 0, REQ_E_SHAPE, "row 0 is a number");
	check_error(&c, &s3, "{\"input_data\": 5}", 0, REQ_E_SHAPE, "input_data must be");
	check_error(&c, &s3, "[[1,2,3]]", 0, REQ_E_SHAPE, "expected a JSON object");
	check_error(&c, &s3, "{\"rows\": [[1,2,3]]}", 0, REQ_E_SHAPE, "none of input_data");
	check_error(&c, &s3, "{\"input_data\": [[1,2,3]], \"inputs\": [[1,2,3]]}", 0, REQ_E_SHAPE, "more than one");
	check_error(&c, &s3, "{\"dataframe_split\": [[1,2,3]]}", 0, REQ_E_SHAPE, "dataframe_split must be an object");
	check_error(&c, &s3, "{\"dataframe_split\": {\"columns\": [\"a\",\"b\",\"c\"]}}", 0, REQ_E_SHAPE, "no \"data\"");
	check_error(&c, &s3, "{\"dataframe_split\": {\"columns\": [1,2,3], \"data\": [[1,2,3]]}}", 0, REQ_E_SHAPE, "must be a string");
	check_error(&c, &s3, "{\"inputs\": {\"a\":[1,4],\"b\":[2],\"c\":[3,6]}}", 0, REQ_E_SHAPE, "column b has 1 values");
	check_error(&c, &s3, "{\"inputs\": {\"a\":1,\"b\":2,\"c\":3}}", 0, REQ_E_SHAPE, "column a is a number");
	check_error(&c, &s3, "{\"instances\": {\"a\": [1]}}", 0, REQ_E_SHAPE, "instances must be a list");
	check_error(&c, &s3, "{\"dataframe_records\": [[1,2,3]]}", 0, REQ_E_SHAPE, "record 0 is an array");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": {\"top_k\": 0}}", 0, REQ_E_SHAPE, "top_k");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": [1]}", 0, REQ_E_SHAPE, "params must be an object");
	/* MLflow's /invocations rules */
	check_error(&c, &s3, "{\"input_data\": [[1,2,3]]}", REQ_MLFLOW, REQ_E_SHAPE,
		    "exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}");
	check_error(&c, &s3, "{\"instances\": [[1,2,3]], \"inputs\": [[1,2,3]]}", REQ_MLFLOW, REQ_E_SHAPE,
		    "Received dictionary with input fields: ['instances', 'inputs']");
	req_ctx_free(&c);
}

static void test_column_errors(void)
{
	struct req_ctx c;
	char body[20000];
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"a\",\"b\"], \"data\": [[1,2]]}}", 0, REQ_E_COLUMNS,
		    "1 of the model's 3 columns are missing: c");
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"a\",\"b\",\"a\"], \"data\": [[1,2,3]]}}", 0, REQ_E_COLUMNS,
		    "column a is given twice");
	check_error(&c, &s3, "{\"dataframe_records\": [{\"a\":1,\"b\":2,\"c\":3},{\"a\":1,\"c\":3}]}", 0, REQ_E_COLUMNS,
		    "record 1: 1 of the model's 3 columns are missing: b");
	/* 784-column model given 700 columns: ten names listed and the count. */
	size_t o = (size_t)snprintf(body, sizeof body, "{\"inputs\": {");
	for (int i = 0; i < 700; i++)
		o += (size_t)snprintf(body + o, sizeof body - o, "%s\"col_%d\": [0]", i ? "," : "", i + 84);
	snprintf(body + o, sizeof body - o, "}}");
	check_error(&c, &s784, body, 0, REQ_E_COLUMNS,
		    "84 of the model's 784 columns are missing: col_0, col_1, col_2, col_3, col_4, col_5, col_6, col_7, col_8, col_9, ...");
	req_ctx_free(&c);
}

static void test_type_errors(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, "{\"input_data\": [[1,2,3],[4,\"5\",6]]}", 0, REQ_E_TYPE, "row 1, column 1: a string where a number belongs");
	check_error(&c, &s3, "{\"input_data\": [[1,2,null]]}", 0, REQ_E_TYPE, "row 0, column 2: null");
	check_error(&c, &s3, "{\"input_data\": [[true,2,3]]}", 0, REQ_E_TYPE, "row 0, column 0: a boolean");
	check_error(&c, &s3, "{\"input_data\": [[1,[2],3]]}", 0, REQ_E_TYPE, "row 0, column 1: an array");
	check_error(&c, &s3, "{\"input_data\": [[1,{},3]]}", 0, REQ_E_TYPE, "row 0, column 1: an object");
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2,\"x\"]]}}", 0, REQ_E_TYPE,
		    "row 0, column c: a string");
	check_error(&c, &s3, "{\"input_data\": [[1,2,1e39]]}", 0, REQ_E_TYPE, "row 0, column 2: 1e39 is outside float32's range");
	check_error(&c, &s3, "{\"input_data\": [[1,2,1e999]]}", 0, REQ_E_TYPE, "outside float32's range");
	check_error(&c, &s3, "{\"dataframe_records\": [{\"a\":1,\"b\":\"2\",\"c\":3}]}", 0, REQ_E_TYPE, "row 0, column b: a string");
	check_error(&c, &s3, "{\"inputs\": {\"a\":[1],\"b\":[false],\"c\":[3]}}", 0, REQ_E_TYPE, "row 0, column b: a boolean");
	check_error(&c, &s3, "{\"input_data\": [[NaN,2,3]]}", 0, REQ_E_JSON, "malformed JSON");
	check_error(&c, &s3, "{\"input_data\": [[1,Infinity,3]]}", 0, REQ_E_JSON, "malformed JSON");
	req_ctx_free(&c);
}

static void test_malformed_json(void)
{
	static const struct { const char *body, *frag; } cases[] = {
		{ "{\"input_data\": [[1,2,3]]} x", "malformed JSON at byte 26" },
		{ "{\"input_data\": [[1,2,3]]} 7 ", "text after the value" },
		{ "{\"input_data\": [[1,2,3]]}{}", "text after the value" },
		{ "{\"input_data\": [[1 2 3]]}", "malformed JSON at byte" },
		{ "{\"input_data\": [[1,2,3]] \"x\": 1}", "malformed JSON" },
		{ "{\"input_data\" [[1,2,3]]}", "malformed JSON" },
		{ "{\"input_data\": }", "malformed JSON" },
		{ "{\"input_data\": [[1,2,3],]}", "malformed JSON" },
		{ "{\"input_data\": [[1,2,3]]", "ends too early" },
		{ "{\"input_data\": [[01,2,3]]}", "not a JSON value" },
		{ "{\"input_data\": [[1.,2,3]]}", "not a JSON value" },
		{ "{\"input_data\": [[-,2,3]]}", "malformed JSON" },
		{ "{\"input_data\": [[1,2,3]], \"params\": {\"a\": tru}}", "not a JSON value" },
		{ "{\"in\\qput_data\": 1}", "malformed JSON" },
		{ "{\"input_data\": [[1,2,3]], \"x\": \"a\tb\"}", "control character" },
		{ "", "malformed JSON" },
		{ "   ", "malformed JSON" },
		{ "{1: 2}", "malformed JSON" },
	};
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_error(&c, &s3, cases[i].body, 0, REQ_E_JSON, cases[i].frag);
	/* Deep nesting is refused without deep recursion. */
	char *deep = malloc(200000);
	size_t o = 0;
	o += (size_t)sprintf(deep, "{\"input_data\": ");
	for (int i = 0; i < 90000; i++)
		deep[o++] = '[';
	for (int i = 0; i < 90000; i++)
		deep[o++] = ']';
	deep[o++] = '}';
	deep[o] = '\0';
	check_error(&c, &s3, deep, 0, REQ_E_JSON, "nested too deeply");
	free(deep);
	/* The byte offset points into the original body, past compacted arrays. */
	struct req_result r;
	struct req_error e;
	const char *b = "{\"input_data\": [[1,2,3],[4,5,6]] ?}";
	CHECK(decode(&c, &s3, b, 0, &r, &e) < 0);
	char want[64];
	snprintf(want, sizeof want, "at byte %zu", (size_t)(strchr(b, '?') - b));
	CHECK_CONTAINS(e.msg, want);
	req_ctx_free(&c);
}

static void test_caps(void)
{
	struct req_ctx c;
	struct req_limits lim = { 100, 64, 2, 6 };
	struct req_result r;
	struct req_error e;
	const float w2[] = { 1, 2, 3, 4, 5, 6 };

	req_ctx_init(&c, &lim);
	char big[128];
	snprintf(big, sizeof big, "{\"input_data\": [[1,2,3],[4,5,6]], \"pad\": \"%.*s\"}", 101 - 44, "...................................................................");
	CHECK_INT(strlen(big), 101);
	check_error(&c, &s3, big, 0, REQ_E_LIMIT, "the body has 101 bytes; the limit is 100");
	check_error(&c, &s3, "{\"input_data\": [[1,2,3],[4,5,6],[7,8,9]]}", 0, REQ_E_LIMIT, "3 rows; the limit is 2");
	lim = (struct req_limits){ 1000, 64, 10, 6 };
	req_ctx_free(&c);
	req_ctx_init(&c, &lim);
	check_error(&c, &s3, "{\"input_data\": [[1,2,3],[4,5,6],[7,8,9]]}", 0, REQ_E_LIMIT, "exceed the limit of 6 values");
	lim = (struct req_limits){ 1000, 8, 10, 100 };
	req_ctx_free(&c);
	req_ctx_init(&c, &lim);
	check_error(&c, &s3, "{\"dataframe_records\": [{\"a\":1,\"b\":2,\"c\":3}]}", 0, REQ_E_LIMIT, "more than 8 JSON values");
	/* After every cap, the context still decodes a valid request. */
	check_ok3(&c, "{\"input_data\": [[1,2,3],[4,5,6]]}", 0, 2, w2);
	CHECK(req_decode_csv(&c, &s3, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n1,1,1\n1,1,1\n1,1,1\n1,1,1\n1,1,1\n1,1,1\n1,1,1\n",
			     82, &r, &e) < 0);
	CHECK_INT(e.code, REQ_E_LIMIT);
	req_ctx_free(&c);
}

static void csv_ok(struct req_ctx *c, const char *body, size_t rows, const float *want)
{
	struct req_result r;
	struct req_error e;
	int rc = req_decode_csv(c, &s3, body, strlen(body), &r, &e);
	CHECKF(rc == 0, "%s: %s", body, e.msg);
	CHECKF(rc || r.rows == rows, "%s: %zu rows", body, r.rows);
	for (size_t i = 0; rc == 0 && r.rows == rows && i < rows * 3; i++)
		CHECKF(r.x[i] == want[i], "%s: x[%zu] = %g", body, i, (double)r.x[i]);
}

static void csv_error(struct req_ctx *c, const char *body, enum req_errcode code, const char *frag)
{
	struct req_result r;
	struct req_error e;
	int rc = req_decode_csv(c, &s3, body, strlen(body), &r, &e);
	CHECKF(rc < 0, "accepted: %s", body);
	if (rc < 0) {
		CHECKF(e.code == code, "code %d: %s", e.code, e.msg);
		CHECK_CONTAINS(e.msg, frag);
	}
}

static void test_csv(void)
{
	struct req_ctx c;
	const float w2[] = { 1, 2, 3, 4, 5, 6 };
	req_ctx_init(&c, NULL);
	csv_ok(&c, "a,b,c\n1,2,3\n4,5,6\n", 2, w2);
	csv_ok(&c, "a,b,c\r\n1,2,3\r\n4,5,6", 2, w2);                 /* CRLF, no final newline */
	csv_ok(&c, "\xEF\xBB\xBF\"c\",\"a\",b\n3,1,2\n\n6,4,5\n\n", 2, w2); /* BOM, quotes, blank lines */
	csv_ok(&c, ",a,b,c\n0,1,2,3\n1,4,5,6\n", 2, w2);              /* pandas' unnamed index column */
	csv_ok(&c, "a,b,c,\"note, with comma\"\n1,2,3,\"x \"\"y\"\"\"\n4,\"5\", 6 ,z\n", 2, w2);
	csv_ok(&c, "a,b,c\n+1,2.,3e0\n4,5.0,.6e1\n", 2, w2);
	csv_error(&c, "a,b,c\n1,2\n", REQ_E_SHAPE, "CSV line 2 has 2 fields; the header has 3");
	csv_error(&c, "a,b,c\n1,2,3,4\n", REQ_E_SHAPE, "more fields");
	csv_error(&c, "a,b,c\n1,2,3\n4,,6\n", REQ_E_TYPE, "row 1 (line 3), column b: empty value");
	csv_error(&c, "a,b,c\n1,2,nan\n", REQ_E_TYPE, "row 0 (line 2), column c: 'nan' is not finite");
	csv_error(&c, "a,b,c\n1,x2,3\n", REQ_E_TYPE, "'x2' is not a number");
	csv_error(&c, "a,b,c\n1,2,1e39\n", REQ_E_TYPE, "outside float32's range");
	csv_error(&c, "a,b\n1,2\n", REQ_E_COLUMNS, "missing: c");
	csv_error(&c, "a,b,c\n", REQ_E_SHAPE, "no rows");
	csv_error(&c, "", REQ_E_SHAPE, "empty");
	csv_error(&c, "a,b,c\n\"1,2,3\n", REQ_E_JSON, "quote");
	csv_error(&c, "a,a,c\n1,2,3\n", REQ_E_COLUMNS, "given twice");
	req_ctx_free(&c);
}

/* Decode text for s3 from a block of exactly its length. */
static int decode_exact(struct req_ctx *c, const char *text, struct req_error *e)
{
	size_t n = strlen(text);
	char *b = malloc(n);
	struct req_result r;
	memcpy(b, text, n);
	int rc = req_decode_json(c, &s3, b, n, 0, &r, e);
	free(b);
	return rc;
}

/* Bodies that end inside an array of numbers, each in a block of exactly
 * its length (found by tests/fuzz/fuzz_req.c: the "0.0" shortcut read the
 * byte after a body ending in ","; ASan in `make test SAN=1` sees it). */
static void test_truncated_arrays(void)
{
	static const char *bodies[] = {
		"{\"input_data\": [[0,0.0,",
		"{\"input_data\": [[0.0,",
		"{\"input_data\": [[1, ",
		"{\"input_data\": [[1,2,3],[0",
		"{\"input_data\": [[1,2,3],[0.0",
	};
	/* Bodies that end with a numeric array's ']': nothing past the
	 * body's last byte is read (an overread ASan sees in SAN=1 builds:
	 * the "0.0" test once loaded 4 bytes from a 1-byte value). */
	static const char *ends[] = { "[1,2,3]", "[[1,0.0,2]]", "[[0.0,0.0,0.0]]", "[7]" };
	struct req_ctx c;
	struct req_error e;
	req_ctx_init(&c, NULL);
	for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++)
		CHECKF(decode_exact(&c, bodies[k], &e) == -1 && e.code == REQ_E_JSON, "%s", bodies[k]);
	for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++)
		CHECKF(decode_exact(&c, ends[k], &e) == 0 || e.code == REQ_E_SHAPE, "%s: %s", ends[k], e.msg);
	req_ctx_free(&c);
}

/* Columns of unequal lengths name the request's first column as given
 * (found by tests/fuzz/fuzz_req.c: the message took that name from the
 * model's column list, a NULL pointer for a model without column names,
 * and the wrong entry when the first column was one the model ignores). */
static void test_column_lengths_message(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	check_error(&c, &s3anon, "{\"inputs\": {\"a\":[1,4],\"b\":[2],\"c\":[3,6]}}", REQ_MLFLOW, REQ_E_SHAPE,
		    "column b has 1 values; column a has 2");
	check_error(&c, &s3anon, "{\"input_data\": {\"a\":[1,4],\"b\":[2,5],\"c\":[3]}}", 0, REQ_E_SHAPE,
		    "column c has 1 values; column a has 2");
	check_error(&c, &s3, "{\"inputs\": {\"x\":[1,2],\"a\":[1],\"b\":[2],\"c\":[3]}}", REQ_MLFLOW, REQ_E_SHAPE,
		    "column a has 1 values; column x has 2");
	req_ctx_free(&c);
}

/* The same body gets the same error from a fresh context and from one
 * whose column list is cached (found by tests/fuzz/fuzz_req.c: the second
 * message named a column by its index, or by its escaped text the first
 * time). */
static void test_cached_columns_same_error(void)
{
	static const struct {
		const struct req_schema *s;
		const char *body, *frag;
	} cases[] = {
		{ &s3anon, "{\"input_data\": {\"columns\": [\"061\",\"b\",\"c\"], \"data\": [[1,2,3],[1e39,5,6]]}}",
		  "row 1, column 061: 1e39 is outside float32's range" },
		{ &s3, "{\"input_data\": {\"columns\": [\"\\u0061\",\"b\",\"c\"], \"data\": [[1,2,3],[null,5,6]]}}",
		  "row 1, column a: null where a number belongs" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct req_ctx c;
		req_ctx_init(&c, NULL);
		check_error(&c, cases[k].s, cases[k].body, 0, REQ_E_TYPE, cases[k].frag);
		check_error(&c, cases[k].s, cases[k].body, 0, REQ_E_TYPE, cases[k].frag);
		req_ctx_free(&c);
	}
}

/* Look up "b\0" followed by each byte value (one at least lands in the
 * probe chain of "b"): none is a model column. */
static int nul_names_found(const struct req_schema *s)
{
	int found = 0;
	for (int k = 0; k < 256; k++) {
		char name[3] = { 'b', '\0', (char)k };
		found += req_schema_find(s, name, sizeof name) >= 0;
	}
	return found;
}

/* A column name holding a NUL is no model column (found by
 * tests/fuzz/fuzz_req.c from a CSV header: strncmp stopped at the NUL, so
 * "b\0x" matched a column "b" followed by zero bytes, and the check after
 * it read past the column's name, which ASan in `make test SAN=1` sees
 * with names malloc'd to their exact size). */
static void test_name_with_nul(void)
{
	static const char padded[] = "b\0\0\0";   /* "b", then zero bytes past it */
	static const char csv[] = "a,b\0,c\n1,2,3\n";
	const char *cols[3] = { "a", padded, "c" };
	char *exact[3];
	struct blob_model m;
	struct req_schema s;
	struct req_ctx c;
	struct req_result r;
	struct req_error e;

	memset(&m, 0, sizeof m);
	m.input_width = m.ncolumns = 3;
	m.columns = cols;
	CHECK(req_schema_init(&s, &m) == 0);
	CHECK_INT(nul_names_found(&s), 0);
	CHECK_INT(req_schema_find(&s, "b", 1), 1);
	req_ctx_init(&c, NULL);
	CHECK(req_decode_csv(&c, &s, csv, sizeof csv - 1, &r, &e) == -1);
	CHECKF(e.code == REQ_E_COLUMNS, "%s", e.msg);
	req_ctx_free(&c);
	req_schema_free(&s);
	for (int i = 0; i < 3; i++) {
		exact[i] = malloc(2);
		exact[i][0] = (char)('a' + i);
		exact[i][1] = '\0';
	}
	m.columns = (const char **)exact;
	CHECK(req_schema_init(&s, &m) == 0);
	CHECK_INT(nul_names_found(&s), 0);
	req_schema_free(&s);
	for (int i = 0; i < 3; i++)
		free(exact[i]);
}

/* ---- numeric arrays: the hot path against strtod ---- */

/* One number's text, of a kind the decoder's paths split on. */
static void number_text(char out[64])
{
	char dig[24];
	int nd = 1 + (int)unit_rand_below(19);
	float f = (float)unit_rand_below(10000000) / 1e6f, g;
	double h;

	for (int i = 0; i < nd; i++)
		dig[i] = (char)('0' + (unsigned)unit_rand_below(10));
	dig[nd] = '\0';
	switch ((unsigned)unit_rand_below(12)) {
	case 0: snprintf(out, 64, "0.0"); break;
	case 1: snprintf(out, 64, "%s%u.%s", (unsigned)unit_rand_below(2) ? "-" : "", (unsigned)unit_rand_below(10), dig); break;
	case 2: snprintf(out, 64, "%.17g", (double)f); break;
	case 3:   /* a float32 halfway point: ties to even, two roundings */
		g = nextafterf(f, 20.0f);
		h = ((double)f + (double)g) / 2;
		snprintf(out, 64, "%.*f", 16 + (int)unit_rand_below(4), h);
		break;
	case 4:   /* next to one, a double or two away */
		g = nextafterf(f, 20.0f);
		h = ((double)f + (double)g) / 2;
		h = (unsigned)unit_rand_below(2) ? nextafter(h, 0.0) : nextafter(nextafter(h, 20.0), 20.0);
		snprintf(out, 64, "%.17g", h);
		break;
	case 5: snprintf(out, 64, "%d", (int)unit_rand_below(2000) - 1000); break;
	case 6: snprintf(out, 64, "%u.%se%s%u", (unsigned)unit_rand_below(10), dig, (unsigned)unit_rand_below(2) ? "-" : "+", (unsigned)unit_rand_below(30)); break;
	case 7: snprintf(out, 64, "%s%.9g%s", (unsigned)unit_rand_below(2) ? " " : "", (double)f, (unsigned)unit_rand_below(2) ? "\n " : ""); break;
	case 8: snprintf(out, 64, "-0.%s", (unsigned)unit_rand_below(2) ? "0" : dig); break;
	case 9: snprintf(out, 64, "0.%s%s", dig, "1234567890123"); break;
	case 10: snprintf(out, 64, "%u%s.%s", 1 + (unsigned)unit_rand_below(9), dig, dig); break;
	default: snprintf(out, 64, "%.*f", (int)unit_rand_below(20), (double)f * ((unsigned)unit_rand_below(2) ? 1 : -1)); break;
	}
}

/* Every value of a list-shaped body equals (float)strtod of its text, bit
 * for bit (so -0.0 and ties to even count): what json.loads and then
 * torch.tensor(dtype=float32) give. */
static void test_numeric_values(void)
{
	enum { N = 3000 };
	static char text[N][64];
	struct blob_model m = { .input_width = N };
	struct req_schema s;
	struct req_ctx c;
	size_t cap = N * 66 + 64, o = 0;
	char *body = malloc(cap);

	req_schema_init(&s, &m);
	req_ctx_init(&c, NULL);
	for (int round = 0; round < 20; round++) {
		o = (size_t)snprintf(body, cap, "{\"input_data\": [[");
		for (int i = 0; i < N; i++) {
			number_text(text[i]);
			o += (size_t)snprintf(body + o, cap - o, "%s%s", i ? "," : "", text[i]);
		}
		o += (size_t)snprintf(body + o, cap - o, "]]}");
		struct req_result r;
		struct req_error e;
		int rc = req_decode_json(&c, &s, body, o, 0, &r, &e);
		CHECKF(rc == 0, "round %d: %s", round, e.msg);
		if (rc)
			break;
		int bad = 0;
		for (int i = 0; i < N && bad < 5; i++) {
			float want = (float)strtod(text[i], NULL);
			if (memcmp(&want, &r.x[i], sizeof want) != 0) {
				bad++;
				CHECKF(0, "\"%s\": %.9g, want %.9g", text[i], (double)r.x[i], (double)want);
			}
		}
	}
	req_ctx_free(&c);
	req_schema_free(&s);
	free(body);
}

/* Arrays the two-pass reader must leave to the general path, which names
 * the error; and blocks of more than 8 values per 64 bytes. */
static void test_numeric_arrays(void)
{
	static const struct { const char *body; const char *frag; } bad[] = {
		{ "{\"input_data\": [[1,,2]]}", "byte 19" },
		{ "{\"input_data\": [[1 2, 3]]}", "byte 19" },
		{ "{\"input_data\": [[1, \"a,b]\", 2]]}", "string" },
		{ "{\"input_data\": [[0.5e, 1, 2]]}", "byte" },
		{ "{\"input_data\": [[1.2.3, 1, 2]]}", "byte" },
		{ "{\"input_data\": [[01, 1, 2]]}", "byte" },
		{ "{\"input_data\": [[-, 1, 2]]}", "byte" },
		{ "{\"input_data\": [[1, 2, 3e999]]}", "range" },
		{ "{\"input_data\": [[0.00000000000000000000000000000000000000000000000000000000001, 1, 1e39]]}", "float32" },
		{ "{\"input_data\": [[1, 2, 3,]]}", "byte" },
	};
	struct req_ctx c;
	char body[4096];
	req_ctx_init(&c, NULL);
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		struct req_result r;
		struct req_error e;
		int rc = decode(&c, &s3anon, bad[k].body, 0, &r, &e);
		CHECKF(rc < 0, "accepted %s", bad[k].body);
		if (rc < 0)
			CHECKF(strstr(e.msg, bad[k].frag) != NULL, "%s: \"%s\" lacks \"%s\"", bad[k].body, e.msg,
			       bad[k].frag);
	}
	/* 784 one-digit values: 32 per 64-byte block. */
	size_t o = (size_t)snprintf(body, sizeof body, "{\"input_data\": [[");
	for (int i = 0; i < 784; i++)
		o += (size_t)snprintf(body + o, sizeof body - o, "%s%d", i ? "," : "", i % 10);
	snprintf(body + o, sizeof body - o, "]]}");
	struct req_result r;
	struct req_error e;
	int rc = decode(&c, &s784, body, 0, &r, &e);
	CHECKF(rc == 0, "%s", e.msg);
	for (int i = 0; i < 784 && rc == 0; i++)
		CHECKF(r.x[i] == (float)(i % 10), "x[%d] = %g", i, (double)r.x[i]);
	/* Runs of "0.0" of every length from 1 to 40 between other values,
	 * starting at every offset of a 64-byte block (read four at a time
	 * inside a block, one at a time across its end). */
	{
		static char big[1 << 16];
		static float want[8192];
		struct blob_model mz = { .input_width = 0 };
		struct req_schema sz;
		size_t nv = 0;
		int len_o = snprintf(big, sizeof big, "{\"input_data\": [[");
		size_t zo = (size_t)len_o;
		for (int pad = 0; pad < 8; pad++) {
			for (int run = 1; run <= 40; run++) {
				for (int z = 0; z < run; z++) {
					zo += (size_t)snprintf(big + zo, sizeof big - zo, "%s0.0", nv ? "," : "");
					want[nv++] = 0.0f;
				}
				zo += (size_t)snprintf(big + zo, sizeof big - zo, ",%.*s1.5", pad % 4, "   ");
				want[nv++] = 1.5f;
			}
		}
		snprintf(big + zo, sizeof big - zo, "]]}");
		mz.input_width = (uint32_t)nv;
		req_schema_init(&sz, &mz);
		rc = decode(&c, &sz, big, 0, &r, &e);
		CHECKF(rc == 0 && r.rows == 1, "zero runs: %s", e.msg);
		for (size_t i = 0; i < nv && rc == 0; i++)
			if (r.x[i] != want[i]) {
				CHECKF(0, "zero runs: x[%zu] = %g, want %g", i, (double)r.x[i], (double)want[i]);
				break;
			}
		req_schema_free(&sz);
	}
	req_ctx_free(&c);
}

/* ---- issue 15 (hE): duplicate keys, echoed request text ---- */

/* One rule at every level of every shape: a key given twice is refused,
 * named, at its second occurrence's byte in the body. */
static void test_issue15_duplicate_keys(void)
{
	struct req_ctx c;
	static char body[40000];
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, "{\"input_data\": [[1,2,3]], \"input_data\": [[4,5,6]]}", 0, REQ_E_JSON,
		    "key \"input_data\" is given twice (at byte 26)");
	check_error(&c, &s3, "{\"input_data\": [[1,2,3]], \"input_d\\u0061ta\": [[4,5,6]]}", 0, REQ_E_JSON,
		    "key \"input_d\\x5cu0061ta\" is given twice (at byte 26)");
	check_error(&c, &s3, "{\"instances\": [[1,2,3]], \"instances\": [[1,2,3]]}", REQ_MLFLOW, REQ_E_JSON,
		    "key \"instances\" is given twice");
	/* The numeric arrays the scanner sets aside do not shift the byte. */
	check_error(&c, &s3, "{\"input_data\": {\"data\": [[1,2,3]], \"data\": [[1,2,3]]}}", 0, REQ_E_JSON,
		    "key \"data\" is given twice (at byte 35)");
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2,3]], "
		    "\"columns\": [\"c\",\"b\",\"a\"]}}", 0, REQ_E_JSON, "key \"columns\" is given twice");
	check_error(&c, &s3, "{\"dataframe_split\": {\"index\": [0], \"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2,3]], "
		    "\"index\": [1]}}", 0, REQ_E_JSON, "key \"index\" is given twice");
	check_error(&c, &s3, "{\"dataframe_records\": [{\"a\":1,\"b\":2,\"c\":3}, {\"a\":1,\"b\":2,\"c\":3,\"a\":4}]}", 0,
		    REQ_E_JSON, "key \"a\" is given twice");
	check_error(&c, &s3, "{\"dataframe_records\": [{\"a\":1,\"b\":2,\"c\":3,\"zz\":1,\"zz\":2}]}", 0, REQ_E_JSON,
		    "key \"zz\" is given twice");   /* a column the model does not read, too */
	check_error(&c, &s3, "{\"inputs\": {\"a\": [1], \"b\": [2], \"c\": [3], \"c\": [4]}}", 0, REQ_E_JSON,
		    "key \"c\" is given twice");
	check_error(&c, &s3, "{\"inputs\": {\"t\": [[1,2,3]], \"t\": [[4,5,6]]}}", 0, REQ_E_JSON,
		    "key \"t\" is given twice");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": {\"top_k\": 1, \"top_k\": 2}}", 0, REQ_E_JSON,
		    "key \"top_k\" is given twice");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": {}, \"params\": {\"top_k\": 2}}", 0, REQ_E_JSON,
		    "key \"params\" is given twice");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": {\"x\": {\"y\": 1, \"y\": 2}}}", 0, REQ_E_JSON,
		    "key \"y\" is given twice");
	/* A 784-column record with col_5 again at its end (the hash table). */
	size_t o = (size_t)snprintf(body, sizeof body, "{\"dataframe_records\": [{");
	for (int i = 0; i < 784; i++)
		o += (size_t)snprintf(body + o, sizeof body - o, "%s\"col_%d\": %d", i ? ", " : "", i, i);
	snprintf(body + o, sizeof body - o, ", \"col_5\": 0}]}");
	check_error(&c, &s784, body, 0, REQ_E_JSON, "key \"col_5\" is given twice");
	snprintf(body + o, sizeof body - o, "}]}");
	struct req_result r;
	struct req_error e;
	CHECKF(decode(&c, &s784, body, 0, &r, &e) == 0 && r.rows == 1, "%s", e.msg);
	/* The same key in sibling objects is no repetition. */
	const float want[] = { 1, 2, 3, 4, 5, 6 };
	check_ok3(&c, "{\"dataframe_records\": [{\"a\":1,\"b\":2,\"c\":3}, {\"c\":6,\"b\":5,\"a\":4}]}", 0, 2, want);
	req_ctx_free(&c);
}

/* Request text in a message: at most JSON_ECHO_MAX bytes, escaped. */
static void test_issue15_echo(void)
{
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	csv_error(&c, "a,b,c\n1,\x1b[2Jx,3\n", REQ_E_TYPE, "column b: '\\x1b[2Jx' is not a number");
	csv_error(&c, "a,b,c\n1,\"x\ny\",3\n", REQ_E_TYPE, "column b: 'x\\x0ay' is not a number");
	csv_error(&c, "a,b,c\n1,caf\xc3\xa9,3\n", REQ_E_TYPE, "'caf\\xc3\\xa9' is not a number");
	csv_error(&c, "a,b,c\n1,\"it's \"\"q\"\"\",3\n", REQ_E_TYPE, "'it\\x27s \\x22\\x22q\\x22\\x22' is not");
	csv_error(&c, "a,b,c\n1,0123456789012345678901234567890123456789ABCDEF,3\n", REQ_E_TYPE,
		  "'0123456789012345678901234567890123456789...' is not a number");
	/* A request's own column name, for a model without names (issue 17:
	 * non-ASCII, as bytes that are not UTF-8 are refused first). */
	check_error(&c, &s3anon, "{\"input_data\": {\"columns\": [\"\xc3\xa9\", \"b\", \"c\"], \"data\": [[\"x\", 2, 3]]}}",
		    0, REQ_E_TYPE, "row 0, column \\xc3\\xa9: a string where a number belongs");
	check_error(&c, &s3anon, "{\"input_data\": {\"columns\": [\"\xff\xfe\", \"b\", \"c\"], \"data\": [[\"x\", 2, 3]]}}",
		    0, REQ_E_JSON, "the body is not valid UTF-8 (byte 0xff at offset 29)");
	check_error(&c, &s3, "{\"inputs\": [[1, 2, 1e999999999999999999999999999999999999999999999]]}", 0, REQ_E_TYPE,
		    "1e99999999999999999999999999999999999999... is outside float32's range");
	req_ctx_free(&c);
}

/* A deadline in the past: every decoder answers REQ_E_DEADLINE (408), CSV,
 * JSON and V2 alike; none (0), or one far ahead, changes nothing.  Past the
 * start the decoders look at the clock every REQ_DEADLINE_EVERY bytes or
 * values, which a slow decode in tests/e2e/harden_body.sh shows. */
static void test_issue15_deadline(void)
{
	static const char json[] = "{\"input_data\": [[1, 2, 3], [4, 5, 6]]}";
	static const char csv[] = "a,b,c\n1,2,3\n";
	static const char v2[] = "{\"inputs\": [{\"name\": \"input-0\", \"shape\": [1, 3], \"datatype\": \"FP32\", "
				 "\"data\": [1, 2, 3]}]}";
	const double deadlines[] = { 1e-9, 0, 1e12 };
	struct req_ctx c;
	struct req_result r;
	struct v2_request vr;
	struct req_error e;

	req_ctx_init(&c, NULL);
	CHECK(c.deadline == 0);
	for (size_t i = 0; i < sizeof deadlines / sizeof deadlines[0]; i++) {
		int want = i == 0 ? -1 : 0;
		c.deadline = deadlines[i];
		int rc[3] = { req_decode_json(&c, &s3, json, strlen(json), 0, &r, &e),
			      req_decode_csv(&c, &s3, csv, strlen(csv), &r, &e),
			      v2_decode(&c, &s3, v2, strlen(v2), &vr, &e) };
		for (int k = 0; k < 3; k++)
			CHECKF(rc[k] == want, "deadline %g, decoder %d: %d (%s)", deadlines[i], k, rc[k], e.msg);
		if (want < 0) {
			CHECK(e.code == REQ_E_DEADLINE && e.status == 408);
			CHECK_CONTAINS(e.msg, "deadline");
		}
	}
	req_ctx_free(&c);
}

/* ---- issue 17: request gaps found with models and data never seen ---- */

/* A model without column names (a .pth) reads records by the keys of the
 * first record, in its order, as MLflow does without a signature; every
 * record must have the same keys. */
static void test_issue17_records_without_names(void)
{
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	req_ctx_init(&c, NULL);
	/* record 0's order is the column order; record 1 may list them in any */
	CHECK(decode(&c, &s3anon, "{\"dataframe_records\": [{\"z\": 1, \"a\": 2, \"m\": 3}, {\"m\": 6, \"z\": 4, "
		     "\"a\": 5}]}", REQ_MLFLOW, &r, &e) == 0 && r.rows == 2 && r.x[0] == 1 && r.x[2] == 3 &&
	      r.x[3] == 4 && r.x[5] == 6);
	/* keys compared decoded; instances and input_data of records too */
	CHECK(decode(&c, &s3anon, "{\"instances\": [{\"a\": 1, \"b\": 2, \"c\": 3}, {\"\\u0061\": 4, \"b\": 5, "
		     "\"c\": 6}]}", REQ_MLFLOW, &r, &e) == 0 && r.rows == 2 && r.x[3] == 4);
	CHECK(decode(&c, &s3anon, "{\"input_data\": [{\"p\": 1, \"q\": 2, \"r\": 3}]}", 0, &r, &e) == 0 && r.x[2] == 3);
	/* a key record 0 has not, one it lacks, too few keys, a bad value */
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3}, {\"a\": 1, \"b\": 2, "
		    "\"d\": 3}]}", REQ_MLFLOW, REQ_E_COLUMNS, "record 1 has key \"d\", which record 0 has not");
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3}, {\"a\": 1, \"c\": 3}, "
		    "{}]}", REQ_MLFLOW, REQ_E_COLUMNS, "record 1 has no key \"b\", which record 0 has");
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2}]}", REQ_MLFLOW, REQ_E_COLUMNS,
		    "record 0 has 2 keys; the model has no column names and reads exactly 3 values per row");
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}]}", REQ_MLFLOW,
		    REQ_E_COLUMNS, "record 0 has 4 keys");
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3}, {\"a\": 1, \"b\": "
		    "\"x\", \"c\": 3}]}", REQ_MLFLOW, REQ_E_TYPE, "row 1, column b: a string where a number belongs");
	/* a key quoted in a message is the request's text: json_echo'd */
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3}, {\"a\": 1, \"b\": 2, "
		    "\"\\u001b[2J\": 3}]}", REQ_MLFLOW, REQ_E_COLUMNS, "key \"\\x5cu001b[2J\"");
	check_error(&c, &s3anon, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"\\u001b\": 3}, {\"a\": 1, \"b\": 2, "
		    "\"\\u001b\": null}]}", REQ_MLFLOW, REQ_E_TYPE, "row 1, column \\x1b: null");
	/* the 784 columns of a .pth, keys in record 0's order, in a big request */
	static char body[200000];
	size_t o = (size_t)snprintf(body, sizeof body, "{\"dataframe_records\": [");
	for (int rec = 0; rec < 2; rec++) {
		o += (size_t)snprintf(body + o, sizeof body - o, "%s{", rec ? ", " : "");
		for (int j = 0; j < 784; j++) {
			int k = rec ? 783 - j : j;   /* record 1 backwards */
			o += (size_t)snprintf(body + o, sizeof body - o, "%s\"pixel%d\": %d", j ? ", " : "", k, k + rec);
		}
		o += (size_t)snprintf(body + o, sizeof body - o, "}");
	}
	snprintf(body + o, sizeof body - o, "]}");
	struct blob_model anon784 = { .input_width = 784 };
	struct req_schema sa;
	req_schema_init(&sa, &anon784);
	CHECKF(decode(&c, &sa, body, REQ_MLFLOW, &r, &e) == 0, "%s", e.msg);
	CHECK(r.rows == 2 && r.x[5] == 5 && r.x[784 + 5] == 6 && r.x[784 + 783] == 784);
	req_schema_free(&sa);
	req_ctx_free(&c);
}

/* A body that is not UTF-8 says so, where the byte is, whatever it would
 * otherwise have broken (a column name: "columns are missing"). */
static void test_issue17_utf8(void)
{
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	req_ctx_init(&c, NULL);
	check_error(&c, &s3, "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\xff\"], \"data\": [[1,2,3]]}}", 0,
		    REQ_E_JSON, "the body is not valid UTF-8 (byte 0xff at offset 38)");
	check_error(&c, &s3, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2, \"c\": 3, \"\xc3(\": 4}]}", REQ_MLFLOW,
		    REQ_E_JSON, "(byte 0xc3 at offset 49)");
	/* after a numeric array the scanner took: the offset is the body's */
	check_error(&c, &s3, "{\"inputs\": [[1.5,2.5,3.5]], \"params\": {\"note\": \"\xed\xa0\x80\"}}", 0, REQ_E_JSON,
		    "(byte 0xed at offset 48)");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3\x80]]}", 0, REQ_E_JSON, "(byte 0x80 at offset 18)");
	check_error(&c, &s3, "\xff\xfe{", 0, REQ_E_JSON, "(byte 0xff at offset 0): it looks like UTF-16; send UTF-8");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"x\": \"\xf4\x90\x80\x80\"}", 0, REQ_E_JSON, "byte 0xf4");
	check_error(&c, &s3, "{\"inputs\": [[1,2,3]], \"x\": \"\xc0\xaf\"}", 0, REQ_E_JSON, "byte 0xc0");
	/* well-formed UTF-8 is text like any other */
	CHECK(decode(&c, &s3, "{\"inputs\": [[1,2,3]], \"params\": {\"n\\u00e9\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}}",
		     0, &r, &e) == 0);
	CHECK(decode(&c, &s3, "{\"inputs\": {\"a\": [1], \"b\": [2], \"c\": [3], \"\xc3\xa9\": [4]}}", 0, &r, &e) == 0);
	/* CSV: the header, a value, a column the model ignores */
	CHECK(req_decode_csv(&c, &s3, "a,b,c\xff\n1,2,3\n", 13, &r, &e) < 0 && e.code == REQ_E_JSON);
	CHECK_CONTAINS(e.msg, "the body is not valid UTF-8 (byte 0xff at offset 5)");
	CHECK(req_decode_csv(&c, &s3, "a,b,c\n1,2,3\xe9\n", 13, &r, &e) < 0);
	CHECK_CONTAINS(e.msg, "(byte 0xe9 at offset 11)");
	CHECK(req_decode_csv(&c, &s3, "a,b,c,x\n1,2,3,\xe9\n", 16, &r, &e) < 0);
	CHECK_CONTAINS(e.msg, "(byte 0xe9 at offset 14)");
	CHECK(req_decode_csv(&c, &s3, "a,b,c,\xc3\xa9\n1,2,3,\xc3\xa9\n", 18, &r, &e) == 0 && r.rows == 1);
	req_ctx_free(&c);
}

/* Split orient: "columns" and the rows of "data" of different widths. */
static void test_issue17_split_widths(void)
{
	static const char *const uniform = "{\"dataframe_split\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2],[4,5]]}}";
	static const char *const one_row = "{\"dataframe_split\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2,3],[4,5]]}}";
	static const char *const first_row = "{\"input_data\": {\"columns\": [\"a\",\"b\",\"c\"], \"data\": [[1,2],[4,5,6]]}}";
	struct req_ctx c;
	req_ctx_init(&c, NULL);
	for (int pass = 0; pass < 2; pass++) {   /* the second time, the column list is cached */
		check_error(&c, &s3, uniform, REQ_MLFLOW, REQ_E_SHAPE,
			    "\"columns\" and \"data\" differ in width: 3 names, 2 values in every row");
		check_error(&c, &s3, one_row, REQ_MLFLOW, REQ_E_SHAPE,
			    "\"columns\" and \"data\" differ in width in row 1: 3 names, 2 values");
		check_error(&c, &s3, first_row, 0, REQ_E_SHAPE, "differ in width in row 0: 3 names, 2 values");
		check_error(&c, &s3anon, uniform, REQ_MLFLOW, REQ_E_SHAPE, "3 names, 2 values in every row");
	}
	/* without names, rows as before */
	check_error(&c, &s3, "{\"input_data\": [[1,2,3],[4,5]]}", 0, REQ_E_SHAPE, "row 1 has 2 values; expected 3");
	req_ctx_free(&c);
}

int main(void)
{
	setup();
	RUN(test_every_fixture_shape);
	RUN(test_tutorial_files);
	RUN(test_shapes);
	RUN(test_column_cache);
	RUN(test_anonymous_model);
	RUN(test_shape_errors);
	RUN(test_column_errors);
	RUN(test_type_errors);
	RUN(test_malformed_json);
	RUN(test_caps);
	RUN(test_csv);
	RUN(test_truncated_arrays);
	RUN(test_name_with_nul);
	RUN(test_column_lengths_message);
	RUN(test_cached_columns_same_error);
	RUN(test_numeric_values);
	RUN(test_numeric_arrays);
	RUN(test_issue15_duplicate_keys);
	RUN(test_issue15_echo);
	RUN(test_issue15_deadline);
	RUN(test_issue17_records_without_names);
	RUN(test_issue17_utf8);
	RUN(test_issue17_split_widths);
	req_schema_free(&s784);
	req_schema_free(&s3);
	req_schema_free(&s3anon);
	return unit_done();
}
