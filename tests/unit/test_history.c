/*
 * test_history.c - the ring of recent values per (KPI, scope) behind
 * GET /api/history: kinds kept, thinning to one point a minute, the ring
 * bound, suppressed points and the series limit.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "history.h"

#define T0 1699999980000LL /* a whole minute */

static config_kpi shares = {.id = "shares"}, reach = {.id = "reach"};

static kpi_update update(const config_kpi *k, uint32_t id, const char *scope, scope_kind kind,
			 int64_t at_ms, double value)
{
	return (kpi_update){.kpi = k, .scope = scope, .scope_id = id, .scope_kind = kind,
			    .computed_at_ms = at_ms, .value = value};
}

static int setup(void **state)
{
	*state = history_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	history_free(*state);
	return 0;
}

/* The points of (kpi, scope) as JSON text. */
static char *points_text(history *h, const char *kpi, const char *scope)
{
	json_t *o = history_to_json(h, kpi, scope);
	char *text;

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "kpi")), kpi);
	assert_string_equal(json_string_value(json_object_get(o, "scope")), scope);
	text = json_dumps(json_object_get(o, "points"), JSON_COMPACT | JSON_REAL_PRECISION(6));
	json_decref(o);
	return text;
}

static void expect_points(history *h, const char *kpi, const char *scope, const char *want)
{
	char *text = points_text(h, kpi, scope);

	assert_string_equal(text, want);
	free(text);
}

static void keeps_org_department_segment_only(void **state)
{
	history *h = *state;
	kpi_update org = update(&shares, 0, "org", SCOPE_ORG, T0, 1);
	kpi_update dept = update(&shares, 1, "department:Eng", SCOPE_DEPARTMENT, T0, 2);
	kpi_update seg = update(&shares, 2, "segment:frontline", SCOPE_SEGMENT, T0, 3);
	kpi_update team = update(&shares, 3, "team:A", SCOPE_TEAM, T0, 4);
	kpi_update mode = update(&shares, 4, "work_mode:remote", SCOPE_WORK_MODE, T0, 5);

	assert_int_equal(history_record(h, &org), 1);
	assert_int_equal(history_record(h, &dept), 1);
	assert_int_equal(history_record(h, &seg), 1);
	assert_int_equal(history_record(h, &team), 0);
	assert_int_equal(history_record(h, &mode), 0);
	assert_int_equal(history_series_count(h), 3);
	expect_points(h, "shares", "department:Eng", "[[1699999980000,2.0]]");
	expect_points(h, "shares", "team:A", "[]");
	expect_points(h, "reach", "org", "[]");
}

static void keeps_latest_point_per_minute(void **state)
{
	history *h = *state;
	const int64_t at[] = {T0, T0 + 1000, T0 + 59999, T0 + 60000, T0 + 125000};

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		kpi_update u = update(&shares, 0, "org", SCOPE_ORG, at[i], (double)i);
		assert_int_equal(history_record(h, &u), 1);
	}
	expect_points(h, "shares", "org",
		      "[[1700000039999,2.0],[1700000040000,3.0],[1700000105000,4.0]]");
}

static void suppressed_point_is_null(void **state)
{
	history *h = *state;
	kpi_update a = update(&shares, 1, "department:Eng", SCOPE_DEPARTMENT, T0, 7);
	kpi_update b = update(&shares, 1, "department:Eng", SCOPE_DEPARTMENT, T0 + 60000, 0);

	b.suppressed = true;
	history_record(h, &a);
	history_record(h, &b);
	expect_points(h, "shares", "department:Eng", "[[1699999980000,7.0],[1700000040000,null]]");
}

static void ring_keeps_newest_points(void **state)
{
	history *h = *state;
	json_t *o, *points;
	int n = HISTORY_POINTS + 40;

	for (int i = 0; i < n; i++) {
		kpi_update u = update(&reach, 0, "org", SCOPE_ORG, T0 + (int64_t)i * 60000, i);
		history_record(h, &u);
	}
	o = history_to_json(h, "reach", "org");
	points = json_object_get(o, "points");
	assert_int_equal(json_array_size(points), HISTORY_POINTS);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(points, 0), 0)),
			 T0 + (int64_t)(n - HISTORY_POINTS) * 60000);
	assert_true(fabs(json_real_value(json_array_get(json_array_get(points, HISTORY_POINTS - 1),
							1)) -
			 (n - 1)) < 1e-9);
	json_decref(o);

	/* After a pause longer than the span only the new point is recent enough. */
	kpi_update late = update(&reach, 0, "org", SCOPE_ORG, T0 + (int64_t)(n + 600) * 60000, 1);
	history_record(h, &late);
	o = history_to_json(h, "reach", "org");
	assert_int_equal(json_array_size(json_object_get(o, "points")), 1);
	json_decref(o);
}

static void series_keyed_by_kpi_id(void **state)
{
	history *h = *state;
	config_kpi shares_again = {.id = "shares"};
	kpi_update a = update(&shares, 0, "org", SCOPE_ORG, T0, 1);
	kpi_update b = update(&shares_again, 0, "org", SCOPE_ORG, T0 + 60000, 2);
	kpi_update c = update(&reach, 0, "org", SCOPE_ORG, T0, 3);

	history_record(h, &a);
	history_record(h, &b);
	history_record(h, &c);
	assert_int_equal(history_series_count(h), 2);
	expect_points(h, "shares", "org", "[[1699999980000,1.0],[1700000040000,2.0]]");
	expect_points(h, "reach", "org", "[[1699999980000,3.0]]");
}

static void series_over_limit_not_kept(void **state)
{
	history *h = *state;
	char name[32];

	for (uint32_t i = 0; i < HISTORY_MAX_SERIES; i++) {
		snprintf(name, sizeof(name), "department:%u", i);
		kpi_update u = update(&shares, i, name, SCOPE_DEPARTMENT, T0, i);
		assert_int_equal(history_record(h, &u), 1);
	}
	kpi_update over = update(&shares, HISTORY_MAX_SERIES, "department:over", SCOPE_DEPARTMENT,
				 T0, 1);
	assert_int_equal(history_record(h, &over), -1);
	assert_int_equal(history_series_count(h), HISTORY_MAX_SERIES);
	/* Existing series still take points. */
	kpi_update again = update(&shares, 17, "department:17", SCOPE_DEPARTMENT, T0 + 60000, 5);
	assert_int_equal(history_record(h, &again), 1);
	expect_points(h, "shares", "department:17", "[[1699999980000,17.0],[1700000040000,5.0]]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(keeps_org_department_segment_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(keeps_latest_point_per_minute, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(suppressed_point_is_null, setup, teardown),
	    cmocka_unit_test_setup_teardown(ring_keeps_newest_points, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(series_keyed_by_kpi_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(series_over_limit_not_kept, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
