/*
 * history.h - the recent values of each (KPI, scope), for GET /api/history.
 *
 * Each KPI update of a scope of kind org, department or segment adds a
 * point (computed_at, value) to the series of its (KPI id, scope); a
 * suppressed update adds a point without a value, so that a chart shows a
 * gap, never a zero. Points are thinned to at most one per minute of
 * computed_at: an update in the same minute as the series' newest point
 * replaces that point. Other scope kinds (team, work mode...) are not kept.
 *
 * Bounds: HISTORY_POINTS points per series (six hours at one a minute), in
 * a ring that overwrites the oldest, and at most HISTORY_MAX_SERIES series;
 * an update for a series beyond that is not kept (history_record says so).
 * A series takes about 5.8 KiB, allocated when its first point arrives,
 * so the history stays under 24 MiB whatever the roster.
 *
 * Series are keyed by KPI id, not by the KPI's place in the config, so the
 * history survives a reload; a removed KPI's series stays, frozen, until
 * restart. Ids and scope names are copied. Single-threaded; the record path
 * allocates only when a series is created.
 */
#ifndef ADVOCACY_HISTORY_H
#define ADVOCACY_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "kpi.h"

#define HISTORY_POINTS 360
#define HISTORY_STEP_MS 60000
#define HISTORY_SPAN_MS ((int64_t)HISTORY_POINTS * HISTORY_STEP_MS)
#define HISTORY_MAX_SERIES 4096

typedef struct history history;

/* Returns an empty history, or NULL when out of memory. */
history *history_new(void);
void history_free(history *h);

/* True when updates of scopes of this kind are kept. */
bool history_keeps(scope_kind kind);

/*
 * Adds u to its series. Returns 1 when kept, 0 when its scope kind is not
 * kept, -1 when the series would be one past HISTORY_MAX_SERIES or memory
 * runs out (the point is then not kept).
 */
int history_record(history *h, const kpi_update *u);

/* Number of series so far. */
size_t history_series_count(const history *h);

/*
 * {"kpi": kpi, "scope": scope, "points": [[computed_at_ms, value|null], ...]}
 * with the points of the series, oldest first, within HISTORY_SPAN_MS of
 * its newest; no points when the series does not exist. NULL when out of
 * memory; the caller owns the result.
 */
json_t *history_to_json(const history *h, const char *kpi, const char *scope);

#endif
