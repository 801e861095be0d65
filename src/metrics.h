/*
 * metrics: the figures GET /api/metrics shows, added up by every process
 * of one server.
 *
 * FastCGI servers run several processes (and plain CGI one per request),
 * and a scrape reaches one of them, so the counters cannot live in a
 * process.  They live in a small file mapped into every process
 * (MAP_SHARED): fixed-size slots, claimed once with a compare-and-swap
 * and then only added to with atomic adds, so a request pays a hash probe
 * and three atomic adds, never a lock, a system call or a database write
 * (the database would put a write on every request, GET included, under
 * the one writers' lock).  The file is found from the database's name
 * (its real path, or the PostgreSQL URI), so every process serving one
 * database shares it, whichever web server started it:
 *     $FLOWCGI_RUN_DIR/metrics-v1-<16 hex of a hash of the database>
 * FLOWCGI_RUN_DIR defaults to /tmp/flowcgi-<uid> (made 0700; refused when
 * it is not a directory of ours).  Counters start from zero when the file
 * is new (after a reboot clears /tmp), which Prometheus reads as a reset.
 *
 * Util level: no project includes but buf.  When metrics_open was not
 * called, or failed, every call is a no-op and the render says so.
 */
#ifndef FLOWCGI_METRICS_H
#define FLOWCGI_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* Map the shared file for the database db (a file path or a URI).
 * Returns 0, or -1 (logged once; the calls below are then no-ops). */
int metrics_open(const char *db);
void metrics_close(void);
/* The shared file in use, or NULL. */
const char *metrics_path(void);

/* One answered request: the route as the request log names it
 * ("<collection>:trigger"; NULL when no route matched), its status and
 * how long it took. */
void metrics_request(const char *route, int status, double seconds);
/* One execution of workflow key that ended with status (the numeric
 * execution status of reference §5.2). */
void metrics_execution(const char *key, int status);
/* Report this long-lived process's resident memory (a FastCGI process;
 * dead ones are dropped when a scrape finds them gone). */
void metrics_register_process(void);

/* Append the shared figures in Prometheus' text format: requests by route
 * and status, durations by route, executions by workflow and status, and
 * the memory of each live process. */
void metrics_render(struct buf *out);
/* Append one gauge (with its HELP and TYPE lines). */
void metrics_gauge(struct buf *out, const char *name, const char *help,
		   double value);

#endif
