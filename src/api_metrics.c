/*
 * api_metrics: GET /api/metrics, the figures of every process of this
 * server in Prometheus' text format.  The counters come from the shared
 * file of metrics.c; what the database knows (the queue, its size) is
 * read at scrape time.
 *
 * Who may read it: a bearer token equal to FLOWCGI_METRICS_TOKEN (for a
 * Prometheus that holds no user), or a signed-in user whose role is root
 * or may configure (admin).
 */
#include "api_int.h"

#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "app.h"
#include "crypto.h"
#include "metrics.h"
#include "store.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

static bool metrics_token(struct req *r)
{
	const char *want = getenv("FLOWCGI_METRICS_TOKEN");
	const char *got = api_bearer(r);
	size_t n = want ? strlen(want) : 0;
	return n && got && strlen(got) == n && crypto_equal(got, want, n);
}

/* Executions waiting in the queue (status NULL). */
static int queue_depth(struct req *r, int64_t *n)
{
	struct app *a = r->app;
	const struct coll *c = schema_coll(a->schema, "executions");
	json_object *f = json_object_new_object();
	int rc;
	json_object_object_add(f, "status", NULL);
	rc = c ? store_count(a->st, a->schema, c, f, n) : 0;
	json_object_put(f);
	return rc;
}

API_HANDLER(api_metrics_get)
{
	struct buf out = {0};
	int64_t queued = 0, db = -1, wal = -1;
	int rc;

	if (!metrics_token(r)) {
		if ((rc = api_authenticate(r)))
			return rc;
		if (!acl_is_admin(r->app, r->who.role))
			return req_fail(r, APP_EDENIED,
					"role \"%s\" may not read the metrics "
					"(root, admin, or FLOWCGI_METRICS_TOKEN)",
					r->who.role ? r->who.role : "");
	}
	if ((rc = queue_depth(r, &queued)) ||
	    (rc = store_size(r->app->st, &db, &wal)))
		return req_fail(r, rc, "%s", store_errmsg(r->app->st));
	metrics_render(&out);
	metrics_gauge(&out, "flowcgi_queue_depth",
		      "Asynchronous executions queued and not yet started.",
		      (double)queued);
	if (db >= 0)
		metrics_gauge(&out, "flowcgi_database_size_bytes",
			      "Size of the database.", (double)db);
	if (wal >= 0)
		metrics_gauge(&out, "flowcgi_database_wal_size_bytes",
			      "Size of the database's write-ahead log.",
			      (double)wal);
	r->text_body = arena_strdup(r->arena, buf_str(&out));
	r->text_type = METRICS_TYPE;
	buf_free(&out);
	return 0;
}
