/*
 * store_pg: the PostgreSQL backend's connection, errors, statement cache,
 * transactions, settings, counters and DDL.  Queries over collections live
 * in store_pg_query.c.
 *
 * Several web servers share one database: there is no site-wide write
 * lock.  A transaction is READ COMMITTED; inside a write transaction the
 * reads of user collections take row locks (FOR UPDATE), so a
 * read-modify-write through a workflow never loses an update while
 * unrelated rows stay free.  A statement waits at most the busy timeout
 * for a lock (lock_timeout); a session left idle inside a transaction by a
 * dead process is ended by the server after 60 s, which releases its
 * locks.  Statements are prepared once per connection, values bound as
 * text.  A URI's password never reaches a message: `where` names the
 * server.
 */
#include "store_pg_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "log.h"
#include "util.h"

#define STORE_PG_VERSION 1
#define IDLE_IN_TXN_TIMEOUT "60s"

const char *store_pg_errmsg(const struct store_pg *st)
{
	return st->errmsg;
}

const char *store_pg_path(const struct store_pg *st)
{
	return st->where;
}

int store_pg_failf(struct store_pg *st, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	if (st->depth > 0)
		st->failed = true;
	return err;
}

char *store_pg_where(const char *uri)
{
	PQconninfoOption *opts = PQconninfoParse(uri, NULL);
	const char *host = NULL, *port = NULL, *db = NULL;
	struct buf b = {0};
	char *out;

	for (PQconninfoOption *o = opts; o && o->keyword; o++) {
		if (!strcmp(o->keyword, "host") && o->val)
			host = o->val;
		else if (!strcmp(o->keyword, "hostaddr") && o->val && !host)
			host = o->val;
		else if (!strcmp(o->keyword, "port") && o->val)
			port = o->val;
		else if (!strcmp(o->keyword, "dbname") && o->val)
			db = o->val;
	}
	buf_printf(&b, "%s:%s/%s", host ? host : "localhost", port ? port : "5432",
		   db ? db : "");
	out = util_xstrdup(buf_str(&b));
	buf_free(&b);
	PQconninfoFree(opts);
	return out;
}

/* libpq's message on one line, without its trailing newline. */
static const char *one_line(const char *m, char *out, size_t n)
{
	size_t i = 0;
	for (; m && *m && i + 1 < n; m++)
		out[i++] = *m == '\n' ? ' ' : *m;
	while (i > 0 && out[i - 1] == ' ')
		i--;
	out[i] = 0;
	return out;
}

static int unavailable(struct store_pg *st, const char *why)
{
	char m[400];
	return store_pg_failf(st, APP_EDB_UNAVAILABLE,
			      "PostgreSQL at %s is unavailable: %s", st->where,
			      one_line(why, m, sizeof(m)));
}

/* The column a unique violation names: "Key (email)=(x) already exists." */
static int unique_violation(struct store_pg *st, PGresult *res)
{
	const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *open = d ? strchr(d, '(') : NULL;
	const char *close = open ? strchr(open, ')') : NULL;
	if (open && close)
		return store_pg_failf(st, APP_ECONFLICT, "%.*s must be unique",
				      (int)(close - open - 1), open + 1);
	return store_pg_failf(st, APP_ECONFLICT, "a value must be unique");
}

/* A failed result as an app error (SQLSTATE classes). */
static int pg_error(struct store_pg *st, PGresult *res, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char m[400];
	const char *msg = one_line(res ? PQresultErrorMessage(res)
				       : PQerrorMessage(st->conn),
				   m, sizeof(m));

	if (!state || PQstatus(st->conn) != CONNECTION_OK || !strncmp(state, "08", 2) ||
	    !strncmp(state, "57P", 3))
		return unavailable(st, msg);
	if (!strcmp(state, "23505"))
		return unique_violation(st, res);
	if (!strcmp(state, "40001") || !strcmp(state, "40P01")) {
		st->conflicted = true;
		return store_pg_failf(st, APP_ETXN_CONFLICT,
				      "the transaction conflicted with another "
				      "one: %s",
				      msg);
	}
	if (!strcmp(state, "55P03") || !strcmp(state, "57014"))
		return store_pg_failf(st, APP_EDB_BUSY,
				      "database is locked (busy timeout passed)");
	if (!strcmp(state, "53100"))
		return store_pg_failf(st, APP_ESTORAGE_FULL, "%s", msg);
	if (!strcmp(state, "25006"))
		return store_pg_failf(st, APP_EDB_READONLY, "%s", msg);
	if (!strcmp(state, "XX001") || !strcmp(state, "XX002"))
		return store_pg_failf(st, APP_EDB_CORRUPT, "%s", msg);
	if (!strncmp(state, "22", 2))
		return store_pg_failf(st, APP_EPARAM, "%s", msg);
	log_error("postgresql: %s: %s (%s)", what, msg, state);
	return store_pg_failf(st, APP_EINTERNAL, "database error: %s", msg);
}

static bool result_ok(PGresult *res)
{
	ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

int store_pg_exec(struct store_pg *st, const char *sql)
{
	PGresult *res = PQexec(st->conn, sql);
	int rc = result_ok(res) ? 0 : pg_error(st, res, sql);
	PQclear(res);
	return rc;
}

/* ---- the statement cache ---- */

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void cache_forget(struct store_pg *st)
{
	for (int i = 0; i < STORE_PG_CACHE_SLOTS; i++) {
		free(st->cache[i].sql);
		memset(&st->cache[i], 0, sizeof(st->cache[i]));
	}
	st->ncached = 0;
}

/* The cached statement of sql, prepared now when new; 0 when the cache
 * is full (then the statement runs unprepared). */
static int prepared(struct store_pg *st, const char *sql, int nparams, int *id)
{
	unsigned h = hash_str(sql), i = h % STORE_PG_CACHE_SLOTS;
	char name[16];
	PGresult *res;

	*id = 0;
	for (int n = 0; n < STORE_PG_CACHE_SLOTS; n++) {
		struct pg_prepared *p = &st->cache[(i + (unsigned)n) % STORE_PG_CACHE_SLOTS];
		if (!p->id) {
			if (st->ncached >= STORE_PG_CACHE_SLOTS * 3 / 4)
				return 0;
			snprintf(name, sizeof(name), "s%d", ++st->next_id);
			res = PQprepare(st->conn, name, sql, nparams, NULL);
			if (!result_ok(res)) {
				int rc = pg_error(st, res, sql);
				PQclear(res);
				return rc;
			}
			PQclear(res);
			p->sql = util_xstrdup(sql);
			p->hash = h;
			p->id = st->next_id;
			st->ncached++;
			*id = p->id;
			return 0;
		}
		if (p->hash == h && !strcmp(p->sql, sql)) {
			*id = p->id;
			return 0;
		}
	}
	return 0;
}

/* A bound value as text: "true"/"false", strings as they are, numbers,
 * objects and arrays as JSON text; NULL for JSON null.  *owned gets what
 * must be freed. */
static const char *param_text(json_object *v, char **owned)
{
	*owned = NULL;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return NULL;
	case json_type_boolean:
		return json_object_get_boolean(v) ? "true" : "false";
	case json_type_string:
		return json_object_get_string(v);
	default:
		return *owned = util_xstrdup(jsonx_str(v));
	}
}

int store_pg_run(struct store_pg *st, const char *sql, json_object *binds,
		 PGresult **res)
{
	int n = binds ? (int)json_object_array_length(binds) : 0, id, rc;
	const char **values = util_xcalloc((size_t)n + 1, sizeof(*values));
	char **owned = util_xcalloc((size_t)n + 1, sizeof(*owned));
	char name[16];

	*res = NULL;
	for (int i = 0; i < n; i++)
		values[i] = param_text(json_object_array_get_idx(binds, (size_t)i),
				       &owned[i]);
	if ((rc = prepared(st, sql, n, &id)))
		goto out;
	if (id) {
		snprintf(name, sizeof(name), "s%d", id);
		*res = PQexecPrepared(st->conn, name, n, values, NULL, NULL, 0);
	} else {
		*res = PQexecParams(st->conn, sql, n, NULL, values, NULL, NULL, 0);
	}
	if (!result_ok(*res)) {
		rc = pg_error(st, *res, sql);
		PQclear(*res);
		*res = NULL;
	}
out:
	for (int i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	free(values);
	return rc;
}

/* ---- the connection ---- */

static long env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	int64_t n;
	return v && !util_parse_int64(v, &n) && n >= 0 ? (long)n : dflt;
}

/* A session's settings: how long a lock is waited for, and how long a
 * session may sit idle inside a transaction (a dead process's). */
static int session_setup(struct store_pg *st)
{
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SET client_min_messages = warning; SET lock_timeout = %ld; "
		 "SET idle_in_transaction_session_timeout = '" IDLE_IN_TXN_TIMEOUT
		 "'",
		 st->busy_timeout);
	return store_pg_exec(st, sql);
}

static int connect_now(struct store_pg *st)
{
	if (st->conn)
		PQfinish(st->conn);
	cache_forget(st);
	st->conn = PQconnectdb(st->uri);
	if (PQstatus(st->conn) != CONNECTION_OK)
		return unavailable(st, PQerrorMessage(st->conn));
	return session_setup(st);
}

int store_pg_open(const char *uri, bool create, struct store_pg **out)
{
	struct store_pg *st = util_xcalloc(1, sizeof(*st));
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &err);

	*out = st;
	st->uri = util_xstrdup(uri);
	st->busy_timeout = env_long("FLOWCGI_BUSY_TIMEOUT_MS", 5000);
	if (!opts) {
		/* libpq's message quotes no part of the URI. */
		st->where = util_xstrdup("(invalid URI)");
		int rc = store_pg_failf(st, APP_EDB_UNAVAILABLE,
					"the PostgreSQL URI is not valid: %s",
					err ? err : "");
		PQfreemem(err);
		return rc;
	}
	PQconninfoFree(opts);
	st->where = store_pg_where(uri);
	(void)create; /* the database itself must exist: init makes tables */
	return connect_now(st);
}

void store_pg_close(struct store_pg *st)
{
	if (!st)
		return;
	cache_forget(st);
	if (st->conn)
		PQfinish(st->conn);
	if (st->side)
		PQfinish(st->side);
	free(st->uri);
	free(st->where);
	free(st);
}

/* ---- transactions ---- */

/* BEGIN, reconnecting once when the connection broke since the last
 * request (a server restart): the request answers 503 only when the
 * server is still away. */
static int begin_now(struct store_pg *st)
{
	int rc;
	if (PQstatus(st->conn) != CONNECTION_OK && (rc = connect_now(st)))
		return rc;
	if (!(rc = store_pg_exec(st, "BEGIN")))
		return 0;
	if (rc != APP_EDB_UNAVAILABLE || (rc = connect_now(st)))
		return rc;
	return store_pg_exec(st, "BEGIN");
}

int store_pg_begin(struct store_pg *st, bool write)
{
	int rc;
	if (st->depth++ > 0) {
		st->writing |= write;
		return 0;
	}
	st->failed = false;
	st->conflicted = false;
	if ((rc = begin_now(st))) {
		st->depth = 0;
		return rc;
	}
	st->writing = write;
	return 0;
}

static void rollback_now(struct store_pg *st)
{
	st->depth = 0;
	st->failed = false;
	st->writing = false;
	if (PQstatus(st->conn) == CONNECTION_OK &&
	    PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
		PGresult *res = PQexec(st->conn, "ROLLBACK");
		PQclear(res);
	}
}

int store_pg_commit(struct store_pg *st)
{
	int rc;
	if (st->depth <= 0)
		return 0;
	if (--st->depth > 0)
		return 0;
	if (st->failed) {
		rollback_now(st);
		return APP_EINTERNAL;
	}
	rc = store_pg_exec(st, "COMMIT");
	if (rc || PQtransactionStatus(st->conn) != PQTRANS_IDLE)
		rollback_now(st);
	st->writing = false;
	return rc;
}

void store_pg_rollback(struct store_pg *st)
{
	if (st->depth <= 0)
		return;
	if (--st->depth > 0) {
		st->failed = true;
		return;
	}
	rollback_now(st);
}

/* READ COMMITTED reads each statement's snapshot: turning a read
 * transaction into a write one only means its reads now lock rows. */
int store_pg_writable(struct store_pg *st)
{
	if (st->depth > 0)
		st->writing = true;
	return 0;
}

void store_pg_abort(struct store_pg *st)
{
	rollback_now(st);
}

bool store_pg_in_txn(const struct store_pg *st)
{
	return st->depth > 0;
}

bool store_pg_conflicted(const struct store_pg *st)
{
	return st->conflicted;
}

void store_pg_maintain(struct store_pg *st)
{
	(void)st; /* autovacuum and checkpoints are the server's */
}

/* Pages and their checksums are the server's to check (amcheck,
 * pg_checksums); what flowcgi can tell is that it answers. */
int store_pg_check(struct store_pg *st, char **report)
{
	int rc = store_pg_exec(st, "SELECT 1");
	*report = util_xstrdup(rc ? st->errmsg
				  : "ok (PostgreSQL answers; its pages are "
				    "checked by the server: amcheck, "
				    "pg_checksums)");
	return rc;
}

/* ---- settings and counters ---- */

/* The one text value of a one-row query, malloc'd (NULL: no row). */
static int one_text(struct store_pg *st, const char *sql, json_object *binds,
		    char **val)
{
	PGresult *res = NULL;
	int rc = store_pg_run(st, sql, binds, &res);
	*val = NULL;
	if (!rc && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		*val = util_xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static json_object *args1(const char *a)
{
	json_object *b = json_object_new_array();
	json_object_array_add(b, json_object_new_string(a));
	return b;
}

static json_object *args2(const char *a, const char *b)
{
	json_object *x = args1(a);
	json_object_array_add(x, b ? json_object_new_string(b) : NULL);
	return x;
}

/* hashtextextended: a 64-bit hash, so that two keys share a lock
 * (and wait for each other needlessly) about never. */
int store_pg_lock_key(struct store_pg *st, const char *key)
{
	json_object *b = args1(key);
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
			      b, &res);
	PQclear(res);
	json_object_put(b);
	return rc;
}

int store_pg_meta_get(struct store_pg *st, const char *key, char **val)
{
	json_object *b = args1(key);
	int rc = one_text(st, "SELECT value FROM _flowcgi_meta WHERE key = $1", b,
			  val);
	json_object_put(b);
	return rc;
}

int store_pg_meta_set(struct store_pg *st, const char *key, const char *val)
{
	json_object *b = args2(key, val);
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "INSERT INTO _flowcgi_meta (key, value) VALUES ($1, "
			      "$2) ON CONFLICT (key) DO UPDATE SET value = "
			      "EXCLUDED.value",
			      b, &res);
	PQclear(res);
	json_object_put(b);
	return rc;
}

int store_pg_meta_all(struct store_pg *st, json_object **all)
{
	PGresult *res = NULL;
	int rc = store_pg_run(st, "SELECT key, value FROM _flowcgi_meta", NULL, &res);
	*all = json_object_new_object();
	for (int i = 0; !rc && i < PQntuples(res); i++)
		json_object_object_add(*all, PQgetvalue(res, i, 0),
				       json_object_new_string(PQgetvalue(res, i, 1)));
	PQclear(res);
	return rc;
}

/* One cheap statement per request: each process follows the others'
 * schema, workflow and security changes by its next request. */
int store_pg_counters(struct store_pg *st, int64_t *schema_v, int64_t *wf_v,
		      int64_t *sec_v)
{
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "SELECT key, value FROM _flowcgi_meta WHERE key IN "
			      "('schema_version', 'workflow_version', "
			      "'security_version')",
			      NULL, &res);
	*schema_v = *wf_v = *sec_v = 0;
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		const char *k = PQgetvalue(res, i, 0);
		int64_t v = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		if (!strcmp(k, "schema_version"))
			*schema_v = v;
		else if (!strcmp(k, "workflow_version"))
			*wf_v = v;
		else
			*sec_v = v;
	}
	PQclear(res);
	return rc;
}

int store_pg_bump(struct store_pg *st, const char *counter)
{
	json_object *b = args1(counter);
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "UPDATE _flowcgi_meta SET value = (value::bigint + "
			      "1)::text WHERE key = $1",
			      b, &res);
	PQclear(res);
	json_object_put(b);
	return rc;
}

/* ---- collection definitions and tables ---- */

int store_pg_defs_load(struct store_pg *st, json_object **defs)
{
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "SELECT name, def FROM _flowcgi_collections ORDER BY "
			      "id",
			      NULL, &res);
	*defs = json_object_new_array();
	for (int i = 0; !rc && i < PQntuples(res); i++) {
		json_object *d = json_tokener_parse(PQgetvalue(res, i, 1));
		if (!d)
			rc = store_pg_failf(st, APP_EINTERNAL,
					    "stored definition of %s is corrupt",
					    PQgetvalue(res, i, 0));
		else
			json_object_array_add(*defs, d);
	}
	PQclear(res);
	return rc;
}

int store_pg_def_insert(struct store_pg *st, const char *name, json_object *def)
{
	char now[32];
	json_object *b = args2(name, jsonx_str(def));
	PGresult *res = NULL;
	int rc;
	util_iso_from_ms(util_now_ms(), now);
	json_object_array_add(b, json_object_new_string(now));
	rc = store_pg_run(st,
			  "INSERT INTO _flowcgi_collections (name, def, "
			  "\"createdAt\") VALUES ($1, $2, $3)",
			  b, &res);
	PQclear(res);
	json_object_put(b);
	return rc;
}

int store_pg_def_delete(struct store_pg *st, const char *name)
{
	json_object *b = args1(name);
	PGresult *res = NULL;
	int rc = store_pg_run(st, "DELETE FROM _flowcgi_collections WHERE name = $1",
			      b, &res);
	PQclear(res);
	json_object_put(b);
	return rc;
}

/* Integers are 64-bit as in SQLite; decimals, dates and JSON are text as
 * there, so both backends store and compare the same values. */
static const char *column_type(const struct field *f)
{
	switch (f->type) {
	case FT_INTEGER:
	case FT_BIGINT:
		return "BIGINT";
	case FT_BOOLEAN:
		return "BOOLEAN";
	case FT_FLOAT:
	case FT_DOUBLE:
		return "DOUBLE PRECISION";
	default:
		return "TEXT";
	}
}

/* Existing column names of a table, as a JSON object used as a set. */
static int table_columns(struct store_pg *st, const char *table,
			 json_object **cols)
{
	json_object *b = args1(table);
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "SELECT column_name FROM information_schema.columns "
			      "WHERE table_schema = current_schema() AND "
			      "table_name = $1",
			      b, &res);
	*cols = json_object_new_object();
	for (int i = 0; !rc && i < PQntuples(res); i++)
		json_object_object_add(*cols, PQgetvalue(res, i, 0), NULL);
	PQclear(res);
	json_object_put(b);
	return rc;
}

static void column_def(struct buf *sql, const struct coll *c,
		       const struct field *f)
{
	store_ident(sql, f->name);
	if (f->primary && c->pk_int)
		buf_puts(sql, " BIGSERIAL PRIMARY KEY");
	else if (f->primary)
		buf_puts(sql, " TEXT PRIMARY KEY NOT NULL");
	else
		buf_printf(sql, " %s", column_type(f));
}

static int create_or_alter(struct store_pg *st, const struct coll *c,
			   json_object *cols, struct buf *sql)
{
	bool first = true;
	int rc = 0;

	if (json_object_object_length(cols) == 0) {
		buf_puts(sql, "CREATE TABLE ");
		store_ident(sql, c->name);
		buf_puts(sql, " (");
		for (int i = 0; i < c->nfields; i++) {
			if (!field_has_column(&c->fields[i]))
				continue;
			if (!first)
				buf_puts(sql, ", ");
			first = false;
			column_def(sql, c, &c->fields[i]);
		}
		buf_puts(sql, ")");
		return store_pg_exec(st, buf_str(sql));
	}
	for (int i = 0; !rc && i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		if (!field_has_column(f) || jsonx_has(cols, f->name))
			continue;
		buf_reset(sql);
		buf_puts(sql, "ALTER TABLE ");
		store_ident(sql, c->name);
		buf_puts(sql, " ADD COLUMN ");
		column_def(sql, c, f);
		rc = store_pg_exec(st, buf_str(sql));
	}
	return rc;
}

static int unique_indexes(struct store_pg *st, const struct coll *c,
			  struct buf *sql)
{
	int rc = 0;
	for (int i = 0; !rc && i < c->nfields; i++) {
		const struct field *f = &c->fields[i];
		char idx[160];
		if (!f->unique || f->primary || !field_has_column(f))
			continue;
		buf_reset(sql);
		buf_puts(sql, "CREATE UNIQUE INDEX IF NOT EXISTS ");
		snprintf(idx, sizeof(idx), "%s_%s_unique", c->name, f->name);
		store_ident(sql, idx);
		buf_puts(sql, " ON ");
		store_ident(sql, c->name);
		buf_puts(sql, " (");
		store_ident(sql, f->name);
		buf_puts(sql, ")");
		rc = store_pg_exec(st, buf_str(sql));
	}
	return rc;
}

int store_pg_sync_tables(struct store_pg *st, const struct schema *s)
{
	struct buf sql = {0};
	int rc = 0;
	for (int i = 0; !rc && i < s->ncolls; i++) {
		json_object *cols = NULL;
		buf_reset(&sql);
		if (!(rc = table_columns(st, s->colls[i]->name, &cols)) &&
		    !(rc = create_or_alter(st, s->colls[i], cols, &sql)))
			rc = unique_indexes(st, s->colls[i], &sql);
		json_object_put(cols);
	}
	buf_free(&sql);
	return rc;
}

int store_pg_drop_table(struct store_pg *st, const char *name)
{
	struct buf sql = {0};
	buf_puts(&sql, "DROP TABLE IF EXISTS ");
	store_ident(&sql, name);
	int rc = store_pg_exec(st, buf_str(&sql));
	buf_free(&sql);
	return rc;
}

/* ---- migrations ---- */

int store_pg_user_version(struct store_pg *st, int *version)
{
	char *v = NULL;
	int rc = one_text(st, "SELECT to_regclass('_flowcgi_meta') IS NOT NULL",
			  NULL, &v);
	bool made = !rc && v && v[0] == 't';
	free(v);
	v = NULL;
	if (!rc && made)
		rc = one_text(st,
			      "SELECT value FROM _flowcgi_meta WHERE key = "
			      "'store_version'",
			      NULL, &v);
	*version = v ? atoi(v) : 0;
	free(v);
	return rc;
}

/* Indexes the engine's and auth's hot queries need (as SQLite's). */
static const char *const migration_1 =
	"CREATE UNIQUE INDEX IF NOT EXISTS workflows_key_current ON workflows "
	"(\"key\", \"current\");"
	"CREATE INDEX IF NOT EXISTS flow_nodes_workflow ON flow_nodes "
	"(\"workflowId\");"
	"CREATE INDEX IF NOT EXISTS executions_workflow ON executions "
	"(\"workflowId\");"
	"CREATE INDEX IF NOT EXISTS executions_queue ON executions (id) WHERE "
	"status IS NULL;"
	"CREATE UNIQUE INDEX IF NOT EXISTS roles_users_pair ON \"rolesUsers\" "
	"(\"userId\", \"roleName\");"
	"CREATE INDEX IF NOT EXISTS roles_users_role ON \"rolesUsers\" "
	"(\"roleName\");"
	"CREATE INDEX IF NOT EXISTS roles_resources_role ON "
	"\"dataSourcesRolesResources\" (\"roleName\", name);"
	"CREATE INDEX IF NOT EXISTS roles_actions_resource ON "
	"\"dataSourcesRolesResourcesActions\" (\"rolesResourceId\");"
	"CREATE UNIQUE INDEX IF NOT EXISTS issued_tokens_jti ON "
	"\"issuedTokens\" (jti);"
	"CREATE UNIQUE INDEX IF NOT EXISTS token_blacklist_token ON "
	"\"tokenBlacklist\" (token);"
	"CREATE TABLE IF NOT EXISTS _flowcgi_effects (\"executionId\" BIGINT "
	"PRIMARY KEY, node TEXT NOT NULL, at TEXT NOT NULL);";

static int migrate_tables(struct store_pg *st, int version)
{
	struct schema *sys = NULL;
	char err[256], sql[160];
	int rc;

	rc = store_pg_exec(st,
			   "CREATE TABLE IF NOT EXISTS _flowcgi_meta (key TEXT "
			   "PRIMARY KEY NOT NULL, value TEXT);"
			   "CREATE TABLE IF NOT EXISTS _flowcgi_collections (id "
			   "BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, def "
			   "TEXT NOT NULL, \"createdAt\" TEXT);"
			   "INSERT INTO _flowcgi_meta VALUES ('schema_version', "
			   "'1'), ('workflow_version', '1'), ('security_version', "
			   "'1') ON CONFLICT DO NOTHING;");
	if (rc)
		return rc;
	if (schema_build(NULL, 0, &sys, err, sizeof(err)))
		return store_pg_failf(st, APP_EINTERNAL, "%s", err);
	rc = store_pg_sync_tables(st, sys);
	schema_free(sys);
	if (!rc && version < 1)
		rc = store_pg_exec(st, migration_1);
	if (!rc && version < STORE_PG_VERSION) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO _flowcgi_meta VALUES ('store_version', '%d') "
			 "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
			 STORE_PG_VERSION);
		if (!(rc = store_pg_exec(st, sql)))
			rc = store_pg_bump(st, "schema_version");
	}
	return rc;
}

/* One transaction; concurrent inits queue on an advisory lock. */
int store_pg_migrate(struct store_pg *st)
{
	int version = 0, rc;

	if ((rc = store_pg_begin(st, true)))
		return rc;
	if (!(rc = store_pg_exec(st, "SELECT pg_advisory_xact_lock(7303012)")) &&
	    !(rc = store_pg_user_version(st, &version)))
		rc = migrate_tables(st, version);
	if (rc) {
		store_pg_rollback(st);
		return rc;
	}
	return store_pg_commit(st);
}

/* ---- size and space (metrics, prune) ---- */

/* The database's size as the server counts it; its WAL is the server's,
 * shared by every database, so none is reported. */
int store_pg_size(struct store_pg *st, int64_t *db, int64_t *wal)
{
	char *v = NULL;
	int rc = one_text(st, "SELECT pg_database_size(current_database())",
			  NULL, &v);
	*db = -1;
	*wal = -1;
	if (!rc && v)
		*db = strtoll(v, NULL, 10);
	free(v);
	return rc;
}

/* Autovacuum reuses the space of deleted rows; giving it back to the
 * file system (VACUUM FULL) would lock the tables: nothing here. */
int store_pg_compact(struct store_pg *st, bool all, int64_t *freed)
{
	(void)st;
	(void)all;
	*freed = 0;
	return 0;
}
