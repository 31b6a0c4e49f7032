/*
 * decode_social.c - social-sharing webhooks to canonical events.
 *
 * decode_social_open() parses the message (decode_json.h, which also
 * unwraps a document sent as a JSON string) and finds the event objects: the
 * "events" array of a batch, or the document itself. decode_social_next() then walks the objects. Every object first
 * gets its common fields (network, employee_id, share.id, content id) read
 * into the decoder. A share.statistics object is checked whole before its
 * first count is yielded, so a report with one bad count yields nothing but
 * its reason.
 *
 * Where a field comes from, in order of preference:
 *   content id: share.content_id, else the first media URN of a LinkedIn
 *               ugcPost in share.post (specificContent
 *               ["com.linkedin.ugc.ShareContent"].media[0].media);
 *   share time: share.created_at, else share.post.created.time, else the
 *               object's occurred_at;
 *   deletion:   occurred_at, else share.created_at;
 *   statistics: the last millisecond of timeRange (its end is exclusive),
 *               so that a day's report lands in that day's bucket.
 * Times are RFC 3339 strings or epoch seconds or milliseconds (decode_json_time()).
 * Counts are JSON integers, integral numbers in any notation (1.2e3) or
 * strings of digits; the network name is lower-cased ("LinkedIn" and
 * "linkedin" are one network).
 *
 * Limits: a message longer than DECODE_JSON_MAX_MESSAGE bytes, an id longer
 * than DECODE_SOCIAL_MAX_ID bytes (share.id: DECODE_SOCIAL_MAX_SHARE_ID, 176,
 * so that event ids stay within 256) or a network name longer than
 * DECODE_SOCIAL_MAX_NETWORK bytes is DECODE_INVALID. Free text of a share
 * (shareCommentary, titles) is never read.
 * NOTE: jansson allocates every node of the parsed document, so this adapter
 * allocates per message, as the Slack and Graph adapters do.
 */
#include "decode_social.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"

/* Maximum length of an id, as for canonical Avro events. */
#define DECODE_SOCIAL_MAX_ID DECODE_JSON_MAX_ID

/* Maximum length of a network name. */
#define DECODE_SOCIAL_MAX_NETWORK 32

/* Longest event id suffix: ":clicks:" and two 19-digit times with a '-'. */
#define DECODE_SOCIAL_MAX_SUFFIX 47

/*
 * Maximum length of share.id, so that "<network>/<share id><suffix>" stays
 * within the DECODE_SOCIAL_MAX_ID bytes every event id may have.
 */
#define DECODE_SOCIAL_MAX_SHARE_ID                                                                 \
	(DECODE_SOCIAL_MAX_ID - DECODE_SOCIAL_MAX_NETWORK - 1 - DECODE_SOCIAL_MAX_SUFFIX)

#define DECODE_SOCIAL_EVENT_ID_SIZE (DECODE_SOCIAL_MAX_ID + 1)

/* The LinkedIn ugcPost member that contains the shared media. */
#define DECODE_SOCIAL_UGC_CONTENT "com.linkedin.ugc.ShareContent"

/* Counts of a statistics report still to yield. */
enum {
	DECODE_SOCIAL_CLICKS = 1,
	DECODE_SOCIAL_REACH = 2,
};

/* What every event of one object shares; strings point into the document. */
typedef struct decode_social_common {
	event_str network; /* into decode_social.network */
	event_str actor;
	event_str share_id;
	event_str content_id;
} decode_social_common;

struct decode_social {
	/* The open message. */
	decode_json_doc json;
	const json_t *items;  /* "events" array, or NULL for a single object */
	const json_t *single; /* the object of a message without "events" */
	size_t n_items;
	size_t next_item;

	/* The current object. */
	decode_social_common common;
	unsigned pending; /* DECODE_SOCIAL_CLICKS | DECODE_SOCIAL_REACH */
	int64_t clicks, impressions;
	int64_t range_start_ms, range_end_ms;

	/* Text the current event borrows. */
	char network[DECODE_SOCIAL_MAX_NETWORK + 1];
	char actor[DECODE_JSON_NUM_SIZE]; /* an integer employee_id */
	char amount[24]; /* the count of a statistics event */
	char event_id[DECODE_SOCIAL_EVENT_ID_SIZE];
};

/* ----------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------- */

decode_social *decode_social_new(void)
{
	return calloc(1, sizeof(decode_social));
}

static void decode_social_close(decode_social *d)
{
	decode_json_close(&d->json);
	d->items = NULL;
	d->single = NULL;
	d->n_items = 0;
	d->next_item = 0;
	d->pending = 0;
}

void decode_social_free(decode_social *d)
{
	if (!d)
		return;
	decode_social_close(d);
	free(d);
}

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* The first of a, b and c that is present and not null, or NULL. */
static const json_t *decode_social_pick(const json_t *a, const json_t *b, const json_t *c)
{
	if (a != NULL && !json_is_null(a))
		return a;
	return b != NULL && !json_is_null(b) ? b : c;
}

/*
 * Reads a count: an integer, an integral number in any notation or a
 * string of digits, 0 to DECODE_SOCIAL_MAX_COUNT. Returns 1 with *out set,
 * 0 when absent (or null), -1 when it is not such a count.
 */
static int decode_social_count(const json_t *v, int64_t *out)
{
	double n;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		n = json_real_value(v);
		if (!(n >= 0 && n <= (double)DECODE_SOCIAL_MAX_COUNT) || n != floor(n))
			return -1;
		*out = (int64_t)n;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		if (len == 0 || len > 10 || strspn(s, "0123456789") != len)
			return -1;
		*out = strtoll(s, NULL, 10);
	} else {
		return -1;
	}
	return *out >= 0 && *out <= DECODE_SOCIAL_MAX_COUNT ? 1 : -1;
}

/* ----------------------------------------------------------------------------
 * The fields every event object has
 * ------------------------------------------------------------------------- */

/* Lower-cases the network name into d->network; letters, digits, '.', '_', '-' only. */
static decode_status decode_social_network(decode_social *d, const json_t *obj,
					   decode_result *res)
{
	event_str s = decode_json_str(obj, "network");

	if (s.len == 0 || s.len > DECODE_SOCIAL_MAX_NETWORK)
		return decode_json_reject(res, DECODE_INVALID, "missing_field",
					    "network must be a name of 1 to %d bytes, e.g. linkedin",
					    DECODE_SOCIAL_MAX_NETWORK);
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return decode_json_reject(res, DECODE_INVALID, "missing_field",
						    "network may hold only letters, digits, '.', "
						    "'_' and '-'");
		d->network[i] = c;
	}
	d->network[s.len] = '\0';
	d->common.network = (event_str){d->network, s.len};
	return DECODE_OK;
}

/* employee_id: a string, or a whole number up to 2^53 that platforms with numeric ids send. */
static decode_status decode_social_actor(decode_social *d, const json_t *obj, decode_result *res)
{
	d->common.actor = decode_json_id(obj, "employee_id", d->actor);
	if (d->common.actor.len == 0)
		return decode_json_missing(res, "employee_id");
	if (d->common.actor.len > DECODE_SOCIAL_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					    "employee_id is longer than %d bytes",
					    DECODE_SOCIAL_MAX_ID);
	return DECODE_OK;
}

/* The first media URN of a LinkedIn ugcPost, or an absent string. */
static event_str decode_social_ugc_media(const json_t *post)
{
	const json_t *content = json_object_get(json_object_get(post, "specificContent"),
						DECODE_SOCIAL_UGC_CONTENT);
	const json_t *first = json_array_get(json_object_get(content, "media"), 0);

	return decode_json_str(first, "media");
}

/* share.id, and the content id from share.content_id or the LinkedIn post. */
static decode_status decode_social_share(decode_social *d, const json_t *share,
					 decode_result *res)
{
	if (!json_is_object(share))
		return decode_json_missing(res, "share");
	d->common.share_id = decode_json_str(share, "id");
	if (d->common.share_id.len == 0)
		return decode_json_missing(res, "share.id");
	d->common.content_id = decode_json_str(share, "content_id");
	if (d->common.content_id.len == 0)
		d->common.content_id = decode_social_ugc_media(json_object_get(share, "post"));
	if (d->common.share_id.len > DECODE_SOCIAL_MAX_SHARE_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					    "share.id is longer than %d bytes", DECODE_SOCIAL_MAX_SHARE_ID);
	if (d->common.content_id.len > DECODE_SOCIAL_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					    "the content id is longer than %d bytes", DECODE_SOCIAL_MAX_ID);
	return DECODE_OK;
}

static decode_status decode_social_common_fields(decode_social *d, const json_t *obj,
						 decode_result *res)
{
	memset(&d->common, 0, sizeof(d->common));
	if (decode_social_network(d, obj, res) != DECODE_OK ||
	    decode_social_actor(d, obj, res) != DECODE_OK ||
	    decode_social_share(d, json_object_get(obj, "share"), res) != DECODE_OK)
		return res->status;
	return DECODE_OK;
}

/* Fills the parts of ev that every event of the object has, with the event id's suffix. */
static void decode_social_fill(decode_social *d, event *ev, const char *kind, const char *suffix)
{
	const decode_social_common *c = &d->common;
	int n = snprintf(d->event_id, sizeof(d->event_id), "%s/%.*s:%s", d->network,
			 (int)c->share_id.len, c->share_id.ptr, suffix);

	ev->event_id = (event_str){d->event_id, (size_t)n};
	ev->source = (event_str){"social", 6};
	ev->kind = (event_str){kind, strlen(kind)};
	ev->actor_id = c->actor;
	ev->content_id = c->content_id;
	ev->attrs[ev->attr_count++] = (event_attr){{"network", 7}, c->network};
}

/* ----------------------------------------------------------------------------
 * Event types
 * ------------------------------------------------------------------------- */

static decode_status decode_social_created(decode_social *d, const json_t *obj, event *ev,
					   decode_result *res)
{
	const json_t *share = json_object_get(obj, "share");
	const json_t *post = json_object_get(share, "post");
	event_str state = decode_json_str(post, "lifecycleState");

	if (state.len > 0 && !event_str_eq(state, "PUBLISHED"))
		return decode_json_reject(res, DECODE_IGNORED, "not_published",
					    "the post's lifecycleState is not PUBLISHED");
	if (d->common.content_id.len == 0)
		return decode_json_missing(res, "share.content_id (or a LinkedIn post's media)");

	int64_t t = decode_json_time(
	    decode_social_pick(json_object_get(share, "created_at"),
			       json_object_get(json_object_get(post, "created"), "time"),
			       json_object_get(obj, "occurred_at")));
	if (t <= 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					    "share.created_at, share.post.created.time or "
					    "occurred_at must hold an RFC 3339 time or epoch number");
	decode_social_fill(d, ev, "content_shared_external", "shared");
	ev->event_time_ms = t;
	return DECODE_OK;
}

static decode_status decode_social_deleted(decode_social *d, const json_t *obj, event *ev,
					   decode_result *res)
{
	int64_t t = decode_json_time(
	    decode_social_pick(json_object_get(obj, "occurred_at"),
			       json_object_get(json_object_get(obj, "share"), "created_at"), NULL));

	if (t <= 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					    "occurred_at (or share.created_at) must hold an RFC 3339 "
					    "time or epoch number");
	decode_social_fill(d, ev, "content_share_deleted", "deleted");
	ev->event_time_ms = t;
	return DECODE_OK;
}

/* Reads timeRange {start, end}; IGNORED without one (lifetime totals). */
static decode_status decode_social_range(decode_social *d, const json_t *obj, decode_result *res)
{
	const json_t *range = json_object_get(obj, "timeRange");

	if (range == NULL || json_is_null(range))
		return decode_json_reject(res, DECODE_IGNORED, "lifetime_statistics",
					    "statistics without a timeRange are lifetime totals, "
					    "which would count clicks again in every report");
	d->range_start_ms = decode_json_time(json_object_get(range, "start"));
	d->range_end_ms = decode_json_time(json_object_get(range, "end"));
	if (d->range_start_ms <= 0 || d->range_end_ms <= d->range_start_ms)
		return decode_json_reject(res, DECODE_INVALID, "invalid_time_range",
					    "timeRange needs a start and a later end, as RFC 3339 "
					    "times or epoch numbers");
	return DECODE_OK;
}

static decode_status decode_social_statistics(decode_social *d, const json_t *obj,
					      decode_result *res)
{
	const json_t *stats = json_object_get(obj, "statistics");

	if (decode_social_range(d, obj, res) != DECODE_OK)
		return res->status;
	if (!json_is_object(stats))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					    "statistics is %s, expected an object with clickCount "
					    "and impressionCount",
					    stats ? decode_json_type(stats) : "missing");

	int clicks = decode_social_count(json_object_get(stats, "clickCount"), &d->clicks);
	int reach = decode_social_count(json_object_get(stats, "impressionCount"), &d->impressions);
	if (clicks < 0 || reach < 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_count",
					    "%s must be a whole number from 0 to %lld",
					    clicks < 0 ? "statistics.clickCount"
						       : "statistics.impressionCount",
					    DECODE_SOCIAL_MAX_COUNT);
	d->pending = (clicks ? DECODE_SOCIAL_CLICKS : 0u) | (reach ? DECODE_SOCIAL_REACH : 0u);
	if (d->pending == 0)
		return decode_json_reject(res, DECODE_IGNORED, "no_statistics",
					    "the report has neither clickCount nor impressionCount");
	return DECODE_OK;
}

/* Yields the next pending count of the current statistics report. */
static void decode_social_next_count(decode_social *d, event *ev, decode_result *res)
{
	bool clicks = d->pending & DECODE_SOCIAL_CLICKS;
	char suffix[64];

	d->pending &= clicks ? ~(unsigned)DECODE_SOCIAL_CLICKS : ~(unsigned)DECODE_SOCIAL_REACH;
	snprintf(suffix, sizeof(suffix), "%s:%" PRId64 "-%" PRId64, clicks ? "clicks" : "reach",
		 d->range_start_ms, d->range_end_ms);
	snprintf(d->amount, sizeof(d->amount), "%" PRId64, clicks ? d->clicks : d->impressions);
	decode_social_fill(d, ev, clicks ? "share_clicks" : "share_reach", suffix);
	ev->attrs[ev->attr_count++] = (event_attr){
	    {clicks ? "clicks" : "reach", clicks ? 6u : 5u}, {d->amount, strlen(d->amount)}};
	ev->event_time_ms = d->range_end_ms - 1;
	res->status = DECODE_OK;
}

/* Decodes one event object; a statistics report leaves its counts pending. */
static void decode_social_object(decode_social *d, const json_t *obj, event *ev,
				 decode_result *res)
{
	if (!json_is_object(obj)) {
		decode_json_reject(res, DECODE_INVALID, "not_an_object",
				     "an event is %s, expected an object",
				     decode_json_type(obj));
		return;
	}
	event_str type = decode_json_str(obj, "type");
	if (type.len == 0) {
		decode_json_missing(res, "type");
		return;
	}
	bool created = event_str_eq(type, "share.created");
	bool deleted = event_str_eq(type, "share.deleted");
	if (!created && !deleted && !event_str_eq(type, "share.statistics")) {
		decode_json_reject(res, DECODE_IGNORED, "unsupported_event_type",
				     "the event type is not share.created, share.deleted or "
				     "share.statistics");
		return;
	}
	if (decode_social_common_fields(d, obj, res) != DECODE_OK)
		return;
	if (created)
		decode_social_created(d, obj, ev, res);
	else if (deleted)
		decode_social_deleted(d, obj, ev, res);
	else if (decode_social_statistics(d, obj, res) == DECODE_OK)
		decode_social_next_count(d, ev, res);
}

/* ----------------------------------------------------------------------------
 * Message and cursor
 * ------------------------------------------------------------------------- */

/* Finds the event objects: an "events" array, or one object with a "type". */
static decode_status decode_social_envelope(decode_social *d, const json_t *top,
					    decode_result *res)
{
	const json_t *events = json_object_get(top, "events");

	if (events != NULL) {
		if (!json_is_array(events))
			return decode_json_reject(res, DECODE_INVALID, "not_an_object",
						    "events is %s, expected an array of events",
						    decode_json_type(events));
		d->items = events;
		d->n_items = json_array_size(events);
		if (d->n_items == 0)
			return decode_json_reject(res, DECODE_IGNORED, "empty_batch",
						    "the batch holds no event");
		return DECODE_OK;
	}
	if (json_object_get(top, "type") == NULL)
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_envelope",
					    "the document is neither an event with a type nor a "
					    "batch of events");
	d->single = top;
	d->n_items = 1;
	return DECODE_OK;
}

decode_status decode_social_open(decode_social *d, const void *buf, size_t len,
				 decode_result *res)
{
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';
	decode_social_close(d);

	const json_t *top = decode_json_open(&d->json, buf, len, res);
	if (top == NULL)
		return res->status;
	if (!json_is_object(top))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					    "the JSON document is %s, expected an object",
					    decode_json_type(top));
	return decode_social_envelope(d, top, res);
}

bool decode_social_next(decode_social *d, event *ev, decode_result *res)
{
	memset(ev, 0, sizeof(*ev));
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';

	if (d->pending != 0) {
		decode_social_next_count(d, ev, res);
		return true;
	}
	if (d->next_item >= d->n_items)
		return false;
	const json_t *obj = d->items ? json_array_get(d->items, d->next_item) : d->single;
	d->next_item++;
	decode_social_object(d, obj, ev, res);
	return true;
}
