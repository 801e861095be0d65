/*
 * api_webhooks: POST /api/webhooks:trigger/<workflowKey>, a workflow of
 * type "webhook" started by an outside system without a user token: the
 * signature over the raw body is the credential (webhook.c checks it), the
 * delivery id is the idempotency key, so a redelivery gets the stored
 * answer and runs nothing.  $context.data is the JSON body (a body that is
 * not JSON is $context.body, a string) and $context.headers the request's
 * headers with lower-case names, without authorization and cookie.
 */
#include "api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "jsonx.h"
#include "util.h"
#include "webhook.h"
#include "wf.h"
#include "wf_trigger.h"

#define WEBHOOK_TYPE "webhook"

/* A header by its CGI name (HTTP_WEBHOOK_ID), from the transport's params. */
static const char *header(struct req *r, const char *cgi_name)
{
	size_t n = strlen(cgi_name);
	for (char **e = r->env; e && *e; e++)
		if (!strncmp(*e, cgi_name, n) && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

/* The request headers, lower-case, without credentials (new ref). */
static json_object *headers_of(struct req *r)
{
	json_object *h = json_object_new_object();
	char name[128];
	if (r->content_type)
		json_object_object_add(h, "content-type",
				       json_object_new_string(r->content_type));
	for (char **e = r->env; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n;
		if (strncmp(*e, "HTTP_", 5) || !eq)
			continue;
		n = (size_t)(eq - *e - 5);
		if (n == 0 || n >= sizeof(name))
			continue;
		for (size_t i = 0; i < n; i++) {
			char c = (*e)[5 + i];
			name[i] = c == '_' ? '-' : (char)tolower((unsigned char)c);
		}
		name[n] = 0;
		if (!strcmp(name, "authorization") || !strcmp(name, "cookie"))
			continue;
		json_object_object_add(h, name, json_object_new_string(eq + 1));
	}
	return h;
}

/* {data | body, headers} (new ref). */
static json_object *context_of(struct req *r)
{
	json_object *ctx = json_object_new_object(), *data = NULL;
	char err[64];
	if (r->body_len && !jsonx_parse(r->body, r->body_len, JSONX_MAX_DEPTH,
					&data, err, sizeof(err)))
		json_object_object_add(ctx, "data", data);
	else if (r->body_len)
		json_object_object_add(ctx, "body",
				       json_object_new_string_len(r->body,
								  (int)r->body_len));
	else
		json_object_object_add(ctx, "data", NULL);
	json_object_object_add(ctx, "headers", headers_of(r));
	return ctx;
}

static int verify(struct req *r, const struct wf_flow *f)
{
	struct webhook_delivery d = {
		.scheme = jsonx_get_str(f->config, "scheme"),
		.secret = jsonx_get_str(f->config, "secret"),
		.id = header(r, "HTTP_WEBHOOK_ID"),
		.timestamp = header(r, "HTTP_WEBHOOK_TIMESTAMP"),
		.signature = header(r, "HTTP_WEBHOOK_SIGNATURE"),
		.hub_signature = header(r, "HTTP_X_HUB_SIGNATURE_256"),
		.github_delivery = header(r, "HTTP_X_GITHUB_DELIVERY"),
		.body = r->body ? r->body : "",
		.body_len = r->body_len,
		.now_s = util_now_ms() / 1000,
	};
	struct err_why e = {0};
	const char *delivery = NULL;
	int64_t tol = 300;
	jsonx_get_int(f->config, "tolerance", &tol);
	d.tolerance_s = tol;
	if (webhook_verify(&d, &delivery, &e))
		return api_fail_why(r, &e);
	r->idempotency_key = delivery;
	return api_idem_begin(r, arena_printf(r->arena, "webhook:%s", f->key));
}

/* 200 {executionId, status, output} for a synchronous workflow (failures
 * as workflows:trigger answers them), 202 {executionId} once queued. */
static int answer(struct req *r, struct wf_trigger *t, int rc)
{
	json_object *out;
	memcpy(r->exec_ids, t->ids, sizeof(int64_t) * (size_t)t->nids);
	r->nexec_ids = t->nids;
	if (rc)
		return t->message ? req_fail_msg(r, rc, t->message, "%s",
						 buf_str(&t->reason))
				  : req_fail(r, rc, "%s", buf_str(&t->reason));
	out = json_object_new_object();
	json_object_object_add(out, "executionId",
			       t->nids ? json_object_new_int64(t->ids[0]) : NULL);
	if (t->status == WF_QUEUEING) {
		r->status = 202;
	} else {
		json_object_object_add(out, "status", json_object_new_int(t->status));
		json_object_object_add(out, "output", jsonx_ref(t->output));
	}
	req_set_data(r, out);
	return 0;
}

API_HANDLER(api_webhooks_trigger)
{
	const char *key = r->index;
	const struct wf_flow *f = key ? wf_flow_enabled(r->app, key) : NULL;
	struct wf_trigger wt = {0};
	int rc;

	if (!f || strcmp(f->type, WEBHOOK_TYPE))
		return req_fail(r, APP_ENOT_FOUND,
				"no enabled webhook workflow has the key \"%s\"",
				key ? key : "");
	if ((rc = verify(r, f)) || r->replayed)
		return rc;
	wt.flow = f;
	wt.context = context_of(r);
	rc = answer(r, &wt, wf_trigger_run(r->app, &wt));
	json_object_put(wt.context);
	wf_trigger_free(&wt);
	return rc;
}
