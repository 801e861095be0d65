/*
 * wf_node_request: the request instruction (libcurl through wf_http), as
 * plugin-workflow-request behaves.
 *
 * Decisions:
 * - request calls inline in every execution.  NocoBase calls inline only
 *   in synchronous workflows and lets an asynchronous one wait (job
 *   PENDING) for the answer; here an asynchronous execution runs after the
 *   response anyway, so it simply waits in place.  Same results.
 * - A timeout is always set: the config's (default 5000 ms; a rendered
 *   value that is not a positive number also means 5000), cut to what is
 *   left of a synchronous execution's FLOWCGI_SYNC_TIMEOUT_MS.  When that
 *   cut is what stops the call, the job is ERROR naming the limit (not
 *   ABORTED, and ignoreFail does not apply).
 */
#include "wf_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_http.h"


/* A rendered value as the string JS would use; NULL for null/undefined. */
static char *js_str(json_object *v)
{
	return v ? jsonx_to_js_string(v, false) : NULL;
}

/* ---- request ---- */

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
				      "DELETE", NULL};
static const char *const content_types[] = {
	"application/json", "application/x-www-form-urlencoded",
	"multipart/form-data", "application/xml", "text/plain", NULL};

/* headers / params: [{name: string, value: string}] */
static int check_pairs(json_object *c, const char *key, char *err, size_t n)
{
	json_object *list = jsonx_get(c, key);
	char label[80];

	if (!jsonx_has(c, key))
		return 0;
	if (wf_check_array(list, key, err, n))
		return -1;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		snprintf(label, sizeof(label), "%s[%zu]", key, i);
		if (wf_check_object(it, label, err, n))
			return -1;
		for (int k = 0; k < 2; k++) {
			const char *f = k ? "value" : "name";
			snprintf(label, sizeof(label), "%s[%zu].%s", key, i, f);
			if (jsonx_has(it, f) &&
			    wf_check_string(jsonx_get(it, f), label, err, n))
				return -1;
		}
	}
	return 0;
}

int wf_node_request_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *d = jsonx_get(c, "data"), *t = jsonx_get(c, "timeout");
	double ms = 0;

	if ((jsonx_has(c, "url") &&
	     wf_check_string(jsonx_get(c, "url"), "url", err, n)) ||
	    (jsonx_has(c, "method") &&
	     wf_check_oneof(jsonx_get(c, "method"), "method", methods, err, n)) ||
	    (jsonx_has(c, "contentType") &&
	     wf_check_oneof(jsonx_get(c, "contentType"), "contentType",
			  content_types, err, n)) ||
	    check_pairs(c, "headers", err, n) || check_pairs(c, "params", err, n))
		return -1;
	if (jsonx_has(c, "data")) {
		if (json_object_is_type(d, json_type_string)) {
			if (wf_check_string(d, "data", err, n))
				return -1;
		} else if (!json_object_is_type(d, json_type_object) &&
			   !json_object_is_type(d, json_type_array)) {
			snprintf(err, n, "\"data\" must be one of [object, array, "
					 "string]");
			return -1;
		}
	}
	if (jsonx_has(c, "timeout")) {
		if (wf_check_number(t, "timeout", &ms, err, n))
			return -1;
		if (ms != (double)(long long)ms) {
			snprintf(err, n, "\"timeout\" must be an integer");
			return -1;
		}
		if (ms <= 0) {
			snprintf(err, n, "\"timeout\" must be a positive number");
			return -1;
		}
	}
	if ((jsonx_has(c, "ignoreFail") &&
	     wf_check_boolean(jsonx_get(c, "ignoreFail"), "ignoreFail", err, n)) ||
	    (jsonx_has(c, "onlyData") &&
	     wf_check_boolean(jsonx_get(c, "onlyData"), "onlyData", err, n)))
		return -1;
	return 0;
}

static long request_timeout(json_object *v)
{
	double d;
	if (!v || !jsonx_to_double(v, &d) || !(d >= 1))
		return WF_HTTP_DEFAULT_TIMEOUT_MS;
	return d > 2147483647.0 ? 2147483647L : (long)d;
}

void wf_node_request_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	json_object *c = wf_exec_render(e, n->config);
	char *url = js_str(jsonx_get(c, "url"));
	char *method = js_str(jsonx_get(c, "method"));
	char *ctype = js_str(jsonx_get(c, "contentType"));
	long timeout = request_timeout(jsonx_get(c, "timeout"));
	bool capped = false;
	int rc;

	if (e->deadline) {
		int64_t left = e->deadline - util_mono_ms();
		if (left < timeout) {
			if (left <= 0 && wf_exec_over_limit(e)) {
				*status = WF_ERROR;
				*result = wf_exec_error_result(e->error);
				goto out;
			}
			/* 2 ms past the deadline, so that wf_exec_over_limit()
			 * agrees when the call times out. */
			timeout = (long)(left > 0 ? left : 0) + 2;
			capped = true;
		}
	}
	struct wf_http_req r = {
		.url = url,
		.method = method,
		.content_type = ctype,
		.headers = jsonx_get(c, "headers"),
		.params = jsonx_get(c, "params"),
		.data = jsonx_get(c, "data"),
		.timeout_ms = timeout,
	};
	rc = wf_http_perform(&r, result);
	if (rc == WF_HTTP_TIMEOUT && capped && wf_exec_over_limit(e)) {
		json_object_put(*result);
		*result = wf_exec_error_result(e->error);
		*status = WF_ERROR;
	} else if (rc == 0) {
		*status = WF_RESOLVED;
		if (jsonx_get_bool(c, "onlyData", false)) {
			json_object *d = jsonx_ref(jsonx_get(*result, "data"));
			json_object_put(*result);
			*result = d;
		}
	} else {
		/* responseFailure() keeps no headers; axios' ECONNABORTED is
		 * ABORTED unless ignoreFail. */
		json_object_object_del(*result, "headers");
		*status = jsonx_get_bool(c, "ignoreFail", false) ? WF_RESOLVED
			  : rc == WF_HTTP_TIMEOUT		 ? WF_ABORTED
								 : WF_FAILED;
	}
out:
	free(url);
	free(method);
	free(ctype);
	json_object_put(c);
}

