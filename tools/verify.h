/*
 * verify.h - compare a converted model with torch's own answer
 * (pth2blob --verify, scorepoint model create --verify).
 *
 * This is the one place scorepoint runs the user's Python: a python3 that
 * can import torch loads the original file with torch (a whole module's
 * pickle runs the classes it names), runs it on the example inputs, and
 * the blob's ops run on the same inputs here, in process.  Nothing is
 * written by this module but a private mkdtemp() folder under $TMPDIR
 * (rows and answers as float32 files), removed before it returns.  The
 * child is killed after 120 s ($SCOREPOINT_VERIFY_TIMEOUT seconds).
 * docs/verify.md says what the user sees.
 */
#ifndef SCOREPOINT_VERIFY_H
#define SCOREPOINT_VERIFY_H

#include <stddef.h>
#include "model/blob.h"
#include "tools/pth.h"

#define VERIFY_TOLERANCE 1e-4   /* largest |logit difference| that passes */

struct verify_opts {
	const char *python;   /* NULL: $SCOREPOINT_PYTHON, else the first of python3 on PATH
			       * and /usr/bin/python3 that imports torch */
	const char *inputs;   /* NULL, or a request body file score.fcgi accepts (JSON or CSV) */
};

/* What was converted, as the converter read it. */
struct verify_source {
	const char *input;              /* what the user named: a .pth file or an MLflow folder */
	const char *pth_path;           /* the torch.save file that was read */
	const char *example;            /* an MLflow input example file, or NULL */
	const char *const *code_dirs;   /* folders for sys.path (MLflow code/), NULL-terminated, or NULL */
};

/*
 * Run torch and the blob's ops (bm: the model about to be written, its
 * pointers into pm's arrays) on the same rows and compare.  The rows are
 * o->inputs when given, else src->example, else 64 seeded pseudo-random
 * rows in [0, 1) and the all-zero and all-one rows.  Fills out (at,
 * max_diff, rows, argmax_agree, torch_version in a static buffer) and a
 * human-readable summary in report.  Returns
 *    0  within VERIFY_TOLERANCE and every argmax agrees,
 *   -1  a mismatch or a failure of torch's side (err says which, in one line),
 *   -2  no python3 that imports torch (err names what was tried).
 */
int verify_model(const struct verify_source *src, const struct pth_model *pm, const struct blob_model *bm,
		 const struct verify_opts *o, struct blob_verify *out, char *report, size_t reportlen, char *err,
		 size_t errlen);

#endif
