/*
 * import_nocobase_acl: who may do what, and the tokens.  Roles with their
 * strategy (NocoBase 2.2 keeps the main data source's in
 * dataSourcesRoles), scopes, per-collection grants with their actions,
 * field lists and scopes, users with their password hashes, users' roles
 * and default roles; then API keys, issued sessions, revoked tokens, the
 * token policy, the token secret and environment variables.  Only the
 * main data source's ACL moves: other data sources are listed as skipped.
 */
#include "import_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "jsonx.h"
#include "util.h"

/* What an imported row that replaced one says. */
static const char *replaces(struct import_ctx *x)
{
	return x->opts->merge ? ": replaces the target's"
			      : ": replaces the fresh site's";
}

static bool is_main(json_object *row)
{
	const char *ds = jsonx_get_str(row, "dataSourceKey");
	return !ds || !strcmp(ds, "main");
}

static json_object *eq(const char *k, json_object *v)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, k, jsonx_ref(v));
	return f;
}

/* Write a NocoBase row into coll; *changed when it replaced a row of the
 * target (--merge) or of the fresh init (seeded, by seed_key). */
static int put_row(struct import_ctx *x, const char *coll, json_object *row,
		   json_object *match, const char *seed_key, bool *changed)
{
	const struct coll *c = schema_coll(x->app->schema, coll);
	json_object *v = NULL;
	bool replaced = false;
	int rc = import_write_values(x, c, row, &v);
	if (!rc)
		rc = import_write_put(x, coll, v, match, &replaced);
	json_object_put(v);
	*changed = replaced ||
		   (seed_key && import_write_was_seeded(x, coll, jsonx_get(row, seed_key)));
	return rc;
}

static void data_sources(struct import_ctx *x)
{
	json_object *rows = x->t[NB_DATA_SOURCES];
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		const char *key = jsonx_get_str(r, "key");
		if (!util_streq(key, "main"))
			import_report_add(x->rep, IK_DATA_SOURCE, IO_SKIPPED, 1,
					  "%s (%s): flowcgi has one data source, "
					  "main; its collections, grants and "
					  "scopes stay behind",
					  key ? key : "?", jsonx_get_str(r, "type"));
	}
}

/* NocoBase 2.2 reads the main data source's strategy from
 * dataSourcesRoles; roles.strategy is the older copy. */
static json_object *strategy_of(struct import_ctx *x, json_object *role)
{
	json_object *rows = import_nocobase_where(x->t[NB_DS_ROLES], "roleName",
						  jsonx_get(role, "name"));
	json_object *s = jsonx_get(role, "strategy");
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		if (is_main(json_object_array_get_idx(rows, i)))
			s = jsonx_get(json_object_array_get_idx(rows, i), "strategy");
	s = jsonx_ref(s);
	json_object_put(rows);
	return s;
}

static int roles(struct import_ctx *x)
{
	json_object *rows = x->t[NB_ROLES];
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = jsonx_copy(json_object_array_get_idx(rows, i));
		bool changed = false;
		json_object_object_add(r, "strategy", strategy_of(x, r));
		rc = put_row(x, "roles", r, NULL, "name", &changed);
		if (!rc)
			import_report_add(x->rep, IK_ROLE, changed ? IO_CHANGED : IO_IMPORTED,
					  1, "%s%s (strategy %s)", jsonx_get_str(r, "name"),
					  changed ? replaces(x) : "",
					  jsonx_str(jsonx_get(r, "strategy")));
		json_object_put(r);
	}
	return rc;
}

static int scopes(struct import_ctx *x)
{
	json_object *rows = x->t[NB_SCOPES];
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i), *m = NULL;
		const char *key = jsonx_get_str(r, "key");
		bool builtin = util_streq(key, "all") || util_streq(key, "own");
		bool changed = false;
		if (!is_main(r)) {
			import_report_add(x->rep, IK_SCOPE, IO_SKIPPED, 1,
					  "%s of data source %s", jsonx_get_str(r, "name"),
					  jsonx_get_str(r, "dataSourceKey"));
			continue;
		}
		/* The built-in all and own give way whatever their ids. */
		m = builtin ? eq("key", jsonx_get(r, "key")) : NULL;
		rc = put_row(x, "dataSourcesRolesResourcesScopes", r, m, "key", &changed);
		json_object_put(m);
		if (!rc)
			import_report_add(x->rep, IK_SCOPE, changed ? IO_CHANGED : IO_IMPORTED,
					  1, "%s (id %s%s%s): %s%s", jsonx_get_str(r, "name"),
					  jsonx_str(jsonx_get(r, "id")),
					  jsonx_get_str(r, "resourceName") ? ", on " : "",
					  jsonx_get_str(r, "resourceName")
						  ? jsonx_get_str(r, "resourceName") : "",
					  jsonx_str(jsonx_get(r, "scope")),
					  changed ? replaces(x) : "");
	}
	return rc;
}

static int users(struct import_ctx *x)
{
	json_object *rows = x->t[NB_USERS];
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		bool changed = false;
		rc = put_row(x, "users", r, NULL, "id", &changed);
		if (!rc)
			import_report_add(x->rep, IK_USER, changed ? IO_CHANGED : IO_IMPORTED,
					  1, "%s %s <%s>%s", jsonx_str(jsonx_get(r, "id")),
					  jsonx_get_str(r, "username") ? jsonx_get_str(r, "username") : "-",
					  jsonx_get_str(r, "email") ? jsonx_get_str(r, "email") : "",
					  changed ? replaces(x) : "");
	}
	return rc;
}

static int users_roles(struct import_ctx *x)
{
	json_object *rows = x->t[NB_ROLES_USERS];
	int64_t n = 0, dflt = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		json_object *m = json_object_new_object();
		bool changed = false;
		json_object_object_add(m, "userId", jsonx_ref(jsonx_get(r, "userId")));
		json_object_object_add(m, "roleName", jsonx_ref(jsonx_get(r, "roleName")));
		rc = put_row(x, "rolesUsers", r, m, NULL, &changed);
		json_object_put(m);
		n++;
		dflt += jsonx_get_bool(r, "default", false);
	}
	if (!rc)
		import_report_add(x->rep, IK_USER_ROLE, IO_IMPORTED, n,
				  "%lld (%lld of them a user's default role)",
				  (long long)n, (long long)dflt);
	return rc;
}

/* A grant's actions, described: "view (fields: 3), trigger (scope 7)". */
static int grant_actions(struct import_ctx *x, json_object *res,
			 struct buf *desc)
{
	json_object *rows = import_nocobase_where(x->t[NB_ACTIONS], "rolesResourceId",
						  jsonx_get(res, "id"));
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *a = json_object_array_get_idx(rows, i);
		json_object *f = jsonx_get(a, "fields"), *s = jsonx_get(a, "scopeId");
		bool changed = false;
		rc = put_row(x, "dataSourcesRolesResourcesActions", a, NULL, NULL,
			     &changed);
		buf_printf(desc, "%s%s", i ? ", " : "", jsonx_get_str(a, "name"));
		if (json_object_is_type(f, json_type_array) &&
		    json_object_array_length(f))
			buf_printf(desc, " (fields %s)", jsonx_str(f));
		if (s && !json_object_is_type(s, json_type_null))
			buf_printf(desc, " (scope %s)", jsonx_str(s));
	}
	json_object_put(rows);
	return rc;
}

static int grants(struct import_ctx *x)
{
	json_object *rows = x->t[NB_RESOURCES];
	struct buf desc = {0};
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		const char *role = jsonx_get_str(r, "roleName"),
			   *name = jsonx_get_str(r, "name");
		bool changed = false;
		if (!is_main(r) || !schema_coll(x->app->schema, name)) {
			import_report_add(x->rep, IK_GRANT, IO_SKIPPED, 1,
					  "%s on %s: %s", role, name,
					  is_main(r) ? "the collection is not moved"
						     : "not the main data source");
			continue;
		}
		buf_reset(&desc);
		if (!(rc = put_row(x, "dataSourcesRolesResources", r, NULL, NULL,
				   &changed)) &&
		    !(rc = grant_actions(x, r, &desc)))
			import_report_add(x->rep, IK_GRANT,
					  changed ? IO_CHANGED : IO_IMPORTED, 1,
					  "%s on %s: %s%s", role, name,
					  jsonx_get_bool(r, "usingActionsConfig", false)
						  ? ""
						  : "(not in use) ",
					  buf_str(&desc));
	}
	buf_free(&desc);
	return rc;
}

/* systemSettings.roleMode: flowcgi acts with one role at a time. */
static void role_mode(struct import_ctx *x)
{
	json_object *row = json_object_array_get_idx(x->t[NB_SETTINGS], 0);
	const char *mode = jsonx_get_str(row, "roleMode");
	if (mode && strcmp(mode, "default"))
		import_report_add(x->rep, IK_SETTING, IO_SKIPPED, 1,
				  "roleMode \"%s\": flowcgi uses one role at a "
				  "time (roleMode \"default\")",
				  mode);
}

int import_nocobase_acl(struct import_ctx *x)
{
	int rc;
	data_sources(x);
	role_mode(x);
	if ((rc = roles(x)) || (rc = scopes(x)) || (rc = users(x)) ||
	    (rc = users_roles(x)) || (rc = grants(x)))
		return rc;
	return 0;
}

/* ---- tokens, settings, variables ---- */

void import_nocobase_blocked_key(const char *nb_token, char *out, size_t n)
{
	char hash[65];
	/* NocoBase blocks jti, or the whole token when it has none (API
	 * keys); flowcgi keeps a token without jti as its SHA-256. */
	if (strchr(nb_token, '.')) {
		crypto_sha256_hex(nb_token, strlen(nb_token), hash);
		snprintf(out, n, "%s", hash);
	} else {
		snprintf(out, n, "%s", nb_token);
	}
}

static int api_keys(struct import_ctx *x)
{
	json_object *rows = x->t[NB_API_KEYS];
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);
		bool changed = false;
		rc = put_row(x, "apiKeys", r, NULL, NULL, &changed);
		if (!rc)
			import_report_add(x->rep, IK_API_KEY,
					  changed ? IO_CHANGED : IO_IMPORTED, 1,
					  "%s (role %s, expires %s, user %s)",
					  jsonx_get_str(r, "name"),
					  jsonx_get_str(r, "roleName"),
					  jsonx_get_str(r, "expiresIn"),
					  jsonx_str(jsonx_get(r, "createdById")));
	}
	return rc;
}

/* Sessions NocoBase issued: a token that expired within the renew limit
 * is renewed by its jti.  NocoBase's row id (a uuid) is not kept. */
static int issued(struct import_ctx *x)
{
	json_object *rows = x->t[NB_ISSUED];
	size_t n = json_object_array_length(rows);
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		json_object *r = jsonx_copy(json_object_array_get_idx(rows, i));
		json_object *m = eq("jti", jsonx_get(r, "jti"));
		bool changed = false;
		json_object_object_del(r, "id");
		rc = put_row(x, "issuedTokens", r, m, NULL, &changed);
		json_object_put(m);
		json_object_put(r);
	}
	if (!rc && n)
		import_report_add(x->rep, IK_TOKEN, IO_IMPORTED, (int64_t)n,
				  "%zu issued session(s): renewable as in NocoBase", n);
	return rc;
}

static int revoked(struct import_ctx *x)
{
	json_object *rows = x->t[NB_BLACKLIST];
	size_t n = json_object_array_length(rows);
	char key[300];
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		json_object *r = jsonx_copy(json_object_array_get_idx(rows, i));
		const char *t = jsonx_get_str(r, "token");
		bool changed = false;
		import_nocobase_blocked_key(t ? t : "", key, sizeof(key));
		json_object_object_add(r, "token", json_object_new_string(key));
		json_object_object_del(r, "id");
		json_object *m = eq("token", jsonx_get(r, "token"));
		rc = put_row(x, "tokenBlacklist", r, m, NULL, &changed);
		json_object_put(m);
		json_object_put(r);
	}
	if (!rc && n)
		import_report_add(x->rep, IK_TOKEN, IO_IMPORTED, (int64_t)n,
				  "%zu revoked (signed out, deleted API keys): "
				  "still refused", n);
	return rc;
}

static int token_policy(struct import_ctx *x)
{
	json_object *v = json_object_new_string("token-policy-config");
	json_object *rows = import_nocobase_where(x->t[NB_TOKEN_POLICY], "key", v);
	json_object *cfg = jsonx_get(json_object_array_get_idx(rows, 0), "config");
	int rc = 0;
	if (json_object_is_type(cfg, json_type_object)) {
		rc = store_meta_set(x->app->st, "token-policy-config", jsonx_str(cfg));
		if (rc)
			rc = import_write_fail(x, rc, "token policy");
		else
			import_report_add(x->rep, IK_SETTING, IO_IMPORTED, 1,
					  "token policy %s", jsonx_str(cfg));
	}
	json_object_put(rows);
	json_object_put(v);
	return rc;
}

/* NocoBase's token secret becomes flowcgi's: the bytes of APP_KEY as the
 * string, or jwt_secret.dat's raw bytes (kept as hex in app_secret_hex,
 * which wins over app_secret). */
static int secret(struct import_ctx *x)
{
	struct store *st = x->app->st;
	char *hex;
	int rc;

	if (!x->has_app) {
		import_report_note(x->rep,
				   "the token secret did not move (no --app-dir): "
				   "tokens NocoBase issued verify only with "
				   "FLOWCGI_APP_KEY set to NocoBase's APP_KEY");
		return 0;
	}
	if (x->nb.secret_raw) {
		hex = util_xmalloc(x->nb.secret_len * 2 + 1);
		util_hex(x->nb.secret, x->nb.secret_len, hex);
		rc = store_meta_set(st, "app_secret_hex", hex);
		free(hex);
	} else {
		rc = store_meta_set(st, "app_secret", (const char *)x->nb.secret);
		if (!rc)
			rc = store_meta_set(st, "app_secret_hex", "");
	}
	if (rc)
		return import_write_fail(x, rc, "token secret");
	import_report_add(x->rep, IK_SETTING, IO_CHANGED, 1,
			  "token secret: NocoBase's, from %s (replaces the "
			  "%s)%s",
			  x->nb.secret_from,
			  x->opts->merge ? "target's" : "one init made",
			  getenv("FLOWCGI_APP_KEY") && *getenv("FLOWCGI_APP_KEY")
				  ? "; FLOWCGI_APP_KEY, set here, wins over it"
				  : "");
	return 0;
}

static int variables(struct import_ctx *x)
{
	json_object *rows = x->t[NB_ENV];
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *r = jsonx_copy(json_object_array_get_idx(rows, i));
		const char *name = jsonx_get_str(r, "name");
		bool secret_var = util_streq(jsonx_get_str(r, "type"), "secret");
		bool changed = false;
		char *plain = secret_var ? import_nocobase_app_decrypt(
						   &x->nb, jsonx_get_str(r, "value"))
					 : NULL;
		if (secret_var && !plain) {
			import_report_add(x->rep, IK_VARIABLE, IO_SKIPPED, 1,
					  "%s: a secret NocoBase encrypted; --app-dir "
					  "with NocoBase's AES key decrypts it",
					  name);
		} else {
			json_object *m = eq("name", jsonx_get(r, "name"));
			if (plain)
				json_object_object_add(r, "value", json_object_new_string(plain));
			rc = put_row(x, "environmentVariables", r, m, NULL, &changed);
			json_object_put(m);
			if (!rc)
				import_report_add(x->rep, IK_VARIABLE,
						  changed ? IO_CHANGED : IO_IMPORTED, 1,
						  "%s%s", name,
						  plain ? " (secret, decrypted)" : "");
		}
		free(plain);
		json_object_put(r);
	}
	return rc;
}

int import_nocobase_tokens(struct import_ctx *x)
{
	int rc;
	if ((rc = api_keys(x)) || (rc = issued(x)) || (rc = revoked(x)) ||
	    (rc = token_policy(x)) || (rc = secret(x)) || (rc = variables(x)))
		return rc;
	return 0;
}
