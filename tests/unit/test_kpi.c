/*
 * test_kpi.c - KPI values, group-size suppression and the per-tick emit.
 *
 * The catalog is built in memory: two behaviours (kudos, share), two windows
 * (24h, 7d) and one KPI per aggregation. The roster is a real one filled with
 * roster_upsert(): org 11 people, department:Finance 11, made of
 * team:Payments 5, team:Tiny 3 and team:Ledger 3. Two small teams, so that
 * sibling suppression (test_kpi_suppress.c) never hides Payments here.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpi.h"

/* cmocka 1.1 compares floats only in single precision. */
#define assert_near(a, b, eps) assert_near_at((a), (b), (eps), __FILE__, __LINE__)

static void assert_near_at(double a, double b, double eps, const char *file, int line)
{
	if (fabs(a - b) <= eps)
		return;
	print_error("%.17g is not within %g of %.17g\n", a, eps, b);
	_fail(file, line);
}

#define MIN_GROUP 5
#define MAX_UPDATES 64

enum { B_KUDOS, B_SHARE, N_BEHAVIOURS };
enum { W_24H, W_7D, N_WINDOWS };
enum { K_RATE, K_COUNT, K_CONTRIB, K_PARTICIPATION, N_KPIS };

typedef struct fixture {
	config cfg;
	config_behaviour behaviours[N_BEHAVIOURS];
	config_window windows[N_WINDOWS];
	config_kpi kpis[N_KPIS];
	size_t kudos_only[1];
	size_t kudos_and_share[2];
	roster *roster;
	uint32_t org, payments, tiny, ledger, finance;

	kpi_update updates[MAX_UPDATES];
	size_t n_updates;
	size_t n_suppressed;
} fixture;

static void fixture_kpi(fixture *f, size_t i, const char *id, kpi_aggregation agg, size_t window,
			size_t *behaviours, size_t n_behaviours)
{
	config_kpi *k = &f->kpis[i];

	k->id = (char *)id;
	k->name = (char *)id;
	k->aggregation = agg;
	k->window = window;
	k->behaviours = behaviours;
	k->n_behaviours = n_behaviours;
	k->quadrant = QUADRANT_CUSTOMER;
	k->indicator = INDICATOR_LEADING;
	k->weight = 0.25;
	k->target = 1.0;
}

static void fixture_person(fixture *f, int n, const char *department, const char *team)
{
	const char *values[SCOPE_KIND_COUNT] = {0};
	pseudonym p = {{0}};

	values[SCOPE_DEPARTMENT] = department;
	values[SCOPE_TEAM] = team;
	p.bytes[0] = (uint8_t)n;
	assert_int_equal(roster_upsert(f->roster, &p, values, NULL, 0), 0);
}

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));
	int person = 0;

	f->behaviours[B_KUDOS].id = "kudos";
	f->behaviours[B_SHARE].id = "share";
	f->windows[W_24H] = (config_window){.name = "24h", .length_ms = 86400000};
	f->windows[W_7D] = (config_window){.name = "7d", .length_ms = 7 * 86400000LL};
	f->kudos_only[0] = B_KUDOS;
	f->kudos_and_share[0] = B_KUDOS;
	f->kudos_and_share[1] = B_SHARE;
	fixture_kpi(f, K_RATE, "recognition_rate", KPI_AGG_RATE, W_7D, f->kudos_only, 1);
	fixture_kpi(f, K_COUNT, "activity_count", KPI_AGG_COUNT, W_24H, f->kudos_and_share, 2);
	fixture_kpi(f, K_CONTRIB, "contributors", KPI_AGG_CONTRIBUTORS, W_7D, f->kudos_only, 1);
	fixture_kpi(f, K_PARTICIPATION, "participation", KPI_AGG_PARTICIPATION, W_7D,
		    f->kudos_and_share, 2);
	f->cfg.behaviours = f->behaviours;
	f->cfg.n_behaviours = N_BEHAVIOURS;
	f->cfg.windows.windows = f->windows;
	f->cfg.windows.n_windows = N_WINDOWS;
	f->cfg.kpis = f->kpis;
	f->cfg.n_kpis = N_KPIS;

	f->roster = roster_new();
	assert_non_null(f->roster);
	for (int i = 0; i < 5; i++)
		fixture_person(f, person++, "Finance", "Payments");
	for (int i = 0; i < 3; i++)
		fixture_person(f, person++, "Finance", "Tiny");
	for (int i = 0; i < 3; i++)
		fixture_person(f, person++, "Finance", "Ledger");
	f->org = ROSTER_ORG_SCOPE;
	f->payments = roster_scope_find(f->roster, "team:Payments");
	f->tiny = roster_scope_find(f->roster, "team:Tiny");
	f->ledger = roster_scope_find(f->roster, "team:Ledger");
	f->finance = roster_scope_find(f->roster, "department:Finance");
	assert_int_not_equal(f->payments, ROSTER_NO_SCOPE);
	assert_int_not_equal(f->tiny, ROSTER_NO_SCOPE);
	assert_int_not_equal(f->ledger, ROSTER_NO_SCOPE);
	assert_int_not_equal(f->finance, ROSTER_NO_SCOPE);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	roster_free(f->roster);
	test_free(f);
	return 0;
}

static void collect_cb(const kpi_update *u, void *opaque)
{
	fixture *f = opaque;

	assert_true(f->n_updates < MAX_UPDATES);
	f->updates[f->n_updates++] = *u;
}

static const kpi_update *find_update(const fixture *f, const char *kpi, const char *scope)
{
	for (size_t i = 0; i < f->n_updates; i++)
		if (strcmp(f->updates[i].kpi->id, kpi) == 0 &&
		    strcmp(f->updates[i].scope, scope) == 0)
			return &f->updates[i];
	return NULL;
}

static void test_value_per_aggregation(void **state)
{
	(void)state;
	assert_near(kpi_value(KPI_AGG_COUNT, 7, 3, 10), 7.0, 1e-12);
	assert_near(kpi_value(KPI_AGG_CONTRIBUTORS, 7, 3, 10), 3.0, 1e-12);
	assert_near(kpi_value(KPI_AGG_RATE, 7, 3, 10), 0.7, 1e-12);
	assert_near(kpi_value(KPI_AGG_PARTICIPATION, 7, 3, 10), 0.3, 1e-12);
}

static void test_value_zero_headcount(void **state)
{
	(void)state;
	assert_near(kpi_value(KPI_AGG_RATE, 7, 3, 0), 0.0, 0.0);
	assert_near(kpi_value(KPI_AGG_PARTICIPATION, 7, 3, 0), 0.0, 0.0);
	assert_near(kpi_value(KPI_AGG_COUNT, 7, 3, 0), 7.0, 0.0);
	assert_near(kpi_value(KPI_AGG_CONTRIBUTORS, 7, 3, 0), 3.0, 0.0);
}

static void test_value_negative_net_count(void **state)
{
	(void)state;
	/* More retractions than additions in the window: the net is reported as is. */
	assert_near(kpi_value(KPI_AGG_RATE, -2, 0, 4), -0.5, 1e-12);
}

static void test_enps_formula(void **state)
{
	(void)state;
	/* (promoters - detractors) / responses x 100, from -100 to 100. */
	assert_near(kpi_enps(4, 3, 2), 200.0 / 9.0, 1e-9);
	assert_near(kpi_enps(0, 0, 5), -100.0, 0.0);
	assert_near(kpi_enps(5, 0, 0), 100.0, 0.0);
	assert_near(kpi_enps(0, 6, 0), 0.0, 0.0);
	assert_near(kpi_enps(0, 0, 0), 0.0, 0.0);
	assert_near(kpi_value(KPI_AGG_ENPS, 9, 7, 8), 0.0, 0.0);
}

/* Counts per scope of the three eNPS behaviours and the distinct respondents. */
static void enps_add(kpi_tick *t, uint32_t scope, int64_t promoters, int64_t passives,
		     int64_t detractors, int64_t respondents)
{
	kpi_tick_add_count(t, 0, 0, scope, promoters);
	kpi_tick_add_count(t, 0, 1, scope, passives);
	kpi_tick_add_count(t, 0, 2, scope, detractors);
	kpi_tick_set_contributors(t, 0, scope, respondents);
}

/* Emits the enps KPI over the fixture's roster with min_respondents. */
static size_t enps_emit(fixture *f, int min_respondents)
{
	config_behaviour behaviours[3] = {{.id = "promoter"}, {.id = "passive"}, {.id = "detractor"}};
	config_window window = {.name = "28d", .length_ms = 28 * 86400000LL};
	size_t ids[3] = {0, 1, 2};
	config_kpi kpi = {.id = "enps", .name = "eNPS", .behaviours = ids, .n_behaviours = 3,
			  .aggregation = KPI_AGG_ENPS, .window = 0, .target = 20};
	config cfg = {.behaviours = behaviours, .n_behaviours = 3, .kpis = &kpi, .n_kpis = 1};
	int64_t start = 0, end = 1000;

	cfg.windows.windows = &window;
	cfg.windows.n_windows = 1;
	cfg.privacy.min_respondents = min_respondents;
	kpi_tick *t = kpi_tick_new(&cfg);
	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 5), 0);
	enps_add(t, f->org, 4, 3, 2, 7);
	enps_add(t, f->finance, 1, 2, 3, 6);
	enps_add(t, f->payments, 1, 1, 2, 4);
	enps_add(t, f->tiny, 3, 0, 0, 3);
	enps_add(t, f->ledger, 0, 1, 2, 3);
	f->n_updates = 0;
	size_t suppressed = kpi_tick_emit(t, f->roster, MIN_GROUP, &start, &end, collect_cb, f);
	for (size_t i = 0; i < f->n_updates; i++)
		f->updates[i].kpi = NULL; /* kpi lives on this stack */
	kpi_tick_free(t);
	return suppressed;
}

static const kpi_update *find_scope(const fixture *f, const char *scope)
{
	for (size_t i = 0; i < f->n_updates; i++)
		if (strcmp(f->updates[i].scope, scope) == 0)
			return &f->updates[i];
	return NULL;
}

static void test_enps_per_scope_and_suppression(void **state)
{
	fixture *f = *state;
	const kpi_update *u;

	/* Tiny and Ledger have 3 people (group size); Payments has 5 people but 4 respondents. */
	assert_int_equal(enps_emit(f, 5), 3);
	assert_int_equal(f->n_updates, 2);
	u = find_scope(f, "org");
	assert_non_null(u);
	assert_near(u->value, 200.0 / 9.0, 1e-9);
	assert_int_equal(u->count, 9);
	assert_int_equal(u->contributors, 7);
	u = find_scope(f, "department:Finance");
	assert_non_null(u);
	assert_near(u->value, -200.0 / 6.0, 1e-9);
	assert_null(find_scope(f, "team:Payments"));
	assert_null(find_scope(f, "team:Tiny"));

	/* With the lowest allowed minimum, 4 respondents are enough; 3 people still are not. */
	assert_int_equal(enps_emit(f, 3), 2);
	u = find_scope(f, "team:Payments");
	assert_non_null(u);
	assert_near(u->value, -25.0, 1e-9);
	assert_null(find_scope(f, "team:Tiny"));
}

static void test_scope_eligible_boundary(void **state)
{
	fixture *f = *state;

	assert_true(kpi_scope_eligible(f->roster, f->payments, 5));
	assert_false(kpi_scope_eligible(f->roster, f->payments, 6));
	assert_false(kpi_scope_eligible(f->roster, f->tiny, 5));
	assert_true(kpi_scope_eligible(f->roster, f->tiny, 3));
	assert_true(kpi_scope_eligible(f->roster, f->org, 11));
	assert_false(kpi_scope_eligible(f->roster, f->org, 12));
}

static void test_count_sums_kpi_behaviours(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 1000), 0);
	kpi_tick_add_count(t, W_24H, B_KUDOS, f->payments, 4);
	kpi_tick_add_count(t, W_24H, B_KUDOS, f->payments, 1);
	kpi_tick_add_count(t, W_24H, B_SHARE, f->payments, 2);
	kpi_tick_add_count(t, W_7D, B_KUDOS, f->payments, 9);
	kpi_tick_add_count(t, W_7D, B_SHARE, f->payments, 100);
	kpi_tick_add_count(t, W_7D, B_KUDOS, f->tiny, 50);

	/* The count KPI reads kudos and share over 24h. */
	assert_int_equal(kpi_tick_count(t, K_COUNT, f->payments), 7);
	/* The rate KPI reads kudos only over 7d. */
	assert_int_equal(kpi_tick_count(t, K_RATE, f->payments), 9);
	assert_int_equal(kpi_tick_count(t, K_PARTICIPATION, f->payments), 109);
	assert_int_equal(kpi_tick_count(t, K_RATE, f->finance), 0);
	kpi_tick_free(t);
}

static void test_add_out_of_range_ignored(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	uint32_t n = roster_scope_count(f->roster);

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, n, 1000), 0);
	kpi_tick_add_count(t, N_WINDOWS, B_KUDOS, f->payments, 1);
	kpi_tick_add_count(t, W_7D, N_BEHAVIOURS, f->payments, 1);
	kpi_tick_add_count(t, W_7D, B_KUDOS, n, 1);
	kpi_tick_set_contributors(t, N_KPIS, f->payments, 1);
	kpi_tick_set_contributors(t, K_CONTRIB, n, 1);
	for (uint32_t s = 0; s < n; s++)
		for (size_t k = 0; k < N_KPIS; k++)
			assert_int_equal(kpi_tick_count(t, k, s), 0);
	assert_int_equal(kpi_tick_count(t, N_KPIS, f->payments), 0);
	assert_int_equal(kpi_tick_count(t, K_RATE, n), 0);
	kpi_tick_free(t);
}

static void test_emit_fills_every_field(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	int64_t starts[N_WINDOWS] = {1000, 2000};
	int64_t ends[N_WINDOWS] = {5000, 6000};
	const kpi_update *u;

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 777), 0);
	kpi_tick_add_count(t, W_7D, B_KUDOS, f->payments, 4);
	kpi_tick_add_count(t, W_24H, B_SHARE, f->payments, 3);
	kpi_tick_set_contributors(t, K_RATE, f->payments, 2);
	kpi_tick_set_contributors(t, K_PARTICIPATION, f->payments, 3);
	kpi_tick_emit(t, f->roster, MIN_GROUP, starts, ends, collect_cb, f);

	u = find_update(f, "recognition_rate", "team:Payments");
	assert_non_null(u);
	assert_ptr_equal(u->kpi, &f->kpis[K_RATE]);
	assert_int_equal(u->scope_kind, SCOPE_TEAM);
	assert_string_equal(u->window, "7d");
	assert_int_equal(u->count, 4);
	assert_int_equal(u->contributors, 2);
	assert_int_equal(u->headcount, 5);
	assert_near(u->value, 0.8, 1e-12);
	assert_near(u->rate, 0.8, 1e-12);
	assert_int_equal(u->window_start_ms, 2000);
	assert_int_equal(u->window_end_ms, 6000);
	assert_int_equal(u->computed_at_ms, 777);

	u = find_update(f, "activity_count", "team:Payments");
	assert_non_null(u);
	assert_string_equal(u->window, "24h");
	assert_int_equal(u->count, 3);
	assert_near(u->value, 3.0, 0.0);
	assert_near(u->rate, 0.6, 1e-12);
	assert_int_equal(u->window_start_ms, 1000);
	assert_int_equal(u->window_end_ms, 5000);

	u = find_update(f, "participation", "team:Payments");
	assert_non_null(u);
	assert_int_equal(u->count, 4);
	assert_int_equal(u->contributors, 3);
	assert_near(u->value, 0.6, 1e-12);
	kpi_tick_free(t);
}

static void test_emit_zero_scopes_and_suppression(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	int64_t starts[N_WINDOWS] = {0, 0};
	int64_t ends[N_WINDOWS] = {1, 1};
	size_t suppressed;
	const kpi_update *u;

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 1), 0);
	kpi_tick_add_count(t, W_7D, B_KUDOS, f->tiny, 3);
	suppressed = kpi_tick_emit(t, f->roster, MIN_GROUP, starts, ends, collect_cb, f);

	/* org, department:Finance and team:Payments are eligible; Tiny and Ledger are not. */
	assert_int_equal(f->n_updates, 3 * N_KPIS);
	assert_int_equal(suppressed, 2 * N_KPIS);
	assert_null(find_update(f, "recognition_rate", "team:Tiny"));

	/* Payments had no behaviour at all and still reports a real zero. */
	u = find_update(f, "recognition_rate", "team:Payments");
	assert_non_null(u);
	assert_int_equal(u->count, 0);
	assert_near(u->value, 0.0, 0.0);

	u = find_update(f, "recognition_rate", "org");
	assert_non_null(u);
	assert_int_equal(u->scope_kind, SCOPE_ORG);
	assert_int_equal(u->headcount, 11);
	kpi_tick_free(t);
}

static void test_emit_order_kpi_then_scope(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	int64_t starts[N_WINDOWS] = {0, 0};
	int64_t ends[N_WINDOWS] = {1, 1};

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 1), 0);
	kpi_tick_emit(t, f->roster, 0, starts, ends, collect_cb, f);
	assert_int_equal(f->n_updates, N_KPIS * roster_scope_count(f->roster));
	for (size_t i = 1; i < f->n_updates; i++) {
		const kpi_update *prev = &f->updates[i - 1];
		const kpi_update *cur = &f->updates[i];
		uint32_t prev_scope = roster_scope_find(f->roster, prev->scope);
		uint32_t cur_scope = roster_scope_find(f->roster, cur->scope);

		if (prev->kpi == cur->kpi)
			assert_true(prev_scope < cur_scope);
		else
			assert_true(prev->kpi < cur->kpi);
	}
	kpi_tick_free(t);
}

static void test_begin_resets_and_grows(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	pseudonym p = {{0xee}};
	const char *values[SCOPE_KIND_COUNT] = {0};
	const kpi_update *u;
	uint32_t extra;

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, 1, 1), 0);
	kpi_tick_add_count(t, W_7D, B_KUDOS, f->org, 5);
	kpi_tick_set_contributors(t, K_CONTRIB, f->org, 2);
	assert_int_equal(kpi_tick_count(t, K_RATE, f->org), 5);

	/* A scope that appears later is covered once the next tick begins. */
	values[SCOPE_TEAM] = "Later";
	assert_int_equal(roster_upsert(f->roster, &p, values, NULL, 0), 0);
	extra = roster_scope_find(f->roster, "team:Later");
	assert_int_not_equal(extra, ROSTER_NO_SCOPE);

	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 2), 0);
	assert_int_equal(kpi_tick_count(t, K_RATE, f->org), 0);
	kpi_tick_add_count(t, W_7D, B_KUDOS, extra, 1);
	assert_int_equal(kpi_tick_count(t, K_RATE, extra), 1);
	kpi_tick_emit(t, f->roster, 1, (int64_t[]){0, 0}, (int64_t[]){1, 1}, collect_cb, f);
	u = find_update(f, "contributors", "org");
	assert_non_null(u);
	assert_int_equal(u->contributors, 0);
	u = find_update(f, "recognition_rate", "team:Later");
	assert_non_null(u);
	assert_near(u->value, 1.0, 0.0);
	kpi_tick_free(t);
}

static void test_emit_skips_scopes_past_begin(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	uint32_t n = roster_scope_count(f->roster);
	pseudonym p = {{0xef}};
	const char *values[SCOPE_KIND_COUNT] = {0};

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, n, 1), 0);
	/* Interned during the tick: no counts were read for it, so it is not emitted. */
	values[SCOPE_TEAM] = "Newcomers";
	assert_int_equal(roster_upsert(f->roster, &p, values, NULL, 0), 0);
	kpi_tick_emit(t, f->roster, 0, (int64_t[]){0, 0}, (int64_t[]){1, 1}, collect_cb, f);
	assert_int_equal(f->n_updates, N_KPIS * n);
	assert_null(find_update(f, "recognition_rate", "team:Newcomers"));
	kpi_tick_free(t);
}

static void count_suppressed_cb(const kpi_update *u, void *opaque)
{
	fixture *f = opaque;

	assert_true(u->suppressed);
	assert_int_equal(u->suppressed_reason, SUPPRESS_SMALL_GROUP);
	assert_true(u->scope_id == f->tiny || u->scope_id == f->ledger);
	assert_string_equal(u->scope, u->scope_id == f->tiny ? "team:Tiny" : "team:Ledger");
	assert_int_equal(u->scope_kind, SCOPE_TEAM);
	/* No figure of a small group leaves kpi.c, not even its headcount. */
	assert_int_equal(u->count, 0);
	assert_int_equal(u->contributors, 0);
	assert_int_equal(u->headcount, 0);
	assert_near(u->value, 0.0, 0.0);
	assert_near(u->rate, 0.0, 0.0);
	assert_int_equal(u->window_end_ms, u->kpi->window == W_7D ? 70 : 20);
	assert_int_equal(u->computed_at_ms, 5);
	f->n_suppressed++;
}

static void test_emit_reports_suppressed_scopes(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);
	size_t suppressed;

	assert_non_null(t);
	kpi_tick_set_suppressed_cb(t, count_suppressed_cb, f);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 5), 0);
	kpi_tick_add_count(t, W_7D, B_KUDOS, f->tiny, 3);
	suppressed = kpi_tick_emit(t, f->roster, MIN_GROUP, (int64_t[]){10, 60},
				   (int64_t[]){20, 70}, collect_cb, f);

	assert_int_equal(suppressed, 2 * N_KPIS);
	assert_int_equal(f->n_suppressed, 2 * N_KPIS);
	/* The emit callback still gets eligible scopes only. */
	assert_int_equal(f->n_updates, 3 * N_KPIS);
	assert_null(find_update(f, "recognition_rate", "team:Tiny"));
	for (size_t i = 0; i < f->n_updates; i++)
		assert_false(f->updates[i].suppressed);
	kpi_tick_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value_per_aggregation),
	    cmocka_unit_test(test_value_zero_headcount),
	    cmocka_unit_test(test_value_negative_net_count),
	    cmocka_unit_test(test_enps_formula),
	    cmocka_unit_test_setup_teardown(test_enps_per_scope_and_suppression, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope_eligible_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_count_sums_kpi_behaviours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_out_of_range_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emit_fills_every_field, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emit_zero_scopes_and_suppression, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emit_reports_suppressed_scopes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emit_order_kpi_then_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_begin_resets_and_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emit_skips_scopes_past_begin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
