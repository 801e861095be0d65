/*
 * fuzz_mathjs: the "math.js" expression engine (the harness: fuzz_expr.h).
 */
#define FUZZ_ENGINE "math.js"
#include "fuzz_expr.h"
