/*
 * ws_spec.c - one typed key table per kind of record (redis config.c
 * style): what each key is, its bounds and default, and where its value
 * goes in the typed struct.  Sources for the keys and defaults:
 * docs/protocols.md 2.1 and 2.2 (Azure's YAML references).
 */
#include "workspace/ws_spec.h"
#include "workspace/auth.h"
#include "model/blob.h"
#include "model/err.h"
#include "model/num.h"
#include "workspace/name.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ktype {
	K_ANY,       /* kept as written */
	K_STR,       /* a scalar, kept as a string */
	K_NAME,      /* a string that passes name_valid() */
	K_MODEL_NAME, /* a string that passes model_name_valid() */
	K_VERSION,   /* a model version (ws_version_valid) */
	K_ENUM,      /* one of sub[] (any case); stored as its index */
	K_INT,       /* a whole number in [min, max] */
	K_FRACTION,  /* a number from 0 to 1, into a double; absent: 1 */
	K_BOOL,      /* true/false (any case, also as strings: 'True'), into an int; absent: def */
	K_STRMAP,    /* a map of scalars, kept as strings */
	K_ENVMAP,    /* K_STRMAP whose keys are environment variable names */
	K_TRAFFIC,   /* deployment name -> whole percent; stored as struct traffic */
	K_TABLE,     /* a map checked by the table sub */
	K_SECRET,    /* auth_secret_valid() text */
	K_MODEL,     /* a model reference (ws_model_ref) */
	K_STRSEQ,    /* a sequence of scalars, kept as strings */
	K_RECORDS,   /* a sequence of maps that ws.c checks record by record */
};

#define F_REQ 1u      /* must be present */
#define F_STATE 2u    /* only in the state file */
#define F_SHOW 4u     /* show prints the default when absent */
#define NOOFF ((size_t)-1)

struct key {
	const char *name;
	enum ktype type;
	size_t off;            /* where the value goes in the out struct, or NOOFF */
	long min, max, def;    /* K_INT bounds and default; K_ENUM default index */
	const void *sub;       /* K_TABLE: const struct key[]; K_ENUM: const char *const[] */
	unsigned flags;
	const char *sdef;      /* K_STR default; in a table's END row, what an unknown key is told */
};

#define END { NULL, K_ANY, NOOFF, 0, 0, 0, NULL, 0, NULL }
#define END_HINT(text) { NULL, K_ANY, NOOFF, 0, 0, 0, NULL, 0, text }
#define D(field) offsetof(struct ws_deployment, field)
#define E(field) offsetof(struct ws_endpoint, field)
#define M(field) offsetof(struct ws_model, field)
#define W(field) offsetof(struct ws, field)

static const char *const auth_modes[] = { "key", "aml_token", NULL };
static const char *const access[] = { "enabled", "disabled", NULL };
static const char *const model_types[] = { "custom_model", "mlflow_model", NULL };
static const char *const posts[] = { "logits", "probabilities", "labels", NULL };
static const char *const rollings[] = { "minute", "hour", "day", NULL };   /* enum ws_rolling */

static const struct key secrets_keys[] = {
	{ "primary_key", K_SECRET, E(primary_key), 0, 0, 0, NULL, F_REQ, NULL },
	{ "secondary_key", K_SECRET, E(secondary_key), 0, 0, 0, NULL, F_REQ, NULL },
	{ "token_secret", K_SECRET, E(token_secret), 0, 0, 0, NULL, F_REQ, NULL },
	END
};

static const struct key endpoint_keys[] = {
	{ "$schema", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "name", K_NAME, E(name), 0, 0, 0, NULL, F_REQ, NULL },
	{ "description", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "tags", K_STRMAP, NOOFF, 0, 0, 0, NULL, F_SHOW, NULL },
	{ "auth_mode", K_ENUM, E(auth_mode), 0, 0, WS_AUTH_KEY, auth_modes, F_SHOW, NULL },
	{ "traffic", K_TRAFFIC, E(traffic), 0, 0, 0, NULL, F_SHOW, NULL },
	{ "mirror_traffic", K_TRAFFIC, E(mirror), 0, 0, 0, NULL, F_SHOW, NULL },
	{ "compute", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "identity", K_ANY, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "kind", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "public_network_access", K_ENUM, NOOFF, 0, 0, 0, access, 0, NULL },
	{ "properties", K_STRMAP, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "secrets", K_TABLE, NOOFF, 0, 0, 0, secrets_keys, F_STATE | F_REQ, NULL },
	{ "deployments", K_RECORDS, NOOFF, 0, 0, 0, NULL, F_STATE, NULL },
	END
};

static const struct key request_keys[] = {
	{ "request_timeout_ms", K_INT, D(request_timeout_ms), 1, WS_MAX_TIMEOUT_MS, WS_DEFAULT_TIMEOUT_MS, NULL, F_SHOW, NULL },
	{ "max_concurrent_requests_per_instance", K_INT, D(max_concurrent_requests_per_instance), 1, 1000, 1, NULL, F_SHOW, NULL },
	{ "max_queue_wait_ms", K_INT, D(max_queue_wait_ms), 0, 3600000, 500, NULL, F_SHOW, NULL },
	END
};

/* ProbeSettings: Azure's defaults (docs/protocols.md 2.2); kept, not enforced. */
static const struct key probe_keys[] = {
	{ "initial_delay", K_INT, NOOFF, 1, 3600, 10, NULL, F_SHOW, NULL },
	{ "period", K_INT, NOOFF, 1, 3600, 10, NULL, F_SHOW, NULL },
	{ "timeout", K_INT, NOOFF, 1, 3600, 2, NULL, F_SHOW, NULL },
	{ "success_threshold", K_INT, NOOFF, 1, 1000, 1, NULL, F_SHOW, NULL },
	{ "failure_threshold", K_INT, NOOFF, 1, 1000, 30, NULL, F_SHOW, NULL },
	END
};

static const struct key code_keys[] = {
	{ "code", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "scoring_script", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

/*
 * data_collector, Azure ML's schema (docs/collect.md): the two collections
 * the server writes itself; a collection's `data` (the Azure data asset to
 * register) and `client_id` are kept, not acted on, and so is
 * request_logging.  Payload logging ("request", "response") and custom
 * collections need Azure's SDK in a scoring script: refused by name.
 */
static const struct key data_asset_keys[] = {
	{ "name", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "path", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "version", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key inputs_keys[] = {
	{ "enabled", K_BOOL, D(collect_inputs), 0, 0, 0, NULL, F_SHOW, NULL },
	{ "data", K_TABLE, NOOFF, 0, 0, 0, data_asset_keys, 0, NULL },
	{ "client_id", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key outputs_keys[] = {
	{ "enabled", K_BOOL, D(collect_outputs), 0, 0, 0, NULL, F_SHOW, NULL },
	{ "data", K_TABLE, NOOFF, 0, 0, 0, data_asset_keys, 0, NULL },
	{ "client_id", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key collections_keys[] = {
	{ "model_inputs", K_TABLE, NOOFF, 0, 0, 0, inputs_keys, F_SHOW, NULL },
	{ "model_outputs", K_TABLE, NOOFF, 0, 0, 0, outputs_keys, F_SHOW, NULL },
	END_HINT("scorepoint collects model_inputs and model_outputs; payload logging (request, response) and "
		 "custom collections are not available (docs/collect.md)"),
};

static const struct key request_logging_keys[] = {
	{ "capture_headers", K_STRSEQ, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key collector_keys[] = {
	{ "collections", K_TABLE, NOOFF, 0, 0, 0, collections_keys, F_SHOW, NULL },
	{ "sampling_rate", K_FRACTION, D(sampling_rate), 0, 0, 0, NULL, F_SHOW, NULL },
	{ "rolling_rate", K_ENUM, D(rolling_rate), 0, 0, WS_ROLL_HOUR, rollings, F_SHOW, NULL },
	{ "request_logging", K_TABLE, NOOFF, 0, 0, 0, request_logging_keys, 0, NULL },
	END
};

static const struct key deployment_keys[] = {
	{ "$schema", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "name", K_NAME, D(name), 0, 0, 0, NULL, F_REQ, NULL },
	{ "endpoint_name", K_NAME, D(endpoint_name), 0, 0, 0, NULL, F_REQ, NULL },
	{ "description", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "tags", K_STRMAP, NOOFF, 0, 0, 0, NULL, F_SHOW, NULL },
	{ "model", K_MODEL, NOOFF, 0, 0, 0, NULL, F_REQ, NULL },
	{ "model_mount_path", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "code_configuration", K_TABLE, NOOFF, 0, 0, 0, code_keys, 0, NULL },
	{ "environment", K_ANY, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "environment_variables", K_ENVMAP, NOOFF, 0, 0, 0, NULL, F_SHOW, NULL },
	{ "instance_type", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "instance_count", K_INT, D(instance_count), 1, 1000, 1, NULL, F_SHOW, NULL },
	{ "app_insights_enabled", K_BOOL, NOOFF, 0, 0, 0, NULL, F_SHOW, NULL },
	{ "scale_settings", K_ANY, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "request_settings", K_TABLE, NOOFF, 0, 0, 0, request_keys, F_SHOW, NULL },
	{ "liveness_probe", K_TABLE, NOOFF, 0, 0, 0, probe_keys, F_SHOW, NULL },
	{ "readiness_probe", K_TABLE, NOOFF, 0, 0, 0, probe_keys, F_SHOW, NULL },
	{ "egress_public_network_access", K_ENUM, NOOFF, 0, 0, 0, access, 0, NULL },
	{ "data_collector", K_TABLE, NOOFF, 0, 0, 0, collector_keys, 0, NULL },
	{ "private_network_connection", K_BOOL, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "properties", K_STRMAP, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key model_keys[] = {
	{ "name", K_MODEL_NAME, M(name), 0, 0, 0, NULL, F_REQ, NULL },
	{ "version", K_VERSION, M(version), 0, 0, 0, NULL, F_REQ, NULL },
	{ "type", K_ENUM, NOOFF, 0, 0, 0, model_types, F_REQ, NULL },
	{ "path", K_STR, M(path), 0, 0, 0, NULL, F_REQ, NULL },
	{ "created", K_STR, M(created), 0, 0, 0, NULL, F_REQ, NULL },
	{ "description", K_STR, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "tags", K_STRMAP, NOOFF, 0, 0, 0, NULL, F_SHOW, NULL },
	{ "postprocess", K_ENUM, M(postprocess), 0, 0, BLOB_POST_LOGITS, posts, F_SHOW, NULL },
	{ "labels", K_STRSEQ, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "inputs", K_INT, M(inputs), 1, BLOB_MAX_WIDTH, 1, NULL, F_REQ, NULL },
	{ "outputs", K_INT, M(outputs), 1, BLOB_MAX_WIDTH, 1, NULL, F_REQ, NULL },
	{ "mlmodel", K_BOOL, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key config_keys[] = {
	{ "host", K_STR, NOOFF, 0, 0, 0, NULL, F_SHOW, WS_DEFAULT_HOST },
	{ "port", K_INT, W(port), 1, 65535, WS_DEFAULT_PORT, NULL, F_SHOW, NULL },
	END
};

static const struct key state_keys[] = {
	{ "format", K_INT, NOOFF, WS_FORMAT, WS_FORMAT, WS_FORMAT, NULL, F_REQ, NULL },
	{ "config", K_TABLE, NOOFF, 0, 0, 0, config_keys, F_SHOW, NULL },
	{ "models", K_RECORDS, NOOFF, 0, 0, 0, NULL, 0, NULL },
	{ "endpoints", K_RECORDS, NOOFF, 0, 0, 0, NULL, 0, NULL },
	END
};

static const struct key *table_of(enum ws_kind kind)
{
	switch (kind) {
	case WS_KIND_ENDPOINT: return endpoint_keys;
	case WS_KIND_DEPLOYMENT: return deployment_keys;
	case WS_KIND_MODEL: return model_keys;
	default: return state_keys;
	}
}

/* ---- small checks ---- */

int ws_version_valid(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > WS_VERSION_MAX || v[0] == '.' || v[0] == '-' || v[0] == '_')
		return 0;
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int env_name_valid(const char *s)
{
	static const char word[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
	return s[0] && !(s[0] >= '0' && s[0] <= '9') && strspn(s, word) == strlen(s);
}

int ws_model_ref(const char *ref, char *name, char *version, int *latest, char *err, size_t errlen)
{
	const char *s = ref;
	if (strncmp(s, "azureml:", 8) == 0)
		s += 8;
	if (strncmp(s, "//", 2) == 0 || s[0] == '/')
		return err_set(err, errlen, "model \"%s\": registry and resource-id references are not "
			       "available locally; use azureml:NAME:VERSION or azureml:NAME@latest", ref);
	size_t n = strcspn(s, ":@");
	if (!model_name_valid(s, n))
		return err_set(err, errlen, "model \"%s\": expected azureml:NAME:VERSION or azureml:NAME@latest, "
			       "and %s", ref, model_name_rule());
	memcpy(name, s, n);
	name[n] = '\0';
	*latest = 0;
	version[0] = '\0';
	if (s[n] == '@') {
		if (strcmp(s + n + 1, "latest") != 0)
			return err_set(err, errlen, "model \"%s\": the only label is @latest", ref);
		*latest = 1;
		return 0;
	}
	if (s[n] != ':' || !ws_version_valid(s + n + 1))
		return err_set(err, errlen, "model \"%s\": expected azureml:NAME:VERSION (a version has 1 to %d "
			       "letters, digits, '.', '_' or '-') or azureml:NAME@latest", ref, WS_VERSION_MAX);
	snprintf(version, WS_VERSION_MAX + 1, "%s", s + n + 1);
	return 0;
}

/* Edit distance up to 3 (more counts as 3): for "did you mean". */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[64];
	if (la >= 63 || lb >= 63)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		d[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned prev = d[0];
		d[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned cur = d[j];
			unsigned best = prev + (a[i - 1] != b[j - 1]);
			if (d[j] + 1 < best)
				best = d[j] + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			d[j] = best;
			prev = cur;
		}
	}
	return d[lb] > 3 ? 3 : (int)d[lb];
}

/* ---- the check ---- */

struct ctx {
	const char *file;
	int state;
	char *err;
	size_t errlen;
};

/* "FILE:LINE: " or "FILE: " into where[]. */
static const char *where(const struct ctx *c, unsigned line, char *buf, size_t len)
{
	if (line)
		snprintf(buf, len, "%s:%u", c->file, line);
	else
		snprintf(buf, len, "%s", c->file);
	return buf;
}

static int fail(const struct ctx *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct ctx *c, unsigned line, const char *fmt, ...)
{
	char w[512], msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(c->err, c->errlen, "%s: %s", where(c, line, w, sizeof w), msg);
}

static void *at(void *out, size_t off)
{
	return out && off != NOOFF ? (char *)out + off : NULL;
}

static const char *type_name(enum ws_type t)
{
	switch (t) {
	case WS_MAP: return "a mapping";
	case WS_SEQ: return "a list";
	default: return "a single value";
	}
}

/* Scalars of a string-typed key become strings (YAML read "1" as a number). */
static int want_string(const struct ctx *c, const char *path, struct ws_node *v)
{
	if (v->type == WS_MAP || v->type == WS_SEQ)
		return fail(c, v->line, "%s: expected a single value, got %s", path, type_name(v->type));
	v->type = WS_STR;
	return 0;
}

static int parse_int(const char *s, long *out)
{
	char *end;
	if (!*s || strspn(s + (*s == '-'), "0123456789") != strlen(s + (*s == '-')) || strlen(s) > 18)
		return -1;
	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* v becomes the number whose canonical text is canon.  0, or -1 (failed). */
static int set_number(const struct ctx *c, struct ws_node *v, const char *canon)
{
	char *s = strdup(canon);

	if (!s)
		return fail(c, v->line, "out of memory");
	free(v->s);
	v->s = s;
	v->type = WS_NUM;
	return 0;
}

static int check_int(const struct ctx *c, const char *path, const struct key *k, struct ws_node *v,
		     unsigned *out)
{
	long n;
	const char *t = ws_node_text(v);
	if (!t || v->type == WS_NULL || parse_int(t, &n) < 0 || n < k->min || n > k->max)
		return fail(c, v->line, "%s: expected a whole number from %ld to %ld, got %s%.60s%s", path,
			    k->min, k->max, t ? "\"" : "", t ? t : type_name(v->type), t ? "\"" : "");
	char canon[32];
	snprintf(canon, sizeof canon, "%ld", n);
	if (set_number(c, v, canon) < 0)
		return -1;
	if (out)
		*out = (unsigned)n;
	return 0;
}

/* A number from 0 to 1 (YAML's forms: 0.1, .5, 1, 1e-2, '0.1'), kept as
 * repr() prints it. */
static int check_fraction(const struct ctx *c, const char *path, struct ws_node *v, double *out)
{
	double d = -1;
	const char *t = ws_node_text(v);
	char canon[NUM_FORMAT_MAX];

	if (t && v->type != WS_NULL && v->type != WS_BOOL)
		(void)num_parse(t, t + strlen(t), NUM_CSV, &d);
	if (!(d >= 0 && d <= 1))
		return fail(c, v->line, "%s: expected a number from 0.0 to 1.0, got %s%.60s%s", path,
			    t ? "\"" : "", t ? t : type_name(v->type), t ? "\"" : "");
	num_format(d + 0.0, canon);   /* + 0.0: -0 prints as 0.0 */
	if (set_number(c, v, canon) < 0)
		return -1;
	if (out)
		*out = d + 0.0;
	return 0;
}

static int check_enum(const struct ctx *c, const char *path, const struct key *k, struct ws_node *v,
		      int *out)
{
	const char *const *names = k->sub;
	const char *t = ws_node_text(v);
	char list[128] = "";
	if (t) {
		for (int i = 0; names[i]; i++) {
			if (strcasecmp(t, names[i]) == 0) {
				v->type = WS_STR;
				if (out)
					*out = i;
				return 0;
			}
		}
	}
	if (t && strcmp(path, "auth_mode") == 0 && strcasecmp(t, "aad_token") == 0)
		return fail(c, v->line, "auth_mode aad_token (Microsoft Entra ID tokens) is not available "
			    "locally: use key or aml_token");
	for (int i = 0; names[i]; i++) {
		size_t n = strlen(list);
		snprintf(list + n, sizeof list - n, "%s%s", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
	}
	return fail(c, v->line, "%s \"%.60s\": use %s", path, t ? t : type_name(v->type), list);
}

static int check_map_of_strings(const struct ctx *c, const char *path, const struct key *k,
				struct ws_node *v, void *out)
{
	if (v->type == WS_NULL)
		return 0;
	if (v->type != WS_MAP)
		return fail(c, v->line, "%s: expected a mapping, got %s", path, type_name(v->type));
	if (k->type == K_TRAFFIC && v->n > TRAFFIC_MAX)
		return fail(c, v->line, "%s: more than %d deployments", path, TRAFFIC_MAX);
	if (k->type == K_ENVMAP && v->n > WS_MAX_ENV)
		return fail(c, v->line, "%s: more than %d variables", path, WS_MAX_ENV);
	for (size_t i = 0; i < v->n; i++) {
		char sub[300];
		snprintf(sub, sizeof sub, "%.200s.%.60s", path, v->keys[i]);
		if (k->type == K_ENVMAP && !env_name_valid(v->keys[i]))
			return fail(c, v->klines[i], "%s: \"%.60s\" is not an environment variable name "
				    "(letters, digits and '_', not starting with a digit)", path, v->keys[i]);
		if (k->type == K_TRAFFIC) {
			static const struct key pct = { "percent", K_INT, NOOFF, 0, 100, 0, NULL, 0, NULL };
			unsigned p;
			if (!name_valid(v->keys[i], strlen(v->keys[i])))
				return fail(c, v->klines[i], "%s: deployment \"%.60s\": %s", path, v->keys[i], name_rule());
			if (check_int(c, sub, &pct, v->v[i], &p) < 0)
				return -1;
			if (out)
				traffic_set(out, v->keys[i], p);
			continue;
		}
		if (v->v[i]->type == WS_NULL) {
			free(v->v[i]->s);
			if (!(v->v[i]->s = strdup("")))
				return fail(c, v->line, "out of memory");
		}
		if (want_string(c, sub, v->v[i]) < 0)
			return -1;
	}
	return 0;
}

static int check_map(const struct ctx *c, const struct key *table, struct ws_node *map, void *out,
		     const char *prefix);

/* Defaults of every typed key of table, for a map that is absent. */
static void defaults(const struct key *table, void *out)
{
	for (const struct key *k = table; k->name; k++) {
		void *p = at(out, k->off);
		if (k->type == K_TABLE)
			defaults(k->sub, out);
		else if (p && k->type == K_INT)
			*(unsigned *)p = (unsigned)k->def;
		else if (p && k->type == K_BOOL)
			*(int *)p = k->def != 0;
		else if (p && k->type == K_FRACTION)
			*(double *)p = 1.0;
		else if (p && k->type == K_ENUM)
			*(int *)p = (int)k->def;
		else if (p && k->type == K_STR)
			*(const char **)p = k->sdef;
	}
}

static int check_value(const struct ctx *c, const struct key *k, const char *path, struct ws_node *v,
		       void *out)
{
	void *p = at(out, k->off);
	char name[MODEL_NAME_MAX_LEN + 1], version[WS_VERSION_MAX + 1], msg[600];
	int latest;

	switch (k->type) {
	case K_ANY:
		return 0;
	case K_STR:
		if (v->type == WS_NULL) {
			if (p)
				*(const char **)p = k->sdef;
			return 0;
		}
		if (want_string(c, path, v) < 0)
			return -1;
		break;
	case K_NAME:
		if (want_string(c, path, v) < 0)
			return -1;
		if (!name_valid(v->s, strlen(v->s)))
			return fail(c, v->line, "%s \"%.60s\": %s", path, v->s, name_rule());
		break;
	case K_MODEL_NAME:
		if (want_string(c, path, v) < 0)
			return -1;
		if (!model_name_valid(v->s, strlen(v->s)))
			return fail(c, v->line, "%s \"%.60s\": %s", path, v->s, model_name_rule());
		break;
	case K_VERSION:
		if (want_string(c, path, v) < 0)
			return -1;
		if (!ws_version_valid(v->s))
			return fail(c, v->line, "%s \"%.60s\": a version has 1 to %d letters, digits, '.', '_' "
				    "or '-', beginning with a letter or digit", path, v->s, WS_VERSION_MAX);
		break;
	case K_ENUM:
		return check_enum(c, path, k, v, p);
	case K_INT:
		return check_int(c, path, k, v, p);
	case K_FRACTION:
		return check_fraction(c, path, v, p);
	case K_BOOL:
		if (v->type == WS_STR && (strcasecmp(v->s, "true") == 0 || strcasecmp(v->s, "false") == 0)) {
			v->type = WS_BOOL;   /* same word, same length: lower-case it in place */
			for (char *q = v->s; *q; q++)
				*q = (char)(*q | 0x20);
		}
		if (v->type != WS_BOOL)
			return fail(c, v->line, "%s: expected true or false, got \"%.60s\"", path,
				    v->s ? v->s : type_name(v->type));
		if (p)
			*(int *)p = strcmp(v->s, "true") == 0;
		return 0;
	case K_STRMAP:
	case K_ENVMAP:
	case K_TRAFFIC:
		return check_map_of_strings(c, path, k, v, p);
	case K_TABLE:
		if (v->type == WS_NULL) {
			defaults(k->sub, out);
			return 0;
		}
		if (v->type != WS_MAP)
			return fail(c, v->line, "%s: expected a mapping, got %s", path, type_name(v->type));
		return check_map(c, k->sub, v, out, path);
	case K_SECRET:
		if (want_string(c, path, v) < 0)
			return -1;
		if (!auth_secret_valid(v->s))
			return fail(c, v->line, "%s: not a secret scorepoint made (43 base64url characters)", path);
		break;
	case K_MODEL:
		if (v->type == WS_MAP)
			return fail(c, v->line, "%s: an inline model is not available locally: register it with "
				    "`scorepoint model create` and refer to it as azureml:NAME:VERSION", path);
		if (want_string(c, path, v) < 0)
			return -1;
		if (ws_model_ref(v->s, name, version, &latest, msg, sizeof msg) < 0)
			return fail(c, v->line, "%s", msg);
		if (c->state && latest)
			return fail(c, v->line, "%s \"%.60s\": the state names a concrete version", path, v->s);
		break;
	case K_STRSEQ:
		if (v->type != WS_SEQ)
			return fail(c, v->line, "%s: expected a list, got %s", path, type_name(v->type));
		for (size_t i = 0; i < v->n; i++)
			if (want_string(c, path, v->v[i]) < 0)
				return -1;
		return 0;
	case K_RECORDS:
		if (v->type == WS_NULL)
			return 0;
		if (v->type != WS_SEQ)
			return fail(c, v->line, "%s: expected a list, got %s", path, type_name(v->type));
		for (size_t i = 0; i < v->n; i++)
			if (v->v[i]->type != WS_MAP)
				return fail(c, v->v[i]->line, "%s: every item is a mapping", path);
		return 0;
	}
	if (p)
		*(const char **)p = v->s;
	return 0;
}

static const struct key *find_key(const struct key *table, const char *name, int state)
{
	for (const struct key *k = table; k->name; k++)
		if (strcmp(k->name, name) == 0 && (state || !(k->flags & F_STATE)))
			return k;
	return NULL;
}

static int unknown(const struct ctx *c, const struct key *table, const char *prefix, const char *key,
		   unsigned line)
{
	const struct key *best = NULL, *k;
	int bd = 3;
	for (k = table; k->name; k++) {
		int d = distance(key, k->name);
		if (d < bd && (c->state || !(k->flags & F_STATE))) {
			bd = d;
			best = k;
		}
	}
	if (k->sdef)   /* the table's END row says what is there instead */
		return fail(c, line, "%s%s%.60s: %s", prefix, *prefix ? "." : "", key, k->sdef);
	if (best)
		return fail(c, line, "unknown key \"%s%s%.60s\" (did you mean \"%s\"?)", prefix, *prefix ? "." : "",
			    key, best->name);
	return fail(c, line, "unknown key \"%s%s%.60s\"", prefix, *prefix ? "." : "", key);
}

static int check_map(const struct ctx *c, const struct key *table, struct ws_node *map, void *out,
		     const char *prefix)
{
	char path[300];

	for (size_t i = 0; i < map->n; i++) {
		const struct key *k = find_key(table, map->keys[i], c->state);
		if (!k)
			return unknown(c, table, prefix, map->keys[i], map->klines[i]);
		snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", k->name);
		if (check_value(c, k, path, map->v[i], out) < 0)
			return -1;
	}
	for (const struct key *k = table; k->name; k++) {
		if (ws_node_find(map, k->name) >= 0 || ((k->flags & F_STATE) && !c->state))
			continue;
		if (k->flags & F_REQ)
			return fail(c, map->line, "missing key \"%s%s%s\"", prefix, *prefix ? "." : "", k->name);
		if (k->type == K_TABLE) {
			defaults(k->sub, out);
		} else {
			struct key one[2] = { *k, END };
			defaults(one, out);
		}
	}
	return 0;
}

int ws_spec_check(enum ws_kind kind, struct ws_node *rec, int state, void *out,
		  const char *file, char *err, size_t errlen)
{
	struct ctx c = { file, state, err, errlen };
	if (!rec || rec->type != WS_MAP)
		return err_set(err, errlen, "%s: expected a mapping of keys to values", file);
	return check_map(&c, table_of(kind), rec, out, "");
}

int ws_spec_user_key(enum ws_kind kind, const char *key)
{
	return find_key(table_of(kind), key, 0) != NULL;
}

/* ---- show ---- */

static struct ws_node *default_node(const struct key *k)
{
	switch (k->type) {
	case K_INT: return ws_node_int(k->def);
	case K_ENUM: return ws_node_str(((const char *const *)k->sub)[k->def]);
	case K_STR: return k->sdef ? ws_node_str(k->sdef) : NULL;
	case K_BOOL: return ws_node_new(WS_BOOL, k->def ? "true" : "false");
	case K_FRACTION: return ws_node_new(WS_NUM, "1.0");
	case K_STRMAP:
	case K_ENVMAP:
	case K_TRAFFIC:
	case K_TABLE: return ws_node_new(WS_MAP, NULL);
	default: return NULL;
	}
}

/* Drop state-only keys and fill shown defaults, in place. */
static int show_map(const struct key *table, struct ws_node *m)
{
	for (const struct key *k = table; k->name; k++) {
		if (k->flags & F_STATE) {
			ws_node_del(m, k->name);
			continue;
		}
		struct ws_node *v = ws_node_get(m, k->name);
		if (!v && (k->flags & F_SHOW)) {
			struct ws_node *d = default_node(k);
			if (d && ws_node_set(m, k->name, d) < 0)
				return -1;
			v = ws_node_get(m, k->name);
		}
		if (v && v->type == WS_MAP && k->type == K_TABLE && show_map(k->sub, v) < 0)
			return -1;
	}
	return 0;
}

struct ws_node *ws_spec_show(enum ws_kind kind, const struct ws_node *rec)
{
	struct ws_node *c = ws_node_copy(rec);
	if (c && show_map(table_of(kind), c) < 0) {
		ws_node_free(c);
		return NULL;
	}
	return c;
}

int ws_spec_set(enum ws_kind kind, struct ws_node *rec, const char *path, const char *value,
		char *err, size_t errlen)
{
	char part[128];
	struct ws_node *m = rec;
	const char *p = path;

	for (int first = 1;; first = 0) {
		size_t k = strcspn(p, ".");
		if (k == 0 || k >= sizeof part)
			return err_set(err, errlen, "--set %s: expected KEY=VALUE with KEY like "
				       "request_settings.request_timeout_ms", path);
		memcpy(part, p, k);
		part[k] = '\0';
		if (first && !ws_spec_user_key(kind, part))
			return err_set(err, errlen, "--set %s: unknown key \"%s\"", path, part);
		p += k;
		if (*p == '\0')
			break;
		p++;
		struct ws_node *next = ws_node_get(m, part);
		if (!next || next->type == WS_NULL) {
			if (ws_node_set(m, part, ws_node_new(WS_MAP, NULL)) < 0)
				return err_set(err, errlen, "out of memory");
			next = ws_node_get(m, part);
		}
		if (next->type != WS_MAP)
			return err_set(err, errlen, "--set %s: \"%s\" is not a mapping", path, part);
		m = next;
	}
	if (ws_node_set(m, part, ws_node_plain(value, 0)) < 0)
		return err_set(err, errlen, "out of memory");
	return 0;
}
