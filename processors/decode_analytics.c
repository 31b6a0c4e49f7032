/*
 * decode_analytics.c - intranet analytics track/page calls to canonical
 * events.
 *
 * decode_analytics_open() parses the message with jansson, unwraps one level
 * of JSON-in-a-string, and finds the calls: the "batch" array of an
 * envelope, a top-level array, or the document itself. decode_analytics_next()
 * then maps one call at a time. properties may itself be a JSON string; it
 * is unwrapped into a document the decoder owns until the next call.
 *
 * Numeric ids (userId 42, content_id 1.7e3) are written into buffers the
 * decoder owns. Repeated keys in a JSON object keep their last value, as
 * jansson reads them. Nothing of the call's text fields (page titles, URLs
 * with queries, names, traits) is copied into the event: only ids, the path
 * of a page and the call type.
 *
 * Thread: a decoder is used by one thread at a time.
 * Limits: a message longer than DECODE_ANALYTICS_MAX_MESSAGE bytes, or an id
 * or attribute value longer than DECODE_ANALYTICS_MAX_ID bytes, is
 * DECODE_INVALID. The event name lookup compares each mapped name in turn,
 * at most DECODE_ANALYTICS_MAX_EVENTS of them.
 * NOTE: jansson allocates every node of the parsed document, so this adapter
 * allocates per message, as the Slack and Graph adapters do.
 */
#include "decode_analytics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"

/* Maximum message size in bytes; Segment's own batch limit is 500 KB. */
#define DECODE_ANALYTICS_MAX_MESSAGE (1024 * 1024)
/* Maximum length of an id or attribute value, as for canonical Avro events. */
#define DECODE_ANALYTICS_MAX_ID 256

const char *const decode_analytics_kinds[] = {
    "content_published", "content_commented", "content_liked", "page_viewed", NULL,
};

static const config_kv decode_analytics_defaults[] = {
    {"Content Published", "content_published"},
    {"Comment Posted", "content_commented"},
    {"Content Liked", "content_liked"},
    {"Content Viewed", "page_viewed"},
};

struct decode_analytics {
	json_t *doc;
	json_t *unwrapped;   /* the document inside a JSON string, if it was one */
	json_t *properties;  /* the current call's properties when sent as a string */
	const json_t *calls; /* array of calls, or NULL for a single call */
	const json_t *single;
	size_t n_calls;
	size_t next_call;
	const config_kv *events;
	size_t n_events;
	char actor[DECODE_JSON_NUM_SIZE];
	char content[DECODE_JSON_NUM_SIZE];
	char author[DECODE_JSON_NUM_SIZE];
};

decode_analytics *decode_analytics_new(void)
{
	return calloc(1, sizeof(decode_analytics));
}

static void decode_analytics_close(decode_analytics *d)
{
	json_decref(d->properties);
	d->properties = NULL;
	json_decref(d->unwrapped);
	d->unwrapped = NULL;
	json_decref(d->doc);
	d->doc = NULL;
	d->calls = NULL;
	d->single = NULL;
	d->n_calls = 0;
	d->next_call = 0;
}

void decode_analytics_free(decode_analytics *d)
{
	if (d == NULL)
		return;
	decode_analytics_close(d);
	free(d);
}

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static decode_status decode_analytics_missing(decode_result *res, const char *field)
{
	return decode_json_missing_expected(res, field, "not a string or number");
}

/* Returns the first of two members of obj that reads as an id, written into buf if numeric. */
static event_str decode_analytics_id(const json_t *obj, const char *key, const char *alt,
				     char *buf)
{
	event_str id = decode_json_id_value(json_object_get(obj, key), buf);

	if (id.len == 0 && alt != NULL)
		id = decode_json_id_value(json_object_get(obj, alt), buf);
	return id;
}

/* Returns the kind a track event name maps to, or an absent string. */
static event_str decode_analytics_kind(const decode_analytics *d, event_str name)
{
	const config_kv *map = d->n_events ? d->events : decode_analytics_defaults;
	size_t n = d->n_events ? d->n_events
			       : sizeof(decode_analytics_defaults) / sizeof(decode_analytics_defaults[0]);

	for (size_t i = 0; i < n; i++)
		if (strlen(map[i].key) == name.len && memcmp(map[i].key, name.ptr, name.len) == 0)
			return (event_str){map[i].value, strlen(map[i].value)};
	return (event_str){NULL, 0};
}

/* The properties object of a call, unwrapped when a producer sent it as a JSON string. */
static const json_t *decode_analytics_properties(decode_analytics *d, const json_t *call)
{
	const json_t *p = json_object_get(call, "properties");

	if (!json_is_string(p))
		return p;
	json_decref(d->properties);
	d->properties = decode_json_unwrap(p);
	return d->properties;
}

/* The path of a page, without its query string and fragment, which may carry personal data. */
static event_str decode_analytics_path(const json_t *props)
{
	event_str path = decode_json_str(props, "path");

	for (size_t i = 0; i < path.len; i++)
		if (path.ptr[i] == '?' || path.ptr[i] == '#')
			path.len = i;
	return path;
}

static int64_t decode_analytics_time(const json_t *call)
{
	static const char *const keys[] = {"timestamp", "originalTimestamp", "receivedAt",
					   "sentAt"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(call, keys[i]);
		if (v != NULL && !json_is_null(v))
			return decode_json_time_any(v);
	}
	return 0;
}

/* Rejects any id or attribute value longer than DECODE_ANALYTICS_MAX_ID. */
static decode_status decode_analytics_check_lengths(const event *ev, decode_result *res)
{
	const event_str ids[] = {ev->event_id, ev->actor_id, ev->content_id,
				 ev->target_count ? ev->target_ids[0] : (event_str){NULL, 0}};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].len > DECODE_ANALYTICS_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "id_too_long",
						  "an id is longer than %d bytes",
						  DECODE_ANALYTICS_MAX_ID);
	for (size_t i = 0; i < ev->attr_count; i++)
		if (ev->attrs[i].value.len > DECODE_ANALYTICS_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "field_too_long",
						  "attribute %s is longer than %d bytes",
						  ev->attrs[i].key.ptr, DECODE_ANALYTICS_MAX_ID);
	return DECODE_OK;
}

/* ----------------------------------------------------------------------------
 * One call
 * ------------------------------------------------------------------------- */

/* Sets ev->kind from the call type and event name; anything but DECODE_OK ends the call. */
static decode_status decode_analytics_call_kind(const decode_analytics *d, const json_t *call,
						event *ev, decode_result *res)
{
	event_str type = decode_json_str(call, "type");

	if (type.len == 0)
		return decode_analytics_missing(res, "type");
	if (event_str_eq(type, "page") || event_str_eq(type, "screen")) {
		ev->kind = (event_str){"page_viewed", 11};
	} else if (event_str_eq(type, "track")) {
		event_str name = decode_json_str(call, "event");
		if (name.len == 0)
			return decode_analytics_missing(res, "event");
		ev->kind = decode_analytics_kind(d, name);
		if (ev->kind.len == 0)
			return decode_json_reject(res, DECODE_IGNORED, "unknown_event",
						  "the track event name is not mapped to "
						  "a kind");
	} else if (event_str_eq(type, "identify") || event_str_eq(type, "group") ||
		   event_str_eq(type, "alias")) {
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_call",
					  "identify, group and alias calls describe people, "
					  "not activity");
	} else {
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_type",
					  "the call type is not track, page or screen");
	}
	decode_json_add_attr(ev, "call", type);
	return DECODE_OK;
}

/* Sets actor, content and author; a call without a person is ignored unless it is a page view. */
static decode_status decode_analytics_people(decode_analytics *d, const json_t *call,
					     const json_t *props, event *ev, decode_result *res)
{
	bool page = event_str_eq(ev->kind, "page_viewed");
	event_str author = decode_analytics_id(props, "author_id", "authorId", d->author);

	ev->actor_id = decode_analytics_id(call, "userId", "user_id", d->actor);
	if (ev->actor_id.len == 0 && !page)
		return decode_json_reject(res, DECODE_IGNORED, "anonymous_event",
					  "the call has an anonymousId only, so no person "
					  "can be credited");
	ev->content_id = decode_analytics_id(props, "content_id", "contentId", d->content);
	if (ev->content_id.len == 0 && page)
		ev->content_id = decode_analytics_path(props);
	if (ev->content_id.len == 0)
		return decode_analytics_missing(res, "properties.content_id");
	if (author.len > 0 && !(author.len == ev->actor_id.len &&
				memcmp(author.ptr, ev->actor_id.ptr, author.len) == 0))
		ev->target_ids[ev->target_count++] = author;
	return DECODE_OK;
}

static decode_status decode_analytics_call(decode_analytics *d, const json_t *call, event *ev,
					   decode_result *res)
{
	if (!json_is_object(call))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a call is %s, expected an object",
					  decode_json_type(call));
	decode_status st = decode_analytics_call_kind(d, call, ev, res);
	if (st != DECODE_OK)
		return st;

	const json_t *props = decode_analytics_properties(d, call);
	if (props != NULL && !json_is_object(props))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "properties is %s, expected an object",
					  decode_json_type(props));
	st = decode_analytics_people(d, call, props, ev, res);
	if (st != DECODE_OK)
		return st;

	ev->source = (event_str){"intranet", 8};
	ev->event_id = decode_json_str(call, "messageId");
	if (ev->event_id.len == 0)
		return decode_analytics_missing(res, "messageId");
	ev->event_time_ms = decode_analytics_time(call);
	if (ev->event_time_ms <= 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "timestamp is missing or not a time");
	return decode_analytics_check_lengths(ev, res);
}

/* ----------------------------------------------------------------------------
 * Message and cursor
 * ------------------------------------------------------------------------- */

/* Finds the calls: a batch envelope, an array, or one call object. */
static decode_status decode_analytics_envelope(decode_analytics *d, const json_t *top,
					       decode_result *res)
{
	const json_t *batch = json_is_object(top) ? json_object_get(top, "batch") : top;

	if (json_is_array(batch)) {
		d->calls = batch;
		d->n_calls = json_array_size(batch);
	} else if (batch != NULL && batch != top) {
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "batch is %s, expected an array of calls",
					  decode_json_type(batch));
	} else if (!json_is_object(top)) {
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the JSON document is %s, expected an object",
					  decode_json_type(top));
	} else if (json_object_get(top, "type") == NULL) {
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_envelope",
					  "the document is neither a batch nor a call");
	} else {
		d->single = top;
		d->n_calls = 1;
	}
	if (d->n_calls == 0)
		return decode_json_reject(res, DECODE_IGNORED, "empty_batch",
					  "the batch holds no call");
	return DECODE_OK;
}

decode_status decode_analytics_open(decode_analytics *d, const config_kv *events,
				    size_t n_events, const void *buf, size_t len,
				    decode_result *res)
{
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';
	decode_analytics_close(d);
	d->events = events;
	d->n_events = n_events;

	d->doc = decode_json_load(buf, len, DECODE_ANALYTICS_MAX_MESSAGE, res);
	if (d->doc == NULL)
		return res->status;
	const json_t *top = d->doc;
	if (json_is_string(top)) {
		d->unwrapped = decode_json_unwrap(top);
		if (d->unwrapped == NULL)
			return decode_json_reject(res, DECODE_INVALID, "not_an_object",
						  "the JSON document is a string that "
						  "holds no JSON");
		top = d->unwrapped;
	}
	return decode_analytics_envelope(d, top, res);
}

bool decode_analytics_next(decode_analytics *d, event *ev, decode_result *res)
{
	if (d->next_call >= d->n_calls)
		return false;

	const json_t *call = d->calls ? json_array_get(d->calls, d->next_call) : d->single;
	d->next_call++;
	memset(ev, 0, sizeof(*ev));
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';
	res->status = decode_analytics_call(d, call, ev, res);
	return true;
}
