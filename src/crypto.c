/* crypto: see crypto.h. */
#include "crypto.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "util.h"

/* NocoBase's PasswordField: length 64, randomBytesSize 8, hence a 24-byte
 * key; node's default scrypt cost. */
#define SALT_BYTES 8
#define SALT_HEX (2 * SALT_BYTES)
#define KEY_BYTES (CRYPTO_PASSWORD_LEN / 2 - SALT_BYTES)
#define SCRYPT_N 16384
#define SCRYPT_R 8
#define SCRYPT_P 1
/* scrypt needs 128*r*(N+2) + 128*r*p bytes, just over 16 MiB; OpenSSL's
 * default cap is 32 MiB, but say so rather than rely on it. */
#define SCRYPT_MAXMEM (32u * 1024 * 1024)

void crypto_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	while (n > 0) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;
		if (RAND_bytes(p, chunk) != 1) {
			fputs("flowcgi: RAND_bytes failed\n", stderr);
			abort();
		}
		p += chunk;
		n -= (size_t)chunk;
	}
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1 || len != 32) {
		fputs("flowcgi: SHA-256 failed\n", stderr);
		abort();
	}
	util_hex(md, 32, out);
}

void crypto_new_secret(char out[65])
{
	unsigned char r[32];
	crypto_random(r, sizeof(r));
	util_hex(r, sizeof(r), out);
	OPENSSL_cleanse(r, sizeof(r));
}

/* The salt is used as text: its 16 ASCII characters are the scrypt salt. */
static int derive_hex(const char *password, const char *salt,
		      char out[2 * KEY_BYTES + 1])
{
	unsigned char key[KEY_BYTES];
	if (EVP_PBE_scrypt(password, strlen(password),
			   (const unsigned char *)salt, SALT_HEX, SCRYPT_N,
			   SCRYPT_R, SCRYPT_P, SCRYPT_MAXMEM, key,
			   sizeof(key)) != 1)
		return -1;
	util_hex(key, sizeof(key), out);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

int crypto_password_hash(const char *password, char out[65])
{
	unsigned char salt[SALT_BYTES];
	char salt_hex[SALT_HEX + 1];
	char key_hex[2 * KEY_BYTES + 1];

	out[0] = 0;
	if (!password)
		return -1;
	crypto_random(salt, sizeof(salt));
	util_hex(salt, sizeof(salt), salt_hex);
	if (derive_hex(password, salt_hex, key_hex) != 0)
		return -1;
	memcpy(out, salt_hex, SALT_HEX);
	memcpy(out + SALT_HEX, key_hex, sizeof(key_hex));
	OPENSSL_cleanse(key_hex, sizeof(key_hex));
	return 0;
}

static bool is_hex(char c, bool lower_only)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))
		return true;
	return !lower_only && c >= 'A' && c <= 'F';
}

bool crypto_password_verify(const char *password, const char *stored)
{
	char key_hex[2 * KEY_BYTES + 1];
	bool ok;

	if (!password || !stored || strlen(stored) != CRYPTO_PASSWORD_LEN)
		return false;
	/* node compares hex strings, so an upper-case key never matches
	 * there; the salt is taken as given. */
	for (int i = 0; i < CRYPTO_PASSWORD_LEN; i++)
		if (!is_hex(stored[i], i >= SALT_HEX))
			return false;
	if (derive_hex(password, stored, key_hex) != 0)
		return false;
	ok = crypto_equal(key_hex, stored + SALT_HEX, 2 * KEY_BYTES);
	OPENSSL_cleanse(key_hex, sizeof(key_hex));
	return ok;
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
			unsigned char out[32])
{
	unsigned int len = 32;
	if (!HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len)) {
		fputs("flowcgi: HMAC failed\n", stderr);
		abort();
	}
}

char *crypto_base64(const void *p, size_t n)
{
	char *out = util_xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

unsigned char *crypto_base64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s), pad = 0;
	char *in;
	unsigned char *out;
	int len;

	if (n > (1u << 20))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/' ||
		      (s[i] == '=' && i + 2 >= n)))
			return NULL;
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return NULL;
	pad = (4 - n % 4) % 4;
	in = util_xmalloc(n + pad + 1);
	out = util_xmalloc((n + pad) / 4 * 3 + 1);
	memcpy(in, s, n);
	memset(in + n, '=', pad);
	in[n + pad] = 0;
	len = EVP_DecodeBlock(out, (unsigned char *)in, (int)(n + pad));
	free(in);
	if (len < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*outlen = (size_t)len - pad;
	out[*outlen] = 0;
	return out;
}

unsigned char *crypto_aes256cbc_decrypt(const unsigned char key[32],
					const unsigned char iv[16],
					const unsigned char *in, size_t n,
					size_t *outlen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char *out;
	int len = 0, last = 0, ok;

	if (!ctx)
		util_oom();
	out = util_xmalloc(n + 32 + 1);
	ok = n > 0 && n <= INT_MAX / 2 &&
	     EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) == 1 &&
	     EVP_DecryptUpdate(ctx, out, &len, in, (int)n) == 1 &&
	     EVP_DecryptFinal_ex(ctx, out + len, &last) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)(len + last);
	out[*outlen] = 0;
	return out;
}
