/*
 * import_int: what the files of import nocobase share (never included
 * above them): the source as read, the context of one import, the report
 * lines, and the writer every part puts its rows through.
 *
 *   import_nocobase.c         the driver: order, transaction, counters
 *   import_nocobase_read.c    NocoBase's tables, read once
 *   import_nocobase_app.c     NocoBase's folder: token secret, AES key
 *   import_nocobase_schema.c  collections, fields, and rows (--rows)
 *   import_nocobase_acl.c     roles, scopes, grants, users, tokens, ...
 *   import_nocobase_flows.c   workflows and their nodes
 *   import_write.c            rows into the target; the seeded rows
 *   import_report.c           the summary
 */
#ifndef FLOWCGI_IMPORT_INT_H
#define FLOWCGI_IMPORT_INT_H

#include <json-c/json.h>
#include <stddef.h>

#include "import.h"
#include "store.h"

/* NocoBase 2.2's tables that the import reads whole. */
enum nb_table {
	NB_COLLECTIONS, NB_FIELDS, NB_DATA_SOURCES, NB_USERS, NB_ROLES,
	NB_ROLES_USERS, NB_DS_ROLES, NB_RESOURCES, NB_ACTIONS, NB_SCOPES,
	NB_API_KEYS, NB_ISSUED, NB_BLACKLIST, NB_TOKEN_POLICY, NB_ENV,
	NB_SETTINGS, NB_WORKFLOWS, NB_NODES, NB_NTABLES
};

/* What NocoBase's folder holds for the import. */
struct nb_app {
	unsigned char *secret;   /* the token key, as NocoBase uses it */
	size_t secret_len;
	bool secret_raw;         /* jwt_secret.dat (bytes), not APP_KEY */
	char secret_from[300];   /* where it came from, for the summary */
	unsigned char aes[32];   /* the key of secret environment variables */
	bool has_aes;
	char aes_from[300];
};

struct import_ctx {
	struct app *app;                 /* the target, inside its write txn */
	const struct import_opts *opts;
	struct import_report *rep;
	struct store_src *src;
	json_object *t[NB_NTABLES];      /* each table's rows; NULL: absent */
	int64_t executions;              /* the source's history (not moved) */
	json_object *seeded;             /* a fresh init's keys, per table */
	json_object *moved;              /* collections imported: name -> def */
	struct nb_app nb;
	bool has_app;
};

/* ---- import_nocobase_read.c ---- */

/* Every table of enum nb_table into x->t, and the history count.  A
 * database without NocoBase's core tables is refused with the reason. */
int import_nocobase_read(struct import_ctx *x);
/* The rows of t whose key equals the number or string value (borrowed
 * rows in a new array). */
json_object *import_nocobase_where(json_object *rows, const char *key,
				   json_object *value);

/* ---- import_nocobase_app.c ---- */

/* The token secret and AES key of the NocoBase folder dir, found where
 * NocoBase looks: 0, or -1 with err saying what is missing. */
int import_nocobase_app_read(const char *dir, struct nb_app *out, char *err,
			     size_t errlen);
void import_nocobase_app_free(struct nb_app *nb);
/* The value of key in a .env text (dotenv rules: comments, export,
 * quotes), malloc'd, or NULL. */
char *import_nocobase_env_value(const char *text, const char *key);
/* A NocoBase secret environment variable (hex iv + ciphertext), decrypted
 * with the app's AES key; malloc'd, or NULL. */
char *import_nocobase_app_decrypt(const struct nb_app *nb, const char *hex);

/* ---- import_nocobase_schema.c ---- */

/* The flowcgi type of a NocoBase field type (its storage), or NULL when
 * flowcgi has none. */
const char *import_nocobase_field_type(const char *nb_type);
int import_nocobase_schema(struct import_ctx *x);
int import_nocobase_rows(struct import_ctx *x);

/* ---- import_nocobase_acl.c ---- */

/* A revoked token as flowcgi keeps it: a jti as it is, a whole token
 * (an API key has no jti) as the hex SHA-256 of it. */
void import_nocobase_blocked_key(const char *nb_token, char *out, size_t n);
int import_nocobase_acl(struct import_ctx *x);
int import_nocobase_tokens(struct import_ctx *x);

/* ---- import_nocobase_flows.c ---- */

int import_nocobase_flows(struct import_ctx *x);

/* ---- import_write.c ---- */

/* Target values for collection c from a NocoBase row: each column of c
 * the row has, coerced to its type; passwords as they are (NocoBase's
 * hashes are the ones flowcgi checks).  New ref in *values, or an error
 * with the reason in rep->error. */
int import_write_values(struct import_ctx *x, const struct coll *c,
			json_object *row, json_object **values);
/* Insert values into collection coll.  With --merge, the target's row
 * that match selects (NULL: the same primary key) is deleted first, and
 * *replaced says so. */
int import_write_put(struct import_ctx *x, const char *coll,
		     json_object *values, json_object *match, bool *replaced);
/* Note what a fresh init made (roles, root user, scopes) and delete it:
 * the site's own rows replace it.  Only without --merge. */
int import_write_clear_seeded(struct import_ctx *x);
/* Whether a fresh init had made table's row with this key (a role name,
 * a user id, a scope key): importing it counts as a change. */
bool import_write_was_seeded(struct import_ctx *x, const char *table,
			     json_object *key);
/* The store's error as the import's (returns rc). */
int import_write_fail(struct import_ctx *x, int rc, const char *what);

/* ---- import_report.c ---- */

void import_report_add(struct import_report *rep, enum import_kind kind,
		       enum import_outcome o, int64_t n, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Count n items without a line of their own. */
void import_report_count(struct import_report *rep, enum import_kind kind,
			 enum import_outcome o, int64_t n);
/* A line that counts nothing (what does not move by design, hints). */
void import_report_note(struct import_report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int import_report_fail(struct import_report *rep, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
