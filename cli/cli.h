/*
 * cli.h - the scorepoint CLI's shared parts: verbs and their flags, one
 * parser for all of them, usage text, az-style output (--query, -o) and
 * one-line refusals.  The verbs live in cli/cli_*.c; cli/scorepoint.c
 * is only the table that names them.
 *
 * Exit status of every verb: 0 done, 1 refused (one line on stderr),
 * 2 usage error (unknown verb or flag, missing or bad argument).
 */
#ifndef SCOREPOINT_CLI_H
#define SCOREPOINT_CLI_H

#include <limits.h>
#include <stddef.h>

#include "cli/cgi.h"
#include "workspace/ws.h"
#include "workspace/ws_node.h"

#define CLI_MAX_SET 32   /* --set may be given this many times */

enum cli_opt {
	O_FILE, O_NAME, O_ENDPOINT, O_AUTH_MODE, O_TRAFFIC, O_MIRROR, O_SET, O_KEY_TYPE,
	O_REQUEST_FILE, O_DEPLOYMENT, O_YES, O_ALL_TRAFFIC, O_LINES, O_CONTAINER, O_PATH,
	O_VERSION, O_TYPE, O_LABELS, O_POSTPROCESS, O_LABEL, O_DESCRIPTION, O_MODEL_URI,
	O_INPUT_PATH, O_CONTENT_TYPE, O_OUTPUT_PATH, O_HOST, O_PORT, O_WORKERS, O_LIGHTTPD,
	O_ARCH, O_INPUT_SHAPE, O_ASSUME_ORDER, O_VERIFY, O_VERIFY_INPUT, O_UI_LIST,
	O_COLLECTED, O_SOURCE_DEPLOYMENT, O_FROM, O_TO, O_REQUESTS, O_MAX, O_AGAINST, O_WORST, O_MIN_AGREEMENT,
	O_COLLECTION, O_LIST,
	O_RESET, O_METRICS_FILE,
	/* on every verb */
	O_WORKSPACE, O_WORKSPACE_NAME, O_OUTPUT, O_QUERY, O_HELP, O_IGNORED, O_IGNORED_FLAG,
	O_COUNT
};

/* One flag of a verb: --long (and -s), with or without a value. */
struct cli_flag {
	const char *lng;
	char sht;            /* 0: none */
	enum cli_opt id;
	int arg;             /* takes a value */
	const char *help;    /* "FILE  the endpoint's YAML" */
};

struct cli;

struct cli_verb {
	const char *group;   /* "online-endpoint"; NULL for a top-level verb */
	const char *name;    /* "create" */
	int (*run)(struct cli *c);
	const char *summary;
	const struct cli_flag *flags;   /* ends with { NULL } */
};

struct cli {
	const struct cli_verb *verb;
	const char *val[O_COUNT];       /* the value (or "" for a flag) of each option given */
	const char *sets[CLI_MAX_SET];
	size_t nsets;
	char dir[PATH_MAX];             /* the workspace (ws_dir) */
	int tsv;                        /* -o tsv */
};

/*
 * Put the command's words first: argv[1, argc) is permuted in place so
 * that the global options given before the words (GROUP VERB, or a
 * top-level verb; at most two) follow them, where cli_parse takes them:
 * `scorepoint --workspace DIR model list` is `model list --workspace DIR`.
 * *nwords is then the number of words at argv[1].  Returns -1 to go on,
 * else the exit status: 0 after `--version` before the words ("scorepoint
 * VERSION" printed), 2 after a usage error (an option before the words
 * that is not global).
 */
int cli_order(int argc, char **argv, const char *version, int *nwords);

/* Parse argv (after GROUP VERB) for verb v into c, resolve the workspace
 * directory (--workspace DIR, -w NAME: CLI_NAMED_DIR/NAME under the data
 * directory, $SCOREPOINT_WORKSPACE, or the default).  Returns -1 to go on,
 * else the exit status to return (0 after --help, 2 on a usage error,
 * with its line on stderr). */
int cli_parse(struct cli *c, const struct cli_verb *v, int argc, char **argv);

/* Where -w NAME puts workspace NAME: ${XDG_DATA_HOME:-~/.local/share}/
 * scorepoint/workspaces/NAME (the default workspace is the scorepoint
 * folder itself).  A name is az's workspace name: 3 to 33 letters, digits,
 * '_' or '-', beginning with a letter or digit. */
#define CLI_NAMED_DIR "workspaces"
#define CLI_WS_NAME_MAX 33

/* Usage of one verb, or of a group's verbs (verb NULL), to f. */
struct cli_verb_list {
	const struct cli_verb *v;
	size_t n;
};
void cli_usage_verb(const struct cli_verb *v, int to_stderr);
void cli_usage_group(const struct cli_verb_list *all, const char *group, int to_stderr);

/* "scorepoint: MESSAGE" on stderr; returns 1 (a refusal). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same for usage errors, with the verb's usage hint; returns 2. */
int cli_usage_fail(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Require option id: 0, or prints a usage error and returns 2. */
int cli_need(const struct cli *c, enum cli_opt id);

/* Validate a name given on the command line: 0, or a refusal (returns 1).
 * cli_name is the endpoint and deployment rule, cli_model_name the model
 * rule (workspace/name.h). */
int cli_name(const char *flag, const char *name);
int cli_model_name(const char *flag, const char *name);

/*
 * Print result as az does (pretty JSON with sorted keys, or with -o tsv
 * the bare values: a row per object, or per item of a list; a map that
 * --query picks, such as traffic, a "KEY<TAB>VALUE" row per key), after
 * --query PATH (a key or dotted path; on a list it applies to every item).
 * Takes result.  Returns 0 or 1.
 */
int cli_print(const struct cli *c, struct ws_node *result);

/* cli_print for objects of one kind (enum ws_kind: endpoints, deployments,
 * models): with -o tsv and no --query, each object is one row of its main
 * fields (name first; not $schema), as az's table would show them. */
int cli_print_kind(const struct cli *c, struct ws_node *result, int kind);

/* Refuse model name:version, missing from w: "model NAME:VERSION is not
 * registered; versions: 1, 2" (the versions there are), or a hint to
 * register it when it has none.  version NULL: the latest.  Returns 1. */
int cli_model_missing(const struct ws *w, const char *name, const char *version);

/* path without its trailing slashes ("/" stays) into out[len], so that the
 * paths made from it hold no "//"; path itself when it does not fit. */
const char *cli_trim_slashes(const char *path, char *out, size_t len);

/* --yes given, or the user says y on a terminal: 1; else a refusal line
 * and 0. */
int cli_confirm(const struct cli *c, const char *what);

/* Show objects of the workspace, as the verbs print them (NULL: memory). */
struct ws_node *cli_endpoint_json(const struct ws *w, const struct ws_endpoint *e);
struct ws_node *cli_deployment_json(const struct ws_deployment *d);
struct ws_node *cli_model_json(const struct ws_model *m);

/* Load the workspace (no lock) for a read-only verb; 0 or a refusal. */
int cli_load(const struct cli *c, struct ws *w);

/* score.fcgi: $SCOREPOINT_SCORE_FCGI, else the one next to this program
 * (/proc/self/exe), into out[len]; 0, or a refusal (1) when it is not
 * there or not executable. */
int cli_find_handler(char *out, size_t len);

/*
 * One request to score.fcgi run as CGI (invoke, replay): `score.fcgi
 * --cgi --workspace DIR`, POST with Content-Type application/json and
 * Authorization: Bearer the endpoint's primary key or a token minted for
 * each request (aml_token).  cli_cgi_open keeps handler (a path), w's
 * directory and e (both must outlive k) and the environment common to
 * every request; cli_cgi_post runs one request, the body read from
 * body_fd from offset 0 (body_len bytes), with azureml-model-deployment:
 * deployment unless NULL; its answer, NUL-terminated, into *resp (the
 * caller frees it) and waitpid's status; cli_cgi_parse reads it.  Each
 * returns 0, or 1 with the refusal printed.  cli_cgi_close frees what open
 * made (also after a failed open, or none when k->env.n was set to 0).
 */
struct cli_cgi {
	char handler[PATH_MAX];
	const char *dir;
	const struct ws_endpoint *e;
	struct cgi_env env;
	size_t base;          /* env's variables common to every request */
};
int cli_cgi_open(struct cli_cgi *k, const char *handler, const struct ws *w, const struct ws_endpoint *e);
int cli_cgi_post(struct cli_cgi *k, const char *uri, const char *deployment, int body_fd, size_t body_len,
		 char **resp, size_t *resp_len, int *status);
int cli_cgi_parse(const struct cli_cgi *k, const char *resp, size_t len, int status, struct cgi_response *r);
void cli_cgi_close(struct cli_cgi *k);

/* ws_commit(), its refusal printed: 0, or 1. */
int cli_commit(struct ws_txn *t);

/* Apply every --set KEY=VALUE to rec of this kind (enum ws_kind), then
 * check rec (`state`: a state record).  name and endpoint_name cannot be
 * set (--name and --endpoint-name can).  0, or the exit status of the
 * refusal it printed. */
int cli_apply_sets(const struct cli *c, int kind, struct ws_node *rec, int state);

/* The record of endpoint `name` in the state tree, or NULL. */
struct ws_node *cli_endpoint_rec(struct ws_node *root, const char *name);

/* Verbs. */
int cli_model_create(struct cli *c);
int cli_model_list(struct cli *c);
int cli_model_show(struct cli *c);
int cli_model_delete(struct cli *c);
int cli_endpoint_create(struct cli *c);
int cli_endpoint_show(struct cli *c);
int cli_endpoint_list(struct cli *c);
int cli_endpoint_update(struct cli *c);
int cli_endpoint_credentials(struct cli *c);
int cli_endpoint_regenerate(struct cli *c);
int cli_endpoint_delete(struct cli *c);
int cli_endpoint_invoke(struct cli *c);
int cli_endpoint_shadow_report(struct cli *c);
int cli_deployment_create(struct cli *c);
int cli_deployment_show(struct cli *c);
int cli_deployment_list(struct cli *c);
int cli_deployment_update(struct cli *c);
int cli_deployment_logs(struct cli *c);
int cli_deployment_data(struct cli *c);
int cli_deployment_delete(struct cli *c);
int cli_deployment_replay(struct cli *c);
int cli_predict(struct cli *c);

#endif
