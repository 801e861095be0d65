/*
 * api_roles: the users a role holds (roles/<name>/users:add|remove).  The
 * rest of roles and their per-collection grants are records (api.c).
 */
#include "api_int.h"

#include <string.h>

#include "app.h"
#include "jsonx.h"

static const struct coll *sys(struct req *r, const char *name)
{
	return schema_coll(r->app->schema, name);
}

/* roles/<name>/users:add [ids] and :remove [ids]. */
static int role_users(struct req *r, bool add)
{
	struct rctx x;
	json_object *ids = r->values, *one = NULL;
	const struct coll *ru = sys(r, "rolesUsers");
	int rc = 0;

	if (json_object_is_type(ids, json_type_object))
		ids = jsonx_get(ids, "values") ? jsonx_get(ids, "values")
					       : jsonx_get(ids, "filterByTk");
	if (!json_object_is_type(ids, json_type_array)) {
		one = json_object_new_array();
		json_object *tk = api_tk(r);
		if (tk)
			json_object_array_add(one, tk);
		ids = one;
	}
	api_rctx(r, &x);
	for (size_t i = 0; !rc && i < json_object_array_length(ids); i++) {
		json_object *id = json_object_array_get_idx(ids, i), *uid = NULL;
		if ((rc = rec_pk(&x, sys(r, "users"), id, &uid)))
			break;
		json_object *f = json_object_new_object(), *rows = NULL;
		json_object_object_add(f, "userId", jsonx_ref(uid));
		json_object_object_add(f, "roleName",
				       json_object_new_string(r->parent_index));
		int64_t n = 0;
		if (add) {
			rc = rec_count(&x, ru, f, &n);
			if (!rc && n == 0)
				rc = rec_create(&x, ru, f, NULL, &rows);
		} else {
			rc = rec_destroy(&x, ru, f, &n);
		}
		json_object_put(rows);
		json_object_put(f);
		json_object_put(uid);
	}
	json_object_put(one);
	if (rc)
		return api_rfail(r, &x, rc);
	r->has_data = false;
	return 0;
}

/* The role of the path must exist. */
static int role_exists(struct req *r)
{
	json_object *row = NULL, *f = json_object_new_object();
	struct rctx x;
	struct rec_query q = {.filter = f};
	api_rctx(r, &x);
	json_object_object_add(f, "name", json_object_new_string(r->parent_index));
	rec_get(&x, sys(r, "roles"), &q, &row);
	json_object_put(f);
	json_object_put(row);
	if (!row)
		return req_fail(r, APP_ENOT_FOUND, "role \"%s\" does not exist",
				r->parent_index);
	return 0;
}

API_HANDLER(api_roles_add_users)
{
	int rc = role_exists(r);
	return rc ? rc : role_users(r, true);
}

API_HANDLER(api_roles_remove_users)
{
	int rc = role_exists(r);
	return rc ? rc : role_users(r, false);
}
