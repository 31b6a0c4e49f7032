/*
 * scorecard.h - the latest KPI figure per (KPI, scope), for GET /api/kpis.
 *
 * The daemon stores every kpi_update of a tick here as it emits it, and the
 * suppressed (KPI, scope) pairs too (kpi_tick_set_suppressed_cb). Each KPI
 * has one window, so (KPI, scope) also names the window. A later update of
 * the same pair replaces the earlier one, so memory is one entry per KPI and
 * scope, whatever the number of ticks.
 *
 * A suppressed entry keeps no value, count, contributors, rate or
 * headcount: scorecard_to_json() shows it as "suppressed": true with its
 * window and time only, never as a zero.
 *
 * Entries borrow the scope name from the update (the roster owns it and
 * never removes a scope) and the KPI and window from the config, which must
 * outlive the scorecard. Storage grows, by doubling, only when an update
 * names a scope id beyond the ones seen so far, so a tick allocates nothing
 * once the scope count stops growing. Single-threaded.
 *
 * NOTE: KPIs are identified by their place in the config, so a reloaded
 * config needs a new scorecard (and admin_set_scorecard() with it).
 */
#ifndef ADVOCACY_SCORECARD_H
#define ADVOCACY_SCORECARD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../daemon/config.h"
#include "kpi.h"

typedef struct scorecard scorecard;

/* Returns an empty scorecard for the KPIs of cfg, or NULL when out of memory. */
scorecard *scorecard_new(const config *cfg);

void scorecard_free(scorecard *sc);

/*
 * Keeps u as the latest figure of (u->kpi, u->scope_id). Returns 0, or -1
 * when u->kpi is not a KPI of the scorecard's config or memory runs out
 * (the update is then not kept).
 */
int scorecard_store(scorecard *sc, const kpi_update *u);

/* Number of (KPI, scope) pairs stored so far, suppressed ones included. */
size_t scorecard_size(const scorecard *sc);

/* Returns 1 when id is the id of a configured KPI, else 0. */
int scorecard_has_kpi(const scorecard *sc, const char *id);

/*
 * Builds the scorecard as a JSON object:
 *   {"generated_at": ms, "min_group_size": n, "kpis": [{"id", "name",
 *    "aggregation", "behaviours", "window", "quadrant", "indicator",
 *    "weight", "target", "benchmark" ({"low", "high"} or null), "status",
 *    "scopes": [{"scope", "scope_kind", "suppressed",
 *    "window_start", "window_end", "computed_at", and unless suppressed
 *    "value", "count", "contributors", "headcount", "rate", "target" (the
 *    effective target of the scope, targets.h) and "target_source", else
 *    "suppressed_reason": "small_group" or "sibling"}]}]}
 * The KPI's own "target" is its base target.
 * Times are ms since the epoch. kpi and scope, when not NULL, keep only
 * the KPI with that id and the scope with that name. KPIs appear in config
 * order, scopes in roster id order (org first).
 *
 * "scopes_index" follows "kpis": one object per stored scope (the named
 * one only when scope is not NULL), {"scope", "scope_kind", "suppressed"
 * (true when every stored figure of the scope is suppressed), "index",
 * "quadrants": {"financial", "customer", "internal_process",
 * "learning_growth"}, "contributions": [{"kpi", "contribution"}]}, computed
 * over every KPI whatever the kpi filter (see index.h; no value is null).
 *
 * Returns NULL when out of memory; the caller owns the result (json_decref).
 */
json_t *scorecard_to_json(const scorecard *sc, const char *kpi, const char *scope,
			  int64_t now_ms);

/*
 * One update as JSON, shaped like an entry of "scopes" above plus "kpi"
 * (the KPI id): what GET /api/stream sends per update. NULL when out of
 * memory; the caller owns the result.
 */
json_t *scorecard_update_json(const kpi_update *u);

/* The JSON object of one scope in "scopes_index" (see above) for scope id; NULL when none. */
json_t *scorecard_index_json(const scorecard *sc, uint32_t scope);

/* Called for each unsuppressed figure: KPI id, scope name, value. */
typedef void (*scorecard_value_cb)(const char *kpi, const char *scope, double value,
				   void *opaque);

/* Called for each scope with an index (see index.h): scope name, index. */
typedef void (*scorecard_index_cb)(const char *scope, double index, void *opaque);

/* Walks the figures in scope order, then KPI order; suppressed ones are left out. */
void scorecard_each_value(const scorecard *sc, scorecard_value_cb cb, void *opaque);

/* Walks the scopes that have an index, in scope order. */
void scorecard_each_index(const scorecard *sc, scorecard_index_cb cb, void *opaque);

#endif
