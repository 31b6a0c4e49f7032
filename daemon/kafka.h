/*
 * kafka.h - the daemon's librdkafka adapter: input consumer, roster reader,
 * output producer.
 *
 * - kafka_consumer: high-level consumer in the configured group, subscribed
 *   to the input topics, auto commit off. Its queues (the consumer queue
 *   and one per assigned partition) wake the libevent loop through a pipe;
 *   the caller polls batches without blocking and commits
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
	size_t input;                /* index of the topic in kafka.inputs; SIZE_MAX for others */
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
 * copies what librdkafka fetches into an input buffer of
 * kafka.max_prefetch_kbytes whenever it is woken, and polls hand messages
 * out of it.
 */
kafka_consumer *kafka_consumer_new(struct event_base *base, const config *cfg,
                                   const kafka_consumer_callbacks *cbs,
                                   char *errstr, size_t errstr_size);

/* Leaves the group (serving the final revoke) and frees. */
void kafka_consumer_free(kafka_consumer *c);

/*
 * Calls cb for up to max waiting messages without blocking, in offset
 * order within each partition; returns how many.
 */
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
 * True when partitions are assigned, the input buffer is empty and the
 * position on each partition has reached the high watermark last reported
 * by the broker (no fetch is sent: the values are librdkafka's cached ones).
 */
bool kafka_consumer_caught_up(kafka_consumer *c);

typedef void (*kafka_lag_cb)(const char *topic, int32_t partition, int64_t lag, void *opaque);

/*
 * Calls cb for each assigned partition whose position and high watermark
 * are known, with the lag: the high watermark minus the next offset the
 * caller gets, so buffered messages count. Uses librdkafka's cached
 * watermarks from the last fetch, so no
 * request is sent and the value may be one fetch old.
 */
void kafka_consumer_each_lag(kafka_consumer *c, kafka_lag_cb cb, void *opaque);

/*
 * Fetch turns (see kafka.c): partitions paused now while others with a
 * backlog take their turn, and turns begun by partitions that waited.
 */
size_t kafka_consumer_parked(const kafka_consumer *c);
uint64_t kafka_consumer_fetch_turns(const kafka_consumer *c);

/*
 * Returns the broker connection state of a client: 1 while one of its
 * broker connections is up, 0 when none is, -1 before the first statistics.
 * 0 comes from librdkafka's all-brokers-down error or from statistics that
 * show no broker up. Statistics arrive every 5 s unless kafka.properties
 * sets statistics.interval.ms, and 0 there turns them off.
 */
int kafka_consumer_connected(const kafka_consumer *c);

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
int kafka_roster_connected(const kafka_roster *r);   /* as kafka_consumer_connected */

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

/* Records that failed for one output topic, at send or at delivery. */
typedef struct kafka_topic_count {
	char topic[256];
	uint64_t count;
} kafka_topic_count;

kafka_producer *kafka_producer_new(struct event_base *base, const config *cfg,
                                   char *errstr, size_t errstr_size);

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

/*
 * Queues a copy of the record for one partition of topic, without headers.
 * value NULL with len 0 is a tombstone. Returns 0, or -1 (logged, counted).
 */
int kafka_producer_send_to(kafka_producer *p, const char *topic, int32_t partition,
                           const void *key, size_t key_len, const void *value, size_t len);

/*
 * Reads the partition count of topic from the broker (blocks up to 10 s).
 * Returns it, or -1 with errstr saying what failed; config_key names the
 * setting that chose the topic, for the message.
 */
int kafka_producer_partitions(kafka_producer *p, const char *topic, const char *config_key,
                              char *errstr, size_t errstr_size);

/*
 * Blocks until every queued record is delivered or failed, serving delivery
 * reports, for up to timeout_ms. Returns 0, or -1 when records are still
 * outstanding. Check kafka_producer_get_stats() for failures.
 */
int kafka_producer_flush(kafka_producer *p, int timeout_ms);

const kafka_producer_stats *kafka_producer_get_stats(const kafka_producer *p);

/* The failure counts per topic (at most 16 topics); returns how many. */
size_t kafka_producer_failures(const kafka_producer *p, const kafka_topic_count **counts);

int kafka_producer_connected(const kafka_producer *p);   /* as kafka_consumer_connected */

/* Records queued and not yet delivered or failed (librdkafka's out queue). */
size_t kafka_producer_backlog(const kafka_producer *p);

#endif
