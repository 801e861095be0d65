/* schema: collections:create bodies normalised (NocoBase's short and full
 * forms read the same; bad names and types refused), definitions built
 * into collections (builtins, keys, NocoBase's default key names) and
 * linked (the key columns associations need on either end). */
#include "unit.h"

static struct schema *base;
static char err[512];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(schema_build(NULL, 1, &base, err, sizeof(err)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	schema_free(base);
	return 0;
}

/* The stored definition of a collections:create body (new ref), or NULL
 * with the refusal in err. */
static json_object *normalized(const char *body)
{
	json_object *b = unit_json(body), *def = NULL;
	err[0] = 0;
	if (schema_normalize(base, b, &def, err, sizeof(err)))
		def = NULL;
	json_object_put(b);
	return def;
}

static void refused(const char *body, const char *want)
{
	json_object *def = normalized(body);
	if (def)
		fail_msg("accepted: %s", body);
	if (!strstr(err, want))
		fail_msg("%s: refused with \"%s\", want \"%s\"", body, err,
			 want);
}

/* A schema of the system collections plus the stored definitions defs
 * (a JSON array text). */
static struct schema *built(const char *defs)
{
	json_object *d = unit_json(defs);
	struct schema *s = NULL;
	if (schema_build(d, 2, &s, err, sizeof(err)))
		fail_msg("schema refused: %s", err);
	json_object_put(d);
	return s;
}

/* "name:type" of every field of c, in order, comma-separated. */
static const char *layout(const struct coll *c)
{
	static char out[1024];
	out[0] = 0;
	for (int i = 0; i < c->nfields; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out),
			 "%s%s:%s", i ? "," : "", c->fields[i].name,
			 ftype_name(c->fields[i].type));
	return out;
}

static void test_short_form(void **state)
{
	json_object *def, *defs;
	struct schema *s;
	const struct coll *c;
	(void)state;
	def = normalized("{\"name\":\"posts\",\"title\":\"Posts\",\"fields\":"
			 "[{\"name\":\"title\",\"type\":\"string\"},"
			 "{\"name\":\"views\",\"type\":\"integer\","
			 "\"defaultValue\":0}]}");
	assert_non_null(def);
	assert_int_equal(strlen(jsonx_get_str(def, "key")), 11);
	defs = json_object_new_array();
	json_object_array_add(defs, def);
	assert_int_equal(schema_build(defs, 3, &s, err, sizeof(err)), 0);
	json_object_put(defs);
	c = schema_coll(s, "posts");
	assert_non_null(c);
	assert_int_equal(s->version, 3);
	assert_string_equal(layout(c), "createdAt:date,updatedAt:date,"
				       "id:bigInt,title:string,views:integer");
	assert_string_equal(c->pk, "id");
	assert_true(c->pk_int);
	assert_ptr_equal(coll_pk(c), coll_field(c, "id"));
	assert_string_equal(c->title, "Posts");
	assert_true(c->timestamps);
	assert_false(c->created_by);
	assert_false(c->system);
	assert_int_equal(coll_field(c, "createdAt")->automatic, 'c');
	assert_int_equal(coll_field(c, "updatedAt")->automatic, 'u');
	unit_assert_json(coll_field(c, "views")->dflt, "0");
	assert_null(coll_field(c, "nope"));
	assert_null(schema_coll(s, "nope"));
	assert_null(schema_coll(s, NULL));
	schema_free(s);
}

/* NocoBase's full form spells the builtins out; it builds the same
 * collection as the short form with the same options. */
static void test_full_form(void **state)
{
	json_object *def;
	struct schema *s;
	const struct coll *c;
	char defs[2048];
	(void)state;
	def = normalized(
		"{\"name\":\"things\",\"autoGenId\":true,\"createdBy\":true,"
		"\"updatedBy\":true,\"logging\":true,\"fields\":["
		"{\"name\":\"id\",\"type\":\"bigInt\",\"autoIncrement\":true,"
		"\"primaryKey\":true,\"allowNull\":false,\"interface\":"
		"\"integer\",\"uiSchema\":{\"type\":\"number\"}},"
		"{\"name\":\"createdAt\",\"type\":\"date\",\"interface\":"
		"\"createdAt\",\"field\":\"createdAt\"},"
		"{\"name\":\"updatedAt\",\"type\":\"date\"},"
		"{\"name\":\"createdBy\",\"type\":\"belongsTo\",\"target\":"
		"\"users\",\"foreignKey\":\"createdById\"},"
		"{\"name\":\"updatedById\",\"type\":\"bigInt\"},"
		"{\"name\":\"name\",\"type\":\"string\",\"uiSchema\":"
		"{\"title\":\"Name\"}}]}");
	assert_non_null(def);
	/* presentation keys are kept as given */
	assert_true(jsonx_get_bool(def, "logging", false));
	snprintf(defs, sizeof(defs), "[%s]",
		 json_object_to_json_string_ext(def, JSON_C_TO_STRING_PLAIN));
	json_object_put(def);
	s = built(defs);
	c = schema_coll(s, "things");
	assert_string_equal(layout(c),
			    "createdAt:date,updatedAt:date,id:bigInt,"
			    "name:string,createdById:bigInt,"
			    "createdBy:belongsTo,updatedById:bigInt,"
			    "updatedBy:belongsTo");
	assert_true(c->created_by && c->updated_by);
	assert_int_equal(coll_field(c, "createdById")->automatic, 'C');
	assert_int_equal(coll_field(c, "updatedById")->automatic, 'U');
	assert_string_equal(coll_field(c, "createdBy")->target, "users");
	schema_free(s);

	/* no timestamps, a text key of its own */
	s = built("[{\"name\":\"codes\",\"timestamps\":false,\"autoGenId\":"
		  "false,\"fields\":[{\"name\":\"code\",\"type\":\"uid\","
		  "\"primaryKey\":true},{\"name\":\"n\",\"type\":\"sort\"}]}]");
	c = schema_coll(s, "codes");
	assert_string_equal(layout(c), "code:string,n:integer");
	assert_string_equal(c->pk, "code");
	assert_false(c->pk_int);
	schema_free(s);
}

static void test_refusals(void **state)
{
	(void)state;
	refused("[]", "values must be an object");
	refused("{\"fields\":[]}", "Invalid collection name \"\"");
	refused("{\"name\":\"1posts\"}", "Invalid collection name \"1posts\"");
	refused("{\"name\":\"_hidden\"}", "Invalid collection name");
	refused("{\"name\":\"sqlite_master\"}", "Invalid collection name");
	refused("{\"name\":\"a-b\"}", "Invalid collection name");
	refused("{\"name\":\"users\"}", "Collection \"users\" already exists");
	refused("{\"name\":\"p\",\"fields\":{}}", "\"fields\" must be an array");
	refused("{\"name\":\"p\",\"fields\":[1]}", "fields[0] must be an object");
	refused("{\"name\":\"p\",\"fields\":[{\"type\":\"string\"}]}",
		"Invalid field name \"\" in \"p\"");
	refused("{\"name\":\"p\",\"fields\":[{\"name\":\"a b\",\"type\":"
		"\"string\"}]}",
		"Invalid field name \"a b\"");
	refused("{\"name\":\"p\",\"fields\":[{\"name\":\"a\",\"type\":"
		"\"geometry\"}]}",
		"Unknown field type \"geometry\" of field \"a\"");
	refused("{\"name\":\"p\",\"fields\":[{\"name\":\"a\"}]}",
		"Unknown field type \"\" of field \"a\"");
	refused("{\"name\":\"p\",\"fields\":[{\"name\":\"Title\",\"type\":"
		"\"string\"},{\"name\":\"title\",\"type\":\"text\"}]}",
		"Duplicate field \"title\" in \"p\"");
	refused("{\"name\":\"p\",\"fields\":[{\"name\":\"a\",\"type\":"
		"\"belongsTo\",\"target\":\"x-y\"}]}",
		"Invalid target \"x-y\" of field \"a\"");
	refused("{\"name\":\"p\",\"fields\":[{\"name\":\"a\",\"type\":"
		"\"belongsTo\",\"target\":\"users\",\"foreignKey\":\"a;b\"}]}",
		"Invalid key names in field \"a\"");
	refused("{\"name\":\"p\",\"autoGenId\":false,\"fields\":["
		"{\"name\":\"a\",\"type\":\"string\"}]}",
		"Collection \"p\" has no primary key");
}

/* NocoBase's default targets and key names, stored with the definition. */
static void test_association_defaults(void **state)
{
	json_object *def, *fields;
	const char *through;
	(void)state;
	def = normalized(
		"{\"name\":\"posts\",\"fields\":["
		"{\"name\":\"category\",\"type\":\"belongsTo\"},"
		"{\"name\":\"comments\",\"type\":\"hasMany\"},"
		"{\"name\":\"cover\",\"type\":\"hasOne\",\"target\":\"images\"},"
		"{\"name\":\"tags\",\"type\":\"belongsToMany\"},"
		"{\"name\":\"boxes\",\"type\":\"belongsToMany\",\"through\":"
		"\"postBoxes\",\"otherKey\":\"boxKey\"}]}");
	assert_non_null(def);
	fields = jsonx_get(def, "fields");
	unit_assert_json(json_object_array_get_idx(fields, 0),
			 "{\"name\":\"category\",\"type\":\"belongsTo\","
			 "\"target\":\"categorys\",\"foreignKey\":"
			 "\"categoryId\"}");
	unit_assert_json(json_object_array_get_idx(fields, 1),
			 "{\"name\":\"comments\",\"type\":\"hasMany\","
			 "\"target\":\"comments\",\"foreignKey\":\"postId\"}");
	unit_assert_json(json_object_array_get_idx(fields, 2),
			 "{\"name\":\"cover\",\"type\":\"hasOne\","
			 "\"target\":\"images\",\"foreignKey\":\"postId\"}");
	through = jsonx_get_str(json_object_array_get_idx(fields, 3),
				"through");
	assert_non_null(through);
	assert_int_equal(strncmp(through, "t_", 2), 0);
	assert_int_equal(strlen(through), 13);
	assert_string_equal(jsonx_get_str(json_object_array_get_idx(fields, 3),
					  "foreignKey"),
			    "postId");
	assert_string_equal(jsonx_get_str(json_object_array_get_idx(fields, 3),
					  "otherKey"),
			    "tagId");
	assert_string_equal(jsonx_get_str(json_object_array_get_idx(fields, 4),
					  "otherKey"),
			    "boxKey");
	json_object_put(def);
	/* plural forms NocoBase singularises for key names */
	def = normalized("{\"name\":\"categories\",\"fields\":["
			 "{\"name\":\"boxes\",\"type\":\"hasMany\"},"
			 "{\"name\":\"branches\",\"type\":\"belongsToMany\","
			 "\"through\":\"cb\"}]}");
	fields = jsonx_get(def, "fields");
	assert_string_equal(jsonx_get_str(json_object_array_get_idx(fields, 0),
					  "foreignKey"),
			    "categoryId");
	assert_string_equal(jsonx_get_str(json_object_array_get_idx(fields, 1),
					  "otherKey"),
			    "branchId");
	json_object_put(def);
}

/* Linking adds the key columns associations need, of the type of the key
 * they point at, and fills the source and target keys from the ends. */
static void test_linking(void **state)
{
	struct schema *s;
	const struct coll *posts, *comments, *th, *langs;
	const struct field *f;
	(void)state;
	s = built("["
		  "{\"name\":\"langs\",\"autoGenId\":false,\"fields\":["
		  "{\"name\":\"code\",\"type\":\"string\",\"primaryKey\":"
		  "true}]},"
		  "{\"name\":\"posts\",\"fields\":["
		  "{\"name\":\"lang\",\"type\":\"belongsTo\",\"target\":"
		  "\"langs\",\"foreignKey\":\"langCode\",\"targetKey\":"
		  "\"code\"},"
		  "{\"name\":\"comments\",\"type\":\"hasMany\",\"target\":"
		  "\"comments\",\"foreignKey\":\"postId\"},"
		  "{\"name\":\"langs\",\"type\":\"belongsToMany\",\"target\":"
		  "\"langs\",\"through\":\"postLangs\",\"foreignKey\":"
		  "\"postId\",\"otherKey\":\"langCode\"},"
		  "{\"name\":\"parent\",\"type\":\"belongsTo\",\"target\":"
		  "\"posts\",\"foreignKey\":\"parentId\"},"
		  "{\"name\":\"children\",\"type\":\"hasMany\",\"target\":"
		  "\"posts\",\"foreignKey\":\"parentId\"}]},"
		  "{\"name\":\"comments\",\"fields\":[]},"
		  "{\"name\":\"postLangs\",\"fields\":[]},"
		  "{\"name\":\"users\",\"fields\":[]}]");
	posts = schema_coll(s, "posts");
	comments = schema_coll(s, "comments");
	th = schema_coll(s, "postLangs");
	langs = schema_coll(s, "langs");
	/* a user collection never shadows a system one */
	assert_true(schema_coll(s, "users")->system);
	f = coll_field(posts, "langCode");
	assert_true(f && f->implicit && f->type == FT_STRING);
	assert_true(field_has_column(f));
	f = coll_field(comments, "postId");
	assert_true(f && f->implicit && f->type == FT_BIGINT);
	assert_int_equal(coll_field(th, "postId")->type, FT_BIGINT);
	assert_int_equal(coll_field(th, "langCode")->type, FT_STRING);
	assert_true(coll_field(posts, "parentId")->implicit);
	f = coll_field(posts, "langs");
	assert_string_equal(f->source_key, "id");
	assert_string_equal(f->target_key, "code");
	assert_false(field_has_column(f));
	assert_true(ftype_is_to_many(f->type));
	f = coll_field(posts, "comments");
	assert_string_equal(f->source_key, "id");
	assert_true(ftype_is_assoc(f->type));
	assert_false(ftype_is_to_many(coll_field(posts, "lang")->type));
	assert_null(coll_field(langs, "id"));
	schema_free(s);
}

static void test_build_refusals(void **state)
{
	json_object *d;
	struct schema *s = (struct schema *)1;
	(void)state;
	d = unit_json("[{\"name\":\"p\",\"fields\":[{\"name\":\"t\",\"type\":"
		      "\"belongsToMany\",\"target\":\"users\"}]}]");
	assert_int_equal(schema_build(d, 1, &s, err, sizeof(err)), -1);
	assert_null(s);
	assert_string_equal(err, "Field \"t\" needs a \"through\" collection");
	json_object_put(d);
	d = unit_json("[{\"name\":\"bad name\"}]");
	assert_int_equal(schema_build(d, 1, &s, err, sizeof(err)), -1);
	json_object_put(d);
}

static void test_type_names(void **state)
{
	static const char *const names[] = {
		"string", "text", "integer", "bigInt", "float", "double",
		"decimal", "boolean", "date", "json", "password", "belongsTo",
		"hasOne", "hasMany", "belongsToMany"};
	char body[256];
	json_object *def;
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"name\":\"t%zu\",\"fields\":[{\"name\":\"f\","
			 "\"type\":\"%s\",\"target\":\"users\",\"through\":"
			 "\"tu\"}]}",
			 i, names[i]);
		def = normalized(body);
		if (!def)
			fail_msg("%s: %s", names[i], err);
		json_object_put(def);
		assert_string_equal(ftype_name((enum ftype)i), names[i]);
	}
	assert_string_equal(ftype_name((enum ftype)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_form),
		cmocka_unit_test(test_full_form),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_association_defaults),
		cmocka_unit_test(test_linking),
		cmocka_unit_test(test_build_refusals),
		cmocka_unit_test(test_type_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
