/*
 * buf: a growable byte buffer (Fossil's Blob, git's strbuf).
 * Always NUL-terminated; b->len excludes the terminator.  A zeroed struct
 * is an empty buffer.  buf_free() releases the memory; buf_reset() keeps it.
 */
#ifndef FLOWCGI_BUF_H
#define FLOWCGI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* The contents as a C string ("" when empty). */
const char *buf_str(const struct buf *b);

#endif
