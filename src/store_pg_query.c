/*
 * store_pg_query: the record queries of the PostgreSQL backend.  Filters
 * and sorts are compiled by store_filter.c in PostgreSQL's dialect
 * (below); this file builds the statements around them, runs them and
 * reads the rows.  Inside a write transaction the rows read from a user
 * collection are locked (FOR UPDATE OF t0) until it ends: what a workflow
 * read, no other transaction changes before it wrote.
 */
#include "store_pg_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"

#define FIND_MAX_COLUMNS 256

/* Values travel as text and the server infers their types from the
 * columns they meet, so a placeholder needs no cast. */
static void pg_placeholder(struct buf *sql, int n, enum ftype t)
{
	(void)t;
	buf_printf(sql, "$%d", n);
}

const struct store_dialect store_dialect_pg = {
	.name = "postgresql",
	.placeholder = pg_placeholder,
	.sql_true = "TRUE",
	.sql_false = "FALSE",
	.numeric_open = "CAST(",
	.numeric_close = " AS DOUBLE PRECISION)",
	.like_nocase = "ILIKE",
	.like_case = "LIKE",
	.like_escape = " ESCAPE '\\'",
	.text_empty = " = ''",
	.json_empty = " IN ('', '[]', '{}')",
};

static void query_init(struct store_filter *q, const struct schema *s,
		       struct buf *sql, json_object *binds)
{
	store_filter_init(q, &store_dialect_pg, s, sql, binds);
}

static int where(struct store_pg *st, struct store_filter *q,
		 const struct coll *c, json_object *filter)
{
	int rc = store_filter_where(q, c, filter);
	return rc ? store_pg_failf(st, rc, "%s", q->err) : 0;
}

json_object *store_pg_cell(PGresult *res, int r, int i, const struct field *f)
{
	const char *v;
	if (PQgetisnull(res, r, i))
		return NULL;
	v = PQgetvalue(res, r, i);
	switch (f->type) {
	case FT_BOOLEAN:
		return json_object_new_boolean(v[0] == 't');
	case FT_INTEGER:
	case FT_BIGINT:
		return json_object_new_int64(strtoll(v, NULL, 10));
	case FT_FLOAT:
	case FT_DOUBLE:
		return jsonx_number(strtod(v, NULL));
	case FT_JSON: {
		json_object *o = json_tokener_parse(v);
		if (!o && strcmp(v, "null"))
			return json_object_new_string(v);
		return o;
	}
	default:
		return json_object_new_string_len(v, PQgetlength(res, r, i));
	}
}

/* The columns a find outputs: the ones asked for, or every visible one. */
static int find_columns(struct store_pg *st, const struct coll *c,
			const struct store_find *q0, const struct field **out,
			int *nout)
{
	*nout = 0;
	if (!q0->fields) {
		for (int i = 0; i < c->nfields && *nout < FIND_MAX_COLUMNS; i++) {
			const struct field *f = &c->fields[i];
			if (field_has_column(f) && (!f->hidden || q0->hidden))
				out[(*nout)++] = f;
		}
		return 0;
	}
	for (int i = 0; i < q0->nfields && *nout < FIND_MAX_COLUMNS; i++) {
		const struct field *f = coll_field(c, q0->fields[i]);
		if (!f || !field_has_column(f) || (f->hidden && !q0->hidden))
			return store_pg_failf(st, APP_EFIELD,
					      "Unknown field \"%s\" in collection "
					      "\"%s\"",
					      q0->fields[i], c->name);
		out[(*nout)++] = f;
	}
	return 0;
}

/* SELECT <out> FROM c AS t0 WHERE ... ORDER BY ... [LIMIT ... OFFSET ...]
 * [FOR UPDATE OF t0] */
static int find_sql(struct store_pg *st, struct store_filter *q,
		    const struct coll *c, const struct store_find *q0,
		    const struct field *const *out, int nout)
{
	int rc;

	buf_puts(q->sql, "SELECT ");
	for (int i = 0; i < nout; i++) {
		if (i)
			buf_puts(q->sql, ", ");
		store_filter_col(q, 0, out[i]->name);
	}
	if (!nout)
		buf_puts(q->sql, "1");
	buf_puts(q->sql, " FROM ");
	store_ident(q->sql, c->name);
	buf_puts(q->sql, " AS t0");
	if ((rc = where(st, q, c, q0->filter)))
		return rc;
	if ((rc = store_filter_order(q, c, q0->sort, q0->nsort)))
		return store_pg_failf(st, rc, "%s", q->err);
	if (q0->limit > 0)
		buf_printf(q->sql, " LIMIT %lld OFFSET %lld",
			   (long long)q0->limit, (long long)q0->offset);
	if (st->writing && !c->system)
		buf_puts(q->sql, " FOR UPDATE OF t0");
	return 0;
}

int store_pg_find(struct store_pg *st, const struct schema *s,
		  const struct coll *c, const struct store_find *q0,
		  json_object **rows)
{
	struct buf sql = {0};
	struct store_filter q;
	const struct field *out[FIND_MAX_COLUMNS];
	PGresult *res = NULL;
	int nout = 0, rc;

	*rows = NULL;
	query_init(&q, s, &sql, json_object_new_array());
	if ((rc = find_columns(st, c, q0, out, &nout)) ||
	    (rc = find_sql(st, &q, c, q0, out, nout)) ||
	    (rc = store_pg_run(st, buf_str(&sql), q.binds, &res)))
		goto out;
	*rows = json_object_new_array_ext(PQntuples(res));
	for (int r = 0; r < PQntuples(res); r++) {
		json_object *row = json_object_new_object();
		for (int i = 0; i < nout; i++)
			json_object_object_add(row, out[i]->name,
					       store_pg_cell(res, r, i, out[i]));
		json_object_array_add(*rows, row);
	}
out:
	PQclear(res);
	json_object_put(q.binds);
	buf_free(&sql);
	return rc;
}

/* Run sql: *n gets the first column of its row (a count), or for a
 * statement that returns none, the number of rows it changed. */
static int run_count(struct store_pg *st, struct buf *sql, json_object *binds,
		     int64_t *n)
{
	PGresult *res = NULL;
	int rc = store_pg_run(st, buf_str(sql), binds, &res);
	if (!rc)
		*n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res)
			     ? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
			     : strtoll(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

/* "<head><table> AS t0 WHERE <filter>", run by run_count. */
static int filtered(struct store_pg *st, const struct schema *s,
		    const struct coll *c, json_object *filter, const char *head,
		    int64_t *n)
{
	struct buf sql = {0};
	struct store_filter q;
	int rc;

	*n = 0;
	query_init(&q, s, &sql, json_object_new_array());
	buf_puts(&sql, head);
	store_ident(&sql, c->name);
	buf_puts(&sql, " AS t0");
	if (!(rc = where(st, &q, c, filter)))
		rc = run_count(st, &sql, q.binds, n);
	json_object_put(q.binds);
	buf_free(&sql);
	return rc;
}

int store_pg_count(struct store_pg *st, const struct schema *s,
		   const struct coll *c, json_object *filter, int64_t *n)
{
	return filtered(st, s, c, filter, "SELECT count(*) FROM ", n);
}

int store_pg_delete(struct store_pg *st, const struct schema *s,
		    const struct coll *c, json_object *filter, int64_t *n)
{
	return filtered(st, s, c, filter, "DELETE FROM ", n);
}

/* A key given with an insert: the table's sequence moves past it, so
 * that the next insert without one does not take it again. */
static int sequence_past(struct store_pg *st, const struct coll *c,
			 json_object *pk)
{
	struct buf tbl = {0};
	json_object *b = json_object_new_array();
	PGresult *res = NULL;
	int rc;

	store_ident(&tbl, c->name);
	json_object_array_add(b, json_object_new_string(buf_str(&tbl)));
	json_object_array_add(b, json_object_new_string(c->pk));
	json_object_array_add(b, jsonx_ref(pk));
	rc = store_pg_run(st,
			  "SELECT setval(s, GREATEST($3::bigint, "
			  "coalesce(pg_sequence_last_value(s::regclass), 0))) "
			  "FROM pg_get_serial_sequence($1, $2) AS s",
			  b, &res);
	PQclear(res);
	json_object_put(b);
	buf_free(&tbl);
	return rc;
}

int store_pg_insert(struct store_pg *st, const struct coll *c,
		    json_object *values, json_object **pk)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	PGresult *res = NULL;
	int rc, n = 0;

	*pk = NULL;
	buf_puts(&sql, "INSERT INTO ");
	store_ident(&sql, c->name);
	json_object_object_foreach(values, k, v) {
		const struct field *f = coll_field(c, k);
		if (!f || !field_has_column(f))
			continue;
		buf_puts(&sql, n++ ? ", " : " (");
		store_ident(&sql, k);
		json_object_array_add(binds, jsonx_ref(v));
	}
	if (n) {
		buf_puts(&sql, ") VALUES (");
		for (int i = 1; i <= n; i++)
			buf_printf(&sql, i > 1 ? ", $%d" : "$%d", i);
		buf_putc(&sql, ')');
	} else {
		buf_puts(&sql, " DEFAULT VALUES");
	}
	buf_puts(&sql, " RETURNING ");
	store_ident(&sql, c->pk);
	if (!(rc = store_pg_run(st, buf_str(&sql), binds, &res)) &&
	    PQntuples(res) > 0)
		*pk = store_pg_cell(res, 0, 0, coll_pk(c));
	if (!rc && c->pk_int && jsonx_get(values, c->pk) && *pk)
		rc = sequence_past(st, c, *pk);
	PQclear(res);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

/* UPDATE c AS t0 SET ... WHERE ...; -1 when there is nothing to set. */
static int update_sql(struct store_pg *st, const struct schema *s,
		      const struct coll *c, json_object *filter,
		      struct buf *sql, json_object *binds, json_object *values)
{
	struct store_filter q;
	int n = 0;

	query_init(&q, s, sql, binds);
	buf_puts(sql, "UPDATE ");
	store_ident(sql, c->name);
	buf_puts(sql, " AS t0 SET ");
	json_object_object_foreach(values, k, v) {
		const struct field *f = coll_field(c, k);
		if (!f || !field_has_column(f))
			continue;
		if (n++)
			buf_puts(sql, ", ");
		store_ident(sql, k);
		buf_puts(sql, " = ");
		store_filter_bind(&q, jsonx_ref(v), f->type);
	}
	if (!n)
		return -1;
	return where(st, &q, c, filter);
}

/* Nothing to set: the keys of the matching rows, unchanged. */
static int matching_keys(struct store_pg *st, const struct schema *s,
			 const struct coll *c, json_object *filter,
			 json_object *pks)
{
	struct store_find q = {.filter = filter, .fields = &c->pk, .nfields = 1};
	json_object *rows = NULL;
	int rc = store_pg_find(st, s, c, &q, &rows);
	for (size_t i = 0; !rc && i < json_object_array_length(rows); i++)
		json_object_array_add(pks, jsonx_ref(jsonx_get(
						   json_object_array_get_idx(rows, i),
						   c->pk)));
	json_object_put(rows);
	return rc;
}

int store_pg_update(struct store_pg *st, const struct schema *s,
		    const struct coll *c, json_object *filter,
		    json_object *values, json_object **pks)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	PGresult *res = NULL;
	int rc;

	*pks = json_object_new_array();
	rc = update_sql(st, s, c, filter, &sql, binds, values);
	if (rc == -1) {
		rc = matching_keys(st, s, c, filter, *pks);
		goto out;
	}
	if (rc)
		goto out;
	buf_puts(&sql, " RETURNING t0.");
	store_ident(&sql, c->pk);
	if (!(rc = store_pg_run(st, buf_str(&sql), binds, &res)))
		for (int r = 0; r < PQntuples(res); r++)
			json_object_array_add(*pks,
					      store_pg_cell(res, r, 0, coll_pk(c)));
out:
	PQclear(res);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

int store_pg_update_count(struct store_pg *st, const struct schema *s,
			  const struct coll *c, json_object *filter,
			  json_object *values, int64_t *n)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	int rc;

	*n = 0;
	rc = update_sql(st, s, c, filter, &sql, binds, values);
	if (rc == -1)
		rc = store_pg_count(st, s, c, filter, n);
	else if (!rc)
		rc = run_count(st, &sql, binds, n);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

/* ---- the queue ---- */

/* The oldest queued execution no other transaction holds, claimed in
 * the caller's transaction (and locked by it until it ends): a process
 * that dies while running it rolls the claim back with its work, and the
 * execution is queued again. */
int store_pg_claim_execution(struct store_pg *st, const char *worker,
			     int64_t *id)
{
	char now[32];
	json_object *b = json_object_new_array();
	PGresult *res = NULL;
	int rc;

	*id = 0;
	util_iso_from_ms(util_now_ms(), now);
	json_object_array_add(b, json_object_new_string(worker));
	json_object_array_add(b, json_object_new_string(now));
	rc = store_pg_run(st,
			  "UPDATE executions SET status = 0, dispatched = TRUE, "
			  "worker = $1, \"startedAt\" = $2, \"updatedAt\" = $2 "
			  "WHERE id = (SELECT id FROM executions WHERE status IS "
			  "NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
			  "RETURNING id",
			  b, &res);
	if (!rc && PQntuples(res) > 0)
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	json_object_put(b);
	return rc;
}

/* Executions committed as STARTED (by a version that claimed outside the
 * run's transaction) that no live transaction holds: a live run holds its
 * row until it ends. */
int store_pg_orphans(struct store_pg *st, json_object **ids)
{
	PGresult *res = NULL;
	int rc = store_pg_run(st,
			      "SELECT id FROM executions WHERE status = 0 FOR "
			      "UPDATE SKIP LOCKED",
			      NULL, &res);
	*ids = json_object_new_array();
	for (int r = 0; !rc && r < PQntuples(res); r++)
		json_object_array_add(*ids, json_object_new_int64(strtoll(
						    PQgetvalue(res, r, 0), NULL, 10)));
	PQclear(res);
	return rc;
}

/* ---- effects: noted on a second, autocommitting connection ---- */

static int side_connection(struct store_pg *st)
{
	if (st->side && PQstatus(st->side) == CONNECTION_OK)
		return 0;
	if (st->side)
		PQfinish(st->side);
	st->side = PQconnectdb(st->uri);
	if (PQstatus(st->side) != CONNECTION_OK)
		return store_pg_failf(st, APP_EDB_UNAVAILABLE,
				      "PostgreSQL at %s is unavailable for a "
				      "note outside the transaction",
				      st->where);
	return 0;
}

int store_pg_effect_note(struct store_pg *st, int64_t exec_id, const char *what)
{
	char id[24], now[32];
	const char *values[3] = {id, what, now};
	PGresult *res;
	int rc;

	if ((rc = side_connection(st)))
		return rc;
	snprintf(id, sizeof(id), "%lld", (long long)exec_id);
	util_iso_from_ms(util_now_ms(), now);
	res = PQexecParams(st->side,
			   "INSERT INTO _flowcgi_effects (\"executionId\", node, "
			   "at) VALUES ($1, $2, $3) ON CONFLICT (\"executionId\") "
			   "DO UPDATE SET node = EXCLUDED.node, at = EXCLUDED.at",
			   3, NULL, values, NULL, NULL, 0);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK
		     ? 0
		     : store_pg_failf(st, APP_EINTERNAL,
				      "cannot note what execution %lld did: %s",
				      (long long)exec_id, PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

int store_pg_effect_get(struct store_pg *st, int64_t exec_id, char **what)
{
	json_object *b = json_object_new_array();
	PGresult *res = NULL;
	int rc;
	json_object_array_add(b, json_object_new_int64(exec_id));
	rc = store_pg_run(st,
			  "SELECT node FROM _flowcgi_effects WHERE \"executionId\" "
			  "= $1",
			  b, &res);
	*what = !rc && PQntuples(res) ? util_xstrdup(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	json_object_put(b);
	return rc;
}

int store_pg_effect_clear(struct store_pg *st, int64_t exec_id)
{
	json_object *b = json_object_new_array();
	PGresult *res = NULL;
	int rc;
	json_object_array_add(b, json_object_new_int64(exec_id));
	rc = store_pg_run(st,
			  "DELETE FROM _flowcgi_effects WHERE \"executionId\" = $1",
			  b, &res);
	PQclear(res);
	json_object_put(b);
	return rc;
}
