/*
 * app_metrics.h - the daemon's metric families and how they are fed.
 *
 * Owns the advocacyd_* families of the pipeline, Kafka, Redis and the KPI
 * tick in a metrics registry (metrics.h), which the admin server renders at
 * /metrics. Two ways in:
 *
 * - The app pushes what only it observes, once per batch, Redis write or
 *   output record: messages consumed per partition of a written batch,
 *   batch sizes, Redis write latency, KPI updates and escalations.
 * - app_metrics_collect(), called when /metrics is scraped, copies the
 *   counters other modules already keep (pipeline stats, the app's counts
 *   by reason, producer failures) and reads the gauges (connections,
 *   consumer lag, output queue).
 *
 * With admin.kpi_gauges, a scrape also sets advocacyd_kpi_value{kpi,scope}
 * and advocacyd_kpi_index{scope} from the scorecard, unsuppressed scopes
 * only; a scope that turns suppressed disappears from them.
 *
 * Nothing here runs per event. Loop thread only. Labels are topic,
 * partition, adapter, reason, state, client, KPI id and scope name, never a
 * person.
 */
#ifndef ADVOCACY_APP_METRICS_H
#define ADVOCACY_APP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin_live.h"
#include "escalation.h"
#include "kafka.h"
#include "metrics.h"
#include "pipeline.h"
#include "redis_store.h"
#include "scorecard.h"

typedef struct app_metrics app_metrics;

/* What a scrape reads. Any pointer may be NULL while the daemon starts. */
typedef struct app_metrics_sources {
	const pipeline *pipeline;
	kafka_consumer *consumer;
	const kafka_roster *roster_reader;
	const kafka_producer *producer;
	const redis_store *store;
	const escalation *escalation;
	const scorecard *scorecard;     /* for the KPI gauges */
	admin_live_stats live;          /* event streams and history */
	size_t roster_people;
	uint64_t kpi_scopes_suppressed;
	/* Redis batch writes by result. */
	uint64_t batches_applied, batches_stale, batches_fenced, batches_duplicate;
	uint64_t batches_rejected, batch_retries;
	uint64_t batches_pipelined;     /* sent while the one before waited for its reply */
} app_metrics_sources;

/*
 * Registers the families in m, which must outlive the result, and the KPI
 * gauges when kpi_gauges is true. NULL when out of memory.
 */
app_metrics *app_metrics_new(metrics *m, bool kpi_gauges);
void app_metrics_free(app_metrics *am);

/* Counts n messages of one partition whose batch Redis acknowledged. */
void app_metrics_consumed(app_metrics *am, const char *topic, int32_t partition, uint64_t n);

/* Records the number of messages of a polled batch. */
void app_metrics_batch_size(app_metrics *am, size_t messages);

/* Records the time from sending a batch write to Redis until its reply. */
void app_metrics_flush_seconds(app_metrics *am, double seconds);

void app_metrics_kpi_update(app_metrics *am, const char *kpi_id);

/* Sets advocacyd_kpi_suppressed_scopes{reason} from the tick just emitted. */
void app_metrics_kpi_suppressed(app_metrics *am, const kpi_tick *t);

/*
 * Copies one count by reason of the app: outcome "ignored" or
 * "dead_lettered". Dead letters with reason "late" also set the late
 * events counter. Call from the collect callback.
 */
void app_metrics_reason(app_metrics *am, const char *outcome, const char *reason,
                        uint64_t count);

/* Reads every source into the families. Call from the collect callback. */
void app_metrics_collect(app_metrics *am, const app_metrics_sources *src);


#endif
