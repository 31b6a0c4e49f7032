/*
 * test_inbuf.c - the consumer's input buffer: order, wrap-around, full and
 * oversized records, purging a partition, the oldest offset per partition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "inbuf.h"

/* Puts a record of part with payload "p<offset>" padded to len bytes. */
static int put(inbuf *b, uint16_t part, int64_t offset, size_t len)
{
	char payload[4096];
	inbuf_record r = { .part = part, .offset = offset, .timestamp_ms = offset * 10,
	                   .key = "k", .key_len = 1, .payload = payload, .len = len };

	assert_true(len <= sizeof(payload));
	memset(payload, 'x', len);
	snprintf(payload, len, "p%lld", (long long)offset);
	return inbuf_put(b, &r);
}

/* Takes the next record and checks its part and offset and its bytes. */
static void expect_next(inbuf *b, uint16_t part, int64_t offset)
{
	inbuf_record r;
	char want[32];

	assert_true(inbuf_shift(b, &r));
	assert_int_equal(r.part, part);
	assert_int_equal(r.offset, offset);
	assert_int_equal(r.timestamp_ms, offset * 10);
	assert_int_equal(r.key_len, 1);
	assert_memory_equal(r.key, "k", 1);
	snprintf(want, sizeof(want), "p%lld", (long long)offset);
	assert_string_equal(r.payload, want);
}

static void records_come_out_in_order(void **state)
{
	inbuf *b = inbuf_new(4096);

	for (int i = 0; i < 10; i++)
		assert_int_equal(put(b, (uint16_t)(i % 3), i, 40), INBUF_OK);
	assert_int_equal(inbuf_count(b), 10);
	for (int i = 0; i < 10; i++)
		expect_next(b, (uint16_t)(i % 3), i);
	inbuf_record r;
	assert_false(inbuf_shift(b, &r));
	assert_int_equal(inbuf_count(b), 0);
	inbuf_free(b);
}

static void tombstones_and_missing_keys_survive(void **state)
{
	inbuf *b = inbuf_new(1024);
	inbuf_record in = { .part = 1, .offset = 5 }, out;

	assert_int_equal(inbuf_put(b, &in), INBUF_OK);
	in.key = "";
	in.payload = "";
	assert_int_equal(inbuf_put(b, &in), INBUF_OK);
	assert_true(inbuf_shift(b, &out));
	assert_null(out.key);
	assert_null(out.payload);
	assert_true(inbuf_shift(b, &out));
	assert_non_null(out.key);
	assert_non_null(out.payload);
	assert_int_equal(out.len, 0);
	inbuf_free(b);
}

/* A full ring refuses until records are taken; then it wraps and keeps the order. */
static void full_ring_waits_then_wraps(void **state)
{
	inbuf *b = inbuf_new(1000);   /* 125 words: 7 records of 136 bytes */
	int64_t next_in = 0, next_out = 0;

	while (put(b, 0, next_in, 100) == INBUF_OK)
		next_in++;
	assert_int_equal(next_in, 7);
	assert_int_equal(put(b, 0, next_in, 100), INBUF_FULL);
	for (int round = 0; round < 50; round++) {
		expect_next(b, 0, next_out++);
		expect_next(b, 0, next_out++);
		while (put(b, 0, next_in, 60 + round % 5 * 20) == INBUF_OK)
			next_in++;
	}
	while (next_out < next_in)
		expect_next(b, 0, next_out++);
	assert_int_equal(inbuf_count(b), 0);
	inbuf_free(b);
}

static void record_bigger_than_ring_is_too_big(void **state)
{
	inbuf *b = inbuf_new(1024);

	assert_int_equal(put(b, 0, 1, 2000), INBUF_TOO_BIG);
	assert_int_equal(inbuf_count(b), 0);
	/* Even an empty ring has no room for it; a fitting one goes in. */
	assert_int_equal(put(b, 0, 2, 900), INBUF_OK);
	inbuf_free(b);
}

static bool is_part_one(uint16_t part, void *opaque)
{
	return part == 1;
}

/* Purging a partition (revoke or seek) skips its records and frees room at head. */
static void purge_drops_one_partition(void **state)
{
	inbuf *b = inbuf_new(1700);   /* 12 records of 136 bytes and 64 spare */

	for (int i = 0; i < 12; i++)
		assert_int_equal(put(b, (uint16_t)(i < 4 ? 1 : i % 2), i, 100), INBUF_OK);
	assert_int_equal(put(b, 0, 99, 200), INBUF_FULL);
	assert_int_equal(inbuf_first_offset(b, 1), 0);

	/* Records 0-3 and the odd ones from 5 are part 1. */
	assert_int_equal(inbuf_purge(b, is_part_one, NULL), 8);
	assert_int_equal(inbuf_count(b), 4);
	assert_int_equal(inbuf_first_offset(b, 1), -1);
	assert_int_equal(inbuf_first_offset(b, 0), 4);
	assert_int_equal(put(b, 0, 12, 100), INBUF_OK);   /* room from the purged head */
	for (int i = 4; i < 12; i += 2)
		expect_next(b, 0, i);
	expect_next(b, 0, 12);
	inbuf_record r;
	assert_false(inbuf_shift(b, &r));
	inbuf_free(b);
}

static void purge_after_wrap(void **state)
{
	inbuf *b = inbuf_new(1000);
	int64_t i = 0;

	while (put(b, (uint16_t)(i % 2), i, 100) == INBUF_OK)
		i++;
	expect_next(b, 0, 0);
	expect_next(b, 1, 1);
	expect_next(b, 0, 2);
	while (put(b, (uint16_t)(i % 2), i, 100) == INBUF_OK)
		i++;
	assert_int_equal(inbuf_first_offset(b, 1), 3);
	inbuf_purge(b, is_part_one, NULL);
	for (int64_t j = 4; j < i; j += 2)
		expect_next(b, 0, j);
	assert_int_equal(inbuf_count(b), 0);
	inbuf_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(records_come_out_in_order),
	    cmocka_unit_test(tombstones_and_missing_keys_survive),
	    cmocka_unit_test(full_ring_waits_then_wraps),
	    cmocka_unit_test(record_bigger_than_ring_is_too_big),
	    cmocka_unit_test(purge_drops_one_partition),
	    cmocka_unit_test(purge_after_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
