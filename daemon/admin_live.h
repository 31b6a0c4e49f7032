/*
 * admin_live.h - the live view's data: the KPI stream and the KPI history.
 *
 *   GET /api/stream   text/event-stream (Server-Sent Events). It starts
 *                     with "retry: 2000", then sends "event: kpi" with one
 *                     JSON object per KPI update (scorecard_update_json(),
 *                     suppressed ones too, without figures) and "event:
 *                     escalation" per escalation event, as they are
 *                     emitted, and a ": keepalive" comment every
 *                     ADMIN_LIVE_KEEPALIVE_S seconds.
 *   GET /api/history  the recent points of one (KPI, scope), see history.h.
 *
 * The admin API (admin_api.c) checks tokens and routes; this module keeps
 * the clients and the history. At most ADMIN_LIVE_MAX_CLIENTS streams are
 * open; one more gets 503.
 *
 * A client that does not read is dropped, and the loop never waits for
 * it. Each stream's socket send buffer is ADMIN_LIVE_SNDBUF bytes. A
 * stream is closed when more than ADMIN_LIVE_UNREAD_MAX bytes still wait
 * unsent as the next tick's first update arrives, when more than
 * ADMIN_LIVE_UNREAD_HARD_MAX wait at any time, or when its socket accepts
 * nothing for ADMIN_LIVE_WRITE_TIMEOUT_S seconds. A reader that keeps up
 * is never dropped, however large one tick's updates are (up to the hard
 * bound). Drops are counted (admin_live_stats).
 *
 * Loop thread only. admin_live_free() must run after the evhttp server
 * that carried the streams is freed: freeing it closes the streams, which
 * calls back into this module.
 */
#ifndef ADVOCACY_ADMIN_LIVE_H
#define ADVOCACY_ADMIN_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "alert.h"
#include "kpi.h"

#define ADMIN_LIVE_MAX_CLIENTS 64
#define ADMIN_LIVE_KEEPALIVE_S 15
#define ADMIN_LIVE_RETRY_MS 2000
#define ADMIN_LIVE_SNDBUF (64 * 1024)
#define ADMIN_LIVE_UNREAD_MAX (1024 * 1024)
#define ADMIN_LIVE_UNREAD_HARD_MAX (32 * 1024 * 1024)
#define ADMIN_LIVE_WRITE_TIMEOUT_S 10

typedef struct admin_live admin_live;

typedef struct admin_live_stats {
	size_t clients;           /* streams open now */
	uint64_t opened;          /* streams opened since start */
	uint64_t rejected;        /* requests refused with 503: every stream slot was taken */
	uint64_t dropped;         /* streams closed with data still unsent: the client did not read */
	size_t history_series;    /* (KPI, scope) series in the history */
	uint64_t history_skipped; /* updates not kept: the history was full */
} admin_live_stats;

/* Returns the live state with its keepalive timer on base, or NULL when out of memory. */
admin_live *admin_live_new(struct event_base *base);

/* Frees the history and the timer. Call it after evhttp_free() (see above). */
void admin_live_free(admin_live *l);

/*
 * Starts the event stream as the response to req. Returns 0 when the stream
 * is open: the response has started and this module owns it. Returns
 * HTTP_SERVUNAVAIL when ADMIN_LIVE_MAX_CLIENTS streams are open and
 * HTTP_INTERNAL when out of memory, and then nothing is sent.
 */
int admin_live_open(admin_live *l, struct evhttp_request *req);

/* Adds u to the history and sends it to every stream. */
void admin_live_publish_kpi(admin_live *l, const kpi_update *u);

/* Sends an escalation event to every stream. */
void admin_live_publish_escalation(admin_live *l, const alert_event *e);

/* The body of GET /api/history (history_to_json()); NULL when out of memory. */
json_t *admin_live_history_json(const admin_live *l, const char *kpi, const char *scope);

void admin_live_get_stats(const admin_live *l, admin_live_stats *out);

#endif
