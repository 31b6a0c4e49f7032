/*
 * redis_known.h - the window keys this Redis connection has already written
 * with their type checked and their expiry set.
 *
 * A bucket's count hash and HyperLogLogs get the same expiry on every
 * write, so the batch script sets it, and checks the key's type, only the
 * first time this connection writes the key. The set holds 64-bit hashes of
 * key names. Keys of a batch are noted as pending while its write is in
 * flight and become known only when Redis applied it. Up to
 * REDIS_KNOWN_MAX_SENT writes can be in flight. Their replies come in the
 * order they were sent, so each reply commits or discards the notes of the
 * oldest.
 *
 * The owner forgets everything on a new connection and when Redis rejects
 * a batch, and the set forgets everything once a minute and when it is half
 * full. A key deleted by another client therefore gets its expiry back
 * within a minute of being written again; a hash collision costs the same.
 *
 * Single-threaded; no allocation after redis_known_new() except for the
 * pending list, which grows to the largest batch and is reused.
 */
#ifndef ADVOCACY_REDIS_KNOWN_H
#define ADVOCACY_REDIS_KNOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_KNOWN_FORGET_MS 60000
#define REDIS_KNOWN_MAX_SENT 2

typedef struct redis_known redis_known;

/* A set of up to slots / 2 keys; slots is rounded up to a power of two. */
redis_known *redis_known_new(size_t slots);
void redis_known_free(redis_known *k);

/* True when the key was written by an applied batch since the last clear. */
bool redis_known_has(const redis_known *k, const char *key, size_t len);

/*
 * Starts a batch: drops the notes of a batch built but never sent. With
 * after_sent, Redis writes the batch only if it applied the batches sent
 * before it (see redis_scripts.h, "after"), so their noted keys count as
 * known while it is built. Returns 0, or -1 when out of memory (after_sent
 * is then ignored).
 */
int redis_known_begin(redis_known *k, bool after_sent);

/* Records a key the batch being built writes with its expiry; 0 or -1 (OOM). */
int redis_known_note(redis_known *k, const char *key, size_t len);

/*
 * The batch being built was sent: its notes wait for its reply. Returns 0,
 * or -1 when REDIS_KNOWN_MAX_SENT batches already wait (its notes are then
 * dropped, so its keys stay unknown).
 */
int redis_known_sent(redis_known *k);

/* The oldest batch sent was applied: its noted keys become known. */
void redis_known_commit(redis_known *k);
/* The oldest batch sent was not applied: its noted keys are dropped. */
void redis_known_discard(redis_known *k);

/* Forgets every key; now_ms starts the next minute-long period. */
void redis_known_clear(redis_known *k, int64_t now_ms);

/* Clears the set when REDIS_KNOWN_FORGET_MS have passed since the last clear. */
void redis_known_expire(redis_known *k, int64_t now_ms);

#endif
