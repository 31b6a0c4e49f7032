/*
 * decode_cjson.h - JSON parsing with cJSON for the Slack adapters
 * (decode_slack.c and slack_export.c), with the acceptance rules of jansson
 * that the other JSON adapters use, and the member readers both share.
 *
 * In a loop over 200 generated Slack messages of about 560 bytes, cJSON
 * 1.7.15 parsed and freed one in 2 to 4 us and jansson 2.14 in 9.5 to 18 us
 * (2-core x86-64 VM, noisy). But cJSON accepts input that jansson rejects as
 * invalid JSON: invalid UTF-8, control characters, "\u0000" and bad \u
 * escapes (decoded as NUL, which truncates the string), and numbers such as
 * "01", "1." or "-.5". It also accepts integers beyond int64, reals beyond
 * double, and any byte up to 0x20 as whitespace. A lexical check of the
 * input before cJSON parses it rejects all of these, so an input is valid
 * here exactly when jansson (json_loadb with JSON_DECODE_ANY) accepts it,
 * with the two exceptions noted at decode_cjson_parse(). The structure is
 * still parsed by cJSON alone.
 *
 * Two other differences are handled by the readers: an object with a key
 * twice yields the last value, as in jansson, and decode_cjson_integer()
 * distinguishes integers from reals by how the number was written, as
 * json_is_integer() does.
 *
 * Thread: a decode_cjson is used by one thread at a time.
 */
#ifndef ADVOCACY_DECODE_CJSON_H
#define ADVOCACY_DECODE_CJSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Numbers whose form the parse keeps, so decode_cjson_integer() rarely reads the input again. */
#define DECODE_CJSON_KEPT_NUMBERS 16

/* How a number was written: an integer (no fraction or exponent) and its value, or not. */
typedef struct decode_cjson_number {
	bool integer;
	int64_t value; /* when integer */
} decode_cjson_number;

typedef struct decode_cjson {
	cJSON *root;	  /* parsed document, or NULL */
	const char *text; /* the input, for decode_cjson_integer(); borrowed */
	size_t len;
	decode_cjson_number numbers[DECODE_CJSON_KEPT_NUMBERS]; /* the first numbers, in order */
} decode_cjson;

/* Position of a syntax error: line from 1, column in characters from 1. */
typedef struct decode_cjson_error {
	int line;
	int column;
} decode_cjson_error;

/*
 * Parses buf into d, releasing the previous document. Any JSON value may be
 * at the top. Returns the root, or NULL with the position of the first
 * invalid byte in err. d keeps a pointer to buf for decode_cjson_integer(),
 * so buf must stay unchanged while that is called.
 * NOTE: for a structural error the position is cJSON's, so its column often
 * differs from jansson's and, rarely, its line too (about a third and 1 in
 * 400 of the inputs of a fuzz corpus). The outcome itself is the same.
 *
 * Unlike jansson, this rejects documents nested deeper than 1000 levels
 * (CJSON_NESTING_LIMIT, against jansson's 2048). It also rejects numbers
 * written with more than 63 characters, the size of cJSON's number buffer.
 * Slack payloads nest a few levels and carry short numbers, so neither
 * limit is expected to matter. Allocates every node, as jansson does.
 */
const cJSON *decode_cjson_parse(decode_cjson *d, const void *buf, size_t len,
				decode_cjson_error *err);

/* Releases the parsed document, if any. */
void decode_cjson_close(decode_cjson *d);

/*
 * Returns the member key of obj, or NULL when obj is not an object or has no
 * such member. When the key occurs more than once the last value wins, as
 * in jansson (cJSON_GetObjectItemCaseSensitive returns the first).
 */
const cJSON *decode_cjson_get(const cJSON *obj, const char *key);

/* The string member key of obj, or an absent string. */
event_str decode_cjson_str(const cJSON *obj, const char *key);

/* v as a string, or an absent string when v is not one. */
event_str decode_cjson_str_value(const cJSON *v);

/* True when v is an array with at least one element. */
bool decode_cjson_nonempty_array(const cJSON *v);

/* "an object", "an array", "a string"... for detail sentences. v must not be NULL. */
const char *decode_cjson_type(const cJSON *v);

/*
 * Sets *out to the value of v when v, a node of d's document, is a number
 * written as an integer (no fraction and no exponent), as json_is_integer()
 * would return it. Returns false for anything else. A number after the
 * first DECODE_CJSON_KEPT_NUMBERS is read again from the input, so buf of
 * decode_cjson_parse() must still be there.
 */
bool decode_cjson_integer(const decode_cjson *d, const cJSON *v, int64_t *out);

#endif
