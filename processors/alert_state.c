/*
 * alert_state.c - the alert engine's state as text, and the alerts that
 * outlive their rule.
 *
 * The text of one entry starts with "a1" and 17 numbers: phase, announced,
 * breached ticks, pending since, started at, clear since, last sent,
 * repeats, tier, last value, bound, resolve bound, period, samples, mean,
 * variance and ring length. The ring's samples follow, then a JSON
 * description of the rule and KPI it was evaluated under. The description serves two cases at load time.
 *
 * - The rule is gone, or its KPI is retired: an announced alert still owes
 *   its RESOLVED. The description stands in for the missing configuration
 *   (an orphan), and alert_tick_end sends the resolve.
 * - The rule changed its condition or bounds, or the KPI its value, while
 *   no instance ran: the stored state does not apply. An announced alert is
 *   resolved as an orphan and the entry starts over, as a reload would do.
 *
 * Text without a description (written by an earlier version) is read as
 * matching the current rule.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "alert_internal.h"

#define ALERT_STATE_VERSION "a1"

/* An announced alert whose rule is gone, described by its stored state. */
typedef struct alert_orphan {
	alert_entry entry;        /* key, times and figures; kpi and rule point below */
	config_kpi kpi;
	config_threshold rule;
	config_kv *labels;
	json_t *desc;             /* owns every string the kpi and rule point to */
} alert_orphan;

/* ---------------------------------------------------------------- description */

static json_t *alert_labels_json(const config_threshold *r)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < r->n_labels; i++)
		json_object_set_new(o, r->labels[i].key, json_string(r->labels[i].value));
	return o;
}

static json_t *alert_optional_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Describes the rule and KPI of e, with the severity and owner of its tier. */
static json_t *alert_describe(const alert_entry *e, const config *cfg)
{
	const config_threshold *r = e->rule;
	const config_kpi *k = e->kpi;
	const config_window *w = &cfg->windows.windows[k->window];

	return json_pack("{s:i, s:i, s:f, s:f, s:i, s:I, s:I, s:I, s:i, s:i, s:I, s:s, s:o, s:s, "
	                 "s:o, s:o, s:s, s:s, s:i, s:i, s:s, s:I, s:f}",
	                 "condition", (int)r->condition, "direction", (int)r->direction,
	                 "value", r->value, "resolve_value", r->resolve_value,
	                 "for_ticks", r->for_ticks, "for_ms", (json_int_t)r->for_ms,
	                 "keep_firing_for_ms", (json_int_t)r->keep_firing_for_ms,
	                 "period_ms", (json_int_t)r->period_ms, "periods", r->periods,
	                 "min_sample", r->min_sample, "scope_kinds", (json_int_t)r->scope_kinds,
	                 "severity", e->tier == 2 && r->escalate_severity ? r->escalate_severity
	                                                                  : r->severity,
	                 "owner", alert_optional_string(e->tier == 2 && r->escalate_owner
	                                                ? r->escalate_owner : r->owner),
	                 "route", r->route ? r->route : "default",
	                 "runbook_url", alert_optional_string(r->runbook_url),
	                 "labels", alert_labels_json(r), "kpi", k->id,
	                 "kpi_name", k->name ? k->name : k->id, "quadrant", (int)k->quadrant,
	                 "aggregation", (int)k->aggregation, "window", w->name,
	                 "window_ms", (json_int_t)w->length_ms, "target", k->target);
}

/* True when desc describes the same condition, bounds and KPI value as e's rule. */
static bool alert_described_same(const json_t *desc, const alert_entry *e, const config *cfg)
{
	const config_window *w = &cfg->windows.windows[e->kpi->window];
	config_threshold stored = *e->rule;
	json_int_t aggregation = -1, window_ms = -1, for_ms = -1, keep_ms = -1, period_ms = -1;
	json_int_t scope_kinds = -1;
	int condition = -1, direction = -1;
	double target = NAN;
	const char *window = "";

	if (json_unpack((json_t *)desc, "{s:i, s:i, s:F, s:F, s:i, s:I, s:I, s:I, s:i, s:i, s:I, "
	                "s:I, s:s, s:I, s:F}",
	                "condition", &condition, "direction", &direction, "value", &stored.value,
	                "resolve_value", &stored.resolve_value, "for_ticks", &stored.for_ticks,
	                "for_ms", &for_ms, "keep_firing_for_ms", &keep_ms, "period_ms", &period_ms,
	                "periods", &stored.periods, "min_sample", &stored.min_sample,
	                "scope_kinds", &scope_kinds, "aggregation", &aggregation, "window", &window,
	                "window_ms", &window_ms, "target", &target) < 0)
		return true; /* not a description this version reads: trust the rule */
	stored.condition = (alert_condition)condition;
	stored.direction = (threshold_direction)direction;
	stored.for_ms = for_ms;
	stored.keep_firing_for_ms = keep_ms;
	stored.period_ms = period_ms;
	stored.scope_kinds = (uint32_t)scope_kinds;
	return alert_same_rule(&stored, e->rule) && aggregation == (json_int_t)e->kpi->aggregation &&
	       window_ms == w->length_ms && strcmp(window, w->name) == 0 && target == e->kpi->target;
}

/* ---------------------------------------------------------------- export */

/* Returns the state text of e (malloc'd), or NULL when out of memory. */
static char *alert_state_text(const alert_engine *a, const alert_entry *e)
{
	/* 17 numbers and a ring of at most 64 samples, 25 characters each. */
	char numbers[2400];
	int n = snprintf(numbers, sizeof(numbers),
	                 ALERT_STATE_VERSION " %d %d %d %" PRId64 " %" PRId64 " %" PRId64
	                 " %" PRId64 " %" PRIu32 " %d %.17g %.17g %.17g %" PRId64
	                 " %d %.17g %.17g %d",
	                 (int)e->phase, e->announced, e->breached_ticks, e->pending_since_ms,
	                 e->started_at_ms, e->clear_since_ms, e->last_sent_ms, e->repeats, e->tier,
	                 e->last_value, e->bound, e->resolve_bound, e->period, e->n_samples,
	                 e->mean, e->var, e->ring_len);
	json_t *desc;
	char *json, *text;
	size_t len;

	for (int i = 0; i < e->ring_len && n > 0 && (size_t)n < sizeof(numbers); i++)
		n += snprintf(numbers + n, sizeof(numbers) - (size_t)n, " %.17g", e->ring[i]);
	desc = alert_describe(e, a->cfg);
	json = desc ? json_dumps(desc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
	json_decref(desc);
	if (!json)
		return NULL;
	len = strlen(numbers) + 1 + strlen(json) + 1;
	text = malloc(len);
	if (text)
		snprintf(text, len, "%s %s", numbers, json);
	free(json);
	return text;
}

void alert_export_dirty(alert_engine *a, alert_state_cb cb, void *opaque)
{
	for (size_t i = 0; i < a->n_removed; i++)
		cb(a->removed[i], NULL, opaque);
	alert_free_removed(a);
	for (size_t i = 0; i < a->n_slots; i++) {
		alert_entry *e = &a->slots[i];
		char *text;

		if (!e->key || !e->dirty)
			continue;
		text = alert_state_text(a, e);
		if (!text)
			continue; /* out of memory: stays dirty, written at the next export */
		cb(e->key, text, opaque);
		free(text);
		e->dirty = false;
	}
}

void alert_mark_all_dirty(alert_engine *a)
{
	for (size_t i = 0; i < a->n_slots; i++)
		if (a->slots[i].key)
			a->slots[i].dirty = true;
}

/* ---------------------------------------------------------------- import */

/*
 * Reads the numbers and ring samples of text into e (samples only into a
 * ring e has) and points *rest at what follows. Returns 0 or -1.
 */
static int alert_parse_state(alert_entry *e, const char *text, const char **rest)
{
	int phase, announced, used = 0, ring_len;
	char *end;

	if (sscanf(text, ALERT_STATE_VERSION " %d %d %d %" SCNd64 " %" SCNd64 " %" SCNd64
	                 " %" SCNd64 " %" SCNu32 " %d %lf %lf %lf %" SCNd64 " %d %lf %lf %d%n",
	           &phase, &announced, &e->breached_ticks, &e->pending_since_ms,
	           &e->started_at_ms, &e->clear_since_ms, &e->last_sent_ms, &e->repeats, &e->tier,
	           &e->last_value, &e->bound, &e->resolve_bound, &e->period, &e->n_samples,
	           &e->mean, &e->var, &ring_len, &used) != 17)
		return -1;
	if (phase < ALERT_PHASE_INACTIVE || phase > ALERT_PHASE_FIRING || e->tier < 1 ||
	    e->tier > 2 || ring_len < 0 || !isfinite(e->mean) || !isfinite(e->var))
		return -1;
	e->phase = (alert_phase)phase;
	e->announced = announced != 0;
	text += used;
	e->ring_len = 0;
	for (int i = 0; i < ring_len; i++) {
		double v = strtod(text, &end);

		if (end == text || !isfinite(v))
			return -1;
		text = end;
		/* A ring kept under another `periods` keeps its newest samples. */
		if (e->ring && e->ring_len == e->rule->periods) {
			memmove(e->ring, e->ring + 1, (size_t)(e->ring_len - 1) * sizeof(*e->ring));
			e->ring_len--;
		}
		if (e->ring)
			e->ring[e->ring_len++] = v;
	}
	while (*text == ' ')
		text++;
	*rest = text;
	return 0;
}

/* Reads the JSON description after the numbers; NULL when there is none. */
static json_t *alert_parse_description(const char *rest)
{
	return *rest == '{' ? json_loads(rest, 0, NULL) : NULL;
}

static const char *alert_desc_string(const json_t *desc, const char *name)
{
	const char *s = json_string_value(json_object_get(desc, name));

	return s ? s : "";
}

/* Builds the stand-in KPI and rule of an orphan from its description. */
static int alert_orphan_describe(alert_orphan *o)
{
	const json_t *labels = json_object_get(o->desc, "labels");
	const char *name;
	json_t *value;
	size_t i = 0;

	o->kpi.id = (char *)alert_desc_string(o->desc, "kpi");
	o->kpi.name = (char *)alert_desc_string(o->desc, "kpi_name");
	o->kpi.quadrant = (quadrant)json_integer_value(json_object_get(o->desc, "quadrant"));
	o->kpi.target = json_number_value(json_object_get(o->desc, "target"));
	o->rule.condition = (alert_condition)json_integer_value(json_object_get(o->desc, "condition"));
	o->rule.direction =
	    (threshold_direction)json_integer_value(json_object_get(o->desc, "direction"));
	o->rule.severity = (char *)alert_desc_string(o->desc, "severity");
	o->rule.owner = (char *)json_string_value(json_object_get(o->desc, "owner"));
	o->rule.route = (char *)alert_desc_string(o->desc, "route");
	o->rule.runbook_url = (char *)json_string_value(json_object_get(o->desc, "runbook_url"));
	if (json_object_size(labels)) {
		o->labels = calloc(json_object_size(labels), sizeof(*o->labels));
		if (!o->labels)
			return -1;
		json_object_foreach((json_t *)labels, name, value) {
			o->labels[i].key = (char *)name;
			o->labels[i++].value = (char *)alert_desc_string(labels, name);
		}
	}
	o->rule.labels = o->labels;
	o->rule.n_labels = i;
	o->entry.window = alert_desc_string(o->desc, "window");
	if (!*o->rule.severity || !*o->kpi.id)
		return -1;
	return 0;
}

static void alert_orphan_free(alert_orphan *o)
{
	if (!o)
		return;
	free(o->entry.key);
	free(o->labels);
	json_decref(o->desc);
	free(o);
}

/*
 * Keeps an announced alert of key whose rule is gone, with the numbers of
 * from and its description, to resolve at the next tick. Takes desc.
 */
static void alert_adopt_orphan(alert_engine *a, const char *key, const alert_entry *from,
                               json_t *desc)
{
	const char *slash = strchr(key, '/');
	alert_orphan *o = calloc(1, sizeof(*o));
	char *rule_id = NULL;

	if (!o || !slash || a->n_orphans == SIZE_MAX)
		goto fail;
	o->desc = desc;
	desc = NULL;
	o->entry = *from;
	o->entry.ring = NULL;
	o->entry.key = strdup(key);
	rule_id = strndup(key, (size_t)(slash - key));
	if (!o->entry.key || !rule_id ||
	    json_object_set_new(o->desc, "rule_id", json_string(rule_id)) < 0)
		goto fail;
	o->rule.id = (char *)alert_desc_string(o->desc, "rule_id");
	o->entry.scope = o->entry.key + (slash - key) + 1;
	o->entry.kpi = &o->kpi;
	o->entry.rule = &o->rule;
	o->entry.tier = 1; /* the description contains the tier's severity and owner */
	o->entry.has_baseline = false;
	o->entry.low_scope = o->entry.high_scope = NULL;
	if (alert_orphan_describe(o) < 0)
		goto fail;
	if (a->n_orphans == a->orphans_cap) {
		size_t cap = a->orphans_cap ? a->orphans_cap * 2 : 8;
		alert_orphan **grown = realloc(a->orphans, cap * sizeof(*grown));

		if (!grown)
			goto fail;
		a->orphans = grown;
		a->orphans_cap = cap;
	}
	a->orphans[a->n_orphans++] = o;
	free(rule_id);
	return;
fail:
	/* NOTE: without memory or a readable description, the resolve is lost. */
	free(rule_id);
	json_decref(desc);
	alert_orphan_free(o);
}

/* Imports the state of a key whose rule is gone: an announced alert becomes an orphan. */
static void alert_import_gone(alert_engine *a, const char *key, const char *state)
{
	alert_entry tmp = {.period = -1};
	const char *rest;
	json_t *desc;
	char *copy = strdup(key);

	/* Its state is deleted at the next export, together with the resolve. */
	if (copy && alert_note_removed(a, copy) < 0)
		free(copy);
	if (alert_parse_state(&tmp, state, &rest) < 0 || !tmp.announced ||
	    tmp.phase == ALERT_PHASE_INACTIVE)
		return;
	desc = alert_parse_description(rest);
	if (desc)
		alert_adopt_orphan(a, key, &tmp, desc);
}

int alert_import(alert_engine *a, const char *key, const char *state)
{
	const char *slash = strchr(key, '/'), *rest;
	const config_kpi *kpi;
	const config_threshold *rule;
	alert_entry *e;
	json_t *desc;

	rule = slash ? alert_find_rule(a->cfg, key, (size_t)(slash - key), &kpi) : NULL;
	if (!rule || !config_kpi_active(kpi)) {
		alert_import_gone(a, key, state);
		return -1;
	}
	e = alert_entry_get(a, kpi, rule, slash + 1);
	if (!e)
		return -1;
	if (alert_parse_state(e, state, &rest) < 0) {
		alert_entry_reset(e);
		e->period = -1;
		e->n_samples = 0;
		e->ring_len = 0;
		e->dirty = true;
		return -1;
	}
	desc = alert_parse_description(rest);
	if (desc && !alert_described_same(desc, e, a->cfg)) {
		/* Changed while no instance ran: resolve what was announced, start over. */
		if (e->announced && e->phase != ALERT_PHASE_INACTIVE)
			alert_adopt_orphan(a, key, e, json_incref(desc));
		alert_entry_reset(e);
		e->period = -1;
		e->n_samples = 0;
		e->ring_len = 0;
		e->dirty = true;
	}
	json_decref(desc);
	return 0;
}

void alert_clear(alert_engine *a)
{
	for (size_t i = 0; i < a->n_slots; i++)
		alert_entry_free(&a->slots[i]);
	if (a->slots)
		memset(a->slots, 0, a->n_slots * sizeof(*a->slots));
	a->n_entries = 0;
	alert_free_removed(a);
	alert_free_orphans(a);
}

/* ---------------------------------------------------------------- orphans */

void alert_resolve_orphans(alert_engine *a, alert_emit_cb emit, void *opaque)
{
	for (size_t i = 0; i < a->n_orphans; i++)
		alert_emit(a, &a->orphans[i]->entry, ALERT_RESOLVED, a->now_ms, emit, opaque);
	alert_free_orphans(a);
}

void alert_free_orphans(alert_engine *a)
{
	for (size_t i = 0; i < a->n_orphans; i++)
		alert_orphan_free(a->orphans[i]);
	a->n_orphans = 0;
}
