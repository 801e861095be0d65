/*
 * store_src: another application's database, read only (see store.h).
 * import nocobase reads NocoBase's own tables through it; nothing here
 * knows NocoBase.  A name reaches SQL only after util_is_ident passed it
 * and the source's catalog listed it; every other value is bound.
 */
#include "store_pg_int.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"

/* PostgreSQL type oids (pg_type.dat), for typing text results. */
enum {
	OID_BOOL = 16, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23,
	OID_OID = 26, OID_JSON = 114, OID_FLOAT4 = 700, OID_FLOAT8 = 701,
	OID_TIMESTAMPTZ = 1184, OID_JSONB = 3802,
};

/* How a column's values are read, from its declared type. */
enum src_kind { SK_PLAIN, SK_INT, SK_FLOAT, SK_BOOL, SK_JSON, SK_TIME };

struct store_src {
	sqlite3 *lite;
	PGconn *pg;
	char *where;
	char errmsg[512];
};

static int src_fail(struct store_src *src, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int src_fail(struct store_src *src, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(src->errmsg, sizeof(src->errmsg), fmt, ap);
	va_end(ap);
	for (char *p = src->errmsg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return err;
}

const char *store_src_errmsg(const struct store_src *src)
{
	return src->errmsg;
}

const char *store_src_path(const struct store_src *src)
{
	return src->where;
}

static int open_sqlite(struct store_src *src, const char *path)
{
	if (access(path, R_OK) != 0)
		return src_fail(src, APP_EDB_UNINIT,
				"%s does not exist or cannot be read", path);
	if (sqlite3_open_v2(path, &src->lite, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		return src_fail(src, APP_EDB_UNINIT, "cannot open %s: %s", path,
				src->lite ? sqlite3_errmsg(src->lite)
					  : "no memory");
	sqlite3_db_config(src->lite, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(src->lite, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(src->lite, 5000);
	/* One read transaction: every table from the same snapshot. */
	if (sqlite3_exec(src->lite, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return src_fail(src, APP_EDB_UNINIT, "%s: %s", path,
				sqlite3_errmsg(src->lite));
	return 0;
}

/* One statement without parameters or result rows. */
static int pg_exec(struct store_src *src, const char *sql)
{
	PGresult *res = PQexec(src->pg, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		src_fail(src, APP_EDB_UNAVAILABLE, "PostgreSQL at %s: %s",
			 src->where, PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : APP_EDB_UNAVAILABLE;
}

static int open_pg(struct store_src *src, const char *uri)
{
	char *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &err);
	if (!opts) {
		src->where = util_xstrdup("(invalid URI)");
		src_fail(src, APP_EDB_UNAVAILABLE,
			 "the PostgreSQL URI is not valid: %s", err ? err : "");
		PQfreemem(err);
		return APP_EDB_UNAVAILABLE;
	}
	PQconninfoFree(opts);
	src->where = store_pg_where(uri);
	src->pg = PQconnectdb(uri);
	if (PQstatus(src->pg) != CONNECTION_OK)
		return src_fail(src, APP_EDB_UNAVAILABLE,
				"PostgreSQL at %s is unavailable: %s", src->where,
				PQerrorMessage(src->pg));
	/* Read only, and one snapshot for every table of a live site;
	 * timestamps in UTC so that they read back unambiguously. */
	return pg_exec(src, "BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE "
			    "READ, READ ONLY; SET LOCAL TIME ZONE 'UTC'; SET "
			    "LOCAL DateStyle = 'ISO'; SET LOCAL "
			    "extra_float_digits = 3");
}

int store_src_open(const char *target, struct store_src **out)
{
	struct store_src *src = util_xcalloc(1, sizeof(*src));
	*out = src;
	if (store_is_uri(target))
		return open_pg(src, target);
	src->where = util_xstrdup(target);
	return open_sqlite(src, target);
}

void store_src_close(struct store_src *src)
{
	if (!src)
		return;
	if (src->lite)
		sqlite3_close(src->lite); /* rolls the read back */
	if (src->pg)
		PQfinish(src->pg);
	free(src->where);
	free(src);
}

/* ---- catalog ---- */

static int lite_has(struct store_src *src, const char *table, bool *has)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(src->lite,
				    "SELECT 1 FROM sqlite_master WHERE type IN "
				    "('table','view') AND name = ?1",
				    -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		*has = rc == SQLITE_ROW;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0
			       : src_fail(src, APP_EDB_CORRUPT, "%s: %s", src->where,
					  sqlite3_errmsg(src->lite));
}

static int pg_has(struct store_src *src, const char *table, bool *has)
{
	const char *v[1] = {table};
	PGresult *res = PQexecParams(
		src->pg,
		"SELECT 1 FROM information_schema.tables WHERE table_schema = "
		"current_schema() AND table_name = $1",
		1, NULL, v, NULL, NULL, 0);
	int rc = 0;
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = src_fail(src, APP_EDB_UNAVAILABLE, "PostgreSQL at %s: %s",
			      src->where, PQresultErrorMessage(res));
	else
		*has = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

int store_src_has(struct store_src *src, const char *table, bool *has)
{
	*has = false;
	if (!util_is_ident(table))
		return 0;
	return src->pg ? pg_has(src, table, has) : lite_has(src, table, has);
}

/* The table is named in SQL only once it is known to exist. */
static int known(struct store_src *src, const char *table)
{
	bool has = false;
	int rc = store_src_has(src, table, &has);
	if (!rc && !has)
		rc = src_fail(src, APP_ENOT_FOUND, "%s has no table \"%s\"",
			      src->where, table);
	return rc;
}

/* ---- values ---- */

/* A timestamp as the source prints it ("2026-12-04 20:54:16.013+00",
 * "2026-12-04 20:54:16.013 +00:00", ISO-8601) as ISO-8601 UTC with
 * milliseconds; text that is none of these stays as it is. */
static json_object *time_value(const char *s)
{
	char buf[64], iso[32];
	size_t n = 0;
	int64_t ms;

	for (const char *p = s; *p && n + 3 < sizeof(buf); p++) {
		if (*p == ' ' && (p[1] == '+' || p[1] == '-'))
			continue;
		buf[n++] = *p;
	}
	buf[n] = 0;
	/* "+00" -> "+00:00" */
	if (n > 3 && (buf[n - 3] == '+' || buf[n - 3] == '-') &&
	    strchr(buf, ':')) {
		memcpy(buf + n, ":00", 4);
	}
	if (util_ms_from_iso(buf, &ms))
		return json_object_new_string(s);
	util_iso_from_ms(ms, iso);
	return json_object_new_string(iso);
}

static json_object *text_value(const char *s, size_t n, enum src_kind k)
{
	json_object *v = NULL;
	char err[128];
	int64_t i;

	switch (k) {
	case SK_INT:
		if (!util_parse_int64n(s, n, &i))
			return json_object_new_int64(i);
		break;
	case SK_FLOAT:
		return json_object_new_double(strtod(s, NULL));
	case SK_BOOL:
		return json_object_new_boolean(s[0] == 't' || s[0] == '1');
	case SK_JSON:
		if (!jsonx_parse(s, n, JSONX_MAX_DEPTH, &v, err, sizeof(err)))
			return v;
		break;
	case SK_TIME:
		return time_value(s);
	default:
		break;
	}
	return json_object_new_string_len(s, (int)n);
}

static enum src_kind pg_kind(Oid t)
{
	switch (t) {
	case OID_INT2: case OID_INT4: case OID_INT8: case OID_OID:
		return SK_INT;
	case OID_FLOAT4: case OID_FLOAT8:
		return SK_FLOAT;
	case OID_BOOL:
		return SK_BOOL;
	case OID_JSON: case OID_JSONB:
		return SK_JSON;
	case OID_TIMESTAMPTZ:
		return SK_TIME;
	default:
		return SK_PLAIN;
	}
}

/* SQLite keeps what the application declared: sequelize writes booleans
 * as TINYINT(1) 0/1, JSON as text in a JSON column, dates as text in a
 * DATETIME one. */
static enum src_kind lite_kind(const char *decl)
{
	if (!decl)
		return SK_PLAIN;
	if (!strncasecmp(decl, "TINYINT(1)", 10) || strcasestr(decl, "BOOL"))
		return SK_BOOL;
	if (strcasestr(decl, "JSON"))
		return SK_JSON;
	if (strcasestr(decl, "DATETIME") || strcasestr(decl, "TIMESTAMP"))
		return SK_TIME;
	return SK_PLAIN;
}

static json_object *lite_value(sqlite3_stmt *s, int i)
{
	enum src_kind k = lite_kind(sqlite3_column_decltype(s, i));
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_NULL:
		return NULL;
	case SQLITE_INTEGER:
		if (k == SK_BOOL)
			return json_object_new_boolean(sqlite3_column_int64(s, i) != 0);
		return json_object_new_int64(sqlite3_column_int64(s, i));
	case SQLITE_FLOAT:
		return json_object_new_double(sqlite3_column_double(s, i));
	default:
		return text_value((const char *)sqlite3_column_text(s, i),
				  (size_t)sqlite3_column_bytes(s, i), k);
	}
}

/* ---- rows ---- */

/* SELECT * FROM "table" [ORDER BY "order"] [LIMIT n OFFSET m]: the names
 * were checked by the caller; the numbers are the caller's integers. */
static char *select_sql(const char *table, const char *order, int64_t limit,
			int64_t offset, bool count)
{
	struct buf b = {0};
	char *out;
	buf_printf(&b, count ? "SELECT count(*) FROM \"%s\"" : "SELECT * FROM \"%s\"",
		   table);
	if (order)
		buf_printf(&b, " ORDER BY \"%s\"", order);
	if (limit > 0)
		buf_printf(&b, " LIMIT %lld OFFSET %lld", (long long)limit,
			   (long long)offset);
	out = util_xstrdup(buf_str(&b));
	buf_free(&b);
	return out;
}

static int lite_rows(struct store_src *src, const char *sql, json_object *rows)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(src->lite, sql, -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_object *row = json_object_new_object();
		for (int i = 0; i < sqlite3_column_count(s); i++)
			json_object_object_add(row, sqlite3_column_name(s, i),
					       lite_value(s, i));
		json_object_array_add(rows, row);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0
				 : src_fail(src, APP_EDB_CORRUPT, "%s: %s", src->where,
					    sqlite3_errmsg(src->lite));
}

static int pg_rows(struct store_src *src, const char *sql, json_object *rows)
{
	PGresult *res = PQexec(src->pg, sql);
	int nf;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		src_fail(src, APP_EDB_UNAVAILABLE, "PostgreSQL at %s: %s",
			 src->where, PQresultErrorMessage(res));
		PQclear(res);
		return APP_EDB_UNAVAILABLE;
	}
	nf = PQnfields(res);
	for (int r = 0; r < PQntuples(res); r++) {
		json_object *row = json_object_new_object();
		for (int i = 0; i < nf; i++)
			json_object_object_add(
				row, PQfname(res, i),
				PQgetisnull(res, r, i)
					? NULL
					: text_value(PQgetvalue(res, r, i),
						     (size_t)PQgetlength(res, r, i),
						     pg_kind(PQftype(res, i))));
		json_object_array_add(rows, row);
	}
	PQclear(res);
	return 0;
}

int store_src_rows(struct store_src *src, const char *table, const char *order,
		   int64_t limit, int64_t offset, json_object **rows)
{
	char *sql;
	int rc;

	*rows = NULL;
	if ((rc = known(src, table)))
		return rc;
	if (order && !util_is_ident(order))
		return src_fail(src, APP_EPARAM, "bad column name \"%s\"", order);
	sql = select_sql(table, order, limit, offset, false);
	*rows = json_object_new_array();
	rc = src->pg ? pg_rows(src, sql, *rows) : lite_rows(src, sql, *rows);
	free(sql);
	if (rc) {
		json_object_put(*rows);
		*rows = NULL;
	}
	return rc;
}

int store_src_count(struct store_src *src, const char *table, int64_t *n)
{
	json_object *rows = NULL;
	char *sql;
	int rc;

	*n = 0;
	if ((rc = known(src, table)))
		return rc;
	sql = select_sql(table, NULL, 0, 0, true);
	rows = json_object_new_array();
	rc = src->pg ? pg_rows(src, sql, rows) : lite_rows(src, sql, rows);
	if (!rc) {
		json_object *row = json_object_array_get_idx(rows, 0);
		json_object_object_foreach(row, k, v) {
			(void)k;
			jsonx_to_int64(v, n);
		}
	}
	free(sql);
	json_object_put(rows);
	return rc;
}
