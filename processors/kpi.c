/*
 * kpi.c - KPI values of one tick, computed from window sums and the roster.
 *
 * A tick collects two flat tables, both filled by the store from Redis:
 *   counts[window][behaviour][scope]   net behaviour count over the window,
 *   contributors[kpi][scope]           distinct contributors of the KPI.
 * kpi_tick_emit() then walks every (KPI, scope), normalises by the roster
 * headcount and emits a kpi_update for each scope that reaches the minimum
 * group size (and, for enps, privacy.min_respondents distinct respondents,
 * read from the contributors of its three behaviours) and is not hidden as
 * the sibling of a suppressed scope (suppress.h). Each update carries the
 * effective target of its scope (targets.h). A scope with no
 * behaviour at all still gets an update with value 0, because a team without
 * recognition is a real zero, not missing data.
 *
 * Denominators are the mean headcount of the scope over the KPI's window,
 * from the headcount history (headcount.h); without history they are the
 * roster's current headcount. A scope is emitted only when both its current
 * and its window's mean headcount reach the minimum group size.
 *
 * Runs on the event loop thread. The tables grow at kpi_tick_begin() to the
 * largest scope count seen and are reused: a tick allocates nothing once the
 * scope count stops growing. Out-of-range indices passed to the add and set
 * calls are ignored, so a scope interned after kpi_tick_begin() is left out
 * of that tick rather than written past the tables.
 */
#include "kpi.h"
#include "kpi_formula.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct kpi_tick {
	const config *cfg;
	uint32_t n_scopes;
	int64_t now_ms;

	int64_t *counts; /* n_windows * n_behaviours * n_scopes */
	size_t counts_cap;
	int64_t *contributors; /* n_kpis * n_scopes */
	size_t contributors_cap;
	int64_t *capped; /* like counts: credits above a daily cap */
	size_t capped_cap;

	kpi_emit_cb suppressed_cb; /* NULL: suppressed pairs are only counted */
	void *suppressed_opaque;

	headcount_tick *headcounts;
	headcount_team *teams;     /* scratch of the retention split, n_scopes */
	size_t teams_cap;
	headcount_split split;     /* of the retention_gap KPI being emitted */
	/* Suppression of the KPI being emitted, per scope; see kpi_tick_mark(). */
	scope_tree *tree;
	suppress *siblings;
	uint8_t *reason;       /* suppress_reason per scope */
	uint8_t *split_reason; /* reason of the split_by KPI, see kpi_tick_split() */
	int64_t *size;         /* headcount, or respondents for enps, per scope */
	int64_t *figure;       /* the KPI's net count per scope */
	size_t marks_cap;
	size_t suppressed_by[SUPPRESS_REASON_COUNT]; /* by the last kpi_tick_emit() */
};

static bool kpi_tick_retention_eligible(kpi_tick *t, const roster *r, size_t kpi,
					uint32_t scope, int min_group_size);
static void kpi_update_fill_retention(const kpi_tick *t, const roster *r, size_t kpi,
				      uint32_t scope, kpi_update *u);

double kpi_value(kpi_aggregation aggregation, int64_t count, int64_t contributors,
		 uint32_t headcount)
{
	switch (aggregation) {
	case KPI_AGG_COUNT:
		return (double)count;
	case KPI_AGG_CONTRIBUTORS:
		return (double)contributors;
	case KPI_AGG_RATE:
		return headcount ? (double)count / headcount : 0.0;
	case KPI_AGG_PARTICIPATION:
		return headcount ? (double)contributors / headcount : 0.0;
	case KPI_AGG_ENPS:
	case KPI_AGG_RETENTION:
	case KPI_AGG_RETENTION_GAP:
	case KPI_AGG_CAPPED_SHARE:
	case KPI_AGG_FORMULA:
		return 0.0;
	}
	return 0.0;
}

double kpi_enps(int64_t promoters, int64_t passives, int64_t detractors)
{
	int64_t responses = promoters + passives + detractors;

	if (responses <= 0)
		return 0.0;
	return (double)(promoters - detractors) * 100.0 / (double)responses;
}

kpi_tick *kpi_tick_new(const config *cfg)
{
	kpi_tick *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cfg = cfg;
	t->headcounts = headcount_tick_new();
	t->tree = scope_tree_new();
	t->siblings = suppress_new();
	if (!t->headcounts || !t->tree || !t->siblings) {
		kpi_tick_free(t);
		return NULL;
	}
	return t;
}

void kpi_tick_set_suppressed_cb(kpi_tick *t, kpi_emit_cb suppressed, void *opaque)
{
	t->suppressed_cb = suppressed;
	t->suppressed_opaque = opaque;
}

void kpi_tick_free(kpi_tick *t)
{
	if (!t)
		return;
	free(t->counts);
	free(t->contributors);
	headcount_tick_free(t->headcounts);
	free(t->teams);
	free(t->capped);
	scope_tree_free(t->tree);
	suppress_free(t->siblings);
	free(t->reason);
	free(t->split_reason);
	free(t->size);
	free(t->figure);
	free(t);
}

/* Grows *table to at least n elements and keeps the old contents. */
static int kpi_table_reserve(int64_t **table, size_t *cap, size_t n)
{
	int64_t *grown;

	if (n <= *cap)
		return 0;
	grown = realloc(*table, n * sizeof(**table));
	if (!grown)
		return -1;
	*table = grown;
	*cap = n;
	return 0;
}

/* Grows the retention split's scratch to n teams. */
static int kpi_teams_reserve(kpi_tick *t, size_t n)
{
	headcount_team *grown;

	if (n <= t->teams_cap)
		return 0;
	grown = realloc(t->teams, n * sizeof(*grown));
	if (!grown)
		return -1;
	t->teams = grown;
	t->teams_cap = n;
	return 0;
}

headcount_tick *kpi_tick_headcounts(kpi_tick *t)
{
	return t->headcounts;
}

/* Mean headcount of scope over the KPI's window (headcount.h). */
static double kpi_tick_heads(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope)
{
	return headcount_tick_mean(t->headcounts, t->cfg->kpis[kpi].window, scope,
				   roster_headcount(r, scope));
}

/* Grows the per-scope suppression tables to n_scopes. */
static int kpi_marks_reserve(kpi_tick *t, uint32_t n_scopes)
{
	uint8_t *reason, *split_reason;
	int64_t *size;

	if (scope_tree_reserve(t->tree, n_scopes) < 0 ||
	    suppress_reserve(t->siblings, n_scopes) < 0)
		return -1;
	if (n_scopes <= t->marks_cap)
		return 0;
	reason = realloc(t->reason, n_scopes * sizeof(*reason));
	if (!reason)
		return -1;
	t->reason = reason;
	split_reason = realloc(t->split_reason, n_scopes * sizeof(*split_reason));
	if (!split_reason)
		return -1;
	t->split_reason = split_reason;
	size = realloc(t->size, n_scopes * sizeof(*size));
	if (!size)
		return -1;
	t->size = size;
	size = realloc(t->figure, n_scopes * sizeof(*size));
	if (!size)
		return -1;
	t->figure = size;
	t->marks_cap = n_scopes;
	return 0;
}

int kpi_tick_begin(kpi_tick *t, uint32_t n_scopes, int64_t now_ms)
{
	const config *cfg = t->cfg;
	size_t n_counts = cfg->windows.n_windows * cfg->n_behaviours * n_scopes;
	size_t n_contributors = cfg->n_kpis * n_scopes;

	if (kpi_table_reserve(&t->counts, &t->counts_cap, n_counts) < 0 ||
	    kpi_table_reserve(&t->capped, &t->capped_cap, n_counts) < 0 ||
	    kpi_table_reserve(&t->contributors, &t->contributors_cap, n_contributors) < 0 ||
	    headcount_tick_begin(t->headcounts, cfg->windows.n_windows, n_scopes) < 0 ||
	    kpi_teams_reserve(t, n_scopes) < 0 || kpi_marks_reserve(t, n_scopes) < 0) {
		t->n_scopes = 0;
		return -1;
	}
	if (n_counts) {
		memset(t->counts, 0, n_counts * sizeof(*t->counts));
		memset(t->capped, 0, n_counts * sizeof(*t->capped));
	}
	if (n_contributors)
		memset(t->contributors, 0, n_contributors * sizeof(*t->contributors));
	t->n_scopes = n_scopes;
	t->now_ms = now_ms;
	return 0;
}

static size_t kpi_count_index(const kpi_tick *t, size_t window, size_t behaviour, uint32_t scope)
{
	return (window * t->cfg->n_behaviours + behaviour) * t->n_scopes + scope;
}

void kpi_tick_add_count(kpi_tick *t, size_t window, size_t behaviour, uint32_t scope, int64_t count)
{
	if (window >= t->cfg->windows.n_windows || behaviour >= t->cfg->n_behaviours ||
	    scope >= t->n_scopes)
		return;
	t->counts[kpi_count_index(t, window, behaviour, scope)] += count;
}

void kpi_tick_add_capped(kpi_tick *t, size_t window, size_t behaviour, uint32_t scope,
			 int64_t capped)
{
	if (window >= t->cfg->windows.n_windows || behaviour >= t->cfg->n_behaviours ||
	    scope >= t->n_scopes)
		return;
	t->capped[kpi_count_index(t, window, behaviour, scope)] += capped;
}

double kpi_tick_capped_share(const kpi_tick *t, size_t kpi, uint32_t scope)
{
	const config_kpi *k;
	int64_t capped = 0;

	if (kpi >= t->cfg->n_kpis || scope >= t->n_scopes)
		return 0.0;
	k = &t->cfg->kpis[kpi];
	for (size_t i = 0; i < k->n_behaviours; i++)
		capped += t->capped[kpi_count_index(t, k->window, k->behaviours[i], scope)];
	int64_t total = kpi_tick_count(t, kpi, scope) + capped;
	return total > 0 && capped > 0 ? (double)capped / (double)total : 0.0;
}

void kpi_tick_set_contributors(kpi_tick *t, size_t kpi, uint32_t scope, int64_t n)
{
	if (kpi >= t->cfg->n_kpis || scope >= t->n_scopes)
		return;
	t->contributors[kpi * t->n_scopes + scope] = n;
}

int64_t kpi_tick_count(const kpi_tick *t, size_t kpi, uint32_t scope)
{
	const config_kpi *k;
	int64_t sum = 0;

	if (kpi >= t->cfg->n_kpis || scope >= t->n_scopes)
		return 0;
	k = &t->cfg->kpis[kpi];
	for (size_t i = 0; i < k->n_behaviours; i++)
		sum += t->counts[kpi_count_index(t, k->window, k->behaviours[i], scope)];
	return sum;
}

int kpi_scope_eligible(const roster *r, uint32_t scope, int min_group_size)
{
	return (int64_t)roster_headcount(r, scope) >= (int64_t)min_group_size;
}

/*
 * The scope's current and window's mean headcount reach min_group_size; an
 * enps figure also needs privacy.min_respondents distinct respondents.
 */
static bool kpi_tick_eligible(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
			      int min_group_size)
{
	if (!kpi_scope_eligible(r, scope, min_group_size) ||
	    kpi_tick_heads(t, r, kpi, scope) < (double)min_group_size)
		return false;
	if (t->cfg->kpis[kpi].aggregation != KPI_AGG_ENPS)
		return true;
	return t->contributors[kpi * t->n_scopes + scope] >= t->cfg->privacy.min_respondents;
}

/* Sets only what names (kpi, scope) and its window, and zeroes every figure. */
static void kpi_update_identify(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
				const int64_t *window_start_ms, const int64_t *window_end_ms,
				kpi_update *u)
{
	const config_kpi *k = &t->cfg->kpis[kpi];

	*u = (kpi_update){
	    .kpi = k,
	    .scope = roster_scope_name(r, scope),
	    .scope_id = scope,
	    .scope_kind = roster_scope_kind(r, scope),
	    .window = t->cfg->windows.windows[k->window].name,
	    .window_start_ms = window_start_ms[k->window],
	    .window_end_ms = window_end_ms[k->window],
	    .computed_at_ms = t->now_ms,
	};
}

static void kpi_update_figures(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
			       kpi_update *u);
/* Where kpi_formula_value() reads the counts of one (KPI window, scope). */
typedef struct kpi_count_source {
	const kpi_tick *tick;
	size_t window;
	uint32_t scope;
} kpi_count_source;

static int64_t kpi_count_of(size_t behaviour, const void *opaque)
{
	const kpi_count_source *src = opaque;

	return src->tick->counts[kpi_count_index(src->tick, src->window, behaviour, src->scope)];
}

/* Sets the effective target of (kpi, scope), with the segment its members share. */
static void kpi_update_target(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
			      kpi_update *u)
{
	uint32_t segment_scope = scope_tree_segment(t->tree, scope);
	const char *segment = NULL;

	if (segment_scope != ROSTER_NO_SCOPE) {
		segment = strchr(roster_scope_name(r, segment_scope), ':');
		segment = segment ? segment + 1 : NULL;
	}
	u->target = targets_effective(t->cfg, &t->cfg->kpis[kpi], u->scope, segment,
				      &u->target_source);
}

/* Fills u for (kpi, scope). The caller has checked that both are in range. */
static void kpi_update_fill(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
			    const int64_t *window_start_ms, const int64_t *window_end_ms,
			    kpi_update *u)
{
	kpi_update_identify(t, r, kpi, scope, window_start_ms, window_end_ms, u);
	kpi_update_figures(t, r, kpi, scope, u);
}

/* Sets the figures of u (count, contributors, headcount, value, rate) for (kpi, scope). */
static void kpi_update_figures(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
			       kpi_update *u)
{
	const config_kpi *k = &t->cfg->kpis[kpi];

	if (config_aggregation_reads_departures(k->aggregation)) {
		kpi_update_fill_retention(t, r, kpi, scope, u);
		kpi_update_target(t, r, kpi, scope, u);
		return;
	}
	double heads = kpi_tick_heads(t, r, kpi, scope);

	u->count = kpi_tick_count(t, kpi, scope);
	u->contributors = t->contributors[kpi * t->n_scopes + scope];
	u->headcount = (uint32_t)(heads + 0.5);
	u->value = kpi_formula_value(k, kpi_count_of, &(kpi_count_source){t, k->window, scope},
				     u->contributors, heads);
	if (k->aggregation == KPI_AGG_CAPPED_SHARE)
		u->value = kpi_tick_capped_share(t, kpi, scope);
	u->rate = headcount_per_head(u->count, heads);
	kpi_update_target(t, r, kpi, scope, u);
}

static void kpi_report_suppressed(kpi_tick *t, const roster *r, size_t kpi, uint32_t scope,
				  const int64_t *window_start_ms, const int64_t *window_end_ms)
{
	kpi_update u;

	t->suppressed_by[t->reason[scope]]++;
	if (!t->suppressed_cb)
		return;
	kpi_update_identify(t, r, kpi, scope, window_start_ms, window_end_ms, &u);
	u.suppressed = true;
	u.suppressed_reason = (suppress_reason)t->reason[scope];
	t->suppressed_cb(&u, t->suppressed_opaque);
}

/*
 * Returns the size of (kpi, scope) for sibling suppression: the larger of
 * today's headcount and the window's mean. It is at least 1 while the scope
 * has a figure in the window, so that a team whose members all moved or
 * left still counts as a suppressed child of its department.
 */
static int64_t kpi_tick_size(const kpi_tick *t, const roster *r, size_t kpi, uint32_t scope)
{
	int64_t size = roster_headcount(r, scope);
	double heads = kpi_tick_heads(t, r, kpi, scope);

	if (heads > (double)size)
		size = (int64_t)ceil(heads);
	if (size == 0 && (kpi_tick_count(t, kpi, scope) != 0 ||
			  t->contributors[kpi * t->n_scopes + scope] > 0))
		size = 1;
	return size;
}

/*
 * Marks each of the first n scopes for KPI kpi: small_group when it is not
 * eligible, then the siblings that would give a lone suppressed scope away.
 */
static void kpi_tick_mark(kpi_tick *t, const roster *r, size_t kpi, uint32_t n,
			  int min_group_size)
{
	bool enps = t->cfg->kpis[kpi].aggregation == KPI_AGG_ENPS;

	for (uint32_t scope = 0; scope < n; scope++) {
		bool eligible = kpi_tick_eligible(t, r, kpi, scope, min_group_size);
		t->reason[scope] = eligible ? SUPPRESS_NONE : SUPPRESS_SMALL_GROUP;
		t->size[scope] = enps ? t->contributors[kpi * t->n_scopes + scope]
				      : kpi_tick_size(t, r, kpi, scope);
		t->figure[scope] = kpi_tick_count(t, kpi, scope);
	}
	/* eNPS sizes are respondents, which the roster cannot split among the
	 * people outside a group's children. */
	suppress_siblings(t->siblings, t->tree, r, n,
			  &(suppress_limits){
			      .min_size = enps ? t->cfg->privacy.min_respondents : min_group_size,
			      .outside_unsized = enps,
			      .figure = t->figure,
			  },
			  t->size, t->reason);
}

size_t kpi_tick_suppressed(const kpi_tick *t, suppress_reason reason)
{
	return (unsigned)reason < SUPPRESS_REASON_COUNT ? t->suppressed_by[reason] : 0;
}

size_t kpi_tick_emit(kpi_tick *t, const roster *r, int min_group_size,
		     const int64_t *window_start_ms, const int64_t *window_end_ms, kpi_emit_cb emit,
		     void *opaque)
{
	uint32_t n_scopes = t->n_scopes;
	size_t suppressed = 0;
	kpi_update u;

	/* A scope id past the roster's catalog has no name: leave it out. */
	if (n_scopes > roster_scope_count(r))
		n_scopes = roster_scope_count(r);
	memset(t->suppressed_by, 0, sizeof(t->suppressed_by));
	scope_tree_build(t->tree, r);

	for (size_t kpi = 0; kpi < t->cfg->n_kpis; kpi++) {
		if (!config_kpi_active(&t->cfg->kpis[kpi]))
			continue;
		bool gap = t->cfg->kpis[kpi].aggregation == KPI_AGG_RETENTION_GAP;
		kpi_tick_mark(t, r, kpi, n_scopes, min_group_size);
		for (uint32_t scope = 0; scope < n_scopes; scope++) {
			if (gap && scope != ROSTER_ORG_SCOPE)
				continue;
			if (t->reason[scope] == SUPPRESS_NONE &&
			    !kpi_tick_retention_eligible(t, r, kpi, scope, min_group_size))
				t->reason[scope] = SUPPRESS_SMALL_GROUP;
			if (t->reason[scope] != SUPPRESS_NONE) {
				suppressed++;
				kpi_report_suppressed(t, r, kpi, scope, window_start_ms,
						      window_end_ms);
				continue;
			}
			kpi_update_fill(t, r, kpi, scope, window_start_ms, window_end_ms, &u);
			emit(&u, opaque);
		}
	}
	return suppressed;
}

/* ------------------------------------------------------------------------ */
/* Retention: retention and retention_gap aggregations                      */

/*
 * Fills the split of the teams for a retention_gap KPI. A team takes part
 * when its figures for both the split_by KPI and this KPI's window are
 * emitted: its current and mean headcounts reach min_group_size and
 * sibling suppression does not hide it. A group of one team shows that
 * team's departures and headcount, so a hidden team must stay out.
 * Marks the scopes for split_by, then again for kpi, so t->reason is left
 * as kpi_tick_emit() set it.
 */
static int kpi_tick_split(kpi_tick *t, const roster *r, size_t kpi, int min_group_size)
{
	const config_kpi *k = &t->cfg->kpis[kpi];
	uint32_t n_scopes = t->n_scopes < roster_scope_count(r) ? t->n_scopes
								 : roster_scope_count(r);
	size_t n = 0;
	kpi_update figure;

	kpi_tick_mark(t, r, k->split_by, n_scopes, min_group_size);
	memcpy(t->split_reason, t->reason, n_scopes * sizeof(*t->split_reason));
	kpi_tick_mark(t, r, kpi, n_scopes, min_group_size);
	for (uint32_t scope = 0; scope < n_scopes && n < t->teams_cap; scope++) {
		if (roster_scope_kind(r, scope) != SCOPE_TEAM ||
		    t->split_reason[scope] != SUPPRESS_NONE || t->reason[scope] != SUPPRESS_NONE)
			continue;
		figure = (kpi_update){0};
		kpi_update_figures(t, r, k->split_by, scope, &figure);
		t->teams[n++] = (headcount_team){
		    .scope = scope,
		    .name = roster_scope_name(r, scope),
		    .advocacy = figure.value,
		    .heads = kpi_tick_heads(t, r, kpi, scope),
		    .departures = headcount_tick_departures(t->headcounts, k->window, scope),
		};
	}
	return headcount_split_teams(t->teams, n, k->has_split_threshold, k->split_threshold,
				     &t->split);
}

/*
 * True unless (kpi, scope) is a retention_gap figure whose split leaves a
 * group of teams empty. Computes the split of a retention_gap KPI into
 * t->split for kpi_update_fill_retention().
 */
static bool kpi_tick_retention_eligible(kpi_tick *t, const roster *r, size_t kpi,
					uint32_t scope, int min_group_size)
{
	if (t->cfg->kpis[kpi].aggregation != KPI_AGG_RETENTION_GAP)
		return true;
	return scope == ROSTER_ORG_SCOPE && kpi_tick_split(t, r, kpi, min_group_size) == 0;
}

/*
 * retention: value is 1 - departures / mean headcount, count the departures
 * and rate departures / mean headcount. retention_gap (org): value is the
 * high group's retention minus the low group's, count the departures of
 * both groups and headcount their summed mean headcounts; u->split has both
 * groups.
 */
static void kpi_update_fill_retention(const kpi_tick *t, const roster *r, size_t kpi,
				      uint32_t scope, kpi_update *u)
{
	const config_kpi *k = &t->cfg->kpis[kpi];
	double heads = kpi_tick_heads(t, r, kpi, scope);

	if (k->aggregation == KPI_AGG_RETENTION_GAP) {
		heads = t->split.high.heads + t->split.low.heads;
		u->count = t->split.high.departures + t->split.low.departures;
		u->value = t->split.gap;
		u->split = &t->split;
	} else {
		u->count = headcount_tick_departures(t->headcounts, k->window, scope);
		u->value = headcount_retention(u->count, heads);
	}
	u->headcount = (uint32_t)(heads + 0.5);
	u->rate = headcount_per_head(u->count, heads);
}
