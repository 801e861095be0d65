/*
 * wf_node_branch: the branching instructions multi-conditions, loop and
 * parallel (reference §5.5, §6), as plugin-workflow's
 * MultiConditionsInstruction, plugin-workflow-loop and
 * plugin-workflow-parallel behave in a synchronous execution.
 *
 * NocoBase runs a branch and gets its end back through resume(); here a
 * branch is a nested wf_exec_branch() whose return value is the status the
 * branch ended with (what resume() receives).  Statuses, results and meta
 * of the jobs are NocoBase's, including its quirks (a loop's item skips
 * null array elements; exit "2" as a string breaks instead of continuing).
 *
 * Limits: a loop checks the step and time limits and FLOWCGI_LOOP_LIMIT
 * before each item, so even a loop whose condition skips every item stops
 * in time.  A failure that a loop (exit 1/2) or a parallel (any,
 * allSettled) would swallow is not swallowed when a limit is reached: the
 * execution must end ERROR naming the limit.
 */
#include "wf_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "wf_expr.h"

/* ---- shared ---- */

/* Why this node failed, unless a failure inside already said it. */
static void note_error(struct wf_exec *e, const struct wf_node *n,
		       const char *msg)
{
	if (e->error[0])
		return;
	e->error_node = n;
	snprintf(e->error, sizeof(e->error), "%s", msg);
}

/* A branch failure the node swallowed no longer explains the execution. */
static void forget_error(struct wf_exec *e)
{
	e->error[0] = 0;
	e->error_node = NULL;
}

/* A condition of loop or multi-conditions: an expression when engine
 * names an evaluator, else the basic rule tree (NocoBase falls back to it
 * for an unknown engine).  0 with *value, or -1 with err. */
static int eval_cond(struct wf_exec *e, json_object *c, json_object **value,
		     char *err, size_t errlen)
{
	const char *engine = jsonx_get_str(c, "engine");
	if (engine && (!strcmp(engine, "math.js") ||
		       !strcmp(engine, "formula.js") || !strcmp(engine, "string"))) {
		const char *x = jsonx_get_str(c, "expression");
		return wf_expr_eval(engine, x ? x : "", wf_exec_resolve, e, value, err,
				    errlen);
	}
	json_object *calc = wf_exec_render(e, jsonx_get(c, "calculation"));
	bool b = true;
	int rc = wf_expr_logic(calc, &b, err, errlen);
	json_object_put(calc);
	*value = rc ? NULL : json_object_new_boolean(b);
	return rc;
}

static const struct wf_node *branch_at(const struct wf_node *n, int index)
{
	for (int i = 0; i < n->nbranches; i++)
		if (n->branches[i]->branch_index == index)
			return n->branches[i];
	return NULL;
}

/* ---- multi-conditions ---- */

int wf_node_mc_validate(struct app *a, json_object *c, char *err, size_t n)
{
	static const char *const strs[] = {"uid", "title", "engine",
					   "expression"};
	json_object *list = jsonx_get(c, "conditions");
	char label[80];

	if (jsonx_has(c, "conditions")) {
		if (wf_check_array(list, "conditions", err, n))
			return -1;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *it = json_object_array_get_idx(list, i);
			snprintf(label, sizeof(label), "conditions[%zu]", i);
			if (wf_check_object(it, label, err, n))
				return -1;
			for (size_t k = 0; k < sizeof(strs) / sizeof(*strs); k++) {
				if (!jsonx_has(it, strs[k]))
					continue;
				snprintf(label, sizeof(label), "conditions[%zu].%s",
					 i, strs[k]);
				if (wf_check_string(jsonx_get(it, strs[k]), label, err,
						  n))
					return -1;
			}
		}
	}
	if (jsonx_has(c, "continueOnNoMatch") &&
	    wf_check_boolean(jsonx_get(c, "continueOnNoMatch"),
			   "continueOnNoMatch", err, n))
		return -1;
	return 0;
}

/* Settle the job as st (NocoBase saves it before the branch runs), then
 * run branch bi if there is one.  A branch that does not resolve stops
 * the flow with its status; the job keeps st. */
static int mc_branch(struct wf_exec *e, const struct wf_node *n, int job,
		     int bi, int st)
{
	const struct wf_node *b = branch_at(n, bi);
	if (!b)
		return st;
	e->jobs[job].status = st;
	int bst = wf_exec_branch(e, b, job);
	return bst == WF_RESOLVED ? st : bst;
}

void wf_node_mc_run(struct wf_exec *e, const struct wf_node *n, int job,
	       int *status, json_object **result)
{
	json_object *conds = jsonx_get(n->config, "conditions");
	json_object *meta = json_object_new_object();
	json_object *list = json_object_new_array();
	size_t count = json_object_is_type(conds, json_type_array)
			       ? json_object_array_length(conds)
			       : 0;
	bool cnm = jsonx_get_bool(n->config, "continueOnNoMatch", false);

	json_object_object_add(meta, "conditions", list);
	e->jobs[job].meta = meta;
	*result = NULL;
	for (size_t i = 0; i < count; i++) {
		json_object *v = NULL;
		char err[512];
		/* An evaluation error is recorded as its message. */
		if (eval_cond(e, json_object_array_get_idx(conds, i), &v, err,
			      sizeof(err)))
			v = json_object_new_string(err);
		json_object_array_add(list, jsonx_ref(v));
		json_object_put(*result);
		*result = v;
		/* Only a real true picks a branch; a string (an error or a
		 * string result) is an error, anything else a non-match. */
		if (json_object_is_type(v, json_type_string)) {
			*status = WF_ERROR;
			return;
		}
		if (json_object_is_type(v, json_type_boolean) &&
		    json_object_get_boolean(v)) {
			wf_exec_jobs_map_set(e, n->key, jsonx_ref(v));
			*status = mc_branch(e, n, job, (int)i + 1, WF_RESOLVED);
			return;
		}
	}
	wf_exec_jobs_map_set(e, n->key, jsonx_ref(*result));
	*status = mc_branch(e, n, job, 0, cnm ? WF_RESOLVED : WF_FAILED);
	if (*status == WF_FAILED && !cnm)
		note_error(e, n, "no condition matched");
}

/* ---- loop ---- */

int wf_node_loop_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *t = jsonx_get(c, "target"), *cond = jsonx_get(c, "condition");
	json_object *x = jsonx_get(c, "exit");
	double d = 0;

	if (jsonx_has(c, "target")) {
		if (json_object_is_type(t, json_type_int) ||
		    json_object_is_type(t, json_type_double)) {
			if (wf_check_number(t, "target", &d, err, n))
				return -1;
		} else if (json_object_is_type(t, json_type_string)) {
			if (wf_check_string(t, "target", err, n))
				return -1;
		} else if (!json_object_is_type(t, json_type_array)) {
			snprintf(err, n, "\"target\" must be one of [number, "
					 "array, string]");
			return -1;
		}
	}
	if (jsonx_has(c, "condition")) {
		const char *s = json_object_is_type(cond, json_type_string)
					? json_object_get_string(cond)
					: NULL;
		if (json_object_is_type(cond, json_type_object)) {
			json_object *cp = jsonx_get(cond, "checkpoint");
			char sub[160];
			if ((jsonx_has(cond, "checkpoint") &&
			     (wf_check_number(cp, "checkpoint", &d, sub, sizeof(sub)) ||
			      (d != 0 && d != 1))) ||
			    (jsonx_has(cond, "continueOnFalse") &&
			     wf_check_boolean(jsonx_get(cond, "continueOnFalse"),
					    "continueOnFalse", sub, sizeof(sub))) ||
			    (jsonx_has(cond, "calculation") &&
			     wf_check_object(jsonx_get(cond, "calculation"),
					   "calculation", sub, sizeof(sub)))) {
				snprintf(err, n, "\"condition\" does not match any "
						 "of the allowed types");
				return -1;
			}
		} else if (json_object_is_type(cond, json_type_boolean)
				   ? json_object_get_boolean(cond)
				   : s && strcasecmp(s, "false")) {
			snprintf(err, n, "\"condition\" must be one of [object, "
					 "false]");
			return -1;
		} else if (!json_object_is_type(cond, json_type_boolean) && !s) {
			snprintf(err, n, "\"condition\" does not match any of "
					 "the allowed types");
			return -1;
		}
	}
	if (jsonx_has(c, "exit") &&
	    (wf_check_number(x, "exit", &d, err, n) || (d != 0 && d != 1 && d != 2))) {
		snprintf(err, n, "\"exit\" must be one of [0, 1, 2]");
		return -1;
	}
	return 0;
}

struct loop {
	struct wf_exec *e;
	const struct wf_node *n;
	json_object *target; /* rendered, re-read after every iteration */
	int64_t length;
	int64_t looped, done;
	json_object *scan;   /* nth_item's place in an array target */
	size_t scan_pos;
	int64_t scan_k;
};

/* NocoBase's getTargetLength(), and re-parsing the target as resume() does
 * (so a body that changes the target changes the length).  The target is
 * rendered without the loop's own scope. */
static int loop_target(struct loop *L, char *err, size_t errlen)
{
	json_object *t;

	wf_exec_scope_clear(L->e, L->n);
	t = wf_exec_render(L->e, jsonx_get(L->n->config, "target"));
	json_object_put(L->target);
	L->target = t;
	if (json_object_is_type(t, json_type_int) ||
	    json_object_is_type(t, json_type_double)) {
		double d = json_object_get_double(t);
		if (d < 0) {
			snprintf(err, errlen, "Loop target in number type must "
					      "be greater than 0");
			return -1;
		}
		L->length = d >= 9e18 ? INT64_MAX : (int64_t)floor(d);
	} else if (json_object_is_type(t, json_type_array)) {
		L->length = (int64_t)json_object_array_length(t);
	} else {
		L->length = t ? 1 : 0;
	}
	return 0;
}

/* The index-th element that is not null: NocoBase's getScope() drops null
 * elements before indexing while the length counts them.  The scan goes
 * on from its last answer, so a whole loop costs one pass. */
static json_object *nth_item(struct loop *L, json_object *arr, int64_t index)
{
	size_t len = json_object_array_length(arr);
	if (arr != L->scan || index < L->scan_k) {
		json_object_put(L->scan);
		L->scan = jsonx_ref(arr); /* held: the pointer stays this array */
		L->scan_pos = 0;
		L->scan_k = 0;
	}
	for (; L->scan_pos < len; L->scan_pos++) {
		json_object *v = json_object_array_get_idx(arr, L->scan_pos);
		if (!v)
			continue;
		if (L->scan_k == index)
			return v;
		L->scan_k++;
	}
	return NULL;
}

static json_object *loop_result(const struct loop *L, const char *flag)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "looped", json_object_new_int64(L->looped));
	json_object_object_add(o, "done", json_object_new_int64(L->done));
	if (flag)
		json_object_object_add(o, flag, json_object_new_boolean(1));
	return o;
}

/* $scopes.<loop> for the current item, and the live job result that
 * $jobsMapByNodeKey.<loop> shows inside the body. */
static void loop_enter(struct loop *L)
{
	json_object *s = json_object_new_object(), *item = NULL;
	json_object *t = L->target;

	if (json_object_is_type(t, json_type_int) ||
	    json_object_is_type(t, json_type_double))
		item = json_object_new_int64(L->looped);
	else if (json_object_is_type(t, json_type_array))
		item = jsonx_ref(nth_item(L, t, L->looped));
	else if (!L->looped)
		item = jsonx_ref(t);
	json_object_object_add(s, "item", item);
	json_object_object_add(s, "index", json_object_new_int64(L->looped));
	json_object_object_add(s, "sequence",
			       json_object_new_int64(L->looped + 1));
	json_object_object_add(s, "length", json_object_new_int64(L->length));
	wf_exec_scope_set(L->e, L->n, s);
	wf_exec_jobs_map_set(L->e, L->n->key, loop_result(L, NULL));
}

/* Before each item: the execution's limits, then FLOWCGI_LOOP_LIMIT
 * (counting every item visited, also those the condition skips). */
static bool loop_limited(struct loop *L, int *status, json_object **result)
{
	long long max = L->e->app->cfg.loop_limit;
	json_object *r;

	if (wf_exec_over_limit(L->e)) {
		r = loop_result(L, NULL);
	} else if (L->looped >= max) {
		r = loop_result(L, "exceeded");
		forget_error(L->e);
		snprintf(L->e->error, sizeof(L->e->error),
			 "loop limit exceeded: more than %lld iterations "
			 "(FLOWCGI_LOOP_LIMIT)",
			 max);
	} else {
		return false;
	}
	L->e->error_node = L->n;
	json_object_object_add(r, "message", json_object_new_string(L->e->error));
	*status = WF_ERROR;
	*result = r;
	return true;
}

enum { LOOP_GO = 100 };

/* Skip items while the condition is false (continueOnFalse), or break.
 * first: run()'s check before the first item, which counts the failing
 * item as looped before it breaks; resume() breaks without counting it. */
static int loop_skip(struct loop *L, json_object *cond, bool first,
		     int *status, json_object **result)
{
	bool cof = jsonx_get_bool(cond, "continueOnFalse", false);
	while (L->looped < L->length) {
		json_object *v = NULL;
		char err[512];
		if (loop_limited(L, status, result))
			return WF_ERROR;
		loop_enter(L);
		if (eval_cond(L->e, cond, &v, err, sizeof(err))) {
			*status = WF_ERROR;
			*result = wf_exec_error_result(err);
			return WF_ERROR;
		}
		bool ok = jsonx_truthy(v);
		json_object_put(v);
		if (ok)
			return LOOP_GO;
		if (first)
			L->looped++;
		if (!cof) {
			*status = WF_RESOLVED;
			*result = loop_result(L, "broken");
			return WF_RESOLVED;
		}
		if (!first)
			L->looped++;
	}
	return LOOP_GO;
}

/* A failed iteration: exit 2 (the number) continues, any other truthy
 * exit breaks, none fails the loop with the branch's status. */
static int loop_exit_mode(json_object *config)
{
	json_object *x = jsonx_get(config, "exit");
	if ((json_object_is_type(x, json_type_int) ||
	     json_object_is_type(x, json_type_double)) &&
	    json_object_get_double(x) == 2)
		return 2;
	return jsonx_truthy(x) ? 1 : 0;
}

/* One item; returns LOOP_GO to go on, else the loop's status (also set in
 * status, with the job's result). */
static int loop_step(struct loop *L, const struct wf_node *branch, int job,
		     json_object *cond, int *status, json_object **result)
{
	struct wf_exec *e = L->e;
	char err[512];
	int bst;

	if (L->looped >= L->length) {
		*status = WF_RESOLVED;
		*result = loop_result(L, NULL);
		return WF_RESOLVED;
	}
	if (loop_limited(L, status, result))
		return WF_ERROR;
	loop_enter(L);
	bst = wf_exec_branch(e, branch, job);
	if (e->ended || bst == WF_PENDING) {
		/* The loop's job stays PENDING, as NocoBase leaves it. */
		*status = WF_PENDING;
		*result = loop_result(L, NULL);
		return WF_PENDING;
	}
	L->looped++;
	if (loop_target(L, err, sizeof(err))) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(err);
		return WF_ERROR;
	}
	if (bst != WF_RESOLVED && wf_exec_over_limit(e)) {
		*status = WF_ERROR;
		*result = loop_result(L, NULL);
		json_object_object_add(*result, "message",
				       json_object_new_string(e->error));
		return WF_ERROR;
	}
	int mode = loop_exit_mode(L->n->config);
	if (bst == WF_RESOLVED || mode == 2) {
		L->done++;
		if (bst != WF_RESOLVED)
			forget_error(e);
		if (cond)
			return loop_skip(L, cond, false, status, result);
		return LOOP_GO;
	}
	*status = mode ? WF_RESOLVED : bst;
	*result = loop_result(L, mode ? "broken" : NULL);
	return *status;
}

void wf_node_loop_run(struct wf_exec *e, const struct wf_node *n, int job,
		 int *status, json_object **result)
{
	struct loop L = {.e = e, .n = n};
	const struct wf_node *branch = n->nbranches ? n->branches[0] : NULL;
	json_object *cond = jsonx_get(n->config, "condition");
	char err[512];
	int st;

	/* A condition counts when it has a rule tree or an expression. */
	if (!jsonx_truthy(cond) || !(jsonx_truthy(jsonx_get(cond, "calculation")) ||
				     jsonx_truthy(jsonx_get(cond, "expression"))))
		cond = NULL;
	if (loop_target(&L, err, sizeof(err))) {
		*status = WF_ERROR;
		*result = wf_exec_error_result(err);
		goto out;
	}
	if (!branch || !L.length) {
		*status = WF_RESOLVED;
		*result = loop_result(&L, NULL);
		goto out;
	}
	st = LOOP_GO;
	if (cond && !jsonx_truthy(jsonx_get(cond, "checkpoint")))
		st = loop_skip(&L, cond, true, status, result);
	while (st == LOOP_GO)
		st = loop_step(&L, branch, job, cond, status, result);
	if (*status == WF_RESOLVED)
		forget_error(e);
out:
	wf_exec_scope_clear(e, n);
	json_object_put(L.target);
	json_object_put(L.scan);
}

/* ---- parallel ---- */

static const char *const parallel_modes[] = {"all", "any", "race",
					     "allSettled", NULL};

int wf_node_parallel_validate(struct app *a, json_object *c, char *err, size_t n)
{
	if (jsonx_has(c, "mode"))
		return wf_check_oneof(jsonx_get(c, "mode"), "mode", parallel_modes,
				    err, n);
	return 0;
}

/* The parallel job's status from the branch statuses so far (NULL: not
 * settled yet), as plugin-workflow-parallel's Modes[mode].getStatus. */
static int parallel_status(int mode, json_object *res)
{
	size_t n = json_object_array_length(res);
	bool resolved = false, open = false, all_resolved = true;
	int failed = WF_PENDING;

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(res, i);
		int st = v ? json_object_get_int(v) : WF_PENDING;
		if (!v || st == WF_PENDING)
			open = true;
		if (v && st == WF_RESOLVED)
			resolved = true;
		if (!v || st != WF_RESOLVED)
			all_resolved = false;
		if (v && st < WF_PENDING && failed == WF_PENDING)
			failed = st;
	}
	switch (mode) {
	case 0: /* all */
		return failed != WF_PENDING ? failed
		       : all_resolved	    ? WF_RESOLVED
					    : WF_PENDING;
	case 1: /* any */
		return resolved ? WF_RESOLVED : open ? WF_PENDING : WF_FAILED;
	case 2: /* race */
		return resolved ? WF_RESOLVED : failed;
	default: /* allSettled */
		return open ? WF_PENDING : WF_RESOLVED;
	}
}

void wf_node_parallel_run(struct wf_exec *e, const struct wf_node *n, int job,
		     int *status, json_object **result)
{
	json_object *mv = jsonx_get(n->config, "mode");
	json_object *res = json_object_new_array();
	int mode = mv ? -1 : 0, st = WF_PENDING;

	for (int i = 0; mv && parallel_modes[i]; i++)
		if (json_object_is_type(mv, json_type_string) &&
		    !strcmp(json_object_get_string(mv), parallel_modes[i]))
			mode = i;
	for (int i = 0; i < n->nbranches; i++)
		json_object_array_add(res, NULL);
	*result = res;
	if (mode < 0) {
		char m[160];
		snprintf(m, sizeof(m), "parallel mode \"%.64s\" is not one of "
				       "all, any, race, allSettled",
			 json_object_is_type(mv, json_type_string)
				 ? json_object_get_string(mv)
				 : jsonx_str(mv));
		*status = WF_ERROR;
		*result = wf_exec_error_result(m);
		json_object_put(res);
		return;
	}
	/* Branches run one after another in branchIndex order until the
	 * mode has decided; a branch left pending (none can be, in a
	 * synchronous run) does not settle its slot. */
	for (int i = 0; i < n->nbranches && st == WF_PENDING; i++) {
		wf_exec_jobs_map_set(e, n->key, jsonx_copy(res));
		int bst = wf_exec_branch(e, n->branches[i], job);
		if (e->ended)
			break;
		if (bst == WF_PENDING)
			continue;
		json_object_array_put_idx(res, (size_t)i, json_object_new_int(bst));
		if (bst < 0 && wf_exec_over_limit(e)) {
			st = WF_ERROR;
			break;
		}
		st = parallel_status(mode, res);
	}
	/* No branch settled the mode: the execution waits, as in NocoBase
	 * (a parallel node without branches hangs there too). */
	*status = e->ended ? WF_PENDING : st;
	if (st == WF_RESOLVED)
		forget_error(e);
}
