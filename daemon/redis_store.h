/*
 * redis_store.h - window state in Redis: atomic batch writes and tick reads.
 *
 * The one module that speaks to Redis (hiredis 0.14 async API on the daemon's
 * libevent loop). Keys, all in one Redis Cluster hash slot through the hash
 * tag {<prefix>}:
 *
 *   {P}:n:<granularity>:<bucket start, epoch s>             hash
 *       field "<behaviour>|<scope>" -> net behaviour count, and
 *       "capped:<behaviour>|<scope>" -> credits above a daily cap
 *   {P}:u:<granularity>:<bucket start>:<behaviour>|<scope>  HyperLogLog
 *       of contributor pseudonyms (32 hex digits)
 *   {P}:offsets                                             hash
 *       field "<group>|<topic>|<partition>" -> next offset to consume
 *   {P}:owners                                              hash
 *       same fields -> owner token of the instance that claimed the partition
 *   {P}:governance                                          hash
 *       the applied catalog summary: "version", "pending" and "pending_at"
 *       (the governance record until it is delivered, and when it was
 *       written, epoch ms) and one field per KPI ("k:<id>")
 *       and threshold rule ("r:<id>"), see catalog.h
 *   {P}:d:<UTC hour start, epoch s>                         set
 *       8-byte hashes of the event ids counted with event time in that hour
 *       (see dedup.h); kept the dedup horizon past the hour or the last
 *       write, whichever is later
 *   {P}:p:<pseudonym>:<record>                              any type
 *       reserved for records about one person (consent), keyed by the
 *       pseudonym of the employee id (32 hex digits); nothing writes there
 *       yet. Erasure deletes a person's keys in this space.
 *   {P}:caps:<local day start, epoch s>                     hash
 *       field <pseudonym> -> "<behaviour>=<n> ..." credits counted under
 *       daily caps that day (see caps.h); expires windows.retention after
 *       the day ends. One hash per day rather than one key per person
 *       keeps the batch write at a few commands per day. Erasure removes
 *       the person's field from every such hash.
 *
 * Bucket keys expire at bucket end + window_keep_ms() of their granularity.
 *
 * On assignment the instance claims its partitions (redis_store_claim): the
 * owners hash gets a fresh token and the reply gives the stored offsets to
 * resume from. A batch is then written by one Lua script call (see
 * redis_scripts.h) that writes nothing when a partition of the batch is now
 * claimed by another token (fenced: the partition moved while the batch was
 * on its way), when Redis is already past one of its offsets (stale), when
 * one of its event ids was counted before (duplicate) or when a key holds
 * something unexpected (rejected); otherwise it applies every count,
 * HyperLogLog, event id, expiry and offset at once. One slot for everything
 * keeps that atomic on Redis Cluster too, at the cost of putting all window
 * state on one node.
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

#include "caps.h"
#include "config.h"
#include "dedup.h"
#include "headcount.h"
#include "kpi.h"
#include "roster.h"
#include "window.h"

typedef struct redis_store redis_store;

#define REDIS_FLUSHES_IN_FLIGHT 2

/* Progress of one partition within a batch. */
typedef struct redis_partition_offsets {
	const char *topic;
	int32_t partition;
	const char *owner_token; /* the claim the batch was read under */
	int64_t first_offset;    /* offset of the batch's first message */
	int64_t next_offset;     /* offset after the batch's last message */
	int64_t stored_offset;   /* after STALE or a claim: what Redis holds, or -1 */
	bool fenced;             /* after FENCED: claimed by another token */
} redis_partition_offsets;

typedef enum redis_flush_status {
	REDIS_FLUSH_APPLIED,     /* written and acknowledged */
	REDIS_FLUSH_STALE,       /* not written: Redis is already past some partition */
	REDIS_FLUSH_FENCED,      /* not written: some partition has another owner */
	REDIS_FLUSH_DUPLICATE,   /* not written: some event ids were counted before */
	REDIS_FLUSH_REJECTED,    /* not written: Redis rejected a command (see error) */
	REDIS_FLUSH_CAPS_CHANGED, /* not written: stored daily counts change a cap decision */
	REDIS_FLUSH_UNORDERED,   /* not written: the batch sent before it was not applied */
	REDIS_FLUSH_FAILED,      /* not acknowledged (connection lost, OOM...): retry */
} redis_flush_status;

/* What one batch write carries; everything must stay untouched until the callback. */
typedef struct redis_flush_request {
	const window_batch *batch;     /* finished (window_batch_finish) */
	const dedup_batch *ids;        /* finished (dedup_batch_finish) */
	const caps_batch *caps;        /* daily cap decisions; NULL: none */
	const roster *roster;
	window_clock *clock;
	redis_partition_offsets *parts;
	size_t n_parts;
	/* The partitions of the batch sent before this one and still waiting
	 * for its reply; none (NULL, 0) when there is no such batch. The write
	 * is UNORDERED unless Redis stores each one's next_offset. */
	const redis_partition_offsets *after;
	size_t n_after;
	int64_t now_ms;                /* wall clock, for the id sets' expiry */
} redis_flush_request;

typedef void (*redis_store_flush_cb)(redis_flush_status status, void *opaque);
typedef void (*redis_store_claim_cb)(int status, redis_partition_offsets *parts, size_t n,
                                     void *opaque);
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
 * Sends the batch, its event ids and the partitions' offsets in one atomic
 * write. Before cb runs, the parts' stored_offset (STALE) or fenced (FENCED)
 * fields are filled. Up to REDIS_FLUSHES_IN_FLIGHT writes may wait for their
 * replies, which come, and call their cb, in the order the writes were sent;
 * a second one names the first one's partitions in req->after. Returns 0,
 * or -1 when not connected, when that many writes wait, or when the write
 * cannot be built (cb is then not called).
 */
int redis_store_flush(redis_store *s, const redis_flush_request *req, redis_store_flush_cb cb,
                      void *opaque);

/* After REDIS_FLUSH_DUPLICATE, inside cb: the ids Redis already holds. */
const uint64_t *redis_store_flush_duplicates(const redis_store *s, size_t *n);

/*
 * After REDIS_FLUSH_CAPS_CHANGED or REDIS_FLUSH_APPLIED, inside cb: *n
 * pairs of (index into the caps batch's entries, value Redis stored before
 * the write), as a flat array. CAPS_CHANGED lists the entries whose
 * decision the stored value changes; APPLIED lists those whose stored
 * value differed from their prior with the same decision.
 */
const int64_t *redis_store_flush_caps_stored(const redis_store *s, size_t *n);

/* After REDIS_FLUSH_REJECTED, inside cb: Redis's error message. */
const char *redis_store_flush_error(const redis_store *s);

/*
 * Claims parts (topic and partition) for token: batches read under an
 * older token are fenced from now on. cb gets status 0 with each part's
 * stored_offset filled (-1: nothing stored yet), or -1 when Redis failed
 * meanwhile. parts and token are copied. Returns 0, or -1 when not connected.
 */
int redis_store_claim(redis_store *s, const char *token, const redis_partition_offsets *parts,
                      size_t n_parts, redis_store_claim_cb cb, void *opaque);

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

/*
 * Writes the headcount history (README "Headcount history"): one EVAL that
 * replaces, for each granularity a rolling window reads, the hash of the
 * bucket holding now_ms by the roster's current headcount of every scope.
 * Then, when q contains departures and none are in flight, one more EVAL that
 * counts up to REDIS_DEPARTURES_PER_CALL of them, each once; they are
 * consumed from q when Redis applied them and stay for the next call when
 * it failed. Departures older than windows.retention are dropped unwritten.
 * q must stay valid until the store is freed. Call it before
 * redis_store_read_tick() so that the tick reads the snapshot. Returns 0,
 * or -1 when not connected or out of memory.
 */
int redis_store_write_headcounts(redis_store *s, const roster *r, window_clock *clock,
                                 int64_t now_ms, headcount_departures *q);

typedef void (*redis_store_erase_cb)(int status, uint64_t removed, const char *error,
                                     void *opaque);

/*
 * Deletes every key of the person with this pseudonym (32 hex digits) in
 * the per-person space {P}:p:<pseudonym>:*: SCAN MATCH with COUNT 1000,
 * then UNLINK of what each step found, until the scan ends. Then removes
 * the person's field from every daily cap hash {P}:caps:* the same way,
 * with one script call per step. SCAN visits the whole database twice, so
 * this takes two round trips per 1000 keys in it. cb gets status 0 and the
 * number of keys and fields removed, or -1 and Redis's error. A
 * dropped connection is an error too, and running the erasure again is
 * safe. cb may run before this returns when a command cannot be sent.
 * Returns 0, or -1 when not connected (cb is then not called).
 */
int redis_store_erase_person(redis_store *s, const char *pseudonym_hex, redis_store_erase_cb cb,
                             void *opaque);

/*
 * Makes the store read cfg from now on (a configuration reload). Call it
 * only while no batch write and no tick read is in flight. The keys and
 * connection settings it uses are restart-only, so they do not change.
 */
void redis_store_set_config(redis_store *s, const config *cfg);

/* One field and value of a hash, valid during the callback only. */
typedef struct redis_field {
	const char *name;
	const char *value;
} redis_field;

typedef void (*redis_store_governance_read_cb)(int status, const redis_field *fields, size_t n,
                                               void *opaque);
typedef void (*redis_store_governance_swap_cb)(int status, const char *stored_version,
                                               void *opaque);

/*
 * Reads the governance hash. cb gets 0 and its fields (none when the key
 * does not exist), or -1 when Redis failed. Returns 0, or -1 when not
 * connected (cb is then not called).
 */
int redis_store_governance_read(redis_store *s, redis_store_governance_read_cb cb, void *opaque);

/*
 * Replaces the governance hash by version, record (kept as "pending",
 * with now_ms as "pending_at") and fields when it still contains expected
 * ("" for none). cb gets 1 (swapped),
 * 0 with the version stored instead, or -1 when Redis failed. Arguments
 * are copied. Returns 0, or -1 when not connected or out of memory.
 */
int redis_store_governance_swap(redis_store *s, const char *expected, const char *version,
                                const char *record, int64_t now_ms, const redis_field *fields,
                                size_t n, redis_store_governance_swap_cb cb, void *opaque);

/* Drops "pending" when the governance hash still contains version; failures are logged. */
int redis_store_governance_clear(redis_store *s, const char *version);

struct redisReply;

/* A reply of redis_store_command, valid during the call only; NULL when the
 * connection failed before the reply came. */
typedef void (*redis_store_reply_cb)(const struct redisReply *reply, void *opaque);

/*
 * Sends one command of argc binary-safe arguments, for modules that own
 * keys of their own (escalation state). Arguments are copied. cb may be
 * NULL. Returns 0, or -1 when not connected (cb is then not called).
 */
int redis_store_command(redis_store *s, int argc, const char **argv, const size_t *lens,
                        redis_store_reply_cb cb, void *opaque);

/* Redis commands sent since start (one script call counts as one), for metrics. */
uint64_t redis_store_commands_sent(const redis_store *s);

#endif
