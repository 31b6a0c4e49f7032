/*
 * test_gate.c - consent and amounts of the hits of one event.
 *
 * Hits are built as classify_event() returns them; the actor is a
 * roster_person built here, with or without consent on record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gate.h"

#define T0 1772446502000 /* 2026-03-02T10:15:02Z */

enum { SHARES, CLICKS, ANY };

static classify_hit hit(uint16_t behaviour, consent_purpose consent, const char *attribute)
{
	return (classify_hit){.behaviour = behaviour,
			      .credit = CREDIT_ACTOR,
			      .effect = +1,
			      .consent = consent,
			      .amount_attribute = attribute,
			      .amount_max = attribute ? 1000 : 0,
			      .amount = 1};
}

static event share_event(const char *clicks)
{
	event ev = {.event_time_ms = T0, .kind = {"share_clicks", 12}, .actor_id = {"emp-1", 5}};

	if (clicks) {
		ev.attrs[0] = (event_attr){{"clicks", 6}, {clicks, strlen(clicks)}};
		ev.attr_count = 1;
	}
	return ev;
}

static roster_person person_with_consent(bool given, int64_t since_ms)
{
	roster_person p;

	memset(&p, 0, sizeof(p));
	if (given) {
		p.consents = 1u << CONSENT_EXTERNAL_SHARING;
		p.consent_since_ms[CONSENT_EXTERNAL_SHARING] = since_ms;
	}
	return p;
}

static void test_hits_without_conditions_pass_with_amount_one(void **state)
{
	classify_hit hits[] = {hit(ANY, CONSENT_NONE, NULL), hit(SHARES, CONSENT_NONE, NULL)};
	event ev = share_event(NULL);
	decode_result res = {0};
	size_t n = 2;

	(void)state;
	assert_false(gate_needs_actor(hits, n));
	assert_int_equal(gate_apply(&ev, NULL, hits, &n, &res), DECODE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(hits[0].amount, 1);
	assert_int_equal(hits[1].amount, 1);
}

static void test_consent_keeps_or_drops_the_hit(void **state)
{
	event ev = share_event(NULL);
	roster_person yes = person_with_consent(true, 0), no = person_with_consent(false, 0);
	decode_result res = {0};
	classify_hit hits[2];
	size_t n;

	(void)state;
	hits[0] = hit(ANY, CONSENT_NONE, NULL);
	hits[1] = hit(SHARES, CONSENT_EXTERNAL_SHARING, NULL);
	assert_true(gate_needs_actor(hits, 2));

	n = 2;
	assert_int_equal(gate_apply(&ev, &yes, hits, &n, &res), DECODE_OK);
	assert_int_equal(n, 2);

	/* Without consent only the hit that needs none is left. */
	n = 2;
	assert_int_equal(gate_apply(&ev, &no, hits, &n, &res), DECODE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(hits[0].behaviour, ANY);
}

static void test_no_consent_ignores_the_event(void **state)
{
	event ev = share_event(NULL);
	roster_person no = person_with_consent(false, 0);
	decode_result res = {0};
	classify_hit hits[1];
	size_t n;

	(void)state;
	hits[0] = hit(SHARES, CONSENT_EXTERNAL_SHARING, NULL);
	n = 1;
	assert_int_equal(gate_apply(&ev, &no, hits, &n, &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "no_consent");
	assert_int_equal(n, 0);

	/* A person missing from the roster has no consent on record. */
	hits[0] = hit(SHARES, CONSENT_EXTERNAL_SHARING, NULL);
	n = 1;
	assert_int_equal(gate_apply(&ev, NULL, hits, &n, &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "no_consent");
}

static void test_consent_is_not_retroactive(void **state)
{
	event ev = share_event(NULL);
	roster_person later = person_with_consent(true, T0 + 1);
	roster_person exact = person_with_consent(true, T0);
	decode_result res = {0};
	classify_hit hits[1];
	size_t n = 1;

	(void)state;
	hits[0] = hit(SHARES, CONSENT_EXTERNAL_SHARING, NULL);
	assert_int_equal(gate_apply(&ev, &later, hits, &n, &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "no_consent");

	hits[0] = hit(SHARES, CONSENT_EXTERNAL_SHARING, NULL);
	n = 1;
	assert_int_equal(gate_apply(&ev, &exact, hits, &n, &res), DECODE_OK);
	assert_int_equal(n, 1);
}

static void test_amount_comes_from_the_attribute(void **state)
{
	roster_person yes = person_with_consent(true, 0);
	decode_result res = {0};
	classify_hit hits[2];
	size_t n = 2;
	event ev = share_event("37");

	(void)state;
	hits[0] = hit(CLICKS, CONSENT_EXTERNAL_SHARING, "clicks");
	hits[1] = hit(ANY, CONSENT_NONE, NULL);
	assert_int_equal(gate_apply(&ev, &yes, hits, &n, &res), DECODE_OK);
	assert_int_equal(n, 2);
	assert_int_equal(hits[0].amount, 37);
	assert_int_equal(hits[1].amount, 1);

	ev = share_event("1000"); /* the rule's amount_max */
	hits[0] = hit(CLICKS, CONSENT_NONE, "clicks");
	n = 1;
	assert_int_equal(gate_apply(&ev, NULL, hits, &n, &res), DECODE_OK);
	assert_int_equal(hits[0].amount, 1000);
}

static void test_zero_amount_credits_nothing(void **state)
{
	decode_result res = {0};
	classify_hit hits[2];
	size_t n = 2;
	event ev = share_event("0");

	(void)state;
	hits[0] = hit(CLICKS, CONSENT_NONE, "clicks");
	hits[1] = hit(ANY, CONSENT_NONE, NULL);
	assert_int_equal(gate_apply(&ev, NULL, hits, &n, &res), DECODE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(hits[0].behaviour, ANY);

	hits[0] = hit(CLICKS, CONSENT_NONE, "clicks");
	n = 1;
	assert_int_equal(gate_apply(&ev, NULL, hits, &n, &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "zero_amount");
	assert_int_equal(n, 0);
}

static void test_invalid_amounts_reject_the_event(void **state)
{
	static const char *const bad[] = {NULL, "", "-3", "+3", "1.5", "1e3", "12a", " 12",
					  "1001", "99999999999999999999999"};
	decode_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		event ev = share_event(bad[i]);
		classify_hit hits[2] = {hit(ANY, CONSENT_NONE, NULL),
					hit(CLICKS, CONSENT_NONE, "clicks")};
		size_t n = 2;
		memset(&res, 0, sizeof(res));
		if (gate_apply(&ev, NULL, hits, &n, &res) != DECODE_INVALID)
			fail_msg("amount \"%s\" was accepted", bad[i] ? bad[i] : "(absent)");
		assert_string_equal(res.reason, "invalid_amount");
		assert_non_null(strstr(res.detail, "clicks"));
		assert_int_equal(n, 0);
	}
}

static void test_no_consent_wins_over_a_bad_amount(void **state)
{
	event ev = share_event("not a number");
	roster_person no = person_with_consent(false, 0);
	decode_result res = {0};
	classify_hit hits[1] = {hit(CLICKS, CONSENT_EXTERNAL_SHARING, "clicks")};
	size_t n = 1;

	(void)state;
	/* Nothing of a person without consent is looked at, not even for the DLQ. */
	assert_int_equal(gate_apply(&ev, &no, hits, &n, &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "no_consent");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hits_without_conditions_pass_with_amount_one),
	    cmocka_unit_test(test_consent_keeps_or_drops_the_hit),
	    cmocka_unit_test(test_no_consent_ignores_the_event),
	    cmocka_unit_test(test_consent_is_not_retroactive),
	    cmocka_unit_test(test_amount_comes_from_the_attribute),
	    cmocka_unit_test(test_zero_amount_credits_nothing),
	    cmocka_unit_test(test_invalid_amounts_reject_the_event),
	    cmocka_unit_test(test_no_consent_wins_over_a_bad_amount),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
