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

/* ---- requests to score.fcgi as CGI (invoke, replay) ---- */

int cli_cgi_open(struct cli_cgi *k, const char *handler, const struct ws *w, const struct ws_endpoint *e)
{
	snprintf(k->handler, sizeof k->handler, "%s", handler);
	k->dir = w->dir;
	k->e = e;
	if (cgi_env_inherit(&k->env) < 0)
		return cli_fail("out of memory");
	if (cgi_env_add(&k->env, "GATEWAY_INTERFACE", "CGI/1.1") < 0 ||
	    cgi_env_add(&k->env, "SERVER_PROTOCOL", "HTTP/1.1") < 0 ||
	    cgi_env_add(&k->env, "REQUEST_METHOD", "POST") < 0 || cgi_env_add(&k->env, "SCRIPT_NAME", "") < 0 ||
	    cgi_env_add(&k->env, "CONTENT_TYPE", "application/json") < 0)
		return cli_fail("out of memory or too many environment variables");
	k->base = k->env.n;
	return 0;
}

void cli_cgi_close(struct cli_cgi *k)
{
	cgi_env_free(&k->env);
}

int cli_cgi_post(struct cli_cgi *k, const char *uri, const char *deployment, int body_fd, size_t body_len,
		 char **resp, size_t *resp_len, int *status)
{
	char cred[AUTH_TOKEN_MAX], auth[AUTH_TOKEN_MAX + 8], num[32], err[PATH_MAX + 64];
	char *argv[] = { k->handler, "--cgi", "--workspace", (char *)k->dir, NULL };
	const struct ws_endpoint *e = k->e;
	int rc = 1;

	if (e->auth_mode == WS_AUTH_KEY)
		snprintf(cred, sizeof cred, "%s", e->primary_key);
	else if (auth_token_mint(e->token_secret, e->name, (int64_t)time(NULL), 3600, cred, sizeof cred) < 0)
		return cli_fail("endpoint \"%s\": cannot mint a token", e->name);
	snprintf(num, sizeof num, "%zu", body_len);
	snprintf(auth, sizeof auth, "Bearer %s", cred);
	if (cgi_env_add(&k->env, "REQUEST_URI", uri) < 0 || cgi_env_add(&k->env, "CONTENT_LENGTH", num) < 0 ||
	    cgi_env_add(&k->env, "HTTP_AUTHORIZATION", auth) < 0 ||
	    (deployment && cgi_env_add(&k->env, "HTTP_AZUREML_MODEL_DEPLOYMENT", deployment) < 0))
		cli_fail("out of memory or too many environment variables");
	else if (lseek(body_fd, 0, SEEK_SET) < 0)
		cli_fail("cannot read the request body: %s", strerror(errno));
	else if (cgi_run(argv, &k->env, body_fd, resp, resp_len, status, err, sizeof err) < 0)
		cli_fail("%s", err);
	else
		rc = 0;
	memset(cred, 0, sizeof cred);
	memset(auth, 0, sizeof auth);
	cgi_env_cut(&k->env, k->base);
	return rc;
}

int cli_cgi_parse(const struct cli_cgi *k, const char *resp, size_t len, int status, struct cgi_response *r)
{
	char err[256];
	if (cgi_parse_response(resp, len, r, err, sizeof err) == 0)
		return 0;
	return cli_fail("%s answered no CGI response (%s; exit status %d)", k->handler, err,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---- invoke ---- */

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
	struct cli_cgi k;
	struct cgi_response r;
	struct stat st;
	char handler[PATH_MAX], uri[64], msg[512];
	char *resp = NULL;
	size_t resp_len = 0;
	int status = 0, fd = -1;
	int rc = cli_need(c, O_NAME);

	if (rc || (rc = cli_need(c, O_REQUEST_FILE)) || (rc = cli_name("--name", c->val[O_NAME])) ||
	    (c->val[O_DEPLOYMENT] && (rc = cli_name("--deployment-name", c->val[O_DEPLOYMENT]))))
		return rc;
	if ((rc = cli_find_handler(handler, sizeof handler)) || (rc = cli_load(c, &w)))
		return rc;
	k.env.n = 0;
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
	if ((fd = file_open_regular(AT_FDCWD, c->val[O_REQUEST_FILE], 0, &st, msg, sizeof msg)) < 0) {
		cli_fail("%s", msg);
		goto out;
	}
	snprintf(uri, sizeof uri, "/%s/score", e->name);
	if (cli_cgi_open(&k, handler, &w, e) ||
	    cli_cgi_post(&k, uri, c->val[O_DEPLOYMENT], fd, (size_t)st.st_size, &resp, &resp_len, &status) ||
	    cli_cgi_parse(&k, resp, resp_len, status, &r))
		goto out;
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
	cli_cgi_close(&k);
	if (fd >= 0)
		close(fd);
	free(resp);
	ws_free(&w);
	return rc;
}
