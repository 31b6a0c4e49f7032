/*
 * decode_json.h - what the JSON adapters share: parsing a message with its
 * limits, reading members, times and ids, filling a decode_result and adding
 * attributes to an event.
 *
 * The referral (Greenhouse), training (xAPI), survey (Typeform) and
 * social-sharing adapters each own a decode_json_doc with the parsed message.
 * The Graph, Viva Engage and analytics adapters keep their own documents
 * and use the loader, readers and reject helpers. The Slack adapters parse
 * with cJSON (decode_cjson.h) and use only the reject helpers, the size
 * check and the attribute and string helpers. Every event_str these functions return
 * borrows from a jansson value or from a buffer of the caller. Nothing here
 * copies input text into a detail sentence: details name fields, never values.
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

/*
 * Parses a message of at most max_len bytes, any JSON value at the top.
 * Returns a new reference, or NULL with res filled: INVALID oversized or
 * invalid_json. The detail gives only the position of a syntax error, because
 * jansson's error text quotes the input.
 */
json_t *decode_json_load(const void *buf, size_t len, size_t max_len, decode_result *res);

/* DECODE_OK when len is at most max_len, else INVALID oversized in res. */
decode_status decode_json_check_size(decode_result *res, size_t len, size_t max_len);

/*
 * INVALID invalid_json with the position of the syntax error, for adapters
 * that parse with another library (decode_cjson.h). Returns DECODE_INVALID.
 */
decode_status decode_json_reject_syntax(decode_result *res, int line, int column);

/* Releases the parsed message, if any. */
void decode_json_close(decode_json_doc *d);

/* Fills res with status, reason and a detail sentence; returns status. */
decode_status decode_json_reject(decode_result *res, decode_status status, const char *reason,
				 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* INVALID missing_field naming the field. */
decode_status decode_json_missing(decode_result *res, const char *field);

/*
 * INVALID missing_field naming the field and what it should have been, as in
 * "required field id is missing, empty or not a string" for expected "a string".
 */
decode_status decode_json_missing_expected(decode_result *res, const char *field,
					   const char *expected);

/* "an object", "an array", "a string"... for detail sentences; v must not be NULL. */
const char *decode_json_type(const json_t *v);

/*
 * Returns a new reference to the JSON document inside the string v (a
 * producer that serialized twice), or NULL when v is not a string holding
 * JSON. Strings are unwrapped once only.
 */
json_t *decode_json_unwrap(const json_t *v);

/* The string member key of obj, or an absent string. */
event_str decode_json_str(const json_t *obj, const char *key);

/*
 * An id member of obj as text: a string as it is, or a non-negative integer
 * (also in exponent form, up to 2^53) written into buf. Returns an absent
 * string when missing or of another type.
 */
event_str decode_json_id(const json_t *obj, const char *key, char buf[DECODE_JSON_NUM_SIZE]);

/*
 * v as an id, for producers with 64-bit ids (Yammer): a string as it is, any
 * non-negative JSON integer, or a real that is a whole number up to
 * 2^53 (2.000337749565441e15), written in decimal into buf. Returns an
 * absent string for anything else, including negative numbers.
 */
event_str decode_json_id_value(const json_t *v, char buf[DECODE_JSON_NUM_SIZE]);

/*
 * A time value in milliseconds since the epoch, 0 when absent or invalid: an
 * ISO 8601 string ("2026-03-02T09:15:00Z", fractions and "+01:00" offsets
 * allowed), or a number of milliseconds, or of seconds when below 10^11.
 */
int64_t decode_json_time(const json_t *v);

/*
 * Reads a time in any shape the Viva Engage and analytics producers send and
 * returns it in milliseconds since the epoch. Accepted: an ISO 8601 string
 * ("2015-02-23T22:28:55.111Z", "...55+01:00", a space for the 'T', no offset
 * meaning UTC), Yammer's "YYYY/MM/DD hh:mm:ss +hhmm", a number, or a string of
 * digits. Numbers below
 * 10^11 are epoch seconds, others epoch milliseconds. Returns 0 when v is
 * absent, of another type, a string longer than 64 bytes, before 1970, a
 * number from the year 2255 on, or not a valid date and time.
 */
int64_t decode_json_time_any(const json_t *v);

/*
 * Returns the days from 1970-01-01 to a proleptic Gregorian date, using
 * Howard Hinnant's days_from_civil. The date is not checked, so a day past
 * the end of its month rolls into the next month.
 */
int64_t decode_json_days_from_civil(int64_t year, int64_t month, int64_t day);

/*
 * Formats ev->event_id into buf (owned by the adapter). Returns DECODE_OK, or
 * INVALID id_too_long when the id would be longer than DECODE_JSON_MAX_ID
 * bytes, the limit of every string of a canonical event.
 */
decode_status decode_json_event_id(event *ev, char *buf, size_t size, decode_result *res,
				   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* 16 hex digits of the 64-bit FNV-1a hash of s, into out (17 bytes), for long ids in event ids. */
void decode_json_hash_hex(event_str s, char out[17]);

/* Byte equality of two strings; two absent strings are equal. */
bool decode_json_str_equal(event_str a, event_str b);

/* ASCII case-insensitive equality with, and search for, a lower-case literal. */
bool decode_json_ieq(event_str s, const char *lit);
bool decode_json_icontains(event_str s, const char *lit);

/* Adds attribute key=value unless value is absent or the event is full. */
void decode_json_add_attr(event *ev, const char *key, event_str value);

#endif
