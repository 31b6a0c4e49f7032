/*
 * test_catalog.c - catalog summaries and the governance record of a change.
 *
 * Configs are written to a temporary folder (with a test HMAC key) and
 * loaded with config_load(), so the summaries match what the daemon loads.
 * The base catalog has KPIs "kudos" (rule "kudos_low") and "shares"
 * (rule "shares_high"); each test changes it and checks the record lists.
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

#include "catalog.h"

#define HEAD                                                                                       \
	"kafka:\n  bootstrap_servers: \"127.0.0.1:9092\"\n  inputs: [{topic: events}]\n"          \
	"  roster_topic: roster\n"                                                                 \
	"privacy: {key_file: hmac.key, key_id: k1}\n"                                              \
	"behaviours:\n  kudos: {rules: [{kinds: [recognition]}]}\n"                                \
	"  shares: {rules: [{kinds: [share_external]}]}\n"                                          \
	"kpis:\n"
#define KUDOS(target, weight, extra)                                                               \
	"  - id: kudos\n    behaviours: [kudos]\n    aggregation: rate\n    window: 7d\n"         \
	"    quadrant: learning_growth\n    indicator: leading\n    weight: " weight "\n"          \
	"    target: " target "\n    owner: HR\n    rationale: Recognition drives advocacy\n"     \
	extra "    thresholds:\n      - {id: kudos_low, direction: below, owner: HR, "            \
	"rationale: Teams need help}\n"
#define SHARES(status)                                                                             \
	"  - id: shares\n    behaviours: [shares]\n    aggregation: count\n    window: 28d\n"     \
	"    quadrant: customer\n    indicator: leading\n    weight: 0.5\n    target: 3\n"         \
	"    owner: Marketing\n    status: " status "\n"                                           \
	"    thresholds: [{id: shares_high, direction: above, value: 10}]\n"

static char tmp_dir[256];

static int group_setup(void **state)
{
	char path[300];
	FILE *f;

	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_catalog.XXXXXX",
		 getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(path, sizeof path, "%s/hmac.key", tmp_dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	char path[300];

	snprintf(path, sizeof path, "%s/hmac.key", tmp_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/config.yaml", tmp_dir);
	unlink(path);
	rmdir(tmp_dir);
	return 0;
}

/* Loads yaml and returns its catalog summary; the version goes to version. */
static json_t *summary_of(const char *yaml, char version[CONFIG_VERSION_SIZE])
{
	char path[300], err[1024];
	config *cfg = NULL;
	FILE *f;

	snprintf(path, sizeof path, "%s/config.yaml", tmp_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
	if (config_load(path, &cfg, err, sizeof err) < 0)
		fail_msg("config did not load: %s", err);
	json_t *summary = catalog_summary(cfg);
	assert_non_null(summary);
	memcpy(version, cfg->version, CONFIG_VERSION_SIZE);
	config_free(cfg);
	return summary;
}

static const json_t *list_of(const json_t *record, const char *section, const char *list)
{
	const json_t *l = json_object_get(json_object_get(record, section), list);

	assert_true(json_is_array(l));
	return l;
}

/* Fails unless the list contains exactly the ids given, in that order (NULL-terminated). */
static void expect_ids(const json_t *record, const char *section, const char *list, ...)
{
	const json_t *l = list_of(record, section, list);
	const char *id;
	size_t i = 0;
	va_list ap;

	va_start(ap, list);
	while ((id = va_arg(ap, const char *))) {
		const json_t *item = json_array_get(l, i++);
		if (!item)
			fail_msg("%s.%s: expected '%s' at %zu, list is shorter", section, list, id, i - 1);
		assert_string_equal(json_string_value(json_object_get(item, "id")), id);
	}
	va_end(ap);
	assert_int_equal(json_array_size(l), i);
}

static void test_first_apply_adds_everything(void **state)
{
	char v[CONFIG_VERSION_SIZE];
	json_t *next = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active"), v);
	json_t *rec = catalog_record(NULL, NULL, next, v, "2024-05-01T10:00:00.000Z", "host/1");

	assert_string_equal(json_string_value(json_object_get(rec, "type")), "config_applied");
	assert_string_equal(json_string_value(json_object_get(rec, "config_version")), v);
	assert_true(json_is_null(json_object_get(rec, "previous_version")));
	assert_string_equal(json_string_value(json_object_get(rec, "instance")), "host/1");
	expect_ids(rec, "kpis", "added", "kudos", "shares", NULL);
	expect_ids(rec, "rules", "added", "kudos_low", "shares_high", NULL);
	expect_ids(rec, "kpis", "changed", NULL);
	expect_ids(rec, "kpis", "removed", NULL);

	const json_t *kudos = json_array_get(list_of(rec, "kpis", "added"), 0);
	assert_string_equal(json_string_value(json_object_get(kudos, "owner")), "HR");
	assert_string_equal(json_string_value(json_object_get(kudos, "rationale")),
			    "Recognition drives advocacy");
	const json_t *shares_high = json_array_get(list_of(rec, "rules", "added"), 1);
	assert_true(json_is_null(json_object_get(shares_high, "owner")));
	assert_string_equal(json_string_value(json_object_get(shares_high, "kpi")), "shares");
	json_decref(rec);
	json_decref(next);
}

static void test_same_catalog_records_no_item(void **state)
{
	char v1[CONFIG_VERSION_SIZE], v2[CONFIG_VERSION_SIZE];
	json_t *old = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active"), v1);
	/* A comment changes the version but not the catalog. */
	json_t *next = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active") "# note\n", v2);
	json_t *rec = catalog_record(old, v1, next, v2, "t", "i");

	assert_string_not_equal(v1, v2);
	assert_true(json_equal(old, next));
	for (int s = 0; s < 2; s++)
		for (int l = 0; l < 4; l++) {
			static const char *const lists[] = {"added", "changed", "retired", "removed"};
			assert_int_equal(json_array_size(list_of(rec, s ? "rules" : "kpis", lists[l])),
					 0);
		}
	assert_string_equal(json_string_value(json_object_get(rec, "previous_version")), v1);
	json_decref(rec);
	json_decref(old);
	json_decref(next);
}

static void test_target_change_and_retirement(void **state)
{
	char v1[CONFIG_VERSION_SIZE], v2[CONFIG_VERSION_SIZE];
	json_t *old = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active"), v1);
	json_t *next = summary_of(HEAD KUDOS("2", "1", "    name: Kudos per head\n")
				  SHARES("retired"),
				  v2);
	json_t *rec = catalog_record(old, v1, next, v2, "t", "i");

	expect_ids(rec, "kpis", "changed", "kudos", NULL);
	expect_ids(rec, "kpis", "retired", "shares", NULL);
	expect_ids(rec, "kpis", "added", NULL);
	expect_ids(rec, "kpis", "removed", NULL);
	/* kudos_low's value follows the KPI's target; shares_high follows its KPI out. */
	expect_ids(rec, "rules", "changed", "kudos_low", NULL);
	expect_ids(rec, "rules", "retired", "shares_high", NULL);

	const json_t *fields = json_object_get(json_array_get(list_of(rec, "kpis", "changed"), 0),
					       "fields");
	assert_int_equal(json_array_size(fields), 3);
	assert_string_equal(json_string_value(json_array_get(fields, 0)), "name");
	assert_string_equal(json_string_value(json_array_get(fields, 1)), "weight");
	assert_string_equal(json_string_value(json_array_get(fields, 2)), "target");
	const json_t *rule_fields =
	    json_object_get(json_array_get(list_of(rec, "rules", "changed"), 0), "fields");
	assert_int_equal(json_array_size(rule_fields), 1);
	assert_string_equal(json_string_value(json_array_get(rule_fields, 0)), "value");
	const json_t *retired = json_array_get(list_of(rec, "kpis", "retired"), 0);
	assert_string_equal(json_string_value(json_object_get(retired, "owner")), "Marketing");
	json_decref(rec);
	json_decref(old);
	json_decref(next);
}

static void test_removed_items_keep_their_owner(void **state)
{
	char v1[CONFIG_VERSION_SIZE], v2[CONFIG_VERSION_SIZE];
	json_t *old = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active"), v1);
	json_t *next = summary_of(
	    HEAD "  - id: kudos\n    behaviours: [kudos]\n    aggregation: rate\n    window: 7d\n"
		 "    quadrant: learning_growth\n    indicator: leading\n    weight: 1\n"
		 "    target: 1\n    owner: HR\n    rationale: Recognition drives advocacy\n",
	    v2);
	json_t *rec = catalog_record(old, v1, next, v2, "t", "i");

	expect_ids(rec, "kpis", "removed", "shares", NULL);
	expect_ids(rec, "kpis", "changed", "kudos", NULL); /* weight 0.5 -> 1 */
	expect_ids(rec, "rules", "removed", "kudos_low", "shares_high", NULL);
	const json_t *kudos_low = json_array_get(list_of(rec, "rules", "removed"), 0);
	assert_string_equal(json_string_value(json_object_get(kudos_low, "owner")), "HR");
	assert_string_equal(json_string_value(json_object_get(kudos_low, "rationale")),
			    "Teams need help");
	json_decref(rec);
	json_decref(old);
	json_decref(next);
}

/* The summary stored in Redis, one JSON text per field, diffs like the original. */
static void test_stored_summary_round_trip(void **state)
{
	char v1[CONFIG_VERSION_SIZE], v2[CONFIG_VERSION_SIZE];
	json_t *old = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active"), v1);
	json_t *next = summary_of(HEAD KUDOS("1", "1", "") SHARES("retired"), v2);
	const char *names[8], *values[8];
	char *texts[8];
	size_t n = 0;
	const char *key;
	json_t *entry;

	json_object_foreach(old, key, entry) {
		names[n] = key;
		texts[n] = json_dumps(entry, JSON_COMPACT);
		values[n] = texts[n];
		n++;
	}
	names[n] = "version";
	values[n] = v1;
	texts[n++] = NULL;
	names[n] = "k:broken";
	values[n] = "{not json";
	texts[n++] = NULL;
	json_t *stored = catalog_summary_parse(names, values, n);
	assert_true(json_equal(stored, old));

	json_t *rec = catalog_record(stored, v1, next, v2, "t", "i");
	expect_ids(rec, "kpis", "retired", "shares", NULL);
	expect_ids(rec, "kpis", "removed", NULL);
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	json_decref(rec);
	json_decref(stored);
	json_decref(old);
	json_decref(next);
}

/* The kudos KPI (target 1, weight 0.5) whose rule kudos_low has the extra flow-map keys options. */
#define KUDOS_RULE(options)                                                                        \
	"  - id: kudos\n    behaviours: [kudos]\n    aggregation: rate\n    window: 7d\n"          \
	"    quadrant: learning_growth\n    indicator: leading\n    weight: 0.5\n"                 \
	"    target: 1\n    owner: HR\n    rationale: Recognition drives advocacy\n"               \
	"    thresholds:\n      - {id: kudos_low, direction: below, owner: HR, "                   \
	"rationale: Teams need help" options "}\n"

/* Checks that kudos_low is the only changed rule and names its changed fields, joined with ','. */
static void expect_changed_rule_fields(const json_t *rec, const char *names)
{
	const json_t *fields =
	    json_object_get(json_array_get(list_of(rec, "rules", "changed"), 0), "fields");
	char joined[512] = "";
	size_t len = 0;

	expect_ids(rec, "rules", "changed", "kudos_low", NULL);
	for (size_t i = 0; i < json_array_size(fields); i++)
		len += (size_t)snprintf(joined + len, sizeof joined - len, "%s%s", i ? "," : "",
					json_string_value(json_array_get(fields, i)));
	assert_string_equal(joined, names);
}

/* Returns the governance record of the change from the config old_yaml to next_yaml. */
static json_t *rule_change(const char *old_yaml, const char *next_yaml)
{
	char v1[CONFIG_VERSION_SIZE], v2[CONFIG_VERSION_SIZE];
	json_t *old = summary_of(old_yaml, v1);
	json_t *next = summary_of(next_yaml, v2);
	json_t *rec = catalog_record(old, v1, next, v2, "t", "i");

	json_decref(old);
	json_decref(next);
	return rec;
}

/*
 * A rule that leaves every escalation option at its default keeps the
 * digest it had before those options existed, so an upgrade lists no rule
 * as changed. The digests were computed by the catalog of that release.
 */
static void test_default_rule_keeps_digest(void **state)
{
	char v[CONFIG_VERSION_SIZE];
	json_t *summary = summary_of(HEAD KUDOS("1", "0.5", "") SHARES("active"), v);
	const json_t *kudos_low = json_object_get(summary, "r:kudos_low");
	const json_t *shares_high = json_object_get(summary, "r:shares_high");

	assert_string_equal(json_string_value(json_object_get(kudos_low, "digest")),
			    "f1efb8fbf45442b0");
	assert_string_equal(json_string_value(json_object_get(shares_high, "digest")),
			    "4089052dba5301b7");
	assert_int_equal(json_object_size(json_object_get(kudos_low, "fields")), 9);
	json_decref(summary);
}

static void test_rule_options_listed(void **state)
{
	json_t *rec = rule_change(
	    HEAD KUDOS_RULE("") SHARES("active"),
	    HEAD KUDOS_RULE(", resolve_value: 1.2, for: 5m, keep_firing_for: 1h, "
			    "repeat_interval: 4h, route: hr-oncall, runbook_url: \"https://w/r\", "
			    "labels: {team: hr}, escalate: {after: 1d, severity: error}")
		SHARES("active"));

	expect_changed_rule_fields(rec, "resolve_value,for,keep_firing_for,repeat_interval,route,"
					"runbook_url,labels,escalate.after,escalate.owner,"
					"escalate.severity");
	json_decref(rec);

	/* Taking an option out lists it too. */
	rec = rule_change(HEAD KUDOS_RULE(", keep_firing_for: 1h") SHARES("active"),
			  HEAD KUDOS_RULE("") SHARES("active"));
	expect_changed_rule_fields(rec, "keep_firing_for");
	json_decref(rec);

	/* A route equal to the owner is the default. */
	rec = rule_change(HEAD KUDOS_RULE("") SHARES("active"),
			  HEAD KUDOS_RULE(", route: HR") SHARES("active"));
	expect_ids(rec, "rules", "changed", NULL);
	json_decref(rec);
}

static void test_rule_condition_fields(void **state)
{
	json_t *rec = rule_change(HEAD KUDOS_RULE("") SHARES("active"),
				  HEAD KUDOS_RULE(", condition: zscore, period: 1d, periods: 14")
				      SHARES("active"));

	expect_changed_rule_fields(rec, "value,condition,period,periods");
	json_decref(rec);

	rec = rule_change(HEAD KUDOS_RULE(", condition: trend, period: 1d") SHARES("active"),
			  HEAD KUDOS_RULE(", condition: trend, period: 7d") SHARES("active"));
	expect_changed_rule_fields(rec, "period");
	json_decref(rec);

	rec =
	    rule_change(HEAD KUDOS_RULE(", condition: disparity") SHARES("active"),
			HEAD KUDOS_RULE(", condition: disparity, min_sample: 9") SHARES("active"));
	expect_changed_rule_fields(rec, "min_sample");
	json_decref(rec);
}

/* Labels are compared by name, so reordering them changes nothing. */
static void test_rule_label_order_ignored(void **state)
{
	json_t *rec = rule_change(HEAD KUDOS_RULE(", labels: {a: x, b: y}") SHARES("active"),
				  HEAD KUDOS_RULE(", labels: {b: y, a: x}") SHARES("active"));

	expect_ids(rec, "rules", "changed", NULL);
	json_decref(rec);

	rec = rule_change(HEAD KUDOS_RULE(", labels: {a: x, b: y}") SHARES("active"),
			  HEAD KUDOS_RULE(", labels: {a: x, b: z}") SHARES("active"));
	expect_changed_rule_fields(rec, "labels");
	json_decref(rec);
}

static void test_format_time(void **state)
{
	char buf[40];

	assert_string_equal(catalog_format_time(1714557600123LL, buf, sizeof buf),
			    "2024-05-01T10:00:00.123Z");
	assert_string_equal(catalog_format_time(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_apply_adds_everything),
	    cmocka_unit_test(test_same_catalog_records_no_item),
	    cmocka_unit_test(test_target_change_and_retirement),
	    cmocka_unit_test(test_removed_items_keep_their_owner),
	    cmocka_unit_test(test_stored_summary_round_trip),
	    cmocka_unit_test(test_default_rule_keeps_digest),
	    cmocka_unit_test(test_rule_options_listed),
	    cmocka_unit_test(test_rule_condition_fields),
	    cmocka_unit_test(test_rule_label_order_ignored),
	    cmocka_unit_test(test_format_time),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
