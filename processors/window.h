/*
 * window.h - event-time buckets and the per-batch pre-aggregation.
 *
 * Buckets: each configured granularity cuts time into buckets. Granularities
 * below one day are aligned to the UTC epoch; one day and its multiples are
 * aligned to local midnight in the configured IANA time zone, so a "day" is a
 * calendar day where the organisation works (23 or 25 hours across a DST
 * change). Buckets of k days start on the local days counted in steps of k
 * from Monday 1970-01-05. So a 7d bucket is an ISO 8601 week from Monday 00:00
 * local to the next Monday 00:00, 167 or 169 hours long across a DST change.
 * A rolling window of length L read from granularity g covers the
 * buckets from the one containing (end - L) up to the one containing end.
 *
 * Batch: all behaviours of one batch are added into an in-memory table
 * keyed by (behaviour, scope, granularity, bucket start), each cell carrying a
 * count delta and the distinct contributors seen in the batch. The store then
 * flushes the table in one atomic write. Memory grows to the largest batch
 * seen and is reused: window_batch_reset() frees nothing.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_WINDOW_H
#define ADVOCACY_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "privacy.h"

typedef struct window_clock window_clock;

/*
 * Builds a clock for the granularities and time zone of cfg. Returns NULL
 * with errstr set when the time zone is unknown (checked against the system
 * zoneinfo database). Sets the process-wide TZ environment variable to the
 * zone (an empty or NULL zone means "UTC").
 */
window_clock *window_clock_new(const config *cfg, char *errstr, size_t errstr_size);
void window_clock_free(window_clock *c);

/* Start (ms since epoch) of the bucket of granularity index gran containing t_ms. */
int64_t window_bucket_start(window_clock *c, size_t gran, int64_t t_ms);
/* End (exclusive) of the bucket starting at start_ms. */
int64_t window_bucket_end(window_clock *c, size_t gran, int64_t start_ms);

/*
 * Start and end (exclusive) of the local calendar day containing t_ms, in
 * the clock's time zone, whether or not 1d is a configured granularity.
 * Daily caps count per such day.
 */
int64_t window_local_day_start(window_clock *c, int64_t t_ms);
int64_t window_local_day_end(window_clock *c, int64_t day_start_ms);

/*
 * Writes the starts of the buckets covering the rolling window w ending at
 * end_ms (oldest first) into starts, at most max; returns how many the
 * window needs (which may exceed max).
 */
size_t window_buckets(window_clock *c, const config_window *w, int64_t end_ms,
                      int64_t *starts, size_t max);

/*
 * Returns how long buckets of granularity gran are kept after they end. The
 * coarsest granularity, and any that no rolling window reads, keep
 * windows.retention. A finer one that windows read is kept only as long as
 * the longest of those windows plus two buckets (one for the window's
 * partial first bucket, one for a 25-hour DST day), because nothing reads it
 * after that. Events older than this are not written to that granularity.
 */
int64_t window_keep_ms(const config *cfg, size_t gran);

/*
 * Returns the granularities (bit g for granularity index g) at which the
 * distinct contributors of behaviour b are kept: those of the rolling
 * windows that active KPIs counting b are computed over. Nothing reads
 * contributors anywhere else, so no other HyperLogLog is written.
 */
uint32_t window_contributor_grans(const config *cfg, size_t b);

typedef struct window_cell {
	uint16_t behaviour;
	uint8_t gran;
	bool capped;             /* credits above a daily cap, not in count */
	uint32_t scope;
	int64_t bucket_start_ms;
	int64_t count;           /* net count delta in this batch */
	size_t first_member;     /* into window_batch_members(), after finish */
	size_t n_members;        /* distinct contributors in this batch */
} window_cell;

typedef struct window_batch window_batch;

window_batch *window_batch_new(void);
void window_batch_free(window_batch *b);

/* Empties the batch. The memory of its cells and tables is kept. */
void window_batch_reset(window_batch *b);

/*
 * Adds delta to the cell and, when contributor is not NULL, records the
 * contributor in it (each distinct contributor once per cell). Returns 0, or
 * -1 when out of memory (the batch is then unchanged).
 */
int window_batch_add(window_batch *b, uint16_t behaviour, uint32_t scope,
                     uint8_t gran, int64_t bucket_start_ms, int64_t delta,
                     const pseudonym *contributor);

#define WINDOW_MAX_CREDIT_SCOPES 16

/*
 * The key of one credit's contributor: person, behaviour, granularity,
 * bucket and the scopes credited. A person credited again for the same
 * behaviour and bucket with the same scopes adds no member; a 64-bit key
 * collision would drop one member from the batch (probability about
 * n^2 / 2^65 for n credits). Pseudonyms are HMAC output, so their first
 * bytes are already uniform.
 */
uint64_t window_credit_key(const pseudonym *contributor, uint16_t behaviour,
                           const uint32_t *scopes, size_t n_scopes, uint8_t gran,
                           int64_t bucket_start_ms);

/*
 * One credit of a person to every scope in scopes (at most
 * WINDOW_MAX_CREDIT_SCOPES): adds delta to each of their cells and, when
 * contributor is not NULL, records the contributor in each of them, once
 * per (contributor, behaviour, granularity, bucket, scopes) in the batch:
 * one probe per credit rather than one per scope. Returns 0, or -1 when
 * out of memory (the batch is then unchanged).
 */
int window_batch_credit(window_batch *b, uint16_t behaviour, const uint32_t *scopes,
                        size_t n_scopes, uint8_t gran, int64_t bucket_start_ms,
                        int64_t delta, const pseudonym *contributor);

/*
 * Adds delta to the capped cell of behaviour in every scope: credits a
 * daily cap kept out of the counts (see caps.h). A capped cell is its own
 * cell, next to the counted one, and records no contributor. Returns 0, or
 * -1 when out of memory (the batch is then unchanged).
 */
int window_batch_credit_capped(window_batch *b, uint16_t behaviour, const uint32_t *scopes,
                               size_t n_scopes, uint8_t gran, int64_t bucket_start_ms,
                               int64_t delta);

/* Calls fn with the key of every credit whose contributor the batch records. */
void window_batch_each_credit(const window_batch *b, void (*fn)(uint64_t key, void *opaque),
                              void *opaque);

/*
 * Lays the contributors out per cell. Call it before reading cells and
 * members, and add nothing after it until window_batch_reset(). It frees
 * the batch's entries, so that the members replace them instead of sitting
 * next to them. A second call changes nothing. Returns 0, or -1 when out of
 * memory, and then the batch is unchanged and can be finished later.
 */
int window_batch_finish(window_batch *b);

size_t window_batch_cell_count(const window_batch *b);
const window_cell *window_batch_cell(const window_batch *b, size_t i);
/* Contributors of all cells; a cell's are [first_member, first_member + n_members). */
const pseudonym *window_batch_members(const window_batch *b);
/* Number of behaviour additions since the last reset, for metrics. */
uint64_t window_batch_additions(const window_batch *b);
/* Returns the bytes allocated by the batch (its capacity, not its use). */
size_t window_batch_memory(const window_batch *b);

#endif
