/*
 * wf_version: workflow versions (reference §4): the rows of `workflows`,
 * one key with several versions of which one is current; a version that
 * has executed is frozen (contract §7) and changes through a copy.  Every
 * change bumps the workflow counter so that each process reloads its
 * compiled workflows.  Errors come back in the rctx (code, message,
 * reason), never as HTTP.
 */
#ifndef FLOWCGI_WF_VERSION_H
#define FLOWCGI_WF_VERSION_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "records.h"

/* The trigger types flowcgi runs (custom-action, webhook). */
bool wf_version_type_known(const char *type);
/* The fields of a workflow a client may set. */
extern const char *const wf_version_fields[];

/* The NocoBase messages a trigger config breaks, one per problem (new
 * ref, an array, empty when the config is fine).  A "main:" prefix of
 * config.collection is dropped in place (contract §7). */
json_object *wf_version_check_config(struct app *a, json_object *config);
/* The same for a webhook workflow's config (secret, scheme, tolerance). */
json_object *wf_version_check_webhook(json_object *config);
/* What workflows:get and list show of a webhook's secret. */
#define WF_VERSION_SECRET_MASK "********"
/* Mask the secret of webhook rows (an object or an array). */
void wf_version_mask_secret(json_object *rows);
/* A config sent back with the mask keeps row's stored secret. */
void wf_version_keep_secret(json_object *row, json_object *values);
/* A client-given key: ^[A-Za-z0-9_][A-Za-z0-9_-]*$, at most 64 bytes. */
bool wf_version_key_valid(const char *key);

/* Create a workflow from picked values (type already checked); a new
 * key's first version is current; enabled makes it the current one. */
int wf_version_create(struct rctx *x, json_object *values, int64_t *id);
/* A config change of an executed version (row as read, with its counts)
 * is APP_EWF_EXECUTED. */
int wf_version_may_update(struct rctx *x, json_object *row, json_object *values);
/* Update version row with values (checked as above); enabling makes it
 * the current version of its key. */
int wf_version_update(struct rctx *x, json_object *row, json_object *values);
/* Delete a version and its nodes. */
int wf_version_destroy(struct rctx *x, int64_t id);
/* Copy version src (a row) and its nodes into a new, disabled version of
 * the same key, with over's fields; *new_id gets its id. */
int wf_version_copy(struct rctx *x, json_object *src, json_object *over,
		    int64_t *new_id);
/* APP_EWF_EXECUTED with message when version wid has executed;
 * APP_ERECORD_NOT_FOUND when it does not exist. */
int wf_version_frozen(struct rctx *x, int64_t wid, const char *message);
/* Set executed / allExecuted of workflow rows (an object or an array). */
void wf_version_counts(struct rctx *x, json_object *rows);
/* One version row by id with its counts (new ref), or NULL. */
json_object *wf_version_get(struct rctx *x, int64_t id);
/* Tell every process the workflows changed. */
int wf_version_bump(struct rctx *x);

#endif
