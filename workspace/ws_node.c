/*
 * ws_node.c - the workspace's document tree, its edits and its JSON form.
 */
#include "workspace/ws_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ws_node *ws_node_new(enum ws_type t, const char *s)
{
	struct ws_node *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->type = t;
	if (t == WS_MAP || t == WS_SEQ)
		return n;
	n->s = strdup(s ? s : "");
	if (!n->s) {
		free(n);
		return NULL;
	}
	return n;
}

struct ws_node *ws_node_str(const char *s)
{
	return ws_node_new(WS_STR, s);
}

struct ws_node *ws_node_int(long long v)
{
	char t[32];
	snprintf(t, sizeof t, "%lld", v);
	return ws_node_new(WS_NUM, t);
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		s += strspn(s, "0123456789");
	else
		return 0;
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		s += strspn(s, "0123456789");
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		s += strspn(s, "0123456789");
	}
	return *s == '\0';
}

static int one_of(const char *s, const char *const *v)
{
	for (; *v; v++)
		if (strcmp(s, *v) == 0)
			return 1;
	return 0;
}

enum ws_type ws_node_resolve(const char *text)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };

	if (one_of(text, nulls))
		return WS_NULL;
	if (one_of(text, trues) || one_of(text, falses))
		return WS_BOOL;
	return json_number(text) ? WS_NUM : WS_STR;
}

struct ws_node *ws_node_plain(const char *text, unsigned line)
{
	enum ws_type t = ws_node_resolve(text);
	struct ws_node *n;

	if (t == WS_NULL)
		n = ws_node_new(t, "null");
	else if (t == WS_BOOL)
		n = ws_node_new(t, text[0] == 't' || text[0] == 'T' ? "true" : "false");
	else
		n = ws_node_new(t, text);
	if (n)
		n->line = line;
	return n;
}

void ws_node_free(struct ws_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		ws_node_free(n->v[i]);
	}
	free(n->keys);
	free(n->klines);
	free(n->v);
	free(n->s);
	free(n);
}

/* Room for one more pair or item. */
static int grow(struct ws_node *n)
{
	if (n->n < n->cap)
		return 0;
	size_t cap = n->cap ? n->cap * 2 : 4;
	struct ws_node **v = realloc(n->v, cap * sizeof *v);
	if (!v)
		return -1;
	n->v = v;
	if (n->type == WS_MAP) {
		char **k = realloc(n->keys, cap * sizeof *k);
		if (!k)
			return -1;
		n->keys = k;
		unsigned *kl = realloc(n->klines, cap * sizeof *kl);
		if (!kl)
			return -1;
		n->klines = kl;
	}
	n->cap = cap;
	return 0;
}

struct ws_node *ws_node_copy(const struct ws_node *n)
{
	struct ws_node *c = ws_node_new(n->type, n->s);
	if (!c)
		return NULL;
	c->line = n->line;
	for (size_t i = 0; i < n->n; i++) {
		struct ws_node *v = ws_node_copy(n->v[i]);
		int rc = n->type == WS_MAP ? ws_node_set(c, n->keys[i], v) : ws_node_push(c, v);
		if (rc < 0) {
			ws_node_free(c);
			return NULL;
		}
		if (n->type == WS_MAP)
			c->klines[i] = n->klines[i];
	}
	return c;
}

long ws_node_find(const struct ws_node *m, const char *key)
{
	if (!m || m->type != WS_MAP)
		return -1;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0)
			return (long)i;
	return -1;
}

struct ws_node *ws_node_get(const struct ws_node *m, const char *key)
{
	long i = ws_node_find(m, key);
	return i < 0 ? NULL : m->v[i];
}

int ws_node_set(struct ws_node *m, const char *key, struct ws_node *v)
{
	long i = ws_node_find(m, key);
	if (!v || !m || m->type != WS_MAP) {
		ws_node_free(v);
		return -1;
	}
	if (i >= 0) {
		ws_node_free(m->v[i]);
		m->v[i] = v;
		return 0;
	}
	char *k = strdup(key);
	if (!k || grow(m) < 0) {
		free(k);
		ws_node_free(v);
		return -1;
	}
	m->keys[m->n] = k;
	m->klines[m->n] = v->line;
	m->v[m->n++] = v;
	return 0;
}

int ws_node_del(struct ws_node *m, const char *key)
{
	long i = ws_node_find(m, key);
	if (i < 0)
		return 0;
	free(m->keys[i]);
	ws_node_free(m->v[i]);
	size_t rest = m->n - (size_t)i - 1;
	memmove(m->keys + i, m->keys + i + 1, rest * sizeof *m->keys);
	memmove(m->klines + i, m->klines + i + 1, rest * sizeof *m->klines);
	memmove(m->v + i, m->v + i + 1, rest * sizeof *m->v);
	m->n--;
	return 1;
}

int ws_node_push(struct ws_node *s, struct ws_node *v)
{
	if (!v || !s || s->type != WS_SEQ || grow(s) < 0) {
		ws_node_free(v);
		return -1;
	}
	s->v[s->n++] = v;
	return 0;
}

struct ws_node *ws_node_take(struct ws_node *s, size_t i)
{
	if (!s || s->type != WS_SEQ || i >= s->n)
		return NULL;
	struct ws_node *v = s->v[i];
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof *s->v);
	s->n--;
	return v;
}

const char *ws_node_text(const struct ws_node *n)
{
	return n && n->type != WS_MAP && n->type != WS_SEQ ? n->s : NULL;
}

const struct ws_node *ws_node_path(const struct ws_node *n, const char *path)
{
	char part[256];

	while (n && *path) {
		size_t k = strcspn(path, ".");
		if (k == 0 || k >= sizeof part)
			return NULL;
		memcpy(part, path, k);
		part[k] = '\0';
		n = ws_node_get(n, part);
		path += k;
		if (*path == '.')
			path++;
	}
	return n;
}

/* ---- JSON ---- */

static const struct ws_node *sort_map;

static int by_key(const void *a, const void *b)
{
	return strcmp(sort_map->keys[*(const size_t *)a], sort_map->keys[*(const size_t *)b]);
}

static void indent(struct enc_buf *b, int depth)
{
	enc_raw(b, "\n", 1);
	for (int i = 0; i < depth; i++)
		enc_raw(b, "  ", 2);
}

static void json_at(const struct ws_node *n, struct enc_buf *b, int depth)
{
	switch (n->type) {
	case WS_STR:
		enc_string(b, n->s);
		return;
	case WS_NULL:
	case WS_BOOL:
	case WS_NUM:
		enc_cstr(b, n->s);
		return;
	case WS_SEQ:
	case WS_MAP:
		break;
	}
	int map = n->type == WS_MAP;
	if (n->n == 0) {
		enc_cstr(b, map ? "{}" : "[]");
		return;
	}
	size_t *order = malloc(n->n * sizeof *order);
	if (!order) {
		b->full = 1;
		return;
	}
	for (size_t i = 0; i < n->n; i++)
		order[i] = i;
	if (map) {
		sort_map = n;
		qsort(order, n->n, sizeof *order, by_key);
	}
	enc_cstr(b, map ? "{" : "[");
	for (size_t i = 0; i < n->n; i++) {
		if (i)
			enc_raw(b, ",", 1);
		indent(b, depth + 1);
		if (map) {
			enc_string(b, n->keys[order[i]]);
			enc_raw(b, ": ", 2);
		}
		json_at(n->v[order[i]], b, depth + 1);
	}
	free(order);
	indent(b, depth);
	enc_cstr(b, map ? "}" : "]");
}

void ws_node_json(const struct ws_node *n, struct enc_buf *b)
{
	json_at(n, b, 0);
}
