/*
 * test_pipeline_social.c - social-sharing messages through the whole
 * per-event path: consent from the roster, amounts from attributes.
 *
 * The config is loaded from YAML written to a temporary folder, the roster
 * gets records in the roster topic's JSON format, and each message goes
 * through pipeline_process(). The test then reads what the batch holds for
 * each behaviour at org scope in the 1d buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pipeline.h"

#define DAY_END 1772496000000 /* 2026-03-03T00:00:00Z */
#define NOW (DAY_END + 3600000)
#define GRAN_1D 2

enum { SHARED, CLICKS, REACH };

#define CONFIG_YAML                                                                                \
	"kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n"                                        \
	"  inputs: [{topic: social.events, format: social}]\n  roster_topic: roster\n"           \
	"privacy: {key_file: hmac.key, key_id: k1, min_group_size: 3}\n"                           \
	"behaviours:\n"                                                                            \
	"  content_shared:\n    rules:\n"                                                          \
	"      - {kinds: [content_shared_external], sources: [social],"                            \
	" requires_consent: external_sharing}\n"                                                   \
	"      - {kinds: [content_share_deleted], sources: [social],"                              \
	" requires_consent: external_sharing, effect: retract}\n"                                  \
	"  share_clicks:\n    rules:\n      - {kinds: [share_clicks],"                             \
	" requires_consent: external_sharing, amount_attribute: clicks, amount_max: 1000}\n"       \
	"  share_reach:\n    rules:\n      - {kinds: [share_reach], amount_attribute: reach}\n"    \
	"kpis:\n"                                                                                  \
	"  - {id: shares, behaviours: [content_shared], aggregation: count, window: 7d,"           \
	" quadrant: customer, indicator: leading, weight: 0.5, target: 10}\n"                      \
	"  - {id: clicks, behaviours: [share_clicks], aggregation: count, window: 7d,"             \
	" quadrant: customer, indicator: leading, weight: 0.25, target: 100}\n"                    \
	"  - {id: reach, behaviours: [share_reach], aggregation: count, window: 7d,"               \
	" quadrant: customer, indicator: leading, weight: 0.25, target: 1000}\n"

#define SHARE(emp, id, time)                                                                       \
	"{\"type\":\"share.created\",\"network\":\"linkedin\",\"employee_id\":\"" emp "\","        \
	"\"share\":{\"id\":\"" id "\",\"content_id\":\"cms:1\",\"created_at\":\"" time "\"}}"
#define STATS(emp, id, clicks, reach)                                                              \
	"{\"type\":\"share.statistics\",\"network\":\"linkedin\",\"employee_id\":\"" emp "\","     \
	"\"share\":{\"id\":\"" id "\"},"                                                           \
	"\"timeRange\":{\"start\":1772409600000,\"end\":1772496000000},"                           \
	"\"statistics\":{\"clickCount\":" clicks ",\"impressionCount\":" reach "}}"

typedef struct fixture {
	char dir[256];
	config *cfg;
	privacy *privacy;
	roster *roster;
	window_clock *clock;
	pipeline *pipeline;
	window_batch *batch;
	dedup_batch *ids;
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

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	char path[400], err[1024];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/test_pipeline_social.XXXXXX",
		 tmp && tmp[0] ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	write_file(f->dir, "hmac.key",
		   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
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
	assert_true(f->roster && f->batch && f->ids);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char path[400];

	pipeline_free(f->pipeline);
	window_batch_free(f->batch);
	dedup_batch_free(f->ids);
	window_clock_free(f->clock);
	roster_free(f->roster);
	privacy_free(f->privacy);
	config_free(f->cfg);
	snprintf(path, sizeof(path), "%s/hmac.key", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/config.yaml", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void roster_record(fixture *f, const char *employee, const char *json)
{
	char err[256];

	if (roster_apply_record(f->roster, f->privacy, employee, strlen(employee), json,
				json ? strlen(json) : 0, err, sizeof(err)) != 0)
		fail_msg("roster record of %s: %s", employee, err);
}

/* Processes one social message; returns its status, with the reason in *reason. */
static decode_status process(fixture *f, const char *msg, const char **reason)
{
	decode_result res;
	decode_status st = pipeline_process(f->pipeline, INPUT_FORMAT_SOCIAL, msg, strlen(msg), NOW,
					    f->batch, f->ids, &res);

	*reason = res.reason;
	return st;
}

static void expect(fixture *f, const char *msg, decode_status want, const char *reason)
{
	const char *got = NULL;
	decode_status st = process(f, msg, &got);

	if (st != want || (reason && (!got || strcmp(got, reason) != 0)))
		fail_msg("status %d reason %s, expected %d %s", (int)st, got ? got : "-", (int)want,
			 reason ? reason : "-");
}

/* The net count the batch holds for behaviour b at org scope, 1d buckets. */
static int64_t org_total(fixture *f, uint16_t b)
{
	int64_t total = 0;

	/* Counts need no window_batch_finish(), and the batch may take more credits after. */
	for (size_t i = 0; i < window_batch_cell_count(f->batch); i++) {
		const window_cell *c = window_batch_cell(f->batch, i);
		if (c->behaviour == b && c->scope == ROSTER_ORG_SCOPE && c->gran == GRAN_1D)
			total += c->count;
	}
	return total;
}

/* ------------------------------------------------------------------------ */

static void shares_count_only_with_consent(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":true}}");
	roster_record(f, "emp-2", "{\"team\":\"North\"}");
	expect(f, SHARE("emp-1", "s1", "2026-03-02T09:00:00Z"), DECODE_OK, NULL);
	expect(f, SHARE("emp-2", "s2", "2026-03-02T09:00:00Z"), DECODE_IGNORED, "no_consent");
	/* Someone not in the roster has no consent on record either. */
	expect(f, SHARE("emp-9", "s9", "2026-03-02T09:00:00Z"), DECODE_IGNORED, "no_consent");
	assert_int_equal(org_total(f, SHARED), 1);
}

static void clicks_and_reach_are_summed(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":true}}");
	expect(f, STATS("emp-1", "s1", "37", "1284"), DECODE_OK, NULL);
	expect(f, STATS("emp-1", "s2", "5", "1.1e2"), DECODE_OK, NULL);
	assert_int_equal(org_total(f, CLICKS), 42);
	assert_int_equal(org_total(f, REACH), 1394);

	/* The platform sends a report again: it counts once. */
	expect(f, STATS("emp-1", "s1", "37", "1284"), DECODE_IGNORED, "duplicate_event");
	assert_int_equal(org_total(f, CLICKS), 42);
	assert_int_equal(org_total(f, REACH), 1394);
}

static void reach_without_consent_rule_counts_for_anyone(void **state)
{
	fixture *f = *state;

	/* share_reach's rule needs no consent, but share_clicks's does. */
	roster_record(f, "emp-2", "{\"team\":\"North\"}");
	expect(f, STATS("emp-2", "s3", "9", "300"), DECODE_OK, NULL);
	assert_int_equal(org_total(f, CLICKS), 0);
	assert_int_equal(org_total(f, REACH), 300);
	size_t n;
	const pipeline_outcome *others = pipeline_other_outcomes(f->pipeline, &n);
	assert_int_equal(n, 1);
	assert_string_equal(others[0].reason, "no_consent");
}

static void withdrawal_stops_counting_from_then(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":true}}");
	expect(f, SHARE("emp-1", "s1", "2026-03-02T09:00:00Z"), DECODE_OK, NULL);
	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":false}}");
	/* Also a share made before the withdrawal but processed after it. */
	expect(f, SHARE("emp-1", "s2", "2026-03-02T08:00:00Z"), DECODE_IGNORED, "no_consent");
	expect(f, STATS("emp-1", "s1", "10", "20"), DECODE_OK, NULL); /* reach only */
	assert_int_equal(org_total(f, SHARED), 1);
	assert_int_equal(org_total(f, CLICKS), 0);
	assert_int_equal(org_total(f, REACH), 20);

	/* Opting in again counts from the time given, never before. */
	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":"
				  "{\"given\":true,\"since\":\"2026-03-02T12:00:00Z\"}}}");
	expect(f, SHARE("emp-1", "s3", "2026-03-02T11:59:59Z"), DECODE_IGNORED, "no_consent");
	expect(f, SHARE("emp-1", "s4", "2026-03-02T12:00:00Z"), DECODE_OK, NULL);
	assert_int_equal(org_total(f, SHARED), 2);
}

static void too_large_amount_is_dead_lettered(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":true}}");
	/* 1001 clicks is more than the rule's amount_max: the whole report is invalid. */
	expect(f, STATS("emp-1", "s1", "1001", "20"), DECODE_INVALID, "invalid_amount");
	assert_int_equal(org_total(f, CLICKS), 0);
	assert_int_equal(org_total(f, REACH), 20); /* its own event, counted before */
	expect(f, STATS("emp-1", "s2", "0", "0"), DECODE_IGNORED, "zero_amount");
}

static void deletion_retracts_the_share(void **state)
{
	fixture *f = *state;

	roster_record(f, "emp-1", "{\"team\":\"North\",\"consent\":{\"external_sharing\":true}}");
	expect(f, SHARE("emp-1", "s1", "2026-03-02T09:00:00Z"), DECODE_OK, NULL);
	expect(f,
	       "{\"type\":\"share.deleted\",\"network\":\"linkedin\",\"employee_id\":\"emp-1\","
	       "\"occurred_at\":\"2026-03-02T10:00:00Z\",\"share\":{\"id\":\"s1\"}}",
	       DECODE_OK, NULL);
	assert_int_equal(org_total(f, SHARED), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(shares_count_only_with_consent),
	    T(clicks_and_reach_are_summed),
	    T(reach_without_consent_rule_counts_for_anyone),
	    T(withdrawal_stops_counting_from_then),
	    T(too_large_amount_is_dead_lettered),
	    T(deletion_retracts_the_share),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
