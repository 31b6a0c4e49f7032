/*
 * test_kpi_report.c - the scorecard document kept in Redis and the report
 * printed from it.
 *
 * Crafted data set, run through a real kpi_tick, roster and scorecard:
 * team:Big has 5 people, team:Tiny 3 and team:Small 4, so org has 12 and,
 * with a minimum group size of 5, team:Tiny and team:Small are suppressed.
 * All three teams are children of org (no departments). Two of them are
 * suppressed, so sibling suppression adds nothing. With team:Tiny alone
 * suppressed, team:Big would be hidden as its smallest sibling (org - Big =
 * Tiny); test_sibling_suppressed_bare checks that case. Three KPIs over one
 * 7d window:
 *
 *   kudos_rate   rate of kudos   learning_growth  weight 0.4  target 0.5
 *   shares       count of shares customer         weight 0.6  target 10
 *   kudos_count  count of kudos  learning_growth  weight 0    target 4
 *
 * Counts: org 9 kudos and 4 shares, team:Big 2 kudos and 12 shares,
 * team:Tiny 4 kudos, team:Small none. By hand, with
 * score = min(value / target, 1):
 *
 *   org: kudos_rate 9/12 = 0.75 (score 1, on target), shares 4 (score 0.4,
 *        below), kudos_count 9 (on target, weight 0 so no contribution).
 *        index = (0.4 * 1 + 0.6 * 0.4) / (0.4 + 0.6) = 0.64;
 *        learning_growth 1, customer 0.4; contributions 0.4 and 0.24.
 *   team:Big: kudos_rate 2/5 = 0.4 (score 0.8, below), shares 12 (score 1,
 *        on target), kudos_count 2 (below). index = 0.32 + 0.6 = 0.92;
 *        learning_growth 0.8, customer 1; contributions 0.32 and 0.6.
 *   team:Tiny, team:Small: suppressed, no figure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kpi.h"
#include "report_render.h"
#include "scorecard.h"
#include "scorecard_doc.h"

#define MIN_GROUP 5
/* 2026-03-01 09:30:00 UTC */
#define NOW_MS 1772357400000LL

enum { B_KUDOS, B_SHARES, N_BEHAVIOURS };
enum { W_7D, N_WINDOWS };
enum { K_RATE, K_SHARES, K_COUNT, N_KPIS };

typedef struct fixture {
	config cfg;
	config_behaviour behaviours[N_BEHAVIOURS];
	config_window windows[N_WINDOWS];
	config_kpi kpis[N_KPIS];
	size_t kudos[1], shares[1];
	roster *roster;
	kpi_tick *tick;
	scorecard *sc;
	json_t *doc;
} fixture;

static void fixture_person(fixture *f, int n, const char *team)
{
	const char *values[SCOPE_KIND_COUNT] = {0};
	pseudonym p = {{0}};

	values[SCOPE_TEAM] = team;
	p.bytes[0] = (uint8_t)n;
	assert_int_equal(roster_upsert(f->roster, &p, values, NULL, 0), 0);
}

static void fixture_kpi(fixture *f, size_t i, const char *id, size_t *behaviour,
			kpi_aggregation agg, quadrant q, double weight, double target)
{
	f->kpis[i] = (config_kpi){
	    .id = (char *)id,
	    .name = (char *)id,
	    .behaviours = behaviour,
	    .n_behaviours = 1,
	    .aggregation = agg,
	    .window = W_7D,
	    .quadrant = q,
	    .indicator = INDICATOR_LEADING,
	    .weight = weight,
	    .target = target,
	};
}

static void store_cb(const kpi_update *u, void *opaque)
{
	fixture *f = opaque;

	assert_int_equal(scorecard_store(f->sc, u), 0);
}

/* Runs one tick of the counts above and builds the document from the scorecard. */
static void fixture_tick(fixture *f)
{
	uint32_t big = roster_scope_find(f->roster, "team:Big");
	uint32_t tiny = roster_scope_find(f->roster, "team:Tiny");
	scorecard_doc_meta meta = {.computed_at_ms = NOW_MS,
				   .config_version = "0123456789abcdef",
				   .tick_interval_ms = 2000};
	json_t *card;

	assert_int_equal(kpi_tick_begin(f->tick, roster_scope_count(f->roster), NOW_MS), 0);
	kpi_tick_add_count(f->tick, W_7D, B_KUDOS, ROSTER_ORG_SCOPE, 9);
	kpi_tick_add_count(f->tick, W_7D, B_SHARES, ROSTER_ORG_SCOPE, 4);
	kpi_tick_add_count(f->tick, W_7D, B_KUDOS, big, 2);
	kpi_tick_add_count(f->tick, W_7D, B_SHARES, big, 12);
	kpi_tick_add_count(f->tick, W_7D, B_KUDOS, tiny, 4);
	kpi_tick_emit(f->tick, f->roster, MIN_GROUP, (int64_t[]){NOW_MS - 7 * 86400000LL},
		      (int64_t[]){NOW_MS}, store_cb, f);

	card = scorecard_to_json(f->sc, NULL, NULL, NOW_MS);
	assert_non_null(card);
	f->doc = scorecard_doc_build(card, &meta);
	json_decref(card);
	assert_non_null(f->doc);
}

/* Builds the fixture with n_small people in team:Small (none: no such team). */
static fixture *fixture_new(int n_small)
{
	fixture *f = test_calloc(1, sizeof(*f));

	f->behaviours[B_KUDOS].id = "kudos";
	f->behaviours[B_SHARES].id = "shares";
	f->windows[W_7D] = (config_window){.name = "7d", .length_ms = 7 * 86400000LL};
	f->kudos[0] = B_KUDOS;
	f->shares[0] = B_SHARES;
	fixture_kpi(f, K_RATE, "kudos_rate", f->kudos, KPI_AGG_RATE, QUADRANT_LEARNING_GROWTH, 0.4,
		    0.5);
	fixture_kpi(f, K_SHARES, "shares", f->shares, KPI_AGG_COUNT, QUADRANT_CUSTOMER, 0.6, 10);
	fixture_kpi(f, K_COUNT, "kudos_count", f->kudos, KPI_AGG_COUNT, QUADRANT_LEARNING_GROWTH, 0,
		    4);
	f->cfg = (config){.behaviours = f->behaviours,
			  .n_behaviours = N_BEHAVIOURS,
			  .kpis = f->kpis,
			  .n_kpis = N_KPIS};
	f->cfg.windows.windows = f->windows;
	f->cfg.windows.n_windows = N_WINDOWS;
	f->cfg.privacy.min_group_size = MIN_GROUP;

	f->roster = roster_new();
	for (int i = 0; i < 5; i++)
		fixture_person(f, i, "Big");
	for (int i = 5; i < 8; i++)
		fixture_person(f, i, "Tiny");
	for (int i = 8; i < 8 + n_small; i++)
		fixture_person(f, i, "Small");
	f->tick = kpi_tick_new(&f->cfg);
	f->sc = scorecard_new(&f->cfg);
	assert_non_null(f->tick);
	assert_non_null(f->sc);
	kpi_tick_set_suppressed_cb(f->tick, store_cb, f);
	fixture_tick(f);
	return f;
}

static int setup(void **state)
{
	*state = fixture_new(4);
	return 0;
}

/* The data set without team:Small: team:Tiny is the only suppressed child of org. */
static int setup_one_small_team(void **state)
{
	*state = fixture_new(0);
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	json_decref(f->doc);
	scorecard_free(f->sc);
	kpi_tick_free(f->tick);
	roster_free(f->roster);
	test_free(f);
	return 0;
}

/* The number at key of o; fails the test when it is not a number. */
static double number(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* The figure of KPI id in scope object s, or NULL. */
static const json_t *figure(const json_t *s, const char *id)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(s, "kpis"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "kpi")), id) == 0)
			return e;
	}
	return NULL;
}

static void assert_close(double expected, double actual)
{
	if (!(actual > expected - 1e-9 && actual < expected + 1e-9))
		fail_msg("expected %.12g, got %.12g", expected, actual);
}

static void test_doc_header_and_kpis(void **state)
{
	fixture *f = *state;
	const json_t *kpis = json_object_get(f->doc, "kpis");

	assert_int_equal(json_integer_value(json_object_get(f->doc, "format")), 1);
	assert_int_equal(json_integer_value(json_object_get(f->doc, "computed_at")), NOW_MS);
	assert_int_equal(json_integer_value(json_object_get(f->doc, "tick_interval_ms")), 2000);
	assert_int_equal(json_integer_value(json_object_get(f->doc, "min_group_size")), MIN_GROUP);
	assert_string_equal(json_string_value(json_object_get(f->doc, "config_version")),
			    "0123456789abcdef");
	assert_int_equal(json_array_size(kpis), N_KPIS);
	assert_string_equal(json_string_value(json_object_get(json_array_get(kpis, 1), "id")),
			    "shares");
	assert_string_equal(json_string_value(json_object_get(json_array_get(kpis, 1), "quadrant")),
			    "customer");
	assert_close(0.6, number(json_array_get(kpis, 1), "weight"));
	assert_close(10, number(json_array_get(kpis, 1), "target"));
	/* org, team:Big, team:Tiny and team:Small, in roster order. */
	assert_int_equal(json_array_size(json_object_get(f->doc, "scopes")), 4);
	assert_int_equal(scorecard_doc_check(f->doc, (char[64]){0}, 64), 0);
}

static void test_doc_org_values(void **state)
{
	fixture *f = *state;
	const json_t *org = scorecard_doc_scope(f->doc, "org");
	const json_t *q = json_object_get(org, "quadrants");

	assert_non_null(org);
	assert_false(json_is_true(json_object_get(org, "suppressed")));
	assert_close(0.64, number(org, "index"));
	assert_close(1.0, number(q, "learning_growth"));
	assert_close(0.4, number(q, "customer"));
	assert_true(json_is_null(json_object_get(q, "financial")));
	assert_true(json_is_null(json_object_get(q, "internal_process")));

	assert_close(0.75, number(figure(org, "kudos_rate"), "value"));
	assert_close(0.5, number(figure(org, "kudos_rate"), "target"));
	assert_string_equal(json_string_value(json_object_get(figure(org, "kudos_rate"), "state")),
			    "on_target");
	assert_close(0.4, number(figure(org, "kudos_rate"), "contribution"));
	assert_close(4, number(figure(org, "shares"), "value"));
	assert_string_equal(json_string_value(json_object_get(figure(org, "shares"), "state")),
			    "below_target");
	assert_close(0.24, number(figure(org, "shares"), "contribution"));
	assert_close(9, number(figure(org, "kudos_count"), "value"));
	assert_string_equal(json_string_value(json_object_get(figure(org, "kudos_count"), "state")),
			    "on_target");
	/* Weight 0: reported, but no part of the index. */
	assert_true(json_is_null(json_object_get(figure(org, "kudos_count"), "contribution")));
}

static void test_doc_team_values(void **state)
{
	fixture *f = *state;
	const json_t *big = scorecard_doc_scope(f->doc, "team:Big");
	const json_t *q = json_object_get(big, "quadrants");

	assert_non_null(big);
	assert_string_equal(json_string_value(json_object_get(big, "scope_kind")), "team");
	assert_close(0.92, number(big, "index"));
	assert_close(0.8, number(q, "learning_growth"));
	assert_close(1.0, number(q, "customer"));
	assert_close(0.4, number(figure(big, "kudos_rate"), "value"));
	assert_string_equal(json_string_value(json_object_get(figure(big, "kudos_rate"), "state")),
			    "below_target");
	assert_close(0.32, number(figure(big, "kudos_rate"), "contribution"));
	assert_close(12, number(figure(big, "shares"), "value"));
	assert_string_equal(json_string_value(json_object_get(figure(big, "shares"), "state")),
			    "on_target");
	assert_close(0.6, number(figure(big, "shares"), "contribution"));
	assert_string_equal(json_string_value(json_object_get(figure(big, "kudos_count"), "state")),
			    "below_target");
}

/* The suppressed team keeps its name, kind and flag, and nothing else. */
static void test_doc_suppressed_scope_bare(void **state)
{
	fixture *f = *state;
	const json_t *tiny = scorecard_doc_scope(f->doc, "team:Tiny");
	char *text;

	assert_non_null(tiny);
	assert_true(json_is_true(json_object_get(tiny, "suppressed")));
	assert_int_equal(json_object_size(tiny), 3);
	assert_string_equal(json_string_value(json_object_get(tiny, "scope_kind")), "team");

	/* Its kudos rate, 4 / 3 = 1.333..., appears nowhere in the document. */
	text = json_dumps(f->doc, JSON_COMPACT);
	assert_non_null(text);
	assert_null(strstr(text, "1.333"));
	free(text);

	tiny = scorecard_doc_scope(f->doc, "team:Small");
	assert_non_null(tiny);
	assert_true(json_is_true(json_object_get(tiny, "suppressed")));
	assert_int_equal(json_object_size(tiny), 3);
}

/*
 * With team:Tiny the only small child of org, team:Big (5 people, not below
 * the minimum) is hidden too, since org minus team:Big would be team:Tiny.
 */
static void test_sibling_suppressed_bare(void **state)
{
	fixture *f = *state;
	const json_t *big = scorecard_doc_scope(f->doc, "team:Big");
	char *text;

	assert_int_equal(json_array_size(json_object_get(f->doc, "scopes")), 3);
	assert_non_null(big);
	assert_true(json_is_true(json_object_get(big, "suppressed")));
	assert_int_equal(json_object_size(big), 3);
	assert_true(
	    json_is_true(json_object_get(scorecard_doc_scope(f->doc, "team:Tiny"), "suppressed")));
	assert_false(
	    json_is_true(json_object_get(scorecard_doc_scope(f->doc, "org"), "suppressed")));

	/* Its index, 0.92, and its 12 shares appear nowhere in the document. */
	text = json_dumps(f->doc, JSON_COMPACT);
	assert_non_null(text);
	assert_null(strstr(text, "0.92"));
	assert_null(strstr(text, ":12"));
	free(text);
}

static void test_doc_unknown_scope(void **state)
{
	fixture *f = *state;

	assert_null(scorecard_doc_scope(f->doc, "team:Nobody"));
	assert_null(scorecard_doc_scope(f->doc, "Big"));
}

/* Runs report_render_table on scope into a string; the caller frees it. */
static char *render_table(const json_t *doc, const char *scope, int64_t now_ms)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	assert_int_equal(report_render_table(out, doc, scorecard_doc_scope(doc, scope), now_ms), 0);
	fclose(out);
	return text;
}

static void test_table_team(void **state)
{
	fixture *f = *state;
	char *text = render_table(f->doc, "team:Big", NOW_MS + 12345);
	const char *expected =
	    "Scorecard of team:Big (team)\n"
	    "Computed 2026-03-01 09:30:00 UTC, 12 s ago, config version 0123456789abcdef\n"
	    "Advocacy index: 0.920\n"
	    "\n"
	    "Customer: sub-index 1.000\n"
	    "  KPI               value      target  state         contribution\n"
	    "  shares               12          10  on target            0.600\n"
	    "\n"
	    "Learning & growth: sub-index 0.800\n"
	    "  KPI               value      target  state         contribution\n"
	    "  kudos_rate          0.4         0.5  below target         0.320\n"
	    "  kudos_count           2           4  below target             -\n";

	assert_string_equal(text, expected);
	free(text);
}

static void test_table_suppressed(void **state)
{
	fixture *f = *state;
	char *text = render_table(f->doc, "team:Tiny", NOW_MS);
	const char *expected =
	    "Scorecard of team:Tiny (team)\n"
	    "Computed 2026-03-01 09:30:00 UTC, 0 s ago, config version 0123456789abcdef\n"
	    "Suppressed: the scope or one of its siblings has fewer people than the minimum group "
	    "size (5), so no figure is shown.\n";

	assert_string_equal(text, expected);
	free(text);
}

static void test_table_sibling_suppressed(void **state)
{
	fixture *f = *state;
	char *text = render_table(f->doc, "team:Big", NOW_MS);
	const char *expected =
	    "Scorecard of team:Big (team)\n"
	    "Computed 2026-03-01 09:30:00 UTC, 0 s ago, config version 0123456789abcdef\n"
	    "Suppressed: the scope or one of its siblings has fewer people than the minimum group "
	    "size (5), so no figure is shown.\n";

	assert_string_equal(text, expected);
	free(text);
}

static void test_json_org(void **state)
{
	fixture *f = *state;
	json_t *o = report_render_json(f->doc, scorecard_doc_scope(f->doc, "org"), NOW_MS + 61000);
	const json_t *quadrants = json_object_get(o, "quadrants"), *lg, *rate;

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "scope")), "org");
	assert_false(json_is_true(json_object_get(o, "suppressed")));
	assert_int_equal(json_integer_value(json_object_get(o, "age_seconds")), 61);
	assert_int_equal(json_integer_value(json_object_get(o, "computed_at")), NOW_MS);
	assert_close(0.64, number(o, "index"));
	/* Only the quadrants with an active KPI, in scorecard order. */
	assert_int_equal(json_array_size(quadrants), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(quadrants, 0), "quadrant")),
	    "customer");
	lg = json_array_get(quadrants, 1);
	assert_string_equal(json_string_value(json_object_get(lg, "quadrant")), "learning_growth");
	assert_close(1.0, number(lg, "sub_index"));
	assert_int_equal(json_array_size(json_object_get(lg, "kpis")), 2);
	rate = json_array_get(json_object_get(lg, "kpis"), 0);
	assert_string_equal(json_string_value(json_object_get(rate, "kpi")), "kudos_rate");
	assert_string_equal(json_string_value(json_object_get(rate, "window")), "7d");
	assert_close(0.4, number(rate, "weight"));
	assert_close(0.75, number(rate, "value"));
	assert_close(0.5, number(rate, "target"));
	assert_close(0.4, number(rate, "contribution"));
	assert_string_equal(json_string_value(json_object_get(rate, "state")), "on_target");
	json_decref(o);
}

static void test_json_suppressed(void **state)
{
	fixture *f = *state;
	json_t *o = report_render_json(f->doc, scorecard_doc_scope(f->doc, "team:Tiny"), NOW_MS);

	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "suppressed")));
	assert_null(json_object_get(o, "index"));
	assert_null(json_object_get(o, "quadrants"));
	assert_int_equal(json_integer_value(json_object_get(o, "min_group_size")), MIN_GROUP);
	json_decref(o);
}

/*
 * A card written by hand: a per-scope target in the entry wins over the
 * KPI's, a suppressed eNPS figure in an unsuppressed scope keeps only its
 * state, a missing value or a zero target get their own states, and a
 * better-lower KPI over its target is above_target.
 */
static void test_doc_hand_card(void **state)
{
	const char *card_text =
	    "{\"generated_at\": 5000, \"min_group_size\": 5,"
	    " \"kpis\": ["
	    "  {\"id\": \"a\", \"quadrant\": \"financial\", \"weight\": 1, \"target\": 10,"
	    "   \"status\": \"active\", \"scopes\": [{\"scope\": \"org\", \"suppressed\": false,"
	    "   \"value\": 6, \"target\": 5}]},"
	    "  {\"id\": \"enps\", \"quadrant\": \"learning_growth\", \"weight\": 0, \"target\": 20,"
	    "   \"status\": \"active\", \"scopes\": [{\"scope\": \"org\", \"suppressed\": true}]},"
	    "  {\"id\": \"b\", \"quadrant\": \"customer\", \"weight\": 0, \"target\": 0,"
	    "   \"status\": \"active\", \"scopes\": [{\"scope\": \"org\", \"suppressed\": false,"
	    "   \"value\": 3}]},"
	    "  {\"id\": \"c\", \"quadrant\": \"customer\", \"weight\": 0, \"target\": 1,"
	    "   \"status\": \"active\", \"scopes\": [{\"scope\": \"org\", \"suppressed\": false,"
	    "   \"value\": null}]},"
	    "  {\"id\": \"gamed\", \"quadrant\": \"internal_process\", \"weight\": 0,"
	    "   \"target\": 0.05, \"better\": \"lower\", \"status\": \"active\", \"scopes\": ["
	    "   {\"scope\": \"org\", \"suppressed\": false, \"value\": 0.2}]},"
	    "  {\"id\": \"old\", \"quadrant\": \"customer\", \"status\": \"retired\", \"scopes\": "
	    "[]}],"
	    " \"scopes_index\": [{\"scope\": \"org\", \"scope_kind\": \"org\", \"suppressed\": "
	    "false,"
	    "  \"index\": 1, \"quadrants\": {\"financial\": 1, \"customer\": null},"
	    "  \"contributions\": [{\"kpi\": \"a\", \"contribution\": 1}]}]}";
	scorecard_doc_meta meta = {.computed_at_ms = 5000, .config_version = "v"};
	json_t *card = json_loads(card_text, 0, NULL);
	json_t *doc;
	const json_t *org, *enps;

	assert_non_null(card);
	doc = scorecard_doc_build(card, &meta);
	assert_non_null(doc);
	org = scorecard_doc_scope(doc, "org");
	assert_close(5, number(figure(org, "a"), "target"));
	assert_string_equal(json_string_value(json_object_get(figure(org, "a"), "state")),
			    "on_target");
	enps = figure(org, "enps");
	assert_string_equal(json_string_value(json_object_get(enps, "state")), "suppressed");
	assert_int_equal(json_object_size(enps), 2);
	assert_string_equal(json_string_value(json_object_get(figure(org, "b"), "state")),
			    "no_target");
	assert_string_equal(json_string_value(json_object_get(figure(org, "c"), "state")),
			    "no_value");
	/* A better-lower KPI over its target is above it, not on it. */
	assert_string_equal(json_string_value(json_object_get(figure(org, "gamed"), "state")),
			    "above_target");
	/* The retired KPI is not part of the current scorecard. */
	assert_int_equal(json_array_size(json_object_get(doc, "kpis")), 5);
	assert_null(scorecard_doc_kpi(doc, "old"));
	json_decref(doc);
	json_decref(card);
}

static void test_doc_check_rejects(void **state)
{
	char err[256];
	json_t *doc =
	    json_pack("{s:i,s:i,s:[],s:[]}", "format", 2, "computed_at", 1, "kpis", "scopes");

	assert_int_equal(scorecard_doc_check(doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "format is not 1"));
	json_object_set_new(doc, "format", json_integer(1));
	assert_int_equal(scorecard_doc_check(doc, err, sizeof(err)), 0);
	json_object_del(doc, "scopes");
	assert_int_equal(scorecard_doc_check(doc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"scopes\""));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_doc_header_and_kpis, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doc_org_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doc_team_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doc_suppressed_scope_bare, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_doc_unknown_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_team, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table_suppressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_org, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_suppressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sibling_suppressed_bare, setup_one_small_team,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_table_sibling_suppressed, setup_one_small_team,
					    teardown),
	    cmocka_unit_test(test_doc_hand_card),
	    cmocka_unit_test(test_doc_check_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
