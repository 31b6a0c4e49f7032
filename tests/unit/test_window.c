/*
 * test_window.c - bucket boundaries in several time zones, rolling windows,
 * and the per-batch aggregation table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "window.h"

#define MINUTE 60000LL
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

enum { G5M, G1H, G1D, G7D, N_GRANS };
enum { W1H, W24H, W7D, N_WINDOWS };

static config_window windows[N_WINDOWS] = {
    [W1H] = {.name = "1h", .length_ms = HOUR, .granularity = G5M},
    [W24H] = {.name = "24h", .length_ms = DAY, .granularity = G1H},
    [W7D] = {.name = "7d", .length_ms = 7 * DAY, .granularity = G1D},
};

static void make_config(config *cfg, const char *tz)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->windows.granularities_ms[G5M] = 5 * MINUTE;
	cfg->windows.granularities_ms[G1H] = HOUR;
	cfg->windows.granularities_ms[G1D] = DAY;
	cfg->windows.granularities_ms[G7D] = 7 * DAY;
	cfg->windows.n_granularities = N_GRANS;
	cfg->windows.timezone = (char *)tz;
	cfg->windows.windows = windows;
	cfg->windows.n_windows = N_WINDOWS;
}

static window_clock *clock_for(const char *tz)
{
	config cfg;
	char err[256] = "";

	make_config(&cfg, tz);
	window_clock *c = window_clock_new(&cfg, err, sizeof(err));
	if (!c)
		fail_msg("clock for %s: %s", tz ? tz : "(null)", err);
	return c;
}

/* Milliseconds since the epoch of a UTC date and time. */
static int64_t utc_ms(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {
	    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
	return (int64_t)timegm(&tm) * 1000;
}

/* Checks the day bucket around t: its start, its length, and both edges. */
static void expect_day(window_clock *c, int64_t t, int64_t start, int64_t length)
{
	assert_int_equal(window_bucket_start(c, G1D, t), start);
	assert_int_equal(window_bucket_end(c, G1D, start), start + length);
	assert_int_equal(window_bucket_start(c, G1D, start), start);
	assert_int_equal(window_bucket_start(c, G1D, start + length - 1), start);
	assert_int_equal(window_bucket_start(c, G1D, start + length), start + length);
	assert_int_not_equal(window_bucket_start(c, G1D, start - 1), start);
}

/* ------------------------------------------------------------------------ */
/* Sub-day buckets                                                          */

static void subday_bucket_edges(void **state)
{
	window_clock *c = clock_for("UTC");
	int64_t start = utc_ms(2026, 5, 14, 9, 35);

	assert_int_equal(window_bucket_start(c, G5M, start), start);
	assert_int_equal(window_bucket_start(c, G5M, start - 1), start - 5 * MINUTE);
	assert_int_equal(window_bucket_start(c, G5M, start + 5 * MINUTE - 1), start);
	assert_int_equal(window_bucket_end(c, G5M, start), start + 5 * MINUTE);

	assert_int_equal(window_bucket_start(c, G1H, start), start - 35 * MINUTE);
	assert_int_equal(window_bucket_start(c, G1H, start - 35 * MINUTE - 1), start - 95 * MINUTE);
	assert_int_equal(window_bucket_end(c, G1H, start - 35 * MINUTE), start + 25 * MINUTE);
	window_clock_free(c);
}

/* Sub-day buckets ignore the zone: Kolkata (+05:30) still cuts at UTC hours. */
static void subday_ignores_time_zone(void **state)
{
	window_clock *c = clock_for("Asia/Kolkata");
	int64_t t = utc_ms(2026, 5, 14, 9, 35);

	assert_int_equal(window_bucket_start(c, G1H, t), utc_ms(2026, 5, 14, 9, 0));
	window_clock_free(c);
}

static void negative_times_floor(void **state)
{
	window_clock *c = clock_for("UTC");

	assert_int_equal(window_bucket_start(c, G5M, -1), -5 * MINUTE);
	assert_int_equal(window_bucket_start(c, G5M, -5 * MINUTE), -5 * MINUTE);
	assert_int_equal(window_bucket_start(c, G5M, -5 * MINUTE - 1), -10 * MINUTE);
	assert_int_equal(window_bucket_start(c, G5M, 0), 0);
	assert_int_equal(window_bucket_start(c, G1H, -HOUR + 1), -HOUR);
	assert_int_equal(window_bucket_start(c, G1D, -1), -DAY);
	assert_int_equal(window_bucket_start(c, G1D, -DAY), -DAY);
	assert_int_equal(window_bucket_start(c, G1D, -DAY - 1), -2 * DAY);
	/* Thursday 1970-01-01 and the day before are in the week of Monday 1969-12-29. */
	assert_int_equal(window_bucket_start(c, G7D, 0), -3 * DAY);
	assert_int_equal(window_bucket_start(c, G7D, -1), -3 * DAY);
	assert_int_equal(window_bucket_start(c, G7D, -3 * DAY - 1), -10 * DAY);
	assert_int_equal(window_bucket_start(c, G7D, 4 * DAY), 4 * DAY);
	window_clock_free(c);
}

/* ------------------------------------------------------------------------ */
/* Day buckets                                                              */

static void utc_days(void **state)
{
	window_clock *c = clock_for("UTC");

	expect_day(c, utc_ms(2026, 3, 29, 12, 0), utc_ms(2026, 3, 29, 0, 0), DAY);
	expect_day(c, utc_ms(2026, 10, 25, 0, 0), utc_ms(2026, 10, 25, 0, 0), DAY);
	expect_day(c, utc_ms(1969, 12, 31, 23, 0), -DAY, DAY);
	window_clock_free(c);
}

static void null_time_zone_means_utc(void **state)
{
	window_clock *c = clock_for(NULL);
	expect_day(c, utc_ms(2026, 7, 1, 23, 59), utc_ms(2026, 7, 1, 0, 0), DAY);
	window_clock_free(c);
}

static void berlin_days_across_dst(void **state)
{
	window_clock *c = clock_for("Europe/Berlin");

	/* A winter day: local midnight is 23:00 UTC the day before. */
	expect_day(c, utc_ms(2026, 1, 15, 12, 0), utc_ms(2026, 1, 14, 23, 0), DAY);
	/* 29 March 2026: clocks go from 02:00 to 03:00, the day has 23 hours. */
	expect_day(c, utc_ms(2026, 3, 29, 10, 0), utc_ms(2026, 3, 28, 23, 0), 23 * HOUR);
	/* The day after starts at midnight CEST. */
	expect_day(c, utc_ms(2026, 3, 30, 10, 0), utc_ms(2026, 3, 29, 22, 0), DAY);
	/* 25 October 2026: clocks go from 03:00 back to 02:00, the day has 25 hours. */
	expect_day(c, utc_ms(2026, 10, 25, 12, 0), utc_ms(2026, 10, 24, 22, 0), 25 * HOUR);
	/* Both passes through 02:30 local belong to the same day. */
	assert_int_equal(window_bucket_start(c, G1D, utc_ms(2026, 10, 25, 0, 30)),
			 utc_ms(2026, 10, 24, 22, 0));
	assert_int_equal(window_bucket_start(c, G1D, utc_ms(2026, 10, 25, 1, 30)),
			 utc_ms(2026, 10, 24, 22, 0));
	window_clock_free(c);
}

static void new_york_days_across_dst(void **state)
{
	window_clock *c = clock_for("America/New_York");

	expect_day(c, utc_ms(2026, 3, 8, 12, 0), utc_ms(2026, 3, 8, 5, 0), 23 * HOUR);
	expect_day(c, utc_ms(2026, 11, 1, 12, 0), utc_ms(2026, 11, 1, 4, 0), 25 * HOUR);
	expect_day(c, utc_ms(2026, 6, 1, 3, 59), utc_ms(2026, 5, 31, 4, 0), DAY);
	window_clock_free(c);
}

/* Santiago skips midnight on 6 September 2026: that day starts at 01:00 local. */
static void santiago_skipped_midnight(void **state)
{
	window_clock *c = clock_for("America/Santiago");

	expect_day(c, utc_ms(2026, 9, 6, 12, 0), utc_ms(2026, 9, 6, 4, 0), 23 * HOUR);
	expect_day(c, utc_ms(2026, 9, 5, 12, 0), utc_ms(2026, 9, 5, 4, 0), DAY);
	/* 4 April 2026 repeats 23:00-24:00, so it has 25 hours. */
	expect_day(c, utc_ms(2026, 4, 4, 12, 0), utc_ms(2026, 4, 4, 3, 0), 25 * HOUR);
	window_clock_free(c);
}

/* Havana repeats 00:00-01:00 on 1 November 2026: the day starts at the first midnight. */
static void havana_repeated_midnight(void **state)
{
	window_clock *c = clock_for("America/Havana");

	expect_day(c, utc_ms(2026, 11, 1, 12, 0), utc_ms(2026, 11, 1, 4, 0), 25 * HOUR);
	/* Both passes through 00:30 local belong to 1 November. */
	assert_int_equal(window_bucket_start(c, G1D, utc_ms(2026, 11, 1, 5, 30)),
			 utc_ms(2026, 11, 1, 4, 0));
	expect_day(c, utc_ms(2026, 10, 31, 12, 0), utc_ms(2026, 10, 31, 4, 0), DAY);
	/* 8 March 2026 skips 00:00-01:00. */
	expect_day(c, utc_ms(2026, 3, 8, 12, 0), utc_ms(2026, 3, 8, 5, 0), 23 * HOUR);
	window_clock_free(c);
}

static void seven_day_buckets_start_on_monday(void **state)
{
	window_clock *utc = clock_for("UTC");
	int64_t t = utc_ms(2026, 3, 29, 12, 0);     /* a Sunday */
	int64_t start = utc_ms(2026, 3, 23, 0, 0); /* the Monday before */

	assert_int_equal(window_bucket_start(utc, G7D, t), start);
	assert_int_equal(window_bucket_end(utc, G7D, start), start + 7 * DAY);
	assert_int_equal(window_bucket_start(utc, G7D, start - 1), start - 7 * DAY);
	window_clock_free(utc);

	/* In Berlin the same bucket starts at local midnight and spans the DST change. */
	window_clock *berlin = clock_for("Europe/Berlin");
	int64_t local_start = window_bucket_start(berlin, G7D, t);
	assert_int_equal(local_start, start - HOUR);
	assert_int_equal(window_bucket_end(berlin, G7D, local_start), start + 7 * DAY - 2 * HOUR);
	window_clock_free(berlin);
}

/* Two clocks in different zones, used alternately, each keep their own zone. */
static void interleaved_clocks(void **state)
{
	window_clock *berlin = clock_for("Europe/Berlin");
	window_clock *ny = clock_for("America/New_York");

	for (int d = 1; d <= 20; d++) {
		int64_t t = utc_ms(2026, 3, d, 12, 0);
		assert_int_equal(window_bucket_start(berlin, G1D, t),
				 utc_ms(2026, 3, d, 0, 0) - HOUR);
		/* EST until the night of 8 March; 8 March itself starts in EST. */
		int64_t ny_offset = 4 * HOUR;
		if (d <= 8)
			ny_offset = 5 * HOUR;
		assert_int_equal(window_bucket_start(ny, G1D, t),
				 utc_ms(2026, 3, d, 0, 0) + ny_offset);
	}
	window_clock_free(berlin);
	window_clock_free(ny);
}

static void unknown_time_zone_rejected(void **state)
{
	static const char *bad[] = {"Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime",
				    "Europe/Berlin;rm", "CET-1CEST,M3.5.0,M10.5.0/3"};
	config cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		make_config(&cfg, bad[i]);
		assert_null(window_clock_new(&cfg, err, sizeof(err)));
		assert_non_null(strstr(err, "windows.timezone"));
	}
}

/* ------------------------------------------------------------------------ */
/* Rolling windows                                                          */

static void expect_window(window_clock *c, size_t w, int64_t end, size_t expected_n,
			  int64_t expected_first, int64_t step)
{
	int64_t starts[64];
	size_t n = window_buckets(c, &windows[w], end, starts, 64);

	assert_int_equal(n, expected_n);
	assert_int_equal(starts[0], expected_first);
	for (size_t i = 1; i < n; i++)
		assert_int_equal(starts[i] - starts[i - 1], step);
	assert_true(starts[n - 1] <= end);
	assert_true(window_bucket_end(c, windows[w].granularity, starts[n - 1]) > end);
}

static void rolling_window_counts(void **state)
{
	window_clock *c = clock_for("UTC");
	int64_t noon = utc_ms(2026, 5, 14, 12, 0);

	/* The buckets containing end - L up to the one containing end. */
	expect_window(c, W1H, noon + 150000, 13, noon - HOUR, 5 * MINUTE);
	expect_window(c, W1H, noon, 13, noon - HOUR, 5 * MINUTE);
	expect_window(c, W24H, noon + 1, 25, noon - DAY, HOUR);
	expect_window(c, W7D, noon, 8, utc_ms(2026, 5, 7, 0, 0), DAY);
	window_clock_free(c);
}

static void rolling_window_truncated_output(void **state)
{
	window_clock *c = clock_for("UTC");
	int64_t starts[4];
	int64_t noon = utc_ms(2026, 5, 14, 12, 0);

	assert_int_equal(window_buckets(c, &windows[W24H], noon, starts, 4), 25);
	assert_int_equal(starts[0], noon - DAY);
	assert_int_equal(starts[3], noon - DAY + 3 * HOUR);
	assert_int_equal(window_buckets(c, &windows[W24H], noon, NULL, 0), 25);
	window_clock_free(c);
}

static void rolling_week_across_dst_in_berlin(void **state)
{
	window_clock *c = clock_for("Europe/Berlin");
	int64_t starts[16];
	int64_t end = utc_ms(2026, 4, 1, 10, 0); /* Wednesday noon CEST */

	size_t n = window_buckets(c, &windows[W7D], end, starts, 16);
	assert_int_equal(n, 8);
	assert_int_equal(starts[0], utc_ms(2026, 3, 24, 23, 0)); /* 25 March, local midnight */
	assert_int_equal(starts[n - 1], utc_ms(2026, 3, 31, 22, 0));
	for (size_t i = 1; i < n; i++) {
		int64_t len = starts[i] - starts[i - 1];
		/* 29 March is the 23-hour day. */
		assert_int_equal(len,
				 starts[i - 1] == utc_ms(2026, 3, 28, 23, 0) ? 23 * HOUR : DAY);
	}
	window_clock_free(c);
}

/* ------------------------------------------------------------------------ */
/* Batch                                                                    */

static void keep_follows_reading_windows(void **state)
{
	config cfg;

	make_config(&cfg, "UTC");
	cfg.windows.retention_ms = 35 * DAY;
	/* Read by the 1h window: 1h plus two 5m buckets. */
	assert_int_equal(window_keep_ms(&cfg, G5M), HOUR + 10 * MINUTE);
	/* Read by the 24h window: 24h plus two 1h buckets. */
	assert_int_equal(window_keep_ms(&cfg, G1H), DAY + 2 * HOUR);
	/* Read by the 7d window: 7d plus two days. */
	assert_int_equal(window_keep_ms(&cfg, G1D), 9 * DAY);
	/* The coarsest granularity keeps the retention. */
	assert_int_equal(window_keep_ms(&cfg, G7D), 35 * DAY);

	/* A granularity no window reads keeps the retention too. */
	cfg.windows.n_windows = 1;
	assert_int_equal(window_keep_ms(&cfg, G1H), 35 * DAY);
}

static pseudonym person(uint32_t i)
{
	pseudonym p;
	uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
	memset(&p, 0, sizeof(p));
	memcpy(p.bytes, &h, sizeof(h));
	memcpy(p.bytes + 8, &i, sizeof(i));
	return p;
}

static const window_cell *find_cell(const window_batch *b, uint16_t behaviour, uint32_t scope,
				    uint8_t gran, int64_t start)
{
	for (size_t i = 0; i < window_batch_cell_count(b); i++) {
		const window_cell *c = window_batch_cell(b, i);
		if (c->behaviour == behaviour && c->scope == scope && c->gran == gran &&
		    c->bucket_start_ms == start)
			return c;
	}
	return NULL;
}

static bool cell_has_member(const window_batch *b, const window_cell *c, const pseudonym *p)
{
	const pseudonym *m = window_batch_members(b) + c->first_member;
	for (size_t i = 0; i < c->n_members; i++)
		if (pseudonym_equal(&m[i], p))
			return true;
	return false;
}

static void batch_add_and_dedup(void **state)
{
	window_batch *b = window_batch_new();
	pseudonym alice = person(1), bob = person(2);

	assert_int_equal(window_batch_add(b, 3, 0, 1, HOUR, +1, &alice), 0);
	assert_int_equal(window_batch_add(b, 3, 0, 1, HOUR, +1, &alice), 0);
	assert_int_equal(window_batch_add(b, 3, 0, 1, HOUR, +1, &bob), 0);
	/* Same person, other scope, other granularity, other bucket, other behaviour. */
	assert_int_equal(window_batch_add(b, 3, 7, 1, HOUR, +1, &alice), 0);
	assert_int_equal(window_batch_add(b, 3, 0, 2, HOUR, +1, &alice), 0);
	assert_int_equal(window_batch_add(b, 3, 0, 1, 2 * HOUR, +1, &alice), 0);
	assert_int_equal(window_batch_add(b, 4, 0, 1, HOUR, +1, &alice), 0);
	window_batch_finish(b);

	assert_int_equal(window_batch_cell_count(b), 5);
	assert_int_equal(window_batch_additions(b), 7);
	const window_cell *c = find_cell(b, 3, 0, 1, HOUR);
	assert_non_null(c);
	assert_int_equal(c->count, 3);
	assert_int_equal(c->n_members, 2);
	assert_true(cell_has_member(b, c, &alice));
	assert_true(cell_has_member(b, c, &bob));

	c = find_cell(b, 3, 7, 1, HOUR);
	assert_non_null(c);
	assert_int_equal(c->count, 1);
	assert_int_equal(c->n_members, 1);
	assert_true(cell_has_member(b, c, &alice));
	assert_false(cell_has_member(b, c, &bob));
	window_batch_free(b);
}

static void batch_retract(void **state)
{
	window_batch *b = window_batch_new();
	pseudonym alice = person(1);

	assert_int_equal(window_batch_add(b, 0, 0, 0, 0, +1, &alice), 0);
	assert_int_equal(window_batch_add(b, 0, 0, 0, 0, -1, NULL), 0);
	assert_int_equal(window_batch_add(b, 0, 5, 0, 0, -1, NULL), 0);
	window_batch_finish(b);

	const window_cell *c = find_cell(b, 0, 0, 0, 0);
	assert_int_equal(c->count, 0);
	assert_int_equal(c->n_members, 1);
	c = find_cell(b, 0, 5, 0, 0);
	assert_int_equal(c->count, -1);
	assert_int_equal(c->n_members, 0);
	window_batch_free(b);
}

static void batch_reset_empties(void **state)
{
	window_batch *b = window_batch_new();
	pseudonym alice = person(1);

	for (int i = 0; i < 10; i++)
		assert_int_equal(window_batch_add(b, 1, (uint32_t)i, 0, 0, +1, &alice), 0);
	window_batch_reset(b);
	assert_int_equal(window_batch_cell_count(b), 0);
	assert_int_equal(window_batch_additions(b), 0);

	/* Cells and contributors of the previous batch are gone, not merged. */
	assert_int_equal(window_batch_add(b, 1, 3, 0, 0, +1, &alice), 0);
	window_batch_finish(b);
	assert_int_equal(window_batch_cell_count(b), 1);
	const window_cell *c = window_batch_cell(b, 0);
	assert_int_equal(c->count, 1);
	assert_int_equal(c->n_members, 1);
	assert_int_equal(c->first_member, 0);
	assert_true(pseudonym_equal(&window_batch_members(b)[0], &alice));
	window_batch_free(b);
}

static void batch_finish_groups_members(void **state)
{
	window_batch *b = window_batch_new();

	/* Interleave contributors of 3 cells; cell k gets people k, k+3, k+6, ... */
	for (uint32_t i = 0; i < 30; i++) {
		pseudonym p = person(i);
		assert_int_equal(window_batch_add(b, 0, i % 3, 0, 0, +1, &p), 0);
		assert_int_equal(window_batch_add(b, 0, i % 3, 0, 0, +1, &p), 0);
	}
	window_batch_finish(b);

	size_t next = 0;
	for (size_t k = 0; k < window_batch_cell_count(b); k++) {
		const window_cell *c = window_batch_cell(b, k);
		assert_int_equal(c->first_member, next);
		assert_int_equal(c->n_members, 10);
		assert_int_equal(c->count, 20);
		for (size_t m = 0; m < c->n_members; m++) {
			pseudonym expected =
			    person((uint32_t)(c->scope + 3 * m)); /* arrival order */
			assert_true(pseudonym_equal(&window_batch_members(b)[c->first_member + m],
						    &expected));
		}
		next += c->n_members;
	}
	assert_int_equal(next, 30);

	/* Finishing twice gives the same layout. */
	window_batch_finish(b);
	assert_int_equal(window_batch_cell(b, 2)->first_member, 20);
	window_batch_free(b);
}

/* Adds `cells` cells, each with contributors person(i) and, for even i, person(i + 1). */
static void load_batch(window_batch *b, uint32_t cells)
{
	for (uint32_t i = 0; i < cells; i++) {
		pseudonym p = person(i);
		if (window_batch_add(b, (uint16_t)(i % 5), i / 5, (uint8_t)(i % 3),
				     (int64_t)(i % 7) * HOUR, +1, &p) < 0)
			fail_msg("add failed at cell %u", i);
		if (i % 2 == 0) {
			pseudonym q = person(i + 1);
			if (window_batch_add(b, (uint16_t)(i % 5), i / 5, (uint8_t)(i % 3),
					     (int64_t)(i % 7) * HOUR, +1, &q) < 0)
				fail_msg("add failed at cell %u", i);
		}
	}
}

static void batch_grows_past_100k_cells(void **state)
{
	enum { CELLS = 150000 };
	window_batch *b = window_batch_new();

	load_batch(b, CELLS);
	window_batch_finish(b);
	assert_int_equal(window_batch_cell_count(b), CELLS);
	assert_int_equal(window_batch_additions(b), CELLS + CELLS / 2);

	size_t total = 0;
	for (uint32_t i = 0; i < CELLS; i++) {
		const window_cell *c = window_batch_cell(b, i); /* insertion order */
		pseudonym p = person(i);
		assert_int_equal(c->scope, i / 5);
		assert_int_equal(c->count, i % 2 == 0 ? 2 : 1);
		assert_int_equal(c->n_members, i % 2 == 0 ? 2 : 1);
		assert_int_equal(c->first_member, total);
		assert_true(pseudonym_equal(&window_batch_members(b)[c->first_member], &p));
		total += c->n_members;
	}
	window_batch_free(b);
}

static void warm_batch_keeps_capacity(void **state)
{
	window_batch *b = window_batch_new();

	load_batch(b, 20000);
	window_batch_finish(b);
	size_t memory = window_batch_memory(b);
	assert_true(memory > 0);

	for (int round = 0; round < 3; round++) {
		window_batch_reset(b);
		load_batch(b, 20000);
		window_batch_finish(b);
		assert_int_equal(window_batch_memory(b), memory);
		assert_int_equal(window_batch_cell_count(b), 20000);
	}
	/*
	 * A smaller batch after a large one keeps the cells' and tables'
	 * capacity, and its entries come back at the large batch's size plus a
	 * quarter: more than the members they replace.
	 */
	window_batch_reset(b);
	load_batch(b, 100);
	assert_true(window_batch_memory(b) >= memory);
	window_batch_free(b);
}

static void finished_batch_rejects_credits(void **state)
{
	window_batch *b = window_batch_new();
	pseudonym alice = person(1), bob = person(2);

	assert_int_equal(window_batch_add(b, 0, 0, 0, 0, +1, &alice), 0);
	assert_int_equal(window_batch_finish(b), 0);
	assert_int_equal(window_batch_add(b, 0, 0, 0, 0, +1, &bob), -1);
	assert_int_equal(window_batch_cell(b, 0)->n_members, 1);

	/* After a reset the batch fills again, its entries allocated anew. */
	window_batch_reset(b);
	assert_int_equal(window_batch_add(b, 0, 0, 0, 0, +1, &bob), 0);
	assert_int_equal(window_batch_add(b, 0, 0, 0, 0, +1, &alice), 0);
	assert_int_equal(window_batch_finish(b), 0);
	assert_true(pseudonym_equal(&window_batch_members(b)[0], &bob));
	assert_true(pseudonym_equal(&window_batch_members(b)[1], &alice));
	window_batch_free(b);
}

static double elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/*
 * Prints ns per window_batch_add and per day-bucket lookup on warm state, in
 * the pipeline's pattern (each credit touches 4 granularities x 3 scopes).
 * Asserts nothing about speed: sanitizers distort it.
 */
static void batch_timing_report(void **state)
{
	enum { EVENTS = 20000, PEOPLE = 2000 };
	window_batch *b = window_batch_new();
	window_clock *c = clock_for("Europe/Berlin");
	int64_t t0_ms = utc_ms(2026, 5, 14, 8, 0);
	struct timespec t0, t1, t2;
	uint64_t adds = 0;
	int64_t sink = 0;

	for (int round = 0; round < 3; round++) {
		window_batch_reset(b);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (uint32_t e = 0; e < EVENTS; e++) {
			pseudonym p = person(e % PEOPLE);
			int64_t t = t0_ms + (int64_t)e * 1000;
			for (uint8_t g = 0; g < N_GRANS; g++) {
				int64_t start = window_bucket_start(c, g, t);
				for (uint32_t scope = 0; scope < 3; scope++)
					window_batch_add(b, (uint16_t)(e % 4), scope * 100 + e % 50,
							 g, start, +1, &p);
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		window_batch_finish(b);
		adds = window_batch_additions(b);
	}
	for (uint32_t e = 0; e < EVENTS * 10; e++)
		sink += window_bucket_start(c, G1D, t0_ms + (int64_t)e * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t2);

	print_message("window: %.0f ns per window_batch_add on a warm batch (%zu cells), "
		      "%.0f ns per daily bucket start\n",
		      elapsed_ns(&t0, &t1) / (double)adds, window_batch_cell_count(b),
		      elapsed_ns(&t1, &t2) / (EVENTS * 10.0));
	assert_true(sink != 0);
	window_clock_free(c);
	window_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(subday_bucket_edges),
	    cmocka_unit_test(subday_ignores_time_zone),
	    cmocka_unit_test(negative_times_floor),
	    cmocka_unit_test(utc_days),
	    cmocka_unit_test(null_time_zone_means_utc),
	    cmocka_unit_test(berlin_days_across_dst),
	    cmocka_unit_test(new_york_days_across_dst),
	    cmocka_unit_test(santiago_skipped_midnight),
	    cmocka_unit_test(havana_repeated_midnight),
	    cmocka_unit_test(seven_day_buckets_start_on_monday),
	    cmocka_unit_test(interleaved_clocks),
	    cmocka_unit_test(unknown_time_zone_rejected),
	    cmocka_unit_test(rolling_window_counts),
	    cmocka_unit_test(rolling_window_truncated_output),
	    cmocka_unit_test(rolling_week_across_dst_in_berlin),
	    cmocka_unit_test(keep_follows_reading_windows),
	    cmocka_unit_test(batch_add_and_dedup),
	    cmocka_unit_test(batch_retract),
	    cmocka_unit_test(batch_reset_empties),
	    cmocka_unit_test(batch_finish_groups_members),
	    cmocka_unit_test(batch_grows_past_100k_cells),
	    cmocka_unit_test(warm_batch_keeps_capacity),
	    cmocka_unit_test(finished_batch_rejects_credits),
	    cmocka_unit_test(batch_timing_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
