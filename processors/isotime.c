/*
 * isotime.c - RFC 3339 strings and epoch numbers to UTC milliseconds.
 *
 * The parser walks the string once with a cursor and fails on the first
 * byte out of place. The calendar arithmetic counts days from 1970-01-01 in
 * the proleptic Gregorian calendar with 400-year cycles, so it needs no
 * table and no libc time function. Leap seconds (":60") are accepted and land
 * on the next second's first millisecond, as POSIX time does.
 */
#include "isotime.h"

#include <math.h>
#include <stdbool.h>

typedef struct isotime_cursor {
	const char *s;
	size_t len;
	size_t at;
} isotime_cursor;

/* Reads exactly n decimal digits; -1 when they are not all there. */
static int64_t isotime_digits(isotime_cursor *c, size_t n)
{
	int64_t v = 0;

	if (c->len - c->at < n)
		return -1;
	for (size_t end = c->at + n; c->at < end; c->at++) {
		char ch = c->s[c->at];
		if (ch < '0' || ch > '9')
			return -1;
		v = v * 10 + (ch - '0');
	}
	return v;
}

/* Consumes one byte equal to a or b; false when the next byte is neither. */
static bool isotime_accept(isotime_cursor *c, char a, char b)
{
	if (c->at >= c->len || (c->s[c->at] != a && c->s[c->at] != b))
		return false;
	c->at++;
	return true;
}

/* Days from 1970-01-01 to y-m-d; month 3 starts the computational year. */
static int64_t isotime_days(int64_t y, int64_t m, int64_t d)
{
	int64_t year = m > 2 ? y : y - 1;
	int64_t cycle = year / 400; /* year >= 1969 here, so no negative division */
	int64_t year_of_cycle = year - cycle * 400;
	int64_t month = m > 2 ? m - 3 : m + 9;
	int64_t day_of_year = (153 * month + 2) / 5 + d - 1;
	int64_t day_of_cycle = year_of_cycle * 365 + year_of_cycle / 4 - year_of_cycle / 100 +
			       day_of_year;
	return cycle * 146097 + day_of_cycle - 719468;
}

static bool isotime_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t isotime_month_days(int64_t y, int64_t m)
{
	static const int8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && isotime_leap(y) ? 29 : days[m - 1];
}

/* Reads ".fraction" as milliseconds (0 without one); -1 when a dot has no digit. */
static int64_t isotime_fraction(isotime_cursor *c)
{
	int64_t ms = 0, weight = 100;
	size_t first;

	if (!isotime_accept(c, '.', ','))
		return 0;
	first = c->at;
	for (; c->at < c->len && c->s[c->at] >= '0' && c->s[c->at] <= '9'; c->at++) {
		ms += (c->s[c->at] - '0') * weight;
		weight /= 10;
	}
	return c->at == first ? -1 : ms;
}

/* Reads the offset east of UTC in minutes; INT64_MIN when there is none. */
static int64_t isotime_offset(isotime_cursor *c)
{
	if (isotime_accept(c, 'Z', 'z'))
		return 0;
	if (c->at >= c->len || (c->s[c->at] != '+' && c->s[c->at] != '-'))
		return INT64_MIN;
	int64_t sign = c->s[c->at++] == '-' ? -1 : 1;
	int64_t hours = isotime_digits(c, 2);
	int64_t minutes = isotime_accept(c, ':', ':') ? isotime_digits(c, 2) : -1;
	if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59)
		return INT64_MIN;
	return sign * (hours * 60 + minutes);
}

int64_t isotime_parse_ms(const char *s, size_t len)
{
	isotime_cursor c = {s, s ? len : 0, 0};
	int64_t y = isotime_digits(&c, 4);
	int64_t mo = isotime_accept(&c, '-', '-') ? isotime_digits(&c, 2) : -1;
	int64_t d = isotime_accept(&c, '-', '-') ? isotime_digits(&c, 2) : -1;
	bool sep = isotime_accept(&c, 'T', 't') || isotime_accept(&c, ' ', ' ');
	int64_t h = sep ? isotime_digits(&c, 2) : -1;
	int64_t mi = isotime_accept(&c, ':', ':') ? isotime_digits(&c, 2) : -1;
	int64_t se = isotime_accept(&c, ':', ':') ? isotime_digits(&c, 2) : -1;

	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > isotime_month_days(y, mo) || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	int64_t fraction = isotime_fraction(&c);
	int64_t offset = isotime_offset(&c);
	if (fraction < 0 || offset == INT64_MIN || c.at != c.len)
		return -1;

	int64_t seconds = isotime_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset * 60;
	return seconds < 0 ? -1 : seconds * 1000 + fraction;
}

int64_t isotime_epoch_ms(double value)
{
	/* 9.2e15 ms is the year 292,000; beyond it the int64 arithmetic of callers overflows. */
	if (!isfinite(value) || value <= 0 || value >= 9.2e15)
		return -1;
	return value < 1e11 ? (int64_t)(value * 1000) : (int64_t)value;
}
