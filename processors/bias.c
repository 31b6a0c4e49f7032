/*
 * bias.c - the bias audit (see bias.h).
 *
 * One range per (KPI, scope kind), n_kpis x SCOPE_KIND_COUNT, allocated once
 * at bias_audit_new and cleared at each bias_audit_begin. bias_audit_observe
 * folds each update into its range, which keeps the lowest and highest
 * comparable value and the segments that have them. bias_audit_end turns
 * every range with two or more segments into a record.
 *
 * On a tie the later segment becomes the highest, as in the alert engine's
 * disparity rules, so that a tie still names two segments. Segments arrive
 * in the roster's scope order, so the names are stable from tick to tick.
 */
#include "bias.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lowest and highest comparable value of one (KPI, dimension) this tick. */
typedef struct bias_range {
	double low, high;
	const char *low_segment, *high_segment; /* borrowed from the tick's updates */
	uint32_t compared;
	uint32_t excluded;
	bias_basis basis;
	int64_t window_start_ms, window_end_ms;
} bias_range;

struct bias_audit {
	const config *cfg;
	bias_range *ranges;  /* n_kpis x SCOPE_KIND_COUNT */
	bool *audited;       /* per KPI: config_bias_audited */
	int min_sample;      /* bias_audit.min_sample, at least privacy.min_group_size */
	int64_t now_ms;
};

static const char *const bias_basis_names[] = {
    [BIAS_BASIS_VALUE] = "value",
    [BIAS_BASIS_PER_HEAD] = "per_head",
    [BIAS_BASIS_ENPS_SCALED] = "enps_scaled",
};

const char *bias_basis_name(bias_basis basis)
{
	if ((unsigned)basis >= sizeof(bias_basis_names) / sizeof(bias_basis_names[0]))
		return "unknown";
	return bias_basis_names[basis];
}

static double bias_per_head(int64_t n, uint32_t headcount)
{
	return headcount ? (double)n / headcount : 0.0;
}

double bias_comparable_value(const kpi_update *u, bias_basis *basis)
{
	double v;

	*basis = BIAS_BASIS_PER_HEAD;
	switch (u->kpi->aggregation) {
	case KPI_AGG_RATE:
	case KPI_AGG_PARTICIPATION:
		*basis = BIAS_BASIS_VALUE;
		v = u->value;
		break;
	case KPI_AGG_CONTRIBUTORS:
		v = bias_per_head(u->contributors, u->headcount);
		break;
	case KPI_AGG_ENPS:
		*basis = BIAS_BASIS_ENPS_SCALED;
		v = (u->value + 100.0) / 200.0;
		break;
	case KPI_AGG_RETENTION:
	case KPI_AGG_RETENTION_GAP:
		/* Already shares of headcount. retention_gap has only an org figure. */
		*basis = BIAS_BASIS_VALUE;
		v = u->value;
		break;
	case KPI_AGG_FORMULA:
		/* A formula with a denominator is already a ratio (over headcount
		 * or another count). A weighted count without one goes per head. */
		if (u->kpi->formula.denominator != FORMULA_NONE) {
			*basis = BIAS_BASIS_VALUE;
			v = u->value;
		} else {
			v = u->headcount ? u->value / u->headcount : 0.0;
		}
		break;
	case KPI_AGG_COUNT:
	default:
		v = bias_per_head(u->count, u->headcount);
		break;
	}
	return v > 0 && isfinite(v) ? v : 0.0;
}

int64_t bias_sample(const kpi_update *u)
{
	if (u->kpi->aggregation == KPI_AGG_ENPS)
		return u->contributors;
	return u->headcount;
}

double bias_ratio(double low, double high)
{
	if (high <= 0)
		return 1.0;
	return round(low / high * 1e9) / 1e9;
}

bias_audit *bias_audit_new(const config *cfg)
{
	size_t n_kpis = cfg->n_kpis ? cfg->n_kpis : 1;
	bias_audit *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cfg = cfg;
	b->ranges = calloc(n_kpis * SCOPE_KIND_COUNT, sizeof(*b->ranges));
	b->audited = calloc(n_kpis, sizeof(*b->audited));
	if (!b->ranges || !b->audited) {
		bias_audit_free(b);
		return NULL;
	}
	for (size_t k = 0; k < cfg->n_kpis; k++)
		b->audited[k] = config_bias_audited(cfg, &cfg->kpis[k]);
	/* A segment below the minimum group size never counts, whatever min_sample is set to. */
	b->min_sample = cfg->bias_audit.min_sample;
	if (b->min_sample < cfg->privacy.min_group_size)
		b->min_sample = cfg->privacy.min_group_size;
	return b;
}

void bias_audit_free(bias_audit *b)
{
	if (!b)
		return;
	free(b->ranges);
	free(b->audited);
	free(b);
}

void bias_audit_begin(bias_audit *b, int64_t now_ms)
{
	b->now_ms = now_ms;
	memset(b->ranges, 0, b->cfg->n_kpis * SCOPE_KIND_COUNT * sizeof(*b->ranges));
}

/* Returns the range of u, or NULL when u is not part of the audit. */
static bias_range *bias_range_of(bias_audit *b, const kpi_update *u)
{
	const config *cfg = b->cfg;
	size_t k;

	if (u->kpi < cfg->kpis || u->kpi >= cfg->kpis + cfg->n_kpis)
		return NULL;
	k = (size_t)(u->kpi - cfg->kpis);
	if (!b->audited[k] || (unsigned)u->scope_kind >= SCOPE_KIND_COUNT ||
	    !(cfg->bias_audit.dimensions & (1u << u->scope_kind)))
		return NULL;
	return &b->ranges[k * SCOPE_KIND_COUNT + u->scope_kind];
}

void bias_audit_observe(bias_audit *b, const kpi_update *u)
{
	bias_range *r = bias_range_of(b, u);
	double v;

	if (!r)
		return;
	if (u->suppressed || bias_sample(u) < b->min_sample) {
		r->excluded++;
		return;
	}
	v = bias_comparable_value(u, &r->basis);
	if (r->compared == 0 || v < r->low) {
		r->low = v;
		r->low_segment = u->scope;
	}
	if (r->compared == 0 || v >= r->high) {
		r->high = v;
		r->high_segment = u->scope;
	}
	r->window_start_ms = u->window_start_ms;
	r->window_end_ms = u->window_end_ms;
	r->compared++;
}

/* Fills rec from the range of (KPI k, dimension kind). */
static void bias_record_fill(const bias_audit *b, size_t k, int kind, const bias_range *r,
			     bias_record *rec)
{
	const config *cfg = b->cfg;
	const config_kpi *kpi = &cfg->kpis[k];

	*rec = (bias_record){
	    .kpi = kpi,
	    .dimension = (scope_kind)kind,
	    .window = cfg->windows.windows[kpi->window].name,
	    .basis = r->basis,
	    .ratio = bias_ratio(r->low, r->high),
	    .threshold = cfg->bias_audit.threshold,
	    .lowest_segment = r->low_segment,
	    .lowest_value = r->low,
	    .highest_segment = r->high_segment,
	    .highest_value = r->high,
	    .segments_compared = r->compared,
	    .segments_excluded = r->excluded,
	    .min_sample = b->min_sample,
	    .window_start_ms = r->window_start_ms,
	    .window_end_ms = r->window_end_ms,
	    .computed_at_ms = b->now_ms,
	};
	rec->below_threshold = rec->ratio < rec->threshold;
}

size_t bias_audit_end(bias_audit *b, bias_emit_cb emit, void *opaque)
{
	const config *cfg = b->cfg;
	size_t emitted = 0;
	bias_record rec;

	for (size_t k = 0; k < cfg->n_kpis; k++) {
		if (!b->audited[k])
			continue;
		for (int kind = 0; kind < SCOPE_KIND_COUNT; kind++) {
			const bias_range *r = &b->ranges[k * SCOPE_KIND_COUNT + kind];

			if (r->compared < 2)
				continue;
			bias_record_fill(b, k, kind, r, &rec);
			emit(&rec, opaque);
			emitted++;
		}
	}
	return emitted;
}
