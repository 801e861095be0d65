/*
 * memo: a small per-process cache of JSON values by string key, for what a
 * process derives from the database and may reuse while the database's
 * security counter stands (resolved tokens, permission decisions).  The
 * owner clears it when the counter moves.  Fixed size, replaced in turn.
 */
#ifndef FLOWCGI_MEMO_H
#define FLOWCGI_MEMO_H

#include <json-c/json.h>
#include <stdint.h>

struct memo;

struct memo *memo_new(void);
void memo_free(struct memo *m);
void memo_clear(struct memo *m);
/* The value stored under key, borrowed; NULL when absent or past its
 * expiry (ms since the epoch, 0: none). */
json_object *memo_get(struct memo *m, const char *key, int64_t now_ms);
/* Store value (takes the reference) until expires_ms (0: no expiry). */
void memo_put(struct memo *m, const char *key, json_object *value,
	      int64_t expires_ms);

#endif
