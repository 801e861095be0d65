/*
 * schema: collections and fields as data (no SQL here).
 *
 * A collection definition is NocoBase's JSON (short or full form); schema
 * parses it into struct coll, checks every name against the identifier
 * rule and every type against the supported set, and links associations
 * (a hasMany on posts adds its foreign key column to the target).  The
 * built-in system collections (users, roles, workflows, ...) are defined
 * in schema_sys.c with the same JSON.  A struct schema is immutable once
 * built; the process rebuilds it when the database's schema counter moves.
 */
#ifndef FLOWCGI_SCHEMA_H
#define FLOWCGI_SCHEMA_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

enum ftype {
	FT_STRING,
	FT_TEXT,
	FT_INTEGER,
	FT_BIGINT,
	FT_FLOAT,
	FT_DOUBLE,
	FT_DECIMAL,
	FT_BOOLEAN,
	FT_DATE,
	FT_JSON,
	FT_PASSWORD,
	FT_BELONGS_TO,
	FT_HAS_ONE,
	FT_HAS_MANY,
	FT_BELONGS_TO_MANY,
};

struct field {
	char *name;
	enum ftype type;
	bool hidden;       /* never in output (passwords) */
	bool unique;
	bool implicit;     /* a foreign key column added by an association */
	bool primary;
	char automatic;    /* maintained by records: 'c' createdAt,
			    * 'u' updatedAt, 'C' createdById, 'U' updatedById */
	json_object *dflt; /* defaultValue, or NULL */
	/* associations */
	char *target;      /* target collection */
	char *foreign_key; /* belongsTo: on this; hasOne/hasMany: on target */
	char *source_key;  /* hasOne/hasMany/belongsToMany: key on this */
	char *target_key;  /* belongsTo/belongsToMany: key on target */
	char *through;     /* belongsToMany: the join collection */
	char *other_key;   /* belongsToMany: column in through -> target */
};

struct coll {
	char *name;
	char *title;
	struct field *fields;
	int nfields;
	const char *pk;       /* primary key field name ("id", "name") */
	bool pk_int;          /* integer primary key (autoincrement) */
	bool timestamps;      /* createdAt / updatedAt maintained */
	bool created_by;      /* createdById maintained */
	bool updated_by;      /* updatedById maintained */
	bool system;          /* built in; not managed by collections API */
	bool internal;        /* not reachable as a resource */
	bool reuse_ids;       /* plain rowid key: saves a write per insert on
			       * high-volume history tables */
	bool security;        /* writes change who may do what: they move the
			       * security counter that auth and ACL caches
			       * watch */
	json_object *def;     /* the definition as stored (collections:get) */
	/* Name lookup: slots hold field index + 1 (0: empty); built when
	 * the schema is complete, so only with fewer than half as many
	 * fields as slots. */
	short slots[256];
	bool indexed;
};

struct schema {
	struct coll **colls;
	int ncolls;
	int64_t version;
	short slots[512];     /* collection index + 1, as coll.slots */
	bool indexed;
};

/* Build a schema from the system definitions plus the stored user
 * definitions (an array of collection JSON objects).  Fails only on a
 * corrupt stored definition; err names it. */
int schema_build(json_object *user_defs, int64_t version,
		 struct schema **out, char *err, size_t errlen);
void schema_free(struct schema *s);

const struct coll *schema_coll(const struct schema *s, const char *name);
const struct field *coll_field(const struct coll *c, const char *name);
const struct field *coll_pk(const struct coll *c);

bool ftype_is_assoc(enum ftype t);
bool ftype_is_to_many(enum ftype t);
/* Stored as a column of its own table (scalars and belongsTo keys). */
bool field_has_column(const struct field *f);
const char *ftype_name(enum ftype t);

/* Validate a collections:create body and normalise it to the stored
 * definition: the short and the full NocoBase forms are both accepted;
 * unknown presentation keys are kept.  A hasMany/hasOne/belongsToMany
 * field gets its default keys filled in.  Returns 0 or -1 with a message
 * in err (unknown field type, bad name, duplicate field, ...). */
int schema_normalize(const struct schema *s, json_object *body,
		     json_object **out, char *err, size_t errlen);

/* The system collection definitions, JSON text. */
extern const char *const schema_sys_defs[];

#endif
