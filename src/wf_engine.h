/*
 * wf_engine: executions and jobs; the processor walk of reference §5.
 */
#ifndef FLOWCGI_WF_ENGINE_H
#define FLOWCGI_WF_ENGINE_H

#include "app.h"

/* At process start: executions left STARTED by dead processes become
 * ABORTED (the caller then runs the queue). */
void wf_engine_recover(struct app *a);
/* After a response that queued work: run the queued asynchronous
 * executions (every queued one, not only this request's). */
void wf_engine_after_response(struct app *a);
/* Run every queued execution now (the run-queue command); returns how
 * many ran in *n. */
int wf_engine_run_queue(struct app *a, int *n);

#endif
