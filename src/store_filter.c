/*
 * store_filter: see store_filter.h.  The operator table is at the end of
 * the builders it names; the walk over filter objects follows it.
 */
#include "store_filter.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsnum.h"
#include "jsonx.h"
#include "util.h"

#define DAY_MS 86400000

static int filter_obj(struct store_filter *q, const struct coll *c, int t,
		      json_object *f);

__attribute__((format(printf, 3, 4))) static int
fail(struct store_filter *q, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	return code;
}

void store_ident(struct buf *b, const char *name)
{
	/* Names come from the schema, which holds identifiers only; the
	 * doubling of '"' is the belt to those braces. */
	buf_putc(b, '"');
	if (!strchr(name, '"')) {
		buf_puts(b, name);
	} else {
		for (const char *p = name; *p; p++) {
			if (*p == '"')
				buf_putc(b, '"');
			buf_putc(b, *p);
		}
	}
	buf_putc(b, '"');
}

void store_filter_init(struct store_filter *q, const struct store_dialect *d,
		       const struct schema *s, struct buf *sql,
		       json_object *binds)
{
	q->dialect = d;
	q->s = s;
	q->sql = sql;
	q->binds = binds;
	q->alias = 0;
	q->depth = 0;
	q->err[0] = 0;
}

/* An alias-qualified column: t<n>."name".  Hot: every query builds a few
 * dozen, so no printf here. */
void store_filter_col(struct store_filter *q, int t, const char *name)
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

void store_filter_bind(struct store_filter *q, json_object *v, enum ftype t)
{
	json_object_array_add(q->binds, v);
	q->dialect->placeholder(q->sql, (int)json_object_array_length(q->binds),
				t);
}

static void col(struct store_filter *q, int t, const char *name)
{
	store_filter_col(q, t, name);
}

/* "(<col><tail>)": IS NULL tests and the like. */
static void col_test(struct store_filter *q, const struct field *f, int t,
		     const char *tail)
{
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_puts(q->sql, tail);
	buf_putc(q->sql, ')');
}

static void or_null(struct store_filter *q, const struct field *f, int t)
{
	buf_puts(q->sql, " OR ");
	col(q, t, f->name);
	buf_puts(q->sql, " IS NULL");
}

static bool is_null(json_object *v)
{
	return !v || json_object_is_type(v, json_type_null);
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

/* ---- values coerced to what the column stores ------------------------ */

static json_object *coerce_bool_text(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "1"))
		return json_object_new_int(1);
	if (!strcmp(s, "false") || !strcmp(s, "0"))
		return json_object_new_int(0);
	return NULL;
}

/* A number or boolean column: booleans as 0/1, numbers and numeric text
 * as integers where the column and the value are integral. */
static json_object *coerce_number(struct store_filter *q,
				  const struct field *f, json_object *v)
{
	enum json_type jt = json_object_get_type(v);
	json_object *o;
	double d;

	if (jt == json_type_boolean)
		return json_object_new_int(json_object_get_boolean(v));
	if (f->type == FT_BOOLEAN && jt == json_type_string &&
	    (o = coerce_bool_text(json_object_get_string(v))))
		return o;
	if ((jt == json_type_int || jt == json_type_double ||
	     jt == json_type_string) &&
	    jsonx_to_double(v, &d) && isfinite(d) &&
	    (jt != json_type_string || json_object_get_string_len(v))) {
		if (f->type == FT_FLOAT || f->type == FT_DOUBLE ||
		    f->type == FT_DECIMAL || !jsnum_is_int(d))
			return json_object_new_double(d);
		return json_object_new_int64((int64_t)d);
	}
	fail(q, APP_EPARAM, "Invalid value %s for field \"%s\": expected a %s",
	     jsonx_str(v), f->name,
	     f->type == FT_BOOLEAN ? "boolean" : "number");
	return NULL;
}

/* A date column holds ISO-8601 UTC text; numbers are epoch ms. */
static json_object *coerce_date(struct store_filter *q, const struct field *f,
				json_object *v)
{
	enum json_type jt = json_object_get_type(v);
	char iso[32];
	int64_t ms;
	double d;

	if (jt == json_type_string &&
	    !util_ms_from_iso(json_object_get_string(v), &ms)) {
		util_iso_from_ms(ms, iso);
		return json_object_new_string(iso);
	}
	/* A number beyond the years 0-9999 (1e300) is no date: cast to
	 * int64 it was undefined behaviour (fuzz_filter). */
	if ((jt == json_type_int || jt == json_type_double) &&
	    jsonx_to_double(v, &d) && util_ms_is_iso(d)) {
		util_iso_from_ms((int64_t)d, iso);
		return json_object_new_string(iso);
	}
	fail(q, APP_EPARAM, "Invalid date %s for field \"%s\"", jsonx_str(v),
	     f->name);
	return NULL;
}

/* A filter value coerced to what the column stores (new ref, or NULL with
 * q->err set; NULL without a message for a null value). */
static json_object *coerce(struct store_filter *q, const struct field *f,
			   json_object *v)
{
	enum json_type jt = json_object_get_type(v);

	if (is_null(v))
		return NULL;
	if (is_numeric(f->type) || f->type == FT_BOOLEAN)
		return coerce_number(q, f, v);
	if (f->type == FT_DATE)
		return coerce_date(q, f, v);
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
		fail(q, APP_EPARAM, "Invalid value %s for field \"%s\"",
		     jsonx_str(v), f->name);
		return NULL;
	}
	return jsonx_ref(v);
}

/* ---- the builders the operator table names --------------------------- */

/* (col <sql> ?), the value coerced; a null value fails. */
static int cmp(struct store_filter *q, const struct field *f, int t,
	       const char *sql, json_object *v)
{
	const struct store_dialect *d = q->dialect;
	json_object *c = coerce(q, f, v);

	if (!c)
		return is_null(v) ? fail(q, APP_EPARAM,
					 "Operator needs a value for field "
					 "\"%s\"",
					 f->name)
				  : APP_EPARAM;
	buf_putc(q->sql, '(');
	if (f->type == FT_DECIMAL) {
		buf_puts(q->sql, d->numeric_open);
		col(q, t, f->name);
		buf_puts(q->sql, d->numeric_close);
	} else {
		col(q, t, f->name);
	}
	buf_putc(q->sql, ' ');
	buf_puts(q->sql, sql);
	buf_putc(q->sql, ' ');
	store_filter_bind(q, c, f->type);
	buf_putc(q->sql, ')');
	return 0;
}

static int build_cmp(struct store_filter *q, const struct store_filter_op *op,
		     const struct field *f, int t, json_object *v)
{
	return cmp(q, f, t, op->sql, v);
}

/* col [NOT] IN (...); null items match nothing, so they are left out. */
static int in_list(struct store_filter *q, const struct field *f, int t,
		   json_object *v, bool negate)
{
	size_t n = json_object_array_length(v);
	int emitted = 0;

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i), *c;
		if (is_null(e))
			continue;
		if (!(c = coerce(q, f, e)))
			return APP_EPARAM;
		if (!emitted++) {
			buf_putc(q->sql, '(');
			col(q, t, f->name);
			buf_puts(q->sql, negate ? " NOT IN (" : " IN (");
		} else {
			buf_puts(q->sql, ", ");
		}
		store_filter_bind(q, c, f->type);
	}
	if (!emitted) {
		buf_puts(q->sql, negate ? q->dialect->sql_true
					: q->dialect->sql_false);
		return 0;
	}
	buf_putc(q->sql, ')');
	if (negate)
		or_null(q, f, t);
	buf_putc(q->sql, ')');
	return 0;
}

static int build_in(struct store_filter *q, const struct store_filter_op *op,
		    const struct field *f, int t, json_object *v)
{
	json_object *one;
	int rc;

	if (is_null(v)) {
		buf_puts(q->sql, op->negate ? q->dialect->sql_true
					    : q->dialect->sql_false);
		return 0;
	}
	if (json_object_is_type(v, json_type_array))
		return in_list(q, f, t, v, op->negate);
	one = json_object_new_array();
	json_object_array_add(one, jsonx_ref(v));
	rc = in_list(q, f, t, one, op->negate);
	json_object_put(one);
	return rc;
}

/* $eq and $ne: null is IS [NOT] NULL, an array is [NOT] IN. */
static int build_eq(struct store_filter *q, const struct store_filter_op *op,
		    const struct field *f, int t, json_object *v)
{
	int rc;

	if (is_null(v)) {
		col_test(q, f, t, op->negate ? " IS NOT NULL" : " IS NULL");
		return 0;
	}
	if (json_object_is_type(v, json_type_array))
		return in_list(q, f, t, v, op->negate);
	if (!op->negate)
		return cmp(q, f, t, "=", v);
	buf_putc(q->sql, '(');
	if ((rc = cmp(q, f, t, "<>", v)))
		return rc;
	or_null(q, f, t);
	buf_putc(q->sql, ')');
	return 0;
}

/* The value with its own %, _ and \ escaped, between pre and post. */
static json_object *like_pattern(json_object *v, const char *pre,
				 const char *post)
{
	char *s = jsonx_to_js_string(v, true);
	struct buf pat = {0};
	json_object *o;

	buf_puts(&pat, pre);
	for (char *p = s; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&pat, '\\');
		buf_putc(&pat, *p);
	}
	buf_puts(&pat, post);
	free(s);
	o = json_object_new_string(buf_str(&pat));
	buf_free(&pat);
	return o;
}

static int contains_one(struct store_filter *q,
			const struct store_filter_op *op,
			const struct field *f, int t, json_object *v)
{
	const struct store_dialect *d = q->dialect;

	if (is_null(v) || json_object_is_type(v, json_type_object))
		return fail(q, APP_EPARAM,
			    "Operator needs a text value for field \"%s\"",
			    f->name);
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_puts(q->sql, op->negate ? " NOT " : " ");
	buf_puts(q->sql, d->like_nocase);
	buf_putc(q->sql, ' ');
	store_filter_bind(q, like_pattern(v, op->pre, op->post), FT_TEXT);
	buf_puts(q->sql, d->like_escape);
	if (op->negate)
		or_null(q, f, t);
	buf_putc(q->sql, ')');
	return 0;
}

/* $includes and its kin; an array: any of its texts (none of them when
 * negated), an empty array: every row. */
static int build_contains(struct store_filter *q,
			  const struct store_filter_op *op,
			  const struct field *f, int t, json_object *v)
{
	size_t n;
	int rc;

	if (!json_object_is_type(v, json_type_array))
		return contains_one(q, op, f, t, v);
	if (!(n = json_object_array_length(v))) {
		buf_puts(q->sql, q->dialect->sql_true);
		return 0;
	}
	buf_putc(q->sql, '(');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(q->sql, op->negate ? " AND " : " OR ");
		if ((rc = contains_one(q, op, f, t,
				       json_object_array_get_idx(v, i))))
			return rc;
	}
	buf_putc(q->sql, ')');
	return 0;
}

/* $like and $iLike: the pattern as the caller wrote it. */
static int build_like(struct store_filter *q, const struct store_filter_op *op,
		      const struct field *f, int t, json_object *v)
{
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_puts(q->sql, op->negate ? " NOT " : " ");
	buf_puts(q->sql, op->nocase ? q->dialect->like_nocase
				    : q->dialect->like_case);
	buf_putc(q->sql, ' ');
	store_filter_bind(q, jsonx_ref(v), FT_TEXT);
	buf_putc(q->sql, ')');
	return 0;
}

static int build_empty(struct store_filter *q, const struct store_filter_op *op,
		       const struct field *f, int t, json_object *v)
{
	buf_puts(q->sql, op->negate ? "(NOT (" : "((");
	col(q, t, f->name);
	buf_puts(q->sql, " IS NULL");
	if (is_textual(f->type) || f->type == FT_JSON) {
		buf_puts(q->sql, " OR ");
		col(q, t, f->name);
		buf_puts(q->sql, f->type == FT_JSON ? q->dialect->json_empty
						    : q->dialect->text_empty);
	}
	buf_puts(q->sql, "))");
	return 0;
}

/* $exists: true (or null) wants a value, false wants none; $notExists
 * the other way round (null included, as NocoBase's sequelize reads it). */
static int build_exists(struct store_filter *q,
			const struct store_filter_op *op,
			const struct field *f, int t, json_object *v)
{
	bool want = !op->negate == jsonx_truthy(v) ||
		    (is_null(v) && !op->negate);
	col_test(q, f, t, want ? " IS NOT NULL" : " IS NULL");
	return 0;
}

static int build_truthy(struct store_filter *q,
			const struct store_filter_op *op,
			const struct field *f, int t, json_object *v)
{
	const struct store_dialect *d = q->dialect;

	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_puts(q->sql, " = ");
	buf_puts(q->sql, op->negate ? d->sql_false : d->sql_true);
	if (op->negate)
		or_null(q, f, t);
	buf_putc(q->sql, ')');
	return 0;
}

static int build_between(struct store_filter *q,
			 const struct store_filter_op *op,
			 const struct field *f, int t, json_object *v)
{
	int rc;

	buf_puts(q->sql, op->negate ? "(NOT (" : "((");
	if ((rc = cmp(q, f, t, ">=", json_object_array_get_idx(v, 0))))
		return rc;
	buf_puts(q->sql, " AND ");
	if ((rc = cmp(q, f, t, "<=", json_object_array_get_idx(v, 1))))
		return rc;
	buf_puts(q->sql, "))");
	return 0;
}

/* The start of the UTC day of a date value. */
static int day_start(struct store_filter *q, const struct field *f,
		     json_object *v, int64_t *start)
{
	int64_t ms;
	if (!json_object_is_type(v, json_type_string) ||
	    util_ms_from_iso(json_object_get_string(v), &ms))
		return fail(q, APP_EPARAM, "Invalid date %s for field \"%s\"",
			    jsonx_str(v), f->name);
	*start = ms - ((ms % DAY_MS) + DAY_MS) % DAY_MS;
	return 0;
}

/* (col <sql> '<iso of ms>') */
static void date_cmp(struct store_filter *q, const struct field *f, int t,
		     const char *sql, int64_t ms)
{
	char iso[32];
	util_iso_from_ms(ms, iso);
	buf_putc(q->sql, '(');
	col(q, t, f->name);
	buf_putc(q->sql, ' ');
	buf_puts(q->sql, sql);
	buf_putc(q->sql, ' ');
	store_filter_bind(q, json_object_new_string(iso), FT_DATE);
	buf_putc(q->sql, ')');
}

/* [from, to + 1 day) */
static void date_range(struct store_filter *q, const struct field *f, int t,
		       int64_t from, int64_t to)
{
	date_cmp(q, f, t, ">=", from);
	buf_puts(q->sql, " AND ");
	date_cmp(q, f, t, "<", to + DAY_MS);
}

/* $dateOn and $dateNotOn: within the day, or not. */
static int build_date_on(struct store_filter *q,
			 const struct store_filter_op *op,
			 const struct field *f, int t, json_object *v)
{
	int64_t day;
	int rc;

	if ((rc = day_start(q, f, v, &day)))
		return rc;
	buf_puts(q->sql, op->negate ? "(NOT (" : "((");
	date_range(q, f, t, day, day);
	buf_puts(q->sql, "))");
	return 0;
}

/* $dateBefore ... $dateNotAfter: one comparison with the start of the
 * day, or of the next. */
static int build_date_cmp(struct store_filter *q,
			  const struct store_filter_op *op,
			  const struct field *f, int t, json_object *v)
{
	int64_t day;
	int rc;

	if ((rc = day_start(q, f, v, &day)))
		return rc;
	date_cmp(q, f, t, op->sql, op->next_day ? day + DAY_MS : day);
	return 0;
}

static int build_date_between(struct store_filter *q,
			      const struct store_filter_op *op,
			      const struct field *f, int t, json_object *v)
{
	int64_t a, b;
	int rc;

	if ((rc = day_start(q, f, json_object_array_get_idx(v, 0), &a)) ||
	    (rc = day_start(q, f, json_object_array_get_idx(v, 1), &b)))
		return rc;
	buf_putc(q->sql, '(');
	date_range(q, f, t, a, b);
	buf_putc(q->sql, ')');
	return 0;
}

/* ---- the operator table ----------------------------------------------- */

#define OP(n, a, b) .name = n, .arg = a, .build = b

/* Every operator a filter may use, with the aliases NocoBase accepts.
 * README's list of filter operators is this table. */
const struct store_filter_op store_filter_ops[] = {
	{OP("$and", SF_ARG_FILTERS, NULL)},
	{OP("$or", SF_ARG_FILTERS, NULL)},
	{OP("$eq", SF_ARG_VALUE, build_eq)},
	{OP("$is", SF_ARG_VALUE, build_eq)},
	{OP("$ne", SF_ARG_VALUE, build_eq), .negate = true},
	{OP("$not", SF_ARG_VALUE, build_eq), .negate = true},
	{OP("$gt", SF_ARG_SCALAR, build_cmp), .sql = ">"},
	{OP("$gte", SF_ARG_SCALAR, build_cmp), .sql = ">="},
	{OP("$lt", SF_ARG_SCALAR, build_cmp), .sql = "<"},
	{OP("$lte", SF_ARG_SCALAR, build_cmp), .sql = "<="},
	{OP("$in", SF_ARG_LIST, build_in)},
	{OP("$notIn", SF_ARG_LIST, build_in), .negate = true},
	{OP("$includes", SF_ARG_TEXT, build_contains), .pre = "%", .post = "%"},
	{OP("$notIncludes", SF_ARG_TEXT, build_contains), .pre = "%",
	 .post = "%", .negate = true},
	{OP("$startsWith", SF_ARG_TEXT, build_contains), .pre = "",
	 .post = "%"},
	{OP("$notStartsWith", SF_ARG_TEXT, build_contains), .pre = "",
	 .post = "%", .negate = true},
	{OP("$endWith", SF_ARG_TEXT, build_contains), .pre = "%", .post = ""},
	{OP("$endsWith", SF_ARG_TEXT, build_contains), .pre = "%", .post = ""},
	{OP("$notEndWith", SF_ARG_TEXT, build_contains), .pre = "%",
	 .post = "", .negate = true},
	{OP("$notEndsWith", SF_ARG_TEXT, build_contains), .pre = "%",
	 .post = "", .negate = true},
	{OP("$like", SF_ARG_PATTERN, build_like)},
	{OP("$notLike", SF_ARG_PATTERN, build_like), .negate = true},
	{OP("$iLike", SF_ARG_PATTERN, build_like), .nocase = true},
	{OP("$notILike", SF_ARG_PATTERN, build_like), .nocase = true,
	 .negate = true},
	{OP("$empty", SF_ARG_NONE, build_empty)},
	{OP("$notEmpty", SF_ARG_NONE, build_empty), .negate = true},
	{OP("$exists", SF_ARG_FLAG, build_exists)},
	{OP("$notExists", SF_ARG_FLAG, build_exists), .negate = true},
	{OP("$isTruly", SF_ARG_NONE, build_truthy)},
	{OP("$isFalsy", SF_ARG_NONE, build_truthy), .negate = true},
	{OP("$between", SF_ARG_PAIR, build_between)},
	{OP("$notBetween", SF_ARG_PAIR, build_between), .negate = true},
	{OP("$dateOn", SF_ARG_DATE, build_date_on)},
	{OP("$dateNotOn", SF_ARG_DATE, build_date_on), .negate = true},
	{OP("$dateBefore", SF_ARG_DATE, build_date_cmp), .sql = "<"},
	{OP("$dateNotBefore", SF_ARG_DATE, build_date_cmp), .sql = ">="},
	{OP("$dateAfter", SF_ARG_DATE, build_date_cmp), .sql = ">=",
	 .next_day = true},
	{OP("$dateNotAfter", SF_ARG_DATE, build_date_cmp), .sql = "<",
	 .next_day = true},
	{OP("$dateBetween", SF_ARG_PAIR, build_date_between)},
};

const int store_filter_nops =
	(int)(sizeof(store_filter_ops) / sizeof(store_filter_ops[0]));

const struct store_filter_op *store_filter_op(const char *name)
{
	for (int i = 0; i < store_filter_nops; i++)
		if (!strcmp(store_filter_ops[i].name, name))
			return &store_filter_ops[i];
	return NULL;
}

/* ---- the walk over a filter ------------------------------------------- */

/* Apply operator name to field f of alias t. */
static int field_op(struct store_filter *q, const struct field *f, int t,
		    const char *name, json_object *v)
{
	const struct store_filter_op *op = store_filter_op(name);

	if (!op || !op->build)
		return fail(q, APP_EOPERATOR,
			    "Unknown operator \"%s\" on field \"%s\"", name,
			    f->name);
	if (op->arg == SF_ARG_PAIR &&
	    (!json_object_is_type(v, json_type_array) ||
	     json_object_array_length(v) != 2))
		return fail(q, APP_EPARAM, "%s needs an array of two values",
			    name);
	if (op->arg == SF_ARG_PATTERN &&
	    !json_object_is_type(v, json_type_string))
		return fail(q, APP_EPARAM, "%s needs a text pattern", name);
	return op->build(q, op, f, t, v);
}

/* A non-empty object whose keys are all operators. */
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

/* Conditions on one scalar field: a literal, or an object of operators;
 * op: the operator a dotted key named ("price.$gt"). */
static int field_cond(struct store_filter *q, const struct field *f, int t,
		      const char *op, json_object *v)
{
	int rc, n = 0;

	if (op)
		return field_op(q, f, t, op, v);
	if (!all_ops(v)) {
		if (json_object_is_type(v, json_type_object))
			return fail(q, APP_EPARAM,
				    "Invalid filter value for field \"%s\"",
				    f->name);
		return field_op(q, f, t, "$eq", v);
	}
	buf_putc(q->sql, '(');
	json_object_object_foreach(v, k, val) {
		if (n++)
			buf_puts(q->sql, " AND ");
		if ((rc = field_op(q, f, t, k, val)))
			return rc;
	}
	buf_putc(q->sql, ')');
	return 0;
}

/* "<key of t> IN (SELECT <key of ta> FROM": the opening of the subquery
 * that reaches the target of association f, through its join table for a
 * belongsToMany (*th gets that table's alias, 0 for none). */
static void assoc_open(struct store_filter *q, const struct field *f, int t,
		       int ta, int *th)
{
	*th = 0;
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
		*th = ++q->alias;
		col(q, t, f->source_key);
		buf_printf(q->sql, " IN (SELECT t%d.", *th);
		store_ident(q->sql, f->foreign_key);
		buf_puts(q->sql, " FROM ");
		store_ident(q->sql, f->through);
		buf_printf(q->sql, " AS t%d WHERE t%d.", *th, *th);
		store_ident(q->sql, f->other_key);
		buf_printf(q->sql, " IN (SELECT t%d.", ta);
		store_ident(q->sql, f->target_key);
	}
}

/* A condition on the target of association f, as a subquery; rest: the
 * rest of a dotted key ("category.title" -> "title"), or NULL when v is
 * a filter object on the target. */
static int assoc_cond(struct store_filter *q, int t, const struct field *f,
		      const char *rest, json_object *v)
{
	const struct coll *tc = schema_coll(q->s, f->target);
	int ta = ++q->alias, th, rc;

	if (!tc)
		return fail(q, APP_EFIELD,
			    "Association \"%s\" targets a missing collection "
			    "\"%s\"",
			    f->name, f->target);
	if (!rest && (!json_object_is_type(v, json_type_object) || all_ops(v)))
		return fail(q, APP_EPARAM,
			    "Filter on association \"%s\" needs a field of "
			    "\"%s\"",
			    f->name, tc->name);
	buf_putc(q->sql, '(');
	assoc_open(q, f, t, ta, &th);
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
	return 0;
}

/* The field named by the first segment of a dotted path (*rest: after
 * the dot, or NULL); passwords are never found. */
static int path_head(struct store_filter *q, const struct coll *c,
		     const char *path, const struct field **f,
		     const char **rest)
{
	char head[128];
	const char *dot = strchr(path, '.');
	size_t n = dot ? (size_t)(dot - path) : strlen(path);

	*rest = dot ? dot + 1 : NULL;
	if (n >= sizeof(head))
		return fail(q, APP_EFIELD, "Field name too long");
	memcpy(head, path, n);
	head[n] = 0;
	*f = coll_field(c, head);
	if (!*f || ((*f)->hidden && (*f)->type == FT_PASSWORD))
		return fail(q, APP_EFIELD,
			    "Unknown field \"%s\" in collection \"%s\"", head,
			    c->name);
	return 0;
}

/* One key of a filter object: a field, "field.$op" or an association
 * path. */
static int filter_key(struct store_filter *q, const struct coll *c, int t,
		      const char *key, json_object *v)
{
	const struct field *f;
	const char *rest;
	int rc;

	if ((rc = path_head(q, c, key, &f, &rest)))
		return rc;
	if (ftype_is_assoc(f->type)) {
		if (rest && rest[0] == '$')
			return fail(q, APP_EOPERATOR,
				    "Operator %s cannot apply to association "
				    "\"%s\"",
				    rest, f->name);
		return assoc_cond(q, t, f, rest, v);
	}
	if (rest && rest[0] != '$')
		return fail(q, APP_EFIELD,
			    "Unknown field \"%s\" in collection \"%s\"", key,
			    c->name);
	return field_cond(q, f, t, rest, v);
}

/* items[lo, hi) joined by op as a balanced tree of parentheses: a
 * chain of a thousand ORs is an expression a thousand deep, past
 * SQLite's limit; this way it is ten. */
static int group_tree(struct store_filter *q, const struct coll *c, int t,
		      json_object **items, size_t lo, size_t hi,
		      const char *op)
{
	int rc;
	if (hi - lo == 1)
		return filter_obj(q, c, t, items[lo]);
	size_t mid = lo + (hi - lo) / 2;
	buf_putc(q->sql, '(');
	if ((rc = group_tree(q, c, t, items, lo, mid, op)))
		return rc;
	buf_puts(q->sql, op);
	if ((rc = group_tree(q, c, t, items, mid, hi, op)))
		return rc;
	buf_putc(q->sql, ')');
	return 0;
}

/* $and / $or: an array of filter objects (empty ones left out), or one
 * object. */
static int filter_group(struct store_filter *q, const struct coll *c, int t,
			const char *op, json_object *v)
{
	json_object **items;
	size_t n, used = 0;
	int rc = 0;

	if (json_object_is_type(v, json_type_object))
		return filter_obj(q, c, t, v);
	if (!json_object_is_type(v, json_type_array))
		return fail(q, APP_EPARAM, "%s needs an array", op);
	n = json_object_array_length(v);
	items = util_xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object)) {
			rc = fail(q, APP_EPARAM, "%s items must be objects", op);
			goto out;
		}
		if (json_object_object_length(e) > 0)
			items[used++] = e;
	}
	if (!used)
		buf_printf(q->sql, "(%s)", q->dialect->sql_true);
	else
		rc = group_tree(q, c, t, items, 0, used,
				!strcmp(op, "$or") ? " OR " : " AND ");
out:
	free(items);
	return rc;
}

/* A filter object: its keys joined with AND. */
static int filter_obj(struct store_filter *q, const struct coll *c, int t,
		      json_object *f)
{
	const struct store_filter_op *op;
	int rc, n = 0;

	if (is_null(f)) {
		buf_puts(q->sql, q->dialect->sql_true);
		return 0;
	}
	if (!json_object_is_type(f, json_type_object))
		return fail(q, APP_EPARAM, "filter must be a JSON object");
	if (++q->depth > STORE_FILTER_MAX_DEPTH)
		return fail(q, APP_EPARAM, "filter nested too deep");
	buf_putc(q->sql, '(');
	json_object_object_foreach(f, k, v) {
		if (n++)
			buf_puts(q->sql, " AND ");
		if (k[0] != '$')
			rc = filter_key(q, c, t, k, v);
		else if ((op = store_filter_op(k)) && op->arg == SF_ARG_FILTERS)
			rc = filter_group(q, c, t, k, v);
		else
			rc = fail(q, APP_EOPERATOR, "Unknown operator \"%s\"",
				  k);
		if (rc)
			return rc;
	}
	if (!n)
		buf_puts(q->sql, q->dialect->sql_true);
	buf_putc(q->sql, ')');
	q->depth--;
	return 0;
}

/* Depth (objects within objects) and conditions (comparisons: members
 * whose value is no filter object, $and/$or never) of f, counted from
 * depth d; stops past the depth limit. */
static void measure(json_object *f, int d, int *depth, long *conds)
{
	if (d > *depth)
		*depth = d;
	if (d > LIMIT_FILTER_DEPTH)
		return;
	if (json_object_is_type(f, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(f); i++) {
			json_object *e = json_object_array_get_idx(f, i);
			if (json_object_is_type(e, json_type_object))
				measure(e, d, depth, conds);
		}
		return;
	}
	json_object_object_foreach(f, k, v) {
		bool group = !strcmp(k, "$and") || !strcmp(k, "$or");
		if (json_object_is_type(v, json_type_object) ||
		    (group && json_object_is_type(v, json_type_array)))
			measure(v, d + 1, depth, conds);
		else if (!group)
			++*conds;
	}
}

int store_filter_bounds(json_object *filter, char *why, size_t n)
{
	int depth = 0;
	long conds = 0;
	if (!json_object_is_type(filter, json_type_object))
		return 0;
	measure(filter, 1, &depth, &conds);
	if (depth > LIMIT_FILTER_DEPTH) {
		snprintf(why, n, "filter nested too deep (more than %d levels)",
			 LIMIT_FILTER_DEPTH);
		return APP_EPARAM;
	}
	if (conds > LIMIT_FILTER_CONDITIONS) {
		snprintf(why, n, "filter has %ld conditions, more than %d",
			 conds, LIMIT_FILTER_CONDITIONS);
		return APP_EINPUT_LIMIT;
	}
	return 0;
}

int store_filter_where(struct store_filter *q, const struct coll *c,
		       json_object *filter)
{
	int rc = store_filter_bounds(filter, q->err, sizeof(q->err));
	if (rc)
		return rc;
	buf_puts(q->sql, " WHERE ");
	return filter_obj(q, c, 0, filter);
}

/* ---- sorting ----------------------------------------------------------- */

/* (SELECT <tf of the target> ... LIMIT 1): a to-one association's field
 * as a sort key. */
static void sort_subquery(struct store_filter *q, const struct field *f,
			  const struct coll *tc, const struct field *tf)
{
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

/* An ORDER BY term: a column, or a to-one association path "a.b". */
static int sort_term(struct store_filter *q, const struct coll *c,
		     const struct store_sort *so)
{
	const struct field *f, *tf;
	const struct coll *tc;
	const char *rest;

	if (strcspn(so->path, ".") >= 128)
		return fail(q, APP_EFIELD, "Sort field too long");
	if (path_head(q, c, so->path, &f, &rest) || f->type == FT_PASSWORD)
		return fail(q, APP_EFIELD,
			    "Unknown sort field \"%s\" in collection \"%s\"",
			    so->path, c->name);
	if (!rest) {
		if (!field_has_column(f))
			return fail(q, APP_EFIELD,
				    "Cannot sort by association \"%s\"",
				    f->name);
		col(q, 0, f->name);
	} else {
		tc = schema_coll(q->s, f->target);
		tf = tc ? coll_field(tc, rest) : NULL;
		if (!tf || !field_has_column(tf) ||
		    !(f->type == FT_BELONGS_TO || f->type == FT_HAS_ONE))
			return fail(q, APP_EFIELD,
				    "Unknown sort field \"%s\" in collection "
				    "\"%s\"",
				    so->path, c->name);
		sort_subquery(q, f, tc, tf);
	}
	buf_puts(q->sql, so->desc ? " DESC NULLS FIRST" : " ASC NULLS LAST");
	return 0;
}

int store_filter_order(struct store_filter *q, const struct coll *c,
		       const struct store_sort *sort, int nsort)
{
	bool pk_sorted = false;
	int rc;

	buf_puts(q->sql, " ORDER BY ");
	for (int i = 0; i < nsort; i++) {
		if (i)
			buf_puts(q->sql, ", ");
		if ((rc = sort_term(q, c, &sort[i])))
			return rc;
		if (!strcmp(sort[i].path, c->pk))
			pk_sorted = true;
	}
	if (!pk_sorted) {
		if (nsort)
			buf_puts(q->sql, ", ");
		col(q, 0, c->pk);
		buf_puts(q->sql, " ASC");
	}
	return 0;
}
