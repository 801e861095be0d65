/*
 * api_trigger: POST /api/<collection>:trigger[/<id>]?triggerWorkflows=...
 * (reference §3, contract §4), workflows:trigger and workflows:execute
 * (reference §3.8).  The engine (wf_trigger) plans and runs; this file
 * reads the request into it and shapes NocoBase's answer from what comes
 * back.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "app.h"
#include "auth.h"
#include "jsonx.h"
#include "util.h"
#include "wf.h"
#include "wf_trigger.h"

/* Interception: the collected messages are the errors (contract §7),
 * each with a code and the reason. */
static void messages_as_errors(struct req *r, struct wf_trigger *t)
{
	json_object *list = json_object_new_array();
	size_t n = json_object_array_length(t->messages);
	for (size_t i = 0; i < n; i++) {
		json_object *m = jsonx_copy(json_object_array_get_idx(t->messages, i));
		json_object_object_add(m, "code",
				       json_object_new_string("WORKFLOW_MESSAGE"));
		json_object_object_add(m, "reason",
				       json_object_new_string(buf_str(&t->reason)));
		json_object_array_add(list, m);
	}
	r->errors = list;
}

/* meta.dryRun and meta.trace of a dry run or a traced call. */
static void trace_meta(struct req *r, struct wf_trigger *t)
{
	if (!t->trace)
		return;
	r->meta = json_object_new_object();
	if (t->dry_run)
		json_object_object_add(r->meta, "dryRun", json_object_new_boolean(1));
	json_object_object_add(r->meta, "trace", jsonx_ref(t->trace));
}

/* The answer: {} or {messages} on success (reference §3.5), NocoBase's
 * error otherwise; the executions created go out in X-Execution-Id. */
static int answer(struct req *r, struct wf_trigger *t, int rc)
{
	memcpy(r->exec_ids, t->ids, sizeof(int64_t) * (size_t)t->nids);
	r->nexec_ids = t->nids;
	trace_meta(r, t);
	if (rc) {
		if (t->intercepted && json_object_array_length(t->messages))
			messages_as_errors(r, t);
		if (t->message)
			return req_fail_msg(r, rc, t->message, "%s",
					    buf_str(&t->reason));
		return req_fail(r, rc, "%s", buf_str(&t->reason));
	}
	r->messages = jsonx_ref(t->messages);
	r->has_data = false;
	return 0;
}

static bool flag_param(struct req *r, const char *name)
{
	const char *v = req_param_str(r, name);
	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* The caller, and ?dryRun / ?trace, which need the permission to
 * configure workflows besides the trigger's. */
static int start(struct req *r, struct wf_trigger *t)
{
	t->caller.user_id = r->who.user_id;
	t->caller.user = r->who.user;
	t->caller.role = r->who.role;
	t->dry_run = flag_param(r, "dryRun");
	t->trace_wanted = flag_param(r, "trace");
	if ((t->dry_run || t->trace_wanted) && !acl_is_admin(r->app, r->who.role))
		return req_fail(r, APP_EDENIED,
				"role \"%s\" may trigger but not %s: that needs "
				"the permission to configure workflows",
				r->who.role ? r->who.role : "anonymous",
				t->dry_run ? "dry-run" : "trace");
	r->dry_run = t->dry_run;
	return 0;
}

API_HANDLER(api_trigger_collection)
{
	struct wf_trigger wt = {
		.spec = req_param_str(r, "triggerWorkflows"),
		.coll = t->c,
		.scope = t->scope,
		.values = r->values,
	};
	int rc;

	if ((rc = api_target_assoc(r, t)))
		return rc;
	if ((rc = start(r, &wt)))
		return rc;
	wt.coll = t->c;
	wt.assoc = t->assoc_filter;
	wt.tk = api_tk(r);
	if (json_object_is_type(wt.tk, json_type_null)) {
		json_object_put(wt.tk);
		wt.tk = NULL;
	}
	rc = answer(r, &wt, wf_trigger_run(r->app, &wt));
	json_object_put(wt.tk);
	wf_trigger_free(&wt);
	return rc;
}

API_HANDLER(api_trigger_global)
{
	struct wf_trigger wt = {
		.spec = req_param_str(r, "triggerWorkflows"),
		.values = r->values,
	};
	int rc = start(r, &wt);
	if (rc)
		return rc;
	rc = answer(r, &wt, wf_trigger_run(r->app, &wt));
	wf_trigger_free(&wt);
	return rc;
}

/* workflows:execute?filterByTk=<id> {userId, data, roleName, filterByTk} */
static int execute_params(struct req *r, struct wf_execute *w)
{
	json_object *tk = api_tk(r), *u;
	bool ok = tk && jsonx_to_int64(tk, &w->workflow_id);

	/* An empty object is values all the same: NocoBase then asks for
	 * the user. */
	if (!json_object_is_type(r->values, json_type_object)) {
		json_object_put(tk);
		return req_fail_msg(r, APP_EPARAM, "values is required",
				    "the body is not a JSON object");
	}
	json_object_put(tk);
	if (!tk)
		return req_fail_msg(r, APP_EPARAM, "filterByTk is required",
				    "name the workflow id in filterByTk");
	if (!ok)
		return req_fail_msg(r, APP_EPARAM, "filterByTk is invalid",
				    "filterByTk must be an integer");
	u = jsonx_get(r->values, "userId");
	if (json_object_is_type(u, json_type_object))
		u = jsonx_get(u, "id");
	if (!u || !jsonx_to_int64(u, &w->user_id))
		return req_fail_msg(r, APP_EPARAM, "user is not provided",
				    "the body has no userId");
	w->data = jsonx_get(r->values, "data");
	w->filter_tk = jsonx_get(r->values, "filterByTk");
	w->role = jsonx_get_str(r->values, "roleName");
	w->auto_revision = util_streq(req_param_str(r, "autoRevision"), "1");
	return 0;
}

API_HANDLER(api_trigger_execute)
{
	struct wf_execute w = {0};
	json_object *roles = NULL, *out, *exo;
	struct rctx x;
	int rc;

	if ((rc = execute_params(r, &w)))
		return rc;
	w.user = auth_load_user(r->app, w.user_id);
	if (w.user && !w.role) {
		roles = auth_user_roles(r->app, w.user_id);
		if (json_object_array_length(roles))
			w.role = json_object_get_string(
				json_object_array_get_idx(roles, 0));
	}
	api_rctx(r, &x);
	rc = wf_execute_run(&x, &w);
	json_object_put(w.user);
	json_object_put(roles);
	if (rc)
		return api_rfail(r, &x, rc);
	exo = json_object_new_object();
	/* No id: deleted as it ended (options.deleteExecutionOnStatus). */
	json_object_object_add(exo, "id", w.exec_id
					? json_object_new_int64(w.exec_id)
					: NULL);
	json_object_object_add(exo, "status", json_object_new_int(w.status));
	out = json_object_new_object();
	json_object_object_add(out, "execution", exo);
	if (w.new_version)
		json_object_object_add(out, "newVersionId",
				       json_object_new_int64(w.new_version));
	r->exec_ids[0] = w.exec_id;
	r->nexec_ids = w.exec_id ? 1 : 0;
	req_set_data(r, out);
	return 0;
}

/* executions:retry/<id>[?version=current] */
API_HANDLER(api_trigger_retry)
{
	struct wf_retry w = {.current = util_streq(req_param_str(r, "version"),
						   "current")};
	json_object *tk = api_tk(r), *out;
	struct rctx x;
	bool ok = tk && jsonx_to_int64(tk, &w.exec_id) && w.exec_id > 0;
	int rc;

	json_object_put(tk);
	if (!ok)
		return req_fail_msg(r, APP_EID, "Invalid id",
				    "name the execution to run again by its id");
	api_rctx(r, &x);
	if ((rc = wf_execute_retry(&x, &w)))
		return api_rfail(r, &x, rc);
	out = json_object_new_object();
	json_object_object_add(out, "id", w.new_id ? json_object_new_int64(w.new_id)
						   : NULL);
	json_object_object_add(out, "status", w.status == WF_QUEUEING
						      ? NULL
						      : json_object_new_int(w.status));
	json_object_object_add(out, "retryOfId", json_object_new_int64(w.exec_id));
	r->exec_ids[0] = w.new_id;
	r->nexec_ids = w.new_id ? 1 : 0;
	req_set_data(r, out);
	return 0;
}
