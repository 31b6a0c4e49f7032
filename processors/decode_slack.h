/*
 * decode_slack.h - Slack Events API payloads to canonical events.
 *
 * Input is one JSON document per message: an event_callback envelope, or a
 * url_verification challenge (ignored). Mapped inner events and the kinds
 * they yield:
 *   message, top level              -> "message_posted"
 *   message in a thread (thread_ts) -> "reply_posted"
 *   message, subtype file_share     -> "message_posted" (attr has_files=true)
 *   message, subtype message_changed -> "message_edited"
 *   message, subtype message_deleted -> "message_deleted" (actor = previous author)
 *   reaction_added / reaction_removed -> same kind, attr reaction=<name>,
 *                                       actor = reactor, target = item author
 *   file_shared                     -> "file_shared"
 *   member_joined_channel           -> "channel_joined"
 * Mentions (<@U...>) in the message text become target ids; the text itself
 * is never copied. Bot messages (bot_id, subtype bot_message) and system
 * subtypes (channel_join, channel_topic, ...) are ignored with their reason,
 * as are unknown event types. Event ids come from the envelope's event_id,
 * event time from event_time (seconds) or the inner event's ts.
 *
 * Details of the mapping:
 *   - targets are the distinct users mentioned as <@U...>, <@W...> or
 *     <@U...|name> in the text and as user elements of rich_text blocks,
 *     without the author; reactions target item_user unless it is the reactor;
 *   - a message in a thread is a reply when thread_ts differs from its ts
 *     (attr thread_ts); subtypes thread_broadcast and me_message map like a
 *     plain message, and has_files=true is also set when files[] is not empty;
 *   - message_changed counts as message_edited only when message.edited is
 *     present; without it Slack changed the message itself (a link unfurl),
 *     which is IGNORED as system_message;
 *   - reactions on files or file comments are IGNORED (unsupported_subtype);
 *   - attr channel_type is copied when present; content is the message ts,
 *     deleted_ts, item.ts or file_id.
 *
 * Without envelope: a document whose type is a mapped inner event type
 * (message, reaction_added, ...) is decoded as that inner event, as sent by
 * connectors that strip the envelope. Its event_id is then
 * "slack:<channel>:<event_ts or ts>", written into a buffer the decoder
 * owns, and its time comes from event_ts or ts.
 *
 * Reasons: IGNORED url_verification, unsupported_envelope,
 * unsupported_event_type, bot_message, system_message, unsupported_subtype;
 * INVALID oversized (more than 1 MiB), invalid_json, not_an_object,
 * missing_field, missing_event_id, invalid_event_time, id_too_long and
 * field_too_long (an id or attribute value longer than 256 bytes).
 *
 * Events borrow from the decoder's JSON document until the next call.
 */
#ifndef ADVOCACY_DECODE_SLACK_H
#define ADVOCACY_DECODE_SLACK_H

#include <stddef.h>

#include "event.h"

typedef struct decode_slack decode_slack;

/* Returns a new decoder, or NULL when out of memory. */
decode_slack *decode_slack_new(void);
void decode_slack_free(decode_slack *d);

decode_status decode_slack_message(decode_slack *d, const void *buf, size_t len,
                                   event *ev, decode_result *res);

#endif
