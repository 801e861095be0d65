/* err: the error table (contract §7, §9; reference §2.5, §3.6, §8). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

#define EXPIRED "Your session has expired. Please sign in again."

static const struct err_info table[APP_E__COUNT] = {
	[APP_OK] = {200, "OK", ""},
	[APP_EINTERNAL] = {500, "INTERNAL_ERROR", "Internal Server Error"},
	[APP_EJSON] = {400, "INVALID_JSON", "Invalid JSON"},
	[APP_ETOO_LARGE] = {413, "BODY_TOO_LARGE", "Request body too large"},
	[APP_ENOT_FOUND] = {404, "NOT_FOUND", "Not Found"},
	[APP_ERECORD_NOT_FOUND] = {404, "RECORD_NOT_FOUND", "Record not found"},
	[APP_EMETHOD] = {405, "METHOD_NOT_ALLOWED", "Method Not Allowed"},
	[APP_EPARAM] = {400, "INVALID_PARAMETER", "Invalid parameter"},
	[APP_EID] = {400, "INVALID_ID", "Invalid id"},
	[APP_EFIELD] = {400, "UNKNOWN_FIELD", "Unknown field"},
	[APP_EOPERATOR] = {400, "UNKNOWN_OPERATOR", "Unknown operator"},
	[APP_EVALIDATION] = {400, "VALIDATION_ERROR", "Validation error"},
	[APP_EDENIED] = {403, "NO_PERMISSION", "No permissions"},
	[APP_ECREDENTIALS] = {401, "INVALID_CREDENTIALS",
		"The username/email or password is incorrect, please re-enter"},
	[APP_EEMPTY_TOKEN] = {401, "EMPTY_TOKEN",
		"Unauthenticated. Please sign in to continue."},
	[APP_EINVALID_TOKEN] = {401, "INVALID_TOKEN", EXPIRED},
	[APP_EEXPIRED_SESSION] = {401, "EXPIRED_SESSION", EXPIRED},
	[APP_EBLOCKED_TOKEN] = {401, "BLOCKED_TOKEN", EXPIRED},
	[APP_ENO_USER] = {401, "NOT_EXIST_USER",
		"User not found. Please sign in again to continue."},
	[APP_EROLE] = {401, "ROLE_NOT_FOUND_FOR_USER",
		"The role does not belong to the user"},
	[APP_ENO_ROLES] = {401, "USER_HAS_NO_ROLES_ERR",
		"The current user has no roles. Please try another account."},
	[APP_ESKIP_RENEW] = {401, "SKIP_TOKEN_RENEW",
		"Stream api not allow renew token."},
	[APP_ERENEW_FAILED] = {401, "TOKEN_RENEW_FAILED", EXPIRED},
	[APP_EDATA_SOURCE] = {400, "DATA_SOURCE_NOT_FOUND",
		"data source does not exist"},
	[APP_ETRIGGER_REQUIRED] = {400, "TRIGGER_WORKFLOWS_REQUIRED",
		"parameter \"triggerWorkflows\" is required"},
	[APP_ENO_WORKFLOW] = {500, "NO_WORKFLOW_MATCHED",
		"No action done, please contact the administrator"},
	[APP_EWF_FAILED] = {500, "WORKFLOW_FAILED",
		"Workflow on your action failed, please contact the administrator"},
	[APP_EWF_HANGS] = {500, "WORKFLOW_HANGS",
		"Workflow on your action hangs, please contact the administrator"},
	[APP_EWF_INTERCEPTED] = {400, "WORKFLOW_INTERCEPTED",
		"Request is intercepted by workflow"},
	[APP_ENOT_TO_ONE] = {400, "ASSOCIATION_NOT_TO_ONE",
		"Only many-to-one and one-to-one associations can be triggered"},
	[APP_EASSOC_PATH] = {400, "INVALID_ASSOCIATION_PATH",
		"Invalid association path"},
	[APP_EWF_EXECUTED] = {400, "WORKFLOW_EXECUTED",
		"Nodes in executed workflow could not be reconfigured"},
	[APP_EDB_UNINIT] = {503, "DATABASE_NOT_INITIALIZED",
		"Database is not initialized"},
	[APP_EDB_BUSY] = {503, "DATABASE_BUSY",
		"Database is busy, please retry"},
	[APP_ECONFLICT] = {400, "UNIQUE_VIOLATION", "Value must be unique"},
	[APP_ELIMIT] = {500, "LIMIT_EXCEEDED", "Workflow limit exceeded"},
	[APP_EIDEM_INVALID] = {400, "INVALID_IDEMPOTENCY_KEY",
		"Invalid Idempotency-Key"},
	[APP_EIDEM_MISMATCH] = {422, "IDEMPOTENCY_KEY_MISMATCH",
		"Idempotency-Key was used with a different request"},
	[APP_EIDEM_IN_USE] = {409, "IDEMPOTENCY_KEY_IN_USE",
		"A request with this Idempotency-Key is still running"},
	[APP_ESIGNATURE] = {401, "INVALID_SIGNATURE", "Invalid signature"},
	[APP_ESIG_EXPIRED] = {401, "SIGNATURE_EXPIRED",
		"Signature timestamp is outside the tolerance"},
	[APP_ETXN_CONFLICT] = {409, "TRANSACTION_CONFLICT",
		"The transaction conflicted with another one, please retry"},
	[APP_EDB_UNAVAILABLE] = {503, "DATABASE_UNAVAILABLE",
		"Database is unavailable"},
	[APP_EDB_READONLY] = {503, "DATABASE_READONLY", "Database is read-only"},
	[APP_EDB_CORRUPT] = {503, "DATABASE_CORRUPT", "Database is damaged"},
	[APP_ESTORAGE_FULL] = {507, "STORAGE_FULL", "Storage is full"},
	[APP_EINPUT_LIMIT] = {400, "INPUT_LIMIT_EXCEEDED",
		"The request exceeds a limit"},
};

const struct err_info *err_info(int err)
{
	if (err <= 0 || err >= APP_E__COUNT || !table[err].code)
		return &table[APP_EINTERNAL];
	return &table[err];
}

const char *err_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}

int err_why_set(struct err_why *w, int code, const char *message,
		const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->reason, sizeof(w->reason), fmt, ap);
	va_end(ap);
	w->code = code;
	w->message = message;
	return code;
}
