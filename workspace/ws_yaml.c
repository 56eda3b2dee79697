/*
 * ws_yaml.c - the event parser builds the tree directly (no libyaml
 * document, so aliases are refused before they can expand); the emitter
 * writes it back.
 */
#include "workspace/ws_yaml.h"
#include "model/err.h"
#include "model/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define STR_TAG "tag:yaml.org,2002:str"

struct builder {
	const char *name;
	struct ws_node *root;
	struct ws_node *stack[WS_YAML_MAX_DEPTH];
	char *key[WS_YAML_MAX_DEPTH];        /* a map's key waiting for its value */
	unsigned kline[WS_YAML_MAX_DEPTH];
	int depth;
	size_t count;
	char *err;
	size_t errlen;
};

static int fail(struct builder *b, unsigned line, const char *what)
{
	return err_set(b->err, b->errlen, "%s:%u: %s", b->name, line, what);
}

/* Place node where the parser is: the root, a sequence item, a map key or
 * a map value.  Takes node. */
static int place(struct builder *b, struct ws_node *node)
{
	if (!node)
		return err_set(b->err, b->errlen, "%s: out of memory", b->name);
	if (++b->count > WS_YAML_MAX_NODES) {
		ws_node_free(node);
		return err_set(b->err, b->errlen, "%s: more than %d YAML nodes", b->name, WS_YAML_MAX_NODES);
	}
	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	struct ws_node *top = b->stack[b->depth - 1];
	if (top->type == WS_SEQ)
		return ws_node_push(top, node) < 0 ? err_set(b->err, b->errlen, "%s: out of memory", b->name) : 0;
	char **key = &b->key[b->depth - 1];
	if (!*key) {
		unsigned line = node->line;
		if (node->type == WS_MAP || node->type == WS_SEQ) {
			ws_node_free(node);
			return fail(b, line, "a mapping key must be a plain value");
		}
		if (ws_node_find(top, node->s) >= 0) {
			char msg[160];
			snprintf(msg, sizeof msg, "duplicate key \"%.100s\"", node->s);
			ws_node_free(node);
			return fail(b, line, msg);
		}
		*key = node->s;
		node->s = NULL;
		b->kline[b->depth - 1] = line;
		ws_node_free(node);
		return 0;
	}
	int rc = ws_node_set(top, *key, node);
	if (rc == 0)
		top->klines[top->n - 1] = b->kline[b->depth - 1];
	free(*key);
	*key = NULL;
	return rc < 0 ? err_set(b->err, b->errlen, "%s: out of memory", b->name) : 0;
}

static struct ws_node *scalar(const yaml_event_t *ev, unsigned line)
{
	const char *text = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	struct ws_node *n;

	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !(tag && strcmp(tag, STR_TAG) == 0)) {
		n = ws_node_plain(text, line);
	} else {
		n = ws_node_str(text);
		if (n)
			n->line = line;
	}
	return n;
}

/* One event; 1 when the document is complete, 0 to go on, -1 on error. */
static int event(struct builder *b, const yaml_event_t *ev)
{
	unsigned line = (unsigned)ev->start_mark.line + 1;
	struct ws_node *n;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(b, line, "YAML aliases (*name) are not supported");
	case YAML_SCALAR_EVENT:
		if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length)
			return fail(b, line, "a value holds a NUL byte");
		return place(b, scalar(ev, line));
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (b->depth >= WS_YAML_MAX_DEPTH)
			return fail(b, line, "nested too deep");
		n = ws_node_new(ev->type == YAML_MAPPING_START_EVENT ? WS_MAP : WS_SEQ, NULL);
		if (n)
			n->line = line;
		if (place(b, n) < 0)
			return -1;
		b->stack[b->depth] = n;
		b->key[b->depth] = NULL;
		b->depth++;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

int ws_yaml_parse(const char *text, size_t len, const char *name, struct ws_node **root,
		  char *err, size_t errlen)
{
	struct builder b;
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = -1, done = 0;

	memset(&b, 0, sizeof b);
	b.name = name;
	b.err = err;
	b.errlen = errlen;
	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return err_set(err, errlen, "%s: out of memory", name);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&p, &ev)) {
			err_set(err, errlen, "%s:%zu: YAML error: %s", name, p.problem_mark.line + 1,
				p.problem ? p.problem : "unreadable");
			goto out;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (done && ev.type == YAML_DOCUMENT_START_EVENT) {
			err_set(err, errlen, "%s:%zu: more than one YAML document", name, ev.start_mark.line + 1);
			yaml_event_delete(&ev);
			goto out;
		}
		int r = event(&b, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
		if (r > 0)
			done = 1;
	}
	rc = 0;
out:
	for (int i = 0; i < WS_YAML_MAX_DEPTH; i++)
		free(b.key[i]);
	yaml_parser_delete(&p);
	if (rc < 0)
		ws_node_free(b.root);
	else
		*root = b.root;
	return rc;
}

int ws_yaml_load_fd(int fd, const char *path, size_t max_bytes, struct ws_node **root, char *err,
		    size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t got = 0;
	int rc = -1;

	*root = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, errlen, "%s: not a regular file", path);
	if ((size_t)st.st_size > max_bytes)
		return err_set(err, errlen, "%s: larger than %zu bytes", path, max_bytes);
	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return err_set(err, errlen, "%s: out of memory", path);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_set(err, errlen, "%s: %s", path, r < 0 ? strerror(errno) : "shorter than its size");
			goto out;
		}
		got += (size_t)r;
	}
	if (ws_yaml_parse(text, got, path, root, err, errlen) < 0)
		goto out;
	if (!*root || (*root)->type != WS_MAP) {
		err_set(err, errlen, "%s: not a YAML mapping of keys to values", path);
		ws_node_free(*root);
		*root = NULL;
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

int ws_yaml_load(const char *path, size_t max_bytes, struct ws_node **root, char *err,
		 size_t errlen)
{
	int fd = file_open_regular(AT_FDCWD, path, 0, NULL, err, errlen);

	*root = NULL;
	if (fd < 0)
		return -1;
	int rc = ws_yaml_load_fd(fd, path, max_bytes, root, err, errlen);
	close(fd);
	return rc;
}

/* ---- emitter ---- */

static int to_buf(void *data, unsigned char *buffer, size_t size)
{
	struct enc_buf *b = data;
	enc_raw(b, (const char *)buffer, size);
	return !b->full;
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -1;
}

static int emit_node(yaml_emitter_t *e, const struct ws_node *n)
{
	yaml_event_t ev;

	if (n->type == WS_MAP || n->type == WS_SEQ) {
		int map = n->type == WS_MAP;
		if (map ? !yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) :
			  !yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
			return -1;
		if (emit(e, &ev) < 0)
			return -1;
		for (size_t i = 0; i < n->n; i++) {
			if (map) {
				struct ws_node k = { .type = WS_STR, .s = n->keys[i] };
				if (emit_node(e, &k) < 0)
					return -1;
			}
			if (emit_node(e, n->v[i]) < 0)
				return -1;
		}
		if (map ? !yaml_mapping_end_event_initialize(&ev) : !yaml_sequence_end_event_initialize(&ev))
			return -1;
		return emit(e, &ev);
	}
	/* A string that would resolve to something else when plain is quoted. */
	yaml_scalar_style_t style = n->type != WS_STR ? YAML_PLAIN_SCALAR_STYLE :
				    ws_node_resolve(n->s) != WS_STR ? YAML_SINGLE_QUOTED_SCALAR_STYLE :
				    YAML_ANY_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)n->s, (int)strlen(n->s), 1, 1, style))
		return -1;
	return emit(e, &ev);
}

int ws_yaml_emit(const struct ws_node *n, struct enc_buf *b)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int rc = -1;

	if (!yaml_emitter_initialize(&e))
		return -1;
	yaml_emitter_set_output(&e, to_buf, b);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || emit(&e, &ev) < 0)
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) || emit(&e, &ev) < 0)
		goto out;
	if (emit_node(&e, n) < 0)
		goto out;
	if (!yaml_document_end_event_initialize(&ev, 1) || emit(&e, &ev) < 0)
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) || emit(&e, &ev) < 0)
		goto out;
	rc = yaml_emitter_flush(&e) && !b->full ? 0 : -1;
out:
	yaml_emitter_delete(&e);
	return rc;
}
