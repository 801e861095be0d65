/*
 * wf_nodes: the instruction table and the basic instructions (reference
 * §6): calculation, condition, query, create, update, destroy, end,
 * output, variable, response-message.  The branching and integration
 * instructions live in wf_nodes_flow.c and wf_nodes_ext.c.
 *
 * Every config value is rendered with the execution's variables when the
 * node runs; expressions are evaluated by wf_expr over json-c values and
 * never reach SQL or a shell.
 */
#include "wf_nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "records.h"
#include "wf_expr.h"
#include "wf_template.h"

/* ---- shared helpers ---- */

json_object *wf_error_result(const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

const char *wf_collection_name(const char *name, char *err, size_t errlen)
{
	if (!name || !*name) {
		snprintf(err, errlen, "Collection is not configured");
		return NULL;
	}
	const char *colon = strchr(name, ':');
	if (colon) {
		if ((size_t)(colon - name) != 4 || strncmp(name, "main", 4)) {
			snprintf(err, errlen, "Data source \"%.*s\" does not exist",
				 (int)(colon - name), name);
			return NULL;
		}
		return colon + 1;
	}
	return name;
}

int wf_check_collection(struct app *a, json_object *config, char *err,
			size_t errlen)
{
	const char *raw = jsonx_get_str(config, "collection");
	const char *name = wf_collection_name(raw, err, errlen);
	if (!name)
		return -1;
	if (!schema_coll(a->schema, name)) {
		snprintf(err, errlen,
			 "Collection \"%s\" does not exist in data source "
			 "\"main\"",
			 name);
		return -1;
	}
	return 0;
}

static int check_type(json_object *config, const char *key,
		      enum json_type t, const char *what, char *err,
		      size_t errlen)
{
	json_object *v = jsonx_get(config, key);
	if (!v || json_object_is_type(v, t))
		return 0;
	snprintf(err, errlen, "\"%s\" must be %s", key, what);
	return -1;
}

static const struct coll *target(struct wf_exec *e, const struct wf_node *n,
				 char *err, size_t errlen)
{
	const char *name = wf_collection_name(jsonx_get_str(n->config,
							     "collection"),
					      err, errlen);
	const struct coll *c = name ? schema_coll(e->app->schema, name) : NULL;
	if (name && !c)
		snprintf(err, errlen, "Collection \"%s\" not found", name);
	return c;
}

/* ---- calculation ---- */

static int calc_validate(struct app *a, json_object *c, char *err, size_t n)
{
	const char *engine = jsonx_get_str(c, "engine");
	if (engine && strcmp(engine, "math.js") && strcmp(engine, "formula.js") &&
	    strcmp(engine, "string")) {
		snprintf(err, n, "\"engine\" must be one of [math.js, formula.js, "
				 "string]");
		return -1;
	}
	return check_type(c, "expression", json_type_string, "a string", err, n);
}

static void calc_run(struct wf_exec *e, const struct wf_node *n, int job,
		     int *status, json_object **result)
{
	const char *engine = jsonx_get_str(n->config, "engine");
	const char *expr = jsonx_get_str(n->config, "expression");
	char err[512];

	if (!expr || !*expr) {
		*status = WF_RESOLVED;
		*result = NULL;
		return;
	}
	if (wf_expr_eval(engine ? engine : "math.js", expr, wf_resolve, e, result,
			 err, sizeof(err))) {
		char m[600];
		snprintf(m, sizeof(m), "Error: %s", err);
		*status = WF_ERROR;
		*result = json_object_new_string(m);
		return;
	}
	*status = WF_RESOLVED;
}

/* ---- condition ---- */

static int cond_validate(struct app *a, json_object *c, char *err, size_t n)
{
	const char *engine = jsonx_get_str(c, "engine");
	if (!jsonx_has(c, "rejectOnFalse")) {
		snprintf(err, n, "\"rejectOnFalse\" is required");
		return -1;
	}
	if (check_type(c, "rejectOnFalse", json_type_boolean, "a boolean", err, n))
		return -1;
	if (engine && strcmp(engine, "basic") && strcmp(engine, "math.js") &&
	    strcmp(engine, "formula.js")) {
		snprintf(err, n, "\"engine\" must be one of [basic, math.js, "
				 "formula.js]");
		return -1;
	}
	return check_type(c, "calculation", json_type_object, "of type object",
			  err, n) ||
			       check_type(c, "expression", json_type_string,
					  "a string", err, n)
		       ? -1
		       : 0;
}

/* Evaluate a condition config (basic rule tree or expression engine):
 * 0 with *value, or -1 with err. */
int wf_condition_eval(struct wf_exec *e, json_object *config,
		      json_object **value, char *err, size_t errlen)
{
	const char *engine = jsonx_get_str(config, "engine");
	if (engine && strcmp(engine, "basic")) {
		const char *expr = jsonx_get_str(config, "expression");
		return wf_expr_eval(engine, expr ? expr : "", wf_resolve, e, value,
				    err, errlen);
	}
	json_object *calc = wf_render(e, jsonx_get(config, "calculation"));
	bool b = true;
	int rc = wf_expr_logic(calc, &b, err, errlen);
	json_object_put(calc);
	*value = rc ? NULL : json_object_new_boolean(b);
	return rc;
}

/* The branch whose Boolean(branchIndex) equals a real boolean result. */
static const struct wf_node *bool_branch(const struct wf_node *n,
					 json_object *v)
{
	if (!json_object_is_type(v, json_type_boolean))
		return NULL;
	bool b = json_object_get_boolean(v);
	for (int i = 0; i < n->nbranches; i++)
		if ((n->branches[i]->branch_index != 0) == b)
			return n->branches[i];
	return NULL;
}

static void cond_run(struct wf_exec *e, const struct wf_node *n, int job,
		     int *status, json_object **result)
{
	json_object *v = NULL;
	char err[512];

	if (wf_condition_eval(e, n->config, &v, err, sizeof(err))) {
		char m[600];
		snprintf(m, sizeof(m), "Error: %s", err);
		*status = WF_ERROR;
		*result = json_object_new_string(m);
		return;
	}
	*result = v;
	if (!jsonx_truthy(v) && jsonx_get_bool(n->config, "rejectOnFalse", false)) {
		*status = WF_FAILED;
		return;
	}
	const struct wf_node *b = bool_branch(n, v);
	*status = WF_RESOLVED;
	if (b) {
		/* Saved RESOLVED before the branch (the branch sees its
		 * result); a failed branch stops the flow, not this job. */
		e->jobs[job].status = WF_RESOLVED;
		wf_jobs_map_set(e, n->key, jsonx_ref(v));
		*status = wf_run_branch(e, b, job);
	}
}

/* ---- query / create / update / destroy ---- */

static int data_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *p = jsonx_get(c, "params");
	if (wf_check_collection(a, c, err, n))
		return -1;
	if (p && !json_object_is_type(p, json_type_object)) {
		snprintf(err, n, "\"params\" must be of type object");
		return -1;
	}
	if (check_type(p, "filter", json_type_object, "of type object", err, n) ||
	    check_type(p, "values", json_type_object, "of type object", err, n) ||
	    check_type(p, "appends", json_type_array, "an array", err, n) ||
	    check_type(p, "sort", json_type_array, "an array", err, n))
		return -1;
	return 0;
}

/* Run a records call as the data node's job: errors become ERROR jobs
 * with the reason, as NocoBase records a thrown error. */
static void data_fail(struct rctx *x, int *status, json_object **result)
{
	*status = WF_ERROR;
	*result = wf_error_result(x->reason);
}

static bool filter_empty(json_object *f)
{
	return !f || (json_object_is_type(f, json_type_object) &&
		      !json_object_object_length(f));
}

static void query_run(struct wf_exec *e, const struct wf_node *n, int job,
		      int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_render(e, jsonx_get(n->config, "params"));
	json_object *sort = json_object_new_array(), *rows = NULL;
	struct rctx x = {.app = e->app};
	bool multiple = jsonx_get_bool(n->config, "multiple", false);
	int64_t page = 1, size = 20;
	int rc;

	if (!c) {
		*status = WF_ERROR;
		*result = wf_error_result(err);
		goto out;
	}
	json_object *so = jsonx_get(p, "sort");
	for (size_t i = 0; json_object_is_type(so, json_type_array) &&
			   i < json_object_array_length(so);
	     i++) {
		json_object *it = json_object_array_get_idx(so, i);
		const char *f = jsonx_get_str(it, "field");
		const char *d = jsonx_get_str(it, "direction");
		if (!f || !*f)
			continue;
		char buf[160];
		snprintf(buf, sizeof(buf), "%s%s",
			 d && !strcasecmp(d, "desc") ? "-" : "", f);
		json_object_array_add(sort, json_object_new_string(buf));
	}
	jsonx_get_int(p, "page", &page);
	jsonx_get_int(p, "pageSize", &size);
	if (page < 1)
		page = 1;
	if (size < 1)
		size = 20;
	struct rec_query q = {.filter = jsonx_get(p, "filter"),
			      .appends = jsonx_get(p, "appends"),
			      .sort = sort,
			      .limit = multiple ? size : 1,
			      .offset = multiple ? (page - 1) * size : 0};
	if ((rc = rec_find(&x, c, &q, &rows))) {
		data_fail(&x, status, result);
		goto out;
	}
	if (multiple) {
		*result = jsonx_ref(rows);
	} else {
		*result = jsonx_ref(json_object_array_length(rows)
					    ? json_object_array_get_idx(rows, 0)
					    : NULL);
	}
	*status = jsonx_get_bool(n->config, "failOnEmpty", false) &&
			  !json_object_array_length(rows)
		  ? WF_FAILED
		  : WF_RESOLVED;
out:
	json_object_put(rows);
	json_object_put(sort);
	json_object_put(p);
}

static void create_run(struct wf_exec *e, const struct wf_node *n, int job,
		       int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_render(e, jsonx_get(n->config, "params"));
	json_object *values = jsonx_get(p, "values"), *rec = NULL, *rows = NULL;
	json_object *appends = jsonx_get(p, "appends");
	struct rctx x = {.app = e->app};

	*status = WF_RESOLVED;
	if (!c) {
		*status = WF_ERROR;
		*result = wf_error_result(err);
		goto out;
	}
	if (!values)
		json_object_object_add(p ? p : (p = json_object_new_object()),
				       "values", values = json_object_new_object());
	if (rec_create(&x, c, values, NULL, &rec)) {
		data_fail(&x, status, result);
		goto out;
	}
	if (json_object_is_type(appends, json_type_array) &&
	    json_object_array_length(appends)) {
		rows = json_object_new_array();
		json_object_array_add(rows, jsonx_ref(rec));
		if (rec_append(&x, c, rows, appends)) {
			data_fail(&x, status, result);
			goto out;
		}
	}
	*result = jsonx_ref(rec);
out:
	json_object_put(rows);
	json_object_put(rec);
	json_object_put(p);
}

static void update_run(struct wf_exec *e, const struct wf_node *n, int job,
		       int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_render(e, jsonx_get(n->config, "params"));
	json_object *filter = jsonx_get(p, "filter");
	json_object *values = jsonx_get(p, "values");
	struct rctx x = {.app = e->app};
	int64_t count = 0;

	if (!c) {
		*status = WF_ERROR;
		*result = wf_error_result(err);
	} else if (filter_empty(filter)) {
		*status = WF_ERROR;
		*result = wf_error_result(
			"to do update action, filter or filterByTk is required");
	} else if (!json_object_is_type(values, json_type_object)) {
		*status = WF_ERROR;
		*result = wf_error_result("params.values must be an object");
	} else if (rec_update_count(&x, c, filter, values, &count)) {
		data_fail(&x, status, result);
	} else {
		*status = WF_RESOLVED;
		*result = json_object_new_int64(count);
	}
	json_object_put(p);
}

static void destroy_run(struct wf_exec *e, const struct wf_node *n, int job,
			int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_render(e, jsonx_get(n->config, "params"));
	json_object *filter = jsonx_get(p, "filter");
	struct rctx x = {.app = e->app};
	int64_t count = 0;

	if (!c) {
		*status = WF_ERROR;
		*result = wf_error_result(err);
	} else if (filter_empty(filter)) {
		*status = WF_ERROR;
		*result = wf_error_result(
			"to do destroy action, filter or filterByTk is required");
	} else if (rec_destroy(&x, c, filter, &count)) {
		data_fail(&x, status, result);
	} else {
		*status = WF_RESOLVED;
		*result = json_object_new_int64(count);
	}
	json_object_put(p);
}

/* ---- end / output / variable / response-message ---- */

static int end_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *s = jsonx_get(c, "endStatus");
	int64_t v;
	if (s && (!json_object_is_type(s, json_type_int) ||
		  !jsonx_to_int64(s, &v) || (v != 1 && v != -1))) {
		snprintf(err, n, "\"endStatus\" must be one of [1, -1]");
		return -1;
	}
	return 0;
}

static void end_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	int64_t st = WF_RESOLVED;
	jsonx_get_int(n->config, "endStatus", &st);
	*status = (int)st;
	*result = NULL;
	e->jobs[job].status = (int)st;
	e->ended = true;
	e->status = (int)st;
	e->last_node = n;
	if (st < 0 && !e->error[0]) {
		e->error_node = n;
		snprintf(e->error, sizeof(e->error),
			 "the workflow ended on end node \"%s\" with a failure",
			 n->title);
	}
}

static void output_run(struct wf_exec *e, const struct wf_node *n, int job,
		       int *status, json_object **result)
{
	json_object *v = wf_render(e, jsonx_get(n->config, "value"));
	json_object_put(e->output);
	e->output = jsonx_ref(v);
	*status = WF_RESOLVED;
	*result = v;
}

static int var_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *t = jsonx_get(c, "target");
	if (t && !json_object_is_type(t, json_type_null) &&
	    !json_object_is_type(t, json_type_string)) {
		snprintf(err, n, "\"target\" must be a string");
		return -1;
	}
	return 0;
}

static void var_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	const char *tk = jsonx_get_str(n->config, "target");
	json_object *v = wf_render(e, jsonx_get(n->config, "value"));
	if (tk && *tk) {
		const struct wf_node *t = NULL;
		for (int i = 0; i < e->flow->nnodes; i++)
			if (!strcmp(e->flow->nodes[i].key, tk))
				t = &e->flow->nodes[i];
		if (!t) {
			char m[200];
			snprintf(m, sizeof(m), "target node by key \"%s\" is not found",
				 tk);
			json_object_put(v);
			*status = WF_ERROR;
			*result = wf_error_result(m);
			return;
		}
		/* The target's value changes: later reads see this one. */
		wf_jobs_map_set(e, t->key, jsonx_ref(v));
		wf_job_record(e, t, WF_RESOLVED, jsonx_ref(v),
			      e->jobs[job].upstream);
	}
	*status = WF_RESOLVED;
	*result = v;
}

static int msg_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *m = jsonx_get(c, "message");
	if (!jsonx_has(c, "message"))
		return 0;
	if (!json_object_is_type(m, json_type_string)) {
		snprintf(err, n, "\"message\" must be a string");
		return -1;
	}
	if (!json_object_get_string_len(m)) {
		snprintf(err, n, "\"message\" is not allowed to be empty");
		return -1;
	}
	return 0;
}

static void msg_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	*status = WF_RESOLVED;
	if (!e->messages) {
		*result = NULL;
		return;
	}
	json_object *m = wf_render(e, jsonx_get(n->config, "message"));
	if (jsonx_truthy(m)) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "message", jsonx_ref(m));
		json_object_array_add(e->messages, o);
	}
	*result = m;
}

static int any_validate(struct app *a, json_object *c, char *err, size_t n)
{
	return 0;
}

static const struct wf_node_type basic_types[] = {
	{"calculation", calc_validate, calc_run},
	{"condition", cond_validate, cond_run},
	{"query", data_validate, query_run},
	{"create", data_validate, create_run},
	{"update", data_validate, update_run},
	{"destroy", data_validate, destroy_run},
	{"end", end_validate, end_run},
	{"output", any_validate, output_run},
	{"variable", var_validate, var_run},
	{"response-message", msg_validate, msg_run},
};

const struct wf_node_type *wf_node_type(const char *name)
{
	for (size_t i = 0; i < sizeof(basic_types) / sizeof(basic_types[0]); i++)
		if (!strcmp(basic_types[i].name, name))
			return &basic_types[i];
	return wf_node_type_more(name);
}
