/*
 * test_isotime.c - RFC 3339 strings and epoch numbers to UTC milliseconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "isotime.h"

static int64_t parse(const char *s)
{
	return isotime_parse_ms(s, strlen(s));
}

static void test_offsets_and_fractions(void **state)
{
	(void)state;
	assert_int_equal(parse("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse("2026-03-02T10:15:02Z"), 1772446502000);
	assert_int_equal(parse("2026-03-02T10:15:02.25Z"), 1772446502250);
	/* Digits past the millisecond are dropped, not rounded. */
	assert_int_equal(parse("2026-03-02T10:15:02.2509999z"), 1772446502250);
	assert_int_equal(parse("2026-03-02T11:15:02+01:00"), 1772446502000);
	assert_int_equal(parse("2026-03-02T02:15:02-08:00"), 1772446502000);
	assert_int_equal(parse("2026-03-02 10:15:02Z"), 1772446502000);
	assert_int_equal(parse("2026-03-02t10:15:02,5Z"), 1772446502500);
}

static void test_calendar(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-02-29T00:00:00Z"), 1709164800000);
	assert_int_equal(parse("2000-03-01T00:00:00Z"), 951868800000);
	assert_int_equal(parse("2026-12-31T23:59:59Z"), 1798761599000);
	/* A leap second is the next second's first instant. */
	assert_int_equal(parse("2016-12-31T23:59:60Z"), 1483228800000);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-03-02",
	    "2026-03-02T10:15Z",
	    "2026-03-02T10:15:02",       /* no offset: the zone is unknown */
	    "2026-02-29T00:00:00Z",      /* not a leap year */
	    "2026-04-31T00:00:00Z",
	    "2026-13-01T00:00:00Z",
	    "2026-03-02T24:00:00Z",
	    "2026-03-02T10:60:00Z",
	    "2026-03-02T10:15:02.Z",
	    "2026-03-02T10:15:02+0100",
	    "2026-03-02T10:15:02+24:00",
	    "2026-03-02T10:15:02Z ",
	    "1969-12-31T23:59:59Z",
	    "1970-01-01T00:30:00+01:00", /* before the epoch once the offset applies */
	    "+2026-03-02T10:15:02Z",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
	assert_int_equal(isotime_parse_ms(NULL, 5), -1);
	/* Only len bytes are read. */
	assert_int_equal(isotime_parse_ms("2026-03-02T10:15:02Zjunk", 20), 1772446502000);
}

static void test_epoch_numbers(void **state)
{
	(void)state;
	assert_int_equal(isotime_epoch_ms(1772446502), 1772446502000);
	assert_int_equal(isotime_epoch_ms(1772446502.25), 1772446502250);
	assert_int_equal(isotime_epoch_ms(1772446502250.0), 1772446502250);
	assert_int_equal(isotime_epoch_ms(99999999999.0), 99999999999000);
	assert_int_equal(isotime_epoch_ms(100000000000.0), 100000000000);
	assert_int_equal(isotime_epoch_ms(0), -1);
	assert_int_equal(isotime_epoch_ms(-5), -1);
	assert_int_equal(isotime_epoch_ms(9.2e15), -1);
	assert_int_equal(isotime_epoch_ms(NAN), -1);
	assert_int_equal(isotime_epoch_ms(INFINITY), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offsets_and_fractions),
	    cmocka_unit_test(test_calendar),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_epoch_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
