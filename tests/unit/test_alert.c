/*
 * test_alert.c - escalation rules: conditions, lifecycle, announcement.
 *
 * One KPI (target 0.5) and one rule, rewritten by each test. A tick is
 * alert_tick_begin, one alert_observe per scope, alert_tick_end. Ticks are
 * 10 s apart unless a test sets otherwise. Events are copied as they come.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"

#define MAX_EVENTS 256
#define ALL_KINDS ((1u << SCOPE_KIND_COUNT) - 1)
#define MINUTE 60000LL

typedef struct seen_event {
	alert_event event;
	char dedup_key[96];
	char id[160];
	char scope[64];
	char window[16];
	char kpi_id[32];
	char severity[16];
	char owner[32];
	char runbook[64];
	char lowest[64];
	char highest[64];
	char held[8][96];
} seen_event;

typedef struct fixture {
	config cfg;
	config_kpi kpi;
	config_threshold rule;
	config_window window;
	config_behaviour behaviour;
	size_t behaviour_index;
	alert_engine *engine;
	int64_t now;

	seen_event events[MAX_EVENTS];
	size_t n_events;
} fixture;

static config_threshold base_rule(void)
{
	return (config_threshold){
	    .id = "low",
	    .condition = ALERT_COND_THRESHOLD,
	    .direction = THRESHOLD_BELOW,
	    .value = 0.5,
	    .has_value = true,
	    .resolve_value = 0.5,
	    .for_ticks = 1,
	    .period_ms = MINUTE,
	    .periods = 3,
	    .min_sample = 5,
	    .severity = "warning",
	    .scope_kinds = ALL_KINDS,
	    .owner = "HR",
	    .route = "HR",
	};
}

/* Installs rule and a fresh engine. */
static void use_rule(fixture *f, config_threshold rule)
{
	alert_free(f->engine);
	f->rule = rule;
	f->engine = alert_new(&f->cfg);
	assert_non_null(f->engine);
}

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->kpi.id = "recognition_rate";
	f->kpi.name = "Peer recognition rate";
	f->kpi.target = 0.5;
	f->kpi.thresholds = &f->rule;
	f->kpi.n_thresholds = 1;
	f->window = (config_window){.name = "7d", .length_ms = 7 * 86400000LL};
	f->behaviour = (config_behaviour){.id = "recognition_given"};
	f->kpi.behaviours = &f->behaviour_index;
	f->kpi.n_behaviours = 1;
	f->cfg.kpis = &f->kpi;
	f->cfg.n_kpis = 1;
	f->cfg.windows.windows = &f->window;
	f->cfg.windows.n_windows = 1;
	f->cfg.behaviours = &f->behaviour;
	f->cfg.n_behaviours = 1;
	f->cfg.alerts.max_firings_per_tick = 10;
	snprintf(f->cfg.version, sizeof(f->cfg.version), "0123456789abcdef");
	f->now = 1700000000000LL;
	use_rule(f, base_rule());
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	alert_free(f->engine);
	test_free(f);
	return 0;
}

static void collect_cb(const alert_event *e, void *opaque)
{
	fixture *f = opaque;
	seen_event *s;

	assert_true(f->n_events < MAX_EVENTS);
	s = &f->events[f->n_events++];
	s->event = *e;
	snprintf(s->dedup_key, sizeof(s->dedup_key), "%s", e->dedup_key);
	snprintf(s->id, sizeof(s->id), "%s", e->id);
	snprintf(s->scope, sizeof(s->scope), "%s", e->scope);
	snprintf(s->window, sizeof(s->window), "%s", e->window ? e->window : "");
	/* An orphan's KPI and rule live only during the call. */
	snprintf(s->kpi_id, sizeof(s->kpi_id), "%s", e->kpi ? e->kpi->id : "");
	snprintf(s->runbook, sizeof(s->runbook), "%s",
	         e->rule && e->rule->runbook_url ? e->rule->runbook_url : "");
	snprintf(s->severity, sizeof(s->severity), "%s", e->severity ? e->severity : "");
	snprintf(s->owner, sizeof(s->owner), "%s", e->owner ? e->owner : "");
	s->event.kpi = NULL;
	s->event.rule = NULL;
	s->event.severity = s->severity;
	s->event.owner = e->owner ? s->owner : NULL;
	for (size_t i = 0; i < e->n_held && i < 8; i++)
		snprintf(s->held[i], sizeof(s->held[i]), "%s", e->held_keys[i]);
	s->event.dedup_key = s->dedup_key;
	s->event.id = s->id;
	s->event.scope = s->scope;
	s->event.window = s->window;
	s->event.held_keys = NULL;
	snprintf(s->lowest, sizeof(s->lowest), "%s", e->lowest_scope ? e->lowest_scope : "");
	snprintf(s->highest, sizeof(s->highest), "%s", e->highest_scope ? e->highest_scope : "");
	s->event.lowest_scope = s->lowest;
	s->event.highest_scope = s->highest;
}

typedef struct obs {
	const char *scope;
	scope_kind kind;
	double value;
	uint32_t headcount;
} obs;

/* Runs one tick at f->now with the given figures, then advances 10 s. Returns events caused. */
static size_t tick_n(fixture *f, const obs *o, size_t n)
{
	size_t before = f->n_events;

	alert_tick_begin(f->engine, f->now);
	for (size_t i = 0; i < n; i++) {
		kpi_update u = {
		    .kpi = &f->kpi,
		    .scope = o[i].scope,
		    .scope_kind = o[i].kind,
		    .window = "7d",
		    .value = o[i].value,
		    .headcount = o[i].headcount ? o[i].headcount : 50,
		    .computed_at_ms = f->now,
		    .target = f->kpi.target,
		};
		alert_observe(f->engine, &u);
	}
	assert_int_equal(alert_tick_end(f->engine, collect_cb, f), 0);
	f->now += 10000;
	return f->n_events - before;
}

/* One tick with one team figure. */
static size_t tick(fixture *f, double value)
{
	obs o = {"team:Payments", SCOPE_TEAM, value, 0};

	return tick_n(f, &o, 1);
}

static const alert_event *ev(const fixture *f, size_t i)
{
	assert_true(i < f->n_events);
	return &f->events[i].event;
}

static size_t count_state(const fixture *f, alert_state s)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n_events; i++)
		n += f->events[i].event.state == s;
	return n;
}

/* ---------------------------------------------------------------- lifecycle */

static void test_fires_after_for_ticks_and_for(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.for_ticks = 2;
	r.for_ms = 25000;
	use_rule(f, r);
	assert_int_equal(tick(f, 0.3), 0);  /* pending since t0 */
	assert_int_equal(tick(f, 0.3), 0);  /* 2 ticks, 10 s */
	assert_int_equal(tick(f, 0.3), 0);  /* 20 s < 25 s */
	assert_int_equal(alert_firing_count(f->engine), 0);
	assert_int_equal(tick(f, 0.3), 1);  /* 30 s */
	assert_int_equal(ev(f, 0)->state, ALERT_FIRING);
	assert_string_equal(ev(f, 0)->dedup_key, "low/team:Payments");
	assert_string_equal(ev(f, 0)->severity, "warning");
	assert_string_equal(ev(f, 0)->owner, "HR");
	assert_true(ev(f, 0)->threshold == 0.5);
	assert_true(ev(f, 0)->observed == 0.3);
	assert_int_equal(ev(f, 0)->started_at_ms, f->now - 10000);
	assert_string_equal(ev(f, 0)->rule_version, "0123456789abcdef");
	assert_int_equal(alert_firing_count(f->engine), 1);
}

static void test_pending_run_restarts_when_clear(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.for_ticks = 3;
	use_rule(f, r);
	tick(f, 0.3);
	tick(f, 0.3);
	tick(f, 0.7);
	tick(f, 0.3);
	tick(f, 0.3);
	assert_int_equal(f->n_events, 0);
	assert_int_equal(tick(f, 0.3), 1);
}

static void test_resolve_carries_start_and_end(void **state)
{
	fixture *f = *state;
	int64_t started = f->now;

	tick(f, 0.3);
	assert_int_equal(tick(f, 0.8), 1);
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
	assert_int_equal(ev(f, 1)->started_at_ms, started);
	assert_int_equal(ev(f, 1)->ended_at_ms, started + 10000);
	assert_true(ev(f, 1)->observed == 0.8);
	assert_string_equal(ev(f, 0)->dedup_key, ev(f, 1)->dedup_key);
	assert_string_not_equal(ev(f, 0)->id, ev(f, 1)->id);
	assert_int_equal(alert_firing_count(f->engine), 0);
}

/* A value flapping around the bound gives one firing and one resolve. */
static void test_hysteresis_stops_flapping(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();
	static const double values[] = {0.45, 0.55, 0.45, 0.58, 0.49, 0.52, 0.61};

	r.resolve_value = 0.6;
	use_rule(f, r);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		tick(f, values[i]);
	assert_int_equal(f->n_events, 2);
	assert_int_equal(ev(f, 0)->state, ALERT_FIRING);
	assert_true(ev(f, 0)->resolve_threshold == 0.6);
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
	assert_true(ev(f, 1)->observed == 0.61);
}

static void test_keep_firing_for_bridges_short_clears(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.keep_firing_for_ms = 25000;
	use_rule(f, r);
	tick(f, 0.3);
	tick(f, 0.7);  /* clear since t1 */
	tick(f, 0.7);  /* 10 s */
	tick(f, 0.3);  /* breached again: clock restarts */
	tick(f, 0.7);
	tick(f, 0.7);
	tick(f, 0.7);  /* 20 s */
	assert_int_equal(f->n_events, 1);
	assert_int_equal(tick(f, 0.7), 1); /* 30 s */
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
}

static void test_repeat_and_second_tier(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.repeat_interval_ms = 20000;
	r.escalate_after_ms = 45000;
	r.escalate_severity = "critical";
	r.escalate_owner = "HR leadership";
	use_rule(f, r);
	for (int i = 0; i < 8; i++)
		tick(f, 0.3);
	/* t0 firing, t20 repeat 1, t40 repeat 2, t50 escalated, t70 repeat 3 */
	assert_int_equal(f->n_events, 5);
	assert_int_equal(ev(f, 1)->state, ALERT_REPEAT);
	assert_int_equal(ev(f, 1)->sequence, 1);
	assert_string_equal(ev(f, 1)->severity, "warning");
	assert_int_equal(ev(f, 2)->sequence, 2);
	assert_int_equal(ev(f, 3)->state, ALERT_ESCALATED);
	assert_int_equal(ev(f, 3)->tier, 2);
	assert_string_equal(ev(f, 3)->severity, "critical");
	assert_string_equal(ev(f, 3)->owner, "HR leadership");
	assert_int_equal(ev(f, 4)->state, ALERT_REPEAT);
	assert_int_equal(ev(f, 4)->sequence, 3);
	assert_string_equal(ev(f, 4)->severity, "critical");
	for (size_t i = 1; i < f->n_events; i++)
		assert_string_not_equal(ev(f, i)->id, ev(f, i - 1)->id);
	assert_int_equal(tick(f, 0.9), 1);
	assert_int_equal(ev(f, 5)->state, ALERT_RESOLVED);
	assert_string_equal(ev(f, 5)->severity, "critical");
}

/* A repeat due within half a tick goes out at that tick, not one tick late. */
static void test_repeat_tolerates_tick_drift(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.repeat_interval_ms = 20000;
	f->cfg.outputs.tick_interval_ms = 10000;
	use_rule(f, r);
	tick(f, 0.3);
	f->now -= 1; /* the next ticks come 1 ms early */
	tick(f, 0.3);
	f->now -= 1;
	assert_int_equal(tick(f, 0.3), 1);
	assert_int_equal(ev(f, 1)->state, ALERT_REPEAT);
}

static void test_disparity_tie_names_two_segments(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();
	obs tie[] = {{"work_mode:remote", SCOPE_WORK_MODE, 0.0, 20},
	             {"work_mode:onsite", SCOPE_WORK_MODE, 0.0, 20}};

	r.condition = ALERT_COND_DISPARITY;
	r.value = 0.8;
	r.resolve_value = 0.8;
	r.direction = THRESHOLD_ABOVE; /* fires on equal segments, to see the names */
	r.scope_kinds = 1u << SCOPE_WORK_MODE;
	use_rule(f, r);
	assert_int_equal(tick_n(f, tie, 2), 1);
	assert_true(ev(f, 0)->observed == 1.0);
	assert_string_equal(ev(f, 0)->lowest_scope, "work_mode:remote");
	assert_string_equal(ev(f, 0)->highest_scope, "work_mode:onsite");
}

/* Suppressed or missing scopes keep their state. */
static void test_unobserved_scope_keeps_state(void **state)
{
	fixture *f = *state;

	tick(f, 0.3);
	tick_n(f, NULL, 0);
	tick_n(f, NULL, 0);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(alert_firing_count(f->engine), 1);
	assert_int_equal(tick(f, 0.3), 0);
}

static void test_rule_scope_kinds(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();
	obs o[] = {{"org", SCOPE_ORG, 0.1, 0}, {"region:EMEA", SCOPE_REGION, 0.1, 0}};

	r.scope_kinds = 1u << SCOPE_TEAM;
	use_rule(f, r);
	assert_int_equal(tick_n(f, o, 2), 0);
}

/* ---------------------------------------------------------------- conditions */

static void test_deviation_from_target(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.condition = ALERT_COND_DEVIATION;
	r.value = 20;          /* below 0.4 */
	r.resolve_value = 10;  /* clear at 0.45 */
	use_rule(f, r);
	assert_int_equal(tick(f, 0.41), 0);
	assert_int_equal(tick(f, 0.39), 1);
	assert_true(ev(f, 0)->threshold > 0.3999 && ev(f, 0)->threshold < 0.4001);
	assert_int_equal(tick(f, 0.44), 0);
	assert_int_equal(tick(f, 0.46), 1);
}

static void test_zscore_against_baseline(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();
	static const double baseline[] = {0.50, 0.52, 0.48, 0.51, 0.49};

	r.condition = ALERT_COND_ZSCORE;
	r.value = 3;
	r.resolve_value = 1;
	r.periods = 4;
	r.period_ms = 10000; /* one sample per tick */
	use_rule(f, r);
	/* A value far off during warm-up does not fire. */
	tick(f, 0.05);
	assert_int_equal(f->n_events, 0);
	use_rule(f, r);
	for (size_t i = 0; i < 5; i++)
		tick(f, baseline[i]);
	assert_int_equal(f->n_events, 0);
	assert_int_equal(tick(f, 0.47), 0);
	assert_int_equal(tick(f, 0.20), 1);
	assert_true(ev(f, 0)->has_baseline);
	assert_true(ev(f, 0)->baseline_mean > 0.45 && ev(f, 0)->baseline_mean < 0.52);
	assert_true(ev(f, 0)->baseline_stddev > 0);
	assert_true(ev(f, 0)->threshold > 0.2 && ev(f, 0)->threshold < ev(f, 0)->baseline_mean);
}

static void test_trend_decline(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();

	r.condition = ALERT_COND_TREND;
	r.value = -10;         /* fell by more than 10 % over 2 periods */
	r.resolve_value = 0;
	r.periods = 2;
	r.period_ms = 10000;
	use_rule(f, r);
	assert_int_equal(tick(f, 0.50), 0);
	assert_int_equal(tick(f, 0.48), 0);
	assert_int_equal(tick(f, 0.46), 0); /* -8 % against 0.50 */
	assert_int_equal(tick(f, 0.40), 1); /* -16.7 % against 0.48 */
	assert_true(ev(f, 0)->threshold > 0.4319 && ev(f, 0)->threshold < 0.4321);
	assert_int_equal(tick(f, 0.47), 1); /* +2 % against 0.46: resolved */
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
}

static void test_disparity_between_segments(void **state)
{
	fixture *f = *state;
	config_threshold r = base_rule();
	obs fair[] = {{"work_mode:remote", SCOPE_WORK_MODE, 0.45, 20},
	              {"work_mode:onsite", SCOPE_WORK_MODE, 0.50, 20},
	              {"team:Payments", SCOPE_TEAM, 0.10, 20}};
	obs unfair[] = {{"work_mode:remote", SCOPE_WORK_MODE, 0.30, 20},
	                {"work_mode:onsite", SCOPE_WORK_MODE, 0.50, 20},
	                {"work_mode:hybrid", SCOPE_WORK_MODE, 0.01, 2}};

	r.condition = ALERT_COND_DISPARITY;
	r.value = 0.8;
	r.resolve_value = 0.85;
	r.scope_kinds = 1u << SCOPE_WORK_MODE;
	use_rule(f, r);
	assert_int_equal(tick_n(f, fair, 3), 0);
	/* hybrid is under min_sample and does not count */
	assert_int_equal(tick_n(f, unfair, 3), 1);
	assert_string_equal(ev(f, 0)->dedup_key, "low/work_mode");
	assert_true(ev(f, 0)->observed > 0.599 && ev(f, 0)->observed < 0.601);
	assert_string_equal(ev(f, 0)->lowest_scope, "work_mode:remote");
	assert_string_equal(ev(f, 0)->highest_scope, "work_mode:onsite");
	assert_int_equal(tick_n(f, fair, 3), 1);
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
}

/* ---------------------------------------------------------------- announcement */

static void test_org_firing_inhibits_children(void **state)
{
	fixture *f = *state;
	obs all_low[] = {{"team:Payments", SCOPE_TEAM, 0.3, 0}, {"org", SCOPE_ORG, 0.3, 0}};
	obs org_ok[] = {{"team:Payments", SCOPE_TEAM, 0.3, 0}, {"org", SCOPE_ORG, 0.7, 0}};

	assert_int_equal(tick_n(f, all_low, 2), 1);
	assert_string_equal(ev(f, 0)->dedup_key, "low/org");
	assert_int_equal(tick_n(f, all_low, 2), 0);
	/* The org alert resolves and the team alert is announced with its own start. */
	assert_int_equal(tick_n(f, org_ok, 2), 2);
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
	assert_int_equal(ev(f, 2)->state, ALERT_FIRING);
	assert_string_equal(ev(f, 2)->dedup_key, "low/team:Payments");
	assert_int_equal(ev(f, 2)->started_at_ms, ev(f, 0)->started_at_ms);
}

static void test_inhibited_alert_that_clears_sends_nothing(void **state)
{
	fixture *f = *state;
	obs all_low[] = {{"team:Payments", SCOPE_TEAM, 0.3, 0}, {"org", SCOPE_ORG, 0.3, 0}};
	obs team_ok[] = {{"team:Payments", SCOPE_TEAM, 0.7, 0}, {"org", SCOPE_ORG, 0.3, 0}};

	tick_n(f, all_low, 2);
	assert_int_equal(tick_n(f, team_ok, 2), 0);
	assert_int_equal(f->n_events, 1);
}

static void test_storm_control_holds_back_and_catches_up(void **state)
{
	fixture *f = *state;
	obs teams[] = {{"team:A", SCOPE_TEAM, 0.1, 0}, {"team:B", SCOPE_TEAM, 0.1, 0},
	               {"team:C", SCOPE_TEAM, 0.1, 0}, {"team:D", SCOPE_TEAM, 0.1, 0},
	               {"team:E", SCOPE_TEAM, 0.1, 0}};

	f->cfg.alerts.max_firings_per_tick = 2;
	assert_int_equal(tick_n(f, teams, 5), 3);
	assert_int_equal(count_state(f, ALERT_FIRING), 2);
	assert_int_equal(ev(f, 2)->state, ALERT_STORM);
	assert_string_equal(ev(f, 2)->dedup_key, "storm/HR");
	assert_int_equal(ev(f, 2)->n_held, 3);
	assert_string_equal(f->events[2].held[0], "low/team:C");
	assert_int_equal(tick_n(f, teams, 5), 3);
	assert_int_equal(tick_n(f, teams, 5), 1);
	assert_int_equal(count_state(f, ALERT_FIRING), 5);
	assert_int_equal(count_state(f, ALERT_STORM), 2);
	/* Each firing gets its resolve, and nothing else happens. */
	for (size_t i = 0; i < 5; i++)
		teams[i].value = 0.9;
	assert_int_equal(tick_n(f, teams, 5), 5);
	assert_int_equal(count_state(f, ALERT_RESOLVED), 5);
}

/* ---------------------------------------------------------------- state */

typedef struct saved {
	char keys[16][96];
	char states[16][2400];
	bool removed[16];
	size_t n;
} saved;

static void save_cb(const char *key, const char *st, void *opaque)
{
	saved *s = opaque;

	assert_true(s->n < 16);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->removed[s->n] = st == NULL;
	snprintf(s->states[s->n], sizeof(s->states[0]), "%s", st ? st : "");
	s->n++;
}

/* A new engine with the exported state neither fires again nor loses the alert. */
static void test_export_import_survives_restart(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));
	config_threshold r = base_rule();

	r.repeat_interval_ms = 30000;
	use_rule(f, r);
	tick(f, 0.3);
	alert_export_dirty(f->engine, save_cb, s);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->keys[0], "low/team:Payments");
	/* Nothing changed: nothing to write. */
	tick(f, 0.3);
	alert_export_dirty(f->engine, save_cb, s);
	assert_int_equal(s->n, 1);

	alert_free(f->engine);
	f->engine = alert_new(&f->cfg);
	assert_int_equal(alert_import(f->engine, s->keys[0], s->states[0]), 0);
	assert_int_equal(alert_firing_count(f->engine), 1);
	assert_int_equal(tick(f, 0.3), 0); /* 20 s after firing: no second firing */
	assert_int_equal(tick(f, 0.3), 1); /* 30 s: the repeat */
	assert_int_equal(ev(f, 1)->state, ALERT_REPEAT);
	assert_int_equal(tick(f, 0.9), 1);
	assert_int_equal(ev(f, 2)->state, ALERT_RESOLVED);
	assert_int_equal(ev(f, 2)->started_at_ms, ev(f, 0)->started_at_ms);
	assert_string_equal(ev(f, 2)->id, "low/team:Payments/1700000000000/resolved");
	test_free(s);
}

static void test_trend_ring_survives_restart(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));
	config_threshold r = base_rule();

	r.condition = ALERT_COND_TREND;
	r.value = -10;
	r.resolve_value = 0;
	r.periods = 2;
	r.period_ms = 10000;
	use_rule(f, r);
	tick(f, 0.50);
	tick(f, 0.48);
	alert_export_dirty(f->engine, save_cb, s);
	alert_free(f->engine);
	f->engine = alert_new(&f->cfg);
	assert_int_equal(alert_import(f->engine, s->keys[s->n - 1], s->states[s->n - 1]), 0);
	assert_int_equal(tick(f, 0.40), 1); /* -20 % against 0.50 */
	test_free(s);
}

static void test_import_rejects_bad_text_and_unknown_rules(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));

	assert_int_equal(alert_import(f->engine, "low/team:A", "a1 garbage"), -1);
	assert_int_equal(alert_import(f->engine, "low/team:A", "zz 2 1 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0"),
	                 -1);
	assert_int_equal(alert_import(f->engine, "gone/team:A", "a1 2 1 0 0 0 0 0 0 1 0 0 0 -1 0 0 0 0"),
	                 -1);
	assert_int_equal(alert_import(f->engine, "noslash", "a1"), -1);
	assert_int_equal(alert_firing_count(f->engine), 0);
	/* The unknown rule's state is deleted at the next export. */
	alert_export_dirty(f->engine, save_cb, s);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->keys[i], "gone/team:A") == 0)
			assert_true(s->removed[i]);
	test_free(s);
}

/* A firing alert whose rule is gone at load time gets its resolve from the stored text. */
static void test_import_resolves_removed_rule(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));
	config_threshold r = base_rule();

	r.runbook_url = "https://runbooks.invalid/low";
	use_rule(f, r);
	tick(f, 0.3);
	alert_export_dirty(f->engine, save_cb, s);
	r.id = "other";
	use_rule(f, r);
	assert_int_equal(alert_import(f->engine, s->keys[0], s->states[0]), -1);
	assert_int_equal(tick(f, 0.3), 2); /* the orphan's resolve, then "other" fires */
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
	assert_string_equal(ev(f, 1)->dedup_key, "low/team:Payments");
	assert_int_equal(ev(f, 1)->started_at_ms, ev(f, 0)->started_at_ms);
	assert_string_equal(ev(f, 1)->severity, "warning");
	assert_string_equal(ev(f, 1)->owner, "HR");
	assert_string_equal(ev(f, 1)->window, "7d");
	assert_string_equal(f->events[1].runbook, "https://runbooks.invalid/low");
	assert_string_equal(f->events[1].kpi_id, "recognition_rate");
	assert_int_equal(ev(f, 2)->state, ALERT_FIRING);
	assert_string_equal(ev(f, 2)->dedup_key, "other/team:Payments");
	/* The removed rule's state is deleted. */
	s->n = 0;
	alert_export_dirty(f->engine, save_cb, s);
	assert_string_equal(s->keys[0], "low/team:Payments");
	assert_true(s->removed[0]);
	test_free(s);
}

/* A rule whose bound changed while no instance ran resolves and starts over. */
static void test_import_restarts_changed_rule(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));
	config_threshold r = base_rule();

	tick(f, 0.3);
	alert_export_dirty(f->engine, save_cb, s);
	r.value = 0.4;
	r.resolve_value = 0.4;
	use_rule(f, r);
	assert_int_equal(alert_import(f->engine, s->keys[0], s->states[0]), 0);
	assert_int_equal(tick(f, 0.3), 2);
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
	assert_int_equal(ev(f, 1)->started_at_ms, ev(f, 0)->started_at_ms);
	assert_int_equal(ev(f, 2)->state, ALERT_FIRING);
	assert_true(ev(f, 2)->started_at_ms > ev(f, 0)->started_at_ms);
	/* The same rule again: the state is read as it was, no event. */
	s->n = 0;
	alert_export_dirty(f->engine, save_cb, s);
	use_rule(f, r);
	assert_int_equal(alert_import(f->engine, s->keys[0], s->states[0]), 0);
	assert_int_equal(tick(f, 0.3), 0);
	test_free(s);
}

/* A pending alert of a removed rule was never announced: nothing to resolve. */
static void test_import_drops_unannounced_removed(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));
	config_threshold r = base_rule();

	r.for_ticks = 3;
	use_rule(f, r);
	tick(f, 0.3);
	alert_export_dirty(f->engine, save_cb, s);
	r.id = "other";
	r.scope_kinds = 1u << SCOPE_ORG;
	use_rule(f, r);
	assert_int_equal(alert_import(f->engine, s->keys[0], s->states[0]), -1);
	assert_int_equal(tick(f, 0.3), 0);
	test_free(s);
}

static void test_reload_resolves_changed_rule(void **state)
{
	fixture *f = *state;
	saved *s = test_calloc(1, sizeof(*s));
	config next = f->cfg;
	config_kpi kpi = f->kpi;
	config_threshold rule = f->rule;

	tick(f, 0.3);
	alert_export_dirty(f->engine, save_cb, s);
	/* Same rule with a new owner: state kept. */
	rule.owner = "People team";
	kpi.thresholds = &rule;
	next.kpis = &kpi;
	assert_int_equal(alert_reconfigure(f->engine, &next, f->now, collect_cb, f), 0);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(alert_firing_count(f->engine), 1);
	/* A new bound: the firing alert is resolved and its state deleted. */
	config next2 = next;
	config_kpi kpi2 = kpi;
	config_threshold rule2 = rule;

	rule2.value = 0.2;
	rule2.resolve_value = 0.2;
	kpi2.thresholds = &rule2;
	next2.kpis = &kpi2;
	assert_int_equal(alert_reconfigure(f->engine, &next2, f->now, collect_cb, f), 0);
	assert_int_equal(f->n_events, 2);
	assert_int_equal(ev(f, 1)->state, ALERT_RESOLVED);
	assert_string_equal(ev(f, 1)->owner, "People team");
	assert_int_equal(alert_firing_count(f->engine), 0);
	s->n = 0;
	alert_export_dirty(f->engine, save_cb, s);
	assert_int_equal(s->n, 1);
	assert_true(s->removed[0]);
	f->cfg = next2; /* teardown frees only the engine */
	f->kpi = kpi2;
	f->rule = rule2;
	f->kpi.thresholds = &f->rule;
	f->cfg.kpis = &f->kpi;
	test_free(s);
}

static void test_clear_forgets_everything(void **state)
{
	fixture *f = *state;

	tick(f, 0.3);
	alert_clear(f->engine);
	assert_int_equal(alert_firing_count(f->engine), 0);
	assert_int_equal(tick(f, 0.3), 1);
	assert_int_equal(ev(f, 1)->state, ALERT_FIRING);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(alert_state_name(ALERT_FIRING), "firing");
	assert_string_equal(alert_state_name(ALERT_RESOLVED), "resolved");
	assert_string_equal(alert_state_name(ALERT_REPEAT), "repeat");
	assert_string_equal(alert_state_name(ALERT_ESCALATED), "escalated");
	assert_string_equal(alert_state_name(ALERT_STORM), "storm");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fires_after_for_ticks_and_for, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_run_restarts_when_clear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_carries_start_and_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hysteresis_stops_flapping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keep_firing_for_bridges_short_clears, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeat_and_second_tier, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeat_tolerates_tick_drift, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disparity_tie_names_two_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unobserved_scope_keeps_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_scope_kinds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deviation_from_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zscore_against_baseline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trend_decline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disparity_between_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_org_firing_inhibits_children, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inhibited_alert_that_clears_sends_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_storm_control_holds_back_and_catches_up, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_export_import_survives_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trend_ring_survives_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_rejects_bad_text_and_unknown_rules, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_import_resolves_removed_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_restarts_changed_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_drops_unannounced_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_resolves_changed_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clear_forgets_everything, setup, teardown),
	    cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
