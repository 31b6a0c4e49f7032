/*
 * test_metrics.c - the metrics registry: families, series lookup, label
 * escaping, histogram buckets, hidden series, the collect callback, the
 * process families and rejected names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static const char *render(metrics *m)
{
	size_t len = 0;
	const char *text = metrics_render(m, &len);

	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

static void counter_renders_help_type_and_labels(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_counter_new(m, "advocacyd_test_total", "Things counted.",
	                                        "topic", "partition", NULL);

	metrics_add(metrics_series_get(f, "events", "3"), 2);
	metrics_add(metrics_series_get(f, "events", "3"), 5);
	const char *text = render(m);

	assert_non_null(strstr(text, "# HELP advocacyd_test_total Things counted.\n"
	                             "# TYPE advocacyd_test_total counter\n"
	                             "advocacyd_test_total{topic=\"events\",partition=\"3\"} 7\n"));
	metrics_free(m);
}

static void series_get_returns_same_pointer(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_gauge_new(m, "advocacyd_test_lag", "Lag.", "topic", NULL);
	metrics_series *a = metrics_series_get(f, "a");
	metrics_series *b = metrics_series_get(f, "b");

	assert_non_null(a);
	assert_ptr_not_equal(a, b);
	for (int i = 0; i < 100; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%d", i);
		metrics_series_get(f, name);
	}
	/* Growing the family keeps the pointers handed out earlier. */
	assert_ptr_equal(metrics_series_get(f, "a"), a);
	assert_ptr_equal(metrics_series_get(f, "b"), b);
	metrics_free(m);
}

static void label_values_are_escaped(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_gauge_new(m, "advocacyd_test_info", "Back\\slash\nnewline.",
	                                      "reason", NULL);

	metrics_set(metrics_series_get(f, "a\"b\\c\nd"), 1);
	const char *text = render(m);

	assert_non_null(strstr(text, "advocacyd_test_info{reason=\"a\\\"b\\\\c\\nd\"} 1\n"));
	assert_non_null(strstr(text, "# HELP advocacyd_test_info Back\\\\slash\\nnewline.\n"));
	metrics_free(m);
}

static void histogram_buckets_are_cumulative(void **state)
{
	static const double bounds[] = { 0.01, 0.1, 1 };
	metrics *m = metrics_new();
	metrics_family *f = metrics_histogram_new(m, "advocacyd_test_seconds", "Durations.",
	                                          bounds, 3, NULL);
	metrics_series *s = metrics_series_get(f);

	metrics_observe(s, 0.005);
	metrics_observe(s, 0.01);   /* on a bound: counts in that bucket (le) */
	metrics_observe(s, 0.5);
	metrics_observe(s, 7);
	const char *text = render(m);

	assert_non_null(strstr(text, "# TYPE advocacyd_test_seconds histogram\n"
	                             "advocacyd_test_seconds_bucket{le=\"0.01\"} 2\n"
	                             "advocacyd_test_seconds_bucket{le=\"0.1\"} 2\n"
	                             "advocacyd_test_seconds_bucket{le=\"1\"} 3\n"
	                             "advocacyd_test_seconds_bucket{le=\"+Inf\"} 4\n"
	                             "advocacyd_test_seconds_sum 7.515\n"
	                             "advocacyd_test_seconds_count 4\n"));
	metrics_free(m);
}

static void histogram_label_comes_before_le(void **state)
{
	static const double bounds[] = { 10 };
	metrics *m = metrics_new();
	metrics_family *f = metrics_histogram_new(m, "advocacyd_test_messages", "Sizes.", bounds,
	                                          1, "topic", NULL);

	metrics_observe(metrics_series_get(f, "t"), 3);
	const char *text = render(m);

	assert_non_null(strstr(text, "advocacyd_test_messages_bucket{topic=\"t\",le=\"10\"} 1\n"));
	assert_non_null(strstr(text, "advocacyd_test_messages_count{topic=\"t\"} 1\n"));
	metrics_free(m);
}

static void hidden_series_reappear_when_set(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_gauge_new(m, "advocacyd_test_lag", "Lag.", "partition", NULL);

	metrics_set(metrics_series_get(f, "0"), 4);
	metrics_set(metrics_series_get(f, "1"), 9);
	metrics_family_hide(f);
	metrics_set(metrics_series_get(f, "1"), 2);
	const char *text = render(m);

	assert_null(strstr(text, "partition=\"0\""));
	assert_non_null(strstr(text, "advocacyd_test_lag{partition=\"1\"} 2\n"));
	metrics_free(m);
}

static void collect_sets_values(metrics *m, void *opaque)
{
	metrics_set(opaque, 42);
}

static void collect_runs_before_render(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_gauge_new(m, "advocacyd_test_people", "People.", NULL);

	metrics_set_collect(m, collect_sets_values, metrics_series_get(f));
	assert_non_null(strstr(render(m), "advocacyd_test_people 42\n"));
	metrics_free(m);
}

static void process_families_present(void **state)
{
	metrics *m = metrics_new();

	metrics_set_config_version(m, "0123456789abcdef");
	metrics_count_reload(m, true);
	metrics_count_reload(m, false);
	metrics_count_reload(m, false);
	metrics_set_config_version(m, "fedcba9876543210");
	const char *text = render(m);

	assert_non_null(strstr(text, "advocacyd_config_info{version=\"fedcba9876543210\"} 1\n"));
	assert_null(strstr(text, "0123456789abcdef"));
	assert_non_null(strstr(text, "advocacyd_config_reloads_total 1\n"));
	assert_non_null(strstr(text, "advocacyd_config_reload_failures_total 2\n"));
	assert_non_null(strstr(text, "# TYPE advocacyd_start_time_seconds gauge\n"));
	assert_non_null(strstr(text, "# TYPE advocacyd_log_lines_suppressed_total counter\n"));
	metrics_free(m);
}

static void invalid_families_rejected(void **state)
{
	static const double descending[] = { 1, 0.5 };
	metrics *m = metrics_new();

	assert_null(metrics_counter_new(m, "advocacyd_no_suffix", "Bad.", NULL));
	assert_null(metrics_gauge_new(m, "9starts_with_digit", "Bad.", NULL));
	assert_null(metrics_gauge_new(m, "advocacyd-dash", "Bad.", NULL));
	assert_null(metrics_gauge_new(m, "advocacyd_label", "Bad.", "bad-label", NULL));
	assert_null(metrics_gauge_new(m, "advocacyd_reserved", "Bad.", "__name", NULL));
	assert_null(metrics_gauge_new(m, "advocacyd_many", "Bad.", "a", "b", "c", "d", "e", NULL));
	assert_null(metrics_histogram_new(m, "advocacyd_desc", "Bad.", descending, 2, NULL));
	assert_null(metrics_histogram_new(m, "advocacyd_le", "Bad.", descending + 1, 1, "le",
	                                  NULL));
	assert_non_null(metrics_gauge_new(m, "advocacyd_once", "Good.", NULL));
	assert_null(metrics_gauge_new(m, "advocacyd_once", "Twice.", NULL));
	/* Updates through a NULL family or series do nothing. */
	metrics_add(metrics_series_get(NULL), 1);
	metrics_free(m);
}

static void series_cap_returns_null(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_gauge_new(m, "advocacyd_test_many", "Many.", "id", NULL);
	char id[16];

	for (int i = 0; i < METRICS_MAX_SERIES; i++) {
		snprintf(id, sizeof(id), "%d", i);
		assert_non_null(metrics_series_get(f, id));
	}
	assert_null(metrics_series_get(f, "one too many"));
	assert_non_null(metrics_series_get(f, "0"));
	metrics_free(m);
}

static void values_render_exactly(void **state)
{
	metrics *m = metrics_new();
	metrics_family *f = metrics_gauge_new(m, "advocacyd_test_value", "Values.", "case", NULL);

	metrics_set(metrics_series_get(f, "big"), 12345678901234.0);
	metrics_set(metrics_series_get(f, "tenth"), 0.1);
	metrics_set(metrics_series_get(f, "negative"), -1);
	const char *text = render(m);

	assert_non_null(strstr(text, "{case=\"big\"} 12345678901234\n"));
	assert_non_null(strstr(text, "{case=\"tenth\"} 0.1\n"));
	assert_non_null(strstr(text, "{case=\"negative\"} -1\n"));
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counter_renders_help_type_and_labels),
		cmocka_unit_test(series_get_returns_same_pointer),
		cmocka_unit_test(label_values_are_escaped),
		cmocka_unit_test(histogram_buckets_are_cumulative),
		cmocka_unit_test(histogram_label_comes_before_le),
		cmocka_unit_test(hidden_series_reappear_when_set),
		cmocka_unit_test(collect_runs_before_render),
		cmocka_unit_test(process_families_present),
		cmocka_unit_test(invalid_families_rejected),
		cmocka_unit_test(series_cap_returns_null),
		cmocka_unit_test(values_render_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
