/* wf_expr_eval: walking the AST of wf_expr.c.  Operators follow math.js
 * (numbers with conversion, epsilon comparisons) or JavaScript (for
 * formula.js); functions live in wf_expr_fn.c. */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_expr.h"
#include "wf_expr_int.h"

int wf_expr_err(struct xeval *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->err, e->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int wf_expr_step(struct xeval *e, long n)
{
	e->steps += n;
	if (e->steps > WF_EXPR_MAX_STEPS)
		return wf_expr_err(
			e, "Expression too expensive (more than %ld steps)",
			WF_EXPR_MAX_STEPS);
	return 0;
}

/* Size of v, walking at most until cap. */
static size_t weight(json_object *v, size_t cap, int depth)
{
	size_t w = 1;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return (size_t)json_object_get_string_len(v) + 1;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v) && w <= cap;
		     i++)
			w += depth > WF_EXPR_MAX_DEPTH
				     ? cap
				     : weight(json_object_array_get_idx(v, i),
					      cap - w, depth + 1);
		return w;
	case json_type_object: {
		json_object_object_foreach(v, k, val) {
			if (w > cap)
				break;
			w += strlen(k) + (depth > WF_EXPR_MAX_DEPTH
						  ? cap
						  : weight(val, cap - w,
							   depth + 1));
		}
		return w;
	}
	default:
		return 1;
	}
}

int wf_expr_work(struct xeval *e, json_object *v)
{
	size_t left = WF_EXPR_MAX_WORK - e->work;
	size_t w = weight(v, left, 0);

	if (w > left)
		return wf_expr_err(
			e,
			"Expression too expensive (works on more than "
			"%u bytes)",
			WF_EXPR_MAX_WORK);
	e->work += w;
	return 0;
}

json_object *wf_expr_num(double d)
{
	return json_object_new_double(d);
}

json_object *wf_expr_bool(bool b)
{
	return json_object_new_boolean(b);
}

bool xis_num(json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	       json_object_is_type(v, json_type_double);
}

double xget_num(json_object *v)
{
	if (json_object_is_type(v, json_type_int))
		return (double)json_object_get_int64(v);
	return json_object_get_double(v);
}

const char *xtype_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_int:
	case json_type_double: return "number";
	case json_type_string: return "string";
	case json_type_array: return "Array";
	default: return "Object";
	}
}

void xnums_push(struct xnums *ns, double d)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		ns->v = util_xrealloc(ns->v, cap * sizeof(*ns->v));
		ns->cap = cap;
	}
	ns->v[ns->n++] = d;
}

const struct xfn *xfn_find(enum xengine engine, const char *name)
{
	return engine == XE_MATH ? xmath_find(name) : xformula_find(name);
}

bool xconst_find(enum xengine engine, const char *name, json_object **out)
{
	return engine == XE_MATH ? xmath_const(name, out)
				 : xformula_const(name, out);
}

/* ---- math.js conversions ---------------------------------------------- */

int mj_number(struct xeval *e, const char *fname, json_object *v,
	      double *out)
{
	switch (json_object_get_type(v)) {
	case json_type_null: *out = 0; return 0;
	case json_type_boolean: *out = json_object_get_boolean(v); return 0;
	case json_type_int:
	case json_type_double: *out = xget_num(v); return 0;
	case json_type_string:
		*out = js_to_number(v);
		if (isnan(*out))
			return wf_expr_err(
				e, "Cannot convert \"%.64s\" to a number",
				json_object_get_string(v));
		return 0;
	default:
		return wf_expr_err(e,
				   "Unexpected type of argument in function %s "
				   "(expected: number, actual: %s)",
				   fname, xtype_name(v));
	}
}

/* math.js nearlyEqual with its default epsilon 1e-12. */
static bool nearly_equal(double x, double y)
{
	if (x == y)
		return true;
	if (isnan(x) || isnan(y) || !isfinite(x) || !isfinite(y))
		return false;
	double diff = fabs(x - y);
	if (diff <= DBL_EPSILON)
		return true;
	return diff <= fmax(fabs(x), fabs(y)) * 1e-12;
}

static bool both_strings(json_object *a, json_object *b)
{
	return json_object_is_type(a, json_type_string) &&
	       json_object_is_type(b, json_type_string);
}

int mj_compare(struct xeval *e, const char *fname, json_object *a,
	       json_object *b, int *out)
{
	double x, y;

	if (both_strings(a, b)) {
		int c = strcmp(json_object_get_string(a),
			       json_object_get_string(b));
		*out = c < 0 ? -1 : c > 0;
		return 0;
	}
	if (mj_number(e, fname, a, &x) || mj_number(e, fname, b, &y))
		return -1;
	*out = isnan(x) || isnan(y) ? 2 : nearly_equal(x, y) ? 0
					   : x < y		? -1
								: 1;
	return 0;
}

int mj_equal(struct xeval *e, const char *fname, json_object *a,
	     json_object *b, bool *out)
{
	int c;

	if (!a || !b) {
		*out = !a && !b;
		return 0;
	}
	if (both_strings(a, b)) {
		*out = js_strict_eq(a, b);
		return 0;
	}
	if (mj_compare(e, fname, a, b, &c))
		return -1;
	*out = c == 0;
	return 0;
}

int mj_truthy(struct xeval *e, const char *fname, json_object *v, bool *out)
{
	double d;
	if (mj_number(e, fname, v, &d))
		return -1;
	*out = d != 0 && !isnan(d);
	return 0;
}

/* ---- operators ------------------------------------------------------- */

static const char *mj_fname(int op)
{
	switch (op) {
	case OP_ADD: return "add";
	case OP_SUB: return "subtract";
	case OP_MUL: return "multiply";
	case OP_DIV: return "divide";
	case OP_MOD: return "mod";
	case OP_POW: return "pow";
	case OP_EQ: return "equal";
	case OP_NE: return "unequal";
	case OP_LT: return "smaller";
	case OP_LE: return "smallerEq";
	case OP_GT: return "larger";
	case OP_GE: return "largerEq";
	case OP_NEG: return "unaryMinus";
	case OP_PLUS: return "unaryPlus";
	case OP_FACT: return "factorial";
	case OP_XOR: return "xor";
	case OP_AND: return "and";
	case OP_OR: return "or";
	default: return "not";
	}
}

static double js_pow(double x, double y)
{
	/* JS differs from C pow: 1 ** NaN and 1 ** Infinity are NaN. */
	if (isnan(y) || (fabs(x) == 1 && isinf(y)))
		return NAN;
	return pow(x, y);
}

static double mj_mod(double x, double y)
{
	if (y == 0)
		return x;
	return x - y * floor(x / y);
}

static int unary(struct xeval *e, int op, json_object *a, json_object **out)
{
	double d;
	bool t;

	if (e->engine == XE_FORMULA) {
		if (op == OP_NOT)
			*out = wf_expr_bool(!jsonx_truthy(a));
		else
			*out = wf_expr_num(op == OP_NEG ? -js_to_number(a)
							: js_to_number(a));
		return 0;
	}
	if (op == OP_NOT) {
		if (mj_truthy(e, "not", a, &t))
			return -1;
		*out = wf_expr_bool(!t);
		return 0;
	}
	if (mj_number(e, mj_fname(op), a, &d))
		return -1;
	if (op == OP_FACT) {
		if (d < 0)
			return wf_expr_err(e, "Value must be non-negative");
		d = d == floor(d) && d <= 170 ? round(tgamma(d + 1))
					      : tgamma(d + 1);
	}
	*out = wf_expr_num(op == OP_NEG ? -d : d);
	return 0;
}

static int fx_text_cat(struct xeval *e, json_object *a, json_object *b,
		       json_object **out);

static int binary_formula(struct xeval *e, int op, json_object *a,
			  json_object *b, json_object **out)
{
	enum js_cmp c;
	double x, y;

	switch (op) {
	case OP_ADD:
		if (js_add(a, b, out))
			return wf_expr_err(e, "String result exceeds %u bytes",
					   WF_EXPR_MAX_STR);
		return 0;
	case OP_CAT:
		return fx_text_cat(e, a, b, out);
	case OP_EQ: *out = wf_expr_bool(js_loose_eq(a, b)); return 0;
	case OP_NE: *out = wf_expr_bool(!js_loose_eq(a, b)); return 0;
	case OP_SEQ: *out = wf_expr_bool(js_strict_eq(a, b)); return 0;
	case OP_SNE: *out = wf_expr_bool(!js_strict_eq(a, b)); return 0;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		c = js_compare(a, b);
		*out = wf_expr_bool(op == OP_LT   ? c == JS_LT
				    : op == OP_GT ? c == JS_GT
				    : op == OP_LE ? c == JS_LT || c == JS_EQ
						  : c == JS_GT || c == JS_EQ);
		return 0;
	default:
		break;
	}
	x = js_to_number(a);
	y = js_to_number(b);
	switch (op) {
	case OP_SUB: *out = wf_expr_num(x - y); break;
	case OP_MUL: *out = wf_expr_num(x * y); break;
	case OP_DIV: *out = wf_expr_num(x / y); break;
	case OP_MOD: *out = wf_expr_num(fmod(x, y)); break;
	default: *out = wf_expr_num(js_pow(x, y)); break;
	}
	return 0;
}

static int binary_math(struct xeval *e, int op, json_object *a,
		       json_object *b, json_object **out)
{
	const char *fn = mj_fname(op);
	double x, y;
	bool t, u;
	int c;

	switch (op) {
	case OP_EQ:
	case OP_NE:
		if (mj_equal(e, fn, a, b, &t))
			return -1;
		*out = wf_expr_bool(op == OP_EQ ? t : !t);
		return 0;
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		if (mj_compare(e, fn, a, b, &c))
			return -1;
		*out = wf_expr_bool(c != 2 && (op == OP_LT   ? c < 0
					       : op == OP_GT ? c > 0
					       : op == OP_LE ? c <= 0
							     : c >= 0));
		return 0;
	case OP_XOR:
		if (mj_truthy(e, fn, a, &t) || mj_truthy(e, fn, b, &u))
			return -1;
		*out = wf_expr_bool(t != u);
		return 0;
	default:
		break;
	}
	if (mj_number(e, fn, a, &x) || mj_number(e, fn, b, &y))
		return -1;
	switch (op) {
	case OP_ADD: *out = wf_expr_num(x + y); break;
	case OP_SUB: *out = wf_expr_num(x - y); break;
	case OP_MUL: *out = wf_expr_num(x * y); break;
	case OP_DIV: *out = wf_expr_num(x / y); break;
	case OP_MOD: *out = wf_expr_num(mj_mod(x, y)); break;
	default: *out = wf_expr_num(pow(x, y)); break;
	}
	return 0;
}

/* Excel's &: text of both sides (null "", TRUE/FALSE). */
static int fx_text_cat(struct xeval *e, json_object *a, json_object *b,
		       json_object **out)
{
	json_object *parts[2] = {a, b};
	char *s[2];
	size_t n[2];

	for (int i = 0; i < 2; i++) {
		if (json_object_is_type(parts[i], json_type_boolean))
			s[i] = util_xstrdup(json_object_get_boolean(parts[i])
						    ? "TRUE"
						    : "FALSE");
		else
			s[i] = jsonx_to_js_string(parts[i], true);
		n[i] = strlen(s[i]);
	}
	int rc = 0;
	if (n[0] + n[1] > WF_EXPR_MAX_STR) {
		rc = wf_expr_err(e, "String result exceeds %u bytes",
				 WF_EXPR_MAX_STR);
	} else {
		char *r = util_xmalloc(n[0] + n[1] + 1);
		memcpy(r, s[0], n[0]);
		memcpy(r + n[0], s[1], n[1] + 1);
		*out = json_object_new_string_len(r, (int)(n[0] + n[1]));
		free(r);
	}
	free(s[0]);
	free(s[1]);
	return rc;
}

/* ---- nodes -------------------------------------------------------------- */

static int eval_logic(struct xeval *e, struct xnode *x, json_object **out)
{
	json_object *a = NULL;
	bool t;

	if (xeval_node(e, x->a, &a))
		return -1;
	if (e->engine == XE_FORMULA) {
		/* JS && and || yield an operand, not a boolean. */
		t = jsonx_truthy(a);
		if ((x->op == OP_AND) != t) {
			*out = a;
			return 0;
		}
		json_object_put(a);
		return xeval_node(e, x->b, out);
	}
	if (mj_truthy(e, mj_fname(x->op), a, &t)) {
		json_object_put(a);
		return -1;
	}
	json_object_put(a);
	if ((x->op == OP_AND) != t) {
		*out = wf_expr_bool(t);
		return 0;
	}
	if (xeval_node(e, x->b, &a))
		return -1;
	int rc = mj_truthy(e, mj_fname(x->op), a, &t);
	json_object_put(a);
	if (rc)
		return -1;
	*out = wf_expr_bool(t);
	return 0;
}

static int eval_cond(struct xeval *e, struct xnode *x, json_object **out)
{
	json_object *c = NULL;
	bool t;

	if (xeval_node(e, x->a, &c))
		return -1;
	if (e->engine == XE_MATH && (json_object_is_type(c, json_type_array) ||
				     json_object_is_type(c, json_type_object))) {
		wf_expr_err(e, "Unsupported type of condition \"%s\"",
			    xtype_name(c));
		json_object_put(c);
		return -1;
	}
	t = jsonx_truthy(c);
	json_object_put(c);
	return xeval_node(e, t ? x->b : x->c, out);
}

static int eval_call(struct xeval *e, int n, json_object **out)
{
	struct xnode *x = &e->nodes[n];
	const struct xfn *f = xfn_find(e->engine, x->name);
	json_object **argv;
	int argc = x->nargs, i = 0, rc = -1;

	if (!f) {
		json_object *tmp = NULL;
		if (xconst_find(e->engine, x->name, &tmp)) {
			json_object_put(tmp);
			return wf_expr_err(e, "%s is not a function", x->name);
		}
		return e->engine == XE_MATH
			       ? wf_expr_err(e, "Undefined function %s",
					     x->name)
			       : wf_expr_err(e, "%s is not defined", x->name);
	}
	if (argc < f->min)
		return wf_expr_err(
			e,
			"Too few arguments in function %s (expected: "
			"%d, actual: %d)",
			f->name, f->min, argc);
	if (f->max >= 0 && argc > f->max)
		return wf_expr_err(
			e,
			"Too many arguments in function %s (expected: "
			"%d, actual: %d)",
			f->name, f->max, argc);
	if (f->lazy)
		return f->lazy(e, f, n, out);
	argv = util_xcalloc((size_t)argc + 1, sizeof(*argv));
	for (int a = x->args; a >= 0; a = e->nodes[a].next, i++)
		if (xeval_node(e, a, &argv[i]) || wf_expr_work(e, argv[i]))
			goto out;
	rc = f->call(e, f, argv, argc, out);
	if (rc == 0 && json_object_is_type(*out, json_type_string) &&
	    wf_expr_work(e, *out)) {
		json_object_put(*out);
		*out = NULL;
		rc = -1;
	}
out:
	for (int k = 0; k < argc; k++)
		json_object_put(argv[k]);
	free(argv);
	return rc;
}

static int eval_member(struct xeval *e, struct xnode *x, json_object **out)
{
	json_object *o = NULL, *v = NULL, *key = NULL;
	char *k = NULL;
	int rc = -1;

	if (xeval_node(e, x->a, &o))
		return -1;
	if (x->kind == N_INDEX) {
		if (xeval_node(e, x->b, &key))
			goto out;
		k = js_to_string(key);
	} else {
		k = util_xstrdup(x->name);
	}
	if (!o) {
		rc = e->engine == XE_MATH
			     ? wf_expr_err(e,
					   "Cannot get property \"%s\" of null",
					   k)
			     : wf_expr_err(e,
					   "Cannot read properties of null "
					   "(reading '%s')",
					   k);
		goto out;
	}
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_get_ex(o, k, &v);
		*out = jsonx_ref(v);
	} else if (json_object_is_type(o, json_type_array) ||
		   json_object_is_type(o, json_type_string)) {
		bool arr = json_object_is_type(o, json_type_array);
		const char *s = json_object_get_string(o);
		size_t bytes = (size_t)json_object_get_string_len(o);
		size_t n = arr ? json_object_array_length(o) : utf8_len(s, bytes);
		double d = key ? js_to_number(key) : NAN;
		if (strcmp(k, "length") == 0) {
			*out = wf_expr_num((double)n);
		} else if (e->engine == XE_FORMULA && d >= 0 && d < (double)n &&
			   d == floor(d)) {
			if (arr) {
				*out = jsonx_ref(json_object_array_get_idx(
					o, (size_t)d));
			} else {
				size_t b0 = utf8_offset(s, bytes, (size_t)d);
				size_t b1 = utf8_offset(s, bytes, (size_t)d + 1);
				*out = json_object_new_string_len(s + b0,
								  (int)(b1 - b0));
			}
		}
	} else if (e->engine == XE_MATH) {
		rc = wf_expr_err(e, "Cannot get property \"%s\" of a %s", k,
				 xtype_name(o));
		goto out;
	}
	rc = 0;
out:
	free(k);
	json_object_put(o);
	json_object_put(key);
	return rc;
}

int xeval_node(struct xeval *e, int n, json_object **out)
{
	struct xnode *x = &e->nodes[n];
	json_object *a = NULL, *b = NULL;
	int rc = -1;

	*out = NULL;
	if (wf_expr_step(e, 1))
		return -1;
	switch (x->kind) {
	case N_CONST:
		*out = jsonx_ref(x->v);
		return 0;
	case N_SYM:
		if (xconst_find(e->engine, x->name, out))
			return 0;
		if (xfn_find(e->engine, x->name))
			return wf_expr_err(e, "Function %s used as a value",
					   x->name);
		return e->engine == XE_MATH
			       ? wf_expr_err(e, "Undefined symbol %s", x->name)
			       : wf_expr_err(e, "%s is not defined", x->name);
	case N_ARRAY: {
		json_object *arr = json_object_new_array_ext(x->nargs);
		for (int k = x->args; k >= 0; k = e->nodes[k].next) {
			if (xeval_node(e, k, &a)) {
				json_object_put(arr);
				return -1;
			}
			json_object_array_add(arr, a);
		}
		*out = arr;
		return 0;
	}
	case N_UNARY:
		if (xeval_node(e, x->a, &a) || wf_expr_work(e, a)) {
			json_object_put(a);
			return -1;
		}
		rc = unary(e, x->op, a, out);
		json_object_put(a);
		return rc;
	case N_BINARY:
		if (x->op == OP_AND || x->op == OP_OR)
			return eval_logic(e, x, out);
		if (xeval_node(e, x->a, &a) || xeval_node(e, x->b, &b) ||
		    wf_expr_work(e, a) || wf_expr_work(e, b))
			goto out;
		rc = e->engine == XE_MATH ? binary_math(e, x->op, a, b, out)
					  : binary_formula(e, x->op, a, b, out);
		if (rc == 0 && wf_expr_work(e, *out)) {
			json_object_put(*out);
			*out = NULL;
			rc = -1;
		}
		goto out;
	case N_COND:
		return eval_cond(e, x, out);
	case N_CALL:
		return eval_call(e, n, out);
	case N_MEMBER:
	case N_INDEX:
		return eval_member(e, x, out);
	default: return wf_expr_err(e, "internal: bad node");
	}
out:
	json_object_put(a);
	json_object_put(b);
	return rc;
}
