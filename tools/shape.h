/*
 * shape.h - the converter's shape pass: from the input's shape, each op's
 * geometry (struct blob_geom) and flat widths, exactly as torch sizes its
 * outputs; the Flatten and Unflatten markers go.
 */
#ifndef SCOREPOINT_SHAPE_H
#define SCOREPOINT_SHAPE_H

#include <stddef.h>
#include <stdint.h>
#include "tools/pth.h"

/*
 * Resolve m's ops in place.  The input is a flat row whose width the first
 * Linear (or BatchNorm1d) says, until an op needs a C,H,W image: a leading
 * Unflatten gives it, else `given` (C, H, W; zeros: none), else the op is
 * refused asking for --input-shape.  Sets m->input_shape when a shape was
 * used.  Output sizes follow torch: floor((in + 2p - d(k-1) - 1)/s) + 1,
 * with ceil_mode rounding up unless the last window would start past the
 * input and its left padding; padding='same' puts the odd pixel after.
 * 0, or -1 with one line in err naming the op's module path (and, for a
 * mismatch, the one before it).
 */
int shape_resolve(struct pth_model *m, const uint32_t given[3], char *err, size_t errlen);

/* torch's output size of a window k (dilation d, stride s, padding p) over
 * n positions; 0 when the window does not fit. */
uint32_t shape_pool_out(uint32_t n, uint32_t k, uint32_t s, uint32_t p, uint32_t d, int ceil_mode);

#endif
