/*
 * index.h - the composite advocacy index of a scope, overall and per quadrant.
 *
 * A KPI's normalized score is min(value / target, 1), with a negative value
 * counted as 0, where target is the effective target of the scope
 * (targets.h). A KPI with a benchmark range {low, high} is scored against
 * that range instead, whatever its targets:
 * clamp((value - low) / (high - low), 0, 1). A KPI that is better lower
 * (config_kpi.lower_is_better) scores min(target / value, 1), or 1 minus
 * the range score. Either way every score lies in [0, 1]. A scope's index
 * is the
 * weighted mean of the scores of the active KPIs that have an unsuppressed
 * figure for that scope:
 *
 *   index = sum(weight * score) / sum(weight)
 *
 * A quadrant's sub-index is the same mean over that quadrant's KPIs only,
 * so the quadrant's KPI weights are renormalized to sum to 1 within it. A
 * KPI's contribution is weight * score / sum(weight) over all counted KPIs,
 * so the contributions of a scope add up to its index. A KPI does not
 * count when its weight is not above 0, its value is not a finite number,
 * or it has no benchmark range and its target is not above 0. A suppressed
 * figure is not counted either, so the weights of the remaining KPIs are
 * renormalized. A mean with nothing counted is NaN, shown as null.
 *
 * Pure arithmetic on caller-owned storage, no allocation; any thread.
 */
#ifndef ADVOCACY_INDEX_H
#define ADVOCACY_INDEX_H

#include <stdbool.h>

#include "../daemon/config.h"

/* Quadrants of the Balanced Scorecard (enum quadrant). */
#define INDEX_QUADRANTS 4

typedef struct index_sum {
	double weighted[INDEX_QUADRANTS]; /* sum of weight * score per quadrant */
	double weight[INDEX_QUADRANTS];   /* sum of weight per quadrant */
} index_sum;

/* Score of value against target in [0, 1]; NaN when target <= 0 or value is not finite. */
double index_score(double value, double target);

/* Score of a better-lower value against target: 1 at or below it, else target / value; NaN as above. */
double index_score_lower(double value, double target);

/*
 * Score of value for KPI k: against k's benchmark range when it has one,
 * else against target. NaN when the KPI cannot be scored (see above).
 */
double index_kpi_score(const config_kpi *k, double value, double target);

void index_sum_init(index_sum *s);

/*
 * Adds the figure value of KPI k, scored against target (the effective
 * target of the scope). Returns weight * score, or NaN when the KPI does
 * not count (retired, weight not above 0, no score).
 */
double index_sum_add_target(index_sum *s, const config_kpi *k, double value, double target);

/* index_sum_add_target() with the KPI's base target. */
double index_sum_add(index_sum *s, const config_kpi *k, double value);

/* The index over every quadrant; NaN when no KPI counted. */
double index_sum_total(const index_sum *s);

/* The sub-index of quadrant q; NaN when none of its KPIs counted. */
double index_sum_quadrant(const index_sum *s, quadrant q);

/* The total weight counted, the divisor of every contribution; 0 when none. */
double index_sum_weight(const index_sum *s);

#endif
