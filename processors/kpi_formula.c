/*
 * kpi_formula.c - the value of a KPI from its catalog formula (see
 * kpi_formula.h).
 */
#include "kpi_formula.h"

#include "kpi.h"

/* Returns the weighted sum of the numerator's behaviour counts. */
static double kpi_formula_weighted_count(const config_kpi *k, kpi_formula_count_fn count_of,
                                         const void *opaque)
{
	double sum = 0;

	for (size_t i = 0; i < k->n_behaviours; i++) {
		double coefficient = k->formula.coefficients ? k->formula.coefficients[i] : 1.0;
		sum += coefficient * (double)count_of(k->behaviours[i], opaque);
	}
	return sum;
}

static double kpi_formula_denominator(const config_formula *f, kpi_formula_count_fn count_of,
                                      const void *opaque, double headcount)
{
	int64_t sum = 0;

	switch (f->denominator) {
	case FORMULA_HEADCOUNT:
		return headcount;
	case FORMULA_COUNT:
		for (size_t i = 0; i < f->n_denominator_behaviours; i++)
			sum += count_of(f->denominator_behaviours[i], opaque);
		return (double)sum;
	default:
		return 1.0;
	}
}

/*
 * Returns the short-form formula of an aggregation, for a KPI whose formula
 * was never filled in (built by hand, not by config_load).
 */
static config_formula kpi_formula_of_aggregation(kpi_aggregation aggregation)
{
	config_formula f = {.numerator = FORMULA_COUNT, .denominator = FORMULA_NONE, .scale = 1};

	if (aggregation == KPI_AGG_ENPS)
		f.numerator = FORMULA_ENPS;
	if (aggregation == KPI_AGG_CONTRIBUTORS || aggregation == KPI_AGG_PARTICIPATION)
		f.numerator = FORMULA_PEOPLE;
	if (aggregation == KPI_AGG_RATE || aggregation == KPI_AGG_PARTICIPATION)
		f.denominator = FORMULA_HEADCOUNT;
	return f;
}

double kpi_formula_value(const config_kpi *k, kpi_formula_count_fn count_of, const void *opaque,
                         int64_t contributors, double headcount)
{
	config_formula short_form;
	const config_formula *f = &k->formula;
	double numerator, denominator;

	if (f->numerator == FORMULA_NONE) {
		short_form = kpi_formula_of_aggregation(k->aggregation);
		f = &short_form;
	}
	if (f->numerator == FORMULA_ENPS)
		return kpi_enps(count_of(k->behaviours[0], opaque), count_of(k->behaviours[1], opaque),
		                count_of(k->behaviours[2], opaque));
	if (f->numerator == FORMULA_PEOPLE)
		numerator = (double)contributors;
	else
		numerator = kpi_formula_weighted_count(k, count_of, opaque);

	denominator = kpi_formula_denominator(f, count_of, opaque, headcount);
	if (denominator <= 0)
		return 0.0;
	return numerator / denominator * f->scale;
}
