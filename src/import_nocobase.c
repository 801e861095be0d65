/*
 * import_nocobase: the driver of `import nocobase` (see import.h).  The
 * source is read whole first (one read-only snapshot), then the target is
 * written in one transaction: collections (their tables, then --rows),
 * who may do what, tokens and settings, workflows.  Any failure rolls the
 * whole of it back; --dry-run rolls back a complete import, so it finds
 * what a real one would.
 */
#include "import_int.h"

#include <stdio.h>
#include <string.h>

#include "copy.h"
#include "err.h"
#include "jsonx.h"

/* A fresh init's role or user that NocoBase has no counterpart of is
 * gone; say so. */
static void seeded_gone(struct import_ctx *x)
{
	static const struct {
		const char *table, *key;
		enum nb_table nb;
	} kinds[] = {{"roles", "name", NB_ROLES}, {"users", "id", NB_USERS}};
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		json_object *keys = jsonx_get(x->seeded, kinds[k].table);
		for (size_t i = 0; json_object_is_type(keys, json_type_array) &&
				   i < json_object_array_length(keys);
		     i++) {
			json_object *key = json_object_array_get_idx(keys, i);
			json_object *m = import_nocobase_where(x->t[kinds[k].nb],
							       kinds[k].key, key);
			if (!json_object_array_length(m))
				import_report_note(x->rep,
						   "the fresh site's %s %s is gone: "
						   "NocoBase has none with that %s",
						   kinds[k].table, jsonx_str(key),
						   kinds[k].key);
			json_object_put(m);
		}
	}
}

static int land(struct import_ctx *x)
{
	struct app *a = x->app;
	char err[512];
	int rc;

	if ((rc = app_refresh(a)))
		return import_report_fail(x->rep, rc, "%s", store_errmsg(a->st));
	if (!x->opts->merge) {
		if ((rc = copy_target_empty(a->st, a->schema, err, sizeof(err))))
			return import_report_fail(x->rep, rc,
						  "%s (--merge imports into a site "
						  "that is not empty)",
						  err);
		if ((rc = import_write_clear_seeded(x)))
			return rc;
	}
	if ((rc = import_nocobase_schema(x)) || (rc = import_nocobase_rows(x)) ||
	    (rc = import_nocobase_acl(x)) || (rc = import_nocobase_tokens(x)) ||
	    (rc = import_nocobase_flows(x)))
		return rc;
	if ((rc = store_bump(a->st, "security_version")))
		return import_write_fail(x, rc, "security counter");
	seeded_gone(x);
	if (x->executions)
		import_report_note(x->rep,
				   "%lld execution(s) of NocoBase's history did not "
				   "move: flowcgi's history starts empty",
				   (long long)x->executions);
	return 0;
}

static void ctx_free(struct import_ctx *x)
{
	for (int i = 0; i < NB_NTABLES; i++)
		json_object_put(x->t[i]);
	json_object_put(x->seeded);
	json_object_put(x->moved);
	store_src_close(x->src);
	import_nocobase_app_free(&x->nb);
}

int import_nocobase(struct app *a, const struct import_opts *o,
		    struct import_report *rep)
{
	struct import_ctx x = {.app = a, .opts = o, .rep = rep};
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (o->app_dir) {
		if (import_nocobase_app_read(o->app_dir, &x.nb, rep->error,
					     sizeof(rep->error)))
			return APP_EVALIDATION;
		x.has_app = true;
	}
	if (strstr(o->from, "://") && !store_is_uri(o->from)) {
		/* NocoBase also runs on MySQL and MariaDB: not a source here */
		rc = import_report_fail(rep, APP_EVALIDATION,
					"--from takes NocoBase's PostgreSQL "
					"(postgresql://) or SQLite (a file) "
					"database, not %.*s",
					(int)(strstr(o->from, "://") - o->from + 3),
					o->from);
		goto out;
	}
	if ((rc = store_src_open(o->from, &x.src))) {
		import_report_fail(rep, rc, "%s", store_src_errmsg(x.src));
		goto out;
	}
	if ((rc = import_nocobase_read(&x)))
		goto out;
	if ((rc = store_begin(a->st, true))) {
		import_write_fail(&x, rc, "the target");
		goto out;
	}
	rc = land(&x);
	if (!rc && !o->dry_run && (rc = store_commit(a->st)))
		import_write_fail(&x, rc, "committing");
	if (rc || o->dry_run)
		store_abort(a->st);
	if (!rc && o->dry_run)
		import_report_note(rep, "dry run: nothing was written");
out:
	ctx_free(&x);
	return rc;
}
