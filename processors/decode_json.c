/*
 * decode_json.c - shared helpers of the HR webhook adapters (see
 * decode_json.h).
 *
 * jansson parses the message; its error text quotes the input, so only the
 * position of a syntax error is reported. Times accept what these platforms
 * send: RFC 3339 strings with or without fractions and offsets, and epoch
 * numbers from connectors that convert them. Integer ids in exponent form
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
	return decode_json_reject(res, DECODE_INVALID, "missing_field",
				  "required field %s is missing, empty or of the wrong type", field);
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

const json_t *decode_json_open(decode_json_doc *d, const void *buf, size_t len,
			       decode_result *res)
{
	json_error_t error;

	decode_json_close(d);
	if (len > DECODE_JSON_MAX_MESSAGE) {
		decode_json_reject(res, DECODE_INVALID, "oversized",
				   "the message is %zu bytes, more than the limit of %d", len,
				   DECODE_JSON_MAX_MESSAGE);
		return NULL;
	}
	d->doc = json_loadb(buf, len, JSON_DECODE_ANY, &error);
	if (d->doc == NULL) {
		decode_json_reject(res, DECODE_INVALID, "invalid_json",
				   "the message is not valid JSON (line %d, column %d)", error.line,
				   error.column);
		return NULL;
	}
	if (!json_is_string(d->doc))
		return d->doc;

	/* A connector sent the document as a JSON string holding the JSON text. */
	d->unwrapped = json_loadb(json_string_value(d->doc), json_string_length(d->doc),
				  JSON_DECODE_ANY, &error);
	if (d->unwrapped == NULL) {
		decode_json_reject(res, DECODE_INVALID, "invalid_json",
				   "the message is a JSON string that holds no JSON document");
		return NULL;
	}
	return d->unwrapped;
}

event_str decode_json_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return (event_str){NULL, 0};
	return (event_str){json_string_value(v), json_string_length(v)};
}

event_str decode_json_id(const json_t *obj, const char *key, char buf[DECODE_JSON_NUM_SIZE])
{
	const json_t *v = json_object_get(obj, key);
	double n;

	if (json_is_string(v))
		return (event_str){json_string_value(v), json_string_length(v)};
	if (!json_is_number(v))
		return (event_str){NULL, 0};
	n = json_number_value(v);
	if (!(n >= 0) || n > DECODE_JSON_MAX_INT || floor(n) != n)
		return (event_str){NULL, 0};
	int len = snprintf(buf, DECODE_JSON_NUM_SIZE, "%" PRId64, (int64_t)n);
	return (event_str){buf, (size_t)len};
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

/* ------------------------------------------------------------------------ */
/* Times                                                                     */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t decode_json_days(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p; -1 when they are not all digits. */
static int64_t decode_json_digits(const char **p, int n)
{
	int64_t v = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static bool decode_json_skip(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/* Reads an optional ".ddd..." as milliseconds; further digits are only checked. */
static int64_t decode_json_fraction(const char **p)
{
	int64_t ms = 0, place = 100;

	if (!decode_json_skip(p, '.'))
		return 0;
	if (!isdigit((unsigned char)**p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++, place /= 10)
		ms += (**p - '0') * place;
	return ms;
}

/* Reads "Z" or "+HH:MM" / "-HH:MM" (colon optional) as minutes; INT64_MIN when invalid. */
static int64_t decode_json_offset(const char **p)
{
	if (decode_json_skip(p, 'Z') || decode_json_skip(p, 'z'))
		return 0;
	if (**p != '+' && **p != '-')
		return INT64_MIN;
	int64_t sign = *(*p)++ == '-' ? -1 : 1;
	int64_t hh = decode_json_digits(p, 2);
	decode_json_skip(p, ':');
	int64_t mm = decode_json_digits(p, 2);
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return INT64_MIN;
	return sign * (hh * 60 + mm);
}

/* Parses an RFC 3339 time of a NUL-terminated string; 0 when invalid. */
static int64_t decode_json_iso_ms(const char *s)
{
	const char *p = s;
	int64_t y = decode_json_digits(&p, 4);
	int64_t mo = decode_json_skip(&p, '-') ? decode_json_digits(&p, 2) : -1;
	int64_t d = decode_json_skip(&p, '-') ? decode_json_digits(&p, 2) : -1;
	bool t = decode_json_skip(&p, 'T') || decode_json_skip(&p, 't') || decode_json_skip(&p, ' ');
	int64_t h = t ? decode_json_digits(&p, 2) : -1;
	int64_t mi = decode_json_skip(&p, ':') ? decode_json_digits(&p, 2) : -1;
	int64_t se = decode_json_skip(&p, ':') ? decode_json_digits(&p, 2) : -1;

	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || se < 0 || se > 60)
		return 0;
	int64_t frac = decode_json_fraction(&p);
	int64_t offset = decode_json_offset(&p);
	if (frac < 0 || offset == INT64_MIN || *p != '\0')
		return 0;
	int64_t secs = decode_json_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	int64_t ms = (secs - offset * 60) * 1000 + frac;
	return ms > 0 ? ms : 0;
}

int64_t decode_json_time(const json_t *v)
{
	double n;

	if (json_is_string(v)) {
		/* A string with an embedded NUL is not a time. */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return 0;
		return decode_json_iso_ms(json_string_value(v));
	}
	if (!json_is_number(v))
		return 0;
	n = json_number_value(v);
	if (!(n > 0) || n >= 9.2e15)
		return 0;
	return n < 1e11 ? (int64_t)(n * 1000) : (int64_t)n;
}

/* ------------------------------------------------------------------------ */
/* Strings and attributes                                                    */

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
