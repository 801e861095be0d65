/*
 * fuzz_jsonq: the json-query node's JMESPath language (wf_jsonq*.c).  The
 * input is the expression (up to a NUL); after a NUL, optionally, the
 * source document as JSON text (else an execution-like document with
 * arrays, nesting, numbers and odd keys).  As the node does, the
 * expression is first rendered with the variables ({{...}}), then
 * evaluated with wf_jsonq_eval.
 *
 * Checks: an error has a message; a result prints as JSON that parses.
 */
#include "fuzz.h"

#include "wf_jsonq.h"

#include "fuzz_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), *expr, err[512];
	size_t n;
	json_object *src = NULL, *tmpl, *xv, *out = NULL, *again = NULL;

	if (!text)
		return 0;
	n = strlen(text);

	if (n + 1 < size &&
	    jsonx_parse((const char *)data + n + 1, size - n - 1,
			JSONX_MAX_DEPTH, &src, err, sizeof(err)))
		src = NULL;
	if (!src)
		src = json_object_get(scope);
	tmpl = json_object_new_string(text);
	xv = wf_template_render(tmpl, fuzz_resolve, scope);
	expr = jsonx_to_js_string(xv, false);
	memset(err, 0, sizeof(err));
	if (wf_jsonq_eval(src, expr, &out, err, sizeof(err))) {
		FUZZ_CHECK(*err, "an error without a message: %.200s", expr);
	} else {
		const char *t = jsonx_str(out);
		FUZZ_CHECK(!jsonx_parse(t, strlen(t), 1000, &again, err,
					sizeof(err)),
			   "result does not print as JSON (%s)", err);
		json_object_put(again);
	}
	json_object_put(out);
	free(expr);
	json_object_put(xv);
	json_object_put(tmpl);
	json_object_put(src);
	free(text);
	return 0;
}
