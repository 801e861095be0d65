/* records: NocoBase's repository semantics against a temporary database:
 * values coerced per field type (and refused with NocoBase's wording),
 * defaults, timestamps and createdBy, nested association values on create
 * and update, appends, fields, except and sort on read, destroy. */
#include "unit.h"

#include "err.h"

static struct unit_db db;
static struct app *const app = &db.app;
static struct rctx x;

static int setup(void **state)
{
	(void)state;
	unit_db_open(&db, "records");
	assert_int_equal(store_begin(app->st, true), 0);
	unit_collection(app, "{\"name\":\"authors\",\"fields\":["
			     "{\"name\":\"name\",\"type\":\"string\","
			     "\"unique\":true},"
			     "{\"name\":\"books\",\"type\":\"hasMany\","
			     "\"target\":\"books\"}]}");
	unit_collection(app, "{\"name\":\"labels\",\"fields\":["
			     "{\"name\":\"name\",\"type\":\"string\"}]}");
	unit_collection(
		app, "{\"name\":\"books\",\"createdBy\":true,\"fields\":["
		     "{\"name\":\"title\",\"type\":\"string\"},"
		     "{\"name\":\"pages\",\"type\":\"integer\","
		     "\"defaultValue\":100},"
		     "{\"name\":\"price\",\"type\":\"decimal\"},"
		     "{\"name\":\"weight\",\"type\":\"double\"},"
		     "{\"name\":\"isbn\",\"type\":\"bigInt\"},"
		     "{\"name\":\"inPrint\",\"type\":\"boolean\"},"
		     "{\"name\":\"published\",\"type\":\"date\"},"
		     "{\"name\":\"extra\",\"type\":\"json\"},"
		     "{\"name\":\"blurb\",\"type\":\"text\"},"
		     "{\"name\":\"author\",\"type\":\"belongsTo\","
		     "\"target\":\"authors\"},"
		     "{\"name\":\"labels\",\"type\":\"belongsToMany\","
		     "\"target\":\"labels\"},"
		     "{\"name\":\"chapters\",\"type\":\"hasMany\","
		     "\"target\":\"chapters\"},"
		     "{\"name\":\"cover\",\"type\":\"hasOne\","
		     "\"target\":\"covers\"}]}");
	unit_collection(app, "{\"name\":\"chapters\",\"fields\":["
			     "{\"name\":\"title\",\"type\":\"string\"},"
			     "{\"name\":\"book\",\"type\":\"belongsTo\","
			     "\"target\":\"books\"}]}");
	unit_collection(app, "{\"name\":\"covers\",\"fields\":["
			     "{\"name\":\"color\",\"type\":\"string\"}]}");
	unit_collection(app, "{\"name\":\"accounts\",\"autoGenId\":false,"
			     "\"fields\":[{\"name\":\"code\",\"type\":"
			     "\"string\",\"primaryKey\":true},"
			     "{\"name\":\"secret\",\"type\":\"password\"}]}");
	assert_int_equal(store_commit(app->st), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_db_close(&db);
	return 0;
}

/* Each test runs in a transaction of its own, rolled back after it. */
static int begin(void **state)
{
	(void)state;
	memset(&x, 0, sizeof(x));
	x.app = app;
	x.user_id = 1;
	return store_begin(app->st, true);
}

static int rollback(void **state)
{
	(void)state;
	store_abort(app->st);
	return 0;
}

static const struct coll *coll(const char *name)
{
	return schema_coll(app->schema, name);
}

/* Create a row from JSON text; the record read back. */
static json_object *create(const char *name, const char *json)
{
	json_object *v = unit_json(json), *rec = NULL;
	int rc = rec_create(&x, coll(name), v, NULL, &rec);
	json_object_put(v);
	if (rc)
		fail_msg("create %s refused (%d): %s", json, rc, x.reason);
	return rec;
}

/* The error code of a create that should fail; x.reason says why. */
static int create_fails(const char *name, const char *json)
{
	json_object *v = unit_json(json), *rec = NULL;
	int rc = rec_create(&x, coll(name), v, NULL, &rec);
	json_object_put(v);
	json_object_put(rec);
	if (!rc)
		fail_msg("create %s was accepted", json);
	return rc;
}

/* The rows of name matching filter with appends (JSON texts or NULL),
 * sorted by id. */
static json_object *find(const char *name, const char *filter,
			 const char *appends)
{
	json_object *f = filter ? unit_json(filter) : NULL;
	json_object *ap = appends ? unit_json(appends) : NULL, *rows = NULL;
	struct rec_query q = {.filter = f, .appends = ap};
	int rc = rec_find(&x, coll(name), &q, &rows);
	json_object_put(f);
	json_object_put(ap);
	if (rc)
		fail_msg("find refused (%d): %s", rc, x.reason);
	return rows;
}

static json_object *first(json_object *rows)
{
	return json_object_array_get_idx(rows, 0);
}

/* The value of one field of the coerced form of json for field f of
 * books, as JSON text; or "refused: <reason>". */
static const char *coerced(const char *field, const char *json)
{
	static char out[600];
	json_object *v = unit_json(json), *c = NULL;
	int rc = rec_coerce(&x, coll_field(coll("books"), field), v, &c);
	if (rc)
		snprintf(out, sizeof(out), "refused: %s", x.reason);
	else
		snprintf(out, sizeof(out), "%s",
			 c ? json_object_to_json_string_ext(
				     c, JSON_C_TO_STRING_PLAIN)
			   : "null");
	json_object_put(v);
	json_object_put(c);
	return out;
}

static void test_coercion(void **state)
{
	(void)state;
	assert_string_equal(coerced("title", "\"x\""), "\"x\"");
	assert_string_equal(coerced("title", "12.5"), "\"12.5\"");
	assert_string_equal(coerced("blurb", "true"), "\"true\"");
	assert_string_equal(coerced("title", "null"), "null");
	assert_string_equal(coerced("title", "[1]"),
			    "refused: Invalid value [1] for field \"title\": "
			    "expected a string");
	assert_string_equal(coerced("pages", "\"42\""), "42");
	assert_string_equal(coerced("pages", "7.0"), "7");
	assert_string_equal(coerced("pages", "7.5"),
			    "refused: Invalid value 7.5 for field \"pages\": "
			    "expected an integer");
	assert_string_equal(coerced("pages", "\"\""),
			    "refused: Invalid value \"\" for field \"pages\": "
			    "expected an integer");
	assert_string_equal(coerced("pages", "true"),
			    "refused: Invalid value true for field \"pages\": "
			    "expected an integer");
	assert_string_equal(coerced("pages", "2147483648"),
			    "refused: Value 2147483648 of field \"pages\" is "
			    "out of range for an integer");
	assert_string_equal(coerced("isbn", "9780000000001"), "9780000000001");
	assert_string_equal(coerced("isbn", "\"12\""), "12");
	assert_string_equal(coerced("price", "\"19.90\""), "\"19.90\"");
	assert_string_equal(coerced("price", "0.1"), "\"0.1\"");
	assert_string_equal(coerced("price", "\"abc\""),
			    "refused: Invalid value \"abc\" for field "
			    "\"price\": expected a number");
	assert_string_equal(coerced("weight", "\"1.25\""), "1.25");
	assert_string_equal(coerced("weight", "{}"),
			    "refused: Invalid value {} for field \"weight\": "
			    "expected a number");
	assert_string_equal(coerced("inPrint", "true"), "true");
	assert_string_equal(coerced("inPrint", "1"), "true");
	assert_string_equal(coerced("inPrint", "0"), "false");
	assert_string_equal(coerced("inPrint", "\"false\""), "false");
	assert_string_equal(coerced("inPrint", "\"1\""), "true");
	assert_string_equal(coerced("inPrint", "2"),
			    "refused: Invalid value 2 for field \"inPrint\": "
			    "expected a boolean");
	assert_string_equal(coerced("inPrint", "\"yes\""),
			    "refused: Invalid value \"yes\" for field "
			    "\"inPrint\": expected a boolean");
	assert_string_equal(coerced("published", "\"2024-05-06\""),
			    "\"2024-05-06T00:00:00.000Z\"");
	assert_string_equal(coerced("published", "\"2024-05-06T12:00:00+02:00\""),
			    "\"2024-05-06T10:00:00.000Z\"");
	assert_string_equal(coerced("published", "0"),
			    "\"1970-01-01T00:00:00.000Z\"");
	assert_string_equal(coerced("published", "\"May 6\""),
			    "refused: Invalid value \"May 6\" for field "
			    "\"published\": expected an ISO-8601 date");
	assert_string_equal(coerced("extra", "{\"a\":[1]}"), "{\"a\":[1]}");
	assert_string_equal(coerced("extra", "\"abc\""), "\"\\\"abc\\\"\"");
	assert_string_equal(coerced("extra", "3"), "\"3\"");
	assert_string_equal(coerced("author", "1"),
			    "refused: Invalid value 1 for field \"author\": "
			    "expected a plain value");
}

static void test_password_and_keys(void **state)
{
	json_object *v = unit_json("\"pw\""), *c = NULL, *pk = NULL,
		    *flt = NULL;
	const struct coll *acc = coll("accounts");
	(void)state;
	assert_int_equal(rec_coerce(&x, coll_field(acc, "secret"), v, &c), 0);
	assert_int_not_equal(strcmp(json_object_get_string(c), "pw"), 0);
	json_object_put(c);
	json_object_put(v);
	v = unit_json("5");
	assert_int_equal(rec_coerce(&x, coll_field(acc, "secret"), v, &c),
			 APP_EVALIDATION);
	json_object_put(v);

	/* integer keys: numbers and numeric text; anything else is
	 * PostgreSQL's message */
	v = unit_json("\"12\"");
	assert_int_equal(rec_pk(&x, coll("books"), v, &pk), 0);
	unit_assert_json(pk, "12");
	json_object_put(pk);
	json_object_put(v);
	v = unit_json("\"1x\"");
	assert_int_equal(rec_pk(&x, coll("books"), v, &pk), APP_EID);
	assert_string_equal(x.message,
			    "invalid input syntax for type bigint: \"1x\"");
	json_object_put(v);
	v = unit_json("{}");
	assert_int_equal(rec_pk(&x, coll("books"), v, &pk), APP_EID);
	json_object_put(v);
	assert_int_equal(rec_pk(&x, coll("books"), NULL, &pk), APP_EID);
	/* a text key */
	v = unit_json("7");
	assert_int_equal(rec_pk(&x, acc, v, &pk), 0);
	unit_assert_json(pk, "\"7\"");
	json_object_put(pk);
	json_object_put(v);

	v = unit_json("[\"3\",4]");
	assert_int_equal(rec_tk_filter(&x, coll("books"), v, &flt), 0);
	unit_assert_json(flt, "{\"id\":{\"$in\":[3,4]}}");
	json_object_put(flt);
	json_object_put(v);
	v = unit_json("[1,\"z\"]");
	assert_int_equal(rec_tk_filter(&x, coll("books"), v, &flt), APP_EID);
	assert_null(flt);
	json_object_put(v);
	v = unit_json("9");
	assert_int_equal(rec_tk_filter(&x, coll("books"), v, &flt), 0);
	unit_assert_json(flt, "{\"id\":9}");
	json_object_put(flt);
	json_object_put(v);
}

static void test_and(void **state)
{
	json_object *a = unit_json("{\"n\":1}"), *b = unit_json("{}"), *r;
	(void)state;
	r = rec_and(a, b);
	unit_assert_json(r, "{\"n\":1}");
	json_object_put(r);
	r = rec_and(NULL, a);
	unit_assert_json(r, "{\"n\":1}");
	json_object_put(r);
	assert_null(rec_and(b, NULL));
	r = rec_and(a, a);
	unit_assert_json(r, "{\"$and\":[{\"n\":1},{\"n\":1}]}");
	json_object_put(r);
	json_object_put(a);
	json_object_put(b);
}

static void test_create_fills_in(void **state)
{
	json_object *rec;
	(void)state;
	rec = create("books", "{\"title\":\"Dune\",\"price\":9.5,"
			      "\"id\":77,\"createdById\":5,\"unknown\":1}");
	/* defaults, timestamps, createdBy from the actor; a given id is
	 * kept, createdById is not the caller's to set */
	assert_int_equal(json_object_get_int64(jsonx_get(rec, "id")), 77);
	assert_int_equal(json_object_get_int64(jsonx_get(rec, "pages")), 100);
	assert_string_equal(jsonx_get_str(rec, "price"), "9.5");
	assert_int_equal(json_object_get_int64(jsonx_get(rec, "createdById")),
			 1);
	assert_int_equal(json_object_get_int64(jsonx_get(rec, "updatedById")),
			 1);
	assert_non_null(jsonx_get_str(rec, "createdAt"));
	assert_string_equal(jsonx_get_str(rec, "createdAt"),
			    jsonx_get_str(rec, "updatedAt"));
	assert_false(jsonx_has(rec, "unknown"));
	json_object_put(rec);

	/* an array creates each */
	rec = create("labels", "[{\"name\":\"a\"},{\"name\":\"b\"}]");
	assert_int_equal(json_object_array_length(rec), 2);
	json_object_put(rec);

	assert_int_equal(create_fails("books", "5"), APP_EVALIDATION);
	assert_int_equal(create_fails("books", "[{\"pages\":\"x\"}]"),
			 APP_EVALIDATION);
	/* a unique column */
	json_object_put(create("authors", "{\"name\":\"Ann\"}"));
	assert_int_equal(create_fails("authors", "{\"name\":\"Ann\"}"),
			 APP_ECONFLICT);
}

/* The values of key k over the items of arr, "a,b" ("-" for null). */
static const char *pluck(json_object *arr, const char *k)
{
	static char out[256];
	out[0] = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *v = jsonx_get(json_object_array_get_idx(arr, i), k);
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? "," : "",
			 !v ? "-"
			 : json_object_is_type(v, json_type_string)
				 ? json_object_get_string(v)
				 : jsonx_str(v));
	}
	return out;
}

/* A book with every kind of association; its id. */
static int64_t book_one(void)
{
	json_object *rec;
	int64_t id = 0;

	json_object_put(create("authors", "{\"name\":\"Ann\"}"));
	json_object_put(create("labels", "{\"name\":\"old\"}"));
	rec = create("books", "{\"title\":\"One\",\"author\":{\"name\":\"Ann\","
			      "\"id\":1},\"labels\":[1,{\"name\":\"new\"}],"
			      "\"chapters\":[{\"title\":\"c1\"},"
			      "{\"title\":\"c2\"}],"
			      "\"cover\":{\"color\":\"red\"}}");
	jsonx_get_int(rec, "id", &id);
	/* given objects are shown, as NocoBase appends them */
	assert_string_equal(pluck(jsonx_get(rec, "chapters"), "title"),
			    "c1,c2");
	assert_string_equal(jsonx_get_str(jsonx_get(rec, "cover"), "color"),
			    "red");
	assert_string_equal(pluck(jsonx_get(rec, "labels"), "name"), "old,new");
	assert_string_equal(jsonx_get_str(jsonx_get(rec, "author"), "name"),
			    "Ann");
	assert_int_equal(json_object_get_int64(jsonx_get(rec, "authorId")), 1);
	json_object_put(rec);
	return id;
}

static void test_create_with_associations(void **state)
{
	json_object *rec, *rows;
	(void)state;
	book_one();
	/* a belongsTo object without a key is created */
	rec = create("books", "{\"title\":\"Two\",\"author\":{\"name\":\"Bo\"},"
			      "\"labels\":[],\"cover\":null}");
	assert_string_equal(jsonx_get_str(jsonx_get(rec, "author"), "name"),
			    "Bo");
	json_object_put(rec);
	rows = find("authors", NULL, NULL);
	assert_string_equal(pluck(rows, "name"), "Ann,Bo");
	json_object_put(rows);
	/* a link to a target that does not exist is an error */
	assert_int_equal(create_fails("books", "{\"chapters\":[{\"id\":1,"
					       "\"title\":\"x\"},\"z\"]}"),
			 APP_EVALIDATION);
}

static void test_read(void **state)
{
	json_object *rows, *f, *ex, *so;
	struct rec_query q = {0};
	int64_t n;
	(void)state;
	book_one();
	json_object_put(create("books", "{\"title\":\"Alpha\",\"pages\":5}"));

	rows = find("books", NULL, "[\"author\",\"labels\",\"chapters\","
				   "\"cover\",\"author.books\","
				   "\"chapters.book\"]");
	assert_string_equal(pluck(rows, "title"), "One,Alpha");
	assert_string_equal(jsonx_get_str(jsonx_get(first(rows), "author"),
					  "name"),
			    "Ann");
	assert_string_equal(pluck(jsonx_get(first(rows), "chapters"), "title"),
			    "c1,c2");
	/* nested: the author's books, each chapter's book */
	assert_string_equal(
		pluck(jsonx_get(jsonx_get(first(rows), "author"), "books"),
		      "title"),
		"One");
	assert_string_equal(
		jsonx_get_str(jsonx_get(json_object_array_get_idx(
						jsonx_get(first(rows),
							  "chapters"),
						1),
					"book"),
			      "title"),
		"One");
	/* nothing to append: null to-one, empty to-many */
	json_object *alpha = json_object_array_get_idx(rows, 1);
	assert_true(jsonx_has(alpha, "author"));
	assert_null(jsonx_get(alpha, "author"));
	assert_int_equal(json_object_array_length(jsonx_get(alpha, "labels")),
			 0);
	json_object_put(rows);

	/* fields (an association among them is appended; keys it needs are
	 * read and dropped again), except and sort */
	f = unit_json("[\"title\",\"author\"]");
	ex = unit_json("[\"author\"]");
	so = unit_json("[\"-pages\",\"\"]");
	q.fields = f;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), 0);
	assert_string_equal(pluck(rows, "title"), "One,Alpha");
	assert_string_equal(jsonx_get_str(jsonx_get(first(rows), "author"),
					  "name"),
			    "Ann");
	assert_false(jsonx_has(first(rows), "id"));
	assert_false(jsonx_has(first(rows), "authorId"));
	assert_false(jsonx_has(first(rows), "pages"));
	json_object_put(rows);
	q.except = ex;
	q.sort = so;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), 0);
	assert_string_equal(pluck(rows, "title"), "One,Alpha");
	assert_false(jsonx_has(first(rows), "author"));
	assert_false(jsonx_has(first(rows), "id"));
	assert_false(jsonx_has(first(rows), "authorId"));
	json_object_put(rows);
	json_object_put(f);
	json_object_put(ex);
	json_object_put(so);

	/* a limit and a count */
	memset(&q, 0, sizeof(q));
	q.limit = 1;
	q.offset = 1;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), 0);
	assert_string_equal(pluck(rows, "title"), "Alpha");
	json_object_put(rows);
	assert_int_equal(rec_get(&x, coll("books"), &q, &rows), 0);
	assert_string_equal(jsonx_get_str(rows, "title"), "Alpha");
	json_object_put(rows);
	q.filter = unit_json("{\"title\":\"none\"}");
	assert_int_equal(rec_get(&x, coll("books"), &q, &rows), 0);
	assert_null(rows);
	assert_int_equal(rec_count(&x, coll("books"), q.filter, &n), 0);
	assert_int_equal(n, 0);
	json_object_put(q.filter);
	assert_int_equal(rec_count(&x, coll("books"), NULL, &n), 0);
	assert_int_equal(n, 2);
}

static void test_read_refusals(void **state)
{
	json_object *rows = NULL, *v;
	struct rec_query q = {0};
	(void)state;
	v = unit_json("[\"nope\"]");
	q.fields = v;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), APP_EFIELD);
	assert_string_equal(x.message, "Invalid SQL column or table reference");
	json_object_put(v);
	q.fields = NULL;
	v = unit_json("[\"title\"]");
	q.appends = v;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), 0);
	json_object_put(rows);
	json_object_put(create("books", "{\"title\":\"t\"}"));
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), APP_EFIELD);
	assert_string_equal(x.reason, "Unknown association \"title\" of "
				      "collection \"books\"");
	json_object_put(v);
	v = unit_json("[\".x\"]");
	q.appends = v;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), APP_EFIELD);
	json_object_put(v);
	q.appends = NULL;
	v = unit_json("[\"nope\"]");
	q.sort = v;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), APP_EFIELD);
	json_object_put(v);
	q.sort = NULL;
	v = unit_json("{\"pages\":{\"$gt\":\"many\"}}");
	q.filter = v;
	assert_int_equal(rec_find(&x, coll("books"), &q, &rows), APP_EPARAM);
	json_object_put(v);
}

static void test_update(void **state)
{
	json_object *f, *v, *recs = NULL, *rows;
	int64_t id = 0, n = 0;
	char flt[64];
	(void)state;
	id = book_one();
	snprintf(flt, sizeof(flt), "{\"id\":%lld}", (long long)id);
	f = unit_json(flt);

	/* associations given are replaced: labels relinked, chapters
	 * unlinked and the new ones created, the cover kept */
	v = unit_json("{\"title\":\"One!\",\"pages\":\"12\",\"id\":99,"
		      "\"labels\":[2],\"chapters\":[{\"title\":\"c3\"}],"
		      "\"createdAt\":\"2000-01-01\"}");
	x.user_id = 2;
	assert_int_equal(rec_update(&x, coll("books"), f, v, &recs), 0);
	json_object_put(v);
	assert_int_equal(json_object_array_length(recs), 1);
	assert_int_equal(json_object_get_int64(jsonx_get(first(recs), "id")),
			 id);
	assert_int_equal(json_object_get_int64(jsonx_get(first(recs), "pages")),
			 12);
	assert_int_equal(
		json_object_get_int64(jsonx_get(first(recs), "updatedById")), 2);
	assert_int_equal(
		json_object_get_int64(jsonx_get(first(recs), "createdById")), 1);
	assert_string_equal(pluck(jsonx_get(first(recs), "chapters"), "title"),
			    "c3");
	json_object_put(recs);
	rows = find("books", flt, "[\"labels\",\"chapters\",\"cover\"]");
	assert_string_equal(pluck(jsonx_get(first(rows), "labels"), "name"),
			    "new");
	assert_string_equal(pluck(jsonx_get(first(rows), "chapters"), "title"),
			    "c3");
	assert_string_equal(jsonx_get_str(jsonx_get(first(rows), "cover"),
					  "color"),
			    "red");
	json_object_put(rows);
	rows = find("chapters", "{\"bookId\":null}", NULL);
	assert_string_equal(pluck(rows, "title"), "c1,c2");
	json_object_put(rows);

	/* a hasMany linked by key; the hasOne replaced */
	v = unit_json("{\"chapters\":[1,{\"id\":2}],\"cover\":{\"color\":"
		      "\"blue\"}}");
	assert_int_equal(rec_update(&x, coll("books"), f, v, &recs), 0);
	json_object_put(recs);
	json_object_put(v);
	rows = find("books", flt, "[\"chapters\",\"cover\"]");
	assert_string_equal(pluck(jsonx_get(first(rows), "chapters"), "title"),
			    "c1,c2");
	assert_string_equal(jsonx_get_str(jsonx_get(first(rows), "cover"),
					  "color"),
			    "blue");
	json_object_put(rows);

	/* without reading back */
	v = unit_json("{\"pages\":3}");
	assert_int_equal(rec_update_count(&x, coll("books"), f, v, &n), 0);
	assert_int_equal(n, 1);
	json_object_put(v);
	v = unit_json("{\"labels\":[]}");
	assert_int_equal(rec_update_count(&x, coll("books"), f, v, &n), 0);
	assert_int_equal(n, 1);
	json_object_put(v);
	v = unit_json("{\"nothing\":1}"); /* nothing to set: still counted */
	assert_int_equal(rec_update_count(&x, coll("books"), f, v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rec_update(&x, coll("books"), f, v, &recs), 0);
	assert_int_equal(json_object_array_length(recs), 1);
	json_object_put(recs);
	json_object_put(v);

	v = unit_json("[1]");
	assert_int_equal(rec_update(&x, coll("books"), f, v, &recs),
			 APP_EVALIDATION);
	assert_int_equal(rec_update_count(&x, coll("books"), f, v, &n),
			 APP_EVALIDATION);
	json_object_put(v);
	v = unit_json("{\"pages\":\"x\"}");
	assert_int_equal(rec_update(&x, coll("books"), f, v, &recs),
			 APP_EVALIDATION);
	json_object_put(v);
	json_object_put(f);
}

static void test_destroy(void **state)
{
	const char *th = coll_field(coll("books"), "labels")->through;
	json_object *f, *rows;
	int64_t n = 0;
	(void)state;
	book_one();
	rows = find(th, NULL, NULL);
	assert_int_equal(json_object_array_length(rows), 2);
	json_object_put(rows);
	f = unit_json("{\"title\":\"One\"}");
	assert_int_equal(rec_destroy(&x, coll("books"), f, &n), 0);
	assert_int_equal(n, 1);
	json_object_put(f);
	/* its join rows went with it; its labels stay */
	rows = find(th, NULL, NULL);
	assert_int_equal(json_object_array_length(rows), 0);
	json_object_put(rows);
	rows = find("labels", NULL, NULL);
	assert_string_equal(pluck(rows, "name"), "old,new");
	json_object_put(rows);
}

static void test_insert_stored(void **state)
{
	json_object *v = unit_json("{\"title\":\"raw\",\"extra\":\"s\"}"),
		    *pk = NULL, *rows;
	(void)state;
	assert_int_equal(rec_insert_stored(&x, coll("books"), v, &pk), 0);
	json_object_put(v);
	json_object_put(pk);
	rows = find("books", "{\"title\":\"raw\"}", NULL);
	/* a JSON scalar is kept as JSON; timestamps filled in; no default */
	assert_string_equal(jsonx_get_str(first(rows), "extra"), "s");
	assert_non_null(jsonx_get_str(first(rows), "createdAt"));
	assert_null(jsonx_get(first(rows), "pages"));
	json_object_put(rows);
	v = unit_json("{\"title\":\"rec\"}");
	assert_int_equal(rec_insert(&x, coll("books"), v, NULL, &pk), 0);
	assert_true(json_object_get_int64(pk) > 0);
	json_object_put(pk);
	json_object_put(v);
	v = unit_json("3");
	assert_int_equal(rec_insert(&x, coll("books"), v, NULL, &pk),
			 APP_EVALIDATION);
	json_object_put(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_coercion, begin, rollback),
		cmocka_unit_test_setup_teardown(test_password_and_keys, begin,
						rollback),
		cmocka_unit_test_setup_teardown(test_and, begin, rollback),
		cmocka_unit_test_setup_teardown(test_create_fills_in, begin,
						rollback),
		cmocka_unit_test_setup_teardown(test_create_with_associations,
						begin, rollback),
		cmocka_unit_test_setup_teardown(test_read, begin, rollback),
		cmocka_unit_test_setup_teardown(test_read_refusals, begin,
						rollback),
		cmocka_unit_test_setup_teardown(test_update, begin, rollback),
		cmocka_unit_test_setup_teardown(test_destroy, begin, rollback),
		cmocka_unit_test_setup_teardown(test_insert_stored, begin,
						rollback),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
