/*
 * check_target.h - `advocacyd --check-config FILE --target KPI [--scope S]
 * [--segment V]`: prints the effective target of a KPI for a scope and the
 * rule it came from (processors/targets.h), from the config alone.
 *
 * The daemon takes the segment of a team or department from its members in
 * the roster. Without a roster, --segment gives it.
 */
#ifndef ADVOCACY_CHECK_TARGET_H
#define ADVOCACY_CHECK_TARGET_H

#include <stdio.h>

#include "config.h"

typedef struct check_target_query {
	const char *kpi;     /* KPI id, or NULL for no query */
	const char *scope;   /* scope name, or NULL for "org" */
	const char *segment; /* segment of a team or department, or NULL for none */
} check_target_query;

/* Returns 0 when the query names a KPI and a well-formed scope, else 2 after printing why to err. */
int check_target_check(const config *cfg, const check_target_query *q, FILE *err);

/*
 * Prints the effective target as one line to out, e.g.
 *   kpi=peer_recognition_rate scope=team:Payments target=0.6 source=scope
 *   key=kpis[0].targets.scopes.team:Payments
 * and a second line for a benchmark range. q->kpi must not be NULL. Returns
 * 0, or 2 after printing to err why the query is invalid (unknown KPI,
 * malformed scope name).
 */
int check_target_print(const config *cfg, const check_target_query *q, FILE *out, FILE *err);

#endif
