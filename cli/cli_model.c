/*
 * cli_model.c - `scorepoint model ...`: register a model (converted into
 * the workspace once, with a copy of its MLmodel), list, show, delete.
 */
#include "cli/cli.h"
#include "tools/convert.h"
#include "tools/mlmodel.h"
#include "model/atomic.h"
#include "model/blob.h"
#include "model/err.h"
#include "model/file.h"
#include "workspace/name.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Copy the MLmodel of an MLflow directory next to the blob (folder dfd, shown as dst_dir). */
static int copy_mlmodel(const char *src_dir, int dfd, const char *dst_dir, char *err, size_t errlen)
{
	char src[PATH_MAX], dst[PATH_MAX], why[PATH_MAX + 128];
	FILE *f = NULL;
	size_t n = 0;

	if ((size_t)snprintf(src, sizeof src, "%s/MLmodel", src_dir) >= sizeof src ||
	    (size_t)snprintf(dst, sizeof dst, "%s/MLmodel", dst_dir) >= sizeof dst)
		return err_set(err, errlen, "%s: path too long", src_dir);
	/* Never waited on: a FIFO in its place would block under the lock. */
	int fd = file_open_regular(AT_FDCWD, src, 0, NULL, why, sizeof why);
	if (fd >= 0 && !(f = fdopen(fd, "rb")))
		close(fd);
	char *text = malloc(MLMODEL_MAX_BYTES);
	int rc = -1;
	if (!f || !text) {
		err_set(err, errlen, "%s", fd < 0 ? why : "out of memory");
		goto out;
	}
	n = fread(text, 1, MLMODEL_MAX_BYTES, f);
	if (ferror(f) || !feof(f)) {
		err_set(err, errlen, "%s: unreadable or larger than %u bytes", src, MLMODEL_MAX_BYTES);
		goto out;
	}
	rc = atomic_write_bufat(dfd, "MLmodel", dst, 0644, text, n, err, errlen);
out:
	if (f)
		fclose(f);
	free(text);
	return rc;
}

/* The record of a model just converted to model.blob of the folder dfd (`blob` names it). */
static struct ws_node *model_record(const struct cli *c, const char *version, int dfd, const char *blob,
				    int mlflow, char *err, size_t errlen)
{
	struct blob_map bm;
	char when[32], *real = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int fd = file_open_regular(dfd, "model.blob", FILE_NOFOLLOW, NULL, err, errlen);

	if (fd < 0 || blob_map_fd(fd, blob, &bm, err, errlen) < 0)
		return NULL;
	real = realpath(c->val[O_PATH], NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct ws_node *r = ws_node_new(WS_MAP, NULL);
	int bad = !r || ws_node_set(r, "name", ws_node_str(c->val[O_NAME])) < 0 ||
		  ws_node_set(r, "version", ws_node_str(version)) < 0 ||
		  ws_node_set(r, "type", ws_node_str(c->val[O_TYPE] ? c->val[O_TYPE] : "custom_model")) < 0 ||
		  ws_node_set(r, "path", ws_node_str(real ? real : c->val[O_PATH])) < 0 ||
		  ws_node_set(r, "created", ws_node_str(when)) < 0 ||
		  (c->val[O_DESCRIPTION] && ws_node_set(r, "description", ws_node_str(c->val[O_DESCRIPTION])) < 0) ||
		  ws_node_set(r, "postprocess", ws_node_str(blob_post_name(bm.model.postprocess))) < 0 ||
		  ws_node_set(r, "inputs", ws_node_int(bm.model.input_width)) < 0 ||
		  ws_node_set(r, "outputs", ws_node_int(bm.model.output_width)) < 0 ||
		  ws_node_set(r, "mlmodel", ws_node_new(WS_BOOL, mlflow ? "true" : "false")) < 0;
	if (!bad && bm.model.nlabels) {
		struct ws_node *labels = ws_node_new(WS_SEQ, NULL);
		for (uint32_t i = 0; labels && i < bm.model.nlabels; i++)
			if (ws_node_push(labels, ws_node_str(bm.model.labels[i])) < 0) {
				ws_node_free(labels);
				labels = NULL;
			}
		bad = ws_node_set(r, "labels", labels) < 0;
	}
	blob_unmap(&bm);
	free(real);
	if (bad) {
		ws_node_free(r);
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	return r;
}

/* The next version of name: 1 + the largest whole-number version. */
static void next_version(const struct ws *w, const char *name, char *out, size_t len)
{
	long best = 0;
	for (size_t i = 0; i < w->nmodels; i++) {
		char *end;
		long v = strtol(w->models[i].version, &end, 10);
		if (strcmp(w->models[i].name, name) == 0 && !*end && v > best)
			best = v;
	}
	snprintf(out, len, "%ld", best + 1);
}

int cli_model_create(struct cli *c)
{
	struct ws_txn t;
	struct convert_opts o = { .postprocess = -1 };
	char err[PATH_MAX + 1024], notes[2048], version[WS_VERSION_MAX + 1], dir[PATH_MAX], blob[PATH_MAX + 16];
	char path[PATH_MAX];
	int rc = cli_need(c, O_NAME), made = 0, dfd = -1;

	if (rc || (rc = cli_need(c, O_PATH)) || (rc = cli_model_name("--name", c->val[O_NAME])))
		return rc;
	/* The tutorial's `--path model/`: no "model//MLmodel" in a message. */
	c->val[O_PATH] = cli_trim_slashes(c->val[O_PATH], path, sizeof path);
	const char *type = c->val[O_TYPE] ? c->val[O_TYPE] : "custom_model";
	int mlflow = mlmodel_is_dir(c->val[O_PATH]);
	if (strcmp(type, "custom_model") != 0 && strcmp(type, "mlflow_model") != 0)
		return cli_fail("--type %s: scorepoint registers mlflow_model and custom_model", type);
	if (strcmp(type, "mlflow_model") == 0 && !mlflow)
		return cli_fail("--path %s: an mlflow_model is a directory holding an MLmodel file", c->val[O_PATH]);
	if (c->val[O_VERSION] && !ws_version_valid(c->val[O_VERSION]))
		return cli_fail("--version \"%s\": a version has 1 to %d letters, digits, '.', '_' or '-', "
				"beginning with a letter or digit", c->val[O_VERSION], WS_VERSION_MAX);
	if (c->val[O_POSTPROCESS] && (o.postprocess = blob_post_parse(c->val[O_POSTPROCESS])) < 0)
		return cli_usage_fail(c, "--postprocess %s: use logits, probabilities or labels", c->val[O_POSTPROCESS]);
	o.labels = c->val[O_LABELS];
	o.arch = c->val[O_ARCH];
	o.assume_order = c->val[O_ASSUME_ORDER] != NULL;
	o.verify = c->val[O_VERIFY] != NULL || c->val[O_VERIFY_INPUT] != NULL;
	o.verify_input = c->val[O_VERIFY_INPUT];
	if (c->val[O_INPUT_SHAPE] && convert_parse_shape(c->val[O_INPUT_SHAPE], o.input_shape, err, sizeof err) < 0)
		return cli_usage_fail(c, "%s", err);
	if (ws_begin(c->dir, &t, err, sizeof err) < 0)
		return cli_fail("%s", err);
	rc = 1;
	if (c->val[O_VERSION])
		snprintf(version, sizeof version, "%s", c->val[O_VERSION]);
	else
		next_version(&t.w, c->val[O_NAME], version, sizeof version);
	if (ws_model(&t.w, c->val[O_NAME], version)) {
		cli_fail("model %s:%s already exists: give another --version", c->val[O_NAME], version);
		goto out;
	}
	if (t.w.nmodels >= WS_MAX_MODELS) {
		cli_fail("the workspace has %d models, the most it holds", WS_MAX_MODELS);
		goto out;
	}
	/* Files left by a crash before a commit belong to no registered model. */
	ws_remove_model(&t.w, c->val[O_NAME], version);
	made = 1;
	if (ws_path_model(t.w.dir, c->val[O_NAME], version, dir, sizeof dir) < 0) {
		cli_fail("%s: path too long", t.w.dir);
		goto out;
	}
	if ((dfd = ws_open_model_dir(&t.w, c->val[O_NAME], version, 1, err, sizeof err)) < 0) {
		cli_fail("%s", err);
		goto out;
	}
	snprintf(blob, sizeof blob, "%s/model.blob", dir);
	o.name = c->val[O_NAME];
	o.version = version;
	if (convert_model_at(c->val[O_PATH], dfd, "model.blob", blob, &o, notes, sizeof notes, err, sizeof err) < 0 ||
	    (mlflow && copy_mlmodel(c->val[O_PATH], dfd, dir, err, sizeof err) < 0)) {
		cli_fail("%s", err);
		goto out;
	}
	char *save = NULL;
	for (char *l = strtok_r(notes, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "scorepoint: note: %s\n", l);
	struct ws_node *rec = model_record(c, version, dfd, blob, mlflow, err, sizeof err);
	if (!rec || ws_node_push(ws_seq(t.w.root, "models"), rec) < 0) {
		cli_fail("%s", rec ? "out of memory" : err);
		goto out;
	}
	if (cli_commit(&t))
		goto out;
	made = 0;
	rc = cli_print_kind(c, cli_model_json(ws_model(&t.w, c->val[O_NAME], version)), WS_KIND_MODEL);
out:
	if (dfd >= 0)
		close(dfd);
	if (made)
		ws_remove_model(&t.w, c->val[O_NAME], version);
	ws_end(&t);
	return rc;
}

int cli_model_list(struct cli *c)
{
	struct ws w;
	int rc = cli_load(c, &w);
	if (rc)
		return rc;
	struct ws_node *list = ws_node_new(WS_SEQ, NULL);
	for (size_t i = 0; list && i < w.nmodels; i++) {
		if (c->val[O_NAME] && strcmp(w.models[i].name, c->val[O_NAME]) != 0)
			continue;
		if (ws_node_push(list, cli_model_json(&w.models[i])) < 0) {
			ws_node_free(list);
			list = NULL;
		}
	}
	rc = cli_print_kind(c, list, WS_KIND_MODEL);
	ws_free(&w);
	return rc;
}

/* The model --name with --version, or the last registered for --label latest. */
static const struct ws_model *pick(const struct cli *c, const struct ws *w)
{
	const struct ws_model *m = NULL;
	for (size_t i = 0; i < w->nmodels; i++)
		if (strcmp(w->models[i].name, c->val[O_NAME]) == 0 &&
		    (!c->val[O_VERSION] || strcmp(w->models[i].version, c->val[O_VERSION]) == 0))
			m = &w->models[i];
	return m;
}

static int name_and_version(const struct cli *c)
{
	int rc = cli_need(c, O_NAME);
	if (rc || (rc = cli_model_name("--name", c->val[O_NAME])))
		return rc;
	if (c->val[O_LABEL] && strcmp(c->val[O_LABEL], "latest") != 0)
		return cli_usage_fail(c, "--label %s: the only label is latest", c->val[O_LABEL]);
	if (!c->val[O_VERSION] == !c->val[O_LABEL])
		return cli_usage_fail(c, "give --version VERSION or --label latest");
	return 0;
}

int cli_model_show(struct cli *c)
{
	struct ws w;
	int rc = name_and_version(c);
	if (rc || (rc = cli_load(c, &w)))
		return rc;
	const struct ws_model *m = pick(c, &w);
	rc = m ? cli_print_kind(c, cli_model_json(m), WS_KIND_MODEL) :
		 cli_model_missing(&w, c->val[O_NAME], c->val[O_VERSION]);
	ws_free(&w);
	return rc;
}

int cli_model_delete(struct cli *c)
{
	struct ws_txn t;
	char err[1024], version[WS_VERSION_MAX + 1];
	int rc = cli_need(c, O_VERSION);

	if (rc || (rc = name_and_version(c)))
		return rc;
	if (ws_begin(c->dir, &t, err, sizeof err) < 0)
		return cli_fail("%s", err);
	rc = 1;
	const struct ws_model *m = pick(c, &t.w);
	if (!m) {
		cli_model_missing(&t.w, c->val[O_NAME], c->val[O_VERSION]);
		goto out;
	}
	for (size_t i = 0; i < t.w.nendpoints; i++)
		for (size_t j = 0; j < t.w.endpoints[i].ndeployments; j++)
			if (t.w.endpoints[i].deployments[j].model == m) {
				cli_fail("model %s:%s is used by deployment \"%s\" of endpoint \"%s\": delete or update "
					 "that deployment first", m->name, m->version, t.w.endpoints[i].deployments[j].name,
					 t.w.endpoints[i].name);
				goto out;
			}
	snprintf(version, sizeof version, "%s", m->version);
	ws_node_free(ws_node_take(ws_node_get(t.w.root, "models"), (size_t)(m - t.w.models)));
	if (cli_commit(&t))
		goto out;
	/* After the commit: a server still mapping the blob keeps its pages. */
	ws_remove_model(&t.w, c->val[O_NAME], version);
	rc = 0;
out:
	ws_end(&t);
	return rc;
}
