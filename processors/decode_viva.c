/*
 * decode_viva.c - Viva Engage (Yammer) messages and community membership
 * changes to canonical events.
 *
 * decode_viva_open() parses the message with jansson, unwraps one level of
 * JSON-in-a-string and collects the items to walk into an array the decoder
 * keeps (it grows to the largest message seen): message objects, or Graph
 * notifications about a community's group. decode_viva_next() then walks
 * them. A message item yields its own event, then one event per like; a
 * notification yields one event per changed member.
 *
 * Yammer ids are 64-bit numbers in JSON (2000337749565441), strings in
 * some connectors' output; numbers are written into buffers the decoder
 * owns. Message text, names and profile fields are never read.
 *
 * Thread: a decoder is used by one thread at a time.
 * Limits: a message longer than DECODE_VIVA_MAX_MESSAGE bytes, a person id or
 * attribute value longer than DECODE_VIVA_MAX_ID bytes, or a message or
 * group id longer than DECODE_VIVA_MAX_RECORD_ID bytes (so that every event
 * id fits in DECODE_VIVA_MAX_ID), is DECODE_INVALID.
 * Targets beyond EVENT_MAX_TARGETS are dropped. An unlike yields nothing:
 * liked_by lists the likes a message has now, so seeing one go would need
 * the previous list of every message. A member who leaves and joins again
 * within the dedup horizon counts once, because the change has no id or
 * time of its own.
 * NOTE: jansson allocates every node of the parsed document, so this adapter
 * allocates per message, as the Slack and Graph adapters do.
 */
#include "decode_viva.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_json.h"

/* Maximum message size in bytes, the same limit as the other JSON adapters'. */
#define DECODE_VIVA_MAX_MESSAGE (1024 * 1024)
/* Maximum length of an id or attribute value, as for canonical Avro events. */
#define DECODE_VIVA_MAX_ID 256
/* Maximum length of a message or group id, so that "<id>:member" fits in DECODE_VIVA_MAX_ID. */
#define DECODE_VIVA_MAX_RECORD_ID (DECODE_VIVA_MAX_ID - 8)
#define DECODE_VIVA_EVENT_ID_SIZE (DECODE_VIVA_MAX_ID + 1)

typedef enum decode_viva_item_kind {
	DECODE_VIVA_MESSAGES,      /* items are Yammer message objects */
	DECODE_VIVA_NOTIFICATIONS, /* items are Graph notifications about groups */
} decode_viva_item_kind;

struct decode_viva {
	/* The open message. */
	json_t *doc;
	json_t *unwrapped; /* the document inside a JSON string, if it was one */
	int64_t now_ms;
	decode_viva_item_kind item_kind;
	const json_t **items; /* grows to the largest message seen, never shrinks */
	size_t n_items, items_cap;
	size_t next_item;

	/* The current item. */
	const json_t *item;     /* NULL once its own outcome was yielded */
	bool main_pending;
	const json_t *children; /* liked_by.names or members@delta */
	size_t next_child;
	event_str id;           /* message id, or group id of a notification */
	event_str sender;
	event_str group;
	int64_t time_ms;

	char id_buf[DECODE_JSON_NUM_SIZE];
	char sender_buf[DECODE_JSON_NUM_SIZE];
	char group_buf[DECODE_JSON_NUM_SIZE];
	char thread_buf[DECODE_JSON_NUM_SIZE];
	char reply_buf[DECODE_JSON_NUM_SIZE];
	char person_buf[DECODE_JSON_NUM_SIZE];
	char target_bufs[EVENT_MAX_TARGETS][DECODE_JSON_NUM_SIZE];
	char event_id[DECODE_VIVA_EVENT_ID_SIZE];
};

/* ----------------------------------------------------------------------------
 * Lifecycle and helpers
 * ------------------------------------------------------------------------- */

decode_viva *decode_viva_new(void)
{
	return calloc(1, sizeof(decode_viva));
}

static void decode_viva_close(decode_viva *d)
{
	json_decref(d->unwrapped);
	d->unwrapped = NULL;
	json_decref(d->doc);
	d->doc = NULL;
	d->n_items = 0;
	d->next_item = 0;
	d->item = NULL;
	d->children = NULL;
}

void decode_viva_free(decode_viva *d)
{
	if (d == NULL)
		return;
	decode_viva_close(d);
	free(d->items);
	free(d);
}

static decode_status decode_viva_missing(decode_result *res, const char *field)
{
	return decode_json_missing_expected(res, field, "not an id");
}

static decode_status decode_viva_too_long(decode_result *res)
{
	return decode_json_reject(res, DECODE_INVALID, "id_too_long",
				  "an id is longer than %d bytes", DECODE_VIVA_MAX_ID);
}

/* Adds id as a target unless it is absent, too long, the actor's own or already there. */
static void decode_viva_add_target(event *ev, event_str id)
{
	if (id.len == 0 || id.len > DECODE_VIVA_MAX_ID || ev->target_count == EVENT_MAX_TARGETS)
		return;
	if (decode_json_str_equal(id, ev->actor_id))
		return;
	for (size_t i = 0; i < ev->target_count; i++)
		if (decode_json_str_equal(id, ev->target_ids[i]))
			return;
	ev->target_ids[ev->target_count++] = id;
}

/* Adds every id of a JSON array (numbers or strings) as a target. */
static void decode_viva_add_targets(decode_viva *d, event *ev, const json_t *ids)
{
	size_t i;
	const json_t *v;

	json_array_foreach(ids, i, v)
	{
		if (ev->target_count == EVENT_MAX_TARGETS)
			return;
		decode_viva_add_target(ev, decode_json_id_value(v, d->target_bufs[ev->target_count]));
	}
}

static bool decode_viva_is_true(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

/* Writes "<id>:<suffix>" into the event id buffer. */
static event_str decode_viva_event_id(decode_viva *d, const char *suffix)
{
	int n = snprintf(d->event_id, sizeof(d->event_id), "%.*s:%s", (int)d->id.len, d->id.ptr,
			 suffix);

	return (event_str){d->event_id, (size_t)n};
}

/* ----------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------- */

/* Returns the praise attachment of a message, or NULL. */
static const json_t *decode_viva_praise(const json_t *msg)
{
	size_t i;
	const json_t *a;

	json_array_foreach(json_object_get(msg, "attachments"), i, a)
	{
		if (event_str_eq(decode_json_str(a, "type"), "praise"))
			return a;
	}
	return NULL;
}

/* Filters out what is not a person's public post: bots, system notices, private messages. */
static decode_status decode_viva_filter(const json_t *msg, decode_result *res)
{
	event_str sender_type = decode_json_str(msg, "sender_type");
	event_str message_type = decode_json_str(msg, "message_type");

	if (sender_type.len > 0 && !event_str_eq(sender_type, "user"))
		return decode_json_reject(res, DECODE_IGNORED, "bot_message",
					  "the message was sent by a bot or an application");
	if (decode_viva_is_true(msg, "system_message") || event_str_eq(message_type, "system"))
		return decode_json_reject(res, DECODE_IGNORED, "system_message",
					  "the message is a notice posted by Viva Engage itself");
	if (decode_viva_is_true(msg, "direct_message"))
		return decode_json_reject(res, DECODE_IGNORED, "direct_message",
					  "the message is a private conversation, not a community "
					  "post");
	return DECODE_OK;
}

/* Checks one message object and readies its events. */
static decode_status decode_viva_prepare_message(decode_viva *d, const json_t *msg,
						 decode_result *res)
{
	if (!json_is_object(msg))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a message is %s, expected an object",
					  decode_json_type(msg));
	decode_status st = decode_viva_filter(msg, res);
	if (st != DECODE_OK)
		return st;

	d->id = decode_json_id_value(json_object_get(msg, "id"), d->id_buf);
	if (d->id.len == 0)
		return decode_viva_missing(res, "id");
	d->sender = decode_json_id_value(json_object_get(msg, "sender_id"), d->sender_buf);
	if (d->sender.len == 0)
		return decode_viva_missing(res, "sender_id");
	d->group = decode_json_id_value(json_object_get(msg, "group_id"), d->group_buf);
	if (d->id.len > DECODE_VIVA_MAX_RECORD_ID || d->sender.len > DECODE_VIVA_MAX_ID ||
	    d->group.len > DECODE_VIVA_MAX_ID)
		return decode_viva_too_long(res);
	d->time_ms = decode_json_time_any(json_object_get(msg, "created_at"));
	if (d->time_ms <= 0)
		return decode_json_reject(res, DECODE_INVALID, "invalid_event_time",
					  "created_at is missing or not a time");
	d->children = json_object_get(json_object_get(msg, "liked_by"), "names");
	return DECODE_OK;
}

/* Fields every event of the current message shares. */
static void decode_viva_common(const decode_viva *d, event *ev)
{
	ev->source = (event_str){"viva", 4};
	ev->event_time_ms = d->time_ms;
	ev->content_id = d->id;
	ev->channel_id = d->group;
	decode_json_add_attr(ev, "channel_type",
			     d->group.len ? (event_str){"community", 9}
					  : (event_str){"network", 7});
}

/* Rejects an attribute value longer than DECODE_VIVA_MAX_ID. */
static decode_status decode_viva_check_attrs(const event *ev, decode_result *res)
{
	for (size_t i = 0; i < ev->attr_count; i++)
		if (ev->attrs[i].value.len > DECODE_VIVA_MAX_ID)
			return decode_json_reject(res, DECODE_INVALID, "field_too_long",
						  "attribute %s is longer than %d bytes",
						  ev->attrs[i].key.ptr, DECODE_VIVA_MAX_ID);
	return DECODE_OK;
}

/* The message's own event: a praise, a reply or a post. */
static decode_status decode_viva_message_event(decode_viva *d, event *ev, decode_result *res)
{
	const json_t *msg = d->item;
	const json_t *praise = decode_viva_praise(msg);
	event_str reply_to = decode_json_id_value(json_object_get(msg, "replied_to_id"), d->reply_buf);

	ev->actor_id = d->sender;
	ev->event_id = d->id;
	decode_viva_common(d, ev);
	decode_json_add_attr(ev, "message_type", decode_json_str(msg, "message_type"));
	if (praise != NULL) {
		ev->kind = (event_str){"praise_given", 12};
		decode_viva_add_targets(d, ev, json_object_get(praise, "praised_user_ids"));
	} else {
		ev->kind = reply_to.len ? (event_str){"reply_posted", 12}
					: (event_str){"message_posted", 14};
		decode_viva_add_targets(d, ev, json_object_get(msg, "notified_user_ids"));
	}
	if (reply_to.len > 0) {
		decode_json_add_attr(ev, "reply_to", reply_to);
		decode_json_add_attr(
		    ev, "thread_id",
		    decode_json_id_value(json_object_get(msg, "thread_id"), d->thread_buf));
	}
	return decode_viva_check_attrs(ev, res);
}

/* One liked_by.names[] entry: a like given by that user to the sender. */
static decode_status decode_viva_like(decode_viva *d, const json_t *like, event *ev,
				      decode_result *res)
{
	if (!json_is_object(like))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a liked_by.names[] entry is %s, expected an object",
					  decode_json_type(like));
	ev->actor_id = decode_json_id_value(json_object_get(like, "user_id"), d->person_buf);
	if (ev->actor_id.len == 0)
		return decode_viva_missing(res, "liked_by.names[].user_id");
	if (ev->actor_id.len > DECODE_VIVA_MAX_ID)
		return decode_viva_too_long(res);
	if (decode_json_str_equal(ev->actor_id, d->sender))
		return decode_json_reject(res, DECODE_IGNORED, "self_reaction",
					  "the sender liked their own message");

	ev->kind = (event_str){"reaction_added", 14};
	ev->event_id = decode_viva_event_id(d, "like");
	ev->id_person = ev->actor_id;
	decode_viva_common(d, ev);
	decode_json_add_attr(ev, "reaction", (event_str){"like", 4});
	decode_viva_add_target(ev, d->sender);
	return DECODE_OK;
}

/* ----------------------------------------------------------------------------
 * Community membership: Graph notifications about the community's group
 * ------------------------------------------------------------------------- */

/* True when the notification is about a group (a community is backed by one). */
static bool decode_viva_is_group(const json_t *n)
{
	const json_t *data = json_object_get(n, "resourceData");
	event_str type = decode_json_str(data, "@odata.type");
	event_str resource = decode_json_str(n, "resource");

	if (type.len > 0)
		return decode_json_ieq(type, "#microsoft.graph.group");
	return resource.len > 7 && decode_json_ieq((event_str){resource.ptr, 7}, "groups/");
}

/* Checks one notification and readies its member changes. */
static decode_status decode_viva_prepare_notification(decode_viva *d, const json_t *n,
						      decode_result *res)
{
	if (!json_is_object(n))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a notification is %s, expected an object",
					  decode_json_type(n));
	if (json_object_get(n, "lifecycleEvent") != NULL)
		return decode_json_reject(res, DECODE_IGNORED, "lifecycle_event",
					  "a lifecycle notification concerns the subscription");
	if (!decode_viva_is_group(n))
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_resource",
					  "the notification is not about a community's group");

	const json_t *data = json_object_get(n, "resourceData");
	d->id = decode_json_id_value(json_object_get(data, "id"), d->id_buf);
	if (d->id.len == 0)
		return decode_viva_missing(res, "resourceData.id");
	if (d->id.len > DECODE_VIVA_MAX_RECORD_ID)
		return decode_viva_too_long(res);
	d->group = d->id;
	d->children = json_object_get(data, "members@delta");
	if (json_array_size(d->children) == 0)
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_change",
					  "the change does not add or remove members");
	d->time_ms = d->now_ms;
	return DECODE_OK;
}

/* One members@delta entry: a member added to or removed from the community. */
static decode_status decode_viva_member(decode_viva *d, const json_t *m, event *ev,
					decode_result *res)
{
	if (!json_is_object(m))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "a members@delta entry is %s, expected an object",
					  decode_json_type(m));
	ev->actor_id = decode_json_id_value(json_object_get(m, "id"), d->person_buf);
	if (ev->actor_id.len == 0)
		return decode_viva_missing(res, "members@delta[].id");
	if (ev->actor_id.len > DECODE_VIVA_MAX_ID)
		return decode_viva_too_long(res);

	ev->kind = json_object_get(m, "@removed") != NULL ? (event_str){"community_left", 14}
							  : (event_str){"community_joined", 16};
	ev->source = (event_str){"viva", 4};
	ev->event_time_ms = d->time_ms;
	ev->channel_id = d->group;
	ev->event_id = decode_viva_event_id(d, "member");
	ev->id_person = ev->actor_id;
	decode_json_add_attr(ev, "channel_type", (event_str){"community", 9});
	return DECODE_OK;
}

/* ----------------------------------------------------------------------------
 * Message envelope and cursor
 * ------------------------------------------------------------------------- */

static int decode_viva_push(decode_viva *d, const json_t *item)
{
	if (d->n_items == d->items_cap) {
		size_t cap = d->items_cap ? 2 * d->items_cap : 16;
		const json_t **grown = realloc(d->items, cap * sizeof(*grown));
		if (grown == NULL)
			return -1;
		d->items = grown;
		d->items_cap = cap;
	}
	d->items[d->n_items++] = item;
	return 0;
}

static int decode_viva_push_all(decode_viva *d, const json_t *array)
{
	size_t i;
	const json_t *v;

	json_array_foreach(array, i, v)
	{
		if (decode_viva_push(d, v) < 0)
			return -1;
	}
	return 0;
}

/* A message list: messages[], then the replies under threaded_extended. */
static int decode_viva_push_list(decode_viva *d, const json_t *top)
{
	const char *key;
	const json_t *replies;

	if (decode_viva_push_all(d, json_object_get(top, "messages")) < 0)
		return -1;
	json_object_foreach((json_t *)json_object_get(top, "threaded_extended"), key, replies)
	{
		if (decode_viva_push_all(d, replies) < 0)
			return -1;
	}
	return 0;
}

/* Collects the items of the document; returns -1 when out of memory. */
static int decode_viva_collect(decode_viva *d, const json_t *top, bool *known)
{
	*known = true;
	d->item_kind = DECODE_VIVA_MESSAGES;
	if (json_is_array(top))
		return decode_viva_push_all(d, top);
	if (json_is_array(json_object_get(top, "messages")))
		return decode_viva_push_list(d, top);
	if (json_object_get(top, "value") != NULL) {
		d->item_kind = DECODE_VIVA_NOTIFICATIONS;
		return json_is_array(json_object_get(top, "value"))
			       ? decode_viva_push_all(d, json_object_get(top, "value"))
			       : decode_viva_push(d, json_object_get(top, "value"));
	}
	if (json_object_get(top, "changeType") != NULL ||
	    json_object_get(top, "lifecycleEvent") != NULL) {
		d->item_kind = DECODE_VIVA_NOTIFICATIONS;
		return decode_viva_push(d, top);
	}
	if (json_object_get(top, "sender_id") != NULL || json_object_get(top, "message_type"))
		return decode_viva_push(d, top);
	*known = false;
	return 0;
}

decode_status decode_viva_open(decode_viva *d, const void *buf, size_t len, int64_t now_ms,
			       decode_result *res)
{
	bool known;

	res->status = DECODE_OK;
	res->reason = NULL;
	res->detail[0] = '\0';
	decode_viva_close(d);
	d->now_ms = now_ms;

	d->doc = decode_json_load(buf, len, DECODE_VIVA_MAX_MESSAGE, res);
	if (d->doc == NULL)
		return res->status;
	const json_t *top = d->doc;
	if (json_is_string(top) && (d->unwrapped = decode_json_unwrap(top)) != NULL)
		top = d->unwrapped;
	if (!json_is_object(top) && !json_is_array(top))
		return decode_json_reject(res, DECODE_INVALID, "not_an_object",
					  "the JSON document is %s, expected an object",
					  decode_json_type(top));

	if (decode_viva_collect(d, top, &known) < 0)
		return decode_json_reject(res, DECODE_INVALID, "out_of_memory",
					  "the list of messages could not grow");
	if (!known)
		return decode_json_reject(res, DECODE_IGNORED, "unsupported_envelope",
					  "the document is neither a message, a message list nor "
					  "a notification");
	if (d->n_items == 0)
		return decode_json_reject(res, DECODE_IGNORED, "empty_collection",
					  "the document holds no message or notification");
	return DECODE_OK;
}

/* Yields the next event of the current item; false when it has none left. */
static bool decode_viva_next_event(decode_viva *d, event *ev, decode_result *res)
{
	bool messages = d->item_kind == DECODE_VIVA_MESSAGES;

	if (d->main_pending && messages) {
		d->main_pending = false;
		res->status = decode_viva_message_event(d, ev, res);
		return true;
	}
	if (d->next_child < json_array_size(d->children)) {
		const json_t *child = json_array_get(d->children, d->next_child++);
		res->status = messages ? decode_viva_like(d, child, ev, res)
				       : decode_viva_member(d, child, ev, res);
		return true;
	}
	return false;
}

/* Moves to the next item; returns false when none is left. */
static bool decode_viva_advance(decode_viva *d, decode_result *res)
{
	d->item = NULL;
	d->children = NULL;
	d->next_child = 0;
	if (d->next_item >= d->n_items)
		return false;

	const json_t *item = d->items[d->next_item++];
	decode_status st = d->item_kind == DECODE_VIVA_MESSAGES
				   ? decode_viva_prepare_message(d, item, res)
				   : decode_viva_prepare_notification(d, item, res);
	if (st != DECODE_OK) {
		res->status = st;
		return true;
	}
	d->item = item;
	d->main_pending = true;
	return true;
}

bool decode_viva_next(decode_viva *d, event *ev, decode_result *res)
{
	for (;;) {
		memset(ev, 0, sizeof(*ev));
		res->status = DECODE_OK;
		res->reason = NULL;
		res->detail[0] = '\0';
		if (d->item != NULL && decode_viva_next_event(d, ev, res))
			return true;
		if (!decode_viva_advance(d, res))
			return false;
		if (d->item == NULL)
			return true; /* the item's own outcome */
	}
}
