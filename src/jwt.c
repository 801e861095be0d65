/* jwt: see jwt.h. */
#include "jwt.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto.h"
#include "jsonx.h"
#include "util.h"

/* base64url of {"alg":"HS256","typ":"JWT"}, byte for byte jsonwebtoken's. */
static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* base64url of a 32-byte HMAC-SHA256 is 43 characters. */
#define SIG_B64_LEN 43

char *jwt_b64url_encode(const void *p, size_t n)
{
	char *out;
	int len;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return NULL;
	out = util_xmalloc((n + 2) / 3 * 4 + 1);
	len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = 0;
	for (int i = 0; i < len; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *jwt_b64url_decode(const char *s, size_t n, size_t *outlen)
{
	size_t pad = (4 - n % 4) % 4;
	char *in = NULL;
	unsigned char *out = NULL;
	int len;

	*outlen = 0;
	if (n % 4 == 1 || n > (size_t)INT_MAX - 4)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (b64url_value(s[i]) < 0)
			return NULL;
	/* The bits past the last whole byte must be zero, so that every
	 * byte string has exactly one encoding. */
	if (n > 0 && pad > 0 &&
	    (b64url_value(s[n - 1]) & (pad == 2 ? 0x0f : 0x03)) != 0)
		return NULL;
	in = util_xmalloc(n + pad + 1);
	for (size_t i = 0; i < n; i++)
		in[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	memset(in + n, '=', pad);
	in[n + pad] = 0;
	out = util_xmalloc((n + pad) / 4 * 3 + 1);
	/* EVP_DecodeBlock counts the padding as zero bytes: drop them. */
	len = EVP_DecodeBlock(out, (unsigned char *)in, (int)(n + pad));
	free(in);
	if (len < 0 || (size_t)len < pad) {
		free(out);
		return NULL;
	}
	len -= (int)pad;
	out[len] = 0;
	*outlen = (size_t)len;
	return out;
}

/* base64url HMAC-SHA256 of n bytes, into out (SIG_B64_LEN + 1 bytes). */
static int sign_b64(const char *p, size_t n, const void *key, size_t keylen,
		    char out[SIG_B64_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *enc;

	if (keylen == 0 || keylen > INT_MAX)
		return -1;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)p, n,
		  md, &mdlen) ||
	    mdlen != 32)
		return -1;
	enc = jwt_b64url_encode(md, mdlen);
	memcpy(out, enc, SIG_B64_LEN + 1);
	free(enc);
	return 0;
}

char *jwt_sign(json_object *claims, const void *key, size_t keylen)
{
	const char *json;
	char *payload = NULL, *token = NULL;
	char sig[SIG_B64_LEN + 1];
	size_t hlen = sizeof(header_b64) - 1, plen, n;

	if (!json_object_is_type(claims, json_type_object) || keylen == 0)
		return NULL;
	json = jsonx_str(claims);
	payload = jwt_b64url_encode(json, strlen(json));
	if (!payload)
		return NULL;
	plen = strlen(payload);
	n = hlen + 1 + plen;
	token = util_xmalloc(n + 1 + SIG_B64_LEN + 1);
	memcpy(token, header_b64, hlen);
	token[hlen] = '.';
	memcpy(token + hlen + 1, payload, plen);
	token[n] = 0;
	free(payload);
	if (sign_b64(token, n, key, keylen, sig) != 0) {
		free(token);
		return NULL;
	}
	token[n] = '.';
	memcpy(token + n + 1, sig, SIG_B64_LEN + 1);
	return token;
}

/* Decode one part and parse it as a JSON object. */
static json_object *part_object(const char *s, size_t n)
{
	unsigned char *raw;
	size_t len;
	json_object *o = NULL;
	char err[128];

	raw = jwt_b64url_decode(s, n, &len);
	if (!raw)
		return NULL;
	if (jsonx_parse((const char *)raw, len, JSONX_MAX_DEPTH, &o, err,
			sizeof(err)) != 0)
		o = NULL;
	free(raw);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

int jwt_verify(const char *token, const void *key, size_t keylen,
	       json_object **claims)
{
	const char *d1, *d2, *sig;
	json_object *header = NULL, *payload = NULL;
	char want[SIG_B64_LEN + 1];
	size_t n;
	int rc = -1;

	*claims = NULL;
	if (!token)
		return -1;
	n = strnlen(token, JWT_MAX_LEN + 1);
	if (n == 0 || n > JWT_MAX_LEN)
		return -1;
	d1 = memchr(token, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - token)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - token)))
		return -1;
	sig = d2 + 1;
	if (d1 == token || d2 == d1 + 1 ||
	    (size_t)(token + n - sig) != SIG_B64_LEN)
		return -1;

	header = part_object(token, (size_t)(d1 - token));
	if (!header || !util_streq(jsonx_get_str(header, "alg"), "HS256"))
		goto out;
	if (sign_b64(token, (size_t)(d2 - token), key, keylen, want) != 0)
		goto out;
	/* Compare the encoded signatures, as jws does: this also refuses a
	 * second spelling of the same bytes. */
	if (!crypto_equal(want, sig, SIG_B64_LEN))
		goto out;
	payload = part_object(d1 + 1, (size_t)(d2 - d1 - 1));
	if (!payload)
		goto out;
	*claims = payload;
	payload = NULL;
	rc = 0;
out:
	json_object_put(header);
	json_object_put(payload);
	return rc;
}
