/* log: see log.h. */
#include "log.h"

#include <stdarg.h>
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
