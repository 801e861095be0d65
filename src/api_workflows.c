/*
 * api_workflows: workflows (list/get/create/update/destroy/revision) and
 * their nodes (workflows/<id>/nodes, flow_nodes).  The engine owns what a
 * change means (wf_version: versions, current, frozen; wf_graph: node
 * links); this file reads the request, checks it and shapes the answer.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "jsonx.h"
#include "util.h"
#include "wf_graph.h"
#include "wf_version.h"

static json_object *pick(json_object *values, const char *const *names)
{
	json_object *o = json_object_new_object();
	for (int i = 0; names[i]; i++)
		if (jsonx_has(values, names[i]))
			json_object_object_add(o, names[i],
					       jsonx_ref(jsonx_get(values, names[i])));
	return o;
}

/* A list of validation messages as the error body (one per bad key). */
static int config_errors(struct req *r, json_object *msgs)
{
	json_object *list = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(msgs); i++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "message",
				       jsonx_ref(json_object_array_get_idx(msgs, i)));
		json_object_object_add(e, "code",
				       json_object_new_string("VALIDATION_ERROR"));
		json_object_array_add(list, e);
	}
	r->errors = list;
	return req_fail_msg(r, APP_EVALIDATION,
			    json_object_get_string(json_object_array_get_idx(msgs, 0)),
			    "invalid trigger configuration");
}

/* The trigger config of values, when given, is valid for its type. */
static int check_config(struct req *r, const char *type, json_object *values)
{
	json_object *msgs;
	int rc = 0;
	if (!jsonx_has(values, "config"))
		return 0;
	msgs = util_streq(type, "webhook")
		       ? wf_version_check_webhook(jsonx_get(values, "config"))
		       : wf_version_check_config(r->app, jsonx_get(values, "config"));
	if (json_object_array_length(msgs))
		rc = config_errors(r, msgs);
	json_object_put(msgs);
	return rc;
}

/* The rows of coll named by filterByTk or filter (one is required). */
static int target_rows(struct req *r, const struct coll *c, json_object **rows)
{
	struct rctx x;
	json_object *tk = api_tk(r), *f = NULL, *qf = NULL, *all;
	int rc;

	api_rctx(r, &x);
	*rows = NULL;
	if ((rc = api_filter_param(r, &qf)))
		goto out;
	if (!tk && !qf) {
		rc = req_fail_msg(r, APP_EPARAM,
				  arena_printf(r->arena,
					       "to do %s action, filter or "
					       "filterByTk is required",
					       r->route->action),
				  "neither filter nor filterByTk was given");
		goto out;
	}
	if (tk && (rc = rec_tk_filter(&x, c, tk, &f))) {
		api_rfail(r, &x, rc);
		goto out;
	}
	all = rec_and(f, qf);
	struct rec_query q = {.filter = all};
	rc = api_rfail(r, &x, rec_find(&x, c, &q, rows));
	json_object_put(all);
out:
	json_object_put(tk);
	json_object_put(f);
	json_object_put(qf);
	return rc;
}

/* Counted executions, and a webhook's secret masked. */
static void add_counts(struct req *r)
{
	struct rctx x;
	api_rctx(r, &x);
	wf_version_counts(&x, r->data);
	wf_version_mask_secret(r->data);
}

API_HANDLER(api_workflows_list)
{
	int rc = api_records_list(r, t);
	if (!rc)
		add_counts(r);
	return rc;
}

API_HANDLER(api_workflows_get)
{
	int rc = api_records_get(r, t);
	if (!rc)
		add_counts(r);
	return rc;
}

API_HANDLER(api_workflows_create)
{
	const char *type = jsonx_get_str(r->values, "type");
	const char *key = jsonx_get_str(r->values, "key");
	json_object *v;
	struct rctx x;
	int64_t id = 0;
	char uid[12];
	int rc;

	if (!json_object_is_type(r->values, json_type_object))
		return req_fail(r, APP_EVALIDATION, "values must be an object");
	if (!type || !*type)
		return req_fail_msg(r, APP_EVALIDATION, "Trigger type is required",
				    "the workflow has no \"type\"");
	if (!wf_version_type_known(type))
		return req_fail_msg(r, APP_EVALIDATION,
				    arena_printf(r->arena,
						 "Trigger type \"%s\" is not "
						 "registered",
						 type),
				    "flowcgi runs custom-action and webhook "
				    "workflows");
	v = pick(r->values, wf_version_fields);
	if (!strcmp(type, "webhook") && !jsonx_has(v, "config"))
		json_object_object_add(v, "config", json_object_new_object());
	if ((rc = check_config(r, type, v))) {
		json_object_put(v);
		return rc;
	}
	if (key && !wf_version_key_valid(key)) {
		json_object_put(v);
		return req_fail(r, APP_EVALIDATION,
				"key must match ^[A-Za-z0-9_][A-Za-z0-9_-]*$");
	}
	if (!key) {
		util_uid(uid);
		key = uid;
	}
	json_object_object_add(v, "key", json_object_new_string(key));
	api_rctx(r, &x);
	rc = wf_version_create(&x, v, &id);
	json_object_put(v);
	if (rc)
		return api_rfail(r, &x, rc);
	req_set_data(r, wf_version_get(&x, id));
	wf_version_mask_secret(r->data);
	return 0;
}

/* The rows with ids, read again after a change (new ref). */
static int reread(struct req *r, struct rctx *x, const struct coll *c,
		  json_object *ids)
{
	json_object *f = json_object_new_object(), *in = json_object_new_object(),
		    *out = NULL;
	json_object_object_add(in, "$in", jsonx_ref(ids));
	json_object_object_add(f, "id", in);
	struct rec_query q = {.filter = f};
	int rc = api_rfail(r, x, rec_find(x, c, &q, &out));
	json_object_put(f);
	if (!rc) {
		wf_version_counts(x, out);
		wf_version_mask_secret(out);
		req_set_data(r, out);
	}
	return rc;
}

API_HANDLER(api_workflows_update)
{
	json_object *rows = NULL, *v, *ids = json_object_new_array();
	struct rctx x;
	int rc;

	if (!json_object_is_type(r->values, json_type_object))
		rc = req_fail(r, APP_EVALIDATION, "values must be an object");
	else
		rc = target_rows(r, t->c, &rows);
	if (rc) {
		json_object_put(ids);
		return rc;
	}
	api_rctx(r, &x);
	wf_version_counts(&x, rows);
	v = pick(r->values, wf_version_fields);
	json_object_object_del(v, "type");
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		/* Frozen first: a bad config of an executed version is the
		 * freeze's error.  The config check drops a "main:" prefix
		 * before it is stored. */
		wf_version_keep_secret(row, v);
		if ((rc = api_rfail(r, &x, wf_version_may_update(&x, row, v))) ||
		    (rc = check_config(r, jsonx_get_str(row, "type"), v)) ||
		    (rc = api_rfail(r, &x, wf_version_update(&x, row, v))))
			break;
		json_object_array_add(ids, jsonx_ref(jsonx_get(row, "id")));
	}
	json_object_put(v);
	json_object_put(rows);
	if (!rc && !(rc = api_rfail(r, &x, wf_version_bump(&x))))
		rc = reread(r, &x, t->c, ids);
	json_object_put(ids);
	return rc;
}

API_HANDLER(api_workflows_destroy)
{
	json_object *rows = NULL;
	struct rctx x;
	int rc = target_rows(r, t->c, &rows);
	size_t n = rc ? 0 : json_object_array_length(rows);

	api_rctx(r, &x);
	for (size_t i = 0; !rc && i < n; i++) {
		int64_t id = 0;
		jsonx_get_int(json_object_array_get_idx(rows, i), "id", &id);
		rc = wf_version_destroy(&x, id);
	}
	json_object_put(rows);
	if (!rc)
		rc = wf_version_bump(&x);
	if (rc)
		return api_rfail(r, &x, rc);
	req_set_data(r, json_object_new_int64((int64_t)n));
	return 0;
}

API_HANDLER(api_workflows_revision)
{
	json_object *rows = NULL, *over;
	struct rctx x;
	int64_t id = 0;
	int rc;

	if ((rc = target_rows(r, t->c, &rows)))
		return rc;
	if (!json_object_array_length(rows)) {
		json_object_put(rows);
		return req_fail_msg(r, APP_ERECORD_NOT_FOUND, "workflow not found",
				    "no workflow matches filterByTk");
	}
	over = json_object_is_type(r->values, json_type_object)
		       ? pick(r->values, wf_version_fields)
		       : json_object_new_object();
	json_object_object_del(over, "enabled");
	json_object_object_del(over, "type");
	wf_version_keep_secret(json_object_array_get_idx(rows, 0), over);
	api_rctx(r, &x);
	rc = wf_version_copy(&x, json_object_array_get_idx(rows, 0), over, &id);
	json_object_put(over);
	json_object_put(rows);
	if (!rc)
		rc = wf_version_bump(&x);
	if (rc)
		return api_rfail(r, &x, rc);
	req_set_data(r, wf_version_get(&x, id));
	wf_version_mask_secret(r->data);
	return 0;
}

/* ---- nodes ---- */

/* workflows/<id>/nodes:create, or flow_nodes:create with workflowId. */
API_HANDLER(api_nodes_create)
{
	json_object *v = r->values;
	int64_t wid = 0, id = 0;
	struct rctx x;
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return req_fail(r, APP_EVALIDATION, "values must be an object");
	if (r->parent) {
		if (util_parse_int64(r->parent_index, &wid))
			return req_fail(r, APP_EID, "workflow id must be an integer");
	} else if (!jsonx_get_int(v, "workflowId", &wid)) {
		return req_fail(r, APP_EVALIDATION, "workflowId is required");
	}
	api_rctx(r, &x);
	if ((rc = wf_graph_insert(&x, wid, v, &id)))
		return api_rfail(r, &x, rc);
	req_set_data(r, wf_graph_get(&x, id));
	return 0;
}

API_HANDLER(api_nodes_update)
{
	json_object *rows = NULL, *out = json_object_new_array();
	struct rctx x;
	int rc = target_rows(r, t->c, &rows);

	api_rctx(r, &x);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *n = json_object_array_get_idx(rows, i);
		int64_t id = 0;
		jsonx_get_int(n, "id", &id);
		if ((rc = api_rfail(r, &x, wf_graph_update(&x, n, r->values))))
			break;
		json_object_array_add(out, wf_graph_get(&x, id));
	}
	json_object_put(rows);
	if (rc)
		json_object_put(out);
	else
		req_set_data(r, out);
	return rc;
}

API_HANDLER(api_nodes_destroy)
{
	json_object *rows = NULL;
	struct rctx x;
	int rc = target_rows(r, t->c, &rows);

	api_rctx(r, &x);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++)
		rc = api_rfail(r, &x,
			       wf_graph_remove(&x, json_object_array_get_idx(rows, i)));
	if (!rc)
		req_set_data(r, json_object_array_length(rows) == 1
					? jsonx_ref(json_object_array_get_idx(rows, 0))
					: jsonx_ref(rows));
	json_object_put(rows);
	return rc;
}
