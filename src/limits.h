/*
 * limits: what one request may send, in one place.  Passing a limit is a
 * 4xx JSON error naming it (most: 400 INPUT_LIMIT_EXCEEDED), answered
 * before more is read or parsed than needed.  README's "Limits" table
 * lists them; tests/http/test_limits.py passes each one.
 *
 * Limits of running workflows (loop iterations, jobs, time) are settings:
 * FLOWCGI_LOOP_LIMIT, FLOWCGI_STEP_LIMIT, FLOWCGI_SYNC_TIMEOUT_MS.  The
 * body's size is FLOWCGI_MAX_BODY (413 BODY_TOO_LARGE).
 */
#ifndef FLOWCGI_LIMITS_H
#define FLOWCGI_LIMITS_H

#define LIMIT_PATH_BYTES 4096      /* the URL's path */
#define LIMIT_QUERY_BYTES 16384    /* the query string */
#define LIMIT_QUERY_PAIRS 1000     /* name=value pairs in it */
#define LIMIT_HEADER_BYTES 16384   /* any one header flowcgi reads */
#define LIMIT_JSON_DEPTH 64        /* nesting of a JSON body or parameter */
#define LIMIT_TRIGGER_KEYS 64      /* triggerWorkflows keys, as given */
#define LIMIT_FILTER_DEPTH 32      /* objects within objects in a filter */
#define LIMIT_FILTER_CONDITIONS 1000 /* conditions in one filter */
#define LIMIT_APPENDS 50           /* appends of one request or node */
#define LIMIT_APPEND_DEPTH 6       /* dots in one append path, plus one */
#define LIMIT_PAGE_SIZE 10000      /* pageSize */
#define LIMIT_UNPAGED_ROWS 10000   /* rows of paginate=false */
#define LIMIT_CONFIG_STRING 65536  /* an expression or template in a node */

#endif
