/*
 * wf_queue: asynchronous executions: queued in the request's transaction,
 * run after the response (or by run-queue), each exactly once.
 */
#ifndef FLOWCGI_WF_QUEUE_H
#define FLOWCGI_WF_QUEUE_H

#include <json-c/json.h>
#include <stdint.h>

#include "app.h"
#include "wf.h"

/* Store a queued (status NULL) execution of f (a re-run of execution
 * retry_of, or 0); *id gets its id. */
int wf_queue_add(struct app *a, const struct wf_flow *f, json_object *context,
		 int64_t retry_of, int64_t *id);
/* At process start: executions left STARTED by dead processes become
 * ABORTED (the caller then runs the queue). */
void wf_queue_recover(struct app *a);
/* After a response that queued work: run the queued asynchronous
 * executions (every queued one, not only this request's). */
void wf_queue_after_response(struct app *a);
/* Run every queued execution now (the run-queue command); returns how
 * many ran in *n. */
int wf_queue_run(struct app *a, int *n);

#endif
