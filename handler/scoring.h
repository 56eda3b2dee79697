/*
 * scoring.h - what a scoring route leaves behind for the work done after
 * the answer (app_after): the data collector and the shadow comparison of
 * a mirror copy.  Internal to handler/, like call.h.
 */
#ifndef SCOREPOINT_SCORING_H
#define SCOREPOINT_SCORING_H

#include <stddef.h>

/* One request scored with status 200: the answer of /score or
 * /invocations (scoring_score), or a mirror copy (scoring_replay). */
struct scoring_answer {
	const float *x;       /* the decoded rows, rows x in_width */
	const float *y;       /* the output values, rows x out_width, post-processed as the
				 deployment answers: probabilities when its postprocess is
				 "probabilities", else its scores (logits) */
	size_t rows, in_width, out_width;
	int top_k;            /* params.top_k as the request gave it, or 0 */
};

/*
 * The last request of this process scored 200 since the current one began
 * (app.c forgets it at the start of each request), or NULL.  x and y live
 * in the per-process decoding and forward-pass buffers: valid until the
 * next decode or forward pass, so in app_after() until the mirror copy
 * runs, which then leaves its own.
 */
const struct scoring_answer *scoring_answered(void);

/* Forget it: called as each request begins. */
void scoring_forget(void);

#endif
