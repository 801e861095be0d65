/*
 * import: `flowcgi.fcgi import nocobase` (issue 16), a NocoBase site moved
 * into the database of --db in one command: its collections (and with
 * --rows their rows), users with their password hashes, roles, grants and
 * scopes, workflows of the types flowcgi runs with every version and node,
 * the token secret (--app-dir), the token policy and the tokens NocoBase
 * revoked.  NocoBase's own tables are read (never its HTTP API), in one
 * read-only transaction; everything lands in one transaction on the
 * target or nothing does.  What cannot move is listed with the reason.
 */
#ifndef FLOWCGI_IMPORT_H
#define FLOWCGI_IMPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "buf.h"

struct import_opts {
	const char *from;    /* NocoBase's database: postgresql:// or a file */
	const char *app_dir; /* NocoBase's folder (.env, storage/), or NULL */
	bool rows;           /* --rows: the collections' rows too */
	bool dry_run;        /* --dry-run: do it all, then roll back */
	bool merge;          /* --merge: the target need not be empty */
};

/* What the summary counts, one row each. */
enum import_kind {
	IK_DATA_SOURCE, IK_COLLECTION, IK_FIELD, IK_ROW, IK_ROLE, IK_SCOPE,
	IK_GRANT, IK_USER, IK_USER_ROLE, IK_API_KEY, IK_TOKEN, IK_VARIABLE,
	IK_SETTING, IK_WORKFLOW, IK_NODE, IK_NKINDS
};

/* imported: as it was; changed: imported, but it replaced a row of the
 * target or differs from NocoBase's (say how); skipped: not imported. */
enum import_outcome { IO_IMPORTED, IO_CHANGED, IO_SKIPPED, IO_NOUTCOMES };

struct import_report {
	struct buf lines;    /* one line per item and note, in import order */
	int64_t count[IK_NKINDS][IO_NOUTCOMES];
	char error[600];     /* why the import stopped (nothing written) */
};

/* Import the NocoBase site of o into a's database (opened and migrated;
 * not in a transaction).  0 when it landed (or, with --dry-run, would
 * have), with every item in rep, skipped ones included; else an app
 * error with rep->error, and the target unchanged. */
int import_nocobase(struct app *a, const struct import_opts *o,
		    struct import_report *rep);

/* The summary's closing table: counts per kind, then the totals. */
void import_report_totals(const struct import_report *rep, struct buf *out);
int64_t import_report_skipped(const struct import_report *rep);
void import_report_free(struct import_report *rep);

#endif
