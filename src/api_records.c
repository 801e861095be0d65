/*
 * api_records: list/get/create/update/destroy on any collection, directly
 * (/posts:list) or through an association (/posts/1/comments:list), with
 * the ACL's scope filter and-merged into every read and write.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"
#include "wf_template.h"

#define PAGE_SIZE_MAX 100000

void api_rctx(struct req *r, struct rctx *x)
{
	memset(x, 0, sizeof(*x));
	x->app = r->app;
	x->user_id = r->who.user_id;
}

int api_rfail(struct req *r, struct rctx *x, int rc)
{
	if (!rc)
		return 0;
	if (x->message)
		return req_fail_msg(r, rc, x->message, "%s", x->reason);
	return req_fail(r, rc, "%s", x->reason);
}

int api_filter_param(struct req *r, json_object **filter)
{
	json_object *f = req_param(r, "filter");
	/* Kept when the text parses, but to an array or a scalar. */
	char err[256] = "it is valid JSON of another type";

	*filter = NULL;
	if (!f || json_object_is_type(f, json_type_null))
		return 0;
	if (json_object_is_type(f, json_type_string)) {
		const char *s = json_object_get_string(f);
		if (!*s)
			return 0;
		int bad = jsonx_parse(s, strlen(s), JSONX_MAX_DEPTH, filter, err,
				      sizeof(err));
		/* Valid JSON of another type: err was never written. */
		if (!bad && !json_object_is_type(*filter, json_type_object)) {
			snprintf(err, sizeof(err), "it is a JSON %s",
				 json_type_to_name(json_object_get_type(*filter)));
			bad = 1;
		}
		if (bad) {
			json_object_put(*filter);
			*filter = NULL;
			return req_fail_msg(r, APP_EPARAM,
					    "filter must be a JSON object",
					    "the filter parameter is not a JSON "
					    "object: %s",
					    err);
		}
	} else if (json_object_is_type(f, json_type_object)) {
		*filter = jsonx_ref(f);
	} else {
		return req_fail_msg(r, APP_EPARAM, "filter must be a JSON object",
				    "the filter parameter is not an object");
	}
	json_object *resolved = api_filter_vars(r, *filter);
	json_object_put(*filter);
	*filter = resolved;
	return 0;
}

json_object *api_list_param(struct req *r, const char *name)
{
	json_object *v = req_param(r, name), *out;
	if (!v || json_object_is_type(v, json_type_null))
		return NULL;
	out = json_object_new_array();
	json_object *items = json_object_is_type(v, json_type_array)
				     ? jsonx_ref(v)
				     : json_object_new_array();
	if (!json_object_is_type(v, json_type_array))
		json_object_array_add(items, jsonx_ref(v));
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		json_object *it = json_object_array_get_idx(items, i);
		if (!json_object_is_type(it, json_type_string))
			continue;
		char *copy = strdup(json_object_get_string(it)), *save = NULL;
		for (char *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (*tok)
				json_object_array_add(out,
						      json_object_new_string(tok));
		}
		free(copy);
	}
	json_object_put(items);
	return out;
}

json_object *api_tk(struct req *r)
{
	json_object *tk = req_param(r, "filterByTk");
	char err[64];

	if (tk && json_object_is_type(tk, json_type_string)) {
		const char *s = json_object_get_string(tk);
		json_object *parsed = NULL;
		if ((s[0] == '[' || s[0] == '{') &&
		    !jsonx_parse(s, strlen(s), 8, &parsed, err, sizeof(err)))
			return parsed;
		return jsonx_ref(tk);
	}
	if (tk && json_object_is_type(tk, json_type_object)) {
		/* filterByTk[0]=1&filterByTk[1]=2 after a conversion */
		json_object *arr = json_object_new_array();
		json_object_object_foreach(tk, k, v) {
			(void)k;
			json_object_array_add(arr, jsonx_ref(v));
		}
		return arr;
	}
	if (tk && !json_object_is_type(tk, json_type_null))
		return jsonx_ref(tk);
	if (r->index)
		return json_object_new_string(r->index);
	return NULL;
}

/* Variables a filter may use: {{$user.id}}, {{ctx.state.currentUser.id}},
 * {{$nRole}}, {{$nDate.now}}. */
static json_object *filter_var(void *ctx, const char *path)
{
	struct req *r = ctx;
	json_object *scope = json_object_new_object(), *state, *c, *d, *v;
	char now[32];

	util_iso_from_ms(util_now_ms(), now);
	state = json_object_new_object();
	json_object_object_add(state, "currentUser", jsonx_ref(r->who.user));
	json_object_object_add(state, "currentRole",
			       r->who.role ? json_object_new_string(r->who.role)
					   : NULL);
	c = json_object_new_object();
	json_object_object_add(c, "state", state);
	json_object_object_add(scope, "ctx", c);
	json_object_object_add(scope, "$user", jsonx_ref(r->who.user));
	json_object_object_add(scope, "currentUser", jsonx_ref(r->who.user));
	json_object_object_add(scope, "$nRole",
			       r->who.role ? json_object_new_string(r->who.role)
					   : NULL);
	d = json_object_new_object();
	json_object_object_add(d, "now", json_object_new_string(now));
	json_object_object_add(scope, "$nDate", jsonx_ref(d));
	json_object_object_add(scope, "$date", d);
	v = wf_template_lookup(scope, path);
	json_object_put(scope);
	return v;
}

json_object *api_filter_vars(struct req *r, json_object *filter)
{
	if (!filter)
		return NULL;
	return wf_template_render(filter, filter_var, r);
}

/* The target collection and the filter an association resource adds:
 * /posts/1/comments -> (comments, {postId: 1}). *fixed gets the key
 * values a create through it must set. */
static int assoc_scope(struct req *r, const struct coll **target,
		       json_object **filter, json_object **fixed,
		       const struct field **field, json_object **parent_key)
{
	const struct schema *s = r->app->schema;
	const struct coll *p = schema_coll(s, r->parent);
	const struct field *f = p ? coll_field(p, r->resource) : NULL;
	const struct coll *t;
	json_object *pk = NULL, *prow = NULL, *tmp;
	struct rctx x;
	int rc;

	*filter = *fixed = *parent_key = NULL;
	if (!p || p->internal)
		return req_fail(r, APP_ENOT_FOUND,
				"collection \"%s\" does not exist", r->parent);
	if (!f || !ftype_is_assoc(f->type))
		return req_fail(r, APP_ENOT_FOUND,
				"\"%s\" is not an association of \"%s\"",
				r->resource, p->name);
	t = schema_coll(s, f->target);
	if (!t)
		return req_fail(r, APP_ENOT_FOUND,
				"association \"%s\" targets a missing "
				"collection",
				f->name);
	*target = t;
	*field = f;
	api_rctx(r, &x);
	tmp = json_object_new_string(r->parent_index);
	rc = rec_pk(&x, p, tmp, &pk);
	json_object_put(tmp);
	if (rc)
		return api_rfail(r, &x, rc);
	/* The parent row gives the source key (and a belongsTo's key). */
	json_object *pf = json_object_new_object();
	json_object_object_add(pf, p->pk, jsonx_ref(pk));
	struct rec_query q = {.filter = pf};
	rc = rec_get(&x, p, &q, &prow);
	json_object_put(pf);
	if (rc) {
		json_object_put(pk);
		return api_rfail(r, &x, rc);
	}
	*filter = json_object_new_object();
	*fixed = json_object_new_object();
	json_object *sk = prow ? jsonx_get(prow, f->type == FT_BELONGS_TO
							 ? f->foreign_key
							 : f->source_key)
			       : NULL;
	if (!sk || json_object_is_type(sk, json_type_null)) {
		/* Nothing is related: match no row. */
		json_object *none = json_object_new_object();
		json_object_object_add(none, "$in", json_object_new_array());
		json_object_object_add(*filter, t->pk, none);
	} else if (f->type == FT_BELONGS_TO) {
		json_object_object_add(*filter, f->target_key, jsonx_ref(sk));
	} else if (f->type == FT_BELONGS_TO_MANY) {
		const struct coll *th = schema_coll(s, f->through);
		json_object *links = NULL, *keys = json_object_new_array(),
			    *lf = json_object_new_object(), *op;
		struct rec_query lq = {.filter = lf};
		json_object_object_add(lf, f->foreign_key, jsonx_ref(sk));
		rc = th ? rec_find(&x, th, &lq, &links)
			: rec_fail(&x, APP_ENOT_FOUND, "missing through");
		json_object_put(lf);
		for (size_t i = 0; !rc && i < json_object_array_length(links); i++)
			json_object_array_add(
				keys, jsonx_ref(jsonx_get(
					      json_object_array_get_idx(links, i),
					      f->other_key)));
		json_object_put(links);
		op = json_object_new_object();
		json_object_object_add(op, "$in", keys);
		json_object_object_add(*filter, f->target_key, op);
		if (rc) {
			json_object_put(pk);
			json_object_put(prow);
			return api_rfail(r, &x, rc);
		}
	} else {
		json_object_object_add(*filter, f->foreign_key, jsonx_ref(sk));
		json_object_object_add(*fixed, f->foreign_key, jsonx_ref(sk));
	}
	*parent_key = sk ? jsonx_ref(sk) : NULL;
	json_object_put(pk);
	json_object_put(prow);
	return 0;
}

static int act_list(struct req *r, struct rctx *x, const struct coll *c,
		    json_object *filter)
{
	json_object *rows = NULL, *meta;
	json_object *p = req_param(r, "paginate");
	bool paginate = !(p && json_object_is_type(p, json_type_string) &&
			  !strcmp(json_object_get_string(p), "false"));
	int64_t page = 1, size = 20, count = 0;
	int rc;

	if (req_param(r, "page") &&
	    (!jsonx_get_int(r->query, "page", &page) || page < 1))
		return req_fail(r, APP_EPARAM, "page must be a positive integer");
	if (req_param(r, "pageSize") &&
	    (!jsonx_get_int(r->query, "pageSize", &size) || size < 1 ||
	     size > PAGE_SIZE_MAX))
		return req_fail(r, APP_EPARAM,
				"pageSize must be an integer from 1 to %d",
				PAGE_SIZE_MAX);
	struct rec_query q = {
		.filter = filter,
		.fields = api_list_param(r, "fields"),
		.appends = api_list_param(r, "appends"),
		.except = api_list_param(r, "except"),
		.sort = api_list_param(r, "sort"),
	};
	if (paginate) {
		q.limit = size;
		q.offset = (page - 1) * size;
	}
	rc = rec_find(x, c, &q, &rows);
	if (!rc && paginate)
		rc = rec_count(x, c, filter, &count);
	json_object_put(q.fields);
	json_object_put(q.appends);
	json_object_put(q.except);
	json_object_put(q.sort);
	if (rc)
		return api_rfail(r, x, rc);
	req_set_data(r, rows);
	if (paginate) {
		meta = json_object_new_object();
		json_object_object_add(meta, "count", json_object_new_int64(count));
		json_object_object_add(meta, "page", json_object_new_int64(page));
		json_object_object_add(meta, "pageSize",
				       json_object_new_int64(size));
		json_object_object_add(meta, "totalPage",
				       json_object_new_int64((count + size - 1) /
							     size));
		r->meta = meta;
	}
	return 0;
}

static int act_get(struct req *r, struct rctx *x, const struct coll *c,
		   json_object *filter)
{
	json_object *row = NULL;
	struct rec_query q = {
		.filter = filter,
		.fields = api_list_param(r, "fields"),
		.appends = api_list_param(r, "appends"),
		.except = api_list_param(r, "except"),
	};
	int rc = rec_get(x, c, &q, &row);
	json_object_put(q.fields);
	json_object_put(q.appends);
	json_object_put(q.except);
	if (rc)
		return api_rfail(r, x, rc);
	req_set_data(r, row);
	return 0;
}

/* The rows an update or destroy may touch: filterByTk or filter is
 * required, as NocoBase requires it (but 400, not 500). */
static int target_filter(struct req *r, struct rctx *x, const struct coll *c,
			 json_object *base, json_object **out)
{
	json_object *tk = api_tk(r), *f = NULL, *tkf = NULL;
	int rc;

	*out = NULL;
	if ((rc = api_filter_param(r, &f)))
		goto out;
	if (!tk && (!f || !json_object_object_length(f))) {
		rc = req_fail_msg(r, APP_EPARAM,
				  strcmp(r->action, "destroy")
					  ? "to do update action, filter or "
					    "filterByTk is required"
					  : "to do destroy action, filter or "
					    "filterByTk is required",
				  "neither filter nor filterByTk was given");
		goto out;
	}
	if (tk && (rc = rec_tk_filter(x, c, tk, &tkf))) {
		api_rfail(r, x, rc);
		goto out;
	}
	json_object *a = rec_and(f, tkf);
	*out = rec_and(a, base);
	json_object_put(a);
out:
	json_object_put(tk);
	json_object_put(f);
	json_object_put(tkf);
	return rc;
}

/* A destroy by filterByTk that names rows outside the ACL scope is
 * refused (403) rather than deleting fewer, as NocoBase's ACL does by
 * comparing the counts with and without the scope.  (System resources
 * get no ACL scope: apiKeys passes its own-keys filter, and destroying
 * another's key deletes nothing, as in NocoBase.) */
static int destroy_in_scope(struct req *r, struct rctx *x, const struct coll *c,
			    json_object *afilter, json_object *scoped)
{
	json_object *tk = api_tk(r), *all = NULL;
	int64_t n_all = 0, n_scoped = 0;
	int rc;

	if (!tk)
		return 0;
	json_object_put(tk);
	if ((rc = target_filter(r, x, c, afilter, &all)))
		return rc;
	rc = rec_count(x, c, all, &n_all);
	if (!rc)
		rc = rec_count(x, c, scoped, &n_scoped);
	json_object_put(all);
	if (rc)
		return api_rfail(r, x, rc);
	if (n_all > n_scoped)
		return req_fail(r, APP_EDENIED,
				"role \"%s\" may \"destroy\" only rows in its "
				"scope; %lld of the rows named are outside it",
				r->who.role ? r->who.role : "anonymous",
				(long long)(n_all - n_scoped));
	return 0;
}

int api_records(struct req *r, const struct coll *c, json_object *scope)
{
	struct rctx x;
	json_object *afilter = NULL, *fixed = NULL, *pkey = NULL, *base = NULL,
		    *qf = NULL, *tk = NULL, *tkf = NULL, *filter = NULL,
		    *out = NULL;
	const struct field *af = NULL;
	const char *a = r->action;
	int rc = 0;

	api_rctx(r, &x);
	if (r->parent &&
	    (rc = assoc_scope(r, &c, &afilter, &fixed, &af, &pkey)))
		goto out;
	base = rec_and(afilter, scope);
	if (!strcmp(a, "list") || !strcmp(a, "get")) {
		if ((rc = api_filter_param(r, &qf)))
			goto out;
		tk = api_tk(r);
		if (tk && (rc = rec_tk_filter(&x, c, tk, &tkf))) {
			api_rfail(r, &x, rc);
			goto out;
		}
		json_object *t = rec_and(qf, tkf);
		filter = rec_and(t, base);
		json_object_put(t);
		rc = !strcmp(a, "list") ? act_list(r, &x, c, filter)
					: act_get(r, &x, c, filter);
	} else if (!strcmp(a, "create")) {
		rc = rec_create(&x, c, r->values, fixed, &out);
		if (!rc && af && af->type == FT_BELONGS_TO_MANY && pkey) {
			/* Link the new record to the parent. */
			json_object *link = json_object_new_object(), *lr = NULL;
			const struct coll *th =
				schema_coll(r->app->schema, af->through);
			json_object_object_add(link, af->foreign_key,
					       jsonx_ref(pkey));
			json_object_object_add(
				link, af->other_key,
				jsonx_ref(jsonx_get(out, af->target_key)));
			rc = th ? rec_create(&x, th, link, NULL, &lr) : APP_EINTERNAL;
			json_object_put(lr);
			json_object_put(link);
		}
		if (rc)
			api_rfail(r, &x, rc);
		else
			req_set_data(r, jsonx_ref(out));
	} else if (!strcmp(a, "update")) {
		if ((rc = target_filter(r, &x, c, base, &filter)))
			goto out;
		rc = rec_update(&x, c, filter, r->values, &out);
		if (rc)
			api_rfail(r, &x, rc);
		else
			req_set_data(r, jsonx_ref(out));
	} else if (!strcmp(a, "destroy")) {
		int64_t n = 0;
		if ((rc = target_filter(r, &x, c, base, &filter)) ||
		    (scope && !c->system &&
		     (rc = destroy_in_scope(r, &x, c, afilter, filter))))
			goto out;
		rc = rec_destroy(&x, c, filter, &n);
		if (rc)
			api_rfail(r, &x, rc);
		else
			req_set_data(r, json_object_new_int64(n));
	} else if (!strcmp(a, "trigger")) {
		rc = api_trigger(r, c, scope, afilter);
	} else {
		rc = req_fail(r, APP_ENOT_FOUND,
			      "action \"%s\" does not exist on \"%s\"", a,
			      c->name);
	}
out:
	json_object_put(afilter);
	json_object_put(fixed);
	json_object_put(pkey);
	json_object_put(base);
	json_object_put(qf);
	json_object_put(tk);
	json_object_put(tkf);
	json_object_put(filter);
	json_object_put(out);
	return rc;
}
