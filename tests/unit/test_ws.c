/*
 * test_ws.c - the workspace: YAML in and out, the key tables' checks and
 * messages, atomic commits that leave no temporary file and keep the old
 * state on failure, and flock serialising concurrent writers.
 */
#include "tests/unit/unit.h"
#include "workspace/auth.h"
#include "workspace/ws.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/sp-test-ws-XXXXXX";
static char err[1024];

static struct ws_node *parse(const char *text)
{
	struct ws_node *n = NULL;
	if (ws_yaml_parse(text, strlen(text), "t.yml", &n, err, sizeof err) < 0)
		return NULL;
	return n;
}

/* The YAML text of n (malloc'd). */
static char *emit(const struct ws_node *n)
{
	struct enc_buf b;
	enc_init(&b, 0);
	if (ws_yaml_emit(n, &b) < 0) {
		enc_free(&b);
		return NULL;
	}
	enc_raw(&b, "", 1);
	return b.p;
}

static char *json(const struct ws_node *n)
{
	struct enc_buf b;
	enc_init(&b, 0);
	ws_node_json(n, &b);
	enc_raw(&b, "", 1);
	return b.p;
}

static void test_yaml_round_trip(void)
{
	const char *text = "name: blue\ncount: 3\nratio: 0.5\nflag: True\nnothing: ~\nquoted: '123'\n"
			   "environment:\n  image: x/y:1\n  conda: [a, b]\ntags: {}\n";
	struct ws_node *a = parse(text);
	CHECK(a != NULL);
	if (!a)
		return;
	CHECK_INT(ws_node_get(a, "count")->type, WS_NUM);
	CHECK_INT(ws_node_get(a, "flag")->type, WS_BOOL);
	CHECK_STR(ws_node_get(a, "flag")->s, "true");
	CHECK_INT(ws_node_get(a, "nothing")->type, WS_NULL);
	CHECK_INT(ws_node_get(a, "quoted")->type, WS_STR);
	CHECK_INT(a->klines[6], 7);
	char *y = emit(a);
	struct ws_node *b = y ? parse(y) : NULL;
	CHECK(b != NULL);
	char *ja = json(a), *jb = b ? json(b) : NULL;
	CHECK(jb && strcmp(ja, jb) == 0);
	CHECK_CONTAINS(ja, "\"quoted\": \"123\"");
	CHECK_CONTAINS(ja, "\"count\": 3,");
	CHECK_CONTAINS(ja, "\"conda\": [\n      \"a\",\n      \"b\"\n    ]");
	/* az prints keys sorted. */
	CHECK(strstr(ja, "\"count\"") < strstr(ja, "\"environment\""));
	free(y);
	free(ja);
	free(jb);
	ws_node_free(a);
	ws_node_free(b);
}

static void test_yaml_refusals(void)
{
	CHECK(parse("a: &x 1\nb: *x\n") == NULL);
	CHECK_CONTAINS(err, "t.yml:2: YAML aliases");
	CHECK(parse("a: 1\nb: 2\na: 3\n") == NULL);
	CHECK_CONTAINS(err, "t.yml:3: duplicate key \"a\"");
	CHECK(parse("a: 1\n---\nb: 2\n") == NULL);
	CHECK_CONTAINS(err, "more than one YAML document");
	CHECK(parse("a: [1, 2\n") == NULL);
	CHECK_CONTAINS(err, "YAML error");
	char deep[200] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	CHECK(parse(deep) == NULL);
	CHECK_CONTAINS(err, "nested too deep");
}

/* Check text as a user's file of this kind; returns the rc, err set. */
static int check_text(enum ws_kind kind, const char *text, void *out)
{
	struct ws_node *n = NULL;
	if (ws_yaml_parse(text, strlen(text), "deployment.yml", &n, err, sizeof err) < 0)
		return -2;
	int rc = ws_spec_check(kind, n, 0, out, "deployment.yml", err, sizeof err);
	ws_node_free(n);
	return rc;
}

static void test_spec_messages(void)
{
	const char *head = "$schema: https://azuremlschemas.azureedge.net/latest/managedOnlineDeployment.schema.json\n"
			   "name: blue\nendpoint_name: endpoint-online-1\nmodel: azureml:model-online-1@latest\n";
	char text[1024];
	struct ws_deployment d;

	memset(&d, 0, sizeof d);
	snprintf(text, sizeof text, "%sinstance_type: Standard_DS4_v2\ninstance_count: 1\n", head);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, text, &d), 0);
	CHECK_INT(d.request_timeout_ms, 5000);
	CHECK_INT(d.max_concurrent_requests_per_instance, 1);
	CHECK_INT(d.instance_count, 1);

	snprintf(text, sizeof text, "%sinstnce_type: Standard_DS4_v2\n", head);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, text, NULL), -1);
	CHECK_STR(err, "deployment.yml:5: unknown key \"instnce_type\" (did you mean \"instance_type\"?)");
	snprintf(text, sizeof text, "%sinstance_count: abc\n", head);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, text, NULL), -1);
	CHECK_STR(err, "deployment.yml:5: instance_count: expected a whole number from 1 to 1000, got \"abc\"");
	snprintf(text, sizeof text, "%srequest_settings:\n  request_timeout_ms: 180001\n", head);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, text, NULL), -1);
	CHECK_CONTAINS(err, "deployment.yml:6: request_settings.request_timeout_ms: expected a whole number from 1 to 180000");
	snprintf(text, sizeof text, "%srequest_settings:\n  timeout: 1\n", head);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, text, NULL), -1);
	CHECK_CONTAINS(err, "deployment.yml:6: unknown key \"request_settings.timeout\"");
	snprintf(text, sizeof text, "%srequest_settings:\n  request_timeout_ms: 10000\nenvironment_variables:\n  A: 1\n",
		 head);
	memset(&d, 0, sizeof d);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, text, &d), 0);
	CHECK_INT(d.request_timeout_ms, 10000);
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, "name: 9lives\nendpoint_name: e-1x\nmodel: m-1:1\n", NULL), -1);
	CHECK_CONTAINS(err, "deployment.yml:1: name \"9lives\": a name begins with a letter");
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, "name: blue\nendpoint_name: ep1\n", NULL), -1);
	CHECK_CONTAINS(err, "missing key \"model\"");
	CHECK_INT(check_text(WS_KIND_DEPLOYMENT, "name: blue\nendpoint_name: ep1\nmodel:\n  path: x\n", NULL), -1);
	CHECK_CONTAINS(err, "inline model");
	CHECK_INT(check_text(WS_KIND_ENDPOINT, "name: ep1\nauth_mode: aad_token\n", NULL), -1);
	CHECK_CONTAINS(err, "deployment.yml:2: auth_mode aad_token");
	CHECK_INT(check_text(WS_KIND_ENDPOINT, "name: ep1\nauth_mode: keys\n", NULL), -1);
	CHECK_CONTAINS(err, "auth_mode \"keys\": use key or aml_token");
	/* State-only keys are unknown in a user's file. */
	CHECK_INT(check_text(WS_KIND_ENDPOINT, "name: ep1\nsecrets: {}\n", NULL), -1);
	CHECK_CONTAINS(err, "deployment.yml:2: unknown key \"secrets\"");

	char name[40], version[40];
	int latest;
	CHECK_INT(ws_model_ref("azureml:model-online-1@latest", name, version, &latest, err, sizeof err), 0);
	CHECK_STR(name, "model-online-1");
	CHECK_INT(latest, 1);
	CHECK_INT(ws_model_ref("model-online-1:7", name, version, &latest, err, sizeof err), 0);
	CHECK_STR(version, "7");
	CHECK_INT(latest, 0);
	CHECK_INT(ws_model_ref("azureml:m1", name, version, &latest, err, sizeof err), -1);
}

static void test_show_and_set(void)
{
	struct ws_node *n = parse("name: blue\nendpoint_name: ep1\nmodel: m-1:1\nscale_settings:\n  type: default\n");
	CHECK(n != NULL);
	if (!n)
		return;
	CHECK_INT(ws_spec_set(WS_KIND_DEPLOYMENT, n, "request_settings.request_timeout_ms", "10000", err, sizeof err), 0);
	CHECK_INT(ws_spec_set(WS_KIND_DEPLOYMENT, n, "secrets.x", "1", err, sizeof err), -1);
	CHECK_INT(ws_spec_check(WS_KIND_DEPLOYMENT, n, 0, NULL, "--set", err, sizeof err), 0);
	struct ws_node *s = ws_spec_show(WS_KIND_DEPLOYMENT, n);
	char *j = json(s);
	CHECK_CONTAINS(j, "\"request_timeout_ms\": 10000");
	CHECK_CONTAINS(j, "\"max_concurrent_requests_per_instance\": 1");
	CHECK_CONTAINS(j, "\"instance_count\": 1");
	CHECK_CONTAINS(j, "\"scale_settings\": {\n    \"type\": \"default\"\n  }");
	CHECK_STR(ws_node_text(ws_node_path(s, "liveness_probe.failure_threshold")), "30");
	free(j);
	ws_node_free(s);
	CHECK_INT(ws_spec_set(WS_KIND_DEPLOYMENT, n, "instance_count", "lots", err, sizeof err), 0);
	CHECK_INT(ws_spec_check(WS_KIND_DEPLOYMENT, n, 0, NULL, "--set", err, sizeof err), -1);
	CHECK_CONTAINS(err, "--set: instance_count: expected a whole number");
	ws_node_free(n);
}

/* ---- the directory ---- */

/* Add endpoint `name` (key mode, fresh secrets) to the state of t. */
static int add_endpoint(struct ws_txn *t, const char *name)
{
	char k1[AUTH_SECRET_TEXT], k2[AUTH_SECRET_TEXT], k3[AUTH_SECRET_TEXT], text[512];
	if (auth_new_secret(k1) < 0 || auth_new_secret(k2) < 0 || auth_new_secret(k3) < 0)
		return -1;
	snprintf(text, sizeof text, "name: %s\nauth_mode: key\nkeep_me: {a: [1, two]}\n"
		 "secrets: {primary_key: %s, secondary_key: %s, token_secret: %s}\n", name, k1, k2, k3);
	struct ws_node *rec = parse(text);
	if (!rec)
		return -1;
	ws_node_del(rec, "keep_me");
	if (ws_node_set(rec, "identity", ws_node_new(WS_MAP, NULL)) < 0)
		return -1;
	return ws_node_push(ws_seq(t->w.root, "endpoints"), rec);
}

static void test_commit_and_load(void)
{
	char ws_dir_path[300], state[320];
	struct ws_txn t;
	struct ws w;
	struct stat st;

	snprintf(ws_dir_path, sizeof ws_dir_path, "%s/a/b", dir);
	snprintf(state, sizeof state, "%s/state.yaml", ws_dir_path);
	/* Nothing there yet: an empty workspace, not an error. */
	CHECK_INT(ws_load(ws_dir_path, &w, err, sizeof err), 0);
	CHECK_INT(w.nendpoints, 0);
	CHECK_INT(w.port, 8080);
	CHECK_STR(w.host, "127.0.0.1");
	CHECK_INT(w.stamp.exists, 0);
	ws_free(&w);

	CHECK_INT(ws_begin(ws_dir_path, &t, err, sizeof err), 0);
	CHECK_INT(add_endpoint(&t, "endpoint-one"), 0);
	CHECK_INT(ws_commit(&t, err, sizeof err), 0);
	CHECK_INT(t.w.nendpoints, 1);
	ws_end(&t);
	CHECK(stat(ws_dir_path, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK(stat(state, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_INT(unit_temp_files(ws_dir_path), 0);

	struct ws_stamp before;
	CHECK_INT(ws_load(ws_dir_path, &w, err, sizeof err), 0);
	CHECK_INT(w.nendpoints, 1);
	const struct ws_endpoint *e = ws_endpoint(&w, "endpoint-one", 12);
	CHECK(e != NULL);
	CHECK(e && auth_secret_valid(e->primary_key) && e->auth_mode == WS_AUTH_KEY);
	CHECK(ws_endpoint(&w, "endpoint-on", 11) == NULL);
	CHECK_INT(ws_stat(ws_dir_path, &before), 0);
	CHECK(ws_stamp_equal(&before, &w.stamp));
	ws_free(&w);

	/* A change the loader would refuse is not written: old bytes, no temp. */
	size_t n0, n1;
	char *old = unit_slurp(state, &n0);
	CHECK_INT(ws_begin(ws_dir_path, &t, err, sizeof err), 0);
	struct ws_node *rec = ws_node_get(t.w.root, "endpoints")->v[0];
	ws_node_set(rec, "traffic", parse("nobody: 100\n"));
	CHECK_INT(ws_commit(&t, err, sizeof err), -1);
	CHECK_CONTAINS(err, "names deployment \"nobody\", which does not exist");
	ws_end(&t);
	char *now = unit_slurp(state, &n1);
	CHECK(old && now && n0 == n1 && memcmp(old, now, n0) == 0);
	CHECK_INT(unit_temp_files(ws_dir_path), 0);
	struct ws_stamp after;
	CHECK_INT(ws_stat(ws_dir_path, &after), 0);
	CHECK(ws_stamp_equal(&before, &after));
	free(old);
	free(now);

	/* A second endpoint: a new inode, so a server notices. */
	CHECK_INT(ws_begin(ws_dir_path, &t, err, sizeof err), 0);
	CHECK_INT(add_endpoint(&t, "endpoint-two"), 0);
	CHECK_INT(ws_commit(&t, err, sizeof err), 0);
	ws_end(&t);
	CHECK_INT(ws_stat(ws_dir_path, &after), 0);
	CHECK(!ws_stamp_equal(&before, &after));

	/* A hand-damaged state file is refused with file and line. */
	FILE *f = fopen(state, "a");
	fputs("bogus: 1\n", f);
	fclose(f);
	CHECK_INT(ws_load(ws_dir_path, &w, err, sizeof err), -1);
	CHECK_CONTAINS(err, "state.yaml:");
	CHECK_CONTAINS(err, "unknown key \"bogus\"");
}

/* N processes each add their own endpoint at once: all of them land. */
static void test_concurrent_writers(void)
{
	char d[300];
	enum { N = 8 };
	snprintf(d, sizeof d, "%s/conc", dir);
	for (int i = 0; i < N; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			struct ws_txn t;
			char name[32], e[512];
			snprintf(name, sizeof name, "endpoint-%d", i);
			if (ws_begin(d, &t, e, sizeof e) < 0)
				_exit(1);
			usleep(2000);   /* widen the window a lost update would need */
			if (add_endpoint(&t, name) < 0 || ws_commit(&t, e, sizeof e) < 0)
				_exit(1);
			ws_end(&t);
			_exit(0);
		}
	}
	int ok = 0, status;
	while (wait(&status) > 0)
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	CHECK_INT(ok, N);
	struct ws w;
	CHECK_INT(ws_load(d, &w, err, sizeof err), 0);
	CHECK_INT(w.nendpoints, N);
	ws_free(&w);
	CHECK_INT(unit_temp_files(d), 0);
}

/* The next writer removes the folder of a model a killed `model create`
 * was converting (registered models are kept: tests/e2e/faults.sh). */
static void test_begin_removes_unregistered_model_folders(void)
{
	char d[300], p[400];
	struct ws_txn t;
	struct stat st;

	snprintf(d, sizeof d, "%s/killed", dir);
	snprintf(p, sizeof p, "%s/models/model-x/7", d);
	CHECK(mkdir(d, 0700) == 0);
	snprintf(p, sizeof p, "%s/models", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/model-x", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/model-x/7", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/model-x/7/model.blob.tmpAbC123", d);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	if (f)
		fclose(f);
	CHECK_INT(ws_begin(d, &t, err, sizeof err), 0);
	ws_end(&t);
	snprintf(p, sizeof p, "%s/models", d);
	CHECK(stat(p, &st) < 0);
	CHECK(stat(d, &st) == 0);
}

static void touch(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* A writer's clean-up follows no link: DIR/models/evil and a version
 * folder that are links to a victim leave it whole, and a stale folder
 * loses only what model create writes there, keeping an unknown file. */
static void test_begin_follows_no_link(void)
{
	char d[300], v[300], p[400];
	struct ws_txn t;
	struct stat st;

	snprintf(d, sizeof d, "%s/links", dir);
	snprintf(v, sizeof v, "%s/victim", dir);
	CHECK(mkdir(d, 0700) == 0 && mkdir(v, 0700) == 0);
	snprintf(p, sizeof p, "%s/sub", v);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/sub/model.blob", v);
	touch(p, "victim's");
	snprintf(p, sizeof p, "%s/sub/MLmodel", v);
	touch(p, "victim's");
	snprintf(p, sizeof p, "%s/models", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/evil", d);
	CHECK(symlink(v, p) == 0);
	snprintf(p, sizeof p, "%s/models/m", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/m/2", d);
	CHECK(symlink(v, p) == 0);
	snprintf(p, sizeof p, "%s/models/x", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/x/3", d);
	CHECK(mkdir(p, 0700) == 0);
	snprintf(p, sizeof p, "%s/models/x/3/model.blob", d);
	touch(p, "stale");
	snprintf(p, sizeof p, "%s/models/x/3/notes.txt", d);
	touch(p, "mine");

	CHECK_INT(ws_begin(d, &t, err, sizeof err), 0);
	ws_end(&t);
	snprintf(p, sizeof p, "%s/sub/model.blob", v);
	CHECK(stat(p, &st) == 0);
	snprintf(p, sizeof p, "%s/sub/MLmodel", v);
	CHECK(stat(p, &st) == 0);
	snprintf(p, sizeof p, "%s/models/evil", d);
	CHECK(is_link(p));
	snprintf(p, sizeof p, "%s/models/m/2", d);
	CHECK(is_link(p));
	snprintf(p, sizeof p, "%s/models/x/3/model.blob", d);
	CHECK(stat(p, &st) < 0);
	snprintf(p, sizeof p, "%s/models/x/3/notes.txt", d);
	CHECK(stat(p, &st) == 0);
}

/* ws_load() and ws_begin() refuse, in one line: a state.yaml that is a
 * link (quoting nothing of its target) or a FIFO (at once), and a
 * workspace or state.yaml others may write, naming the chmod to run. */
static void test_unsafe_workspace_refused(void)
{
	char d[300], state[320], secret[300], want[700];
	struct ws_txn t;
	struct ws w;

	snprintf(d, sizeof d, "%s/unsafe", dir);
	snprintf(state, sizeof state, "%s/state.yaml", d);
	snprintf(secret, sizeof secret, "%s/secret", dir);
	touch(secret, "SECRET_first_line: 1\n");
	CHECK(mkdir(d, 0700) == 0);
	CHECK(symlink(secret, state) == 0);
	CHECK_INT(ws_load(d, &w, err, sizeof err), -1);
	CHECK_CONTAINS(err, "state.yaml: a symbolic link, which is not followed here");
	CHECK(strstr(err, "SECRET") == NULL);
	CHECK_INT(ws_begin(d, &t, err, sizeof err), -1);
	CHECK_CONTAINS(err, "state.yaml: a symbolic link");
	CHECK(unlink(state) == 0 && mkfifo(state, 0600) == 0);
	CHECK_INT(ws_load(d, &w, err, sizeof err), -1);
	CHECK_CONTAINS(err, "state.yaml: not a regular file (a FIFO)");
	CHECK_INT(ws_begin(d, &t, err, sizeof err), -1);
	CHECK_CONTAINS(err, "state.yaml: not a regular file (a FIFO)");
	CHECK(unlink(state) == 0);

	CHECK_INT(ws_begin(d, &t, err, sizeof err), 0);
	CHECK_INT(add_endpoint(&t, "endpoint-one"), 0);
	CHECK_INT(ws_commit(&t, err, sizeof err), 0);
	ws_end(&t);
	CHECK(chmod(state, 0620) == 0);
	CHECK_INT(ws_load(d, &w, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: writable by group (mode 0620): run chmod 600 %s", state, state);
	CHECK_CONTAINS(err, want);
	CHECK(chmod(state, 0600) == 0 && chmod(d, 0777) == 0);
	snprintf(want, sizeof want, "%s: writable by others (mode 0777): run chmod 700 %s", d, d);
	CHECK_INT(ws_load(d, &w, err, sizeof err), -1);
	CHECK_CONTAINS(err, want);
	CHECK_INT(ws_begin(d, &t, err, sizeof err), -1);
	CHECK_CONTAINS(err, want);
	CHECK(chmod(d, 0700) == 0);
	CHECK_INT(ws_load(d, &w, err, sizeof err), 0);
	CHECK_INT(w.nendpoints, 1);
	ws_free(&w);
}

static void test_dir_resolution(void)
{
	char out[512];
	setenv("SCOREPOINT_WORKSPACE", "/srv/ws", 1);
	CHECK_INT(ws_dir("given/", out, sizeof out, err, sizeof err), 0);
	CHECK_STR(out, "given");
	CHECK_INT(ws_dir(NULL, out, sizeof out, err, sizeof err), 0);
	CHECK_STR(out, "/srv/ws");
	unsetenv("SCOREPOINT_WORKSPACE");
	setenv("XDG_DATA_HOME", "/x/data", 1);
	CHECK_INT(ws_dir(NULL, out, sizeof out, err, sizeof err), 0);
	CHECK_STR(out, "/x/data/scorepoint");
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	CHECK_INT(ws_dir(NULL, out, sizeof out, err, sizeof err), 0);
	CHECK_STR(out, "/home/u/.local/share/scorepoint");
	CHECK_INT(ws_path_log("/w", out, sizeof out), 0);
	CHECK_STR(out, "/w/logs/requests.log");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	RUN(test_yaml_round_trip);
	RUN(test_yaml_refusals);
	RUN(test_spec_messages);
	RUN(test_show_and_set);
	RUN(test_commit_and_load);
	RUN(test_concurrent_writers);
	RUN(test_begin_removes_unregistered_model_folders);
	RUN(test_begin_follows_no_link);
	RUN(test_unsafe_workspace_refused);
	RUN(test_dir_resolution);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 2;
	return unit_done();
}
