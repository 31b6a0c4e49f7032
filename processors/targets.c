/*
 * targets.c - the effective target of a KPI for one scope (see targets.h).
 */
#include "targets.h"

#include <string.h>

#define TARGETS_SEGMENT_PREFIX "segment:"

const char *targets_source_name(target_source s)
{
	static const char *const names[] = {"scope", "segment", "maturity", "industry", "base"};

	if ((unsigned)s >= TARGET_SOURCE_COUNT)
		return "unknown";
	return names[s];
}

/* Returns the index of name in values, or -1 when it is absent or name is NULL. */
static long targets_find(const config_named_value *values, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(values[i].name, name) == 0)
			return (long)i;
	return -1;
}

bool targets_stage(const config *cfg, const char *scope, programme_stage *stage)
{
	long i = targets_find(cfg->programme.scopes, cfg->programme.n_scopes, scope);

	if (i >= 0) {
		*stage = (programme_stage)cfg->programme.scopes[i].value;
		return true;
	}
	*stage = cfg->programme.maturity;
	return cfg->programme.has_maturity;
}

/* Returns the segment whose target applies to scope: its own value for a segment scope. */
static const char *targets_segment_of(const char *scope, const char *segment)
{
	size_t len = strlen(TARGETS_SEGMENT_PREFIX);

	if (scope && strncmp(scope, TARGETS_SEGMENT_PREFIX, len) == 0)
		return scope + len;
	return segment;
}

/* Sets *source to from when source is not NULL, and returns value. */
static double targets_from(target_source *source, target_source from, double value)
{
	if (source)
		*source = from;
	return value;
}

double targets_effective(const config *cfg, const config_kpi *k, const char *scope,
			 const char *segment, target_source *source)
{
	const config_kpi_targets *t = &k->targets;
	programme_stage stage;
	long i;

	i = targets_find(t->scopes, t->n_scopes, scope);
	if (i >= 0)
		return targets_from(source, TARGET_SOURCE_SCOPE, t->scopes[i].value);

	i = targets_find(t->segments, t->n_segments, targets_segment_of(scope, segment));
	if (i >= 0)
		return targets_from(source, TARGET_SOURCE_SEGMENT, t->segments[i].value);

	if (targets_stage(cfg, scope, &stage) && t->has_maturity[stage])
		return targets_from(source, TARGET_SOURCE_MATURITY, t->maturity[stage]);

	if (t->has_industry)
		return targets_from(source, TARGET_SOURCE_INDUSTRY, t->industry);
	return targets_from(source, TARGET_SOURCE_BASE, k->target);
}
