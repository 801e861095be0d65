/*
 * jsonerr: Node's JSON.parse messages for a text json-c refused.
 */
#ifndef FLOWCGI_JSONERR_H
#define FLOWCGI_JSONERR_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json_tokener.h>

/* The message for s[0..n), which json-c refused with jerr at byte p; with
 * at_end, s ended inside a value and jerr is what json-c said of a blank
 * and a stray byte appended (json_tokener_continue: still in a string). */
void jsonerr_message(const char *s, size_t n, enum json_tokener_error jerr,
		     size_t p, bool at_end, char *err, size_t len);
/* Where s has a single quote outside any string (json-c takes 'key' as
 * an object key even in strict mode; JSON.parse does not), else n. */
size_t jsonerr_single_quote(const char *s, size_t n);
/* JavaScript's position of byte b of s: UTF-16 code units before it. */
size_t jsonerr_units(const char *s, size_t b);

#endif
