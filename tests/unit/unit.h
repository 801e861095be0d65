/*
 * unit.h: what the cmocka tests share.  Include it first, in place of
 * cmocka.h and its prerequisites.
 *
 *   JSON       unit_json("...") parses test JSON (the test fails on bad
 *              text); unit_assert_json(v, "...") compares a value with the
 *              JSON it should equal, printing both when it does not.
 *   Database   unit_db_open(&db, "name") makes a temporary directory with
 *              an initialised database and a struct app serving it (as a
 *              request would see it); unit_db_close removes it all.
 *              unit_collection() adds a collection as collections:create
 *              does; unit_add() creates a row and returns its id.
 *
 * Helpers are static inline so a test file may use any subset of them.
 */
#ifndef FLOWCGI_TEST_UNIT_H
#define FLOWCGI_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "jsonx.h"
#include "records.h"
#include "schema.h"
#include "store.h"

/* ---- JSON --------------------------------------------------------------- */

/* JSON text to a value (new ref; NULL for "null"). */
static inline json_object *unit_json(const char *s)
{
	json_object *o = NULL;
	char err[128];
	if (jsonx_parse(s, strlen(s), 64, &o, err, sizeof(err)) != 0)
		fail_msg("bad test JSON: %s: %s", err, s);
	return o;
}

/* v equals the JSON text want (key order of objects aside). */
static inline void unit_assert_json(json_object *v, const char *want)
{
	json_object *w = unit_json(want);
	bool same = jsonx_equal(v, w);
	json_object_put(w);
	if (!same)
		fail_msg("got %s, want %s",
			 v ? json_object_to_json_string_ext(
				     v, JSON_C_TO_STRING_PLAIN)
			   : "null",
			 want);
}

/* ---- a temporary database ----------------------------------------------- */

struct unit_db {
	char dir[64];
	char path[128];
	struct app app;
};

/* A new temporary directory /tmp/flowcgi-unit-<name>-XXXXXX in dir (64
 * bytes), and its removal with everything in it. */
static inline void unit_tmpdir(char dir[64], const char *name)
{
	snprintf(dir, 64, "/tmp/flowcgi-unit-%s-XXXXXX", name);
	assert_non_null(mkdtemp(dir));
}

static inline int unit_rmdir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh initialised database in a new temporary directory, opened as
 * the server opens it, with the first request's refresh done. */
static inline void unit_db_open(struct unit_db *d, const char *name)
{
	struct app_config cfg;
	struct store *st = NULL;

	snprintf(d->dir, sizeof(d->dir), "/tmp/flowcgi-%s-XXXXXX", name);
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->path, sizeof(d->path), "%s/%s.db", d->dir, name);
	assert_int_equal(store_open(d->path, true, &st), 0);
	assert_int_equal(store_migrate(st), 0);
	store_close(st);
	app_config_load(&cfg, d->path);
	app_open(&d->app, &cfg);
	assert_int_equal(d->app.db_err, 0);
	assert_int_equal(app_refresh(&d->app), 0);
}

/* Close the app (rolling back what is open) and remove every file. */
static inline void unit_db_close(struct unit_db *d)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-writer"};
	char path[160];

	if (d->app.st && store_in_txn(d->app.st))
		store_abort(d->app.st);
	app_close(&d->app);
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", d->path, suffix[i]);
		unlink(path);
	}
	rmdir(d->dir);
}

/* The join collection of each belongsToMany field of def that has none
 * yet, stored as collections:create stores it. */
static inline void unit_through(struct app *a, json_object *def)
{
	json_object *fields = jsonx_get(def, "fields");

	for (size_t i = 0; fields && i < json_object_array_length(fields);
	     i++) {
		json_object *f = json_object_array_get_idx(fields, i), *td;
		const char *th = jsonx_get_str(f, "through");
		const char *type = jsonx_get_str(f, "type");
		if (!th || !type || strcmp(type, "belongsToMany") ||
		    schema_coll(a->schema, th))
			continue;
		td = unit_json("{\"fields\":[]}");
		json_object_object_add(td, "name", json_object_new_string(th));
		assert_int_equal(store_def_insert(a->st, th, td), 0);
		json_object_put(td);
	}
}

/* Add a collection from a collections:create body (JSON text): normalised,
 * stored with the join collections it needs, the schema rebuilt and its
 * tables made, as the API does it.  Returns 0, or -1 with the refusal in
 * err (a test of bad bodies). */
static inline int unit_collection_try(struct app *a, const char *json,
				      char *err, size_t errlen)
{
	json_object *body = unit_json(json), *def = NULL;
	int rc = schema_normalize(a->schema, body, &def, err, errlen);

	json_object_put(body);
	if (rc)
		return -1;
	unit_through(a, def);
	assert_int_equal(store_def_insert(a->st, jsonx_get_str(def, "name"),
					  def),
			 0);
	assert_int_equal(store_bump(a->st, "schema_version"), 0);
	assert_int_equal(app_reload_schema(a), 0);
	assert_int_equal(store_sync_tables(a->st, a->schema), 0);
	json_object_put(def);
	return 0;
}

static inline void unit_collection(struct app *a, const char *json)
{
	char err[256];
	if (unit_collection_try(a, json, err, sizeof(err)))
		fail_msg("collection refused: %s: %s", err, json);
}

/* Create a row of coll from JSON text (nested associations allowed) as
 * user 1; returns its id. */
static inline int64_t unit_add(struct app *a, const char *coll,
			       const char *json)
{
	struct rctx x = {.app = a, .user_id = 1};
	json_object *v = unit_json(json), *rec = NULL;
	int64_t id = 0;
	int rc = rec_create(&x, schema_coll(a->schema, coll), v, NULL, &rec);

	if (rc)
		fail_msg("creating a row of %s failed (%d): %s", coll, rc,
			 x.reason);
	jsonx_get_int(rec, "id", &id);
	json_object_put(rec);
	json_object_put(v);
	return id;
}

#endif
