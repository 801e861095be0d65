/* wf_version: see wf_version.h. */
#include "wf_version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"
#include "wf_int.h"

bool wf_version_type_known(const char *type)
{
	return util_streq(type, "custom-action") || util_streq(type, "webhook");
}

const char *const wf_version_fields[] = {
	"title", "enabled", "description", "type", "triggerTitle", "config",
	"sync", "options", NULL,
};

static const struct coll *coll(struct rctx *x, const char *name)
{
	return schema_coll(x->app->schema, name);
}

static json_object *by_id(const char *k, int64_t id)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, k, json_object_new_int64(id));
	return f;
}

static json_object *pick(json_object *values, const char *const *names)
{
	json_object *o = json_object_new_object();
	for (int i = 0; names[i]; i++)
		if (jsonx_has(values, names[i]))
			json_object_object_add(o, names[i],
					       jsonx_ref(jsonx_get(values, names[i])));
	return o;
}

int wf_version_bump(struct rctx *x)
{
	int rc = store_bump(x->app->st, "workflow_version");
	return rc ? rec_fail(x, rc, "%s", store_errmsg(x->app->st)) : 0;
}

/* The execution counters are counted when a workflow is read rather than
 * kept in its row: keeping them would add an UPDATE and a page write to
 * every trigger. */
static void count_one(struct rctx *x, json_object *row)
{
	const struct coll *ex = coll(x, "executions");
	json_object *f;
	int64_t n = 0, all = 0;

	if (!jsonx_has(row, "id") || !jsonx_has(row, "key"))
		return;
	f = json_object_new_object();
	json_object_object_add(f, "workflowId", jsonx_ref(jsonx_get(row, "id")));
	rec_count(x, ex, f, &n);
	json_object_put(f);
	f = json_object_new_object();
	json_object_object_add(f, "key", jsonx_ref(jsonx_get(row, "key")));
	rec_count(x, ex, f, &all);
	json_object_put(f);
	if (jsonx_has(row, "executed"))
		json_object_object_add(row, "executed", json_object_new_int64(n));
	if (jsonx_has(row, "allExecuted"))
		json_object_object_add(row, "allExecuted",
				       json_object_new_int64(all));
}

void wf_version_counts(struct rctx *x, json_object *rows)
{
	if (json_object_is_type(rows, json_type_object)) {
		count_one(x, rows);
		return;
	}
	for (size_t i = 0; json_object_is_type(rows, json_type_array) &&
			   i < json_object_array_length(rows);
	     i++)
		count_one(x, json_object_array_get_idx(rows, i));
}

json_object *wf_version_get(struct rctx *x, int64_t id)
{
	json_object *f = by_id("id", id), *row = NULL;
	struct rec_query q = {.filter = f};
	rec_get(x, coll(x, "workflows"), &q, &row);
	json_object_put(f);
	if (row)
		count_one(x, row);
	return row;
}

int wf_version_frozen(struct rctx *x, int64_t wid, const char *message)
{
	json_object *w = wf_version_get(x, wid);
	int64_t executed = 0;
	if (!w) {
		x->message = "workflow not found";
		return rec_fail(x, APP_ERECORD_NOT_FOUND,
				"workflow %lld does not exist", (long long)wid);
	}
	jsonx_get_int(w, "executed", &executed);
	json_object_put(w);
	if (executed > 0) {
		x->message = message;
		return rec_fail(x, APP_EWF_EXECUTED,
				"workflow %lld has executed; make a revision",
				(long long)wid);
	}
	return 0;
}

static void add_msg(json_object *msgs, const char *m)
{
	json_object_array_add(msgs, json_object_new_string(m));
}

/* config.collection, checked only when nothing else is wrong, as
 * NocoBase answers. */
static void check_collection(struct app *a, json_object *config,
			     const char *coll_name, json_object *msgs)
{
	char err[256];
	const char *name = wf_check_collection_name(coll_name, err, sizeof(err));
	if (!name) {
		add_msg(msgs, err);
	} else if (!schema_coll(a->schema, name)) {
		snprintf(err, sizeof(err),
			 "Collection \"%s\" does not exist in data source "
			 "\"main\"",
			 name);
		add_msg(msgs, err);
	} else if (name != coll_name) {
		json_object_object_add(config, "collection",
				       json_object_new_string(name));
	}
}

/* As NocoBase answers: a missing type reads as record-based, a bad one
 * stops the collection checks, and the collection is looked up only when
 * nothing else is wrong. */
json_object *wf_version_check_config(struct app *a, json_object *config)
{
	json_object *msgs = json_object_new_array(), *t, *ap;
	int64_t type = -1;

	if (!json_object_is_type(config, json_type_object)) {
		add_msg(msgs, "\"config\" must be of type object");
		return msgs;
	}
	t = jsonx_get(config, "type");
	const char *c = jsonx_get_str(config, "collection");
	bool has_coll = c && *c;
	if (!jsonx_has(config, "type")) {
		add_msg(msgs, "\"type\" is required");
		type = 1;
	} else if (!json_object_is_type(t, json_type_int) ||
		   !jsonx_to_int64(t, &type) || type < 0 || type > 2) {
		add_msg(msgs, "\"type\" must be one of [1, 2, 0]");
		type = 0;
	}
	if ((type == 1 || type == 2) && !has_coll)
		add_msg(msgs, "Collection is required for record-based context");
	if (has_coll && !json_object_array_length(msgs))
		check_collection(a, config, c, msgs);
	ap = jsonx_get(config, "appends");
	if (ap && !json_object_is_type(ap, json_type_array))
		add_msg(msgs, "\"appends\" must be an array");
	char over[256];
	if (wf_check_bounds(config, over, sizeof(over)))
		add_msg(msgs, over);
	return msgs;
}

/* A webhook's config: a secret, a scheme flowcgi checks, a tolerance in
 * seconds.  The secret may be the mask when a client sends back what it
 * read: the stored one stays (wf_version_keep_secret). */
json_object *wf_version_check_webhook(json_object *config)
{
	json_object *msgs = json_object_new_array(), *t;
	const char *scheme;
	double tol;

	if (!json_object_is_type(config, json_type_object)) {
		add_msg(msgs, "\"config\" must be of type object");
		return msgs;
	}
	if (!json_object_is_type(jsonx_get(config, "secret"), json_type_string) ||
	    !json_object_get_string_len(jsonx_get(config, "secret")))
		add_msg(msgs, "\"secret\" is required: a string (Standard "
			      "Webhooks: whsec_<base64>)");
	scheme = jsonx_get_str(config, "scheme");
	if (jsonx_has(config, "scheme") &&
	    (!scheme || (strcmp(scheme, "standard") && strcmp(scheme, "github"))))
		add_msg(msgs, "\"scheme\" must be one of [standard, github]");
	t = jsonx_get(config, "tolerance");
	if (jsonx_has(config, "tolerance") &&
	    (!json_object_is_type(t, json_type_int) || !jsonx_to_double(t, &tol) ||
	     tol <= 0))
		add_msg(msgs, "\"tolerance\" must be a positive integer (seconds)");
	return msgs;
}

void wf_version_mask_secret(json_object *rows)
{
	if (json_object_is_type(rows, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(rows); i++)
			wf_version_mask_secret(json_object_array_get_idx(rows, i));
		return;
	}
	json_object *c = jsonx_get(rows, "config");
	if (util_streq(jsonx_get_str(rows, "type"), "webhook") &&
	    jsonx_get_str(c, "secret"))
		json_object_object_add(c, "secret",
				       json_object_new_string(WF_VERSION_SECRET_MASK));
}

void wf_version_keep_secret(json_object *row, json_object *values)
{
	json_object *c = jsonx_get(values, "config");
	if (util_streq(jsonx_get_str(c, "secret"), WF_VERSION_SECRET_MASK))
		json_object_object_add(c, "secret",
				       jsonx_ref(jsonx_get(jsonx_get(row, "config"),
							   "secret")));
}

bool wf_version_key_valid(const char *k)
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

static int update_where(struct rctx *x, json_object *f, const char *values)
{
	json_object *v = json_tokener_parse(values), *out = NULL;
	int rc = rec_update(x, coll(x, "workflows"), f, v, &out);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	return rc;
}

/* Make row id the current version of its key: the previous current one
 * is disabled (reference §4). */
static int make_current(struct rctx *x, int64_t id, const char *key)
{
	json_object *f = json_object_new_object(), *ne = json_object_new_object();
	json_object_object_add(f, "key", json_object_new_string(key));
	json_object_object_add(ne, "$ne", json_object_new_int64(id));
	json_object_object_add(f, "id", ne);
	int rc = update_where(x, f, "{\"enabled\":false,\"current\":null}");
	if (!rc)
		rc = update_where(x, by_id("id", id), "{\"current\":true}");
	return rc;
}

int wf_version_create(struct rctx *x, json_object *values, int64_t *id)
{
	const char *key = jsonx_get_str(values, "key");
	json_object *kf = json_object_new_object(), *rec = NULL;
	int64_t n = 0;
	int rc;

	json_object_object_add(kf, "key", json_object_new_string(key));
	rc = rec_count(x, coll(x, "workflows"), kf, &n);
	json_object_put(kf);
	if (!n && !rc)
		json_object_object_add(values, "current",
				       json_object_new_boolean(1));
	if (!rc)
		rc = rec_create(x, coll(x, "workflows"), values, NULL, &rec);
	if (rc)
		return rc;
	jsonx_get_int(rec, "id", id);
	if (jsonx_get_bool(rec, "enabled", false))
		rc = make_current(x, *id, key);
	json_object_put(rec);
	return rc ? rc : wf_version_bump(x);
}

/* Whether config is row's, but for a webhook's secret: rotating a secret
 * changes no behaviour an execution recorded. */
static bool same_config(json_object *row, json_object *config)
{
	json_object *a, *b;
	bool same;
	if (!util_streq(jsonx_get_str(row, "type"), "webhook"))
		return jsonx_equal(config, jsonx_get(row, "config"));
	a = jsonx_copy(config);
	b = jsonx_copy(jsonx_get(row, "config"));
	if (json_object_is_type(a, json_type_object))
		json_object_object_del(a, "secret");
	if (json_object_is_type(b, json_type_object))
		json_object_object_del(b, "secret");
	same = jsonx_equal(a, b);
	json_object_put(a);
	json_object_put(b);
	return same;
}

int wf_version_may_update(struct rctx *x, json_object *row, json_object *v)
{
	int64_t id = 0, executed = 0;

	jsonx_get_int(row, "id", &id);
	jsonx_get_int(row, "executed", &executed);
	if (jsonx_has(v, "config") && executed > 0 &&
	    !same_config(row, jsonx_get(v, "config"))) {
		x->message = "config of executed workflow can not be updated";
		return rec_fail(x, APP_EWF_EXECUTED,
				"workflow %lld has executed %lld time(s); make "
				"a revision",
				(long long)id, (long long)executed);
	}
	return 0;
}

int wf_version_update(struct rctx *x, json_object *row, json_object *v)
{
	json_object *f, *out = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = wf_version_may_update(x, row, v)))
		return rc;
	jsonx_get_int(row, "id", &id);
	f = by_id("id", id);
	rc = rec_update(x, coll(x, "workflows"), f, v, &out);
	json_object_put(f);
	json_object_put(out);
	if (!rc && jsonx_get_bool(v, "enabled", false))
		rc = make_current(x, id, jsonx_get_str(row, "key"));
	return rc;
}

int wf_version_destroy(struct rctx *x, int64_t id)
{
	json_object *f = by_id("workflowId", id);
	int64_t n;
	int rc = rec_destroy(x, coll(x, "flow_nodes"), f, &n);
	json_object_put(f);
	if (!rc) {
		f = by_id("id", id);
		rc = rec_destroy(x, coll(x, "workflows"), f, &n);
		json_object_put(f);
	}
	return rc;
}

/* A copy of node n for version wid, without its links (new ref). */
static json_object *node_copy(json_object *n, int64_t wid)
{
	json_object *nv = json_object_new_object();
	char uid[12];
	util_uid(uid);
	json_object_object_add(nv, "key", json_object_new_string(uid));
	json_object_object_add(nv, "title", jsonx_ref(jsonx_get(n, "title")));
	json_object_object_add(nv, "type", jsonx_ref(jsonx_get(n, "type")));
	json_object_object_add(nv, "config", jsonx_ref(jsonx_get(n, "config")));
	json_object_object_add(nv, "branchIndex",
			       jsonx_ref(jsonx_get(n, "branchIndex")));
	json_object_object_add(nv, "workflowId", json_object_new_int64(wid));
	return nv;
}

/* Link the copy of node n as n is linked, through map (old id -> new). */
static int node_relink(struct rctx *x, json_object *n, json_object *map)
{
	json_object *up = jsonx_get(n, "upstreamId"),
		    *down = jsonx_get(n, "downstreamId");
	json_object *lv = json_object_new_object(), *nf = json_object_new_object(),
		    *out = NULL;
	json_object_object_add(lv, "upstreamId",
			       up ? jsonx_ref(jsonx_get(map, jsonx_str(up))) : NULL);
	json_object_object_add(lv, "downstreamId",
			       down ? jsonx_ref(jsonx_get(map, jsonx_str(down)))
				    : NULL);
	json_object_object_add(nf, "id",
			       jsonx_ref(jsonx_get(map, jsonx_str(jsonx_get(n, "id")))));
	int rc = rec_update(x, coll(x, "flow_nodes"), nf, lv, &out);
	json_object_put(nf);
	json_object_put(lv);
	json_object_put(out);
	return rc;
}

/* First the nodes, then their links through the id map. */
static int copy_nodes(struct rctx *x, int64_t from, int64_t to)
{
	json_object *f = by_id("workflowId", from), *nodes = NULL,
		    *map = json_object_new_object();
	struct rec_query q = {.filter = f};
	int rc = rec_find(x, coll(x, "flow_nodes"), &q, &nodes);
	size_t n = rc ? 0 : json_object_array_length(nodes);

	json_object_put(f);
	for (size_t i = 0; !rc && i < n; i++) {
		json_object *old = json_object_array_get_idx(nodes, i), *nr = NULL;
		json_object *nv = node_copy(old, to);
		rc = rec_create(x, coll(x, "flow_nodes"), nv, NULL, &nr);
		if (!rc)
			json_object_object_add(map, jsonx_str(jsonx_get(old, "id")),
					       jsonx_ref(jsonx_get(nr, "id")));
		json_object_put(nv);
		json_object_put(nr);
	}
	for (size_t i = 0; !rc && i < n; i++)
		rc = node_relink(x, json_object_array_get_idx(nodes, i), map);
	json_object_put(nodes);
	json_object_put(map);
	return rc;
}

int wf_version_copy(struct rctx *x, json_object *src, json_object *over,
		    int64_t *new_id)
{
	json_object *v = pick(src, wf_version_fields), *rec = NULL;
	int64_t sid = 0;
	int rc;

	jsonx_get_int(src, "id", &sid);
	jsonx_overlay(v, over);
	json_object_object_add(v, "key", jsonx_ref(jsonx_get(src, "key")));
	json_object_object_add(v, "enabled", json_object_new_boolean(0));
	json_object_object_add(v, "current", NULL);
	json_object_object_del(v, "executed");
	rc = rec_create(x, coll(x, "workflows"), v, NULL, &rec);
	if (!rc) {
		jsonx_get_int(rec, "id", new_id);
		rc = copy_nodes(x, sid, *new_id);
	}
	json_object_put(v);
	json_object_put(rec);
	return rc;
}
