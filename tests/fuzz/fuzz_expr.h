/*
 * fuzz_expr.h: the harness shared by fuzz_mathjs and fuzz_formulajs, one
 * libFuzzer program per expression engine of the calculation and condition
 * nodes (wf_expr.c and the files under it).  A target defines FUZZ_ENGINE
 * ("math.js", "formula.js") and includes this.  The input is the expression
 * as a node config holds it (a JSON string: cut at a NUL, valid UTF-8),
 * evaluated with wf_expr_eval over a scope like an execution's, every
 * {{ path }} resolved through wf_template_lookup as wf_resolve does.
 *
 * Checks: an error has a message; a result is a JSON value that prints as
 * valid JSON (and UTF-8) that parses again (NaN and Infinity become null).
 */
#ifndef FUZZ_EXPR_H
#define FUZZ_EXPR_H

#include "fuzz.h"

#include "wf_expr.h"

#include "fuzz_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr = fuzz_text(data, size), err[512];
	json_object *out = NULL, *again = NULL;

	if (!expr)
		return 0;

	memset(err, 0, sizeof(err));
	if (wf_expr_eval(FUZZ_ENGINE, expr, fuzz_resolve, scope, &out, err,
			 sizeof(err))) {
		FUZZ_CHECK(!out, "an error returned a value");
		FUZZ_CHECK(*err, "an error without a message: %.200s", expr);
	} else {
		const char *text = jsonx_str(out);
		FUZZ_CHECK(!jsonx_parse(text, strlen(text), 1000, &again, err,
					sizeof(err)),
			   "result does not print as JSON (%s): %.200s", err,
			   text);
		json_object_put(again);
	}
	json_object_put(out);
	free(expr);
	return 0;
}

#endif
