/*
 * api_records: list/get/create/update/destroy on any collection, directly
 * (/posts:list) or through an association (/posts/1/comments:list), with
 * the ACL's scope filter and-merged into every read and write.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "jsonx.h"
#include "limits.h"
#include "util.h"

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
	     size > LIMIT_PAGE_SIZE))
		return req_fail(r, APP_EPARAM,
				"pageSize must be an integer from 1 to %d",
				LIMIT_PAGE_SIZE);
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
	} else {
		q.limit = LIMIT_UNPAGED_ROWS + 1; /* one more: to tell */
	}
	rc = rec_find(x, c, &q, &rows);
	if (!rc && !paginate &&
	    json_object_array_length(rows) > LIMIT_UNPAGED_ROWS)
		rc = rec_fail(x, APP_EINPUT_LIMIT,
			      "paginate=false matches more than %d rows: ask "
			      "for pages",
			      LIMIT_UNPAGED_ROWS);
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
			 json_object *base, const char *verb, json_object **out)
{
	json_object *tk = api_tk(r), *f = NULL, *tkf = NULL;
	int rc;

	*out = NULL;
	if ((rc = api_filter_param(r, &f)))
		goto out;
	if (!tk && (!f || !json_object_object_length(f))) {
		rc = req_fail_msg(r, APP_EPARAM,
				  arena_printf(r->arena,
					       "to do %s action, filter or "
					       "filterByTk is required",
					       verb),
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
	if ((rc = target_filter(r, x, c, afilter, "destroy", &all)))
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

/* The association's filter and the role's scope together (new ref). */
static int base_filter(struct req *r, struct api_target *t, json_object **base)
{
	int rc = api_target_assoc(r, t);
	*base = rc ? NULL : rec_and(t->assoc_filter, t->scope);
	return rc;
}

/* filter and filterByTk of a read, within base (new ref). */
static int read_filter(struct req *r, struct rctx *x, struct api_target *t,
		       json_object **filter)
{
	json_object *base = NULL, *qf = NULL, *tk = NULL, *tkf = NULL, *both;
	int rc;

	*filter = NULL;
	if ((rc = base_filter(r, t, &base)) || (rc = api_filter_param(r, &qf)))
		goto out;
	tk = api_tk(r);
	if (tk && (rc = rec_tk_filter(x, t->c, tk, &tkf))) {
		api_rfail(r, x, rc);
		goto out;
	}
	both = rec_and(qf, tkf);
	*filter = rec_and(both, base);
	json_object_put(both);
out:
	json_object_put(base);
	json_object_put(qf);
	json_object_put(tk);
	json_object_put(tkf);
	return rc;
}

API_HANDLER(api_records_list)
{
	struct rctx x;
	json_object *filter = NULL;
	int rc;

	api_rctx(r, &x);
	if (!(rc = read_filter(r, &x, t, &filter)))
		rc = act_list(r, &x, t->c, filter);
	json_object_put(filter);
	return rc;
}

API_HANDLER(api_records_get)
{
	struct rctx x;
	json_object *filter = NULL;
	int rc;

	api_rctx(r, &x);
	if (!(rc = read_filter(r, &x, t, &filter)))
		rc = act_get(r, &x, t->c, filter);
	json_object_put(filter);
	return rc;
}

/* A record created through a belongsToMany is linked to the parent. */
static int link_created(struct req *r, struct rctx *x, struct api_target *t,
			json_object *rec)
{
	const struct field *af = t->assoc;
	const struct coll *th;
	json_object *link, *lr = NULL;
	int rc;

	if (!af || af->type != FT_BELONGS_TO_MANY || !t->parent_key)
		return 0;
	th = schema_coll(r->app->schema, af->through);
	if (!th)
		return APP_EINTERNAL;
	link = json_object_new_object();
	json_object_object_add(link, af->foreign_key, jsonx_ref(t->parent_key));
	json_object_object_add(link, af->other_key,
			       jsonx_ref(jsonx_get(rec, af->target_key)));
	rc = rec_create(x, th, link, NULL, &lr);
	json_object_put(lr);
	json_object_put(link);
	return rc;
}

API_HANDLER(api_records_create)
{
	struct rctx x;
	json_object *out = NULL;
	int rc;

	if ((rc = api_target_assoc(r, t)))
		return rc;
	api_rctx(r, &x);
	rc = rec_create(&x, t->c, r->values, t->assoc_fixed, &out);
	if (!rc)
		rc = link_created(r, &x, t, out);
	if (rc)
		api_rfail(r, &x, rc);
	else
		req_set_data(r, jsonx_ref(out));
	json_object_put(out);
	return rc;
}

API_HANDLER(api_records_update)
{
	struct rctx x;
	json_object *base = NULL, *filter = NULL, *out = NULL;
	int rc;

	api_rctx(r, &x);
	if ((rc = base_filter(r, t, &base)) ||
	    (rc = target_filter(r, &x, t->c, base, "update", &filter)))
		goto out;
	rc = rec_update(&x, t->c, filter, r->values, &out);
	if (rc)
		api_rfail(r, &x, rc);
	else
		req_set_data(r, jsonx_ref(out));
out:
	json_object_put(base);
	json_object_put(filter);
	json_object_put(out);
	return rc;
}

API_HANDLER(api_records_destroy)
{
	struct rctx x;
	json_object *base = NULL, *filter = NULL;
	int64_t n = 0;
	int rc;

	api_rctx(r, &x);
	if ((rc = base_filter(r, t, &base)) ||
	    (rc = target_filter(r, &x, t->c, base, "destroy", &filter)) ||
	    (t->scope && !t->c->system &&
	     (rc = destroy_in_scope(r, &x, t->c, t->assoc_filter, filter))))
		goto out;
	rc = rec_destroy(&x, t->c, filter, &n);
	if (rc)
		api_rfail(r, &x, rc);
	else
		req_set_data(r, json_object_new_int64(n));
out:
	json_object_put(base);
	json_object_put(filter);
	return rc;
}
