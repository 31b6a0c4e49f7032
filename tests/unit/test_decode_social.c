/*
 * test_decode_social.c - social-sharing webhooks to canonical events.
 *
 * Fixtures in tests/fixtures/social/ are webhooks in the documented shape
 * (README "Social sharing") with made-up ids. Their LinkedIn parts use the
 * field names of LinkedIn's ugcPost and share statistics. Every test walks a
 * message with the cursor and compares each outcome, in order, with the
 * exact expected canonical event or reason. The real-world test wraps the
 * published LinkedIn post fragment under $ADVOCACY_REALWORLD_DIR into a
 * share and skips when that directory is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "decode_expect.h"
#include "decode_social.h"

#define SHARE_A "urn:li:share:7302215566778899001"
#define SHARE_B "urn:li:share:7302219900112233445"
#define DAY_START 1772409600000 /* 2026-03-02T00:00:00Z */
#define DAY_END 1772496000000

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* Walks the open message and compares every outcome with want[0..n). */
static void check_outcomes(decode_social *d, const decode_expected *want, size_t n)
{
	event ev;
	decode_result res;
	size_t i = 0;

	for (; decode_social_next(d, &ev, &res); i++) {
		expect_not_extra(i, n, &res);
		if (expect_outcome(i, &res, want[i].status, want[i].reason))
			expect_event(&ev, "social", &want[i]);
	}
	assert_int_equal(i, n);
}

static void open_text(decode_social *d, const char *text)
{
	decode_result res;

	if (decode_social_open(d, text, strlen(text), &res) != DECODE_OK)
		fail_msg("open failed: %s: %s", res.reason, res.detail);
}

static void open_fixture(decode_social *d, const char *name)
{
	size_t len;
	char *buf = expect_fixture("social", name, &len);
	decode_result res;

	if (decode_social_open(d, buf, len, &res) != DECODE_OK)
		fail_msg("open of %s failed: %s: %s", name, res.reason, res.detail);
	free(buf);
}

/* The only outcome of a one-object message must be the given reason. */
static void expect_one(decode_social *d, const char *text, decode_status st, const char *reason)
{
	const decode_expected want[] = {EXPECT_OUTCOME(st, reason)};

	open_text(d, text);
	check_outcomes(d, want, 1);
}

/* ----------------------------------------------------------------------------
 * Mapping
 * ------------------------------------------------------------------------- */

static void test_linkedin_share_takes_post_media_and_time(void **state)
{
	decode_social *d = decode_social_new();
	const decode_expected want[] = {{.status = DECODE_OK,
					 .kind = "content_shared_external",
					 .event_id = "linkedin/" SHARE_A ":shared",
					 .time_ms = 1772446502250,
					 .actor = "emp-20417",
					 .content = "urn:li:linkedInArticle:9081726354",
					 .attrs = {"network=linkedin"}}};

	(void)state;
	open_fixture(d, "share-created.json");
	check_outcomes(d, want, 1);
	decode_social_free(d);
}

static void test_plain_share_with_numeric_employee_id(void **state)
{
	decode_social *d = decode_social_new();
	/* created_at wins over occurred_at; the offset is +01:00. */
	const decode_expected want[] = {{.status = DECODE_OK,
					 .kind = "content_shared_external",
					 .event_id = "xing/xing-post-55120893:shared",
					 .time_ms = 1772450070125,
					 .actor = "20418",
					 .content = "cms:article:launch-2026-q1",
					 .attrs = {"network=xing"}}};

	(void)state;
	open_fixture(d, "share-created-plain.json");
	check_outcomes(d, want, 1);
	decode_social_free(d);
}

static void test_statistics_yield_clicks_and_reach(void **state)
{
	decode_social *d = decode_social_new();
	/* impressionCount is written 1.284e3; the time is the range's last millisecond. */
	const decode_expected want[] = {
	    {.status = DECODE_OK,
	     .kind = "share_clicks",
	     .event_id = "linkedin/" SHARE_A ":clicks:1772409600000-1772496000000",
	     .time_ms = DAY_END - 1,
	     .actor = "emp-20417",
	     .attrs = {"network=linkedin", "clicks=37"}},
	    {.status = DECODE_OK,
	     .kind = "share_reach",
	     .event_id = "linkedin/" SHARE_A ":reach:1772409600000-1772496000000",
	     .time_ms = DAY_END - 1,
	     .actor = "emp-20417",
	     .attrs = {"network=linkedin", "reach=1284"}},
	};

	(void)state;
	open_fixture(d, "share-statistics.json");
	check_outcomes(d, want, 2);
	decode_social_free(d);
}

static void test_deleted_share_and_string_wrapping(void **state)
{
	decode_social *d = decode_social_new();
	const decode_expected want[] = {{.status = DECODE_OK,
					 .kind = "content_share_deleted",
					 .event_id = "linkedin/" SHARE_A ":deleted",
					 .time_ms = 1772524800000,
					 .actor = "emp-20417",
					 .attrs = {"network=linkedin"}}};

	(void)state;
	open_fixture(d, "share-deleted.json");
	check_outcomes(d, want, 1);
	open_fixture(d, "string-wrapped.json");
	check_outcomes(d, want, 1);
	decode_social_free(d);
}

static void test_batch_yields_each_outcome_in_order(void **state)
{
	decode_social *d = decode_social_new();
	const decode_expected want[] = {
	    {.status = DECODE_OK,
	     .kind = "content_shared_external",
	     .event_id = "linkedin/" SHARE_B ":shared",
	     .time_ms = 1772442000000,
	     .actor = "emp-20420",
	     .content = "cms:article:launch-2026-q1",
	     .attrs = {"network=linkedin"}},
	    EXPECT_OUTCOME(DECODE_IGNORED, "not_published"),
	    /* A count sent as a string, a range as RFC 3339 times. */
	    {.status = DECODE_OK,
	     .kind = "share_clicks",
	     .event_id = "linkedin/" SHARE_B ":clicks:1772409600000-1772496000000",
	     .time_ms = DAY_END - 1,
	     .actor = "emp-20420",
	     .attrs = {"network=linkedin", "clicks=12"}},
	    EXPECT_OUTCOME(DECODE_IGNORED, "lifetime_statistics"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_event_type"),
	    /* A negative count spoils the whole report: its reach is not yielded. */
	    EXPECT_OUTCOME(DECODE_INVALID, "invalid_count"),
	};

	(void)state;
	open_fixture(d, "batch.json");
	check_outcomes(d, want, 6);
	decode_social_free(d);
}

static void test_same_report_gives_the_same_event_ids(void **state)
{
	decode_social *d = decode_social_new();
	event ev;
	decode_result res;
	char first[300];

	(void)state;
	open_fixture(d, "share-statistics.json");
	assert_true(decode_social_next(d, &ev, &res));
	snprintf(first, sizeof(first), "%.*s", (int)ev.event_id.len, ev.event_id.ptr);
	/* The delivery id differs; the event id must not. */
	open_text(d, "{\"id\":\"dlv_other\",\"type\":\"share.statistics\",\"network\":\"LINKEDIN\","
		     "\"employee_id\":\"emp-20417\",\"share\":{\"id\":\"" SHARE_A "\"},"
		     "\"timeRange\":{\"start\":1772409600,\"end\":1772496000},"
		     "\"statistics\":{\"clickCount\":38}}");
	assert_true(decode_social_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_OK);
	expect_str(ev.event_id, first, "event_id");
	decode_social_free(d);
}

/* ----------------------------------------------------------------------------
 * Rejections
 * ------------------------------------------------------------------------- */

static void expect_open(decode_social *d, const char *text, size_t len, decode_status st,
			const char *reason)
{
	decode_result res;

	assert_int_equal(decode_social_open(d, text, len, &res), st);
	assert_int_equal(res.status, st);
	assert_string_equal(res.reason, reason);
}

static void test_message_level_outcomes(void **state)
{
	decode_social *d = decode_social_new();
	size_t big = 1024 * 1024 + 1;
	char *huge = malloc(big);

	(void)state;
	assert_non_null(huge);
	memset(huge, ' ', big);
	expect_open(d, huge, big, DECODE_INVALID, "oversized");
	free(huge);
	expect_open(d, "{\"type\":", 8, DECODE_INVALID, "invalid_json");
	expect_open(d, "[1,2]", 5, DECODE_INVALID, "not_an_object");
	/* A JSON string is unwrapped once; this one holds no JSON. */
	expect_open(d, "\"not json\"", 10, DECODE_INVALID, "invalid_json");
	expect_open(d, "{\"events\":{}}", 13, DECODE_INVALID, "not_an_object");
	expect_open(d, "{\"events\":[]}", 13, DECODE_IGNORED, "empty_batch");
	expect_open(d, "{\"share\":{}}", 12, DECODE_IGNORED, "unsupported_envelope");
	decode_social_free(d);
}

#define EVENT(type, fields)                                                                        \
	"{\"type\":\"" type "\",\"network\":\"linkedin\",\"employee_id\":\"emp-1\"," fields "}"
#define SHARE(extra) "\"share\":{\"id\":\"urn:li:share:1\"" extra "}"
#define RANGE ",\"timeRange\":{\"start\":1772409600000,\"end\":1772496000000}"

static void test_malformed_events(void **state)
{
	decode_social *d = decode_social_new();
	char long_id[400];

	(void)state;
	expect_one(d, "{\"events\":[42]}", DECODE_INVALID, "not_an_object");
	expect_one(d, "{\"type\":7}", DECODE_INVALID, "missing_field");
	expect_one(d, "{\"type\":\"share.created\",\"employee_id\":\"e\"," SHARE("") "}",
		   DECODE_INVALID, "missing_field");
	expect_one(d,
		   "{\"type\":\"share.created\",\"network\":\"linked in\",\"employee_id\":\"e\","
		   SHARE("") "}",
		   DECODE_INVALID, "missing_field");
	expect_one(d, "{\"type\":\"share.created\",\"network\":\"x\"," SHARE("") "}",
		   DECODE_INVALID, "missing_field");
	expect_one(d, "{\"type\":\"share.created\",\"network\":\"x\",\"employee_id\":-4," SHARE("") "}",
		   DECODE_INVALID, "missing_field");
	expect_one(d, EVENT("share.created", "\"share\":\"urn:li:share:1\""), DECODE_INVALID,
		   "missing_field");
	expect_one(d, EVENT("share.created", "\"share\":{\"content_id\":\"c\"}"), DECODE_INVALID,
		   "missing_field");
	/* A share of no identifiable content does not count. */
	expect_one(d, EVENT("share.created", SHARE(",\"created_at\":\"2026-03-02T09:00:00Z\"")),
		   DECODE_INVALID, "missing_field");
	expect_one(d, EVENT("share.created", SHARE(",\"content_id\":\"c\"")), DECODE_INVALID,
		   "invalid_event_time");
	expect_one(d,
		   EVENT("share.created",
			 SHARE(",\"content_id\":\"c\",\"created_at\":\"2026-03-02 09:00\"")),
		   DECODE_INVALID, "invalid_event_time");
	expect_one(d, EVENT("share.deleted", SHARE("")), DECODE_INVALID, "invalid_event_time");

	snprintf(long_id, sizeof(long_id), EVENT("share.deleted", "\"share\":{\"id\":\"%0300d\"}"), 1);
	expect_one(d, long_id, DECODE_INVALID, "id_too_long");
	/* 177 bytes: the longest event id would pass 256 bytes. */
	snprintf(long_id, sizeof(long_id),
		 EVENT("share.deleted", "\"occurred_at\":1772442000,\"share\":{\"id\":\"%0177d\"}"), 1);
	expect_one(d, long_id, DECODE_INVALID, "id_too_long");
	decode_social_free(d);
}

static void test_malformed_statistics(void **state)
{
	decode_social *d = decode_social_new();

	(void)state;
	expect_one(d,
		   EVENT("share.statistics",
			 SHARE("") ",\"timeRange\":{\"start\":1772496000000,\"end\":1772409600000},"
			 "\"statistics\":{\"clickCount\":1}"),
		   DECODE_INVALID, "invalid_time_range");
	expect_one(d,
		   EVENT("share.statistics",
			 SHARE("") ",\"timeRange\":{\"start\":\"yesterday\",\"end\":1772409600000},"
			 "\"statistics\":{\"clickCount\":1}"),
		   DECODE_INVALID, "invalid_time_range");
	expect_one(d, EVENT("share.statistics", SHARE("") RANGE), DECODE_INVALID, "not_an_object");
	expect_one(d, EVENT("share.statistics", SHARE("") RANGE ",\"statistics\":[3]"),
		   DECODE_INVALID, "not_an_object");
	expect_one(d, EVENT("share.statistics", SHARE("") RANGE ",\"statistics\":{\"likeCount\":3}"),
		   DECODE_IGNORED, "no_statistics");
	expect_one(d, EVENT("share.statistics", SHARE("") RANGE ",\"statistics\":{\"clickCount\":1.5}"),
		   DECODE_INVALID, "invalid_count");
	expect_one(d,
		   EVENT("share.statistics",
			 SHARE("") RANGE ",\"statistics\":{\"impressionCount\":1000000001}"),
		   DECODE_INVALID, "invalid_count");
	expect_one(d,
		   EVENT("share.statistics", SHARE("") RANGE ",\"statistics\":{\"clickCount\":\"12a\"}"),
		   DECODE_INVALID, "invalid_count");
	expect_one(d,
		   EVENT("share.statistics", SHARE("") RANGE ",\"statistics\":{\"clickCount\":true}"),
		   DECODE_INVALID, "invalid_count");
	decode_social_free(d);
}

/* The longest share id and network, with the longest suffix, give a 256-byte event id. */
static void test_longest_ids_fit_the_event_id(void **state)
{
	decode_social *d = decode_social_new();
	char msg[1024], share[200], network[40];
	event ev;
	decode_result res;

	(void)state;
	memset(share, 's', 176);
	share[176] = '\0';
	memset(network, 'n', 32);
	network[32] = '\0';
	snprintf(msg, sizeof(msg),
		 "{\"type\":\"share.statistics\",\"network\":\"%s\",\"employee_id\":\"e\","
		 "\"share\":{\"id\":\"%s\"},\"timeRange\":{\"start\":1000000000000001,"
		 "\"end\":9100000000000000},\"statistics\":{\"clickCount\":1}}",
		 network, share);
	open_text(d, msg);
	assert_true(decode_social_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_OK);
	assert_true(ev.event_id.len <= 256);
	assert_int_equal(ev.event_id.len, 32 + 1 + 176 + 8 + 16 + 1 + 16);
	decode_social_free(d);
}

static void test_zero_and_largest_counts_are_events(void **state)
{
	decode_social *d = decode_social_new();
	const decode_expected want[] = {
	    {.status = DECODE_OK,
	     .kind = "share_clicks",
	     .event_id = "linkedin/urn:li:share:1:clicks:1772409600000-1772496000000",
	     .time_ms = DAY_END - 1,
	     .actor = "emp-1",
	     .attrs = {"network=linkedin", "clicks=0"}},
	    {.status = DECODE_OK,
	     .kind = "share_reach",
	     .event_id = "linkedin/urn:li:share:1:reach:1772409600000-1772496000000",
	     .time_ms = DAY_END - 1,
	     .actor = "emp-1",
	     .attrs = {"network=linkedin", "reach=1000000000"}},
	};

	(void)state;
	open_text(d, EVENT("share.statistics",
			   SHARE("") RANGE
			   ",\"statistics\":{\"clickCount\":0,\"impressionCount\":1e9}"));
	check_outcomes(d, want, 2);
	decode_social_free(d);
}

/* ----------------------------------------------------------------------------
 * Published payloads
 * ------------------------------------------------------------------------- */

/*
 * LinkedIn's documentation publishes only the specificContent of an article
 * post. Alone it is no event; put into a share's post, its media URN is the
 * content id.
 */
static void test_realworld_linkedin_post(void **state)
{
	const char *name = "linkedin-docs/ugcpost-linkedin-article.specificContent.json";
	decode_social *d = decode_social_new();
	decode_result res;
	size_t len = 0;
	char *raw = expect_realworld(name, &len);

	(void)state;
	if (raw == NULL) {
		decode_social_free(d);
		skip();
	}
	assert_int_equal(decode_social_open(d, raw, len, &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "unsupported_envelope");

	json_error_t error;
	json_t *post = json_loadb(raw, len, 0, &error);
	assert_non_null(post);
	json_object_set_new(post, "lifecycleState", json_string("PUBLISHED"));
	json_t *share = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:o}}", "type", "share.created",
				  "network", "linkedin", "employee_id", "emp-30001", "occurred_at",
				  "2026-03-02T08:00:00Z", "share", "id", "urn:li:share:1",
				  "created_at", "2026-03-02T07:59:00Z", "post", post);
	char *text = json_dumps(share, 0);
	const decode_expected want[] = {{.status = DECODE_OK,
					 .kind = "content_shared_external",
					 .event_id = "linkedin/urn:li:share:1:shared",
					 .time_ms = 1772438340000,
					 .actor = "emp-30001",
					 .content = "urn:li:linkedInArticle:123456789",
					 .attrs = {"network=linkedin"}}};
	open_text(d, text);
	check_outcomes(d, want, 1);

	free(text);
	json_decref(share);
	free(raw);
	decode_social_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_linkedin_share_takes_post_media_and_time),
	    cmocka_unit_test(test_plain_share_with_numeric_employee_id),
	    cmocka_unit_test(test_statistics_yield_clicks_and_reach),
	    cmocka_unit_test(test_deleted_share_and_string_wrapping),
	    cmocka_unit_test(test_batch_yields_each_outcome_in_order),
	    cmocka_unit_test(test_same_report_gives_the_same_event_ids),
	    cmocka_unit_test(test_message_level_outcomes),
	    cmocka_unit_test(test_malformed_events),
	    cmocka_unit_test(test_malformed_statistics),
	    cmocka_unit_test(test_zero_and_largest_counts_are_events),
	    cmocka_unit_test(test_longest_ids_fit_the_event_id),
	    cmocka_unit_test(test_realworld_linkedin_post),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
