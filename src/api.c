/*
 * api: the route table and the pipeline.  The pipeline's order is
 * NocoBase's (reference §0), which decides which error wins when a
 * request has several problems: an unusable database, then the body, the
 * route, the data source, an unknown resource (404 before any token
 * check), the token (401), the role (401), the ACL (403), and only then
 * the handler's own checks.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "app.h"
#include "auth.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define ROUTE(res, assoc, action, acl, acl_new, access, lock, flags, fn, what) \
	{res, assoc, action, acl, acl_new, access, lock, flags, fn, #fn, what}
/* A collection route: any collection (assoc NULL) or any association. */
#define COLL(assoc, action, acl, acl_new, lock, flags, fn, what)              \
	ROUTE(NULL, assoc, action, acl, acl_new, API_ACL, lock, flags, fn, what)
/* A system resource route for administrators. */
#define ADMIN(res, assoc, action, lock, fn, what)                              \
	ROUTE(res, assoc, action, NULL, NULL, API_ADMIN, lock, 0, fn, what)
/* The five record actions of a system collection (or association). */
#define ADMIN_CRUD(res, assoc, what)                                           \
	ADMIN(res, assoc, "list", API_READ, api_records_list, "List " what),   \
	ADMIN(res, assoc, "get", API_READ, api_records_get, "Get one of " what), \
	ADMIN(res, assoc, "create", API_WRITE, api_records_create,             \
	      "Create one of " what),                                          \
	ADMIN(res, assoc, "update", API_WRITE, api_records_update,             \
	      "Update " what),                                                 \
	ADMIN(res, assoc, "destroy", API_WRITE, api_records_destroy,           \
	      "Delete " what)

static const struct api_route routes[] = {
	/* Records of every collection, directly and through associations. */
	COLL(NULL, "list", "view", NULL, API_READ, 0, api_records_list,
	     "List records with filter, sort, fields, appends and pages"),
	COLL(NULL, "get", "view", NULL, API_READ, 0, api_records_get,
	     "Get one record"),
	COLL(NULL, "create", "create", NULL, API_WRITE,
	     API_LINKS_ONLY | API_IDEMPOTENT, api_records_create,
	     "Create a record"),
	COLL(NULL, "update", "update", NULL, API_WRITE,
	     API_LINKS_ONLY | API_IDEMPOTENT, api_records_update,
	     "Update the records named by filterByTk or filter"),
	COLL(NULL, "destroy", "destroy", NULL, API_WRITE, API_IDEMPOTENT,
	     api_records_destroy,
	     "Delete the records named by filterByTk or filter"),
	COLL(NULL, "trigger", "trigger", "triggerNew", API_LATE, API_IDEMPOTENT,
	     api_trigger_collection,
	     "Run the workflows of triggerWorkflows on a record or a form"),
	COLL("*", "list", "view", NULL, API_READ, 0, api_records_list,
	     "List the records related to a parent record"),
	COLL("*", "get", "view", NULL, API_READ, 0, api_records_get,
	     "Get one related record"),
	COLL("*", "create", "create", NULL, API_WRITE,
	     API_LINKS_ONLY | API_IDEMPOTENT, api_records_create,
	     "Create a record related to the parent"),
	COLL("*", "update", "update", NULL, API_WRITE,
	     API_LINKS_ONLY | API_IDEMPOTENT, api_records_update,
	     "Update related records"),
	COLL("*", "destroy", "destroy", NULL, API_WRITE, API_IDEMPOTENT,
	     api_records_destroy, "Delete related records"),
	COLL("*", "trigger", "trigger", "triggerNew", API_LATE, API_IDEMPOTENT,
	     api_trigger_collection,
	     "Run workflows on a record reached through an association"),

	/* Authentication. */
	ROUTE("auth", NULL, "signIn", NULL, NULL, API_PUBLIC, API_WRITE, 0,
	      api_auth_sign_in, "Sign in with an account and a password"),
	ROUTE("auth", NULL, "signUp", NULL, NULL, API_PUBLIC, API_WRITE, 0,
	      api_auth_sign_up, "Sign up (not enabled)"),
	ROUTE("auth", NULL, "check", NULL, NULL, API_USER, API_WRITE, 0,
	      api_auth_check, "The signed-in user with roles"),
	ROUTE("auth", NULL, "signOut", NULL, NULL, API_USER, API_WRITE, 0,
	      api_auth_sign_out, "Revoke the token"),

	/* Users, roles, grants, scopes, API keys. */
	ADMIN("users", NULL, "list", API_READ, api_records_list, "List users"),
	ADMIN("users", NULL, "get", API_READ, api_records_get, "Get a user"),
	ADMIN("users", NULL, "create", API_WRITE, api_users_create,
	      "Create a user with roles"),
	ADMIN("users", NULL, "update", API_WRITE, api_users_update,
	      "Update users"),
	ADMIN("users", NULL, "destroy", API_WRITE, api_records_destroy,
	      "Delete users"),
	ADMIN("users", "*", "list", API_READ, api_records_list,
	      "List what a user is related to (roles)"),
	ADMIN("users", "*", "get", API_READ, api_records_get,
	      "Get one related record of a user"),
	ADMIN_CRUD("roles", NULL, "roles"),
	ADMIN_CRUD("roles", "resources", "a role's per-collection grants"),
	ADMIN("roles", "users", "list", API_READ, api_records_list,
	      "List the users holding a role"),
	ADMIN("roles", "users", "add", API_WRITE, api_roles_add_users,
	      "Give a role to users"),
	ADMIN("roles", "users", "remove", API_WRITE, api_roles_remove_users,
	      "Take a role from users"),
	ADMIN_CRUD("dataSourcesRolesResourcesScopes", NULL, "data scopes"),
	/* NocoBase grants apiKeys through the pm.api-keys snippet (pm.*). */
	ADMIN("apiKeys", NULL, "list", API_READ, api_apikeys_list,
	      "List the caller's API keys"),
	ADMIN("apiKeys", NULL, "get", API_READ, api_apikeys_get,
	      "Get one of the caller's API keys"),
	ADMIN("apiKeys", NULL, "create", API_WRITE, api_apikeys_create,
	      "Create an API key token"),
	ADMIN("apiKeys", NULL, "destroy", API_WRITE, api_apikeys_destroy,
	      "Delete API keys and revoke their tokens"),

	/* Collections. */
	ADMIN("collections", NULL, "list", API_READ, api_collections_list,
	      "List collections"),
	ADMIN("collections", NULL, "get", API_READ, api_collections_get,
	      "Get a collection's definition"),
	ADMIN("collections", NULL, "create", API_WRITE, api_collections_create,
	      "Create a collection with fields"),
	ADMIN("collections", NULL, "destroy", API_WRITE, api_collections_destroy,
	      "Delete collections and their tables"),
	ADMIN_CRUD("environmentVariables", NULL, "environment variables"),

	/* Workflows, nodes and their history. */
	ADMIN("workflows", NULL, "list", API_READ, api_workflows_list,
	      "List workflow versions"),
	ADMIN("workflows", NULL, "get", API_READ, api_workflows_get,
	      "Get a workflow version"),
	ADMIN("workflows", NULL, "create", API_WRITE, api_workflows_create,
	      "Create a workflow"),
	ADMIN("workflows", NULL, "update", API_WRITE, api_workflows_update,
	      "Update workflows (enabling one makes it current)"),
	ADMIN("workflows", NULL, "destroy", API_WRITE, api_workflows_destroy,
	      "Delete workflow versions and their nodes"),
	ADMIN("workflows", NULL, "revision", API_WRITE, api_workflows_revision,
	      "Copy a version and its nodes into a new version"),
	ROUTE("workflows", NULL, "trigger", NULL, NULL, API_USER, API_LATE,
	      API_IDEMPOTENT, api_trigger_global,
	      "Run global (type 0) workflows"),
	ROUTE("workflows", NULL, "execute", NULL, NULL, API_ADMIN, API_WRITE,
	      API_IDEMPOTENT, api_trigger_execute, "Run one version by hand"),
	ADMIN("workflows", "nodes", "list", API_READ, api_records_list,
	      "List a workflow's nodes"),
	ADMIN("workflows", "nodes", "create", API_WRITE, api_nodes_create,
	      "Insert a node into a workflow"),
	ADMIN("workflows", "*", "list", API_READ, api_records_list,
	      "List what a workflow is related to (executions)"),
	ADMIN("workflows", "*", "get", API_READ, api_records_get,
	      "Get one related record of a workflow"),
	ADMIN("flow_nodes", NULL, "list", API_READ, api_records_list,
	      "List nodes"),
	ADMIN("flow_nodes", NULL, "get", API_READ, api_records_get, "Get a node"),
	ADMIN("flow_nodes", NULL, "create", API_WRITE, api_nodes_create,
	      "Insert a node into the workflow of workflowId"),
	ADMIN("flow_nodes", NULL, "update", API_WRITE, api_nodes_update,
	      "Change nodes' titles and configs"),
	ADMIN("flow_nodes", NULL, "destroy", API_WRITE, api_nodes_destroy,
	      "Delete nodes with their branches"),
	ADMIN("executions", NULL, "list", API_READ, api_executions_list,
	      "List executions (appends=jobs adds their jobs)"),
	ADMIN("executions", NULL, "get", API_READ, api_executions_get,
	      "Get an execution (appends=jobs adds its jobs)"),
	ADMIN("executions", NULL, "destroy", API_WRITE, api_records_destroy,
	      "Delete executions"),
	ROUTE("executions", NULL, "retry", NULL, NULL, API_ADMIN, API_WRITE,
	      API_IDEMPOTENT, api_trigger_retry,
	      "Run an execution again with its context (?version=current)"),
	ADMIN("jobs", NULL, "list", API_READ, api_jobs_list,
	      "List the jobs of an execution"),
	ADMIN("jobs", NULL, "get", API_READ, api_jobs_get, "Get a job"),

	/* Documents.  The OpenAPI description, from this table and the live
	 * schema; the metrics check their own caller (FLOWCGI_METRICS_TOKEN,
	 * or root/admin). */
	ROUTE("openapi", NULL, "get", NULL, NULL, API_USER, API_READ, 0,
	      api_openapi_get,
	      "This API as an OpenAPI 3.1 document (GET /api/openapi.json)"),
	ROUTE("metrics", NULL, "get", NULL, NULL, API_PUBLIC, API_READ, 0,
	      api_metrics_get,
	      "Prometheus metrics of every process of this server"),

	/* Signed webhooks: the signature is the credential. */
	ROUTE("webhooks", NULL, "trigger", NULL, NULL, API_PUBLIC, API_WRITE,
	      API_RAW_BODY, api_webhooks_trigger,
	      "Run a webhook workflow (Standard Webhooks or GitHub signature)"),
};

const struct api_route *api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

void api_route_resource(const struct api_route *rt, struct buf *out)
{
	buf_puts(out, rt->resource ? rt->resource : "<collection>");
	if (!rt->assoc)
		return;
	buf_puts(out, rt->resource && !strcmp(rt->resource, "roles")
			      ? "/<name>/"
			      : "/<id>/");
	buf_puts(out, strcmp(rt->assoc, "*") ? rt->assoc : "<association>");
}

static const char *access_name(enum api_access a)
{
	static const char *const names[] = {"public", "user", "admin", "acl"};
	return names[a];
}

static const char *lock_name(enum api_lock l)
{
	static const char *const names[] = {"read", "write", "late"};
	return names[l];
}

void api_route_line(const struct api_route *rt, struct buf *out)
{
	api_route_resource(rt, out);
	buf_printf(out, "\t%s\t%s%s%s\t%s\t%s\t%s", rt->action,
		   rt->acl ? rt->acl : "-", rt->acl_new ? "/" : "",
		   rt->acl_new ? rt->acl_new : "", access_name(rt->access),
		   lock_name(rt->lock), rt->fn_name);
}

/* ---- finding the route ---- */

/* The action a REST request's method names on a collection path (nseg 1,
 * 3) or an item path (2, 4); NULL: none (405). */
static const char *rest_action(const char *method, bool item)
{
	static const struct {
		const char *method;
		signed char item; /* 0 collection, 1 item, -1 both */
		const char *action;
	} verbs[] = {
		{"GET", 0, "list"},     {"GET", 1, "get"},
		{"POST", 0, "create"},  {"PUT", 1, "update"},
		{"PATCH", 1, "update"}, {"DELETE", -1, "destroy"},
	};
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].method, method) &&
		    (verbs[i].item < 0 || verbs[i].item == item))
			return verbs[i].action;
	return NULL;
}

/* Whether name is one of the system resources of the table. */
static bool system_resource(const char *name)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].resource && !strcmp(routes[i].resource, name))
			return true;
	return false;
}

static bool assoc_matches(const struct api_route *rt, const struct req *r)
{
	if (!rt->assoc)
		return !r->parent;
	return r->parent && (!strcmp(rt->assoc, "*") ||
			     !strcmp(rt->assoc, r->resource));
}

/* The first row for the request's resource and action: a system
 * resource's own rows, else the collection rows. */
static const struct api_route *route_match(const struct req *r)
{
	const char *name = r->parent ? r->parent : r->resource;
	bool sys = system_resource(name);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct api_route *rt = &routes[i];
		if (sys != (rt->resource != NULL) ||
		    (sys && strcmp(rt->resource, name)) ||
		    strcmp(rt->action, r->action) || !assoc_matches(rt, r))
			continue;
		return rt;
	}
	return NULL;
}

int api_route_find(struct req *r, const struct api_route **rt)
{
	*rt = NULL;
	if (r->rest) {
		r->action = rest_action(r->method, r->index != NULL);
		/* A document (metrics, openapi.json) has one action, get, which
		 * GET on its name reaches. */
		if (r->action && !r->index && !strcmp(r->action, "list") &&
		    !route_match(r)) {
			r->action = "get";
			if (!route_match(r))
				r->action = "list";
		}
		if (!r->action || !(*rt = route_match(r)))
			return req_fail(r, APP_EMETHOD,
					"%s has no action for this path",
					r->method);
		return 0;
	}
	*rt = route_match(r);
	return 0;
}

/* ---- the pipeline ---- */

/* The collection a collection route acts on: the resource itself, or the
 * target of the parent's association; NULL when there is none (404). */
static const struct coll *route_collection(struct req *r)
{
	const struct schema *s = r->app->schema;
	const struct coll *c;
	if (!r->parent) {
		c = schema_coll(s, r->resource);
		return c && !c->internal && !c->system ? c : NULL;
	}
	const struct coll *p = schema_coll(s, r->parent);
	const struct field *f = p && !p->system ? coll_field(p, r->resource)
						: NULL;
	c = f && ftype_is_assoc(f->type) ? schema_coll(s, f->target) : NULL;
	return c && !c->internal ? c : NULL;
}

/* The system collection a system route works on (NULL for auth,
 * collections). */
static const struct coll *system_collection(struct req *r)
{
	const struct schema *s = r->app->schema;
	const struct coll *p = schema_coll(s, r->parent ? r->parent : r->resource);
	if (!p || !r->parent)
		return p;
	const struct field *f = coll_field(p, r->resource);
	return f && ftype_is_assoc(f->type) ? schema_coll(s, f->target) : NULL;
}

/* The token: Authorization: Bearer, else ?token= (hosts that drop the
 * header). */
const char *api_bearer(struct req *r)
{
	const char *h = r->authorization, *q;
	if (h) {
		while (*h == ' ')
			h++;
		if (!strncasecmp(h, "Bearer ", 7)) {
			h += 7;
			while (*h == ' ')
				h++;
			if (*h)
				return h;
		}
	}
	q = req_param_str(r, "token");
	return q && *q ? q : NULL;
}

int api_authenticate(struct req *r)
{
	struct err_why e = {0};
	int rc = auth_identify(r->app, api_bearer(r), r->accept, true, &r->who, &e);
	if (!rc)
		rc = auth_role(r->app, r->x_role, &r->who, &e);
	return rc ? api_fail_why(r, &e) : 0;
}

/* The role's permission on the collection, and the scope it grants
 * (variables resolved).  A route without a record key is checked as its
 * acl_new action (trigger -> triggerNew, reference §3.2). */
static int check_acl(struct req *r, struct api_target *t)
{
	const struct api_route *rt = t->route;
	const char *action = rt->acl;
	char reason[512];
	int rc;

	if (rt->acl_new) {
		json_object *tk = api_tk(r);
		if (!tk || json_object_is_type(tk, json_type_null))
			action = rt->acl_new;
		json_object_put(tk);
	}
	rc = acl_can(r->app, r->who.role, t->c->name, action, &t->scope, reason,
		     sizeof(reason));
	if (rc)
		return req_fail(r, APP_EDENIED, "%s", reason);
	if (t->scope) {
		json_object *resolved = api_filter_vars(r, t->scope);
		json_object_put(t->scope);
		t->scope = resolved;
	}
	return 0;
}

static const char *role_of(struct req *r)
{
	return r->who.role ? r->who.role : "anonymous";
}

/* Access, permission and the values' shape, after the resource is known. */
static int admit(struct req *r, struct api_target *t)
{
	const struct api_route *rt = t->route;
	struct app *a = r->app;
	int rc;

	if (rt->access != API_PUBLIC && (rc = api_authenticate(r)))
		return rc;
	if (rt->access == API_ADMIN && !acl_is_admin(a, r->who.role))
		return req_fail(r, APP_EDENIED,
				"role \"%s\" may not administer \"%s\"",
				role_of(r), r->parent ? r->parent : r->resource);
	if (rt->access != API_ACL)
		return 0;
	/* An association reaches system records (notes/1/createdBy): writing
	 * users that way is for administrators, as users:update is. */
	if (t->c->system && rt->lock == API_WRITE && !acl_is_admin(a, r->who.role))
		return req_fail(r, APP_EDENIED,
				"role \"%s\" may not %s \"%s\" records through "
				"\"%s.%s\"",
				role_of(r), rt->action, t->c->name, r->parent,
				r->resource);
	if ((rc = check_acl(r, t)))
		return rc;
	if ((rt->flags & API_LINKS_ONLY) && !r->who.root)
		acl_links_only(a, t->c, r->values);
	return 0;
}

/* A resource the table does not answer this action on: 404, after the
 * token and the role (an anonymous caller learns nothing more). */
static int no_action(struct req *r, const char *name)
{
	int rc = api_authenticate(r);
	if (rc)
		return rc;
	return req_fail(r, APP_ENOT_FOUND, "action \"%s\" does not exist on \"%s\"",
			r->action, name);
}

static int dispatch(struct req *r, const struct api_route *rt)
{
	const char *name = r->parent ? r->parent : r->resource;
	struct api_target t = {.route = rt};
	int rc;

	if (r->x_data_source && *r->x_data_source &&
	    strcmp(r->x_data_source, "main"))
		return req_fail_msg(r, APP_EDATA_SOURCE,
				    arena_printf(r->arena,
						 "data source %s does not exist",
						 r->x_data_source),
				    "flowcgi has one data source, \"main\"");
	if (system_resource(name)) {
		if (!rt)
			return no_action(r, name);
		t.c = system_collection(r);
	} else if (!(t.c = route_collection(r))) {
		return req_fail(r, APP_ENOT_FOUND, "collection \"%s\" does not exist",
				name);
	} else if (!rt) {
		return no_action(r, name);
	}
	rc = admit(r, &t);
	if (!rc && (rt->flags & API_IDEMPOTENT))
		rc = api_idem_begin(r, arena_printf(r->arena, "%lld",
						    (long long)r->who.user_id));
	if (!rc && !r->replayed)
		rc = rt->fn(r, &t);
	api_target_free(&t);
	return rc;
}

/* Whether an error is the server's fault (logged) rather than the
 * request's or a workflow's (answered, not logged). */
static bool server_fault(int err)
{
	return err && err_info(err)->status >= 500 && err != APP_ENO_WORKFLOW &&
	       err != APP_EWF_FAILED && err != APP_EWF_HANGS;
}

/* The path and the method first: a webhook's body is its handler's to
 * read.  A path error waits until the query and the body were read, so
 * that a bad body still wins (reference §0). */
static int route_and_parse(struct req *r, const struct api_route **rt)
{
	int err;
	const char *msg, *why;

	if (!req_route(r))
		api_route_find(r, rt);
	err = r->err;
	msg = r->err_message;
	why = r->err_reason;
	r->err = 0;
	r->raw_body = *rt && ((*rt)->flags & API_RAW_BODY);
	if (req_parse(r, r->app->cfg.max_body))
		return r->err;
	r->err = err;
	r->err_message = msg;
	r->err_reason = why;
	return err;
}

/* The write lock before the first read for a route that writes; the
 * trigger as its backend finds cheaper (store_begin_late).  Requests with
 * one Idempotency-Key queue in api_idem_begin. */
static int begin(struct req *r, const struct api_route *rt)
{
	struct store *st = r->app->st;

	if (!rt)
		return store_begin(st, false);
	if (rt->lock == API_LATE)
		return store_begin_late(st);
	return store_begin(st, rt->lock != API_READ);
}

/* Commit, or roll back a failed request or a dry run; the answer under an
 * Idempotency-Key is stored with the writes (a 4xx after the rollback,
 * alone). */
static void finish(struct req *r)
{
	struct store *st = r->app->st;
	int rc = 0;

	if (!r->err && !r->dry_run && (rc = api_idem_store(r)) == 0)
		rc = store_commit(st);
	if (rc)
		req_fail(r, rc, "%s", store_errmsg(st));
	if (r->err || r->dry_run || rc) {
		store_abort(st);
		/* A renewal that rolled back must not hand out its token. */
		free(r->who.renewed);
		r->who.renewed = NULL;
	}
	if (r->idem_scope && !store_begin(st, true)) {
		if (api_idem_store(r) || store_commit(st))
			store_abort(st);
	}
}

/* One transaction per request, taken before the first read: the write
 * lock first for a route that writes (so its reads and writes see one
 * snapshot and concurrent writers queue instead of failing on upgrade),
 * a read transaction otherwise.  Starting a read transaction costs lock
 * calls on the shared memory, so the change counters, the token check and
 * the handler share one.  The trigger rolls back by itself when it must
 * keep history. */
void api_handle(struct req *r)
{
	struct app *a = r->app;
	const struct api_route *rt = NULL;
	int rc;

	if ((rc = app_ready(a))) {
		req_fail(r, rc, "%s", a->db_msg);
		return;
	}
	if (route_and_parse(r, &rt))
		return;
	r->route = rt;
	if ((rc = begin(r, rt))) {
		req_fail(r, rc, "%s", store_errmsg(a->st));
		return;
	}
	if ((rc = app_refresh(a)))
		req_fail(r, rc, "%s", store_errmsg(a->st));
	else
		rc = dispatch(r, rt);
	if (rc && !r->err)
		req_fail(r, rc, "request failed");
	finish(r);
	if (server_fault(r->err))
		log_error("%s %s: %s", r->method, r->path ? r->path : "",
			  r->err_reason ? r->err_reason : "");
}
