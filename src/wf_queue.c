/*
 * wf_queue: asynchronous executions (contract §4.4): stored queued
 * (status NULL) in the request's transaction, claimed atomically by one
 * process, run after the response; and what a dead process left behind.
 */
#include "wf_queue.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "records.h"
#include "store.h"
#include "util.h"
#include "wf.h"

static const struct coll *executions(struct app *a)
{
	return schema_coll(a->schema, "executions");
}

int wf_queue_add(struct app *a, const struct wf_flow *f,
		 json_object *context, int64_t retry_of, int64_t *id)
{
	struct rctx x = {.app = a};
	json_object *v = json_object_new_object(), *rec = NULL;
	char key[40];
	int rc;

	util_uuid(key);
	json_object_object_add(v, "workflowId", json_object_new_int64(f->id));
	json_object_object_add(v, "key", json_object_new_string(f->key));
	json_object_object_add(v, "eventKey", json_object_new_string(key));
	json_object_object_add(v, "context", jsonx_ref(context));
	json_object_object_add(v, "status", NULL);
	json_object_object_add(v, "dispatched", json_object_new_boolean(0));
	if (retry_of)
		json_object_object_add(v, "retryOfId", json_object_new_int64(retry_of));
	rc = rec_insert_stored(&x, executions(a), v, &rec);
	if (!rc) {
		a->queued = true;
		*id = json_object_get_int64(rec);
	}
	json_object_put(v);
	json_object_put(rec);
	return rc;
}

/* ---- the queue ---- */

/* Set fields (JSON text) of execution id. */
static int set_execution(struct app *a, int64_t id, json_object *v)
{
	json_object *f = json_object_new_object();
	int64_t n = 0;
	int rc;
	json_object_object_add(f, "id", json_object_new_int64(id));
	rc = store_update_count(a->st, a->schema, executions(a), f, v, &n);
	json_object_put(f);
	json_object_put(v);
	return rc;
}

/* An execution whose run died after something left the database (an
 * outbound request) is not run again: it ends ABORTED, and says why. */
static int abort_after_effect(struct app *a, int64_t id, const char *what)
{
	json_object *v = json_object_new_object();
	char reason[600], now[32];
	util_iso_from_ms(util_now_ms(), now);
	snprintf(reason, sizeof(reason),
		 "the process running it died after %s; nothing is sent twice: "
		 "run it again with executions:retry",
		 what);
	json_object_object_add(v, "status", json_object_new_int(WF_ABORTED));
	json_object_object_add(v, "reason", json_object_new_string(reason));
	json_object_object_add(v, "updatedAt", json_object_new_string(now));
	log_info("execution %lld: %s", (long long)id, reason);
	return set_execution(a, id, v);
}

/* The claimed execution's row and its workflow version. */
static int claimed_flow(struct app *a, int64_t id, json_object **row,
			struct wf_flow **flow)
{
	json_object *flt = json_object_new_object(), *rows = NULL;
	struct store_find q = {.filter = flt, .limit = 1};
	int64_t wid = 0;
	int rc;

	*row = NULL;
	*flow = NULL;
	json_object_object_add(flt, "id", json_object_new_int64(id));
	rc = store_find(a->st, a->schema, executions(a), &q, &rows);
	json_object_put(flt);
	if (!rc && json_object_array_length(rows))
		*row = jsonx_ref(json_object_array_get_idx(rows, 0));
	json_object_put(rows);
	jsonx_get_int(*row, "workflowId", &wid);
	if (!rc && *row)
		rc = wf_flow_load(a, wid, flow);
	if (!rc && !*flow) {
		log_error("queued execution %lld: workflow %lld is gone",
			  (long long)id, (long long)wid);
		rc = set_execution(a, id, json_tokener_parse("{\"status\":-2}"));
	}
	return rc;
}

/* After a failure of the store: the record of what happened, without
 * the writes, in a transaction of its own. */
static void save_as_error(struct app *a, struct wf_exec *e)
{
	int64_t saved;
	e->status = WF_ERROR;
	for (int i = 0; i < e->njobs; i++)
		if (e->jobs[i].status != WF_RESOLVED)
			e->jobs[i].status = WF_ERROR;
	if (!store_begin(a->st, true) &&
	    (wf_exec_save(e, &saved) || store_commit(a->st)))
		store_rollback(a->st);
}

/* Run the execution claimed in the open write transaction: every node's
 * writes and its final row commit together with the claim. */
static void run_claimed(struct app *a, int64_t id)
{
	struct wf_flow *flow = NULL;
	json_object *row = NULL;
	struct wf_exec e;
	int64_t uid = 0, saved;
	char *effect = NULL;
	int rc;

	if ((rc = store_effect_get(a->st, id, &effect)) || effect) {
		if (!rc && !(rc = abort_after_effect(a, id, effect)) &&
		    !(rc = store_commit(a->st)))
			store_effect_clear(a->st, id);
		if (rc)
			store_abort(a->st);
		free(effect);
		return;
	}
	if ((rc = claimed_flow(a, id, &row, &flow)) || !flow) {
		if (rc || store_commit(a->st))
			store_abort(a->st);
		json_object_put(row);
		return;
	}
	json_object *ctx = jsonx_ref(jsonx_get(row, "context"));
	jsonx_get_int(jsonx_get(ctx, "user"), "id", &uid);
	json_object_put(row);
	wf_exec_init(&e, a, flow, ctx, uid, false);
	e.id = id;
	wf_exec_run(&e);
	if ((rc = wf_exec_save(&e, &saved)) || (rc = store_commit(a->st))) {
		store_abort(a->st);
		save_as_error(a, &e);
	}
	/* Done, committed: nothing of it will run again. */
	store_effect_clear(a->st, id);
	if (e.status < 0)
		log_info("execution %lld of workflow %s ended with status %d: %s",
			 (long long)id, flow->key, e.status, e.error);
	wf_exec_free(&e);
	wf_flow_free(flow);
}

int wf_queue_run(struct app *a, int *n)
{
	int64_t id = 0;
	int rc = 0;
	*n = 0;
	if (!a->st)
		return 0;
	while (!(rc = store_begin(a->st, true))) {
		if ((rc = store_claim_execution(a->st, a->worker, &id)) || !id) {
			store_rollback(a->st);
			break;
		}
		run_claimed(a, id);
		(*n)++;
	}
	return rc;
}

/* Only a request that queued work pays for draining the queue; what a
 * crashed process left behind is drained then too, at the next start, or
 * by run-queue. */
void wf_queue_after_response(struct app *a)
{
	int n;
	if (!a->queued)
		return;
	a->queued = false;
	if (a->st && !app_refresh(a))
		wf_queue_run(a, &n);
}

static char self_worker[64];

/* Start of process pid in ms since the epoch, from /proc (0: unknown). */
static int64_t proc_start_ms(int pid)
{
	char path[64], buf[1024];
	FILE *f;
	unsigned long long ticks = 0, btime = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &ticks) != 1)
		return 0;
	if (!(f = fopen("/proc/stat", "r")))
		return 0;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	return (int64_t)btime * 1000 + (int64_t)(ticks * 1000 / (hz > 0 ? hz : 100));
}

/* A worker is "pid:startms" of the process that claimed an execution.  It
 * is alive when that pid runs and is the same process: a recycled pid
 * started after the claimer did. */
static bool worker_alive(const char *worker)
{
	int pid = atoi(worker);
	const char *colon = strchr(worker, ':');
	int64_t started = colon ? strtoll(colon + 1, NULL, 10) : 0;
	if (!strcmp(worker, self_worker))
		return true;
	if (pid <= 0 || pid == getpid())
		return false;
	if (kill(pid, 0) != 0 && errno != EPERM)
		return false;
	int64_t real = proc_start_ms(pid);
	return !real || !started || real <= started + 1000;
}

/* An execution a dead process left STARTED (committed by an earlier
 * version, which claimed outside the run): back to the queue when
 * nothing it did had left the database, else ABORTED saying what. */
static int recover_one(struct app *a, int64_t id, bool *requeued)
{
	char *effect = NULL;
	int rc = store_effect_get(a->st, id, &effect);
	*requeued = !rc && !effect;
	if (!rc && effect)
		rc = abort_after_effect(a, id, effect);
	else if (!rc)
		rc = set_execution(a, id,
				   json_tokener_parse("{\"status\":null,"
						      "\"worker\":null}"));
	free(effect);
	return rc;
}

void wf_queue_recover(struct app *a)
{
	json_object *ids = NULL;
	int requeued = 0, aborted = 0, rc;
	snprintf(self_worker, sizeof(self_worker), "%s", a->worker);
	if (!a->st || app_refresh(a) || store_begin(a->st, true))
		return;
	rc = store_orphans(a->st, worker_alive, &ids);
	for (size_t i = 0; !rc && i < json_object_array_length(ids); i++) {
		bool back = false;
		rc = recover_one(a, json_object_get_int64(
					    json_object_array_get_idx(ids, i)),
				 &back);
		back ? requeued++ : aborted++;
	}
	json_object_put(ids);
	if (rc || store_commit(a->st)) {
		store_abort(a->st);
		return;
	}
	if (requeued || aborted)
		log_info("executions of dead processes: %d queued again, %d "
			 "ABORTED",
			 requeued, aborted);
	if (requeued)
		a->queued = true;
}
