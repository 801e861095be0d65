/*
 * store: the only part of flowcgi that speaks SQL (and the only one that
 * includes sqlite3.h or libpq-fe.h).  Everything above it works with
 * collections, filter JSON and value JSON.  Two backends implement this
 * header: SQLite (store_sqlite*.c), the embedded default, and PostgreSQL
 * (store_pg*.c), for several web servers on one database.
 *
 * Identifiers reach SQL only after they were found in the schema; every
 * value is bound.  On SQLite a write transaction takes the one write lock
 * first (BEGIN IMMEDIATE), so a request's reads and writes see one
 * snapshot and concurrent writers queue on the busy timeout.  On
 * PostgreSQL reads inside a write transaction lock the rows of user
 * collections they return, and nothing else is locked.  Functions return
 * 0 or an enum app_err; store_errmsg() then names the cause (never a
 * password).
 */
#ifndef FLOWCGI_STORE_H
#define FLOWCGI_STORE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "schema.h"

struct store;

/* Whether target names a PostgreSQL database (postgresql:// or
 * postgres://) rather than a SQLite file. */
bool store_is_uri(const char *target);
/* Open a SQLite file or a PostgreSQL URI.  create: make a missing SQLite
 * file (init); otherwise a missing file is APP_EDB_UNINIT.  A PostgreSQL
 * server that does not answer is APP_EDB_UNAVAILABLE.  *out is set even
 * on failure (for store_errmsg); close it. */
int store_open(const char *target, bool create, struct store **out);
void store_close(struct store *st);
const char *store_errmsg(const struct store *st);
/* The file, or "host:port/db" of a URI (no password): for messages. */
const char *store_path(const struct store *st);
/* "sqlite" or "postgresql". */
const char *store_kind(const struct store *st);

/* Schema version applied to this file (0: not initialised). */
int store_user_version(struct store *st, int *version);
/* Create or upgrade every table and index to the current version, in one
 * transaction.  Idempotent. */
int store_migrate(struct store *st);

/* Transactions nest by count; only the outermost level reaches the
 * database.  A failure inside marks the whole transaction for rollback. */
int store_begin(struct store *st, bool write);
/* The transaction of a request that knows only once it has read whether
 * it writes (store_writable then).  SQLite takes the write lock now: its
 * one writer queues anyway, and a read transaction turned into a write
 * one is a second snapshot (lock calls, and beside another process a
 * page cache read twice), where holding the lock for the request's reads
 * too costs less (a tenth of the trigger's CPU time, README Performance).  A
 * damaged file is refused only when the request writes: a read
 * transaction then.  PostgreSQL: a read transaction, its reads locking
 * no rows until store_writable. */
int store_begin_late(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* Turn the open read transaction into a write one (SQLite: BEGIN
 * IMMEDIATE on a fresh snapshot; PostgreSQL: its reads lock rows from
 * now on): for a request that reads before it knows it writes. */
int store_writable(struct store *st);
/* Queue the open write transaction behind any other one that holds key,
 * until it ends: for requests that must not run side by side (one
 * Idempotency-Key).  PostgreSQL: a transaction-scoped advisory lock on the
 * key's hash, waited for at most the busy timeout; SQLite: nothing, its
 * one writer queues every write transaction already. */
int store_lock_key(struct store *st, const char *key);
/* Roll back the whole transaction now, whatever the nesting depth. */
void store_abort(struct store *st);
bool store_in_txn(const struct store *st);
/* The open transaction lost a deadlock or a serialization check
 * (PostgreSQL; never on SQLite, which has one writer): it must roll back,
 * and may run again from the start. */
bool store_conflicted(const struct store *st);
/* Housekeeping for between requests: checkpoint the WAL when it grew. */
void store_maintain(struct store *st);
/* The connection met a fault a fresh open may cure (the file was
 * read-only or unreadable when opened): close it, open again. */
bool store_stale(const struct store *st);
/* The operator's check (`flowcgi.fcgi check`): on SQLite PRAGMA
 * integrity_check; 0 when sound (and a damaged mark is lifted),
 * APP_EDB_CORRUPT when not.  *report (malloc'd) says what was found. */
int store_check(struct store *st, char **report);
/* The database's size in bytes, and its write-ahead log's (0: none), for
 * the metrics; -1 where the backend cannot tell. */
int store_size(struct store *st, int64_t *db, int64_t *wal);
/* Give the space of deleted rows back to the file system, outside any
 * transaction.  SQLite: an incremental vacuum of all free pages (all) or
 * of a bounded number (the maintenance step), then a WAL checkpoint so the
 * file shrinks; a database made before auto_vacuum=INCREMENTAL is switched
 * by one full VACUUM, and only when all is asked (prune).  PostgreSQL:
 * nothing, autovacuum reuses the space.  *freed: bytes the file lost. */
int store_compact(struct store *st, bool all, int64_t *freed);

/* Key/value settings (the app secret, token policy). *val is malloc'd,
 * NULL when absent. */
int store_meta_get(struct store *st, const char *key, char **val);
int store_meta_set(struct store *st, const char *key, const char *val);
/* Every setting as {"key": "value"} (new ref): for copying a site. */
int store_meta_all(struct store *st, json_object **all);
/* The schema, workflow and security change counters, read in one
 * statement.  A process keeps what it derived from the database (schema,
 * compiled workflows, resolved tokens and permissions) while its counter
 * stands. */
int store_counters(struct store *st, int64_t *schema_v, int64_t *wf_v,
		   int64_t *sec_v);
int store_bump(struct store *st, const char *counter);

/* The stored user collection definitions as a JSON array (new ref). */
int store_defs_load(struct store *st, json_object **defs);
int store_def_insert(struct store *st, const char *name, json_object *def);
int store_def_delete(struct store *st, const char *name);
/* Create missing tables, columns and unique indexes for every collection
 * of s.  Never drops anything. */
int store_sync_tables(struct store *st, const struct schema *s);
int store_drop_table(struct store *st, const char *name);

struct store_sort {
	const char *path; /* field, or to-one association path "a.b" */
	bool desc;
};

struct store_find {
	json_object *filter;        /* NocoBase filter JSON, variables resolved */
	const char *const *fields;  /* columns to output; NULL: all visible */
	int nfields;
	const struct store_sort *sort;
	int nsort;
	int64_t limit;              /* 0: none */
	int64_t offset;
	bool hidden;                /* include hidden columns (passwords) */
};

/* Rows of c as a JSON array (new ref), values typed per field. */
int store_find(struct store *st, const struct schema *s, const struct coll *c,
	       const struct store_find *q, json_object **rows);
int store_count(struct store *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n);
/* Insert one row: values maps column names to values already coerced to
 * the column types.  *pk gets the new row's primary key (new ref). */
int store_insert(struct store *st, const struct coll *c, json_object *values,
		 json_object **pk);
/* Update the rows matching filter; *pks gets their keys (new ref), or
 * when pks is NULL, *n their number. */
int store_update(struct store *st, const struct schema *s,
		 const struct coll *c, json_object *filter, json_object *values,
		 json_object **pks);
int store_update_count(struct store *st, const struct schema *s,
		       const struct coll *c, json_object *filter,
		       json_object *values, int64_t *n);
int store_delete(struct store *st, const struct schema *s,
		 const struct coll *c, json_object *filter, int64_t *n);

/* Claim the oldest queued execution (status NULL) for worker inside the
 * caller's write transaction, which then runs it: a process that dies
 * while running it rolls the claim back with its work, and the execution
 * is queued again.  *id = 0 when none is left. */
int store_claim_execution(struct store *st, const char *worker, int64_t *id);
/* Executions a process committed as STARTED and left behind (alive()
 * says its worker is gone; PostgreSQL: no live transaction holds the
 * row): their ids (new ref, an array). */
int store_orphans(struct store *st, bool (*alive)(const char *worker),
		  json_object **ids);
/* What an execution did that a rollback cannot undo (an outbound request)
 * is noted outside its transaction, so that an execution whose process
 * died after it is never run again silently. */
int store_effect_note(struct store *st, int64_t exec_id, const char *what);
/* What was noted for exec_id (malloc'd), or NULL. */
int store_effect_get(struct store *st, int64_t exec_id, char **what);
int store_effect_clear(struct store *st, int64_t exec_id);

/* ---- Another application's database, read only (import nocobase) ----
 * A source is a SQLite file (opened with SQLITE_OPEN_READONLY: no pragma,
 * no journal change, no lock file, so the application may keep running)
 * or a postgresql:// URI (one REPEATABLE READ, READ ONLY transaction held
 * until close: every table is read from one snapshot).  Table and column
 * names must pass util_is_ident and be found in the source's catalog
 * before they are quoted into SQL. */
struct store_src;

/* Open target read-only; *out is set even on failure (for the message). */
int store_src_open(const char *target, struct store_src **out);
void store_src_close(struct store_src *src);
const char *store_src_errmsg(const struct store_src *src);
/* The file, or "host:port/db" of a URI (no password). */
const char *store_src_path(const struct store_src *src);
/* Whether the source has a table (or view) named table. */
int store_src_has(struct store_src *src, const char *table, bool *has);
int store_src_count(struct store_src *src, const char *table, int64_t *n);
/* Rows of table as a JSON array of {column: value} (new ref), ordered by
 * column order (NULL: unordered), limit rows from offset (limit 0: all).
 * Values are typed by the column's declared type: integers, floats,
 * booleans, JSON columns parsed, timestamps with a time zone as ISO-8601
 * UTC with milliseconds, numeric and other columns as text, NULL as
 * null. */
int store_src_rows(struct store_src *src, const char *table, const char *order,
		   int64_t limit, int64_t offset, json_object **rows);

#endif
