/*
 * qs: query strings (and form bodies) parsed as the Node "qs" module does
 * for NocoBase: brackets nest (a[b]=1), a[] and a[0] build arrays (index
 * at most 100), a repeated key becomes an array, a key without '=' is
 * null, '+' is a space.  At most 1000 pairs and 5 bracket levels, as qs.
 */
#ifndef FLOWCGI_QS_H
#define FLOWCGI_QS_H

#include <json-c/json.h>
#include <stddef.h>

/* Returns a new object, or NULL with a message in err for a malformed
 * percent escape or invalid UTF-8. */
json_object *qs_parse(const char *s, size_t n, char *err, size_t errlen);

#endif
