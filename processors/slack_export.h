/*
 * slack_export.h - Slack export archives to canonical events.
 *
 * A Slack export is a folder that contains users.json and the channel
 * listings: channels.json for public channels, groups.json for private
 * ones, mpims.json and dms.json for direct messages. Each channel has a
 * folder with one file per day, YYYY-MM-DD.json, an array of message
 * records.
 * Public and private channel folders and mpim folders are named after the
 * channel's name and DM folders after the channel's id. This module reads
 * those files from memory; daemon/backfill.c walks the folder and produces
 * the events.
 *
 * Records map to the kinds of the live Slack adapter (decode_slack.h):
 *   message, top level (ts == thread_ts or no thread_ts) -> message_posted
 *   message in a thread (thread_ts != ts)              -> reply_posted
 *   each entry of files[] of such a message             -> file_shared
 *   each user of each reactions[] entry                 -> reaction_added
 *   subtype channel_join or group_join                  -> channel_joined
 * Subtypes file_share, thread_broadcast and me_message map like a plain
 * message, as live. Every event has source "slack", so the behaviour rules
 * written for the live adapter count backfilled events the same way.
 *
 * Fields, set as the live adapter sets them for the same message:
 *   - messages: actor = user, targets = people mentioned in the text and in
 *     rich_text blocks (without the author), content = ts, attributes
 *     channel_type (channel, group, mpim or im, from the listing), thread_ts
 *     (replies) and has_files=true (files[] not empty or subtype file_share);
 *   - reactions: actor = reactor, target = the message's author unless that
 *     is the reactor, content = the message's ts, attribute reaction=<name>;
 *     time = the message's time, because an export has no reaction time;
 *   - file_shared: actor = the message's author, content = file id;
 *   - channel_joined: actor = user, attribute channel_type C (public) or
 *     G (private), as member_joined_channel carries it.
 *
 * Event ids are stable across runs:
 *   message_posted, reply_posted, channel_joined  slack:<channel>:<ts>
 *   reaction_added   slack:<channel>:<ts>:reaction:<name>:<reactor>
 *   file_shared      slack:<channel>:<ts>:file:<file id>
 * The first equals the id the live adapter derives for a message that
 * arrives without its Events API envelope. A ts written as a JSON number is
 * turned into the string form with six decimals first.
 *
 * Ignored, counted by reason: records repeated with a ts already seen in the
 * channel (duplicate_record), messages of bots (bot_id, subtype
 * bot_message, an author flagged is_bot in users.json, or USLACKBOT;
 * reason bot_message) and reactions of bots (bot_reaction), messages and
 * reactions of users flagged deleted (deleted_user), deleted messages
 * (subtype tombstone), Slack's own notices (system_message), other subtypes
 * (unsupported_subtype), records whose type is not message
 * (unsupported_type) and files removed from Slack (removed_file: mode
 * tombstone or hidden_by_limit). A thread parent's replies[] list is not
 * read, because each reply is a record of its own in the export.
 * Rejected, counted by reason: records that are not objects
 * (not_an_object), without user (missing_field), without a valid ts
 * (invalid_ts) and events with an id or attribute over 256 bytes
 * (id_too_long).
 *
 * No text, name or e-mail address is copied out: events carry ids only, and
 * error messages name the file part and the position, never the content.
 *
 * Single-threaded. Events borrow from the parsed day file and from buffers
 * of the reader, so they are valid only during the callback.
 */
#ifndef ADVOCACY_SLACK_EXPORT_H
#define ADVOCACY_SLACK_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/*
 * Largest file the reader accepts, in bytes. cJSON keeps the whole
 * document as a tree of nodes, so a file needs about five times its size in
 * memory while it is read. `advocacyd backfill --dry-run` peaked at 317 MiB
 * RSS on a generated 60 MiB day file of 156,455 indented messages (cJSON
 * 1.7.15, 2-core x86-64 VM), and at 406 MiB on the same file with jansson
 * 2.14. With jansson an earlier file of 97,863 longer messages took 537 MiB.
 */
#define SLACK_EXPORT_MAX_FILE_BYTES (64L * 1024 * 1024)

typedef enum slack_export_listing {
	SLACK_EXPORT_CHANNELS, /* channels.json: public channels */
	SLACK_EXPORT_GROUPS,   /* groups.json: private channels */
	SLACK_EXPORT_MPIMS,    /* mpims.json: group direct messages */
	SLACK_EXPORT_DMS,      /* dms.json: direct messages */
	SLACK_EXPORT_LISTING_COUNT,
} slack_export_listing;

/* File name of each listing, indexed by slack_export_listing. */
extern const char *const slack_export_listing_files[SLACK_EXPORT_LISTING_COUNT];

typedef enum slack_export_kind {
	SLACK_EXPORT_MESSAGE_POSTED,
	SLACK_EXPORT_REPLY_POSTED,
	SLACK_EXPORT_REACTION_ADDED,
	SLACK_EXPORT_FILE_SHARED,
	SLACK_EXPORT_CHANNEL_JOINED,
	SLACK_EXPORT_KIND_COUNT,
} slack_export_kind;

/* Why a record, reaction or file produced no event. */
typedef enum slack_export_reason {
	/* ignored: valid input without a behaviour */
	SLACK_EXPORT_DUPLICATE_RECORD,
	SLACK_EXPORT_BOT_MESSAGE,
	SLACK_EXPORT_BOT_REACTION,
	SLACK_EXPORT_DELETED_USER,
	SLACK_EXPORT_TOMBSTONE,
	SLACK_EXPORT_SYSTEM_MESSAGE,
	SLACK_EXPORT_UNSUPPORTED_SUBTYPE,
	SLACK_EXPORT_UNSUPPORTED_TYPE,
	SLACK_EXPORT_REMOVED_FILE,
	/* rejected: malformed input, an error of the run */
	SLACK_EXPORT_NOT_AN_OBJECT,
	SLACK_EXPORT_MISSING_FIELD,
	SLACK_EXPORT_INVALID_TS,
	SLACK_EXPORT_ID_TOO_LONG,
	SLACK_EXPORT_REASON_COUNT,
} slack_export_reason;

/* First reason that counts as rejected; the ones before it are ignored. */
#define SLACK_EXPORT_FIRST_REJECTED SLACK_EXPORT_NOT_AN_OBJECT

typedef struct slack_export_stats {
	uint64_t records;			     /* records read from day files */
	uint64_t events[SLACK_EXPORT_KIND_COUNT];    /* events passed to the callback */
	uint64_t reasons[SLACK_EXPORT_REASON_COUNT]; /* records, reactions or files */
} slack_export_stats;

typedef struct slack_export_channel {
	char *id;
	char *name; /* NULL in dms.json, whose folders are named by id */
	slack_export_listing listing;
} slack_export_channel;

typedef struct slack_export slack_export;

/* Called once per event; the event is valid during the call only. */
typedef void (*slack_export_event_cb)(const event *ev, slack_export_kind kind, void *opaque);

/* Returns a new reader, or NULL when out of memory. */
slack_export *slack_export_new(void);
void slack_export_free(slack_export *x);

/* Sets the largest file accepted (default SLACK_EXPORT_MAX_FILE_BYTES). */
void slack_export_set_max_file_bytes(slack_export *x, size_t max_bytes);
size_t slack_export_max_file_bytes(const slack_export *x);

/*
 * Reads users.json: remembers which ids are bots and which are deleted.
 * Returns the number of entries without an id (skipped), or -1 with errstr
 * saying why the file as a whole is unusable (too large, invalid JSON, not
 * an array, out of memory).
 */
int slack_export_load_users(slack_export *x, const char *buf, size_t len, char *errstr,
			    size_t errstr_size);

/*
 * Reads one channel listing. Returns the number of entries without an id
 * (skipped), or -1 with errstr as for slack_export_load_users.
 */
int slack_export_load_listing(slack_export *x, slack_export_listing listing, const char *buf,
			      size_t len, char *errstr, size_t errstr_size);

/* Returns the channel whose folder is named folder (its name, or its id), or NULL. */
const slack_export_channel *slack_export_find_channel(const slack_export *x, const char *folder);

/*
 * Reads one day file of channel ch and calls cb for every event, adding to
 * the counts of slack_export_get_stats(). Returns 0, or -1 with errstr when
 * the file as a whole is unusable (too large, invalid JSON with its line
 * and column, not an array), and then no event of it was passed on. Also
 * returns -1 when memory runs out part way. A malformed record only adds
 * to the rejected counts.
 */
int slack_export_read_day(slack_export *x, const slack_export_channel *ch, const char *buf,
			  size_t len, slack_export_event_cb cb, void *opaque, char *errstr,
			  size_t errstr_size);

const slack_export_stats *slack_export_get_stats(const slack_export *x);

const char *slack_export_kind_name(slack_export_kind kind);
const char *slack_export_reason_name(slack_export_reason reason);

/* True for a reason of malformed input, which makes the run fail. */
static inline bool slack_export_reason_rejected(slack_export_reason reason)
{
	return reason >= SLACK_EXPORT_FIRST_REJECTED;
}

#endif
