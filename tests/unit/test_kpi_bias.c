/*
 * test_kpi_bias.c - the bias audit: disparity ratios per (KPI, dimension),
 * the bias_audit config section, the generated "bias.<kpi>" rules in the
 * alert engine, and the record and escalation encodings.
 *
 * The config is inline YAML loaded with config_load, so the defaults and the
 * generated rules are the daemon's own. Updates are built by hand as
 * kpi_tick_emit would build them; every expected figure is worked out in the
 * comment above its check. privacy.min_group_size is 5 throughout, so
 * bias_audit.min_sample defaults to 5.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "alert.h"
#include "bias.h"
#include "config.h"
#include "encode.h"
#include "encode_bias.h"

/* cmocka 1.1 compares floats only in single precision; eps 0 requires the exact double. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)

static void assert_near_at(double a, double b, double eps, const char *file, int line)
{
	if (fabs(a - b) <= eps)
		return;
	print_error("%.17g is not within %g of %.17g\n", a, eps, b);
	_fail(file, line);
}

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
#define MAX_RECORDS 16
#define MAX_EVENTS 16

/* KPI indices of the YAML below. */
enum { K_RATE, K_COUNT, K_GIVERS, K_SHARE, K_SHARES, K_ENPS, K_OLD };

#define KAFKA                                                                                      \
	"kafka:\n"                                                                                 \
	"  bootstrap_servers: \"127.0.0.1:9092\"\n"                                                \
	"  inputs:\n"                                                                              \
	"    - topic: events\n"                                                                    \
	"  roster_topic: roster\n"
#define PRIVACY "privacy:\n  key_file: hmac.key\n  key_id: k1\n"
/* old_rate comes last and in block style, so that a test can append its thresholds. */
#define CATALOG                                                                                    \
	"behaviours:\n"                                                                            \
	"  kudos: {rules: [{kinds: [recognition]}]}\n"                                             \
	"  shares: {rules: [{kinds: [share_external]}]}\n"                                         \
	"  promoter: {rules: [{kinds: [enps_promoter]}]}\n"                                        \
	"  passive: {rules: [{kinds: [enps_passive]}]}\n"                                          \
	"  detractor: {rules: [{kinds: [enps_detractor]}]}\n"                                      \
	"kpis:\n"                                                                                  \
	"  - {id: kudos_rate, behaviours: [kudos], aggregation: rate, window: 7d,\n"               \
	"     quadrant: learning_growth, indicator: leading, weight: 0.2, target: 1,\n"            \
	"     name: Kudos rate}\n"                                                                 \
	"  - {id: kudos_count, behaviours: [kudos], aggregation: count, window: 7d,\n"             \
	"     quadrant: learning_growth, indicator: leading, weight: 0.2, target: 1}\n"            \
	"  - {id: kudos_givers, behaviours: [kudos], aggregation: contributors, window: 7d,\n"     \
	"     quadrant: learning_growth, indicator: leading, weight: 0.2, target: 1}\n"            \
	"  - {id: kudos_share, behaviours: [kudos], aggregation: participation, window: 7d,\n"     \
	"     quadrant: learning_growth, indicator: leading, weight: 0.2, target: 1}\n"            \
	"  - {id: shares_rate, behaviours: [shares], aggregation: rate, window: 7d,\n"             \
	"     quadrant: customer, indicator: leading, weight: 0.2, target: 1}\n"                   \
	"  - {id: enps, behaviours: [promoter, passive, detractor], aggregation: enps,\n"          \
	"     window: 7d, quadrant: learning_growth, indicator: lagging, weight: 0, target: 10}\n" \
	"  - id: old_rate\n"                                                                       \
	"    behaviours: [kudos]\n"                                                                \
	"    aggregation: rate\n"                                                                  \
	"    window: 7d\n"                                                                         \
	"    status: retired\n"                                                                    \
	"    quadrant: learning_growth\n"                                                          \
	"    indicator: leading\n"                                                                 \
	"    weight: 0\n"                                                                          \
	"    target: 1\n"
#define BASE KAFKA PRIVACY CATALOG

static char tmp_dir[256];
static char tmp_config[300];
static char tmp_key[300];
static char err[1024];

typedef struct fixture {
	config *cfg;
	bias_audit *audit;
	bias_record records[MAX_RECORDS];
	char lowest[MAX_RECORDS][64];
	char highest[MAX_RECORDS][64];
	size_t n_records;
	alert_event events[MAX_EVENTS];
	char dedup[MAX_EVENTS][96];
	size_t n_events;
} fixture;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	FILE *f;

	(void)state;
	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_kpi_bias.XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_config, sizeof tmp_config, "%s/config.yaml", tmp_dir);
	snprintf(tmp_key, sizeof tmp_key, "%s/hmac.key", tmp_dir);
	f = fopen(tmp_key, "w");
	if (!f)
		return -1;
	fputs(KEY_HEX, f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(tmp_config);
	unlink(tmp_key);
	rmdir(tmp_dir);
	return 0;
}

static int load_text(const char *yaml, config **out)
{
	FILE *f = fopen(tmp_config, "w");

	assert_non_null(f);
	assert_true(fputs(yaml, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return config_load(tmp_config, out, err, sizeof err);
}

/* Loads yaml, a whole config, into a fresh fixture. */
static fixture *fixture_load_text(const char *yaml)
{
	fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	if (load_text(yaml, &f->cfg) != 0)
		fail_msg("expected the config to load, got: %s", err);
	f->audit = bias_audit_new(f->cfg);
	assert_non_null(f->audit);
	return f;
}

/* Loads BASE followed by extra (more sections, or nothing) into a fresh fixture. */
static fixture *fixture_load(const char *extra)
{
	char yaml[8192];

	snprintf(yaml, sizeof yaml, "%s%s", BASE, extra);
	return fixture_load_text(yaml);
}

static void fixture_free(fixture *f)
{
	bias_audit_free(f->audit);
	config_free(f->cfg);
	free(f);
}

/* Fails unless loading BASE + extra fails with both needles in the message. */
static void assert_load_error(const char *extra, const char *where, const char *what)
{
	char yaml[8192];
	config *cfg = NULL;

	snprintf(yaml, sizeof yaml, "%s%s", BASE, extra);
	assert_int_equal(load_text(yaml, &cfg), -1);
	assert_null(cfg);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("expected '%s' and '%s' in the error, got: %s", where, what, err);
}

/*
 * Returns the update kpi_tick_emit would send for one segment: value per the
 * KPI's aggregation (enps_score for eNPS), rate count / headcount.
 */
static kpi_update segment(const fixture *f, size_t kpi, scope_kind kind, const char *scope,
			  uint32_t headcount, int64_t count, int64_t contributors, double enps_score)
{
	const config_kpi *k = &f->cfg->kpis[kpi];
	kpi_update u = {
	    .kpi = k,
	    .scope = scope,
	    .scope_kind = kind,
	    .window = "7d",
	    .count = count,
	    .contributors = contributors,
	    .headcount = headcount,
	    .window_start_ms = 1000,
	    .window_end_ms = 2000,
	    .computed_at_ms = 3000,
	};

	u.value = kpi_value(k->aggregation, count, contributors, headcount);
	if (k->aggregation == KPI_AGG_ENPS)
		u.value = enps_score;
	u.rate = kpi_value(KPI_AGG_RATE, count, contributors, headcount);
	return u;
}

static void work_mode(fixture *f, size_t kpi, const char *scope, uint32_t headcount,
		      int64_t count, int64_t contributors)
{
	kpi_update u = segment(f, kpi, SCOPE_WORK_MODE, scope, headcount, count, contributors, 0);

	bias_audit_observe(f->audit, &u);
}

static void record_cb(const bias_record *r, void *opaque)
{
	fixture *f = opaque;
	size_t i = f->n_records++;

	assert_true(i < MAX_RECORDS);
	f->records[i] = *r;
	/* The names are borrowed for the tick only: keep copies. */
	snprintf(f->lowest[i], sizeof f->lowest[i], "%s", r->lowest_segment);
	snprintf(f->highest[i], sizeof f->highest[i], "%s", r->highest_segment);
}

static void end_tick(fixture *f)
{
	size_t emitted;

	f->n_records = 0;
	emitted = bias_audit_end(f->audit, record_cb, f);
	assert_int_equal(emitted, f->n_records);
}

/* The record of (kpi, dimension) this tick; fails when there is none. */
static const bias_record *record_of(const fixture *f, size_t kpi, scope_kind dimension,
				    size_t *index)
{
	for (size_t i = 0; i < f->n_records; i++)
		if (f->records[i].kpi == &f->cfg->kpis[kpi] && f->records[i].dimension == dimension) {
			if (index)
				*index = i;
			return &f->records[i];
		}
	fail_msg("no record for KPI %s, dimension %s", f->cfg->kpis[kpi].id,
		 config_scope_kind_name(dimension));
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Ratios                                                                    */

/*
 * kudos_rate by work_mode: onsite 10 kudos / 10 people = 1.0, hybrid 4 / 5
 * = 0.8, remote 4 / 8 = 0.5, field (4 people) suppressed. Ratio 0.5 / 1.0
 * = 0.5 < 0.8: remote is flagged against onsite, 3 compared, 1 excluded.
 */
static void test_rate_remote_flagged(void **state)
{
	fixture *f = fixture_load("");
	kpi_update field = segment(f, K_RATE, SCOPE_WORK_MODE, "work_mode:field", 4, 0, 0, 0);
	size_t i;

	(void)state;
	field.suppressed = true;
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	work_mode(f, K_RATE, "work_mode:hybrid", 5, 4, 3);
	work_mode(f, K_RATE, "work_mode:remote", 8, 4, 2);
	bias_audit_observe(f->audit, &field);
	end_tick(f);

	assert_int_equal(f->n_records, 1);
	const bias_record *r = record_of(f, K_RATE, SCOPE_WORK_MODE, &i);
	assert_near(r->ratio, 0.5, 1e-12);
	assert_true(r->below_threshold);
	assert_near(r->threshold, 0.8, 0);
	assert_int_equal(r->basis, BIAS_BASIS_VALUE);
	assert_string_equal(f->lowest[i], "work_mode:remote");
	assert_near(r->lowest_value, 0.5, 1e-12);
	assert_string_equal(f->highest[i], "work_mode:onsite");
	assert_near(r->highest_value, 1.0, 1e-12);
	assert_int_equal(r->segments_compared, 3);
	assert_int_equal(r->segments_excluded, 1);
	assert_int_equal(r->min_sample, 5);
	assert_string_equal(r->window, "7d");
	assert_int_equal(r->window_start_ms, 1000);
	assert_int_equal(r->window_end_ms, 2000);
	assert_int_equal(r->computed_at_ms, 3000);
	fixture_free(f);
}

/*
 * The four-fifths boundary: 12 / 15 = 0.8 against 15 / 15 = 1.0 gives
 * exactly 0.8, not below; 11 / 15 = 0.7333 gives 0.733333333, below.
 */
static void test_ratio_at_four_fifths_boundary(void **state)
{
	fixture *f = fixture_load("");

	(void)state;
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:remote", 15, 12, 9);
	work_mode(f, K_RATE, "work_mode:onsite", 15, 15, 9);
	end_tick(f);
	assert_near(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->ratio, 0.8, 0);
	assert_false(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->below_threshold);

	bias_audit_begin(f->audit, 4000);
	work_mode(f, K_RATE, "work_mode:remote", 15, 11, 9);
	work_mode(f, K_RATE, "work_mode:onsite", 15, 15, 9);
	end_tick(f);
	assert_near(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->ratio, 0.733333333, 0);
	assert_true(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->below_threshold);
	fixture_free(f);
}

/*
 * 1 kudos per 6 people against 5 per 24 is exactly 4/5, but (1/6) / (5/24)
 * in doubles is 0.7999999999999999. The ratio is rounded to 9 decimals, so
 * it is 0.8 and not flagged.
 */
static void test_ratio_rounding_keeps_boundary(void **state)
{
	fixture *f = fixture_load("");
	double naive = (1.0 / 6.0) / (5.0 / 24.0);

	(void)state;
	assert_true(naive < 0.8); /* the case this test is about */
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:remote", 6, 1, 1);
	work_mode(f, K_RATE, "work_mode:onsite", 24, 5, 5);
	end_tick(f);
	assert_near(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->ratio, 0.8, 0);
	assert_false(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->below_threshold);
	assert_near(bias_ratio(1.0 / 6.0, 5.0 / 24.0), 0.8, 0);
	fixture_free(f);
}

/*
 * min_sample 8: hybrid (5 people, 0 kudos, the lowest) is left out although
 * it reaches the minimum group size. remote 4 / 8 = 0.5 against onsite
 * 10 / 10 = 1.0 gives 0.5; without the rule hybrid's 0 would give 0.
 */
static void test_small_segments_left_out(void **state)
{
	fixture *f = fixture_load("bias_audit:\n  min_sample: 8\n");
	size_t i;

	(void)state;
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:hybrid", 5, 0, 0);
	work_mode(f, K_RATE, "work_mode:remote", 8, 4, 2);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	end_tick(f);

	const bias_record *r = record_of(f, K_RATE, SCOPE_WORK_MODE, &i);
	assert_near(r->ratio, 0.5, 1e-12);
	assert_string_equal(f->lowest[i], "work_mode:remote");
	assert_int_equal(r->segments_compared, 2);
	assert_int_equal(r->segments_excluded, 1);
	assert_int_equal(r->min_sample, 8);
	fixture_free(f);
}

/*
 * min_sample 3 with privacy.min_group_size 6 still compares no segment
 * under 6 people: hybrid (5 people, 0 kudos) is left out even when an
 * update for it arrives unsuppressed, and remote 3 / 6 = 0.5 is the lowest.
 */
static void test_min_sample_never_below_group_size(void **state)
{
	fixture *f = fixture_load_text(KAFKA PRIVACY "  min_group_size: 6\n" CATALOG
				       "bias_audit:\n  min_sample: 3\n");
	size_t i;

	(void)state;
	assert_int_equal(f->cfg->bias_audit.min_sample, 3);
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:hybrid", 5, 0, 0);
	work_mode(f, K_RATE, "work_mode:remote", 6, 3, 2);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	end_tick(f);

	const bias_record *r = record_of(f, K_RATE, SCOPE_WORK_MODE, &i);
	assert_int_equal(r->min_sample, 6);
	assert_string_equal(f->lowest[i], "work_mode:remote");
	assert_near(r->ratio, 0.5, 0);
	assert_int_equal(r->segments_compared, 2);
	assert_int_equal(r->segments_excluded, 1);
	fixture_free(f);
}

/*
 * Both segments at 0 are equal: ratio 1, not flagged. One segment alone
 * gives no record, and neither do two when one is too small.
 */
static void test_all_zero_and_single_segment(void **state)
{
	fixture *f = fixture_load("");

	(void)state;
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:remote", 8, 0, 0);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 0, 0);
	end_tick(f);
	assert_int_equal(f->n_records, 1);
	assert_near(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->ratio, 1.0, 0);
	assert_false(record_of(f, K_RATE, SCOPE_WORK_MODE, NULL)->below_threshold);

	bias_audit_begin(f->audit, 4000);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	work_mode(f, K_RATE, "work_mode:remote", 4, 0, 0); /* below min_sample 5 */
	end_tick(f);
	assert_int_equal(f->n_records, 0);
	fixture_free(f);
}

/*
 * count is compared per head: onsite 20 kudos / 10 people = 2.0, remote
 * 6 / 6 = 1.0, ratio 0.5 (raw counts would give 6 / 20 = 0.3). contributors
 * too: onsite 5 givers / 10 = 0.5, remote 3 / 6 = 0.5, ratio 1 (raw 3 / 5
 * = 0.6 would be flagged). participation is already per head: 5 / 10 and
 * 3 / 6 give 1.
 */
static void test_counts_compared_per_head(void **state)
{
	fixture *f = fixture_load("");
	const bias_record *r;

	(void)state;
	bias_audit_begin(f->audit, 3000);
	for (size_t k = K_COUNT; k <= K_SHARE; k++) {
		work_mode(f, k, "work_mode:onsite", 10, 20, 5);
		work_mode(f, k, "work_mode:remote", 6, 6, 3);
	}
	end_tick(f);
	assert_int_equal(f->n_records, 3);

	r = record_of(f, K_COUNT, SCOPE_WORK_MODE, NULL);
	assert_int_equal(r->basis, BIAS_BASIS_PER_HEAD);
	assert_near(r->lowest_value, 1.0, 1e-12);
	assert_near(r->highest_value, 2.0, 1e-12);
	assert_near(r->ratio, 0.5, 0);
	assert_true(r->below_threshold);

	r = record_of(f, K_GIVERS, SCOPE_WORK_MODE, NULL);
	assert_int_equal(r->basis, BIAS_BASIS_PER_HEAD);
	assert_near(r->ratio, 1.0, 0);
	assert_false(r->below_threshold);

	r = record_of(f, K_SHARE, SCOPE_WORK_MODE, NULL);
	assert_int_equal(r->basis, BIAS_BASIS_VALUE);
	assert_near(r->ratio, 1.0, 0);
	fixture_free(f);
}

/*
 * eNPS is mapped onto 0..1: onsite +40 -> 0.7, remote -20 -> 0.4, ratio
 * 0.4 / 0.7 = 0.571428571. hybrid (+100, 10 people but 4 respondents) is
 * left out, because the eNPS sample is the respondents.
 */
static void test_enps_scaled_and_respondents(void **state)
{
	fixture *f = fixture_load("");
	kpi_update u;
	size_t i;

	(void)state;
	bias_audit_begin(f->audit, 3000);
	u = segment(f, K_ENPS, SCOPE_WORK_MODE, "work_mode:onsite", 12, 10, 10, 40);
	bias_audit_observe(f->audit, &u);
	u = segment(f, K_ENPS, SCOPE_WORK_MODE, "work_mode:hybrid", 10, 4, 4, 100);
	bias_audit_observe(f->audit, &u);
	u = segment(f, K_ENPS, SCOPE_WORK_MODE, "work_mode:remote", 8, 6, 6, -20);
	bias_audit_observe(f->audit, &u);
	end_tick(f);

	const bias_record *r = record_of(f, K_ENPS, SCOPE_WORK_MODE, &i);
	assert_int_equal(r->basis, BIAS_BASIS_ENPS_SCALED);
	assert_near(r->lowest_value, 0.4, 1e-12);
	assert_near(r->highest_value, 0.7, 1e-12);
	assert_near(r->ratio, 0.571428571, 0);
	assert_string_equal(f->lowest[i], "work_mode:remote");
	assert_int_equal(r->segments_compared, 2);
	assert_int_equal(r->segments_excluded, 1);
	fixture_free(f);
}

/*
 * A count net of retractions below 0 counts as 0, the lowest possible
 * value: -3 kudos for 5 people against 5 for 5 gives 0 / 1 = 0.
 */
static void test_negative_count_is_zero(void **state)
{
	fixture *f = fixture_load("");

	(void)state;
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_COUNT, "work_mode:remote", 5, -3, 0);
	work_mode(f, K_COUNT, "work_mode:onsite", 5, 5, 2);
	end_tick(f);
	assert_near(record_of(f, K_COUNT, SCOPE_WORK_MODE, NULL)->lowest_value, 0, 0);
	assert_near(record_of(f, K_COUNT, SCOPE_WORK_MODE, NULL)->ratio, 0, 0);
	fixture_free(f);
}

/*
 * Only audited KPIs and the configured dimensions: departments are not a
 * dimension, shares_rate is excluded, old_rate is retired, and with
 * dimensions [region] work_mode is ignored too.
 */
static void test_scope_of_the_audit(void **state)
{
	fixture *f = fixture_load("bias_audit:\n  exclude_kpis: [shares_rate]\n"
				  "  dimensions: [region, employment_type]\n");
	kpi_update u;

	(void)state;
	bias_audit_begin(f->audit, 3000);
	for (size_t k = 0; k < f->cfg->n_kpis; k++) {
		if (k == K_ENPS)
			continue;
		work_mode(f, k, "work_mode:onsite", 10, 10, 5);
		work_mode(f, k, "work_mode:remote", 10, 1, 1);
		u = segment(f, k, SCOPE_DEPARTMENT, "department:Ops", 10, 10, 5, 0);
		bias_audit_observe(f->audit, &u);
		u = segment(f, k, SCOPE_DEPARTMENT, "department:Sales", 10, 1, 1, 0);
		bias_audit_observe(f->audit, &u);
		u = segment(f, k, SCOPE_REGION, "region:EMEA", 10, 10, 5, 0);
		bias_audit_observe(f->audit, &u);
		u = segment(f, k, SCOPE_REGION, "region:APAC", 10, 5, 5, 0);
		bias_audit_observe(f->audit, &u);
	}
	end_tick(f);

	/* kudos_rate, kudos_count, kudos_givers and kudos_share by region only. */
	assert_int_equal(f->n_records, 4);
	for (size_t i = 0; i < f->n_records; i++) {
		assert_int_equal(f->records[i].dimension, SCOPE_REGION);
		assert_true(f->records[i].kpi != &f->cfg->kpis[K_SHARES]);
		assert_true(f->records[i].kpi != &f->cfg->kpis[K_OLD]);
	}
	/* kudos_rate: APAC 5 / 10 = 0.5 against EMEA 1.0. */
	assert_near(record_of(f, K_RATE, SCOPE_REGION, NULL)->ratio, 0.5, 0);
	assert_null(config_bias_rule(f->cfg, &f->cfg->kpis[K_SHARES]));
	assert_null(config_bias_rule(f->cfg, &f->cfg->kpis[K_OLD]));
	assert_non_null(config_bias_rule(f->cfg, &f->cfg->kpis[K_RATE]));
	fixture_free(f);
}

/* ------------------------------------------------------------------------ */
/* Config                                                                    */

static void test_config_defaults(void **state)
{
	fixture *f = fixture_load("");
	const config_bias_audit *b = &f->cfg->bias_audit;
	const config_threshold *rule = config_bias_rule(f->cfg, &f->cfg->kpis[K_RATE]);

	(void)state;
	assert_true(b->enabled);
	assert_near(b->threshold, 0.8, 0);
	assert_near(b->resolve_threshold, 0.8, 0);
	assert_int_equal(b->min_sample, 5);
	assert_int_equal(b->dimensions, (1u << SCOPE_SEGMENT) | (1u << SCOPE_WORK_MODE) |
					    (1u << SCOPE_EMPLOYMENT_TYPE) | (1u << SCOPE_REGION));
	assert_string_equal(b->severity, "warning");
	assert_null(b->owner);
	assert_string_equal(b->route, "default");
	assert_int_equal(b->for_ticks, 1);
	assert_string_equal(f->cfg->outputs.bias.topic, "advocacy.bias");
	assert_int_equal(f->cfg->outputs.bias.format, OUTPUT_FORMAT_AVRO);
	assert_int_equal(f->cfg->outputs.bias.schema_id, 4);

	assert_non_null(rule);
	assert_string_equal(rule->id, "bias.kudos_rate");
	assert_int_equal(rule->condition, ALERT_COND_BIAS);
	assert_int_equal(rule->direction, THRESHOLD_BELOW);
	assert_near(rule->value, 0.8, 0);
	assert_int_equal(rule->scope_kinds, b->dimensions);
	assert_string_equal(config_alert_condition_name(rule->condition), "bias");
	/* The generated rules stay out of the KPI's own thresholds. */
	assert_int_equal(f->cfg->kpis[K_RATE].n_thresholds, 0);
	fixture_free(f);
}

static void test_config_custom_and_disabled(void **state)
{
	fixture *f = fixture_load("outputs:\n  bias: {topic: hr.bias, format: json}\n"
				  "bias_audit:\n  threshold: 0.75\n  resolve_threshold: 0.85\n"
				  "  severity: error\n  owner: HR analytics\n  for_ticks: 3\n"
				  "  keep_firing_for: 1m\n");
	const config_threshold *rule = config_bias_rule(f->cfg, &f->cfg->kpis[K_ENPS]);

	(void)state;
	assert_string_equal(f->cfg->outputs.bias.topic, "hr.bias");
	assert_int_equal(f->cfg->outputs.bias.format, OUTPUT_FORMAT_JSON);
	assert_non_null(rule);
	assert_near(rule->value, 0.75, 0);
	assert_near(rule->resolve_value, 0.85, 0);
	assert_string_equal(rule->severity, "error");
	assert_string_equal(rule->owner, "HR analytics");
	assert_string_equal(rule->route, "HR analytics");
	assert_int_equal(rule->for_ticks, 3);
	assert_int_equal(rule->keep_firing_for_ms, 60000);
	fixture_free(f);

	f = fixture_load("bias_audit:\n  enabled: false\n");
	assert_false(f->cfg->bias_audit.enabled);
	assert_null(config_bias_rule(f->cfg, &f->cfg->kpis[K_RATE]));
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	work_mode(f, K_RATE, "work_mode:remote", 8, 0, 0);
	end_tick(f);
	assert_int_equal(f->n_records, 0);
	fixture_free(f);
}

static void test_config_errors(void **state)
{
	(void)state;
	assert_load_error("bias_audit:\n  dimensions: [department]\n",
			  "bias_audit.dimensions[0]", "invalid dimension 'department'");
	assert_load_error("bias_audit:\n  exclude_kpis: [kudos]\n", "bias_audit.exclude_kpis[0]",
			  "unknown KPI 'kudos'");
	assert_load_error("bias_audit:\n  threshold: 1.2\n", "bias_audit.threshold",
			  "at most 1, got 1.2");
	assert_load_error("bias_audit:\n  threshold: 0.8\n  resolve_threshold: 0.7\n",
			  "bias_audit.resolve_threshold", "between threshold (0.8) and 1");
	assert_load_error("bias_audit:\n  min_sample: 2\n", "bias_audit.min_sample",
			  "between 3 and");
	assert_load_error("bias_audit:\n  owner: jane@example.com\n", "bias_audit.owner",
			  "e-mail");
	assert_load_error("bias_audit:\n  colour: red\n", "bias_audit", "colour");
	assert_load_error("outputs:\n  bias: {topic: events}\n", "outputs.bias.topic",
			  "also kafka.inputs[0].topic");
}

/* A hand-written rule may not take an id of the audit's namespace. */
static void test_config_reserved_rule_id(void **state)
{
	char yaml[8192];
	config *cfg = NULL;

	(void)state;
	snprintf(yaml, sizeof yaml, "%s%s", BASE,
		 "    thresholds: [{id: bias.mine, direction: below, value: 0.5}]\n");
	assert_int_equal(load_text(yaml, &cfg), -1);
	if (!strstr(err, "kpis[6].thresholds[0].id") || !strstr(err, "reserved"))
		fail_msg("unexpected error: %s", err);

	snprintf(yaml, sizeof yaml, "%s%s%s", BASE,
		 "    thresholds: [{id: bias.mine, direction: below, value: 0.5}]\n",
		 "bias_audit:\n  enabled: false\n");
	assert_int_equal(load_text(yaml, &cfg), 0);
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Escalations                                                               */

static void event_cb(const alert_event *e, void *opaque)
{
	fixture *f = opaque;
	size_t i = f->n_events++;

	assert_true(i < MAX_EVENTS);
	f->events[i] = *e;
	snprintf(f->dedup[i], sizeof f->dedup[i], "%s", e->dedup_key);
	f->events[i].dedup_key = f->dedup[i];
	/* Segment names and ids are only valid during the callback. */
	f->events[i].lowest_scope = NULL;
	f->events[i].highest_scope = NULL;
	f->events[i].id = NULL;
	if (e->state == ALERT_FIRING) {
		assert_string_equal(e->lowest_scope, "work_mode:remote");
		assert_string_equal(e->highest_scope, "work_mode:onsite");
	}
}

/* One tick: kudos_rate with remote at remote_kudos / 8 against onsite 10 / 10. */
static void alert_tick(fixture *f, alert_engine *a, int64_t now, int64_t remote_kudos)
{
	alert_tick_begin(a, now);
	bias_audit_begin(f->audit, now);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	work_mode(f, K_RATE, "work_mode:remote", 8, remote_kudos, 2);
	end_tick(f);
	for (size_t i = 0; i < f->n_records; i++)
		alert_observe_bias(a, &f->records[i]);
	f->n_events = 0;
	assert_int_equal(alert_tick_end(a, event_cb, f), 0);
}

/*
 * for_ticks 2, resolve_threshold 0.9: remote 4 / 8 = 0.5 for two ticks
 * fires once; 7 / 8 = 0.875 lies between 0.8 and 0.9 and keeps it firing;
 * 8 / 8 = 1.0 resolves it.
 */
static void test_bias_escalation_lifecycle(void **state)
{
	fixture *f = fixture_load("bias_audit:\n  for_ticks: 2\n  resolve_threshold: 0.9\n"
				  "  owner: HR\n");
	alert_engine *a = alert_new(f->cfg);

	(void)state;
	assert_non_null(a);
	alert_tick(f, a, 10000, 4);
	assert_int_equal(f->n_events, 0); /* pending */

	alert_tick(f, a, 20000, 4);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(f->events[0].state, ALERT_FIRING);
	assert_string_equal(f->events[0].dedup_key, "bias.kudos_rate/work_mode");
	assert_string_equal(f->events[0].rule->id, "bias.kudos_rate");
	assert_string_equal(config_alert_condition_name(f->events[0].rule->condition), "bias");
	assert_string_equal(f->events[0].scope, "work_mode");
	assert_string_equal(f->events[0].owner, "HR");
	assert_near(f->events[0].observed, 0.5, 0);
	assert_near(f->events[0].threshold, 0.8, 0);
	assert_near(f->events[0].resolve_threshold, 0.9, 0);
	assert_int_equal(alert_firing_count(a), 1);

	alert_tick(f, a, 30000, 7);
	assert_int_equal(f->n_events, 0);
	assert_int_equal(alert_firing_count(a), 1);

	alert_tick(f, a, 40000, 8);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(f->events[0].state, ALERT_RESOLVED);
	assert_string_equal(f->events[0].dedup_key, "bias.kudos_rate/work_mode");
	assert_int_equal(f->events[0].started_at_ms, 20000);
	assert_int_equal(f->events[0].ended_at_ms, 40000);
	assert_int_equal(alert_firing_count(a), 0);
	alert_free(a);
	fixture_free(f);
}

/* Turning the audit off by reload resolves the announced bias alert. */
static void test_bias_alert_resolved_when_disabled(void **state)
{
	fixture *f = fixture_load("");
	alert_engine *a = alert_new(f->cfg);
	config *off = NULL;
	char yaml[8192];

	(void)state;
	alert_tick(f, a, 10000, 0);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(f->events[0].state, ALERT_FIRING);

	snprintf(yaml, sizeof yaml, "%s%s", BASE, "bias_audit:\n  enabled: false\n");
	assert_int_equal(load_text(yaml, &off), 0);
	f->n_events = 0;
	assert_int_equal(alert_reconfigure(a, off, 20000, event_cb, f), 0);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(f->events[0].state, ALERT_RESOLVED);
	assert_string_equal(f->events[0].dedup_key, "bias.kudos_rate/work_mode");
	alert_free(a);
	config_free(off);
	fixture_free(f);
}

/* Copies each exported state into the engine opaque points to. */
static void import_cb(const char *key, const char *state, void *opaque)
{
	if (state)
		assert_int_equal(alert_import(opaque, key, state), 0);
}

/*
 * A bias alert survives a restart: the state exported by one engine and
 * imported by a new one (as the daemon does through Redis) neither fires
 * again at 0.5 nor forgets to resolve at 1.0. A reload with the same
 * settings keeps it too.
 */
static void test_bias_alert_survives_restart(void **state)
{
	fixture *f = fixture_load("");
	alert_engine *first = alert_new(f->cfg);
	alert_engine *second = alert_new(f->cfg);
	config *same = NULL;
	char yaml[8192];

	(void)state;
	alert_tick(f, first, 10000, 4);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(f->events[0].state, ALERT_FIRING);
	alert_export_dirty(first, import_cb, second);
	alert_free(first);

	alert_tick(f, second, 20000, 4);
	assert_int_equal(f->n_events, 0);
	assert_int_equal(alert_firing_count(second), 1);

	snprintf(yaml, sizeof yaml, "%s", BASE);
	assert_int_equal(load_text(yaml, &same), 0);
	f->n_events = 0;
	assert_int_equal(alert_reconfigure(second, same, 25000, event_cb, f), 0);
	assert_int_equal(f->n_events, 0);
	config_free(f->cfg);
	f->cfg = same;
	bias_audit_free(f->audit);
	f->audit = bias_audit_new(f->cfg);
	assert_non_null(f->audit);

	alert_tick(f, second, 30000, 8);
	assert_int_equal(f->n_events, 1);
	assert_int_equal(f->events[0].state, ALERT_RESOLVED);
	assert_string_equal(f->events[0].dedup_key, "bias.kudos_rate/work_mode");
	assert_int_equal(f->events[0].started_at_ms, 10000);
	alert_free(second);
	fixture_free(f);
}

/* ------------------------------------------------------------------------ */
/* Encodings                                                                 */

static void test_record_json(void **state)
{
	fixture *f = fixture_load("outputs:\n  bias: {format: json}\n");
	encode_bias *enc = encode_bias_new(err, sizeof err);
	encode_buf out = {0};
	char key[128];
	json_t *o;

	(void)state;
	assert_non_null(enc);
	bias_audit_begin(f->audit, 3000);
	work_mode(f, K_COUNT, "work_mode:onsite", 10, 20, 5);
	work_mode(f, K_COUNT, "work_mode:remote", 6, 6, 3);
	end_tick(f);
	assert_int_equal(encode_bias_record(enc, &f->cfg->outputs.bias, &f->records[0], &out), 0);
	o = json_loadb(out.data, out.len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "kpi")), "kudos_count");
	assert_string_equal(json_string_value(json_object_get(o, "dimension")), "work_mode");
	assert_string_equal(json_string_value(json_object_get(o, "basis")), "per_head");
	assert_near(json_real_value(json_object_get(o, "ratio")), 0.5, 0);
	assert_true(json_is_true(json_object_get(o, "below_threshold")));
	assert_string_equal(json_string_value(json_object_get(o, "lowest_segment")),
			    "work_mode:remote");
	assert_near(json_real_value(json_object_get(o, "highest_value")), 2.0, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "segments_compared")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "min_sample")), 5);
	assert_int_equal(json_integer_value(json_object_get(o, "computed_at")), 3000);
	assert_int_equal(json_object_size(o), 17);
	json_decref(o);

	assert_int_equal(encode_bias_key(&f->records[0], key, sizeof key),
			 strlen("kudos_count|work_mode|7d"));
	assert_string_equal(key, "kudos_count|work_mode|7d");

	/* Avro: the Confluent frame with schema id 4, then the datum. */
	f->cfg->outputs.bias.format = OUTPUT_FORMAT_AVRO;
	assert_int_equal(encode_bias_record(enc, &f->cfg->outputs.bias, &f->records[0], &out), 0);
	assert_true(out.len > 5 + strlen("kudos_count"));
	assert_memory_equal(out.data, "\0\0\0\0\4", 5);
	encode_buf_free(&out);
	encode_bias_free(enc);
	fixture_free(f);
}

/* The escalation has condition bias and names both segments in its summary. */
static void test_escalation_json_names_bias(void **state)
{
	fixture *f = fixture_load("outputs:\n  escalations: {format: json}\n");
	alert_engine *a = alert_new(f->cfg);
	encoder *enc = encoder_new(err, sizeof err);
	encode_ce_headers hdrs;
	encode_buf out = {0};
	alert_event e;
	json_t *o;

	(void)state;
	assert_non_null(enc);
	bias_audit_begin(f->audit, 10000);
	work_mode(f, K_RATE, "work_mode:onsite", 10, 10, 6);
	work_mode(f, K_RATE, "work_mode:remote", 8, 4, 2);
	end_tick(f);
	e = (alert_event){
	    .state = ALERT_FIRING,
	    .kpi = &f->cfg->kpis[K_RATE],
	    .rule = config_bias_rule(f->cfg, &f->cfg->kpis[K_RATE]),
	    .scope = "work_mode",
	    .window = "7d",
	    .dedup_key = "bias.kudos_rate/work_mode",
	    .id = "bias.kudos_rate/work_mode/10000/firing",
	    .severity = "warning",
	    .tier = 1,
	    .observed = f->records[0].ratio,
	    .threshold = 0.8,
	    .resolve_threshold = 0.8,
	    .target = 1,
	    .lowest_scope = f->lowest[0],
	    .highest_scope = f->highest[0],
	    .started_at_ms = 10000,
	    .at_ms = 10000,
	    .rule_version = f->cfg->version,
	};
	assert_int_equal(encode_escalation(enc, f->cfg, &e, &out, &hdrs), 0);
	o = json_loadb(out.data, out.len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "condition")), "bias");
	assert_string_equal(json_string_value(json_object_get(o, "rule_id")), "bias.kudos_rate");
	assert_string_equal(json_string_value(json_object_get(o, "summary")),
			    "Kudos rate by work_mode: work_mode:remote is at 0.50 of "
			    "work_mode:onsite, below 0.80");
	json_decref(o);
	encode_buf_free(&out);
	encoder_free(enc);
	alert_free(a);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_remote_flagged),
	    cmocka_unit_test(test_ratio_at_four_fifths_boundary),
	    cmocka_unit_test(test_ratio_rounding_keeps_boundary),
	    cmocka_unit_test(test_small_segments_left_out),
	    cmocka_unit_test(test_min_sample_never_below_group_size),
	    cmocka_unit_test(test_all_zero_and_single_segment),
	    cmocka_unit_test(test_counts_compared_per_head),
	    cmocka_unit_test(test_enps_scaled_and_respondents),
	    cmocka_unit_test(test_negative_count_is_zero),
	    cmocka_unit_test(test_scope_of_the_audit),
	    cmocka_unit_test(test_config_defaults),
	    cmocka_unit_test(test_config_custom_and_disabled),
	    cmocka_unit_test(test_config_errors),
	    cmocka_unit_test(test_config_reserved_rule_id),
	    cmocka_unit_test(test_bias_escalation_lifecycle),
	    cmocka_unit_test(test_bias_alert_resolved_when_disabled),
	    cmocka_unit_test(test_bias_alert_survives_restart),
	    cmocka_unit_test(test_record_json),
	    cmocka_unit_test(test_escalation_json_names_bias),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
