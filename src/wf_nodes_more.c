/*
 * wf_nodes_more: the table of the branching and integration instructions
 * (wf_node_type() falls back to it) and the Joi-style config checks they
 * share.
 */
#include "wf_nodes_more.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

#define JOI_MAX_SAFE 9007199254740991.0 /* Number.MAX_SAFE_INTEGER */

int wf_joi_string(json_object *v, const char *label, char *err, size_t n)
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

int wf_joi_boolean(json_object *v, const char *label, char *err, size_t n)
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

int wf_joi_array(json_object *v, const char *label, char *err, size_t n)
{
	if (json_object_is_type(v, json_type_array))
		return 0;
	snprintf(err, n, "\"%s\" must be an array", label);
	return -1;
}

int wf_joi_object(json_object *v, const char *label, char *err, size_t n)
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

int wf_joi_number(json_object *v, const char *label, double *out, char *err,
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

int wf_joi_valid(json_object *v, const char *label, const char *const *valid,
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

static const struct wf_node_type more_types[] = {
	{"multi-conditions", wf_mc_validate, wf_mc_run},
	{"loop", wf_loop_validate, wf_loop_run},
	{"parallel", wf_parallel_validate, wf_parallel_run},
	{"request", wf_request_validate, wf_request_run},
	{"json-query", wf_jsonq_validate, wf_jsonq_run},
};

const struct wf_node_type *wf_node_type_more(const char *name)
{
	for (size_t i = 0; i < sizeof(more_types) / sizeof(more_types[0]); i++)
		if (!strcmp(more_types[i].name, name))
			return &more_types[i];
	return NULL;
}
