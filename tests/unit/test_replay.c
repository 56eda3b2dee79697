/*
 * test_replay.c - cli/replay.c: the pure parts of `online-deployment
 * replay`: collected lines, replay bodies, answers, row comparison, the
 * worst rows, percentiles.
 */
#include "tests/unit/unit.h"
#include "cli/replay.h"

static char err[256];

static int line(const char *text, struct replay_line *l)
{
	return replay_parse_line(text, strlen(text), l, err, sizeof err);
}

static int answer(struct replay_answer *a, const char *body)
{
	return replay_answer_parse(a, body, strlen(body), err, sizeof err);
}

static int span_is(const char *p, size_t n, const char *want)
{
	return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

static void test_collected_inputs_line(void)
{
	struct replay_line l;
	const char *t = "{\"specversion\": \"1.0\", \"id\": \"0123456789abcdef0123456789abcdef\", "
			"\"source\": \"/endpoints/e/deployments/blue\", \"type\": \"azureml.inference.model_inputs\", "
			"\"datacontenttype\": \"application/json\", \"time\": \"2026-12-07T03:47:00.123Z\", "
			"\"correlationid\": \"req-1\", \"endpoint\": \"e\", \"deployment\": \"blue\", "
			"\"route\": \"invocations\", \"params\": {\"top_k\": 3}, \"data\": [[0.5, 1e-05], [2.0, -0.0]]}";
	CHECK_INT(line(t, &l), 0);
	CHECK_INT(l.kind, REPLAY_INPUTS);
	CHECK_INT(l.route, REPLAY_INVOCATIONS);
	CHECK_STR(l.id, "req-1");
	CHECK_STR(l.deployment, "blue");
	CHECK(span_is(l.data, l.data_len, "[[0.5, 1e-05], [2.0, -0.0]]"));
	CHECK(span_is(l.params, l.params_len, "{\"top_k\": 3}"));

	struct enc_buf b;
	enc_init(&b, 0);
	replay_body(&l, &b);
	CHECK(span_is(b.p, b.len, "{\"inputs\": [[0.5, 1e-05], [2.0, -0.0]], \"params\": {\"top_k\": 3}}"));
	l.route = REPLAY_SCORE;
	l.params = NULL;
	replay_body(&l, &b);
	CHECK(span_is(b.p, b.len, "{\"input_data\": [[0.5, 1e-05], [2.0, -0.0]]}"));
	enc_free(&b);
}

static void test_outputs_and_bodies(void)
{
	struct replay_line l;
	CHECK_INT(line("{\"specversion\": \"1.0\", \"type\": \"azureml.inference.model_outputs\", \"correlationid\": "
		       "\"r\\u002d2\", \"deployment\": \"green\", \"data\": {\"predictions\": [\"a\"]}}", &l), 0);
	CHECK_INT(l.kind, REPLAY_OUTPUTS);
	CHECK_STR(l.id, "r-2");
	CHECK(span_is(l.data, l.data_len, "{\"predictions\": [\"a\"]}"));

	/* Any other object is a request body, sent as it is. */
	CHECK_INT(line("  {\"input_data\": [[1, 2]]} ", &l), 0);
	CHECK_INT(l.kind, REPLAY_BODY);
	CHECK(span_is(l.data, l.data_len, "{\"input_data\": [[1, 2]]}"));
	CHECK_STR(l.id, "");
}

static void test_line_refusals(void)
{
	struct replay_line l;
	CHECK_INT(line("[1, 2]", &l), -1);
	CHECK_CONTAINS(err, "expected a JSON object");
	CHECK_INT(line("{\"a\": 1", &l), -1);
	CHECK_CONTAINS(err, "not JSON");
	CHECK_INT(line("{\"a\": 1, \"a\": 2}", &l), -1);
	CHECK_CONTAINS(err, "twice");
	CHECK_INT(line("{\"specversion\": \"1.0\", \"type\": \"azureml.inference.request\"}", &l), -1);
	CHECK_CONTAINS(err, "type \"azureml.inference.request\"");
	CHECK_INT(line("{\"specversion\": \"1.0\", \"type\": \"azureml.inference.model_inputs\", \"deployment\": \"b\", "
		       "\"route\": \"score\", \"data\": [[1]]}", &l), -1);
	CHECK_CONTAINS(err, "\"correlationid\"");
	CHECK_INT(line("{\"specversion\": \"1.0\", \"type\": \"azureml.inference.model_inputs\", \"correlationid\": "
		       "\"x\", \"deployment\": \"b\", \"route\": \"score\", \"data\": {\"a\": 1}}", &l), -1);
	CHECK_CONTAINS(err, "a list of rows");
	CHECK_INT(line("{\"specversion\": \"1.0\", \"type\": \"azureml.inference.model_inputs\", \"correlationid\": "
		       "\"x\", \"deployment\": \"b\", \"route\": \"v2\", \"data\": [[1]]}", &l), -1);
	CHECK_CONTAINS(err, "route \"v2\"");
}

static void test_answers(void)
{
	struct replay_answer a = { 0 };
	char cls[REPLAY_CLASS_MAX];

	CHECK_INT(answer(&a, "[{\"0\": -1.5, \"1\": 2.0, \"2\": 2.0}, {\"0\": 3.0, \"1\": 1e-05, \"2\": -0.0}]"), 0);
	CHECK_INT(a.nrows, 2);
	CHECK_INT(a.rows[0].argmax, 1);   /* a tie: the lowest index, as the server's argmax */
	CHECK_INT(a.rows[1].argmax, 0);
	CHECK_INT(a.rows[1].n, 3);
	replay_row_class(&a, 0, cls);
	CHECK_STR(cls, "1");

	CHECK_INT(answer(&a, "{\"predictions\": [\"Ankle Boot\", \"Pull\\u006fver\"]}"), 0);
	CHECK_INT(a.nrows, 2);
	CHECK_INT(a.rows[0].argmax, -1);
	replay_row_class(&a, 1, cls);
	CHECK_STR(cls, "Pullover");

	/* top_k: "score:index[:label]", best first; kept by index. */
	CHECK_INT(answer(&a, "[[\"15.9:9:Ankle Boot\", \"8.7:7:Sneaker\"], [\"0.5:2\", \"-1e-05:0\"]]"), 0);
	CHECK_INT(a.nrows, 2);
	CHECK_INT(a.rows[0].argmax, 9);
	CHECK_INT(a.rows[1].argmax, 2);
	CHECK_INT(a.vals[a.rows[0].first].idx, 7);

	CHECK_INT(answer(&a, "[]"), 0);
	CHECK_INT(a.nrows, 0);
	CHECK_INT(answer(&a, "[{\"x\": 1.0}]"), -1);
	CHECK_CONTAINS(err, "row 0");
	CHECK_INT(answer(&a, "[{\"0\": 1.0, \"00\": 2.0}]"), -1);
	CHECK_INT(answer(&a, "[[\"1.0:3\", \"0.5:3\"]]"), -1);   /* an index twice */
	CHECK_INT(answer(&a, "[[\"abc:3\"]]"), -1);
	CHECK_INT(answer(&a, "{\"error\": \"x\"}"), -1);
	CHECK_CONTAINS(err, "not a list of rows");
	replay_answer_free(&a);
}

static void test_compare(void)
{
	struct replay_answer a = { 0 }, b = { 0 };
	int agree;
	double d;

	/* green: blue with class 2's bias 0.75 higher: row 0 flips, row 1 does not. */
	CHECK_INT(answer(&a, "[{\"0\": 1.0, \"1\": 3.0, \"2\": 2.5}, {\"0\": 9.0, \"1\": 1.0, \"2\": 0.0}]"), 0);
	CHECK_INT(answer(&b, "[{\"0\": 1.0, \"1\": 3.0, \"2\": 3.25}, {\"0\": 9.0, \"1\": 1.0, \"2\": 0.75}]"), 0);
	replay_compare_row(&a, 0, &b, 0, &agree, &d);
	CHECK_INT(agree, 0);
	CHECKF(d == 0.75, "%g", d);
	replay_compare_row(&a, 1, &b, 1, &agree, &d);
	CHECK_INT(agree, 1);
	CHECKF(d == 0.75, "%g", d);

	/* top_k against dicts: the classes both give. */
	CHECK_INT(answer(&b, "[[\"3.5:1\", \"2.0:2\"]]"), 0);
	replay_compare_row(&a, 0, &b, 0, &agree, &d);
	CHECK_INT(agree, 1);
	CHECKF(d == 0.5, "%g", d);

	/* Labels: the same label, no scores. */
	CHECK_INT(answer(&a, "[\"Bag\", \"Coat\"]"), 0);
	CHECK_INT(answer(&b, "[\"Bag\", \"Shirt\"]"), 0);
	replay_compare_row(&a, 0, &b, 0, &agree, &d);
	CHECK_INT(agree, 1);
	CHECKF(d == -1, "%g", d);
	replay_compare_row(&a, 1, &b, 1, &agree, &d);
	CHECK_INT(agree, 0);
	CHECK_INT(answer(&b, "[{\"0\": 1.0}]"), 0);
	replay_compare_row(&a, 0, &b, 0, &agree, &d);
	CHECK_INT(agree, 0);
	replay_answer_free(&a);
	replay_answer_free(&b);
}

static void test_same_body(void)
{
	const char *body = "[{\"0\": 1.0}]";
	CHECK(replay_same_body(body, strlen(body), " [{\"0\": 1.0}]\n", 15));
	CHECK(!replay_same_body(body, strlen(body), "[{\"0\": 1.00}]", 13));
	CHECK(!replay_same_body(body, strlen(body), "[{\"0\":1.0}]", 11));
}

static void test_worst(void)
{
	struct replay_worst w[3], x;
	size_t n = 0;
	static const struct {
		int agree;
		double d;
	} rows[] = { { 1, 0.1 }, { 1, 0.5 }, { 0, 0.2 }, { 1, -1 }, { 0, 0.2 }, { 1, 0.3 } };

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(&x, 0, sizeof x);
		x.agree = rows[i].agree;
		x.max_abs = rows[i].d;
		x.row = i;
		x.seq = i;
		replay_worst_add(w, &n, 3, &x);
	}
	CHECK_INT(n, 3);
	CHECK_INT(w[0].row, 2);   /* disagreeing first, the earlier of a tie first */
	CHECK_INT(w[1].row, 4);
	CHECK_INT(w[2].row, 1);   /* then the largest difference */
	n = 0;
	replay_worst_add(w, &n, 0, &x);
	CHECK_INT(n, 0);
}

static void test_percentile(void)
{
	double v[100];
	for (int i = 0; i < 100; i++)
		v[i] = i + 1;
	CHECKF(replay_percentile(v, 100, 50) == 50, "%g", replay_percentile(v, 100, 50));
	CHECKF(replay_percentile(v, 100, 99) == 99, "%g", replay_percentile(v, 100, 99));
	CHECKF(replay_percentile(v, 100, 100) == 100, "%g", replay_percentile(v, 100, 100));
	CHECKF(replay_percentile(v, 3, 50) == 2, "%g", replay_percentile(v, 3, 50));
	CHECKF(replay_percentile(v, 3, 90) == 3, "%g", replay_percentile(v, 3, 90));
	CHECKF(replay_percentile(v, 1, 99) == 1, "%g", replay_percentile(v, 1, 99));
	CHECK(replay_percentile(v, 0, 50) == 0);
}

int main(void)
{
	RUN(test_collected_inputs_line);
	RUN(test_outputs_and_bodies);
	RUN(test_line_refusals);
	RUN(test_answers);
	RUN(test_compare);
	RUN(test_same_body);
	RUN(test_worst);
	RUN(test_percentile);
	return unit_done();
}
