/*
 * test_scorecard.c - the latest figure per (KPI, scope) and its JSON for /api/kpis.
 *
 * Updates come from a real kpi_tick over a real roster, with the suppressed
 * callback wired as the daemon wires it: team:Big has 5 people, team:Tiny
 * and team:Small 3 each, so with a minimum group size of 5 both small teams
 * are suppressed. With two of them, sibling suppression leaves team:Big.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpi.h"
#include "scorecard.h"

#define MIN_GROUP 5

enum { B_KUDOS, N_BEHAVIOURS };
enum { W_7D, N_WINDOWS };
enum { K_RATE, K_COUNT, N_KPIS };

typedef struct fixture {
	config cfg;
	config_behaviour behaviours[N_BEHAVIOURS];
	config_window windows[N_WINDOWS];
	config_kpi kpis[N_KPIS];
	size_t kudos[1];
	roster *roster;
	uint32_t big, tiny;
	kpi_tick *tick;
	scorecard *sc;
} fixture;

static void fixture_person(fixture *f, int n, const char *team)
{
	const char *values[SCOPE_KIND_COUNT] = {0};
	pseudonym p = {{0}};

	values[SCOPE_TEAM] = team;
	p.bytes[0] = (uint8_t)n;
	assert_int_equal(roster_upsert(f->roster, &p, values, NULL, 0), 0);
}

static void fixture_kpi(fixture *f, size_t i, const char *id, kpi_aggregation agg)
{
	f->kpis[i] = (config_kpi){
	    .id = (char *)id, .name = (char *)id, .behaviours = f->kudos, .n_behaviours = 1,
	    .aggregation = agg, .window = W_7D, .quadrant = QUADRANT_LEARNING_GROWTH,
	    .indicator = INDICATOR_LEADING, .weight = 0.5, .target = 2.0,
	};
}

static void store_cb(const kpi_update *u, void *opaque)
{
	fixture *f = opaque;

	assert_int_equal(scorecard_store(f->sc, u), 0);
}

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->behaviours[B_KUDOS].id = "kudos";
	f->windows[W_7D] = (config_window){.name = "7d", .length_ms = 7 * 86400000LL};
	f->kudos[0] = B_KUDOS;
	fixture_kpi(f, K_RATE, "kudos_rate", KPI_AGG_RATE);
	fixture_kpi(f, K_COUNT, "kudos_count", KPI_AGG_COUNT);
	f->cfg = (config){.behaviours = f->behaviours, .n_behaviours = N_BEHAVIOURS,
			  .kpis = f->kpis, .n_kpis = N_KPIS};
	f->cfg.windows.windows = f->windows;
	f->cfg.windows.n_windows = N_WINDOWS;
	f->cfg.privacy.min_group_size = MIN_GROUP;

	f->roster = roster_new();
	for (int i = 0; i < 5; i++)
		fixture_person(f, i, "Big");
	for (int i = 5; i < 8; i++)
		fixture_person(f, i, "Tiny");
	for (int i = 8; i < 11; i++)
		fixture_person(f, i, "Small");
	f->big = roster_scope_find(f->roster, "team:Big");
	f->tiny = roster_scope_find(f->roster, "team:Tiny");
	f->tick = kpi_tick_new(&f->cfg);
	f->sc = scorecard_new(&f->cfg);
	assert_non_null(f->tick);
	assert_non_null(f->sc);
	kpi_tick_set_suppressed_cb(f->tick, store_cb, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	scorecard_free(f->sc);
	kpi_tick_free(f->tick);
	roster_free(f->roster);
	test_free(f);
	return 0;
}

/* Runs one tick at now_ms with count kudos in team:Big and in team:Tiny. */
static void run_tick(fixture *f, int64_t now_ms, int64_t count, int min_group_size)
{
	assert_int_equal(kpi_tick_begin(f->tick, roster_scope_count(f->roster), now_ms), 0);
	kpi_tick_add_count(f->tick, W_7D, B_KUDOS, f->big, count);
	kpi_tick_add_count(f->tick, W_7D, B_KUDOS, f->tiny, count);
	kpi_tick_add_count(f->tick, W_7D, B_KUDOS, ROSTER_ORG_SCOPE, 2 * count);
	kpi_tick_emit(f->tick, f->roster, min_group_size, (int64_t[]){now_ms - 100},
		      (int64_t[]){now_ms + 100}, store_cb, f);
}

/* Returns the scope object of kpi/scope in the JSON of the whole scorecard, or NULL. */
static json_t *find_scope(json_t *root, const char *kpi, const char *scope)
{
	json_t *kpis = json_object_get(root, "kpis"), *k, *s;
	size_t i, j;

	json_array_foreach(kpis, i, k)
	{
		if (strcmp(json_string_value(json_object_get(k, "id")), kpi) != 0)
			continue;
		json_array_foreach(json_object_get(k, "scopes"), j, s)
		{
			if (strcmp(json_string_value(json_object_get(s, "scope")), scope) == 0)
				return s;
		}
	}
	return NULL;
}

static void test_json_values_and_suppressed(void **state)
{
	fixture *f = *state;
	json_t *root, *big, *tiny, *kpi;

	run_tick(f, 1000, 10, MIN_GROUP);
	root = scorecard_to_json(f->sc, NULL, NULL, 1234);
	assert_non_null(root);
	assert_int_equal(json_integer_value(json_object_get(root, "generated_at")), 1234);
	assert_int_equal(json_integer_value(json_object_get(root, "min_group_size")), MIN_GROUP);

	big = find_scope(root, "kudos_count", "team:Big");
	assert_non_null(big);
	assert_false(json_boolean_value(json_object_get(big, "suppressed")));
	assert_int_equal(json_integer_value(json_object_get(big, "count")), 10);
	assert_int_equal(json_integer_value(json_object_get(big, "headcount")), 5);
	assert_true(json_real_value(json_object_get(big, "value")) == 10.0);
	assert_int_equal(json_integer_value(json_object_get(big, "window_start")), 900);
	assert_int_equal(json_integer_value(json_object_get(big, "window_end")), 1100);
	assert_int_equal(json_integer_value(json_object_get(big, "computed_at")), 1000);
	assert_string_equal(json_string_value(json_object_get(big, "scope_kind")), "team");
	/* No dynamic targets: the scope's target is the base target. */
	assert_true(json_real_value(json_object_get(big, "target")) == 2.0);
	assert_string_equal(json_string_value(json_object_get(big, "target_source")), "base");

	/* The small team is present, marked, and has no figure at all. */
	tiny = find_scope(root, "kudos_count", "team:Tiny");
	assert_non_null(tiny);
	assert_true(json_boolean_value(json_object_get(tiny, "suppressed")));
	assert_null(json_object_get(tiny, "value"));
	assert_null(json_object_get(tiny, "count"));
	assert_null(json_object_get(tiny, "contributors"));
	assert_null(json_object_get(tiny, "headcount"));
	assert_null(json_object_get(tiny, "rate"));
	assert_null(json_object_get(tiny, "target"));
	assert_string_equal(json_string_value(json_object_get(tiny, "suppressed_reason")),
			    "small_group");
	assert_int_equal(json_integer_value(json_object_get(tiny, "computed_at")), 1000);

	kpi = json_array_get(json_object_get(root, "kpis"), K_RATE);
	assert_string_equal(json_string_value(json_object_get(kpi, "id")), "kudos_rate");
	assert_string_equal(json_string_value(json_object_get(kpi, "aggregation")), "rate");
	assert_string_equal(json_string_value(json_object_get(kpi, "window")), "7d");
	assert_string_equal(json_string_value(json_object_get(kpi, "quadrant")),
			    "learning_growth");
	assert_string_equal(json_string_value(json_object_get(kpi, "indicator")), "leading");
	assert_true(json_real_value(json_object_get(kpi, "weight")) == 0.5);
	assert_true(json_real_value(json_object_get(kpi, "target")) == 2.0);
	assert_string_equal(json_string_value(json_object_get(kpi, "status")), "active");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(kpi, "behaviours"), 0)), "kudos");
	json_decref(root);
}

static void test_later_update_replaces(void **state)
{
	fixture *f = *state;
	size_t size;
	json_t *root, *big;

	run_tick(f, 1000, 10, MIN_GROUP);
	size = scorecard_size(f->sc);
	/* org, team:Big, team:Tiny, team:Small for each KPI */
	assert_int_equal(size, 4 * N_KPIS);
	run_tick(f, 2000, 4, MIN_GROUP);
	assert_int_equal(scorecard_size(f->sc), size);

	root = scorecard_to_json(f->sc, "kudos_count", "team:Big", 0);
	big = find_scope(root, "kudos_count", "team:Big");
	assert_int_equal(json_integer_value(json_object_get(big, "count")), 4);
	assert_int_equal(json_integer_value(json_object_get(big, "computed_at")), 2000);
	json_decref(root);
}

static void test_suppression_drops_old_value(void **state)
{
	fixture *f = *state;
	json_t *root, *tiny;

	/* With a minimum of 1 every team has figures, then the minimum rises. */
	run_tick(f, 1000, 7, 1);
	root = scorecard_to_json(f->sc, NULL, NULL, 0);
	tiny = find_scope(root, "kudos_count", "team:Tiny");
	assert_int_equal(json_integer_value(json_object_get(tiny, "count")), 7);
	json_decref(root);

	run_tick(f, 2000, 7, MIN_GROUP);
	root = scorecard_to_json(f->sc, NULL, NULL, 0);
	tiny = find_scope(root, "kudos_count", "team:Tiny");
	assert_true(json_boolean_value(json_object_get(tiny, "suppressed")));
	assert_null(json_object_get(tiny, "count"));
	assert_null(json_object_get(tiny, "value"));
	json_decref(root);
}

static void test_filters(void **state)
{
	fixture *f = *state;
	json_t *root, *kpis, *scopes;

	run_tick(f, 1000, 1, MIN_GROUP);
	root = scorecard_to_json(f->sc, "kudos_rate", "team:Tiny", 0);
	kpis = json_object_get(root, "kpis");
	assert_int_equal(json_array_size(kpis), 1);
	scopes = json_object_get(json_array_get(kpis, 0), "scopes");
	assert_int_equal(json_array_size(scopes), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(scopes, 0), "scope")),
			    "team:Tiny");
	json_decref(root);

	/* An unknown scope keeps the KPIs with no scopes; the caller checks KPI ids. */
	root = scorecard_to_json(f->sc, NULL, "team:Nobody", 0);
	kpis = json_object_get(root, "kpis");
	assert_int_equal(json_array_size(kpis), N_KPIS);
	assert_int_equal(json_array_size(json_object_get(json_array_get(kpis, 0), "scopes")), 0);
	json_decref(root);

	assert_true(scorecard_has_kpi(f->sc, "kudos_rate"));
	assert_false(scorecard_has_kpi(f->sc, "kudos"));
}

static void test_empty_before_first_tick(void **state)
{
	fixture *f = *state;
	json_t *root = scorecard_to_json(f->sc, NULL, NULL, 0);
	json_t *kpis = json_object_get(root, "kpis");

	assert_int_equal(scorecard_size(f->sc), 0);
	assert_int_equal(json_array_size(kpis), N_KPIS);
	assert_int_equal(json_array_size(json_object_get(json_array_get(kpis, 1), "scopes")), 0);
	json_decref(root);
}

/* A retired KPI stays listed, marked so that a reader does not wait for it. */
static void test_retired_kpi_marked(void **state)
{
	fixture *f = *state;
	json_t *root, *kpi;

	f->kpis[K_RATE].status = KPI_STATUS_RETIRED;
	root = scorecard_to_json(f->sc, "kudos_rate", NULL, 0);
	kpi = json_array_get(json_object_get(root, "kpis"), 0);
	assert_string_equal(json_string_value(json_object_get(kpi, "id")), "kudos_rate");
	assert_string_equal(json_string_value(json_object_get(kpi, "status")), "retired");
	json_decref(root);
}

static void test_store_rejects_foreign_kpi(void **state)
{
	fixture *f = *state;
	config_kpi other = f->kpis[0];
	kpi_update u = {.kpi = &other, .scope = "org", .scope_id = 0};

	assert_int_equal(scorecard_store(f->sc, &u), -1);
	assert_int_equal(scorecard_size(f->sc), 0);
}

static void test_store_grows_for_new_scopes(void **state)
{
	fixture *f = *state;
	kpi_update u = {.kpi = &f->kpis[K_COUNT], .scope = "team:Far", .scope_id = 1000,
			.count = 3, .computed_at_ms = 9};
	json_t *root, *far;

	assert_int_equal(scorecard_store(f->sc, &u), 0);
	u.scope = "org";
	u.scope_id = 0;
	assert_int_equal(scorecard_store(f->sc, &u), 0);
	assert_int_equal(scorecard_size(f->sc), 2);

	root = scorecard_to_json(f->sc, NULL, NULL, 0);
	far = find_scope(root, "kudos_count", "team:Far");
	assert_non_null(far);
	assert_int_equal(json_integer_value(json_object_get(far, "count")), 3);
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_json_values_and_suppressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_later_update_replaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_suppression_drops_old_value, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_before_first_tick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retired_kpi_marked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_rejects_foreign_kpi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_grows_for_new_scopes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
