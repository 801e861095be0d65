/*
 * wf_nodes: the instruction table (see wf.h for the interface) and the
 * helpers instructions share.
 */
#ifndef FLOWCGI_WF_NODES_H
#define FLOWCGI_WF_NODES_H

#include "wf.h"

/* {"message": msg} (new ref): the result of a failed job. */
json_object *wf_error_result(const char *msg);
/* "posts" or "main:posts" -> "posts"; NULL with err for another data
 * source or an empty name. */
const char *wf_collection_name(const char *name, char *err, size_t errlen);
/* config.collection names an existing collection of "main". */
int wf_check_collection(struct app *a, json_object *config, char *err,
			size_t errlen);
/* A condition's value (basic rule tree or expression engine). */
int wf_condition_eval(struct wf_exec *e, json_object *config,
		      json_object **value, char *err, size_t errlen);
/* The instructions of wf_nodes_flow.c / wf_nodes_ext.c (NULL: none). */
const struct wf_node_type *wf_node_type_more(const char *name);

#endif
