/*
 * fuzz_jwt: the token decoder (jwt.c), which sees every bearer token and
 * ?token= before anything else does.  The first input byte picks:
 *   even: the rest (up to a NUL) is a token, verified with the app key
 *         by jwt_verify, and its parts base64url-decoded one by one;
 *   odd:  the rest is header JSON, a NUL, payload bytes: the harness
 *         encodes and signs them with the key (HMAC-SHA256), so that the
 *         decoder gets past the signature and parses header and claims.
 *
 * Checks: a token verifies only with an object header whose alg is
 * "HS256" and an object payload; a decoded part re-encodes to the same
 * text; a token jwt_sign makes of the claims verifies again.
 */
#include "fuzz.h"

#include <openssl/hmac.h>

#include "jwt.h"

static const char KEY[] = "fuzz-app-key-0123456789abcdef";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	atexit(jsonx_cleanup);
	return 0;
}

static void decode_parts(const char *tok)
{
	const char *p = tok;
	for (;;) {
		size_t n = strcspn(p, "."), outlen = 0;
		unsigned char *raw = jwt_b64url_decode(p, n, &outlen);
		if (raw) {
			char *again = jwt_b64url_encode(raw, outlen);
			FUZZ_CHECK(again && strlen(again) == n &&
					   !memcmp(again, p, n),
				   "base64url %.*s decodes and re-encodes to %s",
				   (int)n, p, again ? again : "(null)");
			free(again);
			free(raw);
		}
		if (!p[n])
			break;
		p += n + 1;
	}
}

/* A verified token's header really was HS256 and its claims an object. */
static void check_verified(const char *tok, json_object *claims)
{
	size_t n = strcspn(tok, "."), len = 0;
	unsigned char *raw = jwt_b64url_decode(tok, n, &len);
	json_object *h = NULL;
	char err[256];

	FUZZ_CHECK(json_object_is_type(claims, json_type_object),
		   "claims are not an object");
	FUZZ_CHECK(raw && !jsonx_parse((char *)raw, len, JSONX_MAX_DEPTH, &h,
				       err, sizeof(err)),
		   "a verified token's header does not parse");
	FUZZ_CHECK(json_object_is_type(h, json_type_object) &&
			   jsonx_get_str(h, "alg") &&
			   !strcmp(jsonx_get_str(h, "alg"), "HS256"),
		   "a token with header %s verified", jsonx_str(h));
	json_object_put(h);
	free(raw);

	/* what we sign of these claims verifies to the same claims */
	char *mine = jwt_sign(claims, KEY, strlen(KEY));
	json_object *back = NULL;
	FUZZ_CHECK(mine && !jwt_verify(mine, KEY, strlen(KEY), &back),
		   "a token signed from verified claims does not verify");
	FUZZ_CHECK(jsonx_equal(back, claims), "claims changed: %s",
		   jsonx_str(back));
	json_object_put(back);
	free(mine);
}

static void verify(const char *tok)
{
	json_object *claims = NULL;
	if (jwt_verify(tok, KEY, strlen(KEY), &claims) == 0)
		check_verified(tok, claims);
	else
		FUZZ_CHECK(!claims, "a refused token returned claims");
	json_object_put(claims);
}

/* header "." payload "." signature, signed with KEY. */
static char *sign_raw(const uint8_t *h, size_t hn, const uint8_t *p,
		      size_t pn)
{
	char *eh = jwt_b64url_encode(h, hn), *ep = jwt_b64url_encode(p, pn);
	size_t n = strlen(eh) + strlen(ep) + 1;
	char *tok = malloc(n + 64);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!tok)
		abort();
	snprintf(tok, n + 1, "%s.%s", eh, ep);
	if (!HMAC(EVP_sha256(), KEY, (int)strlen(KEY), (unsigned char *)tok, n,
		  md, &mdlen))
		abort();
	char *sig = jwt_b64url_encode(md, mdlen);
	snprintf(tok + n, 64, ".%s", sig);
	free(sig);
	free(eh);
	free(ep);
	return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		char *tok = fuzz_cstr(data + 1, size - 1);
		verify(tok);
		decode_parts(tok);
		free(tok);
		return 0;
	}
	const uint8_t *h = data + 1, *nul = memchr(h, 0, size - 1);
	size_t hn = nul ? (size_t)(nul - h) : size - 1;
	const uint8_t *p = nul ? nul + 1 : h + hn;
	size_t pn = nul ? size - 1 - hn - 1 : 0;
	char *tok = sign_raw(h, hn, p, pn);
	verify(tok);
	free(tok);
	return 0;
}
