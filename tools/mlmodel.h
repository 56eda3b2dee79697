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
	uint32_t output_width;       /* from the output TensorSpec, 0 when unknown */
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
