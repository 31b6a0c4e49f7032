/*
 * decode_graph.h - Microsoft Graph change notifications about Teams
 * chatMessage resources to canonical events.
 *
 * A message contains a notification collection {"value": [...],
 * "validationTokens": [...]} or a single notification object. One message
 * can therefore yield several events, so this adapter is a cursor:
 * decode_graph_open() parses the message once, and decode_graph_next()
 * yields one outcome (an event, or the reason why there is none) at a time
 * until it returns false.
 *
 * The chatMessage comes from encryptedContent (decrypted with a configured
 * private key, see decode_graph_add_key()) or, when a connector upstream
 * already fetched or decrypted it, from a resourceData that holds the full
 * message (it has a messageType). Mapping, per notification:
 *   created, no replyToId      -> "message_posted"
 *   created, with replyToId    -> "reply_posted" (attr reply_to)
 *   updated, lastEditedDateTime -> "message_edited" (once per edit time)
 *   deleted, or updated with deletedDateTime -> "message_deleted"
 *   each reactions[] entry of a created or updated message
 *                              -> "reaction_added", attr reaction=<reactionType>,
 *                                 actor = reactor, target = message author
 * Mentioned users (mentions[].mentioned.user.id) become the targets of
 * posted, reply and edited events. Attr channel_type is "channel"
 * (channelIdentity, attr team_id) or "chat" (chatId); channel_id is the
 * channelId or chatId, content_id the message id.
 *
 * Event ids are stable across redelivery (the notification id is not):
 *   <channel or chat>/<message id>:created
 *   <channel or chat>/<message id>:edited:<lastEditedDateTime>
 *   <channel or chat>/<message id>:deleted
 *   <channel or chat>/<message id>:reaction:<user id>:<reactionType>:<createdDateTime>
 * so a reaction repeated by every later update of its message counts once.
 * They are written into a buffer the decoder owns. An event id leaves the
 * process only as the 64-bit dedup hash. An event whose id would be longer
 * than 256 bytes, like every other id, is INVALID id_too_long; Teams ids
 * keep a real reaction's id near 200 bytes.
 *
 * Reasons: message level IGNORED unsupported_envelope, empty_collection;
 * INVALID oversized, invalid_json, not_an_object. Per notification or event:
 * IGNORED lifecycle_event, not_a_notification, unsupported_resource,
 * unsupported_change, no_resource_data, bot_message, system_message;
 * INVALID not_an_object, missing_field, invalid_event_time, id_too_long,
 * field_too_long, unknown_key, bad_base64, bad_data_key, bad_signature,
 * bad_padding, invalid_resource.
 *
 * Events borrow from the decoder until the next call of either function.
 * Thread: a decoder is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_GRAPH_H
#define ADVOCACY_DECODE_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

/* Maximum length of an encryptionCertificateId, as Graph limits it. */
#define DECODE_GRAPH_MAX_CERT_ID 128
/* Maximum number of keys per decoder. Two cover a key rotation. */
#define DECODE_GRAPH_MAX_KEYS 8

typedef struct decode_graph decode_graph;

/* Returns a new decoder without keys, or NULL when out of memory. */
decode_graph *decode_graph_new(void);
void decode_graph_free(decode_graph *d);

/*
 * Loads the RSA private key (PEM, unencrypted, 2048 to 4096 bits) in file for
 * notifications whose encryptionCertificateId is certificate_id. Returns 0,
 * or -1 with errstr naming the file and the fix. The key stays in memory
 * until decode_graph_free(), which wipes it.
 */
int decode_graph_add_key(decode_graph *d, const char *certificate_id, const char *file,
			 char *errstr, size_t errstr_size);

/*
 * Parses one message. DECODE_OK: call decode_graph_next() until it returns
 * false. Otherwise res gives the outcome of the whole message.
 */
decode_status decode_graph_open(decode_graph *d, const void *buf, size_t len, decode_result *res);

/*
 * Yields the next outcome of the open message into res (and *ev when
 * res->status is DECODE_OK). Returns false when none is left. Every
 * notification yields at least one outcome.
 */
bool decode_graph_next(decode_graph *d, event *ev, decode_result *res);

#endif
