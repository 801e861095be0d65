/*
 * wf_execute: workflows:execute (reference §3.8): one version run by hand
 * in the context of a given user, recorded with manually = true; with
 * autoRevision the version that just became frozen gets an editable copy.
 */
#include "wf_trigger.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "store.h"
#include "wf_int.h"
#include "wf_queue.h"
#include "wf_version.h"

/* The data of a manual run: given as is for a global workflow, else the
 * record it names, loaded with the workflow's appends. */
static int execute_data(struct rctx *x, const struct wf_flow *f,
			const struct wf_execute *w, json_object **data)
{
	json_object *ct = jsonx_get(f->config, "type"), *given = w->data;
	json_object *appends = NULL, *tk = NULL, *rows = NULL, *flt = NULL;
	int64_t type = 0;
	int rc = 0;

	*data = NULL;
	if (!ct || !jsonx_to_int64(ct, &type) || type == 0) {
		*data = jsonx_ref(given);
		return 0;
	}
	const char *name = jsonx_get_str(f->config, "collection");
	const struct coll *c = schema_coll(x->app->schema, name);
	if (!c) {
		snprintf(x->msgbuf, sizeof(x->msgbuf), "Collection %s not found",
			 name ? name : "");
		x->message = x->msgbuf;
		return rec_fail(x, APP_EVALIDATION,
				"the workflow's collection does not exist");
	}
	appends = wf_trigger_appends(x->app->schema, f, NULL);
	if (type == 2)
		tk = jsonx_ref(w->filter_tk);
	else if (json_object_is_type(given, json_type_object))
		tk = jsonx_ref(jsonx_get(given, c->pk));
	else
		tk = jsonx_ref(given);
	if (!tk || (type == 1 && json_object_is_type(given, json_type_object) &&
		    !json_object_array_length(appends))) {
		*data = jsonx_ref(given);
		goto out;
	}
	if ((rc = rec_tk_filter(x, c, tk, &flt)))
		goto out;
	struct rec_query q = {.filter = flt, .appends = appends};
	if ((rc = rec_find(x, c, &q, &rows)))
		goto out;
	*data = type == 2 ? jsonx_ref(rows)
			  : jsonx_ref(json_object_array_length(rows)
					      ? json_object_array_get_idx(rows, 0)
					      : NULL);
out:
	json_object_put(appends);
	json_object_put(tk);
	json_object_put(flt);
	json_object_put(rows);
	return rc;
}

/* $context of a manual run (new ref). */
static json_object *execute_context(const struct wf_execute *w,
				    json_object *data)
{
	json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "data", data);
	json_object_object_add(ctx, "user", jsonx_ref(w->user));
	json_object_object_add(ctx, "roleName",
			       w->role ? json_object_new_string(w->role) : NULL);
	return ctx;
}

static int run_once(struct rctx *x, struct wf_flow *f, struct wf_execute *w)
{
	json_object *data = NULL;
	struct wf_exec e;
	int rc = execute_data(x, f, w, &data);
	if (rc)
		return rc;
	wf_exec_init(&e, x->app, f, execute_context(w, data),
		     w->user_id, false);
	e.manually = true;
	wf_exec_run(&e);
	rc = wf_exec_save(&e, &w->exec_id);
	w->status = e.status;
	wf_exec_free(&e);
	if (rc)
		return rec_fail(x, rc, "recording the execution failed: %s",
				store_errmsg(x->app->st));
	return 0;
}

int wf_execute_run(struct rctx *x, struct wf_execute *w)
{
	struct app *a = x->app;
	struct wf_flow *f = NULL;
	json_object *row = NULL;
	int64_t executed_before = 0;
	int rc;

	if ((rc = store_begin(a->st, true)))
		return rec_fail(x, rc, "%s", store_errmsg(a->st));
	if ((rc = wf_flow_load(a, w->workflow_id, &f)) || !f) {
		store_rollback(a->st);
		if (rc)
			return rec_fail(x, rc, "%s", store_errmsg(a->st));
		x->message = "workflow not found";
		return rec_fail(x, APP_ERECORD_NOT_FOUND, "no workflow %lld",
				(long long)w->workflow_id);
	}
	row = wf_version_get(x, w->workflow_id);
	jsonx_get_int(row, "executed", &executed_before);
	if (!w->user) {
		x->message = "user not found";
		rc = rec_fail(x, APP_EPARAM, "no user %lld", (long long)w->user_id);
	} else {
		rc = run_once(x, f, w);
	}
	/* The version just became frozen: hand back an editable copy. */
	if (!rc && w->auto_revision && executed_before == 0) {
		json_object *over = json_object_new_object();
		rc = wf_version_copy(x, row, over, &w->new_version);
		json_object_put(over);
		if (!rc)
			rc = wf_version_bump(x);
	}
	if (!rc && (rc = store_commit(a->st)))
		rec_fail(x, rc, "%s", store_errmsg(a->st));
	if (rc)
		store_rollback(a->st);
	json_object_put(row);
	wf_flow_free(f);
	return rc;
}

/* The execution row being retried, with its context (new ref). */
static int retried_row(struct rctx *x, int64_t id, json_object **row)
{
	json_object *f = json_object_new_object();
	struct rec_query q = {.filter = f};
	int rc;
	json_object_object_add(f, "id", json_object_new_int64(id));
	rc = rec_get(x, schema_coll(x->app->schema, "executions"), &q, row);
	json_object_put(f);
	if (!rc && !*row) {
		x->message = "execution not found";
		rc = rec_fail(x, APP_ERECORD_NOT_FOUND, "no execution %lld",
			      (long long)id);
	}
	return rc;
}

/* The version to run: the execution's own, or its key's current one. */
static int retry_flow(struct rctx *x, json_object *row, bool current,
		      struct wf_flow **f, const struct wf_flow **use)
{
	const char *key = jsonx_get_str(row, "key");
	int64_t wid = 0;
	*f = NULL;
	if (current) {
		*use = key ? wf_flow_enabled(x->app, key) : NULL;
		if (!*use)
			return rec_fail(x, APP_EVALIDATION,
					"workflow key \"%s\" has no enabled "
					"version",
					key ? key : "");
		return 0;
	}
	jsonx_get_int(row, "workflowId", &wid);
	int rc = wf_flow_load(x->app, wid, f);
	if (!rc && !*f) {
		x->message = "workflow not found";
		rc = rec_fail(x, APP_ERECORD_NOT_FOUND,
			      "the version it ran (%lld) was deleted", (long long)wid);
	}
	*use = *f;
	return rc;
}

/* Run a synchronous retry: its writes stay only when it resolved. */
static int retry_now(struct rctx *x, const struct wf_flow *f,
		     json_object *ctx, struct wf_retry *w, int64_t uid)
{
	struct store *st = x->app->st;
	struct wf_exec e;
	int rc;

	wf_exec_init(&e, x->app, f, jsonx_ref(ctx), uid, false);
	e.retry_of = w->exec_id;
	wf_exec_run(&e);
	w->status = e.status;
	if (e.status != WF_RESOLVED) {
		/* Keep the record, not the writes. */
		store_abort(st);
		rc = store_begin(st, true);
		if (!rc && !(rc = wf_exec_save(&e, &w->new_id)))
			rc = store_commit(st);
	} else {
		rc = wf_exec_save(&e, &w->new_id);
	}
	wf_exec_free(&e);
	return rc ? rec_fail(x, rc, "%s", store_errmsg(st)) : 0;
}

int wf_execute_retry(struct rctx *x, struct wf_retry *w)
{
	json_object *row = NULL, *ctx;
	struct wf_flow *own = NULL;
	const struct wf_flow *f = NULL;
	int64_t uid = 0;
	int rc;

	if ((rc = retried_row(x, w->exec_id, &row)) ||
	    (rc = retry_flow(x, row, w->current, &own, &f)))
		goto out;
	ctx = jsonx_get(row, "context");
	jsonx_get_int(jsonx_get(ctx, "user"), "id", &uid);
	if (f->sync) {
		rc = retry_now(x, f, ctx, w, uid);
	} else {
		w->status = WF_QUEUEING;
		if ((rc = wf_queue_add(x->app, f, ctx, w->exec_id, &w->new_id)))
			rec_fail(x, rc, "%s", store_errmsg(x->app->st));
	}
out:
	json_object_put(row);
	wf_flow_free(own);
	return rc;
}
