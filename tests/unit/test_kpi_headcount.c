/*
 * test_kpi_headcount.c - headcount history arithmetic, the retention split,
 * roster departures and KPI figures divided by the window's mean headcount.
 *
 * The KPI cases use the data set of tests/kpi/20-headcount.sh: team A has
 * 6, 6, 5, 5 people in the four buckets of the window, team B 4, 5, 4, 4,
 * so the means are 5.5 and 4.25. A makes 11 recognitions by 4 people, B 6
 * by 3; each team has one departure. Two teams are added here. Team C has
 * 2 people now and is in no bucket, so its mean is 0 and it is suppressed.
 * Team D has 3 people in every bucket and no recognition or departure.
 * Hidden C alone (2 people) is below the minimum of 3, so sibling
 * suppression hides the smallest other team, D rather than B. Org has 13,
 * 14, 12, 12 people, mean 12.75.
 */
#include <math.h>
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

#include "headcount.h"
#include "kpi.h"
#include "roster.h"

/* cmocka 1.1 compares floats only in single precision. */
#define assert_near(a, b) assert_near_at((a), (b), __FILE__, __LINE__)

static void assert_near_at(double a, double b, const char *file, int line)
{
	if (fabs(a - b) <= 1e-12)
		return;
	print_error("%.17g is not within 1e-12 of %.17g\n", a, b);
	_fail(file, line);
}

/* ------------------------------------------------------------------------ */
/* Tick tables                                                              */

static void test_mean_over_recorded_buckets(void **state)
{
	headcount_tick *h = headcount_tick_new();

	(void)state;
	assert_non_null(h);
	assert_int_equal(headcount_tick_begin(h, 2, 3), 0);
	/* Window 0: three recorded buckets; scope 1 is missing from the third. */
	for (int b = 0; b < 3; b++)
		headcount_tick_add_bucket(h, 0);
	headcount_tick_add(h, 0, 0, 10);
	headcount_tick_add(h, 0, 0, 11);
	headcount_tick_add(h, 0, 0, 9);
	headcount_tick_add(h, 0, 1, 6);
	headcount_tick_add(h, 0, 1, 6);

	assert_int_equal(headcount_tick_buckets(h, 0), 3);
	assert_near(headcount_tick_mean(h, 0, 0, 99), 30.0 / 3);
	assert_near(headcount_tick_mean(h, 0, 1, 99), 12.0 / 3);
	assert_near(headcount_tick_mean(h, 0, 2, 99), 0.0);
	headcount_tick_free(h);
}

static void test_mean_without_history_is_current(void **state)
{
	headcount_tick *h = headcount_tick_new();

	(void)state;
	assert_int_equal(headcount_tick_begin(h, 2, 3), 0);
	headcount_tick_add_bucket(h, 0);
	headcount_tick_add(h, 0, 0, 10);
	/* Window 1 has no recorded bucket: the roster's current headcount. */
	assert_int_equal(headcount_tick_buckets(h, 1), 0);
	assert_near(headcount_tick_mean(h, 1, 0, 7), 7.0);

	/* A new tick empties the history read before. */
	assert_int_equal(headcount_tick_begin(h, 2, 3), 0);
	assert_near(headcount_tick_mean(h, 0, 0, 8), 8.0);
	headcount_tick_free(h);
}

static void test_out_of_range_ignored(void **state)
{
	headcount_tick *h = headcount_tick_new();

	(void)state;
	assert_int_equal(headcount_tick_begin(h, 1, 2), 0);
	headcount_tick_add_bucket(h, 1);
	headcount_tick_add(h, 0, 2, 50);
	headcount_tick_add_departures(h, 3, 0, 5);
	headcount_tick_add_departures(h, 0, 1, 2);
	headcount_tick_add_departures(h, 0, 1, 1);

	assert_int_equal(headcount_tick_buckets(h, 0), 0);
	assert_int_equal(headcount_tick_buckets(h, 1), 0);
	assert_int_equal(headcount_tick_departures(h, 0, 0), 0);
	assert_int_equal(headcount_tick_departures(h, 0, 1), 3);
	assert_int_equal(headcount_tick_departures(h, 0, 2), 0);
	headcount_tick_free(h);
}

static void test_retention_arithmetic(void **state)
{
	(void)state;
	assert_near(headcount_per_head(11, 5.5), 2.0);
	assert_near(headcount_per_head(6, 4.25), 6 / 4.25);
	assert_near(headcount_per_head(3, 0), 0.0);
	assert_near(headcount_retention(1, 5.5), 1 - 1 / 5.5);
	assert_near(headcount_retention(0, 4), 1.0);
	assert_near(headcount_retention(2, 0), 0.0);
}

/* ------------------------------------------------------------------------ */
/* Retention split                                                          */

/*
 * Advocacy 0.1, 0.4, 0.3, 0.2. Sorted: T1, T4 low (heads 10 + 4, 2 + 2
 * departures), T3, T2 high (heads 8 + 5, 1 + 0 departures).
 */
static size_t four_teams(headcount_team *t)
{
	t[0] = (headcount_team){.name = "team:T1", .advocacy = 0.1, .heads = 10, .departures = 2};
	t[1] = (headcount_team){.name = "team:T2", .advocacy = 0.4, .heads = 5, .departures = 0};
	t[2] = (headcount_team){.name = "team:T3", .advocacy = 0.3, .heads = 8, .departures = 1};
	t[3] = (headcount_team){.name = "team:T4", .advocacy = 0.2, .heads = 4, .departures = 2};
	return 4;
}

static void test_split_median_even(void **state)
{
	headcount_team teams[4];
	headcount_split s;

	(void)state;
	assert_int_equal(headcount_split_teams(teams, four_teams(teams), false, 0, &s), 0);
	assert_int_equal(s.low.teams, 2);
	assert_near(s.low.heads, 14);
	assert_int_equal(s.low.departures, 4);
	assert_near(s.low.retention, 1 - 4.0 / 14);
	assert_int_equal(s.high.teams, 2);
	assert_near(s.high.heads, 13);
	assert_int_equal(s.high.departures, 1);
	assert_near(s.high.retention, 1 - 1.0 / 13);
	assert_near(s.gap, (1 - 1.0 / 13) - (1 - 4.0 / 14));
}

static void test_split_median_odd_leaves_middle_out(void **state)
{
	headcount_team teams[4];
	headcount_split s;

	(void)state;
	/* T1, T4, T3 only: T4 (0.2) is the middle team. */
	four_teams(teams);
	teams[1] = teams[3];
	assert_int_equal(headcount_split_teams(teams, 3, false, 0, &s), 0);
	assert_int_equal(s.low.teams, 1);
	assert_near(s.low.heads, 10);
	assert_int_equal(s.high.teams, 1);
	assert_near(s.high.heads, 8);
	assert_near(s.gap, (1 - 1.0 / 8) - (1 - 2.0 / 10));
}

static void test_split_ties_ordered_by_name(void **state)
{
	headcount_team teams[2] = {
	    {.name = "team:B", .advocacy = 0.5, .heads = 4, .departures = 1},
	    {.name = "team:A", .advocacy = 0.5, .heads = 5, .departures = 0},
	};
	headcount_split s;

	(void)state;
	assert_int_equal(headcount_split_teams(teams, 2, false, 0, &s), 0);
	assert_near(s.low.heads, 5);
	assert_near(s.high.heads, 4);
	assert_near(s.gap, (1 - 1.0 / 4) - 1.0);
}

static void test_split_threshold(void **state)
{
	headcount_team teams[4];
	headcount_split s;

	(void)state;
	/* >= 0.3 is high: T2 and T3. */
	assert_int_equal(headcount_split_teams(teams, four_teams(teams), true, 0.3, &s), 0);
	assert_int_equal(s.high.teams, 2);
	assert_near(s.high.heads, 13);
	assert_int_equal(s.low.teams, 2);
	assert_near(s.low.heads, 14);

	/* Nobody reaches 0.5: no high group, no figure. */
	assert_int_equal(headcount_split_teams(teams, four_teams(teams), true, 0.5, &s), -1);
	assert_near(s.gap, 0.0);
}

static void test_split_needs_two_teams(void **state)
{
	headcount_team teams[4];
	headcount_split s;

	(void)state;
	four_teams(teams);
	assert_int_equal(headcount_split_teams(teams, 1, false, 0, &s), -1);
	assert_int_equal(headcount_split_teams(teams, 0, false, 0, &s), -1);
}

/* ------------------------------------------------------------------------ */
/* Departures                                                               */

static void test_departure_key_per_person_and_day(void **state)
{
	uint8_t secret[32] = {1, 2, 3}, other_secret[32] = {9};
	pseudonym p = {{0x11}}, q = {{0x22}};
	int64_t day = 20000 * HEADCOUNT_DEPARTURE_DAY_MS;

	(void)state;
	uint64_t k = headcount_departure_key(secret, &p, day + 1000);
	assert_true(k == headcount_departure_key(secret, &p, day + HEADCOUNT_DEPARTURE_DAY_MS - 1));
	assert_true(k != headcount_departure_key(secret, &p, day + HEADCOUNT_DEPARTURE_DAY_MS));
	assert_true(k != headcount_departure_key(secret, &q, day + 1000));
	assert_true(k != headcount_departure_key(other_secret, &p, day + 1000));
	assert_true(k != 0);
}

static void test_departure_queue(void **state)
{
	headcount_departures q = {0};

	(void)state;
	for (int i = 0; i < 20; i++) {
		headcount_departure d = {.key = (uint64_t)i, .at_ms = i};
		assert_int_equal(headcount_departures_push(&q, &d), 0);
	}
	headcount_departures_consume(&q, 18);
	assert_int_equal(q.n, 2);
	assert_int_equal(q.items[0].key, 18);
	assert_int_equal(q.items[1].key, 19);
	headcount_departures_consume(&q, 5);
	assert_int_equal(q.n, 0);
	headcount_departures_fini(&q);
	assert_null(q.items);
}

/* ------------------------------------------------------------------------ */
/* Roster departures                                                        */

typedef struct roster_fixture {
	char dir[256];
	char key_path[300];
	privacy *privacy;
	roster *roster;
} roster_fixture;

static int roster_setup(void **state)
{
	static const char key_hex[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	roster_fixture *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	char err[256];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_kpi_headcount.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->key_path, sizeof(f->key_path), "%s/key.hex", f->dir);
	FILE *kf = fopen(f->key_path, "w");
	if (!kf || fputs(key_hex, kf) < 0 || fclose(kf) != 0 || chmod(f->key_path, 0600) != 0)
		return -1;
	if (privacy_new(f->key_path, "k1", 0, &f->privacy, err, sizeof(err)) < 0)
		return -1;
	f->roster = roster_new();
	*state = f;
	return f->roster ? 0 : -1;
}

static int roster_teardown(void **state)
{
	roster_fixture *f = *state;

	roster_free(f->roster);
	privacy_free(f->privacy);
	unlink(f->key_path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int apply(roster_fixture *f, const char *key, const char *json, int64_t ts,
		 roster_departure *d)
{
	char err[256];

	return roster_apply_record_at(f->roster, f->privacy, key, strlen(key), json,
				      json ? strlen(json) : 0, ts, d, err, sizeof(err));
}

static uint32_t team_heads(roster_fixture *f, const char *team)
{
	return roster_headcount(f->roster, roster_scope_find(f->roster, team));
}

static void test_roster_left_at_is_departure(void **state)
{
	roster_fixture *f = *state;
	roster_departure d;

	assert_int_equal(apply(f, "e1", "{\"team\":\"A\",\"department\":\"Sales\"}", 5, &d), 0);
	assert_false(d.left);
	assert_int_equal(apply(f, "e2", "{\"team\":\"A\"}", 5, &d), 0);
	assert_int_equal(team_heads(f, "team:A"), 2);

	assert_int_equal(apply(f, "e1",
			       "{\"team\":\"A\",\"department\":\"Sales\","
			       "\"left_at\":\"2026-03-02T10:00:00Z\"}",
			       5, &d),
			 0);
	assert_true(d.left);
	assert_int_equal(d.at_ms, 1772445600000LL);
	assert_int_equal(d.scopes[SCOPE_TEAM], roster_scope_find(f->roster, "team:A"));
	assert_int_equal(d.scopes[SCOPE_DEPARTMENT],
			 roster_scope_find(f->roster, "department:Sales"));
	assert_int_equal(d.scopes[SCOPE_ORG], ROSTER_ORG_SCOPE);
	assert_int_equal(d.scopes[SCOPE_REGION], ROSTER_NO_SCOPE);
	assert_int_equal(team_heads(f, "team:A"), 1);
	assert_int_equal(roster_size(f->roster), 1);

	/* A tombstone after the left_at record finds nobody: no second departure. */
	assert_int_equal(apply(f, "e1", NULL, 9, &d), 0);
	assert_false(d.left);
}

static void test_roster_tombstone_is_departure(void **state)
{
	roster_fixture *f = *state;
	roster_departure d;

	assert_int_equal(apply(f, "e3", "{\"team\":\"B\"}", 1, &d), 0);
	assert_int_equal(apply(f, "e3", NULL, 123456, &d), 0);
	assert_true(d.left);
	assert_int_equal(d.at_ms, 123456);
	assert_int_equal(d.scopes[SCOPE_TEAM], roster_scope_find(f->roster, "team:B"));
	assert_int_equal(team_heads(f, "team:B"), 0);

	/* Unknown person: nothing to count. */
	assert_int_equal(apply(f, "nobody", NULL, 5, &d), 0);
	assert_false(d.left);
}

static void test_roster_move_is_no_departure(void **state)
{
	roster_fixture *f = *state;
	roster_departure d;

	assert_int_equal(apply(f, "e4", "{\"team\":\"A\"}", 1, &d), 0);
	assert_int_equal(apply(f, "e4", "{\"team\":\"B\"}", 2, &d), 0);
	assert_false(d.left);
	assert_int_equal(team_heads(f, "team:A"), 0);
	assert_int_equal(team_heads(f, "team:B"), 1);

	/* left_at null is no departure either. */
	assert_int_equal(apply(f, "e4", "{\"team\":\"B\",\"left_at\":null}", 3, &d), 0);
	assert_false(d.left);
	assert_int_equal(team_heads(f, "team:B"), 1);
}

static void test_roster_invalid_left_at_rejected(void **state)
{
	roster_fixture *f = *state;
	roster_departure d;
	char err[256];

	assert_int_equal(apply(f, "e5", "{\"team\":\"A\"}", 1, &d), 0);
	const char *bad = "{\"team\":\"A\",\"left_at\":\"soon\"}";
	assert_int_equal(roster_apply_record_at(f->roster, f->privacy, "e5", 2, bad, strlen(bad), 2,
						&d, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "left_at must be an RFC 3339 time"));
	assert_null(strstr(err, "soon"));
	assert_false(d.left);
	assert_int_equal(team_heads(f, "team:A"), 1);
}

/* ------------------------------------------------------------------------ */
/* KPI figures over the window's mean headcount                             */

#define MAX_UPDATES 64

enum { B_KUDOS, N_BEHAVIOURS };
enum { K_RATE, K_ACTIVE, K_RETENTION, K_GAP, N_KPIS };

typedef struct kpi_fixture {
	config cfg;
	config_behaviour behaviours[N_BEHAVIOURS];
	config_window window;
	config_kpi kpis[N_KPIS];
	size_t kudos[1];
	roster *roster;
	kpi_tick *tick;
	uint32_t a, b, c;
	uint32_t d;
	kpi_update updates[MAX_UPDATES];
	headcount_split split; /* copied from the retention_gap update */
	size_t n_updates;
	kpi_update suppressed[MAX_UPDATES];
	size_t n_suppressed;
} kpi_fixture;

static void fixture_kpi(kpi_fixture *f, size_t i, const char *id, kpi_aggregation agg)
{
	config_kpi *k = &f->kpis[i];

	*k = (config_kpi){.id = (char *)id, .name = (char *)id, .aggregation = agg, .target = 0.02};
	if (!config_aggregation_reads_departures(agg)) {
		k->behaviours = f->kudos;
		k->n_behaviours = 1;
	}
}

static void suppressed_cb(const kpi_update *u, void *opaque);

/* Team A has 5 people now, B 4, C 2 and D 3. */
static int kpi_setup(void **state)
{
	kpi_fixture *f = test_calloc(1, sizeof(*f));
	const char *values[SCOPE_KIND_COUNT] = {0};
	static const char *const teams[] = {"A", "A", "A", "A", "A", "B", "B", "B", "B",
					    "C", "C", "D", "D", "D"};

	f->behaviours[B_KUDOS].id = "kudos";
	f->window = (config_window){.name = "80s", .length_ms = 80000};
	f->kudos[0] = B_KUDOS;
	fixture_kpi(f, K_RATE, "recognition_rate", KPI_AGG_RATE);
	fixture_kpi(f, K_ACTIVE, "active_rate", KPI_AGG_PARTICIPATION);
	fixture_kpi(f, K_RETENTION, "retention", KPI_AGG_RETENTION);
	fixture_kpi(f, K_GAP, "retention_gap", KPI_AGG_RETENTION_GAP);
	f->kpis[K_GAP].split_by = K_ACTIVE;
	f->cfg.behaviours = f->behaviours;
	f->cfg.n_behaviours = N_BEHAVIOURS;
	f->cfg.windows.windows = &f->window;
	f->cfg.windows.n_windows = 1;
	f->cfg.kpis = f->kpis;
	f->cfg.n_kpis = N_KPIS;

	f->roster = roster_new();
	assert_non_null(f->roster);
	for (size_t i = 0; i < sizeof(teams) / sizeof(teams[0]); i++) {
		pseudonym p = {{(uint8_t)(i + 1)}};
		values[SCOPE_TEAM] = teams[i];
		assert_int_equal(roster_upsert(f->roster, &p, values, NULL, 0), 0);
	}
	f->a = roster_scope_find(f->roster, "team:A");
	f->b = roster_scope_find(f->roster, "team:B");
	f->c = roster_scope_find(f->roster, "team:C");
	f->d = roster_scope_find(f->roster, "team:D");
	f->tick = kpi_tick_new(&f->cfg);
	assert_non_null(f->tick);
	kpi_tick_set_suppressed_cb(f->tick, suppressed_cb, f);
	assert_int_equal(kpi_tick_begin(f->tick, roster_scope_count(f->roster), 1000), 0);
	*state = f;
	return 0;
}

static int kpi_teardown(void **state)
{
	kpi_fixture *f = *state;

	kpi_tick_free(f->tick);
	roster_free(f->roster);
	test_free(f);
	return 0;
}

/*
 * The data set of the header: four recorded buckets, counts, contributors
 * and departures. Team C is in no bucket of the history.
 */
static void fill_tick(kpi_fixture *f)
{
	headcount_tick *h = kpi_tick_headcounts(f->tick);
	static const int64_t org[4] = {13, 14, 12, 12}, a[4] = {6, 6, 5, 5}, b[4] = {4, 5, 4, 4};

	for (int i = 0; i < 4; i++) {
		headcount_tick_add_bucket(h, 0);
		headcount_tick_add(h, 0, ROSTER_ORG_SCOPE, org[i]);
		headcount_tick_add(h, 0, f->a, a[i]);
		headcount_tick_add(h, 0, f->b, b[i]);
		headcount_tick_add(h, 0, f->d, 3);
	}
	headcount_tick_add_departures(h, 0, ROSTER_ORG_SCOPE, 2);
	headcount_tick_add_departures(h, 0, f->a, 1);
	headcount_tick_add_departures(h, 0, f->b, 1);

	kpi_tick_add_count(f->tick, 0, B_KUDOS, ROSTER_ORG_SCOPE, 17);
	kpi_tick_add_count(f->tick, 0, B_KUDOS, f->a, 11);
	kpi_tick_add_count(f->tick, 0, B_KUDOS, f->b, 6);
	kpi_tick_set_contributors(f->tick, K_ACTIVE, ROSTER_ORG_SCOPE, 7);
	kpi_tick_set_contributors(f->tick, K_ACTIVE, f->a, 4);
	kpi_tick_set_contributors(f->tick, K_ACTIVE, f->b, 3);
}

static void collect_cb(const kpi_update *u, void *opaque)
{
	kpi_fixture *f = opaque;

	assert_true(f->n_updates < MAX_UPDATES);
	f->updates[f->n_updates++] = *u;
	if (u->split)
		f->split = *u->split;
}

static void suppressed_cb(const kpi_update *u, void *opaque)
{
	kpi_fixture *f = opaque;

	assert_true(f->n_suppressed < MAX_UPDATES);
	f->suppressed[f->n_suppressed++] = *u;
}

static const kpi_update *find_in(const kpi_update *updates, size_t n, const char *kpi,
				 const char *scope)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(updates[i].kpi->id, kpi) == 0 && strcmp(updates[i].scope, scope) == 0)
			return &updates[i];
	return NULL;
}

static const kpi_update *find(const kpi_fixture *f, const char *kpi, const char *scope)
{
	return find_in(f->updates, f->n_updates, kpi, scope);
}

/* The reason (kpi, scope) was suppressed for, or -1 when it was not suppressed. */
static int suppressed_reason(const kpi_fixture *f, const char *kpi, const char *scope)
{
	const kpi_update *u = find_in(f->suppressed, f->n_suppressed, kpi, scope);

	return u ? (int)u->suppressed_reason : -1;
}

static size_t emit(kpi_fixture *f, int min_group_size)
{
	static const int64_t start[1] = {0}, end[1] = {80000};

	return kpi_tick_emit(f->tick, f->roster, min_group_size, start, end, collect_cb, f);
}

static void test_rates_divide_by_window_mean(void **state)
{
	kpi_fixture *f = *state;
	const kpi_update *u;

	fill_tick(f);
	/* C and D, for each of the three KPIs that have team figures. */
	assert_int_equal(emit(f, 3), 3 * 2);

	u = find(f, "recognition_rate", "team:A");
	assert_non_null(u);
	assert_near(u->value, 11 / 5.5);
	assert_near(u->rate, 11 / 5.5);
	assert_int_equal(u->headcount, 6); /* 5.5 rounded */
	u = find(f, "recognition_rate", "team:B");
	assert_non_null(u);
	assert_near(u->value, 6 / 4.25);
	assert_int_equal(u->headcount, 4);
	u = find(f, "recognition_rate", "org");
	assert_non_null(u);
	assert_near(u->value, 17 / 12.75);
	assert_int_equal(u->headcount, 13);

	u = find(f, "active_rate", "team:A");
	assert_non_null(u);
	assert_near(u->value, 4 / 5.5);
	u = find(f, "active_rate", "team:B");
	assert_non_null(u);
	assert_near(u->value, 3 / 4.25);

	/* Team C is in none of the recorded buckets: mean 0, and 2 people now. */
	assert_null(find(f, "recognition_rate", "team:C"));
	assert_int_equal(suppressed_reason(f, "recognition_rate", "team:C"), SUPPRESS_SMALL_GROUP);
	/* Org minus A, B and D would give C's 2 people away, so D, the smallest other team, is hidden. */
	assert_null(find(f, "recognition_rate", "team:D"));
	assert_int_equal(suppressed_reason(f, "recognition_rate", "team:D"), SUPPRESS_SIBLING);
	assert_int_equal(kpi_tick_suppressed(f->tick, SUPPRESS_SMALL_GROUP), 3);
	assert_int_equal(kpi_tick_suppressed(f->tick, SUPPRESS_SIBLING), 3);
}

static void test_rates_without_history_use_roster(void **state)
{
	kpi_fixture *f = *state;
	const kpi_update *u;

	kpi_tick_add_count(f->tick, 0, B_KUDOS, f->a, 11);
	/* Only C (2 people now) is below 3, and D is hidden as its sibling: two
	 * teams for each of the three KPIs with team figures. */
	assert_int_equal(emit(f, 3), 3 * 2);
	u = find(f, "recognition_rate", "team:A");
	assert_non_null(u);
	assert_near(u->value, 11 / 5.0);
	assert_int_equal(u->headcount, 5);
}

static void test_retention_per_scope(void **state)
{
	kpi_fixture *f = *state;
	const kpi_update *u;

	fill_tick(f);
	emit(f, 3);

	u = find(f, "retention", "team:A");
	assert_non_null(u);
	assert_near(u->value, 1 - 1 / 5.5);
	assert_int_equal(u->count, 1);
	assert_near(u->rate, 1 / 5.5);
	u = find(f, "retention", "team:B");
	assert_non_null(u);
	assert_near(u->value, 1 - 1 / 4.25);
	u = find(f, "retention", "org");
	assert_non_null(u);
	assert_near(u->value, 1 - 2 / 12.75);
	assert_int_equal(u->count, 2);
	assert_null(u->split);
	assert_int_equal(suppressed_reason(f, "retention", "team:D"), SUPPRESS_SIBLING);
}

static void test_retention_gap_org_only(void **state)
{
	kpi_fixture *f = *state;
	const kpi_update *u;

	fill_tick(f);
	emit(f, 3);

	/*
	 * active_rate: A 4/5.5 > B 3/4.25, so A is the high group. D is hidden
	 * as a sibling and takes no part. If it took part, D (active rate 0)
	 * would be the low group and B the middle team, in neither group.
	 */
	u = find(f, "retention_gap", "org");
	assert_non_null(u);
	assert_near(u->value, (1 - 1 / 5.5) - (1 - 1 / 4.25));
	assert_int_equal(u->count, 2);
	assert_int_equal(u->headcount, 10); /* 5.5 + 4.25 rounded */
	assert_int_equal(f->split.high.teams, 1);
	assert_near(f->split.high.heads, 5.5);
	assert_near(f->split.high.retention, 1 - 1 / 5.5);
	assert_int_equal(f->split.low.teams, 1);
	assert_near(f->split.low.heads, 4.25);
	assert_near(f->split.low.retention, 1 - 1 / 4.25);
	assert_null(find(f, "retention_gap", "team:A"));
	assert_null(find(f, "retention_gap", "team:B"));
	/* Retention figures carry the effective target like every other KPI. */
	assert_near(u->target, 0.02);
	assert_int_equal(u->target_source, TARGET_SOURCE_BASE);
}

static void test_threshold_split(void **state)
{
	kpi_fixture *f = *state;

	/*
	 * Both teams reach 0.7: no low group, so no figure and one suppression.
	 * D (0) would be a low group if it took part although hidden as a sibling.
	 */
	f->kpis[K_GAP].has_split_threshold = true;
	f->kpis[K_GAP].split_threshold = 0.7;
	fill_tick(f);
	emit(f, 3);
	assert_null(find(f, "retention_gap", "org"));
	assert_int_equal(suppressed_reason(f, "retention_gap", "org"), SUPPRESS_SMALL_GROUP);

	/* 0.72 puts B (0.706) low and A (0.727) high. */
	f->n_updates = 0;
	f->kpis[K_GAP].split_threshold = 0.72;
	emit(f, 3);
	assert_non_null(find(f, "retention_gap", "org"));
	assert_near(f->split.high.heads, 5.5);
	assert_near(f->split.low.heads, 4.25);
}

static void test_small_window_mean_suppressed(void **state)
{
	kpi_fixture *f = *state;
	headcount_tick *h = kpi_tick_headcounts(f->tick);
	size_t suppressed;

	fill_tick(f);
	/* Team C: 2 people now, and 2, 2, 2, 5 in the window, mean 2.75. */
	headcount_tick_add(h, 0, f->c, 2 + 2 + 2 + 5);
	suppressed = emit(f, 5);

	/*
	 * A: now 5, mean 5.5: emitted. B: now 4 and D: now 3: suppressed.
	 * C: now 2, mean 2.75: suppressed. The hidden teams cover 4 + 3 + 3 =
	 * 10 people, at least 5, so the sibling rule hides nothing more.
	 */
	assert_non_null(find(f, "recognition_rate", "team:A"));
	assert_null(find(f, "recognition_rate", "team:B"));
	assert_null(find(f, "recognition_rate", "team:C"));
	assert_null(find(f, "recognition_rate", "team:D"));
	/* Only team A is left for the split: no retention_gap figure. */
	assert_null(find(f, "retention_gap", "org"));
	/* Per KPI of the first three: B, C and D; retention_gap: org. */
	assert_int_equal(suppressed, 3 * 3 + 1);
	assert_int_equal(kpi_tick_suppressed(f->tick, SUPPRESS_SIBLING), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mean_over_recorded_buckets),
	    cmocka_unit_test(test_mean_without_history_is_current),
	    cmocka_unit_test(test_out_of_range_ignored),
	    cmocka_unit_test(test_retention_arithmetic),
	    cmocka_unit_test(test_split_median_even),
	    cmocka_unit_test(test_split_median_odd_leaves_middle_out),
	    cmocka_unit_test(test_split_ties_ordered_by_name),
	    cmocka_unit_test(test_split_threshold),
	    cmocka_unit_test(test_split_needs_two_teams),
	    cmocka_unit_test(test_departure_key_per_person_and_day),
	    cmocka_unit_test(test_departure_queue),
	    cmocka_unit_test_setup_teardown(test_roster_left_at_is_departure, roster_setup,
					    roster_teardown),
	    cmocka_unit_test_setup_teardown(test_roster_tombstone_is_departure, roster_setup,
					    roster_teardown),
	    cmocka_unit_test_setup_teardown(test_roster_move_is_no_departure, roster_setup,
					    roster_teardown),
	    cmocka_unit_test_setup_teardown(test_roster_invalid_left_at_rejected, roster_setup,
					    roster_teardown),
	    cmocka_unit_test_setup_teardown(test_rates_divide_by_window_mean, kpi_setup,
					    kpi_teardown),
	    cmocka_unit_test_setup_teardown(test_rates_without_history_use_roster, kpi_setup,
					    kpi_teardown),
	    cmocka_unit_test_setup_teardown(test_retention_per_scope, kpi_setup, kpi_teardown),
	    cmocka_unit_test_setup_teardown(test_retention_gap_org_only, kpi_setup, kpi_teardown),
	    cmocka_unit_test_setup_teardown(test_threshold_split, kpi_setup, kpi_teardown),
	    cmocka_unit_test_setup_teardown(test_small_window_mean_suppressed, kpi_setup,
					    kpi_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
