/*
 * mlmodel.h - read an MLflow model directory: its MLmodel file (YAML, with
 * libyaml), the torch.save file it points at, and its signature.
 */
#ifndef SCOREPOINT_MLMODEL_H
#define SCOREPOINT_MLMODEL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define MLMODEL_MAX_BYTES (4u << 20)    /* an MLmodel larger than this is refused */

struct mlmodel {
	char model_path[PATH_MAX];   /* the torch.save file to convert */
	int pyfunc_wrapper;          /* 1: python_function-only, model under artifacts/ */
	char **columns;              /* input ColSpec names in order, or NULL */
	uint32_t ncolumns;
	uint32_t input_width;        /* from an input TensorSpec, 0 when unknown */
	uint32_t input_shape[3];     /* C, H, W of an input TensorSpec [-1, C, H, W]; zeros otherwise */
	uint32_t output_width;       /* from the output TensorSpec, 0 when unknown */
	/*
	 * A pyfunc wrapper's label map, read as a Python literal (tools/pylit.h,
	 * nothing is executed) from the .py files of its python_function code
	 * folder: the one top-level `NAME = {0: '...', ...}` or `NAME = [...]`
	 * (NAME from a small table: labels_map, labels, class_names, classes...)
	 * that a `def predict` body indexes (`NAME[`).  nlabels 0 when there is
	 * none, more than one, or it is not such a literal; labels_note then
	 * says why in one line (empty for a plain pytorch model).  At most 64
	 * .py files are read, two folders deep, none larger than 1 MiB, none
	 * through a symbolic link; the model's load never fails for this.
	 */
	char **labels;               /* labels[i] for output i, UTF-8, or NULL */
	uint32_t nlabels;
	char labels_from[PATH_MAX];  /* "DIR/code/model_wrapper.py:10" when nlabels */
	char labels_note[512];       /* why nlabels is 0 for a pyfunc wrapper */
};

/*
 * Read the MLflow model directory `dir`.  Follows flavors.pytorch.model_data
 * (a directory holding model.pth, or a file), or for a pyfunc wrapper the
 * first artifacts entry that is a .pth/.pt file or an MLflow pytorch model
 * directory.  Returns 0, or -1 with one line in err naming the file, the
 * line where there is one, and what is wrong.  Free with mlmodel_free().
 */
int mlmodel_load(const char *dir, struct mlmodel *m, char *err, size_t errlen);
/* The same with the MLmodel file's text[0, len) given in memory (dir still
 * anchors model_data and artifacts, which are read from disk); for tests
 * and fuzzing.  text NULL: read DIR/MLmodel. */
int mlmodel_load_mem(const char *dir, const void *text, size_t len, struct mlmodel *m, char *err,
		     size_t errlen);
void mlmodel_free(struct mlmodel *m);

/* True when `path` is a directory with an entry MLmodel that is not a
 * directory (a FIFO there counts: opening it then says what it is). */
int mlmodel_is_dir(const char *path);

#endif
