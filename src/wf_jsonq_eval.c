/* wf_jsonq_eval: the JMESPath tree interpreter (null propagation,
 * projections, comparisons, truthiness) over the nodes wf_jsonq.c
 * parses. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_jsonq.h"
#include "wf_jsonq_int.h"

int jq_err(struct jq *q, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->err, q->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int jq_step(struct jq *q, long n)
{
	q->steps += n;
	if (q->steps > WF_JSONQ_MAX_STEPS)
		return jq_err(q, "Query too expensive (more than %ld steps)",
			      WF_JSONQ_MAX_STEPS);
	return 0;
}

bool jq_is_num(json_object *v)
{
	return json_object_is_type(v, json_type_int) ||
	       json_object_is_type(v, json_type_double);
}

double jq_num(json_object *v)
{
	return json_object_is_type(v, json_type_int)
		       ? (double)json_object_get_int64(v)
		       : json_object_get_double(v);
}

const char *jq_type(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_int:
	case json_type_double: return "number";
	case json_type_string: return "string";
	case json_type_array: return "array";
	default: return "object";
	}
}

bool jq_truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return false;
	case json_type_boolean: return json_object_get_boolean(v);
	case json_type_string: return json_object_get_string_len(v) > 0;
	case json_type_array: return json_object_array_length(v) > 0;
	case json_type_object: return json_object_object_length(v) > 0;
	default: return true;
	}
}

bool jq_equal(json_object *a, json_object *b, int depth)
{
	if (jq_is_num(a) && jq_is_num(b))
		return jq_num(a) == jq_num(b);
	if (json_object_get_type(a) != json_object_get_type(b))
		return false;
	if (depth > JSONX_MAX_DEPTH * 2)
		return false;
	switch (json_object_get_type(a)) {
	case json_type_null: return true;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return json_object_get_string_len(a) ==
			       json_object_get_string_len(b) &&
		       !memcmp(json_object_get_string(a),
			       json_object_get_string(b),
			       (size_t)json_object_get_string_len(a));
	case json_type_array: {
		size_t n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!jq_equal(json_object_array_get_idx(a, i),
				      json_object_array_get_idx(b, i), depth + 1))
				return false;
		return true;
	}
	default:
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, k, va) {
			json_object *vb;
			if (!json_object_object_get_ex(b, k, &vb) ||
			    !jq_equal(va, vb, depth + 1))
				return false;
		}
		return true;
	}
}

static long long cap_slice(long long v, long long len, long long step)
{
	if (v < 0) {
		v += len;
		if (v < 0)
			v = step < 0 ? -1 : 0;
	} else if (v >= len) {
		v = step < 0 ? len - 1 : len;
	}
	return v;
}

static int visit_slice(struct jq *q, struct jq_node *x, json_object *v,
		       json_object **out)
{
	long long len, step, start, stop;

	if (!json_object_is_type(v, json_type_array))
		return 0;
	len = (long long)json_object_array_length(v);
	step = x->has[2] ? x->num[2] : 1;
	if (step == 0)
		return jq_err(q, "invalid-value: slice step cannot be 0");
	start = x->has[0] ? cap_slice(x->num[0], len, step)
			  : step < 0 ? len - 1 : 0;
	stop = x->has[1] ? cap_slice(x->num[1], len, step)
			 : step < 0 ? -1 : len;
	json_object *r = json_object_new_array();
	for (long long i = start; step > 0 ? i < stop : i > stop; i += step)
		json_object_array_add(r, jsonx_ref(json_object_array_get_idx(
						 v, (size_t)i)));
	*out = r;
	return jq_step(q, (long)json_object_array_length(r));
}

/* Apply node b to each element (or object value) of base, keeping the
 * non-null results; with cond, only where cond is true. */
static int project(struct jq *q, json_object *base, bool values, int b,
		   int cond, json_object **out)
{
	json_object *r, *el, *t;

	if (values ? !json_object_is_type(base, json_type_object)
		   : !json_object_is_type(base, json_type_array))
		return 0;
	r = json_object_new_array();
	/* Iterators are only valid on objects. */
	struct json_object_iterator it = json_object_iter_init_default();
	struct json_object_iterator end = it;
	if (values) {
		it = json_object_iter_begin(base);
		end = json_object_iter_end(base);
	}
	for (size_t i = 0;; i++) {
		if (values) {
			if (json_object_iter_equal(&it, &end))
				break;
			el = json_object_iter_peek_value(&it);
			json_object_iter_next(&it);
		} else {
			if (i >= json_object_array_length(base))
				break;
			el = json_object_array_get_idx(base, i);
		}
		if (cond >= 0) {
			if (jq_visit(q, cond, el, &t))
				goto fail;
			bool keep = jq_truthy(t);
			json_object_put(t);
			if (!keep)
				continue;
		}
		if (jq_visit(q, b, el, &t))
			goto fail;
		if (t)
			json_object_array_add(r, t);
	}
	*out = r;
	return 0;
fail:
	json_object_put(r);
	return -1;
}

static int visit_cmp(struct jq *q, struct jq_node *x, json_object *v,
		     json_object **out)
{
	json_object *a = NULL, *b = NULL;
	int rc = -1;

	if (jq_visit(q, x->a, v, &a) || jq_visit(q, x->b, v, &b))
		goto out;
	rc = 0;
	if (x->op == JC_EQ || x->op == JC_NE) {
		*out = json_object_new_boolean(jq_equal(a, b, 0) ==
					       (x->op == JC_EQ));
	} else if (jq_is_num(a) && jq_is_num(b)) {
		double l = jq_num(a), r = jq_num(b);
		*out = json_object_new_boolean(x->op == JC_LT   ? l < r
					       : x->op == JC_LE ? l <= r
					       : x->op == JC_GT ? l > r
								: l >= r);
	}
out:
	json_object_put(a);
	json_object_put(b);
	return rc;
}

static int visit_func(struct jq *q, int n, json_object *v, json_object **out)
{
	struct jq_node *x = &q->nodes[n];
	int argc = x->nargs, i = 0, rc = -1;
	json_object **argv = util_xcalloc((size_t)argc + 1, sizeof(*argv));
	int *refs = util_xcalloc((size_t)argc + 1, sizeof(*refs));

	for (int a = x->args; a >= 0; a = q->nodes[a].next, i++) {
		refs[i] = -1;
		if (q->nodes[a].kind == JN_EXPREF)
			refs[i] = q->nodes[a].a;
		else if (jq_visit(q, a, v, &argv[i]))
			goto out;
	}
	rc = x->fn->call(q, x->fn, argv, refs, argc, out);
out:
	for (int k = 0; k < argc; k++)
		json_object_put(argv[k]);
	free(argv);
	free(refs);
	return rc;
}

/* a.b and a | b: b applied to the value of a. */
static int visit_chain(struct jq *q, const struct jq_node *x, json_object *v,
		       json_object **out)
{
	json_object *t = NULL;
	int rc;

	if (jq_visit(q, x->a, v, &t))
		return -1;
	rc = jq_visit(q, x->b, t, out);
	json_object_put(t);
	return rc;
}

/* [n], negative from the end; nothing outside an array or its bounds. */
static int visit_index(const struct jq_node *x, json_object *v,
		       json_object **out)
{
	long long len, i;

	if (!json_object_is_type(v, json_type_array))
		return 0;
	len = (long long)json_object_array_length(v);
	i = x->num[0] < 0 ? x->num[0] + len : x->num[0];
	if (i >= 0 && i < len)
		*out = jsonx_ref(json_object_array_get_idx(v, (size_t)i));
	return 0;
}

/* a[*].b, a.*.b and a[?cond].b */
static int visit_projection(struct jq *q, const struct jq_node *x,
			    json_object *v, json_object **out)
{
	json_object *t = NULL;
	int rc;

	if (jq_visit(q, x->a, v, &t))
		return -1;
	rc = project(q, t, x->kind == JN_VPROJECT, x->b,
		     x->kind == JN_FILTER ? x->c : -1, out);
	json_object_put(t);
	return rc;
}

/* a[]: the array with its array items spread one level. */
static int visit_flatten(struct jq *q, const struct jq_node *x,
			 json_object *v, json_object **out)
{
	json_object *t = NULL, *r;

	if (jq_visit(q, x->a, v, &t))
		return -1;
	if (!json_object_is_type(t, json_type_array)) {
		json_object_put(t);
		return 0;
	}
	r = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(t); i++) {
		json_object *el = json_object_array_get_idx(t, i);
		if (!json_object_is_type(el, json_type_array)) {
			json_object_array_add(r, jsonx_ref(el));
			continue;
		}
		for (size_t k = 0; k < json_object_array_length(el); k++)
			json_object_array_add(
				r, jsonx_ref(json_object_array_get_idx(el, k)));
	}
	json_object_put(t);
	*out = r;
	return jq_step(q, (long)json_object_array_length(r));
}

/* a || b, a && b: a when it decides, else b. */
static int visit_logic(struct jq *q, const struct jq_node *x, json_object *v,
		       json_object **out)
{
	json_object *t = NULL;

	if (jq_visit(q, x->a, v, &t))
		return -1;
	if (jq_truthy(t) == (x->kind == JN_OR)) {
		*out = t;
		return 0;
	}
	json_object_put(t);
	return jq_visit(q, x->b, v, out);
}

/* [a, b] and {k: a, ...}; nothing of a null value. */
static int visit_multiselect(struct jq *q, const struct jq_node *x,
			     json_object *v, json_object **out)
{
	bool hash = x->kind == JN_HASH;
	json_object *r, *t = NULL;

	if (!v)
		return 0;
	r = hash ? json_object_new_object() : json_object_new_array();
	for (int a = x->args; a >= 0; a = q->nodes[a].next) {
		if (jq_visit(q, hash ? q->nodes[a].a : a, v, &t)) {
			json_object_put(r);
			return -1;
		}
		if (hash)
			json_object_object_add(r, q->nodes[a].name, t);
		else
			json_object_array_add(r, t);
	}
	*out = r;
	return 0;
}

int jq_visit(struct jq *q, int n, json_object *v, json_object **out)
{
	struct jq_node *x = &q->nodes[n];
	json_object *t = NULL;

	*out = NULL;
	if (jq_step(q, 1))
		return -1;
	switch (x->kind) {
	case JN_FIELD:
		if (json_object_object_get_ex(v, x->name, &t))
			*out = jsonx_ref(t);
		return 0;
	case JN_CURRENT:
		*out = jsonx_ref(v);
		return 0;
	case JN_LITERAL:
		*out = jsonx_ref(x->v);
		return 0;
	case JN_SUB:
	case JN_PIPE: return visit_chain(q, x, v, out);
	case JN_INDEX: return visit_index(x, v, out);
	case JN_SLICE: return visit_slice(q, x, v, out);
	case JN_PROJECT:
	case JN_VPROJECT:
	case JN_FILTER: return visit_projection(q, x, v, out);
	case JN_FLATTEN: return visit_flatten(q, x, v, out);
	case JN_OR:
	case JN_AND: return visit_logic(q, x, v, out);
	case JN_NOT:
		if (jq_visit(q, x->a, v, &t))
			return -1;
		*out = json_object_new_boolean(!jq_truthy(t));
		json_object_put(t);
		return 0;
	case JN_CMP: return visit_cmp(q, x, v, out);
	case JN_LIST:
	case JN_HASH: return visit_multiselect(q, x, v, out);
	case JN_FUNC: return visit_func(q, n, v, out);
	case JN_EXPREF:
		return jq_err(q, "invalid-type: an expression reference (&) "
				 "is only valid as a function argument");
	default:
		return jq_err(q, "internal: bad node");
	}
}
