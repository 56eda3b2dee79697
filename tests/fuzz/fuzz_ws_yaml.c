/*
 * fuzz_ws_yaml.c - the endpoint and deployment YAML loaders from memory:
 * ws_yaml_parse (workspace/ws_yaml.h) and the key tables of ws_spec_check
 * (workspace/ws_spec.h), as `online-endpoint create -f` and
 * `online-deployment create -f` read a user's file (and, with state = 1,
 * as ws_load reads the records of state.yaml).
 *
 * The input is the YAML text.  Properties: a parsed tree emits as YAML
 * that parses back to the same tree (compared as JSON); a record that
 * passes a kind's check passes it again once normalised, unchanged; its
 * `show` form and JSON print without trouble.
 */
#include "workspace/ws.h"
#include "workspace/ws_spec.h"
#include "workspace/ws_yaml.h"
#include "tests/fuzz/fuzz.h"

static char *json_of(const struct ws_node *n)
{
	struct enc_buf b;
	enc_init(&b, 0);
	ws_node_json(n, &b);
	enc_raw(&b, "", 1);
	if (b.full)
		abort();
	return b.p;
}

static void round_trip(const struct ws_node *root)
{
	struct enc_buf b;
	struct ws_node *back = NULL;
	char err[512];

	enc_init(&b, 0);
	FUZZ_CHECK(ws_yaml_emit(root, &b) == 0, "emit failed");
	int rc = ws_yaml_parse(b.p, b.len, "emitted.yml", &back, err, sizeof err);
	FUZZ_CHECK(rc == 0, "the emitted YAML does not parse: %s\n%.*s", err, (int)b.len, b.p);
	char *ja = json_of(root), *jb = json_of(back);
	FUZZ_CHECK(strcmp(ja, jb) == 0, "round trip changes the tree:\n%s\n---\n%s", ja, jb);
	free(ja);
	free(jb);
	ws_node_free(back);
	enc_free(&b);
}

static void check_kind(enum ws_kind kind, int state, const struct ws_node *root)
{
	union {
		struct ws_endpoint e;
		struct ws_deployment d;
	} out;
	char err[512];
	struct ws_node *rec = ws_node_copy(root);

	if (!rec)
		abort();
	memset(&out, 0, sizeof out);
	if (ws_spec_check(kind, rec, state, &out, "f.yml", err, sizeof err) == 0) {
		char *once = json_of(rec);
		FUZZ_CHECK(ws_spec_check(kind, rec, state, &out, "f.yml", err, sizeof err) == 0,
			   "a checked record fails a second check: %s", err);
		char *twice = json_of(rec);
		FUZZ_CHECK(strcmp(once, twice) == 0, "a second check changes the record");
		struct ws_node *shown = ws_spec_show(kind, rec);
		if (shown) {
			free(json_of(shown));
			ws_node_free(shown);
		}
		free(once);
		free(twice);
	} else {
		FUZZ_CHECK(err[0] && memchr(err, '\0', sizeof err), "refused without a message");
	}
	ws_node_free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_node *root = NULL;
	char err[512];
	char *text = fuzz_copy(data, size);

	err[0] = '\0';
	int rc = ws_yaml_parse(text, size, "f.yml", &root, err, sizeof err);
	if (rc < 0) {
		FUZZ_CHECK(root == NULL && err[0], "a refusal leaves a tree or no message");
	} else if (root) {
		/* (An empty stream is a success without a tree; the loaders
		 * refuse it as "not a YAML mapping".) */
		round_trip(root);
		check_kind(WS_KIND_ENDPOINT, 0, root);
		check_kind(WS_KIND_DEPLOYMENT, 0, root);
		check_kind(WS_KIND_ENDPOINT, 1, root);
		check_kind(WS_KIND_DEPLOYMENT, 1, root);
		ws_node_free(root);
	}
	free(text);
	return 0;
}
