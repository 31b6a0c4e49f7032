/*
 * redis_store.h - window state in Redis: atomic batch writes and tick reads.
 *
 * The one module that speaks to Redis (hiredis 0.14 async API on the daemon's
 * libevent loop). Keys, all in one Redis Cluster hash slot through the hash
 * tag {<prefix>}:
 *
 *   {P}:n:<granularity>:<bucket start, epoch s>             hash
 *       field "<behaviour>|<scope>" -> net behaviour count
 *   {P}:u:<granularity>:<bucket start>:<behaviour>|<scope>  HyperLogLog
 *       of contributor pseudonyms (32 hex digits)
 *   {P}:offsets                                             hash
 *       field "<group>|<topic>|<partition>" -> next offset to consume
 *
 * Bucket keys expire at bucket end + window_keep_ms() of their granularity.
 *
 * A batch is written by one Lua script call: it first compares the stored
 * offset of every partition in the batch with the batch's first offset and
 * writes nothing when some partition already went past it (a replay after a
 * lost acknowledgement, or another consumer that took the partition over);
 * otherwise it applies every count, HyperLogLog and expiry and stores the new
 * offsets, atomically. One slot for everything keeps that atomic on Redis
 * Cluster too, at the cost of putting all window state on one node.
 *
 * Connection: reconnects with exponential backoff (100 ms to 5 s). A PING
 * every second detects a silent, half-open connection: when a reply is
 * overdue the context is dropped and replaced. Pending callbacks then get a
 * failure, never silence.
 */
#ifndef ADVOCACY_REDIS_STORE_H
#define ADVOCACY_REDIS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "kpi.h"
#include "roster.h"
#include "window.h"

typedef struct redis_store redis_store;

/* Progress of one partition within a batch. */
typedef struct redis_partition_offsets {
	const char *topic;
	int32_t partition;
	int64_t first_offset;    /* offset of the batch's first message */
	int64_t next_offset;     /* offset after the batch's last message */
	int64_t stored_offset;   /* set on REDIS_FLUSH_STALE: what Redis holds, or -1 */
} redis_partition_offsets;

typedef enum redis_flush_status {
	REDIS_FLUSH_APPLIED,     /* written and acknowledged */
	REDIS_FLUSH_STALE,       /* not written: Redis is already past some partition */
	REDIS_FLUSH_FAILED,      /* not acknowledged (connection lost, error): retry */
} redis_flush_status;

typedef void (*redis_store_flush_cb)(redis_flush_status status, void *opaque);
typedef void (*redis_store_tick_cb)(int status, void *opaque);
typedef void (*redis_store_state_cb)(bool connected, void *opaque);

/* Starts connecting at once. The store borrows base and cfg. */
redis_store *redis_store_new(struct event_base *base, const config *cfg,
                             redis_store_state_cb state_cb, void *opaque,
                             char *errstr, size_t errstr_size);

/* Drops the connection (pending callbacks get failures) and frees. */
void redis_store_free(redis_store *s);

bool redis_store_connected(const redis_store *s);

/*
 * Sends the batch and the partitions' offsets in one atomic write. The batch
 * must be finished (window_batch_finish) and stay untouched until cb runs;
 * on REDIS_FLUSH_STALE the parts' stored_offset fields are filled before cb.
 * Returns 0, or -1 when not connected (cb is then not called).
 */
int redis_store_flush(redis_store *s, const window_batch *batch, const roster *r,
                      window_clock *clock, redis_partition_offsets *parts, size_t n_parts,
                      redis_store_flush_cb cb, void *opaque);

/*
 * Reads what a tick needs into t: the counts of every window (window i ends
 * at window_end_ms[i], exclusive, on a bucket boundary), then the distinct
 * contributors of every eligible (KPI, scope). Calls cb with 0, or with -1
 * when Redis failed meanwhile. t must have been begun with the roster's
 * current scope count. Returns 0, or -1 when not connected or a tick is
 * already being read.
 */
int redis_store_read_tick(redis_store *s, kpi_tick *t, const roster *r, window_clock *clock,
                          const int64_t *window_end_ms, redis_store_tick_cb cb, void *opaque);

/* Redis commands sent since start (one script call counts as one), for metrics. */
uint64_t redis_store_commands_sent(const redis_store *s);

#endif
