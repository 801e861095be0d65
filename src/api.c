/*
 * api: the pipeline.  The order is NocoBase's (reference §0), which
 * decides which error wins when a request has several problems: an
 * unusable database, then the body, the route, the data source, an
 * unknown resource (404 before any token check), the token (401), the
 * role (401), the ACL (403), and only then the handler's own checks.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "app.h"
#include "auth.h"
#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"

enum access {
	ACCESS_PUBLIC,    /* anyone */
	ACCESS_LOGGED_IN, /* any signed-in user */
	ACCESS_ADMIN,     /* root, or a role that may configure */
};

struct builtin {
	const char *name;
	int (*fn)(struct req *r);
	enum access access;
};

static int api_generic_admin(struct req *r);

static const struct builtin builtins[] = {
	{"auth", api_auth, ACCESS_LOGGED_IN},
	{"users", api_users, ACCESS_ADMIN},
	{"roles", api_roles, ACCESS_ADMIN},
	/* NocoBase grants apiKeys through the pm.api-keys snippet (pm.*). */
	{"apiKeys", api_apikeys, ACCESS_ADMIN},
	{"collections", api_collections, ACCESS_ADMIN},
	{"workflows", api_workflows, ACCESS_ADMIN},
	{"flow_nodes", api_nodes, ACCESS_ADMIN},
	{"executions", api_executions, ACCESS_ADMIN},
	{"jobs", api_jobs, ACCESS_ADMIN},
	{"dataSourcesRolesResourcesScopes", api_generic_admin, ACCESS_ADMIN},
	{"environmentVariables", api_generic_admin, ACCESS_ADMIN},
};

static const struct builtin *builtin_find(const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

/* Reads of system tables through the generic records code. */
static int api_generic_admin(struct req *r)
{
	const char *name = r->parent ? r->parent : r->resource;
	const struct coll *c = schema_coll(r->app->schema, name);
	if (!c)
		return req_fail(r, APP_ENOT_FOUND, "no resource \"%s\"", name);
	return api_records(r, c, NULL);
}

/* The trigger starts reading (token, role, permissions) and takes the
 * write lock only right before it reads the record: the lock is held for
 * the workflows' work, not for the checks in front of it. */
static bool is_write(const char *action)
{
	return strcmp(action, "list") && strcmp(action, "get") &&
	       strcmp(action, "trigger");
}

/* Which access an action of a builtin resource needs. */
static enum access builtin_access(const struct builtin *b, const char *action)
{
	if (!strcmp(b->name, "auth"))
		return !strcmp(action, "signIn") || !strcmp(action, "signUp")
			       ? ACCESS_PUBLIC
			       : ACCESS_LOGGED_IN;
	if (!strcmp(b->name, "workflows") && !strcmp(action, "trigger"))
		return ACCESS_LOGGED_IN;
	return b->access;
}

static int check_collection_acl(struct req *r, const struct coll *c,
				json_object **scope)
{
	char reason[512];
	const char *action = r->action;
	json_object *tk = NULL;
	int rc;

	/* A trigger without a record key asks for triggerNew (§3.2). */
	if (!strcmp(action, "trigger")) {
		tk = api_tk(r);
		if (!tk || json_object_is_type(tk, json_type_null))
			action = "triggerNew";
		json_object_put(tk);
	}
	rc = acl_can(r->app, r->who.role, c->name, action, scope, reason,
		     sizeof(reason));
	if (rc)
		return req_fail(r, APP_EDENIED, "%s", reason);
	if (*scope) {
		json_object *resolved = api_filter_vars(r, *scope);
		json_object_put(*scope);
		*scope = resolved;
	}
	return 0;
}

static int dispatch(struct req *r)
{
	struct app *a = r->app;
	const char *name = r->parent ? r->parent : r->resource;
	const struct builtin *b = builtin_find(name);
	const struct coll *c = NULL;
	json_object *scope = NULL;
	enum access need = ACCESS_LOGGED_IN;
	int rc;

	if (r->x_data_source && *r->x_data_source &&
	    strcmp(r->x_data_source, "main"))
		return req_fail_msg(r, APP_EDATA_SOURCE,
				    arena_printf(r->arena,
						 "data source %s does not exist",
						 r->x_data_source),
				    "flowcgi has one data source, \"main\"");
	if (b) {
		need = builtin_access(b, r->action);
	} else {
		c = schema_coll(a->schema, r->resource);
		if (r->parent) {
			const struct coll *p = schema_coll(a->schema, r->parent);
			const struct field *f = p ? coll_field(p, r->resource)
						  : NULL;
			c = f && ftype_is_assoc(f->type)
				    ? schema_coll(a->schema, f->target)
				    : NULL;
			if (p && p->system)
				c = NULL;
		}
		if (!c || c->internal || (c->system && !r->parent))
			return req_fail(r, APP_ENOT_FOUND,
					"collection \"%s\" does not exist",
					name);
	}
	if (need != ACCESS_PUBLIC) {
		if ((rc = auth_identify(r, true)))
			return rc;
		if ((rc = auth_role(r)))
			return rc;
	}
	if (need == ACCESS_ADMIN && !acl_is_admin(a, r->who.role))
		return req_fail(r, APP_EDENIED,
				"role \"%s\" may not administer \"%s\"",
				r->who.role ? r->who.role : "anonymous", name);
	/* An association reaches system records (notes/1/createdBy): writing
	 * users that way is for administrators, as users:update is. */
	if (c && c->system && is_write(r->action) &&
	    !acl_is_admin(a, r->who.role))
		return req_fail(r, APP_EDENIED,
				"role \"%s\" may not %s \"%s\" records through "
				"\"%s.%s\"",
				r->who.role ? r->who.role : "anonymous",
				r->action, c->name, r->parent, r->resource);
	if (c && (rc = check_collection_acl(r, c, &scope)))
		return rc;
	if (c && !r->who.root &&
	    (!strcmp(r->action, "create") || !strcmp(r->action, "update") ||
	     !strcmp(r->action, "firstOrCreate") ||
	     !strcmp(r->action, "updateOrCreate")))
		acl_links_only(a, c, r->values);

	rc = b ? b->fn(r) : api_records(r, c, scope);
	json_object_put(scope);
	return rc;
}

/* One transaction per request, taken before the first read: IMMEDIATE
 * for an action that writes (so its reads and writes see one snapshot and
 * concurrent writers queue instead of failing on upgrade), deferred for a
 * read.  Starting a read transaction costs lock calls on the shared
 * memory, so the change counters, the token check and the handler share
 * one.  The trigger rolls back by itself when it must keep history. */
void api_handle(struct req *r)
{
	struct app *a = r->app;
	int rc;

	rc = app_ready(a);
	if (rc) {
		req_fail(r, rc, "%s", a->db_msg);
		return;
	}
	if (req_parse(r, a->cfg.max_body) || req_route(r))
		return;
	if ((rc = store_begin(a->st, is_write(r->action)))) {
		req_fail(r, rc, "%s", store_errmsg(a->st));
		return;
	}
	rc = app_refresh(a);
	if (rc)
		req_fail(r, rc, "%s", store_errmsg(a->st));
	else
		rc = dispatch(r);
	if (rc && !r->err)
		req_fail(r, rc, "request failed");
	if (r->err) {
		store_abort(a->st);
		/* A renewal that rolled back must not hand out its token. */
		free(r->new_token);
		r->new_token = NULL;
	} else if ((rc = store_commit(a->st))) {
		store_abort(a->st);
		req_fail(r, rc, "%s", store_errmsg(a->st));
	}
	if (r->err && err_info(r->err)->status >= 500 &&
	    r->err != APP_ENO_WORKFLOW && r->err != APP_EWF_FAILED &&
	    r->err != APP_EWF_HANGS)
		log_error("%s %s: %s", r->method, r->path ? r->path : "",
			  r->err_reason ? r->err_reason : "");
}
