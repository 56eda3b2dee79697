/*
 * mlmodel.c - MLflow model directories (docs/pth-format.md section 6).
 *
 * MLmodel is loaded as a libyaml document, so PyYAML's folded single-quoted
 * signature strings come back whole; the signature itself is JSON inside
 * those strings and goes through jsmn.  Unknown keys are ignored at every
 * level, as MLflow adds keys from release to release.
 */
#include "tools/mlmodel.h"
#include "model/json.h"
#include "model/err.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define SIG_MAX_TOKENS (1 << 20)
#define NAME_MAX_BYTES 1024

int mlmodel_is_dir(const char *path)
{
	char p[PATH_MAX];
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if ((size_t)snprintf(p, sizeof p, "%s/MLmodel", path) >= sizeof p)
		return 0;
	return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Anything but a directory is a file to open: the open refuses, in one
 * line and without waiting, what is not a regular file (a FIFO). */
static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && !S_ISDIR(st.st_mode);
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- YAML document walking ---- */

static yaml_node_t *ymap_get(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
		    memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* A scalar's text, or NULL for a missing key, a non-scalar or YAML null. */
static const char *yscalar(yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	const char *s = (const char *)n->data.scalar.value;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || s[0] == '\0'))
		return NULL;
	return s;
}

/* Parse the MLmodel at path, or text[0, len) in its place when text is not
 * NULL (path then only names it in messages). */
static int load_yaml(const char *path, const void *text, size_t len, yaml_document_t *doc,
		     char *err, size_t errlen)
{
	yaml_parser_t parser;
	struct stat st;
	FILE *f = NULL;
	int rc = -1;

	if (text) {
		if (len > MLMODEL_MAX_BYTES)
			return err_set(err, errlen, "%s: larger than %u bytes", path, MLMODEL_MAX_BYTES);
	} else {
		int fd = file_open_regular(AT_FDCWD, path, 0, &st, err, errlen);
		if (fd < 0)
			return -1;
		if (st.st_size > (off_t)MLMODEL_MAX_BYTES) {
			close(fd);
			return err_set(err, errlen, "%s: larger than %u bytes", path, MLMODEL_MAX_BYTES);
		}
		if (!(f = fdopen(fd, "rb"))) {
			close(fd);
			return err_set(err, errlen, "%s: %s", path, strerror(errno));
		}
	}
	yaml_parser_initialize(&parser);
	if (f)
		yaml_parser_set_input_file(&parser, f);
	else
		yaml_parser_set_input_string(&parser, text, len);
	if (!yaml_parser_load(&parser, doc)) {
		err_set(err, errlen, "%s:%zu: YAML error: %s", path, parser.problem_mark.line + 1,
		     parser.problem ? parser.problem : "unreadable");
		goto out;
	}
	if (!yaml_document_get_root_node(doc) ||
	    yaml_document_get_root_node(doc)->type != YAML_MAPPING_NODE) {
		yaml_document_delete(doc);
		err_set(err, errlen, "%s: not a YAML mapping", path);
		goto out;
	}
	rc = 0;
out:
	yaml_parser_delete(&parser);
	if (f)
		fclose(f);
	return rc;
}

/* ---- signature (JSON inside YAML strings) ---- */

/* Tokenize js, which must be valid JSON (jsmn alone takes {"type":} as
 * a key without a value, and the walk would read past the tokens); *toks
 * is malloc'd. Returns the token count or -1. */
static int tokenize(const char *js, jsmntok_t **toks)
{
	jsmn_parser p;
	size_t len = strlen(js), bad;
	const char *why;
	int n;

	if (!json_depth_ok(js, len))
		return -1;
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0 || n > SIG_MAX_TOKENS)
		return -1;
	*toks = malloc((size_t)n * sizeof **toks);
	if (!*toks)
		return -1;
	jsmn_init(&p);
	if (jsmn_parse(&p, js, len, *toks, (unsigned)n) != n || (*toks)[0].type != JSMN_ARRAY ||
	    json_validate(js, len, *toks, n, &bad, &why) < 0) {
		free(*toks);
		*toks = NULL;
		return -1;
	}
	return n;
}

/* Product of the non-batch dimensions of a tensor-spec shape, 0 if unknown. */
static uint32_t shape_width(const char *js, const jsmntok_t *t, int spec)
{
	int shape = json_get(js, t, spec, "shape");
	uint64_t w = 1;

	if (shape < 0 || t[shape].type != JSMN_ARRAY || t[shape].size < 2)
		return 0;
	for (int i = 1, k = shape + 2; i < t[shape].size; i++, k++) {
		long d = strtol(js + t[k].start, NULL, 10);
		if (t[k].type != JSMN_PRIMITIVE || d <= 0)
			return 0;
		w *= (uint64_t)d;
		if (w > UINT32_MAX)
			return 0;
	}
	return (uint32_t)w;
}

static int is_numeric_col(const char *js, const jsmntok_t *t, int type)
{
	static const char *const ok[] = { "double", "float", "integer", "long", "boolean" };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (json_eq(js, t, type, ok[i]))
			return 1;
	return 0;
}

/*
 * Read an inputs/outputs signature string.  Column specs fill names (when
 * names is not NULL); a single tensor spec gives *width.
 */
static int read_signature(const char *where, const char *js, char ***names, uint32_t *nnames,
			  uint32_t *width, char *err, size_t errlen)
{
	jsmntok_t *t = NULL;
	char buf[NAME_MAX_BYTES];
	int n = tokenize(js, &t), rc = -1;

	if (n < 0)
		return err_set(err, errlen, "%s: not a JSON array", where);
	int count = t[0].size, k = 1;
	for (int i = 0; i < count; i++, k = json_skip(t, k)) {
		int type = json_get(js, t, k, "type");
		if (type < 0) {
			err_set(err, errlen, "%s: entry %d has no type", where, i);
			goto out;
		}
		if (json_eq(js, t, type, "tensor")) {
			int spec = json_get(js, t, k, "tensor-spec");
			if (count != 1) {
				err_set(err, errlen, "%s: %d tensors; scorepoint serves models with one input and one output tensor",
				     where, count);
				goto out;
			}
			*width = spec < 0 ? 0 : shape_width(js, t, spec);
			continue;
		}
		if (!names)
			continue;
		int name = json_get(js, t, k, "name");
		if (name < 0 || json_string(js, t, name, buf, sizeof buf) <= 0) {
			err_set(err, errlen, "%s: column %d has no usable name", where, i);
			goto out;
		}
		if (!is_numeric_col(js, t, type)) {
			err_set(err, errlen, "%s: column %s has type %.*s; scorepoint serves numeric columns only",
			     where, buf, t[type].end - t[type].start, js + t[type].start);
			goto out;
		}
		if (!*names) {
			*names = calloc((size_t)count, sizeof **names);
			if (!*names) {
				err_set(err, errlen, "%s: out of memory", where);
				goto out;
			}
		}
		(*names)[*nnames] = strdup(buf);
		if (!(*names)[*nnames]) {
			err_set(err, errlen, "%s: out of memory", where);
			goto out;
		}
		(*nnames)++;
	}
	rc = 0;
out:
	free(t);
	return rc;
}

/* ---- flavors ---- */

static int pytorch_flavor(const char *dir, const char *file, yaml_document_t *doc, yaml_node_t *pt,
			  struct mlmodel *m, char *err, size_t errlen)
{
	const char *data = yscalar(ymap_get(doc, pt, "model_data"));
	char p[PATH_MAX];

	if (!data)
		return err_set(err, errlen, "%s: flavors.pytorch has no model_data", file);
	if (strstr(data, "..") || data[0] == '/')
		return err_set(err, errlen, "%s: model_data '%s' leaves the model directory", file, data);
	if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, data) >= sizeof p)
		return err_set(err, errlen, "%s: path too long", file);
	if (is_file(p)) {   /* very old MLflow: model_data names the file itself */
		snprintf(m->model_path, sizeof m->model_path, "%s", p);
		return 0;
	}
	if (!is_dir(p))
		return err_set(err, errlen, "%s: model_data %s does not exist", file, p);
	if ((size_t)snprintf(m->model_path, sizeof m->model_path, "%s/model.pth", p) >= sizeof m->model_path)
		return err_set(err, errlen, "%s: path too long", file);
	if (is_file(m->model_path))
		return 0;
	char pt2[PATH_MAX];
	if ((size_t)snprintf(pt2, sizeof pt2, "%s/model.pt2", p) < sizeof pt2 && is_file(pt2))
		return err_set(err, errlen, "%s: a torch.export (serialization_format=\"pt2\") model; "
			    "scorepoint reads torch.save files: save with the default serialization_format=\"pickle\"",
			    pt2);
	return err_set(err, errlen, "%s: missing (named by flavors.pytorch.model_data in %s)", m->model_path, file);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);
	return n >= k && strcmp(s + n - k, suf) == 0;
}

static int load_dir(const char *dir, const void *text, size_t len, struct mlmodel *m, int depth,
		    char *err, size_t errlen);

/* The python_function-only wrapper of the tutorial's endpoint 2. */
static int pyfunc_artifacts(const char *dir, const char *file, yaml_document_t *doc, yaml_node_t *arts,
			    struct mlmodel *m, int depth, char *err, size_t errlen)
{
	if (!arts || arts->type != YAML_MAPPING_NODE)
		return err_set(err, errlen, "%s: no pytorch flavor and no python_function artifacts: "
			    "not a PyTorch model", file);
	for (yaml_node_pair_t *p = arts->data.mapping.pairs.start; p < arts->data.mapping.pairs.top; p++) {
		const char *path = yscalar(ymap_get(doc, yaml_document_get_node(doc, p->value), "path"));
		char full[PATH_MAX];
		if (!path || strstr(path, "..") || path[0] == '/')
			continue;
		if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, path) >= sizeof full)
			continue;
		if (is_file(full) && (has_suffix(full, ".pth") || has_suffix(full, ".pt"))) {
			snprintf(m->model_path, sizeof m->model_path, "%s", full);
			return 0;
		}
		if (mlmodel_is_dir(full)) {
			/* The inner MLflow model knows the output width; keep the outer columns. */
			struct mlmodel inner;
			memset(&inner, 0, sizeof inner);
			if (load_dir(full, NULL, 0, &inner, depth + 1, err, errlen) < 0)
				return -1;
			snprintf(m->model_path, sizeof m->model_path, "%s", inner.model_path);
			if (!m->output_width)
				m->output_width = inner.output_width;
			if (!m->ncolumns && !m->input_width) {
				m->input_width = inner.input_width;
				m->columns = inner.columns;
				m->ncolumns = inner.ncolumns;
				inner.columns = NULL;
				inner.ncolumns = 0;
			}
			mlmodel_free(&inner);
			return 0;
		}
	}
	return err_set(err, errlen, "%s: no python_function artifact is a .pth/.pt file or an MLflow pytorch model directory",
		    file);
}

/* The MLflow model in dir, whose MLmodel text is given when text is not NULL. */
static int load_dir(const char *dir, const void *text, size_t len, struct mlmodel *m, int depth,
		    char *err, size_t errlen)
{
	yaml_document_t doc;
	char file[PATH_MAX];
	char where[PATH_MAX + 32];
	int rc = -1;

	if (depth > 2)
		return err_set(err, errlen, "%s: MLflow models nested too deep", dir);
	if ((size_t)snprintf(file, sizeof file, "%s/MLmodel", dir) >= sizeof file)
		return err_set(err, errlen, "%s: path too long", dir);
	if (load_yaml(file, text, len, &doc, err, errlen) < 0)
		return -1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	yaml_node_t *flavors = ymap_get(&doc, root, "flavors");
	yaml_node_t *sig = ymap_get(&doc, root, "signature");
	yaml_node_t *pt = ymap_get(&doc, flavors, "pytorch");
	yaml_node_t *pf = ymap_get(&doc, flavors, "python_function");

	if (!flavors || flavors->type != YAML_MAPPING_NODE) {
		err_set(err, errlen, "%s: no flavors mapping: not an MLflow model", file);
		goto out;
	}
	const char *in = yscalar(ymap_get(&doc, sig, "inputs"));
	const char *outs = yscalar(ymap_get(&doc, sig, "outputs"));
	if (in) {
		snprintf(where, sizeof where, "%s: signature.inputs", file);
		if (read_signature(where, in, &m->columns, &m->ncolumns, &m->input_width, err, errlen) < 0)
			goto out;
	}
	if (pt) {
		if (outs) {
			snprintf(where, sizeof where, "%s: signature.outputs", file);
			if (read_signature(where, outs, NULL, NULL, &m->output_width, err, errlen) < 0)
				goto out;
		}
		rc = pytorch_flavor(dir, file, &doc, pt, m, err, errlen);
	} else {
		/* A wrapper's own outputs are whatever its Python predict() returns. */
		m->pyfunc_wrapper = 1;
		rc = pyfunc_artifacts(dir, file, &doc, ymap_get(&doc, pf, "artifacts"), m, depth, err, errlen);
	}
out:
	yaml_document_delete(&doc);
	return rc;
}

int mlmodel_load(const char *dir, struct mlmodel *m, char *err, size_t errlen)
{
	return mlmodel_load_mem(dir, NULL, 0, m, err, errlen);
}

int mlmodel_load_mem(const char *dir, const void *text, size_t len, struct mlmodel *m, char *err,
		     size_t errlen)
{
	memset(m, 0, sizeof *m);
	if (load_dir(dir, text, len, m, 0, err, errlen) < 0) {
		mlmodel_free(m);
		return -1;
	}
	return 0;
}

void mlmodel_free(struct mlmodel *m)
{
	for (uint32_t i = 0; i < m->ncolumns; i++)
		free(m->columns[i]);
	free(m->columns);
	m->columns = NULL;
	m->ncolumns = 0;
}
