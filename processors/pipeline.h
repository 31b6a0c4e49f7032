/*
 * pipeline.h - one input message in, pre-aggregated behaviours out.
 *
 * pipeline_process() runs the per-event path: decode (Avro, or the JSON of a platform),
 * event-time checks, classify, the rules' conditions (gate.h: the actor's
 * consent, amounts), pseudonymize every person id, look the person up in the
 * roster, and add each behaviour to the batch for every scope of the person
 * and every bucket granularity. Raw ids exist only inside this call; the
 * batch receives pseudonyms.
 *
 * Events that count are checked for repeats (dedup.h): an id already in
 * the batch, or reported counted by Redis, is ignored as duplicate_event.
 * The ids go into the batch's dedup_batch, which the caller writes to Redis
 * with the counts.
 *
 * People missing from the roster count at org level only (their pseudonym
 * still counts as a distinct contributor) and are counted in the stats.
 * Contributors are recorded only at the granularities that KPIs read them
 * from (window_contributor_grans()); counts go to every granularity.
 *
 * Hot path: no allocation once the decoders, the pseudonym cache and the
 * batch are warm. Single-threaded.
 */
#ifndef ADVOCACY_PIPELINE_H
#define ADVOCACY_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "caps.h"
#include "classify.h"
#include "dedup.h"
#include "event.h"
#include "privacy.h"
#include "roster.h"
#include "schema_cache.h"
#include "window.h"

typedef struct pipeline_stats {
	uint64_t messages;         /* messages handed to pipeline_process */
	uint64_t events;           /* decoded events that reached classify */
	uint64_t decoded[INPUT_FORMAT_COUNT]; /* messages decoded into an event, by format */
	uint64_t ignored;          /* DECODE_IGNORED, incl. unmapped kinds */
	uint64_t invalid;          /* DECODE_INVALID, incl. late and future events */
	uint64_t late;             /* older than the allowed lateness */
	uint64_t behaviours;       /* behaviour credits added to the batch */
	uint64_t unknown_people;   /* credits for people not in the roster */
	uint64_t duplicates;       /* events whose id was counted before */
	uint64_t capped;           /* credits above a daily cap, not counted */
} pipeline_stats;

typedef struct pipeline pipeline;

/* Outcomes of the events of one message that share a status and reason. */
typedef struct pipeline_outcome {
	decode_status status;
	const char *reason;
	uint32_t count;
} pipeline_outcome;

/* Borrows cfg, p, r and clock, which must outlive the pipeline. */
pipeline *pipeline_new(const config *cfg, privacy *p, roster *r, window_clock *clock,
                       char *errstr, size_t errstr_size);
void pipeline_free(pipeline *pl);

/*
 * Processes one message of the given format received at now_ms. Returns the
 * status: DECODE_OK when its behaviours went into batch, DECODE_IGNORED when
 * it carries none (res->reason gives the cause), DECODE_INVALID when the
 * caller must dead-letter it (res->reason and res->detail give the cause). On a batch memory
 * failure the message is reported DECODE_INVALID with reason "out_of_memory".
 */
decode_status pipeline_process(pipeline *pl, input_format format, const void *buf,
                               size_t len, int64_t now_ms, window_batch *batch,
                               dedup_batch *ids, decode_result *res);

/*
 * Like pipeline_process(), for a message read from kafka.inputs[input]: an
 * analytics input decodes with its own event map (analytics.events). input
 * SIZE_MAX, or any index past the inputs, means no input and the defaults.
 */
decode_status pipeline_process_input(pipeline *pl, input_format format, size_t input,
                                     const void *buf, size_t len, int64_t now_ms,
                                     window_batch *batch, dedup_batch *ids,
                                     decode_result *res);

/*
 * Like pipeline_process_input(), and decides the daily caps (caps.h) of the
 * credits into capped, the caps batch that goes to Redis with batch. The
 * two functions above apply no cap: every credit counts.
 */
decode_status pipeline_process_capped(pipeline *pl, input_format format, size_t input,
                                      const void *buf, size_t len, int64_t now_ms,
                                      window_batch *batch, dedup_batch *ids, caps_batch *capped,
                                      decode_result *res);

/*
 * The daily cap decisions the pipeline keeps across batches: the caller
 * tells it which caps batch is in flight, what Redis reported and which
 * batch was written (see caps.h).
 */
caps *pipeline_caps(pipeline *pl);

/*
 * A Graph, xAPI, Viva Engage, analytics or social message can contain several
 * events.
 * pipeline_process() runs each through the path above and reports the
 * message as DECODE_INVALID when any event is invalid, else DECODE_OK when
 * any event counted, else DECODE_IGNORED. res then describes the first
 * invalid (or ignored) event, prefixed with its position. So the message is
 * dead-lettered once while its valid events still count; replaying it is
 * safe because their event ids are stable. This function returns the
 * outcomes of the other events, which res does not describe, until the next
 * pipeline_process() call. For such messages the stats count ignored and
 * invalid events, not messages.
 */
const pipeline_outcome *pipeline_other_outcomes(const pipeline *pl, size_t *n);

/*
 * Ids Redis reports as counted before: later messages carrying them are
 * repeats. They stay exact until pipeline_batch_written(), and in a cache
 * of recent ids after that, so that a batch read again after any number of
 * such reports drops every id reported for it and is eventually written.
 */
void pipeline_note_counted(pipeline *pl, const uint64_t *ids, size_t n);

/*
 * The ids of the batches being written while the next one fills, older
 * first (NULL when none): later messages carrying them are repeats too.
 * The pipeline only borrows them; pipeline_batch_written() or a read-again
 * follows.
 */
void pipeline_set_in_flight(pipeline *pl, const dedup_batch *older, const dedup_batch *newer);

/*
 * Call when a batch is written: its ids go into the cache of counted ids,
 * so that a replay this instance reads later is dropped without a refused
 * write, and the exact ids of pipeline_note_counted() are forgotten. Its
 * credits go into a cache of contributors Redis holds: a later credit of
 * the same person, behaviour, bucket and scopes then adds only its count,
 * not the member again. That cache is forgotten once a minute (see
 * pipeline_forget_written_credits()).
 */
void pipeline_batch_written(pipeline *pl, const dedup_batch *written,
                            const window_batch *cells, int64_t now_ms);

/*
 * Forgets which contributors Redis holds. Call when the Redis connection is
 * new: a restarted Redis may have lost them. Also done once a minute, so
 * that a HyperLogLog another client deleted gets its members back.
 */
void pipeline_forget_written_credits(pipeline *pl, int64_t now_ms);

/*
 * Switches to cfg after a reload: a classifier for its behaviours, its
 * lateness limits, the granularities its KPIs read contributors from. What shapes the batch (granularities, rolling windows,
 * dedup horizon) is restart-only and stays as it was. Call between batches
 * only: cells of a batch hold behaviour indices of the old config. Returns
 * 0, or -1 when out of memory (the pipeline keeps the old config).
 */
int pipeline_set_config(pipeline *pl, const config *cfg);

/*
 * Makes the Avro decoder look each Confluent schema id up with fn (see
 * decode_avro_set_lookup). Returns 0, or -1 when out of memory.
 */
int pipeline_set_schema_lookup(pipeline *pl, schema_lookup_fn fn, void *opaque,
                               int64_t retry_ms);

const pipeline_stats *pipeline_get_stats(const pipeline *pl);

#endif
