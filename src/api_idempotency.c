/*
 * api_idempotency: Idempotency-Key (the IETF httpapi draft's header, with
 * Stripe's semantics).  A key is scoped to the caller (its user, or a
 * webhook's workflow); the first request with it runs and its answer
 * (status, body, X-Execution-Id) is stored with the key in the same
 * transaction as its writes; the same key and fingerprint again get that
 * answer byte for byte, and nothing runs.  5xx answers are not stored:
 * nothing they did stayed, so a retry may run again.  Concurrent requests
 * with one key queue (SQLite: on the write lock; PostgreSQL: on a lock of
 * the key), so the second one replays.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "crypto.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define IDEM_KEY_MAX 255

static const struct coll *keys_coll(struct req *r)
{
	return schema_coll(r->app->schema, "idempotencyKeys");
}

static bool key_valid(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > IDEM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (k[i] < 0x20 || k[i] > 0x7e)
			return false;
	return true;
}

/* sha256 over method, path, query string and the body's bytes. */
static const char *fingerprint(struct req *r)
{
	struct buf b = {0};
	char *hex = arena_alloc(r->arena, 65);
	buf_printf(&b, "%s\n%s\n%s\n", r->method ? r->method : "",
		   r->path ? r->path : "", r->query_string ? r->query_string : "");
	buf_append(&b, r->body ? r->body : "", r->body_len);
	crypto_sha256_hex(b.data, b.len, hex);
	buf_free(&b);
	return hex;
}

/* The stored answer of scope key, unexpired (new ref), or NULL. */
static int stored(struct req *r, const char *scope_key, json_object **row)
{
	json_object *f = json_object_new_object(), *gt = json_object_new_object(),
		    *rows = NULL;
	struct store_find q = {.filter = f, .limit = 1, .hidden = true};
	int rc;

	json_object_object_add(f, "scopeKey", json_object_new_string(scope_key));
	json_object_object_add(gt, "$gt", json_object_new_int64(util_now_ms()));
	json_object_object_add(f, "expiresAt", gt);
	rc = store_find(r->app->st, r->app->schema, keys_coll(r), &q, &rows);
	json_object_put(f);
	*row = !rc && json_object_array_length(rows)
		       ? jsonx_ref(json_object_array_get_idx(rows, 0))
		       : NULL;
	json_object_put(rows);
	return rc ? req_fail(r, rc, "%s", store_errmsg(r->app->st)) : 0;
}

/* Answer from a stored row: its status, body and execution ids. */
static void replay(struct req *r, json_object *row)
{
	int64_t status = 200;
	const char *ids = jsonx_get_str(row, "executionIds");
	jsonx_get_int(row, "status", &status);
	r->replayed = true;
	r->replay_status = (int)status;
	r->out_body = arena_strdup(r->arena, jsonx_get_str(row, "body"));
	while (ids && *ids && r->nexec_ids < (int)(sizeof(r->exec_ids) /
						   sizeof(r->exec_ids[0]))) {
		char *end;
		long long id = strtoll(ids, &end, 10);
		if (end == ids)
			break;
		r->exec_ids[r->nexec_ids++] = id;
		ids = end + strspn(end, ", ");
	}
}

/* Wait for a request holding the same key to end, so that its answer is
 * found and replayed.  On SQLite the write lock taken first did that
 * already; on PostgreSQL, with no site-wide write lock, a key lock does
 * (two requests would otherwise both find no answer and both run).  A
 * wait past the busy timeout is the key's, not the database's: 409, and
 * nothing stored under the key. */
static int queue(struct req *r)
{
	int rc = store_lock_key(r->app->st, r->idem_scope);

	if (!rc)
		return 0;
	r->idem_scope = NULL;
	if (rc == APP_EDB_BUSY)
		return req_fail(r, APP_EIDEM_IN_USE,
				"another request with Idempotency-Key \"%s\" "
				"is still running",
				r->idempotency_key);
	return req_fail(r, rc, "%s", store_errmsg(r->app->st));
}

int api_idem_begin(struct req *r, const char *scope)
{
	json_object *row = NULL;
	const char *k = r->idempotency_key;
	int rc;

	if (!k)
		return 0;
	if (!key_valid(k))
		return req_fail(r, APP_EIDEM_INVALID,
				"an Idempotency-Key is 1 to %d printable ASCII "
				"characters",
				IDEM_KEY_MAX);
	r->idem_scope = arena_printf(r->arena, "%s:%s", scope, k);
	r->idem_fp = fingerprint(r);
	if ((rc = queue(r)) || (rc = stored(r, r->idem_scope, &row)) || !row)
		return rc;
	if (!util_streq(jsonx_get_str(row, "fingerprint"), r->idem_fp))
		rc = req_fail(r, APP_EIDEM_MISMATCH,
			      "Idempotency-Key \"%s\" was used with another "
			      "request (method, path, query or body differ)",
			      k);
	else
		replay(r, row);
	json_object_put(row);
	r->idem_scope = NULL; /* nothing to store */
	return rc;
}

/* The stored row of this answer (new ref). */
static json_object *answer_row(struct req *r, int status)
{
	json_object *v = json_object_new_object();
	struct buf ids = {0};
	for (int i = 0; i < r->nexec_ids; i++)
		buf_printf(&ids, "%s%lld", i ? ", " : "", (long long)r->exec_ids[i]);
	json_object_object_add(v, "scopeKey", json_object_new_string(r->idem_scope));
	json_object_object_add(v, "fingerprint", json_object_new_string(r->idem_fp));
	json_object_object_add(v, "status", json_object_new_int(status));
	json_object_object_add(v, "body", json_object_new_string(req_body_text(r)));
	json_object_object_add(v, "executionIds",
			       ids.len ? json_object_new_string(buf_str(&ids)) : NULL);
	json_object_object_add(v, "expiresAt",
			       json_object_new_int64(util_now_ms() +
						     r->app->cfg.idem_ttl * 1000));
	buf_free(&ids);
	return v;
}

int api_idem_store(struct req *r)
{
	const struct coll *c = keys_coll(r);
	struct rctx x;
	json_object *f, *v, *pk = NULL;
	int64_t n = 0;
	int status = req_status(r), rc;

	if (!r->idem_scope || r->dry_run || status >= 500) {
		r->idem_scope = NULL;
		return 0;
	}
	api_rctx(r, &x);
	/* An expired answer under the same key gives way. */
	f = json_object_new_object();
	json_object_object_add(f, "scopeKey", json_object_new_string(r->idem_scope));
	rc = store_delete(r->app->st, r->app->schema, c, f, &n);
	json_object_put(f);
	v = answer_row(r, status);
	if (!rc)
		rc = rec_insert_stored(&x, c, v, &pk);
	json_object_put(v);
	json_object_put(pk);
	r->idem_scope = NULL;
	if (rc)
		log_error("storing the answer of an Idempotency-Key: %s",
			  x.reason[0] ? x.reason : store_errmsg(r->app->st));
	return rc;
}
