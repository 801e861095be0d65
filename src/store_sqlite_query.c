/*
 * store_query: the record queries of the SQLite backend.  Filters and
 * sorts are compiled by store_filter.c in SQLite's dialect (below); this
 * file builds the statements around them, runs them and reads the rows.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "jsonx.h"
#include "util.h"

#define FIND_MAX_COLUMNS 256

static void sqlite_placeholder(struct buf *sql, int n, enum ftype t)
{
	(void)n;
	(void)t;
	buf_putc(sql, '?'); /* numbered by position, as the binds are */
}

const struct store_dialect store_dialect_sqlite = {
	.name = "sqlite",
	.placeholder = sqlite_placeholder,
	.sql_true = "1",
	.sql_false = "0",
	.numeric_open = "CAST(",
	.numeric_close = " AS REAL)",
	.like_nocase = "LIKE", /* SQLite's LIKE ignores ASCII case */
	.like_case = "LIKE",
	.like_escape = " ESCAPE '\\'",
	.text_empty = " = ''",
	.json_empty = " IN ('', '[]', '{}')",
};

static void query_init(struct store_filter *q, const struct schema *s,
		       struct buf *sql, json_object *binds)
{
	store_filter_init(q, &store_dialect_sqlite, s, sql, binds);
}

/* A filter compiler's error, recorded on the store. */
static int query_fail(struct store_sqlite *st, const struct store_filter *q, int rc)
{
	return store_sqlite_failf(st, rc, "%s", q->err);
}

static int where(struct store_sqlite *st, struct store_filter *q,
		 const struct coll *c, json_object *filter)
{
	int rc = store_filter_where(q, c, filter);
	return rc ? query_fail(st, q, rc) : 0;
}

/* Column value to JSON by field type (new ref). */
static json_object *column_json(sqlite3_stmt *s, int i, const struct field *f)
{
	int ct = sqlite3_column_type(s, i);
	if (ct == SQLITE_NULL)
		return NULL;
	switch (f->type) {
	case FT_BOOLEAN:
		return json_object_new_boolean(sqlite3_column_int64(s, i) != 0);
	case FT_INTEGER:
	case FT_BIGINT:
		return ct == SQLITE_INTEGER
			       ? json_object_new_int64(sqlite3_column_int64(s, i))
			       : json_object_new_string(
					 (const char *)sqlite3_column_text(s, i));
	case FT_FLOAT:
	case FT_DOUBLE:
		return jsonx_number(sqlite3_column_double(s, i));
	case FT_JSON: {
		const char *text = (const char *)sqlite3_column_text(s, i);
		json_object *o = json_tokener_parse(text);
		if (!o && strcmp(text, "null"))
			return json_object_new_string(text);
		return o;
	}
	default:
		return json_object_new_string_len(
			(const char *)sqlite3_column_text(s, i),
			sqlite3_column_bytes(s, i));
	}
}

/* The columns a find outputs: the ones asked for, or every visible one. */
static int find_columns(struct store_sqlite *st, const struct coll *c,
			const struct store_find *q0, const struct field **out,
			int *nout)
{
	*nout = 0;
	if (!q0->fields) {
		for (int i = 0; i < c->nfields && *nout < FIND_MAX_COLUMNS;
		     i++) {
			const struct field *f = &c->fields[i];
			if (field_has_column(f) && (!f->hidden || q0->hidden))
				out[(*nout)++] = f;
		}
		return 0;
	}
	for (int i = 0; i < q0->nfields && *nout < FIND_MAX_COLUMNS; i++) {
		const struct field *f = coll_field(c, q0->fields[i]);
		if (!f || !field_has_column(f) || (f->hidden && !q0->hidden))
			return store_sqlite_failf(st, APP_EFIELD,
					   "Unknown field \"%s\" in collection "
					   "\"%s\"",
					   q0->fields[i], c->name);
		out[(*nout)++] = f;
	}
	return 0;
}

/* SELECT <out> FROM c AS t0 WHERE ... ORDER BY ... [LIMIT ... OFFSET ...] */
static int find_sql(struct store_sqlite *st, struct store_filter *q,
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
		return query_fail(st, q, rc);
	if (q0->limit > 0)
		buf_printf(q->sql, " LIMIT %lld OFFSET %lld",
			   (long long)q0->limit, (long long)q0->offset);
	return 0;
}

/* Step stmt to the end: one object per row, keyed by the out fields. */
static int find_rows(struct store_sqlite *st, sqlite3_stmt *stmt,
		     const struct field *const *out, int nout,
		     json_object *rows)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_object *row = json_object_new_object();
		for (int i = 0; i < nout; i++)
			json_object_object_add(row, out[i]->name,
					       column_json(stmt, i, out[i]));
		json_object_array_add(rows, row);
	}
	return rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "find");
}

int store_sqlite_find(struct store_sqlite *st, const struct schema *s, const struct coll *c,
	       const struct store_find *q0, json_object **rows)
{
	struct buf sql = {0};
	struct store_filter q;
	const struct field *out[FIND_MAX_COLUMNS];
	sqlite3_stmt *stmt = NULL;
	int nout = 0, rc;

	*rows = NULL;
	query_init(&q, s, &sql, json_object_new_array());
	if ((rc = find_columns(st, c, q0, out, &nout)) ||
	    (rc = find_sql(st, &q, c, q0, out, nout)) ||
	    (rc = store_sqlite_stmt(st, buf_str(&sql), &stmt)) ||
	    (rc = store_sqlite_bind(st, stmt, q.binds)))
		goto out;
	*rows = json_object_new_array();
	rc = find_rows(st, stmt, out, nout, *rows);
out:
	store_sqlite_done(st, stmt);
	if (rc) {
		json_object_put(*rows);
		*rows = NULL;
	}
	json_object_put(q.binds);
	buf_free(&sql);
	return rc;
}

/* Prepare sql, bind binds and step once: *n gets the first column of the
 * row (a count), or for a statement that returns no row, the number of
 * rows it changed. */
static int step_count(struct store_sqlite *st, struct buf *sql, json_object *binds,
		      int64_t *n, const char *what)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	if ((rc = store_sqlite_stmt(st, buf_str(sql), &stmt)) ||
	    (rc = store_sqlite_bind(st, stmt, binds)))
		goto out;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(stmt, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		*n = sqlite3_changes(st->db);
		rc = 0;
	} else {
		rc = store_sqlite_fail(st, rc, what);
	}
out:
	store_sqlite_done(st, stmt);
	return rc;
}

/* "<head><table> AS t0 WHERE <filter>", run by step_count. */
static int filtered(struct store_sqlite *st, const struct schema *s,
		    const struct coll *c, json_object *filter, const char *head,
		    const char *what, int64_t *n)
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
		rc = step_count(st, &sql, q.binds, n, what);
	json_object_put(q.binds);
	buf_free(&sql);
	return rc;
}

int store_sqlite_count(struct store_sqlite *st, const struct schema *s,
		const struct coll *c, json_object *filter, int64_t *n)
{
	return filtered(st, s, c, filter, "SELECT count(*) FROM ", "count", n);
}

int store_sqlite_insert(struct store_sqlite *st, const struct coll *c, json_object *values,
		 json_object **pk)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	sqlite3_stmt *stmt = NULL;
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
		for (int i = 0; i < n; i++)
			buf_puts(&sql, i ? ", ?" : "?");
		buf_putc(&sql, ')');
	} else {
		buf_puts(&sql, " DEFAULT VALUES");
	}
	if ((rc = store_sqlite_stmt(st, buf_str(&sql), &stmt)) ||
	    (rc = store_sqlite_bind(st, stmt, binds)))
		goto out;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_fail(st, rc, "insert");
		goto out;
	}
	rc = 0;
	if (c->pk_int)
		*pk = json_object_new_int64(sqlite3_last_insert_rowid(st->db));
	else
		*pk = jsonx_ref(jsonx_get(values, c->pk));
out:
	store_sqlite_done(st, stmt);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

static int update_sql(struct store_sqlite *st, const struct schema *s,
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

int store_sqlite_update(struct store_sqlite *st, const struct schema *s,
		 const struct coll *c, json_object *filter, json_object *values,
		 json_object **pks)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	sqlite3_stmt *stmt = NULL;
	int rc;

	*pks = json_object_new_array();
	rc = update_sql(st, s, c, filter, &sql, binds, values);
	if (rc == -1) {
		/* Nothing to set: report the matching keys unchanged. */
		struct store_find q = {.filter = filter,
				       .fields = &c->pk,
				       .nfields = 1};
		json_object *rows = NULL;
		json_object_put(binds);
		buf_free(&sql);
		rc = store_sqlite_find(st, s, c, &q, &rows);
		for (size_t i = 0; !rc && i < json_object_array_length(rows); i++)
			json_object_array_add(
				*pks, jsonx_ref(jsonx_get(
					      json_object_array_get_idx(rows, i),
					      c->pk)));
		json_object_put(rows);
		return rc;
	}
	if (rc)
		goto out;
	buf_puts(&sql, " RETURNING ");
	store_ident(&sql, c->pk);
	if ((rc = store_sqlite_stmt(st, buf_str(&sql), &stmt)) ||
	    (rc = store_sqlite_bind(st, stmt, binds)))
		goto out;
	const struct field *pkf = coll_pk(c);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_object_array_add(*pks, column_json(stmt, 0, pkf));
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "update");
out:
	store_sqlite_done(st, stmt);
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

int store_sqlite_update_count(struct store_sqlite *st, const struct schema *s,
		       const struct coll *c, json_object *filter,
		       json_object *values, int64_t *n)
{
	struct buf sql = {0};
	json_object *binds = json_object_new_array();
	int rc;

	*n = 0;
	rc = update_sql(st, s, c, filter, &sql, binds, values);
	if (rc == -1)
		rc = store_sqlite_count(st, s, c, filter, n);
	else if (!rc)
		rc = step_count(st, &sql, binds, n, "update");
	json_object_put(binds);
	buf_free(&sql);
	return rc;
}

int store_sqlite_delete(struct store_sqlite *st, const struct schema *s,
		 const struct coll *c, json_object *filter, int64_t *n)
{
	return filtered(st, s, c, filter, "DELETE FROM ", "delete", n);
}

int store_sqlite_claim_execution(struct store_sqlite *st, const char *worker, int64_t *id)
{
	sqlite3_stmt *stmt = NULL;
	char now[32];
	int rc = store_sqlite_stmt(
		st,
		"UPDATE executions SET status = 0, dispatched = 1, worker = ?1, "
		"startedAt = ?2, updatedAt = ?2 WHERE id = (SELECT id FROM "
		"executions WHERE status IS NULL ORDER BY id LIMIT 1) AND "
		"status IS NULL RETURNING id",
		&stmt);
	*id = 0;
	if (rc)
		return rc;
	util_iso_from_ms(util_now_ms(), now);
	sqlite3_bind_text(stmt, 1, worker, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(stmt, 0);
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
			;
	}
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "claim");
	store_sqlite_done(st, stmt);
	return rc;
}

int store_sqlite_orphans(struct store_sqlite *st,
			 bool (*alive)(const char *worker), json_object **ids)
{
	sqlite3_stmt *sel = NULL;
	int rc = store_sqlite_stmt(st,
				   "SELECT id, worker FROM executions WHERE "
				   "status = 0 AND worker IS NOT NULL",
				   &sel);
	*ids = json_object_new_array();
	if (rc)
		return rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW)
		if (!alive((const char *)sqlite3_column_text(sel, 1)))
			json_object_array_add(
				*ids, json_object_new_int64(sqlite3_column_int64(sel, 0)));
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_fail(st, rc, "orphans");
	store_sqlite_done(st, sel);
	return rc;
}

/* ---- effects: a file per execution beside the database ---- */

/* The writers' lock keeps a second connection from writing while an
 * execution's transaction is open, so a note outside it is a file:
 * "<db>-effects/<id>".  It is written beside and renamed into place, so
 * that a kill between create and write never leaves an empty note (read
 * as "sent" with no node to name).  A process that dies keeps it; a
 * kill -9 loses no write the kernel already has. */
static void effect_path(struct store_sqlite *st, int64_t id, const char *ext,
			struct buf *b)
{
	buf_printf(b, "%s-effects", st->path);
	if (id)
		buf_printf(b, "/%lld%s", (long long)id, ext);
}

int store_sqlite_effect_note(struct store_sqlite *st, int64_t exec_id,
			     const char *what)
{
	struct buf dir = {0}, tmp = {0}, path = {0};
	size_t len = strlen(what);
	int fd, rc = 0;

	effect_path(st, 0, "", &dir);
	effect_path(st, exec_id, ".new", &tmp);
	effect_path(st, exec_id, "", &path);
	mkdir(buf_str(&dir), 0770);
	fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
	if (fd < 0 || write(fd, what, len) != (ssize_t)len ||
	    rename(buf_str(&tmp), buf_str(&path)))
		rc = store_sqlite_failf(st, APP_EINTERNAL,
					"cannot note what execution %lld did in "
					"%s: %s",
					(long long)exec_id, buf_str(&path),
					strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_free(&dir);
	buf_free(&tmp);
	buf_free(&path);
	return rc;
}

int store_sqlite_effect_get(struct store_sqlite *st, int64_t exec_id,
			    char **what)
{
	struct buf path = {0};
	char text[512];
	ssize_t n;
	int fd;

	*what = NULL;
	effect_path(st, exec_id, "", &path);
	fd = open(buf_str(&path), O_RDONLY | O_CLOEXEC);
	buf_free(&path);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	*what = util_xstrdup(text);
	return 0;
}

int store_sqlite_effect_clear(struct store_sqlite *st, int64_t exec_id)
{
	struct buf path = {0}, tmp = {0};
	effect_path(st, exec_id, "", &path);
	effect_path(st, exec_id, ".new", &tmp);
	unlink(buf_str(&path));
	unlink(buf_str(&tmp));
	buf_free(&path);
	buf_free(&tmp);
	return 0;
}
