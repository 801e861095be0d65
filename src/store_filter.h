/*
 * store_filter: NocoBase filters and sorts compiled to SQL, for every
 * backend.  Only the store's own files include this header.
 *
 * A filter becomes one boolean SQL expression over table alias t0; a path
 * through an association becomes an IN (SELECT ...) subquery on the next
 * alias, so no join ever multiplies rows.  Values are coerced to the
 * field's type and bound; names were looked up in the schema first.
 *
 * What differs between SQL engines is one struct store_dialect (how a
 * bound value is written, the true and false literals, decimals compared
 * as numbers, LIKE and its escape clause, the empty forms of text and
 * JSON); the operator table and everything else is shared.  Nothing here
 * includes a database library's header.
 */
#ifndef FLOWCGI_STORE_FILTER_H
#define FLOWCGI_STORE_FILTER_H

#include <json-c/json.h>
#include <stdbool.h>

#include "buf.h"
#include "limits.h"
#include "schema.h"
#include "store.h"

#define STORE_FILTER_MAX_DEPTH LIMIT_FILTER_DEPTH

struct store_dialect {
	const char *name;
	/* Write the n-th bound value (from 1) of a value compared with a
	 * column of type t: SQLite "?", PostgreSQL "$n" (with a cast where
	 * the type needs one). */
	void (*placeholder)(struct buf *sql, int n, enum ftype t);
	/* A condition that always holds / never holds, and the values a
	 * boolean column compares with: SQLite "1"/"0", PostgreSQL
	 * "TRUE"/"FALSE". */
	const char *sql_true, *sql_false;
	/* Around a decimal column compared as a number (SQLite stores
	 * decimals as text: "CAST(" ... " AS REAL)"). */
	const char *numeric_open, *numeric_close;
	/* LIKE that ignores case ($includes, $iLike: SQLite's LIKE,
	 * PostgreSQL's ILIKE) and that respects it ($like). */
	const char *like_nocase, *like_case;
	/* After a pattern whose %, _ and \ were escaped with a backslash. */
	const char *like_escape;
	/* Appended to a column: it holds an empty text / an empty JSON. */
	const char *text_empty, *json_empty;
};

/* The filter's size against LIMIT_FILTER_DEPTH (APP_EPARAM) and
 * LIMIT_FILTER_CONDITIONS (APP_EINPUT_LIMIT), as a query or a node's saved
 * config gives it; 0 or the error with why filled. */
int store_filter_bounds(json_object *filter, char *why, size_t n);

/* One compilation: the SQL being written and the values it binds. */
struct store_filter {
	const struct store_dialect *dialect;
	const struct schema *s;
	struct buf *sql;
	json_object *binds;   /* the array the placeholders number */
	int alias;            /* the last table alias used (t0 = the table) */
	int depth;            /* filter objects open */
	char err[512];        /* why, when a function returned an APP_E* code */
};

/* What value an operator takes. */
enum store_filter_arg {
	SF_ARG_VALUE,   /* a value; null and arrays have meanings ($eq) */
	SF_ARG_SCALAR,  /* one non-null value ($gt) */
	SF_ARG_LIST,    /* an array, or one value taken as one ($in) */
	SF_ARG_TEXT,    /* a text, or an array of texts ($includes) */
	SF_ARG_PATTERN, /* a LIKE pattern, used as given ($like) */
	SF_ARG_NONE,    /* ignored ($empty, $isTruly) */
	SF_ARG_FLAG,    /* true or false ($exists) */
	SF_ARG_PAIR,    /* an array of two values ($between) */
	SF_ARG_DATE,    /* a date, taken as its UTC day ($dateOn) */
	SF_ARG_FILTERS, /* filter objects ($and, $or) */
};

struct store_filter_op;
typedef int store_filter_build(struct store_filter *q,
			       const struct store_filter_op *op,
			       const struct field *f, int t, json_object *v);

/* One row of the operator table. */
struct store_filter_op {
	const char *name;           /* as NocoBase spells it: "$eq" */
	enum store_filter_arg arg;  /* the value it takes */
	store_filter_build *build;  /* NULL: a group, walked by the compiler */
	const char *sql;            /* the comparison it makes, if one */
	const char *pre, *post;     /* LIKE pattern around the value */
	bool negate;                /* the negated form of the same test */
	bool nocase;                /* a LIKE that ignores case */
	bool next_day;              /* a date test at the end of the day */
};

extern const struct store_filter_op store_filter_ops[];
extern const int store_filter_nops;

/* The row for name ("$eq"), or NULL. */
const struct store_filter_op *store_filter_op(const char *name);

void store_filter_init(struct store_filter *q, const struct store_dialect *d,
		       const struct schema *s, struct buf *sql,
		       json_object *binds);
/* Append " WHERE <filter>" for rows of c (filter NULL: every row).
 * Returns 0, or APP_EPARAM / APP_EFIELD / APP_EOPERATOR with q->err. */
int store_filter_where(struct store_filter *q, const struct coll *c,
		       json_object *filter);
/* Append " ORDER BY ..." for sort, ending with the primary key unless it
 * was sorted by already (so pages never overlap). */
int store_filter_order(struct store_filter *q, const struct coll *c,
		       const struct store_sort *sort, int nsort);
/* Append t<alias>."name". */
void store_filter_col(struct store_filter *q, int alias, const char *name);
/* Append the placeholder of v (owned by the call) and bind it. */
void store_filter_bind(struct store_filter *q, json_object *v, enum ftype t);

/* Append "name" quoted as an identifier (names come from the schema). */
void store_ident(struct buf *b, const char *name);

#endif
