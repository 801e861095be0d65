/* wf_nodes_more: placeholder until the control-flow nodes land. */
#include "wf_nodes.h"

const struct wf_node_type *wf_node_type_more(const char *name)
{
	(void)name;
	return NULL;
}
