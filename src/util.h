/*
 * util: small string, number and time helpers with no project includes.
 */
#ifndef FLOWCGI_UTIL_H
#define FLOWCGI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exactly a base-10 integer (optional leading '-'), no spaces, no
 * overflow.  Returns 0 on success, -1 otherwise. */
int util_parse_int64(const char *s, int64_t *out);
int util_parse_int64n(const char *s, size_t n, int64_t *out);

/* Milliseconds since the epoch, wall clock. */
int64_t util_now_ms(void);
/* Monotonic milliseconds, for timeouts. */
int64_t util_mono_ms(void);
/* Monotonic microseconds, for durations. */
int64_t util_mono_us(void);
/* "2026-11-26T17:13:48.006Z" into out (at least 25 bytes). */
void util_iso_from_ms(int64_t ms, char *out);
/* Whether a number of milliseconds is a time util_iso_from_ms writes and
 * util_ms_from_iso reads back (years 0000 to 9999): a number given for a
 * date must be, or it is no date (1e300, -9223372036854775808). */
bool util_ms_is_iso(double ms);
/* Parse an ISO-8601 date or date-time (with Z or ±hh:mm, optional
 * fraction); a plain date is midnight UTC.  Returns 0 or -1. */
int util_ms_from_iso(const char *s, int64_t *ms);

/* Decode %XX and (when plus) '+' in place; returns the new length or -1 on
 * a malformed escape. */
long util_url_decode(char *s, size_t n, bool plus);

/* A schema identifier: [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes. */
bool util_is_ident(const char *s);
/* Valid UTF-8 without NUL bytes. */
bool util_utf8_valid(const char *s, size_t n);

/* Fill buf with n random bytes from the kernel; aborts on failure. */
void util_random(void *buf, size_t n);
/* An 11-character key over [0-9a-z] (NocoBase's uid()), out >= 12 bytes. */
void util_uid(char *out);
/* A random UUID v4, out >= 37 bytes. */
void util_uuid(char *out);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void util_hex(const unsigned char *p, size_t n, char *out);
/* The bytes of n hex digits (either case) into out (n / 2 bytes); -1 when
 * n is odd or a digit is not hex. */
int util_unhex(const char *s, size_t n, unsigned char *out);

/* The one out-of-memory path: "flowcgi: out of memory" on stderr, then
 * abort().  A process that cannot allocate cannot answer anyway, and the
 * database stays whole (WAL).  The x-functions below never return NULL
 * (util_xstrdup(NULL) is NULL). */
_Noreturn void util_oom(void);
void *util_xmalloc(size_t n);
void *util_xcalloc(size_t n, size_t size);
void *util_xrealloc(void *p, size_t n);
char *util_xstrdup(const char *s);
char *util_xstrndup(const char *s, size_t n);

/* Case-sensitive string equality tolerant of NULL. */
bool util_streq(const char *a, const char *b);

#endif
