/* wf_expr_math: the math.js engine's functions and constants.
 *
 * Numbers only (no matrices, units, BigNumber or complex numbers):
 * sqrt(-4) and log(-1) give NaN, hence null, where math.js answers a
 * complex number.  Arrays are accepted by the statistics functions
 * (min([1,2]) and min(1,2)) and by concat.  string() prints numbers as
 * JavaScript does (math.js's format would print 123456 as 1.23456e+5);
 * concat() also accepts numbers, booleans and null (""). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonx.h"
#include "wf_expr.h"
#include "wf_expr_int.h"

enum {
	U_ABS, U_CBRT, U_EXP, U_EXPM1, U_LOG10, U_LOG2, U_LOG1P, U_SIGN,
	U_SQRT, U_SQUARE, U_CUBE, U_NEG, U_PLUS, U_SIN, U_COS, U_TAN, U_ASIN,
	U_ACOS, U_ATAN, U_SINH, U_COSH, U_TANH, U_FACT,
	U_ISNAN, U_ISINT, U_ISZERO, U_ISPOS, U_ISNEG,
};

static int num_arg(struct xeval *e, const struct xfn *f, json_object *v,
		   double *d)
{
	return mj_number(e, f->name, v, d);
}

static int f_unary(struct xeval *e, const struct xfn *f, json_object **argv,
		   int argc, json_object **out)
{
	double x, r;

	if (num_arg(e, f, argv[0], &x))
		return -1;
	switch (f->op) {
	case U_ABS: r = fabs(x); break;
	case U_CBRT: r = cbrt(x); break;
	case U_EXP: r = exp(x); break;
	case U_EXPM1: r = expm1(x); break;
	case U_LOG10: r = log10(x); break;
	case U_LOG2: r = log2(x); break;
	case U_LOG1P: r = log1p(x); break;
	case U_SIGN: r = x > 0 ? 1 : x < 0 ? -1 : x; break;
	case U_SQRT: r = sqrt(x); break;
	case U_SQUARE: r = x * x; break;
	case U_CUBE: r = x * x * x; break;
	case U_NEG: r = -x; break;
	case U_PLUS: r = x; break;
	case U_SIN: r = sin(x); break;
	case U_COS: r = cos(x); break;
	case U_TAN: r = tan(x); break;
	case U_ASIN: r = asin(x); break;
	case U_ACOS: r = acos(x); break;
	case U_ATAN: r = atan(x); break;
	case U_SINH: r = sinh(x); break;
	case U_COSH: r = cosh(x); break;
	case U_TANH: r = tanh(x); break;
	case U_FACT:
		if (x < 0 || x != floor(x))
			return wf_expr_err(
				e, "Value must be a non-negative integer");
		r = x > 170 ? INFINITY : round(tgamma(x + 1));
		break;
	case U_ISNAN: *out = wf_expr_bool(isnan(x)); return 0;
	case U_ISINT:
		*out = wf_expr_bool(isfinite(x) && x == floor(x));
		return 0;
	case U_ISZERO: *out = wf_expr_bool(x == 0); return 0;
	case U_ISPOS: *out = wf_expr_bool(x > 0); return 0;
	default: *out = wf_expr_bool(x < 0); return 0;
	}
	*out = wf_expr_num(r);
	return 0;
}

enum { R_ROUND, R_CEIL, R_FLOOR, R_FIX };

/* round/ceil/floor/fix(x[, n]) with n decimals, on decimal digits. */
static int f_round(struct xeval *e, const struct xfn *f, json_object **argv,
		   int argc, json_object **out)
{
	double x, n = 0;
	int mode;

	if (num_arg(e, f, argv[0], &x) ||
	    (argc > 1 && num_arg(e, f, argv[1], &n)))
		return -1;
	if (n != floor(n) || n < 0 || n > 15)
		return wf_expr_err(
			e,
			"Number of decimals in function %s must be in "
			"the range of 0-15",
			f->name);
	if (!isfinite(x)) {
		*out = wf_expr_num(x);
		return 0;
	}
	switch (f->op) {
	case R_ROUND: mode = 0; break;
	case R_FIX: mode = 2; break;
	case R_CEIL: mode = x > 0 ? 1 : 2; break;
	default: mode = x > 0 ? 2 : 1; break;
	}
	*out = wf_expr_num(wf_expr_round_mode(x, (int)n, mode));
	return 0;
}

static int f_log(struct xeval *e, const struct xfn *f, json_object **argv,
		 int argc, json_object **out)
{
	double x, b;

	if (num_arg(e, f, argv[0], &x))
		return -1;
	if (argc == 1) {
		*out = wf_expr_num(log(x));
		return 0;
	}
	if (num_arg(e, f, argv[1], &b))
		return -1;
	*out = wf_expr_num(log(x) / log(b));
	return 0;
}

enum { B_POW, B_MOD, B_SUB, B_DIV, B_ATAN2, B_ADD, B_MUL };

static int f_binary(struct xeval *e, const struct xfn *f, json_object **argv,
		    int argc, json_object **out)
{
	double x, y;

	if (num_arg(e, f, argv[0], &x))
		return -1;
	for (int i = 1; i < argc; i++) {
		if (num_arg(e, f, argv[i], &y))
			return -1;
		switch (f->op) {
		case B_POW: x = pow(x, y); break;
		case B_MOD: x = y == 0 ? x : x - y * floor(x / y); break;
		case B_SUB: x -= y; break;
		case B_DIV: x /= y; break;
		case B_ATAN2: x = atan2(x, y); break;
		case B_ADD: x += y; break;
		default: x *= y; break;
		}
	}
	*out = wf_expr_num(x);
	return 0;
}

enum { C_EQ, C_NE, C_GT, C_GE, C_LT, C_LE, C_CMP };

static int f_compare(struct xeval *e, const struct xfn *f, json_object **argv,
		     int argc, json_object **out)
{
	bool eq;
	int c;

	if (f->op == C_EQ || f->op == C_NE) {
		if (mj_equal(e, f->name, argv[0], argv[1], &eq))
			return -1;
		*out = wf_expr_bool(f->op == C_EQ ? eq : !eq);
		return 0;
	}
	if (mj_compare(e, f->name, argv[0], argv[1], &c))
		return -1;
	switch (f->op) {
	case C_GT: *out = wf_expr_bool(c == 1); break;
	case C_GE: *out = wf_expr_bool(c == 1 || c == 0); break;
	case C_LT: *out = wf_expr_bool(c == -1); break;
	case C_LE: *out = wf_expr_bool(c == -1 || c == 0); break;
	default: *out = c == 2 ? wf_expr_num(NAN) : wf_expr_num(c); break;
	}
	return 0;
}

enum { L_NOT, L_AND, L_OR, L_XOR };

static int f_logic(struct xeval *e, const struct xfn *f, json_object **argv,
		   int argc, json_object **out)
{
	bool a, b = false;

	if (mj_truthy(e, f->name, argv[0], &a) ||
	    (argc > 1 && mj_truthy(e, f->name, argv[1], &b)))
		return -1;
	switch (f->op) {
	case L_NOT: *out = wf_expr_bool(!a); break;
	case L_AND: *out = wf_expr_bool(a && b); break;
	case L_OR: *out = wf_expr_bool(a || b); break;
	default: *out = wf_expr_bool(a != b); break;
	}
	return 0;
}

/* Numbers of the arguments, arrays flattened (bounded depth). */
static int collect(struct xeval *e, const struct xfn *f, json_object *v,
		   struct xnums *ns, int depth)
{
	double d;

	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		if (depth > WF_EXPR_MAX_DEPTH)
			return wf_expr_err(
				e, "Array nested too deeply in function %s",
				f->name);
		if (wf_expr_step(e, (long)n))
			return -1;
		for (size_t i = 0; i < n; i++)
			if (collect(e, f, json_object_array_get_idx(v, i), ns,
				    depth + 1))
				return -1;
		return 0;
	}
	if (num_arg(e, f, v, &d))
		return -1;
	xnums_push(ns, d);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum { S_MIN, S_MAX, S_SUM, S_MEAN, S_MEDIAN, S_PROD };

static int f_stat(struct xeval *e, const struct xfn *f, json_object **argv,
		  int argc, json_object **out)
{
	struct xnums ns = {0};
	double r;

	for (int i = 0; i < argc; i++)
		if (collect(e, f, argv[i], &ns, 0)) {
			free(ns.v);
			return -1;
		}
	if (ns.n == 0 && f->op != S_SUM && f->op != S_PROD) {
		free(ns.v);
		return wf_expr_err(e, "Cannot calculate %s, empty array",
				   f->name);
	}
	r = f->op == S_PROD ? 1 : f->op == S_SUM || f->op == S_MEAN ? 0
								  : ns.v[0];
	if (f->op == S_MEDIAN) {
		qsort(ns.v, ns.n, sizeof(double), cmp_double);
		r = ns.n % 2 ? ns.v[ns.n / 2]
			     : (ns.v[ns.n / 2 - 1] + ns.v[ns.n / 2]) / 2;
	}
	for (size_t i = 0; f->op != S_MEDIAN && i < ns.n; i++) {
		double d = ns.v[i];
		switch (f->op) {
		case S_MIN: r = isnan(d) || d < r ? d : r; break;
		case S_MAX: r = isnan(d) || d > r ? d : r; break;
		case S_PROD: r *= d; break;
		default: r += d; break;
		}
	}
	if (f->op == S_MEAN)
		r /= (double)ns.n;
	free(ns.v);
	*out = wf_expr_num(r);
	return 0;
}

/* concat: arrays are concatenated; otherwise the texts are. */
static int f_concat(struct xeval *e, const struct xfn *f, json_object **argv,
		    int argc, json_object **out)
{
	int arrays = 0;
	struct buf b = {0};

	for (int i = 0; i < argc; i++)
		arrays += json_object_is_type(argv[i], json_type_array);
	if (arrays == argc) {
		json_object *r = json_object_new_array();
		for (int i = 0; i < argc; i++) {
			size_t n = json_object_array_length(argv[i]);
			if (wf_expr_step(e, (long)n)) {
				json_object_put(r);
				return -1;
			}
			for (size_t k = 0; k < n; k++)
				json_object_array_add(
					r, jsonx_ref(json_object_array_get_idx(
						   argv[i], k)));
		}
		*out = r;
		return 0;
	}
	if (arrays)
		return wf_expr_err(
			e, "Unexpected type of argument in function concat "
			   "(cannot mix arrays and scalars)");
	for (int i = 0; i < argc; i++) {
		if (json_object_is_type(argv[i], json_type_object)) {
			buf_free(&b);
			return wf_expr_err(
				e, "Unexpected type of argument in function "
				   "concat (expected: string, actual: "
				   "Object)");
		}
		char *s = jsonx_to_js_string(argv[i], true);
		size_t n = strlen(s);
		if (b.len + n > WF_EXPR_MAX_STR) {
			free(s);
			buf_free(&b);
			return wf_expr_err(e, "String result exceeds %u bytes",
					   WF_EXPR_MAX_STR);
		}
		buf_append(&b, s, n);
		free(s);
	}
	*out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
	buf_free(&b);
	return 0;
}

static int f_string(struct xeval *e, const struct xfn *f, json_object **argv,
		    int argc, json_object **out)
{
	json_object *v = argv[0];
	char *s;

	if (json_object_is_type(v, json_type_string)) {
		*out = jsonx_ref(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_array) ||
	    json_object_is_type(v, json_type_object)) {
		*out = json_object_new_string(jsonx_str(v));
		return 0;
	}
	s = js_to_string(v);
	*out = json_object_new_string(s);
	free(s);
	return 0;
}

static int f_number(struct xeval *e, const struct xfn *f, json_object **argv,
		    int argc, json_object **out)
{
	double d;
	if (num_arg(e, f, argv[0], &d))
		return -1;
	*out = wf_expr_num(d);
	return 0;
}

static int f_boolean(struct xeval *e, const struct xfn *f, json_object **argv,
		     int argc, json_object **out)
{
	json_object *v = argv[0];
	const char *s = json_object_get_string(v);

	if (json_object_is_type(v, json_type_string) &&
	    (!strcmp(s, "true") || !strcmp(s, "false"))) {
		*out = wf_expr_bool(s[0] == 't');
		return 0;
	}
	double d;
	if (num_arg(e, f, v, &d))
		return -1;
	*out = wf_expr_bool(d != 0 && !isnan(d));
	return 0;
}

static int f_typeof(struct xeval *e, const struct xfn *f, json_object **argv,
		    int argc, json_object **out)
{
	*out = json_object_new_string(xtype_name(argv[0]));
	return 0;
}

static const struct xfn math_fns[] = {
	{"abs", 1, 1, f_unary, U_ABS, NULL},
	{"acos", 1, 1, f_unary, U_ACOS, NULL},
	{"add", 2, -1, f_binary, B_ADD, NULL},
	{"and", 2, 2, f_logic, L_AND, NULL},
	{"asin", 1, 1, f_unary, U_ASIN, NULL},
	{"atan", 1, 1, f_unary, U_ATAN, NULL},
	{"atan2", 2, 2, f_binary, B_ATAN2, NULL},
	{"boolean", 1, 1, f_boolean, 0, NULL},
	{"cbrt", 1, 1, f_unary, U_CBRT, NULL},
	{"ceil", 1, 2, f_round, R_CEIL, NULL},
	{"compare", 2, 2, f_compare, C_CMP, NULL},
	{"concat", 1, -1, f_concat, 0, NULL},
	{"cos", 1, 1, f_unary, U_COS, NULL},
	{"cosh", 1, 1, f_unary, U_COSH, NULL},
	{"cube", 1, 1, f_unary, U_CUBE, NULL},
	{"divide", 2, 2, f_binary, B_DIV, NULL},
	{"equal", 2, 2, f_compare, C_EQ, NULL},
	{"exp", 1, 1, f_unary, U_EXP, NULL},
	{"expm1", 1, 1, f_unary, U_EXPM1, NULL},
	{"factorial", 1, 1, f_unary, U_FACT, NULL},
	{"fix", 1, 2, f_round, R_FIX, NULL},
	{"floor", 1, 2, f_round, R_FLOOR, NULL},
	{"format", 1, 1, f_string, 0, NULL},
	{"isInteger", 1, 1, f_unary, U_ISINT, NULL},
	{"isNaN", 1, 1, f_unary, U_ISNAN, NULL},
	{"isNegative", 1, 1, f_unary, U_ISNEG, NULL},
	{"isPositive", 1, 1, f_unary, U_ISPOS, NULL},
	{"isZero", 1, 1, f_unary, U_ISZERO, NULL},
	{"larger", 2, 2, f_compare, C_GT, NULL},
	{"largerEq", 2, 2, f_compare, C_GE, NULL},
	{"log", 1, 2, f_log, 0, NULL},
	{"log10", 1, 1, f_unary, U_LOG10, NULL},
	{"log1p", 1, 1, f_unary, U_LOG1P, NULL},
	{"log2", 1, 1, f_unary, U_LOG2, NULL},
	{"max", 1, -1, f_stat, S_MAX, NULL},
	{"mean", 1, -1, f_stat, S_MEAN, NULL},
	{"median", 1, -1, f_stat, S_MEDIAN, NULL},
	{"min", 1, -1, f_stat, S_MIN, NULL},
	{"mod", 2, 2, f_binary, B_MOD, NULL},
	{"multiply", 2, -1, f_binary, B_MUL, NULL},
	{"not", 1, 1, f_logic, L_NOT, NULL},
	{"number", 1, 1, f_number, 0, NULL},
	{"or", 2, 2, f_logic, L_OR, NULL},
	{"pow", 2, 2, f_binary, B_POW, NULL},
	{"prod", 1, -1, f_stat, S_PROD, NULL},
	{"round", 1, 2, f_round, R_ROUND, NULL},
	{"sign", 1, 1, f_unary, U_SIGN, NULL},
	{"sin", 1, 1, f_unary, U_SIN, NULL},
	{"sinh", 1, 1, f_unary, U_SINH, NULL},
	{"smaller", 2, 2, f_compare, C_LT, NULL},
	{"smallerEq", 2, 2, f_compare, C_LE, NULL},
	{"sqrt", 1, 1, f_unary, U_SQRT, NULL},
	{"square", 1, 1, f_unary, U_SQUARE, NULL},
	{"string", 1, 1, f_string, 0, NULL},
	{"subtract", 2, 2, f_binary, B_SUB, NULL},
	{"sum", 0, -1, f_stat, S_SUM, NULL},
	{"tan", 1, 1, f_unary, U_TAN, NULL},
	{"tanh", 1, 1, f_unary, U_TANH, NULL},
	{"typeOf", 1, 1, f_typeof, 0, NULL},
	{"unaryMinus", 1, 1, f_unary, U_NEG, NULL},
	{"unaryPlus", 1, 1, f_unary, U_PLUS, NULL},
	{"unequal", 2, 2, f_compare, C_NE, NULL},
	{"xor", 2, 2, f_logic, L_XOR, NULL},
};

const struct xfn *xmath_find(const char *name)
{
	size_t lo = 0, hi = sizeof(math_fns) / sizeof(*math_fns);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, math_fns[mid].name);
		if (c == 0)
			return &math_fns[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool xmath_const(const char *name, json_object **out)
{
	static const struct {
		const char *name;
		double v;
	} nums[] = {
		{"pi", M_PI}, {"PI", M_PI}, {"e", M_E}, {"E", M_E},
		{"tau", 2 * M_PI}, {"phi", 1.6180339887498949},
		{"LN2", M_LN2}, {"LN10", M_LN10}, {"LOG2E", M_LOG2E},
		{"LOG10E", M_LOG10E}, {"SQRT2", M_SQRT2},
		{"SQRT1_2", M_SQRT1_2}, {"Infinity", INFINITY}, {"NaN", NAN},
	};

	if (!strcmp(name, "true") || !strcmp(name, "false")) {
		*out = wf_expr_bool(name[0] == 't');
		return true;
	}
	if (!strcmp(name, "null") || !strcmp(name, "undefined")) {
		*out = NULL;
		return true;
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++)
		if (!strcmp(name, nums[i].name)) {
			*out = wf_expr_num(nums[i].v);
			return true;
		}
	return false;
}
