/*
 * jsonx: thin helpers over json-c.
 *
 * Ownership (json-c's rules, restated once): json_object_object_get_ex and
 * json_object_array_get_idx borrow; adding a value to a parent transfers
 * the caller's reference; json_object_put(NULL) is a no-op.  A request
 * keeps its parsed body and its response payload as roots and puts both
 * when it ends.
 */
#ifndef FLOWCGI_JSONX_H
#define FLOWCGI_JSONX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

#define JSONX_MAX_DEPTH LIMIT_JSON_DEPTH

/* Parse exactly n bytes of strict JSON (UTF-8 checked, nothing trailing,
 * at most max_depth levels).  On failure returns -1 and writes a message
 * naming the problem and its byte position into err. */
int jsonx_parse(const char *s, size_t n, int max_depth, json_object **out,
		char *err, size_t errlen);
/* Free the parsers jsonx_parse keeps (at process exit). */
void jsonx_cleanup(void);
/* Serialise without escaping '/' (NocoBase prints "a/b"). Borrowed text
 * valid until o changes or is freed. */
const char *jsonx_str(json_object *o);
/* For a value shared read-only from now on: keep its JSON text, so that
 * every later serialisation of a document that holds it copies the text
 * instead of walking it again (json-c's userdata serializer; a deep copy
 * copies the text too).  The value must not change afterwards. */
void jsonx_freeze(json_object *o);

/* Member lookup that tells a missing key (NULL) from JSON null: a present
 * null sets *present. */
json_object *jsonx_get(json_object *obj, const char *key);
bool jsonx_has(json_object *obj, const char *key);
/* String member or NULL when absent or not a string. */
const char *jsonx_get_str(json_object *obj, const char *key);
/* Integer member; returns false when absent or not an integer (a string of
 * digits counts, as qs values are strings). */
bool jsonx_get_int(json_object *obj, const char *key, int64_t *out);
/* Boolean with JS truthiness; dflt when absent. */
bool jsonx_get_bool(json_object *obj, const char *key, bool dflt);

/* A number, stored as an int64 when integral, else as a double that
 * prints as JavaScript prints it. */
json_object *jsonx_number(double d);
/* A new reference to o (json_object_get), NULL-safe. */
json_object *jsonx_ref(json_object *o);
/* Deep copy (NULL stays NULL). */
json_object *jsonx_copy(json_object *o);
/* JavaScript truthiness of a JSON value (NULL = undefined = false). */
bool jsonx_truthy(json_object *o);
/* Numeric value with JS Number() semantics; false when not convertible
 * (NaN). */
bool jsonx_to_double(json_object *o, double *out);
/* Integral value of a number or of a string of digits. */
bool jsonx_to_int64(json_object *o, int64_t *out);
/* JS String(v) into a new malloc'd string: null → "null" unless
 * null_empty, numbers as JS prints them, arrays comma-joined, objects
 * "[object Object]". */
char *jsonx_to_js_string(json_object *o, bool null_empty);
/* Deep equality (numbers compared by value). */
bool jsonx_equal(json_object *a, json_object *b);
/* Shallow overlay: copy every key of src into dst (dst must be an object). */
void jsonx_overlay(json_object *dst, json_object *src);
/* lodash get: dotted path with numeric array indexes; NULL when missing.
 * Borrowed. */
json_object *jsonx_path(json_object *root, const char *path);

#endif
