/*
 * api_users: users for administrators (a new user gets the default roles
 * when none are named; the first role named is its default) and API keys,
 * each user's own: creating one issues its token, deleting one revokes it.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

static const struct coll *sys(struct req *r, const char *name)
{
	return schema_coll(r->app->schema, name);
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
	rc = rec_update(&x, sys(r, "rolesUsers"), f, v, &out);
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
	if (!rec_find(&x, sys(r, "roles"), &q, &rows))
		for (size_t i = 0; i < json_object_array_length(rows); i++)
			json_object_array_add(
				names,
				jsonx_ref(jsonx_get(json_object_array_get_idx(rows, i),
						    "name")));
	json_object_put(rows);
	json_object_put(f);
	return names;
}

API_HANDLER(api_users_create)
{
	json_object *roles = jsonx_get(r->values, "roles");
	int64_t uid = 0;
	int rc;

	if (!json_object_is_type(r->values, json_type_object))
		return api_records_create(r, t);
	if (!jsonx_get_str(r->values, "username") &&
	    !jsonx_get_str(r->values, "email"))
		return req_fail_msg(r, APP_EVALIDATION,
				    "Please enter a valid username",
				    "a user needs a username or an email");
	if (!roles) {
		roles = default_roles(r);
		json_object_object_add(r->values, "roles", roles);
	}
	if ((rc = api_records_create(r, t)))
		return rc;
	jsonx_get_int(r->data, "id", &uid);
	return set_default_role(r, uid, roles);
}

/* A new password ends the sessions that began before it. */
API_HANDLER(api_users_update)
{
	if (jsonx_has(r->values, "password"))
		json_object_object_add(r->values, "passwordChangeTz",
				       json_object_new_int64(util_now_ms()));
	return api_records_update(r, t);
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

/* A user sees and deletes only the keys they made. */
static void own_keys(struct req *r, struct api_target *t)
{
	json_object_put(t->scope);
	t->scope = json_object_new_object();
	json_object_object_add(t->scope, "createdById",
			       json_object_new_int64(r->who.user_id));
}

API_HANDLER(api_apikeys_list)
{
	own_keys(r, t);
	return api_records_list(r, t);
}

API_HANDLER(api_apikeys_get)
{
	own_keys(r, t);
	return api_records_get(r, t);
}

/* The record of a new key: name, role, expiry, and its token (hidden). */
static json_object *key_values(struct req *r, const char *role,
			       const char *exp, const char *token)
{
	json_object *v = json_object_new_object();
	json_object_object_add(v, "name", jsonx_ref(jsonx_get(r->values, "name")));
	json_object_object_add(v, "roleName", json_object_new_string(role));
	json_object_object_add(v, "expiresIn", json_object_new_string(exp));
	json_object_object_add(v, "token", json_object_new_string(token));
	return v;
}

API_HANDLER(api_apikeys_create)
{
	json_object *role = jsonx_get(r->values, "role"), *v, *rec = NULL, *data;
	const char *rname = json_object_is_type(role, json_type_object)
				    ? jsonx_get_str(role, "name")
				    : json_object_get_string(role);
	const char *exp = jsonx_get_str(r->values, "expiresIn");
	int64_t ms = auth_parse_duration(exp ? exp : "never");
	struct rctx x;
	char *token;
	int rc;

	if (!rname || !holds_role(r, rname))
		return req_fail_msg(r, APP_EVALIDATION, "Role not found",
				    "the caller does not hold role \"%s\"",
				    rname ? rname : "");
	if (ms <= 0)
		return req_fail(r, APP_EVALIDATION,
				"expiresIn must be like 30d, 7d or never");
	token = auth_issue_api_key(r->app, r->who.user_id, rname, ms);
	api_rctx(r, &x);
	v = key_values(r, rname, exp ? exp : "never", token);
	rc = rec_create(&x, t->c, v, NULL, &rec);
	json_object_put(v);
	json_object_put(rec);
	if (rc) {
		free(token);
		return api_rfail(r, &x, rc);
	}
	data = json_object_new_object();
	json_object_object_add(data, "token", json_object_new_string(token));
	free(token);
	req_set_data(r, data);
	return 0;
}

/* Revoke the tokens of the keys in filter. */
static int revoke_keys(struct req *r, struct api_target *t, json_object *filter)
{
	struct store_find q = {.filter = filter, .hidden = true};
	json_object *rows = NULL;
	int rc = store_find(r->app->st, r->app->schema, t->c, &q, &rows);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		const char *tok = jsonx_get_str(json_object_array_get_idx(rows, i),
						"token");
		json_object *claims = json_object_new_object();
		if (tok)
			rc = auth_block(r->app, tok, claims);
		json_object_put(claims);
	}
	json_object_put(rows);
	return rc;
}

API_HANDLER(api_apikeys_destroy)
{
	json_object *tk = api_tk(r), *f = NULL, *flt;
	struct rctx x;
	int rc;

	own_keys(r, t);
	api_rctx(r, &x);
	if (tk && (rc = rec_tk_filter(&x, t->c, tk, &f))) {
		json_object_put(tk);
		return api_rfail(r, &x, rc);
	}
	json_object_put(tk);
	flt = rec_and(f, t->scope);
	rc = revoke_keys(r, t, flt);
	json_object_put(flt);
	json_object_put(f);
	if (rc)
		return req_fail(r, rc, "could not revoke the keys' tokens");
	return api_records_destroy(r, t);
}
