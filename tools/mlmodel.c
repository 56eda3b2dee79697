/*
 * mlmodel.c - MLflow model directories (docs/pth-format.md section 6).
 *
 * MLmodel is loaded as a libyaml document, so PyYAML's folded single-quoted
 * signature strings come back whole; the signature itself is JSON inside
 * those strings and goes through jsmn.  Unknown keys are ignored at every
 * level, as MLflow adds keys from release to release.
 */
#include "tools/mlmodel.h"
#include "tools/pylit.h"
#include "model/json.h"
#include "model/err.h"
#include "model/file.h"

#include <dirent.h>
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
#define CODE_MAX_FILES 64    /* .py files of a wrapper's code folder read for its labels */
#define CODE_MAX_DEPTH 2     /* subfolders of the code folder looked into */

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

/* Product of the non-batch dimensions of a tensor-spec shape, 0 if
 * unknown; an image's [-1, C, H, W] also fills chw (else left as is). */
static uint32_t shape_width(const char *js, const jsmntok_t *t, int spec, uint32_t chw[3])
{
	int shape = json_get(js, t, spec, "shape");
	uint32_t dims[3] = { 0, 0, 0 };
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
		if (i <= 3)
			dims[i - 1] = (uint32_t)d;
	}
	if (chw && t[shape].size == 4 && strtol(js + t[shape + 1].start, NULL, 10) < 0)
		memcpy(chw, dims, sizeof dims);
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
 * names is not NULL); a single tensor spec gives *width, and chw (when not
 * NULL) its [-1, C, H, W].
 */
static int read_signature(const char *where, const char *js, char ***names, uint32_t *nnames,
			  uint32_t *width, uint32_t chw[3], char *err, size_t errlen)
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
			*width = spec < 0 ? 0 : shape_width(js, t, spec, chw);
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

/* ---- a pyfunc wrapper's label map (mlmodel.h; the literal is pylit's) ---- */

/* The names a label map goes by in wrappers people write. */
static const char *const label_names[] = {
	"labels_map", "label_map", "labels", "class_names", "classes", "idx_to_class", "id2label",
	"LABELS_MAP", "LABEL_MAP", "LABELS", "CLASS_NAMES", "CLASSES", "IDX_TO_CLASS", "ID2LABEL",
};
#define NLABEL_NAMES (sizeof label_names / sizeof label_names[0])

static int is_word(char c)
{
	return c == '_' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9');
}

struct code {
	char *path[CODE_MAX_FILES];
	char *text[CODE_MAX_FILES];
	size_t len[CODE_MAX_FILES];
	unsigned n;
};

/* A top-level `NAME = [` / `NAME = {` / `NAME = (` (an annotation between
 * NAME and `=` allowed) at line start t[pos]: the table index of NAME, and
 * *at the offset of the bracket; else -1. */
static int assignment(const char *t, size_t len, size_t pos, size_t *at)
{
	size_t e = pos;
	while (e < len && is_word(t[e]))
		e++;
	int which = -1;
	for (size_t i = 0; i < NLABEL_NAMES; i++)
		if (e - pos == strlen(label_names[i]) && memcmp(t + pos, label_names[i], e - pos) == 0)
			which = (int)i;
	if (which < 0)
		return -1;
	if (e < len && t[e] == ':')   /* NAME: dict[int, str] = {...} */
		while (e < len && t[e] != '=' && t[e] != '\n')
			e++;
	while (e < len && (t[e] == ' ' || t[e] == '\t'))
		e++;
	if (e + 1 >= len || t[e] != '=' || t[e + 1] == '=')
		return -1;
	for (e++; e < len && (t[e] == ' ' || t[e] == '\t'); e++)
		;
	if (e >= len || !strchr("[{(", t[e]))
		return -1;
	*at = e;
	return which;
}

static size_t line_end(const char *t, size_t len, size_t pos)
{
	const char *nl = memchr(t + pos, '\n', len - pos);
	return nl ? (size_t)(nl - t) + 1 : len;
}

/* True when `name[` appears in the body of a `def predict(` of t: the lines
 * after it indented deeper than the def (blank and comment lines go on). */
static int predict_indexes(const char *t, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (size_t pos = 0; pos < len; pos = line_end(t, len, pos)) {
		size_t d = pos;
		while (d < len && (t[d] == ' ' || t[d] == '\t'))
			d++;
		if (len - d < 12 || memcmp(t + d, "def predict", 11) != 0 || !strchr(" \t(", t[d + 11]))
			continue;
		size_t indent = d - pos, body = line_end(t, len, pos), end = body;
		while (end < len) {
			size_t b = end;
			while (b < len && (t[b] == ' ' || t[b] == '\t'))
				b++;
			if (b < len && t[b] != '\n' && t[b] != '\r' && t[b] != '#' && b - end <= indent)
				break;
			end = line_end(t, len, end);
		}
		for (size_t i = body; i + nl < end; i++)
			if (t[i + nl] == '[' && memcmp(t + i, name, nl) == 0 && !is_word(t[i - 1]) && t[i - 1] != '.')
				return 1;
	}
	return 0;
}

static int has_suffix(const char *s, const char *suf);

static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.' && strcmp(e->d_name, "__pycache__") != 0;
}

/* Read the file at path into c, unless it is too large (said in note). */
static void read_py(struct code *c, const char *path, char *note, size_t notelen)
{
	char err[PATH_MAX + 64];
	struct stat st;
	int fd = file_open_regular(AT_FDCWD, path, FILE_NOFOLLOW, &st, err, sizeof err);

	if (fd < 0)
		return;
	if (st.st_size > (off_t)PYLIT_MAX_BYTES) {
		if (!note[0])
			err_set(note, notelen, "%s: larger than %u bytes, not read for labels", path, PYLIT_MAX_BYTES);
		close(fd);
		return;
	}
	char *text = malloc((size_t)st.st_size + 1);
	ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
	close(fd);
	if (got != (ssize_t)st.st_size || !(c->path[c->n] = strdup(path))) {
		free(text);
		return;
	}
	c->text[c->n] = text;
	c->len[c->n++] = (size_t)got;
}

/* The .py files under dir, in name order, CODE_MAX_DEPTH folders down. */
static void collect_py(struct code *c, const char *dir, int depth, char *note, size_t notelen)
{
	struct dirent **e = NULL;
	int n = scandir(dir, &e, skip_entry, alphasort);

	for (int i = 0; i < n; i++) {
		char p[PATH_MAX];
		struct stat st;
		if (c->n < CODE_MAX_FILES && (size_t)snprintf(p, sizeof p, "%s/%s", dir, e[i]->d_name) < sizeof p &&
		    lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode) && depth < CODE_MAX_DEPTH)
				collect_py(c, p, depth + 1, note, notelen);
			else if (S_ISREG(st.st_mode) && has_suffix(p, ".py"))
				read_py(c, p, note, notelen);
		}
		free(e[i]);
	}
	free(e);
}

/* used[i]: some predict() of the code indexes label_names[i]. */
static void indexed(const struct code *c, int *used)
{
	for (size_t i = 0; i < NLABEL_NAMES; i++)
		for (unsigned f = 0; f < c->n && !used[i]; f++)
			used[i] = predict_indexes(c->text[f], c->len[f], label_names[i]);
}

static unsigned line_at(const char *t, size_t pos)
{
	unsigned line = 1;
	for (size_t i = 0; i < pos; i++)
		line += t[i] == '\n';
	return line;
}

/* Fill m->labels from the one label map of the code folder code (relative
 * to dir), or say in m->labels_note why there is none.  Never fails the load:
 * without labels the converter asks for --labels. */
static void wrapper_labels(const char *dir, const char *code, struct mlmodel *m)
{
	struct code *c = calloc(1, sizeof *c);
	char folder[PATH_MAX], err[sizeof m->labels_note];
	unsigned found = 0, file[2] = { 0 };
	size_t at[2] = { 0 };
	int which[2] = { 0 }, used[NLABEL_NAMES] = { 0 };

	if (!c) {
		err_set(m->labels_note, sizeof m->labels_note, "out of memory");
		return;
	}
	if (!code || strstr(code, "..") || code[0] == '/') {
		err_set(m->labels_note, sizeof m->labels_note, "%s/MLmodel names no python_function code folder to "
			 "read a label map from", dir);
		goto out;
	}
	if ((size_t)snprintf(folder, sizeof folder, "%s/%s", dir, code) >= sizeof folder)
		goto out;
	collect_py(c, folder, 0, m->labels_note, sizeof m->labels_note);
	indexed(c, used);
	for (unsigned f = 0; f < c->n; f++)
		for (size_t pos = 0, a; pos < c->len[f]; pos = line_end(c->text[f], c->len[f], pos)) {
			int w = assignment(c->text[f], c->len[f], pos, &a);
			if (w < 0 || !used[w])
				continue;
			if (found < 2) {
				file[found] = f;
				at[found] = a;
				which[found] = w;
			}
			found++;
		}
	if (found == 0) {
		if (!m->labels_note[0])
			err_set(m->labels_note, sizeof m->labels_note, "no label map in %s: no top-level "
				 "`labels_map = {0: '...', ...}` or list (or labels, class_names, classes, ...) "
				 "that predict() indexes", folder);
		goto out;
	}
	if (found > 1) {
		err_set(m->labels_note, sizeof m->labels_note, "more than one label map: %s at %s:%u and %s at %s:%u",
			 label_names[which[0]], c->path[file[0]], line_at(c->text[file[0]], at[0]),
			 label_names[which[1]], c->path[file[1]], line_at(c->text[file[1]], at[1]));
		goto out;
	}
	struct pylit_src src = { c->text[file[0]], c->len[file[0]], c->path[file[0]], label_names[which[0]] };
	if (pylit_labels(&src, at[0], &m->labels, &m->nlabels, err, sizeof err) < 0) {
		err_set(m->labels_note, sizeof m->labels_note, "%s", err);
		goto out;
	}
	m->labels_note[0] = '\0';
	snprintf(m->labels_from, sizeof m->labels_from, "%s:%u", c->path[file[0]], line_at(src.text, at[0]));
out:
	for (unsigned f = 0; f < c->n; f++) {
		free(c->path[f]);
		free(c->text[f]);
	}
	free(c);
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
			if (!m->input_shape[0])   /* the image shape the wrapped model reads */
				memcpy(m->input_shape, inner.input_shape, sizeof m->input_shape);
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
		if (read_signature(where, in, &m->columns, &m->ncolumns, &m->input_width, m->input_shape, err,
				   errlen) < 0)
			goto out;
	}
	if (pt) {
		if (outs) {
			snprintf(where, sizeof where, "%s: signature.outputs", file);
			if (read_signature(where, outs, NULL, NULL, &m->output_width, NULL, err, errlen) < 0)
				goto out;
		}
		rc = pytorch_flavor(dir, file, &doc, pt, m, err, errlen);
	} else {
		/* A wrapper's own outputs are whatever its Python predict() returns. */
		m->pyfunc_wrapper = 1;
		rc = pyfunc_artifacts(dir, file, &doc, ymap_get(&doc, pf, "artifacts"), m, depth, err, errlen);
		if (rc == 0)
			wrapper_labels(dir, yscalar(ymap_get(&doc, pf, "code")), m);
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
	pylit_free_labels(m->labels, m->nlabels);
	m->labels = NULL;
	m->nlabels = 0;
}
