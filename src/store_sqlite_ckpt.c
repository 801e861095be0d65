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
 * queues for the writers' lock and a RESTART checkpoint lets the next
 * writer reuse the file from its start: a pause of a few milliseconds for
 * writers, once per that many frames.
 */
#include "store_sqlite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Small copies: each ends in an fsync of the database, and the writes of
 * the requests wait on the filesystem's journal while it runs (ext4), so
 * the size of one copy is the size of the stall.  make bench, trigger at
 * c=16, p99: 2000 frames 8.5-11.8 ms, 500 frames 5.3-6.1 ms, none at all
 * 2.7 ms; 200 frames cost a third of the throughput.  -D to measure. */
#ifndef CKPT_FRAMES
#define CKPT_FRAMES 500           /* about 2 MB of WAL: copy it */
#endif
/* The RESTART holds the writers' lock for a copy and two fsyncs (5-6 ms
 * under make bench, seen with perf trace): the tail left at c=16.  48,000
 * frames made it worse (p99 62-79 ms: the WAL past journal_size_limit is
 * truncated at each start-over), 4,000 no better than 12,000. */
#ifndef CKPT_RESTART_FRAMES
#define CKPT_RESTART_FRAMES 12000 /* about 48 MB: let it start over */
#endif

struct store_ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool poked, stop;
	char *path;
	int lock_fd;     /* the writers' queue, an open file of its own */
	sqlite3 *db;
};

static bool damaged(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s-damaged", path);
	return access(p, F_OK) == 0;
}

static void checkpoint(struct store_ckpt *c)
{
	int log = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
					   &log, &done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
		log_error("sqlite: checkpoint: %s", sqlite3_errmsg(c->db));
		return;
	}
	if (log < CKPT_RESTART_FRAMES)
		return;
	/* In the writers' queue like any writer: the kernel hands the lock
	 * over, and the writers behind wait only for the frames committed
	 * since the copy above. */
	if (c->lock_fd >= 0 && flock(c->lock_fd, LOCK_EX))
		return;
	sqlite3_busy_timeout(c->db, 10); /* readers finishing */
	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &log,
				  &done);
	sqlite3_busy_timeout(c->db, 0);
	if (c->lock_fd >= 0)
		flock(c->lock_fd, LOCK_UN);
}

static void *run(void *arg)
{
	struct store_ckpt *c = arg;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (!c->poked && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		bool stop = c->stop;
		c->poked = false;
		pthread_mutex_unlock(&c->mu);
		if (stop)
			break;
		if (!damaged(c->path)) /* never into a damaged file */
			checkpoint(c);
	}
	return NULL;
}

static struct store_ckpt *start(const char *path)
{
	struct store_ckpt *c = util_xcalloc(1, sizeof(*c));
	char lock[4096];

	c->path = util_xstrdup(path);
	snprintf(lock, sizeof(lock), "%s-writer", path);
	c->lock_fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_error("sqlite: checkpoints: cannot open %s", path);
		goto fail;
	}
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
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, run, c) == 0)
		return c;
	log_error("sqlite: checkpoints: no thread (%s)", strerror(errno));
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
fail:
	sqlite3_close(c->db);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->path);
	free(c);
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
	pthread_mutex_lock(&st->ckpt->mu);
	st->ckpt->poked = true;
	pthread_cond_signal(&st->ckpt->cv);
	pthread_mutex_unlock(&st->ckpt->mu);
}

void store_sqlite_ckpt_stop(struct store_sqlite *st)
{
	struct store_ckpt *c = st->ckpt;
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	sqlite3_close(c->db);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->path);
	free(c);
	st->ckpt = NULL;
}
