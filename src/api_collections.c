/*
 * api_collections: collections:create|list|get|destroy.  A definition is
 * checked and normalised by schema, stored as JSON, and its table made by
 * the store; the schema counter then tells every process to reload.
 */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

/* Give each field a stable key and its collection's name, as NocoBase
 * shows them. */
static void decorate(json_object *def)
{
	json_object *fields = jsonx_get(def, "fields");
	const char *name = jsonx_get_str(def, "name");
	char uid[12];
	for (size_t i = 0; json_object_is_type(fields, json_type_array) &&
			   i < json_object_array_length(fields);
	     i++) {
		json_object *f = json_object_array_get_idx(fields, i);
		if (!jsonx_has(f, "key")) {
			util_uid(uid);
			json_object_object_add(f, "key", json_object_new_string(uid));
		}
		json_object_object_add(f, "collectionName",
				       json_object_new_string(name));
	}
	if (!jsonx_has(def, "fields"))
		json_object_object_add(def, "fields", json_object_new_array());
}

static int store_err(struct req *r, int rc)
{
	return rc ? req_fail(r, rc, "%s", store_errmsg(r->app->st)) : 0;
}

/* Store defs and rebuild the schema and tables in this transaction. */
static int apply(struct req *r)
{
	struct app *a = r->app;
	int rc;
	if ((rc = store_bump(a->st, "schema_version")) ||
	    (rc = app_reload_schema(a)))
		return store_err(r, rc);
	return store_err(r, store_sync_tables(a->st, a->schema));
}

static int act_create(struct req *r)
{
	struct app *a = r->app;
	json_object *def = NULL, *fields;
	char err[512];
	int rc;

	if (schema_normalize(a->schema, r->values, &def, err, sizeof(err))) {
		const char *name = jsonx_get_str(r->values, "name");
		if (name && schema_coll(a->schema, name))
			return req_fail_msg(r, APP_EVALIDATION,
					    arena_printf(r->arena,
							 "Collection \"%s\" "
							 "already exists",
							 name),
					    "%s", err);
		return req_fail_msg(r, strstr(err, "Unknown field type")
					       ? APP_EVALIDATION
					       : APP_EVALIDATION,
				    err, "%s", err);
	}
	decorate(def);
	/* A belongsToMany's join collection is created with it. */
	fields = jsonx_get(def, "fields");
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		json_object *f = json_object_array_get_idx(fields, i);
		const char *th = jsonx_get_str(f, "through");
		const char *type = jsonx_get_str(f, "type");
		if (!th || !type || strcmp(type, "belongsToMany") ||
		    schema_coll(a->schema, th) ||
		    !strcmp(th, jsonx_get_str(def, "name")))
			continue;
		json_object *td = json_object_new_object();
		json_object_object_add(td, "name", json_object_new_string(th));
		json_object_object_add(td, "fields", json_object_new_array());
		rc = store_def_insert(a->st, th, td);
		json_object_put(td);
		if (rc) {
			json_object_put(def);
			return store_err(r, rc);
		}
	}
	rc = store_def_insert(a->st, jsonx_get_str(def, "name"), def);
	if (!rc)
		rc = apply(r);
	else
		store_err(r, rc);
	if (rc) {
		json_object_put(def);
		return rc;
	}
	json_object_object_add(def, "filterTargetKey", json_object_new_string(
		schema_coll(a->schema, jsonx_get_str(def, "name"))->pk));
	req_set_data(r, def);
	return 0;
}

static json_object *coll_json(const struct coll *c)
{
	json_object *d = jsonx_copy(c->def);
	json_object_object_add(d, "filterTargetKey", json_object_new_string(c->pk));
	return d;
}

static json_object *names_of(json_object *tk)
{
	json_object *out = json_object_new_array();
	if (json_object_is_type(tk, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(tk); i++)
			json_object_array_add(out, jsonx_ref(json_object_array_get_idx(tk, i)));
	} else if (tk) {
		json_object_array_add(out, jsonx_ref(tk));
	}
	return out;
}

static bool matches(const struct coll *c, json_object *filter)
{
	if (!filter)
		return true;
	json_object_object_foreach(filter, k, v) {
		json_object *have = jsonx_get(c->def, k);
		if (json_object_is_type(v, json_type_object)) {
			json_object *eq = jsonx_get(v, "$eq");
			if (!eq || !jsonx_equal(eq, have))
				return false;
		} else if (!jsonx_equal(v, have)) {
			return false;
		}
	}
	return true;
}

int api_collections(struct req *r)
{
	const struct schema *s = r->app->schema;
	const char *a = r->action;
	json_object *tk, *filter = NULL;
	int rc = 0;

	if (r->parent)
		return req_fail(r, APP_ENOT_FOUND,
				"collections have no association \"%s\"",
				r->resource);
	if (!strcmp(a, "create"))
		return act_create(r);
	tk = api_tk(r);
	if ((rc = api_filter_param(r, &filter))) {
		json_object_put(tk);
		return rc;
	}
	if (!strcmp(a, "list")) {
		json_object *rows = json_object_new_array(), *meta;
		int64_t page = 1, size = 20, n = 0;
		bool paginate = !util_streq(req_param_str(r, "paginate"), "false");
		jsonx_get_int(r->query, "page", &page);
		jsonx_get_int(r->query, "pageSize", &size);
		if (page < 1 || size < 1)
			rc = req_fail(r, APP_EPARAM,
				      "page and pageSize must be positive");
		for (int i = 0; !rc && i < s->ncolls; i++) {
			const struct coll *c = s->colls[i];
			if (c->system || !matches(c, filter))
				continue;
			if (!paginate || (n >= (page - 1) * size && n < page * size))
				json_object_array_add(rows, coll_json(c));
			n++;
		}
		req_set_data(r, rows);
		if (paginate && !rc) {
			meta = json_object_new_object();
			json_object_object_add(meta, "count", json_object_new_int64(n));
			json_object_object_add(meta, "page", json_object_new_int64(page));
			json_object_object_add(meta, "pageSize",
					       json_object_new_int64(size));
			json_object_object_add(meta, "totalPage",
					       json_object_new_int64((n + size - 1) / size));
			r->meta = meta;
		}
	} else if (!strcmp(a, "get")) {
		const char *name = json_object_is_type(tk, json_type_string)
					   ? json_object_get_string(tk)
					   : jsonx_get_str(filter, "name");
		const struct coll *c = schema_coll(s, name);
		req_set_data(r, c && !c->system ? coll_json(c) : NULL);
	} else if (!strcmp(a, "destroy")) {
		json_object *names = names_of(tk);
		int64_t n = 0;
		if (!json_object_array_length(names))
			rc = req_fail_msg(r, APP_EPARAM,
					  "to do destroy action, filter or "
					  "filterByTk is required",
					  "name the collection in filterByTk");
		for (size_t i = 0; !rc && i < json_object_array_length(names); i++) {
			const char *name = json_object_get_string(
				json_object_array_get_idx(names, i));
			const struct coll *c = schema_coll(s, name);
			if (!c)
				continue;
			if (c->system) {
				rc = req_fail(r, APP_EVALIDATION,
					      "\"%s\" is a system collection",
					      name);
				break;
			}
			if ((rc = store_err(r, store_def_delete(r->app->st, name))) ||
			    (rc = store_err(r, store_drop_table(r->app->st, name))))
				break;
			n++;
		}
		json_object_put(names);
		if (!rc && n)
			rc = apply(r);
		if (!rc)
			req_set_data(r, json_object_new_int64(n));
	} else {
		rc = req_fail(r, APP_ENOT_FOUND,
			      "action \"%s\" does not exist on collections", a);
	}
	json_object_put(tk);
	json_object_put(filter);
	return rc;
}
