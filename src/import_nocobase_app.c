/*
 * import_nocobase_app: what NocoBase's folder (--app-dir) holds for the
 * import, found the way NocoBase 2.2 finds it (@nocobase/auth
 * AuthManager.getDefaultJWTSecret, @nocobase/server AesEncryptor):
 *
 *   token secret: APP_KEY when UNSAFE_USE_DEFAULT_JWT_SECRET=true; else
 *     <storage>/apps/main/jwt_secret.dat (32 raw bytes) when it exists;
 *     else APP_KEY unless it is the sample "your-secret-key"/"test-key";
 *   AES key (secret environment variables): APP_AES_SECRET_KEY (hex);
 *     else the file APP_AES_SECRET_KEY_PATH; else
 *     <storage>/apps/main/aes_key.dat, or the older
 *     <storage>/environment-variables/main/aes_key.dat;
 *
 * with <storage> = STORAGE_PATH (relative to the folder) or storage/.
 * Only the folder's .env is read, not this process's environment.
 */
#include "import_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "util.h"

/* A whole small file (at most max bytes), malloc'd with a NUL after it. */
static unsigned char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *p;
	size_t n;
	if (!f)
		return NULL;
	p = util_xmalloc(max + 1);
	n = fread(p, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(p);
		return NULL;
	}
	p[n] = 0;
	*len = n;
	return p;
}

/* One .env line's value: trimmed, quotes removed (with \n inside double
 * quotes), a trailing " # comment" dropped from an unquoted value. */
static char *env_line_value(const char *v, size_t n)
{
	while (n && isspace((unsigned char)*v))
		v++, n--;
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	if (n >= 2 && (*v == '"' || *v == '\'' || *v == '`') && v[n - 1] == *v) {
		char *out = util_xstrndup(v + 1, n - 2), *w = out;
		for (const char *r = out; *r; r++)
			if (*v == '"' && r[0] == '\\' && r[1] == 'n')
				*w++ = '\n', r++;
			else
				*w++ = *r;
		*w = 0;
		return out;
	}
	for (size_t i = 0; i + 1 < n; i++)
		if (v[i + 1] == '#' && isspace((unsigned char)v[i])) {
			n = i;
			break;
		}
	while (n && isspace((unsigned char)v[n - 1]))
		n--;
	return util_xstrndup(v, n);
}

char *import_nocobase_env_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	char *found = NULL;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		const char *p = line;
		while (p < line + n && isspace((unsigned char)*p))
			p++;
		if (!strncmp(p, "export ", 7))
			p += 7;
		/* As dotenv: the last assignment of a key wins. */
		if ((size_t)(line + n - p) > klen && !strncmp(p, key, klen)) {
			const char *q = p + klen;
			while (q < line + n && (*q == ' ' || *q == '\t'))
				q++;
			if (q < line + n && *q == '=') {
				free(found);
				found = env_line_value(q + 1, (size_t)(line + n - q - 1));
			}
		}
		line = end ? end + 1 : NULL;
	}
	return found;
}

/* rel under dir (rel itself when absolute); a path too long is "". */
static void path_join(char *out, size_t n, const char *dir, const char *rel)
{
	int len = rel[0] == '/' ? snprintf(out, n, "%s", rel)
				: snprintf(out, n, "%s/%s", dir, rel);
	if (len < 0 || (size_t)len >= n)
		out[0] = 0;
}

static int find_secret(const char *env, const char *dir, const char *storage,
		       struct nb_app *out, char *err, size_t errlen)
{
	char *key = import_nocobase_env_value(env, "APP_KEY");
	char *unsafe = import_nocobase_env_value(env, "UNSAFE_USE_DEFAULT_JWT_SECRET");
	char path[4096];
	size_t n = 0;
	int rc = 0;

	path_join(path, sizeof(path), storage, "apps/main/jwt_secret.dat");
	if (!util_streq(unsafe, "true") &&
	    (out->secret = slurp(path, 64, &n))) {
		if (n != 32) {
			snprintf(err, errlen, "%s has %zu bytes, not 32", path, n);
			rc = -1;
		}
		out->secret_len = n;
		out->secret_raw = true;
		snprintf(out->secret_from, sizeof(out->secret_from), "%.280s", path);
	} else if (key && *key && (util_streq(unsafe, "true") ||
				   (strcmp(key, "your-secret-key") &&
				    strcmp(key, "test-key")))) {
		out->secret = (unsigned char *)key;
		out->secret_len = strlen(key);
		key = NULL;
		snprintf(out->secret_from, sizeof(out->secret_from),
			 "APP_KEY of %s/.env", dir);
	} else {
		snprintf(err, errlen,
			 "no token secret in %s: neither %s nor a usable APP_KEY "
			 "in its .env",
			 dir, path);
		rc = -1;
	}
	free(key);
	free(unsafe);
	return rc;
}

/* The AES key, when there is one (none is not an error: secret variables
 * are then listed as skipped). */
static void find_aes(const char *env, const char *dir, const char *storage,
		     struct nb_app *out)
{
	char *hex = import_nocobase_env_value(env, "APP_AES_SECRET_KEY");
	char *kp = import_nocobase_env_value(env, "APP_AES_SECRET_KEY_PATH");
	const char *const tries[] = {"apps/main/aes_key.dat",
				     "environment-variables/main/aes_key.dat"};
	char path[4096];
	unsigned char *k = NULL;
	size_t n = 0;

	if (hex && strlen(hex) == 64 && !util_unhex(hex, 64, out->aes)) {
		out->has_aes = true;
		snprintf(out->aes_from, sizeof(out->aes_from), "APP_AES_SECRET_KEY");
	}
	for (int i = -1; !out->has_aes && i < 2; i++) {
		if (i < 0 && !kp)
			continue;
		path_join(path, sizeof(path), i < 0 ? dir : storage,
			  i < 0 ? kp : tries[i]);
		if ((k = slurp(path, 64, &n)) && n == 32) {
			memcpy(out->aes, k, 32);
			out->has_aes = true;
			snprintf(out->aes_from, sizeof(out->aes_from), "%.280s", path);
		}
		free(k);
		if (i < 0)
			break; /* a given path is the only one NocoBase uses */
	}
	free(hex);
	free(kp);
}

int import_nocobase_app_read(const char *dir, struct nb_app *out, char *err,
			     size_t errlen)
{
	char path[4096], storage[4096];
	unsigned char *env;
	char *sp;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/.env", dir);
	if (!(env = slurp(path, 1 << 20, &n))) {
		snprintf(err, errlen, "cannot read %s (the NocoBase folder's .env)",
			 path);
		return -1;
	}
	sp = import_nocobase_env_value((char *)env, "STORAGE_PATH");
	path_join(storage, sizeof(storage), dir, sp && *sp ? sp : "storage");
	rc = find_secret((char *)env, dir, storage, out, err, errlen);
	if (!rc)
		find_aes((char *)env, dir, storage, out);
	free(sp);
	free(env);
	if (rc)
		import_nocobase_app_free(out);
	return rc;
}

void import_nocobase_app_free(struct nb_app *nb)
{
	free(nb->secret);
	nb->secret = NULL;
}

char *import_nocobase_app_decrypt(const struct nb_app *nb, const char *hex)
{
	size_t n = hex ? strlen(hex) : 0, len = 0;
	unsigned char iv[16], *ct, *pt;
	if (!nb->has_aes || n <= 32 || n % 32)
		return NULL;
	ct = util_xmalloc(n / 2);
	if (util_unhex(hex, 32, iv) || util_unhex(hex + 32, n - 32, ct)) {
		free(ct);
		return NULL;
	}
	pt = crypto_aes256cbc_decrypt(nb->aes, iv, ct, (n - 32) / 2, &len);
	free(ct);
	if (pt && !util_utf8_valid((char *)pt, len)) {
		free(pt);
		return NULL;
	}
	return (char *)pt;
}
