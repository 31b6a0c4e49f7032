/*
 * governance.h - the governance trail: one "config_applied" record per
 * configuration version applied, on outputs.governance.topic.
 *
 * The applied catalog summary (see catalog.h) and its version live in the
 * Redis hash {P}:governance, shared by every instance. When a config is
 * applied (at start and after a reload), the trail reads that hash, and
 * when it contains another version it diffs the new summary against it and
 * swaps the hash with a compare-and-set script. Only the instance whose
 * swap wins produces the record, keyed by the config version, so two
 * instances starting together record a change once, and a restart with the
 * same config records nothing. The first start against an empty Redis
 * records every KPI and rule as added.
 *
 * Delivery is at least once: the swap stores the record in the hash as
 * "pending", and it is removed only after the broker acknowledged it. A
 * record whose delivery failed, or whose instance crashed before the
 * acknowledgement, is produced again by the next instance that starts or
 * reloads more than 30 s after the swap (with the same key, so a consumer
 * can drop the repeat). Every config applied gets its own record, in
 * order, also when reloads come faster than Redis answers; only when more
 * than 64 wait (Redis away through that many reloads) are the newest
 * recorded as one change, from the last one recorded to the latest.
 *
 * Runs on the loop thread. Retries every second while Redis is away.
 */
#ifndef ADVOCACY_GOVERNANCE_H
#define ADVOCACY_GOVERNANCE_H

#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "kafka.h"
#include "redis_store.h"

typedef struct governance governance;

/* Borrows base, store and producer; copies topic. NULL when out of memory. */
governance *governance_new(struct event_base *base, redis_store *store, kafka_producer *producer,
                           const char *topic);

/* Free after the store: the store's pending callbacks still reach the trail. */
void governance_free(governance *g);

/*
 * Records cfg as applied, asynchronously, after the configs submitted
 * before it; keeps a copy of what it needs, so cfg may be freed
 * afterwards. Returns 0, or -1 when out of memory (logged).
 */
int governance_submit(governance *g, const config *cfg);

/* Records this instance produced (including pending ones produced again). */
uint64_t governance_records(const governance *g);

#endif
