/*
 * test_kpi_suppress.c - the scope hierarchy and sibling suppression, alone
 * and through a KPI tick.
 *
 * The crafted roster (30 people, minimum group size 5):
 *   department  team     people  segment
 *   Sales       North    5       knowledge
 *   Ops         North    1       frontline   (North's majority is Sales)
 *   Sales       South    7       knowledge
 *   Sales       East     2       knowledge
 *   Ops         Depot    5       frontline
 *   Ops         Yard     3       frontline
 *   Ops         Dock     4       frontline
 *   Legal       Counsel  2       knowledge
 *   Legal       Counsel  1       contractor
 * Headcounts: org 30; departments Sales 14, Ops 13, Legal 3; teams North 6,
 * South 7, East 2, Depot 5, Yard 3, Dock 4, Counsel 3; segments knowledge
 * 16, frontline 13, contractor 1.
 *
 * Small groups: Legal, East, Yard, Dock, Counsel, contractor (6).
 * Siblings, one per group with exactly one small child:
 *   departments (Legal small)  -> Ops, the smallest other (13 < 14)
 *   Sales teams (East small)   -> North (6 < 7)
 *   segments (contractor)      -> frontline (13 < 16)
 * Ops teams have two small (Yard, Dock) and Legal's only team has no
 * sibling, so neither adds one. Visible: org, Sales, South, Depot and
 * knowledge (5 of 14 scopes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kpi.h"
#include "scope_tree.h"
#include "suppress.h"

#define MIN_GROUP 5
#define MAX_UPDATES 64

/* The limits of a count KPI: at least MIN_GROUP people in a hidden part. */
static const suppress_limits limits = {.min_size = MIN_GROUP};

typedef struct person_row {
	const char *department, *team, *segment;
	int people;
} person_row;

static const person_row people[] = {
    {"Sales", "North", "knowledge", 5}, {"Ops", "North", "frontline", 1},
    {"Sales", "South", "knowledge", 7}, {"Sales", "East", "knowledge", 2},
    {"Ops", "Depot", "frontline", 5},   {"Ops", "Yard", "frontline", 3},
    {"Ops", "Dock", "frontline", 4},    {"Legal", "Counsel", "knowledge", 2},
    {"Legal", "Counsel", "contractor", 1},
};

typedef struct fixture {
	roster *roster;
	config cfg;
	config_behaviour behaviours[3];
	config_window window;
	config_kpi kpis[2];
	size_t ids[3];
	kpi_update updates[MAX_UPDATES];
	size_t n_updates;
	kpi_update suppressed[MAX_UPDATES];
	size_t n_suppressed;
} fixture;

static void add_person(roster *r, int n, const char *department, const char *team,
		       const char *segment)
{
	const char *values[SCOPE_KIND_COUNT] = {0};
	pseudonym p = {{0}};

	p.bytes[0] = (uint8_t)n;
	p.bytes[1] = 0x5a;
	values[SCOPE_DEPARTMENT] = department;
	values[SCOPE_TEAM] = team;
	values[SCOPE_SEGMENT] = segment;
	assert_int_equal(roster_upsert(r, &p, values, NULL, 0), 0);
}

static int setup(void **state)
{
	fixture *f = test_calloc(1, sizeof(*f));
	int n = 0;

	f->roster = roster_new();
	assert_non_null(f->roster);
	for (size_t i = 0; i < sizeof people / sizeof people[0]; i++)
		for (int j = 0; j < people[i].people; j++)
			add_person(f->roster, n++, people[i].department, people[i].team,
				   people[i].segment);
	assert_int_equal(roster_size(f->roster), 30);

	f->behaviours[0].id = "promoter";
	f->behaviours[1].id = "passive";
	f->behaviours[2].id = "detractor";
	for (size_t i = 0; i < 3; i++)
		f->ids[i] = i;
	f->window = (config_window){.name = "28d", .length_ms = 28 * 86400000LL};
	f->kpis[0] = (config_kpi){.id = "promoter_rate", .behaviours = f->ids, .n_behaviours = 1,
				  .aggregation = KPI_AGG_RATE, .weight = 0.5, .target = 1};
	f->kpis[1] = (config_kpi){.id = "enps", .behaviours = f->ids, .n_behaviours = 3,
				  .aggregation = KPI_AGG_ENPS, .weight = 0.5, .target = 10};
	f->cfg = (config){.behaviours = f->behaviours, .n_behaviours = 3, .kpis = f->kpis,
			  .n_kpis = 1};
	f->cfg.windows.windows = &f->window;
	f->cfg.windows.n_windows = 1;
	f->cfg.privacy.min_group_size = MIN_GROUP;
	f->cfg.privacy.min_respondents = MIN_GROUP;
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

static uint32_t id(const fixture *f, const char *name)
{
	uint32_t scope = roster_scope_find(f->roster, name);

	if (scope == ROSTER_NO_SCOPE)
		fail_msg("scope %s not in the roster", name);
	return scope;
}

/* ---------------------------------------------------------------- tree */

static void tree_parents_and_segments(void **state)
{
	fixture *f = *state;
	scope_tree *t = scope_tree_new();

	assert_non_null(t);
	assert_int_equal(scope_tree_reserve(t, roster_scope_count(f->roster)), 0);
	scope_tree_build(t, f->roster);

	assert_int_equal(scope_tree_parent(t, ROSTER_ORG_SCOPE), ROSTER_NO_SCOPE);
	/* 5 of North's 6 people are in Sales. */
	assert_int_equal(scope_tree_parent(t, id(f, "team:North")), id(f, "department:Sales"));
	assert_int_equal(scope_tree_parent(t, id(f, "team:Dock")), id(f, "department:Ops"));
	assert_int_equal(scope_tree_parent(t, id(f, "department:Ops")), ROSTER_ORG_SCOPE);
	assert_int_equal(scope_tree_parent(t, id(f, "segment:frontline")), ROSTER_ORG_SCOPE);

	assert_int_equal(scope_tree_segment(t, id(f, "team:North")), id(f, "segment:knowledge"));
	assert_int_equal(scope_tree_segment(t, id(f, "department:Ops")),
			 id(f, "segment:frontline"));
	/* Counsel: 2 knowledge of 3 is a majority. */
	assert_int_equal(scope_tree_segment(t, id(f, "team:Counsel")), id(f, "segment:knowledge"));
	assert_int_equal(scope_tree_segment(t, ROSTER_ORG_SCOPE), ROSTER_NO_SCOPE);
	scope_tree_free(t);
}

/* A team split evenly, or without departments, hangs under org; a tie is no majority. */
static void tree_without_majority(void **state)
{
	roster *r = roster_new();
	scope_tree *t = scope_tree_new();

	(void)state;
	assert_non_null(r);
	assert_non_null(t);
	add_person(r, 1, "A", "Float", "frontline");
	add_person(r, 2, "A", "Float", "frontline");
	add_person(r, 3, "B", "Float", "knowledge");
	add_person(r, 4, "B", "Float", "knowledge");
	add_person(r, 5, NULL, "Solo", NULL);
	assert_int_equal(scope_tree_reserve(t, roster_scope_count(r)), 0);
	scope_tree_build(t, r);

	assert_int_equal(scope_tree_parent(t, roster_scope_find(r, "team:Float")), ROSTER_ORG_SCOPE);
	assert_int_equal(scope_tree_segment(t, roster_scope_find(r, "team:Float")), ROSTER_NO_SCOPE);
	assert_int_equal(scope_tree_parent(t, roster_scope_find(r, "team:Solo")), ROSTER_ORG_SCOPE);
	assert_int_equal(scope_tree_segment(t, roster_scope_find(r, "team:Solo")), ROSTER_NO_SCOPE);
	scope_tree_free(t);
	roster_free(r);
}

/* ---------------------------------------------------------------- rule */

static void siblings_by_headcount(void **state)
{
	fixture *f = *state;
	uint32_t n = roster_scope_count(f->roster);
	scope_tree *t = scope_tree_new();
	suppress *s = suppress_new();
	int64_t size[32];
	uint8_t reason[32];
	static const char *const hidden[] = {"department:Ops", "team:North", "segment:frontline"};

	assert_true(n == 14);
	assert_non_null(t);
	assert_non_null(s);
	assert_int_equal(scope_tree_reserve(t, n), 0);
	assert_int_equal(suppress_reserve(s, n), 0);
	scope_tree_build(t, f->roster);
	for (uint32_t i = 0; i < n; i++) {
		size[i] = roster_headcount(f->roster, i);
		reason[i] = size[i] < MIN_GROUP ? SUPPRESS_SMALL_GROUP : SUPPRESS_NONE;
	}

	assert_int_equal(suppress_siblings(s, t, f->roster, n, &limits, size, reason), 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(reason[id(f, hidden[i])], SUPPRESS_SIBLING);
	assert_int_equal(reason[id(f, "team:Depot")], SUPPRESS_NONE);
	assert_int_equal(reason[id(f, "team:South")], SUPPRESS_NONE);
	assert_int_equal(reason[id(f, "department:Sales")], SUPPRESS_NONE);
	assert_int_equal(reason[id(f, "segment:knowledge")], SUPPRESS_NONE);
	assert_int_equal(reason[ROSTER_ORG_SCOPE], SUPPRESS_NONE);
	assert_int_equal(reason[id(f, "team:Yard")], SUPPRESS_SMALL_GROUP);
	suppress_free(s);
	scope_tree_free(t);
}

/*
 * Departments Sales (North 6, South 7), Field (West 5) and Legal (Counsel
 * 3). Legal is small, so Field, the smallest other department, is hidden as
 * its sibling. Field would still equal its only team West, so West is
 * hidden too; with no sibling left in Field nothing else is. Sales and its
 * teams stay visible.
 */
static void department_sum_covered(void **state)
{
	static const person_row rows[] = {
	    {"Sales", "North", NULL, 6}, {"Sales", "South", NULL, 7},
	    {"Field", "West", NULL, 5},	 {"Legal", "Counsel", NULL, 3},
	};
	roster *r = roster_new();
	scope_tree *t = scope_tree_new();
	suppress *s = suppress_new();
	int64_t size[16];
	uint8_t reason[16];
	uint32_t n;
	int person = 0;

	(void)state;
	assert_non_null(r);
	assert_non_null(t);
	assert_non_null(s);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		for (int j = 0; j < rows[i].people; j++)
			add_person(r, person++, rows[i].department, rows[i].team, rows[i].segment);
	n = roster_scope_count(r);
	assert_int_equal(n, 8);
	assert_int_equal(scope_tree_reserve(t, n), 0);
	assert_int_equal(suppress_reserve(s, n), 0);
	scope_tree_build(t, r);
	for (uint32_t i = 0; i < n; i++) {
		size[i] = roster_headcount(r, i);
		reason[i] = size[i] < MIN_GROUP ? SUPPRESS_SMALL_GROUP : SUPPRESS_NONE;
	}

	assert_int_equal(suppress_siblings(s, t, r, n, &limits, size, reason), 2);
	assert_int_equal(reason[roster_scope_find(r, "department:Field")], SUPPRESS_SIBLING);
	assert_int_equal(reason[roster_scope_find(r, "team:West")], SUPPRESS_SIBLING);
	assert_int_equal(reason[roster_scope_find(r, "department:Sales")], SUPPRESS_NONE);
	assert_int_equal(reason[roster_scope_find(r, "team:North")], SUPPRESS_NONE);
	assert_int_equal(reason[roster_scope_find(r, "team:South")], SUPPRESS_NONE);
	suppress_free(s);
	scope_tree_free(t);
	roster_free(r);
}

/* ---------------------------------------------------------------- tick */

static void collect_cb(const kpi_update *u, void *opaque)
{
	fixture *f = opaque;

	assert_true(f->n_updates < MAX_UPDATES);
	f->updates[f->n_updates++] = *u;
}

static void suppressed_cb(const kpi_update *u, void *opaque)
{
	fixture *f = opaque;

	assert_true(f->n_suppressed < MAX_UPDATES);
	f->suppressed[f->n_suppressed++] = *u;
}

/* The reason a scope was suppressed with, or SUPPRESS_NONE when it was emitted. */
static suppress_reason reason_of(const fixture *f, const char *scope)
{
	for (size_t i = 0; i < f->n_suppressed; i++)
		if (strcmp(f->suppressed[i].scope, scope) == 0)
			return f->suppressed[i].suppressed_reason;
	for (size_t i = 0; i < f->n_updates; i++)
		if (strcmp(f->updates[i].scope, scope) == 0)
			return SUPPRESS_NONE;
	fail_msg("scope %s neither emitted nor suppressed", scope);
	return SUPPRESS_REASON_COUNT;
}

static size_t emit(fixture *f, kpi_tick *t)
{
	int64_t start = 0, end = 1;

	f->n_updates = 0;
	f->n_suppressed = 0;
	kpi_tick_set_suppressed_cb(t, suppressed_cb, f);
	return kpi_tick_emit(t, f->roster, MIN_GROUP, &start, &end, collect_cb, f);
}

static void tick_hides_siblings(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);

	assert_non_null(t);
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 5), 0);
	assert_int_equal(emit(f, t), 9);
	assert_int_equal(f->n_updates, 5);
	assert_int_equal(kpi_tick_suppressed(t, SUPPRESS_SMALL_GROUP), 6);
	assert_int_equal(kpi_tick_suppressed(t, SUPPRESS_SIBLING), 3);

	assert_int_equal(reason_of(f, "department:Legal"), SUPPRESS_SMALL_GROUP);
	assert_int_equal(reason_of(f, "department:Ops"), SUPPRESS_SIBLING);
	assert_int_equal(reason_of(f, "team:East"), SUPPRESS_SMALL_GROUP);
	assert_int_equal(reason_of(f, "team:North"), SUPPRESS_SIBLING);
	assert_int_equal(reason_of(f, "segment:contractor"), SUPPRESS_SMALL_GROUP);
	assert_int_equal(reason_of(f, "segment:frontline"), SUPPRESS_SIBLING);
	assert_int_equal(reason_of(f, "team:Depot"), SUPPRESS_NONE);
	assert_int_equal(reason_of(f, "team:South"), SUPPRESS_NONE);
	assert_int_equal(reason_of(f, "segment:knowledge"), SUPPRESS_NONE);
	kpi_tick_free(t);
}

/* Respondents per team; departments, segments and org are their sums. */
static void enps_respondents(fixture *f, kpi_tick *t)
{
	static const struct {
		const char *scope;
		int64_t respondents;
	} rows[] = {
	    {"org", 20},	     {"department:Sales", 12}, {"department:Ops", 8},
	    {"department:Legal", 0}, {"team:North", 5},	       {"team:South", 5},
	    {"team:East", 2},	     {"team:Depot", 4},	       {"team:Yard", 2},
	    {"team:Dock", 2},	     {"team:Counsel", 0},      {"segment:knowledge", 12},
	    {"segment:frontline", 8}, {"segment:contractor", 0},
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		uint32_t scope = id(f, rows[i].scope);
		kpi_tick_add_count(t, 0, 0, scope, rows[i].respondents);
		kpi_tick_set_contributors(t, 0, scope, rows[i].respondents);
	}
}

/*
 * eNPS sizes are respondents. Small: Legal, East, Yard, Dock, Counsel,
 * contractor (headcount) and Depot (4 respondents). Legal, Counsel and
 * contractor have no respondent, so they hide nothing and the department
 * and segment groups add no sibling. In Sales, East (2) is alone, and
 * North and South tie at 5: North has the lower scope id. Visible: org,
 * Sales, Ops, South, knowledge, frontline.
 */
static void enps_siblings_by_respondents(void **state)
{
	fixture *f = *state;
	kpi_tick *t;

	f->cfg.kpis = &f->kpis[1];
	t = kpi_tick_new(&f->cfg);
	assert_non_null(t);
	assert_true(id(f, "team:North") < id(f, "team:South"));
	assert_int_equal(kpi_tick_begin(t, roster_scope_count(f->roster), 5), 0);
	enps_respondents(f, t);

	assert_int_equal(emit(f, t), 8);
	assert_int_equal(f->n_updates, 6);
	assert_int_equal(kpi_tick_suppressed(t, SUPPRESS_SMALL_GROUP), 7);
	assert_int_equal(kpi_tick_suppressed(t, SUPPRESS_SIBLING), 1);
	assert_int_equal(reason_of(f, "team:North"), SUPPRESS_SIBLING);
	assert_int_equal(reason_of(f, "team:Depot"), SUPPRESS_SMALL_GROUP);
	assert_int_equal(reason_of(f, "department:Ops"), SUPPRESS_NONE);
	assert_int_equal(reason_of(f, "segment:frontline"), SUPPRESS_NONE);
	assert_int_equal(reason_of(f, "team:South"), SUPPRESS_NONE);
	kpi_tick_free(t);
}

/* A tick that never began (or ran out of memory there) emits and suppresses nothing. */
static void emit_before_begin(void **state)
{
	fixture *f = *state;
	kpi_tick *t = kpi_tick_new(&f->cfg);

	assert_non_null(t);
	assert_int_equal(emit(f, t), 0);
	assert_int_equal(f->n_updates, 0);
	assert_int_equal(f->n_suppressed, 0);
	assert_int_equal(kpi_tick_suppressed(t, SUPPRESS_SIBLING), 0);
	kpi_tick_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(tree_parents_and_segments, setup, teardown),
	    cmocka_unit_test(tree_without_majority),
	    cmocka_unit_test_setup_teardown(siblings_by_headcount, setup, teardown),
	    cmocka_unit_test(department_sum_covered),
	    cmocka_unit_test_setup_teardown(tick_hides_siblings, setup, teardown),
	    cmocka_unit_test_setup_teardown(enps_siblings_by_respondents, setup, teardown),
	    cmocka_unit_test_setup_teardown(emit_before_begin, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
