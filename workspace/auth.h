/*
 * auth.h - endpoint credentials: random secrets, "Authorization: Bearer"
 * values, key comparison, and HS256 JSON Web Tokens (docs/auth.md).
 *
 * An endpoint in key mode accepts its primary or secondary key; in
 * aml_token mode it accepts tokens signed with its own secret, whose
 * audience is the endpoint's name.  Keys and secrets have one form: 32
 * random bytes as 43 base64url characters.  Nothing here allocates or
 * keeps state; all comparisons of secret material are constant time.
 * Secrets must never be logged.
 */
#ifndef SCOREPOINT_AUTH_H
#define SCOREPOINT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_SECRET_TEXT 44      /* 43 base64url characters + NUL = 256 bits */
#define AUTH_TOKEN_MAX 1024      /* room for any token auth_token_mint writes */
#define AUTH_TOKEN_VERIFY_MAX 4096   /* longer tokens are AUTH_MALFORMED unread */
#define AUTH_CLOCK_SKEW 60       /* seconds an "iat" or "nbf" may be ahead of now */
/* Seconds a token lives: what get-credentials mints (Azure ML's aml_token
 * lasts an hour).  A token claiming more, exp - iat above this plus
 * AUTH_CLOCK_SKEW, is refused: a leaked long-lived token would outlast
 * any rotation schedule built on the hour. */
#define AUTH_TOKEN_LIFETIME 3600

/*
 * A fresh secret: 32 bytes from getrandom(2) as 43 base64url characters
 * without padding, NUL-terminated.  Serves as a key (key mode) and as an
 * endpoint's token-signing secret (aml_token mode).  Returns 0, or -1 with
 * errno set (out is then cleared).
 */
int auth_new_secret(char out[AUTH_SECRET_TEXT]);

/* True when text is exactly 43 base64url characters that decode to 32
 * bytes (the last character canonical: its two spare bits zero). */
int auth_secret_valid(const char *text);

/*
 * The credential in an Authorization header value: the text after the
 * scheme "Bearer" (any case) and one or more spaces, with spaces and tabs
 * around the whole value ignored.  Returns a pointer into header_value and its length in
 * *len, or NULL when the scheme is another, the credential is empty, or it
 * holds a space or a control character.  header_value is a C string.
 */
const char *auth_bearer(const char *header_value, size_t *len);

/*
 * True when given[0, len) equals the NUL-terminated key.  The time taken
 * depends on the key's length only: never on where the first difference
 * is, nor on whether len matches.  An empty or NULL key matches nothing.
 */
int auth_key_matches(const char *given, size_t len, const char *key);

/*
 * Write a compact JWT signed with HMAC-SHA256 under the 32 bytes the
 * secret decodes to: header {"alg":"HS256","typ":"JWT"}, payload
 * {"iss":"scorepoint","aud":AUDIENCE,"iat":IAT,"exp":IAT+LIFETIME} in that
 * order, so that the same inputs give the same bytes.  audience must be a
 * valid name (workspace/name.h), lifetime_s > 0, iat >= 0.  Returns the
 * token's length (NUL-terminated in out), or -1 when an input is invalid
 * or outlen is too small (AUTH_TOKEN_MAX always suffices).
 */
int auth_token_mint(const char *secret, const char *audience, int64_t iat,
		    int64_t lifetime_s, char *out, size_t outlen);

enum auth_verdict {
	AUTH_OK,
	AUTH_MALFORMED,         /* not three base64url segments of JSON objects; too long */
	AUTH_BAD_ALG,           /* header "alg" is not exactly "HS256" */
	AUTH_BAD_SIGNATURE,     /* not signed with this secret */
	AUTH_WRONG_AUDIENCE,    /* signed by us, for another endpoint */
	AUTH_EXPIRED,           /* exp <= now */
	AUTH_TOO_LONG,          /* exp - iat > AUTH_TOKEN_LIFETIME + AUTH_CLOCK_SKEW */
	AUTH_NOT_YET_VALID,     /* iat or nbf more than AUTH_CLOCK_SKEW ahead */
};

/*
 * Check tok[0, len) (need not be NUL-terminated) against the endpoint's
 * secret and name at time now (Unix seconds).  The signature is checked,
 * in constant time, before anything in the payload is read; then "aud"
 * (a string, or an array holding one) must equal audience, "exp" and
 * "iat" must be numbers, exp > now, exp - iat <= AUTH_TOKEN_LIFETIME +
 * AUTH_CLOCK_SKEW, iat <= now + AUTH_CLOCK_SKEW, and "nbf", when present,
 * <= now + AUTH_CLOCK_SKEW.  Duplicate keys in the
 * header or payload make a token malformed.  An invalid secret verifies
 * nothing (AUTH_BAD_SIGNATURE).
 */
enum auth_verdict auth_token_verify(const char *tok, size_t len, const char *secret,
				    const char *audience, int64_t now);

/* A short lowercase phrase for a 401 message ("token expired"); static. */
const char *auth_verdict_text(enum auth_verdict v);

#endif
