/*
 * swagger.c - the OpenAPI 3.0.3 document of one served model.
 *
 * Written straight into the response buffer: literal JSON for the fixed
 * parts, enc_string for everything that comes from the blob (names,
 * version, columns, labels, the base path), so any string is safe.  Lists
 * that grow with the model (column names, output keys, labels, example
 * rows) are written in full up to SWAGGER_MAX_LISTED entries; a wider model
 * gets its count and first and last names instead, which keeps the document
 * a reasonable size for a browser.
 */
#include "handler/swagger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWAGGER_MAX_LISTED 1024

#define REF(name) "{\"$ref\": \"#/components/schemas/" name "\"}"
#define RESPONSE(name) "{\"$ref\": \"#/components/responses/" name "\"}"
#define EXAMPLE(name) "{\"$ref\": \"#/components/examples/" name "\"}"

/* ---- strings ---- */

/* Append s as the inside of a JSON string (escaped, no quotes), so that a
 * string can be written in parts.  enc_string does the escaping. */
static void str_part(struct enc_buf *b, const char *s)
{
	size_t at = b->len;
	enc_string(b, s);
	if (b->full)
		return;
	memmove(b->p + at, b->p + at + 1, b->len - at - 2);
	b->len -= 2;
	b->p[b->len] = '\0';
}

/* "<base><a><c>" as one JSON string. */
static void str3(struct enc_buf *b, const char *base, const char *a, const char *c)
{
	enc_raw(b, "\"", 1);
	str_part(b, base);
	str_part(b, a);
	str_part(b, c);
	enc_raw(b, "\"", 1);
}

static void num(struct enc_buf *b, size_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof tmp, "%zu", v);
	enc_cstr(b, tmp);
}

/* A name as one CSV field, quoted (with "" for ") when pandas would. */
static void csv_field(struct enc_buf *b, const char *name)
{
	if (!strpbrk(name, ",\"\r\n")) {
		str_part(b, name);
		return;
	}
	str_part(b, "\"");
	for (const char *p = name; *p;) {
		size_t n = strcspn(p, "\"");
		char chunk[256];
		size_t take = n < sizeof chunk - 1 ? n : sizeof chunk - 1;
		memcpy(chunk, p, take);
		chunk[take] = '\0';
		str_part(b, chunk);
		p += take;
		if (take == n && *p == '"') {
			str_part(b, "\"\"");
			p++;
		}
	}
	str_part(b, "\"");
}

/* ---- model facts ---- */

static int columns_listed(const struct blob_model *m)
{
	return m->ncolumns > 0 && m->ncolumns <= SWAGGER_MAX_LISTED;
}

/* Examples hold one row of width values: only for models narrow enough. */
static int has_examples(const struct blob_model *m)
{
	return m->input_width <= SWAGGER_MAX_LISTED;
}

/* ["a", "b", ...] */
static void string_list(struct enc_buf *b, const char *const *v, size_t n)
{
	enc_raw(b, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			enc_raw(b, ", ", 2);
		enc_string(b, v[i]);
	}
	enc_raw(b, "]", 1);
}

static void zeros(struct enc_buf *b, size_t n)
{
	enc_raw(b, "[", 1);
	for (size_t i = 0; i < n; i++)
		enc_raw(b, i ? ", 0.0" : "0.0", i ? 5 : 3);
	enc_raw(b, "]", 1);
}

/* ---- paths ---- */

static const char *const score_errors =
	"\"400\": " RESPONSE("BadRequest") ", \"408\": " RESPONSE("Timeout") ", \"413\": " RESPONSE("TooLarge")
	", \"415\": " RESPONSE("UnsupportedMediaType") ", \"500\": " RESPONSE("InternalError");

/* A requestBody taking JSON of schema `ref` (with its example) or CSV. */
static void json_or_csv_body(struct enc_buf *b, const struct blob_model *m, const char *ref,
			     const char *example)
{
	enc_cstr(b, "{\"required\": true, \"content\": {\"application/json\": {\"schema\": ");
	enc_cstr(b, ref);
	if (has_examples(m)) {
		enc_cstr(b, ", \"examples\": {\"one_row\": ");
		enc_cstr(b, example);
		enc_cstr(b, "}");
	}
	enc_cstr(b, "}, \"text/csv\": {\"schema\": {\"type\": \"string\"}");
	if (has_examples(m))
		enc_cstr(b, ", \"examples\": {\"one_row\": " EXAMPLE("CsvRequest") "}");
	enc_cstr(b, "}}}");
}

static void op_score(struct enc_buf *b, const struct blob_model *m)
{
	enc_cstr(b, "{\"post\": {\"operationId\": \"score\", \"summary\": \"Score rows (Azure ML online endpoint)\", "
		    "\"description\": \"The body is {\\\"input_data\\\": ...}: a split-orient frame (columns, index, "
		    "data), rows as lists ({\\\"input_data\\\": [[...]]}) or one list per column "
		    "({\\\"input_data\\\": {\\\"column\\\": [...]}}); or CSV with a header row. Columns are matched "
		    "by name in any order and extra columns are ignored. {\\\"params\\\": {\\\"top_k\\\": K}} asks for "
		    "each row's K best outputs as \\\"score:index:label\\\" strings.\", "
		    "\"requestBody\": ");
	json_or_csv_body(b, m, REF("AzureMLRequest"), EXAMPLE("AzureMLRequest"));
	enc_cstr(b, ", \"responses\": {\"200\": {\"description\": \"One prediction per row\", \"content\": "
		    "{\"application/json\": {\"schema\": {\"oneOf\": [" REF("Predictions") ", " REF("TopK") "]}}}}, ");
	enc_cstr(b, score_errors);
	enc_cstr(b, "}}}");
}

static void op_invocations(struct enc_buf *b, const struct blob_model *m)
{
	enc_cstr(b, "{\"post\": {\"operationId\": \"invocations\", \"summary\": \"Score rows (MLflow scoring server)\", "
		    "\"description\": \"The body has exactly one of dataframe_split, dataframe_records, instances, "
		    "inputs, and optionally params; or CSV with a header row.\", "
		    "\"requestBody\": ");
	json_or_csv_body(b, m, REF("MLflowRequest"), EXAMPLE("MLflowRequest"));
	enc_cstr(b, ", \"responses\": {\"200\": {\"description\": \"{\\\"predictions\\\": ...}, one per row\", "
		    "\"content\": {\"application/json\": {\"schema\": " REF("MLflowResponse") "}}}, ");
	enc_cstr(b, score_errors);
	enc_cstr(b, "}}}");
}

static void op_v2_infer(struct enc_buf *b, const struct blob_model *m)
{
	char shape[96];

	if (m->input_shape[0])   /* an image model: v2.c reads no other layout */
		snprintf(shape, sizeof shape, "[rows, %u, %u, %u] or [rows, %u]", m->input_shape[0],
			 m->input_shape[1], m->input_shape[2], m->input_width);
	else
		snprintf(shape, sizeof shape, "[rows, width] or [rows, d1, d2, ...] with d1*d2*... equal to the width");
	enc_cstr(b, "{\"post\": {\"operationId\": \"v2_infer\", \"summary\": \"Infer (KServe V2 / Open Inference "
		    "Protocol)\", \"description\": \"One input tensor, ");
	enc_cstr(b, shape);
	enc_cstr(b, "; data flat in row-major order or nested to the shape. "
		    "outputs[0].parameters.classification = K answers each row's K best as BYTES "
		    "\\\"score:index:label\\\".\", \"requestBody\": {\"required\": true, \"content\": "
		    "{\"application/json\": {\"schema\": " REF("V2InferRequest"));
	if (has_examples(m))
		enc_cstr(b, ", \"examples\": {\"one_row\": " EXAMPLE("V2InferRequest") "}");
	enc_cstr(b, "}}}, \"responses\": {\"200\": {\"description\": \"The output tensor\", \"content\": "
		    "{\"application/json\": {\"schema\": " REF("V2InferResponse") "}}}, "
		    "\"400\": " RESPONSE("V2BadRequest") ", \"413\": " RESPONSE("V2TooLarge")
		    ", \"500\": " RESPONSE("V2InternalError") "}}}");
}

static void paths(struct enc_buf *b, const struct blob_model *m, const char *base)
{
	enc_cstr(b, "\"paths\": {");
	str3(b, base, "/score", "");
	enc_cstr(b, ": ");
	op_score(b, m);
	enc_cstr(b, ", ");
	str3(b, base, "/invocations", "");
	enc_cstr(b, ": ");
	op_invocations(b, m);
	enc_cstr(b, ", ");
	enc_raw(b, "\"", 1);
	str_part(b, base);
	str_part(b, "/v2/models/");
	str_part(b, m->name ? m->name : "");
	str_part(b, "/infer");
	enc_cstr(b, "\": ");
	op_v2_infer(b, m);
	enc_cstr(b, ", ");
	str3(b, base, "/", "");
	enc_cstr(b, ": {\"get\": {\"operationId\": \"liveness\", \"summary\": \"Liveness and readiness (Azure ML "
		    "probes)\", \"responses\": {\"200\": {\"description\": \"Healthy\", \"content\": {\"text/plain\": "
		    "{\"schema\": {\"type\": \"string\"}, \"example\": \"Healthy\"}}}}}}, ");
	str3(b, base, "/health", "");
	enc_cstr(b, ": {\"get\": {\"operationId\": \"health\", \"summary\": \"Health (MLflow)\", \"responses\": "
		    "{\"200\": {\"description\": \"The model is loaded\", \"content\": {\"application/json\": "
		    "{\"schema\": " REF("Health") "}}}}}}, ");
	str3(b, base, "/metrics", "");
	enc_cstr(b, ": {\"get\": {\"operationId\": \"metrics\", \"summary\": \"Request counters (Prometheus text "
		    "format 0.0.4)\", \"responses\": {\"200\": {\"description\": \"Counters summed over every worker\", "
		    "\"content\": {\"text/plain\": {\"schema\": {\"type\": \"string\"}}}}}}}, ");
	str3(b, base, "/swagger.json", "");
	enc_cstr(b, ": {\"get\": {\"operationId\": \"swagger\", \"summary\": \"This document\", \"responses\": "
		    "{\"200\": {\"description\": \"OpenAPI 3.0.3\", \"content\": {\"application/json\": "
		    "{\"schema\": {\"type\": \"object\"}}}}}}}}");
}

/* ---- schemas ---- */

static void schema_columns(struct enc_buf *b, const struct blob_model *m)
{
	enc_cstr(b, "\"Columns\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, ");
	if (!m->ncolumns) {
		enc_cstr(b, "\"description\": \"The model has no column names: names are read in the order given, "
			    "one per input\", \"minItems\": ");
		num(b, m->input_width);
		enc_cstr(b, ", \"maxItems\": ");
		num(b, m->input_width);
	} else {
		enc_cstr(b, "\"description\": \"The model's input columns, matched by name in any order; other "
			    "names are ignored\", \"minItems\": ");
		num(b, m->ncolumns);
		enc_cstr(b, ", \"x-first-column\": ");
		enc_string(b, m->columns[0]);
		enc_cstr(b, ", \"x-last-column\": ");
		enc_string(b, m->columns[m->ncolumns - 1]);
		if (columns_listed(m)) {
			enc_cstr(b, ", \"example\": ");
			string_list(b, m->columns, m->ncolumns);
		}
	}
	enc_cstr(b, ", \"x-column-count\": ");
	num(b, m->ncolumns ? m->ncolumns : m->input_width);
	enc_cstr(b, "}");
}

static void schema_record(struct enc_buf *b, const struct blob_model *m)
{
	enc_cstr(b, "\"Record\": {\"type\": \"object\", ");
	if (!columns_listed(m)) {
		enc_cstr(b, m->ncolumns ? "\"description\": \"One row: column name to value, for every column of "
			 "Columns\", \"additionalProperties\": {\"type\": \"number\"}}" :
			 "\"description\": \"One row: key to value.  The model has no column names: its columns "
			 "are the first record's keys, in their order, and every record gives the same keys\", "
			 "\"additionalProperties\": {\"type\": \"number\"}}");
		return;
	}
	enc_cstr(b, "\"description\": \"One row: column name to value\", \"required\": ");
	string_list(b, m->columns, m->ncolumns);
	enc_cstr(b, ", \"properties\": {");
	for (uint32_t i = 0; i < m->ncolumns; i++) {
		if (i)
			enc_raw(b, ", ", 2);
		enc_string(b, m->columns[i]);
		enc_cstr(b, ": {\"type\": \"number\"}");
	}
	enc_cstr(b, "}}");
}

static void schema_predictions(struct enc_buf *b, const struct blob_model *m)
{
	size_t w = m->output_width;

	enc_cstr(b, "\"Predictions\": {\"type\": \"array\", \"x-postprocess\": ");
	enc_string(b, blob_post_name(m->postprocess));
	if (m->postprocess == BLOB_POST_LABELS) {
		if (m->nlabels && m->nlabels <= SWAGGER_MAX_LISTED) {
			enc_cstr(b, ", \"description\": \"Per row, the label of the largest output\", \"items\": "
				    "{\"type\": \"string\", \"enum\": ");
			string_list(b, m->labels, m->nlabels);
			enc_cstr(b, "}}");
		} else if (m->nlabels) {
			enc_cstr(b, ", \"description\": \"Per row, the label of the largest output\", \"items\": "
				    "{\"type\": \"string\"}}");
		} else {
			enc_cstr(b, ", \"description\": \"Per row, the index of the largest output (the model has no "
				    "labels)\", \"items\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": ");
			num(b, w ? w - 1 : 0);
			enc_cstr(b, "}}");
		}
		return;
	}
	enc_cstr(b, m->postprocess == BLOB_POST_PROBABILITIES ?
		 ", \"description\": \"Per row, the probability of each output (softmax of the logits), keyed by "
		 "output index\"" :
		 ", \"description\": \"Per row, the model's logits, keyed by output index\"");
	enc_cstr(b, ", \"items\": {\"type\": \"object\", ");
	if (w > SWAGGER_MAX_LISTED) {
		enc_cstr(b, "\"additionalProperties\": {\"type\": \"number\"}, \"x-output-count\": ");
		num(b, w);
		enc_cstr(b, "}}");
		return;
	}
	enc_cstr(b, "\"required\": [");
	for (size_t j = 0; j < w; j++) {
		enc_cstr(b, j ? ", \"" : "\"");
		num(b, j);
		enc_raw(b, "\"", 1);
	}
	enc_cstr(b, "], \"properties\": {");
	for (size_t j = 0; j < w; j++) {
		enc_cstr(b, j ? ", \"" : "\"");
		num(b, j);
		enc_cstr(b, "\": {\"type\": \"number\"}");
	}
	enc_cstr(b, "}}}");
}

static void schemas(struct enc_buf *b, const struct blob_model *m)
{
	enc_cstr(b, "\"schemas\": {");
	schema_columns(b, m);
	enc_cstr(b, ", \"Row\": {\"type\": \"array\", \"description\": \"One row: the values in the order of "
		    "the model's columns\", \"items\": {\"type\": \"number\", \"format\": \"float\"}, \"minItems\": ");
	num(b, m->input_width);
	enc_cstr(b, ", \"maxItems\": ");
	num(b, m->input_width);
	enc_cstr(b, "}, ");
	schema_record(b, m);
	enc_cstr(b, ", \"SplitFrame\": {\"type\": \"object\", \"description\": \"pandas' split orient\", "
		    "\"required\": [\"data\"], \"properties\": {\"columns\": " REF("Columns") ", \"index\": "
		    "{\"type\": \"array\", \"items\": {\"type\": \"integer\"}}, \"data\": {\"type\": \"array\", "
		    "\"minItems\": 1, \"items\": " REF("Row") "}}}, "
		    "\"Params\": {\"type\": \"object\", \"properties\": {\"top_k\": {\"type\": \"integer\", "
		    "\"minimum\": 1, \"description\": \"Answer each row's K best outputs as \\\"score:index:label\\\"\"}}}, "
		    "\"AzureMLRequest\": {\"type\": \"object\", \"required\": [\"input_data\"], \"properties\": "
		    "{\"input_data\": " REF("SplitFrame") ", \"params\": " REF("Params") "}}, "
		    "\"MLflowRequest\": {\"type\": \"object\", \"description\": \"Exactly one of dataframe_split, "
		    "dataframe_records, instances, inputs\", \"oneOf\": [{\"required\": [\"dataframe_split\"]}, "
		    "{\"required\": [\"dataframe_records\"]}, {\"required\": [\"instances\"]}, {\"required\": "
		    "[\"inputs\"]}], \"properties\": {\"dataframe_split\": " REF("SplitFrame") ", "
		    "\"dataframe_records\": {\"type\": \"array\", \"items\": " REF("Record") "}, \"instances\": "
		    "{\"type\": \"array\", \"items\": {\"oneOf\": [" REF("Row") ", " REF("Record") "]}}, \"inputs\": "
		    "{\"oneOf\": [{\"type\": \"array\", \"items\": " REF("Row") "}, {\"type\": \"object\", "
		    "\"additionalProperties\": {\"type\": \"array\", \"items\": {\"type\": \"number\"}}}]}, "
		    "\"params\": " REF("Params") "}}, ");
	schema_predictions(b, m);
	enc_cstr(b, ", \"TopK\": {\"type\": \"array\", \"description\": \"With params.top_k: per row, the K best "
		    "outputs as \\\"score:index:label\\\" (\\\"score:index\\\" without labels), best first\", "
		    "\"items\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}, "
		    "\"MLflowResponse\": {\"type\": \"object\", \"required\": [\"predictions\"], \"properties\": "
		    "{\"predictions\": {\"oneOf\": [" REF("Predictions") ", " REF("TopK") "]}}}, "
		    "\"V2InferRequest\": {\"type\": \"object\", \"required\": [\"inputs\"], \"properties\": {\"id\": "
		    "{\"type\": \"string\", \"maxLength\": 128}, \"parameters\": {\"type\": \"object\"}, \"inputs\": "
		    "{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 1, \"items\": " REF("V2InputTensor") "}, "
		    "\"outputs\": {\"type\": \"array\", \"items\": {\"type\": \"object\", \"properties\": {\"name\": "
		    "{\"type\": \"string\"}, \"parameters\": {\"type\": \"object\", \"properties\": "
		    "{\"classification\": {\"type\": \"integer\", \"minimum\": 1}}}}}}}}, "
		    "\"V2InputTensor\": {\"type\": \"object\", \"required\": [\"name\", \"shape\", \"datatype\", "
		    "\"data\"], \"properties\": {\"name\": {\"type\": \"string\", \"example\": \"input-0\"}, "
		    "\"shape\": {\"type\": \"array\", \"minItems\": 1, \"items\": {\"type\": \"integer\", "
		    "\"minimum\": 1}, \"example\": [1, ");
	num(b, m->input_width);
	enc_cstr(b, "]}, \"datatype\": {\"type\": \"string\", \"enum\": [\"FP32\", \"FP64\", \"INT8\", \"INT16\", "
		    "\"INT32\", \"INT64\", \"UINT8\", \"UINT16\", \"UINT32\", \"UINT64\"]}, \"parameters\": "
		    "{\"type\": \"object\"}, \"data\": {\"type\": \"array\", \"description\": \"Row-major, flat or "
		    "nested to the shape\", \"items\": {}}}}, "
		    "\"V2InferResponse\": {\"type\": \"object\", \"required\": [\"model_name\", \"outputs\"], "
		    "\"properties\": {\"model_name\": {\"type\": \"string\", \"example\": ");
	enc_string(b, m->name ? m->name : "");
	enc_cstr(b, "}, \"model_version\": {\"type\": \"string\", \"example\": ");
	enc_string(b, m->version ? m->version : "");
	enc_cstr(b, "}, \"id\": {\"type\": \"string\"}, \"outputs\": {\"type\": \"array\", \"items\": "
		    REF("V2OutputTensor") "}}}, "
		    "\"V2OutputTensor\": {\"type\": \"object\", \"required\": [\"name\", \"shape\", \"datatype\", "
		    "\"data\"], \"properties\": {\"name\": {\"type\": \"string\", \"example\": \"output-0\"}, "
		    "\"shape\": {\"type\": \"array\", \"items\": {\"type\": \"integer\"}, \"example\": [1, ");
	num(b, m->output_width);
	enc_cstr(b, "]}, \"datatype\": {\"type\": \"string\", \"enum\": [\"FP32\", \"BYTES\"], \"description\": "
		    "\"FP32 logits, or BYTES \\\"score:index:label\\\" strings with classification\"}, \"data\": "
		    "{\"type\": \"array\", \"items\": {\"oneOf\": [{\"type\": \"number\"}, {\"type\": \"string\"}]}}}}, "
		    "\"Health\": {\"type\": \"object\", \"properties\": {\"status\": {\"type\": \"string\", "
		    "\"example\": \"Healthy\"}}}, "
		    "\"Error\": {\"type\": \"object\", \"required\": [\"error_code\", \"message\"], \"properties\": "
		    "{\"error_code\": {\"type\": \"string\", \"example\": \"BAD_REQUEST\"}, \"message\": "
		    "{\"type\": \"string\"}}}, "
		    "\"V2Error\": {\"type\": \"object\", \"required\": [\"error\"], \"properties\": {\"error\": "
		    "{\"type\": \"string\"}}}}");
}

static void responses(struct enc_buf *b)
{
	static const struct { const char *name, *schema, *text; } r[] = {
		{ "BadRequest", "Error", "Malformed JSON or CSV, a shape scorepoint does not read, a value that "
		  "is not a number, or missing columns" },
		{ "Timeout", "Error", "The request took longer than the deployment's request timeout" },
		{ "TooLarge", "Error", "A limit on the body, rows or values was exceeded" },
		{ "UnsupportedMediaType", "Error", "Neither application/json nor text/csv (UTF-8)" },
		{ "InternalError", "Error", "The server failed; the request may be retried" },
		{ "V2BadRequest", "V2Error", "The request does not match the protocol or the model" },
		{ "V2TooLarge", "V2Error", "A limit on the body, rows or values was exceeded" },
		{ "V2InternalError", "V2Error", "The server failed; the request may be retried" },
	};
	enc_cstr(b, "\"responses\": {");
	for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
		enc_cstr(b, i ? ", \"" : "\"");
		enc_cstr(b, r[i].name);
		enc_cstr(b, "\": {\"description\": ");
		enc_string(b, r[i].text);
		enc_cstr(b, ", \"content\": {\"application/json\": {\"schema\": {\"$ref\": \"#/components/schemas/");
		enc_cstr(b, r[i].schema);
		enc_cstr(b, "\"}}}}");
	}
	enc_cstr(b, "}");
}

/* One row of zeros in each request form, with the real column names. */
static void examples(struct enc_buf *b, const struct blob_model *m)
{
	uint32_t w = m->input_width;

	enc_cstr(b, "\"examples\": {\"AzureMLRequest\": {\"summary\": \"One row of zeros\", \"value\": {\"input_data\": ");
	if (m->ncolumns) {
		enc_cstr(b, "{\"columns\": ");
		string_list(b, m->columns, m->ncolumns);
		enc_cstr(b, ", \"index\": [0], \"data\": [");
		zeros(b, w);
		enc_cstr(b, "]}");
	} else {
		enc_cstr(b, "[");
		zeros(b, w);
		enc_cstr(b, "]");
	}
	enc_cstr(b, "}}, \"MLflowRequest\": {\"summary\": \"One row of zeros\", \"value\": ");
	if (m->ncolumns) {
		enc_cstr(b, "{\"dataframe_split\": {\"columns\": ");
		string_list(b, m->columns, m->ncolumns);
		enc_cstr(b, ", \"data\": [");
		zeros(b, w);
		enc_cstr(b, "]}}");
	} else {
		enc_cstr(b, "{\"inputs\": [");
		zeros(b, w);
		enc_cstr(b, "]}");
	}
	enc_cstr(b, "}, \"V2InferRequest\": {\"summary\": \"One row of zeros\", \"value\": {\"inputs\": "
		    "[{\"name\": \"input-0\", \"shape\": [1, ");
	num(b, w);
	enc_cstr(b, "], \"datatype\": \"FP32\", \"data\": ");
	zeros(b, w);
	enc_cstr(b, "}]}}, \"CsvRequest\": {\"summary\": \"A header row and one row of zeros\", \"value\": \"");
	for (uint32_t i = 0; i < w; i++) {
		char tmp[16];
		if (i)
			str_part(b, ",");
		if (m->ncolumns) {
			csv_field(b, m->columns[i]);
		} else {
			snprintf(tmp, sizeof tmp, "%u", i);
			str_part(b, tmp);
		}
	}
	str_part(b, "\n");
	for (uint32_t i = 0; i < w; i++)
		str_part(b, i ? ",0.0" : "0.0");
	str_part(b, "\n");
	enc_cstr(b, "\"}}");
}

void swagger_render(struct enc_buf *b, const struct blob_model *m, const char *base_path)
{
	char base[BLOB_MAX_STRING + 1];
	const char *name = m->name ? m->name : "";

	/* "endpoints/x", "/endpoints/x/" and "/endpoints/x" are the same base;
	 * OpenAPI paths start with '/'. */
	if (!base_path)
		base_path = "";
	snprintf(base, sizeof base, "%s%s", *base_path && *base_path != '/' ? "/" : "", base_path);
	size_t n = strlen(base);
	if (n && base[n - 1] == '/')
		base[n - 1] = '\0';

	enc_cstr(b, "{\"openapi\": \"3.0.3\", \"info\": {\"title\": ");
	str3(b, "scorepoint: ", name, "");
	enc_cstr(b, ", \"version\": ");
	enc_string(b, m->version ? m->version : "");
	enc_cstr(b, ", \"description\": \"");
	str_part(b, "The model ");
	str_part(b, name);
	str_part(b, " (");
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%u inputs, %u outputs, post-processing: ", m->input_width, m->output_width);
	str_part(b, tmp);
	str_part(b, blob_post_name(m->postprocess));
	str_part(b, ") served by scorepoint through the Azure ML (/score), MLflow (/invocations) and KServe V2 "
		    "(/v2/models/{name}/infer) protocols.");
	enc_cstr(b, "\"}, ");
	paths(b, m, base);
	enc_cstr(b, ", \"components\": {");
	schemas(b, m);
	enc_cstr(b, ", ");
	responses(b);
	if (has_examples(m)) {
		enc_cstr(b, ", ");
		examples(b, m);
	}
	enc_cstr(b, "}}");
}
