/*
 * avro_resolve.h - AdvocacyEvent datums written with an evolved writer schema.
 *
 * Producers may change the AdvocacyEvent schema they write with: add fields
 * (which advocacyd ignores), remove fields the canonical (reader) schema has
 * a default for, promote int to long, write an optional field as a plain
 * string or a required one as a ["null", "string"] union. A resolution is
 * built once per writer schema and then decodes every datum written with it.
 *
 * The datum is decoded with the writer's schema into one avro-c generic
 * value, reused for every datum, and the event's fields are taken from it by
 * name. The reader's defaults are applied here for fields the writer lacks:
 * avro-c's resolved reader does not apply them. Before avro-c reads a datum,
 * a bounds scan walks it along the writer schema and rejects every length,
 * count or union index that exceeds the bytes left: avro-c allocates a
 * string's declared length before it compares it with the input.
 *
 * Events borrow their strings from the generic value: they stay valid until
 * the next avro_resolve_decode() call on the same resolution, or its free.
 * Thread: one thread at a time. Not the hot path of canonical input (see
 * decode_avro.h); a datum costs about what avro-c's generic reader costs.
 */
#ifndef ADVOCACY_AVRO_RESOLVE_H
#define ADVOCACY_AVRO_RESOLVE_H

#include <avro.h>
#include <stddef.h>

#include "event.h"

/* Maximum length in bytes of any string field the event takes. */
#define AVRO_RESOLVE_MAX_STRING 256

typedef struct avro_resolve avro_resolve;

/*
 * Resolves writer (which the caller keeps owning) against the canonical
 * AdvocacyEvent schema. Returns NULL and fills failure (DECODE_INVALID, reason
 * "incompatible_schema" or "out_of_memory", a detail naming the field) when
 * the writer is not an AdvocacyEvent record, lacks a field the reader needs
 * and has no default for, or writes a field with a type that cannot be read
 * as the reader's.
 */
avro_resolve *avro_resolve_new(avro_schema_t writer, decode_result *failure);
void avro_resolve_free(avro_resolve *r);

/*
 * Decodes one datum (without any frame header) into ev. Returns DECODE_OK,
 * or DECODE_INVALID with res filled: invalid_avro, trailing_bytes,
 * id_too_long, field_too_long, too_many_targets, too_many_attributes. The
 * checks of event values (non-empty id and kind, positive time) are the
 * caller's, as for canonical datums.
 */
decode_status avro_resolve_decode(avro_resolve *r, const void *datum, size_t len, event *ev,
                                  decode_result *res);

#endif
