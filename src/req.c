/* req: see req.h. */
#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "err.h"
#include "jsnum.h"
#include "jsonx.h"
#include "limits.h"
#include "qs.h"
#include "util.h"

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
	auth_principal_free(&r->who);
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

/* The headers flowcgi reads, each within LIMIT_HEADER_BYTES: under plain
 * CGI or a generous server nothing else bounds them. */
static int check_headers(struct req *r)
{
	const struct {
		const char *name;
		const char *value;
	} h[] = {
		{"Authorization", r->authorization},
		{"X-Role", r->x_role},
		{"X-Data-Source", r->x_data_source},
		{"X-Authenticator", r->x_authenticator},
		{"X-Timezone", r->x_timezone},
		{"Accept", r->accept},
		{"Origin", r->origin},
		{"Idempotency-Key", r->idempotency_key},
		{"Content-Type", r->content_type},
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(*h); i++) {
		size_t n = h[i].value ? strlen(h[i].value) : 0;
		if (n > LIMIT_HEADER_BYTES)
			return req_fail(r, APP_EINPUT_LIMIT,
					"the %s header has %zu bytes, more than "
					"the limit of %d",
					h[i].name, n, LIMIT_HEADER_BYTES);
	}
	return 0;
}

/* Pairs in a query string as qs counts them (non-empty between '&'). */
static size_t query_pairs(const char *s)
{
	size_t n = 0;
	for (const char *p = s; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		n += len > 0;
		p = amp ? amp + 1 : NULL;
	}
	return n;
}

int req_parse(struct req *r, long long max_body)
{
	char err[256];
	size_t qn = r->query_string ? strlen(r->query_string) : 0, pairs;
	int rc;

	if (qn > LIMIT_QUERY_BYTES)
		return req_fail_msg(r, APP_EPARAM, "Query string too long",
				    "the query string has %zu bytes, more than "
				    "the limit of %d",
				    qn, LIMIT_QUERY_BYTES);
	if ((pairs = query_pairs(r->query_string)) > LIMIT_QUERY_PAIRS)
		return req_fail(r, APP_EINPUT_LIMIT,
				"the query string has %zu parameters, more than "
				"the limit of %d",
				pairs, LIMIT_QUERY_PAIRS);
	if ((rc = check_headers(r)))
		return rc;
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
	if (r->raw_body) {
		/* The handler reads the bytes (a signed webhook). */
		r->values = json_object_new_object();
		return 0;
	}
	return parse_body(r);
}

int req_route(struct req *r)
{
	char *path, *segs[5];
	int n = 0;
	const char *p = r->path ? r->path : "";

	if (strlen(p) > LIMIT_PATH_BYTES)
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
	/* The OpenAPI document's usual name: the resource "openapi". */
	if (n == 1 && !strcmp(name, "openapi.json"))
		name[7] = 0;
	if (colon) {
		*colon = 0;
		r->action = colon + 1;
		if (!*r->action)
			return req_fail(r, APP_ENOT_FOUND,
					"no action named in path %s", r->path);
	} else {
		r->rest = true; /* the route table maps the method */
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

int req_status(const struct req *r)
{
	if (r->replayed)
		return r->replay_status;
	return r->err ? err_info(r->err)->status : r->status;
}

static void exec_ids(const struct req *r, struct buf *out)
{
	for (int i = 0; i < r->nexec_ids; i++)
		buf_printf(out, "%s%lld", i ? ", " : "",
			   (long long)r->exec_ids[i]);
}

const char *req_body_text(struct req *r)
{
	json_object *body;

	if (!r->err && r->text_body)
		return r->text_body;
	if (r->out_body)
		return r->out_body;
	body = json_object_new_object();
	if (r->err)
		json_object_object_add(body, "errors",
				       r->errors ? jsonx_ref(r->errors)
						 : error_list(r));
	else if (r->has_data)
		json_object_object_add(body, "data", jsonx_ref(r->data));
	/* A dry run's or a trace's meta rides on errors too. */
	if (r->meta && (!r->err || r->dry_run || jsonx_has(r->meta, "trace")))
		json_object_object_add(body, "meta", jsonx_ref(r->meta));
	if (!r->err && r->messages && json_object_array_length(r->messages))
		json_object_object_add(body, "messages", jsonx_ref(r->messages));
	r->out_body = arena_strdup(r->arena, jsonx_str(body));
	json_object_put(body);
	return r->out_body;
}

void req_render(struct req *r, struct buf *out)
{
	int status = req_status(r);
	const char *text = req_body_text(r);

	buf_printf(out,
		   "Status: %d %s\r\n"
		   "Content-Type: %s\r\n"
		   "Content-Length: %zu\r\n"
		   "Cache-Control: no-store\r\n",
		   status, err_status_text(status),
		   !r->err && r->text_body && r->text_type
			   ? r->text_type
			   : "application/json; charset=utf-8",
		   strlen(text));
	if (r->request_id)
		buf_printf(out, "X-Request-Id: %s\r\n", r->request_id);
	if (r->nexec_ids) {
		buf_puts(out, "X-Execution-Id: ");
		exec_ids(r, out);
		buf_puts(out, "\r\n");
	}
	if (r->replayed)
		buf_puts(out, "Idempotent-Replayed: true\r\n");
	if (r->err == APP_EIDEM_IN_USE)
		buf_puts(out, "Retry-After: 1\r\n");
	if (r->who.renewed)
		buf_printf(out,
			   "X-New-Token: %s\r\n"
			   "Access-Control-Expose-Headers: x-new-token\r\n",
			   r->who.renewed);
	buf_puts(out, "\r\n");
	if (strcmp(r->method ? r->method : "", "HEAD"))
		buf_puts(out, text);
}

void req_set_request_id(struct req *r, const char *given)
{
	size_t n = given ? strlen(given) : 0;
	bool sane = n > 0 && n <= 128;
	for (size_t i = 0; sane && i < n; i++)
		sane = given[i] > 0x20 && given[i] < 0x7f;
	if (sane) {
		r->request_id = arena_strdup(r->arena, given);
		return;
	}
	unsigned char raw[12];
	char *hex = arena_alloc(r->arena, 2 * sizeof(raw) + 1);
	util_random(raw, sizeof(raw));
	util_hex(raw, sizeof(raw), hex);
	r->request_id = hex;
}

/* The request's URI (or path and query) with the value of a token=
 * parameter masked. */
static void masked_uri(const struct req *r, struct buf *out)
{
	const char *u = r->uri, *qs = r->query_string;
	if (u && *u) {
		const char *q = strchr(u, '?');
		buf_append(out, u, q ? (size_t)(q - u) : strlen(u));
		qs = q ? q + 1 : NULL;
	} else {
		buf_puts(out, r->path ? r->path : "");
	}
	if (!qs || !*qs)
		return;
	buf_putc(out, '?');
	while (*qs) {
		size_t n = strcspn(qs, "&");
		if (!strncmp(qs, "token=", 6))
			buf_puts(out, "token=***");
		else
			buf_append(out, qs, n);
		qs += n;
		if (*qs == '&')
			buf_putc(out, *qs++);
	}
}

/* s as a JSON string, escaped as json-c escapes it (no slash escape),
 * or null. */
static void log_str(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s) {
		buf_puts(out, "null");
		return;
	}
	buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const unsigned char *q = p;
		while (*q >= 0x20 && *q != '"' && *q != '\\')
			q++;
		buf_append(out, p, (size_t)(q - p));
		if (!*(p = q))
			break;
		switch (*p) {
		case '"': buf_puts(out, "\\\""); break;
		case '\\': buf_puts(out, "\\\\"); break;
		case '\b': buf_puts(out, "\\b"); break;
		case '\f': buf_puts(out, "\\f"); break;
		case '\n': buf_puts(out, "\\n"); break;
		case '\r': buf_puts(out, "\\r"); break;
		case '\t': buf_puts(out, "\\t"); break;
		default:
			buf_puts(out, "\\u00");
			buf_putc(out, hex[*p >> 4]);
			buf_putc(out, hex[*p & 15]);
		}
	}
	buf_putc(out, '"');
}

/* One JSON line, written directly: the log is written for every request,
 * and building it as json-c objects cost a tenth of a trigger. */
void req_log_line(struct req *r, const char *route, struct buf *out)
{
	struct buf tmp = {0};
	char now[32], num[JSNUM_MAX];
	double ms = (double)(util_mono_us() - r->started_us) / 1000.0;

	util_iso_from_ms(util_now_ms(), now);
	buf_puts(out, "{\"time\":");
	log_str(out, now);
	buf_puts(out, ",\"requestId\":");
	log_str(out, r->request_id ? r->request_id : "");
	buf_puts(out, ",\"remoteAddr\":");
	log_str(out, r->remote_addr);
	buf_puts(out, ",\"method\":");
	log_str(out, r->method ? r->method : "");
	masked_uri(r, &tmp);
	buf_puts(out, ",\"path\":");
	log_str(out, buf_str(&tmp));
	buf_puts(out, ",\"route\":");
	log_str(out, route);
	buf_printf(out, ",\"status\":%d,\"durationMs\":%s,\"userId\":",
		   req_status(r), jsnum_format(ms, num));
	if (r->who.user_id)
		buf_printf(out, "%lld", (long long)r->who.user_id);
	else
		buf_puts(out, "null");
	buf_puts(out, ",\"role\":");
	log_str(out, r->who.role);
	buf_puts(out, ",\"executionIds\":[");
	for (int i = 0; i < r->nexec_ids; i++)
		buf_printf(out, "%s%lld", i ? "," : "", (long long)r->exec_ids[i]);
	buf_puts(out, "],\"error\":");
	log_str(out, r->err ? err_info(r->err)->code : NULL);
	buf_putc(out, '}');
	buf_free(&tmp);
}
