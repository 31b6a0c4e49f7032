/*
 * escalation.h - escalation rules evaluated by exactly one instance, their
 * state kept in Redis and their events delivered to Kafka.
 *
 * The alert engine (processors/alert.h) makes the decisions. This module
 * makes them durable and single. Keys, in the hash slot of the prefix:
 *
 *   {P}:alerts:lease   string "<instance id> <fence>", the evaluator's
 *                      lease, expires after alerts.lease_ttl
 *   {P}:alerts:fence   counter, incremented by each new lease holder
 *   {P}:alerts:state   hash: dedup key -> engine state (alert_export_dirty)
 *   {P}:alerts:outbox  hash: event id -> Kafka record not yet acknowledged
 *
 * Every instance requests the lease every third of its time to live, and
 * the holder renews it that way. A new holder reads the state and the
 * outbox, sends the outbox again and evaluates from then on. One Lua script
 * writes each tick's state changes and events, after checking the lease
 * (fencing). A former holder that lost the lease therefore writes nothing
 * and drops its state. Events go to Kafka only after Redis stored them, and
 * leave the outbox once the broker acknowledged them. So a crash loses no
 * event. An event whose delivery the crash left unconfirmed is sent again
 * with the same CloudEvents id: delivery is at least once, and consumers
 * drop repeated ids.
 *
 * When a write fails, the engine's state is dropped and read again from
 * Redis. Redis then contains the last state whose events were kept, and the
 * next tick decides again from there.
 *
 * Runs on the event loop thread.
 */
#ifndef ADVOCACY_ESCALATION_H
#define ADVOCACY_ESCALATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "../processors/alert.h"
#include "../processors/encode.h"
#include "config.h"
#include "kafka.h"
#include "redis_store.h"

typedef struct escalation escalation;

/* Called for each event the engine decides, before it is written (logs, metrics). */
typedef void (*escalation_event_cb)(const alert_event *e, void *opaque);

typedef struct escalation_deps {
	struct event_base *base;
	const config *cfg;          /* borrowed until escalation_reconfigure */
	redis_store *store;
	kafka_producer *producer;
	encoder *encoder;
	const char *instance;       /* unique per process, copied */
	escalation_event_cb on_event;
	void *opaque;
} escalation_deps;

escalation *escalation_new(const escalation_deps *d);
void escalation_free(escalation *x);

/* Asks for the lease now (Redis is back), not at the next timer. */
void escalation_poke(escalation *x);

/* True when this instance may evaluate the coming tick: it owns the lease,
 * has read the state, and no write is in flight. */
bool escalation_ready(const escalation *x);

/* A tick: begin, one observe per KPI update, end (which writes the result). */
void escalation_tick_begin(escalation *x, int64_t now_ms);
void escalation_observe(escalation *x, const kpi_update *u);
/* One bias audit record of the tick, between begin and end (see alert_observe_bias). */
void escalation_observe_bias(escalation *x, const bias_record *r);
void escalation_tick_end(escalation *x);

/* Applies a reload and resolves the alerts that next drops (see alert_reconfigure). */
void escalation_reconfigure(escalation *x, const config *next, int64_t now_ms);

/*
 * Stops evaluating, waits for the write and deliveries in flight, clears
 * the delivered events from the outbox and gives the lease up, so that
 * another instance takes over at once. Returns true when that is done
 * already. Otherwise returns false and calls done later, unless the loop
 * stops first.
 */
bool escalation_stop(escalation *x, void (*done)(void *), void *opaque);

/* True while this instance owns the lease. */
bool escalation_leader(const escalation *x);

/* Returns the number of alerts firing on the lease holder, 0 on other instances. */
size_t escalation_firing(const escalation *x);

/* Events written to the outbox by state (see alert_state), and sent again after a takeover. */
uint64_t escalation_written(const escalation *x, alert_state s);
uint64_t escalation_resent(const escalation *x);

#endif
