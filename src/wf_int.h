/*
 * wf_int: what the engine's own files share and nothing above them uses
 * (as SQLite's vdbeInt.h): the interpreter's services for instructions
 * (wf_exec.c), the config checks (wf_check.c) and the instructions the
 * node table binds (wf_node_*.c).  Include only from src/wf_*.c.
 */
#ifndef FLOWCGI_WF_INT_H
#define FLOWCGI_WF_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "wf.h"

/* ---- the interpreter, for instructions: wf_exec.c ---- */

/* Run the chain from n, its first job's upstream being job index upstream
 * (-1: none); returns the chain's final status (RESOLVED when it ran to
 * its end). */
int wf_exec_branch(struct wf_exec *e, const struct wf_node *n, int upstream);
/* The result of job index i (borrowed; NULL for -1). */
json_object *wf_exec_job_result(struct wf_exec *e, int i);
/* Record a finished job for n (a variable node rewriting a target's
 * value); returns its index. */
int wf_exec_job_record(struct wf_exec *e, const struct wf_node *n, int status,
		       json_object *result, int upstream);
/* Set the log text of job index i (copied). */
void wf_exec_job_log(struct wf_exec *e, int i, const char *text);
/* Resolve a template path against the execution's scope (new ref). */
json_object *wf_exec_resolve(void *exec, const char *path);
/* Render a config value with the execution's variables (new ref). */
json_object *wf_exec_render(struct wf_exec *e, json_object *tmpl);
/* Stop with a limit error when the step count or the time ran out. */
bool wf_exec_over_limit(struct wf_exec *e);
/* Push/pop a loop scope for node n ($scopes.<key> / $scopes.<id>). */
void wf_exec_scope_set(struct wf_exec *e, const struct wf_node *n,
		       json_object *scope);
void wf_exec_scope_clear(struct wf_exec *e, const struct wf_node *n);
/* Overwrite the result $jobsMapByNodeKey.<key> shows. */
void wf_exec_jobs_map_set(struct wf_exec *e, const char *key, json_object *v);
/* {"message": msg} (new ref): the result of a failed job. */
json_object *wf_exec_error_result(const char *msg);

/* ---- config checks: wf_check.c ---- */

/* Each returns 0, or -1 with `"<label>" must be ...` in err.  v == NULL
 * is JSON null (it fails): callers skip absent keys with jsonx_has. */
int wf_check_string(json_object *v, const char *label, char *err, size_t n);
int wf_check_boolean(json_object *v, const char *label, char *err, size_t n);
int wf_check_array(json_object *v, const char *label, char *err, size_t n);
int wf_check_object(json_object *v, const char *label, char *err, size_t n);
/* A safe number (or numeric string); its value in *out. */
int wf_check_number(json_object *v, const char *label, double *out, char *err,
		    size_t n);
/* One of the strings in `valid` (NULL-terminated). */
int wf_check_oneof(json_object *v, const char *label, const char *const *valid,
		   char *err, size_t n);
/* The input limits inside a saved config (limits.h): 0, or
 * APP_EINPUT_LIMIT / APP_EPARAM with err filled. */
int wf_check_bounds(json_object *v, char *err, size_t n);
/* config[key], when present, has JSON type t (`what` names it). */
int wf_check_type(json_object *config, const char *key, enum json_type t,
		  const char *what, char *err, size_t errlen);
/* "posts" or "main:posts" -> "posts"; NULL with err for another data
 * source or an empty name. */
const char *wf_check_collection_name(const char *name, char *err,
				     size_t errlen);
/* config.collection names an existing collection of "main". */
int wf_check_collection(struct app *a, json_object *config, char *err,
			size_t errlen);

/* ---- starting executions: wf_trigger.c ---- */

/* The appends a workflow's trigger config asks for, each prefixed with
 * path when the record is reached through an association (new ref). */
json_object *wf_trigger_appends(const struct schema *s, const struct wf_flow *f,
				const char *path);

/* ---- instructions, bound by the table in wf_node.c ---- */

#define WF_INSTRUCTION(name)                                                   \
	void wf_node_##name##_run(struct wf_exec *e, const struct wf_node *n, \
				  int job, int *status, json_object **result)
#define WF_VALIDATOR(name)                                                     \
	int wf_node_##name##_validate(struct app *a, json_object *c,          \
				      char *err, size_t n)

/* wf_node_basic.c */
WF_VALIDATOR(calc);
WF_INSTRUCTION(calc);
WF_VALIDATOR(cond);
WF_INSTRUCTION(cond);
WF_VALIDATOR(end);
WF_INSTRUCTION(end);
WF_INSTRUCTION(output);
WF_VALIDATOR(var);
WF_INSTRUCTION(var);
WF_VALIDATOR(msg);
WF_INSTRUCTION(msg);
/* A condition's value (basic rule tree or expression engine), shared by
 * condition, multi-conditions and loop. */
int wf_node_condition_eval(struct wf_exec *e, json_object *config,
			   json_object **value, char *err, size_t errlen);
/* wf_node_data.c */
WF_VALIDATOR(data);
WF_INSTRUCTION(query);
WF_INSTRUCTION(create);
WF_INSTRUCTION(update);
WF_INSTRUCTION(destroy);
/* wf_node_branch.c */
WF_VALIDATOR(mc);
WF_INSTRUCTION(mc);
WF_VALIDATOR(loop);
WF_INSTRUCTION(loop);
WF_VALIDATOR(parallel);
WF_INSTRUCTION(parallel);
/* wf_node_request.c, wf_node_jsonq.c */
WF_VALIDATOR(request);
WF_INSTRUCTION(request);
WF_VALIDATOR(jsonq);
WF_INSTRUCTION(jsonq);

#endif
