/*
 * test_collect.c - the data collector's parts that need no server: the
 * deployment YAML's data_collector block (typed, defaults, refusals,
 * --set), and workspace/mdc.c's layout: paths by rolling rate, files
 * opened without following a link, listing in time order between two
 * times, pruning the oldest periods first, get-data's time syntax.
 */
#include "tests/unit/unit.h"
#include "workspace/mdc.h"
#include "workspace/ws.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[1024];

static const char head[] = "name: blue\nendpoint_name: ep1\nmodel: azureml:m-1:1\n";

/* Check head + more as a user's deployment file into d; the rc. */
static int check(const char *more, struct ws_deployment *d)
{
	char text[2048];
	struct ws_node *n = NULL;

	snprintf(text, sizeof text, "%s%s", head, more);
	memset(d, 0, sizeof *d);
	if (ws_yaml_parse(text, strlen(text), "d.yml", &n, err, sizeof err) < 0)
		return -2;
	int rc = ws_spec_check(WS_KIND_DEPLOYMENT, n, 0, d, "d.yml", err, sizeof err);
	ws_node_free(n);
	return rc;
}

static void test_spec_data_collector(void)
{
	struct ws_deployment d;

	CHECK_INT(check("", &d), 0);
	CHECK_INT(d.collect_inputs, 0);
	CHECK_INT(d.collect_outputs, 0);
	CHECK(d.sampling_rate == 1.0);
	CHECK_INT(d.rolling_rate, WS_ROLL_HOUR);

	/* Azure's own example: 'True' strings, Hour in any case. */
	CHECK_INT(check("data_collector:\n  collections:\n    model_inputs:\n      enabled: 'True'\n"
			"    model_outputs:\n      enabled: 'False'\n  sampling_rate: 0.25\n  rolling_rate: Minute\n"
			"  request_logging:\n    capture_headers: [x-ms-client-request-id]\n", &d), 0);
	CHECK_INT(d.collect_inputs, 1);
	CHECK_INT(d.collect_outputs, 0);
	CHECK(d.sampling_rate == 0.25);
	CHECK_INT(d.rolling_rate, WS_ROLL_MINUTE);
	CHECK_INT(check("data_collector:\n  collections:\n    model_outputs: {enabled: true, data: {name: x, "
			"path: azureml://datastores/x, version: 1}}\n  rolling_rate: day\n", &d), 0);
	CHECK_INT(d.collect_outputs, 1);
	CHECK_INT(d.rolling_rate, WS_ROLL_DAY);
	CHECK(d.sampling_rate == 1.0);

	CHECK_INT(check("data_collector:\n  collections:\n    request:\n      enabled: 'True'\n", &d), -1);
	CHECK_STR(err, "d.yml:6: data_collector.collections.request: scorepoint collects model_inputs and "
		  "model_outputs; payload logging (request, response) and custom collections are not available "
		  "(docs/collect.md)");
	CHECK_INT(check("data_collector:\n  sampling_rate: 1.5\n", &d), -1);
	CHECK_STR(err, "d.yml:5: data_collector.sampling_rate: expected a number from 0.0 to 1.0, got \"1.5\"");
	CHECK_INT(check("data_collector:\n  sampling_rate: nan\n", &d), -1);
	CHECK_INT(check("data_collector:\n  rolling_rate: week\n", &d), -1);
	CHECK_CONTAINS(err, "data_collector.rolling_rate \"week\": use minute, hour or day");
	CHECK_INT(check("data_collector:\n  collections:\n    model_inputs:\n      enabled: yes please\n", &d), -1);
	CHECK_CONTAINS(err, "data_collector.collections.model_inputs.enabled: expected true or false");
	CHECK_INT(check("data_collector:\n  sampling_rte: 1\n", &d), -1);
	CHECK_CONTAINS(err, "(did you mean \"sampling_rate\"?)");
}

static void test_spec_set_and_show(void)
{
	struct ws_node *n = NULL;
	struct ws_deployment d;

	CHECK_INT(ws_yaml_parse(head, strlen(head), "d.yml", &n, err, sizeof err), 0);
	if (!n)
		return;
	CHECK_INT(ws_spec_set(WS_KIND_DEPLOYMENT, n, "data_collector.collections.model_inputs.enabled", "True", err,
			      sizeof err), 0);
	CHECK_INT(ws_spec_set(WS_KIND_DEPLOYMENT, n, "data_collector.sampling_rate", ".1", err, sizeof err), 0);
	memset(&d, 0, sizeof d);
	CHECK_INT(ws_spec_check(WS_KIND_DEPLOYMENT, n, 0, &d, "--set", err, sizeof err), 0);
	CHECK_INT(d.collect_inputs, 1);
	CHECK(d.sampling_rate == 0.1);
	struct ws_node *s = ws_spec_show(WS_KIND_DEPLOYMENT, n);
	CHECK_STR(ws_node_text(ws_node_path(s, "data_collector.sampling_rate")), "0.1");
	CHECK_STR(ws_node_text(ws_node_path(s, "data_collector.rolling_rate")), "hour");
	CHECK_STR(ws_node_text(ws_node_path(s, "data_collector.collections.model_inputs.enabled")), "true");
	CHECK_STR(ws_node_text(ws_node_path(s, "data_collector.collections.model_outputs.enabled")), "false");
	ws_node_free(s);
	/* A deployment without the block shows none. */
	ws_node_del(n, "data_collector");
	s = ws_spec_show(WS_KIND_DEPLOYMENT, n);
	CHECK(ws_node_get(s, "data_collector") == NULL);
	ws_node_free(s);
	ws_node_free(n);
}

/* ---- the layout ---- */

static char dir[] = "/tmp/sp-test-mdc-XXXXXX";

static void put(const char *rel, size_t bytes)
{
	char p[512], cmd[1400];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\" && head -c %zu /dev/zero | tr '\\0' x > '%s'", p,
		 bytes, p);
	CHECK_INT(system(cmd), 0);
}

static int exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

struct seen {
	char paths[16][MDC_PATH_MAX];
	size_t n;
};

static int collect(void *arg, const struct mdc_file *f)
{
	struct seen *s = arg;
	if (s->n < 16)
		snprintf(s->paths[s->n++], MDC_PATH_MAX, "%s", f->path);
	return 0;
}

#define ROOT "data/modelDataCollector/ep1/blue/"

static void test_paths(void)
{
	struct mdc_file f;
	time_t t = 1796615220;   /* 2026-12-07T03:47:00Z */

	CHECK_INT(mdc_file_at(&f, "ep1", "blue", MDC_MODEL_INPUTS, WS_ROLL_HOUR, t), 0);
	CHECK_STR(f.path, ROOT "model_inputs/2026/12/07/03/data.jsonl");
	CHECK_INT(f.start, 1796612400);
	CHECK_INT(mdc_file_at(&f, "ep1", "blue", MDC_MODEL_OUTPUTS, WS_ROLL_MINUTE, t), 0);
	CHECK_STR(f.path, ROOT "model_outputs/2026/12/07/03/47/data.jsonl");
	CHECK_INT(mdc_file_at(&f, "ep1", "blue", MDC_MODEL_OUTPUTS, WS_ROLL_DAY, t), 0);
	CHECK_STR(f.path, ROOT "model_outputs/2026/12/07/data.jsonl");
	CHECK_INT(mdc_file_at(&f, "../x", "blue", MDC_MODEL_INPUTS, WS_ROLL_DAY, t), -1);
	CHECK_INT(mdc_file_at(&f, "ep1", "blue", 2, WS_ROLL_DAY, t), -1);

	time_t v;
	CHECK_INT(mdc_parse_time("2026-12-07T03", 0, &v), 0);
	CHECK_INT(v, 1796612400);
	CHECK_INT(mdc_parse_time("2026-12-07T03Z", 1, &v), 0);
	CHECK_INT(v, 1796612400 + 3600);
	CHECK_INT(mdc_parse_time("2026-12-07", 1, &v), 0);
	CHECK_INT(v, 1796601600 + 86400);
	CHECK_INT(mdc_parse_time("2026-12-07T03:47", 0, &v), 0);
	CHECK_INT(v, t);
	CHECK_INT(mdc_parse_time("2026-02-30", 0, &v), -1);
	CHECK_INT(mdc_parse_time("2026-12-07T24", 0, &v), -1);
	CHECK_INT(mdc_parse_time("2026-12-07 03", 0, &v), -1);
	CHECK_INT(mdc_parse_time("yesterday", 0, &v), -1);
}

static void test_open_list_prune(void)
{
	struct ws w;
	struct mdc_file f;
	struct seen s;
	time_t now = 1796615220;   /* 2026-12-07T03:47:00Z */

	CHECK(mkdtemp(dir) != NULL);
	chmod(dir, 0700);
	CHECK_INT(ws_load(dir, &w, err, sizeof err), 0);
	memset(&s, 0, sizeof s);
	CHECK_INT(mdc_list(&w, NULL, NULL, -1, 0, now + 86400, collect, &s, err, sizeof err), 0);
	CHECK_INT(s.n, 0);   /* nothing collected yet */

	/* Appending makes the folders 0700 and the file 0600. */
	CHECK_INT(mdc_file_at(&f, "ep1", "blue", MDC_MODEL_INPUTS, WS_ROLL_HOUR, now), 0);
	int fd = mdc_open(&w, &f, 1, err, sizeof err);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, "{}\n", 3), 3);
	struct stat st;
	CHECK_INT(fstat(fd, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	close(fd);
	char p[512];
	snprintf(p, sizeof p, "%s/" ROOT "model_inputs/2026/12/07/03", dir);
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);

	/* A link on the way is refused, not followed. */
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "mkdir -p %s/elsewhere && ln -s %s/elsewhere %s/" ROOT "model_outputs", dir, dir,
		 dir);
	CHECK_INT(system(cmd), 0);
	CHECK_INT(mdc_file_at(&f, "ep1", "blue", MDC_MODEL_OUTPUTS, WS_ROLL_HOUR, now), 0);
	CHECK_INT(mdc_open(&w, &f, 1, err, sizeof err), -1);
	CHECK_CONTAINS(err, "model_outputs: a symbolic link, which is not followed here");
	snprintf(p, sizeof p, "%s/elsewhere/2026", dir);
	CHECK(lstat(p, &st) < 0);
	snprintf(cmd, sizeof cmd, "rm %s/" ROOT "model_outputs", dir);
	CHECK_INT(system(cmd), 0);

	/* Old periods by hand: days, hours and minutes, two collections. */
	put(ROOT "model_inputs/2026/12/07/01/data.jsonl", 100);
	put(ROOT "model_outputs/2026/12/07/00/data.jsonl", 100);
	put(ROOT "model_inputs/2026/12/06/data.jsonl", 100);
	put(ROOT "model_outputs/2026/12/07/02/59/data.jsonl", 100);
	put(ROOT "model_inputs/2026/12/07/02/junk.txt", 5);        /* not ours: stays */
	put(ROOT "model_inputs/2026/13/01/00/data.jsonl", 100);    /* no such month: not listed */
	put("data/modelDataCollector/ep1/green/model_inputs/2026/12/07/01/data.jsonl", 100);

	memset(&s, 0, sizeof s);
	CHECK_INT(mdc_list(&w, "ep1", "blue", -1, 0, now + 1, collect, &s, err, sizeof err), 0);
	CHECK_INT(s.n, 5);
	CHECK_STR(s.paths[0], ROOT "model_inputs/2026/12/06/data.jsonl");
	CHECK_STR(s.paths[1], ROOT "model_outputs/2026/12/07/00/data.jsonl");
	CHECK_STR(s.paths[2], ROOT "model_inputs/2026/12/07/01/data.jsonl");
	CHECK_STR(s.paths[3], ROOT "model_outputs/2026/12/07/02/59/data.jsonl");
	CHECK_STR(s.paths[4], ROOT "model_inputs/2026/12/07/03/data.jsonl");

	/* --from 2026-12-07T01 --to 2026-12-07T02: the periods that overlap. */
	time_t from, to;
	CHECK_INT(mdc_parse_time("2026-12-07T01", 0, &from), 0);
	CHECK_INT(mdc_parse_time("2026-12-07T02", 1, &to), 0);
	memset(&s, 0, sizeof s);
	CHECK_INT(mdc_list(&w, "ep1", "blue", MDC_MODEL_INPUTS, from, to, collect, &s, err, sizeof err), 0);
	CHECK_INT(s.n, 1);   /* the 6th ended before 01:00, 03:00 is past the 02:00 hour */
	CHECK_STR(s.paths[0], ROOT "model_inputs/2026/12/07/01/data.jsonl");

	/* 503 bytes in 6 files (not the 13th month's); keep 350: the 6th, then
	 * 00 go, and the folders they emptied. */
	long long left = mdc_prune(&w, 350, now, err, sizeof err);
	CHECK_INT(left, 303);
	CHECK(!exists(ROOT "model_inputs/2026/12/06"));
	CHECK(!exists(ROOT "model_outputs/2026/12/07/00"));
	CHECK(exists("data/modelDataCollector/ep1/green/model_inputs/2026/12/07/01/data.jsonl"));
	CHECK(exists(ROOT "model_inputs/2026/12/07/01/data.jsonl"));
	CHECK(exists(ROOT "model_inputs/2026/12/07/02/junk.txt"));
	CHECK(exists(ROOT "model_inputs/2026/12/07/03/data.jsonl"));
	left = mdc_prune(&w, 0, now, err, sizeof err);
	CHECK_INT(left, 3);   /* all but the current hour */
	CHECK(!exists(ROOT "model_outputs/2026/12/07/02/59"));
	CHECK(!exists(ROOT "model_outputs/2026/12/07/02"));
	CHECK(!exists("data/modelDataCollector/ep1/green/model_inputs/2026"));
	CHECK(exists(ROOT "model_inputs/2026/12/07/02/junk.txt"));
	CHECK(exists(ROOT "model_inputs/2026/12/07/03/data.jsonl"));
	CHECK(exists(ROOT "model_inputs/2026/13/01/00/data.jsonl"));

	ws_free(&w);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

int main(void)
{
	RUN(test_spec_data_collector);
	RUN(test_spec_set_and_show);
	RUN(test_paths);
	RUN(test_open_list_prune);
	return unit_done();
}
