/*
 * cli: the command line (contract §2).  Results go to stdout, errors to
 * stderr; exit 0 on success.  Commands work through the same records
 * layer as the API, so a user made here is a user made by users:create.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "app.h"
#include "auth.h"
#include "copy.h"
#include "crypto.h"
#include "import.h"
#include "err.h"
#include "jsonx.h"
#include "maint.h"
#include "metrics.h"
#include "records.h"
#include "store.h"
#include "util.h"
#include "wf_queue.h"

#ifndef FLOWCGI_VERSION
#define FLOWCGI_VERSION "0.1.0"
#endif

struct opts {
	const char *db;
	const char *from, *to;
	const char *password, *email, *username, *user, *expires;
	const char *app_dir;
	const char *roles[16];
	int nroles;
	const char *older_than;
	const char *statuses[8]; /* --status, each a comma list */
	int nstatuses;
	bool rows, dry_run, merge; /* import nocobase */
};

static void usage(FILE *f)
{
	fputs("usage: flowcgi.fcgi <command> [options]\n"
	      "\n"
	      "Started by a web server (FastCGI or CGI) it serves the API.\n"
	      "Commands:\n"
	      "  init [--db FILE] [--root-password P] [--root-email E]\n"
	      "       [--root-username U]       create or migrate a database\n"
	      "  user add --username U --email E --password P [--role R]...\n"
	      "                                 add a user (first role default)\n"
	      "  token --user U|E [--role R] [--expires 30d|never]\n"
	      "                                 print an API-key token\n"
	      "  run-queue [--db FILE]          run queued asynchronous work\n"
	      "  maintain [--db FILE]           the maintenance step now (cron)\n"
	      "  check [--db FILE]              integrity check; lifts the refusal\n"
	      "                                 of writes after damage once the\n"
	      "                                 file is sound (exit 0 sound,\n"
	      "                                 1 damaged, 2 not checked)\n"
	      "  copy --from FILE|URI --to URI|FILE\n"
	      "                                 copy a whole site (SQLite to\n"
	      "                                 PostgreSQL); the target must be\n"
	      "                                 empty\n"
	      "  prune --older-than 30d [--status S[,S...]]... [--db FILE]\n"
	      "                                 delete ended executions (and their\n"
	      "                                 jobs) created longer ago, then give\n"
	      "                                 the space back; S: resolved, failed,\n"
	      "                                 error, aborted, canceled, rejected,\n"
	      "                                 retry_needed (default: all of them)\n"
	      "  import nocobase --from URI|FILE [--rows] [--dry-run] [--merge]\n"
	      "       [--app-dir DIR]           move a NocoBase site into the\n"
	      "                                 database (see README); exit 3\n"
	      "                                 when something was skipped\n"
	      "  routes                         print the route table (resource,\n"
	      "                                 action, ACL action, access, lock,\n"
	      "                                 handler; tab-separated)\n"
	      "  help                           this text\n"
	      "  --version                      print the version\n"
	      "\n"
	      "The database (--db, $FLOWCGI_DB) is a SQLite file or a\n"
	      "postgresql:// URI; the default is " APP_DEFAULT_DB
	      ".\n",
	      f);
}

static int parse_opts(int argc, char **argv, int from, struct opts *o)
{
	for (int i = from; i < argc; i++) {
		const char *k = argv[i];
		const char **slot = NULL;
		if (!strcmp(k, "--db"))
			slot = &o->db;
		else if (!strcmp(k, "--root-password") || !strcmp(k, "--password"))
			slot = &o->password;
		else if (!strcmp(k, "--root-email") || !strcmp(k, "--email"))
			slot = &o->email;
		else if (!strcmp(k, "--root-username") || !strcmp(k, "--username"))
			slot = &o->username;
		else if (!strcmp(k, "--user"))
			slot = &o->user;
		else if (!strcmp(k, "--expires"))
			slot = &o->expires;
		else if (!strcmp(k, "--from"))
			slot = &o->from;
		else if (!strcmp(k, "--to"))
			slot = &o->to;
		else if (!strcmp(k, "--older-than"))
			slot = &o->older_than;
		else if (!strcmp(k, "--status")) {
			if (i + 1 >= argc || o->nstatuses == 8)
				goto bad;
			o->statuses[o->nstatuses++] = argv[++i];
			continue;
		} else if (!strcmp(k, "--app-dir"))
			slot = &o->app_dir;
		else if (!strcmp(k, "--rows") || !strcmp(k, "--dry-run") ||
			 !strcmp(k, "--merge")) {
			bool *flag = k[2] == 'r' ? &o->rows
				     : k[2] == 'd' ? &o->dry_run : &o->merge;
			*flag = true;
			continue;
		} else if (!strcmp(k, "--role")) {
			if (i + 1 >= argc || o->nroles == 16)
				goto bad;
			o->roles[o->nroles++] = argv[++i];
			continue;
		} else {
			fprintf(stderr, "flowcgi: unknown option %s\n", k);
			return -1;
		}
		if (i + 1 >= argc)
			goto bad;
		*slot = argv[++i];
	}
	return 0;
bad:
	fprintf(stderr, "flowcgi: option %s needs a value\n", argv[argc - 1]);
	return -1;
}

/* Open the database for a command; create: for init only. */
static int open_app(struct app *a, const char *db, bool create)
{
	struct app_config cfg;
	int rc;
	app_config_load(&cfg, db);
	if (create) {
		struct store *st = NULL;
		rc = store_open(cfg.db_path, true, &st);
		if (!rc)
			rc = store_migrate(st);
		if (rc) {
			fprintf(stderr, "flowcgi: %s: %s\n", store_path(st),
				store_errmsg(st));
			store_close(st);
			free(cfg.db_path);
			return 1;
		}
		store_close(st);
	}
	app_open(a, &cfg);
	if (a->db_err || app_refresh(a)) {
		fprintf(stderr, "flowcgi: %s\n", a->db_msg);
		app_close(a);
		return 1;
	}
	return 0;
}

static json_object *find(struct app *a, const char *coll, const char *k,
			 const char *v)
{
	struct rctx x = {.app = a};
	json_object *f = json_object_new_object(), *row = NULL;
	json_object_object_add(f, k, json_object_new_string(v));
	struct rec_query q = {.filter = f};
	rec_get(&x, schema_coll(a->schema, coll), &q, &row);
	json_object_put(f);
	return row;
}

static int ensure(struct app *a, const char *coll, const char *k,
		  const char *v, const char *json)
{
	struct rctx x = {.app = a};
	json_object *row = find(a, coll, k, v), *vals, *out = NULL;
	int rc = 0;
	if (row) {
		json_object_put(row);
		return 0;
	}
	vals = json_tokener_parse(json);
	rc = rec_create(&x, schema_coll(a->schema, coll), vals, NULL, &out);
	if (rc)
		fprintf(stderr, "flowcgi: creating %s %s: %s\n", coll, v,
			x.reason);
	json_object_put(vals);
	json_object_put(out);
	return rc;
}

static int add_user(struct app *a, const char *username, const char *email,
		    const char *password, const char **roles, int nroles,
		    const char *nickname)
{
	struct rctx x = {.app = a};
	json_object *v = json_object_new_object(), *rl = json_object_new_array(),
		    *out = NULL;
	int rc;

	if (username)
		json_object_object_add(v, "username", json_object_new_string(username));
	if (email)
		json_object_object_add(v, "email", json_object_new_string(email));
	json_object_object_add(v, "nickname",
			       json_object_new_string(nickname ? nickname
							       : username ? username
									  : email));
	json_object_object_add(v, "password", json_object_new_string(password));
	for (int i = 0; i < nroles; i++) {
		json_object *role = find(a, "roles", "name", roles[i]);
		if (!role) {
			fprintf(stderr, "flowcgi: role %s does not exist\n", roles[i]);
			json_object_put(v);
			json_object_put(rl);
			return 1;
		}
		json_object_put(role);
		json_object_array_add(rl, json_object_new_string(roles[i]));
	}
	json_object_object_add(v, "roles", rl);
	rc = rec_create(&x, schema_coll(a->schema, "users"), v, NULL, &out);
	if (!rc && nroles) {
		json_object *f = json_object_new_object(), *d = json_object_new_object(),
			    *o2 = NULL;
		json_object_object_add(f, "userId",
				       jsonx_ref(jsonx_get(out, "id")));
		json_object_object_add(f, "roleName", json_object_new_string(roles[0]));
		json_object_object_add(d, "default", json_object_new_boolean(1));
		rc = rec_update(&x, schema_coll(a->schema, "rolesUsers"), f, d, &o2);
		json_object_put(f);
		json_object_put(d);
		json_object_put(o2);
	}
	if (rc)
		fprintf(stderr, "flowcgi: adding user: %s\n", x.reason);
	else
		printf("user %s (id %lld) added\n", username ? username : email,
		       (long long)json_object_get_int64(jsonx_get(out, "id")));
	json_object_put(v);
	json_object_put(out);
	return rc ? 1 : 0;
}

/* The built-in roles and scopes, each created when missing. */
static int seed_roles(struct app *a)
{
	static const char *const rows[][4] = {
		{"roles", "name", "root",
		 "{\"name\":\"root\",\"title\":\"{{t(\\\"Root\\\")}}\","
		 "\"hidden\":true,\"snippets\":[\"pm\",\"pm.*\",\"ui.*\"]}"},
		{"roles", "name", "admin",
		 "{\"name\":\"admin\",\"title\":\"{{t(\\\"Admin\\\")}}\","
		 "\"strategy\":{\"actions\":[\"create\",\"view\","
		 "\"update\",\"destroy\"]},\"allowConfigure\":true,"
		 "\"allowNewMenu\":true,"
		 "\"snippets\":[\"pm\",\"pm.*\",\"ui.*\"]}"},
		{"roles", "name", "member",
		 "{\"name\":\"member\",\"title\":\"{{t(\\\"Member\\\")}}\","
		 "\"strategy\":{\"actions\":[\"view:own\"]},"
		 "\"default\":true,\"allowNewMenu\":true,"
		 "\"snippets\":[\"!pm\",\"!pm.*\",\"!ui.*\"]}"},
		{"dataSourcesRolesResourcesScopes", "key", "all",
		 "{\"key\":\"all\",\"name\":\"{{t(\\\"All records\\\")}}\","
		 "\"scope\":{}}"},
		{"dataSourcesRolesResourcesScopes", "key", "own",
		 "{\"key\":\"own\",\"name\":\"{{t(\\\"Own records\\\")}}\","
		 "\"scope\":{\"createdById\":"
		 "\"{{ ctx.state.currentUser.id }}\"}}"},
	};
	int rc = 0;
	for (size_t i = 0; !rc && i < sizeof(rows) / sizeof(rows[0]); i++)
		rc = ensure(a, rows[i][0], rows[i][1], rows[i][2], rows[i][3]);
	return rc;
}

/* The root user is missing only when nobody holds the root role: an init
 * without the first one's --root-username must not add a second root
 * user, with the default password at that. */
static int seed_root(struct app *a, struct opts *o)
{
	const char *username = o->username ? o->username : "nocobase";
	const char *email = o->email ? o->email : "admin@nocobase.com";
	const char *roles[] = {"root", "admin", "member"};
	const char *pw = o->password;
	json_object *root = find(a, "rolesUsers", "roleName", "root");

	if (!root)
		root = find(a, "users", "username", username);
	if (!root)
		root = find(a, "users", "email", email);
	if (root) {
		json_object_put(root);
		return 0;
	}
	if (!pw) {
		pw = "admin123";
		fprintf(stderr,
			"\n*** WARNING: the root user %s has the default "
			"password \"admin123\".\n*** Change it, or run "
			"init with --root-password.\n\n",
			email);
	}
	return add_user(a, username, email, pw, roles, 3, "Super Admin");
}

static int cmd_init(struct opts *o)
{
	struct app a;
	char *secret = NULL;
	int rc;

	if (open_app(&a, o->db, true))
		return 1;
	if ((rc = store_begin(a.st, true)))
		goto out;
	if (!(rc = store_meta_get(a.st, "app_secret", &secret)) && !secret) {
		char s[65];
		crypto_new_secret(s);
		rc = store_meta_set(a.st, "app_secret", s);
	}
	free(secret);
	if (!rc)
		rc = seed_roles(&a);
	if (!rc)
		rc = seed_root(&a, o);
	if (!rc)
		rc = store_commit(a.st);
out:
	if (rc) {
		store_rollback(a.st);
		fprintf(stderr, "flowcgi: init failed: %s\n", store_errmsg(a.st));
	} else {
		printf("database %s is ready\n", store_path(a.st));
	}
	app_close(&a);
	return rc ? 1 : 0;
}

static int cmd_user_add(struct opts *o)
{
	struct app a;
	int rc;
	if (!o->password || (!o->username && !o->email)) {
		fputs("flowcgi: user add needs --username or --email, and "
		      "--password\n",
		      stderr);
		return 2;
	}
	if (open_app(&a, o->db, false))
		return 1;
	const char *dflt[] = {"member"};
	if ((rc = store_begin(a.st, true)) == 0) {
		rc = add_user(&a, o->username, o->email, o->password,
			      o->nroles ? o->roles : dflt, o->nroles ? o->nroles : 1,
			      NULL);
		if (rc)
			store_rollback(a.st);
		else
			rc = store_commit(a.st);
	}
	app_close(&a);
	return rc ? 1 : 0;
}

/* The role a token gets: --role when the user holds it, else the
 * user's default role; NULL when neither. */
static const char *token_role(json_object *roles, const char *want)
{
	const char *role = want;
	bool held = false;
	for (size_t i = 0; i < json_object_array_length(roles); i++) {
		const char *n =
			json_object_get_string(json_object_array_get_idx(roles, i));
		if (!role)
			role = n;
		held |= !strcmp(n, role);
	}
	return held ? role : NULL;
}

/* Record an API key as apiKeys:create does (its token hidden). */
static int store_key(struct app *a, int64_t uid, const char *role,
		     const char *exp, const char *tok, struct rctx *x)
{
	json_object *v = json_object_new_object(), *rec = NULL;
	int rc;
	json_object_object_add(v, "name", json_object_new_string("cli"));
	json_object_object_add(v, "roleName", json_object_new_string(role));
	json_object_object_add(v, "expiresIn", json_object_new_string(exp));
	json_object_object_add(v, "token", json_object_new_string(tok));
	rc = store_begin(a->st, true);
	if (!rc)
		rc = rec_create(x, schema_coll(a->schema, "apiKeys"), v, NULL, &rec);
	if (!rc)
		rc = store_commit(a->st);
	else
		store_rollback(a->st);
	json_object_put(v);
	json_object_put(rec);
	return rc;
}

static int cmd_token(struct opts *o)
{
	struct app a;
	json_object *user = NULL, *roles = NULL;
	const char *exp = o->expires ? o->expires : "never", *role;
	int64_t uid, ms = auth_parse_duration(exp);
	int rc = 1;

	if (!o->user) {
		fputs("flowcgi: token needs --user USERNAME|EMAIL\n", stderr);
		return 2;
	}
	if (ms <= 0) {
		fprintf(stderr, "flowcgi: --expires takes 30d, 12h, never, ...\n");
		return 2;
	}
	if (open_app(&a, o->db, false))
		return 1;
	user = find(&a, "users", "username", o->user);
	if (!user)
		user = find(&a, "users", "email", o->user);
	if (!user) {
		fprintf(stderr, "flowcgi: no user %s\n", o->user);
		goto out;
	}
	uid = json_object_get_int64(jsonx_get(user, "id"));
	roles = auth_user_roles(&a, uid);
	if (!(role = token_role(roles, o->nroles ? o->roles[0] : NULL))) {
		fprintf(stderr, "flowcgi: user %s does not hold role %s\n",
			o->user, o->nroles ? o->roles[0] : "(none)");
		goto out;
	}
	char *tok = auth_issue_api_key(&a, uid, role, ms);
	struct rctx x = {.app = &a, .user_id = uid};
	if (!(rc = store_key(&a, uid, role, exp, tok, &x)))
		printf("%s\n", tok);
	else
		fprintf(stderr, "flowcgi: %s\n", x.reason);
	free(tok);
out:
	json_object_put(user);
	json_object_put(roles);
	app_close(&a);
	return rc ? 1 : 0;
}

static int cmd_run_queue(struct opts *o)
{
	struct app a;
	int n = 0, rc;
	if (open_app(&a, o->db, false))
		return 1;
	metrics_open(a.cfg.db_path); /* its executions count with the server's */
	wf_queue_recover(&a);
	rc = wf_queue_run(&a, &n);
	printf("%d queued execution(s) run\n", n);
	metrics_close();
	app_close(&a);
	return rc ? 1 : 0;
}

/* maintain: the maintenance step at once, for a cron job. */
static int cmd_maintain(struct opts *o)
{
	struct app a;
	struct maint_report rep;
	int rc;
	if (open_app(&a, o->db, false))
		return 1;
	rc = maint_run(&a, &rep);
	if (rc)
		fprintf(stderr, "flowcgi: maintenance failed: %s\n",
			store_errmsg(a.st));
	else
		printf("expired idempotency keys removed: %lld\n"
		       "executions pruned: %lld\n",
		       (long long)rep.idempotency_keys,
		       (long long)rep.executions);
	app_close(&a);
	return rc ? 1 : 0;
}

/* The statuses of --status (comma lists, repeatable) into p. */
static int prune_statuses(struct opts *o, struct maint_prune *p)
{
	for (int i = 0; i < o->nstatuses; i++) {
		char *list = strdup(o->statuses[i]), *save = NULL;
		int bad = 0;
		for (char *s = strtok_r(list, ",", &save); s && !bad;
		     s = strtok_r(NULL, ",", &save)) {
			int st;
			if (maint_status(s, &st)) {
				fprintf(stderr, "flowcgi: --status %s: not an ended "
						"status (resolved, failed, error, "
						"aborted, canceled, rejected, "
						"retry_needed); queued and started "
						"executions are never pruned\n",
					s);
				bad = 1;
			} else if (p->nstatuses == 8) {
				fputs("flowcgi: too many --status values\n", stderr);
				bad = 1;
			} else {
				p->statuses[p->nstatuses++] = st;
			}
		}
		free(list);
		if (bad)
			return -1;
	}
	return 0;
}

/* prune: ended executions older than --older-than, then the space. */
static int cmd_prune(struct opts *o)
{
	struct maint_prune p = {0};
	struct app a;
	int64_t n = 0, before = -1, after = -1, wal = 0, freed = 0;
	int rc;

	if (!o->older_than || (p.older_than_ms = maint_age(o->older_than)) < 0) {
		fputs("flowcgi: prune needs --older-than AGE (30d, 12h, 90m, ...)\n",
		      stderr);
		return 2;
	}
	if (prune_statuses(o, &p))
		return 2;
	if (open_app(&a, o->db, false))
		return 1;
	store_size(a.st, &before, &wal);
	rc = maint_prune(&a, &p, &n);
	if (!rc)
		rc = store_compact(a.st, true, &freed);
	store_size(a.st, &after, &wal);
	if (rc)
		fprintf(stderr, "flowcgi: prune failed: %s\n", store_errmsg(a.st));
	printf("executions pruned: %lld\n", (long long)n);
	if (before >= 0 && after >= 0)
		printf("database size: %lld -> %lld bytes\n", (long long)before,
		       (long long)after);
	app_close(&a);
	return rc ? 1 : 0;
}

static void check_advice(const char *path)
{
	fprintf(stderr,
		"flowcgi: the database %s is damaged; writes stay refused.\n"
		"  Either restore it from a backup: stop the web server, copy "
		"the backup over\n  %s, remove %s-wal and %s-shm;\n"
		"  or keep what is still readable: sqlite3 %s .recover | "
		"sqlite3 recovered.db,\n  then put recovered.db in its place.\n"
		"  Then run `flowcgi.fcgi check` again: it lifts the refusal once "
		"the file is sound.\n",
		path, path, path, path, path);
}

/* check: PRAGMA integrity_check (SQLite).  Exit 0: sound, and writes are
 * accepted again; 1: damaged, with what to do; 2: not checked. */
static int cmd_check(struct opts *o)
{
	struct app_config cfg;
	struct store *st = NULL;
	char *report = NULL;
	int rc;

	app_config_load(&cfg, o->db);
	rc = store_open(cfg.db_path, false, &st);
	if (!rc)
		rc = store_check(st, &report);
	if (!rc)
		printf("%s: %s\n", store_path(st), report);
	else if (rc == APP_EDB_CORRUPT) {
		fprintf(stderr, "%s\n", report ? report : store_errmsg(st));
		check_advice(store_path(st));
	} else
		fprintf(stderr, "flowcgi: cannot check %s: %s\n", store_path(st),
			store_errmsg(st));
	free(report);
	store_close(st);
	free(cfg.db_path);
	return !rc ? 0 : rc == APP_EDB_CORRUPT ? 1 : 2;
}

/* copy --from <store> --to <store>: a whole site, e.g. SQLite to
 * PostgreSQL; the counts of every table are printed. */
static int cmd_copy(struct opts *o)
{
	struct store *from = NULL, *to = NULL;
	struct copy_report rep;
	int rc;

	if (!o->from || !o->to) {
		fputs("flowcgi: copy needs --from <SQLite file or URI> --to "
		      "<PostgreSQL URI or file>\n",
		      stderr);
		return 2;
	}
	if ((rc = store_open(o->from, false, &from)))
		fprintf(stderr, "flowcgi: %s\n", store_errmsg(from));
	else if ((rc = store_open(o->to, !store_is_uri(o->to), &to)))
		fprintf(stderr, "flowcgi: %s\n", store_errmsg(to));
	else if ((rc = copy_site(from, to, &rep)))
		fprintf(stderr, "flowcgi: copy refused or failed, nothing "
				"written: %s\n",
			rep.error);
	else {
		for (int i = 0; i < rep.ntables; i++)
			printf("%-40s %lld\n", rep.tables[i].name,
			       (long long)rep.tables[i].rows);
		printf("copied %s to %s\n", store_path(from), store_path(to));
	}
	store_close(from);
	store_close(to);
	return rc ? 1 : 0;
}

/* import nocobase: the summary on stdout; exit 0 when everything moved,
 * 3 when something was skipped, 1 when nothing could be written. */
static int cmd_import_nocobase(struct opts *o)
{
	struct import_opts io = {.from = o->from, .app_dir = o->app_dir,
				 .rows = o->rows, .dry_run = o->dry_run,
				 .merge = o->merge};
	struct import_report rep;
	struct buf totals = {0};
	struct app a;
	int64_t skipped = 0;
	int rc;

	if (!o->from) {
		fputs("flowcgi: import nocobase needs --from <postgresql:// URI "
		      "or SQLite file of NocoBase>\n",
		      stderr);
		return 2;
	}
	if (open_app(&a, o->db, false))
		return 1;
	rc = import_nocobase(&a, &io, &rep);
	if (rc) {
		fprintf(stderr, "flowcgi: import refused or failed, nothing "
				"written: %s\n",
			rep.error);
	} else {
		import_report_totals(&rep, &totals);
		printf("%s\n%s", buf_str(&rep.lines), buf_str(&totals));
		skipped = import_report_skipped(&rep);
	}
	buf_free(&totals);
	import_report_free(&rep);
	app_close(&a);
	return rc ? 1 : skipped ? 3 : 0;
}

/* routes: the route table, one route a line, tab-separated. */
static int cmd_routes(struct opts *o)
{
	size_t n;
	const struct api_route *rt = api_routes(&n);
	struct buf line = {0};
	for (size_t i = 0; i < n; i++) {
		buf_reset(&line);
		api_route_line(&rt[i], &line);
		printf("%s\n", buf_str(&line));
	}
	buf_free(&line);
	return 0;
}

static const struct command {
	const char *name;
	int (*fn)(struct opts *o);
} commands[] = {
	{"init", cmd_init},         {"user add", cmd_user_add},
	{"token", cmd_token},       {"run-queue", cmd_run_queue},
	{"routes", cmd_routes},     {"maintain", cmd_maintain},
	{"copy", cmd_copy},         {"check", cmd_check},
	{"prune", cmd_prune},         {"import nocobase", cmd_import_nocobase},
};

int cli_run(int argc, char **argv)
{
	struct opts o = {0};
	const char *cmd = argv[1];
	int from = 2;

	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("flowcgi %s\n", FLOWCGI_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "user")) {
		if (argc < 3 || strcmp(argv[2], "add")) {
			fputs("flowcgi: usage: user add --username U --email E "
			      "--password P [--role R]...\n",
			      stderr);
			return 2;
		}
		cmd = "user add";
		from = 3;
	}
	if (!strcmp(cmd, "import")) {
		if (argc < 3 || strcmp(argv[2], "nocobase")) {
			fputs("flowcgi: usage: import nocobase --from URI|FILE "
			      "[--rows] [--dry-run] [--merge] [--app-dir DIR]\n",
			      stderr);
			return 2;
		}
		cmd = "import nocobase";
		from = 3;
	}
	if (parse_opts(argc, argv, from, &o))
		return 2;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(&o);
	fprintf(stderr, "flowcgi: unknown command %s\n\n", cmd);
	usage(stderr);
	return 2;
}
