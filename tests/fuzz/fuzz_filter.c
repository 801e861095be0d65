/*
 * fuzz_filter: the filter compiler (store_query.c).  The input is filter
 * JSON as a client sends it in ?filter= or a node saves it; it is compiled
 * into SQL and run, through store_find, store_count and store_delete (in
 * a transaction rolled back), against a scratch SQLite database with
 * every field type and association kind (fuzz_db.h), on posts (to-one,
 * to-many and many-to-many paths) and on comments (paths through posts).
 *
 * Checks: no crash, no leak, and a compiled filter either runs or fails
 * with an error message; count agrees with the rows found.
 */
#include "fuzz.h"
#include "fuzz_db.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_db_setup();
	return 0;
}

static void run_on(const char *name, json_object *filter)
{
	struct store *st = fuzz_app.st;
	const struct schema *s = fuzz_app.schema;
	const struct coll *c = schema_coll(s, name);
	static const struct store_sort sort[] = {{"category.title", true},
						 {"id", false}};
	struct store_find q = {.filter = filter, .limit = 50};
	json_object *rows = NULL;
	int64_t n = -1, deleted = -1;
	int rc_find, rc_count, rc;

	if (!strcmp(name, "posts")) {
		q.sort = sort;
		q.nsort = 2;
	}
	if (store_begin(st, false))
		abort();
	rc_find = store_find(st, s, c, &q, &rows);
	FUZZ_CHECK(rc_find || json_object_is_type(rows, json_type_array),
		   "store_find gave no array");
	if (rc_find)
		FUZZ_CHECK(*store_errmsg(st), "store_find failed silently");
	rc_count = store_count(st, s, c, filter, &n);
	/* The filter decides success, not the statement: find and count
	 * compile the same WHERE. */
	FUZZ_CHECK(!rc_find == !rc_count, "find %d but count %d", rc_find,
		   rc_count);
	if (!rc_count)
		FUZZ_CHECK(n >= (int64_t)json_object_array_length(rows),
			   "count %lld < %zu rows", (long long)n,
			   json_object_array_length(rows));
	json_object_put(rows);
	store_rollback(st);

	if (rc_find)
		return;
	/* delete shares the count's builder; never kept */
	if ((rc = store_begin(st, true)))
		fuzz_db_fail("begin write", rc);
	rc = store_delete(st, s, c, filter, &deleted);
	if (!rc)
		FUZZ_CHECK(deleted == n, "deleted %lld, counted %lld",
			   (long long)deleted, (long long)n);
	store_rollback(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *filter = NULL;
	char err[256];

	if (jsonx_parse((const char *)data, size, JSONX_MAX_DEPTH, &filter,
			err, sizeof(err)))
		return 0;
	if (json_object_is_type(filter, json_type_object)) {
		run_on("posts", filter);
		run_on("comments", filter);
	}
	json_object_put(filter);
	return 0;
}
