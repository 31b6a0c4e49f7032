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
	/* Notes of the batches sent, oldest first, then of the one being built. */
	uint64_t *pending;
	size_t n_pending, pending_cap;
	size_t sent_end[REDIS_KNOWN_MAX_SENT]; /* end of each sent batch's notes */
	size_t n_sent;
	/* The notes of the batches sent, as a set, used while a batch is built after_sent. */
	uint64_t *sent_slots;
	size_t sent_mask, sent_cap;
	bool use_sent;
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
	free(k->sent_slots);
	free(k);
}

/* True when h is in the open-addressing table slots (mask + 1 entries). */
static bool redis_known_find(const uint64_t *slots, size_t mask, uint64_t h)
{
	for (size_t i = h & mask; slots[i]; i = (i + 1) & mask)
		if (slots[i] == h)
			return true;
	return false;
}

/* Adds h to the table unless present; returns 1 when added. */
static int redis_known_put(uint64_t *slots, size_t mask, uint64_t h)
{
	size_t i = h & mask;

	for (; slots[i]; i = (i + 1) & mask)
		if (slots[i] == h)
			return 0;
	slots[i] = h;
	return 1;
}

bool redis_known_has(const redis_known *k, const char *key, size_t len)
{
	uint64_t h = redis_known_hash(key, len);

	return redis_known_find(k->slots, k->mask, h) ||
	       (k->use_sent && redis_known_find(k->sent_slots, k->sent_mask, h));
}

/* Returns the index of the first note of the batch being built. */
static size_t redis_known_building(const redis_known *k)
{
	return k->n_sent ? k->sent_end[k->n_sent - 1] : 0;
}

/* Indexes the notes of the batches sent in sent_slots; 0 or -1 (OOM). */
static int redis_known_index_sent(redis_known *k)
{
	size_t n = redis_known_building(k), cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	if (cap > k->sent_cap) {
		uint64_t *slots = realloc(k->sent_slots, cap * sizeof(*slots));
		if (!slots)
			return -1;
		k->sent_slots = slots;
		k->sent_cap = cap;
	}
	k->sent_mask = cap - 1;
	memset(k->sent_slots, 0, cap * sizeof(*k->sent_slots));
	for (size_t i = 0; i < n; i++)
		redis_known_put(k->sent_slots, k->sent_mask, k->pending[i]);
	return 0;
}

int redis_known_begin(redis_known *k, bool after_sent)
{
	k->n_pending = redis_known_building(k);
	k->use_sent = false;
	if (!after_sent || k->n_sent == 0)
		return 0;
	if (redis_known_index_sent(k) < 0)
		return -1;
	k->use_sent = true;
	return 0;
}

int redis_known_sent(redis_known *k)
{
	k->use_sent = false;
	if (k->n_sent == REDIS_KNOWN_MAX_SENT) {
		redis_known_begin(k, false);
		return -1;
	}
	k->sent_end[k->n_sent++] = k->n_pending;
	return 0;
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
	k->n += (size_t)redis_known_put(k->slots, k->mask, h);
}

/* Removes the oldest sent batch's notes from the pending list. */
static void redis_known_drop_oldest(redis_known *k)
{
	if (k->n_sent == 0)
		return;
	size_t end = k->sent_end[0];
	if (end > 0)
		memmove(k->pending, k->pending + end, (k->n_pending - end) * sizeof(*k->pending));
	k->n_pending -= end;
	for (size_t i = 1; i < k->n_sent; i++)
		k->sent_end[i - 1] = k->sent_end[i] - end;
	k->n_sent--;
}

void redis_known_commit(redis_known *k)
{
	size_t end = k->n_sent ? k->sent_end[0] : 0;

	for (size_t i = 0; i < end; i++) {
		if (k->n >= (k->mask + 1) / 2)
			redis_known_clear(k, k->cleared_ms);
		redis_known_insert(k, k->pending[i]);
	}
	redis_known_drop_oldest(k);
}

void redis_known_discard(redis_known *k)
{
	redis_known_drop_oldest(k);
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
