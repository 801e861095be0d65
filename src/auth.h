/*
 * auth: from a token to a principal, in the check order of reference
 * §8.3 (signature, user, blacklist, expiry, session, renewal), then the
 * current role as §8.4 resolves it.  Tokens are JWT HS256 signed with the
 * app key; session tokens are renewed in x-new-token.
 */
#ifndef FLOWCGI_AUTH_H
#define FLOWCGI_AUTH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "err.h"

/* Who is calling: what auth resolved a token to.  Owned references are
 * put by auth_principal_free. */
struct principal {
	int64_t user_id;        /* 0: anonymous */
	json_object *user;      /* desensitised user row (owned) */
	const char *role;       /* current role name, or NULL; points into
				 * roles or is a literal */
	json_object *roles;     /* role names the caller holds (owned) */
	bool root;
	json_object *claims;    /* token claims (owned) */
	const char *token;      /* the token as given (the caller's copy) */
	char *renewed;          /* a successor token, malloc'd, or NULL */
};

/* Identify the caller by token (NULL: none given).  With no token,
 * required gives EMPTY_TOKEN, otherwise the caller stays anonymous.
 * accept: the request's Accept header (event streams never renew). */
int auth_identify(struct app *a, const char *token, const char *accept,
		  bool required, struct principal *who, struct err_why *e);
/* Resolve the role wanted (X-Role; an API key's own role wins) against
 * the caller's roles. */
int auth_role(struct app *a, const char *want, struct principal *who,
	      struct err_why *e);
void auth_principal_free(struct principal *who);

/* Session policy (durations in ms), from the settings table. */
struct auth_policy {
	int64_t token_ms;
	int64_t session_ms;
	int64_t renew_ms;
};
void auth_policy_load(struct app *a, struct auth_policy *p);
/* "1d", "30m", "2h", "45s", "500" (ms), "never": -1 when invalid;
 * never gives 1000 years as NocoBase does. */
int64_t auth_parse_duration(const char *s);

/* Issue a session token for user id (records its jti) into *token,
 * malloc'd; 0 or the store's error (a read-only database...). */
int auth_issue_session(struct app *a, int64_t user_id, char **token);
/* Issue an API-key token carrying roleName; expires_ms <= 0 is never. */
char *auth_issue_api_key(struct app *a, int64_t user_id, const char *role,
			 int64_t expires_ms);
/* Put the token on the blacklist (by jti when it has one). */
int auth_block(struct app *a, const char *token, json_object *claims);

/* The user row without secrets (new ref) or NULL. */
json_object *auth_load_user(struct app *a, int64_t id);
/* The user's role names, default first (new ref). */
json_object *auth_user_roles(struct app *a, int64_t id);

#endif
