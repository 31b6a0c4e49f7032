/*
 * dedup.h - upstream event ids, so that a replayed event counts once.
 *
 * Connectors replay: the same event (same source, kind and event id) can
 * arrive twice, minutes or days apart, on any partition. Each counted event
 * is reduced to a 64-bit id (dedup_event_id): a 128-bit hash of the three
 * fields, encrypted with AES-128 under a key derived from the HMAC key, and
 * cut to 64 bits. The ids go to Redis, and some platforms' event ids contain a
 * person's id (a reaction's user); without the key a guessed id cannot be
 * tested against them. Two structures use the ids:
 *
 * - dedup_batch: the ids of one poll batch, with the hour of their event
 *   time. It drops a repeat inside the batch at once, and the store writes
 *   the ids to Redis together with the batch's counts, where the write is
 *   rejected when Redis already contains one of them (see redis_store.h).
 * - dedup_known: ids that Redis reported as already counted, so that later
 *   batches drop them. Fixed size, direct mapped: an id pushed out is only
 *   reported by Redis once more. Two ids of one batch can push each other
 *   out, so the pipeline also keeps the ids reported for the batch being
 *   read again in an exact dedup_batch (see pipeline.h).
 *
 * Neither allocates per event once warm. dedup_batch_finish() allocates the
 * sorted copy of a batch's ids once per batch. A 64-bit hash makes two distinct
 * events collide with probability about n^2 / 2^65 for n ids in the
 * horizon (3e-6 for ten million); the colliding event would be dropped.
 */
#ifndef ADVOCACY_DEDUP_H
#define ADVOCACY_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct dedup_id_key dedup_id_key;

/* An AES-128 key schedule for dedup_event_id; NULL when out of memory. */
dedup_id_key *dedup_id_key_new(const uint8_t key[16]);
void dedup_id_key_free(dedup_id_key *k);

/*
 * Never 0. Stable across processes and versions for the same key: it is
 * stored in Redis. A new HMAC key gives new ids (see README, key rotation).
 */
uint64_t dedup_event_id(const dedup_id_key *k, event_str source, event_str kind,
                        event_str event_id);

/* The UTC hour holding t_ms, as epoch seconds: ids are kept per such hour. */
static inline int64_t dedup_hour_s(int64_t t_ms)
{
	int64_t hours = t_ms / 3600000 - (t_ms % 3600000 < 0 ? 1 : 0);
	return hours * 3600;
}

typedef struct dedup_entry {
	uint64_t id;
	int64_t hour_s;
} dedup_entry;

typedef struct dedup_batch dedup_batch;

dedup_batch *dedup_batch_new(void);
void dedup_batch_free(dedup_batch *b);

/* Empties the batch, keeping its memory. */
void dedup_batch_reset(dedup_batch *b);

/* Returns 1 when id was new in the batch and is now in it, 0 when it was
 * already there, -1 when out of memory. */
int dedup_batch_add(dedup_batch *b, uint64_t id, int64_t event_time_ms);

/*
 * Orders the entries by hour, keeping arrival order within an hour; call
 * once after the last add. A counting sort over the hours the batch spans,
 * so linear in the entries; a batch spanning more hours than it has
 * entries is sorted by hour, then id, with qsort.
 */
void dedup_batch_finish(dedup_batch *b);

/* True when id is in the batch. */
bool dedup_batch_has(const dedup_batch *b, uint64_t id);

size_t dedup_batch_count(const dedup_batch *b);
const dedup_entry *dedup_batch_entries(const dedup_batch *b);

typedef struct dedup_known dedup_known;

/* slots is rounded up to a power of two. */
dedup_known *dedup_known_new(size_t slots);
void dedup_known_free(dedup_known *k);
void dedup_known_add(dedup_known *k, uint64_t id);
bool dedup_known_has(const dedup_known *k, uint64_t id);
/* Forgets every id. */
void dedup_known_clear(dedup_known *k);

#endif
