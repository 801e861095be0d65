/*
 * fuzz_json_body: a request body, as req_parse reads it: the strict JSON
 * parser (jsonx_parse: json-c, then the checks for what JSON.parse
 * refuses, UTF-8, depth) with the builder of Node's error messages
 * (jsonerr.c), and the other body forms req_parse picks by Content-Type
 * (a form body parsed as qs, a body that looks like JSON under another
 * type).  The first input byte picks the Content-Type; the rest is the
 * body, NULs included (a body is bytes, not a C string).
 *
 * Checks: a refusal carries a message; accepted JSON is an object or an
 * array (else a refusal), is accepted inside [ ] too, and what jsonx_str
 * prints of it parses again;
 * the message of a refused body is valid UTF-8 that fits the buffer.
 */
#include "fuzz.h"

#include "arena.h"
#include "err.h"
#include "jsonerr.h"
#include "req.h"
#include "util.h"

static struct arena *arena;

static void cleanup(void)
{
	arena_free(arena);
	jsonx_cleanup();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena = arena_new();
	atexit(cleanup);
	return 0;
}

static void strict(const char *p, size_t n)
{
	json_object *o = NULL, *again = NULL;
	char err[256];
	int rc;

	memset(err, 0x7f, sizeof(err));
	rc = jsonx_parse(p, n, JSONX_MAX_DEPTH, &o, err, sizeof(err));
	if (rc) {
		FUZZ_CHECK(!o, "a refusal returned a value");
		FUZZ_CHECK(memchr(err, 0, sizeof(err)), "message not terminated");
		FUZZ_CHECK(*err, "a refusal without a message");
		FUZZ_CHECK(util_utf8_valid(err, strlen(err)),
			   "message is not UTF-8: %s", err);
		return;
	}
	/* Any JSON value is also a valid array element: a text taken alone
	 * but refused inside [ ] was taken by mistake ("0."). */
	char *wrapped = malloc(n + 2);
	if (!wrapped)
		abort();
	wrapped[0] = '[';
	memcpy(wrapped + 1, p, n);
	wrapped[n + 1] = ']';
	FUZZ_CHECK(!jsonx_parse(wrapped, n + 2, JSONX_MAX_DEPTH + 1, &again, err,
				sizeof(err)),
		   "taken alone, refused in [ ] (%s): %.*s", err,
		   (int)(n + 2 < 300 ? n + 2 : 300), wrapped);
	json_object_put(again);
	again = NULL;
	free(wrapped);
	/* What we print of a parsed value must parse again (a response
	 * echoes bodies back). */
	const char *text = jsonx_str(o);
	FUZZ_CHECK(!jsonx_parse(text, strlen(text), JSONX_MAX_DEPTH + 1, &again,
				err, sizeof(err)),
		   "printed JSON does not parse again (%s): %.300s", err, text);
	json_object_put(again);
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {
		"application/json",
		"application/json; charset=utf-8",
		"application/x-www-form-urlencoded",
		"text/plain",
		"application/vnd.api+json",
		NULL,
	};
	struct req r;
	const char *body;
	size_t n;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	n = size - 1;
	strict(body, n);

	req_begin(&r, NULL, arena);
	r.method = "POST";
	r.content_type = types[data[0] % (sizeof(types) / sizeof(types[0]))];
	r.body = body;
	r.body_len = n;
	r.content_length = (long long)n;
	if (req_parse(&r, 1 << 20)) {
		FUZZ_CHECK(r.err == APP_EJSON || r.err == APP_EPARAM,
			   "body refused with error %d", r.err);
		FUZZ_CHECK(r.err_message && *r.err_message,
			   "body refused without a message");
		FUZZ_CHECK(util_utf8_valid(r.err_message, strlen(r.err_message)),
			   "message is not UTF-8");
	} else {
		FUZZ_CHECK(json_object_is_type(r.values, json_type_object) ||
				   json_object_is_type(r.values,
						       json_type_array),
			   "values are a %s",
			   json_type_to_name(json_object_get_type(r.values)));
	}
	req_end(&r);
	arena_reset(arena);
	return 0;
}
