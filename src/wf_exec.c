/*
 * wf_exec: the interpreter: the processor walk of reference §5.4, jobs,
 * the variables templates see, and the execution row that records a run.
 */
#include "wf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "metrics.h"
#include "records.h"
#include "store.h"
#include "util.h"
#include "wf_template.h"

void wf_exec_init(struct wf_exec *e, struct app *a, const struct wf_flow *f,
		  json_object *context, int64_t user_id, bool http)
{
	memset(e, 0, sizeof(*e));
	e->app = a;
	e->flow = f;
	e->context = context;
	e->user_id = user_id;
	e->status = WF_PENDING;
	e->created_ms = util_now_ms();
	util_uuid(e->event_key);
	e->scope = json_object_new_object();
	json_object_object_add(e->scope, "$context", jsonx_ref(context));
	json_object_object_add(e->scope, "$jobsMapByNodeKey",
			       json_object_new_object());
	json_object_object_add(e->scope, "$scopes", json_object_new_object());
	if (http)
		e->messages = json_object_new_array();
}

void wf_exec_free(struct wf_exec *e)
{
	for (int i = 0; i < e->njobs; i++) {
		json_object_put(e->jobs[i].result);
		json_object_put(e->jobs[i].meta);
		free(e->jobs[i].log);
	}
	free(e->jobs);
	json_object_put(e->context);
	json_object_put(e->scope);
	json_object_put(e->messages);
	json_object_put(e->output);
	json_object_put(e->env);
	memset(e, 0, sizeof(*e));
}

json_object *wf_exec_job_result(struct wf_exec *e, int i)
{
	return i >= 0 && i < e->njobs ? e->jobs[i].result : NULL;
}

static int job_add(struct wf_exec *e, const struct wf_node *n, int upstream)
{
	if (e->njobs == e->capjobs) {
		e->capjobs = e->capjobs ? e->capjobs * 2 : 16;
		e->jobs = util_xrealloc(e->jobs,
					sizeof(*e->jobs) * (size_t)e->capjobs);
	}
	struct wf_job *j = &e->jobs[e->njobs];
	memset(j, 0, sizeof(*j));
	j->node_id = n->id;
	j->node_key = n->key;
	j->node = n;
	j->status = WF_PENDING;
	j->upstream = upstream;
	j->started_ms = util_now_ms();
	return e->njobs++;
}

int wf_exec_job_record(struct wf_exec *e, const struct wf_node *n, int status,
		  json_object *result, int upstream)
{
	int i = job_add(e, n, upstream);
	e->jobs[i].status = status;
	e->jobs[i].result = result;
	return i;
}

void wf_exec_job_log(struct wf_exec *e, int i, const char *text)
{
	free(e->jobs[i].log);
	e->jobs[i].log = util_xstrdup(text);
}

void wf_exec_jobs_map_set(struct wf_exec *e, const char *key, json_object *v)
{
	json_object_object_add(jsonx_get(e->scope, "$jobsMapByNodeKey"), key, v);
}

void wf_exec_scope_set(struct wf_exec *e, const struct wf_node *n,
		  json_object *scope)
{
	json_object *s = jsonx_get(e->scope, "$scopes");
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)n->id);
	json_object_object_add(s, n->key, jsonx_ref(scope));
	json_object_object_add(s, id, scope);
}

void wf_exec_scope_clear(struct wf_exec *e, const struct wf_node *n)
{
	json_object *s = jsonx_get(e->scope, "$scopes");
	char id[24];
	snprintf(id, sizeof(id), "%lld", (long long)n->id);
	json_object_object_del(s, n->key);
	json_object_object_del(s, id);
}

static void fail(struct wf_exec *e, const struct wf_node *n, const char *msg)
{
	if (e->error[0])
		return;
	e->error_node = n;
	snprintf(e->error, sizeof(e->error), "%s", msg);
}

bool wf_exec_over_limit(struct wf_exec *e)
{
	struct app_config *cfg = &e->app->cfg;
	if (e->steps >= cfg->step_limit) {
		snprintf(e->error, sizeof(e->error),
			 "step limit exceeded: more than %lld node runs "
			 "(FLOWCGI_STEP_LIMIT)",
			 cfg->step_limit);
		return true;
	}
	if (e->deadline && util_mono_ms() > e->deadline) {
		snprintf(e->error, sizeof(e->error),
			 "time limit exceeded: the synchronous execution ran "
			 "longer than %lld ms (FLOWCGI_SYNC_TIMEOUT_MS)",
			 cfg->sync_timeout);
		return true;
	}
	return false;
}

static const char *status_name(int st)
{
	static const char *const names[] = {"FAILED", "ERROR", "ABORTED",
					    "CANCELED", "REJECTED",
					    "RETRY_NEEDED"};
	return st <= -1 && st >= -6 ? names[-st - 1] : "unknown";
}

/* A job result that says what went wrong, as NocoBase stores errors. */
json_object *wf_exec_error_result(const char *msg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(msg));
	return o;
}

int wf_exec_branch(struct wf_exec *e, const struct wf_node *n, int upstream)
{
	while (n) {
		int st = WF_RESOLVED, idx;
		json_object *res = NULL;

		if (e->ended)
			return e->status;
		if (wf_exec_over_limit(e)) {
			idx = job_add(e, n, upstream);
			e->jobs[idx].status = WF_ERROR;
			e->jobs[idx].result = wf_exec_error_result(e->error);
			e->error_node = n;
			e->last_node = n;
			return WF_ERROR;
		}
		e->steps++;
		idx = job_add(e, n, upstream);
		if (!n->impl) {
			char m[160];
			snprintf(m, sizeof(m), "node type \"%s\" is not registered",
				 n->type);
			st = WF_ERROR;
			res = wf_exec_error_result(m);
			fail(e, n, m);
		} else {
			int64_t t0 = util_mono_us();
			n->impl->run(e, n, idx, &st, &res);
			e->jobs[idx].duration_ms = (double)(util_mono_us() - t0) / 1000.0;
		}
		if (e->jobs[idx].status == WF_PENDING)
			e->jobs[idx].status = st;
		e->jobs[idx].result = res;
		wf_exec_jobs_map_set(e, n->key, jsonx_ref(res));
		if (e->ended)
			return e->status;
		e->last_node = n;
		if (st != WF_RESOLVED) {
			if (st < 0 && !e->error[0]) {
				const char *m = jsonx_get_str(res, "message");
				if (!m && json_object_is_type(res, json_type_string))
					m = json_object_get_string(res);
				if (m) {
					fail(e, n, m);
				} else {
					/* No message (a false condition, an empty
					 * query): say how the job ended. */
					char *s = jsonx_to_js_string(res, false);
					char why[256];
					snprintf(why, sizeof(why),
						 "the job ended with status %s (%d), "
						 "result %.100s",
						 status_name(st), st, res ? s : "null");
					fail(e, n, why);
					free(s);
				}
			} else if (st < 0 && !e->error_node) {
				e->error_node = n;
			}
			return st;
		}
		upstream = idx;
		n = n->downstream;
	}
	return WF_RESOLVED;
}

void wf_exec_run(struct wf_exec *e)
{
	const struct wf_flow *f = e->flow;
	int st;

	if (!e->deadline && e->messages && e->app->cfg.sync_timeout > 0)
		e->deadline = util_mono_ms() + e->app->cfg.sync_timeout;
	if (!f->nnodes) {
		e->status = WF_RESOLVED;
		return;
	}
	if (!f->head) {
		e->status = WF_ERROR;
		snprintf(e->error, sizeof(e->error), "%s",
			 f->load_error ? f->load_error : "workflow has no head");
		return;
	}
	st = wf_exec_branch(e, f->head, -1);
	if (!e->ended)
		e->status = st == WF_PENDING ? WF_PENDING : st;
}

/* ---- variables ---- */

static json_object *system_var(const char *name)
{
	char iso[32];
	if (!strcmp(name, "now")) {
		util_iso_from_ms(util_now_ms(), iso);
		return json_object_new_string(iso);
	}
	if (!strcmp(name, "epoch"))
		return json_object_new_int64(1605024000);
	if (!strcmp(name, "instanceId"))
		return json_object_new_string("flowcgi");
	if (!strcmp(name, "genSnowflakeId")) {
		uint64_t r;
		util_random(&r, sizeof(r));
		return json_object_new_int64((int64_t)(r >> 12));
	}
	if (!strncmp(name, "dateRange.", 10)) {
		int64_t day = 86400000, now = util_now_ms();
		int64_t start = now - now % day, a = start, b = start + day;
		const char *k = name + 10;
		if (!strcmp(k, "yesterday")) {
			a -= day;
			b -= day;
		} else if (!strcmp(k, "tomorrow")) {
			a += day;
			b += day;
		} else if (!strcmp(k, "last7Days")) {
			a -= 6 * day;
		} else if (!strcmp(k, "next7Days")) {
			b += 6 * day;
		} else if (!strcmp(k, "last30Days")) {
			a -= 29 * day;
		} else if (!strcmp(k, "next30Days")) {
			b += 29 * day;
		} else if (strcmp(k, "today")) {
			return NULL;
		}
		json_object *arr = json_object_new_array();
		util_iso_from_ms(a, iso);
		json_object_array_add(arr, json_object_new_string(iso));
		util_iso_from_ms(b - 1, iso);
		json_object_array_add(arr, json_object_new_string(iso));
		return arr;
	}
	return NULL;
}

/* $env reads the environmentVariables collection, never the process
 * environment (contract §5). */
static json_object *env_var(struct wf_exec *e, const char *path)
{
	char name[128];
	size_t n = strcspn(path, ".");
	if (n >= sizeof(name))
		return NULL;
	memcpy(name, path, n);
	name[n] = 0;
	if (!e->env)
		e->env = json_object_new_object();
	if (!jsonx_has(e->env, name)) {
		const struct coll *c =
			schema_coll(e->app->schema, "environmentVariables");
		json_object *flt = json_object_new_object(), *rows = NULL;
		json_object_object_add(flt, "name", json_object_new_string(name));
		struct store_find q = {.filter = flt, .limit = 1};
		json_object *v = NULL;
		if (c && !store_find(e->app->st, e->app->schema, c, &q, &rows) &&
		    json_object_array_length(rows))
			v = jsonx_ref(jsonx_get(json_object_array_get_idx(rows, 0),
						"value"));
		json_object_put(rows);
		json_object_put(flt);
		json_object_object_add(e->env, name, v);
	}
	json_object *v = jsonx_get(e->env, name);
	return path[n] ? wf_template_lookup(v, path + n + 1) : jsonx_ref(v);
}

json_object *wf_exec_resolve(void *exec, const char *path)
{
	struct wf_exec *e = exec;
	if (!strncmp(path, "ctx.", 4))
		path += 4;
	if (!strncmp(path, "$system.", 8))
		return system_var(path + 8);
	if (!strncmp(path, "$env.", 5))
		return env_var(e, path + 5);
	return wf_template_lookup(e->scope, path);
}

json_object *wf_exec_render(struct wf_exec *e, json_object *tmpl)
{
	return wf_template_render(tmpl, wf_exec_resolve, e);
}

/* ---- rows ---- */

static json_object *status_json(int st)
{
	return st == WF_QUEUEING ? NULL : json_object_new_int(st);
}

/* The jobs as stored in the execution row: each with its node, status,
 * result, meta, log, start time and the index of its input job.  Ids are
 * derived when they are read (api_history.c). */
static json_object *jobs_data(const struct wf_exec *e)
{
	json_object *arr = json_object_new_array_ext(e->njobs);
	for (int i = 0; i < e->njobs; i++) {
		const struct wf_job *j = &e->jobs[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "nodeId", json_object_new_int64(j->node_id));
		json_object_object_add(o, "nodeKey", json_object_new_string(j->node_key));
		json_object_object_add(o, "up", json_object_new_int(j->upstream));
		json_object_object_add(o, "status", json_object_new_int(j->status));
		json_object_object_add(o, "result", jsonx_ref(j->result));
		if (j->meta)
			json_object_object_add(o, "meta", jsonx_ref(j->meta));
		if (j->log)
			json_object_object_add(o, "log", json_object_new_string(j->log));
		json_object_object_add(o, "at", json_object_new_int64(j->started_ms));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* NocoBase's options.deleteExecutionOnStatus: an execution that ends with
 * a status the list holds is destroyed as it ends (its jobs with it).
 * Statuses are compared as numbers, as the processor's includes() does;
 * a started (0) or queued execution never matches. */
static bool deleted_on_end(const struct wf_exec *e)
{
	json_object *list = jsonx_get(e->flow->options, "deleteExecutionOnStatus");
	if (e->status == WF_QUEUEING || e->status == WF_PENDING ||
	    !json_object_is_type(list, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *v = json_object_array_get_idx(list, i);
		if ((json_object_is_type(v, json_type_int) ||
		     json_object_is_type(v, json_type_double)) &&
		    json_object_get_double(v) == (double)e->status)
			return true;
	}
	return false;
}

/* An execution deleted as it ends: a queued one's row goes; a new one is
 * never written.  Either way it has no id to show (0). */
static int delete_on_end(struct wf_exec *e, const struct coll *c, int64_t *id)
{
	struct app *a = e->app;
	int64_t n = 0;
	int rc = 0;
	if (e->id) {
		json_object *f = json_object_new_object();
		json_object_object_add(f, "id", json_object_new_int64(e->id));
		rc = store_delete(a->st, a->schema, c, f, &n);
		json_object_put(f);
	}
	*id = 0;
	return rc;
}

/* One statement per execution: its row carries its jobs, so a trigger
 * writes two pages fewer than with a jobs table and its index. */
int wf_exec_save(struct wf_exec *e, int64_t *id)
{
	struct app *a = e->app;
	struct rctx x = {.app = a};
	const struct coll *c = schema_coll(a->schema, "executions");
	json_object *v = json_object_new_object(), *rec = NULL;
	char now[32], started[32];
	int rc;

	if (deleted_on_end(e)) {
		rc = delete_on_end(e, c, id);
		goto out;
	}
	util_iso_from_ms(util_now_ms(), now);
	util_iso_from_ms(e->created_ms, started);
	json_object_object_add(v, "status", status_json(e->status));
	json_object_object_add(v, "output", jsonx_ref(e->output));
	json_object_object_add(v, "updatedAt", json_object_new_string(now));
	json_object_object_add(v, "jobsData", jobs_data(e));
	if (e->id) {
		json_object *f = json_object_new_object();
		int64_t n = 0;
		json_object_object_add(f, "id", json_object_new_int64(e->id));
		/* Stored form: JSON columns go as text. */
		json_object_object_add(v, "output", e->output
			? json_object_new_string(jsonx_str(e->output)) : NULL);
		rc = store_update_count(a->st, a->schema, c, f, v, &n);
		json_object_put(f);
		if (rc)
			goto out;
	} else {
		json_object_object_add(v, "workflowId",
				       json_object_new_int64(e->flow->id));
		json_object_object_add(v, "key", json_object_new_string(e->flow->key));
		json_object_object_add(v, "eventKey",
				       json_object_new_string(e->event_key));
		json_object_object_add(v, "context", jsonx_ref(e->context));
		json_object_object_add(v, "dispatched", json_object_new_boolean(1));
		/* NocoBase 2.2 leaves it NULL unless run by workflows:execute */
		json_object_object_add(v, "manually",
				       e->manually ? json_object_new_boolean(1)
						   : NULL);
		if (e->retry_of)
			json_object_object_add(v, "retryOfId",
					       json_object_new_int64(e->retry_of));
		json_object_object_add(v, "startedAt", json_object_new_string(started));
		json_object_object_add(v, "createdAt", json_object_new_string(started));
		rc = rec_insert_stored(&x, c, v, &rec);
		if (rc)
			goto out;
		e->id = json_object_get_int64(rec);
	}
	*id = e->id;
out:
	/* Once per execution, even when its history is written again after
	 * a rollback. */
	if (!rc && e->status != WF_QUEUEING && !e->counted) {
		metrics_execution(e->flow->key, e->status);
		e->counted = true;
	}
	if (rc)
		log_error("saving execution of workflow %lld: %s",
			  (long long)e->flow->id, x.reason[0] ? x.reason
							      : store_errmsg(a->st));
	json_object_put(v);
	json_object_put(rec);
	return rc;
}

json_object *wf_exec_trace(const struct wf_exec *e)
{
	json_object *t = json_object_new_object(), *jobs = json_object_new_array();
	json_object_object_add(t, "workflowId", json_object_new_int64(e->flow->id));
	json_object_object_add(t, "workflowKey", json_object_new_string(e->flow->key));
	json_object_object_add(t, "title", json_object_new_string(e->flow->title));
	json_object_object_add(t, "sync", json_object_new_boolean(e->flow->sync));
	json_object_object_add(t, "status", status_json(e->status));
	for (int i = 0; i < e->njobs; i++) {
		const struct wf_job *j = &e->jobs[i];
		json_object *o = json_object_new_object();
		json_object_object_add(o, "nodeId", json_object_new_int64(j->node_id));
		json_object_object_add(o, "nodeKey", json_object_new_string(j->node_key));
		json_object_object_add(o, "type", json_object_new_string(j->node->type));
		json_object_object_add(o, "title", json_object_new_string(j->node->title));
		json_object_object_add(o, "status", json_object_new_int(j->status));
		json_object_object_add(o, "result", jsonx_ref(j->result));
		json_object_object_add(o, "durationMs", jsonx_number(j->duration_ms));
		json_object_array_add(jobs, o);
	}
	json_object_object_add(t, "jobs", jobs);
	return t;
}
