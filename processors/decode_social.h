/*
 * decode_social.h - social-sharing (employee advocacy) webhooks to canonical
 * events.
 *
 * Employee advocacy platforms let people share company content to their own
 * networks (LinkedIn, X, Xing...) and report back what the share achieved.
 * There is no common webhook standard, so advocacyd accepts one documented
 * JSON shape (README "Social sharing") that keeps the networks' own field
 * names where they exist (LinkedIn's ugcPost and share statistics). A message
 * contains one event object, a batch {"events": [...]}, or either as a JSON
 * string. Mapping, per event object (source "social", actor employee_id):
 *   share.created    -> "content_shared_external" (content_id, attr network)
 *   share.deleted    -> "content_share_deleted"
 *   share.statistics -> "share_clicks" (attr clicks = clickCount) and
 *                       "share_reach" (attr reach = impressionCount), one
 *                       event per count present, for one timeRange
 * Event ids come from the network's share id, never from a person:
 *   <network>/<share id>:shared, <network>/<share id>:deleted,
 *   <network>/<share id>:clicks:<start>-<end>, ...:reach:<start>-<end>
 * so a report the platform sends again counts once. Statistics without a
 * timeRange are lifetime totals: summing them would count a click again in
 * every report, so they are ignored (lifetime_statistics).
 *
 * Reasons: message level IGNORED unsupported_envelope, empty_batch; INVALID
 * oversized, invalid_json, not_an_object. Per event object: IGNORED
 * unsupported_event_type, not_published, lifetime_statistics,
 * no_statistics; INVALID not_an_object, missing_field, invalid_event_time,
 * invalid_time_range, invalid_count, id_too_long.
 *
 * The decoder is a cursor like decode_graph.h: decode_social_open() parses
 * the message, decode_social_next() yields one outcome at a time. Events
 * borrow from the decoder until the next call of either function.
 * Thread: a decoder is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_SOCIAL_H
#define ADVOCACY_DECODE_SOCIAL_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

/* Largest click or impression count of one report; more is a corrupt report. */
#define DECODE_SOCIAL_MAX_COUNT 1000000000LL

typedef struct decode_social decode_social;

/* Returns a new decoder, or NULL when out of memory. */
decode_social *decode_social_new(void);
void decode_social_free(decode_social *d);

/*
 * Parses one message. DECODE_OK: call decode_social_next() until it returns
 * false. Otherwise res gives the outcome of the whole message.
 */
decode_status decode_social_open(decode_social *d, const void *buf, size_t len,
				 decode_result *res);

/*
 * Yields the next outcome of the open message into res (and *ev when
 * res->status is DECODE_OK). Returns false when none is left. Every event
 * object yields at least one outcome.
 */
bool decode_social_next(decode_social *d, event *ev, decode_result *res);

#endif
