/*
 * json_value.h - value readers shared by the Viva Engage and the intranet
 * analytics adapters (decode_viva.c, decode_analytics.c).
 *
 * Real producers send the same field in several shapes: a time as an ISO
 * 8601 string in one event, as Yammer's "2012/12/08 01:23:16 +0000" in the
 * next and as epoch seconds or milliseconds (plain or in exponent form) in a
 * third; an id as a string or as a 64-bit number; a whole document or an
 * object as a JSON string holding JSON. These readers accept each shape and
 * return "absent" for anything else, so the adapters need one check per field.
 *
 * Pure functions over jansson values; no allocation except json_value_unwrap().
 */
#ifndef ADVOCACY_JSON_VALUE_H
#define ADVOCACY_JSON_VALUE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Room for the decimal text of any int64 and a NUL. */
#define JSON_VALUE_ID_SIZE 24

/*
 * Parses a time given as an ISO 8601 string ("2015-02-23T22:28:55.111Z",
 * "...55+01:00", a space for the 'T'), Yammer's "YYYY/MM/DD hh:mm:ss +hhmm", a
 * number, or a string of digits. Numbers below 10^11 are epoch seconds, others
 * epoch milliseconds. Returns milliseconds since the epoch, or 0 when v is
 * absent, of another type, before 1970 or not a valid time.
 */
int64_t json_value_time_ms(const json_t *v);

/*
 * Returns v as an id: a string is borrowed from v; an integer, or a real
 * that holds an integer exactly (2.000337749565441e15), is written in decimal
 * into buf (JSON_VALUE_ID_SIZE bytes) and returned from there. Returns an
 * absent string for anything else, including negative numbers.
 */
event_str json_value_id(const json_t *v, char *buf);

/* Returns the string member key of obj, or an absent string. */
event_str json_value_str(const json_t *obj, const char *key);

/*
 * Returns a new reference to the JSON document inside the string v (a
 * producer that serialized twice), or NULL when v is not a string holding
 * JSON. Strings are unwrapped once only.
 */
json_t *json_value_unwrap(const json_t *v);

/* Returns "an object", "an array", "a string", ... for messages. */
const char *json_value_type_name(const json_t *v);

#endif
