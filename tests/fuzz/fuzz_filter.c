/*
 * fuzz_filter: the filter compiler (store_query.c).  The input is a
 * filter, compiled into SQL and run, through store_find, store_count and
 * store_delete (in a transaction rolled back), against a scratch SQLite
 * database with every field type and association kind (fuzz_db.h), on
 * posts (to-one, to-many and many-to-many paths) and on comments (paths
 * through posts).
 *
 * An input that starts with '{' is filter JSON as a client sends it in
 * ?filter= or a node saves it.  Any other input is read as a recipe: its
 * bytes choose a tree of $and/$or groups, field paths (real, dotted
 * through associations, and wrong ones), operators and values of every
 * JSON type from tables, so that most runs reach the compiler instead of
 * the JSON syntax check.
 *
 * Checks: no crash, no leak, a refusal names its cause, find and count
 * agree on success and on the rows, and delete removes what count counted.
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

/* ---- recipes ---- */

struct recipe {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct recipe *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

#define PICK(r, table) table[take(r) % (sizeof(table) / sizeof(table[0]))]

static const char *const PATHS[] = {
	"id", "title", "body", "read", "big", "score", "ratio", "price",
	"published", "day", "meta", "createdAt", "updatedAt", "createdById",
	"categoryId", "category", "category.title", "category.id",
	"category.parent.title", "category.parent", "category.posts.title",
	"tags", "tags.name", "tags.id", "comments", "comments.text",
	"comments.post.title", "detail", "detail.note", "createdBy",
	"createdBy.nickname", "createdBy.roles.name", "post", "post.title",
	"post.category.title", "post.tags.name", "post.comments.text",
	"postId", "text", "nosuch", "title.x", "category.nosuch", "",
	"category..title", "tags.name.x", "meta.a", "$and", "id.id.id",
};

static const char *const OPS[] = {
	"$eq", "$ne", "$is", "$not", "$gt", "$gte", "$lt", "$lte", "$in",
	"$notIn", "$includes", "$notIncludes", "$startsWith",
	"$notStartsWith", "$endWith", "$endsWith", "$notEndWith",
	"$notEndsWith", "$empty", "$notEmpty", "$isTruly", "$isFalsy",
	"$like", "$notLike", "$iLike", "$notILike", "$between",
	"$notBetween", "$exists", "$notExists", "$dateOn", "$dateNotOn",
	"$dateBefore", "$dateAfter", "$dateNotBefore", "$dateNotAfter",
	"$dateBetween", "$and", "$or", "$nosuch", "$", "eq",
};

static const char *const STRS[] = {
	"", "Hello world", "second", "Third_%", "%", "_", "\\", "news",
	"t1", "d1", "first", "7", "-1", "1.5", "1e400", "12.50", "true",
	"false", "0", "2026-01-02", "2026-01-02T10:00:00Z",
	"2026-01-02T10:00:00.000+08:00", "2026-13-45", "9999-12-31T23:59:59Z",
	"{{$user.id}}", "h\xc3\xa9llo", "\xf0\x9f\x98\x80", "' OR 1=1 --",
	"\"", "NaN", "Infinity", " 3 ", "0x10",
};

static json_object *value(struct recipe *r, int depth)
{
	static const double NUMS[] = {0,	  -0.0,	 1,	3,   7,	  -1,
				      1.5,	  0.25,	 12.5,	1e15, 1e300, -1e300,
				      4.9e-324, 2e63, -9.3e18};
	unsigned k = take(r) % 9;
	json_object *o;

	if (depth > 3 && k >= 7)
		k = 0;
	switch (k) {
	case 0:
		return NULL;
	case 1:
		return json_object_new_boolean(take(r) & 1);
	case 2:
		return json_object_new_int64((int64_t)(int8_t)take(r) *
					     ((take(r) & 1) ? 1 : 1000000007));
	case 3:
		return json_object_new_double(PICK(r, NUMS));
	case 4:
	case 5:
		return json_object_new_string(PICK(r, STRS));
	case 6:
		return json_object_new_int64(INT64_MIN + (int64_t)take(r));
	case 7:
		o = json_object_new_array();
		for (unsigned i = take(r) % 4; i > 0; i--)
			json_object_array_add(o, value(r, depth + 1));
		return o;
	default:
		o = json_object_new_object();
		for (unsigned i = take(r) % 3; i > 0; i--)
			json_object_object_add(o, PICK(r, OPS),
					       value(r, depth + 1));
		return o;
	}
}

static json_object *condition(struct recipe *r, int depth)
{
	json_object *f = json_object_new_object(), *v;
	unsigned k = take(r) % 8;

	if (k < 2 && depth < 20) {
		json_object *list = json_object_new_array();
		for (unsigned i = take(r) % 4; i > 0 && r->n; i--)
			json_object_array_add(list, condition(r, depth + 1));
		json_object_object_add(f, k ? "$or" : "$and", list);
		return f;
	}
	const char *path = PICK(r, PATHS);
	if (k == 2) {
		v = value(r, depth);
	} else {
		v = json_object_new_object();
		for (unsigned i = 1 + take(r) % 2; i > 0; i--)
			json_object_object_add(v, PICK(r, OPS), value(r, depth));
	}
	json_object_object_add(f, path, v);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *filter = NULL;
	char err[256];

	if (size && data[0] != '{') {
		struct recipe r = {data, size};
		filter = condition(&r, 0);
		while (r.n) {
			json_object *more = condition(&r, 0);
			json_object_object_foreach(more, k, v)
				json_object_object_add(filter, k,
						       jsonx_ref(v));
			json_object_put(more);
		}
	} else if (jsonx_parse((const char *)data, size, JSONX_MAX_DEPTH,
			       &filter, err, sizeof(err))) {
		return 0;
	}
	if (json_object_is_type(filter, json_type_object)) {
		run_on("posts", filter);
		run_on("comments", filter);
	}
	json_object_put(filter);
	return 0;
}
