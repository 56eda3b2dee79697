/*
 * ws.h - the workspace: registered models, endpoints, deployments, traffic,
 * keys and token secrets, in one directory (docs/workspace.md).
 *
 * Everything served lives in ONE file, DIR/state.yaml (mode 0600), which
 * is only ever replaced whole by rename().  So:
 *
 *  - a reader (score.fcgi) takes no lock: ws_load() sees the state before a
 *    change or after it, never half of one, and a multi-part change
 *    (delete a deployment and its traffic) is one step;
 *  - writers (the scorepoint CLI) serialise on flock(DIR/.lock) around
 *    load-modify-write (ws_begin .. ws_commit), so no change is lost;
 *  - model blobs live under DIR/models/NAME/VERSION/model.blob, written
 *    completely before the state that names them is committed, and never
 *    changed while registered.
 *
 * Nothing inside DIR is followed.  DIR is opened once per snapshot
 * (w->dirfd) and every file under it is reached from there with openat()
 * and O_NOFOLLOW, one component at a time: a symbolic link, a FIFO or a
 * device where the workspace keeps a file or folder is refused in one line
 * (reading never blocks), never followed, by a reader or a writer alike.
 * Clean-ups remove only the names the workspace writes, as regular files
 * in real folders; anything else there stays, and so does its folder.
 *
 * Who may use DIR (as ssh does for its keys): DIR and state.yaml must be
 * owned by the user running, and writable by nobody else (no group or
 * other write bit); the refusal gives the chmod or chown to run.  Root may
 * also READ a workspace another user owns (score.fcgi started as root for
 * a service account's workspace: ws_load()); then every file read must
 * belong to that owner, and what it creates (DIR/logs) is given to them.
 * A writer (ws_begin()) must be the owner, root included: files root
 * wrote there would be root's 0600 files the service can no longer read.
 *
 * Reload rule for a server: keep the struct ws_stamp of the snapshot
 * (w->stamp, taken from the very file ws_load() read); before a request,
 * or every so often, ws_stat() the directory and ws_stamp_equal() the two;
 * when they differ, ws_load() a new snapshot, switch to it, ws_free() the
 * old one.  A rename always gives the state file a new inode, and the
 * stamp also compares size and modification/change times.
 */
#ifndef SCOREPOINT_WS_H
#define SCOREPOINT_WS_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "workspace/traffic.h"
#include "workspace/ws_node.h"

#define WS_ENV_DIR "SCOREPOINT_WORKSPACE"
#define WS_STATE_FILE "state.yaml"
#define WS_LOCK_FILE ".lock"
#define WS_LOG_FILE "logs/requests.log"
#define WS_STATE_MAX_BYTES ((size_t)16 << 20)
#define WS_FORMAT 1

#define WS_MAX_MODELS 10000
#define WS_MAX_ENDPOINTS 1000
#define WS_MAX_DEPLOYMENTS TRAFFIC_MAX   /* per endpoint */
#define WS_MAX_ENV 256                   /* environment_variables per deployment */
#define WS_VERSION_MAX 32                /* characters of a model version */

#define WS_DEFAULT_HOST "127.0.0.1"
#define WS_DEFAULT_PORT 8080
#define WS_DEFAULT_TIMEOUT_MS 5000
#define WS_MAX_TIMEOUT_MS 180000

enum ws_auth { WS_AUTH_KEY = 0, WS_AUTH_AML_TOKEN = 1 };

/* data_collector.rolling_rate: a collected file per minute, hour or day
 * (workspace/mdc.h, docs/collect.md). */
enum ws_rolling { WS_ROLL_MINUTE = 0, WS_ROLL_HOUR = 1, WS_ROLL_DAY = 2 };

/* Every const char * below points into the snapshot (w->root or memory
 * owned by w) and lives until ws_free(w). */

struct ws_env {
	const char *name;     /* [A-Za-z_][A-Za-z0-9_]* */
	const char *value;
};

struct ws_model {
	const char *name, *version;
	const char *type;          /* "mlflow_model" or "custom_model" */
	const char *path;          /* the source it was converted from, as given */
	const char *created;       /* "2026-01-02T03:04:05Z" */
	const char *blob;          /* absolute: DIR/models/NAME/VERSION/model.blob */
	int postprocess;           /* enum blob_post */
	unsigned inputs, outputs;  /* the blob's input and output widths */
	const struct ws_node *node;
};

struct ws_deployment {
	const char *name;
	const char *endpoint_name;
	const char *model_name, *model_version;   /* resolved when it was created */
	const char *blob;                         /* absolute path of the model's blob */
	const struct ws_model *model;
	unsigned request_timeout_ms;              /* 1..180000, default 5000 */
	unsigned max_concurrent_requests_per_instance;   /* default 1 */
	unsigned max_queue_wait_ms;               /* deprecated by Azure; default 500 */
	unsigned instance_count;                  /* default 1 */
	/* data_collector (docs/collect.md): collections.model_inputs.enabled,
	 * collections.model_outputs.enabled (default off), sampling_rate
	 * (0..1, default 1) and rolling_rate (enum ws_rolling, default hour). */
	int collect_inputs, collect_outputs;
	double sampling_rate;
	int rolling_rate;
	size_t nenv;
	const struct ws_env *env;                 /* environment_variables */
	const struct ws_node *node;               /* the record in w->root */
};

struct ws_endpoint {
	const char *name;
	int auth_mode;                /* enum ws_auth */
	/* Base64url text of 256 random bits each (workspace/auth.h).  Keys answer
	 * in key mode; token_secret signs and verifies aml_token tokens. */
	const char *primary_key, *secondary_key, *token_secret;
	struct traffic traffic;       /* live: sums to 0 or 100; names existing deployments */
	struct traffic mirror;        /* at most one entry above 0, <= 50, not one with live traffic */
	size_t ndeployments;
	struct ws_deployment *deployments;
	const struct ws_node *node;
};

/* What ws_stat() compares: a new state file always differs. */
struct ws_stamp {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

/* A consistent snapshot of the workspace. */
struct ws {
	char *dir;                 /* absolute */
	/* DIR itself, opened by ws_load() (O_PATH, its own last component not
	 * followed either) and closed by ws_free(); -1 when DIR did not exist.
	 * Borrowed by every ws_open_*() below; moves to the new snapshot on
	 * ws_commit(). */
	int dirfd;
	uid_t owner;               /* DIR's owner (see "Who may use DIR") */
	char host[256];            /* config.host: scoring_uri's host */
	unsigned port;             /* config.port */
	size_t nmodels;
	struct ws_model *models;
	size_t nendpoints;
	struct ws_endpoint *endpoints;
	struct ws_stamp stamp;     /* of the file this snapshot was read from */
	struct ws_node *root;      /* the whole state file as a tree */
};

/*
 * The workspace directory: `given` when not NULL, else $SCOREPOINT_WORKSPACE,
 * else ${XDG_DATA_HOME:-$HOME/.local/share}/scorepoint.  Writes it into
 * out[len]; 0, or -1 with err (no HOME, too long).
 */
int ws_dir(const char *given, char *out, size_t len, char *err, size_t errlen);

/*
 * Read a consistent snapshot of DIR into w.  A missing directory or state
 * file is an empty workspace (no models, no endpoints), not an error, so a
 * server may start before the first endpoint exists.  Every rule of
 * docs/workspace.md is checked (names, secrets, traffic sums, deployments
 * naming registered models); a state file that breaks one is refused.
 * Refused too: DIR or state.yaml owned by another user or writable by
 * group or others (above), a state.yaml that is a link, a FIFO or anything
 * but a regular file.  Returns 0, or -1 with one line in err naming the
 * file (and line); w is then empty and needs no ws_free().  Takes no lock.
 */
int ws_load(const char *dir, struct ws *w, char *err, size_t errlen);
void ws_free(struct ws *w);

/* The endpoint named name[0, len), or NULL.  len need not be NUL-bounded. */
const struct ws_endpoint *ws_endpoint(const struct ws *w, const char *name, size_t len);
/* The deployment named name[0, len) of e, or NULL. */
const struct ws_deployment *ws_deployment(const struct ws_endpoint *e, const char *name, size_t len);
/* The model name:version, or NULL. */
const struct ws_model *ws_model(const struct ws *w, const char *name, const char *version);

/* Stamp the state file of DIR now (exists = 0 when there is none), not
 * following a link.  0, or -1 when lstat fails for another reason than
 * ENOENT. */
int ws_stat(const char *dir, struct ws_stamp *st);
int ws_stamp_equal(const struct ws_stamp *a, const struct ws_stamp *b);

/* DIR/logs/requests.log into out[len] (0, or -1 when too long), to show.
 * The handler appends one JSON object per line there. */
int ws_path_log(const char *dir, char *out, size_t len);

/*
 * The request log, reached from w->dirfd as above: for appending (append
 * 1: created 0640, and DIR/logs 0700, when missing, and given to w->owner
 * when root creates them), or for reading (append 0: -1 with errno ENOENT
 * when there is none).  A log or DIR/logs owned by another user than
 * w->owner or writable by group or others is refused, as DIR is.  The fd
 * (the caller's), or -1 with one line in err.
 */
int ws_open_log(const struct ws *w, int append, char *err, size_t errlen);

/*
 * The regular file DIR/parts[0]/.../parts[n - 1], reached as the log is
 * (each folder opened from the one before, O_NOFOLLOW, a link or a FIFO
 * refused in one line): for appending (append 1: the missing folders made
 * 0700 and the file created with `mode`, each given to w->owner when root
 * makes them), or for reading (append 0: -1 with errno ENOENT when it is
 * not there).  A file owned by another user than w->owner, or writable by
 * group or others, is refused.  The fd (the caller's), or -1 with err.
 */
int ws_open_file(const struct ws *w, const char *const *parts, size_t n, int append, mode_t mode, char *err,
		 size_t errlen);

/* A listing (for readdir) of the folder at/name, where at is a folder of
 * the workspace opened without following links; name is not followed
 * either.  NULL, with errno, when it is not a folder or cannot be read. */
DIR *ws_listdir(int at, const char *name);

/* DIR/models/NAME/VERSION into out[len]; 0 or -1 when too long. */
int ws_path_model(const char *dir, const char *name, const char *version, char *out, size_t len);

/*
 * The folder DIR/models/NAME/VERSION as an O_PATH fd (the caller's), each
 * component opened from the one before, O_NOFOLLOW; the missing ones made
 * 0700 when create.  -1 with one line in err (naming a link or non-folder
 * met on the way).
 */
int ws_open_model_dir(const struct ws *w, const char *name, const char *version, int create, char *err,
		      size_t errlen);

/* m's model.blob, opened read-only from ws_open_model_dir() with
 * file_open_regular(FILE_NOFOLLOW) and owned by w->owner: the fd (the
 * caller's: blob_map_fd() takes it), or -1 with err naming m->blob. */
int ws_open_blob(const struct ws *w, const struct ws_model *m, char *err, size_t errlen);

/*
 * Remove what `model create` writes in DIR/models/NAME/VERSION (model.blob,
 * MLmodel and their temporaries NAME.tmpXXXXXX, as regular files), then
 * that folder, NAME and DIR/models when that left them empty.  Anything
 * else (a link, an unknown file, a subfolder) stays, and so do the folders
 * holding it; nothing is followed.  Best effort.
 */
void ws_remove_model(const struct ws *w, const char *name, const char *version);

/* ---- changes (the CLI) ---- */

/* A change in progress: the lock is held and w is the state under it. */
struct ws_txn {
	int lock_fd;   /* DIR/.lock, opened from w.dirfd; closed (unlocked) by ws_commit() or ws_end() */
	struct ws w;
};

/*
 * Create DIR (0700, with missing parents 0700) when it does not exist,
 * refuse it as ws_load() does (and, root too, when it is another user's),
 * take flock(LOCK_EX) on DIR/.lock (0600), and load the state into t->w.
 * What a writer killed before its commit left behind goes first: the
 * state's temporary files, and DIR/models/NAME/VERSION folders of models
 * that are not registered.  Returns 0, or -1 with err and nothing held.
 */
int ws_begin(const char *dir, struct ws_txn *t, char *err, size_t errlen);

/*
 * Commit t->w.root, as edited by the caller, as the new state: it is
 * written to YAML, read back and checked exactly as ws_load() would (so
 * nothing a server would refuse is ever written), then written atomically
 * (temporary 0600 file, fsync, rename, fsync of DIR).  On success t->w is
 * the new snapshot.  Either way the lock is released and t must then
 * only be given to ws_end().  0, or -1 with err and the old state intact.
 */
int ws_commit(struct ws_txn *t, char *err, size_t errlen);

/* Release the lock (if still held) and free t->w. */
void ws_end(struct ws_txn *t);

/* The state tree's sequence "models" or "endpoints", created if absent
 * (NULL: no memory); a record's "deployments" likewise. */
struct ws_node *ws_seq(struct ws_node *map, const char *key);

/* Index in seq of the map whose "name" is name, or -1. */
long ws_find(const struct ws_node *seq, const char *name);

#endif
