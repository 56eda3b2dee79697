/*
 * ws_spec.h - the typed key tables of Azure ML's managedOnlineEndpoint and
 * managedOnlineDeployment files (and of the workspace's own records): one
 * table per kind says every key, its type, bounds and default.  The same
 * check runs on a user's file, on `--set KEY=VALUE` and on every record of
 * the state file.
 *
 * Keys without a local meaning (identity, environment, scale_settings,
 * ...) are accepted and kept as written; a key in no table is an error
 * naming the file, the line and the key.  data_collector is typed
 * (docs/collect.md): its fields land in struct ws_deployment.
 */
#ifndef SCOREPOINT_WS_SPEC_H
#define SCOREPOINT_WS_SPEC_H

#include <stddef.h>

#include "workspace/ws.h"
#include "workspace/ws_node.h"

enum ws_kind {
	WS_KIND_ENDPOINT,     /* out: struct ws_endpoint */
	WS_KIND_DEPLOYMENT,   /* out: struct ws_deployment */
	WS_KIND_MODEL,        /* out: struct ws_model (state file only) */
	WS_KIND_STATE,        /* out: struct ws (the top level; config.host/port) */
};

/*
 * Check map `rec` against the table of `kind` and normalise it in place
 * (whole numbers and booleans become WS_NUM/WS_BOOL, strings WS_STR), then
 * fill the typed fields of `out` (may be NULL): pointers into rec, table
 * defaults for what is absent.  `state` admits the keys only the state file
 * holds (secrets, deployments, ...); a user's file may not use them.
 * `file` names the source in errors: "FILE:LINE: unknown key \"x\"" (no
 * ":LINE" for built nodes).  0, or -1 with one line in err.
 *
 * Not checked here: that names in traffic exist, sums, model registration
 * (ws_load() checks those across records).
 */
int ws_spec_check(enum ws_kind kind, struct ws_node *rec, int state, void *out,
		  const char *file, char *err, size_t errlen);

/* True when `key` is a top-level key a user's file of this kind may set. */
int ws_spec_user_key(enum ws_kind kind, const char *key);

/*
 * The record as `show` prints it: a copy of rec without the state-only
 * keys, with the defaults of absent typed keys filled in (request_settings,
 * probes, instance_count, auth_mode, ...).  NULL when out of memory.
 */
struct ws_node *ws_spec_show(enum ws_kind kind, const struct ws_node *rec);

/*
 * Set the dotted path (a.b.c) in rec to the YAML plain scalar `value`,
 * creating maps on the way: `--set request_settings.request_timeout_ms=1`.
 * Only paths under user keys.  0, or -1 with err.  Run ws_spec_check after.
 */
int ws_spec_set(enum ws_kind kind, struct ws_node *rec, const char *path, const char *value,
		char *err, size_t errlen);

/*
 * A model reference: azureml:NAME:VERSION, azureml:NAME@latest, or the
 * same without "azureml:".  Fills name[MODEL_NAME_MAX_LEN + 1] and
 * version[WS_VERSION_MAX + 1] ("" with *latest = 1 for @latest).  0, or -1
 * with err.
 */
int ws_model_ref(const char *ref, char *name, char *version, int *latest, char *err,
		 size_t errlen);

/* True for a model version: 1 to WS_VERSION_MAX letters, digits, '.', '_'
 * or '-', beginning with a letter or digit. */
int ws_version_valid(const char *v);

#endif
