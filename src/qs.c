/* qs: see qs.h. */
#include "qs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"

#define QS_MAX_PAIRS 1000
#define QS_MAX_DEPTH 5
#define QS_ARRAY_LIMIT 100

/* Put value under key of obj, turning a repeat into an array. */
static void obj_put(json_object *obj, const char *key, json_object *val)
{
	json_object *old = jsonx_get(obj, key);
	if (!jsonx_has(obj, key)) {
		json_object_object_add(obj, key, val);
	} else if (json_object_is_type(old, json_type_array)) {
		json_object_array_add(old, val);
	} else {
		json_object *arr = json_object_new_array();
		json_object_array_add(arr, jsonx_ref(old));
		json_object_array_add(arr, val);
		json_object_object_add(obj, key, arr);
	}
}

/* An array that must take a non-index key becomes an object keyed by
 * index, as qs does. */
static json_object *arr_to_obj(json_object *arr)
{
	json_object *o = json_object_new_object();
	char k[24];
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		snprintf(k, sizeof(k), "%zu", i);
		json_object_object_add(o, k,
				       jsonx_ref(json_object_array_get_idx(arr, i)));
	}
	return o;
}

static bool is_index(const char *s, long *idx)
{
	int64_t v;
	if (util_parse_int64(s, &v) || v < 0 || v > QS_ARRAY_LIMIT || s[0] == '-')
		return false;
	*idx = (long)v;
	return true;
}

static bool is_container(json_object *o)
{
	return json_object_is_type(o, json_type_array) ||
	       json_object_is_type(o, json_type_object);
}

static void assign(json_object *parent, const char *key, char **segs, int n,
		   json_object *val);

/* The value segs[0..n) and val make on their own, in fresh containers. */
static json_object *nested(const char *key, char **segs, int n,
			   json_object *val)
{
	json_object *holder = json_object_new_object();
	assign(holder, key, segs, n, val);
	json_object *v = jsonx_ref(jsonx_get(holder, key));
	json_object_put(holder);
	return v;
}

/* Assign val at segs[0..n) below container *slot (an object's member). */
static void assign(json_object *parent, const char *key, char **segs, int n,
		   json_object *val)
{
	json_object *cur;
	long idx = 0;

	if (n == 0) {
		if (json_object_is_type(parent, json_type_array))
			json_object_array_add(parent, val);
		else
			obj_put(parent, key, val);
		return;
	}
	bool want_arr = segs[0][0] == 0 || is_index(segs[0], &idx);
	if (json_object_is_type(parent, json_type_array)) {
		/* Nested below an array element: a[0][b]=1 */
		if (!is_index(key, &idx) ||
		    (size_t)idx >= json_object_array_length(parent)) {
			cur = want_arr ? json_object_new_array()
				       : json_object_new_object();
			json_object_array_add(parent, cur);
		} else {
			cur = json_object_array_get_idx(parent, (size_t)idx);
			if (!is_container(cur)) {
				/* a[0]=1&a[0][b]=2: qs pushes the nested value
				 * after the scalar (["1",{"b":"2"}]). */
				json_object_array_add(parent,
						      nested(key, segs, n, val));
				return;
			}
		}
	} else {
		cur = jsonx_get(parent, key);
		if (cur && !is_container(cur)) {
			/* a=1&a[b]=2, a=&a[]: a scalar met by a bracketed
			 * key becomes [scalar].concat(nested value), as qs
			 * merges them (["1",{"b":"2"}], ["",null]).  Adding a
			 * member to the scalar's place as if it were an
			 * object made json-c abort the process on an
			 * assertion (fuzz_query: "a=&a[]"). */
			json_object *arr = json_object_new_array();
			json_object *nv = nested(key, segs, n, val), *it;
			size_t len = json_object_is_type(nv, json_type_array)
					     ? json_object_array_length(nv)
					     : 0;
			json_object_array_add(arr, jsonx_ref(cur));
			for (size_t i = 0; i < len; i++) {
				it = json_object_array_get_idx(nv, i);
				json_object_array_add(arr, jsonx_ref(it));
			}
			if (json_object_is_type(nv, json_type_array))
				json_object_put(nv);
			else
				json_object_array_add(arr, nv);
			json_object_object_add(parent, key, arr);
			return;
		}
		if (!cur) {
			cur = want_arr ? json_object_new_array()
				       : json_object_new_object();
			json_object_object_add(parent, key, cur);
		}
	}
	if (json_object_is_type(cur, json_type_array) && !want_arr) {
		json_object *o = arr_to_obj(cur);
		if (json_object_is_type(parent, json_type_object))
			json_object_object_add(parent, key, o);
		else
			json_object_array_put_idx(parent, (size_t)idx, o);
		cur = o;
	}
	if (json_object_is_type(cur, json_type_array)) {
		if (n == 1) {
			json_object_array_add(cur, val);
			return;
		}
		assign(cur, segs[0], segs + 1, n - 1, val);
		return;
	}
	assign(cur, segs[0], segs + 1, n - 1, val);
}

static char *decode(const char *s, size_t n, char *err, size_t errlen)
{
	char *d = util_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = 0;
	long len = util_url_decode(d, n, true);
	if (len < 0 || !util_utf8_valid(d, (size_t)len)) {
		snprintf(err, errlen, "Malformed query string: a bad percent "
				      "escape or invalid UTF-8");
		free(d);
		return NULL;
	}
	return d;
}

json_object *qs_parse(const char *s, size_t n, char *err, size_t errlen)
{
	json_object *root = json_object_new_object();
	size_t pos = 0;
	int pairs = 0;

	while (pos < n && pairs < QS_MAX_PAIRS) {
		size_t end = pos;
		while (end < n && s[end] != '&')
			end++;
		const char *p = s + pos;
		size_t len = end - pos;
		pos = end + 1;
		if (len == 0)
			continue;
		pairs++;
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		char *key = decode(p, klen, err, errlen);
		char *val = eq ? decode(eq + 1, len - klen - 1, err, errlen)
			       : NULL;
		if (!key || (eq && !val)) {
			free(key);
			free(val);
			json_object_put(root);
			return NULL;
		}
		json_object *v = val ? json_object_new_string(val) : NULL;
		free(val);
		/* root[seg1][seg2]...: split the decoded key. */
		char *segs[QS_MAX_DEPTH];
		int nseg = 0;
		char *br = strchr(key, '[');
		if (br && br != key) {
			char *cur = br;
			*cur = 0;
			cur++;
			while (nseg < QS_MAX_DEPTH) {
				char *close = strchr(cur, ']');
				if (!close)
					break;
				*close = 0;
				segs[nseg++] = cur;
				if (close[1] != '[')
					break;
				cur = close + 2;
			}
		}
		if (nseg == 0 && br && br != key)
			*br = '['; /* unbalanced: keep the literal key */
		assign(root, key, segs, nseg, v);
		free(key);
	}
	return root;
}
