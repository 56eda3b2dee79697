/*
 * convert.h - one model file or MLflow directory in, one blob out.  Shared
 * by pth2blob and the scorepoint CLI's `model create`.
 */
#ifndef SCOREPOINT_CONVERT_H
#define SCOREPOINT_CONVERT_H

#include <stddef.h>
#include <stdint.h>
#include "model/blob.h"

struct convert_opts {
	const char *name;       /* NULL: INPUT's base name without extension */
	const char *version;    /* NULL: "1" */
	const char *labels;     /* NULL, a file with one label per line, or "a,b,..." */
	const char *arch;       /* NULL, or the --arch grammar of tools/arch.h: a state_dict's
				 * layers and ops, or a whole module's execution order */
	int postprocess;        /* enum blob_post, or -1 for the default */
	uint32_t input_shape[3];   /* --input-shape C,H,W, or zeros (then an MLflow
				    * signature's [-1, C, H, W], if any) */
	int assume_order;       /* --assume-registration-order */
	int verify;             /* --verify: compare with torch (tools/verify.h) before writing */
	const char *verify_input;  /* --verify-input FILE: the rows to compare on, or NULL */
};

/* Parse "C,H,W" (each 1..65535) into shape; 0, or -1 with one line in err. */
int convert_parse_shape(const char *s, uint32_t shape[3], char *err, size_t errlen);

/*
 * Convert `input` (a torch.save file, an MLflow pytorch directory or an
 * MLflow pyfunc wrapper directory) into the blob `output`, written
 * atomically.  Assumptions and warnings go to notes, one per line (and,
 * with o->verify, the comparison with torch).  Returns 0, or -1 with one
 * message in err and no output file written.
 */
int convert_model(const char *input, const char *output, const struct convert_opts *o,
		  char *notes, size_t notes_len, char *err, size_t errlen);

/* The same, the blob written as the file `out` of the folder dirfd
 * (blob_writeat()); `shown` names it in err. */
int convert_model_at(const char *input, int dirfd, const char *out, const char *shown,
		     const struct convert_opts *o, char *notes, size_t notes_len, char *err, size_t errlen);

#endif
