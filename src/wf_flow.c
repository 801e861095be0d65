/*
 * wf_flow: workflow versions loaded from the store and linked into a graph
 * once, then kept in the process cache while the workflow counter stands.
 * The cache hangs on struct app with its destructor, so the process state
 * frees it without knowing the engine.
 */
#include "wf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "log.h"
#include "store.h"
#include "wf_node.h"

/* The enabled workflows as of workflow counter `version`. */
struct wf_cache {
	struct wf_flow **flows;
	int n;
	int64_t version;
};

static char *dup_str(json_object *o, const char *k)
{
	const char *s = jsonx_get_str(o, k);
	return util_xstrdup(s ? s : "");
}

void wf_flow_free(struct wf_flow *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nnodes; i++) {
		struct wf_node *n = &f->nodes[i];
		free(n->key);
		free(n->type);
		free(n->title);
		free(n->branches);
		json_object_put(n->config);
	}
	free(f->nodes);
	free(f->key);
	free(f->title);
	free(f->type);
	free(f->load_error);
	json_object_put(f->config);
	json_object_put(f->options);
	free(f);
}

static void cache_free(void *p)
{
	struct wf_cache *c = p;
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		wf_flow_free(c->flows[i]);
	free(c->flows);
	free(c);
}

static int find(struct app *a, const char *coll, json_object *filter,
		const char *sort, json_object **rows)
{
	struct store_sort so = {sort, false};
	struct store_find q = {.filter = filter, .sort = sort ? &so : NULL,
			       .nsort = sort ? 1 : 0};
	int rc = store_find(a->st, a->schema, schema_coll(a->schema, coll), &q,
			    rows);
	json_object_put(filter);
	return rc;
}

static int cmp_branch(const void *x, const void *y)
{
	const struct wf_node *a = *(struct wf_node *const *)x;
	const struct wf_node *b = *(struct wf_node *const *)y;
	return a->branch_index - b->branch_index;
}

static struct wf_node *node_by_id(struct wf_flow *f, int64_t id)
{
	for (int i = 0; id && i < f->nnodes; i++)
		if (f->nodes[i].id == id)
			return &f->nodes[i];
	return NULL;
}

/* Link rows of flow_nodes into chains and branches. */
static void link_nodes(struct wf_flow *f)
{
	int heads = 0;
	for (int i = 0; i < f->nnodes; i++) {
		struct wf_node *n = &f->nodes[i];
		n->upstream = node_by_id(f, n->upstream_id);
		n->downstream = node_by_id(f, n->downstream_id);
		if (n->in_branch && n->upstream) {
			struct wf_node *p = n->upstream;
			p->branches = util_xrealloc(p->branches,
						    sizeof(*p->branches) *
							    (size_t)(p->nbranches + 1));
			p->branches[p->nbranches++] = n;
		}
		if (!n->upstream_id) {
			f->head = n;
			heads++;
		}
	}
	for (int i = 0; i < f->nnodes; i++)
		if (f->nodes[i].nbranches > 1)
			qsort(f->nodes[i].branches, (size_t)f->nodes[i].nbranches,
			      sizeof(struct wf_node *), cmp_branch);
	if (f->nnodes && heads != 1) {
		char m[96];
		snprintf(m, sizeof(m), "workflow has %d first nodes", heads);
		f->load_error = strdup(m);
		f->head = NULL;
	}
}

static struct wf_flow *flow_from_row(json_object *row)
{
	struct wf_flow *f = util_xcalloc(1, sizeof(*f));
	jsonx_get_int(row, "id", &f->id);
	f->key = dup_str(row, "key");
	f->title = dup_str(row, "title");
	f->type = dup_str(row, "type");
	f->enabled = jsonx_get_bool(row, "enabled", false);
	f->sync = jsonx_get_bool(row, "sync", false);
	f->config = jsonx_ref(jsonx_get(row, "config"));
	f->options = jsonx_ref(jsonx_get(row, "options"));
	return f;
}

static int load_nodes(struct app *a, struct wf_flow *f)
{
	json_object *rows = NULL, *flt = json_object_new_object();
	json_object_object_add(flt, "workflowId", json_object_new_int64(f->id));
	int rc = find(a, "flow_nodes", flt, "id", &rows);
	if (rc)
		return rc;
	f->nnodes = (int)json_object_array_length(rows);
	f->nodes = util_xcalloc((size_t)f->nnodes + 1, sizeof(*f->nodes));
	for (int i = 0; i < f->nnodes; i++) {
		json_object *r = json_object_array_get_idx(rows, (size_t)i);
		struct wf_node *n = &f->nodes[i];
		int64_t bi = 0;
		jsonx_get_int(r, "id", &n->id);
		jsonx_get_int(r, "upstreamId", &n->upstream_id);
		jsonx_get_int(r, "downstreamId", &n->downstream_id);
		n->in_branch = jsonx_get_int(r, "branchIndex", &bi);
		n->branch_index = (int)bi;
		n->key = dup_str(r, "key");
		n->type = dup_str(r, "type");
		n->title = dup_str(r, "title");
		n->config = jsonx_ref(jsonx_get(r, "config"));
		if (!n->config)
			n->config = json_object_new_object();
		n->impl = wf_node_type(n->type);
	}
	json_object_put(rows);
	link_nodes(f);
	return 0;
}

int wf_flow_load(struct app *a, int64_t id, struct wf_flow **out)
{
	json_object *rows = NULL, *flt = json_object_new_object();
	struct wf_flow *f;
	int rc;

	*out = NULL;
	json_object_object_add(flt, "id", json_object_new_int64(id));
	if ((rc = find(a, "workflows", flt, NULL, &rows)))
		return rc;
	if (!json_object_array_length(rows)) {
		json_object_put(rows);
		return 0;
	}
	f = flow_from_row(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	if ((rc = load_nodes(a, f))) {
		wf_flow_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

static int cache_load(struct app *a)
{
	json_object *rows = NULL;
	json_object *flt = json_tokener_parse("{\"enabled\":true}");
	struct wf_cache *c;
	int rc = find(a, "workflows", flt, "id", &rows);

	if (rc)
		return rc;
	c = util_xcalloc(1, sizeof(*c));
	c->n = (int)json_object_array_length(rows);
	c->flows = util_xcalloc((size_t)c->n + 1, sizeof(*c->flows));
	for (int i = 0; i < c->n; i++) {
		c->flows[i] = flow_from_row(json_object_array_get_idx(rows, (size_t)i));
		if ((rc = load_nodes(a, c->flows[i]))) {
			c->n = i + 1;
			cache_free(c);
			json_object_put(rows);
			return rc;
		}
	}
	json_object_put(rows);
	c->version = a->wf_version;
	a->wf_cache = c;
	a->wf_cache_free = cache_free;
	return 0;
}

/* The cache follows the workflow counter app_refresh read for this
 * request: another process's change reloads it at the next request. */
const struct wf_flow *wf_flow_enabled(struct app *a, const char *key)
{
	struct wf_cache *c = a->wf_cache;
	if (c && c->version != a->wf_version) {
		cache_free(c);
		a->wf_cache = c = NULL;
	}
	if (!c && cache_load(a)) {
		log_error("loading workflows failed: %s", store_errmsg(a->st));
		return NULL;
	}
	c = a->wf_cache;
	for (int i = 0; i < c->n; i++)
		if (!strcmp(c->flows[i]->key, key))
			return c->flows[i];
	return NULL;
}

const char *wf_flow_absent_reason(struct app *a, const char *key)
{
	json_object *rows = NULL, *flt = json_object_new_object();
	const char *why = "unknown";
	json_object_object_add(flt, "key", json_object_new_string(key));
	if (!find(a, "workflows", flt, NULL, &rows) &&
	    json_object_array_length(rows))
		why = "disabled";
	json_object_put(rows);
	return why;
}
