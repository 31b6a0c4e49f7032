/*
 * decode_json.c - shared helpers of the JSON adapters (see decode_json.h);
 * the time readers are in decode_json_time.c.
 *
 * jansson parses the message; its error text quotes the input, so only the
 * position of a syntax error is reported. Integer ids in exponent form
 * ("2.0e1") are accepted when they are whole, because some JSON encoders
 * write large numbers that way.
 */
#include "decode_json.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Largest integer that a double represents exactly. */
#define DECODE_JSON_MAX_INT 9007199254740992.0

void decode_json_close(decode_json_doc *d)
{
	json_decref(d->unwrapped);
	d->unwrapped = NULL;
	json_decref(d->doc);
	d->doc = NULL;
}

decode_status decode_json_reject(decode_result *res, decode_status status, const char *reason,
				 const char *fmt, ...)
{
	va_list ap;

	res->status = status;
	res->reason = reason;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return status;
}

decode_status decode_json_missing(decode_result *res, const char *field)
{
	return decode_json_missing_expected(res, field, "of the wrong type");
}

decode_status decode_json_missing_expected(decode_result *res, const char *field,
					   const char *expected)
{
	return decode_json_reject(res, DECODE_INVALID, "missing_field",
				  "required field %s is missing, empty or %s", field, expected);
}

const char *decode_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	default:
		return "an object";
	}
}

decode_status decode_json_check_size(decode_result *res, size_t len, size_t max_len)
{
	if (len <= max_len)
		return DECODE_OK;
	return decode_json_reject(res, DECODE_INVALID, "oversized",
				  "the message is %zu bytes, more than the limit of %zu", len,
				  max_len);
}

decode_status decode_json_reject_syntax(decode_result *res, int line, int column)
{
	return decode_json_reject(res, DECODE_INVALID, "invalid_json",
				  "the message is not valid JSON (line %d, column %d)", line,
				  column);
}

json_t *decode_json_load(const void *buf, size_t len, size_t max_len, decode_result *res)
{
	json_error_t error;
	json_t *doc;

	if (decode_json_check_size(res, len, max_len) != DECODE_OK)
		return NULL;
	doc = json_loadb(buf, len, JSON_DECODE_ANY, &error);
	if (doc == NULL)
		decode_json_reject_syntax(res, error.line, error.column);
	return doc;
}

const json_t *decode_json_open(decode_json_doc *d, const void *buf, size_t len, decode_result *res)
{
	decode_json_close(d);
	d->doc = decode_json_load(buf, len, DECODE_JSON_MAX_MESSAGE, res);
	if (d->doc == NULL)
		return NULL;
	if (!json_is_string(d->doc))
		return d->doc;

	/* A connector sent the document as a JSON string holding the JSON text. */
	d->unwrapped = decode_json_unwrap(d->doc);
	if (d->unwrapped == NULL) {
		decode_json_reject(res, DECODE_INVALID, "invalid_json",
				   "the message is a JSON string that holds no JSON document");
		return NULL;
	}
	return d->unwrapped;
}

json_t *decode_json_unwrap(const json_t *v)
{
	json_error_t error;

	if (!json_is_string(v))
		return NULL;
	return json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, &error);
}

event_str decode_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return (event_str){NULL, 0};
	return (event_str){json_string_value(v), json_string_length(v)};
}

/* n as a decimal id in buf when it is a whole number from 0 to 2^53, else absent. */
static event_str decode_json_whole_id(double n, char buf[DECODE_JSON_NUM_SIZE])
{
	if (!(n >= 0) || n > DECODE_JSON_MAX_INT || floor(n) != n)
		return (event_str){NULL, 0};
	int len = snprintf(buf, DECODE_JSON_NUM_SIZE, "%" PRId64, (int64_t)n);
	return (event_str){buf, (size_t)len};
}

event_str decode_json_id(const json_t *obj, const char *key, char buf[DECODE_JSON_NUM_SIZE])
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		return (event_str){json_string_value(v), json_string_length(v)};
	if (!json_is_number(v))
		return (event_str){NULL, 0};
	return decode_json_whole_id(json_number_value(v), buf);
}

event_str decode_json_id_value(const json_t *v, char buf[DECODE_JSON_NUM_SIZE])
{
	if (json_is_string(v))
		return (event_str){json_string_value(v), json_string_length(v)};
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		int len = snprintf(buf, DECODE_JSON_NUM_SIZE, "%" PRId64,
				   (int64_t)json_integer_value(v));
		return (event_str){buf, (size_t)len};
	}
	if (json_is_real(v))
		return decode_json_whole_id(json_real_value(v), buf);
	return (event_str){NULL, 0};
}

decode_status decode_json_event_id(event *ev, char *buf, size_t size, decode_result *res,
				   const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size || n > DECODE_JSON_MAX_ID)
		return decode_json_reject(res, DECODE_INVALID, "id_too_long",
					  "the event id built from the record's ids is longer than "
					  "%d bytes",
					  DECODE_JSON_MAX_ID);
	ev->event_id = (event_str){buf, (size_t)n};
	return DECODE_OK;
}

void decode_json_hash_hex(event_str s, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 17, "%016" PRIx64, h);
}

bool decode_json_str_equal(event_str a, event_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool decode_json_ieq(event_str s, const char *lit)
{
	size_t n = strlen(lit);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s.ptr[i]) != lit[i])
			return false;
	return true;
}

bool decode_json_icontains(event_str s, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = 0; i + n <= s.len; i++)
		if (decode_json_ieq((event_str){s.ptr + i, n}, lit))
			return true;
	return false;
}

void decode_json_add_attr(event *ev, const char *key, event_str value)
{
	if (value.len == 0 || ev->attr_count == EVENT_MAX_ATTRS)
		return;
	ev->attrs[ev->attr_count++] = (event_attr){{key, strlen(key)}, value};
}
