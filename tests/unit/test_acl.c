/* acl: the decision for trigger and triggerNew (reference §3.2, §9) against
 * a temporary database: strategies with and without ":own", per-collection
 * configurations with the own, all and custom scopes, no aliases, root. */
#include "unit.h"

#include "acl.h"
#include "err.h"

static struct unit_db db;
static struct app *const app = &db.app;
static int64_t all_scope, own_scope, custom_scope;

/* A per-collection configuration: actions is JSON text. */
static void grant(const char *role, const char *coll, const char *actions)
{
	char json[512];
	snprintf(json, sizeof(json),
		 "{\"roleName\":\"%s\",\"name\":\"%s\","
		 "\"usingActionsConfig\":true,\"actions\":%s}",
		 role, coll, actions);
	unit_add(app, "dataSourcesRolesResources", json);
}

static int setup(void **state)
{
	char json[256];

	unit_db_open(&db, "acl");
	assert_int_equal(store_begin(app->st, true), 0);

	unit_collection(app,
			"{\"name\":\"notes\",\"createdBy\":true,\"fields\":"
			"[{\"name\":\"priority\",\"type\":\"integer\"}]}");
	unit_collection(app, "{\"name\":\"plain\",\"fields\":"
			     "[{\"name\":\"priority\",\"type\":\"integer\"}]}");
	all_scope = unit_add(app, "dataSourcesRolesResourcesScopes",
			     "{\"key\":\"all\",\"scope\":{}}");
	own_scope = unit_add(app, "dataSourcesRolesResourcesScopes",
			     "{\"key\":\"own\",\"scope\":" ACL_OWN_FILTER "}");
	custom_scope = unit_add(app, "dataSourcesRolesResourcesScopes",
				"{\"name\":\"urgent\",\"scope\":"
				"{\"priority\":{\"$gte\":5}}}");

	unit_add(
		app, "roles",
		"{\"name\":\"trig\",\"strategy\":{\"actions\":[\"trigger\"]}}");
	unit_add(app, "roles",
		 "{\"name\":\"trignew\",\"strategy\":"
		 "{\"actions\":[\"triggerNew\"]}}");
	unit_add(app, "roles",
		 "{\"name\":\"own\",\"strategy\":"
		 "{\"actions\":[\"trigger:own\",\"triggerNew:own\"]}}");
	unit_add(app, "roles",
		 "{\"name\":\"viewer\",\"strategy\":"
		 "{\"actions\":[\"view\",\"create\"]}}");
	unit_add(app, "roles",
		 "{\"name\":\"star\",\"strategy\":{\"actions\":[\"*\"]}}");
	/* conf: a strategy that would allow everything, and configurations
	 * that decide instead. */
	unit_add(app, "roles",
		 "{\"name\":\"conf\",\"strategy\":"
		 "{\"actions\":[\"trigger\",\"triggerNew\"]}}");
	snprintf(json, sizeof(json),
		 "[{\"name\":\"trigger\",\"scopeId\":%lld},"
		 "{\"name\":\"triggerNew\",\"scopeId\":%lld}]",
		 (long long)own_scope, (long long)own_scope);
	grant("conf", "notes", json);
	grant("conf", "plain", "[{\"name\":\"view\"}]");
	unit_add(app, "roles",
		 "{\"name\":\"custom\",\"strategy\":{\"actions\":[]}}");
	snprintf(json, sizeof(json), "[{\"name\":\"trigger\",\"scopeId\":%lld}]",
		 (long long)custom_scope);
	grant("custom", "notes", json);
	snprintf(json, sizeof(json), "[{\"name\":\"trigger\",\"scopeId\":%lld}]",
		 (long long)all_scope);
	grant("custom", "plain", json);
	/* A configuration that is not in use leaves the strategy in charge. */
	unit_add(app, "dataSourcesRolesResources",
		 "{\"roleName\":\"trig\",\"name\":\"notes\","
		 "\"usingActionsConfig\":false}");

	assert_int_equal(store_commit(app->st), 0);
	return 0;
}

static int teardown(void **state)
{
	unit_db_close(&db);
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
	rc = acl_can(app, role, coll, action, &scope, reason, sizeof(reason));
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
