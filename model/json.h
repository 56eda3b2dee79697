/*
 * json.h - small helpers over jsmn tokens.  jsmn tokenizes; these walk the
 * token array and decode strings strictly (jsmn is not a validator).
 */
#ifndef SCOREPOINT_JSON_H
#define SCOREPOINT_JSON_H

#include <stddef.h>

/* Parent links make closing a container O(1) instead of a backward scan
 * over every token (4x faster on a 200-row request); strict mode refuses
 * primitives that cannot start a JSON value.  Both must be the same for
 * every file, so they are set here only.  model/json.c compiles jsmn's
 * implementation, once. */
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#ifndef SCOREPOINT_JSMN_IMPL
#define JSMN_HEADER
#endif
#include <jsmn.h>

/* Index of the token after t[i] and all its children. */
int json_skip(const jsmntok_t *t, int i);

/* True when string token t[i] is exactly s (compares raw bytes). */
int json_eq(const char *js, const jsmntok_t *t, int i, const char *s);

/* In object t[obj], the value token of key `key`, or -1. */
int json_get(const char *js, const jsmntok_t *t, int obj, const char *key);

/*
 * Decode string token t[i] (escapes, \uXXXX and surrogate pairs to UTF-8)
 * into out[cap] with a terminating NUL.  Returns the length, or -1 for a bad
 * escape, a raw control character, a lone surrogate, an embedded NUL or a
 * result that does not fit.
 */
int json_string(const char *js, const jsmntok_t *t, int i, char *out, size_t cap);

/* Containers nested deeper than this are refused by json_validate(). */
#define JSON_MAX_DEPTH 64

/*
 * True when js[0, len) nests containers no deeper than JSON_MAX_DEPTH
 * (strings skipped).  Run it before jsmn on untrusted text: jsmn closes a
 * container by walking up its parents, quadratic in the depth.
 */
int json_depth_ok(const char *js, size_t len);

/*
 * Check what jsmn does not, over the n tokens jsmn made of js[0, len):
 * exactly one top-level value with only whitespace around it, the
 * separators between tokens (',' and ':' where they belong and nowhere
 * else), the literals true/false/null, the number grammar, no raw control
 * characters in strings, and nesting up to JSON_MAX_DEPTH.  Returns 0, or
 * -1 with *bad set to the byte offset of the first problem and *why to a
 * static phrase ("missing ','", ...).
 */
int json_validate(const char *js, size_t len, const jsmntok_t *t, int n,
		  size_t *bad, const char **why);

#endif
