/*
 * jwt: HS256 JSON Web Tokens as the jsonwebtoken package makes them
 * (NocoBase's session and API-key tokens, reference §8.2).
 *
 * A token is base64url(header) "." base64url(claims) "." base64url(HMAC-
 * SHA256 over the first two parts), without padding; the header is always
 * {"alg":"HS256","typ":"JWT"}.  Verification accepts HS256 only, so a
 * token claiming "none" or any other algorithm is refused.
 */
#ifndef FLOWCGI_JWT_H
#define FLOWCGI_JWT_H

#include <json-c/json.h>
#include <stddef.h>

/* Longest token jwt_verify looks at; NocoBase's are a few hundred bytes. */
#define JWT_MAX_LEN 16384

/* Sign claims (a JSON object, serialised as jsonx_str prints it) with
 * keylen key bytes.  Returns a malloc'd token, or NULL when claims is not
 * an object or the key is empty. */
char *jwt_sign(json_object *claims, const void *key, size_t keylen);
/* Verify token with the key: exactly three non-empty base64url parts, a
 * JSON object header whose alg is "HS256", the signature compared in
 * constant time, a JSON object payload.  On success returns 0 and *claims
 * holds a new reference the caller puts; otherwise -1 and *claims is NULL.
 * Does not look at exp: callers do, as an expired token may be renewed. */
int jwt_verify(const char *token, const void *key, size_t keylen,
	       json_object **claims);

/* base64url without padding of n bytes; a malloc'd string. */
char *jwt_b64url_encode(const void *p, size_t n);
/* Strict decode of n characters: only [A-Za-z0-9_-], no padding, no
 * length of the form 4k+1, unused trailing bits zero.  Returns malloc'd
 * bytes with a NUL after them and *outlen, or NULL. */
unsigned char *jwt_b64url_decode(const char *s, size_t n, size_t *outlen);

#endif
