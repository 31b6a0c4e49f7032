/*
 * bias.h - the bias audit: per tick, the disparity ratio of every audited
 * KPI across the segments of each dimension (work_mode, employment_type,
 * segment, region).
 *
 * For one (KPI, dimension) the ratio is the lowest segment's comparable
 * value over the highest, among the segments whose sample reaches
 * bias_audit.min_sample. A ratio below bias_audit.threshold (0.8 by
 * default, the four-fifths rule) is evidence that the KPI disadvantages
 * that segment. The comparable value makes segments of different sizes
 * comparable:
 *
 *   aggregation      compared value (basis)           sample
 *   rate             the value, already per head      headcount
 *   participation    the value, already per head      headcount
 *   count            count / headcount (per_head)     headcount
 *   contributors     contributors / headcount         headcount
 *   enps             (eNPS + 100) / 200 (enps_scaled) distinct respondents
 *   retention        the value, already a share       headcount
 *   retention_gap    the value (org figure only)      headcount
 *   formula          the value when the formula has   headcount
 *                    a denominator, else value /
 *                    headcount (per_head)
 *
 * eNPS runs from -100 to 100, so a ratio of raw scores would be negative or
 * undefined. The linear map onto 0..1 keeps the order and makes 0 the worst
 * possible score. Negative comparable values (counts net of retractions)
 * count as 0.
 *
 * Suppressed updates (below privacy.min_group_size, or an eNPS scope below
 * privacy.min_respondents) never take part and are only counted as
 * excluded. A (KPI, dimension) needs two segments to give a ratio. When
 * every compared value is 0 the segments are equal and the ratio is 1.
 *
 * This module owns the comparison and the records. The generated escalation
 * rules "bias.<kpi>" live in the config (config_bias_audit) and are
 * evaluated by the alert engine from these records (alert_observe_bias).
 *
 * Single-threaded, on the event loop. Memory is allocated at bias_audit_new,
 * so a tick allocates nothing.
 */
#ifndef ADVOCACY_BIAS_H
#define ADVOCACY_BIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/config.h"
#include "kpi.h"

/* Form in which a segment's figure is compared (see the table above). */
typedef enum bias_basis {
	BIAS_BASIS_VALUE,       /* rate and participation KPIs: the value itself */
	BIAS_BASIS_PER_HEAD,    /* count, contributors, formula without denominator: per head */
	BIAS_BASIS_ENPS_SCALED, /* eNPS mapped from -100..100 onto 0..1 */
} bias_basis;

/* One audit result: a (KPI, dimension) with at least two segments compared. */
typedef struct bias_record {
	const config_kpi *kpi;
	scope_kind dimension;
	const char *window;         /* the KPI's window name */
	bias_basis basis;
	double ratio;               /* lowest_value / highest_value, 0..1 */
	double threshold;           /* bias_audit.threshold */
	bool below_threshold;       /* ratio < threshold */
	const char *lowest_segment; /* scope name, e.g. "work_mode:remote" */
	double lowest_value;        /* comparable value, in the unit of basis */
	const char *highest_segment;
	double highest_value;
	uint32_t segments_compared;
	uint32_t segments_excluded; /* below min_sample, or suppressed */
	int min_sample;
	int64_t window_start_ms;
	int64_t window_end_ms;      /* exclusive */
	int64_t computed_at_ms;
} bias_record;

typedef struct bias_audit bias_audit;

/* Creates an audit that borrows cfg, which must outlive it. Returns NULL when out of memory. */
bias_audit *bias_audit_new(const config *cfg);
void bias_audit_free(bias_audit *b);

/* Starts a tick at now_ms and clears the previous tick's segments. */
void bias_audit_begin(bias_audit *b, int64_t now_ms);

/*
 * Adds one KPI update of the tick, suppressed or not, to its (KPI, dimension)
 * range. Updates of KPIs not audited and of scopes outside the configured
 * dimensions are ignored. The scope name is borrowed until bias_audit_end
 * returns.
 */
void bias_audit_observe(bias_audit *b, const kpi_update *u);

typedef void (*bias_emit_cb)(const bias_record *r, void *opaque);

/*
 * Calls emit once per (audited KPI, dimension) with two or more segments
 * compared, in KPI order, then dimension order. Returns the number of
 * records emitted.
 */
size_t bias_audit_end(bias_audit *b, bias_emit_cb emit, void *opaque);

/* Returns the comparable value of u and sets *basis (see the table above). */
double bias_comparable_value(const kpi_update *u, bias_basis *basis);

/* Returns the sample of u that min_sample applies to: respondents for eNPS, else headcount. */
int64_t bias_sample(const kpi_update *u);

/*
 * Returns low / high rounded to 9 decimal places, so that a ratio of exactly
 * four fifths in exact arithmetic is not pushed below 0.8 by floating-point
 * rounding. Returns 1 when high is 0 or less, because all segments at zero
 * are equal.
 */
double bias_ratio(double low, double high);

/* Returns "value", "per_head" or "enps_scaled", or "unknown" when basis is out of range. */
const char *bias_basis_name(bias_basis basis);

#endif
