/*
 * test_decode_graph.c - Microsoft Graph change notifications about Teams
 * chatMessage resources to canonical events.
 *
 * Fixtures in tests/fixtures/graph/ are notifications in Graph's format with
 * made-up ids and text; the encrypted ones were written by make-encrypted.py
 * with the TEST-ONLY key test-key.pem. Every test walks a message with the
 * cursor and compares each outcome, in order, with the exact expected
 * canonical event or reason. The real-world test feeds the published
 * payloads under $ADVOCACY_REALWORLD_DIR (msgraph-docs, msteams-docs) and
 * skips when that directory is absent.
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
#include "decode_graph.h"

#define CERT_ID "advocacyd-test-2025"
#define TEAM "5e8b2f40-1c3d-4a5b-8c6d-7e8f9a0b1c02"
#define CHANNEL "19:0f1e2d3c4b5a69788796a5b4c3d2e1f0@thread.tacv2"
#define CHAT                                                                                       \
	"19:7d0c5a1e-3b6f-4c2a-9e11-0a1b2c3d4e01_7d0c5a1e-3b6f-4c2a-9e11-0a1b2c3d4e04@unq.gbl."    \
	"spaces"
#define USER(n) "7d0c5a1e-3b6f-4c2a-9e11-0a1b2c3d4e0" #n

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static decode_graph *new_decoder(void)
{
	char path[512], err[512] = "";
	decode_graph *d = decode_graph_new();

	assert_non_null(d);
	expect_fixture_path(path, sizeof(path), "graph", "test-key.pem");
	if (decode_graph_add_key(d, CERT_ID, path, err, sizeof(err)) != 0)
		fail_msg("cannot load the test key: %s", err);
	return d;
}

/* Walks an open message and compares every outcome with want[0..n). */
static void check_outcomes(decode_graph *d, const decode_expected *want, size_t n)
{
	event ev;
	decode_result res;
	size_t i = 0;

	for (; decode_graph_next(d, &ev, &res); i++) {
		expect_not_extra(i, n, &res);
		if (expect_outcome(i, &res, want[i].status, want[i].reason))
			expect_event(&ev, "teams", &want[i]);
	}
	assert_int_equal(i, n);
}

static decode_status open_text(decode_graph *d, const char *text, decode_result *res)
{
	return decode_graph_open(d, text, strlen(text), res);
}

/* Opens tests/fixtures/graph/name and checks its outcomes. */
static void check_fixture(const char *name, const decode_expected *want, size_t n)
{
	char path[512];
	size_t len = 0;
	decode_result res;
	decode_graph *d = new_decoder();

	expect_fixture_path(path, sizeof(path), "graph", name);
	char *buf = expect_read_file(path, &len);
	if (buf == NULL)
		fail_msg("cannot read %s", path);
	if (decode_graph_open(d, buf, len, &res) != DECODE_OK)
		fail_msg("%s: open failed: %s (%s)", name, res.reason, res.detail);
	free(buf); /* events borrow from the decoder, never from the input */
	check_outcomes(d, want, n);
	decode_graph_free(d);
}

/* ----------------------------------------------------------------------------
 * Mapping of each kind
 * ------------------------------------------------------------------------- */

static const decode_expected channel_post = {
    .status = DECODE_OK,
    .kind = "message_posted",
    .event_id = CHANNEL "/1764921600123:created",
    .time_ms = 1764921600123,
    .actor = USER(1),
    .targets = {USER(2), USER(3)},
    .content = "1764921600123",
    .channel = CHANNEL,
    .attrs = {"channel_type=channel", "team_id=" TEAM},
};

static const decode_expected channel_reply = {
    .status = DECODE_OK,
    .kind = "reply_posted",
    .event_id = CHANNEL "/1764921900456:created",
    .time_ms = 1764921900456, /* 09:05:00.456+01:00 */
    .actor = USER(2),
    .content = "1764921900456",
    .channel = CHANNEL,
    .attrs = {"channel_type=channel", "team_id=" TEAM, "reply_to=1764921600123"},
};

static void test_encrypted_collection_maps_every_kind(void **state)
{
	const decode_expected want[] = {
	    channel_post,
	    channel_reply,
	    {
		.status = DECODE_OK,
		.kind = "message_edited",
		.event_id = CHAT "/1764925200789:edited:2025-12-05T09:10:00.5Z",
		.time_ms = 1764925800500,
		.actor = USER(1),
		.targets = {USER(4)},
		.content = "1764925200789",
		.channel = CHAT,
		.attrs = {"channel_type=chat"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id = CHAT "/1764925200789:reaction:" USER(4) ":like:2025-12-05T09:12:00.25Z",
		.time_ms = 1764925920250,
		.actor = USER(4),
		.targets = {USER(1)},
		.content = "1764925200789",
		.channel = CHAT,
		.attrs = {"channel_type=chat", "reaction=like"},
	    },
	    {
		/* The author's own reaction: no target. */
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id = CHAT
		"/1764925200789:reaction:" USER(1) ":\xf0\x9f\x92\xaf:2025-12-05T09:14:00Z",
		.time_ms = 1764926040000,
		.actor = USER(1),
		.content = "1764925200789",
		.channel = CHAT,
		.attrs = {"channel_type=chat", "reaction=\xf0\x9f\x92\xaf"},
	    },
	};
	(void)state;
	check_fixture("encrypted-collection.json", want, sizeof(want) / sizeof(want[0]));
}

static void test_single_deleted_notification(void **state)
{
	const decode_expected want[] = {{
	    .status = DECODE_OK,
	    .kind = "message_deleted",
	    .event_id = CHAT "/1764925200789:deleted",
	    .time_ms = 1764928800000,
	    .actor = USER(1),
	    .content = "1764925200789",
	    .channel = CHAT,
	    .attrs = {"channel_type=chat"},
	}};
	(void)state;
	check_fixture("encrypted-deleted.json", want, 1);
}

static const decode_expected enriched_post = {
    .status = DECODE_OK,
    .kind = "message_posted",
    .event_id = CHANNEL "/1764932400001:created",
    .time_ms = 1764932400001, /* 03:00:00.0010000-08:00 */
    .actor = USER(3),
    .content = "1764932400001",
    .channel = CHANNEL,
    .attrs = {"channel_type=channel", "team_id=" TEAM},
};

/* A connector that fetched the message sends it in resourceData; team and channel from the path. */
static void test_enriched_resource_data(void **state)
{
	(void)state;
	check_fixture("enriched-created.json", &enriched_post, 1);
}

/* The same notification sent as a JSON string with CRLF after it. */
static void test_string_wrapped_document(void **state)
{
	(void)state;
	check_fixture("string-wrapped.json", &enriched_post, 1);
}

static void test_ignored_notifications_by_reason(void **state)
{
	const decode_expected want[] = {
	    EXPECT_OUTCOME(DECODE_IGNORED, "bot_message"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "system_message"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_resource"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "no_resource_data"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "lifecycle_event"),
	};
	(void)state;
	check_fixture("ignored-collection.json", want, sizeof(want) / sizeof(want[0]));
}

/* ----------------------------------------------------------------------------
 * Encrypted content that must not be trusted
 * ------------------------------------------------------------------------- */

static void test_tampered_data_fails_the_signature(void **state)
{
	const decode_expected want[] = {EXPECT_OUTCOME(DECODE_INVALID, "bad_signature")};
	(void)state;
	check_fixture("tampered-data.json", want, 1);
}

static void test_valid_notification_before_a_tampered_one(void **state)
{
	const decode_expected want[] = {channel_reply,
					EXPECT_OUTCOME(DECODE_INVALID, "bad_signature")};
	(void)state;
	check_fixture("partly-tampered.json", want, 2);
}

static void test_key_and_encoding_failures(void **state)
{
	const decode_expected unknown[] = {EXPECT_OUTCOME(DECODE_INVALID, "unknown_key")};
	const decode_expected wrong[] = {EXPECT_OUTCOME(DECODE_INVALID, "bad_data_key")};
	const decode_expected base64[] = {EXPECT_OUTCOME(DECODE_INVALID, "bad_base64")};
	const decode_expected padding[] = {EXPECT_OUTCOME(DECODE_INVALID, "bad_padding")};
	(void)state;
	check_fixture("unknown-key.json", unknown, 1);
	check_fixture("wrong-key.json", wrong, 1);
	check_fixture("bad-base64.json", base64, 1);
	check_fixture("bad-padding.json", padding, 1);
}

/* Without any key, an encrypted notification names the missing key. */
static void test_decoder_without_keys(void **state)
{
	char path[512];
	size_t len = 0;
	decode_result res;
	const decode_expected want[] = {EXPECT_OUTCOME(DECODE_INVALID, "unknown_key")};
	decode_graph *d = decode_graph_new();

	(void)state;
	expect_fixture_path(path, sizeof(path), "graph", "encrypted-deleted.json");
	char *buf = expect_read_file(path, &len);
	assert_non_null(buf);
	assert_int_equal(decode_graph_open(d, buf, len, &res), DECODE_OK);
	free(buf);
	check_outcomes(d, want, 1);
	decode_graph_free(d);
}

static void test_add_key_errors(void **state)
{
	char path[512], err[512];
	char long_id[DECODE_GRAPH_MAX_CERT_ID + 2];
	decode_graph *d = decode_graph_new();

	(void)state;
	assert_int_equal(decode_graph_add_key(d, "k", "/nonexistent/key.pem", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "cannot open private key file"));

	expect_fixture_path(path, sizeof(path), "graph", "README.md");
	assert_int_equal(decode_graph_add_key(d, "k", path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no unencrypted PEM private key"));

	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	expect_fixture_path(path, sizeof(path), "graph", "test-key.pem");
	assert_int_equal(decode_graph_add_key(d, long_id, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1 to 128 characters"));
	decode_graph_free(d);
}

/* ----------------------------------------------------------------------------
 * Envelopes and malformed input
 * ------------------------------------------------------------------------- */

static void test_message_level_outcomes(void **state)
{
	decode_graph *d = decode_graph_new();
	decode_result res;
	event ev;
	static char big[1024 * 1024 + 2];

	(void)state;
	assert_int_equal(open_text(d, "{\"value\": [", &res), DECODE_INVALID);
	assert_string_equal(res.reason, "invalid_json");
	assert_int_equal(open_text(d, "[1, 2]", &res), DECODE_INVALID);
	assert_string_equal(res.reason, "not_an_object");
	assert_int_equal(open_text(d, "\"not json inside\"", &res), DECODE_INVALID);
	assert_string_equal(res.reason, "not_an_object");
	assert_int_equal(open_text(d, "{\"value\": {}}", &res), DECODE_INVALID);
	assert_string_equal(res.reason, "not_an_object");
	assert_int_equal(open_text(d, "{\"value\": []}", &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "empty_collection");
	assert_int_equal(open_text(d, "{\"validationTokens\": [\"t\"]}", &res), DECODE_IGNORED);
	assert_string_equal(res.reason, "empty_collection");
	assert_int_equal(open_text(d, "{\"id\": \"1\", \"messageType\": \"message\"}", &res),
			 DECODE_IGNORED);
	assert_string_equal(res.reason, "unsupported_envelope");
	memset(big, ' ', sizeof(big) - 1);
	assert_int_equal(open_text(d, big, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "oversized");
	/* After a failed open there is nothing to walk. */
	assert_false(decode_graph_next(d, &ev, &res));
	decode_graph_free(d);
}

/* Wraps a chatMessage as the resourceData of a channel notification. */
static void open_enriched(decode_graph *d, const char *change, const char *message)
{
	char text[4096];
	decode_result res;

	snprintf(text, sizeof(text),
		 "{\"changeType\": \"%s\", \"resource\": \"teams('" TEAM "')/channels('" CHANNEL
		 "')/messages('1')\", \"resourceData\": %s}",
		 change, message);
	if (open_text(d, text, &res) != DECODE_OK)
		fail_msg("open failed: %s (%s)", res.reason, res.detail);
}

#define FROM_USER "\"from\": {\"user\": {\"id\": \"" USER(5) "\"}}"

static void test_malformed_notifications(void **state)
{
	decode_graph *d = decode_graph_new();
	const decode_expected bad_time[] = {EXPECT_OUTCOME(DECODE_INVALID, "invalid_event_time")};
	const decode_expected no_author[] = {EXPECT_OUTCOME(DECODE_INVALID, "missing_field")};
	const decode_expected odd_change[] = {EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_change")};
	const decode_expected bad_reaction[] = {
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_change")};
	const decode_expected no_type[] = {EXPECT_OUTCOME(DECODE_INVALID, "missing_field")};

	(void)state;
	open_enriched(d, "created",
		      "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		      ", \"createdDateTime\": \"2025-13-05T08:00:00Z\"}");
	check_outcomes(d, bad_time, 1);
	open_enriched(d, "created",
		      "{\"id\": \"1\", \"messageType\": \"message\", "
		      "\"from\": {\"user\": null}, \"createdDateTime\": 1764921600}");
	check_outcomes(d, no_author, 1);
	open_enriched(d, "unknownFutureValue", "{\"id\": \"1\", \"messageType\": \"message\"}");
	check_outcomes(d, odd_change, 1);
	/* An update that is neither an edit, a deletion nor a reaction. */
	open_enriched(d, "updated",
		      "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		      ", \"reactions\": []}");
	check_outcomes(d, bad_reaction, 1);
	open_enriched(d, "updated",
		      "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		      ", \"reactions\": [{\"user\": {\"user\": {\"id\": \"u9\"}}, "
		      "\"createdDateTime\": \"2025-12-05T08:00:00Z\"}]}");
	check_outcomes(d, no_type, 1);
	decode_graph_free(d);
}

/* An event id over 256 bytes is rejected, like any other id; the message's other events stay. */
static void test_long_event_ids(void **state)
{
	decode_graph *d = decode_graph_new();
	char message[1024], long_id[251];
	event ev;
	decode_result res;

	(void)state;
	memset(long_id, 'r', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	snprintf(message, sizeof(message),
		 "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		 ", \"createdDateTime\": \"2025-12-05T08:00:00Z\", \"reactions\": "
		 "[{\"reactionType\": \"like\", \"createdDateTime\": \"2025-12-05T08:01:00Z\", "
		 "\"user\": {\"user\": {\"id\": \"%s\"}}}]}",
		 long_id);
	open_enriched(d, "created", message);
	assert_true(decode_graph_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_OK);
	assert_true(decode_graph_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_INVALID);
	assert_string_equal(res.reason, "id_too_long");
	assert_false(decode_graph_next(d, &ev, &res));

	snprintf(message, sizeof(message),
		 "{\"id\": \"%s\", \"messageType\": \"message\", " FROM_USER
		 ", \"createdDateTime\": \"2025-12-05T08:00:00Z\"}",
		 long_id);
	open_enriched(d, "created", message);
	assert_true(decode_graph_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_INVALID);
	assert_string_equal(res.reason, "id_too_long");
	decode_graph_free(d);
}

/* A day past the end of its month is invalid; February 29 only in leap years. */
static void test_impossible_dates(void **state)
{
	decode_graph *d = decode_graph_new();
	const decode_expected bad_time[] = {EXPECT_OUTCOME(DECODE_INVALID, "invalid_event_time")};
	const char *const invalid[] = {"2025-02-29T08:00:00Z", "2025-04-31T08:00:00Z",
				       "2100-02-29T08:00:00Z"};
	char message[256];
	event ev;
	decode_result res;

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		snprintf(message, sizeof(message),
			 "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
			 ", \"createdDateTime\": \"%s\"}",
			 invalid[i]);
		open_enriched(d, "created", message);
		check_outcomes(d, bad_time, 1);
	}
	open_enriched(d, "created",
		      "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		      ", \"createdDateTime\": \"2024-02-29T08:00:00Z\"}");
	assert_true(decode_graph_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_OK);
	assert_int_equal(ev.event_time_ms, 1709193600000);
	decode_graph_free(d);
}

/* Numbers in place of ISO times: seconds or milliseconds since the epoch. */
static void test_numeric_times(void **state)
{
	decode_graph *d = decode_graph_new();
	event ev;
	decode_result res;

	(void)state;
	open_enriched(d, "created",
		      "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		      ", \"createdDateTime\": 1764921600}");
	assert_true(decode_graph_next(d, &ev, &res));
	assert_int_equal(res.status, DECODE_OK);
	assert_int_equal(ev.event_time_ms, 1764921600000);
	open_enriched(d, "created",
		      "{\"id\": \"1\", \"messageType\": \"message\", " FROM_USER
		      ", \"createdDateTime\": 1.764921600123e12}");
	assert_true(decode_graph_next(d, &ev, &res));
	assert_int_equal(ev.event_time_ms, 1764921600123);
	decode_graph_free(d);
}

/* ----------------------------------------------------------------------------
 * Published payloads
 * ------------------------------------------------------------------------- */

/* The first outcome of each published file, fed as a Kafka message. */
static const struct {
	const char *file;
	decode_status status;
	const char *reason;
} realworld[] = {
    {"msgraph-docs/channel-list-messages.response.json", DECODE_IGNORED, "not_a_notification"},
    {"msgraph-docs/chatmembership-notification.decrypted-resource.json", DECODE_IGNORED,
     "unsupported_envelope"},
    {"msgraph-docs/chatmembership-notification.without-resource-data.json", DECODE_IGNORED,
     "unsupported_resource"},
    {"msgraph-docs/chatmessage-get.chat.response.json", DECODE_IGNORED, "unsupported_envelope"},
    {"msgraph-docs/chatmessage-get.custom-reactions.response.json", DECODE_IGNORED,
     "unsupported_envelope"},
    {"msgraph-docs/chatmessage-notification.decrypted-resource.json", DECODE_IGNORED,
     "unsupported_envelope"},
    {"msgraph-docs/chatmessage-notification.with-resource-data.json", DECODE_INVALID,
     "unknown_key"},
    {"msgraph-docs/chatmessage-notification.without-resource-data.json", DECODE_IGNORED,
     "no_resource_data"},
    {"msteams-docs/messageReaction.reactionsAdded.json", DECODE_IGNORED, "unsupported_envelope"},
};

/* Returns the first outcome of the message: the open's, or the first next's. */
static decode_status first_outcome(decode_graph *d, const char *buf, size_t len, decode_result *res)
{
	event ev;
	decode_status st = decode_graph_open(d, buf, len, res);

	if (st != DECODE_OK)
		return st;
	assert_true(decode_graph_next(d, &ev, res));
	while (decode_graph_next(d, &ev, &(decode_result){0}))
		; /* the rest must not crash */
	return res->status;
}

static void test_realworld_files(void **state)
{
	decode_graph *d = new_decoder();
	size_t fed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(realworld) / sizeof(realworld[0]); i++) {
		size_t len = 0;
		decode_result res;
		char *buf = expect_realworld(realworld[i].file, &len);
		if (buf == NULL)
			continue;
		decode_status st = first_outcome(d, buf, len, &res);
		free(buf);
		if (st != realworld[i].status || strcmp(res.reason, realworld[i].reason) != 0)
			fail_msg("%s: expected %s, got %s (%s)", realworld[i].file,
				 realworld[i].reason, res.reason ? res.reason : "ok", res.detail);
		fed++;
	}
	decode_graph_free(d);
	if (fed == 0)
		skip();
}

/* Published chatMessages, sent as the resourceData of a notification, map exactly. */
static void open_realworld_enriched(decode_graph *d, const char *file, const char *change)
{
	size_t len = 0;
	char *msg = expect_realworld(file, &len);
	char *text = malloc(len + 512);

	assert_non_null(msg);
	assert_non_null(text);
	msg[len] = '\0';
	snprintf(text, len + 512, "{\"changeType\": \"%s\", \"resourceData\": %s}", change, msg);
	assert_int_equal(decode_graph_open(d, text, strlen(text), &(decode_result){0}), DECODE_OK);
	free(text);
	free(msg);
}

#define REAL_CHAT                                                                                  \
	"19:8ea0e38b-efb3-4757-924a-5f94061cf8c2_97f62344-57dc-409c-88ad-c4af14158ff5@unq.gbl."    \
	"spaces"
#define REAL_GROUP "19:bcf84b15c2994a909770f7d05bc4fe16@thread.v2"

static void test_realworld_messages_as_resource_data(void **state)
{
	decode_graph *d = new_decoder();
	const decode_expected chat[] = {{
	    .status = DECODE_OK,
	    .kind = "message_posted",
	    .event_id = REAL_CHAT "/1612289992105:created",
	    .time_ms = 1612289992000,
	    .actor = "8ea0e38b-efb3-4757-924a-5f94061cf8c2",
	    .content = "1612289992105",
	    .channel = REAL_CHAT,
	    .attrs = {"channel_type=chat"},
	}};
	const decode_expected reactions[] = {
	    {
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id =
		    REAL_GROUP "/1706763669648:reaction:670374fa-3b0e-4a3b-9d33-0e1bc5ff1956"
			       ":\xf0\x9f\x92\xaf:2024-02-14T22:07:36.3Z",
		.time_ms = 1707948456300,
		.actor = "670374fa-3b0e-4a3b-9d33-0e1bc5ff1956",
		.content = "1706763669648",
		.channel = REAL_GROUP,
		.attrs = {"channel_type=chat", "reaction=\xf0\x9f\x92\xaf"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "reaction_added",
		.event_id =
		    REAL_GROUP "/1706763669648:reaction:28c10244-4bad-4fda-993c-f332faef94f0"
			       ":custom:2024-02-14T22:07:02.288Z",
		.time_ms = 1707948422288,
		.actor = "28c10244-4bad-4fda-993c-f332faef94f0",
		.targets = {"670374fa-3b0e-4a3b-9d33-0e1bc5ff1956"},
		.content = "1706763669648",
		.channel = REAL_GROUP,
		.attrs = {"channel_type=chat", "reaction=custom"},
	    },
	};

	(void)state;
	char *probe = expect_realworld(
	    "msgraph-docs/chatmessage-notification.decrypted-resource.json", &(size_t){0});
	free(probe);
	if (probe == NULL) {
		decode_graph_free(d);
		skip();
	}
	open_realworld_enriched(d, "msgraph-docs/chatmessage-notification.decrypted-resource.json",
				"created");
	check_outcomes(d, chat, 1);
	/* An update without an edit: only the reactions count. */
	open_realworld_enriched(d, "msgraph-docs/chatmessage-get.custom-reactions.response.json",
				"updated");
	check_outcomes(d, reactions, 2);
	decode_graph_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encrypted_collection_maps_every_kind),
	    cmocka_unit_test(test_single_deleted_notification),
	    cmocka_unit_test(test_enriched_resource_data),
	    cmocka_unit_test(test_string_wrapped_document),
	    cmocka_unit_test(test_ignored_notifications_by_reason),
	    cmocka_unit_test(test_tampered_data_fails_the_signature),
	    cmocka_unit_test(test_valid_notification_before_a_tampered_one),
	    cmocka_unit_test(test_key_and_encoding_failures),
	    cmocka_unit_test(test_decoder_without_keys),
	    cmocka_unit_test(test_add_key_errors),
	    cmocka_unit_test(test_message_level_outcomes),
	    cmocka_unit_test(test_malformed_notifications),
	    cmocka_unit_test(test_long_event_ids),
	    cmocka_unit_test(test_impossible_dates),
	    cmocka_unit_test(test_numeric_times),
	    cmocka_unit_test(test_realworld_files),
	    cmocka_unit_test(test_realworld_messages_as_resource_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
