/*
 * wf_node_data: the instructions that read and write records (reference
 * §6): query, create, update and destroy, through the records layer, so a
 * row written by a workflow is written as the API writes it.
 */
#include "wf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "records.h"

static const struct coll *target(struct wf_exec *e, const struct wf_node *n,
				 char *err, size_t errlen)
{
	const char *name = wf_check_collection_name(jsonx_get_str(n->config,
							     "collection"),
					      err, errlen);
	const struct coll *c = name ? schema_coll(e->app->schema, name) : NULL;
	if (name && !c)
		snprintf(err, errlen, "Collection \"%s\" not found", name);
	return c;
}

/* ---- query / create / update / destroy ---- */

int wf_node_data_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *p = jsonx_get(c, "params");
	if (wf_check_collection(a, c, err, n))
		return -1;
	if (p && !json_object_is_type(p, json_type_object)) {
		snprintf(err, n, "\"params\" must be of type object");
		return -1;
	}
	if (wf_check_type(p, "filter", json_type_object, "of type object", err, n) ||
	    wf_check_type(p, "values", json_type_object, "of type object", err, n) ||
	    wf_check_type(p, "appends", json_type_array, "an array", err, n) ||
	    wf_check_type(p, "sort", json_type_array, "an array", err, n))
		return -1;
	return 0;
}

/* Run a records call as the data node's job: errors become ERROR jobs
 * with the reason, as NocoBase records a thrown error. */
static void data_fail(struct rctx *x, int *status, json_object **result)
{
	*status = WF_ERROR;
	*result = wf_exec_error_result(x->reason);
}

static bool filter_empty(json_object *f)
{
	return !f || (json_object_is_type(f, json_type_object) &&
		      !json_object_object_length(f));
}

void wf_node_query_run(struct wf_exec *e, const struct wf_node *n, int job,
		      int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_exec_render(e, jsonx_get(n->config, "params"));
	json_object *sort = json_object_new_array(), *rows = NULL;
	struct rctx x = {.app = e->app};
	bool multiple = jsonx_get_bool(n->config, "multiple", false);
	int64_t page = 1, size = 20;
	int rc;

	if (!c) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(err);
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

void wf_node_create_run(struct wf_exec *e, const struct wf_node *n, int job,
		       int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_exec_render(e, jsonx_get(n->config, "params"));
	json_object *values = jsonx_get(p, "values"), *rec = NULL, *rows = NULL;
	json_object *appends = jsonx_get(p, "appends");
	struct rctx x = {.app = e->app};

	*status = WF_RESOLVED;
	if (!c) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(err);
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

void wf_node_update_run(struct wf_exec *e, const struct wf_node *n, int job,
		       int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_exec_render(e, jsonx_get(n->config, "params"));
	json_object *filter = jsonx_get(p, "filter");
	json_object *values = jsonx_get(p, "values");
	struct rctx x = {.app = e->app};
	int64_t count = 0;

	if (!c) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(err);
	} else if (filter_empty(filter)) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(
			"to do update action, filter or filterByTk is required");
	} else if (!json_object_is_type(values, json_type_object)) {
		*status = WF_ERROR;
		*result = wf_exec_error_result("params.values must be an object");
	} else if (rec_update_count(&x, c, filter, values, &count)) {
		data_fail(&x, status, result);
	} else {
		*status = WF_RESOLVED;
		*result = json_object_new_int64(count);
	}
	json_object_put(p);
}

void wf_node_destroy_run(struct wf_exec *e, const struct wf_node *n, int job,
			int *status, json_object **result)
{
	char err[256];
	const struct coll *c = target(e, n, err, sizeof(err));
	json_object *p = wf_exec_render(e, jsonx_get(n->config, "params"));
	json_object *filter = jsonx_get(p, "filter");
	struct rctx x = {.app = e->app};
	int64_t count = 0;

	if (!c) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(err);
	} else if (filter_empty(filter)) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(
			"to do destroy action, filter or filterByTk is required");
	} else if (rec_destroy(&x, c, filter, &count)) {
		data_fail(&x, status, result);
	} else {
		*status = WF_RESOLVED;
		*result = json_object_new_int64(count);
	}
	json_object_put(p);
}

