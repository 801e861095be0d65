/* store_filter: every filter operator README lists, each against rows of a
 * real temporary SQLite database (which rows match), dotted association
 * paths, sorting, the refusals, and the dialect seam a second backend
 * plugs into. */
#include "unit.h"

#include "err.h"
#include "store_filter.h"

static struct unit_db db;
static struct app *const app = &db.app;
static char why[512];

/* Rows (ids 1-4) of items; categories 1 Fruit, 2 Dessert; tags 1 red,
 * 2 sweet; notes on items 1 and 2.  Item 4 has nulls almost everywhere. */
static int setup(void **state)
{
	(void)state;
	unit_db_open(&db, "filter");
	assert_int_equal(store_begin(app->st, true), 0);
	unit_collection(app, "{\"name\":\"categories\",\"fields\":["
			     "{\"name\":\"title\",\"type\":\"string\"},"
			     "{\"name\":\"rank\",\"type\":\"integer\"}]}");
	unit_collection(app, "{\"name\":\"tags\",\"fields\":["
			     "{\"name\":\"name\",\"type\":\"string\"}]}");
	unit_collection(
		app,
		"{\"name\":\"items\",\"fields\":["
		"{\"name\":\"title\",\"type\":\"string\"},"
		"{\"name\":\"body\",\"type\":\"text\"},"
		"{\"name\":\"n\",\"type\":\"integer\"},"
		"{\"name\":\"big\",\"type\":\"bigInt\"},"
		"{\"name\":\"price\",\"type\":\"decimal\"},"
		"{\"name\":\"ratio\",\"type\":\"float\"},"
		"{\"name\":\"ok\",\"type\":\"boolean\"},"
		"{\"name\":\"day\",\"type\":\"date\"},"
		"{\"name\":\"meta\",\"type\":\"json\"},"
		"{\"name\":\"secret\",\"type\":\"password\"},"
		"{\"name\":\"category\",\"type\":\"belongsTo\","
		"\"target\":\"categories\"},"
		"{\"name\":\"tags\",\"type\":\"belongsToMany\","
		"\"target\":\"tags\"},"
		"{\"name\":\"notes\",\"type\":\"hasMany\",\"target\":\"notes\"}]}");
	unit_collection(app, "{\"name\":\"notes\",\"fields\":["
			     "{\"name\":\"text\",\"type\":\"string\"}]}");
	unit_add(app, "categories", "{\"title\":\"Fruit\",\"rank\":1}");
	unit_add(app, "categories", "{\"title\":\"Dessert\",\"rank\":2}");
	unit_add(app, "tags", "{\"name\":\"red\"}");
	unit_add(app, "tags", "{\"name\":\"sweet\"}");
	unit_add(app, "items",
		 "{\"title\":\"Apple pie\",\"body\":\"100% real_fruit\","
		 "\"n\":1,\"big\":9007199254740000,\"price\":\"1.50\","
		 "\"ratio\":0.5,\"ok\":true,"
		 "\"day\":\"2024-03-01T10:00:00.000Z\",\"meta\":{\"a\":1},"
		 "\"secret\":\"pw\",\"category\":1,\"tags\":[1,2],"
		 "\"notes\":[{\"text\":\"crisp\"},{\"text\":\"warm\"}]}");
	unit_add(app, "items",
		 "{\"title\":\"banana_split\",\"body\":\"\",\"n\":5,"
		 "\"price\":\"10.25\",\"ratio\":1.5,\"ok\":false,"
		 "\"day\":\"2024-03-02T23:59:59.999Z\",\"meta\":[],"
		 "\"category\":2,\"tags\":[2],\"notes\":[{\"text\":\"cold\"}]}");
	unit_add(app, "items",
		 "{\"title\":\"Cherry\",\"body\":\"stone\",\"n\":10,"
		 "\"price\":\"2\",\"ratio\":2.5,\"category\":1,"
		 "\"day\":\"2024-02-29T00:00:00.000Z\",\"meta\":{}}");
	unit_add(app, "items", "{}");
	assert_int_equal(store_commit(app->st), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unit_db_close(&db);
	return 0;
}

static const struct coll *items(void)
{
	return schema_coll(app->schema, "items");
}

/* The ids of the items matching filter (JSON text), "1,3", in order of
 * sort (NULL: by id); "" for none. */
static const char *sorted(const char *filter, const struct store_sort *sort,
			  int nsort)
{
	static char out[128];
	static const char *const id[] = {"id"};
	json_object *f = unit_json(filter), *rows = NULL;
	struct store_find q = {.filter = f,
			       .fields = id,
			       .nfields = 1,
			       .sort = sort,
			       .nsort = nsort};
	int rc = store_find(app->st, app->schema, items(), &q, &rows);

	json_object_put(f);
	if (rc)
		fail_msg("filter %s refused (%d): %s", filter, rc,
			 store_errmsg(app->st));
	out[0] = 0;
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
			 i ? "," : "",
			 jsonx_str(jsonx_get(json_object_array_get_idx(rows, i),
					     "id")));
	json_object_put(rows);
	return out;
}

static const char *match(const char *filter)
{
	return sorted(filter, NULL, 0);
}

/* The error code of a refused filter; its message in why. */
static int refused(const char *filter)
{
	json_object *f = unit_json(filter), *rows = NULL;
	struct store_find q = {.filter = f};
	int rc = store_find(app->st, app->schema, items(), &q, &rows);

	json_object_put(f);
	json_object_put(rows);
	snprintf(why, sizeof(why), "%s", store_errmsg(app->st));
	if (!rc)
		fail_msg("filter %s was accepted", filter);
	return rc;
}

#define MATCH(filter, want) assert_string_equal(match(filter), want)

static void test_equality(void **state)
{
	(void)state;
	MATCH("{}", "1,2,3,4");
	MATCH("null", "1,2,3,4");
	MATCH("{\"n\":5}", "2");
	MATCH("{\"n\":{\"$eq\":5}}", "2");
	MATCH("{\"n\":{\"$is\":null}}", "4");
	MATCH("{\"n\":{\"$eq\":[1,10]}}", "1,3");
	MATCH("{\"n\":\"5\"}", "2"); /* numeric text */
	MATCH("{\"title\":\"Cherry\"}", "3");
	MATCH("{\"title\":7}", ""); /* a number as its text */
	MATCH("{\"n\":{\"$ne\":5}}", "1,3,4"); /* NULL is not 5 */
	MATCH("{\"n\":{\"$not\":null}}", "1,2,3");
	MATCH("{\"n\":{\"$ne\":[1,5]}}", "3,4");
	MATCH("{\"ok\":true}", "1");
	MATCH("{\"ok\":\"false\"}", "2");
	MATCH("{\"big\":9007199254740000}", "1");
	MATCH("{\"day\":\"2024-03-01T10:00:00Z\"}", "1");
	MATCH("{\"day\":1709287200000}", "1"); /* epoch ms */
	MATCH("{\"meta\":{\"$eq\":{\"a\":1}}}", "1");
	MATCH("{\"id.$eq\":2}", "2"); /* an operator in a dotted key */
}

static void test_comparisons(void **state)
{
	(void)state;
	MATCH("{\"n\":{\"$gt\":1}}", "2,3");
	MATCH("{\"n\":{\"$gte\":5}}", "2,3");
	MATCH("{\"n\":{\"$lt\":5}}", "1");
	MATCH("{\"n\":{\"$lte\":5}}", "1,2");
	MATCH("{\"n\":{\"$gt\":1,\"$lt\":10}}", "2");
	MATCH("{\"ratio\":{\"$gt\":1}}", "2,3");
	/* decimals compare as numbers, not as their text */
	MATCH("{\"price\":{\"$gt\":\"2\"}}", "2");
	MATCH("{\"price\":{\"$lte\":2}}", "1,3");
	MATCH("{\"day\":{\"$lt\":\"2024-03-01\"}}", "3");
	MATCH("{\"title\":{\"$gt\":\"Z\"}}", "2");
}

static void test_lists(void **state)
{
	(void)state;
	MATCH("{\"n\":{\"$in\":[1,5]}}", "1,2");
	MATCH("{\"n\":{\"$in\":5}}", "2"); /* one value */
	MATCH("{\"n\":{\"$in\":[]}}", "");
	MATCH("{\"n\":{\"$in\":null}}", "");
	MATCH("{\"n\":{\"$in\":[null,10]}}", "3"); /* null matches nothing */
	MATCH("{\"n\":{\"$in\":[null]}}", "");
	MATCH("{\"n\":{\"$notIn\":[1,5]}}", "3,4");
	MATCH("{\"n\":{\"$notIn\":[]}}", "1,2,3,4");
	MATCH("{\"n\":{\"$notIn\":null}}", "1,2,3,4");
	MATCH("{\"n\":{\"$notIn\":[null,1]}}", "2,3,4");
	MATCH("{\"title\":{\"$in\":[\"Cherry\",\"Apple pie\"]}}", "1,3");
}

static void test_text(void **state)
{
	(void)state;
	/* case ignored; the value's own % and _ are literal */
	MATCH("{\"title\":{\"$includes\":\"AN\"}}", "2");
	MATCH("{\"body\":{\"$includes\":\"0%\"}}", "1");
	MATCH("{\"body\":{\"$includes\":\"l_f\"}}", "1");
	MATCH("{\"title\":{\"$includes\":\"_\"}}", "2");
	MATCH("{\"title\":{\"$includes\":[\"pie\",\"err\"]}}", "1,3");
	MATCH("{\"title\":{\"$includes\":[]}}", "1,2,3,4");
	MATCH("{\"n\":{\"$includes\":1}}", "1,3"); /* 1 and 10 */
	MATCH("{\"title\":{\"$notIncludes\":\"e\"}}", "2,4");
	MATCH("{\"title\":{\"$notIncludes\":[\"pie\",\"err\"]}}", "2,4");
	MATCH("{\"title\":{\"$startsWith\":\"ch\"}}", "3");
	MATCH("{\"title\":{\"$notStartsWith\":\"ch\"}}", "1,2,4");
	MATCH("{\"title\":{\"$endWith\":\"IE\"}}", "1");
	MATCH("{\"title\":{\"$endsWith\":\"split\"}}", "2");
	MATCH("{\"title\":{\"$notEndWith\":\"ie\"}}", "2,3,4");
	MATCH("{\"title\":{\"$notEndsWith\":\"y\"}}", "1,2,4");
	/* $like takes the pattern as written */
	MATCH("{\"title\":{\"$like\":\"%a_a%\"}}", "2");
	MATCH("{\"title\":{\"$iLike\":\"apple%\"}}", "1");
	MATCH("{\"title\":{\"$notLike\":\"%e%\"}}", "2");
	MATCH("{\"title\":{\"$notILike\":\"c%\"}}", "1,2");
}

static void test_emptiness_and_truth(void **state)
{
	(void)state;
	MATCH("{\"body\":{\"$empty\":true}}", "2,4");
	MATCH("{\"body\":{\"$notEmpty\":true}}", "1,3");
	MATCH("{\"meta\":{\"$empty\":true}}", "2,3,4"); /* [] {} null */
	MATCH("{\"n\":{\"$empty\":true}}", "4");
	MATCH("{\"n\":{\"$notEmpty\":true}}", "1,2,3");
	MATCH("{\"ok\":{\"$isTruly\":true}}", "1");
	MATCH("{\"ok\":{\"$isFalsy\":true}}", "2,3,4");
	MATCH("{\"day\":{\"$exists\":true}}", "1,2,3");
	MATCH("{\"day\":{\"$exists\":null}}", "1,2,3");
	MATCH("{\"day\":{\"$exists\":false}}", "4");
	MATCH("{\"day\":{\"$notExists\":true}}", "4");
	MATCH("{\"day\":{\"$notExists\":false}}", "1,2,3");
}

static void test_ranges_and_dates(void **state)
{
	(void)state;
	MATCH("{\"n\":{\"$between\":[1,5]}}", "1,2");
	MATCH("{\"n\":{\"$notBetween\":[1,5]}}", "3");
	MATCH("{\"price\":{\"$between\":[\"1.5\",\"2\"]}}", "1,3");
	/* the UTC day of a date or date-time */
	MATCH("{\"day\":{\"$dateOn\":\"2024-03-01\"}}", "1");
	MATCH("{\"day\":{\"$dateOn\":\"2024-03-02T05:00:00Z\"}}", "2");
	MATCH("{\"day\":{\"$dateNotOn\":\"2024-03-01\"}}", "2,3");
	MATCH("{\"day\":{\"$dateBefore\":\"2024-03-01\"}}", "3");
	MATCH("{\"day\":{\"$dateNotBefore\":\"2024-03-01\"}}", "1,2");
	MATCH("{\"day\":{\"$dateAfter\":\"2024-03-01\"}}", "2");
	MATCH("{\"day\":{\"$dateNotAfter\":\"2024-03-01\"}}", "1,3");
	MATCH("{\"day\":{\"$dateBetween\":[\"2024-02-29\",\"2024-03-01\"]}}",
	      "1,3");
	MATCH("{\"day\":{\"$dateOn\":\"2024-03-02T23:30:00-02:00\"}}", "");
}

static void test_groups(void **state)
{
	(void)state;
	MATCH("{\"$and\":[{\"n\":{\"$gt\":1}},{\"n\":{\"$lt\":10}}]}", "2");
	MATCH("{\"$or\":[{\"n\":1},{\"title\":\"Cherry\"}]}", "1,3");
	MATCH("{\"$or\":[{\"n\":1},{}]}", "1"); /* empty items left out */
	MATCH("{\"$or\":[]}", "1,2,3,4");
	MATCH("{\"$and\":{\"n\":5}}", "2"); /* one object */
	MATCH("{\"$or\":[{\"$and\":[{\"ok\":true},{\"n\":1}]},{\"n\":10}]}",
	      "1,3");
	MATCH("{\"n\":{\"$gt\":1},\"title\":{\"$includes\":\"c\"}}", "3");
}

static void test_association_paths(void **state)
{
	(void)state;
	/* belongsTo */
	MATCH("{\"category.title\":\"Fruit\"}", "1,3");
	MATCH("{\"category\":{\"title\":{\"$ne\":\"Fruit\"}}}", "2");
	MATCH("{\"category.rank.$gt\":1}", "2");
	/* belongsToMany, through the join table */
	MATCH("{\"tags.name\":\"sweet\"}", "1,2");
	MATCH("{\"tags.name\":{\"$in\":[\"red\"]}}", "1");
	/* hasMany */
	MATCH("{\"notes.text\":{\"$startsWith\":\"c\"}}", "1,2");
	MATCH("{\"notes\":{\"text\":\"warm\"}}", "1");
	/* inside groups */
	MATCH("{\"$or\":[{\"tags.name\":\"red\"},{\"category.title\":"
	      "\"Dessert\"}]}",
	      "1,2");
}

static void test_sorting(void **state)
{
	struct store_sort by_n_desc = {.path = "n", .desc = true};
	struct store_sort by_cat[] = {{.path = "category.title"},
				      {.path = "id", .desc = true}};
	struct store_sort by_title = {.path = "title"};
	(void)state;
	/* NULL first when descending, last when ascending */
	assert_string_equal(sorted("{}", &by_n_desc, 1), "4,3,2,1");
	assert_string_equal(sorted("{}", by_cat, 2), "2,3,1,4");
	assert_string_equal(sorted("{\"n\":{\"$ne\":null}}", &by_title, 1),
			    "1,3,2");
}

static void test_refusals(void **state)
{
	(void)state;
	assert_int_equal(refused("{\"nope\":1}"), APP_EFIELD);
	assert_string_equal(why, "Unknown field \"nope\" in collection \"items\"");
	assert_int_equal(refused("{\"title.x\":1}"), APP_EFIELD);
	assert_int_equal(refused("{\"secret\":\"pw\"}"), APP_EFIELD);
	assert_int_equal(refused("{\"n\":{\"$near\":1}}"), APP_EOPERATOR);
	assert_string_equal(why, "Unknown operator \"$near\" on field \"n\"");
	assert_int_equal(refused("{\"$nor\":[]}"), APP_EOPERATOR);
	assert_int_equal(refused("{\"n\":{\"$and\":[]}}"), APP_EOPERATOR);
	assert_int_equal(refused("{\"category.$eq\":1}"), APP_EOPERATOR);
	assert_int_equal(refused("{\"category\":1}"), APP_EPARAM);
	assert_int_equal(refused("{\"n\":\"five\"}"), APP_EPARAM);
	assert_string_equal(why, "Invalid value \"five\" for field \"n\": "
				 "expected a number");
	assert_int_equal(refused("{\"ok\":\"yes\"}"), APP_EPARAM);
	assert_int_equal(refused("{\"n\":{\"$gt\":null}}"), APP_EPARAM);
	assert_int_equal(refused("{\"n\":{\"$in\":[1,\"x\"]}}"), APP_EPARAM);
	assert_int_equal(refused("{\"n\":{\"a\":1}}"), APP_EPARAM);
	assert_int_equal(refused("{\"title\":{\"$eq\":{\"a\":1}}}"), APP_EPARAM);
	assert_int_equal(refused("{\"day\":\"yesterday\"}"), APP_EPARAM);
	assert_int_equal(refused("{\"day\":{\"$dateOn\":5}}"), APP_EPARAM);
	assert_int_equal(refused("{\"n\":{\"$between\":[1]}}"), APP_EPARAM);
	assert_string_equal(why, "$between needs an array of two values");
	assert_int_equal(refused("{\"title\":{\"$like\":5}}"), APP_EPARAM);
	assert_int_equal(refused("{\"title\":{\"$includes\":null}}"),
			 APP_EPARAM);
	assert_int_equal(refused("{\"$or\":5}"), APP_EPARAM);
	assert_int_equal(refused("{\"$or\":[5]}"), APP_EPARAM);
	assert_int_equal(refused("[1]"), APP_EPARAM);
	assert_int_equal(refused("{\"category\":{\"$eq\":1}}"), APP_EPARAM);
}

/* LIMIT_FILTER_DEPTH objects within objects ($and with an object keeps
 * the JSON nesting under its own limit); LIMIT_FILTER_CONDITIONS
 * conditions, which compile to a balanced tree (a chain of a thousand ORs
 * is past SQLite's expression depth). */
static void test_limits(void **state)
{
	struct buf many = {0};
	(void)state;
	for (int levels = LIMIT_FILTER_DEPTH; levels >= LIMIT_FILTER_DEPTH - 1;
	     levels--) {
		char deep[1024] = "", *p = deep;
		for (int i = 0; i < levels; i++)
			p += sprintf(p, "{\"$and\":");
		p += sprintf(p, "{\"id\":1}");
		for (int i = 0; i < levels; i++)
			p += sprintf(p, "}");
		if (levels == LIMIT_FILTER_DEPTH) {
			assert_int_equal(refused(deep), APP_EPARAM);
			assert_non_null(strstr(why, "filter nested too deep"));
		} else {
			MATCH(deep, "1");
		}
	}

	buf_puts(&many, "{\"$or\":[");
	for (int i = 0; i < LIMIT_FILTER_CONDITIONS; i++)
		buf_printf(&many, "%s{\"id\":%d}", i ? "," : "", i % 3 + 2);
	buf_puts(&many, "]}");
	MATCH(buf_str(&many), "2,3,4");
	buf_reset(&many);
	buf_puts(&many, "{\"$and\":[{\"id\":{\"$gt\":0}},{\"$or\":[");
	for (int i = 0; i < LIMIT_FILTER_CONDITIONS; i++)
		buf_printf(&many, "%s{\"id\":%d}", i ? "," : "", i);
	buf_puts(&many, "]}]}");
	assert_int_equal(refused(buf_str(&many)), APP_EINPUT_LIMIT);
	assert_non_null(strstr(why, "1001 conditions"));
	buf_free(&many);
}

/* Every operator README names is a row of the table, and no row twice. */
static void test_operator_table(void **state)
{
	static const char *const readme[] = {
		"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$notIn",
		"$includes", "$notIncludes", "$startsWith", "$notStartsWith",
		"$endWith", "$notEndWith", "$empty", "$notEmpty", "$isTruly",
		"$isFalsy", "$and", "$or", "$like", "$between", "$exists",
		"$dateOn", "$dateNotOn", "$dateBefore", "$dateNotBefore",
		"$dateAfter", "$dateNotAfter", "$dateBetween"};
	(void)state;
	for (size_t i = 0; i < sizeof(readme) / sizeof(readme[0]); i++)
		assert_non_null(store_filter_op(readme[i]));
	assert_null(store_filter_op("$near"));
	for (int i = 0; i < store_filter_nops; i++) {
		const struct store_filter_op *op = &store_filter_ops[i];
		assert_ptr_equal(store_filter_op(op->name), op);
		assert_true((op->build == NULL) == (op->arg == SF_ARG_FILTERS));
	}
}

/* A dialect as PostgreSQL would spell it: the same compiler writes its
 * placeholders, literals and LIKE. */
static void pg_placeholder(struct buf *sql, int n, enum ftype t)
{
	buf_printf(sql, "$%d%s", n, t == FT_DATE ? "::timestamptz" : "");
}

static const struct store_dialect pg = {
	.name = "test-pg",
	.placeholder = pg_placeholder,
	.sql_true = "TRUE",
	.sql_false = "FALSE",
	.numeric_open = "",
	.numeric_close = "",
	.like_nocase = "ILIKE",
	.like_case = "LIKE",
	.like_escape = " ESCAPE '\\'",
	.text_empty = " = ''",
	.json_empty = " IN ('[]'::jsonb, '{}'::jsonb)",
};

static struct buf sql;

/* " WHERE ..." of filter in the dialect above; *binds its values. */
static const char *compiled(const char *filter, json_object **binds)
{
	struct store_filter q;
	json_object *f = unit_json(filter);

	buf_reset(&sql);
	*binds = json_object_new_array();
	store_filter_init(&q, &pg, app->schema, &sql, *binds);
	if (store_filter_where(&q, items(), f))
		fail_msg("%s: %s", filter, q.err);
	json_object_put(f);
	return buf_str(&sql);
}

static void test_dialect(void **state)
{
	json_object *binds;
	(void)state;
	assert_string_equal(
		compiled("{\"n\":{\"$gt\":1},\"title\":{\"$includes\":\"a%\"}}",
			 &binds),
		" WHERE (((t0.\"n\" > $1)) AND ((t0.\"title\" ILIKE $2 "
		"ESCAPE '\\')))");
	unit_assert_json(binds, "[1,\"%a\\\\%%\"]");
	json_object_put(binds);
	assert_string_equal(
		compiled("{\"price\":{\"$lt\":3.5},\"ok\":{\"$isFalsy\":1},"
			 "\"n\":{\"$in\":[]},\"day\":{\"$dateBefore\":"
			 "\"2024-03-01\"},\"title\":{\"$like\":\"A%\"}}",
			 &binds),
		" WHERE (((t0.\"price\" < $1)) AND ((t0.\"ok\" = FALSE OR "
		"t0.\"ok\" IS NULL)) AND (FALSE) AND ((t0.\"day\" < "
		"$2::timestamptz)) AND ((t0.\"title\" LIKE $3)))");
	unit_assert_json(binds, "[3.5,\"2024-03-01T00:00:00.000Z\",\"A%\"]");
	json_object_put(binds);
	assert_string_equal(compiled("{\"meta\":{\"$empty\":1}}", &binds),
			    " WHERE ((((t0.\"meta\" IS NULL OR t0.\"meta\" IN "
			    "('[]'::jsonb, '{}'::jsonb)))))");
	json_object_put(binds);
	assert_string_equal(compiled("{}", &binds), " WHERE (TRUE)");
	json_object_put(binds);
	buf_free(&sql);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equality),
		cmocka_unit_test(test_comparisons),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_emptiness_and_truth),
		cmocka_unit_test(test_ranges_and_dates),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_association_paths),
		cmocka_unit_test(test_sorting),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_operator_table),
		cmocka_unit_test(test_dialect),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
