/*
 * kpi_formula.h - the value of a KPI from its catalog formula.
 *
 * A formula (config_formula in config.h) divides a numerator by a
 * denominator and multiplies by a scale. This module owns that arithmetic.
 * The caller supplies the figures of one (KPI, scope) over the KPI's
 * window: net behaviour counts through a callback, the distinct contributors
 * of the KPI's behaviours and the headcount (the mean over the window, see
 * headcount.h, so not always a whole number). Where those figures come from
 * (Redis, the roster) is kpi.c's concern.
 *
 * Pure functions that allocate nothing, called once per (KPI, scope) and tick.
 */
#ifndef ADVOCACY_KPI_FORMULA_H
#define ADVOCACY_KPI_FORMULA_H

#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"

/* Returns the net count of a behaviour (an index into config.behaviours). */
typedef int64_t (*kpi_formula_count_fn)(size_t behaviour, const void *opaque);

/*
 * Returns numerator / denominator * scale for k, or 0 when the denominator
 * is not positive (no headcount, or a net denominator count of 0 or less).
 * An enps numerator returns the eNPS score of k's first three behaviours,
 * with no denominator or scale (config_load rejects either). A KPI whose
 * formula is unset (numerator FORMULA_NONE, as in a config_kpi built by
 * hand) is computed from its aggregation, as the short form maps it.
 */
double kpi_formula_value(const config_kpi *k, kpi_formula_count_fn count_of, const void *opaque,
                         int64_t contributors, double headcount);

#endif
