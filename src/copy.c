/*
 * copy: `flowcgi.fcgi copy --from <SQLite file> --to <PostgreSQL URI>`
 * moves a whole site (any store to any store, in fact): the settings (the
 * token secret and the token policy among them), the collection
 * definitions, then every table, system and user, row by row with their
 * ids, so that tokens, ids and execution history stay valid.  The target
 * is migrated first and must be empty; everything lands in one target
 * transaction, the row counts of every table are compared before it
 * commits, and the source is only read.
 */
#include "copy.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "schema.h"
#include "store.h"

#define COPY_BATCH 500

static int report_fail(struct copy_report *rep, struct store *st, int rc,
		       const char *what)
{
	snprintf(rep->error, sizeof(rep->error), "%s: %s", what,
		 st ? store_errmsg(st) : "");
	return rc;
}

static int build_schema(struct store *st, struct schema **s,
			struct copy_report *rep)
{
	json_object *defs = NULL;
	char err[256];
	int rc = store_defs_load(st, &defs);
	if (!rc && schema_build(defs, 0, s, err, sizeof(err))) {
		snprintf(rep->error, sizeof(rep->error), "schema: %s", err);
		rc = APP_EINTERNAL;
	}
	json_object_put(defs);
	return rc;
}

int copy_target_empty(struct store *to, const struct schema *s, char *err,
		      size_t errlen)
{
	static const struct {
		const char *name;
		int64_t most;
	} seeded[] = {{"roles", 3}, {"users", 1}, {"rolesUsers", 3},
		      {"dataSourcesRolesResourcesScopes", 2}};
	for (int i = 0; i < s->ncolls; i++) {
		const struct coll *c = s->colls[i];
		int64_t n = 0, most = 0;
		for (size_t k = 0; k < sizeof(seeded) / sizeof(seeded[0]); k++)
			if (!strcmp(c->name, seeded[k].name))
				most = seeded[k].most;
		if (store_count(to, s, c, NULL, &n)) {
			snprintf(err, errlen, "%s: %s", c->name, store_errmsg(to));
			return APP_EINTERNAL;
		}
		if (n > most) {
			snprintf(err, errlen,
				 "the target is not empty: %s has %lld row(s)",
				 c->name, (long long)n);
			return APP_EVALIDATION;
		}
	}
	return 0;
}

int copy_clear_seeded(struct store *to, const struct schema *s)
{
	static const char *const seeded[] = {
		"rolesUsers", "users", "dataSourcesRolesResourcesScopes", "roles",
		NULL};
	for (int k = 0; seeded[k]; k++) {
		const struct coll *c = schema_coll(s, seeded[k]);
		int64_t n;
		int rc = c ? store_delete(to, s, c, NULL, &n) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

static int copy_settings(struct store *from, struct store *to,
			 struct copy_report *rep)
{
	json_object *all = NULL;
	int rc = store_meta_all(from, &all);
	if (rc)
		return report_fail(rep, from, rc, "settings");
	json_object_object_foreach(all, k, v) {
		/* The change counters are the target's own (its caches). */
		if (strstr(k, "_version"))
			continue;
		if ((rc = store_meta_set(to, k, json_object_get_string(v))))
			break;
	}
	json_object_put(all);
	return rc ? report_fail(rep, to, rc, "settings") : 0;
}

static int copy_defs(struct store *from, struct store *to,
		     struct copy_report *rep)
{
	json_object *defs = NULL;
	int rc = store_defs_load(from, &defs);
	for (size_t i = 0; !rc && i < json_object_array_length(defs); i++) {
		json_object *d = json_object_array_get_idx(defs, i);
		rc = store_def_insert(to, jsonx_get_str(d, "name"), d);
	}
	json_object_put(defs);
	if (!rc)
		rc = store_bump(to, "schema_version");
	return rc ? report_fail(rep, to, rc, "collection definitions") : 0;
}

/* Every row of c, in key order, in batches. */
static int copy_rows(struct store *from, struct store *to,
		     const struct schema *s, const struct coll *c, int64_t *n)
{
	struct store_sort by_pk = {c->pk, false};
	int64_t offset = 0;
	int rc = 0;

	*n = 0;
	for (;;) {
		struct store_find q = {.sort = &by_pk, .nsort = 1,
				       .limit = COPY_BATCH, .offset = offset,
				       .hidden = true};
		json_object *rows = NULL, *pk = NULL;
		size_t got;
		if ((rc = store_find(from, s, c, &q, &rows)))
			return rc;
		got = json_object_array_length(rows);
		for (size_t i = 0; !rc && i < got; i++) {
			rc = store_insert(to, c, json_object_array_get_idx(rows, i),
					  &pk);
			json_object_put(pk);
			pk = NULL;
		}
		json_object_put(rows);
		*n += (int64_t)got;
		offset += COPY_BATCH;
		if (rc || got < COPY_BATCH)
			return rc;
	}
}

/* Each table, then its count on both sides. */
static int copy_tables(struct store *from, struct store *to,
		       const struct schema *s, struct copy_report *rep)
{
	for (int i = 0; i < s->ncolls; i++) {
		const struct coll *c = s->colls[i];
		int64_t copied = 0, src = 0, dst = 0;
		int rc = copy_rows(from, to, s, c, &copied);
		if (rc)
			return report_fail(rep, copied ? to : from, rc, c->name);
		if ((rc = store_count(from, s, c, NULL, &src)) ||
		    (rc = store_count(to, s, c, NULL, &dst)))
			return report_fail(rep, to, rc, c->name);
		if (src != dst || src != copied) {
			snprintf(rep->error, sizeof(rep->error),
				 "%s: %lld row(s) in the source, %lld copied, "
				 "%lld in the target",
				 c->name, (long long)src, (long long)copied,
				 (long long)dst);
			return APP_EINTERNAL;
		}
		if (rep->ntables < COPY_MAX_TABLES) {
			snprintf(rep->tables[rep->ntables].name,
				 sizeof(rep->tables[0].name), "%s", c->name);
			rep->tables[rep->ntables++].rows = copied;
		}
	}
	return 0;
}

int copy_site(struct store *from, struct store *to, struct copy_report *rep)
{
	struct schema *src = NULL, *dst = NULL;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if ((rc = store_migrate(to)))
		return report_fail(rep, to, rc, "preparing the target");
	if ((rc = store_begin(from, false)))
		return report_fail(rep, from, rc, "reading the source");
	if ((rc = store_begin(to, true))) {
		store_rollback(from);
		return report_fail(rep, to, rc, "writing the target");
	}
	if (!(rc = build_schema(to, &dst, rep)) &&
	    !(rc = copy_target_empty(to, dst, rep->error, sizeof(rep->error))) &&
	    !(rc = copy_clear_seeded(to, dst)) &&
	    !(rc = copy_settings(from, to, rep)) &&
	    !(rc = copy_defs(from, to, rep)) && !(rc = build_schema(from, &src, rep)) &&
	    !(rc = store_sync_tables(to, src)))
		rc = copy_tables(from, to, src, rep);
	if (!rc && (rc = store_commit(to)))
		report_fail(rep, to, rc, "committing the target");
	if (rc)
		store_abort(to);
	store_rollback(from);
	schema_free(src);
	schema_free(dst);
	return rc;
}
