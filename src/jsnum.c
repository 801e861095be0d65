/* jsnum: see jsnum.h. */
#include "jsnum.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool jsnum_is_int(double d)
{
	return isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0;
}

char *jsnum_format(double d, char *out)
{
	char tmp[40], digits[20];
	int prec, exp10, nd = 0;

	if (isnan(d))
		return strcpy(out, "NaN");
	if (isinf(d))
		return strcpy(out, d > 0 ? "Infinity" : "-Infinity");
	if (d == 0)
		return strcpy(out, "0");
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is "-d.ddde±XX": collect the significant digits and exponent. */
	const char *p = tmp;
	bool neg = *p == '-';
	if (neg)
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;
	exp10 = atoi(p + 1);

	char *o = out;
	if (neg)
		*o++ = '-';
	if (exp10 >= 21 || exp10 < -6) {
		*o++ = digits[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		sprintf(o, "e%c%d", exp10 < 0 ? '-' : '+', abs(exp10));
		return out;
	}
	if (exp10 < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -exp10 - 1; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)nd);
		o += nd;
	} else if (nd <= exp10 + 1) {
		memcpy(o, digits, (size_t)nd);
		o += nd;
		for (int i = nd; i <= exp10; i++)
			*o++ = '0';
	} else {
		memcpy(o, digits, (size_t)exp10 + 1);
		o += exp10 + 1;
		*o++ = '.';
		memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
		o += nd - exp10 - 1;
	}
	*o = 0;
	return out;
}
