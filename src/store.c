/*
 * store: the seam (store.h) over the two backends: SQLite (store_sqlite*.c,
 * the embedded default: FLOWCGI_DB is a file) and PostgreSQL (store_pg*.c:
 * FLOWCGI_DB is a postgresql:// or postgres:// URI).  Each call goes to the
 * backend the store was opened with; the filter compiler (store_filter.c)
 * and the statements around it are shared, only a small dialect differs.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct store {
	struct store_sqlite *lite;
	struct store_pg *pg;
};

bool store_is_uri(const char *target)
{
	return target && (!strncmp(target, "postgresql://", 13) ||
			  !strncmp(target, "postgres://", 11));
}

int store_open(const char *target, bool create, struct store **out)
{
	struct store *st = util_xcalloc(1, sizeof(*st));
	int rc = store_is_uri(target) ? store_pg_open(target, create, &st->pg)
				      : store_sqlite_open(target, create,
		&st->lite);
	*out = st;
	return rc;
}

const char *store_kind(const struct store *st)
{
	return st->pg ? "postgresql" : "sqlite";
}


const char *store_errmsg(const struct store *st)
{
	return st->pg ? store_pg_errmsg(st->pg)
		       : store_sqlite_errmsg(st->lite);
}

const char *store_path(const struct store *st)
{
	return st->pg ? store_pg_path(st->pg)
		       : store_sqlite_path(st->lite);
}

int store_user_version(struct store *st, int *version)
{
	return st->pg ? store_pg_user_version(st->pg, version)
		       : store_sqlite_user_version(st->lite, version);
}

int store_migrate(struct store *st)
{
	return st->pg ? store_pg_migrate(st->pg)
		       : store_sqlite_migrate(st->lite);
}

int store_begin(struct store *st, bool write)
{
	return st->pg ? store_pg_begin(st->pg, write)
		       : store_sqlite_begin(st->lite, write);
}

int store_begin_late(struct store *st)
{
	return st->pg ? store_pg_begin(st->pg, false)
		       : store_sqlite_begin_late(st->lite);
}

int store_commit(struct store *st)
{
	return st->pg ? store_pg_commit(st->pg)
		       : store_sqlite_commit(st->lite);
}

void store_rollback(struct store *st)
{
	if (!st)
		return;
	if (st->pg)
		store_pg_rollback(st->pg);
	else
		store_sqlite_rollback(st->lite);
}

int store_writable(struct store *st)
{
	return st->pg ? store_pg_writable(st->pg)
		       : store_sqlite_writable(st->lite);
}

int store_lock_key(struct store *st, const char *key)
{
	return st->pg ? store_pg_lock_key(st->pg, key) : 0;
}

void store_abort(struct store *st)
{
	if (!st)
		return;
	if (st->pg)
		store_pg_abort(st->pg);
	else
		store_sqlite_abort(st->lite);
}

bool store_in_txn(const struct store *st)
{
	return st->pg ? store_pg_in_txn(st->pg)
		       : store_sqlite_in_txn(st->lite);
}

void store_maintain(struct store *st)
{
	if (!st)
		return;
	if (st->pg)
		store_pg_maintain(st->pg);
	else
		store_sqlite_maintain(st->lite);
}

int store_size(struct store *st, int64_t *db, int64_t *wal)
{
	return st->pg ? store_pg_size(st->pg, db, wal)
		      : store_sqlite_size(st->lite, db, wal);
}

int store_compact(struct store *st, bool all, int64_t *freed)
{
	return st->pg ? store_pg_compact(st->pg, all, freed)
		      : store_sqlite_compact(st->lite, all, freed);
}

bool store_stale(const struct store *st)
{
	return st->lite && store_sqlite_stale(st->lite);
}

int store_check(struct store *st, char **report)
{
	return st->pg ? store_pg_check(st->pg, report)
		      : store_sqlite_check(st->lite, report);
}

int store_meta_get(struct store *st, const char *key, char **val)
{
	return st->pg ? store_pg_meta_get(st->pg, key, val)
		       : store_sqlite_meta_get(st->lite, key, val);
}

int store_meta_set(struct store *st, const char *key, const char *val)
{
	return st->pg ? store_pg_meta_set(st->pg, key, val)
		       : store_sqlite_meta_set(st->lite, key, val);
}

int store_counters(struct store *st, int64_t *schema_v, int64_t *wf_v,
		int64_t *sec_v)
{
	return st->pg ? store_pg_counters(st->pg, schema_v, wf_v, sec_v)
		       : store_sqlite_counters(st->lite, schema_v, wf_v, sec_v);
}

int store_bump(struct store *st, const char *counter)
{
	return st->pg ? store_pg_bump(st->pg, counter)
		       : store_sqlite_bump(st->lite, counter);
}

int store_defs_load(struct store *st, json_object **defs)
{
	return st->pg ? store_pg_defs_load(st->pg, defs)
		       : store_sqlite_defs_load(st->lite, defs);
}

int store_def_insert(struct store *st, const char *name, json_object *def)
{
	return st->pg ? store_pg_def_insert(st->pg, name, def)
		       : store_sqlite_def_insert(st->lite, name, def);
}

int store_def_delete(struct store *st, const char *name)
{
	return st->pg ? store_pg_def_delete(st->pg, name)
		       : store_sqlite_def_delete(st->lite, name);
}

int store_sync_tables(struct store *st, const struct schema *s)
{
	return st->pg ? store_pg_sync_tables(st->pg, s)
		       : store_sqlite_sync_tables(st->lite, s);
}

int store_drop_table(struct store *st, const char *name)
{
	return st->pg ? store_pg_drop_table(st->pg, name)
		       : store_sqlite_drop_table(st->lite, name);
}

int store_find(struct store *st, const struct schema *s, const struct coll *c,
		const struct store_find *q, json_object **rows)
{
	return st->pg ? store_pg_find(st->pg, s, c, q, rows)
		       : store_sqlite_find(st->lite, s, c, q, rows);
}

int store_count(struct store *st, const struct schema *s, const struct coll *c,
		json_object *filter, int64_t *n)
{
	return st->pg ? store_pg_count(st->pg, s, c, filter, n)
		       : store_sqlite_count(st->lite, s, c, filter, n);
}

int store_insert(struct store *st, const struct coll *c, json_object *values,
		json_object **pk)
{
	return st->pg ? store_pg_insert(st->pg, c, values, pk)
		       : store_sqlite_insert(st->lite, c, values, pk);
}

int store_update(struct store *st, const struct schema *s, const struct coll *c,
		json_object *filter, json_object *values, json_object **pks)
{
	return st->pg ? store_pg_update(st->pg, s, c, filter, values, pks)
		       : store_sqlite_update(st->lite, s, c, filter, values,
		pks);
}

int store_update_count(struct store *st, const struct schema *s,
		const struct coll *c, json_object *filter, json_object *values,
		int64_t *n)
{
	return st->pg ? store_pg_update_count(st->pg, s, c, filter, values, n)
		       : store_sqlite_update_count(st->lite, s, c, filter,
		values, n);
}

int store_delete(struct store *st, const struct schema *s, const struct coll *c,
		json_object *filter, int64_t *n)
{
	return st->pg ? store_pg_delete(st->pg, s, c, filter, n)
		       : store_sqlite_delete(st->lite, s, c, filter, n);
}

int store_claim_execution(struct store *st, const char *worker, int64_t *id)
{
	return st->pg ? store_pg_claim_execution(st->pg, worker, id)
		       : store_sqlite_claim_execution(st->lite, worker, id);
}

int store_orphans(struct store *st, bool (*alive)(const char *worker),
		  json_object **ids)
{
	return st->pg ? store_pg_orphans(st->pg, ids)
		      : store_sqlite_orphans(st->lite, alive, ids);
}

int store_effect_note(struct store *st, int64_t exec_id, const char *what)
{
	return st->pg ? store_pg_effect_note(st->pg, exec_id, what)
		      : store_sqlite_effect_note(st->lite, exec_id, what);
}

int store_effect_get(struct store *st, int64_t exec_id, char **what)
{
	return st->pg ? store_pg_effect_get(st->pg, exec_id, what)
		      : store_sqlite_effect_get(st->lite, exec_id, what);
}

int store_effect_clear(struct store *st, int64_t exec_id)
{
	return st->pg ? store_pg_effect_clear(st->pg, exec_id)
		      : store_sqlite_effect_clear(st->lite, exec_id);
}

int store_meta_all(struct store *st, json_object **all)
{
	return st->pg ? store_pg_meta_all(st->pg, all)
		      : store_sqlite_meta_all(st->lite, all);
}

bool store_conflicted(const struct store *st)
{
	return st->pg ? store_pg_conflicted(st->pg) : false;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->pg)
		store_pg_close(st->pg);
	else
		store_sqlite_close(st->lite);
	free(st);
}
