/*
 * wf_node: the one table of node types (reference §6): the type name a
 * node is stored with, the check of its config when it is saved, and the
 * instruction that runs it.  A flow binds each node to its row here when
 * it is loaded; the interpreter calls it through the row.
 */
#include "wf_node.h"

#include <string.h>

#include "wf_int.h"

static int any_validate(struct app *a, json_object *c, char *err, size_t n)
{
	return 0;
}

static const struct wf_node_type types[] = {
	{"calculation", wf_node_calc_validate, wf_node_calc_run},
	{"condition", wf_node_cond_validate, wf_node_cond_run},
	{"multi-conditions", wf_node_mc_validate, wf_node_mc_run},
	{"loop", wf_node_loop_validate, wf_node_loop_run},
	{"parallel", wf_node_parallel_validate, wf_node_parallel_run},
	{"query", wf_node_data_validate, wf_node_query_run},
	{"create", wf_node_data_validate, wf_node_create_run},
	{"update", wf_node_data_validate, wf_node_update_run},
	{"destroy", wf_node_data_validate, wf_node_destroy_run},
	{"end", wf_node_end_validate, wf_node_end_run},
	{"output", any_validate, wf_node_output_run},
	{"variable", wf_node_var_validate, wf_node_var_run},
	{"response-message", wf_node_msg_validate, wf_node_msg_run},
	{"request", wf_node_request_validate, wf_node_request_run},
	{"json-query", wf_node_jsonq_validate, wf_node_jsonq_run},
};

const struct wf_node_type *wf_node_type(const char *name)
{
	for (size_t i = 0; name && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].name, name))
			return &types[i];
	return NULL;
}

const struct wf_node_type *wf_node_types(size_t *n)
{
	*n = sizeof(types) / sizeof(types[0]);
	return types;
}
