/*
 * test_kpi_index.c - the index against benchmark ranges and effective
 * targets, its quadrant sub-indexes and contributions in the scorecard.
 *
 * Crafted KPIs (weights sum to 1) and the figures of team:Payments:
 *   kudos    customer          weight 0.4  target 0.5               value 0.25
 *            score 0.25 / 0.5 = 0.5, weighted 0.2
 *   reach    customer          weight 0.2  target 10, benchmark 20..60, value 50
 *            the range wins: (50 - 20) / (60 - 20) = 0.75, weighted 0.15
 *            (the target alone would score 1)
 *   enps     learning_growth   weight 0.3  benchmark -20..30          value -10
 *            (-10 + 20) / (30 + 20) = 0.2, weighted 0.06
 *   training internal_process  weight 0.1  base target 4, effective 8, value 6
 *            6 / 8 = 0.75, weighted 0.075 (the base target would score 1)
 * Index 0.2 + 0.15 + 0.06 + 0.075 = 0.485. Sub-indexes: customer
 * (0.2 + 0.15) / 0.6 = 0.58333..., learning_growth 0.2, internal_process
 * 0.75, financial null (no KPI). With kudos suppressed, the other weights
 * are renormalized: (0.15 + 0.06 + 0.075) / 0.6 = 0.475, customer 0.75.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "index.h"
#include "scorecard.h"

enum { K_KUDOS, K_REACH, K_ENPS, K_TRAINING, N_KPIS };

#define EPS 1e-12

typedef struct fixture {
	config cfg;
	config_window window;
	config_kpi kpis[N_KPIS];
	scorecard *sc;
} fixture;

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->window = (config_window){.name = "7d"};
	f->kpis[K_KUDOS] = (config_kpi){.id = "kudos", .quadrant = QUADRANT_CUSTOMER,
					.weight = 0.4, .target = 0.5};
	f->kpis[K_REACH] = (config_kpi){.id = "reach", .quadrant = QUADRANT_CUSTOMER,
					.weight = 0.2, .target = 10,
					.benchmark = {.given = true, .low = 20, .high = 60}};
	f->kpis[K_ENPS] = (config_kpi){.id = "enps", .quadrant = QUADRANT_LEARNING_GROWTH,
				       .weight = 0.3, .target = 0,
				       .benchmark = {.given = true, .low = -20, .high = 30}};
	f->kpis[K_TRAINING] = (config_kpi){.id = "training", .quadrant = QUADRANT_INTERNAL_PROCESS,
					   .weight = 0.1, .target = 4};
	f->cfg = (config){.kpis = f->kpis, .n_kpis = N_KPIS};
	f->cfg.windows.windows = &f->window;
	f->cfg.windows.n_windows = 1;
	f->sc = scorecard_new(&f->cfg);
	assert_non_null(f->sc);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	scorecard_free(f->sc);
	test_free(f);
	return 0;
}

/* Stores the figure of KPI k for team:Payments (suppressed when value is NaN). */
static void store(fixture *f, size_t k, double value, double target)
{
	kpi_update u = {.kpi = &f->kpis[k], .scope = "team:Payments", .scope_id = 3,
			.scope_kind = SCOPE_TEAM, .window = "7d", .suppressed = isnan(value),
			.suppressed_reason = isnan(value) ? SUPPRESS_SMALL_GROUP : SUPPRESS_NONE};

	if (!u.suppressed) {
		u.value = value;
		u.target = target;
		u.target_source = target == f->kpis[k].target ? TARGET_SOURCE_BASE
							      : TARGET_SOURCE_SEGMENT;
	}
	assert_int_equal(scorecard_store(f->sc, &u), 0);
}

static void store_all(fixture *f, double kudos)
{
	store(f, K_KUDOS, kudos, 0.5);
	store(f, K_REACH, 50, 10);
	store(f, K_ENPS, -10, 0);
	store(f, K_TRAINING, 6, 8);
}

static double number(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		fail_msg("%s is not a number", key);
	return json_number_value(v);
}

/* The contribution of kpi in a scopes_index entry; NaN when not listed. */
static double contribution(const json_t *index, const char *kpi)
{
	const json_t *list = json_object_get(index, "contributions"), *c;
	size_t i;

	json_array_foreach(list, i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "kpi")), kpi) == 0)
			return number(c, "contribution");
	}
	return NAN;
}

static void benchmark_score_clamped(void **state)
{
	fixture *f = *state;
	const config_kpi *reach = &f->kpis[K_REACH];

	assert_true(fabs(index_kpi_score(reach, 50, 10) - 0.75) < EPS);
	assert_true(index_kpi_score(reach, 20, 10) == 0);
	assert_true(index_kpi_score(reach, 10, 10) == 0);
	assert_true(index_kpi_score(reach, 60, 10) == 1);
	assert_true(index_kpi_score(reach, 70, 10) == 1);
	assert_true(isnan(index_kpi_score(reach, NAN, 10)));
	/* A negative range works like any other: eNPS -10 in -20..30. */
	assert_true(fabs(index_kpi_score(&f->kpis[K_ENPS], -10, 0) - 0.2) < EPS);
	/* Without a range the effective target decides: 6 of 8. */
	assert_true(fabs(index_kpi_score(&f->kpis[K_TRAINING], 6, 8) - 0.75) < EPS);
	assert_true(index_kpi_score(&f->kpis[K_TRAINING], 6, 4) == 1);
}

static void index_quadrants_and_parts(void **state)
{
	fixture *f = *state;
	json_t *root, *index, *quadrants;

	store_all(f, 0.25);
	root = scorecard_to_json(f->sc, NULL, NULL, 0);
	assert_non_null(root);
	index = json_array_get(json_object_get(root, "scopes_index"), 0);
	assert_non_null(index);
	assert_string_equal(json_string_value(json_object_get(index, "scope")), "team:Payments");

	assert_true(fabs(number(index, "index") - 0.485) < EPS);
	quadrants = json_object_get(index, "quadrants");
	assert_true(fabs(number(quadrants, "customer") - 0.35 / 0.6) < EPS);
	assert_true(fabs(number(quadrants, "learning_growth") - 0.2) < EPS);
	assert_true(fabs(number(quadrants, "internal_process") - 0.75) < EPS);
	assert_true(json_is_null(json_object_get(quadrants, "financial")));

	assert_true(fabs(contribution(index, "kudos") - 0.2) < EPS);
	assert_true(fabs(contribution(index, "reach") - 0.15) < EPS);
	assert_true(fabs(contribution(index, "enps") - 0.06) < EPS);
	assert_true(fabs(contribution(index, "training") - 0.075) < EPS);
	json_decref(root);
}

static void scope_shows_effective_target(void **state)
{
	fixture *f = *state;
	json_t *root, *kpi, *scope;

	store_all(f, 0.25);
	root = scorecard_to_json(f->sc, "training", NULL, 0);
	kpi = json_array_get(json_object_get(root, "kpis"), 0);
	/* The KPI lists its base target, each scope its effective one. */
	assert_true(number(kpi, "target") == 4);
	scope = json_array_get(json_object_get(kpi, "scopes"), 0);
	assert_true(number(scope, "target") == 8);
	assert_string_equal(json_string_value(json_object_get(scope, "target_source")), "segment");
	assert_true(json_is_null(json_object_get(kpi, "benchmark")));
	json_decref(root);

	root = scorecard_to_json(f->sc, "reach", NULL, 0);
	kpi = json_array_get(json_object_get(root, "kpis"), 0);
	assert_true(number(json_object_get(kpi, "benchmark"), "low") == 20);
	assert_true(number(json_object_get(kpi, "benchmark"), "high") == 60);
	json_decref(root);
}

static void suppressed_kpi_renormalizes(void **state)
{
	fixture *f = *state;
	json_t *root, *index;

	store_all(f, NAN);
	root = scorecard_to_json(f->sc, NULL, NULL, 0);
	index = json_array_get(json_object_get(root, "scopes_index"), 0);
	assert_true(fabs(number(index, "index") - 0.285 / 0.6) < EPS);
	assert_true(fabs(number(json_object_get(index, "quadrants"), "customer") - 0.75) < EPS);
	assert_true(isnan(contribution(index, "kudos")));
	assert_true(fabs(contribution(index, "reach") - 0.15 / 0.6) < EPS);
	assert_false(json_boolean_value(json_object_get(index, "suppressed")));
	json_decref(root);
}

/*
 * A better-lower KPI (a capped share, say) scores 1 at or below its target
 * and target / value above it: 0.05 / 0.2 = 0.25. Against the reach range
 * 20..60, a better-lower value of 50 scores 1 - 0.75 = 0.25.
 */
static void lower_is_better_scores(void **state)
{
	fixture *f = *state;

	assert_true(fabs(index_score_lower(0.02, 0.05) - 1) < EPS);
	assert_true(fabs(index_score_lower(0.05, 0.05) - 1) < EPS);
	assert_true(fabs(index_score_lower(0.2, 0.05) - 0.25) < EPS);
	assert_true(isnan(index_score_lower(0.2, 0)));
	f->kpis[K_KUDOS].lower_is_better = true;
	assert_true(fabs(index_kpi_score(&f->kpis[K_KUDOS], 0.2, 0.05) - 0.25) < EPS);
	f->kpis[K_REACH].lower_is_better = true;
	assert_true(fabs(index_kpi_score(&f->kpis[K_REACH], 50, 10) - 0.25) < EPS);
	assert_true(fabs(index_kpi_score(&f->kpis[K_REACH], 10, 10) - 1) < EPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(benchmark_score_clamped, setup, teardown),
	    cmocka_unit_test_setup_teardown(index_quadrants_and_parts, setup, teardown),
	    cmocka_unit_test_setup_teardown(scope_shows_effective_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(suppressed_kpi_renormalizes, setup, teardown),
	    cmocka_unit_test_setup_teardown(lower_is_better_scores, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
