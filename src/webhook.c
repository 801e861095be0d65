/* webhook: see webhook.h. */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "util.h"

int webhook_scheme_known(const char *scheme)
{
	return !scheme || !strcmp(scheme, "standard") || !strcmp(scheme, "github");
}

/* The key bytes of a Standard Webhooks secret: base64 after "whsec_"
 * (the raw string when it is not base64); malloc'd. */
static unsigned char *standard_key(const char *secret, size_t *n)
{
	const char *b64 = strncmp(secret, "whsec_", 6) ? secret : secret + 6;
	unsigned char *k = crypto_base64_decode(b64, n);
	if (k && *n)
		return k;
	free(k);
	*n = strlen(secret);
	return (unsigned char *)util_xstrdup(secret);
}

/* Whether one of the space-separated "v1,<base64>" entries is sig. */
static int any_matches(const char *list, const char *sig)
{
	size_t want = strlen(sig);
	int ok = 0;
	while (*list) {
		size_t n = strcspn(list, " ");
		if (n > 3 && !strncmp(list, "v1,", 3) && n - 3 == want)
			ok |= crypto_equal(list + 3, sig, want);
		list += n;
		list += strspn(list, " ");
	}
	return ok;
}

static int verify_standard(const struct webhook_delivery *d, struct err_why *e)
{
	struct buf signed_content = {0};
	unsigned char mac[32], *key;
	size_t keylen;
	int64_t ts;
	char *sig;
	int ok;

	if (!d->id || !d->timestamp || !d->signature)
		return err_why_set(e, APP_ESIGNATURE, NULL,
				   "a Standard Webhooks delivery carries "
				   "webhook-id, webhook-timestamp and "
				   "webhook-signature");
	if (util_parse_int64(d->timestamp, &ts))
		return err_why_set(e, APP_ESIGNATURE, NULL,
				   "webhook-timestamp is not a number");
	key = standard_key(d->secret, &keylen);
	buf_printf(&signed_content, "%s.%s.", d->id, d->timestamp);
	buf_append(&signed_content, d->body, d->body_len);
	crypto_hmac_sha256(key, keylen, signed_content.data, signed_content.len,
			   mac);
	sig = crypto_base64(mac, sizeof(mac));
	ok = any_matches(d->signature, sig);
	free(sig);
	free(key);
	buf_free(&signed_content);
	if (!ok)
		return err_why_set(e, APP_ESIGNATURE, NULL,
				   "no webhook-signature matches the body signed "
				   "with the workflow's secret");
	int64_t skew = d->now_s - ts, tol = d->tolerance_s > 0 ? d->tolerance_s : 300;
	if (skew > tol || skew < -tol)
		return err_why_set(e, APP_ESIG_EXPIRED, NULL,
				   "webhook-timestamp is %lld s from now; the "
				   "tolerance is %lld s",
				   (long long)skew, (long long)tol);
	return 0;
}

static int verify_github(const struct webhook_delivery *d, struct err_why *e)
{
	unsigned char mac[32];
	char hex[65];
	const char *given = d->hub_signature;

	if (!given || !d->github_delivery)
		return err_why_set(e, APP_ESIGNATURE, NULL,
				   "a GitHub delivery carries X-Hub-Signature-256 "
				   "and X-GitHub-Delivery");
	crypto_hmac_sha256(d->secret, strlen(d->secret), d->body, d->body_len,
			   mac);
	util_hex(mac, sizeof(mac), hex);
	if (strncmp(given, "sha256=", 7) || strlen(given + 7) != 64 ||
	    !crypto_equal(given + 7, hex, 64))
		return err_why_set(e, APP_ESIGNATURE, NULL,
				   "X-Hub-Signature-256 does not match the body "
				   "signed with the workflow's secret");
	return 0;
}

int webhook_verify(const struct webhook_delivery *d, const char **delivery_id,
		   struct err_why *e)
{
	if (!d->secret || !*d->secret)
		return err_why_set(e, APP_ESIGNATURE, NULL,
				   "the workflow has no secret to check against");
	if (d->scheme && !strcmp(d->scheme, "github")) {
		*delivery_id = d->github_delivery;
		return verify_github(d, e);
	}
	*delivery_id = d->id;
	return verify_standard(d, e);
}
