/*
 * store_sqlite_fault: SQLite's result codes as app errors with their
 * messages.  The failures an operator must fix are told apart from bugs:
 * a full disk, a read-only or unopenable file, a damaged one, each with
 * its own app error (and so its own stable code for clients).
 *
 * A damaged file is marked by a file "<db>-damaged" beside it, so that
 * every process, and every process started later, refuses writes until
 * `flowcgi.fcgi check` finds the database sound again.  flowcgi never
 * repairs, rebuilds or checkpoints into a damaged file on its own: the
 * operator decides between a backup and what is still readable.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "util.h"

int store_sqlite_failf(struct store_sqlite *st, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	if (st->depth > 0)
		st->failed = true;
	return err;
}

int store_sqlite_fail(struct store_sqlite *st, int rc, const char *what)
{
	int prim = rc & 0xff;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return store_sqlite_failf(st, APP_EDB_BUSY,
				   "database is locked (busy timeout passed)");
	/* The connection reports primary codes; the constraint's kind is in
	 * the extended one. */
	if (prim == SQLITE_CONSTRAINT &&
	    (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ||
	     sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)) {
		const char *m = sqlite3_errmsg(st->db);
		const char *col = strrchr(m, '.');
		return store_sqlite_failf(st, APP_ECONFLICT, "%s must be unique",
				   col ? col + 1 : m);
	}
	int fault = store_sqlite_fault(st, rc, what);
	if (fault)
		return fault;
	log_error("sqlite: %s: %s (%d)", what, sqlite3_errmsg(st->db), rc);
	return store_sqlite_failf(st, APP_EINTERNAL, "database error: %s",
			   sqlite3_errmsg(st->db));
}

/* The app error for a SQLite result code, or 0 when it is none of the
 * operator's faults.  An I/O error's cause is in the system errno. */
static int fault_of(struct store_sqlite *st, int rc)
{
	int prim = rc & 0xff;
	int sys = st->db ? sqlite3_system_errno(st->db) : 0;

	if (prim == SQLITE_FULL ||
	    (prim == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT)))
		return APP_ESTORAGE_FULL;
	if (prim == SQLITE_READONLY || (prim == SQLITE_IOERR && sys == EROFS))
		return APP_EDB_READONLY;
	if (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB)
		return APP_EDB_CORRUPT;
	if (prim == SQLITE_CANTOPEN || prim == SQLITE_IOERR ||
	    prim == SQLITE_PERM || prim == SQLITE_AUTH)
		return APP_EDB_UNAVAILABLE;
	return 0;
}

static void damage_path(const struct store_sqlite *st, char p[4096])
{
	snprintf(p, 4096, "%s-damaged", st->path);
}

bool store_sqlite_damaged(struct store_sqlite *st)
{
	char p[4096];
	damage_path(st, p);
	bool yes = access(p, F_OK) == 0;
	/* No checkpoint into a damaged file, not even at close. */
	if (yes && st->db)
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
				  NULL);
	return yes;
}

static void mark_damaged(struct store_sqlite *st, const char *why)
{
	char p[4096];
	damage_path(st, p);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0664);
	if (fd >= 0) {
		char line[600];
		char now[32];
		util_iso_from_ms(util_now_ms(), now);
		int n = snprintf(line, sizeof(line), "%s %s\n", now, why);
		if (n > 0 && write(fd, line, (size_t)n) < 0)
			log_error("sqlite: cannot note the damage in %s", p);
		close(fd);
		log_error("sqlite: %s is damaged (%s): writes are refused until "
			  "`flowcgi.fcgi check` finds it sound",
			  st->path, why);
	}
	store_sqlite_damaged(st);
}

bool store_sqlite_stale(const struct store_sqlite *st)
{
	return st->stale;
}

int store_sqlite_refuse_damaged(struct store_sqlite *st)
{
	return store_sqlite_failf(st, APP_EDB_CORRUPT,
				  "database %s is damaged: writes are refused "
				  "until an operator runs `flowcgi.fcgi check`",
				  st->path);
}

int store_sqlite_fault(struct store_sqlite *st, int rc, const char *what)
{
	int err = fault_of(st, rc);
	const char *m = st->db ? sqlite3_errmsg(st->db) : "out of memory";

	if (!err)
		return 0;
	/* A connection opened on a read-only or unreadable file stays so
	 * after the operator's fix: the next request opens a fresh one. */
	if (err == APP_EDB_READONLY || err == APP_EDB_UNAVAILABLE)
		st->stale = true;
	log_error("sqlite: %s: %s (%d, errno %d)", what, m, rc,
		  st->db ? sqlite3_system_errno(st->db) : 0);
	switch (err) {
	case APP_ESTORAGE_FULL:
		return store_sqlite_failf(st, err, "the disk holding %s is full: "
					  "nothing was written", st->path);
	case APP_EDB_READONLY:
		return store_sqlite_failf(st, err, "database %s is read-only: "
					  "nothing was written (%s)", st->path, m);
	case APP_EDB_CORRUPT:
		mark_damaged(st, m);
		return store_sqlite_failf(st, err, "database %s is damaged (%s): "
					  "writes are refused until an operator "
					  "runs `flowcgi.fcgi check`", st->path, m);
	default:
		return store_sqlite_failf(st, err, "cannot open or read database "
					  "%s (%s)", st->path, m);
	}
}

/* PRAGMA integrity_check's first lines into *report. */
static int integrity(struct store_sqlite *st, struct buf *report, bool *sound)
{
	sqlite3_stmt *s = NULL;
	int rc, n = 0;

	*sound = false;
	rc = sqlite3_prepare_v2(st->db, "PRAGMA integrity_check(20)", -1, &s,
				NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		if (n++ == 0 && line && !strcmp(line, "ok"))
			*sound = true;
		else
			*sound = false;
		buf_printf(report, "%s%s", n > 1 ? "\n" : "", line ? line : "");
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if (fault_of(st, rc) == APP_EDB_CORRUPT) {
		buf_printf(report, "%s", sqlite3_errmsg(st->db));
		return 0;
	}
	return store_sqlite_fault(st, rc, "integrity_check")
		       ?: store_sqlite_fail(st, rc, "integrity_check");
}

int store_sqlite_check(struct store_sqlite *st, char **report)
{
	struct buf b = {0};
	bool sound = false;
	int rc;

	*report = NULL;
	/* The check reads only: nothing of it may be written back. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if ((rc = integrity(st, &b, &sound))) {
		buf_free(&b);
		return rc;
	}
	if (sound) {
		char p[4096];
		damage_path(st, p);
		if (unlink(p) == 0)
			log_info("sqlite: %s is sound again: writes are accepted",
				 st->path);
		*report = util_xstrdup(buf_str(&b));
		buf_free(&b);
		return 0;
	}
	mark_damaged(st, "integrity_check failed");
	*report = util_xstrdup(buf_str(&b));
	buf_free(&b);
	return APP_EDB_CORRUPT;
}
