/*
 * wf_jsonq: the json-query node's JMESPath engine (a subset of the
 * JMESPath specification, with its null propagation).
 *
 * Supported:
 *   identifiers foo, "quoted identifiers", sub-expressions a.b.c,
 *   @ (current node), indexes [0] and [-1], slices [start:stop:step],
 *   list projections [*] and a[*].b, object projections * and a.*.b,
 *   flatten [] (one level), filter projections [?expr],
 *   comparisons == != (any values, numbers by value) and < <= > >=
 *   (numbers only, otherwise null), && || ! (JMESPath truthiness: "",
 *   [], {}, false and null are false), parentheses, pipes a | b,
 *   multi-select lists [a, b] and hashes {x: a, y: b}, literals
 *   `json`, 'raw string', and expression references &expr.
 * Functions: abs avg ceil contains ends_with floor join keys length map
 *   max max_by merge min min_by not_null reverse sort sort_by
 *   starts_with sum to_array to_number to_string type values.
 *   Wrong argument types or counts are errors ("invalid-type: ...",
 *   "invalid-arity: ..."), as the specification requires.
 * Not supported: slicing strings, let-expressions, arithmetic and other
 * extensions.  A `literal` that is not valid JSON is taken as a string
 * (JMESPath's deprecated legacy form).
 *
 * Limits: expressions up to WF_JSONQ_MAX_LEN bytes and WF_JSONQ_MAX_DEPTH
 * levels of nesting, WF_JSONQ_MAX_STEPS evaluation steps, strings built
 * by join/to_string up to WF_JSONQ_MAX_STR bytes.
 */
#ifndef FLOWCGI_WF_JSONQ_H
#define FLOWCGI_WF_JSONQ_H

#include <json-c/json.h>
#include <stddef.h>

#define WF_JSONQ_MAX_LEN 16384
#define WF_JSONQ_MAX_DEPTH 64
#define WF_JSONQ_MAX_STEPS 2000000L
#define WF_JSONQ_MAX_STR (4u << 20)

/* Evaluate expression against source (borrowed).  Returns 0 with a new
 * reference in *out (NULL for JSON null), or -1 with a message in err,
 * e.g. "Syntax error at position 3: unexpected end of expression". */
int wf_jsonq_eval(json_object *source, const char *expression,
		  json_object **out, char *err, size_t errlen);

#endif
