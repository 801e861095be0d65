/* The route table (api.c): how requests find their row, and what every
 * row must hold. */
#include "unit.h"

#include "api.h"
#include "arena.h"
#include "err.h"
#include "req.h"

static struct req *routed(struct arena *a, const char *method, const char *path)
{
	struct req *r = arena_alloc(a, sizeof(*r));
	req_begin(r, NULL, a);
	r->method = method;
	r->path = path;
	req_route(r);
	return r;
}

/* The handler a request reaches, or NULL; *err the routing error. */
static const char *handler(struct arena *a, const char *method,
			   const char *path, int *err)
{
	struct req *r = routed(a, method, path);
	const struct api_route *rt = NULL;
	if (!r->err)
		api_route_find(r, &rt);
	*err = r->err;
	return rt ? rt->fn_name : NULL;
}

static void test_colon_form(void **state)
{
	struct arena *a = arena_new();
	int err;
	(void)state;
	assert_string_equal(handler(a, "GET", "/posts:list", &err),
			    "api_records_list");
	/* any method in the colon form */
	assert_string_equal(handler(a, "DELETE", "/posts:get/1", &err),
			    "api_records_get");
	assert_string_equal(handler(a, "POST", "/posts:trigger/1", &err),
			    "api_trigger_collection");
	assert_string_equal(handler(a, "POST", "/posts/1/comments:trigger", &err),
			    "api_trigger_collection");
	assert_string_equal(handler(a, "POST", "/workflows:trigger", &err),
			    "api_trigger_global");
	assert_string_equal(handler(a, "POST", "/workflows/3/nodes:create", &err),
			    "api_nodes_create");
	/* a system resource's specific association before its wildcard */
	assert_string_equal(handler(a, "GET", "/workflows/3/nodes:list", &err),
			    "api_records_list");
	assert_string_equal(handler(a, "POST", "/roles/member/users:add", &err),
			    "api_roles_add_users");
	assert_string_equal(handler(a, "POST", "/auth:signIn", &err),
			    "api_auth_sign_in");
	/* no such action: no row (404 once the caller is known) */
	assert_null(handler(a, "GET", "/posts:frobnicate", &err));
	assert_int_equal(err, 0);
	assert_null(handler(a, "GET", "/auth:list", &err));
	assert_null(handler(a, "GET", "/apiKeys:update", &err));
	/* a system resource's rows never fall back to collection rows */
	assert_null(handler(a, "POST", "/users:trigger/1", &err));
	arena_free(a);
}

static void test_rest_form(void **state)
{
	struct arena *a = arena_new();
	int err;
	(void)state;
	assert_string_equal(handler(a, "GET", "/posts", &err), "api_records_list");
	assert_string_equal(handler(a, "GET", "/posts/3", &err), "api_records_get");
	assert_string_equal(handler(a, "POST", "/posts", &err),
			    "api_records_create");
	assert_string_equal(handler(a, "PUT", "/posts/3", &err),
			    "api_records_update");
	assert_string_equal(handler(a, "PATCH", "/posts/3", &err),
			    "api_records_update");
	assert_string_equal(handler(a, "DELETE", "/posts/3", &err),
			    "api_records_destroy");
	assert_string_equal(handler(a, "DELETE", "/posts", &err),
			    "api_records_destroy");
	assert_string_equal(handler(a, "POST", "/posts/1/tags", &err),
			    "api_records_create");
	assert_string_equal(handler(a, "GET", "/executions/1", &err),
			    "api_executions_get");
	/* a method with no action on the path: 405 */
	assert_null(handler(a, "PUT", "/posts", &err));
	assert_int_equal(err, APP_EMETHOD);
	assert_null(handler(a, "POST", "/posts/3", &err));
	assert_int_equal(err, APP_EMETHOD);
	assert_null(handler(a, "HEAD", "/posts", &err));
	assert_int_equal(err, APP_EMETHOD);
	/* a method whose action the resource lacks: 405 too */
	assert_null(handler(a, "PUT", "/jobs/1", &err));
	assert_int_equal(err, APP_EMETHOD);
	arena_free(a);
}

/* Every row: a handler, one row per (resource, association, action),
 * an ACL action exactly on the collection routes. */
static void test_table(void **state)
{
	size_t n;
	const struct api_route *rt = api_routes(&n);
	(void)state;
	assert_true(n > 50);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(rt[i].fn);
		assert_non_null(rt[i].fn_name);
		assert_non_null(rt[i].summary);
		assert_int_equal(rt[i].access == API_ACL, rt[i].acl != NULL);
		assert_int_equal(rt[i].access == API_ACL, rt[i].resource == NULL);
		for (size_t j = 0; j < i; j++) {
			bool same = !strcmp(rt[i].action, rt[j].action) &&
				    (rt[i].resource == rt[j].resource ||
				     (rt[i].resource && rt[j].resource &&
				      !strcmp(rt[i].resource, rt[j].resource))) &&
				    (rt[i].assoc == rt[j].assoc ||
				     (rt[i].assoc && rt[j].assoc &&
				      !strcmp(rt[i].assoc, rt[j].assoc)));
			assert_false(same);
		}
	}
}

static void test_lines(void **state)
{
	size_t n;
	const struct api_route *rt = api_routes(&n);
	struct buf b = {0};
	(void)state;
	api_route_line(&rt[0], &b);
	assert_string_equal(buf_str(&b), "<collection>\tlist\tview\tacl\tread\t"
					 "api_records_list");
	for (size_t i = 0; i < n; i++) {
		buf_reset(&b);
		api_route_line(&rt[i], &b);
		int tabs = 0;
		for (const char *p = buf_str(&b); *p; p++)
			tabs += *p == '\t';
		assert_int_equal(tabs, 5);
		if (!strcmp(rt[i].action, "trigger") && !rt[i].resource)
			assert_non_null(strstr(buf_str(&b), "trigger/triggerNew"));
	}
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colon_form),
		cmocka_unit_test(test_rest_form),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
