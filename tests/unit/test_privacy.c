/*
 * test_privacy.c - HMAC-SHA256 pseudonyms, their cache and the key file rules.
 *
 * OpenSSL's allocator is replaced by a counting one before any other OpenSSL
 * call, so the tests can check that cache hits allocate nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "privacy.h"

static const char hex_key[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
			      "202122232425262728292a2b2c2d2e2f";

static unsigned long openssl_allocations;

static void *counting_malloc(size_t n, const char *file, int line)
{
	openssl_allocations++;
	return malloc(n);
}

static void *counting_realloc(void *ptr, size_t n, const char *file, int line)
{
	openssl_allocations++;
	return realloc(ptr, n);
}

static void counting_free(void *ptr, const char *file, int line)
{
	free(ptr);
}

/* A scratch directory per test run, removed by remove_scratch(). */
static char scratch_dir[256];

static const char *scratch_path(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", scratch_dir, name);
	return path;
}

static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
	const char *path = scratch_path(name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	*len = n;
}

static privacy *open_hex_key(size_t slots)
{
	char text[sizeof(hex_key) + 1];
	char err[256] = "";
	privacy *p = NULL;

	snprintf(text, sizeof(text), "%s\n", hex_key);
	const char *path = write_file("key.hex", text, strlen(text), 0600);
	assert_int_equal(privacy_new(path, "k1", slots, &p, err, sizeof(err)), 0);
	assert_non_null(p);
	return p;
}

static void expect_pseudonym(const uint8_t *key, size_t key_len, const char *id,
			     const pseudonym *got)
{
	uint8_t mac[32];
	assert_int_equal(privacy_hmac_sha256(key, key_len, id, strlen(id), mac), 0);
	assert_memory_equal(got->bytes, mac, PSEUDONYM_SIZE);
}

/* ------------------------------------------------------------------------ */

typedef struct rfc4231_case {
	const char *key_hex;
	size_t key_repeat; /* when key_hex is one byte: repeat it this often */
	const char *data;  /* text data, or NULL for data_byte */
	uint8_t data_byte;
	size_t data_len;
	const char *mac_hex; /* may be truncated (test case 5) */
} rfc4231_case;

static void hmac_matches_rfc4231_vectors(void **state)
{
	static const rfc4231_case cases[] = {
	    {"0b", 20, "Hi There", 0, 0,
	     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    {"4a656665", 1, "what do ya want for nothing?", 0, 0,
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	    {"aa", 20, NULL, 0xdd, 50,
	     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	    {"0102030405060708090a0b0c0d0e0f10111213141516171819", 1, NULL, 0xcd, 50,
	     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	    {"0c", 20, "Test With Truncation", 0, 0, "a3b6167473100ee06e0c796c2955552b"},
	    {"aa", 131, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	    {"aa", 131,
	     "This is a test using a larger than block-size key and a larger than "
	     "block-size data. The key needs to be hashed before being used by the "
	     "HMAC algorithm.",
	     0, 0, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const rfc4231_case *tc = &cases[i];
		uint8_t key[256], data[64], expected[32], mac[32];
		size_t key_len, expected_len;

		hex_to_bytes(tc->key_hex, key, &key_len);
		for (size_t r = 1; r < tc->key_repeat; r++)
			key[r] = key[0];
		if (tc->key_repeat > 1)
			key_len = tc->key_repeat;
		hex_to_bytes(tc->mac_hex, expected, &expected_len);

		const void *msg = tc->data;
		size_t msg_len = tc->data ? strlen(tc->data) : tc->data_len;
		if (!tc->data) {
			memset(data, tc->data_byte, tc->data_len);
			msg = data;
		}
		assert_int_equal(privacy_hmac_sha256(key, key_len, msg, msg_len, mac), 0);
		assert_memory_equal(mac, expected, expected_len);
	}
}

static void pseudonym_is_truncated_hmac_of_hex_key(void **state)
{
	uint8_t key[64];
	size_t key_len;
	pseudonym ps;

	hex_to_bytes(hex_key, key, &key_len);
	privacy *p = open_hex_key(0);
	assert_string_equal(privacy_key_id(p), "k1");
	assert_null(privacy_warning(p));

	static const char *ids[] = {"U024BE7LH", "someone@example.com", "e-000123", ""};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		privacy_pseudonym(p, ids[i], strlen(ids[i]), &ps);
		expect_pseudonym(key, key_len, ids[i], &ps);
		/* Second time from the cache, same value. */
		privacy_pseudonym(p, ids[i], strlen(ids[i]), &ps);
		expect_pseudonym(key, key_len, ids[i], &ps);
	}
	privacy_free(p);
}

static void pseudonym_from_raw_key_file(void **state)
{
	uint8_t key[40];
	char err[256] = "";
	privacy *p = NULL;
	pseudonym ps;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i * 7); /* not printable: read as raw bytes */
	const char *path = write_file("key.raw", key, sizeof(key), 0600);
	assert_int_equal(privacy_new(path, NULL, 16, &p, err, sizeof(err)), 0);
	assert_string_equal(privacy_key_id(p), "");

	privacy_pseudonym(p, "U024BE7LH", 9, &ps);
	expect_pseudonym(key, sizeof(key), "U024BE7LH", &ps);
	privacy_free(p);
}

static void cache_counts_hits_and_misses(void **state)
{
	pseudonym a, b;
	privacy *p = open_hex_key(1024);

	assert_int_equal(privacy_cache_hits(p), 0);
	assert_int_equal(privacy_cache_misses(p), 0);

	privacy_pseudonym(p, "alice", 5, &a);
	assert_int_equal(privacy_cache_misses(p), 1);
	assert_int_equal(privacy_cache_hits(p), 0);

	privacy_pseudonym(p, "alice", 5, &b);
	assert_int_equal(privacy_cache_misses(p), 1);
	assert_int_equal(privacy_cache_hits(p), 1);
	assert_true(pseudonym_equal(&a, &b));

	/* A prefix of a cached id is a different id. */
	privacy_pseudonym(p, "alic", 4, &b);
	assert_int_equal(privacy_cache_misses(p), 2);
	assert_false(pseudonym_equal(&a, &b));
	privacy_free(p);
}

static void cache_collision_keeps_both_ids_right(void **state)
{
	uint8_t key[64];
	size_t key_len;
	pseudonym ps;

	hex_to_bytes(hex_key, key, &key_len);
	/* One slot: every id maps to it, so the two ids keep evicting each other. */
	privacy *p = open_hex_key(1);
	for (int round = 0; round < 3; round++) {
		privacy_pseudonym(p, "U111", 4, &ps);
		expect_pseudonym(key, key_len, "U111", &ps);
		privacy_pseudonym(p, "U222", 4, &ps);
		expect_pseudonym(key, key_len, "U222", &ps);
	}
	assert_int_equal(privacy_cache_misses(p), 6);
	assert_int_equal(privacy_cache_hits(p), 0);
	privacy_free(p);
}

static void long_id_bypasses_cache(void **state)
{
	uint8_t key[64];
	size_t key_len;
	char id[65];
	pseudonym ps;

	hex_to_bytes(hex_key, key, &key_len);
	memset(id, 'x', 64);
	id[64] = '\0';
	privacy *p = open_hex_key(0);

	/* 64 bytes still fit in the cache. */
	privacy_pseudonym(p, id, 64, &ps);
	privacy_pseudonym(p, id, 64, &ps);
	expect_pseudonym(key, key_len, id, &ps);
	assert_int_equal(privacy_cache_hits(p), 1);

	char long_id[200];
	memset(long_id, 'y', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	privacy_pseudonym(p, long_id, strlen(long_id), &ps);
	privacy_pseudonym(p, long_id, strlen(long_id), &ps);
	expect_pseudonym(key, key_len, long_id, &ps);
	assert_int_equal(privacy_cache_hits(p), 1);
	assert_int_equal(privacy_cache_misses(p), 3);
	privacy_free(p);
}

static void cache_hit_allocates_nothing(void **state)
{
	pseudonym ps;
	privacy *p = open_hex_key(0);
	static const char *ids[] = {"U024BE7LH", "U0G9QF9C6", "W012A3CDE"};

	for (size_t i = 0; i < 3; i++)
		privacy_pseudonym(p, ids[i], 9, &ps);

	unsigned long before = openssl_allocations;
	for (int round = 0; round < 1000; round++)
		privacy_pseudonym(p, ids[round % 3], 9, &ps);
	assert_int_equal(openssl_allocations, before);
	assert_int_equal(privacy_cache_hits(p), 1000);
	privacy_free(p);
}

static double elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/* Prints ns per pseudonym; asserts nothing about speed (sanitizers distort it). */
static void pseudonym_timing_report(void **state)
{
	enum { N = 100000, IDS = 1000 };
	struct timespec t0, t1, t2;
	char ids[IDS][24];
	pseudonym ps;

	for (int i = 0; i < IDS; i++)
		snprintf(ids[i], sizeof(ids[i]), "U%08dXYZ", i);

	privacy *cold = open_hex_key(1); /* a single slot: alternating ids always miss */
	privacy *warm = open_hex_key(0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++)
		privacy_pseudonym(cold, ids[i % IDS], strlen(ids[i % IDS]), &ps);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < N; i++)
		privacy_pseudonym(warm, ids[i % IDS], strlen(ids[i % IDS]), &ps);
	clock_gettime(CLOCK_MONOTONIC, &t2);

	print_message("pseudonym: %.0f ns per miss, %.0f ns per call with cache (%llu hits)\n",
		      elapsed_ns(&t0, &t1) / N, elapsed_ns(&t1, &t2) / N,
		      (unsigned long long)privacy_cache_hits(warm));
	assert_int_equal(privacy_cache_misses(cold), N);
	/* A few of the 1000 ids share a slot and keep missing. */
	assert_int_equal(privacy_cache_hits(warm) + privacy_cache_misses(warm), N);
	assert_true(privacy_cache_hits(warm) > N * 9 / 10);
	privacy_free(cold);
	privacy_free(warm);
}

static void hex_format_is_lowercase(void **state)
{
	pseudonym ps;
	char hex[PSEUDONYM_HEX_SIZE];

	for (int i = 0; i < PSEUDONYM_SIZE; i++)
		ps.bytes[i] = (uint8_t)(i * 17 + 10);
	pseudonym_to_hex(&ps, hex);
	assert_string_equal(hex, "0a1b2c3d4e5f708192a3b4c5d6e7f809");
	assert_int_equal(strlen(hex), 2 * PSEUDONYM_SIZE);
}

/* Expects privacy_new to reject path with an error containing needle and path. */
static void expect_key_error(const char *path, const char *needle)
{
	char err[512] = "";
	privacy *p = (privacy *)&err; /* must be reset to NULL */

	assert_int_equal(privacy_new(path, "k1", 0, &p, err, sizeof(err)), -1);
	assert_null(p);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	assert_non_null(strstr(err, path));
}

static void key_file_missing(void **state)
{
	expect_key_error(scratch_path("no-such-key"), "cannot open");
}

static void key_file_too_short(void **state)
{
	uint8_t raw[31];
	memset(raw, 0xfe, sizeof(raw));
	expect_key_error(write_file("short.raw", raw, sizeof(raw), 0600), "too short");

	char text[64];
	memcpy(text, hex_key, 62);
	text[62] = '\n';
	expect_key_error(write_file("short.hex", text, 63, 0600), "too short");

	expect_key_error(write_file("empty", "", 0, 0600), "too short");
}

static void key_file_bad_hex(void **state)
{
	char text[sizeof(hex_key)];
	char err[512] = "";
	privacy *p = NULL;

	memcpy(text, hex_key, sizeof(hex_key));
	text[10] = 'g';
	const char *path = write_file("bad.hex", text, strlen(text), 0600);
	expect_key_error(path, "invalid hex digit at offset 10");

	/* The error must not echo key material. */
	assert_int_equal(privacy_new(path, "k1", 0, &p, err, sizeof(err)), -1);
	assert_null(strstr(err, "0a0b0c"));

	memcpy(text, hex_key, sizeof(hex_key));
	expect_key_error(write_file("odd.hex", text, 65, 0600), "odd number of hex digits");
}

static void key_file_readable_by_others_warns(void **state)
{
	char err[256] = "";
	privacy *p = NULL;

	const char *path = write_file("open.hex", hex_key, strlen(hex_key), 0644);
	assert_int_equal(privacy_new(path, "k1", 0, &p, err, sizeof(err)), 0);
	assert_non_null(privacy_warning(p));
	assert_non_null(strstr(privacy_warning(p), "chmod 600"));
	privacy_free(p);
}

static void free_accepts_null(void **state)
{
	privacy_free(NULL);
}

static int make_scratch(void **state)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(scratch_dir, sizeof(scratch_dir), "%s/test_privacy.XXXXXX", tmp ? tmp : "/tmp");
	return mkdtemp(scratch_dir) ? 0 : -1;
}

static int remove_scratch(void **state)
{
	static const char *names[] = {"key.hex", "key.raw", "short.raw", "short.hex",
				      "empty",	 "bad.hex", "odd.hex",	 "open.hex"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(scratch_path(names[i]));
	return rmdir(scratch_dir);
}

int main(void)
{
	/* Must precede every other OpenSSL call. */
	if (!CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free))
		return 1;

	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hmac_matches_rfc4231_vectors),
	    cmocka_unit_test(pseudonym_is_truncated_hmac_of_hex_key),
	    cmocka_unit_test(pseudonym_from_raw_key_file),
	    cmocka_unit_test(cache_counts_hits_and_misses),
	    cmocka_unit_test(cache_collision_keeps_both_ids_right),
	    cmocka_unit_test(long_id_bypasses_cache),
	    cmocka_unit_test(cache_hit_allocates_nothing),
	    cmocka_unit_test(pseudonym_timing_report),
	    cmocka_unit_test(hex_format_is_lowercase),
	    cmocka_unit_test(key_file_missing),
	    cmocka_unit_test(key_file_too_short),
	    cmocka_unit_test(key_file_bad_hex),
	    cmocka_unit_test(key_file_readable_by_others_warns),
	    cmocka_unit_test(free_accepts_null),
	};
	return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
