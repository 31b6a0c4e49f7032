/*
 * kafka.h - the daemon's librdkafka adapter: input consumer, roster reader,
 * output producer.
 *
 * - kafka_consumer: high-level consumer in the configured group, subscribed
 *   to the input topics, auto commit off. Its queue's file descriptor wakes
 *   the libevent loop; the caller polls batches without blocking and commits
 *   explicit offsets once Redis has acknowledged them (Kafka's committed
 *   offsets serve lag monitoring; Redis holds the offsets that count).
 *   Eager and cooperative assignors are both handled; assigned partitions
 *   wait until the caller has claimed them and starts them.
 * - kafka_roster: every instance reads the whole roster topic from the
 *   beginning (assign, no group commits) and keeps following it.
 * - kafka_producer: idempotent producer for the KPI, escalation and DLQ
 *   topics; delivery failures are logged and counted.
 *
 * kafka.properties from the config go to all three clients as they are,
 * so SASL and TLS settings work unchanged. Everything runs on the loop
 * thread; librdkafka's own log lines are routed to the loop too.
 */
#ifndef ADVOCACY_KAFKA_H
#define ADVOCACY_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"

/* A consumed message, valid only during the callback that receives it. */
typedef struct kafka_message {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int64_t timestamp_ms;        /* -1 when the broker gave none */
	const void *key;             /* NULL when absent */
	size_t key_len;
	const void *payload;         /* NULL for a tombstone */
	size_t len;
	input_format format;         /* of the input topic (consumer only) */
} kafka_message;

typedef void (*kafka_message_cb)(const kafka_message *m, void *opaque);
typedef void (*kafka_wake_cb)(void *opaque);

typedef struct kafka_offset {
	const char *topic;
	int32_t partition;
	int64_t offset;              /* next offset to consume; -1: the committed one */
} kafka_offset;

/* Partitions of a rebalance event, valid during the call only. */
typedef void (*kafka_partitions_cb)(const kafka_offset *parts, size_t n, void *opaque);

/* ------------------------------------------------------------ consumer */

typedef struct kafka_consumer kafka_consumer;

typedef struct kafka_consumer_callbacks {
	kafka_wake_cb wake;          /* messages may be waiting */
	kafka_partitions_cb on_assign; /* the group gave these; start them when claimed */
	kafka_partitions_cb on_revoke; /* these are gone (revoked or lost) */
	void *opaque;
} kafka_consumer_callbacks;

/*
 * Subscribes at once. Partitions the group assigns are not consumed until
 * the caller starts them with kafka_consumer_start_at(). The consumer
 * prefetches at most kafka.max_prefetch_kbytes.
 */
kafka_consumer *kafka_consumer_new(struct event_base *base, const config *cfg,
                                   const kafka_consumer_callbacks *cbs,
                                   char *errstr, size_t errstr_size);

/* Leaves the group (serving the final revoke) and frees. */
void kafka_consumer_free(kafka_consumer *c);

/* Calls cb for up to max waiting messages without blocking; returns how many. */
size_t kafka_consumer_poll(kafka_consumer *c, size_t max, kafka_message_cb cb, void *opaque);

/* Commits the offsets, asynchronously unless sync. Returns 0 or -1 (logged). */
int kafka_consumer_commit(kafka_consumer *c, const kafka_offset *offsets, size_t n, bool sync);

/* Moves consumption of the assigned partitions back or forward. Returns 0 or -1. */
int kafka_consumer_seek(kafka_consumer *c, const kafka_offset *offsets, size_t n);

/*
 * Starts consuming each partition at its offset (-1: the committed offset,
 * else auto.offset.reset): partitions assigned but not started yet are
 * started, started ones seek there. Returns 0 or -1 (logged).
 */
int kafka_consumer_start_at(kafka_consumer *c, const kafka_offset *offsets, size_t n);

/* Number of partitions currently assigned to this instance. */
size_t kafka_consumer_assigned(const kafka_consumer *c);

/*
 * True when partitions are assigned and the consumer's position on each has
 * reached the high watermark last reported by the broker (no fetch is sent:
 * the values are librdkafka's cached ones).
 */
bool kafka_consumer_caught_up(kafka_consumer *c);

/* ------------------------------------------------------------ roster */

typedef struct kafka_roster kafka_roster;

/* Assigns every partition of the roster topic from the beginning. */
kafka_roster *kafka_roster_new(struct event_base *base, const config *cfg,
                               kafka_message_cb cb, void *opaque,
                               char *errstr, size_t errstr_size);
void kafka_roster_free(kafka_roster *r);

/*
 * Reads until every partition has reached its end once (then the roster is
 * loaded) or timeout_ms passes. Blocks: call it at start, before the loop
 * runs. Returns 0 when loaded, -1 on timeout. Afterwards a loop timer keeps
 * reading updates.
 */
int kafka_roster_load(kafka_roster *r, int timeout_ms);
bool kafka_roster_loaded(const kafka_roster *r);

/* ------------------------------------------------------------ producer */

typedef struct kafka_producer kafka_producer;

typedef struct kafka_header {
	const char *name;
	const char *value;
} kafka_header;

typedef struct kafka_producer_stats {
	uint64_t sent;               /* accepted by librdkafka */
	uint64_t delivered;          /* acknowledged by the broker */
	uint64_t failed;             /* rejected at send or failed at delivery */
} kafka_producer_stats;

kafka_producer *kafka_producer_new(struct event_base *base, const config *cfg,
                                   char *errstr, size_t errstr_size);

/*
 * Waits up to timeout_ms for every queued record to be delivered (or to
 * fail). Returns 0 when none is left, -1 when some still wait.
 */
int kafka_producer_flush(kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms for outstanding deliveries, then frees. */
void kafka_producer_free(kafka_producer *p, int timeout_ms);

/*
 * Queues a copy of the record. Returns 0, or -1 (logged and counted as
 * failed). When in_flight is not NULL it is incremented here and
 * decremented when the delivery report arrives, delivered or failed.
 */
int kafka_producer_send(kafka_producer *p, const char *topic, const void *key, size_t key_len,
                        const void *value, size_t len, const kafka_header *headers,
                        size_t n_headers, size_t *in_flight);

const kafka_producer_stats *kafka_producer_get_stats(const kafka_producer *p);

/* Records queued and not yet delivered or failed (librdkafka's out queue). */
size_t kafka_producer_backlog(const kafka_producer *p);

#endif
