/* The engine's stored graph and versions (wf_graph, wf_version): node
 * insertion, moving and removal with their relinking (contract §7),
 * versions of one key, revisions with their links, frozen versions. */
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
#include "store.h"
#include "wf.h"
#include "wf_graph.h"
#include "wf_trigger.h"
#include "wf_version.h"

static char dir[] = "/tmp/flowcgi-graph-XXXXXX";
static char db[64];
static struct app a;
static struct rctx x;

static json_object *parse(const char *s)
{
	json_object *o = NULL;
	char err[128];
	assert_int_equal(jsonx_parse(s, strlen(s), 64, &o, err, sizeof(err)), 0);
	return o;
}

static int setup(void **state)
{
	struct app_config cfg;
	struct store *st = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/graph.db", dir);
	assert_int_equal(store_open(db, true, &st), 0);
	assert_int_equal(store_migrate(st), 0);
	store_close(st);
	app_config_load(&cfg, db);
	app_open(&a, &cfg);
	assert_int_equal(app_refresh(&a), 0);
	assert_int_equal(store_begin(a.st, true), 0);
	x = (struct rctx){.app = &a, .user_id = 1};
	return 0;
}

static int teardown(void **state)
{
	char path[128];
	const char *suffix[] = {"", "-wal", "-shm", "-writer"};
	store_rollback(a.st);
	app_close(&a);
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
		unlink(path);
	}
	rmdir(dir);
	jsonx_cleanup();
	return 0;
}

static int64_t new_workflow(const char *key)
{
	char json[160];
	int64_t id = 0;
	snprintf(json, sizeof(json),
		 "{\"title\":\"t\",\"type\":\"custom-action\",\"key\":\"%s\","
		 "\"config\":{\"type\":0}}",
		 key);
	json_object *v = parse(json);
	assert_int_equal(wf_version_create(&x, v, &id), 0);
	json_object_put(v);
	return id;
}

/* Insert a calculation node: upstream 0 = none, branch -1 = none. */
static int64_t insert(int64_t wid, const char *title, int64_t up, int branch)
{
	char json[200];
	int64_t id = 0;
	int n = snprintf(json, sizeof(json),
			 "{\"type\":\"calculation\",\"title\":\"%s\","
			 "\"config\":{\"expression\":\"1\"}",
			 title);
	if (up)
		n += snprintf(json + n, sizeof(json) - (size_t)n,
			      ",\"upstreamId\":%lld", (long long)up);
	if (branch >= 0)
		n += snprintf(json + n, sizeof(json) - (size_t)n,
			      ",\"branchIndex\":%d", branch);
	snprintf(json + n, sizeof(json) - (size_t)n, "}");
	json_object *v = parse(json);
	assert_int_equal(wf_graph_insert(&x, wid, v, &id), 0);
	json_object_put(v);
	return id;
}

/* A node's link field (0 for null). */
static int64_t link_of(int64_t id, const char *field)
{
	json_object *n = wf_graph_get(&x, id);
	int64_t v = 0;
	assert_non_null(n);
	jsonx_get_int(n, field, &v);
	json_object_put(n);
	return v;
}

static bool exists(int64_t id)
{
	json_object *n = wf_graph_get(&x, id);
	json_object_put(n);
	return n != NULL;
}

static void test_insert_relinks(void **state)
{
	int64_t w = new_workflow("graph1");
	int64_t a1 = insert(w, "a", 0, -1);
	/* a new head: the old head moves behind it */
	int64_t h = insert(w, "h", 0, -1);
	assert_int_equal(link_of(h, "downstreamId"), a1);
	assert_int_equal(link_of(a1, "upstreamId"), h);
	/* after a node: its old downstream moves behind the new one */
	int64_t m = insert(w, "m", h, -1);
	assert_int_equal(link_of(h, "downstreamId"), m);
	assert_int_equal(link_of(m, "downstreamId"), a1);
	assert_int_equal(link_of(a1, "upstreamId"), m);
	/* first of a branch, then a new first node of the same branch */
	int64_t b1 = insert(w, "b1", m, 1);
	assert_int_equal(link_of(b1, "upstreamId"), m);
	assert_int_equal(link_of(b1, "branchIndex"), 1);
	assert_int_equal(link_of(m, "downstreamId"), a1); /* the chain stays */
	int64_t b0 = insert(w, "b0", m, 1);
	assert_int_equal(link_of(b0, "downstreamId"), b1);
	assert_int_equal(link_of(b1, "upstreamId"), b0);
	assert_int_equal(link_of(b1, "branchIndex"), 0); /* no longer first */
	json_object *n = wf_graph_get(&x, b1);
	assert_true(jsonx_has(n, "branchIndex"));
	assert_null(jsonx_get(n, "branchIndex"));
	json_object_put(n);

	/* the stored graph loads as one chain with a branch */
	struct wf_flow *f = NULL;
	assert_int_equal(wf_flow_load(&a, w, &f), 0);
	assert_non_null(f);
	assert_null(f->load_error);
	assert_int_equal(f->head->id, h);
	assert_int_equal(f->head->downstream->id, m);
	assert_int_equal(f->head->downstream->nbranches, 1);
	assert_int_equal(f->head->downstream->branches[0]->id, b0);
	wf_flow_free(f);
}

static void test_remove_relinks(void **state)
{
	int64_t w = new_workflow("graph2");
	int64_t n1 = insert(w, "1", 0, -1);
	int64_t n2 = insert(w, "2", n1, -1);
	int64_t n3 = insert(w, "3", n2, -1);
	int64_t br = insert(w, "br", n2, 0);
	int64_t br2 = insert(w, "br2", br, -1);
	json_object *node = wf_graph_get(&x, n2);
	/* the middle node goes with its branch; 3 follows 1 */
	assert_int_equal(wf_graph_remove(&x, node), 0);
	json_object_put(node);
	assert_false(exists(n2));
	assert_false(exists(br));
	assert_false(exists(br2));
	assert_int_equal(link_of(n1, "downstreamId"), n3);
	assert_int_equal(link_of(n3, "upstreamId"), n1);
	/* removing the head makes its downstream the head */
	node = wf_graph_get(&x, n1);
	assert_int_equal(wf_graph_remove(&x, node), 0);
	json_object_put(node);
	assert_int_equal(link_of(n3, "upstreamId"), 0);
}

static void test_checks(void **state)
{
	int64_t w = new_workflow("graph3"), id = 0;
	json_object *v = parse("{\"type\":\"teleport\"}");
	assert_int_equal(wf_graph_insert(&x, w, v, &id), APP_EVALIDATION);
	assert_string_equal(x.message, "Node type \"teleport\" is not registered");
	json_object_put(v);
	v = parse("{\"type\":\"end\",\"config\":{\"endStatus\":3}}");
	assert_int_equal(wf_graph_insert(&x, w, v, &id), APP_EVALIDATION);
	assert_string_equal(x.message, "\"endStatus\" must be one of [1, -1]");
	json_object_put(v);
	v = parse("{\"title\":\"no type\"}");
	assert_int_equal(wf_graph_insert(&x, w, v, &id), APP_EVALIDATION);
	json_object_put(v);
	/* an upstream in another workflow */
	int64_t other = insert(new_workflow("graph4"), "o", 0, -1);
	char json[96];
	snprintf(json, sizeof(json), "{\"type\":\"output\",\"upstreamId\":%lld}",
		 (long long)other);
	v = parse(json);
	assert_int_equal(wf_graph_insert(&x, w, v, &id), APP_EVALIDATION);
	json_object_put(v);
	assert_int_equal(wf_graph_insert(&x, 99999, v = parse("{\"type\":\"output\"}"),
					 &id),
			 APP_ERECORD_NOT_FOUND);
	json_object_put(v);
	/* config updates are checked too */
	int64_t n = insert(w, "c", 0, -1);
	json_object *row = wf_graph_get(&x, n);
	v = parse("{\"config\":{\"engine\":\"brainfuck\"}}");
	assert_int_equal(wf_graph_update(&x, row, v), APP_EVALIDATION);
	json_object_put(v);
	v = parse("{\"title\":\"renamed\"}");
	assert_int_equal(wf_graph_update(&x, row, v), 0);
	json_object_put(v);
	json_object_put(row);
	row = wf_graph_get(&x, n);
	assert_string_equal(jsonx_get_str(row, "title"), "renamed");
	json_object_put(row);
}

static void test_versions(void **state)
{
	int64_t v1 = new_workflow("ver"), v2 = 0;
	json_object *row = wf_version_get(&x, v1);
	assert_true(jsonx_get_bool(row, "current", false));
	assert_false(jsonx_get_bool(row, "enabled", true));
	int64_t head = insert(v1, "head", 0, -1);
	insert(v1, "tail", head, -1);
	insert(v1, "branch", head, 1);
	/* a revision copies the nodes with their links */
	json_object *over = parse("{\"title\":\"second\"}");
	assert_int_equal(wf_version_copy(&x, row, over, &v2), 0);
	json_object_put(over);
	json_object_put(row);
	struct wf_flow *f = NULL;
	assert_int_equal(wf_flow_load(&a, v2, &f), 0);
	assert_int_equal(f->nnodes, 3);
	assert_string_equal(f->head->title, "head");
	assert_string_equal(f->head->downstream->title, "tail");
	assert_string_equal(f->head->branches[0]->title, "branch");
	assert_int_equal(f->head->branches[0]->branch_index, 1);
	assert_string_equal(f->key, "ver");
	assert_string_equal(f->title, "second");
	assert_false(f->enabled);
	wf_flow_free(f);
	/* enabling the copy makes it the current version of the key */
	row = wf_version_get(&x, v2);
	json_object *en = parse("{\"enabled\":true}");
	assert_int_equal(wf_version_update(&x, row, en), 0);
	json_object_put(en);
	json_object_put(row);
	row = wf_version_get(&x, v1);
	assert_false(jsonx_get_bool(row, "current", false));
	json_object_put(row);
	row = wf_version_get(&x, v2);
	assert_true(jsonx_get_bool(row, "current", false));
	json_object_put(row);
	/* the config check drops "main:" and names what is wrong */
	json_object *c = parse("{\"type\":1,\"collection\":\"main:users\"}");
	json_object *msgs = wf_version_check_config(&a, c);
	assert_int_equal(json_object_array_length(msgs), 0);
	assert_string_equal(jsonx_get_str(c, "collection"), "users");
	json_object_put(msgs);
	json_object_put(c);
	c = parse("{\"type\":1}");
	msgs = wf_version_check_config(&a, c);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(msgs, 0)),
			    "Collection is required for record-based context");
	json_object_put(msgs);
	json_object_put(c);
	assert_true(wf_version_key_valid("a-b_c1"));
	assert_false(wf_version_key_valid("-ab"));
	assert_false(wf_version_key_valid("a b"));
}

static void test_frozen(void **state)
{
	int64_t w = new_workflow("frozen"), n = insert(w, "n", 0, -1);
	struct wf_trigger t = {.spec = "frozen", .values = parse("{}")};
	json_object *en = parse("{\"enabled\":true}"), *row = wf_version_get(&x, w);
	assert_int_equal(wf_version_update(&x, row, en), 0);
	json_object_put(row);
	json_object_put(en);
	assert_int_equal(app_refresh(&a), 0);
	/* one execution freezes the version */
	assert_int_equal(store_begin(a.st, false), 0);
	assert_int_equal(wf_trigger_run(&a, &t), 0);
	assert_int_equal(store_commit(a.st), 0);
	assert_int_equal(t.nids, 1);
	wf_trigger_free(&t);
	json_object_put(t.values);
	assert_int_equal(wf_version_frozen(&x, w, "frozen!"), APP_EWF_EXECUTED);
	assert_string_equal(x.message, "frozen!");
	json_object *v = parse("{\"type\":\"output\"}");
	int64_t id = 0;
	assert_int_equal(wf_graph_insert(&x, w, v, &id), APP_EWF_EXECUTED);
	json_object_put(v);
	row = wf_graph_get(&x, n);
	assert_int_equal(wf_graph_remove(&x, row), APP_EWF_EXECUTED);
	json_object_put(row);
	row = wf_version_get(&x, w);
	assert_int_equal(jsonx_get_int(row, "executed", &id) ? id : -1, 1);
	v = parse("{\"config\":{\"type\":0,\"appends\":[]}}");
	assert_int_equal(wf_version_update(&x, row, v), APP_EWF_EXECUTED);
	json_object_put(v);
	/* the same config again is no change */
	v = parse("{\"config\":{\"type\":0},\"title\":\"ok\"}");
	assert_int_equal(wf_version_update(&x, row, v), 0);
	json_object_put(v);
	json_object_put(row);
	assert_int_equal(wf_version_destroy(&x, w), 0);
	assert_null(wf_version_get(&x, w));
	assert_false(exists(n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_relinks),
		cmocka_unit_test(test_remove_relinks),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_frozen),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
