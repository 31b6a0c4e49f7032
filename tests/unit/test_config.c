/*
 * test_config.c - config_load() on the shipped configs, on fixtures under
 * tests/fixtures/config/ and on inline YAML written to a temporary folder.
 *
 * Each error test checks that the message starts with "PATH: KEY.PATH: " and
 * contains the words a user needs to fix it. The temporary folder contains
 * a copy of the test HMAC key as hmac.key, so inline configs can use a
 * relative key_file. Fixtures are found through ADVOCACY_SOURCE_DIR (set by CTest),
 * or relative to this source file when it is unset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"

static char tmp_dir[256];
static char tmp_config[300];
static char tmp_key[300];
static char tmp_catalog[300];
static char err[1024];

/* ------------------------------------------------------------------------ */
/* Inline configs                                                            */

#define KAFKA                                                                                      \
	"kafka:\n"                                                                                 \
	"  bootstrap_servers: \"127.0.0.1:9092\"\n"                                                \
	"  inputs:\n"                                                                              \
	"    - topic: events\n"                                                                    \
	"  roster_topic: roster\n"
#define PRIVACY                                                                                    \
	"privacy:\n"                                                                               \
	"  key_file: hmac.key\n"                                                                   \
	"  key_id: k1\n"
#define BEHAVIOURS                                                                                 \
	"behaviours:\n"                                                                            \
	"  kudos:\n"                                                                               \
	"    rules:\n"                                                                             \
	"      - kinds: [recognition]\n"                                                           \
	"  shares:\n"                                                                              \
	"    rules:\n"                                                                             \
	"      - kinds: [share_external]\n"
/* The body of a valid KPI after its id line; weight 1. */
#define KPI_BODY                                                                                   \
	"    behaviours: [kudos]\n"                                                                \
	"    aggregation: rate\n"                                                                  \
	"    window: 7d\n"                                                                         \
	"    quadrant: learning_growth\n"                                                          \
	"    indicator: leading\n"                                                                 \
	"    weight: 1\n"                                                                          \
	"    target: 1\n"
#define KPIS "kpis:\n  - id: kudos_rate\n" KPI_BODY
#define VALID KAFKA PRIVACY BEHAVIOURS KPIS

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");
	FILE *f;

	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_config.XXXXXX", base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(tmp_config, sizeof tmp_config, "%s/config.yaml", tmp_dir);
	snprintf(tmp_key, sizeof tmp_key, "%s/hmac.key", tmp_dir);
	snprintf(tmp_catalog, sizeof tmp_catalog, "%s/kpis.yaml", tmp_dir);
	f = fopen(tmp_key, "w");
	if (!f)
		return -1;
	fputs(KEY_HEX, f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	unlink(tmp_config);
	unlink(tmp_key);
	unlink(tmp_catalog);
	rmdir(tmp_dir);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Writes yaml to the temporary config file and loads it. */
static int load_text(const char *yaml, config **out)
{
	write_file(tmp_config, yaml);
	return config_load(tmp_config, out, err, sizeof err);
}

static config *load_valid(const char *yaml)
{
	config *cfg = NULL;

	if (load_text(yaml, &cfg) != 0)
		fail_msg("expected the config to load, got: %s", err);
	return cfg;
}

/* Fails unless err contains needle. */
static void assert_error_has(const char *needle)
{
	if (!strstr(err, needle))
		fail_msg("expected '%s' in the error, got: %s", needle, err);
}

/*
 * Loads yaml, expects a failure at key path kp ("" for the whole file) and
 * each of the NULL-terminated needles in the message.
 */
static void expect_error(const char *yaml, const char *kp, ...)
{
	char prefix[600];
	config *cfg = (config *)1;
	const char *needle;
	va_list ap;

	assert_int_equal(load_text(yaml, &cfg), -1);
	assert_null(cfg);
	if (kp[0])
		snprintf(prefix, sizeof prefix, "%s: %s: ", tmp_config, kp);
	else
		snprintf(prefix, sizeof prefix, "%s: ", tmp_config);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("expected the error to start with '%s', got: %s", prefix, err);

	va_start(ap, kp);
	while ((needle = va_arg(ap, const char *)))
		assert_error_has(needle);
	va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Paths of the source tree                                                  */

static void source_path(char *buf, size_t size, const char *rel)
{
	const char *dir = getenv("ADVOCACY_SOURCE_DIR");
	const char *self = __FILE__;
	const char *tail = strstr(self, "tests/unit/test_config.c");

	if (dir && dir[0])
		snprintf(buf, size, "%s/%s", dir, rel);
	else if (tail && tail > self)
		snprintf(buf, size, "%.*s%s", (int)(tail - self), self, rel);
	else
		snprintf(buf, size, "%s", rel);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long size;

	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	return text;
}

static config *load_fixture(const char *rel)
{
	char path[1024];
	config *cfg = NULL;

	source_path(path, sizeof path, rel);
	if (config_load(path, &cfg, err, sizeof err) != 0)
		fail_msg("expected %s to load, got: %s", path, err);
	return cfg;
}

static void expect_fixture_error(const char *rel, const char *kp, const char *needle)
{
	char path[1024], prefix[1200];
	config *cfg = NULL;

	source_path(path, sizeof path, rel);
	assert_int_equal(config_load(path, &cfg, err, sizeof err), -1);
	assert_null(cfg);
	snprintf(prefix, sizeof prefix, "%s: %s", path, kp);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("expected the error to start with '%s', got: %s", prefix, err);
	assert_error_has(needle);
}

static size_t behaviour_index(const config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_behaviours; i++)
		if (strcmp(cfg->behaviours[i].id, id) == 0)
			return i;
	fail_msg("behaviour %s not found", id);
	return SIZE_MAX;
}

static const config_kpi *kpi_by_id(const config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_kpis; i++)
		if (strcmp(cfg->kpis[i].id, id) == 0)
			return &cfg->kpis[i];
	fail_msg("KPI %s not found", id);
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Shipped configs                                                           */

/* Returns the reference config with its key_file pointed at the test key. */
static char *reference_with_test_key(void)
{
	char path[1024];
	const char *needle = "key_file: /etc/advocacyd/hmac.key\n";
	char *text, *at, *out;

	source_path(path, sizeof path, "config/advocacyd.yaml");
	text = read_all(path);
	at = strstr(text, needle);
	assert_non_null(at);
	out = calloc(1, strlen(text) + strlen(tmp_key) + 32);
	assert_non_null(out);
	sprintf(out, "%.*skey_file: %s\n%s", (int)(at - text), text, tmp_key, at + strlen(needle));
	free(text);

	/* kpi_catalog names kpis.yaml in the config's folder. */
	source_path(path, sizeof path, "config/kpis.yaml");
	text = read_all(path);
	write_file(tmp_catalog, text);
	free(text);
	return out;
}

static void test_reference_config_loads(void **state)
{
	char *yaml = reference_with_test_key();
	config *cfg = load_valid(yaml);
	const config_behaviour *recognition;

	free(yaml);
	assert_int_equal(cfg->kafka.n_inputs, 2);
	assert_string_equal(cfg->kafka.inputs[0].topic, "advocacy.events");
	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_AVRO);
	assert_string_equal(cfg->kafka.inputs[1].topic, "slack.events");
	assert_int_equal(cfg->kafka.inputs[1].format, INPUT_FORMAT_SLACK);
	assert_string_equal(cfg->kafka.roster_topic, "advocacy.roster");
	assert_null(cfg->redis.password);
	assert_string_equal(cfg->windows.timezone, "UTC");
	assert_int_equal(cfg->outputs.dlq.format, OUTPUT_FORMAT_JSON);

	const char *ids[] = {"recognition_given",     "recognition_received",  "content_contribution",
			     "forum_participation",   "content_shared",	       "share_clicks",
			     "share_reach",	      "share_clicks_linkedin", "share_reach_linkedin",
			     "share_clicks_x",	      "share_reach_x",	       "share_clicks_facebook",
			     "share_reach_facebook",  "referral_made",	       "referral_hired",
			     "training_completed",    "enps_promoter",	       "enps_passive",
			     "enps_detractor",	      "content_reach",	       "community_membership"};
	assert_int_equal(cfg->n_behaviours, 21);
	for (size_t i = 0; i < 21; i++)
		assert_string_equal(cfg->behaviours[i].id, ids[i]);
	assert_int_equal(cfg->behaviours[4].rules[0].requires_consent, CONSENT_EXTERNAL_SHARING);
	assert_string_equal(cfg->behaviours[5].rules[0].amount_attribute, "clicks");

	recognition = &cfg->behaviours[0];
	assert_int_equal(recognition->n_rules, 8);
	assert_string_equal(recognition->rules[5].kinds[0], "praise_given");
	assert_string_equal(recognition->rules[5].sources[0], "viva");
	assert_true(recognition->rules[5].requires_targets);
	assert_string_equal(recognition->rules[7].kinds[0], "content_liked");
	assert_int_equal(cfg->behaviours[19].rules[0].credit, CREDIT_TARGETS);
	assert_int_equal(cfg->behaviours[20].rules[1].effect, -1);
	assert_string_equal(recognition->rules[4].sources[0], "teams");
	assert_string_equal(recognition->rules[4].reactions[0], "like");
	assert_int_equal(recognition->rules[0].n_reactions, 7);
	assert_string_equal(recognition->rules[0].reactions[6], "100");
	assert_int_equal(recognition->rules[1].effect, -1);
	assert_true(recognition->rules[2].requires_targets);
	assert_string_equal(recognition->rules[2].channels[0], "C0KUDOS01");
	assert_int_equal(cfg->behaviours[1].rules[0].credit, CREDIT_TARGETS);

	assert_int_equal(cfg->n_kpis, 15);
	assert_int_equal(cfg->kpis[13].aggregation, KPI_AGG_RETENTION_GAP);
	assert_string_equal(cfg->kpis[cfg->kpis[13].split_by].id, "active_advocate_rate");
	assert_int_equal(cfg->kpis[14].aggregation, KPI_AGG_CAPPED_SHARE);
	assert_true(cfg->kpis[14].lower_is_better);
	assert_false(cfg->kpis[0].lower_is_better);
	assert_int_equal(recognition->daily_cap, 20);
	assert_int_equal(cfg->privacy.min_respondents, 5);
	assert_string_equal(cfg->kpis[0].thresholds[0].id, "recognition_rate_low");
	assert_int_equal(cfg->kpis[0].thresholds[0].for_ticks, 2);

	assert_int_equal(cfg->alerts.max_firings_per_tick, 10);
	assert_int_equal(cfg->alerts.lease_ttl_ms, 10000);
	assert_string_equal(cfg->alerts.source, "/advocacyd/advocacyd");
	assert_false(cfg->alerts.structured);

	assert_true(cfg->admin.enabled);
	assert_string_equal(cfg->admin.listen_host, "127.0.0.1");
	assert_int_equal(cfg->admin.port, 9464);
	config_free(cfg);
}

/* The test copy may differ from the reference only in its key_file line. */
static void test_test_copy_matches_reference(void **state)
{
	char ref_path[1024], copy_path[1024];
	char *ref, *copy, *ref_line, *copy_line, *ref_save, *copy_save;
	size_t line = 0;

	source_path(ref_path, sizeof ref_path, "config/advocacyd.yaml");
	source_path(copy_path, sizeof copy_path, "tests/fixtures/advocacyd-test.yaml");
	ref = read_all(ref_path);
	copy = read_all(copy_path);

	ref_line = strtok_r(ref, "\n", &ref_save);
	copy_line = strtok_r(copy, "\n", &copy_save);
	while (ref_line && copy_line) {
		line++;
		/* privacy.key_file; the admin.tls example in a comment must match as is */
		if (strncmp(ref_line, "  key_file:", 11) == 0)
			assert_string_equal(copy_line, "  key_file: hmac.key");
		else if (strcmp(ref_line, copy_line) != 0)
			fail_msg(
			    "tests/fixtures/advocacyd-test.yaml differs from config/advocacyd.yaml "
			    "at line %zu: update the copy",
			    line);
		ref_line = strtok_r(NULL, "\n", &ref_save);
		copy_line = strtok_r(NULL, "\n", &copy_save);
	}
	assert_null(ref_line);
	assert_null(copy_line);
	free(ref);
	free(copy);

	config_free(load_fixture("tests/fixtures/advocacyd-test.yaml"));
}

static void test_reference_kpis(void **state)
{
	char *yaml = reference_with_test_key();
	config *cfg = load_valid(yaml);
	const config_kpi *k;
	double sum = 0;

	free(yaml);
	for (size_t i = 0; i < cfg->n_kpis; i++)
		sum += cfg->kpis[i].weight;
	assert_float_equal(sum, 1.0, 1e-9);

	k = kpi_by_id(cfg, "peer_recognition_rate");
	assert_int_equal(k->aggregation, KPI_AGG_RATE);
	assert_string_equal(cfg->windows.windows[k->window].name, "7d");
	assert_int_equal(k->quadrant, QUADRANT_LEARNING_GROWTH);
	assert_int_equal(k->n_behaviours, 1);
	assert_int_equal(k->behaviours[0], behaviour_index(cfg, "recognition_given"));
	assert_float_equal(k->thresholds[0].value, 0.5, 1e-12);
	assert_float_equal(k->thresholds[0].resolve_value, 0.6, 1e-12);
	assert_int_equal(k->thresholds[0].keep_firing_for_ms, 30 * 60000);
	assert_string_equal(k->thresholds[0].runbook_url,
			    "https://intranet.example.com/runbooks/peer-recognition");
	assert_int_equal(k->thresholds[0].scope_kinds,
			 (1u << SCOPE_ORG) | (1u << SCOPE_DEPARTMENT) | (1u << SCOPE_TEAM));

	k = kpi_by_id(cfg, "external_amplification");
	assert_int_equal(k->quadrant, QUADRANT_CUSTOMER);
	assert_int_equal(k->thresholds[0].direction, THRESHOLD_BELOW);
	assert_float_equal(k->thresholds[0].value, 0.3, 1e-12);
	assert_int_equal(k->thresholds[0].for_ticks, 3);
	/* The baseline rules need days of samples, so they never fire in a test run. */
	assert_int_equal(k->n_thresholds, 3);
	assert_int_equal(k->thresholds[1].condition, ALERT_COND_ZSCORE);
	assert_int_equal(k->thresholds[1].period_ms, 86400000);
	assert_int_equal(k->thresholds[1].periods, 7);
	assert_int_equal(k->thresholds[2].condition, ALERT_COND_TREND);
	assert_int_equal(k->thresholds[2].period_ms, 7 * 86400000LL);
	assert_int_equal(k->thresholds[2].periods, 4);

	/* Every shipped KPI and rule names who is responsible for it and why. */
	for (size_t i = 0; i < cfg->n_kpis; i++) {
		assert_non_null(cfg->kpis[i].owner);
		assert_non_null(cfg->kpis[i].rationale);
		assert_int_equal(cfg->kpis[i].status, KPI_STATUS_ACTIVE);
		for (size_t t = 0; t < cfg->kpis[i].n_thresholds; t++) {
			assert_non_null(cfg->kpis[i].thresholds[t].owner);
			assert_non_null(cfg->kpis[i].thresholds[t].rationale);
		}
	}
	assert_string_equal(kpi_by_id(cfg, "referral_rate")->owner, "Talent acquisition");
	assert_int_equal(cfg->shutdown.drain_timeout_ms, 15000);

	k = kpi_by_id(cfg, "referral_rate");
	assert_int_equal(k->quadrant, QUADRANT_FINANCIAL);
	assert_int_equal(k->indicator, INDICATOR_LAGGING);
	assert_string_equal(cfg->windows.windows[k->window].name, "28d");
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Defaults and values                                                       */

static void test_defaults_apply(void **state)
{
	config *cfg = load_fixture("tests/fixtures/config/minimal.yaml");

	assert_string_equal(cfg->kafka.group_id, "advocacyd");
	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_AVRO);
	assert_int_equal(cfg->kafka.batch_max_messages, 50000);
	assert_int_equal(cfg->kafka.batch_max_ms, 200);
	assert_int_equal(cfg->kafka.n_properties, 0);
	assert_string_equal(cfg->redis.host, "127.0.0.1");
	assert_int_equal(cfg->redis.port, 6379);
	assert_null(cfg->redis.unix_socket);
	assert_null(cfg->redis.password);
	assert_int_equal(cfg->redis.db, 0);
	assert_string_equal(cfg->redis.key_prefix, "advocacy");
	assert_int_equal(cfg->privacy.min_group_size, 5);
	assert_int_equal(cfg->privacy.min_respondents, 5);
	assert_non_null(strstr(cfg->privacy.key_file, "tests/fixtures/config/../hmac.key"));

	assert_int_equal(cfg->outputs.tick_interval_ms, 10000);
	assert_string_equal(cfg->outputs.kpi.topic, "advocacy.kpi");
	assert_string_equal(cfg->outputs.escalations.topic, "advocacy.escalations");
	assert_string_equal(cfg->outputs.dlq.topic, "advocacy.dlq");
	assert_int_equal(cfg->outputs.kpi.format, OUTPUT_FORMAT_AVRO);
	assert_int_equal(cfg->outputs.dlq.format, OUTPUT_FORMAT_AVRO);
	assert_int_equal(cfg->outputs.kpi.schema_id, 1);
	assert_int_equal(cfg->outputs.escalations.schema_id, 2);
	assert_int_equal(cfg->outputs.dlq.schema_id, 3);
	assert_string_equal(cfg->outputs.governance_topic, "advocacy.governance");

	assert_true(cfg->admin.enabled);
	assert_string_equal(cfg->admin.listen_host, "127.0.0.1");
	assert_int_equal(cfg->admin.port, 9464);

	const config_rule *r = &cfg->behaviours[0].rules[0];
	assert_null(cfg->behaviours[0].description);
	assert_int_equal(r->n_sources, 0);
	assert_int_equal(r->n_channels, 0);
	assert_int_equal(r->n_reactions, 0);
	assert_false(r->requires_targets);
	assert_int_equal(r->credit, CREDIT_ACTOR);
	assert_int_equal(r->effect, 1);
	assert_string_equal(cfg->kpis[0].name, "recognition_rate");
	assert_int_equal(cfg->kpis[0].n_thresholds, 0);
	assert_int_equal(cfg->kpis[0].status, KPI_STATUS_ACTIVE);
	assert_null(cfg->kpis[0].owner);
	assert_null(cfg->kpis[0].rationale);
	assert_int_equal(cfg->shutdown.drain_timeout_ms, 15000);
	assert_int_equal(cfg->alerts.max_firings_per_tick, 10);
	assert_int_equal(cfg->alerts.lease_ttl_ms, 10000);
	assert_string_equal(cfg->alerts.source, "/advocacyd/advocacyd");
	assert_false(cfg->alerts.structured);
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Version, governance metadata, shutdown, restart-only keys                 */

static void test_version_identifies_bytes(void **state)
{
	config *a = load_valid(VALID), *b = load_valid(VALID), *c = load_valid(VALID "# comment\n");

	assert_int_equal(strlen(a->version), 16);
	assert_int_equal(strspn(a->version, "0123456789abcdef"), 16);
	assert_string_equal(a->version, b->version);
	/* Any byte counts, even a comment: the version names the file as written. */
	assert_string_not_equal(a->version, c->version);
	config_free(a);
	config_free(b);
	config_free(c);
}

static void test_owner_rationale_status(void **state)
{
	config *cfg = load_valid(KAFKA PRIVACY BEHAVIOURS
				 "kpis:\n  - id: a\n" KPI_BODY
				 "    owner: HR\n    rationale: Why it matters\n"
				 "    thresholds:\n      - {id: low, direction: below, owner: HR business "
				 "partners, rationale: Low teams need help}\n"
				 "  - id: old\n" KPI_BODY "    status: retired\n");

	assert_string_equal(cfg->kpis[0].owner, "HR");
	assert_string_equal(cfg->kpis[0].rationale, "Why it matters");
	assert_string_equal(cfg->kpis[0].thresholds[0].owner, "HR business partners");
	assert_string_equal(cfg->kpis[0].thresholds[0].rationale, "Low teams need help");
	assert_true(config_kpi_active(&cfg->kpis[0]));
	/* A retired KPI keeps its weight as written; only active weights sum to 1. */
	assert_int_equal(cfg->kpis[1].status, KPI_STATUS_RETIRED);
	assert_false(config_kpi_active(&cfg->kpis[1]));
	assert_float_equal(cfg->kpis[1].weight, 1.0, 1e-12);
	assert_string_equal(config_kpi_status_name(KPI_STATUS_RETIRED), "retired");
	config_free(cfg);
}

static void test_governance_metadata_errors(void **state)
{
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "    owner: jane.doe@example.com\n",
		     "kpis[0].owner", "e-mail address", "team or role", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "    thresholds: [{id: low, direction: below, owner: a@b}]\n",
		     "kpis[0].thresholds[0].owner", "e-mail address", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "    rationale: \"two\\nlines\"\n",
		     "kpis[0].rationale", "one line", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "    owner: [HR]\n",
		     "kpis[0].owner", "expected a string", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "    status: paused\n",
		     "kpis[0].status", "invalid value 'paused'", "active, retired", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "    status: retired\n",
		     "kpis", "every KPI is retired", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY
		     "  - id: b\n" KPI_BODY,
		     "kpis", "weights sum to 2 over the active KPIs", NULL);
}

static void test_owner_length_limit(void **state)
{
	char yaml[4096], owner[200];

	memset(owner, 'x', 121);
	owner[121] = '\0';
	snprintf(yaml, sizeof yaml, "%s    owner: %s\n", VALID, owner);
	expect_error(yaml, "kpis[0].owner", "121 bytes long", "at most 120", NULL);
}

static void test_shutdown_drain_timeout(void **state)
{
	config *cfg = load_valid(VALID "shutdown:\n  drain_timeout: 2500ms\n");

	assert_int_equal(cfg->shutdown.drain_timeout_ms, 2500);
	config_free(cfg);
	cfg = load_valid(VALID "shutdown:\n  drain_timeout: 0s\n");
	assert_int_equal(cfg->shutdown.drain_timeout_ms, 0);
	config_free(cfg);
	expect_error(VALID "shutdown:\n  drain_timeout: 2h\n", "shutdown.drain_timeout",
		     "at most 1h", NULL);
	expect_error(VALID "shutdown:\n  drain_timeout: soon\n", "shutdown.drain_timeout",
		     "invalid duration 'soon'", NULL);
	expect_error(VALID "shutdown:\n  grace: 1s\n", "shutdown.grace", "unknown key",
		     "drain_timeout", NULL);
}

static void test_schema_registry(void **state)
{
	config *cfg = load_valid(VALID "schema_registry:\n  directory: /tmp\n"
				       "  url: http://127.0.0.1:8081/sr\n  timeout: 500ms\n"
				       "  unknown_id_retry: 10s\n");

	assert_string_equal(cfg->schema_registry.directory, "/tmp");
	assert_string_equal(cfg->schema_registry.url, "http://127.0.0.1:8081/sr");
	assert_int_equal(cfg->schema_registry.timeout_ms, 500);
	assert_int_equal(cfg->schema_registry.unknown_id_retry_ms, 10000);
	config_free(cfg);

	/* Left out: no schema source, and the defaults. */
	cfg = load_valid(VALID);
	assert_null(cfg->schema_registry.directory);
	assert_null(cfg->schema_registry.url);
	assert_int_equal(cfg->schema_registry.timeout_ms, 2000);
	assert_int_equal(cfg->schema_registry.unknown_id_retry_ms, 60000);
	config_free(cfg);

	expect_error(VALID "schema_registry:\n  url: https://registry:8081\n",
		     "schema_registry.url", "must start with http://", NULL);
	expect_error(VALID "schema_registry:\n  url: http://:8081\n", "schema_registry.url",
		     "has no host", NULL);
	expect_error(VALID "schema_registry:\n  url: http://h:1/?x=1\n", "schema_registry.url",
		     "query", NULL);
	expect_error(VALID "schema_registry:\n  timeout: 50ms\n", "schema_registry.timeout",
		     "at least 100ms", NULL);
	expect_error(VALID "schema_registry:\n  timeout: 1m\n", "schema_registry.timeout",
		     "at most 30s", NULL);
	expect_error(VALID "schema_registry:\n  unknown_id_retry: 2h\n",
		     "schema_registry.unknown_id_retry", "at most 1h", NULL);
	expect_error(VALID "schema_registry:\n  subject: x\n", "schema_registry.subject",
		     "unknown key", NULL);
	expect_error(VALID "schema_registry:\n  directory: /nonexistent-schemas\n",
		     "schema_registry.directory", "cannot open '/nonexistent-schemas'", NULL);
	expect_error(VALID "schema_registry:\n  directory: /etc/passwd\n",
		     "schema_registry.directory", "is not a folder", NULL);
}

/* Checks that VALID plus extra differs from VALID in restart-only key key ("": in none). */
static void expect_restart_key(const char *extra, const char *key)
{
	char yaml[4096], changed[128] = "";
	config *base = load_valid(VALID), *next;

	snprintf(yaml, sizeof yaml, "%s%s", VALID, extra);
	next = load_valid(yaml);
	if (key[0]) {
		assert_int_equal(config_restart_key_changed(base, next, changed, sizeof changed), 1);
		assert_string_equal(changed, key);
	} else {
		assert_int_equal(config_restart_key_changed(base, next, changed, sizeof changed), 0);
	}
	config_free(base);
	config_free(next);
}

static void test_restart_only_keys(void **state)
{
	expect_restart_key("", "");
	/* Reloadable: lateness, tick, group size, drain time, KPI metadata. */
	expect_restart_key("windows:\n  allowed_lateness: 1d\n  max_future: 1m\n", "");
	expect_restart_key("outputs:\n  tick_interval: 1s\n", "");
	expect_restart_key("shutdown:\n  drain_timeout: 1s\n", "");
	expect_restart_key("    owner: comms\n", "");
	expect_restart_key("redis:\n  key_prefix: other\n", "redis.key_prefix");
	expect_restart_key("redis:\n  port: 6380\n", "redis.host, redis.port or redis.unix_socket");
	expect_restart_key("redis:\n  password: s3cret\n", "redis.password");
	expect_restart_key("windows:\n  timezone: Europe/Berlin\n", "windows.timezone");
	expect_restart_key("windows:\n  retention: 40d\n", "windows.retention");
	expect_restart_key("windows:\n  granularities: [1h, 1d]\n", "windows.granularities");
	expect_restart_key("outputs:\n  kpi: {format: json}\n", "outputs.kpi");
	expect_restart_key("outputs:\n  governance: {topic: gov2}\n", "outputs.governance.topic");
	expect_restart_key("admin:\n  port: 9000\n", "admin.port");
	expect_restart_key("admin:\n  kpi_gauges: true\n", "admin.kpi_gauges");
	expect_restart_key("schema_registry:\n  url: http://127.0.0.1:1\n", "schema_registry.url");
	expect_restart_key("schema_registry:\n  directory: /tmp\n", "schema_registry.directory");
	expect_restart_key("schema_registry:\n  timeout: 1s\n", "schema_registry.timeout");
}

static void test_window_defaults(void **state)
{
	config *cfg = load_fixture("tests/fixtures/config/minimal.yaml");
	const char *names[] = {"1h", "24h", "7d", "28d"};
	const int64_t lengths[] = {3600000, 86400000, 7 * 86400000LL, 28 * 86400000LL};
	const size_t grans[] = {0, 1, 2, 2}; /* 5m, 1h, 1d, 1d */

	assert_int_equal(cfg->windows.n_granularities, 3);
	assert_int_equal(cfg->windows.granularities_ms[0], 300000);
	assert_int_equal(cfg->windows.granularities_ms[1], 3600000);
	assert_int_equal(cfg->windows.granularities_ms[2], 86400000);
	assert_int_equal(cfg->windows.retention_ms, 35 * 86400000LL);
	assert_int_equal(cfg->windows.allowed_lateness_ms, 7 * 86400000LL);
	assert_int_equal(cfg->windows.max_future_ms, 300000);
	assert_string_equal(cfg->windows.timezone, "UTC");

	assert_int_equal(cfg->windows.n_windows, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(cfg->windows.windows[i].name, names[i]);
		assert_int_equal(cfg->windows.windows[i].length_ms, lengths[i]);
		assert_int_equal(cfg->windows.windows[i].granularity, grans[i]);
	}
	config_free(cfg);
}

static void test_threshold_defaults(void **state)
{
	config *cfg = load_valid(KAFKA PRIVACY BEHAVIOURS KPIS "    thresholds:\n"
							       "      - id: kudos_low\n"
							       "        direction: below\n");
	const config_threshold *t = &cfg->kpis[0].thresholds[0];

	assert_int_equal(cfg->kpis[0].n_thresholds, 1);
	assert_float_equal(t->value, cfg->kpis[0].target, 0);
	assert_int_equal(t->for_ticks, 1);
	assert_string_equal(t->severity, "warning");
	assert_int_equal(t->scope_kinds, (1u << SCOPE_KIND_COUNT) - 1u);
	config_free(cfg);
}

static void test_custom_values(void **state)
{
	config *cfg;

	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0 && !getenv("TZDIR")) {
		print_message("skipped: no time zone data for Europe/Berlin\n");
		skip();
	}
	cfg = load_fixture("tests/fixtures/config/custom.yaml");

	assert_string_equal(cfg->kafka.bootstrap_servers, "broker1:9093,broker2:9093");
	assert_string_equal(cfg->kafka.group_id, "advocacyd-eu");
	assert_int_equal(cfg->kafka.inputs[1].format, INPUT_FORMAT_SLACK);
	assert_int_equal(cfg->kafka.batch_max_messages, 500);
	assert_int_equal(cfg->kafka.batch_max_ms, 0);
	assert_int_equal(cfg->kafka.n_properties, 4);
	assert_string_equal(cfg->kafka.properties[2].key, "socket.keepalive.enable");
	assert_string_equal(cfg->kafka.properties[2].value, "true");
	assert_string_equal(cfg->kafka.properties[3].value, "25");

	assert_string_equal(cfg->redis.host, "redis.internal");
	assert_int_equal(cfg->redis.port, 6380);
	assert_string_equal(cfg->redis.unix_socket, "/run/redis/redis.sock");
	assert_string_equal(cfg->redis.password, "s3cret-pass");
	assert_int_equal(cfg->redis.db, 3);
	assert_string_equal(cfg->redis.key_prefix, "adv.eu-1");
	assert_string_equal(cfg->privacy.key_id, "2024-07");
	assert_int_equal(cfg->privacy.min_group_size, 8);

	assert_int_equal(cfg->outputs.tick_interval_ms, 250);
	assert_string_equal(cfg->outputs.escalations.topic, "out.alerts");
	assert_int_equal(cfg->outputs.kpi.format, OUTPUT_FORMAT_JSON);
	assert_int_equal(cfg->outputs.dlq.format, OUTPUT_FORMAT_AVRO);
	assert_int_equal(cfg->outputs.dlq.schema_id, 13);
	config_free(cfg);
}

static void test_custom_windows_and_rules(void **state)
{
	config *cfg;
	const config_rule *r;
	const config_kpi *k;

	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) != 0 && !getenv("TZDIR")) {
		print_message("skipped: no time zone data for Europe/Berlin\n");
		skip();
	}
	cfg = load_fixture("tests/fixtures/config/custom.yaml");

	assert_int_equal(cfg->windows.n_granularities, 5);
	assert_int_equal(cfg->windows.granularities_ms[4], 7 * 86400000LL);
	assert_int_equal(cfg->windows.retention_ms, 90 * 86400000LL);
	assert_int_equal(cfg->windows.allowed_lateness_ms, 2 * 86400000LL);
	assert_int_equal(cfg->windows.max_future_ms, 90000);
	assert_string_equal(cfg->windows.timezone, "Europe/Berlin");
	assert_string_equal(cfg->windows.windows[0].name, "quarter_hour");
	assert_int_equal(cfg->windows.windows[0].granularity, 0); /* 1m: 15 buckets */
	assert_int_equal(cfg->windows.windows[1].granularity, 2); /* 6h, as configured */
	assert_int_equal(cfg->windows.windows[2].granularity, 4); /* 7d, as configured */
	assert_string_equal(cfg->windows.windows[3].name, "84d");
	assert_int_equal(cfg->windows.windows[3].granularity, 4); /* 7d: 12 buckets */

	r = &cfg->behaviours[0].rules[0];
	assert_string_equal(cfg->behaviours[0].description, "Kudos given in Slack");
	assert_int_equal(r->n_kinds, 2);
	assert_int_equal(r->n_sources, 2);
	assert_int_equal(r->n_channels, 3);
	assert_string_equal(r->reactions[0], "tada");
	assert_true(r->requires_targets);
	assert_int_equal(r->credit, CREDIT_TARGETS);
	assert_int_equal(r->effect, -1);

	k = &cfg->kpis[0];
	assert_string_equal(k->name, "Kudos contributors");
	assert_int_equal(k->n_behaviours, 2);
	assert_int_equal(k->behaviours[1], 1);
	assert_int_equal(k->aggregation, KPI_AGG_CONTRIBUTORS);
	assert_int_equal(k->indicator, INDICATOR_LAGGING);
	assert_float_equal(k->target, 12.5, 0);
	assert_int_equal(k->thresholds[0].direction, THRESHOLD_ABOVE);
	assert_float_equal(k->thresholds[0].value, 40, 0);
	assert_int_equal(k->thresholds[0].for_ticks, 4);
	assert_string_equal(k->thresholds[0].severity, "critical");
	assert_int_equal(k->thresholds[0].scope_kinds, 0x78);
	assert_float_equal(k->thresholds[1].value, 12.5, 0);
	assert_float_equal(cfg->kpis[1].target, -0.001, 1e-12);
	config_free(cfg);
}

static void test_relative_key_file(void **state)
{
	config *cfg = load_valid(VALID);

	assert_string_equal(cfg->privacy.key_file, tmp_key);
	assert_string_equal(cfg->path, tmp_config);
	config_free(cfg);
}

static void test_null_values_mean_default(void **state)
{
	config *cfg = load_valid(VALID "redis:\n  port: ~\n  password:\noutputs:\n");

	assert_int_equal(cfg->redis.port, 6379);
	assert_null(cfg->redis.password);
	assert_int_equal(cfg->outputs.tick_interval_ms, 10000);
	config_free(cfg);
}

static void test_admin_values(void **state)
{
	config *cfg = load_valid(VALID "admin:\n  enabled: false\n  listen_host: \"::1\"\n"
				       "  port: 0\n");

	assert_false(cfg->admin.enabled);
	assert_string_equal(cfg->admin.listen_host, "::1");
	assert_int_equal(cfg->admin.port, 0);
	config_free(cfg);

	cfg = load_valid(VALID "admin:\n  listen_host: 0.0.0.0\n  port: 65535\n");
	assert_true(cfg->admin.enabled);
	assert_string_equal(cfg->admin.listen_host, "0.0.0.0");
	assert_int_equal(cfg->admin.port, 65535);
	config_free(cfg);

	cfg = load_valid(VALID "admin:\n");
	assert_true(cfg->admin.enabled);
	assert_string_equal(cfg->admin.listen_host, "127.0.0.1");
	assert_int_equal(cfg->admin.port, 9464);
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Durations and names                                                       */

static void test_parse_duration(void **state)
{
	assert_int_equal(config_parse_duration("250ms"), 250);
	assert_int_equal(config_parse_duration("90s"), 90000);
	assert_int_equal(config_parse_duration("5m"), 300000);
	assert_int_equal(config_parse_duration("24h"), 86400000);
	assert_int_equal(config_parse_duration("7d"), 604800000);
	assert_int_equal(config_parse_duration("0s"), 0);
	assert_int_equal(config_parse_duration(""), -1);
	assert_int_equal(config_parse_duration("7"), -1);
	assert_int_equal(config_parse_duration("d"), -1);
	assert_int_equal(config_parse_duration("-5m"), -1);
	assert_int_equal(config_parse_duration("+5m"), -1);
	assert_int_equal(config_parse_duration(" 5m"), -1);
	assert_int_equal(config_parse_duration("5 m"), -1);
	assert_int_equal(config_parse_duration("1.5h"), -1);
	assert_int_equal(config_parse_duration("7days"), -1);
	assert_int_equal(config_parse_duration("1h30m"), -1);
	assert_int_equal(config_parse_duration("99999999999999999999d"), -1);
	assert_int_equal(config_parse_duration("999999999999999d"), -1);
	assert_int_equal(config_parse_duration(NULL), -1);
}

static void test_names(void **state)
{
	assert_string_equal(config_quadrant_name(QUADRANT_FINANCIAL), "financial");
	assert_string_equal(config_quadrant_name(QUADRANT_LEARNING_GROWTH), "learning_growth");
	assert_string_equal(config_indicator_name(INDICATOR_LAGGING), "lagging");
	assert_string_equal(config_aggregation_name(KPI_AGG_CONTRIBUTORS), "contributors");
	assert_string_equal(config_aggregation_name(KPI_AGG_PARTICIPATION), "participation");
	assert_string_equal(config_scope_kind_name(SCOPE_ORG), "org");
	assert_string_equal(config_scope_kind_name(SCOPE_EMPLOYMENT_TYPE), "employment_type");
	assert_string_equal(config_scope_kind_name(SCOPE_REGION), "region");
	assert_string_equal(config_scope_kind_name(SCOPE_KIND_COUNT), "unknown");
	assert_string_equal(config_alert_condition_name(ALERT_COND_THRESHOLD), "threshold");
	assert_string_equal(config_alert_condition_name(ALERT_COND_DEVIATION), "deviation");
	assert_string_equal(config_alert_condition_name(ALERT_COND_ZSCORE), "zscore");
	assert_string_equal(config_alert_condition_name(ALERT_COND_TREND), "trend");
	assert_string_equal(config_alert_condition_name(ALERT_COND_DISPARITY), "disparity");
	assert_string_equal(config_alert_condition_name(ALERT_COND_BIAS), "bias");
	assert_string_equal(config_alert_condition_name((alert_condition)6), "unknown");
}

/* ------------------------------------------------------------------------ */
/* Errors: keys and types                                                    */

static void test_unknown_key_fixture(void **state)
{
	expect_fixture_error("tests/fixtures/config/unknown-key.yaml", "redis.hostname: ",
			     "unknown key; allowed keys: host, port, unix_socket, password, db, "
			     "key_prefix");
}

static void test_unknown_key(void **state)
{
	expect_error(VALID "colour: blue\n", "colour", "unknown key", "kafka, redis, privacy",
		     NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS KPIS "    treshold: 1\n", "kpis[0].treshold",
		     "unknown key", "thresholds", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS
		     "  more:\n    rules:\n      - kinds: [x]\n        credits: actor\n" KPIS,
		     "behaviours.more.rules[0].credits", "allowed keys: kinds, sources", NULL);
}

static void test_duplicate_key(void **state)
{
	expect_error(VALID "redis:\n  db: 1\n  db: 2\n", "redis.db", "key given twice", NULL);
}

static void test_wrong_type_number(void **state)
{
	expect_error(VALID "redis:\n  port: redis\n", "redis.port",
		     "expected an integer, got 'redis'", NULL);
	expect_error(VALID "redis:\n  port: \"6379\"\n", "redis.port",
		     "expected an integer, got a quoted string", NULL);
	expect_error(VALID "redis:\n  port: 6379.5\n", "redis.port", "expected an integer", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS KPIS "    thresholds:\n      - id: t\n"
						   "        direction: below\n        value: low\n",
		     "kpis[0].thresholds[0].value", "expected a number, got 'low'", NULL);
}

static void test_wrong_type_list(void **state)
{
	expect_error("kafka:\n  bootstrap_servers: b\n  inputs: {topic: events}\n"
		     "  roster_topic: roster\n" PRIVACY BEHAVIOURS KPIS,
		     "kafka.inputs", "expected a list, got a map", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  id: kudos_rate\n", "kpis",
		     "expected a list, got a map", NULL);
}

static void test_wrong_type_map(void **state)
{
	expect_error(KAFKA "  properties: [client.id]\n" PRIVACY BEHAVIOURS KPIS,
		     "kafka.properties", "expected a map, got a list", NULL);
	expect_error(VALID "redis: localhost\n", "redis", "expected a map, got a scalar", NULL);
	expect_error("- kafka\n", "", "expected a map at the top level, got a list", NULL);
}

static void test_wrong_type_string(void **state)
{
	expect_error(KAFKA "  group_id: [a, b]\n" PRIVACY BEHAVIOURS KPIS, "kafka.group_id",
		     "expected a string, got a list", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: kudos_rate\n"
					      "    behaviours: [{id: kudos}]\n",
		     "kpis[0].behaviours[0]", "expected a string, got a map", NULL);
	expect_error(KAFKA "  group_id: \"\"\n" PRIVACY BEHAVIOURS KPIS, "kafka.group_id",
		     "must not be empty", NULL);
}

static void test_wrong_type_bool(void **state)
{
	expect_error(KAFKA PRIVACY "behaviours:\n  kudos:\n    rules:\n      - kinds: [k]\n"
				   "        requires_targets: yes\n" KPIS,
		     "behaviours.kudos.rules[0].requires_targets", "expected true or false", NULL);
}

static void test_missing_required(void **state)
{
	expect_error(
	    "kafka:\n  inputs: [{topic: events}]\n  roster_topic: roster\n" PRIVACY BEHAVIOURS KPIS,
	    "kafka.bootstrap_servers", "required key is missing", "add it to kafka", NULL);
	expect_error(KAFKA "privacy:\n  key_file: hmac.key\n" BEHAVIOURS KPIS, "privacy.key_id",
		     "required key is missing", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS, "kpis", "required key is missing",
		     "at the top level", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS
		     "kpis:\n  - id: kudos_rate\n"
		     "    behaviours: [kudos]\n    aggregation: rate\n    window: 7d\n"
		     "    quadrant: customer\n    indicator: leading\n    weight: 1\n",
		     "kpis[0].target", "required key is missing", NULL);
	expect_error(KAFKA PRIVACY "behaviours:\n  kudos:\n    description: no rules\n" KPIS,
		     "behaviours.kudos.rules", "required key is missing", NULL);
}

static void test_empty_lists(void **state)
{
	expect_error(
	    "kafka:\n  bootstrap_servers: b\n  inputs: []\n  roster_topic: r\n" PRIVACY BEHAVIOURS
		KPIS,
	    "kafka.inputs", "must list at least 1 item", NULL);
	expect_error(KAFKA PRIVACY "behaviours: {}\n" KPIS, "behaviours", "at least one behaviour",
		     NULL);
	expect_error(
	    KAFKA PRIVACY
	    "behaviours:\n  kudos:\n    rules:\n      - kinds: [k]\n        sources: []\n" KPIS,
	    "behaviours.kudos.rules[0].sources", "must list at least 1 item", NULL);
}

/* ------------------------------------------------------------------------ */
/* Errors: values                                                            */

static void test_invalid_enum(void **state)
{
	expect_error(
	    "kafka:\n  bootstrap_servers: b\n  inputs:\n    - topic: e\n      format: xml\n"
	    "  roster_topic: r\n" PRIVACY BEHAVIOURS KPIS,
	    "kafka.inputs[0].format", "invalid value 'xml'", "allowed values: avro, slack", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: kudos_rate\n"
					      "    behaviours: [kudos]\n    aggregation: average\n",
		     "kpis[0].aggregation", "invalid value 'average'",
		     "count, contributors, rate, participation", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS KPIS
		     "    thresholds:\n      - id: t\n"
		     "        direction: below\n        scopes: [org, city]\n",
		     "kpis[0].thresholds[0].scopes[1]", "invalid value 'city'", "work_mode", NULL);
	expect_error(VALID "outputs:\n  dlq: {format: protobuf}\n", "outputs.dlq.format",
		     "allowed values: avro, json", NULL);
}

static void test_invalid_range(void **state)
{
	expect_error(VALID "redis:\n  port: 70000\n", "redis.port",
		     "must be between 1 and 65535, got 70000", NULL);
	expect_error(VALID "redis:\n  db: 16\n", "redis.db", "between 0 and 15", NULL);
	expect_error(KAFKA "  batch_max_messages: 0\n" PRIVACY BEHAVIOURS KPIS,
		     "kafka.batch_max_messages", "between 1 and 1000000", NULL);
	expect_error(VALID "redis:\n  key_prefix: \"adv:x\"\n", "redis.key_prefix",
		     "invalid value 'adv:x'", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: Kudos-Rate\n" KPI_BODY, "kpis[0].id",
		     "lower-case letters, digits and '_'", NULL);
	expect_error(VALID "outputs:\n  tick_interval: 50ms\n", "outputs.tick_interval",
		     "must be at least 100ms, got 50ms", NULL);
}

static void test_admin_errors(void **state)
{
	expect_error(VALID "admin:\n  port: 70000\n", "admin.port",
		     "must be between 0 and 65535, got 70000", NULL);
	expect_error(VALID "admin:\n  port: -1\n", "admin.port", "between 0 and 65535", NULL);
	expect_error(VALID "admin:\n  port: \"9464\"\n", "admin.port",
		     "expected an integer, got a quoted string", NULL);
	expect_error(VALID "admin:\n  listen_host: localhost\n", "admin.listen_host",
		     "invalid address 'localhost'", "numeric IPv4 or IPv6 address", NULL);
	expect_error(VALID "admin:\n  listen_host: \"[::1]\"\n", "admin.listen_host",
		     "invalid address '[::1]'", NULL);
	expect_error(VALID "admin:\n  listen_host: 127.0.0.256\n", "admin.listen_host",
		     "invalid address '127.0.0.256'", NULL);
	expect_error(VALID "admin:\n  listen_host: \"\"\n", "admin.listen_host",
		     "must not be empty", NULL);
	expect_error(VALID "admin:\n  enabled: yes\n", "admin.enabled", "expected true or false",
		     NULL);
	expect_error(VALID "admin:\n  bind: 127.0.0.1\n", "admin.bind", "unknown key",
		     "enabled, listen_host, port", NULL);
	expect_error(VALID "admin: [9464]\n", "admin", "expected a map, got a list", NULL);
}

static void test_invalid_duration(void **state)
{
	expect_error(VALID "windows:\n  retention: 7days\n", "windows.retention",
		     "invalid duration '7days'", "ms, s, m, h or d", NULL);
	expect_error(VALID "windows:\n  granularities: [5m, 1x]\n", "windows.granularities[1]",
		     "invalid duration '1x'", NULL);
	expect_error(VALID "windows:\n  granularities: [0m]\n", "windows.granularities[0]",
		     "invalid duration '0m'", NULL);
}

static void test_granularity_rules(void **state)
{
	expect_error(VALID "windows:\n  granularities: [7m, 1d]\n", "windows.granularities[0]",
		     "7m does not divide one day", NULL);
	expect_error(VALID "windows:\n  granularities: [1h, 36h]\n", "windows.granularities[1]",
		     "36h is not a whole number of days", NULL);
	expect_error(VALID "windows:\n  granularities: [1h, 5m]\n", "windows.granularities[1]",
		     "ascending order", NULL);
	expect_error(VALID "windows:\n  granularities: [1m, 2m, 3m, 4m, 5m, 6m, 10m, 15m, 1h]\n",
		     "windows.granularities", "at most 8", NULL);
}

static void test_rolling_window_rules(void **state)
{
	expect_error(VALID "windows:\n  rolling:\n    - {length: 7d, granularity: 10m}\n",
		     "windows.rolling[0].granularity", "10m is not among windows.granularities",
		     "5m, 1h, 1d", NULL);
	expect_error(VALID "windows:\n  granularities: [1h, 1d, 7d]\n"
			   "  rolling:\n    - {length: 10d, granularity: 7d}\n",
		     "windows.rolling[0].granularity", "does not divide the window length", NULL);
	expect_error(VALID "windows:\n  granularities: [1d]\n", "windows.rolling", "window '1h'",
		     "at most 48 buckets", NULL);
	expect_error(VALID
		     "windows:\n  rolling:\n    - {length: 7d}\n    - {name: 7d, length: 8d}\n",
		     "windows.rolling[1].name", "already used by windows.rolling[0]", NULL);
	expect_error(VALID "windows:\n  retention: 20d\n", "windows.retention",
		     "20d is shorter than the longest rolling window '28d'", NULL);
	expect_error(VALID "windows:\n  rolling: [{length: 7d}]\n  retention: 7d\n"
			   "  allowed_lateness: 8d\n",
		     "windows.allowed_lateness", "exceeds windows.retention", NULL);
}

static void test_weights_must_sum_to_one(void **state)
{
	expect_error(KAFKA PRIVACY BEHAVIOURS
		     "kpis:\n  - id: a\n" KPI_BODY
		     "  - id: b\n    behaviours: [shares]\n    aggregation: count\n"
		     "    window: 28d\n    quadrant: customer\n    indicator: lagging\n"
		     "    weight: 0.25\n    target: 3\n",
		     "kpis", "weights sum to 1.25", "expected 1", NULL);
	expect_fixture_error("tests/fixtures/config/bad-weights.yaml",
			     "kpis: ", "weights sum to 0.9");
}

static void test_kpi_unknown_behaviour(void **state)
{
	expect_fixture_error("tests/fixtures/config/unknown-behaviour.yaml",
			     "kpis[0].behaviours[1]: ", "unknown behaviour 'kudo'");
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n    behaviours: [shares, kudoz]\n",
		     "kpis[0].behaviours[1]", "unknown behaviour 'kudoz'", "kudos, shares", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n    behaviours: [kudos, kudos]\n",
		     "kpis[0].behaviours[1]", "listed twice", NULL);
}

static void test_kpi_unknown_window(void **state)
{
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n    behaviours: [kudos]\n"
					      "    aggregation: rate\n    window: 30d\n",
		     "kpis[0].window", "unknown window '30d'", "1h, 24h, 7d, 28d", NULL);
}

static void test_duplicate_ids(void **state)
{
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: a\n" KPI_BODY "  - id: a\n",
		     "kpis[1].id", "KPI id 'a' is already used by kpis[0]", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS
		     "kpis:\n  - id: a\n" KPI_BODY "    thresholds: [{id: low, direction: below}]\n"
		     "  - id: b\n" KPI_BODY
		     "    thresholds:\n      - {id: high, direction: above}\n"
		     "      - {id: low, direction: above}\n",
		     "kpis[1].thresholds[1].id",
		     "threshold id 'low' is already used by kpis[0].thresholds[0]", NULL);
}

static void test_key_file_unreadable(void **state)
{
	char missing[400], yaml[1024];

	snprintf(missing, sizeof missing, "%s/no-such.key", tmp_dir);
	snprintf(yaml, sizeof yaml,
		 KAFKA "privacy:\n  key_file: %s\n  key_id: k1\n" BEHAVIOURS KPIS, missing);
	expect_error(yaml, "privacy.key_file", missing, "No such file or directory", NULL);

	expect_error(KAFKA "privacy:\n  key_file: .\n  key_id: k1\n" BEHAVIOURS KPIS,
		     "privacy.key_file", "is not a regular file", NULL);
}

/* A FIFO must be rejected at once; opening it for reading would wait for a writer. */
static void test_fifo_files_rejected(void **state)
{
	char fifo[400], yaml[1024];

	snprintf(fifo, sizeof fifo, "%s/fifo", tmp_dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	snprintf(yaml, sizeof yaml,
		 KAFKA "privacy:\n  key_file: %s\n  key_id: k1\n" BEHAVIOURS KPIS, fifo);
	expect_error(yaml, "privacy.key_file", "is not a regular file", NULL);
	expect_error(VALID "admin:\n  tokens_file: fifo\n", "admin.tokens_file",
		     "not a regular file", NULL);
	unlink(fifo);
}

static void test_unknown_timezone(void **state)
{
	expect_error(VALID "windows:\n  timezone: Mars/Olympus_Mons\n", "windows.timezone",
		     "unknown time zone 'Mars/Olympus_Mons'", "IANA name", NULL);
	expect_error(VALID "windows:\n  timezone: ../../etc/passwd\n", "windows.timezone",
		     "invalid time zone", NULL);
	/* A regular file under zoneinfo that is not a zone. */
	if (access("/usr/share/zoneinfo/leapseconds", R_OK) == 0 && !getenv("TZDIR"))
		expect_error(VALID "windows:\n  timezone: leapseconds\n", "windows.timezone",
			     "unknown time zone", NULL);
}

static void test_topic_clash(void **state)
{
	expect_error(VALID "outputs:\n  kpi: {topic: events}\n", "outputs.kpi.topic",
		     "also kafka.inputs[0].topic", NULL);
	expect_error(VALID "outputs:\n  dlq: {topic: roster}\n", "outputs.dlq.topic",
		     "also kafka.roster_topic", NULL);
	expect_error(VALID "outputs:\n  governance: {topic: roster}\n",
		     "outputs.governance.topic", "also kafka.roster_topic", NULL);
	expect_error(VALID "outputs:\n  governance: {format: avro}\n",
		     "outputs.governance.format",
		     "unknown key", "allowed keys: topic", NULL);
	expect_error("kafka:\n  bootstrap_servers: b\n  inputs: [{topic: e}, {topic: e}]\n"
		     "  roster_topic: r\n" PRIVACY BEHAVIOURS KPIS,
		     "kafka.inputs[1].topic", "already listed", NULL);
}

/* A graph input with the TEST-ONLY key of tests/fixtures/graph, then id and key errors. */
#define GRAPH_INPUT(format, graph)                                                                 \
	"kafka:\n  bootstrap_servers: b\n  roster_topic: r\n  inputs:\n"                           \
	"    - topic: teams\n      format: " format "\n" graph PRIVACY BEHAVIOURS KPIS
#define GRAPH_KEY(id, file) "        - {certificate_id: " id ", private_key_file: " file "}\n"

static void test_graph_input_keys(void **state)
{
	char key[512], yaml[2048];
	config *cfg;

	source_path(key, sizeof key, "tests/fixtures/graph/test-key.pem");
	snprintf(yaml, sizeof yaml,
		 GRAPH_INPUT("graph", "      graph:\n        keys:\n" GRAPH_KEY("cert-2025", "%s")
						  GRAPH_KEY("cert-2026", "%s")),
		 key, key);
	cfg = load_valid(yaml);
	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_GRAPH);
	assert_int_equal(cfg->kafka.inputs[0].n_graph_keys, 2);
	assert_string_equal(cfg->kafka.inputs[0].graph_keys[1].certificate_id, "cert-2026");
	assert_string_equal(cfg->kafka.inputs[0].graph_keys[1].private_key_file, key);
	config_free(cfg);

	/* Without keys: notifications that carry the message unencrypted only. */
	cfg = load_valid(GRAPH_INPUT("graph", ""));
	assert_int_equal(cfg->kafka.inputs[0].n_graph_keys, 0);
	config_free(cfg);

	snprintf(yaml, sizeof yaml,
		 GRAPH_INPUT("slack", "      graph:\n        keys:\n" GRAPH_KEY("c", "%s")), key);
	expect_error(yaml, "kafka.inputs[0].graph", "only read for format: graph", NULL);
	snprintf(yaml, sizeof yaml,
		 GRAPH_INPUT("graph", "      graph:\n        keys:\n" GRAPH_KEY("c", "%s")
						  GRAPH_KEY("c", "%s")),
		 key, key);
	expect_error(yaml, "kafka.inputs[0].graph.keys[1].certificate_id", "already listed", NULL);
	expect_error(GRAPH_INPUT("graph", "      graph:\n        keys: []\n"),
		     "kafka.inputs[0].graph.keys", "at least 1 item", NULL);
	expect_error(GRAPH_INPUT("graph", "      graph:\n        keys:\n"
					  GRAPH_KEY("c", "no-such.pem")),
		     "kafka.inputs[0].graph.keys[0].private_key_file", "cannot open", NULL);
	/* The HMAC key file is readable but no PEM private key. */
	expect_error(GRAPH_INPUT("graph", "      graph:\n        keys:\n"
					  GRAPH_KEY("c", "hmac.key")),
		     "kafka.inputs[0].graph.keys[0].private_key_file",
		     "no unencrypted PEM private key", NULL);
}

/* An analytics input with its event map, then map errors. */
#define ANALYTICS_INPUT(format, extra) GRAPH_INPUT(format, extra)

static void test_analytics_input_events(void **state)
{
	config *cfg = load_valid(ANALYTICS_INPUT("analytics", "      analytics:\n        events:\n"
								"          Article Published: content_published\n"
								"          \"Page 🚀 Seen\": page_viewed\n"));
	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_ANALYTICS);
	assert_int_equal(cfg->kafka.inputs[0].n_analytics_events, 2);
	assert_string_equal(cfg->kafka.inputs[0].analytics_events[0].key, "Article Published");
	assert_string_equal(cfg->kafka.inputs[0].analytics_events[0].value, "content_published");
	assert_string_equal(cfg->kafka.inputs[0].analytics_events[1].key, "Page 🚀 Seen");
	config_free(cfg);

	/* Without a map: the decoder's defaults. A viva input takes no options. */
	cfg = load_valid(ANALYTICS_INPUT("analytics", ""));
	assert_int_equal(cfg->kafka.inputs[0].n_analytics_events, 0);
	config_free(cfg);
	cfg = load_valid(ANALYTICS_INPUT("viva", ""));
	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_VIVA);
	config_free(cfg);

	expect_error(ANALYTICS_INPUT("viva", "      analytics:\n        events: {A: page_viewed}\n"),
		     "kafka.inputs[0].analytics", "only read for format: analytics", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics:\n        events: {A: viewed}\n"),
		     "kafka.inputs[0].analytics.events.A", "unknown kind 'viewed'",
		     "content_published, content_commented, content_liked, page_viewed", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics:\n        events: {A: }\n"),
		     "kafka.inputs[0].analytics.events.A", "has no kind", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics:\n        events: {A: [x]}\n"),
		     "kafka.inputs[0].analytics.events.A", "expected a string", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics:\n        events: {}\n"),
		     "kafka.inputs[0].analytics.events", "maps 0 event names", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics:\n        events:\n"
						  "          A: page_viewed\n          A: content_liked\n"),
		     "kafka.inputs[0].analytics.events.A", "key given twice", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics: {}\n"),
		     "kafka.inputs[0].analytics.events", "required key is missing", NULL);
	expect_error(ANALYTICS_INPUT("analytics", "      analytics: {names: {A: page_viewed}}\n"),
		     "kafka.inputs[0].analytics.names", "unknown key", NULL);
	expect_error(ANALYTICS_INPUT("avro", "      format: viva\n"), "kafka.inputs[0].format",
		     "key given twice", NULL);
	expect_error(ANALYTICS_INPUT("kafka-json", ""), "kafka.inputs[0].format", "viva",
		     "analytics", NULL);
}

/* More than DECODE_ANALYTICS_MAX_EVENTS (64) names, and a name over 200 bytes. */
static void test_analytics_input_limits(void **state)
{
	char yaml[8192], names[6000] = "", name[256];
	size_t n = 0;

	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(names + n, sizeof names - n, "          E%d: page_viewed\n", i);
	snprintf(yaml, sizeof yaml, ANALYTICS_INPUT("analytics", "      analytics:\n        events:\n%s"),
		 names);
	expect_error(yaml, "kafka.inputs[0].analytics.events", "maps 65 event names", "1 to 64",
		     NULL);

	memset(name, 'e', 201);
	name[201] = '\0';
	snprintf(yaml, sizeof yaml,
		 ANALYTICS_INPUT("analytics", "      analytics:\n        events: {%s: page_viewed}\n"),
		 name);
	expect_error(yaml, "kafka.inputs[0].analytics.events", "1 to 200 bytes", NULL);
}

/* ------------------------------------------------------------------------ */
/* Errors: the file itself                                                   */

static void test_syntax_error_fixture(void **state)
{
	expect_fixture_error("tests/fixtures/config/syntax-error.yaml",
			     "line 7, column 15: ", "YAML syntax error");
}

static void test_syntax_error_line_column(void **state)
{
	expect_error(KAFKA "  group_id: [a, b\n" PRIVACY, "", "line 7, column 8",
		     "YAML syntax error", "flow sequence at line 6, column 13", NULL);
	expect_error("kafka:\n  bootstrap_servers: \"unterminated\n", "", "line 3, column 1",
		     "YAML syntax error", "quoted scalar", NULL);
}

static void test_empty_and_missing_file(void **state)
{
	config *cfg = (config *)1;

	expect_error("# nothing here\n", "", "the file is empty", NULL);
	expect_error(VALID "---\nkafka: {}\n", "", "more than one YAML document", NULL);

	assert_int_equal(config_load("/nonexistent/advocacyd.yaml", &cfg, err, sizeof err), -1);
	assert_null(cfg);
	assert_string_equal(err,
			    "/nonexistent/advocacyd.yaml: cannot open: No such file or directory");
}

/* The Redis password and Kafka property values never appear in an error. */
static void test_errors_hide_secrets(void **state)
{
	expect_error(KAFKA "  properties:\n    sasl.password: hunter2-kafka\n    bad: [1]\n" PRIVACY
			 BEHAVIOURS KPIS,
		     "kafka.properties.bad", "expected a string, number or boolean", NULL);
	assert_null(strstr(err, "hunter2"));
	expect_error(VALID "redis:\n  password: hunter2-redis\n  port: x\n", "redis.port", NULL);
	assert_null(strstr(err, "hunter2"));
	expect_error(VALID "redis:\n  password: [hunter2-redis]\n", "redis.password",
		     "expected a string", NULL);
	assert_null(strstr(err, "hunter2"));
}

static void test_small_errstr(void **state)
{
	char small[8];
	config *cfg = NULL;

	write_file(tmp_config, VALID "colour: blue\n");
	assert_int_equal(config_load(tmp_config, &cfg, small, sizeof small), -1);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_int_equal(config_load(tmp_config, &cfg, NULL, 0), -1);
	assert_null(cfg);
}

/* Path of name inside the temporary folder. */
static void tmp_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmp_dir, name);
}

static void test_admin_access_defaults(void **state)
{
	config *cfg = load_valid(VALID);

	assert_null(cfg->admin.tokens_file);
	assert_null(cfg->admin.audit_log);
	assert_null(cfg->admin.tls.cert_file);
	assert_null(cfg->admin.tls.key_file);
	assert_int_equal(cfg->admin.n_open_paths, 3);
	assert_string_equal(cfg->admin.open_paths[0], "/healthz");
	assert_string_equal(cfg->admin.open_paths[1], "/readyz");
	assert_string_equal(cfg->admin.open_paths[2], "/metrics");
	assert_false(cfg->admin.kpi_gauges);
	config_free(cfg);
}

static void test_admin_access_values(void **state)
{
	char tokens[400], expected[400];
	config *cfg;

	tmp_path(tokens, sizeof tokens, "tokens");
	write_file(tokens, "ops admin 0123456789abcdef0123456789abcdef\n");
	cfg = load_valid(VALID "admin:\n  tokens_file: tokens\n  audit_log: audit.log\n"
			       "  open_paths: [/healthz]\n  kpi_gauges: true\n"
			       "  tls: {cert_file: hmac.key, key_file: hmac.key}\n");
	assert_string_equal(cfg->admin.tokens_file, tokens);
	tmp_path(expected, sizeof expected, "audit.log");
	assert_string_equal(cfg->admin.audit_log, expected);
	assert_int_equal(cfg->admin.n_open_paths, 1);
	assert_string_equal(cfg->admin.open_paths[0], "/healthz");
	assert_string_equal(cfg->admin.tls.cert_file, tmp_key);
	assert_string_equal(cfg->admin.tls.key_file, tmp_key);
	assert_true(cfg->admin.kpi_gauges);
	config_free(cfg);

	/* [] closes every health path, which a tokens file makes reachable. */
	cfg = load_valid(VALID "admin:\n  tokens_file: tokens\n  open_paths: []\n");
	assert_int_equal(cfg->admin.n_open_paths, 0);
	config_free(cfg);
	unlink(tokens);
}

static void test_admin_access_errors(void **state)
{
	char tokens[400];

	expect_error(VALID "admin:\n  tokens_file: missing-tokens\n", "admin.tokens_file",
		     "cannot open", "missing-tokens", NULL);
	expect_error(VALID "admin:\n  tokens_file: .\n", "admin.tokens_file",
		     "not a regular file", NULL);
	expect_error(VALID "admin:\n  audit_log: no/such/folder/audit.log\n", "admin.audit_log",
		     "does not exist", "no/such/folder", NULL);
	expect_error(VALID "admin:\n  audit_log: .\n", "admin.audit_log", "not a regular file",
		     NULL);
	expect_error(VALID "admin:\n  open_paths: [/api/kpis]\n", "admin.open_paths[0]",
		     "'/api/kpis' cannot be opened", "/healthz, /readyz, /metrics", NULL);
	expect_error(VALID "admin:\n  open_paths: /healthz\n", "admin.open_paths",
		     "expected a list", NULL);
	expect_error(VALID "admin:\n  open_paths: [/healthz, /readyz]\n", "admin.open_paths",
		     "leaves /metrics closed", "admin.tokens_file is not set", NULL);
	expect_error(VALID "admin:\n  tls: {cert_file: hmac.key}\n", "admin.tls.key_file",
		     "required key is missing", NULL);
	expect_error(VALID "admin:\n  tls: {cert_file: no.pem, key_file: hmac.key}\n",
		     "admin.tls.cert_file", "cannot open", "no.pem", NULL);
	expect_error(VALID "admin:\n  tls: {cert: hmac.key}\n", "admin.tls.cert",
		     "unknown key", "cert_file, key_file", NULL);
	expect_error(VALID "admin:\n  kpi_gauges: yes\n", "admin.kpi_gauges",
		     "expected true or false, got 'yes'", NULL);

	tmp_path(tokens, sizeof tokens, "tokens");
	write_file(tokens, "ops admin 0123456789abcdef0123456789abcdef\n");
	expect_error(VALID "admin:\n  tokens_file: tokens\n  open_paths: [/readyz, /readyz]\n",
		     "admin.open_paths[1]", "already listed at admin.open_paths[0]", NULL);
	unlink(tokens);
}

/* ------------------------------------------------------------------------ */
/* Escalation rules and the alerts section                                   */

/* VALID with one rule on kudos_rate (a rate KPI, target 1): a flow map after "id: r, ". */
#define RULE(body) VALID "    thresholds:\n      - {id: r, " body "}\n"
#define RULE_KP "kpis[0].thresholds[0]"
/* A config whose only KPI counts kudos, with the given target and one rule. */
#define COUNT_RULE(target, body)                                                                   \
	KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: kudos_count\n    behaviours: [kudos]\n"           \
				 "    aggregation: count\n    window: 7d\n"                        \
				 "    quadrant: learning_growth\n    indicator: leading\n"         \
				 "    weight: 1\n    target: " target "\n"                         \
				 "    thresholds:\n      - {id: r, " body "}\n"

static const config_threshold *first_rule(const config *cfg)
{
	assert_int_equal(cfg->kpis[0].n_thresholds, 1);
	return &cfg->kpis[0].thresholds[0];
}

static void test_rule_defaults(void **state)
{
	config *cfg = load_valid(RULE("direction: below"));
	const config_threshold *t = first_rule(cfg);

	assert_int_equal(t->condition, ALERT_COND_THRESHOLD);
	assert_false(t->has_value);
	assert_float_equal(t->value, 1, 0);
	assert_float_equal(t->resolve_value, 1, 0);
	assert_int_equal(t->for_ms, 0);
	assert_int_equal(t->keep_firing_for_ms, 0);
	assert_int_equal(t->repeat_interval_ms, 0);
	assert_int_equal(t->period_ms, 3600000);
	assert_int_equal(t->periods, 7);
	assert_int_equal(t->min_sample, 5);
	assert_string_equal(t->route, "default");
	assert_null(t->runbook_url);
	assert_null(t->labels);
	assert_int_equal(t->n_labels, 0);
	assert_int_equal(t->escalate_after_ms, 0);
	assert_null(t->escalate_owner);
	assert_null(t->escalate_severity);
	config_free(cfg);

	/* The route follows the owner when it is not given. */
	cfg = load_valid(RULE("direction: below, owner: HR business partners"));
	assert_string_equal(first_rule(cfg)->route, "HR business partners");
	config_free(cfg);
}

static void test_rule_condition_defaults(void **state)
{
	config *cfg = load_valid(RULE("condition: zscore, direction: above"));
	const config_threshold *t = first_rule(cfg);

	assert_int_equal(t->condition, ALERT_COND_ZSCORE);
	assert_false(t->has_value);
	assert_float_equal(t->value, 3, 0);
	assert_float_equal(t->resolve_value, 3, 0);
	config_free(cfg);

	cfg = load_valid(RULE("condition: trend, direction: below"));
	assert_int_equal(first_rule(cfg)->condition, ALERT_COND_TREND);
	assert_float_equal(first_rule(cfg)->value, 0, 0);
	config_free(cfg);

	cfg = load_valid(RULE("condition: deviation, direction: below, value: 20"));
	t = first_rule(cfg);
	assert_int_equal(t->condition, ALERT_COND_DEVIATION);
	assert_true(t->has_value);
	assert_float_equal(t->value, 20, 0);
	assert_float_equal(t->resolve_value, 20, 0);
	config_free(cfg);

	cfg = load_valid(RULE("condition: disparity"));
	t = first_rule(cfg);
	assert_int_equal(t->condition, ALERT_COND_DISPARITY);
	assert_int_equal(t->direction, THRESHOLD_BELOW);
	assert_float_equal(t->value, 0.8, 0);
	assert_float_equal(t->resolve_value, 0.8, 0);
	assert_int_equal(t->scope_kinds, ((1u << SCOPE_KIND_COUNT) - 1u) & ~(1u << SCOPE_ORG));
	assert_int_equal(t->min_sample, 5);
	config_free(cfg);

	/* Explicit 'threshold' is the default condition; a given value sets has_value. */
	cfg = load_valid(RULE("condition: threshold, direction: above, value: 2"));
	assert_int_equal(first_rule(cfg)->condition, ALERT_COND_THRESHOLD);
	assert_true(first_rule(cfg)->has_value);
	config_free(cfg);
}

static void test_rule_all_keys(void **state)
{
	config *cfg = load_valid(
	    RULE("condition: trend, direction: below, value: -5, resolve_value: 0, for_ticks: 2, "
		 "for: 10m, keep_firing_for: 1h, repeat_interval: 4h, period: 1d, periods: 4, "
		 "severity: error, scopes: [org, team], owner: Comms, route: comms-oncall, "
		 "runbook_url: \"https://wiki.example.com/runbooks/trend?id=1\", "
		 "labels: {team: comms, tier_1: \"yes\"}, rationale: Falling reach, "
		 "escalate: {after: 2d, owner: Comms leadership, severity: critical}"));
	const config_threshold *t = first_rule(cfg);

	assert_int_equal(t->condition, ALERT_COND_TREND);
	assert_int_equal(t->direction, THRESHOLD_BELOW);
	assert_float_equal(t->value, -5, 0);
	assert_float_equal(t->resolve_value, 0, 0);
	assert_int_equal(t->for_ticks, 2);
	assert_int_equal(t->for_ms, 600000);
	assert_int_equal(t->keep_firing_for_ms, 3600000);
	assert_int_equal(t->repeat_interval_ms, 4 * 3600000);
	assert_int_equal(t->period_ms, 86400000);
	assert_int_equal(t->periods, 4);
	assert_string_equal(t->severity, "error");
	assert_int_equal(t->scope_kinds, (1u << SCOPE_ORG) | (1u << SCOPE_TEAM));
	assert_string_equal(t->owner, "Comms");
	assert_string_equal(t->route, "comms-oncall");
	assert_string_equal(t->runbook_url, "https://wiki.example.com/runbooks/trend?id=1");
	assert_int_equal(t->n_labels, 2);
	assert_string_equal(t->labels[0].key, "team");
	assert_string_equal(t->labels[0].value, "comms");
	assert_string_equal(t->labels[1].key, "tier_1");
	assert_string_equal(t->labels[1].value, "yes");
	assert_string_equal(t->rationale, "Falling reach");
	assert_int_equal(t->escalate_after_ms, 2 * 86400000LL);
	assert_string_equal(t->escalate_owner, "Comms leadership");
	assert_string_equal(t->escalate_severity, "critical");
	config_free(cfg);

	cfg = load_valid(RULE("condition: disparity, value: 0.7, resolve_value: 0.75, "
			      "scopes: [work_mode, region], min_sample: 12"));
	t = first_rule(cfg);
	assert_int_equal(t->scope_kinds, (1u << SCOPE_WORK_MODE) | (1u << SCOPE_REGION));
	assert_int_equal(t->min_sample, 12);
	assert_float_equal(t->resolve_value, 0.75, 0);
	config_free(cfg);
}

static void test_rule_condition_errors(void **state)
{
	expect_error(RULE("condition: ratio, direction: below"), RULE_KP ".condition",
		     "invalid value 'ratio'", "threshold, deviation, zscore, trend, disparity",
		     NULL);
	expect_error(RULE("condition: zscore"), RULE_KP ".direction", "required key", NULL);
	expect_error(RULE("condition: disparity, direction: above"), RULE_KP ".direction",
		     "must be below or left out for a disparity rule", NULL);
	expect_error(RULE("condition: deviation, direction: below"), RULE_KP ".value",
		     "required for a deviation rule", NULL);
	expect_error(RULE("condition: deviation, direction: below, value: 0"), RULE_KP ".value",
		     "percentage above 0", NULL);
	expect_error(RULE("condition: deviation, direction: above, value: -10"), RULE_KP ".value",
		     "percentage above 0", NULL);
	expect_error(RULE("condition: zscore, direction: above, value: 0"), RULE_KP ".value",
		     "standard deviations above 0", NULL);
	expect_error(RULE("condition: disparity, value: 0"), RULE_KP ".value",
		     "ratio above 0 and at most 1", NULL);
	expect_error(RULE("condition: disparity, value: 1.2"), RULE_KP ".value",
		     "ratio above 0 and at most 1", NULL);
	expect_error(RULE("condition: trend, direction: below, value: fast"), RULE_KP ".value",
		     "expected a number, got 'fast'", NULL);
	expect_error(COUNT_RULE("0", "condition: deviation, direction: below, value: 10"),
		     RULE_KP ".condition", "target of KPI 'kudos_count' is 0", NULL);
	expect_error(COUNT_RULE("5", "condition: disparity"), RULE_KP ".condition",
		     "aggregation count", "rate or participation", NULL);

	/* A count KPI takes every other condition. */
	config_free(
	    load_valid(COUNT_RULE("5", "condition: deviation, direction: below, value: 10")));
}

static void test_rule_resolve_value(void **state)
{
	config *cfg = load_valid(RULE("direction: below, value: 0.5, resolve_value: 0.6"));

	assert_float_equal(first_rule(cfg)->resolve_value, 0.6, 0);
	config_free(cfg);
	cfg = load_valid(RULE("direction: above, value: 3, resolve_value: 2.5"));
	assert_float_equal(first_rule(cfg)->resolve_value, 2.5, 0);
	config_free(cfg);
	/* Without value, a threshold rule's bound is the target (1). */
	cfg = load_valid(RULE("direction: below, resolve_value: 1.2"));
	assert_float_equal(first_rule(cfg)->resolve_value, 1.2, 0);
	config_free(cfg);
	/* Distances resolve closer in, whatever the direction. */
	cfg = load_valid(RULE("condition: zscore, direction: below, value: 3, resolve_value: 1"));
	assert_float_equal(first_rule(cfg)->resolve_value, 1, 0);
	config_free(cfg);

	expect_error(RULE("direction: below, value: 0.5, resolve_value: 0.4"),
		     RULE_KP ".resolve_value", "is 0.4, below value (0.5)", "at least 0.5", NULL);
	expect_error(RULE("direction: above, value: 3, resolve_value: 3.5"),
		     RULE_KP ".resolve_value", "is 3.5, above value (3)", "at most 3", NULL);
	expect_error(RULE("direction: below, resolve_value: 0.9"), RULE_KP ".resolve_value",
		     "below the KPI's target (1)", NULL);
	expect_error(RULE("condition: trend, direction: above, value: 10, resolve_value: 12"),
		     RULE_KP ".resolve_value", "above value (10)", NULL);
	expect_error(RULE("condition: deviation, direction: below, value: 20, resolve_value: 25"),
		     RULE_KP ".resolve_value", "between 0 and value (20)", NULL);
	expect_error(RULE("condition: zscore, direction: above, resolve_value: -1"),
		     RULE_KP ".resolve_value", "between 0 and value (3)", NULL);
	expect_error(RULE("condition: disparity, value: 0.8, resolve_value: 0.7"),
		     RULE_KP ".resolve_value", "between value (0.8) and 1", NULL);
	expect_error(RULE("condition: disparity, resolve_value: 1.1"), RULE_KP ".resolve_value",
		     "between value (0.8) and 1", NULL);
}

static void test_rule_timing_errors(void **state)
{
	config *cfg = load_valid(RULE(
	    "direction: below, repeat_interval: 0s, for: 0s") "outputs:\n  tick_interval: 1m\n");

	assert_int_equal(first_rule(cfg)->repeat_interval_ms, 0);
	config_free(cfg);
	cfg = load_valid(
	    RULE("direction: below, repeat_interval: 1m") "outputs:\n  tick_interval: 1m\n");
	assert_int_equal(first_rule(cfg)->repeat_interval_ms, 60000);
	config_free(cfg);

	expect_error(RULE("direction: below, for: soon"), RULE_KP ".for", "invalid duration 'soon'",
		     NULL);
	expect_error(RULE("direction: below, keep_firing_for: -1m"), RULE_KP ".keep_firing_for",
		     "invalid duration '-1m'", NULL);
	expect_error(RULE("direction: below, for_ticks: 0"), RULE_KP ".for_ticks", "between 1 and",
		     NULL);
	expect_error(
	    RULE("direction: below, repeat_interval: 30s") "outputs:\n  tick_interval: 1m\n",
	    RULE_KP ".repeat_interval", "30s is shorter than outputs.tick_interval (1m)",
	    "0 (never) or at least 1m", NULL);
	expect_error(RULE("direction: below, period: 1d"), RULE_KP ".period",
		     "applies only to zscore and trend rules", NULL);
	expect_error(RULE("condition: deviation, direction: below, value: 5, periods: 3"),
		     RULE_KP ".periods", "applies only to zscore and trend rules", NULL);
	expect_error(RULE("condition: zscore, direction: below, period: 500ms"), RULE_KP ".period",
		     "at least 1s", NULL);
	expect_error(RULE("condition: trend, direction: below, period: 30s") "outputs:\n  "
									     "tick_interval: 1m\n",
		     RULE_KP ".period", "30s is shorter than outputs.tick_interval (1m)", NULL);
	expect_error(RULE("condition: zscore, direction: below, periods: 1"), RULE_KP ".periods",
		     "between 2 and 64", NULL);
	expect_error(RULE("condition: trend, direction: below, periods: 65"), RULE_KP ".periods",
		     "between 2 and 64", NULL);
}

/* The HR adapters' formats, eNPS suppression and the enps aggregation. */
static void test_hr_inputs_and_enps(void **state)
{
	config *cfg = load_valid("kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n"
				 "  inputs:\n    - {topic: gh, format: greenhouse}\n"
				 "    - {topic: lrs, format: xapi}\n"
				 "    - {topic: tf, format: typeform}\n"
				 "  roster_topic: roster\n" PRIVACY "  min_respondents: 3\n"
				 BEHAVIOURS "  neutral:\n    rules:\n      - kinds: [x]\n"
				 "kpis:\n  - id: e\n"
				 "    behaviours: [kudos, neutral, shares]\n    aggregation: enps\n"
				 "    window: 7d\n    quadrant: learning_growth\n"
				 "    indicator: lagging\n    weight: 1\n    target: 20\n");

	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_GREENHOUSE);
	assert_int_equal(cfg->kafka.inputs[1].format, INPUT_FORMAT_XAPI);
	assert_int_equal(cfg->kafka.inputs[2].format, INPUT_FORMAT_TYPEFORM);
	assert_int_equal(cfg->privacy.min_respondents, 3);
	assert_int_equal(cfg->kpis[0].aggregation, KPI_AGG_ENPS);
	assert_string_equal(config_aggregation_name(KPI_AGG_ENPS), "enps");
	config_free(cfg);

	expect_error(KAFKA PRIVACY "  min_respondents: 2\n" BEHAVIOURS KPIS,
		     "privacy.min_respondents", "between 3 and", NULL);
	expect_error(KAFKA PRIVACY "  min_respondents: many\n" BEHAVIOURS KPIS,
		     "privacy.min_respondents", "expected an integer", NULL);
	expect_error(KAFKA PRIVACY BEHAVIOURS "kpis:\n  - id: e\n"
		     "    behaviours: [kudos, shares]\n    aggregation: enps\n"
		     "    window: 7d\n    quadrant: learning_growth\n"
		     "    indicator: lagging\n    weight: 1\n    target: 20\n",
		     "kpis[0].behaviours", "exactly three behaviours",
		     "promoters, passives, detractors", "got 2", NULL);
	expect_error("kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n"
		     "  inputs:\n    - {topic: tf, format: surveymonkey}\n"
		     "  roster_topic: roster\n" PRIVACY BEHAVIOURS KPIS,
		     "kafka.inputs[0].format", "greenhouse", "xapi", "typeform", NULL);
}

static void test_rule_disparity_sample(void **state)
{
	/* The default follows privacy.min_group_size, which is never below 3. */
	config *cfg = load_valid(KAFKA "privacy:\n  key_file: hmac.key\n  key_id: k1\n"
				       "  min_group_size: 3\n" BEHAVIOURS KPIS
				       "    thresholds:\n      - {id: r, condition: disparity}\n");

	assert_int_equal(first_rule(cfg)->min_sample, 3);
	config_free(cfg);
	cfg = load_valid(KAFKA "privacy:\n  key_file: hmac.key\n  key_id: k1\n"
			       "  min_group_size: 8\n" BEHAVIOURS KPIS
			       "    thresholds:\n      - {id: r, condition: disparity}\n");
	assert_int_equal(first_rule(cfg)->min_sample, 8);
	config_free(cfg);

	expect_error(RULE("condition: disparity, min_sample: 2"), RULE_KP ".min_sample",
		     "between 3 and", NULL);
	expect_error(RULE("direction: below, min_sample: 10"), RULE_KP ".min_sample",
		     "applies only to disparity rules", NULL);
	expect_error(RULE("condition: disparity, scopes: [org, team]"), RULE_KP ".scopes",
		     "lists org", "[department, work_mode]", NULL);
}

static void test_rule_route_and_runbook(void **state)
{
	char yaml[4096], long_text[600];

	expect_error(RULE("direction: below, route: oncall@example.com"), RULE_KP ".route",
		     "e-mail address", NULL);
	expect_error(RULE("direction: below, route: \"a\\nb\""), RULE_KP ".route", "one line",
		     NULL);
	memset(long_text, 'r', 121);
	long_text[121] = '\0';
	snprintf(yaml, sizeof yaml, RULE("direction: below, route: %s"), long_text);
	expect_error(yaml, RULE_KP ".route", "121 bytes long", "at most 120", NULL);

	config *cfg = load_valid(RULE("direction: below, runbook_url: \"http://wiki/runbook\""));
	assert_string_equal(first_rule(cfg)->runbook_url, "http://wiki/runbook");
	config_free(cfg);
	expect_error(RULE("direction: below, runbook_url: \"ftp://wiki/runbook\""),
		     RULE_KP ".runbook_url", "must start with https:// or http://", NULL);
	expect_error(RULE("direction: below, runbook_url: wiki.example.com/runbook"),
		     RULE_KP ".runbook_url", "must start with https:// or http://", NULL);
	expect_error(RULE("direction: below, runbook_url: \"https:///runbook\""),
		     RULE_KP ".runbook_url", "names no host", NULL);
	expect_error(RULE("direction: below, runbook_url: \"https://\""), RULE_KP ".runbook_url",
		     "names no host", NULL);
	expect_error(RULE("direction: below, runbook_url: \"https://wiki/run book\""),
		     RULE_KP ".runbook_url", "space or control character at byte 16", "%20", NULL);
	expect_error(RULE("direction: below, runbook_url: \"https://wiki/\\trunbook\""),
		     RULE_KP ".runbook_url", "space or control character", NULL);
	/* "https://w/" and 490 characters make the longest address, 500 bytes. */
	memset(long_text, 'a', 490);
	long_text[490] = '\0';
	snprintf(yaml, sizeof yaml, RULE("direction: below, runbook_url: \"https://w/%s\""),
		 long_text);
	config_free(load_valid(yaml));
	memset(long_text, 'a', 491);
	long_text[491] = '\0';
	snprintf(yaml, sizeof yaml, RULE("direction: below, runbook_url: \"https://w/%s\""),
		 long_text);
	expect_error(yaml, RULE_KP ".runbook_url", "501 bytes long", "at most 500", NULL);
}

/* A KPI and a behaviour with one rule given as a flow map; weight 1. */
#define ONE_RULE(rule)                                                                             \
	KAFKA PRIVACY "behaviours:\n  clicks: {rules: [" rule "]}\n"                              \
		      "kpis:\n  - id: clicks_total\n    behaviours: [clicks]\n"                     \
		      "    aggregation: count\n    window: 7d\n    quadrant: customer\n"            \
		      "    indicator: leading\n    weight: 1\n    target: 100\n"

static void test_rule_consent_and_amount(void **state)
{
	config *cfg = load_valid(ONE_RULE(
	    "{kinds: [share_clicks], requires_consent: external_sharing, amount_attribute: clicks,"
	    " amount_max: 5000}, {kinds: [share_reach], amount_attribute: reach}, "
	    "{kinds: [share_external]}"));
	const config_rule *r = cfg->behaviours[0].rules;

	(void)state;
	assert_int_equal(r[0].requires_consent, CONSENT_EXTERNAL_SHARING);
	assert_string_equal(r[0].amount_attribute, "clicks");
	assert_int_equal(r[0].amount_max, 5000);
	assert_int_equal(r[1].requires_consent, CONSENT_NONE);
	assert_string_equal(r[1].amount_attribute, "reach");
	assert_int_equal(r[1].amount_max, CONFIG_AMOUNT_MAX_DEFAULT);
	assert_null(r[2].amount_attribute);
	assert_string_equal(config_consent_name(CONSENT_EXTERNAL_SHARING), "external_sharing");
	assert_null(config_consent_name(CONSENT_NONE));
	config_free(cfg);

	cfg = load_valid(GRAPH_INPUT("social", ""));
	assert_int_equal(cfg->kafka.inputs[0].format, INPUT_FORMAT_SOCIAL);
	config_free(cfg);
}

static void test_rule_consent_and_amount_errors(void **state)
{
	(void)state;
	expect_error(ONE_RULE("{kinds: [s], requires_consent: marketing}"),
		     "behaviours.clicks.rules[0].requires_consent", "invalid value 'marketing'",
		     "external_sharing", NULL);
	expect_error(ONE_RULE("{kinds: [s], requires_consent: external_sharing, credit: targets}"),
		     "behaviours.clicks.rules[0].requires_consent", "credit the actor",
		     "credit: actor", NULL);
	expect_error(ONE_RULE("{kinds: [s], amount_attribute: \"click count\"}"),
		     "behaviours.clicks.rules[0].amount_attribute", "invalid value 'click count'",
		     "letters, digits", NULL);
	expect_error(ONE_RULE("{kinds: [s], amount_max: 10}"),
		     "behaviours.clicks.rules[0].amount_max", "only with amount_attribute", NULL);
	expect_error(ONE_RULE("{kinds: [s], amount_attribute: clicks, amount_max: 0}"),
		     "behaviours.clicks.rules[0].amount_max", "between 1 and 1000000000", NULL);
	expect_error(ONE_RULE("{kinds: [s], amount_attribute: clicks, amount_max: 1000000001}"),
		     "behaviours.clicks.rules[0].amount_max", "between 1 and 1000000000", NULL);
	expect_error(ONE_RULE("{kinds: [s], amount_attribute: clicks, amount_max: \"10\"}"),
		     "behaviours.clicks.rules[0].amount_max", "remove the quotes", NULL);
	expect_error(ONE_RULE("{kinds: [s], amount_attribute: [clicks]}"),
		     "behaviours.clicks.rules[0].amount_attribute", NULL);
}

static void test_rule_labels(void **state)
{
	char yaml[4096], text[300];
	size_t len = 0;

	config *cfg = load_valid(RULE("direction: below, labels: {}"));
	assert_int_equal(first_rule(cfg)->n_labels, 0);
	config_free(cfg);

	expect_error(RULE("direction: below, labels: [team]"), RULE_KP ".labels", "expected a map",
		     NULL);
	expect_error(RULE("direction: below, labels: {Team: comms}"), RULE_KP ".labels.Team",
		     "invalid label name 'Team'", "lower-case", NULL);
	expect_error(RULE("direction: below, labels: {1st: comms}"), RULE_KP ".labels.1st",
		     "invalid label name '1st'", NULL);
	expect_error(RULE("direction: below, labels: {team-name: comms}"),
		     RULE_KP ".labels.team-name", "invalid label name", NULL);
	expect_error(RULE("direction: below, labels: {team: }"), RULE_KP ".labels.team",
		     "has no value", NULL);
	expect_error(RULE("direction: below, labels: {team: \"\"}"), RULE_KP ".labels.team",
		     "must not be empty", NULL);
	expect_error(RULE("direction: below, labels: {team: [a]}"), RULE_KP ".labels.team",
		     "expected a string", NULL);
	expect_error(RULE("direction: below, labels: {contact: ops@example.com}"),
		     RULE_KP ".labels.contact", "contains '@'", NULL);
	expect_error(RULE("direction: below, labels: {team: \"a\\nb\"}"), RULE_KP ".labels.team",
		     "one line", NULL);
	expect_error(RULE("direction: below, labels: {team: a, team: b}"), RULE_KP ".labels.team",
		     "key given twice", NULL);

	/* 63 characters is the longest name, 200 the longest value. */
	memset(text, 'n', 64);
	text[64] = '\0';
	snprintf(yaml, sizeof yaml, RULE("direction: below, labels: {%s: x}"), text);
	expect_error(yaml, "", "invalid label name", "at most 63", NULL);
	text[63] = '\0';
	snprintf(yaml, sizeof yaml, RULE("direction: below, labels: {%s: x}"), text);
	config_free(load_valid(yaml));
	memset(text, 'v', 201);
	text[201] = '\0';
	snprintf(yaml, sizeof yaml, RULE("direction: below, labels: {team: %s}"), text);
	expect_error(yaml, RULE_KP ".labels.team", "201 bytes long", "at most 200", NULL);

	/* At most 16 labels. */
	text[0] = '\0';
	for (int i = 0; i < 17; i++)
		len +=
		    (size_t)snprintf(text + len, sizeof text - len, "%sl%d: v", i ? ", " : "", i);
	snprintf(yaml, sizeof yaml, RULE("direction: below, labels: {%s}"), text);
	expect_error(yaml, RULE_KP ".labels", "has 17 labels", "at most 16", NULL);
}

static void test_rule_escalate(void **state)
{
	config *cfg = load_valid(RULE("direction: below, severity: warning, "
				      "escalate: {after: 90m, severity: error}"));
	const config_threshold *t = first_rule(cfg);

	assert_int_equal(t->escalate_after_ms, 5400000);
	assert_null(t->escalate_owner);
	assert_string_equal(t->escalate_severity, "error");
	config_free(cfg);
	cfg = load_valid(RULE("direction: below, escalate: {after: 1d, owner: HR leadership}"));
	assert_string_equal(first_rule(cfg)->escalate_owner, "HR leadership");
	assert_null(first_rule(cfg)->escalate_severity);
	config_free(cfg);

	expect_error(RULE("direction: below, escalate: {owner: HR}"), RULE_KP ".escalate.after",
		     "required key", NULL);
	expect_error(RULE("direction: below, escalate: {after: 0s, owner: HR}"),
		     RULE_KP ".escalate.after", "at least 1ms", NULL);
	expect_error(RULE("direction: below, escalate: {after: 1h}"), RULE_KP ".escalate",
		     "neither owner nor severity", NULL);
	expect_error(RULE("direction: below, owner: HR, escalate: {after: 1h, owner: HR}"),
		     RULE_KP ".escalate", "changes neither", NULL);
	expect_error(RULE("direction: below, escalate: {after: 1h, severity: warning}"),
		     RULE_KP ".escalate", "changes neither", NULL);
	expect_error(RULE("direction: below, escalate: {after: 1h, severity: urgent}"),
		     RULE_KP ".escalate.severity", "invalid value 'urgent'", NULL);
	expect_error(RULE("direction: below, escalate: {after: 1h, owner: boss@example.com}"),
		     RULE_KP ".escalate.owner", "e-mail address", NULL);
	expect_error(RULE("direction: below, escalate: {after: 1h, owner: HR, to: x}"),
		     RULE_KP ".escalate.to", "unknown key", "after, owner, severity", NULL);
	expect_error(RULE("direction: below, escalate: 1h"), RULE_KP ".escalate", "expected a map",
		     NULL);
}

static void test_alerts_defaults_and_values(void **state)
{
	config *cfg = load_valid(VALID);

	assert_int_equal(cfg->alerts.max_firings_per_tick, 10);
	assert_int_equal(cfg->alerts.lease_ttl_ms, 10000);
	assert_string_equal(cfg->alerts.source, "/advocacyd/advocacyd");
	assert_false(cfg->alerts.structured);
	config_free(cfg);

	cfg =
	    load_valid(VALID "alerts:\n  max_firings_per_tick: 10000\n  lease_ttl: 5m\n"
			     "  source: \"urn:advocacyd:eu-1\"\n  cloudevents_mode: structured\n");
	assert_int_equal(cfg->alerts.max_firings_per_tick, 10000);
	assert_int_equal(cfg->alerts.lease_ttl_ms, 300000);
	assert_string_equal(cfg->alerts.source, "urn:advocacyd:eu-1");
	assert_true(cfg->alerts.structured);
	config_free(cfg);

	cfg = load_valid(VALID "alerts:\n  lease_ttl: 2s\n  source: /a%2Fb\n"
			       "  cloudevents_mode: binary\n");
	assert_int_equal(cfg->alerts.lease_ttl_ms, 2000);
	assert_string_equal(cfg->alerts.source, "/a%2Fb");
	assert_false(cfg->alerts.structured);
	config_free(cfg);

	/* The default source percent-encodes the group id. */
	cfg = load_valid(
	    "kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n  group_id: eu 1/ä\n"
	    "  inputs: [{topic: events}]\n  roster_topic: roster\n" PRIVACY BEHAVIOURS KPIS);
	assert_string_equal(cfg->alerts.source, "/advocacyd/eu%201%2F%C3%A4");
	config_free(cfg);
}

static void test_alerts_errors(void **state)
{
	char yaml[4096], long_text[300];

	expect_error(VALID "alerts:\n  max_firings_per_tick: 0\n", "alerts.max_firings_per_tick",
		     "between 1 and 10000", NULL);
	expect_error(VALID "alerts:\n  max_firings_per_tick: 10001\n",
		     "alerts.max_firings_per_tick", "between 1 and 10000", NULL);
	expect_error(VALID "alerts:\n  lease_ttl: 1s\n", "alerts.lease_ttl", "at least 2s", NULL);
	expect_error(VALID "alerts:\n  lease_ttl: 301s\n", "alerts.lease_ttl", "at most 5m", NULL);
	expect_error(VALID "alerts:\n  source: \"/advocacy d\"\n", "alerts.source",
		     "not a URI reference", "byte 9 (0x20)", NULL);
	expect_error(VALID "alerts:\n  source: \"/a%zz\"\n", "alerts.source", "not a URI reference",
		     "byte 2", NULL);
	expect_error(VALID "alerts:\n  source: \"/a%4\"\n", "alerts.source", "not a URI reference",
		     NULL);
	expect_error(VALID "alerts:\n  source: \"\"\n", "alerts.source", "must not be empty", NULL);
	expect_error(VALID "alerts:\n  cloudevents_mode: batched\n", "alerts.cloudevents_mode",
		     "invalid value 'batched'", "binary, structured", NULL);
	expect_error(VALID "alerts:\n  storm_limit: 5\n", "alerts.storm_limit", "unknown key",
		     "max_firings_per_tick", NULL);
	expect_error(VALID "alerts: [binary]\n", "alerts", "expected a map", NULL);

	memset(long_text, 's', 200);
	long_text[200] = '\0';
	snprintf(yaml, sizeof yaml, VALID "alerts:\n  source: /%s\n", long_text);
	expect_error(yaml, "alerts.source", "201 bytes long", "at most 200", NULL);
	/* A group id that makes the default too long needs an explicit source. */
	memset(long_text, 'g', 190);
	long_text[190] = '\0';
	snprintf(yaml, sizeof yaml,
		 "kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n  group_id: %s\n"
		 "  inputs: [{topic: events}]\n  roster_topic: roster\n" PRIVACY BEHAVIOURS KPIS,
		 long_text);
	expect_error(yaml, "alerts.source", "the default", "kafka.group_id", "201 bytes", NULL);
}

/* Rules and the alerts section change with a reload. */
static void test_alerts_reloadable(void **state)
{
	expect_restart_key("alerts:\n  lease_ttl: 30s\n  cloudevents_mode: structured\n"
			   "  max_firings_per_tick: 3\n  source: /x\n",
			   "");
	expect_restart_key(
	    "    thresholds:\n      - {id: r, condition: zscore, direction: below}\n", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_config_loads),
	    cmocka_unit_test(test_test_copy_matches_reference),
	    cmocka_unit_test(test_reference_kpis),
	    cmocka_unit_test(test_hr_inputs_and_enps),
	    cmocka_unit_test(test_version_identifies_bytes),
	    cmocka_unit_test(test_owner_rationale_status),
	    cmocka_unit_test(test_governance_metadata_errors),
	    cmocka_unit_test(test_owner_length_limit),
	    cmocka_unit_test(test_shutdown_drain_timeout),
	    cmocka_unit_test(test_schema_registry),
	    cmocka_unit_test(test_restart_only_keys),
	    cmocka_unit_test(test_defaults_apply),
	    cmocka_unit_test(test_window_defaults),
	    cmocka_unit_test(test_threshold_defaults),
	    cmocka_unit_test(test_custom_values),
	    cmocka_unit_test(test_custom_windows_and_rules),
	    cmocka_unit_test(test_relative_key_file),
	    cmocka_unit_test(test_null_values_mean_default),
	    cmocka_unit_test(test_admin_values),
	    cmocka_unit_test(test_parse_duration),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_unknown_key_fixture),
	    cmocka_unit_test(test_unknown_key),
	    cmocka_unit_test(test_duplicate_key),
	    cmocka_unit_test(test_wrong_type_number),
	    cmocka_unit_test(test_wrong_type_list),
	    cmocka_unit_test(test_wrong_type_map),
	    cmocka_unit_test(test_wrong_type_string),
	    cmocka_unit_test(test_wrong_type_bool),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_empty_lists),
	    cmocka_unit_test(test_invalid_enum),
	    cmocka_unit_test(test_invalid_range),
	    cmocka_unit_test(test_admin_errors),
	    cmocka_unit_test(test_admin_access_defaults),
	    cmocka_unit_test(test_admin_access_values),
	    cmocka_unit_test(test_admin_access_errors),
	    cmocka_unit_test(test_invalid_duration),
	    cmocka_unit_test(test_granularity_rules),
	    cmocka_unit_test(test_rolling_window_rules),
	    cmocka_unit_test(test_weights_must_sum_to_one),
	    cmocka_unit_test(test_kpi_unknown_behaviour),
	    cmocka_unit_test(test_kpi_unknown_window),
	    cmocka_unit_test(test_duplicate_ids),
	    cmocka_unit_test(test_key_file_unreadable),
	    cmocka_unit_test(test_fifo_files_rejected),
	    cmocka_unit_test(test_unknown_timezone),
	    cmocka_unit_test(test_topic_clash),
	    cmocka_unit_test(test_graph_input_keys),
	    cmocka_unit_test(test_analytics_input_events),
	    cmocka_unit_test(test_analytics_input_limits),
	    cmocka_unit_test(test_syntax_error_fixture),
	    cmocka_unit_test(test_syntax_error_line_column),
	    cmocka_unit_test(test_empty_and_missing_file),
	    cmocka_unit_test(test_errors_hide_secrets),
	    cmocka_unit_test(test_small_errstr),
	    cmocka_unit_test(test_rule_defaults),
	    cmocka_unit_test(test_rule_condition_defaults),
	    cmocka_unit_test(test_rule_all_keys),
	    cmocka_unit_test(test_rule_condition_errors),
	    cmocka_unit_test(test_rule_resolve_value),
	    cmocka_unit_test(test_rule_timing_errors),
	    cmocka_unit_test(test_rule_disparity_sample),
	    cmocka_unit_test(test_rule_route_and_runbook),
	    cmocka_unit_test(test_rule_consent_and_amount),
	    cmocka_unit_test(test_rule_consent_and_amount_errors),
	    cmocka_unit_test(test_rule_labels),
	    cmocka_unit_test(test_rule_escalate),
	    cmocka_unit_test(test_alerts_defaults_and_values),
	    cmocka_unit_test(test_alerts_errors),
	    cmocka_unit_test(test_alerts_reloadable),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
