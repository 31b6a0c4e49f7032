/*
 * alert.c - static threshold escalations per (rule, scope).
 *
 * State lives in an open-addressing hash table (linear probing, FNV-1a)
 * keyed by the dedup key "<rule id>/<scope name>". An entry is allocated the
 * first time a (rule, scope) pair is observed and kept for the life of the
 * engine, so a tick allocates nothing once every pair has been seen. The
 * lookup builds the key in a reused scratch buffer.
 *
 * Per entry: inactive -> pending (breached for fewer than for_ticks ticks in
 * a row) -> firing. A tick within the threshold while pending drops back to
 * inactive. A tick within the threshold while firing emits RESOLVED and goes
 * back to inactive, so the next breach starts a new pending run.
 *
 * Runs on the event loop thread. Entries are removed only by a reload
 * (alert_reconfigure): otherwise the table is bounded by rules x scopes,
 * both of which are bounded by configuration and roster.
 */
#include "alert.h"

#include <stdlib.h>
#include <string.h>

typedef enum alert_phase {
	ALERT_PHASE_INACTIVE,
	ALERT_PHASE_PENDING,
	ALERT_PHASE_FIRING,
} alert_phase;

typedef struct alert_entry {
	char *key; /* NULL: empty slot */
	uint64_t hash;
	alert_phase phase;
	int breached_ticks;    /* consecutive breached ticks while pending */
	int64_t started_at_ms; /* when firing started */
	double last_value;     /* KPI value at the last observation */
} alert_entry;

struct alert_engine {
	const config *cfg;
	alert_entry *slots;
	size_t n_slots; /* power of two, or 0 before the first entry */
	size_t n_entries;
	size_t n_firing;
	char *key_buf; /* scratch for the dedup key of a lookup */
	size_t key_cap;
};

alert_engine *alert_new(const config *cfg)
{
	alert_engine *a = calloc(1, sizeof(*a));

	if (a)
		a->cfg = cfg;
	return a;
}

void alert_free(alert_engine *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_slots; i++)
		free(a->slots[i].key);
	free(a->slots);
	free(a->key_buf);
	free(a);
}

size_t alert_firing_count(const alert_engine *a)
{
	return a->n_firing;
}

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

/* Writes "<rule id>/<scope name>" into the scratch buffer. Returns its length or -1. */
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

/* Finds the entry of (rule, scope), creating it inactive. NULL when out of memory. */
static alert_entry *alert_entry_get(alert_engine *a, const char *rule_id, const char *scope)
{
	long len = alert_key_build(a, rule_id, scope);
	uint64_t hash;
	alert_entry *e;

	if (len < 0)
		return NULL;
	hash = alert_hash(a->key_buf, (size_t)len);
	if (a->n_slots) {
		e = alert_slot(a->slots, a->n_slots, a->key_buf, hash);
		if (e->key)
			return e;
	}

	/* Keep the load factor at or below one half. */
	if ((a->n_entries + 1) * 2 > a->n_slots && alert_grow(a) < 0)
		return NULL;
	e = alert_slot(a->slots, a->n_slots, a->key_buf, hash);
	e->key = strdup(a->key_buf);
	if (!e->key)
		return NULL;
	e->hash = hash;
	e->phase = ALERT_PHASE_INACTIVE;
	e->breached_ticks = 0;
	e->started_at_ms = 0;
	a->n_entries++;
	return e;
}

static int alert_breached(const config_threshold *rule, double value)
{
	if (rule->direction == THRESHOLD_ABOVE)
		return value > rule->value;
	return value < rule->value;
}

static void alert_emit(const alert_entry *e, alert_state state, const config_threshold *rule,
		       const kpi_update *u, int64_t now_ms, alert_emit_cb emit, void *opaque)
{
	alert_event ev = {
	    .state = state,
	    .kpi = u->kpi,
	    .rule = rule,
	    .scope = u->scope,
	    .window = u->window,
	    .dedup_key = e->key,
	    .observed = u->value,
	    .threshold = rule->value,
	    .started_at_ms = e->started_at_ms,
	    .ended_at_ms = state == ALERT_RESOLVED ? now_ms : 0,
	    .at_ms = now_ms,
	};

	emit(&ev, opaque);
}

/* Advances one entry by one tick and emits the transition it causes, if any. */
static void alert_step(alert_engine *a, alert_entry *e, const config_threshold *rule,
		       const kpi_update *u, int64_t now_ms, alert_emit_cb emit, void *opaque)
{
	int breached = alert_breached(rule, u->value);

	e->last_value = u->value;

	if (e->phase == ALERT_PHASE_FIRING) {
		if (breached)
			return;
		e->phase = ALERT_PHASE_INACTIVE;
		e->breached_ticks = 0;
		a->n_firing--;
		alert_emit(e, ALERT_RESOLVED, rule, u, now_ms, emit, opaque);
		return;
	}

	if (!breached) {
		e->phase = ALERT_PHASE_INACTIVE;
		e->breached_ticks = 0;
		return;
	}
	e->breached_ticks++;
	e->phase = ALERT_PHASE_PENDING;
	if (e->breached_ticks < rule->for_ticks)
		return;
	e->phase = ALERT_PHASE_FIRING;
	e->started_at_ms = now_ms;
	a->n_firing++;
	alert_emit(e, ALERT_FIRING, rule, u, now_ms, emit, opaque);
}

void alert_observe(alert_engine *a, const kpi_update *u, int64_t now_ms, alert_emit_cb emit,
		   void *opaque)
{
	const config_kpi *k = u->kpi;

	for (size_t i = 0; i < k->n_thresholds; i++) {
		const config_threshold *rule = &k->thresholds[i];
		alert_entry *e;

		if ((unsigned)u->scope_kind >= SCOPE_KIND_COUNT ||
		    !(rule->scope_kinds & (1u << u->scope_kind)))
			continue;
		/* NOTE: out of memory skips this (rule, scope) for the tick uncounted. */
		e = alert_entry_get(a, rule->id, u->scope);
		if (e)
			alert_step(a, e, rule, u, now_ms, emit, opaque);
	}
}

/* ---------------------------------------------------------------- reload */

/* The threshold with id in cfg and its KPI; NULL when there is none. */
static const config_threshold *alert_find_rule(const config *cfg, const char *id, size_t id_len,
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
	return NULL;
}

/* True when both KPIs compute the same value: behaviours, aggregation, window. */
static bool alert_same_value(const config *ca, const config_kpi *a, const config *cb,
			     const config_kpi *b)
{
	const config_window *wa = &ca->windows.windows[a->window];
	const config_window *wb = &cb->windows.windows[b->window];

	if (strcmp(a->id, b->id) != 0 || a->aggregation != b->aggregation ||
	    a->n_behaviours != b->n_behaviours || strcmp(wa->name, wb->name) != 0 ||
	    wa->length_ms != wb->length_ms)
		return false;
	for (size_t i = 0; i < a->n_behaviours; i++)
		if (strcmp(ca->behaviours[a->behaviours[i]].id,
			   cb->behaviours[b->behaviours[i]].id) != 0)
			return false;
	return true;
}

static bool alert_same_rule(const config_threshold *a, const config_threshold *b)
{
	return a->direction == b->direction && a->value == b->value &&
	       a->for_ticks == b->for_ticks && strcmp(a->severity, b->severity) == 0 &&
	       a->scope_kinds == b->scope_kinds;
}

/* True when the entry's state remains valid under next. */
static bool alert_entry_kept(const alert_engine *a, const alert_entry *e, const config *next)
{
	const char *slash = strchr(e->key, '/');
	const config_kpi *old_kpi, *new_kpi;
	const config_threshold *old_rule, *new_rule;
	size_t id_len = (size_t)(slash - e->key);

	old_rule = alert_find_rule(a->cfg, e->key, id_len, &old_kpi);
	new_rule = alert_find_rule(next, e->key, id_len, &new_kpi);
	return old_rule && new_rule && config_kpi_active(new_kpi) &&
	       alert_same_rule(old_rule, new_rule) &&
	       alert_same_value(a->cfg, old_kpi, next, new_kpi);
}

/* Emits RESOLVED for a firing entry that a reload drops, described by the old config. */
static void alert_resolve_dropped(alert_engine *a, const alert_entry *e, int64_t now_ms,
				  alert_emit_cb emit, void *opaque)
{
	const char *slash = strchr(e->key, '/');
	const config_kpi *kpi;
	const config_threshold *rule =
	    alert_find_rule(a->cfg, e->key, (size_t)(slash - e->key), &kpi);

	if (!rule)
		return;
	alert_event ev = {
	    .state = ALERT_RESOLVED,
	    .kpi = kpi,
	    .rule = rule,
	    .scope = slash + 1,
	    .window = a->cfg->windows.windows[kpi->window].name,
	    .dedup_key = e->key,
	    .observed = e->last_value,
	    .threshold = rule->value,
	    .started_at_ms = e->started_at_ms,
	    .ended_at_ms = now_ms,
	    .at_ms = now_ms,
	};
	emit(&ev, opaque);
}

void alert_reconfigure(alert_engine *a, const config *next, int64_t now_ms, alert_emit_cb emit,
		       void *opaque)
{
	alert_entry *slots = a->n_slots ? calloc(a->n_slots, sizeof(*slots)) : NULL;

	if (a->n_slots && !slots) {
		/* Out of memory: keep every entry; a removed rule's entry is never observed. */
		a->cfg = next;
		return;
	}
	a->n_entries = 0;
	a->n_firing = 0;
	for (size_t i = 0; i < a->n_slots; i++) {
		alert_entry *e = &a->slots[i];
		if (!e->key)
			continue;
		if (!alert_entry_kept(a, e, next)) {
			if (e->phase == ALERT_PHASE_FIRING)
				alert_resolve_dropped(a, e, now_ms, emit, opaque);
			free(e->key);
			continue;
		}
		*alert_slot(slots, a->n_slots, e->key, e->hash) = *e;
		a->n_entries++;
		a->n_firing += e->phase == ALERT_PHASE_FIRING;
	}
	free(a->slots);
	a->slots = slots;
	a->cfg = next;
}
