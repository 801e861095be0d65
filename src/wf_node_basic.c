/*
 * wf_node_basic: the basic instructions of reference §6: calculation,
 * condition, end, output, variable and response-message.
 *
 * Every config value is rendered with the execution's variables when the
 * node runs; expressions are evaluated by wf_expr over json-c values and
 * never reach SQL or a shell.
 */
#include "wf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "wf_expr.h"

/* ---- calculation ---- */

int wf_node_calc_validate(struct app *a, json_object *c, char *err, size_t n)
{
	const char *engine = jsonx_get_str(c, "engine");
	if (engine && strcmp(engine, "math.js") && strcmp(engine, "formula.js") &&
	    strcmp(engine, "string")) {
		snprintf(err, n, "\"engine\" must be one of [math.js, formula.js, "
				 "string]");
		return -1;
	}
	return wf_check_type(c, "expression", json_type_string, "a string", err, n);
}

void wf_node_calc_run(struct wf_exec *e, const struct wf_node *n, int job,
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
	if (wf_expr_eval(engine ? engine : "math.js", expr, wf_exec_resolve, e, result,
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

int wf_node_cond_validate(struct app *a, json_object *c, char *err, size_t n)
{
	const char *engine = jsonx_get_str(c, "engine");
	if (!jsonx_has(c, "rejectOnFalse")) {
		snprintf(err, n, "\"rejectOnFalse\" is required");
		return -1;
	}
	if (wf_check_type(c, "rejectOnFalse", json_type_boolean, "a boolean", err, n))
		return -1;
	if (engine && strcmp(engine, "basic") && strcmp(engine, "math.js") &&
	    strcmp(engine, "formula.js")) {
		snprintf(err, n, "\"engine\" must be one of [basic, math.js, "
				 "formula.js]");
		return -1;
	}
	return wf_check_type(c, "calculation", json_type_object, "of type object",
			  err, n) ||
			       wf_check_type(c, "expression", json_type_string,
					  "a string", err, n)
		       ? -1
		       : 0;
}

/* Evaluate a condition config (basic rule tree or expression engine):
 * 0 with *value, or -1 with err. */
int wf_node_condition_eval(struct wf_exec *e, json_object *config,
		      json_object **value, char *err, size_t errlen)
{
	const char *engine = jsonx_get_str(config, "engine");
	if (engine && strcmp(engine, "basic")) {
		const char *expr = jsonx_get_str(config, "expression");
		return wf_expr_eval(engine, expr ? expr : "", wf_exec_resolve, e, value,
				    err, errlen);
	}
	json_object *calc = wf_exec_render(e, jsonx_get(config, "calculation"));
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

void wf_node_cond_run(struct wf_exec *e, const struct wf_node *n, int job,
		     int *status, json_object **result)
{
	json_object *v = NULL;
	char err[512];

	if (wf_node_condition_eval(e, n->config, &v, err, sizeof(err))) {
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
		wf_exec_jobs_map_set(e, n->key, jsonx_ref(v));
		*status = wf_exec_branch(e, b, job);
	}
}

/* ---- end / output / variable / response-message ---- */

int wf_node_end_validate(struct app *a, json_object *c, char *err, size_t n)
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

void wf_node_end_run(struct wf_exec *e, const struct wf_node *n, int job,
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

void wf_node_output_run(struct wf_exec *e, const struct wf_node *n, int job,
		       int *status, json_object **result)
{
	json_object *v = wf_exec_render(e, jsonx_get(n->config, "value"));
	json_object_put(e->output);
	e->output = jsonx_ref(v);
	*status = WF_RESOLVED;
	*result = v;
}

int wf_node_var_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *t = jsonx_get(c, "target");
	if (t && !json_object_is_type(t, json_type_null) &&
	    !json_object_is_type(t, json_type_string)) {
		snprintf(err, n, "\"target\" must be a string");
		return -1;
	}
	return 0;
}

void wf_node_var_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	const char *tk = jsonx_get_str(n->config, "target");
	json_object *v = wf_exec_render(e, jsonx_get(n->config, "value"));
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
			*result = wf_exec_error_result(m);
			return;
		}
		/* The target's value changes: later reads see this one. */
		wf_exec_jobs_map_set(e, t->key, jsonx_ref(v));
		wf_exec_job_record(e, t, WF_RESOLVED, jsonx_ref(v),
			      e->jobs[job].upstream);
	}
	*status = WF_RESOLVED;
	*result = v;
}

int wf_node_msg_validate(struct app *a, json_object *c, char *err, size_t n)
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

void wf_node_msg_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	*status = WF_RESOLVED;
	if (!e->messages) {
		*result = NULL;
		return;
	}
	json_object *m = wf_exec_render(e, jsonx_get(n->config, "message"));
	if (jsonx_truthy(m)) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "message", jsonx_ref(m));
		json_object_array_add(e->messages, o);
	}
	*result = m;
}
