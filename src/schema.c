/* schema: see schema.h. */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"

static const struct {
	const char *name;
	enum ftype type;
} ftypes[] = {
	{"string", FT_STRING},     {"text", FT_TEXT},
	{"integer", FT_INTEGER},   {"bigInt", FT_BIGINT},
	{"float", FT_FLOAT},       {"double", FT_DOUBLE},
	{"decimal", FT_DECIMAL},   {"boolean", FT_BOOLEAN},
	{"date", FT_DATE},         {"json", FT_JSON},
	{"password", FT_PASSWORD}, {"belongsTo", FT_BELONGS_TO},
	{"hasOne", FT_HAS_ONE},    {"hasMany", FT_HAS_MANY},
	{"belongsToMany", FT_BELONGS_TO_MANY},
	/* NocoBase spellings that map onto the same storage */
	{"uid", FT_STRING},        {"uuid", FT_STRING},
	{"nanoid", FT_STRING},     {"sort", FT_INTEGER},
	{"jsonb", FT_JSON},        {"array", FT_JSON},
	{"datetime", FT_DATE},     {"datetimeTz", FT_DATE},
	{"real", FT_DOUBLE},
};

const char *ftype_name(enum ftype t)
{
	for (size_t i = 0; i < sizeof(ftypes) / sizeof(ftypes[0]); i++)
		if (ftypes[i].type == t)
			return ftypes[i].name;
	return "?";
}

static int ftype_parse(const char *s, enum ftype *t)
{
	for (size_t i = 0; s && i < sizeof(ftypes) / sizeof(ftypes[0]); i++)
		if (!strcmp(ftypes[i].name, s)) {
			*t = ftypes[i].type;
			return 0;
		}
	return -1;
}

bool ftype_is_assoc(enum ftype t)
{
	return t == FT_BELONGS_TO || t == FT_HAS_ONE || t == FT_HAS_MANY ||
	       t == FT_BELONGS_TO_MANY;
}

bool ftype_is_to_many(enum ftype t)
{
	return t == FT_HAS_MANY || t == FT_BELONGS_TO_MANY;
}

bool field_has_column(const struct field *f)
{
	return !ftype_is_assoc(f->type);
}

/* posts -> post, categories -> category: NocoBase's default key names. */
static void singular(const char *s, char *out, size_t n)
{
	size_t len = strlen(s);
	snprintf(out, n, "%s", s);
	if (len > 3 && !strcmp(s + len - 3, "ies")) {
		snprintf(out + len - 3, n - (len - 3), "y");
	} else if (len > 4 && (!strcmp(s + len - 4, "ches") ||
			       !strcmp(s + len - 4, "shes") ||
			       !strcmp(s + len - 4, "sses"))) {
		out[len - 2] = 0;
	} else if (len > 3 && (!strcmp(s + len - 3, "xes") ||
			       !strcmp(s + len - 3, "zes"))) {
		out[len - 2] = 0;
	} else if (len > 1 && s[len - 1] == 's' && s[len - 2] != 's') {
		out[len - 1] = 0;
	}
}

static void field_free(struct field *f)
{
	free(f->name);
	free(f->target);
	free(f->foreign_key);
	free(f->source_key);
	free(f->target_key);
	free(f->through);
	free(f->other_key);
	json_object_put(f->dflt);
}

static void coll_free(struct coll *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nfields; i++)
		field_free(&c->fields[i]);
	free(c->fields);
	free(c->name);
	free(c->title);
	json_object_put(c->def);
	free(c);
}

void schema_free(struct schema *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->ncolls; i++)
		coll_free(s->colls[i]);
	free(s->colls);
	free(s);
}

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Open addressing over a power-of-two table of indexes + 1. */
static void slots_put(short *slots, unsigned size, const char *name, int i)
{
	unsigned h = name_hash(name);
	while (slots[h & (size - 1)])
		h++;
	slots[h & (size - 1)] = (short)(i + 1);
}

const struct coll *schema_coll(const struct schema *s, const char *name)
{
	if (!s || !name)
		return NULL;
	if (s->indexed) {
		for (unsigned h = name_hash(name);; h++) {
			short v = s->slots[h & 511];
			if (!v)
				return NULL;
			if (!strcmp(s->colls[v - 1]->name, name))
				return s->colls[v - 1];
		}
	}
	for (int i = 0; i < s->ncolls; i++)
		if (!strcmp(s->colls[i]->name, name))
			return s->colls[i];
	return NULL;
}

const struct field *coll_field(const struct coll *c, const char *name)
{
	if (!c || !name)
		return NULL;
	if (c->indexed) {
		for (unsigned h = name_hash(name);; h++) {
			short v = c->slots[h & 255];
			if (!v)
				return NULL;
			if (!strcmp(c->fields[v - 1].name, name))
				return &c->fields[v - 1];
		}
	}
	for (int i = 0; i < c->nfields; i++)
		if (!strcmp(c->fields[i].name, name))
			return &c->fields[i];
	return NULL;
}

static void mark_automatic(struct coll *c)
{
	for (int j = 0; j < c->nfields; j++) {
		struct field *f = &c->fields[j];
		if (c->timestamps && !strcmp(f->name, "createdAt"))
			f->automatic = 'c';
		else if (c->timestamps && !strcmp(f->name, "updatedAt"))
			f->automatic = 'u';
		else if (c->created_by && !strcmp(f->name, "createdById"))
			f->automatic = 'C';
		else if (c->updated_by && !strcmp(f->name, "updatedById"))
			f->automatic = 'U';
	}
}

static void schema_index(struct schema *s)
{
	for (int i = 0; i < s->ncolls; i++) {
		struct coll *c = s->colls[i];
		mark_automatic(c);
		if (c->nfields >= 128)
			continue;
		for (int j = 0; j < c->nfields; j++)
			slots_put(c->slots, 256, c->fields[j].name, j);
		c->indexed = true;
	}
	if (s->ncolls >= 256)
		return;
	for (int i = 0; i < s->ncolls; i++)
		slots_put(s->slots, 512, s->colls[i]->name, i);
	s->indexed = true;
}

const struct field *coll_pk(const struct coll *c)
{
	return coll_field(c, c->pk);
}

static struct field *coll_add(struct coll *c, const char *name,
			      enum ftype t)
{
	struct field *f;
	c->fields = util_xrealloc(c->fields,
				  sizeof(*f) * (size_t)(c->nfields + 1));
	f = &c->fields[c->nfields++];
	memset(f, 0, sizeof(*f));
	f->name = util_xstrdup(name);
	f->type = t;
	return f;
}

/* Case-insensitive: SQLite column names are. */
static bool coll_has_name(const struct coll *c, const char *name)
{
	for (int i = 0; i < c->nfields; i++)
		if (!strcasecmp(c->fields[i].name, name))
			return true;
	return false;
}

static const char *opt_str(json_object *o, const char *k)
{
	return jsonx_get_str(o, k);
}

/* The name and type of a field definition, checked against c. */
static int field_head(const struct coll *c, json_object *def,
		      const char **name, enum ftype *t, char *err,
		      size_t errlen)
{
	const char *type = opt_str(def, "type");

	*name = opt_str(def, "name");
	if (!*name || !util_is_ident(*name)) {
		snprintf(err, errlen, "Invalid field name \"%s\" in \"%s\"",
			 *name ? *name : "", c->name);
		return -1;
	}
	if (ftype_parse(type, t)) {
		snprintf(err, errlen, "Unknown field type \"%s\" of field \"%s\"",
			 type ? type : "", *name);
		return -1;
	}
	if (coll_has_name(c, *name)) {
		snprintf(err, errlen, "Duplicate field \"%s\" in \"%s\"", *name,
			 c->name);
		return -1;
	}
	return 0;
}

/* An association's target: given, or the field's name (to-many), or
 * its plural (to-one, NocoBase's default). */
static int assoc_target(struct field *f, json_object *def, char *err,
			size_t errlen)
{
	char plural[80];

	f->target = util_xstrdup(opt_str(def, "target"));
	if (!f->target && (f->type == FT_HAS_MANY ||
			   f->type == FT_BELONGS_TO_MANY)) {
		f->target = util_xstrdup(f->name);
	} else if (!f->target) {
		snprintf(plural, sizeof(plural), "%ss", f->name);
		f->target = util_xstrdup(plural);
	}
	if (!util_is_ident(f->target)) {
		snprintf(err, errlen, "Invalid target \"%s\" of field \"%s\"",
			 f->target, f->name);
		return -1;
	}
	return 0;
}

/* The given key name k, or "<base>Id". */
static char *key_or(json_object *def, const char *k, const char *base)
{
	const char *given = opt_str(def, k);
	char buf[96];

	if (given)
		return util_xstrdup(given);
	snprintf(buf, sizeof(buf), "%sId", base);
	return util_xstrdup(buf);
}

/* The keys joining c to the target of association f, defaults filled
 * in as NocoBase names them. */
static int assoc_keys(const struct coll *c, struct field *f, json_object *def,
		      char *err, size_t errlen)
{
	char sing[80], tsing[80];

	singular(c->name, sing, sizeof(sing));
	switch (f->type) {
	case FT_BELONGS_TO:
		f->foreign_key = key_or(def, "foreignKey", f->name);
		f->target_key = util_xstrdup(opt_str(def, "targetKey"));
		return 0;
	case FT_HAS_ONE:
	case FT_HAS_MANY:
		f->foreign_key = key_or(def, "foreignKey", sing);
		f->source_key = util_xstrdup(opt_str(def, "sourceKey"));
		return 0;
	default:
		singular(f->target, tsing, sizeof(tsing));
		f->foreign_key = key_or(def, "foreignKey", sing);
		f->other_key = key_or(def, "otherKey", tsing);
		f->source_key = util_xstrdup(opt_str(def, "sourceKey"));
		f->target_key = util_xstrdup(opt_str(def, "targetKey"));
		f->through = util_xstrdup(opt_str(def, "through"));
		if (f->through)
			return 0;
		snprintf(err, errlen,
			 "Field \"%s\" needs a \"through\" collection",
			 f->name);
		return -1;
	}
}

static bool keys_valid(const struct field *f)
{
	return util_is_ident(f->foreign_key) &&
	       (!f->other_key || util_is_ident(f->other_key)) &&
	       (!f->through || util_is_ident(f->through)) &&
	       (!f->source_key || util_is_ident(f->source_key)) &&
	       (!f->target_key || util_is_ident(f->target_key));
}

/* Parse one field definition into c.  Default keys of associations are
 * filled in by schema_normalize before storage, so a stored definition is
 * complete; here missing ones only get the same defaults again. */
static int field_parse(struct coll *c, json_object *def, char *err,
		       size_t errlen)
{
	json_object *dflt = jsonx_get(def, "defaultValue");
	const char *name;
	enum ftype t;
	struct field *f;

	if (field_head(c, def, &name, &t, err, errlen))
		return -1;
	f = coll_add(c, name, t);
	f->hidden = t == FT_PASSWORD || jsonx_get_bool(def, "hidden", false);
	f->unique = jsonx_get_bool(def, "unique", false);
	f->primary = jsonx_get_bool(def, "primaryKey", false);
	if (dflt && !json_object_is_type(dflt, json_type_null))
		f->dflt = jsonx_copy(dflt);
	if (!ftype_is_assoc(t))
		return 0;
	if (assoc_target(f, def, err, errlen) ||
	    assoc_keys(c, f, def, err, errlen))
		return -1;
	if (!keys_valid(f)) {
		snprintf(err, errlen, "Invalid key names in field \"%s\"", name);
		return -1;
	}
	return 0;
}

static bool is_builtin_name(const char *n)
{
	return !strcmp(n, "id") || !strcmp(n, "createdAt") ||
	       !strcmp(n, "updatedAt") || !strcmp(n, "createdById") ||
	       !strcmp(n, "updatedById") || !strcmp(n, "createdBy") ||
	       !strcmp(n, "updatedBy");
}

/* The collection options a definition carries. */
static void coll_options(struct coll *c, json_object *def, bool system)
{
	c->title = util_xstrdup(opt_str(def, "title"));
	c->system = system;
	c->internal = jsonx_get_bool(def, "internal", false);
	c->reuse_ids = system && jsonx_get_bool(def, "reuseIds", false);
	c->security = system && jsonx_get_bool(def, "security", false);
	c->timestamps = jsonx_get_bool(def, "timestamps", true);
	c->created_by = jsonx_get_bool(def, "createdBy", false);
	c->updated_by = jsonx_get_bool(def, "updatedBy", c->created_by);
	c->def = jsonx_ref(def);
}

/* The number of items of fields, an array or NULL. */
static size_t nitems(json_object *fields)
{
	return fields ? json_object_array_length(fields) : 0;
}

static bool defines(json_object *fields, const char *name)
{
	for (size_t i = 0; i < nitems(fields); i++) {
		const char *fn = opt_str(json_object_array_get_idx(fields, i),
					 "name");
		if (fn && !strcmp(fn, name))
			return true;
	}
	return false;
}

/* The definition's own fields.  Of a user collection, the builtins it
 * spells out only switch their options on (the builtins are added from
 * the options); an "id" it defines is its primary key. */
static int coll_fields(struct coll *c, json_object *fields, char *err,
		       size_t errlen)
{
	for (size_t i = 0; i < nitems(fields); i++) {
		json_object *fd = json_object_array_get_idx(fields, i);
		const char *fn = opt_str(fd, "name");
		bool user = fn && !c->system;
		if (user && is_builtin_name(fn) && strcmp(fn, "id")) {
			if (!strcmp(fn, "createdById") || !strcmp(fn, "createdBy"))
				c->created_by = true;
			if (!strcmp(fn, "updatedById") || !strcmp(fn, "updatedBy"))
				c->updated_by = true;
			continue;
		}
		if (field_parse(c, fd, err, errlen))
			return -1;
		if (user && !strcmp(fn, "id"))
			c->fields[c->nfields - 1].primary = true;
	}
	return 0;
}

/* createdById + createdBy (and updated...): a user key and its
 * belongsTo, unless the definition has the column already. */
static void coll_add_user(struct coll *c, const char *key, const char *name)
{
	struct field *f;

	if (coll_has_name(c, key))
		return;
	coll_add(c, key, FT_BIGINT);
	f = coll_add(c, name, FT_BELONGS_TO);
	f->target = util_xstrdup("users");
	f->foreign_key = util_xstrdup(key);
}

/* The first primary field is the key. */
static bool coll_find_pk(struct coll *c)
{
	for (int i = 0; i < c->nfields; i++)
		if (c->fields[i].primary) {
			c->pk = c->fields[i].name;
			c->pk_int = c->fields[i].type == FT_INTEGER ||
				    c->fields[i].type == FT_BIGINT;
			return true;
		}
	return false;
}

/* The field list of a definition: the builtins come from the options, so
 * a full-form definition that spells them out is read the same way. */
static int coll_parse(json_object *def, bool system, struct coll **out,
		      char *err, size_t errlen)
{
	struct coll *c = util_xcalloc(1, sizeof(*c));
	json_object *fields = jsonx_get(def, "fields");
	const char *name = opt_str(def, "name");

	*out = NULL;
	if (!json_object_is_type(fields, json_type_array))
		fields = NULL;
	if (!name || !util_is_ident(name)) {
		snprintf(err, errlen, "Invalid collection name \"%s\"",
			 name ? name : "");
		goto fail;
	}
	c->name = util_xstrdup(name);
	coll_options(c, def, system);
	/* Output order follows NocoBase: createdAt, updatedAt, id, fields. */
	if (c->timestamps && !system) {
		coll_add(c, "createdAt", FT_DATE);
		coll_add(c, "updatedAt", FT_DATE);
	}
	if (jsonx_get_bool(def, "autoGenId", true) && !defines(fields, "id") &&
	    !system)
		coll_add(c, "id", FT_BIGINT)->primary = true;
	if (coll_fields(c, fields, err, errlen))
		goto fail;
	if (c->created_by)
		coll_add_user(c, "createdById", "createdBy");
	if (c->updated_by)
		coll_add_user(c, "updatedById", "updatedBy");
	if (!coll_find_pk(c)) {
		snprintf(err, errlen, "Collection \"%s\" has no primary key",
			 c->name);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	coll_free(c);
	return -1;
}

/* A foreign key column that an association needs on coll c. */
static void ensure_key(struct coll *c, const char *name, bool str)
{
	if (!c || !name || coll_field(c, name))
		return;
	struct field *f = coll_add(c, name, str ? FT_STRING : FT_BIGINT);
	f->implicit = true;
}

static bool key_is_str(const struct coll *c, const char *key)
{
	const struct field *f = c ? coll_field(c, key ? key : c->pk) : NULL;
	return f && (f->type == FT_STRING || f->type == FT_TEXT);
}

static void schema_link(struct schema *s)
{
	for (int i = 0; i < s->ncolls; i++) {
		struct coll *c = s->colls[i];
		int n = c->nfields; /* ensure_key may grow c itself */
		for (int j = 0; j < n; j++) {
			struct field *f = &c->fields[j];
			struct coll *t = (struct coll *)schema_coll(s, f->target);
			switch (f->type) {
			case FT_BELONGS_TO:
				ensure_key(c, f->foreign_key,
					   key_is_str(t, f->target_key));
				f = &c->fields[j];
				break;
			case FT_HAS_ONE:
			case FT_HAS_MANY:
				if (t != c)
					ensure_key(t, f->foreign_key,
						   key_is_str(c, f->source_key));
				else
					ensure_key(c, f->foreign_key, false);
				f = &c->fields[j];
				break;
			case FT_BELONGS_TO_MANY: {
				struct coll *th =
					(struct coll *)schema_coll(s, f->through);
				ensure_key(th, f->foreign_key,
					   key_is_str(c, f->source_key));
				ensure_key(th, f->other_key,
					   key_is_str(t, f->target_key));
				f = &c->fields[j];
				break;
			}
			default:
				break;
			}
			if (ftype_is_assoc(f->type)) {
				/* Fill the key defaults from the linked ends. */
				if (!f->source_key)
					f->source_key = util_xstrdup(c->pk);
				if (!f->target_key && t)
					f->target_key = util_xstrdup(t->pk);
			}
		}
	}
}

static int schema_add_def(struct schema *s, json_object *def, bool system,
			  char *err, size_t errlen)
{
	struct coll *c;
	if (coll_parse(def, system, &c, err, errlen))
		return -1;
	if (schema_coll(s, c->name)) {
		coll_free(c);
		return 0; /* a user definition never shadows a system one */
	}
	s->colls = util_xrealloc(s->colls, sizeof(c) * (size_t)(s->ncolls + 1));
	s->colls[s->ncolls++] = c;
	return 0;
}

int schema_build(json_object *user_defs, int64_t version, struct schema **out,
		 char *err, size_t errlen)
{
	struct schema *s = util_xcalloc(1, sizeof(*s));
	s->version = version;
	for (int i = 0; schema_sys_defs[i]; i++) {
		json_object *d = json_tokener_parse(schema_sys_defs[i]);
		int rc = d ? schema_add_def(s, d, true, err, errlen) : -1;
		json_object_put(d);
		if (rc) {
			if (!d)
				snprintf(err, errlen, "bad system definition %d", i);
			goto fail;
		}
	}
	size_t n = json_object_is_type(user_defs, json_type_array)
			   ? json_object_array_length(user_defs)
			   : 0;
	for (size_t i = 0; i < n; i++)
		if (schema_add_def(s, json_object_array_get_idx(user_defs, i),
				   false, err, errlen))
			goto fail;
	schema_link(s);
	schema_index(s);
	*out = s;
	return 0;
fail:
	schema_free(s);
	*out = NULL;
	return -1;
}

/* Names a user collection may not take: the internal tables' prefix and
 * SQLite's own. */
static bool reserved_name(const char *n)
{
	return n[0] == '_' || !strncasecmp(n, "sqlite_", 7);
}

int schema_normalize(const struct schema *s, json_object *body,
		     json_object **out, char *err, size_t errlen)
{
	json_object *def = NULL, *fields;
	struct coll *trial = NULL;
	const char *name;
	char uid[12];

	*out = NULL;
	if (!json_object_is_type(body, json_type_object)) {
		snprintf(err, errlen, "values must be an object");
		return -1;
	}
	name = jsonx_get_str(body, "name");
	if (!name || !util_is_ident(name) || reserved_name(name)) {
		snprintf(err, errlen,
			 "Invalid collection name \"%s\": use letters, digits "
			 "and _ (not leading), at most 63 characters",
			 name ? name : "");
		return -1;
	}
	if (schema_coll(s, name)) {
		snprintf(err, errlen, "Collection \"%s\" already exists", name);
		return -1;
	}
	fields = jsonx_get(body, "fields");
	if (fields && !json_object_is_type(fields, json_type_array)) {
		snprintf(err, errlen, "\"fields\" must be an array");
		return -1;
	}
	def = jsonx_copy(body);
	if (!jsonx_has(def, "key")) {
		util_uid(uid);
		json_object_object_add(def, "key", json_object_new_string(uid));
	}
	fields = jsonx_get(def, "fields");
	for (size_t i = 0; fields && i < json_object_array_length(fields); i++) {
		json_object *fd = json_object_array_get_idx(fields, i);
		if (!json_object_is_type(fd, json_type_object)) {
			snprintf(err, errlen, "fields[%zu] must be an object", i);
			goto fail;
		}
		const char *type = jsonx_get_str(fd, "type");
		if (type && !strcmp(type, "belongsToMany") &&
		    !jsonx_get_str(fd, "through")) {
			char th[16];
			util_uid(uid);
			snprintf(th, sizeof(th), "t_%.11s", uid);
			json_object_object_add(fd, "through",
					       json_object_new_string(th));
		}
	}
	if (coll_parse(def, false, &trial, err, errlen))
		goto fail;
	/* Store the keys the parser settled on, so a later reload reads the
	 * same associations whatever collections exist then. */
	for (size_t i = 0; fields && i < json_object_array_length(fields); i++) {
		json_object *fd = json_object_array_get_idx(fields, i);
		const struct field *f = coll_field(trial, jsonx_get_str(fd, "name"));
		if (!f || !ftype_is_assoc(f->type))
			continue;
		json_object_object_add(fd, "target",
				       json_object_new_string(f->target));
		json_object_object_add(fd, "foreignKey",
				       json_object_new_string(f->foreign_key));
		if (f->other_key)
			json_object_object_add(fd, "otherKey",
					       json_object_new_string(f->other_key));
	}
	coll_free(trial);
	*out = def;
	return 0;
fail:
	coll_free(trial);
	json_object_put(def);
	return -1;
}
