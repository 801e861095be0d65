/*
 * app: the state one process keeps across requests: the store, the schema
 * (rebuilt when the database's schema counter moves), the compiled
 * workflows (likewise, by the workflow counter), and the configuration
 * read once from the environment at start.
 */
#ifndef FLOWCGI_APP_H
#define FLOWCGI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "schema.h"
#include "store.h"

struct memo;

struct app_config {
	char *db_path;
	long long max_body;     /* FLOWCGI_MAX_BODY */
	long long loop_limit;   /* FLOWCGI_LOOP_LIMIT */
	long long step_limit;   /* FLOWCGI_STEP_LIMIT */
	long long sync_timeout; /* FLOWCGI_SYNC_TIMEOUT_MS */
	long long idem_ttl;     /* FLOWCGI_IDEMPOTENCY_TTL, seconds */
};

struct app {
	struct app_config cfg;
	struct store *st;         /* NULL or not initialised: see db_err */
	int db_err;               /* 0, or APP_EDB_UNINIT */
	char db_msg[512];
	struct schema *schema;
	int64_t wf_version;       /* the workflow counter, read per request */
	void *wf_cache;           /* the engine's compiled workflows */
	void (*wf_cache_free)(void *);
	int64_t sec_version;
	struct memo *principals;  /* token -> verified principal */
	struct memo *decisions;   /* role/collection/action -> ACL answer */
	char *app_key;            /* token signing key bytes */
	size_t app_key_len;
	char worker[64];          /* "pid:starttime": who claims executions */
	bool queued;              /* this process queued asynchronous work */
};

/* The most FLOWCGI_STEP_LIMIT may be: job ids hold an execution's job
 * number in 20 bits (api_executions.c asserts the fit). */
#define APP_STEP_LIMIT_MAX 500000

/* Default database path when neither --db nor FLOWCGI_DB is given. */
#define APP_DEFAULT_DB "/var/lib/flowcgi/flowcgi.db"

/* Read the environment; db_path (from --db) wins over FLOWCGI_DB. */
void app_config_load(struct app_config *cfg, const char *db_path);
/* Open the database for serving.  A missing or uninitialised database is
 * not fatal: db_err says so and every request answers 503. */
void app_open(struct app *a, const struct app_config *cfg);
void app_close(struct app *a);
/* (Re)open a database that was not ready: APP_EDB_UNINIT with db_msg
 * naming the file when it still is not. */
int app_ready(struct app *a);
/* Called at the start of each request, inside its transaction: rebuild
 * the schema and drop caches when another process changed what they
 * derive from. */
int app_refresh(struct app *a);
/* Rebuild the schema now (after this process changed it). */
int app_reload_schema(struct app *a);

#endif
