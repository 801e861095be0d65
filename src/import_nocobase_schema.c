/*
 * import_nocobase_schema: NocoBase's collections of the main data source
 * (its `collections` and `fields` tables) as flowcgi collection
 * definitions, checked by the same schema_normalize as collections:create,
 * and with --rows their rows with their ids.
 *
 * A collection moves when flowcgi can hold it: the general template, no
 * table inheritance, not a plugin's own.  A field moves when its type has
 * a flowcgi storage and, for an association, its target moves too; a
 * collection is imported without the fields that cannot, and says so.
 * NocoBase's own users and roles are flowcgi's built-in collections: their
 * rows move through import_nocobase_acl.c.
 */
#include "import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"

#define ROWS_BATCH 500

/* NocoBase field types and the flowcgi type that stores them (schema.c's
 * list, where NocoBase's name differs: snowflakeId is a bigInt, set a JSON
 * array).  A type not here (formula, sequence, dateOnly, datetimeNoTz,
 * time, unixTimestamp, point, encryption, ...) has no flowcgi storage. */
static const struct {
	const char *nb, *fc;
} field_types[] = {
	{"string", "string"},   {"text", "text"},
	{"integer", "integer"}, {"bigInt", "bigInt"},
	{"float", "float"},     {"double", "double"},
	{"real", "real"},       {"decimal", "decimal"},
	{"boolean", "boolean"}, {"date", "date"},
	{"datetime", "datetime"}, {"datetimeTz", "datetimeTz"},
	{"json", "json"},       {"jsonb", "jsonb"},
	{"array", "array"},     {"set", "json"},
	{"password", "password"}, {"uid", "uid"},
	{"uuid", "uuid"},       {"nanoid", "nanoid"},
	{"sort", "sort"},       {"snowflakeId", "bigInt"},
	{"belongsTo", "belongsTo"}, {"hasOne", "hasOne"},
	{"hasMany", "hasMany"}, {"belongsToMany", "belongsToMany"},
};

/* Fields NocoBase's plugins put on its own users and roles that flowcgi's
 * built-in ones do without (menus, AI employees, departments, ordering). */
static const char *const plugin_fields[] = {
	"sort", "aiEmployees", "departments", "mainDepartment",
	"mainDepartmentId", "menuUiSchemas", "desktopRoutes", "mobileRoutes",
	"allowNewMobileMenu", "allowNewAiEmployee", NULL,
};

const char *import_nocobase_field_type(const char *nb_type)
{
	for (size_t i = 0; nb_type && i < sizeof(field_types) / sizeof(field_types[0]);
	     i++)
		if (!strcmp(field_types[i].nb, nb_type))
			return field_types[i].fc;
	return NULL;
}

static json_object *options_of(json_object *row)
{
	json_object *o = jsonx_get(row, "options");
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

static const struct coll *builtin(struct import_ctx *x, const char *name)
{
	const struct coll *c = schema_coll(x->app->schema, name);
	return c && c->system ? c : NULL;
}

/* Why a collection cannot move (written to why), or 0 when it can. */
static int cannot_move(struct import_ctx *x, json_object *row, char *why,
		       size_t n)
{
	json_object *o = options_of(row);
	const char *name = jsonx_get_str(row, "name");
	const char *tpl = jsonx_get_str(o, "template");
	json_object *inh = jsonx_get(o, "inherits");

	if (!util_is_ident(name))
		snprintf(why, n, "the name is not one flowcgi accepts");
	else if (jsonx_get_str(o, "origin"))
		snprintf(why, n, "it belongs to NocoBase's %s",
			 jsonx_get_str(o, "origin"));
	else if (jsonx_get_bool(row, "inherit", false) ||
		 (inh && !json_object_is_type(inh, json_type_null) &&
		  (!json_object_is_type(inh, json_type_array) ||
		   json_object_array_length(inh))))
		snprintf(why, n, "it inherits from another collection");
	else if (tpl && strcmp(tpl, "general"))
		snprintf(why, n, "the collection template \"%s\" is not supported",
			 tpl);
	else if (jsonx_get_bool(o, "view", false) || jsonx_get_str(o, "sql"))
		snprintf(why, n, "views and SQL collections are not supported");
	else
		return 0;
	return -1;
}

/* The fields of collection name, in NocoBase's order (borrowed rows). */
static json_object *fields_of(struct import_ctx *x, const char *name)
{
	json_object *v = json_object_new_string(name);
	json_object *out = import_nocobase_where(x->t[NB_FIELDS], "collectionName", v);
	json_object_put(v);
	return out;
}

static bool moves(struct import_ctx *x, const char *name)
{
	return name && (jsonx_has(x->moved, name) || builtin(x, name));
}

/* One NocoBase field row as a flowcgi field definition (new ref), or NULL
 * with why. */
static json_object *field_def(struct import_ctx *x, json_object *row,
			      char *why, size_t n)
{
	const char *type = jsonx_get_str(row, "type");
	const char *fc = import_nocobase_field_type(type);
	json_object *o = options_of(row), *def;
	const char *target = jsonx_get_str(o, "target");

	if (!fc) {
		snprintf(why, n, "the field type \"%s\" is not supported",
			 type ? type : "");
		return NULL;
	}
	if (target && !moves(x, target)) {
		snprintf(why, n, "its target collection \"%s\" is not moved", target);
		return NULL;
	}
	def = o ? jsonx_copy(o) : json_object_new_object();
	json_object_object_add(def, "name", jsonx_ref(jsonx_get(row, "name")));
	json_object_object_add(def, "type", json_object_new_string(fc));
	const char *keys[] = {"interface", "key", "description"};
	for (size_t i = 0; i < 3; i++)
		if (jsonx_get_str(row, keys[i]))
			json_object_object_add(def, keys[i],
					       jsonx_ref(jsonx_get(row, keys[i])));
	return def;
}

/* The fields a collection keeps; those it cannot are reported. */
static json_object *field_defs(struct import_ctx *x, const char *coll,
			       int *dropped)
{
	json_object *rows = fields_of(x, coll), *out = json_object_new_array();
	char why[300];
	*dropped = 0;
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		json_object *d = field_def(x, r, why, sizeof(why));
		if (d) {
			json_object_array_add(out, d);
			continue;
		}
		import_report_add(x->rep, IK_FIELD, IO_SKIPPED, 1, "%s.%s: %s", coll,
				  jsonx_get_str(r, "name"), why);
		(*dropped)++;
	}
	json_object_put(rows);
	return out;
}

static bool has_primary(json_object *fields)
{
	for (size_t i = 0; i < json_object_array_length(fields); i++)
		if (jsonx_get_bool(json_object_array_get_idx(fields, i), "primaryKey",
				   false))
			return true;
	return false;
}

/* The collection-level options, as flowcgi reads them. */
static json_object *coll_def(json_object *row, json_object *fields,
			     bool *added_id)
{
	json_object *o = options_of(row);
	json_object *def = o ? jsonx_copy(o) : json_object_new_object();
	bool no_ts = (jsonx_has(o, "createdAt") &&
		      !jsonx_get_bool(o, "createdAt", true) &&
		      !jsonx_get_bool(o, "updatedAt", true)) ||
		     !jsonx_get_bool(o, "timestamps", true);

	json_object_object_add(def, "name", jsonx_ref(jsonx_get(row, "name")));
	json_object_object_add(def, "title", jsonx_ref(jsonx_get(row, "title")));
	json_object_object_add(def, "key", jsonx_ref(jsonx_get(row, "key")));
	if (jsonx_get_bool(row, "hidden", false))
		json_object_object_add(def, "hidden", json_object_new_boolean(1));
	if (no_ts)
		json_object_object_add(def, "timestamps", json_object_new_boolean(0));
	/* flowcgi needs a key: a NocoBase table without one (a join table)
	 * gets an id column. */
	*added_id = !jsonx_get_bool(o, "autoGenId", true) && !has_primary(fields);
	if (*added_id)
		json_object_object_add(def, "autoGenId", json_object_new_boolean(1));
	json_object_object_add(def, "fields", jsonx_ref(fields));
	return def;
}

/* x->moved: name -> {"row": NocoBase's row or null, "def": the definition
 * to store, "srcpk": whether the source table has the key column,
 * "dropped": fields left out}. */
static json_object *entry_new(json_object *row)
{
	json_object *e = json_object_new_object();
	json_object_object_add(e, "row", jsonx_ref(row));
	return e;
}

/* A join table NocoBase made without a collection of its own: defined as
 * collections:create defines it (its keys come from the association). */
static void add_through(struct import_ctx *x, json_object *def,
			json_object *more)
{
	json_object *fields = jsonx_get(def, "fields");
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		const char *th = jsonx_get_str(json_object_array_get_idx(fields, i),
					       "through");
		if (!th || moves(x, th) || jsonx_has(more, th) || !util_is_ident(th))
			continue;
		json_object *td = json_object_new_object(), *e = entry_new(NULL);
		json_object_object_add(td, "name", json_object_new_string(th));
		json_object_object_add(td, "fields", json_object_new_array());
		json_object_object_add(e, "def", td);
		json_object_object_add(e, "srcpk", json_object_new_boolean(0));
		json_object_object_add(more, th, e);
	}
}

/* Pass 1: which collections move (the fields' targets need the set). */
static void plan(struct import_ctx *x)
{
	json_object *rows = x->t[NB_COLLECTIONS];
	char why[300];
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		const char *name = jsonx_get_str(row, "name");
		if (builtin(x, name))
			continue;
		if (cannot_move(x, row, why, sizeof(why))) {
			import_report_add(x->rep, IK_COLLECTION, IO_SKIPPED, 1,
					  "%s: %s", name ? name : "?", why);
			continue;
		}
		json_object_object_add(x->moved, name, entry_new(row));
	}
}

/* Pass 2: one collection's definition, checked as collections:create
 * checks it (against the built-in collections only: with --merge the
 * target's own one of that name is replaced). */
static void define(struct import_ctx *x, const struct schema *sys,
		   const char *name, json_object *e, json_object *more)
{
	int dropped = 0;
	bool added_id = false;
	json_object *fields = field_defs(x, name, &dropped), *def, *norm = NULL;
	char err[512];

	def = coll_def(jsonx_get(e, "row"), fields, &added_id);
	json_object_put(fields);
	if (schema_normalize(sys, def, &norm, err, sizeof(err))) {
		import_report_add(x->rep, IK_COLLECTION, IO_SKIPPED, 1, "%s: %s",
				  name, err);
		json_object_object_add(e, "def", NULL);
	} else {
		add_through(x, norm, more);
		json_object_object_add(e, "def", norm);
	}
	json_object_object_add(e, "srcpk", json_object_new_boolean(!added_id));
	json_object_object_add(e, "dropped", json_object_new_int(dropped));
	json_object_put(def);
}

/* NocoBase's users and roles are flowcgi's own; a field someone added to
 * them has nowhere to go. */
static void builtin_fields(struct import_ctx *x, const char *name)
{
	const struct coll *c = builtin(x, name);
	json_object *rows = fields_of(x, name);
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		const char *f = jsonx_get_str(r, "name");
		bool known = coll_field(c, f) ||
			     util_streq(jsonx_get_str(r, "type"), "context");
		for (int k = 0; !known && plugin_fields[k]; k++)
			known = !strcmp(plugin_fields[k], f);
		if (!known)
			import_report_add(x->rep, IK_FIELD, IO_SKIPPED, 1,
					  "%s.%s: flowcgi's built-in %s has no "
					  "place for fields added to it",
					  name, f, name);
	}
	json_object_put(rows);
}

/* Store one definition: with --merge, the target's collection of that
 * name gives way (its table stays; new columns are added). */
static int store_def(struct import_ctx *x, const char *name, json_object *e)
{
	json_object *def = jsonx_get(e, "def");
	const struct coll *old = schema_coll(x->app->schema, name);
	int64_t dropped = 0;
	int rc = 0;

	if (old && !old->system && x->opts->merge)
		rc = store_def_delete(x->app->st, name);
	if (!rc)
		rc = store_def_insert(x->app->st, name, def);
	if (rc)
		return import_write_fail(x, rc, name);
	jsonx_get_int(e, "dropped", &dropped);
	size_t nf = json_object_array_length(jsonx_get(def, "fields"));
	import_report_count(x->rep, IK_FIELD, IO_IMPORTED, (int64_t)nf);
	if (old)
		import_report_add(x->rep, IK_COLLECTION, IO_CHANGED, 1,
				  "%s: replaces the target's collection %s", name,
				  name);
	else if (dropped)
		import_report_add(x->rep, IK_COLLECTION, IO_CHANGED, 1,
				  "%s: imported without %lld field(s) (above)",
				  name, (long long)dropped);
	else
		import_report_add(x->rep, IK_COLLECTION, IO_IMPORTED, 1,
				  "%s (%zu fields)", name, nf);
	return 0;
}

/* The definitions, then the schema every process reloads, then tables. */
static int store_all(struct import_ctx *x)
{
	struct app *a = x->app;
	int rc = 0;
	json_object_object_foreach(x->moved, name, e) {
		if (jsonx_get(e, "def") && (rc = store_def(x, name, e)))
			return rc;
	}
	if ((rc = store_bump(a->st, "schema_version")) ||
	    (rc = app_reload_schema(a)) ||
	    (rc = store_sync_tables(a->st, a->schema)))
		return import_write_fail(x, rc, "making the collections' tables");
	return 0;
}

int import_nocobase_schema(struct import_ctx *x)
{
	json_object *more = json_object_new_object(), *names = json_object_new_array();
	struct schema *sys = NULL;
	char err[256];
	int rc;

	x->moved = json_object_new_object();
	if (schema_build(NULL, 0, &sys, err, sizeof(err))) {
		json_object_put(more);
		json_object_put(names);
		return import_report_fail(x->rep, APP_EINTERNAL, "schema: %s", err);
	}
	plan(x);
	json_object_object_foreach(x->moved, k, v) {
		(void)v;
		json_object_array_add(names, json_object_new_string(k));
	}
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(names, i));
		define(x, sys, n, jsonx_get(x->moved, n), more);
	}
	json_object_object_foreach(more, th, e) {
		json_object_object_add(x->moved, th, jsonx_ref(e));
	}
	for (size_t i = 0; i < json_object_array_length(x->t[NB_COLLECTIONS]); i++) {
		const char *n = jsonx_get_str(
			json_object_array_get_idx(x->t[NB_COLLECTIONS], i), "name");
		if (builtin(x, n))
			builtin_fields(x, n);
	}
	rc = store_all(x);
	schema_free(sys);
	json_object_put(more);
	json_object_put(names);
	return rc;
}

/* ---- rows (--rows) ---- */

/* A row of a table without a key of its own (a join table) is the same
 * row when its other columns but the timestamps are. */
static json_object *same_keys(json_object *values)
{
	json_object *m = json_object_new_object();
	json_object_object_foreach(values, k, v) {
		if (v && strcmp(k, "createdAt") && strcmp(k, "updatedAt"))
			json_object_object_add(m, k, jsonx_ref(v));
	}
	return m;
}

/* One batch of a collection's rows into the target. */
static int put_rows(struct import_ctx *x, const struct coll *c, json_object *rows,
		    bool srcpk, int64_t *changed)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *v = NULL;
		bool replaced = false;
		json_object *m = NULL;
		rc = import_write_values(x, c, json_object_array_get_idx(rows, i), &v);
		if (!rc && !srcpk) {
			json_object_object_del(v, c->pk);
			m = same_keys(v);
		}
		if (!rc)
			rc = import_write_put(x, c->name, v, m, &replaced);
		*changed += replaced;
		json_object_put(m);
		json_object_put(v);
	}
	return rc;
}

/* Every row of one collection, by key in batches (a table without the
 * key column at once), ids kept: the sequences move past them. */
static int copy_rows(struct import_ctx *x, const char *name, json_object *e)
{
	const struct coll *c = schema_coll(x->app->schema, name);
	bool srcpk = jsonx_get_bool(e, "srcpk", true), has = false;
	int64_t offset = 0, total = 0, changed = 0;
	int rc;

	if ((rc = store_src_has(x->src, name, &has)) || !has || !c)
		return rc ? import_report_fail(x->rep, rc, "%s: %s", name,
					       store_src_errmsg(x->src))
			  : 0;
	for (;;) {
		json_object *rows = NULL;
		int64_t limit = srcpk ? ROWS_BATCH : 0;
		if ((rc = store_src_rows(x->src, name, srcpk ? c->pk : NULL, limit,
					 offset, &rows)))
			return import_report_fail(x->rep, rc, "reading %s: %s", name,
						  store_src_errmsg(x->src));
		size_t got = json_object_array_length(rows);
		rc = put_rows(x, c, rows, srcpk, &changed);
		json_object_put(rows);
		total += (int64_t)got;
		offset += (int64_t)got;
		if (rc || !limit || got < (size_t)limit)
			break;
	}
	if (rc)
		return rc;
	import_report_add(x->rep, IK_ROW, IO_IMPORTED, total - changed,
			  "%s: %lld row(s)%s", name, (long long)total,
			  changed ? ", some replacing the target's" : "");
	import_report_count(x->rep, IK_ROW, IO_CHANGED, changed);
	return 0;
}

int import_nocobase_rows(struct import_ctx *x)
{
	int rc = 0;
	if (!x->opts->rows) {
		if (json_object_object_length(x->moved))
			import_report_note(x->rep,
					   "the collections' rows were not copied "
					   "(--rows copies them)");
		return 0;
	}
	json_object_object_foreach(x->moved, name, e) {
		if (jsonx_get(e, "def") && (rc = copy_rows(x, name, e)))
			return rc;
	}
	return 0;
}
