/*
 * targets.h - the effective target of a KPI for one scope.
 *
 * A KPI has a base target (kpis[].target) and may give others in
 * kpis[].targets. For a scope, the first of these that is given applies:
 *
 *   1. scope     targets.scopes[<scope name>], e.g. "team:Payments"
 *   2. segment   targets.segments[<segment>]: for a scope "segment:<v>" the
 *                value v; for a team or department the segment that more
 *                than half of its members share (from the roster); other
 *                scopes have no segment
 *   3. maturity  targets.maturity[<stage>]: the stage is programme.scopes
 *                [<scope name>] when listed, else programme.maturity
 *   4. industry  targets.industry, an industry benchmark value
 *   5. base      target
 *
 * The index scores a value against the effective target, unless the KPI
 * has a benchmark range. The effective target is also the bound of a
 * threshold rule without a value, the reference of a deviation rule, and
 * the "target" of the KPI topic's records and of each scope in GET
 * /api/kpis.
 *
 * Pure lookups in the config that allocate nothing, safe on any thread. A
 * lookup compares the scope name with each listed scope, so it costs
 * O(listed scopes) per (KPI, scope) and tick, never per event.
 */
#ifndef ADVOCACY_TARGETS_H
#define ADVOCACY_TARGETS_H

#include <stdbool.h>

#include "../daemon/config.h"

typedef enum target_source {
	TARGET_SOURCE_SCOPE,
	TARGET_SOURCE_SEGMENT,
	TARGET_SOURCE_MATURITY,
	TARGET_SOURCE_INDUSTRY,
	TARGET_SOURCE_BASE,
	TARGET_SOURCE_COUNT, /* number of sources, not a source */
} target_source;

/* Returns "scope", "segment", "maturity", "industry" or "base", or "unknown" out of range. */
const char *targets_source_name(target_source s);

/*
 * Finds the programme stage of scope (a scope name), from its
 * programme.scopes entry, else programme.maturity. Returns false when
 * neither is set.
 */
bool targets_stage(const config *cfg, const char *scope, programme_stage *stage);

/*
 * Returns the effective target of KPI k for scope, and writes the rule it
 * came from into *source when source is not NULL. segment is the segment
 * of the scope's members (NULL when unknown or mixed). A "segment:<value>"
 * scope uses its own value whatever segment is.
 */
double targets_effective(const config *cfg, const config_kpi *k, const char *scope,
			 const char *segment, target_source *source);

#endif
