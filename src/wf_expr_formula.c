/* wf_expr_formula: the formula.js engine's functions and constants.
 *
 * Excel functions as Formula.js implements them, with these choices:
 * Excel errors (#VALUE!, #DIV/0!, #NUM!) are evaluation errors instead of
 * error values; number arguments accept numbers, booleans, null (0) and
 * numeric strings; SUM, AVERAGE, MIN, MAX and PRODUCT flatten arrays and
 * take numbers and numeric strings, skipping other values; ROUND,
 * ROUNDUP, ROUNDDOWN and TRUNC work on decimal digits (ROUND(1.005, 2) is
 * 1.01) and default to 0 digits; text functions count Unicode code points
 * and UPPER/LOWER change ASCII letters only.  Also available: Math.*,
 * Number, String, Boolean, parseFloat, parseInt, isNaN, isFinite. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonx.h"
#include "util.h"
#include "wf_expr.h"
#include "wf_expr_int.h"

/* Formula.js parseNumber. */
static int fx_num(struct xeval *e, const struct xfn *f, json_object *v,
		  int i, double *d)
{
	switch (json_object_get_type(v)) {
	case json_type_null: *d = 0; return 0;
	case json_type_boolean: *d = json_object_get_boolean(v); return 0;
	case json_type_int:
	case json_type_double: *d = xget_num(v); return 0;
	case json_type_string:
		*d = js_to_number(v);
		if (!isnan(*d))
			return 0;
		/* fall through */
	default:
		return wf_expr_err(e,
				   "%s: #VALUE! (argument %d is not a number)",
				   f->name, i + 1);
	}
}

/* Excel text of a value: null "", TRUE/FALSE, else JS String(). */
static char *fx_text(json_object *v)
{
	if (json_object_is_type(v, json_type_boolean))
		return util_xstrdup(json_object_get_boolean(v) ? "TRUE"
								  : "FALSE");
	return jsonx_to_js_string(v, true);
}

static json_object *str_n(const char *s, size_t n)
{
	return json_object_new_string_len(s, (int)n);
}

static int too_long(struct xeval *e)
{
	return wf_expr_err(e, "String result exceeds %u bytes",
			   WF_EXPR_MAX_STR);
}

/* Visit every leaf of the arguments, arrays flattened. */
typedef int (*leaf_fn)(struct xeval *e, json_object *v, void *arg);

static int each_leaf(struct xeval *e, json_object *v, leaf_fn fn, void *arg,
		     int depth)
{
	if (!json_object_is_type(v, json_type_array))
		return fn(e, v, arg);
	size_t n = json_object_array_length(v);
	if (depth > WF_EXPR_MAX_DEPTH)
		return wf_expr_err(e, "Array nested too deeply");
	if (wf_expr_step(e, (long)n))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (each_leaf(e, json_object_array_get_idx(v, i), fn, arg,
			      depth + 1))
			return -1;
	return 0;
}

static int each_arg(struct xeval *e, json_object **argv, int argc, leaf_fn fn,
		    void *arg)
{
	for (int i = 0; i < argc; i++)
		if (each_leaf(e, argv[i], fn, arg, 0))
			return -1;
	return 0;
}

/* ---- statistics --------------------------------------------------------- */

static int leaf_number(struct xeval *e, json_object *v, void *arg)
{
	double d;
	if (xis_num(v)) {
		xnums_push(arg, xget_num(v));
	} else if (json_object_is_type(v, json_type_string) &&
		   json_object_get_string_len(v) > 0 &&
		   !isnan(d = js_to_number(v))) {
		xnums_push(arg, d);
	}
	return 0;
}

static int leaf_count(struct xeval *e, json_object *v, void *arg)
{
	xnums_push(arg, xis_num(v) ? 1 : 0);
	return 0;
}

enum { S_SUM, S_AVERAGE, S_MIN, S_MAX, S_PRODUCT, S_COUNT, S_COUNTA };

static int f_stat(struct xeval *e, const struct xfn *f, json_object **argv,
		  int argc, json_object **out)
{
	struct xnums ns = {0};
	double r = 0;

	if (each_arg(e, argv, argc,
		     f->op >= S_COUNT ? leaf_count : leaf_number, &ns)) {
		free(ns.v);
		return -1;
	}
	if (f->op == S_AVERAGE && ns.n == 0) {
		free(ns.v);
		return wf_expr_err(e, "AVERAGE: #DIV/0! (no numbers)");
	}
	if (f->op == S_PRODUCT && ns.n)
		r = 1;
	if ((f->op == S_MIN || f->op == S_MAX) && ns.n)
		r = ns.v[0];
	for (size_t i = 0; i < ns.n; i++) {
		double d = ns.v[i];
		switch (f->op) {
		case S_MIN: r = d < r ? d : r; break;
		case S_MAX: r = d > r ? d : r; break;
		case S_PRODUCT: r *= d; break;
		case S_COUNTA: r += 1; break;
		default: r += d; break;
		}
	}
	if (f->op == S_AVERAGE)
		r /= (double)ns.n;
	free(ns.v);
	*out = wf_expr_num(r);
	return 0;
}

/* ---- numbers ------------------------------------------------------------ */

enum {
	M_ROUND, M_ROUNDUP, M_ROUNDDOWN, M_TRUNC, M_INT, M_ABS, M_SQRT,
	M_EXP, M_LN, M_LOG10, M_SIGN, M_MOD, M_POWER, M_LOG, M_CEILING,
	M_FLOOR,
};

static int f_num(struct xeval *e, const struct xfn *f, json_object **argv,
		 int argc, json_object **out)
{
	double x, y = 0, r;

	if (fx_num(e, f, argv[0], 0, &x) ||
	    (argc > 1 && fx_num(e, f, argv[1], 1, &y)))
		return -1;
	switch (f->op) {
	case M_ROUND:
	case M_ROUNDUP:
	case M_ROUNDDOWN:
	case M_TRUNC:
		y = trunc(fmax(fmin(y, 400), -400));
		r = wf_expr_round_mode(x, (int)y,
				       f->op == M_ROUND     ? 0
				       : f->op == M_ROUNDUP ? 1
							    : 2);
		break;
	case M_INT: r = floor(x); break;
	case M_ABS: r = fabs(x); break;
	case M_SQRT:
		if (x < 0)
			return wf_expr_err(e,
					   "SQRT: #NUM! (negative argument)");
		r = sqrt(x);
		break;
	case M_EXP: r = exp(x); break;
	case M_LN:
	case M_LOG10:
	case M_LOG:
		if (x <= 0 || (f->op == M_LOG && argc > 1 && y <= 0))
			return wf_expr_err(
				e, "%s: #NUM! (argument must be positive)",
				f->name);
		r = f->op == M_LN ? log(x) : f->op == M_LOG10 || argc == 1
				      ? log10(x) : log(x) / log(y);
		break;
	case M_SIGN: r = x > 0 ? 1 : x < 0 ? -1 : 0; break;
	case M_MOD:
		if (y == 0)
			return wf_expr_err(e, "MOD: #DIV/0! (divisor is 0)");
		r = x - y * floor(x / y);
		break;
	case M_POWER:
		r = pow(x, y);
		if (isnan(r))
			return wf_expr_err(
				e, "POWER: #NUM! (result is not a number)");
		break;
	default: /* CEILING, FLOOR to a multiple of significance */
		if (argc == 1)
			y = 1;
		if (y == 0) {
			r = 0;
			break;
		}
		if (x > 0 && y < 0)
			return wf_expr_err(e,
					   "%s: #NUM! (significance has the "
					   "wrong sign)",
					   f->name);
		r = (f->op == M_CEILING ? ceil(x / y) : floor(x / y)) * y;
		/* an infinite significance has no precision: cast to int,
		 * -inf was undefined behaviour (found with fuzz_formulajs) */
		double prec = -floor(log10(fabs(y)));
		if (isfinite(prec) && prec > 0)
			r = wf_expr_round_mode(r, (int)fmin(prec, 400), 0);
		break;
	}
	*out = wf_expr_num(r);
	return 0;
}

static int f_pi(struct xeval *e, const struct xfn *f, json_object **argv,
		int argc, json_object **out)
{
	*out = wf_expr_num(M_PI);
	return 0;
}

/* ---- logic -------------------------------------------------------------- */

static int f_if(struct xeval *e, const struct xfn *f, int call,
		json_object **out)
{
	const struct xnode *x = &e->nodes[call];
	int a = x->args, then = e->nodes[a].next, other = -1;
	json_object *c = NULL;

	if (then >= 0)
		other = e->nodes[then].next;
	if (xeval_node(e, a, &c))
		return -1;
	bool t = jsonx_truthy(c);
	json_object_put(c);
	int pick = t ? then : other;
	if (pick < 0) {
		*out = wf_expr_bool(t);
		return 0;
	}
	if (xeval_node(e, pick, out))
		return -1;
	if (!*out)
		*out = wf_expr_num(0); /* Formula.js: a null branch yields 0 */
	return 0;
}

struct logic_acc {
	int seen, trues;
};

static int leaf_logic(struct xeval *e, json_object *v, void *arg)
{
	struct logic_acc *acc = arg;
	if (!v || json_object_is_type(v, json_type_string))
		return 0;
	acc->seen++;
	acc->trues += jsonx_truthy(v);
	return 0;
}

enum { G_AND, G_OR, G_XOR };

static int f_logic(struct xeval *e, const struct xfn *f, json_object **argv,
		   int argc, json_object **out)
{
	struct logic_acc acc = {0, 0};

	if (each_arg(e, argv, argc, leaf_logic, &acc))
		return -1;
	if (!acc.seen)
		return wf_expr_err(e, "%s: #VALUE! (no logical values)",
				   f->name);
	*out = wf_expr_bool(f->op == G_AND  ? acc.trues == acc.seen
			    : f->op == G_OR ? acc.trues > 0
					    : acc.trues % 2 == 1);
	return 0;
}

static int f_not(struct xeval *e, const struct xfn *f, json_object **argv,
		 int argc, json_object **out)
{
	if (json_object_is_type(argv[0], json_type_string))
		return wf_expr_err(e, "NOT: #VALUE! (argument is text)");
	*out = wf_expr_bool(!jsonx_truthy(argv[0]));
	return 0;
}

static int f_bool(struct xeval *e, const struct xfn *f, json_object **argv,
		  int argc, json_object **out)
{
	*out = wf_expr_bool(f->op);
	return 0;
}

enum { I_BLANK, I_NUMBER, I_TEXT };

static int f_is(struct xeval *e, const struct xfn *f, json_object **argv,
		int argc, json_object **out)
{
	json_object *v = argv[0];
	switch (f->op) {
	case I_BLANK: *out = wf_expr_bool(!v); break;
	case I_NUMBER:
		*out = wf_expr_bool(xis_num(v) && isfinite(xget_num(v)));
		break;
	default: *out = wf_expr_bool(json_object_is_type(v, json_type_string));
	}
	return 0;
}

/* ---- text --------------------------------------------------------------- */

struct join {
	struct buf b;
	const char *sep;
	bool skip_empty, any;
};

static int leaf_join(struct xeval *e, json_object *v, void *arg)
{
	struct join *j = arg;
	char *s = fx_text(v);
	size_t n = strlen(s), sl = j->sep ? strlen(j->sep) : 0;

	if (j->skip_empty && n == 0) {
		free(s);
		return 0;
	}
	if (j->b.len + n + sl > WF_EXPR_MAX_STR) {
		free(s);
		return too_long(e);
	}
	if (j->any && sl)
		buf_append(&j->b, j->sep, sl);
	buf_append(&j->b, s, n);
	j->any = true;
	free(s);
	return 0;
}

static int f_concatenate(struct xeval *e, const struct xfn *f,
			 json_object **argv, int argc, json_object **out)
{
	struct join j = {{0}, NULL, false, false};
	char *sep = NULL;
	int first = 0;

	if (f->op) { /* TEXTJOIN(delimiter, ignore_empty, texts...) */
		sep = fx_text(argv[0]);
		j.sep = sep;
		j.skip_empty = jsonx_truthy(argv[1]);
		first = 2;
	}
	int rc = each_arg(e, argv + first, argc - first, leaf_join, &j);
	if (rc == 0)
		*out = str_n(buf_str(&j.b), j.b.len);
	buf_free(&j.b);
	free(sep);
	return rc;
}

enum { T_LEN, T_LEFT, T_RIGHT, T_MID, T_UPPER, T_LOWER, T_TRIM, T_REPT };

static int f_text(struct xeval *e, const struct xfn *f, json_object **argv,
		  int argc, json_object **out)
{
	double n = f->op == T_LEFT || f->op == T_RIGHT ? 1 : 0, m = 0;
	char *s;
	size_t len, chars, a, b;
	int rc = 0;

	if (json_object_is_type(argv[0], json_type_array) ||
	    json_object_is_type(argv[0], json_type_object))
		return wf_expr_err(e, "%s: #VALUE! (argument 1 is not text)",
				   f->name);
	if ((argc > 1 && fx_num(e, f, argv[1], 1, &n)) ||
	    (argc > 2 && fx_num(e, f, argv[2], 2, &m)))
		return -1;
	if (n < 0 || m < 0 || (f->op == T_MID && n < 1))
		return wf_expr_err(e, "%s: #VALUE! (%s)", f->name,
				   f->op == T_MID && n < 1
					   ? "start must be at least 1"
					   : "negative count");
	s = fx_text(argv[0]);
	len = strlen(s);
	chars = utf8_len(s, len);
	n = fmin(n, (double)chars + 1);
	switch (f->op) {
	case T_LEN: *out = wf_expr_num((double)chars); break;
	case T_LEFT:
		*out = str_n(s, utf8_offset(s, len, (size_t)n));
		break;
	case T_RIGHT:
		a = utf8_offset(s, len, chars - fmin((double)chars, n));
		*out = str_n(s + a, len - a);
		break;
	case T_MID:
		a = utf8_offset(s, len, (size_t)n - 1);
		b = utf8_offset(s, len, (size_t)(n - 1 + fmin(m, (double)chars)));
		*out = str_n(s + a, b - a);
		break;
	case T_UPPER:
	case T_LOWER:
		for (char *p = s; *p; p++)
			if (f->op == T_UPPER ? (*p >= 'a' && *p <= 'z')
					     : (*p >= 'A' && *p <= 'Z'))
				*p ^= 0x20;
		*out = str_n(s, len);
		break;
	case T_TRIM: {
		/* Formula.js: runs of whitespace become one space, ends cut. */
		struct buf t = {0};
		for (char *p = s; *p;) {
			if (strchr(" \t\r\n\v\f", *p)) {
				while (*p && strchr(" \t\r\n\v\f", *p))
					p++;
				if (t.len && *p)
					buf_putc(&t, ' ');
			} else {
				buf_putc(&t, *p++);
			}
		}
		*out = str_n(buf_str(&t), t.len);
		buf_free(&t);
		break;
	}
	default: { /* REPT */
		struct buf t = {0};
		if ((double)len * trunc(n) > WF_EXPR_MAX_STR) {
			rc = too_long(e);
			break;
		}
		for (size_t k = 0; k < (size_t)n; k++)
			buf_append(&t, s, len);
		*out = str_n(buf_str(&t), t.len);
		buf_free(&t);
	}
	}
	free(s);
	return rc;
}

static int f_substitute(struct xeval *e, const struct xfn *f,
			json_object **argv, int argc, json_object **out)
{
	char *s = fx_text(argv[0]), *old = fx_text(argv[1]);
	char *rep = fx_text(argv[2]);
	size_t ol = strlen(old), rl = strlen(rep);
	double nth = 0;
	struct buf b = {0};
	int rc = -1, k = 0;

	if (argc > 3 && fx_num(e, f, argv[3], 3, &nth))
		goto out;
	if (argc > 3 && (isnan(nth) || nth < 1)) {
		wf_expr_err(
			e, "SUBSTITUTE: #VALUE! (instance must be at least 1)");
		goto out;
	}
	const char *p = s, *q, *end = s + strlen(s);
	while (ol && (q = wf_expr_find(p, (size_t)(end - p), old, ol))) {
		k++;
		buf_append(&b, p, (size_t)(q - p));
		/* compared as doubles: (int)1e84 was undefined behaviour
		 * (fuzz_formulajs) */
		if (nth == 0 || k == nth)
			buf_append(&b, rep, rl);
		else
			buf_append(&b, old, ol);
		p = q + ol;
		if (b.len > WF_EXPR_MAX_STR) {
			too_long(e);
			goto out;
		}
	}
	buf_append(&b, p, (size_t)(end - p));
	*out = str_n(buf_str(&b), b.len);
	rc = 0;
out:
	buf_free(&b);
	free(s);
	free(old);
	free(rep);
	return rc;
}

enum { X_EXACT, X_FIND, X_VALUE };

static int f_misc_text(struct xeval *e, const struct xfn *f,
		       json_object **argv, int argc, json_object **out)
{
	char *a = fx_text(argv[0]), *b = argc > 1 ? fx_text(argv[1]) : NULL;
	double start = 1, d;
	int rc = 0;

	switch (f->op) {
	case X_EXACT: *out = wf_expr_bool(strcmp(a, b) == 0); break;
	case X_FIND: {
		size_t bl = strlen(b), from;
		const char *q;
		if (argc > 2 && (rc = fx_num(e, f, argv[2], 2, &start)))
			break;
		/* NaN (a computed start such as 'a' - 1) is out of range
		 * too; cast to size_t it was undefined behaviour
		 * (fuzz_formulajs). */
		if (isnan(start) || start < 1 ||
		    start > (double)utf8_len(b, bl) + 1) {
			rc = wf_expr_err(e, "FIND: #VALUE! (start out of range)");
			break;
		}
		from = utf8_offset(b, bl, (size_t)start - 1);
		q = wf_expr_find(b + from, bl - from, a, strlen(a));
		if (!q) {
			rc = wf_expr_err(e, "FIND: #VALUE! (text not found)");
			break;
		}
		*out = wf_expr_num((double)utf8_len(b, (size_t)(q - b)) + 1);
		break;
	}
	default: /* VALUE */
		d = js_to_number(argv[0]);
		if (!*a || isnan(d) || json_object_is_type(argv[0],
							   json_type_boolean)) {
			rc = wf_expr_err(e, "VALUE: #VALUE! (not a number)");
			break;
		}
		*out = wf_expr_num(d);
	}
	free(a);
	free(b);
	return rc;
}

/* ---- JavaScript globals ------------------------------------------------- */

enum {
	J_ABS, J_CEIL, J_FLOOR, J_ROUND, J_TRUNC, J_SIGN, J_SQRT, J_CBRT,
	J_EXP, J_LOG, J_LOG10, J_LOG2, J_NUMBER, J_ISNAN, J_ISFINITE,
	J_BOOLEAN,
};

static int f_js1(struct xeval *e, const struct xfn *f, json_object **argv,
		 int argc, json_object **out)
{
	double x = argc ? js_to_number(argv[0]) : (f->op == J_NUMBER ? 0 : NAN);
	double r;

	switch (f->op) {
	case J_ABS: r = fabs(x); break;
	case J_CEIL: r = ceil(x); break;
	case J_FLOOR: r = floor(x); break;
	case J_ROUND: /* half toward +Infinity, exactly as JS */
		r = floor(x);
		if (x - r >= 0.5)
			r += 1;
		break;
	case J_TRUNC: r = trunc(x); break;
	case J_SIGN: r = x > 0 ? 1 : x < 0 ? -1 : x; break;
	case J_SQRT: r = sqrt(x); break;
	case J_CBRT: r = cbrt(x); break;
	case J_EXP: r = exp(x); break;
	case J_LOG: r = log(x); break;
	case J_LOG10: r = log10(x); break;
	case J_LOG2: r = log2(x); break;
	case J_ISNAN: *out = wf_expr_bool(isnan(x)); return 0;
	case J_ISFINITE: *out = wf_expr_bool(isfinite(x)); return 0;
	case J_BOOLEAN:
		*out = wf_expr_bool(argc && jsonx_truthy(argv[0]));
		return 0;
	default: r = x; break;
	}
	*out = wf_expr_num(r);
	return 0;
}

enum { JM_MIN, JM_MAX, JM_POW };

static int f_jsmath(struct xeval *e, const struct xfn *f, json_object **argv,
		    int argc, json_object **out)
{
	double r = f->op == JM_MIN ? INFINITY : -INFINITY;

	if (f->op == JM_POW) {
		double x = js_to_number(argv[0]), y = js_to_number(argv[1]);
		r = isnan(y) || (fabs(x) == 1 && isinf(y)) ? NAN : pow(x, y);
	}
	for (int i = 0; f->op != JM_POW && i < argc; i++) {
		double d = js_to_number(argv[i]);
		if (isnan(d) || isnan(r))
			r = NAN;
		else
			r = f->op == JM_MIN ? fmin(r, d) : fmax(r, d);
	}
	*out = wf_expr_num(r);
	return 0;
}

static int f_jsstring(struct xeval *e, const struct xfn *f,
		      json_object **argv, int argc, json_object **out)
{
	char *s = argc ? js_to_string(argv[0]) : util_xstrdup("");
	double d;

	if (f->op == 0) { /* String */
		*out = json_object_new_string(s);
		free(s);
		return 0;
	}
	if (f->op == 1) { /* parseFloat */
		*out = wf_expr_num(js_parse_float(s));
		free(s);
		return 0;
	}
	/* parseInt(s[, radix]) */
	double radix = argc > 1 ? js_to_number(argv[1]) : 0;
	const char *p = s;
	int sign = 1, base, digits = 0;
	/* JS's ToInt32: NaN and the infinities are 0, the rest modulo 2^32
	 * (cast to int, 1e300 was undefined behaviour; found with
	 * fuzz_formulajs) */
	radix = isfinite(radix) ? fmod(trunc(radix), 4294967296.0) : 0;
	if (radix < 0)
		radix += 4294967296.0;
	base = (int)(int32_t)(uint32_t)radix;
	while (*p && strchr(" \t\r\n\v\f", *p))
		p++;
	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 0x20) == 'x') {
		base = 16;
		p += 2;
	}
	if (base == 0)
		base = 10;
	d = 0;
	if (base >= 2 && base <= 36) {
		for (; *p; p++, digits++) {
			int c = (unsigned char)*p, v;
			v = c >= '0' && c <= '9' ? c - '0'
			    : (c | 0x20) >= 'a' && (c | 0x20) <= 'z'
				    ? (c | 0x20) - 'a' + 10 : 99;
			if (v >= base)
				break;
			d = d * base + v;
		}
	}
	*out = wf_expr_num(digits ? sign * d : NAN);
	free(s);
	return 0;
}

static const struct xfn formula_fns[] = {
	{"ABS", 1, 1, f_num, M_ABS, NULL},
	{"AND", 1, -1, f_logic, G_AND, NULL},
	{"AVERAGE", 1, -1, f_stat, S_AVERAGE, NULL},
	{"Boolean", 0, 1, f_js1, J_BOOLEAN, NULL},
	{"CEILING", 1, 2, f_num, M_CEILING, NULL},
	{"CONCAT", 1, -1, f_concatenate, 0, NULL},
	{"CONCATENATE", 1, -1, f_concatenate, 0, NULL},
	{"COUNT", 1, -1, f_stat, S_COUNT, NULL},
	{"COUNTA", 1, -1, f_stat, S_COUNTA, NULL},
	{"EXACT", 2, 2, f_misc_text, X_EXACT, NULL},
	{"EXP", 1, 1, f_num, M_EXP, NULL},
	{"FALSE", 0, 0, f_bool, 0, NULL},
	{"FIND", 2, 3, f_misc_text, X_FIND, NULL},
	{"FLOOR", 1, 2, f_num, M_FLOOR, NULL},
	{"IF", 1, 3, NULL, 0, f_if},
	{"INT", 1, 1, f_num, M_INT, NULL},
	{"ISBLANK", 1, 1, f_is, I_BLANK, NULL},
	{"ISNUMBER", 1, 1, f_is, I_NUMBER, NULL},
	{"ISTEXT", 1, 1, f_is, I_TEXT, NULL},
	{"LEFT", 1, 2, f_text, T_LEFT, NULL},
	{"LEN", 1, 1, f_text, T_LEN, NULL},
	{"LN", 1, 1, f_num, M_LN, NULL},
	{"LOG", 1, 2, f_num, M_LOG, NULL},
	{"LOG10", 1, 1, f_num, M_LOG10, NULL},
	{"LOWER", 1, 1, f_text, T_LOWER, NULL},
	{"MAX", 1, -1, f_stat, S_MAX, NULL},
	{"MID", 3, 3, f_text, T_MID, NULL},
	{"MIN", 1, -1, f_stat, S_MIN, NULL},
	{"MOD", 2, 2, f_num, M_MOD, NULL},
	{"Math.abs", 1, 1, f_js1, J_ABS, NULL},
	{"Math.cbrt", 1, 1, f_js1, J_CBRT, NULL},
	{"Math.ceil", 1, 1, f_js1, J_CEIL, NULL},
	{"Math.exp", 1, 1, f_js1, J_EXP, NULL},
	{"Math.floor", 1, 1, f_js1, J_FLOOR, NULL},
	{"Math.log", 1, 1, f_js1, J_LOG, NULL},
	{"Math.log10", 1, 1, f_js1, J_LOG10, NULL},
	{"Math.log2", 1, 1, f_js1, J_LOG2, NULL},
	{"Math.max", 0, -1, f_jsmath, JM_MAX, NULL},
	{"Math.min", 0, -1, f_jsmath, JM_MIN, NULL},
	{"Math.pow", 2, 2, f_jsmath, JM_POW, NULL},
	{"Math.round", 1, 1, f_js1, J_ROUND, NULL},
	{"Math.sign", 1, 1, f_js1, J_SIGN, NULL},
	{"Math.sqrt", 1, 1, f_js1, J_SQRT, NULL},
	{"Math.trunc", 1, 1, f_js1, J_TRUNC, NULL},
	{"NOT", 1, 1, f_not, 0, NULL},
	{"Number", 0, 1, f_js1, J_NUMBER, NULL},
	{"OR", 1, -1, f_logic, G_OR, NULL},
	{"PI", 0, 0, f_pi, 0, NULL},
	{"POWER", 2, 2, f_num, M_POWER, NULL},
	{"PRODUCT", 1, -1, f_stat, S_PRODUCT, NULL},
	{"REPT", 2, 2, f_text, T_REPT, NULL},
	{"RIGHT", 1, 2, f_text, T_RIGHT, NULL},
	{"ROUND", 1, 2, f_num, M_ROUND, NULL},
	{"ROUNDDOWN", 1, 2, f_num, M_ROUNDDOWN, NULL},
	{"ROUNDUP", 1, 2, f_num, M_ROUNDUP, NULL},
	{"SIGN", 1, 1, f_num, M_SIGN, NULL},
	{"SQRT", 1, 1, f_num, M_SQRT, NULL},
	{"SUBSTITUTE", 3, 4, f_substitute, 0, NULL},
	{"SUM", 1, -1, f_stat, S_SUM, NULL},
	{"String", 0, 1, f_jsstring, 0, NULL},
	{"TEXTJOIN", 3, -1, f_concatenate, 1, NULL},
	{"TRIM", 1, 1, f_text, T_TRIM, NULL},
	{"TRUE", 0, 0, f_bool, 1, NULL},
	{"TRUNC", 1, 2, f_num, M_TRUNC, NULL},
	{"UPPER", 1, 1, f_text, T_UPPER, NULL},
	{"VALUE", 1, 1, f_misc_text, X_VALUE, NULL},
	{"XOR", 1, -1, f_logic, G_XOR, NULL},
	{"isFinite", 1, 1, f_js1, J_ISFINITE, NULL},
	{"isNaN", 1, 1, f_js1, J_ISNAN, NULL},
	{"parseFloat", 1, 1, f_jsstring, 1, NULL},
	{"parseInt", 1, 2, f_jsstring, 2, NULL},
};

const struct xfn *xformula_find(const char *name)
{
	size_t lo = 0, hi = sizeof(formula_fns) / sizeof(*formula_fns);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, formula_fns[mid].name);
		if (c == 0)
			return &formula_fns[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

bool xformula_const(const char *name, json_object **out)
{
	static const struct {
		const char *name;
		double v;
	} nums[] = {
		{"Math.PI", M_PI}, {"Math.E", M_E}, {"Math.LN2", M_LN2},
		{"Math.LN10", M_LN10}, {"Math.SQRT2", M_SQRT2},
		{"Infinity", INFINITY}, {"NaN", NAN},
	};

	if (!strcmp(name, "true") || !strcmp(name, "TRUE")) {
		*out = wf_expr_bool(true);
		return true;
	}
	if (!strcmp(name, "false") || !strcmp(name, "FALSE")) {
		*out = wf_expr_bool(false);
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
