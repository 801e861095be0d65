/*
 * api_auth: auth:signIn|signUp|check|signOut (reference §8).  Passwords
 * are checked by crypto and never leave the records layer: the password
 * field is hidden.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "crypto.h"
#include "jsonx.h"
#include "store.h"

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
	rec_get(&x, schema_coll(r->app->schema, "users"), &q, &row);
	json_object_put(f);
	json_object_put(app);
	return row;
}

API_HANDLER(api_auth_sign_in)
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
	rc = store_find(a->st, a->schema, schema_coll(r->app->schema, "users"), &q, &rows);
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
	if ((rc = auth_issue_session(a, id, &token)))
		return req_fail(r, rc, "could not issue a token: %s",
				store_errmsg(a->st));
	json_object *data = json_object_new_object();
	json_object_object_add(data, "user", auth_load_user(a, id));
	json_object_object_add(data, "token", json_object_new_string(token));
	free(token);
	req_set_data(r, data);
	return 0;
}

API_HANDLER(api_auth_sign_up)
{
	return req_fail_msg(r, APP_EDENIED, "Not allowed to sign up",
			    "sign-up is not enabled");
}

API_HANDLER(api_auth_check)
{
	req_set_data(r, user_with_roles(r, r->who.user_id));
	return 0;
}

API_HANDLER(api_auth_sign_out)
{
	int rc = auth_block(r->app, r->who.token, r->who.claims);
	if (rc)
		return req_fail(r, rc, "could not revoke the token");
	r->has_data = false;
	return 0;
}
