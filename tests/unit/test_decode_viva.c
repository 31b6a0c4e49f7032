/*
 * test_decode_viva.c - Viva Engage (Yammer) messages and community membership
 * changes to canonical events.
 *
 * Fixtures in tests/fixtures/viva/ are Yammer REST message objects and lists
 * and Graph group notifications with made-up ids and text. Every test walks
 * a message with the cursor and compares each outcome, in order, with the
 * exact expected canonical event or reason. The real-world test feeds the
 * published payloads under $ADVOCACY_REALWORLD_DIR (yammer-yam,
 * cli-microsoft365) and skips when that directory is absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode_expect.h"
#include "decode_viva.h"

#define NOW_MS 1762250000000 /* 2025-11-04T09:53:20Z, the receive time in these tests */
#define GROUP "4400000001"
#define MSG(n) "310000000000000" #n
#define USER(n) "150000000" #n
#define M365_GROUP "5f0c2b1a-0000-4c3d-8e9f-0000000000a1"
#define MEMBER(n) "2c7e1f00-0000-4a1b-8c2d-0000000000" #n

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* Walks an open message and compares every outcome with want[0..n). */
static void check_outcomes(decode_viva *d, const decode_expected *want, size_t n)
{
	event ev;
	decode_result res;
	size_t i = 0;

	for (; decode_viva_next(d, &ev, &res); i++) {
		expect_not_extra(i, n, &res);
		if (expect_outcome(i, &res, want[i].status, want[i].reason))
			expect_event(&ev, "viva", &want[i]);
	}
	assert_int_equal(i, n);
}

/* Opens text and checks its outcomes. */
static void check_text(const char *text, const decode_expected *want, size_t n)
{
	decode_result res;
	decode_viva *d = decode_viva_new();

	assert_non_null(d);
	if (decode_viva_open(d, text, strlen(text), NOW_MS, &res) != DECODE_OK)
		fail_msg("open failed: %s (%s)", res.reason, res.detail);
	check_outcomes(d, want, n);
	decode_viva_free(d);
}

/* Opens tests/fixtures/viva/name and checks its outcomes. */
static void check_fixture(const char *name, const decode_expected *want, size_t n)
{
	size_t len = 0;
	decode_result res;
	decode_viva *d = decode_viva_new();

	assert_non_null(d);
	char *buf = expect_fixture("viva", name, &len);
	if (decode_viva_open(d, buf, len, NOW_MS, &res) != DECODE_OK)
		fail_msg("%s: open failed: %s (%s)", name, res.reason, res.detail);
	free(buf); /* events borrow from the decoder, never from the input */
	check_outcomes(d, want, n);
	decode_viva_free(d);
}

/* Opens text and expects the whole message to have status and reason. */
static void check_open(const char *text, decode_status status, const char *reason)
{
	decode_result res;
	decode_viva *d = decode_viva_new();

	assert_non_null(d);
	assert_int_equal(decode_viva_open(d, text, strlen(text), NOW_MS, &res), status);
	assert_string_equal(res.reason, reason);
	decode_viva_free(d);
}

/* ----------------------------------------------------------------------------
 * Mapping of each kind
 * ------------------------------------------------------------------------- */

static const decode_expected praise = {
    .status = DECODE_OK,
    .kind = "praise_given",
    .event_id = MSG(2),
    .time_ms = 1762164127000, /* 2025/11/03 10:02:07 +0000 */
    .actor = USER(3),
    .targets = {USER(1), USER(2)},
    .content = MSG(2),
    .channel = GROUP,
    .attrs = {"channel_type=community", "message_type=update"},
};

static void test_message_list_maps_every_kind(void **state)
{
	const decode_expected want[] = {
	    {
		.status = DECODE_OK,
		.kind = "message_posted",
		.event_id = MSG(1),
		.time_ms = 1762161342000, /* 2025/11/03 09:15:42 +0000 */
		.actor = USER(1),
		.targets = {USER(2)},
		.content = MSG(1),
		.channel = GROUP,
		.attrs = {"channel_type=community", "message_type=update"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id = MSG(1) ":like",
		.time_ms = 1762161342000,
		.actor = USER(2),
		.id_person = USER(2),
		.targets = {USER(1)},
		.content = MSG(1),
		.channel = GROUP,
		.attrs = {"channel_type=community", "reaction=like"},
	    },
	    EXPECT_OUTCOME(DECODE_IGNORED, "self_reaction"),
	    praise,
	    EXPECT_OUTCOME(DECODE_IGNORED, "system_message"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "bot_message"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "direct_message"),
	    {
		.status = DECODE_OK,
		.kind = "reply_posted",
		.event_id = MSG(6),
		.time_ms = 1762169400000, /* 2025/11/03 11:30:00 +0000 */
		.actor = USER(4),
		.content = MSG(6),
		.channel = GROUP,
		.attrs = {"channel_type=community", "message_type=update", "reply_to=" MSG(1),
			  "thread_id=" MSG(1)},
	    },
	    {
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id = MSG(6) ":like",
		.time_ms = 1762169400000,
		.actor = USER(1),
		.id_person = USER(1),
		.targets = {USER(4)},
		.content = MSG(6),
		.channel = GROUP,
		.attrs = {"channel_type=community", "reaction=like"},
	    },
	};

	(void)state;
	check_fixture("message-list.json", want, sizeof(want) / sizeof(want[0]));
}

static void test_single_praise_message(void **state)
{
	(void)state;
	check_fixture("praise.json", &praise, 1);
}

static void test_message_sent_as_json_string(void **state)
{
	(void)state;
	check_fixture("string-wrapped.json", &praise, 1);
}

static void test_membership_changes(void **state)
{
	const decode_expected want[] = {
	    {
		.status = DECODE_OK,
		.kind = "community_joined",
		.event_id = M365_GROUP ":member",
		.time_ms = NOW_MS,
		.actor = MEMBER(11),
		.id_person = MEMBER(11),
		.channel = M365_GROUP,
		.attrs = {"channel_type=community"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "community_left",
		.event_id = M365_GROUP ":member",
		.time_ms = NOW_MS,
		.actor = MEMBER(12),
		.id_person = MEMBER(12),
		.channel = M365_GROUP,
		.attrs = {"channel_type=community"},
	    },
	    EXPECT_OUTCOME(DECODE_IGNORED, "lifecycle_event"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_resource"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_change"),
	};

	(void)state;
	check_fixture("membership.json", want, sizeof(want) / sizeof(want[0]));
}

/*
 * CRLF line endings, a repeated key (the last sender_id wins, as jansson
 * reads it), ids as strings and in exponent form, an ISO time with an
 * offset, 4-byte emoji in the text, and mentions that repeat or name the
 * sender.
 */
static void test_messy_message(void **state)
{
	const decode_expected want[] = {
	    {
		.status = DECODE_OK,
		.kind = "message_posted",
		.event_id = MSG(7),
		.time_ms = 1762167600250, /* 2025-11-03T12:00:00.250+01:00 */
		.actor = USER(5),
		.targets = {USER(1), USER(3)},
		.content = MSG(7),
		.channel = "4400000002",
		.attrs = {"channel_type=community", "message_type=announcement"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id = MSG(7) ":like",
		.time_ms = 1762167600250,
		.actor = USER(1),
		.id_person = USER(1),
		.targets = {USER(5)},
		.content = MSG(7),
		.channel = "4400000002",
		.attrs = {"channel_type=community", "reaction=like"},
	    },
	};

	(void)state;
	check_fixture("messy.json", want, sizeof(want) / sizeof(want[0]));
}

static void test_message_outside_a_community(void **state)
{
	const decode_expected want[] = {{
	    .status = DECODE_OK,
	    .kind = "message_posted",
	    .event_id = "77",
	    .time_ms = 1355016196000, /* 2012/12/09 01:23:16 +0000 */
	    .actor = "67",
	    .content = "77",
	    .attrs = {"channel_type=network"},
	}};

	(void)state;
	check_text("{\"id\": 77, \"sender_id\": 67, \"group_id\": null, "
		   "\"created_at\": \"2012/12/09 01:23:16 +0000\"}",
		   want, 1);
}

/* ----------------------------------------------------------------------------
 * Malformed and ignored input
 * ------------------------------------------------------------------------- */

static void test_whole_message_outcomes(void **state)
{
	(void)state;
	check_open("{\"id\": 1", DECODE_INVALID, "invalid_json");
	check_open("42", DECODE_INVALID, "not_an_object");
	check_open("\"not json inside\"", DECODE_INVALID, "not_an_object");
	check_open("{\"type\": \"user\", \"id\": 5}", DECODE_IGNORED, "unsupported_envelope");
	check_open("{\"messages\": [], \"references\": []}", DECODE_IGNORED, "empty_collection");
	check_open("[]", DECODE_IGNORED, "empty_collection");
}

static void test_oversized_message(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *big = malloc(len);
	decode_result res;
	decode_viva *d = decode_viva_new();

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	assert_int_equal(decode_viva_open(d, big, len, NOW_MS, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "oversized");
	free(big);
	decode_viva_free(d);
}

static void test_malformed_messages(void **state)
{
	const decode_expected want[] = {
	    EXPECT_OUTCOME(DECODE_INVALID, "not_an_object"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	    EXPECT_OUTCOME(DECODE_INVALID, "invalid_event_time"),
	    EXPECT_OUTCOME(DECODE_INVALID, "invalid_event_time"),
	};

	(void)state;
	check_text("[7,"
		   " {\"sender_id\": 1, \"created_at\": \"2025/11/03 09:15:42 +0000\"},"
		   " {\"id\": 2, \"sender_id\": -4, \"created_at\": 1762161342},"
		   " {\"id\": 3, \"sender_id\": 1, \"created_at\": \"yesterday\"},"
		   " {\"id\": 4, \"sender_id\": 1, \"created_at\": \"2025/02/30 09:15:42 +0000\"}]",
		   want, sizeof(want) / sizeof(want[0]));
}

static void test_like_without_user_id(void **state)
{
	const decode_expected want[] = {
	    {
		.status = DECODE_OK,
		.kind = "message_posted",
		.event_id = "5",
		.time_ms = 1762161342000,
		.actor = "1",
		.content = "5",
		.attrs = {"channel_type=network"},
	    },
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	};

	(void)state;
	check_text("{\"id\": 5, \"sender_id\": 1, \"created_at\": 1762161342,"
		   " \"liked_by\": {\"names\": [{\"full_name\": \"no id\"}]}}",
		   want, 2);
}

static void test_id_too_long(void **state)
{
	char text[1024];
	char id[300];
	const decode_expected want[] = {EXPECT_OUTCOME(DECODE_INVALID, "id_too_long")};

	(void)state;
	memset(id, '9', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"id\": \"%s\", \"sender_id\": 1, \"created_at\": 1}", id);
	check_text(text, want, 1);
}

/* ----------------------------------------------------------------------------
 * Published payloads
 * ------------------------------------------------------------------------- */

static bool check_realworld(const char *file, const decode_expected *want, size_t n)
{
	size_t len = 0;
	decode_result res;
	char *buf = expect_realworld(file, &len);
	decode_viva *d = decode_viva_new();

	assert_non_null(d);
	if (buf == NULL) {
		decode_viva_free(d);
		return false;
	}
	if (decode_viva_open(d, buf, len, NOW_MS, &res) != DECODE_OK)
		fail_msg("%s: open failed: %s (%s)", file, res.reason, res.detail);
	free(buf);
	check_outcomes(d, want, n);
	decode_viva_free(d);
	return true;
}

static void test_realworld_files(void **state)
{
	const decode_expected yam_message[] = {{
	    .status = DECODE_OK,
	    .kind = "message_posted",
	    .event_id = "5",
	    .time_ms = 1354929796000, /* 2012/12/08 01:23:16 +0000 */
	    .actor = "67",
	    .content = "5",
	    .channel = "7",
	    .attrs = {"channel_type=community", "message_type=update"},
	}};
	const decode_expected engage_message[] = {{
	    .status = DECODE_OK,
	    .kind = "message_posted",
	    .event_id = "2000337749565441",
	    .time_ms = 1668200420000, /* 2022/11/11 21:00:20 +0000 */
	    .actor = "36425097217",
	    .content = "2000337749565441",
	    .channel = "31158067201",
	    .attrs = {"channel_type=community", "message_type=update"},
	}};
	size_t fed = 0;
	size_t len = 0;
	decode_result res;

	(void)state;
	fed += check_realworld("yammer-yam/message.json", yam_message, 1);
	fed += check_realworld("cli-microsoft365/engage-message-get.response.json", engage_message,
			       1);

	/* A thread object is no message: it names its participants only. */
	char *thread = expect_realworld("yammer-yam/portal_thread.json", &len);
	if (thread != NULL) {
		decode_viva *d = decode_viva_new();
		assert_int_equal(decode_viva_open(d, thread, len, NOW_MS, &res), DECODE_IGNORED);
		assert_string_equal(res.reason, "unsupported_envelope");
		decode_viva_free(d);
		free(thread);
		fed++;
	}
	if (fed == 0)
		skip();
	assert_int_equal(fed, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_message_list_maps_every_kind),
	    cmocka_unit_test(test_single_praise_message),
	    cmocka_unit_test(test_message_sent_as_json_string),
	    cmocka_unit_test(test_membership_changes),
	    cmocka_unit_test(test_messy_message),
	    cmocka_unit_test(test_message_outside_a_community),
	    cmocka_unit_test(test_whole_message_outcomes),
	    cmocka_unit_test(test_oversized_message),
	    cmocka_unit_test(test_malformed_messages),
	    cmocka_unit_test(test_like_without_user_id),
	    cmocka_unit_test(test_id_too_long),
	    cmocka_unit_test(test_realworld_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
