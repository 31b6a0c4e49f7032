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

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "caps.h"
#include "decode_analytics.h"
#include "decode_avro.h"
#include "decode_graph.h"
#include "decode_greenhouse.h"
#include "decode_slack.h"
#include "decode_social.h"
#include "decode_survey.h"
#include "decode_xapi.h"
#include "decode_viva.h"
#include "dedup.h"
#include "gate.h"

#define PIPELINE_MAX_HITS 16
/*
 * Slots of the cache of recently counted ids (2 MiB). Redis stores every id
 * of the dedup horizon. The cache only saves a rejected write and a re-read
 * of the batch when a replay arrives soon after the original. It is direct
 * mapped and keeps most of the last 262,144 ids, about five full batches at
 * the default kafka.batch_max_messages of 50000. That covers a connector
 * that redelivers what it sent just before a restart. An older replay
 * costs one rejected write per batch, never a wrong count.
 */
#define PIPELINE_KNOWN_IDS (1 << 18)
#define PIPELINE_MAX_OUTCOMES 16     /* distinct reasons kept per message */
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
	decode_graph *graph;
	dedup_id_key *id_key;      /* keys the event id hashes, see dedup.h */
	decode_greenhouse *greenhouse;
	decode_xapi *xapi;
	decode_survey *survey;
	decode_viva *viva;
	decode_analytics *analytics;
	decode_social *social;
	dedup_known *known;
	/* Credit keys (window_credit_key()) whose contributor Redis already holds. */
	dedup_known *written_credits;
	int64_t credits_cleared_ms;
	dedup_batch *reported;     /* ids Redis reported since the last written batch */
	caps *caps;                /* daily cap decisions, see caps.h */
	caps_batch *caps_fill;     /* the caller's caps batch during one call, or NULL */
	const dedup_batch *in_flight[2]; /* ids of the batches being written, or NULL */
	int64_t keep_ms[CONFIG_MAX_GRANULARITIES]; /* see window_keep_ms() */
	uint32_t *contributor_grans; /* per behaviour, see window_contributor_grans() */
	pipeline_stats stats;
	pipeline_outcome others[PIPELINE_MAX_OUTCOMES]; /* see pipeline_other_outcomes() */
	size_t n_others;
};

/* Gives the Graph decoder the private keys of every graph input. */
static int pipeline_add_graph_keys(pipeline *pl, const config *cfg, char *errstr,
                                   size_t errstr_size)
{
	char why[512];

	for (size_t i = 0; i < cfg->kafka.n_inputs; i++) {
		const config_input *in = &cfg->kafka.inputs[i];
		for (size_t k = 0; k < in->n_graph_keys; k++) {
			if (decode_graph_add_key(pl->graph, in->graph_keys[k].certificate_id,
			                         in->graph_keys[k].private_key_file, why,
			                         sizeof(why)) == 0)
				continue;
			snprintf(errstr, errstr_size, "kafka.inputs[%zu].graph.keys[%zu]: %s", i, k,
			         why);
			return -1;
		}
	}
	return 0;
}

/* The event id key, derived from the HMAC key so that it never sits on its own. */
static dedup_id_key *pipeline_new_id_key(privacy *p)
{
	uint8_t secret[32];

	privacy_derive(p, "advocacyd event id key", secret);
	dedup_id_key *k = dedup_id_key_new(secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	return k;
}

/* People assumed before the roster has more, for the caps cache. */
#define PIPELINE_CAPS_MIN_PEOPLE 1024

/*
 * Returns the size of the cache of confirmed daily cap counts. Without a
 * behaviour that has a daily_cap nothing reads the cache, so one set of
 * ways is enough. Otherwise the keys that matter are (person, capped
 * behaviour, local day) for each day that events are still accepted for,
 * which is windows.allowed_lateness plus today and one partial day. The
 * cache gets 1.5 slots per key, so that few of its 16-way sets overflow,
 * and it grows with the roster in pipeline_batch_written(). People outside the
 * roster are capped too but not counted here. When too many of them reach
 * their caps, the misses cost rejected writes (caps.h).
 */
static size_t pipeline_caps_slots(const config *cfg, const roster *r)
{
	size_t capped = 0, people = roster_size(r);

	for (size_t b = 0; b < cfg->n_behaviours; b++)
		capped += cfg->behaviours[b].daily_cap > 0;
	if (capped == 0)
		return 1;
	if (people < PIPELINE_CAPS_MIN_PEOPLE)
		people = PIPELINE_CAPS_MIN_PEOPLE;
	size_t days = (size_t)(cfg->windows.allowed_lateness_ms / 86400000) + 2;
	size_t keys = people * capped * days;
	return keys + keys / 2;
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
	pl->graph = decode_graph_new();
	pl->greenhouse = decode_greenhouse_new();
	pl->xapi = decode_xapi_new();
	pl->survey = decode_survey_new();
	pl->viva = decode_viva_new();
	pl->analytics = decode_analytics_new();
	pl->social = decode_social_new();
	pl->id_key = pipeline_new_id_key(p);
	pl->known = dedup_known_new(PIPELINE_KNOWN_IDS);
	pl->written_credits = dedup_known_new(PIPELINE_WRITTEN_CREDITS);
	pl->reported = dedup_batch_new();
	pl->caps = caps_new(pipeline_caps_slots(cfg, r));
	if (!pl->caps || !pl->avro || !pl->slack || !pl->graph || !pl->greenhouse || !pl->xapi || !pl->survey ||
	    !pl->viva || !pl->analytics || !pl->social || !pl->id_key || !pl->known ||
	    !pl->written_credits || !pl->reported || pipeline_set_config(pl, cfg) < 0) {
		if (pl->avro)
			snprintf(errstr, errstr_size, "out of memory");
		pipeline_free(pl);
		return NULL;
	}
	if (pipeline_add_graph_keys(pl, cfg, errstr, errstr_size) < 0) {
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
	decode_graph_free(pl->graph);
	dedup_id_key_free(pl->id_key);
	decode_greenhouse_free(pl->greenhouse);
	decode_xapi_free(pl->xapi);
	decode_survey_free(pl->survey);
	decode_viva_free(pl->viva);
	decode_analytics_free(pl->analytics);
	decode_social_free(pl->social);
	dedup_known_free(pl->known);
	dedup_known_free(pl->written_credits);
	dedup_batch_free(pl->reported);
	caps_free(pl->caps);
	free(pl->contributor_grans);
	free(pl);
}

int pipeline_set_config(pipeline *pl, const config *cfg)
{
	classifier *c = classify_new(cfg);
	uint32_t *grans = calloc(cfg->n_behaviours + 1, sizeof(*grans));

	/* Behaviour indices may mean other behaviours now, and the resize clears the caps cache. */
	if (!c || !grans || (pl->caps && caps_resize(pl->caps, pipeline_caps_slots(cfg, pl->roster)) < 0)) {
		classify_free(c);
		free(grans);
		return -1;
	}
	for (size_t b = 0; b < cfg->n_behaviours; b++)
		grans[b] = window_contributor_grans(cfg, b);
	classify_free(pl->classifier);
	free(pl->contributor_grans);
	if (pl->written_credits)
		dedup_known_clear(pl->written_credits);
	pl->classifier = c;
	pl->contributor_grans = grans;
	pl->cfg = cfg;
	return 0;
}

int pipeline_set_schema_lookup(pipeline *pl, schema_lookup_fn fn, void *opaque,
                               int64_t retry_ms)
{
	return decode_avro_set_lookup(pl->avro, fn, opaque, retry_ms);
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

/*
 * Decides a credit of a behaviour with a daily cap: returns 1 when it
 * counts, 0 when it is above the cap, -1 when out of memory. Retractions
 * and behaviours without a cap always count, and so does every credit when
 * the caller passed no caps batch.
 */
static int pipeline_cap(pipeline *pl, const pseudonym *person, const classify_hit *hit,
                        int64_t t_ms)
{
	int32_t cap = pl->cfg->behaviours[hit->behaviour].daily_cap;
	caps_key key;

	if (cap <= 0 || hit->effect < 0 || !pl->caps_fill)
		return 1;
	key.person = *person;
	key.behaviour = hit->behaviour;
	key.day_start_ms = window_local_day_start(pl->clock, t_ms);
	return caps_credit(pl->caps, pl->caps_fill, &key,
	                   window_local_day_end(pl->clock, key.day_start_ms), cap);
}

/* Adds the capped credit to every scope and granularity a count would go to. */
static int pipeline_credit_capped(pipeline *pl, const classify_hit *hit, const uint32_t *scopes,
                                  size_t n, int64_t t_ms, int64_t now_ms, window_batch *batch)
{
	for (size_t g = 0; g < pl->cfg->windows.n_granularities; g++) {
		if (t_ms < now_ms - pl->keep_ms[g])
			continue;
		int64_t start = window_bucket_start(pl->clock, g, t_ms);
		if (window_batch_credit_capped(batch, hit->behaviour, scopes, n, (uint8_t)g, start,
		                               hit->amount) < 0)
			return -1;
	}
	pl->stats.capped++;
	return 0;
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

	/* The employee's pseudonym when known, so that aliases share one cap. */
	int counts = pipeline_cap(pl, contributor ? contributor : &alias, hit, t_ms);
	if (counts < 0)
		return -1;
	if (counts == 0)
		return pipeline_credit_capped(pl, hit, credited, n, t_ms, now_ms, batch);

	for (size_t g = 0; g < pl->cfg->windows.n_granularities; g++) {
		/* No window reads this granularity that far back: skip the write. */
		if (t_ms < now_ms - pl->keep_ms[g])
			continue;
		int64_t start = window_bucket_start(pl->clock, g, t_ms);
		const pseudonym *member = distinct >> g & 1 ? contributor : NULL;
		/* Redis already has this member in these cells, so only the count is added. */
		if (member && dedup_known_has(pl->written_credits,
		                              window_credit_key(member, hit->behaviour, credited, n,
		                                                (uint8_t)g, start)))
			member = NULL;
		if (window_batch_credit(batch, hit->behaviour, credited, n, (uint8_t)g, start,
		                        hit->effect * hit->amount, member) < 0)
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
 * Returns the id of the event for the repeat check. A person who makes the
 * event unique (ev->id_person) enters as the hex of their pseudonym, so the
 * id depends on the person without a raw person id entering it.
 */
static uint64_t pipeline_dedup_id(pipeline *pl, const event *ev)
{
	uint64_t id = dedup_event_id(pl->id_key, ev->source, ev->kind, ev->event_id);
	char key[16 + 1 + PSEUDONYM_HEX_SIZE];
	pseudonym person;

	if (ev->id_person.len == 0)
		return id;
	privacy_pseudonym(pl->privacy, ev->id_person.ptr, ev->id_person.len, &person);
	snprintf(key, sizeof(key), "%016" PRIx64 ":", id);
	pseudonym_to_hex(&person, key + 17);
	return dedup_event_id(pl->id_key, ev->source, ev->kind, (event_str){key, sizeof(key) - 1});
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
	uint64_t id = pipeline_dedup_id(pl, ev);
	bool known = dedup_known_has(pl->known, id) || dedup_batch_has(pl->reported, id) ||
	             (pl->in_flight[0] && dedup_batch_has(pl->in_flight[0], id)) ||
	             (pl->in_flight[1] && dedup_batch_has(pl->in_flight[1], id));
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

void pipeline_set_in_flight(pipeline *pl, const dedup_batch *older, const dedup_batch *newer)
{
	pl->in_flight[0] = older;
	pl->in_flight[1] = newer;
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
	/* NOTE: a caps cache that cannot grow stays as it was, and its misses cost rejected writes. */
	size_t caps_slots = pipeline_caps_slots(pl->cfg, pl->roster);
	if (caps_slots > caps_cache_slots(pl->caps))
		caps_grow(pl->caps, caps_slots);
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
	if (format == INPUT_FORMAT_GREENHOUSE)
		return decode_greenhouse_message(pl->greenhouse, buf, len, ev, res);
	if (format == INPUT_FORMAT_TYPEFORM)
		return decode_survey_message(pl->survey, buf, len, ev, res);
	return decode_avro_message(pl->avro, buf, len, ev, res);
}

/* Counts a message or event that is not counted as a behaviour. */
static decode_status pipeline_tally(pipeline *pl, decode_result *res, decode_status status)
{
	res->status = status;
	if (status == DECODE_IGNORED)
		pl->stats.ignored++;
	else
		pl->stats.invalid++;
	return status;
}

/* Consent and amounts (gate.h); the actor is looked up only when a rule needs consent. */
static decode_status pipeline_gate(pipeline *pl, const event *ev, classify_hit *hits,
                                   size_t *n_hits, decode_result *res)
{
	const roster_person *actor = NULL;

	if (gate_needs_actor(hits, *n_hits) && ev->actor_id.len > 0) {
		pseudonym id;
		privacy_pseudonym(pl->privacy, ev->actor_id.ptr, ev->actor_id.len, &id);
		actor = roster_lookup(pl->roster, &id);
	}
	return gate_apply(ev, actor, hits, n_hits, res);
}

/* The per-event path after decode: time checks, classify, consent, repeats, credits. */
static decode_status pipeline_count_event(pipeline *pl, const event *ev, int64_t now_ms,
                                          window_batch *batch, dedup_batch *ids,
                                          decode_result *res)
{
	classify_hit hits[PIPELINE_MAX_HITS];
	decode_status status = pipeline_check_time(pl, ev, now_ms, res);

	if (status != DECODE_OK)
		return pipeline_tally(pl, res, status);
	pl->stats.events++;

	size_t n_hits = classify_event(pl->classifier, ev, hits, PIPELINE_MAX_HITS);
	if (n_hits == 0) {
		pl->stats.ignored++;
		return pipeline_reject(res, DECODE_IGNORED, "unmapped_kind",
		                       "no behaviour rule matches the event");
	}
	if (n_hits > PIPELINE_MAX_HITS)
		n_hits = PIPELINE_MAX_HITS;
	status = pipeline_gate(pl, ev, hits, &n_hits, res);
	if (status != DECODE_OK)
		return pipeline_tally(pl, res, status);
	status = pipeline_check_repeat(pl, ev, ids, res);
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
		if (pipeline_apply_hit(pl, ev, &hits[i], now_ms, batch) < 0) {
			pl->stats.invalid++;
			return pipeline_reject(res, DECODE_INVALID, "out_of_memory",
			                       "the batch could not grow; the message was not counted");
		}
	}
	return DECODE_OK;
}

/* Adds one outcome to the others of the message; reasons beyond the table are not kept. */
static void pipeline_note_other(pipeline *pl, decode_status status, const char *reason)
{
	for (size_t i = 0; i < pl->n_others; i++) {
		if (pl->others[i].status == status && pl->others[i].reason == reason) {
			pl->others[i].count++;
			return;
		}
	}
	if (pl->n_others < PIPELINE_MAX_OUTCOMES)
		pl->others[pl->n_others++] = (pipeline_outcome){ status, reason, 1 };
}

/*
 * Keeps in res the outcome that stands for the message (the first invalid
 * event, else the first ignored one) and notes every other one.
 */
static void pipeline_merge(pipeline *pl, decode_result *res, const decode_result *one,
                           size_t index)
{
	bool replaces = res->reason == NULL ||
	                (one->status == DECODE_INVALID && res->status != DECODE_INVALID);

	if (!replaces) {
		pipeline_note_other(pl, one->status, one->reason);
		return;
	}
	if (res->reason != NULL)
		pipeline_note_other(pl, res->status, res->reason);
	res->status = one->status;
	res->reason = one->reason;
	/* The prefix is short; the sentence after it is cut to what still fits. */
	int n = snprintf(res->detail, sizeof(res->detail), "event %zu of the message: ", index + 1);
	if (n > 0 && (size_t)n < sizeof(res->detail))
		snprintf(res->detail + n, sizeof(res->detail) - (size_t)n, "%.*s",
		         (int)(sizeof(res->detail) - (size_t)n - 1), one->detail);
}

/* The analytics event map of input, or none (the decoder's defaults). */
static const config_kv *pipeline_analytics_map(const pipeline *pl, size_t input, size_t *n)
{
	*n = 0;
	if (input >= pl->cfg->kafka.n_inputs)
		return NULL;
	*n = pl->cfg->kafka.inputs[input].n_analytics_events;
	return pl->cfg->kafka.inputs[input].analytics_events;
}

/* Opens a message of a format whose messages hold several events. */
static decode_status pipeline_open_many(pipeline *pl, input_format format, size_t input,
                                        const void *buf, size_t len, int64_t now_ms,
                                        decode_result *res)
{
	size_t n_map;
	const config_kv *map;

	switch (format) {
	case INPUT_FORMAT_XAPI:
		return decode_xapi_open(pl->xapi, buf, len, res);
	case INPUT_FORMAT_VIVA:
		return decode_viva_open(pl->viva, buf, len, now_ms, res);
	case INPUT_FORMAT_ANALYTICS:
		map = pipeline_analytics_map(pl, input, &n_map);
		return decode_analytics_open(pl->analytics, map, n_map, buf, len, res);
	case INPUT_FORMAT_SOCIAL:
		return decode_social_open(pl->social, buf, len, res);
	default:
		return decode_graph_open(pl->graph, buf, len, res);
	}
}

static bool pipeline_next_event(pipeline *pl, input_format format, event *ev,
                                decode_result *res)
{
	switch (format) {
	case INPUT_FORMAT_XAPI:
		return decode_xapi_next(pl->xapi, ev, res);
	case INPUT_FORMAT_VIVA:
		return decode_viva_next(pl->viva, ev, res);
	case INPUT_FORMAT_ANALYTICS:
		return decode_analytics_next(pl->analytics, ev, res);
	case INPUT_FORMAT_SOCIAL:
		return decode_social_next(pl->social, ev, res);
	default:
		return decode_graph_next(pl->graph, ev, res);
	}
}

/*
 * A message that contains several events (Graph, xAPI, Viva Engage,
 * analytics, social): each goes through the per-event path. The message
 * counts when any event counted, unless an event is invalid: then the
 * message is dead-lettered once.
 */
static decode_status pipeline_process_many(pipeline *pl, input_format format, size_t input,
                                           const void *buf, size_t len, int64_t now_ms,
                                           window_batch *batch, dedup_batch *ids,
                                           decode_result *res)
{
	event ev;
	decode_result one;
	bool decoded = false, counted = false;
	size_t index = 0;

	decode_status status = pipeline_open_many(pl, format, input, buf, len, now_ms, res);
	if (status != DECODE_OK)
		return pipeline_tally(pl, res, status);

	for (; pipeline_next_event(pl, format, &ev, &one); index++) {
		decoded = decoded || one.status == DECODE_OK;
		status = one.status == DECODE_OK
		                 ? pipeline_count_event(pl, &ev, now_ms, batch, ids, &one)
		                 : pipeline_tally(pl, &one, one.status);
		if (status == DECODE_OK)
			counted = true;
		else
			pipeline_merge(pl, res, &one, index);
	}
	if (decoded)
		pl->stats.decoded[format]++;

	/* Ignored events of a message that counted are all "others". */
	if (counted && res->status == DECODE_IGNORED) {
		pipeline_note_other(pl, res->status, res->reason);
		res->reason = NULL;
		res->detail[0] = '\0';
		res->status = DECODE_OK;
	}
	return res->status;
}

const pipeline_outcome *pipeline_other_outcomes(const pipeline *pl, size_t *n)
{
	*n = pl->n_others;
	return pl->others;
}

decode_status pipeline_process_capped(pipeline *pl, input_format format, size_t input,
                                      const void *buf, size_t len, int64_t now_ms,
                                      window_batch *batch, dedup_batch *ids, caps_batch *capped,
                                      decode_result *res)
{
	pl->caps_fill = capped;
	decode_status status =
	    pipeline_process_input(pl, format, input, buf, len, now_ms, batch, ids, res);
	pl->caps_fill = NULL;
	return status;
}

caps *pipeline_caps(pipeline *pl)
{
	return pl->caps;
}

decode_status pipeline_process_input(pipeline *pl, input_format format, size_t input,
                                     const void *buf, size_t len, int64_t now_ms,
                                     window_batch *batch, dedup_batch *ids, decode_result *res)
{
	event ev;
	decode_status status;

	pl->stats.messages++;
	pl->n_others = 0;
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';

	if (format == INPUT_FORMAT_GRAPH || format == INPUT_FORMAT_XAPI ||
	    format == INPUT_FORMAT_VIVA || format == INPUT_FORMAT_ANALYTICS ||
	    format == INPUT_FORMAT_SOCIAL)
		return pipeline_process_many(pl, format, input, buf, len, now_ms, batch, ids, res);
	status = pipeline_decode(pl, format, buf, len, &ev, res);
	if (status != DECODE_OK)
		return pipeline_tally(pl, res, status);
	if (format < INPUT_FORMAT_COUNT)
		pl->stats.decoded[format]++;
	return pipeline_count_event(pl, &ev, now_ms, batch, ids, res);
}

decode_status pipeline_process(pipeline *pl, input_format format, const void *buf,
                               size_t len, int64_t now_ms, window_batch *batch,
                               dedup_batch *ids, decode_result *res)
{
	return pipeline_process_input(pl, format, SIZE_MAX, buf, len, now_ms, batch, ids, res);
}
