/*
 * api_workflows: workflows (create/update/list/get/destroy/revision/
 * execute) and their nodes (workflows/<id>/nodes, flow_nodes).  Every
 * change bumps the workflow counter so that each process reloads its
 * compiled workflows.  A version that has executed is frozen
 * (contract §7): change it through a revision.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "err.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"
#include "wf.h"
#include "wf_nodes.h"

#define TRIGGER_TYPE "custom-action"

static const struct coll *C(struct req *r, const char *name)
{
	return schema_coll(r->app->schema, name);
}

static int bump(struct req *r)
{
	int rc = store_bump(r->app->st, "workflow_version");
	return rc ? req_fail(r, rc, "%s", store_errmsg(r->app->st)) : 0;
}

static json_object *by_id(const char *k, int64_t id)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, k, json_object_new_int64(id));
	return f;
}

/* The execution counters are counted when a workflow is read rather than
 * kept in its row: keeping them would add an UPDATE and a page write to
 * every trigger. */
void api_wf_counts(struct req *r, json_object *rows)
{
	struct rctx x;
	const struct coll *ex = C(r, "executions");
	if (json_object_is_type(rows, json_type_object)) {
		json_object *one = json_object_new_array();
		json_object_array_add(one, jsonx_ref(rows));
		api_wf_counts(r, one);
		json_object_put(one);
		return;
	}
	api_rctx(r, &x);
	for (size_t i = 0; json_object_is_type(rows, json_type_array) &&
			   i < json_object_array_length(rows);
	     i++) {
		json_object *row = json_object_array_get_idx(rows, i), *f;
		int64_t n = 0, all = 0;
		if (!jsonx_has(row, "id") || !jsonx_has(row, "key"))
			continue;
		f = json_object_new_object();
		json_object_object_add(f, "workflowId", jsonx_ref(jsonx_get(row, "id")));
		rec_count(&x, ex, f, &n);
		json_object_put(f);
		f = json_object_new_object();
		json_object_object_add(f, "key", jsonx_ref(jsonx_get(row, "key")));
		rec_count(&x, ex, f, &all);
		json_object_put(f);
		if (jsonx_has(row, "executed"))
			json_object_object_add(row, "executed", json_object_new_int64(n));
		if (jsonx_has(row, "allExecuted"))
			json_object_object_add(row, "allExecuted",
					       json_object_new_int64(all));
	}
}

static json_object *load_one(struct req *r, const char *coll, int64_t id)
{
	struct rctx x;
	json_object *f = by_id("id", id), *row = NULL;
	struct rec_query q = {.filter = f};
	api_rctx(r, &x);
	rec_get(&x, C(r, coll), &q, &row);
	json_object_put(f);
	if (row && !strcmp(coll, "workflows"))
		api_wf_counts(r, row);
	return row;
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

/* Check a custom-action trigger config and drop a "main:" prefix from
 * its collection (contract §7). */
static int check_trigger_config(struct req *r, json_object *config)
{
	json_object *msgs = json_object_new_array(), *t;
	int64_t type = -1;
	int rc = 0;

	if (!json_object_is_type(config, json_type_object)) {
		json_object_array_add(msgs, json_object_new_string(
						    "\"config\" must be of type object"));
		goto out;
	}
	/* As NocoBase answers: a missing type reads as record-based, a bad
	 * one stops the collection checks, and the collection is looked up
	 * only when nothing else is wrong. */
	t = jsonx_get(config, "type");
	const char *coll = jsonx_get_str(config, "collection");
	bool has_coll = coll && *coll;
	if (!jsonx_has(config, "type")) {
		json_object_array_add(msgs,
				      json_object_new_string("\"type\" is required"));
		type = 1;
	} else if (!json_object_is_type(t, json_type_int) ||
		   !jsonx_to_int64(t, &type) || type < 0 || type > 2) {
		json_object_array_add(msgs, json_object_new_string(
						    "\"type\" must be one of [1, 2, 0]"));
		type = 0;
	}
	if ((type == 1 || type == 2) && !has_coll)
		json_object_array_add(
			msgs, json_object_new_string(
				      "Collection is required for record-based context"));
	if (has_coll && !json_object_array_length(msgs)) {
		char err[256];
		const char *name = wf_collection_name(coll, err, sizeof(err));
		if (!name) {
			json_object_array_add(msgs, json_object_new_string(err));
		} else if (!schema_coll(r->app->schema, name)) {
			snprintf(err, sizeof(err),
				 "Collection \"%s\" does not exist in data source "
				 "\"main\"",
				 name);
			json_object_array_add(msgs, json_object_new_string(err));
		} else if (name != coll) {
			json_object_object_add(config, "collection",
					       json_object_new_string(name));
		}
	}
	json_object *ap = jsonx_get(config, "appends");
	if (ap && !json_object_is_type(ap, json_type_array))
		json_object_array_add(msgs, json_object_new_string(
						    "\"appends\" must be an array"));
out:
	if (json_object_array_length(msgs))
		rc = config_errors(r, msgs);
	json_object_put(msgs);
	return rc;
}

static bool key_valid(const char *k)
{
	if (!k || !*k || strlen(k) > 64)
		return false;
	for (const char *p = k; *p; p++) {
		bool w = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '_';
		if (!w && !(p > k && *p == '-'))
			return false;
	}
	return true;
}

/* Make row id the current version of its key: the previous current one
 * is disabled (reference §4). */
static int make_current(struct req *r, int64_t id, const char *key)
{
	struct rctx x;
	json_object *f, *v, *out = NULL;
	int rc;
	api_rctx(r, &x);
	f = json_object_new_object();
	json_object_object_add(f, "key", json_object_new_string(key));
	json_object *ne = json_object_new_object();
	json_object_object_add(ne, "$ne", json_object_new_int64(id));
	json_object_object_add(f, "id", ne);
	v = json_tokener_parse("{\"enabled\":false,\"current\":null}");
	rc = rec_update(&x, C(r, "workflows"), f, v, &out);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	out = NULL;
	if (!rc) {
		f = by_id("id", id);
		v = json_tokener_parse("{\"current\":true}");
		rc = rec_update(&x, C(r, "workflows"), f, v, &out);
		json_object_put(f);
		json_object_put(v);
		json_object_put(out);
	}
	return api_rfail(r, &x, rc);
}

static const char *const wf_fields[] = {
	"title", "enabled", "description", "type", "triggerTitle", "config",
	"sync", "options", NULL,
};

static json_object *pick(json_object *values, const char *const *names)
{
	json_object *o = json_object_new_object();
	for (int i = 0; names[i]; i++)
		if (jsonx_has(values, names[i]))
			json_object_object_add(o, names[i],
					       jsonx_ref(jsonx_get(values, names[i])));
	return o;
}

static int wf_create(struct req *r)
{
	json_object *v, *rec = NULL;
	const char *type = jsonx_get_str(r->values, "type");
	const char *key = jsonx_get_str(r->values, "key");
	char uid[12];
	struct rctx x;
	int rc;

	if (!json_object_is_type(r->values, json_type_object))
		return req_fail(r, APP_EVALIDATION, "values must be an object");
	if (!type || !*type)
		return req_fail_msg(r, APP_EVALIDATION, "Trigger type is required",
				    "the workflow has no \"type\"");
	if (strcmp(type, TRIGGER_TYPE))
		return req_fail_msg(r, APP_EVALIDATION,
				    arena_printf(r->arena,
						 "Trigger type \"%s\" is not "
						 "registered",
						 type),
				    "flowcgi runs custom-action workflows");
	v = pick(r->values, wf_fields);
	if (jsonx_has(v, "config") &&
	    (rc = check_trigger_config(r, jsonx_get(v, "config")))) {
		json_object_put(v);
		return rc;
	}
	if (key && !key_valid(key)) {
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
	/* A new key's first version is its current one. */
	json_object *kf = json_object_new_object();
	int64_t n = 0;
	json_object_object_add(kf, "key", json_object_new_string(key));
	rc = rec_count(&x, C(r, "workflows"), kf, &n);
	json_object_put(kf);
	if (!n && !rc)
		json_object_object_add(v, "current", json_object_new_boolean(1));
	if (!rc)
		rc = rec_create(&x, C(r, "workflows"), v, NULL, &rec);
	json_object_put(v);
	if (rc)
		return api_rfail(r, &x, rc);
	int64_t id = 0;
	jsonx_get_int(rec, "id", &id);
	if (jsonx_get_bool(rec, "enabled", false) && (rc = make_current(r, id, key))) {
		json_object_put(rec);
		return rc;
	}
	json_object_put(rec);
	if ((rc = bump(r)))
		return rc;
	req_set_data(r, load_one(r, "workflows", id));
	return 0;
}

static int target_rows(struct req *r, const char *coll, json_object **rows)
{
	struct rctx x;
	json_object *tk = api_tk(r), *f = NULL, *qf = NULL;
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
					       r->action),
				  "neither filter nor filterByTk was given");
		goto out;
	}
	if (tk && (rc = rec_tk_filter(&x, C(r, coll), tk, &f))) {
		api_rfail(r, &x, rc);
		goto out;
	}
	json_object *all = rec_and(f, qf);
	struct rec_query q = {.filter = all};
	rc = api_rfail(r, &x, rec_find(&x, C(r, coll), &q, rows));
	json_object_put(all);
out:
	json_object_put(tk);
	json_object_put(f);
	json_object_put(qf);
	return rc;
}

static int wf_update(struct req *r)
{
	json_object *rows = NULL, *v, *all = json_object_new_array();
	struct rctx x;
	int rc;

	if (!json_object_is_type(r->values, json_type_object))
		return req_fail(r, APP_EVALIDATION, "values must be an object");
	if ((rc = target_rows(r, "workflows", &rows)))
		return rc;
	api_wf_counts(r, rows);
	v = pick(r->values, wf_fields);
	json_object_object_del(v, "type");
	api_rctx(r, &x);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i), *out = NULL;
		int64_t id = 0, executed = 0;
		jsonx_get_int(row, "id", &id);
		jsonx_get_int(row, "executed", &executed);
		if (jsonx_has(v, "config")) {
			if (executed > 0 &&
			    !jsonx_equal(jsonx_get(v, "config"), jsonx_get(row, "config"))) {
				rc = req_fail_msg(r, APP_EWF_EXECUTED,
						  "config of executed workflow can "
						  "not be updated",
						  "workflow %lld has executed %lld "
						  "time(s); make a revision",
						  (long long)id, (long long)executed);
				break;
			}
			if ((rc = check_trigger_config(r, jsonx_get(v, "config"))))
				break;
		}
		json_object *f = by_id("id", id);
		rc = rec_update(&x, C(r, "workflows"), f, v, &out);
		json_object_put(f);
		json_object_put(out);
		if (rc) {
			api_rfail(r, &x, rc);
			break;
		}
		if (jsonx_get_bool(v, "enabled", false) &&
		    (rc = make_current(r, id, jsonx_get_str(row, "key"))))
			break;
		json_object_array_add(all, json_object_new_int64(id));
	}
	json_object_put(v);
	json_object_put(rows);
	if (!rc)
		rc = bump(r);
	if (!rc) {
		json_object *f = json_object_new_object(), *in = json_object_new_object(),
			    *out = NULL;
		json_object_object_add(in, "$in", jsonx_ref(all));
		json_object_object_add(f, "id", in);
		struct rec_query q = {.filter = f};
		rc = api_rfail(r, &x, rec_find(&x, C(r, "workflows"), &q, &out));
		json_object_put(f);
		if (!rc) {
			api_wf_counts(r, out);
			req_set_data(r, out);
		}
	}
	json_object_put(all);
	return rc;
}

static int delete_nodes_of(struct req *r, struct rctx *x, int64_t wid)
{
	json_object *f = by_id("workflowId", wid);
	int64_t n;
	int rc = rec_destroy(x, C(r, "flow_nodes"), f, &n);
	json_object_put(f);
	return rc;
}

static int wf_destroy(struct req *r)
{
	json_object *rows = NULL;
	struct rctx x;
	int64_t n = 0, total = 0;
	int rc;
	if ((rc = target_rows(r, "workflows", &rows)))
		return rc;
	api_rctx(r, &x);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		int64_t id = 0;
		jsonx_get_int(json_object_array_get_idx(rows, i), "id", &id);
		json_object *f = by_id("id", id);
		rc = delete_nodes_of(r, &x, id);
		if (!rc)
			rc = rec_destroy(&x, C(r, "workflows"), f, &n);
		total += n;
		json_object_put(f);
	}
	json_object_put(rows);
	if (rc)
		return api_rfail(r, &x, rc);
	if ((rc = bump(r)))
		return rc;
	req_set_data(r, json_object_new_int64(total));
	return 0;
}

/* Copy a version and its nodes into a new, disabled version of the same
 * key; *new_id gets its id. */
int api_wf_copy_version(struct req *r, json_object *src, json_object *over,
			int64_t *new_id)
{
	struct rctx x;
	json_object *v = pick(src, wf_fields), *rec = NULL, *nodes = NULL,
		    *map = json_object_new_object();
	int64_t sid = 0;
	int rc;

	api_rctx(r, &x);
	jsonx_get_int(src, "id", &sid);
	jsonx_overlay(v, over);
	json_object_object_add(v, "key", jsonx_ref(jsonx_get(src, "key")));
	json_object_object_add(v, "enabled", json_object_new_boolean(0));
	json_object_object_add(v, "current", NULL);
	json_object_object_del(v, "executed");
	rc = rec_create(&x, C(r, "workflows"), v, NULL, &rec);
	if (rc)
		goto out;
	jsonx_get_int(rec, "id", new_id);
	json_object *f = by_id("workflowId", sid);
	struct rec_query q = {.filter = f};
	rc = rec_find(&x, C(r, "flow_nodes"), &q, &nodes);
	json_object_put(f);
	/* First the nodes, then their links through the id map. */
	for (size_t i = 0; !rc && i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *nv, *nr = NULL;
		char uid[12];
		nv = json_object_new_object();
		util_uid(uid);
		json_object_object_add(nv, "key", json_object_new_string(uid));
		json_object_object_add(nv, "title", jsonx_ref(jsonx_get(n, "title")));
		json_object_object_add(nv, "type", jsonx_ref(jsonx_get(n, "type")));
		json_object_object_add(nv, "config", jsonx_ref(jsonx_get(n, "config")));
		json_object_object_add(nv, "branchIndex",
				       jsonx_ref(jsonx_get(n, "branchIndex")));
		json_object_object_add(nv, "workflowId", json_object_new_int64(*new_id));
		rc = rec_create(&x, C(r, "flow_nodes"), nv, NULL, &nr);
		if (!rc)
			json_object_object_add(map, jsonx_str(jsonx_get(n, "id")),
					       jsonx_ref(jsonx_get(nr, "id")));
		json_object_put(nv);
		json_object_put(nr);
	}
	for (size_t i = 0; !rc && i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *lv, *out = NULL;
		json_object *up = jsonx_get(n, "upstreamId"), *down = jsonx_get(n, "downstreamId");
		lv = json_object_new_object();
		json_object_object_add(lv, "upstreamId",
				       up ? jsonx_ref(jsonx_get(map, jsonx_str(up))) : NULL);
		json_object_object_add(lv, "downstreamId",
				       down ? jsonx_ref(jsonx_get(map, jsonx_str(down))) : NULL);
		json_object *nf = json_object_new_object();
		json_object_object_add(nf, "id",
				       jsonx_ref(jsonx_get(map, jsonx_str(jsonx_get(n, "id")))));
		rc = rec_update(&x, C(r, "flow_nodes"), nf, lv, &out);
		json_object_put(nf);
		json_object_put(lv);
		json_object_put(out);
	}
out:
	json_object_put(v);
	json_object_put(rec);
	json_object_put(nodes);
	json_object_put(map);
	return api_rfail(r, &x, rc);
}

static int wf_revision(struct req *r)
{
	json_object *rows = NULL, *over;
	int64_t id = 0;
	int rc;
	if ((rc = target_rows(r, "workflows", &rows)))
		return rc;
	if (!json_object_array_length(rows)) {
		json_object_put(rows);
		return req_fail_msg(r, APP_ERECORD_NOT_FOUND, "workflow not found",
				    "no workflow matches filterByTk");
	}
	over = json_object_is_type(r->values, json_type_object)
		       ? pick(r->values, wf_fields)
		       : json_object_new_object();
	json_object_object_del(over, "enabled");
	json_object_object_del(over, "type");
	rc = api_wf_copy_version(r, json_object_array_get_idx(rows, 0), over, &id);
	json_object_put(over);
	json_object_put(rows);
	if (!rc)
		rc = bump(r);
	if (!rc)
		req_set_data(r, load_one(r, "workflows", id));
	return rc;
}


int api_workflows(struct req *r)
{
	const char *a = r->action;
	if (r->parent) {
		if (!strcmp(r->resource, "nodes") && !strcmp(a, "create"))
			return api_nodes(r);
		return api_records(r, NULL, NULL);
	}
	if (!strcmp(a, "create"))
		return wf_create(r);
	if (!strcmp(a, "update"))
		return wf_update(r);
	if (!strcmp(a, "destroy"))
		return wf_destroy(r);
	if (!strcmp(a, "revision"))
		return wf_revision(r);
	if (!strcmp(a, "trigger"))
		return api_trigger(r, NULL, NULL, NULL);
	if (!strcmp(a, "execute"))
		return api_execute(r);
	if (!strcmp(a, "list") || !strcmp(a, "get")) {
		int rc = api_records(r, C(r, "workflows"), NULL);
		if (!rc)
			api_wf_counts(r, r->data);
		return rc;
	}
	return req_fail(r, APP_ENOT_FOUND,
			"action \"%s\" does not exist on workflows", a);
}

/* ---- nodes ---- */

static int frozen(struct req *r, int64_t wid, const char *message)
{
	json_object *w = load_one(r, "workflows", wid);
	int64_t executed = 0;
	if (!w)
		return req_fail_msg(r, APP_ERECORD_NOT_FOUND, "workflow not found",
				    "workflow %lld does not exist", (long long)wid);
	jsonx_get_int(w, "executed", &executed);
	json_object_put(w);
	if (executed > 0)
		return req_fail_msg(r, APP_EWF_EXECUTED, message,
				    "workflow %lld has executed; make a revision",
				    (long long)wid);
	return 0;
}

static int check_node_config(struct req *r, const char *type,
			     json_object *config)
{
	const struct wf_node_type *t = wf_node_type(type ? type : "");
	char err[512];
	if (!type || !*type)
		return req_fail_msg(r, APP_EVALIDATION, "Node type is required",
				    "the node has no \"type\"");
	if (!t)
		return req_fail_msg(r, APP_EVALIDATION,
				    arena_printf(r->arena,
						 "Node type \"%s\" is not "
						 "registered",
						 type ? type : ""),
				    "unknown node type");
	if (config && !json_object_is_type(config, json_type_object))
		return req_fail_msg(r, APP_EVALIDATION,
				    "\"config\" must be of type object",
				    "node config is not an object");
	if (t->validate(r->app, config, err, sizeof(err)))
		return req_fail_msg(r, APP_EVALIDATION, err,
				    "invalid %s node configuration", type);
	return 0;
}

static int set_fields(struct req *r, struct rctx *x, int64_t id,
		      json_object *v)
{
	json_object *f = by_id("id", id), *out = NULL;
	int rc = rec_update(x, C(r, "flow_nodes"), f, v, &out);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	return rc;
}

static json_object *kv(const char *k, json_object *v)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, k, v);
	return o;
}

static json_object *node_where(int64_t wid, const char *k, json_object *v,
			       bool branch_null)
{
	json_object *f = by_id("workflowId", wid);
	json_object_object_add(f, k, v);
	if (branch_null)
		json_object_object_add(f, "branchIndex", NULL);
	return f;
}

static int node_create(struct req *r)
{
	struct rctx x;
	json_object *v = r->values, *rec = NULL, *nv, *other = NULL;
	int64_t wid = 0, up = 0, id = 0, bi = 0;
	bool has_up, has_bi;
	char uid[12];
	int rc;

	if (!json_object_is_type(v, json_type_object))
		return req_fail(r, APP_EVALIDATION, "values must be an object");
	if (r->parent) {
		if (util_parse_int64(r->parent_index, &wid))
			return req_fail(r, APP_EID, "workflow id must be an integer");
	} else if (!jsonx_get_int(v, "workflowId", &wid)) {
		return req_fail(r, APP_EVALIDATION, "workflowId is required");
	}
	if ((rc = frozen(r, wid, "Node could not be created in executed workflow")))
		return rc;
	const char *type = jsonx_get_str(v, "type");
	json_object *config = jsonx_get(v, "config");
	if ((rc = check_node_config(r, type, config)))
		return rc;
	has_up = jsonx_get_int(v, "upstreamId", &up) && up;
	has_bi = jsonx_get_int(v, "branchIndex", &bi);
	api_rctx(r, &x);
	if (has_up) {
		json_object *u = load_one(r, "flow_nodes", up);
		int64_t uw = 0;
		jsonx_get_int(u, "workflowId", &uw);
		json_object_put(u);
		if (!u || uw != wid)
			return req_fail(r, APP_EVALIDATION,
					"upstream node %lld is not in workflow %lld",
					(long long)up, (long long)wid);
	}
	nv = json_object_new_object();
	util_uid(uid);
	json_object_object_add(nv, "key", json_object_new_string(uid));
	json_object_object_add(nv, "title", jsonx_ref(jsonx_get(v, "title")));
	json_object_object_add(nv, "type", json_object_new_string(type));
	json_object_object_add(nv, "config",
			       config ? jsonx_ref(config) : json_object_new_object());
	json_object_object_add(nv, "workflowId", json_object_new_int64(wid));
	json_object_object_add(nv, "upstreamId",
			       has_up ? json_object_new_int64(up) : NULL);
	json_object_object_add(nv, "branchIndex",
			       has_up && has_bi ? json_object_new_int64(bi) : NULL);
	rc = rec_create(&x, C(r, "flow_nodes"), nv, NULL, &rec);
	json_object_put(nv);
	if (rc)
		return api_rfail(r, &x, rc);
	jsonx_get_int(rec, "id", &id);
	json_object_put(rec);

	/* The node that must now follow the new one (contract §7). */
	struct rec_query q = {0};
	json_object *f;
	if (!has_up) {
		f = node_where(wid, "upstreamId", NULL, true);
		json_object *ne = kv("$ne", json_object_new_int64(id));
		json_object_object_add(f, "id", ne);
	} else if (has_bi) {
		f = node_where(wid, "upstreamId", json_object_new_int64(up), false);
		json_object_object_add(f, "branchIndex", json_object_new_int64(bi));
		json_object_object_add(f, "id", kv("$ne", json_object_new_int64(id)));
	} else {
		json_object *u = load_one(r, "flow_nodes", up);
		int64_t d = 0;
		bool hd = jsonx_get_int(u, "downstreamId", &d) && d;
		json_object_put(u);
		f = by_id("id", hd ? d : -1);
		rc = set_fields(r, &x, up, kv("downstreamId", json_object_new_int64(id)));
	}
	q.filter = f;
	if (!rc)
		rc = rec_get(&x, C(r, "flow_nodes"), &q, &other);
	json_object_put(f);
	if (!rc && other) {
		int64_t oid = 0;
		jsonx_get_int(other, "id", &oid);
		json_object *ov = json_object_new_object();
		json_object_object_add(ov, "upstreamId", json_object_new_int64(id));
		json_object_object_add(ov, "branchIndex", NULL);
		rc = set_fields(r, &x, oid, ov);
		if (!rc)
			rc = set_fields(r, &x, id,
					kv("downstreamId", json_object_new_int64(oid)));
	}
	json_object_put(other);
	if (rc)
		return api_rfail(r, &x, rc);
	if ((rc = bump(r)))
		return rc;
	req_set_data(r, load_one(r, "flow_nodes", id));
	return 0;
}

/* Delete node id and every node of its branches. */
static int delete_subtree(struct req *r, struct rctx *x, int64_t wid,
			  int64_t id, int depth)
{
	json_object *f = node_where(wid, "upstreamId", json_object_new_int64(id),
				    false), *kids = NULL;
	struct rec_query q = {.filter = f};
	int64_t n;
	int rc;
	if (depth > 200)
		return rec_fail(x, APP_EVALIDATION, "node graph too deep");
	rc = rec_find(x, C(r, "flow_nodes"), &q, &kids);
	json_object_put(f);
	for (size_t i = 0; !rc && i < json_object_array_length(kids); i++) {
		int64_t kid = 0;
		jsonx_get_int(json_object_array_get_idx(kids, i), "id", &kid);
		rc = delete_subtree(r, x, wid, kid, depth + 1);
	}
	json_object_put(kids);
	if (!rc) {
		f = by_id("id", id);
		rc = rec_destroy(x, C(r, "flow_nodes"), f, &n);
		json_object_put(f);
	}
	return rc;
}

static int node_destroy(struct req *r, json_object *node)
{
	struct rctx x;
	int64_t id = 0, wid = 0, up = 0, down = 0, bi = 0;
	bool has_up, has_down, has_bi;
	int rc;

	api_rctx(r, &x);
	jsonx_get_int(node, "id", &id);
	jsonx_get_int(node, "workflowId", &wid);
	has_up = jsonx_get_int(node, "upstreamId", &up) && up;
	has_down = jsonx_get_int(node, "downstreamId", &down) && down;
	has_bi = jsonx_get_int(node, "branchIndex", &bi);
	if ((rc = frozen(r, wid, "Nodes in executed workflow could not be deleted")))
		return rc;
	rc = 0;
	if (has_down) {
		/* The downstream takes the deleted node's place. */
		json_object *dv = json_object_new_object();
		json_object_object_add(dv, "upstreamId",
				       has_up ? json_object_new_int64(up) : NULL);
		json_object_object_add(dv, "branchIndex",
				       has_bi ? json_object_new_int64(bi) : NULL);
		rc = set_fields(r, &x, down, dv);
	}
	if (!rc && has_up && !has_bi)
		rc = set_fields(r, &x, up,
				kv("downstreamId",
				   has_down ? json_object_new_int64(down) : NULL));
	/* Detach the downstream before deleting the subtree of branches. */
	if (!rc && has_down)
		rc = set_fields(r, &x, id, kv("downstreamId", NULL));
	if (!rc)
		rc = delete_subtree(r, &x, wid, id, 0);
	return api_rfail(r, &x, rc);
}

int api_nodes(struct req *r)
{
	const char *a = r->action;
	json_object *rows = NULL;
	int rc;

	if (!strcmp(a, "create"))
		return node_create(r);
	if (!strcmp(a, "list") || !strcmp(a, "get"))
		return api_records(r, C(r, "flow_nodes"), NULL);
	if (strcmp(a, "update") && strcmp(a, "destroy"))
		return req_fail(r, APP_ENOT_FOUND,
				"action \"%s\" does not exist on flow_nodes", a);
	if ((rc = target_rows(r, "flow_nodes", &rows)))
		return rc;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *n = json_object_array_get_idx(rows, i);
		int64_t id = 0, wid = 0;
		jsonx_get_int(n, "id", &id);
		jsonx_get_int(n, "workflowId", &wid);
		if (!strcmp(a, "destroy")) {
			rc = node_destroy(r, n);
			continue;
		}
		if ((rc = frozen(r, wid, "Nodes in executed workflow could not "
					 "be reconfigured")))
			break;
		json_object *v = pick(r->values, (const char *const[]){
						"title", "config", NULL});
		if (jsonx_has(v, "config") &&
		    (rc = check_node_config(r, jsonx_get_str(n, "type"),
					    jsonx_get(v, "config")))) {
			json_object_put(v);
			break;
		}
		struct rctx x;
		api_rctx(r, &x);
		rc = api_rfail(r, &x, set_fields(r, &x, id, v));
	}
	if (!rc)
		rc = bump(r);
	if (!rc) {
		if (!strcmp(a, "destroy")) {
			req_set_data(r, json_object_array_length(rows) == 1
						? jsonx_ref(json_object_array_get_idx(rows, 0))
						: jsonx_ref(rows));
		} else {
			json_object *out = json_object_new_array();
			for (size_t i = 0; i < json_object_array_length(rows); i++) {
				int64_t id = 0;
				jsonx_get_int(json_object_array_get_idx(rows, i), "id", &id);
				json_object_array_add(out, load_one(r, "flow_nodes", id));
			}
			req_set_data(r, out);
		}
	}
	json_object_put(rows);
	return rc;
}
