/*
 * decode_analytics.h - intranet analytics calls in the track/page style of
 * common analytics SDKs (Segment's spec and its clones) to canonical events.
 *
 * A message contains one call object, a batch envelope {"batch": [...]} (also
 * with "sentAt" and "context" beside it), a JSON array of calls, or any of
 * these serialized as a JSON string. One message can therefore yield several
 * events, so this adapter is a cursor like decode_graph.h:
 * decode_analytics_open() parses the message, decode_analytics_next() yields
 * one outcome per call until it returns false.
 *
 * Mapping, per call (source "intranet"):
 *   page, screen                     -> "page_viewed"
 *   track whose event name is mapped -> the mapped kind, one of
 *                                       decode_analytics_kinds
 *   identify, group, alias           -> IGNORED unsupported_call
 *   track with an unmapped name      -> IGNORED unknown_event
 * The actor is userId (a string or a number). The content id is
 * properties.content_id or properties.contentId; a page without one uses
 * properties.path without its query and fragment. The content author,
 * properties.author_id or authorId, becomes the target. Attr "call" is the
 * call type (track, page, screen).
 *
 * Calls with an anonymousId only: page views still yield "page_viewed"
 * without an actor (so a rule crediting the author counts the reach), other
 * calls are IGNORED anonymous_event because there is nobody to credit.
 *
 * The event id is the call's messageId, which SDKs generate once per call and
 * keep on every retry, so a call sent twice counts once. The event time is
 * timestamp, else originalTimestamp, else receivedAt, else sentAt, in any
 * shape decode_json_time_any() accepts.
 *
 * Reasons: message level IGNORED empty_batch, unsupported_envelope; INVALID
 * oversized, invalid_json, not_an_object. Per call: IGNORED unsupported_call,
 * unknown_event, anonymous_event, unsupported_type; INVALID not_an_object,
 * missing_field, invalid_event_time, id_too_long, field_too_long.
 *
 * Events borrow from the decoder until the next call of either function.
 * Thread: a decoder is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_ANALYTICS_H
#define ADVOCACY_DECODE_ANALYTICS_H

#include <stdbool.h>
#include <stddef.h>

#include "../daemon/config.h"
#include "event.h"

/* Maximum length of a track event name in the map, in bytes. */
#define DECODE_ANALYTICS_MAX_NAME 200
/* Maximum number of event names one input maps. */
#define DECODE_ANALYTICS_MAX_EVENTS 64

/* The kinds a track event name may map to, NULL-terminated. */
extern const char *const decode_analytics_kinds[];

typedef struct decode_analytics decode_analytics;

/* Returns a new decoder, or NULL when out of memory. */
decode_analytics *decode_analytics_new(void);
void decode_analytics_free(decode_analytics *d);

/*
 * Parses one message. events maps track event names to kinds (config key
 * kafka.inputs[].analytics.events); with n_events 0 the defaults apply:
 *   "Content Published" -> content_published
 *   "Comment Posted"    -> content_commented
 *   "Content Liked"     -> content_liked
 *   "Content Viewed"    -> page_viewed
 * The map is borrowed until the next open. DECODE_OK: call
 * decode_analytics_next() until it returns false. Otherwise res gives the
 * outcome of the whole message.
 */
decode_status decode_analytics_open(decode_analytics *d, const config_kv *events,
				    size_t n_events, const void *buf, size_t len,
				    decode_result *res);

/* Yields the outcome of the next call into res (and *ev when DECODE_OK); false when none is left. */
bool decode_analytics_next(decode_analytics *d, event *ev, decode_result *res);

#endif
