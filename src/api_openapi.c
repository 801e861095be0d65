/*
 * api_openapi: GET /api/openapi.json, an OpenAPI 3.1 document made from
 * the route table and the live schema, for any signed-in user.
 *
 * Every row of the route table becomes operations, each marked with the
 * row's name in x-flowcgi-route ("<collection>:trigger", as the request
 * log and `flowcgi.fcgi routes` name it):
 *   - a collection route, one path per collection of the live schema
 *     (/samples:list, /samples:get/{filterByTk}), or per association of
 *     each collection (/posts/{id}/comments:list); with no collection yet,
 *     the templated /{collection}:list;
 *   - a system route, as it is (/users:list, /roles/{name}/resources:list),
 *     per association for "*" rows;
 *   - the documents, by their REST paths (/metrics, /openapi.json).
 * Record schemas come from the fields (string/text -> string, integer and
 * bigInt -> integer, float/double -> number, decimal -> string, boolean,
 * date -> date-time string, json -> any, associations -> $ref of the
 * target); a trigger's triggerWorkflows lists the keys of the enabled
 * custom-action workflows bound to the collection.  The colon form takes
 * any method; the document names the one NocoBase's client uses (GET for
 * list, get, check and the documents, POST otherwise).
 */
#include "api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "jsonx.h"
#include "store.h"

#ifndef FLOWCGI_VERSION
#define FLOWCGI_VERSION "0.1.0"
#endif

#define REF(name) "{\"$ref\":\"#/components/" name "\"}"

/* The parts that do not depend on the schema. */
static const char components_text[] =
	"{\"securitySchemes\":{"
	"\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\",\"bearerFormat\":"
	"\"JWT\",\"description\":\"A token from auth:signIn or apiKeys:create; "
	"X-Role chooses among the user's roles.\"},"
	"\"tokenQuery\":{\"type\":\"apiKey\",\"in\":\"query\",\"name\":\"token\","
	"\"description\":\"The same token as a query parameter, for hosts that "
	"drop the Authorization header.\"}},"
	"\"parameters\":{"
	"\"XRole\":{\"name\":\"X-Role\",\"in\":\"header\",\"description\":\"The "
	"role to act as (default: the user's default role).\",\"schema\":{"
	"\"type\":\"string\"}},"
	"\"XRequestId\":{\"name\":\"X-Request-Id\",\"in\":\"header\","
	"\"description\":\"Taken when at most 128 printable characters, else "
	"made; sent back and written in the request log.\",\"schema\":{\"type\":"
	"\"string\",\"maxLength\":128}},"
	"\"XDataSource\":{\"name\":\"X-Data-Source\",\"in\":\"header\","
	"\"schema\":{\"type\":\"string\",\"enum\":[\"main\"]}},"
	"\"IdempotencyKey\":{\"name\":\"Idempotency-Key\",\"in\":\"header\","
	"\"description\":\"The same key with the same request replays the "
	"stored answer (Idempotent-Replayed: true); with another request it is "
	"422.\",\"schema\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":"
	"255}},"
	"\"filterByTk\":{\"name\":\"filterByTk\",\"in\":\"query\",\"description\":"
	"\"The record's key (filterByTk[]= for several).\",\"schema\":{}},"
	"\"filterByTkPath\":{\"name\":\"filterByTk\",\"in\":\"path\",\"required\":"
	"true,\"description\":\"The record's key.\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"filter\":{\"name\":\"filter\",\"in\":\"query\",\"description\":"
	"\"A NocoBase filter ($eq, $in, $and, dotted association paths, "
	"{{$user.id}}).\",\"content\":{\"application/json\":{\"schema\":{"
	"\"type\":\"object\"}}}},"
	"\"sort\":{\"name\":\"sort\",\"in\":\"query\",\"description\":\"Fields, "
	"comma-separated; -name sorts descending.\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"fields\":{\"name\":\"fields\",\"in\":\"query\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"appends\":{\"name\":\"appends\",\"in\":\"query\",\"description\":"
	"\"Associations to include, comma-separated.\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"except\":{\"name\":\"except\",\"in\":\"query\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"page\":{\"name\":\"page\",\"in\":\"query\",\"schema\":{\"type\":"
	"\"integer\",\"minimum\":1}},"
	"\"pageSize\":{\"name\":\"pageSize\",\"in\":\"query\",\"schema\":{"
	"\"type\":\"integer\",\"minimum\":1}},"
	"\"paginate\":{\"name\":\"paginate\",\"in\":\"query\",\"schema\":{"
	"\"type\":\"boolean\"}},"
	"\"dryRun\":{\"name\":\"dryRun\",\"in\":\"query\",\"description\":\"Run "
	"exactly what the call would run, then roll everything back; the answer "
	"carries meta.dryRun and meta.trace.\",\"schema\":{\"type\":"
	"\"boolean\"}},"
	"\"trace\":{\"name\":\"trace\",\"in\":\"query\",\"description\":\"Add "
	"meta.trace (what ran, node by node) to a real call.\",\"schema\":{"
	"\"type\":\"boolean\"}},"
	"\"parentId\":{\"name\":\"id\",\"in\":\"path\",\"required\":true,"
	"\"description\":\"The parent record's key.\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"roleName\":{\"name\":\"name\",\"in\":\"path\",\"required\":true,"
	"\"description\":\"The role's name.\",\"schema\":{\"type\":\"string\"}},"
	"\"collection\":{\"name\":\"collection\",\"in\":\"path\",\"required\":"
	"true,\"description\":\"A collection's name.\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"association\":{\"name\":\"association\",\"in\":\"path\",\"required\":"
	"true,\"description\":\"An association field of the parent.\","
	"\"schema\":{\"type\":\"string\"}}},"
	"\"headers\":{"
	"\"XRequestId\":{\"description\":\"The request's id, as logged.\","
	"\"schema\":{\"type\":\"string\"}},"
	"\"XExecutionId\":{\"description\":\"The executions the request "
	"created, in the order of the keys: 41, 42.\",\"schema\":{\"type\":"
	"\"string\"}},"
	"\"IdempotentReplayed\":{\"description\":\"The stored answer to an "
	"Idempotency-Key.\",\"schema\":{\"type\":\"string\",\"enum\":["
	"\"true\"]}}},"
	"\"responses\":{"
	"\"Error\":{\"description\":\"An error: NocoBase's message, a stable "
	"code and the exact reason.\",\"headers\":{\"X-Request-Id\":"
	REF("headers/XRequestId") "},\"content\":{\"application/json\":{"
	"\"schema\":" REF("schemas/flowcgi.Errors") "}}}},"
	"\"schemas\":{"
	"\"flowcgi.Errors\":{\"type\":\"object\",\"required\":[\"errors\"],"
	"\"properties\":{\"errors\":{\"type\":\"array\",\"items\":{\"type\":"
	"\"object\",\"required\":[\"message\",\"code\"],\"properties\":{"
	"\"message\":{\"type\":\"string\"},\"code\":{\"type\":\"string\","
	"\"pattern\":\"^[A-Z_]+$\"},\"reason\":{\"type\":\"string\"}}}},"
	"\"meta\":{\"type\":\"object\"}}},"
	"\"flowcgi.ListMeta\":{\"type\":\"object\",\"properties\":{\"count\":{"
	"\"type\":\"integer\"},\"page\":{\"type\":\"integer\"},\"pageSize\":{"
	"\"type\":\"integer\"},\"totalPage\":{\"type\":\"integer\"}}},"
	"\"flowcgi.Answer\":{\"type\":\"object\",\"properties\":{\"data\":{},"
	"\"meta\":{\"type\":\"object\"}}},"
	"\"flowcgi.TriggerAnswer\":{\"type\":\"object\",\"description\":\"{} or "
	"{messages} as NocoBase; meta.dryRun and meta.trace when asked.\","
	"\"properties\":{\"data\":{},\"messages\":{\"type\":\"array\"},"
	"\"meta\":{\"type\":\"object\",\"properties\":{\"dryRun\":{\"type\":"
	"\"boolean\"},\"trace\":{\"type\":\"array\",\"items\":{\"type\":"
	"\"object\"}}}}}},"
	"\"flowcgi.SignIn\":{\"type\":\"object\",\"required\":[\"account\","
	"\"password\"],\"properties\":{\"account\":{\"type\":\"string\","
	"\"description\":\"Email or username.\"},\"password\":{\"type\":"
	"\"string\"}}}}}";

struct oa {
	struct req *r;
	const struct schema *s;
	json_object *paths, *schemas;
	json_object *keys;    /* collection -> enabled custom-action keys;
			       * "" -> global ones; " webhook" -> webhooks */
	json_object *op_ids;  /* operationIds taken */
};

static json_object *parse(const char *text)
{
	json_object *o = json_tokener_parse(text);
	if (!o)
		abort(); /* a static text: a test catches a typo */
	return o;
}

static json_object *ref(const char *kind, const char *name)
{
	char buf[256];
	json_object *o = json_object_new_object();
	snprintf(buf, sizeof(buf), "#/components/%s/%s", kind, name);
	json_object_object_add(o, "$ref", json_object_new_string(buf));
	return o;
}

static json_object *typed(const char *type, bool nullable)
{
	json_object *o = json_object_new_object(), *t;
	if (nullable) {
		t = json_object_new_array();
		json_object_array_add(t, json_object_new_string(type));
		json_object_array_add(t, json_object_new_string("null"));
	} else {
		t = json_object_new_string(type);
	}
	json_object_object_add(o, "type", t);
	return o;
}

/* ---- schemas from fields ---- */

static bool listed(const struct oa *o, const char *coll)
{
	const struct coll *c = schema_coll(o->s, coll);
	return c && !c->internal;
}

static json_object *field_schema(const struct oa *o, const struct field *f)
{
	json_object *v;
	(void)o;
	switch (f->type) {
	case FT_INTEGER:
	case FT_BIGINT:
		return typed("integer", !f->primary);
	case FT_FLOAT:
	case FT_DOUBLE:
		return typed("number", true);
	case FT_BOOLEAN:
		return typed("boolean", true);
	case FT_DATE:
		v = typed("string", true);
		json_object_object_add(v, "format", json_object_new_string("date-time"));
		return v;
	case FT_DECIMAL:
		v = typed("string", true);
		json_object_object_add(v, "description",
				       json_object_new_string("a decimal number"));
		return v;
	case FT_JSON:
		return json_object_new_object();
	case FT_BELONGS_TO:
	case FT_HAS_ONE: {
		json_object *any = json_object_new_array();
		v = json_object_new_object();
		json_object_array_add(any, ref("schemas", f->target));
		json_object_array_add(any, typed("null", false));
		json_object_object_add(v, "anyOf", any);
		return v;
	}
	case FT_HAS_MANY:
	case FT_BELONGS_TO_MANY:
		v = typed("array", false);
		json_object_object_add(v, "items", ref("schemas", f->target));
		return v;
	default:
		return typed("string", !f->primary);
	}
}

/* A field a create or an update may set. */
static bool writable(const struct field *f)
{
	return !f->hidden && !f->automatic && !(f->primary && f->type != FT_STRING);
}

/* The record as answered, and the values a create or update takes. */
static void collection_schemas(struct oa *o, const struct coll *c)
{
	json_object *rec = typed("object", false), *val = typed("object", false);
	json_object *rp = json_object_new_object(), *vp = json_object_new_object();
	char name[96];

	for (int i = 0; i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		if (f->hidden ||
		    (ftype_is_assoc(f->type) && !listed(o, f->target)))
			continue;
		json_object_object_add(rp, f->name, field_schema(o, f));
		if (!writable(f))
			continue;
		if (ftype_is_assoc(f->type)) {
			json_object *any = json_object_new_object();
			json_object_object_add(any, "description",
					       json_object_new_string(
						       ftype_is_to_many(f->type)
							       ? "related records or their keys (an array)"
							       : "a related record or its key"));
			json_object_object_add(vp, f->name, any);
		} else {
			json_object_object_add(vp, f->name, field_schema(o, f));
		}
	}
	json_object_object_add(rec, "properties", rp);
	json_object_object_add(val, "properties", vp);
	json_object_object_add(val, "description",
			       json_object_new_string(
				       "Values by field name; unknown keys are "
				       "ignored, as NocoBase does."));
	json_object_object_add(o->schemas, c->name, rec);
	snprintf(name, sizeof(name), "%s.values", c->name);
	json_object_object_add(o->schemas, name, val);
}

/* ---- the workflows a trigger may name ---- */

static void add_key(json_object *keys, const char *bucket, const char *key)
{
	json_object *list = jsonx_get(keys, bucket);
	if (!list) {
		list = json_object_new_array();
		json_object_object_add(keys, bucket, list);
	}
	json_object_array_add(list, json_object_new_string(key));
}

static int load_keys(struct oa *o)
{
	struct app *a = o->r->app;
	const struct coll *c = schema_coll(o->s, "workflows");
	static const char *const fields[] = {"key", "type", "config"};
	static const struct store_sort by_id = {"id", false};
	json_object *f = json_object_new_object(), *rows = NULL;
	struct store_find q = {.filter = f, .fields = fields, .nfields = 3,
			       .sort = &by_id, .nsort = 1};
	int rc;

	o->keys = json_object_new_object();
	json_object_object_add(f, "enabled", json_object_new_boolean(1));
	rc = c ? store_find(a->st, o->s, c, &q, &rows) : 0;
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++) {
		json_object *w = json_object_array_get_idx(rows, i);
		const char *key = jsonx_get_str(w, "key"), *type = jsonx_get_str(w, "type");
		json_object *cfg = jsonx_get(w, "config");
		const char *coll = jsonx_get_str(cfg, "collection");
		int64_t kind = 1;
		if (!key || !type)
			continue;
		if (!strcmp(type, "webhook")) {
			add_key(o->keys, " webhook", key);
			continue;
		}
		if (strcmp(type, "custom-action"))
			continue;
		jsonx_get_int(cfg, "type", &kind);
		if (coll && !strncmp(coll, "main:", 5))
			coll += 5;
		add_key(o->keys, kind == 0 ? "" : coll ? coll : "", key);
	}
	json_object_put(f);
	json_object_put(rows);
	return rc;
}

/* triggerWorkflows: keys (comma-separated), each optionally key!path. */
static json_object *trigger_param(struct oa *o, const char *bucket)
{
	json_object *p = parse(
		"{\"name\":\"triggerWorkflows\",\"in\":\"query\",\"required\":"
		"true,\"style\":\"form\",\"explode\":false,\"description\":"
		"\"Workflow keys, comma-separated, run in this order; key!path "
		"triggers through a to-one association.\",\"schema\":{\"type\":"
		"\"array\",\"minItems\":1,\"items\":{\"type\":\"string\"}}}");
	json_object *keys = jsonx_get(o->keys, bucket);
	if (keys && json_object_array_length(keys)) {
		json_object *items = jsonx_get(jsonx_get(p, "schema"), "items");
		json_object *any = json_object_new_array(), *e = json_object_new_object();
		json_object_object_add(e, "enum", jsonx_copy(keys));
		json_object_array_add(any, e);
		e = json_object_new_object();
		json_object_object_add(e, "pattern",
				       json_object_new_string("^[A-Za-z0-9_-]+![A-Za-z0-9_.]+$"));
		json_object_array_add(any, e);
		json_object_object_add(items, "anyOf", any);
	}
	return p;
}

/* ---- operations ---- */

/* Where an operation of a route goes: its path's parts. */
struct place {
	const struct coll *c;       /* the collection acted on, or NULL */
	const char *bucket;         /* which trigger keys apply */
	char path[512];
	bool templated_coll;        /* /{collection}... */
	bool parent;                /* /<p>/{id|name}/<assoc>... */
	bool roles;                 /* the parent key is {name} */
	bool templated_assoc;       /* .../{association}:... */
	bool index;                 /* .../{filterByTk} */
};

static bool has_index_form(const struct api_route *rt)
{
	static const char *const actions[] = {"get", "update", "destroy",
					      "trigger", "retry", NULL};
	if (rt->resource && !strcmp(rt->resource, "webhooks"))
		return false; /* its index is required: one path */
	for (int i = 0; actions[i]; i++)
		if (!strcmp(rt->action, actions[i]))
			return true;
	return false;
}

static bool is_get(const char *action)
{
	return !strcmp(action, "list") || !strcmp(action, "get") ||
	       !strcmp(action, "check");
}

static void add_param_ref(json_object *params, const char *name)
{
	json_object_array_add(params, ref("parameters", name));
}

static json_object *parameters(struct oa *o, const struct api_route *rt,
			       const struct place *pl)
{
	json_object *ps = json_object_new_array();
	const char *act = rt->action;
	bool coll_route = !rt->resource;

	if (pl->templated_coll)
		add_param_ref(ps, "collection");
	if (pl->parent)
		add_param_ref(ps, pl->roles ? "roleName" : "parentId");
	if (pl->templated_assoc)
		add_param_ref(ps, "association");
	if (pl->index)
		add_param_ref(ps, "filterByTkPath");
	else if (has_index_form(rt) || !strcmp(act, "execute") ||
		 !strcmp(act, "revision"))
		add_param_ref(ps, "filterByTk");
	if (!strcmp(act, "list")) {
		static const char *const l[] = {"filter", "sort", "fields", "appends",
						"except", "page", "pageSize",
						"paginate", NULL};
		for (int i = 0; l[i]; i++)
			add_param_ref(ps, l[i]);
	} else if (!strcmp(act, "get")) {
		add_param_ref(ps, "filter");
		add_param_ref(ps, "fields");
		add_param_ref(ps, "appends");
		add_param_ref(ps, "except");
	} else if (!strcmp(act, "update") || !strcmp(act, "destroy")) {
		add_param_ref(ps, "filter");
	}
	if (!strcmp(act, "trigger") &&
	    (coll_route || !strcmp(rt->resource, "workflows"))) {
		json_object_array_add(ps, trigger_param(o, pl->bucket));
		add_param_ref(ps, "dryRun");
		add_param_ref(ps, "trace");
	}
	if (!strcmp(act, "retry"))
		json_object_array_add(ps, parse(
			"{\"name\":\"version\",\"in\":\"query\",\"description\":"
			"\"current: run the key's current version instead of the "
			"one that ran.\",\"schema\":{\"type\":\"string\",\"enum\":"
			"[\"current\"]}}"));
	if (rt->resource && !strcmp(rt->resource, "webhooks")) {
		json_object *keys = jsonx_get(o->keys, " webhook");
		json_object *p = parse(
			"{\"name\":\"workflowKey\",\"in\":\"path\",\"required\":true,"
			"\"description\":\"An enabled webhook workflow's key.\","
			"\"schema\":{\"type\":\"string\"}}");
		if (keys && json_object_array_length(keys))
			json_object_object_add(jsonx_get(p, "schema"), "enum",
					       jsonx_copy(keys));
		json_object_array_add(ps, p);
		json_object_array_add(ps, parse(
			"{\"name\":\"webhook-id\",\"in\":\"header\",\"description\":"
			"\"Standard Webhooks: the message id (the idempotency key).\","
			"\"schema\":{\"type\":\"string\"}}"));
		json_object_array_add(ps, parse(
			"{\"name\":\"webhook-timestamp\",\"in\":\"header\","
			"\"description\":\"Standard Webhooks: seconds since the "
			"epoch, within the workflow's tolerance.\",\"schema\":{"
			"\"type\":\"string\"}}"));
		json_object_array_add(ps, parse(
			"{\"name\":\"webhook-signature\",\"in\":\"header\","
			"\"description\":\"Standard Webhooks: v1,<base64 "
			"HMAC-SHA256 of id.timestamp.body>, space-separated.\","
			"\"schema\":{\"type\":\"string\"}}"));
		json_object_array_add(ps, parse(
			"{\"name\":\"X-Hub-Signature-256\",\"in\":\"header\","
			"\"description\":\"GitHub: sha256=<hex HMAC-SHA256 of the "
			"body>.\",\"schema\":{\"type\":\"string\"}}"));
		json_object_array_add(ps, parse(
			"{\"name\":\"X-GitHub-Delivery\",\"in\":\"header\","
			"\"description\":\"GitHub: the delivery id (the "
			"idempotency key).\",\"schema\":{\"type\":\"string\"}}"));
	}
	if (rt->access != API_PUBLIC)
		add_param_ref(ps, "XRole");
	if (coll_route)
		add_param_ref(ps, "XDataSource");
	if (rt->flags & API_IDEMPOTENT)
		add_param_ref(ps, "IdempotencyKey");
	add_param_ref(ps, "XRequestId");
	return ps;
}

static json_object *json_content(json_object *schema)
{
	json_object *c = json_object_new_object(), *m = json_object_new_object();
	json_object_object_add(m, "schema", schema);
	json_object_object_add(c, "application/json", m);
	return c;
}

/* {"data": data, "meta": meta} */
static json_object *envelope(json_object *data, json_object *meta)
{
	json_object *o = typed("object", false), *p = json_object_new_object();
	json_object_object_add(p, "data", data);
	if (meta)
		json_object_object_add(p, "meta", meta);
	json_object_object_add(o, "properties", p);
	return o;
}

static bool creates_executions(const struct api_route *rt)
{
	return !strcmp(rt->action, "trigger") || !strcmp(rt->action, "execute") ||
	       !strcmp(rt->action, "retry");
}

/* The success answer's schema. */
static json_object *answer_schema(const struct api_route *rt,
				  const struct place *pl)
{
	const char *act = rt->action;
	json_object *v;
	if (creates_executions(rt) && (!rt->resource ||
				       strcmp(rt->resource, "executions")))
		return ref("schemas", "flowcgi.TriggerAnswer");
	if (!pl->c || pl->templated_coll || pl->templated_assoc)
		return ref("schemas", "flowcgi.Answer");
	if (!strcmp(act, "list")) {
		v = typed("array", false);
		json_object_object_add(v, "items", ref("schemas", pl->c->name));
		return envelope(v, ref("schemas", "flowcgi.ListMeta"));
	}
	if (!strcmp(act, "get")) {
		json_object *any = json_object_new_array();
		v = json_object_new_object();
		json_object_array_add(any, ref("schemas", pl->c->name));
		json_object_array_add(any, typed("null", false));
		json_object_object_add(v, "anyOf", any);
		return envelope(v, NULL);
	}
	if (!strcmp(act, "create"))
		return envelope(ref("schemas", pl->c->name), NULL);
	if (!strcmp(act, "update")) {
		v = typed("array", false);
		json_object_object_add(v, "items", ref("schemas", pl->c->name));
		return envelope(v, NULL);
	}
	return ref("schemas", "flowcgi.Answer");
}

static json_object *responses(const struct api_route *rt, const struct place *pl)
{
	json_object *rs = json_object_new_object(), *ok = json_object_new_object();
	json_object *h = json_object_new_object();
	bool metrics = rt->resource && !strcmp(rt->resource, "metrics");

	json_object_object_add(h, "X-Request-Id", ref("headers", "XRequestId"));
	if (creates_executions(rt))
		json_object_object_add(h, "X-Execution-Id", ref("headers", "XExecutionId"));
	if (rt->flags & API_IDEMPOTENT)
		json_object_object_add(h, "Idempotent-Replayed",
				       ref("headers", "IdempotentReplayed"));
	json_object_object_add(ok, "description",
			       json_object_new_string("Success"));
	json_object_object_add(ok, "headers", h);
	if (metrics) {
		json_object *c = json_object_new_object(), *m = json_object_new_object();
		json_object_object_add(m, "schema", typed("string", false));
		json_object_object_add(c, "text/plain; version=0.0.4", m);
		json_object_object_add(ok, "content", c);
	} else {
		json_object_object_add(ok, "content",
				       json_content(answer_schema(rt, pl)));
	}
	json_object_object_add(rs, "200", ok);
	if (rt->resource && !strcmp(rt->resource, "webhooks")) {
		json_object *q = json_object_new_object();
		json_object_object_add(q, "description",
				       json_object_new_string(
					       "Queued (an asynchronous workflow)"));
		json_object_object_add(q, "content",
				       json_content(ref("schemas", "flowcgi.Answer")));
		json_object_object_add(rs, "202", q);
	}
	json_object_object_add(rs, "default", ref("responses", "Error"));
	return rs;
}

static json_object *request_body(const struct api_route *rt,
				 const struct place *pl)
{
	const char *act = rt->action;
	json_object *b = json_object_new_object(), *schema;
	char name[96];

	if (rt->resource && !strcmp(rt->resource, "auth") &&
	    !strcmp(act, "signIn"))
		schema = ref("schemas", "flowcgi.SignIn");
	else if (pl->c && !pl->templated_coll && !pl->templated_assoc &&
		 (!strcmp(act, "create") || !strcmp(act, "update") ||
		  (!strcmp(act, "trigger") && !rt->resource))) {
		snprintf(name, sizeof(name), "%s.values", pl->c->name);
		schema = ref("schemas", name);
	} else {
		schema = typed("object", false);
	}
	json_object_object_add(b, "content", json_content(schema));
	if (rt->flags & API_RAW_BODY) /* a webhook: any bytes, signed */
		json_object_object_add(json_object_object_get(b, "content"), "*/*",
				       json_object_new_object());
	return b;
}

static void op_id(struct oa *o, const char *method, const char *path, char *out,
		  size_t n)
{
	size_t k = 0;
	k = (size_t)snprintf(out, n, "%s", method);
	for (const char *p = path; *p && k + 1 < n; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9'))
			out[k++] = *p;
		else if (k && out[k - 1] != '_')
			out[k++] = '_';
	while (k && out[k - 1] == '_')
		k--;
	out[k] = 0;
	for (int i = 2; jsonx_has(o->op_ids, out) && i < 100; i++)
		snprintf(out + k, n - k, "_%d", i);
	json_object_object_add(o->op_ids, out, NULL);
}

static void add_operation(struct oa *o, const struct api_route *rt,
			  const struct place *pl)
{
	const char *method = is_get(rt->action) ? "get" : "post";
	json_object *item = jsonx_get(o->paths, pl->path), *op, *tags;
	struct buf name = {0};
	char id[600];

	if (!item) {
		item = json_object_new_object();
		json_object_object_add(o->paths, pl->path, item);
	}
	if (jsonx_has(item, method))
		return; /* an earlier row answers it (the table's order) */
	op = json_object_new_object();
	api_route_resource(rt, &name);
	buf_printf(&name, ":%s", rt->action);
	json_object_object_add(op, "summary", json_object_new_string(rt->summary));
	op_id(o, method, pl->path, id, sizeof(id));
	json_object_object_add(op, "operationId", json_object_new_string(id));
	tags = json_object_new_array();
	json_object_array_add(tags, json_object_new_string(
		rt->resource ? rt->resource : pl->c && !pl->templated_coll
			? pl->c->name : "records"));
	json_object_object_add(op, "tags", tags);
	json_object_object_add(op, "x-flowcgi-route",
			       json_object_new_string(buf_str(&name)));
	json_object_object_add(op, "parameters", parameters(o, rt, pl));
	if (!strcmp(method, "post"))
		json_object_object_add(op, "requestBody", request_body(rt, pl));
	json_object_object_add(op, "responses", responses(rt, pl));
	if (rt->access == API_PUBLIC &&
	    !(rt->resource && !strcmp(rt->resource, "metrics")))
		json_object_object_add(op, "security", json_object_new_array());
	if (rt->resource && !strcmp(rt->resource, "metrics"))
		json_object_object_add(op, "description", json_object_new_string(
			"For root or admin, or with FLOWCGI_METRICS_TOKEN as the "
			"bearer token. Prometheus text format."));
	json_object_object_add(item, method, op);
	buf_free(&name);
}

/* The path of a place, then its operation; once more with /{filterByTk}
 * where the action takes a key in the path. */
static void emit(struct oa *o, const struct api_route *rt, struct place *pl,
		 const char *head)
{
	static const struct {
		const char *resource, *path;
	} documents[] = {{"metrics", "/metrics"}, {"openapi", "/openapi.json"}};
	for (size_t i = 0; i < sizeof(documents) / sizeof(documents[0]); i++)
		if (rt->resource && !strcmp(rt->resource, documents[i].resource)) {
			snprintf(pl->path, sizeof(pl->path), "%s", documents[i].path);
			add_operation(o, rt, pl);
			return;
		}
	if (rt->resource && !strcmp(rt->resource, "webhooks")) {
		snprintf(pl->path, sizeof(pl->path), "%s:%s/{workflowKey}", head,
			 rt->action);
		add_operation(o, rt, pl);
		return;
	}
	snprintf(pl->path, sizeof(pl->path), "%s:%s", head, rt->action);
	pl->index = false;
	add_operation(o, rt, pl);
	if (has_index_form(rt)) {
		snprintf(pl->path, sizeof(pl->path), "%s:%s/{filterByTk}", head,
			 rt->action);
		pl->index = true;
		add_operation(o, rt, pl);
	}
}

/* Every association of parent (to a listed collection) as a place. */
static int emit_assocs(struct oa *o, const struct api_route *rt,
		       const struct coll *parent, const char *parent_path,
		       bool roles)
{
	char head[512];
	int n = 0;
	for (int i = 0; parent && i < parent->nfields; i++) {
		const struct field *f = &parent->fields[i];
		if (!ftype_is_assoc(f->type) || !listed(o, f->target))
			continue;
		struct place pl = {.c = schema_coll(o->s, f->target),
				   .bucket = f->target, .parent = true,
				   .roles = roles};
		snprintf(head, sizeof(head), "%s/%s/%s", parent_path,
			 roles ? "{name}" : "{id}", f->name);
		emit(o, rt, &pl, head);
		n++;
	}
	return n;
}

static void emit_route(struct oa *o, const struct api_route *rt)
{
	char head[512];
	int n = 0;

	if (!rt->resource) {
		for (int i = 0; i < o->s->ncolls; i++) {
			const struct coll *c = o->s->colls[i];
			if (c->system || c->internal)
				continue;
			snprintf(head, sizeof(head), "/%s", c->name);
			if (rt->assoc) {
				n += emit_assocs(o, rt, c, head, false);
			} else {
				struct place pl = {.c = c, .bucket = c->name};
				emit(o, rt, &pl, head);
				n++;
			}
		}
		if (!n) { /* no collection yet: the templated forms */
			struct place pl = {.templated_coll = true, .bucket = "",
					   .parent = rt->assoc != NULL,
					   .templated_assoc = rt->assoc != NULL};
			emit(o, rt, &pl, rt->assoc ? "/{collection}/{id}/{association}"
						   : "/{collection}");
		}
		return;
	}
	const struct coll *c = schema_coll(o->s, rt->resource);
	bool roles = !strcmp(rt->resource, "roles");
	snprintf(head, sizeof(head), "/%s", rt->resource);
	if (rt->assoc && !strcmp(rt->assoc, "*")) {
		if (!emit_assocs(o, rt, c, head, roles)) {
			struct place pl = {.parent = true, .roles = roles,
					   .templated_assoc = true, .bucket = ""};
			snprintf(head, sizeof(head), "/%s/%s/{association}",
				 rt->resource, roles ? "{name}" : "{id}");
			emit(o, rt, &pl, head);
		}
		return;
	}
	struct place pl = {.c = c && !c->internal ? c : NULL, .bucket = "",
			   .parent = rt->assoc != NULL, .roles = roles};
	if (rt->assoc) {
		const struct field *f = c ? coll_field(c, rt->assoc) : NULL;
		pl.c = f && ftype_is_assoc(f->type) && listed(o, f->target)
			       ? schema_coll(o->s, f->target)
			       : NULL;
		snprintf(head, sizeof(head), "/%s/%s/%s", rt->resource,
			 roles ? "{name}" : "{id}", rt->assoc);
	}
	emit(o, rt, &pl, head);
}

/* The base URL the client reached this document at: its URI without
 * /openapi.json. */
static json_object *servers(struct req *r)
{
	static const char *const tails[] = {"/openapi.json", "/openapi:get",
					    "/openapi"};
	const char *u = r->uri && *r->uri ? r->uri : "/api/openapi.json";
	size_t n = strcspn(u, "?");
	json_object *list = json_object_new_array(), *s = json_object_new_object();
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t t = strlen(tails[i]);
		if (n >= t && !strncmp(u + n - t, tails[i], t)) {
			n -= t;
			break;
		}
	}
	json_object_object_add(s, "url", json_object_new_string_len(u, (int)n));
	json_object_array_add(list, s);
	return list;
}

API_HANDLER(api_openapi_get)
{
	struct oa o = {.r = r, .s = r->app->schema};
	json_object *doc, *info, *comp, *sec, *alt;
	size_t n;
	const struct api_route *rt = api_routes(&n);
	int rc;

	if ((rc = load_keys(&o))) {
		json_object_put(o.keys);
		return req_fail(r, rc, "%s", store_errmsg(r->app->st));
	}
	doc = json_object_new_object();
	info = json_object_new_object();
	comp = parse(components_text);
	o.paths = json_object_new_object();
	o.schemas = json_object_object_get(comp, "schemas");
	o.op_ids = json_object_new_object();
	json_object_object_add(info, "title", json_object_new_string("flowcgi"));
	json_object_object_add(info, "version", json_object_new_string(FLOWCGI_VERSION));
	json_object_object_add(info, "description", json_object_new_string(
		"NocoBase's resource API and its trigger action, as this server "
		"answers it: made from the route table and the live schema. "
		"Paths in the colon form take any method; errors are "
		"{errors:[{message, code, reason}]}."));
	json_object_object_add(doc, "openapi", json_object_new_string("3.1.0"));
	json_object_object_add(doc, "info", info);
	json_object_object_add(doc, "servers", servers(r));
	sec = json_object_new_array();
	alt = json_object_new_object();
	json_object_object_add(alt, "bearer", json_object_new_array());
	json_object_array_add(sec, alt);
	alt = json_object_new_object();
	json_object_object_add(alt, "tokenQuery", json_object_new_array());
	json_object_array_add(sec, alt);
	json_object_object_add(doc, "security", sec);
	for (int i = 0; i < o.s->ncolls; i++)
		if (!o.s->colls[i]->internal)
			collection_schemas(&o, o.s->colls[i]);
	for (size_t i = 0; i < n; i++)
		emit_route(&o, &rt[i]);
	json_object_object_add(doc, "paths", o.paths);
	json_object_object_add(doc, "components", comp);
	r->text_body = arena_strdup(r->arena, jsonx_str(doc));
	r->text_type = "application/json; charset=utf-8";
	json_object_put(doc);
	json_object_put(o.keys);
	json_object_put(o.op_ids);
	return 0;
}
