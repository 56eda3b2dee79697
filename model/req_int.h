/*
 * req_int.h - what model/req.c shares with the other request decoders of
 * model/ (v2.c).  Private to model/: not part of the library's API.
 */
#ifndef SCOREPOINT_REQ_INT_H
#define SCOREPOINT_REQ_INT_H

#include "model/req.h"

/* Fill e (status from the code) and return -1. */
int req_fail(struct req_error *e, enum req_errcode code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Start a decode: clear e and check the body against the byte cap.  0 or -1. */
int req_start(const struct req_ctx *c, size_t len, struct req_error *e);

/* Body bytes (or values) a decoder goes between two req_deadline() calls. */
#define REQ_DEADLINE_EVERY ((size_t)1 << 20)

/* 0, or -1 with REQ_E_DEADLINE in e once c->deadline has passed.  One
 * clock read: call it per block of work, never per number. */
int req_deadline(const struct req_ctx *c, struct req_error *e);

/* Grow *bufp to hold `need` elements of `size` bytes (amortised doubling). */
int req_reserve(void *bufp, size_t *cap, size_t need, size_t size);

/* "a string", "an array", "null", ... for messages. */
const char *req_kind_name(const char *js, const jsmntok_t *t);

/* Token t's text for messages, quoted by json_echo (escaped, cut). */
const char *req_tok_text(const char *js, const jsmntok_t *t, char *buf, size_t len);

/*
 * jsmn over text[0, len) into c->tok, doubling up to c->lim.max_tokens
 * (each retry re-parses: the total stays linear).  Returns the token count,
 * or -1 with e set.  `offset` maps a position in text to one in the body
 * for messages (NULL: the same).
 */
int req_tokenize(struct req_ctx *c, const char *text, size_t len,
		 size_t (*offset)(const struct req_ctx *c, size_t pos), struct req_error *e);

#endif
