/*
 * api: the request pipeline, in the order NocoBase's middleware runs it
 * (reference §0): database, body, route, data source, resource, token,
 * role, ACL, handler.  Each family of resources has its own file; they
 * share the helpers declared here.
 */
#ifndef FLOWCGI_API_H
#define FLOWCGI_API_H

#include <json-c/json.h>

#include "records.h"
#include "req.h"

/* Serve one parsed-from-transport request; fills r's response. */
void api_handle(struct req *r);

/* A records context acting as the request's user. */
void api_rctx(struct req *r, struct rctx *x);
/* Copy a records error onto the request; returns rc. */
int api_rfail(struct req *r, struct rctx *x, int rc);

/* Query parameters in NocoBase's forms. */
int api_filter_param(struct req *r, json_object **filter);   /* new ref */
json_object *api_list_param(struct req *r, const char *name); /* new ref */
/* filterByTk from the query, else the path index; NULL when neither. */
json_object *api_tk(struct req *r);                           /* new ref */
/* Replace {{$user.id}}-style variables in a filter (new ref). */
json_object *api_filter_vars(struct req *r, json_object *filter);

/* Resource families. */
int api_records(struct req *r, const struct coll *c, json_object *scope);
int api_collections(struct req *r);
int api_auth(struct req *r);
int api_users(struct req *r);
int api_roles(struct req *r);
int api_apikeys(struct req *r);
int api_workflows(struct req *r);
int api_nodes(struct req *r);
int api_execute(struct req *r);
int api_executions(struct req *r);
int api_jobs(struct req *r);
/* Set executed / allExecuted of workflow rows (an object or an array). */
void api_wf_counts(struct req *r, json_object *rows);
/* Copy a workflow version (row) and its nodes into a new disabled version
 * of the same key, with over's fields; *new_id its id. */
int api_wf_copy_version(struct req *r, json_object *src, json_object *over,
			int64_t *new_id);
int api_trigger(struct req *r, const struct coll *c, json_object *scope,
		json_object *assoc_filter);

#endif
