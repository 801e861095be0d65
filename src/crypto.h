/*
 * crypto: the few primitives flowcgi needs, all from OpenSSL's libcrypto.
 *
 * Passwords are stored as NocoBase stores them (reference §8.1): 16 hex
 * characters of salt (8 random bytes), then the hex of
 * scrypt(password, salt, N=16384, r=8, p=1, 24 bytes), where the salt given
 * to scrypt is the 16-character hex string itself, not its bytes.  A hash
 * made by NocoBase verifies here and the other way round.
 */
#ifndef FLOWCGI_CRYPTO_H
#define FLOWCGI_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

/* Length of a stored password hash (without the NUL). */
#define CRYPTO_PASSWORD_LEN 64

/* n random bytes from OpenSSL's CSPRNG; aborts on failure. */
void crypto_random(void *buf, size_t n);
/* Constant-time equality of n bytes. */
bool crypto_equal(const void *a, const void *b, size_t n);
/* Lower-case hex SHA-256 of n bytes. */
void crypto_sha256_hex(const void *p, size_t n, char out[65]);
/* HMAC-SHA256 of n bytes with keylen key bytes into out (32 bytes). */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
			unsigned char out[32]);
/* Standard base64 (with padding) of n bytes; malloc'd. */
char *crypto_base64(const void *p, size_t n);
/* Decode standard base64 (padding optional, no whitespace); malloc'd bytes
 * and *outlen, or NULL when s is not base64. */
unsigned char *crypto_base64_decode(const char *s, size_t *outlen);
/* 64 hex chars from 32 random bytes: the generated app secret. */
void crypto_new_secret(char out[65]);
/* Hash password (UTF-8, NUL-terminated) into out in the format above.
 * Returns 0, or -1 when scrypt fails (out is then ""). */
int crypto_password_hash(const char *password, char out[65]);
/* True when password matches stored.  The derived key is compared in
 * constant time; a stored value that is not 64 hex characters (the key
 * part lower-case, as node writes it) is false. */
bool crypto_password_verify(const char *password, const char *stored);
/* AES-256-CBC with PKCS#7 padding, as node's createDecipheriv: n bytes of
 * ciphertext under a 32-byte key and 16-byte iv.  The plaintext (malloc'd,
 * NUL-terminated, *outlen bytes), or NULL when the key or padding is
 * wrong. */
unsigned char *crypto_aes256cbc_decrypt(const unsigned char key[32],
					const unsigned char iv[16],
					const unsigned char *in, size_t n,
					size_t *outlen);

#endif
