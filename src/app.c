/* app: see app.h. */
#include "app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "memo.h"
#include "util.h"

static long long env_ll(const char *name, long long dflt)
{
	const char *v = getenv(name);
	int64_t n;
	if (!v || !*v)
		return dflt;
	if (util_parse_int64(v, &n) || n <= 0) {
		log_error("ignoring %s=%s: not a positive integer", name, v);
		return dflt;
	}
	return n;
}

void app_config_load(struct app_config *cfg, const char *db_path)
{
	const char *env_db = getenv("FLOWCGI_DB");
	memset(cfg, 0, sizeof(*cfg));
	cfg->db_path = strdup(db_path ? db_path
				      : (env_db && *env_db ? env_db
							   : APP_DEFAULT_DB));
	cfg->max_body = env_ll("FLOWCGI_MAX_BODY", 8388608);
	cfg->loop_limit = env_ll("FLOWCGI_LOOP_LIMIT", 10000);
	cfg->step_limit = env_ll("FLOWCGI_STEP_LIMIT", 100000);
	if (cfg->step_limit > APP_STEP_LIMIT_MAX)
		cfg->step_limit = APP_STEP_LIMIT_MAX;
	cfg->sync_timeout = env_ll("FLOWCGI_SYNC_TIMEOUT_MS", 30000);
	cfg->idem_ttl = env_ll("FLOWCGI_IDEMPOTENCY_TTL", 86400);
}

/* A stored raw secret: app_secret_hex holds its bytes as hex (a NocoBase
 * jwt_secret.dat moved by import nocobase: 32 random bytes, NULs among
 * them).  Empty or not hex: none. */
static bool load_raw_key(struct app *a)
{
	char *hex = NULL;
	size_t n;
	if (store_meta_get(a->st, "app_secret_hex", &hex) || !hex)
		return false;
	n = strlen(hex) / 2;
	a->app_key = util_xmalloc(n + 1);
	if (!n || util_unhex(hex, strlen(hex), (unsigned char *)a->app_key)) {
		free(a->app_key);
		a->app_key = NULL;
		free(hex);
		return false;
	}
	a->app_key_len = n;
	free(hex);
	return true;
}

/* The key tokens are signed with: FLOWCGI_APP_KEY wins over the stored
 * secret; both are used as the bytes of the string (contract §2), except
 * a raw stored secret, which is its bytes. */
static void load_key(struct app *a)
{
	const char *env = getenv("FLOWCGI_APP_KEY");
	char *stored = NULL;
	free(a->app_key);
	a->app_key = NULL;
	a->app_key_len = 0;
	if (env && *env) {
		a->app_key = strdup(env);
	} else if (load_raw_key(a)) {
		return;
	} else if (!store_meta_get(a->st, "app_secret", &stored) && stored) {
		a->app_key = stored;
	}
	a->app_key_len = a->app_key ? strlen(a->app_key) : 0;
}

static void open_db(struct app *a)
{
	int version = 0;
	int rc = store_open(a->cfg.db_path, false, &a->st);
	if (!rc)
		rc = store_user_version(a->st, &version);
	/* store_path names a URI's server, never its password. */
	if (!rc && version == 0) {
		rc = APP_EDB_UNINIT;
		snprintf(a->db_msg, sizeof(a->db_msg),
			 "database %s is not initialised (run: flowcgi.fcgi "
			 "init --db %s)",
			 store_path(a->st),
			 store_is_uri(a->cfg.db_path) ? "<its URI>"
						      : a->cfg.db_path);
	} else if (rc) {
		snprintf(a->db_msg, sizeof(a->db_msg), "%s",
			 store_errmsg(a->st));
	}
	if (rc) {
		a->db_err = rc;
		log_error("%s", a->db_msg);
		store_close(a->st);
		a->st = NULL;
		return;
	}
	a->db_err = 0;
	load_key(a);
}

void app_open(struct app *a, const struct app_config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	a->wf_version = -1;
	a->sec_version = -1;
	a->principals = memo_new();
	a->decisions = memo_new();
	snprintf(a->worker, sizeof(a->worker), "%d:%lld", (int)getpid(),
		 (long long)util_now_ms());
	open_db(a);
}

void app_close(struct app *a)
{
	if (a->wf_cache_free)
		a->wf_cache_free(a->wf_cache);
	memo_free(a->principals);
	memo_free(a->decisions);
	schema_free(a->schema);
	store_close(a->st);
	free(a->app_key);
	free(a->cfg.db_path);
	memset(a, 0, sizeof(*a));
}

int app_reload_schema(struct app *a)
{
	json_object *defs = NULL;
	struct schema *s = NULL;
	int64_t sv = 0, wv = 0, secv = 0;
	char err[256];
	int rc = store_counters(a->st, &sv, &wv, &secv);

	if (!rc)
		rc = store_defs_load(a->st, &defs);
	if (!rc && schema_build(defs, sv, &s, err, sizeof(err))) {
		log_error("schema: %s", err);
		rc = APP_EINTERNAL;
	}
	json_object_put(defs);
	if (rc)
		return rc;
	schema_free(a->schema);
	a->schema = s;
	return 0;
}

int app_ready(struct app *a)
{
	if (a->st && store_stale(a->st) && !store_in_txn(a->st)) {
		store_close(a->st);
		a->st = NULL;
	}
	if (!a->st)
		open_db(a);
	return a->st ? 0 : a->db_err;
}

int app_refresh(struct app *a)
{
	int64_t sv, wv, secv;
	int rc;

	if (!a->st)
		open_db(a);
	if (!a->st)
		return a->db_err;
	if ((rc = store_counters(a->st, &sv, &wv, &secv)))
		return rc;
	if (secv != a->sec_version) {
		memo_clear(a->principals);
		memo_clear(a->decisions);
		a->sec_version = secv;
	}
	if (!a->schema || a->schema->version != sv)
		if ((rc = app_reload_schema(a)))
			return rc;
	a->wf_version = wv; /* the engine's cache compares */
	return 0;
}
