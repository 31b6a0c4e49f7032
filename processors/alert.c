/*
 * alert.c - escalation rules evaluated per (rule, scope), once per tick.
 *
 * State lives in an open-addressing hash table (linear probing, FNV-1a)
 * keyed by the dedup key "<rule id>/<scope>". An entry is created the first
 * time a (rule, scope) pair is observed and kept until a reload drops its
 * rule, so a tick allocates nothing once every pair has been seen (a trend
 * rule's entry also owns its ring of period samples).
 *
 * A tick has three steps. alert_observe records each figure in its entry,
 * and folds it into the disparity range of its dimension. alert_tick_end
 * first moves every observed entry through its state machine (alert_step),
 * then decides what to announce: resolves, repeats and tiers directly, new
 * firings through inhibition and storm control (alert_announce).
 *
 * Every change to a field that alert_import reads marks the entry dirty, and
 * alert_export_dirty hands the dirty entries to the daemon to store.
 */
#include "alert.h"
#include "alert_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const alert_state_names[ALERT_STATE_COUNT] = {
    "firing", "resolved", "repeat", "escalated", "storm",
};

const char *alert_state_name(alert_state s)
{
	return (unsigned)s < ALERT_STATE_COUNT ? alert_state_names[s] : "unknown";
}

/* ---------------------------------------------------------------- table */

static uint64_t alert_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* Returns the slot of key, or the empty slot where it belongs. */
static alert_entry *alert_slot(alert_entry *slots, size_t n_slots, const char *key, uint64_t hash)
{
	size_t i = hash & (n_slots - 1);

	while (slots[i].key && (slots[i].hash != hash || strcmp(slots[i].key, key) != 0))
		i = (i + 1) & (n_slots - 1);
	return &slots[i];
}

/* Doubles the table (16 slots at first), moving the entries. */
static int alert_grow(alert_engine *a)
{
	size_t n = a->n_slots ? a->n_slots * 2 : 16;
	alert_entry *slots = calloc(n, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < a->n_slots; i++) {
		alert_entry *old = &a->slots[i];

		if (old->key)
			*alert_slot(slots, n, old->key, old->hash) = *old;
	}
	free(a->slots);
	a->slots = slots;
	a->n_slots = n;
	return 0;
}

/* Writes "<rule id>/<scope>" into the scratch buffer. Returns its length or -1. */
static long alert_key_build(alert_engine *a, const char *rule_id, const char *scope)
{
	size_t rule_len = strlen(rule_id);
	size_t scope_len = strlen(scope);
	size_t need = rule_len + 1 + scope_len + 1;

	if (need > a->key_cap) {
		char *grown = realloc(a->key_buf, need);

		if (!grown)
			return -1;
		a->key_buf = grown;
		a->key_cap = need;
	}
	memcpy(a->key_buf, rule_id, rule_len);
	a->key_buf[rule_len] = '/';
	memcpy(a->key_buf + rule_len + 1, scope, scope_len + 1);
	return (long)(need - 1);
}

/* The entry of the key in the scratch buffer, or NULL. */
static alert_entry *alert_lookup(const alert_engine *a, size_t len)
{
	alert_entry *e;

	if (!a->n_slots)
		return NULL;
	e = alert_slot(a->slots, a->n_slots, a->key_buf, alert_hash(a->key_buf, len));
	return e->key ? e : NULL;
}

void alert_entry_reset(alert_entry *e)
{
	e->phase = ALERT_PHASE_INACTIVE;
	e->announced = false;
	e->breached_ticks = 0;
	e->pending_since_ms = 0;
	e->started_at_ms = 0;
	e->clear_since_ms = 0;
	e->last_sent_ms = 0;
	e->repeats = 0;
	e->tier = 1;
}

/* Points the entry at its rule and gives a trend rule its ring. Returns 0 or -1. */
static int alert_entry_bind(alert_entry *e, const config *cfg, const config_kpi *kpi,
                            const config_threshold *rule)
{
	size_t id_len = strlen(rule->id);

	e->kpi = kpi;
	e->rule = rule;
	e->target = kpi->target; /* until an update brings the scope's effective target */
	e->window = cfg->windows.windows[kpi->window].name;
	e->scope = e->key + id_len + 1;
	e->is_org = strcmp(e->scope, "org") == 0;
	if (rule->condition == ALERT_COND_TREND && !e->ring) {
		e->ring = calloc((size_t)rule->periods, sizeof(*e->ring));
		if (!e->ring)
			return -1;
	}
	return 0;
}

/* Finds or creates the entry of (rule, scope). NULL when out of memory. */
alert_entry *alert_entry_get(alert_engine *a, const config_kpi *kpi,
                                    const config_threshold *rule, const char *scope)
{
	long len = alert_key_build(a, rule->id, scope);
	uint64_t hash;
	alert_entry *e;

	if (len < 0)
		return NULL;
	e = alert_lookup(a, (size_t)len);
	if (e)
		return e;
	/* Keep the load factor at or below one half. */
	if ((a->n_entries + 1) * 2 > a->n_slots && alert_grow(a) < 0)
		return NULL;
	hash = alert_hash(a->key_buf, (size_t)len);
	e = alert_slot(a->slots, a->n_slots, a->key_buf, hash);
	memset(e, 0, sizeof(*e));
	e->key = strdup(a->key_buf);
	if (!e->key)
		return NULL;
	e->hash = hash;
	e->period = -1;
	alert_entry_reset(e);
	a->n_entries++;
	if (alert_entry_bind(e, a->cfg, kpi, rule) < 0)
		return NULL;
	return e;
}

void alert_entry_free(alert_entry *e)
{
	free(e->key);
	free(e->ring);
	e->key = NULL;
	e->ring = NULL;
}

/* ---------------------------------------------------------------- rules */

/* Indexes the rules of cfg for the disparity ranges. Returns 0 or -1. */
static int alert_index_rules(alert_engine *a, const config *cfg)
{
	size_t *base = calloc(cfg->n_kpis ? cfg->n_kpis : 1, sizeof(*base));
	size_t n = 0;
	alert_range *ranges;

	if (!base)
		return -1;
	for (size_t k = 0; k < cfg->n_kpis; k++) {
		base[k] = n;
		n += cfg->kpis[k].n_thresholds;
	}
	ranges = calloc(n ? n * SCOPE_KIND_COUNT : 1, sizeof(*ranges));
	if (!ranges) {
		free(base);
		return -1;
	}
	free(a->rule_base);
	free(a->ranges);
	a->rule_base = base;
	a->ranges = ranges;
	a->n_rules = n;
	return 0;
}

/* Finds the bias rule with id in cfg and its KPI. Returns NULL when there is none. */
static const config_threshold *alert_find_bias_rule(const config *cfg, const char *id,
                                                    size_t id_len, const config_kpi **kpi)
{
	for (size_t k = 0; k < cfg->n_kpis; k++) {
		const config_threshold *rule = config_bias_rule(cfg, &cfg->kpis[k]);

		if (rule && strlen(rule->id) == id_len && memcmp(rule->id, id, id_len) == 0) {
			*kpi = &cfg->kpis[k];
			return rule;
		}
	}
	return NULL;
}

/* Finds the rule with id in cfg and its KPI. Returns NULL when there is none. */
const config_threshold *alert_find_rule(const config *cfg, const char *id, size_t id_len,
                                               const config_kpi **kpi)
{
	for (size_t k = 0; k < cfg->n_kpis; k++)
		for (size_t t = 0; t < cfg->kpis[k].n_thresholds; t++) {
			const config_threshold *rule = &cfg->kpis[k].thresholds[t];

			if (strlen(rule->id) == id_len && memcmp(rule->id, id, id_len) == 0) {
				*kpi = &cfg->kpis[k];
				return rule;
			}
		}
	return alert_find_bias_rule(cfg, id, id_len, kpi);
}

alert_engine *alert_new(const config *cfg)
{
	alert_engine *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->cfg = cfg;
	if (alert_index_rules(a, cfg) < 0) {
		free(a);
		return NULL;
	}
	return a;
}

void alert_free_removed(alert_engine *a)
{
	for (size_t i = 0; i < a->n_removed; i++)
		free(a->removed[i]);
	a->n_removed = 0;
}

void alert_free(alert_engine *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_slots; i++)
		alert_entry_free(&a->slots[i]);
	alert_free_removed(a);
	free(a->removed);
	free(a->slots);
	free(a->rule_base);
	free(a->ranges);
	free(a->candidates);
	free(a->held);
	alert_free_orphans(a);
	free(a->orphans);
	free(a->key_buf);
	free(a);
}

size_t alert_firing_count(const alert_engine *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n_slots; i++)
		n += a->slots[i].key && a->slots[i].phase == ALERT_PHASE_FIRING;
	return n;
}

/* ---------------------------------------------------------------- observe */

void alert_tick_begin(alert_engine *a, int64_t now_ms)
{
	a->now_ms = now_ms;
	memset(a->ranges, 0, a->n_rules * SCOPE_KIND_COUNT * sizeof(*a->ranges));
}

static void alert_range_add(alert_range *r, const kpi_update *u)
{
	if (r->n == 0 || u->value < r->low) {
		r->low = u->value;
		r->low_scope = u->scope;
	}
	/* On a tie the later segment is the highest, so a tie names two segments. */
	if (r->n == 0 || u->value >= r->high) {
		r->high = u->value;
		r->high_scope = u->scope;
	}
	r->n++;
}

void alert_observe(alert_engine *a, const kpi_update *u)
{
	const config_kpi *k = u->kpi;
	size_t base;

	if (u->suppressed || (unsigned)u->scope_kind >= SCOPE_KIND_COUNT)
		return;
	base = a->rule_base[k - a->cfg->kpis];
	for (size_t i = 0; i < k->n_thresholds; i++) {
		const config_threshold *rule = &k->thresholds[i];
		alert_entry *e;

		if (!(rule->scope_kinds & (1u << u->scope_kind)))
			continue;
		if (rule->condition == ALERT_COND_DISPARITY) {
			if (u->headcount >= (uint32_t)rule->min_sample)
				alert_range_add(&a->ranges[(base + i) * SCOPE_KIND_COUNT + u->scope_kind], u);
			continue;
		}
		/* NOTE: out of memory skips this (rule, scope) for the tick uncounted. */
		e = alert_entry_get(a, k, rule, u->scope);
		if (!e)
			continue;
		e->observed = true;
		e->value = u->value;
		e->target = u->target;
	}
}

/* Turns each disparity range of two or more segments into an observation. */
static void alert_observe_disparities(alert_engine *a)
{
	const config *cfg = a->cfg;

	for (size_t k = 0; k < cfg->n_kpis; k++) {
		for (size_t t = 0; t < cfg->kpis[k].n_thresholds; t++) {
			const config_threshold *rule = &cfg->kpis[k].thresholds[t];
			const alert_range *r = &a->ranges[(a->rule_base[k] + t) * SCOPE_KIND_COUNT];

			if (rule->condition != ALERT_COND_DISPARITY || !config_kpi_active(&cfg->kpis[k]))
				continue;
			for (int kind = 0; kind < SCOPE_KIND_COUNT; kind++) {
				alert_entry *e;

				if (r[kind].n < 2)
					continue;
				e = alert_entry_get(a, &cfg->kpis[k], rule,
				                    config_scope_kind_name((scope_kind)kind));
				if (!e)
					continue;
				e->observed = true;
				/* All segments at zero are equal, not disparate. */
				e->value = r[kind].high > 0 ? r[kind].low / r[kind].high : 1.0;
				e->low_scope = r[kind].low_scope;
				e->high_scope = r[kind].high_scope;
			}
		}
	}
}

void alert_observe_bias(alert_engine *a, const bias_record *r)
{
	const config_threshold *rule = config_bias_rule(a->cfg, r->kpi);
	alert_entry *e;

	if (!rule || !(rule->scope_kinds & (1u << r->dimension)))
		return;
	/* NOTE: out of memory skips this (rule, dimension) for the tick uncounted. */
	e = alert_entry_get(a, r->kpi, rule, config_scope_kind_name(r->dimension));
	if (!e)
		return;
	e->observed = true;
	e->value = r->ratio;
	e->low_scope = r->lowest_segment;
	e->high_scope = r->highest_segment;
}

/* ---------------------------------------------------------------- conditions */

/* Reads the sample `periods` periods back. Returns false until the ring is full. */
static bool alert_trend_base(const alert_entry *e, double *old)
{
	int periods = e->rule->periods;

	if (!e->ring || e->ring_len < periods)
		return false;
	*old = e->ring[0];
	return true;
}

/*
 * Computes this tick's firing and resolving bounds in the units of the
 * value. Returns false while the condition cannot be evaluated yet (a
 * baseline still warming up).
 */
static bool alert_bounds(alert_entry *e)
{
	const config_threshold *r = e->rule;
	double sign = r->direction == THRESHOLD_BELOW ? -1.0 : 1.0;
	double target = e->target, old, sd;

	e->has_baseline = false;
	switch (r->condition) {
	case ALERT_COND_THRESHOLD:
		if (!r->has_value) {
			/* Without a value the rule fires at the scope's effective
			 * target, and resolve_value keeps its distance from the base
			 * target (r->value). */
			e->bound = target;
			e->resolve_bound = target + (r->resolve_value - r->value);
			return true;
		}
		e->bound = r->value;
		e->resolve_bound = r->resolve_value;
		return true;
	case ALERT_COND_DISPARITY:
	case ALERT_COND_BIAS:
		e->bound = r->value;
		e->resolve_bound = r->resolve_value;
		return true;
	case ALERT_COND_DEVIATION:
		e->bound = target * (1.0 + sign * r->value / 100.0);
		e->resolve_bound = target * (1.0 + sign * r->resolve_value / 100.0);
		return true;
	case ALERT_COND_ZSCORE:
		if (e->n_samples < r->periods)
			return false;
		/* A flat baseline still needs some room before a change counts. */
		sd = sqrt(e->var);
		if (sd < 1e-9 + 1e-6 * fabs(e->mean))
			sd = 1e-9 + 1e-6 * fabs(e->mean);
		e->has_baseline = true;
		e->base_mean = e->mean;
		e->base_stddev = sqrt(e->var);
		e->bound = e->mean + sign * r->value * sd;
		e->resolve_bound = e->mean + sign * r->resolve_value * sd;
		return true;
	case ALERT_COND_TREND:
		if (!alert_trend_base(e, &old))
			return false;
		e->bound = old * (1.0 + r->value / 100.0);
		e->resolve_bound = old * (1.0 + r->resolve_value / 100.0);
		return true;
	}
	return false;
}

static bool alert_past(const config_threshold *r, double value, double bound)
{
	if (r->direction == THRESHOLD_ABOVE)
		return value > bound;
	return value < bound;
}

/* Back on the clear side of the resolve bound (the bound itself counts as clear). */
static bool alert_clear_of(const config_threshold *r, double value, double bound)
{
	if (r->direction == THRESHOLD_ABOVE)
		return value <= bound;
	return value >= bound;
}

/* Adds this tick's value as the sample of a new period (zscore and trend). */
static void alert_sample(alert_entry *e, int64_t now_ms)
{
	const config_threshold *r = e->rule;
	int64_t period;
	double alpha, diff;

	if (r->condition != ALERT_COND_ZSCORE && r->condition != ALERT_COND_TREND)
		return;
	period = now_ms / r->period_ms;
	if (period == e->period)
		return;
	e->period = period;
	e->dirty = true;
	if (r->condition == ALERT_COND_TREND) {
		int cap = r->periods;

		if (e->ring_len == cap)
			memmove(e->ring, e->ring + 1, (size_t)(cap - 1) * sizeof(*e->ring));
		else
			e->ring_len++;
		e->ring[e->ring_len - 1] = e->value;
		return;
	}
	/* Exponentially weighted mean and variance, span `periods`. */
	alpha = 2.0 / (r->periods + 1.0);
	if (e->n_samples == 0) {
		e->mean = e->value;
		e->var = 0;
	} else {
		diff = e->value - e->mean;
		e->mean += alpha * diff;
		e->var = (1.0 - alpha) * (e->var + alpha * diff * diff);
	}
	if (e->n_samples < INT32_MAX)
		e->n_samples++;
}

/* ---------------------------------------------------------------- lifecycle */

static void alert_start_pending(alert_entry *e, int64_t now_ms)
{
	if (e->phase == ALERT_PHASE_INACTIVE) {
		e->phase = ALERT_PHASE_PENDING;
		e->pending_since_ms = now_ms;
		e->breached_ticks = 0;
	}
	e->breached_ticks++;
	e->dirty = true;
	if (e->breached_ticks < e->rule->for_ticks || now_ms - e->pending_since_ms < e->rule->for_ms)
		return;
	e->phase = ALERT_PHASE_FIRING;
	e->started_at_ms = now_ms;
	e->clear_since_ms = 0;
	e->announced = false;
	e->repeats = 0;
	e->tier = 1;
}

/* Firing: resolves once clear for keep_firing_for. */
static void alert_step_firing(alert_entry *e, bool clear, int64_t now_ms)
{
	if (!clear) {
		if (e->clear_since_ms) {
			e->clear_since_ms = 0;
			e->dirty = true;
		}
		return;
	}
	if (!e->clear_since_ms) {
		e->clear_since_ms = now_ms;
		e->dirty = true;
	}
	if (now_ms - e->clear_since_ms < e->rule->keep_firing_for_ms)
		return;
	e->phase = ALERT_PHASE_INACTIVE;
	e->dirty = true;
	if (e->announced)
		e->ended = true; /* reset once its RESOLVED is out */
	else
		alert_entry_reset(e);
}

/* Moves one observed entry through its state machine for this tick. */
static void alert_step(alert_entry *e, int64_t now_ms)
{
	bool ready = alert_bounds(e);

	e->last_value = e->value;
	if (ready) {
		if (e->phase == ALERT_PHASE_FIRING) {
			alert_step_firing(e, alert_clear_of(e->rule, e->value, e->resolve_bound), now_ms);
		} else if (alert_past(e->rule, e->value, e->bound)) {
			alert_start_pending(e, now_ms);
		} else if (e->phase == ALERT_PHASE_PENDING) {
			e->phase = ALERT_PHASE_INACTIVE;
			e->breached_ticks = 0;
			e->dirty = true;
		}
	}
	alert_sample(e, now_ms);
}

/* ---------------------------------------------------------------- events */

static const char *alert_severity(const alert_entry *e)
{
	if (e->tier == 2 && e->rule->escalate_severity)
		return e->rule->escalate_severity;
	return e->rule->severity;
}

static const char *alert_owner(const alert_entry *e)
{
	if (e->tier == 2 && e->rule->escalate_owner)
		return e->rule->escalate_owner;
	return e->rule->owner;
}

void alert_emit(const alert_engine *a, const alert_entry *e, alert_state state,
                       int64_t ended_at_ms, alert_emit_cb emit, void *opaque)
{
	char id[ALERT_ID_SIZE];
	alert_event ev = {
	    .state = state,
	    .kpi = e->kpi,
	    .rule = e->rule,
	    .scope = e->scope,
	    .window = e->window,
	    .dedup_key = e->key,
	    .id = id,
	    .severity = alert_severity(e),
	    .owner = alert_owner(e),
	    .tier = e->tier,
	    .sequence = state == ALERT_REPEAT ? e->repeats : 0,
	    .observed = e->last_value,
	    .threshold = e->bound,
	    .resolve_threshold = e->resolve_bound,
	    .target = e->target,
	    .has_baseline = e->has_baseline,
	    .baseline_mean = e->base_mean,
	    .baseline_stddev = e->base_stddev,
	    .lowest_scope = e->low_scope,
	    .highest_scope = e->high_scope,
	    .started_at_ms = e->started_at_ms,
	    .ended_at_ms = ended_at_ms,
	    .at_ms = a->now_ms,
	    .rule_version = a->cfg->version,
	};

	if (state == ALERT_REPEAT)
		snprintf(id, sizeof(id), "%s/%" PRId64 "/repeat/%" PRIu32, e->key, e->started_at_ms,
		         e->repeats);
	else
		snprintf(id, sizeof(id), "%s/%" PRId64 "/%s", e->key, e->started_at_ms,
		         alert_state_name(state));
	emit(&ev, opaque);
}

/* True when the same rule fires for the org scope (inhibits its children). */
static bool alert_inhibited(alert_engine *a, const alert_entry *e)
{
	long len;
	const alert_entry *org;

	if (e->is_org || e->rule->condition == ALERT_COND_DISPARITY ||
	    e->rule->condition == ALERT_COND_BIAS)
		return false;
	len = alert_key_build(a, e->rule->id, "org");
	org = len < 0 ? NULL : alert_lookup(a, (size_t)len);
	return org && org->phase == ALERT_PHASE_FIRING;
}

/* Emits RESOLVED, REPEAT and ESCALATED of announced alerts and collects unannounced firings. */
static int alert_follow_up(alert_engine *a, alert_entry *e, size_t *n_cand, alert_emit_cb emit,
                           void *opaque)
{
	const config_threshold *r = e->rule;
	int64_t now = a->now_ms;
	/* Ticks drift by a few ms: a repeat due within half a tick goes out now. */
	int64_t slack = a->cfg->outputs.tick_interval_ms / 2;

	if (e->ended) {
		e->ended = false;
		alert_emit(a, e, ALERT_RESOLVED, now, emit, opaque);
		alert_entry_reset(e);
		return 0;
	}
	if (e->phase != ALERT_PHASE_FIRING)
		return 0;
	if (!e->announced) {
		if (*n_cand == a->cand_cap) {
			size_t cap = a->cand_cap ? a->cand_cap * 2 : 64;
			alert_entry **grown = realloc(a->candidates, cap * sizeof(*grown));

			if (!grown)
				return -1;
			a->candidates = grown;
			a->cand_cap = cap;
		}
		a->candidates[(*n_cand)++] = e;
		return 0;
	}
	if (e->tier == 1 && r->escalate_after_ms > 0 &&
	    now - e->started_at_ms + slack >= r->escalate_after_ms) {
		e->tier = 2;
		e->last_sent_ms = now;
		e->dirty = true;
		alert_emit(a, e, ALERT_ESCALATED, 0, emit, opaque);
	} else if (r->repeat_interval_ms > 0 &&
	           now - e->last_sent_ms + slack >= r->repeat_interval_ms) {
		e->repeats++;
		e->last_sent_ms = now;
		e->dirty = true;
		alert_emit(a, e, ALERT_REPEAT, 0, emit, opaque);
	}
	return 0;
}

static int alert_severity_rank(const char *s)
{
	static const char *const order[] = {"critical", "error", "warning", "info"};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, order[i]) == 0)
			return i;
	return 4;
}

static const char *alert_route(const alert_entry *e)
{
	return e->rule->route ? e->rule->route : "default";
}

/* Route, then org scopes first, then most severe, oldest, by key. */
static int alert_candidate_cmp(const void *pa, const void *pb)
{
	const alert_entry *a = *(alert_entry *const *)pa;
	const alert_entry *b = *(alert_entry *const *)pb;
	int c = strcmp(alert_route(a), alert_route(b));

	if (c)
		return c;
	if (a->is_org != b->is_org)
		return a->is_org ? -1 : 1;
	c = alert_severity_rank(alert_severity(a)) - alert_severity_rank(alert_severity(b));
	if (c)
		return c;
	if (a->started_at_ms != b->started_at_ms)
		return a->started_at_ms < b->started_at_ms ? -1 : 1;
	return strcmp(a->key, b->key);
}

static void alert_emit_storm(alert_engine *a, const char *route, size_t n_listed, size_t n_held,
                             alert_emit_cb emit, void *opaque)
{
	char key[300], id[ALERT_ID_SIZE];
	alert_event ev = {
	    .state = ALERT_STORM,
	    .scope = route,
	    .dedup_key = key,
	    .id = id,
	    .severity = "warning",
	    .tier = 1,
	    .started_at_ms = a->now_ms,
	    .at_ms = a->now_ms,
	    .rule_version = a->cfg->version,
	    .held_keys = a->held,
	    .n_held = n_listed,
	};

	snprintf(key, sizeof(key), "storm/%s", route);
	snprintf(id, sizeof(id), "%s/%" PRId64 "/storm/%zu", key, a->now_ms, n_held);
	emit(&ev, opaque);
}

/*
 * Announces the waiting firings of one route, [from, to) of the sorted
 * candidates: at most max_firings_per_tick, the rest listed in one STORM
 * event. Inhibited firings wait silently.
 */
static void alert_announce_route(alert_engine *a, size_t from, size_t to, alert_emit_cb emit,
                                 void *opaque)
{
	size_t sent = 0, held = 0, listed = 0;
	size_t budget = (size_t)a->cfg->alerts.max_firings_per_tick;

	for (size_t i = from; i < to; i++) {
		alert_entry *e = a->candidates[i];

		if (alert_inhibited(a, e))
			continue;
		if (sent < budget) {
			e->announced = true;
			e->last_sent_ms = a->now_ms;
			e->dirty = true;
			sent++;
			alert_emit(a, e, ALERT_FIRING, 0, emit, opaque);
			continue;
		}
		if (listed < ALERT_STORM_LISTED)
			a->held[listed++] = e->key;
		held++;
	}
	if (held)
		alert_emit_storm(a, alert_route(a->candidates[from]), listed, held, emit, opaque);
}

static int alert_announce(alert_engine *a, size_t n_cand, alert_emit_cb emit, void *opaque)
{
	size_t from = 0;

	if (!n_cand)
		return 0;
	if (!a->held) {
		a->held = malloc(ALERT_STORM_LISTED * sizeof(*a->held));
		if (!a->held)
			return -1;
	}
	qsort(a->candidates, n_cand, sizeof(*a->candidates), alert_candidate_cmp);
	/* Org firings first: a child is inhibited only once its org scope fires. */
	for (size_t i = 1; i <= n_cand; i++) {
		if (i < n_cand && strcmp(alert_route(a->candidates[i]),
		                         alert_route(a->candidates[from])) == 0)
			continue;
		alert_announce_route(a, from, i, emit, opaque);
		from = i;
	}
	return 0;
}

int alert_tick_end(alert_engine *a, alert_emit_cb emit, void *opaque)
{
	size_t n_cand = 0;
	int rc = 0;

	alert_resolve_orphans(a, emit, opaque);
	alert_observe_disparities(a);
	for (size_t i = 0; i < a->n_slots; i++) {
		alert_entry *e = &a->slots[i];

		if (e->key && e->observed)
			alert_step(e, a->now_ms);
	}
	for (size_t i = 0; i < a->n_slots; i++) {
		alert_entry *e = &a->slots[i];

		if (!e->key)
			continue;
		if (rc == 0 && alert_follow_up(a, e, &n_cand, emit, opaque) < 0)
			rc = -1;
		e->observed = false;
	}
	if (rc == 0)
		rc = alert_announce(a, n_cand, emit, opaque);
	/* The segment names are borrowed from this tick's updates. */
	for (size_t i = 0; i < a->n_slots; i++) {
		a->slots[i].low_scope = NULL;
		a->slots[i].high_scope = NULL;
	}
	return rc;
}

/* ---------------------------------------------------------------- reload */

/* True when both KPIs compute the same value: formula (behaviours, coefficients,
 * denominator, scale), aggregation, window and target. */
static bool alert_same_value(const config *ca, const config_kpi *a, const config *cb,
                             const config_kpi *b)
{
	const config_window *wa = &ca->windows.windows[a->window];
	const config_window *wb = &cb->windows.windows[b->window];
	char fa[512], fb[512];

	if (strcmp(config_formula_text(ca, a, fa, sizeof fa),
	           config_formula_text(cb, b, fb, sizeof fb)) != 0)
		return false;

	if (strcmp(a->id, b->id) != 0 || a->aggregation != b->aggregation ||
	    a->n_behaviours != b->n_behaviours || strcmp(wa->name, wb->name) != 0 ||
	    wa->length_ms != wb->length_ms || a->target != b->target)
		return false;
	for (size_t i = 0; i < a->n_behaviours; i++)
		if (strcmp(ca->behaviours[a->behaviours[i]].id,
		           cb->behaviours[b->behaviours[i]].id) != 0)
			return false;
	return true;
}

/* True for the same condition and bounds. Owner, route, labels and repeats may differ. */
bool alert_same_rule(const config_threshold *a, const config_threshold *b)
{
	return a->condition == b->condition && a->direction == b->direction &&
	       a->value == b->value && a->resolve_value == b->resolve_value &&
	       a->for_ticks == b->for_ticks && a->for_ms == b->for_ms &&
	       a->keep_firing_for_ms == b->keep_firing_for_ms && a->period_ms == b->period_ms &&
	       a->periods == b->periods && a->min_sample == b->min_sample &&
	       a->scope_kinds == b->scope_kinds;
}

/* Finds the entry's rule in next. Returns NULL when the entry's state is not valid there. */
static const config_threshold *alert_kept_rule(const alert_engine *a, const alert_entry *e,
                                               const config *next, const config_kpi **kpi)
{
	const config_threshold *rule =
	    alert_find_rule(next, e->rule->id, strlen(e->rule->id), kpi);

	if (!rule || !config_kpi_active(*kpi) || !alert_same_rule(e->rule, rule) ||
	    !alert_same_value(a->cfg, e->kpi, next, *kpi))
		return NULL;
	return rule;
}

/* Remembers a dropped key so that the next export deletes its state. */
int alert_note_removed(alert_engine *a, char *key)
{
	if (a->n_removed == a->removed_cap) {
		size_t cap = a->removed_cap ? a->removed_cap * 2 : 16;
		char **grown = realloc(a->removed, cap * sizeof(*grown));

		if (!grown)
			return -1;
		a->removed = grown;
		a->removed_cap = cap;
	}
	a->removed[a->n_removed++] = key;
	return 0;
}

/* Frees a dropped entry, keeping its key for the export when possible. */
static void alert_drop(alert_engine *a, alert_entry *e)
{
	if (alert_note_removed(a, e->key) < 0)
		free(e->key);
	e->key = NULL;
	free(e->ring);
	e->ring = NULL;
}

int alert_reconfigure(alert_engine *a, const config *next, int64_t now_ms, alert_emit_cb emit,
                      void *opaque)
{
	int rc = 0;

	alert_entry *slots = a->n_slots ? calloc(a->n_slots, sizeof(*slots)) : NULL;

	a->now_ms = now_ms;
	if ((a->n_slots && !slots) || alert_index_rules(a, next) < 0) {
		/* Out of memory: forget every entry. The next lease load reads them back. */
		free(slots);
		alert_clear(a);
		a->cfg = next;
		return -1;
	}
	a->n_entries = 0;
	for (size_t i = 0; i < a->n_slots; i++) {
		alert_entry *e = &a->slots[i];
		const config_kpi *kpi = NULL;
		const config_threshold *rule;

		if (!e->key)
			continue;
		rule = alert_kept_rule(a, e, next, &kpi);
		if (!rule) {
			if (e->announced)
				alert_emit(a, e, ALERT_RESOLVED, now_ms, emit, opaque);
			alert_drop(a, e);
			continue;
		}
		if (rule->condition == ALERT_COND_TREND && e->rule->periods != rule->periods) {
			free(e->ring);
			e->ring = NULL;
			e->ring_len = 0;
		}
		if (alert_entry_bind(e, next, kpi, rule) < 0) {
			alert_drop(a, e);
			rc = -1;
			continue;
		}
		*alert_slot(slots, a->n_slots, e->key, e->hash) = *e;
		a->n_entries++;
	}
	free(a->slots);
	a->slots = slots;
	a->cfg = next;
	if (rc < 0)
		alert_clear(a);
	return rc;
}

