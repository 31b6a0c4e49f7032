/*
 * decode_slack.c - Slack Events API payloads to canonical events.
 *
 * One JSON document per message. The document is parsed with cJSON under
 * jansson's acceptance rules (decode_cjson.h) and kept in the decoder until
 * the next call, because every string of the returned event points into it:
 * ids into cJSON's strings, mention ids into the message text. Nothing is
 * copied, except the derived event id of a bare inner event, which is
 * written into a buffer the decoder owns.
 *
 * Steps: size check, parse, envelope (url_verification, event_callback or a
 * bare inner event), filters that ignore bots, system subtypes and unmapped
 * types, the per-type mapping, then event id, event time and length checks.
 * Every outcome other than DECODE_OK carries a stable reason token and a
 * detail sentence that never quotes the input.
 *
 * Thread: a decoder is used by one thread at a time.
 * Limits: a document longer than DECODE_SLACK_MAX_MESSAGE bytes, or an id or
 * attribute value longer than DECODE_SLACK_MAX_ID bytes, is DECODE_INVALID.
 * Mentions beyond EVENT_MAX_TARGETS distinct targets are dropped.
 * NOTE: cJSON allocates every node of the parsed document, so this adapter
 * allocates per message, and parsing is still most of its cost. A streaming
 * parser would lift both.
 */
#include "decode_slack.h"
#include "decode_cjson.h"
#include "decode_json.h"
#include "decode_slack_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maximum document size in bytes, far above any real Events API payload. */
#define DECODE_SLACK_MAX_MESSAGE (1024 * 1024)

/* Maximum rich_text nesting searched for user elements (block, list, section). */
#define DECODE_SLACK_MAX_BLOCK_DEPTH 4

/* Latest event_time in seconds that still fits in int64 milliseconds. */
#define DECODE_SLACK_MAX_SECONDS (INT64_MAX / 1000)

struct decode_slack {
	decode_cjson doc; /* document of the last message, which the event borrows from */
	char event_id[sizeof("slack:") + DECODE_SLACK_MAX_ID + 1 + DECODE_SLACK_MAX_TS];
};

/*
 * Message subtypes that Slack posts on its own (joins, topic changes, pins):
 * they carry no behaviour of the person named in them. member_joined_channel
 * reports joins once, so the channel_join message is not counted twice.
 */
static const char *const decode_slack_system_subtypes[] = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "channel_convert_to_private",
    "channel_convert_to_public",
    "channel_posting_permissions",
    "group_join",
    "group_leave",
    "group_topic",
    "group_purpose",
    "group_name",
    "group_archive",
    "group_unarchive",
    "pinned_item",
    "unpinned_item",
    "tombstone",
    "message_replied",
    "reminder_add",
    "ekm_access_denied",
    "bot_add",
    "bot_remove",
    "huddle_thread",
    "sh_room_created",
    "assistant_app_thread",
};

/* Inner event types that are mapped, and so accepted without an envelope. */
static const char *const decode_slack_mapped_types[] = {
    "message", "reaction_added", "reaction_removed", "file_shared", "member_joined_channel",
};

/* ----------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------- */

decode_slack *decode_slack_new(void)
{
	return calloc(1, sizeof(decode_slack));
}

void decode_slack_free(decode_slack *d)
{
	if (d == NULL)
		return;
	decode_cjson_close(&d->doc);
	free(d);
}

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static decode_status decode_slack_missing(decode_result *res, const char *field)
{
	return decode_json_missing_expected(res, field, "not a string");
}

static bool decode_slack_in(event_str s, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (event_str_eq(s, list[i]))
			return true;
	return false;
}

int64_t decode_slack_ts_ms(event_str s)
{
	int64_t seconds = 0;
	int64_t millis = 0;
	int64_t place = 100; /* weight of the next fraction digit in milliseconds */
	size_t i = 0;

	for (; i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9'; i++) {
		if (i >= 12)
			return 0;
		seconds = seconds * 10 + (s.ptr[i] - '0');
	}
	if (i == 0)
		return 0;
	if (i < s.len && s.ptr[i++] != '.')
		return 0;

	/* Digits beyond the third are below a millisecond and only checked. */
	for (; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9')
			return 0;
		millis += (s.ptr[i] - '0') * place;
		place /= 10;
	}
	return seconds * 1000 + millis;
}

/* ----------------------------------------------------------------------------
 * Targets: mentions in the text and user elements in rich_text blocks
 * ------------------------------------------------------------------------- */

void decode_slack_add_target(event *ev, event_str id)
{
	if (id.len == 0 || id.len > DECODE_SLACK_MAX_ID || ev->target_count == EVENT_MAX_TARGETS)
		return;
	if (decode_json_str_equal(id, ev->actor_id))
		return;
	for (size_t i = 0; i < ev->target_count; i++)
		if (decode_json_str_equal(id, ev->target_ids[i]))
			return;
	ev->target_ids[ev->target_count++] = id;
}

static bool decode_slack_id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Adds the user ids of <@U123>, <@W123> and <@U123|name> mentions in text.
 * The ids point into the text; the rest of the text is never looked at again.
 */
static void decode_slack_scan_mentions(event *ev, event_str text)
{
	for (size_t i = 0; i + 2 < text.len; i++) {
		if (text.ptr[i] != '<' || text.ptr[i + 1] != '@')
			continue;

		size_t start = i + 2;
		size_t end = start;
		while (end < text.len && decode_slack_id_char(text.ptr[end]))
			end++;
		if (end == text.len || (text.ptr[end] != '>' && text.ptr[end] != '|'))
			continue;
		if (end > start && (text.ptr[start] == 'U' || text.ptr[start] == 'W'))
			decode_slack_add_target(ev, (event_str){text.ptr + start, end - start});
		i = end;
	}
}

/* Adds user_id of every {"type": "user"} element in a rich_text element tree. */
static void decode_slack_scan_elements(event *ev, const cJSON *elements, int depth)
{
	const cJSON *el;

	if (!cJSON_IsArray(elements) || depth > DECODE_SLACK_MAX_BLOCK_DEPTH)
		return;
	cJSON_ArrayForEach(el, elements)
	{
		if (event_str_eq(decode_cjson_str(el, "type"), "user"))
			decode_slack_add_target(ev, decode_cjson_str(el, "user_id"));
		else
			decode_slack_scan_elements(ev, decode_cjson_get(el, "elements"), depth + 1);
	}
}

static void decode_slack_scan_blocks(event *ev, const cJSON *blocks)
{
	const cJSON *block;

	if (!cJSON_IsArray(blocks))
		return;
	cJSON_ArrayForEach(block, blocks)
	{
		if (event_str_eq(decode_cjson_str(block, "type"), "rich_text"))
			decode_slack_scan_elements(ev, decode_cjson_get(block, "elements"), 1);
	}
}

void decode_slack_message_targets(event *ev, const cJSON *msg)
{
	decode_slack_scan_mentions(ev, decode_cjson_str(msg, "text"));
	decode_slack_scan_blocks(ev, decode_cjson_get(msg, "blocks"));
}

/* ----------------------------------------------------------------------------
 * Mapping of the inner event types
 * ------------------------------------------------------------------------- */

/* Returns true when msg was posted by a bot (bot_id or subtype bot_message). */
static bool decode_slack_is_bot(const cJSON *msg)
{
	return decode_cjson_str(msg, "bot_id").len > 0 ||
	       event_str_eq(decode_cjson_str(msg, "subtype"), "bot_message");
}

static decode_status decode_slack_bot(decode_result *res)
{
	return decode_json_reject(res, DECODE_IGNORED, "bot_message",
				  "the message was posted by a bot");
}

/* Sets actor and channel from their fields; both are required. */
static decode_status decode_slack_actor_channel(event *ev, const cJSON *actor_obj,
						const char *actor_key, const char *actor_name,
						const cJSON *channel_obj, const char *channel_key,
						const char *channel_name, decode_result *res)
{
	ev->actor_id = decode_cjson_str(actor_obj, actor_key);
	if (ev->actor_id.len == 0)
		return decode_slack_missing(res, actor_name);
	ev->channel_id = decode_cjson_str(channel_obj, channel_key);
	if (ev->channel_id.len == 0)
		return decode_slack_missing(res, channel_name);
	return DECODE_OK;
}

/* A message, reply, file share, thread broadcast or /me message. */
static decode_status decode_slack_posted(event *ev, const cJSON *msg, event_str subtype,
					 decode_result *res)
{
	decode_status st =
	    decode_slack_actor_channel(ev, msg, "user", "user", msg, "channel", "channel", res);
	if (st != DECODE_OK)
		return st;

	ev->content_id = decode_cjson_str(msg, "ts");
	event_str thread_ts = decode_cjson_str(msg, "thread_ts");
	bool reply = thread_ts.len > 0 && !decode_json_str_equal(thread_ts, ev->content_id);
	ev->kind = reply ? (event_str){"reply_posted", 12} : (event_str){"message_posted", 14};

	decode_json_add_attr(ev, "channel_type", decode_cjson_str(msg, "channel_type"));
	if (reply)
		decode_json_add_attr(ev, "thread_ts", thread_ts);
	if (event_str_eq(subtype, "file_share") ||
	    decode_cjson_nonempty_array(decode_cjson_get(msg, "files")))
		decode_json_add_attr(ev, "has_files", (event_str){"true", 4});

	decode_slack_message_targets(ev, msg);
	return DECODE_OK;
}

/* A message_changed event; only edits by the author count. */
static decode_status decode_slack_edited(event *ev, const cJSON *inner, decode_result *res)
{
	const cJSON *msg = decode_cjson_get(inner, "message");

	if (!cJSON_IsObject(msg))
		return decode_slack_missing(res, "message");
	if (decode_slack_is_bot(msg))
		return decode_slack_bot(res);

	/* Without "edited", Slack changed the message itself: a link unfurl, thread metadata. */
	if (!cJSON_IsObject(decode_cjson_get(msg, "edited")))
		return decode_json_reject(res, DECODE_IGNORED, "system_message",
					  "message_changed without message.edited is a change "
					  "made by Slack, such as a link unfurl");

	decode_status st = decode_slack_actor_channel(ev, msg, "user", "message.user", inner,
						      "channel", "channel", res);
	if (st != DECODE_OK)
		return st;
	ev->kind = (event_str){"message_edited", 14};
	ev->content_id = decode_cjson_str(msg, "ts");
	decode_json_add_attr(ev, "channel_type", decode_cjson_str(inner, "channel_type"));
	decode_slack_message_targets(ev, msg);
	return DECODE_OK;
}

/* A message_deleted event; the actor is the author of the deleted message. */
static decode_status decode_slack_deleted(event *ev, const cJSON *inner, decode_result *res)
{
	const cJSON *prev = decode_cjson_get(inner, "previous_message");

	if (!cJSON_IsObject(prev))
		return decode_slack_missing(res, "previous_message.user");
	if (decode_slack_is_bot(prev))
		return decode_slack_bot(res);

	decode_status st = decode_slack_actor_channel(ev, prev, "user", "previous_message.user",
						      inner, "channel", "channel", res);
	if (st != DECODE_OK)
		return st;
	ev->kind = (event_str){"message_deleted", 15};
	ev->content_id = decode_cjson_str(inner, "deleted_ts");
	if (ev->content_id.len == 0)
		ev->content_id = decode_cjson_str(prev, "ts");
	decode_json_add_attr(ev, "channel_type", decode_cjson_str(inner, "channel_type"));
	return DECODE_OK;
}

static decode_status decode_slack_message_event(event *ev, const cJSON *inner, decode_result *res)
{
	event_str subtype = decode_cjson_str(inner, "subtype");

	if (decode_slack_is_bot(inner))
		return decode_slack_bot(res);
	if (subtype.len == 0 || event_str_eq(subtype, "file_share") ||
	    event_str_eq(subtype, "thread_broadcast") || event_str_eq(subtype, "me_message"))
		return decode_slack_posted(ev, inner, subtype, res);
	if (event_str_eq(subtype, "message_changed"))
		return decode_slack_edited(ev, inner, res);
	if (event_str_eq(subtype, "message_deleted"))
		return decode_slack_deleted(ev, inner, res);
	if (decode_slack_in(subtype, decode_slack_system_subtypes,
			    sizeof(decode_slack_system_subtypes) / sizeof(char *)))
		return decode_json_reject(res, DECODE_IGNORED, "system_message",
					  "the message subtype is a notice posted by Slack");
	return decode_json_reject(res, DECODE_IGNORED, "unsupported_subtype",
				  "the message subtype is not mapped to an event kind");
}

/* reaction_added and reaction_removed: reactor acts on the item's author. */
static decode_status decode_slack_reaction(event *ev, const cJSON *inner, event_str type,
					   decode_result *res)
{
	const cJSON *item = decode_cjson_get(inner, "item");
	event_str item_type = decode_cjson_str(item, "type");

	if (!cJSON_IsObject(item))
		return decode_slack_missing(res, "item");
	if (item_type.len > 0 && !event_str_eq(item_type, "message"))
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_subtype",
					  "the reaction is on a file or file comment, not a "
					  "message");

	decode_status st = decode_slack_actor_channel(ev, inner, "user", "user", item, "channel",
						      "item.channel", res);
	if (st != DECODE_OK)
		return st;
	ev->kind = type;
	ev->content_id = decode_cjson_str(item, "ts");
	decode_slack_add_target(ev, decode_cjson_str(inner, "item_user"));
	decode_json_add_attr(ev, "reaction", decode_cjson_str(inner, "reaction"));
	return DECODE_OK;
}

static decode_status decode_slack_file_shared(event *ev, const cJSON *inner, decode_result *res)
{
	decode_status st = decode_slack_actor_channel(ev, inner, "user_id", "user_id", inner,
						      "channel_id", "channel_id", res);
	if (st != DECODE_OK)
		return st;
	ev->kind = (event_str){"file_shared", 11};
	ev->content_id = decode_cjson_str(inner, "file_id");
	if (ev->content_id.len == 0)
		ev->content_id = decode_cjson_str(decode_cjson_get(inner, "file"), "id");
	return DECODE_OK;
}

static decode_status decode_slack_member_joined(event *ev, const cJSON *inner, decode_result *res)
{
	decode_status st =
	    decode_slack_actor_channel(ev, inner, "user", "user", inner, "channel", "channel", res);
	if (st != DECODE_OK)
		return st;
	ev->kind = (event_str){"channel_joined", 14};
	decode_json_add_attr(ev, "channel_type", decode_cjson_str(inner, "channel_type"));
	return DECODE_OK;
}

/* Maps one inner event by its type, or ignores it. */
static decode_status decode_slack_inner(event *ev, const cJSON *inner, decode_result *res)
{
	event_str type = decode_cjson_str(inner, "type");

	if (event_str_eq(type, "message"))
		return decode_slack_message_event(ev, inner, res);
	if (event_str_eq(type, "reaction_added") || event_str_eq(type, "reaction_removed"))
		return decode_slack_reaction(ev, inner, type, res);
	if (event_str_eq(type, "file_shared"))
		return decode_slack_file_shared(ev, inner, res);
	if (event_str_eq(type, "member_joined_channel"))
		return decode_slack_member_joined(ev, inner, res);
	return decode_json_reject(res, DECODE_IGNORED, "unsupported_event_type",
				  "the inner event type is not mapped to an event kind");
}

/* ----------------------------------------------------------------------------
 * Event id, time and length checks
 * ------------------------------------------------------------------------- */

/* Returns the inner event's own time from event_ts, else ts; 0 when neither parses. */
static int64_t decode_slack_inner_time(const cJSON *inner)
{
	int64_t ms = decode_slack_ts_ms(decode_cjson_str(inner, "event_ts"));

	return ms > 0 ? ms : decode_slack_ts_ms(decode_cjson_str(inner, "ts"));
}

/* Writes "slack:<channel>:<ts>" for an event that came without an envelope. */
static decode_status decode_slack_derive_id(decode_slack *d, event *ev, const cJSON *inner,
					    decode_result *res)
{
	event_str ts = decode_cjson_str(inner, "event_ts");

	if (ts.len == 0)
		ts = decode_cjson_str(inner, "ts");
	if (ts.len == 0 || ts.len > DECODE_SLACK_MAX_TS)
		return decode_json_reject(res, DECODE_INVALID, "missing_event_id",
					  "an event without envelope needs an event_ts or ts of "
					  "at most %d bytes to derive its event_id",
					  DECODE_SLACK_MAX_TS);
	if (ev->channel_id.len > DECODE_SLACK_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					  "the channel id is longer than %d bytes",
					  DECODE_SLACK_MAX_ID);

	int n = snprintf(d->event_id, sizeof(d->event_id), "slack:%.*s:%.*s",
			 (int)ev->channel_id.len, ev->channel_id.ptr, (int)ts.len, ts.ptr);
	ev->event_id = (event_str){d->event_id, (size_t)n};
	return DECODE_OK;
}

/* Rejects any id or attribute value longer than DECODE_SLACK_MAX_ID. */
static decode_status decode_slack_check_lengths(const event *ev, decode_result *res)
{
	const event_str ids[] = {ev->event_id, ev->actor_id, ev->content_id, ev->channel_id};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].len > DECODE_SLACK_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "id_too_long",
						  "an id is longer than %d bytes",
						  DECODE_SLACK_MAX_ID);
	for (size_t i = 0; i < ev->attr_count; i++)
		if (ev->attrs[i].value.len > DECODE_SLACK_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "field_too_long",
						  "attribute %s is longer than %d bytes",
						  ev->attrs[i].key.ptr, DECODE_SLACK_MAX_ID);
	return DECODE_OK;
}

static decode_status decode_slack_check_time(event *ev, decode_result *res)
{
	if (ev->event_time_ms > 0)
		return DECODE_OK;
	return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
				  "neither event_time nor the event's event_ts or ts holds a "
				  "positive time");
}

/* ----------------------------------------------------------------------------
 * Envelopes
 * ------------------------------------------------------------------------- */

/* An event_callback envelope: the id and time come from the envelope. */
static decode_status decode_slack_callback(const decode_slack *d, const cJSON *doc, event *ev,
					   decode_result *res)
{
	const cJSON *inner = decode_cjson_get(doc, "event");

	if (!cJSON_IsObject(inner))
		return decode_json_reject(res, DECODE_INVALID, "missing_field",
					  "required field event is missing or not an object");
	decode_status st = decode_slack_inner(ev, inner, res);
	if (st != DECODE_OK)
		return st;

	ev->event_id = decode_cjson_str(doc, "event_id");
	if (ev->event_id.len == 0)
		return decode_json_reject(res, DECODE_INVALID, "missing_event_id",
					  "the event_callback envelope has no event_id");

	/* Only an integer counts: 1.7e9 or 1700000000.0 fall back to the inner time. */
	int64_t seconds;
	if (!decode_cjson_integer(&d->doc, decode_cjson_get(doc, "event_time"), &seconds))
		seconds = 0;
	if (seconds > 0 && seconds <= DECODE_SLACK_MAX_SECONDS)
		ev->event_time_ms = (int64_t)seconds * 1000;
	else
		ev->event_time_ms = decode_slack_inner_time(inner);
	return decode_slack_check_time(ev, res);
}

/* An inner event that came without envelope, as connectors that strip it send. */
static decode_status decode_slack_bare(decode_slack *d, const cJSON *doc, event *ev,
				       decode_result *res)
{
	decode_status st = decode_slack_inner(ev, doc, res);
	if (st != DECODE_OK)
		return st;

	st = decode_slack_derive_id(d, ev, doc, res);
	if (st != DECODE_OK)
		return st;
	ev->event_time_ms = decode_slack_inner_time(doc);
	return decode_slack_check_time(ev, res);
}

/* Dispatches on the top-level "type". */
static decode_status decode_slack_document(decode_slack *d, const cJSON *doc, event *ev,
					   decode_result *res)
{
	event_str type = decode_cjson_str(doc, "type");

	if (event_str_eq(type, "url_verification"))
		return decode_json_reject(res, DECODE_IGNORED, "url_verification",
					  "a url_verification challenge carries no event");
	if (event_str_eq(type, "event_callback"))
		return decode_slack_callback(d, doc, ev, res);
	if (decode_slack_in(type, decode_slack_mapped_types,
			    sizeof(decode_slack_mapped_types) / sizeof(char *)))
		return decode_slack_bare(d, doc, ev, res);
	return decode_json_reject(res, DECODE_IGNORED, "unsupported_envelope",
				  "the document is neither an event_callback or "
				  "url_verification envelope nor a mapped inner event");
}

decode_status decode_slack_message(decode_slack *d, const void *buf, size_t len, event *ev,
				   decode_result *res)
{
	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';
	memset(ev, 0, sizeof(*ev));
	decode_cjson_close(&d->doc);

	/* The size limit comes first, so cJSON never parses an oversized message. */
	if (decode_json_check_size(res, len, DECODE_SLACK_MAX_MESSAGE) != DECODE_OK)
		return res->status;

	/* Any JSON value parses, so a scalar gets not_an_object below. */
	decode_cjson_error err;
	const cJSON *doc = decode_cjson_parse(&d->doc, buf, len, &err);
	if (doc == NULL)
		return decode_json_reject_syntax(res, err.line, err.column);
	if (!cJSON_IsObject(doc))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the JSON document is %s, expected an object",
					  decode_cjson_type(doc));

	ev->source = (event_str){"slack", 5};
	decode_status st = decode_slack_document(d, doc, ev, res);
	if (st == DECODE_OK)
		st = decode_slack_check_lengths(ev, res);
	return st;
}
