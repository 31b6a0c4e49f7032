/*
 * decode_json.h - what the JSON webhook adapters of HR platforms share:
 * parsing a message with its limits, reading members, times and ids, and
 * filling a decode_result.
 *
 * The referral (Greenhouse), training (xAPI), survey (Typeform) and
 * social-sharing adapters each own a decode_json_doc with the parsed message; every event_str
 * they yield borrows from it or from a buffer of the adapter, until their
 * next call. Nothing here copies input text into a detail sentence: details
 * name fields, never values.
 *
 * Thread: a document is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_JSON_H
#define ADVOCACY_DECODE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Maximum message size in bytes, the same as the Slack and Graph adapters'. */
#define DECODE_JSON_MAX_MESSAGE (1024 * 1024)
/* Maximum length of an id or attribute value, as for canonical Avro events. */
#define DECODE_JSON_MAX_ID 256
/* Room for the text of any integer id up to 2^53. */
#define DECODE_JSON_NUM_SIZE 24

typedef struct decode_json_doc {
	json_t *doc;
	json_t *unwrapped; /* the document inside a JSON string, if it was one */
} decode_json_doc;

/*
 * Parses one message into d (releasing the previous one). Returns the top
 * value, unwrapped once when a connector sent the document as a JSON string,
 * or NULL with res filled: INVALID oversized or invalid_json.
 */
const json_t *decode_json_open(decode_json_doc *d, const void *buf, size_t len,
			       decode_result *res);

/* Releases the parsed message, if any. */
void decode_json_close(decode_json_doc *d);

/* Fills res with status, reason and a detail sentence; returns status. */
decode_status decode_json_reject(decode_result *res, decode_status status, const char *reason,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* INVALID missing_field naming the field. */
decode_status decode_json_missing(decode_result *res, const char *field);

/* "an object", "an array", "a string"... for detail sentences. */
const char *decode_json_type(const json_t *v);

/* The string member key of obj, or an absent string. */
event_str decode_json_str(const json_t *obj, const char *key);

/*
 * An id member of obj as text: a string as it is, or a non-negative integer
 * (also in exponent form, up to 2^53) written into buf. Returns an absent
 * string when missing or of another type.
 */
event_str decode_json_id(const json_t *obj, const char *key, char buf[DECODE_JSON_NUM_SIZE]);

/*
 * A time value in milliseconds since the epoch, 0 when absent or invalid: an
 * ISO 8601 string ("2026-03-02T09:15:00Z", fractions and "+01:00" offsets
 * allowed), or a number of milliseconds, or of seconds when below 10^11.
 */
int64_t decode_json_time(const json_t *v);

/*
 * Formats ev->event_id into buf (owned by the adapter). Returns DECODE_OK, or
 * INVALID id_too_long when the id would be longer than DECODE_JSON_MAX_ID
 * bytes, the limit of every string of a canonical event.
 */
decode_status decode_json_event_id(event *ev, char *buf, size_t size, decode_result *res,
				   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* 16 hex digits of the 64-bit FNV-1a hash of s, into out (17 bytes), for long ids in event ids. */
void decode_json_hash_hex(event_str s, char out[17]);

/* ASCII case-insensitive equality with, and search for, a lower-case literal. */
bool decode_json_ieq(event_str s, const char *lit);
bool decode_json_icontains(event_str s, const char *lit);

/* Adds attribute key=value unless value is absent or the event is full. */
void decode_json_add_attr(event *ev, const char *key, event_str value);

#endif
