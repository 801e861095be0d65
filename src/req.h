/*
 * req: one HTTP request as the API layer sees it, whatever the transport
 * (FastCGI, plain CGI, a unit test).  Every string is copied into the
 * request's arena, because FastCGI params die at FCGX_Finish_r.  The
 * parsed query and body and the response payload are json-c roots put
 * by req_end().
 *
 * Errors travel with the request: a handler calls req_fail(r, APP_E..,
 * "reason") and returns its code; the envelope is written in one place.
 */
#ifndef FLOWCGI_REQ_H
#define FLOWCGI_REQ_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "auth.h"
#include "buf.h"

struct app;
struct api_route;

struct req {
	struct app *app;
	struct arena *arena;

	/* input, copied from the transport */
	const char *method;
	const char *path;           /* after the mount point, no /api */
	const char *query_string;
	const char *content_type;
	const char *authorization;
	const char *x_role;
	const char *x_data_source;
	const char *x_authenticator;
	const char *x_timezone;
	const char *accept;
	const char *origin;
	const char *uri;            /* REQUEST_URI, for the request log */
	const char *remote_addr;
	const char *request_id;     /* X-Request-Id, taken when sane or made */
	int64_t started_us;         /* monotonic start, for the duration */
	const char *body;
	size_t body_len;
	bool raw_body;              /* the route reads the body's bytes itself */
	const char *idempotency_key; /* Idempotency-Key */
	char **env;                 /* the transport's NAME=value params */
	long long content_length;   /* -1: none given */

	/* parsed */
	json_object *query;         /* qs-parsed query string (root) */
	json_object *values;        /* the body as NocoBase's values (root) */

	/* route */
	const char *resource;       /* collection or builtin resource */
	const char *action;
	const char *index;          /* /<resource>:<action>/<index> */
	const char *parent;         /* association form: /<parent>/<id>/... */
	const char *parent_index;
	bool rest;                  /* no colon: the method chose the action */
	const struct api_route *route; /* the row of the route table */

	struct principal who;

	/* response */
	int status;
	json_object *data;          /* root; used when has_data */
	bool has_data;
	json_object *meta;          /* root or NULL */
	json_object *messages;      /* workflow response messages (root) */
	json_object *errors;        /* a prepared error list (root) */
	int64_t exec_ids[64];       /* executions this request created */
	int nexec_ids;
	bool dry_run;               /* roll everything back (?dryRun=true) */
	const char *out_body;       /* the rendered body, once rendered */
	/* A handler's own body and its type instead of the JSON envelope
	 * (metrics text); used only when the request succeeds. */
	const char *text_body;
	const char *text_type;
	/* Idempotency-Key: the answer to store (scope "<user>:<key>" and
	 * the request's fingerprint), or one replayed from the store. */
	const char *idem_scope;
	const char *idem_fp;
	bool replayed;
	int replay_status;

	/* error detail */
	int err;
	const char *err_message;    /* overrides the table's message */
	const char *err_reason;
};

/* Reset r for a new request served by app, drawing on arena. */
void req_begin(struct req *r, struct app *app, struct arena *arena);
/* Release the request's json roots (the arena is reset by the caller). */
void req_end(struct req *r);

/* Record an error with a reason sentence; returns err. */
int req_fail(struct req *r, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same with NocoBase's message replaced by message. */
int req_fail_msg(struct req *r, int err, const char *message,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set the success payload (takes the reference). */
void req_set_data(struct req *r, json_object *data);

/* Query parameter (borrowed), NULL when absent. */
json_object *req_param(struct req *r, const char *name);
const char *req_param_str(struct req *r, const char *name);

/* Parse the query string and the body (413, 400 on failure). */
int req_parse(struct req *r, long long max_body);
/* Split the path into resource/action/index (404); in the REST form the
 * action is left to the route table. */
int req_route(struct req *r);
/* Take X-Request-Id when it is sane (at most 128 printable characters),
 * else make one (24 random hex digits). */
void req_set_request_id(struct req *r, const char *given);

/* The HTTP status the answer has now. */
int req_status(const struct req *r);
/* The JSON body of the answer, rendered once (arena). */
const char *req_body_text(struct req *r);
/* Render the CGI response (Status line, headers, blank line, body). */
void req_render(struct req *r, struct buf *out);
/* The request log line (one JSON object, no newline) for r answered with
 * status; route: the route's name or NULL. */
void req_log_line(struct req *r, const char *route, struct buf *out);

#endif
