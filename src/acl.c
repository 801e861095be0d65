/* acl: see acl.h. */
#include "acl.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "memo.h"
#include "util.h"
#include "store.h"

static const struct {
	const char *action;
	const char *acl;
} aliases[] = {
	{"get", "view"},       {"list", "view"},        {"query", "view"},
	{"create", "create"},  {"firstOrCreate", "create"},
	{"updateOrCreate", "create"},                   {"update", "update"},
	{"move", "update"},    {"destroy", "destroy"},
};

const char *acl_alias(const char *action)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(aliases[i].action, action))
			return aliases[i].acl;
	return action;
}

/* Actions on new records carry no data scope (reference §9.2). */
static bool takes_scope(const char *acl_action)
{
	return strcmp(acl_action, "create") && strcmp(acl_action, "triggerNew");
}

static json_object *one(struct app *a, const char *coll, json_object *filter)
{
	const struct coll *c = schema_coll(a->schema, coll);
	struct store_find q = {.filter = filter, .limit = 1};
	json_object *rows = NULL, *row = NULL;
	if (c && !store_find(a->st, a->schema, c, &q, &rows) &&
	    json_object_array_length(rows))
		row = jsonx_ref(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	json_object_put(filter);
	return row;
}

static json_object *eq2(const char *k1, json_object *v1, const char *k2,
			json_object *v2)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, k1, v1);
	if (k2)
		json_object_object_add(f, k2, v2);
	return f;
}

/* A scope that the collection cannot honour matches nothing. */
static json_object *own_scope(struct app *a, const char *collection)
{
	const struct coll *c = schema_coll(a->schema, collection);
	json_object *none, *in;
	if (c && coll_field(c, "createdById"))
		return json_tokener_parse(ACL_OWN_FILTER);
	none = json_object_new_object();
	in = json_object_new_object();
	json_object_object_add(in, "$in", json_object_new_array());
	json_object_object_add(none, c ? c->pk : "id", in);
	return none;
}

static json_object *scope_by_id(struct app *a, const char *collection,
				json_object *scope_id)
{
	json_object *row, *s = NULL;
	if (!scope_id || json_object_is_type(scope_id, json_type_null))
		return NULL;
	row = one(a, "dataSourcesRolesResourcesScopes",
		  eq2("id", jsonx_ref(scope_id), NULL, NULL));
	if (!row)
		return json_tokener_parse("{\"id\":{\"$in\":[]}}");
	const char *key = jsonx_get_str(row, "key");
	if (key && !strcmp(key, "own"))
		s = own_scope(a, collection);
	else if (!key || strcmp(key, "all"))
		s = jsonx_ref(jsonx_get(row, "scope"));
	if (s && json_object_is_type(s, json_type_object) &&
	    !json_object_object_length(s)) {
		json_object_put(s);
		s = NULL;
	}
	json_object_put(row);
	return s;
}

static int acl_decide(struct app *a, const char *role, const char *collection,
		      const char *action, json_object **scope, char *reason,
		      size_t reason_len);

/* Decisions are remembered per role, collection and action while the
 * security counter stands. */
int acl_can(struct app *a, const char *role, const char *collection,
	    const char *action, json_object **scope, char *reason,
	    size_t reason_len)
{
	char key[256];
	json_object *hit, *v;
	int rc;

	*scope = NULL;
	if (role && !strcmp(role, "root"))
		return 0;
	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s", role ? role : "",
		 collection, action);
	if ((hit = memo_get(a->decisions, key, 0))) {
		snprintf(reason, reason_len, "%s",
			 jsonx_get_str(hit, "reason") ? jsonx_get_str(hit, "reason")
						      : "");
		*scope = jsonx_ref(jsonx_get(hit, "scope"));
		return (int)json_object_get_int(jsonx_get(hit, "rc"));
	}
	reason[0] = 0;
	rc = acl_decide(a, role, collection, action, scope, reason, reason_len);
	v = json_object_new_object();
	json_object_object_add(v, "rc", json_object_new_int(rc));
	json_object_object_add(v, "scope", jsonx_ref(*scope));
	json_object_object_add(v, "reason", json_object_new_string(reason));
	memo_put(a->decisions, key, v, 0);
	return rc;
}

static int acl_decide(struct app *a, const char *role, const char *collection,
		      const char *action, json_object **scope, char *reason,
		      size_t reason_len)
{
	const char *acl = acl_alias(action);
	json_object *rrow = NULL, *res = NULL, *act = NULL, *actions;
	int rc = APP_EDENIED;

	*scope = NULL;
	if (role && !strcmp(role, "root"))
		return 0;
	if (!role || !(rrow = one(a, "roles", eq2("name",
						 json_object_new_string(role),
						 NULL, NULL)))) {
		snprintf(reason, reason_len, "role \"%s\" does not exist",
			 role ? role : "anonymous");
		return APP_EDENIED;
	}
	res = one(a, "dataSourcesRolesResources",
		  eq2("roleName", json_object_new_string(role), "name",
		      json_object_new_string(collection)));
	if (res && jsonx_get_bool(res, "usingActionsConfig", false)) {
		act = one(a, "dataSourcesRolesResourcesActions",
			  eq2("rolesResourceId", jsonx_ref(jsonx_get(res, "id")),
			      "name", json_object_new_string(acl)));
		if (!act) {
			snprintf(reason, reason_len,
				 "role \"%s\" has a permission configuration "
				 "for \"%s\" that does not grant \"%s\"",
				 role, collection, acl);
			goto out;
		}
		if (takes_scope(acl))
			*scope = scope_by_id(a, collection,
					     jsonx_get(act, "scopeId"));
		rc = 0;
		goto out;
	}
	actions = jsonx_get(jsonx_get(rrow, "strategy"), "actions");
	for (size_t i = 0; json_object_is_type(actions, json_type_array) &&
			   i < json_object_array_length(actions);
	     i++) {
		const char *e = json_object_get_string(
			json_object_array_get_idx(actions, i));
		size_t n = strcspn(e, ":");
		if (!((strlen(acl) == n && !strncmp(e, acl, n)) ||
		      (n == 1 && e[0] == '*')))
			continue;
		if (e[n] == ':' && !strcmp(e + n + 1, "own") && takes_scope(acl))
			*scope = own_scope(a, collection);
		rc = 0;
		goto out;
	}
	snprintf(reason, reason_len,
		 "role \"%s\" is not granted \"%s\" on \"%s\" (neither by its "
		 "strategy nor by a per-collection permission)",
		 role, acl, collection);
out:
	json_object_put(rrow);
	json_object_put(res);
	json_object_put(act);
	return rc;
}

/* The key an association value names (new ref), NULL when it names none. */
static json_object *link_key(json_object *v, const char *key)
{
	return jsonx_ref(json_object_is_type(v, json_type_object)
				 ? jsonx_get(v, key)
				 : v);
}

void acl_links_only(struct app *a, const struct coll *c, json_object *values)
{
	if (json_object_is_type(values, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(values); i++)
			acl_links_only(a, c, json_object_array_get_idx(values, i));
		return;
	}
	if (!json_object_is_type(values, json_type_object))
		return;
	for (int i = 0; i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		const struct coll *t = schema_coll(a->schema, f->target);
		json_object *v = jsonx_get(values, f->name), *k;
		if (!ftype_is_assoc(f->type) || !v || !t)
			continue;
		const char *key = (f->type == FT_BELONGS_TO ||
				   f->type == FT_BELONGS_TO_MANY) &&
						  f->target_key
					  ? f->target_key
					  : t->pk;
		if (json_object_is_type(v, json_type_array)) {
			json_object *keys = json_object_new_array();
			for (size_t j = 0; j < json_object_array_length(v); j++)
				if ((k = link_key(json_object_array_get_idx(v, j),
						  key)))
					json_object_array_add(keys, k);
			json_object_object_add(values, f->name, keys);
		} else if ((k = link_key(v, key))) {
			json_object_object_add(values, f->name, k);
		} else {
			json_object_object_del(values, f->name);
		}
	}
}

bool acl_is_admin(struct app *a, const char *role)
{
	json_object *row, *snippets, *hit;
	bool ok = false;
	char key[160];
	if (!role)
		return false;
	if (!strcmp(role, "root"))
		return true;
	snprintf(key, sizeof(key), "admin\x1f%s", role);
	if ((hit = memo_get(a->decisions, key, 0)))
		return json_object_get_boolean(hit);
	row = one(a, "roles", eq2("name", json_object_new_string(role), NULL,
				  NULL));
	if (!row)
		return false;
	ok = jsonx_get_bool(row, "allowConfigure", false);
	snippets = jsonx_get(row, "snippets");
	for (size_t i = 0; !ok && json_object_is_type(snippets, json_type_array) &&
			   i < json_object_array_length(snippets);
	     i++)
		ok = !strcmp(json_object_get_string(
				     json_object_array_get_idx(snippets, i)),
			     "pm.*");
	json_object_put(row);
	memo_put(a->decisions, key, json_object_new_boolean(ok), 0);
	return ok;
}
