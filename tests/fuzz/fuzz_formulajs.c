/*
 * fuzz_formulajs: the "formula.js" expression engine (the harness: fuzz_expr.h).
 */
#define FUZZ_ENGINE "formula.js"
#include "fuzz_expr.h"
