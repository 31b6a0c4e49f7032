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
 * Events borrow from the decoder's JSON document until the next call.
 */
#ifndef ADVOCACY_DECODE_SLACK_H
#define ADVOCACY_DECODE_SLACK_H

#include <stddef.h>

#include "event.h"

typedef struct decode_slack decode_slack;

decode_slack *decode_slack_new(void);
void decode_slack_free(decode_slack *d);

decode_status decode_slack_message(decode_slack *d, const void *buf, size_t len,
                                   event *ev, decode_result *res);

#endif
