/*
 * store_pg_int: what the PostgreSQL backend's files (store_pg.c,
 * store_pg_query.c) share; the only header that includes libpq-fe.h.
 */
#ifndef FLOWCGI_STORE_PG_INT_H
#define FLOWCGI_STORE_PG_INT_H

#include <libpq-fe.h>

#include "buf.h"
#include "store_filter.h"
#include "store_int.h"

#define STORE_PG_CACHE_SLOTS 512

/* A statement prepared on the connection, by its SQL text. */
struct pg_prepared {
	char *sql;
	unsigned hash;
	int id; /* prepared as "s<id>"; 0: empty slot */
};

struct store_pg {
	PGconn *conn;
	PGconn *side;         /* autocommit, for what must outlive a rollback
			       * (store_pg_effect_note); opened on first use */
	char *uri;            /* as given, to reconnect (holds the password) */
	char *where;          /* "host:port/db" for messages: no password */
	int depth;            /* transaction nesting */
	bool failed;          /* an inner level failed: roll back */
	bool writing;         /* reads take row locks (FOR UPDATE) */
	bool conflicted;      /* a deadlock or serialization failure since
			       * the transaction began */
	long busy_timeout;    /* ms a statement waits for a lock */
	char errmsg[512];
	struct pg_prepared cache[STORE_PG_CACHE_SLOTS];
	int ncached;
	int next_id;
};

/* What PostgreSQL's SQL says differently (store_pg_query.c). */
extern const struct store_dialect store_dialect_pg;

int store_pg_failf(struct store_pg *st, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Run sql with the JSON array binds as $1..$n (prepared once per
 * connection); *res gets the result (PQclear it).  Errors are mapped to
 * app errors with the message recorded. */
int store_pg_run(struct store_pg *st, const char *sql, json_object *binds,
		 PGresult **res);
/* Run sql without parameters and without result rows (DDL, several
 * statements allowed). */
int store_pg_exec(struct store_pg *st, const char *sql);
/* "host:port/db" of a URI, without user or password (malloc'd). */
char *store_pg_where(const char *uri);
/* Column value i of row r as JSON by field type (new ref). */
json_object *store_pg_cell(PGresult *res, int r, int i, const struct field *f);

#endif
