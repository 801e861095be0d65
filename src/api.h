/*
 * api: the request pipeline and the one table of routes.
 *
 * Every route the program answers is one row of the table in api.c: the
 * resource and action it answers, the ACL action it is checked as, the
 * access it needs, when it takes the write lock, and its handler.
 * Dispatch, ACL names, write detection, 405 for a REST method with no
 * action, `flowcgi.fcgi routes` and the OpenAPI document all read it.
 */
#ifndef FLOWCGI_API_H
#define FLOWCGI_API_H

#include <stddef.h>

#include "buf.h"
#include "req.h"

struct api_target;

enum api_access {
	API_PUBLIC,   /* anyone */
	API_USER,     /* any signed-in user */
	API_ADMIN,    /* root, or a role that may configure */
	API_ACL,      /* the role's permission on the collection */
};

enum api_lock {
	API_READ,     /* a read transaction */
	API_WRITE,    /* the write lock before the first read */
	API_LATE,     /* the handler knows once it has read whether it
		       * writes (the trigger): store_begin_late */
};

/* Route flags. */
#define API_LINKS_ONLY 1u /* association values in the body become links
			   * for a non-root role (acl_links_only) */
#define API_IDEMPOTENT 2u /* honours Idempotency-Key */
#define API_RAW_BODY 4u   /* the handler reads the body's bytes (no JSON
			   * parse: a signed webhook) */

struct api_route {
	const char *resource;   /* a resource name; NULL: any collection */
	const char *assoc;      /* NULL: none; "*": any association; a name */
	const char *action;
	const char *acl;        /* the ACL action (API_ACL routes) */
	const char *acl_new;    /* ... when no record key is given */
	enum api_access access;
	enum api_lock lock;
	unsigned flags;
	int (*fn)(struct req *r, struct api_target *t);
	const char *fn_name;
	const char *summary;
};

/* Serve one request read by the transport; fills r's response. */
void api_handle(struct req *r);

/* The route of a routed request: the action from the colon form, or from
 * the method in the REST form (405 when the method names none there).
 * *rt NULL: the table has no such action (the pipeline answers 404 once
 * the resource and the caller are known). */
int api_route_find(struct req *r, const struct api_route **rt);
/* The route table, in order; *n gets the count. */
const struct api_route *api_routes(size_t *n);
/* "<collection>/<id>/<association>" style resource pattern of a route. */
void api_route_resource(const struct api_route *rt, struct buf *out);
/* One tab-separated line: resource, action, ACL action, access, lock,
 * handler (no newline). */
void api_route_line(const struct api_route *rt, struct buf *out);

#endif
