/*
 * wf_nodes_more: the branching and integration instructions
 * (wf_nodes_flow.c: multi-conditions, loop, parallel; wf_nodes_ext.c:
 * request, json-query), their table (wf_nodes_more.c) and the config
 * checks they share.
 *
 * NocoBase validates node configs with Joi (allowUnknown, every error
 * reported); the checks below give Joi's message for the first error, with
 * Joi's conversions: a number may be given as a numeric string, a boolean
 * as "true"/"false" in any case.  v == NULL is JSON null (it fails):
 * callers skip absent keys with jsonx_has.
 */
#ifndef FLOWCGI_WF_NODES_MORE_H
#define FLOWCGI_WF_NODES_MORE_H

#include "wf_nodes.h"

/* Each returns 0, or -1 with `"<label>" must be ...` in err. */
int wf_joi_string(json_object *v, const char *label, char *err, size_t n);
int wf_joi_boolean(json_object *v, const char *label, char *err, size_t n);
int wf_joi_array(json_object *v, const char *label, char *err, size_t n);
int wf_joi_object(json_object *v, const char *label, char *err, size_t n);
/* A safe number (or numeric string); its value in *out. */
int wf_joi_number(json_object *v, const char *label, double *out, char *err,
		  size_t n);
/* One of the strings in `valid` (NULL-terminated). */
int wf_joi_valid(json_object *v, const char *label, const char *const *valid,
		 char *err, size_t n);

/* wf_nodes_flow.c */
int wf_mc_validate(struct app *a, json_object *c, char *err, size_t n);
void wf_mc_run(struct wf_exec *e, const struct wf_node *n, int job,
	       int *status, json_object **result);
int wf_loop_validate(struct app *a, json_object *c, char *err, size_t n);
void wf_loop_run(struct wf_exec *e, const struct wf_node *n, int job,
		 int *status, json_object **result);
int wf_parallel_validate(struct app *a, json_object *c, char *err, size_t n);
void wf_parallel_run(struct wf_exec *e, const struct wf_node *n, int job,
		     int *status, json_object **result);

/* wf_nodes_ext.c */
int wf_request_validate(struct app *a, json_object *c, char *err, size_t n);
void wf_request_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result);
int wf_jsonq_validate(struct app *a, json_object *c, char *err, size_t n);
void wf_jsonq_run(struct wf_exec *e, const struct wf_node *n, int job,
		  int *status, json_object **result);

#endif
