/*
 * log: one line per event on stderr, or on the FastCGI error stream while a
 * request is being served (raw fd 2 is lost under lighttpd and spawn-fcgi).
 * Server faults are logged; client mistakes are not (aesthetics §3.4).
 * Never log a password, a token or a secret.
 */
#ifndef FLOWCGI_LOG_H
#define FLOWCGI_LOG_H

#include <stddef.h>

typedef void (*log_sink_fn)(void *ctx, const char *line);

/* Route log lines to sink (NULL: stderr). */
void log_set_sink(log_sink_fn sink, void *ctx);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Append one request log line (n bytes, no newline) to FLOWCGI_LOG, or to
 * stderr when it is unset. */
void log_request(const char *line, size_t n);

#endif
