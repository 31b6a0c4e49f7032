/*
 * test_decode_analytics.c - intranet analytics track/page calls to canonical
 * events.
 *
 * Fixtures in tests/fixtures/analytics/ are calls in the Segment spec's
 * format with made-up ids. Every test walks a message with the cursor and
 * compares each outcome, in order, with the exact expected canonical event
 * or reason. The real-world test feeds the published Segment examples under
 * $ADVOCACY_REALWORLD_DIR (segment-docs) and skips when that directory is
 * absent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode_analytics.h"
#include "decode_expect.h"

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

/* Walks an open message and compares every outcome with want[0..n). */
static void check_outcomes(decode_analytics *d, const decode_expected *want, size_t n)
{
	event ev;
	decode_result res;
	size_t i = 0;

	for (; decode_analytics_next(d, &ev, &res); i++) {
		expect_not_extra(i, n, &res);
		if (expect_outcome(i, &res, want[i].status, want[i].reason))
			expect_event(&ev, "intranet", &want[i]);
	}
	assert_int_equal(i, n);
}

/* Opens text with the event map (none: the defaults) and checks its outcomes. */
static void check_text(const config_kv *map, size_t n_map, const char *text, size_t len,
		       const decode_expected *want, size_t n)
{
	decode_result res;
	decode_analytics *d = decode_analytics_new();

	assert_non_null(d);
	if (decode_analytics_open(d, map, n_map, text, len, &res) != DECODE_OK)
		fail_msg("open failed: %s (%s)", res.reason, res.detail);
	check_outcomes(d, want, n);
	decode_analytics_free(d);
}

/* Opens tests/fixtures/analytics/name and checks its outcomes. */
static void check_fixture(const config_kv *map, size_t n_map, const char *name,
			  const decode_expected *want, size_t n)
{
	size_t len = 0;
	char *buf = expect_fixture("analytics", name, &len);

	check_text(map, n_map, buf, len, want, n);
	free(buf);
}

/* Opens text and expects the whole message to have status and reason. */
static void check_open(const char *text, decode_status status, const char *reason)
{
	decode_result res;
	decode_analytics *d = decode_analytics_new();

	assert_non_null(d);
	assert_int_equal(decode_analytics_open(d, NULL, 0, text, strlen(text), &res), status);
	assert_string_equal(res.reason, reason);
	decode_analytics_free(d);
}

/* ----------------------------------------------------------------------------
 * Mapping of each kind
 * ------------------------------------------------------------------------- */

static void test_batch_maps_every_kind(void **state)
{
	const decode_expected want[] = {
	    {
		.status = DECODE_OK,
		.kind = "content_published",
		.event_id = "ajs-next-0f3c1a0001",
		.time_ms = 1762245000120,
		.actor = "emp-2041",
		.content = "article-7781",
		.attrs = {"call=track"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "content_commented",
		.event_id = "ajs-next-0f3c1a0002",
		.time_ms = 1762245670000,
		.actor = "emp-2042",
		.targets = {"emp-2041"},
		.content = "article-7781",
		.attrs = {"call=track"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "content_liked",
		.event_id = "ajs-next-0f3c1a0003",
		.time_ms = 1762245720000,
		.actor = "emp-2043",
		.targets = {"emp-2041"},
		.content = "article-7781",
		.attrs = {"call=track"},
	    },
	    {
		/* The path loses its query and fragment, which may name people. */
		.status = DECODE_OK,
		.kind = "page_viewed",
		.event_id = "ajs-next-0f3c1a0004",
		.time_ms = 1762246800000,
		.actor = "emp-2044",
		.targets = {"emp-2041"},
		.content = "/news/2025/cafeteria",
		.attrs = {"call=page"},
	    },
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_call"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unknown_event"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "anonymous_event"),
	    {
		/* An anonymous view still counts as reach of the author's content. */
		.status = DECODE_OK,
		.kind = "page_viewed",
		.event_id = "ajs-next-0f3c1a0008",
		.time_ms = 1762246980000,
		.targets = {"emp-2041"},
		.content = "article-7781",
		.attrs = {"call=page"},
	    },
	    {
		.status = DECODE_OK,
		.kind = "page_viewed",
		.event_id = "ios-7d2e0000-0009",
		.time_ms = 1762247040000,
		.actor = "2045",
		.content = "7781",
		.attrs = {"call=screen"},
	    },
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_call"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	};

	(void)state;
	check_fixture(NULL, 0, "batch.json", want, sizeof(want) / sizeof(want[0]));
}

/*
 * CRLF line endings, a repeated "event" key (the last wins), a numeric
 * userId, a time in exponent form and properties sent as a JSON string with
 * a 4-byte emoji: with the default map the name is unknown, with a
 * configured map it is content published. The author is the actor, so no target.
 */
static void test_messy_track_and_configured_map(void **state)
{
	const config_kv map[] = {
	    {"Article Published", "content_published"},
	    {"Article Viewed", "page_viewed"},
	};
	const decode_expected unknown[] = {EXPECT_OUTCOME(DECODE_IGNORED, "unknown_event")};
	const decode_expected published[] = {{
	    .status = DECODE_OK,
	    .kind = "content_published",
	    .event_id = "api-6c1e0000-0001",
	    .time_ms = 1762245600000,
	    .actor = "20470",
	    .content = "article-7790",
	    .attrs = {"call=track"},
	}};

	(void)state;
	check_fixture(NULL, 0, "track.json", unknown, 1);
	check_fixture(map, 2, "track.json", published, 1);
}

/* A configured map replaces the defaults: "Content Published" is unknown then. */
static void test_configured_map_replaces_defaults(void **state)
{
	const config_kv map[] = {{"Article Published", "content_published"}};
	const char *text = "{\"type\": \"track\", \"event\": \"Content Published\", \"userId\": \"u1\","
			   " \"messageId\": \"m1\", \"timestamp\": 1762245600,"
			   " \"properties\": {\"content_id\": \"c1\"}}";
	const decode_expected want[] = {EXPECT_OUTCOME(DECODE_IGNORED, "unknown_event")};

	(void)state;
	check_text(map, 1, text, strlen(text), want, 1);
}

/* Times as ISO strings, numbers, digit strings and with offsets; the first present key wins. */
static void test_time_shapes(void **state)
{
	const char *text =
	    "[{\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"m1\", \"timestamp\": "
	    "\"1762245600\", \"properties\": {\"path\": \"/a\"}},"
	    " {\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"m2\", \"timestamp\": "
	    "1762245600123, \"properties\": {\"path\": \"/a\"}},"
	    " {\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"m3\", \"timestamp\": null,"
	    " \"receivedAt\": \"2025-11-04T09:40:00+01:00\", \"properties\": {\"path\": \"/a\"}},"
	    " {\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"m4\", \"sentAt\": "
	    "\"2025-11-04 08:40:00.5\", \"properties\": {\"path\": \"/a\"}},"
	    " {\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"m5\", \"timestamp\": "
	    "\"04/11/2025\", \"properties\": {\"path\": \"/a\"}},"
	    " {\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"m6\","
	    " \"properties\": {\"path\": \"/a\"}}]";
	const decode_expected want[] = {
	    {.status = DECODE_OK,
	     .kind = "page_viewed",
	     .event_id = "m1",
	     .time_ms = 1762245600000,
	     .actor = "u1",
	     .content = "/a",
	     .attrs = {"call=page"}},
	    {.status = DECODE_OK,
	     .kind = "page_viewed",
	     .event_id = "m2",
	     .time_ms = 1762245600123,
	     .actor = "u1",
	     .content = "/a",
	     .attrs = {"call=page"}},
	    {.status = DECODE_OK,
	     .kind = "page_viewed",
	     .event_id = "m3",
	     .time_ms = 1762245600000,
	     .actor = "u1",
	     .content = "/a",
	     .attrs = {"call=page"}},
	    {.status = DECODE_OK,
	     .kind = "page_viewed",
	     .event_id = "m4",
	     .time_ms = 1762245600500,
	     .actor = "u1",
	     .content = "/a",
	     .attrs = {"call=page"}},
	    EXPECT_OUTCOME(DECODE_INVALID, "invalid_event_time"),
	    EXPECT_OUTCOME(DECODE_INVALID, "invalid_event_time"),
	};

	(void)state;
	check_text(NULL, 0, text, strlen(text), want, sizeof(want) / sizeof(want[0]));
}

/* ----------------------------------------------------------------------------
 * Malformed and ignored input
 * ------------------------------------------------------------------------- */

static void test_whole_message_outcomes(void **state)
{
	(void)state;
	check_open("{\"batch\": [", DECODE_INVALID, "invalid_json");
	check_open("true", DECODE_INVALID, "not_an_object");
	check_open("\"no json\"", DECODE_INVALID, "not_an_object");
	check_open("{\"batch\": {\"type\": \"track\"}}", DECODE_INVALID, "not_an_object");
	check_open("{\"batch\": []}", DECODE_IGNORED, "empty_batch");
	check_open("{\"userId\": \"u1\"}", DECODE_IGNORED, "unsupported_envelope");
}

static void test_oversized_message(void **state)
{
	size_t len = 1024 * 1024 + 1;
	char *big = malloc(len);
	decode_result res;
	decode_analytics *d = decode_analytics_new();

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	assert_int_equal(decode_analytics_open(d, NULL, 0, big, len, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "oversized");
	free(big);
	decode_analytics_free(d);
}

static void test_malformed_calls(void **state)
{
	const char *text =
	    "{\"batch\": [3,"
	    " {\"event\": \"Content Liked\"},"
	    " {\"type\": \"track\", \"userId\": \"u1\"},"
	    " {\"type\": \"track\", \"event\": \"Content Liked\", \"userId\": \"u1\","
	    "  \"timestamp\": 1762245600, \"properties\": {\"content_id\": \"c1\"}},"
	    " {\"type\": \"track\", \"event\": \"Content Liked\", \"userId\": \"u1\","
	    "  \"messageId\": \"m1\", \"properties\": [1]},"
	    " {\"type\": \"track\", \"event\": \"Content Liked\", \"userId\": \"u1\","
	    "  \"messageId\": \"m1\", \"properties\": \"{not json\"},"
	    " {\"type\": \"alias\", \"userId\": \"u1\", \"previousId\": \"a1\"},"
	    " {\"type\": \"flush\"}]}";
	const decode_expected want[] = {
	    EXPECT_OUTCOME(DECODE_INVALID, "not_an_object"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	    EXPECT_OUTCOME(DECODE_INVALID, "not_an_object"),
	    EXPECT_OUTCOME(DECODE_INVALID, "missing_field"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_call"),
	    EXPECT_OUTCOME(DECODE_IGNORED, "unsupported_type"),
	};

	(void)state;
	check_text(NULL, 0, text, strlen(text), want, sizeof(want) / sizeof(want[0]));
}

static void test_id_too_long(void **state)
{
	char text[1024];
	char id[300];
	const decode_expected want[] = {EXPECT_OUTCOME(DECODE_INVALID, "id_too_long")};

	(void)state;
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "{\"type\": \"page\", \"userId\": \"u1\", \"messageId\": \"%s\","
		 " \"timestamp\": 1762245600, \"properties\": {\"path\": \"/a\"}}",
		 id);
	check_text(NULL, 0, text, strlen(text), want, 1);
}

/* ----------------------------------------------------------------------------
 * Published payloads
 * ------------------------------------------------------------------------- */

static bool check_realworld(const char *file, const decode_expected *want, size_t n)
{
	size_t len = 0;
	char *buf = expect_realworld(file, &len);

	if (buf == NULL)
		return false;
	check_text(NULL, 0, buf, len, want, n);
	free(buf);
	return true;
}

static void test_realworld_files(void **state)
{
	/* No content id and no path: a page view that names no content is malformed. */
	const decode_expected page[] = {EXPECT_OUTCOME(DECODE_INVALID, "missing_field")};
	const decode_expected track[] = {EXPECT_OUTCOME(DECODE_IGNORED, "unknown_event")};
	const config_kv map[] = {{"Course Clicked", "page_viewed"}};
	const decode_expected mapped[] = {EXPECT_OUTCOME(DECODE_INVALID, "missing_field")};
	size_t fed = 0;

	(void)state;
	fed += check_realworld("segment-docs/page.complete-example.json", page, 1);
	fed += check_realworld("segment-docs/track.complete-example.json", track, 1);
	if (fed == 0)
		skip();
	assert_int_equal(fed, 2);

	/* Mapped, the track call names no content id either. */
	const char *root = getenv("ADVOCACY_REALWORLD_DIR");
	char path[1024];
	size_t len = 0;
	snprintf(path, sizeof(path), "%s/segment-docs/track.complete-example.json", root);
	char *buf = expect_read_file(path, &len);
	assert_non_null(buf);
	check_text(map, 1, buf, len, mapped, 1);
	free(buf);
}

/* The published calls map exactly once they carry a content id, as an intranet sends them. */
static void test_realworld_calls_with_content_id(void **state)
{
	const char *root = getenv("ADVOCACY_REALWORLD_DIR");
	char path[1024], *text;
	size_t len = 0;
	const decode_expected want[] = {{
	    .status = DECODE_OK,
	    .kind = "page_viewed",
	    .event_id = "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
	    .time_ms = 1424730535111, /* 2015-02-23T22:28:55.111Z */
	    .actor = "97980cfea0067",
	    .content = "home",
	    .attrs = {"call=page"},
	}};

	(void)state;
	if (root == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/segment-docs/page.complete-example.json", root);
	char *buf = expect_read_file(path, &len);
	if (buf == NULL)
		skip();
	buf[len] = '\0';
	/* Replace the properties object with one that names the content. */
	char *props = strstr(buf, "\"properties\"");
	assert_non_null(props);
	char *close = strchr(props, '}');
	assert_non_null(close);
	text = malloc(len + 64);
	assert_non_null(text);
	int n = snprintf(text, len + 64, "%.*s\"properties\": {\"content_id\": \"home\"}%s",
			 (int)(props - buf), buf, close + 1);
	check_text(NULL, 0, text, (size_t)n, want, 1);
	free(text);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_maps_every_kind),
	    cmocka_unit_test(test_messy_track_and_configured_map),
	    cmocka_unit_test(test_configured_map_replaces_defaults),
	    cmocka_unit_test(test_time_shapes),
	    cmocka_unit_test(test_whole_message_outcomes),
	    cmocka_unit_test(test_oversized_message),
	    cmocka_unit_test(test_malformed_calls),
	    cmocka_unit_test(test_id_too_long),
	    cmocka_unit_test(test_realworld_files),
	    cmocka_unit_test(test_realworld_calls_with_content_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
