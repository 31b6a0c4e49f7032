/*
 * test_alert.c - the per (rule, scope) escalation state machine.
 *
 * One KPI with two rules. "low" fires when the value stays below 0.5 for two
 * ticks (team and department scopes only). "high" fires as soon as the value
 * goes above 0.9 (every scope kind). Updates are built by hand, and each tick is
 * one call of alert_observe() per scope.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alert.h"

#define MAX_EVENTS 64
#define SCOPE_BIT(k) (1u << (k))

typedef struct seen_event {
	alert_event event;
	char dedup_key[64]; /* copied: the event's pointer is valid only in the callback */
} seen_event;

typedef struct fixture {
	config cfg;
	config_kpi kpi;
	config_threshold rules[2];
	config_window window;
	config_behaviour behaviour;
	size_t behaviour_index;
	alert_engine *engine;

	seen_event events[MAX_EVENTS];
	size_t n_events;
} fixture;

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->rules[0] = (config_threshold){
	    .id = "low",
	    .direction = THRESHOLD_BELOW,
	    .value = 0.5,
	    .for_ticks = 2,
	    .severity = "warning",
	    .scope_kinds = SCOPE_BIT(SCOPE_TEAM) | SCOPE_BIT(SCOPE_DEPARTMENT),
	};
	f->rules[1] = (config_threshold){
	    .id = "high",
	    .direction = THRESHOLD_ABOVE,
	    .value = 0.9,
	    .for_ticks = 1,
	    .severity = "info",
	    .scope_kinds = (1u << SCOPE_KIND_COUNT) - 1,
	};
	f->kpi.id = "recognition_rate";
	f->kpi.name = "Peer recognition rate";
	f->kpi.target = 0.5;
	f->kpi.thresholds = f->rules;
	f->kpi.n_thresholds = 2;
	f->window = (config_window){ .name = "7d", .length_ms = 7 * 86400000LL };
	f->behaviour = (config_behaviour){ .id = "recognition_given" };
	f->kpi.behaviours = &f->behaviour_index;
	f->kpi.n_behaviours = 1;
	f->cfg.kpis = &f->kpi;
	f->cfg.n_kpis = 1;
	f->cfg.windows.windows = &f->window;
	f->cfg.windows.n_windows = 1;
	f->cfg.behaviours = &f->behaviour;
	f->cfg.n_behaviours = 1;
	f->engine = alert_new(&f->cfg);
	assert_non_null(f->engine);
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
	s->event.dedup_key = s->dedup_key;
}

/* Observes value for scope at tick time now_ms and returns how many events it caused. */
static size_t observe(fixture *f, const char *scope, scope_kind kind, double value, int64_t now_ms)
{
	size_t before = f->n_events;
	kpi_update u = {
	    .kpi = &f->kpi,
	    .scope = scope,
	    .scope_kind = kind,
	    .window = "7d",
	    .value = value,
	    .computed_at_ms = now_ms,
	};

	alert_observe(f->engine, &u, now_ms, collect_cb, f);
	return f->n_events - before;
}

static const alert_event *last_event(const fixture *f)
{
	assert_true(f->n_events > 0);
	return &f->events[f->n_events - 1].event;
}

static void test_fires_after_for_ticks(void **state)
{
	fixture *f = *state;
	const alert_event *e;

	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.3, 1000), 0);
	assert_int_equal(alert_firing_count(f->engine), 0);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.31, 2000), 1);
	assert_int_equal(alert_firing_count(f->engine), 1);

	e = last_event(f);
	assert_int_equal(e->state, ALERT_FIRING);
	assert_ptr_equal(e->kpi, &f->kpi);
	assert_ptr_equal(e->rule, &f->rules[0]);
	assert_string_equal(e->scope, "team:Payments");
	assert_string_equal(e->window, "7d");
	assert_string_equal(e->dedup_key, "low/team:Payments");
	assert_true(e->observed == 0.31);
	assert_true(e->threshold == 0.5);
	assert_int_equal(e->started_at_ms, 2000);
	assert_int_equal(e->ended_at_ms, 0);
	assert_int_equal(e->at_ms, 2000);
}

static void test_recovery_resets_pending(void **state)
{
	fixture *f = *state;

	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.3, 1000), 0);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.6, 2000), 0);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.3, 3000), 0);
	assert_int_equal(alert_firing_count(f->engine), 0);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.3, 4000), 1);
	assert_int_equal(last_event(f)->started_at_ms, 4000);
}

static void test_threshold_value_not_breached(void **state)
{
	fixture *f = *state;

	/* Exactly at the threshold is within it, for both directions. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.5, i), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.9, 10 + i), 0);
}

static void test_no_repeat_while_firing(void **state)
{
	fixture *f = *state;

	observe(f, "team:Payments", SCOPE_TEAM, 0.1, 1000);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.1, 2000), 1);
	for (int i = 3; i < 20; i++)
		assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.05 * (i % 3), i * 1000),
				 0);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(alert_firing_count(f->engine), 1);
}

static void test_resolves_exactly_once(void **state)
{
	fixture *f = *state;
	const alert_event *e;

	observe(f, "team:Payments", SCOPE_TEAM, 0.1, 1000);
	observe(f, "team:Payments", SCOPE_TEAM, 0.1, 2000);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.7, 3000), 1);

	e = last_event(f);
	assert_int_equal(e->state, ALERT_RESOLVED);
	assert_string_equal(e->dedup_key, "low/team:Payments");
	assert_true(e->observed == 0.7);
	assert_int_equal(e->started_at_ms, 2000);
	assert_int_equal(e->ended_at_ms, 3000);
	assert_int_equal(e->at_ms, 3000);
	assert_int_equal(alert_firing_count(f->engine), 0);

	for (int i = 4; i < 10; i++)
		assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.7, i * 1000), 0);
}

static void test_fires_again_after_resolve(void **state)
{
	fixture *f = *state;

	observe(f, "team:Payments", SCOPE_TEAM, 0.1, 1000);
	observe(f, "team:Payments", SCOPE_TEAM, 0.1, 2000);
	observe(f, "team:Payments", SCOPE_TEAM, 0.7, 3000);

	/* A new breach needs for_ticks ticks again. */
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.1, 4000), 0);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.1, 5000), 1);
	assert_int_equal(last_event(f)->state, ALERT_FIRING);
	assert_int_equal(last_event(f)->started_at_ms, 5000);
	assert_string_equal(last_event(f)->dedup_key, "low/team:Payments");
	assert_int_equal(f->n_events, 3);
}

static void test_above_direction(void **state)
{
	fixture *f = *state;
	const alert_event *e;

	/* "high" has for_ticks 1 and applies to org. */
	assert_int_equal(observe(f, "org", SCOPE_ORG, 0.95, 1000), 1);
	e = last_event(f);
	assert_int_equal(e->state, ALERT_FIRING);
	assert_ptr_equal(e->rule, &f->rules[1]);
	assert_string_equal(e->dedup_key, "high/org");
	assert_true(e->threshold == 0.9);

	assert_int_equal(observe(f, "org", SCOPE_ORG, 0.99, 2000), 0);
	assert_int_equal(observe(f, "org", SCOPE_ORG, 0.2, 3000), 1);
	assert_int_equal(last_event(f)->state, ALERT_RESOLVED);
}

static void test_scope_kind_filter(void **state)
{
	fixture *f = *state;

	/* "low" applies to teams and departments only. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(observe(f, "org", SCOPE_ORG, 0.1, i), 0);
		assert_int_equal(observe(f, "segment:frontline", SCOPE_SEGMENT, 0.1, i), 0);
	}
	observe(f, "department:Finance", SCOPE_DEPARTMENT, 0.1, 10);
	assert_int_equal(observe(f, "department:Finance", SCOPE_DEPARTMENT, 0.1, 11), 1);
	assert_string_equal(last_event(f)->dedup_key, "low/department:Finance");
	assert_int_equal(alert_firing_count(f->engine), 1);
}

static void test_rules_independent(void **state)
{
	fixture *f = *state;

	/* One value can only breach one side, but both rules track the same scope. */
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.95, 1000), 1);
	assert_string_equal(last_event(f)->dedup_key, "high/team:Payments");
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.1, 2000), 1);
	assert_string_equal(last_event(f)->dedup_key, "high/team:Payments");
	assert_int_equal(last_event(f)->state, ALERT_RESOLVED);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.1, 3000), 1);
	assert_string_equal(last_event(f)->dedup_key, "low/team:Payments");
	assert_int_equal(last_event(f)->state, ALERT_FIRING);
}

static void test_many_scopes(void **state)
{
	fixture *f = *state;
	char scope[32];
	const int n = 1000;

	/* Enough scopes to grow the table several times. Every third one breaches. */
	for (int tick = 0; tick < 2; tick++) {
		for (int i = 0; i < n; i++) {
			snprintf(scope, sizeof(scope), "team:T%04d", i);
			observe(f, scope, SCOPE_TEAM, i % 3 == 0 ? 0.1 : 0.7, tick);
			/* Keep the event array small: only count. */
			f->n_events = 0;
		}
	}
	assert_int_equal(alert_firing_count(f->engine), (n + 2) / 3);

	/* Each scope keeps its own state: resolve one, the others stay firing. */
	assert_int_equal(observe(f, "team:T0003", SCOPE_TEAM, 0.8, 5), 1);
	assert_string_equal(last_event(f)->dedup_key, "low/team:T0003");
	assert_int_equal(last_event(f)->state, ALERT_RESOLVED);
	assert_int_equal(observe(f, "team:T0006", SCOPE_TEAM, 0.1, 5), 0);
	assert_int_equal(alert_firing_count(f->engine), (n + 2) / 3 - 1);
}

static void test_unobserved_scope_keeps_state(void **state)
{
	fixture *f = *state;

	observe(f, "team:Payments", SCOPE_TEAM, 0.1, 1000);
	/* team:Payments is suppressed for a few ticks while other scopes go on. */
	for (int i = 0; i < 3; i++)
		observe(f, "team:Other", SCOPE_TEAM, 0.7, 2000 + i);
	assert_int_equal(observe(f, "team:Payments", SCOPE_TEAM, 0.1, 3000), 1);
	assert_string_equal(last_event(f)->dedup_key, "low/team:Payments");
}

/* ------------------------------------------------------------------ reload */

/* A copy of the fixture's config with its own KPI and rules, to change. */
typedef struct reloaded {
	config cfg;
	config_kpi kpi;
	config_threshold rules[2];
} reloaded;

static void reload_copy(const fixture *f, reloaded *r)
{
	r->cfg = f->cfg;
	r->kpi = f->kpi;
	memcpy(r->rules, f->rules, sizeof(r->rules));
	r->kpi.thresholds = r->rules;
	r->cfg.kpis = &r->kpi;
}

static void test_reload_keeps_unchanged_rules(void **state)
{
	fixture *f = *state;
	reloaded r;

	assert_int_equal(observe(f, "team:A", SCOPE_TEAM, 0.95, 1000), 1);
	assert_int_equal(observe(f, "team:B", SCOPE_TEAM, 0.1, 1000), 0); /* low: pending */
	reload_copy(f, &r);
	r.kpi.owner = "HR"; /* metadata only */
	alert_reconfigure(f->engine, &r.cfg, 1500, collect_cb, f);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(alert_firing_count(f->engine), 1);
	/* Firing stays firing without a repeat; pending completes its second tick. */
	r.kpi.thresholds = r.rules;
	kpi_update u = { .kpi = &r.kpi, .scope = "team:A", .scope_kind = SCOPE_TEAM,
			 .window = "7d", .value = 0.95 };
	alert_observe(f->engine, &u, 2000, collect_cb, f);
	assert_int_equal(f->n_events, 1);
	u.scope = "team:B";
	u.value = 0.1;
	alert_observe(f->engine, &u, 2000, collect_cb, f);
	assert_int_equal(f->n_events, 2);
	assert_string_equal(last_event(f)->dedup_key, "low/team:B");
	assert_int_equal(last_event(f)->state, ALERT_FIRING);
}

static void test_reload_resolves_removed_rule(void **state)
{
	fixture *f = *state;
	reloaded r;

	assert_int_equal(observe(f, "team:A", SCOPE_TEAM, 0.95, 1000), 1);
	reload_copy(f, &r);
	r.kpi.n_thresholds = 1; /* "high" is gone */
	alert_reconfigure(f->engine, &r.cfg, 3000, collect_cb, f);
	assert_int_equal(f->n_events, 2);
	const alert_event *e = last_event(f);
	assert_int_equal(e->state, ALERT_RESOLVED);
	assert_string_equal(e->dedup_key, "high/team:A");
	assert_float_equal(e->observed, 0.95, 1e-12);
	assert_int_equal(e->started_at_ms, 1000);
	assert_int_equal(e->ended_at_ms, 3000);
	assert_int_equal(alert_firing_count(f->engine), 0);
}

static void test_reload_resolves_retired_kpi(void **state)
{
	fixture *f = *state;
	reloaded r;

	assert_int_equal(observe(f, "team:A", SCOPE_TEAM, 0.95, 1000), 1);
	assert_int_equal(observe(f, "org", SCOPE_ORG, 0.99, 1000), 1);
	reload_copy(f, &r);
	r.kpi.status = KPI_STATUS_RETIRED;
	alert_reconfigure(f->engine, &r.cfg, 3000, collect_cb, f);
	assert_int_equal(f->n_events, 4);
	assert_int_equal(f->events[2].event.state, ALERT_RESOLVED);
	assert_int_equal(f->events[3].event.state, ALERT_RESOLVED);
	assert_int_equal(alert_firing_count(f->engine), 0);
}

static void test_reload_restarts_changed_rule(void **state)
{
	fixture *f = *state;
	reloaded r;

	assert_int_equal(observe(f, "team:A", SCOPE_TEAM, 0.95, 1000), 1);
	reload_copy(f, &r);
	r.rules[1].value = 0.97; /* no longer breached at 0.95 */
	alert_reconfigure(f->engine, &r.cfg, 2000, collect_cb, f);
	assert_int_equal(f->n_events, 2);
	assert_int_equal(last_event(f)->state, ALERT_RESOLVED);
	kpi_update u = { .kpi = &r.kpi, .scope = "team:A", .scope_kind = SCOPE_TEAM,
			 .window = "7d", .value = 0.98 };
	alert_observe(f->engine, &u, 3000, collect_cb, f);
	assert_int_equal(f->n_events, 3);
	assert_int_equal(last_event(f)->state, ALERT_FIRING);
	assert_float_equal(last_event(f)->threshold, 0.97, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fires_after_for_ticks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recovery_resets_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threshold_value_not_breached, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_repeat_while_firing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolves_exactly_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fires_again_after_resolve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_above_direction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope_kind_filter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_independent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_scopes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unobserved_scope_keeps_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_unchanged_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_resolves_removed_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_resolves_retired_kpi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_restarts_changed_rule, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
