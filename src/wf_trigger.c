/* wf_trigger: see wf_trigger.h. */
#include "wf_trigger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wf_int.h"
#include "wf_queue.h"

#define WF_TRIGGER_ATTEMPTS 3

struct item {
	char *key;
	char *path; /* NULL: no !path */
};

struct event {
	const struct wf_flow *flow;
	json_object *context;
	int item;   /* index of the key that named it */
};

struct plan {
	struct item items[WF_TRIGGER_MAX_KEYS];
	int nitems;
	struct event ev[WF_TRIGGER_MAX_KEYS];
	int nev;
	struct buf skipped; /* why items were dropped, for the reason */
	char *spec;         /* the parsed copy the items point into */
};

static int fail(struct wf_trigger *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct wf_trigger *t, int err, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_reset(&t->reason);
	buf_puts(&t->reason, line);
	t->err = err;
	return err;
}

/* Carry a records error (code, message, reason) onto the trigger. */
static int fail_rec(struct wf_trigger *t, struct rctx *x, int rc)
{
	if (x->message) {
		snprintf(x->msgbuf, sizeof(x->msgbuf), "%s", x->message);
		t->message = strdup(x->msgbuf);
	}
	return fail(t, rc, "%s", x->reason);
}

static void skip(struct plan *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void skip(struct plan *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (p->skipped.len)
		buf_puts(&p->skipped, "; ");
	buf_puts(&p->skipped, line);
}

/* "k1,k2!path,k3" into items; a third !part is ignored. */
static int parse_spec(struct wf_trigger *t, struct plan *p)
{
	char *save = NULL;
	p->spec = util_xstrdup(t->spec);
	for (char *tok = strtok_r(p->spec, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (p->nitems == WF_TRIGGER_MAX_KEYS)
			return fail(t, APP_EPARAM,
				    "triggerWorkflows names more than %d "
				    "workflows",
				    WF_TRIGGER_MAX_KEYS);
		char *bang = strchr(tok, '!');
		struct item *it = &p->items[p->nitems];
		it->path = NULL;
		if (bang) {
			*bang = 0;
			char *third = strchr(bang + 1, '!');
			if (third)
				*third = 0;
			if (bang[1])
				it->path = bang + 1;
		}
		it->key = tok;
		if (*tok)
			p->nitems++;
	}
	return 0;
}

/* The to-one association chain of path from c: its last target, or an
 * error (contract §7: 400 for a to-many or a non-association segment). */
static int walk_path(struct app *a, struct wf_trigger *t, const struct coll *c,
		     const char *path, const struct coll **target)
{
	char copy[512], *save = NULL;
	snprintf(copy, sizeof(copy), "%s", path);
	for (char *seg = strtok_r(copy, ".", &save); seg;
	     seg = strtok_r(NULL, ".", &save)) {
		const struct field *f = coll_field(c, seg);
		if (!f || !ftype_is_assoc(f->type))
			return fail(t, APP_EASSOC_PATH,
				    "\"%s\" in \"%s\" is not an association of "
				    "\"%s\"",
				    seg, path, c->name);
		if (ftype_is_to_many(f->type))
			return fail(t, APP_ENOT_TO_ONE,
				    "\"%s\" in \"%s\" is a to-many association "
				    "of \"%s\"",
				    seg, path, c->name);
		c = schema_coll(a->schema, f->target);
		if (!c)
			return fail(t, APP_EASSOC_PATH,
				    "association \"%s\" targets a missing "
				    "collection",
				    seg);
	}
	*target = c;
	return 0;
}

static json_object *context_of(const struct wf_caller *who, json_object *data)
{
	json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "data", data);
	json_object_object_add(ctx, "user", jsonx_ref(who->user));
	json_object_object_add(ctx, "roleName",
			       who->role ? json_object_new_string(who->role)
					 : NULL);
	return ctx;
}

/* Whether every segment of an appends entry is an association. */
static bool assoc_path_ok(const struct schema *s, const struct coll *c,
			  const char *path)
{
	char buf[512], *save = NULL;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return false;
	for (char *seg = strtok_r(buf, ".", &save); seg;
	     seg = strtok_r(NULL, ".", &save)) {
		const struct field *fd = c ? coll_field(c, seg) : NULL;
		if (!fd || !ftype_is_assoc(fd->type))
			return false;
		c = schema_coll(s, fd->target);
	}
	return true;
}

/* Appends of the workflow, prefixed with path when the record is reached
 * through an association.  Entries that name no association of the
 * workflow's collection are left out, as NocoBase ignores them: a stale
 * workflow config is no fault of the request. */
json_object *wf_trigger_appends(const struct schema *s, const struct wf_flow *f,
				const char *path)
{
	json_object *ap = jsonx_get(f->config, "appends"),
		    *out = json_object_new_array();
	const struct coll *bound =
		schema_coll(s, jsonx_get_str(f->config, "collection"));
	if (path)
		json_object_array_add(out, json_object_new_string(path));
	for (size_t i = 0; json_object_is_type(ap, json_type_array) &&
			   i < json_object_array_length(ap);
	     i++) {
		json_object *it = json_object_array_get_idx(ap, i);
		const char *a = json_object_is_type(it, json_type_string)
					? json_object_get_string(it)
					: NULL;
		if (!a || !*a || !assoc_path_ok(s, bound, a))
			continue;
		char buf[512];
		snprintf(buf, sizeof(buf), "%s%s%s", path ? path : "",
			 path ? "." : "", a);
		json_object_array_add(out, json_object_new_string(buf));
	}
	return out;
}

/* A loaded record (or a related one at path) overlaid with the form. */
static json_object *overlay(json_object *rec, const char *path,
			    json_object *form)
{
	json_object *base = path ? jsonx_path(rec, path) : rec;
	if (!base || json_object_is_type(base, json_type_null))
		return NULL;
	json_object *d = jsonx_copy(base);
	jsonx_overlay(d, form);
	return d;
}

/* The rows tk names, through the association and inside the scope, with
 * the workflow's appends. */
static int load_rows(struct app *a, struct wf_trigger *t,
		     const struct wf_flow *f, const char *path,
		     json_object **rows)
{
	struct rctx x = {.app = a, .user_id = t->caller.user_id};
	json_object *tkf = NULL, *filter, *both, *appends;
	int rc = rec_tk_filter(&x, t->coll, t->tk, &tkf);

	if (rc)
		return fail_rec(t, &x, rc);
	both = rec_and(tkf, t->assoc);
	filter = rec_and(both, t->scope);
	appends = wf_trigger_appends(a->schema, f, path);
	struct rec_query q = {.filter = filter, .appends = appends};
	rc = rec_find(&x, t->coll, &q, rows);
	json_object_put(both);
	json_object_put(filter);
	json_object_put(tkf);
	json_object_put(appends);
	return rc ? fail_rec(t, &x, rc) : 0;
}

/* The event data of one workflow on a collection request: the row(s)
 * overlaid with the form (at rp: the related record).  *data NULL with
 * rc 0: skipped, the reason recorded. */
static int record_data(struct app *a, struct wf_trigger *t, struct plan *p,
		       const struct wf_flow *f, const char *rp,
		       json_object *form, json_object **data)
{
	json_object *rows = NULL;
	int rc;

	*data = NULL;
	if (!t->tk) {
		*data = jsonx_ref(form);
		return 0;
	}
	if ((rc = load_rows(a, t, f, rp, &rows)))
		return rc;
	if (json_object_is_type(t->tk, json_type_array)) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			json_object *d = overlay(json_object_array_get_idx(rows, i),
						 rp, form);
			if (d)
				json_object_array_add(arr, d);
		}
		*data = arr;
	} else if (!json_object_array_length(rows)) {
		if (t->scope)
			rc = fail(t, APP_EDENIED,
				  "record %s of \"%s\" is outside the role's scope",
				  jsonx_str(t->tk), t->coll->name);
		else
			skip(p, "record %s of \"%s\" was not found",
			     jsonx_str(t->tk), t->coll->name);
	} else {
		*data = overlay(json_object_array_get_idx(rows, 0), rp, form);
		if (!*data)
			skip(p, "the \"%s\" association of record %s is empty", rp,
			     jsonx_str(t->tk));
	}
	json_object_put(rows);
	return rc;
}

/* Whether workflow f cannot start from this request (the reason is
 * recorded); *via_target: it is bound to the target of the key's path. */
static bool bound_elsewhere(struct wf_trigger *t, struct plan *p,
			    const struct wf_flow *f, const char *key,
			    const struct coll *via, bool *via_target)
{
	const char *bound = jsonx_get_str(f->config, "collection");
	if (strcmp(f->type, "custom-action")) {
		skip(p, "workflow \"%s\" has trigger type \"%s\"", key, f->type);
		return true;
	}
	if (!t->coll) {
		json_object *ct = jsonx_get(f->config, "type");
		int64_t type = 0;
		if (ct && !json_object_is_type(ct, json_type_null) &&
		    (!jsonx_to_int64(ct, &type) || type != 0)) {
			skip(p, "workflow \"%s\" is bound to a collection, not to "
				"the global context",
			     key);
			return true;
		}
		return false;
	}
	if (via && util_streq(bound, via->name))
		*via_target = true;
	else if (!util_streq(bound, t->coll->name)) {
		skip(p, "workflow \"%s\" is bound to collection \"%s\"", key,
		     bound ? bound : "(none)");
		return true;
	}
	return false;
}

/* One key of triggerWorkflows into an event, or a skip. */
static int plan_item(struct app *a, struct wf_trigger *t, struct plan *p,
		     int i)
{
	const char *key = p->items[i].key, *path = p->items[i].path;
	const struct wf_flow *f = wf_flow_enabled(a, key);
	const struct coll *via = NULL;
	json_object *data = NULL;
	bool via_target = false;
	int rc;

	/* The path is checked whatever the workflow (contract §7). */
	if (t->coll && path && (rc = walk_path(a, t, t->coll, path, &via)))
		return rc;
	if (!f) {
		skip(p, "workflow key \"%s\" is %s", key,
		     wf_flow_absent_reason(a, key));
		return 0;
	}
	if (bound_elsewhere(t, p, f, key, via, &via_target))
		return 0;
	if (!t->coll) {
		data = jsonx_ref(t->values);
	} else {
		json_object *form = path ? jsonx_path(t->values, path) : t->values;
		if ((rc = record_data(a, t, p, f, via_target ? path : NULL, form,
				      &data)))
			return rc;
		/* No id and no form at that path: the data is undefined. */
		if (!data && t->tk)
			return 0;
	}
	struct event *ev = &p->ev[p->nev++];
	ev->flow = f;
	ev->context = context_of(&t->caller, data);
	ev->item = i;
	return 0;
}

static void plan_free(struct plan *p)
{
	for (int i = 0; i < p->nev; i++)
		json_object_put(p->ev[i].context);
	buf_free(&p->skipped);
	free(p->spec);
}

static bool ended_on_end(const struct wf_exec *e)
{
	return e->last_node && !strcmp(e->last_node->type, "end");
}

/* Why a synchronous execution stopped the request: interception (an end
 * node failed it), a failure, or a node left pending. */
static int stopped(struct wf_trigger *t, const struct wf_exec *e)
{
	const struct wf_node *n = e->error_node ? e->error_node : e->last_node;

	if (e->status >= 0)
		return fail(t, APP_EWF_HANGS, "workflow \"%s\" left a node pending",
			    e->flow->key);
	if (ended_on_end(e)) {
		t->intercepted = true;
		return fail(t, APP_EWF_INTERCEPTED,
			    "workflow \"%s\" ended on end node \"%s\" with a "
			    "failure%s",
			    e->flow->key, e->last_node->title,
			    json_object_array_length(t->messages)
				    ? ""
				    : " and no response message");
	}
	if (!n)
		return fail(t, APP_EWF_FAILED, "workflow \"%s\" (%s) failed: %s",
			    e->flow->key, e->flow->title, e->error);
	return fail(t, APP_EWF_FAILED,
		    "workflow \"%s\" (%s) failed at node \"%s\" (%s \"%s\"): %s",
		    e->flow->key, e->flow->title, n->key, n->type, n->title,
		    e->error[0] ? e->error : "status failed");
}

/* Execution ids in the order of the keys that named them. */
static void collect_ids(struct wf_trigger *t, const struct plan *p,
			const int64_t *by_item)
{
	t->nids = 0;
	for (int i = 0; i < p->nitems; i++)
		if (by_item[i])
			t->ids[t->nids++] = by_item[i];
}

/* Write what ran, alone, after the data writes rolled back. */
static void save_history(struct app *a, struct wf_exec *ex, int n,
			 const int *item, int64_t *by_item)
{
	int64_t id;
	if (store_begin(a->st, true))
		return;
	for (int i = 0; i < n; i++) {
		if (wf_exec_save(&ex[i], &id)) {
			store_rollback(a->st);
			memset(by_item, 0, sizeof(int64_t) * WF_TRIGGER_MAX_KEYS);
			return;
		}
		by_item[item[i]] = id;
	}
	if (store_commit(a->st)) {
		store_rollback(a->st);
		memset(by_item, 0, sizeof(int64_t) * WF_TRIGGER_MAX_KEYS);
	}
}

/* Run event i as an execution ex (sync: collecting response messages). */
static void run_one(struct app *a, struct wf_trigger *t, const struct event *ev,
		    struct wf_exec *e)
{
	bool sync = ev->flow->sync;
	wf_exec_init(e, a, ev->flow, jsonx_ref(ev->context), t->caller.user_id,
		     sync);
	e->dry_run = t->dry_run;
	wf_exec_run(e);
	t->sent |= e->sent;
	for (size_t m = 0; sync && m < json_object_array_length(e->messages); m++)
		json_object_array_add(t->messages,
				      jsonx_ref(json_object_array_get_idx(e->messages,
									  m)));
}

/* Run the synchronous events in key order until one stops the request
 * or an end node ends it; *ran counts the executions in ex. */
static int run_sync(struct app *a, struct wf_trigger *t, struct plan *p,
		    struct wf_exec *ex, int *item, int *ran, bool *ended)
{
	for (int i = 0; i < p->nev && !*ended; i++) {
		if (!p->ev[i].flow->sync)
			continue;
		struct wf_exec *e = &ex[*ran];
		item[(*ran)++] = p->ev[i].item;
		run_one(a, t, &p->ev[i], e);
		if (e->status == WF_RESOLVED)
			*ended = ended_on_end(e);
		else
			return stopped(t, e);
	}
	return 0;
}

/* A dry run runs the asynchronous events too, inline, after the
 * synchronous ones (as they would run after the response). */
static void run_async_dry(struct app *a, struct wf_trigger *t, struct plan *p,
			  struct wf_exec *ex, int *item, int *ran)
{
	for (int i = 0; i < p->nev; i++) {
		if (p->ev[i].flow->sync)
			continue;
		item[*ran] = p->ev[i].item;
		run_one(a, t, &p->ev[i], &ex[(*ran)++]);
	}
}

/* Record the synchronous executions and queue the asynchronous ones, in
 * the request's transaction. */
static int record(struct app *a, struct wf_trigger *t, struct plan *p,
		  struct wf_exec *ex, const int *item, int ran, bool ended,
		  int64_t *by_item)
{
	int64_t id;
	int rc = 0;
	for (int i = 0; !rc && i < ran; i++)
		if (!(rc = wf_exec_save(&ex[i], &id)))
			by_item[item[i]] = id;
	if (rc)
		return fail(t, rc, "recording the executions failed");
	for (int i = 0; !ended && i < p->nev; i++) {
		if (p->ev[i].flow->sync)
			continue;
		if ((rc = wf_queue_add(a, p->ev[i].flow, p->ev[i].context, 0, &id)))
			return fail(t, rc, "queueing workflow \"%s\" failed",
				    p->ev[i].flow->key);
		by_item[p->ev[i].item] = id;
	}
	if ((rc = store_commit(a->st)))
		return fail(t, rc, "%s", store_errmsg(a->st));
	return 0;
}

/* The trace: what ran, in run order, then what was queued. */
static void trace(struct wf_trigger *t, const struct plan *p,
		  const struct wf_exec *ex, int ran, bool queued)
{
	t->trace = json_object_new_array();
	for (int i = 0; i < ran; i++)
		json_object_array_add(t->trace, wf_exec_trace(&ex[i]));
	for (int i = 0; queued && i < p->nev; i++) {
		const struct wf_flow *f = p->ev[i].flow;
		json_object *o;
		if (f->sync)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "workflowId", json_object_new_int64(f->id));
		json_object_object_add(o, "workflowKey", json_object_new_string(f->key));
		json_object_object_add(o, "title", json_object_new_string(f->title));
		json_object_object_add(o, "sync", json_object_new_boolean(0));
		json_object_object_add(o, "status", NULL);
		json_object_object_add(o, "jobs", json_object_new_array());
		json_object_array_add(t->trace, o);
	}
}

static int run_events(struct app *a, struct wf_trigger *t, struct plan *p)
{
	struct wf_exec ex[WF_TRIGGER_MAX_KEYS];
	int item[WF_TRIGGER_MAX_KEYS];
	int64_t by_item[WF_TRIGGER_MAX_KEYS] = {0};
	int ran = 0, rc;
	bool ended = false;

	rc = run_sync(a, t, p, ex, item, &ran, &ended);
	/* A node's write that lost a deadlock fails the node, but the whole
	 * transaction is lost: that is the request's conflict. */
	if (store_conflicted(a->st))
		rc = fail(t, APP_ETXN_CONFLICT, "%s", store_errmsg(a->st));
	if (t->dry_run) {
		/* Nothing is recorded: the caller rolls everything back. */
		if (!rc && !ended)
			run_async_dry(a, t, p, ex, item, &ran);
		if (rc)
			store_abort(a->st);
	} else {
		if (!rc)
			rc = record(a, t, p, ex, item, ran, ended, by_item);
		if (rc) {
			/* The data writes go; what ran is written again alone. */
			store_abort(a->st);
			memset(by_item, 0, sizeof(by_item));
			if (rc == APP_EWF_FAILED || rc == APP_EWF_INTERCEPTED ||
			    rc == APP_EWF_HANGS)
				save_history(a, ex, ran, item, by_item);
		}
		collect_ids(t, p, by_item);
	}
	if (t->trace_wanted || t->dry_run)
		trace(t, p, ex, ran, !t->dry_run && !rc && !ended);
	if (ran) {
		t->status = ex[ran - 1].status;
		t->output = jsonx_ref(ex[ran - 1].output);
	}
	for (int i = 0; i < ran; i++)
		wf_exec_free(&ex[i]);
	return rc;
}

/* One attempt: the plan (the rows read and locked), then the run. */
static int attempt(struct app *a, struct wf_trigger *t, struct plan *p)
{
	int rc;

	if ((rc = store_writable(a->st)) || (rc = store_begin(a->st, true)))
		return fail(t, rc, "%s", store_errmsg(a->st));
	if (t->flow) {
		p->nitems = 1;
		p->ev[p->nev++] = (struct event){t->flow, jsonx_ref(t->context), 0};
	}
	for (int i = 0; !rc && !t->flow && i < p->nitems; i++)
		rc = plan_item(a, t, p, i);
	if (!rc && !p->nev) {
		log_info("No workflow triggered: %s", buf_str(&p->skipped));
		rc = fail(t, APP_ENO_WORKFLOW, "%s",
			  p->skipped.len ? buf_str(&p->skipped)
					 : "triggerWorkflows names no workflow");
	}
	if (rc)
		store_rollback(a->st);
	return rc ? rc : run_events(a, t, p);
}

/* Ready for another attempt: the caller's transaction begun again, the
 * plan and the answer as before the first. */
static int again(struct app *a, struct wf_trigger *t, struct plan *p)
{
	for (int i = 0; i < p->nev; i++)
		json_object_put(p->ev[i].context);
	p->nev = 0;
	buf_reset(&p->skipped);
	json_object_put(t->messages);
	json_object_put(t->trace);
	json_object_put(t->output);
	t->messages = json_object_new_array();
	t->trace = t->output = NULL;
	t->nids = 0;
	t->err = 0;
	t->intercepted = false;
	t->status = WF_QUEUEING;
	store_abort(a->st);
	return store_begin(a->st, false);
}

/* A transaction that lost a deadlock (PostgreSQL) runs again from the
 * start, at most WF_TRIGGER_ATTEMPTS times, unless a request node already
 * sent its call: then the conflict is the answer (409), with nothing of
 * the request kept. */
int wf_trigger_run(struct app *a, struct wf_trigger *t)
{
	struct plan p;
	int rc;

	memset(&p, 0, sizeof(p));
	t->messages = json_object_new_array();
	t->status = WF_QUEUEING;
	if (!t->flow && (!t->spec || !*t->spec))
		return fail(t, APP_ETRIGGER_REQUIRED,
			    "the query has no triggerWorkflows parameter");
	if (!t->flow && (rc = parse_spec(t, &p)))
		goto out;
	for (int n = 1;; n++) {
		rc = attempt(a, t, &p);
		if (rc != APP_ETXN_CONFLICT || t->sent || n == WF_TRIGGER_ATTEMPTS)
			break;
		log_info("trigger: a transaction conflict, attempt %d of %d", n + 1,
			 WF_TRIGGER_ATTEMPTS);
		if ((rc = again(a, t, &p))) {
			rc = fail(t, rc, "%s", store_errmsg(a->st));
			break;
		}
	}
out:
	plan_free(&p);
	return rc;
}

void wf_trigger_free(struct wf_trigger *t)
{
	json_object_put(t->messages);
	json_object_put(t->trace);
	json_object_put(t->output);
	t->trace = NULL;
	t->output = NULL;
	buf_free(&t->reason);
	free((char *)t->message);
	t->messages = NULL;
	t->message = NULL;
}
