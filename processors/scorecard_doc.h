/*
 * scorecard_doc.h - the scorecard document kept in Redis for `advocacyd report`.
 *
 * On each tick the daemon turns the scorecard (scorecard_to_json() of
 * scorecard.h) into this smaller document, scope by scope, and stores it
 * under one key (daemon/scorecard_publish.h). `advocacyd report` reads it
 * back without a running daemon. The document is built from the scorecard's
 * JSON only: values, targets, sub-indices and contributions are copied as
 * scorecard.c and index.c computed them, never recomputed here. The one
 * thing added is each figure's state against its target.
 *
 * Format 1:
 *
 *   {"format": 1, "computed_at": ms, "config_version": "<16 hex digits>",
 *    "tick_interval_ms": n, "min_group_size": n,
 *    "kpis": [{"id", "name", "quadrant", "indicator", "window", "weight",
 *              "target"}],
 *    "scopes": [{"scope", "scope_kind", "suppressed": false, "index",
 *                "quadrants": {"financial", "customer", "internal_process",
 *                              "learning_growth"},
 *                "kpis": [{"kpi", "state", "value", "target",
 *                          "contribution"}]},
 *               {"scope", "scope_kind", "suppressed": true}]}
 *
 * "kpis" lists the active KPIs in config order. A scope's "kpis" follows
 * the same order and contains only the KPIs with a stored figure for it.
 * "state" is "on_target" (value >= target, or value <= target for a KPI
 * whose "better" is "lower"), "below_target", "above_target" (a
 * better-lower KPI over its target), "no_target" (target not above 0),
 * "no_value" (the value is not a finite number) or
 * "suppressed". A suppressed entry has "kpi" and "state" only. A scope
 * whose every figure is suppressed keeps its name, kind and
 * "suppressed": true and nothing else, so no suppressed figure is ever
 * stored. A KPI's target is the target of the scope entry when scorecard.c
 * gives one there, else the KPI's. "contribution" is null for a KPI that
 * does not count in the index (weight 0, for example), and "index" and the
 * sub-indices are null when no KPI counted. Times are ms since the epoch.
 *
 * Pure JSON work with no I/O, safe on any thread.
 */
#ifndef ADVOCACY_SCORECARD_DOC_H
#define ADVOCACY_SCORECARD_DOC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SCORECARD_DOC_FORMAT 1

/* Metadata that the document records besides the scorecard itself. */
typedef struct scorecard_doc_meta {
	int64_t computed_at_ms;
	const char *config_version;
	int64_t tick_interval_ms;
} scorecard_doc_meta;

/*
 * Builds the document from card, the output of scorecard_to_json(sc, NULL,
 * NULL, now). Returns a new reference, or NULL when card has no "kpis" or
 * "scopes_index" array or memory runs out.
 */
json_t *scorecard_doc_build(const json_t *card, const scorecard_doc_meta *meta);

/*
 * Checks that doc is a document of SCORECARD_DOC_FORMAT with the members
 * the report reads. Returns 0, or -1 with the problem described in errstr.
 */
int scorecard_doc_check(const json_t *doc, char *errstr, size_t errstr_size);

/* Returns the scope object named scope (borrowed from doc), or NULL. */
const json_t *scorecard_doc_scope(const json_t *doc, const char *scope);

/* Returns the entry of KPI id in doc's "kpis" (borrowed), or NULL. */
const json_t *scorecard_doc_kpi(const json_t *doc, const char *id);

#endif
