/*
 * json_value.c - value readers shared by the Viva Engage and intranet
 * analytics adapters: times in several shapes, ids as strings or numbers,
 * JSON serialized inside a JSON string.
 *
 * Time parsing works on the text only; no locale or time zone database is
 * consulted, because every accepted shape carries its own UTC offset (a time
 * without one is read as UTC, as Segment's libraries send it).
 */
#include "json_value.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Epoch numbers below this are seconds, others milliseconds (10^11 s is year 5138). */
#define JSON_VALUE_SECONDS_LIMIT 1e11
/* Largest epoch milliseconds accepted (year 2255), far inside int64. */
#define JSON_VALUE_MAX_MS 9e12
/* Largest integer a double holds exactly. */
#define JSON_VALUE_EXACT_LIMIT 9007199254740992.0

/* A cursor over the text of a time. */
typedef struct json_value_text {
	const char *s;
	size_t len;
	size_t i;
} json_value_text;

/* Days from 1970-01-01 to the given proleptic Gregorian date. */
static int64_t json_value_days(int64_t year, int64_t month, int64_t day)
{
	static const int before_month[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	int64_t y = year - 1;
	int64_t leap_days = y / 4 - y / 100 + y / 400 - (1969 / 4 - 1969 / 100 + 1969 / 400);
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	int64_t days = (year - 1970) * 365 + leap_days + before_month[month - 1] + day - 1;

	return days + (leap && month > 2 ? 1 : 0);
}

static bool json_value_days_valid(int64_t year, int64_t month, int64_t day)
{
	static const int length[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12 || day < 1 || day > length[month - 1])
		return false;
	return month != 2 || day < 29 || leap;
}

/* Reads exactly n digits; returns -1 when they are not all there. */
static int64_t json_value_digits(json_value_text *t, size_t n)
{
	int64_t v = 0;

	if (t->i + n > t->len)
		return -1;
	for (size_t k = 0; k < n; k++, t->i++) {
		char c = t->s[t->i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	return v;
}

static bool json_value_accept(json_value_text *t, const char *one_of)
{
	if (t->i >= t->len || strchr(one_of, t->s[t->i]) == NULL || t->s[t->i] == '\0')
		return false;
	t->i++;
	return true;
}

/* Reads an optional fraction of a second as milliseconds; -1 when a '.' has no digit. */
static int64_t json_value_fraction(json_value_text *t)
{
	int64_t ms = 0, weight = 100;
	size_t start;

	if (!json_value_accept(t, ".,"))
		return 0;
	start = t->i;
	for (; t->i < t->len && t->s[t->i] >= '0' && t->s[t->i] <= '9'; t->i++) {
		ms += (t->s[t->i] - '0') * weight;
		weight /= 10;
	}
	return t->i == start ? -1 : ms;
}

/*
 * Reads the UTC offset in minutes: nothing or "Z" is 0, then "+hh:mm",
 * "+hhmm" or "+hh", with an optional space before the sign. INT64_MIN when
 * invalid.
 */
static int64_t json_value_offset(json_value_text *t)
{
	if (t->i == t->len)
		return 0;
	if (json_value_accept(t, "Zz"))
		return t->i == t->len ? 0 : INT64_MIN;
	json_value_accept(t, " ");
	if (t->i >= t->len || (t->s[t->i] != '+' && t->s[t->i] != '-'))
		return INT64_MIN;
	int64_t sign = t->s[t->i++] == '-' ? -1 : 1;
	int64_t hours = json_value_digits(t, 2);
	json_value_accept(t, ":");
	int64_t minutes = t->i < t->len ? json_value_digits(t, 2) : 0;
	if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || t->i != t->len)
		return INT64_MIN;
	return sign * (hours * 60 + minutes);
}

/* Parses "YYYY-MM-DD[T ]hh:mm:ss[.f][offset]" or "YYYY/MM/DD hh:mm:ss +hhmm". */
static int64_t json_value_text_ms(const char *s, size_t len)
{
	json_value_text t = {s, len, 0};
	int64_t year = json_value_digits(&t, 4);
	char sep = t.i < len ? s[t.i] : '\0';

	if (year < 1970 || (sep != '-' && sep != '/') || !json_value_accept(&t, "-/"))
		return 0;
	int64_t month = json_value_digits(&t, 2);
	if (t.i >= len || s[t.i] != sep)
		return 0;
	t.i++;
	int64_t day = json_value_digits(&t, 2);
	if (!json_value_days_valid(year, month, day) || !json_value_accept(&t, "Tt "))
		return 0;

	int64_t hour = json_value_digits(&t, 2);
	int64_t minute = json_value_accept(&t, ":") ? json_value_digits(&t, 2) : -1;
	int64_t second = json_value_accept(&t, ":") ? json_value_digits(&t, 2) : -1;
	if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60)
		return 0;
	int64_t fraction = json_value_fraction(&t);
	int64_t offset = json_value_offset(&t);
	if (fraction < 0 || offset == INT64_MIN)
		return 0;

	int64_t seconds = json_value_days(year, month, day) * 86400 + hour * 3600 + minute * 60 +
			  second - offset * 60;
	int64_t ms = seconds * 1000 + fraction;
	return ms > 0 ? ms : 0;
}

/* Converts an epoch number in seconds or milliseconds; 0 when out of range. */
static int64_t json_value_epoch_ms(double n)
{
	if (!(n > 0) || n >= JSON_VALUE_MAX_MS)
		return 0;
	return n < JSON_VALUE_SECONDS_LIMIT ? (int64_t)(n * 1000.0) : (int64_t)n;
}

/* A string of digits with an optional fraction is an epoch number too. */
static bool json_value_is_numeric(const char *s, size_t len)
{
	size_t digits = strspn(s, "0123456789");

	if (digits == 0 || digits > 16)
		return false;
	if (digits == len)
		return true;
	return s[digits] == '.' && strspn(s + digits + 1, "0123456789") == len - digits - 1;
}

int64_t json_value_time_ms(const json_t *v)
{
	if (json_is_number(v))
		return json_value_epoch_ms(json_number_value(v));
	if (!json_is_string(v))
		return 0;

	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > 64 || strlen(s) != len)
		return 0;
	if (json_value_is_numeric(s, len))
		return json_value_epoch_ms(strtod(s, NULL));
	return json_value_text_ms(s, len);
}

event_str json_value_id(const json_t *v, char *buf)
{
	int n;

	if (json_is_string(v))
		return (event_str){json_string_value(v), json_string_length(v)};
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		n = snprintf(buf, JSON_VALUE_ID_SIZE, "%" PRId64, (int64_t)json_integer_value(v));
		return (event_str){buf, (size_t)n};
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d >= 0 && d <= JSON_VALUE_EXACT_LIMIT && d == floor(d)) {
			n = snprintf(buf, JSON_VALUE_ID_SIZE, "%" PRId64, (int64_t)d);
			return (event_str){buf, (size_t)n};
		}
	}
	return (event_str){NULL, 0};
}

event_str json_value_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return (event_str){NULL, 0};
	return (event_str){json_string_value(v), json_string_length(v)};
}

json_t *json_value_unwrap(const json_t *v)
{
	json_error_t error;

	if (!json_is_string(v))
		return NULL;
	return json_loadb(json_string_value(v), json_string_length(v), JSON_DECODE_ANY, &error);
}

const char *json_value_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
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
	default:
		return "null";
	}
}
