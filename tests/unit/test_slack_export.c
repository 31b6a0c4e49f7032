/*
 * test_slack_export.c - Slack export archives to canonical events.
 *
 * tests/fixtures/slack_export/ is an export in Slack's layout with made-up
 * ids, names and text. Its kudos channel has CRLF line ends, 4-byte emoji,
 * a repeated record, bots, a deleted user and a ts written as a JSON
 * number. A community channel has files and a thread broadcast, and there
 * are a private channel and a DM. Each event is written as one line,
 *   kind|event id|time ms|actor|targets|content|channel|attributes,
 * and compared with the expected lines. The real-world test reads the
 * published export under $ADVOCACY_REALWORLD_DIR and skips without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "decode_expect.h"
#include "decode_slack.h"
#include "slack_export.h"

#define MAX_EVENTS 64
#define LINE_SIZE 1024

/* Events collected from the callback, one line each. */
typedef struct collected {
	char lines[MAX_EVENTS][LINE_SIZE];
	size_t count;
} collected;

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

static void append(char *line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append(char *line, const char *fmt, ...)
{
	size_t used = strlen(line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + used, LINE_SIZE - used, fmt, ap);
	va_end(ap);
}

/* Writes ev as kind|id|time|actor|targets|content|channel|attributes. */
static void event_line(const event *ev, char *line)
{
	line[0] = '\0';
	append(line, "%.*s|%.*s|%lld|%.*s|", (int)ev->kind.len, ev->kind.ptr, (int)ev->event_id.len,
	       ev->event_id.ptr, (long long)ev->event_time_ms, (int)ev->actor_id.len,
	       ev->actor_id.ptr ? ev->actor_id.ptr : "");
	for (size_t i = 0; i < ev->target_count; i++)
		append(line, "%s%.*s", i ? "," : "", (int)ev->target_ids[i].len,
		       ev->target_ids[i].ptr);
	append(line, "|%.*s|%.*s|", (int)ev->content_id.len,
	       ev->content_id.ptr ? ev->content_id.ptr : "", (int)ev->channel_id.len,
	       ev->channel_id.ptr);
	for (size_t i = 0; i < ev->attr_count; i++)
		append(line, "%s%.*s=%.*s", i ? ";" : "", (int)ev->attrs[i].key.len,
		       ev->attrs[i].key.ptr, (int)ev->attrs[i].value.len, ev->attrs[i].value.ptr);
}

static void collect_cb(const event *ev, slack_export_kind kind, void *opaque)
{
	collected *c = opaque;

	assert_true(c->count < MAX_EVENTS);
	assert_true(event_str_eq(ev->kind, slack_export_kind_name(kind)));
	assert_true(event_str_eq(ev->source, "slack"));
	event_line(ev, c->lines[c->count++]);
}

static const char *fixture_root(void)
{
	static char root[1024];
	const char *src = getenv("ADVOCACY_SOURCE_DIR");

	snprintf(root, sizeof(root), "%s/tests/fixtures/slack_export", src ? src : ".");
	return root;
}

static char *read_export_file(const char *root, const char *name, size_t *len)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/%s", root, name);
	char *buf = expect_read_file(path, len);
	if (buf == NULL)
		fail_msg("cannot read %s (set ADVOCACY_SOURCE_DIR to the repository)", path);
	return buf;
}

/* Loads users.json and every listing of the export at root that exists. */
static void load_meta(slack_export *x, const char *root)
{
	char err[256];
	size_t len = 0;
	char *buf = read_export_file(root, "users.json", &len);

	assert_int_equal(slack_export_load_users(x, buf, len, err, sizeof(err)), 0);
	free(buf);
	for (int i = 0; i < SLACK_EXPORT_LISTING_COUNT; i++) {
		char path[2048];
		snprintf(path, sizeof(path), "%s/%s", root, slack_export_listing_files[i]);
		buf = expect_read_file(path, &len);
		if (buf == NULL)
			continue;
		assert_int_equal(slack_export_load_listing(x, (slack_export_listing)i, buf, len,
							   err, sizeof(err)),
				 0);
		free(buf);
	}
}

/* Reads root/folder/day into c; the folder must be listed. */
static void read_day(slack_export *x, const char *root, const char *folder, const char *day,
		     collected *c)
{
	char name[512], err[256];
	size_t len = 0;
	const slack_export_channel *ch = slack_export_find_channel(x, folder);

	if (ch == NULL)
		fail_msg("folder %s is not in any listing", folder);
	snprintf(name, sizeof(name), "%s/%s", folder, day);
	char *buf = read_export_file(root, name, &len);
	if (slack_export_read_day(x, ch, buf, len, collect_cb, c, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	free(buf);
}

static void read_fixture(slack_export *x, collected *c)
{
	const char *root = fixture_root();

	load_meta(x, root);
	read_day(x, root, "kudos", "2025-03-10.json", c);
	read_day(x, root, "kudos", "2025-03-11.json", c);
	read_day(x, root, "community-lounge", "2025-03-10.json", c);
	read_day(x, root, "community-lounge", "2025-03-11.json", c);
	read_day(x, root, "leads-private", "2025-03-10.json", c);
	read_day(x, root, "D0DIRECT01", "2025-03-10.json", c);
}

static void assert_lines(const collected *c, const char *const *expected, size_t n)
{
	for (size_t i = 0; i < n && i < c->count; i++)
		if (strcmp(c->lines[i], expected[i]) != 0)
			fail_msg("event %zu:\n  got      %s\n  expected %s", i, c->lines[i],
				 expected[i]);
	assert_int_equal(c->count, n);
}

/* Reads one day file given as text into a fresh channel C0TEST0001. */
static int read_text(slack_export *x, const char *json, collected *c, char *err, size_t size)
{
	static const char listing[] = "[{\"id\": \"C0TEST0001\", \"name\": \"test\"}]";

	if (slack_export_find_channel(x, "test") == NULL)
		assert_int_equal(slack_export_load_listing(x, SLACK_EXPORT_CHANNELS, listing,
							   strlen(listing), err, size),
				 0);
	return slack_export_read_day(x, slack_export_find_channel(x, "test"), json, strlen(json),
				     collect_cb, c, err, size);
}

/* ----------------------------------------------------------------------------
 * The fixture export
 * ------------------------------------------------------------------------- */

static const char *const fixture_events[] = {
    /* kudos, 2025-03-10 (CRLF): a message thanking two people, its reactions */
    "message_posted|slack:C0KUDOS01:1741600000.000100|1741600000000|U0ALICE01|U0BOB0002,U0CAROL03"
    "|1741600000.000100|C0KUDOS01|channel_type=channel",
    "reaction_added|slack:C0KUDOS01:1741600000.000100:reaction:tada:U0BOB0002|1741600000000"
    "|U0BOB0002|U0ALICE01|1741600000.000100|C0KUDOS01|reaction=tada",
    "reaction_added|slack:C0KUDOS01:1741600000.000100:reaction:tada:U0CAROL03|1741600000000"
    "|U0CAROL03|U0ALICE01|1741600000.000100|C0KUDOS01|reaction=tada",
    "reaction_added|slack:C0KUDOS01:1741600000.000100:reaction:tada:U0ALICE01|1741600000000"
    "|U0ALICE01||1741600000.000100|C0KUDOS01|reaction=tada",
    "reaction_added|slack:C0KUDOS01:1741600000.000100:reaction:eyes:U0BOB0002|1741600000000"
    "|U0BOB0002|U0ALICE01|1741600000.000100|C0KUDOS01|reaction=eyes",
    /* a person's reaction on a bot's message, which has no user */
    "reaction_added|slack:C0KUDOS01:1741600200.000150:reaction:clap:U0CAROL03|1741600200000"
    "|U0CAROL03||1741600200.000150|C0KUDOS01|reaction=clap",
    /* channel_join with its ts as a JSON number */
    "channel_joined|slack:C0KUDOS01:1741600300.000200|1741600300000|U0CAROL03|||C0KUDOS01"
    "|channel_type=C",
    /* kudos, 2025-03-11: a thread parent mentioning through blocks, a reply */
    "message_posted|slack:C0KUDOS01:1741680000.000300|1741680000000|U0BOB0002|U0ALICE01"
    "|1741680000.000300|C0KUDOS01|channel_type=channel",
    "reply_posted|slack:C0KUDOS01:1741680060.000400|1741680060000|U0CAROL03||1741680060.000400"
    "|C0KUDOS01|channel_type=channel;thread_ts=1741680000.000300",
    /* community-lounge: files, a removed file, a thread broadcast, reactions */
    "message_posted|slack:C0COMMUNITY1:1741610000.000500|1741610000000|U0CAROL03|"
    "|1741610000.000500|C0COMMUNITY1|channel_type=channel;has_files=true",
    "file_shared|slack:C0COMMUNITY1:1741610000.000500:file:F0DOC0001|1741610000000|U0CAROL03|"
    "|F0DOC0001|C0COMMUNITY1|",
    "message_posted|slack:C0COMMUNITY1:1741610100.000600|1741610100000|U0BOB0002|"
    "|1741610100.000600|C0COMMUNITY1|channel_type=channel;has_files=true",
    "file_shared|slack:C0COMMUNITY1:1741610100.000600:file:F0IMG0003|1741610100000|U0BOB0002|"
    "|F0IMG0003|C0COMMUNITY1|",
    "reply_posted|slack:C0COMMUNITY1:1741610200.000700|1741610200000|U0ALICE01|"
    "|1741610200.000700|C0COMMUNITY1|channel_type=channel;thread_ts=1741610000.000500",
    "message_posted|slack:C0COMMUNITY1:1741610300.000000|1741610300000|U0ALICE01|"
    "|1741610300.000000|C0COMMUNITY1|channel_type=channel",
    "reaction_added|slack:C0COMMUNITY1:1741610300.000000:reaction:heart:U0BOB0002|1741610300000"
    "|U0BOB0002|U0ALICE01|1741610300.000000|C0COMMUNITY1|reaction=heart",
    /* leads-private (groups.json) and a DM (dms.json, folder named by id) */
    "channel_joined|slack:G0PRIVATE1:1741620000.000800|1741620000000|U0BOB0002|||G0PRIVATE1"
    "|channel_type=G",
    "message_posted|slack:G0PRIVATE1:1741620100.000900|1741620100000|U0BOB0002|U0ALICE01"
    "|1741620100.000900|G0PRIVATE1|channel_type=group",
    "message_posted|slack:D0DIRECT01:1741630000.001000|1741630000001|U0ALICE01|"
    "|1741630000.001000|D0DIRECT01|channel_type=im",
};

static void fixture_exact_events(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));

	read_fixture(x, c);
	assert_lines(c, fixture_events, sizeof(fixture_events) / sizeof(fixture_events[0]));
	free(c);
	slack_export_free(x);
}

static void fixture_counts_by_kind_and_reason(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));

	read_fixture(x, c);
	const slack_export_stats *st = slack_export_get_stats(x);
	assert_int_equal(st->records, 18);
	assert_int_equal(st->events[SLACK_EXPORT_MESSAGE_POSTED], 7);
	assert_int_equal(st->events[SLACK_EXPORT_REPLY_POSTED], 2);
	assert_int_equal(st->events[SLACK_EXPORT_REACTION_ADDED], 6);
	assert_int_equal(st->events[SLACK_EXPORT_FILE_SHARED], 2);
	assert_int_equal(st->events[SLACK_EXPORT_CHANNEL_JOINED], 2);
	assert_int_equal(st->reasons[SLACK_EXPORT_DUPLICATE_RECORD], 1);
	/* bot_id and subtype, an author flagged is_bot, USLACKBOT */
	assert_int_equal(st->reasons[SLACK_EXPORT_BOT_MESSAGE], 3);
	assert_int_equal(st->reasons[SLACK_EXPORT_BOT_REACTION], 1);
	/* a message and a reaction of the deleted user */
	assert_int_equal(st->reasons[SLACK_EXPORT_DELETED_USER], 2);
	assert_int_equal(st->reasons[SLACK_EXPORT_TOMBSTONE], 1);
	assert_int_equal(st->reasons[SLACK_EXPORT_SYSTEM_MESSAGE], 1);
	assert_int_equal(st->reasons[SLACK_EXPORT_REMOVED_FILE], 1);
	for (int r = SLACK_EXPORT_FIRST_REJECTED; r < SLACK_EXPORT_REASON_COUNT; r++)
		assert_int_equal(st->reasons[r], 0);
	free(c);
	slack_export_free(x);
}

/* A second reader of the same export yields the same ids: a rerun is a replay. */
static void fixture_ids_stable_across_runs(void **state)
{
	slack_export *first = slack_export_new(), *second = slack_export_new();
	collected *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	read_fixture(first, a);
	read_fixture(second, b);
	assert_int_equal(a->count, b->count);
	for (size_t i = 0; i < a->count; i++)
		assert_string_equal(a->lines[i], b->lines[i]);
	free(a);
	free(b);
	slack_export_free(first);
	slack_export_free(second);
}

/* No text, name or e-mail address of the fixture reaches an event. */
static void fixture_events_hold_ids_only(void **state)
{
	static const char *const private_words[] = {
	    "Example", "example.com", "ana.",  "bruno",	 "carla",  "thanks",
	    "launch",  "Deploy",      "Lunch", "review", "Slides", "\xF0\x9F",
	};
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));

	read_fixture(x, c);
	for (size_t i = 0; i < c->count; i++)
		for (size_t w = 0; w < sizeof(private_words) / sizeof(private_words[0]); w++)
			if (strstr(c->lines[i], private_words[w]) != NULL)
				fail_msg("event %zu contains \"%s\": %s", i, private_words[w],
					 c->lines[i]);
	free(c);
	slack_export_free(x);
}

/* The message the live adapter decodes from the Events API gets the same id and fields. */
static void message_matches_live_adapter(void **state)
{
	static const char live[] =
	    "{\"type\": \"message\", \"channel\": \"C0KUDOS01\", \"channel_type\": \"channel\","
	    " \"user\": \"U0ALICE01\", \"ts\": \"1741600000.000100\","
	    " \"text\": \"Huge thanks <@U0BOB0002> and <@U0CAROL03|carla> for the launch\"}";
	decode_slack *d = decode_slack_new();
	decode_result res;
	event ev;
	char line[LINE_SIZE];

	assert_int_equal(decode_slack_message(d, live, strlen(live), &ev, &res), DECODE_OK);
	event_line(&ev, line);
	assert_string_equal(line, fixture_events[0]);
	decode_slack_free(d);
}

static void folders_found_by_name_or_id(void **state)
{
	slack_export *x = slack_export_new();

	load_meta(x, fixture_root());
	assert_string_equal(slack_export_find_channel(x, "kudos")->id, "C0KUDOS01");
	assert_string_equal(slack_export_find_channel(x, "C0KUDOS01")->id, "C0KUDOS01");
	assert_int_equal(slack_export_find_channel(x, "leads-private")->listing,
			 SLACK_EXPORT_GROUPS);
	assert_int_equal(slack_export_find_channel(x, "D0DIRECT01")->listing, SLACK_EXPORT_DMS);
	assert_null(slack_export_find_channel(x, "no-such-channel"));
	slack_export_free(x);
}

/* ----------------------------------------------------------------------------
 * Messy and malformed input
 * ------------------------------------------------------------------------- */

static void day_invalid_json_rejected_whole(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	int rc = read_text(x,
			   "[{\"type\": \"message\", \"user\": \"U0SECRET1\", \"ts\": "
			   "\"1741600000.000100\"},\r\n {\"text\": \"secret words\" ",
			   c, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_int_equal(c->count, 0);
	assert_non_null(strstr(err, "invalid_json"));
	assert_non_null(strstr(err, "line 2"));
	assert_null(strstr(err, "secret"));
	free(c);
	slack_export_free(x);
}

/* Invalid UTF-8 or a \u0000 escape makes the whole day file invalid_json, as with jansson. */
static void day_invalid_text_rejected_whole(void **state)
{
	static const char *const days[] = {
	    "[{\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": "
	    "\"1741600000.000100\", \"text\": \"caf\xc3\"}]",
	    "[{\"type\": \"message\", \"user\": \"U0ALICE01\\u0000\", \"ts\": "
	    "\"1741600000.000100\"}]",
	};

	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		slack_export *x = slack_export_new();
		collected *c = calloc(1, sizeof(*c));
		char err[256];

		assert_int_equal(read_text(x, days[i], c, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "invalid_json"));
		assert_int_equal(c->count, 0);
		free(c);
		slack_export_free(x);
	}
}

/*
 * A key given twice yields its last value, and files or reactions users
 * that are objects, not arrays, yield no events.
 */
static void record_duplicate_keys_last_wins(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	int rc = read_text(x,
			   "[{\"type\": \"message\", \"user\": \"U0BOB0001\", \"user\": "
			   "\"U0ALICE01\", \"ts\": \"1741600000.000100\", \"files\": "
			   "{\"id\": \"F1\"}, \"reactions\": [{\"name\": \"tada\", "
			   "\"users\": {\"a\": \"U0BOB0001\"}}]}]",
			   c, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(c->count, 1);
	assert_string_equal(c->lines[0],
			    "message_posted|slack:C0TEST0001:1741600000.000100|1741600000000"
			    "|U0ALICE01||1741600000.000100|C0TEST0001|channel_type=channel");
	free(c);
	slack_export_free(x);
}

static void day_not_an_array_rejected(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	assert_int_equal(read_text(x, "{\"messages\": []}", c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not_an_array"));
	free(c);
	slack_export_free(x);
}

static void day_over_size_limit_rejected(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	assert_int_equal(slack_export_max_file_bytes(x), SLACK_EXPORT_MAX_FILE_BYTES);
	slack_export_set_max_file_bytes(x, 64);
	int rc = read_text(x,
			   "[{\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": "
			   "\"1741600000.000100\"}]",
			   c, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "file_too_large"));
	assert_int_equal(c->count, 0);
	free(c);
	slack_export_free(x);
}

static void records_malformed_counted_as_rejected(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	int rc = read_text(
	    x,
	    "[\"just a string\", 42,"
	    " {\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": \"yesterday\"},"
	    " {\"type\": \"message\", \"user\": \"U0ALICE01\"},"
	    " {\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": -5},"
	    " {\"type\": \"message\", \"ts\": \"1741600000.000100\"},"
	    " {\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": \"1741600001.5\"}]",
	    c, err, sizeof(err));
	assert_int_equal(rc, 0);
	const slack_export_stats *st = slack_export_get_stats(x);
	assert_int_equal(st->records, 7);
	assert_int_equal(st->reasons[SLACK_EXPORT_NOT_AN_OBJECT], 2);
	assert_int_equal(st->reasons[SLACK_EXPORT_INVALID_TS], 3);
	assert_int_equal(st->reasons[SLACK_EXPORT_MISSING_FIELD], 1);
	/* The valid record after the bad ones still counts. */
	assert_int_equal(c->count, 1);
	assert_string_equal(c->lines[0],
			    "message_posted|slack:C0TEST0001:1741600001.5|1741600001500"
			    "|U0ALICE01||1741600001.5|C0TEST0001|channel_type=channel");
	free(c);
	slack_export_free(x);
}

/* The same message as a string ts and a number ts is one record. */
static void repeated_record_with_number_ts_counted_once(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	int rc = read_text(
	    x,
	    "[{\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": \"1741600000.250000\"},"
	    " {\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": 1741600000.25}]",
	    c, err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(c->count, 1);
	assert_int_equal(slack_export_get_stats(x)->reasons[SLACK_EXPORT_DUPLICATE_RECORD], 1);
	free(c);
	slack_export_free(x);
}

static void overlong_reaction_id_rejected(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char json[1024], name[301], err[256];

	memset(name, 'x', 300);
	name[300] = '\0';
	snprintf(json, sizeof(json),
		 "[{\"type\": \"message\", \"user\": \"U0ALICE01\", \"ts\": \"1741600000.000100\","
		 " \"reactions\": [{\"name\": \"%s\", \"users\": [\"U0BOB0002\"]}, {\"users\": "
		 "[\"U0BOB0002\"]}]}]",
		 name);
	assert_int_equal(read_text(x, json, c, err, sizeof(err)), 0);
	assert_int_equal(c->count, 1); /* the message itself */
	assert_int_equal(slack_export_get_stats(x)->reasons[SLACK_EXPORT_ID_TOO_LONG], 1);
	assert_int_equal(slack_export_get_stats(x)->reasons[SLACK_EXPORT_MISSING_FIELD], 1);
	free(c);
	slack_export_free(x);
}

static void record_of_other_type_ignored(void **state)
{
	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	char err[256];

	assert_int_equal(read_text(x,
				   "[{\"type\": \"canvas\", \"ts\": \"1741600000.000100\"},"
				   " {\"type\": \"message\", \"subtype\": \"poll_created\","
				   " \"user\": \"U0ALICE01\", \"ts\": \"1741600000.000200\"}]",
				   c, err, sizeof(err)),
			 0);
	assert_int_equal(c->count, 0);
	assert_int_equal(slack_export_get_stats(x)->reasons[SLACK_EXPORT_UNSUPPORTED_TYPE], 1);
	assert_int_equal(slack_export_get_stats(x)->reasons[SLACK_EXPORT_UNSUPPORTED_SUBTYPE], 1);
	free(c);
	slack_export_free(x);
}

static void users_without_id_skipped(void **state)
{
	slack_export *x = slack_export_new();
	char err[256];
	static const char users[] = "[{\"id\": \"U0BOT0001\", \"is_bot\": true}, {\"name\": \"x\"},"
				    " 7]";

	assert_int_equal(slack_export_load_users(x, users, strlen(users), err, sizeof(err)), 2);
	assert_int_equal(slack_export_load_users(x, "[1,", 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid_json"));
	slack_export_free(x);
}

/* ----------------------------------------------------------------------------
 * Published real-world export
 * ------------------------------------------------------------------------- */

static void realworld_slackdump_export(void **state)
{
	const char *base = getenv("ADVOCACY_REALWORLD_DIR");
	char root[1024];
	DIR *dh;

	snprintf(root, sizeof(root), "%s/slackdump-export", base ? base : "");
	if (base == NULL || (dh = opendir(root)) == NULL) {
		print_message("no slackdump-export under ADVOCACY_REALWORLD_DIR; skipping\n");
		skip();
	}
	closedir(dh);

	slack_export *x = slack_export_new();
	collected *c = calloc(1, sizeof(*c));
	load_meta(x, root);
	const slack_export_channel *ch = slack_export_find_channel(x, "B75B4C7");
	assert_non_null(ch);
	assert_string_equal(ch->id, "CO69735E8A");
	read_day(x, root, "B75B4C7", "2025-01-10.json", c);
	read_day(x, root, "B75B4C7", "2025-01-11.json", c);

	/* Read off the files: 13 records, one a deleted thread parent. */
	const slack_export_stats *st = slack_export_get_stats(x);
	assert_int_equal(st->records, 13);
	assert_int_equal(st->events[SLACK_EXPORT_MESSAGE_POSTED], 7);
	assert_int_equal(st->events[SLACK_EXPORT_REPLY_POSTED], 4);
	assert_int_equal(st->events[SLACK_EXPORT_FILE_SHARED], 2);
	assert_int_equal(st->events[SLACK_EXPORT_CHANNEL_JOINED], 1);
	assert_int_equal(st->events[SLACK_EXPORT_REACTION_ADDED], 0);
	assert_int_equal(st->reasons[SLACK_EXPORT_TOMBSTONE], 1);
	for (int r = SLACK_EXPORT_FIRST_REJECTED; r < SLACK_EXPORT_REASON_COUNT; r++)
		assert_int_equal(st->reasons[r], 0);
	assert_string_equal(c->lines[0], "message_posted|slack:CO69735E8A:1736478514.897649"
					 "|1736478514897|UOF82F39AE||1736478514.897649|CO69735E8A"
					 "|channel_type=channel");
	free(c);
	slack_export_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fixture_exact_events),
	    cmocka_unit_test(fixture_counts_by_kind_and_reason),
	    cmocka_unit_test(fixture_ids_stable_across_runs),
	    cmocka_unit_test(fixture_events_hold_ids_only),
	    cmocka_unit_test(message_matches_live_adapter),
	    cmocka_unit_test(folders_found_by_name_or_id),
	    cmocka_unit_test(day_invalid_json_rejected_whole),
	    cmocka_unit_test(day_invalid_text_rejected_whole),
	    cmocka_unit_test(record_duplicate_keys_last_wins),
	    cmocka_unit_test(day_not_an_array_rejected),
	    cmocka_unit_test(day_over_size_limit_rejected),
	    cmocka_unit_test(records_malformed_counted_as_rejected),
	    cmocka_unit_test(repeated_record_with_number_ts_counted_once),
	    cmocka_unit_test(overlong_reaction_id_rejected),
	    cmocka_unit_test(record_of_other_type_ignored),
	    cmocka_unit_test(users_without_id_skipped),
	    cmocka_unit_test(realworld_slackdump_export),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
