/*
 * fuzz_query: the query string, the whole way a request's query takes.
 * The input is the QUERY_STRING (cut at a NUL, as a CGI parameter is).
 *
 * 1. qs_parse, then the parameter readers of the API as the handlers call
 *    them: api_filter_param (filter as JSON text or qs brackets, with the
 *    {{$user.id}} variables), api_list_param (appends, sort, fields,
 *    except), api_tk (filterByTk in its forms), page/pageSize, and the
 *    triggerWorkflows text.
 * 2. Whole requests through serve_request (transport params in, CGI
 *    response out) against the scratch database of fuzz_db.h: GET
 *    posts:list without a token (the query is parsed before the token is
 *    looked at), as root, posts/1/comments:list as a member (whose
 *    view:own scope is merged into the filter), and POST posts:trigger as
 *    root (triggerWorkflows; no workflow exists, so nothing is written).
 *    triggerWorkflows' own parser (parse_spec in api_trigger.c) is static:
 *    this is the lowest way in.
 *
 * Checks: every answer is a JSON envelope; none is a 5xx, except the
 * trigger's "nothing matched" 500 (NO_WORKFLOW_MATCHED), which NocoBase
 * answers too.
 */
#include "fuzz.h"
#include "fuzz_db.h"

#include "api.h"
#include "api_int.h" /* the parameter readers, private to api* */
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "qs.h"
#include "req.h"
#include "serve.h"

static struct arena *arena;
static struct buf out;
static char *root_auth, *member_auth;

static void cleanup(void)
{
	arena_free(arena);
	buf_free(&out);
	free(root_auth);
	free(member_auth);
}

static char *bearer(const char *user_role, int64_t uid)
{
	char *tok = auth_issue_api_key(&fuzz_app, uid, user_role, 0);
	char *h = malloc(strlen(tok) + 8);
	if (!tok || !h)
		abort();
	sprintf(h, "Bearer %s", tok);
	free(tok);
	return h;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_db_setup();
	arena = arena_new();
	root_auth = bearer("root", 1);
	member_auth = bearer("member", 2);
	atexit(cleanup);
	return 0;
}

/* ---- 1: the readers ---- */

static void readers(const char *qs)
{
	struct req r;
	char err[256] = "";
	json_object *f = NULL, *l, *tk;
	int64_t n;

	req_begin(&r, &fuzz_app, arena);
	r.method = "GET";
	r.query = qs_parse(qs, strlen(qs), err, sizeof(err));
	if (!r.query) {
		FUZZ_CHECK(*err, "qs_parse failed without a message");
		req_end(&r);
		return;
	}
	FUZZ_CHECK(json_object_is_type(r.query, json_type_object),
		   "qs_parse gave a %s",
		   json_type_to_name(json_object_get_type(r.query)));
	if (api_filter_param(&r, &f) == 0)
		FUZZ_CHECK(!f || json_object_is_type(f, json_type_object),
			   "filter is not an object");
	else
		FUZZ_CHECK(r.err && !f, "filter failed without an error");
	json_object_put(f);
	static const char *const lists[] = {"appends", "sort", "fields",
					    "except"};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		l = api_list_param(&r, lists[i]);
		for (size_t j = 0; l && j < json_object_array_length(l); j++)
			FUZZ_CHECK(json_object_is_type(
					   json_object_array_get_idx(l, j),
					   json_type_string),
				   "%s item is not a string", lists[i]);
		json_object_put(l);
	}
	tk = api_tk(&r);
	json_object_put(tk);
	jsonx_get_int(r.query, "page", &n);
	jsonx_get_int(r.query, "pageSize", &n);
	(void)req_param_str(&r, "triggerWorkflows");
	(void)jsonx_str(r.query);
	req_end(&r);
	arena_reset(arena);
}

/* ---- 2: whole requests ---- */

struct params {
	const char *method, *path, *query, *auth;
};

static const char *param(void *ctx, const char *name)
{
	const struct params *p = ctx;
	if (!strcmp(name, "REQUEST_METHOD"))
		return p->method;
	if (!strcmp(name, "PATH_INFO"))
		return p->path;
	if (!strcmp(name, "QUERY_STRING"))
		return p->query;
	if (!strcmp(name, "HTTP_AUTHORIZATION"))
		return p->auth;
	return NULL;
}

static long no_body(void *ctx, char *b, size_t n)
{
	(void)ctx;
	(void)b;
	(void)n;
	return 0;
}

static void request(const char *method, const char *path, const char *qs,
		    const char *auth, bool trigger)
{
	struct params p = {method, path, qs, auth};
	struct serve_io io = {param, no_body, &p, NULL};
	const char *text, *body;
	json_object *o = NULL, *errs;
	char err[256];
	int status = 0;

	buf_reset(&out);
	serve_request(&fuzz_app, arena, &io, &out);
	arena_reset(arena);
	text = buf_str(&out);
	FUZZ_CHECK(sscanf(text, "Status: %d", &status) == 1, "no status: %.200s",
		   text);
	body = strstr(text, "\r\n\r\n");
	FUZZ_CHECK(body, "no end of headers");
	body += 4;
	FUZZ_CHECK(!jsonx_parse(body, strlen(body), JSONX_MAX_DEPTH, &o, err,
				sizeof(err)),
		   "the answer is not JSON (%s): %.300s", err, body);
	if (status >= 500) {
		const char *code = NULL;
		errs = jsonx_get(o, "errors");
		if (json_object_is_type(errs, json_type_array))
			code = jsonx_get_str(json_object_array_get_idx(errs, 0),
					     "code");
		FUZZ_CHECK(trigger && code &&
				   !strcmp(code, "NO_WORKFLOW_MATCHED"),
			   "%s %s?%.200s answered %d: %.500s", method, path, qs,
			   status, body);
	}
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *qs = fuzz_cstr(data, size);

	readers(qs);
	request("GET", "/posts:list", qs, NULL, false);
	request("GET", "/posts:list", qs, root_auth, false);
	request("GET", "/posts/1/comments:list", qs, member_auth, false);
	request("POST", "/posts:trigger", qs, root_auth, true);
	free(qs);
	return 0;
}
