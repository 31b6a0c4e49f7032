/*
 * decode_json_time.c - the time readers of decode_json.h.
 *
 * decode_json_time() reads the RFC 3339 strings with an offset that the HR
 * platforms send, and epoch numbers from connectors that convert them.
 * decode_json_time_any() also reads the shapes of the Viva Engage and
 * analytics producers: Yammer's "YYYY/MM/DD hh:mm:ss +hhmm", strings of
 * digits, and times without an offset, read as UTC as Segment's libraries
 * send them. Both work on the text only: no locale or time zone database is
 * consulted, because every accepted shape carries its own UTC offset.
 */
#include "decode_json.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Epoch numbers below this are seconds, others milliseconds (10^11 s is year 5138). */
#define DECODE_JSON_ANY_SECONDS_LIMIT 1e11
/* Largest epoch milliseconds decode_json_time_any() accepts (year 2255), far inside int64. */
#define DECODE_JSON_ANY_MAX_MS 9e12

int64_t decode_json_days_from_civil(int64_t y, int64_t m, int64_t d)
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
	int64_t secs = decode_json_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
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
/* Any shape of time (decode_json_time_any)                                  */

/* A cursor over the text of a time. */
typedef struct decode_json_any_cursor {
	const char *s;
	size_t len;
	size_t i;
} decode_json_any_cursor;

static bool decode_json_any_days_valid(int64_t year, int64_t month, int64_t day)
{
	static const int length[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12 || day < 1 || day > length[month - 1])
		return false;
	return month != 2 || day < 29 || leap;
}

/* Reads exactly n digits; returns -1 when they are not all there. */
static int64_t decode_json_any_digits(decode_json_any_cursor *t, size_t n)
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

static bool decode_json_any_accept(decode_json_any_cursor *t, const char *one_of)
{
	if (t->i >= t->len || strchr(one_of, t->s[t->i]) == NULL || t->s[t->i] == '\0')
		return false;
	t->i++;
	return true;
}

/* Reads an optional fraction of a second as milliseconds; -1 when a '.' has no digit. */
static int64_t decode_json_any_fraction(decode_json_any_cursor *t)
{
	int64_t ms = 0, weight = 100;
	size_t start;

	if (!decode_json_any_accept(t, ".,"))
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
static int64_t decode_json_any_offset(decode_json_any_cursor *t)
{
	if (t->i == t->len)
		return 0;
	if (decode_json_any_accept(t, "Zz"))
		return t->i == t->len ? 0 : INT64_MIN;
	decode_json_any_accept(t, " ");
	if (t->i >= t->len || (t->s[t->i] != '+' && t->s[t->i] != '-'))
		return INT64_MIN;
	int64_t sign = t->s[t->i++] == '-' ? -1 : 1;
	int64_t hours = decode_json_any_digits(t, 2);
	decode_json_any_accept(t, ":");
	int64_t minutes = t->i < t->len ? decode_json_any_digits(t, 2) : 0;
	if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || t->i != t->len)
		return INT64_MIN;
	return sign * (hours * 60 + minutes);
}

/* Parses "YYYY-MM-DD[T ]hh:mm:ss[.f][offset]" or "YYYY/MM/DD hh:mm:ss +hhmm". */
static int64_t decode_json_any_text_ms(const char *s, size_t len)
{
	decode_json_any_cursor t = {s, len, 0};
	int64_t year = decode_json_any_digits(&t, 4);
	char sep = t.i < len ? s[t.i] : '\0';

	if (year < 1970 || (sep != '-' && sep != '/') || !decode_json_any_accept(&t, "-/"))
		return 0;
	int64_t month = decode_json_any_digits(&t, 2);
	if (t.i >= len || s[t.i] != sep)
		return 0;
	t.i++;
	int64_t day = decode_json_any_digits(&t, 2);
	if (!decode_json_any_days_valid(year, month, day) || !decode_json_any_accept(&t, "Tt "))
		return 0;

	int64_t hour = decode_json_any_digits(&t, 2);
	int64_t minute = decode_json_any_accept(&t, ":") ? decode_json_any_digits(&t, 2) : -1;
	int64_t second = decode_json_any_accept(&t, ":") ? decode_json_any_digits(&t, 2) : -1;
	if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60)
		return 0;
	int64_t fraction = decode_json_any_fraction(&t);
	int64_t offset = decode_json_any_offset(&t);
	if (fraction < 0 || offset == INT64_MIN)
		return 0;

	int64_t seconds = decode_json_days_from_civil(year, month, day) * 86400 + hour * 3600 +
			  minute * 60 + second - offset * 60;
	int64_t ms = seconds * 1000 + fraction;
	return ms > 0 ? ms : 0;
}

/* Converts an epoch number in seconds or milliseconds; 0 when out of range. */
static int64_t decode_json_any_epoch_ms(double n)
{
	if (!(n > 0) || n >= DECODE_JSON_ANY_MAX_MS)
		return 0;
	return n < DECODE_JSON_ANY_SECONDS_LIMIT ? (int64_t)(n * 1000.0) : (int64_t)n;
}

/* A string of digits with an optional fraction is an epoch number too. */
static bool decode_json_any_is_numeric(const char *s, size_t len)
{
	size_t digits = strspn(s, "0123456789");

	if (digits == 0 || digits > 16)
		return false;
	if (digits == len)
		return true;
	return s[digits] == '.' && strspn(s + digits + 1, "0123456789") == len - digits - 1;
}

int64_t decode_json_time_any(const json_t *v)
{
	if (json_is_number(v))
		return decode_json_any_epoch_ms(json_number_value(v));
	if (!json_is_string(v))
		return 0;

	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len > 64 || strlen(s) != len)
		return 0;
	if (decode_json_any_is_numeric(s, len))
		return decode_json_any_epoch_ms(strtod(s, NULL));
	return decode_json_any_text_ms(s, len);
}
