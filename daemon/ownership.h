/*
 * ownership.h - which input partitions this instance owns, under which token.
 *
 * When the consumer group assigns partitions, they are claimed in Redis
 * first (redis_store_claim): the claim writes a fresh owner token and reads
 * the offsets stored with the window state, and only then does consumption
 * start, at those offsets. Every batch carries the token its messages were
 * read under, and Redis refuses a batch whose token is no longer the
 * partition's owner (a late batch of a partition that moved to another
 * instance). Tokens are "<instance id>.<claim number>", the instance id
 * random per process, so a restarted or second instance never reuses one.
 *
 * A claim that cannot be sent, or gets no reply, is sent again when Redis
 * is back and once a second. Claims of partitions given by one rebalance
 * go in one call, so the eager assignor gets its whole assignment at once.
 *
 * Also tracks, per owned partition, the highest offset seen, so that a
 * batch read again (after a refused write) does not produce its dead
 * letters a second time.
 */
#ifndef ADVOCACY_OWNERSHIP_H
#define ADVOCACY_OWNERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "kafka.h"
#include "redis_store.h"

#define OWNERSHIP_TOKEN_SIZE 40

typedef struct ownership ownership;

ownership *ownership_new(struct event_base *base, const config *cfg, redis_store *store);
void ownership_free(ownership *o);

/* The consumer to start claimed partitions on; set once it exists. */
void ownership_set_consumer(ownership *o, kafka_consumer *c);

/* Rebalance events from the consumer. */
void ownership_assigned(ownership *o, const kafka_offset *parts, size_t n);
void ownership_revoked(ownership *o, const kafka_offset *parts, size_t n);

/* Sends the claims still waiting; call when Redis is back. */
void ownership_claim_waiting(ownership *o);

/* The token of a partition that is claimed and started, else NULL. The
 * topic returned in *topic_out is the config's copy (outlives batches). */
const char *ownership_token(const ownership *o, const char *topic, int32_t partition,
                            const char **topic_out);

/* True when the partition is still owned under token. */
bool ownership_holds(const ownership *o, const char *topic, int32_t partition,
                     const char *token);

/*
 * Claims the partition again after Redis reported another owner token (the
 * group still assigns it to us until a revoke arrives). Consumption
 * then resumes at the stored offset, or at from_offset when Redis has none.
 */
void ownership_reclaim(ownership *o, const char *topic, int32_t partition, const char *token,
                       int64_t from_offset);

/* Returns true when offset was seen before under the current claim, and
 * records it as seen. */
bool ownership_seen_before(ownership *o, const char *topic, int32_t partition, int64_t offset);

/* This process's random instance id (16 hex digits), also used for the escalation lease. */
const char *ownership_instance(const ownership *o);

/* Partitions claimed and started. */
size_t ownership_started(const ownership *o);

#endif
