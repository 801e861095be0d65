/* maint: see maint.h. */
#include "maint.h"

#include <string.h>

#include <stdlib.h>

#include "auth.h"
#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wf.h"

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

/* ---- pruning executions ---- */

int maint_status(const char *s, int *status)
{
	static const struct {
		const char *name;
		int status;
	} names[] = {
		{"resolved", WF_RESOLVED}, {"failed", WF_FAILED},
		{"error", WF_ERROR},       {"aborted", WF_ABORTED},
		{"canceled", WF_CANCELED}, {"rejected", WF_REJECTED},
		{"retry_needed", WF_RETRY_NEEDED},
	};
	int64_t n;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name) ||
		    (!util_parse_int64(s, &n) && n == names[i].status)) {
			*status = names[i].status;
			return 0;
		}
	return -1;
}

int64_t maint_age(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int64_t ms;
	/* A unit is required: auth_parse_duration reads a bare number as
	 * milliseconds, which no one means for an age of history. */
	if (!n || !strchr("smhdwy", s[n - 1]) || !strcmp(s, "never"))
		return -1;
	ms = auth_parse_duration(s);
	return ms > 0 ? ms : -1;
}

/* {"$and": [{"createdAt": {"$lt": <cutoff>}}, {"status": {"$in": [...]}}]} */
static json_object *prune_filter(const struct maint_prune *p)
{
	static const int ended[] = {WF_RESOLVED, WF_FAILED,   WF_ERROR,
				    WF_ABORTED,  WF_CANCELED, WF_REJECTED,
				    WF_RETRY_NEEDED};
	json_object *f = json_object_new_object(), *and = json_object_new_array();
	json_object *lt = json_object_new_object(), *in = json_object_new_array();
	json_object *c1 = json_object_new_object(), *c2 = json_object_new_object();
	json_object *c2in = json_object_new_object();
	char cutoff[32];

	util_iso_from_ms(util_now_ms() - p->older_than_ms, cutoff);
	json_object_object_add(lt, "$lt", json_object_new_string(cutoff));
	json_object_object_add(c1, "createdAt", lt);
	if (p->nstatuses)
		for (int i = 0; i < p->nstatuses; i++)
			json_object_array_add(in, json_object_new_int(p->statuses[i]));
	else
		for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++)
			json_object_array_add(in, json_object_new_int(ended[i]));
	json_object_object_add(c2in, "$in", in);
	json_object_object_add(c2, "status", c2in);
	json_object_array_add(and, c1);
	json_object_array_add(and, c2);
	json_object_object_add(f, "$and", and);
	return f;
}

/* One batch in its own write transaction: the ids first, then the rows. */
static int prune_batch(struct app *a, json_object *filter, int64_t *n)
{
	const struct coll *c = schema_coll(a->schema, "executions");
	static const char *const id_field[] = {"id"};
	static const struct store_sort by_id = {"id", false};
	struct store_find q = {.filter = filter, .fields = id_field, .nfields = 1,
			       .sort = &by_id, .nsort = 1,
			       .limit = MAINT_PRUNE_BATCH};
	json_object *rows = NULL, *ids = json_object_new_array(), *f, *in;
	int rc;

	*n = 0;
	if (!c)
		return 0;
	if ((rc = store_begin(a->st, true)))
		goto out;
	if (!(rc = store_find(a->st, a->schema, c, &q, &rows)))
		for (size_t i = 0; i < json_object_array_length(rows); i++)
			json_object_array_add(ids, jsonx_ref(jsonx_get(
				json_object_array_get_idx(rows, i), "id")));
	if (!rc && json_object_array_length(ids)) {
		f = json_object_new_object();
		in = json_object_new_object();
		json_object_object_add(in, "$in", jsonx_ref(ids));
		json_object_object_add(f, "id", in);
		rc = store_delete(a->st, a->schema, c, f, n);
		json_object_put(f);
	}
	if (rc)
		store_rollback(a->st);
	else
		rc = store_commit(a->st);
out:
	json_object_put(rows);
	json_object_put(ids);
	return rc;
}

int maint_prune(struct app *a, const struct maint_prune *p, int64_t *n)
{
	json_object *filter = prune_filter(p);
	int64_t got = 0;
	int rc = 0;

	*n = 0;
	for (int b = 0; !p->max_batches || b < p->max_batches; b++) {
		if ((rc = prune_batch(a, filter, &got)) || got == 0)
			break;
		*n += got;
	}
	json_object_put(filter);
	return rc;
}

/* FLOWCGI_EXECUTIONS_MAX_AGE: a bounded share of the pruning each step,
 * then as much space back as a short incremental vacuum gives. */
static int prune_by_age(struct app *a, struct maint_report *rep)
{
	static bool warned;
	const char *env = getenv("FLOWCGI_EXECUTIONS_MAX_AGE");
	struct maint_prune p = {.max_batches = MAINT_PRUNE_BATCHES};
	int rc;

	if (!env || !*env)
		return 0;
	if ((p.older_than_ms = maint_age(env)) < 0) {
		if (!warned)
			log_error("ignoring FLOWCGI_EXECUTIONS_MAX_AGE=%s: not an "
				  "age such as 30d or 12h", env);
		warned = true;
		return 0;
	}
	if ((rc = maint_prune(a, &p, &rep->executions)))
		return rc;
	if (rep->executions)
		store_compact(a->st, false, &rep->freed_bytes);
	return 0;
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
	if ((rc = prune_by_age(a, rep)))
		log_error("maintenance: pruning executions: %s",
			  store_errmsg(a->st));
	store_maintain(a->st);
	return rc;
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
