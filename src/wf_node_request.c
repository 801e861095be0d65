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
#include <time.h>

#include "buf.h"
#include "jsonx.h"
#include "store.h"
#include "util.h"
#include "wf_http.h"


/* A rendered value as the string JS would use; NULL for null/undefined. */
static char *js_str(json_object *v)
{
	return v ? jsonx_to_js_string(v, false) : NULL;
}

/* ---- request ---- */

static int check_retry(json_object *c, char *err, size_t n);

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
	return check_retry(c, err, n);
}

static long request_timeout(json_object *v)
{
	double d;
	if (!v || !jsonx_to_double(v, &d) || !(d >= 1))
		return WF_HTTP_DEFAULT_TIMEOUT_MS;
	return d > 2147483647.0 ? 2147483647L : (long)d;
}

/* Names whose values are credentials: masked in a dry run's description. */
static bool secret_name(const char *name)
{
	static const char *const words[] = {"authorization", "cookie", "token",
					    "secret", "password", "passwd",
					    "api-key", "apikey", "api_key",
					    "signature", "credential", NULL};
	char low[128];
	size_t i;
	for (i = 0; name && name[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32
								 : name[i]);
	low[i] = 0;
	for (int w = 0; words[w]; w++)
		if (strstr(low, words[w]))
			return true;
	return false;
}

/* [{name, value}] with the values of credential names masked (new ref). */
static json_object *masked_pairs(json_object *list)
{
	json_object *out = json_object_new_array();
	for (size_t i = 0; json_object_is_type(list, json_type_array) &&
			   i < json_object_array_length(list);
	     i++) {
		json_object *p = jsonx_copy(json_object_array_get_idx(list, i));
		if (secret_name(jsonx_get_str(p, "name")))
			json_object_object_add(p, "value",
					       json_object_new_string("***"));
		json_object_array_add(out, p);
	}
	return out;
}

/* An object's credential-named members masked, one level (new ref). */
static json_object *masked_data(json_object *d)
{
	json_object *out = jsonx_copy(d);
	if (!json_object_is_type(out, json_type_object))
		return out;
	json_object_object_foreach(out, k, v) {
		(void)v;
		if (secret_name(k))
			json_object_object_add(out, k, json_object_new_string("***"));
	}
	return out;
}

/* A URL with the password of its user information masked. */
static json_object *masked_url(const char *url)
{
	const char *scheme = url ? strstr(url, "://") : NULL;
	const char *at, *colon, *slash;
	if (!scheme)
		return url ? json_object_new_string(url) : NULL;
	slash = strchr(scheme + 3, '/');
	at = strchr(scheme + 3, '@');
	if (!at || (slash && at > slash))
		return json_object_new_string(url);
	colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
	if (!colon)
		return json_object_new_string(url);
	struct buf m = {0};
	buf_printf(&m, "%.*s:***%s", (int)(colon - url), url, at);
	json_object *o = json_object_new_string(buf_str(&m));
	buf_free(&m);
	return o;
}

/* A dry run sends nothing: the job says what would have been sent. */
static void describe(json_object *c, const char *method, int *status,
		     json_object **result)
{
	json_object *req = json_object_new_object();
	json_object_object_add(req, "method",
			       json_object_new_string(method && *method ? method
									 : "POST"));
	json_object_object_add(req, "url", masked_url(jsonx_get_str(c, "url")));
	json_object_object_add(req, "headers", masked_pairs(jsonx_get(c, "headers")));
	json_object_object_add(req, "params", masked_pairs(jsonx_get(c, "params")));
	json_object_object_add(req, "data", masked_data(jsonx_get(c, "data")));
	*result = json_object_new_object();
	json_object_object_add(*result, "dryRun", json_object_new_boolean(1));
	json_object_object_add(*result, "request", req);
	*status = WF_RESOLVED;
}

/* ---- retries ---- */

/* config.retry, read once per run. */
struct retry {
	int times;            /* extra attempts, 0-10 */
	double delay, backoff, max_delay;
	unsigned on;          /* RETRY_ON_* */
};

enum { RETRY_TIMEOUT = 1, RETRY_NETWORK = 2, RETRY_5XX = 4, RETRY_429 = 8 };

static const char *const retry_on_names[] = {"timeout", "network", "5xx",
					     "429", NULL};

/* 0, or -1 naming the field of config.retry that is wrong. */
static int check_retry(json_object *c, char *err, size_t n)
{
	json_object *rt = jsonx_get(c, "retry"), *on;
	double v;

	if (!jsonx_has(c, "retry") || !rt)
		return 0;
	if (wf_check_object(rt, "retry", err, n))
		return -1;
	if (jsonx_has(rt, "times")) {
		if (wf_check_number(jsonx_get(rt, "times"), "retry.times", &v, err,
				    n))
			return -1;
		if (v != (double)(int)v || v < 0 || v > 10) {
			snprintf(err, n, "\"retry.times\" must be an integer from "
					 "0 to 10");
			return -1;
		}
	}
	static const char *const nums[][2] = {{"delay", "retry.delay"},
					      {"maxDelay", "retry.maxDelay"},
					      {"backoff", "retry.backoff"}};
	for (size_t i = 0; i < 3; i++) {
		if (!jsonx_has(rt, nums[i][0]))
			continue;
		if (wf_check_number(jsonx_get(rt, nums[i][0]), nums[i][1], &v, err, n))
			return -1;
		if (v < (i == 2 ? 1 : 0)) {
			snprintf(err, n, "\"%s\" must be at least %d", nums[i][1],
				 i == 2 ? 1 : 0);
			return -1;
		}
	}
	on = jsonx_get(rt, "on");
	if (!jsonx_has(rt, "on"))
		return 0;
	if (wf_check_array(on, "retry.on", err, n))
		return -1;
	for (size_t i = 0; i < json_object_array_length(on); i++) {
		char label[32];
		snprintf(label, sizeof(label), "retry.on[%zu]", i);
		if (wf_check_oneof(json_object_array_get_idx(on, i), label,
				   retry_on_names, err, n))
			return -1;
	}
	return 0;
}

static void retry_read(json_object *c, struct retry *rt)
{
	json_object *o = jsonx_get(c, "retry"), *on = jsonx_get(o, "on");
	double v;
	*rt = (struct retry){0, 1000, 2, 30000, RETRY_TIMEOUT | RETRY_NETWORK |
						     RETRY_5XX | RETRY_429};
	if (jsonx_to_double(jsonx_get(o, "times"), &v))
		rt->times = (int)v;
	if (jsonx_to_double(jsonx_get(o, "delay"), &v))
		rt->delay = v;
	if (jsonx_to_double(jsonx_get(o, "backoff"), &v))
		rt->backoff = v;
	if (jsonx_to_double(jsonx_get(o, "maxDelay"), &v))
		rt->max_delay = v;
	if (!json_object_is_type(on, json_type_array))
		return;
	rt->on = 0;
	for (size_t i = 0; i < json_object_array_length(on); i++)
		for (int k = 0; retry_on_names[k]; k++)
			if (util_streq(json_object_get_string(
					       json_object_array_get_idx(on, i)),
				       retry_on_names[k]))
				rt->on |= 1u << k;
}

/* Which kind of failure an attempt's outcome is (0: none to retry). */
static unsigned failure_kind(int rc, json_object *res)
{
	int64_t st = 0;
	const char *code = jsonx_get_str(res, "code");
	if (rc == WF_HTTP_TIMEOUT)
		return RETRY_TIMEOUT;
	if (rc == 1 && jsonx_get_int(res, "status", &st))
		return st == 429 ? RETRY_429 : st >= 500 ? RETRY_5XX : 0;
	if (rc < 0 && code && (util_streq(code, "ERR_NETWORK") ||
			       (code[0] == 'E' && strncmp(code, "ERR_", 4))))
		return RETRY_NETWORK;
	return 0;
}

/* Retry-After (seconds) of a 429/503 answer, in ms; -1: none. */
static double retry_after(json_object *res)
{
	int64_t st = 0, secs;
	const char *v = jsonx_get_str(jsonx_get(res, "headers"), "retry-after");
	if (!v || !jsonx_get_int(res, "status", &st) || (st != 429 && st != 503) ||
	    util_parse_int64(v, &secs) || secs < 0)
		return -1;
	return (double)secs * 1000;
}

/* {status | error, durationMs} of one attempt. */
static json_object *attempt_of(int rc, json_object *res, double ms)
{
	json_object *a = json_object_new_object();
	if (rc == 0 || rc == 1)
		json_object_object_add(a, "status",
				       jsonx_ref(jsonx_get(res, "status")));
	else
		json_object_object_add(a, "error",
				       jsonx_ref(jsonx_get(res, "message")));
	json_object_object_add(a, "durationMs", jsonx_number(ms));
	return a;
}

/* The wait before attempt i+1, or -1 when there is no time for it. */
static double next_wait(struct wf_exec *e, const struct retry *rt, int i,
			json_object *res)
{
	double w = rt->delay, ra = retry_after(res);
	for (int k = 0; k < i; k++)
		w *= rt->backoff;
	if (ra >= 0)
		w = ra;
	if (w > rt->max_delay)
		w = rt->max_delay;
	/* A synchronous execution's whole stays inside its time limit. */
	if (e->deadline && util_mono_ms() + (int64_t)w >= e->deadline)
		return -1;
	return w;
}

static void sleep_ms(double ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
			      (long)((ms - 1000.0 * (double)(time_t)(ms / 1000)) *
				     1e6)};
	while (nanosleep(&ts, &ts) < 0)
		;
}

/* The call, and again while config.retry allows: every attempt is listed
 * in the job's meta (and the result, when it is an object). */
static int perform(struct wf_exec *e, int job, json_object *c,
		   const struct wf_http_req *hr, json_object **result)
{
	struct retry rt;
	json_object *attempts = json_object_new_array();
	int rc;

	retry_read(c, &rt);
	for (int i = 0;; i++) {
		int64_t t0 = util_mono_us();
		unsigned kind;
		double wait;
		rc = wf_http_perform(hr, result);
		json_object_array_add(attempts,
				      attempt_of(rc, *result,
						 (double)(util_mono_us() - t0) / 1000));
		kind = failure_kind(rc, *result);
		if (rc == 0 || i >= rt.times || !(kind & rt.on) ||
		    (wait = next_wait(e, &rt, i, *result)) < 0)
			break;
		json_object_put(*result);
		*result = NULL;
		sleep_ms(wait);
	}
	if (rt.times > 0) {
		json_object *meta = json_object_new_object();
		json_object_object_add(meta, "attempts", jsonx_ref(attempts));
		json_object_put(e->jobs[job].meta);
		e->jobs[job].meta = meta;
		if (json_object_is_type(*result, json_type_object))
			json_object_object_add(*result, "attempts",
					       jsonx_ref(attempts));
	}
	json_object_put(attempts);
	return rc;
}

/* A queued execution notes, outside its transaction, that a call leaves:
 * if its process dies now, it is not run (and sent) again. */
static int note_sending(struct wf_exec *e, const struct wf_node *n,
			const char *method, const char *url)
{
	char what[300];
	json_object *mu;

	e->sent = true;
	if (!e->id)
		return 0;
	mu = masked_url(url);
	snprintf(what, sizeof(what), "node \"%s\" (request) sent %s %s", n->title,
		 method && *method ? method : "POST",
		 mu ? json_object_get_string(mu) : "");
	json_object_put(mu);
	return store_effect_note(e->app->st, e->id, what);
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

	if (e->dry_run) {
		describe(c, method, status, result);
		goto out;
	}
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
	if (note_sending(e, n, method, url)) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(store_errmsg(e->app->st));
		goto out;
	}
	rc = perform(e, job, c, &r, result);
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

