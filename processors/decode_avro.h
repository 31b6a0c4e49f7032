/*
 * decode_avro.h - canonical AdvocacyEvent records in Avro binary encoding.
 *
 * The schema is schemas/advocacy_event.avsc, compiled into the binary. A
 * message is either one bare binary datum, or the Confluent wire format:
 * magic byte 0, a 4-byte big-endian schema id, then the datum. A datum whose
 * first byte is 0 would be an event with an empty event_id, which validation
 * rejects anyway, so the two framings never clash.
 *
 * The decoder walks the datum along the schema's wire layout once and points
 * the event's strings at their bytes in buf: nothing is allocated or copied.
 * Events it returns borrow from buf (and are not NUL-terminated), so they
 * are valid while buf is.
 *
 * Schema ids: without a lookup (decode_avro_set_lookup) every framed
 * message is read as the canonical schema, whatever its id. With one, each
 * id is looked up once (schema_cache.h). The canonical schema keeps this
 * fast path, and another AdvocacyEvent schema is resolved (avro_resolve.h).
 * The messages of an id that is found nowhere or cannot be resolved are
 * DECODE_INVALID with the cache's reason (unknown_schema_id,
 * incompatible_schema, ...). Bare datums always take the fast path.
 *
 * Validation, each failure DECODE_INVALID with its reason:
 *   - event_id and kind non-empty, event_time positive;
 *   - every id at most 256 bytes (id_too_long);
 *   - source, kind, attribute keys and values at most 256 bytes (field_too_long);
 *   - at most EVENT_MAX_TARGETS targets and EVENT_MAX_ATTRS attributes;
 *   - no NUL byte in an attribute key (invalid_attribute_key), because
 *     avro-c's map API, which the writer uses, takes keys as C strings;
 *   - no trailing bytes after the datum.
 */
#ifndef ADVOCACY_DECODE_AVRO_H
#define ADVOCACY_DECODE_AVRO_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "schema_cache.h"

typedef struct decode_avro decode_avro;

decode_avro *decode_avro_new(char *errstr, size_t errstr_size);
void decode_avro_free(decode_avro *d);

/*
 * Looks the writer schema of each framed message's id up with fn (see
 * schema_cache.h for retry_ms). Call before the first message. Returns 0,
 * or -1 when out of memory.
 */
int decode_avro_set_lookup(decode_avro *d, schema_lookup_fn fn, void *opaque, int64_t retry_ms);

/* Decodes buf; fills *ev when the result is DECODE_OK. Never aborts on bad input. */
decode_status decode_avro_message(decode_avro *d, const void *buf, size_t len,
                                  event *ev, decode_result *res);

/* Schema id of the last Confluent-framed message, -1 for a bare datum. */
int32_t decode_avro_last_schema_id(const decode_avro *d);

/*
 * Encodes ev as a canonical datum into out (capacity out_size), framed in the
 * Confluent wire format when schema_id >= 0. Returns the encoded length, or
 * -1 when it does not fit or a field is invalid. Used by the generator and
 * tests; not on the daemon's hot path.
 */
typedef struct avro_event_writer avro_event_writer;
avro_event_writer *avro_event_writer_new(void);
void avro_event_writer_free(avro_event_writer *w);
long avro_event_writer_encode(avro_event_writer *w, const event *ev, int32_t schema_id,
                              void *out, size_t out_size);

#endif
