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

static char *bearer(struct req *r)
{
	const char *h = r->authorization;
	if (h) {
		while (*h == ' ')
			h++;
		if (!strncasecmp(h, "Bearer ", 7)) {
			h += 7;
			while (*h == ' ')
				h++;
			if (*h)
				return arena_strdup(r->arena, h);
		}
	}
	const char *q = req_param_str(r, "token");
	return q && *q ? arena_strdup(r->arena, q) : NULL;
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

char *auth_issue_session(struct app *a, int64_t user_id)
{
	struct auth_policy p;
	char jti[40];
	int64_t now = util_now_ms();
	json_object *cl;
	char *tok = NULL;

	auth_policy_load(a, &p);
	util_uuid(jti);
	if (record_jti(a, jti, user_id, now, now))
		return NULL;
	cl = session_claims(user_id, now, now, p.token_ms, jti);
	tok = sign(a, cl);
	json_object_put(cl);
	return tok;
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
static int renew(struct req *r, json_object *claims, const struct auth_policy *p)
{
	struct app *a = r->app;
	const char *jti = jsonx_get_str(claims, "jti");
	const struct coll *c = schema_coll(a->schema, "issuedTokens");
	json_object *row = NULL, *vals = NULL, *flt = NULL, *out = NULL, *cl;
	int64_t now = util_now_ms(), user = 0, signin = 0, renewed_at = 0;
	struct rctx x = {.app = a};
	char next[40];
	int rc;

	if (r->accept && strstr(r->accept, "text/event-stream"))
		return req_fail(r, APP_ESKIP_RENEW,
				"an event stream request cannot renew a token");
	if (!jti)
		return req_fail(r, APP_EINVALID_TOKEN,
				"the expired token has no jti to renew");
	if ((rc = store_begin(a->st, true)))
		return req_fail(r, rc, "%s", store_errmsg(a->st));
	row = find_one(a, "issuedTokens", by("jti", json_object_new_string(jti)),
		       true);
	if (!row) {
		store_rollback(a->st);
		return req_fail(r, APP_ERENEW_FAILED,
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
			return req_fail(r, APP_ERENEW_FAILED,
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
		return req_fail(r, rc, "token renewal failed: %s", x.reason);
	}
	cl = session_claims(user, signin, renewed_at, p->token_ms, next);
	r->new_token = sign(a, cl);
	json_object_put(cl);
	return 0;
}

/* A token that verified without renewal is remembered with what it
 * resolved to, until it would need checking again or the security counter
 * moves (a user, role, grant or sign-out changed). */
static void remember(struct req *r, int64_t until)
{
	json_object *v = json_object_new_object();
	/* Every execution this token triggers stores the user in its context. */
	jsonx_freeze(r->who.user);
	json_object_object_add(v, "user", jsonx_ref(r->who.user));
	json_object_object_add(v, "claims", jsonx_ref(r->who.claims));
	json_object_object_add(v, "roles", jsonx_ref(r->who.roles));
	memo_put(r->app->principals, r->who.token, v, until);
}

static bool recall(struct req *r, const char *token, int64_t now)
{
	json_object *v = memo_get(r->app->principals, token, now);
	if (!v)
		return false;
	r->who.token = token;
	r->who.user = jsonx_ref(jsonx_get(v, "user"));
	r->who.claims = jsonx_ref(jsonx_get(v, "claims"));
	r->who.roles = jsonx_ref(jsonx_get(v, "roles"));
	jsonx_get_int(r->who.user, "id", &r->who.user_id);
	return true;
}

int auth_identify(struct req *r, bool required)
{
	struct app *a = r->app;
	char *token = bearer(r);
	json_object *claims = NULL;
	int64_t uid = 0, exp = 0, iat = 0, signin = 0, now = util_now_ms();
	struct auth_policy p;
	int rc;

	if (!token)
		return required ? req_fail(r, APP_EEMPTY_TOKEN,
					   "no Authorization: Bearer header and "
					   "no token parameter")
				: 0;
	if (recall(r, token, now))
		return 0;
	if (!a->app_key || jwt_verify(token, a->app_key, a->app_key_len,
				      &claims))
		return req_fail(r, APP_EINVALID_TOKEN,
				"the token is malformed or its signature does "
				"not verify");
	r->who.claims = claims;
	r->who.token = token;
	/* NocoBase looks for no user at all without a userId: NOT_EXIST_USER. */
	if (!jsonx_get_int(claims, "userId", &uid) || uid <= 0)
		return req_fail(r, APP_ENO_USER, "the token carries no userId");
	r->who.user = auth_load_user(a, uid);
	if (!r->who.user)
		return req_fail(r, APP_ENO_USER, "user %lld does not exist",
				(long long)uid);
	r->who.user_id = uid;
	if (blocked(a, token, claims))
		return req_fail(r, APP_EBLOCKED_TOKEN,
				"the token was signed out or revoked");
	bool has_exp = jsonx_get_int(claims, "exp", &exp);
	jsonx_get_int(claims, "iat", &iat);
	r->who.roles = auth_user_roles(a, uid);
	if (!jsonx_get_bool(claims, "temp", false)) {
		if (has_exp && exp * 1000 <= now)
			return req_fail(r, APP_EINVALID_TOKEN,
					"the token expired at %lld",
					(long long)exp);
		remember(r, has_exp ? exp * 1000 : 0);
		return 0;
	}
	auth_policy_load(a, &p);
	/* As NocoBase: a session token without signInTime has no session
	 * expiry to check. */
	bool has_signin = jsonx_get_int(claims, "signInTime", &signin);
	if (has_signin && signin + p.session_ms < now)
		return req_fail(r, APP_EEXPIRED_SESSION,
				"the session began more than the session "
				"expiration time ago");
	/* Sessions that began before a password change end.  signInTime has
	 * milliseconds; iat only seconds, which would also refuse a token
	 * issued right after the change, within the same second. */
	int64_t changed = 0, began = has_signin ? signin : iat * 1000;
	if (jsonx_get_int(r->who.user, "passwordChangeTz", &changed) &&
	    changed > began)
		return req_fail_msg(r, APP_EINVALID_TOKEN,
				    "User password changed, please signin "
				    "again.",
				    "the password changed after the token was "
				    "issued");
	int64_t end = iat * 1000 + p.token_ms;
	if (has_exp && exp * 1000 < end)
		end = exp * 1000;
	if (now < end) {
		remember(r, end < signin + p.session_ms ? end
							 : signin + p.session_ms);
		return 0;
	}
	end = has_exp ? exp * 1000 : iat * 1000 + p.token_ms;
	if (now > end + p.renew_ms)
		return req_fail(r, APP_EEXPIRED_SESSION,
				"the token expired longer ago than the renew "
				"limit");
	if ((rc = renew(r, claims, &p)))
		return rc;
	return 0;
}

int auth_role(struct req *r)
{
	struct app *a = r->app;
	const char *want = jsonx_get_str(r->who.claims, "roleName");
	json_object *roles;

	if (!want)
		want = r->x_role && *r->x_role ? r->x_role : NULL;
	if (want && !strcmp(want, "anonymous")) {
		r->who.role = "anonymous";
		return 0;
	}
	if (!r->who.user_id)
		return 0;
	if (!r->who.roles)
		r->who.roles = auth_user_roles(a, r->who.user_id);
	roles = r->who.roles;
	if (!json_object_array_length(roles))
		return req_fail(r, APP_ENO_ROLES, "user %lld has no roles",
				(long long)r->who.user_id);
	if (!want || !strcmp(want, "__union__")) {
		r->who.role = arena_strdup(
			r->arena,
			json_object_get_string(json_object_array_get_idx(roles, 0)));
	} else {
		for (size_t i = 0; i < json_object_array_length(roles); i++)
			if (!strcmp(json_object_get_string(
					    json_object_array_get_idx(roles, i)),
				    want))
				r->who.role = arena_strdup(r->arena, want);
		if (!r->who.role)
			return req_fail(r, APP_EROLE,
					"user %lld does not hold role \"%s\"",
					(long long)r->who.user_id, want);
	}
	r->who.root = !strcmp(r->who.role, "root");
	return 0;
}
