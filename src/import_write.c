/*
 * import_write: every row the import writes goes through here: NocoBase's
 * values coerced to the target column types by the records layer (the
 * same rules as the API's), inserted with their ids, and with --merge a
 * row of the target with the same key replaced.  Also the rows a fresh
 * init made, which the site's own replace.
 */
#include "import_int.h"

#include <stdio.h>
#include <string.h>

#include "copy.h"
#include "err.h"
#include "jsonx.h"
#include "records.h"

int import_write_fail(struct import_ctx *x, int rc, const char *what)
{
	return import_report_fail(x->rep, rc, "%s: %s", what,
				  store_errmsg(x->app->st));
}

/* JSON columns keep the value as read (rec_insert_stored spells scalars);
 * passwords keep NocoBase's hash. */
static int one_value(struct import_ctx *x, const struct field *f,
		     json_object *v, json_object **out)
{
	struct rctx rx = {.app = x->app};
	int rc;
	if (f->type == FT_JSON || f->type == FT_PASSWORD) {
		*out = jsonx_ref(v);
		return 0;
	}
	if ((rc = rec_coerce(&rx, f, v, out)))
		import_report_fail(x->rep, rc, "%s", rx.reason);
	return rc;
}

int import_write_values(struct import_ctx *x, const struct coll *c,
			json_object *row, json_object **values)
{
	json_object *out = json_object_new_object();
	int rc = 0;

	for (int i = 0; !rc && i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		json_object *v = jsonx_get(row, f->name), *cv = NULL;
		if (!field_has_column(f) || !jsonx_has(row, f->name))
			continue;
		/* NocoBase reads a NULL flag as false, flowcgi's queries sort
		 * by it (a user's default role first): the column's default. */
		if ((!v || json_object_is_type(v, json_type_null)) &&
		    f->type == FT_BOOLEAN && f->dflt)
			v = f->dflt;
		if (!v || json_object_is_type(v, json_type_null)) {
			json_object_object_add(out, f->name, NULL);
			continue;
		}
		if (!(rc = one_value(x, f, v, &cv)))
			json_object_object_add(out, f->name, cv);
	}
	if (rc) {
		json_object_put(out);
		out = NULL;
	}
	*values = out;
	return rc;
}

/* The target's rows that match, deleted; *n how many. */
static int replace_old(struct import_ctx *x, const struct coll *c,
		       json_object *match, json_object *values, int64_t *n)
{
	json_object *f = match ? jsonx_ref(match) : json_object_new_object();
	int rc;
	*n = 0;
	if (!match) {
		json_object *pk = jsonx_get(values, c->pk);
		if (!pk || json_object_is_type(pk, json_type_null)) {
			json_object_put(f);
			return 0;
		}
		json_object_object_add(f, c->pk, jsonx_ref(pk));
	}
	rc = store_delete(x->app->st, x->app->schema, c, f, n);
	json_object_put(f);
	return rc;
}

int import_write_put(struct import_ctx *x, const char *coll,
		     json_object *values, json_object *match, bool *replaced)
{
	const struct coll *c = schema_coll(x->app->schema, coll);
	struct rctx rx = {.app = x->app};
	json_object *pk = NULL;
	int64_t n = 0;
	int rc;

	if (replaced)
		*replaced = false;
	if (!c)
		return import_report_fail(x->rep, APP_EINTERNAL,
					  "no collection %s in the target", coll);
	if (x->opts->merge && (rc = replace_old(x, c, match, values, &n)))
		return import_write_fail(x, rc, coll);
	if (replaced)
		*replaced = n > 0;
	if ((rc = rec_insert_stored(&rx, c, values, &pk)))
		return import_report_fail(x->rep, rc, "%s: %s", coll, rx.reason);
	json_object_put(pk);
	return 0;
}

/* What a fresh init made, by the key its replacement is matched on. */
static const struct {
	const char *table, *key;
} seeded[] = {
	{"roles", "name"}, {"users", "id"},
	{"dataSourcesRolesResourcesScopes", "key"},
};

int import_write_clear_seeded(struct import_ctx *x)
{
	const struct schema *s = x->app->schema;
	int rc;

	x->seeded = json_object_new_object();
	for (size_t i = 0; i < sizeof(seeded) / sizeof(seeded[0]); i++) {
		const struct coll *c = schema_coll(s, seeded[i].table);
		struct store_find q = {0};
		json_object *rows = NULL, *keys = json_object_new_array();
		if ((rc = store_find(x->app->st, s, c, &q, &rows))) {
			json_object_put(keys);
			return import_write_fail(x, rc, seeded[i].table);
		}
		for (size_t r = 0; r < json_object_array_length(rows); r++)
			json_object_array_add(
				keys, jsonx_ref(jsonx_get(json_object_array_get_idx(rows, r),
							  seeded[i].key)));
		json_object_put(rows);
		json_object_object_add(x->seeded, seeded[i].table, keys);
	}
	if ((rc = copy_clear_seeded(x->app->st, s)))
		return import_write_fail(x, rc, "clearing the fresh site");
	return 0;
}

bool import_write_was_seeded(struct import_ctx *x, const char *table,
			     json_object *key)
{
	json_object *keys = jsonx_get(x->seeded, table);
	if (!json_object_is_type(keys, json_type_array))
		return false;
	for (size_t i = 0; key && i < json_object_array_length(keys); i++)
		if (!strcmp(jsonx_str(json_object_array_get_idx(keys, i)),
			    jsonx_str(key)))
			return true;
	return false;
}
