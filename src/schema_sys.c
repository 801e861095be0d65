/*
 * schema_sys: the built-in collections, in NocoBase's own definition
 * format.  Field order is output order.  Tables are created from these
 * definitions by the store like any collection's.
 */
#include "schema.h"

#define F(n, t) "{\"name\":\"" n "\",\"type\":\"" t "\"}"
#define ID "{\"name\":\"id\",\"type\":\"bigInt\",\"primaryKey\":true}"
#define AT F("createdAt", "date") "," F("updatedAt", "date")

const char *const schema_sys_defs[] = {
	"{\"name\":\"users\",\"security\":true,\"title\":\"Users\",\"createdBy\":true,"
	"\"fields\":[" AT "," ID "," F("nickname", "string") ","
	"{\"name\":\"username\",\"type\":\"string\",\"unique\":true},"
	"{\"name\":\"email\",\"type\":\"string\",\"unique\":true},"
	"{\"name\":\"phone\",\"type\":\"string\",\"unique\":true},"
	"{\"name\":\"password\",\"type\":\"password\",\"hidden\":true},"
	F("passwordChangeTz", "bigInt") "," F("appLang", "string") ","
	"{\"name\":\"systemSettings\",\"type\":\"json\",\"defaultValue\":{}},"
	"{\"name\":\"resetToken\",\"type\":\"string\",\"hidden\":true},"
	"{\"name\":\"roles\",\"security\":true,\"type\":\"belongsToMany\",\"target\":\"roles\","
	"\"through\":\"rolesUsers\",\"foreignKey\":\"userId\","
	"\"otherKey\":\"roleName\",\"targetKey\":\"name\"}]}",

	"{\"name\":\"roles\",\"title\":\"Roles\",\"fields\":[" AT ","
	"{\"name\":\"name\",\"type\":\"string\",\"primaryKey\":true},"
	F("title", "string") "," F("description", "text") ","
	"{\"name\":\"strategy\",\"type\":\"json\"},"
	"{\"name\":\"default\",\"type\":\"boolean\",\"defaultValue\":false},"
	"{\"name\":\"hidden\",\"type\":\"boolean\",\"defaultValue\":false},"
	"{\"name\":\"allowConfigure\",\"type\":\"boolean\"},"
	"{\"name\":\"allowNewMenu\",\"type\":\"boolean\"},"
	"{\"name\":\"snippets\",\"type\":\"json\",\"defaultValue\":[]},"
	F("sort", "integer") ","
	"{\"name\":\"resources\",\"type\":\"hasMany\","
	"\"target\":\"dataSourcesRolesResources\",\"foreignKey\":\"roleName\","
	"\"sourceKey\":\"name\"},"
	"{\"name\":\"users\",\"type\":\"belongsToMany\",\"target\":\"users\","
	"\"through\":\"rolesUsers\",\"foreignKey\":\"roleName\","
	"\"otherKey\":\"userId\",\"sourceKey\":\"name\",\"targetKey\":\"id\"}]}",

	"{\"name\":\"rolesUsers\",\"security\":true,\"fields\":[" AT "," ID ","
	F("userId", "bigInt") "," F("roleName", "string") ","
	"{\"name\":\"default\",\"type\":\"boolean\",\"defaultValue\":false}]}",

	"{\"name\":\"dataSourcesRolesResources\",\"security\":true,\"fields\":[" AT "," ID ","
	F("roleName", "string") ","
	"{\"name\":\"dataSourceKey\",\"type\":\"string\","
	"\"defaultValue\":\"main\"}," F("name", "string") ","
	"{\"name\":\"usingActionsConfig\",\"type\":\"boolean\","
	"\"defaultValue\":false},"
	"{\"name\":\"actions\",\"type\":\"hasMany\","
	"\"target\":\"dataSourcesRolesResourcesActions\","
	"\"foreignKey\":\"rolesResourceId\"}]}",

	"{\"name\":\"dataSourcesRolesResourcesActions\",\"security\":true,\"fields\":[" AT ","
	ID "," F("rolesResourceId", "bigInt") "," F("name", "string") ","
	"{\"name\":\"fields\",\"type\":\"json\",\"defaultValue\":[]},"
	F("scopeId", "bigInt") ","
	"{\"name\":\"scope\",\"type\":\"belongsTo\","
	"\"target\":\"dataSourcesRolesResourcesScopes\","
	"\"foreignKey\":\"scopeId\"}]}",

	"{\"name\":\"dataSourcesRolesResourcesScopes\",\"security\":true,\"fields\":[" AT ","
	ID "," F("key", "string") ","
	"{\"name\":\"dataSourceKey\",\"type\":\"string\","
	"\"defaultValue\":\"main\"}," F("name", "string") ","
	F("resourceName", "string") "," F("scope", "json") "]}",

	"{\"name\":\"apiKeys\",\"security\":true,\"createdBy\":true,\"fields\":[" AT "," ID ","
	F("name", "string") "," F("roleName", "string") ","
	"{\"name\":\"role\",\"type\":\"belongsTo\",\"target\":\"roles\","
	"\"foreignKey\":\"roleName\",\"targetKey\":\"name\"},"
	F("expiresIn", "string") ","
	"{\"name\":\"token\",\"type\":\"text\",\"hidden\":true}]}",

	"{\"name\":\"environmentVariables\",\"fields\":[" AT "," ID ","
	"{\"name\":\"name\",\"type\":\"string\",\"unique\":true},"
	"{\"name\":\"type\",\"type\":\"string\",\"defaultValue\":\"default\"},"
	F("value", "text") "]}",

	"{\"name\":\"workflows\",\"title\":\"Workflows\",\"createdBy\":true,"
	"\"fields\":[" ID "," AT "," F("key", "string") ","
	F("title", "string") ","
	"{\"name\":\"enabled\",\"type\":\"boolean\",\"defaultValue\":false},"
	F("description", "text") "," F("type", "string") ","
	F("triggerTitle", "string") ","
	"{\"name\":\"config\",\"type\":\"json\",\"defaultValue\":{}},"
	"{\"name\":\"invalid\",\"type\":\"boolean\",\"defaultValue\":false},"
	"{\"name\":\"executed\",\"type\":\"integer\",\"defaultValue\":0},"
	"{\"name\":\"allExecuted\",\"type\":\"integer\",\"defaultValue\":0},"
	F("current", "boolean") ","
	"{\"name\":\"sync\",\"type\":\"boolean\",\"defaultValue\":false},"
	"{\"name\":\"options\",\"type\":\"json\","
	"\"defaultValue\":{\"timeout\":0}},"
	"{\"name\":\"nodes\",\"type\":\"hasMany\",\"target\":\"flow_nodes\","
	"\"foreignKey\":\"workflowId\"},"
	"{\"name\":\"executions\",\"type\":\"hasMany\","
	"\"target\":\"executions\",\"foreignKey\":\"workflowId\"}]}",

	"{\"name\":\"flow_nodes\",\"fields\":[" ID "," AT ","
	F("key", "string") "," F("title", "string") ","
	F("workflowId", "bigInt") "," F("upstreamId", "bigInt") ","
	F("branchIndex", "integer") "," F("downstreamId", "bigInt") ","
	F("type", "string") ","
	"{\"name\":\"config\",\"type\":\"json\",\"defaultValue\":{}},"
	"{\"name\":\"workflow\",\"type\":\"belongsTo\",\"target\":\"workflows\","
	"\"foreignKey\":\"workflowId\"},"
	"{\"name\":\"upstream\",\"type\":\"belongsTo\","
	"\"target\":\"flow_nodes\",\"foreignKey\":\"upstreamId\"},"
	"{\"name\":\"downstream\",\"type\":\"belongsTo\","
	"\"target\":\"flow_nodes\",\"foreignKey\":\"downstreamId\"}]}",

	"{\"name\":\"executions\",\"reuseIds\":true,\"fields\":[" AT ","
	F("startedAt", "date") "," F("expiresAt", "date") "," ID ","
	F("workflowId", "bigInt") "," F("key", "string") ","
	F("eventKey", "string") "," F("context", "json") ","
	F("status", "integer") "," F("reason", "string") ","
	"{\"name\":\"dispatched\",\"type\":\"boolean\",\"defaultValue\":false},"
	F("parentExecutionId", "bigInt") "," F("stack", "json") ","
	F("retryOfId", "bigInt") ","
	F("output", "json") ","
	F("manually", "boolean") ","
	"{\"name\":\"worker\",\"type\":\"string\",\"hidden\":true},"
	/* The jobs of an execution, written with it in one row: see
	 * api_executions.c for how they are shown as NocoBase's jobs. */
	"{\"name\":\"jobsData\",\"type\":\"json\",\"hidden\":true},"
	"{\"name\":\"workflow\",\"type\":\"belongsTo\",\"target\":\"workflows\","
	"\"foreignKey\":\"workflowId\"}]}",

	/* Issued session tokens and revoked ones (reference §8.2-8.3). */
	"{\"name\":\"issuedTokens\",\"internal\":true,\"fields\":[" AT "," ID
	"," F("jti", "string") "," F("issuedTime", "bigInt") ","
	F("signInTime", "bigInt") ","
	"{\"name\":\"renewed\",\"type\":\"boolean\",\"defaultValue\":false},"
	F("userId", "bigInt") "," F("renewedTo", "string") ","
	F("renewedAt", "bigInt") "]}",

	"{\"name\":\"tokenBlacklist\",\"security\":true,\"internal\":true,\"fields\":[" AT ","
	ID "," F("token", "string") "," F("expiration", "date") "]}",

	/* Answers stored under an Idempotency-Key: scopeKey is "<userId>:<key>"
	 * (a webhook's: "webhook:<workflow key>:<delivery id>"). */
	"{\"name\":\"idempotencyKeys\",\"internal\":true,\"fields\":[" AT ","
	ID ",{\"name\":\"scopeKey\",\"type\":\"string\",\"unique\":true},"
	F("fingerprint", "string") "," F("status", "integer") ","
	F("body", "text") "," F("executionIds", "string") ","
	F("expiresAt", "bigInt") "]}",

	NULL,
};
