/*
 * ws_node.h - the small document tree of the workspace: what its YAML files
 * hold (workspace/ws_yaml.h reads and writes them) and what the CLI prints as
 * JSON.  Scalars keep the type a YAML plain scalar resolves to (number,
 * true/false, null) so that JSON output and round trips keep it too.
 *
 * Ownership: a tree owns every node and string below it; ws_node_free()
 * frees it all.  Functions that take a node to insert take ownership of it,
 * also when they fail.
 */
#ifndef SCOREPOINT_WS_NODE_H
#define SCOREPOINT_WS_NODE_H

#include <stddef.h>

#include "model/enc.h"

enum ws_type {
	WS_NULL,   /* s = "null" */
	WS_BOOL,   /* s = "true" or "false" */
	WS_NUM,    /* s = a number in JSON's grammar */
	WS_STR,
	WS_MAP,    /* n pairs keys[i] -> v[i], in insertion order, keys unique */
	WS_SEQ,    /* n items v[i] */
};

struct ws_node {
	enum ws_type type;
	unsigned line;         /* 1-based line in the file it came from; 0 if built */
	char *s;               /* scalars: the text; NULL for maps and sequences */
	size_t n, cap;
	char **keys;           /* maps */
	unsigned *klines;      /* maps: the line of each key (0 if built) */
	struct ws_node **v;    /* maps: values; sequences: items */
};

/* A new scalar of type t with a copy of text s, or an empty map/sequence
 * (s ignored).  NULL when out of memory. */
struct ws_node *ws_node_new(enum ws_type t, const char *s);
struct ws_node *ws_node_str(const char *s);
struct ws_node *ws_node_int(long long v);

/* The scalar a YAML plain scalar `text` resolves to: null (null, Null,
 * NULL, ~, empty), true/false (any of the three casings), a number when it
 * is in JSON's grammar, else a string. */
struct ws_node *ws_node_plain(const char *text, unsigned line);

/* The type ws_node_plain() would give `text`. */
enum ws_type ws_node_resolve(const char *text);

void ws_node_free(struct ws_node *n);
struct ws_node *ws_node_copy(const struct ws_node *n);   /* deep; NULL: no memory */

/* In map m (NULL or not a map: none), the value of key, or NULL. */
struct ws_node *ws_node_get(const struct ws_node *m, const char *key);
/* Index of key in map m, or -1. */
long ws_node_find(const struct ws_node *m, const char *key);

/* Set key to v in map m: replaces the value in place (keeping the key's
 * position) or appends.  Takes v.  0, or -1 when out of memory. */
int ws_node_set(struct ws_node *m, const char *key, struct ws_node *v);
/* Remove key from map m; 1 when it was there, 0 when not. */
int ws_node_del(struct ws_node *m, const char *key);
/* Append v to sequence s.  Takes v.  0 or -1. */
int ws_node_push(struct ws_node *s, struct ws_node *v);
/* Remove item i of sequence s and return it (the caller owns it). */
struct ws_node *ws_node_take(struct ws_node *s, size_t i);

/* The text of a scalar (also "null", "true", numbers), NULL otherwise. */
const char *ws_node_text(const struct ws_node *n);

/* Follow a dotted path of map keys ("request_settings.request_timeout_ms")
 * from n; NULL when some part is missing. */
const struct ws_node *ws_node_path(const struct ws_node *n, const char *path);

/*
 * Append n as pretty JSON to b, as Python's json.dumps(indent=2,
 * sort_keys=True) prints it (the Azure CLI's output): keys sorted, two
 * spaces per level, no newline at the end.
 */
void ws_node_json(const struct ws_node *n, struct enc_buf *b);

#endif
