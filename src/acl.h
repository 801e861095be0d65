/*
 * acl: may this role do this action on this collection, and within which
 * rows?  Reference §9: root passes; a per-collection grant
 * (usingActionsConfig) decides alone when present; otherwise the role's
 * strategy ("view", "trigger:own", ...).  The answer is allow/deny plus a
 * scope filter that the API and-merges into the query.  Security decides;
 * the API enforces.
 */
#ifndef FLOWCGI_ACL_H
#define FLOWCGI_ACL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "app.h"

/* The ACL action a request action counts as: get/list -> view, ... */
const char *acl_alias(const char *action);
/* 0: allowed, *scope = filter JSON or NULL (new ref, with template
 * variables unresolved).  APP_EDENIED: reason says which check failed. */
int acl_can(struct app *a, const char *role, const char *collection,
	    const char *action, json_object **scope, char *reason,
	    size_t reason_len);
/* May the role administer the system resources (collections, workflows,
 * users, roles, ...)?  root, and roles with allowConfigure or the "pm.*"
 * snippet (the built-in admin). */
bool acl_is_admin(struct app *a, const char *role);

/* Association values that a non-root role writes with create or update
 * become links: an object is replaced by its key and dropped without one,
 * so no record of another collection (a user with roles) is created or
 * changed on the way (NocoBase's sanitizeAssociationValues without
 * updateAssociationValues).  values: an object or an array of them. */
void acl_links_only(struct app *a, const struct coll *c, json_object *values);

/* The filter of the built-in "own" scope. */
#define ACL_OWN_FILTER "{\"createdById\":\"{{ ctx.state.currentUser.id }}\"}"

#endif
