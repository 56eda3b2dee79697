/*
 * ws_yaml.h - YAML text <-> struct ws_node, with libyaml.
 *
 * The reader takes the one document of a file and refuses what the
 * workspace never needs and an attacker would like: aliases (exponential
 * expansion), more than one document, duplicate keys, non-scalar keys,
 * NUL bytes, nesting deeper than WS_YAML_MAX_DEPTH and more than
 * WS_YAML_MAX_NODES nodes.  Quoted scalars and scalars tagged !!str are
 * strings; plain scalars resolve as ws_node_plain() says.
 */
#ifndef SCOREPOINT_WS_YAML_H
#define SCOREPOINT_WS_YAML_H

#include <stddef.h>

#include "model/enc.h"
#include "workspace/ws_node.h"

#define WS_YAML_MAX_DEPTH 32
#define WS_YAML_MAX_NODES 200000
#define WS_YAML_MAX_BYTES ((size_t)1 << 20)   /* an endpoint or deployment file */

/*
 * Parse text[0, len) into *root (the caller frees it with ws_node_free()).
 * `name` is the file name used in errors ("deployment.yml:3: ...").
 * Returns 0, or -1 with one line in err and *root NULL.
 */
int ws_yaml_parse(const char *text, size_t len, const char *name, struct ws_node **root,
		  char *err, size_t errlen);

/*
 * Read and parse the file `path`, refusing one larger than max_bytes or
 * not a regular file.  The root must be a mapping.  0, or -1 with err set
 * (naming the file) and *root NULL.
 */
int ws_yaml_load(const char *path, size_t max_bytes, struct ws_node **root, char *err,
		 size_t errlen);

/* ws_yaml_load() of the open file fd (read from its current offset). */
int ws_yaml_load_fd(int fd, const char *path, size_t max_bytes, struct ws_node **root, char *err,
		    size_t errlen);

/*
 * Append n as a YAML document (block style, no "---", UTF-8, no line
 * folding) to b.  A string that would read back as another type is
 * quoted, so ws_yaml_parse() gives back the same tree.  0, or -1 when b
 * is full or the emitter fails.
 */
int ws_yaml_emit(const struct ws_node *n, struct enc_buf *b);

#endif
