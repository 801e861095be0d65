/*
 * wf_expr: the expressions of the calculation and condition nodes,
 * evaluated over json-c values (reference §6 calculation / condition).
 *
 * Values: json-c has no separate null, so NULL is JSON null and also
 * stands for "undefined" (NocoBase maps undefined variables to null before
 * evaluating, so nothing is lost).
 *
 * Engines
 *   "math.js" (default): numbers, 'str' and "str", true false null, pi e
 *     Infinity NaN; + - * / % mod ^ (right-assoc, above unary minus:
 *     -2^2 = -4), unary - + not !, postfix ! (factorial), == != < <= > >=
 *     (chained as math.js: 1 < x < 3), and or xor not, a ? b : c,
 *     [a, b] arrays, obj.key member access, parentheses, and functions
 *     abs add and atan2 boolean cbrt ceil compare concat cube divide equal
 *     exp expm1 factorial fix floor format isInteger isNaN isNegative
 *     isPositive isZero larger largerEq log log10 log1p log2 max mean
 *     median min mod multiply not number or pow prod round sign sqrt
 *     square string subtract sum typeOf unaryMinus unaryPlus unequal xor
 *     and trigonometry (sin cos tan asin acos atan sinh cosh tanh);
 *     round/ceil/floor/fix take an optional number of decimals (0-15).
 *     Comparisons: two strings compare as strings;
 *     otherwise operands are converted to numbers.  Arithmetic converts
 *     booleans, null (0) and numeric strings to numbers, as math.js does;
 *     a non-numeric string is an error ('Cannot convert "a" to a number').
 *     Use concat() to join strings.
 *   "formula.js": JavaScript expression syntax with Excel functions, as
 *     NocoBase evaluates it in a JS sandbox: JS + - * / % ** (so "a" + 1
 *     is "a1"), == != === !==, < <= > >=, && || !, ?:, [a, b], a.b, a[i],
 *     plus Excel's & (text concatenation), = and <> (JS == and !=).
 *     Functions: SUM AVERAGE MIN MAX PRODUCT COUNT COUNTA ROUND ROUNDUP
 *     ROUNDDOWN TRUNC INT MOD ABS POWER SQRT EXP LN LOG LOG10 SIGN PI
 *     CEILING FLOOR IF AND OR XOR NOT TRUE FALSE CONCATENATE CONCAT
 *     TEXTJOIN LEN LEFT RIGHT MID UPPER LOWER TRIM SUBSTITUTE REPT EXACT
 *     FIND VALUE ISBLANK ISNUMBER ISTEXT, Math.abs ceil floor round trunc
 *     sign sqrt cbrt exp log log10 log2 min max pow, Math.PI Math.E,
 *     Number String Boolean parseFloat parseInt isNaN isFinite.
 *     Excel errors (#VALUE!, #DIV/0!, #NUM!) are evaluation errors.
 *     Not supported: ^ and | (JS bitwise), typeof, object literals,
 *     method calls ("a".toUpperCase()).
 *   "string": the text with every {{ path }} replaced by its string value
 *     (null, NaN, Infinity -> "").
 *
 * Variables: {{ path }} (path chars: word chars, $ . -) is resolved once
 * per distinct path and bound as a value, never pasted into the source, so
 * a variable holding "1+1" stays the string "1+1".  Inside a string
 * literal ('{{x}}') a placeholder is plain text (NocoBase substitutes
 * before parsing there, which yields a meaningless symbol name).
 *
 * Limits: expressions over WF_EXPR_MAX_LEN bytes, nested deeper than
 * WF_EXPR_MAX_DEPTH levels (or trees taller than 8 times that), doing
 * more than WF_EXPR_MAX_STEPS steps, building strings over
 * WF_EXPR_MAX_STR bytes, or whose operators and functions touch more
 * than WF_EXPR_MAX_WORK bytes of operands and results in total are
 * refused with an error.
 */
#ifndef FLOWCGI_WF_EXPR_H
#define FLOWCGI_WF_EXPR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define WF_EXPR_MAX_LEN 65536
#define WF_EXPR_MAX_DEPTH 64
#define WF_EXPR_MAX_STEPS 1000000L
#define WF_EXPR_MAX_STR (4u << 20)
#define WF_EXPR_MAX_WORK (64u << 20)

/* Resolve a variable path such as "$context.data.price" (already trimmed);
 * return a NEW reference, or NULL for undefined (or JSON null). */
typedef json_object *(*wf_resolve_fn)(void *ctx, const char *path);

/* Evaluate expr with engine "math.js" (default when NULL or empty),
 * "formula.js" or "string".  *out gets a new reference: NULL (JSON null)
 * for null, NaN or Infinity and for an empty expression; numbers rounded
 * to 9 decimals and stored as JSON integers when integral; arrays and
 * objects deep-copied.  Returns 0, or -1 with a message in err (e.g.
 * "Unexpected end of expression (char 4)"). */
int wf_expr_eval(const char *engine, const char *expr, wf_resolve_fn resolve,
		 void *ctx, json_object **out, char *err, size_t errlen);

/* The condition node's "basic" engine over ALREADY rendered operands:
 * {"group":{"type":"and"|"or","calculations":[...]}} or
 * {"calculator":"equal","operands":[a,b]}.  Calculators: equal/==,
 * notEqual/!=, gt/>, gte/>=, lt/<, lte/<= (JS loose comparison; two
 * strings that both parse as ISO dates compare by time), includes,
 * notIncludes, startsWith, notStartsWith, endsWith, notEndsWith.  A
 * missing calculator or empty operands is true; an empty "and" group is
 * true, an empty "or" false.  Unknown calculator: -1 with err exactly
 * `no calculator function registered for "<name>"`. */
int wf_expr_logic(json_object *calculation, bool *result, char *err,
		  size_t errlen);

/* Round to n decimals on the shortest decimal form of x, half away from
 * zero (math.js round, Excel ROUND): 0.1 + 0.2 -> 0.3, 1.005 -> 1.01. */
double wf_expr_round(double x, int n);

#endif
