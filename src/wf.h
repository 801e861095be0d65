/*
 * wf: the workflow engine's shared shapes.
 *
 * A struct wf_flow is one workflow version compiled for running: its
 * nodes linked into chains and branches, each bound to its instruction.
 * Flows of enabled workflows live in the process cache (wf_flow.c) until
 * the database's workflow counter moves.  A struct wf_exec is one running
 * execution: its context, its jobs (kept in memory and written when the
 * execution stops, in whichever transaction the caller chooses) and the
 * limits it runs under.  The engine knows nothing of HTTP: response
 * messages go to a list that the API reads.
 */
#ifndef FLOWCGI_WF_H
#define FLOWCGI_WF_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"

/* Execution and job statuses (reference §5.2). */
enum {
	WF_QUEUEING = 100, /* execution status NULL */
	WF_PENDING = 0,
	WF_RESOLVED = 1,
	WF_FAILED = -1,
	WF_ERROR = -2,
	WF_ABORTED = -3,
	WF_CANCELED = -4,
	WF_REJECTED = -5,
	WF_RETRY_NEEDED = -6,
};

struct wf_exec;
struct wf_node;

/* What an instruction does (one row of the table in wf_node.c). */
struct wf_node_type {
	const char *name;
	/* Check a config when a node is saved; -1 with a message. */
	int (*validate)(struct app *a, json_object *config, char *err,
			size_t errlen);
	/* Run the node whose job (already recorded as PENDING) is e->jobs[job]:
	 * set *status and *result (new ref).  *status decides the flow (the
	 * downstream runs when RESOLVED, else the chain stops with it) and is
	 * also the job's status, unless the instruction settled
	 * e->jobs[job].status itself: NocoBase saves a branching node's job
	 * before its branch runs, so a condition stays RESOLVED while its
	 * failed branch stops the execution.  Branching nodes run their
	 * branches through wf_exec_branch(e, first, job). */
	void (*run)(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result);
};

struct wf_node {
	int64_t id;
	char *key;
	char *type;
	char *title;
	json_object *config;
	int64_t upstream_id;
	int64_t downstream_id;
	int branch_index;                /* valid when in_branch */
	bool in_branch;
	struct wf_node *upstream;        /* the node before, or the parent */
	struct wf_node *downstream;
	struct wf_node **branches;       /* first node of each branch */
	int nbranches;                   /* sorted by branch_index */
	const struct wf_node_type *impl; /* NULL: unknown type */
};

struct wf_flow {
	int64_t id;
	char *key;
	char *title;
	char *type;
	bool enabled;
	bool sync;
	json_object *config;  /* trigger config */
	json_object *options;
	struct wf_node *nodes;
	int nnodes;
	struct wf_node *head;
	char *load_error;     /* set when the graph is broken */
};

struct wf_job {
	int64_t node_id;
	const char *node_key;
	const struct wf_node *node;
	int status;
	json_object *result;
	json_object *meta;
	char *log;            /* jobs.log (json-query errors), or NULL */
	int upstream;         /* index of the input job, -1 none */
	int64_t started_ms;
	double duration_ms;   /* how long its instruction ran */
};

struct wf_exec {
	struct app *app;
	const struct wf_flow *flow;
	json_object *context;     /* {data, user, roleName} */
	json_object *scope;       /* what templates see: $context, ... */
	json_object *messages;    /* response messages, or NULL (no HTTP) */
	json_object *output;
	int64_t user_id;
	char event_key[40];
	int64_t created_ms;
	struct wf_job *jobs;
	int njobs, capjobs;
	int status;
	const struct wf_node *last_node; /* node of the last job */
	bool ended;               /* an end node stopped the execution */
	int64_t steps;
	int64_t deadline;         /* monotonic ms; 0: none */
	bool manually;
	int64_t retry_of;         /* the execution this one runs again */
	bool sent;                /* a request left: running it again would
				   * send it again */
	bool dry_run;             /* nothing leaves the database: request
				   * nodes describe the call instead */
	char error[512];          /* why the execution failed */
	const struct wf_node *error_node;
	int64_t id;               /* execution row, once stored */
	bool counted;             /* its end is in the metrics */
	json_object *env;         /* $env values read so far */
};

/* ---- flows: wf_flow.c ---- */

/* The enabled, current workflow with key (NULL when none), from the
 * process cache, which is rebuilt when the workflow counter moved. */
const struct wf_flow *wf_flow_enabled(struct app *a, const char *key);
/* Why key matched no enabled workflow: "unknown" or "disabled". */
const char *wf_flow_absent_reason(struct app *a, const char *key);
/* Load any version by id (not cached); free with wf_flow_free. */
int wf_flow_load(struct app *a, int64_t id, struct wf_flow **out);
void wf_flow_free(struct wf_flow *f);

/* ---- executions: wf_exec.c ---- */

/* Prepare an execution of flow with context (takes a reference).  http:
 * response messages are collected for an HTTP answer. */
void wf_exec_init(struct wf_exec *e, struct app *a, const struct wf_flow *f,
		  json_object *context, int64_t user_id, bool http);
void wf_exec_free(struct wf_exec *e);
/* Run the execution to its end (or a pending node). */
void wf_exec_run(struct wf_exec *e);
/* Write the execution and its jobs with their final status; *id gets the
 * new execution id. */
int wf_exec_save(struct wf_exec *e, int64_t *id);
/* What ran, for ?trace and dry runs: {workflowId, workflowKey, title, sync,
 * status, jobs: [{nodeId, nodeKey, type, title, status, result,
 * durationMs}]} (new ref). */
json_object *wf_exec_trace(const struct wf_exec *e);

#endif
