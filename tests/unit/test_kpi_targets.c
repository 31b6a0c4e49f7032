/*
 * test_kpi_targets.c - dynamic targets: config keys, the resolution order,
 * the target of emitted updates and the bounds of threshold rules.
 *
 * The crafted config (CONFIG below) has three KPIs:
 *   recognition  target 0.5, industry 0.45, maturity {pilot 0.2, mature 0.6},
 *                segments {frontline 0.3}, scopes {team:Payments 0.7};
 *                a threshold rule without value and a deviation rule of 20%
 *   shares       target 4, industry 5 only
 *   enps         target 10, nothing else
 * and programme {maturity: mature, scopes: {department:Sales: pilot,
 * department:Labs: growth}}. Expected targets, by the order scope > segment
 * > maturity > industry > base:
 *   recognition  team:Payments 0.7 (scope), segment:frontline 0.3 (segment),
 *                department:Sales 0.2 (maturity, pilot), org 0.6 (maturity,
 *                mature), department:Labs 0.45 (growth has no target, so
 *                industry)
 *   shares       org 5 (industry)
 *   enps         org 10 (base)
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

#include "alert.h"
#include "config.h"
#include "kpi.h"
#include "targets.h"

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
#define MAX_UPDATES 64

/* The file's start, with privacy.min_group_size n. */
#define HEAD_WITH(n)                                                                               \
	"kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n  inputs: [{topic: events}]\n"           \
	"  roster_topic: roster\n"                                                                 \
	"privacy: {key_file: hmac.key, key_id: k1, min_group_size: " #n "}\n"                      \
	"behaviours:\n"                                                                            \
	"  kudos: {rules: [{kinds: [recognition]}]}\n"                                             \
	"  shares: {rules: [{kinds: [share_external]}]}\n"                                         \
	"  promoter: {rules: [{kinds: [enps_promoter]}]}\n"                                        \
	"  passive: {rules: [{kinds: [enps_passive]}]}\n"                                          \
	"  detractor: {rules: [{kinds: [enps_detractor]}]}\n"
#define HEAD HEAD_WITH(3)
#define PROGRAMME                                                                                  \
	"programme:\n  maturity: mature\n"                                                         \
	"  scopes: {\"department:Sales\": pilot, \"department:Labs\": growth}\n"
#define RECOGNITION                                                                                \
	"  - id: recognition\n    behaviours: [kudos]\n    aggregation: rate\n    window: 7d\n"    \
	"    quadrant: learning_growth\n    indicator: leading\n    weight: 0.5\n"                 \
	"    target: 0.5\n"
#define RECOGNITION_TARGETS                                                                        \
	"    targets:\n      industry: 0.45\n      maturity: {pilot: 0.2, mature: 0.6}\n"          \
	"      segments: {frontline: 0.3}\n      scopes: {\"team:Payments\": 0.7}\n"               \
	"    thresholds:\n      - {id: below_target, direction: below}\n"                          \
	"      - {id: far_below, condition: deviation, direction: below, value: 20}\n"
#define OTHERS                                                                                     \
	"  - {id: shares, behaviours: [shares], aggregation: count, window: 7d,"                   \
	" quadrant: customer, indicator: leading, weight: 0.25, target: 4,"                        \
	" targets: {industry: 5}}\n"                                                               \
	"  - {id: enps, behaviours: [promoter, passive, detractor], aggregation: enps,"            \
	" window: 28d, quadrant: learning_growth, indicator: lagging, weight: 0.25, target: 10}\n"
#define CONFIG HEAD PROGRAMME "kpis:\n" RECOGNITION RECOGNITION_TARGETS OTHERS

enum { K_RECOGNITION, K_SHARES, K_ENPS };

static char tmp_dir[256];
static char tmp_config[300];
static char tmp_key[300];
static char err[1024];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_kpi_targets.XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_config, sizeof tmp_config, "%s/config.yaml", tmp_dir);
	snprintf(tmp_key, sizeof tmp_key, "%s/hmac.key", tmp_dir);
	write_text(tmp_key, KEY_HEX);
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

static config *load_valid(const char *yaml)
{
	config *cfg = NULL;

	write_text(tmp_config, yaml);
	if (config_load(tmp_config, &cfg, err, sizeof err) < 0)
		fail_msg("expected the config to load, got: %s", err);
	return cfg;
}

/* Loads yaml and expects an error at key path kp whose message contains needle. */
static void expect_error(const char *yaml, const char *kp, const char *needle)
{
	char prefix[600];
	config *cfg = NULL;

	write_text(tmp_config, yaml);
	assert_int_equal(config_load(tmp_config, &cfg, err, sizeof err), -1);
	assert_null(cfg);
	snprintf(prefix, sizeof prefix, "%s: %s: ", tmp_config, kp);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("expected the error to start with '%s', got: %s", prefix, err);
	if (!strstr(err, needle))
		fail_msg("expected '%s' in the error, got: %s", needle, err);
}

/* ---------------------------------------------------------------- config */

static void config_reads_target_keys(void **state)
{
	config *cfg = load_valid(CONFIG);
	const config_kpi *k = &cfg->kpis[K_RECOGNITION];

	(void)state;
	assert_true(cfg->programme.has_maturity);
	assert_int_equal(cfg->programme.maturity, PROGRAMME_MATURE);
	assert_int_equal(cfg->programme.n_scopes, 2);
	assert_string_equal(cfg->programme.scopes[0].name, "department:Sales");
	assert_true(cfg->programme.scopes[0].value == PROGRAMME_PILOT);

	assert_true(k->targets.has_industry);
	assert_true(k->targets.industry == 0.45);
	assert_true(k->targets.has_maturity[PROGRAMME_PILOT]);
	assert_false(k->targets.has_maturity[PROGRAMME_GROWTH]);
	assert_true(k->targets.maturity[PROGRAMME_MATURE] == 0.6);
	assert_int_equal(k->targets.n_segments, 1);
	assert_string_equal(k->targets.segments[0].name, "frontline");
	assert_int_equal(k->targets.n_scopes, 1);
	assert_string_equal(k->targets.scopes[0].name, "team:Payments");
	assert_true(k->targets.scopes[0].value == 0.7);
	assert_false(k->benchmark.given);
	assert_false(cfg->kpis[K_ENPS].targets.has_industry);
	config_free(cfg);
}

static void config_rejects_small_groups(void **state)
{
	(void)state;
	/* 3 loads (CONFIG), 2 does not: there is no way below 3, tests included. */
	expect_error(HEAD_WITH(2) PROGRAMME "kpis:\n" RECOGNITION OTHERS, "privacy.min_group_size",
		     "must be at least 3, got 2");
	expect_error(HEAD_WITH(1) PROGRAMME "kpis:\n" RECOGNITION OTHERS, "privacy.min_group_size",
		     "single a person out");
}

static void config_rejects_bad_targets(void **state)
{
	(void)state;
	/* Maturity targets need a stage. */
	expect_error(HEAD "kpis:\n" RECOGNITION RECOGNITION_TARGETS OTHERS,
		     "kpis[0].targets.maturity", "add programme.maturity");
	expect_error(HEAD PROGRAMME "kpis:\n" RECOGNITION "    targets: {scopes: {Payments: 1}}\n"
		     OTHERS,
		     "kpis[0].targets.scopes.Payments", "invalid scope name 'Payments'");
	expect_error(HEAD PROGRAMME "kpis:\n" RECOGNITION "    targets: {segments: {}}\n" OTHERS,
		     "kpis[0].targets.segments", "at least one segment");
	expect_error(HEAD "programme: {maturity: seed}\nkpis:\n" RECOGNITION OTHERS,
		     "programme.maturity", "allowed values: pilot, growth, mature");
	/* A deviation rule divides by the target, whichever applies. */
	expect_error(HEAD PROGRAMME "kpis:\n" RECOGNITION
		     "    targets: {segments: {frontline: 0}}\n"
		     "    thresholds: [{id: dev, condition: deviation, direction: below, value: 20}]\n"
		     OTHERS,
		     "kpis[0].targets", "has a deviation rule");
	expect_error(HEAD PROGRAMME "kpis:\n" RECOGNITION "    benchmark: {low: 0.5, high: 0.5}\n"
		     OTHERS,
		     "kpis[0].benchmark.high", "must be above low (0.5)");
	expect_error(HEAD PROGRAMME "kpis:\n" RECOGNITION "    benchmark: {low: 0.1}\n" OTHERS,
		     "kpis[0].benchmark.high", "required key is missing");
}

/* ---------------------------------------------------------------- order */

typedef struct resolution {
	size_t kpi;
	const char *scope;
	const char *segment; /* of the scope's members */
	double target;
	target_source source;
} resolution;

static void resolution_order(void **state)
{
	static const resolution cases[] = {
	    /* A listed scope wins over its members' segment. */
	    {K_RECOGNITION, "team:Payments", "frontline", 0.7, TARGET_SOURCE_SCOPE},
	    {K_RECOGNITION, "segment:frontline", NULL, 0.3, TARGET_SOURCE_SEGMENT},
	    {K_RECOGNITION, "team:Depot", "frontline", 0.3, TARGET_SOURCE_SEGMENT},
	    /* The scope's own segment value wins over a members' segment. */
	    {K_RECOGNITION, "segment:knowledge", "frontline", 0.6, TARGET_SOURCE_MATURITY},
	    {K_RECOGNITION, "department:Sales", NULL, 0.2, TARGET_SOURCE_MATURITY},
	    {K_RECOGNITION, "org", NULL, 0.6, TARGET_SOURCE_MATURITY},
	    /* Labs is in growth, which has no target: the industry value applies. */
	    {K_RECOGNITION, "department:Labs", NULL, 0.45, TARGET_SOURCE_INDUSTRY},
	    {K_SHARES, "team:Payments", "frontline", 5, TARGET_SOURCE_INDUSTRY},
	    {K_ENPS, "segment:frontline", NULL, 10, TARGET_SOURCE_BASE},
	};
	config *cfg = load_valid(CONFIG);

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const resolution *c = &cases[i];
		target_source source = TARGET_SOURCE_COUNT;
		double target = targets_effective(cfg, &cfg->kpis[c->kpi], c->scope, c->segment,
						  &source);
		if (target != c->target || source != c->source)
			fail_msg("case %zu (%s): got %g from %s, expected %g from %s", i, c->scope,
				 target, targets_source_name(source), c->target,
				 targets_source_name(c->source));
	}
	config_free(cfg);
}

static void stage_without_programme(void **state)
{
	config cfg = {0};
	config_kpi k = {.id = "k", .target = 2};
	programme_stage stage;

	(void)state;
	k.targets.has_maturity[PROGRAMME_MATURE] = true;
	k.targets.maturity[PROGRAMME_MATURE] = 9;
	/* No stage set anywhere: maturity targets never apply. */
	assert_false(targets_stage(&cfg, "org", &stage));
	assert_true(targets_effective(&cfg, &k, "org", NULL, NULL) == 2);
	cfg.programme.has_maturity = true;
	cfg.programme.maturity = PROGRAMME_MATURE;
	assert_true(targets_effective(&cfg, &k, "org", NULL, NULL) == 9);
}

/* ---------------------------------------------------------------- tick */

typedef struct tick_fixture {
	kpi_update updates[MAX_UPDATES];
	size_t n;
} tick_fixture;

static void collect_cb(const kpi_update *u, void *opaque)
{
	tick_fixture *t = opaque;

	assert_true(t->n < MAX_UPDATES);
	t->updates[t->n++] = *u;
}

static const kpi_update *find(const tick_fixture *t, const config *cfg, size_t kpi,
			      const char *scope)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->updates[i].kpi == &cfg->kpis[kpi] && strcmp(t->updates[i].scope, scope) == 0)
			return &t->updates[i];
	return NULL;
}

static void add_person(roster *r, int n, const char *team, const char *segment)
{
	const char *values[SCOPE_KIND_COUNT] = {0};
	pseudonym p = {{0}};

	p.bytes[0] = (uint8_t)n;
	values[SCOPE_DEPARTMENT] = "Ops";
	values[SCOPE_TEAM] = team;
	values[SCOPE_SEGMENT] = segment;
	assert_int_equal(roster_upsert(r, &p, values, NULL, 0), 0);
}

/*
 * team:Depot has 3 frontline and 2 knowledge workers: frontline is its
 * majority, so it gets the frontline target 0.3. team:Office has 2 and 2
 * and one without a segment: no majority, so the org-wide stage (mature,
 * 0.6) applies. department:Ops (5 frontline of 10) has no majority either.
 */
static void updates_carry_effective_target(void **state)
{
	config *cfg = load_valid(CONFIG);
	roster *r = roster_new();
	kpi_tick *tick = kpi_tick_new(cfg);
	tick_fixture *t = test_calloc(1, sizeof(*t));
	int64_t starts[16] = {0}, ends[16] = {0};
	const kpi_update *u;
	int n = 0;

	(void)state;
	assert_non_null(r);
	assert_non_null(tick);
	assert_true(cfg->windows.n_windows <= 16);
	for (int i = 0; i < 3; i++)
		add_person(r, n++, "Depot", "frontline");
	for (int i = 0; i < 2; i++)
		add_person(r, n++, "Depot", "knowledge");
	for (int i = 0; i < 2; i++)
		add_person(r, n++, "Office", "frontline");
	for (int i = 0; i < 2; i++)
		add_person(r, n++, "Office", "knowledge");
	add_person(r, n++, "Office", NULL);

	assert_int_equal(kpi_tick_begin(tick, roster_scope_count(r), 100), 0);
	kpi_tick_emit(tick, r, 3, starts, ends, collect_cb, t);

	u = find(t, cfg, K_RECOGNITION, "team:Depot");
	assert_non_null(u);
	assert_true(u->target == 0.3);
	assert_int_equal(u->target_source, TARGET_SOURCE_SEGMENT);
	u = find(t, cfg, K_RECOGNITION, "team:Office");
	assert_non_null(u);
	assert_true(u->target == 0.6);
	assert_int_equal(u->target_source, TARGET_SOURCE_MATURITY);
	u = find(t, cfg, K_RECOGNITION, "department:Ops");
	assert_non_null(u);
	assert_true(u->target == 0.6);
	u = find(t, cfg, K_RECOGNITION, "segment:frontline");
	assert_non_null(u);
	assert_true(u->target == 0.3);
	u = find(t, cfg, K_SHARES, "team:Depot");
	assert_non_null(u);
	assert_true(u->target == 5);
	assert_int_equal(u->target_source, TARGET_SOURCE_INDUSTRY);

	test_free(t);
	kpi_tick_free(tick);
	roster_free(r);
	config_free(cfg);
}

/* ---------------------------------------------------------------- rules */

typedef struct alert_fixture {
	double threshold[8], target[8];
	char rule[8][32];
	size_t n;
} alert_fixture;

static void alert_cb(const alert_event *e, void *opaque)
{
	alert_fixture *f = opaque;

	if (e->state != ALERT_FIRING || f->n >= 8)
		return;
	f->threshold[f->n] = e->threshold;
	f->target[f->n] = e->target;
	snprintf(f->rule[f->n], sizeof f->rule[0], "%s", e->rule->id);
	f->n++;
}

/*
 * Runs one tick of a fresh engine with the single update u. One scope per
 * engine, because a rule firing at org holds back the same rule elsewhere.
 */
static void alert_one(const config *cfg, const kpi_update *u, alert_fixture *f)
{
	alert_engine *a = alert_new(cfg);

	assert_non_null(a);
	alert_tick_begin(a, 1700000000000LL);
	alert_observe(a, u);
	assert_int_equal(alert_tick_end(a, alert_cb, f), 0);
	alert_free(a);
}

/*
 * segment:frontline has the effective target 0.3. A value of 0.23 is below
 * the threshold rule's bound (the target 0.3, not the base 0.5) and below
 * the deviation rule's bound 0.3 * (1 - 20 / 100) = 0.24. At org, 0.55 is
 * below the target 0.6 but above the deviation bound 0.48, so only the
 * threshold rule fires there.
 */
static void rules_use_effective_target(void **state)
{
	config *cfg = load_valid(CONFIG);
	alert_fixture f = {0};
	kpi_update u = {.kpi = &cfg->kpis[K_RECOGNITION], .scope = "segment:frontline",
			.scope_kind = SCOPE_SEGMENT, .window = "7d", .value = 0.23,
			.headcount = 10, .target = 0.3, .target_source = TARGET_SOURCE_SEGMENT};

	(void)state;
	alert_one(cfg, &u, &f);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.rule[0], "below_target");
	assert_true(f.threshold[0] == 0.3);
	assert_true(f.target[0] == 0.3);
	assert_string_equal(f.rule[1], "far_below");
	assert_true(fabs(f.threshold[1] - 0.24) < 1e-12);
	assert_true(f.target[1] == 0.3);

	memset(&f, 0, sizeof f);
	u.scope = "org";
	u.scope_kind = SCOPE_ORG;
	u.value = 0.55;
	u.target = 0.6;
	u.target_source = TARGET_SOURCE_MATURITY;
	alert_one(cfg, &u, &f);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.rule[0], "below_target");
	assert_true(f.threshold[0] == 0.6);
	assert_true(f.target[0] == 0.6);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(config_reads_target_keys),
	    cmocka_unit_test(config_rejects_small_groups),
	    cmocka_unit_test(config_rejects_bad_targets),
	    cmocka_unit_test(resolution_order),
	    cmocka_unit_test(stage_without_programme),
	    cmocka_unit_test(updates_carry_effective_target),
	    cmocka_unit_test(rules_use_effective_target),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
