/*
 * check_target.c - prints the effective target of a KPI for a scope (see
 * check_target.h). Runs once from the command line, never in the daemon.
 */
#include "check_target.h"

#include <string.h>

#include "targets.h"

/* Returns the index of the KPI with id, or -1. */
static long check_target_find_kpi(const config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_kpis; i++)
		if (strcmp(cfg->kpis[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* Returns true when scope is "org" or "<kind>:<value>" with a known kind other than org. */
static bool check_target_scope_valid(const char *scope)
{
	const char *colon = strchr(scope, ':');

	if (strcmp(scope, "org") == 0)
		return true;
	if (!colon || colon[1] == '\0')
		return false;
	for (int k = SCOPE_DEPARTMENT; k < SCOPE_KIND_COUNT; k++) {
		const char *name = config_scope_kind_name((scope_kind)k);
		if (strlen(name) == (size_t)(colon - scope) && strncmp(scope, name, strlen(name)) == 0)
			return true;
	}
	return false;
}

/* Writes the config key that the target of source came from into key. */
static void check_target_key(const config *cfg, long ki, const char *scope, const char *segment,
			     target_source source, char *key, size_t size)
{
	programme_stage stage;

	switch (source) {
	case TARGET_SOURCE_SCOPE:
		snprintf(key, size, "kpis[%ld].targets.scopes.%s", ki, scope);
		return;
	case TARGET_SOURCE_SEGMENT:
		if (strncmp(scope, "segment:", 8) == 0)
			segment = scope + 8;
		snprintf(key, size, "kpis[%ld].targets.segments.%s", ki, segment ? segment : "");
		return;
	case TARGET_SOURCE_MATURITY:
		targets_stage(cfg, scope, &stage);
		snprintf(key, size, "kpis[%ld].targets.maturity.%s", ki,
			 config_programme_stage_name(stage));
		return;
	case TARGET_SOURCE_INDUSTRY:
		snprintf(key, size, "kpis[%ld].targets.industry", ki);
		return;
	default:
		snprintf(key, size, "kpis[%ld].target", ki);
		return;
	}
}

int check_target_check(const config *cfg, const check_target_query *q, FILE *err)
{
	const char *scope = q->scope ? q->scope : "org";

	if (check_target_find_kpi(cfg, q->kpi) < 0) {
		fprintf(err, "%s: --target: unknown KPI id '%s'. Use an id from kpis[].id\n",
			cfg->path, q->kpi);
		return 2;
	}
	if (!check_target_scope_valid(scope)) {
		fprintf(err, "advocacyd: --scope: invalid scope name '%s'. Write org or KIND:VALUE, "
			"as the KPI topic names scopes, e.g. team:Payments\n", scope);
		return 2;
	}
	return 0;
}

/* Warns on err about parts of the query that change nothing for this KPI and scope. */
static void check_target_warn(const config_kpi *k, const char *scope, const char *segment,
			      FILE *err)
{
	bool team_or_department = strncmp(scope, "team:", 5) == 0 ||
				  strncmp(scope, "department:", 11) == 0;

	if (segment && !team_or_department)
		fprintf(err, "advocacyd: --segment is ignored for scope %s: only a team or "
			"department takes its members' segment\n", scope);
	if (k->aggregation == KPI_AGG_RETENTION_GAP && strcmp(scope, "org") != 0)
		fprintf(err, "advocacyd: KPI %s has an org figure only; no scope %s figure is "
			"emitted\n", k->id, scope);
}

int check_target_print(const config *cfg, const check_target_query *q, FILE *out, FILE *err)
{
	const char *scope = q->scope ? q->scope : "org";
	long ki = check_target_find_kpi(cfg, q->kpi);
	const config_kpi *k;
	target_source source;
	char key[512];
	double target;

	if (check_target_check(cfg, q, err) != 0)
		return 2;
	k = &cfg->kpis[ki];
	check_target_warn(k, scope, q->segment, err);
	target = targets_effective(cfg, k, scope, q->segment, &source);
	check_target_key(cfg, ki, scope, q->segment, source, key, sizeof key);
	fprintf(out, "kpi=%s scope=%s target=%.15g source=%s key=%s\n", k->id, scope, target,
		targets_source_name(source), key);
	if (k->benchmark.given)
		fprintf(out, "kpi=%s benchmark_low=%.15g benchmark_high=%.15g (the index scores "
			"the value against this range, not the target)\n",
			k->id, k->benchmark.low, k->benchmark.high);
	return 0;
}
