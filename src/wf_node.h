/*
 * wf_node: the node type table (see wf.h for the interface of a type).
 */
#ifndef FLOWCGI_WF_NODE_H
#define FLOWCGI_WF_NODE_H

#include <stddef.h>

#include "wf.h"

/* The type named name, or NULL when flowcgi has no such instruction. */
const struct wf_node_type *wf_node_type(const char *name);
/* Every type, in table order; *n gets the count. */
const struct wf_node_type *wf_node_types(size_t *n);

#endif
