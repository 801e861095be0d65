/* records: see records.h. */
#include "records.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "jsnum.h"
#include "jsonx.h"
#include "limits.h"
#include "util.h"

#define APPEND_MAX_DEPTH LIMIT_APPEND_DEPTH

int rec_fail(struct rctx *x, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->reason, sizeof(x->reason), fmt, ap);
	va_end(ap);
	return err;
}

/* Carry the store's reason up. */
static int from_store(struct rctx *x, int rc)
{
	if (rc) {
		snprintf(x->reason, sizeof(x->reason), "%s",
			 store_errmsg(x->app->st));
		if (rc == APP_EFIELD)
			x->message = "Invalid SQL column or table reference";
	}
	return rc;
}

static const struct schema *S(struct rctx *x)
{
	return x->app->schema;
}

/* A write to users, roles, grants or revoked tokens moves the security
 * counter, so every process drops its cached principals and decisions. */
static int touched(struct rctx *x, const struct coll *c)
{
	if (!c || !c->security)
		return 0;
	return from_store(x, store_bump(x->app->st, "security_version"));
}

json_object *rec_and(json_object *a, json_object *b)
{
	bool ea = !a || (json_object_is_type(a, json_type_object) &&
			 json_object_object_length(a) == 0);
	bool eb = !b || (json_object_is_type(b, json_type_object) &&
			 json_object_object_length(b) == 0);
	if (ea && eb)
		return NULL;
	if (ea)
		return jsonx_ref(b);
	if (eb)
		return jsonx_ref(a);
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	json_object_array_add(arr, jsonx_ref(a));
	json_object_array_add(arr, jsonx_ref(b));
	json_object_object_add(o, "$and", arr);
	return o;
}

static int bad_value(struct rctx *x, const struct field *f, json_object *v,
		     const char *want)
{
	return rec_fail(x, APP_EVALIDATION,
			"Invalid value %s for field \"%s\": expected %s",
			jsonx_str(v), f->name, want);
}

/* A string or text field takes any scalar, as JavaScript's String(). */
static int coerce_text(struct rctx *x, const struct field *f, json_object *v,
		       json_object **out)
{
	enum json_type jt = json_object_get_type(v);
	char *str;

	if (jt == json_type_string) {
		*out = jsonx_ref(v);
		return 0;
	}
	if (jt == json_type_object || jt == json_type_array)
		return bad_value(x, f, v, "a string");
	str = jsonx_to_js_string(v, false);
	*out = json_object_new_string(str);
	free(str);
	return 0;
}

/* A number or numeric text, finite (*d); booleans, containers and empty
 * text are not numbers. */
static bool number_of(json_object *v, double *d)
{
	enum json_type jt = json_object_get_type(v);

	return jt != json_type_boolean && jt != json_type_object &&
	       jt != json_type_array &&
	       (jt != json_type_string || json_object_get_string_len(v)) &&
	       jsonx_to_double(v, d) && isfinite(*d);
}

static int coerce_integer(struct rctx *x, const struct field *f,
			  json_object *v, json_object **out)
{
	double d;

	if (!number_of(v, &d) || !jsnum_is_int(d))
		return bad_value(x, f, v, "an integer");
	if (f->type == FT_INTEGER && (d > 2147483647.0 || d < -2147483648.0))
		return rec_fail(x, APP_EVALIDATION,
				"Value %s of field \"%s\" is out of range for "
				"an integer",
				jsonx_str(v), f->name);
	*out = json_object_new_int64((int64_t)d);
	return 0;
}

/* float and double as numbers; decimal as its text (the text given, or
 * the shortest one of the number). */
static int coerce_real(struct rctx *x, const struct field *f, json_object *v,
		       json_object **out)
{
	char buf[JSNUM_MAX + 8];
	double d;

	if (!number_of(v, &d))
		return bad_value(x, f, v, "a number");
	if (f->type != FT_DECIMAL)
		*out = json_object_new_double(d);
	else if (json_object_is_type(v, json_type_string))
		*out = json_object_new_string(json_object_get_string(v));
	else
		*out = json_object_new_string(jsnum_format(d, buf));
	return 0;
}

/* true/false, 1/0 and their texts. */
static int coerce_boolean(struct rctx *x, const struct field *f,
			  json_object *v, json_object **out)
{
	const char *s;
	int64_t i;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		*out = json_object_new_boolean(json_object_get_boolean(v));
		return 0;
	case json_type_int:
		if ((i = json_object_get_int64(v)) != 0 && i != 1)
			break;
		*out = json_object_new_boolean(i == 1);
		return 0;
	case json_type_string:
		s = json_object_get_string(v);
		if (!strcmp(s, "true") || !strcmp(s, "1"))
			*out = json_object_new_boolean(1);
		else if (!strcmp(s, "false") || !strcmp(s, "0"))
			*out = json_object_new_boolean(0);
		else
			break;
		return 0;
	default:
		break;
	}
	return bad_value(x, f, v, "a boolean");
}

/* ISO-8601 text or epoch milliseconds, stored as ISO-8601 UTC text. */
static int coerce_date(struct rctx *x, const struct field *f, json_object *v,
		       json_object **out)
{
	enum json_type jt = json_object_get_type(v);
	char iso[32];
	int64_t ms;
	double d;

	if (jt == json_type_string &&
	    !util_ms_from_iso(json_object_get_string(v), &ms)) {
		util_iso_from_ms(ms, iso);
	} else if ((jt == json_type_int || jt == json_type_double) &&
		   jsonx_to_double(v, &d) && util_ms_is_iso(d)) {
		/* beyond the years 0-9999 (1e300) it is no date: cast to int64
		 * it stored garbage such as "8994-08-17T07:12:54.B08Z" */
		util_iso_from_ms((int64_t)d, iso);
	} else {
		return bad_value(x, f, v, "an ISO-8601 date");
	}
	*out = json_object_new_string(iso);
	return 0;
}

static int coerce_password(struct rctx *x, const struct field *f,
			   json_object *v, json_object **out)
{
	char hash[65];

	if (!json_object_is_type(v, json_type_string))
		return bad_value(x, f, v, "a string");
	if (crypto_password_hash(json_object_get_string(v), hash))
		return rec_fail(x, APP_EINTERNAL, "password hashing failed");
	*out = json_object_new_string(hash);
	return 0;
}

int rec_coerce(struct rctx *x, const struct field *f, json_object *v,
	       json_object **out)
{
	enum json_type jt = json_object_get_type(v);

	*out = NULL;
	if (!v || jt == json_type_null)
		return 0;
	/* Values already in their stored form pass as they are. */
	if ((jt == json_type_int && f->type == FT_BIGINT) ||
	    (jt == json_type_boolean && f->type == FT_BOOLEAN)) {
		*out = jsonx_ref(v);
		return 0;
	}
	switch (f->type) {
	case FT_STRING:
	case FT_TEXT: return coerce_text(x, f, v, out);
	case FT_INTEGER:
	case FT_BIGINT: return coerce_integer(x, f, v, out);
	case FT_FLOAT:
	case FT_DOUBLE:
	case FT_DECIMAL: return coerce_real(x, f, v, out);
	case FT_BOOLEAN: return coerce_boolean(x, f, v, out);
	case FT_DATE: return coerce_date(x, f, v, out);
	case FT_JSON:
		/* Objects and arrays are bound as their JSON text by the store;
		 * scalars need it spelled out ("abc" must stay a string). */
		if (jt == json_type_object || jt == json_type_array)
			*out = jsonx_ref(v);
		else
			*out = json_object_new_string(jsonx_str(v));
		return 0;
	case FT_PASSWORD: return coerce_password(x, f, v, out);
	default: return bad_value(x, f, v, "a plain value");
	}
}

int rec_pk(struct rctx *x, const struct coll *c, json_object *tk,
	   json_object **out)
{
	const struct field *pk = coll_pk(c);
	int64_t v;

	*out = NULL;
	if (!tk || json_object_is_type(tk, json_type_null) ||
	    json_object_is_type(tk, json_type_object) ||
	    json_object_is_type(tk, json_type_array))
		return rec_fail(x, APP_EID, "Invalid %s %s for collection \"%s\"",
				c->pk, tk ? jsonx_str(tk) : "(none)", c->name);
	if (c->pk_int) {
		if (!jsonx_to_int64(tk, &v) ||
		    json_object_is_type(tk, json_type_boolean)) {
			char *s = jsonx_to_js_string(tk, false);
			snprintf(x->msgbuf, sizeof(x->msgbuf),
				 "invalid input syntax for type bigint: \"%.200s\"",
				 s);
			free(s);
			x->message = x->msgbuf;
			return rec_fail(x, APP_EID,
					"Invalid %s %s for collection \"%s\": "
					"expected an integer within 64 bits",
					c->pk, jsonx_str(tk), c->name);
		}
		*out = json_object_new_int64(v);
		return 0;
	}
	return rec_coerce(x, pk, tk, out);
}

int rec_tk_filter(struct rctx *x, const struct coll *c, json_object *tk,
		  json_object **filter)
{
	json_object *f = json_object_new_object(), *v = NULL;
	int rc = 0;

	*filter = NULL;
	if (json_object_is_type(tk, json_type_array)) {
		json_object *in = json_object_new_array(), *op;
		for (size_t i = 0; i < json_object_array_length(tk); i++) {
			if ((rc = rec_pk(x, c, json_object_array_get_idx(tk, i),
					 &v))) {
				json_object_put(in);
				goto out;
			}
			json_object_array_add(in, v);
		}
		op = json_object_new_object();
		json_object_object_add(op, "$in", in);
		json_object_object_add(f, c->pk, op);
	} else {
		if ((rc = rec_pk(x, c, tk, &v)))
			goto out;
		json_object_object_add(f, c->pk, v);
	}
	*filter = f;
	f = NULL;
out:
	json_object_put(f);
	return rc;
}

static json_object *str_list(json_object *a)
{
	json_object *out = json_object_new_array();
	if (json_object_is_type(a, json_type_string)) {
		json_object_array_add(out, jsonx_ref(a));
		return out;
	}
	for (size_t i = 0; json_object_is_type(a, json_type_array) &&
			   i < json_object_array_length(a);
	     i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string))
			json_object_array_add(out, jsonx_ref(e));
	}
	return out;
}

static bool list_has(json_object *list, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (!strcmp(json_object_get_string(
				    json_object_array_get_idx(list, i)),
			    s))
			return true;
	return false;
}

static void list_add(json_object *list, const char *s)
{
	if (!list_has(list, s))
		json_object_array_add(list, json_object_new_string(s));
}

/* A lookup key for a value: the text of its JSON. */
static const char *key_of(json_object *v)
{
	return v ? jsonx_str(v) : "null";
}

static int find_in(struct rctx *x, const struct coll *t, const char *col,
		   json_object *keys, json_object *appends, json_object **rows)
{
	json_object *filter = json_object_new_object(),
		    *op = json_object_new_object();
	struct rec_query q = {.filter = filter, .appends = appends};
	json_object_object_add(op, "$in", jsonx_ref(keys));
	json_object_object_add(filter, col, op);
	int rc = rec_find(x, t, &q, rows);
	json_object_put(filter);
	return rc;
}

/* Distinct non-null values of column col over rows. */
static json_object *collect(json_object *rows, const char *col)
{
	json_object *seen = json_object_new_object(),
		    *keys = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *v = jsonx_get(json_object_array_get_idx(rows, i), col);
		if (!v || json_object_is_type(v, json_type_null) ||
		    jsonx_has(seen, key_of(v)))
			continue;
		json_object_object_add(seen, key_of(v), NULL);
		json_object_array_add(keys, jsonx_ref(v));
	}
	json_object_put(seen);
	return keys;
}

/* Add v to the array under key k of map, creating the array. */
static void map_push(json_object *map, const char *k, json_object *v)
{
	json_object *arr = jsonx_get(map, k);
	if (!arr) {
		arr = json_object_new_array();
		json_object_object_add(map, k, arr);
	}
	json_object_array_add(arr, jsonx_ref(v));
}

/* belongsToMany: each source key's targets, in target order, by the
 * through rows (links) that join them. */
static void map_links(const struct field *f, json_object *links,
		      json_object *targets, json_object *map)
{
	for (size_t i = 0; targets && i < json_object_array_length(targets);
	     i++) {
		json_object *tr = json_object_array_get_idx(targets, i);
		const char *tk = key_of(jsonx_get(tr, f->target_key));
		for (size_t j = 0; j < json_object_array_length(links); j++) {
			json_object *l = json_object_array_get_idx(links, j);
			if (strcmp(key_of(jsonx_get(l, f->other_key)), tk))
				continue;
			map_push(map, key_of(jsonx_get(l, f->foreign_key)), tr);
		}
	}
}

/* belongsToMany: source key -> array of targets (of t, with sub's
 * appends), through the join collection. */
static int map_through(struct rctx *x, const struct field *f,
		       const struct coll *t, json_object *keys,
		       json_object *sub, json_object *map)
{
	const struct coll *th = schema_coll(S(x), f->through);
	json_object *links = NULL, *other, *targets = NULL;
	int rc;

	if (!th)
		return rec_fail(x, APP_EFIELD,
				"missing through collection \"%s\"",
				f->through);
	if ((rc = find_in(x, th, f->foreign_key, keys, NULL, &links)))
		return rc;
	other = collect(links, f->other_key);
	rc = json_object_array_length(other)
		     ? find_in(x, t, f->target_key, other, sub, &targets)
		     : 0;
	json_object_put(other);
	if (!rc)
		map_links(f, links, targets, map);
	json_object_put(targets);
	json_object_put(links);
	return rc;
}

/* belongsTo, hasOne: key -> the (first) target; hasMany: key -> array of
 * targets. */
static int map_direct(struct rctx *x, const struct field *f,
		      const struct coll *t, json_object *keys,
		      json_object *sub, json_object *map)
{
	const char *tcol = f->type == FT_BELONGS_TO ? f->target_key
						    : f->foreign_key;
	json_object *targets = NULL;
	int rc;

	if (!json_object_array_length(keys))
		return 0;
	if ((rc = find_in(x, t, tcol, keys, sub, &targets)))
		return rc;
	for (size_t i = 0; i < json_object_array_length(targets); i++) {
		json_object *tr = json_object_array_get_idx(targets, i);
		const char *k = key_of(jsonx_get(tr, tcol));
		if (f->type == FT_HAS_MANY)
			map_push(map, k, tr);
		else if (!jsonx_has(map, k))
			json_object_object_add(map, k, jsonx_ref(tr));
	}
	json_object_put(targets);
	return 0;
}

/* Load association f (with the nested appends sub) into every row. */
static int append_one(struct rctx *x, json_object *rows,
		      const struct field *f, json_object *sub)
{
	const struct coll *t = schema_coll(S(x), f->target);
	const char *src = f->type == FT_BELONGS_TO ? f->foreign_key
						   : f->source_key;
	json_object *keys, *map;
	int rc;

	if (!t)
		return rec_fail(x, APP_EFIELD,
				"Association \"%s\" targets a missing "
				"collection \"%s\"",
				f->name, f->target);
	keys = collect(rows, src);
	map = json_object_new_object();
	if (f->type == FT_BELONGS_TO_MANY)
		rc = map_through(x, f, t, keys, sub, map);
	else
		rc = map_direct(x, f, t, keys, sub, map);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		json_object *v = jsonx_get(map, key_of(jsonx_get(row, src)));
		if (ftype_is_to_many(f->type) && !v)
			json_object_object_add(row, f->name,
					       json_object_new_array());
		else
			json_object_object_add(row, f->name, jsonx_ref(v));
	}
	json_object_put(keys);
	json_object_put(map);
	return rc;
}

int rec_append(struct rctx *x, const struct coll *c, json_object *rows,
	       json_object *appends)
{
	json_object *tree = json_object_new_object();
	int rc = 0;
	static int depth;

	if (!appends || !json_object_array_length(appends) ||
	    !json_object_array_length(rows)) {
		json_object_put(tree);
		return 0;
	}
	if (depth >= APPEND_MAX_DEPTH) {
		json_object_put(tree);
		return rec_fail(x, APP_EPARAM, "appends nested too deep");
	}

	/* "a", "a.b", "c" -> {a: ["b"], c: []} */
	for (size_t i = 0; i < json_object_array_length(appends); i++) {
		const char *p = json_object_get_string(
			json_object_array_get_idx(appends, i));
		const char *dot = strchr(p, '.');
		char head[128];
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0 || n >= sizeof(head)) {
			rc = rec_fail(x, APP_EFIELD, "Invalid append \"%s\"", p);
			goto out;
		}
		memcpy(head, p, n);
		head[n] = 0;
		json_object *sub = jsonx_get(tree, head);
		if (!sub) {
			sub = json_object_new_array();
			json_object_object_add(tree, head, sub);
		}
		if (dot && dot[1])
			list_add(sub, dot + 1);
	}
	depth++;
	json_object_object_foreach(tree, name, sub) {
		const struct field *f = coll_field(c, name);
		if (!f || !ftype_is_assoc(f->type)) {
			rc = rec_fail(x, APP_EFIELD,
				      "Unknown association \"%s\" of collection "
				      "\"%s\"",
				      name, c->name);
			x->message = "Invalid SQL column or table reference";
			break;
		}
		if ((rc = append_one(x, rows, f, sub)))
			break;
	}
	depth--;
out:
	json_object_put(tree);
	return rc;
}

#define FIND_MAX_COLS 256
#define FIND_MAX_SORT 32

/* What a find asks of the store, and what it takes off the rows after. */
struct find_plan {
	const char *cols[FIND_MAX_COLS]; /* schema names: outlive the plan */
	int ncols;
	struct store_sort sort[FIND_MAX_SORT];
	int nsort;
	json_object *appends; /* association paths to load */
	json_object *extra;   /* key columns read only for the appends */
	json_object *sorts;   /* the strings sort[] points into */
};

/* The field a (possibly dotted) name starts with. */
static const struct field *head_field(const struct coll *c, const char *n)
{
	char head[128];
	snprintf(head, sizeof(head), "%.*s", (int)strcspn(n, "."), n);
	return coll_field(c, head);
}

/* fields: columns asked for; an association among them is appended. */
static int plan_fields(struct rctx *x, const struct coll *c,
		       json_object *fields, struct find_plan *p)
{
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		const char *n = json_object_get_string(
			json_object_array_get_idx(fields, i));
		const struct field *f = head_field(c, n);
		if (!f || (f->hidden && f->type == FT_PASSWORD)) {
			x->message = "Invalid SQL column or table reference";
			return rec_fail(x, APP_EFIELD,
					"Unknown field \"%s\" in collection "
					"\"%s\"",
					n, c->name);
		}
		if (ftype_is_assoc(f->type))
			list_add(p->appends, n);
		else if (p->ncols < 200 && !n[strcspn(n, ".")])
			p->cols[p->ncols++] = f->name;
	}
	return 0;
}

/* The primary key and the keys the appends join on, when the fields
 * asked for left them out: read, then removed again (p->extra). */
static void plan_keys(const struct coll *c, struct find_plan *p)
{
	const char *need[64];
	int nneed = 0;

	need[nneed++] = c->pk;
	for (size_t i = 0;
	     i < json_object_array_length(p->appends) && nneed < 64; i++) {
		const struct field *f = head_field(
			c, json_object_get_string(
				   json_object_array_get_idx(p->appends, i)));
		if (f && ftype_is_assoc(f->type))
			need[nneed++] = f->type == FT_BELONGS_TO
						? f->foreign_key
						: f->source_key;
	}
	for (int i = 0; i < nneed; i++) {
		bool have = false;
		for (int j = 0; j < p->ncols; j++)
			have |= !strcmp(p->cols[j], need[i]);
		if (!have && need[i] && p->ncols < FIND_MAX_COLS) {
			p->cols[p->ncols++] = need[i];
			list_add(p->extra, need[i]);
		}
	}
}

/* "name" ascending, "-name" descending ("+name" too). */
static void plan_sort(json_object *sort, struct find_plan *p)
{
	p->sorts = str_list(sort);
	for (size_t i = 0;
	     i < json_object_array_length(p->sorts) && p->nsort < FIND_MAX_SORT;
	     i++) {
		const char *s = json_object_get_string(
			json_object_array_get_idx(p->sorts, i));
		struct store_sort *so = &p->sort[p->nsort];
		so->desc = s[0] == '-';
		so->path = s + (s[0] == '-' || s[0] == '+');
		if (*so->path)
			p->nsort++;
	}
}

/* Delete the keys named in list from every row. */
static void rows_drop(json_object *rows, json_object *list)
{
	for (size_t i = 0; list && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		for (size_t j = 0; j < json_object_array_length(list); j++) {
			json_object *k = json_object_array_get_idx(list, j);
			json_object_object_del(row, json_object_get_string(k));
		}
	}
}

/* LIMIT_APPENDS paths of at most LIMIT_APPEND_DEPTH names, before any
 * row is read (an append through empty rows would never tell). */
static int appends_bounded(struct rctx *x, json_object *appends)
{
	size_t n = json_object_array_length(appends);
	if (n > LIMIT_APPENDS)
		return rec_fail(x, APP_EINPUT_LIMIT, "more than %d appends",
				LIMIT_APPENDS);
	for (size_t i = 0; i < n; i++) {
		const char *p = json_object_get_string(
			json_object_array_get_idx(appends, i));
		int names = 1;
		for (; p && *p; p++)
			names += *p == '.';
		if (names > LIMIT_APPEND_DEPTH)
			return rec_fail(x, APP_EPARAM,
					"appends nested too deep (more than %d "
					"names in a path)",
					LIMIT_APPEND_DEPTH);
	}
	return 0;
}

int rec_find(struct rctx *x, const struct coll *c, const struct rec_query *q,
	     json_object **rows)
{
	struct find_plan p = {.appends = str_list(q->appends),
			      .extra = json_object_new_array()};
	struct store_find sf = {.filter = q->filter,
				.limit = q->limit,
				.offset = q->offset};
	json_object *except = q->except ? str_list(q->except) : NULL;
	int rc = 0;

	*rows = NULL;
	if ((rc = appends_bounded(x, p.appends)))
		goto out;
	if (q->fields) {
		json_object *fields = str_list(q->fields);
		rc = plan_fields(x, c, fields, &p);
		json_object_put(fields);
		if (rc)
			goto out;
		plan_keys(c, &p);
		sf.fields = p.cols;
		sf.nfields = p.ncols;
	}
	if (q->sort) {
		plan_sort(q->sort, &p);
		sf.sort = p.sort;
		sf.nsort = p.nsort;
	}
	if ((rc = store_find(x->app->st, S(x), c, &sf, rows))) {
		from_store(x, rc);
		goto out;
	}
	if ((rc = rec_append(x, c, *rows, p.appends)))
		goto out;
	rows_drop(*rows, p.extra);
	rows_drop(*rows, except);
out:
	if (rc) {
		json_object_put(*rows);
		*rows = NULL;
	}
	json_object_put(p.appends);
	json_object_put(p.extra);
	json_object_put(p.sorts);
	json_object_put(except);
	return rc;
}

int rec_get(struct rctx *x, const struct coll *c, const struct rec_query *q,
	    json_object **row)
{
	struct rec_query one = *q;
	json_object *rows = NULL;
	one.limit = 1;
	int rc = rec_find(x, c, &one, &rows);
	*row = rc ? NULL
		  : jsonx_ref(json_object_array_length(rows)
				      ? json_object_array_get_idx(rows, 0)
				      : NULL);
	json_object_put(rows);
	return rc;
}

int rec_count(struct rctx *x, const struct coll *c, json_object *filter,
	      int64_t *n)
{
	return from_store(x, store_count(x->app->st, S(x), c, filter, n));
}

/* The items of an association value: an array, one value, or none. */
static json_object *as_items(json_object *v)
{
	json_object *items;

	if (json_object_is_type(v, json_type_array))
		return jsonx_ref(v);
	items = json_object_new_array();
	if (v && !json_object_is_type(v, json_type_null))
		json_object_array_add(items, jsonx_ref(v));
	return items;
}

/* Drop every link of the row whose source key is src: its join rows, or
 * the foreign keys pointing at it. */
static int unlink_all(struct rctx *x, const struct field *f,
		      const struct coll *t, const struct coll *th,
		      json_object *src)
{
	json_object *flt = json_object_new_object(), *vals, *pks = NULL;
	int64_t n;
	int rc;

	json_object_object_add(flt, f->foreign_key, jsonx_ref(src));
	if (f->type == FT_BELONGS_TO_MANY) {
		rc = from_store(x, store_delete(x->app->st, S(x), th, flt, &n));
	} else {
		vals = json_object_new_object();
		json_object_object_add(vals, f->foreign_key, NULL);
		rc = from_store(x, store_update(x->app->st, S(x), t, flt, vals,
						&pks));
		json_object_put(pks);
		json_object_put(vals);
	}
	json_object_put(flt);
	return rc;
}

/* Link the target whose key is key (consumed) to the row of src: a join
 * row, or the target's foreign key. */
static int link_key(struct rctx *x, const struct field *f,
		    const struct coll *t, const struct coll *th,
		    json_object *src, json_object *key)
{
	json_object *flt, *vals, *pks = NULL, *rec = NULL;
	int rc;

	if (f->type == FT_BELONGS_TO_MANY) {
		vals = json_object_new_object();
		json_object_object_add(vals, f->foreign_key, jsonx_ref(src));
		json_object_object_add(vals, f->other_key, key);
		rc = rec_create(x, th, vals, NULL, &rec);
		json_object_put(rec);
		json_object_put(vals);
		return rc;
	}
	flt = json_object_new_object();
	json_object_object_add(flt, t->pk, key);
	vals = json_object_new_object();
	json_object_object_add(vals, f->foreign_key, jsonx_ref(src));
	rc = from_store(x, store_update(x->app->st, S(x), t, flt, vals, &pks));
	json_object_put(pks);
	json_object_put(flt);
	json_object_put(vals);
	return rc;
}

/* One item of an association value: an object without the target key
 * is a new target (created already linked, unless through a join
 * table); a key, or an object with it, names an existing one. */
static int link_item(struct rctx *x, const struct field *f,
		     const struct coll *t, const struct coll *th,
		     json_object *src, json_object *it)
{
	bool many = f->type == FT_BELONGS_TO_MANY;
	const char *tk = many ? f->target_key : t->pk;
	const struct field *kf = coll_field(t, tk);
	json_object *key = NULL, *fixed = NULL, *created = NULL;
	int rc;

	if (json_object_is_type(it, json_type_object) && !jsonx_has(it, tk)) {
		if (!many) {
			fixed = json_object_new_object();
			json_object_object_add(fixed, f->foreign_key,
					       jsonx_ref(src));
		}
		rc = rec_create(x, t, it, fixed, &created);
		json_object_put(fixed);
		if (!rc && many)
			key = jsonx_ref(jsonx_get(created, tk));
		json_object_put(created);
		if (rc || !many)
			return rc;
	} else if (!kf) {
		return rec_fail(x, APP_EVALIDATION, "bad key");
	} else if ((rc = rec_coerce(x, kf,
				    json_object_is_type(it, json_type_object)
					    ? jsonx_get(it, tk)
					    : it,
				    &key))) {
		return rc;
	}
	return link_key(x, f, t, th, src, key);
}

/* Link or create the records of a to-many/hasOne association of the row
 * whose source key is src.  replace: drop the current links first. */
static int set_assoc(struct rctx *x, const struct coll *c,
		     const struct field *f, json_object *src, json_object *v,
		     bool replace)
{
	const struct coll *t = schema_coll(S(x), f->target);
	const struct coll *th = f->through ? schema_coll(S(x), f->through) : NULL;
	json_object *items;
	int rc;

	if (!t || (f->type == FT_BELONGS_TO_MANY && !th))
		return rec_fail(x, APP_EVALIDATION,
				"Association \"%s\" of \"%s\" has no target",
				f->name, c->name);
	if ((rc = touched(x, t)) || (th && (rc = touched(x, th))))
		return rc;
	if (replace && (rc = unlink_all(x, f, t, th, src)))
		return rc;
	items = as_items(v);
	for (size_t i = 0; !rc && i < json_object_array_length(items); i++)
		rc = link_item(x, f, t, th, src,
			       json_object_array_get_idx(items, i));
	json_object_put(items);
	return rc;
}

/* The foreign key a belongsTo value stands for: a key, an object with the
 * target key (linked), or an object without (created). */
static int fk_of(struct rctx *x, const struct field *f, json_object *v,
		 json_object **fk)
{
	const struct coll *t = schema_coll(S(x), f->target);
	const struct field *kf = t ? coll_field(t, f->target_key) : NULL;
	json_object *created = NULL;
	int rc;

	*fk = NULL;
	if (!t || !kf)
		return rec_fail(x, APP_EVALIDATION,
				"Association \"%s\" has no target", f->name);
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return rec_coerce(x, kf, v, fk);
	if (jsonx_has(v, f->target_key))
		return rec_coerce(x, kf, jsonx_get(v, f->target_key), fk);
	if ((rc = rec_create(x, t, v, NULL, &created)))
		return rc;
	*fk = jsonx_ref(jsonx_get(created, f->target_key));
	json_object_put(created);
	return 0;
}

/* Build the column values of a write; associations to set afterwards go
 * to later, objects given for appends are named in show. */
static int build_row(struct rctx *x, const struct coll *c, json_object *values,
		     json_object *fixed, bool create, json_object *row,
		     json_object *later, json_object *show)
{
	char now[32];
	int rc;

	util_iso_from_ms(util_now_ms(), now);
	for (int i = 0; i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		json_object *v = NULL, *cv = NULL;
		bool given;
		if (fixed && jsonx_has(fixed, f->name)) {
			if ((rc = rec_coerce(x, f, jsonx_get(fixed, f->name), &cv)))
				return rc;
			json_object_object_add(row, f->name, cv);
			continue;
		}
		if (f->automatic) {
			if (!create && (f->automatic == 'c' || f->automatic == 'C'))
				continue;
			if (f->automatic == 'c' || f->automatic == 'u')
				json_object_object_add(row, f->name,
						       json_object_new_string(now));
			else if (x->user_id)
				json_object_object_add(
					row, f->name,
					json_object_new_int64(x->user_id));
			continue;
		}
		given = jsonx_has(values, f->name);
		if (f->type == FT_BELONGS_TO) {
			if (!given)
				continue;
			v = jsonx_get(values, f->name);
			if ((rc = fk_of(x, f, v, &cv)))
				return rc;
			json_object_object_add(row, f->foreign_key, cv);
			if (json_object_is_type(v, json_type_object))
				list_add(show, f->name);
			continue;
		}
		if (ftype_is_assoc(f->type)) {
			if (given) {
				json_object_object_add(
					later, f->name,
					jsonx_ref(jsonx_get(values, f->name)));
				list_add(show, f->name);
			}
			continue;
		}
		if (f->primary && (!create || !c->pk_int) && !given)
			continue;
		if (f->primary && !create)
			continue; /* keys never change through update */
		if (given) {
			if (jsonx_has(row, f->name))
				continue; /* already set by a belongsTo value */
			v = jsonx_get(values, f->name);
		} else if (create && f->dflt) {
			v = f->dflt;
		} else {
			continue;
		}
		if ((rc = rec_coerce(x, f, v, &cv)))
			return rc;
		json_object_object_add(row, f->name, cv);
	}
	return 0;
}

/* The write of rec_create; show collects associations given as objects,
 * which a caller reading the record back appends. */
static int insert(struct rctx *x, const struct coll *c, json_object *values,
		  json_object *fixed, json_object *show, json_object **pk)
{
	json_object *row = json_object_new_object(),
		    *later = json_object_new_object();
	int rc;

	*pk = NULL;
	if ((rc = build_row(x, c, values, fixed, true, row, later, show)))
		goto out;
	if ((rc = from_store(x, store_insert(x->app->st, c, row, pk))) ||
	    (rc = touched(x, c)))
		goto out;
	json_object_object_foreach(later, name, v) {
		const struct field *f = coll_field(c, name);
		json_object *src = !strcmp(f->source_key, c->pk)
					   ? jsonx_ref(*pk)
					   : jsonx_ref(jsonx_get(row, f->source_key));
		rc = set_assoc(x, c, f, src, v, false);
		json_object_put(src);
		if (rc)
			goto out;
	}
out:
	json_object_put(row);
	json_object_put(later);
	return rc;
}

int rec_insert_stored(struct rctx *x, const struct coll *c, json_object *values,
		      json_object **pk)
{
	const char *scalars[32];
	int n = 0;
	char now[32];

	json_object_object_foreach(values, k, v) {
		const struct field *f = coll_field(c, k);
		if (f && f->type == FT_JSON && v && n < 32 &&
		    !json_object_is_type(v, json_type_object) &&
		    !json_object_is_type(v, json_type_array))
			scalars[n++] = k;
	}
	for (int i = 0; i < n; i++) {
		json_object *sv = jsonx_get(values, scalars[i]);
		json_object_object_add(values, scalars[i],
				       json_object_new_string(jsonx_str(sv)));
	}
	util_iso_from_ms(util_now_ms(), now);
	if (c->timestamps && !jsonx_has(values, "createdAt"))
		json_object_object_add(values, "createdAt", json_object_new_string(now));
	if (c->timestamps && !jsonx_has(values, "updatedAt"))
		json_object_object_add(values, "updatedAt", json_object_new_string(now));
	int rc = from_store(x, store_insert(x->app->st, c, values, pk));
	return rc ? rc : touched(x, c);
}

int rec_insert(struct rctx *x, const struct coll *c, json_object *values,
	       json_object *fixed, json_object **pk)
{
	json_object *show = json_object_new_array();
	int rc;
	if (values && !json_object_is_type(values, json_type_object))
		rc = rec_fail(x, APP_EVALIDATION, "values must be an object");
	else
		rc = insert(x, c, values, fixed, show, pk);
	json_object_put(show);
	return rc;
}

int rec_create(struct rctx *x, const struct coll *c, json_object *values,
	       json_object *fixed, json_object **record)
{
	json_object *show = NULL, *pk = NULL, *flt = NULL;
	int rc;

	*record = NULL;
	if (json_object_is_type(values, json_type_array)) {
		json_object *all = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(values); i++) {
			json_object *one = NULL;
			rc = rec_create(x, c, json_object_array_get_idx(values, i),
					fixed, &one);
			if (rc) {
				json_object_put(all);
				return rc;
			}
			json_object_array_add(all, one);
		}
		*record = all;
		return 0;
	}
	if (values && !json_object_is_type(values, json_type_object))
		return rec_fail(x, APP_EVALIDATION, "values must be an object");
	show = json_object_new_array();
	if ((rc = insert(x, c, values, fixed, show, &pk)))
		goto out;
	flt = json_object_new_object();
	json_object_object_add(flt, c->pk, jsonx_ref(pk));
	struct rec_query q = {.filter = flt, .appends = show};
	rc = rec_get(x, c, &q, record);
out:
	json_object_put(show);
	json_object_put(pk);
	json_object_put(flt);
	return rc;
}

int rec_update_count(struct rctx *x, const struct coll *c, json_object *filter,
		     json_object *values, int64_t *n)
{
	json_object *row = NULL, *later = NULL, *show = NULL, *pks = NULL;
	int rc;

	*n = 0;
	if (!json_object_is_type(values, json_type_object))
		return rec_fail(x, APP_EVALIDATION, "values must be an object");
	row = json_object_new_object();
	later = json_object_new_object();
	show = json_object_new_array();
	if ((rc = build_row(x, c, values, NULL, false, row, later, show)))
		goto out;
	if (json_object_object_length(later)) {
		/* Associations need the rows: take the full path. */
		json_object *recs = NULL;
		rc = rec_update(x, c, filter, values, &recs);
		*n = recs ? (int64_t)json_object_array_length(recs) : 0;
		json_object_put(recs);
		goto out;
	}
	rc = from_store(x, store_update_count(x->app->st, x->app->schema, c,
					       filter, row, n));
	if (!rc)
		rc = touched(x, c);
out:
	json_object_put(row);
	json_object_put(later);
	json_object_put(show);
	json_object_put(pks);
	return rc;
}

int rec_update(struct rctx *x, const struct coll *c, json_object *filter,
	       json_object *values, json_object **records)
{
	json_object *row = NULL, *later = NULL, *show = NULL, *pks = NULL,
		    *flt = NULL, *op;
	int rc;

	*records = NULL;
	if (!json_object_is_type(values, json_type_object))
		return rec_fail(x, APP_EVALIDATION, "values must be an object");
	row = json_object_new_object();
	later = json_object_new_object();
	show = json_object_new_array();
	if ((rc = build_row(x, c, values, NULL, false, row, later, show)))
		goto out;
	if ((rc = from_store(x, store_update(x->app->st, S(x), c, filter, row,
					      &pks))) ||
	    (rc = touched(x, c)))
		goto out;
	flt = json_object_new_object();
	op = json_object_new_object();
	json_object_object_add(op, "$in", jsonx_ref(pks));
	json_object_object_add(flt, c->pk, op);
	struct rec_query q = {.filter = flt};
	if (json_object_object_length(later)) {
		json_object *cur = NULL;
		if ((rc = rec_find(x, c, &q, &cur)))
			goto out;
		for (size_t i = 0; !rc && i < json_object_array_length(cur); i++) {
			json_object *r = json_object_array_get_idx(cur, i);
			json_object_object_foreach(later, name, v) {
				const struct field *f = coll_field(c, name);
				rc = set_assoc(x, c, f, jsonx_get(r, f->source_key),
					       v, true);
				if (rc)
					break;
			}
		}
		json_object_put(cur);
		if (rc)
			goto out;
	}
	q.appends = show;
	rc = rec_find(x, c, &q, records);
out:
	json_object_put(row);
	json_object_put(later);
	json_object_put(show);
	json_object_put(pks);
	json_object_put(flt);
	return rc;
}

int rec_destroy(struct rctx *x, const struct coll *c, json_object *filter,
		int64_t *n)
{
	int rc;

	/* Through rows of the rows going away go with them. */
	for (int i = 0; i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		const struct coll *th;
		json_object *rows = NULL, *keys, *flt, *op;
		int64_t gone;
		struct rec_query q = {.filter = filter};
		if (f->type != FT_BELONGS_TO_MANY ||
		    !(th = schema_coll(S(x), f->through)))
			continue;
		if ((rc = rec_find(x, c, &q, &rows)))
			return rc;
		keys = collect(rows, f->source_key);
		json_object_put(rows);
		flt = json_object_new_object();
		op = json_object_new_object();
		json_object_object_add(op, "$in", keys);
		json_object_object_add(flt, f->foreign_key, op);
		rc = from_store(x, store_delete(x->app->st, S(x), th, flt, &gone));
		json_object_put(flt);
		if (rc)
			return rc;
	}
	if ((rc = from_store(x, store_delete(x->app->st, S(x), c, filter, n))))
		return rc;
	return touched(x, c);
}
