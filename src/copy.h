/*
 * copy: a whole site from one store to another (`flowcgi.fcgi copy`).
 */
#ifndef FLOWCGI_COPY_H
#define FLOWCGI_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define COPY_MAX_TABLES 256

struct copy_report {
	struct {
		char name[64];
		int64_t rows;
	} tables[COPY_MAX_TABLES];
	int ntables;
	char error[600];
};

/* Copy everything of from into to (migrated first; it must be empty but
 * for a fresh init's rows, which the source's replace).  One transaction
 * on the target; the row counts of every table are checked.  0, or an
 * app error with rep->error saying why (nothing written then). */
int copy_site(struct store *from, struct store *to, struct copy_report *rep);

/* Whether the target holds nothing but what a fresh init makes (its
 * roles, scopes, root user and the user's roles): 0, or an error with err
 * naming the first table that has more.  Also used by import nocobase. */
int copy_target_empty(struct store *to, const struct schema *s, char *err,
		      size_t errlen);
/* Delete a fresh init's rows, which the incoming site's replace. */
int copy_clear_seeded(struct store *to, const struct schema *s);

#endif
