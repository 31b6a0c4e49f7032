/*
 * test_log.c - the logger writes one logfmt line per call, escapes control
 * characters in fields and rate-limits repeated warnings. In JSON format
 * every line parses (checked with jansson), fields keep their values and
 * the rate limit still holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

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

/* Parses each line of text as a JSON object into lines[]; returns how many. */
static size_t parse_json_lines(char *text, json_t **lines, size_t max)
{
	size_t n = 0;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t err;
		json_t *obj = json_loads(line, 0, &err);
		if (!obj)
			fail_msg("not JSON (%s): %s", err.text, line);
		assert_true(json_is_object(obj));
		assert_true(n < max);
		lines[n++] = obj;
	}
	return n;
}

static const char *member_string(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void write_json_fields(void)
{
	log_set_format(LOG_FORMAT_JSON);
	log_info("source", "partition claimed", "topic=%s partition=%d offset=%lld "
	         "detail=\"%s\" version=%s code=%s", "advocacy.events", 3, -12LL,
	         "say \"hi\" \\ tab\tnew\nline bell\x07 caf\xc3\xa9 bad\xff end", "0.1.0", "007");
	log_warn("kafka", "client error", "client=%s error=%s detail=\"%s\"", "rdkafka#1",
	         "_TRANSPORT", "a \"quoted\" x=1 value");
	log_set_format(LOG_FORMAT_LOGFMT);
}

static void log_json_lines_parse(void **state)
{
	json_t *lines[4];
	size_t n = parse_json_lines(capture_stderr(write_json_fields), lines, 4);

	assert_int_equal(n, 2);
	assert_string_equal(member_string(lines[0], "level"), "info");
	assert_string_equal(member_string(lines[0], "component"), "source");
	assert_string_equal(member_string(lines[0], "msg"), "partition claimed");
	assert_non_null(member_string(lines[0], "ts"));
	assert_string_equal(member_string(lines[0], "topic"), "advocacy.events");
	assert_int_equal(json_integer_value(json_object_get(lines[0], "partition")), 3);
	assert_int_equal(json_integer_value(json_object_get(lines[0], "offset")), -12);
	/* Quoted values stay strings with their quotes, control bytes and valid
	 * UTF-8; an invalid byte becomes U+FFFD. */
	assert_string_equal(member_string(lines[0], "detail"),
	                    "say \"hi\" \\ tab\tnew\nline bell\x07 caf\xc3\xa9 bad\xef\xbf\xbd end");
	/* Unquoted values that are no JSON number stay strings. */
	assert_string_equal(member_string(lines[0], "version"), "0.1.0");
	assert_string_equal(member_string(lines[0], "code"), "007");
	/* A quote followed by " key=" inside a value ends it: a wrong split, still JSON. */
	assert_string_equal(member_string(lines[1], "error"), "_TRANSPORT");
	assert_non_null(json_object_get(lines[1], "detail"));
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
}

static void write_json_repeats(void)
{
	log_set_format(LOG_FORMAT_JSON);
	log_init(LOG_LEVEL_INFO, 50);
	for (int i = 0; i < 20; i++)
		log_warn("test", "repeated JSON warning", "offset=%d", i);
	usleep(80 * 1000);
	log_warn("test", "repeated JSON warning", "offset=%d", 99);
	log_init(LOG_LEVEL_INFO, 10000);
	log_set_format(LOG_FORMAT_LOGFMT);
}

static void log_json_rate_limit_holds(void **state)
{
	json_t *lines[4];
	size_t n = parse_json_lines(capture_stderr(write_json_repeats), lines, 4);

	assert_int_equal(n, 2);
	assert_int_equal(json_integer_value(json_object_get(lines[0], "offset")), 0);
	assert_null(json_object_get(lines[0], "suppressed"));
	assert_int_equal(json_integer_value(json_object_get(lines[1], "offset")), 99);
	assert_int_equal(json_integer_value(json_object_get(lines[1], "suppressed")), 19);
	for (size_t i = 0; i < n; i++)
		json_decref(lines[i]);
}

static void write_json_long_field(void)
{
	static char big[4000];

	/* Every byte escapes to six characters: far more than a line holds. */
	memset(big, 0x01, sizeof(big) - 1);
	log_set_format(LOG_FORMAT_JSON);
	log_info("test", "long field", "first=1 detail=\"%s\" last=2", big);
	log_set_format(LOG_FORMAT_LOGFMT);
}

static void log_json_long_line_stays_valid(void **state)
{
	json_t *lines[2];
	size_t n = parse_json_lines(capture_stderr(write_json_long_field), lines, 2);

	assert_int_equal(n, 1);
	assert_int_equal(json_integer_value(json_object_get(lines[0], "first")), 1);
	assert_string_equal(member_string(lines[0], "msg"), "long field");
	json_decref(lines[0]);
}

static void log_format_parse_names(void **state)
{
	assert_int_equal(log_format_parse("logfmt"), LOG_FORMAT_LOGFMT);
	assert_int_equal(log_format_parse("json"), LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("xml"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_escapes_newline_in_field),
		cmocka_unit_test(log_rate_limits_warnings_only),
		cmocka_unit_test(log_level_parse_names),
		cmocka_unit_test(log_json_lines_parse),
		cmocka_unit_test(log_json_rate_limit_holds),
		cmocka_unit_test(log_json_long_line_stays_valid),
		cmocka_unit_test(log_format_parse_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
