/*
 * test_decode_survey.c - Typeform eNPS answers to score-free events.
 *
 * Fixtures under tests/fixtures/hr are form_response web hooks in
 * Typeform's format with invented values. Each test compares the exact
 * canonical event or reason, and checks that neither the score nor the free
 * text of another answer reaches the event or the detail sentence. The
 * real-world set holds no survey sample, so none is fed.
 */
#define _GNU_SOURCE /* memmem */
#include "decode_expect.h"
#include "decode_survey.h"

#define FORM "qE7mW2"
#define SUBMITTED_MS 1773046907000 /* 2026-03-09T09:01:47Z */

static void check_fixture(decode_survey *d, const char *name, const hr_expected *want)
{
	size_t len = 0;
	char *buf = expect_fixture("hr", name, &len);
	event ev;
	decode_result res;

	decode_survey_message(d, buf, len, &ev, &res);
	hr_check(&ev, &res, want);
	free(buf);
}

/* No event field contains text of the response other than ids. */
static void assert_no_answer_text(const event *ev)
{
	const event_str fields[] = {ev->event_id, ev->actor_id, ev->content_id, ev->kind};
	const char *texts[] = {"people", "recommend", "number", "score"};

	for (size_t f = 0; f < 4; f++)
		for (size_t t = 0; t < 4; t++)
			if (fields[f].len && memmem(fields[f].ptr, fields[f].len, texts[t],
						    strlen(texts[t])))
				fail_msg("field %zu holds \"%s\"", f, texts[t]);
	assert_int_equal(ev->attr_count, 0);
}

static void test_score_picks_the_kind(void **state)
{
	decode_survey *d = decode_survey_new();
	const hr_expected promoter = {
	    .status = DECODE_OK,
	    .source = "typeform",
	    .kind = "enps_promoter",
	    .event_id = "typeform:" FORM ":a1f0c9e8d7b6a5f4e3d2c1b0a9f8e7d6",
	    .time_ms = SUBMITTED_MS,
	    .actor = "E10442",
	    .content = FORM,
	};
	/* Found by field.ref enps although its type is opinion_scale. */
	const hr_expected passive = {
	    .status = DECODE_OK,
	    .source = "typeform",
	    .kind = "enps_passive",
	    .event_id = "typeform:" FORM ":b2e1d0c9f8a7b6c5d4e3f2a1b0c9d8e7",
	    .time_ms = SUBMITTED_MS,
	    .actor = "jon.baptiste@example.com",
	    .content = FORM,
	};
	/* Found by field.type nps; the score 6.0e0 is a whole number. */
	const hr_expected detractor = {
	    .status = DECODE_OK,
	    .source = "typeform",
	    .kind = "enps_detractor",
	    .event_id = "typeform:" FORM ":c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8",
	    .time_ms = SUBMITTED_MS,
	    .actor = "E20871",
	    .content = FORM,
	};

	(void)state;
	check_fixture(d, "typeform_promoter.json", &promoter);
	check_fixture(d, "typeform_passive.json", &passive);
	check_fixture(d, "typeform_detractor.json", &detractor);
	decode_survey_free(d);
}

/* Every score from 0 to 10 lands in its category and nothing else of it is kept. */
static void test_category_bounds(void **state)
{
	decode_survey *d = decode_survey_new();
	const char *kinds[11] = {"enps_detractor", "enps_detractor", "enps_detractor",
				 "enps_detractor", "enps_detractor", "enps_detractor",
				 "enps_detractor", "enps_passive",   "enps_passive",
				 "enps_promoter",  "enps_promoter"};
	char text[512];
	event ev;
	decode_result res;

	(void)state;
	for (int score = 0; score <= 10; score++) {
		int n = snprintf(text, sizeof(text),
				 "{\"event_id\": \"e%c\", \"event_type\": \"form_response\","
				 " \"form_response\": {\"form_id\": \"F\", \"token\": \"t%c\","
				 " \"submitted_at\": \"2026-03-09T09:01:47Z\","
				 " \"hidden\": {\"employee_id\": \"E1\"}, \"answers\": [{\"type\":"
				 " \"number\", \"number\": %d, \"field\": {\"id\": \"x\", \"type\":"
				 " \"nps\"}}]}}",
				 'a' + score, 'a' + score, score);
		assert_int_equal(decode_survey_message(d, text, (size_t)n, &ev, &res), DECODE_OK);
		expect_str(ev.kind, kinds[score], "kind");
		assert_no_answer_text(&ev);
	}
	decode_survey_free(d);
}

static void test_ignored_and_invalid_responses(void **state)
{
	decode_survey *d = decode_survey_new();
	size_t len = 0;
	char *buf;
	event ev;
	decode_result res;

	(void)state;
	check_fixture(d, "typeform_anonymous.json",
		      &(hr_expected){.status = DECODE_IGNORED, .reason = "anonymous_response"});
	check_fixture(d, "typeform_no_enps.json",
		      &(hr_expected){.status = DECODE_IGNORED, .reason = "no_enps_answer"});

	/* An out-of-range score is dead-lettered without its value. */
	buf = expect_fixture("hr", "typeform_invalid_score.json", &len);
	decode_survey_message(d, buf, len, &ev, &res);
	hr_check(&ev, &res, &(hr_expected){.status = DECODE_INVALID, .reason = "invalid_score"});
	expect_no_leak(&res, "11");
	expect_no_leak(&res, "E30015");
	assert_int_equal(ev.kind.len, 0);
	free(buf);
	decode_survey_free(d);
}

static void test_malformed_payloads(void **state)
{
	decode_survey *d = decode_survey_new();
	event ev;
	decode_result res;
	const char *answer = "\"answers\": [{\"type\": \"number\", \"number\": 8, \"field\":"
			     " {\"type\": \"nps\"}}]";
	char text[1024];
	const struct {
		const char *head, *tail;
		decode_status status;
		const char *reason;
	} cases[] = {
	    {"{\"event_type\": \"form_response\", ", "", DECODE_INVALID, "invalid_json"},
	    {"[{", "}]", DECODE_INVALID, "not_an_object"},
	    {"{\"form_response\": {", "}}", DECODE_INVALID, "missing_field"},
	    {"{\"event_type\": \"form_deleted\", \"form_response\": {", "}}", DECODE_IGNORED,
	     "unsupported_event_type"},
	    {"{\"event_type\": \"form_response\", \"x\": {", "}}", DECODE_INVALID, "missing_field"},
	    {"{\"event_type\": \"form_response\", \"form_response\": {\"hidden\": {\"email\":"
	     " \"a@example.com\"}, \"token\": \"t\", \"submitted_at\": \"2026-03-09T09:01:47Z\","
	     " ", "}}",
	     DECODE_INVALID, "missing_field"},
	    {"{\"event_type\": \"form_response\", \"form_response\": {\"hidden\": {\"email\":"
	     " \"a@example.com\"}, \"form_id\": \"F\", \"token\": \"t\", \"submitted_at\":"
	     " \"9 March\", ", "}}",
	     DECODE_INVALID, "invalid_event_time"},
	    {"{\"event_type\": \"form_response\", \"form_response\": {\"hidden\": {\"email\":"
	     " \"a@example.com\"}, \"form_id\": \"F\", \"submitted_at\": "
	     "\"2026-03-09T09:01:47Z\", ", "}}",
	     DECODE_INVALID, "missing_field"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(text, sizeof(text), "%s%s%s", cases[i].head, answer, cases[i].tail);
		decode_survey_message(d, text, (size_t)n, &ev, &res);
		hr_check(&ev, &res,
			 &(hr_expected){.status = cases[i].status, .reason = cases[i].reason});
		expect_no_leak(&res, "a@example.com");
	}

	/* A form id and token that fit alone, but not together in the event id. */
	int n = snprintf(text, sizeof(text),
			 "{\"event_type\": \"form_response\", \"form_response\": {\"hidden\":"
			 " {\"email\": \"a@example.com\"}, \"form_id\": \"%0150d\", \"token\":"
			 " \"%0150d\", \"submitted_at\": \"2026-03-09T09:01:47Z\", %s}}",
			 1, 2, answer);
	decode_survey_message(d, text, (size_t)n, &ev, &res);
	hr_check(&ev, &res, &(hr_expected){.status = DECODE_INVALID, .reason = "id_too_long"});

	/* A half score is not an eNPS answer. */
	snprintf(text, sizeof(text),
		 "{\"event_type\": \"form_response\", \"form_response\": {\"answers\": [{\"number\":"
		 " 8.5, \"field\": {\"ref\": \"enps\"}}]}}");
	decode_survey_message(d, text, strlen(text), &ev, &res);
	hr_check(&ev, &res, &(hr_expected){.status = DECODE_INVALID, .reason = "invalid_score"});
	decode_survey_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_score_picks_the_kind),
	    cmocka_unit_test(test_category_bounds),
	    cmocka_unit_test(test_ignored_and_invalid_responses),
	    cmocka_unit_test(test_malformed_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
