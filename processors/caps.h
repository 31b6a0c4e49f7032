/*
 * caps.h - per-person daily caps on repeated behaviour (anti-gaming).
 *
 * A behaviour with behaviours.<id>.daily_cap lets one person add at most
 * that many credits per local day (windows.timezone). Credits above the cap
 * are not counted. They go to the "capped" cells of the batch instead, from
 * which the capped_share aggregation is computed.
 *
 * Redis stores the number of credits counted per (person, behaviour, day)
 * in one hash per local day, {P}:caps:<day start, epoch s>, with a field
 * per person (the pseudonym) whose value is "<behaviour>=<n> ..." (see
 * redis_store.h).
 * The batch decides each credit in memory, with no Redis round trip. It
 * assumes a prior value for each (person, behaviour, day) and counts the
 * first cap - prior credits of the batch, in arrival order. The batch write
 * sends the prior, the credits and the number counted. The flush script
 * computes the number counted from the stored value and rejects the batch
 * when it differs from the batch's, returning the stored values. The batch
 * is then read again with those values as priors. So a batch decides
 * exactly as it would have with the stored values, whichever instance wrote
 * them, and a replay after a crash decides as the first attempt would have.
 * A stored value that differs from the prior but leads to the same decision
 * (everyone well under the cap) is accepted.
 *
 * A prior is the first of these that has the key: the batches being written,
 * newest first (its prior plus what it counted), the values Redis reported since the
 * last written batch (exact), a fixed-size cache of values Redis confirmed,
 * else 0. A cache miss costs nothing unless the person is near the cap,
 * where it costs one rejected write. NOTE: when more people are at their
 * caps than the cache has room for, the rejections repeat, because each
 * batch read again can bring new misses. Consumption then slows until the
 * cache contains them.
 *
 * Retractions are not capped and do not free room under the cap.
 *
 * Memory: the cache has a fixed size, chosen by the caller at caps_new()
 * and caps_resize() (entries of 16 bytes, at most CAPS_CACHE_SLOTS), and a
 * caps_batch grows to the largest batch and is reused. There is no
 * allocation per event once warm. Single-threaded.
 */
#ifndef ADVOCACY_CAPS_H
#define ADVOCACY_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "privacy.h"

#define CAPS_CACHE_SLOTS (1u << 19) /* at most 8 MiB of confirmed day counts */

/* One person's credits of one behaviour on one local day. */
typedef struct caps_key {
	pseudonym person;
	int64_t day_start_ms;
	uint16_t behaviour;
} caps_key;

/* The decision of a batch for one key. */
typedef struct caps_entry {
	caps_key key;
	int64_t day_end_ms;  /* exclusive. The Redis key expires windows.retention after it. */
	int32_t prior;       /* credits counted before the batch, as assumed */
	int32_t credits;     /* credits of the batch */
	int32_t counted;     /* credits counted: min(credits, cap - prior), at least 0 */
	int32_t cap;
} caps_entry;

typedef struct caps_batch caps_batch;

caps_batch *caps_batch_new(void);
void caps_batch_free(caps_batch *b);
/* Empties the batch and keeps its memory. */
void caps_batch_reset(caps_batch *b);
size_t caps_batch_count(const caps_batch *b);
/* Returns the entries in the order their keys first appeared, valid until the batch changes. */
const caps_entry *caps_batch_entries(const caps_batch *b);
/* Returns the entry of key, or NULL when the batch has none. */
const caps_entry *caps_batch_find(const caps_batch *b, const caps_key *key);

typedef struct caps caps;

/*
 * Returns a cache of at least slots entries (rounded up to a power of two,
 * at least one set of ways, at most CAPS_CACHE_SLOTS), or NULL when out of
 * memory. Any size is correct, because a smaller cache only misses more
 * often.
 */
caps *caps_new(size_t slots);
void caps_free(caps *c);

/*
 * Gives the cache a new size (rounded as by caps_new()) and clears every
 * value, as caps_clear() does. Returns 0, or -1 when out of memory. On
 * failure the cache keeps its old size and is cleared all the same.
 */
int caps_resize(caps *c, size_t slots);

/*
 * Grows the cache to at least slots entries (rounded as by caps_new()),
 * keeping the values it contains. Returns 0, also when the cache is already
 * that large, or -1 when out of memory, and then the cache stays as it was.
 */
int caps_grow(caps *c, size_t slots);

/* Entries the cache has room for. */
size_t caps_cache_slots(const caps *c);

/*
 * Decides one credit of key under cap into batch b. Returns 1 when it
 * counts, 0 when it is above the cap, -1 when the batch cannot grow (b is
 * then unchanged). day_end_ms is stored with a new entry.
 */
int caps_credit(caps *c, caps_batch *b, const caps_key *key, int64_t day_end_ms, int32_t cap);

/*
 * Sets the batches being written, whose decisions the next batch builds on:
 * older was sent first, newer after it (NULL: none). A key's prior comes
 * from newer when it has the key, else from older.
 */
void caps_set_in_flight(caps *c, const caps_batch *older, const caps_batch *newer);

/*
 * Stores the value Redis reported for the entry at index of batch b after
 * a rejected write, so that batches decided after this take it as the
 * prior. An index out of range or a negative value is ignored. Returns 0,
 * or -1 when out of memory (the value then only goes into the cache, where
 * another key can push it out).
 */
int caps_note_stored(caps *c, const caps_batch *b, size_t index, int32_t stored);

/*
 * Records batch b as written. drift lists (index, stored value before
 * the write) pairs of the entries whose stored value differed from their
 * prior without changing the decision. The new values go into the cache.
 */
void caps_batch_written(caps *c, const caps_batch *b, const int64_t *drift, size_t n_drift);

/* Forgets every value. Call it on a reload, when behaviour indices may change meaning. */
void caps_clear(caps *c);

#endif
