/*
 * test_kpi_catalog.c - the KPI catalog file (kpi_catalog), KPI formulas,
 * kind and unit, the value a formula gives, and the networks rule filter.
 *
 * Each test writes a main config (config.yaml) and, where it needs one, a
 * catalog (kpis.yaml) into a temporary folder. An error test checks that the
 * message starts with the file that contains the mistake and the key path in
 * it, and that it tells the user what to do.
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
#include "classify.h"
#include "config.h"
#include "event.h"
#include "kpi_formula.h"

#define KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"

/* A main config without kpis. Each test adds kpis or kpi_catalog. */
#define BASE                                                                                       \
	"kafka:\n"                                                                                 \
	"  bootstrap_servers: \"127.0.0.1:9092\"\n"                                                \
	"  inputs:\n"                                                                              \
	"    - topic: events\n"                                                                    \
	"  roster_topic: roster\n"                                                                 \
	"privacy:\n"                                                                               \
	"  key_file: hmac.key\n"                                                                   \
	"  key_id: k1\n"                                                                           \
	"behaviours:\n"                                                                            \
	"  kudos: {rules: [{kinds: [recognition]}]}\n"                                             \
	"  clicks_a: {rules: [{kinds: [share_clicks], networks: [linkedin], "                      \
	"amount_attribute: clicks}]}\n"                                                            \
	"  clicks_b: {rules: [{kinds: [share_clicks], networks: [x, twitter], "                    \
	"amount_attribute: clicks}]}\n"                                                            \
	"  reach: {rules: [{kinds: [share_reach], amount_attribute: reach}]}\n"                    \
	"  promoter: {rules: [{kinds: [enps_promoter]}]}\n"                                        \
	"  passive: {rules: [{kinds: [enps_passive]}]}\n"                                          \
	"  detractor: {rules: [{kinds: [enps_detractor]}]}\n"
#define CATALOG_KEY "kpi_catalog: kpis.yaml\n"
/* The fields every KPI needs besides its id and formula, with weight 1. */
#define KPI_FIELDS "    quadrant: customer\n    indicator: lagging\n    weight: 1\n    target: 1\n"

static char tmp_dir[256];
static char main_path[300];
static char catalog_path[300];
static char key_path[300];
static char err[1024];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmp_dir, sizeof tmp_dir, "%s/test_kpi_catalog.XXXXXX",
		 base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	snprintf(main_path, sizeof main_path, "%s/config.yaml", tmp_dir);
	snprintf(catalog_path, sizeof catalog_path, "%s/kpis.yaml", tmp_dir);
	snprintf(key_path, sizeof key_path, "%s/hmac.key", tmp_dir);
	write_file(key_path, KEY_HEX);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	unlink(main_path);
	unlink(catalog_path);
	unlink(key_path);
	rmdir(tmp_dir);
	return 0;
}

/* Removes the catalog file, so that each test starts without one. */
static int test_setup(void **state)
{
	(void)state;
	unlink(catalog_path);
	return 0;
}

/* Writes the main config and, unless catalog is NULL, the catalog, then loads them. */
static int load(const char *main_text, const char *catalog, config **out)
{
	write_file(main_path, main_text);
	if (catalog)
		write_file(catalog_path, catalog);
	return config_load(main_path, out, err, sizeof err);
}

static config *load_valid(const char *main_text, const char *catalog)
{
	config *cfg = NULL;

	if (load(main_text, catalog, &cfg) != 0)
		fail_msg("expected the config to load, got: %s", err);
	return cfg;
}

/* Expects the load to fail with "FILE: KP: " first and needle in the message. */
static void expect_error(const char *main_text, const char *catalog, const char *file,
			 const char *kp, const char *needle)
{
	char prefix[700];
	config *cfg = (config *)1;

	assert_int_equal(load(main_text, catalog, &cfg), -1);
	assert_null(cfg);
	snprintf(prefix, sizeof prefix, "%s: %s", file, kp);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("expected the error to start with '%s', got: %s", prefix, err);
	if (!strstr(err, needle))
		fail_msg("expected '%s' in the error, got: %s", needle, err);
}

/* A catalog with one KPI: its id line, then formula_lines, then KPI_FIELDS. */
static char *catalog_with(const char *formula_lines)
{
	static char text[2048];

	snprintf(text, sizeof text, "kpis:\n  - id: k\n%s" KPI_FIELDS, formula_lines);
	return text;
}

/* ------------------------------------------------------------------------ */
/* The catalog file                                                          */

static void test_catalog_file_loads(void **state)
{
	config *cfg = load_valid(BASE CATALOG_KEY,
				 catalog_with("    formula:\n"
					      "      numerator: {count: [kudos]}\n"
					      "      denominator: headcount\n"
					      "      window: 7d\n"));

	(void)state;
	assert_int_equal(cfg->n_kpis, 1);
	assert_string_equal(cfg->kpi_catalog, catalog_path);
	assert_int_equal(cfg->kpis[0].aggregation, KPI_AGG_RATE);
	config_free(cfg);
}

static void test_catalog_and_inline_kpis(void **state)
{
	(void)state;
	expect_error(BASE CATALOG_KEY "kpis:\n  - id: k\n    behaviours: [kudos]\n"
				      "    aggregation: count\n    window: 7d\n" KPI_FIELDS,
		     catalog_with("    behaviours: [kudos]\n    aggregation: count\n"
				  "    window: 7d\n"),
		     main_path, "kpi_catalog: ", "keep one");
}

static void test_catalog_missing_file(void **state)
{
	(void)state;
	expect_error(BASE CATALOG_KEY, NULL, main_path, "kpi_catalog: ", "cannot open");
}

static void test_neither_kpis_nor_catalog(void **state)
{
	(void)state;
	expect_error(BASE, NULL, main_path, "kpis: ", "kpi_catalog");
}

static void test_catalog_errors_name_the_catalog(void **state)
{
	(void)state;
	expect_error(BASE CATALOG_KEY, "kpis: []\nextra: 1\n", catalog_path, "extra: ",
		     "unknown key");
	expect_error(BASE CATALOG_KEY, "", catalog_path, "", "expected a map with kpis");
	expect_error(BASE CATALOG_KEY, "- id: k\n", catalog_path, "", "got a list");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    behaviours: [kudo]\n    aggregation: count\n"
				  "    window: 7d\n"),
		     catalog_path, "kpis[0].behaviours[0]: ", "unknown behaviour 'kudo'");
	expect_error(BASE CATALOG_KEY, "kpis:\n  - id: k\n    formula: {numerator: {count: [kudos]}}\n",
		     catalog_path, "kpis[0].formula.window: ", "required key");
}

/* A catalog change is a new config version, and the same bytes give the same version. */
static void test_version_covers_catalog(void **state)
{
	const char *rate = catalog_with("    behaviours: [kudos]\n    aggregation: rate\n"
					"    window: 7d\n");
	char first[CONFIG_VERSION_SIZE], again[CONFIG_VERSION_SIZE];
	config *cfg = load_valid(BASE CATALOG_KEY, rate);

	(void)state;
	memcpy(first, cfg->version, sizeof first);
	config_free(cfg);

	cfg = load_valid(BASE CATALOG_KEY, rate);
	memcpy(again, cfg->version, sizeof again);
	config_free(cfg);
	assert_string_equal(first, again);

	cfg = load_valid(BASE CATALOG_KEY, catalog_with("    behaviours: [kudos]\n"
							"    aggregation: count\n"
							"    window: 7d\n"));
	assert_string_not_equal(first, cfg->version);
	assert_int_equal(strlen(cfg->version), 16);
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Formulas                                                                  */

static void test_formula_forms(void **state)
{
	char text[512];
	config *cfg = load_valid(
	    BASE "kpis:\n"
		 "  - id: engagement\n"
		 "    formula:\n"
		 "      numerator: {count: [clicks_a, clicks_b]}\n"
		 "      denominator: {count: [reach]}\n"
		 "      scale: 100\n"
		 "      window: 7d\n"
		 "    kind: passive\n" KPI_FIELDS
		 "  - id: value\n"
		 "    formula:\n"
		 "      numerator: {weighted_count: {clicks_a: 2.5, reach: 0.004}}\n"
		 "      window: 24h\n"
		 "    unit: EUR\n"
		 "    quadrant: financial\n    indicator: lagging\n    weight: 0\n    target: 1\n"
		 "  - id: people\n"
		 "    formula: {numerator: {people: [kudos]}, denominator: headcount, window: 28d}\n"
		 "    quadrant: customer\n    indicator: leading\n    weight: 0\n    target: 1\n"
		 "  - id: score\n"
		 "    formula: {numerator: {enps: [promoter, passive, detractor]}, window: 28d}\n"
		 "    quadrant: customer\n    indicator: lagging\n    weight: 0\n    target: 1\n"
		 "  - id: short\n"
		 "    behaviours: [kudos]\n    aggregation: contributors\n    window: 7d\n"
		 "    quadrant: customer\n    indicator: leading\n    weight: 0\n    target: 1\n",
	    NULL);
	const config_kpi *k = &cfg->kpis[0];

	(void)state;
	assert_int_equal(k->aggregation, KPI_AGG_FORMULA);
	assert_int_equal(k->formula.numerator, FORMULA_COUNT);
	assert_int_equal(k->formula.denominator, FORMULA_COUNT);
	assert_int_equal(k->formula.n_denominator_behaviours, 1);
	assert_int_equal(k->formula.denominator_behaviours[0], 3);
	assert_true(k->formula.scale == 100);
	assert_int_equal(k->kind, KPI_KIND_PASSIVE);
	assert_string_equal(k->unit, "%");
	assert_string_equal(config_formula_text(cfg, k, text, sizeof text),
			    "count(clicks_a, clicks_b) / count(reach) x 100 over 7d");

	k = &cfg->kpis[1];
	assert_int_equal(k->aggregation, KPI_AGG_FORMULA);
	assert_int_equal(k->n_behaviours, 2);
	assert_int_equal(k->behaviours[0], 1);
	assert_int_equal(k->behaviours[1], 3);
	assert_true(k->formula.coefficients[0] == 2.5);
	assert_true(k->formula.coefficients[1] == 0.004);
	assert_int_equal(k->kind, KPI_KIND_ACTIVE);
	assert_string_equal(k->unit, "EUR");
	assert_string_equal(config_formula_text(cfg, k, text, sizeof text),
			    "(2.5 x clicks_a + 0.004 x reach) over 24h");

	k = &cfg->kpis[2];
	assert_int_equal(k->aggregation, KPI_AGG_PARTICIPATION);
	assert_string_equal(k->unit, "share of headcount");
	assert_string_equal(config_formula_text(cfg, k, text, sizeof text),
			    "people(kudos) / headcount over 28d");

	k = &cfg->kpis[3];
	assert_int_equal(k->aggregation, KPI_AGG_ENPS);
	assert_string_equal(k->unit, "score from -100 to 100");
	assert_string_equal(config_formula_text(cfg, k, text, sizeof text),
			    "enps(promoter, passive, detractor) over 28d");

	/* The short form maps onto the same formula struct. */
	k = &cfg->kpis[4];
	assert_int_equal(k->aggregation, KPI_AGG_CONTRIBUTORS);
	assert_int_equal(k->formula.numerator, FORMULA_PEOPLE);
	assert_int_equal(k->formula.denominator, FORMULA_NONE);
	assert_true(k->formula.scale == 1);
	assert_string_equal(k->unit, "people");
	config_free(cfg);
}

static void test_formula_errors(void **state)
{
	(void)state;
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula: {numerator: {count: [kudos]}, window: 7d}\n"
				  "    behaviours: [kudos]\n"),
		     catalog_path, "kpis[0].behaviours: ", "either formula or behaviours");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {count: [kudos], people: [kudos]}\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.numerator: ", "exactly one of count");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n      numerator: {sum: [kudos]}\n      window: 7d\n"),
		     catalog_path, "kpis[0].formula.numerator.sum: ", "unknown key");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {weighted_count: {kudoz: 1}}\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.numerator.weighted_count.kudoz: ",
		     "unknown behaviour 'kudoz'");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {weighted_count: {kudos: many}}\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.numerator.weighted_count.kudos: ",
		     "expected a number");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {enps: [promoter, detractor]}\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.numerator.enps: ", "exactly three");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {enps: [promoter, passive, detractor]}\n"
				  "      denominator: headcount\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.denominator: ", "remove denominator");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {count: [kudos]}\n"
				  "      denominator: everyone\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.denominator: ", "none, headcount");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {count: [kudos]}\n"
				  "      denominator: {count: [kudos, kudos]}\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.denominator.count[1]: ", "listed twice");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {count: [kudos]}\n"
				  "      scale: 0\n"
				  "      window: 7d\n"),
		     catalog_path, "kpis[0].formula.scale: ", "above 0");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula: {numerator: {count: [kudos]}, window: 5w}\n"),
		     catalog_path, "kpis[0].formula.window: ", "unknown window '5w'");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula: {numerator: {count: [kudos]}, window: 7d}\n"
				  "    kind: loud\n"),
		     catalog_path, "kpis[0].kind: ", "active, passive");
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula: {numerator: {count: [kudos]}, window: 7d}\n"
				  "    unit: a unit name much longer than forty bytes in all\n"),
		     catalog_path, "kpis[0].unit: ", "at most 40");
}

/* A disparity rule needs a KPI divided by headcount, in either form. */
static void test_disparity_needs_headcount(void **state)
{
	config *cfg;

	(void)state;
	expect_error(BASE CATALOG_KEY,
		     catalog_with("    formula:\n"
				  "      numerator: {count: [kudos]}\n"
				  "      denominator: {count: [reach]}\n"
				  "      window: 7d\n"
				  "    thresholds: [{id: gap, condition: disparity}]\n"),
		     catalog_path, "kpis[0].thresholds[0].condition: ", "denominator headcount");
	cfg = load_valid(BASE CATALOG_KEY,
			 catalog_with("    formula:\n"
				      "      numerator: {count: [kudos]}\n"
				      "      denominator: headcount\n"
				      "      scale: 100\n"
				      "      window: 7d\n"
				      "    thresholds: [{id: gap, condition: disparity}]\n"));
	assert_int_equal(cfg->kpis[0].aggregation, KPI_AGG_FORMULA);
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */

/* Counts by behaviour index for kpi_formula_value(). */
static int64_t count_from_table(size_t behaviour, const void *opaque)
{
	return ((const int64_t *)opaque)[behaviour];
}

static void test_formula_values(void **state)
{
	config *cfg = load_valid(
	    BASE "kpis:\n"
		 "  - id: engagement\n"
		 "    formula: {numerator: {count: [clicks_a, clicks_b]},\n"
		 "              denominator: {count: [reach]}, scale: 100, window: 7d}\n" KPI_FIELDS
		 "  - id: value\n"
		 "    formula: {numerator: {weighted_count: {clicks_a: 2.5, reach: 0.004}},\n"
		 "              window: 7d}\n"
		 "    quadrant: financial\n    indicator: lagging\n    weight: 0\n    target: 1\n"
		 "  - id: people\n"
		 "    formula: {numerator: {people: [kudos]}, denominator: headcount, window: 7d}\n"
		 "    quadrant: customer\n    indicator: leading\n    weight: 0\n    target: 1\n"
		 "  - id: score\n"
		 "    formula: {numerator: {enps: [promoter, passive, detractor]}, window: 28d}\n"
		 "    quadrant: customer\n    indicator: lagging\n    weight: 0\n    target: 1\n",
	    NULL);
	/* kudos, clicks_a, clicks_b, reach, promoter, passive, detractor */
	int64_t counts[7] = {9, 30, 12, 1500, 5, 2, 3};
	int64_t no_reach[7] = {9, 30, 12, 0, 0, 0, 0};

	(void)state;
	/* (30 + 12) / 1500 x 100 = 2.8 */
	assert_float_equal(kpi_formula_value(&cfg->kpis[0], count_from_table, counts, 0, 10), 2.8,
			   1e-12);
	/* Without reach the denominator is 0, so the value is 0. */
	assert_true(kpi_formula_value(&cfg->kpis[0], count_from_table, no_reach, 0, 10) == 0);
	/* 2.5 x 30 + 0.004 x 1500 = 75 + 6 = 81. Without a denominator, headcount 0 does not matter. */
	assert_float_equal(kpi_formula_value(&cfg->kpis[1], count_from_table, counts, 0, 0), 81,
			   1e-12);
	/* 4 contributors of 16 people */
	assert_float_equal(kpi_formula_value(&cfg->kpis[2], count_from_table, counts, 4, 16), 0.25,
			   1e-12);
	assert_true(kpi_formula_value(&cfg->kpis[2], count_from_table, counts, 4, 0) == 0);
	/* (5 - 3) / 10 x 100 = 20 */
	assert_float_equal(kpi_formula_value(&cfg->kpis[3], count_from_table, counts, 10, 16), 20,
			   1e-12);
	config_free(cfg);
}

/* ------------------------------------------------------------------------ */
/* Governance summary                                                        */

/* Returns the field names listed as changed for KPI id in record. */
static const json_t *changed_fields(const json_t *record, const char *id)
{
	const json_t *changed = json_object_get(json_object_get(record, "kpis"), "changed");
	size_t i;
	json_t *item;

	json_array_foreach(changed, i, item)
		if (strcmp(json_string_value(json_object_get(item, "id")), id) == 0)
			return json_object_get(item, "fields");
	fail_msg("KPI %s is not listed as changed", id);
	return NULL;
}

/* The summary digests formula, kind and unit, so a change to one is named. */
static void test_summary_names_catalog_fields(void **state)
{
	config *before = load_valid(BASE CATALOG_KEY,
				    catalog_with("    formula: {numerator: {count: [kudos]}, "
						 "denominator: headcount, window: 7d}\n"
						 "    unit: per person per week\n"));
	config *after = load_valid(BASE CATALOG_KEY,
				   catalog_with("    formula: {numerator: {count: [kudos]}, "
						"denominator: headcount, window: 7d}\n"
						"    unit: per person\n    kind: passive\n"));
	json_t *old = catalog_summary(before), *next = catalog_summary(after);
	const json_t *fields = json_object_get(json_object_get(old, "k:k"), "fields");
	json_t *record;

	(void)state;
	assert_non_null(json_object_get(fields, "formula"));
	assert_non_null(json_object_get(fields, "kind"));
	assert_non_null(json_object_get(fields, "unit"));
	record = catalog_record(old, before->version, next, after->version,
				"2026-03-01T00:00:00.000Z", "test/1");
	assert_non_null(record);
	fields = changed_fields(record, "k");
	assert_int_equal(json_array_size(fields), 2);
	assert_string_equal(json_string_value(json_array_get(fields, 0)), "kind");
	assert_string_equal(json_string_value(json_array_get(fields, 1)), "unit");
	json_decref(record);

	/* A scale of 100 changes the formula and, from rate, the aggregation name. */
	config_free(after);
	after = load_valid(BASE CATALOG_KEY,
			   catalog_with("    formula: {numerator: {count: [kudos]}, "
					"denominator: headcount, scale: 100, window: 7d}\n"
					"    unit: per person per week\n"));
	json_decref(next);
	next = catalog_summary(after);
	record = catalog_record(old, before->version, next, after->version,
				"2026-03-01T00:00:00.000Z", "test/1");
	assert_non_null(record);
	fields = changed_fields(record, "k");
	assert_int_equal(json_array_size(fields), 2);
	assert_string_equal(json_string_value(json_array_get(fields, 0)), "aggregation");
	assert_string_equal(json_string_value(json_array_get(fields, 1)), "formula");
	json_decref(record);
	json_decref(old);
	json_decref(next);
	config_free(before);
	config_free(after);
}

/* ------------------------------------------------------------------------ */
/* networks                                                                  */

/* Classifies a share_clicks event on network (NULL: none) and returns the hits. */
static size_t classify_network(const classifier *c, const char *network, classify_hit *hits)
{
	event ev = {.kind = {"share_clicks", 12}, .source = {"social", 6}, .actor_id = {"a", 1}};

	ev.attrs[0] = (event_attr){{"clicks", 6}, {"3", 1}};
	ev.attr_count = 1;
	if (network) {
		ev.attrs[1] = (event_attr){{"network", 7}, {network, strlen(network)}};
		ev.attr_count = 2;
	}
	return classify_event(c, &ev, hits, 4);
}

static void test_networks_filter(void **state)
{
	config *cfg = load_valid(BASE CATALOG_KEY,
				 catalog_with("    formula: {numerator: {count: [kudos]}, window: 7d}\n"));
	classifier *c = classify_new(cfg);
	classify_hit hits[4];

	(void)state;
	assert_non_null(c);
	assert_int_equal(cfg->behaviours[2].rules[0].n_networks, 2);
	assert_int_equal(classify_network(c, "linkedin", hits), 1);
	assert_int_equal(hits[0].behaviour, 1);
	assert_int_equal(classify_network(c, "twitter", hits), 1);
	assert_int_equal(hits[0].behaviour, 2);
	assert_int_equal(classify_network(c, "mastodon", hits), 0);
	assert_int_equal(classify_network(c, NULL, hits), 0);
	classify_free(c);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_catalog_file_loads, test_setup),
	    cmocka_unit_test_setup(test_catalog_and_inline_kpis, test_setup),
	    cmocka_unit_test_setup(test_catalog_missing_file, test_setup),
	    cmocka_unit_test_setup(test_neither_kpis_nor_catalog, test_setup),
	    cmocka_unit_test_setup(test_catalog_errors_name_the_catalog, test_setup),
	    cmocka_unit_test_setup(test_version_covers_catalog, test_setup),
	    cmocka_unit_test_setup(test_formula_forms, test_setup),
	    cmocka_unit_test_setup(test_formula_errors, test_setup),
	    cmocka_unit_test_setup(test_disparity_needs_headcount, test_setup),
	    cmocka_unit_test_setup(test_formula_values, test_setup),
	    cmocka_unit_test_setup(test_summary_names_catalog_fields, test_setup),
	    cmocka_unit_test_setup(test_networks_filter, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
