/*
 * records: NocoBase's repository semantics over the store, shared by the
 * HTTP API and the workflow nodes: typed values, defaults, timestamps and
 * createdBy, nested association values on create/update, appends on read.
 *
 * A struct rctx carries who acts (for createdById) and the last error's
 * reason; every function returns 0 or an enum app_err.
 */
#ifndef FLOWCGI_RECORDS_H
#define FLOWCGI_RECORDS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"

struct rctx {
	struct app *app;
	int64_t user_id;       /* 0: nobody (createdById stays NULL) */
	const char *message;   /* a NocoBase message for the error, if any */
	char msgbuf[256];      /* storage for a formatted message */
	char reason[512];
};

struct rec_query {
	json_object *filter;   /* variables already resolved */
	json_object *fields;   /* array of names, or NULL */
	json_object *appends;  /* array of association paths, or NULL */
	json_object *except;   /* array of names, or NULL */
	json_object *sort;     /* array of "name" / "-name", or NULL */
	int64_t limit;         /* 0: all */
	int64_t offset;
};

int rec_fail(struct rctx *x, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The primary key value tk coerced to c's key type: a non-numeric or
 * out-of-range id for an integer key is APP_EID. */
int rec_pk(struct rctx *x, const struct coll *c, json_object *tk,
	   json_object **out);
/* A filter selecting tk (a key, or an array of keys). */
int rec_tk_filter(struct rctx *x, const struct coll *c, json_object *tk,
		  json_object **filter);
/* {"$and":[a,b]} without empty sides (new ref; either may be NULL). */
json_object *rec_and(json_object *a, json_object *b);

int rec_find(struct rctx *x, const struct coll *c, const struct rec_query *q,
	     json_object **rows);
/* First matching record or JSON null (*row NULL). */
int rec_get(struct rctx *x, const struct coll *c, const struct rec_query *q,
	    json_object **row);
int rec_count(struct rctx *x, const struct coll *c, json_object *filter,
	      int64_t *n);
/* Load the association paths in appends into each row of rows. */
int rec_append(struct rctx *x, const struct coll *c, json_object *rows,
	       json_object *appends);

/* Create from values (an object; an array creates each).  fixed holds
 * column values that win over values (an association's foreign key). */
int rec_create(struct rctx *x, const struct coll *c, json_object *values,
	       json_object *fixed, json_object **record);
/* Create without reading the record back: *pk gets its key (new ref). */
int rec_insert(struct rctx *x, const struct coll *c, json_object *values,
	       json_object *fixed, json_object **pk);
/* Insert values that are already in stored form (the engine's own rows):
 * no defaults, no associations, no coercion but JSON scalars spelled as
 * JSON; createdAt/updatedAt filled in when absent. */
int rec_insert_stored(struct rctx *x, const struct coll *c, json_object *values,
		      json_object **pk);
/* Update the rows matching filter; *records the updated rows. */
int rec_update(struct rctx *x, const struct coll *c, json_object *filter,
	       json_object *values, json_object **records);
/* Update without reading back: *n the number of rows changed. */
int rec_update_count(struct rctx *x, const struct coll *c, json_object *filter,
		     json_object *values, int64_t *n);
int rec_destroy(struct rctx *x, const struct coll *c, json_object *filter,
		int64_t *n);

/* A value coerced to field f's storage (new ref; JSON null allowed). */
int rec_coerce(struct rctx *x, const struct field *f, json_object *v,
	       json_object **out);

#endif
