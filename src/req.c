/* req: see req.h. */
#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "qs.h"
#include "util.h"

#define REQ_MAX_QUERY 16384
#define REQ_MAX_PATH 4096

void req_begin(struct req *r, struct app *app, struct arena *arena)
{
	memset(r, 0, sizeof(*r));
	r->app = app;
	r->arena = arena;
	r->content_length = -1;
	r->status = 200;
}

void req_end(struct req *r)
{
	json_object_put(r->query);
	json_object_put(r->values);
	json_object_put(r->data);
	json_object_put(r->meta);
	json_object_put(r->messages);
	json_object_put(r->errors);
	json_object_put(r->who.user);
	json_object_put(r->who.roles);
	json_object_put(r->who.claims);
	free(r->new_token);
	memset(r, 0, sizeof(*r));
}

int req_fail(struct req *r, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->err = err;
	r->err_reason = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	return err;
}

int req_fail_msg(struct req *r, int err, const char *message,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->err = err;
	r->err_message = arena_strdup(r->arena, message);
	r->err_reason = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	return err;
}

void req_set_data(struct req *r, json_object *data)
{
	json_object_put(r->data);
	r->data = data;
	r->has_data = true;
}

json_object *req_param(struct req *r, const char *name)
{
	return jsonx_get(r->query, name);
}

const char *req_param_str(struct req *r, const char *name)
{
	return jsonx_get_str(r->query, name);
}

static bool looks_like_json(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && strchr(" \t\r\n", s[i]))
		i++;
	return i < n && (s[i] == '{' || s[i] == '[');
}

static bool type_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	if (!ct)
		return false;
	while (*ct == ' ')
		ct++;
	return !strncasecmp(ct, want, n) &&
	       (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

static int parse_body(struct req *r)
{
	char err[256];
	const char *ct = r->content_type;
	bool json = type_is(ct, "application/json") ||
		    (ct && strstr(ct, "+json")) ||
		    looks_like_json(r->body, r->body_len);

	if (r->body_len == 0) {
		r->values = json_object_new_object();
		return 0;
	}
	if (json) {
		json_object *v = NULL;
		if (jsonx_parse(r->body, r->body_len, JSONX_MAX_DEPTH, &v, err,
				sizeof(err)))
			return req_fail_msg(r, APP_EJSON, err,
					    "the request body is not valid "
					    "JSON");
		if (!json_object_is_type(v, json_type_object) &&
		    !json_object_is_type(v, json_type_array)) {
			json_object_put(v);
			return req_fail_msg(r, APP_EJSON,
					    "invalid JSON, only supports object "
					    "and array",
					    "the JSON body must be an object or "
					    "an array");
		}
		r->values = v;
		return 0;
	}
	if (type_is(ct, "application/x-www-form-urlencoded")) {
		r->values = qs_parse(r->body, r->body_len, err, sizeof(err));
		if (!r->values)
			return req_fail_msg(r, APP_EPARAM, err,
					    "the form body is malformed");
		return 0;
	}
	/* Other types (text, multipart) carry no values, as in NocoBase. */
	r->values = json_object_new_object();
	return 0;
}

int req_parse(struct req *r, long long max_body)
{
	char err[256];
	size_t qn = r->query_string ? strlen(r->query_string) : 0;

	if (qn > REQ_MAX_QUERY)
		return req_fail_msg(r, APP_EPARAM, "Query string too long",
				    "the query string has %zu bytes, more than "
				    "the limit of %d",
				    qn, REQ_MAX_QUERY);
	r->query = qs_parse(r->query_string ? r->query_string : "", qn, err,
			    sizeof(err));
	if (!r->query)
		return req_fail_msg(r, APP_EPARAM, err,
				    "the query string is malformed");
	if (r->content_length > max_body)
		return req_fail_msg(r, APP_ETOO_LARGE, "Request body too large",
				    "the body has %lld bytes, more than the "
				    "limit of %lld (FLOWCGI_MAX_BODY)",
				    r->content_length, max_body);
	return parse_body(r);
}

static const char *rest_action(const char *method, int nseg)
{
	/* nseg: 1 /posts, 2 /posts/1, 3 /posts/1/comments, 4 .../2 */
	bool coll = nseg == 1 || nseg == 3;
	if (!strcmp(method, "GET"))
		return coll ? "list" : "get";
	if (!strcmp(method, "POST"))
		return nseg == 2 ? NULL : "create";
	if (!strcmp(method, "PUT") || !strcmp(method, "PATCH"))
		return coll ? NULL : "update";
	if (!strcmp(method, "DELETE"))
		return "destroy";
	return NULL;
}

int req_route(struct req *r)
{
	char *path, *segs[5];
	int n = 0;
	const char *p = r->path ? r->path : "";

	if (strlen(p) > REQ_MAX_PATH)
		return req_fail(r, APP_ENOT_FOUND, "the path is too long");
	if (!strncmp(p, "/api/", 5) || !strcmp(p, "/api"))
		p += 4;
	path = arena_strdup(r->arena, p);
	for (char *tok = path; tok && *tok;) {
		while (*tok == '/')
			tok++;
		if (!*tok)
			break;
		char *slash = strchr(tok, '/');
		if (slash)
			*slash = 0;
		if (n == 5)
			return req_fail(r, APP_ENOT_FOUND,
					"no resource at path %s", r->path);
		long len = util_url_decode(tok, strlen(tok), false);
		if (len < 0 || !util_utf8_valid(tok, (size_t)len))
			return req_fail(r, APP_ENOT_FOUND,
					"the path is not validly encoded");
		segs[n++] = tok;
		tok = slash ? slash + 1 : NULL;
	}
	if (n == 0 || n > 4)
		return req_fail(r, APP_ENOT_FOUND, "no resource at path %s",
				r->path ? r->path : "/");
	char *name = segs[n >= 3 ? 2 : 0];
	char *colon = strchr(name, ':');
	if (colon) {
		*colon = 0;
		r->action = colon + 1;
		if (!*r->action)
			return req_fail(r, APP_ENOT_FOUND,
					"no action named in path %s", r->path);
	} else {
		r->rest = true;
		r->action = rest_action(r->method, n);
		if (!r->action)
			return req_fail(r, APP_EMETHOD,
					"%s has no action for this path",
					r->method);
	}
	r->resource = name;
	if (n >= 3) {
		r->parent = segs[0];
		r->parent_index = segs[1];
	}
	if (n == 2 || n == 4)
		r->index = segs[n - 1];
	if (!util_is_ident(r->resource) ||
	    (r->parent && !util_is_ident(r->parent)))
		return req_fail(r, APP_ENOT_FOUND,
				"\"%s\" is not a resource name", r->resource);
	return 0;
}

static json_object *error_list(struct req *r)
{
	const struct err_info *ei = err_info(r->err);
	json_object *list = json_object_new_array(), *e;

	e = json_object_new_object();
	json_object_object_add(
		e, "message",
		json_object_new_string(r->err_message ? r->err_message
						      : ei->message));
	json_object_object_add(e, "code", json_object_new_string(ei->code));
	if (r->err_reason && *r->err_reason)
		json_object_object_add(e, "reason",
				       json_object_new_string(r->err_reason));
	json_object_array_add(list, e);
	return list;
}

void req_render(struct req *r, struct buf *out)
{
	json_object *body = json_object_new_object();
	int status = r->status;
	const char *text;

	if (r->err) {
		status = err_info(r->err)->status;
		json_object_object_add(body, "errors",
				       r->errors ? jsonx_ref(r->errors)
						 : error_list(r));
	} else {
		if (r->has_data)
			json_object_object_add(body, "data", jsonx_ref(r->data));
		if (r->meta)
			json_object_object_add(body, "meta", jsonx_ref(r->meta));
		if (r->messages && json_object_array_length(r->messages))
			json_object_object_add(body, "messages",
					       jsonx_ref(r->messages));
	}
	text = jsonx_str(body);
	buf_printf(out,
		   "Status: %d %s\r\n"
		   "Content-Type: application/json; charset=utf-8\r\n"
		   "Content-Length: %zu\r\n"
		   "Cache-Control: no-store\r\n",
		   status, err_status_text(status), strlen(text));
	if (r->new_token)
		buf_printf(out,
			   "X-New-Token: %s\r\n"
			   "Access-Control-Expose-Headers: x-new-token\r\n",
			   r->new_token);
	buf_puts(out, "\r\n");
	if (strcmp(r->method ? r->method : "", "HEAD"))
		buf_puts(out, text);
	json_object_put(body);
}
