/*
 * wf_check: the checks instructions make on a node's config when it is
 * saved.  NocoBase validates node configs with Joi (allowUnknown, every
 * error reported); these give Joi's message for the first error, with
 * Joi's conversions: a number may be given as a numeric string, a boolean
 * as "true"/"false" in any case.
 */
#include "wf_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "limits.h"
#include "store_filter.h"

#define JOI_MAX_SAFE 9007199254740991.0 /* Number.MAX_SAFE_INTEGER */

int wf_check_string(json_object *v, const char *label, char *err, size_t n)
{
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(err, n, "\"%s\" must be a string", label);
		return -1;
	}
	if (!json_object_get_string_len(v)) {
		snprintf(err, n, "\"%s\" is not allowed to be empty", label);
		return -1;
	}
	return 0;
}

int wf_check_boolean(json_object *v, const char *label, char *err, size_t n)
{
	const char *s = json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: NULL;
	if (json_object_is_type(v, json_type_boolean) ||
	    (s && (!strcasecmp(s, "true") || !strcasecmp(s, "false"))))
		return 0;
	snprintf(err, n, "\"%s\" must be a boolean", label);
	return -1;
}

int wf_check_array(json_object *v, const char *label, char *err, size_t n)
{
	if (json_object_is_type(v, json_type_array))
		return 0;
	snprintf(err, n, "\"%s\" must be an array", label);
	return -1;
}

int wf_check_object(json_object *v, const char *label, char *err, size_t n)
{
	if (json_object_is_type(v, json_type_object))
		return 0;
	snprintf(err, n, "\"%s\" must be of type object", label);
	return -1;
}

/* Joi's number coercion of a string: [+-]digits[.digits][e[+-]digits]
 * between optional blanks. */
static bool numeric_string(const char *s, double *out)
{
	const char *p = s;
	bool digits = false;

	while (isspace((unsigned char)*p))
		p++;
	const char *start = p;
	if (*p == '+' || *p == '-')
		p++;
	while (isdigit((unsigned char)*p))
		p++, digits = true;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits = true;
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return false;
	*out = strtod(start, NULL);
	return true;
}

int wf_check_number(json_object *v, const char *label, double *out, char *err,
		  size_t n)
{
	double d = 0;
	if (json_object_is_type(v, json_type_int) ||
	    json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
	} else if (!json_object_is_type(v, json_type_string) ||
		   !numeric_string(json_object_get_string(v), &d)) {
		snprintf(err, n, "\"%s\" must be a number", label);
		return -1;
	}
	if (!isfinite(d) || fabs(d) > JOI_MAX_SAFE) {
		snprintf(err, n, "\"%s\" must be a safe number", label);
		return -1;
	}
	*out = d;
	return 0;
}

int wf_check_oneof(json_object *v, const char *label, const char *const *valid,
		 char *err, size_t n)
{
	const char *s = json_object_is_type(v, json_type_string)
				? json_object_get_string(v)
				: NULL;
	size_t used;
	for (int i = 0; s && valid[i]; i++)
		if (!strcmp(s, valid[i]))
			return 0;
	used = (size_t)snprintf(err, n, "\"%s\" must be one of [", label);
	for (int i = 0; valid[i] && used < n; i++)
		used += (size_t)snprintf(err + used, n - used, "%s%s",
					 i ? ", " : "", valid[i]);
	if (used < n)
		snprintf(err + used, n - used, "]");
	return -1;
}

/* ---- collections ---- */

const char *wf_check_collection_name(const char *name, char *err, size_t errlen)
{
	if (!name || !*name) {
		snprintf(err, errlen, "Collection is not configured");
		return NULL;
	}
	const char *colon = strchr(name, ':');
	if (colon) {
		if ((size_t)(colon - name) != 4 || strncmp(name, "main", 4)) {
			snprintf(err, errlen, "Data source \"%.*s\" does not exist",
				 (int)(colon - name), name);
			return NULL;
		}
		return colon + 1;
	}
	return name;
}

int wf_check_collection(struct app *a, json_object *config, char *err,
			size_t errlen)
{
	const char *raw = jsonx_get_str(config, "collection");
	const char *name = wf_check_collection_name(raw, err, errlen);
	if (!name)
		return -1;
	if (!schema_coll(a->schema, name)) {
		snprintf(err, errlen,
			 "Collection \"%s\" does not exist in data source "
			 "\"main\"",
			 name);
		return -1;
	}
	return 0;
}

int wf_check_type(json_object *config, const char *key,
		      enum json_type t, const char *what, char *err,
		      size_t errlen)
{
	json_object *v = jsonx_get(config, key);
	if (!v || json_object_is_type(v, t))
		return 0;
	snprintf(err, errlen, "\"%s\" must be %s", key, what);
	return -1;
}

/* The input limits inside a saved config: its strings (expressions,
 * templates), every "filter" and "appends" in it.  A config over a limit
 * is refused when saved, not when it runs. */
int wf_check_bounds(json_object *v, char *err, size_t n)
{
	int rc = 0;
	switch (json_object_get_type(v)) {
	case json_type_string:
		if (json_object_get_string_len(v) > LIMIT_CONFIG_STRING) {
			snprintf(err, n, "a text of %d bytes, more than %d",
				 json_object_get_string_len(v),
				 LIMIT_CONFIG_STRING);
			return APP_EINPUT_LIMIT;
		}
		return 0;
	case json_type_array:
		for (size_t i = 0; !rc && i < json_object_array_length(v); i++)
			rc = wf_check_bounds(json_object_array_get_idx(v, i),
					     err, n);
		return rc;
	case json_type_object:
		break;
	default:
		return 0;
	}
	json_object_object_foreach(v, k, m) {
		if (!strcmp(k, "filter") &&
		    (rc = store_filter_bounds(m, err, n)))
			return rc;
		if (!strcmp(k, "appends") &&
		    json_object_is_type(m, json_type_array) &&
		    json_object_array_length(m) > LIMIT_APPENDS) {
			snprintf(err, n, "more than %d appends", LIMIT_APPENDS);
			return APP_EINPUT_LIMIT;
		}
		if ((rc = wf_check_bounds(m, err, n)))
			return rc;
	}
	return 0;
}
