/*
 * test_decode_greenhouse.c - Greenhouse web hooks to referral events.
 *
 * Fixtures under tests/fixtures/hr are web hook bodies in Greenhouse's
 * format with invented values; each test compares the exact canonical event
 * or reason. The real-world test feeds the published hire_candidate sample
 * (greenhouse-zulip) under $ADVOCACY_REALWORLD_DIR, and the same sample
 * turned into a referral, and skips when that directory is absent.
 */
#define _GNU_SOURCE /* memmem */
#include <jansson.h>

#include "decode_expect.h"
#include "decode_greenhouse.h"

/* Candidate data of the fixtures that must never reach an event. */
static const char *const candidate_data[] = {
    "Tomas", "Lindqvist", "tomas.lindqvist", "555", "70220011", "Sveav", "cv.pdf", "Northwind",
};

static decode_status decode_fixture(decode_greenhouse *d, const char *name, event *ev,
				    decode_result *res)
{
	size_t len = 0;
	char *buf = expect_fixture("hr", name, &len);
	decode_status st = decode_greenhouse_message(d, buf, len, ev, res);

	free(buf);
	return st;
}

static void decode_text(decode_greenhouse *d, const char *text, event *ev, decode_result *res)
{
	decode_greenhouse_message(d, text, strlen(text), ev, res);
}

static void assert_no_candidate_data(const event *ev)
{
	const event_str fields[] = {ev->event_id, ev->actor_id, ev->content_id, ev->channel_id};

	for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
		for (size_t c = 0; c < sizeof(candidate_data) / sizeof(candidate_data[0]); c++)
			if (fields[f].len && memmem(fields[f].ptr, fields[f].len, candidate_data[c],
						    strlen(candidate_data[c])))
				fail_msg("field %zu holds candidate data", f);
}

static void test_referral_application_credits_the_referrer(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	event ev;
	decode_result res;
	const hr_expected want = {
	    .status = DECODE_OK,
	    .source = "greenhouse",
	    .kind = "referral_made",
	    .event_id = "greenhouse:88410231:referred",
	    .time_ms = 1772442904512,
	    .actor = "E10442",
	    .content = "550012",
	};

	(void)state;
	decode_fixture(d, "greenhouse_referral_application.json", &ev, &res);
	hr_check(&ev, &res, &want);
	assert_no_candidate_data(&ev);
	decode_greenhouse_free(d);
}

static void test_referral_hire(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	event ev;
	decode_result res;
	/* Id in exponent form, source under "name", e-mail as the only employee
	 * id, the job under "job", the hire time from offer.resolved_at (+02:00). */
	const hr_expected want = {
	    .status = DECODE_OK,
	    .source = "greenhouse",
	    .kind = "referral_hired",
	    .event_id = "greenhouse:88410231:hired",
	    .time_ms = 1775829600000,
	    .actor = "mara.okafor@example.com",
	    .content = "550012",
	};

	(void)state;
	decode_fixture(d, "greenhouse_referral_hired.json", &ev, &res);
	hr_check(&ev, &res, &want);
	assert_no_candidate_data(&ev);
	decode_greenhouse_free(d);
}

static void test_ignored_actions(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	event ev;
	decode_result res;
	const struct {
		const char *file, *reason;
	} cases[] = {
	    {"greenhouse_agency_application.json", "not_a_referral"},
	    {"greenhouse_ping.json", "ping"},
	    {"greenhouse_stage_change.json", "unsupported_action"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const hr_expected want = {.status = DECODE_IGNORED, .reason = cases[i].reason};
		decode_fixture(d, cases[i].file, &ev, &res);
		hr_check(&ev, &res, &want);
	}
	decode_greenhouse_free(d);
}

static void test_referrer_object_and_numeric_user_id(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	event ev;
	decode_result res;
	const hr_expected want = {
	    .status = DECODE_OK,
	    .source = "greenhouse",
	    .kind = "referral_made",
	    .event_id = "greenhouse:1201:referred",
	    .time_ms = 1772611200000,
	    .actor = "4417",
	};

	(void)state;
	/* A JSON string holding the document, as some connectors send it. */
	decode_text(d,
		    "\"{\\\"action\\\":\\\"new_prospect_application\\\",\\\"payload\\\":"
		    "{\\\"application\\\":{\\\"id\\\":\\\"1201\\\",\\\"referrer\\\":{\\\"type\\\":"
		    "\\\"id\\\",\\\"value\\\":4417},\\\"credited_to\\\":{\\\"id\\\":4417},"
		    "\\\"last_activity_at\\\":1772611200}}}\"",
		    &ev, &res);
	hr_check(&ev, &res, &want);
	decode_greenhouse_free(d);
}

static void test_malformed_payloads(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	event ev;
	decode_result res;
	const struct {
		const char *text, *reason;
	} cases[] = {
	    {"{\"action\": \"hire_candidate\"", "invalid_json"},
	    {"[1, 2]", "not_an_object"},
	    {"{\"payload\": {}}", "missing_field"},
	    {"{\"action\": \"hire_candidate\", \"payload\": {}}", "missing_field"},
	    {"{\"action\": \"hire_candidate\", \"payload\": {\"application\": {\"id\": 5, "
	     "\"source\": {\"public_name\": \"Referral\"}, \"applied_at\": "
	     "\"2026-03-02T09:15:04Z\"}}}",
	     "missing_field"},
	    {"{\"action\": \"hire_candidate\", \"payload\": {\"application\": {\"id\": 5, "
	     "\"source\": {\"public_name\": \"Referral\"}, \"credited_to\": {\"employee_id\": "
	     "\"E1\"}, \"offer\": {\"resolved_at\": \"yesterday\"}}}}",
	     "invalid_event_time"},
	    {"{\"action\": \"hire_candidate\", \"payload\": {\"application\": {\"id\": -5, "
	     "\"source\": {\"public_name\": \"Referral\"}, \"credited_to\": {\"employee_id\": "
	     "\"E1\"}, \"applied_at\": \"2026-03-02T09:15:04Z\"}}}",
	     "missing_field"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const hr_expected want = {.status = DECODE_INVALID, .reason = cases[i].reason};
		decode_text(d, cases[i].text, &ev, &res);
		hr_check(&ev, &res, &want);
		expect_no_leak(&res, "E1");
	}
	decode_greenhouse_free(d);
}

static void test_limits(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	size_t big = 1024 * 1024 + 1;
	char *buf = malloc(big);
	event ev;
	decode_result res;

	(void)state;
	assert_non_null(buf);
	memset(buf, ' ', big);
	decode_greenhouse_message(d, buf, big, &ev, &res);
	hr_check(&ev, &res, &(hr_expected){.status = DECODE_INVALID, .reason = "oversized"});

	int n = snprintf(buf, 1024,
			 "{\"action\": \"new_candidate_application\", \"payload\": "
			 "{\"application\": {\"id\": \"%0300d\", \"source\": {\"public_name\": "
			 "\"Referral\"}, \"credited_to\": {\"employee_id\": \"E1\"}, "
			 "\"applied_at\": \"2026-03-02T09:15:04Z\"}}}",
			 7);
	decode_greenhouse_message(d, buf, (size_t)n, &ev, &res);
	hr_check(&ev, &res, &(hr_expected){.status = DECODE_INVALID, .reason = "id_too_long"});
	free(buf);
	decode_greenhouse_free(d);
}

/* Sets application.source.public_name of a parsed web hook. */
static char *as_referral(const char *text, size_t len)
{
	json_t *doc = json_loadb(text, len, 0, NULL);
	json_t *app = json_object_get(json_object_get(doc, "payload"), "application");
	char *out;

	assert_non_null(app);
	json_object_set_new(json_object_get(app, "source"), "public_name",
			    json_string("Employee Referral"));
	out = json_dumps(doc, 0);
	json_decref(doc);
	return out;
}

static void test_realworld_hire(void **state)
{
	decode_greenhouse *d = decode_greenhouse_new();
	size_t len = 0;
	char *text = expect_realworld("greenhouse-zulip/candidate_hired.json", &len);
	event ev;
	decode_result res;

	(void)state;
	if (text == NULL) {
		decode_greenhouse_free(d);
		skip();
	}
	/* Its source is a job board: the credited recruiter made no referral. */
	decode_greenhouse_message(d, text, len, &ev, &res);
	hr_check(&ev, &res, &(hr_expected){.status = DECODE_IGNORED, .reason = "not_a_referral"});

	/* The same hire from a referral source credits credited_to, by e-mail. */
	json_t *doc = json_loadb(text, len, 0, NULL);
	json_t *app = json_object_get(json_object_get(doc, "payload"), "application");
	const char *email = json_string_value(
	    json_object_get(json_object_get(app, "credited_to"), "email"));
	char event_id[64];
	snprintf(event_id, sizeof(event_id), "greenhouse:%lld:hired",
		 (long long)json_integer_value(json_object_get(app, "id")));
	char *referral = as_referral(text, len);
	decode_greenhouse_message(d, referral, strlen(referral), &ev, &res);
	const hr_expected want = {
	    .status = DECODE_OK,
	    .source = "greenhouse",
	    .kind = "referral_hired",
	    .event_id = event_id,
	    .time_ms = 1416523754000, /* offer.resolved_at 2014-11-20T22:49:14Z */
	    .actor = email,
	    .content = "20",
	};
	hr_check(&ev, &res, &want);
	free(referral);
	json_decref(doc);
	free(text);
	decode_greenhouse_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_referral_application_credits_the_referrer),
	    cmocka_unit_test(test_referral_hire),
	    cmocka_unit_test(test_ignored_actions),
	    cmocka_unit_test(test_referrer_object_and_numeric_user_id),
	    cmocka_unit_test(test_malformed_payloads),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_realworld_hire),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
