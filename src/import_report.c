/*
 * import_report: the summary of an import: one line per item ("imported",
 * "changed" or "skipped", the kind, what and why), notes, and the closing
 * table of counts per kind.
 */
#include "import_int.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const kind_name[IK_NKINDS] = {
	[IK_DATA_SOURCE] = "data source", [IK_COLLECTION] = "collection",
	[IK_FIELD] = "field",             [IK_ROW] = "rows",
	[IK_ROLE] = "role",               [IK_SCOPE] = "scope",
	[IK_GRANT] = "grant",             [IK_USER] = "user",
	[IK_USER_ROLE] = "user's role",   [IK_API_KEY] = "API key",
	[IK_TOKEN] = "token",             [IK_VARIABLE] = "variable",
	[IK_SETTING] = "setting",         [IK_WORKFLOW] = "workflow",
	[IK_NODE] = "node",
};

/* The closing table's rows, plural. */
static const char *const kind_plural[IK_NKINDS] = {
	[IK_DATA_SOURCE] = "data sources", [IK_COLLECTION] = "collections",
	[IK_FIELD] = "fields",             [IK_ROW] = "rows",
	[IK_ROLE] = "roles",               [IK_SCOPE] = "scopes",
	[IK_GRANT] = "grants",             [IK_USER] = "users",
	[IK_USER_ROLE] = "users' roles",   [IK_API_KEY] = "API keys",
	[IK_TOKEN] = "tokens",     [IK_VARIABLE] = "variables",
	[IK_SETTING] = "settings",         [IK_WORKFLOW] = "workflows",
	[IK_NODE] = "nodes",
};

static const char *const outcome_name[IO_NOUTCOMES] = {
	"imported", "changed", "skipped"};

_Static_assert(sizeof(kind_name) / sizeof(kind_name[0]) == IK_NKINDS,
	       "a name for every kind");

void import_report_add(struct import_report *rep, enum import_kind kind,
		       enum import_outcome o, int64_t n, const char *fmt, ...)
{
	va_list ap;
	rep->count[kind][o] += n;
	buf_printf(&rep->lines, "%-8s  %-12s  ", outcome_name[o], kind_name[kind]);
	va_start(ap, fmt);
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_printf(&rep->lines, "%s\n", line);
}

void import_report_count(struct import_report *rep, enum import_kind kind,
			 enum import_outcome o, int64_t n)
{
	rep->count[kind][o] += n;
}

void import_report_note(struct import_report *rep, const char *fmt, ...)
{
	va_list ap;
	char line[1024];
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_printf(&rep->lines, "note      %s\n", line);
}

int import_report_fail(struct import_report *rep, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->error, sizeof(rep->error), fmt, ap);
	va_end(ap);
	return rc;
}

void import_report_totals(const struct import_report *rep, struct buf *out)
{
	int64_t sum[IO_NOUTCOMES] = {0};
	buf_printf(out, "%-16s %9s %9s %9s\n", "", "imported", "changed",
		   "skipped");
	for (int k = 0; k < IK_NKINDS; k++) {
		const int64_t *c = rep->count[k];
		buf_printf(out, "%-16s %9lld %9lld %9lld\n", kind_plural[k],
			   (long long)c[IO_IMPORTED], (long long)c[IO_CHANGED],
			   (long long)c[IO_SKIPPED]);
		for (int o = 0; o < IO_NOUTCOMES; o++)
			sum[o] += c[o];
	}
	buf_printf(out, "%-16s %9lld %9lld %9lld\n", "total",
		   (long long)sum[IO_IMPORTED], (long long)sum[IO_CHANGED],
		   (long long)sum[IO_SKIPPED]);
}

int64_t import_report_skipped(const struct import_report *rep)
{
	int64_t n = 0;
	for (int k = 0; k < IK_NKINDS; k++)
		n += rep->count[k][IO_SKIPPED];
	return n;
}

void import_report_free(struct import_report *rep)
{
	buf_free(&rep->lines);
}
