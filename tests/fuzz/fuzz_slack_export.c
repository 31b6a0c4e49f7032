/*
 * fuzz_slack_export.c - libFuzzer harness for the Slack export reader
 * (slack_export.h), which backfill feeds with the files of an export folder.
 *
 * Input: a control byte, then up to four parts separated by NUL bytes (JSON
 * text has none): users.json, a channel listing, a folder name and one day
 * file. Bits 0-1 of the control byte pick the listing (channels, groups,
 * mpims, dms). Bit 2 lowers the file size limit to 4 KiB, so that short
 * inputs reach the too-large path. An empty or missing users or
 * listing part is not loaded. The day file is read for the channel that
 * slack_export_find_channel() returns for the folder name, or for a channel
 * of the harness's own when none matches.
 *
 * A fresh reader reads every input, because the reader keeps the records it
 * has seen for the whole run. Checks, beyond the event contract of
 * fuzz_decoder.h applied to every event:
 *   - a file rejected as a whole has a printable error and passed on no event;
 *   - the per-kind event counts of the stats equal the events passed on, and
 *     every record read is counted as an event or a reason;
 *   - every event has source "slack", the kind it is passed with, the
 *     channel's id, an actor, the event id documented for its kind, and no
 *     target equal to its actor;
 *   - reading the same day file again in the same reader passes on no event
 *     (every record is a repeat or rejected again);
 *   - a second reader given the same input passes on the same events in the
 *     same order, with the same stats, so event ids are stable across runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_decoder.h"
#include "slack_export.h"

#define EXPORT_NAME "slack_export"

/* File size limit when bit 2 of the control byte is set. */
#define EXPORT_SMALL_FILE_LIMIT 4096

/* Room for a folder name; a longer one is cut, which only matters for lookup. */
#define EXPORT_FOLDER_SIZE 512

/* The input split into its parts; parts point into the fuzzer's input. */
typedef struct export_input {
	slack_export_listing listing;
	bool small_limit;
	event_str users, listing_file, day;
	char folder[EXPORT_FOLDER_SIZE];
} export_input;

/* What one read of a day file passed on. */
typedef struct export_run {
	const slack_export_channel *channel;
	uint64_t hash;
	uint64_t events[SLACK_EXPORT_KIND_COUNT];
} export_run;

/* Returns the next NUL-separated part of *rest, advancing past it. */
static event_str export_next_part(event_str *rest)
{
	const char *nul = rest->len ? memchr(rest->ptr, '\0', rest->len) : NULL;
	event_str part = {rest->ptr, nul ? (size_t)(nul - rest->ptr) : rest->len};

	rest->ptr += nul ? part.len + 1 : part.len;
	rest->len -= nul ? part.len + 1 : part.len;
	return part;
}

static void export_split(const uint8_t *data, size_t size, export_input *in)
{
	/* An empty input may come with a NULL pointer, which must not be offset. */
	event_str rest = {size > 0 ? (const char *)data + 1 : "", size > 0 ? size - 1 : 0};

	memset(in, 0, sizeof(*in));
	in->listing = (slack_export_listing)((size > 0 ? data[0] : 0) % SLACK_EXPORT_LISTING_COUNT);
	in->small_limit = size > 0 && (data[0] & 4) != 0;
	in->users = export_next_part(&rest);
	in->listing_file = export_next_part(&rest);
	event_str folder = export_next_part(&rest);
	snprintf(in->folder, sizeof(in->folder), "%.*s", (int)folder.len, folder.ptr);
	in->day = rest; /* the rest, NUL bytes included */
}

/* Checks the outcome of a call that returns -1 with errstr on a whole-file error. */
static void export_check_rc(int rc, const char *errstr, size_t errstr_size, const char *what)
{
	if (rc < -1)
		fuzz_fail(EXPORT_NAME, "%s returned %d", what, rc);
	if (rc == -1 && (errstr[0] == '\0' || !fuzz_line_ok(errstr, errstr_size)))
		fuzz_fail(EXPORT_NAME, "%s failed without a printable error", what);
}

static bool export_str_equal(event_str a, event_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Returns true when s starts with the bytes of prefix and then of more. */
static bool export_starts_with(event_str s, event_str prefix, event_str more)
{
	return s.len >= prefix.len + more.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0 &&
	       (more.len == 0 || memcmp(s.ptr + prefix.len, more.ptr, more.len) == 0);
}

/* Checks the event id of each kind, as slack_export.h documents it. */
static void export_check_event_id(const event *ev, slack_export_kind kind, const char *channel)
{
	char prefix[300];
	int n = snprintf(prefix, sizeof(prefix), "slack:%s:", channel);
	event_str head = {prefix, (size_t)n}, id = ev->event_id;
	bool ok;

	if (kind == SLACK_EXPORT_FILE_SHARED) {
		static const char file[] = ":file:";
		ok = export_starts_with(id, head, (event_str){NULL, 0}) &&
		     id.len >= ev->content_id.len + sizeof(file) - 1 &&
		     export_str_equal(
			 (event_str){id.ptr + id.len - ev->content_id.len - (sizeof(file) - 1),
				     sizeof(file) - 1},
			 (event_str){file, sizeof(file) - 1}) &&
		     export_str_equal(
			 (event_str){id.ptr + id.len - ev->content_id.len, ev->content_id.len},
			 ev->content_id);
	} else if (kind == SLACK_EXPORT_REACTION_ADDED) {
		ok = export_starts_with(id, head, ev->content_id) &&
		     id.len > head.len + ev->content_id.len + 10 &&
		     memcmp(id.ptr + head.len + ev->content_id.len, ":reaction:", 10) == 0;
	} else if (kind == SLACK_EXPORT_CHANNEL_JOINED) {
		ok = export_starts_with(id, head, (event_str){NULL, 0}) &&
		     memchr(id.ptr + head.len, ':', id.len - head.len) == NULL;
	} else {
		ok = export_starts_with(id, head, ev->content_id) &&
		     id.len == head.len + ev->content_id.len;
	}
	if (!ok)
		fuzz_fail(EXPORT_NAME, "the event id of a %s is not the documented one",
			  slack_export_kind_name(kind));
}

/* Checks the attributes each kind must have. */
static void export_check_attrs(const event *ev, slack_export_kind kind)
{
	if (kind == SLACK_EXPORT_REACTION_ADDED && event_attr_get(ev, "reaction").len == 0)
		fuzz_fail(EXPORT_NAME, "reaction_added without a reaction attribute");
	if (kind == SLACK_EXPORT_REPLY_POSTED && event_attr_get(ev, "thread_ts").len == 0)
		fuzz_fail(EXPORT_NAME, "reply_posted without a thread_ts attribute");
	if ((kind == SLACK_EXPORT_MESSAGE_POSTED || kind == SLACK_EXPORT_REPLY_POSTED) &&
	    event_attr_get(ev, "channel_type").len == 0)
		fuzz_fail(EXPORT_NAME, "a message without a channel_type attribute");
}

static void export_check_event(const event *ev, slack_export_kind kind, const char *channel)
{
	if (kind >= SLACK_EXPORT_KIND_COUNT)
		fuzz_fail(EXPORT_NAME, "kind %d is out of range", (int)kind);
	if (!event_str_eq(ev->kind, slack_export_kind_name(kind)))
		fuzz_fail(EXPORT_NAME, "event kind %.*s passed on as %s", (int)ev->kind.len,
			  ev->kind.ptr, slack_export_kind_name(kind));
	if (!event_str_eq(ev->source, "slack"))
		fuzz_fail(EXPORT_NAME, "source is not slack");
	if (!event_str_eq(ev->channel_id, channel))
		fuzz_fail(EXPORT_NAME, "channel_id is not the id of the channel read");
	if (ev->actor_id.len == 0)
		fuzz_fail(EXPORT_NAME, "an event without an actor");
	for (size_t i = 0; i < ev->target_count; i++)
		if (export_str_equal(ev->target_ids[i], ev->actor_id))
			fuzz_fail(EXPORT_NAME, "target %zu is the actor", i);
	export_check_event_id(ev, kind, channel);
	export_check_attrs(ev, kind);
}

static void export_event_cb(const event *ev, slack_export_kind kind, void *opaque)
{
	export_run *run = opaque;

	uint64_t h = fuzz_check_event(EXPORT_NAME, ev);
	export_check_event(ev, kind, run->channel->id);
	run->hash = (run->hash ^ h ^ (uint64_t)kind) * 0x100000001b3ULL;
	if (kind < SLACK_EXPORT_KIND_COUNT)
		run->events[kind]++;
}

static uint64_t export_total(const uint64_t *counts, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += counts[i];
	return sum;
}

/* Reads the day file once; checks the outcome against the stats. Returns the events passed on. */
static uint64_t export_read_day(slack_export *x, const slack_export_channel *ch,
				const export_input *in, export_run *run)
{
	slack_export_stats before = *slack_export_get_stats(x);
	char errstr[256];

	memset(run, 0, sizeof(*run));
	run->channel = ch;
	errstr[0] = '\0';
	int rc = slack_export_read_day(x, ch, in->day.ptr, in->day.len, export_event_cb, run,
				       errstr, sizeof(errstr));
	export_check_rc(rc, errstr, sizeof(errstr), "slack_export_read_day");

	const slack_export_stats *after = slack_export_get_stats(x);
	uint64_t passed = export_total(run->events, SLACK_EXPORT_KIND_COUNT);
	if (rc == -1 && passed > 0)
		fuzz_fail(EXPORT_NAME, "a rejected day file passed on %llu events",
			  (unsigned long long)passed);
	for (size_t k = 0; k < SLACK_EXPORT_KIND_COUNT; k++)
		if (after->events[k] - before.events[k] != run->events[k])
			fuzz_fail(EXPORT_NAME, "the stats count %s events that were not passed on",
				  slack_export_kind_name((slack_export_kind)k));
	uint64_t counted = passed + export_total(after->reasons, SLACK_EXPORT_REASON_COUNT) -
			   export_total(before.reasons, SLACK_EXPORT_REASON_COUNT);
	if (after->records - before.records > counted)
		fuzz_fail(EXPORT_NAME, "a record was read but counted neither as event nor reason");
	return passed;
}

/* Loads users and the listing when present; checks both calls. */
static void export_load(slack_export *x, const export_input *in)
{
	char errstr[256];

	if (in->small_limit)
		slack_export_set_max_file_bytes(x, EXPORT_SMALL_FILE_LIMIT);
	if (in->users.len > 0) {
		errstr[0] = '\0';
		int rc = slack_export_load_users(x, in->users.ptr, in->users.len, errstr,
						 sizeof(errstr));
		export_check_rc(rc, errstr, sizeof(errstr), "slack_export_load_users");
	}
	if (in->listing_file.len > 0) {
		errstr[0] = '\0';
		int rc = slack_export_load_listing(x, in->listing, in->listing_file.ptr,
						   in->listing_file.len, errstr, sizeof(errstr));
		export_check_rc(rc, errstr, sizeof(errstr), "slack_export_load_listing");
	}
}

/* Returns the channel of the folder, checking that lookup; else the harness's own. */
static const slack_export_channel *export_channel(const slack_export *x, const export_input *in,
						  slack_export_channel *own)
{
	const slack_export_channel *ch = slack_export_find_channel(x, in->folder);

	if (ch == NULL) {
		*own = (slack_export_channel){"C0FUZZ0001", "fuzz-lounge", in->listing};
		return own;
	}
	if (ch->id == NULL || (strcmp(ch->id, in->folder) != 0 &&
			       (ch->name == NULL || strcmp(ch->name, in->folder) != 0)))
		fuzz_fail(EXPORT_NAME, "the channel found is named neither by its name nor its id");
	return ch;
}

/* Runs one reader over the input; fills *first with the first read of the day file. */
static void export_run_reader(const export_input *in, export_run *first, slack_export_stats *stats)
{
	slack_export *x = slack_export_new();
	slack_export_channel own;
	export_run again;

	if (x == NULL)
		fuzz_fail(EXPORT_NAME, "cannot create a reader");
	export_load(x, in);
	const slack_export_channel *ch = export_channel(x, in, &own);
	export_read_day(x, ch, in, first);
	*stats = *slack_export_get_stats(x);

	/* The same day file again: every record was seen, so nothing counts twice. */
	if (export_read_day(x, ch, in, &again) > 0)
		fuzz_fail(EXPORT_NAME, "reading a day file twice passed its events on twice");
	slack_export_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	export_input in;
	export_run first, second;
	slack_export_stats stats_first, stats_second;

	export_split(data, size, &in);
	export_run_reader(&in, &first, &stats_first);
	export_run_reader(&in, &second, &stats_second);
	if (first.hash != second.hash ||
	    memcmp(first.events, second.events, sizeof(first.events)) != 0 ||
	    memcmp(&stats_first, &stats_second, sizeof(stats_first)) != 0)
		fuzz_fail(EXPORT_NAME, "two readers of the same input passed on different events");
	return 0;
}
