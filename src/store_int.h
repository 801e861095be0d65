/*
 * store_int: what the store's own files share (never included above the
 * store): the entry points of each backend, which store.c dispatches to.
 * Each backend's private parts are in store_sqlite_int.h / store_pg_int.h.
 */
#ifndef FLOWCGI_STORE_INT_H
#define FLOWCGI_STORE_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct store_sqlite;
struct store_pg;

/* ---- SQLite: store_sqlite*.c ---- */

int store_sqlite_open(const char *target, bool create,
		struct store_sqlite **out);
void store_sqlite_close(struct store_sqlite *st);
const char *store_sqlite_errmsg(const struct store_sqlite *st);
const char *store_sqlite_path(const struct store_sqlite *st);
int store_sqlite_user_version(struct store_sqlite *st, int *version);
int store_sqlite_migrate(struct store_sqlite *st);
int store_sqlite_begin(struct store_sqlite *st, bool write);
int store_sqlite_begin_late(struct store_sqlite *st);
int store_sqlite_commit(struct store_sqlite *st);
void store_sqlite_rollback(struct store_sqlite *st);
int store_sqlite_writable(struct store_sqlite *st);
void store_sqlite_abort(struct store_sqlite *st);
bool store_sqlite_in_txn(const struct store_sqlite *st);
void store_sqlite_maintain(struct store_sqlite *st);
int store_sqlite_check(struct store_sqlite *st, char **report);
bool store_sqlite_stale(const struct store_sqlite *st);
int store_sqlite_size(struct store_sqlite *st, int64_t *db, int64_t *wal);
int store_sqlite_compact(struct store_sqlite *st, bool all, int64_t *freed);
int store_sqlite_meta_get(struct store_sqlite *st, const char *key, char **val);
int store_sqlite_meta_set(struct store_sqlite *st, const char *key,
		const char *val);
int store_sqlite_counters(struct store_sqlite *st, int64_t *schema_v,
		int64_t *wf_v, int64_t *sec_v);
int store_sqlite_bump(struct store_sqlite *st, const char *counter);
int store_sqlite_defs_load(struct store_sqlite *st, json_object **defs);
int store_sqlite_def_insert(struct store_sqlite *st, const char *name,
		json_object *def);
int store_sqlite_def_delete(struct store_sqlite *st, const char *name);
int store_sqlite_sync_tables(struct store_sqlite *st, const struct schema *s);
int store_sqlite_drop_table(struct store_sqlite *st, const char *name);
int store_sqlite_find(struct store_sqlite *st, const struct schema *s,
		const struct coll *c, const struct store_find *q,
		json_object **rows);
int store_sqlite_count(struct store_sqlite *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n);
int store_sqlite_insert(struct store_sqlite *st, const struct coll *c,
		json_object *values, json_object **pk);
int store_sqlite_update(struct store_sqlite *st, const struct schema *s,
		const struct coll *c, json_object *filter, json_object *values,
		json_object **pks);
int store_sqlite_update_count(struct store_sqlite *st, const struct schema *s,
		const struct coll *c, json_object *filter, json_object *values,
		int64_t *n);
int store_sqlite_delete(struct store_sqlite *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n);
int store_sqlite_claim_execution(struct store_sqlite *st, const char *worker,
		int64_t *id);
int store_sqlite_orphans(struct store_sqlite *st,
		bool (*alive)(const char *worker), json_object **ids);
int store_sqlite_effect_note(struct store_sqlite *st, int64_t exec_id,
		const char *what);
int store_sqlite_effect_get(struct store_sqlite *st, int64_t exec_id,
		char **what);
int store_sqlite_effect_clear(struct store_sqlite *st, int64_t exec_id);
int store_sqlite_meta_all(struct store_sqlite *st, json_object **all);

/* ---- PostgreSQL: store_pg*.c ---- */

int store_pg_open(const char *target, bool create,
		struct store_pg **out);
void store_pg_close(struct store_pg *st);
const char *store_pg_errmsg(const struct store_pg *st);
const char *store_pg_path(const struct store_pg *st);
int store_pg_user_version(struct store_pg *st, int *version);
int store_pg_migrate(struct store_pg *st);
int store_pg_begin(struct store_pg *st, bool write);
int store_pg_commit(struct store_pg *st);
void store_pg_rollback(struct store_pg *st);
int store_pg_writable(struct store_pg *st);
int store_pg_lock_key(struct store_pg *st, const char *key);
void store_pg_abort(struct store_pg *st);
bool store_pg_in_txn(const struct store_pg *st);
void store_pg_maintain(struct store_pg *st);
int store_pg_check(struct store_pg *st, char **report);
int store_pg_size(struct store_pg *st, int64_t *db, int64_t *wal);
int store_pg_compact(struct store_pg *st, bool all, int64_t *freed);
int store_pg_meta_get(struct store_pg *st, const char *key, char **val);
int store_pg_meta_set(struct store_pg *st, const char *key, const char *val);
int store_pg_counters(struct store_pg *st, int64_t *schema_v, int64_t *wf_v,
		int64_t *sec_v);
int store_pg_bump(struct store_pg *st, const char *counter);
int store_pg_defs_load(struct store_pg *st, json_object **defs);
int store_pg_def_insert(struct store_pg *st, const char *name,
		json_object *def);
int store_pg_def_delete(struct store_pg *st, const char *name);
int store_pg_sync_tables(struct store_pg *st, const struct schema *s);
int store_pg_drop_table(struct store_pg *st, const char *name);
int store_pg_find(struct store_pg *st, const struct schema *s,
		const struct coll *c, const struct store_find *q,
		json_object **rows);
int store_pg_count(struct store_pg *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n);
int store_pg_insert(struct store_pg *st, const struct coll *c,
		json_object *values, json_object **pk);
int store_pg_update(struct store_pg *st, const struct schema *s,
		const struct coll *c, json_object *filter, json_object *values,
		json_object **pks);
int store_pg_update_count(struct store_pg *st, const struct schema *s,
		const struct coll *c, json_object *filter, json_object *values,
		int64_t *n);
int store_pg_delete(struct store_pg *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n);
int store_pg_claim_execution(struct store_pg *st, const char *worker,
		int64_t *id);
int store_pg_orphans(struct store_pg *st, json_object **ids);
bool store_pg_conflicted(const struct store_pg *st);
int store_pg_meta_all(struct store_pg *st, json_object **all);
int store_pg_effect_note(struct store_pg *st, int64_t exec_id,
		const char *what);
int store_pg_effect_get(struct store_pg *st, int64_t exec_id, char **what);
int store_pg_effect_clear(struct store_pg *st, int64_t exec_id);

#endif
