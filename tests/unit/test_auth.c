/* test_auth.c - workspace/auth.c: secrets, Bearer values, key comparison and
 * HS256 tokens, each verdict reached on purpose. */
#include "tests/unit/unit.h"
#include "workspace/auth.h"

#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* The bytes 0x00 to 0x1f, as a secret.  KAT_TOKEN was computed from it
 * independently of scorepoint, with Python's standard library only:
 *
 *   import base64, hmac, hashlib, json
 *   b = lambda x: base64.urlsafe_b64encode(x).rstrip(b'=').decode()
 *   key = bytes(range(32))                       # b(key) == KAT_SECRET
 *   j = lambda o: b(json.dumps(o, separators=(',', ':')).encode())
 *   h = j({"alg": "HS256", "typ": "JWT"})
 *   p = j({"iss": "scorepoint", "aud": "my-endpoint",
 *          "iat": 1700000000, "exp": 1700003600})
 *   print(h + '.' + p + '.' + b(hmac.new(key, (h + '.' + p).encode(),
 *                                        hashlib.sha256).digest()))
 */
#define KAT_SECRET "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define KAT_HEADER "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
#define KAT_PAYLOAD "eyJpc3MiOiJzY29yZXBvaW50IiwiYXVkIjoibXktZW5kcG9pbnQiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0"
#define KAT_SIG "chRSLm0f-4aLtYTKxCtMX4O0IvMX0di3QT3qH-a7hX0"
#define KAT_TOKEN KAT_HEADER "." KAT_PAYLOAD "." KAT_SIG
/* The same script's payload with "aud": "other-endpoint". */
#define OTHER_AUD_PAYLOAD "eyJpc3MiOiJzY29yZXBvaW50IiwiYXVkIjoib3RoZXItZW5kcG9pbnQiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0"

#define AUD "my-endpoint"
#define IAT 1700000000
#define LIFE 3600

static const unsigned char kat_key[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

/* base64url of in[0, n) through OpenSSL's standard base64, not ours. */
static size_t b64url(const void *in, size_t n, char *out)
{
	int k = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (k > 0 && out[k - 1] == '=')
		k--;
	out[k] = '\0';
	for (int i = 0; i < k; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return (size_t)k;
}

/* Any header and payload, HS256-signed with key: what an attacker who
 * holds the key could send, or what a tampered token looks like. */
static size_t sign_token(const char *header, const char *payload, const unsigned char *key, char *out)
{
	unsigned char mac[32];
	unsigned int maclen = 0;
	size_t n = b64url(header, strlen(header), out);
	out[n++] = '.';
	n += b64url(payload, strlen(payload), out + n);
	HMAC(EVP_sha256(), key, 32, (unsigned char *)out, n, mac, &maclen);
	out[n++] = '.';
	n += b64url(mac, maclen, out + n);
	return n;
}

static enum auth_verdict verify(const char *tok, int64_t now)
{
	return auth_token_verify(tok, strlen(tok), KAT_SECRET, AUD, now);
}

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define CLAIMS "\"iss\":\"scorepoint\",\"aud\":\"my-endpoint\",\"iat\":1700000000,\"exp\":1700003600"

/* A token for KAT_SECRET from header and payload JSON, verified at IAT. */
static enum auth_verdict signed_verdict(const char *header, const char *payload)
{
	char tok[8192];
	sign_token(header, payload, kat_key, tok);
	return verify(tok, IAT);
}

static void test_secrets(void)
{
	char a[AUTH_SECRET_TEXT], b[AUTH_SECRET_TEXT];
	CHECK_INT(auth_new_secret(a), 0);
	CHECK_INT(auth_new_secret(b), 0);
	CHECK_INT(strlen(a), 43);
	CHECK_INT(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	CHECK(auth_secret_valid(a));
	CHECK(auth_secret_valid(b));
	CHECK(strcmp(a, b) != 0);
}

static void test_secret_valid(void)
{
	CHECK(auth_secret_valid(KAT_SECRET));
	CHECK(!auth_secret_valid(KAT_SECRET "A"));                           /* 44 */
	CHECK(!auth_secret_valid("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh"));   /* 42 */
	CHECK(!auth_secret_valid(KAT_SECRET "="));                           /* padding */
	CHECK(!auth_secret_valid("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"));  /* spare bits set */
	CHECK(!auth_secret_valid("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd+h8"));  /* base64, not url */
	CHECK(!auth_secret_valid("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd h8"));
	CHECK(!auth_secret_valid(""));
	CHECK(!auth_secret_valid(NULL));
}

/* auth_bearer(value) gives want (NULL: refused). */
static void check_bearer(const char *value, const char *want)
{
	size_t len = 999;
	const char *got = auth_bearer(value, &len);
	if (!want) {
		CHECKF(got == NULL, "'%s' gave '%.*s'", value, (int)len, got);
		return;
	}
	CHECKF(got && len == strlen(want) && memcmp(got, want, len) == 0, "'%s' gave '%.*s', not '%s'",
	       value, got ? (int)len : 6, got ? got : "(null)", want);
}

static void test_bearer(void)
{
	check_bearer("Bearer abc.def-_", "abc.def-_");
	check_bearer("bearer abc", "abc");
	check_bearer("BEARER    abc  \t ", "abc");
	check_bearer(" \tBearer abc", "abc");
	check_bearer("Bearer " KAT_SECRET, KAT_SECRET);
	check_bearer("Basic dXNlcjpwYXNz", NULL);
	check_bearer("Bearerabc", NULL);
	check_bearer("Bearer\tabc", NULL);
	check_bearer("Bearer", NULL);
	check_bearer("Bearer ", NULL);
	check_bearer("Bearer   \t", NULL);
	check_bearer("Bearer a b", NULL);
	check_bearer("Bearer a\tb", NULL);
	check_bearer("Bearer a\x01" "b", NULL);
	check_bearer("Bearer a\x7f", NULL);
	check_bearer("Bear abc", NULL);
	check_bearer("", NULL);
	check_bearer(NULL, NULL);
}

static void test_key_matches(void)
{
	const char *key = KAT_SECRET;
	size_t n = strlen(key);
	char other[64];
	CHECK(auth_key_matches(key, n, key));
	memcpy(other, key, n + 1);
	CHECK(auth_key_matches(other, n, key));
	other[n - 1] = 'A';                                 /* last byte differs */
	CHECK(!auth_key_matches(other, n, key));
	memcpy(other, key, n + 1);
	other[0] = 'B';                                     /* first byte differs */
	CHECK(!auth_key_matches(other, n, key));
	CHECK(!auth_key_matches(key, n - 1, key));          /* a prefix */
	CHECK(!auth_key_matches(key, 0, key));
	memcpy(other, key, n);
	memcpy(other + n, "x", 2);                          /* the key and more */
	CHECK(!auth_key_matches(other, n + 1, key));
	CHECK(!auth_key_matches("", 0, ""));                /* an empty key matches nothing */
	CHECK(!auth_key_matches(key, n, NULL));
	CHECK(!auth_key_matches(NULL, 0, key));
	/* The length given is the bound, not a NUL. */
	CHECK(auth_key_matches("abcdef", 3, "abc"));
	CHECK(!auth_key_matches("abc", 3, "abcdef"));
}

static void test_known_answer(void)
{
	char tok[AUTH_TOKEN_MAX];
	int n = auth_token_mint(KAT_SECRET, AUD, IAT, LIFE, tok, sizeof tok);
	CHECK_INT(n, (int)strlen(KAT_TOKEN));
	CHECK_STR(tok, KAT_TOKEN);
	CHECK_INT(verify(KAT_TOKEN, IAT), AUTH_OK);
	/* Our test signer agrees with Python too, so the tokens it makes
	 * below are real HS256 tokens. */
	char t2[AUTH_TOKEN_MAX];
	sign_token(HS256, "{" CLAIMS "}", kat_key, t2);
	CHECK_STR(t2, KAT_TOKEN);
}

static void test_mint(void)
{
	char tok[AUTH_TOKEN_MAX], secret[AUTH_SECRET_TEXT];
	CHECK_INT(auth_new_secret(secret), 0);
	int n = auth_token_mint(secret, AUD, IAT, LIFE, tok, sizeof tok);
	CHECK(n > 0 && (size_t)n == strlen(tok));
	CHECK_INT(auth_token_verify(tok, (size_t)n, secret, AUD, IAT + 10), AUTH_OK);

	/* The longest audience and the largest times fit AUTH_TOKEN_MAX. */
	const char *longest = "abcdefghijklmnopqrstuvwxyz012345";
	n = auth_token_mint(secret, longest, INT64_MAX - 1, 1, tok, sizeof tok);
	CHECK(n > 0 && n < AUTH_TOKEN_MAX);
	n = auth_token_mint(secret, longest, IAT, LIFE, tok, sizeof tok);
	CHECK_INT(auth_token_verify(tok, (size_t)n, secret, longest, IAT), AUTH_OK);

	/* outlen: exactly the token and its NUL, or refused. */
	n = auth_token_mint(KAT_SECRET, AUD, IAT, LIFE, tok, strlen(KAT_TOKEN) + 1);
	CHECK_INT(n, (int)strlen(KAT_TOKEN));
	CHECK_INT(auth_token_mint(KAT_SECRET, AUD, IAT, LIFE, tok, strlen(KAT_TOKEN)), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, AUD, IAT, LIFE, tok, 0), -1);

	CHECK_INT(auth_token_mint("not-a-secret", AUD, IAT, LIFE, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(NULL, AUD, IAT, LIFE, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, "a\"b", IAT, LIFE, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, "x", IAT, LIFE, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, NULL, IAT, LIFE, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, AUD, IAT, 0, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, AUD, -1, LIFE, tok, sizeof tok), -1);
	CHECK_INT(auth_token_mint(KAT_SECRET, AUD, INT64_MAX, 1, tok, sizeof tok), -1);   /* exp overflows */
}

static void test_times(void)
{
	CHECK_INT(verify(KAT_TOKEN, IAT), AUTH_OK);
	CHECK_INT(verify(KAT_TOKEN, IAT + LIFE - 1), AUTH_OK);
	CHECK_INT(verify(KAT_TOKEN, IAT + LIFE), AUTH_EXPIRED);      /* exp == now is expired */
	CHECK_INT(verify(KAT_TOKEN, IAT + 10 * LIFE), AUTH_EXPIRED);
	CHECK_INT(verify(KAT_TOKEN, IAT - AUTH_CLOCK_SKEW), AUTH_OK);   /* a slow clock */
	CHECK_INT(verify(KAT_TOKEN, IAT - AUTH_CLOCK_SKEW - 1), AUTH_NOT_YET_VALID);

	CHECK_INT(signed_verdict(HS256, "{" CLAIMS ",\"nbf\":1700000060}"), AUTH_OK);
	CHECK_INT(signed_verdict(HS256, "{" CLAIMS ",\"nbf\":1700000061}"), AUTH_NOT_YET_VALID);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1.7e9,\"exp\":1700000000.5}"), AUTH_OK);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1.7e9,\"exp\":1700000000.0}"), AUTH_EXPIRED);
}

static void test_audience(void)
{
	CHECK_INT(auth_token_verify(KAT_TOKEN, strlen(KAT_TOKEN), KAT_SECRET, "other-endpoint", IAT),
		  AUTH_WRONG_AUDIENCE);
	CHECK_INT(auth_token_verify(KAT_TOKEN, strlen(KAT_TOKEN), KAT_SECRET, "my-endpoint-2", IAT),
		  AUTH_WRONG_AUDIENCE);
	CHECK_INT(auth_token_verify(KAT_TOKEN, strlen(KAT_TOKEN), KAT_SECRET, "my-endpoin", IAT),
		  AUTH_WRONG_AUDIENCE);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":[\"a-1\",\"my-endpoint\"],\"iat\":1700000000,\"exp\":1700003600}"), AUTH_OK);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":[\"a-1\",7,{}],\"iat\":1700000000,\"exp\":1700003600}"), AUTH_WRONG_AUDIENCE);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-\\u0065ndpoint\",\"iat\":1700000000,\"exp\":1700003600}"), AUTH_OK);
	CHECK_INT(signed_verdict(HS256, "{\"iat\":1700000000,\"exp\":1700003600}"), AUTH_WRONG_AUDIENCE);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":null,\"iat\":1700000000,\"exp\":1700003600}"), AUTH_WRONG_AUDIENCE);
}

static void test_signature(void)
{
	/* The payload re-encoded with another audience, the signature kept. */
	CHECK_INT(verify(KAT_HEADER "." OTHER_AUD_PAYLOAD "." KAT_SIG, IAT), AUTH_BAD_SIGNATURE);
	char tok[AUTH_TOKEN_MAX];
	memcpy(tok, KAT_TOKEN, sizeof KAT_TOKEN);
	tok[strlen(tok) - 5] = 'b';                             /* 'a' -> 'b': still base64url */
	CHECK_INT(verify(tok, IAT), AUTH_BAD_SIGNATURE);
	CHECK_INT(verify(KAT_HEADER "." KAT_PAYLOAD ".", IAT), AUTH_BAD_SIGNATURE);
	CHECK_INT(verify(KAT_HEADER "." KAT_PAYLOAD "." KAT_SIG "AAA", IAT),
		  AUTH_BAD_SIGNATURE);                               /* 34 bytes */

	/* Signed with a regenerated secret: the old secret refuses it. */
	char secret[AUTH_SECRET_TEXT];
	CHECK_INT(auth_new_secret(secret), 0);
	int n = auth_token_mint(secret, AUD, IAT, LIFE, tok, sizeof tok);
	CHECK(n > 0);
	CHECK_INT(auth_token_verify(tok, (size_t)n, secret, AUD, IAT), AUTH_OK);
	CHECK_INT(auth_token_verify(tok, (size_t)n, KAT_SECRET, AUD, IAT), AUTH_BAD_SIGNATURE);
	/* A broken secret verifies nothing. */
	CHECK_INT(auth_token_verify(KAT_TOKEN, strlen(KAT_TOKEN), "short", AUD, IAT), AUTH_BAD_SIGNATURE);
	CHECK_INT(auth_token_verify(KAT_TOKEN, strlen(KAT_TOKEN), NULL, AUD, IAT), AUTH_BAD_SIGNATURE);
}

static void test_algorithms(void)
{
	char tok[AUTH_TOKEN_MAX], h[128], p[256];
	/* "none" with an empty signature: the classic forgery. */
	b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}", 26, h);
	b64url("{" CLAIMS "}", strlen("{" CLAIMS "}"), p);
	snprintf(tok, sizeof tok, "%s.%s.", h, p);
	CHECK_INT(verify(tok, IAT), AUTH_BAD_ALG);
	/* Other algorithms, even with a valid HS256 signature. */
	CHECK_INT(signed_verdict("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", "{" CLAIMS "}"), AUTH_BAD_ALG);
	CHECK_INT(signed_verdict("{\"alg\":\"RS256\"}", "{" CLAIMS "}"), AUTH_BAD_ALG);
	CHECK_INT(signed_verdict("{\"alg\":\"hs256\"}", "{" CLAIMS "}"), AUTH_BAD_ALG);
	CHECK_INT(signed_verdict("{\"alg\":\"HS256 \"}", "{" CLAIMS "}"), AUTH_BAD_ALG);
	CHECK_INT(signed_verdict("{\"alg\":[\"HS256\"]}", "{" CLAIMS "}"), AUTH_BAD_ALG);
	CHECK_INT(signed_verdict("{\"typ\":\"JWT\"}", "{" CLAIMS "}"), AUTH_BAD_ALG);
	CHECK_INT(signed_verdict("{\"alg\":\"HS256\"}", "{" CLAIMS "}"), AUTH_OK);   /* typ is optional */
	/* Duplicate keys, even spelt differently: which one would count? */
	CHECK_INT(signed_verdict("{\"alg\":\"HS256\",\"alg\":\"none\"}", "{" CLAIMS "}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict("{\"alg\":\"HS256\",\"\\u0061lg\":\"none\"}", "{" CLAIMS "}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict("{\"alg\":\"HS256\",\"crit\":[\"b64\"]}", "{" CLAIMS "}"), AUTH_MALFORMED);
}

static void test_malformed(void)
{
	CHECK_INT(signed_verdict("not json", "{" CLAIMS "}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict("[\"HS256\"]", "{" CLAIMS "}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict("{\"alg\":\"HS256\"} x", "{" CLAIMS "}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict("{\"alg\":\"HS256\",}", "{" CLAIMS "}"), AUTH_MALFORMED);
	/* Claims are read only once signed, and must then be well formed. */
	CHECK_INT(signed_verdict(HS256, "not json"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "[1]"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1700000000}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"exp\":1700003600}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1700000000,\"exp\":\"1700003600\"}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1700000000,\"exp\":1e999}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{" CLAIMS ",\"nbf\":true}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{" CLAIMS ",\"aud\":\"my-endpoint\"}"), AUTH_MALFORMED);
	CHECK_INT(signed_verdict(HS256, "{" CLAIMS ",\"exp\":9999999999}"), AUTH_MALFORMED);

	/* Segments. */
	CHECK_INT(verify(KAT_HEADER "." KAT_PAYLOAD, IAT), AUTH_MALFORMED);
	CHECK_INT(verify(KAT_TOKEN ".", IAT), AUTH_MALFORMED);
	CHECK_INT(verify(KAT_TOKEN "." KAT_SIG, IAT), AUTH_MALFORMED);
	CHECK_INT(verify(KAT_HEADER ".." KAT_SIG, IAT), AUTH_MALFORMED);
	CHECK_INT(verify("." KAT_PAYLOAD "." KAT_SIG, IAT), AUTH_MALFORMED);
	CHECK_INT(verify("..", IAT), AUTH_MALFORMED);
	CHECK_INT(verify("", IAT), AUTH_MALFORMED);
	CHECK_INT(auth_token_verify(NULL, 0, KAT_SECRET, AUD, IAT), AUTH_MALFORMED);
	CHECK_INT(verify(KAT_SECRET, IAT), AUTH_MALFORMED);   /* a key where a token belongs */

	/* Characters outside base64url, in each segment. */
	char tok[AUTH_TOKEN_MAX];
	size_t at[] = { 3, strlen(KAT_HEADER) + 4, strlen(KAT_TOKEN) - 4 };
	const char bad[] = { '+', '/', '=', ' ', '*' };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		for (size_t k = 0; k < sizeof bad; k++) {
			memcpy(tok, KAT_TOKEN, sizeof KAT_TOKEN);
			tok[at[i]] = bad[k];
			CHECKF(verify(tok, IAT) == AUTH_MALFORMED, "'%c' at %zu", bad[k], at[i]);
		}
	}
	CHECK_INT(verify(KAT_TOKEN "=", IAT), AUTH_MALFORMED);   /* padding */
	/* The length, not a NUL, bounds the token; a NUL inside is malformed. */
	memcpy(tok, KAT_TOKEN, strlen(KAT_TOKEN) + 1);
	tok[10] = '\0';
	CHECK_INT(auth_token_verify(tok, strlen(KAT_TOKEN), KAT_SECRET, AUD, IAT), AUTH_MALFORMED);
	CHECK_INT(auth_token_verify(KAT_TOKEN "junk", strlen(KAT_TOKEN), KAT_SECRET, AUD, IAT), AUTH_OK);
}

/* A correctly signed token of exactly `want` bytes, padded by a claim
 * nobody reads; 0 if the padding cannot reach that length. */
static size_t padded_token(size_t want, char *tok)
{
	static char payload[4096];
	for (size_t pad = 0; pad < 3100; pad++) {
		int k = snprintf(payload, sizeof payload, "{" CLAIMS ",\"pad\":\"%*s\"}", (int)pad, "");
		if (k < 0 || (size_t)k >= sizeof payload)
			return 0;
		size_t n = sign_token(HS256, payload, kat_key, tok);
		if (n == want)
			return n;
		if (n > want)
			return 0;
	}
	return 0;
}

static void test_length_cap(void)
{
	static char tok[8192];
	size_t n = padded_token(AUTH_TOKEN_VERIFY_MAX, tok);
	CHECK_INT(n, AUTH_TOKEN_VERIFY_MAX);
	CHECK_INT(auth_token_verify(tok, n, KAT_SECRET, AUD, IAT), AUTH_OK);
	n = padded_token(AUTH_TOKEN_VERIFY_MAX + 1, tok);
	CHECK_INT(n, AUTH_TOKEN_VERIFY_MAX + 1);
	CHECK_INT(auth_token_verify(tok, n, KAT_SECRET, AUD, IAT), AUTH_MALFORMED);
	/* A huge length is refused before anything is read. */
	CHECK_INT(auth_token_verify(KAT_TOKEN, (size_t)1 << 40, KAT_SECRET, AUD, IAT), AUTH_MALFORMED);
}

static void test_verdict_text(void)
{
	enum auth_verdict all[] = { AUTH_OK, AUTH_MALFORMED, AUTH_BAD_ALG, AUTH_BAD_SIGNATURE,
				    AUTH_WRONG_AUDIENCE, AUTH_EXPIRED, AUTH_NOT_YET_VALID };
	size_t n = sizeof all / sizeof all[0];
	for (size_t i = 0; i < n; i++) {
		const char *s = auth_verdict_text(all[i]);
		CHECKF(s[0] >= 'a' && s[0] <= 'z', "'%s'", s);
		for (size_t j = 0; j < i; j++)
			CHECKF(strcmp(s, auth_verdict_text(all[j])) != 0, "'%s' twice", s);
	}
	CHECK_STR(auth_verdict_text(AUTH_EXPIRED), "token expired");
}

/* ---- issue 15: a token lives an hour ---- */

static void test_lifetime(void)
{
	char secret[AUTH_SECRET_TEXT], tok[AUTH_TOKEN_MAX];
	CHECK_INT(auth_new_secret(secret), 0);
	/* What get-credentials mints: an hour. */
	int n = auth_token_mint(secret, AUD, IAT, AUTH_TOKEN_LIFETIME, tok, sizeof tok);
	CHECK(n > 0 && auth_token_verify(tok, (size_t)n, secret, AUD, IAT) == AUTH_OK);
	CHECK(n > 0 && auth_token_verify(tok, (size_t)n, secret, AUD, IAT + AUTH_TOKEN_LIFETIME - 1) == AUTH_OK);
	/* Up to the clock skew more is let through; past it, refused. */
	n = auth_token_mint(secret, AUD, IAT, AUTH_TOKEN_LIFETIME + AUTH_CLOCK_SKEW, tok, sizeof tok);
	CHECK(n > 0 && auth_token_verify(tok, (size_t)n, secret, AUD, IAT) == AUTH_OK);
	n = auth_token_mint(secret, AUD, IAT, AUTH_TOKEN_LIFETIME + AUTH_CLOCK_SKEW + 1, tok, sizeof tok);
	CHECK(n > 0 && auth_token_verify(tok, (size_t)n, secret, AUD, IAT) == AUTH_TOO_LONG);
	n = auth_token_mint(secret, AUD, IAT, 365 * 86400, tok, sizeof tok);
	CHECK(n > 0 && auth_token_verify(tok, (size_t)n, secret, AUD, IAT + 86400) == AUTH_TOO_LONG);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1700000000,\"exp\":1700003660}"), AUTH_OK);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1700000000,\"exp\":1700003660.5}"),
		  AUTH_TOO_LONG);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":0,\"exp\":1e300}"), AUTH_TOO_LONG);
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":-1e300,\"exp\":1700000100}"), AUTH_TOO_LONG);
	/* iat in the future does not buy a longer life: it is not yet valid. */
	CHECK_INT(signed_verdict(HS256, "{\"aud\":\"my-endpoint\",\"iat\":1700000100,\"exp\":1700003700}"),
		  AUTH_NOT_YET_VALID);
	CHECK_STR(auth_verdict_text(AUTH_TOO_LONG), "token lifetime longer than 3600 s");
	for (int v = AUTH_OK; v <= AUTH_NOT_YET_VALID; v++)
		CHECKF(v == AUTH_TOO_LONG || strcmp(auth_verdict_text(v), auth_verdict_text(AUTH_TOO_LONG)) != 0,
		       "verdict %d", v);
}

int main(void)
{
	RUN(test_secrets);
	RUN(test_secret_valid);
	RUN(test_bearer);
	RUN(test_key_matches);
	RUN(test_known_answer);
	RUN(test_mint);
	RUN(test_times);
	RUN(test_audience);
	RUN(test_signature);
	RUN(test_algorithms);
	RUN(test_malformed);
	RUN(test_length_cap);
	RUN(test_verdict_text);
	RUN(test_lifetime);
	return unit_done();
}
