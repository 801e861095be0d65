/* auth: see auth.h. */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "crypto.h"
#include "err.h"
#include "jsonx.h"
#include "jwt.h"
#include "log.h"
#include "memo.h"
#include "records.h"
#include "util.h"

#define DAY_MS 86400000LL
#define RENEW_REUSE_MS 10000

int64_t auth_parse_duration(const char *s)
{
	int64_t n;
	size_t len;

	if (!s || !*s)
		return -1;
	if (!strcmp(s, "never"))
		return 1000LL * 365 * DAY_MS;
	len = strlen(s);
	if (!util_parse_int64(s, &n))
		return n >= 0 ? n : -1;
	if (util_parse_int64n(s, len - 1, &n) || n < 0 || n > 1000000000)
		return -1;
	switch (s[len - 1]) {
	case 's': return n * 1000;
	case 'm': return n * 60000;
	case 'h': return n * 3600000;
	case 'd': return n * DAY_MS;
	case 'w': return n * 7 * DAY_MS;
	case 'y': return n * 365 * DAY_MS;
	default: return -1;
	}
}

void auth_policy_load(struct app *a, struct auth_policy *p)
{
	char *text = NULL;
	json_object *cfg = NULL;
	int64_t v;

	p->token_ms = DAY_MS;
	p->session_ms = 7 * DAY_MS;
	p->renew_ms = DAY_MS;
	if (store_meta_get(a->st, "token-policy-config", &text) || !text)
		return;
	cfg = json_tokener_parse(text);
	free(text);
	if ((v = auth_parse_duration(jsonx_get_str(cfg, "tokenExpirationTime"))) > 0)
		p->token_ms = v;
	if ((v = auth_parse_duration(jsonx_get_str(cfg, "sessionExpirationTime"))) > 0)
		p->session_ms = v;
	if ((v = auth_parse_duration(jsonx_get_str(cfg, "expiredTokenRenewLimit"))) >= 0)
		p->renew_ms = v;
	json_object_put(cfg);
}

static json_object *by(const char *k, json_object *v)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, k, v);
	return f;
}

static json_object *find_one(struct app *a, const char *coll,
			     json_object *filter, bool hidden)
{
	const struct coll *c = schema_coll(a->schema, coll);
	struct store_find q = {.filter = filter, .limit = 1, .hidden = hidden};
	json_object *rows = NULL, *row = NULL;
	if (c && !store_find(a->st, a->schema, c, &q, &rows) &&
	    json_object_array_length(rows))
		row = jsonx_ref(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	json_object_put(filter);
	return row;
}

json_object *auth_load_user(struct app *a, int64_t id)
{
	return find_one(a, "users", by("id", json_object_new_int64(id)), false);
}

json_object *auth_user_roles(struct app *a, int64_t id)
{
	const struct coll *c = schema_coll(a->schema, "rolesUsers");
	struct store_sort sort[2] = {{"default", true}, {"id", false}};
	json_object *f = by("userId", json_object_new_int64(id));
	struct store_find q = {.filter = f, .sort = sort, .nsort = 2};
	json_object *rows = NULL, *names = json_object_new_array();
	if (c && !store_find(a->st, a->schema, c, &q, &rows))
		for (size_t i = 0; i < json_object_array_length(rows); i++)
			json_object_array_add(
				names,
				jsonx_ref(jsonx_get(json_object_array_get_idx(rows, i),
						    "roleName")));
	json_object_put(rows);
	json_object_put(f);
	return names;
}

static bool blocked(struct app *a, const char *token, json_object *claims)
{
	const char *jti = jsonx_get_str(claims, "jti");
	char hash[65];
	json_object *row;
	if (!jti) {
		crypto_sha256_hex(token, strlen(token), hash);
		jti = hash;
	}
	row = find_one(a, "tokenBlacklist",
		       by("token", json_object_new_string(jti)), false);
	json_object_put(row);
	return row != NULL;
}

int auth_block(struct app *a, const char *token, json_object *claims)
{
	const struct coll *c = schema_coll(a->schema, "tokenBlacklist");
	const char *jti = jsonx_get_str(claims, "jti");
	json_object *v = json_object_new_object(), *rec = NULL;
	char hash[65], exp[32];
	int64_t e = 0;
	struct rctx x = {.app = a};
	int rc;

	if (!jti) {
		crypto_sha256_hex(token, strlen(token), hash);
		jti = hash;
	}
	if (blocked(a, token, claims)) {
		json_object_put(v);
		return 0;
	}
	jsonx_get_int(claims, "exp", &e);
	util_iso_from_ms(e * 1000, exp);
	json_object_object_add(v, "token", json_object_new_string(jti));
	json_object_object_add(v, "expiration", json_object_new_string(exp));
	rc = rec_create(&x, c, v, NULL, &rec);
	json_object_put(rec);
	json_object_put(v);
	return rc;
}

static char *sign(struct app *a, json_object *claims)
{
	return jwt_sign(claims, a->app_key, a->app_key_len);
}

static int record_jti(struct app *a, const char *jti, int64_t user,
		      int64_t signin, int64_t now)
{
	const struct coll *c = schema_coll(a->schema, "issuedTokens");
	json_object *v = json_object_new_object(), *rec = NULL;
	struct rctx x = {.app = a};
	json_object_object_add(v, "jti", json_object_new_string(jti));
	json_object_object_add(v, "issuedTime", json_object_new_int64(now));
	json_object_object_add(v, "signInTime", json_object_new_int64(signin));
	json_object_object_add(v, "userId", json_object_new_int64(user));
	int rc = rec_create(&x, c, v, NULL, &rec);
	json_object_put(rec);
	json_object_put(v);
	return rc;
}

static json_object *session_claims(int64_t user, int64_t signin,
				   int64_t now_ms, int64_t ttl_ms,
				   const char *jti)
{
	json_object *cl = json_object_new_object();
	json_object_object_add(cl, "userId", json_object_new_int64(user));
	json_object_object_add(cl, "temp", json_object_new_boolean(1));
	json_object_object_add(cl, "signInTime", json_object_new_int64(signin));
	json_object_object_add(cl, "iat", json_object_new_int64(now_ms / 1000));
	json_object_object_add(cl, "exp",
			       json_object_new_int64((now_ms + ttl_ms) / 1000));
	json_object_object_add(cl, "jti", json_object_new_string(jti));
	return cl;
}

int auth_issue_session(struct app *a, int64_t user_id, char **token)
{
	struct auth_policy p;
	char jti[40];
	int64_t now = util_now_ms();
	json_object *cl;
	int rc;

	*token = NULL;
	auth_policy_load(a, &p);
	util_uuid(jti);
	if ((rc = record_jti(a, jti, user_id, now, now)))
		return rc;
	cl = session_claims(user_id, now, now, p.token_ms, jti);
	*token = sign(a, cl);
	json_object_put(cl);
	return *token ? 0 : APP_EINTERNAL;
}

char *auth_issue_api_key(struct app *a, int64_t user_id, const char *role,
			 int64_t expires_ms)
{
	int64_t now = util_now_ms() / 1000;
	json_object *cl = json_object_new_object();
	char *tok;
	if (expires_ms <= 0)
		expires_ms = auth_parse_duration("never");
	json_object_object_add(cl, "userId", json_object_new_int64(user_id));
	json_object_object_add(cl, "roleName", json_object_new_string(role));
	json_object_object_add(cl, "iat", json_object_new_int64(now));
	json_object_object_add(cl, "exp",
			       json_object_new_int64(now + expires_ms / 1000));
	tok = sign(a, cl);
	json_object_put(cl);
	return tok;
}

/* An expired session token within the renew limit gets a successor:
 * the jti rotates and the new token travels in x-new-token.  Concurrent
 * renewals of one jti within 10 s share the successor. */
static int renew(struct app *a, const char *accept, struct principal *who,
		 const struct auth_policy *p, struct err_why *e)
{
	json_object *claims = who->claims;
	const char *jti = jsonx_get_str(claims, "jti");
	const struct coll *c = schema_coll(a->schema, "issuedTokens");
	json_object *row = NULL, *vals = NULL, *flt = NULL, *out = NULL, *cl;
	int64_t now = util_now_ms(), user = 0, signin = 0, renewed_at = 0;
	struct rctx x = {.app = a};
	char next[40];
	int rc;

	if (accept && strstr(accept, "text/event-stream"))
		return err_why_set(e, APP_ESKIP_RENEW, NULL,
				   "an event stream request cannot renew a "
				   "token");
	if (!jti)
		return err_why_set(e, APP_EINVALID_TOKEN, NULL,
				   "the expired token has no jti to renew");
	if ((rc = store_begin(a->st, true)))
		return err_why_set(e, rc, NULL, "%s", store_errmsg(a->st));
	row = find_one(a, "issuedTokens", by("jti", json_object_new_string(jti)),
		       true);
	if (!row) {
		store_rollback(a->st);
		return err_why_set(e, APP_ERENEW_FAILED, NULL,
				   "the token's jti was never issued or was "
				   "already replaced");
	}
	jsonx_get_int(claims, "userId", &user);
	jsonx_get_int(claims, "signInTime", &signin);
	const char *succ = jsonx_get_str(row, "renewedTo");
	jsonx_get_int(row, "renewedAt", &renewed_at);
	if (jsonx_get_bool(row, "renewed", false)) {
		if (!succ || now - renewed_at > RENEW_REUSE_MS) {
			json_object_put(row);
			store_rollback(a->st);
			return err_why_set(e, APP_ERENEW_FAILED, NULL,
					   "the token was already renewed");
		}
		snprintf(next, sizeof(next), "%s", succ);
	} else {
		util_uuid(next);
		renewed_at = now;
		vals = json_object_new_object();
		json_object_object_add(vals, "renewed", json_object_new_boolean(1));
		json_object_object_add(vals, "renewedTo", json_object_new_string(next));
		json_object_object_add(vals, "renewedAt", json_object_new_int64(now));
		flt = by("jti", json_object_new_string(jti));
		rc = rec_update(&x, c, flt, vals, &out);
		if (!rc)
			rc = record_jti(a, next, user, signin, now);
	}
	json_object_put(row);
	json_object_put(vals);
	json_object_put(flt);
	json_object_put(out);
	if (rc || (rc = store_commit(a->st))) {
		store_rollback(a->st);
		return err_why_set(e, rc, NULL, "token renewal failed: %s",
				   x.reason);
	}
	cl = session_claims(user, signin, renewed_at, p->token_ms, next);
	who->renewed = sign(a, cl);
	json_object_put(cl);
	return 0;
}

/* A token that verified without renewal is remembered with what it
 * resolved to, until it would need checking again or the security counter
 * moves (a user, role, grant or sign-out changed). */
static void remember(struct app *a, const struct principal *who, int64_t until)
{
	json_object *v = json_object_new_object();
	/* Every execution this token triggers stores the user in its context. */
	jsonx_freeze(who->user);
	json_object_object_add(v, "user", jsonx_ref(who->user));
	json_object_object_add(v, "claims", jsonx_ref(who->claims));
	json_object_object_add(v, "roles", jsonx_ref(who->roles));
	memo_put(a->principals, who->token, v, until);
}

static bool recall(struct app *a, const char *token, int64_t now,
		   struct principal *who)
{
	json_object *v = memo_get(a->principals, token, now);
	if (!v)
		return false;
	who->token = token;
	who->user = jsonx_ref(jsonx_get(v, "user"));
	who->claims = jsonx_ref(jsonx_get(v, "claims"));
	who->roles = jsonx_ref(jsonx_get(v, "roles"));
	jsonx_get_int(who->user, "id", &who->user_id);
	return true;
}

/* Signature, user and blacklist, in NocoBase's order (reference §8.3). */
static int verify(struct app *a, const char *token, struct principal *who,
		  struct err_why *e)
{
	json_object *claims = NULL;
	int64_t uid = 0;

	if (!a->app_key ||
	    jwt_verify(token, a->app_key, a->app_key_len, &claims))
		return err_why_set(e, APP_EINVALID_TOKEN, NULL,
				   "the token is malformed or its signature "
				   "does not verify");
	who->claims = claims;
	who->token = token;
	/* NocoBase looks for no user at all without a userId: NOT_EXIST_USER. */
	if (!jsonx_get_int(claims, "userId", &uid) || uid <= 0)
		return err_why_set(e, APP_ENO_USER, NULL,
				   "the token carries no userId");
	who->user = auth_load_user(a, uid);
	if (!who->user)
		return err_why_set(e, APP_ENO_USER, NULL,
				   "user %lld does not exist", (long long)uid);
	who->user_id = uid;
	if (blocked(a, token, claims))
		return err_why_set(e, APP_EBLOCKED_TOKEN, NULL,
				   "the token was signed out or revoked");
	who->roles = auth_user_roles(a, uid);
	return 0;
}

/* A session token (temp: true): its session, a password change since it
 * began, its expiry, and renewal within the renew limit. */
static int check_session(struct app *a, const char *accept,
			 struct principal *who, int64_t now, struct err_why *e)
{
	json_object *claims = who->claims;
	int64_t exp = 0, iat = 0, signin = 0, changed = 0;
	struct auth_policy p;
	bool has_exp = jsonx_get_int(claims, "exp", &exp);
	/* As NocoBase: a session token without signInTime has no session
	 * expiry to check. */
	bool has_signin = jsonx_get_int(claims, "signInTime", &signin);

	jsonx_get_int(claims, "iat", &iat);
	auth_policy_load(a, &p);
	if (has_signin && signin + p.session_ms < now)
		return err_why_set(e, APP_EEXPIRED_SESSION, NULL,
				   "the session began more than the session "
				   "expiration time ago");
	/* Sessions that began before a password change end.  signInTime has
	 * milliseconds; iat only seconds, which would also refuse a token
	 * issued right after the change, within the same second. */
	int64_t began = has_signin ? signin : iat * 1000;
	if (jsonx_get_int(who->user, "passwordChangeTz", &changed) &&
	    changed > began)
		return err_why_set(e, APP_EINVALID_TOKEN,
				   "User password changed, please signin again.",
				   "the password changed after the token was "
				   "issued");
	int64_t end = iat * 1000 + p.token_ms;
	if (has_exp && exp * 1000 < end)
		end = exp * 1000;
	if (now < end) {
		remember(a, who,
			 end < signin + p.session_ms ? end : signin + p.session_ms);
		return 0;
	}
	end = has_exp ? exp * 1000 : iat * 1000 + p.token_ms;
	if (now > end + p.renew_ms)
		return err_why_set(e, APP_EEXPIRED_SESSION, NULL,
				   "the token expired longer ago than the "
				   "renew limit");
	return renew(a, accept, who, &p, e);
}

int auth_identify(struct app *a, const char *token, const char *accept,
		  bool required, struct principal *who, struct err_why *e)
{
	int64_t exp = 0, now = util_now_ms();
	int rc;

	if (!token)
		return required ? err_why_set(e, APP_EEMPTY_TOKEN, NULL,
					      "no Authorization: Bearer header "
					      "and no token parameter")
				: 0;
	if (recall(a, token, now, who))
		return 0;
	if ((rc = verify(a, token, who, e)))
		return rc;
	if (jsonx_get_bool(who->claims, "temp", false))
		return check_session(a, accept, who, now, e);
	/* An API key, or a token without temp: only its own expiry. */
	bool has_exp = jsonx_get_int(who->claims, "exp", &exp);
	if (has_exp && exp * 1000 <= now)
		return err_why_set(e, APP_EINVALID_TOKEN, NULL,
				   "the token expired at %lld", (long long)exp);
	remember(a, who, has_exp ? exp * 1000 : 0);
	return 0;
}

/* The name in roles equal to want (borrowed), or NULL. */
static const char *held(json_object *roles, const char *want)
{
	for (size_t i = 0; i < json_object_array_length(roles); i++) {
		const char *r =
			json_object_get_string(json_object_array_get_idx(roles, i));
		if (r && !strcmp(r, want))
			return r;
	}
	return NULL;
}

int auth_role(struct app *a, const char *want, struct principal *who,
	      struct err_why *e)
{
	const char *own = jsonx_get_str(who->claims, "roleName");

	if (own)
		want = own;
	else if (want && !*want)
		want = NULL;
	if (want && !strcmp(want, "anonymous")) {
		who->role = "anonymous";
		return 0;
	}
	if (!who->user_id)
		return 0;
	if (!who->roles)
		who->roles = auth_user_roles(a, who->user_id);
	if (!json_object_array_length(who->roles))
		return err_why_set(e, APP_ENO_ROLES, NULL,
				   "user %lld has no roles",
				   (long long)who->user_id);
	if (!want || !strcmp(want, "__union__"))
		who->role = json_object_get_string(
			json_object_array_get_idx(who->roles, 0));
	else if (!(who->role = held(who->roles, want)))
		return err_why_set(e, APP_EROLE, NULL,
				   "user %lld does not hold role \"%s\"",
				   (long long)who->user_id, want);
	who->root = !strcmp(who->role, "root");
	return 0;
}

void auth_principal_free(struct principal *who)
{
	json_object_put(who->user);
	json_object_put(who->roles);
	json_object_put(who->claims);
	free(who->renewed);
	memset(who, 0, sizeof(*who));
}
