/* store_sqlite_lock: the writers' queue in a page shared by every process.
 * Two handles (two processes, or a process and its checkpoint thread)
 * exclude each other, a wait ends at its timeout, a holder killed with -9
 * hands the lock on, and a process that finds the page set up by another
 * uses it as it is. */
#include "unit.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "store_sqlite_int.h"
#include "util.h"

static char dir[64], db[128];

static int setup(void **state)
{
	(void)state;
	unit_tmpdir(dir, "lock");
	snprintf(db, sizeof(db), "%s/x.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unit_rmdir(dir);
}

static int64_t elapsed_ms(int64_t since)
{
	return util_mono_ms() - since;
}

static void test_two_handles_exclude(void **state)
{
	struct store_lock *a = store_sqlite_lock_open(db);
	struct store_lock *b = store_sqlite_lock_open(db);
	int64_t t;
	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(store_sqlite_lock_take(a, 1000), 0);
	assert_int_equal(store_sqlite_lock_take(a, 1000), 0); /* held: once */
	t = util_mono_ms();
	assert_int_equal(store_sqlite_lock_take(b, 150), 1);
	assert_true(elapsed_ms(t) >= 140);
	assert_true(elapsed_ms(t) < 2000);
	store_sqlite_lock_give(a);
	assert_int_equal(store_sqlite_lock_take(b, 150), 0);
	assert_int_equal(store_sqlite_lock_take(a, 50), 1);
	store_sqlite_lock_close(b); /* gives what it holds */
	assert_int_equal(store_sqlite_lock_take(a, 50), 0);
	store_sqlite_lock_close(a);
}

/* A child takes the lock and is killed holding it: the parent, waiting
 * already, gets it at once (not at its timeout), and so does the next. */
static void test_killed_holder_hands_it_on(void **state)
{
	int ready[2], status;
	char c;
	int64_t t;
	pid_t pid;
	(void)state;
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_lock *l = store_sqlite_lock_open(db);
		if (!l || store_sqlite_lock_take(l, 1000))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);

	struct store_lock *l = store_sqlite_lock_open(db);
	assert_non_null(l);
	assert_int_equal(store_sqlite_lock_take(l, 100), 1); /* the child's */
	kill(pid, SIGKILL);
	t = util_mono_ms();
	assert_int_equal(store_sqlite_lock_take(l, 10000), 0);
	assert_true(elapsed_ms(t) < 5000);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	store_sqlite_lock_give(l);
	store_sqlite_lock_close(l);

	l = store_sqlite_lock_open(db); /* consistent again for anyone */
	assert_int_equal(store_sqlite_lock_take(l, 100), 0);
	store_sqlite_lock_close(l);
}

/* Threads of one process are holders of their own (the checkpoint
 * thread queues like a writer). */
static struct store_lock *thread_lock;
static int thread_rc = -2;
static long thread_timeout = 100;

static void *take_in_thread(void *arg)
{
	(void)arg;
	thread_rc = store_sqlite_lock_take(thread_lock, thread_timeout);
	return NULL;
}

static void test_threads_exclude(void **state)
{
	struct store_lock *mine = store_sqlite_lock_open(db);
	pthread_t th;
	(void)state;
	thread_lock = store_sqlite_lock_open(db);
	assert_int_equal(store_sqlite_lock_take(mine, 100), 0);
	assert_int_equal(pthread_create(&th, NULL, take_in_thread, NULL), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(thread_rc, 1);
	store_sqlite_lock_give(mine);
	assert_int_equal(pthread_create(&th, NULL, take_in_thread, NULL), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(thread_rc, 0);
	store_sqlite_lock_give(thread_lock);

	/* No bound (the checkpoint thread's wait): it waits as long as the
	 * holder holds, then has it. */
	assert_int_equal(store_sqlite_lock_take(mine, 100), 0);
	thread_timeout = -1;
	thread_rc = -2;
	assert_int_equal(pthread_create(&th, NULL, take_in_thread, NULL), 0);
	usleep(300 * 1000);
	assert_int_equal(thread_rc, -2); /* still waiting */
	store_sqlite_lock_give(mine);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(thread_rc, 0);
	store_sqlite_lock_close(mine);
	store_sqlite_lock_close(thread_lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_handles_exclude),
		cmocka_unit_test(test_killed_holder_hands_it_on),
		cmocka_unit_test(test_threads_exclude),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
