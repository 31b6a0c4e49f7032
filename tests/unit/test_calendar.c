/*
 * test_calendar.c - day and week buckets follow the local calendar of the
 * configured time zone across both DST changes of 2026, in Europe/Berlin,
 * America/New_York and (southern hemisphere) Australia/Sydney.
 *
 * Expected values are not computed by window.c or by the C library's zone
 * code. Each instant in the zone tables below is a literal Unix time written
 * next to the local wall time and UTC offset it stands for. Those facts come
 * from the IANA tz rules for 2026:
 *   Europe/Berlin     CET +1, CEST +2; forward on Sun 29 Mar at 02:00 CET,
 *                     back on Sun 25 Oct at 03:00 CEST (01:00 UTC both).
 *   America/New_York  EST -5, EDT -4; forward on Sun 8 Mar at 02:00 EST,
 *                     back on Sun 1 Nov at 02:00 EDT.
 *   Australia/Sydney  AEST +10, AEDT +11; back on Sun 5 Apr at 03:00 AEDT,
 *                     forward on Sun 4 Oct at 02:00 AEST.
 * The literals were produced as (local wall time - offset) and are checked
 * by the first test against plain day counting (calendar_instants_consistent),
 * which also checks that week starts are Mondays and day starts are Sundays.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "window.h"

#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)

enum { G1H, G1D, G7D, N_GRANS };
enum { W24H, W7D, W28D, N_WINDOWS };

static config_window windows[N_WINDOWS] = {
    [W24H] = {.name = "24h", .length_ms = DAY, .granularity = G1H},
    [W7D] = {.name = "7d", .length_ms = WEEK, .granularity = G1D},
    [W28D] = {.name = "28d", .length_ms = 4 * WEEK, .granularity = G7D},
};

/* An instant as Unix seconds, with the local wall time and UTC offset it is. */
typedef struct local_instant {
	int64_t unix_s;
	int year, month, day, hour;
	int offset_h;
} local_instant;

/*
 * One zone's 2026 calendar around its DST changes. The short day is the
 * 23-hour day of the change to summer time, the long day the 25-hour day of
 * the change back. Each week starts on the Monday 00:00 before the change
 * and contains it.
 */
typedef struct zone_calendar {
	const char *tz;
	local_instant short_day;     /* Sunday 00:00, old offset */
	local_instant short_day_end; /* Monday 00:00, new offset */
	local_instant gap;	     /* first instant after the skipped hour */
	local_instant long_day;	     /* Sunday 00:00, summer offset */
	local_instant long_day_end;  /* Monday 00:00, standard offset */
	local_instant repeat;	     /* start of the second pass through the repeated hour */
	local_instant short_week;    /* Monday 00:00 of the week with the short day */
	local_instant long_week;     /* Monday 00:00 of the week with the long day */
	local_instant plain_week;    /* Monday 00:00 of a mid-June week without a change */
} zone_calendar;

static const zone_calendar berlin = {
    .tz = "Europe/Berlin",
    .short_day = {1774738800, 2026, 3, 29, 0, +1},     /* 2026-03-28T23:00Z */
    .short_day_end = {1774821600, 2026, 3, 30, 0, +2}, /* 2026-03-29T22:00Z */
    .gap = {1774746000, 2026, 3, 29, 3, +2},	       /* 2026-03-29T01:00Z */
    .long_day = {1792879200, 2026, 10, 25, 0, +2},     /* 2026-10-24T22:00Z */
    .long_day_end = {1792969200, 2026, 10, 26, 0, +1}, /* 2026-10-25T23:00Z */
    .repeat = {1792890000, 2026, 10, 25, 2, +1},       /* 2026-10-25T01:00Z */
    .short_week = {1774220400, 2026, 3, 23, 0, +1},    /* 2026-03-22T23:00Z */
    .long_week = {1792360800, 2026, 10, 19, 0, +2},    /* 2026-10-18T22:00Z */
    .plain_week = {1781474400, 2026, 6, 15, 0, +2},    /* 2026-06-14T22:00Z */
};

static const zone_calendar new_york = {
    .tz = "America/New_York",
    .short_day = {1772946000, 2026, 3, 8, 0, -5},     /* 2026-03-08T05:00Z */
    .short_day_end = {1773028800, 2026, 3, 9, 0, -4}, /* 2026-03-09T04:00Z */
    .gap = {1772953200, 2026, 3, 8, 3, -4},	      /* 2026-03-08T07:00Z */
    .long_day = {1793505600, 2026, 11, 1, 0, -4},     /* 2026-11-01T04:00Z */
    .long_day_end = {1793595600, 2026, 11, 2, 0, -5}, /* 2026-11-02T05:00Z */
    .repeat = {1793512800, 2026, 11, 1, 1, -5},	      /* 2026-11-01T06:00Z */
    .short_week = {1772427600, 2026, 3, 2, 0, -5},    /* 2026-03-02T05:00Z */
    .long_week = {1792987200, 2026, 10, 26, 0, -4},   /* 2026-10-26T04:00Z */
    .plain_week = {1781496000, 2026, 6, 15, 0, -4},   /* 2026-06-15T04:00Z */
};

/* Southern hemisphere: summer time ends in April and starts in October. */
static const zone_calendar sydney = {
    .tz = "Australia/Sydney",
    .short_day = {1791036000, 2026, 10, 4, 0, +10},	/* 2026-10-03T14:00Z */
    .short_day_end = {1791118800, 2026, 10, 5, 0, +11}, /* 2026-10-04T13:00Z */
    .gap = {1791043200, 2026, 10, 4, 3, +11},		/* 2026-10-03T16:00Z */
    .long_day = {1775307600, 2026, 4, 5, 0, +11},	/* 2026-04-04T13:00Z */
    .long_day_end = {1775397600, 2026, 4, 6, 0, +10},	/* 2026-04-05T14:00Z */
    .repeat = {1775318400, 2026, 4, 5, 2, +10},		/* 2026-04-04T16:00Z */
    .short_week = {1790517600, 2026, 9, 28, 0, +10},	/* 2026-09-27T14:00Z */
    .long_week = {1774789200, 2026, 3, 30, 0, +11},	/* 2026-03-29T13:00Z */
    .plain_week = {1781445600, 2026, 6, 15, 0, +10},	/* 2026-06-14T14:00Z */
};

static int64_t ms(local_instant i)
{
	return i.unix_s * 1000;
}

static window_clock *clock_for(const zone_calendar *z)
{
	config cfg;
	char err[256] = "";

	memset(&cfg, 0, sizeof(cfg));
	cfg.windows.granularities_ms[G1H] = HOUR;
	cfg.windows.granularities_ms[G1D] = DAY;
	cfg.windows.granularities_ms[G7D] = WEEK;
	cfg.windows.n_granularities = N_GRANS;
	cfg.windows.timezone = (char *)z->tz;
	cfg.windows.windows = windows;
	cfg.windows.n_windows = N_WINDOWS;
	window_clock *c = window_clock_new(&cfg, err, sizeof(err));
	if (!c)
		fail_msg("clock for %s: %s (is tzdata installed?)", z->tz, err);
	return c;
}

/* ------------------------------------------------------------------------ */
/* Independent calendar arithmetic                                          */

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the Gregorian calendar, for y >= 1970. */
static int64_t days_since_epoch(int y, int m, int d)
{
	static const int days_before_month[12] = {0,   31,  59,	 90,  120, 151,
						  181, 212, 243, 273, 304, 334};
	int64_t days = 0;

	for (int year = 1970; year < y; year++)
		days += leap_year(year) ? 366 : 365;
	days += days_before_month[m - 1] + d - 1;
	if (m > 2 && leap_year(y))
		days++;
	return days;
}

/* 0 for Monday ... 6 for Sunday; 1970-01-01 was a Thursday (3). */
static int weekday(int y, int m, int d)
{
	return (int)((days_since_epoch(y, m, d) + 3) % 7);
}

static void expect_instant(local_instant i, int expected_weekday, bool midnight)
{
	int64_t wall_s = days_since_epoch(i.year, i.month, i.day) * 86400 + i.hour * 3600LL;

	assert_int_equal(i.unix_s, wall_s - i.offset_h * 3600LL);
	assert_int_equal(weekday(i.year, i.month, i.day), expected_weekday);
	if (midnight)
		assert_int_equal(i.hour, 0);
}

/* ------------------------------------------------------------------------ */
/* Checks shared by the zones                                               */

/* Checks that t lies in the bucket [start, start + length) of granularity gran. */
static void expect_bucket(window_clock *c, size_t gran, int64_t t, int64_t start, int64_t length)
{
	assert_int_equal(window_bucket_start(c, gran, t), start);
	assert_int_equal(window_bucket_end(c, gran, start), start + length);
}

/* Checks the rolling window w ending at end covers exactly the expected bucket starts. */
static void expect_window(window_clock *c, size_t w, int64_t end, const int64_t *expected,
			  size_t n_expected)
{
	int64_t starts[32];
	size_t n = window_buckets(c, &windows[w], end, starts, 32);

	assert_true(n_expected <= 32);
	assert_int_equal(n, n_expected);
	for (size_t i = 0; i < n && i < n_expected; i++)
		assert_int_equal(starts[i], expected[i]);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */

static void calendar_instants_consistent(void **state)
{
	const zone_calendar *z = *state;
	enum { MON = 0, SUN = 6 };

	expect_instant(z->short_day, SUN, true);
	expect_instant(z->short_day_end, MON, true);
	expect_instant(z->gap, SUN, false);
	expect_instant(z->long_day, SUN, true);
	expect_instant(z->long_day_end, MON, true);
	expect_instant(z->repeat, SUN, false);
	expect_instant(z->short_week, MON, true);
	expect_instant(z->long_week, MON, true);
	expect_instant(z->plain_week, MON, true);

	/* Monday to Saturday of a DST week are plain 24-hour days. */
	assert_int_equal(ms(z->short_week) + 6 * DAY, ms(z->short_day));
	assert_int_equal(ms(z->long_week) + 6 * DAY, ms(z->long_day));
}

static void short_day_is_23_hours(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t start = ms(z->short_day), end = ms(z->short_day_end);

	assert_int_equal(end - start, 23 * HOUR);
	expect_bucket(c, G1D, start, start, 23 * HOUR);
	expect_bucket(c, G1D, ms(z->gap) - 1, start, 23 * HOUR);
	expect_bucket(c, G1D, ms(z->gap), start, 23 * HOUR);
	expect_bucket(c, G1D, end - 1, start, 23 * HOUR);
	/* The days on either side are 24 hours long. */
	expect_bucket(c, G1D, start - 1, start - DAY, DAY);
	expect_bucket(c, G1D, end, end, DAY);
	window_clock_free(c);
}

static void long_day_is_25_hours(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t start = ms(z->long_day), end = ms(z->long_day_end);

	assert_int_equal(end - start, 25 * HOUR);
	expect_bucket(c, G1D, start, start, 25 * HOUR);
	/* Both passes through the repeated hour belong to the same day. */
	expect_bucket(c, G1D, ms(z->repeat) - HOUR / 2, start, 25 * HOUR);
	expect_bucket(c, G1D, ms(z->repeat) + HOUR / 2, start, 25 * HOUR);
	expect_bucket(c, G1D, end - 1, start, 25 * HOUR);
	expect_bucket(c, G1D, start - 1, start - DAY, DAY);
	expect_bucket(c, G1D, end, end, DAY);
	window_clock_free(c);
}

/*
 * Checks that an event at local midnight m opens the day starting at m and
 * one a millisecond earlier lands in the day starting at previous. Runs the
 * two lookups in both orders on fresh clocks, so that both the bucket cache
 * and the computation from scratch are exercised at the edge.
 */
static void expect_midnight(const zone_calendar *z, size_t gran, int64_t m, int64_t previous)
{
	window_clock *c = clock_for(z);
	assert_int_equal(window_bucket_start(c, gran, m), m);
	assert_int_equal(window_bucket_start(c, gran, m - 1), previous);
	assert_int_equal(window_bucket_end(c, gran, previous), m);
	window_clock_free(c);

	c = clock_for(z);
	assert_int_equal(window_bucket_start(c, gran, m - 1), previous);
	assert_int_equal(window_bucket_start(c, gran, m), m);
	window_clock_free(c);
}

static void midnight_opens_new_day(void **state)
{
	const zone_calendar *z = *state;

	expect_midnight(z, G1D, ms(z->short_day), ms(z->short_day) - DAY);
	expect_midnight(z, G1D, ms(z->short_day_end), ms(z->short_day));
	expect_midnight(z, G1D, ms(z->long_day), ms(z->long_day) - DAY);
	expect_midnight(z, G1D, ms(z->long_day_end), ms(z->long_day));
	expect_midnight(z, G1D, ms(z->plain_week), ms(z->plain_week) - DAY);
}

static void monday_midnight_opens_new_week(void **state)
{
	const zone_calendar *z = *state;

	/* The weeks before the DST weeks have no change. */
	expect_midnight(z, G7D, ms(z->short_week), ms(z->short_week) - WEEK);
	expect_midnight(z, G7D, ms(z->short_day_end), ms(z->short_week));
	expect_midnight(z, G7D, ms(z->long_week), ms(z->long_week) - WEEK);
	expect_midnight(z, G7D, ms(z->long_day_end), ms(z->long_week));
	expect_midnight(z, G7D, ms(z->plain_week), ms(z->plain_week) - WEEK);
}

static void hours_across_gap_and_repeat(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t gap = ms(z->gap), repeat = ms(z->repeat);

	/* The hours before and after the skipped hour are adjacent and 1 h long. */
	expect_bucket(c, G1H, gap - 1, gap - HOUR, HOUR);
	expect_bucket(c, G1H, gap, gap, HOUR);

	/* Both passes through the repeated local hour are distinct 1 h buckets. */
	expect_bucket(c, G1H, repeat - 1, repeat - HOUR, HOUR);
	expect_bucket(c, G1H, repeat, repeat, HOUR);
	expect_bucket(c, G1H, repeat + HOUR - 1, repeat, HOUR);
	assert_int_not_equal(window_bucket_start(c, G1H, repeat - 1),
			     window_bucket_start(c, G1H, repeat));
	window_clock_free(c);
}

static void weeks_start_monday_midnight(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t sw = ms(z->short_week), lw = ms(z->long_week), pw = ms(z->plain_week);

	/* Events on every day of the week, including the DST Sunday. */
	for (int d = 0; d < 7; d++) {
		expect_bucket(c, G7D, sw + d * DAY + 12 * HOUR, sw, 167 * HOUR);
		expect_bucket(c, G7D, lw + d * DAY + 12 * HOUR, lw, 169 * HOUR);
		expect_bucket(c, G7D, pw + d * DAY + 12 * HOUR, pw, WEEK);
	}
	expect_bucket(c, G7D, ms(z->gap), sw, 167 * HOUR);
	expect_bucket(c, G7D, ms(z->repeat), lw, 169 * HOUR);
	window_clock_free(c);
}

/* 24h of 1 h buckets ending just after each change: 25 consecutive UTC hours. */
static void rolling_day_after_change(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t expected[25];

	for (int i = 0; i < 25; i++)
		expected[i] = ms(z->gap) - DAY + i * HOUR;
	expect_window(c, W24H, ms(z->gap) + 1, expected, 25);
	for (int i = 0; i < 25; i++)
		expected[i] = ms(z->repeat) - DAY + i * HOUR;
	expect_window(c, W24H, ms(z->repeat) + 1, expected, 25);
	window_clock_free(c);
}

/*
 * 7d of day buckets ending just after a change reaches back to the same
 * Sunday a week earlier (8 buckets). Ending just after the Monday midnight
 * that follows the short day, 168 h reach back to Sunday 23:00 local,
 * because the clock went forward meanwhile. That makes 9 buckets. After the
 * long day they reach back to Monday 01:00 local, so 8 buckets.
 */
static void rolling_week_after_change(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t sd = ms(z->short_day), ld = ms(z->long_day), sw = ms(z->short_week);
	int64_t lw = ms(z->long_week);

	const int64_t after_gap[] = {sd - 7 * DAY, sd - 6 * DAY, sd - 5 * DAY, sd - 4 * DAY,
				     sd - 3 * DAY, sd - 2 * DAY, sd - DAY,     sd};
	expect_window(c, W7D, ms(z->gap) + 1, after_gap, 8);

	const int64_t after_repeat[] = {ld - 7 * DAY, ld - 6 * DAY, ld - 5 * DAY, ld - 4 * DAY,
					ld - 3 * DAY, ld - 2 * DAY, ld - DAY,	  ld};
	expect_window(c, W7D, ms(z->repeat) + 1, after_repeat, 8);

	const int64_t after_short_day[] = {sw - DAY,	 sw,	       sw + DAY,
					   sw + 2 * DAY, sw + 3 * DAY, sw + 4 * DAY,
					   sw + 5 * DAY, sd,	       ms(z->short_day_end)};
	expect_window(c, W7D, ms(z->short_day_end) + 1, after_short_day, 9);

	const int64_t after_long_day[] = {lw,		lw + DAY,	    lw + 2 * DAY,
					  lw + 3 * DAY, lw + 4 * DAY,	    lw + 5 * DAY,
					  ld,		ms(z->long_day_end)};
	expect_window(c, W7D, ms(z->long_day_end) + 1, after_long_day, 8);
	window_clock_free(c);
}

/*
 * 28d of week buckets ending just after the Monday midnight that closes a
 * DST week. After the short week, 672 h reach back to Sunday 23:00 local
 * four weeks earlier, so 6 week buckets. After the long week they reach back
 * to Monday 01:00 local, so 5 week buckets.
 */
static void rolling_four_weeks_after_change(void **state)
{
	const zone_calendar *z = *state;
	window_clock *c = clock_for(z);
	int64_t sw = ms(z->short_week), lw = ms(z->long_week);

	const int64_t after_short_week[] = {
	    sw - 4 * WEEK, sw - 3 * WEEK, sw - 2 * WEEK, sw - WEEK, sw, ms(z->short_day_end)};
	expect_window(c, W28D, ms(z->short_day_end) + 1, after_short_week, 6);

	const int64_t after_long_week[] = {lw - 3 * WEEK, lw - 2 * WEEK, lw - WEEK, lw,
					   ms(z->long_day_end)};
	expect_window(c, W28D, ms(z->long_day_end) + 1, after_long_week, 5);
	window_clock_free(c);
}

#define CALENDAR_TEST(fn, zone)                                                                    \
	{                                                                                          \
#fn " " #zone, fn, NULL, NULL, (void *)&zone                                       \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    CALENDAR_TEST(calendar_instants_consistent, berlin),
	    CALENDAR_TEST(calendar_instants_consistent, new_york),
	    CALENDAR_TEST(calendar_instants_consistent, sydney),
	    CALENDAR_TEST(short_day_is_23_hours, berlin),
	    CALENDAR_TEST(short_day_is_23_hours, new_york),
	    CALENDAR_TEST(short_day_is_23_hours, sydney),
	    CALENDAR_TEST(long_day_is_25_hours, berlin),
	    CALENDAR_TEST(long_day_is_25_hours, new_york),
	    CALENDAR_TEST(long_day_is_25_hours, sydney),
	    CALENDAR_TEST(midnight_opens_new_day, berlin),
	    CALENDAR_TEST(midnight_opens_new_day, new_york),
	    CALENDAR_TEST(midnight_opens_new_day, sydney),
	    CALENDAR_TEST(monday_midnight_opens_new_week, berlin),
	    CALENDAR_TEST(monday_midnight_opens_new_week, new_york),
	    CALENDAR_TEST(monday_midnight_opens_new_week, sydney),
	    CALENDAR_TEST(hours_across_gap_and_repeat, berlin),
	    CALENDAR_TEST(hours_across_gap_and_repeat, new_york),
	    CALENDAR_TEST(hours_across_gap_and_repeat, sydney),
	    CALENDAR_TEST(weeks_start_monday_midnight, berlin),
	    CALENDAR_TEST(weeks_start_monday_midnight, new_york),
	    CALENDAR_TEST(weeks_start_monday_midnight, sydney),
	    CALENDAR_TEST(rolling_day_after_change, berlin),
	    CALENDAR_TEST(rolling_day_after_change, new_york),
	    CALENDAR_TEST(rolling_day_after_change, sydney),
	    CALENDAR_TEST(rolling_week_after_change, berlin),
	    CALENDAR_TEST(rolling_week_after_change, new_york),
	    CALENDAR_TEST(rolling_week_after_change, sydney),
	    CALENDAR_TEST(rolling_four_weeks_after_change, berlin),
	    CALENDAR_TEST(rolling_four_weeks_after_change, new_york),
	    CALENDAR_TEST(rolling_four_weeks_after_change, sydney),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
