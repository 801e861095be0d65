/* log: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static log_sink_fn log_sink;
static void *log_ctx;

void log_set_sink(log_sink_fn sink, void *ctx)
{
	log_sink = sink;
	log_ctx = ctx;
}

static void log_v(const char *level, const char *fmt, va_list ap)
{
	char msg[1024], line[1200];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "flowcgi[%d] %s: %s\n", (int)getpid(),
		 level, msg);
	if (log_sink)
		log_sink(log_ctx, line);
	else
		fputs(line, stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("error", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	if (getenv("FLOWCGI_QUIET"))
		return;
	va_start(ap, fmt);
	log_v("info", fmt, ap);
	va_end(ap);
}

/* The request log: FLOWCGI_LOG, opened once for appending, else fd 2.
 * Each line goes out in one write() on an O_APPEND descriptor, so lines
 * from several processes never interleave. */
static int request_fd = -2;

void log_request(const char *line, size_t n)
{
	char stack[4096], *buf = n + 1 <= sizeof(stack) ? stack : malloc(n + 1);
	if (request_fd == -2) {
		const char *path = getenv("FLOWCGI_LOG");
		request_fd = path && *path
				     ? open(path, O_WRONLY | O_APPEND | O_CREAT |
							  O_CLOEXEC,
					    0640)
				     : 2;
		if (request_fd < 0)
			fprintf(stderr, "flowcgi[%d] error: cannot open FLOWCGI_LOG "
					"%s: %s\n",
				(int)getpid(), path, strerror(errno));
	}
	if (request_fd < 0 || !buf)
		goto out;
	memcpy(buf, line, n);
	buf[n] = '\n';
	if (write(request_fd, buf, n + 1) < 0) {
		/* A full disk or a closed stderr loses the line, not the answer. */
	}
out:
	if (buf != stack)
		free(buf);
}
