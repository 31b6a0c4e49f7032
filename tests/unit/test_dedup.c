/*
 * test_dedup.c - event id hashes, the per-batch id set and the known-id cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dedup.h"

static event_str str(const char *s)
{
	return (event_str){ s, strlen(s) };
}

static const uint8_t key_a[16] = "0123456789abcdef";
static const uint8_t key_b[16] = "fedcba9876543210";

static void test_event_id_is_stable_and_field_bound(void **state)
{
	(void)state;
	dedup_id_key *k = dedup_id_key_new(key_a);
	assert_non_null(k);
	uint64_t a = dedup_event_id(k, str("slack"), str("reaction_added"), str("Ev01"));

	assert_int_equal(a, dedup_event_id(k, str("slack"), str("reaction_added"), str("Ev01")));
	assert_int_not_equal(a, dedup_event_id(k, str("slack"), str("reaction_removed"), str("Ev01")));
	assert_int_not_equal(a, dedup_event_id(k, str("canonical"), str("reaction_added"), str("Ev01")));
	/* Moving bytes between fields changes the id. */
	assert_int_not_equal(dedup_event_id(k, str("ab"), str("c"), str("x")),
	                     dedup_event_id(k, str("a"), str("bc"), str("x")));
	assert_int_not_equal(dedup_event_id(k, str(""), str(""), str("")), 0);
	dedup_id_key_free(k);
}

/* Without the key an id cannot be recomputed: another key gives other ids. */
static void test_event_id_depends_on_the_key(void **state)
{
	(void)state;
	dedup_id_key *a = dedup_id_key_new(key_a), *b = dedup_id_key_new(key_b);
	assert_non_null(a);
	assert_non_null(b);
	for (int i = 0; i < 100; i++) {
		char id[64];
		snprintf(id, sizeof(id), "C1:1700000000.%06d:reaction:U%d", i, i);
		assert_int_not_equal(dedup_event_id(a, str("slack"), str("reaction_added"), str(id)),
		                     dedup_event_id(b, str("slack"), str("reaction_added"), str(id)));
	}
	dedup_id_key_free(a);
	dedup_id_key_free(b);
}

static void test_hour_floors_utc(void **state)
{
	(void)state;
	assert_int_equal(dedup_hour_s(0), 0);
	assert_int_equal(dedup_hour_s(3599999), 0);
	assert_int_equal(dedup_hour_s(3600000), 3600);
	/* 2026-03-29T01:59:59.999Z, the hour Europe turns its clocks: still UTC hours. */
	assert_int_equal(dedup_hour_s(1774749599999LL), 1774746000);
	assert_int_equal(dedup_hour_s(-1), -3600);
}

static void test_batch_drops_repeats_and_groups_by_hour(void **state)
{
	(void)state;
	dedup_batch *b = dedup_batch_new();

	assert_non_null(b);
	assert_int_equal(dedup_batch_add(b, 42, 7200000 + 5), 1);
	assert_int_equal(dedup_batch_add(b, 7, 10), 1);
	assert_int_equal(dedup_batch_add(b, 42, 7200000 + 5), 0);
	assert_int_equal(dedup_batch_add(b, 9, 7200000), 1);
	assert_int_equal(dedup_batch_count(b), 3);
	dedup_batch_finish(b);
	const dedup_entry *e = dedup_batch_entries(b);
	/* By hour; within an hour in arrival order. */
	assert_int_equal(e[0].id, 7);
	assert_int_equal(e[0].hour_s, 0);
	assert_int_equal(e[1].id, 42);
	assert_int_equal(e[1].hour_s, 7200);
	assert_int_equal(e[2].id, 9);
	assert_int_equal(e[2].hour_s, 7200);

	dedup_batch_reset(b);
	assert_int_equal(dedup_batch_count(b), 0);
	assert_int_equal(dedup_batch_add(b, 42, 0), 1);
	dedup_batch_free(b);
}

/* Two entries a year apart span more hours than entries: the qsort fallback. */
static void test_batch_sorts_a_sparse_span(void **state)
{
	(void)state;
	dedup_batch *b = dedup_batch_new();
	const int64_t year_ms = 365LL * 24 * 3600 * 1000;

	assert_non_null(b);
	assert_int_equal(dedup_batch_add(b, 5, year_ms), 1);
	assert_int_equal(dedup_batch_add(b, 6, 0), 1);
	assert_int_equal(dedup_batch_add(b, 4, year_ms), 1);
	dedup_batch_finish(b);
	const dedup_entry *e = dedup_batch_entries(b);
	assert_int_equal(e[0].id, 6);
	assert_int_equal(e[1].id, 4);
	assert_int_equal(e[2].id, 5);
	assert_int_equal(e[2].hour_s, year_ms / 1000);
	dedup_batch_free(b);
}

/* Many entries over a few hours: every hour's entries together, in arrival order. */
static void test_batch_counting_sort_is_stable(void **state)
{
	(void)state;
	dedup_batch *b = dedup_batch_new();

	assert_non_null(b);
	for (uint64_t i = 1; i <= 5000; i++)
		assert_int_equal(dedup_batch_add(b, i, (int64_t)((i * 7) % 5) * 3600000), 1);
	dedup_batch_finish(b);
	const dedup_entry *e = dedup_batch_entries(b);
	for (size_t i = 1; i < 5000; i++) {
		assert_true(e[i - 1].hour_s <= e[i].hour_s);
		if (e[i - 1].hour_s == e[i].hour_s)
			assert_true(e[i - 1].id < e[i].id);
	}
	dedup_batch_free(b);
}

static void test_batch_grows_past_its_first_table(void **state)
{
	(void)state;
	dedup_batch *b = dedup_batch_new();
	const uint64_t n = 100000;

	for (uint64_t i = 1; i <= n; i++)
		assert_int_equal(dedup_batch_add(b, i * 0x9e3779b97f4a7c15ULL, 0), 1);
	for (uint64_t i = 1; i <= n; i += 997)
		assert_int_equal(dedup_batch_add(b, i * 0x9e3779b97f4a7c15ULL, 0), 0);
	assert_int_equal(dedup_batch_count(b), n);
	dedup_batch_free(b);
}

static void test_batch_has_probes_exactly(void **state)
{
	(void)state;
	dedup_batch *b = dedup_batch_new();

	/* Ids sharing their low bits land in neighbouring slots of one probe. */
	assert_false(dedup_batch_has(b, 5));
	assert_int_equal(dedup_batch_add(b, 5, 0), 1);
	assert_int_equal(dedup_batch_add(b, 5 + 65536, 0), 1);
	assert_true(dedup_batch_has(b, 5));
	assert_true(dedup_batch_has(b, 5 + 65536));
	assert_false(dedup_batch_has(b, 5 + 2 * 65536));
	assert_int_equal(dedup_batch_count(b), 2);

	dedup_batch_reset(b);
	assert_false(dedup_batch_has(b, 5));
	assert_false(dedup_batch_has(b, 5 + 65536));
	dedup_batch_free(b);
}

static void test_known_cache_is_direct_mapped(void **state)
{
	(void)state;
	dedup_known *k = dedup_known_new(1000); /* rounded up to 1024 slots */

	assert_false(dedup_known_has(k, 5));
	dedup_known_add(k, 5);
	assert_true(dedup_known_has(k, 5));
	/* 5 + 1024 maps to the same slot and pushes 5 out. */
	dedup_known_add(k, 5 + 1024);
	assert_true(dedup_known_has(k, 5 + 1024));
	assert_false(dedup_known_has(k, 5));
	dedup_known_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_id_is_stable_and_field_bound),
		cmocka_unit_test(test_event_id_depends_on_the_key),
		cmocka_unit_test(test_hour_floors_utc),
		cmocka_unit_test(test_batch_drops_repeats_and_groups_by_hour),
		cmocka_unit_test(test_batch_sorts_a_sparse_span),
		cmocka_unit_test(test_batch_counting_sort_is_stable),
		cmocka_unit_test(test_batch_grows_past_its_first_table),
		cmocka_unit_test(test_batch_has_probes_exactly),
		cmocka_unit_test(test_known_cache_is_direct_mapped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
