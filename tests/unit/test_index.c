/*
 * test_index.c - the composite index: scores, weighted means per scope and
 * quadrant, contributions, and the "scopes_index" of the scorecard JSON.
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

enum { K_SHARES, K_REACH, K_KUDOS, K_OLD, N_KPIS };

typedef struct fixture {
	config cfg;
	config_window window;
	config_kpi kpis[N_KPIS];
	scorecard *sc;
} fixture;

static void fixture_kpi(fixture *f, size_t i, const char *id, quadrant q, double weight,
			double target)
{
	f->kpis[i] = (config_kpi){.id = (char *)id, .name = (char *)id, .quadrant = q,
				  .weight = weight, .target = target};
}

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->window = (config_window){.name = "24h"};
	fixture_kpi(f, K_SHARES, "shares", QUADRANT_CUSTOMER, 0.5, 10);
	fixture_kpi(f, K_REACH, "reach", QUADRANT_CUSTOMER, 0.25, 100);
	fixture_kpi(f, K_KUDOS, "kudos", QUADRANT_LEARNING_GROWTH, 0.25, 4);
	fixture_kpi(f, K_OLD, "old", QUADRANT_FINANCIAL, 0.5, 1);
	f->kpis[K_OLD].status = KPI_STATUS_RETIRED;
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

/* Stores a figure of KPI k for scope id (suppressed when value is NaN). */
static void store(fixture *f, size_t k, uint32_t scope_id, const char *scope, scope_kind kind,
		  double value)
{
	kpi_update u = {.kpi = &f->kpis[k], .scope = scope, .scope_id = scope_id,
			.scope_kind = kind, .window = "24h", .computed_at_ms = 1000,
			.window_start_ms = 0, .window_end_ms = 1000, .suppressed = isnan(value),
			.target = f->kpis[k].target};

	if (!u.suppressed)
		u.value = value;
	assert_int_equal(scorecard_store(f->sc, &u), 0);
}

static const json_t *scope_index(const json_t *card, const char *scope)
{
	const json_t *list = json_object_get(card, "scopes_index"), *o;
	size_t i;

	json_array_foreach(list, i, o)
	{
		if (strcmp(json_string_value(json_object_get(o, "scope")), scope) == 0)
			return o;
	}
	fail_msg("scope %s not in scopes_index", scope);
	return NULL;
}

static double number(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* ---------------------------------------------------------------- scores */

static void score_capped_at_one(void **state)
{
	assert_true(fabs(index_score(5, 10) - 0.5) < 1e-12);
	assert_true(fabs(index_score(10, 10) - 1) < 1e-12);
	assert_true(fabs(index_score(25, 10) - 1) < 1e-12);
	assert_true(fabs(index_score(0, 10)) < 1e-12);
	assert_true(fabs(index_score(-3, 10)) < 1e-12);
}

static void score_nan_without_target_or_value(void **state)
{
	assert_true(isnan(index_score(5, 0)));
	assert_true(isnan(index_score(5, -1)));
	assert_true(isnan(index_score(NAN, 10)));
	assert_true(isnan(index_score(INFINITY, 10)));
}

static void index_is_weighted_mean(void **state)
{
	fixture *f = *state;
	index_sum sum;

	index_sum_init(&sum);
	assert_true(isnan(index_sum_total(&sum)));
	/* shares 5/10 = 0.5 (w 0.5), reach 100/100 = 1 (w 0.25), kudos 1/4 (w 0.25) */
	assert_true(fabs(index_sum_add(&sum, &f->kpis[K_SHARES], 5) - 0.25) < 1e-12);
	index_sum_add(&sum, &f->kpis[K_REACH], 150);
	index_sum_add(&sum, &f->kpis[K_KUDOS], 1);
	assert_true(isnan(index_sum_add(&sum, &f->kpis[K_OLD], 1)));
	assert_true(fabs(index_sum_total(&sum) - (0.25 + 0.25 + 0.0625)) < 1e-12);
	assert_true(fabs(index_sum_quadrant(&sum, QUADRANT_CUSTOMER) - 0.5 / 0.75) < 1e-12);
	assert_true(fabs(index_sum_quadrant(&sum, QUADRANT_LEARNING_GROWTH) - 0.25) < 1e-12);
	assert_true(isnan(index_sum_quadrant(&sum, QUADRANT_FINANCIAL)));
	assert_true(fabs(index_sum_weight(&sum) - 1) < 1e-12);
}

static void index_skips_kpis_without_figure(void **state)
{
	fixture *f = *state;
	index_sum sum;

	index_sum_init(&sum);
	index_sum_add(&sum, &f->kpis[K_SHARES], 10);
	index_sum_add(&sum, &f->kpis[K_KUDOS], 0);
	/* (0.5 * 1 + 0.25 * 0) / 0.75 */
	assert_true(fabs(index_sum_total(&sum) - 0.5 / 0.75) < 1e-12);
}

/* ---------------------------------------------------------------- scorecard */

static void scorecard_shows_index_and_parts(void **state)
{
	fixture *f = *state;
	const json_t *org, *quadrants, *contributions;
	json_t *card;
	double total = 0;

	store(f, K_SHARES, 0, "org", SCOPE_ORG, 5);
	store(f, K_REACH, 0, "org", SCOPE_ORG, 150);
	store(f, K_KUDOS, 0, "org", SCOPE_ORG, 1);
	card = scorecard_to_json(f->sc, NULL, NULL, 2000);
	assert_non_null(card);
	org = scope_index(card, "org");
	assert_string_equal(json_string_value(json_object_get(org, "scope_kind")), "org");
	assert_false(json_is_true(json_object_get(org, "suppressed")));
	assert_true(fabs(number(org, "index") - 0.5625) < 1e-12);
	quadrants = json_object_get(org, "quadrants");
	assert_true(fabs(number(quadrants, "customer") - 0.5 / 0.75) < 1e-12);
	assert_true(fabs(number(quadrants, "learning_growth") - 0.25) < 1e-12);
	assert_true(json_is_null(json_object_get(quadrants, "financial")));
	assert_true(json_is_null(json_object_get(quadrants, "internal_process")));
	contributions = json_object_get(org, "contributions");
	assert_int_equal(json_array_size(contributions), 3);
	for (size_t i = 0; i < 3; i++)
		total += number(json_array_get(contributions, i), "contribution");
	assert_true(fabs(total - 0.5625) < 1e-12);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(contributions, 0), "kpi")), "shares");
	json_decref(card);
}

static void suppressed_scope_index_is_null(void **state)
{
	fixture *f = *state;
	const json_t *tiny;
	json_t *card;

	store(f, K_SHARES, 0, "org", SCOPE_ORG, 5);
	store(f, K_SHARES, 3, "team:Tiny", SCOPE_TEAM, NAN);
	store(f, K_KUDOS, 3, "team:Tiny", SCOPE_TEAM, NAN);
	card = scorecard_to_json(f->sc, NULL, NULL, 2000);
	tiny = scope_index(card, "team:Tiny");
	assert_true(json_is_true(json_object_get(tiny, "suppressed")));
	assert_true(json_is_null(json_object_get(tiny, "index")));
	assert_true(json_is_null(json_object_get(json_object_get(tiny, "quadrants"), "customer")));
	assert_int_equal(json_array_size(json_object_get(tiny, "contributions")), 0);
	assert_int_equal(json_array_size(json_object_get(card, "scopes_index")), 2);
	json_decref(card);
}

static void scope_filter_keeps_full_index(void **state)
{
	fixture *f = *state;
	json_t *card;

	store(f, K_SHARES, 0, "org", SCOPE_ORG, 10);
	store(f, K_KUDOS, 0, "org", SCOPE_ORG, 0);
	store(f, K_SHARES, 1, "department:Eng", SCOPE_DEPARTMENT, 5);
	card = scorecard_to_json(f->sc, "kudos", "org", 2000);
	assert_int_equal(json_array_size(json_object_get(card, "scopes_index")), 1);
	assert_true(fabs(number(scope_index(card, "org"), "index") - 0.5 / 0.75) < 1e-12);
	json_decref(card);
}

static void collect_value(const char *kpi, const char *scope, double value, void *opaque)
{
	int *n = opaque;

	assert_string_not_equal(scope, "team:Tiny");
	(*n)++;
}

static void collect_index(const char *scope, double index, void *opaque)
{
	double *org = opaque;

	assert_string_equal(scope, "org");
	*org = index;
}

static void walks_skip_suppressed_scopes(void **state)
{
	fixture *f = *state;
	double org = -1;
	int values = 0;

	store(f, K_SHARES, 0, "org", SCOPE_ORG, 5);
	store(f, K_KUDOS, 0, "org", SCOPE_ORG, 4);
	store(f, K_SHARES, 2, "team:Tiny", SCOPE_TEAM, NAN);
	scorecard_each_value(f->sc, collect_value, &values);
	scorecard_each_index(f->sc, collect_index, &org);
	assert_int_equal(values, 2);
	assert_true(fabs(org - (0.25 + 0.25) / 0.75) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(score_capped_at_one),
	    cmocka_unit_test(score_nan_without_target_or_value),
	    cmocka_unit_test_setup_teardown(index_is_weighted_mean, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(index_skips_kpis_without_figure, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(scorecard_shows_index_and_parts,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(suppressed_scope_index_is_null, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(scope_filter_keeps_full_index,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(walks_skip_suppressed_scopes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
