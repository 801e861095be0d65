/* Unit tests for wf_jsonq: the JMESPath subset of the json-query node.
 * Most cases come from the JMESPath tutorial and specification. */
#include "unit.h"

#include "wf_jsonq.h"

struct qcase {
	const char *data; /* JSON */
	const char *expr;
	const char *want; /* JSON text of the result, NULL for an error */
	const char *err;  /* expected error text (substring) */
};

static int run(const struct qcase *c, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *data = unit_json(c[i].data), *out = NULL;
		char err[256] = "";
		int rc = wf_jsonq_eval(data, c[i].expr, &out, err, sizeof(err));
		const char *got = rc ? NULL : jsonx_str(out);
		if (c[i].want && (rc || strcmp(got, c[i].want))) {
			print_error("%s: want %s, got %s (%s)\n", c[i].expr,
				    c[i].want, got ? got : "error", err);
			failed++;
		} else if (!c[i].want && (rc == 0 || !strstr(err, c[i].err))) {
			print_error("%s: want error '%s', got %s '%s'\n",
				    c[i].expr, c[i].err, rc ? "error" : got,
				    err);
			failed++;
		}
		json_object_put(out);
		json_object_put(data);
	}
	return failed;
}

#define RUN(cases) \
	assert_int_equal(run(cases, sizeof(cases) / sizeof(*cases)), 0)

#define ABC "{\"a\":\"foo\",\"b\":\"bar\",\"c\":\"baz\"}"
#define LETTERS "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]"
#define PEOPLE \
	"{\"people\":[{\"first\":\"James\",\"last\":\"d\"}," \
	"{\"first\":\"Jacob\",\"last\":\"e\"},{\"first\":\"Jayden\"," \
	"\"last\":\"f\"},{\"missing\":\"different\"}],\"foo\":{\"bar\":\"baz\"}}"
#define OPS \
	"{\"ops\":{\"functionA\":{\"numArgs\":2},\"functionB\":{\"numArgs\":3}," \
	"\"functionC\":{\"variadic\":true}}}"
#define RES \
	"{\"reservations\":[{\"instances\":[{\"state\":\"running\"}," \
	"{\"state\":\"stopped\"}]},{\"instances\":[{\"state\":\"terminated\"}," \
	"{\"state\":\"running\"}]}]}"
#define MACHINES \
	"{\"machines\":[{\"name\":\"a\",\"state\":\"running\"}," \
	"{\"name\":\"b\",\"state\":\"stopped\"},{\"name\":\"b\"," \
	"\"state\":\"running\"}]}"
#define STATES \
	"{\"people\":[{\"name\":\"a\",\"state\":{\"name\":\"up\"}}," \
	"{\"name\":\"b\",\"state\":{\"name\":\"down\"}},{\"name\":\"c\"," \
	"\"state\":{\"name\":\"up\"}}]}"
#define AGES \
	"{\"people\":[{\"name\":\"b\",\"age\":30},{\"name\":\"a\",\"age\":50}," \
	"{\"name\":\"c\",\"age\":40}]}"

static const struct qcase basic[] = {
	{ABC, "a", "\"foo\"", NULL},
	{ABC, "d", "null", NULL},
	{"{\"a\":{\"b\":{\"c\":{\"d\":\"value\"}}}}", "a.b.c.d", "\"value\"",
	 NULL},
	{"{\"a\":{\"b\":{\"c\":{\"d\":\"value\"}}}}", "a.b.x.d", "null", NULL},
	{"{\"with space\":1,\"\\u00e9\":2}", "\"with space\"", "1", NULL},
	{"{\"with space\":1,\"\\u00e9\":2}", "\"\\u00e9\"", "2", NULL},
	{LETTERS, "[1]", "\"b\"", NULL},
	{LETTERS, "[-1]", "\"f\"", NULL},
	{LETTERS, "[6]", "null", NULL},
	{LETTERS, "[0:3]", "[\"a\",\"b\",\"c\"]", NULL},
	{LETTERS, "[:3]", "[\"a\",\"b\",\"c\"]", NULL},
	{LETTERS, "[3:]", "[\"d\",\"e\",\"f\"]", NULL},
	{LETTERS, "[::2]", "[\"a\",\"c\",\"e\"]", NULL},
	{LETTERS, "[::-1]", "[\"f\",\"e\",\"d\",\"c\",\"b\",\"a\"]", NULL},
	{LETTERS, "[5:0:-2]", "[\"f\",\"d\",\"b\"]", NULL},
	{LETTERS, "[-2:]", "[\"e\",\"f\"]", NULL},
	{LETTERS, "[10:]", "[]", NULL},
	{"{\"a\":{\"b\":{\"c\":[{\"d\":[0,[1,2]]},{\"d\":[3,4]}]}}}",
	 "a.b.c[0].d[1][0]", "1", NULL},
	{"{\"foo\":\"x\"}", "foo[0]", "null", NULL},
	{"{\"foo\":\"x\"}", "foo[0:1]", "null", NULL},
	{"{\"a\":null}", "a.b.c", "null", NULL},
	{"[1,2]", "@", "[1,2]", NULL},
	{"{\"a\":1}", "@.a", "1", NULL},
	{"{\"a\":{\"b\":2}}", "(a).b", "2", NULL},
};

static void test_basic(void **state)
{
	(void)state;
	RUN(basic);
}

static const struct qcase projections[] = {
	{PEOPLE, "people[*].first", "[\"James\",\"Jacob\",\"Jayden\"]", NULL},
	{PEOPLE, "people[:2].first", "[\"James\",\"Jacob\"]", NULL},
	{PEOPLE, "people[*]", NULL, NULL},
	{PEOPLE, "foo[*].bar", "null", NULL},
	{PEOPLE, "missing[*].x", "null", NULL},
	{OPS, "ops.*.numArgs", "[2,3]", NULL},
	{OPS, "*.functionA.numArgs", "[2]", NULL},
	{"{\"foo\":[1]}", "foo.*", "null", NULL},
	{RES, "reservations[*].instances[*].state",
	 "[[\"running\",\"stopped\"],[\"terminated\",\"running\"]]", NULL},
	{RES, "reservations[].instances[].state",
	 "[\"running\",\"stopped\",\"terminated\",\"running\"]", NULL},
	{"[[0,1],2,[3],4,[5,[6,7]]]", "[]", "[0,1,2,3,4,5,[6,7]]", NULL},
	{"[[0,1],2,[3],4,[5,[6,7]]]", "[][]", "[0,1,2,3,4,5,6,7]", NULL},
	{"{\"a\":1}", "a[]", "null", NULL},
	{MACHINES, "machines[?state=='running'].name", "[\"a\",\"b\"]", NULL},
	{MACHINES, "machines[?state!='running'][name, state]",
	 "[[\"b\",\"stopped\"]]", NULL},
	{MACHINES, "machines[?state=='running' && name=='b'].name", "[\"b\"]",
	 NULL},
	{MACHINES, "machines[?state=='x' || name=='a'].name", "[\"a\"]", NULL},
	{MACHINES, "machines[?!(name=='a')].name", "[\"b\",\"b\"]", NULL},
	{"[1,2,3,4]", "[?@ > `2`]", "[3,4]", NULL},
	{"[1,2,3,4]", "[?@ >= `2` && @ < `4`]", "[2,3]", NULL},
	{PEOPLE, "people[*].first | [0]", "\"James\"", NULL},
	{PEOPLE, "people[*].first[0]", "[]", NULL},
	{STATES, "people[].[name, state.name]",
	 "[[\"a\",\"up\"],[\"b\",\"down\"],[\"c\",\"up\"]]", NULL},
	{STATES, "people[].{Name: name, State: state.name}",
	 "[{\"Name\":\"a\",\"State\":\"up\"},{\"Name\":\"b\",\"State\":\"down\"},"
	 "{\"Name\":\"c\",\"State\":\"up\"}]", NULL},
	{STATES, "people[?state.name=='up'].name | sort(@)", "[\"a\",\"c\"]",
	 NULL},
	{STATES, "{\"first person\": people[0].name, n: length(people)}",
	 "{\"first person\":\"a\",\"n\":3}", NULL},
	{"{\"a\":null}", "a.[b]", "null", NULL},
	{"{\"a\":null}", "a.{b: b}", "null", NULL},
	{"{\"a\":{\"b\":1}}", "a.[b, c]", "[1,null]", NULL},
};

static void test_projections(void **state)
{
	struct qcase fixed[sizeof(projections) / sizeof(*projections)];

	(void)state;
	memcpy(fixed, projections, sizeof(fixed));
	/* people[*] keeps the four objects */
	fixed[2].want = "[{\"first\":\"James\",\"last\":\"d\"},{\"first\":"
			"\"Jacob\",\"last\":\"e\"},{\"first\":\"Jayden\","
			"\"last\":\"f\"},{\"missing\":\"different\"}]";
	RUN(fixed);
}

static const struct qcase operators[] = {
	{"{}", "`1` < `2`", "true", NULL},
	{"{}", "`2` <= `2`", "true", NULL},
	{"{}", "'a' < 'b'", "null", NULL},
	{"{}", "`1` == `1.0`", "true", NULL},
	{"{}", "`true` == `1`", "false", NULL},
	{"{}", "`[1, {\"a\": 2}]` == `[1, {\"a\": 2.0}]`", "true", NULL},
	{"{}", "`{\"a\":1,\"b\":2}` == `{\"b\":2,\"a\":1}`", "true", NULL},
	{"{}", "'x' != 'y'", "true", NULL},
	{"{\"a\":[],\"b\":\"B\"}", "a || b", "\"B\"", NULL},
	{"{\"a\":\"\",\"b\":\"B\"}", "a && b", "\"\"", NULL},
	{"{\"a\":0,\"b\":\"B\"}", "a || b", "0", NULL},
	{"{\"a\":{}}", "!a", "true", NULL},
	{"{\"a\":false}", "!a", "true", NULL},
	{"{\"a\":\"x\"}", "!a", "false", NULL},
	{"{}", "missing || `\"dflt\"`", "\"dflt\"", NULL},
	{"{}", "'it\\'s'", "\"it's\"", NULL},
	{"{}", "`\"a\\u00e9\"`", "\"aé\"", NULL},
	{"{}", "`{\"a\": [1, 2]}`", "{\"a\":[1,2]}", NULL},
	{"{}", "`foo`", "\"foo\"", NULL},
	{"{}", "`null`", "null", NULL},
	{"{\"a\":1}", "a | @", "1", NULL},
};

static void test_operators(void **state)
{
	(void)state;
	RUN(operators);
}

static const struct qcase functions[] = {
	{AGES, "length(people)", "3", NULL},
	{AGES, "length(people[0])", "2", NULL},
	{"{\"s\":\"h\\u00e9llo\"}", "length(s)", "5", NULL},
	{AGES, "max_by(people, &age).name", "\"a\"", NULL},
	{AGES, "min_by(people, &age).name", "\"b\"", NULL},
	{AGES, "sort_by(people, &age)[*].name", "[\"b\",\"c\",\"a\"]", NULL},
	{AGES, "sort_by(people, &name)[*].age", "[50,30,40]", NULL},
	{AGES, "people[?age > `35`].name", "[\"a\",\"c\"]", NULL},
	{AGES, "sort(people[*].age)", "[30,40,50]", NULL},
	{AGES, "sort(people[*].name)", "[\"a\",\"b\",\"c\"]", NULL},
	{AGES, "max(people[*].age)", "50", NULL},
	{AGES, "min(people[*].name)", "\"a\"", NULL},
	{AGES, "sum(people[*].age)", "120", NULL},
	{AGES, "avg(people[*].age)", "40", NULL},
	{"{\"n\":[1,2]}", "avg(n)", "1.5", NULL},
	{"{\"n\":[]}", "avg(n)", "null", NULL},
	{"{\"n\":[]}", "sum(n)", "0", NULL},
	{"{\"n\":[]}", "max(n)", "null", NULL},
	{AGES, "join(', ', people[*].name)", "\"b, a, c\"", NULL},
	{AGES, "map(&name, people)", "[\"b\",\"a\",\"c\"]", NULL},
	{AGES, "map(&missing, people)", "[null,null,null]", NULL},
	{"{\"myarray\":[\"foo\",\"foobar\",\"barfoo\",\"bar\",\"baz\","
	 "\"barbaz\",\"barfoobaz\"]}",
	 "myarray[?contains(@, 'foo') == `true`]",
	 "[\"foo\",\"foobar\",\"barfoo\",\"barfoobaz\"]", NULL},
	{"{\"a\":[1,2,3]}", "contains(a, `2`)", "true", NULL},
	{"{\"a\":\"abc\"}", "contains(a, `1`)", "false", NULL},
	{ABC, "keys(@)", "[\"a\",\"b\",\"c\"]", NULL},
	{ABC, "values(@)", "[\"foo\",\"bar\",\"baz\"]", NULL},
	{ABC, "type(a)", "\"string\"", NULL},
	{"{\"x\":[1,{}]}", "[type(x), type(x[0]), type(x[1]), type(y), "
			   "type(`true`)]",
	 "[\"array\",\"number\",\"object\",\"null\",\"boolean\"]", NULL},
	{"{\"x\":[1,{\"a\":\"b\"}]}", "to_string(x)", "\"[1,{\\\"a\\\":\\\"b\\\"}]\"",
	 NULL},
	{"{\"x\":\"s\"}", "to_string(x)", "\"s\"", NULL},
	{"{\"x\":\"12.5\"}", "to_number(x)", "12.5", NULL},
	{"{\"x\":\"1e3\"}", "to_number(x)", "1000", NULL},
	{"{\"x\":\"abc\"}", "to_number(x)", "null", NULL},
	{"{\"x\":true}", "to_number(x)", "null", NULL},
	{"{\"x\":1}", "to_array(x)", "[1]", NULL},
	{"{\"x\":[1]}", "to_array(x)", "[1]", NULL},
	{"{\"a\":null,\"b\":2}", "not_null(a, missing, b)", "2", NULL},
	{"{\"a\":null}", "not_null(a)", "null", NULL},
	{"{\"s\":\"h\\u00e9\"}", "reverse(s)", "\"\u00e9h\"", NULL},
	{"[1,2,3]", "reverse(@)", "[3,2,1]", NULL},
	{"{}", "starts_with('hello', 'he')", "true", NULL},
	{"{}", "ends_with('hello', 'he')", "false", NULL},
	{"{}", "[abs(`-2`), ceil(`1.2`), floor(`1.8`)]", "[2,2,1]", NULL},
	{"{}", "merge(`{\"a\":1,\"b\":1}`, `{\"b\":2}`)", "{\"a\":1,\"b\":2}",
	 NULL},
	{AGES, "people[?contains(name, 'a')].age", "[50]", NULL},
	{AGES, "length(people) > `2`", "true", NULL},
	{AGES, "people | length(@)", "3", NULL},
};

static void test_functions(void **state)
{
	(void)state;
	RUN(functions);
}

static const struct qcase errors[] = {
	{"{}", "", NULL, "Empty expression"},
	{"{}", "a.", NULL, "unexpected end of expression"},
	{"{}", "[", NULL, "unexpected end of expression"},
	{"{}", "a[?b", NULL, "unexpected end of expression"},
	{"{}", "a[0", NULL, "unexpected end of expression"},
	{"{}", "a b", NULL, "unexpected identifier 'b'"},
	{"{}", "a = b", NULL, "unknown token '='"},
	{"{}", "a # b", NULL, "unknown token '#'"},
	{"{}", "'unterminated", NULL, "unterminated raw string"},
	{"{}", "`[1, 2", NULL, "unterminated JSON literal"},
	{"{}", "\"abc", NULL, "unterminated quoted identifier"},
	{"{}", "foo(`1`)", NULL, "unknown-function: foo()"},
	{"{}", "\"length\"(@)", NULL, "quoted identifier not allowed"},
	{"{}", "length(@, @)", NULL, "invalid-arity: length() takes 1 "
				    "argument, 2 given"},
	{"{}", "not_null()", NULL, "invalid-arity"},
	{"{}", "length(`1`)", NULL, "invalid-type: length() argument 1"},
	{"{}", "sort(`[1, \"a\"]`)", NULL, "invalid-type: sort() expects"},
	{"{}", "sum(`[1, \"a\"]`)", NULL, "invalid-type"},
	{"{}", "join(`1`, `[]`)", NULL, "invalid-type"},
	{"{}", "keys(`[]`)", NULL, "invalid-type"},
	{AGES, "sort_by(people, age)", NULL, "expression reference"},
	{AGES, "sort_by(people, &[age])", NULL, "invalid-type"},
	{AGES, "length(&age)", NULL, "got an expression reference"},
	{AGES, "&age", NULL, "only valid as a function argument"},
	{LETTERS, "[1:2:0]", NULL, "step cannot be 0"},
	{LETTERS, "[1:2:3:4]", NULL, "unexpected ':'"},
	{"{}", "a.1", NULL, "unexpected number"},
	{"{}", "{a: b", NULL, "unexpected end of expression"},
	{"{}", "{1: b}", NULL, "unexpected number"},
	{"{}", "a.*.", NULL, "unexpected end of expression"},
	{"{}", "-", NULL, "unknown token '-'"},
};

static void test_errors(void **state)
{
	(void)state;
	RUN(errors);
	/* NULL expression, NULL source. */
	json_object *out = NULL;
	char err[128];
	assert_int_equal(wf_jsonq_eval(NULL, NULL, &out, err, sizeof(err)), -1);
	assert_int_equal(wf_jsonq_eval(NULL, "a.b[0]", &out, err, sizeof(err)),
			 0);
	assert_null(out);
}

static char *repeat(const char *unit, size_t times, const char *head,
		    const char *tail)
{
	size_t ul = strlen(unit), hl = strlen(head), tl = strlen(tail);
	char *s = malloc(ul * times + hl + tl + 1), *p = s;
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < times; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

static void expect_err(json_object *data, const char *expr, const char *msg)
{
	json_object *out = NULL;
	char err[256] = "";
	assert_int_equal(wf_jsonq_eval(data, expr, &out, err, sizeof(err)), -1);
	assert_null(out);
	if (!strstr(err, msg))
		fail_msg("%.40s...: want '%s', got '%s'", expr, msg, err);
}

static void test_limits(void **state)
{
	json_object *data = unit_json("{\"a\":[1,2,3]}");
	char *s, *t;

	(void)state;
	s = repeat("(", 2000, "", "");
	t = repeat(")", 2000, s, "");
	free(s);
	s = malloc(strlen(t) + 2);
	memcpy(s, t, 2000);
	strcpy(s + 2000, "a");
	strcat(s, t + 2000);
	expect_err(data, s, "nested too deeply");
	free(s);
	free(t);
	s = repeat("!", 2000, "", "a");
	expect_err(data, s, "nested too deeply");
	free(s);
	s = repeat("[", 2000, "", "a");
	expect_err(data, s, "nested too deeply");
	free(s);
	s = repeat(".a", 3000, "a", "");
	expect_err(data, s, "nested too deeply");
	free(s);
	s = repeat("a.", WF_JSONQ_MAX_LEN, "", "a");
	expect_err(data, s, "Expression too long");
	free(s);
	/* Each .[@,@][] doubles the result: refused by the step budget. */
	s = repeat(".[@,@][]", 24, "a", "");
	expect_err(data, s, "too expensive");
	free(s);
	/* A handful of doublings is fine. */
	json_object *out = NULL;
	char err[128];
	s = repeat(".[@,@][]", 3, "a", " | length(@)");
	assert_int_equal(wf_jsonq_eval(data, s, &out, err, sizeof(err)), 0);
	assert_string_equal(jsonx_str(out), "24");
	json_object_put(out);
	free(s);
	json_object_put(data);

	/* contains() with a long near-miss needle stays linear. */
	size_t n = 3u << 20;
	char *hay = malloc(n + 1);
	memset(hay, 'x', n);
	hay[n] = 0;
	data = json_object_new_object();
	json_object_object_add(data, "h", json_object_new_string(hay));
	memset(hay, 'x', 100000);
	strcpy(hay + 100000, "y");
	json_object_object_add(data, "n", json_object_new_string(hay));
	free(hay);
	assert_int_equal(wf_jsonq_eval(data, "contains(h, n)", &out, err,
				       sizeof(err)),
			 0);
	assert_false(json_object_get_boolean(out));
	json_object_put(out);
	json_object_put(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_projections),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
