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
 * characters in strings, nesting up to JSON_MAX_DEPTH, and no object that
 * gives a key twice.  Returns 0, or -1 with *bad set to the byte offset of
 * the first problem and *why to a static phrase ("missing ','", ...).
 *
 * Duplicate keys are refused at every level, for every caller: a server
 * must not guess which of two values the client meant (Python's json would
 * take the last, jsmn walks find the first).  Keys are compared decoded, so
 * "\u0061" repeats "a".  Objects of up to JSON_KEYS_LINEAR keys are checked
 * pair by pair, larger ones through a hash table (sorted instead when keys
 * chosen to collide exhaust its probe budget: never quadratic); only
 * objects that large allocate (freed before returning; when that fails,
 * *why is "out of memory").  A repeated key's *why is json_why_dup_key and *bad the offset
 * of its second occurrence's opening quote: json_refusal() names it.
 */
int json_validate(const char *js, size_t len, const jsmntok_t *t, int n,
		  size_t *bad, const char **why);

#define JSON_KEYS_LINEAR 8
extern const char json_why_dup_key[];

/* Bytes of request text a message may quote (json_echo). */
#define JSON_ECHO_MAX 40
/* Room for json_echo's longest output: JSON_ECHO_MAX bytes as \xNN, "...", NUL. */
#define JSON_ECHO_SIZE (4 * JSON_ECHO_MAX + 4)

/*
 * Request text p[0, n) quoted for a message (which ends up in a JSON body,
 * a log line, a terminal), into out[cap], NUL-terminated; returns out.  At
 * most JSON_ECHO_MAX bytes are quoted (fewer if out is smaller than
 * JSON_ECHO_SIZE), followed by "..." when cut.  Printable ASCII (0x20 to
 * 0x7E) is copied except the backslash and both quotes; those and every
 * other byte (control characters, DEL, each byte of a multi-byte UTF-8
 * sequence) are written as \xNN, so nothing quoted can end a line, start
 * an escape sequence or close the quotes around it.
 */
const char *json_echo(const char *p, size_t n, char *out, size_t cap);

/*
 * json_validate's refusal of js (bad, why) as a one-line message into
 * out[cap]; returns out.  `at` is bad in the caller's count of the body's
 * bytes (a decoder that tokenized a rewritten text maps it back):
 * "malformed JSON at byte AT: WHY", or for a repeated key
 * "key \"KEY\" is given twice (at byte AT)", KEY as written, via json_echo.
 */
const char *json_refusal(const char *js, size_t bad, const char *why, size_t at, char *out, size_t cap);

#endif
