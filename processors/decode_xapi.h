/*
 * decode_xapi.h - training completions from xAPI (Experience API)
 * statements, as a learning record store forwards them, to canonical events.
 *
 * A message contains one statement, an array of statements (the body of a
 * POST /statements) or a StatementResult {"statements": [...], "more": ...}.
 * One message can yield several events, so this adapter is a cursor, like
 * decode_graph.h: decode_xapi_open() parses the message and
 * decode_xapi_next() yields one outcome per statement.
 *
 * Mapping, per statement:
 *   verb completed or passed (the last segment of verb.id, e.g.
 *   http://adlnet.gov/expapi/verbs/completed)  -> "training_completed"
 *   actor   = the Agent's mbox without "mailto:", else account.name, else
 *             openid, else mbox_sha1sum
 *   content = object.id (the course or module IRI)
 *   attr verb = completed or passed
 * Event time: timestamp, else stored. Event id:
 *   "xapi:<context.registration>:<h>" when the statement has a
 *   registration (one attempt at one course), h being 16 hex digits of the
 *   64-bit FNV-1a hash of object.id, so that the "completed" and "passed"
 *   statements of one attempt count once;
 *   "xapi:<statement id>" otherwise. An id over 256 bytes is id_too_long.
 * Other verbs (attempted, failed, experienced, voided...) are ignored; a
 * voided completion is not taken back.
 *
 * Reasons: message level IGNORED empty_collection; INVALID oversized,
 * invalid_json, not_an_object. Per statement: IGNORED unsupported_verb,
 * group_actor, unsupported_object; INVALID not_an_object, missing_field,
 * invalid_event_time, id_too_long.
 *
 * Events borrow from the decoder until the next call of either function.
 * Thread: a decoder is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_XAPI_H
#define ADVOCACY_DECODE_XAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "event.h"

typedef struct decode_xapi decode_xapi;

/* Returns a new decoder, or NULL when out of memory. */
decode_xapi *decode_xapi_new(void);
void decode_xapi_free(decode_xapi *d);

/*
 * Parses one message. DECODE_OK: call decode_xapi_next() until it returns
 * false. Otherwise res gives the outcome of the whole message.
 */
decode_status decode_xapi_open(decode_xapi *d, const void *buf, size_t len, decode_result *res);

/*
 * Yields the outcome of the next statement into res (and *ev when
 * res->status is DECODE_OK). Returns false when none is left.
 */
bool decode_xapi_next(decode_xapi *d, event *ev, decode_result *res);

#endif
