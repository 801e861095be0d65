/* metrics: see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define MX_MAGIC 0x31764d58776f6c66ULL /* "flowXMv1" */
#define MX_SERIES 2048                 /* label sets, all kinds together */
#define MX_PROCS 256                   /* live long-lived processes */
#define MX_NAME 96                     /* a route or a workflow key */
#define MX_NBOUNDS 14

/* Request duration buckets, in seconds: Prometheus' defaults with three
 * below 5 ms, where most answers fall. */
static const double bounds[MX_NBOUNDS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
					  0.025,  0.05,  0.1,    0.25,  0.5,
					  1,      2.5,   5,      10};

enum { MX_FREE, MX_CLAIMING, MX_READY };
enum { MX_REQUESTS = 1, MX_DURATION, MX_EXECUTIONS };

/* One label set of one metric.  Claimed once (FREE -> CLAIMING, the key
 * written, -> READY), never moved or freed, so a process may keep a
 * pointer to it; after that only the counters change, by atomic adds. */
struct mx_series {
	_Atomic uint32_t state;
	uint16_t kind;
	int16_t code;             /* HTTP status, execution status */
	char name[MX_NAME];       /* route or workflow key */
	_Atomic uint64_t count;   /* MX_REQUESTS, MX_EXECUTIONS */
	_Atomic uint64_t sum_us;  /* MX_DURATION: total microseconds */
	/* MX_DURATION: answers per bucket (not cumulative); the last one
	 * holds those above the largest bound. */
	_Atomic uint64_t bucket[MX_NBOUNDS + 1];
};

struct mx_proc {
	_Atomic int32_t pid;      /* 0: free */
	int32_t unused;
	_Atomic uint64_t start;   /* its start in clock ticks after boot,
				   * to tell a recycled pid */
};

struct mx_file {
	uint64_t magic;
	uint32_t nseries, nprocs;
	_Atomic uint64_t dropped; /* adds lost because every slot was taken */
	uint64_t reserved[5];
	struct mx_proc procs[MX_PROCS];
	struct mx_series series[MX_SERIES];
};

_Static_assert(sizeof(_Atomic uint64_t) == 8, "64-bit atomics");

static struct mx_file *mx;
static char mx_file_path[PATH_MAX];
static int mx_proc_slot = -1;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* $FLOWCGI_RUN_DIR, else /tmp/flowcgi-<uid>, which must be ours alone. */
static int run_dir(char *out, size_t n)
{
	const char *d = getenv("FLOWCGI_RUN_DIR");
	struct stat sb;

	if (d && *d) {
		snprintf(out, n, "%s", d);
		return mkdir(out, 0700) && errno != EEXIST ? -1 : 0;
	}
	snprintf(out, n, "/tmp/flowcgi-%u", (unsigned)geteuid());
	if (mkdir(out, 0700) && errno != EEXIST)
		return -1;
	if (lstat(out, &sb))
		return -1;
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 077)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Size the file and stamp it, under an exclusive lock, once. */
static int map_file(int fd)
{
	struct stat sb;
	void *p;
	int rc = -1;

	if (flock(fd, LOCK_EX))
		return -1;
	if (fstat(fd, &sb))
		goto out;
	if (sb.st_size == 0 && ftruncate(fd, (off_t)sizeof(struct mx_file)))
		goto out;
	if (sb.st_size != 0 && sb.st_size != (off_t)sizeof(struct mx_file)) {
		errno = EINVAL; /* not ours, or another layout */
		goto out;
	}
	p = mmap(NULL, sizeof(struct mx_file), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	mx = p;
	if (mx->magic == 0) {
		mx->nseries = MX_SERIES;
		mx->nprocs = MX_PROCS;
		mx->magic = MX_MAGIC;
	}
	rc = 0;
	if (mx->magic != MX_MAGIC || mx->nseries != MX_SERIES ||
	    mx->nprocs != MX_PROCS) {
		munmap(p, sizeof(struct mx_file));
		mx = NULL;
		errno = EINVAL;
		rc = -1;
	}
out:
	flock(fd, LOCK_UN);
	return rc;
}

int metrics_open(const char *db)
{
	char dir[PATH_MAX - 64], real[PATH_MAX];
	const char *key = db && realpath(db, real) ? real : db ? db : "";
	int fd;

	if (mx)
		return 0;
	if (run_dir(dir, sizeof(dir))) {
		log_error("metrics are off: run directory %s: %s", dir,
			  strerror(errno));
		return -1;
	}
	snprintf(mx_file_path, sizeof(mx_file_path), "%s/metrics-v1-%016llx",
		 dir, (unsigned long long)fnv(0xcbf29ce484222325ULL, key,
					      strlen(key)));
	fd = open(mx_file_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || map_file(fd)) {
		log_error("metrics are off: %s: %s", mx_file_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		mx_file_path[0] = 0;
		return -1;
	}
	close(fd); /* the mapping stays */
	return 0;
}

void metrics_close(void)
{
	if (!mx)
		return;
	if (mx_proc_slot >= 0)
		atomic_store(&mx->procs[mx_proc_slot].pid, 0);
	munmap(mx, sizeof(*mx));
	mx = NULL;
	mx_proc_slot = -1;
	mx_file_path[0] = 0;
}

const char *metrics_path(void)
{
	return mx ? mx_file_path : NULL;
}

/* The series of (kind, code, name), claimed when new; NULL when the
 * table is full (counted as dropped). */
static struct mx_series *series(int kind, int code, const char *name)
{
	size_t n = strnlen(name, MX_NAME - 1);
	uint64_t h = fnv(0xcbf29ce484222325ULL, name, n);
	h = fnv(h, &kind, sizeof(kind));
	h = fnv(h, &code, sizeof(code));

	for (size_t probe = 0; probe < MX_SERIES; probe++) {
		struct mx_series *s = &mx->series[(h + probe) % MX_SERIES];
		uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == MX_FREE) {
			uint32_t want = MX_FREE;
			if (atomic_compare_exchange_strong(&s->state, &want,
							   MX_CLAIMING)) {
				s->kind = (uint16_t)kind;
				s->code = (int16_t)code;
				memcpy(s->name, name, n);
				s->name[n] = 0;
				atomic_store_explicit(&s->state, MX_READY,
						      memory_order_release);
				return s;
			}
			st = want;
		}
		/* Another process is writing this slot's key: a few stores.
		 * (One killed right there leaves it CLAIMING: skip it.) */
		for (int spin = 0; st == MX_CLAIMING && spin < 1000; spin++) {
			sched_yield();
			st = atomic_load_explicit(&s->state, memory_order_acquire);
		}
		if (st == MX_READY && s->kind == kind && s->code == code &&
		    !strncmp(s->name, name, n) && s->name[n] == 0)
			return s;
	}
	atomic_fetch_add(&mx->dropped, 1);
	return NULL;
}

void metrics_request(const char *route, int status, double seconds)
{
	struct mx_series *s;
	uint64_t us = seconds > 0 ? (uint64_t)(seconds * 1e6 + 0.5) : 0;
	int b = 0;

	if (!mx)
		return;
	route = route ? route : "-";
	if ((s = series(MX_REQUESTS, status, route)))
		atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	if (!(s = series(MX_DURATION, 0, route)))
		return;
	while (b < MX_NBOUNDS && seconds > bounds[b])
		b++;
	atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
}

void metrics_execution(const char *key, int status)
{
	struct mx_series *s;
	if (mx && (s = series(MX_EXECUTIONS, status, key ? key : "")))
		atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

/* ---- processes ---- */

/* Start time (clock ticks after boot) and resident pages of pid, from
 * /proc/<pid>/stat; -1 when it is gone (or a zombie not yet reaped). */
static int proc_stat(int pid, uint64_t *start, uint64_t *rss_pages)
{
	char path[64], buf[1024];
	unsigned long long st = 0;
	long long rss = 0;
	char state = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* After the command name (which may hold spaces and ')'): field 3
	 * on; starttime is field 22, rss field 24. */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2,
			 "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
			 "%*d %*d %*d %*d %*d %*d %llu %*u %lld",
			 &state, &st, &rss) != 3 ||
	    state == 'Z' || state == 'X')
		return -1;
	*start = st;
	if (rss_pages)
		*rss_pages = rss > 0 ? (uint64_t)rss : 0;
	return 0;
}

/* Whether slot i still names a live process; frees it when not. */
static bool proc_live(int i, int pid, uint64_t *rss_pages)
{
	uint64_t start = 0, want = atomic_load(&mx->procs[i].start);
	if (proc_stat(pid, &start, rss_pages) == 0 && (!want || want == start))
		return true;
	int32_t expected = pid;
	atomic_compare_exchange_strong(&mx->procs[i].pid, &expected, 0);
	return false;
}

void metrics_register_process(void)
{
	int32_t me = (int32_t)getpid();
	uint64_t start = 0;

	if (!mx || mx_proc_slot >= 0)
		return;
	proc_stat(me, &start, NULL);
	for (int i = 0; i < MX_PROCS; i++) {
		int32_t pid = atomic_load(&mx->procs[i].pid);
		if (pid && pid != me)
			proc_live(i, pid, NULL);
	}
	for (int i = 0; i < MX_PROCS; i++) {
		int32_t want = 0;
		if (atomic_compare_exchange_strong(&mx->procs[i].pid, &want, me)) {
			atomic_store(&mx->procs[i].start, start);
			mx_proc_slot = i;
			return;
		}
	}
}

/* ---- the text format ---- */

static void label(struct buf *out, const char *name, const char *v)
{
	buf_printf(out, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(out, '\\');
		if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *v);
	}
	buf_putc(out, '"');
}

static void number(struct buf *out, double v)
{
	if (v == (double)(long long)v && v < 9e15 && v > -9e15)
		buf_printf(out, "%lld", (long long)v);
	else
		buf_printf(out, "%.9g", v);
}

void metrics_gauge(struct buf *out, const char *name, const char *help,
		   double value)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s ", name, help, name,
		   name);
	number(out, value);
	buf_putc(out, '\n');
}

static const char *status_name(int st)
{
	static const char *const names[] = {
		"retry_needed", "rejected", "canceled", "aborted",
		"error",        "failed",   "started",  "resolved"};
	return st >= -6 && st <= 1 ? names[st + 6] : NULL;
}

static int by_name(const void *a, const void *b)
{
	const struct mx_series *x = *(struct mx_series *const *)a;
	const struct mx_series *y = *(struct mx_series *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : x->code - y->code;
}

/* The ready series of one kind, sorted by name and code; *n their count. */
static struct mx_series **collect(int kind, size_t *n)
{
	struct mx_series **v = malloc(sizeof(*v) * MX_SERIES);
	*n = 0;
	if (!v)
		abort();
	for (size_t i = 0; i < MX_SERIES; i++) {
		struct mx_series *s = &mx->series[i];
		if (atomic_load_explicit(&s->state, memory_order_acquire) ==
			    MX_READY &&
		    s->kind == kind)
			v[(*n)++] = s;
	}
	qsort(v, *n, sizeof(*v), by_name);
	return v;
}

static void render_requests(struct buf *out)
{
	size_t n;
	struct mx_series **v = collect(MX_REQUESTS, &n);
	buf_puts(out, "# HELP flowcgi_http_requests_total HTTP requests "
		      "answered, by route and status.\n"
		      "# TYPE flowcgi_http_requests_total counter\n");
	for (size_t i = 0; i < n; i++) {
		buf_puts(out, "flowcgi_http_requests_total{");
		label(out, "route", v[i]->name);
		buf_printf(out, ",status=\"%d\"} %llu\n", v[i]->code,
			   (unsigned long long)atomic_load(&v[i]->count));
	}
	free(v);
}

static void render_durations(struct buf *out)
{
	size_t n;
	struct mx_series **v = collect(MX_DURATION, &n);
	buf_puts(out, "# HELP flowcgi_http_request_duration_seconds Time from "
		      "reading a request to its log line, by route.\n"
		      "# TYPE flowcgi_http_request_duration_seconds "
		      "histogram\n");
	for (size_t i = 0; i < n; i++) {
		struct mx_series *s = v[i];
		uint64_t cum = 0;
		for (int b = 0; b <= MX_NBOUNDS; b++) {
			cum += atomic_load(&s->bucket[b]);
			buf_puts(out, "flowcgi_http_request_duration_seconds_bucket{");
			label(out, "route", s->name);
			buf_puts(out, ",le=\"");
			if (b < MX_NBOUNDS)
				number(out, bounds[b]);
			else
				buf_puts(out, "+Inf");
			buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
		}
		buf_puts(out, "flowcgi_http_request_duration_seconds_sum{");
		label(out, "route", s->name);
		buf_printf(out, "} %.6f\n",
			   (double)atomic_load(&s->sum_us) / 1e6);
		buf_puts(out, "flowcgi_http_request_duration_seconds_count{");
		label(out, "route", s->name);
		buf_printf(out, "} %llu\n", (unsigned long long)cum);
	}
	free(v);
}

static void render_executions(struct buf *out)
{
	size_t n;
	struct mx_series **v = collect(MX_EXECUTIONS, &n);
	buf_puts(out, "# HELP flowcgi_workflow_executions_total Workflow "
		      "executions that ended, by workflow key and status.\n"
		      "# TYPE flowcgi_workflow_executions_total counter\n");
	for (size_t i = 0; i < n; i++) {
		const char *st = status_name(v[i]->code);
		char num[16];
		snprintf(num, sizeof(num), "%d", v[i]->code);
		buf_puts(out, "flowcgi_workflow_executions_total{");
		label(out, "workflow", v[i]->name);
		buf_putc(out, ',');
		label(out, "status", st ? st : num);
		buf_printf(out, "} %llu\n",
			   (unsigned long long)atomic_load(&v[i]->count));
	}
	free(v);
}

static void render_processes(struct buf *out)
{
	long page = sysconf(_SC_PAGESIZE);
	int live = 0;
	buf_puts(out, "# HELP flowcgi_process_resident_memory_bytes Resident "
		      "memory of each live FastCGI process of this server.\n"
		      "# TYPE flowcgi_process_resident_memory_bytes gauge\n");
	for (int i = 0; i < MX_PROCS; i++) {
		int32_t pid = atomic_load(&mx->procs[i].pid);
		uint64_t pages = 0;
		if (!pid || !proc_live(i, pid, &pages))
			continue;
		live++;
		buf_printf(out,
			   "flowcgi_process_resident_memory_bytes{pid=\"%d\"} "
			   "%llu\n",
			   (int)pid,
			   (unsigned long long)pages *
				   (unsigned long long)(page > 0 ? page : 4096));
	}
	metrics_gauge(out, "flowcgi_processes",
		      "Live FastCGI processes of this server.", live);
}

void metrics_render(struct buf *out)
{
	if (!mx) {
		metrics_gauge(out, "flowcgi_metrics_shared",
			      "1 when the figures are shared by every process "
			      "(0: the shared file could not be opened).",
			      0);
		return;
	}
	render_requests(out);
	render_durations(out);
	render_executions(out);
	render_processes(out);
	buf_puts(out, "# HELP flowcgi_metrics_dropped_total Counts lost "
		      "because every shared slot was taken.\n"
		      "# TYPE flowcgi_metrics_dropped_total counter\n");
	buf_printf(out, "flowcgi_metrics_dropped_total %llu\n",
		   (unsigned long long)atomic_load(&mx->dropped));
	metrics_gauge(out, "flowcgi_metrics_shared",
		      "1 when the figures are shared by every process "
		      "(0: the shared file could not be opened).",
		      1);
}
