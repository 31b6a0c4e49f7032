/*
 * test_kpi_caps.c - daily caps: decisions, priors across batches, the
 * per-event path, the capped_share figure and the config checks.
 *
 * The pipeline tests load a config with windows.timezone Europe/Berlin
 * (UTC+1 in March 2026) and one behaviour, content_shared, with daily_cap 3.
 * Social-sharing messages go through pipeline_process_capped(), and the
 * test reads the counted and capped cells at org scope in 1d buckets.
 * privacy.min_group_size is 3, the least the loader accepts. These cells
 * come before suppression, so the roster's size does not matter here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps.h"
#include "kpi.h"
#include "pipeline.h"

#define NOW 1772582400000 /* 2026-03-04T00:00:00Z */
#define GRAN_1D 2
#define CAP 3
/* Local days in Berlin: 2026-03-02 starts 2026-03-01T23:00Z, 03-03 at 03-02T23:00Z. */
#define BERLIN_MAR_02 1772406000000
#define BERLIN_MAR_03 1772492400000

#define CONFIG_HEAD                                                                                \
	"kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n"                                        \
	"  inputs: [{topic: social.events, format: social}]\n  roster_topic: roster\n"           \
	"privacy: {key_file: hmac.key, key_id: k1, min_group_size: 3}\n"                           \
	"windows: {granularities: [5m, 1h, 1d], timezone: Europe/Berlin}\n"

#define CONFIG_YAML                                                                                \
	CONFIG_HEAD                                                                                \
	"behaviours:\n"                                                                            \
	"  content_shared:\n    daily_cap: 3\n    rules:\n"                                        \
	"      - {kinds: [content_shared_external], sources: [social]}\n"                          \
	"      - {kinds: [content_share_deleted], sources: [social], effect: retract}\n"           \
	"  share_reach:\n    rules:\n      - {kinds: [share_reach], amount_attribute: reach}\n"    \
	"kpis:\n"                                                                                  \
	"  - {id: shares, behaviours: [content_shared], aggregation: count, window: 7d,"           \
	" quadrant: customer, indicator: leading, weight: 0.5, target: 10}\n"                      \
	"  - {id: capped, behaviours: [content_shared], aggregation: capped_share, window: 7d,"    \
	" quadrant: internal_process, indicator: leading, weight: 0.5, target: 0}\n"

#define SHARE(emp, id, time)                                                                       \
	"{\"type\":\"share.created\",\"network\":\"linkedin\",\"employee_id\":\"" emp "\","        \
	"\"share\":{\"id\":\"" id "\",\"content_id\":\"cms:1\",\"created_at\":\"" time "\"}}"
#define UNSHARE(emp, id, time)                                                                     \
	"{\"type\":\"share.deleted\",\"network\":\"linkedin\",\"employee_id\":\"" emp "\","        \
	"\"occurred_at\":\"" time "\",\"share\":{\"id\":\"" id "\"}}"

/* cmocka 1.1 compares floats only in single precision. */
static void assert_near(double got, double want)
{
	if (fabs(got - want) > 1e-12)
		fail_msg("%.17g, expected %.17g", got, want);
}

/* ------------------------------------------------------------------------ */
/* caps.h on its own                                                        */

static caps_key key_of(uint8_t person, int64_t day_start_ms)
{
	caps_key k;

	memset(&k, 0, sizeof(k));
	memset(k.person.bytes, person, sizeof(k.person.bytes));
	k.day_start_ms = day_start_ms;
	k.behaviour = 0;
	return k;
}

/* Decides n credits of k; returns how many counted. */
static int credit_n(caps *c, caps_batch *b, const caps_key *k, int n)
{
	int counted = 0;

	for (int i = 0; i < n; i++) {
		int r = caps_credit(c, b, k, BERLIN_MAR_03, CAP);
		assert_true(r == 0 || r == 1);
		counted += r;
	}
	return counted;
}

static void batch_counts_first_cap_credits(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *b = caps_batch_new();
	caps_key a = key_of(1, BERLIN_MAR_02), other = key_of(2, BERLIN_MAR_02);

	(void)state;
	/* Credits 1 to 3 of a count, 4 and 5 are capped; other's 2 count. */
	assert_int_equal(caps_credit(c, b, &a, BERLIN_MAR_03, CAP), 1);
	assert_int_equal(credit_n(c, b, &a, 2), 2);
	assert_int_equal(caps_credit(c, b, &a, BERLIN_MAR_03, CAP), 0);
	assert_int_equal(caps_credit(c, b, &a, BERLIN_MAR_03, CAP), 0);
	assert_int_equal(credit_n(c, b, &other, 2), 2);

	assert_int_equal(caps_batch_count(b), 2);
	const caps_entry *e = caps_batch_find(b, &a);
	assert_non_null(e);
	assert_int_equal(e->prior, 0);
	assert_int_equal(e->credits, 5);
	assert_int_equal(e->counted, 3);
	assert_int_equal(e->cap, CAP);
	assert_int_equal(e->day_end_ms, BERLIN_MAR_03);
	e = caps_batch_find(b, &other);
	assert_int_equal(e->credits, 2);
	assert_int_equal(e->counted, 2);

	/* The same person on another day is another key. */
	caps_key next_day = key_of(1, BERLIN_MAR_03);
	assert_null(caps_batch_find(b, &next_day));
	assert_int_equal(credit_n(c, b, &next_day, 3), 3);

	caps_batch_free(b);
	caps_free(c);
}

static void next_batch_builds_on_batch_in_flight(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *flight = caps_batch_new(), *fill = caps_batch_new();
	caps_key a = key_of(1, BERLIN_MAR_02);

	(void)state;
	assert_int_equal(credit_n(c, flight, &a, 2), 2);
	caps_set_in_flight(c, flight, NULL);
	/* 2 counted in flight: one more counts, then the cap is reached. */
	assert_int_equal(credit_n(c, fill, &a, 3), 1);
	assert_int_equal(caps_batch_find(fill, &a)->prior, 2);
	assert_int_equal(caps_batch_find(fill, &a)->counted, 1);

	caps_batch_free(flight);
	caps_batch_free(fill);
	caps_free(c);
}

/* With two batches in flight, the newer one's decision is the prior. */
static void next_batch_builds_on_newest_in_flight(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *older = caps_batch_new(), *newer = caps_batch_new();
	caps_batch *fill = caps_batch_new();
	caps_key a = key_of(1, BERLIN_MAR_02), b = key_of(2, BERLIN_MAR_02);

	(void)state;
	assert_int_equal(credit_n(c, older, &a, 1), 1);
	assert_int_equal(credit_n(c, older, &b, 2), 2);
	caps_set_in_flight(c, older, NULL);
	assert_int_equal(credit_n(c, newer, &a, 1), 1);
	caps_set_in_flight(c, older, newer);
	/* a: 1 in the older batch, 1 more in the newer; b: only in the older. */
	assert_int_equal(credit_n(c, fill, &a, 3), 1);
	assert_int_equal(caps_batch_find(fill, &a)->prior, 2);
	assert_int_equal(credit_n(c, fill, &b, 3), 1);
	assert_int_equal(caps_batch_find(fill, &b)->prior, 2);

	caps_batch_free(older);
	caps_batch_free(newer);
	caps_batch_free(fill);
	caps_free(c);
}

static void reported_value_becomes_prior(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *b = caps_batch_new();
	caps_key a = key_of(1, BERLIN_MAR_02), other = key_of(2, BERLIN_MAR_02);

	(void)state;
	assert_int_equal(credit_n(c, b, &other, 1), 1);
	assert_int_equal(credit_n(c, b, &a, 1), 1);
	/* Redis stores 3 for a (entry 1), written by another instance: rejected, read again. */
	assert_int_equal(caps_note_stored(c, b, 1, 3), 0);
	caps_batch_reset(b);
	assert_int_equal(credit_n(c, b, &other, 1), 1);
	assert_int_equal(credit_n(c, b, &a, 2), 0);
	assert_int_equal(caps_batch_find(b, &a)->prior, 3);
	assert_int_equal(caps_batch_find(b, &other)->prior, 0);

	/* An index past the batch is ignored. */
	assert_int_equal(caps_note_stored(c, b, 7, 1), 0);

	caps_batch_free(b);
	caps_free(c);
}

static void written_batch_values_are_cached(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *b = caps_batch_new();
	caps_key a = key_of(1, BERLIN_MAR_02), other = key_of(2, BERLIN_MAR_02);
	/* Redis stored 1 for other (entry 1) instead of 0: the decision (1 counted) is kept. */
	const int64_t drift[] = {1, 1};

	(void)state;
	assert_int_equal(credit_n(c, b, &a, 1), 1);
	assert_int_equal(credit_n(c, b, &other, 1), 1);
	caps_batch_written(c, b, drift, 1);
	caps_batch_reset(b);

	/* a: 1 stored, 2 more count; other: 1 + 1 stored, 1 more counts. */
	assert_int_equal(credit_n(c, b, &a, 3), 2);
	assert_int_equal(credit_n(c, b, &other, 3), 1);
	assert_int_equal(caps_batch_find(b, &a)->prior, 1);
	assert_int_equal(caps_batch_find(b, &other)->prior, 2);

	/* After a reload nothing is known: priors are 0 again. */
	caps_clear(c);
	caps_batch_reset(b);
	assert_int_equal(credit_n(c, b, &a, 1), 1);
	assert_int_equal(caps_batch_find(b, &a)->prior, 0);

	caps_batch_free(b);
	caps_free(c);
}

static void batch_grows_past_initial_capacity(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *b = caps_batch_new();

	(void)state;
	/* 1000 people, 4 credits each: 3 count, 1 is capped, whatever the table size. */
	for (int i = 0; i < 1000; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 4), 3);
	}
	assert_int_equal(caps_batch_count(b), 1000);
	for (int i = 0; i < 1000; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		const caps_entry *e = caps_batch_find(b, &k);
		assert_non_null(e);
		assert_int_equal(e->credits, 4);
		assert_int_equal(e->counted, 3);
	}
	caps_batch_free(b);
	caps_free(c);
}

/* 20,000 people written with 2 credits each: the next batch takes 2 as every prior. */
static void cache_keeps_written_values(void **state)
{
	caps *c = caps_new(CAPS_CACHE_SLOTS);
	caps_batch *b = caps_batch_new();
	int misses = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 2), 2);
	}
	caps_batch_written(c, b, NULL, 0);
	caps_batch_reset(b);
	for (int i = 0; i < 20000; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 2), 1);
		misses += caps_batch_find(b, &k)->prior != 2;
	}
	assert_int_equal(misses, 0);
	caps_batch_free(b);
	caps_free(c);
}

/* A grown cache keeps its values, so 200 people with 2 credits each still read 2. */
static void grown_cache_keeps_values(void **state)
{
	caps *c = caps_new(1024);
	caps_batch *b = caps_batch_new();

	(void)state;
	for (int i = 0; i < 200; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 2), 2);
	}
	caps_batch_written(c, b, NULL, 0);
	caps_batch_reset(b);
	assert_int_equal(caps_grow(c, 65536), 0);
	assert_int_equal(caps_cache_slots(c), 65536);
	/* Growing to a smaller size changes nothing. */
	assert_int_equal(caps_grow(c, 100), 0);
	assert_int_equal(caps_cache_slots(c), 65536);
	for (int i = 0; i < 200; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 2), 1);
		assert_int_equal(caps_batch_find(b, &k)->prior, 2);
	}
	caps_batch_free(b);
	caps_free(c);
}

/*
 * With one set of ways (16), values pushed out read as 0 but reported values
 * stay exact. Twice as many keys as ways, so that some are pushed out.
 */
static void small_cache_only_misses(void **state)
{
	caps *c = caps_new(1);
	caps_batch *b = caps_batch_new();
	int known = 0;

	(void)state;
	for (int i = 0; i < 32; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 2), 2);
	}
	caps_batch_written(c, b, NULL, 0);
	caps_batch_reset(b);
	for (int i = 0; i < 32; i++) {
		caps_key k = key_of(0, BERLIN_MAR_02);
		memcpy(k.person.bytes, &i, sizeof(i));
		assert_int_equal(credit_n(c, b, &k, 1), 1);
		int32_t prior = caps_batch_find(b, &k)->prior;
		assert_true(prior == 2 || prior == 0);
		known += prior == 2;
	}
	assert_in_range(known, 1, 16);

	/* Redis rejects the batch and reports 2 for entry 5. Read again, the batch caps it. */
	caps_key five = key_of(0, BERLIN_MAR_02);
	int five_index = 5;
	memcpy(five.person.bytes, &five_index, sizeof(five_index));
	assert_int_equal(caps_note_stored(c, b, 5, 2), 0);
	caps_batch_reset(b);
	assert_int_equal(credit_n(c, b, &five, 2), 1);
	assert_int_equal(caps_batch_find(b, &five)->prior, 2);

	/* A resize clears every value, as caps_clear() does. */
	assert_int_equal(caps_resize(c, CAPS_CACHE_SLOTS), 0);
	caps_batch_reset(b);
	assert_int_equal(credit_n(c, b, &five, 1), 1);
	assert_int_equal(caps_batch_find(b, &five)->prior, 0);

	caps_batch_free(b);
	caps_free(c);
}

/* ------------------------------------------------------------------------ */
/* The per-event path                                                       */

typedef struct fixture {
	char dir[256];
	config *cfg;
	privacy *privacy;
	roster *roster;
	window_clock *clock;
	pipeline *pipeline;
	window_batch *batch;
	dedup_batch *ids;
	caps_batch *caps;
} fixture;

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *dir, const char *name)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static char *make_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = malloc(256);

	assert_non_null(dir);
	snprintf(dir, 256, "%s/test_kpi_caps.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	write_file(dir, "hmac.key",
		   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
	return dir;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char path[400], err[1024];
	char *dir = make_dir();

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	free(dir);
	write_file(f->dir, "config.yaml", CONFIG_YAML);
	snprintf(path, sizeof(path), "%s/config.yaml", f->dir);
	if (config_load(path, &f->cfg, err, sizeof(err)) < 0)
		fail_msg("config: %s", err);
	snprintf(path, sizeof(path), "%s/hmac.key", f->dir);
	assert_int_equal(privacy_new(path, "k1", 0, &f->privacy, err, sizeof(err)), 0);
	f->roster = roster_new();
	f->clock = window_clock_new(f->cfg, err, sizeof(err));
	assert_non_null(f->clock);
	f->pipeline = pipeline_new(f->cfg, f->privacy, f->roster, f->clock, err, sizeof(err));
	assert_non_null(f->pipeline);
	f->batch = window_batch_new();
	f->ids = dedup_batch_new();
	f->caps = caps_batch_new();
	assert_true(f->roster && f->batch && f->ids && f->caps);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	pipeline_free(f->pipeline);
	window_batch_free(f->batch);
	dedup_batch_free(f->ids);
	caps_batch_free(f->caps);
	window_clock_free(f->clock);
	roster_free(f->roster);
	privacy_free(f->privacy);
	config_free(f->cfg);
	remove_file(f->dir, "hmac.key");
	remove_file(f->dir, "config.yaml");
	rmdir(f->dir);
	free(f);
	return 0;
}

static void roster_record(fixture *f, const char *employee, const char *json)
{
	char err[256];

	if (roster_apply_record(f->roster, f->privacy, employee, strlen(employee), json,
				strlen(json), err, sizeof(err)) != 0)
		fail_msg("roster record of %s: %s", employee, err);
}

static void expect_ok(fixture *f, const char *msg)
{
	decode_result res;
	decode_status st = pipeline_process_capped(f->pipeline, INPUT_FORMAT_SOCIAL, SIZE_MAX, msg,
						   strlen(msg), NOW, f->batch, f->ids, f->caps,
						   &res);

	if (st != DECODE_OK)
		fail_msg("status %d reason %s for %s", (int)st, res.reason ? res.reason : "-", msg);
}

/* The org-scope 1d cell of content_shared starting at day_start: counted or capped. */
static int64_t org_day(fixture *f, int64_t day_start, bool capped)
{
	int64_t total = 0;

	/* Counts need no window_batch_finish(), and the batch may take more credits after. */
	for (size_t i = 0; i < window_batch_cell_count(f->batch); i++) {
		const window_cell *c = window_batch_cell(f->batch, i);
		if (c->behaviour == 0 && c->scope == ROSTER_ORG_SCOPE && c->gran == GRAN_1D &&
		    c->bucket_start_ms == day_start && c->capped == capped)
			total += c->count;
	}
	return total;
}

/*
 * The crafted day: emp-1 shares 5 times on Berlin's 2026-03-02 (the last at
 * 22:30Z, 23:30 local), emp-2 3 times. emp-1 shares twice more on 03-03,
 * the first at 23:30Z on 03-02, which is 00:30 local on 03-03.
 * Counted on 03-02: emp-1 3 (cap) + emp-2 3 = 6; capped: emp-1's last 2.
 * Counted on 03-03: emp-1's 2; capped none.
 */
static void pipeline_caps_per_local_day(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\"}");
	roster_record(f, "emp-2", "{\"team\":\"North\"}");
	expect_ok(f, SHARE("emp-1", "a1", "2026-03-02T08:00:00Z"));
	expect_ok(f, SHARE("emp-2", "b1", "2026-03-02T08:30:00Z"));
	expect_ok(f, SHARE("emp-1", "a2", "2026-03-02T09:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a3", "2026-03-02T10:00:00Z"));
	expect_ok(f, SHARE("emp-2", "b2", "2026-03-02T11:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a4", "2026-03-02T12:00:00Z"));
	expect_ok(f, SHARE("emp-2", "b3", "2026-03-02T13:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a5", "2026-03-02T22:30:00Z"));
	expect_ok(f, SHARE("emp-1", "a6", "2026-03-02T23:30:00Z"));
	expect_ok(f, SHARE("emp-1", "a7", "2026-03-03T09:00:00Z"));

	assert_int_equal(org_day(f, BERLIN_MAR_02, false), 6);
	assert_int_equal(org_day(f, BERLIN_MAR_02, true), 2);
	assert_int_equal(org_day(f, BERLIN_MAR_03, false), 2);
	assert_int_equal(org_day(f, BERLIN_MAR_03, true), 0);
	assert_int_equal(pipeline_get_stats(f->pipeline)->capped, 2);

	/* Three keys: (emp-1, 03-02), (emp-2, 03-02), (emp-1, 03-03). */
	assert_int_equal(caps_batch_count(f->caps), 3);
	const caps_entry *e = caps_batch_entries(f->caps);
	assert_int_equal(e[0].key.day_start_ms, BERLIN_MAR_02);
	assert_int_equal(e[0].credits, 5);
	assert_int_equal(e[0].counted, 3);
	assert_int_equal(e[1].credits, 3);
	assert_int_equal(e[1].counted, 3);
	assert_int_equal(e[2].key.day_start_ms, BERLIN_MAR_03);
	assert_int_equal(e[2].day_end_ms, BERLIN_MAR_03 + 86400000);
	assert_int_equal(e[2].counted, 2);
}

/*
 * Retractions are not capped and free no room: emp-1 shares 4 times (3
 * counted, 1 capped), deletes one share (count 2), then shares again: still
 * capped, as 4 credits were taken that day.
 */
static void retraction_frees_no_room(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\"}");
	expect_ok(f, SHARE("emp-1", "a1", "2026-03-02T08:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a2", "2026-03-02T09:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a3", "2026-03-02T10:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a4", "2026-03-02T11:00:00Z"));
	expect_ok(f, UNSHARE("emp-1", "a1", "2026-03-02T12:00:00Z"));
	expect_ok(f, SHARE("emp-1", "a5", "2026-03-02T13:00:00Z"));

	assert_int_equal(org_day(f, BERLIN_MAR_02, false), 2);
	assert_int_equal(org_day(f, BERLIN_MAR_02, true), 2);
	assert_int_equal(caps_batch_entries(f->caps)[0].credits, 5);
	assert_int_equal(caps_batch_entries(f->caps)[0].counted, 3);
}

/* Without a caps batch (the older entry points) every credit counts. */
static void plain_process_applies_no_cap(void **state)
{
	fixture *f = *state;
	decode_result res;
	const char *msgs[] = {
	    SHARE("emp-1", "a1", "2026-03-02T08:00:00Z"), SHARE("emp-1", "a2", "2026-03-02T09:00:00Z"),
	    SHARE("emp-1", "a3", "2026-03-02T10:00:00Z"), SHARE("emp-1", "a4", "2026-03-02T11:00:00Z"),
	};

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(pipeline_process(f->pipeline, INPUT_FORMAT_SOCIAL, msgs[i],
						  strlen(msgs[i]), NOW, f->batch, f->ids, &res),
				 DECODE_OK);
	assert_int_equal(org_day(f, BERLIN_MAR_02, false), 4);
	assert_int_equal(org_day(f, BERLIN_MAR_02, true), 0);
}

/* ------------------------------------------------------------------------ */
/* capped_share                                                             */

/*
 * The 7d window of the crafted day at org: net count 6 + 2 = 8 (03-02 and
 * 03-03), capped 2: 2 / (8 + 2) = 0.2. A scope without capped credits is 0,
 * and one with neither is 0 too.
 */
static void capped_share_of_scope(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(f->cfg);
	size_t window = f->cfg->kpis[1].window;

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, 3, NOW), 0);
	kpi_tick_add_count(t, window, 0, 0, 6);
	kpi_tick_add_count(t, window, 0, 0, 2);
	kpi_tick_add_capped(t, window, 0, 0, 2);
	kpi_tick_add_count(t, window, 0, 1, 5);
	assert_near(kpi_tick_capped_share(t, 1, 0), 0.2);
	assert_near(kpi_tick_capped_share(t, 1, 1), 0.0);
	assert_near(kpi_tick_capped_share(t, 1, 2), 0.0);
	/* Capped credits of another window do not count in this one. */
	kpi_tick_add_capped(t, window == 0 ? 1 : 0, 0, 1, 7);
	assert_near(kpi_tick_capped_share(t, 1, 1), 0.0);
	/* A new tick starts from zero. */
	assert_int_equal(kpi_tick_begin(t, 3, NOW), 0);
	assert_near(kpi_tick_capped_share(t, 1, 0), 0.0);
	kpi_tick_free(t);
}

/* ------------------------------------------------------------------------ */
/* Config checks                                                            */

static void expect_config_error(const char *yaml, const char *want)
{
	char *dir = make_dir();
	char path[400], err[1024];
	config *cfg = NULL;

	write_file(dir, "config.yaml", yaml);
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
	remove_file(dir, "config.yaml");
	remove_file(dir, "hmac.key");
	rmdir(dir);
	free(dir);
}

#define KPI_SHARES                                                                                 \
	"kpis:\n  - {id: shares, behaviours: [s], aggregation: count, window: 7d,"                 \
	" quadrant: customer, indicator: leading, weight: 1, target: 10}\n"

static void config_rejects_bad_caps(void **state)
{
	(void)state;
	expect_config_error(CONFIG_HEAD "behaviours:\n  s:\n    daily_cap: 0\n"
					"    rules: [{kinds: [x]}]\n" KPI_SHARES,
			    "behaviours.s.daily_cap: must be between 1 and 1000000, got 0");
	expect_config_error(CONFIG_HEAD "behaviours:\n  s:\n    daily_cap: 5\n"
					"    rules: [{kinds: [x]}, {kinds: [y], amount_attribute: n}]\n"
					KPI_SHARES,
			    "behaviours.s.daily_cap: caps credits per person and day, but rules[1] "
			    "credits the amount in 'n'");
	expect_config_error(CONFIG_HEAD "behaviours:\n  s:\n    rules: [{kinds: [x]}]\n"
					"kpis:\n  - {id: c, behaviours: [s], aggregation: capped_share,"
					" window: 7d, quadrant: customer, indicator: leading,"
					" weight: 1, target: 0}\n",
			    "kpis[0].behaviours[0]: aggregation capped_share needs behaviours with a "
			    "daily_cap, but behaviour 's' has none");
}

static void config_reads_daily_cap(void **state)
{
	fixture *f = *state;

	assert_int_equal(f->cfg->behaviours[0].daily_cap, 3);
	assert_int_equal(f->cfg->behaviours[1].daily_cap, 0);
	assert_int_equal(f->cfg->kpis[1].aggregation, KPI_AGG_CAPPED_SHARE);
	assert_string_equal(config_aggregation_name(KPI_AGG_CAPPED_SHARE), "capped_share");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(batch_counts_first_cap_credits),
	    cmocka_unit_test(next_batch_builds_on_batch_in_flight),
	    cmocka_unit_test(next_batch_builds_on_newest_in_flight),
	    cmocka_unit_test(reported_value_becomes_prior),
	    cmocka_unit_test(written_batch_values_are_cached),
	    cmocka_unit_test(batch_grows_past_initial_capacity),
	    cmocka_unit_test(cache_keeps_written_values),
	    cmocka_unit_test(small_cache_only_misses),
	    cmocka_unit_test(grown_cache_keeps_values),
	    T(pipeline_caps_per_local_day),
	    T(retraction_frees_no_room),
	    T(plain_process_applies_no_cap),
	    T(capped_share_of_scope),
	    cmocka_unit_test(config_rejects_bad_caps),
	    T(config_reads_daily_cap),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
