/*
 * test_decode_slack.c - Slack Events API payloads to canonical events.
 *
 * Fixtures in tests/fixtures/slack/ are payloads in Slack's formats with
 * made-up ids and text. The real-world test walks the published payloads
 * under $ADVOCACY_REALWORLD_DIR (folders whose name contains "slack") and
 * skips when that directory is absent.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>

#include "decode_expect.h"
#include "decode_slack.h"

#define MAX_REALWORLD_FILES 256

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* Decodes tests/fixtures/slack/name; the event borrows from d only. */
static decode_status decode_fixture(decode_slack *d, const char *name, event *ev,
				    decode_result *res)
{
	size_t len = 0;
	char *buf = expect_fixture("slack", name, &len);

	decode_status st = decode_slack_message(d, buf, len, ev, res);
	free(buf);
	return st;
}

static decode_status decode_text(decode_slack *d, const char *json, event *ev, decode_result *res)
{
	return decode_slack_message(d, json, strlen(json), ev, res);
}

/* Decodes a fixture that must map, and checks the fields every event has. */
static void decode_ok(decode_slack *d, const char *name, event *ev)
{
	decode_result res;

	decode_status st = decode_fixture(d, name, ev, &res);
	if (st != DECODE_OK)
		fail_msg("%s: status %d, reason %s", name, st, res.reason ? res.reason : "(null)");
	assert_int_equal(res.status, DECODE_OK);
	assert_null(res.reason);
	expect_str(ev->source, "slack", "source");

	/* Ids never hold message text: no event string contains a space. */
	assert_null(memchr(ev->actor_id.ptr ? ev->actor_id.ptr : "", ' ', ev->actor_id.len));
	for (size_t i = 0; i < ev->target_count; i++)
		assert_null(memchr(ev->target_ids[i].ptr, ' ', ev->target_ids[i].len));
	for (size_t i = 0; i < ev->attr_count; i++)
		assert_null(memchr(ev->attrs[i].value.ptr, ' ', ev->attrs[i].value.len));
}

static void assert_outcome(decode_status st, const decode_result *res, decode_status expected,
			   const char *reason)
{
	assert_int_equal(st, expected);
	assert_int_equal(res->status, expected);
	assert_non_null(res->reason);
	assert_string_equal(res->reason, reason);
	assert_true(strlen(res->detail) > 0);
}

static void fixture_outcome(const char *name, decode_status expected, const char *reason)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	assert_outcome(decode_fixture(d, name, &ev, &res), &res, expected, reason);
	decode_slack_free(d);
}

static void text_outcome(const char *json, decode_status expected, const char *reason)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	assert_outcome(decode_text(d, json, &ev, &res), &res, expected, reason);
	decode_slack_free(d);
}

/* ----------------------------------------------------------------------------
 * Mapped events
 * ------------------------------------------------------------------------- */

static void slack_message_posted(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "message_posted.json", &ev);
	expect_str(ev.event_id, "Ev0FIXTURE01", "event_id");
	assert_int_equal(ev.event_time_ms, 1714560000000);
	expect_str(ev.kind, "message_posted", "kind");
	expect_str(ev.actor_id, "U0AUTHOR01", "actor_id");
	expect_str(ev.channel_id, "C0LAUNCH01", "channel_id");
	expect_str(ev.content_id, "1714560000.000100", "content_id");

	/* Text mentions first, then block-only ones; no author, no duplicates. */
	assert_int_equal(ev.target_count, 3);
	expect_str(ev.target_ids[0], "U0TEAM0002", "target_ids[0]");
	expect_str(ev.target_ids[1], "W0TEAM0003", "target_ids[1]");
	expect_str(ev.target_ids[2], "U0TEAM0004", "target_ids[2]");

	assert_int_equal(ev.attr_count, 1);
	expect_str(event_attr_get(&ev, "channel_type"), "channel", "attribute channel_type");
	decode_slack_free(d);
}

static void slack_reply_posted(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "reply_posted.json", &ev);
	expect_str(ev.kind, "reply_posted", "kind");
	expect_str(ev.actor_id, "U0TEAM0002", "actor_id");
	expect_str(ev.content_id, "1714560123.456789", "content_id");
	assert_int_equal(ev.target_count, 1);
	expect_str(ev.target_ids[0], "U0AUTHOR01", "target_ids[0]");
	expect_str(event_attr_get(&ev, "thread_ts"), "1714560000.000100", "attribute thread_ts");
	expect_str(event_attr_get(&ev, "channel_type"), "channel", "attribute channel_type");

	/* No envelope event_time: the time comes from event_ts, with milliseconds. */
	assert_int_equal(ev.event_time_ms, 1714560123456);
	decode_slack_free(d);
}

static void slack_thread_broadcast(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "thread_broadcast.json", &ev);
	expect_str(ev.kind, "reply_posted", "kind");
	expect_str(ev.actor_id, "U0TEAM0004", "actor_id");
	assert_int_equal(ev.target_count, 0);
	expect_str(event_attr_get(&ev, "thread_ts"), "1714560000.000100", "attribute thread_ts");
	decode_slack_free(d);
}

/* A thread parent carries thread_ts equal to its own ts: not a reply. */
static void slack_thread_parent_is_post(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	assert_int_equal(decode_text(d,
				     "{\"type\":\"message\",\"user\":\"U1\",\"channel\":\"C1\","
				     "\"ts\":\"1714560000.000100\","
				     "\"thread_ts\":\"1714560000.000100\"}",
				     &ev, &res),
			 DECODE_OK);
	expect_str(ev.kind, "message_posted", "kind");
	assert_int_equal(event_attr_get(&ev, "thread_ts").len, 0);
	decode_slack_free(d);
}

static void slack_message_file_share(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "message_file_share.json", &ev);
	expect_str(ev.kind, "message_posted", "kind");
	expect_str(ev.actor_id, "U0AUTHOR01", "actor_id");
	expect_str(ev.channel_id, "D0DIRECT01", "channel_id");
	expect_str(ev.content_id, "1714560300.000400", "content_id");
	assert_int_equal(ev.event_time_ms, 1714560300000);
	assert_int_equal(ev.target_count, 0);
	assert_int_equal(ev.attr_count, 2);
	expect_str(event_attr_get(&ev, "channel_type"), "im", "attribute channel_type");
	expect_str(event_attr_get(&ev, "has_files"), "true", "attribute has_files");
	decode_slack_free(d);
}

static void slack_message_edited(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "message_edited.json", &ev);
	expect_str(ev.event_id, "Ev0FIXTURE05", "event_id");
	expect_str(ev.kind, "message_edited", "kind");
	expect_str(ev.actor_id, "U0AUTHOR01", "actor_id");
	expect_str(ev.channel_id, "C0LAUNCH01", "channel_id");
	expect_str(ev.content_id, "1714560000.000100", "content_id");
	assert_int_equal(ev.event_time_ms, 1714560400000);
	assert_int_equal(ev.target_count, 2);
	expect_str(ev.target_ids[0], "U0TEAM0002", "target_ids[0]");
	expect_str(ev.target_ids[1], "U0TEAM0005", "target_ids[1]");
	expect_str(event_attr_get(&ev, "channel_type"), "channel", "attribute channel_type");
	decode_slack_free(d);
}

static void slack_message_deleted(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "message_deleted.json", &ev);
	expect_str(ev.kind, "message_deleted", "kind");
	expect_str(ev.actor_id, "U0TEAM0002", "actor_id");
	expect_str(ev.channel_id, "C0LAUNCH01", "channel_id");
	expect_str(ev.content_id, "1714560600.000800", "content_id");
	assert_int_equal(ev.event_time_ms, 1714560660000);
	assert_int_equal(ev.target_count, 0);
	decode_slack_free(d);
}

static void slack_reaction_added(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "reaction_added.json", &ev);
	expect_str(ev.event_id, "Ev0FIXTURE08", "event_id");
	expect_str(ev.kind, "reaction_added", "kind");
	expect_str(ev.actor_id, "U0TEAM0002", "actor_id");
	assert_int_equal(ev.target_count, 1);
	expect_str(ev.target_ids[0], "U0AUTHOR01", "target_ids[0]");
	expect_str(ev.channel_id, "C0LAUNCH01", "channel_id");
	expect_str(ev.content_id, "1714560000.000100", "content_id");
	assert_int_equal(ev.event_time_ms, 1714560700000);
	assert_int_equal(ev.attr_count, 1);
	expect_str(event_attr_get(&ev, "reaction"), "tada", "attribute reaction");
	decode_slack_free(d);
}

/* A reaction to one's own message has no target. */
static void slack_reaction_removed_self(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "reaction_removed.json", &ev);
	expect_str(ev.kind, "reaction_removed", "kind");
	expect_str(ev.actor_id, "U0AUTHOR01", "actor_id");
	assert_int_equal(ev.target_count, 0);
	expect_str(event_attr_get(&ev, "reaction"), "thumbsup::skin-tone-3", "attribute reaction");
	decode_slack_free(d);
}

static void slack_file_shared(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "file_shared.json", &ev);
	expect_str(ev.kind, "file_shared", "kind");
	expect_str(ev.actor_id, "U0AUTHOR01", "actor_id");
	expect_str(ev.channel_id, "C0LAUNCH01", "channel_id");
	expect_str(ev.content_id, "F0DRAFT001", "content_id");
	assert_int_equal(ev.event_time_ms, 1714560900000);
	assert_int_equal(ev.target_count, 0);
	assert_int_equal(ev.attr_count, 0);
	decode_slack_free(d);
}

static void slack_member_joined_channel(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "member_joined_channel.json", &ev);
	expect_str(ev.kind, "channel_joined", "kind");
	expect_str(ev.actor_id, "U0NEWHIRE1", "actor_id");
	expect_str(ev.channel_id, "C0LAUNCH01", "channel_id");
	assert_int_equal(ev.content_id.len, 0);
	assert_int_equal(ev.target_count, 0);
	assert_int_equal(ev.event_time_ms, 1714561000000);
	expect_str(event_attr_get(&ev, "channel_type"), "C", "attribute channel_type");
	decode_slack_free(d);
}

static void slack_bare_message(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "bare_message.json", &ev);
	expect_str(ev.event_id, "slack:C0LAUNCH01:1714561300.001600", "event_id");
	assert_int_equal(ev.event_time_ms, 1714561300001);
	expect_str(ev.kind, "message_posted", "kind");
	expect_str(ev.actor_id, "U0AUTHOR01", "actor_id");
	assert_int_equal(ev.target_count, 1);
	expect_str(ev.target_ids[0], "U0NEWHIRE1", "target_ids[0]");
	decode_slack_free(d);
}

static void slack_bare_reaction(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;

	decode_ok(d, "bare_reaction.json", &ev);
	expect_str(ev.event_id, "slack:C0LAUNCH01:1714561400.001700", "event_id");
	assert_int_equal(ev.event_time_ms, 1714561400001);
	expect_str(ev.kind, "reaction_added", "kind");
	expect_str(ev.target_ids[0], "U0AUTHOR01", "target_ids[0]");
	decode_slack_free(d);
}

/* ----------------------------------------------------------------------------
 * Mentions and timestamps
 * ------------------------------------------------------------------------- */

static void slack_mention_forms(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	/* Channels, specials, lowercase and unterminated mentions are not users. */
	const char *json = "{\"type\":\"message\",\"user\":\"U0A\",\"channel\":\"C1\","
			   "\"ts\":\"1714560000.1\",\"text\":\"<@U0B> <@W0C|carla> <@C0D> "
			   "<!here> <@u0e> <@> <@U0F <@U0G>\"}";
	assert_int_equal(decode_text(d, json, &ev, &res), DECODE_OK);
	assert_int_equal(ev.target_count, 3);
	expect_str(ev.target_ids[0], "U0B", "target_ids[0]");
	expect_str(ev.target_ids[1], "W0C", "target_ids[1]");
	expect_str(ev.target_ids[2], "U0G", "target_ids[2]");
	decode_slack_free(d);
}

static void slack_mentions_capped(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;
	char json[2048];
	int n = snprintf(json, sizeof(json),
			 "{\"type\":\"message\",\"user\":\"U0A\","
			 "\"channel\":\"C1\",\"ts\":\"1714560000.1\","
			 "\"text\":\"");

	for (int i = 0; i < EVENT_MAX_TARGETS + 4; i++)
		n += snprintf(json + n, sizeof(json) - (size_t)n, "<@U%03d> ", i);
	snprintf(json + n, sizeof(json) - (size_t)n, "\"}");

	assert_int_equal(decode_text(d, json, &ev, &res), DECODE_OK);
	assert_int_equal(ev.target_count, EVENT_MAX_TARGETS);
	expect_str(ev.target_ids[EVENT_MAX_TARGETS - 1], "U015",
		   "target_ids[EVENT_MAX_TARGETS - 1]");
	decode_slack_free(d);
}

static void slack_time_sources(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	/* A ts without fraction. */
	assert_int_equal(decode_text(d,
				     "{\"type\":\"message\",\"user\":\"U1\",\"channel\":\"C1\","
				     "\"ts\":\"1714560000\"}",
				     &ev, &res),
			 DECODE_OK);
	assert_int_equal(ev.event_time_ms, 1714560000000);

	/* A short fraction. */
	assert_int_equal(decode_text(d,
				     "{\"type\":\"message\",\"user\":\"U1\",\"channel\":\"C1\","
				     "\"ts\":\"1714560000.5\"}",
				     &ev, &res),
			 DECODE_OK);
	assert_int_equal(ev.event_time_ms, 1714560000500);

	/* An envelope event_time of 0 is ignored in favour of the inner ts. */
	assert_int_equal(decode_text(d,
				     "{\"type\":\"event_callback\",\"event_id\":\"Ev1\","
				     "\"event_time\":0,\"event\":{\"type\":\"message\","
				     "\"user\":\"U1\",\"channel\":\"C1\","
				     "\"ts\":\"1714560000.250\"}}",
				     &ev, &res),
			 DECODE_OK);
	assert_int_equal(ev.event_time_ms, 1714560000250);
	decode_slack_free(d);
}

/* ----------------------------------------------------------------------------
 * Ignored input, one per reason
 * ------------------------------------------------------------------------- */

static void slack_ignores_url_verification(void **state)
{
	fixture_outcome("url_verification.json", DECODE_IGNORED, "url_verification");
}

static void slack_ignores_unsupported_envelope(void **state)
{
	text_outcome("{\"type\":\"block_actions\",\"user\":{\"id\":\"U1\"}}", DECODE_IGNORED,
		     "unsupported_envelope");
	text_outcome("{}", DECODE_IGNORED, "unsupported_envelope");
}

static void slack_ignores_unsupported_event_type(void **state)
{
	fixture_outcome("app_mention.json", DECODE_IGNORED, "unsupported_event_type");
}

static void slack_ignores_bots(void **state)
{
	fixture_outcome("bot_message.json", DECODE_IGNORED, "bot_message");
	fixture_outcome("app_message.json", DECODE_IGNORED, "bot_message");
}

static void slack_ignores_system_messages(void **state)
{
	fixture_outcome("channel_join.json", DECODE_IGNORED, "system_message");
	fixture_outcome("message_unfurl.json", DECODE_IGNORED, "system_message");
	text_outcome("{\"type\":\"message\",\"subtype\":\"channel_topic\",\"user\":\"U1\","
		     "\"channel\":\"C1\",\"ts\":\"1714560000.1\"}",
		     DECODE_IGNORED, "system_message");
}

static void slack_ignores_unsupported_subtype(void **state)
{
	text_outcome("{\"type\":\"message\",\"subtype\":\"some_future_subtype\",\"user\":\"U1\","
		     "\"channel\":\"C1\",\"ts\":\"1714560000.1\"}",
		     DECODE_IGNORED, "unsupported_subtype");
	fixture_outcome("reaction_on_file.json", DECODE_IGNORED, "unsupported_subtype");
}

/* ----------------------------------------------------------------------------
 * Invalid input, one per reason
 * ------------------------------------------------------------------------- */

/* jansson's error text quotes the input; the detail must not. */
static void slack_rejects_invalid_json(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	assert_outcome(decode_text(d, "{\"type\": PRIVATEWORD", &ev, &res), &res, DECODE_INVALID,
		       "invalid_json");
	assert_null(strstr(res.detail, "PRIVATE"));
	assert_outcome(decode_text(d, "", &ev, &res), &res, DECODE_INVALID, "invalid_json");
	assert_outcome(decode_text(d, "{\"a\":\"\\u0000\"}", &ev, &res), &res, DECODE_INVALID,
		       "invalid_json");
	decode_slack_free(d);
}

/*
 * Input that jansson rejects but cJSON would accept, or decode to a
 * truncated string, stays invalid_json.
 */
static void slack_rejects_what_jansson_rejects(void **state)
{
	static const char *const invalid[] = {
	    "{\"text\":\"caf\xc3\"}",	       /* truncated UTF-8 sequence */
	    "{\"text\":\"\xc0\xaf\"}",	       /* overlong form of '/' */
	    "{\"text\":\"\xed\xa0\x80\"}",     /* UTF-16 surrogate in UTF-8 */
	    "{\"text\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
	    "{\"te\xffxt\":\"a\"}",	       /* invalid byte in a key */
	    "{\"text\":\"a\\u0000b\"}",	       /* NUL escape, which cJSON truncates at */
	    "{\"a\\u0000\":1}",		       /* NUL escape in a key */
	    "{\"text\":\"\\uZZZZ\"}",	       /* bad hex digits, which cJSON reads as NUL */
	    "{\"text\":\"a\tb\"}",	       /* raw control character in a string */
	    "{\"a\":01}",		       /* leading zero */
	    "{\"a\":1.}",		       /* fraction without digits */
	    "{\"a\":-.5}",		       /* no digit before the point */
	    "{\"a\":1e}",		       /* exponent without digits */
	    "{\"a\":9223372036854775808}",     /* integer beyond int64 */
	    "{\"a\":-9223372036854775809}",    /* integer below int64 */
	    "{\"a\":1e400}",		       /* real beyond double */
	    "{\"a\":\f1}",		       /* form feed is no JSON whitespace */
	    "\xef\xbb\xbf{}",		       /* UTF-8 byte order mark */
	    "{} x",			       /* content after the document */
	};
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		decode_status st = decode_text(d, invalid[i], &ev, &res);
		if (st != DECODE_INVALID || strcmp(res.reason, "invalid_json") != 0)
			fail_msg("case %zu: status %d, reason %s", i, st,
				 res.reason ? res.reason : "(null)");
	}

	/* The limits themselves still parse: valid UTF-8, int64 extremes, a tiny real. */
	text_outcome("{\"text\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \\ud83d\\ude00\","
		     "\"a\":9223372036854775807,\"b\":-9223372036854775808,\"c\":1e-400}",
		     DECODE_IGNORED, "unsupported_envelope");
	decode_slack_free(d);
}

/* A key given twice yields its last value, as jansson's json_object_get did. */
static void slack_duplicate_keys_last_wins(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	assert_int_equal(decode_text(d,
				     "{\"type\":\"url_verification\",\"type\":\"event_callback\","
				     "\"event_id\":\"Ev1\",\"event_id\":\"Ev2\","
				     "\"event_time\":1714560000,\"event\":{\"type\":\"message\","
				     "\"user\":\"U1\",\"user\":\"U2\",\"channel\":\"C1\","
				     "\"ts\":\"1.1\",\"text\":\"<@U7>\",\"text\":\"<@U8>\"}}",
				     &ev, &res),
			 DECODE_OK);
	expect_str(ev.event_id, "Ev2", "event_id");
	expect_str(ev.actor_id, "U2", "actor");
	assert_int_equal(ev.target_count, 1);
	expect_str(ev.target_ids[0], "U8", "target");

	/* The last event is not an object, even though the first one was. */
	assert_outcome(decode_text(d,
				   "{\"type\":\"event_callback\",\"event_id\":\"Ev1\","
				   "\"event\":{\"type\":\"message\",\"user\":\"U1\","
				   "\"channel\":\"C1\",\"ts\":\"1.1\"},\"event\":5}",
				   &ev, &res),
		       &res, DECODE_INVALID, "missing_field");
	decode_slack_free(d);
}

/*
 * The envelope's event_time counts only when written as an integer, as
 * json_is_integer() decided. A real falls back to the inner event_ts.
 */
static void slack_event_time_integer_only(void **state)
{
	static const struct {
		const char *event_time;
		int64_t expected_ms;
	} cases[] = {
	    {"1714560000", 1714560000000},	 {"1714560000.0", 1714560123456},
	    {"1.71456e9", 1714560123456},	 {"1714560000e0", 1714560123456},
	    {"-1714560000", 1714560123456},	 {"\"1714560000\"", 1714560123456},
	    {"9223372036854776", 1714560123456}, /* beyond int64 milliseconds */
	    {"9223372036854", 9223372036854000},
	};
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;
	char json[512];

	/*
	 * Numbers before event_time make sure the right token is read: a few,
	 * and more than the parser keeps (DECODE_CJSON_KEPT_NUMBERS).
	 */
	static const char *const before[] = {
	    "[1,2.5,{\"m\":-3e2}]",
	    "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20.5]",
	};

	for (size_t b = 0; b < sizeof(before) / sizeof(before[0]); b++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			snprintf(json, sizeof(json),
				 "{\"n\":%s,\"type\":\"event_callback\","
				 "\"event_id\":\"Ev1\",\"event\":{\"k\":7.0,\"type\":\"message\","
				 "\"user\":\"U1\",\"channel\":\"C1\",\"ts\":\"1.1\","
				 "\"event_ts\":\"1714560123.456\"},\"event_time\":%s,\"z\":2}",
				 before[b], cases[i].event_time);
			decode_status st = decode_text(d, json, &ev, &res);
			if (st != DECODE_OK || ev.event_time_ms != cases[i].expected_ms)
				fail_msg("event_time %s after %s: status %d, time %" PRId64,
					 cases[i].event_time, before[b], st, ev.event_time_ms);
		}
	decode_slack_free(d);
}

static void slack_rejects_non_objects(void **state)
{
	text_outcome("[{\"type\":\"message\"}]", DECODE_INVALID, "not_an_object");
	text_outcome("\"event_callback\"", DECODE_INVALID, "not_an_object");
	text_outcome("42", DECODE_INVALID, "not_an_object");
}

static void slack_rejects_oversized(void **state)
{
	decode_slack *d = decode_slack_new();
	size_t limit = 1024 * 1024;
	char *buf = malloc(limit + 1);
	event ev;
	decode_result res;

	/* Exactly 1 MiB is accepted: "{}" padded with whitespace. */
	memset(buf, ' ', limit + 1);
	buf[0] = '{';
	buf[1] = '}';
	assert_outcome(decode_slack_message(d, buf, limit, &ev, &res), &res, DECODE_IGNORED,
		       "unsupported_envelope");
	assert_outcome(decode_slack_message(d, buf, limit + 1, &ev, &res), &res, DECODE_INVALID,
		       "oversized");
	free(buf);
	decode_slack_free(d);
}

static void slack_rejects_missing_fields(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	assert_outcome(
	    decode_text(d, "{\"type\":\"event_callback\",\"event_id\":\"Ev1\"}", &ev, &res), &res,
	    DECODE_INVALID, "missing_field");
	assert_non_null(strstr(res.detail, "event"));

	assert_outcome(
	    decode_text(d, "{\"type\":\"message\",\"channel\":\"C1\",\"ts\":\"1.1\"}", &ev, &res),
	    &res, DECODE_INVALID, "missing_field");
	assert_non_null(strstr(res.detail, "user"));

	assert_outcome(
	    decode_text(d, "{\"type\":\"message\",\"user\":\"U1\",\"ts\":\"1.1\"}", &ev, &res),
	    &res, DECODE_INVALID, "missing_field");
	assert_non_null(strstr(res.detail, "channel"));

	assert_outcome(decode_text(d,
				   "{\"type\":\"reaction_added\",\"user\":\"U1\",\"item\":"
				   "{\"type\":\"message\",\"ts\":\"1.1\"},\"event_ts\":\"1.2\"}",
				   &ev, &res),
		       &res, DECODE_INVALID, "missing_field");
	assert_non_null(strstr(res.detail, "item.channel"));

	assert_outcome(decode_text(d,
				   "{\"type\":\"message\",\"subtype\":\"message_deleted\","
				   "\"channel\":\"C1\",\"deleted_ts\":\"1.1\",\"ts\":\"1.2\"}",
				   &ev, &res),
		       &res, DECODE_INVALID, "missing_field");
	assert_non_null(strstr(res.detail, "previous_message.user"));
	decode_slack_free(d);
}

static void slack_rejects_missing_event_id(void **state)
{
	text_outcome("{\"type\":\"event_callback\",\"event_time\":1714560000,\"event\":"
		     "{\"type\":\"message\",\"user\":\"U1\",\"channel\":\"C1\",\"ts\":\"1.1\"}}",
		     DECODE_INVALID, "missing_event_id");

	/* Without envelope, the id needs a ts. */
	text_outcome("{\"type\":\"member_joined_channel\",\"user\":\"U1\",\"channel\":\"C1\"}",
		     DECODE_INVALID, "missing_event_id");
}

static void slack_rejects_invalid_event_time(void **state)
{
	text_outcome("{\"type\":\"event_callback\",\"event_id\":\"Ev1\",\"event\":"
		     "{\"type\":\"message\",\"user\":\"U1\",\"channel\":\"C1\","
		     "\"ts\":\"yesterday\"}}",
		     DECODE_INVALID, "invalid_event_time");
	text_outcome("{\"type\":\"message\",\"user\":\"U1\",\"channel\":\"C1\","
		     "\"ts\":\"0000000000.000000\"}",
		     DECODE_INVALID, "invalid_event_time");
}

static void slack_rejects_long_ids(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;
	char json[1024];
	char id[300];

	memset(id, 'U', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	snprintf(json, sizeof(json),
		 "{\"type\":\"message\",\"user\":\"%s\",\"channel\":\"C1\",\"ts\":\"1.1\"}", id);
	assert_outcome(decode_text(d, json, &ev, &res), &res, DECODE_INVALID, "id_too_long");
	assert_null(strstr(res.detail, "UUUU"));

	snprintf(json, sizeof(json),
		 "{\"type\":\"reaction_added\",\"user\":\"U1\",\"reaction\":\"%s\",\"item\":"
		 "{\"channel\":\"C1\",\"ts\":\"1.1\"},\"event_ts\":\"1.2\"}",
		 id);
	assert_outcome(decode_text(d, json, &ev, &res), &res, DECODE_INVALID, "field_too_long");
	decode_slack_free(d);
}

/* The decoder keeps one document at a time; ASan's leak check covers the rest. */
static void slack_decoder_reuse(void **state)
{
	decode_slack *d = decode_slack_new();
	event ev;
	decode_result res;

	decode_ok(d, "message_posted.json", &ev);
	assert_outcome(decode_text(d, "[]", &ev, &res), &res, DECODE_INVALID, "not_an_object");
	decode_ok(d, "reaction_added.json", &ev);
	expect_str(ev.actor_id, "U0TEAM0002", "actor_id");
	assert_int_equal(ev.target_count, 1);
	decode_slack_free(d);
}

/* ----------------------------------------------------------------------------
 * Fuzzing with a fixed seed
 * ------------------------------------------------------------------------- */

static uint64_t fuzz_state = 0x2545f4914f6cdd1du;

/* xorshift64*: deterministic, so every failure reproduces. */
static uint64_t fuzz_next(void)
{
	fuzz_state ^= fuzz_state >> 12;
	fuzz_state ^= fuzz_state << 25;
	fuzz_state ^= fuzz_state >> 27;
	return fuzz_state * 0x2545f4914f6cdd1du;
}

/* Checks that an outcome is well formed and that a mapped event is complete. */
static void fuzz_check(decode_status st, const event *ev, const decode_result *res,
		       const char *name, size_t case_no)
{
	if (st == DECODE_IGNORED || st == DECODE_INVALID) {
		if (res->reason == NULL || res->detail[0] == '\0')
			fail_msg("%s case %zu: status %d without reason or detail", name, case_no,
				 st);
		return;
	}
	if (st != DECODE_OK)
		fail_msg("%s case %zu: unknown status %d", name, case_no, st);
	assert_true(ev->event_id.len > 0 && ev->event_id.len <= 296);
	assert_true(ev->kind.len > 0);
	assert_true(ev->event_time_ms > 0);
	assert_true(ev->actor_id.len > 0 && ev->actor_id.len <= 256);
	assert_true(ev->channel_id.len > 0 && ev->channel_id.len <= 256);
	assert_true(ev->target_count <= EVENT_MAX_TARGETS);
	for (size_t i = 0; i < ev->target_count; i++)
		assert_true(ev->target_ids[i].len > 0 && ev->target_ids[i].len <= 256);
}

/*
 * Every prefix of every fixture, then mutations that write JSON-significant
 * characters at random places, so that values change type and nesting breaks.
 */
static void slack_fuzz_fixtures(void **state)
{
	static const char *const names[] = {
	    "message_posted.json", "message_edited.json", "message_deleted.json",
	    "reaction_added.json", "file_shared.json",	  "bare_message.json",
	};
	static const char alphabet[] = "\"{}[]:,0a<@|>U \\";
	const char *root = getenv("ADVOCACY_SOURCE_DIR");
	decode_slack *d = decode_slack_new();
	size_t outcomes[3] = {0};

	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		char path[1024];
		size_t len = 0;
		snprintf(path, sizeof(path), "%s/tests/fixtures/slack/%s", root ? root : ".",
			 names[f]);
		char *orig = expect_read_file(path, &len);
		char *buf = malloc(len + 1);
		assert_non_null(orig);
		assert_non_null(buf);

		for (size_t i = 0; i <= len; i++) {
			event ev;
			decode_result res;
			memcpy(buf, orig, i);
			decode_status st = decode_slack_message(d, buf, i, &ev, &res);
			fuzz_check(st, &ev, &res, names[f], i);
			outcomes[st]++;
		}
		for (size_t i = 0; i < 3000; i++) {
			event ev;
			decode_result res;
			memcpy(buf, orig, len);
			for (int e = 1 + (int)(fuzz_next() % 3); e > 0; e--)
				buf[fuzz_next() % len] =
				    alphabet[fuzz_next() % (sizeof(alphabet) - 1)];
			decode_status st = decode_slack_message(d, buf, len, &ev, &res);
			fuzz_check(st, &ev, &res, names[f], len + i);
			outcomes[st]++;
		}
		free(buf);
		free(orig);
	}
	printf("fuzz outcomes: ok=%zu ignored=%zu invalid=%zu\n", outcomes[DECODE_OK],
	       outcomes[DECODE_IGNORED], outcomes[DECODE_INVALID]);
	decode_slack_free(d);
}

/* ----------------------------------------------------------------------------
 * Published real-world payloads
 * ------------------------------------------------------------------------- */

typedef struct realworld_files {
	char *paths[MAX_REALWORLD_FILES];
	size_t count;
} realworld_files;

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s);
	size_t m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Collects every *.json file below dir. */
static void collect_json(const char *dir, realworld_files *files, int depth)
{
	DIR *dh = opendir(dir);
	struct dirent *entry;
	char path[1024];
	struct stat st;

	if (dh == NULL || depth > 4) {
		if (dh != NULL)
			closedir(dh);
		return;
	}
	while ((entry = readdir(dh)) != NULL) {
		if (entry->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			collect_json(path, files, depth + 1);
		else if (has_suffix(entry->d_name, ".json") && files->count < MAX_REALWORLD_FILES)
			files->paths[files->count++] = strdup(path);
	}
	closedir(dh);
}

static int compare_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *status_name(decode_status st)
{
	if (st == DECODE_OK)
		return "OK";
	if (st == DECODE_IGNORED)
		return "IGNORED";
	return "INVALID";
}

/* Expected outcomes of the files whose content is known; others only must not crash. */
static const struct {
	const char *suffix;
	decode_status status;
	const char *reason_or_kind;
} realworld_expected[] = {
    {"slack-web-hs/joinChannel.json", DECODE_IGNORED, "system_message"},
    {"slack-web-hs/messageChange.json", DECODE_IGNORED, "system_message"},
    {"slack-web-hs/messageIm.json", DECODE_OK, "message_posted"},
    {"slack-web-hs/message_deleted.json", DECODE_OK, "message_deleted"},
    {"slack-web-hs/message_file_share.json", DECODE_OK, "message_posted"},
    {"slack-web-hs/message_rich_text.json", DECODE_OK, "message_posted"},
    {"slack-web-hs/share_with_message.json", DECODE_OK, "message_posted"},
    {"slackapi-java-slack-sdk/AppMentionPayload.json", DECODE_IGNORED, "unsupported_event_type"},
    {"slackapi-java-slack-sdk/FileSharedPayload.json", DECODE_INVALID, "missing_field"},
    {"slackapi-python-slack-events-api/reaction_added.json", DECODE_INVALID, "missing_event_id"},
    {"slack-api-specs/reactions.list.example.json", DECODE_IGNORED, "unsupported_envelope"},
    {"slackdump-export/users.json", DECODE_INVALID, "not_an_object"},
    {"zulip-slack-webhook/challenge_handshake_payload.json", DECODE_IGNORED, "url_verification"},
    {"zulip-slack-webhook/message_with_normal_text.json", DECODE_OK, "message_posted"},
};

static void check_realworld_expected(const char *path, decode_status st, const event *ev,
				     const decode_result *res)
{
	for (size_t i = 0; i < sizeof(realworld_expected) / sizeof(realworld_expected[0]); i++) {
		if (!has_suffix(path, realworld_expected[i].suffix))
			continue;
		if (st != realworld_expected[i].status)
			fail_msg("%s: status %s, expected %s", path, status_name(st),
				 status_name(realworld_expected[i].status));
		if (st == DECODE_OK)
			expect_str(ev->kind, realworld_expected[i].reason_or_kind, "kind");
		else
			assert_string_equal(res->reason, realworld_expected[i].reason_or_kind);
	}
}

static void slack_realworld_payloads(void **state)
{
	const char *root = getenv("ADVOCACY_REALWORLD_DIR");
	realworld_files files = {.count = 0};
	DIR *dh = root ? opendir(root) : NULL;
	struct dirent *entry;
	char path[1024];

	if (dh == NULL) {
		print_message("ADVOCACY_REALWORLD_DIR is unset or unreadable; skipping\n");
		skip();
	}
	while ((entry = readdir(dh)) != NULL) {
		if (entry->d_name[0] == '.' || strstr(entry->d_name, "slack") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, entry->d_name);
		collect_json(path, &files, 0);
	}
	closedir(dh);
	qsort(files.paths, files.count, sizeof(files.paths[0]), compare_paths);
	assert_true(files.count > 0);

	decode_slack *d = decode_slack_new();
	printf("%-62s %-8s %s\n", "file", "status", "reason or kind");
	for (size_t i = 0; i < files.count; i++) {
		size_t len = 0;
		char *buf = expect_read_file(files.paths[i], &len);
		event ev;
		decode_result res;

		assert_non_null(buf);
		decode_status st = decode_slack_message(d, buf, len, &ev, &res);
		free(buf);

		const char *relative = files.paths[i] + strlen(root) + 1;
		if (st == DECODE_OK)
			printf("%-62s %-8s %.*s\n", relative, status_name(st), (int)ev.kind.len,
			       ev.kind.ptr);
		else
			printf("%-62s %-8s %s\n", relative, status_name(st),
			       res.reason ? res.reason : "(null)");

		assert_int_equal(st, res.status);
		assert_true(st == DECODE_OK || st == DECODE_IGNORED || st == DECODE_INVALID);
		if (st != DECODE_OK) {
			assert_non_null(res.reason);
			assert_true(strlen(res.detail) > 0);
		}
		check_realworld_expected(files.paths[i], st, &ev, &res);
		free(files.paths[i]);
	}
	decode_slack_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(slack_message_posted),
	    cmocka_unit_test(slack_reply_posted),
	    cmocka_unit_test(slack_thread_broadcast),
	    cmocka_unit_test(slack_thread_parent_is_post),
	    cmocka_unit_test(slack_message_file_share),
	    cmocka_unit_test(slack_message_edited),
	    cmocka_unit_test(slack_message_deleted),
	    cmocka_unit_test(slack_reaction_added),
	    cmocka_unit_test(slack_reaction_removed_self),
	    cmocka_unit_test(slack_file_shared),
	    cmocka_unit_test(slack_member_joined_channel),
	    cmocka_unit_test(slack_bare_message),
	    cmocka_unit_test(slack_bare_reaction),
	    cmocka_unit_test(slack_mention_forms),
	    cmocka_unit_test(slack_mentions_capped),
	    cmocka_unit_test(slack_time_sources),
	    cmocka_unit_test(slack_ignores_url_verification),
	    cmocka_unit_test(slack_ignores_unsupported_envelope),
	    cmocka_unit_test(slack_ignores_unsupported_event_type),
	    cmocka_unit_test(slack_ignores_bots),
	    cmocka_unit_test(slack_ignores_system_messages),
	    cmocka_unit_test(slack_ignores_unsupported_subtype),
	    cmocka_unit_test(slack_rejects_invalid_json),
	    cmocka_unit_test(slack_rejects_what_jansson_rejects),
	    cmocka_unit_test(slack_duplicate_keys_last_wins),
	    cmocka_unit_test(slack_event_time_integer_only),
	    cmocka_unit_test(slack_rejects_non_objects),
	    cmocka_unit_test(slack_rejects_oversized),
	    cmocka_unit_test(slack_rejects_missing_fields),
	    cmocka_unit_test(slack_rejects_missing_event_id),
	    cmocka_unit_test(slack_rejects_invalid_event_time),
	    cmocka_unit_test(slack_rejects_long_ids),
	    cmocka_unit_test(slack_decoder_reuse),
	    cmocka_unit_test(slack_fuzz_fixtures),
	    cmocka_unit_test(slack_realworld_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
