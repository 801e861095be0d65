/*
 * fuzz_template: template and variable rendering (wf_template.c), what
 * every node config goes through before it runs, and the "string"
 * expression engine.  The first input byte picks the form:
 *   even: the rest is a node config as JSON text, rendered with
 *         wf_template_render_ex (strings, keys, nesting, {{a:default}});
 *   odd:  the rest is one template string (cut at a NUL, valid UTF-8),
 *         rendered with
 *         wf_template_render_str, scanned placeholder by placeholder in
 *         both grammars, looked up as a path (wf_template_lookup), and
 *         evaluated by the "string" engine.
 * Variables resolve against an execution-like scope, as wf_resolve does.
 *
 * Checks: a scan moves forward and stays inside the text; a render over
 * the output limit says so; the rendered value prints as JSON that parses.
 */
#include "fuzz.h"

#include "wf_expr.h"

#include "fuzz_scope.h"

static void scan_all(const char *s, size_t len, enum wf_ph_grammar g)
{
	struct wf_placeholder ph;
	size_t from = 0;

	while (from <= len && wf_template_scan(s, len, from, g, &ph)) {
		FUZZ_CHECK(ph.start >= from && ph.start < ph.end && ph.end <= len,
			   "placeholder [%zu,%zu) from %zu in %zu", ph.start,
			   ph.end, from, len);
		FUZZ_CHECK(ph.key >= ph.start && ph.key + ph.keylen <= ph.end,
			   "key outside its placeholder");
		FUZZ_CHECK(!ph.has_default ||
				   (ph.dflt >= ph.start &&
				    ph.dflt + ph.dfltlen <= ph.end),
			   "default outside its placeholder");
		json_object_put(wf_template_value(s, &ph, fuzz_resolve, scope));
		from = ph.end;
	}
}

static void as_string(const char *s)
{
	size_t len = strlen(s);
	json_object *v = NULL;
	char *out, err[512];

	out = wf_template_render_str(s, fuzz_resolve, scope);
	free(out);
	scan_all(s, len, WF_PH_TEMPLATE);
	scan_all(s, len, WF_PH_EXPR);
	json_object_put(wf_template_lookup(scope, s));
	memset(err, 0, sizeof(err));
	if (wf_expr_eval("string", s, fuzz_resolve, scope, &v, err,
			 sizeof(err)))
		FUZZ_CHECK(*err, "string engine error without a message");
	json_object_put(v);
}

static void as_config(const char *p, size_t n)
{
	json_object *tmpl = NULL, *out = NULL, *again = NULL;
	char err[512];

	if (jsonx_parse(p, n, JSONX_MAX_DEPTH, &tmpl, err, sizeof(err)))
		return;
	memset(err, 0, sizeof(err));
	if (wf_template_render_ex(tmpl, fuzz_resolve, scope, &out, err,
				  sizeof(err))) {
		FUZZ_CHECK(*err && !out, "a failed render without a message");
	} else {
		const char *text = jsonx_str(out);
		FUZZ_CHECK(!jsonx_parse(text, strlen(text), 1000, &again, err,
					sizeof(err)),
			   "rendered config does not print as JSON (%s)", err);
		json_object_put(again);
	}
	json_object_put(out);
	json_object_put(tmpl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1) {
		char *s = fuzz_text(data + 1, size - 1);
		if (s)
			as_string(s);
		free(s);
	} else {
		as_config((const char *)data + 1, size - 1);
	}
	return 0;
}
