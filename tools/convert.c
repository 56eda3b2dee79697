/*
 * convert.c - input detection, signature checks, labels, input shape,
 * --verify and digest around pth_load_opts() and blob_write().
 */
#include "tools/convert.h"
#include "tools/mlmodel.h"
#include "tools/pth.h"
#include "tools/verify.h"
#include "model/err.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LABELS_MAX_BYTES (1u << 20)
#define SHAPE_MAX_DIM 65535

static void free_strings(char **v, uint32_t n)
{
	for (uint32_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* The text of a labels file, or a copy of a comma list; *sep says which.
 * A name that exists is a file, and must be a regular one (never waited on). */
static char *labels_text(const char *arg, char *sep, char *err, size_t errlen)
{
	char why[PATH_MAX + 128], *text = NULL;
	struct stat st;
	FILE *f = NULL;

	*sep = ',';
	if (stat(arg, &st) < 0)
		return strdup(arg);
	*sep = '\n';
	int fd = file_open_regular(AT_FDCWD, arg, 0, &st, why, sizeof why);
	if (fd < 0) {
		err_set(err, errlen, "--labels %s", why);
		return NULL;
	}
	if (st.st_size > (off_t)LABELS_MAX_BYTES) {
		err_set(err, errlen, "%s: labels file larger than 1 MiB", arg);
		close(fd);
		return NULL;
	}
	if (!(f = fdopen(fd, "rb")))
		close(fd);
	text = f ? calloc(1, (size_t)st.st_size + 1) : NULL;
	if (!text || fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		err_set(err, errlen, "%s: %s", arg, errno ? strerror(errno) : "cannot read");
		free(text);
		text = NULL;
	}
	if (f)
		fclose(f);
	return text;
}

/* Split a labels argument into a malloc'd array of *n strings. */
static char **read_labels(const char *arg, uint32_t *n, char *err, size_t errlen)
{
	char sep, *save = NULL;
	char *text = labels_text(arg, &sep, err, errlen);
	char **v = NULL;
	uint32_t k = 0;

	if (!text)
		return NULL;
	size_t cap = 1;
	for (char *p = text; *p; p++)
		cap += *p == sep;
	v = calloc(cap, sizeof *v);
	const char *seps = sep == '\n' ? "\r\n" : ",";
	for (char *tok = strtok_r(text, seps, &save); v && tok; tok = strtok_r(NULL, seps, &save)) {
		if (strlen(tok) > BLOB_MAX_STRING || k >= BLOB_MAX_LABELS) {
			err_set(err, errlen, "--labels %s: a label is longer than %d bytes or there are too many",
			     arg, BLOB_MAX_STRING);
			goto bad;
		}
		if (!(v[k] = strdup(tok)))
			goto bad;
		k++;
	}
	free(text);
	if (!v || k == 0) {
		err_set(err, errlen, "--labels %s: no labels found", arg);
		free(v);
		return NULL;
	}
	*n = k;
	return v;
bad:
	free_strings(v, k);
	free(text);
	return NULL;
}

static int sha256_file(const char *path, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[1 << 16];
	unsigned int mdlen = 0;
	size_t n;
	char why[PATH_MAX + 128];
	int fd = file_open_regular(AT_FDCWD, path, 0, NULL, why, sizeof why);
	FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (fd >= 0 && !f)
		close(fd);
	if (!f || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	if (ferror(f) || !EVP_DigestFinal_ex(ctx, md, &mdlen) || outlen < 8 + 2 * (size_t)mdlen)
		goto out;
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The model name from the input path: base name without its extension. */
static void default_name(const char *input, char *out, size_t len)
{
	size_t n = strlen(input);
	while (n > 1 && input[n - 1] == '/')
		n--;
	size_t start = n;
	while (start > 0 && input[start - 1] != '/')
		start--;
	size_t k = n - start < len ? n - start : len - 1;
	memcpy(out, input + start, k);
	out[k] = '\0';
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = '\0';
}

/* Every refusal names the file it is about, once. */
static void prefix_path(const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path);
	if (strncmp(err, path, n) == 0 && err[n] == ':')
		return;
	char *copy = strdup(err);
	if (copy) {
		snprintf(err, errlen, "%s: %s", path, copy);
		free(copy);
	}
}

/* The signature, where there is one, must describe the model found. */
static int check_signature(const char *input, const struct mlmodel *ml, const struct blob_model *bm,
			   char *err, size_t errlen)
{
	if (ml->ncolumns && ml->ncolumns != bm->input_width)
		return err_set(err, errlen, "%s: the signature lists %u input columns but the model reads %u",
			    input, ml->ncolumns, bm->input_width);
	if (ml->input_width && ml->input_width != bm->input_width)
		return err_set(err, errlen, "%s: the signature's input tensor has %u values per row but the model reads %u",
			    input, ml->input_width, bm->input_width);
	if (ml->output_width && ml->output_width != bm->output_width)
		return err_set(err, errlen, "%s: the signature's output has %u values per row but the model gives %u",
			    input, ml->output_width, bm->output_width);
	return 0;
}

int convert_parse_shape(const char *s, uint32_t shape[3], char *err, size_t errlen)
{
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		char *end;
		unsigned long v;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v < 1 || v > SHAPE_MAX_DIM || *end != (i < 2 ? ',' : '\0'))
			break;
		shape[i] = (uint32_t)v;
		p = end + 1;
		if (i == 2)
			return 0;
	}
	memset(shape, 0, 3 * sizeof *shape);
	return err_set(err, errlen, "--input-shape %s: give C,H,W, three whole numbers 1 to %d (e.g. 1,28,28)", s,
		       SHAPE_MAX_DIM);
}

/* The input shape to read the model with: --input-shape, else the
 * signature's; they must agree when both are given. */
static int input_shape(const char *input, const struct mlmodel *ml, const struct convert_opts *o, int mlflow,
		       uint32_t shape[3], char *err, size_t errlen)
{
	uint32_t sig[3] = { 0, 0, 0 };

	memcpy(shape, o->input_shape, 3 * sizeof *shape);
	if (mlflow)
		memcpy(sig, ml->input_shape, sizeof sig);
	if (sig[0] && shape[0] && memcmp(sig, shape, sizeof sig) != 0)
		return err_set(err, errlen, "%s: --input-shape %u,%u,%u but the signature's input tensor is "
			       "[-1, %u, %u, %u]", input, shape[0], shape[1], shape[2], sig[0], sig[1], sig[2]);
	if (!shape[0])
		memcpy(shape, sig, sizeof sig);
	return 0;
}

/* Compare the model about to be written with torch's own answer. */
static int verify(const char *input, const char *pth_path, int mlflow, const struct pth_model *pm,
		  struct blob_model *bm, const struct convert_opts *o, char *notes, size_t notes_len, char *err,
		  size_t errlen)
{
	char example[PATH_MAX], code[PATH_MAX], report[1024];
	const char *dirs[2] = { NULL, NULL };
	struct verify_opts vo = { .inputs = o->verify_input };
	struct verify_source src = { .input = input, .pth_path = pth_path, .code_dirs = dirs };
	struct stat st;

	if (mlflow && (size_t)snprintf(example, sizeof example, "%s/input_example.json", input) < sizeof example &&
	    stat(example, &st) == 0 && S_ISREG(st.st_mode))
		src.example = example;
	if (mlflow && (size_t)snprintf(code, sizeof code, "%s/code", input) < sizeof code && stat(code, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		dirs[0] = code;
	report[0] = '\0';
	if (verify_model(&src, pm, bm, &vo, &bm->verify, report, sizeof report, err, errlen) != 0)
		return -1;
	bm->flags |= BLOB_MODEL_VERIFIED;
	size_t n = strlen(notes);
	if (report[0] && n + 1 < notes_len)
		snprintf(notes + n, notes_len - n, "%s%s", n ? "\n" : "", report);
	return 0;
}

/* A pyfunc wrapper without --labels: its own label map, or a refusal
 * that says which flags to pass. */
static int wrapper_labels(const char *input, const struct mlmodel *ml, const struct convert_opts *o,
			  struct blob_model *bm, char *notes, size_t notes_len, char *err, size_t errlen)
{
	size_t n = strlen(notes);

	if (ml->nlabels) {
		if (ml->nlabels != bm->output_width)
			return err_set(err, errlen, "%s: the wrapper's label map (%s) has %u labels but the model "
				       "has %u outputs: pass --labels FILE|\"a,b,...\"", input, ml->labels_from,
				       ml->nlabels, bm->output_width);
		bm->nlabels = ml->nlabels;
		bm->labels = (const char **)ml->labels;
		if (n + 1 < notes_len)
			snprintf(notes + n, notes_len - n, "%slabels from %s", n ? "\n" : "", ml->labels_from);
		return 0;
	}
	if (o->postprocess >= 0)
		return 0;
	return err_set(err, errlen,
		       "%s is an MLflow pyfunc wrapper: its predict() lives in python_model.pkl and is "
		       "Python, which scorepoint cannot run%s%s. The PyTorch model it wraps (%s) can be served: "
		       "say what the wrapper returns with --postprocess logits|probabilities|labels and, "
		       "for labels, --labels FILE|\"a,b,...\"", input, ml->labels_note[0] ? "; " : "",
		       ml->labels_note, ml->model_path);
}

int convert_model(const char *input, const char *output, const struct convert_opts *o,
		  char *notes, size_t notes_len, char *err, size_t errlen)
{
	return convert_model_at(input, -1, output, output, o, notes, notes_len, err, errlen);
}

/* dirfd -1: out is the output's path. */
int convert_model_at(const char *input, int dirfd, const char *out, const char *shown,
		     const struct convert_opts *o, char *notes, size_t notes_len, char *err, size_t errlen)
{
	char digest[80], name[256];
	struct mlmodel ml;
	struct pth_model pm;
	struct blob_model bm;
	struct stat st;
	struct pth_opts po = { .arch = o->arch, .assume_order = o->assume_order };
	char **labels = NULL;
	uint32_t nlabels = 0;
	const char *pth_path = input;
	int rc = -1, have_pm = 0, mlflow = 0;

	memset(&ml, 0, sizeof ml);
	memset(&bm, 0, sizeof bm);
	if (notes_len)
		notes[0] = '\0';
	if (mlmodel_is_dir(input)) {
		if (mlmodel_load(input, &ml, err, errlen) < 0)
			goto out;
		pth_path = ml.model_path;
		mlflow = 1;
	} else if (stat(input, &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, errlen, "%s: a directory without an MLmodel file", input);
		goto out;
	}
	if (input_shape(input, &ml, o, mlflow, po.input_shape, err, errlen) < 0)
		goto out;
	if (pth_load_opts(pth_path, &po, &pm, err, errlen) < 0) {
		prefix_path(pth_path, err, errlen);
		goto out;
	}
	have_pm = 1;
	if (notes_len)
		snprintf(notes, notes_len, "%s", pm.notes);

	bm.nops = pm.nops;
	for (uint32_t i = 0; i < pm.nops; i++) {
		const struct pth_op *p = &pm.ops[i];
		bm.ops[i] = (struct blob_op){ .kind = p->kind, .in = p->in, .out = p->out, .param = p->param,
					      .weight = p->weight, .bias = p->bias, .g = p->g };
	}
	bm.input_width = pm.ops[0].in;
	bm.output_width = pm.ops[pm.nops - 1].out;
	memcpy(bm.input_shape, pm.input_shape, sizeof bm.input_shape);
	bm.flags = pm.assumed_order ? BLOB_MODEL_ASSUMED_ORDER : 0;
	if (check_signature(input, &ml, &bm, err, errlen) < 0)
		goto out;
	bm.ncolumns = ml.ncolumns;
	bm.columns = (const char **)ml.columns;
	if (o->labels) {
		if (!(labels = read_labels(o->labels, &nlabels, err, errlen)))
			goto out;
		if (nlabels != bm.output_width) {
			err_set(err, errlen, "--labels gives %u labels but the model has %u outputs",
			     nlabels, bm.output_width);
			goto out;
		}
		bm.nlabels = nlabels;
		bm.labels = (const char **)labels;
	} else if (ml.pyfunc_wrapper && wrapper_labels(input, &ml, o, &bm, notes, notes_len, err, errlen) < 0) {
		goto out;
	}
	/* The tutorial's wrapper returns label names; a plain model, logits. */
	bm.postprocess = o->postprocess >= 0 ? (uint32_t)o->postprocess :
			 (ml.pyfunc_wrapper && bm.nlabels) ? BLOB_POST_LABELS : BLOB_POST_LOGITS;
	if (bm.postprocess == BLOB_POST_LABELS && !bm.nlabels) {
		err_set(err, errlen, "--postprocess labels needs --labels FILE|\"a,b,...\"");
		goto out;
	}
	if (sha256_file(pth_path, digest, sizeof digest) < 0) {
		err_set(err, errlen, "%s: cannot read it for its digest", pth_path);
		goto out;
	}
	default_name(input, name, sizeof name);
	bm.name = o->name ? o->name : name;
	bm.version = o->version ? o->version : "1";
	bm.source_digest = digest;
	if (o->verify && verify(input, pth_path, mlflow, &pm, &bm, o, notes, notes_len, err, errlen) < 0)
		goto out;
	rc = dirfd < 0 ? blob_write(out, &bm, err, errlen) : blob_writeat(dirfd, out, shown, &bm, err, errlen);
out:
	if (have_pm)
		pth_free(&pm);
	mlmodel_free(&ml);
	free_strings(labels, nlabels);
	return rc;
}
