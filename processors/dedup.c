/*
 * dedup.c - event id hashes per batch and ids known to be counted (see dedup.h).
 *
 * The batch set is an open-addressing table of ids (0 marks a free slot)
 * next to an array of (id, hour) entries in arrival order. The table is kept
 * at most half full and cleared with one memset per batch.
 */
#include "dedup.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define DEDUP_MIN_SLOTS 4096

/* FNV-1a over the bytes, then a splitmix64 finalizer to spread the bits. */
static uint64_t dedup_fnv(uint64_t h, event_str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= 0x100000001b3ULL;
	}
	/* A separator byte, so that ("ab", "c") and ("a", "bc") differ. */
	h ^= 0xff;
	h *= 0x100000001b3ULL;
	return h;
}

static uint64_t dedup_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

struct dedup_id_key {
	EVP_CIPHER_CTX *ctx; /* AES-128-ECB, no padding: one block in, one out */
};

dedup_id_key *dedup_id_key_new(const uint8_t key[16])
{
	dedup_id_key *k = calloc(1, sizeof(*k));

	if (!k || !(k->ctx = EVP_CIPHER_CTX_new()) ||
	    !EVP_EncryptInit_ex(k->ctx, EVP_aes_128_ecb(), NULL, key, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(k->ctx, 0)) {
		dedup_id_key_free(k);
		return NULL;
	}
	return k;
}

void dedup_id_key_free(dedup_id_key *k)
{
	if (!k)
		return;
	EVP_CIPHER_CTX_free(k->ctx);
	free(k);
}

uint64_t dedup_event_id(const dedup_id_key *k, event_str source, event_str kind,
                        event_str event_id)
{
	/* Two FNV-1a lanes with different offsets: a 128-bit hash, then AES. */
	uint64_t lanes[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	unsigned char block[16], out[16 + 16];
	int out_len = 0;
	uint64_t id;

	for (int i = 0; i < 2; i++) {
		lanes[i] = dedup_fnv(lanes[i], source);
		lanes[i] = dedup_fnv(lanes[i], kind);
		lanes[i] = dedup_mix(dedup_fnv(lanes[i], event_id) + (uint64_t)i);
	}
	memcpy(block, lanes, sizeof(block));
	if (!EVP_EncryptUpdate(k->ctx, out, &out_len, block, sizeof(block)) || out_len != 16)
		memset(out, 0, sizeof(out)); /* cannot happen with a valid key schedule */
	memcpy(&id, out, sizeof(id));
	return id ? id : 1;
}

/* ---------------------------------------------------------------- batch */

struct dedup_batch {
	uint64_t *slots;
	size_t n_slots;           /* power of two */
	dedup_entry *entries;
	size_t n_entries, entries_cap;
	dedup_entry *sorted;      /* scratch of dedup_batch_finish(), NULL between sorts */
	size_t *hour_starts;      /* scratch: per hour of the span, its first position */
	size_t hours_cap;
};

dedup_batch *dedup_batch_new(void)
{
	dedup_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->slots = calloc(DEDUP_MIN_SLOTS, sizeof(*b->slots));
	if (!b->slots) {
		free(b);
		return NULL;
	}
	b->n_slots = DEDUP_MIN_SLOTS;
	return b;
}

void dedup_batch_free(dedup_batch *b)
{
	if (!b)
		return;
	free(b->slots);
	free(b->entries);
	free(b->sorted);
	free(b->hour_starts);
	free(b);
}

void dedup_batch_reset(dedup_batch *b)
{
	if (b->n_entries)
		memset(b->slots, 0, b->n_slots * sizeof(*b->slots));
	b->n_entries = 0;
}

/* Puts id in its slot; returns 1 when inserted, 0 when present. */
static int dedup_slot_insert(uint64_t *slots, size_t n_slots, uint64_t id)
{
	size_t mask = n_slots - 1;

	for (size_t i = (size_t)id & mask;; i = (i + 1) & mask) {
		if (slots[i] == id)
			return 0;
		if (slots[i] == 0) {
			slots[i] = id;
			return 1;
		}
	}
}

static int dedup_batch_grow(dedup_batch *b)
{
	if ((b->n_entries + 1) * 2 > b->n_slots) {
		size_t n = b->n_slots * 2;
		uint64_t *slots = calloc(n, sizeof(*slots));
		if (!slots)
			return -1;
		for (size_t i = 0; i < b->n_entries; i++)
			dedup_slot_insert(slots, n, b->entries[i].id);
		free(b->slots);
		b->slots = slots;
		b->n_slots = n;
	}
	if (b->n_entries == b->entries_cap) {
		size_t cap = b->entries_cap ? b->entries_cap * 2 : 1024;
		dedup_entry *e = realloc(b->entries, cap * sizeof(*e));
		if (!e)
			return -1;
		b->entries = e;
		b->entries_cap = cap;
	}
	return 0;
}

int dedup_batch_add(dedup_batch *b, uint64_t id, int64_t event_time_ms)
{
	if (dedup_batch_grow(b) < 0)
		return -1;
	if (!dedup_slot_insert(b->slots, b->n_slots, id))
		return 0;
	b->entries[b->n_entries++] = (dedup_entry){ id, dedup_hour_s(event_time_ms) };
	return 1;
}

static int dedup_entry_cmp(const void *pa, const void *pb)
{
	const dedup_entry *a = pa, *b = pb;

	if (a->hour_s != b->hour_s)
		return a->hour_s < b->hour_s ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Grows the scratch of the counting sort; 0 or -1. */
static int dedup_sort_scratch(dedup_batch *b, size_t hours)
{
	if (hours > b->hours_cap) {
		size_t *h = realloc(b->hour_starts, hours * sizeof(*h));
		if (!h)
			return -1;
		b->hour_starts = h;
		b->hours_cap = hours;
	}
	dedup_entry *sorted = realloc(b->sorted, b->entries_cap * sizeof(*sorted));
	if (!sorted)
		return -1;
	b->sorted = sorted;
	return 0;
}

void dedup_batch_finish(dedup_batch *b)
{
	size_t n = b->n_entries;
	if (n < 2)
		return;
	int64_t lo = b->entries[0].hour_s, hi = lo;
	for (size_t i = 1; i < n; i++) {
		lo = b->entries[i].hour_s < lo ? b->entries[i].hour_s : lo;
		hi = b->entries[i].hour_s > hi ? b->entries[i].hour_s : hi;
	}
	size_t hours = (size_t)((hi - lo) / 3600) + 1;
	if (hours > n || dedup_sort_scratch(b, hours) < 0) {
		qsort(b->entries, n, sizeof(*b->entries), dedup_entry_cmp);
		return;
	}
	memset(b->hour_starts, 0, hours * sizeof(*b->hour_starts));
	for (size_t i = 0; i < n; i++)
		b->hour_starts[(b->entries[i].hour_s - lo) / 3600]++;
	for (size_t h = 0, at = 0; h < hours; h++) {
		size_t count = b->hour_starts[h];
		b->hour_starts[h] = at;
		at += count;
	}
	for (size_t i = 0; i < n; i++)
		b->sorted[b->hour_starts[(b->entries[i].hour_s - lo) / 3600]++] = b->entries[i];
	/*
	 * The sorted copy becomes the entries and the unsorted array is freed.
	 * Kept as the next sort's scratch, it was a second copy of each batch's
	 * ids, so now each sort allocates its copy, once per batch.
	 */
	free(b->entries);
	b->entries = b->sorted;
	b->sorted = NULL;
}

bool dedup_batch_has(const dedup_batch *b, uint64_t id)
{
	size_t mask = b->n_slots - 1;

	/* The table is at most half full, so a free slot ends every probe. */
	for (size_t i = (size_t)id & mask; b->slots[i]; i = (i + 1) & mask)
		if (b->slots[i] == id)
			return true;
	return false;
}

size_t dedup_batch_count(const dedup_batch *b)
{
	return b->n_entries;
}

const dedup_entry *dedup_batch_entries(const dedup_batch *b)
{
	return b->entries;
}

/* ---------------------------------------------------------------- known ids */

struct dedup_known {
	uint64_t *slots;
	size_t mask;
};

dedup_known *dedup_known_new(size_t slots)
{
	dedup_known *k = calloc(1, sizeof(*k));
	size_t n = 1;

	while (n < slots)
		n *= 2;
	if (!k)
		return NULL;
	k->slots = calloc(n, sizeof(*k->slots));
	if (!k->slots) {
		free(k);
		return NULL;
	}
	k->mask = n - 1;
	return k;
}

void dedup_known_free(dedup_known *k)
{
	if (!k)
		return;
	free(k->slots);
	free(k);
}

void dedup_known_add(dedup_known *k, uint64_t id)
{
	k->slots[id & k->mask] = id;
}

bool dedup_known_has(const dedup_known *k, uint64_t id)
{
	return k->slots[id & k->mask] == id;
}

void dedup_known_clear(dedup_known *k)
{
	memset(k->slots, 0, (k->mask + 1) * sizeof(*k->slots));
}
