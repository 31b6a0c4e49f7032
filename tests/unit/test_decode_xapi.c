/*
 * test_decode_xapi.c - xAPI statements to training events.
 *
 * Fixtures under tests/fixtures/hr are statements in the xAPI 1.0.3 format
 * with invented values. Every test walks a message with the cursor and
 * compares each outcome, in order, with the exact expected canonical event
 * or reason. The real-world set has no xAPI sample, so none is fed.
 */
#include "decode_expect.h"
#include "decode_xapi.h"

#define COURSE "https://lms.example.com/courses/advocacy-101"
#define REGISTRATION "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c61"
#define COURSE_HASH "7b92880dc86e089a" /* FNV-1a 64 of COURSE */

/* Walks the message in buf and compares every outcome with want[0..n). */
static void check_message(decode_xapi *d, const char *buf, size_t len, const hr_expected *want,
			  size_t n)
{
	event ev;
	decode_result res;
	size_t i = 0;

	if (decode_xapi_open(d, buf, len, &res) != DECODE_OK)
		fail_msg("the message did not open: %s (%s)", res.reason, res.detail);
	for (; decode_xapi_next(d, &ev, &res); i++) {
		if (i >= n)
			fail_msg("outcome %zu is extra (%s)", i, res.reason ? res.reason : "ok");
		hr_check(&ev, &res, &want[i]);
	}
	assert_int_equal(i, n);
}

static void check_fixture(decode_xapi *d, const char *name, const hr_expected *want, size_t n)
{
	size_t len = 0;
	char *buf = expect_fixture("hr", name, &len);

	check_message(d, buf, len, want, n);
	free(buf);
}

static void test_completed_and_passed_of_one_attempt_share_an_id(void **state)
{
	decode_xapi *d = decode_xapi_new();
	const hr_expected want[] = {
	    {.status = DECODE_OK,
	     .source = "xapi",
	     .kind = "training_completed",
	     .event_id = "xapi:" REGISTRATION ":" COURSE_HASH,
	     .time_ms = 1772720431250,
	     .actor = "mara.okafor@example.com",
	     .content = COURSE,
	     .attrs = {"verb=completed"}},
	    {.status = DECODE_OK,
	     .source = "xapi",
	     .kind = "training_completed",
	     .event_id = "xapi:" REGISTRATION ":" COURSE_HASH,
	     .time_ms = 1772720431300,
	     .actor = "mara.okafor@example.com",
	     .content = COURSE,
	     .attrs = {"verb=passed"}},
	    {.status = DECODE_IGNORED, .reason = "unsupported_verb"},
	};

	(void)state;
	check_fixture(d, "xapi_completed_and_passed.json", want, 3);
	decode_xapi_free(d);
}

static void test_account_actor_without_registration(void **state)
{
	decode_xapi *d = decode_xapi_new();
	/* The time comes from stored (+02:00) when timestamp is missing. */
	const hr_expected want[] = {
	    {.status = DECODE_OK,
	     .source = "xapi",
	     .kind = "training_completed",
	     .event_id = "xapi:7f1e2d3c-4b5a-4697-8877-665544332211",
	     .time_ms = 1772780400000,
	     .actor = "E20871",
	     .content = "https://lms.example.com/courses/social-media-guidelines",
	     .attrs = {"verb=completed"}},
	};

	(void)state;
	check_fixture(d, "xapi_statement_account.json", want, 1);
	decode_xapi_free(d);
}

static void test_statement_result_with_group_and_missing_object(void **state)
{
	decode_xapi *d = decode_xapi_new();
	const hr_expected want[] = {
	    {.status = DECODE_IGNORED, .reason = "group_actor"},
	    {.status = DECODE_INVALID, .reason = "missing_field"},
	};

	(void)state;
	check_fixture(d, "xapi_statement_result.json", want, 2);
	decode_xapi_free(d);
}

static void test_statement_errors(void **state)
{
	decode_xapi *d = decode_xapi_new();
	const char *text =
	    "[7,"
	    " {\"actor\": {\"mbox\": \"mailto:a@example.com\"}, \"object\": {\"id\": \"c\"}},"
	    " {\"id\": \"s3\", \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/passed\"},"
	    "  \"object\": {\"id\": \"c\"}, \"timestamp\": \"2026-03-05T14:20:31Z\"},"
	    " {\"id\": \"s4\", \"actor\": {\"mbox\": \"mailto:a@example.com\"},"
	    "  \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/passed\"},"
	    "  \"object\": {\"id\": \"c\"}, \"timestamp\": \"March 5th\"},"
	    " {\"actor\": {\"mbox\": \"mailto:a@example.com\"},"
	    "  \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/passed\"},"
	    "  \"object\": {\"id\": \"c\"}, \"timestamp\": \"2026-03-05T14:20:31Z\"},"
	    " {\"id\": \"s6\", \"actor\": {\"mbox\": \"mailto:a@example.com\"},"
	    "  \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/completed\"},"
	    "  \"object\": {\"objectType\": \"Agent\", \"mbox\": \"mailto:b@example.com\"},"
	    "  \"timestamp\": \"2026-03-05T14:20:31Z\"},"
	    " {\"id\": \"s7\", \"actor\": {\"mbox\": \"MAILTO:a@example.com\"},"
	    "  \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/completed\"},"
	    "  \"object\": {\"id\": \"c\"}, \"timestamp\": 1772720431}]";
	const hr_expected want[] = {
	    {.status = DECODE_INVALID, .reason = "not_an_object"},
	    {.status = DECODE_INVALID, .reason = "missing_field"},	 /* verb */
	    {.status = DECODE_INVALID, .reason = "missing_field"},	 /* actor */
	    {.status = DECODE_INVALID, .reason = "invalid_event_time"}, /* text time */
	    {.status = DECODE_INVALID, .reason = "missing_field"},	 /* no id */
	    {.status = DECODE_IGNORED, .reason = "unsupported_object"}, /* an Agent */
	    {.status = DECODE_OK,
	     .source = "xapi",
	     .kind = "training_completed",
	     .event_id = "xapi:s7",
	     .time_ms = 1772720431000,
	     .actor = "a@example.com",
	     .content = "c",
	     .attrs = {"verb=completed"}},
	};

	(void)state;
	check_message(d, text, strlen(text), want, sizeof(want) / sizeof(want[0]));
	decode_xapi_free(d);
}

static void test_message_level_outcomes(void **state)
{
	decode_xapi *d = decode_xapi_new();
	decode_result res;
	const struct {
		const char *text;
		decode_status status;
		const char *reason;
	} cases[] = {
	    {"[]", DECODE_IGNORED, "empty_collection"},
	    {"{\"statements\": [], \"more\": \"\"}", DECODE_IGNORED, "empty_collection"},
	    {"\"not json inside", DECODE_INVALID, "invalid_json"},
	    {"42", DECODE_INVALID, "not_an_object"},
	    {"{\"id\": ", DECODE_INVALID, "invalid_json"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode_xapi_open(d, cases[i].text, strlen(cases[i].text), &res),
				 cases[i].status);
		assert_string_equal(res.reason, cases[i].reason);
		assert_false(decode_xapi_next(d, &(event){0}, &res));
	}
	decode_xapi_free(d);
}

static void test_long_ids_are_invalid(void **state)
{
	decode_xapi *d = decode_xapi_new();
	char text[1024];
	int n = snprintf(text, sizeof(text),
			 "{\"id\": \"s1\", \"actor\": {\"mbox\": \"mailto:a@example.com\"},"
			 " \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/completed\"},"
			 " \"object\": {\"id\": \"https://lms.example.com/%0260d\"},"
			 " \"timestamp\": \"2026-03-05T14:20:31Z\"}",
			 1);
	const hr_expected want[] = {{.status = DECODE_INVALID, .reason = "id_too_long"}};

	(void)state;
	check_message(d, text, (size_t)n, want, 1);
	/* Each id fits, the event id built from them would not. */
	n = snprintf(text, sizeof(text),
		     "{\"id\": \"s1\", \"actor\": {\"mbox\": \"mailto:a@example.com\"},"
		     " \"verb\": {\"id\": \"http://adlnet.gov/expapi/verbs/completed\"},"
		     " \"object\": {\"id\": \"c\"}, \"context\": {\"registration\": \"%0250d\"},"
		     " \"timestamp\": \"2026-03-05T14:20:31Z\"}",
		     1);
	check_message(d, text, (size_t)n, want, 1);
	decode_xapi_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_completed_and_passed_of_one_attempt_share_an_id),
	    cmocka_unit_test(test_account_actor_without_registration),
	    cmocka_unit_test(test_statement_result_with_group_and_missing_object),
	    cmocka_unit_test(test_statement_errors),
	    cmocka_unit_test(test_message_level_outcomes),
	    cmocka_unit_test(test_long_ids_are_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
