/*
 * err: the one project-wide error enum and its mapping to HTTP.
 *
 * Every fallible function returns 0 (APP_OK) or an enum app_err.  The table
 * in err.c is the only place where an error becomes a status, a stable
 * machine-readable code (contract §9) and NocoBase's default message.
 */
#ifndef FLOWCGI_ERR_H
#define FLOWCGI_ERR_H

enum app_err {
	APP_OK = 0,
	APP_EINTERNAL,          /* 500 INTERNAL_ERROR */
	APP_EJSON,              /* 400 INVALID_JSON */
	APP_ETOO_LARGE,         /* 413 BODY_TOO_LARGE */
	APP_ENOT_FOUND,         /* 404 NOT_FOUND: route or collection */
	APP_ERECORD_NOT_FOUND,  /* 404 RECORD_NOT_FOUND */
	APP_EMETHOD,            /* 405 METHOD_NOT_ALLOWED */
	APP_EPARAM,             /* 400 INVALID_PARAMETER */
	APP_EID,                /* 400 INVALID_ID */
	APP_EFIELD,             /* 400 UNKNOWN_FIELD */
	APP_EOPERATOR,          /* 400 UNKNOWN_OPERATOR */
	APP_EVALIDATION,        /* 400 VALIDATION_ERROR */
	APP_EDENIED,            /* 403 NO_PERMISSION */
	APP_ECREDENTIALS,       /* 401 INVALID_CREDENTIALS */
	APP_EEMPTY_TOKEN,       /* 401 EMPTY_TOKEN */
	APP_EINVALID_TOKEN,     /* 401 INVALID_TOKEN */
	APP_EEXPIRED_SESSION,   /* 401 EXPIRED_SESSION */
	APP_EBLOCKED_TOKEN,     /* 401 BLOCKED_TOKEN */
	APP_ENO_USER,           /* 401 NOT_EXIST_USER */
	APP_EROLE,              /* 401 ROLE_NOT_FOUND_FOR_USER */
	APP_ENO_ROLES,          /* 401 USER_HAS_NO_ROLES_ERR */
	APP_ESKIP_RENEW,        /* 401 SKIP_TOKEN_RENEW */
	APP_ERENEW_FAILED,      /* 401 TOKEN_RENEW_FAILED */
	APP_EDATA_SOURCE,       /* 400 DATA_SOURCE_NOT_FOUND */
	APP_ETRIGGER_REQUIRED,  /* 400 TRIGGER_WORKFLOWS_REQUIRED */
	APP_ENO_WORKFLOW,       /* 500 NO_WORKFLOW_MATCHED */
	APP_EWF_FAILED,         /* 500 WORKFLOW_FAILED */
	APP_EWF_HANGS,          /* 500 WORKFLOW_HANGS */
	APP_EWF_INTERCEPTED,    /* 400 WORKFLOW_INTERCEPTED */
	APP_ENOT_TO_ONE,        /* 400 ASSOCIATION_NOT_TO_ONE */
	APP_EASSOC_PATH,        /* 400 INVALID_ASSOCIATION_PATH */
	APP_EWF_EXECUTED,       /* 400 WORKFLOW_EXECUTED */
	APP_EDB_UNINIT,         /* 503 DATABASE_NOT_INITIALIZED */
	APP_EDB_BUSY,           /* 503 DATABASE_BUSY */
	APP_ECONFLICT,          /* 400 UNIQUE_VIOLATION */
	APP_ELIMIT,             /* 500 LIMIT_EXCEEDED (workflow limits) */
	APP_EIDEM_INVALID,      /* 400 INVALID_IDEMPOTENCY_KEY */
	APP_EIDEM_MISMATCH,     /* 422 IDEMPOTENCY_KEY_MISMATCH */
	APP_EIDEM_IN_USE,       /* 409 IDEMPOTENCY_KEY_IN_USE */
	APP_ESIGNATURE,         /* 401 INVALID_SIGNATURE (webhooks) */
	APP_ESIG_EXPIRED,       /* 401 SIGNATURE_EXPIRED (webhooks) */
	APP_ETXN_CONFLICT,      /* 409 TRANSACTION_CONFLICT */
	APP_EDB_UNAVAILABLE,    /* 503 DATABASE_UNAVAILABLE */
	APP_EDB_READONLY,       /* 503 DATABASE_READONLY */
	APP_EDB_CORRUPT,        /* 503 DATABASE_CORRUPT */
	APP_ESTORAGE_FULL,      /* 507 STORAGE_FULL */
	APP_EINPUT_LIMIT,       /* 400 INPUT_LIMIT_EXCEEDED (an input over a limit) */
	APP_E__COUNT
};

struct err_info {
	int status;
	const char *code;
	const char *message;
};

const struct err_info *err_info(int err);

/* An error as the parts below the API report it (security, engine): the
 * code, NocoBase's message when it is not the table's, and a sentence
 * that says why.  Only the pipeline turns it into an HTTP answer. */
struct err_why {
	int code;
	const char *message;  /* static text, or NULL: the table's */
	char reason[512];
};

/* Set w and return code. */
int err_why_set(struct err_why *w, int code, const char *message,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "404 Not Found" style reason phrase for a status. */
const char *err_status_text(int status);

#endif
