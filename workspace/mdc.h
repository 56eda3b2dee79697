/*
 * mdc.h - where the data collector's files live under the workspace, and
 * how they are found, opened and pruned (docs/collect.md).  score.fcgi
 * writes them (handler/collect.c), `scorepoint online-deployment get-data`
 * and `replay` read them.
 *
 * The layout is Azure ML's (its blob store's, under the workspace):
 *
 *   DIR/data/modelDataCollector/ENDPOINT/DEPLOYMENT/COLLECTION/YYYY/MM/DD/HH/data.jsonl
 *
 * UTC; rolling_rate minute adds a folder /mm under HH, day stops at DD, so
 * one file holds one period (a minute, an hour or a day) of one collection.
 * Folders are 0700 and files 0600, reached from the workspace's fd one
 * component at a time without following a link (ws_open_file()), and
 * given to the workspace's owner when root makes them.  Only the names
 * above are read or removed; anything else there is left alone.
 */
#ifndef SCOREPOINT_MDC_H
#define SCOREPOINT_MDC_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "workspace/name.h"
#include "workspace/ws.h"

#define MDC_DATA_DIR "data"                 /* DIR/data: all that is collected */
#define MDC_ROOT "modelDataCollector"       /* Azure's folder name */
#define MDC_FILE "data.jsonl"
#define MDC_PATH_MAX 160                    /* a relative path, NUL included */

enum mdc_collection { MDC_MODEL_INPUTS = 0, MDC_MODEL_OUTPUTS = 1, MDC_NCOLLECTIONS };

/* "model_inputs" or "model_outputs" (NULL for another value), and back
 * (-1 for another name). */
const char *mdc_collection_name(int collection);
int mdc_collection(const char *name);

/* One file of one period of one collection. */
struct mdc_file {
	char endpoint[NAME_MAX_LEN + 1], deployment[NAME_MAX_LEN + 1];
	int collection;               /* enum mdc_collection */
	int rolling;                  /* enum ws_rolling: the length of its period */
	time_t start;                 /* UTC start of its period */
	off_t bytes;                  /* when it was listed (mdc_list), else 0 */
	char path[MDC_PATH_MAX];      /* relative to DIR, as the layout above */
};

/* The start of the period (enum ws_rolling) holding t, and the end
 * (exclusive) of the one starting at start. */
time_t mdc_period_start(time_t t, int rolling);
time_t mdc_period_end(time_t start, int rolling);

/*
 * f for endpoint, deployment and collection at time t under rolling
 * (f->path filled, f->bytes 0).  0, or -1 when a name is not a valid
 * endpoint or deployment name (name_valid) or the collection unknown.
 */
int mdc_file_at(struct mdc_file *f, const char *endpoint, const char *deployment, int collection, int rolling,
		time_t t);

/* f's file, opened for appending (its folders and the file made as the
 * header says when missing) or for reading: ws_open_file()'s fd, or -1
 * with err. */
int mdc_open(const struct ws *w, const struct mdc_file *f, int append, char *err, size_t errlen);

/*
 * Every data.jsonl under DIR/data/modelDataCollector of endpoint,
 * deployment and collection (NULL, NULL, -1: any) whose period overlaps
 * [from, to), oldest first (then by path), each given to fn(arg, f) with
 * its size; fn returns nonzero to stop (mdc_list then returns that value).
 * No data yet is no file, not an error.  0, or -1 with err (a folder that
 * could not be read, out of memory).
 */
typedef int mdc_each_fn(void *arg, const struct mdc_file *f);
int mdc_list(const struct ws *w, const char *endpoint, const char *deployment, int collection, time_t from,
	     time_t to, mdc_each_fn *fn, void *arg, char *err, size_t errlen);

/*
 * Remove whole periods, oldest first across every endpoint, deployment and
 * collection, while the data.jsonl files under DIR/data/modelDataCollector
 * hold more than max_bytes together; a period that has not ended at `now`
 * is never removed (its file may be open for appending), so the total can
 * stay above max_bytes by the current periods' files.  Folders emptied
 * are removed too.  The bytes left (as listed), or -1 with err.
 */
long long mdc_prune(const struct ws *w, unsigned long long max_bytes, time_t now, char *err, size_t errlen);

/*
 * A UTC time as get-data's --from and --to take it: YYYY-MM-DD,
 * YYYY-MM-DDTHH or YYYY-MM-DDTHH:MM, a trailing Z allowed.  *out is the
 * start of that day, hour or minute, or its end (exclusive) when `end`,
 * so that --to names the last period included.  0, or -1.
 */
int mdc_parse_time(const char *s, int end, time_t *out);

#endif
