/* wf_graph: see wf_graph.h. */
#include "wf_graph.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"
#include "wf_int.h"
#include "wf_node.h"
#include "wf_version.h"

/* Branches nest; a graph deeper than this is refused, not recursed. */
#define GRAPH_MAX_DEPTH 200

static const struct coll *nodes_coll(struct rctx *x)
{
	return schema_coll(x->app->schema, "flow_nodes");
}

static json_object *kv(const char *k, json_object *v)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, k, v);
	return o;
}

static json_object *by_id(int64_t id)
{
	return kv("id", json_object_new_int64(id));
}

json_object *wf_graph_get(struct rctx *x, int64_t id)
{
	json_object *f = by_id(id), *row = NULL;
	struct rec_query q = {.filter = f};
	rec_get(x, nodes_coll(x), &q, &row);
	json_object_put(f);
	return row;
}

/* Set fields v (taken) of node id. */
static int set_fields(struct rctx *x, int64_t id, json_object *v)
{
	json_object *f = by_id(id), *out = NULL;
	int rc = rec_update(x, nodes_coll(x), f, v, &out);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	return rc;
}

int wf_graph_check(struct rctx *x, const char *type, json_object *config)
{
	const struct wf_node_type *t = wf_node_type(type);
	char err[256];

	if (!type || !*type) {
		x->message = "Node type is required";
		return rec_fail(x, APP_EVALIDATION, "the node has no \"type\"");
	}
	if (!t) {
		snprintf(x->msgbuf, sizeof(x->msgbuf),
			 "Node type \"%s\" is not registered", type);
		x->message = x->msgbuf;
		return rec_fail(x, APP_EVALIDATION, "unknown node type");
	}
	if (config && !json_object_is_type(config, json_type_object)) {
		x->message = "\"config\" must be of type object";
		return rec_fail(x, APP_EVALIDATION, "node config is not an object");
	}
	int over = config ? wf_check_bounds(config, err, sizeof(err)) : 0;
	if (over) {
		snprintf(x->msgbuf, sizeof(x->msgbuf), "%s", err);
		x->message = x->msgbuf;
		return rec_fail(x, over, "the %s node's config is over a limit: "
				"%s", type, err);
	}
	if (t->validate(x->app, config, err, sizeof(err))) {
		snprintf(x->msgbuf, sizeof(x->msgbuf), "%s", err);
		x->message = x->msgbuf;
		return rec_fail(x, APP_EVALIDATION,
				"invalid %s node configuration", type);
	}
	return 0;
}

/* The new row of a node (new ref). */
static json_object *new_node(int64_t wid, json_object *v, bool has_up,
			     int64_t up, bool has_bi, int64_t bi)
{
	json_object *nv = json_object_new_object(), *config = jsonx_get(v, "config");
	char uid[12];
	util_uid(uid);
	json_object_object_add(nv, "key", json_object_new_string(uid));
	json_object_object_add(nv, "title", jsonx_ref(jsonx_get(v, "title")));
	json_object_object_add(nv, "type", jsonx_ref(jsonx_get(v, "type")));
	json_object_object_add(nv, "config",
			       config ? jsonx_ref(config) : json_object_new_object());
	json_object_object_add(nv, "workflowId", json_object_new_int64(wid));
	json_object_object_add(nv, "upstreamId",
			       has_up ? json_object_new_int64(up) : NULL);
	json_object_object_add(nv, "branchIndex",
			       has_up && has_bi ? json_object_new_int64(bi) : NULL);
	return nv;
}

/* The filter of the node that must follow new node id: the old head, the
 * old first node of branch bi of up, or up's old downstream (whose link
 * from up moves to id now). */
static int displaced_filter(struct rctx *x, int64_t wid, int64_t id,
			    bool has_up, int64_t up, bool has_bi, int64_t bi,
			    json_object **f)
{
	if (!has_up || has_bi) {
		*f = kv("workflowId", json_object_new_int64(wid));
		json_object_object_add(*f, "upstreamId",
				       has_up ? json_object_new_int64(up) : NULL);
		json_object_object_add(*f, "branchIndex",
				       has_up && has_bi ? json_object_new_int64(bi)
							: NULL);
		json_object_object_add(*f, "id",
				       kv("$ne", json_object_new_int64(id)));
		return 0;
	}
	json_object *u = wf_graph_get(x, up);
	int64_t d = 0;
	bool hd = jsonx_get_int(u, "downstreamId", &d) && d;
	json_object_put(u);
	*f = by_id(hd ? d : -1);
	return set_fields(x, up, kv("downstreamId", json_object_new_int64(id)));
}

/* The displaced node moves behind new node id (contract §7). */
static int push_behind(struct rctx *x, int64_t id, json_object *f)
{
	struct rec_query q = {.filter = f};
	json_object *other = NULL;
	int64_t oid = 0;
	int rc = rec_get(x, nodes_coll(x), &q, &other);

	if (rc || !other)
		return rc;
	jsonx_get_int(other, "id", &oid);
	json_object_put(other);
	json_object *ov = kv("upstreamId", json_object_new_int64(id));
	json_object_object_add(ov, "branchIndex", NULL);
	rc = set_fields(x, oid, ov);
	if (!rc)
		rc = set_fields(x, id, kv("downstreamId", json_object_new_int64(oid)));
	return rc;
}

int wf_graph_insert(struct rctx *x, int64_t wid, json_object *v, int64_t *id)
{
	int64_t up = 0, bi = 0;
	bool has_up, has_bi;
	json_object *nv, *rec = NULL, *f = NULL;
	int rc;

	if ((rc = wf_version_frozen(x, wid, "Node could not be created in "
					    "executed workflow")) ||
	    (rc = wf_graph_check(x, jsonx_get_str(v, "type"),
				 jsonx_get(v, "config"))))
		return rc;
	has_up = jsonx_get_int(v, "upstreamId", &up) && up;
	has_bi = jsonx_get_int(v, "branchIndex", &bi);
	if (has_up) {
		json_object *u = wf_graph_get(x, up);
		int64_t uw = 0;
		jsonx_get_int(u, "workflowId", &uw);
		json_object_put(u);
		if (!u || uw != wid)
			return rec_fail(x, APP_EVALIDATION,
					"upstream node %lld is not in workflow %lld",
					(long long)up, (long long)wid);
	}
	nv = new_node(wid, v, has_up, up, has_bi, bi);
	rc = rec_create(x, nodes_coll(x), nv, NULL, &rec);
	json_object_put(nv);
	if (rc)
		return rc;
	jsonx_get_int(rec, "id", id);
	json_object_put(rec);
	rc = displaced_filter(x, wid, *id, has_up, up, has_bi, bi, &f);
	if (!rc)
		rc = push_behind(x, *id, f);
	json_object_put(f);
	return rc ? rc : wf_version_bump(x);
}

int wf_graph_update(struct rctx *x, json_object *node, json_object *values)
{
	int64_t id = 0, wid = 0;
	json_object *v;
	int rc;

	jsonx_get_int(node, "id", &id);
	jsonx_get_int(node, "workflowId", &wid);
	if ((rc = wf_version_frozen(x, wid, "Nodes in executed workflow could "
					    "not be reconfigured")))
		return rc;
	v = json_object_new_object();
	if (jsonx_has(values, "title"))
		json_object_object_add(v, "title",
				       jsonx_ref(jsonx_get(values, "title")));
	if (jsonx_has(values, "config")) {
		json_object_object_add(v, "config",
				       jsonx_ref(jsonx_get(values, "config")));
		rc = wf_graph_check(x, jsonx_get_str(node, "type"),
				    jsonx_get(values, "config"));
	}
	if (rc) {
		json_object_put(v);
		return rc;
	}
	rc = set_fields(x, id, v);
	return rc ? rc : wf_version_bump(x);
}

/* Delete node id and every node of its branches. */
static int delete_subtree(struct rctx *x, int64_t wid, int64_t id, int depth)
{
	json_object *f = kv("workflowId", json_object_new_int64(wid)), *kids = NULL;
	struct rec_query q = {.filter = f};
	int64_t n;
	int rc;

	if (depth > GRAPH_MAX_DEPTH) {
		json_object_put(f);
		return rec_fail(x, APP_EVALIDATION, "node graph too deep");
	}
	json_object_object_add(f, "upstreamId", json_object_new_int64(id));
	rc = rec_find(x, nodes_coll(x), &q, &kids);
	json_object_put(f);
	for (size_t i = 0; !rc && i < json_object_array_length(kids); i++) {
		int64_t kid = 0;
		jsonx_get_int(json_object_array_get_idx(kids, i), "id", &kid);
		rc = delete_subtree(x, wid, kid, depth + 1);
	}
	json_object_put(kids);
	if (!rc) {
		f = by_id(id);
		rc = rec_destroy(x, nodes_coll(x), f, &n);
		json_object_put(f);
	}
	return rc;
}

int wf_graph_remove(struct rctx *x, json_object *node)
{
	int64_t id = 0, wid = 0, up = 0, down = 0, bi = 0;
	bool has_up, has_down, has_bi;
	int rc;

	jsonx_get_int(node, "id", &id);
	jsonx_get_int(node, "workflowId", &wid);
	has_up = jsonx_get_int(node, "upstreamId", &up) && up;
	has_down = jsonx_get_int(node, "downstreamId", &down) && down;
	has_bi = jsonx_get_int(node, "branchIndex", &bi);
	if ((rc = wf_version_frozen(x, wid, "Nodes in executed workflow could "
					    "not be deleted")))
		return rc;
	if (has_down) {
		/* The downstream takes the deleted node's place. */
		json_object *dv = kv("upstreamId",
				     has_up ? json_object_new_int64(up) : NULL);
		json_object_object_add(dv, "branchIndex",
				       has_bi ? json_object_new_int64(bi) : NULL);
		rc = set_fields(x, down, dv);
	}
	if (!rc && has_up && !has_bi)
		rc = set_fields(x, up,
				kv("downstreamId",
				   has_down ? json_object_new_int64(down) : NULL));
	/* Detach the downstream before deleting the subtree of branches. */
	if (!rc && has_down)
		rc = set_fields(x, id, kv("downstreamId", NULL));
	if (!rc)
		rc = delete_subtree(x, wid, id, 0);
	return rc ? rc : wf_version_bump(x);
}
