/*
 * fuzz_basic: the condition node's "basic" engine (wf_expr_logic.c).  The
 * input is the node's "calculation" config as JSON text, e.g.
 * {"group":{"type":"and","calculations":[{"calculator":"gt","operands":
 * ["{{$context.data.qty}}",2]}]}}; as wf_condition_eval does, it is first
 * rendered against an execution-like scope, then evaluated.
 *
 * Checks: an error has a message.
 */
#include "fuzz.h"

#include "wf_expr.h"

#include "fuzz_scope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *calc = NULL, *rendered;
	char err[512];
	bool b = false;

	if (jsonx_parse((const char *)data, size, JSONX_MAX_DEPTH, &calc, err,
			sizeof(err)))
		return 0;
	rendered = wf_template_render(calc, fuzz_resolve, scope);
	memset(err, 0, sizeof(err));
	if (wf_expr_logic(rendered, &b, err, sizeof(err)))
		FUZZ_CHECK(*err, "an error without a message");
	json_object_put(rendered);
	json_object_put(calc);
	return 0;
}
