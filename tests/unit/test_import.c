/* import nocobase: the pure pieces (field types, .env, the token secret
 * and AES key where NocoBase keeps them, revoked tokens), the read-only
 * source reader on NocoBase's SQLite form, and a raw secret read back. */
#include "unit.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include "crypto.h"
#include "err.h"
#include "import_int.h"
#include "util.h"

static void test_field_types(void **state)
{
	static const char *const same[] = {
		"string", "text", "integer", "bigInt", "float", "double",
		"decimal", "boolean", "date", "json", "password", "belongsTo",
		"hasOne", "hasMany", "belongsToMany", "uid", "sort", "datetimeTz"};
	static const char *const none[] = {
		"formula", "sequence", "dateOnly", "datetimeNoTz", "time",
		"unixTimestamp", "point", "encryption", "context", "virtual", "",
		"String"};
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		assert_string_equal(import_nocobase_field_type(same[i]), same[i]);
	assert_string_equal(import_nocobase_field_type("snowflakeId"), "bigInt");
	assert_string_equal(import_nocobase_field_type("set"), "json");
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		assert_null(import_nocobase_field_type(none[i]));
	assert_null(import_nocobase_field_type(NULL));
}

static void env_is(const char *text, const char *key, const char *want)
{
	char *v = import_nocobase_env_value(text, key);
	if (!want)
		assert_null(v);
	else if (!v || strcmp(v, want))
		fail_msg("%s: got %s, want %s", key, v ? v : "(none)", want);
	free(v);
}

static void test_env_file(void **state)
{
	const char *env = "# comment\n"
			  "APP_ENV=production\n"
			  "APP_KEY=abc+/=\n"
			  "  export STORAGE_PATH = ./data  \n"
			  "QUOTED=\"a b # not a comment\\nnext\"\n"
			  "SINGLE='x\\ny'\n"
			  "TRAIL=value # comment\n"
			  "EMPTY=\n"
			  "APP_KEY_LONG=no\n"
			  "TWICE=1\nTWICE=2";
	env_is(env, "APP_KEY", "abc+/=");
	env_is(env, "STORAGE_PATH", "./data");
	env_is(env, "QUOTED", "a b # not a comment\nnext");
	env_is(env, "SINGLE", "x\\ny");
	env_is(env, "TRAIL", "value");
	env_is(env, "EMPTY", "");
	env_is(env, "TWICE", "2");
	env_is(env, "APP", NULL);
	env_is(env, "MISSING", NULL);
	env_is("", "APP_KEY", NULL);
}

static void test_blocked_key(void **state)
{
	char out[80], hash[65];
	const char *jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOjF9.sig";
	import_nocobase_blocked_key("d16f7167-ec51-4d36-8a6d-dd6796ec5e41", out,
				    sizeof(out));
	assert_string_equal(out, "d16f7167-ec51-4d36-8a6d-dd6796ec5e41");
	import_nocobase_blocked_key(jwt, out, sizeof(out));
	crypto_sha256_hex(jwt, strlen(jwt), hash);
	assert_string_equal(out, hash);
}

/* ---- a NocoBase folder ---- */

struct folder {
	char dir[64];
};

static void put(struct folder *f, const char *rel, const void *p, size_t n)
{
	char path[256], *slash;
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	for (slash = strchr(path + strlen(f->dir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	FILE *fh = fopen(path, "wb");
	assert_non_null(fh);
	assert_int_equal(fwrite(p, 1, n, fh), n);
	fclose(fh);
}

static void put_text(struct folder *f, const char *rel, const char *text)
{
	put(f, rel, text, strlen(text));
}

static void folder_new(struct folder *f, const char *env)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/flowcgi-nbapp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	put_text(f, ".env", env);
}

static void folder_free(struct folder *f)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

static const unsigned char raw[32] = {0x00, 0xff, 0x10, 0x80, 1, 2, 3, 4,
				      5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0};

static void test_secret_app_key(void **state)
{
	struct folder f;
	struct nb_app nb;
	char err[300];

	folder_new(&f, "APP_KEY=the-key\n");
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), 0);
	assert_false(nb.secret_raw);
	assert_int_equal(nb.secret_len, 7);
	assert_memory_equal(nb.secret, "the-key", 7);
	assert_false(nb.has_aes);
	import_nocobase_app_free(&nb);
	/* NocoBase's sample keys are not used: it would make a new secret */
	put_text(&f, ".env", "APP_KEY=test-key\n");
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no token secret"));
	folder_free(&f);
	assert_int_equal(import_nocobase_app_read("/nonexistent", &nb, err,
						  sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ".env"));
}

static void test_secret_file(void **state)
{
	struct folder f;
	struct nb_app nb;
	char err[300];

	folder_new(&f, "APP_KEY=the-key\n");
	put(&f, "storage/apps/main/jwt_secret.dat", raw, 32);
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), 0);
	assert_true(nb.secret_raw);
	assert_int_equal(nb.secret_len, 32);
	assert_memory_equal(nb.secret, raw, 32);
	import_nocobase_app_free(&nb);
	/* UNSAFE_USE_DEFAULT_JWT_SECRET=true: APP_KEY, even a sample one */
	put_text(&f, ".env", "APP_KEY=test-key\nUNSAFE_USE_DEFAULT_JWT_SECRET=true\n");
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), 0);
	assert_false(nb.secret_raw);
	assert_memory_equal(nb.secret, "test-key", 8);
	import_nocobase_app_free(&nb);
	/* a file of another length stops NocoBase, and the import */
	put_text(&f, ".env", "APP_KEY=k\n");
	put(&f, "storage/apps/main/jwt_secret.dat", raw, 31);
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "31 bytes, not 32"));
	folder_free(&f);
}

static void test_storage_path_and_aes(void **state)
{
	struct folder f;
	struct nb_app nb;
	char err[300], hex[65];

	folder_new(&f, "APP_KEY=k\nSTORAGE_PATH=elsewhere\n");
	put(&f, "elsewhere/apps/main/jwt_secret.dat", raw, 32);
	put(&f, "elsewhere/environment-variables/main/aes_key.dat", raw, 32);
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), 0);
	assert_true(nb.secret_raw);
	assert_true(nb.has_aes);
	assert_memory_equal(nb.aes, raw, 32);
	import_nocobase_app_free(&nb);
	/* APP_AES_SECRET_KEY (hex) wins over the files */
	util_hex((const unsigned char *)"0123456789abcdef0123456789abcdef", 32, hex);
	char env[200];
	snprintf(env, sizeof(env), "APP_KEY=k\nAPP_AES_SECRET_KEY=%s\n", hex);
	put_text(&f, ".env", env);
	put(&f, "storage/apps/main/aes_key.dat", raw, 32);
	assert_int_equal(import_nocobase_app_read(f.dir, &nb, err, sizeof(err)), 0);
	assert_memory_equal(nb.aes, "0123456789abcdef0123456789abcdef", 32);
	import_nocobase_app_free(&nb);
	folder_free(&f);
}

/* The fixture's secret variable: NocoBase 2.2.15 encrypted "s3cret" with
 * the fixture app's aes_key.dat. */
static void test_decrypt_nocobase_secret(void **state)
{
	struct nb_app nb = {.has_aes = true};
	const char *key = "296e10e19fd9acfcac41abad0327498c255fa9062c5f922b0b128ed84b165897";
	const char *enc = "72471338c00f7de3b3d93b4feeca98a9bfd95c1bcd322e75ba29be2553f30e23";
	char *plain, bad[80];

	assert_int_equal(util_unhex(key, 64, nb.aes), 0);
	plain = import_nocobase_app_decrypt(&nb, enc);
	assert_non_null(plain);
	assert_string_equal(plain, "s3cret");
	free(plain);
	snprintf(bad, sizeof(bad), "%s", enc);
	bad[63] = bad[63] == '0' ? '1' : '0'; /* the padding breaks */
	assert_null(import_nocobase_app_decrypt(&nb, bad));
	assert_null(import_nocobase_app_decrypt(&nb, "abc"));
	assert_null(import_nocobase_app_decrypt(&nb, NULL));
	nb.has_aes = false;
	assert_null(import_nocobase_app_decrypt(&nb, enc));
}

/* ---- the source reader on NocoBase's SQLite form ---- */

static void test_source_sqlite(void **state)
{
	char dir[] = "/tmp/flowcgi-src-XXXXXX", path[64];
	struct store_src *src = NULL;
	json_object *rows = NULL;
	sqlite3 *db;
	int64_t n = 0;
	bool has = true;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/nb.sqlite", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE \"rolesUsers\" (\"createdAt\" DATETIME, "
			     "\"default\" TINYINT(1), \"roleName\" VARCHAR(255), "
			     "\"userId\" BIGINT, \"meta\" JSON, \"ratio\" DOUBLE "
			     "PRECISION, \"amount\" DECIMAL);"
			     "INSERT INTO \"rolesUsers\" VALUES ('2026-12-04 "
			     "20:40:59.537 +00:00', 1, 'root', 1, '{\"a\":[1]}', 0.25, "
			     "'12.50'), (NULL, 0, 'member', 2, 'not json', NULL, NULL);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_src_open(path, &src), 0);
	assert_int_equal(store_src_has(src, "rolesUsers", &has), 0);
	assert_true(has);
	assert_int_equal(store_src_has(src, "users\"; DROP", &has), 0);
	assert_false(has);
	assert_int_equal(store_src_count(src, "rolesUsers", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_src_rows(src, "rolesUsers", "userId", 0, 0, &rows), 0);
	unit_assert_json(rows,
			 "[{\"createdAt\":\"2026-12-04T20:40:59.537Z\","
			 "\"default\":true,\"roleName\":\"root\",\"userId\":1,"
			 "\"meta\":{\"a\":[1]},\"ratio\":0.25,\"amount\":12.5},"
			 "{\"createdAt\":null,\"default\":false,\"roleName\":"
			 "\"member\",\"userId\":2,\"meta\":\"not json\","
			 "\"ratio\":null,\"amount\":null}]");
	json_object_put(rows);
	assert_int_equal(store_src_rows(src, "rolesUsers", "userId", 1, 1, &rows), 0);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object_put(rows);
	assert_int_equal(store_src_rows(src, "nosuch", NULL, 0, 0, &rows),
			 APP_ENOT_FOUND);
	assert_int_equal(store_src_rows(src, "rolesUsers", "x\"y", 0, 0, &rows),
			 APP_EPARAM);
	store_src_close(src);
	assert_int_equal(store_src_open("/nonexistent/nb.sqlite", &src),
			 APP_EDB_UNINIT);
	assert_non_null(strstr(store_src_errmsg(src), "does not exist"));
	store_src_close(src);
	unlink(path);
	rmdir(dir);
}

/* ---- a raw secret stored as the import stores it ---- */

static void test_raw_secret_read_back(void **state)
{
	struct unit_db d;
	struct app_config cfg;
	char hex[65];

	unsetenv("FLOWCGI_APP_KEY");
	unit_db_open(&d, "rawkey");
	util_hex(raw, 32, hex);
	assert_int_equal(store_meta_set(d.app.st, "app_secret_hex", hex), 0);
	app_close(&d.app);
	app_config_load(&cfg, d.path);
	app_open(&d.app, &cfg);
	assert_int_equal(d.app.app_key_len, 32);
	assert_memory_equal(d.app.app_key, raw, 32);
	/* emptied (an APP_KEY imported later): the string secret again */
	assert_int_equal(store_meta_set(d.app.st, "app_secret_hex", ""), 0);
	app_close(&d.app);
	app_config_load(&cfg, d.path);
	app_open(&d.app, &cfg);
	assert_int_equal(d.app.app_key_len, 0); /* no init: no app_secret */
	unit_db_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_types),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_blocked_key),
		cmocka_unit_test(test_secret_app_key),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_storage_path_and_aes),
		cmocka_unit_test(test_decrypt_nocobase_secret),
		cmocka_unit_test(test_source_sqlite),
		cmocka_unit_test(test_raw_secret_read_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
