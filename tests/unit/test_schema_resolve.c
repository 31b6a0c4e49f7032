/*
 * test_schema_resolve.c - Confluent schema ids: lookup, cache and writer/reader
 * resolution of evolved AdvocacyEvent schemas.
 *
 * Writer schemas are the files of tests/fixtures/schemas (see its README),
 * read through schema_dir_lookup, or given by a counting stand-in lookup
 * where a test needs to see how often the source was asked. Datums are
 * written by a small hand encoder that follows the Avro binary encoding, in
 * each writer schema's field order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "decode_avro.h"
#include "schema_cache.h"
#include "schemas.h"

#define T0 1764921600123LL /* 2025-12-05T08:00:00.123Z */

/* ----------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------- */

typedef struct datum {
	unsigned char b[4096];
	size_t n;
} datum;

static void put_byte(datum *d, unsigned char c)
{
	assert_true(d->n < sizeof(d->b));
	d->b[d->n++] = c;
}

static void put_long(datum *d, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	while (z > 0x7f) {
		put_byte(d, (unsigned char)((z & 0x7f) | 0x80));
		z >>= 7;
	}
	put_byte(d, (unsigned char)z);
}

static void put_str(datum *d, const char *s)
{
	put_long(d, (int64_t)strlen(s));
	for (size_t i = 0; s[i]; i++)
		put_byte(d, (unsigned char)s[i]);
}

/* Starts a message in the Confluent wire format with schema id. */
static void put_frame(datum *d, int32_t id)
{
	put_byte(d, 0);
	for (int shift = 24; shift >= 0; shift -= 8)
		put_byte(d, (unsigned char)((uint32_t)id >> shift));
}

static void assert_str(event_str s, const char *expected)
{
	if (!event_str_eq(s, expected))
		fail_msg("expected \"%s\", got \"%.*s\"", expected, (int)s.len, s.ptr ? s.ptr : "");
}

static char fixture_dir[1024];

static const char *schemas_dir(void)
{
	const char *src = getenv("ADVOCACY_SOURCE_DIR");

	snprintf(fixture_dir, sizeof(fixture_dir), "%s/tests/fixtures/schemas", src ? src : ".");
	return fixture_dir;
}

/* A decoder that reads writer schemas from the fixture folder. */
static decode_avro *dir_decoder(void)
{
	char err[160];
	decode_avro *d = decode_avro_new(err, sizeof(err));

	assert_non_null(d);
	assert_int_equal(decode_avro_set_lookup(d, schema_dir_lookup, (void *)schemas_dir(), 60000),
	                 0);
	return d;
}

static decode_status decode(decode_avro *d, const datum *m, event *ev, decode_result *res)
{
	return decode_avro_message(d, m->b, m->n, ev, res);
}

/* A stand-in source: returns status and schema for every id and counts the calls. */
typedef struct fake_source {
	schema_lookup_status status;
	const char *schema;
	int calls;
} fake_source;

static schema_lookup_status fake_lookup(void *opaque, int32_t id, char **json, char *detail,
                                        size_t detail_size)
{
	fake_source *f = opaque;

	f->calls++;
	snprintf(detail, detail_size, "stand-in answer for id %d", (int)id);
	if (f->status == SCHEMA_LOOKUP_FOUND)
		*json = strdup(f->schema);
	return f->status;
}

static decode_avro *fake_decoder(fake_source *f, int64_t retry_ms)
{
	char err[160];
	decode_avro *d = decode_avro_new(err, sizeof(err));

	assert_non_null(d);
	assert_int_equal(decode_avro_set_lookup(d, fake_lookup, f, retry_ms), 0);
	return d;
}

/* A canonical datum, in the canonical field order. */
static void put_canonical(datum *m, const char *event_id)
{
	put_str(m, event_id);
	put_long(m, T0);
	put_str(m, "canonical");
	put_str(m, "recognition");
	put_long(m, 1), put_str(m, "U0ACTOR01");
	put_long(m, 1), put_str(m, "U0TARGET1"), put_long(m, 0);
	put_long(m, 0);
	put_long(m, 1), put_str(m, "C0KUDOS01");
	put_long(m, 0);
}

/* ----------------------------------------------------------------------------
 * Resolution
 * ------------------------------------------------------------------------- */

/* 101: fields reordered, two added with defaults; the added ones are skipped. */
static void test_added_fields_with_defaults_are_ignored(void **state)
{
	decode_avro *d = dir_decoder();
	datum m = {0};
	event ev;
	decode_result res;

	put_frame(&m, 101);
	put_str(&m, "recognition");                   /* kind */
	put_str(&m, "ev-101-1");                      /* event_id */
	put_long(&m, 42);                             /* team_size */
	put_long(&m, T0);                             /* event_time */
	put_str(&m, "hr-portal");                     /* source */
	put_long(&m, 1), put_str(&m, "E-1001");       /* actor_id */
	put_long(&m, 2), put_str(&m, "E-1002"), put_str(&m, "E-1003"), put_long(&m, 0);
	put_long(&m, 1), put_str(&m, "post-77");      /* content_id */
	put_long(&m, 0);                              /* channel_id: null */
	put_long(&m, 1), put_str(&m, "badge"), put_str(&m, "mentor"), put_long(&m, 0);
	put_long(&m, 1), put_str(&m, "de");           /* locale: one entry */
	put_long(&m, 2);
	for (int i = 0; i < 2 * 8; i++)
		put_byte(&m, 0x40);                   /* two doubles */
	put_long(&m, 0), put_long(&m, 0);

	assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
	assert_int_equal(decode_avro_last_schema_id(d), 101);
	assert_str(ev.event_id, "ev-101-1");
	assert_int_equal(ev.event_time_ms, T0);
	assert_str(ev.source, "hr-portal");
	assert_str(ev.kind, "recognition");
	assert_str(ev.actor_id, "E-1001");
	assert_int_equal(ev.target_count, 2);
	assert_str(ev.target_ids[0], "E-1002");
	assert_str(ev.target_ids[1], "E-1003");
	assert_str(ev.content_id, "post-77");
	assert_int_equal(ev.channel_id.len, 0);
	assert_int_equal(ev.attr_count, 1);
	assert_str(ev.attrs[0].key, "badge");
	assert_str(ev.attrs[0].value, "mentor");
	decode_avro_free(d);
}

/* 102: removed optional fields take the reader's defaults (empty, null). */
static void test_removed_fields_take_reader_defaults(void **state)
{
	decode_avro *d = dir_decoder();
	datum m = {0};
	event ev;
	decode_result res;

	put_frame(&m, 102);
	put_str(&m, "ev-102-1");
	put_long(&m, T0 + 1);
	put_str(&m, "canonical");
	put_str(&m, "forum_post");
	put_str(&m, "E-2001"); /* actor_id as a plain string */

	assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
	assert_str(ev.event_id, "ev-102-1");
	assert_int_equal(ev.event_time_ms, T0 + 1);
	assert_str(ev.kind, "forum_post");
	assert_str(ev.actor_id, "E-2001");
	assert_int_equal(ev.target_count, 0);
	assert_int_equal(ev.content_id.len, 0);
	assert_int_equal(ev.channel_id.len, 0);
	assert_int_equal(ev.attr_count, 0);
	decode_avro_free(d);
}

/* 103: an int event_time is promoted to long; source comes from a union. */
static void test_int_promoted_to_long(void **state)
{
	decode_avro *d = dir_decoder();
	datum m = {0};
	event ev;
	decode_result res;

	put_frame(&m, 103);
	put_str(&m, "ev-103-1");
	put_long(&m, 2000000000); /* fits an int */
	put_long(&m, 1), put_str(&m, "legacy");
	put_str(&m, "referral");
	put_long(&m, 0);          /* actor_id null */
	put_long(&m, 1), put_str(&m, "E-3001"), put_long(&m, 0);

	assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
	assert_int_equal(ev.event_time_ms, 2000000000LL);
	assert_str(ev.source, "legacy");
	assert_str(ev.kind, "referral");
	assert_int_equal(ev.actor_id.len, 0);
	assert_int_equal(ev.target_count, 1);
	assert_str(ev.target_ids[0], "E-3001");

	/* An int outside 32 bits is not a valid int datum. */
	m.n = 0;
	put_frame(&m, 103);
	put_str(&m, "ev-103-2");
	put_long(&m, T0);
	put_long(&m, 0), put_str(&m, "referral"), put_long(&m, 0), put_long(&m, 0);
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "invalid_avro");
	decode_avro_free(d);
}

/* 104, 105, 106: incompatible writers are rejected, decided once per id. */
static void test_incompatible_writers_are_dead_lettered(void **state)
{
	const int32_t ids[] = {104, 105, 106};
	const char *details[] = {"field kind", "field event_id has type long", "KudosEvent"};
	decode_avro *d = dir_decoder();
	event ev;
	decode_result res;

	for (size_t i = 0; i < 3; i++) {
		datum m = {0};
		put_frame(&m, ids[i]);
		put_str(&m, "x");
		assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
		assert_string_equal(res.reason, "incompatible_schema");
		if (strstr(res.detail, details[i]) == NULL)
			fail_msg("detail \"%s\" does not mention %s", res.detail, details[i]);
	}
	decode_avro_free(d);
}

/* A schema that is not JSON, and an id the folder does not have. */
static void test_invalid_and_unknown_ids(void **state)
{
	decode_avro *d = dir_decoder();
	datum m = {0};
	event ev;
	decode_result res;

	put_frame(&m, 107);
	put_str(&m, "x");
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "invalid_writer_schema");

	m.n = 0;
	put_frame(&m, 999);
	put_canonical(&m, "ev-unknown");
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "unknown_schema_id");
	assert_non_null(strstr(res.detail, "999"));

	/* A bare datum needs no schema id and still decodes. */
	m.n = 0;
	put_canonical(&m, "ev-bare");
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
	assert_str(ev.event_id, "ev-bare");
	decode_avro_free(d);
}

/* The canonical schema under any id takes the fast path; asked once. */
static void test_canonical_id_is_looked_up_once(void **state)
{
	fake_source f = {SCHEMA_LOOKUP_FOUND, schema_advocacy_event, 0};
	decode_avro *d = fake_decoder(&f, 60000);
	event ev;
	decode_result res;

	for (int i = 0; i < 3; i++) {
		datum m = {0};
		put_frame(&m, 7);
		put_canonical(&m, "ev-canonical");
		assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
		assert_str(ev.actor_id, "U0ACTOR01");
		assert_str(ev.channel_id, "C0KUDOS01");
	}
	assert_int_equal(f.calls, 1);
	decode_avro_free(d);
}

/* An incompatible schema is decided once; an unknown id is asked again after the retry. */
static void test_decisions_are_cached(void **state)
{
	fake_source f = {SCHEMA_LOOKUP_FOUND, "{\"type\":\"record\",\"name\":\"AdvocacyEvent\","
	                                      "\"fields\":[{\"name\":\"event_id\",\"type\":"
	                                      "\"string\"}]}", 0};
	decode_avro *d = fake_decoder(&f, 1000);
	datum m = {0};
	event ev;
	decode_result res;

	put_frame(&m, 5);
	put_str(&m, "x");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
		assert_string_equal(res.reason, "incompatible_schema");
	}
	assert_int_equal(f.calls, 1);

	f.status = SCHEMA_LOOKUP_NOT_FOUND;
	m.n = 0;
	put_frame(&m, 6);
	put_canonical(&m, "ev-later");
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
	assert_string_equal(res.reason, "unknown_schema_id");
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
	assert_int_equal(f.calls, 2);

	/* Registered meanwhile: found after the retry time. */
	f.status = SCHEMA_LOOKUP_FOUND;
	f.schema = schema_advocacy_event;
	nanosleep(&(struct timespec){1, 100000000}, NULL);
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
	assert_int_equal(f.calls, 3);
	decode_avro_free(d);
}

/* A failing source: dead-lettered, and not asked again during the pause. */
static void test_failed_lookup_pauses_the_source(void **state)
{
	fake_source f = {SCHEMA_LOOKUP_FAILED, NULL, 0};
	decode_avro *d = fake_decoder(&f, 60000);
	event ev;
	decode_result res;

	for (int32_t id = 1; id <= 5; id++) {
		datum m = {0};
		put_frame(&m, id);
		put_canonical(&m, "ev-pause");
		assert_int_equal(decode(d, &m, &ev, &res), DECODE_INVALID);
		assert_string_equal(res.reason, "schema_registry_unavailable");
	}
	assert_int_equal(f.calls, 1);
	decode_avro_free(d);
}

/* Without a lookup every id is canonical, as before schema ids were resolved. */
static void test_without_lookup_every_id_is_canonical(void **state)
{
	char err[160];
	decode_avro *d = decode_avro_new(err, sizeof(err));
	datum m = {0};
	event ev;
	decode_result res;

	put_frame(&m, 104);
	put_canonical(&m, "ev-any-id");
	assert_int_equal(decode(d, &m, &ev, &res), DECODE_OK);
	assert_int_equal(decode_avro_last_schema_id(d), 104);
	decode_avro_free(d);
}

/* ----------------------------------------------------------------------------
 * Hostile datums on the resolved path
 * ------------------------------------------------------------------------- */

static void expect_invalid(decode_avro *d, const datum *m, const char *reason)
{
	event ev;
	decode_result res;

	assert_int_equal(decode(d, m, &ev, &res), DECODE_INVALID);
	if (strcmp(res.reason, reason) != 0)
		fail_msg("expected %s, got %s (%s)", reason, res.reason, res.detail);
}

static void test_hostile_datums_are_rejected(void **state)
{
	decode_avro *d = dir_decoder();
	datum m = {0};

	/* A string declaring 1 TiB in a 20-byte message: no allocation of it. */
	put_frame(&m, 102);
	put_long(&m, 1LL << 40);
	put_str(&m, "rest");
	expect_invalid(d, &m, "invalid_avro");

	/* Truncated inside event_time. */
	m.n = 0;
	put_frame(&m, 102);
	put_str(&m, "ev-1");
	put_byte(&m, 0x80);
	expect_invalid(d, &m, "invalid_avro");

	/* A complete datum followed by a byte. */
	m.n = 0;
	put_frame(&m, 102);
	put_str(&m, "ev-1"), put_long(&m, T0), put_str(&m, "s"), put_str(&m, "k"), put_str(&m, "a");
	put_byte(&m, 7);
	expect_invalid(d, &m, "trailing_bytes");

	/* Union index 2 of ["null", "string"]. */
	m.n = 0;
	put_frame(&m, 103);
	put_str(&m, "ev-1"), put_long(&m, 5), put_long(&m, 2);
	expect_invalid(d, &m, "invalid_avro");

	/* Millions of empty map entries in the ignored locale field. */
	m.n = 0;
	put_frame(&m, 101);
	put_str(&m, "k"), put_str(&m, "ev-1"), put_long(&m, 0), put_long(&m, T0), put_str(&m, "s");
	put_long(&m, 0), put_long(&m, 0), put_long(&m, 0), put_long(&m, 0), put_long(&m, 0);
	put_long(&m, 5000000);
	expect_invalid(d, &m, "invalid_avro");

	/* 17 targets: the canonical limit holds on this path too. */
	m.n = 0;
	put_frame(&m, 103);
	put_str(&m, "ev-1"), put_long(&m, 5), put_long(&m, 0), put_str(&m, "k"), put_long(&m, 0);
	put_long(&m, 17);
	for (int i = 0; i < 17; i++)
		put_str(&m, "E-1");
	put_long(&m, 0);
	expect_invalid(d, &m, "too_many_targets");

	/* A 257-byte id. */
	char id[258];
	memset(id, 'x', 257);
	id[257] = '\0';
	m.n = 0;
	put_frame(&m, 102);
	put_str(&m, id), put_long(&m, T0), put_str(&m, "s"), put_str(&m, "k"), put_str(&m, "a");
	expect_invalid(d, &m, "id_too_long");

	/* The value checks of the canonical path apply: an empty kind. */
	m.n = 0;
	put_frame(&m, 102);
	put_str(&m, "ev-1"), put_long(&m, T0), put_str(&m, "s"), put_str(&m, ""), put_str(&m, "a");
	expect_invalid(d, &m, "missing_kind");
	decode_avro_free(d);
}

/* The folder lookup: found, missing. */
static void test_dir_lookup(void **state)
{
	char *json = NULL, detail[160];

	assert_int_equal(schema_dir_lookup((void *)schemas_dir(), 101, &json, detail, sizeof(detail)),
	                 SCHEMA_LOOKUP_FOUND);
	assert_non_null(strstr(json, "team_size"));
	free(json);
	json = NULL;
	assert_int_equal(schema_dir_lookup((void *)schemas_dir(), 4242, &json, detail,
	                                   sizeof(detail)),
	                 SCHEMA_LOOKUP_NOT_FOUND);
	assert_null(json);
	assert_int_equal(schema_dir_lookup((void *)"/nonexistent-dir", 1, &json, detail,
	                                   sizeof(detail)),
	                 SCHEMA_LOOKUP_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_added_fields_with_defaults_are_ignored),
	    cmocka_unit_test(test_removed_fields_take_reader_defaults),
	    cmocka_unit_test(test_int_promoted_to_long),
	    cmocka_unit_test(test_incompatible_writers_are_dead_lettered),
	    cmocka_unit_test(test_invalid_and_unknown_ids),
	    cmocka_unit_test(test_canonical_id_is_looked_up_once),
	    cmocka_unit_test(test_decisions_are_cached),
	    cmocka_unit_test(test_failed_lookup_pauses_the_source),
	    cmocka_unit_test(test_without_lookup_every_id_is_canonical),
	    cmocka_unit_test(test_hostile_datums_are_rejected),
	    cmocka_unit_test(test_dir_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
