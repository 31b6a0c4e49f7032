/*
 * pipeline.c - the per-event path from message bytes to batch cells.
 *
 * Fan-out per event: hits (matching rules) x credited people (actor or each
 * target) x scopes of that person (org plus up to six roster dimensions) x
 * bucket granularities. With the defaults that is one window_batch_credit()
 * call per hit, person and granularity: a hash probe per scope for the
 * counts and, where contributors are kept, one more for the person.
 */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "decode_avro.h"
#include "decode_slack.h"
#include "dedup.h"

#define PIPELINE_MAX_HITS 16
#define PIPELINE_KNOWN_IDS (1 << 20) /* 8 MiB of recently counted ids */
#define PIPELINE_WRITTEN_CREDITS (1 << 17) /* 1 MiB of contributors already in Redis */
#define PIPELINE_FORGET_CREDITS_MS 60000

struct pipeline {
	const config *cfg;
	privacy *privacy;
	roster *roster;
	window_clock *clock;
	classifier *classifier;
	decode_avro *avro;
	decode_slack *slack;
	dedup_id_key *id_key;      /* keys the event id hashes, see dedup.h */
	dedup_known *known;
	/* Credit keys (window_credit_key()) whose contributor Redis already holds. */
	dedup_known *written_credits;
	int64_t credits_cleared_ms;
	dedup_batch *reported;     /* ids Redis reported since the last written batch */
	const dedup_batch *in_flight; /* ids of the batch being written, or NULL */
	int64_t keep_ms[CONFIG_MAX_GRANULARITIES]; /* see window_keep_ms() */
	uint32_t *contributor_grans; /* per behaviour, see window_contributor_grans() */
	pipeline_stats stats;
};

/* The event id key, derived from the HMAC key so that it never sits on its own. */
static dedup_id_key *pipeline_new_id_key(privacy *p)
{
	uint8_t secret[32];

	privacy_derive(p, "advocacyd event id key", secret);
	dedup_id_key *k = dedup_id_key_new(secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	return k;
}

pipeline *pipeline_new(const config *cfg, privacy *p, roster *r, window_clock *clock,
                       char *errstr, size_t errstr_size)
{
	pipeline *pl = calloc(1, sizeof(*pl));

	if (!pl) {
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	pl->privacy = p;
	pl->roster = r;
	pl->clock = clock;
	for (size_t g = 0; g < cfg->windows.n_granularities; g++)
		pl->keep_ms[g] = window_keep_ms(cfg, g);
	pl->avro = decode_avro_new(errstr, errstr_size);
	pl->slack = decode_slack_new();
	pl->id_key = pipeline_new_id_key(p);
	pl->known = dedup_known_new(PIPELINE_KNOWN_IDS);
	pl->written_credits = dedup_known_new(PIPELINE_WRITTEN_CREDITS);
	pl->reported = dedup_batch_new();
	if (!pl->avro || !pl->slack || !pl->id_key || !pl->known || !pl->written_credits ||
	    !pl->reported ||
	    pipeline_set_config(pl, cfg) < 0) {
		if (pl->avro)
			snprintf(errstr, errstr_size, "out of memory");
		pipeline_free(pl);
		return NULL;
	}
	return pl;
}

void pipeline_free(pipeline *pl)
{
	if (!pl)
		return;
	classify_free(pl->classifier);
	decode_avro_free(pl->avro);
	decode_slack_free(pl->slack);
	dedup_id_key_free(pl->id_key);
	dedup_known_free(pl->known);
	dedup_known_free(pl->written_credits);
	dedup_batch_free(pl->reported);
	free(pl->contributor_grans);
	free(pl);
}

int pipeline_set_config(pipeline *pl, const config *cfg)
{
	classifier *c = classify_new(cfg);
	uint32_t *grans = calloc(cfg->n_behaviours + 1, sizeof(*grans));

	if (!c || !grans) {
		classify_free(c);
		free(grans);
		return -1;
	}
	for (size_t b = 0; b < cfg->n_behaviours; b++)
		grans[b] = window_contributor_grans(cfg, b);
	classify_free(pl->classifier);
	free(pl->contributor_grans);
	/* Behaviour indices may mean other behaviours now. */
	if (pl->written_credits)
		dedup_known_clear(pl->written_credits);
	pl->classifier = c;
	pl->contributor_grans = grans;
	pl->cfg = cfg;
	return 0;
}

const pipeline_stats *pipeline_get_stats(const pipeline *pl)
{
	return &pl->stats;
}

static decode_status pipeline_reject(decode_result *res, decode_status status,
                                     const char *reason, const char *detail)
{
	res->status = status;
	res->reason = reason;
	snprintf(res->detail, sizeof(res->detail), "%s", detail);
	return status;
}

/* Checks the event time against the allowed lateness and the future limit. */
static decode_status pipeline_check_time(pipeline *pl, const event *ev, int64_t now_ms,
                                         decode_result *res)
{
	int64_t t = ev->event_time_ms;

	if (t < now_ms - pl->cfg->windows.allowed_lateness_ms) {
		pl->stats.late++;
		return pipeline_reject(res, DECODE_INVALID, "late",
		                       "event time is older than windows.allowed_lateness");
	}
	if (t > now_ms + pl->cfg->windows.max_future_ms)
		return pipeline_reject(res, DECODE_INVALID, "future_event_time",
		                       "event time is further ahead than windows.max_future");
	return DECODE_OK;
}

/* Adds one credit for the person with raw id `id` to every scope and granularity. */
static int pipeline_credit(pipeline *pl, event_str id, const classify_hit *hit,
                           int64_t t_ms, int64_t now_ms, window_batch *batch)
{
	static const uint32_t org_only[SCOPE_KIND_COUNT] = {
		ROSTER_ORG_SCOPE, ROSTER_NO_SCOPE, ROSTER_NO_SCOPE, ROSTER_NO_SCOPE,
		ROSTER_NO_SCOPE, ROSTER_NO_SCOPE, ROSTER_NO_SCOPE,
	};
	pseudonym alias;
	const pseudonym *contributor = NULL;
	const uint32_t *scopes = org_only;
	uint32_t distinct = hit->effect > 0 ? pl->contributor_grans[hit->behaviour] : 0;

	privacy_pseudonym(pl->privacy, id.ptr, id.len, &alias);
	const roster_person *person = roster_lookup(pl->roster, &alias);
	if (person) {
		contributor = &person->employee;
		scopes = person->scopes;
	} else {
		pl->stats.unknown_people++;
	}

	uint32_t credited[SCOPE_KIND_COUNT];
	size_t n = 0;
	for (int k = 0; k < SCOPE_KIND_COUNT; k++)
		if (scopes[k] != ROSTER_NO_SCOPE)
			credited[n++] = scopes[k];

	for (size_t g = 0; g < pl->cfg->windows.n_granularities; g++) {
		/* No window reads this granularity that far back: skip the write. */
		if (t_ms < now_ms - pl->keep_ms[g])
			continue;
		int64_t start = window_bucket_start(pl->clock, g, t_ms);
		const pseudonym *member = distinct >> g & 1 ? contributor : NULL;
		/* Redis already holds this member in these cells: count only. */
		if (member && dedup_known_has(pl->written_credits,
		                              window_credit_key(member, hit->behaviour, credited, n,
		                                                (uint8_t)g, start)))
			member = NULL;
		if (window_batch_credit(batch, hit->behaviour, credited, n, (uint8_t)g, start,
		                        hit->effect, member) < 0)
			return -1;
	}
	pl->stats.behaviours++;
	return 0;
}

static int pipeline_apply_hit(pipeline *pl, const event *ev, const classify_hit *hit,
                              int64_t now_ms, window_batch *batch)
{
	int64_t t = ev->event_time_ms;

	if (hit->credit == CREDIT_ACTOR)
		return ev->actor_id.len ? pipeline_credit(pl, ev->actor_id, hit, t, now_ms, batch) : 0;

	for (size_t i = 0; i < ev->target_count; i++)
		if (pipeline_credit(pl, ev->target_ids[i], hit, t, now_ms, batch) < 0)
			return -1;
	return 0;
}

/*
 * Records the event's id in the batch. Returns DECODE_OK for an event to
 * count, DECODE_IGNORED for a repeat, DECODE_INVALID when out of memory.
 */
static decode_status pipeline_check_repeat(pipeline *pl, const event *ev, dedup_batch *ids,
                                           decode_result *res)
{
	if (pl->cfg->windows.dedup_horizon_ms <= 0 || ev->event_id.len == 0)
		return DECODE_OK;
	uint64_t id = dedup_event_id(pl->id_key, ev->source, ev->kind, ev->event_id);
	bool known = dedup_known_has(pl->known, id) || dedup_batch_has(pl->reported, id) ||
	             (pl->in_flight && dedup_batch_has(pl->in_flight, id));
	int added = known ? 0 : dedup_batch_add(ids, id, ev->event_time_ms);
	if (added > 0)
		return DECODE_OK;
	if (added < 0)
		return pipeline_reject(res, DECODE_INVALID, "out_of_memory",
		                       "the batch could not grow; the message was not counted");
	pl->stats.duplicates++;
	return pipeline_reject(res, DECODE_IGNORED, "duplicate_event",
	                       "an event with this source, kind and event_id was counted before");
}

void pipeline_note_counted(pipeline *pl, const uint64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dedup_known_add(pl->known, ids[i]);
		/* NOTE: when this cannot grow, only the cache keeps the id, and two
		 * ids sharing a cache slot can be reported in turn again. */
		dedup_batch_add(pl->reported, ids[i], 0);
	}
}

void pipeline_set_in_flight(pipeline *pl, const dedup_batch *ids)
{
	pl->in_flight = ids;
}

static void pipeline_note_written_credit(uint64_t key, void *opaque)
{
	dedup_known_add(opaque, key);
}

void pipeline_batch_written(pipeline *pl, const dedup_batch *written,
                            const window_batch *cells, int64_t now_ms)
{
	const dedup_entry *e = dedup_batch_entries(written);

	for (size_t i = 0; i < dedup_batch_count(written); i++)
		dedup_known_add(pl->known, e[i].id);
	dedup_batch_reset(pl->reported);
	if (now_ms - pl->credits_cleared_ms >= PIPELINE_FORGET_CREDITS_MS)
		pipeline_forget_written_credits(pl, now_ms);
	window_batch_each_credit(cells, pipeline_note_written_credit, pl->written_credits);
}

void pipeline_forget_written_credits(pipeline *pl, int64_t now_ms)
{
	dedup_known_clear(pl->written_credits);
	pl->credits_cleared_ms = now_ms;
}

static decode_status pipeline_decode(pipeline *pl, input_format format, const void *buf,
                                     size_t len, event *ev, decode_result *res)
{
	if (format == INPUT_FORMAT_SLACK)
		return decode_slack_message(pl->slack, buf, len, ev, res);
	return decode_avro_message(pl->avro, buf, len, ev, res);
}

decode_status pipeline_process(pipeline *pl, input_format format, const void *buf,
                               size_t len, int64_t now_ms, window_batch *batch,
                               dedup_batch *ids, decode_result *res)
{
	event ev;
	classify_hit hits[PIPELINE_MAX_HITS];
	decode_status status;

	pl->stats.messages++;
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';

	status = pipeline_decode(pl, format, buf, len, &ev, res);
	if (status == DECODE_OK) {
		if (format < INPUT_FORMAT_COUNT)
			pl->stats.decoded[format]++;
		status = pipeline_check_time(pl, &ev, now_ms, res);
	}
	if (status != DECODE_OK) {
		res->status = status;
		if (status == DECODE_IGNORED)
			pl->stats.ignored++;
		else
			pl->stats.invalid++;
		return status;
	}
	pl->stats.events++;

	size_t n_hits = classify_event(pl->classifier, &ev, hits, PIPELINE_MAX_HITS);
	if (n_hits == 0) {
		pl->stats.ignored++;
		return pipeline_reject(res, DECODE_IGNORED, "unmapped_kind",
		                       "no behaviour rule matches the event");
	}
	if (n_hits > PIPELINE_MAX_HITS)
		n_hits = PIPELINE_MAX_HITS;
	status = pipeline_check_repeat(pl, &ev, ids, res);
	if (status != DECODE_OK) {
		if (status == DECODE_IGNORED)
			pl->stats.ignored++;
		else
			pl->stats.invalid++;
		return status;
	}

	for (size_t i = 0; i < n_hits; i++) {
		/* NOTE: on out of memory the credits added before the failure stay
		 * in the batch, so the dead-lettered event may be partly counted. */
		if (pipeline_apply_hit(pl, &ev, &hits[i], now_ms, batch) < 0) {
			pl->stats.invalid++;
			return pipeline_reject(res, DECODE_INVALID, "out_of_memory",
			                       "the batch could not grow; the message was not counted");
		}
	}
	return DECODE_OK;
}
