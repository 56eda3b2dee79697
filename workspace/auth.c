/*
 * auth.c - secrets, Bearer values, key comparison and HS256 JWTs.
 *
 * Tokens are checked in an order that never lets unauthenticated bytes
 * steer anything but the choice of algorithm: the shape and base64url of
 * all three segments, then the header (only "alg": "HS256" is accepted,
 * which rules out "none" and algorithm confusion), then the HMAC in
 * constant time, and only then the payload's claims.
 */
#include "workspace/auth.h"
#include "model/json.h"
#include "workspace/name.h"
#include "model/num.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SECRET_BYTES 32
#define SECRET_CHARS (AUTH_SECRET_TEXT - 1)
#define MAC_BYTES 32          /* HMAC-SHA256 */
#define MAC_CHARS 43
#define STR_(x) #x
#define STR(x) STR_(x)

/* A token's JSON has a handful of keys; more is not one of ours. */
#define JWT_TOKENS 64
/* Decoded object keys are compared whole up to this size (NUL included);
 * a longer key makes the token malformed: ours are three letters. */
#define JWT_KEY_MAX 32

/* The fixed header; its encoding is computed, not pasted, so it cannot
 * drift from the text. */
static const char JWT_HEADER[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

/* ---- base64url without padding (RFC 4648 section 5) ---- */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_len(size_t n)
{
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* Writes b64_len(n) characters, no NUL; returns that count. */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)in[i] << 16 | (left > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
			     (left > 2 ? in[i + 2] : 0);
		out[o++] = B64URL[v >> 18];
		out[o++] = B64URL[(v >> 12) & 63];
		if (left > 1)
			out[o++] = B64URL[(v >> 6) & 63];
		if (left > 2)
			out[o++] = B64URL[v & 63];
	}
	return o;
}

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/*
 * Decode in[0, n) into out[cap].  Returns the byte count, or -1 for a
 * character outside the alphabet (padding included), a length no encoding
 * has (n % 4 == 1), spare bits that are not zero (so each byte string has
 * exactly one accepted text), or too little room.
 */
static int b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val(in[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return acc == 0 ? (int)o : -1;
}

/* ---- secrets and keys ---- */

int auth_new_secret(char out[AUTH_SECRET_TEXT])
{
	unsigned char raw[SECRET_BYTES];
	size_t got = 0;

	while (got < sizeof raw) {
		ssize_t k = getrandom(raw + got, sizeof raw - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			OPENSSL_cleanse(raw, sizeof raw);
			memset(out, 0, AUTH_SECRET_TEXT);
			return -1;
		}
		got += (size_t)k;
	}
	out[b64_encode(raw, sizeof raw, out)] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

/* The 32 bytes a valid secret stands for; -1 when it is not one. */
static int secret_bytes(const char *secret, unsigned char key[SECRET_BYTES])
{
	if (!secret || strnlen(secret, AUTH_SECRET_TEXT) != SECRET_CHARS)
		return -1;
	return b64_decode(secret, SECRET_CHARS, key, SECRET_BYTES) == SECRET_BYTES ? 0 : -1;
}

int auth_secret_valid(const char *text)
{
	unsigned char key[SECRET_BYTES];
	int ok = secret_bytes(text, key) == 0;
	OPENSSL_cleanse(key, sizeof key);
	return ok;
}

int auth_key_matches(const char *given, size_t len, const char *key)
{
	if (!key || !*key || !given)
		return 0;
	size_t klen = strlen(key);
	/* On a length mismatch compare the key with itself: the same work,
	 * and nothing about where the contents differ. */
	const char *other = len == klen ? given : key;
	int same = CRYPTO_memcmp(other, key, klen) == 0;
	return same & (len == klen);
}

/* ---- Authorization: Bearer ---- */

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

const char *auth_bearer(const char *header_value, size_t *len)
{
	static const char scheme[] = "bearer";
	const char *p = header_value;

	if (!p)
		return NULL;
	p += strspn(p, " \t");   /* optional whitespace a server may leave */
	for (size_t i = 0; i < sizeof scheme - 1; i++)
		if (lower(p[i]) != scheme[i])
			return NULL;
	p += sizeof scheme - 1;
	if (*p != ' ')
		return NULL;
	p += strspn(p, " ");
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c == 0x7f)
			return NULL;
	}
	*len = n;
	return p;
}

/* ---- HS256 tokens ---- */

static int hs256(const unsigned char key[SECRET_BYTES], const char *data, size_t n,
		 unsigned char mac[MAC_BYTES])
{
	unsigned int maclen = 0;
	if (!HMAC(EVP_sha256(), key, SECRET_BYTES, (const unsigned char *)data, n, mac, &maclen) ||
	    maclen != MAC_BYTES)
		return -1;
	return 0;
}

int auth_token_mint(const char *secret, const char *audience, int64_t iat,
		    int64_t lifetime_s, char *out, size_t outlen)
{
	unsigned char key[SECRET_BYTES], mac[MAC_BYTES];
	char payload[160];
	int rc = -1;

	if (!audience || !name_valid(audience, strlen(audience)) || iat < 0 || lifetime_s <= 0 ||
	    lifetime_s > INT64_MAX - iat || secret_bytes(secret, key) < 0)
		goto out;
	int pl = snprintf(payload, sizeof payload,
			  "{\"iss\":\"scorepoint\",\"aud\":\"%s\",\"iat\":%" PRId64 ",\"exp\":%" PRId64 "}",
			  audience, iat, iat + lifetime_s);
	size_t hl = sizeof JWT_HEADER - 1;
	if (pl < 0 || (size_t)pl >= sizeof payload ||
	    b64_len(hl) + 1 + b64_len((size_t)pl) + 1 + MAC_CHARS + 1 > outlen)
		goto out;
	size_t n = b64_encode((const unsigned char *)JWT_HEADER, hl, out);
	out[n++] = '.';
	n += b64_encode((const unsigned char *)payload, (size_t)pl, out + n);
	if (hs256(key, out, n, mac) < 0)
		goto out;
	out[n++] = '.';
	n += b64_encode(mac, MAC_BYTES, out + n);
	out[n] = '\0';
	rc = (int)n;
out:
	OPENSSL_cleanse(key, sizeof key);
	return rc;
}

/*
 * Tokenize js[0, n) as one strict JSON object whose keys are all distinct
 * (json_validate compares them decoded: "\u0061lg" is "alg"), and set at[k]
 * to the value token of names[k], or -1.  Returns -1 when it is not such an
 * object.
 */
static int object(const char *js, size_t n, jsmntok_t *t, const char *const *names,
		  int *at, size_t nnames)
{
	char key[JWT_KEY_MAX];
	jsmn_parser p;
	size_t bad;
	const char *why;

	if (!json_depth_ok(js, n))
		return -1;
	jsmn_init(&p);
	int nt = jsmn_parse(&p, js, n, t, JWT_TOKENS);
	if (nt < 1 || json_validate(js, n, t, nt, &bad, &why) < 0 || t[0].type != JSMN_OBJECT)
		return -1;
	for (size_t m = 0; m < nnames; m++)
		at[m] = -1;
	int i = 1;
	for (int k = 0; k < t[0].size; k++) {
		if (json_string(js, t, i, key, JWT_KEY_MAX) < 0)
			return -1;
		for (size_t m = 0; m < nnames; m++)
			if (strcmp(key, names[m]) == 0)
				at[m] = i + 1;
		i = json_skip(t, i + 1);
	}
	return 0;
}

/* The header decides only the algorithm.  "crit" names extensions the
 * receiver must understand (RFC 7515 4.1.11); we understand none. */
static enum auth_verdict check_header(const char *js, size_t n)
{
	static const char *const names[] = { "alg", "crit" };
	jsmntok_t t[JWT_TOKENS];
	int at[2];

	if (object(js, n, t, names, at, 2) < 0 || at[1] >= 0)
		return AUTH_MALFORMED;
	return at[0] >= 0 && json_eq(js, t, at[0], "HS256") ? AUTH_OK : AUTH_BAD_ALG;
}

/* A JSON number token as a finite double; -1 when it is not one. */
static int number(const char *js, const jsmntok_t *t, int i, double *v)
{
	if (i < 0 || t[i].type != JSMN_PRIMITIVE)
		return -1;
	return num_parse(js + t[i].start, js + t[i].end, NUM_JSON, v) == NUM_OK ? 0 : -1;
}

static int audience_is(const char *js, const jsmntok_t *t, int i, const char *audience)
{
	char s[NAME_MAX_LEN + 2];
	return t[i].type == JSMN_STRING && json_string(js, t, i, s, sizeof s) >= 0 &&
	       strcmp(s, audience) == 0;
}

/* "aud" is one audience or an array of them (RFC 7519 4.1.3). */
static int audience_ok(const char *js, const jsmntok_t *t, int i, const char *audience)
{
	if (i < 0 || !audience)
		return 0;
	if (t[i].type != JSMN_ARRAY)
		return audience_is(js, t, i, audience);
	int k = i + 1;
	for (int n = 0; n < t[i].size; n++, k = json_skip(t, k))
		if (audience_is(js, t, k, audience))
			return 1;
	return 0;
}

static enum auth_verdict check_claims(const char *js, size_t n, const char *audience, int64_t now)
{
	static const char *const names[] = { "aud", "exp", "iat", "nbf" };
	jsmntok_t t[JWT_TOKENS];
	int at[4];
	double exp, iat, nbf = 0, late = (double)now + AUTH_CLOCK_SKEW;

	if (object(js, n, t, names, at, 4) < 0 || number(js, t, at[1], &exp) < 0 ||
	    number(js, t, at[2], &iat) < 0 || (at[3] >= 0 && number(js, t, at[3], &nbf) < 0))
		return AUTH_MALFORMED;
	if (!audience_ok(js, t, at[0], audience))
		return AUTH_WRONG_AUDIENCE;
	if (exp <= (double)now)
		return AUTH_EXPIRED;
	if (exp - iat > (double)AUTH_TOKEN_LIFETIME + AUTH_CLOCK_SKEW)
		return AUTH_TOO_LONG;
	if (iat > late || (at[3] >= 0 && nbf > late))
		return AUTH_NOT_YET_VALID;
	return AUTH_OK;
}

/* The HMAC of tok[0, signed_len) under the secret is sig[0, siglen). */
static int signature_ok(const char *tok, size_t signed_len, const unsigned char *sig,
			size_t siglen, const char *secret)
{
	unsigned char key[SECRET_BYTES], want[MAC_BYTES];
	int ok = 0;

	if (siglen == MAC_BYTES && secret_bytes(secret, key) == 0 &&
	    hs256(key, tok, signed_len, want) == 0)
		ok = CRYPTO_memcmp(want, sig, MAC_BYTES) == 0;
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(want, sizeof want);
	return ok;
}

/* Decode the segment [from, to) into buf at *used; -1 when it is not
 * base64url. */
static int segment(const char *from, const char *to, unsigned char *buf, size_t cap, size_t *used)
{
	int n = b64_decode(from, (size_t)(to - from), buf + *used, cap - *used);
	if (n >= 0)
		*used += (size_t)n;
	return n;
}

enum auth_verdict auth_token_verify(const char *tok, size_t len, const char *secret,
				    const char *audience, int64_t now)
{
	/* The three segments decoded side by side: together they are at most
	 * 3/4 of the token. */
	unsigned char buf[AUTH_TOKEN_VERIFY_MAX / 4 * 3 + 4];
	size_t used = 0;

	if (!tok || len == 0 || len > AUTH_TOKEN_VERIFY_MAX)
		return AUTH_MALFORMED;
	const char *end = tok + len;
	const char *d1 = memchr(tok, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)))
		return AUTH_MALFORMED;
	int hl = segment(tok, d1, buf, sizeof buf, &used);
	int pl = hl > 0 ? segment(d1 + 1, d2, buf, sizeof buf, &used) : -1;
	int sl = pl > 0 ? segment(d2 + 1, end, buf, sizeof buf, &used) : -1;
	if (sl < 0)
		return AUTH_MALFORMED;
	const char *header = (const char *)buf, *payload = header + hl;

	enum auth_verdict v = check_header(header, (size_t)hl);
	if (v != AUTH_OK)
		return v;
	if (!signature_ok(tok, (size_t)(d2 - tok), buf + hl + pl, (size_t)sl, secret))
		return AUTH_BAD_SIGNATURE;
	return check_claims(payload, (size_t)pl, audience, now);
}

const char *auth_verdict_text(enum auth_verdict v)
{
	switch (v) {
	case AUTH_OK: return "token valid";
	case AUTH_MALFORMED: return "malformed token";
	case AUTH_BAD_ALG: return "token algorithm is not HS256";
	case AUTH_BAD_SIGNATURE: return "bad token signature";
	case AUTH_WRONG_AUDIENCE: return "token is for another endpoint";
	case AUTH_EXPIRED: return "token expired";
	case AUTH_TOO_LONG: return "token lifetime longer than " STR(AUTH_TOKEN_LIFETIME) " s";
	case AUTH_NOT_YET_VALID: return "token not yet valid";
	}
	return "invalid token";
}
