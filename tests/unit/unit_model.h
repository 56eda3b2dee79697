/*
 * unit_model.h - the tutorial's input as the decoder and handler tests
 * describe it without a blob: 784 columns named "col_0" to "col_783", as
 * pth2blob names a Flatten model's pixels.  Include after unit.h.
 */
#ifndef SCOREPOINT_UNIT_MODEL_H
#define SCOREPOINT_UNIT_MODEL_H

#include "model/blob.h"

static char unit_names784[784][16];
static const char *unit_cols784[784];

/* m: 784 inputs with those names (the rest of m as the caller left it). */
static void unit_model784(struct blob_model *m)
{
	for (int i = 0; i < 784; i++) {
		snprintf(unit_names784[i], sizeof unit_names784[i], "col_%d", i);
		unit_cols784[i] = unit_names784[i];
	}
	m->input_width = 784;
	m->ncolumns = 784;
	m->columns = unit_cols784;
}

#endif
