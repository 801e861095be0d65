/*
 * import_nocobase_flows: workflows of the trigger types flowcgi runs,
 * every version of each key (key, current, enabled, sync, config,
 * options) with its ids, and their nodes with their links (upstream,
 * downstream, branchIndex) as they are, so the same triggerWorkflows keys
 * work.  Each node's type must be one of flowcgi's and its config pass the
 * check flowcgi makes when a node is saved; a version with a node that
 * does not, or a trigger config flowcgi refuses, is imported disabled and
 * says why.  Other trigger types are skipped with their nodes.
 */
#include "import_int.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"
#include "wf_node.h"
#include "wf_version.h"

/* Why flowcgi would not run a node (into why), or 0. */
static int node_problem(struct import_ctx *x, json_object *n, char *why,
			size_t len)
{
	const char *type = jsonx_get_str(n, "type");
	const struct wf_node_type *t = wf_node_type(type);
	json_object *cfg = jsonx_get(n, "config");
	char err[300];

	if (!t) {
		snprintf(why, len, "the node type \"%s\" is not supported",
			 type ? type : "");
		return -1;
	}
	if (!json_object_is_type(cfg, json_type_object))
		cfg = NULL;
	if (t->validate(x->app, cfg, err, sizeof(err))) {
		snprintf(why, len, "flowcgi refuses its config: %s", err);
		return -1;
	}
	return 0;
}

/* The version's nodes, written; *bad counts those flowcgi would not run
 * (each reported), the first one's reason in why. */
static int nodes(struct import_ctx *x, json_object *wf, int *bad, char *why,
		 size_t len)
{
	const struct coll *c = schema_coll(x->app->schema, "flow_nodes");
	json_object *rows = import_nocobase_where(x->t[NB_NODES], "workflowId",
						  jsonx_get(wf, "id"));
	char w[400];
	int rc = 0;

	*bad = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *n = json_object_array_get_idx(rows, i), *v = NULL;
		bool ok = !node_problem(x, n, w, sizeof(w));
		if (!ok) {
			import_report_add(x->rep, IK_NODE, IO_SKIPPED, 1,
					  "%s \"%s\" of workflow %s: %s (kept in the "
					  "graph; the workflow is disabled)",
					  jsonx_str(jsonx_get(n, "id")),
					  jsonx_get_str(n, "title"),
					  jsonx_str(jsonx_get(wf, "id")), w);
			if (!(*bad)++)
				snprintf(why, len, "node %s: %s",
					 jsonx_str(jsonx_get(n, "id")), w);
		} else {
			import_report_count(x->rep, IK_NODE, IO_IMPORTED, 1);
		}
		if (!(rc = import_write_values(x, c, n, &v)))
			rc = import_write_put(x, "flow_nodes", v, NULL, NULL);
		json_object_put(v);
	}
	json_object_put(rows);
	return rc;
}

/* The trigger config as flowcgi checks it: the first message, or 0.  The
 * check runs on a copy: the config moves as NocoBase had it (a
 * "main:samples" it kept is not rewritten to "samples", so the workflow
 * answers as it did). */
static int config_problem(struct import_ctx *x, json_object *wf, char *why,
			  size_t len)
{
	json_object *cfg = jsonx_copy(jsonx_get(wf, "config"));
	json_object *msgs = util_streq(jsonx_get_str(wf, "type"), "webhook")
				    ? wf_version_check_webhook(cfg)
				    : wf_version_check_config(x->app, cfg);
	int rc = json_object_array_length(msgs) ? -1 : 0;
	if (rc)
		snprintf(why, len, "flowcgi refuses its trigger config: %s",
			 json_object_get_string(json_object_array_get_idx(msgs, 0)));
	json_object_put(msgs);
	json_object_put(cfg);
	return rc;
}

static void say(struct import_ctx *x, json_object *wf, bool was_on, bool on,
		bool replaced, const char *why)
{
	bool off = was_on && !on;
	struct buf b = {0};
	buf_printf(&b, "\"%s\" (key %s, id %s%s%s%s)", jsonx_get_str(wf, "title"),
		   jsonx_get_str(wf, "key"), jsonx_str(jsonx_get(wf, "id")),
		   jsonx_get_bool(wf, "current", false) ? ", current" : "",
		   on ? ", enabled" : "",
		   jsonx_get_bool(wf, "sync", false) ? ", sync" : "");
	if (off)
		buf_printf(&b, ": imported disabled: %s", why);
	else if (why[0])
		buf_printf(&b, ": cannot run: %s", why);
	if (replaced)
		buf_puts(&b, "; replaces the target's version of that id");
	import_report_add(x->rep, IK_WORKFLOW, off || replaced ? IO_CHANGED : IO_IMPORTED,
			  1, "%s", buf_str(&b));
	buf_free(&b);
}

/* With --merge, a version of the same id loses its nodes first. */
static int drop_old_nodes(struct import_ctx *x, json_object *wf)
{
	const struct coll *c = schema_coll(x->app->schema, "flow_nodes");
	json_object *f;
	int64_t n = 0;
	int rc;
	if (!x->opts->merge)
		return 0;
	f = json_object_new_object();
	json_object_object_add(f, "workflowId", jsonx_ref(jsonx_get(wf, "id")));
	rc = store_delete(x->app->st, x->app->schema, c, f, &n);
	json_object_put(f);
	return rc ? import_write_fail(x, rc, "flow_nodes") : 0;
}

static int version(struct import_ctx *x, json_object *row)
{
	const struct coll *c = schema_coll(x->app->schema, "workflows");
	json_object *wf = jsonx_copy(row), *v = NULL;
	bool was_on = jsonx_get_bool(wf, "enabled", false), replaced = false;
	char why[500] = "", node_why[500] = "";
	int bad = 0, rc;

	bool cfg_bad = config_problem(x, wf, why, sizeof(why)) != 0;
	if ((rc = drop_old_nodes(x, wf))) {
		json_object_put(wf);
		return rc;
	}
	rc = nodes(x, wf, &bad, node_why, sizeof(node_why));
	if (!cfg_bad && bad)
		snprintf(why, sizeof(why), "%s", node_why);
	bool on = was_on && !cfg_bad && !bad;
	json_object_object_add(wf, "enabled", json_object_new_boolean(on));
	if (!rc && !(rc = import_write_values(x, c, wf, &v)))
		rc = import_write_put(x, "workflows", v, NULL, &replaced);
	if (!rc)
		say(x, wf, was_on, on, replaced, why);
	json_object_put(v);
	json_object_put(wf);
	return rc;
}

int import_nocobase_flows(struct import_ctx *x)
{
	json_object *rows = x->t[NB_WORKFLOWS];
	int rc = 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *wf = json_object_array_get_idx(rows, i);
		const char *type = jsonx_get_str(wf, "type");
		if (wf_version_type_known(type)) {
			rc = version(x, wf);
			continue;
		}
		json_object *n = import_nocobase_where(x->t[NB_NODES], "workflowId",
						       jsonx_get(wf, "id"));
		import_report_add(x->rep, IK_WORKFLOW, IO_SKIPPED, 1,
				  "\"%s\" (key %s, id %s): the trigger type \"%s\" "
				  "is not supported (its %zu node(s) stay behind)",
				  jsonx_get_str(wf, "title"), jsonx_get_str(wf, "key"),
				  jsonx_str(jsonx_get(wf, "id")), type ? type : "",
				  json_object_array_length(n));
		import_report_count(x->rep, IK_NODE, IO_SKIPPED,
				    (int64_t)json_object_array_length(n));
		json_object_put(n);
	}
	if (!rc && (rc = store_bump(x->app->st, "workflow_version")))
		rc = import_write_fail(x, rc, "workflows");
	return rc;
}
