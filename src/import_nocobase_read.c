/*
 * import_nocobase_read: NocoBase 2.2's own tables, read once through the
 * read-only source (store_src).  Tables a plugin adds may be absent (an
 * older site, a plugin turned off): they read as nothing.  The core tables
 * must be there, under NocoBase's default names: a site set up with
 * DB_UNDERSCORED or DB_TABLE_PREFIX has other names and is refused.
 */
#include "import_int.h"

#include <string.h>

#include "err.h"
#include "jsonx.h"

static const struct {
	enum nb_table t;
	const char *name;
	bool core;    /* every NocoBase 2.2 has it */
	const char *order;
} tables[] = {
	{NB_COLLECTIONS, "collections", true, "sort"},
	{NB_FIELDS, "fields", true, "sort"},
	{NB_DATA_SOURCES, "dataSources", false, "key"},
	{NB_USERS, "users", true, "id"},
	{NB_ROLES, "roles", true, "sort"},
	{NB_ROLES_USERS, "rolesUsers", true, "userId"},
	{NB_DS_ROLES, "dataSourcesRoles", false, "id"},
	{NB_RESOURCES, "dataSourcesRolesResources", false, "id"},
	{NB_ACTIONS, "dataSourcesRolesResourcesActions", false, "id"},
	{NB_SCOPES, "dataSourcesRolesResourcesScopes", false, "id"},
	{NB_API_KEYS, "apiKeys", false, "id"},
	{NB_ISSUED, "issuedTokens", false, "issuedTime"},
	{NB_BLACKLIST, "tokenBlacklist", false, "id"},
	{NB_TOKEN_POLICY, "tokenControlConfig", false, "key"},
	{NB_ENV, "environmentVariables", false, "name"},
	{NB_SETTINGS, "systemSettings", false, "id"},
	{NB_WORKFLOWS, "workflows", true, "id"},
	{NB_NODES, "flow_nodes", true, "id"},
};

_Static_assert(sizeof(tables) / sizeof(tables[0]) == NB_NTABLES,
	       "every NocoBase table read has a row");

static int read_one(struct import_ctx *x, int i)
{
	bool has = false;
	int rc = store_src_has(x->src, tables[i].name, &has);
	if (!rc && !has && tables[i].core)
		return import_report_fail(
			x->rep, APP_EVALIDATION,
			"%s is not a NocoBase 2.2 database: it has no table "
			"\"%s\" (sites made with DB_UNDERSCORED=true or a "
			"DB_TABLE_PREFIX are not supported)",
			store_src_path(x->src), tables[i].name);
	if (!rc && has)
		rc = store_src_rows(x->src, tables[i].name, tables[i].order, 0,
				    0, &x->t[tables[i].t]);
	if (rc)
		return import_report_fail(x->rep, rc, "reading %s: %s",
					  tables[i].name,
					  store_src_errmsg(x->src));
	return 0;
}

int import_nocobase_read(struct import_ctx *x)
{
	bool has = false;
	int rc;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if ((rc = read_one(x, (int)i)))
			return rc;
	if ((rc = store_src_has(x->src, "executions", &has)) ||
	    (has && (rc = store_src_count(x->src, "executions", &x->executions))))
		return import_report_fail(x->rep, rc, "reading executions: %s",
					  store_src_errmsg(x->src));
	return 0;
}

json_object *import_nocobase_where(json_object *rows, const char *key,
				   json_object *value)
{
	json_object *out = json_object_new_array();
	const char *want = jsonx_str(value);
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		json_object *v = jsonx_get(row, key);
		if (v && !json_object_is_type(v, json_type_null) &&
		    !strcmp(jsonx_str(v), want))
			json_object_array_add(out, jsonx_ref(row));
	}
	return out;
}
