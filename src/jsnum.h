/*
 * jsnum: numbers as JavaScript prints them (Number.prototype.toString):
 * the shortest decimal that reads back to the same double, fixed notation
 * for exponents -7..20, "1e+21" style otherwise; NaN, Infinity, -Infinity.
 */
#ifndef FLOWCGI_JSNUM_H
#define FLOWCGI_JSNUM_H

#include <stdbool.h>

#define JSNUM_MAX 40

/* Format d into out (at least JSNUM_MAX bytes); returns out. */
char *jsnum_format(double d, char *out);
/* True when d is an integer that a JSON int64 holds exactly. */
bool jsnum_is_int(double d);

#endif
