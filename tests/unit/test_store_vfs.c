/* store_sqlite_vfs: the shim that writes a commit's WAL frames at once.
 * What it must never do is lose or reorder what SQLite wrote: a commit
 * is on file before another connection can see it, a transaction too big
 * for the page cache (its frames spilled early, its checksums mended at
 * commit) survives a crash, and the WAL it leaves recovers without it. */
#include "unit.h"

#include <sqlite3.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#include "store_sqlite_int.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	unit_tmpdir(dir, "vfs");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmdir(dir);
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open_v2(path, &db,
					 SQLITE_OPEN_READWRITE |
						 SQLITE_OPEN_CREATE,
					 vfs),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL;"
					  "PRAGMA synchronous=NORMAL;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	return db;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static int64_t one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void test_registered(void **state)
{
	(void)state;
	const char *name = store_sqlite_vfs();
	assert_non_null(name);
	assert_non_null(sqlite3_vfs_find(name));
	assert_string_equal(store_sqlite_vfs(), name); /* once */
}

/* Each commit is read at once by a second connection, in the same
 * process (the unix VFS shares its locks) and so in the same thread:
 * nothing may still be held back in the first one. */
static void test_a_commit_is_seen_at_once(void **state)
{
	char path[128];
	(void)state;
	snprintf(path, sizeof(path), "%s/seen.db", dir);
	sqlite3 *w = open_db(path, store_sqlite_vfs());
	sqlite3 *r = open_db(path, store_sqlite_vfs());
	exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	for (int i = 1; i <= 300; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO t(v) VALUES (printf('%%.*c', %d, 'x'))",
			 1 + i * 37 % 3000);
		exec(w, sql);
		assert_int_equal(one(r, "SELECT count(*) FROM t"), i);
		assert_int_equal(one(r, "SELECT max(id) FROM t"), i);
	}
	assert_int_equal(sqlite3_close(r), SQLITE_OK);
	assert_int_equal(sqlite3_close(w), SQLITE_OK);
}

/* This process's bytes read from storage (/proc/self/io), -1 unknown. */
static int64_t storage_reads(void)
{
	char line[128];
	long long v = -1;
	FILE *f = fopen("/proc/self/io", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "read_bytes: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* Commits write whole file blocks: a WAL overwritten in its second cycle,
 * its pages dropped from the page cache (as the kernel drops pages that
 * are written and never read), takes commits without reading anything
 * from disk.  Without the padding each commit's last block, partly
 * written, is read first.  On a file system without a disk (tmpfs) there
 * is nothing to read: skipped. */
static void test_commits_write_whole_blocks(void **state)
{
	char tdir[64], path[128], wal[160];
	struct statfs sfs;
	int64_t before;
	int fd;
	(void)state;
	snprintf(tdir, sizeof(tdir), "/var/tmp/flowcgi-unit-blocks-XXXXXX");
	if (!mkdtemp(tdir) || statfs(tdir, &sfs) || sfs.f_type == TMPFS_MAGIC ||
	    storage_reads() < 0) {
		unit_rmdir(tdir);
		skip();
	}
	snprintf(path, sizeof(path), "%s/b.db", tdir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	sqlite3 *db = open_db(path, store_sqlite_vfs());
	exec(db, "PRAGMA wal_autocheckpoint=0");
	exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	for (int i = 0; i < 300; i++) /* a WAL of a few hundred frames */
		exec(db, "INSERT INTO t(v) VALUES (printf('%.*c', 300, 'x'))");
	exec(db, "PRAGMA wal_checkpoint(RESTART)");
	exec(db, "INSERT INTO t(v) VALUES ('the WAL starts over')");
	assert_true((fd = open(wal, O_RDONLY)) >= 0);
	assert_int_equal(fdatasync(fd), 0);
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	close(fd);
	exec(db, "INSERT INTO t(v) VALUES ('its block read once')");
	before = storage_reads();
	for (int i = 0; i < 40; i++)
		exec(db, "INSERT INTO t(v) VALUES (printf('%.*c', 300, 'y'))");
	assert_int_equal(storage_reads() - before, 0);
	assert_int_equal(one(db, "SELECT count(*) FROM t"), 342);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	unit_rmdir(tdir);
}

/* A child writes a transaction far bigger than its page cache (frames
 * spill into the WAL before the commit, pages written twice make SQLite
 * mend the checksums that follow), then `small` short ones, and dies
 * without closing.  Without the shared-memory index the WAL is read back
 * by its checksums alone: every commit must be there. */
static void crash_after(int small)
{
	char path[128], shm[160];
	snprintf(path, sizeof(path), "%s/crash%d.db", dir, small);
	snprintf(shm, sizeof(shm), "%s-shm", path);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *db = open_db(path, store_sqlite_vfs());
		exec(db, "PRAGMA cache_size=10");
		exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INT)");
		exec(db, "BEGIN");
		exec(db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 "
			 "FROM c WHERE i < 3000) INSERT INTO t(id, v, n) SELECT "
			 "i, printf('%.*c', 500, 'a'), 0 FROM c");
		exec(db, "UPDATE t SET n = 1 WHERE id % 7 = 0");
		exec(db, "UPDATE t SET v = printf('%.*c', 400, 'b') "
			 "WHERE id <= 200");
		exec(db, "COMMIT");
		for (int i = 0; i < small; i++)
			exec(db, "UPDATE t SET n = n + 1 WHERE id = 1");
		_exit(0); /* no close: the WAL stays, with no checkpoint */
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(shm); /* recovery from the WAL's own checksums */

	sqlite3 *db = open_db(path, NULL); /* SQLite's own VFS reads it */
	assert_int_equal(one(db, "SELECT count(*) FROM t"), 3000);
	assert_int_equal(one(db, "SELECT count(*) FROM t WHERE n >= 1"),
			 3000 / 7 + (small > 0));
	assert_int_equal(one(db, "SELECT n FROM t WHERE id = 1"), small);
	assert_int_equal(one(db, "SELECT count(*) FROM t WHERE v LIKE 'b%'"),
			 200);
	sqlite3_stmt *s = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
					    &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_a_crash_after_a_big_commit(void **state)
{
	(void)state;
	crash_after(0);
}

static void test_a_crash_after_small_commits(void **state)
{
	(void)state;
	crash_after(50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_a_commit_is_seen_at_once),
		cmocka_unit_test(test_commits_write_whole_blocks),
		cmocka_unit_test(test_a_crash_after_a_big_commit),
		cmocka_unit_test(test_a_crash_after_small_commits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
