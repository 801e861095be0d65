/*
 * webhook: the signatures a webhook sender puts on a delivery, checked
 * over the raw body bytes in constant time (security: it decides, the API
 * answers).
 *
 * - standard (Standard Webhooks): webhook-id, webhook-timestamp and
 *   webhook-signature: space-separated "v1,<base64 HMAC-SHA256 of
 *   '<id>.<timestamp>.<body>'>"; the secret is "whsec_<base64 key>"; a
 *   timestamp further than tolerance seconds from now is refused.
 * - github: X-Hub-Signature-256: "sha256=<hex HMAC-SHA256 of the body>";
 *   the delivery id is X-GitHub-Delivery.
 */
#ifndef FLOWCGI_WEBHOOK_H
#define FLOWCGI_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct webhook_delivery {
	const char *scheme;     /* "standard" (default) or "github" */
	const char *secret;
	int64_t tolerance_s;    /* standard: default 300 */
	/* the headers (NULL when absent) */
	const char *id, *timestamp, *signature; /* standard */
	const char *hub_signature, *github_delivery; /* github */
	const void *body;
	size_t body_len;
	int64_t now_s;
};

/* 0 when the delivery is signed with the secret; APP_ESIGNATURE when a
 * header is missing or no signature matches, APP_ESIG_EXPIRED for a
 * timestamp outside the tolerance.  *delivery_id: the sender's id of the
 * delivery (its idempotency key). */
int webhook_verify(const struct webhook_delivery *d, const char **delivery_id,
		   struct err_why *e);
/* Whether scheme is one flowcgi checks. */
int webhook_scheme_known(const char *scheme);

#endif
