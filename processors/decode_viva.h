/*
 * decode_viva.h - Viva Engage (Yammer) messages and community membership
 * changes to canonical events.
 *
 * A message contains one of:
 *   - a Yammer REST message object ({"id", "sender_id", "created_at", ...});
 *   - a message list as /api/v1/messages/... returns it: {"messages": [...],
 *     "references": [...], "threaded_extended": {"<thread>": [...]}}; the
 *     messages and the replies under threaded_extended are read, the
 *     references (profiles, names, groups) are not;
 *   - a JSON array of message objects;
 *   - Microsoft Graph change notifications about the Microsoft 365 group of
 *     a community ({"value": [...]} or one notification), whose
 *     resourceData carries "members@delta";
 *   - any of these serialized as a JSON string.
 * One message can yield several events, so this adapter is a cursor like
 * decode_graph.h: decode_viva_open() parses, decode_viva_next() yields one
 * outcome at a time until it returns false.
 *
 * Mapping (source "viva"):
 *   message with a praise attachment  -> "praise_given", actor = sender,
 *                                        targets = praised_user_ids
 *   message with replied_to_id        -> "reply_posted", targets = notified_user_ids
 *   other message                     -> "message_posted", targets = notified_user_ids
 *   each liked_by.names[] entry       -> "reaction_added", attr reaction=like,
 *                                        actor = liker, target = sender (a
 *                                        sender's own like is IGNORED self_reaction)
 *   members@delta entry               -> "community_joined"
 *   members@delta entry with @removed -> "community_left"
 * channel_id is the group (community) id, content_id the message id. Attrs:
 * channel_type ("community" with a group, else "network"), message_type,
 * thread_id and reply_to on replies, reaction on likes.
 *
 * Times: a message's created_at (also the time of its likes, because Yammer
 * does not record when people liked); a membership change gets now_ms of
 * decode_viva_open(), because Graph notifications carry no change time.
 *
 * Event ids contain only the platform's record ids: "<message id>" for the
 * message's own event, "<message id>:like" for a like and "<group id>:member"
 * for a membership change, with the person in event.id_person (the pipeline
 * mixes in their pseudonym). So a message delivered again, in another list
 * or with more likes, counts each part once.
 *
 * Reasons: message level IGNORED unsupported_envelope, empty_collection;
 * INVALID oversized, invalid_json, not_an_object. Per message or change:
 * IGNORED bot_message, system_message, direct_message, self_reaction, lifecycle_event,
 * unsupported_resource, unsupported_change; INVALID not_an_object,
 * missing_field, invalid_event_time, id_too_long, field_too_long.
 *
 * Events borrow from the decoder until the next call of either function.
 * Thread: a decoder is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_VIVA_H
#define ADVOCACY_DECODE_VIVA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef struct decode_viva decode_viva;

/* Returns a new decoder, or NULL when out of memory. */
decode_viva *decode_viva_new(void);
void decode_viva_free(decode_viva *d);

/*
 * Parses one message received at now_ms. DECODE_OK: call decode_viva_next()
 * until it returns false. Otherwise res gives the outcome of the whole message.
 */
decode_status decode_viva_open(decode_viva *d, const void *buf, size_t len, int64_t now_ms,
			       decode_result *res);

/* Yields the next outcome into res (and *ev when DECODE_OK); false when none is left. */
bool decode_viva_next(decode_viva *d, event *ev, decode_result *res);

#endif
