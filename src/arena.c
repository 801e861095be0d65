/* arena: see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ARENA_BLOCK 16384
#define ARENA_ALIGN 16

struct block {
	struct block *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct block *head;   /* current small-object block */
	struct block *spare;  /* the first block, kept across resets */
	struct block *large;  /* one block per large allocation */
};

static struct block *block_new(size_t size)
{
	struct block *b = util_xmalloc(sizeof(*b) + size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct arena *arena_new(void)
{
	struct arena *a = util_xmalloc(sizeof(*a));
	a->spare = a->head = block_new(ARENA_BLOCK);
	a->large = NULL;
	return a;
}

static void blocks_free(struct block *b, struct block *keep)
{
	while (b) {
		struct block *next = b->next;
		if (b != keep)
			free(b);
		b = next;
	}
}

void arena_reset(struct arena *a)
{
	blocks_free(a->head, a->spare);
	blocks_free(a->large, NULL);
	a->large = NULL;
	a->head = a->spare;
	a->head->next = NULL;
	a->head->used = 0;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	free(a->spare);
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	struct block *b;

	if (need == 0)
		need = ARENA_ALIGN;
	if (need > ARENA_BLOCK / 4) {
		b = block_new(need);
		b->next = a->large;
		a->large = b;
		memset(b->data, 0, need);
		return b->data;
	}
	b = a->head;
	if (b->size - b->used < need) {
		b = block_new(ARENA_BLOCK);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	memset(p, 0, need);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

size_t arena_held(const struct arena *a)
{
	size_t n = 0;
	for (const struct block *b = a->head; b; b = b->next)
		n += b->size;
	for (const struct block *b = a->large; b; b = b->next)
		n += b->size;
	return n;
}
