/* wf_jsonq_fn: the JMESPath built-in functions, with the specification's
 * argument type checks.  Strings count and reverse by code point and sort
 * bytewise (code point order). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonx.h"
#include "util.h"
#include "wf_jsonq.h"
#include "wf_jsonq_int.h"

enum {
	M_NUM = 1, M_STR = 2, M_BOOL = 4, M_ARR = 8, M_OBJ = 16, M_NULL = 32,
	M_ANY = 63, M_REF = 64,
};

static int mask_of(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return M_NULL;
	case json_type_boolean: return M_BOOL;
	case json_type_int:
	case json_type_double: return M_NUM;
	case json_type_string: return M_STR;
	case json_type_array: return M_ARR;
	default: return M_OBJ;
	}
}

/* Argument i must match mask; want names it for the message. */
static int check(struct jq *q, const struct jq_fn *f, json_object **argv,
		 const int *refs, int i, int mask, const char *want)
{
	if (refs[i] >= 0) {
		if (mask & M_REF)
			return 0;
		return jq_err(q, "invalid-type: %s() argument %d must be %s, "
				 "got an expression reference", f->name, i + 1,
			      want);
	}
	if (mask & M_REF)
		return jq_err(q, "invalid-type: %s() argument %d must be an "
				 "expression reference (&expr), got %s",
			      f->name, i + 1, jq_type(argv[i]));
	if (!(mask_of(argv[i]) & mask))
		return jq_err(q, "invalid-type: %s() argument %d must be %s, "
				 "got %s", f->name, i + 1, want,
			      jq_type(argv[i]));
	return 0;
}

/* Every element of arr is in mask; 0 when all numbers or all strings
 * (as *kind), -1 otherwise. */
static int uniform(json_object *arr, int allowed, int *kind)
{
	size_t n = json_object_array_length(arr);
	*kind = 0;
	for (size_t i = 0; i < n; i++) {
		int m = mask_of(json_object_array_get_idx(arr, i));
		if (!(m & allowed) || (*kind && m != *kind))
			return -1;
		*kind = m;
	}
	return 0;
}

static int elements_err(struct jq *q, const struct jq_fn *f, const char *want)
{
	return jq_err(q, "invalid-type: %s() expects %s", f->name, want);
}

static int cmp_values(json_object *a, json_object *b)
{
	if (jq_is_num(a)) {
		double x = jq_num(a), y = jq_num(b);
		return x < y ? -1 : x > y;
	}
	size_t la = (size_t)json_object_get_string_len(a);
	size_t lb = (size_t)json_object_get_string_len(b);
	int c = memcmp(json_object_get_string(a), json_object_get_string(b),
		       la < lb ? la : lb);
	return c ? c : la < lb ? -1 : la > lb;
}

/* ---- numbers ------------------------------------------------------------ */

static int f_num1(struct jq *q, const struct jq_fn *f, json_object **argv,
		  const int *refs, int argc, json_object **out)
{
	if (check(q, f, argv, refs, 0, M_NUM, "a number"))
		return -1;
	double x = jq_num(argv[0]);
	x = f->name[0] == 'a' ? fabs(x) : f->name[0] == 'c' ? ceil(x)
							    : floor(x);
	*out = jsonx_number(x);
	return 0;
}

static int f_sum_avg(struct jq *q, const struct jq_fn *f, json_object **argv,
		     const int *refs, int argc, json_object **out)
{
	int kind;
	double s = 0;

	if (check(q, f, argv, refs, 0, M_ARR, "an array of numbers"))
		return -1;
	if (uniform(argv[0], M_NUM, &kind))
		return elements_err(q, f, "an array of numbers");
	size_t n = json_object_array_length(argv[0]);
	for (size_t i = 0; i < n; i++)
		s += jq_num(json_object_array_get_idx(argv[0], i));
	if (f->name[0] == 'a') {
		if (n == 0)
			return 0;
		s /= (double)n;
	}
	*out = jsonx_number(s);
	return 0;
}

/* ---- strings ------------------------------------------------------------- */

static int f_contains(struct jq *q, const struct jq_fn *f, json_object **argv,
		      const int *refs, int argc, json_object **out)
{
	json_object *s = argv[0], *x = argv[1];
	bool r = false;

	if (check(q, f, argv, refs, 0, M_ARR | M_STR, "an array or a string") ||
	    check(q, f, argv, refs, 1, M_ANY, "any value"))
		return -1;
	if (json_object_is_type(s, json_type_array)) {
		size_t n = json_object_array_length(s);
		if (jq_step(q, (long)n))
			return -1;
		for (size_t i = 0; i < n && !r; i++)
			r = jq_equal(json_object_array_get_idx(s, i), x, 0);
	} else if (json_object_is_type(x, json_type_string)) {
		r = memmem(json_object_get_string(s),
			   (size_t)json_object_get_string_len(s),
			   json_object_get_string(x),
			   (size_t)json_object_get_string_len(x)) != NULL;
	}
	*out = json_object_new_boolean(r);
	return 0;
}

static int f_affix(struct jq *q, const struct jq_fn *f, json_object **argv,
		   const int *refs, int argc, json_object **out)
{
	if (check(q, f, argv, refs, 0, M_STR, "a string") ||
	    check(q, f, argv, refs, 1, M_STR, "a string"))
		return -1;
	const char *s = json_object_get_string(argv[0]);
	const char *t = json_object_get_string(argv[1]);
	size_t sl = (size_t)json_object_get_string_len(argv[0]);
	size_t tl = (size_t)json_object_get_string_len(argv[1]);
	bool start = f->name[0] == 's';
	*out = json_object_new_boolean(
		tl <= sl && memcmp(start ? s : s + sl - tl, t, tl) == 0);
	return 0;
}

static int f_join(struct jq *q, const struct jq_fn *f, json_object **argv,
		  const int *refs, int argc, json_object **out)
{
	int kind;
	size_t total = 0;
	struct buf b = {0};

	if (check(q, f, argv, refs, 0, M_STR, "a string") ||
	    check(q, f, argv, refs, 1, M_ARR, "an array of strings"))
		return -1;
	if (uniform(argv[1], M_STR, &kind))
		return elements_err(q, f, "an array of strings");
	size_t n = json_object_array_length(argv[1]);
	size_t gl = (size_t)json_object_get_string_len(argv[0]);
	for (size_t i = 0; i < n; i++)
		total += (size_t)json_object_get_string_len(
				 json_object_array_get_idx(argv[1], i)) +
			 (i ? gl : 0);
	if (total > WF_JSONQ_MAX_STR)
		return jq_err(q, "join() result exceeds %u bytes",
			      WF_JSONQ_MAX_STR);
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(argv[1], i);
		if (i)
			buf_append(&b, json_object_get_string(argv[0]), gl);
		buf_append(&b, json_object_get_string(s),
			   (size_t)json_object_get_string_len(s));
	}
	*out = json_object_new_string_len(b.data ? b.data : "", (int)b.len);
	buf_free(&b);
	return 0;
}

static size_t code_points(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static int f_length(struct jq *q, const struct jq_fn *f, json_object **argv,
		    const int *refs, int argc, json_object **out)
{
	json_object *v = argv[0];
	size_t n;

	if (check(q, f, argv, refs, 0, M_STR | M_ARR | M_OBJ,
		  "a string, an array or an object"))
		return -1;
	if (json_object_is_type(v, json_type_string))
		n = code_points(json_object_get_string(v),
				(size_t)json_object_get_string_len(v));
	else if (json_object_is_type(v, json_type_array))
		n = json_object_array_length(v);
	else
		n = (size_t)json_object_object_length(v);
	*out = json_object_new_int64((int64_t)n);
	return 0;
}

static int f_reverse(struct jq *q, const struct jq_fn *f, json_object **argv,
		     const int *refs, int argc, json_object **out)
{
	json_object *v = argv[0];

	if (check(q, f, argv, refs, 0, M_STR | M_ARR, "a string or an array"))
		return -1;
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		json_object *r = json_object_new_array_ext((int)n);
		for (size_t i = n; i > 0; i--)
			json_object_array_add(
				r, jsonx_ref(json_object_array_get_idx(v, i - 1)));
		*out = r;
		return 0;
	}
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v), w = n;
	char *r = util_xmalloc(n + 1);
	/* Copy code points back to front. */
	for (size_t i = 0; i < n;) {
		size_t k = 1;
		while (i + k < n && ((unsigned char)s[i + k] & 0xC0) == 0x80)
			k++;
		w -= k;
		memcpy(r + w, s + i, k);
		i += k;
	}
	*out = json_object_new_string_len(r, (int)n);
	free(r);
	return 0;
}

/* ---- objects and conversions ------------------------------------------ */

static int f_keys_values(struct jq *q, const struct jq_fn *f,
			 json_object **argv, const int *refs, int argc,
			 json_object **out)
{
	if (check(q, f, argv, refs, 0, M_OBJ, "an object"))
		return -1;
	json_object *r = json_object_new_array();
	json_object_object_foreach(argv[0], k, v)
		json_object_array_add(r, f->name[0] == 'k'
						 ? json_object_new_string(k)
						 : jsonx_ref(v));
	*out = r;
	return 0;
}

static int f_merge(struct jq *q, const struct jq_fn *f, json_object **argv,
		   const int *refs, int argc, json_object **out)
{
	for (int i = 0; i < argc; i++)
		if (check(q, f, argv, refs, i, M_OBJ, "an object"))
			return -1;
	json_object *r = json_object_new_object();
	for (int i = 0; i < argc; i++)
		jsonx_overlay(r, argv[i]);
	*out = r;
	return 0;
}

static int f_not_null(struct jq *q, const struct jq_fn *f, json_object **argv,
		      const int *refs, int argc, json_object **out)
{
	for (int i = 0; i < argc; i++) {
		if (check(q, f, argv, refs, i, M_ANY, "any value"))
			return -1;
		if (argv[i]) {
			*out = jsonx_ref(argv[i]);
			return 0;
		}
	}
	return 0;
}

static int f_to_array(struct jq *q, const struct jq_fn *f, json_object **argv,
		      const int *refs, int argc, json_object **out)
{
	if (check(q, f, argv, refs, 0, M_ANY, "any value"))
		return -1;
	if (json_object_is_type(argv[0], json_type_array)) {
		*out = jsonx_ref(argv[0]);
	} else {
		*out = json_object_new_array();
		json_object_array_add(*out, jsonx_ref(argv[0]));
	}
	return 0;
}

/* Serialised size, stopping once past limit. */
static size_t json_size(json_object *v, size_t limit, int depth)
{
	size_t n = 2;
	switch (json_object_get_type(v)) {
	case json_type_string:
		return (size_t)json_object_get_string_len(v) + 2;
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v) && n <= limit;
		     i++)
			n += 1 + (depth > 200 ? limit
					      : json_size(json_object_array_get_idx(
							  v, i), limit, depth + 1));
		return n;
	case json_type_object: {
		json_object_object_foreach(v, k, val) {
			if (n > limit)
				break;
			n += strlen(k) + 4 +
			     (depth > 200 ? limit
					  : json_size(val, limit, depth + 1));
		}
		return n;
	}
	default:
		return 24;
	}
}

static int f_to_string(struct jq *q, const struct jq_fn *f,
		       json_object **argv, const int *refs, int argc,
		       json_object **out)
{
	if (check(q, f, argv, refs, 0, M_ANY, "any value"))
		return -1;
	if (json_object_is_type(argv[0], json_type_string)) {
		*out = jsonx_ref(argv[0]);
		return 0;
	}
	if (json_size(argv[0], WF_JSONQ_MAX_STR, 0) > WF_JSONQ_MAX_STR)
		return jq_err(q, "to_string() result exceeds %u bytes",
			      WF_JSONQ_MAX_STR);
	*out = json_object_new_string(argv[0] ? jsonx_str(argv[0]) : "null");
	return 0;
}

static int f_to_number(struct jq *q, const struct jq_fn *f,
		       json_object **argv, const int *refs, int argc,
		       json_object **out)
{
	json_object *v = argv[0], *n = NULL;
	char err[64];

	if (check(q, f, argv, refs, 0, M_ANY, "any value"))
		return -1;
	if (jq_is_num(v)) {
		*out = jsonx_ref(v);
	} else if (json_object_is_type(v, json_type_string)) {
		/* A JSON number, nothing else. */
		const char *s = json_object_get_string(v);
		size_t l = (size_t)json_object_get_string_len(v);
		if (l && l < 400 && !jsonx_parse(s, l, 1, &n, err, sizeof(err)) &&
		    jq_is_num(n))
			*out = jsonx_number(jq_num(n));
		json_object_put(n);
	}
	return 0;
}

static int f_type(struct jq *q, const struct jq_fn *f, json_object **argv,
		  const int *refs, int argc, json_object **out)
{
	if (check(q, f, argv, refs, 0, M_ANY, "any value"))
		return -1;
	*out = json_object_new_string(jq_type(argv[0]));
	return 0;
}

/* ---- sorting and extremes ------------------------------------------------ */

struct keyed {
	json_object *el, *key;
	size_t idx;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = cmp_values(x->key, y->key);
	return c ? c : x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Keys of the elements of arr: the elements themselves, or &expr applied
 * to each; they must be all numbers or all strings. */
static int keyed(struct jq *q, const struct jq_fn *f, json_object *arr,
		 int ref, struct keyed **out, size_t *count)
{
	size_t n = json_object_array_length(arr);
	struct keyed *k = util_xcalloc(n + 1, sizeof(*k));
	int kind = 0;

	*out = k;
	*count = 0;
	if (jq_step(q, (long)n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		k[i].el = json_object_array_get_idx(arr, i);
		k[i].idx = i;
		if (ref >= 0) {
			if (jq_visit(q, ref, k[i].el, &k[i].key))
				return -1;
		} else {
			k[i].key = jsonx_ref(k[i].el);
		}
		*count = i + 1;
		int m = mask_of(k[i].key);
		if (!(m & (M_NUM | M_STR)) || (kind && m != kind))
			return elements_err(q, f, ref >= 0
				? "an expression giving all numbers or all "
				  "strings"
				: "an array of numbers or of strings");
		kind = m;
	}
	return 0;
}

static void keyed_free(struct keyed *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(k[i].key);
	free(k);
}

/* sort, sort_by, max, min, max_by, min_by. */
static int f_order(struct jq *q, const struct jq_fn *f, json_object **argv,
		   const int *refs, int argc, json_object **out)
{
	bool by = argc == 2, sort = f->name[0] == 's';
	struct keyed *k = NULL;
	size_t n = 0;
	int rc = -1;

	if (check(q, f, argv, refs, 0, M_ARR, by ? "an array"
			: "an array of numbers or of strings") ||
	    (by && check(q, f, argv, refs, 1, M_REF, "")))
		return -1;
	if (keyed(q, f, argv[0], by ? refs[1] : -1, &k, &n))
		goto out;
	if (sort) {
		qsort(k, n, sizeof(*k), cmp_keyed);
		json_object *r = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(r, jsonx_ref(k[i].el));
		*out = r;
	} else if (n) {
		size_t best = 0;
		bool max = strncmp(f->name, "max", 3) == 0;
		for (size_t i = 1; i < n; i++) {
			int c = cmp_values(k[i].key, k[best].key);
			if (max ? c > 0 : c < 0)
				best = i;
		}
		*out = jsonx_ref(k[best].el);
	}
	rc = 0;
out:
	keyed_free(k, n);
	return rc;
}

static int f_map(struct jq *q, const struct jq_fn *f, json_object **argv,
		 const int *refs, int argc, json_object **out)
{
	json_object *r, *t;

	if (check(q, f, argv, refs, 0, M_REF, "") ||
	    check(q, f, argv, refs, 1, M_ARR, "an array"))
		return -1;
	size_t n = json_object_array_length(argv[1]);
	r = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		if (jq_visit(q, refs[0], json_object_array_get_idx(argv[1], i),
			     &t)) {
			json_object_put(r);
			return -1;
		}
		json_object_array_add(r, t);
	}
	*out = r;
	return 0;
}

static const struct jq_fn fns[] = {
	{"abs", 1, 1, f_num1},
	{"avg", 1, 1, f_sum_avg},
	{"ceil", 1, 1, f_num1},
	{"contains", 2, 2, f_contains},
	{"ends_with", 2, 2, f_affix},
	{"floor", 1, 1, f_num1},
	{"join", 2, 2, f_join},
	{"keys", 1, 1, f_keys_values},
	{"length", 1, 1, f_length},
	{"map", 2, 2, f_map},
	{"max", 1, 1, f_order},
	{"max_by", 2, 2, f_order},
	{"merge", 1, -1, f_merge},
	{"min", 1, 1, f_order},
	{"min_by", 2, 2, f_order},
	{"not_null", 1, -1, f_not_null},
	{"reverse", 1, 1, f_reverse},
	{"sort", 1, 1, f_order},
	{"sort_by", 2, 2, f_order},
	{"starts_with", 2, 2, f_affix},
	{"sum", 1, 1, f_sum_avg},
	{"to_array", 1, 1, f_to_array},
	{"to_number", 1, 1, f_to_number},
	{"to_string", 1, 1, f_to_string},
	{"type", 1, 1, f_type},
	{"values", 1, 1, f_keys_values},
};

const struct jq_fn *jq_fn_find(const char *name)
{
	for (size_t i = 0; i < sizeof(fns) / sizeof(*fns); i++)
		if (strcmp(fns[i].name, name) == 0)
			return &fns[i];
	return NULL;
}
