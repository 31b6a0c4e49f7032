/*
 * decode_slack_internal.h - the parts of the Slack Events API mapping that
 * the Slack export reader (slack_export.c) shares with decode_slack.c, so
 * that a backfilled message gets the same targets, time and checks as the
 * same message arriving live. Not for other modules.
 */
#ifndef ADVOCACY_DECODE_SLACK_INTERNAL_H
#define ADVOCACY_DECODE_SLACK_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "event.h"

/* Maximum length of an id or attribute value in bytes, as for canonical Avro events. */
#define DECODE_SLACK_MAX_ID 256

/* Maximum length of a Slack timestamp ("1664222685.728809") in a derived event id. */
#define DECODE_SLACK_MAX_TS 32

/*
 * Parses a Slack timestamp, decimal seconds with an optional fraction
 * ("1664222685.728809"), into milliseconds. Returns 0 when s is not one.
 */
int64_t decode_slack_ts_ms(event_str s);

/* Adds id as a target unless it is absent, too long, the actor's own or already there. */
void decode_slack_add_target(event *ev, event_str id);

/*
 * Adds the people a message mentions as <@U...> in its text and as user
 * elements of its rich_text blocks; call after the actor is set. The ids
 * point into msg.
 */
void decode_slack_message_targets(event *ev, const cJSON *msg);

#endif
