/* Starting executions (wf_trigger, wf_execute, wf_queue): the plan of a
 * trigger (which keys run, which are skipped and why), the answer's
 * errors, execution ids in key order, history kept after a rollback, the
 * async queue, and workflows:execute. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "records.h"
#include "schema.h"
#include "store.h"
#include "wf.h"
#include "wf_graph.h"
#include "wf_queue.h"
#include "wf_trigger.h"
#include "wf_version.h"

static char dir[] = "/tmp/flowcgi-trigger-XXXXXX";
static char db[64];
static struct app a;
static struct rctx x;
static json_object *user;

static json_object *parse(const char *s)
{
	json_object *o = NULL;
	char err[128];
	assert_int_equal(jsonx_parse(s, strlen(s), 64, &o, err, sizeof(err)), 0);
	return o;
}

static int64_t add(const char *coll, const char *json)
{
	json_object *v = parse(json), *rec = NULL;
	int64_t id = 0;
	assert_int_equal(rec_create(&x, schema_coll(a.schema, coll), v, NULL, &rec),
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
	assert_int_equal(schema_normalize(a.schema, body, &def, err, sizeof(err)), 0);
	assert_int_equal(store_def_insert(a.st, jsonx_get_str(def, "name"), def), 0);
	assert_int_equal(store_bump(a.st, "schema_version"), 0);
	assert_int_equal(app_reload_schema(&a), 0);
	assert_int_equal(store_sync_tables(a.st, a.schema), 0);
	json_object_put(def);
	json_object_put(body);
}

/* An enabled workflow of key with config and one node per spec (JSON
 * text, in chain order). */
static int64_t workflow(const char *key, bool sync, const char *config,
			const char *const *nodes)
{
	char json[512];
	int64_t id = 0, up = 0, nid = 0;
	snprintf(json, sizeof(json),
		 "{\"title\":\"%s\",\"type\":\"custom-action\",\"key\":\"%s\","
		 "\"sync\":%s,\"enabled\":true,\"config\":%s}",
		 key, key, sync ? "true" : "false", config);
	json_object *v = parse(json);
	assert_int_equal(wf_version_create(&x, v, &id), 0);
	json_object_put(v);
	for (int i = 0; nodes && nodes[i]; i++) {
		v = parse(nodes[i]);
		if (up)
			json_object_object_add(v, "upstreamId", json_object_new_int64(up));
		assert_int_equal(wf_graph_insert(&x, id, v, &nid), 0);
		json_object_put(v);
		up = nid;
	}
	return id;
}

static int setup(void **state)
{
	struct app_config cfg;
	struct store *st = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/trigger.db", dir);
	assert_int_equal(store_open(db, true, &st), 0);
	assert_int_equal(store_migrate(st), 0);
	store_close(st);
	app_config_load(&cfg, db);
	app_open(&a, &cfg);
	assert_int_equal(app_refresh(&a), 0);
	assert_int_equal(store_begin(a.st, true), 0);
	x = (struct rctx){.app = &a, .user_id = 1};
	add("roles", "{\"name\":\"member\"}");
	add("users", "{\"username\":\"u\",\"roles\":[\"member\"]}");
	user = parse("{\"id\":1,\"username\":\"u\"}");
	add_collection("{\"name\":\"cats\",\"fields\":[{\"name\":\"title\","
		       "\"type\":\"string\"},{\"name\":\"n\",\"type\":\"integer\"}]}");
	add_collection("{\"name\":\"posts\",\"fields\":[{\"name\":\"title\","
		       "\"type\":\"string\"},{\"name\":\"n\",\"type\":\"integer\"},"
		       "{\"name\":\"cat\",\"type\":\"belongsTo\",\"target\":\"cats\","
		       "\"foreignKey\":\"catId\"},{\"name\":\"tags\",\"type\":"
		       "\"hasMany\",\"target\":\"cats\",\"foreignKey\":\"postId\"}]}");
	add("cats", "{\"title\":\"c1\",\"n\":0}");
	add("posts", "{\"title\":\"p1\",\"n\":1,\"catId\":1}");
	static const char *const bump[] = {
		"{\"type\":\"update\",\"config\":{\"collection\":\"posts\","
		"\"params\":{\"filter\":{\"id\":\"{{$context.data.id}}\"},"
		"\"values\":{\"n\":\"{{$context.data.n}}\"}}}}",
		NULL};
	workflow("bump", true, "{\"type\":1,\"collection\":\"posts\"}", bump);
	static const char *const stop[] = {
		"{\"type\":\"response-message\",\"config\":{\"message\":\"no\"}}",
		"{\"type\":\"end\",\"config\":{\"endStatus\":-1}}", NULL};
	workflow("stop", true, "{\"type\":1,\"collection\":\"posts\"}", stop);
	static const char *const boom[] = {
		"{\"type\":\"calculation\",\"title\":\"bad\",\"config\":"
		"{\"expression\":\"1 +\"}}",
		NULL};
	workflow("boom", true, "{\"type\":1,\"collection\":\"posts\"}", boom);
	static const char *const later[] = {
		"{\"type\":\"create\",\"config\":{\"collection\":\"cats\","
		"\"params\":{\"values\":{\"title\":\"queued\"}}}}",
		NULL};
	workflow("later", false, "{\"type\":1,\"collection\":\"posts\"}", later);
	workflow("ofcat", true, "{\"type\":1,\"collection\":\"cats\"}", NULL);
	workflow("global", true, "{\"type\":0}", NULL);
	workflow("off", true, "{\"type\":1,\"collection\":\"posts\"}", NULL);
	json_object *row = wf_version_get(&x, 7), *dis = parse("{\"enabled\":false}");
	assert_int_equal(wf_version_update(&x, row, dis), 0);
	json_object_put(row);
	json_object_put(dis);
	assert_int_equal(store_commit(a.st), 0);
	assert_int_equal(app_refresh(&a), 0);
	return 0;
}

static int teardown(void **state)
{
	char path[128];
	const char *suffix[] = {"", "-wal", "-shm", "-writer"};
	json_object_put(user);
	app_close(&a);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
		unlink(path);
	}
	rmdir(dir);
	jsonx_cleanup();
	return 0;
}

/* Run a trigger as the pipeline does: a read transaction, committed on
 * success, rolled back on failure. */
static int run(struct wf_trigger *t, const char *spec, const char *coll,
	       const char *tk, const char *values)
{
	int rc;
	t->spec = spec;
	t->coll = coll ? schema_coll(a.schema, coll) : NULL;
	t->tk = tk ? parse(tk) : NULL;
	t->values = parse(values ? values : "{}");
	t->caller = (struct wf_caller){.user_id = 1, .user = user, .role = "member"};
	assert_int_equal(app_refresh(&a), 0);
	assert_int_equal(store_begin(a.st, false), 0);
	rc = wf_trigger_run(&a, t);
	if (rc)
		store_abort(a.st);
	else
		assert_int_equal(store_commit(a.st), 0);
	json_object_put(t->tk);
	json_object_put(t->values);
	return rc;
}

static int64_t post_n(int64_t id)
{
	json_object *f = json_object_new_object(), *row = NULL;
	int64_t n = -1;
	json_object_object_add(f, "id", json_object_new_int64(id));
	struct rec_query q = {.filter = f};
	assert_int_equal(store_begin(a.st, false), 0);
	assert_int_equal(rec_get(&x, schema_coll(a.schema, "posts"), &q, &row), 0);
	store_commit(a.st);
	jsonx_get_int(row, "n", &n);
	json_object_put(row);
	json_object_put(f);
	return n;
}

static void test_runs_and_writes(void **state)
{
	struct wf_trigger t = {0};
	assert_int_equal(run(&t, "bump", "posts", "1", "{\"n\":5}"), 0);
	assert_int_equal(t.nids, 1);
	assert_int_equal(json_object_array_length(t.messages), 0);
	wf_trigger_free(&t);
	assert_int_equal(post_n(1), 5);
}

static void test_skips_say_why(void **state)
{
	struct wf_trigger t = {0};
	assert_int_equal(run(&t, "nope,off,ofcat,global", "posts", "1", NULL),
			 APP_ENO_WORKFLOW);
	const char *why = buf_str(&t.reason);
	assert_non_null(strstr(why, "workflow key \"nope\" is unknown"));
	assert_non_null(strstr(why, "workflow key \"off\" is disabled"));
	assert_non_null(strstr(why, "\"ofcat\" is bound to collection \"cats\""));
	assert_non_null(strstr(why, "\"global\" is bound to collection \"(none)\""));
	assert_int_equal(t.nids, 0);
	wf_trigger_free(&t);
	assert_int_equal(run(&t, "bump", "posts", "99", NULL), APP_ENO_WORKFLOW);
	assert_non_null(strstr(buf_str(&t.reason), "record 99 of \"posts\" was not found"));
	wf_trigger_free(&t);
	assert_int_equal(run(&t, "", "posts", NULL, NULL), APP_ETRIGGER_REQUIRED);
	wf_trigger_free(&t);
	/* keys are counted as given */
	char many[WF_TRIGGER_MAX_KEYS * 3 + 8] = "";
	for (int i = 0; i <= WF_TRIGGER_MAX_KEYS; i++)
		strcat(many, "k,");
	assert_int_equal(run(&t, many, "posts", NULL, NULL), APP_EPARAM);
	wf_trigger_free(&t);
}

static void test_association_paths(void **state)
{
	struct wf_trigger t = {0};
	/* bound to the target: runs with the related record */
	assert_int_equal(run(&t, "ofcat!cat", "posts", "1", NULL), 0);
	assert_int_equal(t.nids, 1);
	wf_trigger_free(&t);
	assert_int_equal(run(&t, "bump!tags", "posts", "1", NULL), APP_ENOT_TO_ONE);
	wf_trigger_free(&t);
	assert_int_equal(run(&t, "bump!title", "posts", "1", NULL), APP_EASSOC_PATH);
	assert_non_null(strstr(buf_str(&t.reason), "\"title\" in \"title\""));
	wf_trigger_free(&t);
}

static void test_interception_and_failure(void **state)
{
	struct wf_trigger t = {0};
	int64_t before = post_n(1);
	/* bump writes, then stop intercepts: the write rolls back, the
	 * history of both stays */
	assert_int_equal(run(&t, "bump,stop", "posts", "1", "{\"n\":77}"),
			 APP_EWF_INTERCEPTED);
	assert_true(t.intercepted);
	assert_int_equal(json_object_array_length(t.messages), 1);
	assert_int_equal(t.nids, 2);
	assert_true(t.ids[0] < t.ids[1]);
	wf_trigger_free(&t);
	assert_int_equal(post_n(1), before);
	assert_int_equal(run(&t, "boom", "posts", "1", NULL), APP_EWF_FAILED);
	assert_non_null(strstr(buf_str(&t.reason), "failed at node"));
	assert_non_null(strstr(buf_str(&t.reason), "\"bad\""));
	assert_int_equal(t.nids, 1);
	wf_trigger_free(&t);
}

static void test_queue_and_ids_in_key_order(void **state)
{
	struct wf_trigger t = {0};
	int n = 0;
	/* later (async) is named first: its id comes first, though the
	 * synchronous one was recorded before it was queued */
	assert_int_equal(run(&t, "later,bump", "posts", "1", NULL), 0);
	assert_int_equal(t.nids, 2);
	assert_true(t.ids[0] > t.ids[1]);
	wf_trigger_free(&t);
	assert_true(a.queued);
	assert_int_equal(wf_queue_run(&a, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(wf_queue_run(&a, &n), 0);
	assert_int_equal(n, 0);
}

static void test_global_and_execute(void **state)
{
	struct wf_trigger t = {0};
	assert_int_equal(run(&t, "global,bump", NULL, NULL, "{\"x\":1}"), 0);
	assert_int_equal(t.nids, 1); /* bump is bound to a collection */
	wf_trigger_free(&t);

	struct wf_execute w = {.workflow_id = 1, .user_id = 1, .user = user,
			       .role = "member", .data = parse("{\"id\":1,\"n\":9}")};
	assert_int_equal(app_refresh(&a), 0);
	assert_int_equal(wf_execute_run(&x, &w), 0);
	assert_int_equal(w.status, WF_RESOLVED);
	assert_true(w.exec_id > 0);
	assert_int_equal(w.new_version, 0);
	assert_int_equal(post_n(1), 9);
	w.workflow_id = 12345;
	assert_int_equal(wf_execute_run(&x, &w), APP_ERECORD_NOT_FOUND);
	assert_string_equal(x.message, "workflow not found");
	w.workflow_id = 1;
	w.user = NULL;
	assert_int_equal(wf_execute_run(&x, &w), APP_EPARAM);
	json_object_put(w.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_and_writes),
		cmocka_unit_test(test_skips_say_why),
		cmocka_unit_test(test_association_paths),
		cmocka_unit_test(test_interception_and_failure),
		cmocka_unit_test(test_queue_and_ids_in_key_order),
		cmocka_unit_test(test_global_and_execute),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
