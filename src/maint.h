/*
 * maint: the maintenance step (contract §4): housekeeping every process
 * does after an answer has been sent, never while a client waits, at most
 * once every MAINT_EVERY_REQUESTS requests or MAINT_EVERY_SECONDS seconds
 * (whichever comes first), and all of it at once by `flowcgi.fcgi
 * maintain` for a cron job: expired idempotency keys go, the WAL is
 * checkpointed.
 */
#ifndef FLOWCGI_MAINT_H
#define FLOWCGI_MAINT_H

#include "app.h"

#define MAINT_EVERY_REQUESTS 500
#define MAINT_EVERY_SECONDS 60

struct maint_report {
	int64_t idempotency_keys; /* expired keys removed */
};

/* After each answer: runs the step when it is due. */
void maint_tick(struct app *a);
/* The whole step now; what it did in *rep. */
int maint_run(struct app *a, struct maint_report *rep);

#endif
