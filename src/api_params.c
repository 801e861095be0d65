/*
 * api_params: what every handler reads from a request: the query
 * parameters in NocoBase's forms (filter, filterByTk, comma lists), the
 * variables a filter may use, and the parent row of an association
 * resource (/posts/1/comments).  The lowest of the API's files.
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "jsonx.h"
#include "util.h"
#include "wf_template.h"

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


int api_fail_why(struct req *r, const struct err_why *w)
{
	if (w->message)
		return req_fail_msg(r, w->code, w->message, "%s", w->reason);
	return req_fail(r, w->code, "%s", w->reason);
}

/* Nothing is related: match no row. */
static json_object *none_filter(const struct coll *t)
{
	json_object *f = json_object_new_object(), *none = json_object_new_object();
	json_object_object_add(none, "$in", json_object_new_array());
	json_object_object_add(f, t->pk, none);
	return f;
}

/* The target keys linked to source key sk through a belongsToMany's
 * through table: {targetKey: {$in: [...]}} (new ref). */
static int through_filter(struct rctx *x, const struct field *f,
			  json_object *sk, json_object **out)
{
	const struct coll *th = schema_coll(x->app->schema, f->through);
	json_object *links = NULL, *keys = json_object_new_array(),
		    *lf = json_object_new_object(), *op = json_object_new_object();
	struct rec_query lq = {.filter = lf};
	int rc;

	json_object_object_add(lf, f->foreign_key, jsonx_ref(sk));
	rc = th ? rec_find(x, th, &lq, &links)
		: rec_fail(x, APP_ENOT_FOUND, "missing through");
	json_object_put(lf);
	for (size_t i = 0; !rc && i < json_object_array_length(links); i++)
		json_object_array_add(keys,
				      jsonx_ref(jsonx_get(json_object_array_get_idx(
								  links, i),
							  f->other_key)));
	json_object_put(links);
	json_object_object_add(op, "$in", keys);
	*out = json_object_new_object();
	json_object_object_add(*out, f->target_key, op);
	return rc;
}

/* The parent row of /<parent>/<id>/<assoc>, by its key (new ref, NULL
 * when it does not exist). */
static int parent_row(struct req *r, struct rctx *x, const struct coll *p,
		      json_object **row)
{
	json_object *tmp = json_object_new_string(r->parent_index), *pk = NULL;
	int rc = rec_pk(x, p, tmp, &pk);
	json_object_put(tmp);
	if (rc)
		return rc;
	json_object *pf = json_object_new_object();
	json_object_object_add(pf, p->pk, pk);
	struct rec_query q = {.filter = pf};
	rc = rec_get(x, p, &q, row);
	json_object_put(pf);
	return rc;
}

/* /posts/1/comments -> the filter {postId: 1} on comments, and the key
 * values a create through it must set. */
int api_target_assoc(struct req *r, struct api_target *t)
{
	const struct schema *s = r->app->schema;
	const struct coll *p = r->parent ? schema_coll(s, r->parent) : NULL;
	const struct field *f = p ? coll_field(p, r->resource) : NULL;
	json_object *prow = NULL, *sk;
	struct rctx x;
	int rc;

	if (t->assoc_done || !r->parent)
		return 0;
	t->assoc_done = true;
	if (!p || p->internal)
		return req_fail(r, APP_ENOT_FOUND,
				"collection \"%s\" does not exist", r->parent);
	if (!f || !ftype_is_assoc(f->type) || !schema_coll(s, f->target))
		return req_fail(r, APP_ENOT_FOUND,
				"\"%s\" is not an association of \"%s\"",
				r->resource, p->name);
	t->c = schema_coll(s, f->target);
	t->assoc = f;
	api_rctx(r, &x);
	if ((rc = parent_row(r, &x, p, &prow)))
		return api_rfail(r, &x, rc);
	t->assoc_fixed = json_object_new_object();
	sk = prow ? jsonx_get(prow, f->type == FT_BELONGS_TO ? f->foreign_key
							     : f->source_key)
		  : NULL;
	if (!sk || json_object_is_type(sk, json_type_null)) {
		t->assoc_filter = none_filter(t->c);
	} else if (f->type == FT_BELONGS_TO) {
		t->assoc_filter = json_object_new_object();
		json_object_object_add(t->assoc_filter, f->target_key,
				       jsonx_ref(sk));
	} else if (f->type == FT_BELONGS_TO_MANY) {
		rc = through_filter(&x, f, sk, &t->assoc_filter);
	} else {
		t->assoc_filter = json_object_new_object();
		json_object_object_add(t->assoc_filter, f->foreign_key,
				       jsonx_ref(sk));
		json_object_object_add(t->assoc_fixed, f->foreign_key,
				       jsonx_ref(sk));
	}
	t->parent_key = sk ? jsonx_ref(sk) : NULL;
	json_object_put(prow);
	return rc ? api_rfail(r, &x, rc) : 0;
}

void api_target_free(struct api_target *t)
{
	json_object_put(t->scope);
	json_object_put(t->assoc_filter);
	json_object_put(t->assoc_fixed);
	json_object_put(t->parent_key);
	memset(t, 0, sizeof(*t));
}
