/* Unit tests for wf_expr: math.js, formula.js and string engines, and the
 * condition calculators. */
#include "unit.h"

#include "wf_expr.h"
#include "wf_template.h"

static const char *CTX_JSON =
	"{\"$context\":{\"data\":{\"price\":19.99,\"qty\":3,"
	"\"name\":\"Widget\",\"formula\":\"1+1\",\"inj\":\"1); foo(\","
	"\"tags\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"nums\":[1,2,3,4],"
	"\"zero\":0,\"nil\":null,\"flag\":true,\"s5\":\"5\","
	"\"obj\":{\"k\":\"v\"},\"half\":0.5,\"neg\":-2.5,"
	"\"date\":\"2024-01-02T03:04:05Z\",\"big\":9007199254740993}}}";

static json_object *ctx_root;

static json_object *resolve(void *ctx, const char *path)
{
	return wf_template_lookup(ctx, path);
}

static int setup(void **state)
{
	char err[128];
	(void)state;
	return jsonx_parse(CTX_JSON, strlen(CTX_JSON), 64, &ctx_root, err,
			   sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(ctx_root);
	return 0;
}

struct ecase {
	const char *engine;
	const char *expr;
	const char *want; /* JSON text of the result, or NULL for an error */
	const char *err;  /* expected error text (substring) */
};

static int run_cases(const struct ecase *c, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *out = (json_object *)1;
		char err[256] = "";
		int rc = wf_expr_eval(c[i].engine, c[i].expr, resolve, ctx_root,
				      &out, err, sizeof(err));
		if (c[i].want) {
			const char *got = rc ? NULL : jsonx_str(out);
			if (rc || strcmp(got, c[i].want) != 0) {
				print_error("[%s] %s: want %s, got %s (%s)\n",
					    c[i].engine ? c[i].engine : "-",
					    c[i].expr, c[i].want,
					    got ? got : "error", err);
				failed++;
			}
		} else if (rc == 0 || !strstr(err, c[i].err)) {
			print_error("[%s] %s: want error '%s', got rc=%d '%s'\n",
				    c[i].engine ? c[i].engine : "-", c[i].expr,
				    c[i].err, rc, rc ? err : jsonx_str(out));
			failed++;
		} else if (out != NULL) {
			print_error("%s: error left *out set\n", c[i].expr);
			failed++;
		}
		if (rc == 0)
			json_object_put(out);
	}
	return failed;
}

#define RUN(cases) \
	assert_int_equal(run_cases(cases, sizeof(cases) / sizeof(*cases)), 0)

static const struct ecase math_cases[] = {
	/* literals and precedence */
	{"math.js", "1 + 2", "3", NULL},
	{NULL, "2 + 3 * 4", "14", NULL},
	{"", "(2 + 3) * 4", "20", NULL},
	{"math.js", "2 ^ 3 ^ 2", "512", NULL},
	{"math.js", "-2 ^ 2", "-4", NULL},
	{"math.js", "(-2) ^ 2", "4", NULL},
	{"math.js", "2 ^ -1", "0.5", NULL},
	{"math.js", "-3 * -2", "6", NULL},
	{"math.js", "+'4' + 1", "5", NULL},
	{"math.js", "10 / 4", "2.5", NULL},
	{"math.js", "6 / 2", "3", NULL},
	{"math.js", "1 / 3", "0.333333333", NULL},
	{"math.js", "2 / 3", "0.666666667", NULL},
	{"math.js", "0.1 + 0.2", "0.3", NULL},
	{"math.js", "0.1 * 3", "0.3", NULL},
	{"math.js", "1e3", "1000", NULL},
	{"math.js", "1e21", "1e+21", NULL},
	{"math.js", "1.5e-3 * 2", "0.003", NULL},
	{"math.js", ".5 + .25", "0.75", NULL},
	{"math.js", "123456789 * 1000", "123456789000", NULL},
	{"math.js", "7 % 3", "1", NULL},
	{"math.js", "-7 % 3", "2", NULL},
	{"math.js", "7 mod -3", "-2", NULL},
	{"math.js", "5 % 0", "5", NULL},
	{"math.js", "2 + 3 * 4 ^ 2 / 8 - 1", "7", NULL},
	{"math.js", "1 / 0", "null", NULL},
	{"math.js", "-1 / 0", "null", NULL},
	{"math.js", "0 / 0", "null", NULL},
	{"math.js", "sqrt(-4)", "null", NULL},
	{"math.js", "pi", "3.141592654", NULL},
	{"math.js", "e", "2.718281828", NULL},
	{"math.js", "'abc'", "\"abc\"", NULL},
	{"math.js", "\"a\\\"b\\u00e9\"", "\"a\\\"bé\"", NULL},
	{"math.js", "true", "true", NULL},
	{"math.js", "null", "null", NULL},
	{"math.js", "[1, 2, 1 + 2]", "[1,2,3]", NULL},
	{"math.js", "[0.1, 1 / 3]", "[0.1,0.3333333333333333]", NULL},
	{"math.js", "", "null", NULL},
	{"math.js", "   ", "null", NULL},
	/* strings converted by arithmetic, as math.js does */
	{"math.js", "'1' + '2'", "3", NULL},
	{"math.js", "'3' * 2", "6", NULL},
	{"math.js", "true + true", "2", NULL},
	{"math.js", "null + 1", "1", NULL},
	/* comparisons and logic */
	{"math.js", "1 < 2", "true", NULL},
	{"math.js", "2 <= 2", "true", NULL},
	{"math.js", "2 == 2.0", "true", NULL},
	{"math.js", "0.1 + 0.2 == 0.3", "true", NULL},
	{"math.js", "1 != 1", "false", NULL},
	{"math.js", "'a' == 'a'", "true", NULL},
	{"math.js", "'abc' < 'abd'", "true", NULL},
	{"math.js", "'10' < 9", "false", NULL},
	{"math.js", "1 < 2 < 3", "true", NULL},
	{"math.js", "3 > 2 > 1", "true", NULL},
	{"math.js", "1 < 3 < 2", "false", NULL},
	{"math.js", "null == null", "true", NULL},
	{"math.js", "null == 0", "false", NULL},
	{"math.js", "true and false", "false", NULL},
	{"math.js", "true or false", "true", NULL},
	{"math.js", "1 and 2", "true", NULL},
	{"math.js", "not true", "false", NULL},
	{"math.js", "not 0", "true", NULL},
	{"math.js", "!false", "true", NULL},
	{"math.js", "true xor true", "false", NULL},
	{"math.js", "1 < 2 and 2 < 3 or false", "true", NULL},
	{"math.js", "not 1 == 2", "false", NULL},
	{"math.js", "1 > 0 ? 'yes' : 'no'", "\"yes\"", NULL},
	{"math.js", "0 ? 1 : 0 ? 2 : 3", "3", NULL},
	{"math.js", "'' ? 1 : 2", "2", NULL},
	{"math.js", "5!", "120", NULL},
	{"math.js", "2 ^ 3!", "64", NULL},
	/* functions */
	{"math.js", "round(2.5)", "3", NULL},
	{"math.js", "round(-2.5)", "-3", NULL},
	{"math.js", "round(3.14159, 2)", "3.14", NULL},
	{"math.js", "round(1.005, 2)", "1.01", NULL},
	{"math.js", "round(2.675, 2)", "2.68", NULL},
	{"math.js", "floor(-1.5)", "-2", NULL},
	{"math.js", "floor(1.789, 2)", "1.78", NULL},
	{"math.js", "ceil(1.2)", "2", NULL},
	{"math.js", "ceil(-1.2)", "-1", NULL},
	{"math.js", "fix(-1.7)", "-1", NULL},
	{"math.js", "abs(-3)", "3", NULL},
	{"math.js", "sqrt(16)", "4", NULL},
	{"math.js", "cbrt(27)", "3", NULL},
	{"math.js", "pow(2, 10)", "1024", NULL},
	{"math.js", "mod(10, 3)", "1", NULL},
	{"math.js", "min(3, 1, 2)", "1", NULL},
	{"math.js", "max([1, 5, 3])", "5", NULL},
	{"math.js", "sum(1, 2, 3)", "6", NULL},
	{"math.js", "sum()", "0", NULL},
	{"math.js", "mean(1, 2, 3, 4)", "2.5", NULL},
	{"math.js", "median(3, 1, 2)", "2", NULL},
	{"math.js", "median([4, 1, 3, 2])", "2.5", NULL},
	{"math.js", "prod(2, 3, 4)", "24", NULL},
	{"math.js", "exp(0)", "1", NULL},
	{"math.js", "log(100, 10)", "2", NULL},
	{"math.js", "log10(1000)", "3", NULL},
	{"math.js", "log2(8)", "3", NULL},
	{"math.js", "sign(-5)", "-1", NULL},
	{"math.js", "add(1, 2, 3)", "6", NULL},
	{"math.js", "subtract(5, 7)", "-2", NULL},
	{"math.js", "multiply(2, 2.5)", "5", NULL},
	{"math.js", "divide(1, 4)", "0.25", NULL},
	{"math.js", "equal(2, 2)", "true", NULL},
	{"math.js", "larger(2, 3)", "false", NULL},
	{"math.js", "smallerEq(3, 3)", "true", NULL},
	{"math.js", "compare(1, 2)", "-1", NULL},
	{"math.js", "concat('a', 'b')", "\"ab\"", NULL},
	{"math.js", "concat('n=', 5, '/', 1.5)", "\"n=5/1.5\"", NULL},
	{"math.js", "concat([1], [2, 3])", "[1,2,3]", NULL},
	{"math.js", "number('12.5') + 1", "13.5", NULL},
	{"math.js", "number(true)", "1", NULL},
	{"math.js", "string(1.5)", "\"1.5\"", NULL},
	{"math.js", "string(0.1 + 0.2)", "\"0.30000000000000004\"", NULL},
	{"math.js", "string(true)", "\"true\"", NULL},
	{"math.js", "boolean('false')", "false", NULL},
	{"math.js", "typeOf('x')", "\"string\"", NULL},
	{"math.js", "isNaN(0 / 0)", "true", NULL},
	{"math.js", "factorial(5)", "120", NULL},
	{"math.js", "round(pi, 3)", "3.142", NULL},
	/* variables are values */
	{"math.js", "{{$context.data.price}} * {{$context.data.qty}}",
	 "59.97", NULL},
	{"math.js", "{{ $context.data.qty }} + 1", "4", NULL},
	{"math.js", "{{$context.data.formula}}", "\"1+1\"", NULL},
	{"math.js", "concat({{$context.data.formula}}, '')", "\"1+1\"", NULL},
	{"math.js", "concat({{$context.data.inj}}, 'x')", "\"1); foo(x\"",
	 NULL},
	{"math.js", "{{$context.data.s5}} * 2", "10", NULL},
	{"math.js", "{{$context.data.missing}}", "null", NULL},
	{"math.js", "{{$context.data.missing}} + 1", "1", NULL},
	{"math.js", "{{$context.data.nil}} == null", "true", NULL},
	{"math.js", "sum({{$context.data.nums}})", "10", NULL},
	{"math.js", "max({{$context.data.nums}}) * 2", "8", NULL},
	{"math.js", "{{$context.data.tags.name}}", "[\"a\",\"b\"]", NULL},
	{"math.js", "{{$context.data.obj}}", "{\"k\":\"v\"}", NULL},
	{"math.js", "{{$context.data.obj}}.k", "\"v\"", NULL},
	{"math.js", "{{$context.data.nums}}.length", "4", NULL},
	{"math.js", "{{$context.data.qty}} > 2 ? 'many' : 'few'",
	 "\"many\"", NULL},
	{"math.js", "{{$context.data.flag}} and {{$context.data.qty}} > 1",
	 "true", NULL},
	{"math.js", "{{$context.data.big}}", "9007199254740993", NULL},
	/* errors */
	{"math.js", "1 +", NULL, "Unexpected end of expression (char 4)"},
	{"math.js", "(1 + 2", NULL, "Parenthesis ) expected (char 7)"},
	{"math.js", "1 + 2)", NULL, "Unexpected operator ) (char 6)"},
	{"math.js", "1 + * 2", NULL, "Value expected (char 5)"},
	{"math.js", "1 2", NULL, "Unexpected \"2\" (char 3)"},
	{"math.js", "foo(1)", NULL, "Undefined function foo"},
	{"math.js", "foo + 1", NULL, "Undefined symbol foo"},
	{"math.js", "SUM(1)", NULL, "Undefined function SUM"},
	{"math.js", "1 ? 2", NULL,
	 "False part of conditional expression expected (char 6)"},
	{"math.js", "'abc", NULL, "End of string ' missing (char 1)"},
	{"math.js", "1 # 2", NULL, "Syntax error in part \"#\" (char 3)"},
	{"math.js", "1 = 2", NULL, "Syntax error in part \"=\" (char 3)"},
	{"math.js", "round(1, 2, 3)", NULL, "Too many arguments in function "
					    "round"},
	{"math.js", "round()", NULL, "Too few arguments in function round"},
	{"math.js", "round(1.5, 20)", NULL, "range of 0-15"},
	{"math.js", "'a' + 1", NULL, "Cannot convert \"a\" to a number"},
	{"math.js", "{{$context.data.name}} * 2", NULL,
	 "Cannot convert \"Widget\" to a number"},
	{"math.js", "{{$context.data.obj}} + 1", NULL,
	 "Unexpected type of argument in function add"},
	{"math.js", "min()", NULL, "Too few arguments in function min"},
	{"math.js", "min([])", NULL, "Cannot calculate min, empty array"},
	{"math.js", "[1, 2] ? 1 : 2", NULL, "Unsupported type of condition"},
	{"math.js", "sqrt", NULL, "Function sqrt used as a value"},
	{"math.js", "pi(2)", NULL, "pi is not a function"},
	{"math.js", "{{$context.data.nil}}.k", NULL,
	 "Cannot get property \"k\" of null"},
	{"math.js", "(-1)!", NULL, "non-negative"},
	{"math.js", "{{ bad path! }}", NULL, "Syntax error in part \"{\""},
	{"lisp", "1", NULL, "Unknown engine \"lisp\""},
};

static void test_math(void **state)
{
	(void)state;
	RUN(math_cases);
}

static const struct ecase formula_cases[] = {
	{"formula.js", "{{$context.data.price}} * 2", "39.98", NULL},
	{"formula.js", "1 + 2 * 3", "7", NULL},
	{"formula.js", "(1 + 2) * 3", "9", NULL},
	{"formula.js", "0.1 + 0.2", "0.3", NULL},
	{"formula.js", "10 / 4", "2.5", NULL},
	{"formula.js", "1 / 3", "0.333333333", NULL},
	{"formula.js", "1 / 0", "null", NULL},
	{"formula.js", "-7 % 3", "-1", NULL},
	{"formula.js", "2 ** 3 ** 2", "512", NULL},
	{"formula.js", "(-2) ** 2", "4", NULL},
	{"formula.js", "2 ** -1", "0.5", NULL},
	{"formula.js", "- -3", "3", NULL},
	/* JavaScript + */
	{"formula.js", "'a' + 1", "\"a1\"", NULL},
	{"formula.js", "1 + '2'", "\"12\"", NULL},
	{"formula.js", "1 + 2 + '3'", "\"33\"", NULL},
	{"formula.js", "'3' * '4'", "12", NULL},
	{"formula.js", "'3' - 1", "2", NULL},
	{"formula.js", "'x' * 2", "null", NULL},
	{"formula.js", "true + 1", "2", NULL},
	{"formula.js", "null + 1", "1", NULL},
	{"formula.js", "'a' + null", "\"anull\"", NULL},
	{"formula.js", "[1, 2] + ''", "\"1,2\"", NULL},
	{"formula.js", "0.1 + '0.2'", "\"0.10.2\"", NULL},
	{"formula.js", "{{$context.data.s5}} + 1", "\"51\"", NULL},
	/* Excel & = <> */
	{"formula.js", "'a' & 1 & TRUE", "\"a1TRUE\"", NULL},
	{"formula.js", "1 + 2 & 'x'", "\"3x\"", NULL},
	{"formula.js", "'n: ' & {{$context.data.nil}}", "\"n: \"", NULL},
	{"formula.js", "1 = 1", "true", NULL},
	{"formula.js", "1 <> 2", "true", NULL},
	{"formula.js", "'5' == 5", "true", NULL},
	{"formula.js", "'5' === 5", "false", NULL},
	{"formula.js", "5 !== 5", "false", NULL},
	{"formula.js", "null == 0", "false", NULL},
	{"formula.js", "'' == 0", "true", NULL},
	{"formula.js", "'10' < '9'", "true", NULL},
	{"formula.js", "'10' < 9", "false", NULL},
	{"formula.js", "2 >= 2", "true", NULL},
	{"formula.js", "'a' < 1", "false", NULL},
	/* logic: JS operators yield operands */
	{"formula.js", "1 && 'x'", "\"x\"", NULL},
	{"formula.js", "0 && 'x'", "0", NULL},
	{"formula.js", "0 || 'y'", "\"y\"", NULL},
	{"formula.js", "!0", "true", NULL},
	{"formula.js", "!'a'", "false", NULL},
	{"formula.js", "1 > 0 ? 'a' : 'b'", "\"a\"", NULL},
	{"formula.js", "1 ? 0 ? 'x' : 'y' : 'z'", "\"y\"", NULL},
	/* Excel functions */
	{"formula.js", "IF({{$context.data.qty}} > 5, 'big', 'small')",
	 "\"small\"", NULL},
	{"formula.js", "IF({{$context.data.qty}} > 2, \"big\", \"small\")",
	 "\"big\"", NULL},
	{"formula.js", "IF(1, 2)", "2", NULL},
	{"formula.js", "IF(0, 2)", "false", NULL},
	{"formula.js", "IF(1, null, 3)", "0", NULL},
	{"formula.js", "IF(0, UNKNOWN(), 3)", "3", NULL},
	{"formula.js", "SUM(1, 2, 3)", "6", NULL},
	{"formula.js", "SUM([1, 2], 3)", "6", NULL},
	{"formula.js", "SUM({{$context.data.nums}})", "10", NULL},
	{"formula.js", "SUM(1, '2', 'x', true, null)", "3", NULL},
	{"formula.js", "SUM(0.1, 0.2)", "0.3", NULL},
	{"formula.js", "AVERAGE(1, 2, 3, 4)", "2.5", NULL},
	{"formula.js", "AVERAGE({{$context.data.nums}})", "2.5", NULL},
	{"formula.js", "MIN(3, 1, [0.5])", "0.5", NULL},
	{"formula.js", "MAX([4, 9], 2)", "9", NULL},
	{"formula.js", "MAX('a')", "0", NULL},
	{"formula.js", "PRODUCT(2, [3, 4])", "24", NULL},
	{"formula.js", "COUNT(1, 'a', [2, null])", "2", NULL},
	{"formula.js", "ROUND(2.5)", "3", NULL},
	{"formula.js", "ROUND(-2.5)", "-3", NULL},
	{"formula.js", "ROUND(2.345, 2)", "2.35", NULL},
	{"formula.js", "ROUND(1.005, 2)", "1.01", NULL},
	{"formula.js", "ROUND(1234.5, -2)", "1200", NULL},
	{"formula.js", "ROUND({{$context.data.neg}}, 0)", "-3", NULL},
	{"formula.js", "ROUNDUP(2.341, 2)", "2.35", NULL},
	{"formula.js", "ROUNDUP(-2.341, 2)", "-2.35", NULL},
	{"formula.js", "ROUNDDOWN(2.349, 2)", "2.34", NULL},
	{"formula.js", "ROUNDDOWN(-2.349, 1)", "-2.3", NULL},
	{"formula.js", "TRUNC(8.9)", "8", NULL},
	{"formula.js", "INT(-2.5)", "-3", NULL},
	{"formula.js", "INT(2.9)", "2", NULL},
	{"formula.js", "MOD(-7, 3)", "2", NULL},
	{"formula.js", "MOD(7, -3)", "-2", NULL},
	{"formula.js", "ABS(-2)", "2", NULL},
	{"formula.js", "POWER(2, 8)", "256", NULL},
	{"formula.js", "SQRT(9)", "3", NULL},
	{"formula.js", "CEILING(4.2)", "5", NULL},
	{"formula.js", "CEILING(2.5, 0.1)", "2.5", NULL},
	{"formula.js", "FLOOR(4.7, 2)", "4", NULL},
	{"formula.js", "LN(1)", "0", NULL},
	{"formula.js", "LOG(8, 2)", "3", NULL},
	{"formula.js", "PI()", "3.141592654", NULL},
	{"formula.js", "AND(true, 1)", "true", NULL},
	{"formula.js", "AND(true, 0)", "false", NULL},
	{"formula.js", "AND([true, true], 'text')", "true", NULL},
	{"formula.js", "OR(false, 0)", "false", NULL},
	{"formula.js", "OR(false, 1)", "true", NULL},
	{"formula.js", "XOR(true, true)", "false", NULL},
	{"formula.js", "NOT(1)", "false", NULL},
	{"formula.js", "NOT({{$context.data.nil}})", "true", NULL},
	{"formula.js", "TRUE", "true", NULL},
	{"formula.js", "TRUE()", "true", NULL},
	{"formula.js", "FALSE()", "false", NULL},
	{"formula.js", "CONCATENATE({{$context.data.name}}, ' ', 'x')",
	 "\"Widget x\"", NULL},
	{"formula.js", "CONCATENATE('a', 1, true, null, [2, 3])",
	 "\"a1TRUE23\"", NULL},
	{"formula.js", "CONCAT('a', 'b')", "\"ab\"", NULL},
	{"formula.js", "TEXTJOIN('-', true, 'a', '', 'b')", "\"a-b\"", NULL},
	{"formula.js", "LEN('héllo')", "5", NULL},
	{"formula.js", "LEN(12345)", "5", NULL},
	{"formula.js", "LEN({{$context.data.nil}})", "0", NULL},
	{"formula.js", "LEFT('abc', 2)", "\"ab\"", NULL},
	{"formula.js", "LEFT('abc')", "\"a\"", NULL},
	{"formula.js", "LEFT('abc', 10)", "\"abc\"", NULL},
	{"formula.js", "LEFT('héllo', 2)", "\"hé\"", NULL},
	{"formula.js", "RIGHT('abc', 2)", "\"bc\"", NULL},
	{"formula.js", "RIGHT('abc', 5)", "\"abc\"", NULL},
	{"formula.js", "MID('abcdef', 2, 3)", "\"bcd\"", NULL},
	{"formula.js", "MID('abc', 5, 2)", "\"\"", NULL},
	{"formula.js", "UPPER('abc')", "\"ABC\"", NULL},
	{"formula.js", "LOWER('AbC')", "\"abc\"", NULL},
	{"formula.js", "TRIM('  a   b  ')", "\"a b\"", NULL},
	{"formula.js", "SUBSTITUTE('a-b-c', '-', '+')", "\"a+b+c\"", NULL},
	{"formula.js", "SUBSTITUTE('a-b-c', '-', '+', 2)", "\"a-b+c\"", NULL},
	{"formula.js", "SUBSTITUTE('abc', '', 'x')", "\"abc\"", NULL},
	{"formula.js", "REPT('ab', 3)", "\"ababab\"", NULL},
	{"formula.js", "EXACT('a', 'a')", "true", NULL},
	{"formula.js", "FIND('c', 'abcabc', 4)", "6", NULL},
	{"formula.js", "VALUE('12.5') * 2", "25", NULL},
	{"formula.js", "ISBLANK({{$context.data.nil}})", "true", NULL},
	{"formula.js", "ISNUMBER('1')", "false", NULL},
	{"formula.js", "ISTEXT('1')", "true", NULL},
	/* JavaScript globals and members */
	{"formula.js", "Math.round(2.5)", "3", NULL},
	{"formula.js", "Math.round(-2.5)", "-2", NULL},
	{"formula.js", "Math.max(1, 3, 2)", "3", NULL},
	{"formula.js", "Math.floor(Math.PI * 100) / 100", "3.14", NULL},
	{"formula.js", "Number('12') + 1", "13", NULL},
	{"formula.js", "String(12) + 1", "\"121\"", NULL},
	{"formula.js", "parseInt('42px')", "42", NULL},
	{"formula.js", "parseFloat('3.5kg')", "3.5", NULL},
	{"formula.js", "isNaN('x')", "true", NULL},
	{"formula.js", "{{$context.data.formula}}", "\"1+1\"", NULL},
	{"formula.js", "{{$context.data.tags}}[1].name", "\"b\"", NULL},
	{"formula.js", "{{$context.data.name}}.length", "6", NULL},
	{"formula.js", "{{$context.data.name}}[0]", "\"W\"", NULL},
	{"formula.js", "{{$context.data.obj}}.missing", "null", NULL},
	{"formula.js", "[1, 'a', [true]]", "[1,\"a\",[true]]", NULL},
	/* errors */
	{"formula.js", "1 +", NULL, "Unexpected end of input (char 4)"},
	{"formula.js", "(1 + 2", NULL, "Unexpected end of input"},
	{"formula.js", "SUM(1, 2", NULL, "Unexpected end of input"},
	{"formula.js", "SUM(1 2)", NULL, "missing ) after argument list"},
	{"formula.js", "1 2", NULL, "Unexpected number (char 3)"},
	{"formula.js", "1 + )", NULL, "Unexpected token ')' (char 5)"},
	{"formula.js", "a b", NULL, "Unexpected identifier 'b'"},
	{"formula.js", "FOO(1)", NULL, "FOO is not defined"},
	{"formula.js", "sum(1)", NULL, "sum is not defined"},
	{"formula.js", "foo", NULL, "foo is not defined"},
	{"formula.js", "-2 ** 2", NULL, "Unary operator used immediately"},
	{"formula.js", "1 ^ 2", NULL, "Invalid or unexpected token '^'"},
	{"formula.js", "SQRT(-1)", NULL, "SQRT: #NUM!"},
	/* found with fuzz_formulajs: doubles cast to int out of range */
	{"formula.js", "parseInt('10', 1e300)", "10", NULL},
	{"formula.js", "parseInt('10', 4294967298)", "2", NULL},
	{"formula.js", "parseInt('10', -4294967280)", "16", NULL},
	{"formula.js", "parseInt('11', 1/0)", "11", NULL},
	{"formula.js", "CEILING(1, 1/0)", "null", NULL},
	{"formula.js", "FLOOR(-1, -1/0)", "null", NULL},
	/* fuzz_formulajs: an instance beyond int was cast to int */
	{"formula.js", "SUBSTITUTE('a-b-c', '-', '+', 1e84)", "\"a-b-c\"", NULL},
	{"formula.js", "SUBSTITUTE('a-b-c', '-', '+', 2)", "\"a-b+c\"", NULL},
	{"formula.js", "SUBSTITUTE('a-b-c', '-', '+', 0 / 0)", NULL,
	 "SUBSTITUTE: #VALUE!"},
	/* fuzz_formulajs: a NaN start was cast to size_t */
	{"formula.js", "FIND('b', 'abc', 'x' - 1)", NULL, "FIND: #VALUE!"},
	{"formula.js", "FIND('b', 'abc', 0 / 0)", NULL, "FIND: #VALUE!"},
	{"formula.js", "MOD(1, 0)", NULL, "MOD: #DIV/0!"},
	{"formula.js", "AVERAGE([])", NULL, "AVERAGE: #DIV/0!"},
	{"formula.js", "ROUND('abc')", NULL, "ROUND: #VALUE!"},
	{"formula.js", "LEFT('abc', -1)", NULL, "LEFT: #VALUE!"},
	{"formula.js", "FIND('z', 'abc')", NULL, "FIND: #VALUE!"},
	{"formula.js", "IF()", NULL, "Too few arguments in function IF"},
	{"formula.js", "{{$context.data.nil}}.x", NULL,
	 "Cannot read properties of null (reading 'x')"},
	{"formula.js", "\"abc", NULL, "Invalid or unexpected token"},
};

static void test_formula(void **state)
{
	(void)state;
	RUN(formula_cases);
}

static const struct ecase string_cases[] = {
	{"string", "Hello {{$context.data.name}}!", "\"Hello Widget!\"",
	 NULL},
	{"string", "{{$context.data.nil}}x{{$context.data.missing}}",
	 "\"x\"", NULL},
	{"string", "{{$context.data.nums}}", "\"1,2,3,4\"", NULL},
	{"string", "  a {{ $context.data.qty }} ", "\"a 3\"", NULL},
	{"string", "{{$context.data.obj}}", "\"[object Object]\"", NULL},
	{"string", "{{$context.data.price}}+{{$context.data.flag}}",
	 "\"19.99+true\"", NULL},
	{"string", "{{$context.data.formula}}", "\"1+1\"", NULL},
	{"string", "no vars at all", "\"no vars at all\"", NULL},
	{"string", "", "null", NULL},
};

static void test_string(void **state)
{
	(void)state;
	RUN(string_cases);
}

/* Integral results are JSON integers, others doubles printed as JS. */
static void test_number_types(void **state)
{
	static const struct {
		const char *engine, *expr;
		enum json_type type;
	} cases[] = {
		{"math.js", "6 / 2", json_type_int},
		{"math.js", "2.5 * 2", json_type_int},
		{"math.js", "0.1 + 0.2", json_type_double},
		{"math.js", "1e21", json_type_double},
		{"formula.js", "SUM(1.5, 1.5)", json_type_int},
		{"formula.js", "ROUND(2.5)", json_type_int},
		{"formula.js", "1 / 4", json_type_double},
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_object *out = NULL;
		assert_int_equal(wf_expr_eval(cases[i].engine, cases[i].expr,
					      resolve, ctx_root, &out, err,
					      sizeof(err)),
				 0);
		assert_int_equal(json_object_get_type(out), cases[i].type);
		json_object_put(out);
	}
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

static void expect_error(const char *engine, const char *expr,
			 const char *msg)
{
	json_object *out = NULL;
	char err[256] = "";
	assert_int_equal(wf_expr_eval(engine, expr, resolve, ctx_root, &out,
				      err, sizeof(err)),
			 -1);
	assert_null(out);
	if (!strstr(err, msg))
		fail_msg("want '%s', got '%s'", msg, err);
}

/* Hostile input: refused with a message, never a crash. */
static void test_limits(void **state)
{
	static const char *engines[] = {"math.js", "formula.js"};
	char *s, *open, *close;
	json_object *out = NULL;
	char err[256];

	(void)state;
	for (int k = 0; k < 2; k++) {
		const char *en = engines[k];
		/* Within the limit: fine. */
		open = repeat("(", 60, "", "");
		close = repeat(")", 60, "", "");
		s = malloc(200);
		snprintf(s, 200, "%s1%s", open, close);
		assert_int_equal(wf_expr_eval(en, s, resolve, ctx_root, &out,
					      err, sizeof(err)), 0);
		assert_string_equal(jsonx_str(out), "1");
		json_object_put(out);
		free(s);
		free(open);
		free(close);
		/* Deep parentheses, unary chains, calls, arrays. */
		const char *units[][2] = {
			{"(", ")"}, {"-", ""}, {"abs(", ")"}, {"[", "]"},
			{"1 ? 2 : (", ")"},
		};
		for (size_t u = 0; u < 5; u++) {
			open = repeat(units[u][0], 5000, "", "");
			close = repeat(units[u][1], 5000, "", "");
			s = malloc(strlen(open) + strlen(close) + 2);
			sprintf(s, "%s1%s", open, close);
			if (k == 1 && u == 2)
				s[0] = 'A', s[1] = 'B', s[2] = 'S';
			expect_error(en, s, "nested too deeply");
			free(s);
			free(open);
			free(close);
		}
		/* A long flat chain: too tall to evaluate recursively. */
		s = repeat("1+", 5000, "", "1");
		expect_error(en, s, "nested too deeply");
		free(s);
		/* Power towers recurse on the right. */
		s = repeat(k ? "2**" : "2^", 5000, "", "1");
		expect_error(en, s, "nested too deeply");
		free(s);
		/* Over the length limit. */
		s = repeat("1+", WF_EXPR_MAX_LEN / 2 + 10, "", "1");
		expect_error(en, s, "Expression too long");
		free(s);
	}
}

/* A variable holding a huge string cannot be blown up further. */
static json_object *big_resolve(void *ctx, const char *path)
{
	(void)path;
	return json_object_get(ctx);
}

static void test_string_limit(void **state)
{
	size_t n = 3u << 20;
	char *big = malloc(n + 1);
	json_object *v, *out = NULL;
	char err[256];

	(void)state;
	memset(big, 'x', n);
	big[n] = 0;
	v = json_object_new_string(big);
	free(big);
	static const struct {
		const char *engine, *expr;
	} cases[] = {
		{"math.js", "concat({{x}}, {{x}})"},
		{"formula.js", "{{x}} + {{x}}"},
		{"formula.js", "{{x}} & {{x}}"},
		{"formula.js", "CONCATENATE({{x}}, {{x}})"},
		{"formula.js", "REPT({{x}}, 2)"},
		{"formula.js", "SUBSTITUTE({{x}}, 'x', 'yy')"},
		{"string", "{{x}}{{x}}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(wf_expr_eval(cases[i].engine, cases[i].expr,
					      big_resolve, v, &out, err,
					      sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "exceeds"));
	}
	/* Work on big operands adds up, even when each result is small. */
	char *many = malloc(64 * 16 + 1);
	many[0] = 0;
	for (int i = 0; i < 30; i++)
		strcat(many, i ? " + LEN({{x}})" : "LEN({{x}})");
	assert_int_equal(wf_expr_eval("formula.js", many, big_resolve, v, &out,
				      err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "too expensive"));
	free(many);
	/* A long needle that almost matches everywhere stays linear. */
	char *needle = malloc(70000 + 16);
	memset(needle, 'x', 70000);
	strcpy(needle + 70000, "y");
	json_object *pair = json_object_new_object();
	json_object_object_add(pair, "h", json_object_get(v));
	json_object_object_add(pair, "n", json_object_new_string(needle));
	free(needle);
	assert_int_equal(wf_expr_eval("formula.js",
				      "SUBSTITUTE({{h}}, {{n}}, 'z') == {{h}}",
				      resolve, pair, &out, err, sizeof(err)),
			 0);
	assert_true(json_object_get_boolean(out));
	json_object_put(out);
	json_object_put(pair);
	/* Only one copy: fine. */
	assert_int_equal(wf_expr_eval("formula.js", "LEN({{x}})", big_resolve,
				      v, &out, err, sizeof(err)),
			 0);
	assert_int_equal(json_object_get_int64(out), (int64_t)n);
	json_object_put(out);
	json_object_put(v);
}

/* Each distinct path is resolved once. */
static int calls;
static json_object *counting_resolve(void *ctx, const char *path)
{
	(void)ctx;
	calls++;
	return json_object_new_int(strcmp(path, "a") == 0 ? 2 : 5);
}

static void test_resolve_once(void **state)
{
	json_object *out = NULL;
	char err[128];

	(void)state;
	calls = 0;
	assert_int_equal(wf_expr_eval("math.js",
				      "{{a}} * {{ a }} + {{b}} + {{a}}",
				      counting_resolve, NULL, &out, err,
				      sizeof(err)),
			 0);
	assert_string_equal(jsonx_str(out), "11");
	assert_int_equal(calls, 2);
	json_object_put(out);
	/* A NULL resolver: every variable is null. */
	assert_int_equal(wf_expr_eval("math.js", "{{a}} + 1", NULL, NULL, &out,
				      err, sizeof(err)),
			 0);
	assert_string_equal(jsonx_str(out), "1");
	json_object_put(out);
	/* NULL expression: null. */
	out = (json_object *)1;
	assert_int_equal(wf_expr_eval(NULL, NULL, NULL, NULL, &out, err,
				      sizeof(err)),
			 0);
	assert_null(out);
}

static void test_round(void **state)
{
	(void)state;
	assert_true(wf_expr_round(0.1 + 0.2, 9) == 0.3);
	assert_true(wf_expr_round(1.005, 2) == 1.01);
	assert_true(wf_expr_round(-1.005, 2) == -1.01);
	assert_true(wf_expr_round(2.5, 0) == 3);
	assert_true(wf_expr_round(-2.5, 0) == -3);
	assert_true(wf_expr_round(0.0004, 2) == 0);
	assert_true(wf_expr_round(9.995, 2) == 10);
	assert_true(wf_expr_round(1234.5, -2) == 1200);
	assert_true(wf_expr_round(1e300, 9) == 1e300);
	assert_true(wf_expr_round(123456789.123456789, 9) ==
		    123456789.123456789);
	assert_true(wf_expr_round(1.23e-12, 9) == 0);
}

/* ---- condition calculators ---------------------------------------------- */

struct lcase {
	const char *calc; /* JSON */
	int want;	  /* 1 true, 0 false, -1 error */
	const char *err;
};

static const struct lcase logic_cases[] = {
	{"null", 1, NULL},
	{"{}", 1, NULL},
	{"{\"calculator\":\"equal\"}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[]}", 1, NULL},
	{"{\"operands\":[1,2]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[1,1]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[1,\"1\"]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[\"5\",5]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[1,2]}", 0, NULL},
	{"{\"calculator\":\"==\",\"operands\":[1,1.0]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[true,1]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[\"\",0]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[null,null]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[null]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[null,0]}", 0, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[[1],1]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[\"a\",\"A\"]}", 0, NULL},
	{"{\"calculator\":\"notEqual\",\"operands\":[1,2]}", 1, NULL},
	{"{\"calculator\":\"notEqual\",\"operands\":[1,1]}", 0, NULL},
	{"{\"calculator\":\"!=\",\"operands\":[\"a\",\"b\"]}", 1, NULL},
	{"{\"calculator\":\"gt\",\"operands\":[2,1]}", 1, NULL},
	{"{\"calculator\":\"gt\",\"operands\":[1,2]}", 0, NULL},
	{"{\"calculator\":\">\",\"operands\":[\"10\",9]}", 1, NULL},
	{"{\"calculator\":\"gt\",\"operands\":[\"10\",\"9\"]}", 0, NULL},
	{"{\"calculator\":\"gt\",\"operands\":[\"abc\",1]}", 0, NULL},
	{"{\"calculator\":\"gte\",\"operands\":[2,2]}", 1, NULL},
	{"{\"calculator\":\">=\",\"operands\":[1,2]}", 0, NULL},
	{"{\"calculator\":\"lt\",\"operands\":[1,2]}", 1, NULL},
	{"{\"calculator\":\"<\",\"operands\":[null,1]}", 1, NULL},
	{"{\"calculator\":\"lte\",\"operands\":[2,2]}", 1, NULL},
	{"{\"calculator\":\"<=\",\"operands\":[3,2]}", 0, NULL},
	/* dates by time */
	{"{\"calculator\":\"equal\",\"operands\":[\"2024-01-01T00:00:00Z\","
	 "\"2024-01-01T00:00:00.000Z\"]}", 1, NULL},
	{"{\"calculator\":\"equal\",\"operands\":[\"2024-01-01T08:00:00+08:00\","
	 "\"2024-01-01T00:00:00Z\"]}", 1, NULL},
	{"{\"calculator\":\"gt\",\"operands\":[\"2024-01-02\","
	 "\"2024-01-01T12:00:00Z\"]}", 1, NULL},
	{"{\"calculator\":\"lt\",\"operands\":[\"2024-01-01T10:00:00+02:00\","
	 "\"2024-01-01T09:00:00Z\"]}", 1, NULL},
	/* includes and affixes */
	{"{\"calculator\":\"includes\",\"operands\":[[1,2,3],2]}", 1, NULL},
	{"{\"calculator\":\"includes\",\"operands\":[[1,2,3],4]}", 0, NULL},
	{"{\"calculator\":\"includes\",\"operands\":[[1,2,3],\"2\"]}", 0, NULL},
	{"{\"calculator\":\"includes\",\"operands\":[[{\"a\":1}],{\"a\":1}]}",
	 1, NULL},
	{"{\"calculator\":\"includes\",\"operands\":[\"abc\",\"b\"]}", 1, NULL},
	{"{\"calculator\":\"includes\",\"operands\":[\"a1\",1]}", 1, NULL},
	{"{\"calculator\":\"notIncludes\",\"operands\":[[1,2,3],4]}", 1, NULL},
	{"{\"calculator\":\"notIncludes\",\"operands\":[[1,2,3],2]}", 0, NULL},
	{"{\"calculator\":\"startsWith\",\"operands\":[\"abc\",\"a\"]}", 1,
	 NULL},
	{"{\"calculator\":\"startsWith\",\"operands\":[\"abc\",\"b\"]}", 0,
	 NULL},
	{"{\"calculator\":\"startsWith\",\"operands\":[123,1]}", 1, NULL},
	{"{\"calculator\":\"notStartsWith\",\"operands\":[\"abc\",\"b\"]}", 1,
	 NULL},
	{"{\"calculator\":\"endsWith\",\"operands\":[\"abc\",\"c\"]}", 1, NULL},
	{"{\"calculator\":\"endsWith\",\"operands\":[\"abc\",\"abcd\"]}", 0,
	 NULL},
	{"{\"calculator\":\"notEndsWith\",\"operands\":[\"abc\",\"c\"]}", 0,
	 NULL},
	/* groups */
	{"{\"group\":{\"type\":\"and\",\"calculations\":[]}}", 1, NULL},
	{"{\"group\":{\"type\":\"or\",\"calculations\":[]}}", 0, NULL},
	{"{\"group\":{\"type\":\"and\"}}", 1, NULL},
	{"{\"group\":{\"type\":\"and\",\"calculations\":["
	 "{\"calculator\":\"equal\",\"operands\":[1,1]},"
	 "{\"calculator\":\"gt\",\"operands\":[2,1]}]}}", 1, NULL},
	{"{\"group\":{\"type\":\"and\",\"calculations\":["
	 "{\"calculator\":\"equal\",\"operands\":[1,1]},"
	 "{\"calculator\":\"lt\",\"operands\":[1,0]}]}}", 0, NULL},
	{"{\"group\":{\"type\":\"or\",\"calculations\":["
	 "{\"calculator\":\"equal\",\"operands\":[1,2]},"
	 "{\"calculator\":\"lt\",\"operands\":[1,2]}]}}", 1, NULL},
	{"{\"group\":{\"type\":\"and\",\"calculations\":["
	 "{\"calculator\":\"equal\",\"operands\":[1,1]},"
	 "{\"group\":{\"type\":\"or\",\"calculations\":["
	 "{\"calculator\":\"gt\",\"operands\":[1,2]},"
	 "{\"calculator\":\"lt\",\"operands\":[2,1]}]}}]}}", 0, NULL},
	/* an "or" stops at the first true, so a later error is not reached */
	{"{\"group\":{\"type\":\"or\",\"calculations\":["
	 "{\"calculator\":\"equal\",\"operands\":[1,1]},"
	 "{\"calculator\":\"nope\",\"operands\":[1,1]}]}}", 1, NULL},
	/* errors */
	{"{\"calculator\":\"foo\",\"operands\":[1,1]}", -1,
	 "no calculator function registered for \"foo\""},
	{"{\"group\":{\"type\":\"and\",\"calculations\":["
	 "{\"calculator\":\"bar\",\"operands\":[1]}]}}", -1,
	 "no calculator function registered for \"bar\""},
	{"{\"group\":{\"type\":\"xor\",\"calculations\":[]}}", -1,
	 "Unknown group type \"xor\""},
	{"{\"group\":{\"type\":\"and\",\"calculations\":5}}", -1,
	 "must be an array"},
	{"{\"calculator\":\"includes\",\"operands\":[null,1]}", -1,
	 "Cannot read properties of null (reading 'includes')"},
	{"{\"calculator\":\"includes\",\"operands\":[5,1]}", -1,
	 "a.includes is not a function"},
	{"{\"calculator\":\"startsWith\",\"operands\":[\"a\",null]}", -1,
	 "Cannot read properties of null"},
};

static void test_logic(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(logic_cases) / sizeof(*logic_cases);
	     i++) {
		const struct lcase *c = &logic_cases[i];
		json_object *calc = NULL;
		char err[256] = "";
		bool r = false;
		assert_int_equal(jsonx_parse(c->calc, strlen(c->calc), 64, &calc,
					     err, sizeof(err)),
				 0);
		int rc = wf_expr_logic(calc, &r, err, sizeof(err));
		if (c->want >= 0 && (rc != 0 || r != (c->want == 1))) {
			print_error("%s: want %d, got rc=%d r=%d (%s)\n",
				    c->calc, c->want, rc, r, err);
			failed++;
		}
		/* The calculator message is NocoBase's exact text. */
		bool exact = strncmp(c->err ? c->err : "", "no calc", 7) == 0;
		if (c->want < 0 &&
		    (rc != -1 || (exact ? strcmp(err, c->err) != 0
					: strstr(err, c->err) == NULL))) {
			print_error("%s: want error '%s', got rc=%d '%s'\n",
				    c->calc, c->err, rc, err);
			failed++;
		}
		json_object_put(calc);
	}
	assert_int_equal(failed, 0);
}

static void test_logic_deep(void **state)
{
	json_object *root = json_object_new_object(), *cur = root;
	char err[256];
	bool r;

	(void)state;
	for (int i = 0; i < 200; i++) {
		json_object *g = json_object_new_object();
		json_object *list = json_object_new_array();
		json_object *next = json_object_new_object();
		json_object_object_add(g, "type",
				       json_object_new_string("and"));
		json_object_object_add(g, "calculations", list);
		json_object_array_add(list, next);
		json_object_object_add(cur, "group", g);
		cur = next;
	}
	assert_int_equal(wf_expr_logic(root, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested too deeply"));
	json_object_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_math),
		cmocka_unit_test(test_formula),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_number_types),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_string_limit),
		cmocka_unit_test(test_resolve_once),
		cmocka_unit_test(test_round),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_logic_deep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
