/*
 * api_trigger: POST /api/<collection>:trigger[/<id>]?triggerWorkflows=...
 * (reference §3, contract §4) and workflows:execute (reference §3.8).
 *
 * One IMMEDIATE transaction is taken before the record is read; the
 * synchronous workflows run inside it, so their writes and the rows that
 * record them commit together.  When the request fails (a workflow
 * failed, was intercepted or hangs) the data writes roll back and the
 * executions are written again, alone, as history.
 */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "buf.h"
#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "store.h"
#include "util.h"
#include "wf.h"
#include "wf_nodes.h"

#define TRIGGER_MAX_ITEMS 64

struct item {
	const char *key;
	const char *path; /* NULL: no !path */
};

struct event {
	const struct wf_flow *flow;
	json_object *context;
};

struct plan {
	struct event sync[TRIGGER_MAX_ITEMS], async[TRIGGER_MAX_ITEMS];
	int nsync, nasync;
	struct buf skipped; /* why items were dropped, for the reason */
};

static int parse_spec(struct req *r, const char *spec, struct item *items,
		      int *n)
{
	char *copy = arena_strdup(r->arena, spec), *save = NULL;
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			continue;
		if (*n == TRIGGER_MAX_ITEMS)
			return req_fail(r, APP_EPARAM,
					"triggerWorkflows names more than %d "
					"workflows",
					TRIGGER_MAX_ITEMS);
		char *bang = strchr(tok, '!');
		items[*n].path = NULL;
		if (bang) {
			*bang = 0;
			char *third = strchr(bang + 1, '!');
			if (third)
				*third = 0; /* a third part is ignored */
			if (bang[1])
				items[*n].path = bang + 1;
		}
		items[*n].key = tok;
		if (*tok)
			(*n)++;
	}
	return 0;
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

/* The to-one association chain of path from c: its last target, or an
 * error (contract §7: 400 for a to-many or a non-association segment). */
static int walk_path(struct req *r, const struct coll *c, const char *path,
		     const struct coll **target)
{
	const struct schema *s = r->app->schema;
	char *copy = arena_strdup(r->arena, path), *save = NULL;
	for (char *seg = strtok_r(copy, ".", &save); seg;
	     seg = strtok_r(NULL, ".", &save)) {
		const struct field *f = coll_field(c, seg);
		if (!f || !ftype_is_assoc(f->type))
			return req_fail(r, APP_EASSOC_PATH,
					"\"%s\" in \"%s\" is not an association "
					"of \"%s\"",
					seg, path, c->name);
		if (ftype_is_to_many(f->type))
			return req_fail(r, APP_ENOT_TO_ONE,
					"\"%s\" in \"%s\" is a to-many association "
					"of \"%s\"",
					seg, path, c->name);
		c = schema_coll(s, f->target);
		if (!c)
			return req_fail(r, APP_EASSOC_PATH,
					"association \"%s\" targets a missing "
					"collection",
					seg);
	}
	*target = c;
	return 0;
}

static json_object *context_of(struct req *r, json_object *data)
{
	json_object *ctx = json_object_new_object();
	json_object_object_add(ctx, "data", data);
	json_object_object_add(ctx, "user", jsonx_ref(r->who.user));
	json_object_object_add(ctx, "roleName",
			       r->who.role ? json_object_new_string(r->who.role)
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
static json_object *appends_for(const struct schema *s,
				const struct wf_flow *f, const char *path)
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

/* Build the event data of one workflow on a collection request.
 * *data NULL with rc 0: skipped (reason recorded). */
static int record_data(struct req *r, const struct coll *c, json_object *tk,
		       json_object *scope, json_object *assoc,
		       const struct wf_flow *f, const char *path, bool via_target,
		       json_object *form, struct plan *p, json_object **data)
{
	struct rctx x;
	json_object *filter = NULL, *tkf = NULL, *rows = NULL, *appends;
	int rc;

	*data = NULL;
	if (!tk) {
		*data = jsonx_ref(form);
		return 0;
	}
	api_rctx(r, &x);
	if ((rc = rec_tk_filter(&x, c, tk, &tkf)))
		return api_rfail(r, &x, rc);
	json_object *a = rec_and(tkf, assoc);
	filter = rec_and(a, scope);
	json_object_put(a);
	appends = appends_for(r->app->schema, f, via_target ? path : NULL);
	struct rec_query q = {.filter = filter, .appends = appends};
	rc = rec_find(&x, c, &q, &rows);
	json_object_put(filter);
	json_object_put(tkf);
	json_object_put(appends);
	if (rc)
		return api_rfail(r, &x, rc);
	const char *rp = via_target ? path : NULL;
	if (json_object_is_type(tk, json_type_array)) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(rows); i++) {
			json_object *d = overlay(json_object_array_get_idx(rows, i),
						 rp, form);
			if (d)
				json_object_array_add(arr, d);
		}
		*data = arr;
	} else if (!json_object_array_length(rows)) {
		json_object_put(rows);
		if (scope)
			return req_fail(r, APP_EDENIED,
					"record %s of \"%s\" is outside the role's "
					"scope",
					jsonx_str(tk), c->name);
		skip(p, "record %s of \"%s\" was not found", jsonx_str(tk),
		     c->name);
		return 0;
	} else {
		*data = overlay(json_object_array_get_idx(rows, 0), rp, form);
		if (!*data)
			skip(p, "the \"%s\" association of record %s is empty",
			     path, jsonx_str(tk));
	}
	json_object_put(rows);
	return 0;
}

static int plan_events(struct req *r, const struct coll *c, json_object *scope,
		       json_object *assoc, struct item *items, int nitems,
		       struct plan *p)
{
	json_object *tk = c ? api_tk(r) : NULL;
	int rc = 0;

	if (tk && json_object_is_type(tk, json_type_null)) {
		json_object_put(tk);
		tk = NULL;
	}
	for (int i = 0; i < nitems && !rc; i++) {
		const char *key = items[i].key, *path = items[i].path;
		const struct wf_flow *f = wf_flow_enabled(r->app, key);
		const struct coll *t = NULL;
		json_object *data = NULL;
		bool via_target = false;

		/* The path is checked whatever the workflow (contract §7). */
		if (c && path && (rc = walk_path(r, c, path, &t)))
			break;
		if (!f) {
			skip(p, "workflow key \"%s\" is %s", key,
			     wf_flow_absent_reason(r->app, key));
			continue;
		}
		if (strcmp(f->type, "custom-action")) {
			skip(p, "workflow \"%s\" has trigger type \"%s\"", key,
			     f->type);
			continue;
		}
		const char *bound = jsonx_get_str(f->config, "collection");
		if (!c) {
			json_object *ct = jsonx_get(f->config, "type");
			int64_t type = 0;
			if (ct && !json_object_is_type(ct, json_type_null) &&
			    (!jsonx_to_int64(ct, &type) || type != 0)) {
				skip(p, "workflow \"%s\" is bound to a collection, not "
					"to the global context",
				     key);
				continue;
			}
			data = jsonx_ref(r->values);
		} else {
			if (t && util_streq(bound, t->name))
				via_target = true;
			else if (!util_streq(bound, c->name)) {
				skip(p, "workflow \"%s\" is bound to collection \"%s\"",
				     key, bound ? bound : "(none)");
				continue;
			}
			json_object *form = path ? jsonx_path(r->values, path)
						 : r->values;
			if ((rc = record_data(r, c, tk, scope, assoc, f, path,
					      via_target, form, p, &data)))
				break;
			if (!data && !tk)
				data = NULL; /* no form at that path: undefined */
			else if (!data)
				continue;
		}
		struct event *ev = f->sync ? &p->sync[p->nsync++]
					   : &p->async[p->nasync++];
		ev->flow = f;
		ev->context = context_of(r, data);
	}
	json_object_put(tk);
	return rc;
}

static void plan_free(struct plan *p)
{
	for (int i = 0; i < p->nsync; i++)
		json_object_put(p->sync[i].context);
	for (int i = 0; i < p->nasync; i++)
		json_object_put(p->async[i].context);
	buf_free(&p->skipped);
}

static bool ended_on_end(const struct wf_exec *e)
{
	return e->last_node && !strcmp(e->last_node->type, "end");
}

/* Interception: the collected messages are the errors (contract §7),
 * each with a code and the reason. */
static int intercept(struct req *r, const struct wf_exec *e)
{
	json_object *list = json_object_new_array();
	size_t n = r->messages ? json_object_array_length(r->messages) : 0;
	const char *why = arena_printf(r->arena,
				       "workflow \"%s\" ended on end node \"%s\" "
				       "with a failure",
				       e->flow->key, e->last_node->title);
	for (size_t i = 0; i < n; i++) {
		json_object *m = jsonx_copy(json_object_array_get_idx(r->messages, i));
		json_object_object_add(m, "code",
				       json_object_new_string("WORKFLOW_MESSAGE"));
		json_object_object_add(m, "reason", json_object_new_string(why));
		json_object_array_add(list, m);
	}
	if (n) {
		r->errors = list;
		return req_fail(r, APP_EWF_INTERCEPTED, "%s", why);
	}
	json_object_put(list);
	return req_fail(r, APP_EWF_INTERCEPTED,
			"workflow \"%s\" ended on end node \"%s\" with a "
			"failure and no response message",
			e->flow->key, e->last_node->title);
}

static int failed(struct req *r, const struct wf_exec *e)
{
	const struct wf_node *n = e->error_node ? e->error_node : e->last_node;
	if (!n)
		return req_fail(r, APP_EWF_FAILED,
				"workflow \"%s\" (%s) failed: %s", e->flow->key,
				e->flow->title, e->error);
	return req_fail(r, APP_EWF_FAILED,
			"workflow \"%s\" (%s) failed at node \"%s\" (%s \"%s\"): %s",
			e->flow->key, e->flow->title, n->key, n->type, n->title,
			e->error[0] ? e->error : "status failed");
}

/* Write what ran, alone, after the data writes rolled back. */
static void save_history(struct app *a, struct wf_exec *ex, int n)
{
	int64_t id;
	if (store_begin(a->st, true))
		return;
	for (int i = 0; i < n; i++)
		if (wf_exec_save(&ex[i], &id)) {
			store_rollback(a->st);
			return;
		}
	if (store_commit(a->st))
		store_rollback(a->st);
}

static int run_events(struct req *r, struct plan *p)
{
	struct app *a = r->app;
	struct wf_exec ex[TRIGGER_MAX_ITEMS];
	int ran = 0, rc = 0;
	bool stop = false;
	int64_t id;

	for (int i = 0; i < p->nsync && !rc && !stop; i++) {
		struct wf_exec *e = &ex[ran++];
		wf_exec_init(e, a, p->sync[i].flow, jsonx_ref(p->sync[i].context),
			     r->who.user_id, true);
		wf_exec_run(e);
		size_t nm = json_object_array_length(e->messages);
		for (size_t m = 0; m < nm; m++)
			json_object_array_add(r->messages, jsonx_ref(
				json_object_array_get_idx(e->messages, m)));
		if (e->status == WF_RESOLVED)
			stop = ended_on_end(e);
		else if (e->status < 0)
			rc = ended_on_end(e) ? intercept(r, e) : failed(r, e);
		else
			rc = req_fail(r, APP_EWF_HANGS,
				      "workflow \"%s\" left a node pending",
				      e->flow->key);
	}
	for (int i = 0; !rc && i < ran; i++)
		if ((rc = wf_exec_save(&ex[i], &id)))
			req_fail(r, rc, "recording the executions failed");
	for (int i = 0; !rc && !stop && i < p->nasync; i++)
		if ((rc = wf_exec_enqueue(a, p->async[i].flow, p->async[i].context,
					  &id)))
			req_fail(r, rc, "queueing workflow \"%s\" failed",
				 p->async[i].flow->key);
	if (!rc && (rc = store_commit(a->st)))
		req_fail(r, rc, "%s", store_errmsg(a->st));
	if (rc) {
		/* The data writes go; what ran is written again alone. */
		store_abort(a->st);
		if (r->err == APP_EWF_FAILED || r->err == APP_EWF_INTERCEPTED ||
		    r->err == APP_EWF_HANGS)
			save_history(a, ex, ran);
	}
	for (int i = 0; i < ran; i++)
		wf_exec_free(&ex[i]);
	return rc;
}

int api_trigger(struct req *r, const struct coll *c, json_object *scope,
		json_object *assoc)
{
	struct app *a = r->app;
	const char *spec = req_param_str(r, "triggerWorkflows");
	struct item items[TRIGGER_MAX_ITEMS];
	struct plan p;
	int n = 0, rc;

	if (!spec || !*spec)
		return req_fail(r, APP_ETRIGGER_REQUIRED,
				"the query has no triggerWorkflows parameter");
	if ((rc = parse_spec(r, spec, items, &n)))
		return rc;
	memset(&p, 0, sizeof(p));
	if ((rc = store_writable(a->st)) || (rc = store_begin(a->st, true)))
		return req_fail(r, rc, "%s", store_errmsg(a->st));
	rc = plan_events(r, c, scope, assoc, items, n, &p);
	if (!rc && !p.nsync && !p.nasync) {
		log_info("No workflow triggered: %s", buf_str(&p.skipped));
		rc = req_fail(r, APP_ENO_WORKFLOW, "%s",
			      p.skipped.len ? buf_str(&p.skipped)
					    : "triggerWorkflows names no workflow");
	}
	if (rc) {
		store_rollback(a->st);
		plan_free(&p);
		return rc;
	}
	r->messages = json_object_new_array();
	rc = run_events(r, &p);
	plan_free(&p);
	if (!rc)
		r->has_data = false; /* success body: {} or {messages} */
	return rc;
}

/* ---- workflows:execute (reference §3.8) ---- */


static int execute_data(struct req *r, const struct wf_flow *f,
			json_object **data)
{
	json_object *ct = jsonx_get(f->config, "type");
	json_object *given = jsonx_get(r->values, "data");
	int64_t type = 0;
	struct rctx x;
	int rc;

	*data = NULL;
	if (!ct || !jsonx_to_int64(ct, &type) || type == 0) {
		*data = jsonx_ref(given);
		return 0;
	}
	const char *name = jsonx_get_str(f->config, "collection");
	const struct coll *c = schema_coll(r->app->schema, name);
	if (!c)
		return req_fail_msg(r, APP_EVALIDATION,
				    arena_printf(r->arena, "Collection %s not found",
						 name ? name : ""),
				    "the workflow's collection does not exist");
	api_rctx(r, &x);
	json_object *appends = appends_for(r->app->schema, f, NULL), *tk = NULL,
		    *rows = NULL,
		    *flt = NULL;
	if (type == 2)
		tk = jsonx_ref(jsonx_get(r->values, "filterByTk"));
	else if (json_object_is_type(given, json_type_object))
		tk = jsonx_ref(jsonx_get(given, c->pk));
	else
		tk = jsonx_ref(given);
	if (type == 1 && json_object_is_type(given, json_type_object) &&
	    !json_object_array_length(appends)) {
		*data = jsonx_ref(given);
		goto out;
	}
	if (!tk) {
		*data = jsonx_ref(given);
		goto out;
	}
	if ((rc = rec_tk_filter(&x, c, tk, &flt)))
		goto fail;
	struct rec_query q = {.filter = flt, .appends = appends};
	if ((rc = rec_find(&x, c, &q, &rows)))
		goto fail;
	*data = type == 2 ? jsonx_ref(rows)
			  : jsonx_ref(json_object_array_length(rows)
					      ? json_object_array_get_idx(rows, 0)
					      : NULL);
	goto out;
fail:
	api_rfail(r, &x, rc);
	json_object_put(appends);
	json_object_put(tk);
	json_object_put(flt);
	json_object_put(rows);
	return rc;
out:
	json_object_put(appends);
	json_object_put(tk);
	json_object_put(flt);
	json_object_put(rows);
	return 0;
}

int api_execute(struct req *r)
{
	struct app *a = r->app;
	json_object *tk = api_tk(r), *data = NULL, *user = NULL, *ctx,
		    *wrow = NULL;
	struct wf_flow *f = NULL;
	struct wf_exec e;
	int64_t wid = 0, uid = 0, eid = 0, executed_before = 0;
	int rc;

	/* An empty object is values all the same: NocoBase then asks for
	 * the user. */
	if (!json_object_is_type(r->values, json_type_object)) {
		json_object_put(tk);
		return req_fail_msg(r, APP_EPARAM, "values is required",
				    "the body is not a JSON object");
	}
	if (!tk) {
		return req_fail_msg(r, APP_EPARAM, "filterByTk is required",
				    "name the workflow id in filterByTk");
	}
	if (!jsonx_to_int64(tk, &wid)) {
		json_object_put(tk);
		return req_fail_msg(r, APP_EPARAM, "filterByTk is invalid",
				    "filterByTk must be an integer");
	}
	json_object_put(tk);
	json_object *u = jsonx_get(r->values, "userId");
	if (json_object_is_type(u, json_type_object))
		u = jsonx_get(u, "id");
	if (!u || !jsonx_to_int64(u, &uid))
		return req_fail_msg(r, APP_EPARAM, "user is not provided",
				    "the body has no userId");
	if ((rc = store_begin(a->st, true)))
		return req_fail(r, rc, "%s", store_errmsg(a->st));
	if ((rc = wf_flow_load(a, wid, &f)) || !f) {
		store_rollback(a->st);
		return rc ? req_fail(r, rc, "%s", store_errmsg(a->st))
			  : req_fail_msg(r, APP_ERECORD_NOT_FOUND,
					 "workflow not found",
					 "no workflow %lld", (long long)wid);
	}
	struct rctx wx;
	json_object *wf = json_object_new_object();
	api_rctx(r, &wx);
	json_object_object_add(wf, "id", json_object_new_int64(wid));
	struct rec_query wq = {.filter = wf};
	rec_get(&wx, schema_coll(a->schema, "workflows"), &wq, &wrow);
	json_object_put(wf);
	api_wf_counts(r, wrow);
	jsonx_get_int(wrow, "executed", &executed_before);
	user = auth_load_user(a, uid);
	if (!user) {
		rc = req_fail_msg(r, APP_EPARAM, "user not found",
				  "no user %lld", (long long)uid);
		goto out;
	}
	if ((rc = execute_data(r, f, &data)))
		goto out;
	const char *role = jsonx_get_str(r->values, "roleName");
	json_object *roles = role ? NULL : auth_user_roles(a, uid);
	ctx = json_object_new_object();
	json_object_object_add(ctx, "data", data);
	json_object_object_add(ctx, "user", jsonx_ref(user));
	json_object_object_add(
		ctx, "roleName",
		role ? json_object_new_string(role)
		     : jsonx_ref(json_object_array_length(roles)
					 ? json_object_array_get_idx(roles, 0)
					 : NULL));
	json_object_put(roles);
	wf_exec_init(&e, a, f, ctx, uid, false);
	e.manually = true;
	wf_exec_run(&e);
	rc = wf_exec_save(&e, &eid);
	json_object *exo = json_object_new_object();
	json_object_object_add(exo, "id", json_object_new_int64(eid));
	json_object_object_add(exo, "status", json_object_new_int(e.status));
	wf_exec_free(&e);
	json_object *out = json_object_new_object();
	json_object_object_add(out, "execution", exo);
	if (!rc && util_streq(req_param_str(r, "autoRevision"), "1") &&
	    executed_before == 0) {
		/* The version just became frozen: hand back an editable copy. */
		int64_t nid = 0;
		json_object *over = json_object_new_object();
		rc = api_wf_copy_version(r, wrow, over, &nid);
		json_object_put(over);
		if (!rc)
			json_object_object_add(out, "newVersionId",
					       json_object_new_int64(nid));
		if (!rc && (rc = store_bump(a->st, "workflow_version")))
			req_fail(r, rc, "%s", store_errmsg(a->st));
	}
	if (!rc && (rc = store_commit(a->st)))
		req_fail(r, rc, "%s", store_errmsg(a->st));
	if (rc) {
		json_object_put(out);
		goto out;
	}
	req_set_data(r, out);
out:
	if (rc)
		store_rollback(a->st);
	json_object_put(user);
	json_object_put(wrow);
	wf_flow_free(f);
	return rc;
}
