/*
 * cli.c - flags, usage, output and refusals shared by every verb.
 */
#include "cli/cli.h"
#include "model/err.h"
#include "workspace/name.h"
#include "workspace/ws_spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Flags every verb takes after its own. */
static const struct cli_flag global_flags[] = {
	{ "workspace", 0, O_WORKSPACE, 1, "DIR  the workspace (default $SCOREPOINT_WORKSPACE, else "
	  "${XDG_DATA_HOME:-~/.local/share}/scorepoint)" },
	{ "output", 'o', O_OUTPUT, 1, "json|tsv  output format (default json)" },
	{ "query", 0, O_QUERY, 1, "PATH  print only this field (a name or a dotted path)" },
	{ "resource-group", 'g', O_IGNORED, 1, "NAME  accepted for az compatibility; no effect" },
	{ "workspace-name", 'w', O_WORKSPACE_NAME, 1, "NAME  the workspace named NAME: ${XDG_DATA_HOME:-~/.local/share}/"
	  "scorepoint/" CLI_NAMED_DIR "/NAME" },
	{ "subscription", 0, O_IGNORED, 1, "ID  accepted for az compatibility; no effect" },
	{ "no-wait", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility; every change is immediate" },
	{ "only-show-errors", 0, O_IGNORED_FLAG, 0, " accepted for az compatibility; no effect" },
	{ "help", 'h', O_HELP, 0, " this text" },
	{ NULL, 0, 0, 0, NULL },
};

static void vline(const char *fmt, va_list ap)
{
	fputs("scorepoint: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
	return 1;
}

int cli_usage_fail(const struct cli *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->verb->group)
		fprintf(stderr, "scorepoint: %s %s: %s (see --help)\n", c->verb->group, c->verb->name, msg);
	else
		fprintf(stderr, "scorepoint: %s: %s (see --help)\n", c->verb->name, msg);
	return 2;
}

static const struct cli_flag *lookup(const struct cli_flag *f, const char *lng, size_t n, char sht)
{
	for (; f->lng; f++)
		if (lng ? strlen(f->lng) == n && strncmp(f->lng, lng, n) == 0 : f->sht == sht)
			return f;
	return NULL;
}

static const char *flag_name(const struct cli_verb *v, enum cli_opt id)
{
	const struct cli_flag *lists[2] = { v->flags, global_flags };
	for (int k = 0; k < 2; k++)
		for (const struct cli_flag *f = lists[k]; f->lng; f++)
			if (f->id == id)
				return f->lng;
	return "?";
}

int cli_need(const struct cli *c, enum cli_opt id)
{
	if (c->val[id])
		return 0;
	return cli_usage_fail(c, "--%s is required", flag_name(c->verb, id));
}

/* How many tokens the global option at a[0] takes (2 with its value, unless
 * it is --opt=VALUE or the last of left), or 0 when it is not one. */
static int global_tokens(char *const *a, int left)
{
	const struct cli_flag *f = NULL;
	const char *s = a[0];
	int inline_value = 0;

	if (strncmp(s, "--", 2) == 0 && s[2]) {
		size_t n = strcspn(s + 2, "=");
		f = lookup(global_flags, s + 2, n, 0);
		inline_value = s[2 + n] == '=';
	} else if (s[0] == '-' && s[1] && !s[2]) {
		f = lookup(global_flags, NULL, 0, s[1]);
	}
	if (!f)
		return 0;
	return f->arg && !inline_value && left > 1 ? 2 : 1;
}

int cli_order(int argc, char **argv, const char *version, int *nwords)
{
	char **moved = malloc((size_t)argc * sizeof *moved);
	int nmoved = 0, nw = 0, i = 1, k;

	if (!moved) {
		cli_fail("out of memory");
		return 2;
	}
	/* Every token taken is a word or a moved option, so what is left
	 * (argv[i, argc)) stays where it is, after both. */
	while (i < argc && nw < 2) {
		if (argv[i][0] != '-') {
			argv[1 + nw++] = argv[i++];
		} else if (nw == 0 && strcmp(argv[i], "--version") == 0) {
			free(moved);
			printf("scorepoint %s\n", version);
			return fflush(stdout) == 0 ? 0 : cli_fail("cannot write the output");
		} else if ((k = global_tokens(argv + i, argc - i)) > 0) {
			while (k--)
				moved[nmoved++] = argv[i++];
		} else if (nw == 0) {
			fprintf(stderr, "scorepoint: unknown option %s before the command: a verb's options follow "
				"it (see scorepoint --help)\n", argv[i]);
			free(moved);
			return 2;
		} else {
			break;
		}
	}
	memcpy(argv + 1 + nw, moved, (size_t)nmoved * sizeof *moved);
	free(moved);
	*nwords = nw;
	return -1;
}

/* -w NAME: the folder of workspace NAME under the data directory. */
static int named_dir(const char *name, char *out, size_t len, char *err, size_t errlen)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME"), *sub = "";
	char base[PATH_MAX];
	size_t n = strlen(name);

	if (n < 3 || n > CLI_WS_NAME_MAX || name[0] == '_' || name[0] == '-' || strspn(name, ok) != n)
		return err_set(err, errlen, "--workspace-name \"%s\": a workspace name has 3 to %d letters, digits, "
			       "'_' or '-', beginning with a letter or digit", name, CLI_WS_NAME_MAX);
	if (!xdg || xdg[0] != '/') {   /* the XDG spec ignores a relative one, as ws_dir() does */
		if (!home || !*home)
			return err_set(err, errlen, "--workspace-name %s: HOME is not set", name);
		xdg = home;
		sub = "/.local/share";
	}
	const char *root = cli_trim_slashes(xdg, base, sizeof base);
	if ((size_t)snprintf(out, len, "%s%s/scorepoint/" CLI_NAMED_DIR "/%s", root, sub, name) >= len)
		return err_set(err, errlen, "--workspace-name %s: the workspace path is too long", name);
	return 0;
}

int cli_parse(struct cli *c, const struct cli_verb *v, int argc, char **argv)
{
	char err[PATH_MAX + 256], named[PATH_MAX];

	memset(c, 0, sizeof *c);
	c->verb = v;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *value = NULL;
		const struct cli_flag *f = NULL;
		if (strncmp(a, "--", 2) == 0 && a[2]) {
			size_t n = strcspn(a + 2, "=");
			f = lookup(v->flags, a + 2, n, 0);
			if (!f)
				f = lookup(global_flags, a + 2, n, 0);
			if (a[2 + n] == '=')
				value = a + 3 + n;
		} else if (a[0] == '-' && a[1] && !a[2]) {
			f = lookup(v->flags, NULL, 0, a[1]);
			if (!f)
				f = lookup(global_flags, NULL, 0, a[1]);
		} else {
			return cli_usage_fail(c, "unexpected argument \"%s\"", a);
		}
		if (!f)
			return cli_usage_fail(c, "unknown option %s", a);
		if (f->arg && !value) {
			if (i + 1 >= argc)
				return cli_usage_fail(c, "%s needs a value", a);
			value = argv[++i];
		} else if (!f->arg && value) {
			return cli_usage_fail(c, "--%s takes no value", f->lng);
		}
		if (f->id == O_HELP) {
			cli_usage_verb(v, 0);
			return 0;
		}
		if (f->id == O_SET) {
			if (c->nsets >= CLI_MAX_SET)
				return cli_usage_fail(c, "more than %d --%s", CLI_MAX_SET, f->lng);
			c->sets[c->nsets++] = value;
		}
		c->val[f->id] = value ? value : "";
	}
	const char *out = c->val[O_OUTPUT];
	if (out && strcmp(out, "json") != 0 && strcmp(out, "jsonc") != 0 && strcmp(out, "tsv") != 0)
		return cli_usage_fail(c, "--output %s: use json or tsv", out);
	c->tsv = out && strcmp(out, "tsv") == 0;
	const char *given = c->val[O_WORKSPACE];
	if (given && c->val[O_WORKSPACE_NAME])
		return cli_usage_fail(c, "give --workspace DIR or --workspace-name NAME, not both");
	if (c->val[O_WORKSPACE_NAME]) {
		if (named_dir(c->val[O_WORKSPACE_NAME], named, sizeof named, err, sizeof err) < 0)
			return cli_fail("%s", err);
		given = named;
	}
	if (ws_dir(given, c->dir, sizeof c->dir, err, sizeof err) < 0)
		return cli_usage_fail(c, "%s", err);
	return -1;
}

const char *cli_trim_slashes(const char *path, char *out, size_t len)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= len)
		return path;
	memmove(out, path, n);   /* out may be path's own buffer */
	out[n] = '\0';
	return out;
}

/* $SCOREPOINT_SCORE_FCGI, else score.fcgi next to this program. */
int cli_find_handler(char *out, size_t len)
{
	const char *env = getenv("SCOREPOINT_SCORE_FCGI");
	char self[PATH_MAX];

	if (env && *env) {
		snprintf(out, len, "%s", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		if (n <= 0)
			return cli_fail("cannot find score.fcgi: set SCOREPOINT_SCORE_FCGI");
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		*slash = '\0';
		if ((size_t)snprintf(out, len, "%s/score.fcgi", self) >= len)
			return cli_fail("cannot find score.fcgi: path too long");
	}
	if (access(out, X_OK) < 0)
		return cli_fail("%s: %s (set SCOREPOINT_SCORE_FCGI to the handler)", out, strerror(errno));
	return 0;
}

/* ---- usage ---- */

static void flag_lines(FILE *f, const struct cli_flag *fl)
{
	for (; fl->lng; fl++) {
		char left[64];
		const char *help = fl->help;
		size_t arg = strcspn(help, " ");   /* the help text starts with the value's name */
		if (fl->sht)
			snprintf(left, sizeof left, "-%c, --%s %.*s", fl->sht, fl->lng, (int)arg, help);
		else
			snprintf(left, sizeof left, "    --%s %.*s", fl->lng, (int)arg, help);
		fprintf(f, "  %-34s %s\n", left, help + arg + strspn(help + arg, " "));
	}
}

void cli_usage_verb(const struct cli_verb *v, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	fprintf(f, "usage: scorepoint %s%s%s [options]\n\n%s\n\noptions:\n", v->group ? v->group : "",
		v->group ? " " : "", v->name, v->summary);
	flag_lines(f, v->flags);
	fprintf(f, "\nglobal options:\n");
	flag_lines(f, global_flags);
	fprintf(f, "\nExit status: 0 done, 1 refused (one line on stderr), 2 usage error.\n");
}

void cli_usage_group(const struct cli_verb_list *all, const char *group, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	if (!group) {
		fprintf(f, "usage: scorepoint GROUP VERB [options]   (each verb takes --help)\n"
			   "       scorepoint help [GROUP] | --help | --version\n\n"
			   "Azure ML's `az ml` verbs for your own servers: register models, create endpoints\n"
			   "and deployments from Azure's own YAML, keys and tokens, traffic splits.\n"
			   "Global options, anywhere on the line: --workspace DIR or -w NAME, -o json|tsv,\n"
			   "--query PATH, -h/--help.\n\n");
	} else {
		fprintf(f, "usage: scorepoint %s VERB [options]   (each verb takes --help)\n\n", group);
	}
	for (size_t i = 0; i < all->n; i++) {
		const struct cli_verb *v = &all->v[i];
		if (group && (!v->group || strcmp(v->group, group) != 0))
			continue;
		char left[64];
		snprintf(left, sizeof left, "%s%s%s", v->group ? v->group : "", v->group ? " " : "", v->name);
		fprintf(f, "  %-32s %.*s\n", left, (int)strcspn(v->summary, "\n"), v->summary);
	}
}

int cli_name(const char *flag, const char *name)
{
	if (name_valid(name, strlen(name)))
		return 0;
	return cli_fail("%s \"%s\": %s", flag, name, name_rule());
}

int cli_model_name(const char *flag, const char *name)
{
	if (model_name_valid(name, strlen(name)))
		return 0;
	return cli_fail("%s \"%.300s\": %s", flag, name, model_name_rule());
}

/* ---- output ---- */

/* What -o tsv prints of each kind of object without --query: its main
 * fields, name first, as one row (az's table columns, more or less). */
static const char *const tsv_fields[][6] = {
	[WS_KIND_ENDPOINT] = { "name", "auth_mode", "scoring_uri", "provisioning_state", NULL },
	[WS_KIND_DEPLOYMENT] = { "name", "endpoint_name", "model", "instance_count", "provisioning_state", NULL },
	[WS_KIND_MODEL] = { "name", "version", "type", "postprocess", "created", NULL },
};

static int composite(const struct ws_node *n)
{
	return n->type == WS_MAP || n->type == WS_SEQ;
}

static const char *tsv_text(const struct ws_node *n)
{
	return !n || n->type == WS_NULL || composite(n) ? "" : n->s;
}

/* One row: the named fields of a map (fields), else its scalar values in
 * key order (az's tsv); a scalar on its own. */
static void tsv_line(const struct ws_node *n, const char *const *fields)
{
	if (!composite(n)) {
		printf("%s\n", tsv_text(n));
		return;
	}
	int first = 1;
	for (size_t i = 0; fields ? fields[i] != NULL : i < n->n; i++) {
		const struct ws_node *v = fields ? ws_node_get(n, fields[i]) : n->v[i];
		if (!fields && composite(v))
			continue;
		printf("%s%s", first ? "" : "\t", tsv_text(v));
		first = 0;
	}
	putchar('\n');
}

/*
 * -o tsv: a list one row per item; an object one row (of its main fields
 * when fields is given); a map picked by --query (traffic, tags) one
 * "KEY<TAB>VALUE" row per scalar, so that its names show.
 */
static void tsv_print(const struct ws_node *shown, const char *const *fields, int queried)
{
	if (shown->type == WS_SEQ) {
		for (size_t i = 0; i < shown->n; i++)
			tsv_line(shown->v[i], fields);
	} else if (shown->type == WS_MAP && queried) {
		for (size_t i = 0; i < shown->n; i++)
			if (!composite(shown->v[i]))
				printf("%s\t%s\n", shown->keys[i], tsv_text(shown->v[i]));
	} else {
		tsv_line(shown, fields);
	}
}

int cli_print_kind(const struct cli *c, struct ws_node *result, int kind)
{
	struct ws_node *shown = result;
	struct ws_node *list = NULL;
	const char *q = c->val[O_QUERY];
	int rc = 0;

	if (!result)
		return cli_fail("out of memory");
	if (q && *q) {
		if (strncmp(q, "[].", 3) == 0)
			q += 3;
		if (result->type == WS_SEQ) {
			list = ws_node_new(WS_SEQ, NULL);
			for (size_t i = 0; list && i < result->n; i++) {
				const struct ws_node *f = ws_node_path(result->v[i], q);
				ws_node_push(list, f ? ws_node_copy(f) : ws_node_new(WS_NULL, "null"));
			}
			shown = list;
		} else {
			shown = (struct ws_node *)ws_node_path(result, q);
			if (!shown) {
				ws_node_free(result);
				return cli_fail("--query %s: no such field", c->val[O_QUERY]);
			}
		}
	}
	if (!shown) {
		rc = cli_fail("out of memory");
	} else if (c->tsv) {
		int queried = q && *q;
		int known = kind >= 0 && (size_t)kind < sizeof tsv_fields / sizeof tsv_fields[0];
		tsv_print(shown, known && !queried ? tsv_fields[kind] : NULL, queried && !list);
	} else {
		struct enc_buf b;
		enc_init(&b, 0);
		ws_node_json(shown, &b);
		enc_raw(&b, "\n", 1);
		if (enc_status(&b) != ENC_OK)
			rc = cli_fail("out of memory");
		else
			fwrite(b.p, 1, b.len, stdout);
		enc_free(&b);
	}
	ws_node_free(list);
	ws_node_free(result);
	if (fflush(stdout) != 0)
		rc = cli_fail("cannot write the output");
	return rc;
}

int cli_print(const struct cli *c, struct ws_node *result)
{
	return cli_print_kind(c, result, -1);
}

int cli_confirm(const struct cli *c, const char *what)
{
	char line[16];
	if (c->val[O_YES])
		return 1;
	if (!isatty(STDIN_FILENO)) {
		cli_fail("%s: give --yes to confirm (stdin is not a terminal)", what);
		return 0;
	}
	fprintf(stderr, "%s. Are you sure you want to perform this operation? (y/n): ", what);
	if (fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y'))
		return 1;
	cli_fail("%s: not confirmed; nothing changed", what);
	return 0;
}

int cli_load(const struct cli *c, struct ws *w)
{
	char err[1024];
	if (ws_load(c->dir, w, err, sizeof err) < 0)
		return cli_fail("%s", err);
	return 0;
}

int cli_commit(struct ws_txn *t)
{
	char err[1024];
	if (ws_commit(t, err, sizeof err) < 0)
		return cli_fail("%s", err);
	return 0;
}

int cli_apply_sets(const struct cli *c, int kind, struct ws_node *rec, int state)
{
	char err[1024], key[256];
	for (size_t i = 0; i < c->nsets; i++) {
		const char *eq = strchr(c->sets[i], '=');
		if (!eq || eq == c->sets[i] || (size_t)(eq - c->sets[i]) >= sizeof key)
			return cli_usage_fail(c, "--set %s: expected KEY=VALUE", c->sets[i]);
		snprintf(key, sizeof key, "%.*s", (int)(eq - c->sets[i]), c->sets[i]);
		if (strcmp(key, "name") == 0 || strcmp(key, "endpoint_name") == 0)
			return cli_fail("--set %s: use --name%s instead", key,
					key[0] == 'e' ? " and --endpoint-name" : "");
		if (ws_spec_set((enum ws_kind)kind, rec, key, eq + 1, err, sizeof err) < 0)
			return cli_fail("%s", err);
	}
	if (c->nsets && ws_spec_check((enum ws_kind)kind, rec, state, NULL, "--set", err, sizeof err) < 0)
		return cli_fail("%s", err);
	return 0;
}

struct ws_node *cli_endpoint_rec(struct ws_node *root, const char *name)
{
	struct ws_node *seq = ws_node_get(root, "endpoints");
	long i = ws_find(seq, name);
	return i < 0 ? NULL : seq->v[i];
}

/* ---- show objects ---- */

static int set_str(struct ws_node *m, const char *key, const char *value)
{
	return ws_node_set(m, key, ws_node_str(value));
}

struct ws_node *cli_endpoint_json(const struct ws *w, const struct ws_endpoint *e)
{
	char uri[512];
	int v6 = strchr(w->host, ':') && w->host[0] != '[';
	struct ws_node *s = ws_spec_show(WS_KIND_ENDPOINT, e->node);

	if (!s)
		return NULL;
	snprintf(uri, sizeof uri, "http://%s%s%s:%u/%s/score", v6 ? "[" : "", w->host, v6 ? "]" : "", w->port,
		 e->name);
	int rc = set_str(s, "scoring_uri", uri);
	snprintf(uri, sizeof uri, "http://%s%s%s:%u/%s/swagger.json", v6 ? "[" : "", w->host, v6 ? "]" : "",
		 w->port, e->name);
	rc |= set_str(s, "swagger_uri", uri);
	rc |= set_str(s, "provisioning_state", "Succeeded");
	if (!ws_node_get(s, "kind"))
		rc |= set_str(s, "kind", "Managed");
	if (rc) {
		ws_node_free(s);
		return NULL;
	}
	return s;
}

struct ws_node *cli_deployment_json(const struct ws_deployment *d)
{
	struct ws_node *s = ws_spec_show(WS_KIND_DEPLOYMENT, d->node);
	if (s && set_str(s, "provisioning_state", "Succeeded") < 0) {
		ws_node_free(s);
		return NULL;
	}
	return s;
}

struct ws_node *cli_model_json(const struct ws_model *m)
{
	char id[128];
	struct ws_node *s = ws_spec_show(WS_KIND_MODEL, m->node);
	snprintf(id, sizeof id, "azureml:%s:%s", m->name, m->version);
	if (s && (set_str(s, "id", id) < 0 || set_str(s, "blob", m->blob) < 0)) {
		ws_node_free(s);
		return NULL;
	}
	return s;
}

int cli_model_missing(const struct ws *w, const char *name, const char *version)
{
	char list[512];
	size_t n = 0;

	list[0] = '\0';
	for (size_t i = 0; i < w->nmodels; i++) {
		if (strcmp(w->models[i].name, name) != 0)
			continue;
		if (n + strlen(w->models[i].version) + 8 >= sizeof list) {
			snprintf(list + n, sizeof list - n, ", ...");
			break;
		}
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", w->models[i].version);
	}
	if (!n)
		return cli_fail("model \"%s\" is not registered: run scorepoint model create --name %s ... first", name,
				name);
	return cli_fail("model %s:%s is not registered; versions: %s", name, version ? version : "latest", list);
}
