/* wf_template: see wf_template.h. */
#include "wf_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonx.h"
#include "util.h"

/* JavaScript's \s, ASCII part. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static bool tmpl_char(char c)
{
	return c && (is_word(c) || is_space(c) || strchr(":-+.,@/()?=*$", c));
}

static void trim(const char *s, size_t *off, size_t *len)
{
	while (*len && is_space(s[*off])) {
		(*off)++;
		(*len)--;
	}
	while (*len && is_space(s[*off + *len - 1]))
		(*len)--;
}

/* One attempt at position i (which holds "{{"). */
static bool match_at(const char *s, size_t len, size_t i,
		     enum wf_ph_grammar g, struct wf_placeholder *ph)
{
	size_t j = i + 2, k;

	memset(ph, 0, sizeof(*ph));
	ph->start = i;
	if (g == WF_PH_EXPR) {
		while (j < len && is_space(s[j]))
			j++;
		k = j;
		while (k < len && (is_word(s[k]) || s[k] == '$' ||
				   s[k] == '.' || s[k] == '-'))
			k++;
		if (k == j)
			return false;
		ph->key = j;
		ph->keylen = k - j;
		while (k < len && is_space(s[k]))
			k++;
		if (k + 1 >= len || s[k] != '}' || s[k + 1] != '}')
			return false;
		ph->end = k + 2;
		return true;
	}
	while (j < len && tmpl_char(s[j]))
		j++;
	if (j == i + 2 || j + 1 >= len || s[j] != '}' || s[j + 1] != '}')
		return false;
	ph->end = j + 2;
	ph->key = i + 2;
	ph->keylen = j - (i + 2);
	const char *colon = memchr(s + ph->key, ':', ph->keylen);
	if (colon) {
		size_t c = (size_t)(colon - s);
		ph->has_default = true;
		ph->dflt = c + 1;
		ph->dfltlen = j - (c + 1);
		ph->keylen = c - ph->key;
		trim(s, &ph->dflt, &ph->dfltlen);
	}
	trim(s, &ph->key, &ph->keylen);
	return true;
}

bool wf_template_scan(const char *s, size_t len, size_t from,
		      enum wf_ph_grammar g, struct wf_placeholder *ph)
{
	for (size_t i = from; i + 1 < len; i++) {
		const char *p = memchr(s + i, '{', len - i);
		if (!p)
			return false;
		i = (size_t)(p - s);
		if (i + 1 < len && s[i + 1] == '{' && match_at(s, len, i, g, ph))
			return true;
	}
	return false;
}

json_object *wf_template_value(const char *s, const struct wf_placeholder *ph,
			       wf_resolve_fn resolve, void *ctx)
{
	char path[WF_TEMPLATE_MAX_PATH + 1];
	json_object *v = NULL;

	if (ph->keylen > 0 && ph->keylen <= WF_TEMPLATE_MAX_PATH && resolve) {
		memcpy(path, s + ph->key, ph->keylen);
		path[ph->keylen] = 0;
		v = resolve(ctx, path);
	}
	if (!v && ph->has_default)
		v = json_object_new_string_len(s + ph->dflt, (int)ph->dfltlen);
	return v;
}

struct rstate {
	wf_resolve_fn resolve;
	void *ctx;
	size_t used; /* rendered text so far, against WF_TEMPLATE_MAX_OUT */
	char *err;
	size_t errlen;
};

static int over_limit(struct rstate *st)
{
	snprintf(st->err, st->errlen,
		 "rendered template exceeds %u bytes", WF_TEMPLATE_MAX_OUT);
	return -1;
}

static int add_text(struct rstate *st, struct buf *b, const char *p, size_t n)
{
	if (n > WF_TEMPLATE_MAX_OUT - st->used)
		return over_limit(st);
	st->used += n;
	buf_append(b, p, n);
	return 0;
}

/* Stringify every placeholder of s into b. */
static int render_text(struct rstate *st, const char *s, size_t len,
		       struct buf *b)
{
	struct wf_placeholder ph;
	size_t at = 0;

	while (wf_template_scan(s, len, at, WF_PH_TEMPLATE, &ph)) {
		if (add_text(st, b, s + at, ph.start - at))
			return -1;
		json_object *v = wf_template_value(s, &ph, st->resolve, st->ctx);
		char *t = jsonx_to_js_string(v, true);
		int rc = add_text(st, b, t, strlen(t));
		free(t);
		json_object_put(v);
		if (rc)
			return -1;
		at = ph.end;
	}
	return add_text(st, b, s + at, len - at);
}

static int render_string(struct rstate *st, json_object *str, json_object **out)
{
	const char *s = json_object_get_string(str);
	size_t len = (size_t)json_object_get_string_len(str);
	struct wf_placeholder ph;
	struct buf b = {0};

	if (!wf_template_scan(s, len, 0, WF_PH_TEMPLATE, &ph)) {
		*out = json_object_get(str);
		return 0;
	}
	if (ph.start == 0 && ph.end == len) {
		*out = wf_template_value(s, &ph, st->resolve, st->ctx);
		return 0;
	}
	if (render_text(st, s, len, &b)) {
		buf_free(&b);
		return -1;
	}
	*out = json_object_new_string_len(buf_str(&b), (int)b.len);
	buf_free(&b);
	return 0;
}

static int render(struct rstate *st, json_object *t, int depth,
		  json_object **out)
{
	json_object *res = NULL, *v;
	struct buf key = {0};

	*out = NULL;
	if (!t)
		return 0;
	if (depth >= WF_TEMPLATE_MAX_DEPTH) {
		*out = json_object_get(t);
		return 0;
	}
	switch (json_object_get_type(t)) {
	case json_type_string:
		return render_string(st, t, out);
	case json_type_array: {
		size_t n = json_object_array_length(t);
		res = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++) {
			if (render(st, json_object_array_get_idx(t, i),
				   depth + 1, &v))
				goto fail;
			json_object_array_add(res, v);
		}
		break;
	}
	case json_type_object:
		res = json_object_new_object();
		json_object_object_foreach(t, k, val) {
			buf_reset(&key);
			if (render_text(st, k, strlen(k), &key) ||
			    render(st, val, depth + 1, &v))
				goto fail;
			json_object_object_add(res, buf_str(&key), v);
		}
		break;
	default:
		res = json_object_get(t);
	}
	buf_free(&key);
	*out = res;
	return 0;
fail:
	buf_free(&key);
	json_object_put(res);
	return -1;
}

int wf_template_render_ex(json_object *tmpl, wf_resolve_fn resolve, void *ctx,
			  json_object **out, char *err, size_t errlen)
{
	struct rstate st = {resolve, ctx, 0, err, errlen};
	return render(&st, tmpl, 0, out);
}

json_object *wf_template_render(json_object *tmpl, wf_resolve_fn resolve,
				void *ctx)
{
	json_object *out = NULL;
	char err[128];
	if (wf_template_render_ex(tmpl, resolve, ctx, &out, err, sizeof(err)))
		return NULL;
	return out;
}

char *wf_template_render_str(const char *tmpl, wf_resolve_fn resolve,
			     void *ctx)
{
	char err[128];
	struct rstate st = {resolve, ctx, 0, err, sizeof(err)};
	struct buf b = {0};
	char *s;

	if (!tmpl)
		tmpl = "";
	if (render_text(&st, tmpl, strlen(tmpl), &b)) {
		buf_free(&b);
		return NULL;
	}
	s = util_xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* ---- lookup ---------------------------------------------------------- */

static size_t utf8_count(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* One path step; cur is borrowed, the result is a new reference. */
static json_object *step(json_object *cur, const char *seg)
{
	json_object *v = NULL;

	switch (json_object_get_type(cur)) {
	case json_type_object:
		json_object_object_get_ex(cur, seg, &v);
		return jsonx_ref(v);
	case json_type_string:
		if (strcmp(seg, "length") == 0)
			return json_object_new_int64((int64_t)utf8_count(
				json_object_get_string(cur),
				(size_t)json_object_get_string_len(cur)));
		return NULL;
	case json_type_array:
		break;
	default:
		return NULL;
	}
	size_t n = json_object_array_length(cur);
	if (all_digits(seg)) {
		int64_t idx;
		if (util_parse_int64(seg, &idx) || (uint64_t)idx >= n)
			return NULL;
		return jsonx_ref(json_object_array_get_idx(cur, (size_t)idx));
	}
	if (strcmp(seg, "length") == 0)
		return json_object_new_int64((int64_t)n);
	/* Column projection: map to the field, flatten one level. */
	json_object *res = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(cur, i);
		v = NULL;
		if (json_object_is_type(e, json_type_object))
			json_object_object_get_ex(e, seg, &v);
		if (json_object_is_type(v, json_type_array)) {
			size_t m = json_object_array_length(v);
			for (size_t j = 0; j < m; j++)
				json_object_array_add(
					res, jsonx_ref(json_object_array_get_idx(
						     v, j)));
		} else {
			json_object_array_add(res, jsonx_ref(v));
		}
	}
	return res;
}

/* Next segment of a lodash path into seg; returns the rest or NULL at the
 * end.  Forms: a.b, a[0], a["k"], a['k']. */
static const char *next_segment(const char *p, char *seg, size_t cap,
				bool *ok)
{
	size_t n = 0;

	*ok = true;
	if (*p == '.')
		p++;
	if (*p == '[') {
		char q = 0;
		p++;
		if (*p == '"' || *p == '\'')
			q = *p++;
		while (*p && (q ? *p != q : *p != ']')) {
			if (n + 1 >= cap) {
				*ok = false;
				return NULL;
			}
			seg[n++] = *p++;
		}
		if (q && *p == q)
			p++;
		if (*p != ']') {
			*ok = false;
			return NULL;
		}
		p++;
	} else {
		while (*p && *p != '.' && *p != '[') {
			if (n + 1 >= cap) {
				*ok = false;
				return NULL;
			}
			seg[n++] = *p++;
		}
	}
	seg[n] = 0;
	return p;
}

json_object *wf_template_lookup(json_object *root, const char *path)
{
	char seg[WF_TEMPLATE_MAX_PATH + 1];
	json_object *cur, *whole = NULL;
	const char *p = path;
	bool ok;

	if (!root || !path || !*path)
		return NULL;
	if (json_object_object_get_ex(root, path, &whole))
		return jsonx_ref(whole);
	cur = json_object_get(root);
	while (cur && *p) {
		p = next_segment(p, seg, sizeof(seg), &ok);
		if (!ok) {
			json_object_put(cur);
			return NULL;
		}
		json_object *nx = step(cur, seg);
		json_object_put(cur);
		cur = nx;
	}
	return cur;
}
