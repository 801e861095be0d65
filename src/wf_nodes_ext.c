/*
 * wf_nodes_ext: the integration instructions request (libcurl through
 * wf_http) and json-query (the jmespath subset of wf_jsonq), as
 * plugin-workflow-request and plugin-workflow-json-query behave.
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
 * - json-query supports the jmespath engine only; jsonpathplus and
 *   jsonata are refused when the node is saved.
 */
#include "wf_nodes_more.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_http.h"
#include "wf_jsonq.h"

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
	if (wf_joi_array(list, key, err, n))
		return -1;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *it = json_object_array_get_idx(list, i);
		snprintf(label, sizeof(label), "%s[%zu]", key, i);
		if (wf_joi_object(it, label, err, n))
			return -1;
		for (int k = 0; k < 2; k++) {
			const char *f = k ? "value" : "name";
			snprintf(label, sizeof(label), "%s[%zu].%s", key, i, f);
			if (jsonx_has(it, f) &&
			    wf_joi_string(jsonx_get(it, f), label, err, n))
				return -1;
		}
	}
	return 0;
}

int wf_request_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *d = jsonx_get(c, "data"), *t = jsonx_get(c, "timeout");
	double ms = 0;

	if ((jsonx_has(c, "url") &&
	     wf_joi_string(jsonx_get(c, "url"), "url", err, n)) ||
	    (jsonx_has(c, "method") &&
	     wf_joi_valid(jsonx_get(c, "method"), "method", methods, err, n)) ||
	    (jsonx_has(c, "contentType") &&
	     wf_joi_valid(jsonx_get(c, "contentType"), "contentType",
			  content_types, err, n)) ||
	    check_pairs(c, "headers", err, n) || check_pairs(c, "params", err, n))
		return -1;
	if (jsonx_has(c, "data")) {
		if (json_object_is_type(d, json_type_string)) {
			if (wf_joi_string(d, "data", err, n))
				return -1;
		} else if (!json_object_is_type(d, json_type_object) &&
			   !json_object_is_type(d, json_type_array)) {
			snprintf(err, n, "\"data\" must be one of [object, array, "
					 "string]");
			return -1;
		}
	}
	if (jsonx_has(c, "timeout")) {
		if (wf_joi_number(t, "timeout", &ms, err, n))
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
	     wf_joi_boolean(jsonx_get(c, "ignoreFail"), "ignoreFail", err, n)) ||
	    (jsonx_has(c, "onlyData") &&
	     wf_joi_boolean(jsonx_get(c, "onlyData"), "onlyData", err, n)))
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

void wf_request_run(struct wf_exec *e, const struct wf_node *n, int job,
		    int *status, json_object **result)
{
	json_object *c = wf_render(e, n->config);
	char *url = js_str(jsonx_get(c, "url"));
	char *method = js_str(jsonx_get(c, "method"));
	char *ctype = js_str(jsonx_get(c, "contentType"));
	long timeout = request_timeout(jsonx_get(c, "timeout"));
	bool capped = false;
	int rc;

	if (e->deadline) {
		int64_t left = e->deadline - util_mono_ms();
		if (left < timeout) {
			if (left <= 0 && wf_over_limit(e)) {
				*status = WF_ERROR;
				*result = wf_error_result(e->error);
				goto out;
			}
			/* 2 ms past the deadline, so that wf_over_limit()
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
	if (rc == WF_HTTP_TIMEOUT && capped && wf_over_limit(e)) {
		json_object_put(*result);
		*result = wf_error_result(e->error);
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

/* ---- json-query ---- */

int wf_jsonq_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *eng = jsonx_get(c, "engine"), *model = jsonx_get(c, "model");
	char label[80];

	if (jsonx_has(c, "engine")) {
		if (wf_joi_string(eng, "engine", err, n))
			return -1;
		if (strcmp(json_object_get_string(eng), "jmespath")) {
			snprintf(err, n, "json-query engine \"%.64s\" is not "
					 "supported: flowcgi implements jmespath "
					 "only",
				 json_object_get_string(eng));
			return -1;
		}
	}
	if (jsonx_has(c, "expression") &&
	    !json_object_is_type(jsonx_get(c, "expression"), json_type_string)) {
		snprintf(err, n, "\"expression\" must be a string");
		return -1;
	}
	if (!jsonx_has(c, "model") || !model)
		return 0;
	if (wf_joi_array(model, "model", err, n))
		return -1;
	for (size_t i = 0; i < json_object_array_length(model); i++) {
		json_object *it = json_object_array_get_idx(model, i);
		json_object *alias = jsonx_get(it, "alias");
		snprintf(label, sizeof(label), "model[%zu]", i);
		if (wf_joi_object(it, label, err, n))
			return -1;
		snprintf(label, sizeof(label), "model[%zu].path", i);
		if (wf_joi_string(jsonx_get(it, "path"), label, err, n))
			return -1;
		if (alias && !json_object_is_type(alias, json_type_string)) {
			snprintf(err, n, "\"model[%zu].alias\" must be a string", i);
			return -1;
		}
	}
	return 0;
}

/* An array index as JS writes it: "0", "12", not "01" or "+1". */
static bool array_index(const char *s, size_t len, size_t *out)
{
	size_t i = 0;
	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 18)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		i = i * 10 + (size_t)(*p - '0');
	}
	*out = i;
	return i < len;
}

/* A string's length or character as JS counts them (UTF-16 units); a
 * half of a character outside the BMP is undefined here. */
static json_object *string_step(json_object *v, const char *seg, bool *found)
{
	const unsigned char *s = (const unsigned char *)json_object_get_string(v);
	size_t units = 0, want;
	bool length = !strcmp(seg, "length");

	if (!length && !array_index(seg, SIZE_MAX, &want))
		return NULL;
	while (*s) {
		size_t len = *s < 0x80 ? 1 : *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : 4;
		if (!length && units == want && len < 4) {
			*found = true;
			return json_object_new_string_len((const char *)s, (int)len);
		}
		units += len == 4 ? 2 : 1;
		for (size_t k = 0; k < len && *s; k++)
			s++;
	}
	if (!length)
		return NULL;
	*found = true;
	return json_object_new_int64((int64_t)units);
}

/* One segment of v as lodash get() steps: an object's key, an array's
 * index or its length, a string's.  New ref; *found false for undefined. */
static json_object *step(json_object *v, const char *seg, bool *found)
{
	json_object *out = NULL;
	size_t i;
	*found = false;
	if (json_object_is_type(v, json_type_string))
		return string_step(v, seg, found);
	if (json_object_is_type(v, json_type_object)) {
		*found = json_object_object_get_ex(v, seg, &out);
	} else if (json_object_is_type(v, json_type_array)) {
		size_t len = json_object_array_length(v);
		if (!strcmp(seg, "length")) {
			*found = true;
			return json_object_new_int64((int64_t)len);
		}
		if (array_index(seg, len, &i)) {
			*found = true;
			out = json_object_array_get_idx(v, i);
		}
	}
	return jsonx_ref(out);
}

/* lodash get(v, path): the whole path when v has it as a key, else the
 * segments of a.b, a[0], a["b"].  New ref; *found false for undefined. */
static json_object *model_get(json_object *v, const char *path, bool *found)
{
	json_object *cur;
	char seg[256];

	if (json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, path, &cur)) {
		*found = true;
		return jsonx_ref(cur);
	}
	cur = jsonx_ref(v);
	*found = true;
	for (const char *p = path; *p && *found;) {
		size_t len;
		char q = 0;
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			p++;
			if (*p == '"' || *p == '\'')
				q = *p++;
			len = q ? (size_t)(strchrnul(p, q) - p) : strcspn(p, "]");
		} else {
			len = strcspn(p, ".[");
		}
		if (len >= sizeof(seg)) {
			*found = false;
			break;
		}
		memcpy(seg, p, len);
		seg[len] = 0;
		p += len;
		if (q && *p)
			p++;
		if (*p == ']')
			p++;
		json_object *next = step(cur, seg, found);
		json_object_put(cur);
		cur = next;
	}
	if (!*found) {
		json_object_put(cur);
		return NULL;
	}
	return cur;
}

/* mapModel(): {alias or path with "." as "_": get(data, path)}; keys whose
 * value is undefined are left out (JSON.stringify drops them). */
static json_object *map_model(json_object *data, json_object *model)
{
	json_object *out = json_object_new_object();
	bool objectish = json_object_is_type(data, json_type_object) ||
			 json_object_is_type(data, json_type_array);

	for (size_t i = 0; objectish && i < json_object_array_length(model); i++) {
		json_object *it = json_object_array_get_idx(model, i);
		const char *path = jsonx_get_str(it, "path");
		json_object *alias = jsonx_get(it, "alias");
		char *key;
		bool found;
		if (!path)
			continue;
		if (jsonx_truthy(alias)) {
			key = jsonx_to_js_string(alias, false);
		} else {
			key = strdup(path);
			if (!key)
				abort();
			for (char *k = key; *k; k++)
				if (*k == '.')
					*k = '_';
		}
		json_object *v = model_get(data, path, &found);
		if (found)
			json_object_object_add(out, key, v);
		else
			json_object_object_del(out, key);
		free(key);
	}
	return out;
}

void wf_jsonq_run(struct wf_exec *e, const struct wf_node *n, int job,
		  int *status, json_object **result)
{
	json_object *cfg = n->config, *model = jsonx_get(cfg, "model");
	json_object *src = NULL, *xv = NULL, *out = NULL;
	char *expr = NULL, err[512];

	*result = NULL;
	/* Saved configs passed this already; a config that did not (a
	 * database edited by hand) fails here rather than half-works. */
	if (wf_jsonq_validate(NULL, cfg, err, sizeof(err)))
		goto fail;
	/* NocoBase renders source (default "") and expression (default "")
	 * together with the variables. */
	src = jsonx_has(cfg, "source") ? wf_render(e, jsonx_get(cfg, "source"))
				       : json_object_new_string("");
	xv = wf_render(e, jsonx_truthy(jsonx_get(cfg, "expression"))
				  ? jsonx_get(cfg, "expression")
				  : NULL);
	expr = xv ? jsonx_to_js_string(xv, false) : strdup("");
	if (!expr)
		abort();
	if (wf_jsonq_eval(src, expr, &out, err, sizeof(err)))
		goto fail;
	bool mapped = json_object_is_type(model, json_type_array) &&
		      json_object_array_length(model);
	if (mapped && json_object_is_type(out, json_type_array)) {
		json_object *list = json_object_new_array();
		size_t len = json_object_array_length(out);
		for (size_t i = 0; i < len; i++) {
			json_object *it = json_object_array_get_idx(out, i);
			json_object_array_add(list, map_model(it, model));
		}
		json_object_put(out);
		out = list;
	} else if (mapped && json_object_is_type(out, json_type_object)) {
		json_object *one = map_model(out, model);
		json_object_put(out);
		out = one;
	}
	*status = WF_RESOLVED;
	*result = out;
	goto out;
fail:
	/* As NocoBase: result null, the error in the job's log. */
	*status = WF_ERROR;
	wf_job_log(e, job, err);
	if (!e->error[0]) {
		e->error_node = n;
		snprintf(e->error, sizeof(e->error), "json-query failed: %.400s",
			 err);
	}
out:
	free(expr);
	json_object_put(xv);
	json_object_put(src);
}
