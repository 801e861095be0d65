/* memo: see memo.h. */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MEMO_SLOTS 128

struct entry {
	unsigned hash;
	char *key;
	json_object *value;
	int64_t expires;
};

struct memo {
	struct entry e[MEMO_SLOTS];
	int next;
};

static unsigned hash_key(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

struct memo *memo_new(void)
{
	struct memo *m = util_xcalloc(1, sizeof(*m));
	return m;
}

void memo_clear(struct memo *m)
{
	if (!m)
		return;
	for (int i = 0; i < MEMO_SLOTS; i++) {
		free(m->e[i].key);
		json_object_put(m->e[i].value);
	}
	memset(m, 0, sizeof(*m));
}

void memo_free(struct memo *m)
{
	memo_clear(m);
	free(m);
}

json_object *memo_get(struct memo *m, const char *key, int64_t now_ms)
{
	unsigned h = hash_key(key);
	for (int i = 0; m && i < MEMO_SLOTS; i++) {
		struct entry *e = &m->e[i];
		if (e->key && e->hash == h && !strcmp(e->key, key))
			return e->expires && now_ms >= e->expires ? NULL : e->value;
	}
	return NULL;
}

void memo_put(struct memo *m, const char *key, json_object *value,
	      int64_t expires_ms)
{
	unsigned h = hash_key(key);
	struct entry *e = NULL;
	for (int i = 0; i < MEMO_SLOTS && !e; i++)
		if (m->e[i].key && m->e[i].hash == h && !strcmp(m->e[i].key, key))
			e = &m->e[i];
	if (!e) {
		e = &m->e[m->next];
		m->next = (m->next + 1) % MEMO_SLOTS;
	}
	free(e->key);
	json_object_put(e->value);
	e->key = util_xstrdup(key);
	e->hash = h;
	e->value = value;
	e->expires = expires_ms;
}
