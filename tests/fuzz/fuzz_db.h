/*
 * fuzz_db.h: the scratch database of the harnesses that run queries
 * (fuzz_query, fuzz_filter).  Made once per process in a fresh directory
 * under $TMPDIR (default /tmp): `init` as the command line does it, a
 * member user, a few collections with every field type and every kind of
 * association, and some rows.  Removed at exit.
 */
#ifndef FLOWCGI_FUZZ_DB_H
#define FLOWCGI_FUZZ_DB_H

#include <stdbool.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "log.h"
#include "records.h"
#include "schema.h"
#include "store.h"

static struct app fuzz_app;
static char fuzz_dir[512], fuzz_db[600];

static void fuzz_quiet(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

static void fuzz_db_fail(const char *what, int rc)
{
	fprintf(stderr, "fuzz: database setup: %s failed (%d): %s\n", what, rc,
		fuzz_app.st ? store_errmsg(fuzz_app.st) : "");
	abort();
}

static void fuzz_db_collection(const char *json)
{
	json_object *body = fuzz_json(json), *def = NULL;
	char err[256];
	int rc;
	if (schema_normalize(fuzz_app.schema, body, &def, err, sizeof(err))) {
		fprintf(stderr, "fuzz: collection: %s\n", err);
		abort();
	}
	/* A belongsToMany's join collection is created with it, as
	 * collections:create does. */
	json_object *fields = jsonx_get(def, "fields");
	for (size_t i = 0; i < json_object_array_length(fields); i++) {
		json_object *f = json_object_array_get_idx(fields, i);
		const char *th = jsonx_get_str(f, "through");
		if (!th || schema_coll(fuzz_app.schema, th))
			continue;
		json_object *td = fuzz_json("{\"fields\":[]}");
		json_object_object_add(td, "name", json_object_new_string(th));
		if ((rc = store_def_insert(fuzz_app.st, th, td)))
			fuzz_db_fail("join collection", rc);
		json_object_put(td);
	}
	if ((rc = store_def_insert(fuzz_app.st, jsonx_get_str(def, "name"),
				   def)) ||
	    (rc = store_bump(fuzz_app.st, "schema_version")) ||
	    (rc = app_reload_schema(&fuzz_app)) ||
	    (rc = store_sync_tables(fuzz_app.st, fuzz_app.schema)))
		fuzz_db_fail("collection", rc);
	json_object_put(def);
	json_object_put(body);
}

static void fuzz_db_row(const char *coll, const char *json)
{
	struct rctx x = {.app = &fuzz_app, .user_id = 1};
	json_object *v = fuzz_json(json), *rec = NULL;
	int rc = rec_create(&x, schema_coll(fuzz_app.schema, coll), v, NULL,
			    &rec);
	if (rc) {
		fprintf(stderr, "fuzz: row of %s: %s\n", coll, x.reason);
		abort();
	}
	json_object_put(rec);
	json_object_put(v);
}

static void fuzz_db_cleanup(void)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-writer",
					     "-journal"};
	char path[700];
	app_close(&fuzz_app);
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", fuzz_db, suffix[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
	jsonx_cleanup();
}

static void fuzz_db_setup(void)
{
	struct app_config cfg;
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/flowcgi-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	snprintf(fuzz_db, sizeof(fuzz_db), "%s/fuzz.db", fuzz_dir);
	atexit(fuzz_db_cleanup);
	log_set_sink(fuzz_quiet, NULL);
	{
		char *init[] = {"flowcgi", "init", "--db", fuzz_db,
				"--root-password", "fuzz-password", NULL};
		char *member[] = {"flowcgi", "user", "add", "--db", fuzz_db,
				  "--username", "member", "--email",
				  "member@example.com", "--password",
				  "fuzz-password", "--role", "member", NULL};
		int out = dup(1);
		/* the commands talk on stdout; libFuzzer's log is on stderr */
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    cli_run(6, init) != 0 || cli_run(13, member) != 0) {
			fprintf(stderr, "fuzz: init of %s failed\n", fuzz_db);
			abort();
		}
		fflush(stdout);
		dup2(out, 1);
		close(out);
	}
	app_config_load(&cfg, fuzz_db);
	app_open(&fuzz_app, &cfg);
	if ((rc = app_refresh(&fuzz_app)))
		fuzz_db_fail("app_refresh", rc);
	if ((rc = store_begin(fuzz_app.st, true)))
		fuzz_db_fail("begin", rc);
	fuzz_db_collection(
		"{\"name\":\"categories\",\"fields\":["
		"{\"name\":\"title\",\"type\":\"string\"},"
		"{\"name\":\"parent\",\"type\":\"belongsTo\",\"target\":"
		"\"categories\",\"foreignKey\":\"parentId\"},"
		"{\"name\":\"posts\",\"type\":\"hasMany\",\"target\":\"posts\","
		"\"foreignKey\":\"categoryId\"}]}");
	fuzz_db_collection("{\"name\":\"tags\",\"fields\":["
			   "{\"name\":\"name\",\"type\":\"string\"}]}");
	fuzz_db_collection(
		"{\"name\":\"posts\",\"createdBy\":true,\"fields\":["
		"{\"name\":\"title\",\"type\":\"string\"},"
		"{\"name\":\"body\",\"type\":\"text\"},"
		"{\"name\":\"read\",\"type\":\"integer\"},"
		"{\"name\":\"big\",\"type\":\"bigInt\"},"
		"{\"name\":\"score\",\"type\":\"double\"},"
		"{\"name\":\"ratio\",\"type\":\"float\"},"
		"{\"name\":\"price\",\"type\":\"decimal\"},"
		"{\"name\":\"published\",\"type\":\"boolean\"},"
		"{\"name\":\"day\",\"type\":\"date\"},"
		"{\"name\":\"meta\",\"type\":\"json\"},"
		"{\"name\":\"category\",\"type\":\"belongsTo\",\"target\":"
		"\"categories\",\"foreignKey\":\"categoryId\"},"
		"{\"name\":\"tags\",\"type\":\"belongsToMany\",\"target\":"
		"\"tags\"},"
		"{\"name\":\"comments\",\"type\":\"hasMany\",\"target\":"
		"\"comments\",\"foreignKey\":\"postId\"},"
		"{\"name\":\"detail\",\"type\":\"hasOne\",\"target\":"
		"\"details\",\"foreignKey\":\"postId\"}]}");
	fuzz_db_collection("{\"name\":\"comments\",\"fields\":["
			   "{\"name\":\"text\",\"type\":\"string\"},"
			   "{\"name\":\"post\",\"type\":\"belongsTo\","
			   "\"target\":\"posts\",\"foreignKey\":\"postId\"}]}");
	fuzz_db_collection("{\"name\":\"details\",\"fields\":["
			   "{\"name\":\"note\",\"type\":\"string\"}]}");
	fuzz_db_row("categories", "{\"title\":\"news\"}");
	fuzz_db_row("categories", "{\"title\":\"sub\",\"parent\":1}");
	fuzz_db_row("posts",
		    "{\"title\":\"Hello world\",\"read\":3,\"big\":1234567890123,"
		    "\"score\":1.5,\"ratio\":0.25,\"price\":\"12.50\","
		    "\"published\":true,\"day\":\"2026-01-02T10:00:00Z\","
		    "\"meta\":{\"a\":[1,2]},\"category\":1,"
		    "\"tags\":[{\"name\":\"t1\"},{\"name\":\"t2\"}],"
		    "\"comments\":[{\"text\":\"first\"},{\"text\":\"2nd\"}],"
		    "\"detail\":{\"note\":\"d1\"}}");
	fuzz_db_row("posts", "{\"title\":\"second\",\"read\":\"7\","
			     "\"category\":2,\"published\":false}");
	fuzz_db_row("posts", "{\"title\":\"Third_%\",\"read\":10,\"body\":"
			     "\"h\\u00e9llo \\ud83d\\ude00\"}");
	if ((rc = store_commit(fuzz_app.st)))
		fuzz_db_fail("commit", rc);
}

#endif
