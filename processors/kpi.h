/*
 * kpi.h - KPI values of one tick, computed from window sums and the roster.
 *
 * On each tick the store reads, for every configured window, the per
 * (behaviour, scope) counts summed over the window's buckets, and for every
 * (KPI, scope) the distinct contributors over the KPI's behaviours. kpi_tick
 * collects those figures and turns them into kpi_update records, one per
 * (KPI, scope) whose headcount reaches the minimum group size, and for an
 * enps KPI whose distinct respondents (its contributors) reach
 * privacy.min_respondents too. Smaller scopes, and the siblings that
 * would give them away (suppress.h), are suppressed: never passed to the
 * emit callback, only counted, and reported to the suppressed callback when
 * one is set (for the admin scorecard, which shows them as suppressed).
 *
 * Single-threaded. Memory is sized by the number of scopes at kpi_tick_begin().
 */
#ifndef ADVOCACY_KPI_H
#define ADVOCACY_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "headcount.h"
#include "roster.h"
#include "suppress.h"
#include "targets.h"

typedef struct kpi_update {
	const config_kpi *kpi;
	const char *scope;          /* scope name, e.g. "team:Payments" */
	uint32_t scope_id;          /* the roster's id of scope */
	scope_kind scope_kind;
	const char *window;         /* window name, e.g. "7d" */
	double value;               /* per the KPI's aggregation */
	int64_t count;              /* behaviours in the window (net of retractions) */
	int64_t contributors;       /* distinct contributors (HyperLogLog estimate) */
	uint32_t headcount;         /* mean headcount over the window, rounded */
	double rate;                /* count / mean headcount (unrounded) */
	int64_t window_start_ms;
	int64_t window_end_ms;      /* exclusive */
	int64_t computed_at_ms;
	/* Below the minimum group size: only the identity fields above, the window
	 * bounds and computed_at_ms are set, every figure is 0. */
	bool suppressed;
	/* retention_gap only: both groups of teams; NULL otherwise. Valid during
	 * the emit callback. */
	const headcount_split *split;
	suppress_reason suppressed_reason; /* why suppressed; SUPPRESS_NONE when not */
	double target;              /* effective target for this scope (targets.h) */
	target_source target_source; /* the rule target came from */
} kpi_update;

/*
 * value for the aggregation; rates with headcount 0 are 0. enps needs the
 * three counts, so here it is 0: see kpi_enps().
 */
double kpi_value(kpi_aggregation aggregation, int64_t count, int64_t contributors,
                 uint32_t headcount);

/*
 * eNPS: (promoters - detractors) / responses * 100, from -100 to 100, where
 * responses = promoters + passives + detractors; 0 without responses.
 */
double kpi_enps(int64_t promoters, int64_t passives, int64_t detractors);

typedef struct kpi_tick kpi_tick;

kpi_tick *kpi_tick_new(const config *cfg);
void kpi_tick_free(kpi_tick *t);

/* Starts a tick over n_scopes scopes (all counts zero). Returns 0 or -1 (OOM). */
int kpi_tick_begin(kpi_tick *t, uint32_t n_scopes, int64_t now_ms);

/* Adds a count read from Redis for (window, behaviour, scope). */
void kpi_tick_add_count(kpi_tick *t, size_t window, size_t behaviour, uint32_t scope,
                        int64_t count);

/* Adds credits above a daily cap read from Redis for (window, behaviour, scope). */
void kpi_tick_add_capped(kpi_tick *t, size_t window, size_t behaviour, uint32_t scope,
                         int64_t capped);

/*
 * capped / (count + capped) of (kpi, scope) over its window, summed over
 * the KPI's behaviours: the share of credits a daily cap kept out. count is
 * net of retractions. 0 when both are 0 or the sum is not positive.
 */
double kpi_tick_capped_share(const kpi_tick *t, size_t kpi, uint32_t scope);

/* Sets the distinct contributors of (kpi, scope) over its window. */
void kpi_tick_set_contributors(kpi_tick *t, size_t kpi, uint32_t scope, int64_t n);

/*
 * The headcount history and departures of this tick, per window and scope,
 * emptied by kpi_tick_begin() and filled by the store from Redis.
 */
headcount_tick *kpi_tick_headcounts(kpi_tick *t);

/* Net count of (kpi, scope) over its window, from the counts added so far. */
int64_t kpi_tick_count(const kpi_tick *t, size_t kpi, uint32_t scope);

/* True when (kpi, scope) is large enough to emit; suppressed ones are counted. */
int kpi_scope_eligible(const roster *r, uint32_t scope, int min_group_size);

typedef void (*kpi_emit_cb)(const kpi_update *u, void *opaque);

/*
 * Sets the callback that kpi_tick_emit() calls for each suppressed (KPI,
 * scope), with an update whose suppressed flag is set. NULL (the default)
 * reports none.
 */
void kpi_tick_set_suppressed_cb(kpi_tick *t, kpi_emit_cb suppressed, void *opaque);

/*
 * Emits one update per (active KPI, eligible scope) in KPI order, then scope
 * order; retired KPIs are skipped, and a retention_gap KPI is computed for
 * the org scope only. A scope that is eligible but hidden by sibling
 * suppression (suppress.h) is suppressed too.
 * window_start_ms/window_end_ms are per window index. Returns the number of
 * (KPI, scope) pairs suppressed, for either reason.
 */
size_t kpi_tick_emit(kpi_tick *t, const roster *r, int min_group_size,
                     const int64_t *window_start_ms, const int64_t *window_end_ms,
                     kpi_emit_cb emit, void *opaque);

/* (KPI, scope) pairs suppressed for reason by the last kpi_tick_emit(). */
size_t kpi_tick_suppressed(const kpi_tick *t, suppress_reason reason);

#endif
