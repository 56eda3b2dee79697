/*
 * cli_run.c - the verbs that score: `scorepoint predict` (the tutorial's
 * `mlflow models predict`, in process, no server) and `online-endpoint
 * invoke` (the real score.fcgi run as CGI against the workspace).
 */
#include "cli/cgi.h"
#include "cli/cli.h"
#include "tools/convert.h"
#include "workspace/auth.h"
#include "workspace/name.h"
#include "model/blob.h"
#include "model/enc.h"
#include "model/file.h"
#include "model/fwd.h"
#include "model/json.h"
#include "model/req.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RESPONSE_MAX ((size_t)256 << 20)
#define ENV_MAX 4096

/* The whole file into a malloc'd, NUL-terminated buffer of at most max
 * bytes; NULL after a refusal. */
static char *read_file(const char *path, size_t max, size_t *len)
{
	char err[PATH_MAX + 128];
	struct stat st;
	int fd = file_open_regular(AT_FDCWD, path, 0, &st, err, sizeof err);
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0) {
		cli_fail("%s", err);
		return NULL;
	}
	if ((size_t)st.st_size > max) {
		cli_fail("%s: larger than %zu bytes", path, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf && got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (!buf || got != (size_t)st.st_size) {
		cli_fail("%s: %s", path, buf ? "cannot read it" : "out of memory");
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[got] = '\0';
	*len = got;
out:
	close(fd);
	return buf;
}

/* ---- predict ---- */

/* models:/NAME/VERSION or models:/NAME/latest: a registered blob, opened
 * without following a link inside the workspace (ws_open_blob) and mapped
 * into bm.  0, or the exit status with the message printed. */
static int registered_blob(const struct cli *c, const char *uri, struct blob_map *bm)
{
	struct ws w;
	char name[MODEL_NAME_MAX_LEN + 1], err[PATH_MAX + 1024];
	const char *rest = uri + strlen("models:/");
	size_t n = strcspn(rest, "/");
	int rc;

	if (n == 0 || n >= sizeof name || rest[n] != '/')
		return cli_fail("--model-uri %s: expected models:/NAME/VERSION or models:/NAME/latest", uri);
	snprintf(name, sizeof name, "%.*s", (int)n, rest);
	if ((rc = cli_load(c, &w)))
		return rc;
	const struct ws_model *m = NULL;
	int latest = strcmp(rest + n + 1, "latest") == 0;
	for (size_t i = 0; i < w.nmodels; i++)
		if (strcmp(w.models[i].name, name) == 0 && (latest || strcmp(w.models[i].version, rest + n + 1) == 0))
			m = &w.models[i];
	if (!m) {
		rc = cli_model_missing(&w, name, latest ? NULL : rest + n + 1);
	} else {
		int fd = ws_open_blob(&w, m, err, sizeof err);
		rc = fd < 0 || blob_map_fd(fd, m->blob, bm, err, sizeof err) < 0 ? cli_fail("%s", err) : 0;
	}
	ws_free(&w);
	return rc;
}

/* Map the model: a blob as it is, anything else converted in a temporary
 * folder first (removed before returning). */
static int load_model(const struct cli *c, struct blob_map *bm)
{
	char err[PATH_MAX + 1024], notes[2048], path[PATH_MAX + 16], tmp[PATH_MAX], given[PATH_MAX];
	const char *uri = cli_trim_slashes(c->val[O_MODEL_URI], given, sizeof given);
	struct convert_opts o = { .postprocess = -1, .labels = c->val[O_LABELS] };
	int rc;

	if (c->val[O_POSTPROCESS] && (o.postprocess = blob_post_parse(c->val[O_POSTPROCESS])) < 0)
		return cli_usage_fail(c, "--postprocess %s: use logits, probabilities or labels", c->val[O_POSTPROCESS]);
	if (strncmp(uri, "models:/", 8) == 0)
		return registered_blob(c, uri, bm);
	/* Not a regular file (a directory, a FIFO): convert_model says what it is. */
	int fd = file_open_regular(AT_FDCWD, uri, 0, NULL, err, sizeof err);
	char magic[8] = "";
	if (fd >= 0) {
		if (pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic && memcmp(magic, BLOB_MAGIC, 8) == 0)
			return blob_map_fd(fd, uri, bm, err, sizeof err) < 0 ? cli_fail("%s", err) : 0;
		close(fd);
	}
	const char *td = getenv("TMPDIR");
	char tdir[PATH_MAX];
	td = td && *td ? cli_trim_slashes(td, tdir, sizeof tdir) : "/tmp";
	snprintf(tmp, sizeof tmp, "%s/scorepoint-predict-XXXXXX", td);
	if (!mkdtemp(tmp))
		return cli_fail("%s: %s", tmp, strerror(errno));
	snprintf(path, sizeof path, "%s/model.blob", tmp);
	rc = convert_model(uri, path, &o, notes, sizeof notes, err, sizeof err) < 0 ||
	     blob_map_file(path, bm, err, sizeof err) < 0 ? cli_fail("%s", err) : 0;
	unlink(path);   /* the mapping stays valid */
	rmdir(tmp);
	return rc;
}

/* MLflow 1's `predict --content-type json` took a bare pandas split
 * ({"columns", "data"}) or a list of rows: wrap those as MLflow 2 does. */
static char *wrapped(const char *body, size_t len, size_t *out_len)
{
	size_t skip = strspn(body, " \t\r\n");
	const char *key = body[skip] == '[' ? "{\"instances\": " : "{\"dataframe_split\": ";
	size_t k = strlen(key);
	char *w = malloc(k + len + 2);
	if (!w)
		return NULL;
	memcpy(w, key, k);
	memcpy(w + k, body, len);
	w[k + len] = '}';
	w[k + len + 1] = '\0';
	*out_len = k + len + 1;
	return w;
}

int cli_predict(struct cli *c)
{
	struct blob_map bm;
	struct req_schema schema;
	struct req_ctx ctx;
	struct req_result r;
	struct req_error e;
	struct fwd_scratch fwd = { { NULL, NULL }, 0 };
	struct enc_buf out;
	size_t len = 0;
	int rc = cli_need(c, O_MODEL_URI);

	if (rc || (rc = cli_need(c, O_INPUT_PATH)))
		return rc;
	const char *ct = c->val[O_CONTENT_TYPE] ? c->val[O_CONTENT_TYPE] : "json";
	if (strcmp(ct, "json") != 0 && strcmp(ct, "csv") != 0)
		return cli_usage_fail(c, "--content-type %s: use json or csv", ct);
	char *body = read_file(c->val[O_INPUT_PATH], REQ_DEFAULT_MAX_BYTES, &len);
	if (!body)
		return 1;
	if ((rc = load_model(c, &bm))) {
		free(body);
		return rc;
	}
	const struct blob_model *m = &bm.model;
	rc = 1;
	memset(&schema, 0, sizeof schema);
	enc_init(&out, 0);
	req_ctx_init(&ctx, NULL);
	if (req_schema_init(&schema, m) < 0) {
		cli_fail("out of memory");
		goto out;
	}
	int dec = ct[0] == 'c' ? req_decode_csv(&ctx, &schema, body, len, &r, &e) :
		  req_decode_json(&ctx, &schema, body, len, 0, &r, &e);
	if (dec < 0 && ct[0] == 'j' && e.code == REQ_E_SHAPE) {
		size_t wl;
		char *w = wrapped(body, len, &wl);
		struct req_error e2;
		if (w && req_decode_json(&ctx, &schema, w, wl, 0, &r, &e2) == 0)
			dec = 0;
		free(w);
	}
	if (dec < 0) {
		cli_fail("%s: %s", c->val[O_INPUT_PATH], e.msg);
		goto out;
	}
	float *y = fwd_run(m, r.x, r.rows, &fwd);
	if (!y) {
		cli_fail("%s: %zu rows need more scratch memory than the limit", c->val[O_INPUT_PATH], r.rows);
		goto out;
	}
	enc_predictions(&out, ENC_BARE, m->postprocess, 0, y, r.rows, m->output_width, m->labels);
	enc_raw(&out, "\n", 1);
	if (enc_status(&out) != ENC_OK) {
		cli_fail("%s: the model's output is not finite or too large", c->val[O_INPUT_PATH]);
		goto out;
	}
	FILE *f = c->val[O_OUTPUT_PATH] ? fopen(c->val[O_OUTPUT_PATH], "w") : stdout;
	if (!f || fwrite(out.p, 1, out.len, f) != out.len || (f != stdout ? fclose(f) : fflush(f)) != 0)
		cli_fail("%s: cannot write: %s", c->val[O_OUTPUT_PATH] ? c->val[O_OUTPUT_PATH] : "stdout", strerror(errno));
	else
		rc = 0;
out:
	req_schema_free(&schema);
	fwd_scratch_free(&fwd);
	req_ctx_free(&ctx);
	enc_free(&out);
	blob_unmap(&bm);
	free(body);
	return rc;
}

/* ---- invoke ---- */

/* Inherited variables a CGI request must not carry from our own environment. */
static int request_var(const char *kv)
{
	static const char *const prefixes[] = { "HTTP_", "REQUEST_", "CONTENT_", "SCRIPT_", "QUERY_STRING=",
						"PATH_INFO=", "GATEWAY_INTERFACE=", "SERVER_", "REMOTE_", "LISTEN_",
						"SCOREPOINT_MODEL=", "SCOREPOINT_SOCKET=", NULL };
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(kv, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

struct strings {
	char *v[ENV_MAX + 1];
	size_t n;
};

static int add(struct strings *s, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	if (s->n >= ENV_MAX || !(s->v[s->n] = malloc(n)))
		return -1;
	snprintf(s->v[s->n++], n, "%s=%s", name, value);
	return 0;
}

/* Run the handler with the request's environment; its stdout into *resp. */
static int run_handler(const char *handler, const char *dir, int body_fd, struct strings *env, char **resp,
		       size_t *resp_len, int *status)
{
	int p[2];
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap + 1);

	if (!buf || pipe(p) < 0) {
		free(buf);
		return cli_fail("cannot run %s: %s", handler, strerror(errno));
	}
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)handler, "--cgi", "--workspace", (char *)dir, NULL };
		dup2(body_fd, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execve(handler, argv, env->v);
		fprintf(stderr, "scorepoint: %s: %s\n", handler, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		free(buf);
		return cli_fail("cannot fork: %s", strerror(errno));
	}
	int rc = 0;
	for (;;) {
		if (got == cap) {
			char *nb = cap < RESPONSE_MAX ? realloc(buf, cap * 2 + 1) : NULL;
			if (!nb) {
				rc = cli_fail("the response is larger than %zu bytes", RESPONSE_MAX);
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(p[0], buf + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(p[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (rc) {
		free(buf);
		return rc;
	}
	buf[got] = '\0';
	*resp = buf;
	*resp_len = got;
	return 0;
}

/* The "message" (Azure, MLflow) or "error" (V2) of a JSON error body. */
static void error_message(const struct cgi_response *r, char *out, size_t len)
{
	jsmntok_t t[64];
	jsmn_parser p;
	jsmn_init(&p);
	int n = jsmn_parse(&p, r->body, r->body_len, t, 64);
	int k = n > 0 && t[0].type == JSMN_OBJECT ? json_get(r->body, t, 0, "message") : -1;
	if (k < 0 && n > 0 && t[0].type == JSMN_OBJECT)
		k = json_get(r->body, t, 0, "error");
	if (k < 0 || json_string(r->body, t, k, out, len) < 0)
		snprintf(out, len, "%.*s", (int)(r->body_len > 200 ? 200 : r->body_len), r->body);
}

int cli_endpoint_invoke(struct cli *c)
{
	struct ws w;
	struct strings env = { { NULL }, 0 };
	char handler[PATH_MAX], cred[AUTH_TOKEN_MAX], uri[64], num[32], auth[AUTH_TOKEN_MAX + 8], msg[512], err[256];
	char *resp = NULL;
	size_t resp_len = 0;
	int status = 0, fd = -1;
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_need(c, O_REQUEST_FILE)) || (rc = cli_name("--name", c->val[O_NAME])) ||
	    (c->val[O_DEPLOYMENT] && (rc = cli_name("--deployment-name", c->val[O_DEPLOYMENT]))))
		return rc;
	if ((rc = cli_find_handler(handler, sizeof handler)) || (rc = cli_load(c, &w)))
		return rc;
	rc = 1;
	const struct ws_endpoint *e = ws_endpoint(&w, c->val[O_NAME], strlen(c->val[O_NAME]));
	if (!e) {
		cli_fail("endpoint \"%s\" does not exist", c->val[O_NAME]);
		goto out;
	}
	if (c->val[O_DEPLOYMENT] && !ws_deployment(e, c->val[O_DEPLOYMENT], strlen(c->val[O_DEPLOYMENT]))) {
		cli_fail("endpoint \"%s\" has no deployment \"%s\"", e->name, c->val[O_DEPLOYMENT]);
		goto out;
	}
	if (e->auth_mode == WS_AUTH_KEY)
		snprintf(cred, sizeof cred, "%s", e->primary_key);
	else if (auth_token_mint(e->token_secret, e->name, (int64_t)time(NULL), 3600, cred, sizeof cred) < 0) {
		cli_fail("endpoint \"%s\": cannot mint a token", e->name);
		goto out;
	}
	struct stat st;
	if ((fd = file_open_regular(AT_FDCWD, c->val[O_REQUEST_FILE], 0, &st, msg, sizeof msg)) < 0) {
		cli_fail("%s", msg);
		goto out;
	}
	for (char **v = environ; *v; v++)
		if (!request_var(*v) && (env.n >= ENV_MAX || !(env.v[env.n++] = strdup(*v)))) {
			cli_fail("out of memory");
			goto out;
		}
	snprintf(uri, sizeof uri, "/%s/score", e->name);
	snprintf(num, sizeof num, "%lld", (long long)st.st_size);
	snprintf(auth, sizeof auth, "Bearer %s", cred);
	if (add(&env, "GATEWAY_INTERFACE", "CGI/1.1") < 0 || add(&env, "SERVER_PROTOCOL", "HTTP/1.1") < 0 ||
	    add(&env, "REQUEST_METHOD", "POST") < 0 || add(&env, "REQUEST_URI", uri) < 0 ||
	    add(&env, "SCRIPT_NAME", "") < 0 || add(&env, "CONTENT_TYPE", "application/json") < 0 ||
	    add(&env, "CONTENT_LENGTH", num) < 0 || add(&env, "HTTP_AUTHORIZATION", auth) < 0 ||
	    (c->val[O_DEPLOYMENT] && add(&env, "HTTP_AZUREML_MODEL_DEPLOYMENT", c->val[O_DEPLOYMENT]) < 0)) {
		cli_fail("out of memory or too many environment variables");
		goto out;
	}
	if ((rc = run_handler(handler, w.dir, fd, &env, &resp, &resp_len, &status)))
		goto out;
	rc = 1;
	struct cgi_response r;
	if (cgi_parse_response(resp, resp_len, &r, err, sizeof err) < 0) {
		cli_fail("%s answered no CGI response (%s; exit status %d)", handler, err,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		goto out;
	}
	if (r.status < 200 || r.status > 299) {
		error_message(&r, msg, sizeof msg);
		cli_fail("invoke %s: HTTP %d: %s", e->name, r.status, msg);
		goto out;
	}
	fwrite(r.body, 1, r.body_len, stdout);
	if (r.body_len && r.body[r.body_len - 1] != '\n')
		putchar('\n');
	rc = fflush(stdout) == 0 ? 0 : cli_fail("cannot write the output");
out:
	memset(cred, 0, sizeof cred);
	memset(auth, 0, sizeof auth);
	for (size_t i = 0; i < env.n; i++) {
		memset(env.v[i], 0, strlen(env.v[i]));   /* one of them holds the credential */
		free(env.v[i]);
	}
	if (fd >= 0)
		close(fd);
	free(resp);
	ws_free(&w);
	return rc;
}
