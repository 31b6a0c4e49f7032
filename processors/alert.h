/*
 * alert.h - escalation rules evaluated per (rule, scope), once per tick.
 *
 * A rule (config_threshold) watches one KPI. Its condition compares the
 * KPI's value with a static value or the target, with the target by a
 * percentage, with a rolling baseline (z-score of an exponentially weighted
 * mean and variance, one sample per period), with its own value some periods
 * ago (trend: plateau or decline), or, for disparity, compares the lowest and
 * the highest segment of a dimension. Each (rule, scope) runs
 *
 *   inactive -> pending -> firing -> resolved (-> inactive)
 *
 * pending until breached for `for_ticks` ticks and `for`; firing until clear
 * (past resolve_value, the hysteresis bound) for `keep_firing_for`. While
 * firing it repeats every repeat_interval and reaches its second tier
 * (escalate_after) once. The dedup key "<rule id>/<scope>" is stable across
 * restarts and instances.
 *
 * Notification is separate from state. A firing alert is announced when
 * neither inhibited (the same rule fires for the org scope) nor held back
 * by storm control (at most max_firings_per_tick new announcements per
 * route per tick; the rest are listed in one STORM event and announced in
 * later ticks, most severe and oldest first). Only an announced alert gets
 * REPEAT, ESCALATED and RESOLVED events, and every announced alert gets its
 * RESOLVED: when it clears, when its rule is removed or changed by a reload,
 * or when its KPI is retired.
 *
 * The engine is pure: no I/O. The daemon persists what alert_export_dirty
 * reports (Redis, under a lease) and loads it back with alert_import, so a
 * restart neither fires an alert again nor forgets it.
 *
 * Single-threaded.
 */
#ifndef ADVOCACY_ALERT_H
#define ADVOCACY_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "kpi.h"

typedef enum alert_state {
	ALERT_FIRING,     /* announced: the alert fires */
	ALERT_RESOLVED,   /* the announced alert ended */
	ALERT_REPEAT,     /* still firing, repeat_interval after the last event */
	ALERT_ESCALATED,  /* still firing, reached its second tier */
	ALERT_STORM,      /* firings held back by storm control, one per route */
} alert_state;

#define ALERT_STATE_COUNT 5

typedef struct alert_event {
	alert_state state;
	const config_kpi *kpi;      /* STORM: NULL */
	const config_threshold *rule; /* STORM: NULL */
	const char *scope;          /* scope name; disparity: the dimension, e.g.
	                             * "work_mode"; STORM: the route */
	const char *window;         /* window name; STORM: NULL */
	const char *dedup_key;      /* "<rule id>/<scope>"; STORM: "storm/<route>" */
	const char *id;             /* unique per event and stable when the same
	                             * event is sent again: "<dedup key>/<started_at
	                             * ms>/<state>[/<sequence>]" */
	const char *severity;       /* the current tier's */
	const char *owner;          /* the current tier's; NULL when none */
	int tier;                   /* 1, or 2 once escalated */
	uint32_t sequence;          /* REPEAT: 1, 2, ...; otherwise 0 */
	double observed;            /* KPI value (disparity: the ratio) this tick */
	double threshold;           /* firing bound, in the units of observed */
	double resolve_threshold;   /* the bound the value must pass to resolve */
	double target;              /* the KPI's target */
	bool has_baseline;          /* zscore: baseline_* are set */
	double baseline_mean;
	double baseline_stddev;
	const char *lowest_scope;   /* disparity: the segments compared; else NULL */
	const char *highest_scope;
	int64_t started_at_ms;      /* when the alert started firing */
	int64_t ended_at_ms;        /* RESOLVED: when it ended; otherwise 0 */
	int64_t at_ms;              /* time of this event */
	const char *rule_version;   /* config version the rule was read from */
	const char *const *held_keys; /* STORM: dedup keys held back this tick */
	size_t n_held;
} alert_event;

typedef void (*alert_emit_cb)(const alert_event *e, void *opaque);

typedef struct alert_engine alert_engine;

/* The engine borrows cfg, which must outlive it (see alert_reconfigure). */
alert_engine *alert_new(const config *cfg);
void alert_free(alert_engine *a);

/* Starts a tick at now_ms; alert_observe then records this tick's figures. */
void alert_tick_begin(alert_engine *a, int64_t now_ms);

/* Records one KPI update of the tick. Suppressed updates are ignored. */
void alert_observe(alert_engine *a, const kpi_update *u);

/*
 * Ends the tick: evaluates every (rule, scope) observed, the disparity rules,
 * repeats and tiers of firing alerts, inhibition and storm control, and
 * calls emit for each event, FIRING of the org scope before its children.
 * Returns -1 when memory ran out (the tick's events may be incomplete:
 * drop the engine's state and load it again), else 0.
 */
int alert_tick_end(alert_engine *a, alert_emit_cb emit, void *opaque);

/*
 * Switches the engine to next (a reload). The state of a (rule, scope) is
 * kept when the rule exists in next with the same condition and bounds and
 * its KPI is active and computes the same value. Other entries are dropped;
 * a dropped announced alert first gets its RESOLVED event, described by the
 * old configuration, which must stay alive during the call. Returns 0, or
 * -1 when memory ran out: every entry is then dropped, and the caller must
 * load the state again.
 */
int alert_reconfigure(alert_engine *a, const config *next, int64_t now_ms, alert_emit_cb emit,
                      void *opaque);

/* ---------------------------------------------------------------- state */

/*
 * Calls cb for each entry changed since the last call: its dedup key and
 * its state as a short text (state NULL when the entry was removed), then
 * clears the changed marks. The text is what alert_import reads.
 */
typedef void (*alert_state_cb)(const char *key, const char *state, void *opaque);
void alert_export_dirty(alert_engine *a, alert_state_cb cb, void *opaque);

/* Marks every entry changed, so that the next export writes them all. */
void alert_mark_all_dirty(alert_engine *a);

/*
 * Loads one entry exported earlier. Returns 0, or -1 when the text is not a
 * state this version reads (the entry then starts inactive) or its rule is
 * gone (its state is deleted at the next export). An announced alert whose
 * rule is gone, or changed its condition or bounds meanwhile, gets its
 * RESOLVED at the next alert_tick_end, described by the stored text.
 */
int alert_import(alert_engine *a, const char *key, const char *state);

/* Drops every entry (another instance evaluates now, or state is reloaded). */
void alert_clear(alert_engine *a);

/* Number of (rule, scope) pairs firing, announced or not. */
size_t alert_firing_count(const alert_engine *a);

/* Names: "firing", "resolved", "repeat", "escalated", "storm". */
const char *alert_state_name(alert_state s);

#endif
