/*
 * arena: a per-request bump allocator.
 *
 * Everything that lives exactly as long as one request (copies of FastCGI
 * params, decoded query pairs, formatted messages, SQL text) is carved from
 * the request's arena and released at once by arena_reset() after
 * FCGX_Finish_r.  Blocks are kept between requests, so a warm process does
 * no malloc for small request state.  Large allocations get their own block,
 * freed on reset.  Out of memory aborts: mod_fcgid restarts the process.
 */
#ifndef FLOWCGI_ARENA_H
#define FLOWCGI_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Release everything allocated since the last reset; keep one block. */
void arena_reset(struct arena *a);

void *arena_alloc(struct arena *a, size_t n);          /* zeroed */
char *arena_strdup(struct arena *a, const char *s);    /* NULL stays NULL */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
/* Bytes currently held (blocks), for the memory check. */
size_t arena_held(const struct arena *a);

#endif
