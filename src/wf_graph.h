/*
 * wf_graph: editing the stored node graph of a workflow version (contract
 * §7, as NocoBase does): a node is inserted as the head, after a node, or
 * as the first node of a branch, and the node it displaces moves behind
 * it; a deleted node's downstream takes its place and its branches go
 * with it.  A version that has executed is frozen.  Errors come back in
 * the rctx, never as HTTP.
 */
#ifndef FLOWCGI_WF_GRAPH_H
#define FLOWCGI_WF_GRAPH_H

#include <json-c/json.h>
#include <stdint.h>

#include "records.h"

/* A node of type with config may be saved (type known, config valid). */
int wf_graph_check(struct rctx *x, const char *type, json_object *config);
/* Insert a node into version wid from values (type, title, config,
 * upstreamId, branchIndex); *id gets its id. */
int wf_graph_insert(struct rctx *x, int64_t wid, json_object *values,
		    int64_t *id);
/* Set a node's title and config (node: its row). */
int wf_graph_update(struct rctx *x, json_object *node, json_object *values);
/* Delete a node and every node of its branches, relinking its chain. */
int wf_graph_remove(struct rctx *x, json_object *node);
/* One node row by id (new ref), or NULL. */
json_object *wf_graph_get(struct rctx *x, int64_t id);

#endif
