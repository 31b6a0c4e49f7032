/*
 * caps.c - daily caps: batch decisions, known day counts (see caps.h).
 *
 * A caps_batch keeps its entries in a dense array in arrival order, with an
 * open-addressing table (linear probing, at most half full) from key to
 * position. Slots carry the epoch of the batch that wrote them, so a reset
 * only starts a new epoch. The cache of confirmed values is 16-way set
 * associative and keeps a 64-bit hash of each key, not the key. With 4 ways
 * about one set in 250 overflowed with a quarter of the cache in use, and
 * the keys of such a set pushed each other out batch after batch. In the
 * 10M-event benchmark a batch was rejected and read again every second. A key
 * pushed out, or two keys sharing a hash, read a wrong prior, which at
 * worst costs one rejected write. A miss matters only for a person near
 * the cap, so a full set gives up the entry of the oldest day first and,
 * among entries of one day, the one with the lowest count.
 *
 * The values Redis reported for a rejected write are kept exactly in a
 * caps_batch of their own until a batch is written, so that the batch read
 * again always finds them.
 */
#include "caps.h"

#include <stdlib.h>
#include <string.h>

#define CAPS_MIN_CAPACITY 64
#define CAPS_MAX_ENTRIES (1u << 30)

typedef struct caps_slot {
	uint32_t pos;
	uint32_t epoch;
} caps_slot;

struct caps_batch {
	caps_entry *entries;
	size_t n, cap;
	caps_slot *slots;     /* 2 * cap of them */
	uint32_t epoch;
};

#define CAPS_CACHE_WAYS 16
#define CAPS_DAY_MS 86400000LL

/* Confirmed value of one key. A free slot has hash 0. */
typedef struct caps_known {
	uint64_t hash;         /* caps_hash() of the key, never 0 in use */
	int32_t value;
	int32_t day;           /* day start in days since the epoch, for eviction */
} caps_known;

struct caps {
	caps_known *cache;
	size_t n_cache;        /* entries: a power of two from CAPS_CACHE_WAYS to CAPS_CACHE_SLOTS */
	caps_batch *reported;  /* values Redis reported since the last written batch */
	const caps_batch *in_flight[2]; /* newest first; NULL: none */
};

static uint64_t caps_hash(const caps_key *k)
{
	uint64_t h;

	/* Pseudonyms are HMAC output, so their first bytes are already uniform. */
	memcpy(&h, k->person.bytes, sizeof(h));
	h ^= (uint64_t)k->day_start_ms * 0x9e3779b97f4a7c15ull ^ (uint64_t)k->behaviour << 48;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h ? h : 1;
}

static bool caps_key_equal(const caps_key *a, const caps_key *b)
{
	return a->day_start_ms == b->day_start_ms && a->behaviour == b->behaviour &&
	       memcmp(a->person.bytes, b->person.bytes, sizeof(a->person.bytes)) == 0;
}

/* ------------------------------------------------------------------------ */
/* Batch                                                                    */

/* Doubles the capacity and rebuilds the table. Returns 0, or -1 when out of memory or full. */
static int caps_batch_grow(caps_batch *b)
{
	size_t cap = b->cap ? 2 * b->cap : CAPS_MIN_CAPACITY;
	caps_entry *entries;
	caps_slot *slots;

	if (cap > CAPS_MAX_ENTRIES)
		return -1;
	entries = realloc(b->entries, cap * sizeof(*entries));
	if (!entries)
		return -1;
	b->entries = entries;
	slots = calloc(2 * cap, sizeof(*slots)); /* epoch 0: free */
	if (!slots)
		return -1;
	free(b->slots);
	b->slots = slots;
	b->cap = cap;
	for (size_t i = 0; i < b->n; i++) {
		size_t s = caps_hash(&b->entries[i].key) & (2 * cap - 1);
		while (b->slots[s].epoch == b->epoch)
			s = (s + 1) & (2 * cap - 1);
		b->slots[s] = (caps_slot){(uint32_t)i, b->epoch};
	}
	return 0;
}

caps_batch *caps_batch_new(void)
{
	caps_batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->epoch = 1;
	if (caps_batch_grow(b) < 0) {
		caps_batch_free(b);
		return NULL;
	}
	return b;
}

void caps_batch_free(caps_batch *b)
{
	if (!b)
		return;
	free(b->entries);
	free(b->slots);
	free(b);
}

void caps_batch_reset(caps_batch *b)
{
	b->n = 0;
	if (++b->epoch == 0) {
		/* After 2^32 - 1 resets the epoch wraps, and old slots would look current. */
		memset(b->slots, 0, 2 * b->cap * sizeof(*b->slots));
		b->epoch = 1;
	}
}

size_t caps_batch_count(const caps_batch *b)
{
	return b->n;
}

const caps_entry *caps_batch_entries(const caps_batch *b)
{
	return b->entries;
}

/* Returns the position of key, or SIZE_MAX with *slot set to the free slot for it. */
static size_t caps_batch_probe(const caps_batch *b, const caps_key *key, size_t *slot)
{
	size_t mask = 2 * b->cap - 1;
	size_t s = caps_hash(key) & mask;

	for (; b->slots[s].epoch == b->epoch; s = (s + 1) & mask)
		if (caps_key_equal(&b->entries[b->slots[s].pos].key, key))
			return b->slots[s].pos;
	*slot = s;
	return SIZE_MAX;
}

const caps_entry *caps_batch_find(const caps_batch *b, const caps_key *key)
{
	size_t slot;
	size_t pos = caps_batch_probe(b, key, &slot);

	return pos == SIZE_MAX ? NULL : &b->entries[pos];
}

/* Returns the entry of key, added with prior when new, or NULL when the batch cannot grow. */
static caps_entry *caps_batch_get(caps_batch *b, const caps_key *key, int32_t prior,
                                  int64_t day_end_ms, int32_t cap)
{
	size_t slot = 0;
	size_t pos = caps_batch_probe(b, key, &slot);

	if (pos != SIZE_MAX)
		return &b->entries[pos];
	if (b->n == b->cap) {
		if (caps_batch_grow(b) < 0)
			return NULL;
		caps_batch_probe(b, key, &slot);
	}
	pos = b->n++;
	b->entries[pos] = (caps_entry){.key = *key, .day_end_ms = day_end_ms, .prior = prior,
	                               .cap = cap};
	b->slots[slot] = (caps_slot){(uint32_t)pos, b->epoch};
	return &b->entries[pos];
}

/* ------------------------------------------------------------------------ */
/* Known values and decisions                                               */

static size_t caps_cache_round(size_t slots)
{
	size_t n = CAPS_CACHE_WAYS;

	while (n < slots && n < CAPS_CACHE_SLOTS)
		n *= 2;
	return n;
}

caps *caps_new(size_t slots)
{
	caps *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->n_cache = caps_cache_round(slots);
	c->cache = malloc(c->n_cache * sizeof(*c->cache));
	c->reported = caps_batch_new();
	if (!c->cache || !c->reported) {
		caps_free(c);
		return NULL;
	}
	caps_clear(c);
	return c;
}

int caps_resize(caps *c, size_t slots)
{
	size_t n = caps_cache_round(slots);
	caps_known *cache = n == c->n_cache ? c->cache : malloc(n * sizeof(*cache));
	int rc = cache ? 0 : -1;

	if (cache && cache != c->cache) {
		free(c->cache);
		c->cache = cache;
		c->n_cache = n;
	}
	caps_clear(c);
	return rc;
}

void caps_free(caps *c)
{
	if (!c)
		return;
	free(c->cache);
	caps_batch_free(c->reported);
	free(c);
}

void caps_clear(caps *c)
{
	memset(c->cache, 0, c->n_cache * sizeof(*c->cache));
	caps_batch_reset(c->reported);
}

/* Returns the first way of the cache set that hash maps to. */
static caps_known *caps_cache_set(const caps *c, uint64_t hash)
{
	size_t sets = c->n_cache / CAPS_CACHE_WAYS;

	return &c->cache[(hash >> 32 & (sets - 1)) * CAPS_CACHE_WAYS];
}

static void caps_cache_put_hash(caps *c, uint64_t hash, int32_t value, int32_t day)
{
	caps_known *set = caps_cache_set(c, hash), *victim = &set[0];

	for (int w = 0; w < CAPS_CACHE_WAYS; w++) {
		caps_known *k = &set[w];
		if (k->hash == hash || k->hash == 0) {
			victim = k;
			break;
		}
		if (k->day < victim->day || (k->day == victim->day && k->value < victim->value))
			victim = k;
	}
	*victim = (caps_known){hash, value, day};
}

static void caps_cache_put(caps *c, const caps_key *key, int32_t value)
{
	caps_cache_put_hash(c, caps_hash(key), value,
	                    (int32_t)(key->day_start_ms / CAPS_DAY_MS));
}

/* The set of a key depends only on its hash, which the cache stores, so no key is needed. */
int caps_grow(caps *c, size_t slots)
{
	size_t n = caps_cache_round(slots);
	caps_known *old = c->cache;
	size_t n_old = c->n_cache;

	if (n <= n_old)
		return 0;
	caps_known *cache = calloc(n, sizeof(*cache)); /* hash 0 marks a free slot */
	if (!cache)
		return -1;
	c->cache = cache;
	c->n_cache = n;
	for (size_t i = 0; i < n_old; i++)
		if (old[i].hash != 0)
			caps_cache_put_hash(c, old[i].hash, old[i].value, old[i].day);
	free(old);
	return 0;
}

size_t caps_cache_slots(const caps *c)
{
	return c->n_cache;
}

/* Returns the best known value stored in Redis before the batch now filling. */
static int32_t caps_prior(const caps *c, const caps_key *key)
{
	const caps_entry *e;

	for (int i = 0; i < 2; i++)
		if (c->in_flight[i] && (e = caps_batch_find(c->in_flight[i], key)))
			return e->prior + e->counted;
	e = caps_batch_find(c->reported, key);
	if (e)
		return e->prior;
	uint64_t hash = caps_hash(key);
	const caps_known *set = caps_cache_set(c, hash);
	for (int w = 0; w < CAPS_CACHE_WAYS; w++)
		if (set[w].hash == hash)
			return set[w].value;
	return 0;
}

int caps_credit(caps *c, caps_batch *b, const caps_key *key, int64_t day_end_ms, int32_t cap)
{
	size_t slot;
	bool is_new = caps_batch_probe(b, key, &slot) == SIZE_MAX;
	int32_t prior = is_new ? caps_prior(c, key) : 0;
	caps_entry *e = caps_batch_get(b, key, prior, day_end_ms, cap);

	if (!e)
		return -1;
	e->credits++;
	if (e->prior + e->counted >= e->cap)
		return 0;
	e->counted++;
	return 1;
}

void caps_set_in_flight(caps *c, const caps_batch *older, const caps_batch *newer)
{
	c->in_flight[0] = newer ? newer : older;
	c->in_flight[1] = newer ? older : NULL;
}

int caps_note_stored(caps *c, const caps_batch *b, size_t index, int32_t stored)
{
	const caps_entry *e;
	caps_entry *r;

	if (index >= b->n || stored < 0)
		return 0;
	e = &b->entries[index];
	caps_cache_put(c, &e->key, stored);
	r = caps_batch_get(c->reported, &e->key, stored, e->day_end_ms, e->cap);
	if (!r)
		return -1;
	r->prior = stored;
	return 0;
}

void caps_batch_written(caps *c, const caps_batch *b, const int64_t *drift, size_t n_drift)
{
	const caps_entry *r = caps_batch_entries(c->reported);

	/* Reported values the written batch did not touch stay known. */
	for (size_t i = 0; i < caps_batch_count(c->reported); i++)
		caps_cache_put(c, &r[i].key, r[i].prior);
	caps_batch_reset(c->reported);
	for (size_t i = 0; i < b->n; i++)
		caps_cache_put(c, &b->entries[i].key, b->entries[i].prior + b->entries[i].counted);
	for (size_t i = 0; i + 1 < 2 * n_drift; i += 2) {
		if (drift[i] < 0 || (size_t)drift[i] >= b->n || drift[i + 1] < 0)
			continue;
		const caps_entry *e = &b->entries[drift[i]];
		caps_cache_put(c, &e->key, (int32_t)drift[i + 1] + e->counted);
	}
}
