/*
 * store_sqlite_vfs: a VFS shim over SQLite's own ("unix") that writes a
 * transaction's WAL frames with one system call.
 *
 * SQLite writes each WAL frame as two writes, its 24-byte header and its
 * page: a trigger's three or four frames were seven or eight pwrite calls
 * in the writers' lock, and a system call is not cheap on a virtual
 * machine.  The shim gathers the contiguous writes to a WAL file and hands
 * them to the real file as one write when the commit frame is complete, or
 * before anything that could look at the file: a read, a sync, a size, a
 * truncate, a lock, the shared-memory index (whose header, once written,
 * tells other processes to read the frames).  Every other file, and every
 * other method, goes straight through.
 *
 * What reaches the disk, and when, is what SQLite asked for: a commit's
 * frames are written before the commit is published, and an error of the
 * gathered write (SQLITE_FULL on a full disk) is the commit's error.
 */
#include "store_sqlite_int.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define VFS_NAME "flowcgi"
#define FRAME_HEADER 24
/* More than this goes out as it comes: the unix VFS writes at most
 * 128 KB - 1 in one call (seekAndWriteFd masks the length with 0x1ffff)
 * and takes a call that wrote nothing for a full disk. */
#define GATHER_MAX (64 * 1024)
/* The file system's block: gathered writes end on its boundary. */
#define WAL_BLOCK 4096

struct shim_file {
	sqlite3_file base;
	sqlite3_file *real;     /* the unix VFS's file, right after this one */
	bool wal;
	bool commit_seen;       /* the last header was a commit frame's */
	sqlite3_int64 read_off; /* where the last call read, or -1 */
	unsigned char *buf;     /* gathered writes, from buf_off */
	int len, cap;
	sqlite3_int64 buf_off;
};

static sqlite3_vfs *real_vfs;
/* Where this process's last commit ended in its WAL: a hint for the
 * checkpoint thread's early write-back (store_sqlite_ckpt.c). */
static _Atomic sqlite3_int64 wal_end;
/* The WAL file this thread has gathered writes for (one connection
 * writes at a time in a thread). */
static __thread struct shim_file *pending;

/* Hand what was gathered to the real file; pad: with zeros to the end of
 * its last file block (a commit's flush only, below). */
static int write_out(struct shim_file *f, bool pad)
{
	int extra = 0, rc;
	if (f->len == 0)
		return SQLITE_OK;
	if (pad) {
		extra = (int)((WAL_BLOCK - ((f->buf_off + f->len) &
					    (WAL_BLOCK - 1))) &
			      (WAL_BLOCK - 1));
		if (f->len + extra <= f->cap)
			memset(f->buf + f->len, 0, (size_t)extra);
		else
			extra = 0;
	}
	rc = f->real->pMethods->xWrite(f->real, f->buf, f->len + extra,
				       f->buf_off);
	if (rc == SQLITE_OK)
		wal_end = f->buf_off + f->len;
	f->len = 0;
	if (pending == f)
		pending = NULL;
	return rc;
}

static int flush(struct shim_file *f)
{
	return write_out(f, false);
}

/* A commit's frames end where the WAL's valid frames end (SQLite appends
 * the commit frame, never rewrites it in place); past that lies what a
 * frame of an earlier cycle left, which no reader reads and recovery
 * stops before.  A partial block write needs the rest of the block: the
 * kernel reads it from disk when the page cache no longer holds it whole,
 * and under load the WAL's pages, written and never read, do leave it
 * (perf: a 4 KB disk read every ~80 ms, in the writers' lock).  Padded,
 * a commit writes whole blocks after the one it shares with the commit
 * before, which that commit just wrote whole. */
static int flush_commit(struct shim_file *f)
{
	return write_out(f, true);
}

static int flush_pending(void)
{
	return pending ? flush(pending) : SQLITE_OK;
}

/* Bytes 4-7 of a frame header: the database size after a commit, zero
 * for the other frames of a transaction. */
static bool is_commit_header(const unsigned char *h)
{
	return (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int gather(struct shim_file *f, const void *p, int n, sqlite3_int64 off)
{
	int rc;
	if (f->len > 0 && off != f->buf_off + f->len && (rc = flush(f)))
		return rc;
	if (f->len + n > GATHER_MAX) {
		if ((rc = flush(f)))
			return rc;
		return f->real->pMethods->xWrite(f->real, p, n, off);
	}
	if (f->len + n + WAL_BLOCK > f->cap) {
		int cap = f->cap ? f->cap : 32 * 1024;
		while (cap < f->len + n + WAL_BLOCK)
			cap *= 2;
		unsigned char *b = sqlite3_realloc(f->buf, cap);
		if (!b) {
			if ((rc = flush(f)))
				return rc;
			return f->real->pMethods->xWrite(f->real, p, n, off);
		}
		f->buf = b;
		f->cap = cap;
	}
	if (f->len == 0)
		f->buf_off = off;
	memcpy(f->buf + f->len, p, (size_t)n);
	f->len += n;
	pending = f;
	return SQLITE_OK;
}

/* The methods that may look at the file: what was gathered goes first. */
#define FLUSHED(f)                                   \
	do {                                         \
		int frc_ = flush(f);                 \
		if (frc_ != SQLITE_OK)               \
			return frc_;                 \
	} while (0)

static int shim_write(sqlite3_file *pf, const void *p, int n, sqlite3_int64 off)
{
	struct shim_file *f = (struct shim_file *)pf;
	bool over_read = off == f->read_off;
	int rc;

	f->read_off = -1;
	if (!f->wal)
		return f->real->pMethods->xWrite(f->real, p, n, off);
	if (over_read) {
		/* Mending checksums: a frame read whole, its header written
		 * again, and no page follows. */
		FLUSHED(f);
		return f->real->pMethods->xWrite(f->real, p, n, off);
	}
	if (n == FRAME_HEADER) {
		f->commit_seen = is_commit_header(p);
		return gather(f, p, n, off);
	}
	if ((rc = gather(f, p, n, off)))
		return rc;
	if (f->commit_seen) { /* the commit frame's page: out with it all */
		f->commit_seen = false;
		return flush_commit(f);
	}
	return SQLITE_OK;
}

static int shim_close(sqlite3_file *pf)
{
	struct shim_file *f = (struct shim_file *)pf;
	int rc = flush(f);
	int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real)
				    : SQLITE_OK;
	sqlite3_free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int shim_read(sqlite3_file *pf, void *p, int n, sqlite3_int64 off)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	f->read_off = off;
	return f->real->pMethods->xRead(f->real, p, n, off);
}

static int shim_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xTruncate(f->real, size);
}

static int shim_sync(sqlite3_file *pf, int flags)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xSync(f->real, flags);
}

static int shim_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xFileSize(f->real, size);
}

static int shim_lock(sqlite3_file *pf, int lock)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xLock(f->real, lock);
}

static int shim_unlock(sqlite3_file *pf, int lock)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xUnlock(f->real, lock);
}

static int shim_check_reserved(sqlite3_file *pf, int *out)
{
	struct shim_file *f = (struct shim_file *)pf;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int shim_file_control(sqlite3_file *pf, int op, void *arg)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int shim_sector_size(sqlite3_file *pf)
{
	struct shim_file *f = (struct shim_file *)pf;
	return f->real->pMethods->xSectorSize(f->real);
}

static int shim_device_characteristics(sqlite3_file *pf)
{
	struct shim_file *f = (struct shim_file *)pf;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

/* The shared-memory index lives on the database file's object, and its
 * header publishes a commit: the net above. */
static int shim_shm_map(sqlite3_file *pf, int pg, int sz, int extend,
			void volatile **pp)
{
	struct shim_file *f = (struct shim_file *)pf;
	int rc = flush_pending();
	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xShmMap(f->real, pg, sz, extend, pp);
}

static int shim_shm_lock(sqlite3_file *pf, int off, int n, int flags)
{
	struct shim_file *f = (struct shim_file *)pf;
	int rc = flush_pending();
	if (rc != SQLITE_OK)
		return rc;
	return f->real->pMethods->xShmLock(f->real, off, n, flags);
}

static void shim_shm_barrier(sqlite3_file *pf)
{
	struct shim_file *f = (struct shim_file *)pf;
	flush_pending(); /* the net: nothing to report an error to */
	f->real->pMethods->xShmBarrier(f->real);
}

static int shim_shm_unmap(sqlite3_file *pf, int del)
{
	struct shim_file *f = (struct shim_file *)pf;
	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int shim_fetch(sqlite3_file *pf, sqlite3_int64 off, int n, void **pp)
{
	struct shim_file *f = (struct shim_file *)pf;
	FLUSHED(f);
	return f->real->pMethods->xFetch(f->real, off, n, pp);
}

static int shim_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
	struct shim_file *f = (struct shim_file *)pf;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods shim_methods = {
	3,
	shim_close,
	shim_read,
	shim_write,
	shim_truncate,
	shim_sync,
	shim_file_size,
	shim_lock,
	shim_unlock,
	shim_check_reserved,
	shim_file_control,
	shim_sector_size,
	shim_device_characteristics,
	shim_shm_map,
	shim_shm_lock,
	shim_shm_barrier,
	shim_shm_unmap,
	shim_fetch,
	shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf,
		     int flags, int *out_flags)
{
	struct shim_file *f = (struct shim_file *)pf;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->read_off = -1;
	f->real = (sqlite3_file *)(f + 1);
	f->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	/* A file the real VFS could not open has no methods: SQLite then
	 * calls no method of ours either, xClose included. */
	if (f->real->pMethods)
		f->base.pMethods = &shim_methods;
	return rc;
}

static int shim_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int shim_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int shim_full_pathname(sqlite3_vfs *v, const char *name, int n,
			      char *out)
{
	(void)v;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *shim_dl_open(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void shim_dl_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*shim_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void shim_dl_close(sqlite3_vfs *v, void *h)
{
	(void)v;
	real_vfs->xDlClose(real_vfs, h);
}

static int shim_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int shim_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return real_vfs->xSleep(real_vfs, us);
}

static int shim_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int shim_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int shim_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs shim_vfs = {
	.iVersion = 2,
	.zName = VFS_NAME,
	.xOpen = shim_open,
	.xDelete = shim_delete,
	.xAccess = shim_access,
	.xFullPathname = shim_full_pathname,
	.xDlOpen = shim_dl_open,
	.xDlError = shim_dl_error,
	.xDlSym = shim_dl_sym,
	.xDlClose = shim_dl_close,
	.xRandomness = shim_randomness,
	.xSleep = shim_sleep,
	.xCurrentTime = shim_current_time,
	.xGetLastError = shim_last_error,
	.xCurrentTimeInt64 = shim_current_time64,
};

sqlite3_int64 store_sqlite_vfs_wal_end(void)
{
	return wal_end;
}

const char *store_sqlite_vfs(void)
{
	/* Registered by the first open, before any thread of ours runs. */
	if (!real_vfs) {
		/* Before the library initialises: no memory statistics, so
		 * SQLite's every allocation takes no process-wide mutex (the
		 * checkpoint thread and the requests contended on it). */
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		sqlite3_vfs *v = sqlite3_vfs_find(NULL);
		if (!v || v->iVersion < 2)
			return NULL; /* SQLite's default, unshimmed */
		shim_vfs.szOsFile = (int)sizeof(struct shim_file) + v->szOsFile;
		shim_vfs.mxPathname = v->mxPathname;
		real_vfs = v;
		if (sqlite3_vfs_register(&shim_vfs, 0) != SQLITE_OK) {
			real_vfs = NULL;
			return NULL;
		}
	}
	return VFS_NAME;
}
