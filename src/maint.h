/*
 * maint: the maintenance step (contract §4): housekeeping every process
 * does after an answer has been sent, never while a client waits, at most
 * once every MAINT_EVERY_REQUESTS requests or MAINT_EVERY_SECONDS seconds
 * (whichever comes first), and all of it at once by `flowcgi.fcgi
 * maintain` for a cron job: expired idempotency keys go, executions
 * older than FLOWCGI_EXECUTIONS_MAX_AGE go (and their space is given back
 * a little at a time), the WAL is checkpointed.
 *
 * Pruning (here and by `flowcgi.fcgi prune`) deletes executions that
 * ended, with their jobs (which live in the execution's row), in batches
 * of MAINT_PRUNE_BATCH, each in its own short write transaction so that
 * requests keep being served in between.  A queued (status NULL) or
 * running (0) execution is never pruned.
 */
#ifndef FLOWCGI_MAINT_H
#define FLOWCGI_MAINT_H

#include "app.h"

#define MAINT_EVERY_REQUESTS 500
#define MAINT_EVERY_SECONDS 60
#define MAINT_PRUNE_BATCH 500
#define MAINT_PRUNE_BATCHES 4   /* per maintenance step */

struct maint_report {
	int64_t idempotency_keys; /* expired keys removed */
	int64_t executions;       /* executions pruned */
	int64_t freed_bytes;      /* what the database file gave back */
};

/* What to prune: executions created more than older_than_ms ago that
 * ended with one of statuses (none given: any ended status). */
struct maint_prune {
	int64_t older_than_ms;
	int statuses[8];
	int nstatuses;
	int max_batches;          /* 0: until none is left */
};

/* After each answer: runs the step when it is due. */
void maint_tick(struct app *a);
/* The whole step now; what it did in *rep. */
int maint_run(struct app *a, struct maint_report *rep);
/* Delete the executions p names; *n how many. */
int maint_prune(struct app *a, const struct maint_prune *p, int64_t *n);
/* An ended execution status by name ("resolved", "failed", "error",
 * "aborted", "canceled", "rejected", "retry_needed") or number; -1 with
 * nothing set when s names none (started and queued are not ended). */
int maint_status(const char *s, int *status);
/* A positive age such as "30d", "12h", "90m" (s, m, h, d, w, y); -1 when
 * s is not one. */
int64_t maint_age(const char *s);

#endif
