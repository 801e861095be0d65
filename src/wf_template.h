/*
 * wf_template: NocoBase JSON templates (reference §7) and the variable
 * path lookup behind them.
 *
 * A placeholder is "{{" one or more of [A-Za-z0-9_], whitespace and
 * ": - + . , @ / ( ) ? = * _ $" then "}}".  Its text is trimmed; text
 * after the first ':' is a default used when the value is null or
 * undefined (json-c cannot tell them apart); key and default are each
 * trimmed.  Expressions use the narrower grammar of NocoBase's evaluators:
 * "{{" spaces, [A-Za-z0-9_$.-]+, spaces "}}", no default.
 *
 * Rendering: a string that is exactly one placeholder becomes the raw
 * value (number, object, null...); placeholders inside a larger string
 * are replaced by the value's JS string (null/undefined -> "", arrays
 * comma-joined, objects "[object Object]").  Object keys are rendered as
 * strings.  The values are the references resolve returned, not copies.
 *
 * Limits: one render produces at most WF_TEMPLATE_MAX_OUT bytes of
 * rendered text; values nested deeper than WF_TEMPLATE_MAX_DEPTH are
 * copied unrendered.
 */
#ifndef FLOWCGI_WF_TEMPLATE_H
#define FLOWCGI_WF_TEMPLATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "wf_expr.h"

#define WF_TEMPLATE_MAX_OUT (8u << 20)
#define WF_TEMPLATE_MAX_DEPTH 64
#define WF_TEMPLATE_MAX_PATH 1024

enum wf_ph_grammar {
	WF_PH_TEMPLATE, /* json templates: wide charset, {{key:default}} */
	WF_PH_EXPR,	/* evaluators: {{ [\w$.-]+ }} */
};

struct wf_placeholder {
	size_t start, end;    /* offsets of "{{" and just past "}}" */
	size_t key, keylen;   /* trimmed key */
	bool has_default;
	size_t dflt, dfltlen; /* trimmed default text */
};

/* Find the first placeholder starting at or after `from` in s[0..len).
 * Returns true and fills *ph, or false when there is none. */
bool wf_template_scan(const char *s, size_t len, size_t from,
		      enum wf_ph_grammar g, struct wf_placeholder *ph);

/* Resolve a placeholder's key (and default) to a new reference or NULL.
 * Keys longer than WF_TEMPLATE_MAX_PATH resolve to undefined. */
json_object *wf_template_value(const char *s, const struct wf_placeholder *ph,
			       wf_resolve_fn resolve, void *ctx);

/* Render a config value (strings, object keys and values, arrays,
 * recursively).  Returns 0 with a new reference in *out, or -1 with a
 * message in err when the output would exceed WF_TEMPLATE_MAX_OUT. */
int wf_template_render_ex(json_object *tmpl, wf_resolve_fn resolve, void *ctx,
			  json_object **out, char *err, size_t errlen);
/* Same, returning the result (NULL also when the limit was hit). */
json_object *wf_template_render(json_object *tmpl, wf_resolve_fn resolve,
				void *ctx);
/* Render a string template to a new malloc'd string, always stringified
 * ("{{x}}" with x null gives "").  NULL when over WF_TEMPLATE_MAX_OUT. */
char *wf_template_render_str(const char *tmpl, wf_resolve_fn resolve,
			     void *ctx);

/* lodash get plus NocoBase's array "column" projection: a dotted path
 * (also a[0] and a["k"]) where numeric segments index arrays, "length"
 * of an array or string is its length, and any other segment applied to
 * an array maps over its elements and flattens one level
 * (tags.name -> ["a","b"]).  A key equal to the whole path wins, as in
 * lodash.  Returns a NEW reference, or NULL when undefined. */
json_object *wf_template_lookup(json_object *root, const char *path);

#endif
