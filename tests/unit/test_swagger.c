/* test_swagger.c - handler/swagger.c: the OpenAPI document is valid JSON
 * whose paths, references, columns, examples and response schemas match
 * the model; every example is a request scorepoint's own decoders take. */
#include "tests/unit/unit.h"
#include "tests/unit/unit_model.h"
#include "handler/swagger.h"
#include "model/json.h"
#include "model/req.h"
#include "model/v2.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

/* ---- a parsed document ---- */

struct doc {
	struct enc_buf b;
	jsmntok_t *t;
	int n;
};

static int parse(struct doc *d)
{
	jsmn_parser p;
	size_t bad;
	const char *why;

	d->t = NULL;
	d->n = -1;
	if (enc_status(&d->b) != ENC_OK || !json_depth_ok(d->b.p, d->b.len))
		return -1;
	jsmn_init(&p);
	int n = jsmn_parse(&p, d->b.p, d->b.len, NULL, 0);
	if (n <= 0)
		return -1;
	d->t = malloc((size_t)n * sizeof *d->t);
	jsmn_init(&p);
	d->n = jsmn_parse(&p, d->b.p, d->b.len, d->t, (unsigned)n);
	if (d->n != n)
		return -1;
	if (json_validate(d->b.p, d->b.len, d->t, d->n, &bad, &why) < 0) {
		printf("#   invalid JSON at byte %zu: %s: %.60s\n", bad, why, d->b.p + (bad > 30 ? bad - 30 : 0));
		return -1;
	}
	return 0;
}

static int render(struct doc *d, const struct blob_model *m, const char *base)
{
	enc_init(&d->b, 0);
	swagger_render(&d->b, m, base);
	return parse(d);
}

static void doc_free(struct doc *d)
{
	enc_free(&d->b);
	free(d->t);
}

/* The decoded string token i (static buffer), or NULL. */
static const char *str(const struct doc *d, int i)
{
	static char buf[1 << 16];
	if (i < 0 || d->t[i].type != JSMN_STRING || json_string(d->b.p, d->t, i, buf, sizeof buf) < 0)
		return NULL;
	return buf;
}

/* The value at a key path from token `from`: object keys compared after
 * decoding, "#N" indexes an array.  -1 when absent. */
static int vat(const struct doc *d, int from, va_list ap)
{
	int i = from;
	const char *key;
	char kb[8192];

	while (i >= 0 && (key = va_arg(ap, const char *)) != NULL) {
		const jsmntok_t *t = &d->t[i];
		int next = -1;
		if (key[0] == '#' && t->type == JSMN_ARRAY) {
			int want = atoi(key + 1), k = i + 1;
			for (int c = 0; c < t->size; c++, k = json_skip(d->t, k))
				if (c == want)
					next = k;
		} else if (t->type == JSMN_OBJECT) {
			int k = i + 1;
			for (int c = 0; c < t->size && next < 0; c++, k = json_skip(d->t, k))
				if (json_string(d->b.p, d->t, k, kb, sizeof kb) >= 0 && strcmp(kb, key) == 0)
					next = k + 1;
		}
		i = next;
	}
	return i;
}

static int at(const struct doc *d, int from, ...)
{
	va_list ap;
	va_start(ap, from);
	int i = vat(d, from, ap);
	va_end(ap);
	return i;
}

/* The string at a key path, or "" when absent or not a string. */
static const char *sat(const struct doc *d, ...)
{
	va_list ap;
	va_start(ap, d);
	int i = vat(d, 0, ap);
	va_end(ap);
	const char *s = str(d, i);
	return s ? s : "";
}

/* The raw text of token i, NUL-terminated in a malloc'd copy. */
static char *text(const struct doc *d, int i)
{
	size_t n = (size_t)(d->t[i].end - d->t[i].start);
	char *p = malloc(n + 1);
	memcpy(p, d->b.p + d->t[i].start, n);
	p[n] = '\0';
	return p;
}

static int is_number(const struct doc *d, int i, double want)
{
	return i >= 0 && d->t[i].type == JSMN_PRIMITIVE && strtod(d->b.p + d->t[i].start, NULL) == want;
}

/* Every "$ref" in the document names something that exists. */
static int refs_resolve(const struct doc *d)
{
	int bad = 0, count = 0;
	for (int i = 1; i < d->n; i++) {
		if (!json_eq(d->b.p, d->t, i, "$ref") || d->t[i].size != 1)
			continue;
		char ref[256];
		if (json_string(d->b.p, d->t, i + 1, ref, sizeof ref) < 0 || strncmp(ref, "#/components/", 13) != 0) {
			bad++;
			continue;
		}
		char *kind = ref + 13, *name = strchr(kind, '/');
		if (!name) {
			bad++;
			continue;
		}
		*name++ = '\0';
		count++;
		if (at(d, 0, "components", kind, name, NULL) < 0) {
			printf("#   unresolved $ref #/components/%s/%s\n", kind, name);
			bad++;
		}
	}
	return bad == 0 && count > 0;
}

/* ---- models ---- */

static const char *labels10[10] = { "T-Shirt", "Trouser", "Pullover", "Dress", "Coat",
				    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle Boot" };

static struct blob_model tutorial(uint32_t post, int with_labels)
{
	struct blob_model m;
	memset(&m, 0, sizeof m);
	unit_model784(&m);
	m.name = "fashion-mnist";
	m.version = "3";
	m.postprocess = post;
	m.output_width = 10;
	if (with_labels) {
		m.nlabels = 10;
		m.labels = labels10;
	}
	return m;
}

/* ---- tests ---- */

static void test_document(void)
{
	struct blob_model m = tutorial(BLOB_POST_LOGITS, 1);
	struct doc d;
	CHECK(render(&d, &m, "") == 0);
	if (d.n < 0)
		return doc_free(&d);
	CHECK_STR(sat(&d, "openapi", NULL), "3.0.3");
	CHECK_STR(sat(&d, "info", "title", NULL), "scorepoint: fashion-mnist");
	CHECK_STR(sat(&d, "info", "version", NULL), "3");
	CHECK(strstr(sat(&d, "info", "description", NULL), "784 inputs, 10 outputs, post-processing: logits") != NULL);
	CHECK(refs_resolve(&d));
	/* the routes, each with its method */
	CHECK_STR(sat(&d, "paths", "/score", "post", "requestBody", "content", "application/json", "schema", "$ref", NULL),
		  "#/components/schemas/AzureMLRequest");
	CHECK(at(&d, 0, "paths", "/score", "post", "requestBody", "content", "text/csv", "schema", NULL) > 0);
	CHECK_STR(sat(&d, "paths", "/score", "post", "responses", "200", "content", "application/json", "schema",
		      "oneOf", "#0", "$ref", NULL), "#/components/schemas/Predictions");
	CHECK_STR(sat(&d, "paths", "/score", "post", "responses", "400", "$ref", NULL), "#/components/responses/BadRequest");
	CHECK_STR(sat(&d, "paths", "/score", "post", "responses", "413", "$ref", NULL), "#/components/responses/TooLarge");
	CHECK_STR(sat(&d, "paths", "/invocations", "post", "requestBody", "content", "application/json", "schema", "$ref", NULL),
		  "#/components/schemas/MLflowRequest");
	CHECK(at(&d, 0, "paths", "/invocations", "post", "requestBody", "content", "text/csv", NULL) > 0);
	CHECK_STR(sat(&d, "paths", "/invocations", "post", "responses", "200", "content", "application/json", "schema",
		      "$ref", NULL), "#/components/schemas/MLflowResponse");
	CHECK_STR(sat(&d, "paths", "/v2/models/fashion-mnist/infer", "post", "requestBody", "content", "application/json",
		      "schema", "$ref", NULL), "#/components/schemas/V2InferRequest");
	CHECK_STR(sat(&d, "paths", "/v2/models/fashion-mnist/infer", "post", "responses", "400", "$ref", NULL),
		  "#/components/responses/V2BadRequest");
	CHECK_STR(sat(&d, "paths", "/", "get", "responses", "200", "description", NULL), "Healthy");
	CHECK_STR(sat(&d, "paths", "/", "get", "responses", "200", "content", "text/plain", "example", NULL), "Healthy");
	CHECK(at(&d, 0, "paths", "/health", "get", "responses", "200", NULL) > 0);
	CHECK(at(&d, 0, "paths", "/metrics", "get", "responses", "200", "content", "text/plain", NULL) > 0);
	CHECK(at(&d, 0, "paths", "/swagger.json", "get", NULL) > 0);
	CHECK_INT(d.t[at(&d, 0, "paths", NULL)].size, 7);
	/* the Azure ML split-orient request */
	CHECK_STR(sat(&d, "components", "schemas", "AzureMLRequest", "properties", "input_data", "$ref", NULL),
		  "#/components/schemas/SplitFrame");
	CHECK_STR(sat(&d, "components", "schemas", "AzureMLRequest", "required", "#0", NULL), "input_data");
	CHECK_STR(sat(&d, "components", "schemas", "SplitFrame", "properties", "columns", "$ref", NULL),
		  "#/components/schemas/Columns");
	CHECK(at(&d, 0, "components", "schemas", "SplitFrame", "properties", "index", NULL) > 0);
	CHECK_STR(sat(&d, "components", "schemas", "SplitFrame", "properties", "data", "items", "$ref", NULL),
		  "#/components/schemas/Row");
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Row", "minItems", NULL), 784));
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Row", "maxItems", NULL), 784));
	/* MLflow's four keys */
	static const char *const keys[] = { "dataframe_split", "dataframe_records", "instances", "inputs" };
	for (int k = 0; k < 4; k++) {
		char idx[16];
		snprintf(idx, sizeof idx, "#%d", k);
		CHECK(at(&d, 0, "components", "schemas", "MLflowRequest", "properties", keys[k], NULL) > 0);
		CHECK_STR(sat(&d, "components", "schemas", "MLflowRequest", "oneOf", idx, "required", "#0", NULL), keys[k]);
	}
	/* errors in each protocol's shape */
	CHECK(at(&d, 0, "components", "schemas", "Error", "properties", "error_code", NULL) > 0);
	CHECK(at(&d, 0, "components", "schemas", "Error", "properties", "message", NULL) > 0);
	CHECK_STR(sat(&d, "components", "schemas", "V2Error", "required", "#0", NULL), "error");
	/* V2 */
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "V2InputTensor", "properties", "shape", "example", "#1", NULL), 784));
	CHECK_STR(sat(&d, "components", "schemas", "V2InputTensor", "properties", "datatype", "enum", "#0", NULL), "FP32");
	CHECK_STR(sat(&d, "components", "schemas", "V2InferResponse", "properties", "model_name", "example", NULL),
		  "fashion-mnist");
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "V2OutputTensor", "properties", "shape", "example", "#1", NULL), 10));
	doc_free(&d);
}

static void test_columns(void)
{
	struct blob_model m = tutorial(BLOB_POST_LOGITS, 0);
	struct doc d;
	CHECK(render(&d, &m, "") == 0);
	if (d.n < 0)
		return doc_free(&d);
	int cols = at(&d, 0, "components", "schemas", "Columns", "example", NULL);
	CHECK(cols > 0 && d.t[cols].size == 784);
	int req = at(&d, 0, "components", "schemas", "Record", "required", NULL);
	CHECK(req > 0 && d.t[req].size == 784);
	for (int i = 0; cols > 0 && req > 0 && i < 784; i++) {
		char idx[16];
		snprintf(idx, sizeof idx, "#%d", i);
		CHECKF(strcmp(str(&d, at(&d, cols, idx, NULL)), unit_names784[i]) == 0, "column %d", i);
		CHECKF(strcmp(str(&d, at(&d, req, idx, NULL)), unit_names784[i]) == 0, "record column %d", i);
		CHECK_STR(sat(&d, "components", "schemas", "Record", "properties", unit_names784[i], "type", NULL), "number");
	}
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Columns", "x-column-count", NULL), 784));
	CHECK_STR(sat(&d, "components", "schemas", "Columns", "x-first-column", NULL), "col_0");
	CHECK_STR(sat(&d, "components", "schemas", "Columns", "x-last-column", NULL), "col_783");
	doc_free(&d);
}

/* Every example decodes, through scorepoint's own decoders, to one row of
 * 784 zeros. */
static void test_examples(void)
{
	struct blob_model m = tutorial(BLOB_POST_LOGITS, 1);
	struct req_schema s;
	struct req_ctx c;
	struct req_result r;
	struct v2_request v;
	struct req_error e;
	struct doc d;

	CHECK(render(&d, &m, "") == 0);
	if (d.n < 0)
		return doc_free(&d);
	req_schema_init(&s, &m);
	req_ctx_init(&c, NULL);
	CHECK_STR(sat(&d, "paths", "/score", "post", "requestBody", "content", "application/json", "examples", "one_row",
		      "$ref", NULL), "#/components/examples/AzureMLRequest");
	CHECK_STR(sat(&d, "paths", "/score", "post", "requestBody", "content", "text/csv", "examples", "one_row",
		      "$ref", NULL), "#/components/examples/CsvRequest");
	int i = at(&d, 0, "components", "examples", "AzureMLRequest", "value", NULL);
	CHECK(i > 0 && at(&d, i, "input_data", "columns", NULL) > 0 && at(&d, i, "input_data", "index", NULL) > 0);
	CHECK_STR(sat(&d, "components", "examples", "AzureMLRequest", "value", "input_data", "columns", "#783", NULL), "col_783");
	char *body = i > 0 ? text(&d, i) : NULL;
	CHECK(body && req_decode_json(&c, &s, body, strlen(body), 0, &r, &e) == 0 && r.rows == 1 &&
	      r.shape == REQ_SHAPE_SPLIT);
	for (int k = 0; body && k < 784 && r.rows == 1; k++)
		CHECK(r.x[k] == 0.0f);
	free(body);
	i = at(&d, 0, "components", "examples", "MLflowRequest", "value", NULL);
	body = i > 0 ? text(&d, i) : NULL;
	CHECK(body && req_decode_json(&c, &s, body, strlen(body), REQ_MLFLOW, &r, &e) == 0 && r.rows == 1 &&
	      r.key == REQ_KEY_DATAFRAME_SPLIT);
	free(body);
	i = at(&d, 0, "components", "examples", "V2InferRequest", "value", NULL);
	body = i > 0 ? text(&d, i) : NULL;
	CHECK(body && v2_decode(&c, &s, body, strlen(body), &v, &e) == 0 && v.rows == 1 && v.x[783] == 0.0f);
	free(body);
	const char *csv = sat(&d, "components", "examples", "CsvRequest", "value", NULL);
	CHECK(strncmp(csv, "col_0,col_1,", 12) == 0);
	CHECK(req_decode_csv(&c, &s, csv, strlen(csv), &r, &e) == 0 && r.rows == 1);
	req_ctx_free(&c);
	req_schema_free(&s);
	doc_free(&d);
}

static void test_predictions(void)
{
	struct doc d;
	for (uint32_t post = BLOB_POST_LOGITS; post <= BLOB_POST_PROBABILITIES; post++) {
		struct blob_model m = tutorial(post, 1);
		CHECK(render(&d, &m, "") == 0);
		if (d.n < 0)
			break;
		CHECK_STR(sat(&d, "components", "schemas", "Predictions", "type", NULL), "array");
		CHECK_STR(sat(&d, "components", "schemas", "Predictions", "x-postprocess", NULL), blob_post_name(post));
		CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "type", NULL), "object");
		int props = at(&d, 0, "components", "schemas", "Predictions", "items", "properties", NULL);
		int req = at(&d, 0, "components", "schemas", "Predictions", "items", "required", NULL);
		CHECK(props > 0 && d.t[props].size == 10 && req > 0 && d.t[req].size == 10);
		for (int j = 0; props > 0 && j < 10; j++) {
			char key[16];
			snprintf(key, sizeof key, "%d", j);
			CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "properties", key, "type", NULL), "number");
		}
		CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "required", "#9", NULL), "9");
		CHECK((strstr(sat(&d, "components", "schemas", "Predictions", "description", NULL), "softmax") != NULL) ==
		      (post == BLOB_POST_PROBABILITIES));
		doc_free(&d);
	}
	/* labels: the label names */
	struct blob_model m = tutorial(BLOB_POST_LABELS, 1);
	CHECK(render(&d, &m, "") == 0);
	CHECK_STR(sat(&d, "components", "schemas", "Predictions", "x-postprocess", NULL), "labels");
	CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "type", NULL), "string");
	int en = d.n > 0 ? at(&d, 0, "components", "schemas", "Predictions", "items", "enum", NULL) : -1;
	CHECK(en > 0 && d.t[en].size == 10);
	CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "enum", "#0", NULL), "T-Shirt");
	CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "enum", "#9", NULL), "Ankle Boot");
	CHECK(d.n < 0 || at(&d, 0, "components", "schemas", "Predictions", "items", "properties", NULL) < 0);
	doc_free(&d);
	/* labels without label names: the index, as enc_labels writes it */
	m = tutorial(BLOB_POST_LABELS, 0);
	CHECK(render(&d, &m, "") == 0);
	CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "type", NULL), "integer");
	CHECK(d.n > 0 && is_number(&d, at(&d, 0, "components", "schemas", "Predictions", "items", "maximum", NULL), 9));
	doc_free(&d);
}

static void test_base_path(void)
{
	struct blob_model m = tutorial(BLOB_POST_LOGITS, 1);
	static const char *const bases[] = { "/endpoints/fashion", "/endpoints/fashion/", "endpoints/fashion" };
	for (int k = 0; k < 3; k++) {
		struct doc d;
		CHECK(render(&d, &m, bases[k]) == 0);
		if (d.n < 0) {
			doc_free(&d);
			continue;
		}
		CHECK(at(&d, 0, "paths", "/endpoints/fashion/score", "post", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/endpoints/fashion/invocations", "post", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/endpoints/fashion/v2/models/fashion-mnist/infer", "post", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/endpoints/fashion/", "get", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/endpoints/fashion/health", "get", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/endpoints/fashion/metrics", "get", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/score", NULL) < 0);
		CHECK(refs_resolve(&d));
		doc_free(&d);
	}
	struct doc d;
	CHECK(render(&d, &m, NULL) == 0);
	CHECK(d.n > 0 && at(&d, 0, "paths", "/score", "post", NULL) > 0);
	doc_free(&d);
}

/* Over 1024 columns: the count and the ends, no full lists, no examples. */
static void test_wide_model(void)
{
	enum { W = 3000 };
	static char names[W][16];
	static const char *cols[W];
	struct blob_model m;
	struct doc d;

	memset(&m, 0, sizeof m);
	for (int i = 0; i < W; i++) {
		snprintf(names[i], sizeof names[i], "f%d", i);
		cols[i] = names[i];
	}
	m.name = "wide";
	m.version = "1";
	m.input_width = W;
	m.output_width = 2000;
	m.ncolumns = W;
	m.columns = cols;
	CHECK(render(&d, &m, "") == 0);
	if (d.n < 0)
		return doc_free(&d);
	CHECK(d.b.len < 20000);
	CHECK(refs_resolve(&d));
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Columns", "x-column-count", NULL), W));
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Columns", "minItems", NULL), W));
	CHECK_STR(sat(&d, "components", "schemas", "Columns", "x-first-column", NULL), "f0");
	CHECK_STR(sat(&d, "components", "schemas", "Columns", "x-last-column", NULL), "f2999");
	CHECK(at(&d, 0, "components", "schemas", "Columns", "example", NULL) < 0);
	CHECK(at(&d, 0, "components", "schemas", "Record", "additionalProperties", NULL) > 0);
	CHECK(at(&d, 0, "components", "examples", NULL) < 0);
	CHECK(at(&d, 0, "paths", "/score", "post", "requestBody", "content", "application/json", "examples", NULL) < 0);
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Predictions", "items", "x-output-count", NULL), 2000));
	CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Row", "maxItems", NULL), W));
	doc_free(&d);
	/* exactly 1024 is still listed in full */
	m.input_width = m.ncolumns = 1024;
	m.output_width = 1024;
	CHECK(render(&d, &m, "") == 0);
	int ex = d.n > 0 ? at(&d, 0, "components", "schemas", "Columns", "example", NULL) : -1;
	CHECK(ex > 0 && d.t[ex].size == 1024);
	CHECK(d.n > 0 && at(&d, 0, "components", "examples", "CsvRequest", NULL) > 0);
	CHECK(d.n > 0 && at(&d, 0, "components", "schemas", "Predictions", "items", "properties", "1023", NULL) > 0);
	doc_free(&d);
}

/* A model converted without column names. */
static void test_anonymous_model(void)
{
	struct blob_model m;
	struct req_schema s;
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	struct doc d;

	memset(&m, 0, sizeof m);
	m.name = "anon";
	m.version = "2";
	m.input_width = 3;
	m.output_width = 2;
	req_schema_init(&s, &m);
	req_ctx_init(&c, NULL);
	CHECK(render(&d, &m, "") == 0);
	if (d.n > 0) {
		CHECK(refs_resolve(&d));
		CHECK(is_number(&d, at(&d, 0, "components", "schemas", "Columns", "x-column-count", NULL), 3));
		CHECK(strstr(sat(&d, "components", "schemas", "Columns", "description", NULL), "no column names") != NULL);
		CHECK(strstr(sat(&d, "components", "schemas", "Record", "description", NULL), "the first record's keys") != NULL);
		int i = at(&d, 0, "components", "examples", "AzureMLRequest", "value", NULL);
		char *body = i > 0 ? text(&d, i) : NULL;
		CHECK(body && strcmp(body, "{\"input_data\": [[0.0, 0.0, 0.0]]}") == 0);
		CHECK(body && req_decode_json(&c, &s, body, strlen(body), 0, &r, &e) == 0 && r.rows == 1);
		free(body);
		i = at(&d, 0, "components", "examples", "MLflowRequest", "value", NULL);
		body = i > 0 ? text(&d, i) : NULL;
		CHECK(body && req_decode_json(&c, &s, body, strlen(body), REQ_MLFLOW, &r, &e) == 0 && r.rows == 1);
		free(body);
		const char *csv = sat(&d, "components", "examples", "CsvRequest", "value", NULL);
		CHECK_STR(csv, "0,1,2\n0.0,0.0,0.0\n");
		CHECK(req_decode_csv(&c, &s, csv, strlen(csv), &r, &e) == 0 && r.rows == 1);
	}
	doc_free(&d);
	req_ctx_free(&c);
	req_schema_free(&s);
}

/* Strings from the blob are escaped wherever they go, and the CSV example
 * quotes names as pandas would. */
static void test_escaping(void)
{
	static const char *cols[4] = { "a,b", "say \"hi\"", "caf\xc3\xa9 \xf0\x9f\x98\x80", "back\\slash\ttab" };
	static const char *labels[2] = { "\"yes\"", "n\no" };
	struct blob_model m;
	struct req_schema s;
	struct req_ctx c;
	struct req_result r;
	struct req_error e;
	struct doc d;

	memset(&m, 0, sizeof m);
	m.name = "m \"1\"\\\xc3\xa9";
	m.version = "v\n2";
	m.postprocess = BLOB_POST_LABELS;
	m.input_width = 4;
	m.output_width = 2;
	m.ncolumns = 4;
	m.columns = cols;
	m.nlabels = 2;
	m.labels = labels;
	req_schema_init(&s, &m);
	req_ctx_init(&c, NULL);
	CHECK(render(&d, &m, "/endpoints/\"x\"") == 0);
	if (d.n > 0) {
		CHECK(refs_resolve(&d));
		CHECK_STR(sat(&d, "info", "title", NULL), "scorepoint: m \"1\"\\\xc3\xa9");
		CHECK_STR(sat(&d, "info", "version", NULL), "v\n2");
		CHECK(at(&d, 0, "paths", "/endpoints/\"x\"/v2/models/m \"1\"\\\xc3\xa9/infer", "post", NULL) > 0);
		CHECK(at(&d, 0, "paths", "/endpoints/\"x\"/score", "post", NULL) > 0);
		for (int i = 0; i < 4; i++) {
			char idx[16];
			snprintf(idx, sizeof idx, "#%d", i);
			CHECK_STR(sat(&d, "components", "schemas", "Columns", "example", idx, NULL), cols[i]);
			CHECK(at(&d, 0, "components", "schemas", "Record", "properties", cols[i], NULL) > 0);
		}
		CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "enum", "#0", NULL), "\"yes\"");
		CHECK_STR(sat(&d, "components", "schemas", "Predictions", "items", "enum", "#1", NULL), "n\no");
		const char *csv = sat(&d, "components", "examples", "CsvRequest", "value", NULL);
		CHECK_STR(csv, "\"a,b\",\"say \"\"hi\"\"\",caf\xc3\xa9 \xf0\x9f\x98\x80,back\\slash\ttab\n0.0,0.0,0.0,0.0\n");
		CHECK(req_decode_csv(&c, &s, csv, strlen(csv), &r, &e) == 0 && r.rows == 1);
		int i = at(&d, 0, "components", "examples", "AzureMLRequest", "value", NULL);
		char *body = i > 0 ? text(&d, i) : NULL;
		CHECK(body && req_decode_json(&c, &s, body, strlen(body), 0, &r, &e) == 0 && r.rows == 1);
		free(body);
	}
	/* All of it is ASCII, as json.dumps writes it. */
	for (size_t k = 0; k < d.b.len; k++)
		if ((unsigned char)d.b.p[k] >= 0x80 || (unsigned char)d.b.p[k] < 0x20) {
			CHECKF(0, "byte %zu is 0x%02x", k, (unsigned char)d.b.p[k]);
			break;
		}
	doc_free(&d);
	req_ctx_free(&c);
	req_schema_free(&s);
}

/* A buffer cap below the document: FULL, within the cap, no crash. */
static void test_full_buffer(void)
{
	struct blob_model m = tutorial(BLOB_POST_LABELS, 1);
	static const size_t caps[] = { 16, 100, 1000, 5000, 20000, 60000 };
	for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++) {
		struct enc_buf b;
		enc_init(&b, caps[k]);
		swagger_render(&b, &m, "/endpoints/x");
		CHECK(enc_status(&b) == ENC_FULL && b.len <= caps[k]);
		enc_free(&b);
	}
}

int main(void)
{
	RUN(test_document);
	RUN(test_columns);
	RUN(test_examples);
	RUN(test_predictions);
	RUN(test_base_path);
	RUN(test_wide_model);
	RUN(test_anonymous_model);
	RUN(test_escaping);
	RUN(test_full_buffer);
	return unit_done();
}
