/* wf_expr_logic: the condition node's "basic" engine (NocoBase's
 * logicCalculate and calculators).  Operands are already rendered. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_expr.h"
#include "wf_expr_int.h"

struct lctx {
	char *err;
	size_t errlen;
};

static int lerr(struct lctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int lerr(struct lctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Both operands ISO date(-time) strings: compare their times. */
static bool as_dates(json_object *a, json_object *b, int *cmp)
{
	int64_t x, y;

	if (!json_object_is_type(a, json_type_string) ||
	    !json_object_is_type(b, json_type_string) ||
	    util_ms_from_iso(json_object_get_string(a), &x) ||
	    util_ms_from_iso(json_object_get_string(b), &y))
		return false;
	*cmp = x < y ? -1 : x > y;
	return true;
}

enum calc {
	C_EQ, C_NE, C_GT, C_GE, C_LT, C_LE, C_INC, C_NINC, C_SW, C_NSW,
	C_EW, C_NEW,
};

static const struct {
	const char *name;
	enum calc c;
} calculators[] = {
	{"equal", C_EQ}, {"==", C_EQ}, {"notEqual", C_NE}, {"!=", C_NE},
	{"gt", C_GT}, {">", C_GT}, {"gte", C_GE}, {">=", C_GE},
	{"lt", C_LT}, {"<", C_LT}, {"lte", C_LE}, {"<=", C_LE},
	{"includes", C_INC}, {"notIncludes", C_NINC},
	{"startsWith", C_SW}, {"notStartsWith", C_NSW},
	{"endsWith", C_EW}, {"notEndsWith", C_NEW},
};

static bool compare(enum calc c, json_object *a, json_object *b)
{
	int d;
	enum js_cmp r;

	if (as_dates(a, b, &d)) {
		r = d < 0 ? JS_LT : d > 0 ? JS_GT : JS_EQ;
	} else {
		if (c == C_EQ || c == C_NE)
			return js_loose_eq(a, b) == (c == C_EQ);
		r = js_compare(a, b);
	}
	switch (c) {
	case C_EQ: return r == JS_EQ;
	case C_NE: return r != JS_EQ;
	case C_GT: return r == JS_GT;
	case C_GE: return r == JS_GT || r == JS_EQ;
	case C_LT: return r == JS_LT;
	default: return r == JS_LT || r == JS_EQ;
	}
}

/* a.includes(b): arrays by SameValueZero (objects deeply), strings by
 * substring of String(b); anything else fails as it does in JS. */
static int includes(struct lctx *c, json_object *a, json_object *b,
		    bool *out)
{
	if (!a)
		return lerr(c, "Cannot read properties of null (reading "
			       "'includes')");
	if (json_object_is_type(a, json_type_array)) {
		size_t n = json_object_array_length(a);
		*out = false;
		for (size_t i = 0; i < n && !*out; i++) {
			json_object *x = json_object_array_get_idx(a, i);
			*out = js_strict_eq(x, b) ||
			       (xis_num(x) && xis_num(b) &&
				xget_num(x) != xget_num(x) &&
				xget_num(b) != xget_num(b));
		}
		return 0;
	}
	if (!json_object_is_type(a, json_type_string))
		return lerr(c, "a.includes is not a function");
	char *s = js_to_string(b);
	*out = wf_expr_find(json_object_get_string(a),
			    (size_t)json_object_get_string_len(a), s,
			    strlen(s)) != NULL;
	free(s);
	return 0;
}

/* a.toString().startsWith(b.toString()) and endsWith. */
static int affix(struct lctx *c, bool start, json_object *a, json_object *b,
		 bool *out)
{
	if (!a || !b)
		return lerr(c, "Cannot read properties of null (reading "
			       "'toString')");
	char *s = js_to_string(a), *t = js_to_string(b);
	size_t sl = strlen(s), tl = strlen(t);
	*out = tl <= sl &&
	       memcmp(start ? s : s + sl - tl, t, tl) == 0;
	free(s);
	free(t);
	return 0;
}

static int item(struct lctx *c, json_object *calc, bool *out)
{
	json_object *name = jsonx_get(calc, "calculator");
	json_object *ops = jsonx_get(calc, "operands");
	json_object *a, *b;
	size_t i;
	int rc;

	*out = true;
	if (!jsonx_truthy(name) || !json_object_is_type(ops, json_type_array) ||
	    json_object_array_length(ops) == 0)
		return 0;
	const char *n = json_object_get_string(name);
	for (i = 0; i < sizeof(calculators) / sizeof(*calculators); i++)
		if (json_object_is_type(name, json_type_string) &&
		    strcmp(n, calculators[i].name) == 0)
			break;
	if (i == sizeof(calculators) / sizeof(*calculators)) {
		char *s = js_to_string(name);
		rc = lerr(c, "no calculator function registered for \"%s\"", s);
		free(s);
		return rc;
	}
	a = json_object_array_get_idx(ops, 0);
	b = json_object_array_get_idx(ops, 1);
	switch (calculators[i].c) {
	case C_INC:
	case C_NINC:
		if (includes(c, a, b, out))
			return -1;
		*out = *out == (calculators[i].c == C_INC);
		return 0;
	case C_SW:
	case C_NSW:
	case C_EW:
	case C_NEW:
		if (affix(c, calculators[i].c <= C_NSW, a, b, out))
			return -1;
		*out = *out == (calculators[i].c == C_SW ||
				calculators[i].c == C_EW);
		return 0;
	default:
		*out = compare(calculators[i].c, a, b);
		return 0;
	}
}

static int logic(struct lctx *c, json_object *calc, int depth, bool *out)
{
	json_object *group, *list, *type;
	bool is_and, r;

	*out = true;
	if (!jsonx_truthy(calc) || !json_object_is_type(calc, json_type_object))
		return 0;
	if (depth > WF_EXPR_MAX_DEPTH)
		return lerr(c, "Condition nested too deeply (more than %d "
			       "levels)", WF_EXPR_MAX_DEPTH);
	group = jsonx_get(calc, "group");
	if (!json_object_is_type(group, json_type_object))
		return item(c, calc, out);
	type = jsonx_get(group, "type");
	const char *t = json_object_get_string(type);
	if (!json_object_is_type(type, json_type_string) ||
	    (strcmp(t, "and") != 0 && strcmp(t, "or") != 0))
		return lerr(c, "Unknown group type \"%s\" (expected \"and\" or "
			       "\"or\")", t ? t : "undefined");
	is_and = t[0] == 'a';
	list = jsonx_get(group, "calculations");
	if (list && !json_object_is_type(list, json_type_array))
		return lerr(c, "Group calculations must be an array");
	size_t n = list ? json_object_array_length(list) : 0;
	/* every / some, short-circuiting like JS. */
	*out = is_and;
	for (size_t i = 0; i < n; i++) {
		if (logic(c, json_object_array_get_idx(list, i), depth + 1, &r))
			return -1;
		if (r != is_and) {
			*out = r;
			break;
		}
	}
	return 0;
}

int wf_expr_logic(json_object *calculation, bool *result, char *err,
		  size_t errlen)
{
	struct lctx c = {err, errlen};
	if (errlen)
		err[0] = 0;
	return logic(&c, calculation, 0, result);
}
