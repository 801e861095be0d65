/*
 * fuzz_scope.h: the start of the targets that evaluate against an
 * execution-like scope (fuzz_basic, fuzz_expr.h's engines, fuzz_jsonq,
 * fuzz_template): `scope` is FUZZ_SCOPE_JSON parsed once, freed at exit.
 */
#ifndef FUZZ_SCOPE_H
#define FUZZ_SCOPE_H

#include "fuzz.h"

static json_object *scope;

static void cleanup(void)
{
	json_object_put(scope);
	jsonx_cleanup();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	scope = fuzz_json(FUZZ_SCOPE_JSON);
	atexit(cleanup);
	return 0;
}

#endif
