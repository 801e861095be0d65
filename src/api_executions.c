/*
 * api_executions: executions and their jobs.
 *
 * The jobs of an execution are stored in its own row (executions.jobsData,
 * written in the statement that writes the execution), so a trigger does
 * not pay for a second table and index.  This file shows them as
 * NocoBase's jobs: executions:get?appends[]=jobs, jobs:get/<id>, and
 * jobs:list?filter={"executionId":..}.  A job's id is derived from its
 * execution's id and its place: execution id * 2^20 + index + 1, so every
 * job keeps one stable id, and its upstreamId points at its input job.
 */
#include "api_int.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "err.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"

#define JOB_SHIFT 20
#define JOB_MAX ((1 << JOB_SHIFT) - 1)

/* A step is one job, and a variable node may record one more: every job
 * of an execution run to the step limit keeps a place in its id. */
_Static_assert(2 * (int64_t)APP_STEP_LIMIT_MAX < JOB_MAX,
	       "FLOWCGI_STEP_LIMIT's cap must leave room in a job id");

static const struct coll *executions(struct req *r)
{
	return schema_coll(r->app->schema, "executions");
}

static int64_t job_id(int64_t execution, int64_t index)
{
	return execution * ((int64_t)1 << JOB_SHIFT) + index + 1;
}

/* NocoBase's job object for stored job i of an execution. */
static json_object *job_json(int64_t execution, json_object *updated,
			     json_object *stored, int64_t i)
{
	json_object *j = json_object_new_object();
	int64_t at = 0, up = -1;
	char iso[32];

	jsonx_get_int(stored, "at", &at);
	jsonx_get_int(stored, "up", &up);
	util_iso_from_ms(at, iso);
	json_object_object_add(j, "createdAt", json_object_new_string(iso));
	json_object_object_add(j, "updatedAt", jsonx_ref(updated));
	json_object_object_add(j, "id", json_object_new_int64(job_id(execution, i)));
	json_object_object_add(j, "executionId", json_object_new_int64(execution));
	json_object_object_add(j, "nodeId", jsonx_ref(jsonx_get(stored, "nodeId")));
	json_object_object_add(j, "nodeKey", jsonx_ref(jsonx_get(stored, "nodeKey")));
	json_object_object_add(j, "upstreamId",
			       up >= 0 ? json_object_new_int64(job_id(execution, up))
				       : NULL);
	json_object_object_add(j, "status", jsonx_ref(jsonx_get(stored, "status")));
	json_object_object_add(j, "meta", jsonx_ref(jsonx_get(stored, "meta")));
	json_object_object_add(j, "result", jsonx_ref(jsonx_get(stored, "result")));
	json_object_object_add(j, "startedAt", json_object_new_string(iso));
	json_object_object_add(j, "log", jsonx_ref(jsonx_get(stored, "log")));
	return j;
}

/* Stored jobs of the executions with ids (a JSON array of ids), as
 * {"<id>": {"updatedAt": .., "jobsData": [..]}}. */
static int stored_jobs(struct req *r, json_object *ids, json_object **out)
{
	static const char *const cols[] = {"id", "updatedAt", "jobsData"};
	json_object *f = json_object_new_object(), *in = json_object_new_object(),
		    *rows = NULL;
	struct store_find q = {.filter = f, .fields = cols, .nfields = 3,
			       .hidden = true};
	int rc;

	json_object_object_add(in, "$in", jsonx_ref(ids));
	json_object_object_add(f, "id", in);
	rc = store_find(r->app->st, r->app->schema, executions(r), &q, &rows);
	json_object_put(f);
	if (rc) {
		json_object_put(rows);
		return req_fail(r, rc, "%s", store_errmsg(r->app->st));
	}
	*out = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		json_object_object_add(*out, jsonx_str(jsonx_get(row, "id")),
				       jsonx_ref(row));
	}
	json_object_put(rows);
	return 0;
}

static json_object *jobs_of(json_object *stored, int64_t execution)
{
	json_object *data = jsonx_get(stored, "jobsData"),
		    *jobs = json_object_new_array();
	for (size_t i = 0; json_object_is_type(data, json_type_array) &&
			   i < json_object_array_length(data);
	     i++)
		json_object_array_add(jobs, job_json(execution,
						     jsonx_get(stored, "updatedAt"),
						     json_object_array_get_idx(data, i),
						     (int64_t)i));
	return jobs;
}

/* Take "jobs" out of the appends the records code would look up, and say
 * whether it was there. */
static bool take_jobs_append(struct req *r)
{
	json_object *ap = api_list_param(r, "appends"), *rest;
	bool found = false;
	if (!ap)
		return false;
	rest = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(ap); i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(ap, i));
		if (!strcmp(a, "jobs") || !strncmp(a, "jobs.", 5))
			found = true;
		else
			json_object_array_add(rest, json_object_new_string(a));
	}
	json_object_put(ap);
	json_object_object_add(r->query, "appends", rest);
	return found;
}

static int attach_jobs(struct req *r, json_object *data)
{
	json_object *rows = data, *ids, *stored = NULL;
	int rc;

	if (json_object_is_type(data, json_type_object)) {
		rows = json_object_new_array();
		json_object_array_add(rows, jsonx_ref(data));
	} else if (!json_object_is_type(data, json_type_array)) {
		return 0;
	} else {
		json_object_get(rows);
	}
	ids = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(rows); i++)
		json_object_array_add(ids, jsonx_ref(jsonx_get(
						   json_object_array_get_idx(rows, i), "id")));
	rc = stored_jobs(r, ids, &stored);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *row = json_object_array_get_idx(rows, i);
		int64_t id = 0;
		jsonx_get_int(row, "id", &id);
		json_object *st = jsonx_get(stored, jsonx_str(jsonx_get(row, "id")));
		json_object_object_add(row, "jobs", jobs_of(st, id));
	}
	json_object_put(stored);
	json_object_put(ids);
	json_object_put(rows);
	return rc;
}

/* retryOfId is flowcgi's (executions:retry): shown only where it is set,
 * so an execution looks as NocoBase's does. */
static void drop_null_retry(json_object *data)
{
	if (json_object_is_type(data, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(data); i++)
			drop_null_retry(json_object_array_get_idx(data, i));
		return;
	}
	if (json_object_is_type(data, json_type_object) &&
	    jsonx_has(data, "retryOfId") && !jsonx_get(data, "retryOfId"))
		json_object_object_del(data, "retryOfId");
}

/* An execution's row with its jobs when appends asks for them. */
static int read_with_jobs(struct req *r, struct api_target *t,
			  API_HANDLER((*read)))
{
	bool jobs = take_jobs_append(r);
	int rc = read(r, t);
	if (!rc)
		drop_null_retry(r->data);
	if (!rc && jobs && r->has_data)
		rc = attach_jobs(r, r->data);
	return rc;
}

API_HANDLER(api_executions_list)
{
	return read_with_jobs(r, t, api_records_list);
}

API_HANDLER(api_executions_get)
{
	return read_with_jobs(r, t, api_records_get);
}

/* The jobs of one execution as NocoBase's job objects (new ref). */
static int execution_jobs(struct req *r, int64_t execution, json_object **all)
{
	json_object *ids = json_object_new_array(), *stored = NULL, *st = NULL;
	int rc;

	json_object_array_add(ids, json_object_new_int64(execution));
	rc = stored_jobs(r, ids, &stored);
	json_object_put(ids);
	if (rc)
		return rc;
	json_object_object_foreach(stored, k, v) {
		(void)k;
		st = v;
	}
	*all = jobs_of(st, execution);
	json_object_put(stored);
	return 0;
}

/* jobs:get/<id>: the job's execution is its id's high bits. */
API_HANDLER(api_jobs_get)
{
	json_object *tk = api_tk(r), *all = NULL, *job = NULL;
	int64_t id = 0, i;
	bool ok = tk && jsonx_to_int64(tk, &id) && id > 0;
	int rc;

	json_object_put(tk);
	if (!ok)
		return req_fail_msg(r, APP_EID, "Invalid id",
				    "a job id is a positive integer");
	if ((rc = execution_jobs(r, id >> JOB_SHIFT, &all)))
		return rc;
	i = (id & JOB_MAX) - 1;
	if (i >= 0 && (size_t)i < json_object_array_length(all))
		job = jsonx_ref(json_object_array_get_idx(all, (size_t)i));
	json_object_put(all);
	req_set_data(r, job);
	return 0;
}

/* jobs:list?filter={"executionId":<id>}, all in one page. */
API_HANDLER(api_jobs_list)
{
	json_object *filter = NULL, *all = NULL, *meta;
	int64_t execution = 0, n;
	int rc = api_filter_param(r, &filter);

	if (!rc && !jsonx_get_int(filter, "executionId", &execution))
		rc = req_fail(r, APP_EPARAM,
			      "jobs are listed by their execution: "
			      "filter={\"executionId\":<id>}");
	json_object_put(filter);
	if (rc || (rc = execution_jobs(r, execution, &all)))
		return rc;
	n = (int64_t)json_object_array_length(all);
	meta = json_object_new_object();
	json_object_object_add(meta, "count", json_object_new_int64(n));
	json_object_object_add(meta, "page", json_object_new_int(1));
	json_object_object_add(meta, "pageSize", json_object_new_int64(n));
	json_object_object_add(meta, "totalPage", json_object_new_int(1));
	req_set_data(r, all);
	r->meta = meta;
	return 0;
}
