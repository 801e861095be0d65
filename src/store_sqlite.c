/*
 * store: connection, transactions, statement cache, settings, counters and
 * DDL of the SQLite backend.  Queries over collections live in
 * store_query.c, the filter compiler they share with any other backend in
 * store_filter.c.
 */
#include "store_sqlite_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "util.h"

#define STORE_VERSION 1
#define STORE_APP_ID 0x666c6f77 /* "flow" */

const char *store_sqlite_errmsg(const struct store_sqlite *st)
{
	return st->errmsg;
}

const char *store_sqlite_path(const struct store_sqlite *st)
{
	return st->path;
}

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void cache_clear(struct store_sqlite *st)
{
	for (int i = 0; i < STORE_CACHE_SLOTS; i++) {
		struct stmt_slot *s = &st->cache[i];
		if (!s->sql)
			continue;
		if (s->busy) /* still stepping: let store_stmt_done finalize */
			continue;
		sqlite3_finalize(s->stmt);
		free(s->sql);
		memset(s, 0, sizeof(*s));
	}
	st->ncached = 0;
	for (int i = 0; i < STORE_CACHE_SLOTS; i++)
		if (st->cache[i].sql)
			st->ncached++;
}

static void lend(struct store_sqlite *st, sqlite3_stmt *stmt, int slot)
{
	if (st->nout < 32) {
		st->out[st->nout].stmt = stmt;
		st->out[st->nout].slot = slot;
		st->nout++;
	}
}

int store_sqlite_stmt(struct store_sqlite *st, const char *sql, sqlite3_stmt **out)
{
	unsigned h = hash_str(sql);
	unsigned i = h % STORE_CACHE_SLOTS;
	int rc;

	for (int n = 0; n < STORE_CACHE_SLOTS; n++) {
		int k = (int)((i + (unsigned)n) % STORE_CACHE_SLOTS);
		struct stmt_slot *s = &st->cache[k];
		if (!s->sql)
			break;
		if (s->hash == h && !strcmp(s->sql, sql)) {
			if (s->busy || st->nout == 32)
				break; /* nested use: a private copy */
			s->busy = true;
			*out = s->stmt;
			lend(st, *out, k);
			return 0;
		}
	}
	if (st->ncached >= STORE_CACHE_SLOTS * 3 / 4)
		cache_clear(st);
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
				NULL);
	if (rc != SQLITE_OK)
		return store_sqlite_fail(st, rc, sql);
	for (int n = 0; n < STORE_CACHE_SLOTS && st->nout < 32; n++) {
		int k = (int)((i + (unsigned)n) % STORE_CACHE_SLOTS);
		struct stmt_slot *s = &st->cache[k];
		if (s->sql)
			continue;
		s->sql = util_xstrdup(sql);
		s->hash = h;
		s->stmt = *out;
		s->busy = true;
		st->ncached++;
		lend(st, *out, k);
		return 0;
	}
	lend(st, *out, -1);
	return 0; /* uncached: finalized by store_stmt_done */
}

void store_sqlite_done(struct store_sqlite *st, sqlite3_stmt *stmt)
{
	if (!stmt)
		return;
	for (int i = st->nout - 1; i >= 0; i--) {
		if (st->out[i].stmt != stmt)
			continue;
		int slot = st->out[i].slot;
		st->out[i] = st->out[--st->nout];
		if (slot >= 0) {
			sqlite3_reset(stmt);
			sqlite3_clear_bindings(stmt);
			st->cache[slot].busy = false;
			return;
		}
		break;
	}
	sqlite3_finalize(stmt);
}

int store_sqlite_bind(struct store_sqlite *st, sqlite3_stmt *stmt, json_object *binds)
{
	size_t n = binds ? json_object_array_length(binds) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(binds, i);
		int idx = (int)i + 1, rc;
		switch (json_object_get_type(v)) {
		case json_type_null:
			rc = sqlite3_bind_null(stmt, idx);
			break;
		case json_type_boolean:
			rc = sqlite3_bind_int(stmt, idx, json_object_get_boolean(v));
			break;
		case json_type_int:
			rc = sqlite3_bind_int64(stmt, idx, json_object_get_int64(v));
			break;
		case json_type_double:
			rc = sqlite3_bind_double(stmt, idx,
						 json_object_get_double(v));
			break;
		/* STATIC: binds outlive the statement's use; every caller
		 * keeps the array until store_stmt_done clears the bindings. */
		case json_type_string:
			rc = sqlite3_bind_text(stmt, idx, json_object_get_string(v),
					       json_object_get_string_len(v),
					       SQLITE_STATIC);
			break;
		default:
			rc = sqlite3_bind_text(stmt, idx, jsonx_str(v), -1,
					       SQLITE_STATIC);
		}
		if (rc != SQLITE_OK)
			return store_sqlite_fail(st, rc, "bind");
	}
	return 0;
}

int store_sqlite_exec(struct store_sqlite *st, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int e = store_sqlite_fail(st, rc, sql);
		sqlite3_free(msg);
		return e;
	}
	return 0;
}

/* SQLite's own busy timeout sleeps 1, 2, 5, 10 ... 100 ms between tries,
 * so four processes queuing for the write lock spend most of their time
 * asleep after it was released.  Retry in steps of 50 us to 1 ms instead,
 * with jitter so that waiters do not wake in lockstep, until the timeout. */
static int busy_wait(void *ctx, int count)
{
	struct store_sqlite *st = ctx;
	int64_t now = util_mono_ms();
	unsigned r;
	if (count == 0)
		st->busy_since = now;
	if (now - st->busy_since >= st->busy_timeout)
		return 0;
	util_random(&r, sizeof(r));
	long us = count < 4 ? 50L << count : 1000;
	struct timespec ts = {0, (us / 2 + (long)(r % (unsigned)us)) * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

/* Writers queue before BEGIN IMMEDIATE (store_sqlite_lock.c): the kernel
 * wakes the next waiter the moment the lock is given, where SQLite's busy
 * handler can only poll and sleep; with more processes than cores that
 * polling, not the work, decided throughput.  The wait is bounded by the
 * busy timeout. */
static int writer_lock(struct store_sqlite *st)
{
	if (store_sqlite_lock_take(st->writer, st->busy_timeout) == 1)
		return store_sqlite_failf(st, APP_EDB_BUSY,
					  "database is locked (busy timeout "
					  "passed)");
	return 0;
}

static void writer_unlock(struct store_sqlite *st)
{
	store_sqlite_lock_give(st->writer);
}

static int wal_seen(void *ctx, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((struct store_sqlite *)ctx)->wal_frames = frames;
	return SQLITE_OK;
}

/* After the response: wake the checkpoint thread when the WAL grew
 * (store_sqlite_ckpt.c). */
void store_sqlite_maintain(struct store_sqlite *st)
{
	if (st && !st->depth)
		store_sqlite_ckpt_poke(st);
}

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	int64_t n;
	return v && !util_parse_int64(v, &n) && n >= 0 ? (long)n : dflt;
}

int store_sqlite_open(const char *path, bool create, struct store_sqlite **out)
{
	struct store_sqlite *st = util_xcalloc(1, sizeof(*st));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc;

	*out = NULL;
	st->path = util_xstrdup(path);
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	else if (access(path, F_OK) != 0) {
		store_sqlite_failf(st, APP_EDB_UNINIT, "database file %s does not exist",
			    path);
		*out = st;
		return APP_EDB_UNINIT;
	}
	rc = sqlite3_open_v2(path, &st->db, flags, store_sqlite_vfs());
	if (rc != SQLITE_OK) {
		/* It is there and cannot be opened: not for init to fix. */
		*out = st;
		return store_sqlite_fault(st, rc, "open")
			       ?: store_sqlite_failf(st, APP_EDB_UNAVAILABLE,
						     "cannot open database %s",
						     path);
	}
	/* Fossil's db_open hardening, plus what several writers need. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DQS_DDL, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DQS_DML, 0, NULL);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0,
			  NULL);
	st->busy_timeout = env_long("FLOWCGI_BUSY_TIMEOUT_MS", 5000);
	sqlite3_busy_handler(st->db, busy_wait, st);
	sqlite3_limit(st->db, SQLITE_LIMIT_LENGTH, 64 * 1024 * 1024);
	rc = store_sqlite_exec(st, "PRAGMA foreign_keys=ON;"
			    "PRAGMA synchronous=NORMAL;"
			    "PRAGMA cache_size=-512;"
			    "PRAGMA temp_store=MEMORY;"
			    /* after a checkpoint, keep at most 64 MB of WAL */
			    "PRAGMA journal_size_limit=67108864;");
	/* No checkpoint inside COMMIT: it would run, fsync included, while
	 * this process still holds the writers' lock.  store_maintain runs
	 * it after the response instead. */
	sqlite3_wal_hook(st->db, wal_seen, st);
	/* Before the first table (it is a no-op after): a new database can
	 * give deleted space back with an incremental vacuum (compact). */
	if (!rc && create)
		rc = store_sqlite_exec(st, "PRAGMA auto_vacuum=INCREMENTAL;"
					   "PRAGMA journal_mode=WAL;");
	/* SQLite falls back to reading a file it may not write, silently:
	 * such a connection is opened again next request, so that writes
	 * come back with the operator's fix. */
	if (access(path, W_OK) != 0)
		st->stale = true;
	if (!rc)
		st->writer = store_sqlite_lock_open(path);
	*out = st;
	return rc;
}

void store_sqlite_close(struct store_sqlite *st)
{
	if (!st)
		return;
	store_sqlite_ckpt_stop(st);
	for (int i = 0; i < STORE_CACHE_SLOTS; i++) {
		sqlite3_finalize(st->cache[i].stmt);
		free(st->cache[i].sql);
	}
	if (st->db)
		sqlite3_close(st->db);
	store_sqlite_lock_close(st->writer);
	free(st->path);
	free(st);
}

/* The one integer a PRAGMA such as "PRAGMA user_version" answers. */
static int pragma_int(struct store_sqlite *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(st, sql, &s);
	*v = 0;
	if (rc)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		rc = store_sqlite_fail(st, rc, sql);
	}
	store_sqlite_done(st, s);
	return rc;
}

int store_sqlite_user_version(struct store_sqlite *st, int *version)
{
	int64_t v = 0;
	int rc = pragma_int(st, "PRAGMA user_version", &v);
	*version = (int)v;
	return rc;
}

/* BEGIN, COMMIT and ROLLBACK through the statement cache: sqlite3_exec
 * would compile them again for every request. */
static int txn_stmt(struct store_sqlite *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(st, sql, &s);
	if (rc)
		return rc;
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, sql);
	store_sqlite_done(st, s);
	return rc;
}

/* late: a damaged file gets a read transaction, not a refusal
 * (store_begin_late). */
static int begin(struct store_sqlite *st, bool write, bool late)
{
	int rc;
	if (st->depth++ > 0)
		return 0;
	st->failed = false;
	if (write && store_sqlite_damaged(st)) {
		if (!late) {
			st->depth = 0;
			return store_sqlite_refuse_damaged(st);
		}
		write = false;
	}
	if (write && (rc = writer_lock(st))) {
		st->depth = 0;
		return rc;
	}
	rc = txn_stmt(st, write ? "BEGIN IMMEDIATE" : "BEGIN");
	if (rc) {
		st->depth = 0;
		writer_unlock(st);
	}
	st->writing = write && !rc;
	return rc;
}

int store_sqlite_begin(struct store_sqlite *st, bool write)
{
	return begin(st, write, false);
}

int store_sqlite_begin_late(struct store_sqlite *st)
{
	return begin(st, true, true);
}

int store_sqlite_commit(struct store_sqlite *st)
{
	int rc;
	if (st->depth <= 0)
		return 0;
	if (--st->depth > 0)
		return 0;
	if (st->failed) {
		store_sqlite_exec(st, "ROLLBACK");
		st->failed = false;
		writer_unlock(st);
		return APP_EINTERNAL;
	}
	rc = txn_stmt(st, "COMMIT");
	if (rc) {
		store_sqlite_exec(st, "ROLLBACK");
		st->failed = false;
	}
	writer_unlock(st);
	return rc;
}

void store_sqlite_rollback(struct store_sqlite *st)
{
	if (st->depth <= 0)
		return;
	if (--st->depth > 0) {
		st->failed = true;
		return;
	}
	st->failed = false;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	writer_unlock(st);
}

int store_sqlite_writable(struct store_sqlite *st)
{
	int depth = st->depth, rc;
	if (depth == 0 || st->writing)
		return 0;
	/* Nothing was written in the read transaction: end it, queue for the
	 * write lock, and go on at the same depth on a fresh snapshot. */
	txn_stmt(st, "COMMIT");
	st->depth = 0;
	if ((rc = store_sqlite_begin(st, true)))
		return rc;
	st->depth = depth;
	return 0;
}

void store_sqlite_abort(struct store_sqlite *st)
{
	st->depth = 0;
	st->failed = false;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	writer_unlock(st);
}

bool store_sqlite_in_txn(const struct store_sqlite *st)
{
	return st->depth > 0;
}

/* One-row helpers over the settings table. */
int store_sqlite_meta_get(struct store_sqlite *st, const char *key, char **val)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(
		st, "SELECT value FROM _flowcgi_meta WHERE key = ?1", &s);
	*val = NULL;
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		*val = util_xstrdup(v);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		rc = store_sqlite_fail(st, rc, "meta get");
	}
	store_sqlite_done(st, s);
	return rc;
}

int store_sqlite_meta_set(struct store_sqlite *st, const char *key, const char *val)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(st,
			    "INSERT INTO _flowcgi_meta (key, value) VALUES "
			    "(?1, ?2) ON CONFLICT(key) DO UPDATE SET "
			    "value = excluded.value",
			    &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, val, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "meta set");
	store_sqlite_done(st, s);
	return rc;
}

int store_sqlite_meta_all(struct store_sqlite *st, json_object **all)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(st, "SELECT key, value FROM _flowcgi_meta", &s);
	*all = json_object_new_object();
	if (rc)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_object_add(*all, (const char *)sqlite3_column_text(s, 0),
				       json_object_new_string(
					       (const char *)sqlite3_column_text(s, 1)));
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "meta");
	store_sqlite_done(st, s);
	return rc;
}

/* PRAGMA data_version moves when another connection commits, never for
 * this connection's own commits, and this connection changes a counter
 * only through store_bump: while neither happened, the counters read last
 * still hold, and one cheap statement replaces reading the settings. */
int store_sqlite_counters(struct store_sqlite *st, int64_t *schema_v, int64_t *wf_v,
		   int64_t *sec_v)
{
	sqlite3_stmt *s = NULL;
	int64_t dv = 0, c[3] = {0, 0, 0};
	int rc = pragma_int(st, "PRAGMA data_version", &dv);
	if (rc)
		return rc;
	if (st->counters_known && !st->bumped && dv == st->data_version)
		goto out;
	if ((rc = store_sqlite_stmt(st, "SELECT key, value FROM _flowcgi_meta", &s)))
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		int64_t v = sqlite3_column_int64(s, 1);
		if (!strcmp(k, "schema_version"))
			c[0] = v;
		else if (!strcmp(k, "workflow_version"))
			c[1] = v;
		else if (!strcmp(k, "security_version"))
			c[2] = v;
	}
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "counters");
	store_sqlite_done(st, s);
	if (rc)
		return rc;
	memcpy(st->counters, c, sizeof(c));
	st->counters_known = true;
	st->bumped = false;
	st->data_version = dv;
out:
	*schema_v = st->counters[0];
	*wf_v = st->counters[1];
	*sec_v = st->counters[2];
	return 0;
}

int store_sqlite_bump(struct store_sqlite *st, const char *counter)
{
	sqlite3_stmt *s = NULL;
	int rc;

	st->bumped = true; /* even if it fails or rolls back: read again */
	rc = store_sqlite_stmt(st,
			"UPDATE _flowcgi_meta SET value = value + 1 "
			"WHERE key = ?1",
			&s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, counter, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "bump");
	store_sqlite_done(st, s);
	return rc;
}

int store_sqlite_defs_load(struct store_sqlite *st, json_object **defs)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(st,
			    "SELECT name, def FROM _flowcgi_collections "
			    "ORDER BY id",
			    &s);
	*defs = json_object_new_array();
	if (rc)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(s, 1);
		json_object *d = text ? json_tokener_parse(text) : NULL;
		if (!d) {
			rc = store_sqlite_failf(st, APP_EINTERNAL,
					 "stored definition of %s is corrupt",
					 sqlite3_column_text(s, 0));
			goto out;
		}
		json_object_array_add(*defs, d);
	}
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "defs");
out:
	store_sqlite_done(st, s);
	return rc;
}

int store_sqlite_def_insert(struct store_sqlite *st, const char *name, json_object *def)
{
	sqlite3_stmt *s = NULL;
	char now[32];
	int rc = store_sqlite_stmt(st,
			    "INSERT INTO _flowcgi_collections (name, def, "
			    "createdAt) VALUES (?1, ?2, ?3)",
			    &s);
	if (rc)
		return rc;
	util_iso_from_ms(util_now_ms(), now);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, jsonx_str(def), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "def insert");
	store_sqlite_done(st, s);
	return rc;
}

int store_sqlite_def_delete(struct store_sqlite *st, const char *name)
{
	sqlite3_stmt *s = NULL;
	int rc = store_sqlite_stmt(st, "DELETE FROM _flowcgi_collections WHERE name = ?1",
			    &s);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "def delete");
	store_sqlite_done(st, s);
	return rc;
}

static const char *column_type(const struct field *f)
{
	switch (f->type) {
	case FT_INTEGER:
	case FT_BIGINT:
	case FT_BOOLEAN:
		return "INTEGER";
	case FT_FLOAT:
	case FT_DOUBLE:
		return "REAL";
	default:
		return "TEXT";
	}
}

/* Existing column names of a table, as a JSON object used as a set. */
static int table_columns(struct store_sqlite *st, const char *table,
			 json_object **cols)
{
	struct buf sql = {0};
	sqlite3_stmt *s = NULL;
	int rc;

	*cols = json_object_new_object();
	buf_puts(&sql, "SELECT name FROM pragma_table_info(?1)");
	rc = store_sqlite_stmt(st, buf_str(&sql), &s);
	buf_free(&sql);
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		json_object_object_add(*cols,
				       (const char *)sqlite3_column_text(s, 0),
				       NULL);
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "table_info");
	store_sqlite_done(st, s);
	return rc;
}

static int sync_table(struct store_sqlite *st, const struct coll *c)
{
	json_object *cols = NULL;
	struct buf sql = {0};
	int rc = table_columns(st, c->name, &cols);

	if (rc)
		goto out;
	if (json_object_object_length(cols) == 0) {
		buf_puts(&sql, "CREATE TABLE ");
		store_ident(&sql, c->name);
		buf_puts(&sql, " (");
		bool first = true;
		for (int i = 0; i < c->nfields; i++) {
			const struct field *f = &c->fields[i];
			if (!field_has_column(f))
				continue;
			if (!first)
				buf_puts(&sql, ", ");
			first = false;
			store_ident(&sql, f->name);
			if (f->primary && c->pk_int)
				buf_puts(&sql, c->reuse_ids
						       ? " INTEGER PRIMARY KEY"
						       : " INTEGER PRIMARY KEY AUTOINCREMENT");
			else if (f->primary)
				buf_puts(&sql, " TEXT PRIMARY KEY NOT NULL");
			else
				buf_printf(&sql, " %s", column_type(f));
		}
		buf_puts(&sql, ") STRICT");
		if ((rc = store_sqlite_exec(st, buf_str(&sql))))
			goto out;
	} else {
		for (int i = 0; i < c->nfields; i++) {
			const struct field *f = &c->fields[i];
			if (!field_has_column(f) || jsonx_has(cols, f->name))
				continue;
			buf_reset(&sql);
			buf_puts(&sql, "ALTER TABLE ");
			store_ident(&sql, c->name);
			buf_puts(&sql, " ADD COLUMN ");
			store_ident(&sql, f->name);
			buf_printf(&sql, " %s", column_type(f));
			if ((rc = store_sqlite_exec(st, buf_str(&sql))))
				goto out;
		}
	}
	for (int i = 0; i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		if (!f->unique || f->primary || !field_has_column(f))
			continue;
		buf_reset(&sql);
		buf_puts(&sql, "CREATE UNIQUE INDEX IF NOT EXISTS ");
		char idx[160];
		snprintf(idx, sizeof(idx), "%s_%s_unique", c->name, f->name);
		store_ident(&sql, idx);
		buf_puts(&sql, " ON ");
		store_ident(&sql, c->name);
		buf_puts(&sql, " (");
		store_ident(&sql, f->name);
		buf_puts(&sql, ")");
		if ((rc = store_sqlite_exec(st, buf_str(&sql))))
			goto out;
	}
out:
	json_object_put(cols);
	buf_free(&sql);
	return rc;
}

int store_sqlite_sync_tables(struct store_sqlite *st, const struct schema *s)
{
	for (int i = 0; i < s->ncolls; i++) {
		int rc = sync_table(st, s->colls[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int store_sqlite_drop_table(struct store_sqlite *st, const char *name)
{
	struct buf sql = {0};
	buf_puts(&sql, "DROP TABLE IF EXISTS ");
	store_ident(&sql, name);
	int rc = store_sqlite_exec(st, buf_str(&sql));
	buf_free(&sql);
	return rc;
}

/* Indexes the engine's and auth's hot queries need. */
static const char *const migration_1 =
	"CREATE UNIQUE INDEX IF NOT EXISTS workflows_key_current ON "
	"workflows (key, current);"
	"CREATE INDEX IF NOT EXISTS flow_nodes_workflow ON flow_nodes "
	"(workflowId);"
	"CREATE INDEX IF NOT EXISTS executions_workflow ON executions "
	"(workflowId);"
	/* Only queued rows are indexed: a sync execution, stored finished,
	 * writes no page of this index. */
	"CREATE INDEX IF NOT EXISTS executions_queue ON executions (id) "
	"WHERE status IS NULL;"
	"CREATE UNIQUE INDEX IF NOT EXISTS roles_users_pair ON rolesUsers "
	"(userId, roleName);"
	"CREATE INDEX IF NOT EXISTS roles_users_role ON rolesUsers (roleName);"
	"CREATE INDEX IF NOT EXISTS roles_resources_role ON "
	"dataSourcesRolesResources (roleName, name);"
	"CREATE INDEX IF NOT EXISTS roles_actions_resource ON "
	"dataSourcesRolesResourcesActions (rolesResourceId);"
	"CREATE UNIQUE INDEX IF NOT EXISTS issued_tokens_jti ON issuedTokens "
	"(jti);"
	"CREATE UNIQUE INDEX IF NOT EXISTS token_blacklist_token ON "
	"tokenBlacklist (token);";

int store_sqlite_migrate(struct store_sqlite *st)
{
	struct schema *sys = NULL;
	char err[256];
	int version, rc;

	if ((rc = store_sqlite_begin(st, true)))
		return rc;
	if ((rc = store_sqlite_user_version(st, &version)))
		goto out;
	rc = store_sqlite_exec(st,
			"CREATE TABLE IF NOT EXISTS _flowcgi_meta (key TEXT "
			"PRIMARY KEY NOT NULL, value ANY) STRICT;"
			"CREATE TABLE IF NOT EXISTS _flowcgi_collections (id "
			"INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE "
			"NOT NULL, def TEXT NOT NULL, createdAt TEXT) STRICT;"
			"INSERT OR IGNORE INTO _flowcgi_meta VALUES "
			"('schema_version', 1), ('workflow_version', 1), "
			"('security_version', 1);");
	if (rc)
		goto out;
	/* System collections: tables follow their definitions. */
	if (schema_build(NULL, 0, &sys, err, sizeof(err))) {
		rc = store_sqlite_failf(st, APP_EINTERNAL, "%s", err);
		goto out;
	}
	if ((rc = store_sqlite_sync_tables(st, sys)))
		goto out;
	if (version < 1 && (rc = store_sqlite_exec(st, migration_1)))
		goto out;
	if (version < STORE_VERSION) {
		char sql[96];
		snprintf(sql, sizeof(sql),
			 "PRAGMA user_version=%d; PRAGMA application_id=%d",
			 STORE_VERSION, STORE_APP_ID);
		if ((rc = store_sqlite_exec(st, sql)))
			goto out;
		rc = store_sqlite_bump(st, "schema_version");
	}
out:
	schema_free(sys);
	if (rc) {
		store_sqlite_rollback(st);
		return rc;
	}
	return store_sqlite_commit(st);
}

/* ---- size and space (metrics, prune) ---- */

#define STORE_COMPACT_PAGES 2048 /* per maintenance step: 8 MB of 4 KiB */

static int64_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) ? -1 : (int64_t)sb.st_size;
}

int store_sqlite_size(struct store_sqlite *st, int64_t *db, int64_t *wal)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s-wal", st->path);
	*db = file_size(st->path);
	*wal = file_size(path);
	if (*wal < 0)
		*wal = 0;
	return 0;
}

int store_sqlite_compact(struct store_sqlite *st, bool all, int64_t *freed)
{
	int64_t mode = 0, before = file_size(st->path), after;
	int log = 0, done = 0, rc;
	char sql[64];

	*freed = 0;
	if (st->depth)
		return store_sqlite_failf(st, APP_EINTERNAL,
					  "compact inside a transaction");
	if (store_sqlite_damaged(st)) /* a VACUUM rewrites the file */
		return store_sqlite_refuse_damaged(st);
	if ((rc = pragma_int(st, "PRAGMA auto_vacuum", &mode)))
		return rc;
	if (mode != 2 && !all)
		return 0;
	if ((rc = writer_lock(st)))
		return rc;
	if (mode != 2) /* 0 none, 1 full: one VACUUM switches the file */
		rc = store_sqlite_exec(st, "PRAGMA auto_vacuum=INCREMENTAL; "
					   "VACUUM;");
	else {
		snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)",
			 all ? 0 : STORE_COMPACT_PAGES);
		rc = store_sqlite_exec(st, sql);
	}
	/* In WAL mode the file shrinks when the whole WAL is copied back. */
	if (!rc)
		sqlite3_wal_checkpoint_v2(st->db, NULL,
					  all ? SQLITE_CHECKPOINT_TRUNCATE
					      : SQLITE_CHECKPOINT_PASSIVE,
					  &log, &done);
	writer_unlock(st);
	after = file_size(st->path);
	if (before > 0 && after >= 0 && after < before)
		*freed = before - after;
	return rc;
}
