/*
 * api_collections: collections:create|list|get|destroy.  A definition is
 * checked and normalised by schema, stored as JSON, and its table made by
 * the store; the schema counter then tells every process to reload.
 */
#include "api_int.h"

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

/* A belongsToMany's join collection is created with it. */
static int create_through(struct req *r, json_object *def)
{
	json_object *fields = jsonx_get(def, "fields");
	const struct schema *s = r->app->schema;
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		json_object *f = json_object_array_get_idx(fields, i);
		const char *th = jsonx_get_str(f, "through");
		const char *type = jsonx_get_str(f, "type");
		if (!th || !type || strcmp(type, "belongsToMany") ||
		    schema_coll(s, th) || !strcmp(th, jsonx_get_str(def, "name")))
			continue;
		json_object *td = json_object_new_object();
		json_object_object_add(td, "name", json_object_new_string(th));
		json_object_object_add(td, "fields", json_object_new_array());
		int rc = store_def_insert(r->app->st, th, td);
		json_object_put(td);
		if (rc)
			return store_err(r, rc);
	}
	return 0;
}

API_HANDLER(api_collections_create)
{
	struct app *a = r->app;
	json_object *def = NULL;
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
		return req_fail_msg(r, APP_EVALIDATION, err, "%s", err);
	}
	decorate(def);
	if ((rc = create_through(r, def))) {
		json_object_put(def);
		return rc;
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

static json_object *page_meta(int64_t n, int64_t page, int64_t size)
{
	json_object *meta = json_object_new_object();
	json_object_object_add(meta, "count", json_object_new_int64(n));
	json_object_object_add(meta, "page", json_object_new_int64(page));
	json_object_object_add(meta, "pageSize", json_object_new_int64(size));
	json_object_object_add(meta, "totalPage",
			       json_object_new_int64((n + size - 1) / size));
	return meta;
}

API_HANDLER(api_collections_list)
{
	const struct schema *s = r->app->schema;
	json_object *rows, *filter = NULL;
	int64_t page = 1, size = 20, n = 0;
	bool paginate = !util_streq(req_param_str(r, "paginate"), "false");
	int rc;

	if ((rc = api_filter_param(r, &filter)))
		return rc;
	jsonx_get_int(r->query, "page", &page);
	jsonx_get_int(r->query, "pageSize", &size);
	if (page < 1 || size < 1) {
		json_object_put(filter);
		return req_fail(r, APP_EPARAM, "page and pageSize must be positive");
	}
	rows = json_object_new_array();
	for (int i = 0; i < s->ncolls; i++) {
		const struct coll *c = s->colls[i];
		if (c->system || !matches(c, filter))
			continue;
		if (!paginate || (n >= (page - 1) * size && n < page * size))
			json_object_array_add(rows, coll_json(c));
		n++;
	}
	json_object_put(filter);
	req_set_data(r, rows);
	if (paginate)
		r->meta = page_meta(n, page, size);
	return 0;
}

API_HANDLER(api_collections_get)
{
	json_object *tk = api_tk(r), *filter = NULL;
	int rc = api_filter_param(r, &filter);
	if (!rc) {
		const char *name = json_object_is_type(tk, json_type_string)
					   ? json_object_get_string(tk)
					   : jsonx_get_str(filter, "name");
		const struct coll *c = schema_coll(r->app->schema, name);
		req_set_data(r, c && !c->system ? coll_json(c) : NULL);
	}
	json_object_put(tk);
	json_object_put(filter);
	return rc;
}

/* Drop each named user collection; the count of those dropped. */
static int drop_named(struct req *r, json_object *names, int64_t *n)
{
	const struct schema *s = r->app->schema;
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(names); i++) {
		const char *name =
			json_object_get_string(json_object_array_get_idx(names, i));
		const struct coll *c = schema_coll(s, name);
		if (!c)
			continue;
		if (c->system)
			return req_fail(r, APP_EVALIDATION,
					"\"%s\" is a system collection", name);
		if ((rc = store_err(r, store_def_delete(r->app->st, name))) ||
		    (rc = store_err(r, store_drop_table(r->app->st, name))))
			break;
		(*n)++;
	}
	return rc;
}

API_HANDLER(api_collections_destroy)
{
	json_object *tk = api_tk(r), *filter = NULL, *names = NULL;
	int64_t n = 0;
	int rc = api_filter_param(r, &filter);

	if (rc)
		goto out;
	names = names_of(tk);
	if (!json_object_array_length(names)) {
		rc = req_fail_msg(r, APP_EPARAM,
				  "to do destroy action, filter or filterByTk "
				  "is required",
				  "name the collection in filterByTk");
		goto out;
	}
	rc = drop_named(r, names, &n);
	if (!rc && n)
		rc = apply(r);
	if (!rc)
		req_set_data(r, json_object_new_int64(n));
out:
	json_object_put(tk);
	json_object_put(filter);
	json_object_put(names);
	return rc;
}
