/* The writers' queue of a SQLite database: the lock every process (and
 * each process's checkpoint thread) takes before BEGIN IMMEDIATE, so that
 * writers wait in the kernel instead of polling in SQLite's busy handler.
 *
 * It lives in "<db>-writer", a page shared by every process that opens the
 * database: a robust process-shared mutex (glibc's; a holder killed with
 * -9 hands it on, its waiter told EOWNERDEAD).  Taking a free mutex costs
 * no system call, where flock() cost two per write and a wait five (two
 * of them for the SIGALRM timer that bounded it): on a virtual machine
 * whose system calls cost microseconds, that was a tenth of a trigger.
 *
 * A process that cannot map the file for writing (another user's file, a
 * read-only directory) queues with flock() on it as before.  The two kinds
 * do not exclude each other; nothing depends on it: SQLite's own locks
 * keep writers apart, the queue only spares them its polling. */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SHARED_MAGIC 0x666c7731u /* "flw1": mu is initialised */
#define SHARED_SIZE 4096

struct shared {
	uint32_t magic;
	pthread_mutex_t mu;
};

struct store_lock {
	int fd;
	struct shared *sh; /* NULL: flock() on fd */
	bool held;
};

/* The first process to map the page initialises the mutex, under flock()
 * so that two first processes do not both. */
static int shared_init(int fd, struct shared *sh)
{
	pthread_mutexattr_t at;
	int rc = 0;

	if (__atomic_load_n(&sh->magic, __ATOMIC_ACQUIRE) == SHARED_MAGIC)
		return 0;
	if (flock(fd, LOCK_EX))
		return -1;
	if (sh->magic != SHARED_MAGIC) {
		pthread_mutexattr_init(&at);
		if (pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED) ||
		    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST) ||
		    pthread_mutex_init(&sh->mu, &at))
			rc = -1;
		else
			__atomic_store_n(&sh->magic, SHARED_MAGIC,
					 __ATOMIC_RELEASE);
		pthread_mutexattr_destroy(&at);
	}
	flock(fd, LOCK_UN);
	return rc;
}

static struct shared *shared_map(int fd)
{
	struct stat sb;
	void *p;

	if (fstat(fd, &sb) || (sb.st_size < SHARED_SIZE && ftruncate(fd, SHARED_SIZE)))
		return NULL;
	p = mmap(NULL, SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (shared_init(fd, p)) {
		munmap(p, SHARED_SIZE);
		return NULL;
	}
	return p;
}

struct store_lock *store_sqlite_lock_open(const char *db_path)
{
	struct store_lock *l;
	char path[4096];
	bool rw;
	int fd;

	snprintf(path, sizeof(path), "%s-writer", db_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	rw = fd >= 0;
	if (!rw && (fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0664)) < 0)
		return NULL;
	l = util_xcalloc(1, sizeof(*l));
	l->fd = fd;
	if (rw)
		l->sh = shared_map(fd);
	return l;
}

void store_sqlite_lock_close(struct store_lock *l)
{
	if (!l)
		return;
	store_sqlite_lock_give(l);
	if (l->sh)
		munmap(l->sh, SHARED_SIZE);
	close(l->fd);
	free(l);
}

static void alarm_noop(int sig)
{
	(void)sig;
}

/* flock() has no timeout: a SIGALRM timer interrupts it.  The timer is
 * the process's, so only the request thread bounds its wait; another
 * thread (the checkpoint thread) waits unbounded, as it always did. */
static int flock_take(struct store_lock *l, long timeout_ms)
{
	static bool handler;
	struct itimerval t = {{0, 0}, {0, 0}};
	int rc, saved;

	if (flock(l->fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -1;
	if (timeout_ms < 0)
		return flock(l->fd, LOCK_EX) ? -1 : 0;
	if (!handler) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = alarm_noop; /* no SA_RESTART: flock returns */
		sigaction(SIGALRM, &sa, NULL);
		handler = true;
	}
	t.it_value.tv_sec = timeout_ms / 1000;
	t.it_value.tv_usec = (timeout_ms % 1000) * 1000;
	setitimer(ITIMER_REAL, &t, NULL);
	rc = flock(l->fd, LOCK_EX);
	saved = errno;
	memset(&t, 0, sizeof(t));
	setitimer(ITIMER_REAL, &t, NULL);
	if (rc == 0)
		return 0;
	return saved == EINTR ? 1 : -1;
}

static int mutex_take(struct store_lock *l, long timeout_ms)
{
	struct timespec until;
	int rc = pthread_mutex_trylock(&l->sh->mu);

	if (rc == EBUSY && timeout_ms < 0) {
		rc = pthread_mutex_lock(&l->sh->mu);
	} else if (rc == EBUSY) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += timeout_ms / 1000;
		until.tv_nsec += (timeout_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		rc = pthread_mutex_clocklock(&l->sh->mu, CLOCK_MONOTONIC,
					     &until);
	}
	/* Its holder died: what it wrote is SQLite's to recover (its locks
	 * went with the process); the queue goes on. */
	if (rc == EOWNERDEAD)
		rc = pthread_mutex_consistent(&l->sh->mu);
	if (rc == 0)
		return 0;
	return rc == ETIMEDOUT ? 1 : -1;
}

int store_sqlite_lock_take(struct store_lock *l, long timeout_ms)
{
	int rc;

	if (!l || l->held)
		return l ? 0 : -1;
	rc = l->sh ? mutex_take(l, timeout_ms) : flock_take(l, timeout_ms);
	l->held = rc == 0;
	return rc;
}

void store_sqlite_lock_give(struct store_lock *l)
{
	if (!l || !l->held)
		return;
	if (l->sh)
		pthread_mutex_unlock(&l->sh->mu);
	else
		flock(l->fd, LOCK_UN);
	l->held = false;
}
