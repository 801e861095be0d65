/* acl: the decision for trigger and triggerNew (reference §3.2, §9) against
 * a temporary database: strategies with and without ":own", per-collection
 * configurations with the own, all and custom scopes, no aliases, root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "records.h"
#include "store.h"

static char dir[] = "/tmp/flowcgi-acl-XXXXXX";
static char db[64];
static struct app a;
static int64_t all_scope, own_scope, custom_scope;

static json_object *parse(const char *s)
{
	json_object *o = NULL;
	char err[128];
	assert_int_equal(jsonx_parse(s, strlen(s), 64, &o, err, sizeof(err)),
			 0);
	return o;
}

/* Create a row of coll from JSON text (nested associations allowed). */
static int64_t add(const char *coll, const char *json)
{
	struct rctx x = {.app = &a, .user_id = 1};
	json_object *v = parse(json), *rec = NULL;
	int64_t id = 0;
	assert_int_equal(rec_create(&x, schema_coll(a.schema, coll), v, NULL,
				    &rec),
			 0);
	jsonx_get_int(rec, "id", &id);
	json_object_put(rec);
	json_object_put(v);
	return id;
}

static void add_collection(const char *json)
{
	json_object *body = parse(json), *def = NULL;
	char err[256];
	assert_int_equal(schema_normalize(a.schema, body, &def, err,
					  sizeof(err)),
			 0);
	assert_int_equal(store_def_insert(a.st, jsonx_get_str(def, "name"), def),
			 0);
	assert_int_equal(store_bump(a.st, "schema_version"), 0);
	assert_int_equal(app_reload_schema(&a), 0);
	assert_int_equal(store_sync_tables(a.st, a.schema), 0);
	json_object_put(def);
	json_object_put(body);
}

/* A per-collection configuration: actions is JSON text. */
static void grant(const char *role, const char *coll, const char *actions)
{
	char json[512];
	snprintf(json, sizeof(json),
		 "{\"roleName\":\"%s\",\"name\":\"%s\","
		 "\"usingActionsConfig\":true,\"actions\":%s}",
		 role, coll, actions);
	add("dataSourcesRolesResources", json);
}

static int setup(void **state)
{
	struct app_config cfg;
	struct store *st = NULL;
	char json[256];

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/acl.db", dir);
	assert_int_equal(store_open(db, true, &st), 0);
	assert_int_equal(store_migrate(st), 0);
	store_close(st);
	app_config_load(&cfg, db);
	app_open(&a, &cfg);
	assert_int_equal(app_refresh(&a), 0);
	assert_int_equal(store_begin(a.st, true), 0);

	add_collection("{\"name\":\"notes\",\"createdBy\":true,\"fields\":"
		       "[{\"name\":\"priority\",\"type\":\"integer\"}]}");
	add_collection("{\"name\":\"plain\",\"fields\":"
		       "[{\"name\":\"priority\",\"type\":\"integer\"}]}");
	all_scope = add("dataSourcesRolesResourcesScopes",
			"{\"key\":\"all\",\"scope\":{}}");
	own_scope = add("dataSourcesRolesResourcesScopes",
			"{\"key\":\"own\",\"scope\":" ACL_OWN_FILTER "}");
	custom_scope = add("dataSourcesRolesResourcesScopes",
			   "{\"name\":\"urgent\",\"scope\":"
			   "{\"priority\":{\"$gte\":5}}}");

	add("roles", "{\"name\":\"trig\",\"strategy\":{\"actions\":[\"trigger\"]}}");
	add("roles", "{\"name\":\"trignew\",\"strategy\":"
		     "{\"actions\":[\"triggerNew\"]}}");
	add("roles", "{\"name\":\"own\",\"strategy\":"
		     "{\"actions\":[\"trigger:own\",\"triggerNew:own\"]}}");
	add("roles", "{\"name\":\"viewer\",\"strategy\":"
		     "{\"actions\":[\"view\",\"create\"]}}");
	add("roles", "{\"name\":\"star\",\"strategy\":{\"actions\":[\"*\"]}}");
	/* conf: a strategy that would allow everything, and configurations
	 * that decide instead. */
	add("roles", "{\"name\":\"conf\",\"strategy\":"
		     "{\"actions\":[\"trigger\",\"triggerNew\"]}}");
	snprintf(json, sizeof(json),
		 "[{\"name\":\"trigger\",\"scopeId\":%lld},"
		 "{\"name\":\"triggerNew\",\"scopeId\":%lld}]",
		 (long long)own_scope, (long long)own_scope);
	grant("conf", "notes", json);
	grant("conf", "plain", "[{\"name\":\"view\"}]");
	add("roles", "{\"name\":\"custom\",\"strategy\":{\"actions\":[]}}");
	snprintf(json, sizeof(json), "[{\"name\":\"trigger\",\"scopeId\":%lld}]",
		 (long long)custom_scope);
	grant("custom", "notes", json);
	snprintf(json, sizeof(json), "[{\"name\":\"trigger\",\"scopeId\":%lld}]",
		 (long long)all_scope);
	grant("custom", "plain", json);
	/* A configuration that is not in use leaves the strategy in charge. */
	add("dataSourcesRolesResources",
	    "{\"roleName\":\"trig\",\"name\":\"notes\","
	    "\"usingActionsConfig\":false}");

	assert_int_equal(store_commit(a.st), 0);
	return 0;
}

static int teardown(void **state)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char path[96];
	app_close(&a);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

static char reason[512];

/* acl_can's answer; *scope as JSON text ("" for none) into out. */
static int can(const char *role, const char *coll, const char *action,
	       const char **out)
{
	json_object *scope = (json_object *)1;
	static char text[256];
	int rc;

	reason[0] = 0;
	rc = acl_can(&a, role, coll, action, &scope, reason, sizeof(reason));
	snprintf(text, sizeof(text), "%s",
		 scope ? json_object_to_json_string_ext(scope,
							JSON_C_TO_STRING_PLAIN)
		       : "");
	json_object_put(scope);
	*out = text;
	if (rc)
		assert_string_equal(text, "");
	return rc;
}

#define OWN "{\"createdById\":\"{{ ctx.state.currentUser.id }}\"}"
#define NONE "{\"id\":{\"$in\":[]}}"

static void allowed(const char *role, const char *coll, const char *action,
		    const char *want_scope)
{
	const char *scope;
	int rc = can(role, coll, action, &scope);
	if (rc)
		fail_msg("%s %s:%s denied: %s", role, coll, action, reason);
	assert_string_equal(scope, want_scope);
}

static void denied(const char *role, const char *coll, const char *action)
{
	const char *scope;
	char quoted[64];
	assert_int_equal(can(role, coll, action, &scope), APP_EDENIED);
	snprintf(quoted, sizeof(quoted), "\"%s\"", role ? role : "anonymous");
	assert_non_null(strstr(reason, quoted));
}

static void test_root_passes(void **state)
{
	allowed("root", "notes", "trigger", "");
	allowed("root", "notes", "triggerNew", "");
	allowed("root", "plain", "destroy", "");
}

static void test_strategy_without_scope(void **state)
{
	allowed("trig", "notes", "trigger", "");
	allowed("trig", "plain", "trigger", "");
	denied("trig", "notes", "triggerNew");
	assert_non_null(strstr(reason, "\"triggerNew\""));
	allowed("trignew", "notes", "triggerNew", "");
	denied("trignew", "notes", "trigger");
	allowed("star", "notes", "trigger", "");
	allowed("star", "notes", "triggerNew", "");
}

static void test_strategy_own(void **state)
{
	allowed("own", "notes", "trigger", OWN);
	/* triggerNew acts on a new record: no data scope, even with :own. */
	allowed("own", "notes", "triggerNew", "");
	/* No createdById: the own scope matches nothing. */
	allowed("own", "plain", "trigger", NONE);
}

static void test_no_aliases(void **state)
{
	allowed("viewer", "notes", "get", "");
	allowed("viewer", "notes", "list", "");
	denied("viewer", "notes", "trigger");
	denied("viewer", "notes", "triggerNew");
}

static void test_configuration_decides(void **state)
{
	allowed("conf", "notes", "trigger", OWN);
	allowed("conf", "notes", "triggerNew", "");
	/* plain is configured without trigger: the strategy is not asked. */
	denied("conf", "plain", "trigger");
	denied("conf", "plain", "triggerNew");
	assert_non_null(strstr(reason, "configuration"));
	allowed("conf", "plain", "list", "");
}

static void test_custom_and_all_scopes(void **state)
{
	allowed("custom", "notes", "trigger", "{\"priority\":{\"$gte\":5}}");
	denied("custom", "notes", "triggerNew");
	allowed("custom", "plain", "trigger", ""); /* all */
}

static void test_unknown_roles(void **state)
{
	denied("ghost", "notes", "trigger");
	denied("anonymous", "notes", "triggerNew");
	denied(NULL, "notes", "trigger");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_passes),
		cmocka_unit_test(test_strategy_without_scope),
		cmocka_unit_test(test_strategy_own),
		cmocka_unit_test(test_no_aliases),
		cmocka_unit_test(test_configuration_decides),
		cmocka_unit_test(test_custom_and_all_scopes),
		cmocka_unit_test(test_unknown_roles),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
