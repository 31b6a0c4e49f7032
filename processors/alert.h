/*
 * alert.h - static threshold escalations per (rule, scope).
 *
 * Each KPI threshold is a rule: a direction (below or above), a value (the
 * KPI's target unless set) and a number of consecutive breached ticks before
 * it fires. For each (rule, scope) the engine keeps a small state machine:
 * inactive -> pending (breached, fewer than for_ticks ticks) -> firing ->
 * resolved (back within the threshold) -> inactive. It emits one FIRING event
 * when firing starts and one RESOLVED event when it ends, never a repeat
 * while firing. The dedup key "<rule id>/<scope name>" is stable across
 * restarts and instances.
 *
 * A scope not observed in a tick (suppressed, or gone from the roster) keeps
 * its state. A reload keeps the state of rules that did not change and
 * resolves the firing alerts of rules that are gone (alert_reconfigure). NOTE: state lives in memory only, so a restart loses a firing
 * alert and may fire it again.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_ALERT_H
#define ADVOCACY_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "kpi.h"

typedef enum alert_state {
	ALERT_FIRING,
	ALERT_RESOLVED,
} alert_state;

typedef struct alert_event {
	alert_state state;
	const config_kpi *kpi;
	const config_threshold *rule;
	const char *scope;          /* scope name */
	const char *window;         /* window name */
	const char *dedup_key;      /* "<rule id>/<scope name>" */
	double observed;            /* KPI value at this tick */
	double threshold;           /* effective threshold value */
	int64_t started_at_ms;      /* when firing started */
	int64_t ended_at_ms;        /* when resolved; 0 while firing */
	int64_t at_ms;              /* time of this event */
} alert_event;

typedef void (*alert_emit_cb)(const alert_event *e, void *opaque);

typedef struct alert_engine alert_engine;

/* The engine borrows cfg, which must outlive it. */
alert_engine *alert_new(const config *cfg);
void alert_free(alert_engine *a);

/* Feeds one KPI update; calls emit for each state change it causes. */
void alert_observe(alert_engine *a, const kpi_update *u, int64_t now_ms,
                   alert_emit_cb emit, void *opaque);

/*
 * Switches the engine to next (a reload). The state of a (rule, scope) is
 * kept when the rule exists in next with the same direction, value,
 * for_ticks, severity and scopes, and its KPI is active and computes the
 * same value (behaviours, aggregation, window). Other entries are dropped.
 * A dropped firing entry first gets its RESOLVED event with its last
 * observed value, described by the old configuration, so that configuration
 * must stay alive during the call. The engine borrows next from then on.
 */
void alert_reconfigure(alert_engine *a, const config *next, int64_t now_ms, alert_emit_cb emit,
                       void *opaque);

/* Number of (rule, scope) pairs currently firing. */
size_t alert_firing_count(const alert_engine *a);

#endif
