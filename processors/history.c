/*
 * history.c - recent values per (KPI, scope) (see history.h).
 *
 * Series sit in one array in order of creation. A fixed open-addressing
 * table of twice HISTORY_MAX_SERIES slots maps (KPI slot, scope id) to a
 * series, so a tick's updates find their series without comparing strings;
 * the KPI slot is the place of the KPI id in a short list of ids seen,
 * searched once per update (KPIs are few). Lookups by name, for a request,
 * scan the series: one per request, never per update.
 */
#include "history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_TABLE (2 * HISTORY_MAX_SERIES)

typedef struct history_point {
	int64_t at_ms;
	double value; /* NaN: suppressed */
} history_point;

typedef struct history_series {
	size_t kpi;        /* slot in history.kpis */
	uint32_t scope_id;
	char *scope;
	uint32_t start, count; /* ring of points */
	history_point points[HISTORY_POINTS];
} history_series;

struct history {
	char **kpis; /* ids seen, copied */
	size_t n_kpis;
	history_series **series;
	size_t n_series, cap_series;
	int32_t table[HISTORY_TABLE]; /* index into series, -1: empty */
};

history *history_new(void)
{
	history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	for (size_t i = 0; i < HISTORY_TABLE; i++)
		h->table[i] = -1;
	return h;
}

void history_free(history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_series; i++) {
		free(h->series[i]->scope);
		free(h->series[i]);
	}
	for (size_t i = 0; i < h->n_kpis; i++)
		free(h->kpis[i]);
	free(h->series);
	free(h->kpis);
	free(h);
}

bool history_keeps(scope_kind kind)
{
	return kind == SCOPE_ORG || kind == SCOPE_DEPARTMENT || kind == SCOPE_SEGMENT;
}

size_t history_series_count(const history *h)
{
	return h->n_series;
}

/* ---------------------------------------------------------------- lookup */

/* The slot of a KPI id, added when new; -1 when out of memory. */
static long history_kpi_slot(history *h, const char *id)
{
	char **grown, *copy;

	for (size_t i = 0; i < h->n_kpis; i++)
		if (strcmp(h->kpis[i], id) == 0)
			return (long)i;
	grown = realloc(h->kpis, (h->n_kpis + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	h->kpis = grown;
	if (!(copy = strdup(id)))
		return -1;
	h->kpis[h->n_kpis] = copy;
	return (long)h->n_kpis++;
}

static size_t history_hash(size_t kpi, uint32_t scope)
{
	uint64_t x = ((uint64_t)kpi << 32 | scope) * 0x9E3779B97F4A7C15ULL;

	return (size_t)(x >> 40) % HISTORY_TABLE;
}

/* The table slot of (kpi, scope): its series or the empty slot to fill. */
static size_t history_probe(const history *h, size_t kpi, uint32_t scope)
{
	size_t i = history_hash(kpi, scope);

	while (h->table[i] >= 0) {
		const history_series *s = h->series[h->table[i]];
		if (s->kpi == kpi && s->scope_id == scope)
			break;
		i = (i + 1) % HISTORY_TABLE;
	}
	return i;
}

static history_series *history_add_series(history *h, size_t slot, const kpi_update *u,
					  size_t kpi)
{
	history_series *s;

	if (h->n_series == HISTORY_MAX_SERIES)
		return NULL;
	if (h->n_series == h->cap_series) {
		size_t cap = h->cap_series ? 2 * h->cap_series : 64;
		history_series **grown = realloc(h->series, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		h->series = grown;
		h->cap_series = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->scope = strdup(u->scope ? u->scope : ""))) {
		free(s);
		return NULL;
	}
	s->kpi = kpi;
	s->scope_id = u->scope_id;
	h->series[h->n_series] = s;
	h->table[slot] = (int32_t)h->n_series++;
	return s;
}

/* ---------------------------------------------------------------- record */

static history_point *history_newest(history_series *s)
{
	return s->count ? &s->points[(s->start + s->count - 1) % HISTORY_POINTS] : NULL;
}

static void history_append(history_series *s, int64_t at_ms, double value)
{
	history_point *last = history_newest(s);

	if (last && last->at_ms / HISTORY_STEP_MS == at_ms / HISTORY_STEP_MS &&
	    at_ms >= last->at_ms) {
		*last = (history_point){at_ms, value};
		return;
	}
	if (s->count == HISTORY_POINTS) {
		s->start = (s->start + 1) % HISTORY_POINTS;
		s->count--;
	}
	s->points[(s->start + s->count++) % HISTORY_POINTS] = (history_point){at_ms, value};
}

int history_record(history *h, const kpi_update *u)
{
	history_series *s;
	long kpi;
	size_t slot;

	if (!history_keeps(u->scope_kind))
		return 0;
	kpi = history_kpi_slot(h, u->kpi->id);
	if (kpi < 0)
		return -1;
	slot = history_probe(h, (size_t)kpi, u->scope_id);
	s = h->table[slot] >= 0 ? h->series[h->table[slot]]
				: history_add_series(h, slot, u, (size_t)kpi);
	if (!s)
		return -1;
	history_append(s, u->computed_at_ms, u->suppressed ? NAN : u->value);
	return 1;
}

/* ---------------------------------------------------------------- read */

static const history_series *history_find(const history *h, const char *kpi, const char *scope)
{
	for (size_t i = 0; i < h->n_series; i++) {
		const history_series *s = h->series[i];
		if (strcmp(s->scope, scope) == 0 && strcmp(h->kpis[s->kpi], kpi) == 0)
			return s;
	}
	return NULL;
}

static json_t *history_points_json(const history_series *s)
{
	json_t *list = json_array();
	int64_t newest, from;

	if (!list || !s || !s->count)
		return list;
	newest = s->points[(s->start + s->count - 1) % HISTORY_POINTS].at_ms;
	from = newest - HISTORY_SPAN_MS;
	for (uint32_t i = 0; i < s->count; i++) {
		const history_point *p = &s->points[(s->start + i) % HISTORY_POINTS];
		if (p->at_ms <= from)
			continue;
		if (json_array_append_new(list, json_pack("[I,o]", (json_int_t)p->at_ms,
							  isfinite(p->value) ? json_real(p->value)
									     : json_null())) < 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

json_t *history_to_json(const history *h, const char *kpi, const char *scope)
{
	json_t *points = history_points_json(history_find(h, kpi, scope));

	if (!points)
		return NULL;
	return json_pack("{s:s,s:s,s:o}", "kpi", kpi, "scope", scope, "points", points);
}
