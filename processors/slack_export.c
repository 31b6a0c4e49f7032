/*
 * slack_export.c - Slack export archives to canonical events (see
 * slack_export.h for the mapping).
 *
 * Each file is parsed whole with cJSON under jansson's acceptance rules
 * (decode_cjson.h), as the live adapter parses a message. Users and channels are kept for
 * the whole run: users as two sets of 64-bit hashes of their ids (bots and
 * deleted accounts), channels as an array searched linearly when a folder
 * is opened, once per folder. Records already seen are kept as one hash of
 * channel id and ts each, 8 bytes per record plus the table's free space,
 * so that a record repeated in another day file is counted once.
 *
 * Message targets, the ts format and the id length limit come from the live
 * adapter (decode_slack_internal.h), so that both yield the same event for
 * the same message.
 *
 * Limits: a file above the maximum size is rejected before it is parsed. A
 * 64-bit hash collision between two record keys (about n^2 / 2^65 for n
 * records) would make the second record count as a repeat.
 */
#include "slack_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_cjson.h"
#include "decode_json.h"
#include "decode_slack_internal.h"

/* Buffer size of an event id: "slack:" channel ":" ts ":reaction:" name ":" user. */
#define SLACK_EXPORT_ID_SIZE (4 * DECODE_SLACK_MAX_ID)

/* Buffer size of a ts written from a JSON number with six decimals. */
#define SLACK_EXPORT_TS_SIZE 48

/* Latest ts in seconds accepted from a JSON number: year 5138, far past any export. */
#define SLACK_EXPORT_MAX_TS_SECONDS 1e11

const char *const slack_export_listing_files[SLACK_EXPORT_LISTING_COUNT] = {
    "channels.json",
    "groups.json",
    "mpims.json",
    "dms.json",
};

static const char *const slack_export_kind_names[SLACK_EXPORT_KIND_COUNT] = {
    "message_posted", "reply_posted", "reaction_added", "file_shared", "channel_joined",
};

static const char *const slack_export_reason_names[SLACK_EXPORT_REASON_COUNT] = {
    "duplicate_record", "bot_message",	       "bot_reaction",	   "deleted_user", "tombstone",
    "system_message",	"unsupported_subtype", "unsupported_type", "removed_file", "not_an_object",
    "missing_field",	"invalid_ts",	       "id_too_long",
};

/*
 * Subtypes Slack posts on its own. The list of the live adapter, without
 * the joins (which an export records only as messages, so they become
 * channel_joined here) and without tombstone (counted apart).
 */
static const char *const slack_export_system_subtypes[] = {
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "channel_convert_to_private",
    "channel_convert_to_public",
    "channel_posting_permissions",
    "group_leave",
    "group_topic",
    "group_purpose",
    "group_name",
    "group_archive",
    "group_unarchive",
    "pinned_item",
    "unpinned_item",
    "message_replied",
    "reminder_add",
    "ekm_access_denied",
    "bot_add",
    "bot_remove",
    "huddle_thread",
    "sh_room_created",
    "assistant_app_thread",
    "joiner_notification_for_inviter",
    "slackbot_response",
};

/* Open-addressing set of nonzero 64-bit hashes; grows at half load. */
typedef struct slack_export_set {
	uint64_t *slots;
	size_t cap; /* a power of two, or 0 */
	size_t count;
} slack_export_set;

struct slack_export {
	size_t max_file_bytes;
	slack_export_set bots;
	slack_export_set deleted;
	slack_export_set seen; /* channel id and ts of every record read */
	slack_export_channel *channels;
	size_t n_channels, cap_channels;
	slack_export_stats stats;
	char event_id[SLACK_EXPORT_ID_SIZE];
	char ts[SLACK_EXPORT_TS_SIZE];
	char thread_ts[SLACK_EXPORT_TS_SIZE];
};

/* What the events of one message record share. */
typedef struct slack_export_message {
	const cJSON *record;
	const slack_export_channel *channel;
	event_str ts;
	int64_t time_ms;
	event_str author; /* absent for a message without user */
} slack_export_message;

/* ----------------------------------------------------------------------------
 * Hash sets
 * ------------------------------------------------------------------------- */

/* FNV-1a over a and, after a separator byte, b. Never 0. */
static uint64_t slack_export_hash(event_str a, event_str b)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < a.len; i++)
		h = (h ^ (unsigned char)a.ptr[i]) * 1099511628211ULL;
	h = (h ^ 0xffu) * 1099511628211ULL;
	for (size_t i = 0; i < b.len; i++)
		h = (h ^ (unsigned char)b.ptr[i]) * 1099511628211ULL;
	return h ? h : 1;
}

static bool slack_export_set_has(const slack_export_set *s, uint64_t h)
{
	if (s->cap == 0)
		return false;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == h)
			return true;
		if (s->slots[i] == 0)
			return false;
	}
}

static void slack_export_set_put(slack_export_set *s, uint64_t h)
{
	size_t i = h & (s->cap - 1);

	while (s->slots[i] != 0 && s->slots[i] != h)
		i = (i + 1) & (s->cap - 1);
	if (s->slots[i] == 0)
		s->count++;
	s->slots[i] = h;
}

/* Doubles the table. Returns 0, or -1 when out of memory. */
static int slack_export_set_grow(slack_export_set *s)
{
	slack_export_set bigger = {.cap = s->cap ? s->cap * 2 : 1024};

	bigger.slots = calloc(bigger.cap, sizeof(uint64_t));
	if (!bigger.slots)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i] != 0)
			slack_export_set_put(&bigger, s->slots[i]);
	free(s->slots);
	*s = bigger;
	return 0;
}

/* Adds h. Returns 1 when it was new, 0 when already there, -1 when out of memory. */
static int slack_export_set_add(slack_export_set *s, uint64_t h)
{
	if (slack_export_set_has(s, h))
		return 0;
	if ((s->count + 1) * 2 > s->cap && slack_export_set_grow(s) < 0)
		return -1;
	slack_export_set_put(s, h);
	return 1;
}

/* ----------------------------------------------------------------------------
 * Lifecycle and helpers
 * ------------------------------------------------------------------------- */

slack_export *slack_export_new(void)
{
	slack_export *x = calloc(1, sizeof(*x));

	if (x)
		x->max_file_bytes = SLACK_EXPORT_MAX_FILE_BYTES;
	return x;
}

void slack_export_free(slack_export *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n_channels; i++) {
		free(x->channels[i].id);
		free(x->channels[i].name);
	}
	free(x->channels);
	free(x->bots.slots);
	free(x->deleted.slots);
	free(x->seen.slots);
	free(x);
}

void slack_export_set_max_file_bytes(slack_export *x, size_t max_bytes)
{
	x->max_file_bytes = max_bytes;
}

size_t slack_export_max_file_bytes(const slack_export *x)
{
	return x->max_file_bytes;
}

const slack_export_stats *slack_export_get_stats(const slack_export *x)
{
	return &x->stats;
}

const char *slack_export_kind_name(slack_export_kind kind)
{
	return kind < SLACK_EXPORT_KIND_COUNT ? slack_export_kind_names[kind] : "unknown";
}

const char *slack_export_reason_name(slack_export_reason reason)
{
	return reason < SLACK_EXPORT_REASON_COUNT ? slack_export_reason_names[reason] : "unknown";
}

static int slack_export_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int slack_export_fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errstr, errstr_size, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Parses buf as a JSON array into doc. Returns the array, or NULL with
 * errstr. Only the position of a syntax error is given, never the input.
 */
static const cJSON *slack_export_parse_array(const slack_export *x, decode_cjson *doc,
					     const char *buf, size_t len, char *errstr,
					     size_t errstr_size)
{
	decode_cjson_error error;

	if (len > x->max_file_bytes) {
		slack_export_fail(errstr, errstr_size,
				  "file_too_large: %zu bytes, more than the "
				  "limit of %zu; split the day file or leave it out",
				  len, x->max_file_bytes);
		return NULL;
	}
	const cJSON *array = decode_cjson_parse(doc, buf, len, &error);
	if (!array) {
		slack_export_fail(errstr, errstr_size,
				  "invalid_json: not valid JSON (line %d, "
				  "column %d)",
				  error.line, error.column);
		return NULL;
	}
	if (!cJSON_IsArray(array)) {
		slack_export_fail(errstr, errstr_size,
				  "not_an_array: the document is not a JSON "
				  "array of records");
		decode_cjson_close(doc);
		return NULL;
	}
	return array;
}

static bool slack_export_in(event_str s, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (event_str_eq(s, list[i]))
			return true;
	return false;
}

static bool slack_export_str_equal(event_str a, event_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static event_str slack_export_cstr(const char *s)
{
	return (event_str){s, s ? strlen(s) : 0};
}

static bool slack_export_is_bot_user(const slack_export *x, event_str user)
{
	return event_str_eq(user, "USLACKBOT") ||
	       slack_export_set_has(&x->bots, slack_export_hash(user, (event_str){0}));
}

static bool slack_export_is_deleted_user(const slack_export *x, event_str user)
{
	return slack_export_set_has(&x->deleted, slack_export_hash(user, (event_str){0}));
}

/* ----------------------------------------------------------------------------
 * Users and channel listings
 * ------------------------------------------------------------------------- */

/* Adds the user's id to the bot and deleted sets as flagged. Returns 0 or -1. */
static int slack_export_add_user(slack_export *x, const cJSON *user, event_str id)
{
	uint64_t h = slack_export_hash(id, (event_str){0});

	if (cJSON_IsTrue(decode_cjson_get(user, "is_bot")) && slack_export_set_add(&x->bots, h) < 0)
		return -1;
	if (cJSON_IsTrue(decode_cjson_get(user, "deleted")) &&
	    slack_export_set_add(&x->deleted, h) < 0)
		return -1;
	return 0;
}

int slack_export_load_users(slack_export *x, const char *buf, size_t len, char *errstr,
			    size_t errstr_size)
{
	decode_cjson doc = {0};
	const cJSON *users = slack_export_parse_array(x, &doc, buf, len, errstr, errstr_size);
	const cJSON *user;
	int skipped = 0;

	if (!users)
		return -1;
	cJSON_ArrayForEach(user, users)
	{
		event_str id = decode_cjson_str(user, "id");
		if (id.len == 0) {
			skipped++;
			continue;
		}
		if (slack_export_add_user(x, user, id) < 0) {
			decode_cjson_close(&doc);
			return slack_export_fail(errstr, errstr_size, "out of memory");
		}
	}
	decode_cjson_close(&doc);
	return skipped;
}

/* Appends one channel. Returns 0, or -1 when out of memory. */
static int slack_export_add_channel(slack_export *x, slack_export_listing listing, event_str id,
				    event_str name)
{
	if (x->n_channels == x->cap_channels) {
		size_t cap = x->cap_channels ? x->cap_channels * 2 : 64;
		slack_export_channel *grown = realloc(x->channels, cap * sizeof(*grown));
		if (!grown)
			return -1;
		x->channels = grown;
		x->cap_channels = cap;
	}

	slack_export_channel *ch = &x->channels[x->n_channels];
	ch->listing = listing;
	ch->id = strndup(id.ptr, id.len);
	ch->name = name.len ? strndup(name.ptr, name.len) : NULL;
	if (!ch->id || (name.len && !ch->name)) {
		free(ch->id);
		free(ch->name);
		return -1;
	}
	x->n_channels++;
	return 0;
}

int slack_export_load_listing(slack_export *x, slack_export_listing listing, const char *buf,
			      size_t len, char *errstr, size_t errstr_size)
{
	decode_cjson doc = {0};
	const cJSON *entries = slack_export_parse_array(x, &doc, buf, len, errstr, errstr_size);
	const cJSON *entry;
	int skipped = 0;

	if (!entries)
		return -1;
	cJSON_ArrayForEach(entry, entries)
	{
		event_str id = decode_cjson_str(entry, "id");
		if (id.len == 0 || id.len > DECODE_SLACK_MAX_ID) {
			skipped++;
			continue;
		}
		if (slack_export_add_channel(x, listing, id, decode_cjson_str(entry, "name")) < 0) {
			decode_cjson_close(&doc);
			return slack_export_fail(errstr, errstr_size, "out of memory");
		}
	}
	decode_cjson_close(&doc);
	return skipped;
}

const slack_export_channel *slack_export_find_channel(const slack_export *x, const char *folder)
{
	/* Names first: a channel named like another channel's id is found by its name. */
	for (size_t i = 0; i < x->n_channels; i++)
		if (x->channels[i].name && strcmp(x->channels[i].name, folder) == 0)
			return &x->channels[i];
	for (size_t i = 0; i < x->n_channels; i++)
		if (strcmp(x->channels[i].id, folder) == 0)
			return &x->channels[i];
	return NULL;
}

/* ----------------------------------------------------------------------------
 * Timestamps
 * ------------------------------------------------------------------------- */

/*
 * Returns the ts at key of record as a string: a string as it is, a JSON
 * number written with six decimals into buf (size SLACK_EXPORT_TS_SIZE).
 * Returns an absent string when the value is neither, or is not a positive
 * Slack timestamp of at most DECODE_SLACK_MAX_TS bytes.
 */
static event_str slack_export_ts(const cJSON *record, const char *key, char *buf)
{
	const cJSON *v = decode_cjson_get(record, key);
	event_str ts = {NULL, 0};

	if (cJSON_IsString(v)) {
		ts = decode_cjson_str_value(v);
	} else if (cJSON_IsNumber(v)) {
		double seconds = v->valuedouble;
		if (seconds > 0 && seconds < SLACK_EXPORT_MAX_TS_SECONDS) {
			int n = snprintf(buf, SLACK_EXPORT_TS_SIZE, "%.6f", seconds);
			ts = (event_str){buf, (size_t)n};
		}
	}
	if (ts.len == 0 || ts.len > DECODE_SLACK_MAX_TS || decode_slack_ts_ms(ts) <= 0)
		return (event_str){NULL, 0};
	return ts;
}

/* ----------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------- */

static void slack_export_count(slack_export *x, slack_export_reason reason)
{
	x->stats.reasons[reason]++;
}

static void slack_export_add_attr(event *ev, const char *key, event_str value)
{
	if (value.len == 0 || ev->attr_count == EVENT_MAX_ATTRS)
		return;
	ev->attrs[ev->attr_count++] = (event_attr){{key, strlen(key)}, value};
}

/* Writes the event id: "slack:<channel>:<ts>" and the suffix, if any. */
static void slack_export_set_id(slack_export *x, event *ev, const slack_export_message *m,
				const char *suffix, event_str a, event_str b)
{
	int n = snprintf(x->event_id, sizeof(x->event_id), "slack:%s:%.*s%s%.*s%s%.*s",
			 m->channel->id, (int)m->ts.len, m->ts.ptr, suffix, (int)a.len,
			 a.ptr ? a.ptr : "", b.len ? ":" : "", (int)b.len, b.ptr ? b.ptr : "");
	if (n < 0 || (size_t)n >= sizeof(x->event_id))
		n = (int)sizeof(x->event_id) - 1; /* over DECODE_SLACK_MAX_ID: rejected later */
	ev->event_id = (event_str){x->event_id, (size_t)n};
}

/* Fills what every event of message m has. */
static void slack_export_event_init(event *ev, const slack_export_message *m, event_str actor)
{
	memset(ev, 0, sizeof(*ev));
	ev->event_time_ms = m->time_ms;
	ev->source = (event_str){"slack", 5};
	ev->actor_id = actor;
	ev->channel_id = slack_export_cstr(m->channel->id);
}

static bool slack_export_lengths_ok(const event *ev)
{
	const event_str ids[] = {ev->event_id, ev->actor_id, ev->content_id, ev->channel_id};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (ids[i].len > DECODE_SLACK_MAX_ID)
			return false;
	for (size_t i = 0; i < ev->attr_count; i++)
		if (ev->attrs[i].value.len > DECODE_SLACK_MAX_ID)
			return false;
	return true;
}

/* Passes ev on, or counts it as id_too_long. */
static void slack_export_emit(slack_export *x, const event *ev, slack_export_kind kind,
			      slack_export_event_cb cb, void *opaque)
{
	if (!slack_export_lengths_ok(ev)) {
		slack_export_count(x, SLACK_EXPORT_ID_TOO_LONG);
		return;
	}
	x->stats.events[kind]++;
	cb(ev, kind, opaque);
}

/* The channel_type attribute of a message, as the Events API names it. */
static event_str slack_export_message_channel_type(slack_export_listing listing)
{
	static const char *const names[SLACK_EXPORT_LISTING_COUNT] = {
	    "channel",
	    "group",
	    "mpim",
	    "im",
	};
	return slack_export_cstr(names[listing]);
}

/* message_posted or reply_posted for a message by a person. */
static void slack_export_posted(slack_export *x, const slack_export_message *m, event_str subtype,
				slack_export_event_cb cb, void *opaque)
{
	event ev;
	event_str thread_ts = slack_export_ts(m->record, "thread_ts", x->thread_ts);
	bool reply = thread_ts.len > 0 && !slack_export_str_equal(thread_ts, m->ts);

	slack_export_event_init(&ev, m, m->author);
	slack_export_set_id(x, &ev, m, "", (event_str){0}, (event_str){0});
	ev.kind = reply ? (event_str){"reply_posted", 12} : (event_str){"message_posted", 14};
	ev.content_id = m->ts;

	slack_export_add_attr(&ev, "channel_type",
			      slack_export_message_channel_type(m->channel->listing));
	if (reply)
		slack_export_add_attr(&ev, "thread_ts", thread_ts);
	if (event_str_eq(subtype, "file_share") ||
	    decode_cjson_nonempty_array(decode_cjson_get(m->record, "files")))
		slack_export_add_attr(&ev, "has_files", (event_str){"true", 4});

	decode_slack_message_targets(&ev, m->record);
	slack_export_emit(x, &ev, reply ? SLACK_EXPORT_REPLY_POSTED : SLACK_EXPORT_MESSAGE_POSTED,
			  cb, opaque);
}

/* One file_shared per file the message carries, skipping removed files. */
static void slack_export_files(slack_export *x, const slack_export_message *m,
			       slack_export_event_cb cb, void *opaque)
{
	const cJSON *files = decode_cjson_get(m->record, "files");
	const cJSON *file;

	if (!cJSON_IsArray(files))
		return;
	cJSON_ArrayForEach(file, files)
	{
		event_str id = decode_cjson_str(file, "id");
		event_str mode = decode_cjson_str(file, "mode");
		if (id.len == 0 || event_str_eq(mode, "tombstone") ||
		    event_str_eq(mode, "hidden_by_limit")) {
			slack_export_count(x, SLACK_EXPORT_REMOVED_FILE);
			continue;
		}

		event ev;
		slack_export_event_init(&ev, m, m->author);
		slack_export_set_id(x, &ev, m, ":file:", id, (event_str){0});
		ev.kind = (event_str){"file_shared", 11};
		ev.content_id = id;
		slack_export_emit(x, &ev, SLACK_EXPORT_FILE_SHARED, cb, opaque);
	}
}

static void slack_export_joined(slack_export *x, const slack_export_message *m,
				slack_export_event_cb cb, void *opaque)
{
	event ev;
	slack_export_listing listing = m->channel->listing;

	slack_export_event_init(&ev, m, m->author);
	slack_export_set_id(x, &ev, m, "", (event_str){0}, (event_str){0});
	ev.kind = (event_str){"channel_joined", 14};
	if (listing == SLACK_EXPORT_CHANNELS || listing == SLACK_EXPORT_GROUPS)
		slack_export_add_attr(&ev, "channel_type",
				      (event_str){listing == SLACK_EXPORT_CHANNELS ? "C" : "G", 1});
	slack_export_emit(x, &ev, SLACK_EXPORT_CHANNEL_JOINED, cb, opaque);
}

/* One reaction_added for one reactor of one reaction. */
static void slack_export_reactor(slack_export *x, const slack_export_message *m, event_str name,
				 event_str reactor, slack_export_event_cb cb, void *opaque)
{
	event ev;

	if (slack_export_is_bot_user(x, reactor)) {
		slack_export_count(x, SLACK_EXPORT_BOT_REACTION);
		return;
	}
	if (slack_export_is_deleted_user(x, reactor)) {
		slack_export_count(x, SLACK_EXPORT_DELETED_USER);
		return;
	}
	slack_export_event_init(&ev, m, reactor);
	slack_export_set_id(x, &ev, m, ":reaction:", name, reactor);
	ev.kind = (event_str){"reaction_added", 14};
	ev.content_id = m->ts;
	decode_slack_add_target(&ev, m->author);
	slack_export_add_attr(&ev, "reaction", name);
	slack_export_emit(x, &ev, SLACK_EXPORT_REACTION_ADDED, cb, opaque);
}

/*
 * Every reactor of every reaction on the message, whatever the message is:
 * a reaction on a bot's or Slack's message is still a person's reaction,
 * and the live adapter counts it too. Entries without a name are skipped.
 */
static void slack_export_reactions(slack_export *x, const slack_export_message *m,
				   slack_export_event_cb cb, void *opaque)
{
	const cJSON *reactions = decode_cjson_get(m->record, "reactions");
	const cJSON *reaction, *user;

	if (!cJSON_IsArray(reactions))
		return;
	cJSON_ArrayForEach(reaction, reactions)
	{
		event_str name = decode_cjson_str(reaction, "name");
		if (name.len == 0) {
			slack_export_count(x, SLACK_EXPORT_MISSING_FIELD);
			continue;
		}

		/* cJSON_ArrayForEach would also walk the members of an object. */
		const cJSON *users = decode_cjson_get(reaction, "users");
		if (!cJSON_IsArray(users))
			continue;
		cJSON_ArrayForEach(user, users)
		{
			event_str reactor = decode_cjson_str_value(user);
			if (reactor.len > 0)
				slack_export_reactor(x, m, name, reactor, cb, opaque);
		}
	}
}

/* ----------------------------------------------------------------------------
 * Records
 * ------------------------------------------------------------------------- */

static bool slack_export_by_bot(const slack_export *x, const slack_export_message *m,
				event_str subtype)
{
	return decode_cjson_str(m->record, "bot_id").len > 0 ||
	       event_str_eq(subtype, "bot_message") ||
	       (m->author.len > 0 && slack_export_is_bot_user(x, m->author));
}

/* Returns the reason the message itself yields no event, or -1 when it yields some. */
static int slack_export_message_skip(const slack_export *x, const slack_export_message *m,
				     event_str subtype, bool posted, bool joined)
{
	if (event_str_eq(subtype, "tombstone"))
		return SLACK_EXPORT_TOMBSTONE;
	if (slack_export_by_bot(x, m, subtype))
		return SLACK_EXPORT_BOT_MESSAGE;
	if (!posted && !joined)
		return slack_export_in(subtype, slack_export_system_subtypes,
				       sizeof(slack_export_system_subtypes) / sizeof(char *))
			   ? SLACK_EXPORT_SYSTEM_MESSAGE
			   : SLACK_EXPORT_UNSUPPORTED_SUBTYPE;
	if (m->author.len == 0)
		return SLACK_EXPORT_MISSING_FIELD;
	if (slack_export_is_deleted_user(x, m->author))
		return SLACK_EXPORT_DELETED_USER;
	return -1;
}

/* Maps the message itself by its subtype; reactions are handled apart. */
static void slack_export_message_events(slack_export *x, const slack_export_message *m,
					slack_export_event_cb cb, void *opaque)
{
	event_str subtype = decode_cjson_str(m->record, "subtype");
	bool posted = subtype.len == 0 || event_str_eq(subtype, "file_share") ||
		      event_str_eq(subtype, "thread_broadcast") ||
		      event_str_eq(subtype, "me_message");
	bool joined = event_str_eq(subtype, "channel_join") || event_str_eq(subtype, "group_join");

	int skip = slack_export_message_skip(x, m, subtype, posted, joined);
	if (skip >= 0) {
		slack_export_count(x, (slack_export_reason)skip);
	} else if (joined) {
		slack_export_joined(x, m, cb, opaque);
	} else {
		slack_export_posted(x, m, subtype, cb, opaque);
		slack_export_files(x, m, cb, opaque);
	}
}

/*
 * Reads one record. Returns 0, or -1 when out of memory for the set of
 * records seen.
 */
static int slack_export_record(slack_export *x, const slack_export_channel *ch, const cJSON *record,
			       slack_export_event_cb cb, void *opaque)
{
	slack_export_message m = {.record = record, .channel = ch};

	x->stats.records++;
	if (!cJSON_IsObject(record)) {
		slack_export_count(x, SLACK_EXPORT_NOT_AN_OBJECT);
		return 0;
	}
	event_str type = decode_cjson_str(record, "type");
	if (type.len > 0 && !event_str_eq(type, "message")) {
		slack_export_count(x, SLACK_EXPORT_UNSUPPORTED_TYPE);
		return 0;
	}
	m.ts = slack_export_ts(record, "ts", x->ts);
	if (m.ts.len == 0) {
		slack_export_count(x, SLACK_EXPORT_INVALID_TS);
		return 0;
	}
	m.time_ms = decode_slack_ts_ms(m.ts);
	m.author = decode_cjson_str(record, "user");

	/* A record repeated in the export (same channel and ts) counts once. */
	uint64_t key = slack_export_hash(slack_export_cstr(ch->id), m.ts);
	int added = slack_export_set_add(&x->seen, key);
	if (added < 0)
		return -1;
	if (added == 0) {
		slack_export_count(x, SLACK_EXPORT_DUPLICATE_RECORD);
		return 0;
	}

	slack_export_message_events(x, &m, cb, opaque);
	slack_export_reactions(x, &m, cb, opaque);
	return 0;
}

int slack_export_read_day(slack_export *x, const slack_export_channel *ch, const char *buf,
			  size_t len, slack_export_event_cb cb, void *opaque, char *errstr,
			  size_t errstr_size)
{
	decode_cjson doc = {0};
	const cJSON *records = slack_export_parse_array(x, &doc, buf, len, errstr, errstr_size);
	const cJSON *record;
	size_t i = 0;
	int rc = 0;

	if (!records)
		return -1;
	cJSON_ArrayForEach(record, records)
	{
		if (slack_export_record(x, ch, record, cb, opaque) < 0) {
			rc = slack_export_fail(errstr, errstr_size,
					       "out of memory after %zu records", i);
			break;
		}
		i++;
	}
	decode_cjson_close(&doc);
	return rc;
}
