/*
 * wf_http: the outbound HTTP call of the workflow `request` node
 * (reference §6), made with libcurl and shaped as NocoBase's axios call
 * reports it.
 *
 * As plugin-workflow-request: header names and values are trimmed, a
 * Content-Type among the headers is ignored (content_type decides), a later
 * header or param of the same name replaces an earlier one, GET sends no
 * body, and a body that parses as JSON is returned parsed whatever its
 * content type (axios' forced JSON parsing), else as a string.
 *
 * Decisions:
 * - Redirects: followed, at most WF_HTTP_MAX_REDIRS, to http/https only.
 *   POST becomes GET on 301/302/303 (as follow-redirects does); PUT, PATCH
 *   and DELETE keep their method (libcurl's rule for custom methods).
 * - Proxies: never.  The environment is not read (a web server may turn a
 *   client's "Proxy:" header into HTTP_PROXY).
 * - Timeout: timeout_ms bounds the whole exchange (connect, redirects,
 *   body); <= 0 means the default, so a request can never wait forever.
 *   Callers clamp it to what is left of their own budget.
 * - Limits: a response body over WF_HTTP_MAX_BODY bytes (after content
 *   decoding) or headers over WF_HTTP_MAX_HEADERS lines / _HEADER_BYTES
 *   bytes end the call with an error.
 * - HTTP/1.1 only, so every response has a statusText as node reports it.
 * - Response headers: lower-case names, duplicates joined with ", ",
 *   set-cookie an array, values read as Latin-1 (as node does); a name
 *   that is not an HTTP token is an error (HPE_INVALID_HEADER_TOKEN, as
 *   node); folded lines are dropped.  Bodies
 *   that are not valid UTF-8 get U+FFFD in place of bad bytes.
 */
#ifndef FLOWCGI_WF_HTTP_H
#define FLOWCGI_WF_HTTP_H

#include <json-c/json.h>

#define WF_HTTP_TIMEOUT 2
#define WF_HTTP_DEFAULT_TIMEOUT_MS 5000
#define WF_HTTP_MAX_REDIRS 5
#define WF_HTTP_MAX_BODY (8L * 1024 * 1024)
#define WF_HTTP_MAX_HEADERS 100
#define WF_HTTP_MAX_HEADER_BYTES (64 * 1024)

struct wf_http_req {
	/* only http:// and https:// accepted, else error "Invalid URL" */
	const char *url;
	/* GET POST PUT PATCH DELETE, any case (default POST) */
	const char *method;
	/* application/json (default), application/x-www-form-urlencoded,
	 * multipart/form-data, application/xml, text/plain */
	const char *content_type;
	json_object *headers; /* array of {name, value} */
	/* array of {name, value}: appended to the URL query, encoded as
	 * axios encodes params */
	json_object *params;
	/* The body.  json: any value (a string that parses as JSON is sent
	 * as it is, trimmed); form-urlencoded and multipart: an array of
	 * {name, value} (multipart also {valueType:"text", name, text}) or
	 * an object; other types: a string as it is, else its JSON text
	 * (text/plain: JS String(value)).  null: no body. */
	json_object *data;
	long timeout_ms; /* default WF_HTTP_DEFAULT_TIMEOUT_MS */
};

/* curl_global_init, once; wf_http_perform calls it lazily, but a program
 * should call it at start-up while it is still single-threaded.
 * Returns 0 or -1. */
int wf_http_global_init(void);
/* curl_global_cleanup, at exit (after it, wf_http_perform must not be
 * called again). */
void wf_http_global_cleanup(void);

/* Perform the call.  *result is always set to a new object.
 * 0: a 2xx answer; *result = {"status","statusText","headers","data"}.
 * 1: a non-2xx answer; *result = {"message":"Request failed with status
 *    code 404","code":"ERR_BAD_REQUEST" (5xx: "ERR_BAD_RESPONSE"),
 *    "status","statusText","headers","data"}, as axios reports it.
 * WF_HTTP_TIMEOUT: *result = {"message":"timeout of 5000ms exceeded",
 *    "code":"ECONNABORTED"}.
 * -1: anything else (bad URL, method or header, refused connection, a
 *    limit); *result = {"message","code"}, the code as node would name it
 *    where there is one (ECONNREFUSED, ENOTFOUND, ERR_INVALID_URL, ...). */
int wf_http_perform(const struct wf_http_req *r, json_object **result);

#endif
