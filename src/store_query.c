/*
 * store_query: NocoBase filters compiled to SQL, and the record queries.
 *
 * A filter becomes one boolean SQL expression over table alias t0; a path
 * through an association becomes an IN (SELECT ...) subquery on the next
 * alias, so no join ever multiplies rows.  Values are coerced to the
 * field's type and bound; names were looked up in the schema first.
 */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsnum.h"
#include "jsonx.h"
#include "util.h"

#define FILTER_MAX_DEPTH 16

struct qctx {
	struct store *st;
	const struct schema *s;
	struct buf *sql;
	json_object *binds;
	int alias;
	int depth;
};

static int filter_obj(struct qctx *q, const struct coll *c, int t,
		      json_object *f);

/* An alias-qualified column: t<n>."name".  Hot: every query builds a few
 * dozen, so no printf here. */
static void col(struct qctx *q, int t, const char *name)
{
	char a[16];
	int n = 0;
	a[n++] = 't';
	if (t >= 10)
		a[n++] = (char)('0' + t / 10 % 10);
	a[n++] = (char)('0' + t % 10);
	a[n++] = '.';
	buf_append(q->sql, a, (size_t)n);
	store_ident(q->sql, name);
}

static void bind(struct qctx *q, json_object *v)
{
	buf_putc(q->sql, '?');
	json_object_array_add(q->binds, v);
}

static bool is_numeric(enum ftype t)
{
	return t == FT_INTEGER || t == FT_BIGINT || t == FT_FLOAT ||
	       t == FT_DOUBLE || t == FT_DECIMAL;
}

static bool is_textual(enum ftype t)
{
	return t == FT_STRING || t == FT_TEXT || t == FT_PASSWORD;
}

/* A filter value coerced to what the column stores (new ref, or NULL with
 * an error recorded). */
static json_object *coerce(struct qctx *q, const struct field *f,
			   json_object *v)
{
	enum json_type jt = json_object_get_type(v);
	double d;
	int64_t ms;

	if (!v || jt == json_type_null)
		return NULL;
	if (is_numeric(f->type) || f->type == FT_BOOLEAN) {
		if (jt == json_type_boolean)
			return json_object_new_int(json_object_get_boolean(v));
		if (f->type == FT_BOOLEAN && jt == json_type_string) {
			const char *s = json_object_get_string(v);
			if (!strcmp(s, "true") || !strcmp(s, "1"))
				return json_object_new_int(1);
			if (!strcmp(s, "false") || !strcmp(s, "0"))
				return json_object_new_int(0);
		}
		if ((jt == json_type_int || jt == json_type_double ||
		     jt == json_type_string) &&
		    jsonx_to_double(v, &d) && isfinite(d) &&
		    (jt != json_type_string || json_object_get_string_len(v))) {
			if (f->type == FT_FLOAT || f->type == FT_DOUBLE ||
			    f->type == FT_DECIMAL || !jsnum_is_int(d))
				return json_object_new_double(d);
			return json_object_new_int64((int64_t)d);
		}
		store_failf(q->st, APP_EPARAM,
			    "Invalid value %s for field \"%s\": expected a %s",
			    jsonx_str(v), f->name,
			    f->type == FT_BOOLEAN ? "boolean" : "number");
		return NULL;
	}
	if (f->type == FT_DATE) {
		char iso[32];
		if (jt == json_type_string &&
		    !util_ms_from_iso(json_object_get_string(v), &ms)) {
			util_iso_from_ms(ms, iso);
			return json_object_new_string(iso);
		}
		/* A number beyond the years 0-9999 (1e300) is no date: cast
		 * to int64 it was undefined behaviour (fuzz_filter). */
		if ((jt == json_type_int || jt == json_type_double) &&
		    jsonx_to_double(v, &d) && util_ms_is_iso(d)) {
			util_iso_from_ms((int64_t)d, iso);
			return json_object_new_string(iso);
		}
		store_failf(q->st, APP_EPARAM,
			    "Invalid date %s for field \"%s\"", jsonx_str(v),
			    f->name);
		return NULL;
	}
	if (is_textual(f->type) &&
	    (jt == json_type_int || jt == json_type_double ||
	     jt == json_type_boolean)) {
		char *s = jsonx_to_js_string(v, false);
		json_object *o = json_object_new_string(s);
		free(s);
		return o;
	}
	if (jt == json_type_object || jt == json_type_array) {
		if (f->type == FT_JSON)
			return json_object_new_string(jsonx_str(v));
		store_failf(q->st, APP_EPARAM,
			    "Invalid value %s for field \"%s\"", jsonx_str(v),
			    f->name);
		return NULL;
	}
	return jsonx_ref(v);
}

static bool is_null(json_object *v)
{
	return !v || json_object_is_type(v, json_type_null);
}

/* col op ?, with the value coerced; NULL values fail. */
static int cmp(struct qctx *q, const struct field *f, int t, const char *op,
	       json_object *v)
{
	json_object *c = coerce(q, f, v);
	if (!c)
		return is_null(v) ? store_failf(q->st, APP_EPARAM,
						"Operator needs a value for "
						"field \"%s\"",
						f->name)
				  : APP_EPARAM;
	buf_putc(q->sql, '(');
	if (f->type == FT_DECIMAL) {
		buf_puts(q->sql, "CAST(");
		col(q, t, f->name);
		buf_puts(q->sql, " AS REAL)");
	} else {
		col(q, t, f->name);
	}
	buf_printf(q->sql, " %s ", op);
	bind(q, c);
	buf_putc(q->sql, ')');
	return 0;
}

static int in_list(struct qctx *q, const struct field *f, int t,
		   json_object *v, bool negate)
{
	size_t n;
	if (is_null(v)) {
		buf_puts(q->sql, negate ? "1" : "0");
		return 0;
	}
	if (!json_object_is_type(v, json_type_array)) {
		json_object *one = json_object_new_array();
		json_object_array_add(one, jsonx_ref(v));
		int rc = in_list(q, f, t, one, negate);
		json_object_put(one);
		return rc;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		buf_puts(q->sql, negate ? "1" : "0");
		return 0;
	}
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_puts(q->sql, negate ? " NOT IN (" : " IN (");
	for (size_t i = 0; i < n; i++) {
		json_object *c = coerce(q, f, json_object_array_get_idx(v, i));
		if (!c) {
			if (!is_null(json_object_array_get_idx(v, i)))
				return APP_EPARAM;
			c = json_object_new_string("\x01"); /* matches nothing */
		}
		if (i)
			buf_puts(q->sql, ", ");
		bind(q, c);
	}
	buf_putc(q->sql, ')');
	if (negate) {
		buf_puts(q->sql, " OR ");
		col(q, t, f->name);
		buf_puts(q->sql, " IS NULL");
	}
	buf_putc(q->sql, ')');
	return 0;
}

/* LIKE with the value's own % and _ escaped. */
static int like(struct qctx *q, const struct field *f, int t, json_object *v,
		const char *pre, const char *post, bool negate)
{
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		if (n == 0) {
			buf_puts(q->sql, "1");
			return 0;
		}
		buf_putc(q->sql, '(');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_puts(q->sql, negate ? " AND " : " OR ");
			int rc = like(q, f, t, json_object_array_get_idx(v, i),
				      pre, post, negate);
			if (rc)
				return rc;
		}
		buf_putc(q->sql, ')');
		return 0;
	}
	if (is_null(v) || json_object_is_type(v, json_type_object))
		return store_failf(q->st, APP_EPARAM,
				   "Operator needs a text value for field "
				   "\"%s\"",
				   f->name);
	char *s = jsonx_to_js_string(v, true);
	struct buf pat = {0};
	buf_puts(&pat, pre);
	for (char *p = s; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&pat, '\\');
		buf_putc(&pat, *p);
	}
	buf_puts(&pat, post);
	free(s);
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_puts(q->sql, negate ? " NOT LIKE " : " LIKE ");
	bind(q, json_object_new_string(buf_str(&pat)));
	buf_puts(q->sql, " ESCAPE '\\'");
	if (negate) {
		buf_puts(q->sql, " OR ");
		col(q, t, f->name);
		buf_puts(q->sql, " IS NULL");
	}
	buf_putc(q->sql, ')');
	buf_free(&pat);
	return 0;
}

static void is_empty(struct qctx *q, const struct field *f, int t, bool neg)
{
	buf_puts(q->sql, neg ? "(NOT (" : "((");
	col(q, t, f->name);
	buf_puts(q->sql, " IS NULL");
	if (is_textual(f->type) || f->type == FT_JSON) {
		buf_puts(q->sql, " OR ");
		col(q, t, f->name);
		buf_puts(q->sql, f->type == FT_JSON ? " IN ('', '[]', '{}')"
						    : " = ''");
	}
	buf_puts(q->sql, "))");
}

/* The UTC day of a date value: [start, start + 1 day). */
static int day_range(struct qctx *q, const struct field *f, json_object *v,
		     int64_t *start)
{
	int64_t ms;
	const char *s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) ||
	    util_ms_from_iso(s, &ms))
		return store_failf(q->st, APP_EPARAM,
				   "Invalid date %s for field \"%s\"",
				   jsonx_str(v), f->name);
	*start = ms - ((ms % 86400000) + 86400000) % 86400000;
	return 0;
}

static int date_cmp(struct qctx *q, const struct field *f, int t,
		    const char *op, int64_t ms)
{
	char iso[32];
	util_iso_from_ms(ms, iso);
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_printf(q->sql, " %s ", op);
	bind(q, json_object_new_string(iso));
	buf_putc(q->sql, ')');
	return 0;
}

static int op_apply(struct qctx *q, const struct field *f, int t,
		    const char *op, json_object *v)
{
	int64_t day;
	int rc;

	if (!strcmp(op, "$eq") || !strcmp(op, "$is")) {
		if (is_null(v)) {
			buf_putc(q->sql, '(');
			col(q, t, f->name);
			buf_puts(q->sql, " IS NULL)");
			return 0;
		}
		if (json_object_is_type(v, json_type_array))
			return in_list(q, f, t, v, false);
		return cmp(q, f, t, "=", v);
	}
	if (!strcmp(op, "$ne") || !strcmp(op, "$not")) {
		if (is_null(v)) {
			buf_putc(q->sql, '(');
			col(q, t, f->name);
			buf_puts(q->sql, " IS NOT NULL)");
			return 0;
		}
		if (json_object_is_type(v, json_type_array))
			return in_list(q, f, t, v, true);
		buf_putc(q->sql, '(');
		if ((rc = cmp(q, f, t, "<>", v)))
			return rc;
		buf_puts(q->sql, " OR ");
		col(q, t, f->name);
		buf_puts(q->sql, " IS NULL)");
		return 0;
	}
	if (!strcmp(op, "$gt"))
		return cmp(q, f, t, ">", v);
	if (!strcmp(op, "$gte"))
		return cmp(q, f, t, ">=", v);
	if (!strcmp(op, "$lt"))
		return cmp(q, f, t, "<", v);
	if (!strcmp(op, "$lte"))
		return cmp(q, f, t, "<=", v);
	if (!strcmp(op, "$in"))
		return in_list(q, f, t, v, false);
	if (!strcmp(op, "$notIn"))
		return in_list(q, f, t, v, true);
	if (!strcmp(op, "$includes"))
		return like(q, f, t, v, "%", "%", false);
	if (!strcmp(op, "$notIncludes"))
		return like(q, f, t, v, "%", "%", true);
	if (!strcmp(op, "$startsWith"))
		return like(q, f, t, v, "", "%", false);
	if (!strcmp(op, "$notStartsWith"))
		return like(q, f, t, v, "", "%", true);
	if (!strcmp(op, "$endWith") || !strcmp(op, "$endsWith"))
		return like(q, f, t, v, "%", "", false);
	if (!strcmp(op, "$notEndWith") || !strcmp(op, "$notEndsWith"))
		return like(q, f, t, v, "%", "", true);
	if (!strcmp(op, "$like") || !strcmp(op, "$iLike") ||
	    !strcmp(op, "$notLike") || !strcmp(op, "$notILike")) {
		bool neg = !strncmp(op, "$not", 4);
		if (!json_object_is_type(v, json_type_string))
			return store_failf(q->st, APP_EPARAM,
					   "%s needs a text pattern", op);
		buf_putc(q->sql, '(');
		col(q, t, f->name);
		buf_puts(q->sql, neg ? " NOT LIKE " : " LIKE ");
		bind(q, jsonx_ref(v));
		buf_putc(q->sql, ')');
		return 0;
	}
	if (!strcmp(op, "$empty") || !strcmp(op, "$notEmpty")) {
		is_empty(q, f, t, !strcmp(op, "$notEmpty"));
		return 0;
	}
	if (!strcmp(op, "$exists") || !strcmp(op, "$notExists")) {
		bool want = !strcmp(op, "$exists") == jsonx_truthy(v) ||
			    (is_null(v) && !strcmp(op, "$exists"));
		buf_putc(q->sql, '(');
		col(q, t, f->name);
		buf_puts(q->sql, want ? " IS NOT NULL)" : " IS NULL)");
		return 0;
	}
	if (!strcmp(op, "$isTruly")) {
		buf_putc(q->sql, '(');
		col(q, t, f->name);
		buf_puts(q->sql, " = 1)");
		return 0;
	}
	if (!strcmp(op, "$isFalsy")) {
		buf_putc(q->sql, '(');
		col(q, t, f->name);
		buf_puts(q->sql, " = 0 OR ");
		col(q, t, f->name);
		buf_puts(q->sql, " IS NULL)");
		return 0;
	}
	if (!strcmp(op, "$between") || !strcmp(op, "$notBetween") ||
	    !strcmp(op, "$dateBetween")) {
		if (!json_object_is_type(v, json_type_array) ||
		    json_object_array_length(v) != 2)
			return store_failf(q->st, APP_EPARAM,
					   "%s needs an array of two values", op);
		if (!strcmp(op, "$dateBetween")) {
			int64_t a, b;
			if ((rc = day_range(q, f, json_object_array_get_idx(v, 0),
					    &a)) ||
			    (rc = day_range(q, f, json_object_array_get_idx(v, 1),
					    &b)))
				return rc;
			buf_putc(q->sql, '(');
			date_cmp(q, f, t, ">=", a);
			buf_puts(q->sql, " AND ");
			date_cmp(q, f, t, "<", b + 86400000);
			buf_putc(q->sql, ')');
			return 0;
		}
		buf_puts(q->sql, strcmp(op, "$between") ? "(NOT (" : "((");
		if ((rc = cmp(q, f, t, ">=", json_object_array_get_idx(v, 0))))
			return rc;
		buf_puts(q->sql, " AND ");
		if ((rc = cmp(q, f, t, "<=", json_object_array_get_idx(v, 1))))
			return rc;
		buf_puts(q->sql, "))");
		return 0;
	}
	if (!strncmp(op, "$date", 5)) {
		if ((rc = day_range(q, f, v, &day)))
			return rc;
		if (!strcmp(op, "$dateOn") || !strcmp(op, "$dateNotOn")) {
			buf_puts(q->sql, strcmp(op, "$dateOn") ? "(NOT (" : "((");
			date_cmp(q, f, t, ">=", day);
			buf_puts(q->sql, " AND ");
			date_cmp(q, f, t, "<", day + 86400000);
			buf_puts(q->sql, "))");
			return 0;
		}
		if (!strcmp(op, "$dateBefore"))
			return date_cmp(q, f, t, "<", day);
		if (!strcmp(op, "$dateNotBefore"))
			return date_cmp(q, f, t, ">=", day);
		if (!strcmp(op, "$dateAfter"))
			return date_cmp(q, f, t, ">=", day + 86400000);
		if (!strcmp(op, "$dateNotAfter"))
			return date_cmp(q, f, t, "<", day + 86400000);
	}
	return store_failf(q->st, APP_EOPERATOR,
			   "Unknown operator \"%s\" on field \"%s\"", op,
			   f->name);
}

static bool all_ops(json_object *v)
{
	if (!json_object_is_type(v, json_type_object) ||
	    json_object_object_length(v) == 0)
		return false;
	json_object_object_foreach(v, k, val) {
		(void)val;
		if (k[0] != '$')
			return false;
	}
	return true;
}

/* Conditions on one scalar field: a literal, or an object of operators. */
static int field_cond(struct qctx *q, const struct field *f, int t,
		      const char *op, json_object *v)
{
	int rc, n = 0;
	if (op)
		return op_apply(q, f, t, op, v);
	if (!all_ops(v)) {
		if (json_object_is_type(v, json_type_object))
			return store_failf(q->st, APP_EPARAM,
					   "Invalid filter value for field "
					   "\"%s\"",
					   f->name);
		return op_apply(q, f, t, "$eq", v);
	}
	buf_putc(q->sql, '(');
	json_object_object_foreach(v, k, val) {
		if (n++)
			buf_puts(q->sql, " AND ");
		if ((rc = op_apply(q, f, t, k, val)))
			return rc;
	}
	buf_putc(q->sql, ')');
	return 0;
}

/* A condition on the target of association f, as a subquery. */
static int assoc_cond(struct qctx *q, const struct coll *c, int t,
		      const struct field *f, const char *rest, json_object *v)
{
	const struct coll *tc = schema_coll(q->s, f->target);
	int ta = ++q->alias, th = 0, rc;

	if (!tc)
		return store_failf(q->st, APP_EFIELD,
				   "Association \"%s\" targets a missing "
				   "collection \"%s\"",
				   f->name, f->target);
	if (!rest && (!json_object_is_type(v, json_type_object) ||
		      all_ops(v)))
		return store_failf(q->st, APP_EPARAM,
				   "Filter on association \"%s\" needs a field "
				   "of \"%s\"",
				   f->name, tc->name);
	buf_putc(q->sql, '(');
	switch (f->type) {
	case FT_BELONGS_TO:
		col(q, t, f->foreign_key);
		buf_printf(q->sql, " IN (SELECT t%d.", ta);
		store_ident(q->sql, f->target_key);
		break;
	case FT_HAS_ONE:
	case FT_HAS_MANY:
		col(q, t, f->source_key);
		buf_printf(q->sql, " IN (SELECT t%d.", ta);
		store_ident(q->sql, f->foreign_key);
		break;
	default:
		th = ++q->alias;
		col(q, t, f->source_key);
		buf_printf(q->sql, " IN (SELECT t%d.", th);
		store_ident(q->sql, f->foreign_key);
		buf_puts(q->sql, " FROM ");
		store_ident(q->sql, f->through);
		buf_printf(q->sql, " AS t%d WHERE t%d.", th, th);
		store_ident(q->sql, f->other_key);
		buf_printf(q->sql, " IN (SELECT t%d.", ta);
		store_ident(q->sql, f->target_key);
	}
	buf_puts(q->sql, " FROM ");
	store_ident(q->sql, tc->name);
	buf_printf(q->sql, " AS t%d WHERE ", ta);
	if (rest) {
		json_object *sub = json_object_new_object();
		json_object_object_add(sub, rest, jsonx_ref(v));
		rc = filter_obj(q, tc, ta, sub);
		json_object_put(sub);
	} else {
		rc = filter_obj(q, tc, ta, v);
	}
	if (rc)
		return rc;
	buf_puts(q->sql, th ? "))" : ")");
	buf_putc(q->sql, ')');
	(void)c;
	return 0;
}

static int filter_key(struct qctx *q, const struct coll *c, int t,
		      const char *key, json_object *v)
{
	char head[128];
	const char *dot = strchr(key, '.');
	const char *rest = dot ? dot + 1 : NULL;
	size_t n = dot ? (size_t)(dot - key) : strlen(key);
	const struct field *f;

	if (n >= sizeof(head))
		return store_failf(q->st, APP_EFIELD, "Field name too long");
	memcpy(head, key, n);
	head[n] = 0;
	f = coll_field(c, head);
	if (!f || (f->hidden && f->type == FT_PASSWORD))
		return store_failf(q->st, APP_EFIELD,
				   "Unknown field \"%s\" in collection \"%s\"",
				   head, c->name);
	if (ftype_is_assoc(f->type)) {
		if (rest && rest[0] == '$')
			return store_failf(q->st, APP_EOPERATOR,
					   "Operator %s cannot apply to "
					   "association \"%s\"",
					   rest, f->name);
		return assoc_cond(q, c, t, f, rest, v);
	}
	if (rest && rest[0] != '$')
		return store_failf(q->st, APP_EFIELD,
				   "Unknown field \"%s\" in collection \"%s\"",
				   key, c->name);
	return field_cond(q, f, t, rest, v);
}

static int filter_group(struct qctx *q, const struct coll *c, int t,
			const char *op, json_object *v)
{
	bool is_or = !strcmp(op, "$or");
	size_t n;
	int rc, emitted = 0;

	if (json_object_is_type(v, json_type_object))
		return filter_obj(q, c, t, v);
	if (!json_object_is_type(v, json_type_array))
		return store_failf(q->st, APP_EPARAM, "%s needs an array", op);
	n = json_object_array_length(v);
	buf_putc(q->sql, '(');
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object))
			return store_failf(q->st, APP_EPARAM,
					   "%s items must be objects", op);
		if (json_object_object_length(e) == 0)
			continue;
		if (emitted++)
			buf_puts(q->sql, is_or ? " OR " : " AND ");
		if ((rc = filter_obj(q, c, t, e)))
			return rc;
	}
	if (!emitted)
		buf_putc(q->sql, '1');
	buf_putc(q->sql, ')');
	return 0;
}

static int filter_obj(struct qctx *q, const struct coll *c, int t,
		      json_object *f)
{
	int rc, n = 0;

	if (is_null(f)) {
		buf_putc(q->sql, '1');
		return 0;
	}
	if (!json_object_is_type(f, json_type_object))
		return store_failf(q->st, APP_EPARAM,
				   "filter must be a JSON object");
	if (++q->depth > FILTER_MAX_DEPTH)
		return store_failf(q->st, APP_EPARAM, "filter nested too deep");
	buf_putc(q->sql, '(');
	json_object_object_foreach(f, k, v) {
		if (n++)
			buf_puts(q->sql, " AND ");
		if (!strcmp(k, "$and") || !strcmp(k, "$or"))
			rc = filter_group(q, c, t, k, v);
		else if (k[0] == '$')
			rc = store_failf(q->st, APP_EOPERATOR,
					 "Unknown operator \"%s\"", k);
		else
			rc = filter_key(q, c, t, k, v);
		if (rc)
			return rc;
	}
	if (!n)
		buf_putc(q->sql, '1');
	buf_putc(q->sql, ')');
	q->depth--;
	return 0;
}

static int where(struct qctx *q, const struct coll *c, json_object *filter)
{
	buf_puts(q->sql, " WHERE ");
	return filter_obj(q, c, 0, filter);
}

/* Column value to JSON by field type (new ref). */
static json_object *column_json(sqlite3_stmt *s, int i, const struct field *f)
{
	int ct = sqlite3_column_type(s, i);
	if (ct == SQLITE_NULL)
		return NULL;
	switch (f->type) {
	case FT_BOOLEAN:
		return json_object_new_boolean(sqlite3_column_int64(s, i) != 0);
	case FT_INTEGER:
	case FT_BIGINT:
		return ct == SQLITE_INTEGER
			       ? json_object_new_int64(sqlite3_column_int64(s, i))
			       : json_object_new_string(
					 (const char *)sqlite3_column_text(s, i));
	case FT_FLOAT:
	case FT_DOUBLE:
		return jsonx_number(sqlite3_column_double(s, i));
	case FT_JSON: {
		const char *text = (const char *)sqlite3_column_text(s, i);
		json_object *o = json_tokener_parse(text);
		if (!o && strcmp(text, "null"))
			return json_object_new_string(text);
		return o;
	}
	default:
		return json_object_new_string_len(
			(const char *)sqlite3_column_text(s, i),
			sqlite3_column_bytes(s, i));
	}
}

/* An ORDER BY term; a to-one association path sorts by a subquery. */
static int sort_term(struct qctx *q, const struct coll *c,
		     const struct store_sort *so)
{
	char head[128];
	const char *dot = strchr(so->path, '.');
	size_t n = dot ? (size_t)(dot - so->path) : strlen(so->path);
	const struct field *f;

	if (n >= sizeof(head))
		return store_failf(q->st, APP_EFIELD, "Sort field too long");
	memcpy(head, so->path, n);
	head[n] = 0;
	f = coll_field(c, head);
	if (!f || f->type == FT_PASSWORD)
		return store_failf(q->st, APP_EFIELD,
				   "Unknown sort field \"%s\" in collection "
				   "\"%s\"",
				   so->path, c->name);
	if (!dot) {
		if (!field_has_column(f))
			return store_failf(q->st, APP_EFIELD,
					   "Cannot sort by association \"%s\"",
					   f->name);
		col(q, 0, f->name);
	} else {
		const struct coll *tc = schema_coll(q->s, f->target);
		const struct field *tf = tc ? coll_field(tc, dot + 1) : NULL;
		if (!tf || !field_has_column(tf) ||
		    !(f->type == FT_BELONGS_TO || f->type == FT_HAS_ONE))
			return store_failf(q->st, APP_EFIELD,
					   "Unknown sort field \"%s\" in "
					   "collection \"%s\"",
					   so->path, c->name);
		int ta = ++q->alias;
		buf_printf(q->sql, "(SELECT t%d.", ta);
		store_ident(q->sql, tf->name);
		buf_puts(q->sql, " FROM ");
		store_ident(q->sql, tc->name);
		buf_printf(q->sql, " AS t%d WHERE t%d.", ta, ta);
		if (f->type == FT_BELONGS_TO) {
			store_ident(q->sql, f->target_key);
			buf_puts(q->sql, " = ");
			col(q, 0, f->foreign_key);
		} else {
			store_ident(q->sql, f->foreign_key);
			buf_puts(q->sql, " = ");
			col(q, 0, f->source_key);
		}
		buf_puts(q->sql, " LIMIT 1)");
	}
	buf_puts(q->sql, so->desc ? " DESC NULLS FIRST" : " ASC NULLS LAST");
	return 0;
}

int store_find(struct store *st, const struct schema *s, const struct coll *c,
	       const struct store_find *q0, json_object **rows)
{
	struct buf sql = {0};
	struct qctx q = {st, s, &sql, json_object_new_array(), 0, 0};
	const struct field *out[256];
	sqlite3_stmt *stmt = NULL;
	int nout = 0, rc = 0;
	bool pk_sorted = false;

	*rows = NULL;
	if (q0->fields) {
		for (int i = 0; i < q0->nfields && nout < 256; i++) {
			const struct field *f = coll_field(c, q0->fields[i]);
			if (!f || !field_has_column(f) ||
			    (f->hidden && !q0->hidden)) {
				rc = store_failf(st, APP_EFIELD,
						 "Unknown field \"%s\" in "
						 "collection \"%s\"",
						 q0->fields[i], c->name);
				goto out;
			}
			out[nout++] = f;
		}
	} else {
		for (int i = 0; i < c->nfields && nout < 256; i++) {
			const struct field *f = &c->fields[i];
			if (field_has_column(f) && (!f->hidden || q0->hidden))
				out[nout++] = f;
		}
	}
	buf_puts(&sql, "SELECT ");
	for (int i = 0; i < nout; i++) {
		if (i)
			buf_puts(&sql, ", ");
		col(&q, 0, out[i]->name);
	}
	if (!nout)
		buf_puts(&sql, "1");
	buf_puts(&sql, " FROM ");
	store_ident(&sql, c->name);
	buf_puts(&sql, " AS t0");
	if ((rc = where(&q, c, q0->filter)))
		goto out;
	buf_puts(&sql, " ORDER BY ");
	for (int i = 0; i < q0->nsort; i++) {
		if ((rc = sort_term(&q, c, &q0->sort[i])))
			goto out;
		buf_puts(&sql, ", ");
		if (!strcmp(q0->sort[i].path, c->pk))
			pk_sorted = true;
	}
	if (!pk_sorted) {
		col(&q, 0, c->pk);
		buf_puts(&sql, " ASC");
	} else {
		sql.len -= 2;
		sql.data[sql.len] = 0;
	}
	if (q0->limit > 0)
		buf_printf(&sql, " LIMIT %lld OFFSET %lld",
			   (long long)q0->limit, (long long)q0->offset);
	if ((rc = store_stmt(st, buf_str(&sql), &stmt)))
		goto out;
	if ((rc = store_bind_all(st, stmt, q.binds)))
		goto out;
	*rows = json_object_new_array();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_object *row = json_object_new_object();
		for (int i = 0; i < nout; i++)
			json_object_object_add(row, out[i]->name,
					       column_json(stmt, i, out[i]));
		json_object_array_add(*rows, row);
	}
	rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, "find");
out:
	store_stmt_done(st, stmt);
	if (rc) {
		json_object_put(*rows);
		*rows = NULL;
	}
	json_object_put(q.binds);
	buf_free(&sql);
	return rc;
}

/* Prepare sql, bind binds and step once: *n gets the first column of the
 * row (a count), or for a statement that returns no row, the number of
 * rows it changed. */
static int step_count(struct store *st, struct buf *sql, json_object *binds,
		      int64_t *n, const char *what)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if ((rc = store_stmt(st, buf_str(sql), &stmt)) ||
	    (rc = store_bind_all(st, stmt, binds)))
		goto out;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(stmt, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		*n = sqlite3_changes(st->db);
		rc = 0;
	} else {
		rc = store_fail(st, rc, what);
	}
out:
	store_stmt_done(st, stmt);
	return rc;
}

/* "<head><table> AS t0 WHERE <filter>", run by step_count. */
static int filtered(struct store *st, const struct schema *s,
		    const struct coll *c, json_object *filter, const char *head,
		    const char *what, int64_t *n)
{
	struct buf sql = {0};
	struct qctx q = {st, s, &sql, json_object_new_array(), 0, 0};
	int rc;

	*n = 0;
	buf_puts(&sql, head);
	store_ident(&sql, c->name);
	buf_puts(&sql, " AS t0");
	if (!(rc = where(&q, c, filter)))
		rc = step_count(st, &sql, q.binds, n, what);
	json_object_put(q.binds);
	buf_free(&sql);
	return rc;
}

int store_count(struct store *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n)
{
	return filtered(st, s, c, filter, "SELECT count(*) FROM ", "count", n);
}

int store_insert(struct store *st, const struct coll *c, json_object *values,
		 json_object **pk)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	sqlite3_stmt *stmt = NULL;
	int rc, n = 0;

	*pk = NULL;
	buf_puts(&sql, "INSERT INTO ");
	store_ident(&sql, c->name);
	json_object_object_foreach(values, k, v) {
		const struct field *f = coll_field(c, k);
		if (!f || !field_has_column(f))
			continue;
		buf_puts(&sql, n++ ? ", " : " (");
		store_ident(&sql, k);
		json_object_array_add(binds, jsonx_ref(v));
	}
	if (n) {
		buf_puts(&sql, ") VALUES (");
		for (int i = 0; i < n; i++)
			buf_puts(&sql, i ? ", ?" : "?");
		buf_putc(&sql, ')');
	} else {
		buf_puts(&sql, " DEFAULT VALUES");
	}
	if ((rc = store_stmt(st, buf_str(&sql), &stmt)) ||
	    (rc = store_bind_all(st, stmt, binds)))
		goto out;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		rc = store_fail(st, rc, "insert");
		goto out;
	}
	rc = 0;
	if (c->pk_int)
		*pk = json_object_new_int64(sqlite3_last_insert_rowid(st->db));
	else
		*pk = jsonx_ref(jsonx_get(values, c->pk));
out:
	store_stmt_done(st, stmt);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

static int update_sql(struct store *st, const struct schema *s,
		      const struct coll *c, json_object *filter,
		      struct buf *sql, json_object *binds, json_object *values)
{
	struct qctx q = {st, s, sql, binds, 0, 0};
	int n = 0;

	buf_puts(sql, "UPDATE ");
	store_ident(sql, c->name);
	buf_puts(sql, " AS t0 SET ");
	json_object_object_foreach(values, k, v) {
		const struct field *f = coll_field(c, k);
		if (!f || !field_has_column(f))
			continue;
		if (n++)
			buf_puts(sql, ", ");
		store_ident(sql, k);
		buf_puts(sql, " = ?");
		json_object_array_add(binds, jsonx_ref(v));
	}
	if (!n)
		return -1;
	return where(&q, c, filter);
}

int store_update(struct store *st, const struct schema *s,
		 const struct coll *c, json_object *filter, json_object *values,
		 json_object **pks)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	sqlite3_stmt *stmt = NULL;
	int rc;

	*pks = json_object_new_array();
	rc = update_sql(st, s, c, filter, &sql, binds, values);
	if (rc == -1) {
		/* Nothing to set: report the matching keys unchanged. */
		struct store_find q = {.filter = filter,
				       .fields = &c->pk,
				       .nfields = 1};
		json_object *rows = NULL;
		json_object_put(binds);
		buf_free(&sql);
		rc = store_find(st, s, c, &q, &rows);
		for (size_t i = 0; !rc && i < json_object_array_length(rows); i++)
			json_object_array_add(
				*pks, jsonx_ref(jsonx_get(
					      json_object_array_get_idx(rows, i),
					      c->pk)));
		json_object_put(rows);
		return rc;
	}
	if (rc)
		goto out;
	buf_puts(&sql, " RETURNING ");
	store_ident(&sql, c->pk);
	if ((rc = store_stmt(st, buf_str(&sql), &stmt)) ||
	    (rc = store_bind_all(st, stmt, binds)))
		goto out;
	const struct field *pkf = coll_pk(c);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_object_array_add(*pks, column_json(stmt, 0, pkf));
	rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, "update");
out:
	store_stmt_done(st, stmt);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

int store_update_count(struct store *st, const struct schema *s,
		       const struct coll *c, json_object *filter,
		       json_object *values, int64_t *n)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	int rc;

	*n = 0;
	rc = update_sql(st, s, c, filter, &sql, binds, values);
	if (rc == -1)
		rc = store_count(st, s, c, filter, n);
	else if (!rc)
		rc = step_count(st, &sql, binds, n, "update");
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

int store_delete(struct store *st, const struct schema *s,
		 const struct coll *c, json_object *filter, int64_t *n)
{
	return filtered(st, s, c, filter, "DELETE FROM ", "delete", n);
}

int store_claim_execution(struct store *st, const char *worker, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	char now[32];
	int rc = store_stmt(
		st,
		"UPDATE executions SET status = 0, dispatched = 1, worker = ?1, "
		"startedAt = ?2, updatedAt = ?2 WHERE id = (SELECT id FROM "
		"executions WHERE status IS NULL ORDER BY id LIMIT 1) AND "
		"status IS NULL RETURNING id",
		&stmt);
	*id = 0;
	if (rc)
		return rc;
	util_iso_from_ms(util_now_ms(), now);
	sqlite3_bind_text(stmt, 1, worker, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(stmt, 0);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			;
	}
	rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, "claim");
	store_stmt_done(st, stmt);
	return rc;
}

int store_abort_orphans(struct store *st, bool (*alive)(const char *worker),
			int64_t *n)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	json_object *dead = json_object_new_array();
	char now[32];
	int rc;

	*n = 0;
	rc = store_stmt(st,
			"SELECT id, worker FROM executions WHERE status = 0 "
			"AND worker IS NOT NULL",
			&sel);
	if (rc)
		goto out;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW)
		if (!alive((const char *)sqlite3_column_text(sel, 1)))
			json_object_array_add(
				dead,
				json_object_new_int64(sqlite3_column_int64(sel, 0)));
	store_stmt_done(st, sel);
	sel = NULL;
	if (rc != SQLITE_DONE) {
		rc = store_fail(st, rc, "orphans");
		goto out;
	}
	rc = store_stmt(st,
			"UPDATE executions SET status = -3, updatedAt = ?2 "
			"WHERE id = ?1 AND status = 0",
			&upd);
	if (rc)
		goto out;
	util_iso_from_ms(util_now_ms(), now);
	for (size_t i = 0; i < json_object_array_length(dead); i++) {
		sqlite3_bind_int64(upd, 1,
				   json_object_get_int64(
					   json_object_array_get_idx(dead, i)));
		sqlite3_bind_text(upd, 2, now, -1, SQLITE_STATIC);
		rc = sqlite3_step(upd);
		sqlite3_reset(upd);
		if (rc != SQLITE_DONE) {
			rc = store_fail(st, rc, "abort orphan");
			goto out;
		}
		*n += sqlite3_changes(st->db);
	}
	rc = 0;
out:
	store_stmt_done(st, sel);
	store_stmt_done(st, upd);
	json_object_put(dead);
	return rc;
}
