/* jsonx: see jsonx.h. */
#include "jsonx.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsnum.h"
#include "jsonerr.h"
#include "util.h"

/* Parsers are kept for the life of the process, one per depth limit:
 * a new json_tokener allocates its state stack on every call. */
static struct {
	int depth;
	json_tokener *tok;
} tokeners[4];

static json_tokener *tokener(int depth)
{
	int i;
	for (i = 0; i < 4 && tokeners[i].tok; i++)
		if (tokeners[i].depth == depth) {
			json_tokener_reset(tokeners[i].tok);
			return tokeners[i].tok;
		}
	if (i == 4) {
		i = 3;
		json_tokener_free(tokeners[i].tok);
	}
	tokeners[i].tok = json_tokener_new_ex(depth);
	if (!tokeners[i].tok)
		util_oom();
	tokeners[i].depth = depth;
	return tokeners[i].tok;
}

/* json-c's strict mode still reads NaN and Infinity, which no JSON
 * printer may write back: refuse them on input. */
static bool finite_tree(json_object *o, int depth)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!finite_tree(json_object_array_get_idx(o, i), depth + 1))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (!finite_tree(v, depth + 1))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

int jsonx_parse(const char *s, size_t n, int max_depth, json_object **out,
		char *err, size_t errlen)
{
	json_tokener *tok;
	json_object *o = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int rc = -1;

	*out = NULL;
	if (!util_utf8_valid(s, n)) {
		snprintf(err, errlen, "Invalid UTF-8 in JSON body");
		return -1;
	}
	tok = tokener(max_depth);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)n);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && end == n) {
		/* A top-level number or literal ("123", "true", "null") only
		 * ends at a terminator: feed the NUL json-c takes as the end
		 * of input.  Anything still open stays an error. */
		json_object *last = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success) {
			o = last;
			jerr = json_tokener_success;
		} else {
			json_object_put(last);
		}
	}
	if (jerr == json_tokener_continue) {
		/* The text ended inside a value: parse it again and append a
		 * blank and a byte no JSON state takes, so that json-c says
		 * what it was waiting for. */
		json_tokener_reset(tok);
		json_object_put(json_tokener_parse_ex(tok, s, (int)n));
		json_object_put(json_tokener_parse_ex(tok, " \x01", 2));
		jsonerr_message(s, n, json_tokener_get_error(tok), n, true, err,
				errlen);
		goto out;
	}
	if (jerr != json_tokener_success) {
		if (jerr == json_tokener_error_depth)
			snprintf(err, errlen,
				 "JSON nested deeper than %d levels",
				 max_depth);
		else
			jsonerr_message(s, n, jerr, end, false, err, errlen);
		goto out;
	}
	if (jsonerr_strict(s, n, err, errlen))
		goto out;
	if (!finite_tree(o, 0)) {
		snprintf(err, errlen, "NaN and Infinity are not JSON numbers");
		goto out;
	}
	while (end < n && strchr(" \t\r\n", s[end]))
		end++;
	if (end != n) {
		snprintf(err, errlen,
			 "Unexpected non-whitespace character after JSON at "
			 "position %zu",
			 jsonerr_units(s, end));
		goto out;
	}
	*out = o;
	o = NULL;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

void jsonx_cleanup(void)
{
	for (int i = 0; i < 4; i++) {
		if (tokeners[i].tok)
			json_tokener_free(tokeners[i].tok);
		tokeners[i].tok = NULL;
	}
}

const char *jsonx_str(json_object *o)
{
	return json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

void jsonx_freeze(json_object *o)
{
	char *text;
	if (!o || json_object_get_userdata(o))
		return;
	text = util_xstrdup(jsonx_str(o));
	json_object_set_serializer(o, json_object_userdata_to_json_string, text,
				   json_object_free_userdata);
}

json_object *jsonx_get(json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (!obj || !json_object_is_type(obj, json_type_object))
		return NULL;
	json_object_object_get_ex(obj, key, &v);
	return v;
}

bool jsonx_has(json_object *obj, const char *key)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return false;
	return json_object_object_get_ex(obj, key, NULL);
}

const char *jsonx_get_str(json_object *obj, const char *key)
{
	json_object *v = jsonx_get(obj, key);
	return json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

bool jsonx_to_int64(json_object *o, int64_t *out)
{
	if (!o)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_int:
		errno = 0;
		*out = json_object_get_int64(o);
		return errno == 0 || *out != INT64_MAX;
	case json_type_double: {
		double d = json_object_get_double(o);
		if (!jsnum_is_int(d))
			return false;
		*out = (int64_t)d;
		return true;
	}
	case json_type_string:
		return util_parse_int64(json_object_get_string(o), out) == 0;
	default:
		return false;
	}
}

bool jsonx_get_int(json_object *obj, const char *key, int64_t *out)
{
	return jsonx_to_int64(jsonx_get(obj, key), out);
}

bool jsonx_get_bool(json_object *obj, const char *key, bool dflt)
{
	if (!jsonx_has(obj, key))
		return dflt;
	return jsonx_truthy(jsonx_get(obj, key));
}

json_object *jsonx_number(double d)
{
	char s[JSNUM_MAX];
	if (jsnum_is_int(d))
		return json_object_new_int64((int64_t)d);
	if (!isfinite(d))
		return NULL;
	return json_object_new_double_s(d, jsnum_format(d, s));
}

json_object *jsonx_ref(json_object *o)
{
	return o ? json_object_get(o) : NULL;
}

json_object *jsonx_copy(json_object *o)
{
	json_object *c = NULL;
	if (!o)
		return NULL;
	if (json_object_deep_copy(o, &c, NULL) != 0)
		return NULL;
	return c;
}

bool jsonx_truthy(json_object *o)
{
	if (!o)
		return false;
	switch (json_object_get_type(o)) {
	case json_type_null: return false;
	case json_type_boolean: return json_object_get_boolean(o);
	case json_type_int: return json_object_get_int64(o) != 0;
	case json_type_double: {
		double d = json_object_get_double(o);
		return d != 0 && !isnan(d);
	}
	case json_type_string: return json_object_get_string_len(o) > 0;
	default: return true;
	}
}

bool jsonx_to_double(json_object *o, double *out)
{
	if (!o) {
		return false;
	}
	switch (json_object_get_type(o)) {
	case json_type_null: *out = 0; return true;
	case json_type_boolean: *out = json_object_get_boolean(o); return true;
	case json_type_int: *out = (double)json_object_get_int64(o); return true;
	case json_type_double: *out = json_object_get_double(o); return true;
	case json_type_string: {
		const char *s = json_object_get_string(o);
		char *end;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s) {
			*out = 0;
			return true;
		}
		if (!strncmp(s, "Infinity", 8) || !strncmp(s, "+Infinity", 9) ||
		    !strncmp(s, "-Infinity", 9)) {
			*out = s[0] == '-' ? -INFINITY : INFINITY;
			return true;
		}
		/* strtod takes "nan", "inf" and hex floats; JS Number does not. */
		for (const char *c = s; *c; c++)
			if (strchr("xXnNiI", *c))
				return false;
		*out = strtod(s, &end);
		while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
			end++;
		return *end == 0;
	}
	case json_type_array: {
		size_t n = json_object_array_length(o);
		if (n == 0) {
			*out = 0;
			return true;
		}
		if (n == 1)
			return jsonx_to_double(json_object_array_get_idx(o, 0), out);
		return false;
	}
	default: return false;
	}
}

static void js_append(char **acc, size_t *len, const char *piece)
{
	size_t n = strlen(piece);
	char *tmp = util_xrealloc(*acc, *len + n + 1);
	*acc = tmp;
	memcpy(*acc + *len, piece, n + 1);
	*len += n;
}

/* JS String(): inside arrays null and undefined print as "". */
static void js_string_into(json_object *o, bool null_empty, char **acc,
			   size_t *len, int depth)
{
	char num[JSNUM_MAX];

	if (!o || json_object_is_type(o, json_type_null)) {
		if (depth > 0 || null_empty)
			return;
		js_append(acc, len, o ? "null" : "undefined");
		return;
	}
	switch (json_object_get_type(o)) {
	case json_type_boolean:
		js_append(acc, len, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int:
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_object_get_int64(o));
		js_append(acc, len, num);
		break;
	case json_type_double:
		js_append(acc, len, jsnum_format(json_object_get_double(o), num));
		break;
	case json_type_string:
		js_append(acc, len, json_object_get_string(o));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n && depth < 32; i++) {
			if (i > 0)
				js_append(acc, len, ",");
			js_string_into(json_object_array_get_idx(o, i), true, acc,
				       len, depth + 1);
		}
		break;
	}
	default:
		js_append(acc, len, "[object Object]");
	}
}

char *jsonx_to_js_string(json_object *o, bool null_empty)
{
	char *acc = util_xmalloc(1);
	size_t len = 0;
	acc[0] = 0;
	js_string_into(o, null_empty, &acc, &len, 0);
	return acc;
}

bool jsonx_equal(json_object *a, json_object *b)
{
	double x, y;
	if (!a || !b)
		return a == b;
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	if ((ta == json_type_int || ta == json_type_double) &&
	    (tb == json_type_int || tb == json_type_double)) {
		jsonx_to_double(a, &x);
		jsonx_to_double(b, &y);
		return x == y;
	}
	return json_object_equal(a, b) == 1;
}

void jsonx_overlay(json_object *dst, json_object *src)
{
	if (!json_object_is_type(dst, json_type_object) ||
	    !json_object_is_type(src, json_type_object))
		return;
	json_object_object_foreach(src, k, v)
		json_object_object_add(dst, k, jsonx_ref(v));
}

json_object *jsonx_path(json_object *root, const char *path)
{
	json_object *cur = root;
	const char *p = path;
	char seg[256];

	if (!path || !*path)
		return root;
	while (cur && *p) {
		size_t n = strcspn(p, ".[]");
		if (n == 0) {
			p++;
			continue;
		}
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = 0;
		p += n;
		if (json_object_is_type(cur, json_type_array)) {
			int64_t idx;
			if (util_parse_int64(seg, &idx) || idx < 0 ||
			    (size_t)idx >= json_object_array_length(cur))
				return NULL;
			cur = json_object_array_get_idx(cur, (size_t)idx);
		} else if (json_object_is_type(cur, json_type_object)) {
			if (!json_object_object_get_ex(cur, seg, &cur))
				return NULL;
		} else {
			return NULL;
		}
	}
	return cur;
}
