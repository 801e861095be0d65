/*
 * api_auth: auth:signIn|check|signOut, users (for administrators) and
 * apiKeys (each user's own).  Passwords are hashed by the records layer
 * and never leave it: the password field is hidden.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "crypto.h"
#include "err.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

static const struct coll *C(struct req *r, const char *name)
{
	return schema_coll(r->app->schema, name);
}

/* The user row with roles appended, as auth:check shows it. */
static json_object *user_with_roles(struct req *r, int64_t id)
{
	struct rctx x;
	json_object *f = json_object_new_object(), *row = NULL,
		    *app = json_object_new_array();
	api_rctx(r, &x);
	json_object_object_add(f, "id", json_object_new_int64(id));
	json_object_array_add(app, json_object_new_string("roles"));
	struct rec_query q = {.filter = f, .appends = app};
	rec_get(&x, C(r, "users"), &q, &row);
	json_object_put(f);
	json_object_put(app);
	return row;
}

static int sign_in(struct req *r)
{
	struct app *a = r->app;
	const char *account = jsonx_get_str(r->values, "account");
	const char *password = jsonx_get_str(r->values, "password");
	json_object *f, *or, *rows = NULL, *user;
	struct store_find q = {.limit = 2, .hidden = true};
	char *token;
	int rc;

	if (!account || !*account)
		account = jsonx_get_str(r->values, "email");
	if (!account || !*account)
		return req_fail_msg(r, APP_EPARAM,
				    "Please enter your username or email",
				    "the body has no account");
	f = json_object_new_object();
	or = json_object_new_array();
	json_object *byu = json_object_new_object(), *bye = json_object_new_object();
	json_object_object_add(byu, "username", json_object_new_string(account));
	json_object_object_add(bye, "email", json_object_new_string(account));
	json_object_array_add(or, byu);
	json_object_array_add(or, bye);
	json_object_object_add(f, "$or", or);
	q.filter = f;
	rc = store_find(a->st, a->schema, C(r, "users"), &q, &rows);
	json_object_put(f);
	if (rc) {
		json_object_put(rows);
		return req_fail(r, rc, "%s", store_errmsg(a->st));
	}
	user = json_object_array_length(rows) ? json_object_array_get_idx(rows, 0)
					      : NULL;
	const char *stored = jsonx_get_str(user, "password");
	if (!user || !password || !stored ||
	    !crypto_password_verify(password, stored)) {
		json_object_put(rows);
		return req_fail(r, APP_ECREDENTIALS,
				"no user with that username or email has that "
				"password");
	}
	int64_t id = 0;
	jsonx_get_int(user, "id", &id);
	json_object_put(rows);
	/* A write: the jti is recorded for renewal. */
	token = auth_issue_session(a, id);
	if (!token)
		return req_fail(r, APP_EINTERNAL, "could not issue a token");
	json_object *data = json_object_new_object();
	json_object_object_add(data, "user", auth_load_user(a, id));
	json_object_object_add(data, "token", json_object_new_string(token));
	free(token);
	req_set_data(r, data);
	return 0;
}

int api_auth(struct req *r)
{
	const char *a = r->action;
	if (!strcmp(a, "signIn"))
		return sign_in(r);
	if (!strcmp(a, "signUp"))
		return req_fail_msg(r, APP_EDENIED, "Not allowed to sign up",
				    "sign-up is not enabled");
	if (!strcmp(a, "check")) {
		req_set_data(r, user_with_roles(r, r->who.user_id));
		return 0;
	}
	if (!strcmp(a, "signOut")) {
		int rc = auth_block(r->app, r->who.token, r->who.claims);
		if (rc)
			return req_fail(r, rc, "could not revoke the token");
		r->has_data = false;
		return 0;
	}
	return req_fail(r, APP_ENOT_FOUND, "action \"%s\" does not exist on auth",
			a);
}

/* Mark the first role given as the user's default one. */
static int set_default_role(struct req *r, int64_t uid, json_object *roles)
{
	struct rctx x;
	json_object *first = json_object_array_length(roles)
				     ? json_object_array_get_idx(roles, 0)
				     : NULL;
	json_object *f, *v, *out = NULL;
	const char *name = json_object_is_type(first, json_type_object)
				   ? jsonx_get_str(first, "name")
				   : json_object_get_string(first);
	int rc;
	if (!name)
		return 0;
	api_rctx(r, &x);
	f = json_object_new_object();
	json_object_object_add(f, "userId", json_object_new_int64(uid));
	json_object_object_add(f, "roleName", json_object_new_string(name));
	v = json_object_new_object();
	json_object_object_add(v, "default", json_object_new_boolean(1));
	rc = rec_update(&x, C(r, "rolesUsers"), f, v, &out);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	return api_rfail(r, &x, rc);
}

/* Roles a new user gets when none are named: the default role(s). */
static json_object *default_roles(struct req *r)
{
	struct rctx x;
	json_object *f = json_tokener_parse("{\"default\":true}"), *rows = NULL,
		    *names = json_object_new_array();
	struct rec_query q = {.filter = f};
	api_rctx(r, &x);
	if (!rec_find(&x, C(r, "roles"), &q, &rows))
		for (size_t i = 0; i < json_object_array_length(rows); i++)
			json_object_array_add(
				names,
				jsonx_ref(jsonx_get(json_object_array_get_idx(rows, i),
						    "name")));
	json_object_put(rows);
	json_object_put(f);
	return names;
}

int api_users(struct req *r)
{
	const char *a = r->action;
	json_object *roles = jsonx_get(r->values, "roles");
	int rc;

	if (r->parent)
		return api_records(r, NULL, NULL);
	if (!strcmp(a, "create") &&
	    json_object_is_type(r->values, json_type_object)) {
		if (!jsonx_get_str(r->values, "username") &&
		    !jsonx_get_str(r->values, "email"))
			return req_fail_msg(r, APP_EVALIDATION,
					    "Please enter a valid username",
					    "a user needs a username or an email");
		if (!roles) {
			roles = default_roles(r);
			json_object_object_add(r->values, "roles", roles);
		}
		if ((rc = api_records(r, C(r, "users"), NULL)))
			return rc;
		int64_t uid = 0;
		jsonx_get_int(r->data, "id", &uid);
		return set_default_role(r, uid, roles);
	}
	if (!strcmp(a, "update") && jsonx_has(r->values, "password"))
		json_object_object_add(r->values, "passwordChangeTz",
				       json_object_new_int64(util_now_ms()));
	return api_records(r, C(r, "users"), NULL);
}

static bool holds_role(struct req *r, const char *role)
{
	json_object *roles = r->who.roles;
	for (size_t i = 0; roles && i < json_object_array_length(roles); i++)
		if (!strcmp(json_object_get_string(
				    json_object_array_get_idx(roles, i)),
			    role))
			return true;
	return false;
}

int api_apikeys(struct req *r)
{
	const char *a = r->action;
	json_object *own = json_object_new_object();
	int rc = 0;

	json_object_object_add(own, "createdById",
			       json_object_new_int64(r->who.user_id));
	if (r->parent) {
		rc = req_fail(r, APP_ENOT_FOUND, "apiKeys have no associations");
	} else if (!strcmp(a, "create")) {
		json_object *role = jsonx_get(r->values, "role");
		const char *rname = json_object_is_type(role, json_type_object)
					    ? jsonx_get_str(role, "name")
					    : json_object_get_string(role);
		const char *exp = jsonx_get_str(r->values, "expiresIn");
		int64_t ms = auth_parse_duration(exp ? exp : "never");
		struct rctx x;
		json_object *v, *rec = NULL;
		char *token;
		if (!rname || !holds_role(r, rname)) {
			rc = req_fail_msg(r, APP_EVALIDATION, "Role not found",
					  "the caller does not hold role \"%s\"",
					  rname ? rname : "");
			goto out;
		}
		if (ms <= 0) {
			rc = req_fail(r, APP_EVALIDATION,
				      "expiresIn must be like 30d, 7d or never");
			goto out;
		}
		token = auth_issue_api_key(r->app, r->who.user_id, rname, ms);
		api_rctx(r, &x);
		v = json_object_new_object();
		json_object_object_add(v, "name",
				       jsonx_ref(jsonx_get(r->values, "name")));
		json_object_object_add(v, "roleName", json_object_new_string(rname));
		json_object_object_add(v, "expiresIn",
				       json_object_new_string(exp ? exp : "never"));
		json_object_object_add(v, "token", json_object_new_string(token));
		rc = rec_create(&x, C(r, "apiKeys"), v, NULL, &rec);
		json_object_put(v);
		json_object_put(rec);
		if (rc) {
			free(token);
			api_rfail(r, &x, rc);
			goto out;
		}
		json_object *data = json_object_new_object();
		json_object_object_add(data, "token", json_object_new_string(token));
		free(token);
		req_set_data(r, data);
	} else if (!strcmp(a, "destroy")) {
		/* Revoke the tokens of the keys going away. */
		struct rctx x;
		json_object *tk = api_tk(r), *f = NULL, *rows = NULL;
		api_rctx(r, &x);
		if (tk && (rc = rec_tk_filter(&x, C(r, "apiKeys"), tk, &f))) {
			json_object_put(tk);
			api_rfail(r, &x, rc);
			goto out;
		}
		json_object_put(tk);
		json_object *flt = rec_and(f, own);
		struct store_find q = {.filter = flt, .hidden = true};
		rc = store_find(r->app->st, r->app->schema, C(r, "apiKeys"), &q,
				&rows);
		for (size_t i = 0; !rc && rows && i < json_object_array_length(rows);
		     i++) {
			const char *t = jsonx_get_str(
				json_object_array_get_idx(rows, i), "token");
			json_object *claims = json_object_new_object();
			if (t)
				rc = auth_block(r->app, t, claims);
			json_object_put(claims);
		}
		json_object_put(rows);
		json_object_put(flt);
		json_object_put(f);
		if (!rc)
			rc = api_records(r, C(r, "apiKeys"), own);
	} else if (!strcmp(a, "list") || !strcmp(a, "get")) {
		rc = api_records(r, C(r, "apiKeys"), own);
	} else {
		rc = req_fail(r, APP_ENOT_FOUND,
			      "action \"%s\" does not exist on apiKeys", a);
	}
out:
	json_object_put(own);
	return rc;
}
