/*
 * test_log.c - the logger writes one logfmt line per call, escapes control
 * characters in fields and rate-limits repeated warnings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs fn with stderr redirected to a temporary file; returns what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	static char text[8192];
	FILE *tmp = tmpfile();
	int saved = dup(fileno(stderr));

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), fileno(stderr));
	fn();
	fflush(stderr);
	dup2(saved, fileno(stderr));
	close(saved);
	rewind(tmp);
	size_t n = fread(text, 1, sizeof(text) - 1, tmp);
	text[n] = '\0';
	fclose(tmp);
	return text;
}

static size_t count_lines(const char *text)
{
	size_t n = 0;
	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static void write_forged_field(void)
{
	log_warn("test", "value with a newline", "team=\"%s\"",
	         "Evil\nts=2020-01-01T00:00:00Z level=error msg=\"FORGED\"\x07");
}

static void log_escapes_newline_in_field(void **state)
{
	char *out = capture_stderr(write_forged_field);

	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "Evil\\nts=2020"));
	assert_non_null(strstr(out, "\\x07"));
	assert_null(strstr(out, "\nts=2020"));
}

static void write_repeated_warnings(void)
{
	for (int i = 0; i < 100; i++)
		log_warn("test", "repeated warning", "offset=%d", i);
	for (int i = 0; i < 3; i++)
		log_info("test", "distinct info", "partition=%d", i);
}

static void log_rate_limits_warnings_only(void **state)
{
	char *out = capture_stderr(write_repeated_warnings);

	assert_int_equal(count_lines(out), 1 + 3);
	assert_non_null(strstr(out, "offset=0"));
	assert_null(strstr(out, "offset=1 "));
	assert_non_null(strstr(out, "partition=2"));
	assert_true(log_suppressed_total() >= 99);
}

static void log_level_parse_names(void **state)
{
	assert_int_equal(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("error"), LOG_LEVEL_ERROR);
	assert_int_equal(log_level_parse("loud"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_escapes_newline_in_field),
		cmocka_unit_test(log_rate_limits_warnings_only),
		cmocka_unit_test(log_level_parse_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
