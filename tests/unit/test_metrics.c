/* test_metrics.c - metrics/metrics.c: counts summed over processes without
 * lost updates, a layout re-initialised when it is not ours, hostile paths
 * refused, and the Prometheus text checked line by line. */
#include "tests/unit/unit.h"
#include "metrics/metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/sp-test-metrics-XXXXXX";
static char text[1 << 16];

static void path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static struct metrics *open_in_dir(const char *name)
{
	char path[256], err[256] = "";

	path_in_dir(path, sizeof path, name);
	struct metrics *m = metrics_open(path, err, sizeof err);
	CHECKF(m != NULL, "%s", err);
	return m;
}

static size_t render(struct metrics *m)
{
	size_t n = metrics_render(m, NULL, NULL, NULL, text, sizeof text);
	CHECK(n > 0 && n < sizeof text);
	return n;
}

/* True when text holds exactly this line. */
static int has_line(const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

#define CHECK_LINE(line) CHECKF(has_line(line), "no line \"%s\" in:\n%s", (line), text)
#define CHECK_NO_LINE(line) CHECKF(!has_line(line), "unexpected line \"%s\"", (line))

static int count_prefix_in(const char *buf, const char *prefix)
{
	int n = 0;
	size_t len = strlen(prefix);

	for (const char *p = buf; *p; p = strchr(p, '\n') + 1) {
		n += strncmp(p, prefix, len) == 0;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

static int count_prefix(const char *prefix)
{
	return count_prefix_in(text, prefix);
}

static int go_fd = -1;
static int *arrived;   /* in memory shared with the children */

/* In a child: wait for the other child to reach its `round`th barrier, so
 * that both run what follows at the same instant.  The first one waits for
 * the parent's go too.  Spinning rather than sleeping keeps both children
 * on a CPU each; a sibling that died leaves us after 10 s. */
static void barrier(int round)
{
	char c;
	time_t give_up = time(NULL) + 10;

	if (round == 0 && read(go_fd, &c, 1) != 1)
		_exit(100);
	__atomic_add_fetch(arrived, 1, __ATOMIC_SEQ_CST);
	for (unsigned long spins = 1; __atomic_load_n(arrived, __ATOMIC_SEQ_CST) < 2 * (round + 1); spins++)
		if (spins % (1ul << 20) == 0 && time(NULL) > give_up)
			_exit(101);
}

static void wait_go(void)
{
	barrier(0);
}

/* Fork a child that runs fn(arg), which calls wait_go() when ready; returns
 * its pid.  The child's exit status is its number of failed checks. */
static pid_t spawn(void (*fn)(int), int arg, int go[2])
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		go_fd = go[0];
		unit_failed_checks = 0;
		fn(arg);
		_exit(unit_failed_checks > 99 ? 99 : unit_failed_checks);
	}
	return pid;
}

static void release(int go[2])
{
	char c[2] = { 'g', 'g' };
	close(go[0]);
	CHECK(write(go[1], c, sizeof c) == (ssize_t)sizeof c);
	close(go[1]);
}

static void reap(pid_t pid)
{
	int st = 0;
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %#x", st);
}

/* Run fn(0) and fn(1) in two processes, released together. */
static void in_two_processes(void (*fn)(int))
{
	int go[2];
	CHECK(pipe(go) == 0);
	*arrived = 0;
	pid_t a = spawn(fn, 0, go), b = spawn(fn, 1, go);
	release(go);
	reap(a);
	reap(b);
}

static void test_default_path(void)
{
	char p[128], q[128], want[128];

	metrics_default_path("", p, sizeof p);
	const char *d = access("/dev/shm", F_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(want, sizeof want, "%s/scorepoint-%lu-cbf29ce484222325", d, (unsigned long)geteuid());
	CHECK_STR(p, want);   /* FNV-1a 64 of "": the offset basis */
	metrics_default_path("a", p, sizeof p);
	snprintf(want, sizeof want, "%s/scorepoint-%lu-af63dc4c8601ec8c", d, (unsigned long)geteuid());
	CHECK_STR(p, want);
	metrics_default_path("/srv/models/iris", p, sizeof p);
	metrics_default_path("/srv/models/iris", q, sizeof q);
	CHECK_STR(p, q);
	metrics_default_path("/srv/models/iri5", q, sizeof q);
	CHECK(strcmp(p, q) != 0);
	CHECK_INT(strlen(p), strlen(d) + strlen("/scorepoint--") + 16 +
		  (size_t)snprintf(want, sizeof want, "%lu", (unsigned long)geteuid()));
}

static void test_fresh_file(void)
{
	char path[256];
	struct stat st;

	struct metrics *m = open_in_dir("fresh");
	if (!m)
		return;
	path_in_dir(path, sizeof path, "fresh");
	CHECK(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK(st.st_size > 4096);
	char magic[9] = "";
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, magic, 8) == 8);
	close(fd);
	CHECK_STR(magic, "SPMETRIC");
	render(m);
	CHECK_LINE("# TYPE scorepoint_requests_total counter");
	CHECK_LINE("# TYPE scorepoint_rows_total counter");
	CHECK_LINE("# TYPE scorepoint_request_duration_seconds histogram");
	CHECK_LINE("scorepoint_requests_in_flight 0");
	CHECK_INT(count_prefix("scorepoint_requests_total{"), 0);
	CHECK_INT(count_prefix("scorepoint_request_duration_seconds_bucket{"), 0);
	CHECK(strstr(text, "model_info") == NULL);
	metrics_close(m);
}

/* The whole text for one small state, byte for byte. */
static void test_render_exact(void)
{
	static const char want[] =
		"# HELP scorepoint_requests_total Requests answered, by route, HTTP status and deployment.\n"
		"# TYPE scorepoint_requests_total counter\n"
		"scorepoint_requests_total{route=\"health\",status=\"200\"} 1\n"
		"scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"blue\"} 3\n"
		"# HELP scorepoint_rows_total Rows scored, by deployment.\n"
		"# TYPE scorepoint_rows_total counter\n"
		"scorepoint_rows_total{deployment=\"blue\"} 30\n"
		"# HELP scorepoint_request_duration_seconds Time to answer a request, by route.\n"
		"# TYPE scorepoint_request_duration_seconds histogram\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.0005\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.001\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.0025\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.005\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.01\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.025\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.05\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.1\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.25\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"0.5\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"1\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"2.5\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"5\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"10\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"health\",le=\"+Inf\"} 1\n"
		"scorepoint_request_duration_seconds_sum{route=\"health\"} 0.0001\n"
		"scorepoint_request_duration_seconds_count{route=\"health\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.0005\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.001\"} 1\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.0025\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.005\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.01\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.025\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.05\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.1\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.25\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.5\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"1\"} 2\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"2.5\"} 3\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"5\"} 3\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"10\"} 3\n"
		"scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"+Inf\"} 3\n"
		"scorepoint_request_duration_seconds_sum{route=\"score\"} 2.0019\n"
		"scorepoint_request_duration_seconds_count{route=\"score\"} 3\n"
		"# HELP scorepoint_deployment_request_duration_seconds Time to answer a request, by deployment.\n"
		"# TYPE scorepoint_deployment_request_duration_seconds histogram\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.0005\"} 1\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.001\"} 1\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.0025\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.005\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.01\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.025\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.05\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.1\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.25\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"0.5\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"1\"} 2\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"2.5\"} 3\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"5\"} 3\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"10\"} 3\n"
		"scorepoint_deployment_request_duration_seconds_bucket{deployment=\"blue\",le=\"+Inf\"} 3\n"
		"scorepoint_deployment_request_duration_seconds_sum{deployment=\"blue\"} 2.0019\n"
		"scorepoint_deployment_request_duration_seconds_count{deployment=\"blue\"} 3\n"
		"# HELP scorepoint_requests_in_flight Requests being answered now, over all workers.\n"
		"# TYPE scorepoint_requests_in_flight gauge\n"
		"scorepoint_requests_in_flight 0\n"
		"# HELP scorepoint_model_info The model served; the value is always 1.\n"
		"# TYPE scorepoint_model_info gauge\n"
		"scorepoint_model_info{name=\"iris\",version=\"2\",digest=\"sha256:ab\"} 1\n";

	struct metrics *m = open_in_dir("exact");
	if (!m)
		return;
	int blue = metrics_deployment(m, "blue");
	CHECK_INT(blue, 0);
	metrics_request(m, MR_SCORE, 200, blue, 10, 400);
	metrics_request(m, MR_SCORE, 200, blue, 10, 1500);
	metrics_request(m, MR_SCORE, 200, blue, 10, 2000000);
	metrics_request(m, MR_HEALTH, 200, -1, 0, 100);
	size_t n = metrics_render(m, "iris", "2", "sha256:ab", text, sizeof text);
	CHECK_INT(n, strlen(want));
	CHECK_STR(text, want);
	metrics_close(m);
}

static void test_statuses_routes_and_buckets(void)
{
	struct metrics *m = open_in_dir("lines");
	if (!m)
		return;
	int green = metrics_deployment(m, "green");
	metrics_request(m, MR_V2_INFER, 429, green, 0, 500);        /* le is inclusive */
	metrics_request(m, MR_V2_INFER, 418, green, 0, 501);
	metrics_request(m, MR_V2_INFER, 599, green, 0, 10000000);
	metrics_request(m, MR_V2_INFER, 500, green, 0, 10000001);  /* past 10 s */
	metrics_request(m, MR_OTHER, 404, -1, 0, 7);
	metrics_request(m, (enum metrics_route)42, 405, -1, 0, 7);  /* out of range: other */
	metrics_request(m, MR_METRICS, 200, -1, 0, 0);
	render(m);
	CHECK_LINE("scorepoint_requests_total{route=\"v2_infer\",status=\"429\",deployment=\"green\"} 1");
	CHECK_LINE("scorepoint_requests_total{route=\"v2_infer\",status=\"500\",deployment=\"green\"} 1");
	CHECK_LINE("scorepoint_requests_total{route=\"v2_infer\",status=\"other\",deployment=\"green\"} 2");
	CHECK_LINE("scorepoint_requests_total{route=\"other\",status=\"404\"} 1");
	CHECK_LINE("scorepoint_requests_total{route=\"other\",status=\"405\"} 1");
	CHECK_LINE("scorepoint_requests_total{route=\"metrics\",status=\"200\"} 1");
	CHECK_INT(count_prefix("scorepoint_requests_total{"), 6);
	CHECK_INT(count_prefix("scorepoint_rows_total"), 0);
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"v2_infer\",le=\"0.0005\"} 1");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"v2_infer\",le=\"0.001\"} 2");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"v2_infer\",le=\"5\"} 2");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"v2_infer\",le=\"10\"} 3");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"v2_infer\",le=\"+Inf\"} 4");
	CHECK_LINE("scorepoint_request_duration_seconds_sum{route=\"v2_infer\"} 20.001002");
	CHECK_LINE("scorepoint_request_duration_seconds_count{route=\"v2_infer\"} 4");
	CHECK_LINE("scorepoint_request_duration_seconds_sum{route=\"other\"} 0.000014");
	CHECK_LINE("scorepoint_request_duration_seconds_count{route=\"other\"} 2");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"metrics\",le=\"0.0005\"} 1");
	CHECK_LINE("scorepoint_request_duration_seconds_sum{route=\"metrics\"} 0");
	/* Full buckets only for routes with a count. */
	CHECK_INT(count_prefix("scorepoint_request_duration_seconds_bucket{"), 3 * 15);
	CHECK_INT(count_prefix("scorepoint_request_duration_seconds_bucket{route=\"score\""), 0);
	metrics_close(m);
}

static void test_label_escaping(void)
{
	struct metrics *m = open_in_dir("escape");
	if (!m)
		return;
	int d = metrics_deployment(m, "a\"b\\c\nd");
	CHECK_INT(d, 0);
	metrics_request(m, MR_SCORE, 200, d, 2, 1);
	size_t n = metrics_render(m, "m\"x", "v\\1", "line\nbreak", text, sizeof text);
	CHECK(n > 0);
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"a\\\"b\\\\c\\nd\"} 1");
	CHECK_LINE("scorepoint_rows_total{deployment=\"a\\\"b\\\\c\\nd\"} 2");
	CHECK_LINE("scorepoint_model_info{name=\"m\\\"x\",version=\"v\\\\1\",digest=\"line\\nbreak\"} 1");
	/* Every line is a comment or a sample: no raw newline escaped a value. */
	for (const char *p = text; *p; p = strchr(p, '\n') + 1)
		CHECKF(strncmp(p, "# ", 2) == 0 || strncmp(p, "scorepoint_", 11) == 0, "%.40s", p);
	metrics_close(m);
}

static void test_inflight(void)
{
	struct metrics *m = open_in_dir("inflight");
	if (!m)
		return;
	metrics_inflight(m, 1);
	metrics_inflight(m, 1);
	metrics_inflight(m, 1);
	render(m);
	CHECK_LINE("scorepoint_requests_in_flight 3");
	metrics_inflight(m, -1);
	metrics_inflight(m, -1);
	render(m);
	CHECK_LINE("scorepoint_requests_in_flight 1");
	metrics_inflight(m, -3);   /* never in practice, but printed honestly */
	render(m);
	CHECK_LINE("scorepoint_requests_in_flight -2");
	metrics_close(m);
}

static void test_other_deployment_slot(void)
{
	char name[METRICS_NAME_MAX + 8];

	struct metrics *m = open_in_dir("overflow");
	if (!m)
		return;
	/* The longest name a slot holds takes slot 0; one byte more is "other". */
	memset(name, 'x', METRICS_NAME_MAX);
	name[METRICS_NAME_MAX - 1] = '\0';
	CHECK_INT(metrics_deployment(m, name), 0);
	name[METRICS_NAME_MAX - 1] = 'x';
	name[METRICS_NAME_MAX] = '\0';
	const int other = METRICS_MAX_DEPLOYMENTS - 1;
	CHECK_INT(metrics_deployment(m, name), other);
	CHECK_INT(metrics_deployment(m, ""), other);
	CHECK_INT(metrics_deployment(m, "other"), other);
	CHECK_INT(metrics_deployment(m, "bad\xff"), other);        /* not UTF-8 */
	CHECK_INT(metrics_deployment(m, "\xc0\xaf"), other);      /* overlong */
	CHECK_INT(metrics_deployment(m, "\xed\xa0\x80"), other);  /* a surrogate */
	CHECK_INT(metrics_deployment(m, "caf\xc3"), other);       /* cut short */
	CHECK_INT(metrics_deployment(m, "caf\xc3\xa9"), 1);
	for (int i = 2; i < METRICS_MAX_DEPLOYMENTS - 1; i++) {
		snprintf(name, sizeof name, "d%d", i);
		CHECK_INT(metrics_deployment(m, name), i);
	}
	CHECK_INT(metrics_deployment(m, "late"), other);
	CHECK_INT(metrics_deployment(m, "later"), other);
	CHECK_INT(metrics_deployment(m, "d3"), 3);          /* still found */
	CHECK_INT(metrics_deployment(m, NULL), -1);
	metrics_request(m, MR_SCORE, 200, metrics_deployment(m, "late"), 4, 1);
	metrics_request(m, MR_SCORE, 200, metrics_deployment(m, "later"), 4, 1);
	metrics_request(m, MR_SCORE, 200, 1000, 1, 1);           /* out of range: other */
	metrics_request(m, MR_SCORE, 200, 14, 5, 1);
	metrics_request(m, MR_SCORE, 200, 1, 1, 1);
	render(m);
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"other\"} 3");
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"d14\"} 1");
	CHECK_LINE("scorepoint_rows_total{deployment=\"other\"} 9");
	CHECK_LINE("scorepoint_rows_total{deployment=\"d14\"} 5");
	CHECK_LINE("scorepoint_rows_total{deployment=\"caf\xc3\xa9\"} 1");
	metrics_close(m);
}

/* Registration seen from another process, and the slot kept across opens. */
static void test_names_persist(void)
{
	struct metrics *a = open_in_dir("persist");
	struct metrics *b = open_in_dir("persist");
	if (!a || !b)
		return;
	CHECK_INT(metrics_deployment(a, "blue"), 0);
	CHECK_INT(metrics_deployment(b, "green"), 1);
	CHECK_INT(metrics_deployment(b, "blue"), 0);
	CHECK_INT(metrics_deployment(a, "green"), 1);
	metrics_request(a, MR_SCORE, 200, 1, 1, 1);
	metrics_close(a);
	metrics_close(b);
	a = open_in_dir("persist");
	if (!a)
		return;
	CHECK_INT(metrics_deployment(a, "green"), 1);
	render(a);
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"green\"} 1");
	metrics_close(a);
}

static void count_some(int who)
{
	wait_go();
	struct metrics *m = open_in_dir("two");
	if (!m)
		return;
	int slot = metrics_deployment(m, "blue");
	int n = who ? 5 : 7;
	for (int i = 0; i < n; i++)
		metrics_request(m, MR_SCORE, 200, slot, 2, 1000);
	metrics_request(m, who ? MR_HEALTH : MR_VERSION, 200, -1, 0, 10);
	metrics_close(m);
}

static void test_two_processes(void)
{
	in_two_processes(count_some);
	struct metrics *m = open_in_dir("two");
	if (!m)
		return;
	render(m);
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"blue\"} 12");
	CHECK_LINE("scorepoint_requests_total{route=\"health\",status=\"200\"} 1");
	CHECK_LINE("scorepoint_requests_total{route=\"version\",status=\"200\"} 1");
	CHECK_LINE("scorepoint_rows_total{deployment=\"blue\"} 24");
	CHECK_LINE("scorepoint_request_duration_seconds_sum{route=\"score\"} 0.012");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.0005\"} 0");
	CHECK_LINE("scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.001\"} 12");
	metrics_close(m);
}

#define HAMMER 100000

static void hammer(int who)
{
	struct metrics *m = open_in_dir("hammer");
	if (!m)
		return;
	int slot = metrics_deployment(m, who ? "b" : "a");
	int shared = metrics_deployment(m, "shared");
	wait_go();
	for (int i = 0; i < HAMMER; i++) {
		metrics_inflight(m, 1);
		metrics_request(m, MR_INVOCATIONS, 200, shared, 3, 100);
		metrics_request(m, MR_SCORE, 200, slot, 1, 1);
		metrics_inflight(m, -1);
	}
	metrics_close(m);
}

static void test_concurrent_no_lost_updates(void)
{
	in_two_processes(hammer);
	struct metrics *m = open_in_dir("hammer");
	if (!m)
		return;
	render(m);
	CHECK_LINE("scorepoint_requests_total{route=\"invocations\",status=\"200\",deployment=\"shared\"} 200000");
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"a\"} 100000");
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\",deployment=\"b\"} 100000");
	CHECK_LINE("scorepoint_rows_total{deployment=\"shared\"} 600000");
	CHECK_LINE("scorepoint_request_duration_seconds_count{route=\"invocations\"} 200000");
	CHECK_LINE("scorepoint_request_duration_seconds_sum{route=\"invocations\"} 20");
	CHECK_LINE("scorepoint_request_duration_seconds_sum{route=\"score\"} 0.2");
	CHECK_LINE("scorepoint_requests_in_flight 0");
	CHECK_INT(count_prefix("scorepoint_requests_total{"), 3);
	metrics_close(m);
}

static const char *const race_names[] = {
	"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10", "n11", "n12", "n13",
};
#define NRACE 14
#define RACE_ROUNDS 100
static int race_pipe[2];

/* Round after round on a fresh file, register the names, forwards or
 * backwards, and report the slots. */
static void register_race(int who)
{
	char file[32];
	unsigned char msg[2 + NRACE];

	close(race_pipe[0]);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		snprintf(file, sizeof file, "race%d", round);
		struct metrics *m = open_in_dir(file);
		if (!m)
			return;
		barrier(round);
		for (int k = 0; k < NRACE; k++) {
			int i = who ? NRACE - 1 - k : k;
			msg[2 + i] = (unsigned char)metrics_deployment(m, race_names[i]);
		}
		msg[0] = (unsigned char)who;
		msg[1] = (unsigned char)round;
		CHECK(write(race_pipe[1], msg, sizeof msg) == (ssize_t)sizeof msg);
		metrics_close(m);
	}
}

static void test_registration_race(void)
{
	static unsigned char got[RACE_ROUNDS][2][NRACE];
	unsigned char msg[2 + NRACE];
	char file[32];

	CHECK(pipe(race_pipe) == 0);
	in_two_processes(register_race);   /* the pipe holds all the reports */
	close(race_pipe[1]);
	memset(got, 0xFF, sizeof got);
	while (read(race_pipe[0], msg, sizeof msg) == (ssize_t)sizeof msg)
		if (msg[0] < 2 && msg[1] < RACE_ROUNDS)
			memcpy(got[msg[1]][msg[0]], msg + 2, NRACE);
	close(race_pipe[0]);
	for (int round = 0; round < RACE_ROUNDS; round++) {
		int seen = 0;
		for (int i = 0; i < NRACE; i++) {
			CHECKF(got[round][0][i] == got[round][1][i], "round %d: %s in slots %d and %d",
			       round, race_names[i], got[round][0][i], got[round][1][i]);
			if (got[round][0][i] < NRACE)
				seen |= 1 << got[round][0][i];
		}
		CHECK_INT(seen, (1 << NRACE) - 1);   /* distinct slots, none lost */
		snprintf(file, sizeof file, "race%d", round);
		struct metrics *m = open_in_dir(file);
		if (!m)
			return;
		for (int i = 0; i < NRACE; i++)
			CHECK_INT(metrics_deployment(m, race_names[i]), got[round][0][i]);
		CHECK_INT(metrics_deployment(m, "new"), NRACE);
		metrics_close(m);
		if (unit_failed_checks)
			return;
	}
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static void test_garbage_reinitialised(void)
{
	char path[256], err[256] = "";
	static unsigned char junk[1 << 17];

	memset(junk, 0xAB, sizeof junk);
	path_in_dir(path, sizeof path, "garbage");
	size_t sizes[] = { 0, 7, 100, sizeof junk };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		write_file(path, junk, sizes[i]);
		struct metrics *m = metrics_open(path, err, sizeof err);
		CHECKF(m != NULL, "%zu bytes: %s", sizes[i], err);
		if (!m)
			continue;
		render(m);
		CHECK_INT(count_prefix("scorepoint_requests_total{"), 0);
		CHECK_INT(count_prefix("scorepoint_rows_total"), 0);
		CHECK_LINE("scorepoint_requests_in_flight 0");
		CHECK_INT(metrics_deployment(m, "blue"), 0);
		metrics_close(m);
	}
}

/* A sound file is attached as it is; another version or magic starts over. */
static void test_layout_mismatch_reinitialised(void)
{
	char path[256];
	struct stat st;

	path_in_dir(path, sizeof path, "version");
	struct metrics *m = open_in_dir("version");
	if (!m)
		return;
	metrics_request(m, MR_SCORE, 200, -1, 1, 1);
	metrics_close(m);
	m = open_in_dir("version");
	if (!m)
		return;
	render(m);
	CHECK_LINE("scorepoint_requests_total{route=\"score\",status=\"200\"} 1");
	metrics_close(m);

	CHECK(stat(path, &st) == 0);
	const off_t size = st.st_size;
	uint32_t v = 999;
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, &v, 4, 8) == 4);
	close(fd);
	m = open_in_dir("version");
	if (!m)
		return;
	render(m);
	CHECK_INT(count_prefix("scorepoint_requests_total{"), 0);
	metrics_request(m, MR_SCORE, 200, -1, 1, 1);
	metrics_close(m);

	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "SPMETRIX", 8, 0) == 8);
	close(fd);
	m = open_in_dir("version");
	if (!m)
		return;
	render(m);
	CHECK_INT(count_prefix("scorepoint_requests_total{"), 0);
	metrics_close(m);
	CHECK(stat(path, &st) == 0);
	CHECK_INT(st.st_size, size);
}

static void test_symlink_refused(void)
{
	char path[256], target[256], err[256] = "";
	struct stat st;

	path_in_dir(target, sizeof target, "target");
	path_in_dir(path, sizeof path, "link");
	CHECK(symlink(target, path) == 0);
	CHECK(metrics_open(path, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "symlink");
	CHECK_CONTAINS(err, path);
	CHECK(lstat(target, &st) < 0);   /* nothing created through the link */
}

static void test_hostile_files_refused(void)
{
	char path[256], other[256], err[256] = "";

	path_in_dir(path, sizeof path, "linked");
	path_in_dir(other, sizeof other, "linked2");
	write_file(path, "x", 1);
	CHECK(link(path, other) == 0);
	CHECK(metrics_open(other, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "hard links");

	path_in_dir(path, sizeof path, "adir");
	CHECK(mkdir(path, 0700) == 0);
	err[0] = '\0';
	CHECK(metrics_open(path, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, path);
	rmdir(path);

	if (geteuid() != 0) {
		printf("# skip: a file of another uid needs root to make\n");
		return;
	}
	path_in_dir(path, sizeof path, "theirs");
	write_file(path, "", 0);
	CHECK(chown(path, 65534, 65534) == 0);
	err[0] = '\0';
	CHECK(metrics_open(path, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "owned by uid 65534");
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 0);   /* left untouched */
}

static void test_buffer_too_small(void)
{
	static char small[1 << 16];

	struct metrics *m = open_in_dir("small");
	if (!m)
		return;
	metrics_request(m, MR_SCORE, 200, metrics_deployment(m, "blue"), 3, 1234);
	size_t n = metrics_render(m, "iris", "1", "sha256:00", text, sizeof text);
	CHECK(n > 100);
	CHECK_INT(metrics_render(m, "iris", "1", "sha256:00", small, 0), 0);
	CHECK_INT(metrics_render(m, "iris", "1", "sha256:00", small, 10), 0);
	CHECK_INT(metrics_render(m, "iris", "1", "sha256:00", small, n), 0);   /* no room for the NUL */
	memset(small, '#', sizeof small);
	CHECK_INT(metrics_render(m, "iris", "1", "sha256:00", small, n + 1), n);
	CHECK(memcmp(small, text, n + 1) == 0);
	CHECK(small[n + 1] == '#');   /* nothing written past cap */
	metrics_close(m);
}

/* Every series at once, with names that double when escaped: the size the
 * handler's buffer needs at most (printed for it). */
static void test_worst_case_size(void)
{
	static const int status[] = { 200, 400, 401, 403, 404, 405, 408, 411, 413, 415, 429, 500, 503, 599 };
	static const uint64_t usec[] = { 1, 501, 1001, 2501, 5001, 10001, 25001, 50001, 100001,
					 250001, 500001, 1000001, 2500001, 5000001, 10000001 };
	static char big[1 << 20];
	char name[METRICS_NAME_MAX];

	struct metrics *m = open_in_dir("worst");
	if (!m)
		return;
	for (int d = 0; d < METRICS_MAX_DEPLOYMENTS - 1; d++) {
		memset(name, '"', sizeof name - 3);
		name[sizeof name - 3] = (char)('a' + d / 10);
		name[sizeof name - 2] = (char)('a' + d % 10);
		name[sizeof name - 1] = '\0';
		CHECK_INT(metrics_deployment(m, name), d);
	}
	for (int r = 0; r < MR_COUNT; r++)
		for (int s = 0; s < 14; s++)
			for (int d = -1; d < METRICS_MAX_DEPLOYMENTS; d++)
				for (int k = 0; k < 15; k++)   /* one in every bucket */
					metrics_request(m, (enum metrics_route)r, status[s], d,
							UINT64_MAX / 4096, usec[k]);
	metrics_inflight(m, -1000000);
	for (int d = -1; d < METRICS_MAX_DEPLOYMENTS; d++)
		for (int k = 0; k < METRICS_NCOLLECTIONS; k++) {
			metrics_collect(m, d, k, 1);
			metrics_collect(m, d, k, 0);
		}
	char sname[3][METRICS_SHADOW_NAME_MAX];
	struct metrics_shadow_rows sr;
	memset(&sr, 0, sizeof sr);
	for (int b = 0; b < METRICS_SHADOW_NBUCKETS; b++)
		metrics_shadow_row(&sr, b == METRICS_SHADOW_NBUCKETS - 1 ? 1e300 : 1.0 / 3 * (b + 1), b % 2);
	sr.not_comparable = UINT64_MAX / 4096;
	for (int i = 0; i < METRICS_MAX_SHADOWS; i++) {
		for (int k = 0; k < 3; k++) {
			memset(sname[k], '"', sizeof sname[k] - 1);
			sname[k][sizeof sname[k] - 3] = (char)('a' + i / 10);
			sname[k][sizeof sname[k] - 2] = (char)('a' + i % 10);
			sname[k][sizeof sname[k] - 1] = '\0';
		}
		CHECK_INT(metrics_shadow(m, sname[0], sname[1], sname[2]), i);
		metrics_shadow_add(m, i, &sr);
	}
	memset(name, '"', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	size_t n = metrics_render(m, name, name, name, big, sizeof big);
	CHECK(n > 0);
	CHECK_INT(count_prefix_in(big, "scorepoint_requests_total{"), MR_COUNT * 14 * (METRICS_MAX_DEPLOYMENTS + 1));
	CHECK_INT(count_prefix_in(big, "scorepoint_rows_total{"), METRICS_MAX_DEPLOYMENTS);
	CHECK_INT(count_prefix_in(big, "scorepoint_rows_total "), 1);
	CHECK_INT(count_prefix_in(big, "scorepoint_request_duration_seconds_bucket{"), MR_COUNT * 15);
	CHECK_INT(count_prefix_in(big, "scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"0.0005\"} 238"), 1);
	CHECK_INT(count_prefix_in(big, "scorepoint_request_duration_seconds_bucket{route=\"score\",le=\"+Inf\"} 3570"), 1);
	CHECK_INT(count_prefix_in(big, "scorepoint_requests_in_flight -1000000"), 1);
	/* Every deployment column but the one of no deployment. */
	CHECK_INT(count_prefix_in(big, "scorepoint_deployment_request_duration_seconds_bucket{"),
		  METRICS_MAX_DEPLOYMENTS * 15);
	char other[128];
	snprintf(other, sizeof other, "scorepoint_deployment_request_duration_seconds_count{deployment=\"other\"} %d\n",
		 MR_COUNT * 14 * 15);
	CHECK_INT(count_prefix_in(big, other), 1);
	CHECK_INT(count_prefix_in(big, "scorepoint_collect_lines_total{"), 2 * (METRICS_MAX_DEPLOYMENTS + 1));
	CHECK_INT(count_prefix_in(big, "scorepoint_collect_errors_total{"), 2 * (METRICS_MAX_DEPLOYMENTS + 1));
	CHECK_INT(count_prefix_in(big, "scorepoint_shadow_abs_diff_bucket{"),
		  METRICS_MAX_SHADOWS * METRICS_SHADOW_NBUCKETS);
	CHECK_INT(count_prefix_in(big, "scorepoint_shadow_worst_abs_diff{"), METRICS_MAX_SHADOWS);
	CHECK(n < (size_t)768 << 10);   /* route.c's METRICS_TEXT_MAX */
	printf("# worst-case render: %zu bytes\n", n);
	metrics_close(m);
}

/* One deployment's counts as the Studio's metrics route takes them:
 * summed over routes, errors apart, cumulative buckets, and no slot
 * registered by asking. */
static void test_deployment_stats(void)
{
	struct metrics_stats st;
	struct metrics *m = open_in_dir("stats");
	if (!m)
		return;
	int blue = metrics_deployment(m, "ep/blue");
	int green = metrics_deployment(m, "ep/green");
	metrics_request(m, MR_SCORE, 200, blue, 2, 400);
	metrics_request(m, MR_SCORE, 200, blue, 3, 1500);
	metrics_request(m, MR_SCORE, 400, blue, 0, 700);
	metrics_request(m, MR_V2_INFER, 418, blue, 0, 20000000);
	metrics_request(m, MR_SCORE, 408, blue, 0, 5000001);
	metrics_request(m, MR_SCORE, 200, green, 7, 100);
	metrics_request(m, MR_HEALTH, 200, -1, 0, 100);
	CHECK_INT(metrics_stats(m, "ep/blue", &st), 0);
	CHECK_INT(st.requests, 5);
	CHECK_INT(st.errors, 3);
	CHECK_INT(st.rows, 5);
	CHECK_INT(st.sum_usec, 400 + 1500 + 700 + 20000000 + 5000001);
	CHECK_INT(metrics_status(0), 200);
	CHECK_INT(metrics_status(METRICS_NSTATUS - 1), 0);
	for (int i = 0; i < METRICS_NSTATUS; i++) {
		int want = metrics_status(i) == 200 ? 2 : metrics_status(i) == 400 || metrics_status(i) == 408 ? 1 :
			   metrics_status(i) == 0 ? 1 : 0;
		CHECKF(st.status[i] == (uint64_t)want, "status %d: %llu", metrics_status(i),
		       (unsigned long long)st.status[i]);
	}
	static const uint64_t le[METRICS_NBUCKETS] = { 1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 5 };
	for (int b = 0; b < METRICS_NBUCKETS; b++)
		CHECKF(st.le[b] == le[b], "le %s: %llu", metrics_le(b) ? metrics_le(b) : "+Inf",
		       (unsigned long long)st.le[b]);
	CHECK_STR(metrics_le(0), "0.0005");
	CHECK_STR(metrics_le(METRICS_NBUCKETS - 2), "10");
	CHECK(metrics_le(METRICS_NBUCKETS - 1) == NULL);
	CHECK_INT(metrics_stats(m, "ep/green", &st), 0);
	CHECK_INT(st.requests, 1);
	CHECK_INT(st.errors, 0);
	CHECK_INT(st.le[0], 1);
	/* Never answered: zeros, and asking registers nothing. */
	st.requests = 9;
	CHECK_INT(metrics_stats(m, "ep/red", &st), -1);
	CHECK_INT(st.requests, 0);
	CHECK_INT(st.le[METRICS_NBUCKETS - 1], 0);
	CHECK_INT(metrics_stats(m, "other", &st), -1);
	CHECK_INT(metrics_stats(NULL, "ep/blue", &st), -1);
	CHECK_INT(metrics_deployment(m, "ep/red"), 2);
	render(m);
	CHECK_LINE("scorepoint_deployment_request_duration_seconds_count{deployment=\"ep/blue\"} 5");
	CHECK_LINE("scorepoint_deployment_request_duration_seconds_bucket{deployment=\"ep/blue\",le=\"10\"} 4");
	CHECK_LINE("scorepoint_deployment_request_duration_seconds_sum{deployment=\"ep/blue\"} 25.002601");
	CHECK_NO_LINE("scorepoint_deployment_request_duration_seconds_count{deployment=\"ep/red\"} 0");
	metrics_close(m);
}

static void test_without_metrics(void)
{
	metrics_inflight(NULL, 1);
	metrics_request(NULL, MR_SCORE, 200, 0, 1, 1);
	CHECK_INT(metrics_deployment(NULL, "blue"), -1);
	CHECK_INT(metrics_render(NULL, "m", "1", "d", text, sizeof text), 0);
	metrics_close(NULL);
}

/* Collected lines, written and lost, per deployment and collection; no
 * family at all until something counts. */
static void test_collect_counts(void)
{
	struct metrics *m = open_in_dir("collect");
	if (!m)
		return;
	render(m);
	CHECK(strstr(text, "scorepoint_collect_") == NULL);
	int blue = metrics_deployment(m, "ep/blue");
	for (int i = 0; i < 3; i++)
		metrics_collect(m, blue, METRICS_MODEL_INPUTS, 1);
	metrics_collect(m, blue, METRICS_MODEL_OUTPUTS, 1);
	metrics_collect(m, blue, METRICS_MODEL_OUTPUTS, 0);
	metrics_collect(m, -1, METRICS_MODEL_INPUTS, 0);
	metrics_collect(m, blue, 2, 1);    /* ignored */
	metrics_collect(m, blue, -1, 0);   /* ignored */
	metrics_collect(NULL, blue, 0, 1);
	render(m);
	CHECK_LINE("# TYPE scorepoint_collect_lines_total counter");
	CHECK_LINE("# TYPE scorepoint_collect_errors_total counter");
	CHECK_LINE("scorepoint_collect_lines_total{deployment=\"ep/blue\",collection=\"model_inputs\"} 3");
	CHECK_LINE("scorepoint_collect_lines_total{deployment=\"ep/blue\",collection=\"model_outputs\"} 1");
	CHECK_LINE("scorepoint_collect_errors_total{deployment=\"ep/blue\",collection=\"model_outputs\"} 1");
	CHECK_LINE("scorepoint_collect_errors_total{collection=\"model_inputs\"} 1");
	CHECK_INT(count_prefix("scorepoint_collect_lines_total{"), 2);
	CHECK_INT(count_prefix("scorepoint_collect_errors_total{"), 2);
	CHECK(strstr(text, "scorepoint_shadow_") == NULL);
	metrics_close(m);
}

static void shadow_rows(struct metrics_shadow_rows *r, const double *diff, const int *agree, int n)
{
	memset(r, 0, sizeof *r);
	for (int i = 0; i < n; i++)
		metrics_shadow_row(r, diff[i], agree[i]);
}

/* Rows compared and agreeing, the difference histogram (le inclusive, NaN
 * as +Inf), the worst and since when, per (endpoint, live, mirror). */
static void test_shadow_counts(void)
{
	static const double diff[] = { 0, 1e-7, 2e-7, 0.25, 0.25, 11, NAN };
	static const int agree[] = { 1, 1, 1, 0, 1, 0, 0 };
	struct metrics_shadow_rows r;
	struct metrics_shadow_stats st;
	struct timespec t0;

	clock_gettime(CLOCK_REALTIME, &t0);
	struct metrics *m = open_in_dir("shadow");
	if (!m)
		return;
	shadow_rows(&r, diff, agree, 7);
	CHECK_INT(r.rows, 7);
	CHECK_INT(r.agree, 4);
	CHECK(isinf(r.worst));
	CHECK_INT(r.bucket[0], 1);    /* 0 */
	CHECK_INT(r.bucket[1], 1);    /* 1e-07 */
	CHECK_INT(r.bucket[2], 1);    /* 1e-06 */
	CHECK_INT(r.bucket[7], 0);
	CHECK_INT(r.bucket[8], 2);    /* 0.1 < 0.25 <= 1 */
	CHECK_INT(r.bucket[METRICS_SHADOW_NBUCKETS - 1], 2);
	CHECK_INT(metrics_shadow_stats(m, 0, &st), -1);
	int s = metrics_shadow(m, "ep", "blue", "green");
	CHECK_INT(s, 0);
	CHECK_INT(metrics_shadow(m, "ep", "blue", "green"), 0);
	CHECK_INT(metrics_shadow(m, "ep", "green", "blue"), 1);
	shadow_rows(&r, diff, agree, 5);   /* finite: worst 0.25 */
	metrics_shadow_add(m, s, &r);
	metrics_shadow_add(m, s, &r);
	memset(&r, 0, sizeof r);
	r.not_comparable = 3;
	metrics_shadow_add(m, s, &r);
	metrics_shadow_add(m, -1, &r);
	metrics_shadow_add(m, METRICS_MAX_SHADOWS, &r);
	CHECK_INT(metrics_shadow_stats(m, 0, &st), 0);
	CHECK_STR(st.endpoint, "ep");
	CHECK_STR(st.live, "blue");
	CHECK_STR(st.mirror, "green");
	CHECK_INT(st.rows, 10);
	CHECK_INT(st.agree, 8);
	CHECK_INT(st.not_comparable, 3);
	CHECK(st.worst == 0.25);
	CHECK(fabs(st.sum - 2 * (3e-7 + 0.5)) < 1e-15);
	static const uint64_t le[METRICS_SHADOW_NBUCKETS] = { 2, 4, 6, 6, 6, 6, 6, 6, 10, 10, 10 };
	for (int b = 0; b < METRICS_SHADOW_NBUCKETS; b++)
		CHECKF(st.le[b] == le[b], "le %s: %llu", metrics_shadow_le(b) ? metrics_shadow_le(b) : "+Inf",
		       (unsigned long long)st.le[b]);
	CHECK(st.since_ms >= (int64_t)t0.tv_sec * 1000 && st.since_ms < ((int64_t)t0.tv_sec + 60) * 1000);
	render(m);
	CHECK_LINE("# TYPE scorepoint_shadow_abs_diff histogram");
	CHECK_LINE("scorepoint_shadow_rows_total{endpoint=\"ep\",live=\"blue\",mirror=\"green\"} 10");
	CHECK_LINE("scorepoint_shadow_agree_rows_total{endpoint=\"ep\",live=\"blue\",mirror=\"green\"} 8");
	CHECK_LINE("scorepoint_shadow_not_comparable_rows_total{endpoint=\"ep\",live=\"blue\",mirror=\"green\"} 3");
	CHECK_LINE("scorepoint_shadow_abs_diff_bucket{endpoint=\"ep\",live=\"blue\",mirror=\"green\",le=\"0\"} 2");
	CHECK_LINE("scorepoint_shadow_abs_diff_bucket{endpoint=\"ep\",live=\"blue\",mirror=\"green\",le=\"1e-07\"} 4");
	CHECK_LINE("scorepoint_shadow_abs_diff_bucket{endpoint=\"ep\",live=\"blue\",mirror=\"green\",le=\"1\"} 10");
	CHECK_LINE("scorepoint_shadow_abs_diff_bucket{endpoint=\"ep\",live=\"blue\",mirror=\"green\",le=\"+Inf\"} 10");
	CHECK_LINE("scorepoint_shadow_abs_diff_sum{endpoint=\"ep\",live=\"blue\",mirror=\"green\"} 1.0000006");
	CHECK_LINE("scorepoint_shadow_abs_diff_count{endpoint=\"ep\",live=\"blue\",mirror=\"green\"} 10");
	CHECK_LINE("scorepoint_shadow_worst_abs_diff{endpoint=\"ep\",live=\"blue\",mirror=\"green\"} 0.25");
	CHECK_LINE("scorepoint_shadow_rows_total{endpoint=\"ep\",live=\"green\",mirror=\"blue\"} 0");
	CHECK_LINE("scorepoint_shadow_worst_abs_diff{endpoint=\"ep\",live=\"green\",mirror=\"blue\"} 0");
	CHECK_INT(count_prefix("scorepoint_shadow_abs_diff_bucket{"), 2 * METRICS_SHADOW_NBUCKETS);
	CHECK_INT(count_prefix("scorepoint_shadow_start_time_seconds{"), 2);
	CHECK(strstr(text, "scorepoint_collect_") == NULL);
	metrics_close(m);
}

/* Bad names are not counted; a full table counts nothing more; reset
 * zeroes one endpoint's triples and restarts their clock. */
static void test_shadow_table_and_reset(void)
{
	static const double diff[] = { 0.5 };
	static const int agree[] = { 0 };
	struct metrics_shadow_rows r;
	struct metrics_shadow_stats st;
	char name[METRICS_SHADOW_NAME_MAX + 1];

	struct metrics *m = open_in_dir("shadow-table");
	if (!m)
		return;
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	CHECK_INT(metrics_shadow(m, name, "blue", "green"), -1);
	CHECK_INT(metrics_shadow(m, "ep", "", "green"), -1);
	CHECK_INT(metrics_shadow(m, "ep", "blue", "\xff"), -1);
	CHECK_INT(metrics_shadow(m, "ep", NULL, "green"), -1);
	CHECK_INT(metrics_shadow(NULL, "ep", "blue", "green"), -1);
	for (int i = 0; i < METRICS_MAX_SHADOWS; i++) {
		snprintf(name, sizeof name, "m%d", i);
		CHECK_INT(metrics_shadow(m, i % 2 ? "ep1" : "ep2", "blue", name), i);
	}
	CHECK_INT(metrics_shadow(m, "ep1", "blue", "late"), -1);
	CHECK_INT(metrics_shadow(m, "ep1", "blue", "m1"), 1);
	shadow_rows(&r, diff, agree, 1);
	for (int i = 0; i < METRICS_MAX_SHADOWS; i++)
		metrics_shadow_add(m, i, &r);
	CHECK_INT(metrics_shadow_reset(m, "ep1", 1234567), METRICS_MAX_SHADOWS / 2);
	CHECK_INT(metrics_shadow_reset(m, "nope", 1), 0);
	for (int i = 0; i < METRICS_MAX_SHADOWS; i++) {
		CHECK_INT(metrics_shadow_stats(m, i, &st), 0);
		CHECK_INT(st.rows, i % 2 ? 0 : 1);
		CHECK_INT(st.le[METRICS_SHADOW_NBUCKETS - 1], i % 2 ? 0 : 1);
		CHECK(st.worst == (i % 2 ? 0 : 0.5));
		CHECK(st.sum == (i % 2 ? 0 : 0.5));
		if (i % 2)
			CHECK_INT(st.since_ms, 1234567);
		else
			CHECK(st.since_ms > 1234567);
	}
	CHECK_INT(metrics_shadow_stats(m, METRICS_MAX_SHADOWS, &st), -1);
	render(m);
	CHECK_LINE("scorepoint_shadow_start_time_seconds{endpoint=\"ep1\",live=\"blue\",mirror=\"m1\"} 1234.567");
	metrics_close(m);
}

static void add_worst(int who)
{
	struct metrics_shadow_rows r;
	struct metrics *m = open_in_dir("shadow-race");
	if (!m)
		return;
	int s = metrics_shadow(m, "ep", "blue", "green");
	wait_go();
	for (int i = 1; i <= 20000; i++) {
		memset(&r, 0, sizeof r);
		metrics_shadow_row(&r, (double)(2 * i + who) / 1024, who);
		metrics_shadow_add(m, s, &r);
	}
	metrics_close(m);
}

/* Two processes registering the same triple and adding at once: one slot,
 * no lost rows, the largest difference of both, an exact sum. */
static void test_shadow_two_processes(void)
{
	struct metrics_shadow_stats st;

	in_two_processes(add_worst);
	struct metrics *m = open_in_dir("shadow-race");
	if (!m)
		return;
	CHECK_INT(metrics_shadow_stats(m, 0, &st), 0);
	CHECK_INT(metrics_shadow_stats(m, 1, &st), -1);
	CHECK_INT(metrics_shadow_stats(m, 0, &st), 0);
	CHECK_INT(st.rows, 40000);
	CHECK_INT(st.agree, 20000);
	CHECK(st.worst == 40001.0 / 1024);
	CHECK(st.sum == (2.0 * 20000 * 20001 + 20000) / 1024);   /* sums of multiples of 2^-10: exact */
	metrics_close(m);
}

/* metrics_attach reads a server's file as it is: never creates one, never
 * re-initialises one of another layout. */
static void test_attach(void)
{
	char path[256], err[256] = "";
	struct metrics_shadow_stats st;
	struct stat sb;

	path_in_dir(path, sizeof path, "attach");
	CHECK(metrics_attach(path, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "does not exist");
	CHECK(stat(path, &sb) < 0);
	struct metrics *m = open_in_dir("attach");
	if (!m)
		return;
	metrics_shadow(m, "ep", "blue", "green");
	struct metrics *r = metrics_attach(path, err, sizeof err);
	CHECKF(r != NULL, "%s", err);
	if (r) {
		CHECK_INT(metrics_shadow_stats(r, 0, &st), 0);
		CHECK_STR(st.mirror, "green");
		CHECK_INT(metrics_shadow_reset(r, "ep", 42), 1);
		metrics_close(r);
	}
	CHECK_INT(metrics_shadow_stats(m, 0, &st), 0);
	CHECK_INT(st.since_ms, 42);
	metrics_close(m);

	uint32_t v = 3;
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, &v, 4, 8) == 4);
	close(fd);
	err[0] = '\0';
	CHECK(metrics_attach(path, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "layout version 3");
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, &v, 4, 8) == 4 && v == 3);   /* left as it was */
	close(fd);
	fd = open(path, O_WRONLY | O_TRUNC);
	close(fd);
	CHECK(metrics_attach(path, err, sizeof err) == NULL);
	CHECK_CONTAINS(err, "holds no counters yet");
}

static void cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	arrived = mmap(NULL, sizeof *arrived, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (arrived == MAP_FAILED)
		return 2;
	RUN(test_default_path);
	RUN(test_fresh_file);
	RUN(test_render_exact);
	RUN(test_statuses_routes_and_buckets);
	RUN(test_label_escaping);
	RUN(test_inflight);
	RUN(test_other_deployment_slot);
	RUN(test_names_persist);
	RUN(test_two_processes);
	RUN(test_concurrent_no_lost_updates);
	RUN(test_registration_race);
	RUN(test_garbage_reinitialised);
	RUN(test_layout_mismatch_reinitialised);
	RUN(test_symlink_refused);
	RUN(test_hostile_files_refused);
	RUN(test_buffer_too_small);
	RUN(test_worst_case_size);
	RUN(test_deployment_stats);
	RUN(test_without_metrics);
	RUN(test_collect_counts);
	RUN(test_shadow_counts);
	RUN(test_shadow_table_and_reset);
	RUN(test_shadow_two_processes);
	RUN(test_attach);
	cleanup();
	return unit_done();
}
