/*
 * scorecard.c - the latest KPI figure per (KPI, scope) (see scorecard.h).
 *
 * Entries sit in one flat array, scope-major: entries[scope * n_kpis + kpi].
 * A new scope id therefore only appends rows, and growing keeps every
 * stored entry where it is.
 */
#include "scorecard.h"

#include "index.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef enum scorecard_state {
	SCORECARD_EMPTY, /* no update for this pair yet */
	SCORECARD_VALUE,
	SCORECARD_SUPPRESSED,
} scorecard_state;

typedef struct scorecard_entry {
	scorecard_state state;
	const char *scope; /* borrowed from the roster */
	scope_kind scope_kind;
	double value, rate;
	int64_t count, contributors;
	uint32_t headcount;
	double target;                   /* effective target of the scope */
	target_source target_source;
	suppress_reason suppressed_reason;
	int64_t window_start_ms, window_end_ms, computed_at_ms;
} scorecard_entry;

struct scorecard {
	const config *cfg;
	scorecard_entry *entries; /* cap_scopes * cfg->n_kpis */
	uint32_t cap_scopes;
	size_t size;
};

scorecard *scorecard_new(const config *cfg)
{
	scorecard *sc = calloc(1, sizeof(*sc));

	if (sc)
		sc->cfg = cfg;
	return sc;
}

void scorecard_free(scorecard *sc)
{
	if (!sc)
		return;
	free(sc->entries);
	free(sc);
}

size_t scorecard_size(const scorecard *sc)
{
	return sc->size;
}

/* Makes room for scope ids up to scope; new rows are empty. */
static int scorecard_reserve(scorecard *sc, uint32_t scope)
{
	size_t n_kpis = sc->cfg->n_kpis;
	uint32_t cap = sc->cap_scopes ? sc->cap_scopes : 16;
	scorecard_entry *grown;

	if (scope < sc->cap_scopes)
		return 0;
	while (cap <= scope) {
		if (cap > UINT32_MAX / 2)
			return -1;
		cap *= 2;
	}
	grown = realloc(sc->entries, (size_t)cap * n_kpis * sizeof(*grown));
	if (!grown)
		return -1;
	memset(grown + (size_t)sc->cap_scopes * n_kpis, 0,
	       (size_t)(cap - sc->cap_scopes) * n_kpis * sizeof(*grown));
	sc->entries = grown;
	sc->cap_scopes = cap;
	return 0;
}

/* Fills e from u; a suppressed update leaves every figure out. */
static void scorecard_entry_set(scorecard_entry *e, const kpi_update *u)
{
	*e = (scorecard_entry){
	    .state = u->suppressed ? SCORECARD_SUPPRESSED : SCORECARD_VALUE,
	    .scope = u->scope,
	    .scope_kind = u->scope_kind,
	    .window_start_ms = u->window_start_ms,
	    .window_end_ms = u->window_end_ms,
	    .computed_at_ms = u->computed_at_ms,
	    .suppressed_reason = u->suppressed_reason,
	};
	/* A suppressed pair keeps no figure at all, not even a zero. */
	if (!u->suppressed) {
		e->value = u->value;
		e->rate = u->rate;
		e->count = u->count;
		e->contributors = u->contributors;
		e->headcount = u->headcount;
		e->target = u->target;
		e->target_source = u->target_source;
	}
}

int scorecard_store(scorecard *sc, const kpi_update *u)
{
	const config *cfg = sc->cfg;
	scorecard_entry *e;
	size_t kpi;

	if (cfg->n_kpis == 0 || u->kpi < cfg->kpis || u->kpi >= cfg->kpis + cfg->n_kpis)
		return -1;
	kpi = (size_t)(u->kpi - cfg->kpis);
	if (scorecard_reserve(sc, u->scope_id) < 0)
		return -1;

	e = &sc->entries[(size_t)u->scope_id * cfg->n_kpis + kpi];
	if (e->state == SCORECARD_EMPTY)
		sc->size++;
	scorecard_entry_set(e, u);
	return 0;
}


int scorecard_has_kpi(const scorecard *sc, const char *id)
{
	for (size_t k = 0; k < sc->cfg->n_kpis; k++)
		if (strcmp(sc->cfg->kpis[k].id, id) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- JSON */

static json_t *scorecard_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *scorecard_text(const char *s)
{
	return json_string(s ? s : "");
}

static json_t *scorecard_entry_json(const scorecard_entry *e)
{
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "scope", scorecard_text(e->scope));
	rc |= json_object_set_new(o, "scope_kind",
				  json_string(config_scope_kind_name(e->scope_kind)));
	rc |= json_object_set_new(o, "suppressed", json_boolean(e->state == SCORECARD_SUPPRESSED));
	rc |= json_object_set_new(o, "window_start", json_integer(e->window_start_ms));
	rc |= json_object_set_new(o, "window_end", json_integer(e->window_end_ms));
	rc |= json_object_set_new(o, "computed_at", json_integer(e->computed_at_ms));
	if (e->state == SCORECARD_VALUE) {
		rc |= json_object_set_new(o, "value", scorecard_number(e->value));
		rc |= json_object_set_new(o, "count", json_integer(e->count));
		rc |= json_object_set_new(o, "contributors", json_integer(e->contributors));
		rc |= json_object_set_new(o, "headcount", json_integer(e->headcount));
		rc |= json_object_set_new(o, "rate", scorecard_number(e->rate));
		rc |= json_object_set_new(o, "target", scorecard_number(e->target));
		rc |= json_object_set_new(o, "target_source",
					  json_string(targets_source_name(e->target_source)));
	} else if (e->state == SCORECARD_SUPPRESSED) {
		rc |= json_object_set_new(o, "suppressed_reason",
					  json_string(suppress_reason_name(e->suppressed_reason)));
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *scorecard_update_json(const kpi_update *u)
{
	scorecard_entry e;
	json_t *o;

	scorecard_entry_set(&e, u);
	o = scorecard_entry_json(&e);
	if (o && json_object_set_new(o, "kpi", scorecard_text(u->kpi->id)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The stored scopes of KPI k (only the one named scope when not NULL). */
static json_t *scorecard_scopes_json(const scorecard *sc, size_t k, const char *scope)
{
	size_t n_kpis = sc->cfg->n_kpis;
	json_t *list = json_array();

	for (uint32_t s = 0; list && s < sc->cap_scopes; s++) {
		const scorecard_entry *e = &sc->entries[(size_t)s * n_kpis + k];
		if (e->state == SCORECARD_EMPTY || (scope && strcmp(scope, e->scope) != 0))
			continue;
		if (json_array_append_new(list, scorecard_entry_json(e)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

static json_t *scorecard_behaviours_json(const config *cfg, const config_kpi *k)
{
	json_t *list = json_array();

	for (size_t b = 0; list && b < k->n_behaviours; b++) {
		if (json_array_append_new(list, scorecard_text(cfg->behaviours[k->behaviours[b]].id)) <
		    0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

/* Adds the catalog fields that define the KPI: formula, kind, unit, owner and rationale. */
static int scorecard_catalog_json(json_t *o, const config *cfg, const config_kpi *kpi)
{
	char formula[512]; /* for KPIs built without config_load only */
	int rc = 0;

	rc |= json_object_set_new(o, "formula",
				  scorecard_text(config_formula_text(cfg, kpi, formula, sizeof formula)));
	rc |= json_object_set_new(o, "kind", json_string(config_kpi_kind_name(kpi->kind)));
	rc |= json_object_set_new(o, "unit", scorecard_text(kpi->unit));
	rc |= json_object_set_new(o, "owner", kpi->owner ? scorecard_text(kpi->owner) : json_null());
	rc |= json_object_set_new(o, "rationale",
				  kpi->rationale ? scorecard_text(kpi->rationale) : json_null());
	return rc;
}

/* {"low", "high"} of a benchmark range, or null when the KPI has none. */
static json_t *scorecard_benchmark_json(const config_benchmark *b)
{
	if (!b->given)
		return json_null();
	return json_pack("{s:f,s:f}", "low", b->low, "high", b->high);
}

static json_t *scorecard_kpi_json(const scorecard *sc, size_t k, const char *scope)
{
	const config *cfg = sc->cfg;
	const config_kpi *kpi = &cfg->kpis[k];
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "id", scorecard_text(kpi->id));
	rc |= json_object_set_new(o, "name", scorecard_text(kpi->name));
	rc |= json_object_set_new(o, "aggregation",
				  json_string(config_aggregation_name(kpi->aggregation)));
	rc |= json_object_set_new(o, "behaviours", scorecard_behaviours_json(cfg, kpi));
	rc |= json_object_set_new(o, "window", scorecard_text(cfg->windows.windows[kpi->window].name));
	rc |= json_object_set_new(o, "quadrant", json_string(config_quadrant_name(kpi->quadrant)));
	rc |= json_object_set_new(o, "indicator",
				  json_string(config_indicator_name(kpi->indicator)));
	rc |= json_object_set_new(o, "weight", scorecard_number(kpi->weight));
	rc |= json_object_set_new(o, "target", scorecard_number(kpi->target));
	rc |= json_object_set_new(o, "benchmark", scorecard_benchmark_json(&kpi->benchmark));
	rc |= json_object_set_new(o, "better", json_string(kpi->lower_is_better ? "lower" : "higher"));
	rc |= json_object_set_new(o, "status", json_string(config_kpi_status_name(kpi->status)));
	rc |= scorecard_catalog_json(o, cfg, kpi);
	rc |= json_object_set_new(o, "scopes", scorecard_scopes_json(sc, k, scope));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---------------------------------------------------------------- index */

/* The stored entries of scope id s, one per KPI; NULL past the stored scopes. */
static const scorecard_entry *scorecard_row(const scorecard *sc, uint32_t s)
{
	return s < sc->cap_scopes ? &sc->entries[(size_t)s * sc->cfg->n_kpis] : NULL;
}

/* Sums the index of a row; returns the number of stored entries, and of suppressed ones. */
static size_t scorecard_row_index(const scorecard *sc, const scorecard_entry *row,
				  index_sum *sum, size_t *suppressed)
{
	size_t stored = 0;

	index_sum_init(sum);
	*suppressed = 0;
	for (size_t k = 0; k < sc->cfg->n_kpis; k++) {
		if (row[k].state == SCORECARD_EMPTY)
			continue;
		stored++;
		if (row[k].state == SCORECARD_SUPPRESSED)
			(*suppressed)++;
		else
			index_sum_add_target(sum, &sc->cfg->kpis[k], row[k].value, row[k].target);
	}
	return stored;
}

static json_t *scorecard_quadrants_json(const index_sum *sum)
{
	json_t *o = json_object();

	for (int q = 0; o && q < INDEX_QUADRANTS; q++) {
		if (json_object_set_new(o, config_quadrant_name((quadrant)q),
					scorecard_number(index_sum_quadrant(sum, (quadrant)q))) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *scorecard_contributions_json(const scorecard *sc, const scorecard_entry *row,
					    const index_sum *sum)
{
	double weight = index_sum_weight(sum);
	json_t *list = json_array();
	index_sum one;

	for (size_t k = 0; list && weight > 0 && k < sc->cfg->n_kpis; k++) {
		double part;
		if (row[k].state != SCORECARD_VALUE)
			continue;
		index_sum_init(&one);
		part = index_sum_add_target(&one, &sc->cfg->kpis[k], row[k].value, row[k].target);
		if (isnan(part))
			continue;
		if (json_array_append_new(list, json_pack("{s:s,s:f}", "kpi", sc->cfg->kpis[k].id,
							  "contribution", part / weight)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

json_t *scorecard_index_json(const scorecard *sc, uint32_t scope)
{
	const scorecard_entry *row = scorecard_row(sc, scope), *first = NULL;
	size_t suppressed, stored;
	index_sum sum;
	json_t *o;
	int rc = 0;

	if (!row || !(stored = scorecard_row_index(sc, row, &sum, &suppressed)))
		return NULL;
	for (size_t k = 0; !first; k++)
		if (row[k].state != SCORECARD_EMPTY)
			first = &row[k];
	o = json_object();
	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "scope", scorecard_text(first->scope));
	rc |= json_object_set_new(o, "scope_kind",
				  json_string(config_scope_kind_name(first->scope_kind)));
	rc |= json_object_set_new(o, "suppressed", json_boolean(suppressed == stored));
	rc |= json_object_set_new(o, "index", scorecard_number(index_sum_total(&sum)));
	rc |= json_object_set_new(o, "quadrants", scorecard_quadrants_json(&sum));
	rc |= json_object_set_new(o, "contributions", scorecard_contributions_json(sc, row, &sum));
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The scope name of a stored row, or NULL when the row is empty. */
static const char *scorecard_row_scope(const scorecard *sc, const scorecard_entry *row)
{
	for (size_t k = 0; k < sc->cfg->n_kpis; k++)
		if (row[k].state != SCORECARD_EMPTY)
			return row[k].scope;
	return NULL;
}

static json_t *scorecard_scopes_index_json(const scorecard *sc, const char *scope)
{
	json_t *list = json_array();

	for (uint32_t s = 0; list && s < sc->cap_scopes; s++) {
		const char *name = scorecard_row_scope(sc, scorecard_row(sc, s));
		if (!name || (scope && strcmp(scope, name) != 0))
			continue;
		if (json_array_append_new(list, scorecard_index_json(sc, s)) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

void scorecard_each_value(const scorecard *sc, scorecard_value_cb cb, void *opaque)
{
	for (uint32_t s = 0; s < sc->cap_scopes; s++) {
		const scorecard_entry *row = scorecard_row(sc, s);
		for (size_t k = 0; k < sc->cfg->n_kpis; k++)
			if (row[k].state == SCORECARD_VALUE && isfinite(row[k].value))
				cb(sc->cfg->kpis[k].id, row[k].scope, row[k].value, opaque);
	}
}

void scorecard_each_index(const scorecard *sc, scorecard_index_cb cb, void *opaque)
{
	size_t suppressed;
	index_sum sum;

	for (uint32_t s = 0; s < sc->cap_scopes; s++) {
		const scorecard_entry *row = scorecard_row(sc, s);
		double index;
		if (!scorecard_row_index(sc, row, &sum, &suppressed))
			continue;
		index = index_sum_total(&sum);
		if (!isnan(index))
			cb(scorecard_row_scope(sc, row), index, opaque);
	}
}

/* ---------------------------------------------------------------- whole card */

json_t *scorecard_to_json(const scorecard *sc, const char *kpi, const char *scope, int64_t now_ms)
{
	const config *cfg = sc->cfg;
	json_t *root = json_object(), *kpis = json_array();
	int rc = 0;

	if (!root || !kpis)
		goto fail;
	for (size_t k = 0; k < cfg->n_kpis; k++) {
		if (kpi && strcmp(kpi, cfg->kpis[k].id) != 0)
			continue;
		if (json_array_append_new(kpis, scorecard_kpi_json(sc, k, scope)) < 0)
			goto fail;
	}
	rc |= json_object_set_new(root, "generated_at", json_integer(now_ms));
	rc |= json_object_set_new(root, "min_group_size", json_integer(cfg->privacy.min_group_size));
	rc |= json_object_set_new(root, "kpis", kpis);
	kpis = NULL;
	rc |= json_object_set_new(root, "scopes_index", scorecard_scopes_index_json(sc, scope));
	if (rc)
		goto fail;
	return root;

fail:
	json_decref(kpis);
	json_decref(root);
	return NULL;
}
