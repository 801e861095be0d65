/*
 * store_int: what the SQLite backend's files (store.c, store_query.c)
 * share; never included above the store.  The backend-neutral filter
 * compiler they use is store_filter.h.
 */
#ifndef FLOWCGI_STORE_SQLITE_INT_H
#define FLOWCGI_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "buf.h"
#include "store.h"
#include "store_filter.h"
#include "store_int.h"

#define STORE_CACHE_SLOTS 512

struct store_ckpt;

struct stmt_slot {
	char *sql;
	sqlite3_stmt *stmt;
	unsigned hash;
	bool busy;
};

struct store_sqlite {
	sqlite3 *db;
	char *path;
	int depth;            /* transaction nesting */
	bool failed;          /* an inner level failed: roll back */
	int ncached;
	struct stmt_slot cache[STORE_CACHE_SLOTS];
	/* Statements handed out and not yet done, with their cache slot
	 * (-1: uncached): a short list, searched instead of the cache. */
	struct {
		sqlite3_stmt *stmt;
		int slot;
	} out[32];
	int nout;
	char errmsg[512];
	long busy_timeout;    /* ms a statement waits for a lock */
	struct store_lock *writer; /* the writers' queue, or NULL */
	int wal_frames;       /* WAL size after this connection's last commit */
	int wal_checked;      /* WAL size when the checkpoint was last asked */
	struct store_ckpt *ckpt; /* the checkpoint thread, once started */
	bool stale;           /* met a fault a fresh open may cure */
	bool writing;         /* the open transaction is a write one */
	int64_t busy_since;   /* monotonic ms of the first busy try */
	/* The change counters as last read, and PRAGMA data_version then. */
	bool counters_known;
	bool bumped;          /* this connection changed a counter since */
	int64_t data_version;
	int64_t counters[3];
};

/* A prepared statement for sql, from the cache when possible.  Release it
 * with store_sqlite_done (which resets it or finalizes an uncached one). */
int store_sqlite_stmt(struct store_sqlite *st, const char *sql, sqlite3_stmt **out);
void store_sqlite_done(struct store_sqlite *st, sqlite3_stmt *stmt);
/* Bind a JSON array of values to ?1..?n. */
int store_sqlite_bind(struct store_sqlite *st, sqlite3_stmt *stmt, json_object *binds);
/* Map a SQLite result code to an app error and record the message. */
int store_sqlite_fail(struct store_sqlite *st, int rc, const char *what);
int store_sqlite_failf(struct store_sqlite *st, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The operator's faults (store_sqlite_fault.c): the app error for a full
 * disk, a read-only, unopenable or damaged file, with its message; 0 when
 * rc is none of them.  A damaged file is marked for every process. */
int store_sqlite_fault(struct store_sqlite *st, int rc, const char *what);
/* Whether the file was marked damaged (writes are refused then). */
bool store_sqlite_damaged(struct store_sqlite *st);
int store_sqlite_refuse_damaged(struct store_sqlite *st);
/* The checkpoint thread (store_sqlite_ckpt.c): poke after a response
 * (it starts the thread the first time the WAL is big enough), stop
 * before the connection closes. */
void store_sqlite_ckpt_poke(struct store_sqlite *st);
void store_sqlite_ckpt_stop(struct store_sqlite *st);
/* The VFS that writes a commit's WAL frames at once
 * (store_sqlite_vfs.c): its name for sqlite3_open_v2, or NULL for
 * SQLite's default when it cannot be set up.  Call before any thread. */
const char *store_sqlite_vfs(void);
/* The end of this process's last commit in its WAL (a hint). */
sqlite3_int64 store_sqlite_vfs_wal_end(void);
/* Run SQL with no result rows and no parameters. */
int store_sqlite_exec(struct store_sqlite *st, const char *sql);

/* SQLite's part of the SQL the filter compiler writes (store_query.c). */
extern const struct store_dialect store_dialect_sqlite;

/* ---- the writers' queue (store_sqlite_lock.c) ---- */
struct store_lock;
/* The queue of the database at db_path ("<db>-writer"), or NULL when the
 * file cannot be opened at all. */
struct store_lock *store_sqlite_lock_open(const char *db_path);
void store_sqlite_lock_close(struct store_lock *l);
/* 0 taken, 1 timed out, -1 no queue to wait in (go on: SQLite's own
 * locks still hold).  timeout_ms < 0: no bound (a thread other than the
 * request thread: the flock() fallback bounds a wait with the process's
 * one SIGALRM timer).  Taking it twice is once. */
int store_sqlite_lock_take(struct store_lock *l, long timeout_ms);
void store_sqlite_lock_give(struct store_lock *l);

#endif
