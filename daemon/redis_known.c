/*
 * redis_known.c - set of window keys written on this connection (see redis_known.h).
 */
#include "redis_known.h"

#include <stdlib.h>
#include <string.h>

struct redis_known {
	uint64_t *slots;      /* 0: empty; a key hash is never 0 */
	size_t mask;
	size_t n;
	int64_t cleared_ms;
	uint64_t *pending;
	size_t n_pending, pending_cap;
};

/* FNV-1a, then a final mix so that the low bits index well; never 0. */
static uint64_t redis_known_hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 0x100000001b3u;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdu;
	h ^= h >> 33;
	return h ? h : 1;
}

redis_known *redis_known_new(size_t slots)
{
	redis_known *k = calloc(1, sizeof(*k));
	size_t cap = 16;

	while (cap < slots)
		cap *= 2;
	if (!k || !(k->slots = calloc(cap, sizeof(*k->slots)))) {
		free(k);
		return NULL;
	}
	k->mask = cap - 1;
	return k;
}

void redis_known_free(redis_known *k)
{
	if (!k)
		return;
	free(k->slots);
	free(k->pending);
	free(k);
}

bool redis_known_has(const redis_known *k, const char *key, size_t len)
{
	uint64_t h = redis_known_hash(key, len);

	for (size_t i = h & k->mask; k->slots[i]; i = (i + 1) & k->mask)
		if (k->slots[i] == h)
			return true;
	return false;
}

int redis_known_note(redis_known *k, const char *key, size_t len)
{
	if (k->n_pending == k->pending_cap) {
		size_t cap = k->pending_cap ? 2 * k->pending_cap : 256;
		uint64_t *p = realloc(k->pending, cap * sizeof(*p));
		if (!p)
			return -1;
		k->pending = p;
		k->pending_cap = cap;
	}
	k->pending[k->n_pending++] = redis_known_hash(key, len);
	return 0;
}

static void redis_known_insert(redis_known *k, uint64_t h)
{
	size_t i = h & k->mask;

	for (; k->slots[i]; i = (i + 1) & k->mask)
		if (k->slots[i] == h)
			return;
	k->slots[i] = h;
	k->n++;
}

void redis_known_commit(redis_known *k)
{
	for (size_t i = 0; i < k->n_pending; i++) {
		if (k->n >= (k->mask + 1) / 2)
			redis_known_clear(k, k->cleared_ms);
		redis_known_insert(k, k->pending[i]);
	}
	k->n_pending = 0;
}

void redis_known_discard(redis_known *k)
{
	k->n_pending = 0;
}

void redis_known_clear(redis_known *k, int64_t now_ms)
{
	memset(k->slots, 0, (k->mask + 1) * sizeof(*k->slots));
	k->n = 0;
	k->cleared_ms = now_ms;
}

void redis_known_expire(redis_known *k, int64_t now_ms)
{
	if (now_ms - k->cleared_ms >= REDIS_KNOWN_FORGET_MS)
		redis_known_clear(k, now_ms);
}
