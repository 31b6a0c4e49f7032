/*
 * index.c - the composite advocacy index (see index.h).
 */
#include "index.h"

#include <math.h>
#include <string.h>

double index_score(double value, double target)
{
	if (!(target > 0) || !isfinite(value) || !isfinite(target))
		return NAN;
	if (value <= 0)
		return 0;
	return value >= target ? 1 : value / target;
}

double index_score_lower(double value, double target)
{
	if (!(target > 0) || !isfinite(value) || !isfinite(target))
		return NAN;
	return value <= target ? 1 : target / value;
}

void index_sum_init(index_sum *s)
{
	memset(s, 0, sizeof(*s));
}

double index_kpi_score(const config_kpi *k, double value, double target)
{
	const config_benchmark *b = &k->benchmark;
	double score;

	if (!b->given)
		return k->lower_is_better ? index_score_lower(value, target)
					  : index_score(value, target);
	if (!isfinite(value) || !(b->high > b->low))
		return NAN;
	score = (value - b->low) / (b->high - b->low);
	if (k->lower_is_better)
		score = 1 - score;
	if (score <= 0)
		return 0;
	return score >= 1 ? 1 : score;
}

double index_sum_add(index_sum *s, const config_kpi *k, double value)
{
	return index_sum_add_target(s, k, value, k->target);
}

double index_sum_add_target(index_sum *s, const config_kpi *k, double value, double target)
{
	double score = index_kpi_score(k, value, target);

	if (!config_kpi_active(k) || !(k->weight > 0) || isnan(score) ||
	    (unsigned)k->quadrant >= INDEX_QUADRANTS)
		return NAN;
	s->weighted[k->quadrant] += k->weight * score;
	s->weight[k->quadrant] += k->weight;
	return k->weight * score;
}

double index_sum_weight(const index_sum *s)
{
	double weight = 0;

	for (int q = 0; q < INDEX_QUADRANTS; q++)
		weight += s->weight[q];
	return weight;
}

double index_sum_total(const index_sum *s)
{
	double weighted = 0, weight = index_sum_weight(s);

	for (int q = 0; q < INDEX_QUADRANTS; q++)
		weighted += s->weighted[q];
	return weight > 0 ? weighted / weight : NAN;
}

double index_sum_quadrant(const index_sum *s, quadrant q)
{
	if ((unsigned)q >= INDEX_QUADRANTS || !(s->weight[q] > 0))
		return NAN;
	return s->weighted[q] / s->weight[q];
}
