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
/* For a text json-c took: true when it breaks a rule JSON.parse keeps (a
 * single-quoted key, a raw control character in a string, a number such
 * as "01", "1." or "1e"), with JSON.parse's message in err. */
bool jsonerr_strict(const char *s, size_t n, char *err, size_t len);
/* JavaScript's position of byte b of s: UTF-16 code units before it. */
size_t jsonerr_units(const char *s, size_t b);

#endif
