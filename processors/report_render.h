/*
 * report_render.h - prints one scope of the stored scorecard document
 * (scorecard_doc.h) for `advocacyd report`, as a table or as JSON.
 *
 * Both forms group the scope's KPIs by Balanced Scorecard quadrant, in the
 * order financial, customer, internal process, learning & growth, and list
 * the quadrants that have at least one active KPI. Figures come from the
 * document as stored, and nothing is recomputed.
 *
 * JSON form (one object):
 *
 *   {"scope", "scope_kind", "suppressed", "computed_at" (ms since the
 *    epoch), "age_seconds", "config_version", "min_group_size",
 *    and unless suppressed: "index",
 *    "quadrants": [{"quadrant", "sub_index",
 *                   "kpis": [{"kpi", "name", "indicator", "window", "weight",
 *                             "state", and unless "state" is "suppressed":
 *                             "value", "target", "contribution"}]}]}
 *
 * A value that is not a number (no KPI counted, no contribution) is null.
 * Pure formatting, safe on any thread.
 */
#ifndef ADVOCACY_REPORT_RENDER_H
#define ADVOCACY_REPORT_RENDER_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Writes scope (an entry of doc's "scopes") as a table to out. now_ms gives
 * the age shown. Returns 0, or -1 when writing failed.
 */
int report_render_table(FILE *out, const json_t *doc, const json_t *scope, int64_t now_ms);

/* Returns the JSON form of scope (new reference), or NULL when out of memory. */
json_t *report_render_json(const json_t *doc, const json_t *scope, int64_t now_ms);

/*
 * Returns the seconds from the document's computed_at to now_ms, rounded
 * down, or 0 when computed_at is in the future.
 */
int64_t report_render_age_seconds(const json_t *doc, int64_t now_ms);

#endif
