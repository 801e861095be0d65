/*
 * api_int: what the API's own files share (include only from src/api*.c):
 * the target a route acts on, the handlers the route table binds, and the
 * request-parameter helpers of api_params.c.
 */
#ifndef FLOWCGI_API_INT_H
#define FLOWCGI_API_INT_H

#include <json-c/json.h>

#include "api.h"
#include "err.h"
#include "records.h"
#include "req.h"

/* What a route acts on, resolved by the pipeline before the handler. */
struct api_target {
	const struct api_route *route;
	const struct coll *c;       /* the collection, or NULL */
	json_object *scope;         /* the role's scope filter (owned) */
	/* association resources (/<parent>/<id>/<assoc>): resolved by
	 * api_target_assoc when a handler needs the parent row */
	bool assoc_done;
	const struct field *assoc;  /* the association field of the parent */
	json_object *assoc_filter;  /* the rows related to the parent */
	json_object *assoc_fixed;   /* key values a create through it sets */
	json_object *parent_key;    /* the parent's key value the link uses */
};

#define API_HANDLER(name) int name(struct req *r, struct api_target *t)

/* ---- shared helpers: api_params.c ---- */

/* A records context acting as the request's user. */
void api_rctx(struct req *r, struct rctx *x);
/* Copy a records error onto the request; returns rc. */
int api_rfail(struct req *r, struct rctx *x, int rc);
/* The bearer token (Authorization, else ?token=), or NULL. */
const char *api_bearer(struct req *r);
/* Authenticate the caller and check the role (401); 0 when signed in. */
int api_authenticate(struct req *r);
/* Copy a security or engine error onto the request; returns its code. */
int api_fail_why(struct req *r, const struct err_why *w);
/* Query parameters in NocoBase's forms. */
int api_filter_param(struct req *r, json_object **filter);   /* new ref */
json_object *api_list_param(struct req *r, const char *name); /* new ref */
/* filterByTk from the query, else the path index; NULL when neither. */
json_object *api_tk(struct req *r);                           /* new ref */
/* Replace {{$user.id}}-style variables in a filter (new ref). */
json_object *api_filter_vars(struct req *r, json_object *filter);
/* Resolve the association of an association resource (loads the parent
 * row); 0 for a plain resource. */
int api_target_assoc(struct req *r, struct api_target *t);
void api_target_free(struct api_target *t);

/* ---- Idempotency-Key: api_idempotency.c ---- */

/* With an Idempotency-Key: check it (400), and answer from the store when
 * the key was used (the same request: a replay; another: 422).  Without
 * a stored answer, the answer to come is stored by api_idem_store.  scope:
 * whose keys these are ("<user id>", or a webhook's). */
int api_idem_begin(struct req *r, const char *scope);
/* Store the answer (not a 5xx, not a dry run) in the open transaction. */
int api_idem_store(struct req *r);

/* ---- handlers bound by the route table (api.c) ---- */

/* api_records.c: any collection, directly or through an association */
API_HANDLER(api_records_list);
API_HANDLER(api_records_get);
API_HANDLER(api_records_create);
API_HANDLER(api_records_update);
API_HANDLER(api_records_destroy);
/* api_trigger.c */
API_HANDLER(api_trigger_collection);
API_HANDLER(api_trigger_global);
API_HANDLER(api_trigger_execute);
API_HANDLER(api_trigger_retry);
/* api_metrics.c, api_openapi.c */
API_HANDLER(api_metrics_get);
API_HANDLER(api_openapi_get);
/* api_webhooks.c */
API_HANDLER(api_webhooks_trigger);
/* api_auth.c */
API_HANDLER(api_auth_sign_in);
API_HANDLER(api_auth_sign_up);
API_HANDLER(api_auth_check);
API_HANDLER(api_auth_sign_out);
/* api_users.c */
API_HANDLER(api_users_create);
API_HANDLER(api_users_update);
API_HANDLER(api_apikeys_list);
API_HANDLER(api_apikeys_get);
API_HANDLER(api_apikeys_create);
API_HANDLER(api_apikeys_destroy);
/* api_roles.c */
API_HANDLER(api_roles_add_users);
API_HANDLER(api_roles_remove_users);
/* api_collections.c */
API_HANDLER(api_collections_create);
API_HANDLER(api_collections_list);
API_HANDLER(api_collections_get);
API_HANDLER(api_collections_destroy);
/* api_workflows.c */
API_HANDLER(api_workflows_list);
API_HANDLER(api_workflows_get);
API_HANDLER(api_workflows_create);
API_HANDLER(api_workflows_update);
API_HANDLER(api_workflows_destroy);
API_HANDLER(api_workflows_revision);
API_HANDLER(api_nodes_create);
API_HANDLER(api_nodes_update);
API_HANDLER(api_nodes_destroy);
/* api_executions.c */
API_HANDLER(api_executions_list);
API_HANDLER(api_executions_get);
API_HANDLER(api_executions_destroy);
API_HANDLER(api_jobs_get);
API_HANDLER(api_jobs_list);

#endif
