/*
 * app.c - the daemon's event loop, batch cycle, tick and shutdown (see app.h).
 *
 * Everything here runs on the one loop thread. The batch moves through three
 * states: IDLE (may poll), FLUSHING (one Redis write in flight) and RETRYING.
 * RETRYING means the write was not acknowledged, so the same batch is sent
 * again once Redis is back. A batch is never rebuilt from Kafka while it is kept, so a
 * retried write carries exactly the same cells and offsets.
 *
 * Pipelining: while the batch in flight waits for its reply, the next one
 * fills. Once it is due it is sent too (a->next), so that Redis has it
 * queued when it finishes the first. The second write names the first
 * one's partitions and offsets, and Redis writes nothing of it unless the
 * first was applied (UNORDERED, see redis_scripts.h). When the first is not
 * applied, the second and the filling batch are dropped and read again, like
 * the first. The second's reply is then awaited and ignored. No second
 * write is sent while dead letters wait for delivery, while isolating a
 * rejected record, or while input is blocked.
 *
 * A write Redis refuses without error (stale, fenced, duplicate ids) drops
 * the batch and seeks its partitions back, so the batch is read again with
 * Redis's reply taken into account. A write Redis rejects with an error
 * is retried kafka.poison_attempts times. Then the batch is read again one
 * message at a time, and the message whose write is still rejected goes to
 * the DLQ (reason redis_rejected) while its partition moves on.
 *
 * Back-pressure: at most two batches are in flight and one fills. The
 * consumer prefetches at most kafka.max_prefetch_kbytes; polling pauses and
 * ticks are skipped while the producer holds more than half of
 * outputs.max_queued_messages.
 *
 * Dead letters are at least once: a batch goes to Redis only after the
 * broker acknowledged its dead letters (or their delivery finally failed,
 * which is logged and counted), so a crash before the write repeats them
 * and a crash after it loses none. Within one process, a batch read again
 * does not repeat its dead letters.
 *
 * Configuration: the app owns two configs. The clients (Kafka, ownership,
 * admin) borrow the one the daemon started with, as they read only keys
 * that take effect at restart. The processors and the store borrow the
 * current one, which a reload (SIGHUP or app_request_reload) replaces. The
 * new file is loaded and checked at once. It is swapped in at the next safe
 * point, when no batch is in memory or in flight and no tick is being read.
 * Until then no batch is polled and no tick starts, so the swap cannot
 * starve. Window state is in Redis and survives the swap.
 *
 * Stopping: SIGTERM or SIGINT stop polling and let the batch in flight be
 * written and committed, then the producer flushes, all within
 * shutdown.drain_timeout. Exit code 3 when the drain does not finish in
 * time or a second signal arrives, which stops at once.
 */
#include "app.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "admin.h"
#include "alert.h"
#include "escalation.h"
#include "app_metrics.h"
#include "bias.h"
#include "dedup.h"
#include "encode.h"
#include "encode_bias.h"
#include "governance.h"
#include "headcount.h"
#include "kafka.h"
#include "kpi.h"
#include "log.h"
#include "metrics.h"
#include "ownership.h"
#include "pipeline.h"
#include "privacy.h"
#include "redis_store.h"
#include "roster.h"
#include "schema_registry.h"
#include "scorecard.h"
#include "scorecard_publish.h"
#include "window.h"

#define APP_MAX_PARTS 1024
#define APP_MAX_REASONS 64
#define APP_RETRY_MS 500
#define APP_DLQ_WAIT_MS 10
#define APP_DLQ_WAIT_LOG_MS 1000
#define APP_STATS_INTERVAL_S 30
#define APP_PRODUCER_WAIT_MS 10000  /* final flush after a runtime failure */
#define APP_SIGNALS 3
#define APP_DLQ_MAX_PAYLOAD (512 * 1024)
#define APP_MAX_WINDOWS 64
#define APP_DETAIL_MAX 160

/* What the batch in flight (a->flight) is waiting for; IDLE: there is none. */
typedef enum app_batch_state {
	APP_BATCH_IDLE,
	APP_BATCH_FLUSHING,
	APP_BATCH_RETRYING,
	APP_BATCH_WAITING_DLQ,    /* its dead letters are not delivered yet */
} app_batch_state;

/* What the batch sent behind the one in flight (a->next) is waiting for. */
typedef enum app_next_state {
	APP_NEXT_UNSENT,          /* closed; sent when it becomes the batch in flight */
	APP_NEXT_SENT,            /* its write waits behind the one in flight */
	APP_NEXT_DROPPED,         /* read again; its reply is awaited and ignored */
} app_next_state;

/* Messages counted per (outcome, reason). */
typedef struct app_reason_count {
	const char *outcome;      /* "ignored" or "dead_lettered" */
	const char *reason;
	uint64_t count;
} app_reason_count;

/*
 * One batch: the messages of one or more polls, pre-aggregated, with the
 * offsets they span per partition. The app has three: one filling while
 * up to two are written to Redis.
 */
typedef struct app_batch {
	struct app *app;          /* the owner, for the write's callback */
	struct timespec sent_at;  /* when its write was last sent */
	window_batch *cells;
	dedup_batch *ids;
	caps_batch *caps;         /* daily cap decisions of its credits */
	redis_partition_offsets parts[APP_MAX_PARTS];
	char part_tokens[APP_MAX_PARTS][OWNERSHIP_TOKEN_SIZE];
	size_t n_parts;
	uint32_t part_messages[APP_MAX_PARTS]; /* messages of each partition in the batch */
	size_t messages;
	int64_t started_ms;       /* when a poll first found messages for it */
	/* Ignored messages, added to the totals once the batch is written: a
	 * batch read again may ignore other copies of a repeat. */
	app_reason_count ignored[APP_MAX_REASONS];
	size_t n_ignored;
} app_batch;

/* A copy of the one message of a batch read while isolating a poison record. */
typedef struct app_single_message {
	bool valid;
	kafka_message m;
	char *buf;                /* key then payload */
	size_t buf_cap;
} app_single_message;

struct app {
	config *cfg;              /* current: processors and the store borrow it */
	config *start_cfg;        /* the clients borrow it; the same as cfg until a reload */
	config *pending_cfg;      /* validated, waiting for a safe point */
	schema_registry *schemas; /* schema_registry.*; NULL when not configured */
	struct event_base *base;

	privacy *privacy;
	roster *roster;
	window_clock *clock;
	pipeline *pipeline;
	app_batch batches[3];
	app_batch *fill;          /* the batch polls add to */
	app_batch *flight;        /* the batch being written, while state is not IDLE */
	app_batch *next;          /* the batch sent behind flight, or NULL */
	app_batch *spare;         /* the third batch while next is NULL, else NULL */
	app_next_state next_state;
	kpi_tick *tick;
	scorecard *scorecard;     /* latest figure per (KPI, scope), for GET /api/kpis */
	bias_audit *bias;         /* disparity ratios per (KPI, dimension), each tick */
	encoder *encoder;
	encode_bias *bias_encoder;
	encode_buf out;

	kafka_consumer *consumer;
	kafka_roster *roster_reader;
	kafka_producer *producer;
	redis_store *store;
	ownership *owners;
	admin_server *admin;      /* NULL when admin.enabled is false */
	metrics *metrics;
	app_metrics *app_metrics;
	governance *governance;
	escalation *escalation;   /* rules, evaluated while this instance holds the lease */

	struct event *signal_events[APP_SIGNALS];
	struct event *kick_event;
	struct event *retry_timer;
	struct event *fill_timer;     /* ends the wait of a filling batch */
	struct event *tick_timer;
	struct event *stats_timer;
	struct event *shutdown_timer;
	struct event *tokens_timer;    /* re-reads the admin tokens after an API reload */

	app_batch_state state;
	bool close_batch;         /* send the filling batch as soon as none is in flight */
	size_t dlq_in_flight;     /* dead letters queued, delivery not reported yet */
	int reject_attempts;      /* of the batch in flight, by error replies */
	/* Partitions of a rejected batch, read one message per batch up to its end. */
	kafka_offset isolate[APP_MAX_PARTS];
	size_t n_isolate;
	app_single_message single;
	bool stopping;
	bool closing;             /* app_fini runs: late write replies are ignored */
	int64_t stop_deadline_ms; /* end of the drain after the first signal */
	bool tick_active;
	int64_t tick_now_ms;      /* wall clock of the tick being read */
	bool evaluating;          /* this tick's figures go to the escalation rules */
	bool escalations_stopped; /* the lease is given up, or the stop cannot wait */
	bool caught_up;           /* the backlog present at start has been consumed */
	int64_t batch_now_ms;     /* wall clock of the current poll */
	int exit_code;

	int64_t window_start_ms[APP_MAX_WINDOWS];
	int64_t window_end_ms[APP_MAX_WINDOWS];

	app_reason_count reasons[APP_MAX_REASONS];
	size_t n_reasons;
	uint64_t batches_applied, batches_stale, batches_fenced, batches_duplicate;
	uint64_t batches_rejected, batch_retries;
	uint64_t batches_pipelined, pipelined_dropped; /* second writes sent, and dropped */
	uint64_t batches_caps_changed; /* rejected because stored day counts change a cap */
	uint64_t backpressure_pauses;  /* times input paused for the output queue */
	bool input_paused;
	int64_t dlq_wait_since_ms;     /* when the batch began waiting for its dead letters */
	uint64_t kpi_updates, kpi_suppressed, escalations;
	uint64_t roster_records, roster_invalid;
	headcount_departures departures; /* waiting for the next tick's write */
	uint8_t departure_secret[32];    /* key of the departure idempotency hashes */
	uint64_t roster_departures;     /* departures seen on the roster topic */
	uint64_t roster_removed;        /* people removed by tombstones and left_at records */
	uint64_t roster_removed_logged; /* roster_removed when last logged */
	uint64_t reloads, reload_failures;
	int64_t config_applied_ms;
};

static int64_t app_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void app_add_reason(app_reason_count *list, size_t *n, const char *outcome,
                           const char *reason, uint64_t count)
{
	for (size_t i = 0; i < *n; i++) {
		if (list[i].outcome == outcome && strcmp(list[i].reason, reason) == 0) {
			list[i].count += count;
			return;
		}
	}
	if (*n < APP_MAX_REASONS)
		list[(*n)++] = (app_reason_count){ outcome, reason, count };
}

static void app_count_reason(app *a, const char *outcome, const char *reason)
{
	app_add_reason(a->reasons, &a->n_reasons, outcome, reason, 1);
}

/* ---------------------------------------------------------------- dead letters */

static void app_dead_letter(app *a, const kafka_message *m, const char *reason,
                            const char *detail)
{
	char partition[16], offset[32], original_size[32];
	dlq_record d = {
		.reason = reason, .detail = detail, .source_topic = m->topic,
		.source_partition = m->partition, .source_offset = m->offset,
		.source_timestamp_ms = m->timestamp_ms, .payload = m->payload,
		.payload_len = m->len, .key = m->key, .key_len = m->key_len,
		.dead_lettered_at_ms = app_now_ms(),
	};

	/* Keep the record under the broker's default message size limit (1 MB),
	 * including the base64 growth of the JSON format. */
	bool truncated = d.payload_len > APP_DLQ_MAX_PAYLOAD;
	if (truncated)
		d.payload_len = APP_DLQ_MAX_PAYLOAD;
	/* Survey answers contain a per-person score and ATS web hooks a
	 * candidate's personal data, so only their reason and source are kept. */
	if (m->format == INPUT_FORMAT_TYPEFORM || m->format == INPUT_FORMAT_GREENHOUSE) {
		d.payload_len = 0;
		truncated = m->len > 0;
	}
	if (d.key_len > APP_DLQ_MAX_PAYLOAD / 16)
		d.key_len = APP_DLQ_MAX_PAYLOAD / 16;
	snprintf(original_size, sizeof(original_size), "%zu", m->len);

	app_count_reason(a, "dead_lettered", reason);
	log_warn("dlq", "message dead-lettered", "reason=%s topic=%s partition=%" PRId32
	         " offset=%" PRId64 " detail=\"%s\"", reason, m->topic, m->partition, m->offset,
	         detail);
	if (encode_dlq(a->encoder, &a->cfg->outputs.dlq, &d, &a->out) < 0) {
		log_error("dlq", "cannot encode dead letter", "reason=%s topic=%s offset=%" PRId64,
		          reason, m->topic, m->offset);
		return;
	}
	snprintf(partition, sizeof(partition), "%" PRId32, m->partition);
	snprintf(offset, sizeof(offset), "%" PRId64, m->offset);
	kafka_header headers[] = {
		{ "dlq.reason", reason },
		{ "dlq.source.topic", m->topic },
		{ "dlq.source.partition", partition },
		{ "dlq.source.offset", offset },
		{ "dlq.payload.size", original_size },
		{ "dlq.payload.truncated", truncated ? "true" : "false" },
	};
	if (kafka_producer_send(a->producer, a->cfg->outputs.dlq.topic, d.key, d.key_len,
	                        a->out.data, a->out.len, headers, 6, &a->dlq_in_flight) < 0)
		log_error("dlq", "dead letter not produced", "reason=%s topic=%s partition=%" PRId32
		          " offset=%" PRId64, reason, m->topic, m->partition, m->offset);
}

/* ---------------------------------------------------------------- batch cycle */

static void app_kick(app *a)
{
	event_active(a->kick_event, 0, 0);
}

/* True while a batch is being written (or waits to be): a->flight is in use. */
static bool app_in_flight(const app *a)
{
	return a->state != APP_BATCH_IDLE;
}

/* True when nothing is read but not written: no batch in flight or filling. */
static bool app_batches_empty(const app *a)
{
	return !app_in_flight(a) && !a->next && a->fill->n_parts == 0;
}

/*
 * Tracks the first and next offset of each partition in the batch. Returns
 * 0, 1 when the message must be skipped (its partition is not claimed and
 * started: it is read again once it is), or -1 when the batch has no room.
 */
static int app_note_offset(app *a, app_batch *b, const kafka_message *m)
{
	for (size_t i = 0; i < b->n_parts; i++) {
		redis_partition_offsets *p = &b->parts[i];
		if (p->partition == m->partition && strcmp(p->topic, m->topic) == 0) {
			if (m->offset + 1 > p->next_offset)
				p->next_offset = m->offset + 1;
			b->part_messages[i]++;
			return 0;
		}
	}
	if (b->n_parts == APP_MAX_PARTS)
		return -1;
	const char *topic = NULL;
	const char *token = ownership_token(a->owners, m->topic, m->partition, &topic);
	if (!token)
		return 1;
	size_t i = b->n_parts++;
	b->part_messages[i] = 1;
	snprintf(b->part_tokens[i], sizeof(b->part_tokens[i]), "%s", token);
	b->parts[i] = (redis_partition_offsets){ .topic = topic, .partition = m->partition,
	                                         .owner_token = b->part_tokens[i],
	                                         .first_offset = m->offset,
	                                         .next_offset = m->offset + 1,
	                                         .stored_offset = -1 };
	return 0;
}

/* Keeps a copy of m, the only message of a batch read while isolating. */
static void app_keep_single(app *a, const kafka_message *m)
{
	app_single_message *one = &a->single;
	size_t need = m->key_len + m->len + 1;

	one->valid = false;
	if (need > one->buf_cap) {
		char *buf = realloc(one->buf, need);
		if (!buf)
			return;
		one->buf = buf;
		one->buf_cap = need;
	}
	one->m = *m;
	if (m->key)
		memcpy(one->buf, m->key, m->key_len);
	if (m->payload)
		memcpy(one->buf + m->key_len, m->payload, m->len);
	one->m.key = m->key ? one->buf : NULL;
	one->m.payload = m->payload ? one->buf + m->key_len : NULL;
	one->valid = true;
}

static void app_message_cb(const kafka_message *m, void *opaque)
{
	app *a = opaque;
	app_batch *b = a->fill;
	decode_result res;

	int noted = app_note_offset(a, b, m);
	if (noted != 0) {
		if (noted < 0)
			log_error("source", "message skipped: too many partitions in one batch",
			          "topic=%s partition=%" PRId32 " max_partitions=%d", m->topic,
			          m->partition, APP_MAX_PARTS);
		return;
	}
	b->messages++;
	if (a->n_isolate)
		app_keep_single(a, m);
	/* Read again after a refused write: its dead letter was produced. */
	bool again = ownership_seen_before(a->owners, m->topic, m->partition, m->offset);
	if (!m->payload) {
		if (!again)
			app_dead_letter(a, m, "empty_message", "the message has no value");
		return;
	}
	decode_status st = pipeline_process_capped(a->pipeline, m->format, m->input, m->payload,
	                                           m->len, a->batch_now_ms, b->cells, b->ids,
	                                           b->caps, &res);
	if (st == DECODE_IGNORED)
		app_add_reason(b->ignored, &b->n_ignored, "ignored", res.reason, 1);
	/* The other events of a multi-event message; its dead letter covers the invalid ones. */
	size_t n_other;
	const pipeline_outcome *other = pipeline_other_outcomes(a->pipeline, &n_other);
	for (size_t i = 0; i < n_other; i++)
		if (other[i].status == DECODE_IGNORED)
			app_add_reason(b->ignored, &b->n_ignored, "ignored", other[i].reason,
			               other[i].count);
	if (st == DECODE_INVALID && !again)
		app_dead_letter(a, m, res.reason, res.detail);
}

static void app_batch_clear(app_batch *b)
{
	window_batch_reset(b->cells);
	dedup_batch_reset(b->ids);
	caps_batch_reset(b->caps);
	b->n_parts = 0;
	b->messages = 0;
	b->n_ignored = 0;
}

/* Tells the pipeline whose ids and cap decisions the filling batch builds on. */
static void app_note_in_flight(app *a, const app_batch *older, const app_batch *newer)
{
	pipeline_set_in_flight(a->pipeline, older ? older->ids : NULL, newer ? newer->ids : NULL);
	caps_set_in_flight(pipeline_caps(a->pipeline), older ? older->caps : NULL,
	                   newer ? newer->caps : NULL);
}

/* The batch in flight is done with: the next one may be sent. */
static void app_flight_done(app *a)
{
	app_batch_clear(a->flight);
	app_note_in_flight(a, NULL, NULL);
	a->reject_attempts = 0;
	a->single.valid = false;
	a->state = APP_BATCH_IDLE;
}

/* Commits the offsets of the batch in flight for the partitions still owned under its token. */
static void app_commit_batch(app *a, bool sync)
{
	const app_batch *b = a->flight;
	kafka_offset offsets[APP_MAX_PARTS];
	size_t n = 0;

	for (size_t i = 0; i < b->n_parts; i++) {
		const redis_partition_offsets *p = &b->parts[i];
		if (ownership_holds(a->owners, p->topic, p->partition, p->owner_token))
			offsets[n++] = (kafka_offset){ p->topic, p->partition, p->next_offset };
	}
	kafka_consumer_commit(a->consumer, offsets, n, sync);
}

/* True when offsets[0..n) already has a position for the partition. */
static bool app_offsets_have(const kafka_offset *offsets, size_t n, const char *topic,
                             int32_t partition)
{
	for (size_t i = 0; i < n; i++)
		if (offsets[i].partition == partition && strcmp(offsets[i].topic, topic) == 0)
			return true;
	return false;
}

/*
 * Where each partition of batch b, still owned under b's token, is read
 * again from: where b began, or what Redis stored when that is further
 * (stale). Fenced partitions are claimed again instead. Appends to offsets.
 */
static size_t app_rewind_positions(app *a, const app_batch *b, const char *why,
                                   kafka_offset *offsets, size_t n)
{
	for (size_t i = 0; i < b->n_parts; i++) {
		const redis_partition_offsets *p = &b->parts[i];
		if (!ownership_holds(a->owners, p->topic, p->partition, p->owner_token) ||
		    app_offsets_have(offsets, n, p->topic, p->partition))
			continue;
		if (p->fenced) {
			ownership_reclaim(a->owners, p->topic, p->partition, p->owner_token,
			                  p->first_offset);
			continue;
		}
		int64_t at = p->stored_offset > p->first_offset ? p->stored_offset : p->first_offset;
		offsets[n++] = (kafka_offset){ p->topic, p->partition, at };
		log_info("source", "batch not written, reading it again", "reason=%s topic=%s "
		         "partition=%" PRId32 " batch_first=%" PRId64 " resume_at=%" PRId64, why,
		         p->topic, p->partition, p->first_offset, at);
	}
	return n;
}

/* True when a->next contains a batch that is still to be written. */
static bool app_next_pending(const app *a)
{
	return a->next && a->next_state != APP_NEXT_DROPPED;
}

/* Releases the batch behind the one in flight: its memory becomes the spare. */
static void app_release_next(app *a)
{
	app_batch_clear(a->next);
	a->spare = a->next;
	a->next = NULL;
}

/* Drops the batch behind the one in flight; a sent one is kept until its reply. */
static void app_drop_next(app *a)
{
	if (a->next && a->next_state == APP_NEXT_UNSENT) {
		app_release_next(a);
	} else if (a->next && a->next_state == APP_NEXT_SENT) {
		a->next_state = APP_NEXT_DROPPED;
		a->pipelined_dropped++;
	}
}

/*
 * Drops the batch in flight, the one sent behind it and the one filling,
 * and moves each of their partitions back to where the first of them that
 * has read it began.
 */
static void app_read_batch_again(app *a, const char *why)
{
	kafka_offset offsets[3 * APP_MAX_PARTS];
	size_t n = app_rewind_positions(a, a->flight, why, offsets, 0);

	for (size_t i = 0; i < a->flight->n_parts; i++)
		if (a->flight->parts[i].fenced)
			offsets[n++] = (kafka_offset){ a->flight->parts[i].topic,
			                               a->flight->parts[i].partition, -1 };
	if (app_next_pending(a))
		n = app_rewind_positions(a, a->next, why, offsets, n);
	n = app_rewind_positions(a, a->fill, why, offsets, n);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (offsets[i].offset >= 0)
			offsets[kept++] = offsets[i];
	kafka_consumer_seek(a->consumer, offsets, kept);
	event_del(a->fill_timer);
	app_batch_clear(a->fill);
	app_drop_next(a);
	app_flight_done(a);
}

/*
 * Drops the batch sent behind the one in flight, which is kept to be sent
 * again, so Redis does not apply the second (UNORDERED). Also drops the
 * filling one and moves their partitions back to where they began. Without
 * a batch behind it, the filling one goes on filling.
 */
static void app_drop_behind(app *a, const char *why)
{
	kafka_offset offsets[2 * APP_MAX_PARTS];

	if (!app_next_pending(a))
		return;
	size_t n = app_rewind_positions(a, a->next, why, offsets, 0);
	n = app_rewind_positions(a, a->fill, why, offsets, n);
	kafka_consumer_seek(a->consumer, offsets, n);
	event_del(a->fill_timer);
	app_batch_clear(a->fill);
	app_drop_next(a);
	app_note_in_flight(a, a->flight, NULL);
}

static void app_finish_stop(app *a);

static void app_escalations_stopped_cb(void *opaque)
{
	app *a = opaque;

	a->escalations_stopped = true;
	app_finish_stop(a);
}

/* Ends the loop once the escalation lease is given up (see escalation_stop). */
static void app_finish_stop(app *a)
{
	if (!a->escalations_stopped && a->escalation &&
	    !escalation_stop(a->escalation, app_escalations_stopped_cb, a))
		return;
	a->escalations_stopped = true;
	event_base_loopbreak(a->base);
}

static void app_send_batch(app *a);

static void app_retry_later(app *a)
{
	struct timeval retry = { 0, APP_RETRY_MS * 1000 };

	a->state = APP_BATCH_RETRYING;
	evtimer_add(a->retry_timer, &retry);
}

/* Writes only the offsets of the batch: its one message was dead-lettered. */
static void app_skip_poison(app *a)
{
	const kafka_message *m = &a->single.m;
	char detail[APP_DETAIL_MAX];

	snprintf(detail, sizeof(detail), "Redis rejected the write %d times: %.100s",
	         a->reject_attempts, redis_store_flush_error(a->store));
	app_dead_letter(a, m, "redis_rejected", detail);
	window_batch_reset(a->flight->cells);
	dedup_batch_reset(a->flight->ids);
	caps_batch_reset(a->flight->caps);
	dedup_batch_finish(a->flight->ids);
	a->single.valid = false;
	a->reject_attempts = 0;
	app_send_batch(a);
}

/* Redis rejected the write with an error: retry, then isolate the record. */
static void app_batch_rejected(app *a)
{
	const app_batch *b = a->flight;

	a->batches_rejected++;
	a->reject_attempts++;
	log_warn("redis", "Redis rejected the batch write; nothing of it was kept", "attempt=%d "
	         "max_attempts=%d messages=%zu error=\"%.200s\"", a->reject_attempts,
	         a->cfg->kafka.poison_attempts, b->messages, redis_store_flush_error(a->store));
	if (a->reject_attempts < a->cfg->kafka.poison_attempts) {
		app_drop_behind(a, "rejected");
		app_retry_later(a);
		return;
	}
	if (b->messages == 1 && a->single.valid) {
		app_drop_behind(a, "rejected");
		app_skip_poison(a);
		return;
	}
	/* Read the batch again one message at a time to find the record. */
	a->n_isolate = 0;
	for (size_t i = 0; i < b->n_parts; i++)
		a->isolate[a->n_isolate++] = (kafka_offset){ b->parts[i].topic, b->parts[i].partition,
		                                             b->parts[i].next_offset };
	app_read_batch_again(a, "rejected");
}

/* Ends isolation for partitions whose rejected batch has been read again. */
static void app_isolation_progress(app *a, const app_batch *b)
{
	for (size_t i = 0; i < a->n_isolate;) {
		kafka_offset *iso = &a->isolate[i];
		const char *topic;
		bool done = !ownership_token(a->owners, iso->topic, iso->partition, &topic);
		for (size_t p = 0; p < b->n_parts && !done; p++)
			done = b->parts[p].partition == iso->partition &&
			       strcmp(b->parts[p].topic, iso->topic) == 0 &&
			       b->parts[p].next_offset >= iso->offset;
		if (done)
			*iso = a->isolate[--a->n_isolate];
		else
			i++;
	}
}

static void app_note_duplicates(app *a)
{
	size_t n;
	const uint64_t *ids = redis_store_flush_duplicates(a->store, &n);

	pipeline_note_counted(a->pipeline, ids, n);
	log_info("source", "events counted before found in the batch; it is read again without "
	         "them", "events=%zu", n);
}

/* Keeps the day counts Redis holds, which the batch read again decides with. */
static void app_note_caps_changed(app *a)
{
	size_t n;
	const int64_t *stored = redis_store_flush_caps_stored(a->store, &n);
	caps *c = pipeline_caps(a->pipeline);

	for (size_t i = 0; i < n; i++)
		if (caps_note_stored(c, a->flight->caps, (size_t)stored[2 * i],
		                     (int32_t)stored[2 * i + 1]) < 0)
			log_warn("batch", "out of memory keeping a daily count Redis reported; "
			         "the batch may be rejected again", "%s", "");
	log_info("source", "daily counts in Redis change cap decisions of the batch; it is "
	         "read again with them", "entries=%zu", n);
}

/* Counts the messages of the batch Redis just acknowledged, per partition. */
static void app_count_consumed(app *a)
{
	const app_batch *b = a->flight;

	for (size_t i = 0; i < b->n_parts; i++)
		app_metrics_consumed(a->app_metrics, b->parts[i].topic, b->parts[i].partition,
		                     b->part_messages[i]);
	for (size_t i = 0; i < b->n_ignored; i++)
		app_add_reason(a->reasons, &a->n_reasons, b->ignored[i].outcome,
		               b->ignored[i].reason, b->ignored[i].count);
}

/* Records how long Redis took to reply to the batch write. */
static void app_time_flush(app *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	const struct timespec *sent = &a->flight->sent_at;
	app_metrics_flush_seconds(a->app_metrics, (double)(now.tv_sec - sent->tv_sec) +
	                          (now.tv_nsec - sent->tv_nsec) / 1e9);
}

/* Makes the batch sent behind the one just applied the batch in flight. */
static void app_promote_next(app *a)
{
	app_batch *b = a->next;

	if (!app_next_pending(a))
		return;
	a->spare = a->flight;
	a->flight = b;
	a->next = NULL;
	app_note_in_flight(a, b, NULL);
	if (a->next_state == APP_NEXT_SENT)
		a->state = APP_BATCH_FLUSHING;
	else
		app_send_batch(a);
}

/* Redis stored the batch in flight: count it, commit its offsets, free the slot. */
static void app_batch_applied(app *a)
{
	a->batches_applied++;
	log_debug("batch", "batch written", "messages=%zu partitions=%zu", a->flight->messages,
	          a->flight->n_parts);
	app_count_consumed(a);
	pipeline_batch_written(a->pipeline, a->flight->ids, a->flight->cells, app_now_ms());
	size_t n_drift;
	const int64_t *drift = redis_store_flush_caps_stored(a->store, &n_drift);
	caps_batch_written(pipeline_caps(a->pipeline), a->flight->caps, drift, n_drift);
	app_commit_batch(a, a->stopping);
	app_flight_done(a);
	app_promote_next(a);
}

static void app_kick_or_stop(app *a)
{
	if (a->stopping && app_batches_empty(a))
		app_finish_stop(a);
	else
		app_kick(a);
}

/*
 * Handles the reply to a batch dropped after it was sent. Redis wrote
 * nothing of it (UNORDERED) unless the batch before it was already stored.
 */
static void app_dropped_reply(app *a, redis_flush_status status)
{
	if (status == REDIS_FLUSH_APPLIED)
		log_info("batch", "a batch read again had been written; reading it again finds it "
		         "stale", "%s", "");
	app_release_next(a);
	app_kick_or_stop(a);
}

static void app_flush_cb(redis_flush_status status, void *opaque)
{
	app_batch *b = opaque;
	app *a = b->app;

	/* Freeing the store fails the writes still waiting, after the consumer is gone. */
	if (a->closing)
		return;
	if (b != a->flight) {
		if (b == a->next && a->next_state == APP_NEXT_DROPPED)
			app_dropped_reply(a, status);
		else
			log_error("batch", "reply to a batch write that nothing waits for; ignored",
			          "status=%d", (int)status);
		return;
	}
	/* A failed write timed out or lost its connection: no Redis reply to time. */
	if (status != REDIS_FLUSH_FAILED)
		app_time_flush(a);
	switch (status) {
	case REDIS_FLUSH_APPLIED:
		app_batch_applied(a);
		break;
	case REDIS_FLUSH_STALE:
		a->batches_stale++;
		app_read_batch_again(a, "stale");
		break;
	case REDIS_FLUSH_UNORDERED:
		/* Sent behind a batch that Redis applied, yet the offsets moved since. */
		a->batches_stale++;
		app_read_batch_again(a, "unordered");
		break;
	case REDIS_FLUSH_FENCED:
		a->batches_fenced++;
		app_read_batch_again(a, "fenced");
		break;
	case REDIS_FLUSH_DUPLICATE:
		a->batches_duplicate++;
		app_note_duplicates(a);
		app_read_batch_again(a, "duplicate_events");
		break;
	case REDIS_FLUSH_CAPS_CHANGED:
		a->batches_caps_changed++;
		app_note_caps_changed(a);
		app_read_batch_again(a, "caps_changed");
		break;
	case REDIS_FLUSH_REJECTED:
		app_batch_rejected(a);
		if (app_in_flight(a))
			return;
		break;
	case REDIS_FLUSH_FAILED:
		a->batch_retries++;
		app_drop_behind(a, "retry");
		app_retry_later(a);
		return;
	}
	app_kick_or_stop(a);
}

/* A batch has waited a second for its dead letters: Kafka is slow or away. */
static void app_note_dlq_pause(app *a)
{
	a->input_paused = true;
	a->backpressure_pauses++;
	log_warn("sink", "dead letters not delivered yet; input paused until Kafka takes them",
	         "dead_letters=%zu", a->dlq_in_flight);
}

static void app_note_dlq_resume(app *a)
{
	a->input_paused = false;
	log_info("sink", "dead letters delivered; input resumed", "%s", "");
}

/*
 * Sends the batch in flight to Redis once its dead letters are delivered:
 * after Redis has its offsets the batch is never read again, so a dead
 * letter still queued then would be lost with a crash.
 */
static void app_send_batch(app *a)
{
	struct timeval wait = { 0, APP_DLQ_WAIT_MS * 1000 };

	if (a->dlq_in_flight > 0) {
		int64_t now = app_now_ms();
		if (a->state != APP_BATCH_WAITING_DLQ)
			a->dlq_wait_since_ms = now;
		else if (now - a->dlq_wait_since_ms >= APP_DLQ_WAIT_LOG_MS && !a->input_paused)
			app_note_dlq_pause(a);
		a->state = APP_BATCH_WAITING_DLQ;
		evtimer_add(a->retry_timer, &wait);
		return;
	}
	if (a->state == APP_BATCH_WAITING_DLQ && a->input_paused)
		app_note_dlq_resume(a);
	redis_flush_request req = {
		.batch = a->flight->cells, .ids = a->flight->ids, .caps = a->flight->caps,
		.roster = a->roster,
		.clock = a->clock, .parts = a->flight->parts, .n_parts = a->flight->n_parts,
		.now_ms = app_now_ms(),
	};

	clock_gettime(CLOCK_MONOTONIC, &a->flight->sent_at);
	/* Finished here rather than at batch close, so that a retry after out of memory finishes it. */
	if (window_batch_finish(a->flight->cells) == 0 &&
	    redis_store_flush(a->store, &req, app_flush_cb, a->flight) == 0) {
		a->state = APP_BATCH_FLUSHING;
		return;
	}
	app_retry_later(a);
}

static void app_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	app *a = arg;
	if (a->state == APP_BATCH_RETRYING || a->state == APP_BATCH_WAITING_DLQ)
		app_send_batch(a);
}

/* True while more than half of outputs.max_queued_messages wait for delivery. */
static bool app_output_queue_busy(const app *a)
{
	return kafka_producer_backlog(a->producer) > (size_t)a->cfg->outputs.max_queued_messages / 2;
}

/* Pauses input while the output queue is busy; logs each pause and resume. */
static bool app_output_backlogged(app *a)
{
	bool busy = app_output_queue_busy(a);

	if (busy && !a->input_paused) {
		a->backpressure_pauses++;
		log_warn("sink", "output queue over half full; input paused until Kafka catches up",
		         "queued=%zu max_queued_messages=%d", kafka_producer_backlog(a->producer),
		         a->cfg->outputs.max_queued_messages);
	} else if (!busy && a->input_paused) {
		log_info("sink", "output queue drained; input resumed", "queued=%zu",
		         kafka_producer_backlog(a->producer));
	}
	a->input_paused = busy;
	return busy;
}

static void app_apply_pending(app *a);

/*
 * Ends the filling batch and sends it: it becomes the batch in flight, and
 * the next batch fills behind it while Redis writes it.
 */
static void app_close_batch(app *a)
{
	app_batch *b = a->fill;

	event_del(a->fill_timer);
	a->close_batch = false;
	app_metrics_batch_size(a->app_metrics, b->messages);
	if (a->n_isolate)
		app_isolation_progress(a, b);
	dedup_batch_finish(b->ids);
	a->fill = a->flight;
	a->flight = b;
	app_note_in_flight(a, b, NULL);
	app_send_batch(a);
}

/* True when the due filling batch may be sent behind the one in flight. */
static bool app_may_send_next(const app *a)
{
	return a->state == APP_BATCH_FLUSHING && !a->next && a->dlq_in_flight == 0 &&
	       !a->n_isolate;
}

/*
 * Ends the filling batch and sends it behind the batch in flight, so that
 * Redis has it queued when it finishes that one. It is written only after
 * that one (req.after). When it cannot be sent now, it is sent when it
 * becomes the batch in flight.
 */
static void app_send_next(app *a)
{
	app_batch *b = a->fill;
	redis_flush_request req = {
		.batch = b->cells, .ids = b->ids, .caps = b->caps, .roster = a->roster,
		.clock = a->clock, .parts = b->parts, .n_parts = b->n_parts,
		.after = a->flight->parts, .n_after = a->flight->n_parts, .now_ms = app_now_ms(),
	};

	event_del(a->fill_timer);
	a->close_batch = false;
	app_metrics_batch_size(a->app_metrics, b->messages);
	dedup_batch_finish(b->ids);
	a->fill = a->spare;
	a->spare = NULL;
	a->next = b;
	a->next_state = APP_NEXT_UNSENT;
	app_note_in_flight(a, a->flight, b);
	clock_gettime(CLOCK_MONOTONIC, &b->sent_at);
	if (window_batch_finish(b->cells) == 0 &&
	    redis_store_flush(a->store, &req, app_flush_cb, b) == 0) {
		a->next_state = APP_NEXT_SENT;
		a->batches_pipelined++;
	}
}

/* True when input must not be read now: a stop, a reload, or a dependency. */
static bool app_input_blocked(app *a)
{
	return a->stopping || a->pending_cfg || !redis_store_connected(a->store) ||
	       !kafka_roster_loaded(a->roster_reader) || app_output_backlogged(a);
}

/* True when the filling batch has to go rather than wait for more messages. */
static bool app_batch_due(const app *a, int64_t now_ms)
{
	return a->close_batch || a->n_isolate ||
	       a->fill->messages >= (size_t)a->cfg->kafka.batch_max_messages ||
	       now_ms - a->fill->started_ms >= a->cfg->kafka.batch_max_ms;
}

/* Lets the batch fill until batch_max_ms after its first message. */
static void app_wait_for_more(app *a, int64_t now_ms)
{
	int64_t left = a->fill->started_ms + a->cfg->kafka.batch_max_ms - now_ms;
	struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000 * 1000) };

	if (!evtimer_pending(a->fill_timer, NULL))
		evtimer_add(a->fill_timer, &tv);
}

/* Reads the messages the consumer has queued into the filling batch. */
static void app_read_input(app *a, int64_t now_ms)
{
	size_t max = a->n_isolate ? 1 : (size_t)a->cfg->kafka.batch_max_messages;
	bool empty = a->fill->n_parts == 0;

	/* One clock read per poll: lateness is judged against the poll time. */
	a->batch_now_ms = now_ms;
	if (a->fill->messages < max)
		kafka_consumer_poll(a->consumer, max - a->fill->messages, app_message_cb, a);
	if (empty && a->fill->n_parts > 0)
		a->fill->started_ms = now_ms;
}

/*
 * Adds the messages the consumer has queued to the filling batch, and sends the batch
 * once it is full or batch_max_ms old, or something asks to end it (a stop,
 * a reload, a rebalance, a dependency away) and no batch is in flight.
 * While a batch is in flight the next one fills; only an isolating read
 * (one message per batch) waits for it.
 */
static void app_poll(app *a)
{
	app_apply_pending(a);
	if (!a->consumer)
		return;
	int64_t now = app_now_ms();
	bool blocked = app_input_blocked(a);

	if (!blocked && !(a->n_isolate && app_in_flight(a)))
		app_read_input(a, now);
	if (a->fill->n_parts == 0)
		return;
	if (!blocked && !app_batch_due(a, now))
		app_wait_for_more(a, now);
	else if (!app_in_flight(a))
		app_close_batch(a);
	else if (!blocked && app_may_send_next(a))
		app_send_next(a);
}

static void app_wake_cb(void *opaque)
{
	app_poll(opaque);
}

static void app_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	app_poll(arg);
}

static void app_assigned_cb(const kafka_offset *parts, size_t n, void *opaque)
{
	app *a = opaque;
	ownership_assigned(a->owners, parts, n);
}

static void app_revoked_cb(const kafka_offset *parts, size_t n, void *opaque)
{
	app *a = opaque;
	ownership_revoked(a->owners, parts, n);
	/* Write a filling batch before another instance claims its partitions. */
	if (a->fill->n_parts > 0) {
		a->close_batch = true;
		app_kick(a);
	}
}

static void app_store_state_cb(bool connected, void *opaque)
{
	app *a = opaque;

	if (!connected)
		return;
	pipeline_forget_written_credits(a->pipeline, app_now_ms());
	if (a->state == APP_BATCH_RETRYING)
		app_send_batch(a);
	else
		app_kick(a);
	if (a->owners)
		ownership_claim_waiting(a->owners);
	if (a->escalation)
		escalation_poke(a->escalation);
}

/* ---------------------------------------------------------------- roster */

/*
 * Queues a departure for the next tick's write. A tombstone without a
 * broker timestamp is dated now.
 * NOTE: such a tombstone, read again after a restart on a later UTC day,
 * counts again, because its idempotency key contains the day.
 */
static void app_queue_departure(app *a, const roster_departure *d)
{
	headcount_departure q = { .at_ms = d->at_ms >= 0 ? d->at_ms : app_now_ms() };

	q.key = headcount_departure_key(a->departure_secret, &d->employee, q.at_ms);
	memcpy(q.scopes, d->scopes, sizeof(q.scopes));
	a->roster_departures++;
	if (headcount_departures_push(&a->departures, &q) < 0)
		log_error("roster", "out of memory queueing a departure; it is not counted",
		          "queued=%zu", a->departures.n);
}

static void app_roster_cb(const kafka_message *m, void *opaque)
{
	app *a = opaque;
	roster_departure departure;
	char err[256];
	size_t people = roster_size(a->roster);

	if (!m->key || m->key_len == 0) {
		a->roster_invalid++;
		app_dead_letter(a, m, "invalid_roster_record", "roster record has no key");
		return;
	}
	if (roster_apply_record_at(a->roster, a->privacy, m->key, m->key_len, m->payload, m->len,
	                           m->timestamp_ms, &departure, err, sizeof(err)) < 0) {
		a->roster_invalid++;
		app_dead_letter(a, m, "invalid_roster_record", err);
		return;
	}
	a->roster_records++;
	if (departure.left)
		app_queue_departure(a, &departure);
	if (roster_size(a->roster) < people)
		a->roster_removed++;
}

/*
 * Logs the people that tombstones removed since the last call, as a count:
 * an erasure shows in the log without naming anyone, and a burst of
 * tombstones gives one line per tick, not one per record.
 */
static void app_log_roster_removals(app *a)
{
	if (a->roster_removed == a->roster_removed_logged)
		return;
	log_info("roster", "people removed from the roster", "removed=%" PRIu64
	         " removed_total=%" PRIu64 " people=%zu",
	         a->roster_removed - a->roster_removed_logged, a->roster_removed,
	         roster_size(a->roster));
	a->roster_removed_logged = a->roster_removed;
}

/* ---------------------------------------------------------------- tick */

static void app_alert_cb(const alert_event *e, void *opaque)
{
	app *a = opaque;

	a->escalations++;
	admin_publish_escalation(a->admin, e);
	if (e->state == ALERT_STORM)
		log_warn("alert", "escalation storm: firings held back", "route=\"%s\" held=%zu",
		         e->scope, e->n_held);
	else
		log_info("alert", "escalation", "state=%s dedup_key=\"%s\" observed=%.4f "
		         "threshold=%.4f", alert_state_name(e->state), e->dedup_key, e->observed,
		         e->threshold);
}

/* Keeps u for GET /api/kpis and sends it to the live view. */
static void app_keep_kpi(app *a, const kpi_update *u)
{
	if (scorecard_store(a->scorecard, u) < 0)
		log_warn("kpi", "out of memory keeping a KPI figure for /api/kpis", "kpi=%s scope=\"%s\"",
			 u->kpi->id, u->scope);
	admin_publish_kpi(a->admin, u);
}

/* A suppressed (KPI, scope) goes to the scorecard only, never to Kafka. */
static void app_kpi_suppressed_cb(const kpi_update *u, void *opaque)
{
	app *a = opaque;

	app_keep_kpi(a, u);
	bias_audit_observe(a->bias, u); /* counted as excluded, never compared */
}

/* Sends one bias audit record to outputs.bias and, when evaluating, to the bias rules. */
static void app_bias_cb(const bias_record *r, void *opaque)
{
	app *a = opaque;
	char key[512];

	if (encode_bias_record(a->bias_encoder, &a->cfg->outputs.bias, r, &a->out) == 0) {
		size_t key_len = encode_bias_key(r, key, sizeof(key));
		kafka_producer_send(a->producer, a->cfg->outputs.bias.topic, key, key_len,
		                    a->out.data, a->out.len, NULL, 0, NULL);
	} else {
		log_error("bias", "cannot encode bias audit record", "kpi=%s dimension=%s",
		          r->kpi->id, config_scope_kind_name(r->dimension));
	}
	if (a->evaluating)
		escalation_observe_bias(a->escalation, r);
}

static void app_kpi_cb(const kpi_update *u, void *opaque)
{
	app *a = opaque;
	char key[512];

	a->kpi_updates++;
	app_keep_kpi(a, u);
	bias_audit_observe(a->bias, u);
	app_metrics_kpi_update(a->app_metrics, u->kpi->id);
	if (encode_kpi_update(a->encoder, &a->cfg->outputs.kpi, u, &a->out) == 0) {
		size_t key_len = encode_kpi_key(u, key, sizeof(key));
		kafka_producer_send(a->producer, a->cfg->outputs.kpi.topic, key, key_len,
		                    a->out.data, a->out.len, NULL, 0, NULL);
	} else {
		log_error("kpi", "cannot encode KPI update", "kpi=%s scope=\"%s\"", u->kpi->id, u->scope);
	}
	/* Figures computed while the start-up backlog is still being read are
	 * partial: publish them, but do not let them fire escalations. */
	if (a->evaluating)
		escalation_observe(a->escalation, u);
}

/*
 * Stores the tick's scorecard for `advocacyd report`: on the alert lease
 * holder only, once the start-up backlog is read (see scorecard_publish.h).
 */
static void app_publish_scorecard(app *a)
{
	if (a->caught_up && escalation_leader(a->escalation))
		scorecard_publish(a->store, a->cfg, a->scorecard, a->tick_now_ms);
}

static void app_tick_read_cb(int status, void *opaque)
{
	app *a = opaque;

	a->tick_active = false;
	if (status == 0 && !a->stopping) {
		uint64_t updates = a->kpi_updates;
		size_t suppressed, bias_records;

		a->evaluating = a->caught_up && escalation_ready(a->escalation);
		if (a->evaluating)
			escalation_tick_begin(a->escalation, a->tick_now_ms);
		bias_audit_begin(a->bias, a->tick_now_ms);
		suppressed = kpi_tick_emit(a->tick, a->roster, a->cfg->privacy.min_group_size,
		                           a->window_start_ms, a->window_end_ms, app_kpi_cb, a);
		bias_records = bias_audit_end(a->bias, app_bias_cb, a);
		if (a->evaluating)
			escalation_tick_end(a->escalation);
		a->evaluating = false;
		a->kpi_suppressed += suppressed;
		app_metrics_kpi_suppressed(a->app_metrics, a->tick);
		log_debug("tick", "KPIs emitted",
		          "updates=%" PRIu64 " suppressed=%zu sibling=%zu bias_records=%zu",
		          a->kpi_updates - updates, suppressed,
		          kpi_tick_suppressed(a->tick, SUPPRESS_SIBLING), bias_records);
		app_publish_scorecard(a);
	}
	if (a->pending_cfg)
		app_kick(a);  /* the reload waited for this tick */
}

/* Each window ends at the end of the bucket holding now, in its granularity. */
static void app_window_ranges(app *a, int64_t now_ms)
{
	for (size_t w = 0; w < a->cfg->windows.n_windows; w++) {
		const config_window *win = &a->cfg->windows.windows[w];
		int64_t start = window_bucket_start(a->clock, win->granularity, now_ms);
		a->window_end_ms[w] = window_bucket_end(a->clock, win->granularity, start);
		window_buckets(a->clock, win, a->window_end_ms[w], &a->window_start_ms[w], 1);
	}
}

static void app_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	app *a = arg;
	int64_t now = app_now_ms();

	app_log_roster_removals(a);
	if (a->tick_active || a->stopping || a->pending_cfg || !redis_store_connected(a->store) ||
	    !kafka_roster_loaded(a->roster_reader))
		return;
	/*
	 * While Kafka accepts no records, updates would queue behind the
	 * undelivered ones until the queue is full. Then kafka_producer_send
	 * blocks the loop for up to 5 s per record and drops it. The first tick
	 * after Kafka catches up emits the current figures, and alerts are
	 * evaluated again from then on.
	 * NOTE: one tick that emits more than half of max_queued_messages can
	 * still fill the queue, so keep it above twice KPIs times eligible scopes.
	 */
	if (app_output_queue_busy(a)) {
		log_warn("kpi", "output queue over half full; tick skipped until Kafka catches up",
		         "queued=%zu max_queued_messages=%d", kafka_producer_backlog(a->producer),
		         a->cfg->outputs.max_queued_messages);
		return;
	}
	if (!a->caught_up && !app_in_flight(a) && !a->next &&
	    kafka_consumer_caught_up(a->consumer)) {
		a->caught_up = true;
		log_info("main", "caught up with the input backlog; escalations are now evaluated",
		         "%s", "");
	}
	if (kpi_tick_begin(a->tick, roster_scope_count(a->roster), now) < 0) {
		log_error("kpi", "out of memory starting a tick", "scopes=%" PRIu32,
		          roster_scope_count(a->roster));
		return;
	}
	app_window_ranges(a, now);
	a->tick_now_ms = now;
	if (redis_store_write_headcounts(a->store, a->roster, a->clock, now, &a->departures) < 0)
		log_warn("kpi", "failed to send the headcount history write; this tick's rates use "
		         "the history written before", "departures_queued=%zu", a->departures.n);
	if (redis_store_read_tick(a->store, a->tick, a->roster, a->clock, a->window_end_ms,
	                          app_tick_read_cb, a) == 0)
		a->tick_active = true;
}

/* ---------------------------------------------------------------- reload */

/*
 * Loads the file the daemon started with and checks it as at start (the
 * config, then its HMAC key file), then against the keys that take effect
 * only at restart. Returns the new config, or NULL with result saying why
 * and *why the log message for that kind of failure (kept apart, because
 * the logger holds back a message repeated within 10 s).
 */
static config *app_reload_load(app *a, char *result, size_t size, const char **why)
{
	config *next = NULL;
	privacy *key = NULL;
	char err[1024], changed[128];

	*why = "configuration not reloaded: the file is invalid; still running on the "
	       "previous one";
	if (config_load(a->cfg->path, &next, err, sizeof(err)) < 0) {
		snprintf(result, size, "%s", err);
		return NULL;
	}
	if (privacy_new(next->privacy.key_file, next->privacy.key_id, 1, &key, err,
	                sizeof(err)) < 0) {
		snprintf(result, size, "%s: privacy.key_file: %s", next->path, err);
		config_free(next);
		return NULL;
	}
	privacy_free(key);
	/* The registered output schema ids replace the file's, as at start. */
	schema_registry_apply_ids(a->schemas, next);
	if (config_restart_key_changed(a->start_cfg, next, changed, sizeof(changed))) {
		*why = "configuration not reloaded: a key that needs a restart changed; still "
		       "running on the previous one";
		snprintf(result, size, "%s: %s: changed, but takes effect only at restart; restart "
		         "advocacyd to apply it, or put the running value back to reload the rest",
		         next->path, changed);
		config_free(next);
		return NULL;
	}
	return next;
}

/* Restarts the tick timer when the interval changed. */
static void app_set_tick_interval(app *a, const config *old, const config *next)
{
	int64_t ms = next->outputs.tick_interval_ms;
	struct timeval tick = { ms / 1000, (ms % 1000) * 1000 };

	if (old->outputs.tick_interval_ms == ms)
		return;
	event_del(a->tick_timer);
	event_add(a->tick_timer, &tick);
}

static void app_log_applied(const app *a, const config *old)
{
	size_t retired = 0;

	for (size_t i = 0; i < a->cfg->n_kpis; i++)
		retired += !config_kpi_active(&a->cfg->kpis[i]);
	log_info("reload", "configuration applied", "file=\"%s\" version=%s previous=%s kpis=%zu "
	         "retired_kpis=%zu behaviours=%zu", a->cfg->path, a->cfg->version, old->version,
	         a->cfg->n_kpis - retired, retired, a->cfg->n_behaviours);
}

/*
 * Replaces the scorecard. It identifies KPIs by their place in the config, so
 * the figures of the old config are dropped and the next tick fills it again.
 */
static void app_swap_scorecard(app *a, scorecard *sc)
{
	if (a->admin)
		admin_set_scorecard(a->admin, sc);
	scorecard_free(a->scorecard);
	a->scorecard = sc;
}

/* Counts a reload applied (ok) or refused, for the log line and /metrics. */
static void app_count_reload(app *a, bool ok)
{
	if (ok)
		a->reloads++;
	else
		a->reload_failures++;
	metrics_count_reload(a->metrics, ok);
}

/* Swaps the pending config in when no batch and no tick read are in flight. */
static void app_apply_pending(app *a)
{
	config *next = a->pending_cfg, *old = a->cfg;
	kpi_tick *tick;
	scorecard *sc;
	bias_audit *bias;

	if (!next || a->stopping || !app_batches_empty(a) || a->tick_active)
		return;
	a->pending_cfg = NULL;
	tick = kpi_tick_new(next);
	sc = scorecard_new(next);
	bias = bias_audit_new(next);
	if (!tick || !sc || !bias || pipeline_set_config(a->pipeline, next) < 0) {
		app_count_reload(a, false);
		log_error("reload", "out of memory applying the configuration; still running on "
		          "the previous one", "file=\"%s\" version=%s", next->path, next->version);
		kpi_tick_free(tick);
		scorecard_free(sc);
		bias_audit_free(bias);
		config_free(next);
		return;
	}
	kpi_tick_free(a->tick);
	a->tick = tick;
	bias_audit_free(a->bias);
	a->bias = bias;
	kpi_tick_set_suppressed_cb(a->tick, app_kpi_suppressed_cb, a);
	app_swap_scorecard(a, sc);
	/* Firing alerts of removed or changed rules are resolved under the old config. */
	escalation_reconfigure(a->escalation, next, app_now_ms());
	redis_store_set_config(a->store, next);
	app_set_tick_interval(a, old, next);
	a->cfg = next;
	app_count_reload(a, true);
	metrics_set_config_version(a->metrics, next->version);
	a->config_applied_ms = app_now_ms();
	app_log_applied(a, old);
	if (old != a->start_cfg)
		config_free(old);
	governance_submit(a->governance, a->cfg);
}

int app_request_reload(app *a, char *result, size_t result_size)
{
	const char *why = NULL;
	config *next;

	if (a->stopping) {
		snprintf(result, result_size, "not reloaded: the daemon is shutting down");
		return -1;
	}
	next = app_reload_load(a, result, result_size, &why);
	if (!next) {
		app_count_reload(a, false);
		log_error("reload", why, "file=\"%s\" version=%s error=\"%s\"", a->cfg->path,
		          a->cfg->version, result);
		return -1;
	}
	if (strcmp(next->version, a->cfg->version) == 0 && !a->pending_cfg) {
		snprintf(result, result_size, "unchanged: version %s is running", next->version);
		log_info("reload", "configuration unchanged; nothing to apply", "version=%s",
		         next->version);
		config_free(next);
		return 0;
	}
	config_free(a->pending_cfg);
	a->pending_cfg = next;
	app_apply_pending(a);
	if (a->pending_cfg)
		snprintf(result, result_size, "validated: version %s is applied once the batch or "
		         "tick in flight is done", next->version);
	else
		snprintf(result, result_size, "applied: version %s", next->version);
	app_kick(a);
	return 0;
}

void app_get_reload_stats(const app *a, app_reload_stats *out)
{
	*out = (app_reload_stats){
		.reloads = a->reloads,
		.failures = a->reload_failures,
		.config_version = a->cfg->version,
		.applied_at_ms = a->config_applied_ms,
		.pending = a->pending_cfg != NULL,
	};
}

/* ---------------------------------------------------------------- stats, signals */

/* Logs one line per outcome: reason=count for each reason seen. */
static void app_log_reasons(app *a, const char *outcome)
{
	char fields[1024];
	size_t used = 0;

	fields[0] = '\0';
	for (size_t i = 0; i < a->n_reasons && used < sizeof(fields); i++) {
		if (strcmp(a->reasons[i].outcome, outcome) != 0)
			continue;
		int n = snprintf(fields + used, sizeof(fields) - used, "%s%s=%" PRIu64,
		                 used ? " " : "", a->reasons[i].reason, a->reasons[i].count);
		if (n > 0)
			used += (size_t)n;
	}
	if (used)
		log_info("stats", outcome[0] == 'i' ? "ignored by reason" : "dead-lettered by reason",
		         "%s", fields);
}

static void app_log_stats(app *a)
{
	const pipeline_stats *ps = pipeline_get_stats(a->pipeline);
	const kafka_producer_stats *out = kafka_producer_get_stats(a->producer);

	log_info("stats", "counters", "messages=%" PRIu64 " events=%" PRIu64 " behaviours=%" PRIu64
	         " ignored=%" PRIu64 " invalid=%" PRIu64 " late=%" PRIu64 " unknown_people=%" PRIu64
	         " batches=%" PRIu64 " stale_batches=%" PRIu64 " fenced_batches=%" PRIu64
	         " duplicate_batches=%" PRIu64 " rejected_batches=%" PRIu64 " batch_retries=%" PRIu64
	         " pipelined_batches=%" PRIu64 " pipelined_dropped=%" PRIu64
	         " capped=%" PRIu64 " caps_changed_batches=%" PRIu64 " backpressure_pauses=%" PRIu64
	         " kpi_updates=%" PRIu64 " suppressed=%" PRIu64 " escalations=%" PRIu64
	         " roster_people=%zu roster_records=%" PRIu64 " roster_invalid=%" PRIu64
	         " produced=%" PRIu64
	         " produce_failed=%" PRIu64 " redis_commands=%" PRIu64,
	         ps->messages, ps->events, ps->behaviours, ps->ignored, ps->invalid, ps->late,
	         ps->unknown_people, a->batches_applied, a->batches_stale, a->batches_fenced,
	         a->batches_duplicate, a->batches_rejected, a->batch_retries,
	         a->batches_pipelined, a->pipelined_dropped, ps->capped, a->batches_caps_changed,
	         a->backpressure_pauses,
	         a->kpi_updates, a->kpi_suppressed, a->escalations, roster_size(a->roster),
	         a->roster_records, a->roster_invalid, out->delivered, out->failed,
	         redis_store_commands_sent(a->store));
	app_log_reasons(a, "ignored");
	app_log_reasons(a, "dead_lettered");
}

static void app_stats_cb(evutil_socket_t fd, short what, void *arg)
{
	app_log_stats(arg);
}

static void app_shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	app *a = arg;

	if (app_batches_empty(a)) {
		/* Only the escalation hand-over waits. The outbox keeps its events, so the exit stays 0. */
		log_warn("main", "the escalation lease was not given up within the drain time; "
		         "another instance takes over when it expires and sends the outbox again",
		         "drain_timeout_ms=%" PRId64, a->cfg->shutdown.drain_timeout_ms);
	} else {
		log_error("main", "the current batch could not be written within the drain time; its "
		          "offsets are not committed, so it is consumed again at the next start",
		          "drain_timeout_ms=%" PRId64, a->cfg->shutdown.drain_timeout_ms);
		a->exit_code = APP_EXIT_DRAIN;
	}
	a->escalations_stopped = true;
	app_finish_stop(a);
}

/* First SIGTERM or SIGINT: drain. Second: stop at once. */
static void app_stop_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	app *a = arg;
	int64_t drain_ms = a->cfg->shutdown.drain_timeout_ms;
	struct timeval wait = { drain_ms / 1000, (drain_ms % 1000) * 1000 };

	if (a->stopping) {
		log_warn("main", "second stop signal; stopping at once without finishing the batch "
		         "or the flush", "signal=%d", (int)sig);
		a->exit_code = APP_EXIT_DRAIN;
		a->stop_deadline_ms = app_now_ms();
		a->escalations_stopped = true;
		app_finish_stop(a);
		return;
	}
	log_info("main", "shutting down", "signal=%d drain_timeout_ms=%" PRId64, (int)sig,
	         drain_ms);
	a->stopping = true;
	a->stop_deadline_ms = app_now_ms() + drain_ms;
	if (app_batches_empty(a)) {
		app_finish_stop(a);
		return;
	}
	/* When only a dropped write's reply is awaited, there is nothing to send. */
	if (!app_in_flight(a) && a->fill->n_parts > 0)
		app_close_batch(a);
	/* A batch is in flight or waiting for Redis: let it finish first. */
	evtimer_add(a->shutdown_timer, &wait);
}

/* Reads the admin tokens again; a failure keeps the previous ones and counts. */
static void app_reload_tokens(app *a)
{
	if (a->admin && admin_reload_tokens(a->admin) < 0)
		app_count_reload(a, false);
}

/* Reloads the tokens after POST /api/reload, whose response is sent by now. */
static void app_tokens_reload_cb(evutil_socket_t fd, short what, void *arg)
{
	app_reload_tokens(arg);
}

/*
 * SIGHUP: reloads the config, reads the admin tokens again and reopens the
 * audit log, for rotation by renaming.
 */
static void app_reload_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	app *a = arg;
	char result[APP_RELOAD_RESULT_MAX];

	if (a->admin)
		admin_reopen_audit_log(a->admin);
	app_reload_tokens(a);
	app_request_reload(a, result, sizeof(result));
}

/* Async-signal-safe: what remains of the stop is given up, without a log line. */
static void app_exit_now(int sig)
{
	(void)sig;
	_exit(APP_EXIT_DRAIN);
}

/*
 * Makes a SIGTERM or SIGINT end the process at once with exit code 3 after
 * the loop has stopped. The producer flush and the consumer leaving its
 * group still block for seconds outside the loop, and a second signal must
 * stop them as it does while the loop runs. Freeing the loop's signal
 * events first hands the signals to this handler.
 */
static void app_exit_on_next_signal(app *a)
{
	struct sigaction sa = { .sa_handler = app_exit_now };

	for (int i = 0; i < APP_SIGNALS; i++) {
		if (a->signal_events[i])
			event_free(a->signal_events[i]);
		a->signal_events[i] = NULL;
	}
	log_info("main", "stopping: a further SIGTERM or SIGINT exits at once with code 3",
	         "%s", "");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
}

/* ---------------------------------------------------------------- admin */

/*
 * Serves POST /api/reload: the same reload as SIGHUP, with its result for
 * the caller. The tokens are read again after the response is sent, because
 * the request being served points into the current ones.
 */
static int app_admin_reload_cb(void *opaque, char *result, size_t size)
{
	app *a = opaque;
	struct timeval now = { 0, 0 };

	evtimer_add(a->tokens_timer, &now);
	return app_request_reload(a, result, size);
}

/* Writes reason into reasons at *used as one "not ready: ..." line. */
static void app_not_ready(char *reasons, size_t size, size_t *used, const char *reason)
{
	int n = snprintf(reasons + *used, size - *used, "not ready: %s\n", reason);

	if (n > 0)
		*used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

/* The /readyz check: consuming needs Redis, assigned partitions and the roster. */
static int app_ready_cb(void *opaque, char *reasons, size_t size)
{
	app *a = opaque;
	size_t used = 0;

	if (a->stopping)
		app_not_ready(reasons, size, &used, "shutting down");
	if (!a->store || !redis_store_connected(a->store))
		app_not_ready(reasons, size, &used, "redis disconnected");
	if (!a->consumer || kafka_consumer_assigned(a->consumer) == 0)
		app_not_ready(reasons, size, &used, "no partitions assigned");
	else if (!a->owners || ownership_started(a->owners) == 0)
		app_not_ready(reasons, size, &used, "assigned partitions not claimed in redis yet");
	if (a->state == APP_BATCH_RETRYING)
		app_not_ready(reasons, size, &used, "batch write to redis failing, retrying");
	if (!a->roster_reader || !kafka_roster_loaded(a->roster_reader))
		app_not_ready(reasons, size, &used, "roster not loaded");
	return used == 0;
}

/* Copies the app's and the clients' counters into the metrics before a scrape. */
static void app_collect_metrics_cb(metrics *m, void *opaque)
{
	app *a = opaque;
	app_metrics_sources src = {
		.pipeline = a->pipeline, .consumer = a->consumer,
		.roster_reader = a->roster_reader, .producer = a->producer, .store = a->store,
		.escalation = a->escalation, .scorecard = a->scorecard,
		.roster_people = a->roster ? roster_size(a->roster) : 0,
		.kpi_scopes_suppressed = a->kpi_suppressed,
		.batches_applied = a->batches_applied, .batches_stale = a->batches_stale,
		.batches_fenced = a->batches_fenced, .batches_duplicate = a->batches_duplicate,
		.batches_rejected = a->batches_rejected, .batch_retries = a->batch_retries,
		.batches_pipelined = a->batches_pipelined,
	};

	admin_get_live_stats(a->admin, &src.live);
	for (size_t i = 0; i < a->n_reasons; i++)
		app_metrics_reason(a->app_metrics, a->reasons[i].outcome, a->reasons[i].reason,
		                   a->reasons[i].count);
	app_metrics_collect(a->app_metrics, &src);
}

static const char *app_metrics_text_cb(void *opaque, size_t *len)
{
	app *a = opaque;
	return metrics_render(a->metrics, len);
}

static int app_init_metrics(app *a)
{
	a->metrics = metrics_new();
	a->app_metrics = a->metrics ? app_metrics_new(a->metrics, a->cfg->admin.kpi_gauges) : NULL;
	if (!a->app_metrics)
		return -1;
	metrics_set_config_version(a->metrics, a->cfg->version);
	metrics_set_collect(a->metrics, app_collect_metrics_cb, a);
	return 0;
}

static int app_init_admin(app *a, char *err, size_t err_size)
{
	if (!a->cfg->admin.enabled)
		return 0;
	a->admin = admin_new(a->base, a->cfg, app_ready_cb, a, err, err_size);
	if (!a->admin)
		return -1;
	admin_set_scorecard(a->admin, a->scorecard);
	admin_set_metrics(a->admin, app_metrics_text_cb, a);
	admin_set_reload_cb(a->admin, app_admin_reload_cb, a);
	return 0;
}

/* ---------------------------------------------------------------- setup */

static int app_init_processors(app *a, char *err, size_t err_size)
{
	const config *cfg = a->cfg;

	if (cfg->windows.n_windows > APP_MAX_WINDOWS) {
		snprintf(err, err_size, "windows.rolling: %zu windows configured, at most %d are "
		         "supported; remove some", cfg->windows.n_windows, APP_MAX_WINDOWS);
		return -1;
	}
	if (privacy_new(cfg->privacy.key_file, cfg->privacy.key_id, 0, &a->privacy, err,
	                err_size) < 0)
		return -1;
	privacy_derive(a->privacy, "advocacyd departure key", a->departure_secret);
	a->roster = roster_new();
	a->clock = window_clock_new(cfg, err, err_size);
	if (!a->roster || !a->clock)
		return -1;
	a->pipeline = pipeline_new(cfg, a->privacy, a->roster, a->clock, err, err_size);
	for (size_t i = 0; i < 3; i++) {
		a->batches[i].app = a;
		a->batches[i].cells = window_batch_new();
		a->batches[i].ids = dedup_batch_new();
		a->batches[i].caps = caps_batch_new();
		if (!a->batches[i].cells || !a->batches[i].ids || !a->batches[i].caps)
			return -1;
	}
	a->fill = &a->batches[0];
	a->flight = &a->batches[1];
	a->spare = &a->batches[2];
	a->tick = kpi_tick_new(cfg);
	a->scorecard = scorecard_new(cfg);
	a->bias = bias_audit_new(cfg);
	a->encoder = encoder_new(err, err_size);
	if (!a->pipeline || !a->tick || !a->scorecard || !a->bias || !a->encoder)
		return -1;
	a->bias_encoder = encode_bias_new(err, err_size);
	if (!a->bias_encoder)
		return -1;
	kpi_tick_set_suppressed_cb(a->tick, app_kpi_suppressed_cb, a);
	return 0;
}

/*
 * Schema sources of Avro input and, with a registry, the output schema ids.
 * A registry that does not take the output schemas stops the start: the
 * service manager's restart retries it.
 */
static int app_init_schemas(app *a, char *err, size_t err_size)
{
	a->schemas = schema_registry_new(a->cfg, err, err_size);
	if (!a->schemas)
		return err[0] ? -1 : 0;
	if (schema_registry_register_outputs(a->schemas, a->cfg, err, err_size) < 0)
		return -1;
	schema_registry_apply_ids(a->schemas, a->cfg);
	if (pipeline_set_schema_lookup(a->pipeline, schema_registry_lookup, a->schemas,
	                               a->cfg->schema_registry.unknown_id_retry_ms) < 0) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	return 0;
}

/* Routes libevent's and evhttp's own messages into the daemon's log. */
static void app_libevent_log_cb(int severity, const char *msg)
{
	log_level level = severity >= EVENT_LOG_ERR ? LOG_LEVEL_ERROR :
	                  severity == EVENT_LOG_WARN ? LOG_LEVEL_WARN :
	                  severity == EVENT_LOG_MSG ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;

	/* The text goes in a field: messages carry fds and addresses, so the
	 * repeat limit groups them by level rather than by text. */
	log_write(level, "libevent", "libevent message", "detail=\"%s\"", msg);
}

static int app_init_events(app *a)
{
	struct timeval tick = { a->cfg->outputs.tick_interval_ms / 1000,
	                        (a->cfg->outputs.tick_interval_ms % 1000) * 1000 };
	struct timeval stats = { APP_STATS_INTERVAL_S, 0 };
	const int signals[APP_SIGNALS] = { SIGTERM, SIGINT, SIGHUP };

	event_set_log_callback(app_libevent_log_cb);
	a->base = event_base_new();
	if (!a->base)
		return -1;
	for (int i = 0; i < APP_SIGNALS; i++) {
		a->signal_events[i] = evsignal_new(a->base, signals[i],
		                                   signals[i] == SIGHUP ? app_reload_signal_cb
		                                                        : app_stop_signal_cb, a);
		if (!a->signal_events[i] || event_add(a->signal_events[i], NULL) < 0)
			return -1;
	}
	a->kick_event = event_new(a->base, -1, 0, app_kick_cb, a);
	a->retry_timer = evtimer_new(a->base, app_retry_cb, a);
	a->fill_timer = evtimer_new(a->base, app_kick_cb, a);
	a->tick_timer = event_new(a->base, -1, EV_PERSIST, app_tick_cb, a);
	a->stats_timer = event_new(a->base, -1, EV_PERSIST, app_stats_cb, a);
	a->shutdown_timer = evtimer_new(a->base, app_shutdown_timeout_cb, a);
	a->tokens_timer = evtimer_new(a->base, app_tokens_reload_cb, a);
	if (!a->kick_event || !a->retry_timer || !a->fill_timer || !a->tick_timer ||
	    !a->stats_timer ||
	    !a->shutdown_timer || !a->tokens_timer)
		return -1;
	event_add(a->tick_timer, &tick);
	event_add(a->stats_timer, &stats);
	return 0;
}

static int app_init_clients(app *a, char *err, size_t err_size)
{
	a->producer = kafka_producer_new(a->base, a->cfg, err, err_size);
	if (!a->producer)
		return -1;
	a->store = redis_store_new(a->base, a->cfg, app_store_state_cb, a, err, err_size);
	if (!a->store)
		return -1;
	a->roster_reader = kafka_roster_new(a->base, a->cfg, app_roster_cb, a, err, err_size);
	if (!a->roster_reader)
		return -1;
	if (kafka_roster_load(a->roster_reader, 30000) < 0)
		log_warn("roster", "roster topic not read to its end within 30 s; consumption waits "
		         "until it is", "topic=%s", a->cfg->kafka.roster_topic);
	else
		log_info("roster", "roster loaded", "people=%zu scopes=%" PRIu32,
		         roster_size(a->roster), roster_scope_count(a->roster));
	a->owners = ownership_new(a->base, a->cfg, a->store);
	if (!a->owners)
		return -1;
	kafka_consumer_callbacks cbs = { app_wake_cb, app_assigned_cb, app_revoked_cb, a };
	a->consumer = kafka_consumer_new(a->base, a->cfg, &cbs, err, err_size);
	if (!a->consumer)
		return -1;
	ownership_set_consumer(a->owners, a->consumer);
	a->governance = governance_new(a->base, a->store, a->producer,
	                               a->cfg->outputs.governance_topic);
	if (!a->governance || governance_submit(a->governance, a->cfg) < 0)
		return -1;
	escalation_deps deps = {
	    .base = a->base, .cfg = a->cfg, .store = a->store, .producer = a->producer,
	    .encoder = a->encoder, .instance = ownership_instance(a->owners),
	    .on_event = app_alert_cb, .opaque = a,
	};
	a->escalation = escalation_new(&deps);
	return a->escalation ? 0 : -1;
}

static void app_fini(app *a, int producer_wait_ms)
{
	a->closing = true;
	admin_free(a->admin);
	a->admin = NULL; /* escalations resolved while stopping must not reach it */
	app_metrics_free(a->app_metrics);
	metrics_free(a->metrics);
	/* Close the consumer before the store: its final revoke may still run. */
	kafka_consumer_free(a->consumer);
	kafka_roster_free(a->roster_reader);
	/* Freeing the store fails pending claims, whose callbacks use the owners. */
	if (a->escalation)
		escalation_stop(a->escalation, NULL, NULL);
	redis_store_free(a->store);
	ownership_free(a->owners);
	/* After the producer: its last delivery reports count down their in-flight counters. */
	if (a->producer)
		kafka_producer_free(a->producer, producer_wait_ms);
	governance_free(a->governance);
	escalation_free(a->escalation);
	struct event *events[] = { a->signal_events[0], a->signal_events[1],
	                           a->signal_events[2], a->kick_event,
	                           a->retry_timer, a->fill_timer, a->tick_timer, a->stats_timer,
	                           a->shutdown_timer, a->tokens_timer };
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i])
			event_free(events[i]);
	encode_buf_free(&a->out);
	encoder_free(a->encoder);
	encode_bias_free(a->bias_encoder);
	bias_audit_free(a->bias);
	kpi_tick_free(a->tick);
	scorecard_free(a->scorecard);
	for (size_t i = 0; i < 3; i++) {
		window_batch_free(a->batches[i].cells);
		dedup_batch_free(a->batches[i].ids);
		caps_batch_free(a->batches[i].caps);
	}
	free(a->single.buf);
	pipeline_free(a->pipeline);
	schema_registry_free(a->schemas);
	window_clock_free(a->clock);
	roster_free(a->roster);
	headcount_departures_fini(&a->departures);
	OPENSSL_cleanse(a->departure_secret, sizeof(a->departure_secret));
	privacy_free(a->privacy);
	if (a->base)
		event_base_free(a->base);
	config_free(a->pending_cfg);
	if (a->cfg != a->start_cfg)
		config_free(a->cfg);
	config_free(a->start_cfg);
}

/*
 * After a stop signal, flushes the producer within what is left of the
 * drain; a record still queued then makes the exit code 3. Returns how
 * long app_fini may still wait for the producer.
 */
static int app_drain_producer(app *a)
{
	int64_t left;

	if (!a->stopping || !a->producer)
		return APP_PRODUCER_WAIT_MS;
	left = a->stop_deadline_ms - app_now_ms();
	if (left < 0)
		left = 0;
	if (kafka_producer_flush(a->producer, (int)left) < 0 && a->exit_code == APP_EXIT_OK) {
		log_error("main", "records still queued for Kafka when the drain time ran out; they "
		          "are lost", "queued=%zu", kafka_producer_backlog(a->producer));
		a->exit_code = APP_EXIT_DRAIN;
	}
	return 0;
}

int app_run(config *cfg)
{
	app *a = calloc(1, sizeof(*a));
	char err[512] = "";

	if (!a) {
		log_error("main", "out of memory", "%s", "");
		config_free(cfg);
		return APP_EXIT_FAILURE;
	}
	a->cfg = cfg;
	a->start_cfg = cfg;
	if (app_init_processors(a, err, sizeof(err)) < 0 ||
	    app_init_schemas(a, err, sizeof(err)) < 0 || app_init_metrics(a) < 0 ||
	    app_init_events(a) < 0 || app_init_admin(a, err, sizeof(err)) < 0 ||
	    app_init_clients(a, err, sizeof(err)) < 0) {
		log_error("main", "startup failed", "error=\"%s\"", err[0] ? err : "out of memory");
		a->exit_code = APP_EXIT_FAILURE;
	} else {
		log_info("main", "started", "version=%s config_version=%s inputs=%zu kpis=%zu",
		         ADVOCACY_VERSION, cfg->version, cfg->kafka.n_inputs, cfg->n_kpis);
		event_base_dispatch(a->base);
		if (app_batches_empty(a))
			log_info("main", "no batch pending at stop", "%s", "");
	}
	app_exit_on_next_signal(a);
	int producer_wait_ms = app_drain_producer(a);
	if (a->producer && a->pipeline)
		app_log_stats(a);
	int code = a->exit_code;
	app_fini(a, producer_wait_ms);
	free(a);
	log_info("main", "stopped", "exit_code=%d", code);
	return code;
}
