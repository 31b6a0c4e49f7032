/*
 * app_metrics.c - the daemon's metric families (see app_metrics.h).
 *
 * Series without labels, or with labels known at start (adapter, client,
 * state, result), are resolved once in app_metrics_new(). Series keyed by
 * topic and partition are looked up per batch and partition, by reason and
 * KPI id per scrape or per KPI update: never per event.
 *
 * Counters copied at scrape time (metrics_set) follow counts that other
 * modules keep since start, so they only grow, as Prometheus counters must.
 */
#include "app_metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"

/* Batch sizes in messages, up to well past kafka.batch_max_messages' default 10000. */
static const double app_metrics_batch_bounds[] = {
	1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
};
/* Redis write latency in seconds, from a local Redis (sub-ms) to an overloaded one. */
static const double app_metrics_flush_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

#define APP_METRICS_N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const app_metrics_adapters[INPUT_FORMAT_COUNT] = {
	"avro", "slack", "graph", "greenhouse", "xapi", "typeform", "viva", "analytics", "social",
};
static const char *const app_metrics_clients[] = { "consumer", "roster", "producer" };
static const char *const app_metrics_results[] = {
	"applied", "stale", "fenced", "duplicate", "rejected", "failed",
};

struct app_metrics {
	metrics_family *consumed;        /* topic, partition */
	metrics_family *ignored;         /* reason */
	metrics_family *dead_lettered;   /* reason */
	metrics_family *lag;             /* topic, partition */
	metrics_series *parked;          /* partitions waiting for a fetch turn */
	metrics_series *fetch_turns;
	metrics_family *produce_failures; /* topic */
	metrics_family *kpi_updates;     /* kpi */
	metrics_family *kpi_value;       /* kpi, scope; NULL without admin.kpi_gauges */
	metrics_family *kpi_index;       /* scope; NULL without admin.kpi_gauges */

	metrics_series *messages;
	metrics_series *decoded[INPUT_FORMAT_COUNT];
	metrics_series *late;
	metrics_series *batch_size;
	metrics_series *flush_seconds;
	metrics_series *batches[APP_METRICS_N(app_metrics_results)];
	metrics_series *batches_pipelined;
	metrics_series *redis_connected;
	metrics_series *kafka_connected[APP_METRICS_N(app_metrics_clients)];
	metrics_series *output_queue;
	metrics_series *scopes_suppressed;
	metrics_series *escalations[ALERT_STATE_COUNT];
	metrics_series *escalations_resent;
	metrics_series *escalation_leader;
	metrics_series *escalations_firing;
	metrics_series *roster_people;
	metrics_series *stream_clients;
	metrics_series *streams_opened;
	metrics_series *streams_rejected;
	metrics_series *streams_dropped;
	metrics_series *history_series;
	metrics_series *history_skipped;
	metrics_series *suppressed_by[SUPPRESS_REASON_COUNT]; /* [SUPPRESS_NONE] unused */
};

/* ---------------------------------------------------------------- families */

static void app_metrics_input_families(app_metrics *am, metrics *m)
{
	metrics_family *f;

	am->consumed = metrics_counter_new(m, "advocacyd_messages_consumed_total",
		"Input messages whose batch was written to Redis with its offsets, by topic "
		"and partition.", "topic", "partition", NULL);
	f = metrics_counter_new(m, "advocacyd_messages_processed_total", "Input messages run "
		"through decoding; a batch read again after a refused write counts again.", NULL);
	am->messages = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_events_decoded_total", "Input messages decoded "
		"into an event, by input adapter; a batch read again counts again.", "adapter",
		NULL);
	for (size_t i = 0; i < INPUT_FORMAT_COUNT; i++)
		am->decoded[i] = metrics_series_get(f, app_metrics_adapters[i]);
	am->ignored = metrics_counter_new(m, "advocacyd_messages_ignored_total",
		"Input messages that carry no behaviour, by reason, counted once their batch is "
		"written.", "reason", NULL);
	am->dead_lettered = metrics_counter_new(m, "advocacyd_messages_dead_lettered_total",
		"Messages sent to the dead-letter topic, by reason.", "reason", NULL);
	f = metrics_counter_new(m, "advocacyd_late_events_total", "Events older than "
		"windows.allowed_lateness, dead-lettered with reason late.", NULL);
	am->late = metrics_series_get(f);
	am->lag = metrics_gauge_new(m, "advocacyd_consumer_lag_messages", "Messages between "
		"the next offset to read and the high watermark, per assigned partition.",
		"topic", "partition", NULL);
	f = metrics_gauge_new(m, "advocacyd_consumer_partitions_parked", "Assigned partitions "
		"paused while others with a backlog take their fetch turn.", NULL);
	am->parked = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_consumer_fetch_turns_total", "Fetch turns begun "
		"by partitions that had waited for one.", NULL);
	am->fetch_turns = metrics_series_get(f);
}

static void app_metrics_batch_families(app_metrics *am, metrics *m)
{
	metrics_family *f;

	f = metrics_histogram_new(m, "advocacyd_batch_messages", "Messages per polled batch.",
		app_metrics_batch_bounds, APP_METRICS_N(app_metrics_batch_bounds), NULL);
	am->batch_size = metrics_series_get(f);
	f = metrics_histogram_new(m, "advocacyd_redis_flush_duration_seconds", "Time from "
		"sending one batch write to Redis until Redis replied.", app_metrics_flush_bounds,
		APP_METRICS_N(app_metrics_flush_bounds), NULL);
	am->flush_seconds = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_redis_batches_total", "Batch writes to Redis by "
		"result: applied; stale, fenced or duplicate (read again); rejected by Redis; "
		"failed (retried).", "result", NULL);
	for (size_t i = 0; i < APP_METRICS_N(app_metrics_results); i++)
		am->batches[i] = metrics_series_get(f, app_metrics_results[i]);
	f = metrics_counter_new(m, "advocacyd_redis_batches_pipelined_total", "Batch writes "
		"sent to Redis while the one before waited for its reply.", NULL);
	am->batches_pipelined = metrics_series_get(f);
}

static void app_metrics_link_families(app_metrics *am, metrics *m)
{
	metrics_family *f;

	f = metrics_gauge_new(m, "advocacyd_redis_connected",
		"1 while the connection to Redis is up, else 0.", NULL);
	am->redis_connected = metrics_series_get(f);
	f = metrics_gauge_new(m, "advocacyd_kafka_connected", "1 while a broker connection "
		"of the client is up, 0 when none is, -1 before librdkafka's first statistics.",
		"client", NULL);
	for (size_t i = 0; i < APP_METRICS_N(app_metrics_clients); i++)
		am->kafka_connected[i] = metrics_series_get(f, app_metrics_clients[i]);
	am->produce_failures = metrics_counter_new(m, "advocacyd_produce_failures_total",
		"Output records that could not be queued or whose delivery failed, by topic.",
		"topic", NULL);
	f = metrics_gauge_new(m, "advocacyd_output_queue_messages",
		"Output records queued and not yet delivered.", NULL);
	am->output_queue = metrics_series_get(f);
}

static void app_metrics_kpi_families(app_metrics *am, metrics *m)
{
	metrics_family *f;

	am->kpi_updates = metrics_counter_new(m, "advocacyd_kpi_updates_total",
		"KPI updates produced, by KPI id.", "kpi", NULL);
	f = metrics_counter_new(m, "advocacyd_kpi_scopes_suppressed_total", "(KPI, scope) "
		"pairs left out of ticks, for either reason of advocacyd_kpi_suppressed_scopes.",
		NULL);
	am->scopes_suppressed = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_escalations_total", "Escalation events written "
		"to the outbox by this instance, by state: firing, resolved, repeat, escalated, "
		"storm.", "state", NULL);
	for (int s = 0; s < ALERT_STATE_COUNT; s++)
		am->escalations[s] = metrics_series_get(f, alert_state_name((alert_state)s));
	f = metrics_counter_new(m, "advocacyd_escalations_resent_total", "Outbox events sent "
		"again after taking the escalation lease over (their delivery was not confirmed).",
		NULL);
	am->escalations_resent = metrics_series_get(f);
	f = metrics_gauge_new(m, "advocacyd_escalation_leader", "1 while this instance holds "
		"the escalation lease and evaluates the rules.", NULL);
	am->escalation_leader = metrics_series_get(f);
	f = metrics_gauge_new(m, "advocacyd_escalations_firing", "Alerts firing, as known to the "
		"lease holder (0 on other instances).", NULL);
	am->escalations_firing = metrics_series_get(f);
	f = metrics_gauge_new(m, "advocacyd_roster_people", "People in the roster.", NULL);
	am->roster_people = metrics_series_get(f);
}

static void app_metrics_live_families(app_metrics *am, metrics *m)
{
	metrics_family *f;

	f = metrics_gauge_new(m, "advocacyd_stream_clients", "Clients connected to the event "
		"stream GET /api/stream.", NULL);
	am->stream_clients = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_stream_clients_opened_total", "Event streams "
		"opened.", NULL);
	am->streams_opened = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_stream_clients_rejected_total", "Event stream "
		"requests answered 503 because every stream slot was taken.", NULL);
	am->streams_rejected = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_stream_clients_dropped_total", "Event streams "
		"closed with data still unsent because the client did not read.", NULL);
	am->streams_dropped = metrics_series_get(f);
	f = metrics_gauge_new(m, "advocacyd_kpi_history_series", "(KPI, scope) series kept for "
		"GET /api/history.", NULL);
	am->history_series = metrics_series_get(f);
	f = metrics_counter_new(m, "advocacyd_kpi_history_skipped_total", "KPI updates not "
		"kept for GET /api/history because the history was full.", NULL);
	am->history_skipped = metrics_series_get(f);
}

static void app_metrics_gauge_families(app_metrics *am, metrics *m)
{
	am->kpi_value = metrics_gauge_new(m, "advocacyd_kpi_value", "Latest value of each KPI "
		"per scope; suppressed scopes are left out.", "kpi", "scope", NULL);
	am->kpi_index = metrics_gauge_new(m, "advocacyd_kpi_index", "Composite advocacy index "
		"per scope, 0 to 1; suppressed scopes are left out.", "scope", NULL);
}

/* True when every series resolved at start exists. */
static bool app_metrics_complete(const app_metrics *am)
{
	bool ok = am->consumed && am->ignored && am->dead_lettered && am->lag &&
	          am->produce_failures && am->kpi_updates && am->messages && am->late &&
	          am->batch_size && am->flush_seconds && am->redis_connected &&
	          am->output_queue && am->scopes_suppressed && am->escalations_resent &&
	          am->escalation_leader && am->escalations_firing && am->roster_people &&
	          am->stream_clients && am->streams_opened && am->streams_rejected &&
	          am->streams_dropped && am->history_series && am->history_skipped;

	for (size_t i = 0; i < INPUT_FORMAT_COUNT; i++)
		ok = ok && am->decoded[i];
	for (size_t i = 0; i < APP_METRICS_N(app_metrics_results); i++)
		ok = ok && am->batches[i];
	ok = ok && am->batches_pipelined;
	for (size_t i = 0; i < ALERT_STATE_COUNT; i++)
		ok = ok && am->escalations[i];
	for (size_t i = 0; i < APP_METRICS_N(app_metrics_clients); i++)
		ok = ok && am->kafka_connected[i];
	return ok;
}

/* advocacyd_kpi_suppressed_scopes{reason}; returns -1 when out of memory. */
static int app_metrics_suppression_family(app_metrics *am, metrics *m)
{
	metrics_family *f = metrics_gauge_new(m, "advocacyd_kpi_suppressed_scopes",
		"(KPI, scope) pairs without a figure in the latest tick, by reason: small_group "
		"(below privacy.min_group_size, or privacy.min_respondents for eNPS) or sibling "
		"(hidden so that a parent minus its other children cannot reveal a small one).",
		"reason", NULL);

	for (int r = SUPPRESS_SMALL_GROUP; r < SUPPRESS_REASON_COUNT; r++) {
		am->suppressed_by[r] = f ? metrics_series_get(f, suppress_reason_name(r)) : NULL;
		if (!am->suppressed_by[r])
			return -1;
	}
	return 0;
}

app_metrics *app_metrics_new(metrics *m, bool kpi_gauges)
{
	app_metrics *am = calloc(1, sizeof(*am));

	if (!am)
		return NULL;
	app_metrics_input_families(am, m);
	app_metrics_batch_families(am, m);
	app_metrics_link_families(am, m);
	app_metrics_kpi_families(am, m);
	app_metrics_live_families(am, m);
	if (app_metrics_suppression_family(am, m) < 0) {
		free(am);
		return NULL;
	}
	if (kpi_gauges)
		app_metrics_gauge_families(am, m);
	if (!app_metrics_complete(am) || (kpi_gauges && (!am->kpi_value || !am->kpi_index))) {
		free(am);
		return NULL;
	}
	return am;
}

void app_metrics_free(app_metrics *am)
{
	free(am);
}

/* ---------------------------------------------------------------- pushed */

void app_metrics_consumed(app_metrics *am, const char *topic, int32_t partition, uint64_t n)
{
	char part[16];

	snprintf(part, sizeof(part), "%" PRId32, partition);
	metrics_add(metrics_series_get(am->consumed, topic, part), (double)n);
}

void app_metrics_batch_size(app_metrics *am, size_t messages)
{
	metrics_observe(am->batch_size, (double)messages);
}

void app_metrics_flush_seconds(app_metrics *am, double seconds)
{
	metrics_observe(am->flush_seconds, seconds);
}

void app_metrics_kpi_update(app_metrics *am, const char *kpi_id)
{
	metrics_add(metrics_series_get(am->kpi_updates, kpi_id), 1);
}

void app_metrics_kpi_suppressed(app_metrics *am, const kpi_tick *t)
{
	for (int r = SUPPRESS_SMALL_GROUP; r < SUPPRESS_REASON_COUNT; r++)
		metrics_set(am->suppressed_by[r], (double)kpi_tick_suppressed(t, r));
}

/* ---------------------------------------------------------------- collected */

void app_metrics_reason(app_metrics *am, const char *outcome, const char *reason,
                        uint64_t count)
{
	bool dead = strcmp(outcome, "dead_lettered") == 0;

	metrics_set(metrics_series_get(dead ? am->dead_lettered : am->ignored, reason),
	            (double)count);
	if (dead && strcmp(reason, "late") == 0)
		metrics_set(am->late, (double)count);
}

static void app_metrics_lag_cb(const char *topic, int32_t partition, int64_t lag, void *opaque)
{
	app_metrics *am = opaque;
	char part[16];

	snprintf(part, sizeof(part), "%" PRId32, partition);
	metrics_set(metrics_series_get(am->lag, topic, part), (double)lag);
}

static void app_metrics_collect_kafka(app_metrics *am, const app_metrics_sources *src)
{
	const kafka_topic_count *failures;

	/* Partitions revoked since the last scrape disappear from the lag family. */
	metrics_family_hide(am->lag);
	if (src->consumer) {
		kafka_consumer_each_lag(src->consumer, app_metrics_lag_cb, am);
		metrics_set(am->kafka_connected[0], kafka_consumer_connected(src->consumer));
		metrics_set(am->parked, (double)kafka_consumer_parked(src->consumer));
		metrics_set(am->fetch_turns, (double)kafka_consumer_fetch_turns(src->consumer));
	}
	if (src->roster_reader)
		metrics_set(am->kafka_connected[1], kafka_roster_connected(src->roster_reader));
	if (!src->producer)
		return;
	metrics_set(am->kafka_connected[2], kafka_producer_connected(src->producer));
	metrics_set(am->output_queue, (double)kafka_producer_backlog(src->producer));
	size_t n = kafka_producer_failures(src->producer, &failures);
	for (size_t i = 0; i < n; i++)
		metrics_set(metrics_series_get(am->produce_failures, failures[i].topic),
		            (double)failures[i].count);
}

static void app_metrics_kpi_value_cb(const char *kpi, const char *scope, double value,
                                     void *opaque)
{
	app_metrics *am = opaque;

	metrics_set(metrics_series_get(am->kpi_value, kpi, scope), value);
}

static void app_metrics_kpi_index_cb(const char *scope, double index, void *opaque)
{
	app_metrics *am = opaque;

	metrics_set(metrics_series_get(am->kpi_index, scope), index);
}

static void app_metrics_collect_live(app_metrics *am, const app_metrics_sources *src)
{
	metrics_set(am->stream_clients, (double)src->live.clients);
	metrics_set(am->streams_opened, (double)src->live.opened);
	metrics_set(am->streams_rejected, (double)src->live.rejected);
	metrics_set(am->streams_dropped, (double)src->live.dropped);
	metrics_set(am->history_series, (double)src->live.history_series);
	metrics_set(am->history_skipped, (double)src->live.history_skipped);
	if (!am->kpi_value || !src->scorecard)
		return;
	/* Scopes suppressed since the last scrape, and KPIs reloaded away, disappear. */
	metrics_family_hide(am->kpi_value);
	metrics_family_hide(am->kpi_index);
	scorecard_each_value(src->scorecard, app_metrics_kpi_value_cb, am);
	scorecard_each_index(src->scorecard, app_metrics_kpi_index_cb, am);
}

void app_metrics_collect(app_metrics *am, const app_metrics_sources *src)
{
	const uint64_t batches[] = { src->batches_applied, src->batches_stale,
		                     src->batches_fenced, src->batches_duplicate,
		                     src->batches_rejected, src->batch_retries };

	if (src->pipeline) {
		const pipeline_stats *ps = pipeline_get_stats(src->pipeline);
		metrics_set(am->messages, (double)ps->messages);
		for (size_t i = 0; i < INPUT_FORMAT_COUNT; i++)
			metrics_set(am->decoded[i], (double)ps->decoded[i]);
	}
	for (size_t i = 0; i < APP_METRICS_N(batches); i++)
		metrics_set(am->batches[i], (double)batches[i]);
	metrics_set(am->batches_pipelined, (double)src->batches_pipelined);
	metrics_set(am->redis_connected, src->store && redis_store_connected(src->store));
	metrics_set(am->scopes_suppressed, (double)src->kpi_scopes_suppressed);
	metrics_set(am->roster_people, (double)src->roster_people);
	if (src->escalation) {
		for (int s = 0; s < ALERT_STATE_COUNT; s++)
			metrics_set(am->escalations[s],
			            (double)escalation_written(src->escalation, (alert_state)s));
		metrics_set(am->escalations_resent, (double)escalation_resent(src->escalation));
		metrics_set(am->escalation_leader, escalation_leader(src->escalation));
		metrics_set(am->escalations_firing, (double)escalation_firing(src->escalation));
	}
	app_metrics_collect_kafka(am, src);
	app_metrics_collect_live(am, src);
}
