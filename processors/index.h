/*
 * index.h - the composite advocacy index of a scope, overall and per quadrant.
 *
 * A KPI's normalized score is min(value / target, 1), with a negative value
 * counted as 0, so every score lies in [0, 1]. A scope's index is the
 * weighted mean of the scores of the active KPIs that have an unsuppressed
 * figure for that scope:
 *
 *   index = sum(weight * score) / sum(weight)
 *
 * A quadrant's sub-index is the same mean over that quadrant's KPIs only. A
 * KPI's contribution is weight * score / sum(weight) over all counted KPIs,
 * so the contributions of a scope add up to its index. A KPI does not
 * count when its target or weight is not above 0 or its value is not a
 * finite number. A mean with nothing counted is NaN, shown as null.
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

void index_sum_init(index_sum *s);

/*
 * Adds the figure value of KPI k. Returns weight * score, or NaN when the
 * KPI does not count (retired, weight or target not above 0, no finite value).
 */
double index_sum_add(index_sum *s, const config_kpi *k, double value);

/* The index over every quadrant; NaN when no KPI counted. */
double index_sum_total(const index_sum *s);

/* The sub-index of quadrant q; NaN when none of its KPIs counted. */
double index_sum_quadrant(const index_sum *s, quadrant q);

/* The total weight counted, the divisor of every contribution; 0 when none. */
double index_sum_weight(const index_sum *s);

#endif
