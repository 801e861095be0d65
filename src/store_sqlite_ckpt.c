/*
 * store_sqlite_ckpt: the WAL checkpoint, off the request path.
 *
 * A checkpoint copies the WAL's pages into the database and fsyncs it:
 * milliseconds that, run by the process that serves requests, every
 * request queued behind it waits for (the benchmark's p99 was that).  So
 * a thread of the process, with a connection of its own, does it: a
 * commit that grows the WAL past CKPT_FRAMES wakes it, and it copies
 * (PASSIVE: beside readers and writers, taking no lock they wait for).
 *
 * Under steady load a reader always holds a recent snapshot, so a PASSIVE
 * checkpoint alone never lets the WAL start over and the file grows
 * without bound.  When the WAL is past CKPT_RESTART_FRAMES, the thread
 * catches up, queues for the writers' lock and a RESTART checkpoint lets
 * the next writer reuse the file from its start: a pause of about a
 * millisecond for writers, once per that many frames.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Small copies: each ends in fsyncs, and the requests' writes to the WAL
 * wait while the kernel writes its pages back, so the size of one copy is
 * the size of a stall.  make bench, trigger at c=16, p99 (before the WAL
 * was written back early): 2000 frames 8.5-11.8 ms, 500 frames 5.3-6.1
 * ms, none at all 2.7 ms; 200 frames cost a third of the throughput.  -D
 * to measure. */
#ifndef CKPT_FRAMES
#define CKPT_FRAMES 500           /* about 2 MB of WAL: copy it */
#endif
/* The RESTART holds the writers' lock for the last copy and two fsyncs:
 * 0.7-1.1 ms under make bench (timed in the thread) once the copies
 * before it are written out beside the writers (sync_db); 4-6 ms before,
 * and 14-21 ms at 48,000 frames, when its fsync wrote every copy since
 * the last start-over.  48,000 frames also pass journal_size_limit, and
 * the WAL is truncated at each start-over. */
#ifndef CKPT_RESTART_FRAMES
#define CKPT_RESTART_FRAMES 12000 /* about 48 MB: let it start over */
#endif

/* The database grows in steps of this much (SQLITE_FCNTL_CHUNK_SIZE), so
 * that the last copy, under the writers' lock, seldom grows the file: an
 * fsync with a new size to commit to the filesystem's journal took
 * milliseconds where one without took a fraction of one. */
#ifndef CKPT_CHUNK
#define CKPT_CHUNK (1024 * 1024)
#endif
/* Catch-up copies before the lock: at most this many, until one copies
 * no more than CKPT_TAIL_FRAMES frames. */
#ifndef CKPT_CATCHUP_PASSES
#define CKPT_CATCHUP_PASSES 6
#endif
#ifndef CKPT_TAIL_FRAMES
#define CKPT_TAIL_FRAMES 32
#endif

struct store_ckpt {
	pthread_t thread;
	/* Pokes: a post never waits, where a mutex shared with the thread
	 * made a request wait while the thread, holding it, waited for a
	 * CPU (futex waits of 1-3 ms, seen with perf trace). */
	sem_t poke;
	atomic_bool stop;
	char *path;
	struct store_lock *lock; /* the writers' queue, its own handle */
	int wal_fd;      /* the WAL, for early write-back, or -1 */
	sqlite3 *db;
};

static bool damaged(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s-damaged", path);
	return access(p, F_OK) == 0;
}

/* While it holds the writers' lock the RESTART waits for the readers
 * still on the WAL: a request between its read and its write, a GET of
 * another process, each a fraction of a millisecond.  SQLite's own busy
 * wait sleeps 1 ms first, then 2, 5: the writers queued behind would
 * wait for the sleep, not for the readers. */
static int readers_busy(void *arg, int count)
{
	(void)arg;
	if (count >= 200) /* 10 ms */
		return 0;
	struct timespec ts = {0, 50 * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

/* A PASSIVE copy that ends behind the WAL's end (always, under load)
 * does not fsync the database: SQLite leaves that to the copy that
 * catches up.  Without this, every copy since the last start-over waited
 * in the page cache for the RESTART's fsync, under the writers' lock (21
 * ms at 48,000 frames). */
static void sync_db(struct store_ckpt *c)
{
	sqlite3_file *f = NULL;
	if (sqlite3_file_control(c->db, "main", SQLITE_FCNTL_FILE_POINTER,
				 &f) == SQLITE_OK && f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

/* A copy starts with an fsync of the WAL, and while the kernel writes a
 * file's dirty pages back it holds them locked: the commit appending to
 * the WAL's last page waited for it (2-3 ms pwrite calls, seen with perf
 * trace).  So the pages the writers are done with are sent first, without
 * waiting, leaving the fsync only the last few (PostgreSQL's
 * checkpoint_flush_after does the same with sync_file_range). */
static void write_back_wal(struct store_ckpt *c)
{
	sqlite3_int64 end = store_sqlite_vfs_wal_end() & ~(sqlite3_int64)4095;
	if (c->wal_fd >= 0 && end > 4096)
		sync_file_range(c->wal_fd, 0, end - 4096, SYNC_FILE_RANGE_WRITE);
}

/* One PASSIVE copy and the fsync after it; false on an error. */
static bool copy(struct store_ckpt *c, int *log, int *done)
{
	write_back_wal(c);
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL,
					   SQLITE_CHECKPOINT_PASSIVE, log, done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		log_error("sqlite: checkpoint: %s", sqlite3_errmsg(c->db));
		return false;
	}
	sync_db(c);
	return true;
}

/* Copy beside the writers; past CKPT_RESTART_FRAMES, let the WAL start
 * over.  That needs a moment with every frame copied and no writer, so
 * the thread queues for the writers' lock like a writer; what the writers
 * behind it wait for is what is left to copy then.  Each catch-up copy
 * takes the frames committed during the one before, so what is left is a
 * few frames: a short copy and two short fsyncs under the lock. */
static void checkpoint(struct store_ckpt *c)
{
	int log = 0, done = 0, before;

	if (!copy(c, &log, &done) || log < CKPT_RESTART_FRAMES)
		return;
	for (int i = 0; i < CKPT_CATCHUP_PASSES; i++) {
		before = done;
		if (!copy(c, &log, &done) || log < CKPT_RESTART_FRAMES)
			return; /* an error, or a writer started over */
		if (done - before <= CKPT_TAIL_FRAMES)
			break;
	}
	/* No bound: it cannot time out (without a queue, -1, SQLite's own
	 * lock is waited for below). */
	store_sqlite_lock_take(c->lock, -1);
	sqlite3_busy_handler(c->db, readers_busy, NULL);
	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &log,
				  &done);
	sqlite3_busy_handler(c->db, NULL, NULL);
	store_sqlite_lock_give(c->lock);
}

static void *run(void *arg)
{
	struct store_ckpt *c = arg;
	for (;;) {
		while (sem_wait(&c->poke) && errno == EINTR)
			;
		while (sem_trywait(&c->poke) == 0)
			; /* pokes that came meanwhile: one copy serves them */
		if (c->stop)
			break;
		if (!damaged(c->path)) /* never into a damaged file */
			checkpoint(c);
	}
	return NULL;
}

/* What start opened, closed: its failure path and stop share it. */
static void release(struct store_ckpt *c)
{
	sqlite3_close(c->db);
	store_sqlite_lock_close(c->lock);
	if (c->wal_fd >= 0)
		close(c->wal_fd);
	free(c->path);
	free(c);
}

static struct store_ckpt *start(const char *path)
{
	struct store_ckpt *c = util_xcalloc(1, sizeof(*c));
	char lock[4096];

	c->path = util_xstrdup(path);
	c->lock = store_sqlite_lock_open(path);
	snprintf(lock, sizeof(lock), "%s-wal", path);
	c->wal_fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    store_sqlite_vfs()) != SQLITE_OK) {
		log_error("sqlite: checkpoints: cannot open %s", path);
		goto fail;
	}
	int chunk = CKPT_CHUNK; /* on the connection that writes the file */
	sqlite3_file_control(c->db, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
	/* Closing this connection must not checkpoint: the requests' one
	 * may still be open, and a damaged file is left alone. */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* A connection learns that the file is in WAL mode when it first
	 * reads it; until then a checkpoint does nothing. */
	if (sqlite3_exec(c->db, "PRAGMA schema_version", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		log_error("sqlite: checkpoints: %s", sqlite3_errmsg(c->db));
		goto fail;
	}
	sem_init(&c->poke, 0, 0);
	if (pthread_create(&c->thread, NULL, run, c) == 0)
		return c;
	log_error("sqlite: checkpoints: no thread (%s)", strerror(errno));
	sem_destroy(&c->poke);
fail:
	release(c);
	return NULL;
}

void store_sqlite_ckpt_poke(struct store_sqlite *st)
{
	if (st->wal_frames < st->wal_checked)
		st->wal_checked = 0; /* the WAL started over */
	if (st->wal_frames - st->wal_checked < CKPT_FRAMES)
		return;
	st->wal_checked = st->wal_frames;
	if (!st->ckpt && !(st->ckpt = start(st->path)))
		return;
	sem_post(&st->ckpt->poke);
}

void store_sqlite_ckpt_stop(struct store_sqlite *st)
{
	struct store_ckpt *c = st->ckpt;
	if (!c)
		return;
	c->stop = true;
	sem_post(&c->poke);
	pthread_join(c->thread, NULL);
	sem_destroy(&c->poke);
	release(c);
	st->ckpt = NULL;
}
