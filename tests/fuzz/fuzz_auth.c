/*
 * fuzz_auth.c - keys and tokens (workspace/auth.h) with a fixed secret,
 * audience and time.
 *
 * Byte 0 selects; the rest is the input:
 *   0  auth_token_verify of the input as a token
 *   1  the input is HEADER JSON '\n' PAYLOAD JSON: the target encodes and
 *      signs them with the secret, so that the claim checks are reached
 *   2  auth_bearer of the input as a header value
 *   3  auth_key_matches: the input's first half is the key (up to a NUL),
 *      the second half the given credential
 *   4+ a token minted with auth_token_mint (iat and lifetime from the
 *      first 6 bytes), then edited by the rest, 3 bytes an edit: position
 *      (2 bytes), and a byte to XOR there (0: delete; past the end: append)
 * Properties: the minted token (lifetime up to an hour plus the skew)
 * verifies, and not for another audience, secret or time, nor minted to
 * live longer; an edited token that differs from it never verifies;
 * auth_bearer returns a non-empty credential without spaces or control
 * characters after a "Bearer " scheme; auth_key_matches is equality.
 */
#include "workspace/auth.h"
#include "tests/fuzz/fuzz.h"

#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SECRET "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA"   /* bytes 1..32 */
#define OTHER_SECRET "ZWZnaGlqa2xtbm9wcXJzdHV2d3h5ent8fX5_gIGCg4Q"
#define AUDIENCE "endpoint-online-1"
#define NOW ((int64_t)1700000000)

/* Base64url without padding of in[0, n) at out (room for 4 * (n / 3 + 1)
 * + 1 bytes), by OpenSSL rather than by the code under test; returns the
 * length. */
static size_t b64url(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	while (len > 0 && out[len - 1] == '=')
		len--;
	return (size_t)len;
}

static void verify_any(const char *tok, size_t len)
{
	enum auth_verdict v = auth_token_verify(tok, len, SECRET, AUDIENCE, NOW);
	FUZZ_CHECK(v >= AUTH_OK && v <= AUTH_NOT_YET_VALID && auth_verdict_text(v), "verdict %d", v);
}

static void sign_and_verify(const uint8_t *in, size_t n)
{
	const uint8_t *nl = memchr(in, '\n', n);
	if (!nl || n > AUTH_TOKEN_VERIFY_MAX / 2)
		return;
	char *tok = malloc(2 * n + 96);
	unsigned char key[32], mac[32];
	unsigned maclen = 0;
	if (!tok)
		abort();
	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)(i + 1);
	size_t t = b64url(in, (size_t)(nl - in), tok);
	tok[t++] = '.';
	t += b64url(nl + 1, (size_t)(in + n - nl - 1), tok + t);
	if (!HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *)tok, t, mac, &maclen))
		abort();
	tok[t++] = '.';
	t += b64url(mac, sizeof mac, tok + t);
	verify_any(tok, t);
	free(tok);
}

static void bearer(const uint8_t *in, size_t n)
{
	char *s = fuzz_cstr(in, n);
	size_t len = 0;
	const char *cred = auth_bearer(s, &len);
	if (cred) {
		size_t sl = strlen(s);
		FUZZ_CHECK(cred > s && len > 0 && cred + len <= s + sl, "credential outside the value");
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)cred[i] > ' ' && cred[i] != 0x7f, "byte %02x in the credential",
				   (unsigned char)cred[i]);
		const char *p = s + strspn(s, " \t");
		FUZZ_CHECK(strncasecmp(p, "bearer ", 7) == 0, "scheme of \"%s\"", s);
	}
	free(s);
}

static void key_matches(const uint8_t *in, size_t n)
{
	char *key = fuzz_cstr(in, n / 2);
	const char *given = (const char *)in + n / 2;
	size_t len = n - n / 2, kl = strlen(key);
	int want = kl > 0 && len == kl && memcmp(given, key, kl) == 0;
	FUZZ_CHECK(auth_key_matches(given, len, key) == want, "auth_key_matches is not equality");
	free(key);
}

static void mint_and_edit(const uint8_t *in, size_t n)
{
	char tok[AUTH_TOKEN_MAX], ed[AUTH_TOKEN_MAX + 64];
	if (n < 6)
		return;
	int64_t iat = (int64_t)((uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3]);
	int64_t life = 1 + ((int64_t)in[4] << 8 | in[5]) % (AUTH_TOKEN_LIFETIME + AUTH_CLOCK_SKEW);
	int len = auth_token_mint(SECRET, AUDIENCE, iat, life, tok, sizeof tok);
	FUZZ_CHECK(len > 0 && (size_t)len == strlen(tok), "mint gave %d", len);
	FUZZ_CHECK(auth_token_verify(tok, (size_t)len, SECRET, AUDIENCE, iat) == AUTH_OK, "fresh token refused");
	FUZZ_CHECK(auth_token_verify(tok, (size_t)len, SECRET, AUDIENCE, iat + life - 1) == AUTH_OK,
		   "token refused in its last second");
	FUZZ_CHECK(auth_token_verify(tok, (size_t)len, SECRET, AUDIENCE, iat + life) == AUTH_EXPIRED,
		   "token not expired at exp");
	FUZZ_CHECK(auth_token_verify(tok, (size_t)len, SECRET, AUDIENCE, iat - AUTH_CLOCK_SKEW - 1) ==
		   AUTH_NOT_YET_VALID, "token valid before iat - skew");
	FUZZ_CHECK(auth_token_verify(tok, (size_t)len, SECRET, "endpoint-online-2", iat) == AUTH_WRONG_AUDIENCE,
		   "token valid for another audience");
	FUZZ_CHECK(auth_token_verify(tok, (size_t)len, OTHER_SECRET, AUDIENCE, iat) == AUTH_BAD_SIGNATURE,
		   "token valid under another secret");
	char longer[AUTH_TOKEN_MAX];
	int ll = auth_token_mint(SECRET, AUDIENCE, iat, AUTH_TOKEN_LIFETIME + AUTH_CLOCK_SKEW + life, longer, sizeof longer);
	FUZZ_CHECK(ll > 0 && auth_token_verify(longer, (size_t)ll, SECRET, AUDIENCE, iat) == AUTH_TOO_LONG,
		   "a token living longer than an hour verifies");

	size_t el = (size_t)len;
	memcpy(ed, tok, el);
	for (size_t i = 6; i + 3 <= n; i += 3) {
		size_t pos = (size_t)in[i] << 8 | in[i + 1];
		uint8_t x = in[i + 2];
		if (pos >= el) {
			if (el < sizeof ed)
				ed[el++] = (char)x;
		} else if (x == 0) {
			memmove(ed + pos, ed + pos + 1, el - pos - 1);
			el--;
		} else {
			ed[pos] = (char)(ed[pos] ^ x);
		}
	}
	enum auth_verdict v = auth_token_verify(ed, el, SECRET, AUDIENCE, iat);
	if (el != (size_t)len || memcmp(ed, tok, el) != 0)
		FUZZ_CHECK(v != AUTH_OK, "an edited token verifies: \"%.*s\" from \"%s\"", (int)el, ed, tok);
	else
		FUZZ_CHECK(v == AUTH_OK, "the unedited token is refused (%d)", v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *in = data + 1;
	size_t n = size - 1;
	char *copy;

	switch (data[0]) {
	case 0:
		copy = fuzz_copy(in, n);
		verify_any(copy, n);
		free(copy);
		break;
	case 1:
		sign_and_verify(in, n);
		break;
	case 2:
		bearer(in, n);
		break;
	case 3:
		key_matches(in, n);
		break;
	default:
		mint_and_edit(in, n);
		break;
	}
	return 0;
}
