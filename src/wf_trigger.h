/*
 * wf_trigger: starting executions from a request (reference §3, contract
 * §4): the plan of a trigger (which keys run, which are skipped and why),
 * running the synchronous workflows in one write transaction with the rows
 * that record them, queueing the asynchronous ones, and keeping the
 * history when a synchronous one fails; and workflows:execute (§3.8).
 *
 * The engine knows nothing of HTTP: the caller reads the request into a
 * struct wf_trigger, and shapes the answer from what comes back (an error
 * code with NocoBase's message and a reason, the response messages, the
 * executions created).
 */
#ifndef FLOWCGI_WF_TRIGGER_H
#define FLOWCGI_WF_TRIGGER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"
#include "limits.h"
#include "records.h"

/* Keys one triggerWorkflows parameter may name (counted as given). */
#define WF_TRIGGER_MAX_KEYS LIMIT_TRIGGER_KEYS

/* Who starts the executions: $context.user and $context.roleName. */
struct wf_caller {
	int64_t user_id;
	json_object *user;  /* borrowed */
	const char *role;
};

struct wf_trigger {
	/* in */
	const char *spec;           /* triggerWorkflows */
	const struct coll *coll;    /* NULL: workflows:trigger (global) */
	json_object *tk;            /* record key or array of keys, or NULL */
	json_object *scope;         /* the role's scope filter, or NULL */
	json_object *assoc;         /* an association resource's filter */
	json_object *values;        /* the form (the request body) */
	struct wf_caller caller;
	bool dry_run;               /* run, then leave everything to roll back:
				     * nothing recorded or queued, requests
				     * not sent, async workflows run inline */
	bool trace_wanted;          /* fill trace */
	/* Or, instead of spec: one workflow to start with a context of the
	 * caller's making (a webhook's). */
	const struct wf_flow *flow;
	json_object *context;
	/* out */
	int err;                    /* 0 or an enum app_err */
	const char *message;        /* NocoBase's message, when not the table's */
	struct buf reason;          /* why, for the error's reason */
	json_object *messages;      /* response messages (array) */
	bool intercepted;           /* an end node failed the request */
	int64_t ids[WF_TRIGGER_MAX_KEYS];
	int nids;                   /* executions created, in key order */
	json_object *trace;         /* what ran (wf_exec_trace), in run order,
				     * then what was queued */
	bool sent;                  /* a request node sent its call */
	int status;                 /* the last execution's status, or
				     * WF_QUEUEING for a queued one */
	json_object *output;        /* its output (an output node's value) */
};

/* Run the trigger.  The caller's read transaction (if any) is turned into
 * a write one before the record is read; on success the writes of the
 * synchronous workflows, their executions and the queued ones are
 * committed at the caller's level.  Returns t->err. */
int wf_trigger_run(struct app *a, struct wf_trigger *t);
void wf_trigger_free(struct wf_trigger *t);

/* workflows:execute: run one version by hand (manually = true). */
struct wf_execute {
	/* in */
	int64_t workflow_id;
	int64_t user_id;            /* whose context it runs in */
	json_object *user;          /* that user's row (borrowed; NULL: none) */
	const char *role;           /* its role for the run, or NULL */
	json_object *data;          /* values.data */
	json_object *filter_tk;     /* values.filterByTk (type 2) */
	bool auto_revision;         /* hand back an editable copy */
	/* out */
	int64_t exec_id;
	int status;
	int64_t new_version;        /* 0: none made */
};

/* Errors in x (code, message, reason). */
int wf_execute_run(struct rctx *x, struct wf_execute *w);

/* executions:retry: a new execution of an execution's workflow version
 * (or of the current enabled version of its key) with its context.  A
 * synchronous workflow runs now, in its own transaction (its writes roll
 * back when it fails, its record stays); an asynchronous one is queued. */
struct wf_retry {
	int64_t exec_id;            /* in: the execution to run again */
	bool current;               /* in: ?version=current */
	int64_t new_id;             /* out */
	int status;                 /* out: WF_QUEUEING when queued */
};
int wf_execute_retry(struct rctx *x, struct wf_retry *w);

#endif
