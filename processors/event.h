/*
 * event.h - the canonical advocacy event, as every decode adapter yields it.
 *
 * A decoded event borrows its strings: every event_str points into the
 * message being decoded (Avro) or into memory owned by the adapter that filled
 * it (the JSON document), and stays valid only while the message is and until
 * that adapter decodes the next message or is freed. Nothing here is allocated per event.
 *
 * Person identifiers (actor, targets) are still raw at this stage. The privacy
 * module turns them into pseudonyms right after decode, and nothing after it
 * ever sees a raw identifier. Free text is never copied into an event at all.
 */
#ifndef ADVOCACY_EVENT_H
#define ADVOCACY_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_MAX_TARGETS 16
#define EVENT_MAX_ATTRS 8

/* A borrowed, not necessarily NUL-terminated string. len 0 means absent. */
typedef struct event_str {
	const char *ptr;
	size_t len;
} event_str;

typedef struct event_attr {
	event_str key;
	event_str value;
} event_attr;

typedef struct event {
	event_str event_id;      /* stable id of the event at its source */
	int64_t event_time_ms;   /* event time, milliseconds since the epoch, UTC */
	event_str source;        /* platform: "canonical", "slack", "teams", ... */
	event_str kind;          /* e.g. "reaction_added", "message_posted" */
	event_str actor_id;      /* raw id of the person who acted (may be absent) */
	event_str target_ids[EVENT_MAX_TARGETS]; /* raw ids of people acted upon */
	size_t target_count;     /* targets beyond EVENT_MAX_TARGETS are dropped */
	event_str content_id;    /* content item, if any */
	event_str channel_id;    /* channel, community or group, if any */
	event_attr attrs[EVENT_MAX_ATTRS]; /* small map, e.g. reaction=tada */
	size_t attr_count;
	/*
	 * Raw id of the person who makes event_id unique, for records that have
	 * no id of their own (a like is a message id plus who liked it). The
	 * pipeline mixes the person's pseudonym, never this raw id, into the
	 * repeat check. Absent for most events.
	 */
	event_str id_person;
} event;

/* Outcome of decoding one message. */
typedef enum decode_status {
	DECODE_OK = 0,       /* *event is filled and should be processed */
	DECODE_IGNORED = 1,  /* valid input that carries no behaviour; counted */
	DECODE_INVALID = 2,  /* malformed or failed validation; goes to the DLQ */
} decode_status;

/*
 * Result detail: reason is a short, stable snake_case token used as a metric
 * label and DLQ reason (e.g. "invalid_json", "bot_message"). detail is a
 * human-readable sentence that never contains input text or identifiers.
 */
typedef struct decode_result {
	decode_status status;
	const char *reason;
	char detail[160];
} decode_result;

/* Returns true when s equals the NUL-terminated string lit. */
static inline bool event_str_eq(event_str s, const char *lit)
{
	size_t i = 0;
	for (; i < s.len; i++)
		if (lit[i] == '\0' || lit[i] != s.ptr[i])
			return false;
	return lit[i] == '\0';
}

/* Returns the value of attribute key, or an absent string. */
static inline event_str event_attr_get(const event *ev, const char *key)
{
	for (size_t i = 0; i < ev->attr_count; i++)
		if (event_str_eq(ev->attrs[i].key, key))
			return ev->attrs[i].value;
	return (event_str){ NULL, 0 };
}

#endif
