/*
 * fuzz_route: the request path (req_route in req.c), which every request
 * goes through before anything else but the query and the body: the
 * colon form /<resource>:<action>[/<tk>], the association form
 * /<parent>/<id>/<assoc>:<action>[/<tk>], the REST form chosen by the
 * method, a leading /api, percent-escapes and UTF-8.  The first input
 * byte picks the method; the rest (up to a NUL, as PATH_INFO) is the
 * path.
 *
 * Checks: a refusal is a 404 or a 405 with a reason; a route names a
 * resource (and parent) that is an identifier and a non-empty action, or
 * none in the REST form (the route table maps the method: api.c).
 */
#include "fuzz.h"

#include "arena.h"
#include "err.h"
#include "req.h"
#include "util.h"

static struct arena *arena;

static void cleanup(void)
{
	arena_free(arena);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	arena = arena_new();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET",	"POST", "PUT",
					      "PATCH",	"DELETE", "HEAD",
					      "OPTIONS", ""};
	struct req r;
	char *path;

	if (size < 1)
		return 0;
	path = fuzz_cstr(data + 1, size - 1);
	req_begin(&r, NULL, arena);
	r.method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
	r.path = path;
	if (req_route(&r)) {
		int st = err_info(r.err)->status;
		FUZZ_CHECK(st == 404 || st == 405, "route refused with %d", st);
		FUZZ_CHECK(r.err_reason && *r.err_reason, "no reason");
	} else {
		FUZZ_CHECK(r.resource && util_is_ident(r.resource),
			   "resource \"%s\"", r.resource ? r.resource : "");
		FUZZ_CHECK(!r.parent || util_is_ident(r.parent),
			   "parent \"%s\"", r.parent);
		/* the REST form leaves the action to the method, which the
		 * route table maps in api.c */
		FUZZ_CHECK(r.rest ? !r.action : r.action && *r.action,
			   "action \"%s\" for %s form",
			   r.action ? r.action : "", r.rest ? "the REST" : "a colon");
		FUZZ_CHECK(!r.parent == !r.parent_index,
			   "a parent without its id");
	}
	req_end(&r);
	arena_reset(arena);
	free(path);
	return 0;
}
