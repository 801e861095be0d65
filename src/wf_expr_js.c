/* wf_expr_js: JavaScript value semantics over json-c values (Number(),
 * String(), ==, ===, <, +), number rounding and UTF-8 counting.  Strings
 * compare bytewise, which is code point order; JS compares UTF-16 units,
 * which differs only between astral characters and U+E000..U+FFFF. */
#include "wf_expr_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_expr.h"

enum jt { JT_NULL, JT_BOOL, JT_NUM, JT_STR, JT_OBJ };

static enum jt jtype(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return JT_NULL;
	case json_type_boolean: return JT_BOOL;
	case json_type_int:
	case json_type_double: return JT_NUM;
	case json_type_string: return JT_STR;
	default: return JT_OBJ;
	}
}

static bool js_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the longest decimal literal at s ([+-]digits[.digits][e..]
 * or [+-].digits[e..]), 0 when none. */
static size_t dec_prefix(const char *s)
{
	size_t i = 0, d = 0;

	if (s[i] == '+' || s[i] == '-')
		i++;
	while (digit(s[i])) {
		i++;
		d++;
	}
	if (s[i] == '.') {
		size_t j = i + 1, f = 0;
		while (digit(s[j])) {
			j++;
			f++;
		}
		if (d + f == 0)
			return 0;
		i = j;
	} else if (d == 0) {
		return 0;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		size_t j = i + 1;
		if (s[j] == '+' || s[j] == '-')
			j++;
		if (digit(s[j])) {
			while (digit(s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

static double strtod_n(const char *s, size_t n)
{
	char tmp[512];
	if (n >= sizeof(tmp)) {
		char *big = util_xstrndup(s, n);
		double d = strtod(big, NULL);
		free(big);
		return d;
	}
	memcpy(tmp, s, n);
	tmp[n] = 0;
	return strtod(tmp, NULL);
}

/* Infinity with optional sign; returns its length or 0. */
static size_t inf_prefix(const char *s, double *out)
{
	size_t i = (*s == '+' || *s == '-') ? 1 : 0;
	if (strncmp(s + i, "Infinity", 8) != 0)
		return 0;
	*out = *s == '-' ? -INFINITY : INFINITY;
	return i + 8;
}

static double string_to_number(const char *s)
{
	size_t n = strlen(s), i;
	double d;

	while (n && js_space(s[n - 1]))
		n--;
	while (n && js_space(*s)) {
		s++;
		n--;
	}
	if (n == 0)
		return 0;
	if (n > 2 && s[0] == '0' && strchr("xXoObB", s[1])) {
		int base = (s[1] | 0x20) == 'x' ? 16 : (s[1] | 0x20) == 'o' ? 8 : 2;
		d = 0;
		for (i = 2; i < n; i++) {
			int v = digit(s[i]) ? s[i] - '0'
				: (s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f'
				? (s[i] | 0x20) - 'a' + 10 : 99;
			if (v >= base)
				return NAN;
			d = d * base + v;
		}
		return d;
	}
	if (inf_prefix(s, &d) == n)
		return d;
	i = dec_prefix(s);
	return i == n ? strtod_n(s, n) : NAN;
}

double js_parse_float(const char *s)
{
	double d;
	size_t n;

	while (js_space(*s))
		s++;
	if (inf_prefix(s, &d))
		return d;
	n = dec_prefix(s);
	return n ? strtod_n(s, n) : NAN;
}

char *js_to_string(json_object *v)
{
	if (!v) {
		char *s = util_xstrdup("null");
		return s;
	}
	return jsonx_to_js_string(v, false);
}

double js_to_number(json_object *v)
{
	switch (jtype(v)) {
	case JT_NULL: return 0;
	case JT_BOOL: return json_object_get_boolean(v);
	case JT_NUM: return xget_num(v);
	case JT_STR: return string_to_number(json_object_get_string(v));
	default:
		if (json_object_is_type(v, json_type_array)) {
			char *s = js_to_string(v);
			double d = string_to_number(s);
			free(s);
			return d;
		}
		return NAN;
	}
}

bool js_strict_eq(json_object *a, json_object *b)
{
	enum jt ta = jtype(a), tb = jtype(b);

	if (ta != tb)
		return false;
	switch (ta) {
	case JT_NULL: return true;
	case JT_BOOL:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case JT_NUM: return xget_num(a) == xget_num(b);
	case JT_STR:
		return json_object_get_string_len(a) ==
			       json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a),
			      json_object_get_string(b),
			      (size_t)json_object_get_string_len(a)) == 0;
	default:
		/* JSON values have no identity: compare deeply. */
		return a == b || jsonx_equal(a, b);
	}
}

/* ToPrimitive: arrays and objects become their String(), a new ref. */
static json_object *to_primitive(json_object *v)
{
	if (jtype(v) != JT_OBJ)
		return jsonx_ref(v);
	char *s = js_to_string(v);
	json_object *p = json_object_new_string(s);
	free(s);
	return p;
}

static bool loose(json_object *a, json_object *b, int depth)
{
	enum jt ta = jtype(a), tb = jtype(b);
	json_object *t;
	bool r;

	if (ta == tb)
		return js_strict_eq(a, b);
	if (ta == JT_NULL || tb == JT_NULL || depth > 3)
		return false;
	if ((ta == JT_NUM && tb == JT_STR) || (ta == JT_STR && tb == JT_NUM))
		return js_to_number(a) == js_to_number(b);
	if (ta == JT_BOOL || tb == JT_BOOL) {
		bool left = ta == JT_BOOL;
		t = wf_expr_num(js_to_number(left ? a : b));
		r = left ? loose(t, b, depth + 1) : loose(a, t, depth + 1);
		json_object_put(t);
		return r;
	}
	if (ta == JT_OBJ || tb == JT_OBJ) {
		bool left = ta == JT_OBJ;
		t = to_primitive(left ? a : b);
		r = left ? loose(t, b, depth + 1) : loose(a, t, depth + 1);
		json_object_put(t);
		return r;
	}
	return false;
}

bool js_loose_eq(json_object *a, json_object *b)
{
	return loose(a, b, 0);
}

enum js_cmp js_compare(json_object *a, json_object *b)
{
	json_object *pa = to_primitive(a), *pb = to_primitive(b);
	enum js_cmp r;

	if (jtype(pa) == JT_STR && jtype(pb) == JT_STR) {
		size_t la = (size_t)json_object_get_string_len(pa);
		size_t lb = (size_t)json_object_get_string_len(pb);
		int c = memcmp(json_object_get_string(pa),
			       json_object_get_string(pb), la < lb ? la : lb);
		if (c == 0)
			c = la < lb ? -1 : la > lb;
		r = c < 0 ? JS_LT : c > 0 ? JS_GT : JS_EQ;
	} else {
		double x = js_to_number(pa), y = js_to_number(pb);
		r = isnan(x) || isnan(y) ? JS_UNORDERED
		    : x < y		 ? JS_LT
		    : x > y		 ? JS_GT
					 : JS_EQ;
	}
	json_object_put(pa);
	json_object_put(pb);
	return r;
}

int js_add(json_object *a, json_object *b, json_object **out)
{
	json_object *pa = to_primitive(a), *pb = to_primitive(b);
	int rc = 0;

	*out = NULL;
	if (jtype(pa) == JT_STR || jtype(pb) == JT_STR) {
		char *sa = js_to_string(pa), *sb = js_to_string(pb);
		size_t la = strlen(sa), lb = strlen(sb);
		if (la + lb > WF_EXPR_MAX_STR) {
			rc = -1;
		} else {
			char *s = util_xmalloc(la + lb + 1);
			memcpy(s, sa, la);
			memcpy(s + la, sb, lb + 1);
			*out = json_object_new_string_len(s, (int)(la + lb));
			free(s);
		}
		free(sa);
		free(sb);
	} else {
		*out = wf_expr_num(js_to_number(pa) + js_to_number(pb));
	}
	json_object_put(pa);
	json_object_put(pb);
	return rc;
}

double wf_expr_round_mode(double x, int n, int mode)
{
	char tmp[48], dig[24], num[32];
	int nd = 0, e10, keep, prec;
	bool up;

	if (!isfinite(x) || x == 0 || n > 340)
		return x;
	if (n < -340)
		n = -340;
	double ax = fabs(x);
	/* The shortest digits that read back as x, as JS prints them. */
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, ax);
		if (strtod(tmp, NULL) == ax)
			break;
	}
	const char *p = tmp;
	for (; *p && *p != 'e' && nd < 20; p++)
		if (*p != '.')
			dig[nd++] = *p;
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	e10 = atoi(p + 1);
	/* x = 0.d1d2...dnd * 10^(e10+1); keep the digits above 10^-n. */
	keep = e10 + 1 + n;
	if (keep >= nd)
		return x;
	if (keep < 0) {
		up = mode == 1;
		keep = 0;
	} else {
		up = mode == 0 ? dig[keep] >= '5' : mode == 1;
	}
	num[0] = '0';
	memcpy(num + 1, dig, (size_t)keep);
	num[keep + 1] = 0;
	for (int i = keep; up && i >= 0; i--) {
		if (num[i] == '9') {
			num[i] = '0';
		} else {
			num[i]++;
			up = false;
		}
	}
	snprintf(tmp, sizeof(tmp), "%se%d", num, -n);
	double r = strtod(tmp, NULL);
	if (r == 0)
		return 0;
	return x < 0 ? -r : r;
}

double wf_expr_round(double x, int n)
{
	return wf_expr_round_mode(x, n, 0);
}

const char *wf_expr_find(const char *hay, size_t hlen, const char *needle,
			 size_t nlen)
{
	const char *p = hay, *end = hay + hlen;

	if (nlen == 0)
		return hay;
	/* memchr + memcmp is quadratic only for long needles: glibc's
	 * memmem is linear there. */
	if (nlen > 32)
		return memmem(hay, hlen, needle, nlen);
	while ((size_t)(end - p) >= nlen &&
	       (p = memchr(p, needle[0], (size_t)(end - p) - nlen + 1))) {
		if (memcmp(p, needle, nlen) == 0)
			return p;
		p++;
	}
	return NULL;
}

size_t utf8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

size_t utf8_offset(const char *s, size_t n, size_t chars)
{
	size_t i = 0;
	while (i < n && chars > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		chars--;
	}
	return i;
}
