/* maint: see maint.h. */
#include "maint.h"

#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* Answers stored under Idempotency-Keys live FLOWCGI_IDEMPOTENCY_TTL. */
static int purge_keys(struct app *a, int64_t *n)
{
	const struct coll *c = schema_coll(a->schema, "idempotencyKeys");
	json_object *f = json_object_new_object(), *lte = json_object_new_object();
	int rc;
	json_object_object_add(lte, "$lte", json_object_new_int64(util_now_ms()));
	json_object_object_add(f, "expiresAt", lte);
	rc = c ? store_delete(a->st, a->schema, c, f, n) : 0;
	json_object_put(f);
	return rc;
}

int maint_run(struct app *a, struct maint_report *rep)
{
	int rc;
	memset(rep, 0, sizeof(*rep));
	if (!a->st)
		return APP_EDB_UNINIT;
	if ((rc = store_begin(a->st, true)))
		return rc;
	if ((rc = app_refresh(a)) || (rc = purge_keys(a, &rep->idempotency_keys))) {
		store_rollback(a->st);
		log_error("maintenance: %s", store_errmsg(a->st));
		return rc;
	}
	if ((rc = store_commit(a->st)))
		return rc;
	store_maintain(a->st);
	return 0;
}

void maint_tick(struct app *a)
{
	static int requests;
	static int64_t last_ms;
	struct maint_report rep;
	int64_t now = util_mono_ms();

	store_maintain(a->st); /* the WAL checkpoint checks its own size */
	if (!last_ms)
		last_ms = now;
	if (++requests < MAINT_EVERY_REQUESTS &&
	    now - last_ms < MAINT_EVERY_SECONDS * 1000)
		return;
	requests = 0;
	last_ms = now;
	maint_run(a, &rep);
}
