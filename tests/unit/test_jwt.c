/* jwt: tokens made by node (jws's algorithm: createHmac('sha256', key) over
 * base64url(JSON.stringify(header)) "." base64url(JSON.stringify(claims)))
 * verify here, and ours are byte-identical to node's for the same claims. */
#include "unit.h"

#include "jwt.h"

#define KEY1 "test-key-123"
#define KEY2 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

#define HDR "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

/* {"userId":1,"temp":true,"signInTime":1732600000000,
 *  "jti":"4f1c2a9e-0d6b-4c1e-9a57-3b2f0e8d7c61","iat":1732600000,
 *  "exp":1732686400} signed with KEY1 */
static const char tok1_claims[] =
	"{\"userId\":1,\"temp\":true,\"signInTime\":1732600000000,"
	"\"jti\":\"4f1c2a9e-0d6b-4c1e-9a57-3b2f0e8d7c61\",\"iat\":1732600000,"
	"\"exp\":1732686400}";
static const char tok1[] =
	HDR ".eyJ1c2VySWQiOjEsInRlbXAiOnRydWUsInNpZ25JblRpbWUiOjE3MzI2MDAwMDA"
	"wMDAsImp0aSI6IjRmMWMyYTllLTBkNmItNGMxZS05YTU3LTNiMmYwZThkN2M2MSIsIm"
	"lhdCI6MTczMjYwMDAwMCwiZXhwIjoxNzMyNjg2NDAwfQ"
	".AG_3npRq0lHhA_Qwaum4A0__dCkeCe1UtapWWyeYw5U";

/* {"userId":42,"roleName":"admin","note":"a/b \"q\" é\n",
 *  "iat":1732600000,"exp":33289000000} signed with KEY2 */
static const char tok2_claims[] =
	"{\"userId\":42,\"roleName\":\"admin\",\"note\":\"a/b \\\"q\\\" "
	"\xc3\xa9\\n\",\"iat\":1732600000,\"exp\":33289000000}";
static const char tok2[] =
	HDR ".eyJ1c2VySWQiOjQyLCJyb2xlTmFtZSI6ImFkbWluIiwibm90ZSI6ImEvYiBcInF"
	"cIiDDqVxuIiwiaWF0IjoxNzMyNjAwMDAwLCJleHAiOjMzMjg5MDAwMDAwfQ"
	".4cjmBB2TxaL5vX6q2Iq_LYSspS3zul9l8mKoYF0kcWk";

static void expect_bad(const char *token, const char *key)
{
	json_object *c = (json_object *)1;
	assert_int_equal(jwt_verify(token, key, strlen(key), &c), -1);
	assert_null(c);
}

static void test_verify_node_tokens(void **state)
{
	json_object *c = NULL, *want;
	int64_t v;

	assert_int_equal(jwt_verify(tok1, KEY1, strlen(KEY1), &c), 0);
	want = unit_json(tok1_claims);
	assert_true(jsonx_equal(c, want));
	assert_true(jsonx_get_int(c, "signInTime", &v));
	assert_true(v == 1732600000000LL);
	json_object_put(c);
	json_object_put(want);

	assert_int_equal(jwt_verify(tok2, KEY2, strlen(KEY2), &c), 0);
	assert_string_equal(jsonx_get_str(c, "note"), "a/b \"q\" \xc3\xa9\n");
	json_object_put(c);
}

static void test_sign_matches_node(void **state)
{
	json_object *claims = unit_json(tok1_claims);
	char *t = jwt_sign(claims, KEY1, strlen(KEY1));
	assert_non_null(t);
	assert_string_equal(t, tok1);
	free(t);
	json_object_put(claims);

	claims = unit_json(tok2_claims);
	t = jwt_sign(claims, KEY2, strlen(KEY2));
	assert_string_equal(t, tok2);
	free(t);
	json_object_put(claims);
}

static void test_roundtrip(void **state)
{
	json_object *claims = json_object_new_object(), *c = NULL;
	char *t;

	json_object_object_add(claims, "userId", json_object_new_int(7));
	json_object_object_add(claims, "path", json_object_new_string("a/b"));
	/* key bytes may contain NUL */
	t = jwt_sign(claims, "k\0y", 3);
	assert_non_null(t);
	assert_int_equal(jwt_verify(t, "k\0y", 3, &c), 0);
	assert_true(jsonx_equal(c, claims));
	json_object_put(c);
	assert_int_equal(jwt_verify(t, "k\0z", 3, &c), -1);
	assert_int_equal(jwt_verify(t, "k", 1, &c), -1);
	free(t);
	json_object_put(claims);
}

static void test_sign_refuses(void **state)
{
	json_object *arr = json_object_new_array(), *obj =
							json_object_new_object();
	assert_null(jwt_sign(arr, KEY1, strlen(KEY1)));
	assert_null(jwt_sign(NULL, KEY1, strlen(KEY1)));
	assert_null(jwt_sign(obj, "", 0));
	json_object_put(arr);
	json_object_put(obj);
}

static void test_wrong_signature(void **state)
{
	char t[sizeof(tok1)];

	expect_bad(tok1, KEY2);
	expect_bad(tok1, "test-key-124");
	memcpy(t, tok1, sizeof(t));
	t[sizeof(t) - 3] = t[sizeof(t) - 3] == '5' ? '6' : '5';
	expect_bad(t, KEY1);
	/* the last character carries 2 unused bits: 'V' differs from 'U' only
	 * there, so the bytes are equal but the spelling is not canonical */
	memcpy(t, tok1, sizeof(t));
	t[sizeof(t) - 2] = 'V';
	expect_bad(t, KEY1);
}

static void test_alg(void **state)
{
	/* both correctly HMAC-SHA256-signed with KEY1; the header lies */
	expect_bad("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VySWQiOjF9."
		   "OlSqI2sKAWTYCRp0yQXYhNML-JmaAcRmmSS3W4hKiVE",
		   KEY1);
	expect_bad("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOjF9."
		   "js-1ny3b1mWlomqJlGJme67goXv0pgLBIdVUGNdEHs0",
		   KEY1);
	/* unsigned "none" token */
	expect_bad("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VySWQiOjF9.",
		   KEY1);
	/* header without alg */
	expect_bad("eyJ0eXAiOiJKV1QifQ.eyJ1c2VySWQiOjF9."
		   "jFaygB0aaczJYCDVhuNwrYYqepyC-HFAjg6AZz6H9mQ",
		   KEY1);
}

static void test_header_without_typ(void **state)
{
	/* jsonwebtoken does not require typ */
	json_object *c = NULL;
	const char *t = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOjF9."
			"I3EK7zXVOuUK2yIpXFL4wSRKIgbscrkNE_Y253h5SJM";
	assert_int_equal(jwt_verify(t, KEY1, strlen(KEY1), &c), 0);
	json_object_put(c);
}

static void test_altered_payload(void **state)
{
	json_object *claims = unit_json("{\"userId\":2}");
	char *mine = jwt_sign(claims, KEY1, strlen(KEY1));
	char *dot = strrchr(mine, '.');
	char *forged = malloc(strlen(tok1) + strlen(mine));

	/* our payload with node's signature */
	strcpy(forged, HDR ".");
	strncat(forged, mine + sizeof(HDR), (size_t)(dot - mine) - sizeof(HDR));
	strcat(forged, strrchr(tok1, '.'));
	expect_bad(forged, KEY1);
	/* one payload character changed */
	strcpy(forged, tok1);
	forged[sizeof(HDR) + 5] ^= 1;
	expect_bad(forged, KEY1);
	free(forged);
	free(mine);
	json_object_put(claims);
}

static void test_non_object_payload(void **state)
{
	expect_bad(HDR ".WzEsMl0.rsQURGFCU59F6u026riGgrj-x_vjKwlLyoQsiagaFLQ",
		   KEY1);
	expect_bad(HDR ".InN0ciI.pyl9Y8I6_1pCXNUQsGqaxVy9r_SyJmcXrotaZ8cw5Qg",
		   KEY1);
}

static void test_shape(void **state)
{
	char t[sizeof(tok1) + 8];
	size_t n = strlen(tok1);

	expect_bad("", KEY1);
	expect_bad(".", KEY1);
	expect_bad("..", KEY1);
	expect_bad("a.b.c", KEY1);
	expect_bad("abc", KEY1);
	/* truncated anywhere */
	for (size_t cut = 1; cut < n; cut += 7) {
		memcpy(t, tok1, cut);
		t[cut] = 0;
		expect_bad(t, KEY1);
	}
	/* extra dots */
	snprintf(t, sizeof(t), "%s.", tok1);
	expect_bad(t, KEY1);
	snprintf(t, sizeof(t), ".%s", tok1);
	expect_bad(t, KEY1);
	snprintf(t, sizeof(t), "%s.x", tok1);
	expect_bad(t, KEY1);
	/* empty header or payload */
	expect_bad(".eyJ1c2VySWQiOjF9.I3EK7zXVOuUK2yIpXFL4wSRKIgbscrkNE_Y253h5S"
		   "JM", KEY1);
	expect_bad(HDR "..I3EK7zXVOuUK2yIpXFL4wSRKIgbscrkNE_Y253h5SJM", KEY1);
	/* NULL token */
	json_object *c = (json_object *)1;
	assert_int_equal(jwt_verify(NULL, KEY1, strlen(KEY1), &c), -1);
	assert_null(c);
	/* an empty key verifies nothing */
	assert_int_equal(jwt_verify(tok1, "", 0, &c), -1);
}

static void test_bad_base64(void **state)
{
	char t[sizeof(tok1)];
	const char bad[] = {'+', '/', '=', ' ', '\n', '*', '\xc3'};

	for (size_t i = 0; i < sizeof(bad); i++) {
		memcpy(t, tok1, sizeof(t));
		t[10] = bad[i];
		expect_bad(t, KEY1);
		memcpy(t, tok1, sizeof(t));
		t[sizeof(HDR) + 3] = bad[i];
		expect_bad(t, KEY1);
		memcpy(t, tok1, sizeof(t));
		t[sizeof(t) - 5] = bad[i];
		expect_bad(t, KEY1);
	}
	/* standard base64 padding on the header */
	expect_bad("eyJhbGciOiJIUzI1NiJ9==.eyJ1c2VySWQiOjF9."
		   "I3EK7zXVOuUK2yIpXFL4wSRKIgbscrkNE_Y253h5SJM",
		   KEY1);
	/* a payload that decodes to something other than JSON */
	expect_bad(HDR ".AAEC.I3EK7zXVOuUK2yIpXFL4wSRKIgbscrkNE_Y253h5SJM",
		   KEY1);
}

static void test_huge(void **state)
{
	size_t n = JWT_MAX_LEN + 100;
	char *t = malloc(n + 1);
	json_object *claims = json_object_new_object(), *c = NULL;
	char *big = malloc(JWT_MAX_LEN);
	char *tok;

	memset(t, 'A', n);
	memcpy(t, tok1, strlen(tok1));
	t[n] = 0;
	expect_bad(t, KEY1);
	free(t);

	/* a correctly signed token that is too long is refused as well */
	memset(big, 'x', JWT_MAX_LEN - 1);
	big[JWT_MAX_LEN - 1] = 0;
	json_object_object_add(claims, "pad", json_object_new_string(big));
	tok = jwt_sign(claims, KEY1, strlen(KEY1));
	assert_non_null(tok);
	assert_true(strlen(tok) > JWT_MAX_LEN);
	assert_int_equal(jwt_verify(tok, KEY1, strlen(KEY1), &c), -1);
	free(tok);
	free(big);
	json_object_put(claims);
}

static void test_b64url(void **state)
{
	/* node: Buffer.from([0,1,2,0xfb,0xff,0xfe,0x3e,0x3f]).subarray(0, i)
	 *       .toString('base64url') */
	static const char *enc[] = {"",	    "AA",	"AAE",
				    "AAEC", "AAEC-w",	"AAEC-_8",
				    "AAEC-__-", "AAEC-__-Pg", "AAEC-__-Pj8"};
	static const unsigned char raw[] = {0, 1, 2, 0xfb, 0xff, 0xfe,
					    0x3e, 0x3f};
	size_t len;

	for (size_t i = 0; i <= sizeof(raw); i++) {
		char *e = jwt_b64url_encode(raw, i);
		assert_string_equal(e, enc[i]);
		free(e);
		unsigned char *d = jwt_b64url_decode(enc[i], strlen(enc[i]),
						     &len);
		assert_non_null(d);
		assert_int_equal(len, i);
		assert_memory_equal(d, raw, i);
		assert_int_equal(d[len], 0);
		free(d);
	}
	assert_null(jwt_b64url_decode("A", 1, &len));
	assert_null(jwt_b64url_decode("AAAAA", 5, &len));
	assert_null(jwt_b64url_decode("AB", 2, &len));  /* trailing bits */
	assert_null(jwt_b64url_decode("AAF", 3, &len)); /* trailing bits */
	assert_null(jwt_b64url_decode("AA==", 4, &len));
	assert_null(jwt_b64url_decode("A+A/", 4, &len));
	assert_null(jwt_b64url_decode("AA\0A", 4, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_node_tokens),
		cmocka_unit_test(test_sign_matches_node),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_sign_refuses),
		cmocka_unit_test(test_wrong_signature),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_header_without_typ),
		cmocka_unit_test(test_altered_payload),
		cmocka_unit_test(test_non_object_payload),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_b64url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
