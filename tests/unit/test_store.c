/* store: the seam in store.h that every backend implements, against a
 * temporary SQLite file: opening and migrating, nested transactions and
 * their failures, settings and change counters, stored definitions and
 * the tables that follow them, row writes, the execution queue, and the
 * statement cache when a process sees more statements than it keeps. */
#include "unit.h"

#include <sys/stat.h>

#include "err.h"
#include "store_sqlite_int.h"

static struct unit_db db;
static struct app *const app = &db.app;

static int setup(void **state)
{
	(void)state;
	unit_db_open(&db, "store");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_db_close(&db);
	return 0;
}

static struct store *st(void)
{
	return app->st;
}

static void test_open(void **state)
{
	struct store *s = NULL;
	char path[160];
	int v = -1;
	(void)state;
	snprintf(path, sizeof(path), "%s/missing.db", db.dir);
	assert_int_equal(store_open(path, false, &s), APP_EDB_UNINIT);
	assert_non_null(strstr(store_errmsg(s), "missing.db"));
	store_close(s);
	assert_int_equal(access(path, F_OK), -1);
	/* a new file is version 0 until migrated; migrating is idempotent */
	assert_int_equal(store_open(path, true, &s), 0);
	assert_string_equal(store_path(s), path);
	assert_int_equal(store_user_version(s, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(store_migrate(s), 0);
	assert_int_equal(store_migrate(s), 0);
	assert_int_equal(store_user_version(s, &v), 0);
	assert_int_equal(v, 1);
	store_close(s);
	for (size_t i = 0; i < 4; i++) {
		static const char *const suffix[] = {"", "-wal", "-shm",
						     "-writer"};
		char file[192];
		snprintf(file, sizeof(file), "%s%s", path, suffix[i]);
		unlink(file);
	}
}

static void unlink_db(const char *path)
{
	static const char *const suffix[] = {"",	  "-wal",    "-shm",
					     "-writer", "-damaged"};
	for (size_t i = 0; i < sizeof(suffix) / sizeof(*suffix); i++) {
		char file[192];
		snprintf(file, sizeof(file), "%s%s", path, suffix[i]);
		unlink(file);
	}
}

/* The operator's faults have their own codes: a path that is no file is
 * unavailable; a damaged header is corrupt, marks the file for every
 * process and refuses writes until store_check finds it sound. */
static void test_faults(void **state)
{
	struct store *s = NULL;
	char path[160], mark[192], *report = NULL;
	int v = 0;
	FILE *f;
	(void)state;
	snprintf(path, sizeof(path), "%s/dir.db", db.dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(store_open(path, false, &s), APP_EDB_UNAVAILABLE);
	store_close(s);
	rmdir(path);

	snprintf(path, sizeof(path), "%s/faults.db", db.dir);
	snprintf(mark, sizeof(mark), "%s-damaged", path);
	assert_int_equal(store_open(path, true, &s), 0);
	assert_int_equal(store_migrate(s), 0);
	store_close(s);
	assert_non_null(f = fopen(path, "r+b"));
	fputs("this is no longer a SQLite file header", f);
	fclose(f);
	s = NULL;
	int rc = store_open(path, false, &s);
	if (!rc)
		rc = store_user_version(s, &v);
	assert_int_equal(rc, APP_EDB_CORRUPT);
	assert_int_equal(access(mark, F_OK), 0);
	assert_int_equal(store_check(s, &report), APP_EDB_CORRUPT);
	free(report);
	store_close(s);
	unlink_db(path);

	/* a sound file that was marked: writes refused until the check */
	assert_int_equal(store_open(path, true, &s), 0);
	assert_int_equal(store_migrate(s), 0);
	assert_non_null(f = fopen(mark, "w"));
	fclose(f);
	assert_int_equal(store_begin(s, true), APP_EDB_CORRUPT);
	assert_false(store_in_txn(s));
	assert_int_equal(store_begin(s, false), 0); /* reads go on */
	assert_int_equal(store_commit(s), 0);
	/* a late transaction reads; its write is refused */
	assert_int_equal(store_begin_late(s), 0);
	assert_true(store_in_txn(s));
	assert_int_equal(store_writable(s), APP_EDB_CORRUPT);
	assert_false(store_in_txn(s));
	assert_int_equal(store_check(s, &report), 0);
	assert_string_equal(report, "ok");
	free(report);
	assert_int_equal(access(mark, F_OK), -1);
	assert_int_equal(store_begin(s, true), 0);
	assert_int_equal(store_commit(s), 0);
	store_close(s);
	unlink_db(path);
}

/* The checkpoint thread keeps the WAL from growing without bound while a
 * process commits without pause: 20,000 commits of two pages each would
 * make a 165 MB WAL; it starts over at about 50 MB. */
static void test_checkpoints_in_the_background(void **state)
{
	struct store *s = NULL;
	char path[160], wal[192], *big = malloc(6000);
	struct stat sb;
	off_t most = 0;
	(void)state;
	memset(big, 'x', 5999);
	big[5999] = 0;
	snprintf(path, sizeof(path), "%s/ckpt.db", db.dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_int_equal(store_open(path, true, &s), 0);
	assert_int_equal(store_migrate(s), 0);
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(store_begin(s, true), 0);
		memset(big, 'a' + i % 26, 5999);
		assert_int_equal(store_meta_set(s, "big", big), 0);
		assert_int_equal(store_commit(s), 0);
		store_maintain(s);
		if (stat(wal, &sb) == 0 && sb.st_size > most)
			most = sb.st_size;
	}
	store_close(s); /* joins the thread */
	assert_true(most > 0);
	assert_true(most < 80 * 1024 * 1024);
	free(big);
	unlink_db(path);
}

static void test_transactions(void **state)
{
	char *v = NULL;
	(void)state;
	assert_false(store_in_txn(st()));
	/* nested levels: only the outermost commits */
	assert_int_equal(store_begin(st(), true), 0);
	assert_int_equal(store_begin(st(), true), 0);
	assert_int_equal(store_meta_set(st(), "t1", "a"), 0);
	assert_int_equal(store_commit(st()), 0);
	assert_true(store_in_txn(st()));
	assert_int_equal(store_commit(st()), 0);
	assert_false(store_in_txn(st()));
	assert_int_equal(store_commit(st()), 0); /* none open: nothing */
	assert_int_equal(store_meta_get(st(), "t1", &v), 0);
	assert_string_equal(v, "a");
	free(v);

	/* an inner rollback fails the whole transaction */
	assert_int_equal(store_begin(st(), true), 0);
	assert_int_equal(store_meta_set(st(), "t2", "b"), 0);
	assert_int_equal(store_begin(st(), true), 0);
	store_rollback(st());
	assert_int_equal(store_commit(st()), APP_EINTERNAL);
	assert_int_equal(store_meta_get(st(), "t2", &v), 0);
	assert_null(v);

	/* a read transaction turned into a write one */
	assert_int_equal(store_begin(st(), false), 0);
	assert_int_equal(store_begin(st(), false), 0);
	assert_int_equal(store_writable(st()), 0);
	assert_int_equal(store_meta_set(st(), "t3", "c"), 0);
	assert_int_equal(store_writable(st()), 0); /* already writing */
	store_commit(st());
	assert_int_equal(store_commit(st()), 0);
	assert_int_equal(store_writable(st()), 0); /* none open: nothing */
	assert_int_equal(store_meta_get(st(), "t3", &v), 0);
	assert_string_equal(v, "c");
	free(v);

	/* a late transaction holds the writers' queue from its start: the
	 * request reads and writes on one snapshot */
	struct store_lock *q = store_sqlite_lock_open(store_path(st()));
	assert_non_null(q);
	assert_int_equal(store_begin_late(st()), 0);
	assert_int_equal(store_sqlite_lock_take(q, 20), 1); /* timed out */
	assert_int_equal(store_writable(st()), 0);
	assert_int_equal(store_meta_set(st(), "t5", "e"), 0);
	assert_int_equal(store_commit(st()), 0);
	assert_int_equal(store_sqlite_lock_take(q, 20), 0);
	store_sqlite_lock_close(q);
	assert_int_equal(store_meta_get(st(), "t5", &v), 0);
	assert_string_equal(v, "e");
	free(v);

	/* abort at any depth */
	assert_int_equal(store_begin(st(), true), 0);
	assert_int_equal(store_begin(st(), true), 0);
	assert_int_equal(store_meta_set(st(), "t4", "d"), 0);
	store_abort(st());
	assert_false(store_in_txn(st()));
	assert_int_equal(store_meta_get(st(), "t4", &v), 0);
	assert_null(v);
	store_rollback(st()); /* none open: nothing */
	store_maintain(st());
}

static void test_counters(void **state)
{
	int64_t s0, w0, c0, s1, w1, c1;
	char *v = NULL;
	(void)state;
	assert_int_equal(store_counters(st(), &s0, &w0, &c0), 0);
	assert_true(s0 >= 1 && w0 >= 1 && c0 >= 1);
	/* read again without a change: the same */
	assert_int_equal(store_counters(st(), &s1, &w1, &c1), 0);
	assert_true(s1 == s0 && w1 == w0 && c1 == c0);
	assert_int_equal(store_bump(st(), "workflow_version"), 0);
	assert_int_equal(store_bump(st(), "security_version"), 0);
	assert_int_equal(store_bump(st(), "security_version"), 0);
	assert_int_equal(store_counters(st(), &s1, &w1, &c1), 0);
	assert_int_equal(s1, s0);
	assert_int_equal(w1, w0 + 1);
	assert_int_equal(c1, c0 + 2);
	/* settings */
	assert_int_equal(store_meta_get(st(), "nothing", &v), 0);
	assert_null(v);
	assert_int_equal(store_meta_set(st(), "k", "1"), 0);
	assert_int_equal(store_meta_set(st(), "k", "2"), 0);
	assert_int_equal(store_meta_get(st(), "k", &v), 0);
	assert_string_equal(v, "2");
	free(v);
}

/* Stored definitions, and tables that follow them (never dropping a
 * column). */
static void test_definitions(void **state)
{
	json_object *defs = NULL, *v, *pk = NULL, *rows = NULL;
	const struct coll *c;
	struct store_find q = {0};
	(void)state;
	assert_int_equal(store_begin(st(), true), 0);
	unit_collection(app, "{\"name\":\"notes\",\"fields\":["
			     "{\"name\":\"text\",\"type\":\"string\","
			     "\"unique\":true}]}");
	assert_int_equal(store_defs_load(st(), &defs), 0);
	assert_int_equal(json_object_array_length(defs), 1);
	assert_string_equal(
		jsonx_get_str(json_object_array_get_idx(defs, 0), "name"),
		"notes");
	json_object_put(defs);
	/* the same name again is refused by the store itself */
	v = unit_json("{\"name\":\"notes\"}");
	assert_int_equal(store_def_insert(st(), "notes", v), APP_ECONFLICT);
	json_object_put(v);

	/* a definition that grew: its new column is added */
	assert_int_equal(store_def_delete(st(), "notes"), 0);
	assert_int_equal(app_reload_schema(app), 0);
	unit_collection(app, "{\"name\":\"notes\",\"fields\":["
			     "{\"name\":\"text\",\"type\":\"string\"},"
			     "{\"name\":\"n\",\"type\":\"integer\"},"
			     "{\"name\":\"when\",\"type\":\"date\"},"
			     "{\"name\":\"ok\",\"type\":\"boolean\"},"
			     "{\"name\":\"x\",\"type\":\"double\"},"
			     "{\"name\":\"j\",\"type\":\"json\"}]}");
	c = schema_coll(app->schema, "notes");
	v = unit_json("{\"text\":\"a\",\"n\":2,\"ok\":true,\"x\":1.5,"
		      "\"j\":\"[1]\",\"nope\":1}");
	assert_int_equal(store_insert(st(), c, v, &pk), 0);
	json_object_put(v);
	unit_assert_json(pk, "1");
	json_object_put(pk);
	assert_int_equal(store_find(st(), app->schema, c, &q, &rows), 0);
	unit_assert_json(rows, "[{\"createdAt\":null,\"updatedAt\":null,"
			       "\"id\":1,\"text\":\"a\",\"n\":2,\"when\":null,"
			       "\"ok\":true,\"x\":1.5,\"j\":[1]}]");
	json_object_put(rows);

	/* gone: its table dropped, its definition deleted */
	assert_int_equal(store_def_delete(st(), "notes"), 0);
	assert_int_equal(store_drop_table(st(), "notes"), 0);
	assert_int_equal(store_defs_load(st(), &defs), 0);
	assert_int_equal(json_object_array_length(defs), 0);
	json_object_put(defs);
	store_abort(st());
	assert_int_equal(app_reload_schema(app), 0);
}

static void test_rows(void **state)
{
	const struct coll *c;
	json_object *v, *f, *pk = NULL, *pks = NULL;
	int64_t n = 0;
	(void)state;
	assert_int_equal(store_begin(st(), true), 0);
	unit_collection(app, "{\"name\":\"codes\",\"autoGenId\":false,"
			     "\"timestamps\":false,\"fields\":["
			     "{\"name\":\"code\",\"type\":\"string\","
			     "\"primaryKey\":true},"
			     "{\"name\":\"n\",\"type\":\"integer\"}]}");
	unit_collection(app, "{\"name\":\"bare\",\"timestamps\":false}");
	c = schema_coll(app->schema, "codes");
	/* a text key comes back as given */
	v = unit_json("{\"code\":\"a\",\"n\":1}");
	assert_int_equal(store_insert(st(), c, v, &pk), 0);
	unit_assert_json(pk, "\"a\"");
	json_object_put(pk);
	assert_int_equal(store_insert(st(), c, v, &pk), APP_ECONFLICT);
	assert_string_equal(store_errmsg(st()), "code must be unique");
	json_object_put(v);
	v = unit_json("{\"code\":\"b\",\"n\":2}");
	assert_int_equal(store_insert(st(), c, v, &pk), 0);
	json_object_put(pk);
	json_object_put(v);
	/* no values at all */
	v = unit_json("{}");
	assert_int_equal(store_insert(st(), schema_coll(app->schema, "bare"),
				      v, &pk),
			 0);
	unit_assert_json(pk, "1");
	json_object_put(pk);

	/* update: the keys of the rows it changed */
	f = unit_json("{\"n\":{\"$gte\":1}}");
	json_object_put(v);
	v = unit_json("{\"n\":5}");
	assert_int_equal(store_update(st(), app->schema, c, f, v, &pks), 0);
	unit_assert_json(pks, "[\"a\",\"b\"]");
	json_object_put(pks);
	assert_int_equal(store_update_count(st(), app->schema, c, f, v, &n), 0);
	assert_int_equal(n, 2);
	json_object_put(v);
	/* nothing to set: the matching keys, unchanged */
	v = unit_json("{\"nope\":1}");
	assert_int_equal(store_update(st(), app->schema, c, f, v, &pks), 0);
	unit_assert_json(pks, "[\"a\",\"b\"]");
	json_object_put(pks);
	assert_int_equal(store_update_count(st(), app->schema, c, f, v, &n), 0);
	assert_int_equal(n, 2);
	json_object_put(v);
	json_object_put(f);
	/* a bad filter is refused before anything runs */
	f = unit_json("{\"m\":1}");
	v = unit_json("{\"n\":1}");
	assert_int_equal(store_update(st(), app->schema, c, f, v, &pks),
			 APP_EFIELD);
	json_object_put(pks);
	assert_int_equal(store_update_count(st(), app->schema, c, f, v, &n),
			 APP_EFIELD);
	assert_int_equal(store_count(st(), app->schema, c, f, &n), APP_EFIELD);
	assert_int_equal(store_delete(st(), app->schema, c, f, &n), APP_EFIELD);
	json_object_put(v);
	json_object_put(f);
	f = unit_json("{\"code\":\"a\"}");
	assert_int_equal(store_delete(st(), app->schema, c, f, &n), 0);
	assert_int_equal(n, 1);
	json_object_put(f);
	assert_int_equal(store_count(st(), app->schema, c, NULL, &n), 0);
	assert_int_equal(n, 1);
	store_abort(st());
	assert_int_equal(app_reload_schema(app), 0);
}

static void test_find_columns(void **state)
{
	const struct coll *users = schema_coll(app->schema, "users");
	static const char *const bad[] = {"password"};
	static const char *const some[] = {"username", "password"};
	struct store_find q = {.fields = bad, .nfields = 1};
	json_object *rows = NULL;
	(void)state;
	/* hidden columns only when asked for */
	assert_int_equal(store_find(st(), app->schema, users, &q, &rows),
			 APP_EFIELD);
	q.fields = some;
	q.nfields = 2;
	q.hidden = true;
	assert_int_equal(store_find(st(), app->schema, users, &q, &rows), 0);
	json_object_put(rows);
	memset(&q, 0, sizeof(q));
	assert_int_equal(store_find(st(), app->schema, users, &q, &rows), 0);
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		assert_false(jsonx_has(json_object_array_get_idx(rows, i),
				       "password"));
	json_object_put(rows);
}

static bool alive_none(const char *worker)
{
	(void)worker;
	return false;
}

static bool alive_all(const char *worker)
{
	(void)worker;
	return true;
}

/* Queued executions are claimed once each; those a dead worker left
 * running are aborted. */
static void test_queue(void **state)
{
	const struct coll *ex = schema_coll(app->schema, "executions");
	json_object *v, *pk = NULL, *f, *rows = NULL;
	struct store_find q = {0};
	int64_t id = -1, first, n = -1;
	(void)state;
	assert_int_equal(store_begin(st(), true), 0);
	for (int i = 0; i < 2; i++) {
		v = unit_json("{\"workflowId\":1,\"key\":\"k\",\"eventKey\":"
			      "null,\"context\":\"{}\"}");
		json_object_object_add(v, "eventKey",
				       json_object_new_string(i ? "e2" : "e1"));
		assert_int_equal(store_insert(st(), ex, v, &pk), 0);
		json_object_put(pk);
		json_object_put(v);
	}
	assert_int_equal(store_claim_execution(st(), "w1", &first), 0);
	assert_true(first > 0);
	assert_int_equal(store_claim_execution(st(), "w2", &id), 0);
	assert_true(id > first);
	assert_int_equal(store_claim_execution(st(), "w3", &id), 0);
	assert_int_equal(id, 0);
	json_object *ids = NULL;
	assert_int_equal(store_orphans(st(), alive_all, &ids), 0);
	assert_int_equal(json_object_array_length(ids), 0);
	json_object_put(ids);
	assert_int_equal(store_orphans(st(), alive_none, &ids), 0);
	assert_int_equal(json_object_array_length(ids), 2);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(ids, 0)),
			 first);
	json_object_put(ids);
	(void)n;
	f = unit_json("{\"status\":0}");
	q.filter = f;
	q.hidden = true; /* worker is a hidden column */
	assert_int_equal(store_find(st(), app->schema, ex, &q, &rows), 0);
	assert_int_equal(json_object_array_length(rows), 2);
	assert_string_equal(
		jsonx_get_str(json_object_array_get_idx(rows, 0), "worker"),
		"w1");
	json_object_put(rows);
	json_object_put(f);
	store_abort(st());
}

/* What an execution did outside its transaction: noted whole or not at
 * all.  A kill between creating the note and writing it leaves only the
 * side file, which reads as no note (the request was not sent yet). */
static void test_effects(void **state)
{
	char side[192], *what = NULL;
	struct stat sb;
	FILE *f;
	(void)state;
	assert_int_equal(store_effect_note(st(), 7, "node \"n\" (request)"), 0);
	assert_int_equal(store_effect_get(st(), 7, &what), 0);
	assert_string_equal(what, "node \"n\" (request)");
	free(what);
	snprintf(side, sizeof(side), "%s-effects/7.new", db.path);
	assert_int_not_equal(stat(side, &sb), 0);

	snprintf(side, sizeof(side), "%s-effects/8.new", db.path);
	assert_non_null(f = fopen(side, "w"));
	fclose(f);
	assert_int_equal(store_effect_get(st(), 8, &what), 0);
	assert_null(what);
	assert_int_equal(store_effect_clear(st(), 8), 0);
	assert_int_not_equal(stat(side, &sb), 0);
	assert_int_equal(store_effect_clear(st(), 7), 0);
	assert_int_equal(store_effect_get(st(), 7, &what), 0);
	assert_null(what);
	snprintf(side, sizeof(side), "%s-effects", db.path);
	assert_int_equal(rmdir(side), 0);
}

/* More distinct statements than the cache keeps: it starts over, and
 * every statement still runs. */
static void test_statement_cache(void **state)
{
	const struct coll *roles = schema_coll(app->schema, "roles");
	char filter[4096]; /* {"name":{"$in":[0, ... k-1]}}: k placeholders */
	int64_t n;
	(void)state;
	for (int k = 1; k <= 420; k++) {
		char *p = filter;
		json_object *f;
		p += sprintf(p, "{\"name\":{\"$in\":[");
		for (int i = 0; i < k; i++)
			p += sprintf(p, "%s%d", i ? "," : "", i);
		sprintf(p, "]}}");
		f = unit_json(filter);
		assert_int_equal(store_count(st(), app->schema, roles, f, &n),
				 0);
		assert_int_equal(n, 0);
		json_object_put(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_checkpoints_in_the_background),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_definitions),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_find_columns),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_effects),
		cmocka_unit_test(test_statement_cache),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
