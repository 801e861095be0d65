/*
 * wf_node_jsonq: the json-query instruction (plugin-workflow-json-query):
 * the jmespath subset of wf_jsonq over a rendered source, then an
 * optional model that maps the result.  jsonpathplus and jsonata are
 * refused when the node is saved.
 */
#include "wf_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_jsonq.h"

/* ---- json-query ---- */

int wf_node_jsonq_validate(struct app *a, json_object *c, char *err, size_t n)
{
	json_object *eng = jsonx_get(c, "engine"), *model = jsonx_get(c, "model");
	char label[80];

	if (jsonx_has(c, "engine")) {
		if (wf_check_string(eng, "engine", err, n))
			return -1;
		if (strcmp(json_object_get_string(eng), "jmespath")) {
			snprintf(err, n, "json-query engine \"%.64s\" is not "
					 "supported: flowcgi implements jmespath "
					 "only",
				 json_object_get_string(eng));
			return -1;
		}
	}
	if (jsonx_has(c, "expression") &&
	    !json_object_is_type(jsonx_get(c, "expression"), json_type_string)) {
		snprintf(err, n, "\"expression\" must be a string");
		return -1;
	}
	if (!jsonx_has(c, "model") || !model)
		return 0;
	if (wf_check_array(model, "model", err, n))
		return -1;
	for (size_t i = 0; i < json_object_array_length(model); i++) {
		json_object *it = json_object_array_get_idx(model, i);
		json_object *alias = jsonx_get(it, "alias");
		snprintf(label, sizeof(label), "model[%zu]", i);
		if (wf_check_object(it, label, err, n))
			return -1;
		snprintf(label, sizeof(label), "model[%zu].path", i);
		if (wf_check_string(jsonx_get(it, "path"), label, err, n))
			return -1;
		if (alias && !json_object_is_type(alias, json_type_string)) {
			snprintf(err, n, "\"model[%zu].alias\" must be a string", i);
			return -1;
		}
	}
	return 0;
}

/* An array index as JS writes it: "0", "12", not "01" or "+1". */
static bool array_index(const char *s, size_t len, size_t *out)
{
	size_t i = 0;
	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 18)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		i = i * 10 + (size_t)(*p - '0');
	}
	*out = i;
	return i < len;
}

/* A string's length or character as JS counts them (UTF-16 units); a
 * half of a character outside the BMP is undefined here. */
static json_object *string_step(json_object *v, const char *seg, bool *found)
{
	const unsigned char *s = (const unsigned char *)json_object_get_string(v);
	size_t units = 0, want;
	bool length = !strcmp(seg, "length");

	if (!length && !array_index(seg, SIZE_MAX, &want))
		return NULL;
	while (*s) {
		size_t len = *s < 0x80 ? 1 : *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : 4;
		if (!length && units == want && len < 4) {
			*found = true;
			return json_object_new_string_len((const char *)s, (int)len);
		}
		units += len == 4 ? 2 : 1;
		for (size_t k = 0; k < len && *s; k++)
			s++;
	}
	if (!length)
		return NULL;
	*found = true;
	return json_object_new_int64((int64_t)units);
}

/* One segment of v as lodash get() steps: an object's key, an array's
 * index or its length, a string's.  New ref; *found false for undefined. */
static json_object *step(json_object *v, const char *seg, bool *found)
{
	json_object *out = NULL;
	size_t i;
	*found = false;
	if (json_object_is_type(v, json_type_string))
		return string_step(v, seg, found);
	if (json_object_is_type(v, json_type_object)) {
		*found = json_object_object_get_ex(v, seg, &out);
	} else if (json_object_is_type(v, json_type_array)) {
		size_t len = json_object_array_length(v);
		if (!strcmp(seg, "length")) {
			*found = true;
			return json_object_new_int64((int64_t)len);
		}
		if (array_index(seg, len, &i)) {
			*found = true;
			out = json_object_array_get_idx(v, i);
		}
	}
	return jsonx_ref(out);
}

/* lodash get(v, path): the whole path when v has it as a key, else the
 * segments of a.b, a[0], a["b"].  New ref; *found false for undefined. */
static json_object *model_get(json_object *v, const char *path, bool *found)
{
	json_object *cur;
	char seg[256];

	if (json_object_is_type(v, json_type_object) &&
	    json_object_object_get_ex(v, path, &cur)) {
		*found = true;
		return jsonx_ref(cur);
	}
	cur = jsonx_ref(v);
	*found = true;
	for (const char *p = path; *p && *found;) {
		size_t len;
		char q = 0;
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			p++;
			if (*p == '"' || *p == '\'')
				q = *p++;
			len = q ? (size_t)(strchrnul(p, q) - p) : strcspn(p, "]");
		} else {
			len = strcspn(p, ".[");
		}
		if (len >= sizeof(seg)) {
			*found = false;
			break;
		}
		memcpy(seg, p, len);
		seg[len] = 0;
		p += len;
		if (q && *p)
			p++;
		if (*p == ']')
			p++;
		json_object *next = step(cur, seg, found);
		json_object_put(cur);
		cur = next;
	}
	if (!*found) {
		json_object_put(cur);
		return NULL;
	}
	return cur;
}

/* mapModel(): {alias or path with "." as "_": get(data, path)}; keys whose
 * value is undefined are left out (JSON.stringify drops them). */
static json_object *map_model(json_object *data, json_object *model)
{
	json_object *out = json_object_new_object();
	bool objectish = json_object_is_type(data, json_type_object) ||
			 json_object_is_type(data, json_type_array);

	for (size_t i = 0; objectish && i < json_object_array_length(model); i++) {
		json_object *it = json_object_array_get_idx(model, i);
		const char *path = jsonx_get_str(it, "path");
		json_object *alias = jsonx_get(it, "alias");
		char *key;
		bool found;
		if (!path)
			continue;
		if (jsonx_truthy(alias)) {
			key = jsonx_to_js_string(alias, false);
		} else {
			key = util_xstrdup(path);
			for (char *k = key; *k; k++)
				if (*k == '.')
					*k = '_';
		}
		json_object *v = model_get(data, path, &found);
		if (found)
			json_object_object_add(out, key, v);
		else
			json_object_object_del(out, key);
		free(key);
	}
	return out;
}

void wf_node_jsonq_run(struct wf_exec *e, const struct wf_node *n, int job,
		  int *status, json_object **result)
{
	json_object *cfg = n->config, *model = jsonx_get(cfg, "model");
	json_object *src = NULL, *xv = NULL, *out = NULL;
	char *expr = NULL, err[512];

	*result = NULL;
	/* Saved configs passed this already; a config that did not (a
	 * database edited by hand) fails here rather than half-works. */
	if (wf_node_jsonq_validate(NULL, cfg, err, sizeof(err)))
		goto fail;
	/* NocoBase renders source (default "") and expression (default "")
	 * together with the variables. */
	src = jsonx_has(cfg, "source") ? wf_exec_render(e, jsonx_get(cfg, "source"))
				       : json_object_new_string("");
	xv = wf_exec_render(e, jsonx_truthy(jsonx_get(cfg, "expression"))
				  ? jsonx_get(cfg, "expression")
				  : NULL);
	expr = xv ? jsonx_to_js_string(xv, false) : util_xstrdup("");
	if (wf_jsonq_eval(src, expr, &out, err, sizeof(err)))
		goto fail;
	bool mapped = json_object_is_type(model, json_type_array) &&
		      json_object_array_length(model);
	if (mapped && json_object_is_type(out, json_type_array)) {
		json_object *list = json_object_new_array();
		size_t len = json_object_array_length(out);
		for (size_t i = 0; i < len; i++) {
			json_object *it = json_object_array_get_idx(out, i);
			json_object_array_add(list, map_model(it, model));
		}
		json_object_put(out);
		out = list;
	} else if (mapped && json_object_is_type(out, json_type_object)) {
		json_object *one = map_model(out, model);
		json_object_put(out);
		out = one;
	}
	*status = WF_RESOLVED;
	*result = out;
	goto out;
fail:
	/* As NocoBase: result null, the error in the job's log. */
	*status = WF_ERROR;
	wf_exec_job_log(e, job, err);
	if (!e->error[0]) {
		e->error_node = n;
		snprintf(e->error, sizeof(e->error), "json-query failed: %.400s",
			 err);
	}
out:
	free(expr);
	json_object_put(xv);
	json_object_put(src);
}

