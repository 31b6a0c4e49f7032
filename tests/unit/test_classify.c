/*
 * test_classify.c - rules matched against events, with a config built here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "classify.h"

enum { PEER_RECOGNITION, KUDOS, CONTENT, AMPLIFICATION, CLICKS, N_BEHAVIOURS };

static char *reaction_added[] = {"reaction_added"};
static char *reaction_removed[] = {"reaction_removed"};
static char *celebrations[] = {"tada", "clap"};
static char *message_posted[] = {"message_posted"};
static char *kudos_channels[] = {"C_KUDOS", "C_THANKS"};
static char *content_kinds[] = {"message_posted", "file_shared", "message_posted"};
static char *slack_only[] = {"slack"};
static char *share_kinds[] = {"share_external"};
static char *click_kinds[] = {"share_clicks"};

static config_rule peer_rules[] = {
    {.kinds = reaction_added,
     .n_kinds = 1,
     .reactions = celebrations,
     .n_reactions = 2,
     .credit = CREDIT_TARGETS,
     .effect = +1},
    {.kinds = reaction_removed,
     .n_kinds = 1,
     .reactions = celebrations,
     .n_reactions = 2,
     .credit = CREDIT_TARGETS,
     .effect = -1},
};
static config_rule kudos_rules[] = {
    {.kinds = message_posted,
     .n_kinds = 1,
     .channels = kudos_channels,
     .n_channels = 2,
     .requires_targets = true,
     .credit = CREDIT_TARGETS,
     .effect = +1},
};
/* message_posted is listed twice on purpose: it must still yield one hit. */
static config_rule content_rules[] = {
    {.kinds = content_kinds,
     .n_kinds = 3,
     .sources = slack_only,
     .n_sources = 1,
     .credit = CREDIT_ACTOR,
     .effect = +1},
};
static config_rule share_rules[] = {
    {.kinds = share_kinds, .n_kinds = 1, .credit = CREDIT_ACTOR, .effect = +1},
};

static config_rule click_rules[] = {
    {.kinds = click_kinds,
     .n_kinds = 1,
     .credit = CREDIT_ACTOR,
     .effect = +1,
     .requires_consent = CONSENT_EXTERNAL_SHARING,
     .amount_attribute = "clicks",
     .amount_max = 5000},
};

static config_behaviour behaviours[N_BEHAVIOURS] = {
    [PEER_RECOGNITION] = {.id = "peer_recognition", .rules = peer_rules, .n_rules = 2},
    [KUDOS] = {.id = "kudos", .rules = kudos_rules, .n_rules = 1},
    [CONTENT] = {.id = "content_contribution", .rules = content_rules, .n_rules = 1},
    [AMPLIFICATION] = {.id = "amplification", .rules = share_rules, .n_rules = 1},
    [CLICKS] = {.id = "share_clicks", .rules = click_rules, .n_rules = 1},
};

static config test_config = {.behaviours = behaviours, .n_behaviours = N_BEHAVIOURS};

static event_str str(const char *s)
{
	return (event_str){s, s ? strlen(s) : 0};
}

static event make_event(const char *source, const char *kind, const char *channel,
			const char *reaction, size_t n_targets)
{
	event ev;
	memset(&ev, 0, sizeof(ev));
	ev.source = str(source);
	ev.kind = str(kind);
	ev.channel_id = str(channel);
	ev.actor_id = str("U1");
	for (size_t i = 0; i < n_targets; i++)
		ev.target_ids[i] = str("U2");
	ev.target_count = n_targets;
	if (reaction) {
		ev.attrs[0] = (event_attr){str("other"), str("x")};
		ev.attrs[1] = (event_attr){str("reaction"), str(reaction)};
		ev.attr_count = 2;
	}
	return ev;
}

static int setup(void **state)
{
	classifier *c = classify_new(&test_config);
	*state = c;
	return c ? 0 : -1;
}

static int teardown(void **state)
{
	classify_free(*state);
	return 0;
}

/* What the rule asks of the credit travels with the hit; gate.h checks it. */
static void hit_carries_consent_and_amount(void **state)
{
	classify_hit hits[4];
	event ev = make_event("social", "share_clicks", NULL, NULL, 0);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, CLICKS);
	assert_int_equal(hits[0].consent, CONSENT_EXTERNAL_SHARING);
	assert_string_equal(hits[0].amount_attribute, "clicks");
	assert_int_equal(hits[0].amount_max, 5000);
	assert_int_equal(hits[0].amount, 1);

	ev = make_event(NULL, "share_external", NULL, NULL, 0);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].consent, CONSENT_NONE);
	assert_null(hits[0].amount_attribute);
	assert_int_equal(hits[0].amount, 1);
}

static void unknown_kind_matches_nothing(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "channel_joined", NULL, NULL, 0);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);
	ev.kind = str("");
	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);
}

static void kind_must_match_exactly(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "message_posted_x", NULL, NULL, 0);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);

	ev.kind = (event_str){"message_posted", 13}; /* "message_poste" */
	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);

	/* Borrowed strings need not be NUL-terminated. */
	ev.kind = (event_str){"message_posted_x", 14};
	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
}

static void reaction_filter(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "reaction_added", "C1", "tada", 1);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, PEER_RECOGNITION);
	assert_int_equal(hits[0].credit, CREDIT_TARGETS);
	assert_int_equal(hits[0].effect, +1);

	ev = make_event("slack", "reaction_added", "C1", "clap", 1);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);

	ev = make_event("slack", "reaction_added", "C1", "thumbsup", 1);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);

	ev = make_event("slack", "reaction_added", "C1", NULL, 1);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);
}

static void removal_retracts(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "reaction_removed", "C1", "tada", 1);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, PEER_RECOGNITION);
	assert_int_equal(hits[0].effect, -1);
}

static void one_event_several_behaviours(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "message_posted", "C_THANKS", NULL, 2);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 2);
	assert_int_equal(hits[0].behaviour, KUDOS);
	assert_int_equal(hits[0].credit, CREDIT_TARGETS);
	assert_int_equal(hits[1].behaviour, CONTENT);
	assert_int_equal(hits[1].credit, CREDIT_ACTOR);
	assert_int_equal(hits[1].effect, +1);
}

static void requires_targets(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "message_posted", "C_KUDOS", NULL, 0);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, CONTENT);
}

static void channel_filter(void **state)
{
	classify_hit hits[4];
	event ev = make_event("slack", "message_posted", "C_RANDOM", NULL, 1);

	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, CONTENT);

	ev = make_event("slack", "message_posted", NULL, NULL, 1);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, CONTENT);
}

static void source_filter(void **state)
{
	classify_hit hits[4];
	event ev = make_event("canonical", "file_shared", NULL, NULL, 0);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 0);

	ev = make_event("slack", "file_shared", NULL, NULL, 0);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, CONTENT);

	/* No source filter: any source, even an absent one. */
	ev = make_event(NULL, "share_external", NULL, NULL, 0);
	assert_int_equal(classify_event(*state, &ev, hits, 4), 1);
	assert_int_equal(hits[0].behaviour, AMPLIFICATION);
}

static void count_exceeds_max_hits(void **state)
{
	classify_hit hits[1] = {{0}};
	event ev = make_event("slack", "message_posted", "C_KUDOS", NULL, 1);

	assert_int_equal(classify_event(*state, &ev, hits, 1), 2);
	assert_int_equal(hits[0].behaviour, KUDOS);
	assert_int_equal(classify_event(*state, &ev, NULL, 0), 2);
}

static void empty_config(void **state)
{
	config empty = {0};
	classify_hit hits[1];
	event ev = make_event("slack", "message_posted", NULL, NULL, 0);

	classifier *c = classify_new(&empty);
	assert_non_null(c);
	assert_int_equal(classify_event(c, &ev, hits, 1), 0);
	classify_free(c);
	classify_free(NULL);
}

/* Prints ns per classified event; asserts nothing about speed. */
static void classify_timing_report(void **state)
{
	enum { N = 200000 };
	classify_hit hits[4];
	event evs[3] = {
	    make_event("slack", "message_posted", "C_KUDOS", NULL, 1),
	    make_event("slack", "reaction_added", "C1", "clap", 1),
	    make_event("slack", "channel_joined", NULL, NULL, 0),
	};
	struct timespec t0, t1;
	size_t total = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++)
		total += classify_event(*state, &evs[i % 3], hits, 4);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	print_message("classify: %.0f ns per event\n", ns / N);
	assert_true(total > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hit_carries_consent_and_amount),
	    cmocka_unit_test(unknown_kind_matches_nothing),
	    cmocka_unit_test(kind_must_match_exactly),
	    cmocka_unit_test(reaction_filter),
	    cmocka_unit_test(removal_retracts),
	    cmocka_unit_test(one_event_several_behaviours),
	    cmocka_unit_test(requires_targets),
	    cmocka_unit_test(channel_filter),
	    cmocka_unit_test(source_filter),
	    cmocka_unit_test(count_exceeds_max_hits),
	    cmocka_unit_test(empty_config),
	    cmocka_unit_test(classify_timing_report),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
