/*
 * test_redis_known.c - the set of window keys a Redis connection has written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "redis_known.h"

static bool has(const redis_known *k, const char *key)
{
	return redis_known_has(k, key, strlen(key));
}

static void note(redis_known *k, const char *key)
{
	assert_int_equal(redis_known_note(k, key, strlen(key)), 0);
}

/* Keys become known only when their batch is applied. */
static void test_known_after_commit_only(void **state)
{
	(void)state;
	redis_known *k = redis_known_new(64);

	assert_non_null(k);
	note(k, "{a}:n:1d:86400");
	assert_int_equal(redis_known_sent(k), 0);
	assert_false(has(k, "{a}:n:1d:86400"));
	redis_known_commit(k);
	assert_true(has(k, "{a}:n:1d:86400"));
	assert_false(has(k, "{a}:n:1d:172800"));

	note(k, "{a}:n:1d:172800");
	assert_int_equal(redis_known_sent(k), 0);
	redis_known_discard(k);
	redis_known_commit(k);
	assert_false(has(k, "{a}:n:1d:172800"));
	redis_known_free(k);
}

/* Two writes in flight: each reply settles the notes of the oldest. */
static void test_two_batches_in_flight(void **state)
{
	(void)state;
	redis_known *k = redis_known_new(64);

	assert_non_null(k);
	note(k, "{a}:n:1d:0");
	assert_int_equal(redis_known_sent(k), 0);
	note(k, "{a}:n:1d:86400");
	note(k, "{a}:n:5m:0");
	assert_int_equal(redis_known_sent(k), 0);
	/* A third batch cannot wait: its notes are dropped. */
	note(k, "{a}:n:1h:0");
	assert_int_equal(redis_known_sent(k), -1);

	redis_known_discard(k);
	assert_false(has(k, "{a}:n:1d:0"));
	assert_false(has(k, "{a}:n:1d:86400"));
	/* A batch built but never sent leaves nothing behind. */
	note(k, "{a}:n:1h:3600");
	assert_int_equal(redis_known_begin(k, false), 0);
	redis_known_commit(k);
	assert_true(has(k, "{a}:n:1d:86400"));
	assert_true(has(k, "{a}:n:5m:0"));
	assert_false(has(k, "{a}:n:1d:0"));
	assert_false(has(k, "{a}:n:1h:0"));
	assert_false(has(k, "{a}:n:1h:3600"));
	/* No batch waits: a reply without one changes nothing. */
	redis_known_commit(k);
	assert_false(has(k, "{a}:n:1h:3600"));
	redis_known_free(k);
}

/* A batch written only after the ones sent before it treats their keys as known. */
static void test_after_sent_sees_pending_keys(void **state)
{
	(void)state;
	redis_known *k = redis_known_new(64);

	assert_non_null(k);
	note(k, "{a}:n:1d:0");
	assert_int_equal(redis_known_sent(k), 0);
	assert_int_equal(redis_known_begin(k, true), 0);
	assert_true(has(k, "{a}:n:1d:0"));
	assert_false(has(k, "{a}:n:5m:0"));
	note(k, "{a}:n:5m:0");
	assert_int_equal(redis_known_sent(k), 0);
	/* A batch without that condition must not rely on them. */
	assert_int_equal(redis_known_begin(k, false), 0);
	assert_false(has(k, "{a}:n:1d:0"));
	/* The first is dropped: the second, written only after it, is too. */
	redis_known_discard(k);
	redis_known_discard(k);
	assert_int_equal(redis_known_begin(k, true), 0);
	assert_false(has(k, "{a}:n:1d:0"));
	assert_false(has(k, "{a}:n:5m:0"));
	redis_known_free(k);
}

/* A clear forgets everything; expire clears only after a minute. */
static void test_clear_and_expire(void **state)
{
	(void)state;
	redis_known *k = redis_known_new(64);

	assert_non_null(k);
	redis_known_clear(k, 1000);
	note(k, "{a}:u:1d:0:x|org");
	assert_int_equal(redis_known_sent(k), 0);
	redis_known_commit(k);
	redis_known_expire(k, 1000 + REDIS_KNOWN_FORGET_MS - 1);
	assert_true(has(k, "{a}:u:1d:0:x|org"));
	redis_known_expire(k, 1000 + REDIS_KNOWN_FORGET_MS);
	assert_false(has(k, "{a}:u:1d:0:x|org"));

	note(k, "{a}:u:1d:0:x|org");
	assert_int_equal(redis_known_sent(k), 0);
	redis_known_commit(k);
	redis_known_clear(k, 5000);
	assert_false(has(k, "{a}:u:1d:0:x|org"));
	redis_known_free(k);
}

/* Past half its slots the set starts over rather than fill up. */
static void test_full_set_starts_over(void **state)
{
	(void)state;
	redis_known *k = redis_known_new(16);
	char key[32];

	assert_non_null(k);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "{a}:n:5m:%d", i * 300);
		note(k, key);
	}
	assert_int_equal(redis_known_sent(k), 0);
	redis_known_commit(k);
	size_t known = 0;
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "{a}:n:5m:%d", i * 300);
		known += has(k, key);
	}
	assert_true(known > 0);
	assert_true(known <= 8);
	/* The last key noted is always kept. */
	assert_true(has(k, key));
	redis_known_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_after_commit_only),
		cmocka_unit_test(test_two_batches_in_flight),
		cmocka_unit_test(test_after_sent_sees_pending_keys),
		cmocka_unit_test(test_clear_and_expire),
		cmocka_unit_test(test_full_set_starts_over),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
