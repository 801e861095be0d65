/* auth: tokens to principals and roles (reference §8.3-8.4), against a
 * temporary database.  Errors come back as codes with reasons, never as
 * HTTP. */
#include "unit.h"

#include "auth.h"
#include "err.h"
#include "jwt.h"
#include "util.h"

#define KEY "unit-test-key"
#define DAY_MS 86400000LL

static struct unit_db db;
static struct app *const app = &db.app;
static int64_t alice, bob;

/* The next request: caches follow the security counter. */
static void next_request(void)
{
	assert_int_equal(app_refresh(app), 0);
}

static int setup(void **state)
{
	unit_db_open(&db, "auth");
	free(app->app_key);
	app->app_key = strdup(KEY);
	app->app_key_len = strlen(KEY);
	assert_int_equal(app_refresh(app), 0);
	assert_int_equal(store_begin(app->st, true), 0);
	unit_add(app, "roles", "{\"name\":\"member\"}");
	unit_add(app, "roles", "{\"name\":\"admin\"}");
	alice = unit_add(app, "users",
			 "{\"username\":\"alice\",\"password\":\"pw\","
			 "\"roles\":[\"member\",\"admin\"]}");
	bob = unit_add(app, "users",
		       "{\"username\":\"bob\",\"password\":\"pw\"}");
	/* alice's default role is member */
	json_object *f = unit_json("{\"roleName\":\"member\"}"), *v,
		    *out = NULL;
	struct rctx x = {.app = app};
	v = unit_json("{\"default\":true}");
	assert_int_equal(rec_update(&x, schema_coll(app->schema, "rolesUsers"),
				    f, v, &out),
			 0);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	next_request();
	return 0;
}

static int teardown(void **state)
{
	unit_db_close(&db);
	jsonx_cleanup();
	return 0;
}

/* identify + role as the pipeline runs them; the principal is freed. */
static int who(const char *token, const char *want, struct err_why *e,
	       struct principal *out)
{
	struct principal p = {0};
	int rc;
	memset(e, 0, sizeof(*e));
	rc = auth_identify(app, token, NULL, true, &p, e);
	if (!rc)
		rc = auth_role(app, want, &p, e);
	if (out)
		*out = p;
	else
		auth_principal_free(&p);
	return rc;
}

/* A token with claims (JSON text), signed with key. */
static char *signed_with(const char *claims, const char *key)
{
	json_object *c = unit_json(claims);
	char *t = jwt_sign(c, key, strlen(key));
	json_object_put(c);
	return t;
}

static char *issue(int64_t user)
{
	char *tok = NULL;
	assert_int_equal(auth_issue_session(app, user, &tok), 0);
	assert_non_null(tok);
	return tok;
}

/* A session token of alice's made from a real one, with its times set
 * relative to now (ms). */
static char *session_at(int64_t iat_ago, int64_t exp_ago)
{
	char *tok = issue(alice), claims[512];
	json_object *c = NULL;
	int64_t now = util_now_ms();
	assert_int_equal(jwt_verify(tok, KEY, strlen(KEY), &c), 0);
	snprintf(claims, sizeof(claims),
		 "{\"userId\":%lld,\"temp\":true,\"signInTime\":%lld,"
		 "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
		 (long long)alice, (long long)(now - iat_ago),
		 (long long)((now - iat_ago) / 1000),
		 (long long)((now - exp_ago) / 1000), jsonx_get_str(c, "jti"));
	json_object_put(c);
	free(tok);
	return signed_with(claims, KEY);
}

static void test_valid_session(void **state)
{
	struct principal p;
	struct err_why e;
	char *tok = issue(alice);
	assert_int_equal(who(tok, NULL, &e, &p), 0);
	assert_int_equal(p.user_id, alice);
	assert_string_equal(p.role, "member"); /* the default role */
	assert_false(p.root);
	assert_null(p.renewed);
	assert_string_equal(jsonx_get_str(p.user, "username"), "alice");
	assert_false(jsonx_has(p.user, "password"));
	auth_principal_free(&p);
	/* remembered: the same answer without the database */
	assert_int_equal(who(tok, "admin", &e, &p), 0);
	assert_string_equal(p.role, "admin");
	auth_principal_free(&p);
	free(tok);
}

static void test_missing_and_forged(void **state)
{
	struct principal p = {0};
	struct err_why e = {0};
	char *tok;

	assert_int_equal(auth_identify(app, NULL, NULL, true, &p, &e),
			 APP_EEMPTY_TOKEN);
	assert_int_equal(auth_identify(app, NULL, NULL, false, &p, &e), 0);
	assert_int_equal(p.user_id, 0);
	tok = issue(alice);
	free(app->app_key);
	app->app_key = strdup("another-key");
	app->app_key_len = strlen(app->app_key);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EINVALID_TOKEN);
	assert_non_null(strstr(e.reason, "signature"));
	free(app->app_key);
	app->app_key = strdup(KEY);
	app->app_key_len = strlen(KEY);
	free(tok);
	/* alg none, with the claims of a real user */
	char *head = jwt_b64url_encode("{\"alg\":\"none\",\"typ\":\"JWT\"}", 27);
	char body[64], none[256];
	snprintf(body, sizeof(body), "{\"userId\":%lld}", (long long)alice);
	char *b = jwt_b64url_encode(body, strlen(body));
	snprintf(none, sizeof(none), "%s.%s.", head, b);
	assert_int_equal(who(none, NULL, &e, NULL), APP_EINVALID_TOKEN);
	free(head);
	free(b);
	/* signed right, but about nobody */
	tok = signed_with("{\"userId\":999,\"roleName\":\"admin\"}", KEY);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_ENO_USER);
	free(tok);
	tok = signed_with("{\"roleName\":\"admin\"}", KEY);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_ENO_USER);
	free(tok);
}

static void test_expired_and_renewed(void **state)
{
	struct principal p;
	struct err_why e;
	/* expired a minute ago, within the renew limit (1 day) */
	char *tok = session_at(2 * 60000, 60000), *first;
	assert_int_equal(who(tok, NULL, &e, &p), 0);
	assert_non_null(p.renewed);
	first = strdup(p.renewed);
	json_object *c = NULL;
	assert_int_equal(jwt_verify(p.renewed, KEY, strlen(KEY), &c), 0);
	assert_true(jsonx_get_bool(c, "temp", false));
	int64_t exp = 0;
	jsonx_get_int(c, "exp", &exp);
	assert_true(exp * 1000 > util_now_ms());
	json_object_put(c);
	auth_principal_free(&p);
	/* renewed again within 10 s: the same successor */
	assert_int_equal(who(tok, NULL, &e, &p), 0);
	assert_string_equal(p.renewed, first);
	auth_principal_free(&p);
	free(first);
	free(tok);
	/* expired longer ago than the renew limit */
	tok = session_at(3 * DAY_MS, 2 * DAY_MS);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EEXPIRED_SESSION);
	free(tok);
	/* an event stream does not renew */
	tok = session_at(2 * 60000, 60000);
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		auth_identify(app, tok, "text/event-stream", true, &p, &e),
		APP_ESKIP_RENEW);
	auth_principal_free(&p);
	free(tok);
	/* a session older than the session limit (7 days) */
	tok = session_at(8 * DAY_MS, -DAY_MS);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EEXPIRED_SESSION);
	free(tok);
}

static void test_blacklisted(void **state)
{
	struct principal p = {0};
	struct err_why e;
	char *tok = issue(alice);
	assert_int_equal(who(tok, NULL, &e, &p), 0);
	assert_int_equal(auth_block(app, tok, p.claims), 0);
	auth_principal_free(&p);
	next_request();
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EBLOCKED_TOKEN);
	free(tok);
}

static void test_password_change(void **state)
{
	struct err_why e;
	char *tok = issue(alice), upd[96];
	json_object *f = unit_json("{\"username\":\"alice\"}"), *v, *out = NULL;
	struct rctx x = {.app = app};
	snprintf(upd, sizeof(upd), "{\"passwordChangeTz\":%lld}",
		 (long long)(util_now_ms() + 1000));
	v = unit_json(upd);
	assert_int_equal(
		rec_update(&x, schema_coll(app->schema, "users"), f, v, &out),
		0);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	next_request();
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EINVALID_TOKEN);
	assert_string_equal(e.message, "User password changed, please signin again.");
	free(tok);
	/* back as it was, for the tests after this one */
	f = unit_json("{\"username\":\"alice\"}");
	v = unit_json("{\"passwordChangeTz\":null}");
	assert_int_equal(
		rec_update(&x, schema_coll(app->schema, "users"), f, v, &out),
		0);
	json_object_put(f);
	json_object_put(v);
	json_object_put(out);
	next_request();
}

static void test_roles(void **state)
{
	struct principal p;
	struct err_why e;
	char *tok = issue(alice), *btok;

	assert_int_equal(who(tok, "root", &e, NULL), APP_EROLE);
	assert_non_null(strstr(e.reason, "root"));
	assert_int_equal(who(tok, "__union__", &e, &p), 0);
	assert_string_equal(p.role, "member");
	auth_principal_free(&p);
	assert_int_equal(who(tok, "anonymous", &e, &p), 0);
	assert_string_equal(p.role, "anonymous");
	auth_principal_free(&p);
	assert_int_equal(who(tok, "", &e, &p), 0);
	assert_string_equal(p.role, "member");
	auth_principal_free(&p);
	btok = issue(bob);
	assert_int_equal(who(btok, NULL, &e, NULL), APP_ENO_ROLES);
	free(btok);
	free(tok);
}

static void test_api_keys(void **state)
{
	struct principal p;
	struct err_why e;
	char *tok = auth_issue_api_key(app, alice, "admin", DAY_MS);
	/* the key's own role wins over X-Role */
	assert_int_equal(who(tok, "member", &e, &p), 0);
	assert_string_equal(p.role, "admin");
	assert_null(p.renewed);
	auth_principal_free(&p);
	free(tok);
	/* a key for a role the user no longer holds */
	tok = auth_issue_api_key(app, alice, "root", DAY_MS);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EROLE);
	free(tok);
	/* expired: not renewed, refused */
	char claims[160];
	snprintf(claims, sizeof(claims),
		 "{\"userId\":%lld,\"roleName\":\"admin\",\"iat\":1,\"exp\":2}",
		 (long long)alice);
	tok = signed_with(claims, KEY);
	assert_int_equal(who(tok, NULL, &e, NULL), APP_EINVALID_TOKEN);
	assert_non_null(strstr(e.reason, "expired"));
	free(tok);
}

static void test_durations(void **state)
{
	assert_int_equal(auth_parse_duration("30m"), 30 * 60000);
	assert_int_equal(auth_parse_duration("2h"), 2 * 3600000);
	assert_int_equal(auth_parse_duration("7d"), 7 * DAY_MS);
	assert_int_equal(auth_parse_duration("1w"), 7 * DAY_MS);
	assert_int_equal(auth_parse_duration("45s"), 45000);
	assert_int_equal(auth_parse_duration("500"), 500);
	assert_true(auth_parse_duration("never") > 365 * DAY_MS * 100);
	assert_int_equal(auth_parse_duration("7x"), -1);
	assert_int_equal(auth_parse_duration(""), -1);
	assert_int_equal(auth_parse_duration(NULL), -1);
	assert_int_equal(auth_parse_duration("-5d"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_session),
		cmocka_unit_test(test_missing_and_forged),
		cmocka_unit_test(test_expired_and_renewed),
		cmocka_unit_test(test_blacklisted),
		cmocka_unit_test(test_password_change),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_api_keys),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
